// The chat view's conversation list, Edit of a sent question, Regenerate, and attached context
// (chips), driven as the extension drives them: by posted messages.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConversationItem } from '../../src/chat/messages';
import { assistant, connectedHeader, openView, startHarness, user, type Harness, type View } from './harness';

const items: ConversationItem[] = [
  { id: 'c2', title: 'Why is the build slow?', model: 'gpt-4o-mini', when: '3 min ago', messageCount: 4, current: true },
  { id: 'c1', title: '<img src=x onerror="window.__pwned=1">', model: null, when: 'yesterday', messageCount: 1, current: false },
];

describe('chat webview: conversations, edit, context', () => {
  let h: Harness;
  let v: View;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('lists conversations (title, model, relative time), searches, and switches to one', async () => {
    v = await openView(h);
    const { page } = v;
    await v.send({ type: 'state', header: connectedHeader, streaming: false, messages: [user('u1', 'Old question'), assistant('a1', 'Old answer')] });
    assert.equal(await page.isHidden('[data-testid="history"]'), true);
    await page.click('[data-testid="history-button"]');
    await v.waitForPosted({ type: 'listConversations', query: '' } as never);
    assert.equal(await page.isHidden('.conversation'), true, 'the list takes the conversation\'s place');
    await v.send({ type: 'conversations', query: '', items });
    await page.waitForSelector('[data-testid="history-item"]');
    const rows = await page.$$eval('[data-testid="history-item"]', (els) =>
      els.map((e) => [e.getAttribute('data-id'), e.querySelector('.history-title')?.textContent, e.querySelector('[data-testid="history-meta"]')?.textContent, e.classList.contains('current')]),
    );
    assert.deepEqual(rows, [
      ['c2', 'Why is the build slow?', 'gpt-4o-mini · 3 min ago · 4 messages', true],
      ['c1', '<img src=x onerror="window.__pwned=1">', 'yesterday · 1 message', false],
    ]);
    assert.equal(await page.evaluate(() => window.__pwned), undefined, 'a title is text, never HTML');

    // Typing searches (once per pause); an answer to an older query is not shown.
    await page.fill('[data-testid="history-search"]', 'build');
    await v.waitForPosted({ type: 'listConversations', query: 'build' } as never);
    await v.send({ type: 'conversations', query: '', items: [] });
    // Messages arrive in order: once this fill shows, the stale list was handled (and ignored).
    await v.send({ type: 'fill', tokens: 5, window: null });
    await page.waitForFunction(() => document.querySelector('[data-testid="window-fill"]')?.textContent === '5 tokens');
    assert.equal(await page.locator('[data-testid="history-item"]').count(), 2, 'a stale answer is ignored');
    await v.send({ type: 'conversations', query: 'build', items: [items[0]!] });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="history-item"]').length === 1);
    await v.send({ type: 'conversations', query: 'build', items: [] });
    await page.waitForFunction(() => document.querySelector('[data-testid="history-empty"]')?.textContent === 'No conversation matches.');
    await v.send({ type: 'conversations', query: 'build', items });

    await page.locator('[data-testid="history-item"][data-id="c1"] [data-testid="history-rename"]').click();
    await v.waitForPosted({ type: 'renameConversation', id: 'c1' } as never);
    await page.locator('[data-testid="history-item"][data-id="c1"] [data-testid="history-delete"]').click();
    await v.waitForPosted({ type: 'deleteConversation', id: 'c1' } as never);
    assert.equal(await page.isVisible('[data-testid="history"]'), true, 'rename and delete keep the list open');

    await page.locator('[data-testid="history-item"][data-id="c2"] [data-testid="history-open"]').click();
    await v.waitForPosted({ type: 'openConversation', id: 'c2' } as never);
    assert.equal(await page.isHidden('[data-testid="history"]'), true, 'opening one goes back to the chat');
    await v.send({ type: 'state', header: connectedHeader, streaming: false, messages: [user('s1', 'Why is the build slow?'), assistant('s2', 'Because of X.', { status: 'interrupted' })] });
    await page.waitForFunction(() => document.querySelector('[data-testid="message-user"] .message-body')?.textContent?.trim() === 'Why is the build slow?');
    assert.equal(await page.locator('[data-testid="message-user"]').count(), 1, 'the old conversation is gone from the view');
    assert.equal(await page.getAttribute('[data-testid="message-assistant"]', 'data-status'), 'interrupted');
    assert.deepEqual(await page.evaluate(() => window.__csp), []);
    await v.close();
  });

  it('edits a sent question in place: Enter asks it anew, Escape keeps it', async () => {
    v = await openView(h);
    const { page } = v;
    await v.send({
      type: 'state',
      header: connectedHeader,
      streaming: false,
      messages: [user('u1', 'First **question**'), assistant('a1', 'One'), user('u2', 'Second'), assistant('a2', 'Two')],
    });
    await page.waitForSelector('[data-testid="edit"]');
    assert.equal(await page.locator('[data-testid="message-user"] [data-testid="edit"]').count(), 2, 'every question');
    assert.equal(await page.locator('[data-testid="message-assistant"] [data-testid="edit"]').count(), 0, 'no answer');

    const first = page.locator('[data-testid="message-user"]').first();
    await first.locator('[data-testid="edit"]').click();
    assert.equal(await first.locator('[data-testid="edit-input"]').inputValue(), 'First **question**', 'the text as written');
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !document.querySelector('[data-testid="edit-input"]'));
    assert.equal((await first.locator('.message-body').textContent())?.trim(), 'First question', 'cancel restores the question');
    assert.equal((await v.posted()).some((m) => m.type === 'edit'), false);

    await first.locator('[data-testid="edit"]').click();
    await first.locator('[data-testid="edit-input"]').fill('First, rephrased');
    await page.keyboard.press('Enter');
    await v.waitForPosted({ type: 'edit', id: 'u1', text: 'First, rephrased' } as never);

    // An empty edit is not sent; Send is a button too.
    await first.locator('[data-testid="edit"]').click();
    await first.locator('[data-testid="edit-input"]').fill('   ');
    await first.locator('[data-testid="edit-send"]').click();
    assert.equal((await v.posted()).filter((m) => m.type === 'edit').length, 1);
    await first.locator('[data-testid="edit-cancel"]').click();

    // While an answer streams a question cannot be edited.
    await v.send({ type: 'state', header: connectedHeader, streaming: true, messages: [user('u1', 'First, rephrased'), assistant('a1', '', { status: 'streaming' })] });
    await page.waitForFunction(() => document.body.dataset.streaming === 'true');
    assert.equal(await page.isVisible('[data-testid="edit"]'), false);
    await v.close();
  });

  it('Regenerate after an edit asks the last question again', async () => {
    v = await openView(h);
    const { page } = v;
    await v.send({ type: 'state', header: connectedHeader, streaming: false, messages: [user('u1', 'Q'), assistant('a1', 'A', { status: 'stopped' })] });
    await page.waitForSelector('[data-testid="retry"]');
    assert.equal(await page.locator('[data-testid="regenerate"]').count(), 0, 'a stopped answer has Retry, not Regenerate');
    await v.send({ type: 'message', streaming: false, message: assistant('a1', 'A whole answer') });
    await page.waitForSelector('[data-testid="regenerate"]');
    await page.click('[data-testid="regenerate"]');
    await v.waitForPosted({ type: 'retry', id: 'a1' } as never);
    await v.close();
  });

  it('shows attached context as removable chips, and a sent question\'s context under it', async () => {
    v = await openView(h);
    const { page } = v;
    assert.equal(await page.isHidden('[data-testid="chips"]'), true, 'nothing attached: no chip row');
    await page.click('[data-testid="attach-file"]');
    await v.waitForPosted({ type: 'attach', what: 'file' } as never);
    await page.click('[data-testid="attach-editors"]');
    await v.waitForPosted({ type: 'attach', what: 'editors' } as never);
    await page.click('[data-testid="attach-selection"]');
    await v.waitForPosted({ type: 'attach', what: 'selection' } as never);

    await v.send({
      type: 'context',
      chips: [
        { key: 'file:src/app.ts', kind: 'file', label: 'app.ts', title: 'src/app.ts', size: '1.2k tokens' },
        { key: 'selection:lib.rs:3-9', kind: 'selection', label: 'lib.rs:3-9', title: 'src/lib.rs:3-9', size: '7 lines' },
      ],
    });
    await page.waitForSelector('[data-testid="context-chip"]');
    const chips = await page.$$eval('[data-testid="context-chip"]', (els) =>
      els.map((e) => [e.querySelector('.chip-label')?.textContent, e.querySelector('.chip-size')?.textContent, e.getAttribute('title')]),
    );
    assert.deepEqual(chips, [
      ['app.ts', '1.2k tokens', 'src/app.ts'],
      ['lib.rs:3-9', '7 lines', 'src/lib.rs:3-9'],
    ]);
    await page.locator('[data-testid="context-chip"]').nth(1).locator('[data-testid="chip-remove"]').click();
    await v.waitForPosted({ type: 'detach', key: 'selection:lib.rs:3-9' } as never);
    await v.send({ type: 'context', chips: [] });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="context-chip"]').length === 0);
    assert.equal(await page.isHidden('[data-testid="chips"]'), true);

    await v.send({
      type: 'state',
      header: connectedHeader,
      streaming: false,
      messages: [
        { ...user('u1', 'What does this do?'), context: [{ kind: 'selection', path: 'src/lib.rs', languageId: 'rust', range: { startLine: 3, endLine: 4 }, text: 'fn a() {}\nfn b() {}\n' }] },
        assistant('a1', 'Two functions.'),
      ],
    });
    await page.waitForSelector('[data-testid="sent-context"]');
    assert.equal(await page.textContent('[data-testid="sent-context"] .chip-label'), 'lib.rs:3-4');
    assert.equal(await page.textContent('[data-testid="sent-context"] .chip-size'), '2 lines');
    assert.equal(await page.locator('[data-testid="sent-context"] [data-testid="chip-remove"]').count(), 0, 'a sent question\'s context stays');
    await v.close();
  });

  it('@ offers the files the extension found; Enter attaches one and takes the mention out', async () => {
    v = await openView(h);
    const { page } = v;
    const box = page.locator('[data-testid="prompt-input"]');
    await box.click();
    await page.keyboard.type('Explain @hel');
    await v.waitForPosted({ type: 'mentionQuery', query: 'hel' } as never);
    // An answer to an older query is not shown.
    await v.send({ type: 'mentions', query: 'he', files: ['stale.py'] });
    await v.send({ type: 'mentions', query: 'hel', files: ['hello.py', 'src/<b>help</b>.md'] });
    await page.waitForSelector('[data-testid="mention-option"]');
    const rows = await page.$$eval('[data-testid="mention-option"]', (els) => els.map((e) => [e.textContent, e.getAttribute('aria-selected')]));
    assert.deepEqual(rows, [
      ['hello.py', 'true'],
      ['src/<b>help</b>.md', 'false'],
    ], 'a path is text, never HTML');
    assert.equal(await box.getAttribute('aria-expanded'), 'true');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.getAttribute('[data-testid="mention-option"].active', 'data-path'), 'hello.py', 'Down wraps around');
    await page.keyboard.press('Enter');
    await v.waitForPosted({ type: 'attachMention', path: 'hello.py' } as never);
    assert.equal(await box.inputValue(), 'Explain ', 'the mention left the text; nothing was sent');
    assert.equal(await page.isHidden('[data-testid="mention-list"]'), true);
    assert.equal((await v.posted()).filter((m) => m.type === 'send').length, 0);

    // Escape closes the list without stopping or sending; Enter then sends.
    await page.keyboard.type('@zz');
    await v.waitForPosted({ type: 'mentionQuery', query: 'zz' } as never);
    await v.send({ type: 'mentions', query: 'zz', files: [] });
    await page.waitForFunction(() => document.querySelector('[data-testid="mention-empty"]')?.textContent === 'No file matches.');
    await page.keyboard.press('Escape');
    assert.equal(await page.isHidden('[data-testid="mention-list"]'), true);
    await page.keyboard.press('Enter');
    await v.waitForPosted({ type: 'send', text: 'Explain @zz' } as never);

    // A click picks too; an @ inside a word (an address) asks nothing.
    await page.keyboard.type('mail me@example.com or @');
    await v.waitForPosted({ type: 'mentionQuery', query: '' } as never);
    assert.equal((await v.posted()).some((m) => m.type === 'mentionQuery' && m.query.includes('example')), false);
    await v.send({ type: 'mentions', query: '', files: ['a.ts', 'b.ts'] });
    await page.locator('[data-testid="mention-option"][data-path="b.ts"]').click();
    await v.waitForPosted({ type: 'attachMention', path: 'b.ts' } as never);
    assert.equal(await box.inputValue(), 'mail me@example.com or ');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'prompt-input');
    await v.close();
  });

  it('the window fill counts attachments too: the view shows whatever the extension counted', async () => {
    v = await openView(h);
    const { page } = v;
    await v.send({ type: 'context', chips: [{ key: 'file:a', kind: 'file', label: 'a', title: 'a', size: '115k tokens' }] });
    await v.send({ type: 'fill', tokens: 116_000, window: 128_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="window-fill"]')?.textContent === '116k / 128k tokens');
    assert.equal(await page.getAttribute('[data-testid="window-fill"]', 'data-near'), 'true');
    await v.send({ type: 'fill', tokens: 1_000, window: 128_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="window-fill"]')?.getAttribute('data-near') === 'false');
    assert.equal(await page.textContent('[data-testid="window-fill"]'), '1k / 128k tokens');
    await v.close();
  });
});
