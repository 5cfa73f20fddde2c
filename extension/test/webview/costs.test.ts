import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { costsCsv } from '../../src/orgCosts/csv';
import type { CostsQuery, FromCosts, ToCosts } from '../../src/orgCosts/messages';
import type { OrgCostsResult, OrgUsageResult } from '../../src/protocol';
import { openView, startHarness, type Harness } from './harness';

const today = new Date().toISOString().slice(0, 10);
const monthStart = `${today.slice(0, 8)}01`;

function days(n: number): string[] {
  const first = Date.parse(`${monthStart}T00:00:00Z`);
  return Array.from({ length: n }, (_, i) => new Date(first + i * 86_400_000).toISOString().slice(0, 10)).filter((d) => d <= today);
}

function costs(projects: string[]): OrgCostsResult {
  const ds = days(31);
  const amountOf = (p: string, i: number) => (p === 'proj_alpha' ? 1.25 : p === '' ? 0.004 : 0.5) * (1 + (i % 3));
  const dayRows = ds.map((date, i) => {
    const groups = projects.map((key) => ({ key, amount: amountOf(key, i) }));
    return { date, total: groups.reduce((a, g) => a + g.amount, 0), groups };
  });
  const total = dayRows.reduce((a, d) => a + d.total, 0);
  const groups = projects
    .map((key) => ({ key, amount: ds.reduce((a, _d, i) => a + amountOf(key, i), 0) }))
    .sort((a, b) => b.amount - a.amount);
  const last = Date.parse(`${today}T00:00:00Z`);
  const monthEndDays = Array.from({ length: 6 }, (_, k) => new Date(last + k * 86_400_000).toISOString().slice(0, 10)).filter(
    (d) => d.slice(0, 7) === today.slice(0, 7),
  );
  return {
    currency: 'usd',
    total,
    days: dayRows,
    groups,
    forecast: {
      monthEnd: total * 1.5,
      low: total * 1.3,
      high: total * 1.7,
      method: 'theil-sen trend with weekday/weekend levels over 28 days',
      spentSoFar: total,
      days: monthEndDays.map((date, k) => ({ date, expected: total + k * 3, low: total + k * 2, high: total + k * 4 })),
    },
    spendLimit: 500,
    budgetUsd: 120,
    fetchedAt: Date.now(),
    requests: 2,
    projects: ['', 'proj_alpha', 'proj_beta', '<img src=x onerror=alert(1)>'],
    lineItems: ['gpt-4o, input', 'gpt-4o, output'],
  };
}

const usage: OrgUsageResult = {
  days: [],
  totals: { inputTokens: 12000, cachedInputTokens: 3000, outputTokens: 4000, requests: 12 },
  groups: [{ key: 'gpt-4o-2024-08-06', inputTokens: 12000, cachedInputTokens: 3000, outputTokens: 4000, requests: 12 }],
  models: ['gpt-4o-2024-08-06'],
  projects: ['proj_alpha'],
  fetchedAt: Date.now(),
  requests: 0,
};

async function posted(page: Page): Promise<FromCosts[]> {
  return (await page.evaluate(() => window.__posted)) as unknown as FromCosts[];
}

async function lastQuery(page: Page): Promise<CostsQuery> {
  const q = (await posted(page)).filter((m): m is Extract<FromCosts, { type: 'query' }> => m.type === 'query');
  assert.ok(q.length > 0, 'a query was posted');
  return q[q.length - 1]!.query;
}

/** Pixels the chart's canvas painted (alpha > 0). */
async function painted(page: Page): Promise<number> {
  return page.evaluate(() => {
    const c = document.querySelector('[data-testid="chart"] canvas') as HTMLCanvasElement | null;
    if (!c) return 0;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
    return n;
  });
}

