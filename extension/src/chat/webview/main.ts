// The chat webview (browser side). Renders the state the extension sends, posts typed messages
// back. Runs standalone in a plain page too: the tests stub `acquireVsCodeApi` and post messages.

import type { ActionTarget, GuidanceCard } from '../../guidance';
import { chipFor, type ChipView } from '../context';
import { fillText, type ConversationItem, type FromWebview, type HeaderView, type ToWebview } from '../messages';
import type { MessageView } from '../state';
import { renderInto } from './markdown';
import { usageLine } from '../usage';
import { el } from './dom';
import { mentionPicker } from './mentions';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const post = (message: FromWebview) => vscode.postMessage(message);

// ---- layout ----------------------------------------------------------------------------------

// The model first: it is what a user wants to see and change, and a click switches it in place.
const headerModel = el('button', { className: 'header-model link-button', testId: 'header-model' });
const headerProvider = el('span', { className: 'header-provider', testId: 'header-provider' });
const headerButton = el('button', { className: 'link-button', testId: 'header-select', text: 'Select Your AI' });
const historyButton = el('button', { className: 'link-button', testId: 'history-button', text: 'History' });
historyButton.title = 'Past conversations: search, open, rename, delete';
historyButton.setAttribute('aria-expanded', 'false');
const header = el('header', { className: 'header' }, headerModel, headerProvider, historyButton, headerButton);

const emptyState = el('div', { className: 'empty-state', testId: 'empty-state' });
const emptyTitle = el('p', { className: 'empty-title', text: 'Ask Sidekick anything about your code.' });
const emptyConnect = el('p', { className: 'empty-connect' });
const emptyButton = el('button', { className: 'primary', testId: 'empty-select', text: 'Select Your AI' });
emptyConnect.append('First pick a provider and model with ', emptyButton, ' (bring your own API key).');
emptyState.append(
  emptyTitle,
  emptyConnect,
  el('p', {
    text: 'Type a question below. Enter sends, Shift+Enter starts a new line, Up recalls your last question, Escape stops an answer.',
  }),
  el('p', { text: 'Type @ to attach a workspace file, or select code in an editor and run “Sidekick: Ask About Selection”.' }),
);

const list = el('div', { className: 'messages' });
const conversation = el('main', { className: 'conversation' }, emptyState, list);
conversation.setAttribute('aria-label', 'Conversation');
conversation.tabIndex = 0;

// The conversation list takes the conversation's place while it is open.
const historySearch = el('input', { className: 'history-search', testId: 'history-search' });
historySearch.type = 'search';
historySearch.placeholder = 'Search titles and messages';
historySearch.setAttribute('aria-label', 'Search conversations');
const historyList = el('ul', { className: 'history-list', testId: 'history-list' });
const historyEmpty = el('p', { className: 'history-empty', testId: 'history-empty' });
const historyPanel = el('section', { className: 'history', testId: 'history' }, historySearch, historyEmpty, historyList);
historyPanel.setAttribute('aria-label', 'Conversations');
historyPanel.hidden = true;

const chips = el('div', { className: 'chips', testId: 'chips' });
chips.setAttribute('aria-label', 'Attached to the next question');
function attachButton(testId: string, text: string, title: string): HTMLButtonElement {
  const b = el('button', { className: 'link-button attach-button', testId, text });
  b.title = title;
  return b;
}
const attachFile = attachButton('attach-file', '+ File', 'Attach workspace files to the next question');
const attachEditors = attachButton('attach-editors', '+ Open editors', 'Attach every open editor\'s file');
const attachSelection = attachButton('attach-selection', '+ Selection', 'Attach the selection of the last editor');
const contextBar = el('div', { className: 'context-bar' }, chips, el('div', { className: 'attach-buttons' }, attachFile, attachEditors, attachSelection));

