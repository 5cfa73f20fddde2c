// The branching of Select Your AI, Select Model and Disconnect, over small injected interfaces
// (the UI and the sidecar's requests) so it is unit-tested without VS Code. `commands.ts` wires
// them to `vscode.window` and the language client. The API key lives only in a local variable of
// `selectYourAI` until the flow ends; it goes nowhere but `sidekick/connect`.

import {
  errorMessage,
  guidanceOf,
  isInvalidParams,
  runAction,
  showGuidance,
  type ActionRunner,
  type NotifyUi,
} from './guidance';
import { hiddenModels, modelItems, type PickItem } from './modelList';
import type {
  ActiveSelection,
  KeySource,
  ConnectParams,
  ConnectResult,
  DisconnectParams,
  DisconnectResult,
  ListModelsParams,
  ListModelsResult,
  ModelInfo,
  ProviderInfo,
  ProvidersState,
  SelectModelParams,
  SelectModelResult,
} from './protocol';

export type { PickItem } from './modelList';

export interface PickOptions {
  title: string;
  placeholder: string;
  /** Search the description too (model names, provider states). */
  matchOnDescription?: boolean;
  /** Search the detail line too. */
  matchOnDetail?: boolean;
  /**
   * Match typed words in any order, each anywhere in the label, description or detail
   * ("4o mini" finds `gpt-4o-mini`), instead of the editor's own fuzzy match.
   */
  matchWords?: boolean;
}

/** A pick whose answer may also be typed: `typed(text)` is the label of the typed choice. */
export interface PickOrTypeOptions extends PickOptions {
  typed: (text: string) => string;
}

export interface InputOptions {
  title: string;
  prompt: string;
  password?: boolean;
  value?: string;
  placeholder?: string;
  /** Returns a message to refuse the value in place, or undefined to accept it. */
  validate?: (value: string) => string | undefined;
  /** A button that opens a page (where to create a key) without closing the prompt. */
  link?: { title: string; url: string };
}

/** The UI the flows need. `undefined` from pick/input means the user pressed Escape. */
export interface FlowUi extends NotifyUi {
  pick<T>(items: PickItem<T>[], options: PickOptions): PromiseLike<T | undefined>;
  /** A pick of `items` that also takes any typed text; resolves to a value or the text. */
  pickOrType(items: PickItem<string>[], options: PickOrTypeOptions): PromiseLike<string | undefined>;
  input(options: InputOptions): PromiseLike<string | undefined>;
  progress<T>(title: string, task: () => PromiseLike<T>): PromiseLike<T>;
  confirm(message: string, button: string): PromiseLike<boolean>;
  /** The model the user's settings name for `provider` (`sidekick.defaultModel`), if any. */
  defaultModel?(provider: string): string | undefined;
}

/** The sidecar requests the flows send. */
export interface FlowApi {
  listProviders(): PromiseLike<ProvidersState>;
  connect(params: ConnectParams): PromiseLike<ConnectResult>;
  listModels(params: ListModelsParams): PromiseLike<ListModelsResult>;
  selectModel(params: SelectModelParams): PromiseLike<SelectModelResult>;
  disconnect(params: DisconnectParams): PromiseLike<DisconnectResult>;
}

export type FlowOutcome = 'selected' | 'connected' | 'cancelled' | 'failed' | 'disconnected' | 'nothing';

export const TRY_AGAIN = 'Try Again';
const NEW_KEY = Symbol('new key');
const SHOW_ALL = Symbol('show all models');

const SOURCE_LABEL: Record<string, string> = {
  keychain: 'keychain',
  env: 'environment',
  client: 'VS Code secret storage',
};

/** One line describing a provider's state: connected, key hint, key source. */
export function providerDescription(p: ProviderInfo, active: ActiveSelection | null): string {
  if (!p.connected) return 'not connected';
  const parts = ['connected'];
  if (p.keyHint) parts.push(`key ${p.keyHint}`);
  if (p.keySource) parts.push(`from ${SOURCE_LABEL[p.keySource] ?? p.keySource}`);
  if (active?.provider === p.id) parts.push(`using ${active.model}`);
  return parts.join(' · ');
}

