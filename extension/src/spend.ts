// The status bar's spend item: this month's spend from the ledger and the budget ("$3.42 / $20"),
// in the warning colour past `warnPercent`; a click opens the usage view.

import * as vscode from 'vscode';
import type { SpendParams, SpendResult } from './protocol';
import { spendView, thisMonth, type SpendView } from './usage/spend';

export class SpendItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('sidekick.spend', vscode.StatusBarAlignment.Right, 99);
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly load: (p: SpendParams) => Promise<SpendResult>) {
    this.item.name = 'Sidekick spend';
    this.item.command = 'sidekick.showSpend';
  }

  /** Asks the ledger again, at most once a second however many calls end. */
  refreshSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, 1000);
  }

  async refresh(): Promise<void> {
    let view: SpendView;
    try {
      view = spendView(await this.load(thisMonth(new Date())));
    } catch {
      this.item.hide();
      return;
    }
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor = view.warn ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    if (view.hidden) this.item.hide();
    else this.item.show();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.item.dispose();
  }
}
