// Guidance → notification, chat card and action. Pure: no `vscode` import, so the mapping is
// unit-tested; the caller injects the few UI functions it needs. The server writes every
// user-facing failure text; this file only decides how to show it, from `kind`, never from text.

import {
  ErrorCode,
  GUIDANCE_COMMANDS,
  GUIDANCE_KINDS,
  type Guidance,
  type GuidanceAction,
  type GuidanceKind,
} from './protocol';

export type Severity = 'error' | 'warning' | 'info';

/** How each kind looks. Exhaustive: a kind added to the protocol fails the typecheck here. */
export const KIND_STYLE: Record<GuidanceKind, { severity: Severity; icon: string }> = {
  not_connected: { severity: 'info', icon: 'plug' },
  invalid_key: { severity: 'error', icon: 'key' },
  organization_mismatch: { severity: 'error', icon: 'organization' },
  permission_denied: { severity: 'error', icon: 'lock' },
  region_unsupported: { severity: 'error', icon: 'globe' },
  model_not_found: { severity: 'error', icon: 'search' },
  rate_limited: { severity: 'warning', icon: 'watch' },
  request_too_large: { severity: 'warning', icon: 'fold' },
  quota_exceeded: { severity: 'error', icon: 'credit-card' },
  overloaded: { severity: 'warning', icon: 'flame' },
  server_error: { severity: 'warning', icon: 'server' },
  context_length_exceeded: { severity: 'warning', icon: 'fold' },
  content_filtered: { severity: 'error', icon: 'shield' },
  bad_request: { severity: 'error', icon: 'warning' },
  network: { severity: 'warning', icon: 'cloud' },
  timeout: { severity: 'warning', icon: 'watch' },
  stream_interrupted: { severity: 'warning', icon: 'debug-disconnect' },
  keychain_unavailable: { severity: 'error', icon: 'key' },
  budget_exceeded: { severity: 'warning', icon: 'credit-card' },
  admin_key_required: { severity: 'warning', icon: 'organization' },
};

/** What a guidance button does, after validation. */
export type ActionTarget =
  | { type: 'url'; title: string; url: string }
  | { type: 'command'; title: string; command: string; args?: string[] };

/** Card shown in the conversation (also sent to the webview, so plain JSON). */
export interface GuidanceCard {
  kind: GuidanceKind;
  severity: Severity;
  title: string;
  detail: string;
  actions: ActionTarget[];
  /** Epoch ms until which the provider asked us to wait (countdown), when it said. */
  retryAt: number | null;
  requestId: string | null;
  providerMessage: string | null;
}

export interface NotificationSpec {
  severity: Severity;
  message: string;
  buttons: ActionTarget[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

const KIND_SET: ReadonlySet<string> = new Set(GUIDANCE_KINDS);

/** A well-formed Guidance object (what `error.data` of a -32001 error carries). */
export function isGuidance(value: unknown): value is Guidance {
  return (
    isRecord(value) &&
    typeof value.kind === 'string' &&
    KIND_SET.has(value.kind) &&
    typeof value.title === 'string' &&
    typeof value.detail === 'string' &&
    Array.isArray(value.actions)
  );
}

function errorCode(err: unknown): number | undefined {
  return isRecord(err) && typeof err.code === 'number' ? err.code : undefined;
}

/** The guidance of a failed request, if the server sent one (-32001 with a Guidance in `data`). */
export function guidanceOf(err: unknown): Guidance | undefined {
  if (errorCode(err) !== ErrorCode.guidance || !isRecord(err)) return undefined;
  return isGuidance(err.data) ? err.data : undefined;
}

/** A request the server refused for its params (-32602): the message names the field. */
export function isInvalidParams(err: unknown): boolean {
  return errorCode(err) === ErrorCode.invalidParams;
}

/** A request ended by our own cancel (Stop): -32800. */
export function isCancelled(err: unknown): boolean {
  return errorCode(err) === ErrorCode.requestCancelled;
}

/** The one-line message of any error, for people (never includes request params). */
export function errorMessage(err: unknown): string {
  if (isRecord(err) && typeof err.message === 'string' && err.message) return err.message;
  return String(err);
}

const ALLOWED_COMMANDS: ReadonlySet<string> = new Set(GUIDANCE_COMMANDS);

/**
 * Validates a guidance action: URLs must be https (or http to loopback), commands must be one
 * of ours. Anything else is dropped rather than offered as a button.
 */
export function actionTarget(action: GuidanceAction | unknown): ActionTarget | undefined {
  if (!isRecord(action) || typeof action.title !== 'string' || !action.title) return undefined;
  if (typeof action.url === 'string') {
    return isSafeUrl(action.url) ? { type: 'url', title: action.title, url: action.url } : undefined;
  }
  if (typeof action.command === 'string' && ALLOWED_COMMANDS.has(action.command)) {
    const args = commandArguments(action.arguments);
    return args
      ? { type: 'command', title: action.title, command: action.command, args }
      : { type: 'command', title: action.title, command: action.command };
  }
  return undefined;
}

/** Provider ids only: a few short plain identifiers, or nothing (the button still works). */
function commandArguments(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > 4) return undefined;
  const ok = value.every((v) => typeof v === 'string' && /^[a-z0-9][a-z0-9._-]{0,63}$/i.test(v));
  return ok ? (value as string[]) : undefined;
}

/** https anywhere, http only to loopback hosts. */
export function isSafeUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === 'https:') return true;
  if (parsed.protocol !== 'http:') return false;
  const host = parsed.hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function actionsOf(g: Guidance): ActionTarget[] {
  return g.actions.map(actionTarget).filter((a): a is ActionTarget => a !== undefined);
}

