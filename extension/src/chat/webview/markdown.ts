// Model output → safe DOM. markdown-it with raw HTML off renders the markdown; highlight.js (core,
// a handful of languages) colours code; DOMPurify sanitizes the result before it touches the DOM;
// code blocks get Copy / Insert buttons built with DOM APIs, never from model text.

import DOMPurify from 'dompurify';
import { el } from './dom';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import MarkdownIt from 'markdown-it';

const LANGUAGES = { bash, c, cpp, css, diff, go, java, javascript, json, python, rust, sql, typescript, xml, yaml };
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);
hljs.registerAliases(['sh', 'shell', 'zsh', 'shellscript'], { languageName: 'bash' });
hljs.registerAliases(['js', 'jsx', 'javascriptreact', 'mjs', 'cjs'], { languageName: 'javascript' });
hljs.registerAliases(['ts', 'tsx', 'typescriptreact'], { languageName: 'typescript' });
hljs.registerAliases(['html', 'svg', 'xhtml'], { languageName: 'xml' });
hljs.registerAliases(['py'], { languageName: 'python' });
hljs.registerAliases(['rs'], { languageName: 'rust' });
hljs.registerAliases(['yml'], { languageName: 'yaml' });
hljs.registerAliases(['jsonc'], { languageName: 'json' });
hljs.registerAliases(['c++', 'hpp', 'cc'], { languageName: 'cpp' });
hljs.registerAliases(['patch'], { languageName: 'diff' });

/** Larger code blocks are shown plain: highlighting them would freeze the view. */
const MAX_HIGHLIGHT_CHARS = 100_000;

const md = new MarkdownIt({
  html: false, // raw HTML in model output is shown as text
  linkify: true,
  typographer: false,
  highlight(code, lang): string {
    const name = lang.trim().toLowerCase();
    if (!name || code.length > MAX_HIGHLIGHT_CHARS || !hljs.getLanguage(name)) return '';
    try {
      return hljs.highlight(code, { language: name, ignoreIllegals: true }).value;
    } catch {
      return '';
    }
  },
});

// Images would fetch from wherever the model points: render them as links instead.
md.renderer.rules.image = (tokens, idx) => {
  const token = tokens[idx]!;
  const src = String(token.attrGet('src') ?? '');
  const alt = token.content || src;
  return `<a href="${md.utils.escapeHtml(src)}">${md.utils.escapeHtml(`[image: ${alt}]`)}</a>`;
};

const SAFE_HREF = /^(https?:|mailto:)/i;

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.nodeName === 'A') {
    const href = node.getAttribute('href');
    if (href === null || !SAFE_HREF.test(href.trim())) node.removeAttribute('href');
    node.removeAttribute('target');
  }
});

const PURIFY_CONFIG = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'frame', 'object', 'embed', 'img', 'video', 'audio', 'source', 'link', 'meta', 'base'],
  FORBID_ATTR: ['style', 'srcset', 'action', 'formaction', 'id', 'name'],
  ALLOW_DATA_ATTR: false,
  RETURN_DOM_FRAGMENT: true as const,
};

/** Markdown → sanitized fragment (no toolbar yet). */
export function renderMarkdown(text: string): DocumentFragment {
  const html = md.render(text);
  return DOMPurify.sanitize(html, PURIFY_CONFIG);
}

/** The language of a `<code class="language-x">`, if any. */
function languageOf(code: Element): string {
  for (const cls of Array.from(code.classList)) {
    if (cls.startsWith('language-')) return cls.slice('language-'.length);
  }
  return '';
}

function button(label: string, action: string, testId: string, title: string): HTMLButtonElement {
  const b = el('button', { className: 'code-button', testId, text: label, title });
  b.dataset.action = action;
  return b;
}

/** Wraps every `<pre><code>` in a block with a language label and Copy / Insert buttons. */
export function decorateCodeBlocks(root: ParentNode): void {
  for (const pre of Array.from(root.querySelectorAll('pre'))) {
    const code = pre.querySelector('code');
    if (!code || pre.parentElement?.classList.contains('code-block')) continue;
    code.classList.add('hljs');
    const block = document.createElement('div');
    block.className = 'code-block';
    const bar = document.createElement('div');
    bar.className = 'code-toolbar';
    const label = document.createElement('span');
    label.className = 'code-language';
    label.textContent = languageOf(code);
    bar.append(
      label,
      button('Copy', 'copy', 'code-copy', 'Copy the code'),
      button('Insert', 'insert', 'code-insert', 'Insert the code at the cursor in the editor'),
    );
    pre.replaceWith(block);
    block.append(bar, pre);
  }
}

/** Renders markdown into `target`, replacing its content. */
export function renderInto(target: HTMLElement, text: string): void {
  const fragment = renderMarkdown(text);
  decorateCodeBlocks(fragment);
  target.replaceChildren(fragment);
}
