import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROTOCOL_VERSION } from '../../src/protocol';
import { protocolMismatch, reportedVersion } from '../../src/version';

const init = (v: unknown) => ({ capabilities: { experimental: { sidekick: { protocolVersion: v } } } });
const BIN = '/opt/sidekick/sidekick-server';

describe('protocol version check', () => {
  it('passes when the versions match', () => {
    assert.equal(reportedVersion(init(PROTOCOL_VERSION)), PROTOCOL_VERSION);
    assert.equal(protocolMismatch(init(PROTOCOL_VERSION), PROTOCOL_VERSION, BIN), undefined);
  });
  it('names an older server, both versions, the binary and what to do', () => {
    const m = protocolMismatch(init(1), 2, BIN) ?? '';
    assert.match(m, /too old/);
    assert.match(m, /v1/);
    assert.match(m, /needs v2/);
    assert.ok(m.includes(BIN));
    assert.match(m, /sidekick\.server\.path/);
  });
  it('names a newer server and asks to update the extension', () => {
    const m = protocolMismatch(init(3), 2, BIN) ?? '';
    assert.match(m, /too new/);
    assert.match(m, /v3/);
    assert.match(m, /Update the extension/);
  });
  it('treats a server that says nothing (or nonsense) as too old', () => {
    for (const result of [{ capabilities: {} }, init('2'), init(2.5), undefined, null]) {
      const m = protocolMismatch(result, 2, BIN) ?? '';
      assert.match(m, /too old: it reports no protocol version/, JSON.stringify(result));
    }
  });
});
