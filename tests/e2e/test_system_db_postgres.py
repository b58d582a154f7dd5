"""database_uri pointing at PostgreSQL (issue 16): two working copies of one project on one
PostgreSQL server started by the test (conftest's `postgres`, 127.0.0.1) share their state, and one
run per state id is enforced across them; the password of the URI never shows.

Run locks of other machines are simulated by rows the test writes into smelt.runs (another host
name, so only their heartbeat can tell they are stale)."""
import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import uuid

import pytest

from conftest import FAKES, LIBEXEC, SMELT, clean_env, free_port

PW = "pg-secret-pw"


def psql(pg, db, sql, check=True):
    """Rows of sql (tab-separated fields) run on database db of the test's server; None when it fails
    and not check."""
    proc = subprocess.run(["psql", "-h", pg["host"], "-p", str(pg["port"]), "-U", pg["user"], "-d", db, "-At",
                           "-F", "\t", "-c", sql], capture_output=True, text=True,
                          env={**os.environ, "PGPASSWORD": pg["password"]})
    if proc.returncode and not check:
        return None
    assert proc.returncode == 0, proc.stderr
    return [line.split("\t") for line in proc.stdout.splitlines()]


@pytest.fixture
def db(postgres):
    """A fresh database on the session's PostgreSQL server; its postgresql+psycopg:// URI."""
    name = f"smelt_{uuid.uuid4().hex[:10]}"
    psql(postgres, "postgres", f"CREATE DATABASE {name}")
    return {"name": name, "pg": postgres,
            "uri": f"postgresql+psycopg://postgres:{PW}@127.0.0.1:{postgres['port']}/{name}"}


PROJECT = """\
default_environment: dev
environments: [{{name: dev}}]
plugins:
  extractors:
  - name: tap-csv
    variant: smelt
    config:
      files:
      - {{entity: orders, path: data/orders.csv, keys: [id], replication_key: id}}
  - name: tap-fake
    namespace: tap_fake
    executable: {fakes}/fake_tap.py
    capabilities: [state]
    config: {{records: 1000, state_every: 2, mode: slow}}
  loaders:
  - name: target-sqlite
    variant: smelt
    config: {{database: output/wh.db}}
  - name: target-fake
    namespace: target_fake
    executable: {fakes}/fake_target.py
"""


class Copy:
    """One working copy of the project (its own folder and .smelt/), database_uri in its .env."""

    def __init__(self, root, uri):
        self.root = root
        root.mkdir()
        (root / "meltano.yml").write_text(PROJECT.format(fakes=FAKES))
        (root / ".env").write_text(f"MELTANO_DATABASE_URI={uri}\n")
        (root / "data").mkdir()

    def smelt(self, *args, env=None):
        return subprocess.run([SMELT, *map(str, args)], cwd=self.root, env=clean_env(env), capture_output=True,
                              text=True, timeout=300)

    def popen(self, *args):
        return subprocess.Popen([SMELT, *map(str, args)], cwd=self.root, env=clean_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)

    def rows(self):
        with sqlite3.connect(self.root / "output/wh.db") as c:
            return [r[0] for r in c.execute("SELECT id FROM orders ORDER BY id")]


@pytest.fixture
def copies(db, tmp_path):
    return Copy(tmp_path / "a", db["uri"]), Copy(tmp_path / "b", db["uri"])


def wait_running(db, state_id, n=1):
    """Wait until n runs of state_id are RUNNING in smelt.runs."""
    for _ in range(300):
        got = psql(db["pg"], db["name"], f"SELECT count(*) FROM smelt.runs WHERE state_id = '{state_id}' "
                                         "AND status = 'RUNNING'", check=False)
        if got and int(got[0][0]) >= n:  # (None while smelt has not created its tables yet)
            return
        time.sleep(0.1)
    raise AssertionError(f"no RUNNING run of {state_id}")


