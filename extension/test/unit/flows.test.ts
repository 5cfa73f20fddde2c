import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as flows from '../../src/flows';
import * as modelList from '../../src/modelList';
import type { ConnectParams, ListModelsResult, ProvidersState } from '../../src/protocol';
import { anthropicProvider, azureProvider, guidance, provider, providersState, rpcError } from './fixtures';

type Step =
  | { pick: (labels: string[]) => string | undefined }
  | { pickOrType: (labels: string[]) => string | undefined }
  | { input: (o: flows.InputOptions) => string | undefined }
  | { show: (message: string, buttons: string[]) => string | undefined }
  | { confirm: boolean };

/** A scripted UI: each prompt takes the next step, which must be of the same kind. */
class FakeUi implements flows.FlowUi {
  readonly log: string[] = [];
  /** `sidekick.defaultModel`, by provider. */
  defaults: Record<string, string> = {};
  constructor(private readonly steps: Step[]) {}
  defaultModel(provider: string): string | undefined {
    return this.defaults[provider];
  }
  private next<K extends string>(kind: K): Extract<Step, Record<K, unknown>> {
    const step = this.steps.shift();
    assert.ok(step && kind in step, `expected a ${kind} step, got ${JSON.stringify(step)} (log: ${this.log.join(' | ')})`);
    return step as Extract<Step, Record<K, unknown>>;
  }
  async pick<T>(items: flows.PickItem<T>[], options: flows.PickOptions): Promise<T | undefined> {
    this.log.push(`pick ${options.title}`);
    const label = this.next('pick').pick(items.map((i) => i.label));
    return items.find((i) => i.label === label)?.value;
  }
  async pickOrType(items: flows.PickItem<string>[], options: flows.PickOrTypeOptions): Promise<string | undefined> {
    this.log.push(`pickOrType ${options.title}`);
    return this.next('pickOrType').pickOrType(items.map((i) => i.label));
  }
  async input(options: flows.InputOptions): Promise<string | undefined> {
    this.log.push(`input ${options.title}`);
    return this.next('input').input(options);
  }
  async progress<T>(title: string, task: () => PromiseLike<T>): Promise<T> {
    this.log.push(`progress ${title}`);
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
  done(): void {
    assert.deepEqual(this.steps, [], 'every scripted step was used');
  }
}

class FakeApi implements flows.FlowApi {
  connects: ConnectParams[] = [];
  selected: string[] = [];
  disconnected: string[] = [];
  connectResults: Array<() => unknown> = [];
  constructor(public state: ProvidersState = providersState()) {}
  async listProviders() {
    return this.state;
  }
  async connect(params: ConnectParams) {
    this.connects.push(params);
    const next = this.connectResults.shift();
    const outcome = next ? next() : undefined;
    if (outcome instanceof Error) throw outcome;
    return {
      provider: params.provider,
      connected: true,
      keyHint: 'sk-…WXYZ',
      models: [
        { id: 'gpt-5', name: null, ownedBy: 'system', created: 2, contextWindow: null },
        { id: 'gpt-4o-mini', name: null, ownedBy: 'system', created: 1, contextWindow: null },
      ],
    };
  }
  async listModels(params: { provider: string }): Promise<ListModelsResult> {
    return {
      provider: params.provider,
      models: [
        { id: 'gpt-5', name: null, ownedBy: null, created: null, contextWindow: null },
        { id: 'gpt-4o', name: null, ownedBy: null, created: null, contextWindow: null },
      ],
    };
  }
  async selectModel(params: { provider: string; model: string }) {
    this.selected.push(`${params.provider}/${params.model}`);
    return { active: params };
  }
  async disconnect(params: { provider: string }) {
    this.disconnected.push(params.provider);
    return { provider: params.provider, connected: false };
  }
}

const runner = () => {
  const done: string[] = [];
  return { done, openUrl: async (u: string) => done.push(`url ${u}`), runCommand: async (c: string) => done.push(`cmd ${c}`) };
};
const pickLabel = (needle: string) => ({ pick: (labels: string[]) => labels.find((l) => l.includes(needle)) });

describe('Select Your AI', () => {
  it('connects a provider: key → organization → connect → model', async () => {
    const keyPrompts: flows.InputOptions[] = [];
    const ui = new FakeUi([
      pickLabel('OpenAI'),
      { input: (o) => (keyPrompts.push(o), '  sk-test-1234\n') },
      { input: () => ' org-1 ' },
      pickLabel('gpt-4o-mini'),
    ]);
    const api = new FakeApi();
    assert.equal(await flows.selectYourAI(ui, api, runner()), 'selected');
    ui.done();
    assert.deepEqual(api.connects, [{ provider: 'openai', apiKey: 'sk-test-1234', organization: 'org-1' }]);
    assert.deepEqual(api.selected, ['openai/gpt-4o-mini']);
    assert.equal(keyPrompts[0]?.password, true);
    // The empty key is refused in place, by the InputBox validation.
    assert.match(keyPrompts[0]?.validate?.('   ') ?? '', /cannot be empty/);
    assert.match(keyPrompts[0]?.validate?.('sk-a b') ?? '', /space/);
    assert.equal(keyPrompts[0]?.validate?.(' sk-ok '), undefined);
    assert.ok(ui.log.includes('progress Connecting to OpenAI…'));
  });

  it("after connecting, Enter picks the settings' default model", async () => {
    const ui = new FakeUi([pickLabel('OpenAI'), { input: () => 'sk-test-1234' }, { input: () => '' }, { pick: (labels) => labels[0] }]);
    ui.defaults = { openai: 'gpt-4o-mini' };
    const api = new FakeApi();
    assert.equal(await flows.selectYourAI(ui, api, runner()), 'selected');
    ui.done();
    assert.deepEqual(api.selected, ['openai/gpt-4o-mini'], 'listed second, offered first');
  });

  it('a server that needs no key: its address first, then no key unless "I have a key"', async () => {
    let choices: string[] = [];
    const ui = new FakeUi([
      pickLabel('compatible'),
      { input: (o) => (assert.equal(o.value, 'http://localhost:11434/v1'), 'http://127.0.0.1:1234/v1') },
      { pick: (labels) => ((choices = labels), flows.WITHOUT_KEY) },
      pickLabel('gpt-5'),
    ]);
    const api = new FakeApi();
    assert.equal(await flows.selectYourAI(ui, api, runner()), 'selected');
    ui.done();
    assert.deepEqual(choices, [flows.WITHOUT_KEY, flows.HAVE_KEY], 'no key prompt unless asked for');
    assert.deepEqual(api.connects, [{ provider: 'compatible', baseUrl: 'http://127.0.0.1:1234/v1' }]);
  });

  it('"I have a key" leads to a key prompt that refuses an empty key', async () => {
    let prompt: flows.InputOptions | undefined;
    const ui = new FakeUi([
      pickLabel('compatible'),
      { input: () => 'http://127.0.0.1:1234/v1' },
      pickLabel(flows.HAVE_KEY),
      { input: (o) => ((prompt = o), ' local-secret ') },
      pickLabel('gpt-5'),
    ]);
    const api = new FakeApi();
    assert.equal(await flows.selectYourAI(ui, api, runner()), 'selected');
    ui.done();
    assert.match(prompt?.validate?.('  ') ?? '', /cannot be empty/, 'a key was promised: empty is refused');
    assert.deepEqual(api.connects, [{ provider: 'compatible', apiKey: 'local-secret', baseUrl: 'http://127.0.0.1:1234/v1' }]);
  });

  it('a provider named by a guidance button goes straight to its key prompt', async () => {
    const state = providersState({ providers: [provider(), anthropicProvider({ connected: true, keySource: 'keychain' })] });
    const ui = new FakeUi([
      { input: (o) => (assert.match(o.title, /Anthropic API key/), 'sk-ant-new') },
      pickLabel('gpt-5'),
    ]);
    const api = new FakeApi(state);
    assert.equal(await flows.selectYourAI(ui, api, runner(), 'anthropic'), 'selected');
    ui.done();
    assert.ok(!ui.log.some((l) => l.startsWith('pick Sidekick: Select Your AI')), 'no provider list');
    assert.deepEqual(api.connects.map((c) => [c.provider, c.apiKey]), [['anthropic', 'sk-ant-new']]);
    // An id the server does not know falls back to the list.
    const list = new FakeUi([{ pick: () => undefined }]);
    assert.equal(await flows.selectYourAI(list, new FakeApi(state), runner(), 'nope'), 'cancelled');
    assert.deepEqual(list.log, ['pick Sidekick: Select Your AI']);
  });

  it('the key prompt says where the key will really be kept', () => {
    assert.match(flows.keyPrompt(provider(), 'keychain').prompt, /kept in your OS keychain, never in settings/);
    const client = flows.keyPrompt(provider(), 'client').prompt;
    assert.match(client, /VS Code’s secret storage \(no OS keychain answered\)/);
    assert.doesNotMatch(client, /kept in your OS keychain/);
    assert.match(flows.keyPrompt(provider(), null).prompt, /OS keychain \(or, where none answers, VS Code’s secret storage\)/);
  });

  it('after a refused key shows the guidance and asks for the key again, same provider', async () => {
    const g = guidance();
    const ui = new FakeUi([
      pickLabel('OpenAI'),
      { input: () => 'sk-wrong' },
      { input: () => '' },
      {
        show: (message, buttons) => {
          assert.match(message, /OpenAI rejected the API key/);
          assert.deepEqual(buttons, ['Re-enter key', 'Open API keys page', 'Try Again']);
          return 'Re-enter key';
        },
      },
      { input: () => 'sk-right' },
      { input: () => '' },
      pickLabel('gpt-5'),
    ]);
    const api = new FakeApi();
    api.connectResults.push(() => rpcError(-32001, g.title, g));
    assert.equal(await flows.selectYourAI(ui, api, runner()), 'selected');
    ui.done();
    assert.deepEqual(
      api.connects.map((c) => c.apiKey),
      ['sk-wrong', 'sk-right'],
    );
    assert.equal(ui.log.filter((l) => l.startsWith('pick Sidekick: Select Your AI')).length, 1, 'no start over');
  });

  it('opens a URL action and comes back to the key prompt', async () => {
    const g = guidance();
    const ui = new FakeUi([
      pickLabel('OpenAI'),
      { input: () => 'sk-wrong' },
      { input: () => '' },
      { show: () => 'Open API keys page' },
      { input: () => 'sk-new' },
      { input: () => '' },
      { pick: () => undefined },
    ]);
    const api = new FakeApi();
    api.connectResults.push(() => rpcError(-32001, g.title, g));
    const r = runner();
    assert.equal(await flows.selectYourAI(ui, api, r), 'connected');
    ui.done();
    assert.deepEqual(r.done, ['url https://platform.openai.com/api-keys']);
  });

  it('an organization mismatch goes back to the organization, keeping the key', async () => {
    const g = guidance({
      kind: 'organization_mismatch',
      title: 'Organization mismatch',
      actions: [{ title: 'Fix Organization ID', command: 'sidekick.selectYourAI' }],
    });
    const ui = new FakeUi([
      pickLabel('OpenAI'),
      { input: () => 'sk-key' },
      { input: () => 'org-bad' },
      { show: () => 'Fix Organization ID' },
      { input: (o) => (assert.equal(o.value, 'org-bad'), 'org-good') },
      pickLabel('gpt-5'),
    ]);
    const api = new FakeApi();
    api.connectResults.push(() => rpcError(-32001, g.title, g));
    assert.equal(await flows.selectYourAI(ui, api, runner()), 'selected');
    ui.done();
    assert.deepEqual(api.connects, [
      { provider: 'openai', apiKey: 'sk-key', organization: 'org-bad' },
      { provider: 'openai', apiKey: 'sk-key', organization: 'org-good' },
    ]);
  });

  it('Try Again after invalid params (no guidance) retries; dismissing ends the flow', async () => {
    const ui = new FakeUi([
      pickLabel('OpenAI'),
      { input: () => 'sk-1' },
      { input: () => '' },
      { show: (m, b) => (assert.match(m, /apiKey is empty/), assert.deepEqual(b, ['Try Again']), 'Try Again') },
      { input: () => 'sk-2' },
      { input: () => '' },
      { show: () => undefined },
    ]);
    const api = new FakeApi();
    api.connectResults.push(
      () => rpcError(-32602, 'invalid params: apiKey is empty'),
      () => rpcError(-32602, 'invalid params: apiKey is empty'),
    );
    assert.equal(await flows.selectYourAI(ui, api, runner()), 'failed');
    ui.done();
  });

  it('runs a non-retry command action and stops', async () => {
    const g = guidance({ kind: 'network', title: 'Could not reach OpenAI', actions: [{ title: 'Show Logs', command: 'sidekick.showLogs' }] });
    const ui = new FakeUi([pickLabel('OpenAI'), { input: () => 'sk-1' }, { input: () => '' }, { show: () => 'Show Logs' }]);
    const api = new FakeApi();
    api.connectResults.push(() => rpcError(-32001, g.title, g));
    const r = runner();
    assert.equal(await flows.selectYourAI(ui, api, r), 'failed');
    assert.deepEqual(r.done, ['cmd sidekick.showLogs']);
  });

  it('a connected provider goes straight to its models, current one marked first', async () => {
    const state = providersState({ active: { provider: 'openai', model: 'gpt-4o' } });
    state.providers[0] = provider({ connected: true, keyHint: 'sk-…WXYZ', keySource: 'keychain' });
    let labels: string[] = [];
    const ui = new FakeUi([
      { pick: (l) => (assert.match(l[0] ?? '', /OpenAI/), l[0]) },
      { pick: (l) => ((labels = l), l.find((x) => x === 'gpt-5')) },
    ]);
    const api = new FakeApi(state);
    assert.equal(await flows.selectYourAI(ui, api, runner()), 'selected');
    ui.done();
    assert.equal(labels[0], '$(check) gpt-4o');
    assert.match(labels.at(-1) ?? '', /different API key/);
    assert.deepEqual(api.selected, ['openai/gpt-5']);
    assert.equal(api.connects.length, 0);
  });

  it('a connected provider can take a new key', async () => {
    const state = providersState();
    state.providers[0] = provider({ connected: true, keyHint: 'sk-…WXYZ', keySource: 'keychain' });
    const ui = new FakeUi([
      pickLabel('OpenAI'),
      pickLabel('different API key'),
      { input: () => 'sk-new' },
      { input: () => '' },
      pickLabel('gpt-5'),
    ]);
    const api = new FakeApi(state);
    assert.equal(await flows.selectYourAI(ui, api, runner()), 'selected');
    assert.equal(api.connects[0]?.apiKey, 'sk-new');
  });

  it('escape at any prompt cancels without connecting', async () => {
    const ui = new FakeUi([pickLabel('OpenAI'), { input: () => undefined }]);
    const api = new FakeApi();
    assert.equal(await flows.selectYourAI(ui, api, runner()), 'cancelled');
    assert.equal(api.connects.length, 0);
  });

  it('describes provider state: connected, key hint, key source', () => {
    const p = provider({ connected: true, keyHint: 'sk-…WXYZ', keySource: 'env' });
    assert.equal(
      flows.providerDescription(p, { provider: 'openai', model: 'gpt-5' }),
      'connected · key sk-…WXYZ · from environment · using gpt-5',
    );
    assert.equal(flows.providerDescription(provider(), null), 'not connected');
  });
});

describe('Select Model', () => {
  it('uses the active provider', async () => {
    const state = providersState({ active: { provider: 'openai', model: 'gpt-5' } });
    state.providers[0] = provider({ connected: true });
    const ui = new FakeUi([pickLabel('gpt-4o')]);
    const api = new FakeApi(state);
    assert.equal(await flows.selectModel(ui, api, runner()), 'selected');
    assert.deepEqual(api.selected, ['openai/gpt-4o']);
  });

  it('shows model_not_found guidance from selectModel', async () => {
    const state = providersState();
    state.providers[0] = provider({ connected: true });
    const g = guidance({ kind: 'model_not_found', title: 'Model not found', actions: [] });
    const api = new FakeApi(state);
    api.selectModel = async () => {
      throw rpcError(-32001, g.title, g);
    };
    const ui = new FakeUi([pickLabel('gpt-5'), { show: (m) => (assert.match(m, /Model not found/), undefined) }]);
    assert.equal(await flows.selectModel(ui, api, runner()), 'failed');
    ui.done();
  });

  it('falls back to Select Your AI when nothing is connected', async () => {
    const ui = new FakeUi([{ pick: () => undefined }]);
    assert.equal(await flows.selectModel(ui, new FakeApi(), runner()), 'cancelled');
    assert.deepEqual(ui.log, ['pick Sidekick: Select Your AI']);
  });
});

describe('the model list', () => {
  const m = (id: string, extra: Partial<import('../../src/protocol').ModelInfo> = {}) => ({
    id,
    name: null,
    ownedBy: 'system',
    created: null,
    contextWindow: null,
    ...extra,
  });
  const models = [
    m('gpt-4o-mini', { recommended: true, contextWindow: 128_000 }),
    m('gpt-5'),
    m('gpt-4o'),
    m('babbage-002', { chat: false }),
    m('text-embedding-3-small', { chat: false }),
  ];

  it('hides non-chat models behind one choice, the suggested model first, no owners', () => {
    const items = modelList.modelItems(provider(), models, null);
    assert.deepEqual(items.map((i) => i.value), ['gpt-4o-mini', 'gpt-5', 'gpt-4o']);
    assert.equal(items[0]!.label, '$(star-full) gpt-4o-mini');
    assert.equal(items[0]!.description, 'suggested · 128k context');
    assert.equal(items[0]!.picked, true, 'Enter picks the suggestion, not babbage-002');
    assert.ok(items.every((i) => !/system/.test(i.description ?? '')), 'the owner describes nothing');
    assert.equal(modelList.hiddenModels(models, null, provider()), 2);
    assert.equal(modelList.modelItems(provider(), models, null, true).length, 5);
  });

  it("the settings' default model comes first when there is no current one", () => {
    const items = modelList.modelItems(provider(), models, null, false, 'gpt-4o');
    assert.deepEqual(items.map((i) => i.value), ['gpt-4o', 'gpt-4o-mini', 'gpt-5']);
    assert.equal(items[0]!.description, 'your default');
    assert.equal(items.filter((i) => i.picked).length, 1, 'only the default is highlighted');
    assert.ok(!items[1]!.label.includes('star'), 'the suggestion gives way');
    const current = modelList.modelItems(provider(), models, { provider: 'openai', model: 'gpt-5' }, false, 'gpt-4o');
    assert.equal(current[0]!.value, 'gpt-5', 'the model in use stays first');
    assert.deepEqual(
      modelList.modelItems(provider(), models, null, false, 'not-listed').map((i) => i.value)[0],
      'gpt-4o-mini',
      'an unlisted default is ignored',
    );
    assert.equal(modelList.defaultModelFor({ openai: ' gpt-4o ' }, 'openai'), 'gpt-4o');
    for (const bad of [undefined, null, 'gpt-4o', ['gpt-4o'], { openai: 5 }, { openai: '  ' }]) {
      assert.equal(modelList.defaultModelFor(bad, 'openai'), undefined, JSON.stringify(bad));
    }
  });

  it('the current model comes first even when it is not a chat model', () => {
    const items = modelList.modelItems(provider(), models, { provider: 'openai', model: 'babbage-002' });
    assert.equal(items[0]!.label, '$(check) babbage-002');
    assert.ok(!items.some((i) => i.label.includes('star')), 'no suggestion beside a current model');
    assert.equal(modelList.hiddenModels(models, { provider: 'openai', model: 'babbage-002' }, provider()), 1);
  });

  it('prices per million tokens', () => {
    assert.equal(modelList.priceLabel({ inputPerMtok: 2.5, outputPerMtok: 10 }), '$2.50 / $10 per M tokens');
    assert.equal(modelList.priceLabel({ inputPerMtok: 0.15, outputPerMtok: 0.6 }), '$0.15 / $0.60 per M tokens');
    assert.equal(modelList.priceLabel({ inputPerMtok: 0, outputPerMtok: 0 }), 'free');
    assert.equal(modelList.priceLabel({ inputPerMtok: 0.0075, outputPerMtok: 15.25 }), '$0.0075 / $15.3 per M tokens');
    assert.equal(modelList.priceLabel(null), '');
  });

  it('"Show all models" opens the whole list, and a non-chat model can then be chosen', async () => {
    const state = providersState();
    state.providers[0] = provider({ connected: true, keySource: 'keychain' });
    const api = new FakeApi(state);
    api.listModels = async (params) => ({ provider: params.provider, models });
    let first: string[] = [];
    const ui = new FakeUi([
      { pick: (l) => ((first = l), l.find((x) => x.includes('Show all models'))) },
      pickLabel('babbage'),
    ]);
    assert.equal(await flows.selectModel(ui, api, runner()), 'selected');
    ui.done();
    assert.ok(!first.includes('babbage-002'));
    assert.deepEqual(api.selected, ['openai/babbage-002']);
    assert.deepEqual(ui.log.filter((l) => l.startsWith('pick')), ['pick Sidekick: OpenAI model', 'pick Sidekick: all OpenAI models']);
  });

  it('search matches words in any order', () => {
    const has = (q: string, ...texts: string[]) => modelList.matchesWords(q, texts);
    assert.ok(has('4o mini', 'gpt-4o-mini'));
    assert.ok(has('mini 4o', 'gpt-4o-mini'));
    assert.ok(has('GPT4O', 'gpt-4o-mini'), 'separators do not matter');
    assert.ok(has('sonnet claude', 'claude-sonnet-4-5', 'Claude Sonnet 4.5'));
    assert.ok(has('128k flash', 'gemini-2.5-flash', '1M context'.replace('1M', '128k')));
    assert.ok(!has('4o max', 'gpt-4o-mini'));
    assert.ok(!has('check', '$(check) gpt-4o'), 'an icon is not text');
    assert.ok(has('   ', 'anything'));
  });

  it('every model picker asks for word search', async () => {
    const options: flows.PickOptions[] = [];
    const ui = new FakeUi([pickLabel('gpt-4o')]);
    const pick = ui.pick.bind(ui);
    ui.pick = (items, o) => (options.push(o), pick(items, o));
    const state = providersState();
    state.providers[0] = provider({ connected: true });
    await flows.selectModel(ui, new FakeApi(state), runner());
    assert.equal(options[0]?.matchWords, true);
  });
});

describe('Disconnect', () => {
  it('says what really goes: a keychain key, a secret-storage key, or no key at all', () => {
    assert.match(flows.disconnectQuestion(provider({ keySource: 'keychain' })), /deleted from your OS keychain/);
    assert.match(flows.disconnectQuestion(provider({ keySource: 'client' })), /deleted from VS Code’s secret storage/);
    const keyless = flows.disconnectQuestion(provider({ id: 'demo', name: 'Local demo', requiresKey: false, keySource: null }));
    assert.match(keyless, /no stored key/);
    assert.doesNotMatch(keyless, /key is deleted/);
  });

  it('confirms and disconnects the connected provider', async () => {
    const state = providersState();
    state.providers[0] = provider({ connected: true, keySource: 'keychain' });
    const ui = new FakeUi([{ confirm: true }]);
    const api = new FakeApi(state);
    assert.equal(await flows.disconnect(ui, api, runner()), 'disconnected');
    assert.deepEqual(api.disconnected, ['openai']);
  });

  it('does nothing when the user declines or nothing is connected', async () => {
    const state = providersState();
    state.providers[0] = provider({ connected: true });
    const api = new FakeApi(state);
    assert.equal(await flows.disconnect(new FakeUi([{ confirm: false }]), api, runner()), 'cancelled');
    assert.equal(await flows.disconnect(new FakeUi([{ show: () => undefined }]), new FakeApi(), runner()), 'nothing');
    assert.deepEqual(api.disconnected, []);
  });
});

describe('every provider asks for what it needs', () => {
  it('Azure: endpoint, then key, then a typed deployment that is not in the list', async () => {
    const prompts: flows.InputOptions[] = [];
    const ui = new FakeUi([
      pickLabel('Azure'),
      { input: (o) => (prompts.push(o), ' https://team.openai.azure.com/ ') },
      { input: (o) => (prompts.push(o), 'a'.repeat(32)) },
      { pickOrType: (labels) => (assert.ok(labels.includes('gpt-5'), 'the list is offered'), 'our-prod-4o') },
    ]);
    const api = new FakeApi(providersState({ providers: [azureProvider()] }));
    assert.equal(await flows.selectYourAI(ui, api, runner()), 'selected');
    ui.done();
    assert.match(prompts[0]!.title, /Azure OpenAI endpoint/);
    assert.equal(prompts[0]!.placeholder, 'https://NAME.openai.azure.com');
    assert.equal(prompts[0]!.value, undefined, 'nothing to prefill before the first connect');
    assert.match(prompts[0]!.validate?.('http://x') ?? '', /https/);
    assert.match(prompts[1]!.title, /Azure OpenAI API key/);
    assert.match(prompts[1]!.prompt, /AZURE_OPENAI_API_KEY/);
    assert.deepEqual(api.connects, [{ provider: 'azure', apiKey: 'a'.repeat(32), baseUrl: 'https://team.openai.azure.com/' }]);
    assert.deepEqual(api.selected, ['azure/our-prod-4o'], 'a name not in the list is selected as typed');
    assert.ok(ui.log.includes('pickOrType Sidekick: Azure OpenAI deployment'));
  });

  it('a key from the environment is not asked for', async () => {
    const ui = new FakeUi([pickLabel('Anthropic'), pickLabel('gpt-5')]);
    const connectedByEnv = anthropicProvider({ connected: false, keySource: 'env' });
    // Connected through the environment: Select Your AI lists models; "connected" with env source.
    const api = new FakeApi(providersState({ providers: [{ ...connectedByEnv, connected: true }] }));
    assert.equal(await flows.selectYourAI(ui, api, runner()), 'selected');
    ui.done();
    assert.deepEqual(flows.connectSteps({ ...connectedByEnv, connected: true }), ['connect']);
  });

  it('the key prompt shows what a key looks like, where to get one and its variable', () => {
    const o = flows.keyPrompt(anthropicProvider());
    assert.equal(o.placeholder, 'sk-ant-…');
    assert.match(o.prompt, /ANTHROPIC_API_KEY/);
    assert.deepEqual(o.link, { title: 'Get a Anthropic key', url: 'https://console.anthropic.com/settings/keys' });
    assert.equal(o.password, true);
  });

  it('a refused key goes back to the key prompt of the same provider', async () => {
    const g = guidance({ title: 'Anthropic rejected the API key' });
    const ui = new FakeUi([
      pickLabel('Anthropic'),
      { input: () => 'sk-ant-wrong' },
      { show: (_m, b) => (assert.ok(b.includes('Re-enter key')), 'Re-enter key') },
      { input: (o) => (assert.match(o.title, /Anthropic API key/), 'sk-ant-right') },
      pickLabel('gpt-5'),
    ]);
    const api = new FakeApi(providersState({ providers: [anthropicProvider()] }));
    api.connectResults.push(() => rpcError(-32001, g.title, g));
    assert.equal(await flows.selectYourAI(ui, api, runner()), 'selected');
    ui.done();
    assert.deepEqual(api.connects.map((c) => c.apiKey), ['sk-ant-wrong', 'sk-ant-right']);
  });

  it('Try Again after a network failure sends the same again without asking for the key', async () => {
    const g = guidance({ kind: 'network', title: 'Cannot reach Anthropic', actions: [{ title: 'Show Logs', command: 'sidekick.showLogs' }] });
    const ui = new FakeUi([
      pickLabel('Anthropic'),
      { input: () => 'sk-ant-key' },
      { show: () => 'Try Again' },
      { show: () => 'Try Again' },
      pickLabel('gpt-5'),
    ]);
    const api = new FakeApi(providersState({ providers: [anthropicProvider()] }));
    api.connectResults.push(
      () => rpcError(-32001, g.title, g),
      () => new Error('The Sidekick server is not running.'),
    );
    assert.equal(await flows.selectYourAI(ui, api, runner()), 'selected');
    ui.done();
    assert.equal(api.connects.length, 3);
    assert.ok(api.connects.every((c) => c.apiKey === 'sk-ant-key'), 'the same key, asked once');
  });

  it('a long model list is built in one pass: names, context windows, prices, current first', () => {
    const models = Array.from({ length: 400 }, (_, i) => ({
      id: `vendor/model-${i}`,
      name: `Vendor: Model ${i}`,
      ownedBy: 'vendor',
      created: i,
      contextWindow: i % 2 ? 128_000 : 1_048_576,
      price: { inputPerMtok: 2.5, outputPerMtok: 10 },
    }));
    const p = provider({ id: 'openrouter', name: 'OpenRouter' });
    const items = modelList.modelItems(p, models, { provider: 'openrouter', model: 'vendor/model-399' });
    assert.equal(items.length, 400);
    assert.equal(items[0]!.value, 'vendor/model-399');
    assert.equal(items[0]!.description, 'current · Vendor: Model 399 · 128k context · $2.50 / $10 per M tokens');
    assert.equal(items[1]!.description, 'Vendor: Model 0 · 1M context · $2.50 / $10 per M tokens');
  });

  it('disconnecting a provider whose key is in the environment names that variable', async () => {
    const ui = new FakeUi([
      { confirm: true },
      { show: (m) => (assert.match(m, /ANTHROPIC_API_KEY environment variable/), undefined) },
    ]);
    const env = anthropicProvider({ connected: true, keySource: 'env' });
    const api = new FakeApi(providersState({ providers: [env] }));
    api.disconnect = async (params) => ({ provider: params.provider, connected: true });
    assert.equal(await flows.disconnect(ui, api, runner()), 'disconnected');
    assert.match(ui.log.find((l) => l.startsWith('confirm')) ?? '', /comes from ANTHROPIC_API_KEY/);
  });
});
