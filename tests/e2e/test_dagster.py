"""The dagster adapter (issue 15): real Dagster 1.x (from PyPI, installed by `smelt add orchestrator
dagster`) runs the project's jobs and schedules from the code location Smelt keeps in
orchestrate/dagster/definitions.py.  Dagster itself validates it, lists the jobs, their ops in order and
the schedules with Smelt's crons in UTC, executes a job that loads the SQLite warehouse with the native
tap-csv -> target-sqlite and saves state, fails a run whose task fails with smelt's exit code, and shows a
schedule added later after a reload of the running webserver (`smelt invoke dagster:ui`, 127.0.0.1).
The adapter is built out of tree against the SDK installed in the stage (test_oot_adapters)."""
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import conftest
from conftest import free_port, processes_matching
from tool_support import ToolProject

ORDERS = "id,customer,amount,updated_at\n1,ann,12.5,2024-01-01\n2,bob,40.0,2024-01-02\n3,cy,7.25,2024-01-03\n"

PROJECT = """\
version: 1
default_environment: dev
environments:
- name: dev
plugins:
  extractors:
  - name: tap-csv
    variant: smelt
    config:
      files:
      - entity: orders
        path: data/orders.csv
        keys: [id]
        replication_key: updated_at
  - name: tap-csv-missing
    inherit_from: tap-csv
    config:
      files:
      - entity: nothing
        path: data/missing.csv
        keys: [id]
  loaders:
  - name: target-sqlite
    variant: smelt
    config:
      database: output/warehouse.db
jobs:
- name: load
  tasks:
  - tap-csv target-sqlite
- name: broken-load
  tasks:
  - tap-csv-missing target-sqlite
  - tap-csv target-sqlite
schedules:
- name: nightly
  job: load
  interval: '15 4 * * *'
- name: hourly-elt
  extractor: tap-csv
  loader: target-sqlite
  transform: skip
  interval: '@hourly'
"""

QUERY = ("{ repositoriesOrError { ... on RepositoryConnection { nodes { jobs { name solids { name "
         "inputs { dependsOn { solid { name } } } } } schedules { name cronSchedule executionTimezone "
         "pipelineName } } } } }")


def graphql_data(stdout):
    """The answer of dagster-graphql: the line starting {"data" (its logs share stdout, in colour)."""
    lines = [l for l in stdout.splitlines() if l.startswith('{"data"')]
    assert lines, stdout[-3000:]
    return json.loads(lines[-1])["data"]


def repository(data):
    node = data["repositoriesOrError"]["nodes"][0]
    jobs = {j["name"]: j for j in node["jobs"] if not j["name"].startswith("__")}
    return jobs, {s["name"]: s for s in node["schedules"]}


def op_order(job):
    """The ops of a job from first to last, following Dagster's own dependency edges."""
    after = {s["name"]: [d["solid"]["name"] for i in s["inputs"] for d in i["dependsOn"]] for s in job["solids"]}
    order, left = [], dict(after)
    while left:
        ready = sorted(n for n, deps in left.items() if all(d in order for d in deps))
        assert ready, after
        order.append(ready[0])
        del left[ready[0]]
    return order


class DagsterProject(ToolProject):
    def __init__(self, root):
        super().__init__(root)
        (self.root / "data" / "orders.csv").write_text(ORDERS)
        (self.root / "smelt.yml").write_text(PROJECT)

    @property
    def venv(self):
        return self.root / ".smelt" / "orchestrators" / "dagster" / "venv"

    def warehouse_rows(self):
        with sqlite3.connect(self.root / "output" / "warehouse.db") as db:
            return db.execute("SELECT id, customer, amount FROM orders ORDER BY id").fetchall()


@pytest.fixture(scope="module")
def dg(tmp_path_factory):
    p = DagsterProject(tmp_path_factory.mktemp("dagster"))
    started = time.monotonic()
    proc = p.smelt("add", "orchestrator", "dagster")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    p.install("dagster", timeout=600)
    p.install_s = time.monotonic() - started
    assert (p.venv / "bin" / "dagster").exists()
    return p


def test_export_writes_the_code_location_and_dagster_validates_it(dg):
    proc = dg.smelt("schedule", "export", "dagster")
    assert proc.returncode == 0, proc.stderr
    defs = dg.root / "orchestrate" / "dagster" / "definitions.py"
    shipped = next(Path(conftest.STAGE).glob("lib*/smelt/adapters/dagster/smelt_dagster.py"))
    assert defs.read_text() == shipped.read_text()
    assert "3 jobs, 2 schedules" in proc.stderr, proc.stderr
    # the instance is the project's, with telemetry off
    home = dg.root / ".smelt" / "orchestrators" / "dagster" / "home"
    assert "enabled: false" in (home / "dagster.yaml").read_text()

    proc = dg.smelt("invoke", "dagster:validate")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert "Validation successful" in proc.stdout + proc.stderr


