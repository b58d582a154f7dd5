"""The airflow orchestrator: real Apache Airflow 3 from PyPI, installed by `smelt install` with
the adapter's pins, runs the project's schedules as DAGs built by Smelt's DAG generator."""
import json
import re
import sqlite3
import time
import urllib.error
import urllib.request

import pytest

from airflow_support import CONSTRAINTS, dag_ids, last_json, write_project
from conftest import Smelt, free_port, processes_matching


@pytest.fixture(scope="module")
def af(tmp_path_factory):
    """One project with Airflow installed and its metadata database migrated (heavy: done once)."""
    root = tmp_path_factory.mktemp("airflow")
    write_project(root)
    smelt = Smelt(root)
    assert CONSTRAINTS.is_file(), f"the adapter's pins are not staged at {CONSTRAINTS}"
    smelt("install", "airflow", check=0, timeout=1800)
    proc = smelt("invoke", "airflow:initialize", check=0, timeout=900)
    assert "Database migration done" in proc.stderr
    yield smelt


def test_install_uses_the_pins_and_keeps_airflow_home_in_the_project(af):
    venv = af.cwd / ".smelt/orchestrators/airflow/venv"
    pins = {line.split("==")[0].lower(): line.split("==")[1] for line in CONSTRAINTS.read_text().splitlines()
            if "==" in line and not line.startswith("#")}
    site = next(venv.glob("lib/python3*/site-packages"))
    for dist in ("apache_airflow", "apache_airflow_core", "sqlalchemy", "fastapi", "pendulum",
                 "apache_airflow_providers_standard", "psycopg2_binary"):
        found = list(site.glob(f"{dist}-*.dist-info"))
        assert found, f"{dist} not installed"
        name = found[0].name[: -len(".dist-info")]
        pkg, ver = name.rsplit("-", 1)
        assert ver == pins[pkg.lower().replace("_", "-")], f"{pkg} {ver} is not the pinned version"
    home = af.cwd / ".smelt/orchestrators/airflow/home"
    assert (home / "airflow.db").is_file() and (home / "airflow.cfg").is_file()
    # examples off: only Smelt's DAGs ever show up (next test); the DAGs folder holds the generator
    for section, key, want in (("api", "host", "127.0.0.1"),
                               ("database", "sql_alchemy_conn", f"sqlite:///{home}/airflow.db")):
        got = af("invoke", "airflow", "config", "get-value", section, key, check=0).stdout.strip().splitlines()[-1]
        assert got == want, f"[{section}] {key} = {got}"
    assert (af.cwd / "orchestrate/airflow/dags/smelt_dags.py").is_file()


def test_one_dag_per_schedule_with_a_task_per_block_and_new_schedules_appear(af):
    assert dag_ids(af) == ["smelt_nightly_load-things", "smelt_often-broken_broken"]
    tasks = af("invoke", "airflow", "tasks", "list", "smelt_nightly_load-things", check=0).stdout.split()
    assert tasks[-1:] == ["tap-csv_target-sqlite"]
    assert af("invoke", "airflow", "dags", "list-import-errors", "--local", "-o", "json", check=0).stdout.strip() \
        .splitlines()[-1] == "[]"

    # A job of two tasks (three blocks) on a new schedule: no other step needed.
    af("job", "add", "two-step", "--tasks", '["tap-csv target-sqlite", "tap-csv target-sqlite tap-csv target-sqlite"]',
       check=0)
    af("schedule", "add", "weekly-two", "--job", "two-step", "--interval", "@weekly", check=0)
    assert dag_ids(af) == ["smelt_nightly_load-things", "smelt_often-broken_broken", "smelt_weekly-two_two-step"]
    tasks = af("invoke", "airflow", "tasks", "list", "smelt_weekly-two_two-step", check=0).stdout.split()
    assert tasks[-3:] == ["tap-csv_target-sqlite", "tap-csv_target-sqlite_2", "tap-csv_target-sqlite_3"]
    af("schedule", "remove", "weekly-two", check=0)
    assert "smelt_weekly-two_two-step" not in dag_ids(af)