export function providerItems(state: ProvidersState): PickItem<ProviderInfo>[] {
  return state.providers.map((p) => ({
    label: `${p.connected ? '$(pass-filled)' : '$(circle-large-outline)'} ${p.name}`,
    description: providerDescription(p, state.active),
    detail: p.baseUrl,
    value: p,
  }));
}

/** Refuses an unusable key in place (the server refuses the same, but later). */
export function validateKey(value: string, required: boolean): string | undefined {
  const key = value.trim();
  if (key === '') return required ? 'Enter the API key: it cannot be empty.' : undefined;
  if (/\s/.test(key)) return 'The key has a space or a line break inside: paste it again.';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'The key has characters that cannot be typed: paste it again.';
  return undefined;
}

async function reportFailure(ui: FlowUi, runner: ActionRunner, err: unknown, what: string): Promise<void> {
  const g = guidanceOf(err);
  if (g) {
    const choice = await showGuidance(g, ui);
    if (choice !== undefined && typeof choice !== 'string') await runAction(choice, runner);
  } else {
    await ui.show('error', `Sidekick: ${what}: ${errorMessage(err)}`, []);
  }
}

/** The providers' state, or undefined after the failure has been shown. */
async function loadProviders(ui: FlowUi, api: FlowApi, runner: ActionRunner): Promise<ProvidersState | undefined> {
  try {
    return await api.listProviders();
  } catch (err) {
    await reportFailure(ui, runner, err, 'could not list providers');
    return undefined;
  }
}

/**
 * Select Your AI: provider → (key → organization → base URL → connect) → model. With a
 * provider id (a guidance button's argument: "Re-enter key", "Connect OpenAI") it goes straight
 * to that provider's prompts.
 */
export async function selectYourAI(
  ui: FlowUi,
  api: FlowApi,
  runner: ActionRunner,
  providerId?: string,
): Promise<FlowOutcome> {
  const state = await loadProviders(ui, api, runner);
  if (!state) return 'failed';
  const named = providerId === undefined ? undefined : state.providers.find((p) => p.id === providerId);
  if (named) return connectProvider(ui, api, runner, named, state.active, state.keyStore ?? null);
  const provider = await ui.pick(providerItems(state), {
    title: 'Sidekick: Select Your AI',
    placeholder: 'Pick a provider',
    matchOnDescription: true,
  });
  if (!provider) return 'cancelled';
  if (provider.connected) {
    let models: ModelInfo[];
    try {
      models = (
        await ui.progress(`Loading ${provider.name} models…`, () => api.listModels({ provider: provider.id }))
      ).models;
    } catch (err) {
      if (guidanceOf(err)?.kind === 'not_connected') {
        return connectProvider(ui, api, runner, provider, state.active, state.keyStore ?? null);
      }
      await reportFailure(ui, runner, err, `could not list ${provider.name} models`);
      return 'failed';
    }
    const picked = await pickModel(ui, api, runner, provider, models, state.active, true);
    if (picked === NEW_KEY) return connectProvider(ui, api, runner, provider, state.active, state.keyStore ?? null);
    return picked;
  }
  return connectProvider(ui, api, runner, provider, state.active, state.keyStore ?? null);
}

type Step = 'endpoint' | 'key' | 'keyChoice' | 'organization' | 'baseUrl' | 'connect';

/**
 * What to ask for, in order, from the provider's flags: Azure (its own endpoint, deployments)
 * the endpoint first; a provider whose key comes from the environment no key at all; a
 * provider that needs no key (the demo, a local server) its server first, then whether the
 * user has a key at all ("I have a key" leads to the key prompt).
 */
