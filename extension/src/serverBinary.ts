// Finds the sidecar binary: the `sidekick.server.path` setting, then the binary bundled in the
// VSIX (`dist/bin/<platform>-<arch>/`), then a clear error. Pure (the file system is injected) so
// the lookup is unit-tested; `client.ts` does the real I/O and the chmod.

import * as path from 'node:path';

export interface BinaryLookup {
  /** `sidekick.server.path`, possibly empty; `~` is expanded. */
  configuredPath: string | undefined;
  /** The extension's install directory. */
  extensionPath: string;
  platform: string;
  arch: string;
  homeDir: string;
  /** Development mode (F5 from the repo): also look in the Cargo target directory. */
  development?: boolean;
  exists(file: string): boolean;
}

export type BinaryFound = { kind: 'found'; path: string; source: 'setting' | 'bundled' | 'development' };
export type BinaryMissing = { kind: 'missing'; message: string; tried: string[] };

export function executableName(platform: string): string {
  return platform === 'win32' ? 'sidekick-server.exe' : 'sidekick-server';
}

/** `dist/bin/<platform>-<arch>/sidekick-server[.exe]` under the extension. */
export function bundledBinaryPath(extensionPath: string, platform: string, arch: string): string {
  return path.join(extensionPath, 'dist', 'bin', `${platform}-${arch}`, executableName(platform));
}

function expandHome(p: string, homeDir: string): string {
  if (p === '~') return homeDir;
  if (p.startsWith('~/') || p.startsWith('~\\')) return path.join(homeDir, p.slice(2));
  return p;
}

export function findServerBinary(opts: BinaryLookup): BinaryFound | BinaryMissing {
  const configured = opts.configuredPath?.trim();
  if (configured) {
    const resolved = expandHome(configured, opts.homeDir);
    if (!path.isAbsolute(resolved)) {
      return {
        kind: 'missing',
        tried: [resolved],
        message:
          `The setting sidekick.server.path is "${configured}", which is not an absolute path. ` +
          'Set it to the full path of a sidekick-server binary, or clear it to use the bundled one.',
      };
    }
    // An explicit setting wins; a wrong one is an error, never a silent fallback.
    if (opts.exists(resolved)) return { kind: 'found', path: resolved, source: 'setting' };
    return {
      kind: 'missing',
      tried: [resolved],
      message:
        `The setting sidekick.server.path points to ${resolved}, but no file is there. ` +
        'Fix the path (build it with `cargo build -p sidekick-server`), or clear the setting to use the bundled server.',
    };
  }
  const tried: string[] = [];
  const bundled = bundledBinaryPath(opts.extensionPath, opts.platform, opts.arch);
  tried.push(bundled);
  if (opts.exists(bundled)) return { kind: 'found', path: bundled, source: 'bundled' };
  if (opts.development) {
    for (const profile of ['debug', 'release']) {
      const dev = path.join(opts.extensionPath, 'target', profile, executableName(opts.platform));
      tried.push(dev);
      if (opts.exists(dev)) return { kind: 'found', path: dev, source: 'development' };
    }
  }
  return {
    kind: 'missing',
    tried,
    message:
      `Sidekick has no server binary for ${opts.platform}-${opts.arch}: ${bundled} is missing. ` +
      'Install the Sidekick build for your platform, or build the server (`cargo build --release -p sidekick-server`) ' +
      'and set sidekick.server.path to the binary.',
  };
}
