"""Helpers of the Superset e2e tests: the REST API and a headless Chromium driven through the
DevTools protocol (websocket-client), always stopped."""
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import conftest

import websocket  # websocket-client, in the test venv (scripts/test-venv.sh)

from conftest import SOURCE

DATA = Path(__file__).resolve().parent / "data" / "superset"
ADMIN_USER = "admin"
ADMIN_PASSWORD = "sup3rset-Adm1n-pw"

# The project entry of the superset utility.  It spells out the definition the built-in catalog
# is to get (variant smelt; see plugins/superset/README.md); once the catalog has it, this
# becomes "  - name: superset\n    variant: smelt".
SUPERSET_PLUGIN = """\
  - name: superset
    namespace: superset
    pip_url: apache-superset[postgres,duckdb]==5.0.0 --constraint $SMELT_ADAPTERS_DIR/superset/constraints.txt
    executable: superset
    settings:
    - {name: secret_key, kind: password, sensitive: true}
    - {name: sqlalchemy_database_uri, kind: string}
    - {name: admin.username, kind: string, value: admin}
    - {name: admin.password, kind: password, sensitive: true}
    - {name: admin.email, kind: string, value: admin@localhost}
    - {name: admin.first_name, kind: string, value: Superset}
    - {name: admin.last_name, kind: string, value: Admin}
    - {name: ui.host, kind: string, value: 127.0.0.1}
    - {name: ui.port, kind: integer, value: 8088}
    - {name: ui.workers, kind: integer, value: 2}
    - {name: ui.timeout, kind: integer, value: 120}
    - {name: databases, kind: array}
    - {name: config, kind: object}"""


def build_dir():
    return Path(os.environ.get("SMELT_BUILD") or SOURCE / "build").resolve()


def tool_env(extra=None):
    """conftest.tool_env()."""
    return conftest.tool_env(extra)


def artifacts_dir():
    """$SMELT_BUILD/artifacts: files a test keeps for people to look at (screenshots)."""
    path = build_dir() / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def install(smelt, *names):
    """smelt install (real PyPI packages); a failure fails the test loudly."""
    proc = smelt("install", *names, env=tool_env(), timeout=1800)
    assert proc.returncode == 0, f"smelt install failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def http_get(url, headers=None, timeout=10):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status, resp.read().decode()


def wait_health(base, proc=None, deadline_s=300):
    """Poll GET /health until it answers 200 OK; fail early when the server process died."""
    end = time.time() + deadline_s
    last = None
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the Superset server exited with {proc.returncode} before answering /health")
        try:
            status, body = http_get(base + "/health", timeout=5)
            if status == 200:
                return body
            last = f"HTTP {status}"
        except (OSError, urllib.error.URLError) as ex:
            last = str(ex)
        time.sleep(1)
    raise TimeoutError(f"{base}/health did not answer within {deadline_s}s ({last})")


