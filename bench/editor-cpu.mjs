// Editor-side cost of one streamed answer: CPU time (user + sys, process.cpuUsage) of a Node
// process that receives it
//   A. through the sidecar, as the extension does: a vscode-jsonrpc client of sidekick-server,
//   B. by itself, as Continue, Cline and CodeGPT do inside the extension host: the official
//      `openai` SDK, chat.completions.create({ stream: true }), straight to the fake server.
// Only the answer is measured (spawn, initialize, connect and imports are outside). Each
// measurement runs in a fresh Node process; its first answer is "cold", the later ones "warm".
//
//   node bench/editor-cpu.mjs [--quick] [--out FILE] [--sidecar BIN] [--fake BIN]
//
// The driver starts the release fake-providers binary (burst, then --token-delay-ms 10 = 100
// tokens/s), spawns the child processes, and prints and writes medians and ratios.
// Figures go to docs/performance.md; nothing here asserts a time.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const PROMPT = 'Write a function.';
const MODEL = 'gpt-4o-mini';

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const flag = (name) => process.argv.includes(name);

const median = (xs) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const cpuMs = (u) => (u.user + u.system) / 1000;

// ---------------------------------------------------------------------------------------
// Children: one fresh process per measurement, answers in a row, JSON on stdout.

/** CPU nanoseconds of every thread of a process (schedstat: precise, unlike utime ticks). */
function processCpuNs(pid) {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // A thread that ended meanwhile.
    }
  }
  return total;
}

async function childSidecar(baseUrl, answers) {
  const rpc = await import('vscode-jsonrpc/node');
  const home = mkdtempSync(path.join(tmpdir(), 'sidekick-bench-'));
  const bin = arg('--sidecar', path.join(root, 'target/release/sidekick-server'));
  const proc = spawn(bin, ['--stdio'], {
    stdio: ['pipe', 'pipe', 'ignore'],
    env: {
      ...process.env,
      SIDEKICK_DEMO_BASE_URL: baseUrl,
      SIDEKICK_HOME: home,
      SIDEKICK_KEYRING_SERVICE: `sidekick-bench-${process.pid}`,
      SIDEKICK_LOG: 'warn',
    },
  });
  const conn = rpc.createMessageConnection(
    new rpc.StreamMessageReader(proc.stdout),
    new rpc.StreamMessageWriter(proc.stdin),
  );
  // What the extension's chat state does with a delta: keep its text, in seq order.
  let parts = [];
  let deltas = 0;
  conn.onNotification('sidekick/chatDelta', (p) => {
    deltas += 1;
    parts[p.seq] = p.text;
  });
  conn.onNotification(() => {});
  conn.listen();
  await conn.sendRequest('initialize', { processId: process.pid, capabilities: {}, initializationOptions: {} });
  await conn.sendNotification('initialized', {});
  await conn.sendRequest('sidekick/connect', { provider: 'demo' });
  await conn.sendRequest('sidekick/selectModel', { provider: 'demo', model: MODEL });
  const out = [];
  for (let i = 0; i < answers; i++) {
    parts = [];
    deltas = 0;
    const sidecarBefore = processCpuNs(proc.pid);
    const t0 = performance.now();
    const before = process.cpuUsage();
    const result = await conn.sendRequest('sidekick/chat', {
      chatId: `bench-${i}`,
      messages: [{ role: 'user', content: PROMPT }],
    });
    const cpu = cpuMs(process.cpuUsage(before));
    const wall = performance.now() - t0;
    const sidecarCpu = (processCpuNs(proc.pid) - sidecarBefore) / 1e6;
    out.push({ cpuMs: cpu, wallMs: wall, messages: deltas + 1, textLen: result.text.length, sidecarCpuMs: sidecarCpu });
  }
  conn.dispose();
  proc.kill();
  rmSync(home, { recursive: true, force: true });
  return out;
}

async function childSdk(baseUrl, answers) {
  const { default: OpenAI } = await import('openai');
  const client = new OpenAI({ apiKey: 'sk-bench-unused', baseURL: baseUrl, maxRetries: 0 });
  const out = [];
  for (let i = 0; i < answers; i++) {
    const t0 = performance.now();
    const before = process.cpuUsage();
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: PROMPT }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const parts = [];
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      const t = chunk.choices[0]?.delta?.content;
      if (t) parts.push(t);
    }
    const text = parts.join('');
    const cpu = cpuMs(process.cpuUsage(before));
    out.push({ cpuMs: cpu, wallMs: performance.now() - t0, messages: chunks, textLen: text.length });
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Driver

