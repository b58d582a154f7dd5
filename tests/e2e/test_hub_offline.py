"""Without the Hub (offline, or the Hub down): what ships with smelt is still found, and errors say how to
add it.  The Hub address is a port of 127.0.0.1 nothing listens on."""
import json
import shutil

import pytest

from conftest import free_port


@pytest.fixture
def offline(project):
    project.write("version: 1\ndefault_environment: dev\nenvironments: [{name: dev}]\nplugins: {}\n")
    return project, {"SMELT_HUB_URL": f"http://127.0.0.1:{free_port()}/"}


def test_hub_search_offline_shows_the_built_in_catalog_and_says_it_is_partial(offline):
    project, env = offline
    proc = project.smelt("hub", "search", "csv", env=env, check=1)
    assert proc.stdout.split() == ["extractor", "tap-csv", "smelt", "(built-in)"], proc.stdout
    assert "cannot reach the Hub at 'http://127.0.0.1:" in proc.stderr, proc.stderr
    assert "showing the built-in catalog only" in proc.stderr, proc.stderr
    listing = json.loads(project.smelt("hub", "search", "sqlite", "--format", "json", env=env, check=1).stdout)
    assert [(p["name"], p["source"]) for p in listing["plugins"]] == \
        [("target-sqlite", "builtin"), ("dbt-sqlite", "builtin")], listing
    proc = project.smelt("hub", "search", "github", env=env, check=1)
    assert proc.stdout == "" and "no plugin name contains 'github' in the built-in catalog" in proc.stderr, proc.stderr


def test_add_offline_names_the_variant_that_ships_with_smelt(offline):
    project, env = offline
    before = (project.root / "smelt.yml").read_text()
    proc = project.smelt("add", "extractor", "tap-csv", env=env, check=1)
    assert proc.stderr.rstrip().endswith(
        "; 'tap-csv' variant 'smelt' ships with smelt: smelt add extractor tap-csv --variant smelt"), proc.stderr
    assert (project.root / "smelt.yml").read_text() == before
    project.smelt("add", "extractor", "tap-csv", "--variant", "smelt", env=env, check=0)
    assert "variant: smelt" in (project.root / "smelt.yml").read_text()
    # the hint is for `add` alone: locking a plugin the project has (the Hub's variant) does not say to add it
    project.write("version: 1\ndefault_environment: dev\nenvironments: [{name: dev}]\n"
                  "plugins: {extractors: [{name: tap-csv}]}\n")
    shutil.rmtree(project.root / "plugins")
    proc = project.smelt("lock", "tap-csv", env=env, check=1)
    assert "cannot reach the Hub" in proc.stderr and "smelt add" not in proc.stderr, proc.stderr
    # a plugin smelt does not ship: the Hub's error alone
    proc = project.smelt("add", "extractor", "tap-github", env=env, check=1)
    assert "cannot reach the Hub" in proc.stderr and "ships with smelt" not in proc.stderr, proc.stderr
