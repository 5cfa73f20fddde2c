// Sidekick: Open Conversation… — the sidecar's conversations in a QuickPick: newest first,
// searched by the sidecar (full text, as the user types), each with Rename and Delete buttons.

import * as vscode from 'vscode';
import type { SidekickClient } from '../client';
import { errorMessage } from '../guidance';
import type { ConversationSummary } from '../protocolConversations';
import { relativeTime } from './conversations';
import type { ChatPanel } from './panel';

type Item = vscode.QuickPickItem & { conversation: ConversationSummary };

const RENAME: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('edit'), tooltip: 'Rename' };
const DELETE: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('trash'), tooltip: 'Delete' };

function item(c: ConversationSummary, now: number, current: string | undefined): Item {
  return {
    label: c.title || '(untitled)',
    description: [c.model ?? undefined, relativeTime(c.updatedAt, now)].filter(Boolean).join(' · '),
    detail: `${c.messageCount} messages${c.id === current ? ' · open' : ''}`,
    buttons: [RENAME, DELETE],
    // The sidecar already matched the query (titles and message text): keep every item shown.
    alwaysShow: true,
    conversation: c,
  };
}

export async function openConversation(client: SidekickClient, panel: ChatPanel, log: vscode.LogOutputChannel): Promise<void> {
  const qp = vscode.window.createQuickPick<Item>();
  qp.title = 'Sidekick: Conversations';
  qp.placeholder = 'Search titles and messages';
  qp.matchOnDescription = false;
  qp.matchOnDetail = false;
  let asked = 0;
  const refresh = async () => {
    const mine = ++asked;
    qp.busy = true;
    try {
      const query = qp.value.trim();
      const r = await client.listConversations({ limit: 100, ...(query ? { query } : {}) });
      if (mine !== asked) return; // a newer query's answer wins
      const now = Date.now();
      qp.items = r.conversations.map((c) => item(c, now, panel.current()));
    } catch (err) {
      log.warn(`Could not list conversations: ${errorMessage(err)}`);
    } finally {
      if (mine === asked) qp.busy = false;
    }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  qp.onDidChangeValue(() => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void refresh(), 150);
  });
  qp.onDidTriggerItemButton(async ({ button, item: picked }) => {
    const c = picked.conversation;
    if (button === RENAME) {
      const title = await vscode.window.showInputBox({ title: 'Rename conversation', value: c.title, ignoreFocusOut: true });
      if (title?.trim()) await client.renameConversation(c.id, title);
    } else if (button === DELETE) {
      const ok = await vscode.window.showWarningMessage(
        `Delete “${c.title || '(untitled)'}” and its ${c.messageCount} messages?`,
        { modal: true },
        'Delete',
      );
      if (ok !== 'Delete') return;
      await client.deleteConversation(c.id);
      if (panel.current() === c.id) panel.newChat();
    }
    qp.show();
    await refresh();
  });
  const done = new Promise<void>((resolve) => {
    qp.onDidAccept(async () => {
      const picked = qp.selectedItems[0];
      qp.hide();
      if (picked) await panel.open(picked.conversation.id);
      resolve();
    });
    qp.onDidHide(() => resolve());
  });
  qp.show();
  await refresh();
  await done;
  if (timer) clearTimeout(timer);
  qp.dispose();
}
