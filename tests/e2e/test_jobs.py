"""smelt job add|set|list|remove: jobs in smelt.yml, edited with comments kept."""
import json

import yaml

BASE = """\
# Project comment: kept through every edit
default_environment: dev
environments:
- name: dev
plugins:
  extractors:
  - name: tap-csv   # native CSV tap
    variant: smelt
    config:
      files:
      - {entity: things, path: data/things.csv, keys: [id]}
  loaders:
  - name: target-sqlite
    variant: smelt
    config:
      database: out.db
jobs:
# the first job
- name: load          # keep me
  tasks:
  - tap-csv target-sqlite
"""


def test_add_list_set_remove_keep_comments(project):
    project.write(BASE)
    s = project.smelt
    out = s("job", "add", "twice", "--tasks", '["tap-csv target-sqlite", ["tap-csv target-sqlite"]]', check=0).stdout
    assert out.startswith("Added job twice")
    text = (project.root / "smelt.yml").read_text()
    assert text.startswith(BASE)  # everything before is byte-identical, comments included
    doc = yaml.safe_load(text)
    assert doc["jobs"][1] == {"name": "twice", "tasks": ["tap-csv target-sqlite", ["tap-csv target-sqlite"]]}

    assert s.json("job", "list", "--format", "json") == {"jobs": [
        {"job_name": "load", "tasks": ["tap-csv target-sqlite"]},
        {"job_name": "twice", "tasks": ["tap-csv target-sqlite", ["tap-csv target-sqlite"]]}]}
    assert s.json("job", "list", "load", "--format", "json") == {"job_name": "load", "tasks": ["tap-csv target-sqlite"]}
    assert s("job", "list", check=0).stdout.splitlines()[0] == 'load: ["tap-csv target-sqlite"]'

    # a plain string is one task
    s("job", "set", "twice", "--tasks", "tap-csv target-sqlite", check=0)
    assert s.json("job", "list", "twice", "--format", "json")["tasks"] == "tap-csv target-sqlite"
    text = (project.root / "smelt.yml").read_text()
    assert "# the first job\n- name: load          # keep me\n" in text
    assert "# Project comment: kept through every edit" in text and "# native CSV tap" in text

    assert s("job", "remove", "twice", check=0).stdout.strip() == "Removed job 'twice'."
    assert (project.root / "smelt.yml").read_text() == BASE


def test_job_runs_through_smelt_run(project):
    project.write(BASE)
    (project.root / "data").mkdir()
    (project.root / "data/things.csv").write_text("id,name\n1,a\n2,b\n")
    project.smelt("run", "load", check=0)
    import sqlite3
    with sqlite3.connect(project.root / "out.db") as db:
        assert db.execute("select count(*) from things").fetchone()[0] == 2


def test_invalid_jobs_are_refused(project):
    project.write(BASE)
    s = project.smelt
    before = (project.root / "smelt.yml").read_text()
    cases = [
        (("job", "add", "load", "--tasks", "tap-csv target-sqlite"), "job 'load' already exists"),
        (("job", "add", "tap-csv", "--tasks", "tap-csv target-sqlite"), "'tap-csv' is already a plugin name"),
        (("job", "add", "x", "--tasks", "tap-csv"), "Loader missing in block set!"),
        (("job", "add", "x", "--tasks", "tap-nope target-sqlite"), "Block tap-nope not found"),
        (("job", "add", "x", "--tasks", '{"a": 1}'), "tasks must be a string or a list"),
        (("job", "add", "x", "--tasks", "[1, 2]"), "tasks must be a string or a list"),
        (("job", "add", "x", "--tasks", ""), "--tasks is empty"),
        (("job", "add", "x", "--tasks", "[unclosed"), "cannot parse the tasks"),
        (("job", "add", "a:b", "--tasks", "tap-csv target-sqlite"), "invalid job name"),
        (("job", "set", "nope", "--tasks", "tap-csv target-sqlite"), "job 'nope' does not exist"),
        (("job", "remove", "nope"), "job 'nope' does not exist"),
        (("job", "list", "nope"), "job 'nope' does not exist"),
    ]
    for args, message in cases:
        proc = s(*args)
        assert proc.returncode == 1, (args, proc.stderr)
        assert message in proc.stderr, (args, proc.stderr)
    assert s("job", "add", "x").returncode == 2  # usage: --tasks missing
    assert s("job", "list", "--format", "yaml").returncode == 2
    assert s("job", "frobnicate").returncode == 2
    assert (project.root / "smelt.yml").read_text() == before


