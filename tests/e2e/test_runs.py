"""smelt runs list|show|prune (issue 17): every smelt run is recorded in the system database with its
blocks, their status, duration and rows per stream, its exit code, error and log."""
import json
import re
import signal
import sqlite3
import time

from conftest import FAKES, wait_until


def project_with_fakes(project, records=6, mode="ok"):
    data = project.root / "data"
    data.mkdir(exist_ok=True)
    (data / "orders.csv").write_text("id,amount\n1,10\n2,20\n")
    (data / "customers.csv").write_text("id,name\n1,ann\n2,bob\n3,cy\n")
    project.write(f"""\
default_environment: dev
environments: [{{name: dev}}]
plugins:
  extractors:
  - name: tap-csv
    variant: smelt
    config:
      files:
      - {{entity: orders, path: data/orders.csv, keys: [id]}}
      - {{entity: customers, path: data/customers.csv, keys: [id]}}
  - name: tap-fake
    namespace: tap_fake
    executable: {FAKES}/fake_tap.py
    capabilities: [state]
    config: {{records: {records}, state_every: 2, mode: {mode}}}
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
""")


def runs(project, *args):
    """runs list --format json: one compact document on one line, as every listing prints."""
    out = project.smelt("runs", "list", "--format", "json", *args, check=0).stdout
    assert out.endswith("}\n") and out.count("\n") == 1, out[:200]
    return json.loads(out)


def test_runs_are_recorded_with_blocks_and_rows(project):
    project_with_fakes(project)
    project.smelt("run", "--full-refresh", "load", check=0)
    project.smelt("run", "tap-fake", "target-fake", "--state-id", "custom", check=0)
    listed = runs(project)
    assert listed["total"] == 2
    newest, oldest = listed["runs"]
    # the arguments as typed, options included: a full reload or a custom state id can be traced afterwards
    assert newest["args"] == ["tap-fake", "target-fake", "--state-id", "custom"] and newest["job"] is None
    assert oldest["job"] == "load" and oldest["args"] == ["--full-refresh", "load"]
    for r in listed["runs"]:
        assert r["status"] == "success" and r["exit_code"] == 0 and r["trigger"] == "cli" and r["error"] is None
        assert r["duration_s"] >= 0 and r["ended_at"] >= r["started_at"]
        assert (project.root / r["log_path"]).is_file()
        assert r["log_path"] == f".smelt/logs/{r['run_id']}/run.log"
    # the fake tap reports no counts in this mode: its rows are unknown, not 0
    assert oldest["rows"] == 5 and newest["rows"] is None
    show = project.smelt.json("runs", "show", oldest["run_id"], "--format", "json")
    assert show["run_id"] == oldest["run_id"]
    [block] = show["blocks"]
    assert block["block"] == "tap-csv target-sqlite" and block["kind"] == "el" and block["status"] == "success"
    assert block["streams"] == {"orders": 2, "customers": 3} and block["rows"] == 5
    assert block["state_id"] == "dev:tap-csv-to-target-sqlite" and block["duration_s"] >= 0
    assert block["summary"] == "orders 2 rows, customers 3 rows"
    # text forms
    out = project.smelt("runs", "list", check=0).stdout.splitlines()
    assert out[0].split() == ["RUN", "ID", "STATUS", "STARTED", "TIME", "ROWS", "JOB/BLOCKS"]
    assert out[1].split()[0] == newest["run_id"] and out[1].split()[1] == "success"
    assert out[1].endswith("tap-fake target-fake --state-id custom") and out[2].endswith("load")
    assert "No runs match." in project.smelt("runs", "list", "--status", "failed", check=0).stderr
    text = project.smelt("runs", "show", oldest["run_id"], check=0).stdout
    assert f"Run:      {oldest['run_id']}" in text and "Status:   success" in text and "Job:      load" in text
    assert "tap-csv target-sqlite" in text and "orders 2 rows, customers 3 rows" in text


