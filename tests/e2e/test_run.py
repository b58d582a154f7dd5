"""smelt run: EL blocks through kernel pipes, incremental state, and every fault of issue 5."""
import json
import re
import signal
import sqlite3
import sys
import time
import uuid

import pytest

from conftest import FAKES, SMELT, processes_matching, wait_until


def fake_project(project, tap_config, target_config, marker=None):
    marker = marker or f"m{uuid.uuid4().hex[:12]}"
    project.write(f"""\
default_environment: dev
environments:
- name: dev
plugins:
  extractors:
  - name: tap-fake
    namespace: tap_fake
    executable: {FAKES}/fake_tap.py
    capabilities: [state]
    config: {json.dumps({**tap_config, "marker": marker})}
  loaders:
  - name: target-fake
    namespace: target_fake
    executable: {FAKES}/fake_target.py
    config: {json.dumps({**target_config, "marker": marker})}
""")
    return marker


def saved_state(project, state_id="dev:tap-fake-to-target-fake"):
    proc = project.smelt("state", "get", state_id)
    return json.loads(proc.stdout).get("singer_state") if proc.returncode == 0 else None


def test_fake_pipeline_saves_last_state(project):
    fake_project(project, {"records": 12, "state_every": 5}, {})
    project.smelt("run", "tap-fake", "target-fake", check=0)
    assert saved_state(project) == {"bookmarks": {"things": {"id": 12}}}
    # the second run starts from the bookmark: the tap saw --state
    project.smelt("run", "tap-fake", "target-fake", check=0)
    assert saved_state(project) == {"bookmarks": {"things": {"id": 24}}}


def test_tap_crash_keeps_last_committed_state(project):
    fake_project(project, {"records": 12, "state_every": 5, "mode": "crash"}, {})
    proc = project.smelt("run", "tap-fake", "target-fake")
    assert proc.returncode == 1
    assert "Extractor failed" in proc.stderr and "tap-fake" in proc.stderr and "exit code 3" in proc.stderr
    assert "boom, crashing on purpose" in proc.stderr  # the tap's stderr, logged with its name
    assert saved_state(project) == {"bookmarks": {"things": {"id": 10}}}


def test_target_crash_keeps_state_it_emitted(project):
    fake_project(project, {"records": 30, "state_every": 5}, {"mode": "crash_after", "records": 12})
    proc = project.smelt("run", "tap-fake", "target-fake")
    assert proc.returncode == 1
    assert "Loader failed" in proc.stderr and "target-fake" in proc.stderr
    assert saved_state(project) == {"bookmarks": {"things": {"id": 10}}}


def test_target_that_never_reads_does_not_hang(project):
    marker = fake_project(project, {"records": 200000, "state_every": 1000}, {"mode": "never_read", "sleep": 1})
    t0 = time.time()
    proc = project.smelt("run", "tap-fake", "target-fake", timeout=120)
    assert proc.returncode == 1
    assert time.time() - t0 < 60
    # The loader is named as failed.  Whether the extractor is too depends on a race the target starts:
    # once it is gone, the tap either dies of SIGPIPE or the host's SIGTERM ("Loader failed"), or first
    # sees EPIPE on a write and exits 1 by itself ("Extractor and loader failed"), as Meltano reports it.
    assert re.search(r"(Loader|Extractor and loader) failed: .*'target-fake'", proc.stderr), proc.stderr
    assert saved_state(project) is None
    assert processes_matching(str(project.root)) == []  # the config paths hold the root


def test_malformed_tap_line_is_reported_with_the_plugin(project):
    project.write(f"""\
default_environment: dev
environments: [{{name: dev}}]
plugins:
  extractors:
  - name: tap-fake
    namespace: tap_fake
    executable: {FAKES}/fake_tap.py
    capabilities: [state]
    config: {{records: 7, state_every: 5, mode: malformed}}
  loaders:
  - name: target-sqlite
    variant: smelt
    config: {{database: out.db}}
""")
    proc = project.smelt("run", "tap-fake", "target-sqlite")
    assert proc.returncode == 1
    assert "Loader failed" in proc.stderr
    # the target's own error reaches the user, prefixed with its name, naming the line
    assert any("target-sqlite" in line and "line" in line for line in proc.stderr.splitlines()
               if "error" in line.lower()), proc.stderr
    state = saved_state(project, "dev:tap-fake-to-target-sqlite")
    assert state in (None, {"bookmarks": {"things": {"id": 5}}})


