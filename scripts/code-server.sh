#!/usr/bin/env bash
# code-server 4.96.4 from npm: a real VS Code 1.96 that runs in a browser. Used by the e2e
# journey (e2e/run.sh) and the quick start (scripts/run.sh) where no `code` is installed.
#
#   scripts/code-server.sh install
#       Installs it into $SIDEKICK_CACHE/code-server-4.96.4 (default ~/.cache/sidekick/...).
#       Idempotent: each step leaves a marker, so a rerun skips what is done (a second run
#       after success takes well under a second). Installs the Debian packages it needs when
#       one is missing and we are root; otherwise prints the apt-get line and stops.
#   scripts/code-server.sh start --port P --folder F --user-data-dir D --extensions-dir E \
#                                [--vsix V] [--host 127.0.0.1]
#       Installs the VSIX (if given) into E, writes D/User/settings.json if absent (no trust
#       dialog, no welcome page, no telemetry), then runs code-server in the FOREGROUND (exec):
#       run it under `setsid` (or spawn detached) to kill its whole process group afterwards.
#       Ready when http://HOST:P/healthz answers.
#   scripts/code-server.sh entry
#       Prints the path of code-server's entry.js.
#
# Why by hand: code-server's own postinstall fetches @vscode/proxy-agent from a git URL and
# @vscode/ripgrep's binary from GitHub, which this machine and CI cannot reach. The steps
# below do the same work from the npm registry and Debian.
set -euo pipefail

CS_VERSION=4.96.4
PROXY_AGENT_VERSION=0.27.0
APT_PACKAGES=(build-essential pkg-config python3 libx11-dev libxkbfile-dev libsecret-1-dev libkrb5-dev
  ripgrep chromium gnome-keyring dbus libsecret-tools curl)

cache_root=${SIDEKICK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sidekick}
prefix=$cache_root/code-server-$CS_VERSION
cs=$prefix/node_modules/code-server
vscode=$cs/lib/vscode
steps=$prefix/.steps
entry=$cs/out/node/entry.js