const input = el('textarea', { className: 'prompt', testId: 'prompt-input' });
input.rows = 2;
input.placeholder = 'Ask a question (Enter to send, Shift+Enter for a new line, @ to attach a file)';
input.setAttribute('aria-label', 'Your question');
const sendButton = el('button', { className: 'primary', testId: 'send', text: 'Send' });
sendButton.title = 'Send (Enter or Ctrl/Cmd+Enter)';
const stopButton = el('button', { className: 'secondary', testId: 'stop', text: 'Stop' });
stopButton.title = 'Stop the answer (Escape)';
stopButton.hidden = true;
const newChatButton = el('button', { className: 'secondary', testId: 'new-chat', text: 'New Chat' });
const mentions = mentionPicker(input, post, typed);
const fill = el('span', { className: 'window-fill', testId: 'window-fill' });
fill.title = 'Tokens the next question would send (an estimate), of the model\'s window';
const composer = el(
  'footer',
  { className: 'composer' },
  contextBar,
  mentions.element,
  input,
  el('div', { className: 'composer-buttons' }, fill, newChatButton, stopButton, sendButton),
);
const live = el('div', { className: 'visually-hidden' });
live.setAttribute('aria-live', 'polite');

const app = document.getElementById('app') ?? document.body;
app.append(header, conversation, historyPanel, composer, live);

// ---- state -----------------------------------------------------------------------------------

let streaming = false;
let messages: MessageView[] = [];
const rendered = new Map<string, { root: HTMLElement; body: HTMLElement; meta: HTMLElement; text?: string; sig?: string }>();
const dirty = new Set<string>();
let frame = 0;

const saved = vscode.getState() as { draft?: string } | undefined;
if (saved?.draft) input.value = saved.draft;

function saveDraft(): void {
  vscode.setState({ draft: input.value });
}

/** The prompt box grows with its text, up to 40% of the view, then scrolls. */
function fitInput(): void {
  input.style.height = 'auto';
  const max = Math.max(80, Math.floor(window.innerHeight * 0.4));
  input.style.height = `${Math.min(input.scrollHeight + 2, max)}px`;
  input.style.overflowY = input.scrollHeight + 2 > max ? 'auto' : 'hidden';
}

function setHeader(h: HeaderView): void {
  const connected = h.connected && Boolean(h.model);
  headerModel.textContent = connected ? h.model : 'Not connected';
  headerModel.title = connected ? `${h.model} — click to switch model` : 'No provider chosen yet';
  headerModel.disabled = !connected;
  headerModel.dataset.connected = String(connected);
  headerProvider.textContent = connected && h.providerName ? h.providerName : '';
  headerProvider.hidden = !connected;
  headerButton.textContent = connected ? 'Change AI' : 'Select Your AI';
  headerButton.title = connected ? 'Pick another provider (Sidekick: Select Your AI)' : 'Pick a provider and a model';
  emptyConnect.hidden = connected;
}

function setStreaming(value: boolean): void {
  streaming = value;
  stopButton.hidden = !value;
  sendButton.disabled = value;
  document.body.dataset.streaming = String(value);
}

const STATUS_LABEL: Record<string, string> = {
  streaming: 'answering…',
  done: '',
  stopped: 'stopped',
  interrupted: 'interrupted',
  failed: 'failed',
};

function countdown(until: number, kind: 'retry' | 'card', attempt?: number): HTMLElement {
  const node = el('span', { className: 'countdown', testId: 'countdown' });
  node.dataset.until = String(until);
  node.dataset.kind = kind;
  if (attempt !== undefined) node.dataset.attempt = String(attempt);
  updateCountdown(node);
  return node;
}

function updateCountdown(node: HTMLElement): void {
  const until = Number(node.dataset.until);
  const seconds = Math.max(0, Math.ceil((until - Date.now()) / 1000));
  node.dataset.seconds = String(seconds);
  if (node.dataset.kind === 'retry') {
    const attempt = node.dataset.attempt ? ` (attempt ${node.dataset.attempt})` : '';
    node.textContent = seconds > 0 ? `Retrying in ${seconds} s${attempt}` : `Retrying now${attempt}…`;
  } else {
    node.textContent = seconds > 0 ? `You can try again in ${seconds} s` : 'You can try again now';
  }
}

