"""smelt lock, auto-lock, smelt hub: the CLI against the loopback Hub server (hubserver.py)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import HUB_FIXTURES  # noqa: E402
from hubserver import HubServer  # noqa: E402

SMELT = os.environ.get("SMELT_BIN", "smelt")


@pytest.fixture
def hub():
    srv = HubServer(str(HUB_FIXTURES)).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def project(tmp_path):
    (tmp_path / "smelt.yml").write_text(
        "default_environment: dev\n"
        "environments:\n- name: dev\n"
        "plugins:\n"
        "  extractors:\n  - name: tap-csv\n    variant: smelt\n"
        "  loaders:\n  - name: target-jsonl\n"
        "  orchestrators:\n  - name: airflow\n    variant: apache\n"
        "  transformers:\n  - name: dbt-sqlite\n"
    )
    return tmp_path


def smelt(args, cwd, hub_url, **kw):
    env = dict(os.environ, SMELT_HUB_URL=hub_url, SMELT_HUB_RETRY_DELAY="0.05")
    env.pop("MELTANO_HUB_API_ROOT", None)
    return subprocess.run([SMELT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, **kw)


def snapshot(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_lock_writes_meltano_lock_files_and_requires(hub, project):
    r = smelt(["lock"], project, hub.api_root)
    assert r.returncode == 0, r.stderr
    locks = sorted(str(p.relative_to(project)) for p in (project / "plugins").rglob("*.lock"))
    assert locks == [
        "plugins/extractors/tap-csv--smelt.lock",
        "plugins/files/files-airflow--meltano.lock",
        "plugins/loaders/target-jsonl--andyh1203.lock",
        "plugins/orchestrators/airflow--apache.lock",
        "plugins/transformers/dbt-sqlite--smelt.lock",
    ]
    text = (project / "plugins/loaders/target-jsonl--andyh1203.lock").read_text()
    assert text.endswith("}\n")
    data = json.loads(text)
    assert list(data)[:5] == ["plugin_type", "name", "namespace", "variant", "label"]
    assert data["docs"] == f"{hub.origin}/loaders/target-jsonl--andyh1203"
    # an existing lock is kept without --update, named on an info line: no failure (as Meltano)
    before = snapshot(project)
    r = smelt(["lock", "target-jsonl"], project, hub.api_root)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ("smelt info: loader 'target-jsonl': lock file 'plugins/loaders/target-jsonl--andyh1203.lock' "
                        "kept; --update refreshes it\n")
    assert snapshot(project) == before
    r = smelt(["lock", "--update", "target-jsonl"], project, hub.api_root)
    assert r.returncode == 0, r.stderr
    assert "Locked definition for loader 'target-jsonl'" in r.stdout


def test_lock_again_keeps_every_existing_lock(hub, project):
    """`smelt lock` (or --all) of a project locked once: every lock kept, exit 0; a real failure still fails."""
    assert smelt(["lock"], project, hub.api_root).returncode == 0
    before = snapshot(project)
    for args in (["lock"], ["lock", "--all"]):
        r = smelt(args, project, hub.api_root)
        assert r.returncode == 0, r.stderr
        assert r.stdout == "" and "could not be locked" not in r.stderr
        kept = [line for line in r.stderr.splitlines() if line.endswith("kept; --update refreshes it")]
        assert len(kept) == 4, r.stderr
        assert "extractor 'tap-csv': lock file 'plugins/extractors/tap-csv--smelt.lock' kept" in r.stderr
        assert snapshot(project) == before
    # a definition that cannot be found beside the kept locks: exit 1, the kept ones untouched
    text = (project / "smelt.yml").read_text()
    (project / "smelt.yml").write_text(text.replace("  loaders:\n", "  - name: tap-does-not-exist\n  loaders:\n"))
    r = smelt(["lock"], project, hub.api_root)
    assert r.returncode == 1
    assert "Extractor 'tap-does-not-exist' is not known to Meltano Hub" in r.stderr
    assert r.stderr.endswith("smelt: error: 1 plugin(s) could not be locked\n"), r.stderr
    assert {k: v for k, v in snapshot(project).items() if k != "smelt.yml"} == \
        {k: v for k, v in before.items() if k != "smelt.yml"}


def test_locked_project_ignores_hub_changes_and_network(hub, project):
    assert smelt(["lock"], project, hub.api_root).returncode == 0
    before = snapshot(project)
    hub.set_default("loaders", "target-jsonl", "somebody-else")
    count = hub.requests()
    # auto-lock finds every lock file present: no request, nothing changes
    r = smelt(["install", "tap-csv"], project, hub.api_root)
    assert r.returncode == 0, r.stderr
    assert "tap-csv: nothing to install" in r.stderr
    assert hub.requests() == count
    assert snapshot(project) == {**before, **{k: v for k, v in snapshot(project).items() if k.startswith(".smelt")}}
    # lock --update keeps the locked variant of an entry without one
    r = smelt(["lock", "--update", "target-jsonl"], project, hub.api_root)
    assert r.returncode == 0, r.stderr
    assert (project / "plugins/loaders/target-jsonl--andyh1203.lock").exists()
    assert not list((project / "plugins/loaders").glob("*somebody-else*"))


def test_auto_lock_fetches_missing_lock_once(hub, project):
    r = smelt(["install", "tap-csv"], project, hub.api_root)
    assert r.returncode == 0, r.stderr
    assert (project / "plugins/extractors/tap-csv--smelt.lock").exists()
    assert hub.requests() == 0  # the built-in catalog needs no request


def test_unreachable_hub_changes_nothing(project):
    before = snapshot(project)
    r = smelt(["lock", "target-jsonl"], project, "http://127.0.0.1:1")
    assert r.returncode == 1
    assert ("cannot reach the Hub at 'http://127.0.0.1:1/plugins/loaders/index': "
            "Couldn't connect to server") in r.stderr
    assert snapshot(project) == before


def test_unknown_plugin_and_variant(hub, tmp_path):
    (tmp_path / "smelt.yml").write_text(
        "plugins:\n  extractors:\n  - name: tap-does-not-exist\n"
        "  loaders:\n  - name: target-sqlite\n    variant: nope\n")
    r = smelt(["lock"], tmp_path, hub.api_root)
    assert r.returncode == 1
    assert "Extractor 'tap-does-not-exist' is not known to Meltano Hub" in r.stderr
    assert ("Loader 'target-sqlite' variant 'nope' is not known to Meltano. "
            "Variants: ['meltanolabs (default)', 'meltano']") in r.stderr
    assert not (tmp_path / "plugins").exists()


def test_retry_and_redirect(hub, tmp_path):
    (tmp_path / "smelt.yml").write_text("plugins:\n  loaders:\n  - name: target-jsonl\n")
    hub.fail_next("/meltano/api/v1/plugins/loaders/index", 2, 503)
    hub.redirect = True
    r = smelt(["lock"], tmp_path, hub.api_root)
    assert r.returncode == 0, r.stderr
    assert hub.counts["/meltano/api/v1/plugins/loaders/index"] == 3
    assert hub.counts["/meltano/api/v1/redirect/plugins/loaders/target-jsonl--andyh1203"] == 1
    assert (tmp_path / "plugins/loaders/target-jsonl--andyh1203.lock").exists()


def test_hub_ping_and_search(hub, tmp_path):
    r = smelt(["hub", "ping"], tmp_path, hub.api_root)
    assert r.returncode == 0, r.stderr
    assert hub.api_root in r.stdout
    r = smelt(["hub", "ping"], tmp_path, "http://127.0.0.1:1")
    assert r.returncode == 1
    assert "http://127.0.0.1:1/plugins/orchestrators/index" in r.stderr
    r = smelt(["hub", "search", "SQLite", "--type", "loaders", "--format", "json"], tmp_path, hub.api_root)
    assert r.returncode == 0, r.stderr
    found = {(p["name"], p["default_variant"], p["source"]) for p in json.loads(r.stdout)["plugins"]}
    assert ("target-sqlite", "meltanolabs", "hub") in found
    assert ("target-sqlite", "smelt", "builtin") in found
    assert all(p["plugin_type"] == "loaders" for p in json.loads(r.stdout)["plugins"])
    r = smelt(["hub", "search", "jsonl"], tmp_path, hub.api_root)
    assert r.returncode == 0 and "target-jsonl" in r.stdout


def test_add_brings_what_the_definition_requires(hub, tmp_path):
    (tmp_path / "smelt.yml").write_text("# my project\ndefault_environment: dev\nenvironments:\n- name: dev\n")
    r = smelt(["add", "orchestrator", "airflow", "--variant", "apache"], tmp_path, hub.api_root)
    assert r.returncode == 0, r.stderr
    assert "Added file 'files-airflow' (required by 'airflow')" in r.stdout
    text = (tmp_path / "smelt.yml").read_text()
    assert text.startswith("# my project\n")
    assert "- name: airflow\n    variant: apache" in text and "- name: files-airflow\n    variant: meltano" in text
    assert (tmp_path / "plugins/files/files-airflow--meltano.lock").exists()


def loaded_libraries(args, cwd, hub_url):
    """The shared libraries the dynamic loader brought into smelt for one command (glibc's LD_DEBUG)."""
    env = dict(os.environ, SMELT_HUB_URL=hub_url, LD_DEBUG="libs")
    env.pop("MELTANO_HUB_API_ROOT", None)
    proc = subprocess.run([SMELT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    return proc, [line for line in proc.stderr.splitlines() if "calling init:" in line]


def test_libcurl_is_loaded_only_by_commands_that_talk_to_the_hub(hub, project):
    for args in (["--version"], ["config", "list", "tap-csv"], ["state", "list"]):
        proc, libs = loaded_libraries(args, project, hub.api_root)
        assert proc.returncode == 0, proc.stderr
        assert libs, "LD_DEBUG=libs reported no library at all"
        assert not [x for x in libs if "libcurl" in x], (args, libs)
    proc, libs = loaded_libraries(["hub", "ping"], project, hub.api_root)
    assert proc.returncode == 0, proc.stderr
    assert [x for x in libs if "libcurl" in x], libs


def test_libmicrohttpd_and_gnutls_are_loaded_only_by_serve(hub, project):
    """Only `smelt serve` needs libmicrohttpd (and the GnuTLS it brings): other commands start without them."""
    for args in (["--version"], ["config", "list", "tap-csv"], ["state", "list"], ["runs", "list"]):
        proc, libs = loaded_libraries(args, project, hub.api_root)
        assert proc.returncode == 0, proc.stderr
        assert libs, "LD_DEBUG=libs reported no library at all"
        assert not [x for x in libs if "libmicrohttpd" in x or "libgnutls" in x], (args, libs)
