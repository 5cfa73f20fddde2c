import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MAX_CONTEXT_CHARS,
  addContext,
  chipFor,
  contextKey,
  contextRefusal,
  fileContext,
  removeContext,
  selectionContext,
} from '../../src/chat/context';
import { storedCut, viewsFromStored } from '../../src/chat/conversations';
import { parseFromWebview } from '../../src/chat/messages';
import { editable, emptyState, reduce, type ChatAction, type ChatViewState, type MessageView } from '../../src/chat/state';
import type { StoredMessage } from '../../src/protocolConversations';

function stored(id: string, role: 'user' | 'assistant', content: string): StoredMessage {
  return { id, role, content, status: 'done', model: null, usage: null, costUsd: null, guidanceKind: null, createdAt: 0, context: [] };
}
const q = (id: string, text: string, storedId?: string): MessageView => ({ id, role: 'user', text, status: 'done', ...(storedId ? { storedId } : {}) });
const a = (id: string, text: string): MessageView => ({ id, role: 'assistant', text, status: 'done' });

describe('attached context', () => {
  const file = fileContext('src/app.ts', 'typescript', 'let a = 1;\nlet b = 2;\n');
  const sel = selectionContext('src/app.ts', 'typescript', 'let b = 2;', 2, 2);

  it('keeps one item per file and per range, a newer copy in the older one\'s place', () => {
    const other = fileContext('README.md', 'markdown', '# Hi');
    let items = addContext(addContext(addContext([], file), sel), other);
    assert.deepEqual(items.map(contextKey), ['file:src/app.ts', 'selection:src/app.ts:2-2', 'file:README.md']);
    const edited = fileContext('src/app.ts', 'typescript', 'changed');
    items = addContext(items, edited);
    assert.equal(items.length, 3);
    assert.equal(items[0]!.text, 'changed', 'attached again: the newer text, at the same place');
    assert.deepEqual(removeContext(items, 'selection:src/app.ts:2-2').map(contextKey), ['file:src/app.ts', 'file:README.md']);
  });

  it('builds the protocol items: lines 1-based and inclusive, no languageId when unknown', () => {
    assert.deepEqual(selectionContext('a.py', undefined, 'x', 3, 7), { kind: 'selection', path: 'a.py', range: { startLine: 3, endLine: 7 }, text: 'x' });
    assert.deepEqual(fileContext('a.py', 'python', 'x'), { kind: 'file', path: 'a.py', languageId: 'python', text: 'x' });
  });

  it('chips show the file name, the lines, and tokens once counted (lines until then)', () => {
    assert.deepEqual(chipFor(file), { key: 'file:src/app.ts', kind: 'file', label: 'app.ts', title: 'src/app.ts', size: '2 lines' });
    assert.equal(chipFor(sel).label, 'app.ts:2');
    assert.equal(chipFor(selectionContext('a\\b\\c.rs', 'rust', 'x', 3, 9)).label, 'c.rs:3-9');
    assert.equal(chipFor(sel).size, '1 line');
    assert.equal(chipFor(file, 12_400).size, '12.4k tokens');
    assert.equal(chipFor(file, 7).size, '7 tokens');
  });

  it('refuses a file too large or binary, with a reason naming it', () => {
    assert.equal(contextRefusal('ok.ts', 'x'.repeat(MAX_CONTEXT_CHARS)), undefined);
    assert.match(contextRefusal('big.log', 'x'.repeat(MAX_CONTEXT_CHARS + 1)) ?? '', /big\.log is too large.*Add Selection/);
    assert.match(contextRefusal('img.png', 'PNG\u0000\u0001') ?? '', /img\.png looks binary/);
    for (const secret of ['.env', 'app/.env.local', '.env.production', 'C:\\proj\\.ENV', '.npmrc', '.netrc', 'id_ed25519', 'certs/server.pem', 'tls.KEY', 'aws/credentials', '.git-credentials']) {
      assert.match(contextRefusal(secret, 'API_KEY=sk-live-123') ?? '', /looks like a file of keys or passwords/, secret);
    }
    for (const fine of ['.env.example', 'config/.env.sample', 'environment.ts', 'keyboard.ts', 'id_rsa.pub', 'key.ts', 'credentials.md', 'src/env.ts']) {
      assert.equal(contextRefusal(fine, 'x'), undefined, fine);
    }
  });
});

