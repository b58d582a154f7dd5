"""The soda adapter (issue 15): Soda Core 4.x data contracts (real, from PyPI, installed by `smelt
install soda`) verify the warehouse that tap-csv + target-sqlite load, and a PostgreSQL table, through
`smelt run ... soda:verify` and `smelt invoke soda:verify`.  The adapter is built out of tree against
the SDK installed in the stage (cmake/OutOfTree.cmake); host/src names no soda (test_host_names_no_tool)."""
import json
import os
import subprocess

import pytest

from conftest import Smelt
from tool_support import ToolProject

GOOD = "id,customer_id,amount\n1,10,12.5\n2,11,40.0\n3,12,7.25\n"
BAD = GOOD + "4,,4242.5\n"   # a planted bad row: no customer, an amount over 1000

CONTRACT = """\
dataset: orders
columns:
  - name: id
    checks:
      - missing:
  - name: customer_id
    checks:
      - missing:
          name: every order has a customer
  - name: amount
    checks:
      - invalid:
          name: amount between 0 and 1000
          valid_min: 0
          valid_max: 1000
checks:
  - row_count:
"""

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
  loaders:
  - name: target-sqlite
    variant: smelt
    config:
      database: output/warehouse.db
{extra}  utilities:
  - name: soda
    variant: smelt
"""


class SodaProject(ToolProject):
    def __init__(self, root):
        super().__init__(root, {"SODA_CORE_TELEMETRY_ENABLED": "false"})
        (self.root / "quality" / "soda").mkdir(parents=True)
        self.write_yml()

    def write_yml(self, extra=""):
        (self.root / "smelt.yml").write_text(PROJECT.format(extra=extra))

    def orders(self, text):
        (self.root / "data" / "orders.csv").write_text(text)
        db = self.root / "output" / "warehouse.db"
        if db.exists():
            db.unlink()


@pytest.fixture(scope="module")
def soda(tmp_path_factory):
    p = SodaProject(tmp_path_factory.mktemp("soda-project"))
    p.install("soda")
    return p


@pytest.fixture
def sp(soda):
    soda.write_yml()
    for f in (soda.root / "quality" / "soda").iterdir():
        f.unlink()
    (soda.root / "quality" / "soda" / "orders.yml").write_text(CONTRACT)
    return soda


def out(proc):
    return proc.stdout + proc.stderr


def test_definition_ships_with_the_adapter():
    listed = json.loads(Smelt(os.getcwd())("adapters", "list", "--format", "json").stdout)
    soda = {a["name"]: a for a in listed["adapters"]}["soda"]
    assert soda["category"] == "quality" and soda["namespaces"] == ["soda"]
    assert os.path.exists(os.path.join(os.path.dirname(soda["path"]), "soda", "definitions",
                                       "utilities--soda--smelt.json"))


def test_run_passes_on_good_data(sp):
    sp.orders(GOOD)
    proc = sp.smelt("run", "--verbose", "tap-csv", "target-sqlite", "soda:verify")
    assert proc.returncode == 0, out(proc)
    assert "Contract orders (quality/soda/orders.yml, dataset smelt/smelt/main/orders): 4 of 4 checks passed" \
        in proc.stderr, proc.stderr
    assert "Verification passed: all 4 checks passed" in proc.stderr


def test_run_fails_naming_the_check_and_its_observed_value(sp):
    sp.orders(BAD)
    proc = sp.smelt("run", "tap-csv", "target-sqlite", "soda:verify")
    assert proc.returncode == 1, out(proc)
    text = out(proc)
    assert "soda:verify: 2 of 4 checks failed, first: orders: every order has a customer " \
           "(missing_count: 1, missing_percent: 25.0)" in text, text
    assert "Traceback" not in text
    logs = "".join(p.read_text() for p in (sp.root / ".smelt" / "logs").glob("*/run.log"))
    assert "orders: amount between 0 and 1000: fail" in logs, logs


def test_invoke_format_json_gives_each_check(sp):
    sp.orders(BAD)
    sp.smelt("run", "tap-csv", "target-sqlite", check=0)
    proc = sp.smelt("invoke", "soda:verify", "orders", "--format", "json")
    assert proc.returncode == 1, out(proc)
    (contract,) = json.loads(proc.stdout)["contracts"]
    checks = {c["name"]: c for c in contract["checks"]}
    assert checks["every order has a customer"]["outcome"] == "failed"
    assert checks["every order has a customer"]["diagnostics"]["missing_count"] == 1
    assert checks["amount between 0 and 1000"]["outcome"] == "failed"
    assert checks["amount between 0 and 1000"]["diagnostics"]["invalid_count"] == 1
    assert checks["No missing values"]["outcome"] == "passed"
    assert checks["Row count meets expected threshold"]["observed"] == "row_count: 4"
    # good data: exit 0
    sp.orders(GOOD)
    sp.smelt("run", "tap-csv", "target-sqlite", check=0)
    proc = sp.smelt("invoke", "soda:verify", "--format=json")
    assert proc.returncode == 0, out(proc)
    assert all(c["outcome"] == "passed" for c in json.loads(proc.stdout)["contracts"][0]["checks"])


def test_unknown_contract_is_a_clear_error(sp):
    proc = sp.smelt("invoke", "soda:verify", "nosuch")
    assert proc.returncode == 2
    assert "no contract 'nosuch' in quality/soda/ (looked for nosuch.yml and nosuch.yaml)" in proc.stderr
    # a table the warehouse does not have, and a contract that is not YAML: each named, exit 2, no traceback
    sp.orders(GOOD)
    sp.smelt("run", "tap-csv", "target-sqlite", check=0)
    (sp.root / "quality" / "soda" / "nosuch.yml").write_text("dataset: nosuch\nchecks:\n  - row_count:\n")
    (sp.root / "quality" / "soda" / "broken.yml").write_text("dataset: orders\ncolumns: [\n")
    proc = sp.smelt("invoke", "soda:verify")
    assert proc.returncode == 2, out(proc)
    assert "Contract nosuch (quality/soda/nosuch.yml): ERROR table 'nosuch' not found in the sqlite file " \
           f"{sp.root}/output/warehouse.db" in proc.stdout, out(proc)
    assert f'in "{sp.root}/quality/soda/broken.yml", line 3, column 1' in proc.stdout
    assert "Contract orders (quality/soda/orders.yml, dataset smelt/smelt/main/orders): 4 of 4 checks passed" \
        in proc.stdout
    assert "Traceback" not in out(proc)


def psql(pg, sql, dbname=None):
    subprocess.run(["psql", "-v", "ON_ERROR_STOP=1", "-h", pg["host"], "-p", str(pg["port"]), "-U", pg["user"],
                    "-d", dbname or pg["dbname"], "-c", sql], env=dict(os.environ, PGPASSWORD=pg["password"]),
                   check=True, capture_output=True, text=True)


def test_postgres_password_only_through_the_environment(sp, postgres):
    pg = postgres
    psql(pg, "DROP DATABASE IF EXISTS soda_e2e")
    psql(pg, "CREATE DATABASE soda_e2e")
    psql(pg, "CREATE TABLE orders (id integer, customer_id integer, amount numeric(10,2)); "
             "INSERT INTO orders VALUES (1, 10, 12.5), (2, NULL, 4242.5)", "soda_e2e")
    sp.write_yml(f"""\
  - name: warehouse-pg
    namespace: target_postgres
    executable: target-postgres
    settings:
    - {{name: host}}
    - {{name: port, kind: integer}}
    - {{name: user}}
    - {{name: password, kind: password}}
    - {{name: database}}
    - {{name: default_target_schema}}
    config:
      host: {pg["host"]}
      port: {pg["port"]}
      user: {pg["user"]}
      database: soda_e2e
      default_target_schema: public
