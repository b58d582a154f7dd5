"""Smelt's DAG generator: one Airflow DAG per schedule of the Smelt project.

Smelt's airflow adapter copies this file into the DAGs folder (it is
replaced on every `smelt invoke airflow...`: put your own DAGs in other
files).  At parse time it runs `smelt schedule list --format json` in the
project and builds, for each schedule:

* a DAG `smelt_<schedule>_<job>` (`smelt_<schedule>` for an
  extractor/loader schedule) on the schedule's cron, UTC, catchup off, one
  active run at a time, tagged `smelt`, `schedule:<name>`, `job:<name>`;
  a schedule without cron (@once, @manual) gets a DAG you trigger by hand;
* one task per run block, in order, each running `smelt run <block>` in
  the project with the schedule's env and environment (the extract/load
  block of an extractor/loader schedule with `--state-id <schedule>`, the
  state id Meltano and `smelt schedule run` give it).  No shell is
  involved: smelt gets an argv list.  Smelt's output goes to the task log;
  a failing block fails the task with Smelt's error message.

Retries: SMELT_AIRFLOW_RETRIES (default 0) and SMELT_AIRFLOW_RETRY_DELAY
(seconds, default 300) from the plugin's settings, overridden per schedule
by `annotations: {airflow: {retries: N, retry_delay: SECONDS}}` in
smelt.yml.  The adapter sets SMELT_BIN (the smelt executable) and
SMELT_PROJECT_ROOT.
"""
from __future__ import annotations

import datetime
import json
import logging
import os
import re
import shutil
import subprocess

from airflow.sdk import DAG

try:
    from airflow.providers.standard.operators.python import PythonOperator
except ImportError:  # pragma: no cover - Airflow 2 layout
    from airflow.operators.python import PythonOperator

try:
    from airflow.exceptions import AirflowException
except ImportError:  # pragma: no cover
    AirflowException = RuntimeError

log = logging.getLogger("smelt")

SMELT = os.environ.get("SMELT_BIN") or shutil.which("smelt") or "smelt"
ROOT = os.environ.get("SMELT_PROJECT_ROOT") or os.environ.get("MELTANO_PROJECT_ROOT") or os.getcwd()
PREFIX = os.environ.get("SMELT_AIRFLOW_DAG_PREFIX") or "smelt"
START = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
LIST_TIMEOUT_S = 120


def _int_env(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, "") or default)
    except ValueError:
        log.warning("%s=%r is not a whole number; using %d", name, os.environ.get(name), default)
        return default


def _safe_id(text: str) -> str:
    """Airflow ids allow letters, digits, '-', '.', '_'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "task"


_VAR = re.compile(r"\\?\$(?:\{(\w+)\}|([A-Z][A-Z0-9_]*))")


def _expand(value: str, env: dict) -> str:
    """$VAR / ${VAR} the way Smelt (and Meltano) expand them: unknown names become ''."""

    def sub(m):
        if m.group(0).startswith("\\"):
            return m.group(0)[1:]
        return env.get(m.group(1) or m.group(2), "")

    return _VAR.sub(sub, value)


def _schedules() -> dict:
    proc = subprocess.run(
        [SMELT, "schedule", "list", "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=LIST_TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"'{SMELT} schedule list --format json' in {ROOT} exited with {proc.returncode}: "
            f"{proc.stderr.strip()}"
        )
    return json.loads(proc.stdout).get("schedules") or {}


def run_smelt(words: list, schedule_env: dict, environment: str | None) -> None:
    """The task: `smelt run WORDS...` in the project; its output becomes the task log."""
    env = dict(os.environ)
    if environment:
        env["SMELT_ENVIRONMENT"] = environment
    for key, value in (schedule_env or {}).items():
        if value is None:
            continue
        env[key] = _expand(value if isinstance(value, str) else json.dumps(value), env)
    argv = [SMELT, "run", *words]
    log.info("running %s in %s", " ".join(argv), ROOT)
    errors = []
    with subprocess.Popen(
        argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, errors="replace",
    ) as proc:
        for line in proc.stdout:
            line = line.rstrip("\n")
            log.info("%s", line)
            if "error" in line.lower():
                errors.append(line)
        rc = proc.wait()
    if rc != 0:
        detail = errors[-1] if errors else "no error message"
        raise AirflowException(f"smelt run {' '.join(words)} failed (exit code {rc}): {detail}")


def _dag_for(schedule: dict, kind: str) -> DAG:
    name = schedule["name"]
    job = (schedule.get("job") or {}).get("name") if kind == "job" else None
    dag_id = _safe_id(f"{PREFIX}_{name}_{job}" if job else f"{PREFIX}_{name}")
    annotations = ((schedule.get("annotations") or {}).get("airflow")) or {}
    retries = int(annotations.get("retries", _int_env("SMELT_AIRFLOW_RETRIES", 0)))
    delay = int(annotations.get("retry_delay", _int_env("SMELT_AIRFLOW_RETRY_DELAY", 300)))
    tags = ["smelt", f"schedule:{name}"]
    tags.append(f"job:{job}" if job else f"elt:{schedule.get('extractor')}-to-{schedule.get('loader')}")
    tags.extend(str(t) for t in annotations.get("tags", []))

    blocks = schedule.get("blocks")
    if blocks is None:
        # The blocks did not parse (block_error): run the schedule's own args; smelt will say why it fails.
        log.warning("schedule '%s': %s", name, schedule.get("block_error"))
        steps = [" ".join(schedule.get("run_args") or [])]
    else:
        steps = blocks

    dag = DAG(
        dag_id,
        schedule=schedule.get("cron_interval") or None,
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=tags,
        description=f"Smelt schedule '{name}' ({schedule.get('interval')})",
        default_args={
            "owner": "smelt",
            "retries": retries,
            "retry_delay": datetime.timedelta(seconds=delay),
        },
    )
    previous = None
    seen = set()
    for step in steps:
        words = step.split()
        if kind == "elt" and words and words[0] == schedule.get("extractor"):
            words += ["--state-id", name]  # Meltano's `elt --state-id=<schedule>`, as `smelt schedule run`
        task_id = _safe_id(step)
        base, n = task_id, 2
        while task_id in seen:
            task_id, n = f"{base}_{n}", n + 1
        seen.add(task_id)
        task = PythonOperator(
            task_id=task_id,
            python_callable=run_smelt,
            op_kwargs={
                "words": words,
                "schedule_env": schedule.get("env") or {},
                "environment": schedule.get("environment"),
            },
            dag=dag,
        )
        if previous is not None:
            previous >> task
        previous = task
    return dag


def create_dags() -> None:
    schedules = _schedules()
    for kind in ("job", "elt"):
        for schedule in schedules.get(kind) or []:
            dag = _dag_for(schedule, kind)
            globals()[dag.dag_id] = dag
            log.info("DAG %s for schedule '%s'", dag.dag_id, schedule["name"])


create_dags()
