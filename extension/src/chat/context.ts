// Files and selections attached to the next question: building the protocol's context items,
// keeping one item per file or range, and what a chip shows. Pure: no `vscode`, no I/O.

import type { ContextItem } from '../protocolConversations';

/**
 * Largest text attached as one item. A bigger file would swamp most windows on its own; the
 * user is told to attach a selection of it instead.
 */
export const MAX_CONTEXT_CHARS = 256 * 1024;

/** What an attached item's chip shows (the webview gets only this, never the text). */
export interface ChipView {
  key: string;
  kind: ContextItem['kind'];
  /** `panel.ts` or `panel.ts:12-30`. */
  label: string;
  /** The whole path and lines, for the hover. */
  title: string;
  /** `1.2k tokens` when counted, else the size in lines. */
  size: string;
}

export function fileContext(path: string, languageId: string | undefined, text: string): ContextItem {
  return { kind: 'file', path, ...(languageId ? { languageId } : {}), text };
}

/** A selection; lines are 1-based and inclusive, as the protocol has them. */
export function selectionContext(
  path: string,
  languageId: string | undefined,
  text: string,
  startLine: number,
  endLine: number,
): ContextItem {
  return { kind: 'selection', path, ...(languageId ? { languageId } : {}), range: { startLine, endLine }, text };
}

/** One item per file, and per range of a file: attaching it again replaces the older copy. */
export function contextKey(item: ContextItem): string {
  return item.range ? `${item.kind}:${item.path}:${item.range.startLine}-${item.range.endLine}` : `${item.kind}:${item.path}`;
}

/** `items` with `item` added (or replacing the item of the same key, where it was). */
export function addContext(items: readonly ContextItem[], item: ContextItem): ContextItem[] {
  const key = contextKey(item);
  const index = items.findIndex((i) => contextKey(i) === key);
  if (index < 0) return [...items, item];
  const next = items.slice();
  next[index] = item;
  return next;
}

export function removeContext(items: readonly ContextItem[], key: string): ContextItem[] {
  return items.filter((i) => contextKey(i) !== key);
}

/** Names that hold credentials by convention: never sent to a model, even when asked to. */
const SECRET_NAMES = /^(\.env(\..+)?|\.envrc|\.netrc|\.npmrc|\.pypirc|\.git-credentials|\.htpasswd|credentials(\.json)?|id_(rsa|dsa|ecdsa|ed25519)|.+\.(pem|key|p12|pfx|jks|keystore|kdbx|asc|gpg))$/i;
/** Templates of those that carry no secret by design. */
const SECRET_TEMPLATES = /\.(example|sample|template|dist|defaults?)$/i;

/** True for a file whose name says it holds keys or passwords (`.env`, `id_rsa`, `*.pem`…). */
export function looksLikeSecretsFile(path: string): boolean {
  const name = baseName(path);
  return SECRET_NAMES.test(name) && !SECRET_TEMPLATES.test(name);
}

/** Why an item cannot be attached, or undefined when it can. */
export function contextRefusal(path: string, text: string): string | undefined {
  if (looksLikeSecretsFile(path)) {
    return `${path} looks like a file of keys or passwords, so Sidekick does not send it to the model. Copy the lines that matter into the question, without their secrets.`;
  }
  if (text.length > MAX_CONTEXT_CHARS) {
    return `${path} is too large to attach (${Math.round(text.length / 1024)} KB; at most ${MAX_CONTEXT_CHARS / 1024} KB). Select the part that matters and use Add Selection.`;
  }
  if (text.includes('\u0000')) return `${path} looks binary; only text can be attached.`;
  return undefined;
}

function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

function lines(item: ContextItem): string {
  if (!item.range) return '';
  const { startLine, endLine } = item.range;
  return startLine === endLine ? `:${startLine}` : `:${startLine}-${endLine}`;
}

export function shortCount(n: number): string {
  return n < 1000 ? String(n) : n < 100_000 ? `${(n / 1000).toFixed(1).replace(/\.0$/, '')}k` : `${Math.round(n / 1000)}k`;
}

export function chipFor(item: ContextItem, tokens?: number): ChipView {
  const lineCount = item.text === '' ? 0 : item.text.replace(/\n$/, '').split('\n').length;
  return {
    key: contextKey(item),
    kind: item.kind,
    label: `${baseName(item.path)}${lines(item)}`,
    title: `${item.path}${lines(item)}`,
    size: tokens !== undefined ? `${shortCount(tokens)} tokens` : `${lineCount} ${lineCount === 1 ? 'line' : 'lines'}`,
  };
}
