// Registers the Sidekick commands and adapts `vscode.window` to the flows' small UI interface.

import * as vscode from 'vscode';
import { openConversation } from './chat/history';
import type { ChatPanel } from './chat/panel';
import { openEditors, pickFiles, selections } from './chat/attach';
import type { SidekickClient } from './client';
import * as flows from './flows';
import { defaultModelFor, matchesWords } from './modelList';
import type { ActionRunner, Severity } from './guidance';
import { settingsQuery } from './settings';
import { connectOrganization, disconnectOrganization } from './orgCosts/connect';

/** Every command id, exactly as contributed in package.json. */
export const CommandId = {
  selectYourAI: 'sidekick.selectYourAI',
  selectModel: 'sidekick.selectModel',
  disconnect: 'sidekick.disconnect',
  newChat: 'sidekick.newChat',
  askAboutSelection: 'sidekick.askAboutSelection',
  stop: 'sidekick.stop',
  restartServer: 'sidekick.restartServer',
  showLogs: 'sidekick.showLogs',
  focusChat: 'sidekick.focusChat',
  openSettings: 'sidekick.openSettings',
  showRequestLog: 'sidekick.showRequestLog',
  showSpend: 'sidekick.showSpend',
  showOrgCosts: 'sidekick.showOrgCosts',
  connectOrganization: 'sidekick.connectOrganization',
  disconnectOrganization: 'sidekick.disconnectOrganization',
  openConversation: 'sidekick.openConversation',
  dropOldest: 'sidekick.dropOldest',
  addFile: 'sidekick.addFile',
  addOpenEditors: 'sidekick.addOpenEditors',
  addSelection: 'sidekick.addSelection',
} as const;

/** Set while some provider is connected: the chat title bar shows Disconnect only then. */
export const CONNECTED_CONTEXT = 'sidekick.connected';

/** `vscode.window` as the flows see it. */
export const vscodeUi: flows.FlowUi = {
  defaultModel(provider: string): string | undefined {
    return defaultModelFor(vscode.workspace.getConfiguration('sidekick').get('defaultModel'), provider);
  },
  async pick<T>(items: flows.PickItem<T>[], options: flows.PickOptions): Promise<T | undefined> {
    if (options.matchWords) return pickByWords(items, options);
    const picked = await vscode.window.showQuickPick(
      items.map((item) => ({ label: item.label, description: item.description, detail: item.detail, picked: item.picked, item })),
      {
        title: options.title,
        placeHolder: options.placeholder,
        matchOnDescription: options.matchOnDescription ?? false,
        matchOnDetail: options.matchOnDetail ?? false,
        ignoreFocusOut: true,
      },
    );
    return picked?.item.value;
  },
  pickOrType(items: flows.PickItem<string>[], options: flows.PickOrTypeOptions): Promise<string | undefined> {
    return new Promise((resolve) => {
      type Item = vscode.QuickPickItem & { value: string };
      // With `matchWords` the list is filtered here (words in any order) and each kept item is
      // `alwaysShow`, so the editor's own fuzzy match does not filter it again.
      const byWords = options.matchWords ?? false;
      const listed: Item[] = items.map((i) => ({ label: i.label, description: i.description, detail: i.detail, value: i.value, alwaysShow: byWords }));
      const shown = (typed: string) => (byWords ? listed.filter((i) => matchesWords(typed, searchedTexts(i, options))) : listed);
      const qp = vscode.window.createQuickPick<Item>();
      qp.title = options.title;
      qp.placeholder = options.placeholder;
      qp.matchOnDescription = options.matchOnDescription ?? false;
      qp.matchOnDetail = options.matchOnDetail ?? false;
      qp.ignoreFocusOut = true;
      qp.items = listed;
      // What the user types is a choice of its own, first, always shown (alwaysShow).
      qp.onDidChangeValue((text) => {
        const typed = text.trim();
        qp.items = typed
          ? [{ label: options.typed(typed), value: typed, alwaysShow: true }, ...shown(typed).filter((i) => i.value !== typed)]
          : listed;
      });
      let done = false;
      qp.onDidAccept(() => {
        done = true;
        resolve(qp.selectedItems[0]?.value ?? (qp.value.trim() || undefined));
        qp.hide();
      });
      qp.onDidHide(() => {
        if (!done) resolve(undefined);
        qp.dispose();
      });
      qp.show();
    });
  },
  input(options: flows.InputOptions): Promise<string | undefined> {
    return new Promise((resolve) => {
      const box = vscode.window.createInputBox();
      box.title = options.title;
      box.prompt = options.prompt;
      box.password = options.password ?? false;
      box.value = options.value ?? '';
      box.placeholder = options.placeholder;
      box.ignoreFocusOut = true;
      const link = options.link;
      if (link) box.buttons = [{ iconPath: new vscode.ThemeIcon('link-external'), tooltip: link.title }];
      box.onDidTriggerButton(() => {
        if (link) void vscode.env.openExternal(vscode.Uri.parse(link.url, true));
      });
      box.onDidChangeValue((v) => {
        box.validationMessage = options.validate?.(v);
      });
      let done = false;
      box.onDidAccept(() => {
        const message = options.validate?.(box.value);
        if (message) {
          box.validationMessage = message;
          return;
        }
        done = true;
        resolve(box.value);
        box.hide();
      });
      box.onDidHide(() => {
        if (!done) resolve(undefined);
        box.dispose();
      });
      box.show();
    });
  },
  progress<T>(title: string, task: () => PromiseLike<T>): Thenable<T> {
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, () => task());
  },
  async confirm(message: string, button: string): Promise<boolean> {
    return (await vscode.window.showWarningMessage(message, { modal: true }, button)) === button;
  },
  show(severity: Severity, message: string, buttons: string[]): Thenable<string | undefined> {
    const show =
      severity === 'error'
        ? vscode.window.showErrorMessage
        : severity === 'warning'
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
    return show(message, ...buttons);
  },
};

