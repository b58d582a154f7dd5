"""database_uri pointing at PostgreSQL, side by side with real Meltano 4.4.1 (meltano[postgres], from
PyPI through the shared tool cache) on one PostgreSQL server started by the test (issue 16):

- Meltano runs once with that database_uri; Smelt, in another working copy with the same
  database_uri, continues from the bookmark Meltano left (read through Meltano's `state` table,
  which Smelt never writes), and `state get` agrees with Meltano's.
- While Meltano runs a pipeline (its `runs` row RUNNING, heartbeat fresh), Smelt refuses to run the
  same state id from another copy.
- Settings Meltano stored with `config set --store db` (pickled, in its plugin_settings table on the
  server) are used by Smelt with the same precedence as for Meltano's SQLite database; one that is not
  plain data is named."""
import json
import os
import pickle
import signal
import subprocess
import time
import uuid

import pytest

from conftest import FAKES, LIBEXEC, SMELT, clean_env
from meltano_support import MELTANO_ENV, meltano_fixture, native_tap_csv_yml
from test_system_db_postgres import PW, psql



meltano = meltano_fixture("meltano[postgres]==4.4.1")


def project_yml(root):
    return f"""\
default_environment: dev
project_id: 6f1c1a2e-0000-4000-8000-000000000116
send_anonymous_usage_stats: false
environments:
- name: dev
plugins:
  extractors:
{native_tap_csv_yml(root)}  - name: tap-fake
    namespace: tap_fake
    executable: {FAKES}/fake_tap.py
    capabilities: [state]
    settings: [{{name: records}}, {{name: state_every}}, {{name: mode}}]
    config: {{records: 1000, state_every: 2, mode: slow}}
  loaders:
  - name: target-jsonl
    namespace: target_jsonl
    executable: {LIBEXEC}/target-jsonl
    settings:
    - name: destination_path
    - name: do_timestamp_file
      kind: boolean
    - name: batch_note
    config:
      destination_path: {root}/out
  - name: target-fake
    namespace: target_fake
    executable: {FAKES}/fake_target.py
"""


@pytest.fixture
def copies(meltano, postgres, tmp_path):
    """Two working copies of one project, `meltano/` and `smelt/`, database_uri on one fresh database."""
    name = f"melt_{uuid.uuid4().hex[:10]}"
    psql(postgres, "postgres", f"CREATE DATABASE {name}")
    uri = f"postgresql+psycopg://postgres:{PW}@127.0.0.1:{postgres['port']}/{name}"
    roots = {}
    for tool in ("meltano", "smelt"):
        root = tmp_path / tool
        root.mkdir()
        (root / "meltano.yml").write_text(project_yml(root))
        (root / "out").mkdir()
        roots[tool] = root

    def run(tool, *args, popen=False):
        exe = [str(meltano)] if tool == "meltano" else [SMELT]
        env = clean_env({**MELTANO_ENV, "MELTANO_DATABASE_URI": uri})
        if popen:
            return subprocess.Popen([*exe, *args], cwd=roots[tool], env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, start_new_session=True)
        return subprocess.run([*exe, *args], cwd=roots[tool], env=env, capture_output=True, text=True, timeout=600)

    return {"run": run, "roots": roots, "db": name, "pg": postgres}


def out_ids(root):
    path = root / "out/people.jsonl"
    return [json.loads(line)["id"] for line in path.read_text().splitlines()] if path.exists() else []


def test_smelt_continues_from_meltanos_bookmark_in_postgres(copies):
    run, roots = copies["run"], copies["roots"]
    (roots["meltano"] / "people.csv").write_text("id,name\n1,a\n2,b\n3,c\n")
    m = run("meltano", "run", "tap-csv", "target-jsonl")
    assert m.returncode == 0, m.stderr
    assert out_ids(roots["meltano"]) == [1, 2, 3]
    meltano_row = psql(copies["pg"], copies["db"], "SELECT completed_state, partial_state FROM public.state "
                                                   "WHERE state_id = 'dev:tap-csv-to-target-jsonl'")
    assert meltano_row, "Meltano wrote no state to PostgreSQL"
    # both tools print the same state from the other copy
    m = run("meltano", "state", "get", "dev:tap-csv-to-target-jsonl")
    s = run("smelt", "state", "get", "dev:tap-csv-to-target-jsonl")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    assert json.loads(s.stdout) == json.loads(m.stdout.strip().splitlines()[-1])
    assert json.loads(s.stdout)["singer_state"]["bookmarks"]
    listed = run("smelt", "state", "list")
    assert "dev:tap-csv-to-target-jsonl" in listed.stdout
    # Smelt's copy has more rows: only those after Meltano's bookmark are extracted
    (roots["smelt"] / "people.csv").write_text("id,name\n1,a\n2,b\n3,c\n4,d\n5,e\n")
    s = run("smelt", "run", "tap-csv", "target-jsonl")
    assert s.returncode == 0, s.stderr
    assert "from Meltano's state table" in s.stderr
    assert 1 not in out_ids(roots["smelt"]) and out_ids(roots["smelt"])[-2:] == [4, 5]
    # Smelt's state is its own (newer) record; Meltano's rows are untouched and Meltano still works
    s = run("smelt", "state", "get", "dev:tap-csv-to-target-jsonl")
    assert "5" in json.dumps(json.loads(s.stdout)["singer_state"])
    assert psql(copies["pg"], copies["db"], "SELECT completed_state, partial_state FROM public.state "
                                            "WHERE state_id = 'dev:tap-csv-to-target-jsonl'") == meltano_row
    m = run("meltano", "state", "list")
    assert m.returncode == 0, m.stderr


