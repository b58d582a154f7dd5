"""What plugins are given and what logs carry, compared with real Meltano 4.4.1 (issue 16): a fake tap
and a fake target (tests/e2e/fakes/fake_env_*.py) write the environment they were started with to a
file; `meltano` and `smelt` run the same command on two copies of one project, and the two
environments must be the same, variable for variable, apart from the differences listed below.

- `run`, `invoke` and `select --list` (discovery) give a plugin the same variables: settings under
  every name Meltano writes (`TAP_X_*`, `MELTANO_EXTRACT_*`), the leaves of object settings
  (`TAP_X__METADATA_<STREAM>_<KEY>`), the information variables (`*_VARIANT`), every project
  setting as `MELTANO_*` (`MELTANO_STATE_BACKEND_URI`), `SINGER_SDK_LOG_CONFIG` and
  `LOGGING_CONF_FILE`; in an EL block a loader sees the extractor's, never the other way round.
- `config print --format env` prints the same lines.
- `--log-format json` plugin lines carry Meltano's keys; `--log-format key-value` exists.
- The secret never reaches a log."""
import json
import os
import re

import pytest

from conftest import FAKES, LIBEXEC, SMELT, clean_env, uv_venv
import subprocess

MELTANO_ENV = {"MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", "MELTANO_DISABLE_TRACKING": "true",
               "MELTANO_CLI_DISABLE_VERSION_CHECK": "true"}
SECRET = "s3cr3t-pass-16"

# Expected differences, each with its reason.
SMELT_ONLY = {
    "DO_NOT_TRACK",   # smelt asks every tool not to phone home
    "MELTANO_RUN_ID",  # smelt names its run to plugins of a run (Meltano 4.4 does not)
}
MELTANO_ONLY = {
    "MELTANO_PARENT_CONTEXT_UUID",  # Meltano's anonymous-usage tracking context, new on every command
}


@pytest.fixture(scope="module")
def meltano(tmp_path_factory):
    venv = uv_venv(tmp_path_factory.mktemp("meltano") / "venv", "meltano==4.4.1")
    return venv / "bin/meltano"


PROJECT = """\
default_environment: dev
project_id: 6f1c1a2e-0000-4000-8000-000000000016
send_anonymous_usage_stats: false
env:
  PROJECT_LEVEL: from-project
environments:
- name: dev
  env:
    ENV_LEVEL: from-env
  config:
    plugins:
      extractors:
      - name: tap-envdump
        config:
          region: eu
        env:
          ENV_PLUGIN_LEVEL: x
plugins:
  extractors:
  - name: tap-envdump
    namespace: tap_envdump
    variant: acme
    executable: {fakes}/fake_env_tap.py
    capabilities: [catalog, discover, state]
    settings:
    - name: user
    - name: password
      kind: password
    - name: region
    - name: limit
      kind: integer
    - name: nested.key
    config:
      user: alice
      limit: 5
      nested:
        key: deep
      made_up:
        inner: 1
        deeper: {{flag: true}}
    env:
      PLUGIN_LEVEL: from-plugin
    select:
    - things.*
    metadata:
      things:
        replication-method: INCREMENTAL
        replication-key: id
    schema:
      things:
        v:
          type: [string, "null"]
  loaders:
  - name: target-envdump
    namespace: target_envdump
    variant: acme
    executable: {fakes}/fake_env_target.py
    settings:
    - name: dest
    - name: schema_name
    config:
      dest: somewhere
      schema_name: $MELTANO_EXTRACT__LOAD_SCHEMA
"""


