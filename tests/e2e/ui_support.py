"""Helpers of the web UI and API schema tests: a `smelt serve` on 127.0.0.1 with a known
token (always stopped, its stderr checked for sanitizer reports), authenticated JSON
requests, and a native tap-csv -> target-sqlite project with two streams."""
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from conftest import BUILD, SMELT, clean_env, free_port
from net_support import terminate, wait_answering

TOKEN = "ui-test-token-7f3c9b1e5a2d4c68"


def request(base, path, method="GET", body=None, token=TOKEN, timeout=30):
    """(status, parsed JSON or text) of one request; HTTP errors are returned, not raised."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw, ctype = resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as ex:
        status, raw, ctype = ex.code, ex.read(), ex.headers.get("Content-Type", "")
    text = raw.decode(errors="replace")
    return status, (json.loads(text) if "json" in ctype and text else text)


class Server:
    """`smelt serve --listen 127.0.0.1:<free port>` in a project, token given by env."""

    def __init__(self, root, extra_env=None):
        self.root = Path(root)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.err = open(self.root / "serve.stderr", "w+")
        env = clean_env({"SMELT_SERVE_TOKEN": TOKEN, **(extra_env or {})})
        self.proc = subprocess.Popen([SMELT, "serve", "--listen", f"127.0.0.1:{self.port}"], cwd=self.root, env=env,
                                     stdout=subprocess.DEVNULL, stderr=self.err, start_new_session=True)
        try:
            self._wait()
        except BaseException:
            self.stop()
            raise

    def _wait(self, deadline_s=60):
        wait_answering(self.proc, lambda: request(self.base, "/health", token=None, timeout=2)[0] == 200,
                       deadline_s, lambda: self.stderr()[-3000:])

    def get(self, path):
        status, body = request(self.base, path)
        assert status == 200, f"GET {path}: {status} {body}"
        return body

    def stderr(self):
        self.err.flush()
        return (self.root / "serve.stderr").read_text(errors="replace")

    def wait_run(self, run_id, deadline_s=120):
        """The run's record once it is no longer running."""
        end = time.time() + deadline_s
        while time.time() < end:
            run = self.get(f"/api/v1/runs/{run_id}")
            if run["status"] not in ("running", "queued"):
                return run
            time.sleep(0.3)
        raise TimeoutError(f"run {run_id} still running after {deadline_s}s")

    def stop(self):
        """SIGTERM the server, wait, then clean its process group; the exit must be sanitizer-clean."""
        terminate(self.proc, 30)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)
        text = self.stderr()
        self.err.close()
        for bad in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            assert bad not in text, f"smelt serve reported {bad!r}:\n{text[-6000:]}"


def csv_project(project, orders=137, customers=5):
    """Native tap-csv -> target-sqlite with two streams (orders, customers) of known sizes."""
    data = project.root / "data"
    data.mkdir(exist_ok=True)
    with open(data / "orders.csv", "w") as f:
        f.write("id,customer_id,amount\n")
        for i in range(1, orders + 1):
            f.write(f"{i},{i % customers + 1},{i * 1.5}\n")
    with open(data / "customers.csv", "w") as f:
        f.write("id,name\n")
        for i in range(1, customers + 1):
            f.write(f"{i},Customer {i}\n")
    project.write("""\
default_environment: dev
environments: [{name: dev}]
plugins:
  extractors:
  - name: tap-csv
    variant: smelt
    config:
      files:
      - {entity: orders, path: data/orders.csv, keys: [id], replication_key: id}
      - {entity: customers, path: data/customers.csv, keys: [id]}
  loaders:
  - name: target-sqlite
    variant: smelt
    config: {database: output/wh.db}
jobs:
- name: load-all
  tasks:
  - tap-csv target-sqlite
""")


def artifacts_dir(name):
    """Where a test keeps its screenshots: <build>/test-artifacts/<name>/ (kept after the run)."""
    d = BUILD / "test-artifacts" / name
    d.mkdir(parents=True, exist_ok=True)
    return d