def test_dag_test_runs_smelt_and_loads_sqlite(af):
    proc = af("invoke", "airflow", "dags", "test", "smelt_nightly_load-things", timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    out = proc.stdout + proc.stderr
    assert "smelt run tap-csv target-sqlite" in out
    assert re.search(r"Run [0-9a-f-]{36} succeeded: 1 of 1 block in ", out), out[-4000:]
    with sqlite3.connect(af.cwd / "warehouse.db") as db:
        rows = db.execute("select id, name from things order by id").fetchall()
    assert [(int(i), n) for i, n in rows] == [(1, "anvil"), (2, "rope"), (3, "dynamite")]
    with sqlite3.connect(af.cwd / ".smelt/smelt.db") as db:
        runs = db.execute("select status from runs where state_id = 'dev:tap-csv-to-target-sqlite'").fetchall()
    assert runs and runs[-1][0].lower() == "success"
    state = json.loads(af("state", "get", "dev:tap-csv-to-target-sqlite", check=0).stdout)
    assert "singer_state" in state


def test_extractor_loader_schedule_keeps_its_state_under_the_schedules_name(af):
    """An extractor/loader schedule's DAG saves state where `smelt schedule run` and Meltano do: under
    the schedule's name, not <env>:<tap>-to-<target>."""
    af("schedule", "add", "csv-daily", "--extractor", "tap-csv", "--loader", "target-sqlite",
       "--interval", "@daily", check=0)
    try:
        proc = af("invoke", "airflow", "dags", "test", "smelt_csv-daily", timeout=900)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
        assert "smelt run tap-csv target-sqlite --state-id csv-daily" in proc.stdout + proc.stderr
        state = json.loads(af("state", "get", "csv-daily", check=0).stdout)
        assert "singer_state" in state, state
    finally:
        af("schedule", "remove", "csv-daily", check=0)


def test_failing_block_fails_the_airflow_task_with_smelts_error(af):
    proc = af("invoke", "airflow", "dags", "test", "smelt_often-broken_broken", timeout=900)
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    assert "smelt run tap-broken target-sqlite failed (exit code 1)" in out
    assert "missing.csv" in out  # Smelt's (the tap's) own error, in the task log
    runs = last_json(af("invoke", "airflow", "dags", "list-runs", "smelt_often-broken_broken", "-o", "json",
                        check=0).stdout)
    assert runs and runs[0]["state"] == "failed"
    states = last_json(af("invoke", "airflow", "tasks", "states-for-dag-run", "smelt_often-broken_broken",
                          runs[0]["run_id"], "-o", "json", check=0).stdout)
    assert [(s["task_id"], s["state"]) for s in states] == [("tap-broken_target-sqlite", "failed")]


def _http(url, data=None, token=None):
    req = urllib.request.Request(url, data=json.dumps(data).encode() if data is not None else None,
                                 headers={"Content-Type": "application/json", "Accept": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read().decode())


def _listen_addresses(port):
    """Local addresses (hex, as /proc/net/tcp writes them) of sockets listening on port."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            addr, p = fields[1].rsplit(":", 1)
            if int(p, 16) == port and fields[3] == "0A":
                found.append(addr)
    return found


def test_ui_serves_the_dags_on_loopback_with_the_configured_admin_and_stops_cleanly(af):
    port = free_port()
    venv = str(af.cwd / ".smelt/orchestrators/airflow/venv")
    proc = af.popen("invoke", "airflow:ui", env={"AIRFLOW__API__PORT": str(port),
                                                  "AIRFLOW_ADMIN_PASSWORD": "ui-secret-pw"})
    try:
        base = f"http://127.0.0.1:{port}"
        deadline, health = time.time() + 600, None
        while time.time() < deadline:
            assert proc.poll() is None, proc.communicate()[1][-4000:]
            try:
                health = _http(f"{base}/api/v2/monitor/health")
                if health["scheduler"]["status"] == "healthy" and health["dag_processor"]["status"] == "healthy":
                    break
            except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError):
                pass
            time.sleep(2)
        assert health and health["metadatabase"]["status"] == "healthy", health
        assert _listen_addresses(port) == ["0100007F"]  # 127.0.0.1 only

        token = _http(f"{base}/auth/token", {"username": "admin", "password": "ui-secret-pw"})["access_token"]
        with pytest.raises(urllib.error.HTTPError):
            _http(f"{base}/auth/token", {"username": "admin", "password": "wrong"})
        deadline, ids = time.time() + 300, []
        while time.time() < deadline:
            ids = sorted(d["dag_id"] for d in _http(f"{base}/api/v2/dags", token=token)["dags"])
            if "smelt_nightly_load-things" in ids:
                break
            time.sleep(3)
        assert "smelt_nightly_load-things" in ids and "smelt_often-broken_broken" in ids
    finally:
        proc.terminate()
        try:
            out, err = proc.communicate(timeout=120)
        except Exception:
            proc.kill()
            raise
    end = time.time() + 60
    while processes_matching(venv) and time.time() < end:
        time.sleep(1)
    assert processes_matching(venv) == []
    assert "ui-secret-pw" not in out + err
