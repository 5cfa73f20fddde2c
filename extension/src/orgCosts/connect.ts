// Connect Organization / Disconnect Organization: the admin key flows. Pure over a small UI
// interface (unit-tested): the key is asked for in a password box, never echoed, never kept
// here, sent once to `sidekick/connectAdmin`, which validates it before storing it.

import { errorMessage, guidanceOf, isInvalidParams, runAction, showGuidance, type ActionRunner } from '../guidance';
import type { FlowOutcome, FlowUi } from '../flows';
import { TRY_AGAIN } from '../flows';
import type { ConnectAdminParams, ConnectAdminResult, DisconnectAdminParams, DisconnectAdminResult, ProvidersState } from '../protocol';

export const ADMIN_KEYS_URL = 'https://platform.openai.com/settings/organization/admin-keys';

export interface OrgApi {
  listProviders(): PromiseLike<ProvidersState>;
  connectAdmin(params: ConnectAdminParams): PromiseLike<ConnectAdminResult>;
  disconnectAdmin(params: DisconnectAdminParams): PromiseLike<DisconnectAdminResult>;
}

export function adminKeyPrompt(): Parameters<FlowUi['input']>[0] {
  return {
    title: 'Sidekick: Connect Organization',
    prompt:
      'Paste an OpenAI Admin API key (sk-admin-…). An organization owner creates it on the admin keys page; read-only is enough. ' +
      'It is used only to read usage and costs, never for chat.',
    placeholder: 'sk-admin-…',
    password: true,
    validate: (v) => (v.trim() ? undefined : 'Paste the admin key, or press Escape.'),
    link: { title: 'Open admin keys page', url: ADMIN_KEYS_URL },
  };
}

/** Asks for the admin key and connects it; a refused key is asked again, a network failure
 * retries with what was typed. */
export async function connectOrganization(ui: FlowUi, api: OrgApi, runner: ActionRunner, provider = 'openai'): Promise<FlowOutcome> {
  let key: string | undefined;
  for (;;) {
    key ??= await ui.input(adminKeyPrompt());
    if (key === undefined) return 'cancelled';
    const adminKey = key;
    try {
      const r = await ui.progress('Sidekick: checking the admin key…', () => api.connectAdmin({ provider, adminKey }));
      await ui.show('info', `Sidekick: organization connected (admin key ${r.adminKeyHint ?? 'stored'}).`, []);
      return 'connected';
    } catch (err) {
      const g = guidanceOf(err);
      if (!g) {
        const choice = await ui.show('error', `Sidekick: could not connect the organization: ${errorMessage(err)}`, [TRY_AGAIN]);
        if (choice !== TRY_AGAIN) return 'failed';
        if (isInvalidParams(err)) key = undefined;
        continue;
      }
      // The key was the problem: ask again. Anything else (network, 5xx): the same key.
      const keyWasWrong = g.kind === 'admin_key_required' || g.kind === 'invalid_key';
      const choice = await showGuidance(g, ui, [TRY_AGAIN]);
      if (choice === undefined || (typeof choice === 'string' && choice !== TRY_AGAIN)) return 'failed';
      if (typeof choice !== 'string' && !(choice.type === 'command' && choice.command === 'sidekick.connectOrganization')) {
        await runAction(choice, runner);
        if (choice.type !== 'url') return 'failed';
      }
      if (keyWasWrong) key = undefined;
    }
  }
}

export async function disconnectOrganization(ui: FlowUi, api: OrgApi, provider = 'openai'): Promise<FlowOutcome> {
  const state = await api.listProviders();
  const p = state.providers.find((x) => x.id === provider);
  if (!p?.adminConnected) {
    await ui.show('info', 'Sidekick: no organization is connected.', []);
    return 'nothing';
  }
  if (p.adminKeySource === 'env') {
    await ui.show('info', 'Sidekick: the admin key comes from OPENAI_ADMIN_KEY in the server\'s environment; unset it and restart the server.', []);
    return 'nothing';
  }
  const ok = await ui.confirm(`Disconnect the ${p.name} organization? Its admin key (${p.adminKeyHint ?? 'stored'}) is deleted from the keychain; the costs already read stay cached.`, 'Disconnect');
  if (!ok) return 'cancelled';
  await api.disconnectAdmin({ provider });
  return 'disconnected';
}
