import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cardFor, plainCard } from '../../src/guidance';
import {
  conversationFor,
  emptyState,
  parsePersisted,
  persistable,
  reduce,
  retryable,
  streamingChatId,
  type ChatAction,
  type ChatViewState,
} from '../../src/chat/state';
import type { ChatResult } from '../../src/protocol';
import { guidance } from './fixtures';

function run(...actions: ChatAction[]): ChatViewState {
  return actions.reduce(reduce, emptyState);
}
const sent: ChatAction = { type: 'userSent', userId: 'u1', assistantId: 'a1', chatId: 'c1', text: 'Hi' };
const delta = (seq: number, text: string): ChatAction => ({ type: 'delta', chatId: 'c1', seq, text });
const result = (text: string, finishReason: ChatResult['finishReason'] = 'stop'): ChatAction => ({
  type: 'finished',
  chatId: 'c1',
  result: { chatId: 'c1', text, finishReason, model: 'gpt-4o-mini-2024-07-18', usage: null, requestId: null },
});
const answer = (s: ChatViewState) => s.messages.find((m) => m.id === 'a1')!;

describe('chat state reducer', () => {
  it('adds the question and a streaming answer', () => {
    const s = run(sent);
    assert.deepEqual(
      s.messages.map((m) => [m.role, m.text, m.status]),
      [
        ['user', 'Hi', 'done'],
        ['assistant', '', 'streaming'],
      ],
    );
    assert.equal(streamingChatId(s), 'c1');
  });

  it('appends deltas in seq order, buffering early ones', () => {
    let s = run(sent, delta(1, 'Hel'));
    assert.equal(answer(s).text, 'Hel');
    s = reduce(s, delta(3, ' there'));
    assert.equal(answer(s).text, 'Hel');
    s = reduce(s, delta(2, 'lo'));
    assert.equal(answer(s).text, 'Hello there');
    assert.equal(answer(s).seq, 3);
    assert.deepEqual(answer(s).pending, {});
  });

  it('drops duplicate and stale deltas', () => {
    const s = run(sent, delta(1, 'a'), delta(2, 'b'), delta(2, 'b'), delta(1, 'a'), delta(0, 'x'));
    assert.equal(answer(s).text, 'ab');
  });

  it('ignores deltas of unknown chats', () => {
    const before = run(sent);
    assert.equal(reduce(before, { type: 'delta', chatId: 'other', seq: 1, text: 'x' }), before);
  });

  it('replaces the text with the authoritative result and drops late deltas', () => {
    let s = run(sent, delta(1, 'Hel'), result('Hello! How can I help?'));
    assert.equal(answer(s).text, 'Hello! How can I help?');
    assert.equal(answer(s).status, 'done');
    assert.equal(answer(s).model, 'gpt-4o-mini-2024-07-18');
    assert.equal(answer(s).pending, undefined);
    s = reduce(s, delta(2, 'lo! How can I help?'));
    assert.equal(answer(s).text, 'Hello! How can I help?');
    assert.equal(streamingChatId(s), undefined);
  });

  it('marks a cancelled finish (disconnect) as stopped', () => {
    assert.equal(answer(run(sent, delta(1, 'a'), result('a', 'cancelled'))).status, 'stopped');
  });

  it('keeps the partial text when stopped', () => {
    const s = run(sent, delta(1, 'partial'), { type: 'stopped', chatId: 'c1' });
    assert.equal(answer(s).text, 'partial');
    assert.equal(answer(s).status, 'stopped');
    // A result arriving after the stop changes nothing.
    assert.equal(answer(reduce(s, result('partial and more'))).text, 'partial');
  });

  it('shows a retry countdown and clears it when text arrives', () => {
    let s = run(sent, { type: 'retrying', chatId: 'c1', attempt: 2, delayMs: 1500, message: 'Rate limited', now: 1000 });
    assert.deepEqual(answer(s).retry, { attempt: 2, until: 2500, message: 'Rate limited' });
    s = reduce(s, delta(1, 'ok'));
    assert.equal(answer(s).retry, undefined);
  });

  it('keeps partialText of a failure, marked interrupted, with the card', () => {
    const g = guidance({ kind: 'stream_interrupted', partialText: 'Hello, wor', actions: [] });
    const s = run(sent, delta(1, 'Hello'), { type: 'failed', chatId: 'c1', card: cardFor(g, 0), partialText: g.partialText });
    assert.equal(answer(s).text, 'Hello, wor');
    assert.equal(answer(s).status, 'interrupted');
    assert.equal(answer(s).card?.kind, 'stream_interrupted');
  });

  it('keeps what streamed when the server died (no partialText)', () => {
    const s = run(sent, delta(1, 'Hello'), {
      type: 'failed',
      chatId: 'c1',
      card: plainCard('The answer was interrupted', 'Connection got disposed.'),
      partialText: null,
    });
    assert.equal(answer(s).text, 'Hello');
    assert.equal(answer(s).status, 'interrupted');
  });

  it('marks a failure before any text as failed', () => {
    const s = run(sent, { type: 'failed', chatId: 'c1', card: cardFor(guidance({ kind: 'not_connected' }), 0), partialText: null });
    assert.equal(answer(s).status, 'failed');
    assert.equal(answer(s).text, '');
  });

  it('Retry (and Regenerate) take only the last failed, stopped or cut-off answer and its question', () => {
    const failed = run(sent, { type: 'failed', chatId: 'c1', card: cardFor(guidance(), 0), partialText: null });
    assert.equal(retryable(failed, 'a1'), 'Hi');
    const stopped = run(sent, delta(1, 'Hel'), { type: 'stopped', chatId: 'c1' });
    assert.equal(retryable(stopped, 'a1'), 'Hi');
    // Not a finished answer, not a streaming one, not an older one.
    assert.equal(retryable(run(sent, result('Hello')), 'a1'), 'Hi', 'a finished answer can be regenerated');
    assert.equal(retryable(run(sent), 'a1'), undefined);
    const later = reduce(failed, { type: 'userSent', userId: 'u2', assistantId: 'a2', chatId: 'c2', text: 'Again' });
    assert.equal(retryable(later, 'a1'), undefined);
  });

  it('a card fixed by its button is marked, once, and only a card', () => {
    const failed = run(sent, { type: 'failed', chatId: 'c1', card: cardFor(guidance(), 0), partialText: null });
    const fixed = reduce(failed, { type: 'fixed', id: 'a1' });
    assert.equal(answer(fixed).fixed, true);
    assert.equal(reduce(fixed, { type: 'fixed', id: 'a1' }), fixed);
    const done = run(sent, result('Hello'));
    assert.equal(reduce(done, { type: 'fixed', id: 'a1' }), done);
    assert.equal(reduce(done, { type: 'fixed', id: 'u1' }), done);
  });

  it('clears', () => {
    assert.deepEqual(run(sent, { type: 'cleared' }).messages, []);
  });

  it('restores history with streaming answers marked interrupted', () => {
    const streaming = run(sent, delta(1, 'half'));
    const saved = JSON.parse(JSON.stringify(persistable(streaming)));
    assert.equal(saved[1].status, 'interrupted');
    assert.equal(saved[1].pending, undefined);
    const restored = reduce(emptyState, { type: 'restored', messages: parsePersisted(saved) });
    assert.equal(answer(restored).status, 'interrupted');
    assert.equal(answer(restored).text, 'half');
    assert.equal(streamingChatId(restored), undefined);
  });

  it('ignores malformed persisted history', () => {
    assert.deepEqual(parsePersisted(undefined), []);
    assert.deepEqual(parsePersisted([{ id: 1 }, null, 'x', { id: 'a', role: 'system', text: '', status: 'done' }]), []);
  });

  it('sends the conversation without empty or streaming answers', () => {
    const s = run(sent, delta(1, 'Hello'), result('Hello!'), {
      type: 'userSent',
      userId: 'u2',
      assistantId: 'a2',
      chatId: 'c2',
      text: 'More',
    });
    assert.deepEqual(conversationFor(s), [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'More' },
    ]);
  });
});