setInterval(() => {
  for (const node of Array.from(document.querySelectorAll<HTMLElement>('[data-testid="countdown"]'))) {
    updateCountdown(node);
  }
}, 250);

function actionButton(action: ActionTarget): HTMLButtonElement {
  const b = el('button', { className: 'secondary', testId: 'guidance-action', text: action.title });
  if (action.type === 'url') {
    b.dataset.url = action.url;
    b.title = action.url;
  } else {
    b.dataset.command = action.command;
    if (action.args?.length) b.dataset.args = JSON.stringify(action.args);
  }
  return b;
}

/** Retry on the last failed, stopped or cut-off answer; "Ask again" once a card's button fixed it. */
function retryButton(m: MessageView): HTMLButtonElement {
  const again = m.fixed === true;
  const b = el('button', {
    className: again ? 'primary' : 'secondary',
    testId: 'retry',
    text: again ? 'Ask again' : 'Retry',
  });
  b.title = again ? 'Ask the same question again, now that it is fixed' : 'Ask the same question again';
  b.dataset.retry = m.id;
  return b;
}

/** A button under a message that acts on it: its id in `data-<key>` for the click handler. */
function messageButton(m: MessageView, key: string, props: { className?: string; testId: string; text: string; title: string }): HTMLButtonElement {
  const b = el('button', { className: 'secondary', ...props });
  b.dataset[key] = m.id;
  return b;
}

/** Regenerate on the last finished answer: the same question, a new answer. */
function regenerateButton(m: MessageView): HTMLButtonElement {
  return messageButton(m, 'retry', { testId: 'regenerate', text: 'Regenerate', title: 'Ask the same question again for a new answer' });
}
/** Copies the whole answer (markdown as written), not one code block. */
function copyAnswerButton(m: MessageView): HTMLButtonElement {
  return messageButton(m, 'copyAnswer', { testId: 'copy-answer', text: 'Copy', title: 'Copy the whole answer' });
}
/** Edit on a sent question (hidden by the stylesheet while an answer streams). */
function editButton(m: MessageView): HTMLButtonElement {
  return messageButton(m, 'edit', {
    className: 'secondary edit-button',
    testId: 'edit',
    text: 'Edit',
    title: 'Edit this question and ask it again (the answers after it go)',
  });
}

/** A chip: the file (and lines) and its size; `removable` ones are for the next question. */
function chip(c: ChipView, removable: boolean): HTMLElement {
  const node = el('span', { className: `chip chip-${c.kind}`, testId: removable ? 'context-chip' : 'sent-context' });
  node.dataset.key = c.key;
  node.title = c.title;
  node.append(el('span', { className: 'chip-label', text: c.label }), el('span', { className: 'chip-size', text: c.size }));
  if (removable) {
    const x = el('button', { className: 'chip-remove', testId: 'chip-remove', text: '×' });
    x.title = `Remove ${c.title}`;
    x.setAttribute('aria-label', `Remove ${c.title}`);
    x.dataset.detach = c.key;
    node.append(x);
  }
  return node;
}

function isLastAnswer(m: MessageView): boolean {
  const last = messages[messages.length - 1];
  return last?.id === m.id && m.role === 'assistant';
}

function guidanceCard(card: GuidanceCard): HTMLElement {
  const node = el('section', { className: `guidance-card severity-${card.severity}`, testId: 'guidance-card' });
  node.dataset.kind = card.kind;
  node.setAttribute('role', 'alert');
  node.append(el('h3', { className: 'guidance-title', text: card.title }));
  if (card.detail) node.append(el('p', { className: 'guidance-detail', text: card.detail }));
  if (card.retryAt !== null) node.append(el('p', {}, countdown(card.retryAt, 'card')));
  if (card.actions.length) {
    node.append(el('div', { className: 'guidance-actions' }, ...card.actions.map(actionButton)));
  }
  if (card.requestId) node.append(el('p', { className: 'guidance-request', text: `Request id: ${card.requestId}` }));
  return node;
}

