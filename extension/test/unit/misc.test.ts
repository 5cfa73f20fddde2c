import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentSecurityPolicy, makeNonce, webviewHtml } from '../../src/chat/html';
import { parseFromWebview } from '../../src/chat/messages';
import { fenceFor, insertionText, languageForFence, selectionPrompt } from '../../src/chat/prompt';
import { initializationOptions, serverSettings } from '../../src/settings';
import { serverLogLevel } from '../../src/serverLog';

describe('settings', () => {
  const values: Record<string, unknown> = {
    'server.path': '/opt/sidekick-server',
    'retry.maxAttempts': 5,
    'retry.maxWaitMs': 1000,
    requestTimeoutMs: 2000,
    idleTimeoutMs: 3000,
    deltaIntervalMs: 10,
  };
  it('nests the sidecar settings as the server reads them, without the server path', () => {
    assert.deepEqual(serverSettings((k) => values[k]), {
      retry: { maxAttempts: 5, maxWaitMs: 1000 },
      requestTimeoutMs: 2000,
      idleTimeoutMs: 3000,
      deltaIntervalMs: 10,
    });
  });
  it('adds clientSecretStorage to initializationOptions', () => {
    assert.deepEqual(initializationOptions(() => undefined), { clientSecretStorage: true });
    assert.equal(initializationOptions((k) => values[k]).clientSecretStorage, true);
  });
  it('passes Anthropic\'s max tokens, and null to take it back to the per-model default', () => {
    assert.deepEqual(serverSettings((k) => (k === 'anthropic.maxTokens' ? 2048 : undefined)), {
      anthropic: { maxTokens: 2048 },
    });
    assert.deepEqual(serverSettings((k) => (k === 'anthropic.maxTokens' ? null : undefined)), {
      anthropic: { maxTokens: null },
    });
  });
  it('skips wrong-typed values (the server would warn and use its default anyway)', () => {
    assert.deepEqual(serverSettings((k) => (k === 'deltaIntervalMs' ? 'fast' : undefined)), {});
  });
});

describe('selection prompt', () => {
  it('fences the selection with file name, lines and language', () => {
    assert.equal(
      selectionPrompt({ fileName: 'src/a.ts', languageId: 'typescript', text: 'let a = 1;', startLine: 3, endLine: 3 }),
      'In `src/a.ts` (line 3, typescript):\n\n```typescript\nlet a = 1;\n```\n\n',
    );
  });
  it('uses a fence longer than any backticks inside', () => {
    assert.equal(fenceFor('a ``` b'), '````');
    assert.equal(fenceFor('plain'), '```');
    assert.match(
      selectionPrompt({ fileName: 'README.md', languageId: 'markdown', text: '```js\nx\n```\n', startLine: 1, endLine: 3 }),
      /^In `README.md` \(lines 1–3, markdown\):\n\n````markdown\n```js\nx\n```\n````\n\n$/,
    );
  });
});

describe('webview messages', () => {
  it('accepts well-formed messages only', () => {
    assert.deepEqual(parseFromWebview({ type: 'send', text: 'hi' }), { type: 'send', text: 'hi' });
    assert.deepEqual(parseFromWebview({ type: 'stop', extra: 1 }), { type: 'stop' });
    assert.deepEqual(parseFromWebview({ type: 'runCommand', command: 'sidekick.newChat' }), {
      type: 'runCommand',
      command: 'sidekick.newChat',
    });
    assert.deepEqual(
      parseFromWebview({ type: 'runCommand', command: 'sidekick.selectYourAI', args: ['openai'], id: 'a1' }),
      { type: 'runCommand', command: 'sidekick.selectYourAI', args: ['openai'], id: 'a1' },
    );
    assert.deepEqual(parseFromWebview({ type: 'runCommand', command: 'x', args: [{}], id: 3 }), { type: 'runCommand', command: 'x' });
    assert.deepEqual(parseFromWebview({ type: 'retry', id: 'a1' }), { type: 'retry', id: 'a1' });
    assert.equal(parseFromWebview({ type: 'retry' }), undefined);
    assert.deepEqual(parseFromWebview({ type: 'insert', text: 'x', language: 'ts' }), { type: 'insert', text: 'x', language: 'ts' });
    assert.deepEqual(parseFromWebview({ type: 'insert', text: 'x', language: 'a b"<' }), { type: 'insert', text: 'x' });
    assert.equal(parseFromWebview({ type: 'send', text: 3 }), undefined);
    assert.equal(parseFromWebview({ type: 'eval', code: '1' }), undefined);
    assert.equal(parseFromWebview('send'), undefined);
    assert.equal(parseFromWebview(null), undefined);
  });
});

describe('webview html', () => {
  it('has a strict CSP with a nonce and no remote sources', () => {
    const csp = contentSecurityPolicy('https://file+.vscode-resource.vscode-cdn.net', 'N0NCE');
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-N0NCE'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    const html = webviewHtml({ cspSource: 'vscode-resource:', nonce: 'N0NCE', scriptUri: 's.js', styleUri: 's.css' });
    assert.match(html, /<script nonce="N0NCE" src="s.js"><\/script>/);
    assert.match(html, /http-equiv="Content-Security-Policy"/);
  });
  it('makes 32-character alphanumeric nonces', () => {
    const nonce = makeNonce((n) => Uint8Array.from({ length: n }, (_, i) => i * 7));
    assert.match(nonce, /^[A-Za-z0-9]{32}$/);
  });
});

describe('server log', () => {
  it('keeps the level of each sidecar log line', () => {
    assert.equal(serverLogLevel('2026-11-22T18:11:35.879149Z  INFO sidekick-server 0.1.0 starting'), 'info');
    assert.equal(serverLogLevel('2026-11-22T18:11:35Z  WARN openai: invalid_key (HTTP Some(401))'), 'warn');
    assert.equal(serverLogLevel('2026-11-22T18:11:35Z DEBUG reading'), 'debug');
    assert.equal(serverLogLevel('2026-11-22T18:11:35Z ERROR reading stdin'), 'error');
    assert.equal(serverLogLevel("thread 'main' panicked at src/main.rs"), 'error');
  });
});

describe('insert at cursor', () => {
  it('gives a block its own line when code follows the cursor', () => {
    assert.equal(insertionText('print(1)\n', '# existing'), 'print(1)\n');
    assert.equal(insertionText('print(1)', '  x = 2'), 'print(1)\n');
  });
  it('inserts the block as it is at the end of a line', () => {
    assert.equal(insertionText('print(1)\n\n', ''), 'print(1)');
    assert.equal(insertionText('a\nb', '   '), 'a\nb');
  });
});

describe('a code block inserted with no editor open', () => {
  const known = ['typescript', 'python', 'shellscript', 'rust', 'plaintext', 'go', 'csharp'];
  it('opens in the language of its fence', () => {
    assert.equal(languageForFence('ts', known), 'typescript');
    assert.equal(languageForFence('Python', known), 'python');
    assert.equal(languageForFence('bash', known), 'shellscript');
    assert.equal(languageForFence('rust', known), 'rust');
    assert.equal(languageForFence('c#', known), 'csharp');
  });
  it('falls back to plain text for no fence language or one the editor does not know', () => {
    assert.equal(languageForFence(undefined, known), 'plaintext');
    assert.equal(languageForFence('', known), 'plaintext');
    assert.equal(languageForFence('brainfuck', known), 'plaintext');
  });
});
