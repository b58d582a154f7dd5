"""Utilities and their `commands:` as run blocks and `smelt test` targets (issue 16), compared with real
Meltano 4.4.1: the same project copied twice, each command run with `meltano` and with `smelt`.

Smelt runs them through its command adapter (plugins/command), which claims the utility plugin type:
- `run PLUGIN:CMD` runs the command with the plugin's environment; a non-zero exit fails the run (exit 1)
  with Meltano's message "`PLUGIN CMD` failed with exit code: N", and later blocks do not run;
- `test PLUGIN[:TEST]` runs the commands named test* (or the one named), prints Meltano's report and
  exits 1 when one failed;
- sqlfluff (from PyPI) as a hub-style utility: `run sqlfluff:lint` passes on clean SQL and fails on bad."""
import os

import pytest

from conftest import uv_venv
from test_meltano_parity import Pair

TOOL = """\
#!{python}
import os, sys
print("tool says", " ".join(sys.argv[1:]), os.environ.get("GREETING", "-"))
print("to stderr", file=sys.stderr)
with open(os.path.join(os.environ["MELTANO_PROJECT_ROOT"], "calls.txt"), "a") as f:
    f.write(" ".join(sys.argv[1:]) + "\\n")
sys.exit(3 if "fail" in sys.argv else 0)
"""

UTILITY = """\
  utilities:
  - name: mytool
    namespace: mytool
    executable: {root}/tool.py
    env:
      GREETING: hi
    commands:
      good: ok one
      bad:
        args: fail two
        description: fails on purpose
      other:
        args: from-other $GREETING
        executable: {root}/tool.py
      test_good: testing good
      test_bad: testing fail
"""


@pytest.fixture(scope="module")
def meltano(tmp_path_factory):
    venv = uv_venv(tmp_path_factory.mktemp("meltano") / "venv", "meltano==4.4.1")
    return venv / "bin/meltano"


@pytest.fixture
def pair(meltano, tmp_path):
    import sys
    p = Pair(meltano, tmp_path)
    for root in p.roots.values():
        tool = root / "tool.py"
        tool.write_text(TOOL.format(python=sys.executable))
        tool.chmod(0o755)
        yml = root / "meltano.yml"
        yml.write_text(yml.read_text() + UTILITY.format(root=root))
    return p


def calls(pair, tool):
    path = pair.roots[tool] / "calls.txt"
    lines = path.read_text().splitlines() if path.exists() else []
    if path.exists():
        path.unlink()
    return lines


def test_utility_commands_as_run_blocks(pair):
    # a succeeding command, a bare plugin (its executable without arguments), an object-form command
    # with its own executable and a $VAR: all exit 0 and run the same commands
    m, s = pair.both("run", "mytool:good", "mytool", "mytool:other")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    assert calls(pair, "meltano") == calls(pair, "smelt") == ["ok one", "", "from-other hi"]
    # what the tool printed (stdout and stderr) is in the run's log
    logs = "".join(p.read_text() for p in (pair.roots["smelt"] / ".smelt/logs").glob("*/run.log"))
    assert "tool says ok one hi" in logs and "to stderr" in logs, logs
    # a failing command fails the run with exit 1 and Meltano's message; the next block does not run
    m, s = pair.both("run", "mytool:good", "mytool:bad", "mytool:other")
    assert m.returncode == s.returncode == 1, (m.stderr, s.stderr)
    assert calls(pair, "meltano") == calls(pair, "smelt") == ["ok one", "fail two"]
    assert "`mytool bad` failed with exit code: 3" in s.stderr, s.stderr
    # an unknown command: both fail
    m, s = pair.both("run", "mytool:nope")
    assert m.returncode == s.returncode == 1, (m.stderr, s.stderr)
    assert calls(pair, "meltano") == calls(pair, "smelt") == []


def test_utility_tests(pair):
    # all test* commands: the same report on stdout, exit 1 as one failed
    m, s = pair.both("test", "mytool")
    assert m.returncode == s.returncode == 1, (m.stderr, s.stderr)
    assert m.stdout == s.stdout, (m.stdout, s.stdout)
    assert "mytool:test_bad..................................... failure" in s.stdout
    assert "1 test(s) successful. 1 test(s) failed." in s.stdout
    assert calls(pair, "meltano") == calls(pair, "smelt") == ["testing good", "testing fail"]
    # one test by name passes; --all finds the same failing one
    m, s = pair.both("test", "mytool:test_good")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    assert m.stdout == s.stdout
    assert calls(pair, "meltano") == calls(pair, "smelt") == ["testing good"]
    m, s = pair.both("test", "--all")
    assert m.returncode == s.returncode == 1, (m.stderr, s.stderr)
    assert calls(pair, "meltano") == calls(pair, "smelt") == ["testing good", "testing fail"]


