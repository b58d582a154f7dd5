"""OpenLineage events of smelt run (host/src/run/lineage.h).

Every event a run emits is validated against the OpenLineage JSON Schema (RunEvent of spec 2-0-2, and each
facet against its own schema; the files are in data/openlineage, see its README) and built into
openlineage-python's own RunEvent (its validators check the time and the run id), and each facet's schema
URL must be the one openlineage-python's class for that facet declares.  Events are read from the file
transport (.smelt/lineage/<run id>.jsonl) or received by an HTTP server this file starts on 127.0.0.1.

- a native tap-csv -> target-sqlite run: START/COMPLETE for the run and for its block (with a parent
  facet naming the run), the selected streams as inputs and the tables as outputs, with their fields and
  types and the rows written; over HTTP with the bearer key checked, the same events
- a crashing tap: FAIL events with the error, and the exit code of a run without lineage
- an endpoint that is down, one that answers 500, an unwritable lineage file: a warning, the run succeeds
- the key never shows in smelt's output or the run log; OPENLINEAGE_DISABLED and lineage.enabled turn
  lineage off; OPENLINEAGE_NAMESPACE names the jobs' namespace
"""
import json
import sqlite3
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from dateutil import parser as dateparser
from jsonschema import Draft202012Validator, FormatChecker
from openlineage.client import event_v2
from openlineage.client.generated import (data_quality_assertions_dataset, error_message_run, job_type_job,
                                          output_statistics_output_dataset, parent_run, processing_engine_run,
                                          schema_dataset)
from openlineage.client.serde import Serde
from referencing import Registry, Resource

from conftest import FAKES, free_port

SCHEMAS = Path(__file__).resolve().parent / "data" / "openlineage"
SPEC = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
KEY = "ol-key-8f3a2c91d7e4"

# facet name -> openlineage-python's class for it
FACET_CLASSES = {
    "parent": parent_run.ParentRunFacet,
    "processing_engine": processing_engine_run.ProcessingEngineRunFacet,
    "errorMessage": error_message_run.ErrorMessageRunFacet,
    "jobType": job_type_job.JobTypeJobFacet,
    "schema": schema_dataset.SchemaDatasetFacet,
    "dataQualityAssertions": data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet,
    "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet,
}


def _registry():
    resources = []
    for f in SCHEMAS.glob("*.json"):
        doc = json.loads(f.read_text())
        resources.append((doc["$id"], Resource.from_contents(doc)))
    return Registry().with_resources(resources)


REGISTRY = _registry()


def schema_errors(schema, instance):
    v = Draft202012Validator(schema, registry=REGISTRY, format_checker=FormatChecker())
    return ["/".join(map(str, e.absolute_path)) + ": " + e.message for e in v.iter_errors(instance)]


def validate_event(ev):
    """The event against RunEvent, each facet against its own schema, and through openlineage-python."""
    errors = schema_errors({"$ref": SPEC + "#/$defs/RunEvent"}, ev)
    assert not errors, (errors, ev)
    facets = [ev["run"].get("facets", {}), ev["job"].get("facets", {})]
    for ds in ev.get("inputs", []) + ev.get("outputs", []):
        facets += [ds.get("facets", {}), ds.get("inputFacets", {}), ds.get("outputFacets", {})]
    for group in facets:
        for name, facet in group.items():
            assert name in FACET_CLASSES, f"facet {name!r} is not one this test knows"
            want = FACET_CLASSES[name]._get_schema()
            assert facet["_schemaURL"] == want, (name, facet["_schemaURL"], want)
            url = want.partition("#")[0]
            errors = schema_errors({"$ref": url}, {name: facet})
            assert not errors, (name, errors, facet)
    assert "t" in ev["eventTime"].lower() and dateparser.isoparse(ev["eventTime"]).tzinfo is not None
    built = event_v2.RunEvent(eventType=event_v2.RunState[ev["eventType"]], eventTime=ev["eventTime"],
                              run=event_v2.Run(runId=ev["run"]["runId"]),
                              job=event_v2.Job(namespace=ev["job"]["namespace"], name=ev["job"]["name"]),
                              producer=ev["producer"])
    assert json.loads(Serde.to_json(built))["schemaURL"] == ev["schemaURL"]
    return ev


