// The typed messages between the extension host and the chat webview. Both sides import these
// types; nothing else crosses `postMessage`.

import type { ActiveSelection } from '../protocol';
import type { MessageView } from './state';

/** What the header shows: the model first (a click switches it), then the provider. */
export interface HeaderView {
  connected: boolean;
  providerName: string | null;
  model: string | null;
  active: ActiveSelection | null;
}

/** Extension → webview. */
export type ToWebview =
  /** A full snapshot: on load, after New Chat, after a structural change. */
  | { type: 'state'; messages: MessageView[]; header: HeaderView; streaming: boolean }
  /** One message changed (a delta, a countdown start, a finish). */
  | { type: 'message'; message: MessageView; streaming: boolean }
  | { type: 'header'; header: HeaderView }
  /** Put text into the prompt (Ask About Selection) and focus it. */
  | { type: 'prefill'; text: string }
  | { type: 'focus' }
  /** How much of the model's window the next question would fill (`sidekick/countTokens`). */
  | { type: 'fill'; tokens: number; window: number | null };

/** Webview → extension. */
export type FromWebview =
  | { type: 'ready' }
  | { type: 'send'; text: string }
  | { type: 'stop' }
  | { type: 'newChat' }
  | { type: 'copy'; text: string }
  /** A code block's Insert; `language` is its fence's (a new document takes it). */
  | { type: 'insert'; text: string; language?: string }
  | { type: 'openUrl'; url: string }
  /** A button: `args` from a guidance action; `id` the message whose card it is on. */
  | { type: 'runCommand'; command: string; args?: string[]; id?: string }
  /** Retry (or Ask again) the last answer, by its message id. */
  | { type: 'retry'; id: string }
  /** The question being typed (debounced): the window fill is counted for it. */
  | { type: 'draft'; text: string };

const FROM_TYPES = new Set(['ready', 'send', 'stop', 'newChat', 'copy', 'insert', 'openUrl', 'runCommand', 'retry', 'draft']);

const isStringList = (v: unknown): v is string[] =>
  Array.isArray(v) && v.length <= 4 && v.every((x) => typeof x === 'string' && x.length <= 64);

/** Validates a message from the webview: the webview renders model output, so trust nothing. */
export function parseFromWebview(value: unknown): FromWebview | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Record<string, unknown>;
  if (typeof m.type !== 'string' || !FROM_TYPES.has(m.type)) return undefined;
  switch (m.type) {
    case 'send':
    case 'copy':
    case 'draft':
      return typeof m.text === 'string' ? ({ type: m.type, text: m.text } as FromWebview) : undefined;
    case 'insert': {
      if (typeof m.text !== 'string') return undefined;
      const language = typeof m.language === 'string' && /^[\w+#.-]{1,40}$/.test(m.language) ? m.language : undefined;
      return language ? { type: 'insert', text: m.text, language } : { type: 'insert', text: m.text };
    }
    case 'openUrl':
      return typeof m.url === 'string' ? { type: 'openUrl', url: m.url } : undefined;
    case 'runCommand': {
      if (typeof m.command !== 'string') return undefined;
      const out: FromWebview = { type: 'runCommand', command: m.command };
      if (isStringList(m.args) && m.args.length > 0) out.args = m.args;
      if (typeof m.id === 'string') out.id = m.id;
      return out;
    }
    case 'retry':
      return typeof m.id === 'string' ? { type: 'retry', id: m.id } : undefined;
    default:
      return { type: m.type } as FromWebview;
  }
}

/** `12.4k / 128k tokens`, and whether it is near the window (90 % or more). */
export function fillText(tokens: number, window: number | null): { text: string; near: boolean } {
  const short = (n: number) => (n < 1000 ? String(n) : n < 100_000 ? `${(n / 1000).toFixed(1).replace(/\.0$/, '')}k` : `${Math.round(n / 1000)}k`);
  if (window === null || window <= 0) return { text: `${short(tokens)} tokens`, near: false };
  return { text: `${short(tokens)} / ${short(window)} tokens`, near: tokens >= window * 0.9 };
}