def test_malformed_state_line_is_ignored_with_a_warning(project):
    fake_project(project, {"records": 6, "state_every": 3}, {"mode": "bad_state"})
    proc = project.smelt("run", "tap-fake", "target-fake", check=0)
    assert "received state is invalid" in proc.stderr and "target-fake" in proc.stderr
    assert saved_state(project) == {"bookmarks": {"things": {"id": 6}}}


def test_missing_executable(project):
    project.write("""\
default_environment: dev
environments: [{name: dev}]
plugins:
  extractors:
  - name: tap-nowhere
    namespace: tap_nowhere
    executable: smelt-no-such-tap-xyz
  loaders:
  - name: target-jsonl
    variant: smelt
""")
    proc = project.smelt("run", "tap-nowhere", "target-jsonl")
    assert proc.returncode == 1
    assert "cannot run 'smelt-no-such-tap-xyz'" in proc.stderr


def test_200mb_single_line_passes_the_relay(project):
    fake_project(project, {"mode": "huge", "huge_mb": 200}, {"mode": "count"})
    project.smelt("run", "tap-fake", "target-fake", check=0, timeout=300)
    state = saved_state(project)
    assert state["lines"] == 3
    assert state["bytes"] > 200 * 1024 * 1024


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_stops_everything_and_keeps_state(project, sig):
    marker = fake_project(project, {"records": 1000, "state_every": 2, "mode": "slow"}, {})
    proc = project.smelt.popen("run", "tap-fake", "target-fake")
    wait_until(lambda: saved_state(project), what="a first saved state")
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert ("interrupted" if sig == signal.SIGINT else "terminated") in err
    assert processes_matching(str(project.root)) == []  # the config paths hold the root
    state = saved_state(project)
    assert state is not None and state["bookmarks"]["things"]["id"] % 2 == 0
    assert 2 <= state["bookmarks"]["things"]["id"] < 1000


def test_second_run_of_same_pipeline_is_refused(project):
    fake_project(project, {"records": 1000, "state_every": 2, "mode": "slow"}, {})
    first = project.smelt.popen("run", "tap-fake", "target-fake")
    try:
        wait_until(lambda: saved_state(project), what="the first run's first saved state")
        proc = project.smelt("run", "tap-fake", "target-fake")
        assert proc.returncode == 1
        assert "already running" in proc.stderr and "dev:tap-fake-to-target-fake" in proc.stderr
        # alive on this machine: it will end, not go stale; the message says which process to wait for
        assert f"smelt process {first.pid} on this machine); wait for it to end" in proc.stderr, proc.stderr
        assert "if stale" not in proc.stderr, proc.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)


def test_timeout_stops_the_run(project):
    fake_project(project, {"records": 1000, "state_every": 2, "mode": "slow"}, {})
    proc = project.smelt("run", "--timeout", "2", "tap-fake", "target-fake")
    assert proc.returncode == 1
    assert "timed out" in proc.stderr


def test_block_grammar_errors(project):
    fake_project(project, {}, {})
    proc = project.smelt("run", "tap-fake")
    assert proc.returncode == 1 and "Loader missing in block set!" in proc.stderr
    proc = project.smelt("run", "nope")
    assert proc.returncode == 1 and "Block nope not found" in proc.stderr
    proc = project.smelt("run", "target-fake")
    assert proc.returncode == 1 and "bad block sequence" in proc.stderr


def test_dry_run_and_no_state_update(project):
    fake_project(project, {"records": 4, "state_every": 2}, {})
    proc = project.smelt("run", "--dry-run", "tap-fake", "target-fake", check=0)
    assert "Dry run" in proc.stderr
    assert saved_state(project) is None
    project.smelt("run", "--no-state-update", "tap-fake", "target-fake", check=0)
    assert saved_state(project) is None


def test_full_refresh_saves_partial_state(project):
    fake_project(project, {"records": 4, "state_every": 2}, {})
    project.smelt("run", "tap-fake", "target-fake", check=0)
    project.smelt("run", "--full-refresh", "tap-fake", "target-fake", check=0)
    # full refresh: the tap started from scratch, so the bookmark is 4 again
    assert saved_state(project) == {"bookmarks": {"things": {"id": 4}}}


