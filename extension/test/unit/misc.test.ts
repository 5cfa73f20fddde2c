import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentSecurityPolicy, makeNonce, webviewHtml } from '../../src/chat/html';
import { parseFromWebview } from '../../src/chat/messages';
import { insertionText, languageForFence } from '../../src/chat/prompt';
import { initializationOptions, serverSettings, settingsQuery } from '../../src/settings';
import { usageLine, usd } from '../../src/chat/usage';
import { spendView, thisMonth } from '../../src/usage/spend';
import { matchesFilter, parseFromUsage } from '../../src/usage/messages';
import type { RequestLogEntry, SpendResult, Usage } from '../../src/protocol';
import { serverLogLevel } from '../../src/serverLog';

describe('settings', () => {
  const values: Record<string, unknown> = {
    'server.path': '/opt/sidekick-server',
    'retry.maxAttempts': 5,
    'retry.maxWaitMs': 1000,
    requestTimeoutMs: 2000,
    idleTimeoutMs: 3000,
    deltaIntervalMs: 10,
  };
  it('nests the sidecar settings as the server reads them, without the server path', () => {
    assert.deepEqual(serverSettings((k) => values[k]), {
      retry: { maxAttempts: 5, maxWaitMs: 1000 },
      requestTimeoutMs: 2000,
      idleTimeoutMs: 3000,
      deltaIntervalMs: 10,
    });
  });
  it('adds clientSecretStorage to initializationOptions', () => {
    assert.deepEqual(initializationOptions(() => undefined), { clientSecretStorage: true });
    assert.equal(initializationOptions((k) => values[k]).clientSecretStorage, true);
  });
  it('passes Anthropic\'s max tokens, and null to take it back to the per-model default', () => {
    assert.deepEqual(serverSettings((k) => (k === 'anthropic.maxTokens' ? 2048 : undefined)), {
      anthropic: { maxTokens: 2048 },
    });
    assert.deepEqual(serverSettings((k) => (k === 'anthropic.maxTokens' ? null : undefined)), {
      anthropic: { maxTokens: null },
    });
  });
  it('skips wrong-typed values (the server would warn and use its default anyway)', () => {
    assert.deepEqual(serverSettings((k) => (k === 'deltaIntervalMs' ? 'fast' : undefined)), {});
  });
});

describe('webview messages', () => {
  it('accepts well-formed messages only', () => {
    assert.deepEqual(parseFromWebview({ type: 'send', text: 'hi' }), { type: 'send', text: 'hi' });
    assert.deepEqual(parseFromWebview({ type: 'stop', extra: 1 }), { type: 'stop' });
    assert.deepEqual(parseFromWebview({ type: 'runCommand', command: 'sidekick.newChat' }), {
      type: 'runCommand',
      command: 'sidekick.newChat',
    });
    assert.deepEqual(
      parseFromWebview({ type: 'runCommand', command: 'sidekick.selectYourAI', args: ['openai'], id: 'a1' }),
      { type: 'runCommand', command: 'sidekick.selectYourAI', args: ['openai'], id: 'a1' },
    );
    assert.deepEqual(parseFromWebview({ type: 'runCommand', command: 'x', args: [{}], id: 3 }), { type: 'runCommand', command: 'x' });
    assert.deepEqual(parseFromWebview({ type: 'retry', id: 'a1' }), { type: 'retry', id: 'a1' });
    assert.equal(parseFromWebview({ type: 'retry' }), undefined);
    assert.deepEqual(parseFromWebview({ type: 'insert', text: 'x', language: 'ts' }), { type: 'insert', text: 'x', language: 'ts' });
    assert.deepEqual(parseFromWebview({ type: 'insert', text: 'x', language: 'a b"<' }), { type: 'insert', text: 'x' });
    assert.equal(parseFromWebview({ type: 'send', text: 3 }), undefined);
    assert.equal(parseFromWebview({ type: 'eval', code: '1' }), undefined);
    assert.equal(parseFromWebview('send'), undefined);
    assert.equal(parseFromWebview(null), undefined);
  });
});

describe('webview html', () => {
  it('has a strict CSP with a nonce and no remote sources', () => {
    const csp = contentSecurityPolicy('https://file+.vscode-resource.vscode-cdn.net', 'N0NCE');
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-N0NCE'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    const html = webviewHtml({ cspSource: 'vscode-resource:', nonce: 'N0NCE', scriptUri: 's.js', styleUri: 's.css' });
    assert.match(html, /<script nonce="N0NCE" src="s.js"><\/script>/);
    assert.match(html, /http-equiv="Content-Security-Policy"/);
  });
  it('makes 32-character alphanumeric nonces', () => {
    const nonce = makeNonce((n) => Uint8Array.from({ length: n }, (_, i) => i * 7));
    assert.match(nonce, /^[A-Za-z0-9]{32}$/);
  });
});

describe('server log', () => {
  it('keeps the level of each sidecar log line', () => {
    assert.equal(serverLogLevel('2026-11-22T18:11:35.879149Z  INFO sidekick-server 0.1.0 starting'), 'info');
    assert.equal(serverLogLevel('2026-11-22T18:11:35Z  WARN openai: invalid_key (HTTP Some(401))'), 'warn');
    assert.equal(serverLogLevel('2026-11-22T18:11:35Z DEBUG reading'), 'debug');
    assert.equal(serverLogLevel('2026-11-22T18:11:35Z ERROR reading stdin'), 'error');
    assert.equal(serverLogLevel("thread 'main' panicked at src/main.rs"), 'error');
  });
});

