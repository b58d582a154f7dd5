"""Behaviour scripts depend on (issue 16), compared with real Meltano 4.4.1 (from PyPI): each test runs
the same commands with `meltano` and with `smelt` on two copies of one project and compares what a
script sees (exit code, printed JSON, files written).

- `state get` of an unknown id, `state set/clear/copy/move` without a terminal (confirmation,
  `--force`), `state edit` ($EDITOR), `state export` / `state import`.
- `add` of a plugin that is already in the project; `add --install`.
- `run` options after the blocks (`--full-refresh`, `--state-id-suffix`)."""
import json
import os
import shutil
import stat
import subprocess

import pytest

from conftest import LIBEXEC, SMELT, clean_env, uv_venv

MELTANO_ENV = {"MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", "MELTANO_DISABLE_TRACKING": "true",
               "MELTANO_CLI_DISABLE_VERSION_CHECK": "true"}


@pytest.fixture(scope="module")
def meltano(tmp_path_factory):
    venv = uv_venv(tmp_path_factory.mktemp("meltano") / "venv", "meltano==4.4.1")
    return venv / "bin/meltano"


def project_yml(root):
    return f"""\
default_environment: dev
project_id: 6f1c1a2e-0000-4000-8000-000000000016
send_anonymous_usage_stats: false
environments:
- name: dev
plugins:
  extractors:
  - name: tap-csv
    namespace: tap_csv
    executable: {LIBEXEC}/tap-csv
    capabilities: [catalog, discover, state, about]
    settings:
    - name: files
      kind: array
    config:
      files:
      - {{entity: people, path: {root}/people.csv, keys: [id], replication_key: id}}
  loaders:
  - name: target-jsonl
    namespace: target_jsonl
    executable: {LIBEXEC}/target-jsonl
    settings:
    - name: destination_path
    - name: do_timestamp_file
      kind: boolean
    config:
      destination_path: {root}/out
"""


class Pair:
    """Two copies of one project, `meltano/` and `smelt/`, and a way to run one command in both."""

    def __init__(self, meltano, tmp_path):
        self.meltano = meltano
        self.roots = {}
        for tool in ("meltano", "smelt"):
            root = tmp_path / tool
            root.mkdir(parents=True)
            (root / "meltano.yml").write_text(project_yml(root))
            (root / "people.csv").write_text("id,name\n1,a\n2,b\n3,c\n")
            (root / "out").mkdir()
            self.roots[tool] = root

    def run(self, tool, *args, input="", env=None):
        exe = [str(self.meltano)] if tool == "meltano" else [SMELT]
        extra = {**MELTANO_ENV, **(env or {})} if tool == "meltano" else env
        return subprocess.run([*exe, *map(str, args)], cwd=self.roots[tool], env=clean_env(extra),
                              capture_output=True, text=True, timeout=600, input=input)

    def both(self, *args, **kw):
        """(meltano's result, smelt's result)."""
        return self.run("meltano", *args, **kw), self.run("smelt", *args, **kw)


@pytest.fixture
def pair(meltano, tmp_path):
    return Pair(meltano, tmp_path)


def test_state_get_of_unknown_id(pair):
    m, s = pair.both("state", "get", "dev:nothing-here")
    assert (m.returncode, m.stdout) == (s.returncode, s.stdout) == (0, "{}\n"), (m.stderr, s.stderr)


def test_state_writes_ask_for_confirmation_without_terminal(pair):
    state = '{"singer_state": {"bookmarks": {"x": 1}}}'
    # no answer on stdin: aborted, exit 1, nothing saved
    for args in (("set", "dev:a", state), ("clear", "dev:a"), ("copy", "dev:a", "dev:b"), ("move", "dev:a", "dev:b")):
        m, s = pair.both("state", *args)
        assert m.returncode == s.returncode == 1, (args, m.stderr, s.stderr)
        assert m.stdout == s.stdout and "Continue? [y/N]: " in s.stdout, (m.stdout, s.stdout)
        assert "Aborted!" in m.stderr and "Aborted!" in s.stderr
    m, s = pair.both("state", "get", "dev:a")
    assert m.stdout == s.stdout == "{}\n"
    # "n" is a refusal (exit 1), "y" a consent, --force needs no answer
    m, s = pair.both("state", "set", "dev:a", state, input="n\n")
    assert m.returncode == s.returncode == 1
    m, s = pair.both("state", "set", "dev:a", state, input="y\n")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    m, s = pair.both("state", "copy", "--force", "dev:a", "dev:b")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    m, s = pair.both("state", "get", "dev:b")
    assert m.stdout == s.stdout == '{"singer_state":{"bookmarks":{"x":1}}}\n'
    m, s = pair.both("state", "clear", "--force", "dev:b")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    m, s = pair.both("state", "get", "dev:b")
    assert m.stdout == s.stdout == "{}\n"


