#!/usr/bin/env bash
# Coverage-guided fuzzing with cargo-fuzz (libFuzzer) on a nightly toolchain: the LSP framing
# and transport guard, the stream decoders, failure classification, settings parsing,
# organization pages, prompt rendering and search queries
# (fuzz/fuzz_targets/). Seeds come from fuzz/seeds/ (and the fake's recorded bodies).
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     default 30 (CI); docs/fuzzing.md has a long run
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/fuzz"
seconds=${1:-30}
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz@0.13.2
cargo +nightly fuzz build -O --sanitizer none
for target in $(cargo +nightly fuzz list); do
  corpus="$root/target/fuzz-corpus/$target"
  mkdir -p "$corpus"
  seeds=()
  [ -d "seeds/$target" ] && seeds=("seeds/$target")
  echo "== fuzz $target for ${seconds}s"
  cargo +nightly fuzz run -O --sanitizer none "$target" "$corpus" "${seeds[@]}" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 2>&1 | grep -E '^(stat::|INFO: seed|#[0-9]+[[:space:]]+DONE|==|SUMMARY|Done)' || true
  # A crash leaves an artifact and fails the run.
  if ls artifacts/"$target"/crash-* >/dev/null 2>&1; then
    echo "fuzz: $target crashed: $(ls artifacts/"$target"/crash-*)" >&2
    exit 1
  fi
done