describe('edit and regenerate in the reducer', () => {
  const run = (...actions: ChatAction[]): ChatViewState => actions.reduce(reduce, emptyState);
  const item = fileContext('a.ts', 'typescript', 'x');

  it('a question keeps its context; a finished turn learns its stored ids', () => {
    const s = run(
      { type: 'userSent', userId: 'u1', assistantId: 'a1', chatId: 'c1', text: 'Why?', context: [item] },
      {
        type: 'finished',
        chatId: 'c1',
        result: { chatId: 'c1', text: 'Because', finishReason: 'stop', model: 'm', usage: null, requestId: null, userMessageId: 'sq', messageId: 'sa' },
      },
    );
    assert.deepEqual(s.messages[0]!.context, [item]);
    assert.deepEqual(s.messages.map((m) => m.storedId), ['sq', 'sa']);
  });

  it('truncated drops the message and everything after it; an unknown id changes nothing', () => {
    const s: ChatViewState = { messages: [q('u1', 'one'), a('a1', 'x'), q('u2', 'two'), a('a2', 'y')] };
    assert.deepEqual(reduce(s, { type: 'truncated', id: 'u2' }).messages.map((m) => m.id), ['u1', 'a1']);
    assert.equal(reduce(s, { type: 'truncated', id: 'nope' }), s);
  });

  it('only a question is editable, and not while an answer streams', () => {
    const s: ChatViewState = { messages: [q('u1', 'one'), a('a1', 'x')] };
    assert.equal(editable(s, 'u1')?.id, 'u1');
    assert.equal(editable(s, 'a1'), undefined);
    const streaming: ChatViewState = { messages: [q('u1', 'one'), { ...a('a1', ''), status: 'streaming', chatId: 'c' }] };
    assert.equal(editable(streaming, 'u1'), undefined);
  });
});

describe('which stored message an edit truncates from', () => {
  const store = [stored('s1', 'user', 'one'), stored('s2', 'assistant', 'x'), stored('s3', 'user', 'two'), stored('s4', 'assistant', 'y')];

  it('pairs by stored id where known, else by text in order', () => {
    const panel = [q('u1', 'one', 's1'), a('a1', 'x'), q('u2', 'two'), a('a2', 'y')];
    assert.equal(storedCut(panel, 0, store), 's1');
    assert.equal(storedCut(panel, 2, store), 's3');
  });

  it('a question the sidecar never stored (the window guard refused it) truncates nothing', () => {
    const panel = [q('u1', 'one'), a('a1', 'x'), q('u2', 'two'), a('a2', 'y'), q('u3', 'huge'), a('a3', '')];
    assert.equal(storedCut(panel, 4, store), undefined);
  });

  it('an unstored question earlier on does not shift the pairing of later ones', () => {
    const s = [stored('s1', 'user', 'one'), stored('s2', 'assistant', 'x'), stored('s5', 'user', 'three'), stored('s6', 'assistant', 'z')];
    const panel = [q('u1', 'one'), a('a1', 'x'), q('u2', 'refused'), a('a2', ''), q('u3', 'three'), a('a3', 'z')];
    assert.equal(storedCut(panel, 4, s), 's5');
    // Editing the refused one takes out what came after it, stored or not.
    assert.equal(storedCut(panel, 2, s), 's5');
  });

  it('a conversation loaded from the sidecar carries the stored ids and context', () => {
    const item = fileContext('a.ts', 'typescript', 'x');
    const views = viewsFromStored([{ ...stored('s1', 'user', 'one'), context: [item] }, stored('s2', 'assistant', 'x')]);
    assert.deepEqual(views.map((v) => v.storedId), ['s1', 's2']);
    assert.deepEqual(views[0]!.context, [item]);
    assert.equal(views[1]!.context, undefined);
  });
});

describe('the view\'s new messages are validated', () => {
  it('accepts well-formed ones and refuses the rest', () => {
    assert.deepEqual(parseFromWebview({ type: 'edit', id: 'u1', text: 'new' }), { type: 'edit', id: 'u1', text: 'new' });
    assert.equal(parseFromWebview({ type: 'edit', id: 'u1' }), undefined);
    assert.deepEqual(parseFromWebview({ type: 'attach', what: 'file' }), { type: 'attach', what: 'file' });
    assert.equal(parseFromWebview({ type: 'attach', what: 'everything' }), undefined);
    assert.deepEqual(parseFromWebview({ type: 'detach', key: 'file:a' }), { type: 'detach', key: 'file:a' });
    assert.deepEqual(parseFromWebview({ type: 'listConversations', query: 'x'.repeat(500) }), { type: 'listConversations', query: 'x'.repeat(200) });
    assert.deepEqual(parseFromWebview({ type: 'deleteConversation', id: 'c1' }), { type: 'deleteConversation', id: 'c1' });
    assert.equal(parseFromWebview({ type: 'openConversation', id: 7 }), undefined);
  });
});