def test_failed_run_keeps_error_exit_code_and_skipped_blocks(project):
    project_with_fakes(project, mode="crash")
    proc = project.smelt("run", "tap-fake", "target-fake", "tap-csv", "target-sqlite")
    assert proc.returncode == 1
    [run] = runs(project)["runs"]
    assert run["status"] == "failed" and run["exit_code"] == 1
    assert "Extractor failed" in run["error"] and "exit code 3" in run["error"]
    show = project.smelt.json("runs", "show", run["run_id"], "--format", "json")
    assert [b["status"] for b in show["blocks"]] == ["failed", "skipped"]
    assert show["blocks"][1]["duration_s"] is None
    assert "Error:    " in project.smelt("runs", "show", run["run_id"], check=0).stdout
    # a run that fails before any block (a plugin with a missing required setting is not such a case
    # here; an unknown block is refused before a run id exists, so nothing is recorded)
    assert project.smelt("run", "nope").returncode == 1
    assert runs(project)["total"] == 1


def test_interrupted_run_is_cancelled(project):
    project_with_fakes(project, records=1000, mode="slow")
    proc = project.smelt.popen("run", "tap-fake", "target-fake")
    wait_until(lambda: runs(project)["runs"], what="the run in the history")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    [run] = runs(project)["runs"]
    assert run["status"] == "cancelled" and run["exit_code"] == 143
    # the terminal says what the history says
    assert f"Run {run['run_id']} cancelled: 0 of 1 block" in err, err
    assert re.search(r"^ tap-fake target-fake\s+cancelled\s", err, re.M), err
    assert "block 1/1 'tap-fake target-fake' cancelled: " in err and " failed" not in err, err
    assert project.smelt.json("runs", "list", "--format", "json", "--status", "cancelled")["total"] == 1


def test_killed_run_is_marked_failed(project):
    project_with_fakes(project, records=1000, mode="slow")
    proc = project.smelt.popen("run", "tap-fake", "target-fake")
    end = time.time() + 30
    while time.time() < end and not runs(project)["runs"]:
        time.sleep(0.2)
    assert runs(project)["runs"][0]["status"] == "running"
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    time.sleep(0.5)
    [run] = runs(project)["runs"]
    assert run["status"] == "failed" and "process running it is gone" in run["error"]


def test_filters_and_limit(project):
    project_with_fakes(project)
    project.smelt("run", "load", check=0)
    project.smelt("run", "tap-fake", "target-fake", check=0)
    project.smelt("run", "load", check=0)
    assert runs(project, "--job", "load")["total"] == 2
    assert [r["job"] for r in runs(project, "--job", "load")["runs"]] == ["load", "load"]
    assert runs(project, "--status", "failed")["total"] == 0
    assert runs(project, "--status", "success")["total"] == 3
    limited = runs(project, "--limit", "1")
    assert limited["total"] == 3 and len(limited["runs"]) == 1 and limited["runs"][0]["job"] == "load"
    assert runs(project, "--since", "1h")["total"] == 3
    assert runs(project, "--since", "2999-01-01")["total"] == 0
    assert runs(project, "--since", "2000-01-01T00:00:00Z")["total"] == 3
    proc = project.smelt("runs", "list", "--since", "yesterday")
    assert proc.returncode == 2 and "'yesterday' is not a time" in proc.stderr
    proc = project.smelt("runs", "list", "--status", "ok")
    assert proc.returncode == 2 and "--status must be queued, running, success, failed or cancelled" in proc.stderr
    proc = project.smelt("runs", "list", "--limit", "0")
    assert proc.returncode == 2


def test_show_unknown_and_bad_ids(project):
    project_with_fakes(project)
    proc = project.smelt("runs", "show", "0b6f3c1e-0000-4000-8000-000000000000")
    assert proc.returncode == 1 and "no run with id '0b6f3c1e-0000-4000-8000-000000000000'" in proc.stderr
    proc = project.smelt("runs", "show", "../../etc/passwd")
    assert proc.returncode == 1 and "run id" in proc.stderr
    assert project.smelt("runs").returncode == 2
    proc = project.smelt("runs", "lst")
    assert proc.returncode == 2 and "did you mean 'list'" in proc.stderr


