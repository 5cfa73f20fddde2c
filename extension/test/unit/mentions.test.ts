import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseFromWebview } from '../../src/chat/messages';
import { MAX_MENTION_QUERY, mentionAt, rankFiles, withoutMention } from '../../src/chat/mentions';

describe('@ mentions', () => {
  it('finds the mention the caret is in, at a line start or after a space only', () => {
    assert.deepEqual(mentionAt('@', 1), { start: 0, query: '' });
    assert.deepEqual(mentionAt('Explain @hel', 12), { start: 8, query: 'hel' });
    assert.deepEqual(mentionAt('Explain @src/a.ts and', 17), { start: 8, query: 'src/a.ts' });
    assert.deepEqual(mentionAt('line one\n@mai', 13), { start: 9, query: 'mai' });
    assert.equal(mentionAt('mail me@example.com', 19), undefined, 'an address is not a mention');
    assert.equal(mentionAt('Explain @hello.py please', 24), undefined, 'the caret left it');
    assert.equal(mentionAt('@@x', 3), undefined);
    assert.equal(mentionAt(`@${'a'.repeat(MAX_MENTION_QUERY + 1)}`, MAX_MENTION_QUERY + 2), undefined, 'a paragraph is not a path');
  });

  it('takes the mention and one space after it out of the text', () => {
    const text = 'Explain @hel to me';
    const m = mentionAt(text, 12)!;
    assert.deepEqual(withoutMention(text, m), { text: 'Explain to me', caret: 8 });
    assert.deepEqual(withoutMention('@x', mentionAt('@x', 2)!), { text: '', caret: 0 });
    // The caret inside the word: all of it goes, not just what was before the caret.
    assert.deepEqual(withoutMention('see @hello.py now', mentionAt('see @hello.py now', 8)!), { text: 'see now', caret: 4 });
  });

  it('never takes text outside the mention', () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(), (text, at) => {
        const caret = at % (text.length + 1);
        const m = mentionAt(text, caret);
        if (!m) return;
        assert.equal(text[m.start], '@');
        assert.equal(text.slice(m.start + 1, caret), m.query);
        const out = withoutMention(text, m);
        assert.equal(out.text.slice(0, m.start), text.slice(0, m.start));
        assert.ok(text.endsWith(out.text.slice(m.start)));
      }),
    );
  });

  it('ranks file names starting with the query first, then names, paths, and letters in order', () => {
    const paths = ['src/chat/main.ts', 'docs/domain.md', 'main.rs', 'hello.py', 'src/main/app.ts', 'README.md'];
    assert.deepEqual(rankFiles(paths, 'main'), ['main.rs', 'src/chat/main.ts', 'docs/domain.md', 'src/main/app.ts']);
    assert.deepEqual(rankFiles(paths, 'HEL'), ['hello.py']);
    assert.deepEqual(rankFiles(paths, 'chmain'), ['src/chat/main.ts'], 'letters in order');
    assert.deepEqual(rankFiles(paths, 'zzz'), []);
    assert.equal(rankFiles(paths, '').length, paths.length, 'a bare @ offers every file');
    assert.equal(rankFiles(Array.from({ length: 100 }, (_, i) => `f${i}.ts`), 'f', 20).length, 20);
  });

  it('the messages are validated: a query is bounded, a path is a non-empty string', () => {
    assert.deepEqual(parseFromWebview({ type: 'mentionQuery', query: 'hel' }), { type: 'mentionQuery', query: 'hel' });
    assert.equal(parseFromWebview({ type: 'mentionQuery', query: 'x'.repeat(MAX_MENTION_QUERY + 1) }), undefined);
    assert.equal(parseFromWebview({ type: 'mentionQuery' }), undefined);
    assert.deepEqual(parseFromWebview({ type: 'attachMention', path: 'hello.py' }), { type: 'attachMention', path: 'hello.py' });
    assert.equal(parseFromWebview({ type: 'attachMention', path: '' }), undefined);
    assert.equal(parseFromWebview({ type: 'attachMention', path: 42 }), undefined);
  });
});