describe('insert at cursor', () => {
  it('gives a block its own line when code follows the cursor', () => {
    assert.equal(insertionText('print(1)\n', '# existing'), 'print(1)\n');
    assert.equal(insertionText('print(1)', '  x = 2'), 'print(1)\n');
  });
  it('inserts the block as it is at the end of a line', () => {
    assert.equal(insertionText('print(1)\n\n', ''), 'print(1)');
    assert.equal(insertionText('a\nb', '   '), 'a\nb');
  });
});

describe('a code block inserted with no editor open', () => {
  const known = ['typescript', 'python', 'shellscript', 'rust', 'plaintext', 'go', 'csharp'];
  it('opens in the language of its fence', () => {
    assert.equal(languageForFence('ts', known), 'typescript');
    assert.equal(languageForFence('Python', known), 'python');
    assert.equal(languageForFence('bash', known), 'shellscript');
    assert.equal(languageForFence('rust', known), 'rust');
    assert.equal(languageForFence('c#', known), 'csharp');
  });
  it('falls back to plain text for no fence language or one the editor does not know', () => {
    assert.equal(languageForFence(undefined, known), 'plaintext');
    assert.equal(languageForFence('', known), 'plaintext');
    assert.equal(languageForFence('brainfuck', known), 'plaintext');
  });
});

describe('the ledger in the extension', () => {
  const u = (extra: Partial<Usage> = {}): Usage => ({
    promptTokens: 1200,
    completionTokens: 340,
    totalTokens: 1540,
    cachedInputTokens: null,
    cacheWriteTokens: null,
    reasoningTokens: null,
    ...extra,
  });

  it('puts tokens and cost under an answer, the prices in the hover', () => {
    const line = usageLine(u({ costUsd: 0.000384, price: { inputPerMtok: 0.15, outputPerMtok: 0.6 } }));
    assert.equal(line?.text, '1,200 in · 340 out · $0.0004');
    assert.match(line?.title ?? '', /\$0\.15 per million input tokens and \$0\.6 per million output/);
    assert.equal(usageLine(u({ cachedInputTokens: 1000, reasoningTokens: 200, costUsd: 1.5 }))?.text, '1,200 in (1,000 cached) · 340 out (200 reasoning) · $1.50');
    const unpriced = usageLine(u());
    assert.equal(unpriced?.text, '1,200 in · 340 out · unpriced');
    assert.match(unpriced?.title ?? '', /No price is known/);
    assert.equal(usageLine(null), undefined);
    assert.equal(usd(0.00001), '<$0.0001');
  });

  it('shows the month against the budget, warning past warnPercent', () => {
    const s = (total: number, budgetUsd: number | null, unpricedCalls = 0): SpendResult => ({
      currency: 'usd', total, unpricedCalls, groups: [], budgetUsd, warnPercent: 80,
    });
    assert.deepEqual(
      { ...spendView(s(3.42, 20)), tooltip: '' },
      { text: '$(credit-card) $3.42 / $20', tooltip: '', warn: false, hidden: false },
    );
    assert.equal(spendView(s(16, 20)).warn, true);
    assert.match(spendView(s(21, 20)).tooltip, /paused until the budget is raised/);
    assert.equal(spendView(s(0, null)).hidden, true, 'nothing to say without a budget or spend');
    assert.match(spendView(s(1, null, 2)).tooltip, /2 answers of unknown cost \(no price, or stopped before the usage came\) are not counted/);
    assert.deepEqual(thisMonth(new Date(2026, 11, 3, 10)), { from: '2026-12-01', to: '2026-12-03', groupBy: 'day' });
  });

  it('sends the budget, retention and price file settings; null takes a budget back', () => {
    const values: Record<string, unknown> = {
      'budget.monthlyUsd': 20,
      'budget.warnPercent': 75,
      'ledger.retentionDays': 30,
      'prices.path': '  ',
    };
    assert.deepEqual(serverSettings((k) => values[k]), {
      budget: { monthlyUsd: 20, warnPercent: 75 },
      ledger: { retentionDays: 30 },
      prices: { path: null },
    });
    assert.deepEqual(serverSettings((k) => (k === 'budget.monthlyUsd' ? null : undefined)), { budget: { monthlyUsd: null } });
    assert.equal(settingsQuery('budget'), 'sidekick.budget');
    assert.equal(settingsQuery('x y'), '@ext:sidekick.sidekick');
    assert.equal(settingsQuery(undefined), '@ext:sidekick.sidekick');
  });

  it('trusts nothing from the usage view, and filters live rows', () => {
    assert.deepEqual(parseFromUsage({ type: 'filter', filter: { provider: ' openai ', outcome: 'failed', model: 3 } }), {
      type: 'filter',
      filter: { provider: 'openai', outcome: 'failed' },
    });
    assert.equal(parseFromUsage({ type: 'filter', filter: { outcome: 'drop table' } })?.type, 'filter');
    assert.deepEqual(parseFromUsage({ type: 'filter', filter: { outcome: 'drop table' } }), { type: 'filter', filter: {} });
    assert.equal(parseFromUsage({ type: 'more', before: 1.5 }), undefined);
    assert.equal(parseFromUsage({ type: 'copy', text: 'x'.repeat(600) }), undefined);
    assert.equal(parseFromUsage({ type: 'eval' }), undefined);
    const entry = { provider: 'openai', model: 'gpt-4o', outcome: 'ok' } as RequestLogEntry;
    assert.ok(matchesFilter(entry, {}));
    assert.ok(matchesFilter(entry, { provider: 'openai', outcome: 'ok' }));
    assert.ok(!matchesFilter(entry, { model: 'gpt-5' }));
    const dated = { ...entry, model: 'gpt-4o-mini-2024-07-18' };
    assert.ok(matchesFilter(dated, { model: 'gpt-4o-mini' }), 'the asked model finds its dated answer');
    assert.ok(!matchesFilter(dated, { model: 'gpt-4o' }), 'but not another model that shares its start');
  });
});
