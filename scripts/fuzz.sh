#!/usr/bin/env bash
# Coverage-guided fuzzing with cargo-fuzz (libFuzzer) on a nightly toolchain: the LSP framing
# and transport guard, the stream decoders, failure classification, settings parsing,
# organization pages, prompt rendering and search queries
# (fuzz/fuzz_targets/). Seeds come from fuzz/seeds/ (and the fake's recorded bodies).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   explore: a random seed, the corpus kept between runs
#                                          in target/fuzz-corpus/ (default 30 s; docs/fuzzing.md)
#   scripts/fuzz.sh --ci                   the test command's run: the same inputs on every
#                                          machine (fixed seed, fixed number of runs, the seeds
#                                          only), so a failure is a bug anyone can replay
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/fuzz"
mode=explore
seconds=${1:-30}
if [ "${1:-}" = "--ci" ]; then
  mode=ci
  seconds=600 # a ceiling only: the runs below end far sooner (at most 55 s here)
fi
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz@0.13.2
cargo +nightly fuzz build -O --sanitizer none
for target in $(cargo +nightly fuzz list); do
  if [ "$mode" = ci ]; then
    corpus=$(mktemp -d)
    # The same inputs whatever the machine's speed: 2 million per target (7–55 s each here);
    # classification runs every provider's rules on each input, 300,000 (about 25 s).
    runs=2000000
    [ "$target" = classify ] && runs=300000
    limits=(-seed=1 -runs="$runs")
  else
    corpus="$root/target/fuzz-corpus/$target"
    mkdir -p "$corpus"
    limits=()
  fi
  seeds=()
  [ -d "seeds/$target" ] && seeds=("seeds/$target")
  echo "== fuzz $target ($mode)"
  log=$(mktemp)
  status=0
  cargo +nightly fuzz run -O --sanitizer none "$target" "$corpus" "${seeds[@]}" -- \
    -max_total_time="$seconds" "${limits[@]}" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E '^(stat::|INFO: seed|#[0-9]+[[:space:]]+DONE|==|SUMMARY|Done)' "$log" || true
  [ "$mode" = ci ] && rm -rf "$corpus"
  # A crash, an out-of-memory, a hang or a leak leaves an artifact and fails the run.
  if ls artifacts/"$target"/{crash,oom,timeout,leak}-* >/dev/null 2>&1; then
    echo "fuzz: $target failed: $(ls artifacts/"$target"/{crash,oom,timeout,leak}-* 2>/dev/null)" >&2
    exit 1
  fi
  if [ "$status" != 0 ]; then
    tail -20 "$log" >&2
    echo "fuzz: $target: cargo fuzz exited with $status" >&2
    exit 1
  fi
  # The fixed inputs are all of them or the run says it was not: a machine too slow for the
  # ceiling would otherwise pass on fewer.
  if [ "$mode" = ci ] && ! grep -q "^Done $runs runs" "$log"; then
    echo "fuzz: $target stopped at the ${seconds} s ceiling before its $runs runs" >&2
    exit 1
  fi
  rm -f "$log"
done
