"""smelt serve over real HTTP on 127.0.0.1 (issue 17): every endpoint of api/openapi.json, the bearer
token, runs started over the API (rows in SQLite, the live log stream, cancel), and the security rules
(no secret in any response, traversal refused, bodies capped, loopback unless TLS or --insecure)."""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from conftest import FAKES, SMELT, SOURCE, clean_env, free_port, processes_matching
from net_support import terminate, wait_answering

TOKEN = "test-token-" + "x" * 24
OPENAPI = json.loads((SOURCE / "api/openapi.json").read_text())
EXCHANGES = []  # (method, path, status, content type, body) of every request of a test


def check_against_openapi(exchanges):
    """Each answer of a documented operation has a documented status, and its JSON body matches
    the documented schema (the repository's api/openapi.json: the contract)."""
    checked = 0
    for method, path, status, ctype, text in exchanges:
        path = path.split("?")[0]
        for template, item in OPENAPI["paths"].items():
            if re.fullmatch(re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)), path):
                break
        else:
            continue
        op = item.get(method.lower())
        if op is None:
            continue
        assert str(status) in op["responses"], f"{method} {path}: {status} is not documented"
        resp = op["responses"][str(status)]
        if "$ref" in resp:
            resp = OPENAPI["components"]["responses"][resp["$ref"].rsplit("/", 1)[1]]
        media = ctype.split(";")[0].strip() if ctype else None
        if "content" not in resp:
            assert not text, f"{method} {path}: {status} has a body"
            continue
        assert media in resp["content"], f"{method} {path}: {status} answered {ctype}"
        if media != "application/json":
            continue
        schema = dict(OPENAPI)
        schema["$ref"] = "#" + "/".join(["", "paths", template.replace("~", "~0").replace("/", "~1"),
                                         method.lower(), "responses", str(status), "content",
                                         "application~1json", "schema"])
        if "$ref" in op["responses"][str(status)]:
            schema["$ref"] = "#/components/schemas/Error"
        errors = [f"{'/'.join(map(str, e.path))}: {e.message}"
                  for e in Draft202012Validator(schema).iter_errors(json.loads(text))]
        assert not errors, f"{method} {path}: {status}: {errors}"
        checked += 1
    return checked
SENTINEL = "s3ntinel-" + uuid.uuid4().hex


