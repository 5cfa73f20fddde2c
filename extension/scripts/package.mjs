// npm run package [-- --target win32-x64]: release sidecar → dist/bin/<target>/ (executable) →
// production bundle → a platform VSIX (dist/sidekick-<target>.vsix). The default target is the
// host's; win32-x64 is cross-built with MinGW-w64, linux-arm64 (and darwin-* given a macOS SDK in
// SDKROOT) with cargo-zigbuild through scripts/cross-build.sh (docs/platforms.md). Never prompts:
// CI has no stdin.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const host = `${process.platform}-${process.arch}`;
const targetArg = process.argv.indexOf('--target');
const target = targetArg >= 0 ? (process.argv[targetArg + 1] ?? '') : host;
/** The Rust target triple of each VSIX target that is cross-built from here. */
const CROSS = {
  'win32-x64': 'x86_64-pc-windows-gnu',
  'linux-arm64': 'aarch64-unknown-linux-gnu',
  'darwin-arm64': 'aarch64-apple-darwin',
  'darwin-x64': 'x86_64-apple-darwin',
};
/** Cross-linked by Zig: scripts/cross-build.sh installs cargo-zigbuild and Zig (pinned) and runs
 * `cargo zigbuild`; the binary still lands in <target dir>/<triple>/release/. On a Mac the other
 * darwin target is a plain `cargo build --target` (Xcode's linker has both). */
const ZIG = new Set(['linux-arm64', ...(process.platform === 'darwin' ? [] : ['darwin-arm64', 'darwin-x64'])]);
if (target !== host && !CROSS[target]) {
  console.error(`Cannot build ${target} here: the targets are ${host} (this machine) and ${Object.keys(CROSS).join(', ')}.`);
  process.exit(2);
}
const triple = target === host ? undefined : CROSS[target];
// vsce's platform names match Node's for the targets we build (linux-x64, darwin-arm64, win32-x64 …).
if (process.platform === 'win32') {
  // The executable bit does not survive packaging on Windows (microsoft/vscode-vsce#512).
  console.error('Package on Linux or macOS: a VSIX made on Windows loses the binary’s executable bit.');
  process.exit(1);
}
const exe = target.startsWith('win32-') ? 'sidekick-server.exe' : 'sidekick-server';
const run = (cmd, args) => {
  console.log(`$ ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
};

// --binary <path> packages an existing build instead (e.g. target/debug for a quick check).
const given = process.argv.indexOf('--binary');
// Cargo's own target directory: CARGO_TARGET_DIR moves it out of the checkout.
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(root, 'target');
const built = triple ? join(targetDir, triple, 'release', exe) : join(targetDir, 'release', exe);
const source = given >= 0 ? resolve(process.argv[given + 1] ?? '') : built;
if (given < 0 && triple && ZIG.has(target)) {
  // --no-check: the build only (scripts/cross-build.sh alone also runs it under qemu).
  try {
    run('bash', [join(root, 'scripts', 'cross-build.sh'), '--no-check', target]);
  } catch (e) {
    process.exit(e.status ?? 1); // the script has said why (e.g. no SDKROOT for darwin-*)
  }
} else if (given < 0) {
  run('cargo', ['build', '--release', '-p', 'sidekick-server', ...(triple ? ['--target', triple] : [])]);
}
// One platform's binary per VSIX: the allowlist takes all of dist/bin.
rmSync(join(root, 'dist', 'bin'), { recursive: true, force: true });
const binDir = join(root, 'dist', 'bin', target);
mkdirSync(binDir, { recursive: true });
const dest = join(binDir, exe);
copyFileSync(source, dest);
chmodSync(dest, 0o755);
console.log(`${dest}: ${(statSync(dest).size / 1e6).toFixed(1)} MB`);

run(process.execPath, [join(root, 'extension', 'scripts', 'build.mjs'), '--production']);

const out = join(root, 'dist', `sidekick-${target}.vsix`);
run(process.execPath, [
  join(root, 'node_modules', '@vscode', 'vsce', 'vsce'),
  'package',
  '--target',
  target,
  '--out',
  out,
  '--no-dependencies', // everything is bundled by esbuild
  '--allow-missing-repository',
]);
console.log(`Packaged ${out}`);
