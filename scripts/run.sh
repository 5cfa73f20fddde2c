#!/usr/bin/env bash
# The quick start: builds everything, then opens Sidekick in a real VS Code and prints the URL.
#
#   scripts/run.sh [--demo] [--code-server] [--folder DIR] [--port N]
#
#   --demo          also start the project's fake OpenAI server and offer it as the provider
#                   "Local demo (fake OpenAI server)": no API key needed.
#   --code-server   use code-server even when `code` is on PATH.
#   --folder DIR    the folder to open (default: this checkout).
#   --port N        code-server's port on 127.0.0.1 (default $SIDEKICK_PORT or 8080).
#
# With `code` on PATH it opens an Extension Development Host window on this checkout; otherwise
# code-server (VS Code 1.96 in the browser, installed once into ~/.cache/sidekick by
# scripts/code-server.sh) with the freshly packaged VSIX. Ctrl-C stops what it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

demo=0
editor=auto
folder=$root
port=${SIDEKICK_PORT:-8080}
while [ $# -gt 0 ]; do
  case $1 in
    --demo) demo=1; shift ;;
    --code-server) editor=code-server; shift ;;
    --folder) folder=$(cd "$2" && pwd); shift 2 ;;
    --port) port=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
if [ "$editor" = auto ]; then
  if command -v code >/dev/null 2>&1; then editor=code; else editor=code-server; fi
fi

say() { printf '\033[1m[run.sh]\033[0m %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# ---- tools -----------------------------------------------------------------------------------
command -v cargo >/dev/null || die "Rust is not installed: see https://rustup.rs (stable, 1.88 or newer)"
command -v node >/dev/null || die "Node.js 20 is not installed"
command -v npm >/dev/null || die "npm is not installed"
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$editor" = code-server ] && [ "$node_major" != 20 ]; then
  die "code-server 4.96.4 needs Node 20 (found $(node --version)); or install VS Code (\`code\`)"
fi

cache=${SIDEKICK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sidekick}
state=$cache/run
mkdir -p "$state"

pids=()
cleanup() {
  trap - EXIT INT TERM
  local pid
  for pid in "${pids[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  [ ${#pids[@]} -eq 0 ] || say "stopped"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- build -----------------------------------------------------------------------------------
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
say "packaging the extension: release sidecar + VSIX (npm run package; the first build takes minutes)"
if ! npm run --silent package >"$state/package.log" 2>&1; then
  tail -40 "$state/package.log" >&2
  die "npm run package failed (full log: $state/package.log)"
fi
vsix=$root/dist/sidekick-linux-x64.vsix
[ -f "$vsix" ] || vsix=$(ls -t "$root"/dist/sidekick-*.vsix 2>/dev/null | head -1)
[ -n "$vsix" ] && [ -f "$vsix" ] || die "npm run package made no VSIX in dist/ (log: $state/package.log)"
if [ "$demo" = 1 ]; then
  say "building the fake OpenAI server (cargo build --release -p fake-providers)"
  cargo build --quiet --release -p fake-providers
fi

# ---- demo provider ---------------------------------------------------------------------------
if [ "$demo" = 1 ]; then
  fake_log=$state/fake-providers.log
  setsid "$root/target/release/fake-providers" --port "${SIDEKICK_DEMO_PORT:-0}" --no-key \
    --token-delay-ms 30 >"$fake_log.out" 2>"$fake_log" &
  pids+=($!)
  base_url=
  for _ in $(seq 100); do
    base_url=$(sed -n 's/^fake-providers listening on \(http[^ ]*\)$/\1/p' "$fake_log.out")
    [ -n "$base_url" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || die "fake-providers did not start: $(cat "$fake_log")"
    sleep 0.1
  done
  [ -n "$base_url" ] || die "fake-providers printed no URL: $(cat "$fake_log")"
  export SIDEKICK_DEMO_BASE_URL=$base_url
  say "local demo provider: fake OpenAI server at $base_url (log: $fake_log)"
fi

# ---- editor ----------------------------------------------------------------------------------
walkthrough() {
  cat <<EOF

  Open Sidekick:  $1
  1. Run "Sidekick: Select Your AI" from the command palette (F1 or Ctrl+Shift+P).
EOF
  if [ "$demo" = 1 ]; then
    cat <<'EOF'
  2. Choose "Local demo (fake OpenAI server)", leave the key empty, pick gpt-4o-mini.
  3. Open the Sidekick chat (the speech-bubble icon in the activity bar) and ask anything.
     Put one of these in a question to see how Sidekick handles that case:
       [fake:markdown]    a heading, a list and a Python block (try Insert)
       [fake:slow]        a slow answer: press Stop (or Escape) halfway
       [fake:rate-limit]  a 429 with a 1.5 s retry hint: watch the countdown, then the answer
       [fake:quota]       429 insufficient_quota: the "credits are used up" card, Open billing
       [fake:401]         the key is refused: the Re-enter key card
       [fake:500]         a server error, retried, then a card
       [fake:drop]        the stream is cut after five words: the partial answer is kept
     The model gpt-4o-retired is listed but always answers 404: the "Pick another model" card.
  Your own key: choose OpenAI (or "OpenAI-compatible" for Ollama, LM Studio) instead.
EOF
  else
    cat <<'EOF'
  2. Choose OpenAI and paste your API key (it goes to your OS keychain), or
     "OpenAI-compatible" for Ollama / LM Studio; then pick a model.
  3. Open the Sidekick chat (the speech-bubble icon in the activity bar) and ask.
  No key? Run `scripts/run.sh --demo` for a local fake provider.
EOF
  fi
  echo
}

if [ "$editor" = code ]; then
  say "opening VS Code with the extension from this checkout (Extension Development Host)"
  code --new-window --extensionDevelopmentPath="$root" "$folder"
  walkthrough "the new VS Code window"
  if [ "$demo" = 1 ]; then
    say "the demo server runs until you press Ctrl-C"
    wait
  fi
  exit 0
fi

# code-server
"$root/scripts/code-server.sh" install
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  die "port $port is already in use: pass --port N (or set SIDEKICK_PORT)"
fi
cs_log=$state/code-server.log
setsid "$root/scripts/code-server.sh" start --port "$port" --folder "$folder" \
  --user-data-dir "$state/user-data" --extensions-dir "$state/extensions" --vsix "$vsix" \
  >"$cs_log" 2>&1 &
pids+=($!)
say "starting code-server (log: $cs_log)"
for _ in $(seq 600); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
  kill -0 "${pids[-1]}" 2>/dev/null || die "code-server stopped: $(tail -20 "$cs_log")"
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 || die "code-server did not answer on port $port: $(tail -20 "$cs_log")"
walkthrough "http://127.0.0.1:$port/"
say "running; Ctrl-C stops code-server${SIDEKICK_DEMO_BASE_URL:+ and the demo server}"
wait "${pids[-1]}"