class Server:
    """A smelt serve process on a free port of 127.0.0.1; stop() always runs (fixture finalizer)."""

    def __init__(self, root, *args, env=None, token=TOKEN, smelt=SMELT):
        self.root = root
        self.port = free_port()
        extra = {"SMELT_SERVE_TOKEN": token} if token else {}
        extra.update(env or {})
        self.token = token
        self.proc = subprocess.Popen([smelt, "serve", "--listen", f"127.0.0.1:{self.port}", *args], cwd=root,
                                     env=clean_env(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, start_new_session=True)
        wait_answering(self.proc, lambda: self.request("GET", "/health", token=None)[0] == 200, 30,
                       lambda: self.proc.communicate() if self.proc.poll() is not None else "no answer on /health",
                       poll_s=0.1)

    def request(self, method, path, body=None, token="default", headers=None, raw=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = dict(headers or {})
        token = self.token if token == "default" else token
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        text = resp.read().decode()
        conn.close()
        EXCHANGES.append((method, path, resp.status, resp.getheader("Content-Type"), text))
        return resp.status, text, dict(resp.getheaders())

    def json(self, method, path, body=None, want=200, **kw):
        status, text, _ = self.request(method, path, body, **kw)
        assert status == want, f"{method} {path}: {status} {text}"
        return json.loads(text) if text else None

    def stop(self):
        if not terminate(self.proc, 30):
            self.proc.kill()
            self.proc.wait()
        if not hasattr(self, "out"):
            self.out, self.err = self.proc.communicate()


@pytest.fixture
def serve(request):
    servers = []
    EXCHANGES.clear()

    def start(root, *args, **kw):
        s = Server(root, *args, **kw)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()
    for s in servers:  # a clean stop: exit 0, nothing from the sanitizers (the ASan build runs this too)
        assert s.proc.returncode == 0, s.err
        assert "Sanitizer" not in s.err and "runtime error" not in s.err, s.err
    check_against_openapi(EXCHANGES)


def csv_project(project):
    data = project.root / "data"
    data.mkdir(exist_ok=True)
    (data / "orders.csv").write_text("id,amount\n1,10.5\n2,20\n3,7\n")
    project.write(f"""\
default_environment: dev
environments: [{{name: dev}}, {{name: prod}}]
plugins:
  extractors:
  - name: tap-csv
    variant: smelt
    config:
      files:
      - {{entity: orders, path: data/orders.csv, keys: [id], replication_key: id}}
  - name: tap-fake
    namespace: tap_fake
    executable: {FAKES}/fake_tap.py
    capabilities: [state]
    settings:
    - {{name: records, kind: integer}}
    - {{name: state_every, kind: integer}}
    - {{name: mode}}
    - {{name: password, kind: password}}
    config: {{records: 400, state_every: 2, mode: slow}}
  loaders:
  - name: target-sqlite
    variant: smelt
    config: {{database: output/wh.db}}
  - name: target-fake
    namespace: target_fake
    executable: {FAKES}/fake_target.py
jobs:
- name: load
  tasks: [tap-csv target-sqlite]
schedules:
- name: daily
  job: load
  interval: '@daily'
""")
    (project.root / ".env").write_text(f"TAP_FAKE_PASSWORD={SENTINEL}\n")
    os.chmod(project.root / ".env", 0o600)


def wait_run(server, run_id, until=("success", "failed", "cancelled"), deadline_s=120):
    end = time.time() + deadline_s
    while time.time() < end:
        run = server.json("GET", f"/api/v1/runs/{run_id}")
        if run["status"] in until:
            return run
        time.sleep(0.2)
    raise TimeoutError(f"run {run_id} still {run['status']}")


def saved_state(project, state_id):
    proc = project.smelt("state", "get", state_id)
    # an unknown id prints {} (as Meltano's `state get` does)
    return json.loads(proc.stdout).get("singer_state") if proc.returncode == 0 else None


ENDPOINTS = [("GET", "/api/v1/openapi.json"), ("GET", "/api/v1/project"), ("GET", "/api/v1/plugins"),
             ("GET", "/api/v1/plugins/tap-csv"), ("PUT", "/api/v1/plugins/tap-csv/settings/on_bad_row"),
             ("GET", "/api/v1/jobs"), ("GET", "/api/v1/schedules"), ("GET", "/api/v1/runs"),
             ("POST", "/api/v1/runs"), ("GET", "/api/v1/runs/abc"), ("POST", "/api/v1/runs/abc/cancel"),
             ("GET", "/api/v1/runs/abc/log"), ("GET", "/api/v1/runs/abc/log/stream"), ("GET", "/api/v1/state"),
             ("GET", "/api/v1/state/dev:x"), ("PUT", "/api/v1/state/dev:x"), ("DELETE", "/api/v1/state/dev:x"),
             ("GET", "/api/v1/adapters"), ("POST", "/api/v1/adapters/singer/check"), ("GET", "/api/v1/nope")]


def test_the_token_test_asks_every_operation_of_the_document():
    """ENDPOINTS (the 401 test above) holds every operation of api/openapi.json but /health."""
    asked = set()
    for method, path in ENDPOINTS:
        for template in OPENAPI["paths"]:
            if re.fullmatch(re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)), path):
                asked.add((method, template))
    documented = {(m.upper(), t) for t, item in OPENAPI["paths"].items() for m in item
                  if m in ("get", "put", "post", "delete") and t != "/health"}
    assert documented - asked == set()


def test_token_required_everywhere_but_health(project, serve):
    csv_project(project)
    s = serve(project.root)
    assert s.json("GET", "/health", token=None)["status"] == "ok"
    for method, path in ENDPOINTS:
        for token in (None, "wrong-token-" + "y" * 24, TOKEN + "z", TOKEN[:-1]):
            status, text, headers = s.request(method, path, body={} if method in ("PUT", "POST") else None,
                                              token=token)
            assert status == 401, (method, path, token, status, text)
            assert "bearer token" in json.loads(text)["error"]
            assert headers.get("WWW-Authenticate") == "Bearer"
    # a Basic header with the token is not a bearer token
    status, _, _ = s.request("GET", "/api/v1/runs", token=None, headers={"Authorization": f"Basic {TOKEN}"})
    assert status == 401


def test_token_is_generated_0600_on_first_start(project, serve):
    csv_project(project)
    s = serve(project.root, token=None)
    path = project.root / ".smelt/serve.token"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    token = path.read_text().strip()
    assert len(token) == 64
    assert s.request("GET", "/api/v1/runs", token=token)[0] == 200
    assert s.request("GET", "/api/v1/runs", token=None)[0] == 401
    s.stop()
    out, err = s.out, s.err
    assert token not in out and token not in err and "serve.token" in err
    # the same token on the next start
    s2 = serve(project.root, token=None)
    assert s2.request("GET", "/api/v1/runs", token=token)[0] == 200


