"""The dbt adapter on the embedded SQLite warehouse: tap-csv -> target-sqlite -> dbt-sqlite (real dbt
from PyPI, installed by `smelt install`), the dbt project created on first use, per-node results,
failing models and tests named in the error, commands and arguments passed to dbt."""
import shutil
import sqlite3

import pytest
import yaml

from conftest import Smelt
from dbt_support import DATA, PIP_URLS, copy_data, install, result_lines, tool_env

PROJECT = f"""\
version: 1
default_environment: dev
environments:
- name: dev
- name: prod
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
  - name: target-sqlite
    variant: smelt
    config:
      database: output/warehouse.db
  transformers:
  - name: dbt-sqlite
    variant: smelt
    pip_url: {PIP_URLS["sqlite"]}
"""


@pytest.fixture(scope="module")
def proj(tmp_path_factory):
    """One project with dbt-sqlite installed, shared by the tests of this file (in order)."""
    root = tmp_path_factory.mktemp("dbt-sqlite")
    (root / "smelt.yml").write_text(PROJECT)
    shutil.copytree(DATA / "csv", root / "data")
    smelt = Smelt(root)
    install(smelt)

    class P:
        pass

    p = P()
    p.root, p.smelt = root, smelt
    p.run = lambda *a, **kw: smelt(*a, env=tool_env(), **kw)
    return p


def dbt_name(root):
    """The dbt project's name, as smelt derived it from the folder name."""
    return yaml.safe_load((root / "transform" / "dbt_project.yml").read_text())["name"]


def test_el_then_dbt_run_builds_the_model(proj):
    root = proj.root
    assert not (root / "transform").exists()
    # the user's models, in a transform/ that has no dbt_project.yml yet
    (root / "transform" / "models").mkdir(parents=True)
    for f in ("customer_totals.sql", "big_customers.sql", "schema.yml"):
        shutil.copy(DATA / "models" / f, root / "transform" / "models" / f)
    proc = proj.run("run", "--verbose", "tap-csv", "target-sqlite", "dbt-sqlite:run", check=0)

    # the adapter created the dbt project around them, with the loaded tables as sources
    project = yaml.safe_load((root / "transform" / "dbt_project.yml").read_text())
    assert project["profile"] == "smelt" and project["config-version"] == 2
    sources = yaml.safe_load((root / "transform" / "models" / "sources.yml").read_text())["sources"]
    assert [(s["name"], s["schema"], sorted(t["name"] for t in s["tables"])) for s in sources] == \
        [("tap_csv", "main", ["customers", "orders"])]

    # the model's table, read back from the warehouse
    with sqlite3.connect(root / "output" / "warehouse.db") as db:
        rows = db.execute("select name, n_orders, total from customer_totals order by customer_id").fetchall()
        big = db.execute("select count(*) from big_customers").fetchone()[0]
    assert rows == [("Ada", 2, 15.0), ("Grace", 2, 25.0), ("Linus", 1, 7.25)]
    assert big == 3

    # each model is reported with its status and time
    name = dbt_name(root)
    lines = result_lines(proc.stderr)
    for model in ("customer_totals", "big_customers"):
        assert any(f"model.{name}.{model}: success (" in line for line in lines), proc.stderr
    # the generated profile is gone with the command; dbt wrote its outputs under transform/
    assert not list((root / ".smelt" / "run" / "dbt-sqlite").glob("profiles.yml"))
    assert (root / "transform" / "target" / "run_results.json").is_file()
    assert (root / "transform" / "logs" / "dbt.log").is_file()


def test_invoke_commands_and_dbt_arguments(proj):
    root = proj.root
    # a plugin command with dbt arguments after it
    proj.run("invoke", "dbt-sqlite:run", "--select", "big_customers", "--vars", "{min_orders: 2}", check=0)
    with sqlite3.connect(root / "output" / "warehouse.db") as db:
        assert db.execute("select name from big_customers order by customer_id").fetchall() == [("Ada",), ("Grace",)]
    # docs generate (a two-word dbt command) compiles and writes the catalog
    proj.run("invoke", "dbt-sqlite:docs-generate", check=0)
    assert (root / "transform" / "target" / "catalog.json").is_file()
    assert list((root / "transform" / "target" / "compiled").rglob("customer_totals.sql"))
    # anything else goes to dbt as it is
    ls = proj.run("invoke", "dbt-sqlite", "ls", "--resource-type", "model", "--output", "name", check=0)
    assert "customer_totals" in ls.stdout and "big_customers" in ls.stdout
    # the tool's own exit code comes back from invoke
    bad = proj.run("invoke", "dbt-sqlite", "parse", "--no-such-dbt-flag")
    assert bad.returncode == 2 and "no-such-dbt-flag" in bad.stderr + bad.stdout
    unknown = proj.run("invoke", "dbt-sqlite:no-such-command")
    assert unknown.returncode != 0 and "no command 'no-such-command'" in unknown.stderr


