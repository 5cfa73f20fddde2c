// The `@` list of the prompt box: while a mention is typed it asks the extension for the files
// that answer it and shows them above the box; Up/Down move, Enter or Tab attach (the mention
// leaves the text, the file becomes a chip), Escape closes. A combobox in ARIA's terms.

import type { FromWebview } from '../messages';
import { mentionAt, withoutMention, type Mention } from '../mentions';
import { el } from './dom';

export interface MentionPicker {
  /** The list's element, to place above the prompt box. */
  readonly element: HTMLElement;
  /** The files for `query`, from the extension; an answer to an older query is ignored. */
  show(query: string, files: string[]): void;
  /** A key in the prompt box: true when the list took it (the box must not act on it). */
  onKey(e: KeyboardEvent): boolean;
  /** The text or caret moved: look for a mention again. */
  update(): void;
  close(): void;
}

export function mentionPicker(input: HTMLTextAreaElement, post: (m: FromWebview) => void, onTextChanged: () => void): MentionPicker {
  const list = el('ul', { className: 'mention-list', testId: 'mention-list' });
  list.id = 'sidekick-mentions';
  list.setAttribute('role', 'listbox');
  list.setAttribute('aria-label', 'Files to attach');
  list.hidden = true;
  input.setAttribute('aria-controls', list.id);
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-expanded', 'false');

  let mention: Mention | undefined;
  let asked: string | undefined;
  let files: string[] = [];
  let active = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  function close(): void {
    mention = undefined;
    asked = undefined;
    files = [];
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    if (timer) clearTimeout(timer);
  }

  function render(): void {
    const rows = files.map((path, i) => {
      const row = el('li', { className: 'mention-option', testId: 'mention-option', text: path });
      row.id = `sidekick-mention-${i}`;
      row.setAttribute('role', 'option');
      row.setAttribute('aria-selected', String(i === active));
      row.dataset.path = path;
      row.classList.toggle('active', i === active);
      return row;
    });
    if (rows.length === 0) rows.push(el('li', { className: 'mention-empty', testId: 'mention-empty', text: 'No file matches.' }));
    list.replaceChildren(...rows);
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    if (files.length) input.setAttribute('aria-activedescendant', `sidekick-mention-${active}`);
    else input.removeAttribute('aria-activedescendant');
    list.querySelector('.active')?.scrollIntoView({ block: 'nearest' });
  }

  function pick(index: number): void {
    const path = files[index];
    if (!mention || path === undefined) return;
    const next = withoutMention(input.value, mention);
    input.value = next.text;
    input.setSelectionRange(next.caret, next.caret);
    close();
    post({ type: 'attachMention', path });
    onTextChanged();
    input.focus();
  }

  function update(): void {
    const found = input.selectionStart === input.selectionEnd ? mentionAt(input.value, input.selectionStart) : undefined;
    if (!found) {
      if (mention) close();
      return;
    }
    mention = found;
    if (found.query === asked) return;
    asked = found.query;
    // One lookup per pause in typing; the list keeps the last answer until the next comes.
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => post({ type: 'mentionQuery', query: found.query }), 80);
  }

  list.addEventListener('mousedown', (e) => {
    // The box keeps the focus (and its caret) while a row is clicked.
    e.preventDefault();
  });
  list.addEventListener('click', (e) => {
    const row = (e.target as HTMLElement).closest<HTMLElement>('[data-testid="mention-option"]');
    if (row) pick(files.indexOf(row.dataset.path ?? ''));
  });
  input.addEventListener('blur', () => close());

  return {
    element: list,
    show(query, next) {
      if (!mention || query !== mention.query) return;
      files = next;
      active = 0;
      render();
    },
    onKey(e) {
      // An input method's own keys (choosing a candidate, cancelling) are never the list's.
      if (list.hidden || !mention || e.isComposing || e.keyCode === 229) return false;
      if (e.key === 'Escape') {
        close();
      } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        if (files.length === 0) return false;
        active = (active + (e.key === 'ArrowDown' ? 1 : files.length - 1)) % files.length;
        render();
      } else if ((e.key === 'Enter' || e.key === 'Tab') && !e.shiftKey && files.length > 0) {
        pick(active);
      } else {
        return false;
      }
      e.preventDefault();
      return true;
    },
    update,
    close,
  };
}