def test_project_plugins_jobs_schedules(project, serve):
    csv_project(project)
    s = serve(project.root)
    doc = s.json("GET", "/api/v1/openapi.json")
    assert doc["openapi"].startswith("3.1") and "/api/v1/runs/{run_id}/log/stream" in doc["paths"]
    proj = s.json("GET", "/api/v1/project")
    assert proj["default_environment"] == "dev" and proj["active_environment"] == "dev"
    assert [e["name"] for e in proj["environments"]] == ["dev", "prod"]
    assert proj["name"] == project.root.name
    plugins = s.json("GET", "/api/v1/plugins")["plugins"]
    assert [(p["name"], p["type"]) for p in plugins] == [("tap-csv", "extractors"), ("tap-fake", "extractors"),
                                                        ("target-sqlite", "loaders"), ("target-fake", "loaders")]
    fake = s.json("GET", "/api/v1/plugins/tap-fake")
    settings = {x["name"]: x for x in fake["settings"]}
    assert settings["password"]["sensitive"] is True and settings["password"]["value"] != SENTINEL
    assert settings["records"]["value"] == 400
    assert s.json("GET", "/api/v1/plugins/nope", want=404)["error"] == "no plugin named 'nope' in the project"
    # unsafe only when the server allows it
    assert "--allow-unsafe" in s.json("GET", "/api/v1/plugins/tap-fake?unsafe=true", want=403)["error"]
    # set a plain setting: smelt.yml; a secret: .env (the rules of smelt config set)
    s.json("PUT", "/api/v1/plugins/tap-fake/settings/records", {"value": 7})
    assert s.json("GET", "/api/v1/plugins/tap-fake")["settings"][0]["value"] == 7
    assert "records: 7" in (project.root / "smelt.yml").read_text()
    s.json("PUT", "/api/v1/plugins/tap-fake/settings/password", {"value": "new-" + SENTINEL})
    assert f"TAP_FAKE_PASSWORD='new-{SENTINEL}'" in (project.root / ".env").read_text()
    assert SENTINEL not in (project.root / "smelt.yml").read_text()
    err = s.json("PUT", "/api/v1/plugins/tap-csv/settings/on_bad_row", {"value": "sometimes"}, want=400)["error"]
    assert "on_bad_row" in err
    assert s.json("PUT", "/api/v1/plugins/tap-csv/settings/on_bad_row", {"nothing": 1}, want=400)
    assert s.json("PUT", "/api/v1/plugins/tap-csv/settings/on_bad_row", raw="{not json", want=400)
    jobs = s.json("GET", "/api/v1/jobs")["jobs"]
    assert jobs == [{"job_name": "load", "tasks": ["tap-csv target-sqlite"]}]
    sched = s.json("GET", "/api/v1/schedules")["schedules"]["job"][0]
    assert sched["name"] == "daily" and sched["next_run_at"].endswith("T00:00:00Z")
    adapters = s.json("GET", "/api/v1/adapters")["adapters"]
    assert "singer" in [a["name"] for a in adapters]
    assert s.json("POST", "/api/v1/adapters/singer/check")["status"] == "ok"
    assert s.json("POST", "/api/v1/adapters/nope/check", want=404)["error"] == "no adapter named 'nope'"
    # wrong methods and unknown paths
    assert s.request("DELETE", "/api/v1/runs")[0] == 405
    assert s.request("GET", "/api/v1/nope")[0] == 404


def test_unsafe_with_allow_unsafe(project, serve):
    csv_project(project)
    s = serve(project.root, "--allow-unsafe")
    redacted = {x["name"]: x["value"] for x in s.json("GET", "/api/v1/plugins/tap-fake")["settings"]}
    assert redacted["password"] != SENTINEL
    shown = {x["name"]: x["value"] for x in s.json("GET", "/api/v1/plugins/tap-fake?unsafe=true")["settings"]}
    assert shown["password"] == SENTINEL


