// Sidekick: Usage and Costs (browser side). The organization's costs for a range of UTC days:
// the chart, a text summary for screen readers, the totals by group, token usage by model,
// filters and Export CSV. Renders what the extension sends; every provider text goes in with
// textContent. With no admin key it says what one is and offers Connect organization.

import type uPlot from 'uplot';
import { usd } from '../../chat/usage';
import { el } from '../../chat/webview/dom';
import type { GuidanceCard } from '../../guidance';
import type { CostsGroupBy, OrgCostsResult, OrgUsageResult } from '../../protocol';
import { costsCsv } from '../csv';
import type { CostsQuery, FromCosts, ToCosts } from '../messages';
import { drawChart, groupLabel } from './chart';

interface VsCodeApi {
  postMessage(message: FromCosts): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const post = (m: FromCosts) => vscode.postMessage(m);

// ---- dates (UTC, as the organization's buckets are) ------------------------------------------

const iso = (d: Date) => d.toISOString().slice(0, 10);
function utcToday(): Date {
  const n = new Date();
  return new Date(Date.UTC(n.getUTCFullYear(), n.getUTCMonth(), n.getUTCDate()));
}
function addDays(d: Date, days: number): Date {
  return new Date(d.getTime() + days * 86_400_000);
}
export const PRESETS: Record<string, () => [string, string]> = {
  thisMonth: () => {
    const t = utcToday();
    return [iso(new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), 1))), iso(t)];
  },
  lastMonth: () => {
    const t = utcToday();
    return [iso(new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() - 1, 1))), iso(new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), 0)))];
  },
  last30: () => [iso(addDays(utcToday(), -29)), iso(utcToday())],
  last90: () => [iso(addDays(utcToday(), -89)), iso(utcToday())],
};

// ---- layout ----------------------------------------------------------------------------------

function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  const l = el('label', { className: 'field' }, el('span', { text }), control);
  return l;
}

const noKey = el(
  'section',
  { className: 'no-key', testId: 'no-key' },
  el('h2', { text: 'Connect your OpenAI organization' }),
  el('p', {
    text:
      'This view reads the whole organization’s bill — every project, key and line item — from OpenAI’s Usage and Costs APIs. ' +
      'They need an Admin API key (sk-admin-…), which an organization owner creates on the admin keys page; a read-only one is enough. ' +
      'Sidekick keeps it in your OS keychain and uses it only to read usage and costs, never for chat. A project key cannot read them.',
  }),
);
const connectButton = el('button', { text: 'Connect organization', testId: 'connect-organization', className: 'primary' });
connectButton.addEventListener('click', () => post({ type: 'connect' }));
noKey.append(connectButton);
const unsupported = el('p', { className: 'status', text: 'Organization costs need the Sidekick server with organization support (OpenAI).' });

const from = el('input', { testId: 'from' });
from.type = 'date';
const to = el('input', { testId: 'to' });
to.type = 'date';
const preset = el('select', { testId: 'preset' });
for (const [value, label] of [['', 'Custom range'], ['thisMonth', 'This month'], ['lastMonth', 'Last month'], ['last30', 'Last 30 days'], ['last90', 'Last 90 days']]) {
  const o = el('option', { text: label! });
  o.value = value!;
  preset.append(o);
}
const groupBy = el('select', { testId: 'group-by' });
for (const [value, label] of [['project', 'Project'], ['lineItem', 'Line item']]) {
  const o = el('option', { text: label! });
  o.value = value!;
  groupBy.append(o);
}
const projectFilter = el('select', { testId: 'filter-project' });
projectFilter.multiple = true;
const itemFilter = el('select', { testId: 'filter-line-item' });
itemFilter.multiple = true;
const modelFilter = el('select', { testId: 'filter-model' });
modelFilter.multiple = true;
const refresh = el('button', { text: 'Refresh', testId: 'refresh' });
const exportCsv = el('button', { text: 'Export CSV', testId: 'export-csv' });
const cancel = el('button', { text: 'Cancel', testId: 'cancel' });
cancel.hidden = true;
const keyLine = el('span', { className: 'status', testId: 'key-line' });

