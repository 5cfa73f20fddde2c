#!/usr/bin/env bash
# Installs the system packages Sidekick's build and tests need (Debian/Ubuntu, as root),
# skipping the ones already there. Rust and Node come from the machine (rustup, Node 20).
set -euo pipefail
packages=(
  # native modules of code-server (the real VS Code the end-to-end tests drive)
  build-essential pkg-config libx11-dev libxkbfile-dev libsecret-1-dev libkrb5-dev ripgrep
  # the browser for webview and end-to-end tests (npm cannot download one here)
  chromium
  # a real Secret Service for keychain tests, and secret-tool to check what landed
  gnome-keyring dbus dbus-daemon libsecret-tools
  # whole-process benchmarks
  valgrind
  # the Windows sidecar: cross-linked with MinGW-w64, smoke-tested under Wine
  gcc-mingw-w64-x86-64 wine64
)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all system packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