class Receiver:
    """An OpenLineage endpoint on 127.0.0.1: keeps what is POSTed, answers `status`."""

    def __init__(self, status=200):
        self.events, self.requests, self.status = [], [], status
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                       "type": self.headers.get("Content-Type")})
                outer.events.append(json.loads(body))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def csv_project(project, extra=""):
    (project.root / "data").mkdir(exist_ok=True)
    (project.root / "data" / "customers.csv").write_text("id,name,signed_up_at\n1,Ann,2024-01-01T00:00:00Z\n"
                                                         "2,Bob,2024-01-02T00:00:00Z\n3,Cy,2024-01-03T00:00:00Z\n")
    (project.root / "data" / "orders.csv").write_text("id,customer_id,amount\n10,1,9.5\n11,3,20.25\n")
    project.write(f"""\
default_environment: dev
environments: [{{name: dev}}]
plugins:
  extractors:
  - name: tap-csv
    variant: smelt
    config:
      files:
      - {{entity: customers, path: data/customers.csv, keys: [id]}}
      - {{entity: orders, path: data/orders.csv, keys: [id]}}
  loaders:
  - name: target-sqlite
    variant: smelt
    config: {{database: out.db}}
{extra}""")


def crash_project(project):
    project.write(f"""\
default_environment: dev
environments: [{{name: dev}}]
plugins:
  extractors:
  - name: tap-fake
    namespace: tap_fake
    executable: {FAKES}/fake_tap.py
    config: {{records: 4, state_every: 2, mode: crash}}
  loaders:
  - name: target-sqlite
    variant: smelt
    config: {{database: out.db}}
""")


def file_events(project, run_id):
    path = project.root / ".smelt" / "lineage" / f"{run_id}.jsonl"
    assert path.is_file(), f"no {path}"
    return [validate_event(json.loads(line)) for line in path.read_text().splitlines()]


def check_run_shape(events, run_id, job, ns, end="COMPLETE", block_text="tap-csv target-sqlite"):
    """4 events: the run's START, the block's START and end, the run's end; the block names its parent."""
    assert [e["eventType"] for e in events] == ["START", "START", end, end]
    run, block = events[0], events[1]
    assert run["run"]["runId"] == run_id and events[3]["run"]["runId"] == run_id
    assert run["job"] == {"namespace": ns, "name": job, "facets": run["job"]["facets"]}
    assert run["job"]["facets"]["jobType"]["jobType"] == "JOB"
    assert "parent" not in run["run"]["facets"]
    assert block["run"]["runId"] == events[2]["run"]["runId"] != run_id
    assert block["job"]["name"] == events[2]["job"]["name"] == f"{job}.{block_text}"
    assert block["job"]["namespace"] == ns and block["job"]["facets"]["jobType"]["jobType"] == "TASK"
    for e in events[1:3]:
        parent = e["run"]["facets"]["parent"]
        assert parent["run"] == {"runId": run_id} and parent["job"] == {"namespace": ns, "name": job}
    for e in events:
        assert e["run"]["facets"]["processing_engine"]["name"] == "smelt"
    assert events[1]["inputs"] == [] and events[1]["outputs"] == []


def datasets(ev, kind):
    return {(d["namespace"], d["name"]): d for d in ev[kind]}


def fields(ds):
    return [(f["name"], f.get("type")) for f in ds["facets"]["schema"]["fields"]]


def check_csv_datasets(ev):
    ins, outs = datasets(ev, "inputs"), datasets(ev, "outputs")
    assert set(ins) == {("smelt://tap-csv", "customers"), ("smelt://tap-csv", "orders")}
    assert set(outs) == {("smelt://target-sqlite", "customers"), ("smelt://target-sqlite", "orders")}
    want_customers = [("id", "integer"), ("name", "string"), ("signed_up_at", "date-time")]
    want_orders = [("id", "integer"), ("customer_id", "integer"), ("amount", "number")]
    for group in (ins, outs):
        c = next(d for k, d in group.items() if k[1] == "customers")
        o = next(d for k, d in group.items() if k[1] == "orders")
        assert fields(c) == want_customers, fields(c)
        assert fields(o) == want_orders, fields(o)
    rows = {k[1]: d["outputFacets"]["outputStatistics"]["rowCount"] for k, d in outs.items()}
    assert rows == {"customers": 3, "orders": 2}


