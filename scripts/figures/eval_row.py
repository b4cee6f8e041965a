#!/usr/bin/env python3
"""Run one `spiqa-eval` (or `spiqa-quantize`) command and keep its result row in a file, for `make figures`.

  python3 scripts/figures/eval_row.py OUT.json -- spiqa-eval --task squad ...

The tool's standard output must be one JSON object; it is written to OUT.json unchanged (via OUT.json.tmp, then a
rename, so an interrupted run never leaves a half row). With --report, the command writes its own JSON file
(spiqa-quantize --report OUT) and this script only checks it.

A setting the method itself cannot handle (exit code 65, "bad data": e.g. a data-dependent quantizer whose bins run
empty at 16 bits, where the reference code crashes too) is recorded as a failure row instead of stopping the
whole run: {"failed": true, "exit_code": 65, "error": "<the tool's message>", "command": [...]}. The figures skip
such rows and docs/results.md lists them. Any other failure (usage, I/O, crash) stops `make`.

Every row gets a "provenance" object saying which build made it. The tools' own provenance (docs/cli.md, "Result
keys": version, commit, checkpoint and data hashes) is kept, and these keys are added (`tool` becomes the path):
  tool          the binary's path, as run
  tool_sha256   first 16 hex digits of the binary's SHA-256: the identity of the build
  tool_mtime    the binary's modification time (UTC), i.e. roughly when it was built
  source        `git describe --always --dirty` of this checkout when the row was made (what the binary was
                most likely built from, unless FIG_BIN points at binaries built elsewhere)
  made          when the row was made (UTC)
results_md.py groups rows by tool_sha256 and says when a table mixes builds.
"""
import argparse
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time


def _utc(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def provenance(tool):
    """Which build made a row: the binary's hash and date, and the checkout's git describe (see the docstring)."""
    path = tool if os.sep in tool else (shutil.which(tool) or tool)
    out = {"tool": tool, "made": _utc(time.time())}
    try:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        out["tool_sha256"] = h.hexdigest()[:16]
        out["tool_mtime"] = _utc(os.stat(path).st_mtime)
    except OSError as e:
        out["tool_sha256"] = None
        out["tool_error"] = str(e)
    try:
        d = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True, timeout=30)
        out["source"] = d.stdout.strip() if d.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        out["source"] = None
    return out


def _with_provenance(line, prov):
    row = json.loads(line)
    row["provenance"] = {**(row.get("provenance") or {}), **prov}
    return json.dumps(row, sort_keys=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", help="result row file to write")
    p.add_argument("--report", action="store_true", help="the command writes OUT itself (spiqa-quantize --report)")
    p.add_argument("--keep-stderr", action="store_true", help="pass the tool's standard error through")
    p.add_argument("--stamp", action="store_true",
                   help="OUT was made by another step (a sharded merge): only add the provenance of the command's "
                        "tool; the command is not run")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command line")
    a = p.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not cmd:
        p.error("no command given")
    tmp = a.out + ".tmp"
    if a.stamp:
        with open(a.out) as f:
            text = _with_provenance(f.read(), provenance(cmd[0]))
        with open(tmp, "w") as f:
            f.write(text + "\n")
        os.replace(tmp, a.out)
        return 0
    started = time.time()
    proc = subprocess.run(cmd, stderr=None if a.keep_stderr else subprocess.PIPE,
                          stdout=subprocess.DEVNULL if a.report else subprocess.PIPE)
    elapsed = time.time() - started
    prov = provenance(cmd[0])
    err = (proc.stderr or b"").decode("utf-8", "replace").strip()
    if proc.returncode == 65:
        row = {"failed": True, "exit_code": 65, "error": err.splitlines()[-1] if err else "exit code 65",
               "command": cmd, "provenance": prov}
        with open(tmp, "w") as f:
            f.write(json.dumps(row, sort_keys=True) + "\n")
        os.replace(tmp, a.out)
        print(f"eval_row: {a.out}: recorded failure: {row['error']}", file=sys.stderr)
        return 0
    if proc.returncode != 0:
        sys.stderr.write(err + "\n" if err else "")
        print(f"eval_row: {' '.join(cmd)}: exit code {proc.returncode}", file=sys.stderr)
        return proc.returncode
    if a.report:
        with open(a.out) as f:
            text = _with_provenance(f.read(), prov)
        with open(tmp, "w") as f:
            f.write(text + "\n")
        os.replace(tmp, a.out)
    else:
        lines = [l for l in proc.stdout.decode("utf-8").splitlines() if l.strip()]
        if len(lines) != 1:
            print(f"eval_row: {cmd[0]} printed {len(lines)} lines, expected one JSON row", file=sys.stderr)
            return 1
        text = _with_provenance(lines[0], prov)
        with open(tmp, "w") as f:
            f.write(text + "\n")
        os.replace(tmp, a.out)
    print(f"eval_row: {a.out} ({elapsed:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
