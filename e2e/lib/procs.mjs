// Child processes for the journey: each one in its own process group (so killing the group
// takes code-server's extension host and the sidecar with it), output teed to a log file.
import { spawn, execFileSync } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Starts CMD detached (new session = new process group) with stdout/stderr appended to LOG. */
export function startGroup(cmd, args, { env = process.env, cwd, log, onStdoutLine } = {}) {
  const out = createWriteStream(log, { flags: 'a' });
  const child = spawn(cmd, args, { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let buffered = '';
  child.stdout.on('data', (chunk) => {
    out.write(chunk);
    if (!onStdoutLine) return;
    buffered += chunk.toString('utf8');
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      onStdoutLine(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
  });
  child.stderr.on('data', (chunk) => out.write(chunk));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.on('error', (err) => out.write(`spawn error: ${err.message}\n`));
  return { child, pid: child.pid, log, exited, out };
}

/** SIGTERM to the whole group, SIGKILL after `graceMs` if anything of it is left. */
export async function killGroup(proc, graceMs = 5000) {
  if (!proc?.pid) return;
  const signal = (sig) => {
    try {
      process.kill(-proc.pid, sig);
      return true;
    } catch {
      return false;
    }
  };
  if (!signal('SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && groupAlive(proc.pid)) await delay(100);
  signal('SIGKILL');
  proc.out?.end();
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export const delay = (ms) => new Promise((r) => setTimeout(r, ms));

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Polls `fn` until it returns a truthy value (returned) or `timeoutMs` passes (throws with
 * `what` and the last value or error). The interval is a polling period, not a sleep standing
 * in for a condition.
 */
export async function waitFor(what, fn, { timeoutMs = 20000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${detail})`);
    }
    await delay(intervalMs);
  }
}

/** Pids of the processes whose command line passes `test` (one `ps` call). */
export function pidsMatching(test) {
  const out = [];
  for (const line of execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n')) {
    const m = line.match(/^\s*(\d+)\s+(.*)$/);
    if (m && Number(m[1]) !== process.pid && test(m[2])) out.push(Number(m[1]));
  }
  return out;
}

/** The last `n` lines of a file, for failure reports. */
export function tail(file, n = 40) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch (err) {
    return `(cannot read ${file}: ${err.message})`;
  }
}
