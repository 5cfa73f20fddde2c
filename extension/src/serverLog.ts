// The sidecar's stderr, line by line, at the level it was logged with. vscode-languageclient
// would log every stderr line as an error ("[error] INFO sidekick-server starting").

/** The levels of a LogOutputChannel. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/**
 * The level of one line of the sidecar's `tracing` output
 * (`2026-11-22T18:11:35.879149Z  INFO sidekick-server starting`). Lines that carry no level
 * (a panic message, a continuation) are errors: something unusual is being said.
 */
export function serverLogLevel(line: string): LogLevel {
  const level = line.trim().split(/\s+/, 2)[1];
  switch (level) {
    case 'TRACE':
      return 'trace';
    case 'DEBUG':
      return 'debug';
    case 'INFO':
      return 'info';
    case 'WARN':
      return 'warn';
    default:
      return 'error';
  }
}
