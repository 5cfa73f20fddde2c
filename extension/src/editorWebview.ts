// An editor-area webview panel of ours (Show Request Log, Usage and Costs): scripts on, command
// URIs off, resources only from dist/webview, and the HTML shell with its CSP and a fresh nonce.

import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { makeNonce, webviewHtml } from './chat/html';

export function openEditorWebview(
  context: vscode.ExtensionContext,
  viewType: string,
  title: string,
  /** The bundle's base name in dist/webview: `usage` → usage.js and usage.css. */
  bundle: string,
): vscode.WebviewPanel {
  const root = vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview');
  const panel = vscode.window.createWebviewPanel(viewType, title, vscode.ViewColumn.Active, {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [root],
    retainContextWhenHidden: false,
  });
  panel.webview.html = webviewHtml({
    cspSource: panel.webview.cspSource,
    nonce: makeNonce((n) => randomBytes(n)),
    scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(root, `${bundle}.js`)).toString(),
    styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(root, `${bundle}.css`)).toString(),
  });
  return panel;
}