def test_profile_follows_the_environment(proj):
    root = proj.root
    prof = yaml.safe_load(proj.run("invoke", "dbt-sqlite:profile", check=0).stdout)
    out = prof["smelt"]["outputs"]["dev"]
    assert prof["smelt"]["target"] == "dev"
    assert out["type"] == "sqlite" and out["schema"] == "main" and out["threads"] == 1
    assert out["schemas_and_paths"] == {"main": str(root / "output" / "warehouse.db")}
    assert out["schema_directory"] == str(root / "output")
    prod = yaml.safe_load(proj.run("--environment", "prod", "invoke", "dbt-sqlite:profile", check=0).stdout)
    assert prod["smelt"]["target"] == "prod" and "prod" in prod["smelt"]["outputs"]
    dumped = yaml.safe_load(proj.run("invoke", "--dump", "config", "dbt-sqlite", check=0).stdout)
    assert dumped == prof
    # a --target given to dbt names the output
    other = yaml.safe_load(proj.run("invoke", "dbt-sqlite:profile", "--target", "ci", check=0).stdout)
    assert other["smelt"]["target"] == "ci" and list(other["smelt"]["outputs"]) == ["ci"]


def test_sql_error_in_a_model_fails_the_run_and_names_it(proj):
    root = proj.root
    copy_data("broken", root / "transform")
    try:
        proc = proj.run("run", "--verbose", "dbt-sqlite:run")
    finally:
        (root / "transform" / "models" / "broken_model.sql").unlink()
    assert proc.returncode == 1, proc.stderr
    name = dbt_name(root)
    errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    assert any(f"model.{name}.broken_model" in line and "dbt-sqlite:run" in line for line in errors), proc.stderr
    assert "no such column" in proc.stderr
    # the other models still ran and are reported
    assert any(f"model.{name}.customer_totals: success" in line for line in result_lines(proc.stderr))


def test_failing_dbt_test_fails_the_run_and_names_it(proj):
    root = proj.root
    copy_data("failing", root / "transform")
    try:
        proc = proj.run("run", "--verbose", "dbt-sqlite:test")
    finally:
        (root / "transform" / "tests" / "assert_no_big_orders.sql").unlink()
    assert proc.returncode == 1, proc.stderr
    name = dbt_name(root)
    failed = [line for line in proc.stderr.splitlines() if f"test.{name}.assert_no_big_orders" in line]
    assert failed and any("fail" in line for line in failed), proc.stderr
    assert any("smelt error" in line and "assert_no_big_orders" in line for line in proc.stderr.splitlines())
    # the passing tests are reported as passing
    assert any(f"test.{name}.unique_customer_totals_customer_id" in line and ": pass" in line
               for line in result_lines(proc.stderr)), proc.stderr


def test_smelt_test_runs_dbt_test(proj):
    proc = proj.run("test", "dbt-sqlite")
    assert proc.returncode == 0, proc.stderr
    assert any("not_null_customer_totals_customer_id" in line and "pass" in line
               for line in result_lines(proc.stderr)), proc.stderr
    copy_data("failing", proj.root / "transform")
    try:
        bad = proj.run("test", "dbt-sqlite")
    finally:
        (proj.root / "transform" / "tests" / "assert_no_big_orders.sql").unlink()
    assert bad.returncode == 1 and "assert_no_big_orders" in bad.stderr


def test_smelt_test_installs_dbt_on_first_use(tmp_path):
    """`smelt test` installs a plugin that is not installed yet, as `run` and `invoke` do."""
    (tmp_path / "smelt.yml").write_text(PROJECT)
    shutil.copytree(DATA / "csv", tmp_path / "data")
    assert not (tmp_path / ".smelt/transformers/dbt-sqlite/venv").exists()
    proc = Smelt(tmp_path)("test", "dbt-sqlite", env=tool_env(), timeout=1800)
    assert proc.returncode == 0, proc.stderr
    assert "not found on PATH" not in proc.stderr
    assert (tmp_path / ".smelt/transformers/dbt-sqlite/venv/bin/dbt").is_file()


def test_an_existing_dbt_project_is_used_as_it_is(tmp_path):
    """The profile of a project that has its own dbt_project.yml (invoke installs dbt-sqlite first)."""
    (tmp_path / "smelt.yml").write_text(PROJECT.replace("database: output/warehouse.db",
                                                        "database: /tmp/elsewhere/wh.db"))
    tdir = tmp_path / "transform"
    tdir.mkdir()
    own = "name: mine\nconfig-version: 2\nprofile: 'my_profile'  # the user's\n"
    (tdir / "dbt_project.yml").write_text(own)
    smelt = Smelt(tmp_path)
    prof = yaml.safe_load(smelt("invoke", "dbt-sqlite:profile", env=tool_env(), check=0).stdout)
    assert list(prof) == ["my_profile"]
    # dbt-sqlite's own setting decides the file, not the loader's
    assert prof["my_profile"]["outputs"]["dev"]["schemas_and_paths"]["main"] == str(
        tmp_path / "output" / "warehouse.db")
    assert (tdir / "dbt_project.yml").read_text() == own
    assert not (tdir / "models").exists()
