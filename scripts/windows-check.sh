#!/usr/bin/env bash
# The Windows sidecar in CI: cross-built for x86_64-pc-windows-gnu (rustup's target, Debian's
# MinGW-w64 linker: .cargo/config.toml), then run under Wine: `--version` and a short stdio
# session over pipes (scripts/stdio-smoke.py). A debug build: the release one is what
# `npm run package -- --target win32-x64` makes (docs/platforms.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
triple=x86_64-pc-windows-gnu
rustup target list --installed | grep -qx "$triple" || rustup target add "$triple"
cargo build --locked --quiet --target "$triple" -p sidekick-server
target=${CARGO_TARGET_DIR:-$root/target}
run=$(mktemp -d)
trap 'rm -rf "$run"' EXIT
cp "$target/$triple/debug/sidekick-server.exe" "$run/"
# Wine 8 lacks bcryptprimitives.dll (Rust's std imports ProcessPrng from it): a stand-in for
# the test only, next to the .exe.
x86_64-w64-mingw32-gcc -shared -O2 -o "$run/bcryptprimitives.dll" scripts/wine-bcryptprimitives.c -ladvapi32
export WINEDEBUG=-all WINEPREFIX="$run/wine"
python3 scripts/stdio-smoke.py "${WINE:-/usr/lib/wine/wine64}" "$run/sidekick-server.exe"

# The win32-x64 VSIX, packaged around the binary just built (the release one is what
# `npm run package -- --target win32-x64` makes) and checked to carry the .exe for the
# win32-x64 platform.
node extension/scripts/package.mjs --target win32-x64 --binary "$target/$triple/debug/sidekick-server.exe"
python3 - dist/sidekick-win32-x64.vsix <<'PY'
import re, sys, zipfile
vsix = zipfile.ZipFile(sys.argv[1])
names = vsix.namelist()
exe = "extension/dist/bin/win32-x64/sidekick-server.exe"
assert exe in names, f"no {exe} in the VSIX: {names}"
assert not any("/bin/linux-" in n for n in names), "another platform's binary is in it"
manifest = vsix.read("extension.vsixmanifest").decode()
assert re.search(r'TargetPlatform="win32-x64"', manifest), "the VSIX is not marked win32-x64"
print(f"{sys.argv[1]}: {exe}, {vsix.getinfo(exe).file_size / 1e6:.1f} MB, TargetPlatform win32-x64")
PY
