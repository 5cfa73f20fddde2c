import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assistant, connectedHeader, openView, startHarness, user, type Harness, type View } from './harness';

describe('chat webview', () => {
  let h: Harness;
  let v: View;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('shows the empty state, then the provider and model in the header', async () => {
    v = await openView(h);
    const { page } = v;
    assert.equal(await page.isVisible('[data-testid="empty-state"]'), true);
    assert.match((await page.textContent('[data-testid="empty-state"]')) ?? '', /Select Your AI/);
    assert.equal(await page.textContent('[data-testid="header-model"]'), 'Not connected');
    await page.click('[data-testid="empty-select"]');
    await v.waitForPosted({ type: 'runCommand', command: 'sidekick.selectYourAI' } as never);
    await v.send({ type: 'header', header: connectedHeader });
    await page.waitForFunction(() => document.querySelector('[data-testid="header-model"]')?.textContent === 'OpenAI · gpt-4o-mini');
    await v.close();
  });

  it('sends on Enter, keeps Shift+Enter as a new line, and refuses an empty prompt', async () => {
    v = await openView(h);
    const { page } = v;
    await page.click('[data-testid="send"]');
    await page.focus('[data-testid="prompt-input"]');
    await page.keyboard.type('first line');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('second line');
    await page.keyboard.press('Enter');
    await v.waitForPosted({ type: 'send', text: 'first line\nsecond line' } as never);
    assert.equal(await page.inputValue('[data-testid="prompt-input"]'), '');
    await page.keyboard.type('   ');
    await page.keyboard.press('Control+Enter');
    const sends = (await v.posted()).filter((m) => m.type === 'send');
    assert.equal(sends.length, 1, 'blank prompts are not sent');
    await v.close();
  });

  it('renders a streamed answer progressively, with Stop while streaming', async () => {
    v = await openView(h);
    const { page } = v;
    await v.send({
      type: 'state',
      header: connectedHeader,
      streaming: true,
      messages: [user('u1', 'Hi'), assistant('a1', '', { status: 'streaming' })],
    });
    await page.waitForSelector('[data-testid="message-user"]');
    assert.equal(await page.isHidden('[data-testid="empty-state"]'), true);
    assert.equal(await page.isVisible('[data-testid="stop"]'), true);
    assert.equal(await page.isDisabled('[data-testid="send"]'), true);
    const body = '[data-testid="message-assistant"] .message-body';
    let text = '';
    const steps: Array<[string, string]> = [
      ['Hello', 'Hello'],
      [', **wor', 'Hello, **wor'],
      ['ld**! Here is', 'Hello, world! Here is'],
      [' `code`.', 'Hello, world! Here is code.'],
    ];
    for (const [piece, plain] of steps) {
      text += piece;
      await v.send({ type: 'message', streaming: true, message: assistant('a1', text, { status: 'streaming' }) });
      await page.waitForFunction(
        ([sel, want]) => document.querySelector(sel!)?.textContent?.trim() === want,
        [body, plain] as const,
      );
    }
    assert.equal(await page.getAttribute('[data-testid="message-assistant"] [data-testid="message-status"]', 'data-status'), 'streaming');
    assert.equal(await page.textContent(`${body} strong`), 'world');
    await page.click('[data-testid="stop"]');
    await v.waitForPosted({ type: 'stop' });
    await v.send({ type: 'message', streaming: false, message: assistant('a1', text, { status: 'stopped' }) });
    await page.waitForFunction(() =>
      document.querySelector('[data-testid="message-assistant"] [data-testid="message-status"]')?.getAttribute('data-status') === 'stopped',
    );
    assert.equal(await page.textContent('[data-testid="message-assistant"] [data-testid="message-status"]'), 'stopped');
    assert.equal(await page.isHidden('[data-testid="stop"]'), true);
    await v.close();
  });

  it('Escape stops a streaming answer', async () => {
    v = await openView(h);
    await v.send({ type: 'state', header: connectedHeader, streaming: true, messages: [user('u1', 'Hi'), assistant('a1', 'x', { status: 'streaming' })] });
    await v.page.waitForSelector('[data-testid="stop"]', { state: 'visible' });
    await v.page.focus('[data-testid="prompt-input"]');
    await v.page.keyboard.press('Escape');
    await v.waitForPosted({ type: 'stop' });
    await v.close();
  });

  it('highlights code blocks; Copy and Insert post the exact code', async () => {
    v = await openView(h);
    const { page } = v;
    const code = 'const answer: number = 42;\nconsole.log(`<b>${answer}</b>`);';
    await v.send({
      type: 'state',
      header: connectedHeader,
      streaming: false,
      messages: [user('u1', 'code?'), assistant('a1', `Here:\n\n\`\`\`ts\n${code}\n\`\`\`\n\nand\n\n\`\`\`\nplain\n\`\`\``)],
    });
    await page.waitForSelector('[data-testid="code-copy"]');
    assert.equal(await page.locator('[data-testid="code-copy"]').count(), 2);
    assert.equal(await page.locator('[data-testid="code-insert"]').count(), 2);
    assert.ok((await page.locator('.code-block code.language-ts .hljs-keyword').count()) > 0, 'highlighted');
    assert.equal(await page.textContent('.code-block .code-language'), 'ts');
    await page.locator('[data-testid="code-copy"]').first().click();
    await v.waitForPosted({ type: 'copy', text: code } as never);
    await page.locator('[data-testid="code-insert"]').nth(1).click();
    await v.waitForPosted({ type: 'insert', text: 'plain' } as never);
    // Keyboard: the buttons are real buttons.
    await page.locator('[data-testid="code-insert"]').first().focus();
    await page.keyboard.press('Enter');
    await v.waitForPosted({ type: 'insert', text: code } as never);
    await v.close();
  });

  it('shows a guidance card with working buttons, and a retry countdown', async () => {
    v = await openView(h);
    const { page } = v;
    const now = await page.evaluate(() => Date.now());
    await v.send({
      type: 'state',
      header: connectedHeader,
      streaming: false,
      messages: [
        user('u1', 'Hi'),
        assistant('a1', 'Hello, wor', {
          status: 'interrupted',
          card: {
            kind: 'rate_limited',
            severity: 'warning',
            title: 'Rate limited by OpenAI',
            detail: 'Too many requests. Wait, or raise your limits.',
            actions: [
              { type: 'url', title: 'Open rate limits', url: 'https://platform.openai.com/settings/organization/limits' },
              { type: 'command', title: 'Pick another model', command: 'sidekick.selectModel' },
            ],
            retryAt: now + 2600,
            requestId: 'req_123',
            providerMessage: null,
          },
        }),
      ],
    });
    const card = '[data-testid="guidance-card"]';
    await page.waitForSelector(card);
    assert.equal(await page.getAttribute(card, 'data-kind'), 'rate_limited');
    assert.match((await page.textContent(card)) ?? '', /Rate limited by OpenAI.*Too many requests.*req_123/s);
    assert.equal(await page.getAttribute('[data-testid="message-assistant"] [data-testid="message-status"]', 'data-status'), 'interrupted');
    assert.equal((await page.textContent('[data-testid="message-assistant"] .message-body'))?.trim(), 'Hello, wor');
    const first = Number(await page.getAttribute('[data-testid="countdown"]', 'data-seconds'));
    assert.ok(first >= 2 && first <= 3, `countdown starts near 3 s, got ${first}`);
    await page.waitForFunction((start) => Number(document.querySelector('[data-testid="countdown"]')?.getAttribute('data-seconds')) < start, first);
    await page.locator('[data-testid="guidance-action"]', { hasText: 'Open rate limits' }).click();
    await v.waitForPosted({ type: 'openUrl', url: 'https://platform.openai.com/settings/organization/limits' } as never);
    await page.locator('[data-testid="guidance-action"]', { hasText: 'Pick another model' }).click();
    await v.waitForPosted({ type: 'runCommand', command: 'sidekick.selectModel' } as never);
    await v.close();
  });

  it('shows the retrying countdown of a streaming answer', async () => {
    v = await openView(h);
    const now = await v.page.evaluate(() => Date.now());
    await v.send({
      type: 'state',
      header: connectedHeader,
      streaming: true,
      messages: [user('u1', 'Hi'), assistant('a1', '', { status: 'streaming', retry: { attempt: 2, until: now + 5000, message: 'Rate limited by OpenAI; retrying in 5 s' } })],
    });
    await v.page.waitForSelector('[data-testid="countdown"]');
    assert.match((await v.page.textContent('[data-testid="countdown"]')) ?? '', /^Retrying in [45] s \(attempt 2\)$/);
    await v.close();
  });

  it('prefills the prompt (Ask About Selection) and keeps the draft in webview state', async () => {
    v = await openView(h);
    const { page } = v;
    await v.send({ type: 'prefill', text: 'In `a.ts` (line 1, typescript):\n\n```typescript\nx\n```\n\n' });
    await page.waitForFunction(() => (document.querySelector('[data-testid="prompt-input"]') as HTMLTextAreaElement).value.startsWith('In `a.ts`'));
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'prompt-input');
    assert.deepEqual(await page.evaluate(() => window.__vsState), {
      draft: 'In `a.ts` (line 1, typescript):\n\n```typescript\nx\n```\n\n',
    });
    await v.close();
  });

  it('replaces the list on a new state (New Chat) and raises no CSP violation', async () => {
    v = await openView(h);
    const { page } = v;
    await v.send({ type: 'state', header: connectedHeader, streaming: false, messages: [user('u1', 'a'), assistant('a1', '# Title\n\n- item\n\n> quote\n\n| a | b |\n|---|---|\n| 1 | 2 |')] });
    await page.waitForSelector('[data-testid="message-assistant"] h1');
    await page.click('[data-testid="new-chat"]');
    await v.waitForPosted({ type: 'newChat' });
    await v.send({ type: 'state', header: connectedHeader, streaming: false, messages: [] });
    await page.waitForSelector('[data-testid="empty-state"]', { state: 'visible' });
    assert.equal(await page.locator('[data-testid^="message-"]').count(), 0);
    assert.deepEqual(await page.evaluate(() => window.__csp), []);
    assert.deepEqual(v.pageErrors, []);
    await v.close();
  });
});
