import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importable, instructionsFrom, lastQuestion, relativeTime, viewsFromStored } from '../../src/chat/conversations';
import type { MessageView } from '../../src/chat/state';
import { fillText } from '../../src/chat/messages';
import type { StoredMessage } from '../../src/protocolConversations';

function stored(over: Partial<StoredMessage>): StoredMessage {
  return {
    id: 'm-1',
    role: 'assistant',
    content: '',
    status: 'done',
    model: null,
    usage: null,
    costUsd: null,
    guidanceKind: null,
    createdAt: 0,
    context: [],
    ...over,
  };
}

describe('stored conversations in the panel', () => {
  it('shows every ending as the panel knows it', () => {
    const views = viewsFromStored([
      stored({ id: 'q', role: 'user', content: 'Why?' }),
      stored({
        id: 'a',
        content: 'Because.',
        model: 'gpt-4o-mini',
        usage: { promptTokens: 5, completionTokens: 2, totalTokens: 7, cachedInputTokens: null, cacheWriteTokens: null, reasoningTokens: null },
        costUsd: 0.0001,
      }),
      stored({ id: 's', content: 'Half', status: 'stopped' }),
      stored({ id: 'i', content: 'Cut', status: 'interrupted' }),
      stored({ id: 'w', content: 'Still', status: 'streaming' }),
      stored({ id: 'f', status: 'failed', guidanceKind: 'server_error' }),
    ]);
    assert.deepEqual(
      views.map((v) => [v.id, v.role, v.status, v.text]),
      [
        ['q', 'user', 'done', 'Why?'],
        ['a', 'assistant', 'done', 'Because.'],
        ['s', 'assistant', 'stopped', 'Half'],
        ['i', 'assistant', 'interrupted', 'Cut'],
        ['w', 'assistant', 'interrupted', 'Still'],
        ['f', 'assistant', 'failed', ''],
      ],
    );
    assert.equal(views[1]!.usage?.costUsd, 0.0001, 'the cost shows under the answer');
    assert.equal(views[1]!.model, 'gpt-4o-mini');
    assert.match(views[5]!.card!.detail, /server_error/);
    assert.equal(views[2]!.card, undefined, 'a stop is no failure');
  });

  it('moves an old history into the sidecar without losing an ending', () => {
    const old: MessageView[] = [
      { id: 'u1', role: 'user', text: 'Hi', status: 'done' },
      { id: 'a1', role: 'assistant', text: 'Hello', status: 'done', model: 'm' },
      { id: 'u2', role: 'user', text: 'More', status: 'done' },
      { id: 'a2', role: 'assistant', text: 'Par', status: 'streaming' },
      { id: 'u3', role: 'user', text: 'Again', status: 'done' },
      { id: 'a3', role: 'assistant', text: '', status: 'failed' },
    ];
    assert.deepEqual(importable(old), [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello', status: 'done', model: 'm' },
      { role: 'user', content: 'More' },
      { role: 'assistant', content: 'Par', status: 'interrupted' },
      { role: 'user', content: 'Again' },
      { role: 'assistant', content: '', status: 'failed' },
    ]);
  });

  it('takes the instructions file over the setting, and nothing blank', () => {
    assert.equal(instructionsFrom('  Be brief.\n', 'Be long.'), 'Be brief.');
    assert.equal(instructionsFrom(' \n', 'Be long.'), 'Be long.');
    assert.equal(instructionsFrom(undefined, '   '), undefined);
    assert.equal(instructionsFrom(undefined, undefined), undefined);
  });

  it('finds the last question', () => {
    const ms = [stored({ id: 'q1', role: 'user' }), stored({ id: 'a1' }), stored({ id: 'q2', role: 'user' }), stored({ id: 'a2' })];
    assert.equal(lastQuestion(ms)?.id, 'q2');
    assert.equal(lastQuestion([]), undefined);
  });

  it('says when a conversation changed in words', () => {
    const now = Date.parse('2026-12-04T12:00:00Z');
    assert.equal(relativeTime(now - 20_000, now), 'just now');
    assert.equal(relativeTime(now - 5 * 60_000, now), '5 min ago');
    assert.equal(relativeTime(now - 3 * 3_600_000, now), '3 h ago');
    assert.equal(relativeTime(now - 30 * 3_600_000, now), 'yesterday');
    assert.equal(relativeTime(now - 3 * 86_400_000, now), '3 days ago');
    assert.match(relativeTime(now - 40 * 86_400_000, now), /Oct/);
  });
});

describe('the window fill', () => {
  it('reads as a person would say it, and warns from 90 %', () => {
    assert.deepEqual(fillText(12_400, 128_000), { text: '12.4k / 128k tokens', near: false });
    assert.deepEqual(fillText(115_200, 128_000), { text: '115k / 128k tokens', near: true });
    assert.deepEqual(fillText(999, 8_000), { text: '999 / 8k tokens', near: false });
    assert.deepEqual(fillText(42, null), { text: '42 tokens', near: false });
    assert.deepEqual(fillText(2_000_000, 1_000_000), { text: '2000k / 1000k tokens', near: true });
  });
});
