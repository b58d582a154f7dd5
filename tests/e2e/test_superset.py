"""The superset adapter with real Apache Superset from PyPI (installed by `smelt install`): the
warehouse that tap-csv -> target-sqlite -> dbt-sqlite builds becomes a Superset database with one
dataset per table and model, idempotently; the server started by `smelt invoke superset:ui` answers
/health and its REST API, and a headless Chromium sees the datasets in the UI."""
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import pytest

from conftest import SMELT, Smelt, clean_env, free_port, processes_matching
from superset_support import (ADMIN_PASSWORD, ADMIN_USER, DATA, SUPERSET_PLUGIN, Browser, SupersetApi, artifacts_dir,
                              install, login_in_browser, stop_group, tool_env, wait_health)

# dbt: the range the dbt adapter's own tests install (offline-safe: dbt 1.12 needs a download while building).
DBT_PIP_URL = "dbt-core>=1.10,<1.12 dbt-sqlite>=1.10"

PROJECT = f"""\
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
      - {{entity: customers, path: data/customers.csv, keys: [id]}}
      - {{entity: orders, path: data/orders.csv, keys: [id]}}
  loaders:
  - name: target-sqlite
    variant: smelt
    config:
      database: output/warehouse.db
  transformers:
  - name: dbt-sqlite
    variant: smelt
    pip_url: {DBT_PIP_URL}
  utilities:
{SUPERSET_PLUGIN}
    config:
      admin:
        username: {ADMIN_USER}
        password: {ADMIN_PASSWORD}
        email: admin@example.com
      ui:
        workers: 1
"""

TABLES = ["customers", "orders"]                 # loaded by target-sqlite
MODELS = ["country_revenue", "customer_totals"]  # built by dbt-sqlite (a table and a view)
DATASETS = sorted(TABLES + MODELS)


def result_lines(text):
    return [line for line in text.splitlines() if line.startswith("superset ")]