def test_dagster_lists_the_jobs_ops_and_schedules(dg):
    proc = dg.smelt("invoke", "dagster:graphql", QUERY)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    jobs, schedules = repository(graphql_data(proc.stdout))
    assert set(jobs) == {"load", "broken_load", "elt_hourly_elt"}
    assert op_order(jobs["load"]) == ["tap_csv_target_sqlite"]
    # one op per task, in the order of smelt.yml: the second depends on the first
    assert op_order(jobs["broken_load"]) == ["tap_csv_missing_target_sqlite", "tap_csv_target_sqlite"]
    assert op_order(jobs["elt_hourly_elt"]) == ["schedule_run_hourly_elt"]
    assert {n: (s["cronSchedule"], s["executionTimezone"], s["pipelineName"]) for n, s in schedules.items()} == {
        "nightly": ("15 4 * * *", "UTC", "load"),
        "hourly_elt": ("0 * * * *", "UTC", "elt_hourly_elt"),
    }
    # Dagster's own CLI lists the same
    proc = dg.smelt("invoke", "dagster:schedules")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"Schedule: nightly \[STOPPED\]", proc.stdout) and "Cron Schedule: 15 4 * * *" in proc.stdout


def test_a_job_run_through_dagster_loads_the_warehouse_and_saves_state(dg):
    started = time.monotonic()
    proc = dg.smelt("invoke", "dagster:execute", "load")
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr
    assert "RUN_SUCCESS" in proc.stdout + proc.stderr, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert dg.warehouse_rows() == [(1, "ann", 12.5), (2, "bob", 40.0), (3, "cy", 7.25)]
    state = json.loads(dg.smelt("state", "get", "dev:tap-csv-to-target-sqlite", check=0).stdout)
    bookmark = state["singer_state"]["bookmarks"]["orders"]
    assert "2024-01-03" in json.dumps(bookmark), state
    print(f"\nfirst install {dg.install_s:.1f} s; one job run through Dagster {elapsed:.1f} s")


def test_a_failing_task_fails_the_dagster_run_with_its_exit_code(dg):
    direct = dg.smelt("run", "tap-csv-missing", "target-sqlite")
    assert direct.returncode != 0
    proc = dg.smelt("invoke", "dagster:execute", "broken_load")
    assert proc.returncode != 0, proc.stdout[-3000:]
    out = proc.stdout + proc.stderr
    assert "RUN_FAILURE" in out, out[-4000:]
    assert f"run tap-csv-missing target-sqlite failed (exit code {direct.returncode})" in out, out[-4000:]
    # the task after the failed one never ran
    assert 'Started execution of step "tap_csv_missing_target_sqlite"' in out
    assert 'Started execution of step "tap_csv_target_sqlite"' not in out


