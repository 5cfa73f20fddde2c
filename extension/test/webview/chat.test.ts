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

  it('shows the empty state, then the model first in the header; a click on it switches models', async () => {
    v = await openView(h);
    const { page } = v;
    assert.equal(await page.isVisible('[data-testid="empty-state"]'), true);
    assert.match((await page.textContent('[data-testid="empty-state"]')) ?? '', /Select Your AI/);
    assert.equal(await page.textContent('[data-testid="header-model"]'), 'Not connected');
    await page.click('[data-testid="empty-select"]');
    await v.waitForPosted({ type: 'runCommand', command: 'sidekick.selectYourAI' } as never);
    await v.send({ type: 'header', header: connectedHeader });
    await page.waitForFunction(() => document.querySelector('[data-testid="header-model"]')?.textContent === 'gpt-4o-mini');
    assert.equal(await page.textContent('[data-testid="header-provider"]'), 'OpenAI');
    // In a narrow view the model stays whole; the provider's name gives way first.
    await page.setViewportSize({ width: 240, height: 500 });
    await v.send({ type: 'header', header: { ...connectedHeader, providerName: 'Local demo (fake OpenAI server on this machine)' } });
    await page.waitForFunction(() => document.querySelector('[data-testid="header-provider"]')?.textContent?.startsWith('Local demo'));
    const clipped = await page.evaluate(() => {
      const m = document.querySelector('[data-testid="header-model"]') as HTMLElement;
      const p = document.querySelector('[data-testid="header-provider"]') as HTMLElement;
      return { model: m.scrollWidth > m.clientWidth, provider: p.scrollWidth > p.clientWidth };
    });
    assert.deepEqual(clipped, { model: false, provider: true });
    await page.click('[data-testid="header-model"]');
    await v.waitForPosted({ type: 'runCommand', command: 'sidekick.selectModel' } as never);
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
    const inserts = (await v.posted()).filter((m) => m.type === 'insert');
    assert.equal((inserts[0] as { language?: string }).language, undefined, 'a fence without a language names none');
    // Keyboard: the buttons are real buttons.
    await page.locator('[data-testid="code-insert"]').first().focus();
    await page.keyboard.press('Enter');
    await v.waitForPosted({ type: 'insert', text: code, language: 'ts' } as never);
    await v.close();
  });

  it('offers Retry on the last failed answer, and "Ask again" once a card button fixed it', async () => {
    v = await openView(h);
    const { page } = v;
    const card = {
      kind: 'invalid_key' as const,
      severity: 'error' as const,
      title: 'Anthropic rejected the API key',
      detail: 'The key sk-…WXYZ was refused (HTTP 401).',
      actions: [{ type: 'command' as const, title: 'Re-enter key', command: 'sidekick.selectYourAI', args: ['anthropic'] }],
      retryAt: null,
      requestId: null,
      providerMessage: null,
    };
    const messages = [
      user('u1', 'First'),
      assistant('a1', 'Partial', { status: 'stopped' }),
      user('u2', 'Second'),
      assistant('a2', '', { status: 'failed', card }),
    ];
    await v.send({ type: 'state', header: connectedHeader, streaming: false, messages });
    await page.waitForSelector('[data-testid="retry"]');
    assert.equal(await page.locator('[data-testid="retry"]').count(), 1, 'only the last answer can be retried');
    assert.equal(await page.textContent('[data-testid="retry"]'), 'Retry');
    await page.locator('[data-testid="guidance-action"]', { hasText: 'Re-enter key' }).click();
    await v.waitForPosted({ type: 'runCommand', command: 'sidekick.selectYourAI', id: 'a2' } as never);
    const run = (await v.posted()).find((m) => m.type === 'runCommand') as { args?: string[] };
    assert.deepEqual(run.args, ['anthropic'], 'the button names its provider');
    await v.send({ type: 'message', streaming: false, message: { ...messages[3]!, fixed: true } });
    await page.waitForFunction(() => document.querySelector('[data-testid="retry"]')?.textContent === 'Ask again');
    await page.click('[data-testid="retry"]');
    await v.waitForPosted({ type: 'retry', id: 'a2' } as never);
    // A stopped answer is retried the same way when it is the last one.
    await v.send({ type: 'state', header: connectedHeader, streaming: false, messages: messages.slice(0, 2) });
    await page.waitForFunction(() => document.querySelector('[data-testid="retry"]')?.textContent === 'Retry');
    await page.click('[data-testid="retry"]');
    await v.waitForPosted({ type: 'retry', id: 'a1' } as never);
    await v.close();
  });

  it('offers Regenerate on the last finished answer and Copy on every answer with text', async () => {
    v = await openView(h);
    const { page } = v;
    const whole = 'First line.\n\n```py\nprint(1)\n```\n\nLast line.';
    await v.send({
      type: 'state',
      header: connectedHeader,
      streaming: false,
      messages: [user('u1', 'One'), assistant('a1', 'Earlier answer'), user('u2', 'Two'), assistant('a2', whole)],
    });
    await page.waitForSelector('[data-testid="regenerate"]');
    assert.equal(await page.locator('[data-testid="regenerate"]').count(), 1, 'only the last answer');
    assert.equal(await page.locator('[data-testid="retry"]').count(), 0, 'a finished answer has no Retry');
    assert.equal(await page.locator('[data-testid="copy-answer"]').count(), 2);
    await page.click('[data-testid="regenerate"]');
    await v.waitForPosted({ type: 'retry', id: 'a2' } as never);
    await page.locator('[data-testid="copy-answer"]').nth(1).click();
    await v.waitForPosted({ type: 'copy', text: whole } as never);
    // While an answer streams there is nothing to regenerate or copy yet.
    await v.send({
      type: 'state',
      header: connectedHeader,
      streaming: true,
      messages: [user('u1', 'One'), assistant('a1', 'Par', { status: 'streaming' })],
    });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="regenerate"]').length === 0);
    assert.equal(await page.locator('[data-testid="copy-answer"]').count(), 0);
    await v.close();
  });

  it('asks for the window fill as the user types and warns near the window', async () => {
    v = await openView(h);
    const { page } = v;
    await v.send({ type: 'state', header: connectedHeader, streaming: false, messages: [] });
    await page.fill('[data-testid="prompt-input"]', 'How long is this?');
    await v.waitForPosted({ type: 'draft', text: 'How long is this?' } as never);
    const drafts = (await v.posted()).filter((m) => m.type === 'draft');
    assert.equal(drafts.length, 1, 'one count per pause in typing');
    await v.send({ type: 'fill', tokens: 12_400, window: 128_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="window-fill"]')?.textContent === '12.4k / 128k tokens');
    assert.equal(await page.getAttribute('[data-testid="window-fill"]', 'data-near'), 'false');
    await v.send({ type: 'fill', tokens: 120_000, window: 128_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="window-fill"]')?.getAttribute('data-near') === 'true');
    await v.send({ type: 'fill', tokens: 950, window: null });
    await page.waitForFunction(() => document.querySelector('[data-testid="window-fill"]')?.textContent === '950 tokens');
    await v.close();
  });

  it('shows tokens and cost under a finished answer, the prices in its hover', async () => {
    v = await openView(h);
    const { page } = v;
    const usage = {
      promptTokens: 1200,
      completionTokens: 340,
      totalTokens: 1540,
      cachedInputTokens: null,
      cacheWriteTokens: null,
      reasoningTokens: null,
    };
    await v.send({
      type: 'state',
      header: connectedHeader,
      streaming: false,
      messages: [
        user('u1', 'Hi'),
        assistant('a1', 'Hello', { usage: { ...usage, costUsd: 0.000384, price: { inputPerMtok: 0.15, outputPerMtok: 0.6 } } }),
        user('u2', 'Again'),
        assistant('a2', 'Hello again', { usage }),
      ],
    });
    const lines = page.locator('[data-testid="message-usage"]');
    await lines.first().waitFor();
    assert.equal(await lines.nth(0).textContent(), '1,200 in · 340 out · $0.0004');
    assert.match((await lines.nth(0).getAttribute('title')) ?? '', /\$0\.15 per million input tokens/);
    assert.equal(await lines.nth(1).textContent(), '1,200 in · 340 out · unpriced');
    await v.close();
  });

  it('the prompt box grows with its text, and Up in an empty box recalls the last question', async () => {
    v = await openView(h);
    const { page } = v;
    const box = '[data-testid="prompt-input"]';
    const height = () => page.evaluate((sel) => (document.querySelector(sel) as HTMLElement).getBoundingClientRect().height, box);
    const empty = await height();
    await page.focus(box);
    for (let i = 0; i < 6; i += 1) {
      await page.keyboard.type(`line ${i}`);
      await page.keyboard.press('Shift+Enter');
    }
    const grown = await height();
    assert.ok(grown > empty * 2, `grew from ${empty} to ${grown}`);
    await page.fill(box, 'x\n'.repeat(400));
    await page.dispatchEvent(box, 'input');
    const capped = await height();
    const viewport = await page.evaluate(() => window.innerHeight);
    assert.ok(capped <= viewport * 0.4 + 1, `capped at 40% of the view: ${capped} of ${viewport}`);
    await page.fill(box, '');
    await page.dispatchEvent(box, 'input');
    assert.ok((await height()) < grown, 'shrinks again');
    await v.send({
      type: 'state',
      header: connectedHeader,
      streaming: false,
      messages: [user('u1', 'older question'), assistant('a1', 'A'), user('u2', 'last question'), assistant('a2', 'B')],
    });
    // The conversation is on screen (messages arrive asynchronously) before Up is pressed.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="message-user"]').length === 2);
    await page.focus(box);
    await page.keyboard.press('ArrowUp');
    assert.equal(await page.inputValue(box), 'last question');
    // Up inside text moves the caret as usual: nothing is replaced.
    await page.keyboard.press('ArrowUp');
    assert.equal(await page.inputValue(box), 'last question');
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

  it('keeps the draft in webview state as it is typed, and focuses the prompt when asked', async () => {
    v = await openView(h);
    const { page } = v;
    await page.fill('[data-testid="prompt-input"]', 'half a question');
    await page.waitForFunction(() => (window.__vsState as { draft?: string } | undefined)?.draft === 'half a question');
    await page.locator('[data-testid="new-chat"]').focus();
    await v.send({ type: 'focus' });
    await page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'prompt-input');
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