def test_state_written_by_one_copy_is_read_by_the_other(copies, db):
    a, b = copies
    (a.root / "data/orders.csv").write_text("id,amount\n1,10\n2,20\n3,30\n")
    proc = a.smelt("run", "tap-csv", "target-sqlite")
    assert proc.returncode == 0, proc.stderr
    assert a.rows() == [1, 2, 3]
    # the state is in PostgreSQL (Smelt's own schema), not in the copy's SQLite file
    rows = psql(db["pg"], db["name"], "SELECT state_id, completed_state FROM smelt.state")
    assert rows[0][0] == "dev:tap-csv-to-target-sqlite"
    assert json.loads(rows[0][1])["singer_state"]["bookmarks"]["orders"]["replication_key_value"] == 3
    with sqlite3.connect(a.root / ".smelt/smelt.db") as c:
        assert c.execute("SELECT count(*) FROM state").fetchone()[0] == 0
    # the other copy sees it ...
    got = b.smelt("state", "get", "dev:tap-csv-to-target-sqlite")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["singer_state"]["bookmarks"]["orders"]["replication_key_value"] == 3
    listed = b.smelt("state", "list")
    assert listed.returncode == 0 and "dev:tap-csv-to-target-sqlite" in listed.stdout
    # ... and its run continues from the bookmark the first copy left: rows 1-2 are not extracted again
    (b.root / "data/orders.csv").write_text("id,amount\n1,10\n2,20\n3,30\n4,40\n5,50\n")
    proc = b.smelt("run", "tap-csv", "target-sqlite")
    assert proc.returncode == 0, proc.stderr
    assert 1 not in b.rows() and b.rows()[-2:] == [4, 5]
    got = a.smelt("state", "get", "dev:tap-csv-to-target-sqlite")
    assert json.loads(got.stdout)["singer_state"]["bookmarks"]["orders"]["replication_key_value"] == 5
    # state set / clear from one copy are seen by the other
    assert b.smelt("state", "set", "--force", "dev:x", '{"singer_state": {"bookmarks": {"t": 1}}}').returncode == 0
    assert json.loads(a.smelt("state", "get", "dev:x").stdout) == {"singer_state": {"bookmarks": {"t": 1}}}
    assert a.smelt("state", "clear", "--force", "dev:x").returncode == 0
    assert json.loads(b.smelt("state", "get", "dev:x").stdout) == {}


def test_concurrent_run_from_the_other_copy_is_refused(copies, db):
    a, b = copies
    state_id = "dev:tap-fake-to-target-fake"
    first = a.popen("run", "tap-fake", "target-fake")
    try:
        wait_running(db, state_id)
        proc = b.smelt("run", "tap-fake", "target-fake")
        assert proc.returncode == 1
        assert f"another '{state_id}' pipeline is already running" in proc.stderr
        assert socket.gethostname() in proc.stderr  # names the machine holding the lock
        # the first run's smelt is alive on this machine: wait for it to end, not for a staleness
        assert f"smelt process {first.pid} on this machine); wait for it to end" in proc.stderr, proc.stderr
        # another state id is not blocked
        other = b.smelt("run", "--state-id-suffix", "other", "tap-csv", "target-sqlite",
                        env={"TAP_CSV_FILES": "[]"})
        assert "already running" not in other.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    # once the first run ended, the lock is free
    proc = b.smelt("run", "tap-fake", "target-fake", env={"TAP_FAKE_MODE": "ok", "TAP_FAKE_RECORDS": "4"})
    assert proc.returncode == 0, proc.stderr
    statuses = psql(db["pg"], db["name"], f"SELECT status FROM smelt.runs WHERE state_id = '{state_id}' ORDER BY id")
    assert [s[0] for s in statuses][-1] == "SUCCESS" and "RUNNING" not in [s[0] for s in statuses]


