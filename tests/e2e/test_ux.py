"""The first ten minutes (issue 21): what a person sees on a terminal, and errors that say what to do.

The terminal tests run smelt under a pseudo-terminal (Python's pty module), so smelt draws its live
lines as it does for a person, and check the screen the person is left with (the redraws applied).
"""
import errno
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import time

import pytest

from conftest import FAKES, SMELT, SOURCE, clean_env, wait_until
from test_run import fake_project

DEMO = SOURCE / "examples" / "demo"
CSI = re.compile(rb"\x1b\[([0-9;?]*)([A-Za-z])")


def run_in_pty(args, cwd, env=None, timeout=900):
    """Run smelt with stdin, stdout and stderr on a pty; returns (exit code, raw bytes it wrote)."""
    master, slave = pty.openpty()
    full_env = clean_env(dict({"TERM": "xterm", "COLUMNS": "120", "LINES": "50"}, **(env or {})))
    proc = subprocess.Popen([SMELT, *map(str, args)], cwd=cwd, env=full_env, stdin=slave, stdout=slave,
                            stderr=slave, close_fds=True)
    os.close(slave)
    raw = bytearray()
    end = time.time() + timeout
    while time.time() < end:
        ready, _, _ = select.select([master], [], [], 1.0)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError as e:  # EIO: every writer closed the pty
            if e.errno != errno.EIO:
                raise
            break
        if not chunk:
            break
        raw += chunk
    os.close(master)
    return proc.wait(timeout=60), bytes(raw)


def screen(raw):
    """The lines a terminal shows after raw is drawn: \\r, erase-line and cursor-up applied."""
    lines, row, col = [[]], 0, 0
    i = 0
    while i < len(raw):
        m = CSI.match(raw, i)
        if m:
            arg, cmd = m.group(1), m.group(2)
            if cmd == b"K" or (cmd == b"J"):
                del lines[row][col:]
            elif cmd == b"A":
                row = max(0, row - int(arg or b"1"))
                col = 0
            i = m.end()
            continue
        b = raw[i]
        if b == 0x0D:
            col = 0
        elif b == 0x0A:
            row += 1
            col = 0
            while len(lines) <= row:
                lines.append([])
        elif b >= 0x20 or b == 0x09:
            line = lines[row]
            if col < len(line):
                line[col] = b
            else:
                line.extend([0x20] * (col - len(line)) + [b])
            col += 1
        i += 1
    text = [bytes(l).decode(errors="replace").rstrip() for l in lines]
    while text and not text[-1]:
        text.pop()
    return text


def demo_copy(tmp_path, native_only):
    dest = tmp_path / "demo"
    shutil.copytree(DEMO, dest)
    if native_only:  # no dbt, no GX: nothing to install from PyPI
        text = (dest / "smelt.yml").read_text()
        (dest / "smelt.yml").write_text(text.split("  transformers:")[0] + "jobs: []\n")
    return dest


def test_terminal_run_of_the_demo_connectors(tmp_path):
    """A person's view of 'smelt run tap-csv target-sqlite': the progress line, one summary table, short."""
    demo = demo_copy(tmp_path, native_only=True)
    code, raw = run_in_pty(["run", "tap-csv", "target-sqlite"], demo)
    lines = screen(raw)
    shown = "\n".join(lines)
    assert code == 0, shown
    # the progress line of the block: records, bytes, rate, elapsed
    assert any(re.fullmatch(r"tap-csv -> target-sqlite: 45 records, [\d.]+ kB, [\d.]+ [kM]?B/s, [\d.]+ s", l)
               for l in lines), shown
    # one summary table, with each stream's row count in it, and each count printed once in all
    assert sum("BLOCK" in l and "STATUS" in l and "RESULT" in l for l in lines) == 1, shown
    row = [l for l in lines if l.lstrip().startswith("tap-csv target-sqlite ")]
    assert len(row) == 1 and "customers 5 rows" in row[0] and "orders 40 rows" in row[0], shown
    assert sum(bool(re.search(r"customers\b.*\b5\b", l)) for l in lines) == 1, shown
    assert sum(bool(re.search(r"orders\b.*\b40\b", l)) for l in lines) == 1, shown
    assert "METRIC" not in shown
    assert re.search(r"^Run [0-9a-f-]{36} succeeded: 1 of 1 block in [\d.]+ s$", lines[-1], re.M), shown
    # two lock lines (first use), the progress line, the table (header + 1 row), the final line
    assert len(lines) <= 6, shown
    # the METRIC lines and the tools' own lines are in the run log, and on the terminal with --log-level debug
    code, raw = run_in_pty(["--log-level", "debug", "run", "tap-csv", "target-sqlite"], demo)
    debug = "\n".join(screen(raw))
    assert code == 0 and "METRIC: " in debug and "customers: 5 records upserted" in debug, debug
    # nothing new in orders the second time: its row count says 0, it does not vanish
    assert re.search(r"tap-csv target-sqlite +ok .* customers 5 rows, orders 0 rows", debug), debug
    logs = list((demo / ".smelt" / "logs").glob("*/run.log"))
    assert len(logs) == 2 and all("METRIC: " in p.read_text() for p in logs)