def test_a_job_used_by_a_schedule_cannot_be_removed(project):
    project.write(BASE + "schedules:\n- name: nightly\n  interval: '@daily'\n  job: load\n")
    proc = project.smelt("job", "remove", "load")
    assert proc.returncode == 1 and "schedule 'nightly' runs job 'load'" in proc.stderr


def test_job_in_an_include_file_is_edited_there(project):
    project.write(BASE.replace("jobs:\n# the first job\n- name: load          # keep me\n  tasks:\n"
                               "  - tap-csv target-sqlite\n", "include_paths:\n- jobs/*.yml\n"))
    project.write("# included jobs\njobs:\n- name: inc\n  tasks: tap-csv target-sqlite  # one\n", "jobs/more.yml")
    s = project.smelt
    s("job", "set", "inc", "--tasks", '["tap-csv target-sqlite", "tap-csv target-sqlite"]', check=0)
    inc = (project.root / "jobs/more.yml").read_text()
    assert inc.startswith("# included jobs\n")
    assert yaml.safe_load(inc)["jobs"][0]["tasks"] == ["tap-csv target-sqlite", "tap-csv target-sqlite"]
    assert "tasks" not in (project.root / "smelt.yml").read_text()
    assert [j["job_name"] for j in s.json("job", "list", "--format", "json")["jobs"]] == ["inc"]


def test_removing_a_plugin_a_job_names_warns(project):
    project.write(BASE)
    proc = project.smelt("remove", "target-sqlite", check=0)
    assert "job 'load' still names 'target-sqlite': 'smelt run load' fails until the job is changed" \
        in proc.stderr
    # the job is the user's: left as it is
    assert yaml.safe_load((project.root / "smelt.yml").read_text())["jobs"][0]["tasks"] == ["tap-csv target-sqlite"]


def test_removing_a_plugin_a_schedule_names_warns(project):
    project.write(BASE + """\
- name: other
  tasks: target-sqlite:hello
schedules:
- name: nightly
  interval: '@daily'
  job: load
- name: el
  interval: '@hourly'
  extractor: tap-csv
  loader: target-sqlite
- name: unrelated
  interval: '@daily'
  job: other
""")
    proc = project.smelt("remove", "tap-csv", check=0)
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("smelt warning: schedule")]
    assert warnings == [
        "smelt warning: schedule 'nightly' runs job 'load', which still names 'tap-csv': "
        "'smelt schedule run nightly' fails until the job is changed",
        "smelt warning: schedule 'el' still names 'tap-csv' as its extractor: 'smelt schedule run el' fails until "
        "the schedule is changed ('smelt schedule set el ...')",
    ], proc.stderr
    assert "job 'load' still names 'tap-csv'" in proc.stderr
    # the schedules are the user's: left as they are
    schedules = yaml.safe_load((project.root / "smelt.yml").read_text())["schedules"]
    assert [s["name"] for s in schedules] == ["nightly", "el", "unrelated"] and schedules[1]["extractor"] == "tap-csv"
    # a loader: the schedule naming it as its loader, and both jobs' schedules
    proc = project.smelt("remove", "target-sqlite", check=0)
    assert "schedule 'el' still names 'target-sqlite' as its loader" in proc.stderr
    assert "schedule 'unrelated' runs job 'other', which still names 'target-sqlite'" in proc.stderr
    assert "schedule 'nightly' runs job 'load', which still names 'target-sqlite'" in proc.stderr