def test_killed_run_releases_its_lock(copies, db):
    a, b = copies
    state_id = "dev:tap-fake-to-target-fake"
    first = a.popen("run", "tap-fake", "target-fake")
    wait_running(db, state_id)
    os.killpg(first.pid, signal.SIGKILL)  # smelt and its plugins, as an OOM killer or a lost worker would
    first.communicate(timeout=60)
    proc = b.smelt("run", "tap-fake", "target-fake", env={"TAP_FAKE_MODE": "ok", "TAP_FAKE_RECORDS": "4"})
    assert proc.returncode == 0, proc.stderr
    assert "which is gone: marked failed, its lock released" in proc.stderr
    rows = psql(db["pg"], db["name"], f"SELECT status, error FROM smelt.runs WHERE state_id = '{state_id}' ORDER BY id")
    assert rows[0][0] == "FAIL" and "is gone" in rows[0][1]
    assert rows[1][0] == "SUCCESS"


def test_run_of_another_machine_holds_the_lock_until_its_heartbeat_is_stale(copies, db):
    a, b = copies
    state_id = "dev:tap-fake-to-target-fake"
    env = {"TAP_FAKE_MODE": "ok", "TAP_FAKE_RECORDS": "4"}
    assert a.smelt("run", "tap-fake", "target-fake", env=env).returncode == 0  # creates the tables
    psql(db["pg"], db["name"],
         "INSERT INTO smelt.runs (run_id, state_id, name, status, last_heartbeat_at, host, host_key, pid, pid_start) "
         f"VALUES ('r-worker-2', '{state_id}', 'tap-fake target-fake', 'RUNNING', now() - interval '4 minutes', "
         "'worker-2', 'other-boot/pid:[1]', 1, 1)")
    proc = b.smelt("run", "tap-fake", "target-fake", env=env)
    assert proc.returncode == 1
    assert "already running (run r-worker-2 on worker-2" in proc.stderr
    psql(db["pg"], db["name"], "UPDATE smelt.runs SET last_heartbeat_at = now() - interval '6 minutes' "
                               "WHERE run_id = 'r-worker-2'")
    proc = b.smelt("run", "tap-fake", "target-fake", env=env)
    assert proc.returncode == 0, proc.stderr
    rows = psql(db["pg"], db["name"], "SELECT status, error FROM smelt.runs WHERE run_id = 'r-worker-2'")
    assert rows == [["FAIL", "No heartbeat recorded for 5 minutes. The process was likely killed unceremoniously."]]


def test_heartbeats_are_written_while_running(copies, db):
    a, _ = copies
    state_id = "dev:tap-fake-to-target-fake"
    first = a.popen("run", "tap-fake", "target-fake")
    try:
        wait_running(db, state_id)
        beat = psql(db["pg"], db["name"], "SELECT last_heartbeat_at FROM smelt.runs WHERE status = 'RUNNING'")[0][0]
        time.sleep(2.5)
        later = psql(db["pg"], db["name"], "SELECT last_heartbeat_at FROM smelt.runs WHERE status = 'RUNNING'")[0][0]
        assert later > beat
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)


def test_connection_errors_name_the_server_never_the_password(tmp_path, postgres):
    port = free_port()  # nothing listens there
    c = Copy(tmp_path / "c", f"postgresql://postgres:{PW}@127.0.0.1:{port}/smelt")
    for args in (("state", "list"), ("run", "tap-fake", "target-fake")):
        proc = c.smelt(*args)
        assert proc.returncode != 0
        assert f"cannot connect to the system database (database_uri) at 127.0.0.1:{port}" in proc.stderr
        assert PW not in proc.stderr + proc.stdout
    # a database that does not exist: the server's message, still without the password
    c = Copy(tmp_path / "d", f"postgres://postgres:{PW}@127.0.0.1:{postgres['port']}/no_such_db")
    proc = c.smelt("state", "list")
    assert proc.returncode != 0
    assert f"127.0.0.1:{postgres['port']}" in proc.stderr and "no_such_db" in proc.stderr
    assert PW not in proc.stderr