class Pair:
    """Two copies of one project, `meltano/` and `smelt/`, each with a `dump/` folder for the fakes."""

    def __init__(self, meltano, tmp_path):
        self.meltano = meltano
        self.roots = {}
        for tool in ("meltano", "smelt"):
            root = tmp_path / tool
            (root / "dump").mkdir(parents=True)
            (root / "meltano.yml").write_text(PROJECT.format(fakes=FAKES))
            dotenv = root / ".env"
            dotenv.write_text(f"TAP_ENVDUMP_PASSWORD={SECRET}\nDOTENV_VAR=dot\n")
            dotenv.chmod(0o600)
            self.roots[tool] = root

    def run(self, tool, *args, env=None):
        exe = [str(self.meltano)] if tool == "meltano" else [SMELT]
        extra = {**MELTANO_ENV, "ENVDUMP_DIR": str(self.roots[tool] / "dump"), **(env or {})}
        return subprocess.run([*exe, *map(str, args)], cwd=self.roots[tool], env=clean_env(extra),
                              capture_output=True, text=True, timeout=600)

    def both(self, *args, **kw):
        return self.run("meltano", *args, **kw), self.run("smelt", *args, **kw)

    def dumps(self, name):
        """{tool: the environment the fake wrote to dump/<name>.json, normalized}; the files are removed."""
        out = {}
        for tool, root in self.roots.items():
            path = root / "dump" / f"{name}.json"
            assert path.exists(), f"{tool} did not start the plugin ({name})"
            env = json.loads(path.read_text())
            path.unlink()
            out[tool] = normalize(env, root, tool)
        return out


def normalize(env, root, tool):
    """Per-copy values made comparable: the project folder, the system folder (Meltano's `.meltano`,
    smelt's `.smelt`) and its database; smelt's own programs folder first on PATH."""
    sys_dir = f"{root}/.meltano" if tool == "meltano" else f"{root}/.smelt"
    db = f"{sys_dir}/meltano.db" if tool == "meltano" else f"{sys_dir}/smelt.db"
    out = {}
    for key, value in env.items():
        value = value.replace(db, "<system db>").replace(sys_dir, "<sys dir>").replace(str(root), "<root>")
        if key == "PATH" and tool == "smelt":
            value = os.pathsep.join(p for p in value.split(os.pathsep)
                                    if os.path.realpath(p) != os.path.realpath(LIBEXEC))
        out[key] = value
    return out


def compare(dumped):
    """The two environments are the same apart from the listed differences; returns smelt's."""
    m, s = dumped["meltano"], dumped["smelt"]
    assert m.pop("MELTANO_USER_AGENT") == "Meltano/4.4.1"
    assert re.fullmatch(r"Smelt/\d+\.\d+\.\d+\S*", s.pop("MELTANO_USER_AGENT"))
    for key in MELTANO_ONLY:
        m.pop(key, None)
    extra = {k for k in s if k.startswith("SMELT_") or k in SMELT_ONLY}
    s = {k: v for k, v in s.items() if k not in extra}
    only_m = sorted(set(m) - set(s))
    only_s = sorted(set(s) - set(m))
    differ = sorted((k, m[k], s[k]) for k in set(m) & set(s) if m[k] != s[k])
    assert (only_m, only_s, differ) == ([], [], []), f"meltano only: {only_m}\nsmelt only: {only_s}\ndiffer: {differ}"
    return s


def assert_logging_files(env, kind, level="INFO"):
    """SINGER_SDK_LOG_CONFIG and LOGGING_CONF_FILE name files in the plugin's run folder whose text the
    fake read (compare() found it the same in both tools)."""
    name = env["MELTANO_" + ("EXTRACTOR" if kind == "tap" else "LOADER") + "_NAME"]
    assert env["SINGER_SDK_LOG_CONFIG"] == f"<sys dir>/run/{name}/{kind}.singer_sdk_logging.json"
    assert env["LOGGING_CONF_FILE"] == f"<sys dir>/run/{name}/{kind}.pipelinewise_logging.conf"
    assert json.loads(env["file:SINGER_SDK_LOG_CONFIG"])["root"]["level"] == level
    assert f"[logger_root]\nlevel={level}\n" in env["file:LOGGING_CONF_FILE"]


@pytest.fixture
def pair(meltano, tmp_path):
    return Pair(meltano, tmp_path)


