#!/usr/bin/env bash
# Reproduces every figure in docs/performance.md from a clean clone:
#   release binaries → bench/ npm deps → criterion (in-process) → whole-process harness
#   (sidecar over stdio vs direct reads, footprint, throughput, cancel) → editor-side CPU
#   (Node: vscode-jsonrpc client of the sidecar vs the openai SDK) → a summary.
#
#   scripts/bench.sh [--quick]        (also: cd bench && npm run bench)
#
# Results: target/bench-results/*.json, target/criterion/, target/bench-results/summary.md.
# Medians and ratios only, each against a baseline measured in the same run: nothing here
# fails on a time, so a noisy machine gives noisy figures, never a red build.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=""
for a in "$@"; do
  case "$a" in
    --quick) QUICK="--quick" ;;
    *) echo "usage: scripts/bench.sh [--quick]" >&2; exit 2 ;;
  esac
done

step() { printf '\n== %s ==\n' "$*"; }
mkdir -p target/bench-results

step "release binaries (profile.release: lto=fat, codegen-units=1, strip)"
cargo build --release --locked -p sidekick-server -p fake-providers

step "bench dependencies (bench/package.json: vscode-jsonrpc, openai)"
if [ ! -d bench/node_modules ] || [ bench/package-lock.json -nt bench/node_modules/.package-lock.json ]; then
  (cd bench && npm ci --no-audit --no-fund)
fi

step "criterion: SSE → chunk → text, in-process"
cargo bench --locked -p sidekick-server --bench relay_parse 2>&1 | tee target/bench-results/relay_parse.txt

step "whole process: relay overhead, footprint, throughput, cancel"
export SIDEKICK_SERVER_BIN="$PWD/target/release/sidekick-server"
# A Secret Service of its own: the organization benchmark stores an admin key.
scripts/with-keyring.sh cargo bench --locked -p sidekick-server --bench whole_process -- $QUICK \
  --out "$PWD/target/bench-results/whole_process.json" 2>&1 | tee target/bench-results/whole_process.txt

step "editor-side CPU: vscode-jsonrpc client of the sidecar vs the openai SDK (Node $(node --version))"
node bench/editor-cpu.mjs $QUICK --out target/bench-results/editor_cpu.json \
  2>&1 | tee target/bench-results/editor_cpu.txt

step "Usage and Costs view: first paint in Chromium with 90 days of data"
npm run --silent build
node bench/costs-view.mjs $QUICK --out target/bench-results/costs_view.json 2>&1 | tee target/bench-results/costs_view.txt

step "summary"
node bench/summary.mjs | tee target/bench-results/summary.md
