// Where attached context comes from in the editor: Add File… (a QuickPick of the workspace's
// files), `@` in the prompt box (the same files, ranked as the user types), Add Open Editors
// (the text tabs, unsaved edits included), Add Selection. Each returns the items to attach;
// what cannot be attached is said once, in a warning.

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ContextItem } from '../protocolConversations';
import { contextRefusal, fileContext, selectionContext } from './context';
import { rankFiles } from './mentions';

/** Searched at most; a bigger workspace is narrowed by typing in the QuickPick's filter. */
const MAX_FILES = 5000;
const EXCLUDE = '{**/node_modules/**,**/.git/**,**/target/**,**/dist/**,**/out/**}';

function pathOf(doc: vscode.TextDocument): string {
  return doc.isUntitled ? path.basename(doc.fileName) : vscode.workspace.asRelativePath(doc.uri, false);
}

/** Documents as file items; the refused ones are named in one warning. */
function filesFrom(docs: readonly vscode.TextDocument[]): ContextItem[] {
  const items: ContextItem[] = [];
  const refused: string[] = [];
  for (const doc of docs) {
    const text = doc.getText();
    const why = contextRefusal(pathOf(doc), text);
    if (why) refused.push(why);
    else items.push(fileContext(pathOf(doc), doc.languageId, text));
  }
  if (refused.length) void vscode.window.showWarningMessage(`Sidekick: ${refused.join(' ')}`);
  return items;
}

async function workspaceFiles(): Promise<{ label: string; uri: vscode.Uri }[]> {
  const uris = await vscode.workspace.findFiles('**/*', EXCLUDE, MAX_FILES);
  // In a multi-root workspace two folders may both have `src/index.ts`: the folder's name
  // tells them apart (and keeps the labels unique, which the `@` offers are keyed by).
  const withFolder = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
  return uris.map((uri) => ({ label: vscode.workspace.asRelativePath(uri, withFolder), uri })).sort((a, b) => a.label.localeCompare(b.label));
}

async function readFiles(picks: readonly { label: string; uri: vscode.Uri }[]): Promise<ContextItem[]> {
  const docs: vscode.TextDocument[] = [];
  for (const pick of picks) {
    try {
      docs.push(await vscode.workspace.openTextDocument(pick.uri));
    } catch {
      // VS Code refuses to open binary files as text: the same answer as a NUL byte.
      void vscode.window.showWarningMessage(`Sidekick: ${pick.label} cannot be read as text.`);
    }
  }
  return filesFrom(docs);
}

export async function pickFiles(): Promise<ContextItem[]> {
  const files = await workspaceFiles();
  if (files.length === 0) {
    void vscode.window.showInformationMessage('Sidekick: this workspace has no files to attach.');
    return [];
  }
  const picks = await vscode.window.showQuickPick(files, {
    title: 'Sidekick: Add File',
    placeHolder: 'Files to attach to the next question',
    canPickMany: true,
    matchOnDescription: true,
  });
  return picks?.length ? readFiles(picks) : [];
}

/** How long one file listing answers `@` queries: typing a name asks many in a row. */
const MENTION_LISTING_MS = 5000;

/**
 * The workspace's files for `@` mentions. Only a path it offered can be attached: the webview
 * renders model output, so a path it sends is a choice among these, never a path to open.
 */
export class MentionFiles {
  /** The workspace's files by label, listed at most every few seconds. */
  private listing: Promise<Map<string, vscode.Uri>> | undefined;
  private listedAt = 0;
  private readonly offered = new Map<string, vscode.Uri>();

  async search(query: string): Promise<string[]> {
    if (!this.listing || Date.now() - this.listedAt > MENTION_LISTING_MS) {
      this.listedAt = Date.now();
      this.listing = workspaceFiles().then((files) => new Map(files.map((f) => [f.label, f.uri])));
    }
    const byLabel = await this.listing;
    const found = rankFiles([...byLabel.keys()], query);
    // Offers of earlier queries stay valid: a pick may come while the next query is answered.
    if (this.offered.size > 1000) this.offered.clear();
    for (const label of found) this.offered.set(label, byLabel.get(label)!);
    return found;
  }

  /** The items for a path offered by the last search; nothing for any other path. */
  async attach(label: string): Promise<ContextItem[]> {
    const uri = this.offered.get(label);
    if (!uri) {
      // Offers are forgotten after a thousand: say so rather than attach nothing silently.
      void vscode.window.showWarningMessage('Sidekick: that file is no longer in the list; type @ and pick it again.');
      return [];
    }
    return readFiles([{ label, uri }]);
  }
}

export async function openEditors(): Promise<ContextItem[]> {
  const uris = new Map<string, vscode.Uri>();
  for (const tab of vscode.window.tabGroups.all.flatMap((g) => g.tabs)) {
    if (tab.input instanceof vscode.TabInputText) uris.set(tab.input.uri.toString(), tab.input.uri);
  }
  const docs: vscode.TextDocument[] = [];
  for (const uri of uris.values()) {
    // An open document (unsaved edits and all) when the editor has it loaded.
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    try {
      docs.push(open ?? (await vscode.workspace.openTextDocument(uri)));
    } catch {
      // A tab whose file went away: nothing to attach.
    }
  }
  if (docs.length === 0) void vscode.window.showInformationMessage('Sidekick: no text editors are open.');
  return filesFrom(docs);
}

/** Every non-empty selection of `editor` (multiple cursors give several items). */
export function selections(editor: vscode.TextEditor | undefined): ContextItem[] {
  const picked = editor?.selections.filter((s) => !s.isEmpty) ?? [];
  if (!editor || picked.length === 0) {
    void vscode.window.showInformationMessage('Sidekick: select some code in an editor first.');
    return [];
  }
  const doc = editor.document;
  const items: ContextItem[] = [];
  for (const sel of picked) {
    const text = doc.getText(sel);
    const why = contextRefusal(pathOf(doc), text);
    if (why) void vscode.window.showWarningMessage(`Sidekick: ${why}`);
    // A selection ending at a line's start does not take that line.
    else {
      const endLine = sel.end.character === 0 && sel.end.line > sel.start.line ? sel.end.line : sel.end.line + 1;
      items.push(selectionContext(pathOf(doc), doc.languageId, text, sel.start.line + 1, endLine));
    }
  }
  return items;
}
