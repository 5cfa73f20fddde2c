#!/usr/bin/env python3
"""Refreshes server/prices/litellm.json, the price snapshot embedded in the sidecar.

The source is LiteLLM's model_prices_and_context_window.json (MIT), taken from the `litellm`
package on PyPI (the wheel carries it as model_prices_and_context_window_backup.json), so the
snapshot is reproducible from a registry. Trimmed to the chat models of Sidekick's providers and
to the fields the sidecar reads; the format stays LiteLLM's, so a user's
$SIDEKICK_HOME/prices.json is written the same way.

    scripts/update-prices.py                 # pip download litellm, trim, write
    scripts/update-prices.py --from FILE     # trim a JSON you already have
"""
import argparse
import datetime
import glob
import json
import os
import subprocess
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "server", "prices", "litellm.json")
LICENSE_OUT = os.path.join(ROOT, "server", "prices", "LICENSE-litellm")
PROVIDERS = {"openai", "anthropic", "gemini", "azure", "openrouter"}
FIELDS = (
    "litellm_provider",
    "mode",
    "max_input_tokens",
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_read_input_token_cost",
    "cache_creation_input_token_cost",
)


def from_pypi(workdir):
    subprocess.run(["pip", "download", "litellm", "--no-deps", "-q", "-d", workdir], check=True)
    wheel = glob.glob(os.path.join(workdir, "litellm-*.whl"))[0]
    version = os.path.basename(wheel).split("-")[1]
    with zipfile.ZipFile(wheel) as z:
        data = json.loads(z.read("litellm/model_prices_and_context_window_backup.json"))
        lic = next(n for n in z.namelist() if n.endswith("licenses/LICENSE"))
        license_text = z.read(lic).decode()
    return data, f"litellm {version} (PyPI)", license_text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="source")
    args = ap.parse_args()
    if args.source:
        data, origin, license_text = json.load(open(args.source)), args.source, None
    else:
        with tempfile.TemporaryDirectory() as tmp:
            data, origin, license_text = from_pypi(tmp)
    models = {}
    for name, entry in sorted(data.items()):
        if not isinstance(entry, dict) or entry.get("mode") != "chat":
            continue
        if entry.get("litellm_provider") not in PROVIDERS:
            continue
        if "input_cost_per_token" not in entry or "output_cost_per_token" not in entry:
            continue
        models[name] = {k: entry[k] for k in FIELDS if k in entry}
    snapshot = {
        "_snapshot": {
            "source": "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
            "from": origin,
            "date": datetime.date.today().isoformat(),
            "license": "MIT, Copyright (c) 2023 Berri AI; see LICENSE-litellm beside this file",
        },
        **models,
    }
    with open(OUT, "w") as f:
        json.dump(snapshot, f, indent=1, sort_keys=False)
        f.write("\n")
    if license_text:
        with open(LICENSE_OUT, "w") as f:
            f.write(license_text)
    print(f"{len(models)} chat models from {origin} -> {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
