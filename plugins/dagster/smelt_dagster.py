"""Smelt's Dagster code location: the project's jobs and schedules as Dagster definitions.

Smelt's dagster adapter copies this file to orchestrate/dagster/definitions.py in the project
(refreshed on every `smelt invoke dagster...` and `smelt schedule export dagster`: put your own
Dagster code in other files).  It holds no job of its own: each time Dagster loads it (a start,
a reload in the UI, `dagster definitions validate`, each run) it asks Smelt for the project's
jobs and schedules,

    smelt job list --format json
    smelt schedule list --format json

and builds from them:

* one Dagster job per Smelt job, named after it (characters other than letters, digits and
  '_' become '_'), with one op per task, in order: a task `tap-csv target-sqlite` is an op
  running `smelt run tap-csv target-sqlite` in the project (an argv list, never a shell); a task
  that is a list of blocks is one op running `smelt run` with all of them.  A task that fails
  fails its op with smelt's exit code and error line, and the ops after it do not run;
* one Dagster schedule per Smelt schedule of a job, same name, same cron, timezone UTC (Smelt's
  schedules are in UTC; a `timezone` key, if Smelt ever gives one, is used), running that job
  with the schedule's env and environment;
* for a schedule of an extractor/loader pair (no job): a job `elt_<schedule>` with one op that
  runs `smelt schedule run <schedule>` (Smelt applies the schedule's env, transform and state id
  itself), and the Dagster schedule `<schedule>` on its cron;
* a schedule without a cron (@once, @manual) has no Dagster schedule; its job can be launched by
  hand.

The adapter sets SMELT_BIN (the smelt executable), SMELT_PROJECT_ROOT and SMELT_DAGSTER_EXECUTOR
(`in_process`, the default: every op of a run in one process; or `multiprocess`).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

from dagster import (
    Definitions,
    Failure,
    In,
    MetadataValue,
    Nothing,
    Out,
    ScheduleDefinition,
    in_process_executor,
    job,
    multiprocess_executor,
    op,
)

SMELT = os.environ.get("SMELT_BIN") or shutil.which("smelt") or "smelt"
ROOT = os.environ.get("SMELT_PROJECT_ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
EXECUTOR = multiprocess_executor if os.environ.get("SMELT_DAGSTER_EXECUTOR") == "multiprocess" \
    else in_process_executor
LIST_TIMEOUT_S = 120
TAIL_LINES = 40
SCHEDULE_TAG = "smelt/schedule"

_VAR = re.compile(r"\\?\$(?:\{(\w+)\}|([A-Z][A-Z0-9_]*))")


def safe_name(text: str) -> str:
    """A Dagster name: letters, digits and '_' only."""
    return re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_") or "smelt"


def _expand(value: str, env: dict) -> str:
    """$VAR / ${VAR} the way Smelt (and Meltano) expand a schedule's env: unknown names become ''."""

    def sub(m):
        if m.group(0).startswith("\\"):
            return m.group(0)[1:]
        return env.get(m.group(1) or m.group(2), "")

    return _VAR.sub(sub, value)


def smelt_json(*args: str) -> dict:
    """`smelt ARGS... --format json` in the project, parsed; a clear error when smelt fails."""
    argv = [SMELT, *args, "--format", "json"]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=LIST_TIMEOUT_S, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"'{' '.join(argv)}' in {ROOT} exited with {proc.returncode}: {proc.stderr.strip()}")
    return json.loads(proc.stdout)


def task_words(task) -> list:
    """The words after `smelt run` for one task: a string, or a list of blocks run together."""
    blocks = task if isinstance(task, list) else [task]
    return [w for block in blocks for w in str(block).split()]


def run_smelt(context, argv: list) -> None:
    """Runs argv (smelt ...) in the project; its output goes to the op's stdout, a failure fails the op."""
    env = dict(os.environ)
    schedule = SCHEDULES.get(context.run.tags.get(SCHEDULE_TAG, ""))
    if schedule and argv[1] == "run":  # `smelt schedule run` applies the schedule's env itself
        if schedule.get("environment"):
            env["SMELT_ENVIRONMENT"] = schedule["environment"]
        for key, value in (schedule.get("env") or {}).items():
            if value is not None:
                env[key] = _expand(value if isinstance(value, str) else json.dumps(value), env)
    context.log.info(f"running {' '.join(argv)} in {ROOT}")
    tail, errors = [], []
    with subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace") as proc:
        for line in proc.stdout:
            line = line.rstrip("\n")
            print(line, flush=True)
            tail = (tail + [line])[-TAIL_LINES:]
            if "error" in line.lower():
                errors.append(line)
        rc = proc.wait()
    if rc != 0:
        detail = errors[-1] if errors else (tail[-1] if tail else "no output")
        raise Failure(
            description=f"{' '.join(argv[1:])} failed (exit code {rc}): {detail}",
            metadata={"exit_code": rc, "command": " ".join(argv), "output": MetadataValue.text("\n".join(tail))},
        )
    context.log.info(f"{' '.join(argv[1:])} succeeded")