/** What a word-matched picker searches in an item: its label, and what the options allow. */
function searchedTexts(i: vscode.QuickPickItem, options: flows.PickOptions): (string | undefined)[] {
  return [i.label, options.matchOnDescription === false ? undefined : i.description, options.matchOnDetail === false ? undefined : i.detail];
}

/**
 * A QuickPick filtered by `flows.matchesWords` (words in any order) instead of the editor's
 * fuzzy match, which wants the typed characters in the label's order ("4o mini" would not find
 * `gpt-4o-mini`). The items we keep are `alwaysShow`, so the editor does not filter them again;
 * the list keeps its order (current or suggested model first).
 */
function pickByWords<T>(items: flows.PickItem<T>[], options: flows.PickOptions): Promise<T | undefined> {
  return new Promise((resolve) => {
    type Item = vscode.QuickPickItem & { value: T };
    const all: Item[] = items.map((i) => ({
      label: i.label,
      description: i.description,
      detail: i.detail,
      value: i.value,
      alwaysShow: true,
    }));
    const qp = vscode.window.createQuickPick<Item>();
    qp.title = options.title;
    qp.placeholder = options.placeholder;
    qp.matchOnDescription = options.matchOnDescription ?? false;
    qp.matchOnDetail = options.matchOnDetail ?? false;
    qp.ignoreFocusOut = true;
    qp.items = all;
    const picked = items.findIndex((i) => i.picked);
    if (picked >= 0) qp.activeItems = [all[picked]!];
    qp.onDidChangeValue((text) => {
      qp.items = all.filter((i) => matchesWords(text, searchedTexts(i, options)));
    });
    let done = false;
    qp.onDidAccept(() => {
      const chosen = qp.selectedItems[0] ?? qp.activeItems[0];
      if (!chosen) return;
      done = true;
      resolve(chosen.value);
      qp.hide();
    });
    qp.onDidHide(() => {
      if (!done) resolve(undefined);
      qp.dispose();
    });
    qp.show();
  });
}

export const vscodeRunner: ActionRunner = {
  openUrl: (url) => vscode.env.openExternal(vscode.Uri.parse(url, true)),
  runCommand: (command, ...args) => vscode.commands.executeCommand(command, ...args),
};

export interface CommandDeps {
  client: SidekickClient;
  panel: ChatPanel;
  log: vscode.LogOutputChannel;
  /** The last text editor that had focus (the chat view takes focus away). */
  lastEditor(): vscode.TextEditor | undefined;
  /** Starts the server again from scratch (new binary lookup, new process). */
  restartServer(): Promise<void>;
  /** Opens the usage view (request log and spend) at a section. */
  showUsage(section: 'log' | 'spend'): void;
  /** Opens Usage and Costs (the organization's bill). */
  showOrgCosts(): void;
}

/**
 * A command that runs a flow and returns its outcome, so a chat card's button ("Re-enter key",
 * "Pick another model") knows whether the problem was fixed and can offer "Ask again".
 */
