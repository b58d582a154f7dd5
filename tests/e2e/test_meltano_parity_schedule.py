"""Schedules and state commands, compared with real Meltano 4.4.1 (issue 16):

- an extractor/loader schedule keeps its state under the schedule's name (Meltano's `elt --state-id`),
  a job schedule under `<env>:<tap>-to-<target>`: what `meltano schedule run` left in Meltano's system
  database is where `smelt schedule run` continues, on the same project folder;
- `schedule add` of a name that exists (a notice, exit 0, nothing written), of a job that does not
  exist or of an extractor/loader that is not in the project (scheduled all the same, exit 0);
- `state copy`, `move` and `clear --all` act on the configured state backend, file:// and s3:// (moto's
  S3 server on 127.0.0.1), with the same files, objects and listings as Meltano's."""
import json
import sqlite3
import subprocess

import pytest
import yaml

from conftest import SMELT, clean_env, uv_venv
from test_meltano_parity import MELTANO_ENV, Pair
from test_meltano_switch import moto, s3_env  # noqa: F401 (moto is a fixture)


@pytest.fixture(scope="module")
def meltano(tmp_path_factory):
    venv = uv_venv(tmp_path_factory.mktemp("meltano") / "venv", "meltano[s3]==4.4.1")
    return venv / "bin/meltano"


@pytest.fixture
def pair(meltano, tmp_path):
    return Pair(meltano, tmp_path)


def rows(root):
    path = root / "out/people.jsonl"
    return [json.loads(line)["id"] for line in path.read_text().splitlines()] if path.exists() else []


def add_row(root, n):
    with open(root / "people.csv", "a") as f:
        f.write(f"{n},p{n}\n")


def run(meltano, tool, root, *args, env=None):
    exe = [str(meltano)] if tool == "meltano" else [SMELT]
    return subprocess.run([*exe, *map(str, args)], cwd=root, capture_output=True, text=True, timeout=600,
                          env=clean_env({**MELTANO_ENV, **(env or {})} if tool == "meltano" else env))


def test_schedule_run_continues_from_meltanos_state(meltano, pair):
    root = pair.roots["meltano"]  # one project folder, used by both tools in turn
    yml = root / "meltano.yml"
    yml.write_text(yml.read_text() + "jobs:\n- name: load\n  tasks:\n  - tap-csv target-jsonl\n")
    for args in (("daily", "--extractor", "tap-csv", "--loader", "target-jsonl"), ("nightly", "--job", "load")):
        proc = run(meltano, "meltano", root, "schedule", "add", *args, "--interval", "@daily")
        assert proc.returncode == 0, proc.stderr

    # an extractor/loader schedule: Meltano's state is saved under the schedule's name ...
    proc = run(meltano, "meltano", root, "schedule", "run", "daily")
    assert proc.returncode == 0, proc.stderr
    assert rows(root) == [1, 2, 3]
    assert run(meltano, "meltano", root, "state", "list").stdout.split() == ["daily"]
    # ... where smelt's schedule run finds it: only the new row is extracted
    add_row(root, 4)
    proc = run(meltano, "smelt", root, "schedule", "run", "daily")
    assert proc.returncode == 0, proc.stderr
    assert rows(root) == [1, 2, 3, 4]
    state = json.loads(run(meltano, "smelt", root, "state", "get", "daily").stdout)
    assert state["singer_state"]["bookmarks"]["people"]["replication_key_value"] == 4

    # a job schedule: under the id of `meltano run`, found by smelt too
    proc = run(meltano, "meltano", root, "schedule", "run", "nightly")
    assert proc.returncode == 0, proc.stderr
    assert rows(root) == [1, 2, 3, 4, 1, 2, 3, 4]
    add_row(root, 5)
    proc = run(meltano, "smelt", root, "schedule", "run", "nightly")
    assert proc.returncode == 0, proc.stderr
    assert rows(root) == [1, 2, 3, 4, 1, 2, 3, 4, 5]
    m = run(meltano, "meltano", root, "state", "list").stdout.split()
    s = run(meltano, "smelt", root, "state", "list").stdout.split()
    assert sorted(m) == sorted(s) == ["daily", "dev:tap-csv-to-target-jsonl"]


