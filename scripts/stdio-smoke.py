#!/usr/bin/env python3
"""A stdio session as VS Code has with the sidecar, Content-Length framed JSON-RPC over pipes:
`--version`, then initialize → sidekick/listProviders → shutdown → exit, each reply checked and
the exit code 0. The arguments are the command that runs the binary, with any prefix:
  scripts/stdio-smoke.py /usr/lib/wine/wine64 sidekick-server.exe      (scripts/windows-check.sh)
  scripts/stdio-smoke.py qemu-aarch64 -L /usr/aarch64-linux-gnu sidekick-server   (cross-build.sh)"""
import json, os, subprocess, sys, tempfile

cmd = sys.argv[1:]
env = dict(os.environ, SIDEKICK_HOME=tempfile.mkdtemp(prefix="sidekick-home-"))
for k in ("OPENAI_API_KEY", "OPENAI_ADMIN_KEY", "ANTHROPIC_API_KEY", "SIDEKICK_DEMO_BASE_URL"):
    env.pop(k, None)

# Wine and qemu start slowly the first time.
version = subprocess.run(cmd + ["--version"], env=env, capture_output=True, text=True, timeout=300)
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


def reply(out, id_):
    while True:
        msg = read(out)
        if msg.get("id") == id_:
            return msg


# stderr to a file: a pipe nobody reads until the end could fill and stall the sidecar.
log = tempfile.TemporaryFile()
proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
try:
    send = lambda msg: (proc.stdin.write(frame(msg)), proc.stdin.flush())
    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "capabilities": {}}})
    init = reply(proc.stdout, 1)
    assert init["result"]["serverInfo"]["name"] == "sidekick-server", init
    send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    send({"jsonrpc": "2.0", "id": 2, "method": "sidekick/listProviders", "params": {}})
    ids = [p["id"] for p in reply(proc.stdout, 2)["result"]["providers"]]
    assert ids[:2] == ["openai", "anthropic"], ids
    send({"jsonrpc": "2.0", "id": 3, "method": "shutdown"})
    assert "error" not in reply(proc.stdout, 3)
    send({"jsonrpc": "2.0", "method": "exit"})
    proc.stdin.close()
    code = proc.wait(timeout=60)
    log.seek(0)
    assert code == 0, f"exit code {code}: {log.read().decode(errors='replace')[-2000:]}"
    print(f"stdio session: initialize, listProviders ({', '.join(ids)}), shutdown, exit 0")
finally:
    if proc.poll() is None:
        proc.kill()