def test_prune_keep_and_older_than(project):
    project_with_fakes(project)
    for _ in range(4):
        project.smelt("run", "tap-fake", "target-fake", check=0)
    ids = [r["run_id"] for r in runs(project)["runs"]]
    proc = project.smelt("runs", "prune", "--keep", "2", check=0)
    assert "Pruned 2 runs." in proc.stderr + proc.stdout
    assert [r["run_id"] for r in runs(project)["runs"]] == ids[:2]
    for gone in ids[2:]:
        assert not (project.root / ".smelt/logs" / gone).exists()
        assert not (project.root / ".smelt/lineage" / f"{gone}.jsonl").exists()
        assert project.smelt("runs", "show", gone).returncode == 1
    for kept in ids[:2]:
        assert (project.root / ".smelt/logs" / kept / "run.log").is_file()
        assert (project.root / ".smelt/lineage" / f"{kept}.jsonl").is_file()
    # the lock rows of pruned runs go too; state stays
    db = sqlite3.connect(project.root / ".smelt/smelt.db")
    assert {r[0].split(":")[0] for r in db.execute("SELECT run_id FROM runs")} == set(ids[:2])
    assert project.smelt("state", "get", "dev:tap-fake-to-target-fake").returncode == 0
    # nothing is older than a week; everything is older than 0 seconds from now
    project.smelt("runs", "prune", "--older-than", "7d", check=0)
    assert runs(project)["total"] == 2
    time.sleep(1.1)
    project.smelt("runs", "prune", "--older-than", "0s", check=0)
    assert runs(project)["total"] == 0
    proc = project.smelt("runs", "prune")
    assert proc.returncode == 2 and "--keep N or --older-than D" in proc.stderr
    proc = project.smelt("runs", "prune", "--keep", "1", "--older-than", "1d")
    assert proc.returncode == 2 and "takes one of --keep N or --older-than D, not both" in proc.stderr
    proc = project.smelt("runs", "prune", "--keep", "-1")
    assert proc.returncode == 2
    proc = project.smelt("runs", "prune", "--older-than", "soon")
    assert proc.returncode == 2 and "'soon' is not a time" in proc.stderr


def test_prune_never_removes_a_running_run(project):
    project_with_fakes(project, records=1000, mode="slow")
    proc = project.smelt.popen("run", "tap-fake", "target-fake")
    try:
        end = time.time() + 30
        while time.time() < end and not runs(project)["runs"]:
            time.sleep(0.2)
        project.smelt("runs", "prune", "--keep", "0", check=0)
        assert runs(project)["runs"][0]["status"] == "running"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)


def test_trigger_comes_from_the_environment(project):
    project_with_fakes(project)
    project.smelt("run", "load", env={"SMELT_RUN_TRIGGER": "schedule"}, check=0)
    assert runs(project)["runs"][0]["trigger"] == "schedule"
    # smelt schedule run says so itself
    project.smelt("schedule", "add", "nightly", "--job", "load", "--interval", "@daily", check=0)
    project.smelt("schedule", "run", "nightly", check=0)
    latest = runs(project)["runs"][0]
    assert latest["trigger"] == "schedule" and latest["job"] == "load" and runs(project)["total"] == 2
    project.smelt("run", "load", check=0)
    assert runs(project)["runs"][0]["trigger"] == "cli"
    # a dry run is no run
    project.smelt("run", "--dry-run", "load", check=0)
    assert runs(project)["total"] == 3
    assert json.loads(project.smelt("runs", "show", runs(project)["runs"][2]["run_id"], "--format", "json",
                                    check=0).stdout)["trigger"] == "schedule"