def schedules(root):
    return yaml.safe_load((root / "meltano.yml").read_text()).get("schedules")


def test_schedule_add_of_a_duplicate_or_an_unknown_job(pair):
    # a job that does not exist: scheduled all the same
    m, s = pair.both("schedule", "add", "nightly", "--job", "no-such-job", "--interval", "@daily")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    assert m.stdout == s.stdout == "Scheduled job 'nightly' at @daily\n"
    m, s = pair.both("schedule", "add", "hourly", "--extractor", "tap-csv", "--loader", "target-jsonl",
                     "--interval", "@hourly")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    written = schedules(pair.roots["meltano"])
    assert written == schedules(pair.roots["smelt"]) and [x["name"] for x in written] == ["nightly", "hourly"]
    assert written[0]["job"] == "no-such-job"
    # the same names again, as a job or as an extractor/loader schedule: a notice, exit 0, nothing written
    for args in (("nightly", "--job", "load", "--interval", "@hourly"),
                 ("hourly", "--extractor", "tap-csv", "--loader", "target-jsonl", "--interval", "@daily"),
                 ("nightly", "--extractor", "tap-csv", "--loader", "target-jsonl", "--interval", "@daily")):
        before = {t: (r / "meltano.yml").read_text() for t, r in pair.roots.items()}
        m, s = pair.both("schedule", "add", *args)
        assert m.returncode == s.returncode == 0, (args, m.stderr, s.stderr)
        assert m.stdout == s.stdout == f"Schedule '{args[0]}' already exists.\n"
        assert {t: (r / "meltano.yml").read_text() for t, r in pair.roots.items()} == before


def test_schedule_add_of_plugins_not_in_the_project(pair):
    """An extractor and a loader that are not in the project (or are of another type) are scheduled all the
    same, as Meltano's are: the same message, exit 0 and schedule; Smelt adds a warning naming each."""
    for args in (("daily", "--extractor", "tap-nope", "--loader", "target-nope"),
                 ("mixed", "--extractor", "tap-csv", "--loader", "tap-csv", "--transform", "run")):
        m, s = pair.both("schedule", "add", *args, "--interval", "@daily")
        assert m.returncode == s.returncode == 0, (args, m.stderr, s.stderr)
        assert m.stdout == s.stdout == f"Scheduled elt '{args[0]}' at @daily\n"
    # one unknown plugin of two: the same again, the warning names it
    for args in (("again", "--extractor", "tap-nope", "--loader", "target-jsonl"),
                 ("x", "--extractor", "tap-csv", "--loader", "target-nope")):
        m, s = pair.both("schedule", "add", *args, "--interval", "@daily")
        assert m.returncode == s.returncode == 0 and m.stdout == s.stdout, (args, m.stderr, s.stderr)
        unknown = "extractor 'tap-nope'" if args[0] == "again" else "loader 'target-nope'"
        assert f"{unknown} is not in meltano.yml" in s.stderr, s.stderr
    # the same entries, their keys in the same order
    written = schedules(pair.roots["meltano"])
    assert written == schedules(pair.roots["smelt"])
    assert [list(x) for x in written] == [list(x) for x in schedules(pair.roots["smelt"])]
    assert written[0] == {"name": "daily", "interval": "@daily", "extractor": "tap-nope", "loader": "target-nope",
                          "transform": "skip"}
    # and they list alike (Smelt adds fields of its own)
    m, s = pair.both("schedule", "list", "--format", "json")
    assert m.returncode == s.returncode == 0, (m.stderr, s.stderr)
    theirs, mine = json.loads(m.stdout)["schedules"]["elt"], json.loads(s.stdout)["schedules"]["elt"]
    assert [{k: b.get(k) for k in a} for a, b in zip(theirs, mine)] == theirs and len(mine) == len(theirs) == 4, (theirs, mine)
    # `schedule set` to a plugin not in the project: accepted too
    m, s = pair.both("schedule", "set", "daily", "--loader", "target-other")
    assert m.returncode == s.returncode == 0 and m.stdout == s.stdout, (m.stderr, s.stderr)
    assert schedules(pair.roots["meltano"]) == schedules(pair.roots["smelt"])


