// Protocol values shared by the unit tests.
import type { Guidance, ProviderInfo, ProvidersState } from '../../src/protocol';

export function guidance(overrides: Partial<Guidance> = {}): Guidance {
  return {
    kind: 'invalid_key',
    title: 'OpenAI rejected the API key',
    detail: 'The key sk-…rong was refused (HTTP 401).',
    actions: [
      { title: 'Re-enter key', command: 'sidekick.selectYourAI' },
      { title: 'Open API keys page', url: 'https://platform.openai.com/api-keys' },
    ],
    httpStatus: 401,
    providerCode: 'invalid_api_key',
    providerMessage: 'Incorrect API key provided: sk-…rong.',
    requestId: 'req_1',
    retryAfterMs: null,
    partialText: null,
    ...overrides,
  };
}

/** A JSON-RPC error as vscode-jsonrpc's ResponseError carries it. */
export function rpcError(code: number, message: string, data?: unknown): Error & { code: number; data?: unknown } {
  return Object.assign(new Error(message), { code, data });
}

export function provider(overrides: Partial<ProviderInfo> = {}): ProviderInfo {
  return {
    id: 'openai',
    name: 'OpenAI',
    baseUrl: 'https://api.openai.com/v1',
    connected: false,
    keyHint: null,
    keySource: null,
    organization: null,
    project: null,
    requiresKey: true,
    baseUrlEditable: false,
    supportsOrganization: true,
    ...overrides,
  };
}

export function providersState(overrides: Partial<ProvidersState> = {}): ProvidersState {
  return {
    providers: [
      provider(),
      provider({
        id: 'compatible',
        name: 'OpenAI-compatible server',
        baseUrl: 'http://localhost:11434/v1',
        requiresKey: false,
        baseUrlEditable: true,
        supportsOrganization: false,
      }),
    ],
    active: null,
    ...overrides,
  };
}