export function connectSteps(provider: ProviderInfo): Step[] {
  const deployments = provider.modelKind === 'deployment';
  const keyFromEnv = provider.connected && provider.keySource === 'env';
  const steps: Step[] = [];
  if (provider.baseUrlEditable && deployments) steps.push('endpoint');
  if (!provider.requiresKey) {
    if (provider.baseUrlEditable && !deployments) steps.push('baseUrl');
    if (!keyFromEnv) steps.push('keyChoice');
    steps.push('connect');
    return steps;
  }
  if (!keyFromEnv) steps.push('key');
  if (provider.supportsOrganization) steps.push('organization');
  if (provider.baseUrlEditable && !deployments) steps.push('baseUrl');
  steps.push('connect');
  return steps;
}

/** Where a new key is kept, as the prompt says it. */
export function keyDestination(keyStore: KeySource | null): string {
  switch (keyStore) {
    case 'keychain':
      return 'It is kept in your OS keychain, never in settings.';
    case 'client':
      return 'It is kept in VS Code’s secret storage (no OS keychain answered), never in settings.';
    default:
      return 'It is kept in your OS keychain (or, where none answers, VS Code’s secret storage), never in settings.';
  }
}

/** The key prompt: what a key looks like, where it is made and kept, the variable that would supply it. */
export function keyPrompt(provider: ProviderInfo, keyStore: KeySource | null = null): InputOptions {
  const env = provider.envKeyVar ? ` Or set ${provider.envKeyVar} before starting VS Code.` : '';
  return {
    title: `Sidekick: ${provider.name} API key`,
    prompt: provider.requiresKey
      ? `Paste your ${provider.name} API key. ${keyDestination(keyStore)}${env}`
      : `The key ${provider.name} expects. ${keyDestination(keyStore)}`,
    password: true,
    placeholder: provider.keyPlaceholder ?? (provider.requiresKey ? 'sk-…' : 'the server’s key'),
    validate: (v) => validateKey(v, true),
    link: provider.apiKeysUrl ? { title: `Get a ${provider.name} key`, url: provider.apiKeysUrl } : undefined,
  };
}

export const WITHOUT_KEY = 'Connect without a key';
export const HAVE_KEY = 'I have a key…';

const HTTP_URL = /^https?:\/\/\S+$/;

/** Where a failed connect goes back to: the step the user can fix, or the same request again. */
function retryStep(kind: string | undefined, steps: Step[]): Step {
  if (kind === 'invalid_key') {
    if (steps[0] === 'endpoint') return 'endpoint';
    if (steps.includes('key')) return 'key';
    if (steps.includes('keyChoice')) return 'keyChoice';
    return steps[0]!;
  }
  if (kind === 'organization_mismatch' && steps.includes('organization')) return 'organization';
  return 'connect';
}

