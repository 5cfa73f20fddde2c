// Conversations kept by the sidecar: the types of `sidekick/conversations/*` and
// `sidekick/countTokens` (docs/protocol.md; server/src/protocol/conversations.rs).

import type { GuidanceKind, Usage } from './protocolOutcome';

export interface LineRange {
  startLine: number;
  endLine: number;
}

/** A file or a selection attached to a question. */
export interface ContextItem {
  kind: 'file' | 'selection';
  path: string;
  languageId?: string;
  range?: LineRange;
  text: string;
}

export type StoredStatus = 'done' | 'stopped' | 'interrupted' | 'failed' | 'streaming';

export interface StoredMessage {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  status: StoredStatus;
  model: string | null;
  usage: Usage | null;
  costUsd: number | null;
  guidanceKind: GuidanceKind | null;
  createdAt: number;
  context: ContextItem[];
}

export interface ConversationSummary {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  provider: string | null;
  model: string | null;
  messageCount: number;
}

export interface ListConversationsParams {
  query?: string;
  limit?: number;
  before?: string;
}

export interface ListConversationsResult {
  conversations: ConversationSummary[];
  nextBefore: string | null;
}

export interface ImportedMessage {
  role: 'user' | 'assistant';
  content: string;
  status?: Exclude<StoredStatus, 'streaming'>;
  model?: string;
  context?: ContextItem[];
}

export interface CreateConversationParams {
  title?: string;
  messages?: ImportedMessage[];
}

export interface ConversationId {
  id: string;
}

/** `conversations/get`: the summary's fields (its count aside) and every message. */
export interface Conversation extends Omit<ConversationSummary, 'messageCount'> {
  messages: StoredMessage[];
}

export interface RenameConversationParams {
  id: string;
  title: string;
}

export interface TruncateConversationParams {
  id: string;
  fromMessageId: string;
}

export interface CountTokensParams {
  conversationId?: string;
  messages?: { role: 'user' | 'assistant' | 'system'; content: string }[];
  context?: ContextItem[];
  instructions?: string;
  provider?: string;
  model?: string;
}

export interface CountTokensResult {
  tokens: number;
  window: number | null;
  exact: boolean;
}
