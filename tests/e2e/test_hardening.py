"""Issue 18 follow-ups found by fuzzing and fault injection, as a user sees them: a catalog extra of
the wrong type, state lines with junk after the JSON or a NUL byte, state ids with control characters,
a connector config holding \\u0000."""
import json
import os
import subprocess
import sys

import pytest

from conftest import FAKES

STAGE = os.environ.get("SMELT_STAGE") or os.path.join(os.path.dirname(os.environ.get("SMELT_BIN", "")), "..")
TAP_CSV = os.path.join(STAGE, "libexec", "smelt", "tap-csv")

CSV_PROJECT = """\
default_environment: dev
environments: [{{name: dev}}]
plugins:
  extractors:
  - name: tap-csv
    variant: smelt
    config:
      files: [{{entity: orders, path: orders.csv, keys: [id]}}]
    {extra}
  loaders:
  - name: target-sqlite
    variant: smelt
    config: {{database: out.db}}
"""


@pytest.mark.parametrize("extra,where", [("schema: [1]", "9:13"), ("metadata: [1]", "9:15"),
                                         ("metadata: {orders: [1]}", "9:24")])
def test_catalog_extra_of_the_wrong_type_is_an_error_naming_the_place(project, extra, where):
    """`schema: [1]` made `smelt run` die of SIGSEGV in the Singer adapter (fnmatch(NULL))."""
    project.write(CSV_PROJECT.format(extra=extra))
    (project.root / "orders.csv").write_text("id\n1\n")
    proc = project.smelt("run", "tap-csv", "target-sqlite")
    assert proc.returncode == 1, proc.stderr
    assert f"smelt.yml:{where}: " in proc.stderr and "must be a mapping" in proc.stderr, proc.stderr
    assert not (project.root / "out.db").exists()


def test_catalog_extras_that_are_mappings_still_run(project):
    project.write(CSV_PROJECT.format(extra="metadata: {orders: {replication-method: FULL_TABLE}}"))
    (project.root / "orders.csv").write_text("id\n1\n2\n")
    project.smelt("run", "tap-csv", "target-sqlite", check=0)


TARGET = """\
#!{python}
import sys
sys.stdin.read()
out = sys.stdout.buffer
out.write(b'{"bookmarks": {"x": 1}}\\n')
out.write(b'{"bookmarks": {"x": 2}} xyz\\n')
out.write(b'{"bookmarks": {"x": 3}}\\x00{"y": 1}\\n')
out.flush()
"""


def test_state_line_with_trailing_text_or_a_nul_is_invalid(project):
    """Meltano's json.loads() refuses both: the state saved is the last whole one, with warnings."""
    target = project.root / "target.py"
    target.write_text(TARGET.replace("{python}", sys.executable))
    target.chmod(0o755)
    project.write(f"""\
default_environment: dev
environments: [{{name: dev}}]
plugins:
  extractors:
  - name: tap-fake
    namespace: tap_fake
    executable: {FAKES}/fake_tap.py
    capabilities: [state]
    config: {{records: 2}}
  loaders:
  - name: target-junk
    namespace: target_junk
    executable: {target}
""")
    proc = project.smelt("run", "tap-fake", "target-junk", check=0)
    assert proc.stderr.count("received state is invalid") == 2, proc.stderr
    got = project.smelt("state", "get", "dev:tap-fake-to-target-junk", check=0)
    assert json.loads(got.stdout)["singer_state"] == {"bookmarks": {"x": 1}}


@pytest.mark.parametrize("args", [("get", "a\tb"), ("set", "a\nb", '{"singer_state": {}}'), ("clear", "a\x1bb"),
                                  ("copy", "ok", "b\x01"), ("merge", "ok", "--from-state-id", "x\ny")])
def test_state_ids_with_control_characters_are_refused(project, args):
    project.write("default_environment: dev\nenvironments: [{name: dev}]\n")
    proc = project.smelt("state", *args)
    assert proc.returncode == 2 and "a state id cannot hold control characters" in proc.stderr, proc.stderr


def test_state_set_value_may_span_lines(project):
    """Only ids are checked: the JSON value of `state set` may hold line breaks."""
    project.write("default_environment: dev\nenvironments: [{name: dev}]\n")
    project.smelt("state", "set", "--force", "id1", '{"singer_state":\n {"a": 1}}', check=0)


def test_tap_csv_refuses_a_nul_in_its_config(tmp_path):
    """An entity name "a\\u0000b" was cut to "a"; now the config is refused with a clear error."""
    (tmp_path / "x.csv").write_text("id\n1\n")
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"files": [{"entity": "a\u0000b", "path": str(tmp_path / "x.csv"), "keys": ["id"]}]}))
    proc = subprocess.run([TAP_CSV, "--config", str(cfg)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "NUL" in proc.stderr and "not allowed" in proc.stderr, proc.stderr