function runFlow<A extends unknown[]>(
  name: string,
  log: vscode.LogOutputChannel,
  flow: (...args: A) => Promise<flows.FlowOutcome>,
) {
  return async (...args: A): Promise<flows.FlowOutcome> => {
    try {
      const outcome = await flow(...args);
      log.debug(`${name}: ${outcome}`);
      return outcome;
    } catch (err) {
      log.error(`${name} failed: ${String(err)}`);
      void vscode.window.showErrorMessage(`Sidekick: ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
      return 'failed';
    }
  };
}

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { client, panel, log } = deps;
  const api: flows.FlowApi = client;
  return [
    vscode.commands.registerCommand(
      CommandId.selectYourAI,
      // A provider id (from a guidance button) goes straight to that provider; anything else
      // (the title bar passes nothing, a keybinding may pass an object) opens the list.
      runFlow('Select Your AI', log, (provider?: unknown) =>
        flows.selectYourAI(vscodeUi, api, vscodeRunner, typeof provider === 'string' ? provider : undefined),
      ),
    ),
    vscode.commands.registerCommand(
      CommandId.selectModel,
      runFlow('Select Model', log, () => flows.selectModel(vscodeUi, api, vscodeRunner)),
    ),
    vscode.commands.registerCommand(
      CommandId.disconnect,
      runFlow('Disconnect', log, () => flows.disconnect(vscodeUi, api, vscodeRunner)),
    ),
    vscode.commands.registerCommand(CommandId.newChat, () => panel.newChat()),
    vscode.commands.registerCommand(CommandId.openConversation, () => openConversation(client, panel, log)),
    // The window guard's button: the chat it refused, sent again without the oldest turns.
    vscode.commands.registerCommand(CommandId.dropOldest, (chatId?: unknown) => panel.dropOldest(chatId)),
    vscode.commands.registerCommand(CommandId.addFile, async () => panel.attach(await pickFiles())),
    vscode.commands.registerCommand(CommandId.addOpenEditors, async () => panel.attach(await openEditors())),
    vscode.commands.registerCommand(CommandId.addSelection, () =>
      panel.attach(selections(vscode.window.activeTextEditor ?? deps.lastEditor())),
    ),
    vscode.commands.registerCommand(CommandId.stop, () => panel.stop()),
    vscode.commands.registerCommand(CommandId.showLogs, () => log.show(true)),
    vscode.commands.registerCommand(CommandId.focusChat, () => panel.focusPrompt()),
    // "Raise the budget" passes "budget": the Settings editor opens on sidekick.budget.
    vscode.commands.registerCommand(CommandId.openSettings, (section?: unknown) =>
      vscode.commands.executeCommand('workbench.action.openSettings', settingsQuery(section)),
    ),
    vscode.commands.registerCommand(CommandId.showRequestLog, () => deps.showUsage('log')),
    vscode.commands.registerCommand(CommandId.showSpend, () => deps.showUsage('spend')),
    vscode.commands.registerCommand(CommandId.showOrgCosts, () => deps.showOrgCosts()),
    vscode.commands.registerCommand(
      CommandId.connectOrganization,
      runFlow('Connect Organization', log, () => connectOrganization(vscodeUi, client, vscodeRunner)),
    ),
    vscode.commands.registerCommand(
      CommandId.disconnectOrganization,
      runFlow('Disconnect Organization', log, () => disconnectOrganization(vscodeUi, client)),
    ),
    vscode.commands.registerCommand(CommandId.restartServer, async () => {
      try {
        await deps.restartServer();
        void vscode.window.showInformationMessage('Sidekick: the server restarted.');
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        log.error(`Restart failed: ${message}`);
        const choice = await vscode.window.showErrorMessage(`Sidekick: ${message}`, 'Open Settings', 'Show Logs');
        if (choice === 'Open Settings') {
          await vscode.commands.executeCommand('workbench.action.openSettings', 'sidekick.server.path');
        } else if (choice === 'Show Logs') log.show(true);
      }
    }),
    // The selection goes along as a context item (a chip), the question is the user's to type.
    vscode.commands.registerCommand(CommandId.askAboutSelection, async () => {
      const editor = vscode.window.activeTextEditor ?? deps.lastEditor();
      if (!editor || editor.selection.isEmpty) {
        void vscode.window.showInformationMessage('Sidekick: select some code first, then run "Ask About Selection".');
        return;
      }
      await panel.attach(selections(editor));
    }),
  ];
}
