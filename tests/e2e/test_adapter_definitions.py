"""The built-in catalog is data the adapters ship, not code: a definition dropped into an adapter's
data folder (<adapter folder>/<adapter>/definitions/<type>--<name>--<variant>.json) is added by the
same smelt binary, with no rebuild, and the name prefixes an adapter declares (plugin_types.json)
drive the advice of "Block x not found"."""
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import SMELT, BUILD, Smelt

# Nothing listens here: a test that reaches the Hub fails instead of hanging.
OFFLINE = {"SMELT_HUB_URL": "http://127.0.0.1:1", "SMELT_HUB_RETRY_DELAY": "0.01"}

DEFINITION = {
    "name": "acme-lint",
    "namespace": "acme_lint",
    "variant": "acme",
    "label": "ACME Lint",
    "description": "A vendor's tool, shipped with its adapter",
    "pip_url": "acme-lint==1.0",
    "executable": "acme-lint",
    "settings": [{"name": "strictness", "kind": "integer", "value": 3, "description": "how strict"}],
}


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def vendor_folder(base):
    """An adapter folder as a vendor ships it: the .so and its data folder named after the adapter."""
    base.mkdir(parents=True, exist_ok=True)
    shutil.copy(BUILD / "tests" / "adapters" / "ok.so", base / "ok.so")
    defs = base / "test_ok" / "definitions"
    defs.mkdir(parents=True)
    (defs / "utilities--acme-lint--acme.json").write_text(json.dumps(DEFINITION, indent=2))
    (base / "test_ok" / "plugin_types.json").write_text(json.dumps({"utilities": {"name_prefixes": ["acme-"]}}))
    return base


@pytest.fixture
def proj(tmp_path):
    smelt = Smelt(tmp_path)
    smelt("init", "p", check=0)
    return Smelt(tmp_path / "p")


def test_a_dropped_definition_is_added_without_rebuild(proj, tmp_path):
    before = digest(SMELT)
    # Not in the catalog yet: the Hub is asked, and cannot answer.
    proc = proj("add", "utility", "acme-lint", env=OFFLINE)
    assert proc.returncode != 0
    assert "127.0.0.1:1" in proc.stderr
    vendor = vendor_folder(tmp_path / "vendor")
    env = dict(OFFLINE, SMELT_ADAPTER_PATH=str(vendor))
    proc = proj("add", "utility", "acme-lint", env=env, check=0)
    lock = proj.cwd / "plugins" / "utilities" / "acme-lint--acme.lock"
    assert lock.is_file(), proc.stdout + proc.stderr
    locked = json.loads(lock.read_text())
    assert locked["pip_url"] == "acme-lint==1.0" and locked["namespace"] == "acme_lint"
    assert "variant: acme" in (proj.cwd / "smelt.yml").read_text()
    listed = proj.json("config", "acme-lint", "list", "--format", "json", env=env)
    assert any(s["name"] == "strictness" and s["value"] == 3 for s in listed["settings"]), listed
    # an explicit variant the adapters ship comes from the catalog too, without a request
    proj("remove", "utility", "acme-lint", env=env, check=0)
    proc = proj("add", "utility", "acme-lint", "--variant", "acme", env=env)
    assert proc.returncode == 0, proc.stderr
    assert lock.is_file()
    assert digest(SMELT) == before  # the same binary throughout


def test_project_adapters_folder_ships_definitions(proj):
    vendor_folder(proj.cwd / "adapters")
    proc = proj("add", "utility", "acme-lint", env=OFFLINE)
    assert proc.returncode == 0, proc.stderr
    assert (proj.cwd / "plugins" / "utilities" / "acme-lint--acme.lock").is_file()


def test_block_advice_reads_the_adapters_data(proj, tmp_path):
    proc = proj("run", "acme-lint", env=OFFLINE)
    assert proc.returncode != 0
    assert "add it with 'smelt add TYPE acme-lint'" in proc.stderr
    env = dict(OFFLINE, SMELT_ADAPTER_PATH=str(vendor_folder(tmp_path / "vendor")))
    # the catalog knows acme-lint: its type and variant
    proc = proj("run", "acme-lint", env=env)
    assert "add it with 'smelt add utility acme-lint --variant acme'" in proc.stderr
    # a name with a prefix the adapter declares for utilities
    proc = proj("run", "acme-format", env=env)
    assert "add it with 'smelt add utility acme-format'" in proc.stderr
    # the in-tree adapters declare theirs the same way
    proc = proj("run", "tap-foo", env=env)
    assert "add it with 'smelt add extractor tap-foo'" in proc.stderr
    proc = proj("run", "dbt-foo", env=env)
    assert "add it with 'smelt add transformer dbt-foo'" in proc.stderr


def test_a_broken_definition_is_skipped_with_its_name(proj, tmp_path):
    vendor = vendor_folder(tmp_path / "vendor")
    (vendor / "test_ok" / "definitions" / "utilities--broken--acme.json").write_text("{not json")
    (vendor / "test_ok" / "definitions" / "badname.json").write_text("{}")
    env = dict(OFFLINE, SMELT_ADAPTER_PATH=str(vendor))
    proc = proj("add", "utility", "acme-lint", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "utilities--broken--acme.json' is not a JSON object: skipped" in proc.stderr
    assert "badname.json' is not named <plural type>--<name>--<variant>.json: skipped" in proc.stderr


def test_extras_of_a_plugin_type_come_from_the_adapter(proj, tmp_path):
    vendor = vendor_folder(tmp_path / "vendor")
    (vendor / "test_ok" / "plugin_types.json").write_text(json.dumps({"utilities": {"extras": [
        {"name": "rules", "kind": "array", "value": ["all"]},
        {"name": "report", "kind": "string"}]}}))
    env = dict(OFFLINE, SMELT_ADAPTER_PATH=str(vendor))
    proj("add", "utility", "acme-lint", env=env, check=0)
    yml = proj.cwd / "smelt.yml"
    yml.write_text(yml.read_text().replace("    variant: acme\n", "    variant: acme\n    report: out.txt\n"))
    assert "report: out.txt" in yml.read_text()
    got = {s["name"]: s for s in proj.json("config", "list", "acme-lint", "--extras", "--format", "json",
                                            env=env)["settings"]}
    assert got["_rules"]["value"] == ["all"] and got["_rules"]["source"] == "default"
    assert got["_report"]["value"] == "out.txt" and got["_report"]["source"] == "meltano_yml"
    # without the adapter's data the key is not an extra of utilities
    proc = proj("config", "list", "acme-lint", "--extras", "--format", "json", env=OFFLINE)
    assert "unknown key 'report' in plugin 'acme-lint'" in proc.stderr
    # the Singer adapter declares the extractors' extras the same way
    proj("add", "extractor", "tap-csv", "--variant", "smelt", env=OFFLINE, check=0)
    got = {s["name"]: s for s in proj.json("config", "list", "tap-csv", "--extras", "--format", "json",
                                            env=OFFLINE)["settings"]}
    assert got["_select"]["value"] == ["*.*"] and got["_load_schema"]["value"] == "tap_csv"