def test_run_over_the_api_loads_sqlite(project, serve):
    csv_project(project)
    s = serve(project.root)
    status, text, headers = s.request("POST", "/api/v1/runs", {"blocks": ["tap-csv", "target-sqlite"]})
    assert status == 202, text
    run_id = json.loads(text)["run_id"]
    assert headers["Location"] == f"/api/v1/runs/{run_id}"
    run = wait_run(s, run_id)
    assert run["status"] == "success" and run["trigger"] == "api" and run["exit_code"] == 0
    assert run["rows"] == 3 and run["args"] == ["tap-csv", "target-sqlite"]
    block = run["blocks"][0]
    assert block["streams"] == {"orders": 3} and block["status"] == "success"
    assert block["state_id"] == "dev:tap-csv-to-target-sqlite"
    rows = sqlite3.connect(project.root / "output/wh.db").execute("SELECT id FROM orders ORDER BY id").fetchall()
    assert rows == [(1,), (2,), (3,)]
    # the same run as the CLI sees it
    assert project.smelt.json("runs", "show", run_id, "--format", "json") == run
    listed = s.json("GET", "/api/v1/runs")
    assert listed["total"] == 1 and listed["runs"][0]["run_id"] == run_id
    status, log, headers = s.request("GET", f"/api/v1/runs/{run_id}/log")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert f"Run {run_id} succeeded" in log
    # a job, with full_refresh: the state starts over, the rows are loaded again
    job = s.json("POST", "/api/v1/runs", {"job": "load", "full_refresh": True}, want=202)["run_id"]
    run = wait_run(s, job)
    assert run["status"] == "success" and run["job"] == "load" and run["rows"] == 3
    # filters and paging
    assert s.json("GET", "/api/v1/runs?job=load")["total"] == 1
    page = s.json("GET", "/api/v1/runs?limit=1&offset=1")
    assert page["total"] == 2 and [r["run_id"] for r in page["runs"]] == [run_id]
    assert s.json("GET", "/api/v1/runs?status=failed")["runs"] == []
    assert s.json("GET", "/api/v1/runs?since=1h")["total"] == 2
    assert s.json("GET", "/api/v1/runs?since=2999-01-01")["total"] == 0
    assert "not a time" in s.json("GET", "/api/v1/runs?since=yesterday", want=400)["error"]
    assert s.json("GET", "/api/v1/runs?limit=0", want=400)
    assert s.json("GET", "/api/v1/runs?status=weird", want=400)
    # bad requests
    assert "Block nope not found" in s.json("POST", "/api/v1/runs", {"blocks": ["nope"]}, want=400)["error"]
    assert s.json("POST", "/api/v1/runs", {"blocks": ["--dry-run", "tap-csv"]}, want=400)
    assert s.json("POST", "/api/v1/runs", {"blocks": "tap-csv"}, want=400)
    assert s.json("POST", "/api/v1/runs", {"job": "load", "blocks": ["tap-csv"]}, want=400)
    assert s.json("POST", "/api/v1/runs", raw="[1,2", want=400)
    assert s.json("GET", f"/api/v1/runs/{uuid.uuid4()}", want=404)["error"].startswith("no run with id")
    assert s.json("POST", f"/api/v1/runs/{run_id}/cancel", want=409)["error"].endswith("is not running (success)")


def read_events(resp, until_end=True):
    """(seconds since start, event name, data) for each SSE event of an http.client response."""
    events, name, data, t0 = [], "message", [], time.time()
    while True:
        line = resp.fp.readline()
        if not line:
            return events
        line = line.decode().rstrip("\n")
        if line == "":
            if data:
                events.append((time.time() - t0, name, "\n".join(data)))
                if name == "end" and until_end:
                    return events
            name, data = "message", []
        elif line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])


def test_live_log_stream_follows_a_run(project, serve):
    csv_project(project)
    s = serve(project.root)
    s.json("PUT", "/api/v1/plugins/tap-fake/settings/records", {"value": 25})
    run_id = s.json("POST", "/api/v1/runs", {"blocks": ["tap-fake", "target-fake"]}, want=202)["run_id"]
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
    conn.request("GET", f"/api/v1/runs/{run_id}/log/stream", headers={"Authorization": f"Bearer {TOKEN}"})
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Content-Type") == "text/event-stream"
    # the first lines come while the run still goes (25 records, 0.2 s each)
    first = []
    while len(first) < 3:
        line = resp.fp.readline().decode()
        if line.startswith("data: "):
            first.append(line[6:].rstrip("\n"))
    assert s.json("GET", f"/api/v1/runs/{run_id}")["status"] == "running"
    events = read_events(resp)
    conn.close()
    assert events[-1][1] == "end" and json.loads(events[-1][2]) == {"status": "success"}, \
        json.dumps(s.json("GET", f"/api/v1/runs/{run_id}"))
    lines = first + [d for _, n, d in events if n == "message"]
    assert any(f"Run {run_id} succeeded" in d for d in lines)
    # lines arrived over the run's seconds, not all at its end
    times = [t for t, n, _ in events if n == "message"]
    assert times[-1] - times[0] > 2
    # a finished run's stream: its whole log, then end at once
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
    conn.request("GET", f"/api/v1/runs/{run_id}/log/stream", headers={"Authorization": f"Bearer {TOKEN}"})
    again = read_events(conn.getresponse())
    conn.close()
    assert again[-1][1] == "end" and [d for _, n, d in again if n == "message"] == lines


