// The `sidekick.*` settings the sidecar reads, as the nested object it expects in
// `initializationOptions` and `workspace/didChangeConfiguration`. Pure: the getter is injected.

import type { ServerSettings } from './protocol';

/** Reads one setting (`vscode.workspace.getConfiguration('sidekick').get`). */
export type SettingGetter = (key: string) => unknown;

function int(get: SettingGetter, key: string): number | undefined {
  const v = get(key);
  return typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : undefined;
}

/** Only settings the user set (or that have a contributed default) are sent; the server fills the rest. */
export function serverSettings(get: SettingGetter): ServerSettings {
  const out: ServerSettings = {};
  const maxAttempts = int(get, 'retry.maxAttempts');
  const maxWaitMs = int(get, 'retry.maxWaitMs');
  if (maxAttempts !== undefined || maxWaitMs !== undefined) {
    out.retry = {};
    if (maxAttempts !== undefined) out.retry.maxAttempts = maxAttempts;
    if (maxWaitMs !== undefined) out.retry.maxWaitMs = maxWaitMs;
  }
  const requestTimeoutMs = int(get, 'requestTimeoutMs');
  if (requestTimeoutMs !== undefined) out.requestTimeoutMs = requestTimeoutMs;
  const idleTimeoutMs = int(get, 'idleTimeoutMs');
  if (idleTimeoutMs !== undefined) out.idleTimeoutMs = idleTimeoutMs;
  const deltaIntervalMs = int(get, 'deltaIntervalMs');
  if (deltaIntervalMs !== undefined) out.deltaIntervalMs = deltaIntervalMs;
  // null (the default) is sent too: it takes a value set earlier in this session back.
  const anthropicMaxTokens = get('anthropic.maxTokens');
  if (anthropicMaxTokens === null) out.anthropic = { maxTokens: null };
  else {
    const n = int(get, 'anthropic.maxTokens');
    if (n !== undefined) out.anthropic = { maxTokens: n };
  }
  return out;
}

/** `initializationOptions`: the settings plus `clientSecretStorage: true`. */
export function initializationOptions(get: SettingGetter): ServerSettings {
  return { ...serverSettings(get), clientSecretStorage: true };
}