def test_terminal_progress_line_is_redrawn_in_place(project):
    """A slow block: the progress line is drawn again and again on one terminal line, then stays."""
    fake_project(project, {"records": 20, "state_every": 5, "mode": "slow"}, {})
    code, raw = run_in_pty(["run", "tap-fake", "target-fake"], project.root)
    lines = screen(raw)
    assert code == 0, lines
    redraws = re.findall(rb"\r\x1b\[Ktap-fake -> target-fake: (\d+) records?, ", raw)
    assert len(redraws) >= 2, raw  # about once a second for 4 s
    counts = [int(n) for n in redraws]
    assert counts == sorted(counts) and counts[-1] <= 20, counts
    progress = [l for l in lines if l.startswith("tap-fake -> target-fake: ")]
    assert len(progress) == 1 and progress[0].startswith("tap-fake -> target-fake: 20 records, "), lines


def test_plain_output_when_not_a_terminal(project):
    """Piped: no redraws, the final progress line once, the table, the final line; -q only that line."""
    fake_project(project, {"records": 12, "state_every": 5, "mode": "slow"}, {})
    proc = project.smelt("run", "tap-fake", "target-fake", check=0)
    assert "\r" not in proc.stderr and "\x1b" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert [l for l in lines if l.startswith("tap-fake -> target-fake: ")][0].startswith(
        "tap-fake -> target-fake: 12 records, ")
    assert lines[-1].startswith("Run ") and " succeeded: 1 of 1 block in " in lines[-1]
    quiet = project.smelt("run", "-q", "tap-fake", "target-fake", check=0)
    assert quiet.stdout == "" and len(quiet.stderr.splitlines()) == 1 and quiet.stderr.startswith("Run "), quiet.stderr
    verbose = project.smelt("--verbose", "run", "tap-fake", "target-fake", check=0)
    metrics = [l for l in verbose.stderr.splitlines() if "METRIC: " in l]
    assert len(metrics) == 12 and all(l.startswith("tap-fake debug: ") for l in metrics), verbose.stderr


def test_failure_is_last_with_what_to_do(project):
    """A failing block: the tool's last lines, the table, then one error line naming the run log."""
    fake_project(project, {"records": 12, "state_every": 5, "mode": "crash"}, {})
    proc = project.smelt("run", "tap-fake", "target-fake", check=1)
    lines = proc.stderr.splitlines()
    assert "boom, crashing on purpose" in proc.stderr
    table = [i for i, l in enumerate(lines) if "BLOCK" in l and "STATUS" in l]
    assert len(table) == 1 and "failed" in lines[table[0] + 1]
    assert lines[-2].startswith("Run ") and " failed: 0 of 1 block in " in lines[-2]
    assert re.fullmatch(r"smelt error: block 1/1 'tap-fake target-fake' failed: Extractor failed: 'tap-fake' "
                        r"\(exit code 3\); the tools' output is in \.smelt/logs/[0-9a-f-]+/run\.log "
                        r"\(or run again with --verbose\)", lines[-1]), lines[-1]