def test_cancel_a_slow_run(project, serve):
    csv_project(project)
    s = serve(project.root)
    run_id = s.json("POST", "/api/v1/runs", {"blocks": ["tap-fake", "target-fake"]}, want=202)["run_id"]
    wait_run(s, run_id, until=("running",))
    end = time.time() + 60
    while saved_state(project, "dev:tap-fake-to-target-fake") is None and time.time() < end:
        time.sleep(0.2)
    assert s.json("POST", f"/api/v1/runs/{run_id}/cancel", want=202) == {"run_id": run_id, "status": "cancelling"}
    run = wait_run(s, run_id)
    assert run["status"] == "cancelled" and run["exit_code"] != 0
    assert run["blocks"][0]["status"] == "cancelled"
    state = saved_state(project, "dev:tap-fake-to-target-fake")
    # the state is what the target emitted (every 2nd record), never past the records it got
    assert state["bookmarks"]["things"]["id"] % 2 == 0 and 2 <= state["bookmarks"]["things"]["id"] < 400
    assert processes_matching(str(project.root / ".smelt/run")) == []
    assert s.json("POST", f"/api/v1/runs/{run_id}/cancel", want=409)
    # the lock is free again: the next run resumes from the saved bookmark
    s.json("PUT", "/api/v1/plugins/tap-fake/settings/mode", {"value": "ok"})
    again = wait_run(s, s.json("POST", "/api/v1/runs", {"blocks": ["tap-fake", "target-fake"]}, want=202)["run_id"])
    assert again["status"] == "success"
    assert saved_state(project, "dev:tap-fake-to-target-fake")["bookmarks"]["things"]["id"] == \
        state["bookmarks"]["things"]["id"] + 400


def test_state_endpoints(project, serve):
    csv_project(project)
    s = serve(project.root)
    assert s.json("GET", "/api/v1/state") == {"states": []}
    assert s.json("GET", "/api/v1/state/dev:tap-csv-to-target-sqlite", want=404)["error"] == \
        "no state with id 'dev:tap-csv-to-target-sqlite'"
    value = {"singer_state": {"bookmarks": {"orders": {"replication_key": "id", "replication_key_value": 2}}}}
    assert s.json("PUT", "/api/v1/state/dev:tap-csv-to-target-sqlite", value) == value
    assert s.json("GET", "/api/v1/state/dev:tap-csv-to-target-sqlite") == value
    assert [x["state_id"] for x in s.json("GET", "/api/v1/state")["states"]] == ["dev:tap-csv-to-target-sqlite"]
    assert s.json("GET", "/api/v1/state?pattern=prod:*") == {"states": []}
    # the CLI sees it, and a run starts from it: only row 3 is loaded
    assert saved_state(project, "dev:tap-csv-to-target-sqlite") == value["singer_state"]
    run = wait_run(s, s.json("POST", "/api/v1/runs", {"blocks": ["tap-csv", "target-sqlite"]}, want=202)["run_id"])
    assert run["rows"] == 1
    assert s.json("PUT", "/api/v1/state/dev:x", {"bookmarks": {}}, want=400)["error"].endswith('"singer_state"')
    assert s.request("DELETE", "/api/v1/state/dev:tap-csv-to-target-sqlite")[0] == 204
    assert s.request("GET", "/api/v1/state/dev:tap-csv-to-target-sqlite")[0] == 404
    assert s.request("DELETE", "/api/v1/state/dev:tap-csv-to-target-sqlite")[0] == 404


@pytest.mark.parametrize("path", [
    "/api/v1/runs/..%2F..%2Fetc%2Fpasswd", "/api/v1/runs/%2e%2e", "/api/v1/runs/..", "/api/v1/runs/abc%00def",
    "/api/v1/runs/%2e%2e%2f%2e%2e%2fsmelt.db/log", "/api/v1/runs/../../smelt.db/log", "/api/v1/runs/a:1/log",
    "/api/v1/runs/%00/log/stream", "/api/v1/runs/-x/log", "/api/v1/state/..%2F..%2Fx", "/api/v1/state/%2e%2e",
    "/api/v1/state/dev%00x", "/api/v1/state/a%0Ab", "/api/v1/plugins/..%2Fsmelt.yml", "/api/v1/plugins/%2e%2e",
    "/api/v1/plugins/tap-csv%00", "/api/v1/adapters/..%2Fx/check"])
def test_traversal_is_refused(project, serve, path):
    csv_project(project)
    (project.root / ".smelt").mkdir(exist_ok=True)
    s = serve(project.root)
    method = "POST" if path.endswith("/check") else "GET"
    status, text, _ = s.request(method, path)
    assert 400 <= status < 500, (path, status, text)
    assert "root:" not in text and "SQLite" not in text
    assert "error" in json.loads(text)