/** Asks for what the provider needs, connects, and on failure goes back to a step, not to the start. */
export async function connectProvider(
  ui: FlowUi,
  api: FlowApi,
  runner: ActionRunner,
  provider: ProviderInfo,
  active: ActiveSelection | null,
  keyStore: KeySource | null = null,
): Promise<FlowOutcome> {
  const steps = connectSteps(provider);
  // The key lives only in this variable, until the flow ends.
  let apiKey: string | undefined;
  let organization = provider.organization ?? '';
  let baseUrl = provider.baseUrl;
  let at = 0;
  while (at < steps.length) {
    const step = steps[at]!;
    if (step === 'keyChoice') {
      const choice = await ui.pick(
        [
          { label: WITHOUT_KEY, description: `${provider.name} works without one`, value: 'none' as const },
          { label: HAVE_KEY, description: 'if your server asks for one', value: 'key' as const },
        ],
        { title: `Sidekick: ${provider.name}`, placeholder: 'Does this server need an API key?' },
      );
      if (choice === undefined) return 'cancelled';
      if (choice === 'key') {
        const key = await ui.input(keyPrompt(provider, keyStore));
        if (key === undefined) return 'cancelled';
        apiKey = key.trim() || undefined;
      } else {
        apiKey = undefined;
      }
      at += 1;
      continue;
    }
    if (step !== 'connect') {
      const value = await ask(ui, provider, step, { organization, baseUrl }, keyStore);
      if (value === undefined) return 'cancelled';
      if (step === 'key') apiKey = value.trim() || undefined;
      if (step === 'organization') organization = value.trim();
      if (step === 'endpoint' || step === 'baseUrl') baseUrl = value.trim();
      at += 1;
      continue;
    }
    const params: ConnectParams = { provider: provider.id };
    if (apiKey !== undefined) params.apiKey = apiKey;
    if (organization) params.organization = organization;
    if (provider.baseUrlEditable) params.baseUrl = baseUrl;
    let result: ConnectResult;
    try {
      result = await ui.progress(`Connecting to ${provider.name}…`, () => api.connect(params));
    } catch (err) {
      const next = await afterFailure(ui, runner, provider, err, steps);
      if (next === undefined) {
        apiKey = undefined;
        return 'failed';
      }
      at = steps.indexOf(next);
      continue;
    }
    apiKey = undefined;
    const picked = await pickModel(ui, api, runner, provider, result.models, active, false);
    return picked === 'cancelled' ? 'connected' : (picked as FlowOutcome);
  }
  return 'cancelled';
}

/** One prompt of the connect flow; undefined when the user pressed Escape. */
function ask(
  ui: FlowUi,
  provider: ProviderInfo,
  step: Exclude<Step, 'connect' | 'keyChoice'>,
  now: { organization: string; baseUrl: string },
  keyStore: KeySource | null,
): PromiseLike<string | undefined> {
  switch (step) {
    case 'key':
      return ui.input(keyPrompt(provider, keyStore));
    case 'organization':
      return ui.input({
        title: `Sidekick: ${provider.name} Organization ID (optional)`,
        prompt: 'Only if your key belongs to several organizations. Leave empty otherwise.',
        value: now.organization,
        placeholder: 'org-…',
      });
    case 'endpoint':
      return ui.input({
        title: `Sidekick: ${provider.name} endpoint`,
        prompt: `Your resource's endpoint, from "Keys and Endpoint" of the resource in the Azure portal (https).`,
        value: now.baseUrl || undefined,
        placeholder: provider.baseUrlPlaceholder ?? 'https://…',
        validate: (v) => (/^https:\/\/\S+$/.test(v.trim()) ? undefined : 'Enter the https:// endpoint of your resource.'),
      });
    case 'baseUrl':
      return ui.input({
        title: `Sidekick: ${provider.name} base URL`,
        prompt: 'The server’s OpenAI-compatible API root (https, or http on this machine).',
        value: now.baseUrl,
        placeholder: provider.baseUrlPlaceholder ?? undefined,
        validate: (v) => (HTTP_URL.test(v.trim()) ? undefined : 'Enter an http:// or https:// URL.'),
      });
  }
}

/**
 * Shows a failed connect and returns the step to go back to, or undefined to stop. "Try Again"
 * sends the same request again unless the failure was the key or the organization.
 */
async function afterFailure(
  ui: FlowUi,
  runner: ActionRunner,
  provider: ProviderInfo,
  err: unknown,
  steps: Step[],
): Promise<Step | undefined> {
  const g = guidanceOf(err);
  if (!g) {
    const choice = await ui.show('error', `Sidekick: could not connect to ${provider.name}: ${errorMessage(err)}`, [
      TRY_AGAIN,
    ]);
    if (choice !== TRY_AGAIN) return undefined;
    // Refused params (-32602) name something typed: ask again. Anything else (the server was
    // restarting, say) was not the user's doing: send the same again.
    return isInvalidParams(err) ? steps[0] : 'connect';
  }
  const back = retryStep(g.kind, steps);
  const choice = await showGuidance(g, ui, [TRY_AGAIN]);
  if (choice === undefined || (typeof choice === 'string' && choice !== TRY_AGAIN)) return undefined;
  if (choice === TRY_AGAIN) return back;
  if (choice.type === 'url') {
    // e.g. "Open API keys page": open it, then back to the step it helps with.
    await runAction(choice, runner);
    return back === 'connect' ? undefined : back;
  }
  if (choice.command === 'sidekick.selectYourAI') {
    // "Re-enter key", "Fix Organization ID": the same provider, the failing step.
    return back;
  }
  await runAction(choice, runner);
  return undefined;
}