def _post(url, query, timeout=60):
    req = urllib.request.Request(url, data=json.dumps({"query": query}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def test_ui_serves_on_localhost_and_a_schedule_added_later_shows_after_a_reload(dg):
    port = free_port()
    proc = dg.cli.popen("invoke", "dagster:ui", env=dg.env({"SMELT_DAGSTER_PORT": str(port)}))
    base = f"http://127.0.0.1:{port}"
    try:
        end = time.time() + 300
        while True:
            assert proc.poll() is None, proc.communicate()
            try:
                with urllib.request.urlopen(base + "/server_info", timeout=5) as r:
                    assert "dagster_webserver_version" in r.read().decode()
                break
            except (OSError, ValueError):
                assert time.time() < end, "the Dagster webserver did not come up in 300 s"
                time.sleep(1)
        # only on the loopback address
        listening = Path("/proc/net/tcp").read_text()
        assert f"0100007F:{port:04X}" in listening and f"00000000:{port:04X}" not in listening

        q = "{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } " \
            "schedules { name cronSchedule executionTimezone } } } } }"

        def schedules():
            node = _post(base + "/graphql", q)["data"]["repositoriesOrError"]["nodes"][0]
            return node, {s["name"]: (s["cronSchedule"], s["executionTimezone"]) for s in node["schedules"]}

        end = time.time() + 120
        while True:  # the code server may still be loading
            try:
                node, found = schedules()
                break
            except (KeyError, IndexError, OSError):
                assert time.time() < end
                time.sleep(2)
        assert found == {"nightly": ("15 4 * * *", "UTC"), "hourly_elt": ("0 * * * *", "UTC")}

        added = dg.smelt("schedule", "add", "weekly-report", "--job", "load", "--interval", "30 6 * * MON")
        assert added.returncode == 0, added.stderr
        location = node["location"]["name"]
        reload = _post(base + "/graphql", 'mutation { reloadRepositoryLocation(repositoryLocationName: "%s") '
                                          '{ __typename } }' % location, timeout=300)
        assert reload["data"]["reloadRepositoryLocation"]["__typename"] == "WorkspaceLocationEntry", reload
        _, found = schedules()
        assert found["weekly_report"] == ("30 6 * * MON", "UTC"), found
    finally:
        proc.terminate()
        try:
            out, err = proc.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        dg.smelt("schedule", "remove", "weekly-report")
    end = time.time() + 60
    while processes_matching(str(dg.venv)) and time.time() < end:
        time.sleep(1)
    assert processes_matching(str(dg.venv)) == [], "Dagster processes outlived smelt invoke dagster:ui"


FAKE_SMELT = r'''#!{python}
import json, os, sys
args = sys.argv[1:]
if args[:2] == ["job", "list"]:
    print(json.dumps({{"jobs": [
        {{"job_name": "daily-elt", "tasks": ["tap-a target-b", "dbt:run", ["x:one", "y:two"], "dbt:run"]}},
        {{"job_name": "fails", "tasks": ["ok:first", "bad:second", "never:third"]}}]}}))
elif args[:2] == ["schedule", "list"]:
    print(json.dumps({{"schedules": {{
        "job": [{{"name": "every-day", "interval": "@daily", "cron_interval": "0 0 * * *", "env": {{"K": "v-$HOME_X"}},
                  "environment": "prod", "job": {{"name": "daily-elt", "tasks": []}}}},
                {{"name": "by-hand", "interval": "@once", "cron_interval": None, "env": {{}},
                  "job": {{"name": "fails", "tasks": []}}}}],
        "elt": [{{"name": "pair", "extractor": "tap-a", "loader": "target-b", "interval": "@hourly",
                  "cron_interval": "0 * * * *", "env": {{}}}}]}}}}))
else:
    with open(os.environ["CALLS"], "a") as f:
        f.write(json.dumps({{"argv": args, "K": os.environ.get("K"), "env": os.environ.get("SMELT_ENVIRONMENT")}}) + "\n")
    sys.exit(7 if "bad:second" in args else 0)
'''

CHECK = r'''
import importlib.util, json, os, sys
spec = importlib.util.spec_from_file_location("defs", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
d = m.defs
out = {"jobs": {}, "schedules": {}}
for j in d.resolve_all_job_defs():
    if j.name.startswith("__"):
        continue
    out["jobs"][j.name] = [n.name for n in j.graph.nodes_in_topological_order]
for s in d.get_repository_def().schedule_defs:
    out["schedules"][s.name] = [s.cron_schedule, s.execution_timezone, s.job_name]
r = d.resolve_job_def("daily_elt").execute_in_process(tags={"smelt/schedule": "every-day"})
out["daily_ok"] = r.success
r = d.resolve_job_def("fails").execute_in_process(raise_on_error=False)
out["fails_ok"] = r.success
out["failure"] = [str(e.event_specific_data.error.message) for e in r.all_events if e.event_type_value == "STEP_FAILURE"]
print(json.dumps(out))
'''


def test_generated_code_location_from_smelt_json(dg, tmp_path):
    """The code location alone, on a fake smelt's JSON: names, op order, crons, a @once schedule, list
    tasks, a schedule's env reaching the ops, a failing task stopping the job with its exit code."""
    fake = tmp_path / "smelt"
    fake.write_text(FAKE_SMELT.format(python=sys.executable))
    fake.chmod(0o755)
    calls = tmp_path / "calls.jsonl"
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    shipped = next(Path(conftest.STAGE).glob("lib*/smelt/adapters/dagster/smelt_dagster.py"))
    env = conftest.clean_env({"SMELT_BIN": str(fake), "SMELT_PROJECT_ROOT": str(tmp_path), "CALLS": str(calls),
                              "DAGSTER_HOME": str(home), "HOME_X": "x1"})
    proc = subprocess.run([str(dg.venv / "bin" / "python"), "-c", CHECK, str(shipped)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = json.loads([l for l in proc.stdout.splitlines() if l.startswith('{"jobs"')][-1])
    assert out["jobs"] == {
        "daily_elt": ["tap_a_target_b", "dbt_run", "x_one_y_two", "dbt_run_2"],
        "fails": ["ok_first", "bad_second", "never_third"],
        "elt_pair": ["schedule_run_pair"],
    }
    # no schedule for @once; crons and UTC as Smelt gives them
    assert out["schedules"] == {"every_day": ["0 0 * * *", "UTC", "daily_elt"],
                                "pair": ["0 * * * *", "UTC", "elt_pair"]}
    assert out["daily_ok"] is True and out["fails_ok"] is False
    assert any("bad:second failed (exit code 7)" in m for m in out["failure"]), out["failure"]
    ran = [json.loads(l) for l in calls.read_text().splitlines()]
    assert [c["argv"] for c in ran] == [
        ["run", "tap-a", "target-b"], ["run", "dbt:run"], ["run", "x:one", "y:two"], ["run", "dbt:run"],
        ["run", "ok:first"], ["run", "bad:second"]]
    # the schedule's env and environment reach the ops of its runs only
    assert all(c["K"] == "v-x1" and c["env"] == "prod" for c in ran[:4]), ran
    assert all(c["K"] is None for c in ran[4:]), ran


def test_usage_errors_are_clear(dg):
    proc = dg.smelt("invoke", "dagster:execute")
    assert proc.returncode != 0
    assert "dagster:execute needs a job name (usage: smelt invoke dagster:execute JOB" in proc.stderr
    proc = dg.smelt("invoke", "dagster:nope")
    assert proc.returncode != 0
    assert "dagster has no command 'nope' (ui, validate, jobs, schedules, execute, graphql" in proc.stderr
