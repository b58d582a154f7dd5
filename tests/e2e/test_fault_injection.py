"""Fault injection in the style of SQLite's tests (issue 18, "Habits"): tests/support/faultinject.so,
preloaded into smelt only (not its taps and targets), fails the Nth write, fsync, rename or allocation,
and N walks upward through an edit and through runs until a run reaches no fault.  After every fault:

- smelt exits with a clear error, not a crash: no signal (an allocation failure ends in xmalloc's
  "fatal: out of memory" and exit status 128, like git), no sanitizer report, and an error message;
- the project file (and `.env`, for a secret) is byte-identical to the old one when the edit failed,
  or the new one when it succeeded (never half, no temporary file left beside it), and no message
  shows the secret;
- the system database `.smelt/smelt.db` passes `PRAGMA integrity_check`;
- the saved state is never ahead of what the target emitted (and committed, for target-sqlite),
  and a run that exits 0 saved its last state.

Registered in the plain build only (tests/e2e/CMakeLists.txt): the preload library cannot share the
process with AddressSanitizer.  N is walked one by one when a kind has few calls, else at evenly
spread points (always including the first ten), so the file runs in about two minutes."""
import json
import re
import shutil
import sqlite3
import subprocess

import pytest
import yaml

from conftest import BUILD, FAKES, SMELT, Smelt, clean_env

SHIM = BUILD / "tests" / "support" / "faultinject.so"
KINDS = ("write", "fsync", "rename", "malloc")
EXTRA_STEPS = 30  # calls vary a little between runs: how far past the counted total the walk may go


def faulted(smelt, args, spec, log):
    """Run smelt with SMELT_FAULT=spec; return (process, whether the fault was reached).  Output is
    decoded with backslash escapes, so bytes that are not UTF-8 (garbage in a message) show."""
    log.unlink(missing_ok=True)
    env = clean_env({"LD_PRELOAD": str(SHIM), "SMELT_FAULT": spec, "SMELT_FAULT_PROCESS": "smelt",
                     "SMELT_FAULT_LOG": str(log)})
    proc = subprocess.run([SMELT, *args], cwd=smelt.cwd, env=env, capture_output=True, text=True,
                          errors="backslashreplace", timeout=120)
    text = log.read_text() if log.exists() else ""
    return proc, text.startswith("fault ") or "\nfault " in text


def count_calls(smelt, args, kind, log):
    """How many calls of kind smelt makes for args (N=0 counts and fails nothing)."""
    proc, _ = faulted(smelt, args, f"{kind}:0", log)
    assert proc.returncode == 0, f"smelt {' '.join(args)} fails without a fault:\n{proc.stderr}"
    found = re.search(rf"^calls {kind} (\d+) ", log.read_text(), re.M)
    assert found, f"the fault library did not load into smelt ({SHIM}): {log.read_text()!r}"
    return int(found.group(1))


def points(total, budget):
    """The N to try for a kind with total calls: all of them, or the first ten and evenly spread
    points up to total.  The walk then goes on past total until no fault is reached."""
    if total <= budget:
        return list(range(1, total + 1))
    step = (total - 10) / (budget - 10)
    return sorted(set(list(range(1, 11)) + [10 + round(step * i) for i in range(1, budget - 10 + 1)]))


def walk(smelt, args, kind, budget, log, prepare, check, sticky=False):
    """Prepare a fresh copy, inject the fault at each N, check what is left; stop at the first run
    that reaches no fault (which must then succeed).  Returns how many faults were injected."""
    prepare()
    total = count_calls(smelt, args, kind, log)
    injected = 0
    todo = points(total, budget)
    n_max = total + EXTRA_STEPS
    i = 0
    while True:
        n = todo[i] if i < len(todo) else (todo[-1] + 1 if todo else 1)
        if i >= len(todo):
            todo.append(n)
        i += 1
        assert n <= n_max, f"{kind}: the fault is still reached at call {n}, {total} calls were counted"
        prepare()
        spec = f"{kind}:{n}{'+' if sticky else ''}"
        proc, hit = faulted(smelt, args, spec, log)
        where = f"SMELT_FAULT={spec} smelt {' '.join(args)}: exit {proc.returncode}\nstderr:\n{proc.stderr[-3000:]}"
        assert_clean_exit(proc, kind, where)
        check(proc, where)
        if not hit:
            assert proc.returncode == 0, f"no fault was reached, yet smelt failed: {where}"
            return injected
        injected += 1


