"""OpenLineage events of a dbt block, with real dbt-sqlite from PyPI (one test; it installs dbt, so it is
in E2E_REAL_TOOLS and runs in the sanitizer build): tap-csv -> target-sqlite -> dbt-sqlite:build gives
the models dbt built as outputs (their documented columns, from dbt's manifest.json) with the sources and
models they read as inputs, and dbt's tests as dataQualityAssertions of the models they test, each event
valid against the OpenLineage JSON Schema (test_lineage.validate_event)."""
import shutil
import uuid

from conftest import Smelt
from dbt_support import DATA, PIP_URLS, install, tool_env
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
"""


def test_dbt_block_reports_models_inputs_and_tests(tmp_path):
    root = tmp_path
    (root / "smelt.yml").write_text(PROJECT)
    shutil.copytree(DATA / "csv", root / "data")
    (root / "transform" / "models").mkdir(parents=True)
    for f in ("customer_totals.sql", "big_customers.sql", "schema.yml"):
        shutil.copy(DATA / "models" / f, root / "transform" / "models" / f)
    smelt = Smelt(root)
    install(smelt)
    run_id = str(uuid.uuid4())
    proc = smelt("run", "--run-id", run_id, "tap-csv", "target-sqlite", "dbt-sqlite:build", env=tool_env())
    assert proc.returncode == 0, proc.stderr

    class P:
        pass

    p = P()
    p.root = root
    events = file_events(p, run_id)
    assert [(e["eventType"], e["job"]["name"]) for e in events] == [
        ("START", "tap-csv target-sqlite dbt-sqlite:build"),
        ("START", "tap-csv target-sqlite dbt-sqlite:build.tap-csv target-sqlite"),
        ("COMPLETE", "tap-csv target-sqlite dbt-sqlite:build.tap-csv target-sqlite"),
        ("START", "tap-csv target-sqlite dbt-sqlite:build.dbt-sqlite:build"),
        ("COMPLETE", "tap-csv target-sqlite dbt-sqlite:build.dbt-sqlite:build"),
        ("COMPLETE", "tap-csv target-sqlite dbt-sqlite:build"),
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
