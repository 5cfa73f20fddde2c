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
    envKeyVar: 'OPENAI_API_KEY',
    keyPlaceholder: 'sk-…',
    apiKeysUrl: 'https://platform.openai.com/api-keys',
    baseUrlPlaceholder: null,
    modelKind: 'model',
    ...overrides,
  };
}

/** Azure OpenAI as the sidecar describes it before its first connect. */
export function azureProvider(overrides: Partial<ProviderInfo> = {}): ProviderInfo {
  return provider({
    id: 'azure',
    name: 'Azure OpenAI',
    baseUrl: '',
    baseUrlEditable: true,
    supportsOrganization: false,
    envKeyVar: 'AZURE_OPENAI_API_KEY',
    keyPlaceholder: '32-character key from Keys and Endpoint',
    apiKeysUrl: 'https://portal.azure.com/#browse/Microsoft.CognitiveServices%2Faccounts',
    baseUrlPlaceholder: 'https://NAME.openai.azure.com',
    modelKind: 'deployment',
    ...overrides,
  });
}

export function anthropicProvider(overrides: Partial<ProviderInfo> = {}): ProviderInfo {
  return provider({
    id: 'anthropic',
    name: 'Anthropic',
    baseUrl: 'https://api.anthropic.com/v1',
    supportsOrganization: false,
    envKeyVar: 'ANTHROPIC_API_KEY',
    keyPlaceholder: 'sk-ant-…',
    apiKeysUrl: 'https://console.anthropic.com/settings/keys',
    ...overrides,
  });
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
        envKeyVar: null,
        keyPlaceholder: 'optional',
        apiKeysUrl: null,
        baseUrlPlaceholder: 'http://localhost:11434/v1',
      }),
    ],
    active: null,
    ...overrides,
  };
}
