"""Snowflake through Smelt against fakesnow (PyPI), a Snowflake stand-in served on 127.0.0.1: dbt-snowflake
from PyPI, driven by `smelt run dbt-snowflake:build`, loads seeds and builds a model in it; the rows are read
back with the Snowflake connector; a planted duplicate fails the run naming the dbt test.  The password
reaches dbt only through the environment.  (target-snowflake cannot be pointed at fakesnow: see
plugins/dbt/README.md, "Snowflake without Snowflake".)  test_dbt_snowflake.py covers the profile's shape
for a real account and `dbt parse` offline; this file covers what runs against a server."""
import json
import shutil
import signal
import subprocess

import pytest
import yaml

import conftest
from conftest import Smelt, free_port, wait_port
from dbt_support import DATA, files_containing, lock_from_hub, result_lines

PASSWORD = "sf-pw-Q7xv2"   # fakesnow accepts any; the test checks it lands in no file
CONNECTOR = "snowflake-connector-python<5"   # 5.x: fakesnow 0.12.1 fails on import (no snowflake.connector.converter)
PIP_URL = f"dbt-core>=1.11,<1.12 dbt-snowflake==1.12.4 {CONNECTOR}"

PROJECT = """\
version: 1
default_environment: dev
environments:
- name: dev
plugins:
  transformers:
  - name: dbt-snowflake
    variant: dbt-labs
    pip_url: {pip_url}
    settings:
    - {{name: host}}
    - {{name: port, kind: integer}}
    - {{name: protocol}}
    - {{name: threads, kind: integer}}
    - {{name: connect_retries, kind: integer}}
    config:
      account: fakesnow
      user: fake
      host: 127.0.0.1
      port: {port}
      protocol: http
      database: SMELT
      schema: ANALYTICS
      warehouse: WH
      role: TRANSFORMER
      threads: 1
      connect_retries: 0
"""


def env():
    return conftest.tool_env({"DBT_SNOWFLAKE_PASSWORD": PASSWORD})


@pytest.fixture(scope="module")
def fakesnow(tmp_path_factory):
    """fakesnow's server on a free loopback port (its own venv, from the shared tool cache); always stopped."""
    venv = conftest.uv_venv(tmp_path_factory.mktemp("fakesnow") / "venv", "fakesnow[server]==0.12.1", CONNECTOR)
    port = free_port()
    log = open(venv.parent / "fakesnow.log", "w")
    proc = subprocess.Popen([str(venv / "bin" / "fakesnow"), "-s", "-p", str(port), "--host", "127.0.0.1"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        wait_port(port, 120)
        yield {"port": port, "python": venv / "bin" / "python"}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def query(fs, sql):
    """Rows of sql, run with the Snowflake connector against fakesnow (the venv it was installed with)."""
    code = ("import json, sys, snowflake.connector\n"
            "con = snowflake.connector.connect(user='fake', password='x', account='fakesnow', host='127.0.0.1',\n"
            "    port=int(sys.argv[1]), protocol='http', database='SMELT', schema='ANALYTICS', warehouse='WH',\n"
            "    network_timeout=10, login_timeout=10,\n"
            "    session_parameters={'CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED': False})\n"
            "print(json.dumps(con.cursor().execute(sys.argv[2]).fetchall(), default=float))\n")
    proc = subprocess.run([str(fs["python"]), "-c", code, str(fs["port"]), sql], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return [tuple(r) for r in json.loads(proc.stdout)]


@pytest.fixture(scope="module")
def proj(tmp_path_factory, fakesnow):
    root = tmp_path_factory.mktemp("snowflake")
    (root / "smelt.yml").write_text(PROJECT.format(pip_url=PIP_URL, port=fakesnow["port"]))
    shutil.copytree(DATA / "fakesnow", root / "transform")
    smelt = Smelt(root)
    lock_from_hub(smelt, "dbt-snowflake")
    proc = smelt("install", "dbt-snowflake", env=env(), timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root, smelt


def test_profile_points_dbt_at_the_server(proj, fakesnow):
    _, smelt = proj
    proc = smelt("invoke", "dbt-snowflake:profile", env=env(), check=0)
    out = yaml.safe_load(proc.stdout)["smelt"]["outputs"]["dev"]
    assert {k: out[k] for k in ("type", "account", "host", "port", "protocol", "database", "schema")} == {
        "type": "snowflake", "account": "fakesnow", "host": "127.0.0.1", "port": fakesnow["port"],
        "protocol": "http", "database": "SMELT", "schema": "ANALYTICS"}
    assert out["password"] == "{{ env_var('DBT_ENV_SECRET_PASSWORD') }}"
    assert PASSWORD not in proc.stdout + proc.stderr


def test_build_loads_seeds_and_builds_the_model(proj, fakesnow):
    root, smelt = proj
    proc = smelt("run", "--verbose", "dbt-snowflake:build", env=env(), timeout=1200)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = result_lines(proc.stderr)
    assert any(".customer_revenue: success" in line for line in lines), proc.stderr
    assert any(".unique_customer_revenue_customer_id." in line and ": pass" in line for line in lines)
    assert "2 seeds, 1 model, 4 tests: 7 passed" in proc.stderr
    # the rows are in the server, in the database and schema of the profile
    assert query(fakesnow, "select count(*) from SMELT.ANALYTICS.CUSTOMERS") == [(3,)]
    assert query(fakesnow, "select count(*) from SMELT.ANALYTICS.ORDERS") == [(5,)]
    assert query(fakesnow, "select name, orders, revenue from SMELT.ANALYTICS.CUSTOMER_REVENUE order by customer_id") \
        == [("Ada", 2, 15.0), ("Grace", 2, 25.0), ("Linus", 1, 7.25)]
    assert PASSWORD not in proc.stdout + proc.stderr
    assert files_containing(root, PASSWORD) == []


def test_a_duplicate_fails_the_run_naming_the_test(proj, fakesnow):
    root, smelt = proj
    seed = root / "transform" / "seeds" / "orders.csv"
    good = seed.read_text()
    seed.write_text(good + "5,3,1.00,paid\n")   # id 5 twice
    try:
        proc = smelt("run", "dbt-snowflake:build", env=env(), timeout=1200)
    finally:
        seed.write_text(good)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "failed: dbt reported 1 failure: test.smelt_fakesnow.unique_orders_id." in proc.stderr, proc.stderr
    assert "(fail: Got 1 result, configured to fail if != 0)" in proc.stderr
    # the seed was loaded (6 rows, the duplicate too); the model after the failed test was skipped
    assert query(fakesnow, "select count(*) from SMELT.ANALYTICS.ORDERS") == [(6,)]
    assert "2 seeds, 1 model, 4 tests: 3 passed, 1 failed, 3 skipped" in proc.stderr, proc.stderr
