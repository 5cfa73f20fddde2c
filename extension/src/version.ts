// The protocol version check at start: the sidecar reports `protocolVersion` in
// `capabilities.experimental.sidekick`; an extension and a sidecar of different versions must
// not talk past each other. Pure, so the words are unit-tested.

/** The sidecar's protocol version from an `initialize` result, or undefined when it says none. */
export function reportedVersion(initializeResult: unknown): number | undefined {
  const v = (initializeResult as { capabilities?: { experimental?: { sidekick?: { protocolVersion?: unknown } } } })
    ?.capabilities?.experimental?.sidekick?.protocolVersion;
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

/**
 * Undefined when the versions match; otherwise the message to show: which side is too old, both
 * versions, the binary in use, and what to do.
 */
export function protocolMismatch(initializeResult: unknown, expected: number, binary: string): string | undefined {
  const got = reportedVersion(initializeResult);
  if (got === expected) return undefined;
  const fix =
    'Install the matching Sidekick release, or clear the "sidekick.server.path" setting to use the server bundled with the extension.';
  if (got === undefined || got < expected) {
    const said = got === undefined ? 'reports no protocol version' : `speaks protocol v${got}`;
    return `The Sidekick server at ${binary} is too old: it ${said}, and this extension needs v${expected}. ${fix}`;
  }
  return `The Sidekick server at ${binary} is too new: it speaks protocol v${got}, and this extension knows v${expected}. Update the extension. ${fix}`;
}
