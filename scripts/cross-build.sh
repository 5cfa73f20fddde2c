#!/usr/bin/env bash
# Cross-builds the release sidecar with cargo-zigbuild, Zig coming from PyPI's `ziglang`, and
# checks what it can (docs/platforms.md):
#
#   scripts/cross-build.sh [--install-only] [--no-check] [TARGET...]
#
# TARGET is a VSIX target; the default is linux-arm64, the one that builds and runs here.
#   linux-arm64   aarch64-unknown-linux-gnu, glibc 2.28 (VS Code's own floor). Checked: `file`,
#                 the highest GLIBC_ symbol version, then under qemu-user: `--version` and a stdio
#                 session (initialize → sidekick/listProviders → shutdown → exit).
#   darwin-arm64, darwin-x64
#                 need a macOS SDK: keyring's Keychain store and rustls' platform verifier link
#                 the Security and CoreFoundation frameworks, which Zig does not ship. On a Mac
#                 cargo-zigbuild finds the SDK itself; elsewhere set SDKROOT=/path/to/MacOSX.sdk,
#                 or the script stops before building (the link would fail after ~5 minutes:
#                 `unable to find system framework "Security"`). Built only: no Mach-O runs here.
#
# Installs what it needs, pinned, and only what is missing: ziglang (pip), cargo-zigbuild
# (cargo install --locked), the rustup targets; for the check, Debian's qemu-user and
# libc6-arm64-cross (apt-get, as root). --install-only stops after that; --no-check builds
# without checking (package.mjs uses it). The binary lands in $CARGO_TARGET_DIR/<triple>/release/
# (cargo-zigbuild drops the glibc suffix).
set -euo pipefail

ZIGLANG_VERSION=0.17.1
CARGO_ZIGBUILD_VERSION=0.24.1
GLIBC_VERSION=2.28

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
target_dir=${CARGO_TARGET_DIR:-$root/target}

install_only=0
check=1
targets=()
for arg in "$@"; do
  case $arg in
    --install-only) install_only=1 ;;
    --no-check) check=0 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    -*) echo "unknown option $arg" >&2; exit 2 ;;
    *) targets+=("$arg") ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(linux-arm64)

triple_of() {
  case $1 in
    linux-arm64) echo aarch64-unknown-linux-gnu ;;
    darwin-arm64) echo aarch64-apple-darwin ;;
    darwin-x64) echo x86_64-apple-darwin ;;
    *) echo "unknown target $1 (linux-arm64, darwin-arm64, darwin-x64)" >&2; return 2 ;;
  esac
}
# What cargo zigbuild is given: a glibc suffix pins the symbol versions the binary needs.
zig_target_of() {
  case $1 in
    linux-*) echo "$(triple_of "$1").$GLIBC_VERSION" ;;
    *) triple_of "$1" ;;
  esac
}

python=$(command -v python3)
# cargo-zigbuild looks for `python3 -m ziglang` first, then for `zig` on PATH: pin the former.
export CARGO_ZIGBUILD_PYTHON_PATH=$python

install_tools() {
  if [ "$("$python" -m ziglang version 2>/dev/null || true)" != "$ZIGLANG_VERSION" ]; then
    echo "installing ziglang $ZIGLANG_VERSION (PyPI)"
    "$python" -m pip install --quiet --disable-pip-version-check "ziglang==$ZIGLANG_VERSION"
  fi
  if [ "$(cargo-zigbuild --version 2>/dev/null || true)" != "cargo-zigbuild $CARGO_ZIGBUILD_VERSION" ]; then
    echo "installing cargo-zigbuild $CARGO_ZIGBUILD_VERSION (crates.io)"
    # Without CARGO_TARGET_DIR cargo install builds in a temporary dir, not the project's.
    env -u CARGO_TARGET_DIR cargo install --locked --quiet "cargo-zigbuild@$CARGO_ZIGBUILD_VERSION"
  fi
  local t triple
  for t in "${targets[@]}"; do
    triple=$(triple_of "$t")
    rustup target list --installed | grep -qx "$triple" || rustup target add "$triple"
  done
}

install_qemu() {
  command -v qemu-aarch64 >/dev/null && [ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] && return
  echo "installing qemu-user and libc6-arm64-cross (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user libc6-arm64-cross >/dev/null
}

# The stdio session VS Code has with the sidecar, under an emulator prefix (scripts/stdio-smoke.py,
# which runs the Windows build under Wine too).
stdio_smoke() {
  "$python" "$root/scripts/stdio-smoke.py" "$@"
}

check_linux_arm64() {
  local bin=$1
  local kind
  kind=$(file -b "$bin")
  echo "$kind"
  [[ $kind == *'ARM aarch64'* ]] || { echo "$bin is not an aarch64 ELF" >&2; return 1; }
  local glibc
  glibc=$(readelf --dyn-syms -W "$bin" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
  echo "highest glibc symbol version: $glibc"
  [ "$(printf '%s\n' "${glibc#GLIBC_}" "$GLIBC_VERSION" | sort -V | tail -1)" = "$GLIBC_VERSION" ] ||
    { echo "needs $glibc, more than $GLIBC_VERSION" >&2; return 1; }
  if [ "$(uname -m)" = aarch64 ]; then
    stdio_smoke "$bin"
  else
    install_qemu
    stdio_smoke qemu-aarch64 -L /usr/aarch64-linux-gnu "$bin"
  fi
}

for t in "${targets[@]}"; do
  triple_of "$t" >/dev/null
  # On a Mac, cargo-zigbuild finds the SDK itself (xcrun).
  if [[ $t == darwin-* && -z ${SDKROOT:-} && $(uname -s) != Darwin ]]; then
    echo "$t: set SDKROOT to a macOS SDK (MacOSX.sdk from Xcode or the Command Line Tools):" \
      "the sidecar links the Security and CoreFoundation frameworks, which Zig does not ship." >&2
    exit 1
  fi
done

install_tools
[ "$install_only" = 0 ] || exit 0

for t in "${targets[@]}"; do
  triple=$(triple_of "$t")
  echo "== $t: cargo zigbuild --target $(zig_target_of "$t")"
  start=$SECONDS
  cargo zigbuild --locked --release -p sidekick-server --target "$(zig_target_of "$t")"
  bin=$target_dir/$triple/release/sidekick-server
  echo "$bin: $(wc -c <"$bin" | tr -d ' ') bytes, built in $((SECONDS - start)) s"
  [ "$check" = 1 ] || continue
  case $t in
    linux-arm64) check_linux_arm64 "$bin" ;;
    darwin-*) file -b "$bin" && [[ $(file -b "$bin") == *Mach-O* ]] ;;
  esac
done
