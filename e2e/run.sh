#!/usr/bin/env bash
# npm run test:e2e: builds what the journey needs, then runs it inside a private D-Bus session
# with an unlocked gnome-keyring. See e2e/README.md.
#
#   1. the VSIX (npm run package: release sidecar + production bundle), unless
#      SIDEKICK_E2E_VSIX names one already built;
#   2. the fake provider server (cargo build -p fake-providers, debug), unless SIDEKICK_E2E_FAKE
#      names a binary;
#   3. code-server 4.96.4 (scripts/code-server.sh install: cached in ~/.cache/sidekick);
#   4. node --test e2e/journey.test.mjs under scripts/with-keyring.sh (TAP: `# pass N`, `# fail N`).
#
# Screenshots and logs: $SIDEKICK_E2E_SHOTS or e2e-shots/. SIDEKICK_E2E_KEEP=1 keeps the temp dir.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { printf '[e2e] %s\n' "$*" >&2; }
t0=$SECONDS

if [ -z "${SIDEKICK_E2E_VSIX:-}" ]; then
  say "packaging the extension (npm run package)"
  npm run --silent package >&2
fi
if [ -z "${SIDEKICK_E2E_FAKE:-}" ]; then
  say "building the fake provider server"
  cargo build --quiet -p fake-providers
fi
say "code-server"
scripts/code-server.sh install
say "ready in $((SECONDS - t0)) s; running the journey"

status=0
scripts/with-keyring.sh node --test --test-reporter=tap --test-concurrency=1 e2e/journey.test.mjs || status=$?
say "done in $((SECONDS - t0)) s (exit $status)"
exit "$status"
