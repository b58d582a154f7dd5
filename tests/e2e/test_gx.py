"""The gx adapter (issue 9): Great Expectations (GX Core 1.x, real, from PyPI) checks the warehouse
that tap-csv + target-sqlite load, and a PostgreSQL table, through `smelt run ... gx:validate`
and `smelt invoke gx:validate|init`."""
import json
import sqlite3

import pytest

from gx_support import GxProject, load_orders_pg, orders_suite, psql


@pytest.fixture(scope="module")
def gx(tmp_path_factory):
    """One project with GX installed by `smelt install gx`, shared by the tests of this file."""
    p = GxProject(tmp_path_factory.mktemp("gx-project"))
    p.install()
    return p


@pytest.fixture
def gxp(gx):
    """The shared project, with only the suites a test writes."""
    gx.write_yml()
    gx.clear_suites()
    return gx


def out(proc):
    return proc.stdout + proc.stderr


def test_adapter_lists_its_commands(gxp):
    proc = gxp.smelt("invoke", "--list-commands", "gx", check=0)
    assert "gx:validate" in proc.stdout and "gx:init" in proc.stdout


def test_run_passes_on_good_data(gxp):
    gxp.use_orders("orders_good.csv")
    gxp.suite("orders.yml", orders_suite("target-sqlite"))
    # in a run the report is the adapter's log (shown with --verbose); the run's table counts the checks
    proc = gxp.smelt("run", "--verbose", "tap-csv", "target-sqlite", "gx:validate")
    assert proc.returncode == 0, out(proc)
    assert "gx info: Suite orders (quality/orders.yml, target-sqlite table orders): 5 of 5 expectations passed" \
        in proc.stderr
    assert "gx info: Validation passed: all 5 expectations met" in proc.stderr
    assert any(line.startswith(" gx:validate ") and line.endswith("  5 checks: 5 passed")
               for line in proc.stderr.splitlines()), proc.stderr
    assert "Traceback" not in out(proc)
    # the rows were loaded by the first block, checked by the second
    with sqlite3.connect(gxp.root / "output" / "warehouse.db") as db:
        assert db.execute("SELECT count(*) FROM orders").fetchone()[0] == 8
    # data_docs: true in the project -> GX Data Docs in output/quality/
    index = gxp.root / "output" / "quality" / "index.html"
    assert index.is_file() and "orders" in index.read_text()
    assert list((gxp.root / "output" / "quality" / "validations").rglob("*.html"))
    assert "gx info: Data Docs: output/quality/index.html" in proc.stderr


def test_run_fails_on_bad_data_and_names_the_failures(gxp):
    gxp.use_orders("orders_bad.csv")  # a null customer_id and an amount of 4242.5
    gxp.suite("orders.yml", orders_suite("target-sqlite"))
    proc = gxp.smelt("run", "--verbose", "tap-csv", "target-sqlite", "gx:validate")
    assert proc.returncode == 1, out(proc)
    text = out(proc)
    assert "FAIL  expect_column_values_to_not_be_null(column=customer_id): 1 of 8 values null" in proc.stderr
    assert "FAIL  expect_column_values_to_be_between(column=amount, min_value=0, max_value=1000): " \
           "1 of 8 values unexpected (12.5%): [4242.5]" in proc.stderr
    assert "pass  expect_column_values_to_be_unique(column=id)" in proc.stderr
    assert "Validation failed: 2 of 5 expectations failed" in proc.stderr
    # each failure is on the terminal at the default level too, as it comes; the run's table counts them
    quiet = gxp.smelt("run", "gx:validate")
    assert "gx error: orders: expect_column_values_to_not_be_null(column=customer_id): fail" in quiet.stderr
    assert any(line.startswith(" gx:validate ") and "failed" in line and line.endswith("5 checks: 3 passed, 2 failed")
               for line in quiet.stderr.splitlines()), quiet.stderr
    # per-expectation results reach the run log; the run fails at the gx block
    logs = "".join(p.read_text() for p in (gxp.root / ".smelt" / "logs").glob("*/run.log"))
    assert "[gx] orders: expect_column_values_to_not_be_null(column=customer_id): fail" in logs
    assert "block 2/2 'gx:validate' failed" in text
    assert " failed: 1 of 2 blocks in " in text
    assert "Traceback" not in text


