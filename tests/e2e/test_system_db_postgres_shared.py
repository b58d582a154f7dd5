"""database_uri pointing at PostgreSQL (issue 16), what else two working copies (machines) of one
project share through the server besides state and run locks (test_system_db_postgres.py): the run
history of `smelt runs` (pruned from either), settings stored with `config set --store db`; and what
keeps a run from hanging on, or writing over, another machine: time limits on held locks, and a
heartbeat that notices its run lock was taken over."""
import json
import os
import signal
import sqlite3
import subprocess
import time

from test_serve import serve, wait_run  # noqa: F401 (fixture)
from test_system_db_postgres import PW, Copy, copies, db, psql, wait_running  # noqa: F401 (fixtures)

FAST = {"TAP_FAKE_MODE": "ok", "TAP_FAKE_RECORDS": "4"}


def runs(copy, *args):
    proc = copy.smelt("runs", "list", "--format", "json", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def local_history(copy):
    """Run ids in the copy's own SQLite file (none expected with PostgreSQL)."""
    path = copy.root / ".smelt/smelt.db"
    if not path.exists():
        return []
    with sqlite3.connect(path) as c:
        return [r[0] for r in c.execute("SELECT run_id FROM run_history")]


def test_run_history_is_shared_between_copies(copies, db):
    a, b = copies
    (a.root / "data/orders.csv").write_text("id,amount\n1,10\n2,20\n3,30\n")
    proc = a.smelt("run", "--run-id", "from-a", "tap-csv", "target-sqlite")
    assert proc.returncode == 0, proc.stderr
    # the other copy lists it, with its block, status and rows per stream
    listed = runs(b)
    assert listed["total"] == 1
    run = listed["runs"][0]
    assert (run["run_id"], run["status"], run["exit_code"], run["rows"], run["trigger"]) == \
        ("from-a", "success", 0, 3, "cli")
    assert run["args"] == ["tap-csv", "target-sqlite"] and run["ended_at"] >= run["started_at"]
    show = b.smelt("runs", "show", "from-a", "--format", "json")
    assert show.returncode == 0, show.stderr
    block = json.loads(show.stdout)["blocks"][0]
    assert (block["block"], block["status"], block["streams"], block["state_id"]) == \
        ("tap-csv target-sqlite", "success", {"orders": 3}, "dev:tap-csv-to-target-sqlite")
    # a failed run of the other copy is seen by the first, newest first
    proc = b.smelt("run", "--run-id", "from-b", "tap-fake", "target-fake", env={"TAP_FAKE_MODE": "crash"})
    assert proc.returncode != 0
    listed = runs(a)
    assert [r["run_id"] for r in listed["runs"]] == ["from-b", "from-a"]
    assert listed["runs"][0]["status"] == "failed" and listed["runs"][0]["error"]
    assert runs(a, "--status", "failed")["total"] == 1
    assert [r["run_id"] for r in runs(b, "--limit", "1")["runs"]] == ["from-b"]
    # nothing of it in either copy's SQLite file: it is on the server
    assert local_history(a) == local_history(b) == []
    assert sorted(r[0] for r in psql(db["pg"], db["name"], "SELECT run_id FROM smelt.run_history")) == \
        ["from-a", "from-b"]
    # a run id used by one copy is refused to the other
    proc = a.smelt("run", "--run-id", "from-b", "tap-fake", "target-fake", env=FAST)
    assert proc.returncode != 0 and "from-b" in proc.stderr
    # pruning from one copy prunes the shared history (and the run locks of its blocks)
    proc = b.smelt("runs", "prune", "--keep", "1")
    assert proc.returncode == 0, proc.stderr
    assert [r["run_id"] for r in runs(a)["runs"]] == ["from-b"]
    assert psql(db["pg"], db["name"], "SELECT count(*) FROM smelt.runs WHERE run_id LIKE 'from-a:%'") == [["0"]]
    assert a.smelt("runs", "show", "from-a").returncode != 0


def test_running_run_of_one_copy_is_listed_by_the_other(copies, db):
    a, b = copies
    first = a.popen("run", "--run-id", "slow-a", "tap-fake", "target-fake")
    try:
        wait_running(db, "dev:tap-fake-to-target-fake")
        run = runs(b)["runs"][0]
        # another machine's run is never reaped as dead by this one (its process is not ours to judge)
        assert (run["run_id"], run["status"]) == ("slow-a", "running")
        assert b.smelt("runs", "prune", "--keep", "0").returncode == 0
        assert [r["run_id"] for r in runs(a)["runs"]] == ["slow-a"]  # running runs are never pruned
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    assert runs(b)["runs"][0]["status"] == "cancelled"


def test_the_server_of_one_copy_shares_the_history(copies, db, serve):
    """`smelt serve` in copy B lists the runs of copy A, and the runs it starts are listed in copy A."""
    a, b = copies
    assert a.smelt("run", "--run-id", "from-cli", "tap-fake", "target-fake", env=FAST).returncode == 0
    s = serve(b.root, env=FAST)
    listed = s.json("GET", "/api/v1/runs")
    assert [(r["run_id"], r["status"]) for r in listed["runs"]] == [("from-cli", "success")]
    assert s.json("GET", "/api/v1/runs/from-cli")["blocks"][0]["state_id"] == "dev:tap-fake-to-target-fake"
    run_id = s.json("POST", "/api/v1/runs", {"blocks": ["tap-fake", "target-fake"]}, want=202)["run_id"]
    assert wait_run(s, run_id)["status"] == "success"
    mine = runs(a)["runs"][0]
    assert (mine["run_id"], mine["trigger"], mine["status"]) == (run_id, "api", "success")
    # a run another machine records later is listed at once (no answer kept from before it)
    assert a.smelt("run", "--run-id", "later", "tap-fake", "target-fake", env=FAST).returncode == 0
    assert s.json("GET", "/api/v1/runs")["runs"][0]["run_id"] == "later"
    assert s.json("GET", "/api/v1/runs/later")["status"] == "success"
    assert local_history(a) == local_history(b) == []


def test_settings_stored_in_the_database_are_shared(copies, db):
    a, b = copies
    for c in copies:  # records: a defined setting, unset in meltano.yml (which comes before the database)
        yml = (c.root / "meltano.yml").read_text().replace("records: 1000, ", "")
        (c.root / "meltano.yml").write_text(yml.replace(
            "    capabilities: [state]\n",
            "    capabilities: [state]\n    settings: [{name: records, kind: integer}, {name: state_every}, "
            "{name: mode}]\n"))
    proc = a.smelt("config", "set", "--store", "db", "tap-fake", "records", "7")
    assert proc.returncode == 0, proc.stderr
    stored = psql(db["pg"], db["name"], "SELECT plugin, name, value FROM smelt.plugin_settings")
    assert stored == [["extractors.tap-fake", "records", "7"]]
    got = b.smelt("config", "print", "tap-fake", "--format", "json")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["records"] == 7
    listing = b.smelt("config", "list", "tap-fake").stdout
    assert "records" in listing and "(from the system database)" in listing
    # a run of the other copy uses it
    proc = b.smelt("run", "tap-fake", "target-fake", env={"TAP_FAKE_MODE": "ok"})
    assert proc.returncode == 0, proc.stderr
    got = json.loads(a.smelt("state", "get", "dev:tap-fake-to-target-fake").stdout)
    assert got == {"singer_state": {"bookmarks": {"things": {"id": 7}}}}  # 7 records
    # nothing in the copy's SQLite file
    with sqlite3.connect(a.root / ".smelt/smelt.db") as c:
        assert c.execute("SELECT count(*) FROM plugin_settings").fetchone()[0] == 0
    # unset from the other copy
    assert b.smelt("config", "unset", "--store", "db", "tap-fake", "records").returncode == 0
    assert json.loads(a.smelt("config", "print", "tap-fake", "--format", "json").stdout).get("records") is None


def test_a_held_lock_fails_the_command_instead_of_hanging_it(copies, db):
    a, _ = copies
    assert a.smelt("state", "set", "--force", "dev:x", '{"singer_state": {"n": 1}}').returncode == 0
    pg = db["pg"]
    # another session (a stuck client, a migration) holds smelt's state table
    holder = subprocess.Popen(["psql", "-h", pg["host"], "-p", str(pg["port"]), "-U", pg["user"], "-d", db["name"],
                               "-c", "BEGIN; LOCK TABLE smelt.state IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(90);"],
                              env={**os.environ, "PGPASSWORD": pg["password"], "PGAPPNAME": "holder"},
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if psql(pg, db["name"], "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                                    "WHERE c.relname = 'state' AND l.mode = 'AccessExclusiveLock'") == [["1"]]:
                break
            time.sleep(0.1)
        t0 = time.monotonic()
        proc = a.smelt("state", "set", "--force", "dev:x", '{"singer_state": {"n": 2}}')
        elapsed = time.monotonic() - t0
        assert proc.returncode != 0
        assert elapsed < 30, elapsed
        assert f"PostgreSQL at 127.0.0.1:{pg['port']}" in proc.stderr
        assert "lock timeout" in proc.stderr and "another session held a lock" in proc.stderr
        assert PW not in proc.stderr + proc.stdout
    finally:
        holder.kill()
        holder.wait()
        psql(pg, db["name"], "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'holder'")
    assert json.loads(a.smelt("state", "get", "dev:x").stdout) == {"singer_state": {"n": 1}}


def test_a_run_whose_lock_was_taken_over_stops_without_writing_state(copies, db):
    """Copy A's run is frozen (a paused VM, a network partition) long enough for copy B to find it stale and
    run the same state id; when A comes back, its heartbeat finds the lock taken and A stops, its state unsaved."""
    a, b = copies
    state_id = "dev:tap-fake-to-target-fake"
    first = a.popen("run", "--run-id", "frozen", "tap-fake", "target-fake")
    try:
        wait_running(db, state_id)
        time.sleep(1.5)
        os.killpg(first.pid, signal.SIGSTOP)
        # 6 minutes without a heartbeat, as the server's clock sees it
        psql(db["pg"], db["name"], "UPDATE smelt.runs SET last_heartbeat_at = now() - interval '6 minutes' "
                                   "WHERE run_id = 'frozen:1'")
        frozen_at = json.loads(b.smelt("state", "get", state_id).stdout)["singer_state"]["bookmarks"]["things"]["id"]
        proc = b.smelt("run", "tap-fake", "target-fake", env=FAST)
        assert proc.returncode == 0, proc.stderr
        b_state = json.loads(b.smelt("state", "get", state_id).stdout)
        assert b_state == {"singer_state": {"bookmarks": {"things": {"id": frozen_at + 4}}}}
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    _, err = first.communicate(timeout=60)
    assert first.returncode != 0
    assert f"the run lock of '{state_id}' was taken over by another process" in err
    assert "No heartbeat recorded for 5 minutes" in err
    assert PW not in err
    # B's state stands: the run that lost its lock saved nothing after it came back
    assert json.loads(b.smelt("state", "get", state_id).stdout) == b_state
    rows = psql(db["pg"], db["name"], "SELECT status FROM smelt.run_history WHERE run_id = 'frozen'")
    assert rows[0][0] in ("failed", "cancelled")
    # its lock row keeps the reason the other machine gave
    assert psql(db["pg"], db["name"], "SELECT status, error FROM smelt.runs WHERE run_id = 'frozen:1'") == \
        [["FAIL", "No heartbeat recorded for 5 minutes. The process was likely killed unceremoniously."]]
