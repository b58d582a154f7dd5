"""Unbounded and hostile inputs, secrets in errors, file modes, and keyless records (issue 18,
items 5, 6, 7, 8 and 14), through the real smelt binary.

No test here measures time: a command that hangs or reads forever is stopped by the subprocess
timeout and fails the test; the assertions are on what a user sees (exit code, message, rows,
saved state, file modes and bytes)."""
import json
import os
import sqlite3
import stat
import sys

import pytest

from conftest import FAKES

HANG_GUARD_S = 60  # a command that should fail at once; a hang or an endless read fails the test


@pytest.fixture(autouse=True)
def usual_umask():
    """The umask of most shells: files 0644 and folders 0755 unless smelt asks for less."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def fake_project(project, extra_setting=""):
    project.write(f"""\
default_environment: dev
environments: [{{name: dev}}]
plugins:
  extractors:
  - name: tap-fake
    namespace: tap_fake
    executable: {FAKES}/fake_tap.py
    capabilities: [state]
    settings:
    - {{name: records, kind: integer}}
{extra_setting}    config: {{records: 3, state_every: 5}}
  loaders:
  - name: target-fake
    namespace: target_fake
    executable: {FAKES}/fake_target.py
""")


# --- item 5: .env that is not a regular file ----------------------------------------------

@pytest.mark.parametrize("kind", ["dev_zero", "fifo"])
def test_dotenv_device_or_fifo_fails_at_once(project, kind):
    fake_project(project)
    env_path = project.root / ".env"
    if kind == "dev_zero":
        os.symlink("/dev/zero", env_path)  # used to read 2 GB, then abort
    else:
        os.mkfifo(env_path)  # used to wait forever for a writer
    proc = project.smelt("state", "list", timeout=HANG_GUARD_S)
    assert proc.returncode == 1
    assert f"'{env_path}' is not a regular file" in proc.stderr


def test_env_file_option_fifo_fails_at_once(project):
    fake_project(project)
    os.mkfifo(project.root / "settings.fifo")
    proc = project.smelt("--env-file", "settings.fifo", "config", "tap-fake", "list", timeout=HANG_GUARD_S)
    assert proc.returncode == 1
    assert "settings.fifo' is not a regular file" in proc.stderr


def test_dotenv_over_the_cap_is_refused(project):
    fake_project(project)
    (project.root / ".env").write_text("A=1\n" + "#" * (1024 * 1024) + "\n")
    os.chmod(project.root / ".env", 0o600)
    proc = project.smelt("config", "tap-fake", "list", timeout=HANG_GUARD_S)
    assert proc.returncode == 1
    assert ".env' is larger than 1 MiB, the limit for this file" in proc.stderr


def test_project_file_fifo_fails_at_once(project):
    fake_project(project)
    project.write("include_paths: [extra.yml]\n" + (project.root / "smelt.yml").read_text())
    os.mkfifo(project.root / "extra.yml")
    proc = project.smelt("config", "tap-fake", "list", timeout=HANG_GUARD_S)
    assert proc.returncode == 1
    assert "extra.yml' is not a regular file" in proc.stderr


def test_catalog_extra_fifo_fails_at_once(project):
    data = project.root / "data"
    data.mkdir()
    (data / "a.csv").write_text("id\n1\n")
    os.mkfifo(project.root / "catalog.json")
    project.write("""\
default_environment: dev
environments: [{name: dev}]
plugins:
  extractors:
  - name: tap-csv
    variant: smelt
    catalog: catalog.json
    config:
      files:
      - {entity: a, path: data/a.csv}
  loaders:
  - name: target-jsonl
    variant: smelt
