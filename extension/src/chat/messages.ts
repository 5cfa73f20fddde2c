// The typed messages between the extension host and the chat webview. Both sides import these
// types; nothing else crosses `postMessage`.

import type { ActiveSelection } from '../protocol';
import { shortCount, type ChipView } from './context';
import { MAX_MENTION_QUERY } from './mentions';
import type { MessageView } from './state';

/** One of the sidecar's conversations in the view's list. */
export interface ConversationItem {
  id: string;
  title: string;
  model: string | null;
  /** When it last changed, already worded (`3 min ago`). */
  when: string;
  messageCount: number;
  /** The one the panel shows. */
  current: boolean;
}

/** What an Add button in the view attaches. */
export type AttachKind = 'file' | 'editors' | 'selection';
const ATTACH_KINDS: ReadonlySet<string> = new Set<AttachKind>(['file', 'editors', 'selection']);

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
  | { type: 'focus' }
  /** How much of the model's window the next question would fill (`sidekick/countTokens`). */
  | { type: 'fill'; tokens: number; window: number | null }
  /** The files and selections attached to the next question. */
  | { type: 'context'; chips: ChipView[] }
  /** The conversation list's rows, for the search `query` they answer. */
  | { type: 'conversations'; query: string; items: ConversationItem[] }
  /** Workspace files for the `@` mention `query` being typed, best first. */
  | { type: 'mentions'; query: string; files: string[] };

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
  | { type: 'draft'; text: string }
  /** Edit a sent question: it and everything after it go, and `text` is asked in its place. */
  | { type: 'edit'; id: string; text: string }
  | { type: 'attach'; what: AttachKind }
  /** Remove an attached item (its chip's key). */
  | { type: 'detach'; key: string }
  /** An `@` mention is being typed: the files that answer `query`. */
  | { type: 'mentionQuery'; query: string }
  /** A file picked from the `@` list (one the extension offered). */
  | { type: 'attachMention'; path: string }
  /** Show the conversation list, searched for `query` (full text, by the sidecar). */
  | { type: 'listConversations'; query: string }
  | { type: 'openConversation'; id: string }
  | { type: 'renameConversation'; id: string }
  | { type: 'deleteConversation'; id: string };

const FROM_TYPES = new Set([
  'ready',
  'send',
  'stop',
  'newChat',
  'copy',
  'insert',
  'openUrl',
  'runCommand',
  'retry',
  'draft',
  'edit',
  'attach',
  'detach',
  'mentionQuery',
  'attachMention',
  'listConversations',
  'openConversation',
  'renameConversation',
  'deleteConversation',
]);

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
    case 'openConversation':
    case 'renameConversation':
    case 'deleteConversation':
      return typeof m.id === 'string' ? ({ type: m.type, id: m.id } as FromWebview) : undefined;
    case 'edit':
      return typeof m.id === 'string' && typeof m.text === 'string' ? { type: 'edit', id: m.id, text: m.text } : undefined;
    case 'attach':
      return typeof m.what === 'string' && ATTACH_KINDS.has(m.what) ? { type: 'attach', what: m.what as AttachKind } : undefined;
    case 'detach':
      return typeof m.key === 'string' ? { type: 'detach', key: m.key } : undefined;
    case 'mentionQuery':
      return typeof m.query === 'string' && m.query.length <= MAX_MENTION_QUERY ? { type: 'mentionQuery', query: m.query } : undefined;
    case 'attachMention':
      return typeof m.path === 'string' && m.path.length > 0 && m.path.length <= 4096 ? { type: 'attachMention', path: m.path } : undefined;
    case 'listConversations':
      return typeof m.query === 'string' ? { type: 'listConversations', query: m.query.slice(0, 200) } : undefined;
    default:
      return { type: m.type } as FromWebview;
  }
}

/** `12.4k / 128k tokens`, and whether it is near the window (90 % or more). */
export function fillText(tokens: number, window: number | null): { text: string; near: boolean } {
  const short = shortCount;
  if (window === null || window <= 0) return { text: `${short(tokens)} tokens`, near: false };
  return { text: `${short(tokens)} / ${short(window)} tokens`, near: tokens >= window * 0.9 };
}
