#!/usr/bin/env python3
"""A loopback MeltanoHub API serving tests/fixtures/hub/ for the tests.

Serves, like the real Hub (MELTANO.md section 10):
  /meltano/api/v1/plugins/index                     all eight type indexes
  /meltano/api/v1/plugins/<type>/index              {name: {default_variant, variants: {v: {ref}}, logo_url}}
  /meltano/api/v1/plugins/<type>/<name>--<variant>  the definition as JSON

The definitions are tests/fixtures/hub/definitions/<type>/<name>/<variant>.yml
converted to JSON: only the keys the API schema of the type allows
(tests/fixtures/hub/schema/api/<type>.schema.json), in the YAML file's order,
`logo_url` made absolute and `docs` set to <origin>/<type>/<name>--<variant>.

Test hooks (HTTP, for tests in any language; Python tests may also call
the HubServer methods directly):
  /_test/reset                                   clear every hook and counter
  /_test/requests                                {path: count} of requests so far
  /_test/fail?path=P&count=N&code=C              the next N requests of path P answer C
  /_test/default?type=T&name=N&variant=V         change a plugin's default variant
  /_test/redirect?on=1                           refs point at /redirect/..., which answers
                                                 301 to the second listener (another port)

Usage:
  hubserver.py [--port 0] [--print-port] [--root DIR]     serve until killed
  hubserver.py --dump TYPE/NAME/VARIANT [--origin URL]    print one served definition
"""
import argparse
import json
import os
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

API = "/meltano/api/v1"
TYPES = ["extractors", "loaders", "transforms", "orchestrators", "transformers", "files",
         "utilities", "mappers"]


