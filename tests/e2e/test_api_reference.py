"""The README's API reference (section "smelt serve") lists exactly the operations of the OpenAPI
document the server serves (api/openapi.json): no path documented in one and missing in the other."""
import json
import re

from conftest import SOURCE


def readme_operations():
    text = (SOURCE / "README.md").read_text()
    start = text.index("Paths (all under `/api/v1` but `/health`)")
    section = " ".join(text[start:text.index("Errors are", start)].split())
    ops = set()
    for methods, path in re.findall(r"`((?:GET|PUT|POST|DELETE)(?:\|(?:GET|PUT|POST|DELETE))*) (/[^`\s]*)`", section):
        full = path if path == "/health" else "/api/v1" + path
        for m in methods.split("|"):
            ops.add((m, re.sub(r"\{[^}]*\}", "{}", full)))
    return ops


def document_operations():
    doc = json.loads((SOURCE / "api" / "openapi.json").read_text())
    return {(m.upper(), re.sub(r"\{[^}]*\}", "{}", p))
            for p, item in doc["paths"].items() for m in item if m in ("get", "put", "post", "delete", "patch")}


def test_readme_lists_every_operation_of_the_document_and_no_other():
    readme, doc = readme_operations(), document_operations()
    assert len(readme) > 10  # the section was found and read
    assert readme - doc == set(), "in the README but not in api/openapi.json"
    assert doc - readme == set(), "in api/openapi.json but not in the README"


def test_the_check_reads_methods_and_paths():
    assert ("GET", "/api/v1/runs/{}") in readme_operations()
    assert ("DELETE", "/api/v1/state/{}") in readme_operations()
