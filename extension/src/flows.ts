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
import type {
  ActiveSelection,
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

export interface PickItem<T> {
  label: string;
  description?: string;
  detail?: string;
  value: T;
  /** Shown first and highlighted (the current model). */
  picked?: boolean;
}

export interface PickOptions {
  title: string;
  placeholder: string;
  /** Search the description too (model names, provider states). */
  matchOnDescription?: boolean;
  /** Search the detail line too. */
  matchOnDetail?: boolean;
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

/** "128k context", "1M context". */
export function contextLabel(tokens: number | null): string {
  if (tokens === null || tokens <= 0) return '';
  if (tokens >= 1_000_000) return `${+(tokens / 1_000_000).toFixed(1)}M context`;
  return `${Math.round(tokens / 1000)}k context`;
}

/**
 * The model list with the current model marked and first. One pass, no sorting beyond that:
 * OpenRouter sends 300+ models and the picker must open at once. The display name and the
 * context window are the description, searched with the id.
 */
export function modelItems(
  provider: ProviderInfo,
  models: ModelInfo[],
  active: ActiveSelection | null,
): PickItem<string>[] {
  const current = active?.provider === provider.id ? active.model : undefined;
  const first: PickItem<string>[] = [];
  const rest: PickItem<string>[] = [];
  for (const m of models) {
    const isCurrent = m.id === current;
    const parts = [isCurrent ? 'current' : '', m.name && m.name !== m.id ? m.name : '', contextLabel(m.contextWindow)];
    (isCurrent ? first : rest).push({
      label: isCurrent ? `$(check) ${m.id}` : m.id,
      description: parts.filter(Boolean).join(' · ') || undefined,
      value: m.id,
      picked: isCurrent,
    });
  }
  return [...first, ...rest];
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

/** Select Your AI: provider → (key → organization → base URL → connect) → model. */
export async function selectYourAI(ui: FlowUi, api: FlowApi, runner: ActionRunner): Promise<FlowOutcome> {
  const state = await loadProviders(ui, api, runner);
  if (!state) return 'failed';
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
      if (guidanceOf(err)?.kind === 'not_connected') return connectProvider(ui, api, runner, provider, state.active);
      await reportFailure(ui, runner, err, `could not list ${provider.name} models`);
      return 'failed';
    }
    const picked = await pickModel(ui, api, runner, provider, models, state.active, true);
    if (picked === NEW_KEY) return connectProvider(ui, api, runner, provider, state.active);
    return picked;
  }
  return connectProvider(ui, api, runner, provider, state.active);
}

type Step = 'endpoint' | 'key' | 'organization' | 'baseUrl' | 'connect';

/**
 * What to ask for, in order, from the provider's flags: Azure (its own endpoint, deployments)
 * the endpoint first; a provider whose key comes from the environment no key at all.
 */
export function connectSteps(provider: ProviderInfo): Step[] {
  const deployments = provider.modelKind === 'deployment';
  const keyFromEnv = provider.connected && provider.keySource === 'env';
  const steps: Step[] = [];
  if (provider.baseUrlEditable && deployments) steps.push('endpoint');
  if (!keyFromEnv) steps.push('key');
  if (provider.supportsOrganization) steps.push('organization');
  if (provider.baseUrlEditable && !deployments) steps.push('baseUrl');
  steps.push('connect');
  return steps;
}

/** The key prompt: what a key looks like, where it is made, the variable that would supply it. */
export function keyPrompt(provider: ProviderInfo): InputOptions {
  const env = provider.envKeyVar ? ` Or set ${provider.envKeyVar} before starting VS Code.` : '';
  return {
    title: `Sidekick: ${provider.name} API key`,
    prompt: provider.requiresKey
      ? `Paste your ${provider.name} API key. It is stored in your OS keychain, never in settings.${env}`
      : `API key for ${provider.name} (optional: leave empty if the server needs none).`,
    password: true,
    placeholder: provider.keyPlaceholder ?? (provider.requiresKey ? 'sk-…' : 'optional'),
    validate: (v) => validateKey(v, provider.requiresKey),
    link: provider.apiKeysUrl ? { title: `Get a ${provider.name} key`, url: provider.apiKeysUrl } : undefined,
  };
}

const HTTP_URL = /^https?:\/\/\S+$/;

/** Where a failed connect goes back to: the step the user can fix, or the same request again. */
function retryStep(kind: string | undefined, steps: Step[]): Step {
  if (kind === 'invalid_key') return steps[0] === 'endpoint' || !steps.includes('key') ? steps[0]! : 'key';
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
): Promise<FlowOutcome> {
  const steps = connectSteps(provider);
  // The key lives only in this variable, until the flow ends.
  let apiKey: string | undefined;
  let organization = provider.organization ?? '';
  let baseUrl = provider.baseUrl;
  let at = 0;
  while (at < steps.length) {
    const step = steps[at]!;
    if (step !== 'connect') {
      const value = await ask(ui, provider, step, { organization, baseUrl });
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
  step: Exclude<Step, 'connect'>,
  now: { organization: string; baseUrl: string },
): PromiseLike<string | undefined> {
  switch (step) {
    case 'key':
      return ui.input(keyPrompt(provider));
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
  const items: PickItem<string | typeof NEW_KEY>[] = modelItems(provider, models, active);
  if (offerNewKey && (provider.requiresKey || provider.baseUrlEditable)) {
    items.push({
      label: provider.requiresKey ? '$(key) Enter a different API key…' : '$(gear) Change the server or key…',
      description: providerDescription(provider, active),
      value: NEW_KEY,
    });
  }
  if (models.length === 0 && !offerNewKey) {
    await ui.show('warning', `Sidekick: ${provider.name} lists no models.`, []);
    return 'connected';
  }
  const model = await ui.pick(items, {
    title: `Sidekick: ${provider.name} model`,
    placeholder: 'Type to search the models',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (model === undefined) return 'cancelled';
  if (model === NEW_KEY) return NEW_KEY;
  return select(ui, api, runner, provider, model);
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
  const name = await ui.pickOrType(modelItems(provider, models, active), {
    title: `Sidekick: ${provider.name} deployment`,
    placeholder: 'Type the name of your deployment (the models below are suggestions)',
    matchOnDescription: true,
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
  const what =
    provider.keySource === 'env'
      ? `Disconnect ${provider.name}? Its key comes from ${variable}, which Sidekick cannot remove.`
      : `Disconnect ${provider.name}? Its stored key is deleted and running answers stop.`;
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
