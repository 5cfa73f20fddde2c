// The Usage and Costs view's first paint in headless Chromium with a 90-day, 3-project month
// of data (plus work outside any project, four line items), against a baseline measured in the
// same browser: the same page opened and told there is no admin key (no chart). Medians of
// interleaved runs; nothing here fails on a time.
//
//   node bench/costs-view.mjs [--quick] [--out FILE]        (needs `npm run build` first)

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { chromium } = createRequire(join(root, 'package.json'))('playwright-core');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args[outAt + 1] : join(root, 'target', 'bench-results', 'costs_view.json');
const reps = quick ? 8 : 30;

const browserPath =
  process.env.CHROMIUM_PATH ??
  ['chromium', 'chromium-browser', 'google-chrome']
    .map((n) => {
      try {
        return execFileSync('sh', ['-c', `command -v ${n}`], { encoding: 'utf8' }).trim();
      } catch {
        return '';
      }
    })
    .find(Boolean);

const dir = join(root, 'dist', 'webview');
const nonce = randomBytes(16).toString('base64');
const server = createServer((req, res) => {
  const origin = `http://127.0.0.1:${server.address().port}`;
  if (req.url === '/') {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-${nonce}'; style-src ${origin}"><link rel="stylesheet" href="/costs.css"></head><body><div id="app"></div><script nonce="${nonce}" src="/costs.js"></script></body></html>`);
    return;
  }
  if (req.url !== '/costs.js' && req.url !== '/costs.css') return void res.writeHead(404).end();
  res.writeHead(200, { 'content-type': req.url.endsWith('.js') ? 'text/javascript' : 'text/css' });
  res.end(readFileSync(join(dir, req.url.slice(1))));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;

/** 90 days ending today, grouped by project, with a forecast to the month's end. */
function month() {
  const day = 86_400_000;
  const today = Date.parse(new Date().toISOString().slice(0, 10) + 'T00:00:00Z');
  const iso = (t) => new Date(t).toISOString().slice(0, 10);
  const projects = ['proj_alpha', 'proj_beta', 'proj_gamma', ''];
  const days = Array.from({ length: 90 }, (_, i) => {
    const groups = projects.map((key, j) => ({ key, amount: ((i * 7 + j * 13) % 17) * 0.731 + j }));
    return { date: iso(today - (89 - i) * day), total: groups.reduce((a, g) => a + g.amount, 0), groups };
  });
  const total = days.reduce((a, d) => a + d.total, 0);
  const fdays = [];
  for (let t = today; iso(t).slice(0, 7) === iso(today).slice(0, 7); t += day) {
    const k = fdays.length;
    fdays.push({ date: iso(t), expected: total + k * 20, low: total + k * 15, high: total + k * 25 });
  }
  return {
    query: { from: days[0].date, to: days[89].date, groupBy: 'project', projectIds: [], lineItems: [], models: [], refresh: false },
    costs: {
      currency: 'usd', total, days, groups: projects.map((key) => ({ key, amount: total / 4 })),
      forecast: { monthEnd: fdays.at(-1).expected, low: fdays.at(-1).low, high: fdays.at(-1).high, method: 'bench', spentSoFar: total, days: fdays },
      spendLimit: 5000, budgetUsd: 3000, fetchedAt: Date.now(), requests: 0, projects,
      lineItems: ['gpt-4o-mini, input', 'gpt-4o-mini, output', 'gpt-4o, input', 'gpt-4o, output'],
    },
    usage: { days: [], totals: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1, requests: 1 }, groups: [], models: ['gpt-4o-mini-2024-07-18'], projects, fetchedAt: Date.now(), requests: 0 },
  };
}

const browser = await chromium.launch({ executablePath: browserPath, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const data = month();

/** Page open → the view's first frame with (or without) the chart. */
async function once(withData) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.addInitScript(() => {
    window.acquireVsCodeApi = () => ({ postMessage: (m) => (m.type === 'ready' ? (window.__ready = performance.now()) : null) });
  });
  const t0 = Date.now();
  await page.goto(origin);
  await page.waitForFunction(() => window.__ready !== undefined);
  const inPage = await page.evaluate(async ([withData, data]) => {
    const start = performance.now();
    window.postMessage({ type: 'state', supported: true, adminConnected: withData, keyHint: 'sk-…ADMN' }, '*');
    if (withData) window.postMessage({ type: 'data', ...data }, '*');
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    if (withData && !document.querySelector('[data-testid="chart"] canvas')) throw new Error('no chart');
    const first = performance.now() - start;
    // The same data again, as a filter change brings it: the chart drawn by warm code.
    const again = performance.now();
    if (withData) window.postMessage({ type: 'data', ...data }, '*');
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return [first, performance.now() - again];
  }, [withData, data]);
  const total = Date.now() - t0;
  await page.close();
  return { inPage: inPage[0], redraw: inPage[1], total };
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
await once(true);
await once(false);
const chart = [], base = [], chartTotal = [], baseTotal = [], redraw = [];
for (let i = 0; i < reps; i++) {
  for (const withData of i % 2 ? [false, true] : [true, false]) {
    const r = await once(withData);
    (withData ? chart : base).push(r.inPage);
    (withData ? chartTotal : baseTotal).push(r.total);
    if (withData) redraw.push(r.redraw);
  }
}
await browser.close();
server.close();
const result = {
  reps, days: 90, projects: 3,
  data_to_painted_ms: median(chart), no_key_to_painted_ms: median(base),
  ratio: median(chart) / median(base),
  redraw_ms: median(redraw),
  open_to_painted_ms: median(chartTotal), open_no_key_ms: median(baseTotal),
};
console.log(
  `costs view, 90 days × 4 groups: data → first painted frame ${result.data_to_painted_ms.toFixed(1)} ms (no-key page: ${result.no_key_to_painted_ms.toFixed(1)} ms, ×${result.ratio.toFixed(2)}); the same data again ${result.redraw_ms.toFixed(1)} ms; page open → painted ${result.open_to_painted_ms.toFixed(0)} ms vs ${result.open_no_key_ms.toFixed(0)} ms`,
);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2));