""")
    secret = {"WAREHOUSE_PG_PASSWORD": pg["password"], "SODA_SOURCE": "warehouse-pg"}
    proc = sp.smelt("invoke", "soda:verify", env=secret)
    assert proc.returncode == 1, out(proc)
    assert "FAIL  orders: every order has a customer: missing_count: 1, missing_percent: 50.0" in proc.stdout, out(proc)
    assert "dataset smelt/soda_e2e/public/orders" in proc.stdout
    assert pg["password"] not in out(proc)
    for f in sp.root.joinpath(".smelt").rglob("*"):
        if f.is_file() and "venv" not in f.parts and f.suffix != ".db":
            assert pg["password"] not in f.read_text(errors="replace"), f


def test_duckdb_warehouse(sp):
    # a DuckDB file like target-duckdb writes (schema from default_target_schema), made with the duckdb
    # module of Soda's own venv (the test venv has none)
    py = next(sp.root.joinpath(".smelt").rglob("venv/bin/python"))
    (sp.root / "output").mkdir(exist_ok=True)
    subprocess.run([str(py), "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                    "c.execute('create schema if not exists tap_csv'); "
                    "c.execute('create or replace table tap_csv.orders (id int, customer_id int, amount double)'); "
                    "c.execute('insert into tap_csv.orders values (1, 10, 12.5), (2, 11, 40.0), (3, 12, -1.0)')",
                    str(sp.root / "output" / "wh.duckdb")], check=True)
    sp.write_yml("""\
  - name: target-duckdb
    namespace: target_duckdb
    executable: target-duckdb
    settings:
    - {name: filepath}
    - {name: default_target_schema}
    config:
      filepath: output/wh.duckdb
      default_target_schema: tap_csv
""")
    proc = sp.smelt("invoke", "soda:verify", env={"SODA_SOURCE": "target-duckdb"})
    assert proc.returncode == 1, out(proc)
    assert "Contract orders (quality/soda/orders.yml, dataset smelt/wh/tap_csv/orders): 3 of 4 checks passed" \
        in proc.stdout, out(proc)
    assert "FAIL  orders: amount between 0 and 1000: invalid_count: 1" in proc.stdout
