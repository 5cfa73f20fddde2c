// The status bar item: the active model (click → Select Your AI), a spinner while an answer
// streams, "Sidekick: not connected" otherwise. `statusText` is pure for tests.

import * as vscode from 'vscode';
import type { ProvidersState } from './protocol';

export interface StatusView {
  text: string;
  tooltip: string;
}

export function statusText(state: ProvidersState | undefined, streaming: boolean, serverDown: boolean): StatusView {
  if (serverDown) {
    return { text: '$(error) Sidekick: server stopped', tooltip: 'The Sidekick server is not running. Click to pick a provider, or run "Sidekick: Restart Server".' };
  }
  const active = state?.active ?? null;
  const provider = active ? state?.providers.find((p) => p.id === active.provider) : undefined;
  if (!active || !provider?.connected) {
    return { text: '$(plug) Sidekick: not connected', tooltip: 'Click to select your AI provider and model' };
  }
  const icon = streaming ? '$(loading~spin)' : '$(sparkle)';
  return {
    text: `${icon} ${active.model}`,
    tooltip: `Sidekick: ${provider.name} · ${active.model}${streaming ? ' (answering…)' : ''}. Click to change.`,
  };
}

export class StatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('sidekick.status', vscode.StatusBarAlignment.Right, 100);
  private state: ProvidersState | undefined;
  private streaming = false;
  private serverDown = false;

  constructor() {
    this.item.name = 'Sidekick';
    this.item.command = 'sidekick.selectYourAI';
    this.render();
    this.item.show();
  }

  setState(state: ProvidersState | undefined): void {
    this.state = state;
    this.serverDown = false;
    this.render();
  }

  setStreaming(streaming: boolean): void {
    this.streaming = streaming;
    this.render();
  }

  setServerDown(down: boolean): void {
    this.serverDown = down;
    this.render();
  }

  private render(): void {
    const view = statusText(this.state, this.streaming, this.serverDown);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
  }

  dispose(): void {
    this.item.dispose();
  }
}