def use_backend(pair, uri_of):
    for tool, root in pair.roots.items():
        yml = root / "meltano.yml"
        yml.write_text(yml.read_text() + f"state_backend:\n  uri: {uri_of(tool, root)}\n")


def copy_move_clear(pair, env=None, files=None):
    """The same state commands with both tools; files(tool) -> {path: content} of the backend after each."""
    def same(*args, rc=0):
        m, s = pair.both(*args, env=env)
        assert m.returncode == s.returncode == rc, (args, m.stderr, s.stderr)
        return m, s

    same("state", "set", "--force", "dev:a", '{"singer_state": {"bookmarks": {"x": 1}}}')
    same("state", "merge", "dev:a", '{"singer_state": {"bookmarks": {"y": 2}}}')
    same("state", "set", "--force", "dev:z", '{"singer_state": {"bookmarks": {"z": 0}}}')
    same("state", "copy", "--force", "dev:a", "dev:b")
    m, s = same("state", "get", "dev:b")
    assert json.loads(m.stdout) == json.loads(s.stdout) == {"singer_state": {"bookmarks": {"x": 1, "y": 2}}}
    same("state", "copy", "--force", "dev:nothing", "dev:c", rc=1)  # an unknown source: nothing written
    same("state", "move", "--force", "dev:a", "dev:d")
    m, s = same("state", "list")
    assert sorted(m.stdout.split()) == sorted(s.stdout.split()) == ["dev:b", "dev:d", "dev:z"]
    if files:
        assert files("meltano") == files("smelt")
    m, s = same("state", "get", "dev:a")
    assert m.stdout == s.stdout == "{}\n"
    same("state", "clear", "--force", "--all")
    m, s = same("state", "list")
    assert m.stdout == s.stdout == ""
    if files:
        assert files("meltano") == files("smelt") == {}


def test_state_copy_move_clear_all_on_a_file_backend(pair):
    use_backend(pair, lambda tool, root: f"file://{root}/state")

    def files(tool):
        base = pair.roots[tool] / "state"
        return {str(p.relative_to(base)): json.loads(p.read_text()) for p in base.rglob("*") if p.is_file()} | \
            {str(p.relative_to(base)) + "/": None for p in base.rglob("*") if p.is_dir() and not any(p.iterdir())}

    copy_move_clear(pair, files=files)
    assert not any((pair.roots["smelt"] / "state").iterdir())
    # smelt's system database holds no state: everything went to the backend
    with sqlite3.connect(pair.roots["smelt"] / ".smelt/smelt.db") as db:
        assert db.execute("SELECT count(*) FROM state").fetchone() == (0,)


def test_state_list_copy_move_clear_all_on_s3(pair, moto):  # noqa: F811
    venv, url = moto
    subprocess.run([str(venv / "bin/python"), "-c",
                    "import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id='a', "
                    "aws_secret_access_key='b', region_name='us-east-1').create_bucket(Bucket='parity')", url],
                   check=True)
    use_backend(pair, lambda tool, root: f"s3://parity/{tool}/state")

    def files(tool):
        code = ("import boto3, sys, json; c = boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id='a', "
                "aws_secret_access_key='b', region_name='us-east-1'); p = sys.argv[2]; "
                "keys = [o['Key'] for o in c.list_objects_v2(Bucket='parity', Prefix=p).get('Contents', [])]; "
                "print(json.dumps({k[len(p):]: json.loads(c.get_object(Bucket='parity', Key=k)['Body'].read()) "
                "for k in keys}))")
        out = subprocess.run([str(venv / "bin/python"), "-c", code, url, f"{tool}/state/"], capture_output=True,
                             text=True, check=True).stdout
        return json.loads(out)

    copy_move_clear(pair, env=s3_env(url), files=files)