""")
    proc = project.smelt("run", "tap-csv", "target-jsonl", timeout=HANG_GUARD_S)
    assert proc.returncode == 1
    assert "catalog.json' of 'tap-csv' is not a regular file of at most 64 MiB" in proc.stderr


# --- item 6: an unterminated quote in .env -------------------------------------------------

def test_dotenv_unterminated_quote_names_the_line(project):
    fake_project(project)
    env_path = project.root / ".env"
    env_path.write_text("TAP_FAKE_RECORDS=4\n# a comment\nOTHER='never closed\nTAP_FAKE_STATE_EVERY=2\n")
    os.chmod(env_path, 0o600)
    proc = project.smelt("config", "tap-fake", "list")
    assert proc.returncode == 1
    assert f"{env_path}:3: unterminated quoted value of 'OTHER'" in proc.stderr
    # the file is not rewritten by a set either: nothing is lost
    before = env_path.read_bytes()
    proc = project.smelt("config", "tap-fake", "set", "records", "5", "--store", "dotenv")
    assert proc.returncode == 1
    assert env_path.read_bytes() == before


# --- item 7: a sensitive setting's invalid value ----------------------------------------------

SENTINEL = "S3NT1NEL-pin-7f3a9c"


def test_sensitive_invalid_value_appears_nowhere(project):
    fake_project(project, "    - {name: pin, kind: integer, sensitive: true}\n")
    env_path = project.root / ".env"
    env_path.write_text(f"TAP_FAKE_PIN={SENTINEL}\n")
    os.chmod(env_path, 0o600)
    outputs = []
    run = project.smelt("run", "tap-fake", "target-fake")
    assert run.returncode == 1
    assert "'pin' must be an integer; the value is not shown as the setting is sensitive" in run.stderr
    outputs.append(run)
    listing = project.smelt("config", "tap-fake", "list")
    assert listing.returncode == 1
    outputs.append(listing)
    setting = project.smelt("config", "tap-fake", "set", "pin", SENTINEL)
    assert setting.returncode == 1
    assert "'pin' must be an integer" in setting.stderr
    outputs.append(setting)
    for proc in outputs:
        assert SENTINEL not in proc.stdout
        assert SENTINEL not in proc.stderr
    logs = [p for p in (project.root / ".smelt/logs").rglob("*") if p.is_file()]
    assert logs, "the run wrote no log"
    sysfiles = logs + [p for p in (project.root / ".smelt").glob("smelt.db*")]
    assert any(p.name == "smelt.db" for p in sysfiles)
    for path in sysfiles:
        assert SENTINEL.encode() not in path.read_bytes(), path
    # the run and its error are recorded (so the check above looked at the right place)
    db = sqlite3.connect(project.root / ".smelt/smelt.db")
    errors = [r[0] for r in db.execute("SELECT error FROM runs")]
    db.close()
    assert any(e and "'pin' must be an integer" in e for e in errors), errors


# --- item 8: modes of the system folder and a world-readable .env ---------------------------

def test_init_makes_the_system_folder_private(project):
    project.smelt("init", "proj", check=0)
    root = project.root / "proj"
    assert mode(root / ".smelt") == 0o700
    assert mode(root / ".smelt/smelt.db") == 0o600
    assert mode(root / ".env") == 0o600
    for path in (root / ".smelt").iterdir():
        assert mode(path) & 0o077 == 0, path


def test_run_files_are_private_and_old_modes_are_fixed(project):
    fake_project(project)
    project.smelt("run", "tap-fake", "target-fake", check=0)
    sysdir = project.root / ".smelt"
    assert mode(sysdir) == 0o700
    files = [p for p in sysdir.rglob("*") if p.is_file()]
    assert any(p.name == "run.log" for p in files)
    for path in files:
        assert mode(path) & 0o077 == 0, path
    for path in sysdir.rglob("*"):
        if path.is_dir():
            assert mode(path) & 0o077 == 0, path
    # a project an older smelt made: 0755 folder and 0644 database are tightened when opened
    os.chmod(sysdir, 0o755)
    os.chmod(sysdir / "smelt.db", 0o644)
    project.smelt("state", "list", check=0)
    assert mode(sysdir) == 0o700
    assert mode(sysdir / "smelt.db") == 0o600


def test_catalog_cache_files_are_private(project):
    data = project.root / "data"
    data.mkdir()
    (data / "a.csv").write_text("id,v\n1,a\n")
    project.write("""\
default_environment: dev
environments: [{name: dev}]
plugins:
  extractors:
  - name: tap-csv
    variant: smelt
    config:
      files:
      - {entity: a, path: data/a.csv, keys: [id]}
  loaders:
  - name: target-jsonl
    variant: smelt
    config: {destination_path: output}
""")
    project.smelt("run", "tap-csv", "target-jsonl", check=0)
    files = [p for p in (project.root / ".smelt").rglob("*") if p.is_file()]
    assert any(p.name == "tap.discovered.json" for p in files)
    for path in files:
        assert mode(path) & 0o077 == 0, path


def test_world_readable_dotenv_gets_a_warning_not_a_chmod(project):
    fake_project(project)
    env_path = project.root / ".env"
    env_path.write_text("TAP_FAKE_RECORDS=4\n")
    os.chmod(env_path, 0o644)
    proc = project.smelt("config", "tap-fake", "list", check=0)
    assert f"'{env_path}' is readable by every user of this machine" in proc.stderr
    assert f"run 'chmod 600 {env_path}'" in proc.stderr
    assert mode(env_path) == 0o644  # the user's file is not changed behind their back
    os.chmod(env_path, 0o600)
    proc = project.smelt("config", "tap-fake", "list", check=0)
    assert "readable by every user" not in proc.stderr


# --- item 14: a RECORD without its key property --------------------------------------------

KEYED_TAP = """\
#!{python}
import json, sys
args = sys.argv[1:]
config = json.load(open(args[args.index("--config") + 1]))
state = json.load(open(args[args.index("--state") + 1])) if "--state" in args else {{}}
start = state.get("bookmarks", {{}}).get("things", {{}}).get("id", 0)
def out(m):
    sys.stdout.write(json.dumps(m) + "\\n")
out({{"type": "SCHEMA", "stream": "things", "key_properties": ["id"],
     "schema": {{"type": "object", "properties": {{"id": {{"type": ["integer", "null"]}}, "v": {{"type": "string"}}}}}}}})
