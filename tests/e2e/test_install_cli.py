"""smelt install: real packages into per-plugin virtualenvs, fingerprints, --clean, failures."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import HUB_FIXTURES  # noqa: E402
from hubserver import HubServer  # noqa: E402

SMELT = os.environ.get("SMELT_BIN", "smelt")

PROJECT = """\
default_environment: dev
environments:
- name: dev
plugins:
  extractors:
  - name: tap-csv
    variant: smelt
  - name: tap-jsonl
    namespace: tap_jsonl
    pip_url: tap-jsonl
    executable: tap-jsonl
  loaders:
  - name: target-jsonl
  - name: target-broken
    namespace: target_broken
    pip_url: smelt-no-such-package-xyz
"""


@pytest.fixture(scope="module")
def hub():
    srv = HubServer(str(HUB_FIXTURES)).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("install")
    (root / "smelt.yml").write_text(PROJECT)
    return root


def smelt(args, cwd, hub_url, timeout=900):
    env = dict(os.environ, SMELT_HUB_URL=hub_url)
    return subprocess.run([SMELT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_install_real_packages_and_failure(hub, project):
    r = smelt(["install", "-p", "4"], project, hub.api_root)
    assert r.returncode == 1, r.stderr
    err = r.stderr
    assert "tap-csv: nothing to install" in err
    assert "target-broken: cannot install 'smelt-no-such-package-xyz'" in err
    assert "smelt-no-such-package-xyz" in err.split("last ", 1)[1]  # pip's own tail
    # the others are installed, the broken one is not
    sysdir = project / ".smelt"
    tap = sysdir / "extractors/tap-jsonl/venv/bin/tap-jsonl"
    target = sysdir / "loaders/target-jsonl/venv/bin/target-jsonl"
    assert tap.exists() and target.exists()
    assert (sysdir / "extractors/tap-jsonl/.smelt_plugin_fingerprint").exists()
    assert not (sysdir / "loaders/target-broken/.smelt_plugin_fingerprint").exists()
    assert not (sysdir / "loaders/target-broken/venv").exists()
    # auto-lock wrote the Hub plugin's lock file
    assert (project / "plugins/loaders/target-jsonl--andyh1203.lock").exists()
    about = subprocess.run([str(tap), "--help"], capture_output=True, text=True, timeout=120)
    assert about.returncode == 0, about.stderr
    assert "tap" in about.stdout.lower()


def test_second_install_is_skipped(hub, project):
    t0 = time.monotonic()
    r = smelt(["install", "tap-jsonl", "target-jsonl"], project, hub.api_root)
    assert r.returncode == 0, r.stderr
    assert "tap-jsonl: already installed" in r.stderr
    assert "target-jsonl: already installed" in r.stderr
    assert time.monotonic() - t0 < 10
    assert hub.requests() == 2  # only the first install's auto-lock asked the Hub


def test_clean_reinstalls(hub, project):
    fp = project / ".smelt/extractors/tap-jsonl/.smelt_plugin_fingerprint"
    r = smelt(["install", "--clean", "--plugin-type", "extractors", "tap-jsonl"], project, hub.api_root)
    assert r.returncode == 0, r.stderr
    assert "tap-jsonl: installed" in r.stderr
    assert fp.exists()
    assert (project / ".smelt/extractors/tap-jsonl/venv/bin/tap-jsonl").exists()


def test_changed_pip_url_reinstalls(hub, project):
    text = (project / "smelt.yml").read_text().replace("pip_url: tap-jsonl", "pip_url: tap-jsonl pip")
    (project / "smelt.yml").write_text(text)
    r = smelt(["install", "tap-jsonl"], project, hub.api_root)
    assert r.returncode == 0, r.stderr
    assert "tap-jsonl: installed" in r.stderr


def test_usage_errors(hub, project):
    r = smelt(["install", "--parallelism", "0"], project, hub.api_root)
    assert r.returncode == 2
    r = smelt(["install", "no-such-plugin"], project, hub.api_root)
    assert r.returncode == 1
    assert "'no-such-plugin' is not in smelt.yml" in r.stderr
