#!/usr/bin/env bash
# Runs every test: lints, Rust unit and integration tests (the real sidecar binary over stdio,
# a real Secret Service), the extension's unit and headless-Chromium webview tests, the Neovim
# client's headless journey, and the end-to-end journey in a real VS Code (code-server). The
# README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s ==\n' "$*"; }

step "system packages"
scripts/install-deps.sh

step "npm dependencies"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

step "lint: rustfmt, clippy, TypeScript"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
npm run --silent typecheck

step "Rust: unit and integration tests (real keychain in a private D-Bus session)"
scripts/with-keyring.sh cargo test --workspace --locked

step "fuzzing: every target on the same inputs everywhere (nightly, cargo-fuzz; docs/fuzzing.md)"
scripts/fuzz.sh --ci

step "extension: unit and webview tests"
npm test

step "Windows: the sidecar cross-built and run under Wine"
scripts/windows-check.sh

step "Neovim: the same sidecar from Neovim's LSP client, headless"
editors/neovim/test/run.sh

step "end to end: the whole journey in code-server"
npm run test:e2e