def test_full_demo_fits_on_a_screen(tmp_path):
    """The whole demo (CSV -> SQLite, dbt build, GX checks; dbt and GX installed on first use) on a
    terminal: at most 40 lines, install progress shown, one table, the final line last."""
    demo = demo_copy(tmp_path, native_only=False)
    code, raw = run_in_pty(["run", "daily"], demo, timeout=1500)
    lines = screen(raw)
    shown = "\n".join(lines)
    assert code == 0, shown
    assert len(lines) <= 40, shown
    assert "installing 2 plugins first" in shown and re.search(r"\+ gx +installed \([\d.]+s\)", shown), shown
    # a command block has a live line too: a spinner and its elapsed time, gone when it ends
    assert re.search(rb"\r\x1b\[K. \[2/3\] dbt-sqlite:build  \d+s", raw), raw[-3000:]
    assert not any("[2/3]" in l for l in lines), shown
    assert sum("BLOCK" in l and "STATUS" in l for l in lines) == 1, shown
    assert any(re.search(r"dbt-sqlite:build +ok .*2 models, 10 tests: 12 passed", l) for l in lines), shown
    assert any(re.search(r"gx:validate +ok .*13 checks: 13 passed", l) for l in lines), shown
    assert lines[-1].startswith("Run ") and "succeeded: 3 of 3 blocks" in lines[-1], shown
    # a failing check: printed once as it comes, counted in the table, the error last
    suite = demo / "quality" / "orders.yml"
    suite.write_text(suite.read_text().replace("max_value: 10000", "max_value: 100"))
    code, raw = run_in_pty(["run", "daily"], demo, timeout=900)
    lines = screen(raw)
    shown = "\n".join(lines)
    assert code == 1, shown
    fails = [l for l in lines if "expect_column_values_to_be_between(column=amount" in l]
    assert len(fails) == 2 and fails[0].startswith("gx error: orders: ") and ": fail - 18 of 40" in fails[0], shown
    assert any(re.search(r"gx:validate +failed .*13 checks: 12 passed, 1 failed$", l) for l in lines), shown
    assert lines[-2].startswith("Run ") and " failed: 2 of 3 blocks in " in lines[-2], shown
    assert lines[-1].startswith("smelt error: block 3/3 'gx:validate' failed: gx:validate: 1 of 13 expectations "
                                "failed, first: orders: expect_column_values_to_be_between(column=amount"), shown
    assert lines[-1].endswith("/run.log (or run again with --verbose)"), shown
    assert len(lines) <= 10, shown


# ---- errors that say what to do ------------------------------------------------------------------

@pytest.fixture
def demo(tmp_path):
    """The demo project's connectors part (no dbt or GX), as smelt.yml in a fresh folder."""
    return demo_copy(tmp_path, native_only=True)


def smelt_in(cwd, *args, env=None):
    return subprocess.run([SMELT, *map(str, args)], cwd=cwd, env=clean_env(env), capture_output=True, text=True,
                          timeout=300)


def test_block_typo_suggests_the_plugin(demo):
    proc = smelt_in(demo, "run", "tap-cvs", "target-sqlite")
    assert proc.returncode == 1
    assert proc.stderr == "smelt: error: Block tap-cvs not found; did you mean 'tap-csv'?\n"
    proc = smelt_in(demo, "run", "tap-csv", "target-sqlit")
    assert proc.stderr == "smelt: error: Block target-sqlit not found; did you mean 'target-sqlite'?\n"
    assert not (demo / "output").exists()
    before = (demo / "smelt.yml").read_text()
    proc = smelt_in(demo, "remove", "target-sqlit")
    assert proc.returncode == 1
    assert proc.stderr == "smelt: error: plugin 'target-sqlit' is not in smelt.yml; did you mean 'target-sqlite'?\n"
    assert (demo / "smelt.yml").read_text() == before
    proc = smelt_in(demo, "lock", "tap-cvs")
    assert proc.returncode == 1 and "plugin 'tap-cvs' is not in smelt.yml; did you mean 'tap-csv'?" in proc.stderr


def test_block_of_a_plugin_not_in_the_project_says_how_to_add_it(demo):
    proc = smelt_in(demo, "run", "tap-csv", "target-jsonl")
    assert proc.returncode == 1
    assert proc.stderr == ("smelt: error: Block target-jsonl not found: 'target-jsonl' is not a plugin or job of "
                           "smelt.yml; add it with 'smelt add loader target-jsonl --variant smelt'\n")
    # and the advice works, without the Hub
    smelt_in(demo, "add", "loader", "target-jsonl", "--variant", "smelt",
             env={"SMELT_HUB_URL": "http://127.0.0.1:9"}).check_returncode()
    proc = smelt_in(demo, "run", "tap-csv", "target-jsonl")
    assert proc.returncode == 0, proc.stderr


