"""Helpers of the dbt e2e tests (test_dbt*.py): one project per test file,
built once with real dbt from PyPI by `smelt install`, and the checks the
files share (no secret on disk, results in the run log)."""
import os
import shutil
import sys
from pathlib import Path

import conftest

from conftest import FAKES, HUB_FIXTURES, SOURCE, Smelt  # noqa: F401
from hubserver import HubServer

DATA = Path(__file__).resolve().parent / "data" / "dbt"

# dbt Core 1.12 needs dbt-core-experimental-parser, an sdist that downloads its
# wheel from the internet while building: the range stops at 1.11 so installs
# work offline.  dbt-sqlite 1.10 pins dbt-adapters~=1.16, which dbt-core 1.12
# cannot use (the resolver would fall back to dbt-sqlite 1.4): ask for >=1.10.
DBT_CORE = "dbt-core>=1.10,<1.12"
DUCKDB = "duckdb==1.5.5"  # one DuckDB in every venv that opens the file (TOOLS.md 0.3)
PIP_URLS = {
    "sqlite": f"{DBT_CORE} dbt-sqlite>=1.10",
    "duckdb": f"{DBT_CORE} dbt-duckdb {DUCKDB}",
    "postgres": f"{DBT_CORE} dbt-postgres",
    "snowflake": f"{DBT_CORE} dbt-snowflake",
}


def tool_env(extra=None):
    """conftest.tool_env()."""
    return conftest.tool_env(extra)


def lock_from_hub(smelt, *names):
    """Write the lock files of hub plugins from a loopback Hub serving tests/fixtures/hub, then stop it:
    everything after runs offline from the lock files."""
    hub = HubServer(str(HUB_FIXTURES)).start()
    try:
        smelt("lock", *names, env=tool_env({"SMELT_HUB_URL": hub.api_root}), check=0)
    finally:
        hub.stop()


def install(smelt, *names, env=None):
    """smelt install (real PyPI packages); a failure fails the test loudly."""
    proc = smelt("install", *names, env=tool_env(env), timeout=1800)
    assert proc.returncode == 0, f"smelt install failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def copy_data(name, dest):
    """Copy tests/e2e/data/dbt/<name> into dest (merging)."""
    shutil.copytree(DATA / name, dest, dirs_exist_ok=True)


def files_containing(root, secret):
    """Every file under root whose bytes hold secret (venvs excluded: they are the tools)."""
    hits = []
    needle = secret.encode()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "venv"]
        for f in filenames:
            p = Path(dirpath) / f
            try:
                if p.is_file() and needle in p.read_bytes():
                    hits.append(str(p))
            except OSError:
                pass
    return hits


def result_lines(stderr, plugin_source="dbt"):
    """The per-node result lines the adapter reported (log lines of source 'dbt')."""
    return [line for line in stderr.splitlines() if line.startswith(f"{plugin_source} ")]
