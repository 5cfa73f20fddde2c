// The TypeScript mirror of `server/src/protocol.rs` (Sidekick protocol v2, see docs/protocol.md),
// declared once as rust-analyzer's `lsp_ext.ts` does: a `RequestType<P, R>` or
// `NotificationType<P>` per method, so a params/result mismatch is a compile error. Nothing else
// in the extension spells a method name. No logic, no `vscode` import (unit tests load this file;
// vscode-jsonrpc is pure).

import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type {
  ConnectAdminParams,
  ConnectAdminResult,
  DisconnectAdminParams,
  DisconnectAdminResult,
  OrgCostsParams,
  OrgCostsResult,
  OrgSyncParams,
  OrgUsageParams,
  OrgUsageResult,
} from './protocolOrg';
import type { GuidanceKind, ModelPrice, Usage } from './protocolOutcome';
import type {
  ContextItem,
  Conversation,
  ConversationId,
  CountTokensParams,
  CountTokensResult,
  CreateConversationParams,
  ListConversationsParams,
  ListConversationsResult,
  RenameConversationParams,
  TruncateConversationParams,
} from './protocolConversations';

export * from './protocolOrg';
export * from './protocolOutcome';
export * from './protocolConversations';

/** Bumped on any incompatible change; reported in `capabilities.experimental.sidekick`. */
export const PROTOCOL_VERSION = 2;
/** `serverInfo.name` in the `initialize` result. */
export const SERVER_NAME = 'sidekick-server';

/** JSON-RPC error codes the extension acts on. */
export const ErrorCode = {
  /** A failure the user must act on; `data` is a {@link Guidance}. */
  guidance: -32001,
  /** The request was cancelled (`$/cancelRequest`): a Stop, not an error. */
  requestCancelled: -32800,
  /** Bad params; the message names the field. */
  invalidParams: -32602,
  methodNotFound: -32601,
} as const;

/** Client → server requests. */
export const Method = {
  listProviders: 'sidekick/listProviders',
  connect: 'sidekick/connect',
  listModels: 'sidekick/listModels',
  selectModel: 'sidekick/selectModel',
  disconnect: 'sidekick/disconnect',
  chat: 'sidekick/chat',
  requestLog: 'sidekick/requestLog',
  spend: 'sidekick/spend',
  connectAdmin: 'sidekick/connectAdmin',
  disconnectAdmin: 'sidekick/disconnectAdmin',
  orgCosts: 'sidekick/orgCosts',
  orgUsage: 'sidekick/orgUsage',
  listConversations: 'sidekick/conversations/list',
  createConversation: 'sidekick/conversations/create',
  getConversation: 'sidekick/conversations/get',
  renameConversation: 'sidekick/conversations/rename',
  deleteConversation: 'sidekick/conversations/delete',
  truncateConversation: 'sidekick/conversations/truncate',
  countTokens: 'sidekick/countTokens',
} as const;

/** Server → client notifications. */
export const Notification = {
  stateChanged: 'sidekick/stateChanged',
  chatDelta: 'sidekick/chatDelta',
  chatStatus: 'sidekick/chatStatus',
  requestLogged: 'sidekick/requestLogged',
  orgSync: 'sidekick/orgSync',
} as const;

/** Server → client requests, sent only when the client set `clientSecretStorage: true`. */
export const ClientRequest = {
  secretsGet: 'sidekick/secrets/get',
  secretsStore: 'sidekick/secrets/store',
  secretsDelete: 'sidekick/secrets/delete',
} as const;

/** Where a provider's key comes from. */
export type KeySource = 'keychain' | 'env' | 'client';

/** Provider ids of protocol v2 (a newer server may add more; treat as string). */
export type ProviderId =
  | 'openai'
  | 'anthropic'
  | 'azure'
  | 'openrouter'
  | 'gemini'
  | 'compatible'
  | 'demo'
  | (string & {});

/** What a chat's `model` names: a listed model, or a deployment name the user types (Azure). */
export type ModelKind = 'model' | 'deployment';