function createMessage(m: MessageView) {
  const root = el('article', { className: `message message-${m.role}`, testId: `message-${m.role}` });
  root.dataset.id = m.id;
  root.setAttribute('aria-label', m.role === 'user' ? 'You' : 'Sidekick');
  const who = el('div', { className: 'message-author', text: m.role === 'user' ? 'You' : 'Sidekick' });
  const body = el('div', { className: 'message-body markdown' });
  const meta = el('div', { className: 'message-meta' });
  root.append(who, body, meta);
  return { root, body, meta };
}

/** Renders one message's body (markdown) and its status line, card and countdown. */
function renderMessage(m: MessageView): void {
  let entry = rendered.get(m.id);
  if (!entry) {
    entry = createMessage(m);
    rendered.set(m.id, entry);
  }
  if (entry.text !== m.text) {
    renderInto(entry.body, m.text);
    entry.text = m.text;
  }
  const canRetry = isLastAnswer(m) && ['failed', 'interrupted', 'stopped'].includes(m.status);
  const canRegenerate = isLastAnswer(m) && m.status === 'done';
  const canCopy = m.role === 'assistant' && m.status !== 'streaming' && m.text !== '';
  const canEdit = m.role === 'user';
  const sig = JSON.stringify([m.status, m.retry, m.card, m.finishReason, m.fixed, canRetry, canRegenerate, canCopy, m.usage, m.context?.length]);
  if (entry.sig === sig) return;
  entry.sig = sig;
  entry.root.dataset.status = m.status;
  const status = el('span', { className: `message-status status-${m.status}`, testId: 'message-status' });
  status.dataset.status = m.status;
  status.textContent = STATUS_LABEL[m.status] ?? m.status;
  if (m.finishReason === 'length') status.textContent = 'cut short (length limit)';
  if (m.finishReason === 'content_filter') status.textContent = 'cut short (content filter)';
  const parts: Node[] = [status];
  if (m.context?.length) parts.push(el('div', { className: 'chips' }, ...m.context.map((c) => chip(chipFor(c), false))));
  const usage = m.status === 'done' ? usageLine(m.usage) : undefined;
  if (usage) {
    const line = el('span', { className: 'message-usage', testId: 'message-usage', text: usage.text });
    line.title = usage.title;
    parts.push(line);
  }
  if (m.retry) parts.push(el('div', { className: 'retry' }, el('span', { text: m.retry.message }), countdown(m.retry.until, 'retry', m.retry.attempt)));
  if (m.card) parts.push(guidanceCard(m.card));
  const actions: HTMLElement[] = [];
  if (canRetry) actions.push(retryButton(m));
  if (canRegenerate) actions.push(regenerateButton(m));
  if (canCopy) actions.push(copyAnswerButton(m));
  if (canEdit) actions.push(editButton(m));
  if (actions.length) parts.push(el('div', { className: 'retry-actions' }, ...actions));
  entry.meta.replaceChildren(...parts);
  if (m.status !== 'streaming' && m.role === 'assistant') {
    live.textContent = m.status === 'done' ? 'Answer complete' : `Answer ${STATUS_LABEL[m.status] ?? m.status}`;
  }
}

function nearBottom(): boolean {
  return conversation.scrollHeight - conversation.scrollTop - conversation.clientHeight < 80;
}

function flush(): void {
  frame = 0;
  const stick = nearBottom();
  for (const id of dirty) {
    const m = messages.find((x) => x.id === id);
    if (m) renderMessage(m);
  }
  dirty.clear();
  if (stick) conversation.scrollTop = conversation.scrollHeight;
}

