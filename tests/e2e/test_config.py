"""smelt config on an existing Meltano project (tests/e2e/data/project): the
settings Meltano would resolve, written out by hand from its documented rules
(MELTANO.md §4-§5), redaction of every secret, and the stores config set writes."""
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from conftest import HUB_FIXTURES, Smelt

DATA = Path(__file__).resolve().parent / "data" / "project"
SECRETS = ["dotenv-secret-pw", "env-secret-key", "typed-secret-123"]
ENV = {"CUSTOM_API_KEY": "env-secret-key", "TAP_CUSTOM_NS_SSL": "true", "SMELT_HUB_URL": "http://127.0.0.1:9"}


@pytest.fixture
def meltano_project(tmp_path):
    root = tmp_path / "proj"
    shutil.copytree(DATA, root)
    (root / "dotenv").rename(root / ".env")
    locks = root / "plugins" / "loaders"
    locks.mkdir(parents=True)
    shutil.copy(HUB_FIXTURES / "examples/locks/loaders/target-jsonl--andyh1203.lock", locks)
    return root


def run(root, *args, check=0, env=None):
    e = dict(ENV)
    e.update(env or {})
    return Smelt(root)(*args, env=e, check=check)


def listing(root, plugin, *flags, env=None):
    proc = run(root, *flags, "config", "list", plugin, "--format", "json", env=env)
    return json.loads(proc.stdout)["settings"]


def no_secrets(*texts):
    for t in texts:
        for s in SECRETS:
            assert s not in t, f"secret {s!r} leaked:\n{t}"


def S(name, value, source, env, kind="string", sensitive=False, required=False):
    return {"name": name, "value": value, "source": source, "env": env, "sensitive": sensitive, "kind": kind,
            "required": required}


TAP_CUSTOM = [
    S("user", "alice", "meltano_yml",
      ["TAP_CUSTOM_USER", "TAP_CUSTOM_NS_USER", "TAP_CUSTOM_USERNAME", "TAP_CUSTOM_NS_USERNAME"]),
    S("password", "(redacted)", "dotenv", ["TAP_CUSTOM_PASSWORD", "TAP_CUSTOM_NS_PASSWORD"], "password", True),
    S("port", 5432, "default", ["TAP_CUSTOM_PORT", "TAP_CUSTOM_NS_PORT"], "integer"),
    S("ssl", True, "env", ["TAP_CUSTOM_SSL", "TAP_CUSTOM_NS_SSL"], "boolean"),
    S("api_key", "(redacted)", "env", ["CUSTOM_API_KEY", "TAP_CUSTOM_API_KEY", "TAP_CUSTOM_NS_API_KEY"], "string", True),
    S("db.host", "db.example.com", "meltano_yml", ["TAP_CUSTOM_DB_HOST", "TAP_CUSTOM_NS_DB_HOST"]),
    S("start_date", None, "default", ["TAP_CUSTOM_START_DATE", "TAP_CUSTOM_NS_START_DATE"], "date_iso8601"),
    S("mode", None, "default", ["TAP_CUSTOM_MODE", "TAP_CUSTOM_NS_MODE"], "options"),
    # config keys no definition declares: custom settings, kind from the value
    S("url", "https://example.org/api", "meltano_yml", ["TAP_CUSTOM_URL", "TAP_CUSTOM_NS_URL"]),
    S("made_up", 7, "meltano_yml", ["TAP_CUSTOM_MADE_UP", "TAP_CUSTOM_NS_MADE_UP"], "integer"),
]


def test_custom_extractor_matches_meltano(meltano_project):
    assert listing(meltano_project, "tap-custom") == TAP_CUSTOM


def test_config_ignores_the_default_environment_but_takes_an_explicit_one(meltano_project):
    got = {s["name"]: s for s in listing(meltano_project, "tap-custom", "--environment", "dev")}
    assert got["port"]["value"] == 1111 and got["port"]["source"] == "meltano_environment"
    got = {s["name"]: s for s in listing(meltano_project, "tap-custom", env={"MELTANO_ENVIRONMENT": "dev"})}
    assert got["port"]["source"] == "meltano_environment"
    got = {s["name"]: s for s in listing(meltano_project, "tap-custom", "--environment", "dev", "--no-environment")}
    assert got["port"]["source"] == "default"