/** One provider as the client shows it. Never carries a key. */
export interface ProviderInfo {
  /** Stable id used in every other method. */
  id: ProviderId;
  /** Name for people. */
  name: string;
  /** The base URL requests go to; `""` while a provider that needs the user's own has none. */
  baseUrl: string;
  /** True when a key is stored (or the provider needs none and a connect succeeded). */
  connected: boolean;
  /** `sk-…WXYZ`: enough to recognise a key, never enough to use it. */
  keyHint: string | null;
  /** Null when not connected or when no key is used. */
  keySource: KeySource | null;
  organization: string | null;
  project: string | null;
  /** False for servers that work without a key (Ollama, LM Studio). */
  requiresKey: boolean;
  /** True when the client may offer to edit the base URL. */
  baseUrlEditable: boolean;
  /** True when Organization/Project IDs mean something to this provider. */
  supportsOrganization: boolean;
  /** The environment variable whose key wins over the keychain, e.g. `ANTHROPIC_API_KEY`. */
  envKeyVar: string | null;
  /** What a key looks like, for the prompt's placeholder: `sk-ant-…`. */
  keyPlaceholder: string | null;
  /** Where the user creates a key. */
  apiKeysUrl: string | null;
  /** What to type as the base URL when it is editable: `https://NAME.openai.azure.com`. */
  baseUrlPlaceholder: string | null;
  /** `deployment`: the user types a name; the listed models are only suggestions. */
  modelKind: ModelKind;
  /** The organization's usage and costs can be read with an admin key (OpenAI). */
  supportsAdmin?: boolean;
  /** An admin key is stored, or set in `OPENAI_ADMIN_KEY`. */
  adminConnected?: boolean;
  adminKeyHint?: string | null;
  adminKeySource?: KeySource | null;
}

/** The provider and model a chat uses when it names none. */
export interface ActiveSelection {
  provider: ProviderId;
  model: string;
}

/** Result of `sidekick/listProviders`; also the params of `sidekick/stateChanged`. */
export interface ProvidersState {
  providers: ProviderInfo[];
  active: ActiveSelection | null;
  /** Where the last stored key went (`client`: no keychain answered); null until one was. */
  keyStore?: KeySource | null;
}

export interface ModelInfo {
  /** What a chat sends as `model`. */
  id: string;
  /** A display name when the provider gives one ("Claude Sonnet 4", "OpenAI: GPT-4o"). */
  name: string | null;
  /** `owned_by` as the provider reports it. */
  ownedBy: string | null;
  /** Unix seconds. */
  created: number | null;
  /** The context window in tokens, when the provider says. */
  contextWindow: number | null;
  /** False for a well-known non-chat model (embeddings, images, audio…): behind "Show all". */
  chat?: boolean;
  /** The provider's suggestion for a newcomer; at most one, listed first. */
  recommended?: boolean;
  /** USD per million tokens, when the provider's list says. */
  price?: ModelPrice | null;
}

export interface ConnectParams {
  provider: ProviderId;
  /** Trimmed by the server; an empty key is refused. Optional for providers that need none. */
  apiKey?: string;
  /** Only for providers whose base URL is editable. `http://` only for loopback hosts. */
  baseUrl?: string;
  organization?: string;
  project?: string;
}

export interface ConnectResult {
  provider: ProviderId;
  connected: boolean;
  keyHint: string | null;
  models: ModelInfo[];
}

export interface ListModelsParams {
  provider: ProviderId;
  /** Ask the provider again instead of answering from the cache. */
  refresh?: boolean;
}

export interface ListModelsResult {
  provider: ProviderId;
  models: ModelInfo[];
}

export interface SelectModelParams {
  provider: ProviderId;
  model: string;
}

export interface SelectModelResult {
  active: ActiveSelection;
}

export interface DisconnectParams {
  provider: ProviderId;
}

export interface DisconnectResult {
  provider: ProviderId;
  /** False, unless a key from the environment still connects the provider. */
  connected: boolean;
}

export type Role = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: Role;
  content: string;
  /** Files and selections attached to a user message. */
  context?: ContextItem[];
}

export interface ChatParams {
  /** Chosen by the client, unique among its running chats; echoed in every delta and status. */
  chatId: string;
  messages: ChatMessage[];
  /** Defaults to the active selection. */
  provider?: ProviderId;
  /** Defaults to the active selection. */
  model?: string;
  /** 0–2. */
  temperature?: number;
  /** ≥ 1. */
  maxTokens?: number;
  /** Continue a stored conversation: `messages` is then only the new question. */
  conversationId?: string;
  /** Sent first, as the system (or developer) message. */
  instructions?: string;
  /** Over the model's window, leave out the oldest turns instead of refusing. */
  dropOldest?: boolean;
}

