"""Helpers of the e2e tests that run the real Meltano (from PyPI, through the shared tool cache) beside
smelt: a module-scoped fixture installing Meltano once, Meltano's environment without telemetry, and
smelt's native tap-csv declared as a Meltano custom plugin."""
import pytest

from conftest import LIBEXEC, uv_venv

# Meltano without telemetry and without its version check (no network but the package registry)
MELTANO_ENV = {"MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", "MELTANO_DISABLE_TRACKING": "true",
               "MELTANO_CLI_DISABLE_VERSION_CHECK": "true"}


def meltano_fixture(requirement):
    """A module-scoped pytest fixture: the path of the `meltano` program of a venv made once per test
    module with requirement (e.g. "meltano[s3]==4.4.1"), through uv and the shared tool cache.
    Bind it to a name in the test module: `meltano = meltano_fixture("meltano>=4,<5")`."""

    @pytest.fixture(scope="module")
    def meltano(tmp_path_factory):
        venv = uv_venv(tmp_path_factory.mktemp("meltano") / "venv", requirement)
        return venv / "bin/meltano"

    return meltano


def native_tap_csv_yml(root, settings=True):
    """The `extractors:` list entry (two-space indent) declaring smelt's native tap-csv as a Meltano
    custom plugin that reads <root>/people.csv incrementally on id; settings=True also declares its
    `files` setting as an array."""
    declared = """\
    settings:
    - name: files
      kind: array
""" if settings else ""
    return f"""\
  - name: tap-csv
    namespace: tap_csv
    executable: {LIBEXEC}/tap-csv
    capabilities: [catalog, discover, state, about]
{declared}    config:
      files:
      - {{entity: people, path: {root}/people.csv, keys: [id], replication_key: id}}
"""
