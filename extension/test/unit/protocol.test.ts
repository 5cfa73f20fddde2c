// The TypeScript mirror must name every method, notification and guidance kind the Rust side does.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ChatDeltaNotification,
  ChatRequest,
  ChatStatusNotification,
  ClientRequest,
  ConnectAdminRequest,
  DisconnectAdminRequest,
  OrgCostsRequest,
  OrgSyncNotification,
  OrgUsageRequest,
  ListConversationsRequest,
  CreateConversationRequest,
  GetConversationRequest,
  RenameConversationRequest,
  DeleteConversationRequest,
  TruncateConversationRequest,
  CountTokensRequest,
  ConnectRequest,
  DisconnectRequest,
  ErrorCode,
  GUIDANCE_KINDS,
  ListModelsRequest,
  ListProvidersRequest,
  RequestLogRequest,
  RequestLoggedNotification,
  SpendRequest,
  Method,
  Notification,
  PROTOCOL_VERSION,
  SecretsDeleteRequest,
  SecretsGetRequest,
  SecretsStoreRequest,
  SelectModelRequest,
  StateChangedNotification,
} from '../../src/protocol';

const src = join(__REPO_ROOT__, 'server', 'src');
const rust = readFileSync(join(src, 'protocol.rs'), 'utf8');
const rustGuidance = readFileSync(join(src, 'protocol', 'guidance.rs'), 'utf8');

/** The method names of one macro's invocations (`request!(… Name = "sidekick/x": …)`). */
function declared(macro: 'request' | 'notification'): string[] {
  const blocks = Array.from(rust.matchAll(new RegExp(`${macro}!\\(([\\s\\S]*?)\\n\\);`, 'g')), (m) => m[1]!);
  return blocks.flatMap((b) => Array.from(b.matchAll(/= "(sidekick\/[^"]+)"/g), (m) => m[1]!)).sort();
}

describe('protocol.ts mirrors server/src/protocol.rs', () => {
  const requests = declared('request');
  it('has the same methods', () => {
    assert.deepEqual(
      Object.values(Method).sort(),
      requests.filter((m) => !m.startsWith('sidekick/secrets/')),
    );
  });
  it('has the same notifications', () => {
    assert.deepEqual(Object.values(Notification).sort(), declared('notification'));
  });
  it('has the same server → client requests', () => {
    assert.deepEqual(
      Object.values(ClientRequest).sort(),
      requests.filter((m) => m.startsWith('sidekick/secrets/')),
    );
  });
  it('has the same guidance kinds', () => {
    const kinds = Array.from(rustGuidance.matchAll(/^\s+\w+ = "([a-z_]+)",$/gm), (m) => m[1]!);
    assert.ok(kinds.length >= 18, `${kinds.length} kinds read`);
    assert.deepEqual([...GUIDANCE_KINDS].sort(), kinds.sort());
  });
  it('has the same version and guidance error code', () => {
    assert.match(rust, new RegExp(`PROTOCOL_VERSION: u32 = ${PROTOCOL_VERSION};`));
    assert.match(rust, new RegExp(`GUIDANCE_ERROR_CODE: i64 = ${ErrorCode.guidance};`));
  });
  it('declares a typed request or notification for every name', () => {
    const typed = [
      ListProvidersRequest, ConnectRequest, ListModelsRequest, SelectModelRequest, DisconnectRequest, ChatRequest,
      RequestLogRequest, SpendRequest, SecretsGetRequest, SecretsStoreRequest, SecretsDeleteRequest,
      ConnectAdminRequest, DisconnectAdminRequest, OrgCostsRequest, OrgUsageRequest,
      ListConversationsRequest, CreateConversationRequest, GetConversationRequest, RenameConversationRequest,
      DeleteConversationRequest, TruncateConversationRequest, CountTokensRequest,
    ].map((t) => t.method);
    assert.deepEqual(typed.sort(), requests);
    const notes = [StateChangedNotification, ChatDeltaNotification, ChatStatusNotification, RequestLoggedNotification, OrgSyncNotification].map(
      (t) => t.method,
    );
    assert.deepEqual(notes.sort(), declared('notification'));
  });
});