def test_state_edit_opens_the_editor(pair, tmp_path):
    editor = tmp_path / "editor.sh"
    log = tmp_path / "seen"
    # the editor records what it was shown and writes a new state
    editor.write_text(f"#!/bin/sh\ncat \"$1\" >> '{log}'\n"
                      "printf '{\"singer_state\": {\"bookmarks\": {\"edited\": 7}}}' > \"$1\"\n")
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    env = {"EDITOR": str(editor), "VISUAL": str(editor)}
    m, s = pair.both("state", "edit", "dev:e", env=env)  # no terminal, no --force: nothing opened
    assert m.returncode == s.returncode == 1 and not log.exists()
    pair.both("state", "set", "--force", "dev:e", '{"singer_state": {"bookmarks": {"before": 1}}}')
    shown = []
    for tool in ("meltano", "smelt"):
        proc = pair.run(tool, "state", "edit", "--force", "dev:e", env=env)
        assert proc.returncode == 0, proc.stderr
        shown.append(json.loads(log.read_text()))
        log.unlink()
    assert shown[0] == shown[1] == {"singer_state": {"bookmarks": {"before": 1}}}
    m, s = pair.both("state", "get", "dev:e")
    assert m.stdout == s.stdout == '{"singer_state":{"bookmarks":{"edited":7}}}\n'


def test_state_export_and_import(pair):
    for tool in ("meltano", "smelt"):
        for sid, n in (("dev:one", 1), ("dev:two", 2)):
            proc = pair.run(tool, "state", "set", "--force", sid, json.dumps({"singer_state": {"bookmarks": {"n": n}}}))
            assert proc.returncode == 0, proc.stderr
    m, s = pair.both("state", "export")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    assert json.loads(m.stdout) == json.loads(s.stdout) == {
        "dev:one": {"completed": {"singer_state": {"bookmarks": {"n": 1}}}, "partial": {}},
        "dev:two": {"completed": {"singer_state": {"bookmarks": {"n": 2}}}, "partial": {}}}
    exported = m.stdout
    # what Meltano exported, imported by both (stdin) into cleared projects, then read back
    pair.both("state", "clear", "--force", "--all")
    m, s = pair.both("state", "import", input=exported)
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    m, s = pair.both("state", "get", "dev:two")
    assert m.stdout == s.stdout == '{"singer_state":{"bookmarks":{"n":2}}}\n'
    # not a JSON object: both refuse with a usage error
    m, s = pair.both("state", "import", input="[1]")
    assert m.returncode == s.returncode == 2, (m.stderr, s.stderr)


# ---- add ------------------------------------------------------------------------------------------------

COWSAY = """\
name: cowsay
namespace: cowsay
variant: local
label: cowsay
pip_url: cowsay==6.1
executable: cowsay
"""


@pytest.fixture
def hub(tmp_path):
    """The loopback Hub (tests/fixtures/hub), plus a utility `cowsay` whose pip_url is a tiny PyPI package."""
    from hubserver import HubServer
    from conftest import HUB_FIXTURES
    root = tmp_path / "hub"
    shutil.copytree(HUB_FIXTURES, root)
    (root / "definitions/utilities/cowsay").mkdir()
    (root / "definitions/utilities/cowsay/local.yml").write_text(COWSAY)
    srv = HubServer(str(root)).start()
    try:
        yield {"MELTANO_HUB_API_ROOT": srv.api_root, "SMELT_HUB_URL": srv.api_root}
    finally:
        srv.stop()


def fresh_pair(meltano, tmp_path):
    p = Pair(meltano, tmp_path / "projects")
    for root in p.roots.values():
        (root / "meltano.yml").write_text("default_environment: dev\nproject_id: x\nenvironments:\n- name: dev\n")
    return p


