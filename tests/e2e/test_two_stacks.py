"""One project, two stacks (issue 15): examples/demo runs the same CSV files through its default stack
(tap-csv -> target-sqlite -> dbt-sqlite -> Great Expectations, with `smelt run`) and through its second
stack in examples/demo/duckdb (tap-csv -> target-duckdb -> dbt-duckdb -> Soda, with the job run by
Dagster from the code location `smelt schedule export dagster` writes), all real tools from PyPI
installed by smelt.  Both stacks load the same rows, build the same revenue model, and each quality tool
fails its stack's run on the same planted bad row, naming its check: `smelt run` with its error line,
the Dagster run with smelt's exit code and that line.  The DuckDB stack's analysis tool, Evidence, builds
its page over the DuckDB file, and a headless Chromium sees on it the revenue the SQLite stack's model
holds (screenshot in <build>/test-artifacts/evidence/two-stacks.png)."""
import json
import shutil
import sqlite3
import subprocess
import time
import urllib.request

import pytest

import conftest
from conftest import SMELT, SOURCE, Smelt, clean_env, free_port
from superset_support import Browser, stop_group
from ui_support import artifacts_dir

DEMO = SOURCE / "examples" / "demo"
# Valid for every dbt test (known customer, known status, new id) but a negative amount: the GX suite's
# expect_column_values_to_be_between(amount, 0, 10000) and the Soda contract's "amount between 0 and 10000".
BAD_ROW = "41,2,-15.00,paid,2024-06-30T09:00:00Z\n"


def env():
    # npm's cache beside uv's: `smelt install` of the DuckDB stack runs Evidence's npm ci
    return conftest.tool_env({"SODA_CORE_TELEMETRY_ENABLED": "false",
                              "npm_config_cache": str(conftest.TOOL_CACHE / "npm")})


def out(proc):
    return proc.stdout + proc.stderr