function startFake(bin, tokens, delayMs) {
  const proc = spawn(bin, ['--no-key', '--tokens', String(tokens), '--token-delay-ms', String(delayMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout });
    rl.once('line', (line) => {
      const m = /listening on (\S+)/.exec(line);
      if (m) resolve({ proc, url: m[1] });
      else reject(new Error(`fake-providers said: ${line}`));
    });
    proc.once('exit', (code) => reject(new Error(`fake-providers exited with ${code}`)));
  });
}

function runChild(variant, baseUrl, answers) {
  const args = [fileURLToPath(import.meta.url), '--child', variant, '--base-url', baseUrl, '--answers', String(answers)];
  const sidecar = arg('--sidecar');
  if (sidecar) args.push('--sidecar', sidecar);
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    proc.stdout.on('data', (d) => (text += d));
    proc.on('exit', (code) => (code === 0 ? resolve(JSON.parse(text)) : reject(new Error(`${variant} child exited ${code}`))));
  });
}

async function measure(label, fakeBin, tokens, delayMs, runs, answers, concurrent) {
  const fake = await startFake(fakeBin, tokens, delayMs);
  const samples = { sidecar: [], sdk: [] };
  try {
    for (let r = 0; r < runs; r++) {
      // Alternate which variant goes first; at a slow pace both run at once (mostly idle).
      const order = r % 2 ? ['sdk', 'sidecar'] : ['sidecar', 'sdk'];
      if (concurrent) {
        const res = await Promise.all(order.map((v) => runChild(v, fake.url, answers)));
        order.forEach((v, i) => samples[v].push(res[i]));
      } else {
        for (const v of order) samples[v].push(await runChild(v, fake.url, answers));
      }
      process.stderr.write(`  ${label}: run ${r + 1}/${runs} done\n`);
    }
  } finally {
    fake.proc.kill();
  }
  const lens = new Set([...samples.sidecar, ...samples.sdk].flat().map((s) => s.textLen));
  if (lens.size !== 1) throw new Error(`both variants must receive the same text, got lengths ${[...lens]}`);
  const pick = (v, warm, key) => samples[v].flatMap((run) => (warm ? run.slice(1) : run.slice(0, 1)).map((s) => s[key]));
  const summary = {};
  for (const v of ['sidecar', 'sdk']) {
    summary[v] = {
      coldCpuMs: median(pick(v, false, 'cpuMs')),
      warmCpuMs: median(pick(v, true, 'cpuMs')),
      wallMs: median(pick(v, true, 'wallMs')),
      messages: median(pick(v, true, 'messages')),
      nCold: pick(v, false, 'cpuMs').length,
      nWarm: pick(v, true, 'cpuMs').length,
    };
  }
  summary.sidecar.sidecarProcessCpuMs = median(pick('sidecar', true, 'sidecarCpuMs'));
  summary.ratioWarm = summary.sidecar.warmCpuMs / summary.sdk.warmCpuMs;
  summary.ratioColdToWarmSdk = summary.sidecar.coldCpuMs / summary.sdk.warmCpuMs;
  summary.ratioCold = summary.sidecar.coldCpuMs / summary.sdk.coldCpuMs;
  summary.textLen = [...lens][0];
  const f = (x) => x.toFixed(2);
  console.log(
    `${label} (${tokens} tokens): sidecar client ${f(summary.sidecar.warmCpuMs)} ms warm / ${f(summary.sidecar.coldCpuMs)} ms cold ` +
      `(${summary.sidecar.messages} messages); openai SDK ${f(summary.sdk.warmCpuMs)} ms warm / ${f(summary.sdk.coldCpuMs)} ms cold ` +
      `(${summary.sdk.messages} chunks); ratio warm ×${summary.ratioWarm.toFixed(3)}, cold ×${summary.ratioCold.toFixed(3)}; ` +
      `sidecar process itself ${f(summary.sidecar.sidecarProcessCpuMs)} ms`,
  );
  return { tokens, delayMs, runs, answersPerProcess: answers, ...summary, raw: samples };
}

async function main() {
  const variant = arg('--child');
  if (variant) {
    const baseUrl = arg('--base-url');
    const answers = Number(arg('--answers', '1'));
    const out = variant === 'sidecar' ? await childSidecar(baseUrl, answers) : await childSdk(baseUrl, answers);
    process.stdout.write(JSON.stringify(out));
    process.exit(0);
  }
  const quick = flag('--quick');
  const tokens = Number(arg('--tokens', '2000'));
  const fakeBin = arg('--fake', path.join(root, 'target/release/fake-providers'));
  const outFile = arg('--out', path.join(root, 'target/bench-results/editor_cpu.json'));
  const burst = await measure('burst', fakeBin, tokens, 0, quick ? 3 : 8, quick ? 3 : 5, false);
  const paced = await measure('100 tok/s', fakeBin, tokens, 10, quick ? 1 : 3, quick ? 2 : 3, true);
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify({ node: process.version, quick, burst, paced }, null, 2));
  console.log(`wrote ${outFile}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
