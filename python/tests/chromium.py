"""Headless Chromium for the viewer tests: run it on a page, read back the DOM and the console, leave nothing
running.

The page's own self-test (``#selftest``, python/src/spiqa/viewer/viewer.js) clicks a thumbnail, a token and the
record and compare selectors through dispatchEvent and writes what it saw into ``<pre id="selftest">`` (JSON)
and the title. ``--dump-dom`` returns the DOM after the page has run; ``--enable-logging=stderr`` prints every
console message (and uncaught exception) as an ``INFO:CONSOLE`` line, which the page never does when healthy.
Network access is blocked (a dead proxy, no host resolution), so a page that tried to load anything would log
an error.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
         "--disable-extensions", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--mute-audio", "--hide-scrollbars", "--proxy-server=127.0.0.1:9",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000"]


def find():
    env = os.environ.get("SPIQA_CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    for name in CANDIDATES:
        p = shutil.which(name)
        if p:
            return p
    return None


def _group_alive(pgid):
    """Processes of the group that are not zombies (zombies are already dead, waiting to be reaped)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


def run(exe, args, timeout=120):
    """Runs Chromium in its own process group; returns (stdout, stderr). Every process of the group is killed
    afterwards and the function checks that none is left."""
    profile = tempfile.mkdtemp(prefix="spiqa-chromium-")
    cmd = [exe] + FLAGS + [f"--user-data-dir={profile}"] + list(args)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise AssertionError(f"chromium did not finish within {timeout} s: {' '.join(args)}")
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        deadline = time.time() + 10
        while _group_alive(p.pid) and time.time() < deadline:
            time.sleep(0.1)
        left = _group_alive(p.pid)
        shutil.rmtree(profile, ignore_errors=True)
    assert not left, f"chromium processes left running: {left}"
    return out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def console_lines(stderr):
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def selftest(exe, page):
    """Loads ``page#selftest``; returns (result dict or None, title, console lines)."""
    url = Path(page).resolve().as_uri() + "#selftest"
    dom, err = run(exe, ["--dump-dom", url])
    m = re.search(r'<pre id="selftest"[^>]*>(.*?)</pre>', dom, re.S)
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    result = None
    if m and m.group(1).strip():
        import html
        result = json.loads(html.unescape(m.group(1)))
    return result, (title.group(1) if title else ""), console_lines(err)


def assert_healthy(exe, page):
    """The page passed its self-test with no console message; returns the self-test result."""
    result, title, console = selftest(exe, page)
    assert result is not None, f"no self-test result in the DOM (title {title!r}); console: {console}"
    failed = [c for c in result["checks"] if not c["ok"]]
    assert result["ok"] and not failed and not result["errors"], f"self-test failed: {failed} {result['errors']}"
    assert title.startswith("SELFTEST PASS"), title
    assert not console, f"console messages: {console}"
    return result


def screenshot(exe, page, png, size=(1400, 1000), hash_="#selftest"):
    url = Path(page).resolve().as_uri() + hash_
    run(exe, [f"--window-size={size[0]},{size[1]}", f"--screenshot={png}", url])
    assert Path(png).is_file(), "no screenshot written"
    return png