def test_run_gives_plugins_what_meltano_gives(pair):
    m, s = pair.both("run", "tap-envdump", "target-envdump")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    tap = compare(pair.dumps("tap-discover"))
    assert compare(pair.dumps("tap-sync")) == tap
    target = compare(pair.dumps("target"))
    # what the issue names, present (and equal, by compare())
    assert tap["MELTANO_EXTRACT_USER"] == tap["TAP_ENVDUMP_USER"] == "alice"
    assert tap["MELTANO_EXTRACT_PASSWORD"] == SECRET and tap["MELTANO_EXTRACT_REGION"] == "eu"
    assert tap["TAP_ENVDUMP__METADATA_THINGS_REPLICATION_KEY"] == "id"
    assert tap["MELTANO_EXTRACT__SCHEMA_THINGS_V_TYPE"] == '["string", "null"]'
    assert tap["TAP_ENVDUMP_MADE_UP_DEEPER_FLAG"] == "true" and "TAP_ENVDUMP_MADE_UP" not in tap
    assert tap["MELTANO_EXTRACTOR_VARIANT"] == "acme" and tap["MELTANO_STATE_BACKEND_URI"] == "systemdb"
    assert tap["TAP_ENVDUMP__LOG_PARSER"] == "singer-sdk" and tap["PYTHONWARNINGS"] == "once"
    assert tap["MELTANO_DATABASE_URI"] == "sqlite:///<system db>" and tap["MELTANO_ENVIRONMENT"] == "dev"
    # the loader sees the extractor's variables; the extractor none of the loader's
    assert target["TAP_ENVDUMP_USER"] == "alice" and target["MELTANO_EXTRACT__LOAD_SCHEMA"] == "tap_envdump"
    assert target["MELTANO_LOAD_SCHEMA_NAME"] == "tap_envdump" and target["MELTANO_LOADER_VARIANT"] == "acme"
    assert not any(k.startswith(("MELTANO_LOAD", "TARGET_ENVDUMP")) for k in tap)
    assert "ENV_PLUGIN_LEVEL" in tap and "ENV_PLUGIN_LEVEL" not in target
    assert_logging_files(tap, "tap")
    assert_logging_files(target, "target")


def test_invoke_gives_the_plugin_what_meltano_gives(pair):
    m, s = pair.both("invoke", "tap-envdump")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    env = compare(pair.dumps("tap-sync"))
    assert env["MELTANO_EXTRACT_REGION"] == "eu" and env["MELTANO_ENVIRONMENT"] == "dev"
    # debug level: the logging configurations say so
    m, s = pair.both("--log-level", "debug", "invoke", "tap-envdump")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    env = compare(pair.dumps("tap-sync"))
    assert_logging_files(env, "tap", "DEBUG")
    assert env["MELTANO_CLI_LOG_LEVEL"] == "debug"
    assert SECRET not in s.stdout + s.stderr


def test_select_list_discovers_with_meltanos_environment(pair):
    # no environment chosen: Meltano's select ignores the default one
    m, s = pair.both("select", "tap-envdump", "--list")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    env = compare(pair.dumps("tap-discover"))
    assert env["MELTANO_ENVIRONMENT"] == "" and "MELTANO_EXTRACT_REGION" not in env and "ENV_LEVEL" not in env
    for tool, root in pair.roots.items():  # discover again, not from the cached catalog
        for cached in ("tap.properties.json", "tap.properties.cache_key", "tap.discovered.json",
                       "tap.discovered.cache_key"):
            path = root / (".meltano" if tool == "meltano" else ".smelt") / "run/tap-envdump" / cached
            if path.exists():
                path.unlink()
    m, s = pair.both("--environment", "dev", "select", "tap-envdump", "--list")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    env = compare(pair.dumps("tap-discover"))
    assert env["MELTANO_ENVIRONMENT"] == "dev" and env["MELTANO_EXTRACT_REGION"] == "eu"


@pytest.mark.parametrize("args", [("config", "print", "tap-envdump", "--format", "env"),
                                  ("config", "print", "tap-envdump", "--format", "env", "--extras"),
                                  ("--environment", "dev", "config", "print", "target-envdump", "--format", "env")])