function schedule(id: string): void {
  dirty.add(id);
  if (!frame) frame = requestAnimationFrame(flush);
}

function setMessages(next: MessageView[]): void {
  messages = next;
  const ids = new Set(next.map((m) => m.id));
  for (const [id, entry] of rendered) {
    if (!ids.has(id)) {
      entry.root.remove();
      rendered.delete(id);
    }
  }
  for (const m of next) {
    renderMessage(m);
  }
  list.replaceChildren(...next.map((m) => rendered.get(m.id)!.root));
  emptyState.hidden = next.length > 0;
  conversation.scrollTop = conversation.scrollHeight;
}

function updateMessage(m: MessageView): void {
  const index = messages.findIndex((x) => x.id === m.id);
  if (index < 0) {
    setMessages([...messages, m]);
    return;
  }
  messages = messages.slice();
  messages[index] = m;
  schedule(m.id);
}

/** Edit a sent question in place: Enter (or Send) asks it anew, Escape (or Cancel) keeps it. */
function startEdit(id: string): void {
  const m = messages.find((x) => x.id === id);
  const entry = rendered.get(id);
  if (!m || !entry || streaming || entry.body.querySelector('.edit-form')) return;
  const box = el('textarea', { className: 'prompt edit-input', testId: 'edit-input' });
  box.value = m.text;
  box.setAttribute('aria-label', 'Edit your question');
  const ok = el('button', { className: 'primary', testId: 'edit-send', text: 'Send' });
  const cancel = el('button', { className: 'secondary', testId: 'edit-cancel', text: 'Cancel' });
  entry.body.replaceChildren(el('div', { className: 'edit-form' }, box, el('div', { className: 'composer-buttons' }, cancel, ok)));
  const finish = (send: boolean) => {
    const text = box.value.trim();
    if (send && (!text || streaming)) return;
    if (send) post({ type: 'edit', id, text });
    // The question shows as it was until the extension's new state replaces it.
    renderInto(entry.body, m.text);
    entry.text = m.text;
  };
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      finish(true);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      finish(false);
    }
  });
  ok.addEventListener('click', () => finish(true));
  cancel.addEventListener('click', () => finish(false));
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);
}

function setChips(list: ChipView[]): void {
  chips.replaceChildren(...list.map((c) => chip(c, true)));
  chips.hidden = list.length === 0;
}

function showHistory(open: boolean): void {
  historyPanel.hidden = !open;
  conversation.hidden = open;
  historyButton.setAttribute('aria-expanded', String(open));
  historyButton.textContent = open ? 'Back to chat' : 'History';
  if (open) {
    post({ type: 'listConversations', query: historySearch.value });
    historySearch.focus();
  }
}

function historyRow(c: ConversationItem): HTMLElement {
  const row = el('li', { className: c.current ? 'history-item current' : 'history-item', testId: 'history-item' });
  row.dataset.id = c.id;
  const open = el(
    'button',
    { className: 'history-open', testId: 'history-open' },
    el('span', { className: 'history-title', text: c.title || '(untitled)' }),
    el('span', {
      className: 'history-meta',
      testId: 'history-meta',
      text: [c.model, c.when, `${c.messageCount} ${c.messageCount === 1 ? 'message' : 'messages'}`].filter(Boolean).join(' · '),
    }),
  );
  open.dataset.open = c.id;
  if (c.current) open.setAttribute('aria-current', 'true');
  const rename = el('button', { className: 'link-button', testId: 'history-rename', text: 'Rename' });
  rename.dataset.rename = c.id;
  const remove = el('button', { className: 'link-button', testId: 'history-delete', text: 'Delete' });
  remove.dataset.delete = c.id;
  row.append(open, el('span', { className: 'history-actions' }, rename, remove));
  return row;
}

