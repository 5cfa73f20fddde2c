#!/usr/bin/env python3
"""Runs the Windows sidecar under Wine: `--version`, then a short stdio session over pipes, as
VS Code gives a child process on Windows (initialize → listProviders → shutdown → exit).
Usage: scripts/windows-smoke.py path/to/sidekick-server.exe"""
import json
import os
import subprocess
import sys
import tempfile

exe = sys.argv[1]
wine = os.environ.get("WINE", "/usr/lib/wine/wine64")
env = dict(os.environ, WINEDEBUG="-all", WINEPREFIX=tempfile.mkdtemp(prefix="sidekick-wine-"))
env["SIDEKICK_HOME"] = tempfile.mkdtemp(prefix="sidekick-home-")
for k in ("OPENAI_API_KEY", "OPENAI_ADMIN_KEY", "SIDEKICK_DEMO_BASE_URL"):
    env.pop(k, None)

version = subprocess.run([wine, exe, "--version"], env=env, capture_output=True, text=True, timeout=300)
print("--version:", version.stdout.strip(), version.stderr.strip()[-300:])
assert version.returncode == 0 and version.stdout.startswith("sidekick-server "), version


def frame(msg):
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read(out):
    length = None
    while True:
        line = out.readline()
        if not line:
            raise EOFError("the sidecar closed stdout")
        line = line.strip()
        if not line:
            break
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return json.loads(out.read(length))


proc = subprocess.Popen([wine, exe], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
try:
    proc.stdin.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}))
    proc.stdin.flush()
    init = read(proc.stdout)
    assert init["result"]["serverInfo"]["name"] == "sidekick-server", init
    proc.stdin.write(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
    proc.stdin.write(frame({"jsonrpc": "2.0", "id": 2, "method": "sidekick/listProviders", "params": {}}))
    proc.stdin.flush()
    while True:
        msg = read(proc.stdout)
        if msg.get("id") == 2:
            break
    ids = [p["id"] for p in msg["result"]["providers"]]
    assert ids[:2] == ["openai", "anthropic"], ids
    proc.stdin.write(frame({"jsonrpc": "2.0", "id": 3, "method": "shutdown"}))
    proc.stdin.flush()
    while read(proc.stdout).get("id") != 3:
        pass
    proc.stdin.write(frame({"jsonrpc": "2.0", "method": "exit"}))
    proc.stdin.flush()
    proc.stdin.close()
    code = proc.wait(timeout=60)
    assert code == 0, f"exit code {code}: {proc.stderr.read().decode(errors='replace')[-2000:]}"
    print(f"stdio session under Wine: initialize, listProviders ({len(ids)} providers), shutdown, exit 0")
finally:
    if proc.poll() is None:
        proc.kill()
