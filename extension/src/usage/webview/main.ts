// The usage view (browser side): this month's spend against the budget, by day and by model,
// then the request log with filters, pages and live rows. Renders what the extension sends;
// every text goes in with textContent (model ids and request ids come from providers).

import { usd } from '../../chat/usage';
import { uncountedNote } from '../spend';
import type { RequestLogEntry, SpendResult } from '../../protocol';
import type { GuidanceKind } from '../../protocolOutcome';
import { matchesFilter, type FromUsage, type LogFilter, type ToUsage } from '../messages';
import { el } from '../../chat/webview/dom';

interface VsCodeApi {
  postMessage(message: FromUsage): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const post = (m: FromUsage) => vscode.postMessage(m);

/** What each failure kind means and what to do about it: a failed row's guidance, opened from its kind. */
const KIND_HINT: Record<GuidanceKind, string> = {
  not_connected: 'No provider was chosen or connected. Run “Sidekick: Select Your AI”.',
  invalid_key: 'The provider refused the API key. Enter it again (“Sidekick: Select Your AI”), or create a new one on the provider’s keys page.',
  organization_mismatch: 'The Organization ID does not match the key. Clear it, or enter the organization the key belongs to.',
  permission_denied: 'The key has no access to this model or request. Check the key’s permissions and project on the provider’s site.',
  region_unsupported: 'The provider does not serve the region this request came from.',
  model_not_found: 'The model (for Azure, the deployment) does not exist or the key cannot use it. Pick another with “Sidekick: Select Model”.',
  rate_limited: 'Too many requests or tokens per minute. Sidekick waits and retries on its own; if it keeps happening, slow down or raise the limit.',
  request_too_large: 'The request was larger than the provider accepts. Attach less context or shorten the question.',
  quota_exceeded: 'The account has no credits left or reached its spending limit. Add credits or raise the limit on the provider’s billing page.',
  overloaded: 'The provider was overloaded (retried). Try again in a moment.',
  server_error: 'The provider had a server error (retried). Try again; its status page says whether it is down.',
  context_length_exceeded: 'The conversation did not fit the model’s context window. Drop the oldest messages or start a new chat.',
  content_filtered: 'The provider’s content filter blocked the question or the answer. Rephrase it.',
  bad_request: 'The provider refused the request as invalid. “Show Logs” has its own words.',
  network: 'The provider could not be reached. Check the network, proxy and endpoint.',
  timeout: 'The provider did not answer in time. Try again, or raise the timeout in the settings.',
  stream_interrupted: 'The answer was cut off while streaming; what arrived was kept. Try again.',
  keychain_unavailable: 'No keychain could store or read the key.',
  budget_exceeded: 'This month’s budget was reached, so the question was not sent. Raise the budget in the settings.',
  admin_key_required: 'The organization’s usage and costs need an Admin API key, not a project key.',
};
const hint = (kind: string): string => (KIND_HINT as Record<string, string | undefined>)[kind] ?? `The call failed (${kind}).`;

// ---- layout ----------------------------------------------------------------------------------

const summary = el('p', { className: 'summary', testId: 'spend-summary' });
const byDay = el('table', { className: 'grid', testId: 'spend-by-day' });
const byModel = el('table', { className: 'grid', testId: 'spend-by-model' });
const spendSection = el(
  'section',
  { className: 'spend' },
  el('h2', { text: 'This month' }),
  summary,
  el('div', { className: 'columns' }, el('div', {}, el('h3', { text: 'By day' }), byDay), el('div', {}, el('h3', { text: 'By model' }), byModel)),
);

const provider = el('input', { testId: 'filter-provider' });
provider.placeholder = 'provider';
const model = el('input', { testId: 'filter-model' });
model.placeholder = 'model';
const outcome = el('select', { testId: 'filter-outcome' });
for (const [value, label] of [['', 'any outcome'], ['ok', 'ok'], ['failed', 'failed'], ['cancelled', 'cancelled']]) {
  const o = el('option', { text: label });
  o.value = value!;
  outcome.append(o);
}
const filters = el('form', { className: 'filters' }, provider, model, outcome);
const table = el('table', { className: 'grid log', testId: 'request-log' });
const more = el('button', { className: 'secondary', testId: 'log-more', text: 'Older calls' });
const status = el('p', { className: 'status', testId: 'usage-status' });
const logSection = el('section', { className: 'log-section' }, el('h2', { text: 'Request log' }), filters, table, more, status);
document.body.append(spendSection, logSection);

// ---- state -----------------------------------------------------------------------------------

let entries: RequestLogEntry[] = [];
let nextBefore: number | null = null;
let filter: LogFilter = {};

const HEAD = ['Time', 'Provider', 'Model', 'Call', 'Outcome', 'HTTP', 'Latency', 'First token', 'Tokens in/out', 'Cost', 'Request id'];

function time(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const ms = (v: number | null) => (v === null ? '' : v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${v} ms`);
const num = (v: number | null) => (v === null ? '' : v.toLocaleString('en-US'));

function row(e: RequestLogEntry): HTMLTableRowElement {
  const tr = el('tr', { testId: 'log-row' });
  tr.dataset.id = String(e.id);
  tr.dataset.outcome = e.outcome;
  const call = e.operation === 'chat' && e.attempt && e.attempt > 1 ? `chat (try ${e.attempt})` : e.operation;
  const outcomeCell = el('td', { className: `outcome-${e.outcome}` });
  if (e.guidanceKind) {
    // The kind opens its guidance in a row under this one (the same text is the hover).
    const open = el('button', { className: 'kind', testId: 'log-kind', text: e.outcome === 'failed' ? e.guidanceKind : e.outcome, title: hint(e.guidanceKind) });
    open.dataset.kind = e.guidanceKind;
    open.setAttribute('aria-expanded', 'false');
    outcomeCell.append(open);
    outcomeCell.title = hint(e.guidanceKind);
  } else {
    outcomeCell.textContent = e.outcome;
  }
  const tokens = e.inputTokens === null && e.outputTokens === null ? '' : `${num(e.inputTokens)} / ${num(e.outputTokens)}`;
  const cost = e.costUsd !== null ? usd(e.costUsd) : e.outcome === 'ok' && e.operation === 'chat' ? 'unpriced' : '';
  const idCell = el('td', { className: 'request-id' });
  if (e.requestId) {
    const copy = el('button', { className: 'copy', testId: 'copy-request-id', text: 'Copy' });
    copy.dataset.copy = e.requestId;
    copy.title = `Copy ${e.requestId}`;
    idCell.append(el('span', { text: e.requestId }), copy);
  }
  tr.append(
    el('td', { text: time(e.startedAt) }),
    el('td', { text: e.provider }),
    el('td', { text: e.model ?? '' }),
    el('td', { text: call }),
    outcomeCell,
    el('td', { text: e.httpStatus === null ? '' : String(e.httpStatus) }),
    el('td', { text: ms(e.durationMs) }),
    el('td', { text: ms(e.firstTokenMs) }),
    el('td', { text: tokens }),
    el('td', { text: cost }),
    idCell,
  );
  return tr;
}

function renderLog(): void {
  const head = el('tr', {}, ...HEAD.map((h) => el('th', { text: h })));
  table.replaceChildren(el('thead', {}, head), el('tbody', {}, ...entries.map(row)));
  more.hidden = nextBefore === null;
  status.textContent = entries.length ? '' : 'No calls recorded yet.';
}

function spendTable(target: HTMLTableElement, s: SpendResult, label: string): void {
  const head = el('tr', {}, ...[label, 'Cost', 'Tokens in', 'Tokens out', 'Calls'].map((h) => el('th', { text: h })));
  const rows = s.groups.map((g) =>
    el('tr', {}, ...[g.key || '(none)', usd(g.costUsd), num(g.inputTokens), num(g.outputTokens), num(g.calls)].map((t) => el('td', { text: t }))),
  );
  target.replaceChildren(el('thead', {}, head), el('tbody', {}, ...rows));
}

function renderSpend(day: SpendResult, byModelSpend: SpendResult): void {
  const budget = day.budgetUsd;
  const unpriced = uncountedNote(day.unpricedCalls);
  summary.textContent =
    budget === null
      ? `${usd(day.total)} so far this month (no budget set).${unpriced}`
      : `${usd(day.total)} of your $${budget} monthly budget (${Math.floor((day.total / Math.max(budget, 1e-9)) * 100)}%).${unpriced}`;
  summary.dataset.warn = String(budget !== null && day.total >= (budget * day.warnPercent) / 100);
  spendTable(byDay, day, 'Day');
  spendTable(byModel, byModelSpend, 'Model');
}

window.addEventListener('message', (event: MessageEvent<ToUsage>) => {
  const m = event.data;
  if (!m || typeof m !== 'object') return;
  switch (m.type) {
    case 'data':
      entries = m.entries;
      nextBefore = m.nextBefore;
      filter = m.filter;
      // After a reload the view starts empty: show the filter the log is under.
      provider.value = filter.provider ?? '';
      model.value = filter.model ?? '';
      outcome.value = filter.outcome ?? '';
      renderSpend(m.byDay, m.byModel);
      renderLog();
      (m.section === 'spend' ? spendSection : logSection).scrollIntoView();
      break;
    case 'more':
      entries = [...entries, ...m.entries];
      nextBefore = m.nextBefore;
      renderLog();
      break;
    case 'spend':
      renderSpend(m.byDay, m.byModel);
      break;
    case 'logged':
      if (matchesFilter(m.entry, filter) && !entries.some((e) => e.id === m.entry.id)) {
        entries = [m.entry, ...entries];
        renderLog();
      }
      break;
    case 'error':
      status.textContent = m.message;
      break;
  }
});

function sendFilter(): void {
  const f: LogFilter = {};
  if (provider.value.trim()) f.provider = provider.value.trim();
  if (model.value.trim()) f.model = model.value.trim();
  if (outcome.value) f.outcome = outcome.value as LogFilter['outcome'];
  post({ type: 'filter', filter: f });
}

filters.addEventListener('submit', (e) => {
  e.preventDefault();
  sendFilter();
});
outcome.addEventListener('change', sendFilter);
provider.addEventListener('change', sendFilter);
model.addEventListener('change', sendFilter);
more.addEventListener('click', () => {
  if (nextBefore !== null) post({ type: 'more', before: nextBefore });
});
table.addEventListener('click', (e) => {
  const target = e.target instanceof Element ? e.target : null;
  const b = target?.closest<HTMLElement>('[data-copy]');
  if (b?.dataset.copy) post({ type: 'copy', text: b.dataset.copy });
  const kind = target?.closest<HTMLElement>('button[data-kind]');
  if (kind?.dataset.kind) toggleGuidance(kind, kind.dataset.kind);
});

/** Opens or closes a failed row's guidance, in a full-width row right under it. */
function toggleGuidance(button: HTMLElement, kind: string): void {
  const tr = button.closest('tr');
  if (!tr) return;
  const next = tr.nextElementSibling;
  if (next instanceof HTMLTableRowElement && next.dataset.guidanceFor === tr.dataset.id) {
    next.remove();
    button.setAttribute('aria-expanded', 'false');
    return;
  }
  const cell = el('td', { text: hint(kind) });
  cell.colSpan = HEAD.length;
  const detail = el('tr', { className: 'guidance', testId: 'log-guidance' }, cell);
  detail.dataset.guidanceFor = tr.dataset.id;
  tr.after(detail);
  button.setAttribute('aria-expanded', 'true');
}

post({ type: 'ready' });