function setConversations(query: string, items: ConversationItem[]): void {
  // An answer to an older search (typing went on) is not shown.
  if (query !== historySearch.value) return;
  historyList.replaceChildren(...items.map(historyRow));
  historyEmpty.hidden = items.length > 0;
  historyEmpty.textContent = query.trim() ? 'No conversation matches.' : 'No conversations yet.';
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const msg = event.data;
  if (!msg || typeof msg !== 'object') return;
  switch (msg.type) {
    case 'state':
      setHeader(msg.header);
      setStreaming(msg.streaming);
      setMessages(msg.messages);
      break;
    case 'message':
      setStreaming(msg.streaming);
      updateMessage(msg.message);
      break;
    case 'header':
      setHeader(msg.header);
      break;
    case 'focus':
      input.focus();
      break;
    case 'context':
      setChips(msg.chips);
      break;
    case 'conversations':
      setConversations(msg.query, msg.items);
      break;
    case 'mentions':
      mentions.show(msg.query, msg.files);
      break;
    case 'fill': {
      const f = fillText(msg.tokens, msg.window);
      fill.textContent = f.text;
      fill.classList.toggle('near', f.near);
      fill.dataset.near = String(f.near);
      break;
    }
  }
});

// ---- input -----------------------------------------------------------------------------------

function send(): void {
  const text = input.value.trim();
  if (!text || streaming) return;
  post({ type: 'send', text });
  mentions.close();
  input.value = '';
  saveDraft();
  fitInput();
}

/** The last question asked, for Up in an empty prompt box. */
function lastQuestion(): string | undefined {
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    if (messages[i]!.role === 'user') return messages[i]!.text;
  }
  return undefined;
}

input.addEventListener('keydown', (e) => {
  if (mentions.onKey(e)) return;
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    send();
  } else if (e.key === 'Escape' && streaming) {
    e.preventDefault();
    post({ type: 'stop' });
  } else if (e.key === 'ArrowUp' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && input.value === '') {
    const previous = lastQuestion();
    if (previous !== undefined) {
      e.preventDefault();
      input.value = previous;
      saveDraft();
      fitInput();
      input.setSelectionRange(input.value.length, input.value.length);
    }
  }
});
let draftTimer: ReturnType<typeof setTimeout> | undefined;
/** The text changed (typed, or a mention taken out): kept, fitted, its fill recounted. */
function typed(): void {
  saveDraft();
  fitInput();
  // The fill is counted by the sidecar: at most one ask per pause in typing.
  if (draftTimer) clearTimeout(draftTimer);
  draftTimer = setTimeout(() => post({ type: 'draft', text: input.value }), 250);
}
input.addEventListener('input', () => {
  typed();
  mentions.update();
});
// The caret moving in or out of a mention opens or closes its list.
input.addEventListener('click', () => mentions.update());
input.addEventListener('keyup', (e) => {
  if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key)) mentions.update();
});
window.addEventListener('resize', fitInput);
sendButton.addEventListener('click', send);
stopButton.addEventListener('click', () => post({ type: 'stop' }));
newChatButton.addEventListener('click', () => {
  showHistory(false);
  post({ type: 'newChat' });
});
historyButton.addEventListener('click', () => showHistory(historyPanel.hidden));
let searchTimer: ReturnType<typeof setTimeout> | undefined;
historySearch.addEventListener('input', () => {
  // The sidecar searches the full text: one ask per pause in typing.
  if (searchTimer) clearTimeout(searchTimer);
  searchTimer = setTimeout(() => post({ type: 'listConversations', query: historySearch.value }), 200);
});
historyPanel.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') {
    e.preventDefault();
    showHistory(false);
    input.focus();
  }
});
historyList.addEventListener('click', (e) => {
  const target = e.target instanceof Element ? e.target : null;
  const open = target?.closest<HTMLElement>('[data-open]');
  const rename = target?.closest<HTMLElement>('[data-rename]');
  const remove = target?.closest<HTMLElement>('[data-delete]');
  if (open?.dataset.open) {
    post({ type: 'openConversation', id: open.dataset.open });
    showHistory(false);
  } else if (rename?.dataset.rename) {
    post({ type: 'renameConversation', id: rename.dataset.rename });
  } else if (remove?.dataset.delete) {
    post({ type: 'deleteConversation', id: remove.dataset.delete });
  }
});
attachFile.addEventListener('click', () => post({ type: 'attach', what: 'file' }));
attachEditors.addEventListener('click', () => post({ type: 'attach', what: 'editors' }));
attachSelection.addEventListener('click', () => post({ type: 'attach', what: 'selection' }));
chips.addEventListener('click', (e) => {
  const x = e.target instanceof Element ? e.target.closest<HTMLElement>('[data-detach]') : null;
  if (x?.dataset.detach) post({ type: 'detach', key: x.dataset.detach });
});
headerButton.addEventListener('click', () => post({ type: 'runCommand', command: 'sidekick.selectYourAI' }));
headerModel.addEventListener('click', () => post({ type: 'runCommand', command: 'sidekick.selectModel' }));
emptyButton.addEventListener('click', () => post({ type: 'runCommand', command: 'sidekick.selectYourAI' }));
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && streaming) post({ type: 'stop' });
});