def assert_clean_exit(proc, kind, where):
    assert "Sanitizer" not in proc.stderr and "runtime error:" not in proc.stderr, where
    assert "\\x" not in proc.stderr, f"smelt printed bytes that are not text: {where}"
    # xmalloc() (host/src/util/strbuf.c) ends smelt with "fatal: out of memory" and exit 128, like git's
    # die(): no signal may kill smelt, abort() included
    assert proc.returncode >= 0, f"smelt was killed by signal {-proc.returncode}: {where}"
    if proc.returncode == 128:
        assert kind == "malloc" and "smelt: fatal: out of memory" in proc.stderr, where
    if proc.returncode != 0:
        assert re.search(r"error|fatal|failed|cannot|could not", proc.stderr, re.I), \
            f"smelt failed without saying why: {where}"


def assert_db_whole(root, where):
    db = root / ".smelt" / "smelt.db"
    if db.exists():
        with sqlite3.connect(db) as con:
            assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)], where


def saved_state(smelt, state_id):
    proc = smelt("state", "get", state_id)  # no fault: a plain read
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    return json.loads(proc.stdout).get("singer_state")


# ---- an edit: `smelt config set` on a project with comments, flow style and several plugins ----------

EDIT_PROJECT = """\
# Smelt project under fault injection: comments, flow style, several plugins
version: 1
default_environment: dev
environments:
- name: dev
- {name: prod, config: {plugins: {extractors: [{name: tap-b, config: {limit: 5}}]}}}
plugins:
  extractors: [{name: tap-a, namespace: tap_a, executable: tap-a, config: {p: 1}}, {name: tap-b, namespace: tap_b, executable: tap-b, config: {q: two, r: [1, 2]}}, {name: tap-c, namespace: tap_c, executable: tap-c}]
  loaders:
  - name: target-z   # block style, with a comment
    namespace: target_z
    executable: target-z
    config:
      path: out   # keep me
"""


@pytest.mark.parametrize("kind", KINDS)
def test_edit_leaves_old_or_new_project_file(tmp_path, kind):
    root = tmp_path / "p"
    log = tmp_path / "fault.log"
    smelt = Smelt(root)
    args = ("config", "set", "tap-a", "records", "5")

    def prepare():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir()
        (root / "smelt.yml").write_text(EDIT_PROJECT)

    # the edit without a fault: every other node kept, the new key added
    prepare()
    smelt(*args, check=0)
    new = (root / "smelt.yml").read_bytes()
    want = yaml.safe_load(EDIT_PROJECT)
    got = yaml.safe_load(new)
    assert got["plugins"]["extractors"][0]["config"].pop("records") in ("5", 5)
    assert got == want, "the edit itself loses or changes nodes (issue 18 #1)"
    old = EDIT_PROJECT.encode()

    def check(proc, where):
        text = (root / "smelt.yml").read_bytes()
        if proc.returncode == 0:
            assert text == new, f"smelt reported success but the file is not the edited one: {where}"
        else:
            assert text == old, f"a failed edit changed the project file: {where}\nfile:\n{text.decode()}"
        assert sorted(p.name for p in root.iterdir() if p.name.startswith("smelt.yml")) == ["smelt.yml"], \
            f"a temporary file was left beside smelt.yml: {where}"
        assert_db_whole(root, where)

    injected = walk(smelt, args, kind, 300, log, prepare, check)
    if kind in ("write", "rename", "malloc"):
        assert injected > 0, f"no {kind} fault was ever reached during the edit"


