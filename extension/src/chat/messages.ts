// The typed messages between the extension host and the chat webview. Both sides import these
// types; nothing else crosses `postMessage`.

import type { ActiveSelection } from '../protocol';
import type { MessageView } from './state';

/** What the header shows. */
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
  | { type: 'focus' };

/** Webview → extension. */
export type FromWebview =
  | { type: 'ready' }
  | { type: 'send'; text: string }
  | { type: 'stop' }
  | { type: 'newChat' }
  | { type: 'copy'; text: string }
  | { type: 'insert'; text: string }
  | { type: 'openUrl'; url: string }
  | { type: 'runCommand'; command: string };

const FROM_TYPES = new Set(['ready', 'send', 'stop', 'newChat', 'copy', 'insert', 'openUrl', 'runCommand']);

/** Validates a message from the webview: the webview renders model output, so trust nothing. */
export function parseFromWebview(value: unknown): FromWebview | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Record<string, unknown>;
  if (typeof m.type !== 'string' || !FROM_TYPES.has(m.type)) return undefined;
  switch (m.type) {
    case 'send':
    case 'copy':
    case 'insert':
      return typeof m.text === 'string' ? ({ type: m.type, text: m.text } as FromWebview) : undefined;
    case 'openUrl':
      return typeof m.url === 'string' ? { type: 'openUrl', url: m.url } : undefined;
    case 'runCommand':
      return typeof m.command === 'string' ? { type: 'runCommand', command: m.command } : undefined;
    default:
      return { type: m.type } as FromWebview;
  }
}