log() { printf '[code-server.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---- system packages -----------------------------------------------------------------------

missing_system_packages() {
  local missing=()
  command -v cc >/dev/null && command -v make >/dev/null && command -v g++ >/dev/null || missing+=(build-essential)
  command -v pkg-config >/dev/null || missing+=(pkg-config)
  command -v python3 >/dev/null || missing+=(python3)
  if command -v pkg-config >/dev/null; then
    pkg-config --exists x11 || missing+=(libx11-dev)
    pkg-config --exists xkbfile || missing+=(libxkbfile-dev)
    pkg-config --exists libsecret-1 || missing+=(libsecret-1-dev)
    pkg-config --exists krb5-gssapi || missing+=(libkrb5-dev)
  else
    missing+=(libx11-dev libxkbfile-dev libsecret-1-dev libkrb5-dev)
  fi
  command -v rg >/dev/null || missing+=(ripgrep)
  command -v chromium >/dev/null || missing+=(chromium)
  command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
  command -v dbus-run-session >/dev/null || missing+=(dbus)
  command -v secret-tool >/dev/null || missing+=(libsecret-tools)
  command -v curl >/dev/null || missing+=(curl)
  echo "${missing[*]}"
}

ensure_system_packages() {
  local missing
  missing=$(missing_system_packages)
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing Debian packages: $missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq $missing >/dev/null
    missing=$(missing_system_packages)
    [ -z "$missing" ] || die "still missing after apt-get: $missing"
  else
    die "missing system packages: $missing
  install them with:  sudo apt-get update && sudo apt-get install -y ${APT_PACKAGES[*]}"
  fi
}

# ---- code-server ---------------------------------------------------------------------------

# Runs step NAME (a function) once: a marker in $steps records success.
step() {
  local name=$1
  shift
  [ -f "$steps/$name" ] && return 0
  log "step $name…"
  local t0=$SECONDS
  "$@"
  touch "$steps/$name"
  log "step $name done in $((SECONDS - t0)) s"
}

npm_q() { npm --no-audit --no-fund --loglevel=error "$@"; }

s_fetch() {
  [ -f "$prefix/package.json" ] || printf '{ "private": true }\n' >"$prefix/package.json"
  (cd "$prefix" && npm_q install --ignore-scripts "code-server@$CS_VERSION")
}

s_shrinkwrap() {
  # The shrinkwrap pins @vscode/proxy-agent to a git URL; the same version is on the registry.
  local registry tarball
  registry=$(npm config get registry)
  tarball="${registry%/}/@vscode/proxy-agent/-/proxy-agent-$PROXY_AGENT_VERSION.tgz"
  node - "$vscode/npm-shrinkwrap.json" "$tarball" "$PROXY_AGENT_VERSION" <<'EOF'
const fs = require('fs');
const [file, tarball, version] = process.argv.slice(2);
const wrap = JSON.parse(fs.readFileSync(file, 'utf8'));
const entry = wrap.packages && wrap.packages['node_modules/@vscode/proxy-agent'];
if (!entry) throw new Error(`${file}: no node_modules/@vscode/proxy-agent entry`);
if (entry.version && entry.version !== version && !/^git|github:/.test(entry.version)) {
  console.error(`note: shrinkwrap has proxy-agent ${entry.version}, using ${version}`);
}
entry.version = version;
entry.resolved = tarball;
delete entry.integrity;
fs.writeFileSync(file, JSON.stringify(wrap, null, 2) + '\n');
EOF
}

s_vscode_modules() { (cd "$vscode" && npm_q install --omit=dev --ignore-scripts); }

s_ripgrep() {
  # @vscode/ripgrep's postinstall downloads rg from GitHub; Debian's rg does the same job.
  local rg
  rg=$(command -v rg) || die "ripgrep (rg) is not installed"
  mkdir -p "$vscode/node_modules/@vscode/ripgrep/bin"
  ln -sfn "$rg" "$vscode/node_modules/@vscode/ripgrep/bin/rg"
}

s_vscode_rebuild() { (cd "$vscode" && npm_q rebuild --omit=dev); }

s_asar() { [ -e "$vscode/node_modules.asar" ] || ln -s node_modules "$vscode/node_modules.asar"; }

s_bin_links() {
  # As the postinstall does: `code` for code-server's terminals, `browser` for $BROWSER.
  ln -sfn code-linux.sh "$vscode/bin/remote-cli/code-server"
  ln -sfn browser-linux.sh "$vscode/bin/helpers/browser.sh"
}

s_extensions() { (cd "$vscode/extensions" && npm_q install --omit=dev --ignore-scripts); }

s_argon2() { (cd "$prefix" && npm_q rebuild argon2); }

s_check() {
  # The native modules load and the entry point answers.
  (cd "$vscode" && node -e "for (const m of ['@vscode/spdlog','node-pty','@parcel/watcher','kerberos','native-watchdog']) require(m)")
  (cd "$prefix" && node -e "require('argon2')")
  [ -x "$vscode/node_modules/@vscode/ripgrep/bin/rg" ] || die "rg link is broken"
  node "$entry" --version >/dev/null
}

do_install() {
  if [ -f "$prefix/.installed" ]; then
    return 0
  fi
  local t0=$SECONDS
  ensure_system_packages
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" = 20 ] || die "code-server $CS_VERSION needs Node 20 (found $(node --version))"
  mkdir -p "$steps"
  # One install at a time (the e2e runner and the quick start may race).
  exec 9>"$prefix/.lock"
  flock 9
  if [ -f "$prefix/.installed" ]; then return 0; fi
  log "installing code-server $CS_VERSION into $prefix (first time: several minutes)"
  step fetch s_fetch
  step shrinkwrap s_shrinkwrap
  step vscode-modules s_vscode_modules
  step ripgrep s_ripgrep
  step vscode-rebuild s_vscode_rebuild
  step asar s_asar
  step bin-links s_bin_links
  step extensions s_extensions
  step argon2 s_argon2
  s_check
  echo "$CS_VERSION" >"$prefix/.installed"
  log "code-server $CS_VERSION installed in $((SECONDS - t0)) s"
  exec 9>&-
}

# ---- start -----------------------------------------------------------------------------------

do_start() {
  local port='' folder='' udd='' extdir='' vsix='' host=127.0.0.1
  while [ $# -gt 0 ]; do
    case $1 in
      --port) port=$2; shift 2 ;;
      --folder) folder=$2; shift 2 ;;
      --user-data-dir) udd=$2; shift 2 ;;
      --extensions-dir) extdir=$2; shift 2 ;;
      --vsix) vsix=$2; shift 2 ;;
      --host) host=$2; shift 2 ;;
      *) die "start: unknown option $1" ;;
    esac
  done
  [ -n "$port" ] && [ -n "$folder" ] && [ -n "$udd" ] && [ -n "$extdir" ] ||
    die "usage: code-server.sh start --port P --folder F --user-data-dir D --extensions-dir E [--vsix V]"
  do_install
  mkdir -p "$udd/User" "$extdir"
  if [ ! -f "$udd/User/settings.json" ]; then
    cat >"$udd/User/settings.json" <<'EOF'
{
  "security.workspace.trust.enabled": false,
  "workbench.startupEditor": "none",
  "workbench.welcomePage.walkthroughs.openOnInstall": false,
  "workbench.tips.enabled": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "workbench.enableExperiments": false,
  "git.openRepositoryInParentFolders": "never",
  "chat.commandCenter.enabled": false
}
EOF
  fi
  # Our own config file: code-server otherwise creates ~/.config/code-server/config.yaml with a
  # password. The flags below override it anyway.
  local config=$udd/code-server.yaml
  printf 'bind-addr: %s:%s\nauth: none\ncert: false\n' "$host" "$port" >"$config"
  if [ -n "$vsix" ]; then
    [ -f "$vsix" ] || die "no VSIX at $vsix"
    log "installing $vsix"
    node "$entry" --config "$config" --user-data-dir "$udd" --extensions-dir "$extdir" \
      --install-extension "$vsix" --force >&2
  fi
  log "starting code-server on http://$host:$port/ (folder $folder)"
  exec node "$entry" --config "$config" --bind-addr "$host:$port" --auth none \
    --user-data-dir "$udd" --extensions-dir "$extdir" \
    --disable-telemetry --disable-update-check --disable-workspace-trust \
    --disable-getting-started-override "$folder"
}

case ${1:-} in
  install) shift; do_install "$@" ;;
  start) shift; do_start "$@" ;;
  entry) [ -f "$prefix/.installed" ] || die "not installed: run scripts/code-server.sh install"; echo "$entry" ;;
  *) die "usage: code-server.sh install | start --port P --folder F --user-data-dir D --extensions-dir E [--vsix V] | entry" ;;
esac