def test_invoke_format_json(gxp):
    gxp.use_orders("orders_bad.csv")
    gxp.suite("orders.yml", orders_suite("target-sqlite"))
    gxp.smelt("run", "tap-csv", "target-sqlite", check=0)
    proc = gxp.smelt("invoke", "gx:validate", "orders", "--format", "json")
    assert proc.returncode == 1, out(proc)
    res = json.loads(proc.stdout)
    assert res["success"] is False
    assert res["statistics"]["evaluated"] == 5 and res["statistics"]["unsuccessful"] == 2
    (suite,) = res["suites"]
    assert suite["name"] == "orders" and suite["source"] == "target-sqlite" and suite["table"] == "orders"
    failed = {e["type"]: e for e in suite["expectations"] if not e["success"]}
    assert set(failed) == {"expect_column_values_to_not_be_null", "expect_column_values_to_be_between"}
    assert failed["expect_column_values_to_be_between"]["result"]["partial_unexpected_list"] == [4242.5]
    assert failed["expect_column_values_to_not_be_null"]["result"]["unexpected_count"] == 1
    # passing data: exit 0
    gxp.use_orders("orders_good.csv")
    gxp.smelt("run", "tap-csv", "target-sqlite", check=0)
    res = json.loads(gxp.smelt("invoke", "gx:validate", "--format=json", check=0).stdout)
    assert res["success"] is True and res["statistics"]["successful"] == 5


def test_bad_suites_give_clear_errors(gxp):
    gxp.use_orders("orders_good.csv")
    gxp.smelt("run", "tap-csv", "target-sqlite", check=0)
    gxp.suite("typo.yml", "source: target-sqlite\ntable: orders\nexpectations:\n"
                          "- expect_column_values_to_be_between: {column: amount, min_value: 0}\n"
                          "- expect_column_values_to_not_be_nul: {column: id}\n")
    gxp.suite("nosuch.yml", "source: target-sqlite\ntable: order_lines\nexpectations:\n"
                            "- expect_column_values_to_not_be_null: {column: id}\n")
    gxp.suite("stranger.yml", "source: target-nowhere\ntable: orders\nexpectations:\n"
                              "- expect_column_values_to_not_be_null: {column: id}\n")
    gxp.suite("badargs.yml", "source: target-sqlite\ntable: orders\nexpectations:\n"
                             "- expect_column_values_to_be_between: {colum: amount, min_value: 0}\n")
    proc = gxp.smelt("invoke", "gx:validate", "typo", "nosuch", "stranger", "badargs")
    text = out(proc)
    assert proc.returncode == 2, text
    assert "quality/typo.yml', expectation 2: unknown expectation 'expect_column_values_to_not_be_nul'; " \
           "did you mean 'expect_column_values_to_not_be_null'?" in text
    assert "table 'order_lines' not found in source 'target-sqlite' (sqlite file output/warehouse.db); " \
           "tables there: orders" in text
    assert "source 'target-nowhere' is not a plugin of the project" in text
    assert "bad arguments for 'expect_column_values_to_be_between': column: field required; colum: unknown argument" in text
    assert "Validation error: 4 of 4 suites could not run" in proc.stdout
    assert "Traceback" not in text
    # in a run, the block fails with the first error
    proc = gxp.smelt("run", "gx:validate")
    assert proc.returncode == 1
    assert "'gx:validate' failed: gx:validate: suite 'badargs'" in out(proc)
    # a suite that does not exist, and a YAML error
    proc = gxp.smelt("invoke", "gx:validate", "missing-suite")
    assert proc.returncode == 2 and "no suite 'missing-suite' in quality/" in out(proc)
    proc = gxp.smelt("invoke", "gx:validate", "--bogus")
    assert proc.returncode == 2 and "unknown option '--bogus'" in out(proc)
    gxp.clear_suites()
    gxp.suite("broken.yml", "source: target-sqlite\ntable: [orders\n")
    proc = gxp.smelt("invoke", "gx:validate")
    assert proc.returncode == 2 and "'quality/broken.yml' is not valid YAML" in out(proc)
    assert "Traceback" not in out(proc)