DAILY_OP = "tap_csv_target_duckdb_dbt_duckdb_build_soda_verify"   # the one task of duckdb/'s daily job


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A copy of examples/demo whose two stacks have each run their daily job once on the shipped data:
    the default stack with `smelt run daily`, the DuckDB stack through Dagster."""
    root = tmp_path_factory.mktemp("two-stacks") / "demo"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns(".smelt", "target", "logs", "*.db", "*.duckdb",
                                                              "orchestrate"))
    runs, seconds = {}, {}
    started = time.monotonic()
    proc = Smelt(root)("run", "daily", env=env(), timeout=2400)
    assert proc.returncode == 0, f"sqlite stack: smelt run daily failed\n{out(proc)}"
    runs["sqlite"], seconds["sqlite: install dbt, gx + smelt run daily"] = proc, time.monotonic() - started

    duck = Smelt(root / "duckdb")
    started = time.monotonic()
    proc = duck("install", env=env(), timeout=3600)   # target-duckdb, dbt-duckdb, soda, evidence and dagster
    assert proc.returncode == 0, f"duckdb stack: smelt install failed\n{out(proc)}"
    seconds["duckdb: smelt install (5 tools)"] = time.monotonic() - started
    proc = duck("schedule", "export", "dagster", env=env())
    assert proc.returncode == 0, out(proc)
    started = time.monotonic()
    proc = duck("invoke", "dagster:execute", "daily", env=env(), timeout=2400)
    assert proc.returncode == 0, f"duckdb stack: dagster:execute daily failed\n{out(proc)[-6000:]}"
    runs["duckdb"], seconds["duckdb: dagster:execute daily"] = proc, time.monotonic() - started
    print("\n" + "; ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))
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
        # smelt's summary table (the DuckDB stack's smelt ran in Dagster's op, its output in the op's stdout)
        table = [line.split() for line in out(runs[stack]).splitlines() if line.startswith(" ")]
        for block in blocks:
            words = block.split()
            assert any(row[:len(words) + 1] == words + ["ok"] for row in table), out(runs[stack])[-6000:]
    assert "13 checks: 13 passed" in runs["sqlite"].stderr       # the GX suites of quality/
    assert "12 checks: 12 passed" in out(runs["duckdb"])         # the Soda contracts of duckdb/quality/soda/
    # the DuckDB stack's job was a Dagster run: its one op ran `smelt run` with the job's task
    dagster = out(runs["duckdb"])
    assert f'Started execution of step "{DAILY_OP}"' in dagster, dagster[-6000:]
    assert "RUN_SUCCESS" in dagster, dagster[-6000:]


def test_dagster_shows_the_stacks_jobs_and_schedule(demo):
    root, _ = demo
    query = ("{ repositoriesOrError { ... on RepositoryConnection { nodes { jobs { name } "
             "schedules { name cronSchedule executionTimezone pipelineName } } } } }")
    proc = Smelt(root / "duckdb")("invoke", "dagster:graphql", query, env=env(), timeout=600)
    assert proc.returncode == 0, out(proc)[-4000:]
    # Dagster's answer is the stdout line starting {"data" (its log lines share stdout)
    answers = [line for line in proc.stdout.splitlines() if line.startswith('{"data"')]
    assert answers, proc.stdout[-4000:]
    node = json.loads(answers[-1])["data"]["repositoriesOrError"]["nodes"][0]
    assert {j["name"] for j in node["jobs"] if not j["name"].startswith("__")} == {"daily", "load"}
    assert [(s["name"], s["cronSchedule"], s["executionTimezone"], s["pipelineName"]) for s in node["schedules"]] \
        == [("daily", "0 0 * * *", "UTC", "daily")]


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


def test_the_duckdb_stacks_evidence_page_shows_the_sqlite_stacks_revenue(demo):
    """Evidence over the DuckDB file (the stack's page, duckdb/analyze/evidence/pages/index.md) shows the
    customers, orders and revenue that the SQLite stack's revenue model holds."""
    root, _ = demo
    duck = Smelt(root / "duckdb")
    started = time.monotonic()
    proc = duck("invoke", "evidence:build", env=env(), timeout=1800)
    assert proc.returncode == 0, out(proc)[-6000:]
    print(f"\nduckdb: evidence:build {time.monotonic() - started:.1f} s")
    [(customers, orders, revenue)] = sqlite_rows(root, "select sum(customers), sum(orders), sum(revenue) "
                                                       "from revenue_by_country")
    port = free_port()
    server = subprocess.Popen([SMELT, "invoke", "evidence:serve"], cwd=root / "duckdb",
                              env=clean_env({**env(), "EVIDENCE_SERVE_PORT": str(port)}),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        end = time.time() + 60
        while True:
            assert server.poll() is None, server.stdout.read()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            assert time.time() < end, "evidence:serve did not answer on 127.0.0.1"
            time.sleep(0.3)
        with Browser() as b:
            b.navigate(f"http://127.0.0.1:{port}/")
            b.wait_for("document.querySelector('#fig-revenue') && "
                       "document.querySelector('#fig-revenue').innerText.trim().length > 0", what="the revenue figure")
            shown = b.evaluate("['customers', 'orders', 'revenue'].map(f => "
                               "document.querySelector('#fig-' + f).innerText.trim())")
            # the per-country table (Evidence's DataTable: each row twice, screen and print copies)
            rows_js = ("[...document.querySelectorAll('tr')].map(tr => [...tr.querySelectorAll('td')]"
                       ".map(td => td.innerText.trim())).filter(r => r.length === 4)")
            b.wait_for(rows_js + ".length >= 4", what="the per-country table")
            rows = b.evaluate(rows_js)
            b.screenshot(artifacts_dir("evidence") / "two-stacks.png")
    finally:
        stop_group(server)
    assert shown == [str(customers), str(orders), f"{revenue:,.2f}"], shown
    assert (customers, orders, round(revenue, 2)) == (5, 40, 3006.73)
    model = [(c, n, o) for c, n, o, _ in sqlite_rows(root, REVENUE)]
    assert sorted({(r[0], int(r[1]), int(r[2])) for r in rows}) == model, rows


def test_each_quality_tool_catches_the_same_bad_row(demo):
    root, _ = demo
    with open(root / "data" / "orders.csv", "a") as f:
        f.write(BAD_ROW)
    # each stack runs its daily job again, the way it ran it first; the orders stream is incremental
    # (replication_key id): each loads row 41 only, dbt builds on it, then the quality tool checks
    gx = Smelt(root)("run", "daily", env=env(), timeout=1200)
    dagster = Smelt(root / "duckdb")("invoke", "dagster:execute", "daily", env=env(), timeout=1200)
    assert gx.returncode == 1, out(gx)
    assert dagster.returncode == 1, out(dagster)[-6000:]
    # each names its check and the bad value it saw, on the line that fails the run
    assert "block 3/3 'gx:validate' failed: gx:validate: 1 of 13 expectations failed, first: orders: " \
           "expect_column_values_to_be_between(column=amount, min_value=0, max_value=10000) " \
           "(1 of 41 values unexpected (2.4%): [-15.0])" in gx.stderr, out(gx)
    assert "Traceback" not in out(gx)
    # the Dagster run fails in its op, with smelt's exit code and smelt's error line naming Soda's check
    log = out(dagster)
    assert "RUN_FAILURE" in log, log[-6000:]
    assert "run tap-csv target-duckdb dbt-duckdb:build soda:verify failed (exit code 1): " \
           "smelt error: block 3/3 'soda:verify' failed: soda:verify: 1 of 12 checks failed, first: orders: " \
           "amount between 0 and 10000 (invalid_count: 1," in log, log[-6000:]
    # the bad row is the one row both warehouses gained, and both revenue models include it
    bad = "select id, customer_id, amount from orders where amount < 0"
    assert sqlite_rows(root, bad) == duckdb_rows(root, bad) == [(41, 2, -15.0)]
    assert sqlite_rows(root, COUNTS) == duckdb_rows(root, COUNTS) == [("customers", 5), ("orders", 41)]
    revenue = [[(c, n, o, round(r, 2)) for c, n, o, r in rows(root, REVENUE)] for rows in (sqlite_rows, duckdb_rows)]
    assert revenue[0] == revenue[1]
    assert sum(r for *_, r in revenue[0]) == pytest.approx(3006.73 - 15)