SECRET_PROJECT = """\
default_environment: dev
environments: [{name: dev}]
plugins:
  extractors:
  - name: tap-a
    namespace: tap_a
    executable: tap-a
    settings: [{name: password, kind: password}, {name: user}]
    config: {user: me}
"""
SECRET_DOTENV = "# secrets\nOTHER=1\nTAP_A_TOKEN=\"quoted value\"\n"
SECRET = "s3cr$t-value"


@pytest.mark.parametrize("kind", ("write", "rename", "malloc"))
def test_secret_edit_leaves_old_or_new_dotenv(tmp_path, kind):
    """`config set` of a password goes to .env: after a fault .env is the old or the new file, smelt.yml
    is untouched, and no message shows the secret."""
    root = tmp_path / "p"
    log = tmp_path / "fault.log"
    smelt = Smelt(root)
    args = ("config", "set", "tap-a", "password", SECRET)

    def prepare():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir()
        (root / "smelt.yml").write_text(SECRET_PROJECT)
        (root / ".env").write_text(SECRET_DOTENV)

    prepare()
    smelt(*args, check=0)
    new = (root / ".env").read_bytes()
    assert new == SECRET_DOTENV.encode() + f"TAP_A_PASSWORD='{SECRET}'\n".encode()

    def check(proc, where):
        env = (root / ".env").read_bytes()
        if proc.returncode == 0:
            assert env == new, f"smelt reported success but .env is not the edited one: {where}"
        else:
            assert env == SECRET_DOTENV.encode(), f"a failed edit changed .env: {where}\n.env:\n{env.decode()}"
        assert (root / "smelt.yml").read_text() == SECRET_PROJECT, where
        assert not [p.name for p in root.iterdir() if ".tmp" in p.name], f"a temporary file was left: {where}"
        assert SECRET not in proc.stdout + proc.stderr, f"the secret was printed: {where}"

    walk(smelt, args, kind, 100, log, prepare, check)


# ---- a run: tap-csv -> target-sqlite (native connectors) -------------------------------------------

CSV_PROJECT = """\
default_environment: dev
environments: [{name: dev}]
plugins:
  extractors:
  - name: tap-csv
    variant: smelt
    config:
      files:
      - {entity: orders, path: data/orders.csv, keys: [id], replication_key: id}
  loaders:
  - name: target-sqlite
    variant: smelt
    config: {database: out.db}
"""
CSV_ROWS = 5


def csv_prepare(root):
    def prepare():
        shutil.rmtree(root, ignore_errors=True)
        (root / "data").mkdir(parents=True)
        (root / "data/orders.csv").write_text("id,amount\n" + "".join(f"{i},{i * 10}\n" for i in range(1, CSV_ROWS + 1)))
        (root / "smelt.yml").write_text(CSV_PROJECT)
    return prepare


def csv_committed(root):
    """The ids target-sqlite committed (empty when it made no table)."""
    db = root / "out.db"
    if not db.exists():
        return []
    with sqlite3.connect(db) as con:
        try:
            return [r[0] for r in con.execute("SELECT id FROM orders ORDER BY id")]
        except sqlite3.OperationalError:
            return []


@pytest.mark.parametrize("kind,sticky,budget", [("write", False, 80), ("write", True, 30), ("fsync", False, 30),
                                                ("rename", False, 30), ("malloc", False, 80)])
def test_csv_run_never_saves_state_ahead(tmp_path, kind, sticky, budget):
    root = tmp_path / "p"
    log = tmp_path / "fault.log"
    smelt = Smelt(root)
    prepare = csv_prepare(root)

    def check(proc, where):
        assert_db_whole(root, where)
        state = saved_state(smelt, "dev:tap-csv-to-target-sqlite")
        ids = csv_committed(root)
        if state is not None:
            mark = state["bookmarks"]["orders"]["replication_key_value"]
            assert ids and mark <= max(ids), f"state {state} is ahead of the rows committed {ids}: {where}"
        if proc.returncode == 0:
            assert ids == list(range(1, CSV_ROWS + 1)), f"success, but rows are {ids}: {where}"
            assert state and state["bookmarks"]["orders"]["replication_key_value"] == CSV_ROWS, \
                f"success, but the saved state is {state}: {where}"

    walk(smelt, ("run", "tap-csv", "target-sqlite"), kind, budget, log, prepare, check, sticky=sticky)