def test_inherited_plugin(meltano_project):
    # as real Meltano 4.4.1 lists it: a plugin with inherit_from has its own namespace (its name), so only
    # TAP_CUSTOM__EU_* are read for it, and TAP_CUSTOM_NS_SSL reaches it through the parent (inherited)
    child = listing(meltano_project, "tap-custom--eu")
    want = [
        S("user", "alice", "inherited", ["TAP_CUSTOM__EU_USER", "TAP_CUSTOM__EU_USERNAME"]),
        S("password", "(redacted)", "inherited", ["TAP_CUSTOM__EU_PASSWORD"], "password", True),
        S("port", 6543, "meltano_yml", ["TAP_CUSTOM__EU_PORT"], "integer"),
        S("ssl", True, "inherited", ["TAP_CUSTOM__EU_SSL"], "boolean"),
        S("api_key", "(redacted)", "env", ["CUSTOM_API_KEY", "TAP_CUSTOM__EU_API_KEY"], "string", True),
        S("db.host", "db.example.com", "inherited", ["TAP_CUSTOM__EU_DB_HOST"]),
        S("start_date", None, "default", ["TAP_CUSTOM__EU_START_DATE"], "date_iso8601"),
        S("mode", None, "default", ["TAP_CUSTOM__EU_MODE"], "options"),
        S("url", "https://example.org/api", "inherited", ["TAP_CUSTOM__EU_URL"]),
        S("made_up", 7, "inherited", ["TAP_CUSTOM__EU_MADE_UP"], "integer"),
    ]
    assert child == want


def test_locked_loader_takes_definition_from_the_lock_file(meltano_project):
    want = [
        S("destination_path", "output", "meltano_yml", ["TARGET_JSONL_DESTINATION_PATH"]),
        S("do_timestamp_file", False, "default", ["TARGET_JSONL_DO_TIMESTAMP_FILE"], "boolean"),
        S("custom_name", None, "default", ["TARGET_JSONL_CUSTOM_NAME"]),
    ]
    assert listing(meltano_project, "target-jsonl") == want
    # an environment's env: block configures plugins through their env vars
    prod = listing(meltano_project, "target-jsonl", "--environment", "prod")
    assert prod[0] == S("destination_path", "/data/prod", "env", ["TARGET_JSONL_DESTINATION_PATH"])


def test_extras(meltano_project):
    got = {s["name"]: s for s in listing(meltano_project, "tap-custom", env=None) + []}
    assert "_select" not in got
    proc = run(meltano_project, "config", "list", "tap-custom", "--extras", "--format", "json")
    extras = {s["name"]: s for s in json.loads(proc.stdout)["settings"]}
    assert extras["_select"] == S("_select", ["users.*", "!users.password"], "meltano_yml",
                                  ["TAP_CUSTOM__SELECT", "TAP_CUSTOM_NS__SELECT"], "array")
    assert extras["_load_schema"]["value"] == "tap_custom_ns"
    assert extras["_load_schema"]["source"] == "default"
    assert extras["_use_cached_catalog"]["value"] is True
    assert extras["_metadata"]["value"] == {"users": {"replication-method": "INCREMENTAL"}}
    assert extras["_select_filter"]["value"] == []
    dev = json.loads(run(meltano_project, "--environment", "dev", "config", "print", "tap-custom", "--extras").stdout)
    assert dev["_select"] == ["users.id"]
    loader = json.loads(run(meltano_project, "config", "print", "target-jsonl", "--extras").stdout)
    # extras with no value print as null, and Singer plugins' log parser is the SDK's, as in Meltano
    assert {k: v for k, v in loader.items() if v is not None} == {"_dialect": "target_jsonl",
                                                                   "_log_parser": "singer-sdk"}


def test_print_is_nested_and_redacted(meltano_project):
    proc = run(meltano_project, "config", "print", "tap-custom")
    cfg = json.loads(proc.stdout)
    assert cfg == {"user": "alice", "password": "*****", "port": 5432, "ssl": True, "api_key": "*****",
                   "db": {"host": "db.example.com"}, "url": "https://example.org/api", "made_up": 7}
    no_secrets(proc.stdout, proc.stderr)
    unsafe = json.loads(run(meltano_project, "config", "print", "tap-custom", "--unsafe").stdout)
    assert unsafe["password"] == "dotenv-secret-pw" and unsafe["api_key"] == "env-secret-key"
    env = run(meltano_project, "config", "tap-custom", "print", "--format", "env").stdout
    assert "TAP_CUSTOM_PASSWORD='*****'\n" in env and "TAP_CUSTOM_DB_HOST='db.example.com'\n" in env
    no_secrets(env)


def test_text_listing_like_meltano(meltano_project):
    proc = run(meltano_project, "config", "list", "tap-custom")
    lines = proc.stdout.splitlines()
    assert "user [env: TAP_CUSTOM_USER, TAP_CUSTOM_NS_USER, TAP_CUSTOM_USERNAME, TAP_CUSTOM_NS_USERNAME] " \
           "current value: \"alice\" (from `meltano.yml`)" in lines
    assert "password [env: TAP_CUSTOM_PASSWORD, TAP_CUSTOM_NS_PASSWORD] current value: (redacted) (from `.env`)" in lines
    assert "port [env: TAP_CUSTOM_PORT, TAP_CUSTOM_NS_PORT] current value: 5432 (default)" in lines
    assert "ssl [env: TAP_CUSTOM_SSL, TAP_CUSTOM_NS_SSL] (default: false) current value: true (from the environment)" in lines
    assert "Custom, possibly unsupported by the plugin:" in lines
    assert "url [env: TAP_CUSTOM_URL, TAP_CUSTOM_NS_URL] current value: \"https://${PROJECT_DOMAIN}/api\" " \
           "(expanded: \"https://example.org/api\") (from `meltano.yml`)" in lines
    no_secrets(proc.stdout, proc.stderr)
    child = run(meltano_project, "config", "list", "tap-custom--eu").stdout
    assert "current value: \"alice\" (inherited from 'tap-custom')" in child
    no_secrets(child)