def test_meltano_run_in_progress_refuses_smelt_run_of_the_same_state_id(copies):
    run = copies["run"]
    first = run("meltano", "run", "tap-fake", "target-fake", popen=True)
    try:
        for _ in range(600):
            rows = psql(copies["pg"], copies["db"], "SELECT count(*) FROM runs WHERE state = 'RUNNING' AND "
                                                    "job_name = 'dev:tap-fake-to-target-fake'", check=False)
            if rows and int(rows[0][0]):
                break
            assert first.poll() is None, first.communicate()
            time.sleep(0.1)
        else:
            raise AssertionError("Meltano's run never showed as RUNNING")
        s = run("smelt", "run", "tap-fake", "target-fake")
        assert s.returncode == 1
        assert "a Meltano 'dev:tap-fake-to-target-fake' pipeline is already running" in s.stderr
        assert PW not in s.stderr
    finally:
        os.killpg(first.pid, signal.SIGTERM)
        first.communicate(timeout=120)


def test_config_set_database_uri_goes_to_dotenv_and_is_never_shown(meltano, tmp_path):
    """`config set meltano database_uri` writes .env in both tools (Meltano's setting is env_specific);
    Smelt also redacts a PostgreSQL URI that holds a password in `config list` (Meltano prints it)."""
    uri = f"postgresql+psycopg://meltano:{PW}@db.example:5432/meltano"
    results = {}
    for tool, exe in (("meltano", str(meltano)), ("smelt", SMELT)):
        root = tmp_path / tool
        root.mkdir()
        (root / "meltano.yml").write_text(project_yml(root))
        proc = subprocess.run([exe, "config", "set", "meltano", "database_uri", uri], cwd=root,
                              env=clean_env(MELTANO_ENV), capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        results[tool] = (proc, (root / ".env").read_text(), (root / "meltano.yml").read_text())
    for tool, (_, dotenv, yml) in results.items():
        assert "MELTANO_DATABASE_URI=" in dotenv and PW in dotenv, (tool, dotenv)
        assert PW not in yml, tool
    proc = results["smelt"][0]
    assert PW not in proc.stdout + proc.stderr
    listed = subprocess.run([SMELT, "config", "list", "meltano"], cwd=tmp_path / "smelt", env=clean_env(),
                            capture_output=True, text=True, timeout=60)
    line = next(line for line in listed.stdout.splitlines() if line.startswith("database_uri"))
    assert "(redacted)" in line and PW not in listed.stdout


def test_settings_meltano_stored_in_postgres_are_used(copies):
    run = copies["run"]
    m = run("meltano", "config", "set", "--store", "db", "target-jsonl", "do_timestamp_file", "false")
    assert m.returncode == 0, m.stderr
    assert psql(copies["pg"], copies["db"], "SELECT namespace, name FROM public.plugin_settings") == \
        [["loaders.target-jsonl.default", "do_timestamp_file"]]
    # a value that is not plain data (a Python tuple): Meltano reads it, Smelt names it and goes on
    blob = pickle.dumps((1, 2), protocol=5).hex()
    psql(copies["pg"], copies["db"], "INSERT INTO public.plugin_settings (name, namespace, value, enabled) VALUES "
                                     f"('batch_note', 'loaders.target-jsonl.default', '\\x{blob}'::bytea, true)")
    m = run("meltano", "config", "print", "target-jsonl", "--format", "json")
    s = run("smelt", "config", "print", "target-jsonl", "--format", "json")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    theirs, mine = json.loads(m.stdout), json.loads(s.stdout)
    assert theirs["do_timestamp_file"] is mine["do_timestamp_file"] is False
    assert theirs["batch_note"] == [1, 2] and "batch_note" not in mine
    assert "setting 'batch_note' of 'loaders.target-jsonl.default' in Meltano's plugin_settings table (PostgreSQL " \
           f"at 127.0.0.1:{copies['pg']['port']}) is not plain data" in s.stderr
    assert PW not in s.stderr
    listing = run("smelt", "config", "list", "target-jsonl").stdout
    assert "do_timestamp_file [env: TARGET_JSONL_DO_TIMESTAMP_FILE] current value: false (from the system " \
           "database)" in listing
    # Smelt's own `--store db` value comes first (as in SQLite); Meltano's row is left as it was
    s = run("smelt", "config", "set", "--store", "db", "target-jsonl", "do_timestamp_file", "true")
    assert s.returncode == 0, s.stderr
    assert json.loads(run("smelt", "config", "print", "target-jsonl", "--format", "json").stdout)[
        "do_timestamp_file"] is True
    assert json.loads(run("meltano", "config", "print", "target-jsonl", "--format", "json").stdout)[
        "do_timestamp_file"] is False
    assert psql(copies["pg"], copies["db"], "SELECT plugin, name, value FROM smelt.plugin_settings") == \
        [["loaders.target-jsonl", "do_timestamp_file", "true"]]
    # Meltano 4.4.1 still works on the database Smelt shares with it
    m = run("meltano", "config", "list", "target-jsonl")
    assert m.returncode == 0, m.stderr
