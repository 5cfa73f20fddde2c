// The branching of Select Your AI, Select Model and Disconnect, over small injected interfaces
// (the UI and the sidecar's requests) so it is unit-tested without VS Code. `commands.ts` wires
// them to `vscode.window` and the language client. The API key lives only in a local variable of
// `selectYourAI` until the flow ends; it goes nowhere but `sidekick/connect`.

import {
  errorMessage,
  guidanceOf,
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
  /** Search the description too (model owners, provider states). */
  matchOnDescription?: boolean;
}

export interface InputOptions {
  title: string;
  prompt: string;
  password?: boolean;
  value?: string;
  placeholder?: string;
  /** Returns a message to refuse the value in place, or undefined to accept it. */
  validate?: (value: string) => string | undefined;
}

/** The UI the flows need. `undefined` from pick/input means the user pressed Escape. */
export interface FlowUi extends NotifyUi {
  pick<T>(items: PickItem<T>[], options: PickOptions): PromiseLike<T | undefined>;
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

/** The model list with the current model marked (and first). */
export function modelItems(
  provider: ProviderInfo,
  models: ModelInfo[],
  active: ActiveSelection | null,
): PickItem<string>[] {
  const current = active?.provider === provider.id ? active.model : undefined;
  const items = models.map((m) => ({
    label: m.id === current ? `$(check) ${m.id}` : m.id,
    description: [m.id === current ? 'current' : '', m.ownedBy ?? ''].filter(Boolean).join(' · ') || undefined,
    value: m.id,
    picked: m.id === current,
  }));
  return [...items.filter((i) => i.picked), ...items.filter((i) => !i.picked)];
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

/** Asks for the key and the rest, connects, and on failure goes back to a step, not to the start. */
export async function connectProvider(
  ui: FlowUi,
  api: FlowApi,
  runner: ActionRunner,
  provider: ProviderInfo,
  active: ActiveSelection | null,
): Promise<FlowOutcome> {
  let apiKey: string | undefined;
  let organization = provider.organization ?? '';
  let baseUrl = provider.baseUrl;
  let step: 'key' | 'organization' = 'key';
  for (;;) {
    if (step === 'key') {
      const entered = await ui.input({
        title: `Sidekick: ${provider.name} API key`,
        prompt: provider.requiresKey
          ? `Paste your ${provider.name} API key. It is stored in your OS keychain, never in settings.`
          : `API key for ${provider.name} (optional: leave empty if the server needs none).`,
        password: true,
        placeholder: provider.requiresKey ? 'sk-…' : 'optional',
        validate: (v) => validateKey(v, provider.requiresKey),
      });
      if (entered === undefined) return 'cancelled';
      apiKey = entered.trim() || undefined;
    }
    step = 'key';
    if (provider.supportsOrganization) {
      const org = await ui.input({
        title: `Sidekick: ${provider.name} Organization ID (optional)`,
        prompt: 'Only if your key belongs to several organizations. Leave empty otherwise.',
        value: organization,
        placeholder: 'org-…',
      });
      if (org === undefined) return 'cancelled';
      organization = org.trim();
    }
    if (provider.baseUrlEditable) {
      const url = await ui.input({
        title: `Sidekick: ${provider.name} base URL`,
        prompt: 'The server’s OpenAI-compatible API root (https, or http on this machine).',
        value: baseUrl,
        validate: (v) => (/^https?:\/\/\S+$/.test(v.trim()) ? undefined : 'Enter an http:// or https:// URL.'),
      });
      if (url === undefined) return 'cancelled';
      baseUrl = url.trim();
    }
    const params: ConnectParams = { provider: provider.id };
    if (apiKey !== undefined) params.apiKey = apiKey;
    if (organization) params.organization = organization;
    if (provider.baseUrlEditable) params.baseUrl = baseUrl;
    let result: ConnectResult;
    try {
      result = await ui.progress(`Connecting to ${provider.name}…`, () => api.connect(params));
    } catch (err) {
      const g = guidanceOf(err);
      if (!g) {
        const choice = await ui.show(
          'error',
          `Sidekick: could not connect to ${provider.name}: ${errorMessage(err)}`,
          [TRY_AGAIN],
        );
        if (choice === TRY_AGAIN) continue;
        return 'failed';
      }
      const retryStep = g.kind === 'organization_mismatch' ? 'organization' : 'key';
      const choice = await showGuidance(g, ui, [TRY_AGAIN]);
      if (choice === undefined) return 'failed';
      if (choice === TRY_AGAIN) {
        step = retryStep;
        continue;
      }
      if (typeof choice === 'string') return 'failed';
      if (choice.type === 'url') {
        // e.g. "Open API keys page": open it, then come back to the key prompt.
        await runAction(choice, runner);
        step = retryStep;
        continue;
      }
      if (choice.command === 'sidekick.selectYourAI') {
        // "Re-enter key", "Fix Organization ID": the same provider, the failing step.
        step = retryStep;
        continue;
      }
      await runAction(choice, runner);
      return 'failed';
    } finally {
      if (step === 'key') apiKey = undefined;
    }
    apiKey = undefined;
    const picked = await pickModel(ui, api, runner, provider, result.models, active, false);
    return picked === 'cancelled' ? 'connected' : (picked as FlowOutcome);
  }
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
  });
  if (model === undefined) return 'cancelled';
  if (model === NEW_KEY) return NEW_KEY;
  try {
    await api.selectModel({ provider: provider.id, model });
  } catch (err) {
    await reportFailure(ui, runner, err, `could not select ${model}`);
    return 'failed';
  }
  return 'selected';
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
  const what =
    provider.keySource === 'env'
      ? `Disconnect ${provider.name}? Its key comes from OPENAI_API_KEY, which Sidekick cannot remove.`
      : `Disconnect ${provider.name}? Its stored key is deleted and running answers stop.`;
  if (!(await ui.confirm(what, 'Disconnect'))) return 'cancelled';
  try {
    const result = await ui.progress(`Disconnecting ${provider.name}…`, () =>
      api.disconnect({ provider: provider.id }),
    );
    if (result.connected) {
      await ui.show(
        'warning',
        `Sidekick: ${provider.name} is still connected through the OPENAI_API_KEY environment variable.`,
        [],
      );
    }
  } catch (err) {
    await reportFailure(ui, runner, err, `could not disconnect ${provider.name}`);
    return 'failed';
  }
  return 'disconnected';
}
