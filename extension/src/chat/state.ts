// The chat panel's state and its pure reducer: messages, streaming, deltas ordered by seq,
// retry countdowns, stop/interrupt marks. No `vscode`, no DOM: the extension host owns the state,
// persists it per workspace and sends snapshots to the webview.

import type { GuidanceCard } from '../guidance';
import type { ChatMessage, ChatResult, FinishReason, Usage } from '../protocol';
import type { ContextItem } from '../protocolConversations';

/** Where an assistant answer stands. User messages are always `done`. */
export type MessageStatus = 'streaming' | 'done' | 'stopped' | 'interrupted' | 'failed';

/** A retry the server is waiting for (from `sidekick/chatStatus`). */
export interface RetryView {
  attempt: number;
  /** Epoch ms when the next attempt starts. */
  until: number;
  message: string;
}

export interface MessageView {
  id: string;
  role: 'user' | 'assistant';
  text: string;
  status: MessageStatus;
  /** The protocol chat id (assistant messages). */
  chatId?: string;
  /** Last delta seq applied to `text` (assistant messages while streaming). */
  seq?: number;
  /** Deltas that arrived ahead of their turn, by seq. */
  pending?: Record<number, string>;
  retry?: RetryView;
  card?: GuidanceCard;
  /** The model that answered, as the provider named it. */
  model?: string;
  finishReason?: FinishReason;
  /** A card's button fixed the problem (a model picked, a key entered): offer "Ask again". */
  fixed?: boolean;
  /** Tokens and cost of a finished answer. */
  usage?: Usage;
  /** Files and selections sent with a question. */
  context?: ContextItem[];
  /**
   * The sidecar's id of this message, once known (a loaded conversation, a finished answer):
   * what Edit and Regenerate truncate from.
   */
  storedId?: string;
}

export interface ChatViewState {
  messages: MessageView[];
}

export type ChatAction =
  | { type: 'userSent'; userId: string; assistantId: string; chatId: string; text: string; context?: ContextItem[] }
  | { type: 'delta'; chatId: string; seq: number; text: string }
  | { type: 'retrying'; chatId: string; attempt: number; delayMs: number; message: string; now: number }
  | { type: 'finished'; chatId: string; result: ChatResult }
  | { type: 'stopped'; chatId: string }
  | { type: 'failed'; chatId: string; card: GuidanceCard; partialText: string | null }
  | { type: 'fixed'; id: string }
  /** Edit or Regenerate: message `id` and everything after it leave. */
  | { type: 'truncated'; id: string }
  | { type: 'cleared' }
  | { type: 'restored'; messages: MessageView[] };

export const emptyState: ChatViewState = { messages: [] };

function updateChat(
  state: ChatViewState,
  chatId: string,
  update: (m: MessageView) => MessageView,
): ChatViewState {
  const index = state.messages.findIndex((m) => m.chatId === chatId);
  if (index < 0) return state;
  const current = state.messages[index]!;
  const next = update(current);
  if (next === current) return state;
  const messages = state.messages.slice();
  messages[index] = next;
  return { messages };
}

/** Ends streaming bookkeeping (pending deltas, retry countdown) on a message. */
function settle(m: MessageView, patch: Partial<MessageView>): MessageView {
  const { pending: _pending, retry: _retry, seq: _seq, ...rest } = m;
  return { ...rest, ...patch };
}

function applyDelta(m: MessageView, seq: number, text: string): MessageView {
  // A finished chat drops late deltas: the result's text is authoritative.
  if (m.status !== 'streaming') return m;
  const last = m.seq ?? 0;
  if (!Number.isInteger(seq) || seq <= last) return m; // duplicate or stale
  if (seq > last + 1) {
    return { ...m, pending: { ...m.pending, [seq]: text } };
  }
  let body = m.text + text;
  let applied = seq;
  const pending = { ...m.pending };
  while (pending[applied + 1] !== undefined) {
    body += pending[applied + 1];
    delete pending[applied + 1];
    applied += 1;
  }
  // Text arriving means the retry wait is over.
  const { retry: _retry, ...rest } = m;
  return { ...rest, text: body, seq: applied, pending };
}

