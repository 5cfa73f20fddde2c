// Hostile model output must execute nothing and break nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assistant, connectedHeader, openView, startHarness, user, type Harness } from './harness';

const HOSTILE = [
  'Innocent start.',
  '<script>window.__pwned = "script"</script>',
  '<img src=x onerror="window.__pwned = \'img\'">',
  '<iframe src="javascript:window.__pwned=\'iframe\'"></iframe>',
  '<svg onload="window.__pwned=\'svg\'"><circle r=1></circle></svg>',
  '<details open ontoggle="window.__pwned=\'details\'">x</details>',
  '<a href="javascript:window.__pwned=\'rawlink\'">raw link</a>',
  '[md link](javascript:window.__pwned=\'mdlink\')',
  '[upper](JAVASCRIPT:window.__pwned=\'upper\')',
  '[entity](&#106;avascript:window.__pwned=\'entity\')',
  '[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '<javascript:window.__pwned=\'autolink\'>',
  '![img](https://tracker.example/pixel.png)',
  '![onerror](x" onerror="window.__pwned=\'imgattr\')',
  '[ok link](https://example.com/docs)',
  '<style>body{display:none}</style>',
  '<form action="https://evil.example"><input name=q></form>',
  '',
  '```html',
  '<script>window.__pwned = "fenced"</script>',
  '<iframe src="https://evil.example"></iframe>',
  '```',
  '',
  '```',
  '<img src=x onerror=alert(1)>',
  '```',
].join('\n');

describe('hostile model output', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('executes nothing, injects no element or handler, and shows fenced HTML as text', async () => {
    const v = await openView(h);
    const { page } = v;
    // Streamed in pieces (as a real answer would be), then settled.
    for (let end = 40; end < HOSTILE.length; end += 97) {
      await v.send({ type: 'message', streaming: true, message: assistant('a1', HOSTILE.slice(0, end), { status: 'streaming' }) });
    }
    await v.send({ type: 'state', header: connectedHeader, streaming: false, messages: [user('u1', '<script>window.__pwned="user"</script>'), assistant('a1', HOSTILE)] });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="message-assistant"] .code-block').length === 2);

    const report = await page.evaluate(() => {
      const conversation = document.querySelector('.conversation')!;
      const all = Array.from(conversation.querySelectorAll('*'));
      return {
        pwned: window.__pwned,
        scripts: conversation.querySelectorAll('script').length,
        iframes: document.querySelectorAll('iframe, frame, object, embed').length,
        imgs: conversation.querySelectorAll('img, svg').length,
        styles: conversation.querySelectorAll('style, form, input, link, meta').length,
        handlers: all.flatMap((e) => Array.from(e.attributes).filter((a) => a.name.startsWith('on')).map((a) => `${e.tagName} ${a.name}`)),
        styleAttrs: all.filter((e) => e.hasAttribute('style')).length,
        hrefs: Array.from(conversation.querySelectorAll('a[href]')).map((a) => a.getAttribute('href')),
        fenced: Array.from(conversation.querySelectorAll('.code-block code')).map((c) => c.textContent),
        bodyVisible: getComputedStyle(document.body).display !== 'none',
      };
    });
    assert.equal(report.pwned, undefined);
    assert.equal(report.scripts, 0);
    assert.equal(report.iframes, 0);
    assert.equal(report.imgs, 0, 'images become links, nothing is fetched');
    assert.equal(report.styles, 0);
    assert.deepEqual(report.handlers, []);
    assert.equal(report.styleAttrs, 0);
    assert.ok(report.hrefs.every((href) => /^https:\/\//.test(href ?? '')), `only https links remain: ${report.hrefs.join(', ')}`);
    assert.ok(report.hrefs.includes('https://example.com/docs'));
    assert.equal(report.bodyVisible, true);
    assert.equal(report.fenced[0], '<script>window.__pwned = "fenced"</script>\n<iframe src="https://evil.example"></iframe>\n');
    assert.equal(report.fenced[1], '<img src=x onerror=alert(1)>\n');
    // The raw HTML is visible as text.
    assert.match((await page.textContent('[data-testid="message-assistant"] .message-body')) ?? '', /<script>window\.__pwned = "script"<\/script>/);
    assert.match((await page.textContent('[data-testid="message-user"] .message-body')) ?? '', /<script>/);

    // Clicking every link runs nothing and navigates nowhere; only the https one is forwarded.
    const links = page.locator('.conversation a');
    for (let i = 0; i < (await links.count()); i++) await links.nth(i).click();
    await v.waitForPosted({ type: 'openUrl', url: 'https://example.com/docs' } as never);
    const opened = (await v.posted()).filter((m) => m.type === 'openUrl');
    assert.ok(opened.every((m) => m.type === 'openUrl' && /^https:/.test(m.url)));
    assert.equal(page.url(), `${h.origin}/`);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(v.dialogs, []);
    assert.deepEqual(v.pageErrors, []);
    await v.close();
  });

  it('renders a 1 MB answer and stays responsive', async () => {
    const v = await openView(h);
    const { page } = v;
    const chunk = [
      '## Section <b>bold?</b>',
      'Some *emphasis*, a [link](https://example.com), `inline <code>` and text. '.repeat(8),
      '```python',
      'def f(x):\n    return "<script>alert(1)</script>" * x',
      '```',
      '',
    ].join('\n');
    let big = '';
    while (big.length < 1_000_000) big += chunk;
    big += '\n```ts\nconst last = 1;\n```\n';
    const started = Date.now();
    await v.send({ type: 'state', header: connectedHeader, streaming: false, messages: [user('u1', 'big'), assistant('a1', big)] });
    await page.waitForFunction(() => (document.querySelector('[data-testid="message-assistant"] .message-body')?.textContent?.length ?? 0) > 600_000, undefined, {
      timeout: 60_000,
    });
    const elapsed = Date.now() - started;
    // Responsive afterwards: the last code block's Copy works.
    await page.locator('[data-testid="code-copy"]').last().click();
    await v.waitForPosted({ type: 'copy', text: 'const last = 1;' } as never);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await page.evaluate(() => document.querySelectorAll('.conversation script').length), 0);
    assert.deepEqual(v.dialogs, []);
    assert.ok(elapsed < 30_000, `rendered in ${elapsed} ms`);
    await v.close();
  });
});
