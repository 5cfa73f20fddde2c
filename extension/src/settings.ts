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
  // null is sent too: it takes a budget back to none.
  const monthlyUsd = get('budget.monthlyUsd');
  const warnPercent = int(get, 'budget.warnPercent');
  if (monthlyUsd === null || typeof monthlyUsd === 'number' || warnPercent !== undefined) {
    out.budget = {};
    if (monthlyUsd === null) out.budget.monthlyUsd = null;
    else if (typeof monthlyUsd === 'number' && Number.isFinite(monthlyUsd)) out.budget.monthlyUsd = monthlyUsd;
    if (warnPercent !== undefined) out.budget.warnPercent = warnPercent;
  }
  const retentionDays = int(get, 'ledger.retentionDays');
  if (retentionDays !== undefined) out.ledger = { retentionDays };
  const pricesPath = get('prices.path');
  if (typeof pricesPath === 'string') out.prices = { path: pricesPath.trim() || null };
  return out;
}

/** `initializationOptions`: the settings plus `clientSecretStorage: true`. */
export function initializationOptions(get: SettingGetter): ServerSettings {
  return { ...serverSettings(get), clientSecretStorage: true };
}

/** The Settings editor's query for `sidekick.openSettings` and its optional section ("budget"). */
export function settingsQuery(section: unknown): string {
  return typeof section === 'string' && /^[a-zA-Z.]{1,40}$/.test(section)
    ? `sidekick.${section}`
    : '@ext:sidekick.sidekick';
}