describe('usage and costs view', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('explains the admin key and offers Connect organization when there is none', async () => {
    const v = await openView(h, '/costs');
    const { page } = v;
    await v.send({ type: 'state', supported: true, adminConnected: false, keyHint: null } satisfies ToCosts as never);
    await page.waitForSelector('[data-testid="connect-organization"]', { state: 'visible' });
    assert.match((await page.textContent('[data-testid="no-key"]')) ?? '', /organization owner.*read-only.*never for chat/s);
    assert.equal(await page.isHidden('[data-testid="costs-view"]'), true);
    await page.focus('[data-testid="connect-organization"]');
    await page.keyboard.press('Enter');
    await v.waitForPosted({ type: 'connect' } as never);
    assert.ok(!(await posted(page)).some((m) => m.type === 'query'), 'nothing is asked without a key');
    await v.close();
  });

  it('draws the month, summarises it, filters, and exports exact CSV', async () => {
    const v = await openView(h, '/costs');
    const { page } = v;
    await v.send({ type: 'state', supported: true, adminConnected: true, keyHint: 'sk-…ADMN' } satisfies ToCosts as never);
    await page.waitForFunction(() => window.__posted.some((m) => (m as { type: string }).type === 'query'));
    const first = await lastQuery(page);
    assert.deepEqual([first.from, first.to, first.groupBy], [monthStart, today, 'project'], 'this month by default');
    const all = costs(['proj_alpha', 'proj_beta', '']);
    await v.send({ type: 'data', query: first, costs: all, usage } satisfies ToCosts as never);
    await page.waitForSelector('[data-testid="chart"] canvas');
    assert.ok((await painted(page)) > 2000, 'the chart painted its bars and lines');
    const summary = (await page.textContent('[data-testid="summary"]')) ?? '';
    assert.match(summary, new RegExp(`Spent \\$[\\d,]+\\.\\d\\d from ${monthStart} to ${today}`));
    assert.match(summary, /Forecast for the end of the month: \$[\d,.]+ \(between \$[\d,.]+ and \$[\d,.]+\)/);
    assert.match(summary, /Monthly budget \$120\.00\. Organization hard limit \$500\.00\. Largest: proj_alpha/);
    assert.equal(await page.getAttribute('[data-testid="chart"]', 'aria-label'), summary, 'the chart has the summary as its label');
    const totalText = await page.textContent('[data-testid="total"]');
    assert.equal(totalText, `$${all.total.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`);
    assert.match((await page.textContent('[data-testid="totals"]')) ?? '', /\(no project\)/);
    assert.match((await page.textContent('[data-testid="usage-table"]')) ?? '', /gpt-4o-2024-08-0612,0003,0004,00012/);
    // Provider text is text: the hostile project id is an option label, not markup.
    assert.equal(await page.locator('img').count(), 0);
    assert.equal(await page.locator('[data-testid="filter-project"] option').count(), 4);

    // A project filter asks for it; the filtered answer changes the totals.
    await page.selectOption('[data-testid="filter-project"]', ['proj_beta']);
    await page.waitForFunction(() =>
      window.__posted.some((m) => (m as { type: string; query?: { projectIds: string[] } }).query?.projectIds?.join() === 'proj_beta'),
    );
    const filtered = await lastQuery(page);
    const beta = costs(['proj_beta']);
    await v.send({ type: 'data', query: filtered, costs: beta, usage } satisfies ToCosts as never);
    await page.waitForFunction(
      (want) => document.querySelector('[data-testid="total"]')?.textContent === want,
      `$${beta.total.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`,
    );
    assert.notEqual(beta.total, all.total);
    // Group by line item.
    await page.selectOption('[data-testid="group-by"]', 'lineItem');
    await page.waitForFunction(() => window.__posted.some((m) => (m as { query?: { groupBy: string } }).query?.groupBy === 'lineItem'));
    // A preset sets the range.
    await page.selectOption('[data-testid="preset"]', 'last30');
    await page.waitForFunction(() =>
      (window.__posted as unknown as { query?: { from: string; to: string } }[]).some(
        (m) => m.query !== undefined && Date.parse(m.query.to) - Date.parse(m.query.from) === 29 * 86_400_000,
      ),
    );

    // Export CSV: exactly the shown data, full precision.
    await page.click('[data-testid="export-csv"]');
    await page.waitForFunction(() => window.__posted.some((m) => (m as { type: string }).type === 'exportCsv'));
    const exported = (await posted(page)).find((m): m is Extract<FromCosts, { type: 'exportCsv' }> => m.type === 'exportCsv')!;
    assert.equal(exported.csv, costsCsv(beta, filtered.groupBy));
    assert.match(exported.fileName, new RegExp(`^openai-costs-${monthStart}-to-${today}\\.csv$`));

    // Progress, cancel, and an error with its buttons.
    await v.send({ type: 'loading', query: filtered } satisfies ToCosts as never);
    await v.send({ type: 'progress', progress: { provider: 'openai', dataset: 'costs', pagesDone: 1, pagesTotal: 3, done: false } } satisfies ToCosts as never);
    await page.waitForFunction(() => document.querySelector('[data-testid="progress"]')?.textContent === 'Fetching costs… page 2 of 3');
    await page.click('[data-testid="cancel"]');
    await v.waitForPosted({ type: 'cancel' } as never);
    await v.send({
      type: 'error',
      card: {
        kind: 'admin_key_required',
        severity: 'warning',
        title: "This key cannot read the organization's costs",
        detail: 'A project key cannot read them.',
        actions: [{ type: 'command', title: 'Connect organization', command: 'sidekick.connectOrganization' }],
        retryAt: null,
        requestId: null,
        providerMessage: null,
      },
    } satisfies ToCosts as never);
    await page.click('[data-testid="error"] button');
    await page.waitForFunction(() => window.__posted.some((m) => (m as { type: string; action?: { command?: string } }).action?.command === 'sidekick.connectOrganization'));
    assert.equal(await page.isHidden('[data-testid="cancel"]'), true, 'no cancel once it failed');

    // Readable in a light theme too: the chart is drawn again with the theme's colours.
    await page.evaluate(() => document.body.classList.add('vscode-light'));
    await page.waitForTimeout(0);
    assert.ok((await painted(page)) > 2000);
    assert.deepEqual(v.pageErrors, []);
    assert.deepEqual(await page.evaluate(() => window.__csp), [], 'no CSP violation');
    await v.close();
  });

  it('asks again for another admin key, and ignores progress that comes after the answer', async () => {
    const v = await openView(h, '/costs');
    const { page } = v;
    const queries = async () => (await posted(page)).filter((m) => m.type === 'query').length;
    await v.send({ type: 'state', supported: true, adminConnected: true, keyHint: 'sk-…ADMN' } satisfies ToCosts as never);
    await page.waitForFunction(() => window.__posted.some((m) => (m as { type: string }).type === 'query'));
    const first = await lastQuery(page);
    await v.send({ type: 'loading', query: first } satisfies ToCosts as never);
    await v.send({ type: 'data', query: first, costs: costs(['proj_alpha']), usage } satisfies ToCosts as never);
    await page.waitForSelector('[data-testid="chart"] canvas');
    const shown = await page.textContent('[data-testid="progress"]');
    // A progress notification that lost the race with the answer changes nothing.
    await v.send({ type: 'progress', progress: { provider: 'openai', dataset: 'usage', pagesDone: 0, pagesTotal: 4, done: false } } satisfies ToCosts as never);
    // The same key again (a state refresh) asks nothing; another key asks for its own data.
    await v.send({ type: 'state', supported: true, adminConnected: true, keyHint: 'sk-…ADMN' } satisfies ToCosts as never);
    assert.equal(await page.textContent('[data-testid="progress"]'), shown);
    assert.equal(await queries(), 1);
    await v.send({ type: 'state', supported: true, adminConnected: true, keyHint: 'sk-…OTHR' } satisfies ToCosts as never);
    await page.waitForFunction(() => window.__posted.filter((m) => (m as { type: string }).type === 'query').length === 2);
    assert.deepEqual(await lastQuery(page), first, 'the same range, asked again');
    assert.deepEqual(v.pageErrors, []);
    await v.close();
  });
});
