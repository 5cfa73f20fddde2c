// What a turn ends with, shared by the chat and the stored conversations: its usage and price,
// and the guidance kinds a failure is named by. A leaf: protocol.ts and protocolConversations.ts
// both take these from here, so neither imports the other's.

export interface ModelPrice {
  inputPerMtok: number;
  outputPerMtok: number;
}

export interface Usage {
  /** Every input token, cached or not. */
  promptTokens: number;
  /** Every output token, reasoning included. */
  completionTokens: number;
  totalTokens: number;
  /** Input tokens read from the provider's prompt cache, when it says. */
  cachedInputTokens: number | null;
  /** Input tokens written to the prompt cache (Anthropic), when it says. */
  cacheWriteTokens: number | null;
  /** Output tokens spent on reasoning, when it says. */
  reasoningTokens: number | null;
  /** What the answer cost, from the price table; null when the model is unpriced (older sidecars left it out). */
  costUsd?: number | null;
  /** The prices used for `costUsd`. */
  price?: ModelPrice;
}

/** Every failure a user can meet, named once. Pick icons and cards from this, never from text. */
export const GUIDANCE_KINDS = [
  'not_connected',
  'invalid_key',
  'organization_mismatch',
  'permission_denied',
  'region_unsupported',
  'model_not_found',
  'rate_limited',
  'request_too_large',
  'quota_exceeded',
  'overloaded',
  'server_error',
  'context_length_exceeded',
  'content_filtered',
  'bad_request',
  'network',
  'timeout',
  'stream_interrupted',
  'keychain_unavailable',
  'budget_exceeded',
  'admin_key_required',
] as const;

export type GuidanceKind = (typeof GUIDANCE_KINDS)[number];