conversation.addEventListener('click', (e) => {
  const target = e.target instanceof Element ? e.target : null;
  if (!target) return;
  const codeButton = target.closest<HTMLElement>('.code-button');
  if (codeButton) {
    // markdown-it keeps the fence's final line break; the code itself ends before it.
    const code = (codeButton.closest('.code-block')?.querySelector('code')?.textContent ?? '').replace(/\n$/, '');
    if (codeButton.dataset.action === 'copy') {
      post({ type: 'copy', text: code });
      codeButton.textContent = 'Copied';
      setTimeout(() => (codeButton.textContent = 'Copy'), 1500);
    } else if (codeButton.dataset.action === 'insert') {
      const language = codeButton.closest('.code-block')?.querySelector('.code-language')?.textContent ?? '';
      post(language ? { type: 'insert', text: code, language } : { type: 'insert', text: code });
    }
    return;
  }
  const edit = target.closest<HTMLElement>('[data-edit]');
  if (edit?.dataset.edit) {
    startEdit(edit.dataset.edit);
    return;
  }
  const retry = target.closest<HTMLElement>('[data-retry]');
  if (retry?.dataset.retry) {
    post({ type: 'retry', id: retry.dataset.retry });
    return;
  }
  const copy = target.closest<HTMLElement>('[data-copy-answer]');
  if (copy) {
    const answer = messages.find((m) => m.id === copy.dataset.copyAnswer);
    if (answer) {
      post({ type: 'copy', text: answer.text });
      copy.textContent = 'Copied';
      setTimeout(() => (copy.textContent = 'Copy'), 1500);
    }
    return;
  }
  const action = target.closest<HTMLElement>('[data-testid="guidance-action"]');
  if (action) {
    if (action.dataset.url) post({ type: 'openUrl', url: action.dataset.url });
    else if (action.dataset.command) {
      const id = action.closest<HTMLElement>('.message')?.dataset.id;
      const args = action.dataset.args ? (JSON.parse(action.dataset.args) as string[]) : undefined;
      post({ type: 'runCommand', command: action.dataset.command, ...(args ? { args } : {}), ...(id ? { id } : {}) });
    }
    return;
  }
  const link = target.closest('a');
  if (link) {
    // Links never navigate the webview; the extension opens http(s) ones outside.
    e.preventDefault();
    const href = link.getAttribute('href');
    if (href && /^https?:/i.test(href)) post({ type: 'openUrl', url: href });
  }
});

setHeader({ connected: false, providerName: null, model: null, active: null });
setStreaming(false);
setChips([]);
fitInput();
post({ type: 'ready' });
