import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RequestLogEntry, SpendResult } from '../../src/protocol';
import type { ToUsage } from '../../src/usage/messages';
import { openView, startHarness, type Harness } from './harness';

function entry(id: number, extra: Partial<RequestLogEntry> = {}): RequestLogEntry {
  return {
    id,
    startedAt: Date.UTC(2026, 11, 3, 9, 0, id),
    provider: 'openai',
    host: 'api.openai.com',
    operation: 'chat',
    model: 'gpt-4o-mini-2024-07-18',
    chatId: `chat-${id}`,
    attempt: 1,
    outcome: 'ok',
    httpStatus: 200,
    guidanceKind: null,
    requestId: `req_${id}`,
    headersMs: 310,
    firstTokenMs: 420,
    durationMs: 1850,
    inputTokens: 1200,
    cachedInputTokens: null,
    outputTokens: 340,
    reasoningTokens: null,
    costUsd: 0.000384,
    ...extra,
  };
}

const spend = (groups: SpendResult['groups'], total: number): SpendResult => ({
  currency: 'usd',
  total,
  unpricedCalls: 1,
  groups,
  budgetUsd: 20,
  warnPercent: 80,
});

describe('usage view', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('shows the month against the budget, the log with failures explained, live rows and copy', async () => {
    const v = await openView(h, '/usage');
    const { page } = v;
    const data: ToUsage = {
      type: 'data',
      byDay: spend([{ key: '2026-12-03', costUsd: 17, inputTokens: 5000, outputTokens: 900, calls: 4 }], 17),
      byModel: spend([{ key: 'gpt-4o-mini-2024-07-18', costUsd: 17, inputTokens: 5000, outputTokens: 900, calls: 4 }], 17),
      entries: [
        entry(3, { outcome: 'failed', guidanceKind: 'quota_exceeded', httpStatus: 429, costUsd: null, inputTokens: null, outputTokens: null }),
        entry(2, { model: '<img src=x onerror=alert(1)>', costUsd: null }),
        entry(1, { attempt: 2 }),
      ],
      nextBefore: 1,
      filter: {},
      section: 'log',
    };
    await v.send(data as never);
    await page.waitForSelector('[data-testid="log-row"]');
    const summary = await page.textContent('[data-testid="spend-summary"]');
    assert.match(summary ?? '', /\$17\.00 of your \$20 monthly budget \(85%\)\. 1 answer of unknown cost \(no price, or stopped before the usage came\) is not counted/);
    assert.equal(await page.getAttribute('[data-testid="spend-summary"]', 'data-warn'), 'true', 'past 80%');
    assert.match((await page.textContent('[data-testid="spend-by-model"]')) ?? '', /gpt-4o-mini-2024-07-18\$17\.00/);
    const rows = page.locator('[data-testid="log-row"]');
    assert.equal(await rows.count(), 3);
    const failed = rows.nth(0);
    assert.equal(await failed.getAttribute('data-outcome'), 'failed');
    assert.match((await failed.textContent()) ?? '', /quota_exceeded429/);
    const quotaHint = 'The account has no credits left or reached its spending limit. Add credits or raise the limit on the provider’s billing page.';
    assert.equal(await failed.locator('td.outcome-failed').getAttribute('title'), quotaHint);
    // The kind opens the row's guidance under it, and closes it again.
    await failed.locator('[data-testid="log-kind"]').click();
    assert.equal(await page.locator('[data-testid="log-guidance"]').textContent(), quotaHint);
    assert.equal(await failed.locator('[data-testid="log-kind"]').getAttribute('aria-expanded'), 'true');
    await failed.locator('[data-testid="log-kind"]').click();
    assert.equal(await page.locator('[data-testid="log-guidance"]').count(), 0);
    assert.match((await rows.nth(1).textContent()) ?? '', /<img src=x onerror=alert\(1\)>.*unpriced/, 'provider text is text');
    assert.equal(await page.locator('img').count(), 0);
    assert.match((await rows.nth(2).textContent()) ?? '', /chat \(try 2\).*1\.9 s420 ms1,200 \/ 340\$0\.0004req_1/);
    // Live: a new call on top; an older page below.
    await v.send({ type: 'logged', entry: entry(4, { model: 'gpt-5' }) } as never);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="log-row"]').length === 4);
    assert.equal(await rows.nth(0).getAttribute('data-id'), '4');
    await page.click('[data-testid="log-more"]');
    await v.waitForPosted({ type: 'more', before: 1 } as never);
    await v.send({ type: 'more', entries: [entry(0)], nextBefore: null } as never);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="log-row"]').length === 5);
    assert.equal(await page.isHidden('[data-testid="log-more"]'), true, 'no older page');
    await rows.nth(1).locator('[data-testid="copy-request-id"]').click();
    await v.waitForPosted({ type: 'copy', text: 'req_3' } as never);
    // Filters go to the extension; a live row that does not match is left out.
    await page.selectOption('[data-testid="filter-outcome"]', 'failed');
    await page.waitForFunction(() =>
      (window as unknown as { __posted: { type: string; filter?: { outcome?: string } }[] }).__posted.some(
        (m) => m.type === 'filter' && m.filter?.outcome === 'failed',
      ),
    );
    await v.send({ ...data, entries: [data.entries[0]!], nextBefore: null, filter: { outcome: 'failed' } } as never);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="log-row"]').length === 1);
    await v.send({ type: 'logged', entry: entry(9) } as never);
    await v.send({ type: 'logged', entry: entry(10, { outcome: 'failed', guidanceKind: 'network' }) } as never);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="log-row"]').length === 2);
    assert.equal(await rows.nth(0).getAttribute('data-id'), '10');
    // Fresh totals after new calls; a reload under a filter shows that filter.
    await v.send({ type: 'spend', byDay: spend([], 19), byModel: spend([], 19) } as never);
    await page.waitForFunction(() => document.querySelector('[data-testid="spend-summary"]')?.textContent?.startsWith('$19.00'));
    await v.send({ ...data, filter: { provider: 'anthropic', outcome: 'cancelled' } } as never);
    await page.waitForFunction(() => (document.querySelector('[data-testid="filter-provider"]') as HTMLInputElement).value === 'anthropic');
    assert.equal(await page.inputValue('[data-testid="filter-outcome"]'), 'cancelled');
    assert.deepEqual(v.pageErrors, []);
    assert.deepEqual(await page.evaluate(() => window.__csp), [], 'no CSP violation');
    await v.close();
  });
});