async function pickModel(
  ui: FlowUi,
  api: FlowApi,
  runner: ActionRunner,
  provider: ProviderInfo,
  models: ModelInfo[],
  active: ActiveSelection | null,
  offerNewKey: boolean,
): Promise<FlowOutcome | typeof NEW_KEY> {
  if (provider.modelKind === 'deployment') {
    return pickDeployment(ui, api, runner, provider, models, active);
  }
  if (models.length === 0 && !offerNewKey) {
    await ui.show('warning', `Sidekick: ${provider.name} lists no models.`, []);
    return 'connected';
  }
  let showAll = false;
  for (;;) {
    const preferred = ui.defaultModel?.(provider.id);
    const items: PickItem<string | typeof NEW_KEY | typeof SHOW_ALL>[] = modelItems(provider, models, active, showAll, preferred);
    const hidden = showAll ? 0 : hiddenModels(models, active, provider, preferred);
    if (hidden > 0) {
      items.push({
        label: '$(list-unordered) Show all models…',
        description: `${hidden} more: embedding, image, audio and other models a chat cannot use`,
        value: SHOW_ALL,
      });
    }
    if (offerNewKey && (provider.requiresKey || provider.baseUrlEditable)) {
      items.push({
        label: provider.requiresKey ? '$(key) Enter a different API key…' : '$(gear) Change the server or key…',
        description: providerDescription(provider, active),
        value: NEW_KEY,
      });
    }
    const model = await ui.pick(items, {
      title: showAll ? `Sidekick: all ${provider.name} models` : `Sidekick: ${provider.name} model`,
      placeholder: 'Type to search: words in any order, e.g. “4o mini”',
      matchOnDescription: true,
      matchOnDetail: true,
      matchWords: true,
    });
    if (model === undefined) return 'cancelled';
    if (model === NEW_KEY) return NEW_KEY;
    if (model === SHOW_ALL) {
      showAll = true;
      continue;
    }
    return select(ui, api, runner, provider, model);
  }
}

async function select(
  ui: FlowUi,
  api: FlowApi,
  runner: ActionRunner,
  provider: ProviderInfo,
  model: string,
): Promise<FlowOutcome> {
  try {
    await api.selectModel({ provider: provider.id, model });
  } catch (err) {
    await reportFailure(ui, runner, err, `could not select ${model}`);
    return 'failed';
  }
  return 'selected';
}

/**
 * Azure: the model is the name of a deployment the user made, which need not be in the list;
 * the list's models are offered as suggestions and any typed name is accepted.
 */
async function pickDeployment(
  ui: FlowUi,
  api: FlowApi,
  runner: ActionRunner,
  provider: ProviderInfo,
  models: ModelInfo[],
  active: ActiveSelection | null,
): Promise<FlowOutcome> {
  const preferred = ui.defaultModel?.(provider.id);
  const items = modelItems(provider, models, active, false, preferred);
  // A deployment need not be listed: the default one is offered first all the same.
  const current = active?.provider === provider.id ? active.model : undefined;
  if (preferred && !current && !items.some((i) => i.value === preferred)) {
    items.unshift({ label: `$(star-full) ${preferred}`, description: 'your default', value: preferred, picked: true });
    for (const i of items.slice(1)) i.picked = false;
  }
  const name = await ui.pickOrType(items, {
    title: `Sidekick: ${provider.name} deployment`,
    placeholder: 'Type the name of your deployment (the models below are suggestions)',
    matchOnDescription: true,
    matchWords: true,
    typed: (text) => `Use deployment “${text}”`,
  });
  if (name === undefined || name.trim() === '') return 'cancelled';
  return select(ui, api, runner, provider, name.trim());
}