/** A piece of a streamed answer. Concatenated in `seq` order, the texts equal the final text. */
export interface ChatDeltaParams {
  chatId: string;
  /** Starts at 1 and grows by one per delta of this chat. */
  seq: number;
  text: string;
}

export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'cancelled';

export interface ChatResult {
  chatId: string;
  /** Authoritative: a delta that arrives after this result is already part of it. */
  text: string;
  finishReason: FinishReason;
  /** The model that answered, as the provider named it. */
  model: string;
  usage: Usage | null;
  /** The provider's request id, for support tickets. */
  requestId: string | null;
  /** With `conversationId`: the stored question's and answer's ids. */
  userMessageId?: string;
  messageId?: string;
  /** Messages left out to fit the window (`dropOldest`). */
  droppedMessages?: number;
}

/** A retry is waiting `delayMs` before attempt `attempt`. */
export type ChatState = 'retrying';

export interface ChatStatusParams {
  chatId: string;
  state: ChatState;
  /** The attempt that starts after the wait (2 for the first retry). */
  attempt: number;
  delayMs: number;
  kind: GuidanceKind;
  /** One line for people, e.g. "Rate limited by OpenAI; retrying in 2 s". */
  message: string;
}


/**
 * A button under a guidance: open a URL, or run one of the client's commands; `arguments`
 * names what it acts on (`["anthropic"]`: Select Your AI goes straight to Anthropic).
 */
export type GuidanceAction =
  | { title: string; url: string }
  | { title: string; command: string; arguments?: string[] };

/** `data` of every `-32001` error: what happened and what to do, written for a person. */
export interface Guidance {
  kind: GuidanceKind;
  /** One line; also the JSON-RPC error's `message`. */
  title: string;
  /** What happened and what to do, in a sentence or three. */
  detail: string;
  actions: GuidanceAction[];
  httpStatus: number | null;
  /** The provider's `error.code` (or `error.type` when it has no code). */
  providerCode: string | null;
  /** The provider's own message, any key in it masked. */
  providerMessage: string | null;
  requestId: string | null;
  /** How long the provider asked us to wait, when it said. */
  retryAfterMs: number | null;
  /** The text streamed before the failure: keep it on screen. */
  partialText: string | null;
}

/** Params of `sidekick/secrets/get|store|delete` (server → client). */
export interface SecretParams {
  /** e.g. `sidekick:openai@https://api.openai.com/v1`. */
  key: string;
  /** Only for `store`. */
  value?: string;
}

/** Result of `sidekick/secrets/get`. */
export interface SecretValue {
  value: string | null;
}

/** `initializationOptions` and `workspace/didChangeConfiguration` settings (all optional). */
export interface ServerSettings {
  retry?: { maxAttempts?: number; maxWaitMs?: number };
  requestTimeoutMs?: number;
  idleTimeoutMs?: number;
  deltaIntervalMs?: number;
  clientSecretStorage?: boolean;
  /** `max_tokens` for Anthropic when a chat names none; null: the per-model default. */
  anthropic?: { maxTokens?: number | null };
  /** This month's spending limit (USD, null: none) and the share that warns. */
  budget?: { monthlyUsd?: number | null; warnPercent?: number };
  ledger?: { retentionDays?: number };
  /** A price file in LiteLLM's format; null: `$SIDEKICK_HOME/prices.json` when present. */
  prices?: { path?: string | null };
}

export type LedgerOperation = 'validate' | 'models' | 'chat' | 'usage';
export type CallOutcome = 'ok' | 'failed' | 'cancelled';

/** One provider call the ledger recorded. Never a key, a prompt or an answer. */
export interface RequestLogEntry {
  id: number;
  /** Unix ms. */
  startedAt: number;
  provider: ProviderId;
  host: string;
  operation: LedgerOperation;
  model: string | null;
  chatId: string | null;
  attempt: number | null;
  outcome: CallOutcome;
  httpStatus: number | null;
  guidanceKind: string | null;
  requestId: string | null;
  headersMs: number | null;
  firstTokenMs: number | null;
  durationMs: number;
  inputTokens: number | null;
  cachedInputTokens: number | null;
  outputTokens: number | null;
  reasoningTokens: number | null;
  /** Null: no tokens, or the model is unpriced. */
  costUsd: number | null;
}

export interface RequestLogParams {
  limit?: number;
  before?: number;
  provider?: string;
  model?: string;
  outcome?: CallOutcome;
  operation?: LedgerOperation;
}

