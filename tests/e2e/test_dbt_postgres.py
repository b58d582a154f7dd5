"""dbt-postgres after MeltanoLabs' target-postgres, both from PyPI, on the session's PostgreSQL
(127.0.0.1): the model lands in its schema, and the password never lands in a file of the project."""
import os
import shutil
import subprocess

import pytest
import yaml

from conftest import Smelt
from dbt_support import DATA, PIP_URLS, files_containing, install, lock_from_hub, result_lines, tool_env


def project_yml(pg):
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
      - entity: customers
        path: data/customers.csv
        keys: [id]
      - entity: orders
        path: data/orders.csv
        keys: [id]
  loaders:
  - name: target-postgres
    variant: meltanolabs
    config:
      host: {pg["host"]}
      port: {pg["port"]}
      user: {pg["user"]}
      database: {pg["dbname"]}
      default_target_schema: tap_csv
  transformers:
  - name: dbt-postgres
    variant: dbt-labs
    pip_url: {PIP_URLS["postgres"]}
    config:
      host: {pg["host"]}
      port: {pg["port"]}
      user: {pg["user"]}
      dbname: {pg["dbname"]}
      schema: analytics
"""


@pytest.fixture(scope="module")
def proj(tmp_path_factory, postgres):
    root = tmp_path_factory.mktemp("dbt-postgres")
    (root / "smelt.yml").write_text(project_yml(postgres))
    shutil.copytree(DATA / "csv", root / "data")
    smelt = Smelt(root)
    lock_from_hub(smelt, "target-postgres", "dbt-postgres")
    install(smelt)
    # the password only in the process environment, as the settings' env vars
    secrets = {"TARGET_POSTGRES_PASSWORD": postgres["password"], "DBT_POSTGRES_PASSWORD": postgres["password"]}
    return root, smelt, secrets


def psql(pg, sql):
    out = subprocess.run(["psql", "-h", pg["host"], "-p", str(pg["port"]), "-U", pg["user"], "-d", pg["dbname"],
                          "-tA", "-F", "|", "-c", sql], env=dict(os.environ, PGPASSWORD=pg["password"]),
                         capture_output=True, text=True, check=True)
    return [line.split("|") for line in out.stdout.splitlines() if line]


def test_el_then_dbt_run_on_postgres(proj, postgres):
    root, smelt, secrets = proj
    (root / "transform" / "models").mkdir(parents=True)
    for f in ("customer_totals.sql", "schema.yml"):
        shutil.copy(DATA / "models" / f, root / "transform" / "models" / f)
    proc = smelt("run", "--verbose", "tap-csv", "target-postgres", "dbt-postgres:build", env=tool_env(secrets))
    assert proc.returncode == 0, proc.stderr

    sources = yaml.safe_load((root / "transform" / "models" / "sources.yml").read_text())["sources"]
    assert [(s["name"], s["schema"]) for s in sources] == [("tap_csv", "tap_csv")]
    assert psql(postgres, "select name, n_orders, total from analytics.customer_totals order by customer_id") == \
        [["Ada", "2", "15.00"], ["Grace", "2", "25.00"], ["Linus", "1", "7.25"]]
    lines = result_lines(proc.stderr)
    assert any(".customer_totals: success" in line for line in lines), proc.stderr
    assert any(".unique_customer_totals_customer_id." in line and ": pass" in line for line in lines), proc.stderr


def test_password_only_through_env_var(proj, postgres):
    root, smelt, secrets = proj
    out = smelt("invoke", "dbt-postgres:profile", env=secrets, check=0).stdout
    dev = yaml.safe_load(out)["smelt"]["outputs"]["dev"]
    assert dev["password"] == "{{ env_var('DBT_ENV_SECRET_PASSWORD') }}"
    assert dev["type"] == "postgres" and dev["host"] == postgres["host"] and dev["port"] == postgres["port"]
    assert dev["user"] == postgres["user"] and dev["dbname"] == postgres["dbname"] and dev["schema"] == "analytics"
    assert postgres["password"] not in out
    # dbt debug renders the profile (env_var() fails on an unset variable) and connects
    smelt("invoke", "dbt-postgres:debug", env=tool_env(secrets), check=0)


def test_no_secret_in_any_project_file(proj, postgres):
    root, smelt, secrets = proj
    smelt("run", "dbt-postgres:run", env=tool_env(secrets), check=0)
    assert files_containing(root, postgres["password"]) == []