def test_plugin_type_typo_is_not_a_hub_lookup(demo):
    # the Hub URL answers nothing: a lookup of a utility named "extracter" would fail differently
    env = {"SMELT_HUB_URL": "http://127.0.0.1:9"}
    proc = smelt_in(demo, "add", "extracter", "tap-github", env=env)
    assert proc.returncode == 2
    assert proc.stderr == ("smelt: error: unknown plugin type 'extracter'; did you mean 'extractor'?\n"
                           "see 'smelt add --help'\n")
    proc = smelt_in(demo, "add", "--plugin-type", "loder", "target-x", env=env)
    assert proc.returncode == 2 and "unknown plugin type 'loder'; did you mean 'loader'?" in proc.stderr
    assert "extracter" not in (demo / "smelt.yml").read_text() and "tap-github" not in (demo / "smelt.yml").read_text()


def test_option_typos_suggest_the_option(demo):
    for args, want in [(["run", "--ful-refresh", "load"], "unknown option '--ful-refresh'; did you mean '--full-refresh'?"),
                       (["install", "--paralelism=2"], "unknown option '--paralelism=2'; did you mean '--parallelism'?"),
                       (["config", "--fromat", "json", "list", "tap-csv"], "did you mean '--format'?"),
                       (["add", "--custm", "tap-x"], "did you mean '--custom'?")]:
        proc = smelt_in(demo, *args)
        assert proc.returncode == 2, args
        assert want in proc.stderr and f"see 'smelt {args[0]} --help'" in proc.stderr, (args, proc.stderr)
    proc = smelt_in(demo, "state", "list", "--bogus")
    assert proc.stderr == "smelt: error: unknown option '--bogus'\nsee 'smelt state --help'\n"


def test_config_set_unknown_setting_warns_and_boolean_refuses_maybe(demo):
    proc = smelt_in(demo, "config", "set", "tap-csv", "fils", "x")
    assert proc.returncode == 0
    assert ("smelt warning: setting 'fils' is not defined by extractor 'tap-csv'; it is stored as a custom setting, "
            "which the plugin may not support (did you mean 'files'?)") in proc.stderr
    assert "fils: x" in (demo / "smelt.yml").read_text()
    smelt_in(demo, "config", "list", "target-sqlite").check_returncode()  # locks it (a log line)
    before = (demo / "smelt.yml").read_text()
    proc = smelt_in(demo, "config", "set", "target-sqlite", "add_record_metadata", "maybe")
    assert proc.returncode == 1
    assert proc.stderr == "smelt: error: setting 'add_record_metadata' is a boolean: use true or false, not 'maybe'\n"
    assert (demo / "smelt.yml").read_text() == before
    assert smelt_in(demo, "config", "set", "target-sqlite", "add_record_metadata", "true").returncode == 0
    # a defined setting, and a nested key of a defined object setting, draw no warning
    assert smelt_in(demo, "config", "set", "target-sqlite", "batch_size_rows", "5").stderr == ""


NEEDS = """\
default_environment: dev
environments:
- name: dev
plugins:
  extractors:
  - name: tap-needs
    namespace: tap_needs
    pip_url: smelt-no-such-package-for-a-test==0.0.0
    settings:
    - name: api_key
      kind: password
    - name: flag
      kind: boolean
    - name: start
    settings_group_validation:
    - [api_key, start]
    config:
      start: "2020-01-01"
      flag: true
      extra_thing: 3
  loaders:
  - name: target-jsonl
    variant: smelt
"""