SQLFLUFF = """\
  - name: sqlfluff
    namespace: sqlfluff
    pip_url: sqlfluff==4.5.0
    executable: sqlfluff
    commands:
      lint:
        args: lint --dialect ansi sql
        description: Lint SQL in the sql folder
"""


def test_sqlfluff_lint(pair):
    env = {"SMELT_TOOL_CACHE": os.environ.get("SMELT_TOOL_CACHE", "")}
    for root in pair.roots.values():
        yml = root / "meltano.yml"
        yml.write_text(yml.read_text() + SQLFLUFF)
        (root / "sql").mkdir()
        (root / "sql/good.sql").write_text("SELECT a\nFROM b\n")
    m, s = pair.both("install", "sqlfluff", env=env)
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    m, s = pair.both("run", "sqlfluff:lint", env=env)
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    for root in pair.roots.values():
        (root / "sql/bad.sql").write_text("select a,b from   c  \n")
    m, s = pair.both("run", "sqlfluff:lint", env=env)
    assert m.returncode == s.returncode == 1, (m.stderr, s.stderr)
    assert "`sqlfluff lint` failed with exit code: 1" in s.stderr, s.stderr


OTHER = """\
  - name: other
    namespace: other
    executable: {root}/tool.py
    commands:
      plain: plain
      test_x: other x
      test_y: other fail y
"""


TESTED_TAP = """\
  - name: tap-tested
    namespace: tap_tested
    executable: {root}/tool.py
    commands:
      test: tap test
      test_fails: tap test fail
      describe: tap describe
  loaders:
"""


def test_tests_of_an_extractor(pair):
    """An extractor's test* commands run as Meltano runs them (its adapter has no tests of its own): in the
    report, a non-zero exit a failure; stdout and the exit code as Meltano's."""
    for root in pair.roots.values():
        yml = root / "meltano.yml"
        yml.write_text(yml.read_text().replace("  loaders:\n", TESTED_TAP.format(root=root), 1))
    for args, rc, summary, ran in (
            (("tap-tested",), 1, "1 test(s) successful. 1 test(s) failed.", ["tap test", "tap test fail"]),
            (("tap-tested:test",), 0, "1 test(s) successful. 0 test(s) failed.", ["tap test"]),
            (("tap-tested:describe",), 0, "1 test(s) successful. 0 test(s) failed.", ["tap describe"])):
        m, s = pair.both("test", *args)
        assert m.returncode == s.returncode == rc, (args, m.stderr, s.stderr)
        assert m.stdout == s.stdout, (args, m.stdout, s.stdout)
        assert summary in s.stdout, s.stdout
        assert calls(pair, "meltano") == calls(pair, "smelt") == ran, args


def test_one_report_for_several_plugins(pair):
    """Several plugins (named in any order, --all, a test named twice, an extractor without tests): the tests
    run plugin after plugin in the project's order and one report covers them all, as Meltano's."""
    for root in pair.roots.values():
        yml = root / "meltano.yml"
        yml.write_text(yml.read_text() + OTHER.format(root=root))
    for args, rc, summary in (
            (("other", "mytool"), 1, "2 test(s) successful. 2 test(s) failed."),
            (("other:test_x", "mytool:test_good", "other:plain", "other:test_x"), 0,
             "3 test(s) successful. 0 test(s) failed."),
            (("--all",), 1, "2 test(s) successful. 2 test(s) failed."),
            (("tap-csv",), 0, "0 test(s) successful. 0 test(s) failed.")):
        m, s = pair.both("test", *args)
        assert m.returncode == s.returncode == rc, (args, m.stderr, s.stderr)
        assert m.stdout == s.stdout, (args, m.stdout, s.stdout)
        assert s.stdout.count("Testing completed") == 1 and summary in s.stdout, s.stdout
        assert calls(pair, "meltano") == calls(pair, "smelt"), args
    # the first run's report: mytool's tests first (it comes first in the project), then other's
    m, s = pair.both("test", "other", "mytool")
    report = [line for line in s.stdout.splitlines() if line.endswith((" success", " failure"))]
    assert report == ["mytool:test_good.................................... success",
                      "mytool:test_bad..................................... failure",
                      "other:test_x........................................ success",
                      "other:test_y........................................ failure"], s.stdout
    assert calls(pair, "meltano") == calls(pair, "smelt") == ["testing good", "testing fail", "other x",
                                                              "other fail y"]
    # a plugin that is not in the project: nothing runs, exit 1
    m, s = pair.both("test", "mytool", "nope")
    assert m.returncode == s.returncode == 1
    assert calls(pair, "meltano") == calls(pair, "smelt") == []
    assert "plugin 'nope' is not in meltano.yml" in s.stderr