def default_root():
    """The Hub fixtures kept in the repository (tests/fixtures/hub, see its SOURCE.md)."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "fixtures", "hub"))


class Catalog:
    """The Hub data on disk: indexes and served definitions."""

    def __init__(self, root):
        self.root = root
        self.defs = os.path.join(root, "definitions")
        with open(os.path.join(root, "default_variants.yml"), encoding="utf-8") as f:
            self.default_variants = yaml.safe_load(f) or {}
        self.allowed = {}
        for t in TYPES:
            path = os.path.join(root, "schema", "api", t + ".schema.json")
            with open(path, encoding="utf-8") as f:
                schema = json.load(f)
            keys = set()
            for part in schema.get("allOf", []):
                keys.update(part.get("properties", {}).keys())
            self.allowed[t] = keys
        self._logo_cache = {}

    def variants(self, ptype, name):
        d = os.path.join(self.defs, ptype, name)
        if not os.path.isdir(d):
            return []
        return sorted(f[:-4] for f in os.listdir(d) if f.endswith(".yml"))

    def names(self, ptype):
        d = os.path.join(self.defs, ptype)
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def _logo(self, ptype, name, variant):
        key = (ptype, name, variant)
        if key not in self._logo_cache:
            logo = None
            path = os.path.join(self.defs, ptype, name, variant + ".yml")
            with open(path, encoding="utf-8") as f:
                for line in f:
                    m = re.match(r"^logo_url:\s*(\S+)\s*$", line)
                    if m:
                        logo = m.group(1).strip("'\"")
                        break
            self._logo_cache[key] = logo
        return self._logo_cache[key]

    def index(self, ptype, base, origin, overrides, ref_base=None):
        out = {}
        for name in self.names(ptype):
            variants = self.variants(ptype, name)
            if not variants:
                continue
            default = overrides.get((ptype, name)) or \
                (self.default_variants.get(ptype) or {}).get(name) or variants[0]
            logo = self._logo(ptype, name, default if default in variants else variants[0])
            out[name] = {
                "logo_url": absolute(origin, logo),
                "default_variant": default,
                "variants": {v: {"ref": f"{ref_base or base}/plugins/{ptype}/{name}--{v}"}
                             for v in variants},
            }
        return out

    def definition(self, ptype, name, variant, origin):
        path = os.path.join(self.defs, ptype, name, variant + ".yml")
        if not os.path.isfile(path):
            return None
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
        allowed = self.allowed.get(ptype, set())
        out = {}
        for k, v in data.items():
            if k not in allowed:
                continue
            if k == "logo_url":
                v = absolute(origin, v)
            out[k] = v
        # The Hub always serves its own page as docs (the lock writer orders keys).
        out["docs"] = f"{origin}/{ptype}/{name}--{variant}"
        return out


def absolute(origin, url):
    if isinstance(url, str) and url.startswith("/"):
        return origin + url
    return url


class HubServer:
    """Two listeners on 127.0.0.1: the Hub itself and a second one that redirects land on."""

    def __init__(self, root=None, port=0):
        self.catalog = Catalog(root or default_root())
        self.lock = threading.Lock()
        self.counts = {}
        self.fail = {}          # path -> [count, code]
        self.overrides = {}     # (type, name) -> default variant
        self.redirect = False
        self.main = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.alt = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.main.daemon_threads = True
        self.alt.daemon_threads = True
        self.threads = []

    @property
    def port(self):
        return self.main.server_address[1]

    @property
    def alt_port(self):
        return self.alt.server_address[1]

    @property
    def origin(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_root(self):
        return self.origin + API

    def start(self):
        for srv in (self.main, self.alt):
            t = threading.Thread(target=srv.serve_forever, daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def stop(self):
        for srv in (self.main, self.alt):
            srv.shutdown()
            srv.server_close()
        for t in self.threads:
            t.join(5)

    def reset(self):
        with self.lock:
            self.counts.clear()
            self.fail.clear()
            self.overrides.clear()
            self.redirect = False

    def set_default(self, ptype, name, variant):
        with self.lock:
            self.overrides[(ptype, name)] = variant

    def fail_next(self, path, count, code=503):
        with self.lock:
            self.fail[path] = [count, code]

    def requests(self, prefix=""):
        with self.lock:
            return sum(n for p, n in self.counts.items() if p.startswith(prefix))

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                if os.environ.get("HUBSERVER_VERBOSE"):
                    sys.stderr.write("hubserver: " + fmt % args + "\n")

            def send(self, code, body=None, headers=None):
                data = b"" if body is None else json.dumps(body, indent=2, default=str).encode()
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                url = urllib.parse.urlsplit(self.path)
                path, query = url.path, dict(urllib.parse.parse_qsl(url.query))
                if path.startswith("/_test/"):
                    return self.control(path[len("/_test/"):], query)
                with server.lock:
                    server.counts[path] = server.counts.get(path, 0) + 1
                    f = server.fail.get(path)
                    if f and f[0] > 0:
                        f[0] -= 1
                        code = f[1]
                    else:
                        code = 0
                    redirect = server.redirect
                    overrides = dict(server.overrides)
                if code:
                    return self.send(code, {"error": "injected failure"})
                if not path.startswith(API + "/"):
                    return self.send(404, {"error": "not found"})
                rest = path[len(API) + 1:]
                origin = f"http://127.0.0.1:{server.port}"
                base = origin + API
                if rest.startswith("redirect/"):
                    target = f"http://127.0.0.1:{server.alt_port}{API}/{rest[len('redirect/'):]}"
                    return self.send(301, {"moved": target}, {"Location": target})
                ref_base = base + "/redirect" if redirect else None
                parts = rest.split("/")
                if parts == ["plugins", "index"]:
                    return self.send(200, {t: server.catalog.index(t, base, origin, overrides, ref_base)
                                           for t in TYPES})
                if len(parts) == 3 and parts[0] == "plugins" and parts[2] == "index":
                    if parts[1] not in TYPES:
                        return self.send(404, {"error": "unknown type"})
                    return self.send(200, server.catalog.index(parts[1], base, origin, overrides, ref_base))
                if len(parts) == 3 and parts[0] == "plugins" and "--" in parts[2]:
                    name, _, variant = parts[2].rpartition("--")
                    d = server.catalog.definition(parts[1], name, variant, origin) \
                        if parts[1] in TYPES else None
                    if d is None:
                        return self.send(404, {"error": "not found"})
                    return self.send(200, d)
                return self.send(404, {"error": "not found"})

            def control(self, what, q):
                if what == "reset":
                    server.reset()
                elif what == "requests":
                    with server.lock:
                        return self.send(200, dict(server.counts))
                elif what == "fail":
                    server.fail_next(q["path"], int(q.get("count", 1)), int(q.get("code", 503)))
                elif what == "default":
                    server.set_default(q["type"], q["name"], q["variant"])
                elif what == "redirect":
                    with server.lock:
                        server.redirect = q.get("on", "1") == "1"
                else:
                    return self.send(404, {"error": "unknown hook"})
                return self.send(200, {"ok": True})

        return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--print-port", action="store_true", help="print the port on stdout once listening")
    ap.add_argument("--root", default=None, help="the Hub data folder (default: tests/fixtures/hub)")
    ap.add_argument("--dump", metavar="TYPE/NAME/VARIANT", help="print one served definition and exit")
    ap.add_argument("--origin", default="https://hub.meltano.com", help="origin used by --dump")
    args = ap.parse_args()
    if args.dump:
        ptype, name, variant = args.dump.split("/")
        d = Catalog(args.root or default_root()).definition(ptype, name, variant, args.origin)
        if d is None:
            print(f"no definition {args.dump}", file=sys.stderr)
            return 1
        json.dump(d, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return 0
    srv = HubServer(args.root, args.port).start()
    if args.print_port:
        try:
            sys.stdout.write(f"{srv.port}\n")
            sys.stdout.flush()
        except BrokenPipeError:
            pass
        # Whoever read the port may close the pipe: nothing else goes there.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
