// Activation: wires the client, the chat view, the status bar and the commands. Nothing else.

import * as vscode from 'vscode';
import { insertionText, languageForFence } from './chat/prompt';
import { ChatPanel } from './chat/panel';
import { ProtocolMismatchError, ServerNotFoundError, SidekickClient } from './client';
import { CONNECTED_CONTEXT, registerCommands } from './commands';
import type { ProvidersState } from './protocol';
import { SpendItem } from './spend';
import { StatusItem } from './status';
import { UsagePanel } from './usage/panel';
import { CostsPanel } from './orgCosts/panel';
import { vscodeRunner } from './commands';

let client: SidekickClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel('Sidekick', { log: true });
  const status = new StatusItem();
  let lastEditor = vscode.window.activeTextEditor;
  const showState = (state: ProvidersState) => {
    status.setState(state);
    panel.setProviders(state);
    costs.setState(state);
    // The title bar's Disconnect shows only while something is connected.
    void vscode.commands.executeCommand('setContext', CONNECTED_CONTEXT, state.providers.some((p) => p.connected));
  };
  const refresh = async () => {
    try {
      showState(await sidekick.listProviders());
    } catch (err) {
      log.warn(`listProviders failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const sidekick = new SidekickClient(context, log, {
    onStateChanged: showState,
    onChatDelta: (delta) => panel.onDelta(delta),
    onChatStatus: (s) => panel.onStatus(s),
    onRequestLogged: (entry) => {
      usage.onLogged(entry);
      spend.refreshSoon();
    },
    onOrgSync: (p) => costs.onSync(p),
    onRunning: () => {
      void refresh();
      void spend.refresh();
    },
    onStopped: () => status.setServerDown(true),
  });
  client = sidekick;
  const spend = new SpendItem((p) => sidekick.spend(p));
  const usage = new UsagePanel(context, sidekick, log);
  const costs = new CostsPanel(context, sidekick, log, vscodeRunner);
  const panel = new ChatPanel(context, {
    client: sidekick,
    log,
    onStreaming: (streaming) => status.setStreaming(streaming),
    lastEditor: () => lastEditor,
    insertAtCursor: async (text, fence) => {
      const open = (e: vscode.TextEditor | undefined) =>
        e && !e.document.isClosed && vscode.window.visibleTextEditors.includes(e) ? e : undefined;
      const editor = open(vscode.window.activeTextEditor) ?? open(lastEditor);
      const language = languageForFence(fence, await vscode.languages.getLanguages());
      if (!editor) {
        // No editor to insert into: the code gets a new document of its own, in its language.
        const doc = await vscode.workspace.openTextDocument({ language, content: insertionText(text, '') });
        await vscode.window.showTextDocument(doc);
        return;
      }
      let target = editor;
      if (editor.document.isUntitled && editor.document.languageId === 'plaintext' && language !== 'plaintext') {
        // A scratch document takes the language of the first code put into it. A language
        // change closes and reopens the document: edit through a fresh editor of it.
        const doc = await vscode.languages.setTextDocumentLanguage(editor.document, language);
        target = await vscode.window.showTextDocument(doc, { viewColumn: editor.viewColumn, selection: editor.selection });
      }
      await insertInto(target, text);
    },
  });
  /** Replaces every selection of `editor` with the code (a line of its own before other code). */
  async function insertInto(editor: vscode.TextEditor, text: string): Promise<void> {
    await editor.edit((edit) => {
      for (const selection of editor.selections) {
        const rest = editor.document.lineAt(selection.end.line).text.slice(selection.end.character);
        edit.replace(selection, insertionText(text, rest));
      }
    });
    await vscode.window.showTextDocument(editor.document, editor.viewColumn);
  }

  const startServer = async (restart: boolean) => {
    try {
      if (restart) await sidekick.restart();
      else await sidekick.start();
    } catch (err) {
      status.setServerDown(true);
      throw err;
    }
  };

  context.subscriptions.push(
    log,
    status,
    spend,
    usage,
    costs,
    panel,
    { dispose: () => void sidekick.dispose() },
    vscode.window.registerWebviewViewProvider(ChatPanel.viewId, panel),
    vscode.window.onDidChangeActiveTextEditor((editor) => {
      if (editor) lastEditor = editor;
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('sidekick.server.path')) {
        void vscode.window
          .showInformationMessage('Sidekick: the server path changed.', 'Restart Server')
          .then((choice) => choice && vscode.commands.executeCommand('sidekick.restartServer'));
      } else if (e.affectsConfiguration('sidekick')) {
        sidekick.sendSettings();
        // A new budget changes what the spend item says.
        if (e.affectsConfiguration('sidekick.budget')) spend.refreshSoon();
      }
    }),
    ...registerCommands({
      client: sidekick,
      panel,
      log,
      lastEditor: () => lastEditor,
      restartServer: () => startServer(true),
      showUsage: (section) => usage.show(section),
      showOrgCosts: () => costs.show(),
    }),
  );

  try {
    await startServer(false);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log.error(message);
    const buttons =
      err instanceof ProtocolMismatchError
        ? ['Open Settings', 'Show Logs']
        : [err instanceof ServerNotFoundError ? 'Open Settings' : 'Show Logs'];
    void vscode.window.showErrorMessage(`Sidekick: ${message}`, ...buttons).then(async (choice) => {
      if (choice === 'Open Settings') {
        await vscode.commands.executeCommand('workbench.action.openSettings', 'sidekick.server.path');
      } else if (choice === 'Show Logs') log.show(true);
    });
  }
}

export async function deactivate(): Promise<void> {
  await client?.dispose();
  client = undefined;
}
