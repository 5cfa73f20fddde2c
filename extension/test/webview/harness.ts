// Loads the built chat webview (dist/webview) in headless Chromium under the extension's own CSP,
// served from a loopback HTTP server, with `acquireVsCodeApi` stubbed to record posted messages.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { makeNonce, webviewHtml } from '../../src/chat/html';
import type { FromWebview, HeaderView, ToWebview } from '../../src/chat/messages';
import type { MessageView } from '../../src/chat/state';

const WEBVIEW_DIR = join(__REPO_ROOT__, 'dist', 'webview');

/** Debian's chromium (npm cannot download a browser here); CHROMIUM_PATH overrides. */
export function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      const found = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (found) return found;
    } catch {
      // try the next name
    }
  }
  throw new Error('No Chromium found: apt-get install -y chromium, or set CHROMIUM_PATH');
}

export interface Harness {
  browser: Browser;
  server: Server;
  origin: string;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  if (!existsSync(join(WEBVIEW_DIR, 'main.js'))) throw new Error('dist/webview/main.js is missing: run npm run build');
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // `/` is the chat view, `/usage` the usage view: each its own bundle under the same CSP.
    const page = { '/': 'main', '/usage': 'usage', '/costs': 'costs' }[url.pathname];
    if (page) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        webviewHtml({
          cspSource: origin,
          nonce: makeNonce((n) => randomBytes(n)),
          scriptUri: `${origin}/webview/${page}.js`,
          styleUri: `${origin}/webview/${page}.css`,
        }),
      );
      return;
    }
    const file = {
      '/webview/main.js': 'main.js',
      '/webview/main.css': 'main.css',
      '/webview/usage.js': 'usage.js',
      '/webview/usage.css': 'usage.css',
      '/webview/costs.js': 'costs.js',
      '/webview/costs.css': 'costs.css',
    }[url.pathname];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'text/css' });
    res.end(readFileSync(join(WEBVIEW_DIR, file)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  return {
    browser,
    server,
    origin,
    async close() {
      await browser.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

declare global {
  interface Window {
    __posted: FromWebview[];
    __pwned?: unknown;
    __csp: string[];
    __vsState?: unknown;
  }
}

export interface View {
  page: Page;
  dialogs: string[];
  pageErrors: string[];
  /** Sends a message as the extension would. */
  send(message: ToWebview): Promise<void>;
  posted(): Promise<FromWebview[]>;
  /** Waits until the webview posted a message matching `predicate`'s JSON shape. */
  waitForPosted(match: Partial<FromWebview>): Promise<void>;
  close(): Promise<void>;
}

export async function openView(h: Harness, path = '/'): Promise<View> {
  const page = await h.browser.newPage();
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  // Init scripts are not subject to the page's CSP: this stands in for VS Code's webview host.
  await page.addInitScript(() => {
    window.__posted = [];
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    (window as unknown as { acquireVsCodeApi: () => unknown }).acquireVsCodeApi = () => ({
      postMessage: (m: FromWebview) => window.__posted.push(JSON.parse(JSON.stringify(m))),
      getState: () => window.__vsState,
      setState: (s: unknown) => (window.__vsState = s),
    });
  });
  await page.goto(`${h.origin}${path}`);
  await page.waitForFunction(() => window.__posted.some((m) => m.type === 'ready'));
  return {
    page,
    dialogs,
    pageErrors,
    send: (message) => page.evaluate((m) => window.postMessage(m, '*'), message),
    posted: () => page.evaluate(() => window.__posted),
    waitForPosted: async (match) => {
      await page.waitForFunction(
        (want) =>
          window.__posted.some((m) =>
            Object.entries(want).every(([k, v]) => (m as unknown as Record<string, unknown>)[k] === v),
          ),
        match,
      );
    },
    close: () => page.close(),
  };
}

export const connectedHeader: HeaderView = {
  connected: true,
  providerName: 'OpenAI',
  model: 'gpt-4o-mini',
  active: { provider: 'openai', model: 'gpt-4o-mini' },
};

export function user(id: string, text: string): MessageView {
  return { id, role: 'user', text, status: 'done' };
}

export function assistant(id: string, text: string, extra: Partial<MessageView> = {}): MessageView {
  return { id, role: 'assistant', text, status: 'done', chatId: `chat-${id}`, ...extra };
}
