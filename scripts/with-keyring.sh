#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with a real, unlocked gnome-keyring Secret
# Service whose files live in a throwaway directory: tests use the real keychain without
# touching yours. Needs: dbus (dbus-run-session), gnome-keyring, libsecret-tools (secret-tool).
set -euo pipefail
if [ -z "${SIDEKICK_KEYRING_SESSION:-}" ]; then
  export SIDEKICK_KEYRING_SESSION=1
  exec dbus-run-session -- "$0" "$@"
fi
keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
mkdir -p "$keyring_home/data" "$keyring_home/run"
chmod 700 "$keyring_home/run"
# Started by hand with its own data dir: D-Bus activation would give it the bus's environment
# and a locked, default keyring.
printf 'sidekick-test-keyring' | XDG_DATA_HOME="$keyring_home/data" XDG_RUNTIME_DIR="$keyring_home/run" \
  gnome-keyring-daemon --daemonize --unlock --components=secrets >/dev/null
"$@"
