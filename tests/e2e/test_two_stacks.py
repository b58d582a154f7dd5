"""One project, two stacks (issue 15): examples/demo runs the same CSV files through its default stack
(tap-csv -> target-sqlite -> dbt-sqlite -> Great Expectations) and through its second stack in
examples/demo/duckdb (tap-csv -> target-duckdb -> dbt-duckdb -> Soda), all real tools from PyPI installed
by smelt.  Both stacks load the same rows, build the same revenue model, and each quality tool fails the
run on the same planted bad row, naming its check."""
import json
import shutil
import sqlite3
import subprocess

import pytest

import conftest
from conftest import SOURCE, Smelt

DEMO = SOURCE / "examples" / "demo"
# Valid for every dbt test (known customer, known status, new id) but a negative amount: the GX suite's
# expect_column_values_to_be_between(amount, 0, 10000) and the Soda contract's "amount between 0 and 10000".
BAD_ROW = "41,2,-15.00,paid,2024-06-30T09:00:00Z\n"


def env():
    return conftest.tool_env({"SODA_CORE_TELEMETRY_ENABLED": "false"})


def out(proc):
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A copy of examples/demo whose two stacks have each run their daily job once on the shipped data."""
    root = tmp_path_factory.mktemp("two-stacks") / "demo"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns(".smelt", "target", "logs", "*.db", "*.duckdb"))
    runs = {}
    for stack, where in (("sqlite", root), ("duckdb", root / "duckdb")):
        proc = Smelt(where)("run", "daily", env=env(), timeout=2400)
        assert proc.returncode == 0, f"{stack} stack: smelt run daily failed\n{out(proc)}"
        runs[stack] = proc
    return root, runs


def sqlite_rows(root, sql):
    with sqlite3.connect(root / "output" / "warehouse.db") as db:
        return [tuple(r) for r in db.execute(sql).fetchall()]


def duckdb_rows(root, sql):
    """Rows of the DuckDB warehouse, read with the duckdb module of the dbt-duckdb venv (read-only: the
    test venv has no duckdb, and no writer holds the file between runs)."""
    stack = root / "duckdb"
    py = stack / ".smelt" / "transformers" / "dbt-duckdb" / "venv" / "bin" / "python"
    proc = subprocess.run([str(py), "-c",
                           "import duckdb, json, sys\n"
                           "con = duckdb.connect(sys.argv[1], read_only=True)\n"
                           "print(json.dumps(con.execute(sys.argv[2]).fetchall(), default=float))",
                           str(stack / "output" / "warehouse.duckdb"), sql],
                          capture_output=True, text=True, check=True)
    return [tuple(r) for r in json.loads(proc.stdout)]


COUNTS = "select 'customers', count(*) from customers union all select 'orders', count(*) from orders"
REVENUE = "select country, customers, orders, cast(revenue as double) from revenue_by_country order by country"


def csv_rows(root, name):
    return len((root / "data" / f"{name}.csv").read_text().splitlines()) - 1


def test_both_stacks_ran_their_own_tools(demo):
    _, runs = demo
    for stack, blocks in (("sqlite", ("tap-csv target-sqlite", "dbt-sqlite:build", "gx:validate")),
                          ("duckdb", ("tap-csv target-duckdb", "dbt-duckdb:build", "soda:verify"))):
        table = [line.split() for line in runs[stack].stderr.splitlines() if line.startswith(" ")]
        for block in blocks:
            words = block.split()
            assert any(row[:len(words) + 1] == words + ["ok"] for row in table), out(runs[stack])
    assert "13 checks: 13 passed" in runs["sqlite"].stderr       # the GX suites of quality/
    assert "12 checks: 12 passed" in runs["duckdb"].stderr       # the Soda contracts of duckdb/quality/soda/


def test_same_rows_per_table(demo):
    root, _ = demo
    want = [("customers", csv_rows(root, "customers")), ("orders", csv_rows(root, "orders"))]
    assert want == [("customers", 5), ("orders", 40)]
    assert sqlite_rows(root, COUNTS) == want
    assert duckdb_rows(root, COUNTS) == want


def test_same_revenue_model(demo):
    root, _ = demo
    sqlite = [(c, n, o, round(r, 2)) for c, n, o, r in sqlite_rows(root, REVENUE)]
    duckdb = [(c, n, o, round(r, 2)) for c, n, o, r in duckdb_rows(root, REVENUE)]
    assert sqlite == duckdb
    assert [c for c, *_ in sqlite] == ["FI", "GB", "NL", "US"]
    assert sum(r for *_, r in sqlite) == pytest.approx(3006.73)


def test_each_quality_tool_catches_the_same_bad_row(demo):
    root, _ = demo
    with open(root / "data" / "orders.csv", "a") as f:
        f.write(BAD_ROW)
    # the orders stream is incremental (replication_key id): each stack loads row 41 only, then checks
    gx = Smelt(root)("run", "tap-csv", "target-sqlite", "gx:validate", env=env(), timeout=1200)
    soda = Smelt(root / "duckdb")("run", "tap-csv", "target-duckdb", "soda:verify", env=env(), timeout=1200)
    assert gx.returncode == 1, out(gx)
    assert soda.returncode == 1, out(soda)
    # each names its check and the bad value it saw, on the line that fails the run
    assert "block 2/2 'gx:validate' failed: gx:validate: 1 of 13 expectations failed, first: orders: " \
           "expect_column_values_to_be_between(column=amount, min_value=0, max_value=10000) " \
           "(1 of 41 values unexpected (2.4%): [-15.0])" in gx.stderr, out(gx)
    assert "block 2/2 'soda:verify' failed: soda:verify: 1 of 12 checks failed, first: orders: " \
           "amount between 0 and 10000 (invalid_count: 1," in soda.stderr, out(soda)
    for proc in (gx, soda):
        assert "Traceback" not in out(proc)
    # the bad row is the one row both warehouses gained
    bad = "select id, customer_id, amount from orders where amount < 0"
    assert sqlite_rows(root, bad) == duckdb_rows(root, bad) == [(41, 2, -15.0)]
    assert sqlite_rows(root, COUNTS) == duckdb_rows(root, COUNTS) == [("customers", 5), ("orders", 41)]