const controls = el(
  'section',
  { className: 'controls', testId: 'controls' },
  labelled('Range', preset),
  labelled('From', from),
  labelled('To', to),
  labelled('Group by', groupBy),
  labelled('Projects', projectFilter),
  labelled('Line items', itemFilter),
  labelled('Models (usage)', modelFilter),
  el('div', { className: 'buttons' }, refresh, exportCsv, cancel),
);
const progress = el('p', { className: 'status', testId: 'progress' });
progress.setAttribute('role', 'status');
const errorBox = el('div', { className: 'error', testId: 'error' });
const summary = el('p', { className: 'summary', testId: 'summary' });
summary.setAttribute('aria-live', 'polite');
const chart = el('div', { className: 'chart', testId: 'chart' });
chart.setAttribute('role', 'img');
const totals = el('table', { className: 'grid', testId: 'totals' });
const usageTable = el('table', { className: 'grid', testId: 'usage-table' });
const view = el(
  'div',
  { testId: 'costs-view' },
  el('h2', { text: 'Organization costs' }),
  keyLine,
  controls,
  progress,
  errorBox,
  summary,
  chart,
  el('div', { className: 'columns' }, el('div', {}, el('h3', { text: 'Totals' }), totals), el('div', {}, el('h3', { text: 'Tokens by model' }), usageTable)),
);
view.hidden = true;
noKey.hidden = true;
unsupported.hidden = true;
document.getElementById('app')!.append(noKey, unsupported, view);

// ---- state -----------------------------------------------------------------------------------

let last: { query: CostsQuery; costs: OrgCostsResult; usage: OrgUsageResult } | undefined;
let plot: uPlot | undefined;

function selected(s: HTMLSelectElement): string[] {
  return [...s.selectedOptions].map((o) => o.value);
}

function query(refreshNow = false): CostsQuery {
  return {
    from: from.value,
    to: to.value,
    groupBy: groupBy.value as CostsGroupBy,
    projectIds: selected(projectFilter),
    lineItems: selected(itemFilter),
    models: selected(modelFilter),
    refresh: refreshNow,
  };
}

function ask(refreshNow = false): void {
  if (!from.value || !to.value) return;
  if (from.value > to.value) {
    progress.textContent = 'The start of the range is after its end.';
    return;
  }
  post({ type: 'query', query: query(refreshNow) });
}

function fillOptions(s: HTMLSelectElement, keys: string[], chosen: string[], label: (k: string) => string): void {
  s.replaceChildren(
    ...keys.map((k) => {
      const o = el('option', { text: label(k) });
      o.value = k;
      o.selected = chosen.includes(k);
      return o;
    }),
  );
  s.size = Math.min(Math.max(keys.length, 2), 5);
}

preset.addEventListener('change', () => {
  const p = PRESETS[preset.value];
  if (!p) return;
  [from.value, to.value] = p();
  ask();
});
for (const input of [from, to]) {
  input.addEventListener('change', () => {
    preset.value = '';
    ask();
  });
}
for (const s of [groupBy, projectFilter, itemFilter, modelFilter]) s.addEventListener('change', () => ask());
refresh.addEventListener('click', () => ask(true));
cancel.addEventListener('click', () => post({ type: 'cancel' }));
exportCsv.addEventListener('click', () => {
  if (!last) return;
  post({ type: 'exportCsv', csv: costsCsv(last.costs, last.query.groupBy), fileName: `openai-costs-${last.query.from}-to-${last.query.to}.csv` });
});

function money(n: number | null | undefined): string {
  return n == null ? '—' : usd(n);
}

/** One paragraph a screen reader can read instead of the chart. */
export function describe(q: CostsQuery, c: OrgCostsResult): string {
  const parts = [`Spent ${money(c.total)} from ${q.from} to ${q.to}.`];
  if (c.forecast) {
    parts.push(
      `Forecast for the end of the month: ${money(c.forecast.monthEnd)} (between ${money(c.forecast.low)} and ${money(c.forecast.high)}), ${money(c.forecast.spentSoFar)} spent so far.`,
    );
  }
  if (c.budgetUsd != null) parts.push(`Monthly budget ${money(c.budgetUsd)}.`);
  if (c.spendLimit != null) parts.push(`Organization hard limit ${money(c.spendLimit)}.`);
  const top = c.groups[0];
  if (top) parts.push(`Largest: ${groupLabel(top.key, q.groupBy)}, ${money(top.amount)}.`);
  return parts.join(' ');
}

function renderTotals(q: CostsQuery, c: OrgCostsResult): void {
  const head = el('tr', {}, el('th', { text: q.groupBy === 'project' ? 'Project' : 'Line item' }), el('th', { text: 'Amount' }), el('th', { text: 'Share' }));
  const rows = c.groups.map((g) =>
    el(
      'tr',
      {},
      el('td', { text: groupLabel(g.key, q.groupBy) }),
      el('td', { text: usd(g.amount), className: 'num' }),
      el('td', { text: c.total > 0 ? `${((g.amount / c.total) * 100).toFixed(1)}%` : '—', className: 'num' }),
    ),
  );
  const total = el('tr', { className: 'total' }, el('td', { text: 'Total' }), el('td', { text: usd(c.total), className: 'num', testId: 'total' }), el('td', { text: '' }));
  totals.replaceChildren(head, ...rows, total);
}