def test_a_password_libpq_cannot_decode_never_shows(tmp_path):
    """libpq quotes a userinfo it cannot percent-decode as written (%00, or a '%' not followed by two hex
    digits): the message names the server, never the password, decoded or not."""
    port = free_port()
    for i, pw in enumerate(("Zq9%00Kx7w", "Zq9%41%zzKx7w", "Zq9%zz%41Kx7w")):
        c = Copy(tmp_path / f"c{i}", f"postgresql://postgres:{pw}@127.0.0.1:{port}/smelt")
        proc = c.smelt("state", "list")
        assert proc.returncode != 0
        assert f"cannot connect to the system database (database_uri) at 127.0.0.1:{port}" in proc.stderr
        for part in ("Zq9", "Kx7w"):
            assert part not in proc.stderr + proc.stdout


def test_unsupported_database_uri_is_refused(tmp_path):
    c = Copy(tmp_path / "c", f"mysql://root:{PW}@127.0.0.1/meltano")
    proc = c.smelt("state", "list")
    assert proc.returncode != 0
    assert "database_uri: 'mysql' databases are not supported" in proc.stderr
    assert PW not in proc.stderr


def test_commands_that_never_touch_the_database_do_not_load_libpq(tmp_path, db):
    """A missing libpq (SMELT_LIBPQ names no library) only matters to commands that use the database; reading
    settings (which may be stored there with --store db) says so once and goes on with the others."""
    c = Copy(tmp_path / "c", db["uri"])
    env = {"SMELT_LIBPQ": "/nonexistent/libpq.so.5"}
    assert c.smelt("--version", env=env).returncode == 0
    proc = c.smelt("config", "list", "tap-csv", env=env)
    assert proc.returncode == 0 and "files" in proc.stdout
    assert proc.stderr.count("cannot load libpq") == 1 and PW not in proc.stderr
    proc = c.smelt("state", "list", env=env)
    assert proc.returncode != 0 and "cannot load libpq" in proc.stderr and PW not in proc.stderr


def test_connection_lost_during_a_run_is_opened_again(copies, db):
    a, _ = copies
    state_id = "dev:tap-fake-to-target-fake"
    first = a.popen("run", "tap-fake", "target-fake")
    wait_running(db, state_id)
    time.sleep(1)
    # what a server restart or a network cut does to smelt's session
    killed = psql(db["pg"], db["name"], "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                        f"WHERE application_name = 'smelt' AND datname = '{db['name']}'")
    assert int(killed[0][0]) >= 1  # the run's session (and the one its settings were read with)
    beat = psql(db["pg"], db["name"], "SELECT last_heartbeat_at FROM smelt.runs WHERE status = 'RUNNING'")[0][0]
    time.sleep(3)
    later = psql(db["pg"], db["name"], "SELECT last_heartbeat_at FROM smelt.runs WHERE status = 'RUNNING'")[0][0]
    first.send_signal(signal.SIGTERM)
    _, err = first.communicate(timeout=60)
    assert later > beat, err
    assert PW not in err
    # the state committed after the reconnection is there
    got = a.smelt("state", "get", state_id)
    assert json.loads(got.stdout)["singer_state"]["bookmarks"]["things"]["id"] >= 10


def test_another_programs_state_table_is_left_alone(copies, db):
    """A shared database may hold an application's own `state` and `runs` tables: they are not Meltano's."""
    a, _ = copies
    psql(db["pg"], db["name"], "CREATE TABLE public.state (id int, state_id text, name text); "
                               "INSERT INTO public.state VALUES (1, 'dev:tap-fake-to-target-fake', 'x'); "
                               "CREATE TABLE public.runs (job_name text, state text)")
    env = {"TAP_FAKE_MODE": "ok", "TAP_FAKE_RECORDS": "4"}
    proc = a.smelt("run", "tap-fake", "target-fake", env=env)
    assert proc.returncode == 0, proc.stderr
    listed = a.smelt("state", "list")
    assert listed.returncode == 0 and listed.stdout.split() == ["dev:tap-fake-to-target-fake"], listed.stderr
    got = a.smelt("state", "get", "dev:tap-fake-to-target-fake")
    assert json.loads(got.stdout) == {"singer_state": {"bookmarks": {"things": {"id": 4}}}}
    assert psql(db["pg"], db["name"], "SELECT * FROM public.state") == [["1", "dev:tap-fake-to-target-fake", "x"]]
