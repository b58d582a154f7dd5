"""What `smelt run` does before its plugins start: only the adapter that claims the run's plugins is loaded
(the others are known from .smelt/adapters.index), and the run still records everything it did."""
import os
import shutil
import subprocess

from conftest import BUILD, FAKES, SMELT, clean_env

TEST_ADAPTERS = BUILD / "tests" / "adapters"


def write_project(project, extra=""):
    project.write(f"""\
default_environment: dev
environments: [{{name: dev}}]
plugins:
  extractors:
  - name: tap-fake
    namespace: tap_fake
    executable: {FAKES}/fake_tap.py
    capabilities: [state]
    settings:
    - {{name: records, kind: integer}}
    config: {{records: 3, state_every: 5}}
  loaders:
  - name: target-fake
    namespace: target_fake
    executable: {FAKES}/fake_target.py
{extra}""")


def run_traced(project, *args):
    """smelt ARGS with glibc's LD_DEBUG=libs: the process, and the adapter files it loaded."""
    proc = subprocess.run([SMELT, *args], cwd=project.root, env=clean_env({"LD_DEBUG": "libs"}),
                          capture_output=True, text=True, timeout=120)
    libs = [line for line in proc.stderr.splitlines() if "calling init:" in line]
    assert libs, "LD_DEBUG=libs reported no library at all"
    return proc, sorted(os.path.basename(x.split("calling init:")[1].strip())
                        for x in libs if "/adapters/" in x)


def test_run_loads_only_the_adapter_that_claims_its_plugins(project):
    write_project(project)
    proc, first = run_traced(project, "run", "tap-fake", "target-fake")
    assert proc.returncode == 0, proc.stderr
    # no index yet: every adapter was loaded once, to learn what it claims
    assert {"singer.so", "dbt.so", "command.so"} <= set(first), first
    assert oct((project.root / ".smelt/adapters.index").stat().st_mode & 0o777) == "0o600"
    proc, second = run_traced(project, "run", "tap-fake", "target-fake")
    assert proc.returncode == 0, proc.stderr
    assert second == ["singer.so"]
    assert "succeeded: 1 of 1 block" in proc.stderr
    # what the run records is unchanged: the state, the run history, the log, lineage
    state = project.smelt("state", "get", "dev:tap-fake-to-target-fake", check=0)
    assert '"bookmarks"' in state.stdout, state.stdout
    runs = project.smelt("runs", "list", "--format", "json", check=0)
    assert runs.stdout.count('"status": "success"') + runs.stdout.count('"status":"success"') == 2, runs.stdout
    assert len(list((project.root / ".smelt/logs").glob("*/run.log"))) == 2
    assert len(list((project.root / ".smelt/lineage").glob("*.jsonl"))) == 2


def test_a_command_block_loads_only_its_adapter(project):
    write_project(project, """\
  utilities:
  - name: hello
    namespace: hello
    executable: /bin/echo
    commands:
      hi: "hello from the command adapter"
""")
    project.smelt("run", "hello:hi", check=0)
    proc, loaded = run_traced(project, "run", "hello:hi")
    assert proc.returncode == 0, proc.stderr
    assert loaded == ["command.so"]


def test_an_adapter_added_or_replaced_after_the_index_is_found(project):
    write_project(project, """\
  utilities:
  - name: thing
    namespace: test_thing
""")
    proc = project.smelt("run", "--dry-run", "thing:x", check=0)  # a utility: the command adapter's
    assert "(adapter 'command')" in proc.stderr, proc.stderr
    assert not (project.root / ".smelt").exists()  # a dry run in a new project leaves nothing behind
    project.smelt("run", "thing:x", check=1)  # it has no command x
    assert (project.root / ".smelt/adapters.index").exists()  # written once the run made .smelt
    (project.root / "adapters").mkdir()
    shutil.copy(TEST_ADAPTERS / "abi_minor_older.so", project.root / "adapters/mine.so")
    proc, loaded = run_traced(project, "run", "--dry-run", "thing:x")
    assert proc.returncode == 0, proc.stderr
    assert "(adapter 'test_older')" in proc.stderr, proc.stderr
    assert loaded == ["mine.so"]
    # (test_older claims the namespace test_*, which beats the command adapter's claim of every utility)
    # the same file name, another adapter in it: loaded again, not taken from the index
    os.unlink(project.root / "adapters/mine.so")
    shutil.copy(TEST_ADAPTERS / "ok.so", project.root / "adapters/mine.so")
    proc, loaded = run_traced(project, "run", "--dry-run", "thing:x")
    assert proc.returncode == 0, proc.stderr
    assert "(adapter 'test_ok')" in proc.stderr, proc.stderr
    assert loaded == ["mine.so"]
    # and gone: the command adapter claims it again
    os.unlink(project.root / "adapters/mine.so")
    proc, loaded = run_traced(project, "run", "--dry-run", "thing:x")
    assert proc.returncode == 0, proc.stderr
    assert "(adapter 'command')" in proc.stderr, proc.stderr
    assert loaded == ["command.so"]
