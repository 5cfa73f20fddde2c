// Sidekick: Usage and Costs — an editor-area webview of the organization's costs (admin key).
// The host side: asks the sidecar for costs and usage (cancellable), relays ingestion progress
// and the admin key's state, runs guidance buttons, saves Export CSV. Keeps no data itself.

import * as vscode from 'vscode';
import type { SidekickClient } from '../client';
import { openEditorWebview } from '../editorWebview';
import { actionTarget, cardFor, guidanceOf, isCancelled, plainCard, runAction, type ActionRunner } from '../guidance';
import type { OrgSyncParams, ProvidersState } from '../protocol';
import { parseFromCosts, type CostsQuery, type FromCosts, type ToCosts } from './messages';

const PROVIDER = 'openai';

export class CostsPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private state: ProvidersState | undefined;
  private inFlight: vscode.CancellationTokenSource | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly client: SidekickClient,
    private readonly log: vscode.LogOutputChannel,
    private readonly runner: ActionRunner,
  ) {}

  show(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    const panel = openEditorWebview(this.context, 'sidekick.orgCosts', 'Sidekick: Usage and Costs', 'costs');
    panel.webview.onDidReceiveMessage((raw) => {
      const m = parseFromCosts(raw);
      if (m) void this.onMessage(m);
      else this.log.warn('Ignored a malformed message from the costs view');
    });
    panel.onDidDispose(() => {
      this.inFlight?.cancel();
      this.panel = undefined;
      this.ready = false;
    });
    this.panel = panel;
    this.ready = false;
  }

  /** A new providers state: the view follows the admin key being connected or removed. */
  setState(state: ProvidersState): void {
    const before = this.adminOf(this.state);
    this.state = state;
    const after = this.adminOf(state);
    if (before.connected !== after.connected || before.hint !== after.hint) this.postState();
  }

  onSync(p: OrgSyncParams): void {
    this.post({ type: 'progress', progress: p });
  }

  private adminOf(state: ProvidersState | undefined): { supported: boolean; connected: boolean; hint: string | null } {
    const p = state?.providers.find((x) => x.id === PROVIDER);
    return { supported: p?.supportsAdmin === true, connected: p?.adminConnected === true, hint: p?.adminKeyHint ?? null };
  }

  private postState(): void {
    const a = this.adminOf(this.state);
    this.post({ type: 'state', supported: a.supported, adminConnected: a.connected, keyHint: a.hint });
  }

  private post(m: ToCosts): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(m);
  }

  private async onMessage(m: FromCosts): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        try {
          this.state = await this.client.listProviders();
        } catch (err) {
          this.log.warn(`Costs view: ${err instanceof Error ? err.message : String(err)}`);
        }
        this.postState();
        return;
      case 'query':
        return this.load(m.query);
      case 'cancel':
        this.inFlight?.cancel();
        return;
      case 'connect':
        await vscode.commands.executeCommand('sidekick.connectOrganization');
        return;
      case 'action': {
        // Re-validated here: the view is not trusted to name any command or URL.
        const target = actionTarget(m.action.type === 'url' ? { title: m.action.title, url: m.action.url } : { title: m.action.title, command: m.action.command, arguments: m.action.args });
        if (target) await runAction(target, this.runner);
        return;
      }
      case 'exportCsv': {
        const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
        const uri = await vscode.window.showSaveDialog({
          defaultUri: folder ? vscode.Uri.joinPath(folder, m.fileName) : undefined,
          filters: { CSV: ['csv'] },
          saveLabel: 'Export',
        });
        if (!uri) return;
        await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(m.csv));
        void vscode.window.showInformationMessage(`Sidekick: costs exported to ${vscode.workspace.asRelativePath(uri)}.`);
        return;
      }
    }
  }

  private async load(q: CostsQuery): Promise<void> {
    this.inFlight?.cancel();
    const source = new vscode.CancellationTokenSource();
    this.inFlight = source;
    this.post({ type: 'loading', query: q });
    const base = { provider: PROVIDER, from: q.from, to: q.to, refresh: q.refresh };
    try {
      // Costs first, then usage: the two ingest one after the other, so the progress reads
      // as one sequence and the sidecar's single core is not shared by two page loops.
      const costs = await this.client.orgCosts(
        { ...base, groupBy: q.groupBy, projectIds: q.projectIds, lineItems: q.lineItems },
        source.token,
      );
      const usage = await this.client.orgUsage({ ...base, groupBy: 'model', models: q.models, projectIds: q.projectIds }, source.token);
      if (this.inFlight !== source) return;
      this.post({ type: 'data', query: { ...q, refresh: false }, costs, usage });
    } catch (err) {
      if (this.inFlight !== source) return;
      if (isCancelled(err) || source.token.isCancellationRequested) {
        this.post({ type: 'cancelled' });
        return;
      }
      const g = guidanceOf(err);
      const message = err instanceof Error ? err.message : String(err);
      this.log.warn(`Costs view: ${g ? `${g.kind}: ${g.title}` : message}`);
      this.post({ type: 'error', card: g ? cardFor(g, Date.now()) : plainCard('The costs could not be read', message) });
    } finally {
      if (this.inFlight === source) this.inFlight = undefined;
      source.dispose();
    }
  }

  dispose(): void {
    this.inFlight?.cancel();
    this.panel?.dispose();
  }
}
