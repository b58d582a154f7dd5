"""Project-file safety through the real binary (issue 18, items 1, 3, 4 and 6): edits of flow-style
YAML keep every node or write nothing, integers above 2^53 keep their digits from smelt.yml to the
plugin and back, cyclic aliases and deep nesting are quick errors, duplicate keys and second
documents are errors naming file:line:col."""
import json
import os
import stat
import sys
import time

import yaml

BIG = 9007199254740993  # 2^53 + 1: a double cannot hold it

# A plugin that prints its config file and the env var smelt exported for one setting.
DUMP_PLUGIN = f"""#!{sys.executable}
import json, os, sys
args = sys.argv[1:]
print(open(args[args.index("--config") + 1]).read())
print("ENV", os.environ.get("TAP_X_ACCT"))
"""


def flow_project(project):
    dump = project.write(DUMP_PLUGIN, "dump_config.py")
    dump.chmod(dump.stat().st_mode | stat.S_IXUSR)
    project.write(
        "version: 1\n"
        "project_id: safety\n"
        "plugins: {extractors: [{name: a, namespace: a, executable: a}, "
        f"{{name: tap-x, namespace: tx, executable: {dump}, config: {{p: 1, acct: {BIG}}}}}, "
        "{name: c, namespace: c, executable: c}]}\n"
        "environments: [{name: dev, config: {plugins: {extractors: [{name: tap-x, config: {p: 2}}]}}}, "
        "{name: prod, env: {X: '1'}}]\n")


def load(project):
    return yaml.safe_load((project.root / "smelt.yml").read_text())


def test_config_set_on_flow_style_keeps_every_node(project):
    flow_project(project)
    project.smelt("config", "set", "tap-x", "records", "5", check=0)
    doc = load(project)
    extractors = doc["plugins"]["extractors"]
    assert [e["name"] for e in extractors] == ["a", "tap-x", "c"]
    assert extractors[1]["config"] == {"p": 1, "acct": BIG, "records": "5"}
    assert extractors[0] == {"name": "a", "namespace": "a", "executable": "a"}
    # a per-environment set keeps the other environment and the environment's other values
    project.smelt("--environment", "dev", "config", "set", "tap-x", "q", "7", check=0)
    doc = load(project)
    assert [e["name"] for e in doc["environments"]] == ["dev", "prod"]
    assert doc["environments"][1] == {"name": "prod", "env": {"X": "1"}}
    assert doc["environments"][0]["config"]["plugins"]["extractors"] == [
        {"name": "tap-x", "config": {"p": 2, "q": "7"}}]
    assert [e["name"] for e in doc["plugins"]["extractors"]] == ["a", "tap-x", "c"]


def test_refused_edit_leaves_the_file_byte_identical(project):
    project.write(
        "version: 1\n"
        "plugins:\n"
        "  extractors:\n"
        "  - name: tap-x\n"
        "    namespace: tx\n"
        "    config: &shared\n"
        "      host: db  # comment\n"
        "  - name: tap-y\n"
        "    namespace: ty\n"
        "    config: *shared\n")
    before = (project.root / "smelt.yml").read_bytes()
    proc = project.smelt("config", "set", "tap-x", "port", "5")
    assert proc.returncode != 0
    assert "smelt.yml: cannot edit 'plugins.extractors[name=tap-x].config.port' safely" in proc.stderr
    assert (project.root / "smelt.yml").read_bytes() == before
    assert not [p for p in os.listdir(project.root) if ".tmp" in p]


def test_big_integer_reaches_the_plugin_exactly_and_survives_an_edit(project):
    flow_project(project)
    dumped = project.smelt("invoke", "--dump", "config", "tap-x", check=0).stdout
    assert json.loads(dumped)["acct"] == BIG
    assert str(BIG) in dumped
    run = project.smelt("invoke", "tap-x", check=0).stdout
    assert json.loads(run.splitlines()[0])["acct"] == BIG
    assert f"ENV {BIG}" in run
    listed = json.loads(project.smelt("config", "list", "tap-x", "--format", "json", check=0).stdout)
    assert {s["name"]: s["value"] for s in listed["settings"]}["acct"] == BIG
    # an edit re-emits the flow mapping holding it: the digits stay
    project.smelt("config", "set", "tap-x", "p", "3", check=0)
    assert f"acct: {BIG}\n" in (project.root / "smelt.yml").read_text()
    assert load(project)["plugins"]["extractors"][1]["config"]["acct"] == BIG
    # and a value set from the command line is written with its digits
    project.smelt("config", "set", "tap-x", "acct", str(BIG + 2), check=0)
    assert load(project)["plugins"]["extractors"][1]["config"]["acct"] == BIG + 2
    assert json.loads(project.smelt("invoke", "--dump", "config", "tap-x", check=0).stdout)["acct"] == BIG + 2


def test_self_referencing_alias_fails_quickly(project):
    project.write(
        "version: 1\n"
        "plugins:\n"
        "  extractors:\n"
        "  - name: t\n"
        "    namespace: t\n"
        "    config: &c {records: 12, me: *c}\n")
    for args in (["config", "list", "t"], ["run", "t"]):
        start = time.monotonic()
        proc = project.smelt(*args, timeout=30)
        assert time.monotonic() - start < 10
        assert proc.returncode != 0
        assert "smelt.yml:6:34: alias '*c' refers to a node that contains it (a cycle)" in proc.stderr


def test_deep_nesting_is_quick_and_capped(project):
    def nested(depth):
        return "{" * depth + "x: 1" + "}" * depth
    project.write(f"version: 1\nplugins:\n  extractors:\n  - name: t\n    namespace: t\n"
                  f"    config: {{records: 12, deep: {'{k: ' * 60}1{'}' * 60}}}\n")
    start = time.monotonic()
    proc = project.smelt("config", "list", "t", timeout=60, check=0)
    assert time.monotonic() - start < 10
    assert "records" in proc.stdout
    project.write(f"version: 1\nx: {nested(150)}\n")
    proc = project.smelt("config", "list", "meltano", timeout=60)
    assert proc.returncode != 0
    assert "smelt.yml:2:" in proc.stderr and "nesting deeper than 100 levels" in proc.stderr


def test_duplicate_keys_and_second_documents_are_errors(project):
    project.write(
        "version: 1\n"
        "plugins:\n"
        "  extractors:\n"
        "  - name: t\n"
        "    namespace: t\n"
        "    config:\n"
        "      records: 1\n"
        "      records: 2\n")
    proc = project.smelt("config", "list", "t")
    assert proc.returncode != 0
    assert "smelt.yml:8:7: duplicate key 'records' (first at line 7, column 7)" in proc.stderr
    project.write("version: 1\n---\nproject_id: other\n")
    proc = project.smelt("config", "list", "meltano")
    assert proc.returncode != 0
    assert "smelt.yml:2:1: a second YAML document is not allowed" in proc.stderr
