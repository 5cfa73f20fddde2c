// Sidekick: Show Request Log / Show Spend — one editor-area webview: this month's spend (by day
// and by model, against the budget) above the request log (filters, pages, live rows from
// `sidekick/requestLogged`). Reads the sidecar's ledger; keeps nothing of its own.

import * as vscode from 'vscode';
import type { SidekickClient } from '../client';
import { openEditorWebview } from '../editorWebview';
import type { RequestLogEntry } from '../protocol';
import { thisMonth } from './spend';
import { parseFromUsage, type FromUsage, type LogFilter, type ToUsage } from './messages';

export class UsagePanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private filter: LogFilter = {};
  private section: 'log' | 'spend' = 'log';
  /** Bumped on every filter change: a page asked for under an older filter is dropped. */
  private generation = 0;
  private spendTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly client: SidekickClient,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Opens (or reveals) the view at `section`. */
  show(section: 'log' | 'spend'): void {
    this.section = section;
    if (this.panel) {
      this.panel.reveal();
      void this.load();
      return;
    }
    const panel = openEditorWebview(this.context, 'sidekick.usage', 'Sidekick: Usage', 'usage');
    panel.webview.onDidReceiveMessage((raw) => {
      const m = parseFromUsage(raw);
      if (m) void this.onMessage(m);
      else this.log.warn('Ignored a malformed message from the usage view');
    });
    panel.onDidDispose(() => {
      this.panel = undefined;
      this.ready = false;
    });
    this.panel = panel;
    this.ready = false;
  }

  /** A call the ledger just recorded: a live row, and fresh totals (at most once a second). */
  onLogged(entry: RequestLogEntry): void {
    if (!this.panel || !this.ready) return;
    this.post({ type: 'logged', entry });
    if (this.spendTimer) return;
    this.spendTimer = setTimeout(() => {
      this.spendTimer = undefined;
      void this.loadSpend();
    }, 1000);
  }

  private async loadSpend(): Promise<void> {
    try {
      const month = thisMonth(new Date());
      const [byDay, byModel] = await Promise.all([
        this.client.spend({ ...month, groupBy: 'day' }),
        this.client.spend({ ...month, groupBy: 'model' }),
      ]);
      this.post({ type: 'spend', byDay, byModel });
    } catch (err) {
      this.log.warn(`Usage view: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private post(m: ToUsage): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(m);
  }

  private async onMessage(m: FromUsage): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        return this.load();
      case 'filter':
        this.filter = m.filter;
        this.generation += 1;
        return this.load();
      case 'more':
        try {
          const asked = this.generation;
          const page = await this.client.requestLog({ ...this.filter, before: m.before, limit: 100 });
          if (asked !== this.generation) return;
          this.post({ type: 'more', entries: page.entries, nextBefore: page.nextBefore });
        } catch (err) {
          this.post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
        }
        return;
      case 'copy':
        await vscode.env.clipboard.writeText(m.text);
        vscode.window.setStatusBarMessage('$(check) Sidekick: request id copied', 2000);
        return;
    }
  }

  private async load(): Promise<void> {
    try {
      const month = thisMonth(new Date());
      const [byDay, byModel, page] = await Promise.all([
        this.client.spend({ ...month, groupBy: 'day' }),
        this.client.spend({ ...month, groupBy: 'model' }),
        this.client.requestLog({ ...this.filter, limit: 100 }),
      ]);
      this.post({
        type: 'data',
        byDay,
        byModel,
        entries: page.entries,
        nextBefore: page.nextBefore,
        filter: this.filter,
        section: this.section,
      });
    } catch (err) {
      this.post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  }

  dispose(): void {
    if (this.spendTimer) clearTimeout(this.spendTimer);
    this.panel?.dispose();
  }
}