def make_op(name: str, argv: list):
    @op(name=name, ins={"after": In(Nothing)}, out=Out(Nothing), description=" ".join(argv[1:]), tags={"kind": "smelt"})
    def _op(context):
        run_smelt(context, [SMELT, *argv[1:]])

    return _op


def make_job(name: str, steps: list, description: str, tags: dict):
    """A job running steps [(op name, argv)] one after the other.  An op is one definition per
    command line, shared by the jobs that run it (Dagster wants op names unique in a location);
    a command that comes twice in a job is the same op under a second name (op_2)."""
    calls, seen = [], set()
    for op_name, argv in steps:
        key = tuple(argv[1:])
        if key not in OPS:
            OPS[key] = make_op(_unique(op_name, OP_NAMES), argv)
        alias = _unique(OPS[key].name, seen)
        calls.append(OPS[key] if alias == OPS[key].name else OPS[key].alias(alias))

    @job(name=name, description=description, executor_def=EXECUTOR, tags=tags)
    def _job():
        previous = None
        for c in calls:
            previous = c(after=previous) if previous is not None else c()

    return _job


def _unique(name: str, taken: set) -> str:
    unique, n = name, 2
    while unique in taken:
        unique, n = f"{name}_{n}", n + 1
    taken.add(unique)
    return unique


def build():
    jobs_json = smelt_json("job", "list").get("jobs") or []
    schedules_json = smelt_json("schedule", "list").get("schedules") or {}
    jobs, by_smelt_name, schedules, taken_jobs, taken_schedules = [], {}, [], set(), set()
    for j in jobs_json:
        smelt_name = j.get("job_name") or j.get("name")
        tasks = j.get("tasks") or []
        if isinstance(tasks, str):
            tasks = [tasks]
        steps = [(safe_name(" ".join(task_words(t))), [SMELT, "run", *task_words(t)]) for t in tasks if task_words(t)]
        if not steps:
            continue
        d = make_job(_unique(safe_name(smelt_name), taken_jobs), steps, f"Smelt job '{smelt_name}'",
                     {"smelt/job": smelt_name})
        jobs.append(d)
        by_smelt_name[smelt_name] = d
    for s in schedules_json.get("job") or []:
        SCHEDULES[s["name"]] = s
        target = by_smelt_name.get((s.get("job") or {}).get("name"))
        if target is None or not s.get("cron_interval"):
            continue
        schedules.append(ScheduleDefinition(
            name=_unique(safe_name(s["name"]), taken_schedules), job=target, cron_schedule=s["cron_interval"],
            execution_timezone=s.get("timezone") or "UTC", tags={SCHEDULE_TAG: s["name"]},
            description=f"Smelt schedule '{s['name']}' ({s.get('interval')}) of job '{s['job']['name']}'"))
    for s in schedules_json.get("elt") or []:
        SCHEDULES[s["name"]] = s
        pair = f"{s.get('extractor')} to {s.get('loader')}"
        d = make_job(_unique(safe_name(f"elt_{s['name']}"), taken_jobs),
                     [(safe_name(f"schedule run {s['name']}"), [SMELT, "schedule", "run", s["name"]])],
                     f"Smelt schedule '{s['name']}': {pair}", {"smelt/elt_schedule": s["name"]})
        jobs.append(d)
        if s.get("cron_interval"):
            schedules.append(ScheduleDefinition(
                name=_unique(safe_name(s["name"]), taken_schedules), job=d, cron_schedule=s["cron_interval"],
                execution_timezone=s.get("timezone") or "UTC", tags={SCHEDULE_TAG: s["name"]},
                description=f"Smelt schedule '{s['name']}' ({s.get('interval')}): {pair}"))
    return Definitions(jobs=jobs, schedules=schedules)


SCHEDULES: dict = {}  # Smelt schedule name -> its JSON (env, environment)
OPS: dict = {}  # the words after smelt -> the op running them
OP_NAMES: set = set()
defs = build()
