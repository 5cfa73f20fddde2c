import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  actionTarget,
  cardFor,
  guidanceOf,
  isCancelled,
  isSafeUrl,
  KIND_STYLE,
  notificationFor,
  runAction,
  showGuidance,
} from '../../src/guidance';
import { GUIDANCE_KINDS } from '../../src/protocol';
import { guidance, rpcError } from './fixtures';

describe('guidanceOf', () => {
  it('reads the Guidance of a -32001 error', () => {
    const g = guidance();
    assert.deepEqual(guidanceOf(rpcError(-32001, g.title, g)), g);
  });
  it('ignores other codes, missing or malformed data', () => {
    assert.equal(guidanceOf(rpcError(-32602, 'invalid params: apiKey is empty')), undefined);
    assert.equal(guidanceOf(rpcError(-32001, 'x', { kind: 'not_a_kind', title: 't', detail: 'd', actions: [] })), undefined);
    assert.equal(guidanceOf(rpcError(-32001, 'x', 'text')), undefined);
    assert.equal(guidanceOf(new Error('Connection got disposed.')), undefined);
    assert.equal(guidanceOf(undefined), undefined);
  });
  it('recognises a cancel', () => {
    assert.equal(isCancelled(rpcError(-32800, 'Request cancelled')), true);
    assert.equal(isCancelled(rpcError(-32001, 'x', guidance())), false);
  });
});

describe('KIND_STYLE', () => {
  it('covers every protocol kind', () => {
    assert.deepEqual(Object.keys(KIND_STYLE).sort(), [...GUIDANCE_KINDS].sort());
  });
});

describe('actionTarget', () => {
  it('keeps https URLs and our commands', () => {
    assert.deepEqual(actionTarget({ title: 'Open', url: 'https://platform.openai.com/api-keys' }), {
      type: 'url',
      title: 'Open',
      url: 'https://platform.openai.com/api-keys',
    });
    assert.deepEqual(actionTarget({ title: 'Pick another model', command: 'sidekick.selectModel' }), {
      type: 'command',
      title: 'Pick another model',
      command: 'sidekick.selectModel',
    });
  });
  it('drops unsafe URLs and foreign commands', () => {
    assert.equal(actionTarget({ title: 'x', url: 'javascript:alert(1)' }), undefined);
    assert.equal(actionTarget({ title: 'x', url: 'http://example.com/' }), undefined);
    assert.equal(actionTarget({ title: 'x', url: 'file:///etc/passwd' }), undefined);
    assert.equal(actionTarget({ title: 'x', command: 'workbench.action.terminal.sendSequence' }), undefined);
    assert.equal(actionTarget({ title: '', command: 'sidekick.newChat' }), undefined);
    assert.equal(actionTarget(null), undefined);
  });
  it('allows http only to loopback', () => {
    assert.equal(isSafeUrl('http://localhost:11434/v1'), true);
    assert.equal(isSafeUrl('http://127.0.0.1:8080/'), true);
    assert.equal(isSafeUrl('http://[::1]:8080/'), true);
    assert.equal(isSafeUrl('http://10.0.0.1/'), false);
    assert.equal(isSafeUrl('not a url'), false);
  });
});

describe('notificationFor', () => {
  it('is an error with title, detail and the action buttons', () => {
    const spec = notificationFor(guidance());
    assert.equal(spec.severity, 'error');
    assert.equal(spec.message, 'OpenAI rejected the API key: The key sk-…rong was refused (HTTP 401).');
    assert.deepEqual(
      spec.buttons.map((b) => b.title),
      ['Re-enter key', 'Open API keys page'],
    );
  });
  it('does not repeat a detail equal to the title', () => {
    assert.equal(notificationFor(guidance({ detail: 'OpenAI rejected the API key' })).message, 'OpenAI rejected the API key');
  });
  it('shows not_connected as information', () => {
    assert.equal(notificationFor(guidance({ kind: 'not_connected' })).severity, 'info');
  });
});

describe('cardFor', () => {
  it('turns retryAfterMs into a countdown deadline', () => {
    const card = cardFor(guidance({ kind: 'rate_limited', retryAfterMs: 30_000, actions: [] }), 1_000);
    assert.equal(card.retryAt, 31_000);
    assert.equal(card.severity, 'warning');
    assert.equal(card.kind, 'rate_limited');
  });
  it('has no countdown without a hint, and keeps the request id', () => {
    const card = cardFor(guidance(), 5);
    assert.equal(card.retryAt, null);
    assert.equal(card.requestId, 'req_1');
    assert.equal(card.actions.length, 2);
  });
});

describe('showGuidance / runAction', () => {
  it('returns the chosen action and runs it', async () => {
    const shown: Array<[string, string, string[]]> = [];
    const choice = await showGuidance(
      guidance(),
      {
        show: async (severity, message, buttons) => {
          shown.push([severity, message, buttons]);
          return 'Open API keys page';
        },
      },
      ['Try Again'],
    );
    assert.deepEqual(shown[0]?.[2], ['Re-enter key', 'Open API keys page', 'Try Again']);
    assert.deepEqual(choice, { type: 'url', title: 'Open API keys page', url: 'https://platform.openai.com/api-keys' });
    const opened: string[] = [];
    const ran: string[] = [];
    const runner = { openUrl: async (u: string) => opened.push(u), runCommand: async (c: string) => ran.push(c) };
    if (choice && typeof choice !== 'string') await runAction(choice, runner);
    await runAction({ type: 'command', title: 'x', command: 'sidekick.newChat' }, runner);
    await runAction({ type: 'command', title: 'x', command: 'evil.command' }, runner);
    await runAction({ type: 'url', title: 'x', url: 'javascript:void 0' }, runner);
    assert.deepEqual(opened, ['https://platform.openai.com/api-keys']);
    assert.deepEqual(ran, ['sidekick.newChat']);
  });
  it('passes a provider id from the action to the command, and drops odd arguments', async () => {
    const ran: string[][] = [];
    const runner = { openUrl: async () => 0, runCommand: async (c: string, ...a: string[]) => ran.push([c, ...a]) };
    const keyed = actionTarget({ title: 'Re-enter key', command: 'sidekick.selectYourAI', arguments: ['anthropic'] });
    assert.deepEqual(keyed, { type: 'command', title: 'Re-enter key', command: 'sidekick.selectYourAI', args: ['anthropic'] });
    await runAction(keyed!, runner);
    for (const bad of [[1], ['a b'], ['x'.repeat(65)], 'anthropic', [{}], ['a', 'b', 'c', 'd', 'e']]) {
      const t = actionTarget({ title: 'Connect', command: 'sidekick.selectYourAI', arguments: bad });
      assert.deepEqual(t, { type: 'command', title: 'Connect', command: 'sidekick.selectYourAI' }, JSON.stringify(bad));
    }
    assert.deepEqual(ran, [['sidekick.selectYourAI', 'anthropic']]);
  });
  it('returns extra buttons as strings and undefined on dismiss', async () => {
    assert.equal(await showGuidance(guidance(), { show: async () => 'Try Again' }, ['Try Again']), 'Try Again');
    assert.equal(await showGuidance(guidance(), { show: async () => undefined }), undefined);
  });
});