export function reduce(state: ChatViewState, action: ChatAction): ChatViewState {
  switch (action.type) {
    case 'userSent':
      return {
        messages: [
          ...state.messages,
          {
            id: action.userId,
            role: 'user',
            text: action.text,
            status: 'done',
            ...(action.context?.length ? { context: action.context } : {}),
          },
          {
            id: action.assistantId,
            role: 'assistant',
            text: '',
            status: 'streaming',
            chatId: action.chatId,
            seq: 0,
            pending: {},
          },
        ],
      };
    case 'delta':
      return updateChat(state, action.chatId, (m) => applyDelta(m, action.seq, action.text));
    case 'retrying':
      return updateChat(state, action.chatId, (m) =>
        m.status !== 'streaming'
          ? m
          : {
              ...m,
              retry: { attempt: action.attempt, until: action.now + action.delayMs, message: action.message },
            },
      );
    case 'finished': {
      const next = updateChat(state, action.chatId, (m) =>
        m.status !== 'streaming'
          ? m
          : settle(m, {
              text: action.result.text,
              status: action.result.finishReason === 'cancelled' ? 'stopped' : 'done',
              model: action.result.model,
              finishReason: action.result.finishReason,
              ...(action.result.usage ? { usage: action.result.usage } : {}),
              ...(action.result.messageId ? { storedId: action.result.messageId } : {}),
            }),
      );
      const { userMessageId } = action.result;
      const index = next.messages.findIndex((m) => m.chatId === action.chatId);
      const question = next.messages[index - 1];
      if (next === state || !userMessageId || question?.role !== 'user') return next;
      const messages = next.messages.slice();
      messages[index - 1] = { ...question, storedId: userMessageId };
      return { messages };
    }
    case 'stopped':
      return updateChat(state, action.chatId, (m) =>
        m.status !== 'streaming' ? m : settle(m, { status: 'stopped' }),
      );
    case 'failed':
      return updateChat(state, action.chatId, (m) => {
        if (m.status !== 'streaming') return m;
        // Keep what streamed: the server's partialText when it sent one, else what we rendered.
        const text = action.partialText ?? m.text;
        return settle(m, { text, status: text ? 'interrupted' : 'failed', card: action.card });
      });
    case 'fixed': {
      const index = state.messages.findIndex((m) => m.id === action.id);
      const m = state.messages[index];
      if (!m || !m.card || m.fixed) return state;
      const messages = state.messages.slice();
      messages[index] = { ...m, fixed: true };
      return { messages };
    }
    case 'truncated': {
      const index = state.messages.findIndex((m) => m.id === action.id);
      return index < 0 ? state : { messages: state.messages.slice(0, index) };
    }
    case 'cleared':
      return emptyState;
    case 'restored':
      return { messages: action.messages.map(restoreMessage) };
  }
}

/** After a reload nothing is streaming any more: what was is marked interrupted. */
function restoreMessage(m: MessageView): MessageView {
  if (m.status !== 'streaming') return settle(m, {});
  return settle(m, { status: m.text ? 'interrupted' : 'failed' });
}

/** Retry (failed, cut off, stopped) or Regenerate (done): the last answer is asked again. */
const RETRYABLE: ReadonlySet<MessageStatus> = new Set(['failed', 'interrupted', 'stopped', 'done']);

/**
 * The question a Retry of answer `id` asks again: only the last answer, when it failed, was
 * stopped or was cut off, and nothing is streaming. Undefined otherwise.
 */
export function retryable(state: ChatViewState, id: string): string | undefined {
  const n = state.messages.length;
  const answer = state.messages[n - 1];
  const question = state.messages[n - 2];
  if (!answer || !question || answer.id !== id || answer.role !== 'assistant') return undefined;
  if (!RETRYABLE.has(answer.status) || question.role !== 'user') return undefined;
  return question.text;
}

/** A sent question the user may edit: a user message, while nothing streams. */
export function editable(state: ChatViewState, id: string): MessageView | undefined {
  const m = state.messages.find((x) => x.id === id);
  return m?.role === 'user' && streamingChatId(state) === undefined ? m : undefined;
}

/** The chat that is streaming, if any (the panel runs one at a time). */
export function streamingChatId(state: ChatViewState): string | undefined {
  return state.messages.find((m) => m.status === 'streaming')?.chatId;
}

/** What is worth saving: settled messages without streaming bookkeeping. */
export function persistable(state: ChatViewState): MessageView[] {
  return state.messages.map(restoreMessage);
}

/** Validates persisted messages (workspaceState may hold anything an older version wrote). */
export function parsePersisted(value: unknown): MessageView[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (m): m is MessageView =>
      typeof m === 'object' &&
      m !== null &&
      typeof m.id === 'string' &&
      (m.role === 'user' || m.role === 'assistant') &&
      typeof m.text === 'string' &&
      typeof m.status === 'string',
  );
}

/**
 * The conversation sent with a new question: every user message and every assistant answer with
 * text (stopped or interrupted answers included: the user saw them), in order.
 */
export function conversationFor(state: ChatViewState): ChatMessage[] {
  return state.messages
    .filter((m) => m.text.trim() !== '' && (m.role === 'user' || m.status !== 'streaming'))
    .map((m) => ({ role: m.role, content: m.text }));
}
