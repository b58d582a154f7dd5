"""examples/demo's second stack (examples/demo/duckdb), without installing a tool: what smelt resolves
from it is what test_two_stacks.py relies on.  One DuckDB release pinned in every venv that opens the
warehouse file, the loader and dbt pointed at the same file and schema as the shared dbt sources, the
Hub definitions read from the lock files it ships (no Hub), the same jobs as the default stack
with every tool swapped, and Dagster, not Airflow, as the orchestrator its jobs and schedule are exported
to (a Dagster code location; exporting needs no Dagster install)."""
import json
import re
import shutil

from pathlib import Path

import pytest
import yaml

import conftest
from conftest import HUB_FIXTURES, SOURCE, Smelt

DEMO = SOURCE / "examples" / "demo"
OFFLINE = {"SMELT_HUB_URL": "http://127.0.0.1:1", "SMELT_HUB_RETRY_DELAY": "0.01"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo-stacks") / "demo"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns(".smelt", "target", "logs", "*.db", "*.duckdb"))
    return root


def plugins(root):
    doc = yaml.safe_load((root / "smelt.yml").read_text())
    return {p["name"]: p for kind in doc["plugins"].values() for p in kind}


def test_one_duckdb_release_in_every_venv_that_opens_the_file(demo):
    pins = {name: re.findall(r"(?:^|\s)duckdb==(\S+)", p["pip_url"])
            for name, p in plugins(demo / "duckdb").items() if "pip_url" in p}
    assert sorted(pins) == ["dbt-duckdb", "soda", "target-duckdb"]
    assert all(v == ["1.2.2"] for v in pins.values()), pins
    # Evidence opens it too, with the DuckDB datasource its adapter ships: DuckDB's Node API of that release
    lock = json.loads(next(Path(conftest.STAGE).glob("lib*/smelt/adapters/evidence/app/package-lock.json"))
                      .read_text())
    assert lock["packages"]["node_modules/@duckdb/node-api"]["version"] == "1.2.2-alpha.19"


def test_loader_and_dbt_share_the_file_and_the_sources_schema(demo):
    stack = demo / "duckdb"
    smelt = Smelt(stack)
    settings = {s["name"]: s for s in smelt.json("config", "list", "target-duckdb", "--format", "json",
                                                 env=OFFLINE)["settings"]}
    warehouse = str(stack / "output" / "warehouse.duckdb")
    assert settings["filepath"]["value"] == warehouse
    assert settings["default_target_schema"]["value"] == "main"
    profile = yaml.safe_load(smelt("invoke", "dbt-duckdb:profile", env=OFFLINE, check=0).stdout)
    assert profile["smelt"]["outputs"]["dev"]["path"] == warehouse
    sources = yaml.safe_load((demo / "transform" / "models" / "sources.yml").read_text())["sources"]
    assert [s["schema"] for s in sources] == [settings["default_target_schema"]["value"]]
    assert (stack / "output").is_dir()   # target-duckdb does not create the file's folder


def test_hub_definitions_come_from_the_shipped_lock_files(demo):
    for kind, name in (("loaders", "target-duckdb"), ("transformers", "dbt-duckdb")):
        lock = json.loads((demo / "duckdb" / "plugins" / kind / f"{name}--jwills.lock").read_text())
        hub = yaml.safe_load((HUB_FIXTURES / "definitions" / kind / name / "jwills.yml").read_text())
        assert (lock["name"], lock["variant"], lock["pip_url"]) == (hub["name"], hub["variant"], hub["pip_url"])
        assert [s["name"] for s in lock["settings"]] == [s["name"] for s in hub["settings"]]


def test_the_same_jobs_with_every_tool_swapped(demo):
    def jobs(where):
        return {j["job_name"]: j["tasks"] for j in Smelt(where).json("job", "list", "--format", "json")["jobs"]}
    swap = {"target-sqlite": "target-duckdb", "dbt-sqlite:build": "dbt-duckdb:build", "gx:validate": "soda:verify"}
    default = jobs(demo)
    assert default["daily"] == ["tap-csv target-sqlite dbt-sqlite:build gx:validate"]
    assert jobs(demo / "duckdb") == {name: [" ".join(swap.get(w, w) for w in t.split()) for t in tasks]
                                     for name, tasks in default.items()}


def test_the_duckdb_stack_exports_its_jobs_and_schedule_to_a_dagster_code_location(demo):
    stack = demo / "duckdb"
    doc = yaml.safe_load((stack / "smelt.yml").read_text())
    assert [p["name"] for p in doc["plugins"]["orchestrators"]] == ["dagster"]
    assert "orchestrators" not in yaml.safe_load((demo / "smelt.yml").read_text())["plugins"]
    smelt = Smelt(stack)
    # the plugin is run by the dagster adapter (airflow claims the orchestrators no namespace claims)
    commands = smelt("invoke", "--list-commands", "dagster", env=OFFLINE, check=0).stdout
    assert "dagster:execute" in commands and "dagster:ui" in commands, commands
    assert "airflow" not in commands
    # `smelt schedule export` with no name goes to the project's one orchestrator
    proc = smelt("schedule", "export", env=OFFLINE, check=0)
    assert "exported 1 schedule and 2 jobs to 'dagster'" in proc.stderr, proc.stderr
    defs = stack / "orchestrate" / "dagster" / "definitions.py"
    assert f"Dagster code location in '{defs}': 2 jobs, 1 schedule" in proc.stderr, proc.stderr
    shipped = next(Path(conftest.STAGE).glob("lib*/smelt/adapters/dagster/smelt_dagster.py"))
    assert defs.read_text() == shipped.read_text()
    assert sorted(p.name for p in (stack / "orchestrate").iterdir()) == ["dagster"]   # nothing for Airflow
    # what the code location will read at each load: the stack's jobs and its @daily schedule
    schedules = smelt.json("schedule", "list", "--format", "json", env=OFFLINE)["schedules"]
    assert [(s["name"], s["job"]["name"], s["cron_interval"]) for s in schedules["job"]] == \
        [("daily", "daily", "0 0 * * *")]
    assert schedules.get("elt", []) == []


def test_the_duckdb_stack_analyses_its_own_file_with_evidence(demo):
    """The analysis category swapped too: Superset is the default stack's, Evidence this stack's, its pages
    in duckdb/analyze/evidence/pages over the revenue model in output/warehouse.duckdb (the real build is
    test_evidence.py's DuckDB case)."""
    stack = demo / "duckdb"
    doc = yaml.safe_load((stack / "smelt.yml").read_text())
    assert [p["name"] for p in doc["plugins"]["utilities"]] == ["soda", "evidence"]
    smelt = Smelt(stack)
    settings = {s["name"]: s["value"] for s in smelt.json("config", "list", "evidence", "--format", "json",
                                                          env=OFFLINE)["settings"]}
    assert settings["source"] == "target-duckdb" and settings["project_dir"] == "analyze/evidence"
    page = (stack / "analyze" / "evidence" / "pages" / "index.md").read_text()
    assert "from warehouse.revenue_by_country" in page
    commands = smelt("invoke", "--list-commands", "evidence", env=OFFLINE, check=0).stdout
    assert "evidence:build" in commands and "evidence:serve" in commands, commands