def test_config_list_groups_required_settings_and_prints_json_values(project):
    project.write(NEEDS)
    out = project.smelt("config", "list", "tap-needs", check=0).stdout
    assert out == ("Required settings:\n"
                   "api_key [env: TAP_NEEDS_API_KEY] current value: null (default)\n"
                   "start [env: TAP_NEEDS_START] current value: \"2020-01-01\" (from `smelt.yml`)\n"
                   "\nOptional settings:\n"
                   "flag [env: TAP_NEEDS_FLAG] current value: true (from `smelt.yml`)\n"
                   "\nCustom, possibly unsupported by the plugin:\n"
                   "extra_thing [env: TAP_NEEDS_EXTRA_THING] current value: 3 (from `smelt.yml`)\n")
    items = {s["name"]: s for s in project.smelt.json("config", "list", "tap-needs", "--format", "json")["settings"]}
    assert items["api_key"]["required"] is True and items["start"]["required"] is True
    assert items["flag"]["required"] is False and items["extra_thing"]["required"] is False
    # what config list prints, config set takes back, and echoes in the same form
    echo = project.smelt("config", "set", "tap-needs", "start", '"2021-02-03"', check=0).stdout
    assert echo == "Extractor 'tap-needs' setting 'start' was set in `smelt.yml`: \"2021-02-03\"\n"
    assert "start [env: TAP_NEEDS_START] current value: \"2021-02-03\" (from `smelt.yml`)" in \
        project.smelt("config", "list", "tap-needs", check=0).stdout.splitlines()


def test_run_without_a_required_setting_stops_before_installing(project):
    project.write(NEEDS)
    proc = project.smelt("run", "tap-needs", "target-jsonl")
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1] == ("smelt: error: extractor 'tap-needs' needs the setting api_key; set it "
                                            "with 'smelt config set tap-needs api_key VALUE'")
    assert "installing" not in proc.stderr
    assert not (project.root / ".smelt" / "extractors" / "tap-needs").exists()


def test_sigint_exits_130(project):
    fake_project(project, {"records": 1000, "state_every": 2, "mode": "slow"}, {})
    proc = project.smelt.popen("run", "tap-fake", "target-fake")
    wait_until(lambda: project.smelt.json("runs", "list", "--format", "json")["runs"], what="the run in the history")
    proc.send_signal(2)
    proc.communicate(timeout=60)
    assert proc.returncode == 130


def test_init_here_help_and_version(tmp_path):
    proc = smelt_in(tmp_path, "init", ".")
    assert proc.returncode == 0, proc.stderr
    assert "cd '.'" not in proc.stdout and "Next: smelt add extractor NAME" in proc.stdout
    other = smelt_in(tmp_path, "init", "sub")
    assert "Next: cd 'sub' && smelt add extractor NAME" in other.stdout
    version = smelt_in(tmp_path, "-V")
    assert version.returncode == 0 and version.stdout == smelt_in(tmp_path, "--version").stdout
    assert version.stdout.startswith("smelt, version ")
    top = smelt_in(tmp_path, "help")
    assert top.returncode == 0 and top.stdout.startswith("usage: smelt ") and "Commands:" in top.stdout
    helped = smelt_in(tmp_path, "help", "run")
    assert helped.returncode == 0 and helped.stdout == smelt_in(tmp_path, "run", "--help").stdout
    assert smelt_in(tmp_path, "help", "rnu").stderr.startswith("smelt: error: 'rnu' is not a smelt command; "
                                                              "did you mean 'run'?")
    commands = re.findall(r"^  ([a-z]+) ", top.stdout, re.M)
    assert len(commands) >= 16
    for name in commands:
        text = smelt_in(tmp_path, name, "--help").stdout
        examples = text.split("\nExamples:\n")
        assert len(examples) == 2 and examples[1].startswith(f"  smelt {name}"), (name, text)


def test_meltano_project_gets_smelt_in_gitignore_once(tmp_path):
    (tmp_path / "meltano.yml").write_text("version: 1\ndefault_environment: dev\nenvironments:\n- name: dev\n")
    (tmp_path / ".gitignore").write_text("/venv\n.meltano/\n.env")
    first = smelt_in(tmp_path, "environment", "list")
    assert first.returncode == 0
    assert ("smelt info: added '.smelt/' to .gitignore (smelt's system folder, which Meltano's .gitignore does not "
            "cover)") in first.stderr
    text = (tmp_path / ".gitignore").read_text()
    assert text.startswith("/venv\n.meltano/\n.env\n") and text.splitlines()[-1] == ".smelt/"
    second = smelt_in(tmp_path, "environment", "list")
    assert "gitignore" not in second.stderr and (tmp_path / ".gitignore").read_text() == text


