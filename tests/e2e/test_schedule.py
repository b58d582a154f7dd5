"""smelt schedule add|set|list|remove|run: schedules in smelt.yml, cron validation, Meltano's JSON
export (what orchestrators read) with Smelt's next_run_at, and running a schedule now."""
import datetime
import sqlite3

import yaml

BASE = """\
# schedules project
default_environment: dev
environments:
- name: dev
- name: prod
plugins:
  extractors:
  - name: tap-csv
    variant: smelt
    config:
      files:
      - {entity: things, path: $THINGS_FILE, keys: [id]}
  loaders:
  - name: target-sqlite
    variant: smelt
    config:
      database: out.db
jobs:
- name: load
  tasks: tap-csv target-sqlite
schedules:
# nightly load
- name: nightly   # at two
  interval: '0 2 * * *'
  job: load
  env:
    THINGS_FILE: data/things.csv
"""


def write(project):
    project.write(BASE)
    (project.root / "data").mkdir(exist_ok=True)
    (project.root / "data/things.csv").write_text("id,name\n1,a\n2,b\n3,c\n")


def test_add_set_remove_keep_comments(project):
    write(project)
    s = project.smelt
    assert s("schedule", "add", "hourly-elt", "--extractor", "tap-csv", "--loader", "target-sqlite",
             "--interval", "@hourly", check=0).stdout.strip() == "Scheduled elt 'hourly-elt' at @hourly"
    assert s("schedule", "add", "weekdays", "--job", "load", "--interval", "*/30 9-17 * * MON-FRI",
             check=0).stdout.strip() == "Scheduled job 'weekdays' at */30 9-17 * * MON-FRI"
    text = (project.root / "smelt.yml").read_text()
    assert text.startswith(BASE)
    doc = yaml.safe_load(text)
    assert doc["schedules"][1:] == [
        {"name": "hourly-elt", "extractor": "tap-csv", "loader": "target-sqlite", "transform": "skip",
         "interval": "@hourly"},
        {"name": "weekdays", "interval": "*/30 9-17 * * MON-FRI", "job": "load"}]

    s("schedule", "set", "nightly", "--interval", "@daily", check=0)
    text = (project.root / "smelt.yml").read_text()
    assert "# nightly load\n- name: nightly   # at two\n  interval: '@daily'\n" in text
    assert yaml.safe_load(text)["schedules"][0]["env"] == {"THINGS_FILE": "data/things.csv"}

    lines = s("schedule", "list", check=0).stdout.splitlines()
    assert lines[0].startswith('[@daily] job nightly: load \u2192 "tap-csv target-sqlite" (next run ')
    assert lines[1].startswith("[@hourly] elt hourly-elt: tap-csv \u2192 target-sqlite x transforms")

    s("schedule", "remove", "hourly-elt", check=0)
    s("schedule", "remove", "weekdays", check=0)
    s("schedule", "set", "nightly", "--interval", "0 2 * * *", check=0)
    assert (project.root / "smelt.yml").read_text() == BASE


