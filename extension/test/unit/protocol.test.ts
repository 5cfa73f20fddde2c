// The TypeScript mirror must name every method, notification and guidance kind the Rust side does.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ClientRequest, ErrorCode, GUIDANCE_KINDS, Method, Notification, PROTOCOL_VERSION } from '../../src/protocol';

const rust = readFileSync(join(__REPO_ROOT__, 'server', 'src', 'protocol.rs'), 'utf8');

function rustConstants(module: string): string[] {
  const body = rust.match(new RegExp(`pub mod ${module} \\{([\\s\\S]*?)\\n\\}`))?.[1] ?? '';
  return Array.from(body.matchAll(/: &str = "([^"]+)"/g), (m) => m[1]!).sort();
}

describe('protocol.ts mirrors server/src/protocol.rs', () => {
  it('has the same methods', () => {
    assert.deepEqual(Object.values(Method).sort(), rustConstants('method'));
  });
  it('has the same notifications', () => {
    assert.deepEqual(Object.values(Notification).sort(), rustConstants('notification'));
  });
  it('has the same server → client requests', () => {
    assert.deepEqual(Object.values(ClientRequest).sort(), rustConstants('client_request'));
  });
  it('has the same guidance kinds', () => {
    const kinds = Array.from(rust.matchAll(/GuidanceKind::\w+ => "([a-z_]+)"/g), (m) => m[1]!);
    assert.deepEqual([...GUIDANCE_KINDS].sort(), kinds.sort());
  });
  it('has the same version and guidance error code', () => {
    assert.match(rust, new RegExp(`PROTOCOL_VERSION: u32 = ${PROTOCOL_VERSION};`));
    assert.match(rust, new RegExp(`GUIDANCE_ERROR_CODE: i64 = ${ErrorCode.guidance};`));
  });
});