def test_add_of_an_existing_plugin(meltano, hub, tmp_path):
    p = fresh_pair(meltano, tmp_path)
    m, s = p.both("add", "--no-install", "tap-csv", env=hub)
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    before = {}
    for tool, root in p.roots.items():
        assert p.run(tool, "config", "set", "tap-csv", "delimiter", ";", env=hub).returncode == 0
        (root / "plugins/extractors/tap-csv--meltanolabs.lock").unlink()
        before[tool] = (root / "meltano.yml").read_text()
    # the same variant again: updated (the lock comes back), the project file and its config are kept
    m, s = p.both("add", "--no-install", "tap-csv", env=hub)
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    assert "Updated extractor 'tap-csv' in your project" in m.stdout and "Updated extractor 'tap-csv'" in s.stdout
    for tool, root in p.roots.items():
        assert (root / "meltano.yml").read_text() == before[tool]
        assert sorted(x.name for x in (root / "plugins/extractors").iterdir()) == ["tap-csv--meltanolabs.lock"]
    assert (p.roots["meltano"] / "meltano.yml").read_text() == (p.roots["smelt"] / "meltano.yml").read_text()
    # another variant: nothing changes, a message says why, exit 0
    m, s = p.both("add", "--no-install", "tap-csv", "--variant", "meltano", env=hub)
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    assert "Extractor 'tap-csv' already exists in your" in m.stderr and "Extractor 'tap-csv' already exists" in s.stderr
    assert "--inherit-from tap-csv --variant meltano" in m.stdout and "--inherit-from tap-csv --variant meltano" in s.stdout
    for tool, root in p.roots.items():
        assert (root / "meltano.yml").read_text() == before[tool]
        assert sorted(x.name for x in (root / "plugins/extractors").iterdir()) == ["tap-csv--meltanolabs.lock"]


def test_add_install_installs(meltano, hub, tmp_path):
    p = fresh_pair(meltano, tmp_path)
    env = {**hub, "SMELT_TOOL_CACHE": os.environ.get("SMELT_TOOL_CACHE", "")}
    m, s = p.both("add", "--install", "cowsay", env=env)
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    # installed: the plugin runs at once, offline, with nothing installed by `invoke`
    for tool in ("meltano", "smelt"):
        proc = p.run(tool, "invoke", "--no-install", "cowsay", "-t", "moo-from-" + tool, env=env)
        assert proc.returncode == 0 and "moo-from-" + tool in proc.stdout, (tool, proc.stdout, proc.stderr)


# ---- run ------------------------------------------------------------------------------------------------

def test_run_options_after_the_blocks(pair):
    def rows(tool):
        path = pair.roots[tool] / "out/people.jsonl"
        return [json.loads(line)["id"] for line in path.read_text().splitlines()] if path.exists() else []

    m, s = pair.both("run", "tap-csv", "target-jsonl", "--state-id-suffix", "x")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    m, s = pair.both("state", "list")
    assert m.stdout.split() == s.stdout.split() == ["dev:tap-csv-to-target-jsonl:x"]
    m, s = pair.both("state", "get", "dev:tap-csv-to-target-jsonl:x")
    assert json.loads(m.stdout) == json.loads(s.stdout) and json.loads(s.stdout)["singer_state"]["bookmarks"]
    # incremental from the bookmark of that suffix: nothing new; --full-refresh (last) extracts everything again
    m, s = pair.both("run", "tap-csv", "target-jsonl", "--state-id-suffix=x")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    m, s = pair.both("run", "tap-csv", "target-jsonl", "--state-id-suffix", "x", "--full-refresh")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    assert rows("meltano") == rows("smelt") == [1, 2, 3, 1, 2, 3]


def test_command_args_expand_variables_per_word(pair):
    # $VAR and ${VAR} in a command's args come from the plugin's environment, each word expanded after
    # the args are split (a value with a blank stays one argument); a word that expands to nothing fails
    for root in pair.roots.values():
        yml = root / "meltano.yml"
        yml.write_text(yml.read_text() + """\
  utilities:
  - name: show
    namespace: show
    executable: /usr/bin/printf
    env:
      WHO: big world
      GREETING: hello
    commands:
      hello:
        args: "'[%s]' $WHO ${GREETING} $MISSING_NOT_SET_ANYWHERE"
      partial:
        args: "'[%s]' pre-${WHO}-post"
""")
    m, s = pair.both("invoke", "show:partial")
    assert (m.returncode, m.stdout) == (s.returncode, s.stdout) == (0, "[pre-big world-post]"), (m.stderr, s.stderr)
    m, s = pair.both("invoke", "show:hello")
    assert m.returncode != 0 and s.returncode != 0, (m.stdout, s.stdout)
    assert "MISSING_NOT_SET_ANYWHERE" in s.stderr and "expands to nothing" in s.stderr