def test_init_writes_an_example_suite_that_passes(gxp):
    gxp.use_orders("orders_good.csv")
    gxp.smelt("run", "tap-csv", "target-sqlite", check=0)
    proc = gxp.smelt("invoke", "gx:init", "orders", "--source", "target-sqlite")
    assert proc.returncode == 0, out(proc)
    suite = gxp.root / "quality" / "orders.yml"
    assert "Wrote quality/orders.yml" in proc.stdout
    text = suite.read_text()
    assert "source: target-sqlite" in text and "table: orders" in text
    assert "- expect_column_values_to_be_unique: {column: id}" in text
    assert "- expect_column_values_to_be_in_set: {column: status, value_set: [paid, refunded, shipped]}" in text
    proc = gxp.smelt("invoke", "gx:validate", "orders")
    assert proc.returncode == 0, out(proc)
    assert "Validation passed" in proc.stdout
    # an existing suite is not overwritten without --force; a missing table is named
    proc = gxp.smelt("invoke", "gx:init", "orders")
    assert proc.returncode == 2 and "'quality/orders.yml' exists" in out(proc)
    proc = gxp.smelt("invoke", "gx:init", "nosuch")
    assert proc.returncode == 2 and "table 'nosuch' not found in source 'target-sqlite'" in out(proc)
    assert "Traceback" not in out(proc)


def test_postgres_source(gxp, postgres):
    pg = postgres
    psql(pg, "DROP DATABASE IF EXISTS gx_e2e")
    psql(pg, "CREATE DATABASE gx_e2e")
    load_orders_pg(pg, "gx_e2e", "orders_good.csv")
    # a PostgreSQL loader of the project: its settings give the connection, the password from the environment
    gxp.write_yml(f"""\
  - name: warehouse-pg
    namespace: target_postgres
    executable: target-postgres
    settings:
    - {{name: host}}
    - {{name: port, kind: integer}}
    - {{name: user}}
    - {{name: password, kind: password}}
    - {{name: database}}
    config:
      host: {pg["host"]}
      port: {pg["port"]}
      user: {pg["user"]}
      database: gx_e2e
""")
    gxp.suite("orders_pg.yml", orders_suite("warehouse-pg"))
    secret = {"WAREHOUSE_PG_PASSWORD": pg["password"]}
    proc = gxp.smelt("run", "--verbose", "gx:validate", env=secret)
    assert proc.returncode == 0, out(proc)
    assert "Suite orders_pg (quality/orders_pg.yml, warehouse-pg table orders): 5 of 5 expectations passed" in proc.stderr

    load_orders_pg(pg, "gx_e2e", "orders_bad.csv")
    proc = gxp.smelt("invoke", "gx:validate", "orders_pg", env=secret)
    assert proc.returncode == 1, out(proc)
    assert "FAIL  expect_column_values_to_not_be_null(column=customer_id): 1 of 8 values null" in proc.stdout
    assert "FAIL  expect_column_values_to_be_between(column=amount, min_value=0, max_value=1000): " \
           "1 of 8 values unexpected (12.5%): [4242.5]" in proc.stdout
    # the password never shows: not in the output, the run logs, or files left in .smelt/run
    assert pg["password"] not in out(proc)
    for f in (gxp.root / ".smelt").rglob("*"):
        if f.is_file() and "venv" not in f.parts and f.suffix != ".db":
            assert pg["password"] not in f.read_text(errors="replace"), f
    # a database that does not exist: a clear error, without the secret or a traceback
    proc = gxp.smelt("invoke", "gx:validate", "orders_pg", env={**secret, "WAREHOUSE_PG_DATABASE": "gx_nowhere"})
    assert proc.returncode == 2
    assert f"cannot connect to source 'warehouse-pg' (postgres 127.0.0.1:{pg['port']}/gx_nowhere)" in out(proc)
    assert 'database "gx_nowhere" does not exist' in out(proc)
    assert pg["password"] not in out(proc) and "Traceback" not in out(proc)