bad = config.get("bad", "none")
if bad == "missing":
    out({{"type": "RECORD", "stream": "things", "record": {{"v": "no key"}}}})
elif bad == "null":
    out({{"type": "RECORD", "stream": "things", "record": {{"id": None, "v": "null key"}}}})
else:
    out({{"type": "RECORD", "stream": "things", "record": {{"id": start + 1, "v": "ok"}}}})
out({{"type": "STATE", "value": {{"bookmarks": {{"things": {{"id": start + 1}}}}}}}})
"""


def keyed_project(project, target, bad):
    tap = project.root / "keyed_tap.py"
    tap.write_text(KEYED_TAP.format(python=sys.executable))
    os.chmod(tap, 0o755)
    target_config = "{database: output/wh.db}" if target == "target-sqlite" else "{destination_path: output}"
    project.write(f"""\
default_environment: dev
environments: [{{name: dev}}]
plugins:
  extractors:
  - name: tap-keyed
    namespace: tap_keyed
    executable: {tap}
    capabilities: [state]
    config: {{bad: '{bad}'}}
  loaders:
  - name: {target}
    variant: smelt
    config: {target_config}
""")


def rows(project, target):
    if target == "target-sqlite":
        db = sqlite3.connect(project.root / "output/wh.db")
        found = db.execute("SELECT id, v FROM things ORDER BY id").fetchall()
        db.close()
        return [list(r) for r in found]
    lines = (project.root / "output/things.jsonl").read_text().splitlines()
    return [[json.loads(line)["id"], json.loads(line)["v"]] for line in lines]


@pytest.mark.parametrize("target", ["target-sqlite", "target-jsonl"])
@pytest.mark.parametrize("bad,word", [("missing", "missing"), ("null", "null")])
def test_record_without_key_property_fails_the_run(project, target, bad, word):
    (project.root / "output").mkdir()
    keyed_project(project, target, "none")
    project.smelt("run", "tap-keyed", target, check=0)
    state_id = f"dev:tap-keyed-to-{target}"
    assert json.loads(project.smelt("state", "get", state_id, check=0).stdout)["singer_state"] == \
        {"bookmarks": {"things": {"id": 1}}}
    assert rows(project, target) == [[1, "ok"]]

    keyed_project(project, target, bad)
    proc = project.smelt("run", "tap-keyed", target)
    assert proc.returncode == 1
    assert f"line 2: stream 'things': record 1: key property 'id' is {word}" in proc.stderr
    assert target in proc.stderr
    assert rows(project, target) == [[1, "ok"]]  # no keyless row, no duplicate on rerun
    assert json.loads(project.smelt("state", "get", state_id, check=0).stdout)["singer_state"] == \
        {"bookmarks": {"things": {"id": 1}}}  # the state did not advance


# --- item 5: a CSV with 100k columns ----------------------------------------------------------

def wide_csv_project(project, ncols, nrows=3, loader="target-jsonl", loader_config="{destination_path: output}"):
    data = project.root / "data"
    data.mkdir()
    with open(data / "wide.csv", "w") as f:
        f.write(",".join(f"c{i}" for i in range(ncols)) + "\n")
        for r in range(nrows):
            f.write(",".join(str(i + r) for i in range(ncols)) + "\n")
    project.write("""\
default_environment: dev
environments: [{name: dev}]
plugins:
  extractors:
  - name: tap-csv
    variant: smelt
    config:
      files:
      - {entity: wide, path: data/wide.csv, keys: [c0]}
  loaders:
  - name: LOADER
    variant: smelt
    config: LOADER_CONFIG
""".replace("LOADER_CONFIG", loader_config).replace("LOADER", loader))


def test_csv_of_100k_columns_is_loaded(project):
    wide_csv_project(project, 100000)
    # linear work takes a few seconds; the quadratic paths took far longer than this guard
    project.smelt("run", "tap-csv", "target-jsonl", timeout=240, check=0)
    lines = (project.root / "output/wide.jsonl").read_text().splitlines()
    assert len(lines) == 3
    last = json.loads(lines[2])
    assert len(last) == 100000
    assert last["c0"] == 2 and last["c99999"] == 100001


def test_csv_over_the_column_cap_is_a_clear_error(project):
    wide_csv_project(project, 100001, nrows=1)
    proc = project.smelt("run", "tap-csv", "target-jsonl", timeout=240)
    assert proc.returncode == 1
    assert "data/wide.csv:1: row has more than 100000 fields (the limit)" in proc.stderr
    assert not (project.root / "output/wide.jsonl").exists()


def test_wide_stream_into_sqlite_names_the_column_limit(project):
    wide_csv_project(project, 2500, nrows=1, loader="target-sqlite", loader_config="{database: output/wh.db}")
    proc = project.smelt("run", "tap-csv", "target-sqlite", timeout=240)
    assert proc.returncode == 1
    assert "stream 'wide': 2500 properties, more than the 2000 columns SQLite allows in table 'wide'" in proc.stderr
