"""OpenLineage events of dbt and quality blocks, with real dbt-sqlite and Great Expectations from PyPI
(one test: it installs both, so it is in E2E_REAL_TOOLS and runs in the sanitizer build only).
`smelt run tap-csv target-sqlite dbt-sqlite:build gx:validate` gives, for the dbt block, the models dbt
built as outputs (their documented columns, from dbt's manifest.json) with the sources and models they
read as inputs, and dbt's tests as dataQualityAssertions of the models they test; for the gx block, the
table a suite checked as an input (the same dataset the loader wrote) with each expectation as an
assertion, a failing one included (the block and the run FAIL).  Every event is valid against the
OpenLineage JSON Schema (test_lineage.validate_event)."""
import shutil
import uuid

from conftest import Smelt
from dbt_support import DATA, PIP_URLS, install
from gx_support import GX_PIP_URL, tool_env
from test_lineage import datasets, file_events, validate_event

PROJECT = f"""\
version: 1
default_environment: dev
environments: [{{name: dev}}]
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
    config: {{database: output/warehouse.db}}
  transformers:
  - name: dbt-sqlite
    variant: smelt
    pip_url: {PIP_URLS["sqlite"]}
  utilities:
  - name: gx
    variant: smelt
    pip_url: {GX_PIP_URL}
"""

SUITE = """\
source: target-sqlite
table: customers
expectations:
- expect_column_values_to_not_be_null: {column: id}
- expect_column_values_to_be_unique: {column: id}
- expect_column_values_to_be_in_set: {column: country, value_set: [GB]}
"""


def test_dbt_and_quality_blocks_report_their_datasets(tmp_path):
    root = tmp_path
    (root / "smelt.yml").write_text(PROJECT)
    shutil.copytree(DATA / "csv", root / "data")
    (root / "transform" / "models").mkdir(parents=True)
    for f in ("customer_totals.sql", "big_customers.sql", "schema.yml"):
        shutil.copy(DATA / "models" / f, root / "transform" / "models" / f)
    (root / "quality").mkdir()
    (root / "quality" / "customers.yml").write_text(SUITE)
    smelt = Smelt(root)
    install(smelt, env=tool_env())
    run_id = str(uuid.uuid4())
    proc = smelt("run", "--run-id", run_id, "tap-csv", "target-sqlite", "dbt-sqlite:build", "gx:validate",
                 env=tool_env(), timeout=1200)
    assert proc.returncode == 1, proc.stderr  # the country check fails: not every customer is in GB
    assert "expect_column_values_to_be_in_set" in proc.stderr

    class P:
        pass

    p = P()
    p.root = root
    events = file_events(p, run_id)
    job = "tap-csv target-sqlite dbt-sqlite:build gx:validate"
    assert [(e["eventType"], e["job"]["name"]) for e in events] == [
        ("START", job),
        ("START", f"{job}.tap-csv target-sqlite"), ("COMPLETE", f"{job}.tap-csv target-sqlite"),
        ("START", f"{job}.dbt-sqlite:build"), ("COMPLETE", f"{job}.dbt-sqlite:build"),
        ("START", f"{job}.gx:validate"), ("FAIL", f"{job}.gx:validate"),
        ("FAIL", job),
    ]
    dbt = validate_event(events[4])
    ns = "smelt://dbt-sqlite"
    outs, ins = datasets(dbt, "outputs"), datasets(dbt, "inputs")
    assert set(outs) == {(ns, "main.customer_totals"), (ns, "main.big_customers")}, set(outs)
    # what the models read: the loaded tables (dbt sources) and customer_totals (a ref)
    assert set(ins) == {(ns, "main.customers"), (ns, "main.orders"), (ns, "main.customer_totals")}, set(ins)
    # schema.yml documents customer_totals' columns (no types: dbt knows none without a catalog)
    assert [f["name"] for f in outs[(ns, "main.customer_totals")]["facets"]["schema"]["fields"]] == \
        ["customer_id", "n_orders"]
    # the three tests of schema.yml, as assertions on the model they test
    got = sorted((a["assertion"], a.get("column"), a["success"])
                 for a in ins[(ns, "main.customer_totals")]["inputFacets"]["dataQualityAssertions"]["assertions"])
    assert got == [("not_null", "customer_id", True), ("not_null", "n_orders", True),
                   ("unique", "customer_id", True)], got

    # the quality block: the loader's table, checked (the same dataset the EL block wrote)
    gx = events[6]
    assert gx["outputs"] == []
    assert set(datasets(gx, "inputs")) == {("smelt://target-sqlite", "customers")}
    assert ("smelt://target-sqlite", "customers") in datasets(events[2], "outputs")
    checks = gx["inputs"][0]["inputFacets"]["dataQualityAssertions"]["assertions"]
    assert [(a["assertion"], a.get("column"), a["success"]) for a in checks] == [
        ("expect_column_values_to_not_be_null", "id", True),
        ("expect_column_values_to_be_unique", "id", True),
        ("expect_column_values_to_be_in_set", "country", False)]
    assert "gx" in gx["run"]["facets"]["errorMessage"]["message"]
