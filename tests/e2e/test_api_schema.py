"""Schemathesis (from PyPI) against the OpenAPI document `smelt serve` serves at
/api/v1/openapi.json: generated requests, valid and invalid, to every operation get no 5xx,
every response conforms to the document (status code, content type, headers, body schema), and
the bearer token is enforced (Schemathesis's ignored_auth check, and each operation asked here
without a token and with a wrong one).  The project holds a real finished run, its state and a
job, so the operations have something to return."""
import json
import re
import subprocess
import sys
from xml.etree import ElementTree

import pytest

from ui_support import TOKEN, Server, artifacts_dir, csv_project, request

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,"
          "response_schema_conformance,ignored_auth")


@pytest.fixture
def served(project):
    csv_project(project)
    project.smelt("run", "tap-csv", "target-sqlite", check=0)
    server = Server(project.root)
    try:
        yield project, server
    finally:
        server.stop()


def operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("get", "put", "post", "delete", "patch"):
                yield path, method.upper(), op


def test_document_is_openapi_31_with_bearer_auth(served):
    _, server = served
    doc = server.get("/api/v1/openapi.json")
    assert doc["openapi"].startswith("3.1")
    schemes = doc["components"]["securitySchemes"]
    assert any(s.get("type") == "http" and s.get("scheme", "").lower() == "bearer" for s in schemes.values())
    assert doc.get("security"), "the document must require the bearer token by default"
    ops = {(p, m) for p, m, _ in operations(doc)}
    for want in [("/runs", "GET"), ("/runs", "POST"), ("/runs/{run_id}", "GET"), ("/runs/{run_id}/log", "GET"),
                 ("/runs/{run_id}/log/stream", "GET"), ("/runs/{run_id}/cancel", "POST"), ("/plugins", "GET"),
                 ("/jobs", "GET"), ("/schedules", "GET"), ("/state", "GET"), ("/project", "GET")]:
        assert any(p.endswith(want[0]) and m == want[1] for p, m in ops) or \
            any(re.sub(r"\{[^}]+\}", "{}", p).endswith(re.sub(r"\{[^}]+\}", "{}", want[0])) and m == want[1]
                for p, m in ops), f"{want} is not in the document"


def test_every_operation_refuses_a_missing_or_wrong_token(served):
    _, server = served
    doc = server.get("/api/v1/openapi.json")
    run_id = server.get("/api/v1/runs")["runs"][0]["run_id"]
    values = {"run_id": run_id, "id": run_id, "name": "tap-csv", "plugin": "tap-csv",
              "state_id": "dev:tap-csv-to-target-sqlite"}
    prefix = doc.get("servers", [{}])[0].get("url", "") if doc.get("servers") else ""
    prefix = re.sub(r"^https?://[^/]+", "", prefix)
    checked = 0
    for path, method, op in operations(doc):
        if op.get("security", doc.get("security")) in ([], [{}]):
            continue  # /health
        url = prefix + re.sub(r"\{([^}]+)\}", lambda m: values.get(m.group(1), "x"), path)
        body = {"blocks": ["tap-csv", "target-sqlite"]} if method in ("POST", "PUT") else None
        for token in (None, "wrong-" + TOKEN):
            status, answer = request(server.base, url, method, body, token=token)
            assert status == 401, f"{method} {url} with token {token!r}: {status} {answer}"
            assert TOKEN not in json.dumps(answer)
        checked += 1
    assert checked >= 10
    # nothing was started or deleted by the refused requests
    assert server.get("/api/v1/runs")["total"] == 1
    assert request(server.base, "/api/v1/state/dev:tap-csv-to-target-sqlite")[0] == 200


def test_schemathesis_finds_no_server_error_and_no_nonconformance(served):
    project, server = served
    reports = artifacts_dir("schemathesis")
    proc = subprocess.run(
        # --url: the document names the default address (127.0.0.1:5000); this server's port differs
        [sys.executable, "-m", "schemathesis.cli", "run", f"{server.base}/api/v1/openapi.json", "--url", server.base,
         "-H", f"Authorization: Bearer {TOKEN}", "--checks", CHECKS, "--max-examples", "25", "--seed", "17",
         "--workers", "1", "--phases", "examples,coverage,fuzzing", "--request-timeout", "20",
         "--generation-database", "none", "--no-color", "--report", "junit",
         "--report-junit-path", str(reports / "junit.xml")],
        capture_output=True, text=True, timeout=1500, cwd=project.root)  # its .schemathesis/ cache goes there
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-12000:]
    # it tested the operations (not an empty document or a schema it could not load), each without failure
    suite = ElementTree.parse(reports / "junit.xml").getroot()
    cases = suite.findall(".//testcase")
    assert len(cases) >= 10, out[-4000:]
    assert not [c.get("name") for c in cases if c.find("failure") is not None or c.find("error") is not None], out[-12000:]
    assert TOKEN not in server.stderr()