def test_config_print_env_matches_meltano(pair, args):
    m, s = pair.both(*args)
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    assert s.stdout == m.stdout
    assert SECRET not in s.stdout + s.stderr


def test_config_print_env_has_the_aliases(pair):
    s = pair.run("smelt", "config", "print", "tap-envdump", "--format", "env")
    assert "MELTANO_EXTRACT_USER='alice'\n" in s.stdout and "MELTANO_EXTRACT_PASSWORD='*****'\n" in s.stdout
    assert "TAP_ENVDUMP_MADE_UP_INNER='1'\n" in s.stdout


# ---- logs -----------------------------------------------------------------------------------------------

# Keys of Meltano's plugin lines smelt does not write, and why.
MELTANO_LOG_ONLY = {
    "_logger", "_name",  # Python logger internals structlog leaks into Meltano's lines
    "producer", "consumer", "string_id",  # Meltano's EL block internals (string_id repeats name)
}
TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"
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


def plugin_line(lines, start):
    (line,) = [e for e in lines if e["event"].startswith(start)]
    return line


def test_json_log_lines_carry_meltanos_keys(pair):
    m, s = pair.both("--log-format", "json", "run", "tap-envdump", "target-envdump", env={"ENVDUMP_LEAK": "1"})
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    mlines, slines = json_lines(m.stderr), json_lines(s.stderr)
    assert len(slines) == len(s.stderr.splitlines()), s.stderr  # every line is an object
    for start in ("fake-env-tap: starting sync", "fake-env-target: done", "fake-env-tap: discover with"):
        ml, sl = plugin_line(mlines, start), plugin_line(slines, start)
        missing = set(ml) - set(sl) - MELTANO_LOG_ONLY
        assert not missing, (start, missing, sl)
        for key in ("name", "stdio", "cmd_type", "job_name", "type", "level"):
            assert ml.get(key) == sl.get(key) or key not in ml, (start, key, ml, sl)
        assert re.fullmatch(TIMESTAMP, ml["timestamp"]) and re.fullmatch(TIMESTAMP, sl["timestamp"])
        assert re.fullmatch(r"[0-9a-f-]{36}", sl["run_id"])
    assert plugin_line(slines, "fake-env-tap: discover with")["type"] == "discovery"
    assert plugin_line(slines, "fake-env-tap: starting sync")["cmd_type"] == "elb"
    # smelt's own lines: event, level, timestamp too; run_id during the run
    own = [e for e in slines if e["source"] == "smelt"]
    assert own and all({"event", "level", "timestamp"} <= set(e) for e in own)
    assert all(e["level"] in ("debug", "info", "warning", "error", "critical") for e in slines)
    assert own[-1]["event"] == "run summary" and own[-1]["run_id"] == plugin_line(slines, "fake-env-target")["run_id"]
    # the tap printed its password: Meltano logs it, smelt never does
    assert SECRET in m.stderr
    assert SECRET not in s.stderr + s.stdout and "with password *****" in s.stderr
    for log in (pair.roots["smelt"] / ".smelt/logs").rglob("*"):
        if log.is_file():
            assert SECRET not in log.read_text(errors="replace")


def test_key_value_log_format(pair):
    for spelling in ("key-value", "key_value"):
        m, s = pair.both("--log-format", spelling, "run", "tap-envdump", "target-envdump")
        assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
        ml, sl = plugin_line(kv_lines(m.stderr), "fake-env-tap: starting sync"), \
            plugin_line(kv_lines(s.stderr), "fake-env-tap: starting sync")
        assert not set(ml) - set(sl) - MELTANO_LOG_ONLY - {"logger"}, (ml, sl)
        for key in ("name", "stdio", "cmd_type", "job_name", "level"):
            assert ml[key] == sl[key], (key, ml, sl)
        assert re.fullmatch(TIMESTAMP, sl["timestamp"])
    bad = pair.run("smelt", "--log-format", "xml", "run", "tap-envdump", "target-envdump")
    assert bad.returncode == 2 and "key-value" in bad.stderr
