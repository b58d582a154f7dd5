"""The native connectors are ordinary Singer programs: they run under the real Meltano (from PyPI) as
custom plugins and give the same rows as under smelt, and a real Python target (target-jsonl from PyPI,
installed by smelt's own installer) accepts tap-csv's output."""
import json
import os
import sqlite3
import subprocess

import pytest

from conftest import LIBEXEC, TOOL_CACHE, clean_env
from meltano_support import MELTANO_ENV, meltano_fixture, native_tap_csv_yml

CSV = 'id,name,amount,joined\n1,"Lovelace, Ada",10.5,2024-01-03T10:00:00Z\n2,"Grace ""Amazing"" Hopper",20,2024-01-05T12:30:00Z\n3,Zoë,,2024-02-11T08:15:00Z\n'


meltano = meltano_fixture("meltano>=4,<5")


def project_yml(root):
    return f"""\
version: 1
default_environment: dev
project_id: 6f1c1a2e-0000-4000-8000-000000000001
send_anonymous_usage_stats: false
environments:
- name: dev
plugins:
  extractors:
{native_tap_csv_yml(root, settings=False)}  loaders:
  - name: target-sqlite
    namespace: target_sqlite
    executable: {LIBEXEC}/target-sqlite
    config:
      database: {root}/out.db
"""


def rows(db):
    return sqlite3.connect(db).execute("SELECT id, name, amount, joined FROM people ORDER BY id").fetchall()


def test_native_connectors_under_meltano_match_smelt(meltano, tmp_path, project):
    mdir = tmp_path / "meltano-project"
    mdir.mkdir()
    (mdir / "people.csv").write_text(CSV)
    (mdir / "meltano.yml").write_text(project_yml(mdir))
    env = clean_env(MELTANO_ENV)
    proc = subprocess.run([str(meltano), "run", "tap-csv", "target-sqlite"], cwd=mdir, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    via_meltano = rows(mdir / "out.db")
    # Meltano saved the state target-sqlite emitted
    proc = subprocess.run([str(meltano), "state", "get", "dev:tap-csv-to-target-sqlite"], cwd=mdir, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["singer_state"]["bookmarks"]["people"]["replication_key_value"] == 3

    (project.root / "people.csv").write_text(CSV)
    project.write(project_yml(project.root))
    project.smelt("run", "tap-csv", "target-sqlite", check=0)
    via_smelt = rows(project.root / "out.db")
    assert via_meltano == via_smelt
    assert via_smelt == [(1, "Lovelace, Ada", 10.5, "2024-01-03T10:00:00Z"),
                         (2, 'Grace "Amazing" Hopper', 20, "2024-01-05T12:30:00Z"),
                         (3, "Zoë", None, "2024-02-11T08:15:00Z")]


def test_real_target_jsonl_accepts_tap_csv(project):
    (project.root / "people.csv").write_text(CSV)
    project.write(f"""\
default_environment: dev
environments: [{{name: dev}}]
plugins:
  extractors:
  - name: tap-csv
    variant: smelt
    config:
      files:
      - {{entity: people, path: people.csv, keys: [id], replication_key: id}}
  loaders:
  - name: target-jsonl-py
    namespace: target_jsonl
    pip_url: target-jsonl
    executable: target-jsonl
    config:
      destination_path: out
""")
    project.smelt("install", "target-jsonl-py", check=0)
    proc = project.smelt("run", "tap-csv", "target-jsonl-py", check=0)
    files = list((project.root / "out").glob("people*.jsonl"))
    assert len(files) == 1, proc.stderr
    records = [json.loads(l) for l in files[0].read_text().splitlines()]
    assert [r["id"] for r in records] == [1, 2, 3]
    assert records[1]["name"] == 'Grace "Amazing" Hopper' and records[2]["name"] == "Zoë"
    # the Python target emitted the state, and smelt saved it
    state = json.loads(project.smelt("state", "get", "dev:tap-csv-to-target-jsonl-py", check=0).stdout)
    assert state["singer_state"]["bookmarks"]["people"]["replication_key_value"] == 3