def test_native_run_writes_events_to_the_file(project):
    csv_project(project)
    run_id = str(uuid.uuid4())
    project.smelt("run", "--run-id", run_id, "tap-csv", "target-sqlite", check=0)
    events = file_events(project, run_id)
    check_run_shape(events, run_id, "tap-csv target-sqlite", project.root.name)
    check_csv_datasets(events[2])
    assert events[3]["inputs"] == [] and events[3]["outputs"] == []
    # what the outputs say is what the target wrote
    with sqlite3.connect(project.root / "out.db") as db:
        assert db.execute("SELECT count(*) FROM customers").fetchone()[0] == 3
        assert db.execute("SELECT count(*) FROM orders").fetchone()[0] == 2
        assert [r[1] for r in db.execute("PRAGMA table_info(orders)")] == ["id", "customer_id", "amount"]
    mode = (project.root / ".smelt" / "lineage" / f"{run_id}.jsonl").stat().st_mode & 0o777
    assert mode == 0o600


def test_a_job_names_the_run_and_a_run_id_that_is_no_uuid_gets_one(project):
    csv_project(project, "jobs:\n- name: nightly\n  tasks: [tap-csv target-sqlite]\n")
    project.smelt("run", "--run-id", "night-2026-12-07", "nightly", check=0)
    events = file_events(project, "night-2026-12-07")
    run_uuid = events[0]["run"]["runId"]
    uuid.UUID(run_uuid)
    check_run_shape(events, run_uuid, "nightly", project.root.name)
    check_csv_datasets(events[2])


def test_http_transport_sends_every_event_with_the_bearer_key(project):
    csv_project(project)
    run_id = str(uuid.uuid4())
    with Receiver() as rx:
        proc = project.smelt("--log-level", "debug", "run", "--verbose", "--run-id", run_id, "tap-csv",
                             "target-sqlite", check=0,
                             env={"OPENLINEAGE_URL": rx.url, "OPENLINEAGE_API_KEY": KEY,
                                  "OPENLINEAGE_NAMESPACE": "warehouse-team"})
    assert [r["path"] for r in rx.requests] == ["/api/v1/lineage"] * 4
    assert all(r["auth"] == f"Bearer {KEY}" for r in rx.requests), rx.requests
    assert all(r["type"] == "application/json" for r in rx.requests)
    events = [validate_event(e) for e in rx.events]
    check_run_shape(events, run_id, "tap-csv target-sqlite", "warehouse-team")
    check_csv_datasets(events[2])
    # HTTP replaces the file; the key is in no output and no log
    assert not (project.root / ".smelt" / "lineage").exists()
    log = (project.root / ".smelt" / "logs" / run_id / "run.log").read_text()
    assert "OpenLineage" in log  # the debug lines about the events were written ...
    for text in (proc.stdout, proc.stderr, log):
        assert KEY not in text  # ... without the key


def test_endpoint_setting_and_a_key_left_unset(project):
    csv_project(project)
    with Receiver() as rx:
        project.smelt("run", "tap-csv", "target-sqlite", check=0,
                      env={"OPENLINEAGE_URL": rx.url + "/", "OPENLINEAGE_ENDPOINT": "/custom/path"})
    assert [r["path"] for r in rx.requests] == ["/custom/path"] * 4
    assert all(r["auth"] is None for r in rx.requests)


