"""Helpers of the gx adapter's e2e tests: a project with GX installed once per module, test data, psql loading."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import conftest
from tool_support import ToolProject

DATA = Path(__file__).resolve().parent / "data" / "gx"

# What the built-in `gx` utility should install (told to the lead for host/src/hub/builtin.c);
# the test projects say it explicitly so they do not depend on the catalog's copy.
GX_PIP_URL = "great-expectations[postgresql]>=1.3,<2 pandas<3 sqlalchemy<2.1"


GX_VARS = {"GX_ANALYTICS_ENABLED": "False"}  # GX analytics off


def tool_env(extra=None):
    """conftest.tool_env() with GX analytics off."""
    return conftest.tool_env({**GX_VARS, **(extra or {})})


def project_yml(extra_plugins=""):
    return f"""\
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
{extra_plugins}  utilities:
  - name: gx
    pip_url: {GX_PIP_URL}
    config:
      data_docs: true
"""


class GxProject(ToolProject):
    """A project folder with tap-csv, target-sqlite and gx installed (once)."""

    def __init__(self, root):
        super().__init__(root, GX_VARS)
        (self.root / "quality").mkdir(exist_ok=True)
        self.write_yml()

    def write_yml(self, extra_plugins=""):
        (self.root / "smelt.yml").write_text(project_yml(extra_plugins))

    def install(self):
        return super().install("gx", timeout=1200)

    def use_orders(self, csv_name):
        """Puts a CSV in place as data/orders.csv and drops the warehouse, so the next run loads it afresh."""
        shutil.copy(DATA / csv_name, self.root / "data" / "orders.csv")
        shutil.rmtree(self.root / "output", ignore_errors=True)
        (self.root / "output").mkdir()

    def suite(self, name, text):
        path = self.root / "quality" / name
        path.write_text(text)
        return path

    def clear_suites(self):
        for f in (self.root / "quality").iterdir():
            f.unlink()


def orders_suite(source):
    return (DATA / "orders.yml").read_text().format(source=source)


def psql(pg, sql, dbname=None, **kw):
    env = dict(os.environ, PGPASSWORD=pg["password"])
    return subprocess.run(["psql", "-v", "ON_ERROR_STOP=1", "-h", pg["host"], "-p", str(pg["port"]), "-U", pg["user"],
                           "-d", dbname or pg["dbname"], "-c", sql], env=env, check=True, capture_output=True,
                          text=True, **kw)


def load_orders_pg(pg, dbname, csv_name):
    """(Re)creates the orders table in dbname from a test CSV."""
    psql(pg, "DROP TABLE IF EXISTS orders; CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer, "
             "amount numeric(10,2), status text, ordered_at timestamptz)", dbname)
    psql(pg, f"\\copy orders FROM '{DATA / csv_name}' WITH (FORMAT csv, HEADER true)", dbname)