def test_project_settings(meltano_project):
    for name in ("smelt", "meltano"):
        got = {s["name"]: s for s in listing(meltano_project, name)}
        assert got["elt.buffer_size"] == S("elt.buffer_size", 2097152, "meltano_yml",
                                           ["SMELT_ELT_BUFFER_SIZE", "MELTANO_ELT_BUFFER_SIZE"], "integer")
        assert got["send_anonymous_usage_stats"]["value"] is False
        assert got["state_backend.lock_retry_seconds"]["source"] == "default"
    got = {s["name"]: s for s in listing(meltano_project, "smelt", env={"MELTANO_ELT_BUFFER_SIZE": "10"})}
    assert got["elt.buffer_size"]["value"] == 10 and got["elt.buffer_size"]["source"] == "env"


def test_set_unset_reset_keep_the_file(meltano_project):
    yml = meltano_project / "meltano.yml"
    before = yml.read_text()
    out = run(meltano_project, "config", "set", "tap-custom", "port", "6000").stdout
    assert out == "Extractor 'tap-custom' setting 'port' was set in `meltano.yml`: 6000\n"
    text = yml.read_text()
    assert "      made_up: 7\n      port: 6000\n" in text
    assert "  - name: tap-custom            # a custom tap, settings defined here\n" in text
    # nested by several NAME words; an extra; a secret goes to .env
    run(meltano_project, "config", "set", "tap-custom", "batch", "size", "10")
    assert "      batch:\n        size: '10'\n" in yml.read_text()
    run(meltano_project, "config", "set", "tap-custom", "_select", '["orders.*"]')
    assert "    select:\n    - orders.*\n" in yml.read_text()
    out = run(meltano_project, "config", "set", "tap-custom", "password", "typed-secret-123")
    assert out.stdout == "Extractor 'tap-custom' setting 'password' was set in `.env`: (redacted)\n"
    no_secrets(out.stdout, out.stderr, yml.read_text())
    dotenv = (meltano_project / ".env").read_text()
    assert "TAP_CUSTOM_PASSWORD='typed-secret-123'\n" in dotenv and dotenv.startswith("# secrets live here\n")
    # an explicit environment gets the value in its block
    out = run(meltano_project, "--environment", "prod", "config", "set", "target-jsonl", "custom_name", "x")
    assert "set in the active environment in `meltano.yml`" in out.stdout
    assert "- name: prod\n  state_id_suffix: blue\n  env:\n    TARGET_JSONL_DESTINATION_PATH: /data/prod\n" \
           "  config:\n    plugins:\n      loaders:\n      - name: target-jsonl\n        config:\n" \
           "          custom_name: x\n" in yml.read_text()
    run(meltano_project, "config", "set", "tap-custom", "made_up", "8", "--store", "db")
    got = {s["name"]: s for s in listing(meltano_project, "tap-custom")}
    assert got["made_up"]["source"] == "meltano_yml"  # smelt.yml still wins over the DB
    # a bad value for the kind is refused
    bad = run(meltano_project, "config", "set", "tap-custom", "port", "many", check=1)
    assert "'port' must be an integer" in bad.stderr
    # unset and reset bring the file back
    run(meltano_project, "config", "unset", "tap-custom", "port")
    run(meltano_project, "config", "unset", "tap-custom", "batch.size")
    run(meltano_project, "config", "unset", "tap-custom", "password")
    assert "TAP_CUSTOM_PASSWORD" not in (meltano_project / ".env").read_text()
    refused = run(meltano_project, "config", "reset", "tap-custom--eu", check=1)
    assert "--yes" in refused.stderr
    run(meltano_project, "config", "reset", "tap-custom--eu", "--yes")
    assert "    inherit_from: tap-custom\n  loaders:\n" in yml.read_text()


def test_unknown_plugin_and_usage(meltano_project):
    assert "plugin 'nope' is not in meltano.yml" in run(meltano_project, "config", "list", "nope", check=1).stderr
    run(meltano_project, "config", "frobnicate", "tap-custom", check=2)
    run(meltano_project, "config", "list", "tap-custom", "--format", "xml", check=2)


def test_no_secret_in_any_output_without_unsafe(meltano_project):
    outs = []
    for args in (["config", "list", "tap-custom"], ["config", "list", "tap-custom", "--format", "json"],
                 ["config", "print", "tap-custom"], ["config", "print", "tap-custom", "--format", "env"],
                 ["config", "list", "tap-custom--eu"], ["config", "print", "tap-custom--eu"],
                 ["--log-level", "debug", "config", "list", "tap-custom"]):
        proc = run(meltano_project, *args)
        outs += [proc.stdout, proc.stderr]
    no_secrets(*outs)
