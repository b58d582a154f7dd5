"""Plugin logs compared with real Meltano 4.4.1 (issue 16), on two copies of one project:

- A Singer SDK tap (tests/e2e/fakes/fake_sdk_tap.py, run by a venv with singer-sdk from PyPI) with
  the `structured-logging` capability gets Meltano's SINGER_SDK_LOG_CONFIG (the SDK's
  StructuredFormatter), and its JSON records are logged as Meltano logs them: the record's level
  and message, its fields (pid, thread_name, app_name, extra's members, metric_info,
  plugin_logger), in the plain, JSON and key-value formats; a line that is not such a record
  (plain text, broken JSON) is logged as text; the tap's password is scrubbed (Meltano prints it).
- `invoke` logs the tool's stderr as log lines (stdio=stderr, cmd_type=command) where logs are
  collected (stderr not a terminal, or a JSON / key-value log), as Meltano does; stdout and the
  exit code are the tool's; on a terminal with the text format the tool keeps the terminal."""
import json
import os
import pty
import re
import select
import subprocess
import time

import pytest

from conftest import FAKES, SMELT, clean_env, uv_venv
from meltano_support import MELTANO_ENV, meltano_fixture

SECRET = "s3cr3t-pass-17"
TOKEN = "tok3n-value-99"
SDK_PIN = "singer-sdk==0.53.7"

meltano = meltano_fixture("meltano==4.4.1")


@pytest.fixture(scope="module")
def sdk_tap(tmp_path_factory):
    """An executable running the fake SDK tap with a venv that has singer-sdk."""
    folder = tmp_path_factory.mktemp("sdk")
    venv = uv_venv(folder / "venv", SDK_PIN)
    exe = folder / "tap-sdkfake"
    exe.write_text(f'#!/bin/sh\nexec "{venv}/bin/python" "{FAKES}/fake_sdk_tap.py" "$@"\n')
    exe.chmod(0o755)
    return exe


PROJECT = """\
default_environment: dev
project_id: 6f1c1a2e-0000-4000-8000-000000000017
send_anonymous_usage_stats: false
environments:
- name: dev
plugins:
  extractors:
  - name: tap-sdkfake
    namespace: tap_sdkfake
    executable: {tap}
    capabilities: [catalog, discover, state, about, structured-logging]
    settings:
    - name: password
      kind: password
  loaders:
  - name: target-fake
    namespace: target_fake
    executable: {fakes}/fake_target.py
    config:
      mode: ok
  utilities:
  - name: chatty
    namespace: chatty
    executable: {chatty}
    settings:
    - name: token
      kind: password
"""

# A tool that writes to both streams (its token on stderr, as a careless tool would) and fails.
CHATTY = """\
#!/bin/sh
echo "tool says: to stdout"
echo "tool says: to stderr with $CHATTY_TOKEN" >&2
if [ -t 2 ]; then echo "tool says: stderr is a terminal"; fi
exit 3
"""


class Pair:
    """Two copies of one project, `meltano/` and `smelt/`."""

    def __init__(self, meltano, tap, tmp_path):
        self.meltano = meltano
        self.roots = {}
        chatty = tmp_path / "chatty.sh"
        chatty.write_text(CHATTY)
        chatty.chmod(0o755)
        for tool in ("meltano", "smelt"):
            root = tmp_path / tool
            (root / "dump").mkdir(parents=True)
            (root / "meltano.yml").write_text(PROJECT.format(tap=tap, fakes=FAKES, chatty=chatty))
            dotenv = root / ".env"
            dotenv.write_text(f"TAP_SDKFAKE_PASSWORD={SECRET}\nCHATTY_TOKEN={TOKEN}\n")
            dotenv.chmod(0o600)
            self.roots[tool] = root

    def argv(self, tool, args):
        return [str(self.meltano) if tool == "meltano" else SMELT, *map(str, args)]

    def env(self, tool, env=None):
        return clean_env({**MELTANO_ENV, "SDKFAKE_DUMP": str(self.roots[tool] / "dump"), **(env or {})})

    def run(self, tool, *args, env=None):
        return subprocess.run(self.argv(tool, args), cwd=self.roots[tool], env=self.env(tool, env),
                              capture_output=True, text=True, timeout=600)

    def both(self, *args, **kw):
        return self.run("meltano", *args, **kw), self.run("smelt", *args, **kw)


@pytest.fixture
def pair(meltano, sdk_tap, tmp_path):
    return Pair(meltano, sdk_tap, tmp_path)


# Keys of Meltano's plugin lines smelt does not write, and why.
MELTANO_LOG_ONLY = {
    "_logger", "_name", "logger",  # Python logger internals structlog leaks into Meltano's lines
    "producer", "consumer", "string_id",  # Meltano's EL block internals (string_id repeats name)
}
# The fields a Singer SDK record brings, compared value for value (pid differs: another process).
RECORD_FIELDS = ("level", "name", "stdio", "cmd_type", "job_name", "thread_name", "app_name", "plugin_logger",
                 "rows_per_s", "region")