function renderUsage(u: OrgUsageResult): void {
  const n = (v: number) => v.toLocaleString('en-US');
  const head = el('tr', {}, ...['Model', 'Input', 'Cached', 'Output', 'Requests'].map((t) => el('th', { text: t })));
  const row = (name: string, c: { inputTokens: number; cachedInputTokens: number; outputTokens: number; requests: number }, cls = '') =>
    el('tr', { className: cls }, el('td', { text: name }), ...[c.inputTokens, c.cachedInputTokens, c.outputTokens, c.requests].map((v) => el('td', { text: n(v), className: 'num' })));
  usageTable.replaceChildren(head, ...u.groups.map((g) => row(g.key || '(unknown)', g)), row('Total', u.totals, 'total'));
}

function render(): void {
  if (!last) return;
  const { query: q, costs: c, usage: u } = last;
  const text = describe(q, c);
  summary.textContent = text;
  chart.setAttribute('aria-label', text);
  renderTotals(q, c);
  renderUsage(u);
  fillOptions(projectFilter, c.projects, q.projectIds, (k) => groupLabel(k, 'project'));
  fillOptions(itemFilter, c.lineItems, q.lineItems, (k) => groupLabel(k, 'lineItem'));
  fillOptions(modelFilter, u.models, q.models, (k) => k || '(unknown)');
  plot = drawChart(chart, c, q.groupBy, plot);
  const age = Math.max(0, Math.round((Date.now() - c.fetchedAt) / 60_000));
  progress.textContent = `${c.requests + u.requests === 0 ? 'From the cache' : `${c.requests + u.requests} requests`}; data as of ${age < 1 ? 'now' : `${age} min ago`}.`;
}

function showError(card: GuidanceCard): void {
  const buttons = card.actions.map((a) => {
    const b = el('button', { text: a.title });
    b.addEventListener('click', () => post({ type: 'action', action: a }));
    return b;
  });
  errorBox.replaceChildren(el('strong', { text: card.title }), el('p', { text: card.detail }), el('div', { className: 'buttons' }, ...buttons));
}

/** Whether a query is running: progress that arrives after it ended is stale. */
let busy = false;
/** The admin key whose data is shown: another key may be another organization's. */
let shownKey: string | null | undefined;

function loading(on: boolean): void {
  busy = on;
  cancel.hidden = !on;
  refresh.disabled = on;
  view.setAttribute('aria-busy', String(on));
}

window.addEventListener('message', (event: MessageEvent<ToCosts>) => {
  const m = event.data;
  switch (m.type) {
    case 'state':
      unsupported.hidden = m.supported;
      noKey.hidden = !m.supported || m.adminConnected;
      view.hidden = !m.supported || !m.adminConnected;
      keyLine.textContent = m.adminConnected && m.keyHint ? `Admin key ${m.keyHint}` : '';
      if (!m.adminConnected) {
        shownKey = undefined;
        return;
      }
      if (!from.value) {
        preset.value = 'thisMonth';
        [from.value, to.value] = PRESETS.thisMonth!();
        shownKey = m.keyHint;
        ask();
      } else if (m.keyHint !== shownKey) {
        shownKey = m.keyHint;
        ask();
      }
      return;
    case 'loading':
      loading(true);
      errorBox.replaceChildren();
      progress.textContent = 'Loading…';
      return;
    case 'progress': {
      if (!busy) return;
      const p = m.progress;
      progress.textContent = p.done ? 'Fetched.' : `Fetching ${p.dataset}… page ${Math.min(p.pagesDone + 1, p.pagesTotal)} of ${p.pagesTotal}`;
      return;
    }
    case 'data':
      loading(false);
      last = { query: m.query, costs: m.costs, usage: m.usage };
      from.value = m.query.from;
      to.value = m.query.to;
      groupBy.value = m.query.groupBy;
      render();
      return;
    case 'error':
      loading(false);
      progress.textContent = '';
      showError(m.card);
      return;
    case 'cancelled':
      loading(false);
      progress.textContent = 'Cancelled; what was fetched is kept.';
      return;
  }
});

// Redraw for a theme change (VS Code swaps the body's classes) and for a new width.
new MutationObserver(() => {
  if (last) plot = drawChart(chart, last.costs, last.query.groupBy, plot);
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });
let width = 0;
new ResizeObserver(() => {
  if (!plot || chart.clientWidth === width) return;
  width = chart.clientWidth;
  plot.setSize({ width: Math.max(width, 320), height: 300 });
}).observe(chart);

post({ type: 'ready' });
