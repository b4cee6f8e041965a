#!/usr/bin/env python3
"""A tiny fake Hugging Face Hub for the loopback tests of Sources/SpiqaHub (127.0.0.1 only).

Usage: fake_hub.py ROOT      prints the chosen port on stdout, then serves until stdin closes (or 10 minutes).

ROOT/<org>/<name>/ holds a repo's files; ROOT/<org>/<name>/.commit its commit hash (40 hex). Behaviour:
  HEAD/GET /<org>/<name>/resolve/<rev>/<file>
      rev must be "main" or the commit, else 404 RevisionNotFound; a missing repo → 404 RepositoryNotFound;
      a missing file → 404 EntryNotFound (with X-Repo-Commit, as the Hub does);
      *.bin / *.safetensors are "LFS": 302 to http://127.0.0.1:<cdn port>/cdn/<sha256> — a second listener, so
      another origin like the Hub's CDN — with X-Linked-Etag: "<sha256>", X-Linked-Size; other files: 200 with
      ETag "<git blob sha1>";
  /old-<org>/<name>/resolve/...   → 307 with a relative Location /<org>/<name>/resolve/... (a renamed repo);
  /moved-<org>/<name>/resolve/... → 307 with an absolute Location on the same origin;
  GET /cdn/<sha256>               the blob, with Range support (206 + Content-Range);
  ROOT/.faults.json (read at every request; keys combine):
      {"drop_after": N}      a /cdn GET sends the full Content-Length but closes after N body bytes;
      {"ignore_range": true} /cdn answers 200 with the whole file even to a Range request;
      {"drip_every": S}      /cdn sends the headers, then one body byte every S seconds;
      {"cut_no_length": N}   /cdn sends no Content-Length, N body bytes, and closes (looks complete);
      {"no_size": true}      the LFS redirect carries no X-Linked-Size (the size is unknown before the GET);
      {"size_delta": D}      the LFS redirect announces X-Linked-Size D bytes off the real size;
      {"wrong_sha": true}    the LFS redirect announces the sha256 of other bytes (the CDN still serves the file);
      {"slow_start": S, "slow_where": "cdn"|"resolve"|"all"}   wait S seconds before answering (default all);
  GET /__log                      JSON list of the requests so far: method, path, range, authorization.
"""
import hashlib
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = sys.argv[1]
LOG = []
LOCK = threading.Lock()
BLOBS = {}  # sha256 -> path
CDN_PORT = 0  # the second listener's port


def load_faults():
    try:
        with open(os.path.join(ROOT, ".faults.json")) as f:
            return json.load(f)
    except OSError:
        return {}


def git_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, headers, body=b"", head=False):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and body:
            self.wfile.write(body)

    def do_HEAD(self):
        self.handle_any(head=True)

    def do_GET(self):
        self.handle_any(head=False)

    def handle_any(self, head):
        with LOCK:
            LOG.append({"method": self.command, "path": self.path, "range": self.headers.get("Range"),
                        "authorization": self.headers.get("Authorization")})
        parts = self.path.split("?")[0].split("/")
        if self.path == "/__log":
            with LOCK:
                return self.send(200, {"Content-Type": "application/json"}, json.dumps(LOG).encode(), head)
        faults = load_faults()
        is_cdn = len(parts) == 3 and parts[1] == "cdn"
        if faults.get("slow_start") and faults.get("slow_where", "all") in ("all", "cdn" if is_cdn else "resolve"):
            time.sleep(faults["slow_start"])
        if is_cdn:
            return self.cdn(parts[2], head, faults)
        # /org/name/resolve/rev/file
        if len(parts) < 6 or parts[3] != "resolve":
            return self.send(404, {"X-Error-Code": "RepositoryNotFound"}, b"not found", head)
        org, name, rev, file = parts[1], parts[2], parts[4], "/".join(parts[5:])
        if org.startswith("old-"):
            location = "/" + "/".join([org[4:], name] + parts[3:])
            return self.send(307, {"Location": location}, b"", head)
        if org.startswith("moved-"):
            host, port = self.server.server_address[:2]
            location = f"http://{host}:{port}/" + "/".join([org[6:], name] + parts[3:])
            return self.send(307, {"Location": location}, b"", head)
        repo = os.path.join(ROOT, org, name)
        if not os.path.isdir(repo):
            return self.send(404, {"X-Error-Code": "RepositoryNotFound"}, b"Repository not found", head)
        with open(os.path.join(repo, ".commit")) as f:
            commit = f.read().strip()
        if rev not in ("main", commit):
            return self.send(404, {"X-Error-Code": "RevisionNotFound"}, b"Revision not found", head)
        path = os.path.join(repo, file)
        if not os.path.isfile(path) or file.startswith("."):
            return self.send(404, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": commit},
                             b"Entry not found", head)
        with open(path, "rb") as f:
            data = f.read()
        if file.endswith((".bin", ".safetensors")):
            sha = hashlib.sha256(data).hexdigest()
            with LOCK:
                BLOBS[sha] = path
            faults = load_faults()
            announced = hashlib.sha256(data + b"other").hexdigest() if faults.get("wrong_sha") else sha
            headers = {"Location": f"http://127.0.0.1:{CDN_PORT}/cdn/{sha}", "X-Repo-Commit": commit,
                       "X-Linked-Etag": f'"{announced}"', "ETag": '"not-the-blob-name"'}
            if not faults.get("no_size"):
                headers["X-Linked-Size"] = str(len(data) + faults.get("size_delta", 0))
            return self.send(302, headers, b"", head)
        return self.send(200, {"X-Repo-Commit": commit, "ETag": f'"{git_sha1(data)}"'}, data, head)

    def cdn(self, sha, head, faults):
        with LOCK:
            path = BLOBS.get(sha)
        if path is None:
            return self.send(404, {}, b"no such blob", head)
        with open(path, "rb") as f:
            data = f.read()
        start, status, headers = 0, 200, {}
        rng = None if faults.get("ignore_range") else self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                return self.send(416, {"Content-Range": f"bytes */{len(data)}"}, b"", head)
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        body = data[start:]
        if not head and (faults.get("drip_every") is not None or faults.get("cut_no_length") is not None):
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            cut = faults.get("cut_no_length")
            if cut is None:
                self.send_header("Content-Length", str(len(body)))
            else:
                self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                if cut is not None:
                    self.wfile.write(body[:cut])
                else:
                    for i in range(len(body)):
                        self.wfile.write(body[i:i + 1])
                        self.wfile.flush()
                        time.sleep(faults["drip_every"])
            except OSError:
                pass  # the client gave up
            return
        drop = faults.get("drop_after")
        if drop is not None and not head:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:drop])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        headers["Content-Length"] = str(len(body))
        return self.send(status, headers, body, head)


def exit_when_parent_goes():
    """The test holds our stdin open; EOF means it finished (or died): exit without waiting for anything."""
    sys.stdin.buffer.read()
    os._exit(0)


def main():
    # The spawning test process may have signals blocked (inherited mask); make SIGTERM work again.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, signal.valid_signals())
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=exit_when_parent_goes, daemon=True).start()
    global CDN_PORT
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    cdn = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    cdn.daemon_threads = True
    CDN_PORT = cdn.server_address[1]
    threading.Thread(target=cdn.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    timer = threading.Timer(600, server.shutdown)
    timer.daemon = True
    timer.start()
    server.serve_forever()


if __name__ == "__main__":
    main()