def statuses(text):
    """{item: status} of the adapter's per-object result lines ('superset info: <item>: <status> ...')."""
    out = {}
    for line in result_lines(text):
        m = re.match(r"superset \w+: ((?:database|dataset|user) [^:]+): (\w+)", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


@pytest.fixture(scope="module")
def proj(tmp_path_factory):
    """One project with dbt-sqlite and Superset installed, shared by the tests of this file (in order)."""
    root = tmp_path_factory.mktemp("superset")
    (root / "smelt.yml").write_text(PROJECT)
    shutil.copytree(DATA / "csv", root / "data")
    shutil.copytree(DATA / "models", root / "transform" / "models")
    (root / "output").mkdir()
    smelt = Smelt(root)
    install(smelt)

    class P:
        outputs = []  # every stdout/stderr smelt printed, to check that no secret leaked

        def run(self, *args, env=None, **kw):
            proc = smelt(*args, env=tool_env(env), **kw)
            self.outputs += [proc.stdout, proc.stderr]
            return proc

    p = P()
    p.root, p.smelt = root, smelt
    p.server = None
    yield p
    stop_group(p.server)


@pytest.fixture(scope="module")
def server(proj):
    """`smelt invoke superset:ui` on a free port (the ui.port setting from the environment), stopped at the end."""
    port = free_port()
    log = open(proj.root / "ui.log", "w+")
    proc = subprocess.Popen([SMELT, "invoke", "superset:ui"], cwd=proj.root,
                            env=clean_env(tool_env({"SUPERSET_UI_PORT": str(port)})),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    proj.server = proc
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_health(base, proc, deadline_s=600) == "OK"
    except BaseException:
        stop_group(proc)
        log.seek(0)
        print(log.read()[-5000:])
        raise
    yield base
    stop_group(proc)
    log.close()
    proj.server = None


def test_initialize_creates_the_admin_and_a_private_secret_key(proj):
    root = proj.root
    # the project sets no secret key: smelt install (post_install) or the first use generates one
    proc = proj.run("invoke", "superset:initialize", timeout=1200)
    assert proc.returncode == 0, proc.stderr
    assert statuses(proc.stderr).get(f"user {ADMIN_USER}") == "created", proc.stderr
    # the secret key was generated once into the project's .env (0600), under the setting's env name
    env_file = root / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    lines = [line for line in env_file.read_text().splitlines() if line.startswith("SUPERSET_SECRET_KEY=")]
    assert len(lines) == 1
    key = lines[0].split("=", 1)[1].strip("'")
    assert len(key) >= 40
    # the metadata database lives under .smelt/
    assert (root / ".smelt" / "utilities" / "superset" / "superset.db").is_file()
    # settings show the key redacted; the generated config is gone with the command
    shown = proj.run("config", "superset", check=0)
    assert key not in shown.stdout
    assert not list((root / ".smelt" / "run" / "superset").glob("superset_config*.py"))


def test_run_registers_the_warehouse_tables_and_models(proj):
    root = proj.root
    proc = proj.run("run", "--verbose", "tap-csv", "target-sqlite", "dbt-sqlite:run", "superset:sync", timeout=1800)
    assert proc.returncode == 0, proc.stderr
    with sqlite3.connect(root / "output" / "warehouse.db") as db:
        names = {r[0] for r in db.execute("select name from sqlite_master where type in ('table', 'view')")}
    assert set(DATASETS) <= names
    st = statuses(proc.stderr)
    assert st.get("database warehouse") == "created", proc.stderr
    for name in DATASETS:
        assert st.get(f"dataset warehouse.main.{name}") == "created", proc.stderr
    # the results are counted in the run's table too: one row per block, after the blocks ran
    rows = [line for line in proc.stderr.splitlines() if line.startswith(" superset:sync ")]
    assert len(rows) == 1 and " ok " in rows[0], proc.stderr
    created = re.search(r": (\d+) created$", rows[0])
    assert re.search(rf"\b1 database, {len(DATASETS)} datasets\b", rows[0]) and created, rows[0]
    assert int(created.group(1)) >= len(DATASETS) + 1, rows[0]
    # the key from .env was reused, not regenerated
    assert sum(1 for line in (root / ".env").read_text().splitlines() if line.startswith("SUPERSET_SECRET_KEY=")) == 1


def test_server_api_lists_the_warehouse_and_one_dataset_per_table_and_model(proj, server):
    api = SupersetApi(server, ADMIN_USER, ADMIN_PASSWORD)
    dbs = api.list_all("/api/v1/database/")
    assert [d["database_name"] for d in dbs] == ["warehouse"]
    datasets = api.list_all("/api/v1/dataset/")
    assert sorted(d["table_name"] for d in datasets) == DATASETS
    assert {d["schema"] for d in datasets} == {"main"}
    assert {d["database"]["database_name"] for d in datasets} == {"warehouse"}
    # the columns came from the warehouse (the model's too)
    ds = next(d for d in datasets if d["table_name"] == "customer_totals")
    cols = {c["column_name"] for c in api.get(f"/api/v1/dataset/{ds['id']}")["result"]["columns"]}
    assert {"customer_id", "name", "country", "n_orders", "total"} <= cols


def test_second_sync_changes_nothing(proj, server):
    api = SupersetApi(server, ADMIN_USER, ADMIN_PASSWORD)
    before = sorted((d["id"], d["table_name"]) for d in api.list_all("/api/v1/dataset/"))
    proc = proj.run("invoke", "superset:sync", timeout=1200)
    assert proc.returncode == 0, proc.stderr
    st = statuses(proc.stderr)
    assert st.get("database warehouse") == "unchanged", proc.stderr
    assert [st.get(f"dataset warehouse.main.{n}") for n in DATASETS] == ["unchanged"] * len(DATASETS), proc.stderr
    assert "0 created, 0 updated" in proc.stderr
    assert [d["database_name"] for d in api.list_all("/api/v1/database/")] == ["warehouse"]
    assert sorted((d["id"], d["table_name"]) for d in api.list_all("/api/v1/dataset/")) == before


def test_browser_shows_the_datasets(proj, server):
    shot = artifacts_dir() / "superset-datasets.png"
    with Browser() as browser:
        login_in_browser(browser, server, ADMIN_USER, ADMIN_PASSWORD)
        browser.navigate(server + "/tablemodelview/list/")
        cond = " && ".join(f"document.body.innerText.includes({n!r})" for n in DATASETS)
        browser.wait_for(f"document.body && {cond}", deadline_s=120, what="the dataset names on the page")
        text = browser.text()
        browser.screenshot(shot)
    for name in DATASETS:
        assert name in text
    assert "warehouse" in text
    assert shot.is_file() and shot.stat().st_size > 10000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_superset_cli_runs_with_the_generated_config(proj, server):
    proc = proj.run("invoke", "superset", "fab", "list-users", timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert ADMIN_USER in proc.stdout and "admin@example.com" in proc.stdout


def test_sync_registers_a_postgres_warehouse(proj, server, postgres):
    """A loader writing to PostgreSQL: its database joins the SQLite one, with a dataset per table and
    view of every schema; the password is stored encrypted with the project's key, never printed."""
    pg = postgres
    psql = ["psql", "-h", pg["host"], "-p", str(pg["port"]), "-U", pg["user"], "-d", pg["dbname"], "-v",
            "ON_ERROR_STOP=1", "-c"]
    subprocess.run(psql + ["create schema if not exists analytics; "
                           "create table if not exists public.sales (id int primary key, amount numeric); "
                           "insert into public.sales values (1, 9.5), (2, 3) on conflict do nothing; "
                           "create or replace view analytics.big_sales as select * from public.sales where amount > 5"],
                   check=True, capture_output=True, env={**os.environ, "PGPASSWORD": pg["password"]})
    yml = proj.root / "smelt.yml"
    yml.write_text(yml.read_text().replace("  transformers:\n", f"""\
  - name: target-postgres
    namespace: target_postgres
    executable: target-postgres
    settings:
    - {{name: host}}
    - {{name: port, kind: integer}}
    - {{name: user}}
    - {{name: password, kind: password, sensitive: true}}
    - {{name: database}}
    config: {{host: {pg["host"]}, port: {pg["port"]}, user: {pg["user"]}, database: {pg["dbname"]}}}
  transformers:
""", 1))
    proc = proj.run("invoke", "superset:sync", env={"TARGET_POSTGRES_PASSWORD": pg["password"]}, timeout=1200)
    assert proc.returncode == 0, proc.stderr
    st = statuses(proc.stderr)
    assert st.get(f"database {pg['dbname']}") == "created", proc.stderr
    assert st.get(f"dataset {pg['dbname']}.public.sales") == "created", proc.stderr
    assert st.get(f"dataset {pg['dbname']}.analytics.big_sales") == "created", proc.stderr
    assert st.get("database warehouse") == "unchanged" and st.get("dataset warehouse.main.orders") == "unchanged"
    assert pg["password"] not in proc.stdout + proc.stderr

    api = SupersetApi(server, ADMIN_USER, ADMIN_PASSWORD)
    dbs = {d["database_name"]: d for d in api.list_all("/api/v1/database/")}
    assert sorted(dbs) == sorted(["warehouse", pg["dbname"]])
    info = api.get(f"/api/v1/database/{dbs[pg['dbname']]['id']}/connection")["result"]
    assert pg["password"] not in info["sqlalchemy_uri"] and info["sqlalchemy_uri"].startswith("postgresql")
    # the server decrypts the stored password with the same key: it can reach PostgreSQL
    schemas = api.get(f"/api/v1/database/{dbs[pg['dbname']]['id']}/schemas/")["result"]
    assert "analytics" in schemas and "public" in schemas
    names = sorted(d["table_name"] for d in api.list_all("/api/v1/dataset/"))
    assert names == sorted(DATASETS + ["sales", "big_sales"])


def test_no_secret_leaks_and_no_process_is_left(proj, server, postgres):
    root = proj.root
    key = next(line.split("=", 1)[1].strip("'") for line in (root / ".env").read_text().splitlines()
               if line.startswith("SUPERSET_SECRET_KEY="))
    for out in proj.outputs:
        assert key not in out and ADMIN_PASSWORD not in out and postgres["password"] not in out
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "venv"]
        for f in filenames:
            p = Path(dirpath) / f
            if p == root / ".env":
                continue
            data = p.read_bytes()
            assert key.encode() not in data, f"the secret key is in {p}"
    # the metadata database is private
    assert stat.S_IMODE((root / ".smelt" / "utilities" / "superset" / "superset.db").stat().st_mode) == 0o600
    # stopping the server's process group leaves nothing behind
    stop_group(proj.server)
    deadline = time.time() + 30
    while processes_matching(str(root)) and time.time() < deadline:
        time.sleep(0.5)
    assert processes_matching(str(root)) == []
