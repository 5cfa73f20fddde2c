// Between the sidecar's stored conversations and the chat panel's messages: stored messages
// shown in the panel, an old workspaceState history moved into the sidecar, the instructions
// of a workspace. Pure: no `vscode`, no I/O.

import { plainCard } from '../guidance';
import type { ImportedMessage, StoredMessage } from '../protocolConversations';
import type { MessageView } from './state';

/** What the panel shows of a stored conversation. */
export function viewsFromStored(messages: readonly StoredMessage[]): MessageView[] {
  return messages.map((m): MessageView => {
    const base: MessageView = {
      id: m.id,
      role: m.role,
      text: m.content,
      status: 'done',
      storedId: m.id,
      ...(m.context?.length ? { context: m.context } : {}),
      ...(m.model ? { model: m.model } : {}),
      ...(m.usage ? { usage: { ...m.usage, ...(m.costUsd !== null ? { costUsd: m.costUsd } : {}) } } : {}),
    };
    if (m.role === 'user') return base;
    switch (m.status) {
      case 'done':
        return base;
      case 'stopped':
        return { ...base, status: 'stopped' };
      // Another window's answer still being written shows as cut off here; it is complete
      // when the conversation is opened again.
      case 'streaming':
      case 'interrupted':
        return {
          ...base,
          status: 'interrupted',
          card: plainCard('The answer was interrupted', 'The answer stopped before it was complete. Ask again to get a whole one.'),
        };
      case 'failed':
        return {
          ...base,
          status: 'failed',
          card: plainCard(
            'The answer failed',
            `This question got no answer (${m.guidanceKind ?? 'an error'}). Ask again, or see the logs for what happened then.`,
          ),
        };
    }
  });
}

/** An old panel history (workspaceState), as the messages of a new stored conversation. */
export function importable(messages: readonly MessageView[]): ImportedMessage[] {
  return messages
    .filter((m) => m.role === 'user' || m.text !== '' || m.status === 'failed')
    .map((m): ImportedMessage => {
      if (m.role === 'user') return { role: 'user', content: m.text, ...(m.context?.length ? { context: m.context } : {}) };
      const status = m.status === 'streaming' ? 'interrupted' : m.status;
      return { role: 'assistant', content: m.text, status, ...(m.model ? { model: m.model } : {}) };
    });
}

/** The workspace's instructions: `.sidekick/instructions.md` wins over the setting. */
export function instructionsFrom(file: string | undefined, setting: string | undefined): string | undefined {
  const text = file?.trim() ? file : setting;
  return text?.trim() ? text.trim() : undefined;
}

/** The last question of a conversation (what Retry and Regenerate ask again from). */
export function lastQuestion(messages: readonly StoredMessage[]): StoredMessage | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]!.role === 'user') return messages[i];
  }
  return undefined;
}

/**
 * The stored message to truncate from so that the panel's message `index` (a question) and
 * everything after it leave the sidecar's copy too; undefined when none of them was stored (a
 * question the window guard refused never was). The panel's questions are paired in order with
 * the stored ones, by stored id where the panel knows it, else by text; a panel question with no
 * stored partner is one the sidecar never kept.
 */
export function storedCut(panel: readonly MessageView[], index: number, stored: readonly StoredMessage[]): string | undefined {
  const questions = stored.filter((m) => m.role === 'user');
  let next = 0;
  for (let i = 0; i < panel.length && next < questions.length; i++) {
    const m = panel[i]!;
    if (m.role !== 'user') continue;
    let paired = -1;
    if (m.storedId) {
      paired = questions.findIndex((q, at) => at >= next && q.id === m.storedId);
    } else if (questions[next]!.content === m.text.trim()) {
      paired = next;
    }
    if (paired < 0) continue;
    if (i >= index) return questions[paired]!.id;
    next = paired + 1;
  }
  return undefined;
}

/** "3 min ago", "yesterday", "12 Nov": when a conversation last changed. */
export function relativeTime(at: number, now: number): string {
  const minutes = Math.floor((now - at) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(hours / 24);
  if (days === 1) return 'yesterday';
  if (days < 7) return `${days} days ago`;
  return new Date(at).toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
}