KV_PAIR = re.compile(r"""(\w+)=('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\S+)""")


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def kv_lines(text):
    out = []
    for line in text.splitlines():
        pairs = dict(KV_PAIR.findall(line))
        if "event" in pairs:
            out.append({k: v[1:-1] if v[:1] in "'\"" else v for k, v in pairs.items()})
    return out


def line_of(lines, start, **match):
    """The one line whose event starts with start (and whose keys have the values in match)."""
    found = [e for e in lines if str(e["event"]).startswith(start) and all(e.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (start, match, found, lines)
    return found[0]


def compare_record(ml, sl, numbers_as_text=False):
    """smelt's line of a record has every key of Meltano's (but its internals) with the same values."""
    missing = set(ml) - set(sl) - MELTANO_LOG_ONLY
    assert not missing, (missing, ml, sl)
    for key in RECORD_FIELDS:
        assert ml.get(key) == sl.get(key), (key, ml, sl)
    assert ml["event"] == sl["event"]
    assert str(sl["pid"]).isdigit() if "pid" in ml else "pid" not in sl


def test_structured_logging_config_is_meltanos(pair):
    m, s = pair.both("run", "tap-sdkfake", "target-fake")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    configs = {tool: (root / "dump/sdk_log_config.json").read_text() for tool, root in pair.roots.items()}
    assert configs["smelt"] == configs["meltano"]
    assert json.loads(configs["smelt"])["formatters"]["singer_formatter"] == {
        "()": "singer_sdk.logging.StructuredFormatter"}


def test_json_lines_of_an_sdk_tap_match_meltanos(pair):
    m, s = pair.both("--log-format", "json", "run", "tap-sdkfake", "target-fake")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    mlines, slines = json_lines(m.stderr), json_lines(s.stderr)
    assert len(slines) == len(s.stderr.splitlines()), s.stderr  # every line is an object
    for start in ("fake-sdk-tap: slow source", "fake-sdk-tap: reading things", "Beginning sync of 'things'"):
        compare_record(line_of(mlines, start), line_of(slines, start))
    warning = line_of(slines, "fake-sdk-tap: slow source")
    assert warning["level"] == "warning" and warning["rows_per_s"] == 12 and warning["region"] == "eu"
    assert line_of(slines, "fake-sdk-tap: reading things")["plugin_logger"] == "tap-sdkfake.things"
    # METRIC records: their metric_info, as Meltano logs it
    mm, sm = (line_of(lines, "METRIC", plugin_logger="singer_sdk.metrics")
              for lines in ([e for e in mlines if e.get("metric_info", {}).get("metric") == "record_count"],
                            [e for e in slines if e.get("metric_info", {}).get("metric") == "record_count"]))
    compare_record(mm, sm)
    assert {k: v for k, v in mm["metric_info"].items() if k != "tags"} == \
        {k: v for k, v in sm["metric_info"].items() if k != "tags"} == \
        {"type": "counter", "metric": "record_count", "value": 3}
    # lines that are no record: text, at info, without a record's fields (none lost)
    for start in ("fake-sdk-tap plain text line", '{"level": "error", "message": "fake-sdk-tap: broken json'):
        ml, sl = line_of(mlines, start), line_of(slines, start)
        assert ml["event"] == sl["event"] and ml["level"] == sl["level"] == "info"
        assert "pid" not in ml and "pid" not in sl
    # the tap printed its password: Meltano logs it, smelt never does
    assert f"connecting with password {SECRET}" in m.stderr
    assert SECRET not in s.stderr + s.stdout
    assert line_of(slines, "fake-sdk-tap: connecting with password")["event"].endswith("password *****")


def test_key_value_lines_of_an_sdk_tap_match_meltanos(pair):
    m, s = pair.both("--log-format", "key-value", "run", "tap-sdkfake", "target-fake")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    ml, sl = line_of(kv_lines(m.stderr), "fake-sdk-tap: slow source"), \
        line_of(kv_lines(s.stderr), "fake-sdk-tap: slow source")
    assert not set(ml) - set(sl) - MELTANO_LOG_ONLY, (ml, sl)
    for key in RECORD_FIELDS:
        assert ml.get(key) == sl.get(key), (key, ml, sl)
    assert sl["level"] == "warning" and sl["rows_per_s"] == "12"
    assert SECRET not in s.stderr
    # an object field is written as Python's repr() of it, as structlog writes it
    infos = [re.sub(r"'pid': \d+", "'pid': N", re.search(r"metric_info=(\{.*?\})(?= \w+=)", line).group(1))
             for line in (next(line for line in out.splitlines() if "'record_count'" in line)
                          for out in (m.stderr, s.stderr))]
    assert infos[0] == infos[1] == ("{'type': 'counter', 'metric': 'record_count', 'value': 3, "
                                    "'tags': {'stream': 'things', 'pid': N, 'context': {}}}"), infos


def test_plain_log_shows_the_records_message_at_its_level(pair):
    m, s = pair.both("run", "tap-sdkfake", "target-fake")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    assert re.search(r"\[warning\s*\] tap-sdkfake\s+fake-sdk-tap: slow source\n", m.stderr), m.stderr
    # the warning is shown at the default level (its info neighbours are held back), as a message
    assert "tap-sdkfake warning: fake-sdk-tap: slow source\n" in s.stderr, s.stderr
    assert '"app_name"' not in m.stderr + s.stderr  # neither prints a record's JSON
    # the records were counted from the structured METRIC records
    assert re.search(r"tap-sdkfake -> target-fake: 3 records", s.stderr), s.stderr
    # at debug level every line shows, the ones that are no record as text
    s = pair.run("smelt", "--log-level", "debug", "run", "tap-sdkfake", "target-fake")
    assert s.returncode == 0, s.stderr
    assert "tap-sdkfake info: fake-sdk-tap plain text line\n" in s.stderr
    assert 'tap-sdkfake info: {"level": "error", "message": "fake-sdk-tap: broken json\n' in s.stderr
    assert "tap-sdkfake info: fake-sdk-tap: connecting with password *****\n" in s.stderr
    assert SECRET not in s.stderr
    logs = [p for p in (pair.roots["smelt"] / ".smelt/logs").rglob("*") if p.is_file()]
    assert any("fake-sdk-tap: slow source" in p.read_text(errors="replace") for p in logs)
    assert not any(SECRET in p.read_text(errors="replace") for p in logs)


def test_invoke_logs_the_tools_stderr_as_meltano(pair):
    m, s = pair.both("--log-format", "json", "invoke", "chatty")
    assert m.returncode == s.returncode == 3, (m.stderr, s.stderr)
    assert m.stdout == s.stdout == "tool says: to stdout\n"
    ml = line_of(json_lines(m.stderr), "tool says: to stderr")
    sl = line_of(json_lines(s.stderr), "tool says: to stderr")
    assert not set(ml) - set(sl) - MELTANO_LOG_ONLY, (ml, sl)
    for key in ("stdio", "cmd_type", "level"):
        assert ml[key] == sl[key], (key, ml, sl)
    assert (sl["stdio"], sl["cmd_type"], sl["level"]) == ("stderr", "command", "info")
    assert all(line.startswith("{") for line in s.stderr.splitlines()), s.stderr
    # the tool printed its token: Meltano logs it, smelt never does
    assert ml["event"] == f"tool says: to stderr with {TOKEN}"
    assert sl["event"] == "tool says: to stderr with *****" and TOKEN not in s.stderr + s.stdout
    # the text format with stderr not a terminal: log lines too
    m, s = pair.both("invoke", "chatty")
    assert m.returncode == s.returncode == 3
    assert re.search(r"\[info\s*\] meltano\s+tool says: to stderr with", m.stderr), m.stderr
    assert "chatty info: tool says: to stderr with *****\n" in s.stderr, s.stderr
    assert TOKEN not in s.stderr


def test_invoke_of_an_sdk_tap_logs_its_records(pair):
    m, s = pair.both("--log-format", "json", "invoke", "tap-sdkfake")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    ml = line_of(json_lines(m.stderr), "fake-sdk-tap: slow source")
    sl = line_of(json_lines(s.stderr), "fake-sdk-tap: slow source")
    # Meltano's invoke does not name the plugin on its lines; smelt does (as on every plugin line)
    assert not set(ml) - set(sl) - MELTANO_LOG_ONLY, (ml, sl)
    for key in ("level", "stdio", "cmd_type", "thread_name", "app_name", "plugin_logger", "rows_per_s", "region"):
        assert ml[key] == sl[key], (key, ml, sl)
    assert sl["cmd_type"] == "command" and sl["level"] == "warning"
    assert SECRET not in s.stderr
    # stdout is the tool's: the Singer messages, not log lines
    assert [json.loads(line)["type"] for line in s.stdout.splitlines()][:1] == ["SCHEMA"]


def on_terminal(pair, *args):
    """smelt ARGS with stdin, stdout and stderr on a new pseudo-terminal: (exit code, what it showed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(pair.argv("smelt", args), cwd=pair.roots["smelt"], env=pair.env("smelt"),
                            stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    out, deadline = b"", time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal's other side is closed
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(timeout=60), out.decode(errors="replace").replace("\r\n", "\n")


def test_invoke_on_a_terminal_hands_the_terminal_to_the_tool(pair):
    code, shown = on_terminal(pair, "invoke", "chatty")
    assert code == 3
    assert "tool says: stderr is a terminal\n" in shown, shown
    assert f"tool says: to stderr with {TOKEN}\n" in shown  # the tool's own line, as it wrote it
    # a JSON log on a terminal: the tool's stderr is logged (a JSON line), the terminal kept for the rest
    code, shown = on_terminal(pair, "--log-format", "json", "invoke", "chatty")
    assert code == 3
    assert "tool says: stderr is a terminal" not in shown and "tool says: to stdout\n" in shown
    line = line_of(json_lines(shown), "tool says: to stderr")
    assert line["stdio"] == "stderr" and TOKEN not in shown
