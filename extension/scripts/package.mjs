// npm run package: release sidecar → dist/bin/<target>/ (executable) → production bundle →
// a platform VSIX (dist/sidekick-<target>.vsix). Never prompts: CI has no stdin.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const target = `${process.platform}-${process.arch}`;
// vsce's platform names match Node's for the targets we build (linux-x64, darwin-arm64, win32-x64 …).
if (process.platform === 'win32') {
  // The executable bit does not survive packaging on Windows (microsoft/vscode-vsce#512).
  console.error('Package on Linux or macOS: a VSIX made on Windows loses the binary’s executable bit.');
  process.exit(1);
}
const exe = 'sidekick-server';
const run = (cmd, args) => {
  console.log(`$ ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
};

// --binary <path> packages an existing build instead (e.g. target/debug for a quick check).
const given = process.argv.indexOf('--binary');
// Cargo's own target directory: CARGO_TARGET_DIR moves it out of the checkout.
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(root, 'target');
const source = given >= 0 ? resolve(process.argv[given + 1] ?? '') : join(targetDir, 'release', exe);
if (given < 0) run('cargo', ['build', '--release', '-p', 'sidekick-server']);
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