def test_oversized_body_is_refused(project, serve):
    csv_project(project)
    s = serve(project.root)
    # a Content-Length over the cap is refused before the body is read
    for method, path in [("POST", "/api/v1/runs"), ("PUT", "/api/v1/state/dev:x"),
                         ("PUT", "/api/v1/plugins/tap-csv/settings/on_bad_row")]:
        with socket.create_connection(("127.0.0.1", s.port), timeout=30) as sock:
            sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                         f"Content-Type: application/json\r\nContent-Length: {(1 << 20) + 1}\r\n\r\n".encode())
            sock.sendall(b'{"blocks": ["tap-csv", "target-sqlite"], "pad": "' + b"x" * 1000)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b"over 1048576 bytes" in body
    # chunked, without a Content-Length
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
    conn.putrequest("POST", "/api/v1/runs")
    conn.putheader("Authorization", f"Bearer {TOKEN}")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    chunk = b"x" * 65536
    for _ in range(20):
        conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    conn.send(b"0\r\n\r\n")
    assert conn.getresponse().status == 413
    conn.close()
    assert s.json("GET", "/api/v1/runs")["total"] == 0


def test_no_response_holds_the_secret(project, serve):
    csv_project(project)
    s = serve(project.root)
    s.json("PUT", "/api/v1/plugins/tap-fake/settings/records", {"value": 6})
    s.json("PUT", "/api/v1/plugins/tap-fake/settings/mode", {"value": "ok"})
    run_id = s.json("POST", "/api/v1/runs", {"blocks": ["tap-fake", "target-fake"]}, want=202)["run_id"]
    wait_run(s, run_id)
    s.json("PUT", "/api/v1/plugins/tap-fake/settings/mode", {"value": "crash"})
    failing = s.json("POST", "/api/v1/runs", {"blocks": ["tap-fake", "target-fake"]}, want=202)["run_id"]
    assert wait_run(s, failing)["status"] == "failed"
    seen = []
    for method, path in [("GET", "/health"), ("GET", "/api/v1/project"), ("GET", "/api/v1/plugins"),
                         ("GET", "/api/v1/plugins/tap-fake"), ("GET", "/api/v1/plugins/tap-fake?unsafe=true"),
                         ("GET", "/api/v1/runs"), ("GET", f"/api/v1/runs/{run_id}"),
                         ("GET", f"/api/v1/runs/{run_id}/log"), ("GET", f"/api/v1/runs/{run_id}/log/stream"),
                         ("GET", f"/api/v1/runs/{failing}"), ("GET", f"/api/v1/runs/{failing}/log"),
                         ("GET", "/api/v1/state"), ("GET", "/api/v1/state/dev:tap-fake-to-target-fake"),
                         ("GET", "/api/v1/jobs"), ("GET", "/api/v1/schedules"), ("GET", "/api/v1/adapters"),
                         ("POST", "/api/v1/adapters/singer/check"), ("GET", "/api/v1/openapi.json")]:
        status, text, headers = s.request(method, path)
        seen.append((path, status))
        assert SENTINEL not in text and SENTINEL not in json.dumps(headers), path
    # errors neither: a bad value for the secret setting, a wrong token
    for status, text, headers in [s.request("PUT", "/api/v1/plugins/tap-fake/settings/password/x", {"value": 1}),
                                  s.request("GET", "/api/v1/runs", token=SENTINEL + "-guess")]:
        assert SENTINEL not in text and SENTINEL not in json.dumps(headers)
    assert all(status < 500 for _, status in seen), seen
    assert s.proc.poll() is None


