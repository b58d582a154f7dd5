"""smelt schedule export [ORCHESTRATOR]: the project's jobs and schedules handed to the
orchestrator's adapter (export_schedules, ABI 1.2).  The airflow adapter writes its DAG generator
into the project's DAGs folder; only files are written, so Airflow is not installed here."""
from airflow_support import ADAPTER_DATA, write_project
from conftest import BUILD

DAGS = "orchestrate/airflow/dags/smelt_dags.py"


def test_export_writes_and_refreshes_the_dag_generator_without_airflow(project):
    write_project(project.root)
    proc = project.smelt("schedule", "export", check=0)
    generator = project.root / DAGS
    assert generator.read_bytes() == (ADAPTER_DATA / "smelt_dags.py").read_bytes()
    assert "one DAG per schedule (2: nightly, often-broken)" in proc.stderr
    assert "exported 2 schedules and 2 jobs to 'airflow'" in proc.stderr
    assert not (project.root / ".smelt/orchestrators/airflow/venv").exists()
    # a stale or edited generator is put back; the orchestrator may be named
    generator.write_text("# edited\n")
    project.smelt("schedule", "export", "airflow", check=0)
    assert generator.read_bytes() == (ADAPTER_DATA / "smelt_dags.py").read_bytes()


def test_export_names_the_orchestrator_it_cannot_find(project):
    write_project(project.root)
    proc = project.smelt("schedule", "export", "nope", check=1)
    assert proc.stderr.startswith("smelt: error: orchestrator 'nope' is not in smelt.yml")
    assert not (project.root / DAGS).exists()
    proc = project.smelt("schedule", "export", "airflow", "extra", check=2)
    assert "unexpected argument 'extra'" in proc.stderr


def test_export_needs_one_orchestrator(project):
    project.write("default_environment: dev\nenvironments: [{name: dev}]\n")
    proc = project.smelt("schedule", "export", check=1)
    assert "smelt.yml has no orchestrator to export the schedules to" in proc.stderr
    write_project(project.root)
    text = (project.root / "smelt.yml").read_text()
    project.write(text.replace("  orchestrators:\n", "  orchestrators:\n  - name: other\n    namespace: airflow\n"))
    proc = project.smelt("schedule", "export", check=2)
    assert "smelt.yml has 2 orchestrators (other, airflow): which one? 'smelt schedule export NAME'" in proc.stderr


def test_an_orchestrator_adapter_without_the_operation_is_not_implemented(project):
    project.write("default_environment: dev\nenvironments: [{name: dev}]\n"
                  "plugins:\n  orchestrators:\n  - name: old-orch\n    namespace: legacy_orch\n")
    proc = project.smelt("schedule", "export", env={"SMELT_ADAPTER_PATH": str(BUILD / "tests/adapters/compat")},
                         check=2)
    assert "smelt: error: schedule export: not implemented yet" in proc.stderr
    assert "(adapter 'legacy11' has no export_schedules operation)" in proc.stderr
