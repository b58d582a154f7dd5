"""Helpers of the Airflow e2e tests: a project with Smelt's native CSV -> SQLite pipeline,
jobs and schedules, and the airflow orchestrator installed from PyPI with the pins the
adapter ships."""
import json
from pathlib import Path

from conftest import STAGE

ADAPTER_DATA = Path(STAGE) / "lib" / "smelt" / "adapters" / "airflow"
CONSTRAINTS = ADAPTER_DATA / "constraints-3.x-py3.11.txt"
AIRFLOW_PIP_URL = f"apache-airflow[postgres]==3.3.2 --constraint {CONSTRAINTS}"

PROJECT_YML = f"""\
# Airflow e2e project
default_environment: dev
environments:
- name: dev
plugins:
  extractors:
  - name: tap-csv
    variant: smelt
    config:
      files:
      - {{entity: things, path: data/things.csv, keys: [id]}}
  - name: tap-broken          # reads a file that does not exist
    inherit_from: tap-csv
    config:
      files:
      - {{entity: things, path: data/missing.csv, keys: [id]}}
  loaders:
  - name: target-sqlite
    variant: smelt
    config:
      database: warehouse.db
  orchestrators:
  - name: airflow
    namespace: airflow
    pip_url: {AIRFLOW_PIP_URL}
    settings:
    - name: admin_username
    - name: admin_password
      kind: password
jobs:
- name: load-things
  tasks:
  - tap-csv target-sqlite
- name: broken
  tasks:
  - tap-broken target-sqlite
schedules:
- name: nightly
  interval: '0 2 * * *'
  job: load-things
- name: often-broken
  interval: '@hourly'
  job: broken
"""

THINGS_CSV = "id,name,price\n1,anvil,10.5\n2,rope,3\n3,dynamite,99\n"


def write_project(root: Path):
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "things.csv").write_text(THINGS_CSV)
    (root / "smelt.yml").write_text(PROJECT_YML)


def last_json(stdout: str):
    """Airflow prints warnings before its output: the JSON is the last line that parses."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith(("[", "{")):
            try:
                return json.loads(line)
            except ValueError:
                continue
    raise AssertionError(f"no JSON in airflow's output:\n{stdout[-3000:]}")


def dag_ids(smelt):
    proc = smelt("invoke", "airflow", "dags", "list", "--local", "-o", "json", check=0, timeout=600)
    return sorted(d["dag_id"] for d in last_json(proc.stdout))
