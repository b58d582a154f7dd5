"""dbt-duckdb after target-duckdb (jwills), both from PyPI with the same DuckDB pinned: the model is
built in the DuckDB file the loader wrote, from the sources the adapter found."""
import shutil
import subprocess

import pytest
import yaml

from conftest import Smelt
from dbt_support import DATA, DUCKDB, PIP_URLS, install, lock_from_hub, result_lines, tool_env

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
      - entity: customers
        path: data/customers.csv
        keys: [id]
      - entity: orders
        path: data/orders.csv
        keys: [id]
  loaders:
  - name: target-duckdb
    variant: jwills
    pip_url: target-duckdb~=0.8 {DUCKDB}
    config:
      filepath: $MELTANO_PROJECT_ROOT/output/warehouse.duckdb
      default_target_schema: tap_csv
  transformers:
  - name: dbt-duckdb
    variant: jwills
    pip_url: {PIP_URLS["duckdb"]}
    config:
      path: output/warehouse.duckdb
"""


@pytest.fixture(scope="module")
def proj(tmp_path_factory):
    root = tmp_path_factory.mktemp("dbt-duckdb")
    (root / "smelt.yml").write_text(PROJECT)
    shutil.copytree(DATA / "csv", root / "data")
    (root / "output").mkdir()
    smelt = Smelt(root)
    lock_from_hub(smelt, "target-duckdb", "dbt-duckdb")
    assert (root / "plugins" / "transformers" / "dbt-duckdb--jwills.lock").is_file()
    install(smelt)
    return root, smelt


def duckdb_versions(root):
    return {name: sorted(p.name for p in (root / ".smelt" / kind / name / "venv").glob("lib/python*/site-packages/duckdb-*.dist-info"))
            for kind, name in (("loaders", "target-duckdb"), ("transformers", "dbt-duckdb"))}


def test_same_duckdb_in_both_venvs(proj):
    root, _ = proj
    versions = duckdb_versions(root)
    assert versions["target-duckdb"] == versions["dbt-duckdb"] == [f"duckdb-{DUCKDB.split('==')[1]}.dist-info"]


def test_el_then_dbt_run_on_duckdb(proj):
    root, smelt = proj
    (root / "transform" / "models").mkdir(parents=True)
    for f in ("customer_totals.sql", "schema.yml"):
        shutil.copy(DATA / "models" / f, root / "transform" / "models" / f)
    proc = smelt("run", "--verbose", "tap-csv", "target-duckdb", "dbt-duckdb:run", "dbt-duckdb:test", env=tool_env())
    assert proc.returncode == 0, proc.stderr

    sources = yaml.safe_load((root / "transform" / "models" / "sources.yml").read_text())["sources"]
    assert [(s["name"], s["schema"], sorted(t["name"] for t in s["tables"])) for s in sources] == \
        [("tap_csv", "tap_csv", ["customers", "orders"])]
    profile = yaml.safe_load(smelt("invoke", "dbt-duckdb:profile", check=0).stdout)["smelt"]["outputs"]["dev"]
    assert profile["type"] == "duckdb" and profile["path"] == str(root / "output" / "warehouse.duckdb")
    assert profile["schema"] == "main"

    # read the model back with the DuckDB of the dbt venv, read-only (no writer holds the file now)
    py = root / ".smelt" / "transformers" / "dbt-duckdb" / "venv" / "bin" / "python"
    out = subprocess.run([str(py), "-c",
                          "import duckdb, json, sys\n"
                          "con = duckdb.connect(sys.argv[1], read_only=True)\n"
                          "rows = con.execute('select name, n_orders, cast(total as double) "
                          "from main.customer_totals order by customer_id').fetchall()\n"
                          "print(json.dumps(rows))",
                          str(root / "output" / "warehouse.duckdb")],
                         capture_output=True, text=True, check=True)
    assert yaml.safe_load(out.stdout) == [["Ada", 2, 15.0], ["Grace", 2, 25.0], ["Linus", 1, 7.25]]
    lines = result_lines(proc.stderr)
    assert any(".customer_totals: success" in line for line in lines), proc.stderr
    assert any(".unique_customer_totals_customer_id." in line and ": pass" in line for line in lines), proc.stderr
