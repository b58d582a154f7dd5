"""dbt-snowflake cannot reach Snowflake from here: the generated profile is checked against dbt's
documented shape (password or key pair through env_var()), and `dbt parse` - which validates the
profile without connecting - accepts it.  No secret lands in a file of the project."""
import json
import shutil

import pytest
import yaml

from conftest import Smelt
from dbt_support import DATA, PIP_URLS, files_containing, install, lock_from_hub, tool_env

PASSWORD = "sf-pw-Zq81kX"
PASSPHRASE = "sf-passphrase-J3mq"

PROJECT = f"""\
version: 1
default_environment: dev
environments:
- name: dev
- name: keypair
  config:
    plugins:
      transformers:
      - name: dbt-snowflake
        config:
          private_key_path: keys/rsa_key.p8
plugins:
  transformers:
  - name: dbt-snowflake
    variant: dbt-labs
    pip_url: {PIP_URLS["snowflake"]}
    settings:
    - name: private_key_path
      kind: string
    - name: private_key_passphrase
      kind: password
    config:
      account: xy12345.eu-west-1
      user: LOADER
      role: TRANSFORMER
      warehouse: TRANSFORMING
      database: ANALYTICS
      schema: DBT_DEV
"""


@pytest.fixture(scope="module")
def proj(tmp_path_factory):
    root = tmp_path_factory.mktemp("dbt-snowflake")
    (root / "smelt.yml").write_text(PROJECT)
    smelt = Smelt(root)
    lock_from_hub(smelt, "dbt-snowflake")
    install(smelt)
    shutil.copytree(DATA / "snowflake" / "models", root / "transform" / "models")
    return root, smelt


def profile(smelt, env, *args):
    proc = smelt(*args, "invoke", "dbt-snowflake:profile", env=env, check=0)
    assert PASSWORD not in proc.stdout and PASSPHRASE not in proc.stdout
    return yaml.safe_load(proc.stdout)


def test_password_profile_has_the_documented_shape(proj):
    root, smelt = proj
    prof = profile(smelt, {"DBT_SNOWFLAKE_PASSWORD": PASSWORD})
    assert prof["smelt"]["target"] == "dev"
    assert prof["smelt"]["outputs"]["dev"] == {
        "type": "snowflake",
        "account": "xy12345.eu-west-1",
        "user": "LOADER",
        "password": "{{ env_var('DBT_ENV_SECRET_PASSWORD') }}",
        "role": "TRANSFORMER",
        "warehouse": "TRANSFORMING",
        "database": "ANALYTICS",
        "schema": "DBT_DEV",
        "threads": 4,
    }


def test_key_pair_profile(proj):
    root, smelt = proj
    prof = profile(smelt, {"DBT_SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": PASSPHRASE}, "--environment", "keypair")
    out = prof["smelt"]["outputs"]["keypair"]
    assert prof["smelt"]["target"] == "keypair"
    assert "password" not in out
    assert out["private_key_path"] == str(root / "keys" / "rsa_key.p8")
    assert out["private_key_passphrase"] == "{{ env_var('DBT_ENV_SECRET_PRIVATE_KEY_PASSPHRASE') }}"
    assert {k: out[k] for k in ("type", "account", "user", "role", "warehouse", "database", "schema")} == {
        "type": "snowflake", "account": "xy12345.eu-west-1", "user": "LOADER", "role": "TRANSFORMER",
        "warehouse": "TRANSFORMING", "database": "ANALYTICS", "schema": "DBT_DEV"}


def test_dbt_parse_accepts_the_profile_offline(proj):
    root, smelt = proj
    for args, env in (((), {"DBT_SNOWFLAKE_PASSWORD": PASSWORD}),
                      (("--environment", "keypair"), {"DBT_SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": PASSPHRASE})):
        manifest = root / "transform" / "target" / "manifest.json"
        manifest.unlink(missing_ok=True)
        proc = smelt(*args, "invoke", "dbt-snowflake:parse", env=tool_env(env))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        nodes = json.loads(manifest.read_text())["nodes"]
        assert any(n.endswith(".daily_orders") for n in nodes)
        assert "Registered adapter: snowflake" in proc.stdout + proc.stderr


def test_no_secret_in_any_project_file(proj):
    root, _ = proj
    assert files_containing(root, PASSWORD) == []
    assert files_containing(root, PASSPHRASE) == []