def test_csv_to_sqlite_incremental(project):
    data = project.root / "data"
    data.mkdir()
    (data / "orders.csv").write_text("id,amount,note\n1,10.5,first\n2,20,\"with, comma\"\n")
    project.write("""\
default_environment: dev
environments: [{name: dev}]
plugins:
  extractors:
  - name: tap-csv
    variant: smelt
    config:
      files:
      - {entity: orders, path: data/orders.csv, keys: [id], replication_key: id}
  loaders:
  - name: target-sqlite
    variant: smelt
    config: {database: output/wh.db}
""")
    project.smelt("run", "tap-csv", "target-sqlite", check=0)
    db = project.root / "output/wh.db"
    rows = sqlite3.connect(db).execute("SELECT id, amount, note FROM orders ORDER BY id").fetchall()
    assert rows == [(1, 10.5, "first"), (2, 20, "with, comma")]
    state = saved_state(project, "dev:tap-csv-to-target-sqlite")
    assert state["bookmarks"]["orders"]["replication_key_value"] == 2
    with open(data / "orders.csv", "a") as f:
        f.write("3,30,third\n")
    proc = project.smelt("run", "tap-csv", "target-sqlite", check=0)
    rows = sqlite3.connect(db).execute("SELECT id FROM orders ORDER BY id").fetchall()
    assert rows == [(1,), (2,), (3,)]
    assert saved_state(project, "dev:tap-csv-to-target-sqlite")["bookmarks"]["orders"]["replication_key_value"] == 3
    # the run is recorded, and its config files are gone
    assert not list((project.root / ".smelt/run").rglob("*.config.json"))
    assert list((project.root / ".smelt/logs").iterdir())


def test_state_commands(project):
    fake_project(project, {}, {})
    s = project.smelt
    s("state", "set", "--force", "dev:a-to-b", '{"singer_state": {"bookmarks": {"x": 1}}}', check=0)
    s("state", "merge", "dev:a-to-b", '{"singer_state": {"bookmarks": {"y": 2}}}', check=0)
    assert json.loads(s("state", "get", "dev:a-to-b", check=0).stdout) == {"singer_state": {"bookmarks": {"x": 1, "y": 2}}}
    proc = s("state", "set", "--force", "dev:a-to-b", '{"bookmarks": {}}')
    assert proc.returncode == 1 and "singer_state" in proc.stderr
    s("state", "copy", "--force", "dev:a-to-b", "dev:c-to-d", check=0)
    s("state", "move", "--force", "dev:c-to-d", "dev:e-to-f", check=0)
    ids = [x["state_id"] for x in json.loads(s("state", "list", "--format", "json", check=0).stdout)["states"]]
    assert ids == ["dev:a-to-b", "dev:e-to-f"]
    assert s("state", "list", "--pattern", "dev:e*", check=0).stdout.split() == ["dev:e-to-f"]
    s("state", "clear", "--force", "dev:a-to-b", check=0)
    assert s("state", "get", "dev:a-to-b", check=0).stdout == "{}\n"


def state_ids(project):
    return [x["state_id"] for x in project.smelt.json("state", "list", "--format", "json")["states"]]