def test_listings_print_one_compact_json_document(demo):
    smelt_in(demo, "job", "add", "load2", "--tasks", "tap-csv target-sqlite").check_returncode()
    for args in (["invoke", "--list-commands", "--format", "json", "tap-csv"],
                 ["invoke", "--list-commands", "tap-csv", "--format", "json"],
                 ["job", "list", "--format", "json"], ["schedule", "list", "--format", "json"],
                 ["environment", "list", "--format", "json"], ["adapters", "list", "--format", "json"],
                 ["config", "list", "tap-csv", "--format", "json"]):
        proc = smelt_in(demo, *args)
        assert proc.returncode == 0, (args, proc.stderr)
        assert proc.stdout.count("\n") == 1 and proc.stdout.endswith("\n"), (args, proc.stdout)
        json.loads(proc.stdout)
    listing = json.loads(smelt_in(demo, "invoke", "--list-commands", "--format", "json", "tap-csv").stdout)
    assert listing["plugin"] == "tap-csv" and all(c["name"].startswith("tap-csv:") for c in listing["commands"])
    text = smelt_in(demo, "invoke", "--list-commands", "tap-csv").stdout
    assert text.startswith("Commands of tap-csv:\n")


def test_plugin_name_typos_suggest_the_plugin(demo):
    for args in (["config", "list", "tap-cvs"], ["invoke", "tap-cvs"], ["install", "tap-cvs"],
                 ["select", "tap-cvs", "--list"], ["test", "tap-cvs"]):
        proc = smelt_in(demo, *args)
        assert proc.returncode == 1, args
        noun = "extractor" if args[0] == "select" else "plugin"
        assert proc.stderr.splitlines()[-1] == \
            f"smelt: error: {noun} 'tap-cvs' is not in smelt.yml; did you mean 'tap-csv'?", (args, proc.stderr)
    # nothing close: how to get one
    assert smelt_in(demo, "invoke", "airbyte").stderr == \
        "smelt: error: plugin 'airbyte' is not in smelt.yml; see 'smelt add'\n"


def test_quiet_install_prints_only_its_final_line(demo):
    proc = smelt_in(demo, "-q", "install")
    assert proc.returncode == 0 and proc.stdout == ""
    assert proc.stderr == "installed 0, already installed 0, nothing to install 2, failed 0\n"
    loud = smelt_in(demo, "install")
    assert "smelt info: tap-csv: nothing to install" in loud.stderr
    assert loud.stderr.endswith("\ninstalled 0, already installed 0, nothing to install 2, failed 0\n")


def test_json_log_format_is_one_object_per_line_with_the_summary_as_data(demo):
    proc = smelt_in(demo, "--log-format", "json", "run", "tap-csv", "target-sqlite")
    assert proc.returncode == 0 and proc.stdout == ""
    events = [json.loads(line) for line in proc.stderr.splitlines()]
    assert all({"timestamp", "level", "source", "event"} <= set(e) for e in events), proc.stderr
    (block,) = [e for e in events if e["event"] == "block summary"]
    assert block["block"] == "tap-csv target-sqlite" and block["status"] == "ok"
    assert block["result"] == "customers 5 rows, orders 40 rows" and block["seconds"] >= 0
    run = events[-1]
    assert run["event"] == "run summary" and run["status"] == "succeeded"
    assert run["blocks"] == 1 and run["blocks_succeeded"] == 1 and re.fullmatch(r"[0-9a-f-]{36}", run["run_id"])
    assert any(e["event"].startswith("tap-csv -> target-sqlite: 45 records, ") for e in events)
    quiet = smelt_in(demo, "-q", "--log-format", "json", "run", "tap-csv", "target-sqlite")
    assert [json.loads(line)["event"] for line in quiet.stderr.splitlines()] == ["run summary"]


