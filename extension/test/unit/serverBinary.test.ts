import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { bundledBinaryPath, executableName, findServerBinary, type BinaryLookup } from '../../src/serverBinary';

const ext = path.join(path.sep, 'ext');
function lookup(files: string[], overrides: Partial<BinaryLookup> = {}): BinaryLookup {
  return {
    configuredPath: '',
    extensionPath: ext,
    platform: 'linux',
    arch: 'x64',
    homeDir: path.join(path.sep, 'home', 'me'),
    exists: (f) => files.includes(f),
    ...overrides,
  };
}

describe('findServerBinary', () => {
  const bundled = path.join(ext, 'dist', 'bin', 'linux-x64', 'sidekick-server');

  it('uses the setting first', () => {
    const custom = path.join(path.sep, 'opt', 'sidekick-server');
    const found = findServerBinary(lookup([custom, bundled], { configuredPath: custom }));
    assert.deepEqual(found, { kind: 'found', path: custom, source: 'setting' });
  });

  it('expands ~ in the setting', () => {
    const found = findServerBinary(
      lookup([path.join(path.sep, 'home', 'me', 'bin', 'sidekick-server')], { configuredPath: '~/bin/sidekick-server' }),
    );
    assert.equal(found.kind, 'found');
    assert.equal(found.kind === 'found' && found.path, path.join(path.sep, 'home', 'me', 'bin', 'sidekick-server'));
  });

  it('refuses a setting that points nowhere instead of silently falling back', () => {
    const found = findServerBinary(lookup([bundled], { configuredPath: '/nope/sidekick-server' }));
    assert.equal(found.kind, 'missing');
    assert.match(found.kind === 'missing' ? found.message : '', /sidekick\.server\.path.*\/nope\/sidekick-server/);
  });

  it('refuses a relative setting', () => {
    const found = findServerBinary(lookup([bundled], { configuredPath: 'bin/sidekick-server' }));
    assert.equal(found.kind, 'missing');
    assert.match(found.kind === 'missing' ? found.message : '', /not an absolute path/);
  });

  it('falls back to the bundled binary for the platform and arch', () => {
    assert.deepEqual(findServerBinary(lookup([bundled])), { kind: 'found', path: bundled, source: 'bundled' });
    assert.equal(
      bundledBinaryPath(ext, 'win32', 'arm64'),
      path.join(ext, 'dist', 'bin', 'win32-arm64', 'sidekick-server.exe'),
    );
    assert.equal(executableName('darwin'), 'sidekick-server');
  });

  it('says what is missing and how to fix it', () => {
    const found = findServerBinary(lookup([]));
    assert.equal(found.kind, 'missing');
    if (found.kind !== 'missing') return;
    assert.deepEqual(found.tried, [bundled]);
    assert.match(found.message, /linux-x64/);
    assert.match(found.message, /cargo build --release -p sidekick-server/);
    assert.match(found.message, /sidekick\.server\.path/);
  });

  it('looks in target/ only in development mode', () => {
    const dev = path.join(ext, 'target', 'debug', 'sidekick-server');
    assert.equal(findServerBinary(lookup([dev])).kind, 'missing');
    assert.deepEqual(findServerBinary(lookup([dev], { development: true })), {
      kind: 'found',
      path: dev,
      source: 'development',
    });
  });
});