def test_a_port_in_use_is_one_clear_error(project):
    csv_project(project)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([SMELT, "serve", "--listen", f"127.0.0.1:{port}"], cwd=project.root,
                              env=clean_env({"SMELT_SERVE_TOKEN": TOKEN}), capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    # smelt's own message only: no raw line of the HTTP library before it
    assert proc.stderr == f"smelt: error: cannot listen on '127.0.0.1:{port}': Address already in use " \
                          "(is the port in use?)\n", proc.stderr


def test_non_loopback_needs_tls_or_insecure(project):
    csv_project(project)
    port = free_port()
    proc = subprocess.run([SMELT, "serve", "--listen", f"0.0.0.0:{port}"], cwd=project.root,
                          env=clean_env({"SMELT_SERVE_TOKEN": TOKEN}), capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "needs TLS (--tls-cert F --tls-key F), or --insecure" in proc.stderr
    proc = subprocess.run([SMELT, "serve", "--listen", "127.0.0.1:99999"], cwd=project.root,
                          env=clean_env({"SMELT_SERVE_TOKEN": TOKEN}), capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "--listen must be HOST:PORT" in proc.stderr
    proc = subprocess.run([SMELT, "serve", "--tls-cert", "x.pem"], cwd=project.root,
                          env=clean_env({"SMELT_SERVE_TOKEN": TOKEN}), capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "--tls-cert and --tls-key go together" in proc.stderr
    proc = subprocess.run([SMELT, "serve"], cwd=project.root, env=clean_env({"SMELT_SERVE_TOKEN": "short"}),
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "SMELT_SERVE_TOKEN must be 16" in proc.stderr and "short" not in proc.stderr


def test_tls(project, serve, tmp_path):
    csv_project(project)
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen([SMELT, "serve", "--listen", f"127.0.0.1:{port}", "--tls-cert", cert, "--tls-key", key],
                            cwd=project.root, env=clean_env({"SMELT_SERVE_TOKEN": TOKEN}), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        ctx = ssl.create_default_context(cafile=str(cert))
        ctx.check_hostname = False
        end = time.time() + 30
        while True:
            try:
                conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
                conn.request("GET", "/api/v1/runs", headers={"Authorization": f"Bearer {TOKEN}"})
                resp = conn.getresponse()
                break
            except (ConnectionRefusedError, ssl.SSLError):
                if time.time() > end:
                    raise
                time.sleep(0.2)
        assert resp.status == 200 and json.loads(resp.read()) == {"runs": [], "total": 0}
        conn.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


def test_stopping_the_server_leaves_runs_to_finish(project, serve):
    csv_project(project)
    s = serve(project.root)
    s.json("PUT", "/api/v1/plugins/tap-fake/settings/records", {"value": 20})
    run_id = s.json("POST", "/api/v1/runs", {"blocks": ["tap-fake", "target-fake"]}, want=202)["run_id"]
    wait_run(s, run_id, until=("running",))
    s.stop()
    assert s.proc.returncode == 0
    end = time.time() + 60
    while time.time() < end:
        run = project.smelt.json("runs", "show", run_id, "--format", "json")
        if run["status"] != "running":
            break
        time.sleep(0.3)
    assert run["status"] == "success" and run["trigger"] == "api"
    assert saved_state(project, "dev:tap-fake-to-target-fake") == {"bookmarks": {"things": {"id": 20}}}
    # its stderr file, left by the stopped server, goes when the next server starts
    assert [p.name for p in (project.root / ".smelt/serve").iterdir()] == [f"{run_id}.err"]
    again = serve(project.root)
    assert list((project.root / ".smelt/serve").iterdir()) == []
    assert again.json("GET", f"/api/v1/runs/{run_id}")["status"] == "success"


def test_server_answers_while_a_run_goes(project, serve):
    csv_project(project)
    s = serve(project.root)
    run_id = s.json("POST", "/api/v1/runs", {"blocks": ["tap-fake", "target-fake"]}, want=202)["run_id"]
    wait_run(s, run_id, until=("running",))
    t0 = time.time()
    for _ in range(20):
        assert s.json("GET", "/api/v1/runs")["total"] == 1
    assert time.time() - t0 < 5
    s.json("POST", f"/api/v1/runs/{run_id}/cancel", want=202)
    assert wait_run(s, run_id)["status"] == "cancelled"


def test_the_checker_catches_a_wrong_answer():
    """check_against_openapi() is what makes every test above a conformance test: it must fail."""
    assert check_against_openapi([("GET", "/api/v1/runs", 200, "application/json", '{"runs": [], "total": 0}')]) == 1
    with pytest.raises(AssertionError, match="total"):
        check_against_openapi([("GET", "/api/v1/runs", 200, "application/json", '{"runs": []}')])
    with pytest.raises(AssertionError, match="not documented"):
        check_against_openapi([("GET", "/api/v1/runs", 418, "application/json", '{"error": "x"}')])
    with pytest.raises(AssertionError, match="status"):
        check_against_openapi([("GET", "/api/v1/runs/abc", 200, "application/json",
                                '{"run_id": "abc", "status": "weird", "trigger": "cli", "args": [], '
                                '"started_at": "x", "blocks": []}')])


def test_a_stalled_client_is_cut_off(project, serve):
    """A client that sends half a request and stops is disconnected after 30 s, and others are
    served meanwhile (one thread per connection)."""
    csv_project(project)
    s = serve(project.root)
    with socket.create_connection(("127.0.0.1", s.port), timeout=60) as sock:
        sock.sendall(b"GET /api/v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ")
        t0 = time.time()
        assert s.json("GET", "/api/v1/runs")["total"] == 0
        assert sock.recv(1024) == b""  # closed by the server, nothing answered
        assert 25 < time.time() - t0 < 45


def test_a_queued_run_whose_process_died_unwatched_is_failed(project, serve, tmp_path):
    """The server records a run "queued" before its child starts; when the child dies before the
    run begins while no server is up, the next `smelt runs` must not show it queued forever."""
    csv_project(project)
    # a smelt install whose binary is swapped, once the server runs, for a stand-in that waits for
    # a go file and exits without recording anything (the child the server starts for the run)
    inst = tmp_path / "inst"
    (inst / "bin").mkdir(parents=True)
    stage = os.path.dirname(os.path.dirname(os.path.realpath(SMELT)))
    for d in ("lib", "share"):
        os.symlink(os.path.join(stage, d), inst / d)
    exe = inst / "bin/smelt"
    shutil.copy(SMELT, exe)
    s = serve(project.root, smelt=str(exe))
    go = tmp_path / "go"
    stand_in = tmp_path / "stand-in"
    stand_in.write_text(f"#!/bin/sh\nwhile [ ! -e '{go}' ]; do sleep 0.05; done\nexit 3\n")
    stand_in.chmod(0o755)
    os.replace(stand_in, exe)
    run_id = s.json("POST", "/api/v1/runs", {"blocks": ["tap-fake", "target-fake"]}, want=202)["run_id"]
    assert len(processes_matching(run_id)) == 1
    s.stop()
    assert s.proc.returncode == 0
    # its process lives: still queued
    assert project.smelt.json("runs", "show", run_id, "--format", "json")["status"] == "queued"
    go.write_text("")
    end = time.time() + 60
    while processes_matching(run_id) and time.time() < end:
        time.sleep(0.05)
    assert processes_matching(run_id) == []
    run = project.smelt.json("runs", "show", run_id, "--format", "json")
    assert run["status"] == "failed" and "gone before the run began" in run["error"], run
    assert project.smelt.json("runs", "list", "--status", "queued", "--format", "json")["total"] == 0


def test_live_log_streams_end_with_the_run(project, serve):
    """Each of several live log streams of a run gets every line, then the end event with the
    run's final status, then the end of the connection: no stream outlives the run (before, a
    stream stayed open after its end event until the server's 30 s idle timeout, longer than the
    20 s this client waits). When the end event arrives, the run's record is final."""
    csv_project(project)
    s = serve(project.root)
    s.json("PUT", "/api/v1/plugins/tap-fake/settings/records", {"value": 15})
    run_id = s.json("POST", "/api/v1/runs", {"blocks": ["tap-fake", "target-fake"]}, want=202)["run_id"]
    socks = []
    for _ in range(8):
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=20)
        sock.sendall(f"GET /api/v1/runs/{run_id}/log/stream HTTP/1.1\r\nHost: x\r\n"
                     f"Authorization: Bearer {TOKEN}\r\n\r\n".encode())
        socks.append(sock)
    for sock in socks:
        data = b""
        while b"event: end" not in data:
            chunk = sock.recv(65536)
            assert chunk, "the stream closed before its end event"
            data += chunk
        assert s.json("GET", f"/api/v1/runs/{run_id}")["status"] == "success"
        while chunk := sock.recv(65536):  # socket.timeout (20 s) fails the test
            data += chunk
        sock.close()
        text = data.decode()
        assert text.startswith("HTTP/1.1 200") and "connection: close" in text.lower().split("\r\n\r\n")[0]
        assert '{"status":"success"}' in text.split("event: end", 1)[1]
        assert f"Run {run_id} succeeded" in text


def test_runs_keep_their_priority_and_the_server_lowers_its_own(project, serve):
    """The threads answering requests run at nice 10; the runs the server starts at the nice the
    server was started with, so clients of the API slow the server, not the runs."""
    csv_project(project)
    s = serve(project.root)
    run_id = s.json("POST", "/api/v1/runs", {"blocks": ["tap-fake", "target-fake"]}, want=202)["run_id"]
    wait_run(s, run_id, until=("running",))

    def nice(pid, tid=None):
        stat = Path(f"/proc/{pid}/task/{tid or pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[16])

    base = os.nice(0)  # the server's start value (0 unless the tests run under nice)
    def argv(pid):
        try:
            return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:  # ended meanwhile
            return []

    kids = [p for p in processes_matching(run_id) if argv(p)[1:2] == [b"--cwd"]]  # smelt --cwd ROOT run ...
    assert kids and all(nice(p) == base for p in kids), [(p, nice(p)) for p in kids]
    values = set()
    for t in os.listdir(f"/proc/{s.proc.pid}/task"):
        try:
            values.add(nice(s.proc.pid, t))
        except FileNotFoundError:  # a connection's thread that ended meanwhile
            pass
    # the reaper (which starts the runs) keeps the start value, the others are lowered to 10
    assert sorted(values) == sorted({base, max(base, 10)})
    s.json("POST", f"/api/v1/runs/{run_id}/cancel", want=202)
    assert wait_run(s, run_id)["status"] == "cancelled"
