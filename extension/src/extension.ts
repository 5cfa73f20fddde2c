// Activation: wires the client, the chat view, the status bar and the commands. Nothing else.

import * as vscode from 'vscode';
import { insertionText } from './chat/prompt';
import { ChatPanel } from './chat/panel';
import { ProtocolMismatchError, ServerNotFoundError, SidekickClient } from './client';
import { registerCommands } from './commands';
import { StatusItem } from './status';

let client: SidekickClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel('Sidekick', { log: true });
  const status = new StatusItem();
  let lastEditor = vscode.window.activeTextEditor;
  const refresh = async () => {
    try {
      const providers = await sidekick.listProviders();
      status.setState(providers);
      panel.setProviders(providers);
    } catch (err) {
      log.warn(`listProviders failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const sidekick = new SidekickClient(context, log, {
    onStateChanged: (state) => {
      status.setState(state);
      panel.setProviders(state);
    },
    onChatDelta: (delta) => panel.onDelta(delta),
    onChatStatus: (s) => panel.onStatus(s),
    onRunning: () => void refresh(),
    onStopped: () => status.setServerDown(true),
  });
  client = sidekick;
  const panel = new ChatPanel(context, {
    client: sidekick,
    log,
    onStreaming: (streaming) => status.setStreaming(streaming),
    insertAtCursor: async (text) => {
      const editor = vscode.window.activeTextEditor ?? lastEditor;
      if (!editor) {
        void vscode.window.showInformationMessage('Sidekick: open a file to insert the code into.');
        return;
      }
      await editor.edit((edit) => {
        for (const selection of editor.selections) {
          const rest = editor.document.lineAt(selection.end.line).text.slice(selection.end.character);
          edit.replace(selection, insertionText(text, rest));
        }
      });
      await vscode.window.showTextDocument(editor.document, editor.viewColumn);
    },
  });

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
      }
    }),
    ...registerCommands({
      client: sidekick,
      panel,
      log,
      lastEditor: () => lastEditor,
      restartServer: () => startServer(true),
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