def test_json_export_has_meltanos_shape_and_next_run(project):
    write(project)
    s = project.smelt
    s("schedule", "add", "elt", "--extractor", "tap-csv", "--loader", "target-sqlite", "--interval", "@once", check=0)
    before = datetime.datetime.now(datetime.timezone.utc)
    data = s.json("--environment", "prod", "schedule", "list", "--format", "json")
    job, elt = data["schedules"]["job"], data["schedules"]["elt"]
    assert len(job) == 1 and len(elt) == 1
    j = job[0]
    assert {k: j[k] for k in ("name", "interval", "cron_interval", "env", "job")} == {
        "name": "nightly", "interval": "0 2 * * *", "cron_interval": "0 2 * * *",
        "env": {"THINGS_FILE": "data/things.csv"}, "job": {"name": "load", "tasks": "tap-csv target-sqlite"}}
    assert j["environment"] == "prod"
    assert j["blocks"] == ["tap-csv target-sqlite"] and j["run_args"] == ["load"]
    nxt = datetime.datetime.strptime(j["next_run_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    assert (nxt.hour, nxt.minute, nxt.second) == (2, 0, 0)
    assert before < nxt <= before + datetime.timedelta(days=1)
    e = elt[0]
    assert {k: e[k] for k in ("name", "extractor", "loader", "transform", "interval", "cron_interval", "env",
                              "elt_args", "last_successful_run_ended_at")} == {
        "name": "elt", "extractor": "tap-csv", "loader": "target-sqlite", "transform": "skip", "interval": "@once",
        "cron_interval": None, "env": {}, "last_successful_run_ended_at": None,
        "elt_args": ["tap-csv", "target-sqlite", "--transform=skip", "--state-id=elt"]}
    assert e["next_run_at"] is None

    # job and schedule commands ignore default_environment (MELTANO.md section 3)
    assert s.json("schedule", "list", "--format", "json")["schedules"]["job"][0]["environment"] is None


def test_bad_intervals_and_targets_are_refused(project):
    write(project)
    s = project.smelt
    cases = [
        ("61 * * * *", "minute 61 is out of range 0-59"),
        ("0 24 * * *", "hour 24 is out of range 0-23"),
        ("0 0 * * * *", "has 6 fields; want 5"),
        ("0 0 * FOO *", "unknown month name 'FOO'"),
        ("0 0 31 2 *", "never fires"),
        ("*/0 * * * *", "minute step 0 is out of range"),
        ("@fortnightly", "unknown interval '@fortnightly'"),
    ]
    for interval, message in cases:
        proc = s("schedule", "add", "bad", "--job", "load", "--interval", interval)
        assert proc.returncode == 1 and message in proc.stderr, (interval, proc.stderr)
    for args, message in [
        (("--job", "load", "--extractor", "tap-csv", "--interval", "@daily"), "cannot mix --job"),
        (("--extractor", "tap-csv", "--interval", "@daily"), "missing --loader"),
    ]:
        proc = s("schedule", "add", "bad", *args)
        assert proc.returncode == 1 and message in proc.stderr, (args, proc.stderr)
    proc = s("schedule", "add", "nightly", "--job", "load", "--interval", "@daily")  # as Meltano's (test_meltano_parity_schedule)
    assert proc.returncode == 0 and proc.stdout == "Schedule 'nightly' already exists.\n"
    proc = s("schedule", "set", "nightly", "--extractor", "tap-csv")
    assert proc.returncode == 1 and "cannot mix --job" in proc.stderr
    proc = s("schedule", "set", "nightly", "--interval", "0 0 0 * *")
    assert proc.returncode == 1 and "day of month 0 is out of range 1-31" in proc.stderr
    assert s("schedule", "add", "x", "--job", "load").returncode == 2
    assert s("schedule", "add", "x", "--extractor", "tap-csv", "--loader", "target-sqlite", "--interval", "@daily",
             "--transform", "maybe").returncode == 2
    assert (project.root / "smelt.yml").read_text() == BASE


def test_run_spawns_smelt_run_with_the_schedules_env(project):
    write(project)
    s = project.smelt
    proc = s("schedule", "run", "nightly")
    assert proc.returncode == 0, proc.stderr
    assert "smelt run load" in proc.stderr
    with sqlite3.connect(project.root / "out.db") as db:
        assert db.execute("select count(*) from things").fetchone()[0] == 3
    assert "singer_state" in s.json("state", "get", "dev:tap-csv-to-target-sqlite")

    # the child's exit code is the schedule's; extra args go to smelt run
    s("schedule", "add", "broken", "--job", "load", "--interval", "@daily", check=0)  # no THINGS_FILE in its env
    proc = s("schedule", "run", "broken")
    assert proc.returncode == 1
    assert s("schedule", "run", "nightly", "--dry-run").returncode == 0
    proc = s("schedule", "run", "nope")
    assert proc.returncode == 1 and "schedule 'nope' does not exist" in proc.stderr

    # an explicit environment is passed on
    proc = s("--environment", "prod", "schedule", "run", "nightly", check=0)
    assert "singer_state" in s.json("state", "get", "prod:tap-csv-to-target-sqlite")


def test_elt_schedule_runs_extractor_and_loader(project):
    write(project)
    s = project.smelt
    s("schedule", "add", "elt", "--extractor", "tap-csv", "--loader", "target-sqlite", "--interval", "@hourly",
      check=0)
    proc = s("schedule", "run", "elt", env={"THINGS_FILE": "data/things.csv"})
    assert proc.returncode == 0, proc.stderr
    assert "smelt run tap-csv target-sqlite" in proc.stderr
    s("schedule", "add", "elt-t", "--extractor", "tap-csv", "--loader", "target-sqlite", "--interval", "@hourly",
      "--transform", "run", check=0)
    proc = s("schedule", "run", "elt-t")
    assert proc.returncode == 1 and "no transformer plugin" in proc.stderr