/** The error notification for a guidance: title and detail, with its action buttons. */
export function notificationFor(g: Guidance): NotificationSpec {
  const style = KIND_STYLE[g.kind];
  const detail = g.detail.trim();
  const message = detail && detail !== g.title ? `${g.title}: ${detail}` : g.title;
  return {
    severity: style.severity === 'info' ? 'info' : 'error',
    message,
    buttons: actionsOf(g),
  };
}

/** The card shown in the conversation. `now` is injected so tests are deterministic. */
export function cardFor(g: Guidance, now: number): GuidanceCard {
  return {
    kind: g.kind,
    severity: KIND_STYLE[g.kind].severity,
    title: g.title,
    detail: g.detail,
    actions: actionsOf(g),
    retryAt: g.retryAfterMs !== null && g.retryAfterMs > 0 ? now + g.retryAfterMs : null,
    requestId: g.requestId,
    providerMessage: g.providerMessage,
  };
}

/** A card for a failure that carries no guidance (invalid params, the server went away). */
export function plainCard(title: string, detail: string): GuidanceCard {
  return {
    kind: 'stream_interrupted',
    severity: 'warning',
    title,
    detail,
    actions: [{ type: 'command', title: 'Show Logs', command: 'sidekick.showLogs' }],
    retryAt: null,
    requestId: null,
    providerMessage: null,
  };
}

/** The UI a guidance notification needs; `vscode.window` in the extension, fakes in tests. */
export interface NotifyUi {
  show(severity: Severity, message: string, buttons: string[]): PromiseLike<string | undefined>;
}

/** What `runAction` needs to act on a chosen button. */
export interface ActionRunner {
  openUrl(url: string): PromiseLike<unknown>;
  runCommand(command: string, ...args: string[]): PromiseLike<unknown>;
}

/** Shows the notification and returns the action the user chose (not yet run). */
export async function showGuidance(
  g: Guidance,
  ui: NotifyUi,
  extraButtons: string[] = [],
): Promise<ActionTarget | string | undefined> {
  const spec = notificationFor(g);
  const titles = spec.buttons.map((b) => b.title);
  const chosen = await ui.show(spec.severity, spec.message, [...titles, ...extraButtons]);
  if (chosen === undefined) return undefined;
  return spec.buttons.find((b) => b.title === chosen) ?? chosen;
}

/** Runs a validated action. */
export async function runAction(target: ActionTarget, runner: ActionRunner): Promise<void> {
  if (target.type === 'url') {
    if (isSafeUrl(target.url)) await runner.openUrl(target.url);
  } else if (ALLOWED_COMMANDS.has(target.command)) {
    await runner.runCommand(target.command, ...(target.args ?? []));
  }
}