class SupersetApi:
    """Superset's REST API as the admin user (bearer token from /api/v1/security/login)."""

    def __init__(self, base, username, password):
        self.base = base
        body = json.dumps({"username": username, "password": password, "provider": "db", "refresh": True}).encode()
        req = urllib.request.Request(base + "/api/v1/security/login", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            self.token = json.load(resp)["access_token"]

    def get(self, path):
        status, body = http_get(self.base + path, {"Authorization": f"Bearer {self.token}"}, timeout=30)
        assert status == 200, (path, status, body)
        return json.loads(body)

    def list_all(self, path, page_size=100):
        """Every row of a list endpoint (/api/v1/database/, /api/v1/dataset/)."""
        rows, page = [], 0
        while True:
            q = f"(page:{page},page_size:{page_size})"
            data = self.get(f"{path}?q={urllib.request.quote(q)}")
            rows += data["result"]
            if len(rows) >= data["count"] or not data["result"]:
                return rows
            page += 1


def stop_group(proc, grace_s=20):
    """SIGTERM the process group of proc (started with start_new_session=True), then SIGKILL."""
    if proc is None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def chromium_path():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError("Chromium is not installed: run scripts/deps.sh test (Debian package 'chromium')")


class Browser:
    """A headless Chromium in its own process group with a fresh profile, driven over CDP."""

    FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", "--window-size=1400,1000", "--remote-debugging-port=0"]

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="smelt-chromium-")
        self.log = open(Path(self.profile).parent / (Path(self.profile).name + ".log"), "w+")
        self.proc = subprocess.Popen([chromium_path(), *self.FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.ws = None
        self.seq = 0
        try:
            self._connect()
        except BaseException:
            self.close()
            raise

    def _connect(self, deadline_s=60):
        active = Path(self.profile) / "DevToolsActivePort"
        end = time.time() + deadline_s
        while not (active.exists() and len(active.read_text().split()) >= 2):
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"chromium exited with {self.proc.returncode}: {self.log.read()[-2000:]}")
            if time.time() > end:
                raise TimeoutError("chromium did not open its DevTools port")
            time.sleep(0.2)
        port = int(active.read_text().split()[0])
        while True:
            _, body = http_get(f"http://127.0.0.1:{port}/json/list")
            pages = [t for t in json.loads(body) if t.get("type") == "page"]
            if pages:
                break
            if time.time() > end:
                raise TimeoutError("chromium has no page target")
            time.sleep(0.2)
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.call("Page.enable")
        self.call("Runtime.enable")

    def call(self, method, **params):
        """One CDP command; returns its result (events arriving meanwhile are dropped)."""
        self.seq += 1
        my_id = self.seq
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def evaluate(self, expression):
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expression}: {res['exceptionDetails']}")
        return res.get("result", {}).get("value")

    def navigate(self, url):
        """Go to url. When that loads a new document, return once the new one is there, so a
        wait_for that follows cannot be satisfied by the page being left (CDP omits loaderId
        for a same-document navigation such as a change of the hash only)."""
        self._mark_stale()
        res = self.call("Page.navigate", url=url)
        if res.get("errorText"):
            raise RuntimeError(f"navigate {url}: {res['errorText']}")
        if res.get("loaderId"):
            self._wait_new_document(url)

    def reload(self):
        """Load the page again, as F5 does; returns once the new document is there."""
        self._mark_stale()
        self.call("Page.reload")
        self._wait_new_document("the reload")

    def _mark_stale(self):
        try:
            self.evaluate("window.__smeltStale = true")
        except RuntimeError:  # no document to mark yet
            pass

    def _wait_new_document(self, what):
        self.wait_for("!window.__smeltStale && document.readyState !== 'loading'", what=f"a new document for {what}")

    def wait_for(self, expression, deadline_s=90, what=None):
        """Poll a JS expression until it is truthy; returns its value."""
        end = time.time() + deadline_s
        last = None
        while time.time() < end:
            try:
                last = self.evaluate(expression)
                if last:
                    return last
            except RuntimeError as ex:  # the page is navigating: its context went away
                last = str(ex)
            time.sleep(0.5)
        text = self.text()
        raise TimeoutError(f"timed out waiting for {what or expression} (last: {last!r}); page:\n{text[:3000]}")

    def url(self):
        return self.evaluate("location.href")

    def text(self):
        try:
            return self.evaluate("document.body ? document.body.innerText : ''") or ""
        except RuntimeError:
            return ""

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(base64.b64decode(data))
        return path

    def close(self):
        try:
            if self.ws is not None:
                self.ws.close()
        finally:
            stop_group(self.proc, grace_s=5)
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def login_in_browser(browser, base, username, password):
    """Fill and submit Superset's (Flask-AppBuilder's) login form; waits until the login page is left."""
    browser.navigate(base + "/login/")
    browser.wait_for("document.readyState === 'complete' && !!document.querySelector('input[name=password]')",
                     what="the login form")
    browser.evaluate(f"""(() => {{
        const f = document.querySelector('form[name=login]') || document.querySelector('input[name=password]').form;
        f.querySelector('input[name=username]').value = {json.dumps(username)};
        f.querySelector('input[name=password]').value = {json.dumps(password)};
        const b = f.querySelector('[type=submit]');
        if (b) b.click(); else f.submit();
        return true;
    }})()""")
    browser.wait_for("document.readyState === 'complete' && !location.pathname.startsWith('/login')",
                     what="leaving the login page")