def test_state_clear_refuses_an_id_with_all(project):
    """Meltano: "a state ID or the --all flag must be provided, but not both"; --all never widens a clear."""
    fake_project(project, {}, {})
    s = project.smelt
    for sid in ("dev:a-to-b", "dev:c-to-d"):
        s("state", "set", "--force", sid, '{"singer_state": {"bookmarks": {"x": 1}}}', check=0)
    for args in (("clear", "--force", "dev:a-to-b", "--all"), ("clear", "--all", "--force", "dev:a-to-b"),
                 ("clear", "--force", "--all", "dev:a-to-b", "dev:c-to-d"), ("clear", "--force", "a", "b"),
                 ("list", "--all"), ("copy", "--force", "--all", "dev:a-to-b", "dev:x"),
                 ("get", "--all", "dev:a-to-b")):
        proc = s("state", *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "cleared" not in proc.stderr, (args, proc.stderr)
        assert state_ids(project) == ["dev:a-to-b", "dev:c-to-d"], args
    proc = s("state", "clear", "--force", "dev:a-to-b", "--all")
    assert "'state clear' takes one state id or --all, but not both" in proc.stderr
    assert "--all only goes with 'clear'" in s("state", "list", "--all").stderr
    assert json.loads(s("state", "get", "dev:a-to-b", check=0).stdout) == {"singer_state": {"bookmarks": {"x": 1}}}


def test_state_arguments_are_checked_before_the_prompt(project):
    """A usage error comes first: no "Continue?" to answer for a command that cannot run."""
    fake_project(project, {}, {})
    s = project.smelt
    s("state", "set", "--force", "dev:a-to-b", '{"singer_state": {"bookmarks": {"x": 1}}}', check=0)
    for args in (("copy", "nightly"), ("move", "dev:a-to-b"), ("clear",), ("clear", "dev:a-to-b", "--all"),
                 ("set", "dev:a-to-b"), ("set", "dev:x", "{}", "--input-file", "state.json"), ("edit",),
                 ("set", "dev:x", "{}", "--from-state-id", "dev:a-to-b")):
        proc = s("state", *args, input="y\n")
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Continue?" not in proc.stdout, (args, proc.stdout)
        assert "see 'smelt state --help'" in proc.stderr, (args, proc.stderr)
    assert "'state copy' takes SRC and DST" in s("state", "copy", "nightly").stderr
    # an option of another subcommand, or a format the subcommand has not, is refused rather than ignored
    for args, want in ((("get", "dev:a-to-b", "--pattern", "dev:*"), "--pattern only goes with 'list'"),
                       (("list", "--format", "xml"), "'state list --format' takes text or json, not 'xml'"),
                       (("get", "dev:a-to-b", "--format", "text"), "'state get --format' takes json or pretty"),
                       (("copy", "--force", "dev:a-to-b", "dev:z", "--input-file", "f.json"),
                        "--input-file only goes with 'set' and 'merge'"),
                       (("export", "--format", "json"), "--format only goes with 'list' and 'get'")):
        proc = s("state", *args)
        assert proc.returncode == 2 and want in proc.stderr, (args, proc.stderr)
    assert "'state set' takes a state id and one of: the JSON, --input-file FILE" in s("state", "set", "dev:x").stderr
    assert state_ids(project) == ["dev:a-to-b"]
    # well-formed, the prompt still comes, and "y" goes on
    proc = s("state", "copy", "dev:a-to-b", "dev:c-to-d", input="y\n")
    assert proc.returncode == 0 and "Continue? [y/N]: " in proc.stdout, proc.stderr
    assert state_ids(project) == ["dev:a-to-b", "dev:c-to-d"]


def test_state_writes_say_what_they_did(project):
    fake_project(project, {}, {})
    s = project.smelt
    s("state", "set", "--force", "dev:a-to-b", '{"singer_state": {"bookmarks": {"x": 1}}}', check=0)
    proc = s("state", "copy", "--force", "dev:a-to-b", "dev:c-to-d", check=0)
    assert proc.stderr == "smelt info: state of 'dev:c-to-d' copied from 'dev:a-to-b'\n" and proc.stdout == ""
    proc = s("state", "move", "--force", "dev:c-to-d", "dev:e-to-f", check=0)
    assert proc.stderr == "smelt info: state of 'dev:c-to-d' moved to 'dev:e-to-f'\n" and proc.stdout == ""
    proc = s("state", "clear", "--force", "dev:e-to-f", check=0)
    assert proc.stderr == "smelt info: state of 'dev:e-to-f' cleared\n" and proc.stdout == ""
    # an id with no state: named in a warning, not an error (as Meltano), and nothing else is touched
    proc = s("state", "clear", "--force", "dev:e-to-f", check=0)
    assert proc.stderr == "smelt warning: no state with id 'dev:e-to-f': nothing cleared\n"
    assert state_ids(project) == ["dev:a-to-b"]
    # listings are untouched: one JSON document on stdout, nothing on stderr
    proc = s("state", "list", "--format", "json", check=0)
    assert json.loads(proc.stdout)["states"][0]["state_id"] == "dev:a-to-b" and proc.stderr == ""


def test_clearing_a_state_meltano_holds_says_cleared_once(project):
    """A state only Meltano's database holds: the first clear records an empty state over it (and says
    cleared), a second has nothing left to clear and says so."""
    fake_project(project, {}, {})
    (project.root / ".meltano").mkdir()
    with sqlite3.connect(project.root / ".meltano" / "meltano.db") as db:
        db.execute("CREATE TABLE state (state_id VARCHAR(900) NOT NULL, partial_state VARCHAR, "
                   "completed_state VARCHAR, updated_at DATETIME, PRIMARY KEY (state_id))")
        db.execute("INSERT INTO state VALUES ('dev:m-to-n', '{}', "
                   "'{\"singer_state\": {\"bookmarks\": {\"s\": 4}}}', '2026-12-01 00:00:00')")
    s = project.smelt
    assert json.loads(s("state", "get", "dev:m-to-n", check=0).stdout) == {"singer_state": {"bookmarks": {"s": 4}}}
    proc = s("state", "clear", "--force", "dev:m-to-n", check=0)
    assert "smelt info: state of 'dev:m-to-n' cleared" in proc.stderr, proc.stderr
    assert json.loads(s("state", "get", "dev:m-to-n", check=0).stdout) in ({}, {"singer_state": {}})
    proc = s("state", "clear", "--force", "dev:m-to-n", check=0)
    assert "smelt warning: no state with id 'dev:m-to-n': nothing cleared" in proc.stderr, proc.stderr
    assert "cleared\n" not in proc.stderr.replace("nothing cleared\n", ""), proc.stderr


def test_loader_sees_the_extractors_load_schema(project):
    """Meltano's ELT context: a loader setting may refer to $MELTANO_EXTRACT__LOAD_SCHEMA."""
    fake_project(project, {"records": 3}, {"mode": "echo_config"})
    text = (project.root / "smelt.yml").read_text()
    text = text.replace("executable: " + str(FAKES) + "/fake_target.py\n",
                        "executable: " + str(FAKES) + "/fake_target.py\n    settings:\n    - {name: schema}\n")
    text = text.replace('"mode": "echo_config"', '"mode": "echo_config", "schema": "$MELTANO_EXTRACT__LOAD_SCHEMA"')
    (project.root / "smelt.yml").write_text(text)
    project.smelt("run", "tap-fake", "target-fake", check=0)
    assert saved_state(project)["schema"] == "tap_fake"


def test_plugin_command_args_are_split_without_a_shell(project):
    project.write("""\
default_environment: dev
environments: [{name: dev}]
plugins:
  extractors:
  - name: tap-echo
    namespace: tap_echo
    executable: /bin/echo
    env:
      WHO: x  y
    commands:
      hello: "one 'two three' \\"$(id)\\" ;rm $WHO"
""")
    proc = project.smelt("invoke", "tap-echo:hello", "five", check=0)
    # quotes group words; no shell runs, so ';' and '$(id)' stay as they are; $WHO is expanded from the
    # plugin's environment after the split, as Meltano does, so its two blanks stay in one word
    assert proc.stdout == "one two three $(id) ;rm x  y five\n"


def test_a_block_sees_settings_an_earlier_block_wrote(project):
    """A block that runs `smelt config set` (system database) changes what the next block gets, at once."""
    setter = project.root / "setter.sh"
    setter.write_text(f"#!/bin/sh\nexec {SMELT} config set probe greeting after --store db\n")
    probe = project.root / "probe.sh"
    probe.write_text('#!/bin/sh\nprintf "%s\\n" "$PROBE_GREETING" >> "$PWD/seen.txt"\n')
    for f in (setter, probe):
        f.chmod(0o755)
    project.write(f"""\
default_environment: dev
environments: [{{name: dev}}]
plugins:
  utilities:
  - name: setter
    namespace: setter
    executable: {setter}
  - name: probe
    namespace: probe
    executable: {probe}
    settings:
    - {{name: greeting, value: before}}
""")
    project.smelt("run", "probe", "setter", "probe", check=0)
    assert (project.root / "seen.txt").read_text() == "before\nafter\n"


def test_logging_files_are_kept_and_rewritten_only_when_their_text_changes(project):
    """The Singer logging configurations hold no secret: kept between runs (runs of one plugin at once
    share them, none removes the other's), rewritten when the log level changes them."""
    fake_project(project, {"records": 3}, {})
    project.smelt("run", "tap-fake", "target-fake", check=0)
    sdk = project.root / ".smelt/run/tap-fake/tap.singer_sdk_logging.json"
    conf = project.root / ".smelt/run/tap-fake/tap.pipelinewise_logging.conf"
    assert json.loads(sdk.read_text())["root"]["level"] == "INFO"
    assert "[logger_root]\nlevel=INFO\n" in conf.read_text()
    assert oct(sdk.stat().st_mode & 0o777) == "0o600"
    before = (sdk.stat().st_ino, sdk.stat().st_mtime_ns, conf.stat().st_ino, conf.stat().st_mtime_ns)
    project.smelt("run", "tap-fake", "target-fake", check=0)
    assert (sdk.stat().st_ino, sdk.stat().st_mtime_ns, conf.stat().st_ino, conf.stat().st_mtime_ns) == before
    project.smelt("--log-level", "debug", "run", "tap-fake", "target-fake", check=0)
    assert json.loads(sdk.read_text())["root"]["level"] == "DEBUG"
    assert "[logger_root]\nlevel=DEBUG\n" in conf.read_text()
    # the config files, which hold secrets, are still removed after every run
    assert not list(project.root.glob(".smelt/run/*/*config.json"))