# ---- a run: the fake tap and target, with a burst of states ----------------------------------------

FAKE_RECORDS = 30


def fake_prepare(root):
    def prepare():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        (root / "smelt.yml").write_text(f"""\
default_environment: dev
environments: [{{name: dev}}]
plugins:
  extractors:
  - name: tap-fake
    namespace: tap_fake
    executable: {FAKES}/fake_tap.py
    capabilities: [state]
    config: {{records: {FAKE_RECORDS}, state_every: 1}}
  loaders:
  - name: target-fake
    namespace: target_fake
    executable: {FAKES}/fake_target.py
""")
    return prepare


@pytest.mark.parametrize("kind,budget", [("write", 80), ("fsync", 30), ("rename", 30), ("malloc", 60)])
def test_state_burst_never_saves_state_ahead(tmp_path, kind, budget):
    root = tmp_path / "p"
    log = tmp_path / "fault.log"
    smelt = Smelt(root)

    def check(proc, where):
        assert_db_whole(root, where)
        state = saved_state(smelt, "dev:tap-fake-to-target-fake")
        if state is not None:
            # the target emits {"bookmarks": {"things": {"id": i}}} for i = 1..FAKE_RECORDS, in order
            mark = state["bookmarks"]["things"]["id"]
            assert 1 <= mark <= FAKE_RECORDS, f"state {state} was never emitted: {where}"
        if proc.returncode == 0:
            assert state == {"bookmarks": {"things": {"id": FAKE_RECORDS}}}, \
                f"success, but the saved state is {state}: {where}"

    walk(smelt, ("run", "tap-fake", "target-fake"), kind, budget, log, fake_prepare(root), check)


def test_fault_library_fails_only_the_call_asked_for(tmp_path):
    """The harness itself: write:1 fails smelt's first write with ENOSPC and is logged; write:0 fails
    nothing; a child process (here the fake tap, a Python program) is never affected."""
    root = tmp_path / "p"
    log = tmp_path / "fault.log"
    smelt = Smelt(root)
    csv_prepare(root)()
    assert count_calls(smelt, ("run", "tap-csv", "target-sqlite"), "write", log) > 0
    csv_prepare(root)()
    proc, hit = faulted(smelt, ("run", "tap-csv", "target-sqlite"), "write:1+", log)
    assert hit and proc.returncode != 0
    assert "No space left on device" in proc.stderr or "disk" in proc.stderr.lower() or "full" in proc.stderr.lower(), \
        proc.stderr
    # children: the taps and targets run under the same LD_PRELOAD and must not count or fail
    fake_prepare(root)()
    proc, hit = faulted(smelt, ("run", "tap-fake", "target-fake"), "malloc:0", log)
    assert proc.returncode == 0
    counted = [line for line in log.read_text().splitlines() if line.startswith("calls")]
    assert len(counted) == 1, counted  # smelt alone, not the two Python programs it started


def test_out_of_memory_is_reported_as_such(tmp_path):
    """Issue 18 (fault-injection findings 2, 3, 5): an allocation failure while reading the project
    says so; never "cannot parse YAML" for a valid file, an abort() without a message, or an
    unfilled error buffer."""
    root = tmp_path / "p"
    log = tmp_path / "fault.log"
    smelt = Smelt(root)
    args = ("config", "list", "tap-a")

    def prepare():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir()
        (root / "smelt.yml").write_text(EDIT_PROJECT)

    def check(proc, where):
        if proc.returncode != 0:
            assert "cannot parse YAML" not in proc.stderr, where
            assert re.search(r"out of memory|Cannot allocate memory", proc.stderr), where

    assert walk(smelt, args, "malloc", 200, log, prepare, check) > 0
