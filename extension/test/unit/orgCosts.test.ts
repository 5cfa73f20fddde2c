import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as flows from '../../src/flows';
import { amount, cell, costsCsv } from '../../src/orgCosts/csv';
import { connectOrganization, disconnectOrganization, type OrgApi } from '../../src/orgCosts/connect';
import { parseFromCosts } from '../../src/orgCosts/messages';
import type { ConnectAdminParams, OrgCostsResult } from '../../src/protocol';
import { guidance, provider, providersState, rpcError } from './fixtures';

function result(): OrgCostsResult {
  return {
    currency: 'usd',
    total: 0.30000000000000004,
    days: [
      { date: '2026-12-01', total: 0.1, groups: [{ key: 'proj_a', amount: 0.1 }] },
      { date: '2026-12-02', total: 0.2, groups: [{ key: '=HYPERLINK("x")', amount: 0.123456789 }, { key: 'a, "b"', amount: 1e-7 }] },
    ],
    groups: [],
    forecast: null,
    spendLimit: null,
    budgetUsd: null,
    fetchedAt: 0,
    requests: 0,
    projects: [],
    lineItems: [],
  };
}

describe('Export CSV', () => {
  it('keeps every digit, quotes what needs quoting and defuses formulas', () => {
    assert.equal(
      costsCsv(result(), 'project'),
      'date,project,amount_usd\r\n2026-12-01,proj_a,0.1\r\n2026-12-02,"\'=HYPERLINK(""x"")",0.123456789\r\n2026-12-02,"a, ""b""",0.0000001\r\n',
    );
    assert.match(costsCsv(result(), 'lineItem'), /^date,line_item,amount_usd\r\n/);
    assert.equal(cell('-1+2'), "'-1+2");
    assert.equal(cell('@SUM(A1)'), "'@SUM(A1)");
    assert.equal(cell('gpt-4o, input'), '"gpt-4o, input"');
    assert.equal(amount(-0.5), '-0.5', 'a negative amount (a credit) stays a number');
    assert.equal(amount(Number.NaN), '');
  });
});

describe('messages from the costs view', () => {
  it('accepts well-formed queries and drops the rest', () => {
    const q = { from: '2026-12-01', to: '2026-12-31', groupBy: 'lineItem', projectIds: ['p'], lineItems: [], models: [] };
    assert.deepEqual(parseFromCosts({ type: 'query', query: q }), { type: 'query', query: { ...q, refresh: false } });
    assert.equal(parseFromCosts({ type: 'query', query: { ...q, from: '1 Dec' } }), undefined);
    assert.equal(parseFromCosts({ type: 'query', query: { ...q, groupBy: 'model' } }), undefined);
    assert.equal(parseFromCosts({ type: 'query', query: { ...q, projectIds: [1] } }), undefined);
    assert.equal(parseFromCosts({ type: 'exportCsv', csv: 'a', fileName: '../../etc/passwd' }), undefined);
    assert.deepEqual(parseFromCosts({ type: 'exportCsv', csv: 'a', fileName: 'costs.csv' }), { type: 'exportCsv', csv: 'a', fileName: 'costs.csv' });
    assert.equal(parseFromCosts({ type: 'nope' }), undefined);
    assert.equal(parseFromCosts(null), undefined);
  });
});

type Step = { input: string | undefined } | { show: (message: string, buttons: string[]) => string | undefined } | { confirm: boolean };

class Ui implements flows.FlowUi {
  readonly log: string[] = [];
  passwords: boolean[] = [];
  constructor(private readonly steps: Step[]) {}
  private next<K extends string>(kind: K): Extract<Step, Record<K, unknown>> {
    const s = this.steps.shift();
    assert.ok(s && kind in s, `expected ${kind}, got ${JSON.stringify(s)} (${this.log.join(' | ')})`);
    return s as Extract<Step, Record<K, unknown>>;
  }
  async pick(): Promise<undefined> {
    throw new Error('no pick here');
  }
  async pickOrType(): Promise<undefined> {
    throw new Error('no pickOrType here');
  }
  async input(o: flows.InputOptions): Promise<string | undefined> {
    this.passwords.push(o.password === true);
    this.log.push(`input ${o.placeholder}`);
    return this.next('input').input;
  }
  async progress<T>(_t: string, task: () => PromiseLike<T>): Promise<T> {
    return task();
  }
  async confirm(message: string): Promise<boolean> {
    this.log.push(`confirm ${message}`);
    return this.next('confirm').confirm;
  }
  async show(severity: string, message: string, buttons: string[]): Promise<string | undefined> {
    this.log.push(`show ${severity} ${message} [${buttons.join(', ')}]`);
    return this.next('show').show(message, buttons);
  }
}

class Api implements OrgApi {
  sent: ConnectAdminParams[] = [];
  results: Array<() => unknown> = [];
  state = providersState({ providers: [provider({ supportsAdmin: true, adminConnected: true, adminKeyHint: 'sk-…ADMN', adminKeySource: 'keychain' })] });
  disconnected = 0;
  async listProviders() {
    return this.state;
  }
  async connectAdmin(p: ConnectAdminParams) {
    this.sent.push(p);
    const r = this.results.shift()?.();
    if (r instanceof Error) throw r;
    return { provider: p.provider, adminConnected: true as const, adminKeyHint: 'sk-…ADMN' };
  }
  async disconnectAdmin() {
    this.disconnected += 1;
    return { provider: 'openai', adminConnected: false };
  }
}

const runner = { openUrl: async () => undefined, runCommand: async () => undefined };

describe('Connect Organization', () => {
  it('asks again for a project key, keeps the key across a network retry, never echoes it', async () => {
    const api = new Api();
    api.results = [
      () => rpcError(-32001, 'x', guidance({ kind: 'admin_key_required', title: 'This key cannot read the organization\'s costs', actions: [] })),
      () => rpcError(-32001, 'x', guidance({ kind: 'network', title: 'Cannot reach OpenAI', actions: [] })),
    ];
    const ui = new Ui([
      { input: 'sk-proj-abc' },
      { show: () => 'Try Again' },
      { input: 'sk-admin-good' },
      { show: () => 'Try Again' },
      { show: (m) => (assert.match(m, /organization connected \(admin key sk-…ADMN\)/), undefined) },
    ]);
    assert.equal(await connectOrganization(ui, api, runner), 'connected');
    assert.deepEqual(
      api.sent.map((p) => p.adminKey),
      ['sk-proj-abc', 'sk-admin-good', 'sk-admin-good'],
    );
    assert.ok(ui.passwords.every(Boolean), 'the key box is a password box');
    assert.ok(!ui.log.some((l) => l.includes('sk-admin-good')), 'the key is never shown');
  });

  it('Escape cancels; disconnect asks first and says when the key is from the environment', async () => {
    assert.equal(await connectOrganization(new Ui([{ input: undefined }]), new Api(), runner), 'cancelled');
    const api = new Api();
    assert.equal(await disconnectOrganization(new Ui([{ confirm: true }]), api), 'disconnected');
    assert.equal(api.disconnected, 1);
    api.state.providers[0]!.adminKeySource = 'env';
    const ui = new Ui([{ show: (m) => (assert.match(m, /OPENAI_ADMIN_KEY/), undefined) }]);
    assert.equal(await disconnectOrganization(ui, api), 'nothing');
    assert.equal(api.disconnected, 1);
  });
});
