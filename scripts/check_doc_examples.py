#!/usr/bin/env python3
"""Run the shell examples of README.md and docs/*.md against installed tools (`make doc-examples`).

What counts as an example
  * Only fenced blocks whose info string is `sh`, `bash` or `console` (untyped ``` blocks, python, json are not run).
  * Inside a block, each logical command line is one example: backslash continuations are joined, a `for`/`while`/
    `if` is joined up to its `done`/`fi`, a console `$ ` prompt is stripped, blank and comment-only lines dropped.
  * A line that only assigns variables (`B=.build/release; D=../shared/data`) is not an example: it is prepended to
    every later example of the same block.
Not run (reported as SKIP with the reason)
  * A block preceded by `<!-- not run: REASON -->` (blank lines between them allowed).
  * A line that starts with `make ` or `pip ` (builds, installs, or hours of CPU; `make test` covers the targets),
    or holds a placeholder: `...`, `…` or `<…>` — and the lines listed in ALLOW_SKIP below, each with its reason.
Setup
  * `<!-- doc-example setup: COMMANDS -->` before a block (with or beside a `not run`) runs COMMANDS, hidden from
    the reader, in the block's folder before its examples — to create the input files an example names.
  * `<!-- doc-example timeout: SECONDS -->` sets the time limit of each example of the next block (default 300 s).
How they run
  * Every block gets a fresh folder ROOT/<doc>-<line>/ where ROOT/shared is the shared data (../shared works as
    written), models/all-MiniLM-L6-v2 the default model, scripts/ and python/ the repository's; PATH starts with
    PREFIX/bin and SPIQA_SHARED is set, as after `make install`. The examples of a block run in order, in that
    folder (a later one may read an earlier one's output), each as `bash -e -o pipefail -c`, standard input
    /dev/null. An exit status other than 0, or the time limit, is FAIL — except 141, a stage ended by SIGPIPE
    because a later one stopped reading (`spiqa-extract --list | head`), which is how Unix pipes work.

Usage: check_doc_examples.py --prefix DIR [--shared DIR] [--model DIR] [-k SUBSTRING] [--list] [--keep]
                             [--skip-if-missing]
Exit status: 0 when no example failed.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_TIMEOUT = 300

# (document, a substring of the example) -> why it is not run here. Keep each reason short and true.
ALLOW_SKIP = [
    ("docs/evaluation.md", "# all 10,570 dev questions",
     "all 10,570 SQuAD questions: about half an hour here (100 take 11-17 s)"),
    ("docs/evaluation.md", "--limit 1000 --threshold 0.01",
     "1,000 SQuAD questions: 2-3 minutes here (100 take 11-17 s), more than all the rest together"),
    ("docs/evaluation.md", "--model M-mnli", "M-mnli stands for your MNLI model; GLUE MNLI is not in ../shared"),
    ("docs/evaluation.md", "--model M --task classify", "M and mine.jsonl stand for your model and data"),
    ("docs/evaluation.md", "--model M-squad2", "M-squad2 stands for a SQuAD v2.0 model; dev-v2.0.json is not in ../shared"),
    ("docs/extract.md", "--task mnli", "GLUE MNLI is not in ../shared"),
]

FENCE = re.compile(r"^```(\w*)\s*$")
NOT_RUN = re.compile(r"<!--\s*not run:\s*(.*?)\s*-->")
SETUP = re.compile(r"<!--\s*doc-example setup:\s*(.*?)\s*-->", re.S)
TIMEOUT = re.compile(r"<!--\s*doc-example timeout:\s*(\d+)\s*-->")
ASSIGN = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s*;?\s*)+(?:#.*)?$")
PLACEHOLDER = re.compile(r"\.\.\.|…|<[^<>|]*[a-z][^<>|]*>")


class Example:
    def __init__(self, doc, line, command, prelude, block):
        self.doc, self.line, self.command, self.prelude, self.block = doc, line, command, prelude, block
        self.skip = None


class Block:
    def __init__(self, doc, line, lang):
        self.doc, self.line, self.lang = doc, line, lang
        self.skip, self.setup, self.timeout = None, [], DEFAULT_TIMEOUT
        self.examples = []


def documents():
    return [REPO / "README.md"] + sorted((REPO / "docs").glob("*.md"))


def comments_before(lines, i):
    """The HTML comments directly above line i (blank lines between them allowed)."""
    chunks, j = [], i - 1
    while j >= 0:
        s = lines[j].strip()
        if not s:
            j -= 1
            continue
        if not s.endswith("-->"):
            break
        k = j
        while k >= 0 and "<!--" not in lines[k]:
            k -= 1
        if k < 0:
            break
        chunks.insert(0, "\n".join(lines[k:j + 1]))
        j = k - 1
    return "\n".join(chunks)


def logical_lines(body, first_line):
    """(line number, text) of each logical command line of a block body."""
    out, buf, start, depth = [], "", None, 0
    for k, raw in enumerate(body):
        line = raw.rstrip()
        if not buf:
            stripped = line.strip()
            if stripped.startswith("$ "):
                line = stripped[2:]
            if not line.strip() or line.strip().startswith("#"):
                continue
            start = first_line + k
        buf += line[:-1] + " " if line.endswith("\\") else line
        if line.endswith("\\"):
            continue
        words = re.findall(r"(?:^|;|\s)(for|while|until|if|done|fi)(?=\s|;|$)", re.sub(r"#.*", "", line))
        depth += sum(1 for w in words if w in ("for", "while", "until", "if"))
        depth -= sum(1 for w in words if w in ("done", "fi"))
        if depth > 0:
            buf += "\n"
            continue
        out.append((start, buf))
        buf = ""
    if buf:
        out.append((start, buf))
    return out


def parse():
    blocks = []
    for path in documents():
        doc = str(path.relative_to(REPO))
        lines = path.read_text(encoding="utf-8").splitlines()
        i = 0
        while i < len(lines):
            m = FENCE.match(lines[i])
            if not m:
                i += 1
                continue
            end = i + 1
            while end < len(lines) and not lines[end].startswith("```"):
                end += 1
            if m.group(1) in ("sh", "bash", "console"):
                block = Block(doc, i + 1, m.group(1))
                notes = comments_before(lines, i)
                if (n := NOT_RUN.search(notes)):
                    block.skip = n.group(1)
                block.setup = [s.strip() for s in SETUP.findall(notes)]
                if (t := TIMEOUT.search(notes)):
                    block.timeout = int(t.group(1))
                prelude = []
                for number, command in logical_lines(lines[i + 1:end], i + 2):
                    if ASSIGN.match(command.strip()):
                        prelude.append(re.sub(r"\s*#.*$", "", command.strip()))
                        continue
                    ex = Example(doc, number, command, list(prelude), block)
                    first = command.strip()
                    if block.skip:
                        ex.skip = block.skip
                    elif re.match(r"(make|pip|pip3)\s", first):
                        ex.skip = "a make or pip command (builds, installs, or runs for minutes to hours)"
                    elif PLACEHOLDER.search(re.sub(r"\s#.*$", "", command, flags=re.M)):
                        ex.skip = "holds a placeholder (… or <…>)"
                    for d, needle, reason in ALLOW_SKIP:
                        if d == doc and needle in command and not ex.skip:
                            ex.skip = reason
                    block.examples.append(ex)
                blocks.append(block)
            i = end + 1
    return blocks


def prepare(root, shared, model):
    (root / "shared").symlink_to(shared)


def block_dir(root, block, shared, model):
    d = root / "w" / f"{block.doc.replace('/', '_')}-{block.line}"
    d.mkdir(parents=True)
    (d / "models").mkdir()
    (d / "models" / "all-MiniLM-L6-v2").symlink_to(model)
    (d / "scripts").symlink_to(REPO / "scripts")
    (d / "python").symlink_to(REPO / "python")
    # ../shared from the block folder: root/w/shared.
    if not (root / "w" / "shared").exists():
        (root / "w" / "shared").symlink_to(shared)
    return d


def run(command, cwd, env, timeout):
    t0 = time.monotonic()
    try:
        p = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", command], cwd=cwd, env=env, timeout=timeout,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           errors="replace")
        return p.returncode, time.monotonic() - t0, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return None, time.monotonic() - t0, out, err


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prefix", required=False, help="the install PREFIX (its bin/ goes first on PATH)")
    ap.add_argument("--shared", default=str(REPO.parent / "shared"))
    ap.add_argument("--model", default=str(REPO / "models" / "all-MiniLM-L6-v2"))
    ap.add_argument("-k", dest="select", help="run only examples whose doc, line or command contains this")
    ap.add_argument("--list", action="store_true", help="list the examples and what would be skipped; run nothing")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    ap.add_argument("--skip-if-missing", action="store_true",
                    help="exit 0, saying why, when the shared data or the model is absent (make test)")
    args = ap.parse_args()

    blocks = parse()
    examples = [e for b in blocks for e in b.examples]
    if args.select:
        examples = [e for e in examples if args.select in f"{e.doc}:{e.line} {e.command}"]
    if args.list:
        for e in examples:
            print(f"{'SKIP' if e.skip else 'RUN '} {e.doc}:{e.line}: {e.command.splitlines()[0]}"
                  + (f"  [{e.skip}]" if e.skip else ""))
        return 0
    if not args.prefix or not (Path(args.prefix) / "bin" / "spiqa-hist").exists():
        sys.exit(f"check_doc_examples: no installed tools in {args.prefix}/bin (make install PREFIX=...)")
    shared, model = Path(args.shared).resolve(), Path(args.model).resolve()
    if not (shared / "data").is_dir() or not (model / "config.json").exists():
        message = f"check_doc_examples: need the shared data ({shared}/data) and the model ({model})"
        if args.skip_if_missing:
            print(message + "; skipped")
            return 0
        sys.exit(message)

    root = Path(tempfile.mkdtemp(prefix="spiqa-doc-examples."))
    env = dict(os.environ, PATH=f"{Path(args.prefix).resolve()}/bin:{os.environ.get('PATH', '')}",
               SPIQA_SHARED=str(shared), HF_HUB_OFFLINE="1")
    env.pop("SPIQA_MODEL", None)
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    t_all = time.monotonic()
    dirs = {}
    try:
        for e in examples:
            where = f"{e.doc}:{e.line}"
            first = e.command.splitlines()[0]
            if e.skip:
                counts["SKIP"] += 1
                print(f"SKIP {where}: {first}\n       ({e.skip})", flush=True)
                continue
            b = e.block
            if id(b) not in dirs:
                dirs[id(b)] = block_dir(root, b, shared, model)
                for s in b.setup:
                    rc, secs, out, err = run(s, dirs[id(b)], env, b.timeout)
                    if rc != 0:
                        print(f"FAIL {b.doc}:{b.line}: setup `{s}` (exit {rc})\n{err[-2000:]}", flush=True)
            script = "\n".join(e.prelude + [e.command])
            rc, secs, out, err = run(script, dirs[id(b)], env, b.timeout)
            ok = rc in (0, 141)
            counts["PASS" if ok else "FAIL"] += 1
            status = "PASS" if ok else ("FAIL (time limit %d s)" % b.timeout if rc is None else f"FAIL (exit {rc})")
            print(f"{status.split()[0]} {where}: {first}  [{secs:.1f} s]" + ("" if ok else f" {status}"), flush=True)
            if not ok:
                tail = (err or out)[-2000:].rstrip()
                print("       " + tail.replace("\n", "\n       "), flush=True)
    finally:
        if args.keep:
            print(f"check_doc_examples: scratch folder kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    n_run = counts["PASS"] + counts["FAIL"]
    print(f"check_doc_examples: {len(examples)} examples, {n_run} run, {counts['SKIP']} skipped, "
          f"{counts['PASS']} passed, {counts['FAIL']} failed ({time.monotonic() - t_all:.0f} s)")
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