def test_subcommand_job_and_schedule_typos_suggest(tmp_path):
    """A misspelt subcommand (an abbreviation too), global option, job or schedule name says what was meant."""
    demo = demo_copy(tmp_path, native_only=False)
    for args, want in [
            (["config", "lst", "tap-csv"], "unknown subcommand 'config lst' (list, print, set, unset, reset, test); "
                                           "did you mean 'list'?"),
            (["config", "tap-csv", "lst"], "did you mean 'list'?"),
            (["environment", "rm", "prod"], "unknown subcommand 'environment rm' (add, list, remove); "
                                            "did you mean 'remove'?"),
            (["schedule", "rm", "daily"], "did you mean 'remove'?"),
            (["job", "lst"], "unknown subcommand 'job lst' (add, set, list, remove); did you mean 'list'?"),
            (["adapters", "chek"], "did you mean 'check'?"),
            (["state", "lst"], "unknown subcommand 'state lst' (list, get, set, merge, clear, copy, move, edit, export, "
                               "import); did you mean 'list'?"),
            (["--log-lvel", "debug", "run", "load"], "unknown global option '--log-lvel'; did you mean '--log-level'?"),
            (["--environmnt", "dev", "run", "load"], "did you mean '--environment'?")]:
        proc = smelt_in(demo, *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert want in proc.stderr, (args, proc.stderr)
    assert "see 'smelt --help'" in smelt_in(demo, "--log-lvel", "debug", "run", "load").stderr
    for args, want in [(["job", "set", "dialy", "--tasks", "tap-csv target-sqlite"],
                        "smelt: error: job 'dialy' does not exist; did you mean 'daily'?\n"),
                       (["job", "remove", "lod"], "smelt: error: job 'lod' does not exist; did you mean 'load'?\n"),
                       (["job", "set", "nothing-like-it", "--tasks", "x"],
                        "smelt: error: job 'nothing-like-it' does not exist; see 'smelt job add'\n"),
                       (["schedule", "run", "dialy"],
                        "smelt: error: schedule 'dialy' does not exist; did you mean 'daily'?\n")]:
        before = (demo / "smelt.yml").read_text()
        proc = smelt_in(demo, *args)
        assert proc.returncode == 1 and proc.stderr.endswith(want), (args, proc.stderr)
        assert (demo / "smelt.yml").read_text() == before


def test_a_tap_without_record_metrics_is_not_said_to_send_zero_records(project):
    """Records are counted from the tap's record_count metrics: a tap that logs none moved an unknown number,
    which the line leaves out rather than print "0 records"."""
    fake_project(project, {"records": 7, "state_every": 5}, {})
    proc = project.smelt("run", "tap-fake", "target-fake", check=0)
    [line] = [l for l in proc.stderr.splitlines() if l.startswith("tap-fake -> target-fake: ")]
    assert re.fullmatch(r"tap-fake -> target-fake: [\d.]+ k?B, [\d.]+ [kM]?B/s, [\d.]+ s", line), line


def test_a_block_stopped_before_any_tool_points_at_no_log_and_warns_once(project):
    """A block that fails before it starts a tool has no tool output to point at; a system database that
    cannot be used is said once per run, not at each block's start and end."""
    fake_project(project, {"records": 3, "state_every": 1}, {})
    proc = project.smelt("run", "tap-fake:nope", check=1)
    assert proc.stderr.splitlines()[-1] == ("smelt error: block 1/1 'tap-fake:nope' failed: plugin 'tap-fake' has no "
                                            "command 'nope' (see 'smelt invoke --list-commands tap-fake')"), proc.stderr
    # a second block refused before it starts a tool (its pipeline runs already) does not inherit the
    # first block's tools
    fake_project(project, {"records": 1000, "state_every": 1, "mode": "slow"}, {})
    with open(project.root / "smelt.yml", "a") as f:
        f.write("  utilities:\n  - name: noop\n    namespace: noop\n    executable: /bin/true\n")
    first = project.smelt.popen("run", "tap-fake", "target-fake")
    try:
        wait_until(lambda: "RUNNING" in project.smelt("runs", "list", check=0).stdout.upper(), what="the first run")
        proc = project.smelt("run", "noop", "tap-fake", "target-fake", check=1)
        last = proc.stderr.splitlines()[-1]
        assert last.startswith("smelt error: block 2/2 'tap-fake target-fake' failed: another "), proc.stderr
        assert "the tools' output is in" not in last, proc.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    fake_project(project, {"records": 3, "state_every": 1}, {})
    proc = project.smelt("run", "tap-fake", "target-fake", env={"MELTANO_DATABASE_URI": "mysql://db/x"}, check=1)
    assert proc.stderr.count("run history: database_uri: 'mysql' databases are not supported") == 1, proc.stderr
    assert "the tools' output is in" not in proc.stderr, proc.stderr