export interface RequestLogResult {
  entries: RequestLogEntry[];
  nextBefore: number | null;
}

export interface SpendParams {
  /** `YYYY-MM-DD`, local, inclusive. */
  from: string;
  to: string;
  groupBy?: 'day' | 'model' | 'provider';
}

export interface SpendGroup {
  key: string;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  calls: number;
}

export interface SpendResult {
  currency: 'usd';
  total: number;
  unpricedCalls: number;
  groups: SpendGroup[];
  budgetUsd: number | null;
  warnPercent: number;
}

/** Commands the server may name in guidance actions. */
export const GUIDANCE_COMMANDS = [
  'sidekick.selectYourAI',
  'sidekick.selectModel',
  'sidekick.newChat',
  'sidekick.showLogs',
  'sidekick.openSettings',
  'sidekick.showSpend',
  'sidekick.connectOrganization',
  'sidekick.dropOldest',
] as const;

/** Params of a method that takes none. */
export type NoParams = Record<string, never>;

// Client → server requests.
export const ListProvidersRequest = new RequestType<NoParams, ProvidersState, void>(Method.listProviders);
export const ConnectRequest = new RequestType<ConnectParams, ConnectResult, void>(Method.connect);
export const ListModelsRequest = new RequestType<ListModelsParams, ListModelsResult, void>(Method.listModels);
export const SelectModelRequest = new RequestType<SelectModelParams, SelectModelResult, void>(Method.selectModel);
export const DisconnectRequest = new RequestType<DisconnectParams, DisconnectResult, void>(Method.disconnect);
export const ChatRequest = new RequestType<ChatParams, ChatResult, void>(Method.chat);
export const RequestLogRequest = new RequestType<RequestLogParams, RequestLogResult, void>(Method.requestLog);
export const SpendRequest = new RequestType<SpendParams, SpendResult, void>(Method.spend);
export const ConnectAdminRequest = new RequestType<ConnectAdminParams, ConnectAdminResult, void>(Method.connectAdmin);
export const DisconnectAdminRequest = new RequestType<DisconnectAdminParams, DisconnectAdminResult, void>(
  Method.disconnectAdmin,
);
export const OrgCostsRequest = new RequestType<OrgCostsParams, OrgCostsResult, void>(Method.orgCosts);
export const OrgUsageRequest = new RequestType<OrgUsageParams, OrgUsageResult, void>(Method.orgUsage);
export const ListConversationsRequest = new RequestType<ListConversationsParams, ListConversationsResult, void>(
  Method.listConversations,
);
export const CreateConversationRequest = new RequestType<CreateConversationParams, ConversationId, void>(
  Method.createConversation,
);
export const GetConversationRequest = new RequestType<ConversationId, Conversation, void>(Method.getConversation);
export const RenameConversationRequest = new RequestType<RenameConversationParams, ConversationId & { title: string }, void>(
  Method.renameConversation,
);
export const DeleteConversationRequest = new RequestType<ConversationId, ConversationId & { deleted: boolean }, void>(
  Method.deleteConversation,
);
export const TruncateConversationRequest = new RequestType<TruncateConversationParams, ConversationId & { removed: number }, void>(
  Method.truncateConversation,
);
export const CountTokensRequest = new RequestType<CountTokensParams, CountTokensResult, void>(Method.countTokens);

// Server → client notifications.
export const StateChangedNotification = new NotificationType<ProvidersState>(Notification.stateChanged);
export const ChatDeltaNotification = new NotificationType<ChatDeltaParams>(Notification.chatDelta);
export const ChatStatusNotification = new NotificationType<ChatStatusParams>(Notification.chatStatus);
export const RequestLoggedNotification = new NotificationType<RequestLogEntry>(Notification.requestLogged);
export const OrgSyncNotification = new NotificationType<OrgSyncParams>(Notification.orgSync);

// Server → client requests.
export const SecretsGetRequest = new RequestType<SecretParams, SecretValue, void>(ClientRequest.secretsGet);
export const SecretsStoreRequest = new RequestType<SecretParams, Record<string, never>, void>(ClientRequest.secretsStore);
export const SecretsDeleteRequest = new RequestType<SecretParams, Record<string, never>, void>(ClientRequest.secretsDelete);

/** The `initialize` result's part the extension checks. */
export interface SidekickCapabilities {
  protocolVersion?: unknown;
}