/** Select Model: the active (or only connected) provider's live model list. */
export async function selectModel(
  ui: FlowUi,
  api: FlowApi,
  runner: ActionRunner,
): Promise<FlowOutcome> {
  const state = await loadProviders(ui, api, runner);
  if (!state) return 'failed';
  const connected = state.providers.filter((p) => p.connected);
  let provider = connected.find((p) => p.id === state.active?.provider);
  if (!provider && connected.length === 1) provider = connected[0];
  if (!provider && connected.length > 1) {
    provider = await ui.pick(providerItems({ ...state, providers: connected }), {
      title: 'Sidekick: Select Model',
      placeholder: 'Pick a provider',
    });
    if (!provider) return 'cancelled';
  }
  if (!provider) return selectYourAI(ui, api, runner);
  let models: ModelInfo[];
  try {
    models = (
      await ui.progress(`Loading ${provider.name} models…`, () => api.listModels({ provider: provider.id }))
    ).models;
  } catch (err) {
    await reportFailure(ui, runner, err, `could not list ${provider.name} models`);
    return 'failed';
  }
  const picked = await pickModel(ui, api, runner, provider, models, state.active, false);
  return picked === NEW_KEY ? 'cancelled' : picked;
}

/** The Disconnect confirmation: what really goes, from where the key is (or that there is none). */
export function disconnectQuestion(provider: ProviderInfo): string {
  const name = provider.name;
  switch (provider.keySource) {
    case 'env':
      return `Disconnect ${name}? Its key comes from ${provider.envKeyVar ?? 'an environment variable'}, which Sidekick cannot remove.`;
    case 'keychain':
      return `Disconnect ${name}? Its key is deleted from your OS keychain and running answers stop.`;
    case 'client':
      return `Disconnect ${name}? Its key is deleted from VS Code’s secret storage and running answers stop.`;
    default:
      return `Disconnect ${name}? Sidekick stops using it and running answers stop. It has no stored key; connect again any time.`;
  }
}

/** Disconnect: the connected provider (asked when several), after a confirmation. */
export async function disconnect(ui: FlowUi, api: FlowApi, runner: ActionRunner): Promise<FlowOutcome> {
  const state = await loadProviders(ui, api, runner);
  if (!state) return 'failed';
  const connected = state.providers.filter((p) => p.connected);
  if (connected.length === 0) {
    await ui.show('info', 'Sidekick: no provider is connected.', []);
    return 'nothing';
  }
  let provider = connected.length === 1 ? connected[0] : undefined;
  if (!provider) {
    provider = await ui.pick(providerItems({ ...state, providers: connected }), {
      title: 'Sidekick: Disconnect Provider',
      placeholder: 'Pick the provider to disconnect',
    });
    if (!provider) return 'cancelled';
  }
  const variable = provider.envKeyVar ?? 'an environment variable';
  const what = disconnectQuestion(provider);
  if (!(await ui.confirm(what, 'Disconnect'))) return 'cancelled';
  try {
    const result = await ui.progress(`Disconnecting ${provider.name}…`, () =>
      api.disconnect({ provider: provider.id }),
    );
    if (result.connected) {
      await ui.show(
        'warning',
        `Sidekick: ${provider.name} is still connected through the ${variable} environment variable.`,
        [],
      );
    }
  } catch (err) {
    await reportFailure(ui, runner, err, `could not disconnect ${provider.name}`);
    return 'failed';
  }
  return 'disconnected';
}