def test_failing_run_emits_fail_with_the_same_exit_code(project):
    crash_project(project)
    plain = project.smelt("run", "tap-fake", "target-sqlite", env={"OPENLINEAGE_DISABLED": "true"})
    assert plain.returncode == 1
    assert not (project.root / ".smelt" / "lineage").exists()
    run_id = str(uuid.uuid4())
    with Receiver() as rx:
        proc = project.smelt("run", "--run-id", run_id, "tap-fake", "target-sqlite",
                             env={"OPENLINEAGE_URL": rx.url, "OPENLINEAGE_API_KEY": KEY})
    assert proc.returncode == plain.returncode == 1
    events = [validate_event(e) for e in rx.events]
    check_run_shape(events, run_id, "tap-fake target-sqlite", project.root.name, "FAIL", "tap-fake target-sqlite")
    for e in events[2:]:
        err = e["run"]["facets"]["errorMessage"]
        assert "Extractor failed" in err["message"] and "tap-fake" in err["message"], err
    # the file transport says the same
    again = str(uuid.uuid4())
    proc = project.smelt("run", "--run-id", again, "tap-fake", "target-sqlite")
    assert proc.returncode == 1
    assert [e["eventType"] for e in file_events(project, again)] == ["START", "START", "FAIL", "FAIL"]


@pytest.mark.parametrize("status", [None, 500])
def test_endpoint_down_or_failing_is_a_warning(project, status):
    csv_project(project)
    env = {"OPENLINEAGE_API_KEY": KEY}
    if status is None:
        # nothing listens there; a password in the URL is not shown either
        env["OPENLINEAGE_URL"] = f"http://lineage:pw-in-url-7c1e@127.0.0.1:{free_port()}"
        proc = project.smelt("run", "tap-csv", "target-sqlite", env=env)
    else:
        with Receiver(status) as rx:
            env["OPENLINEAGE_URL"] = rx.url
            proc = project.smelt("run", "tap-csv", "target-sqlite", env=env)
        assert len(rx.events) == 1  # the first failure stops the sending
        assert rx.requests[0]["auth"] == f"Bearer {KEY}"
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "OpenLineage" in line]
    assert len(warnings) == 1 and "warning" in warnings[0], proc.stderr
    assert "cannot send the START event" in warnings[0]
    assert ("HTTP 500" if status else "127.0.0.1") in warnings[0]
    assert KEY not in proc.stdout + proc.stderr and "pw-in-url-7c1e" not in proc.stdout + proc.stderr
    with sqlite3.connect(project.root / "out.db") as db:
        assert db.execute("SELECT count(*) FROM customers").fetchone()[0] == 3


def test_unwritable_lineage_file_is_a_warning(project):
    csv_project(project)
    (project.root / ".smelt").mkdir(mode=0o700)
    (project.root / ".smelt" / "lineage").write_text("a file where the folder should be\n")
    proc = project.smelt("run", "tap-csv", "target-sqlite")
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "OpenLineage" in line]
    assert len(warnings) == 1 and "warning" in warnings[0] and ".smelt/lineage/" in warnings[0], proc.stderr
    with sqlite3.connect(project.root / "out.db") as db:
        assert db.execute("SELECT count(*) FROM orders").fetchone()[0] == 2


def test_lineage_can_be_turned_off(project):
    csv_project(project)
    project.smelt("run", "tap-csv", "target-sqlite", check=0, env={"OPENLINEAGE_DISABLED": "true"})
    assert not (project.root / ".smelt" / "lineage").exists()
    csv_project(project, "lineage:\n  enabled: false\n")
    proc = project.smelt("run", "tap-csv", "target-sqlite", check=0)
    assert "unknown key" not in proc.stderr
    assert not (project.root / ".smelt" / "lineage").exists()
    # the setting's variable wins over the file, as for every project setting
    project.smelt("run", "tap-csv", "target-sqlite", check=0, env={"SMELT_LINEAGE_ENABLED": "true"})
    assert len(list((project.root / ".smelt" / "lineage").glob("*.jsonl"))) == 1
    # a dry run emits nothing
    csv_project(project)
    project.smelt("run", "--dry-run", "tap-csv", "target-sqlite", check=0)
    assert len(list((project.root / ".smelt" / "lineage").glob("*.jsonl"))) == 1
