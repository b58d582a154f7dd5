"""The Singer adapter with real plugins from PyPI, installed by smelt's own installer:
tap-jsonl -> target-jsonl, a mapper (meltano-map-transform), and meltanolabs-tap-postgres ->
meltanolabs-target-postgres against a PostgreSQL started on 127.0.0.1, run twice to show the second
run is incremental.  Also invoke --about, --dump, --list-commands, select and the catalog cache."""
import json
import subprocess

import pytest


def psql(pg, sql, db=None):
    out = subprocess.run(["psql", "-h", pg["host"], "-p", str(pg["port"]), "-U", pg["user"], "-d", db or pg["dbname"],
                          "-At", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True,
                         env={"PGPASSWORD": pg["password"], "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


JSONL_PROJECT = """\
default_environment: dev
environments: [{name: dev}]
plugins:
  extractors:
  - name: tap-jsonl
    namespace: tap_jsonl
    pip_url: tap-jsonl==0.3.1
    capabilities: [catalog, discover, state, about, stream-maps]
    config:
      path: data/*.jsonl
      stream_name: events
      primary_keys: [id]
  loaders:
  - name: target-jsonl
    namespace: target_jsonl
    pip_url: target-jsonl
    config:
      destination_path: out
      do_timestamp_file: false
  mappers:
  - name: meltano-map-transformer
    namespace: meltano_map_transformer
    pip_url: meltano-map-transform
    executable: meltano-map-transform
    mappings:
    - name: hide-emails
      config:
        stream_maps:
          events:
            email: null
            domain: email.split('@')[-1]
"""


@pytest.fixture(scope="module")
def jsonl_project(tmp_path_factory):
    from conftest import Smelt
    root = tmp_path_factory.mktemp("jsonl")
    (root / "smelt.yml").write_text(JSONL_PROJECT)
    (root / "data").mkdir()
    (root / "data/a.jsonl").write_text("".join(json.dumps({"id": i, "email": f"u{i}@example.com", "n": i * 10}) + "\n"
                                               for i in range(1, 6)))
    smelt = Smelt(root)
    smelt("install", check=0, timeout=1200)
    return root, smelt


def test_invoke_about_and_list_commands(jsonl_project):
    root, smelt = jsonl_project
    about = json.loads(smelt("invoke", "tap-jsonl", "--about", "--format=json", check=0).stdout)
    assert about["name"] == "tap-jsonl" and "catalog" in about["capabilities"]
    proc = smelt("invoke", "--dump", "config", "tap-jsonl", check=0)
    assert json.loads(proc.stdout) == {"path": "data/*.jsonl", "stream_name": "events", "primary_keys": ["id"]}
    catalog = json.loads(smelt("invoke", "--dump", "catalog", "tap-jsonl", check=0).stdout)
    assert [s["tap_stream_id"] for s in catalog["streams"]] == ["events"]


def test_tap_jsonl_to_target_jsonl(jsonl_project):
    root, smelt = jsonl_project
    smelt("run", "tap-jsonl", "target-jsonl", check=0)
    lines = [json.loads(l) for l in (root / "out/events.jsonl").read_text().splitlines()]
    assert [r["id"] for r in lines] == [1, 2, 3, 4, 5]
    assert lines[0]["email"] == "u1@example.com"
    state = json.loads(smelt("state", "get", "dev:tap-jsonl-to-target-jsonl", check=0).stdout)
    assert "singer_state" in state


def test_mapping_inside_an_el_block(jsonl_project):
    root, smelt = jsonl_project
    (root / "out").exists() and [f.unlink() for f in (root / "out").iterdir()]
    smelt("run", "--full-refresh", "tap-jsonl", "hide-emails", "target-jsonl", check=0)
    lines = [json.loads(l) for l in (root / "out/events.jsonl").read_text().splitlines()]
    assert lines and all("email" not in r and r["domain"] == "example.com" for r in lines)
    # the mapper plugin's own name is not a block
    proc = smelt("run", "tap-jsonl", "meltano-map-transformer", "target-jsonl")
    assert proc.returncode == 1 and "Expected unique mappings name" in proc.stderr


def test_select_patterns_and_catalog_cache(jsonl_project):
    root, smelt = jsonl_project
    listing = smelt.json("select", "tap-jsonl", "--list", "--all", "--format", "json")
    props = {p["name"]: p["selection"] for p in listing["streams"][0]["properties"]}
    assert props["id"] == "automatic" and props["email"] == "selected"
    smelt("select", "tap-jsonl", "events", "id", check=0)
    smelt("select", "tap-jsonl", "events", "n", check=0)
    assert "- events.id" in (root / "smelt.yml").read_text()
    listing = smelt.json("select", "tap-jsonl", "--list", "--all", "--format", "json")
    props = {p["name"]: p["selection"] for p in listing["streams"][0]["properties"]}
    assert {k: props[k] for k in ("id", "email", "n")} == {"id": "automatic", "email": "excluded", "n": "selected"}
    [f.unlink() for f in (root / "out").iterdir()]
    proc = smelt("--log-level", "debug", "run", "tap-jsonl", "target-jsonl", check=0)
    assert "using the cached catalog" in proc.stderr
    lines = [json.loads(l) for l in (root / "out/events.jsonl").read_text().splitlines()]
    assert lines and all("email" not in r and r["n"] == r["id"] * 10 for r in lines)
    smelt("select", "tap-jsonl", "events", "n", "--rm", check=0)
    smelt("select", "tap-jsonl", "events", "id", "--rm", check=0)


POSTGRES_PROJECT = """\
default_environment: dev
environments: [{{name: dev}}]
plugins:
  extractors:
  - name: tap-postgres
    namespace: tap_postgres
    pip_url: meltanolabs-tap-postgres
    capabilities: [catalog, discover, state, about]
    settings:
    - {{name: password, kind: password}}
    config:
      host: 127.0.0.1
      port: {port}
      user: postgres
      database: source
      filter_schemas: [public]
    select: [public-orders.*]
    metadata:
      public-orders:
        replication-method: INCREMENTAL
        replication-key: updated_at
  loaders:
  - name: target-postgres
    namespace: target_postgres
    pip_url: meltanolabs-target-postgres
    settings:
    - {{name: password, kind: password}}
    config:
      host: 127.0.0.1
      port: {port}
      user: postgres
      database: warehouse
      default_target_schema: analytics
"""


def test_postgres_pair_incremental(project, postgres):
    pg = postgres
    for db in ("source", "warehouse"):
        psql(pg, f"DROP DATABASE IF EXISTS {db}")
        psql(pg, f"CREATE DATABASE {db}")
    psql(pg, "CREATE TABLE orders (id int primary key, amount numeric, updated_at timestamptz)", "source")
    psql(pg, "INSERT INTO orders SELECT g, g * 1.5, '2024-01-01'::timestamptz + g * interval '1 hour' "
             "FROM generate_series(1, 50) g", "source")
    project.write(POSTGRES_PROJECT.format(port=pg["port"]))
    secret = pg["password"]
    (project.root / ".env").write_text(f"TAP_POSTGRES_PASSWORD={secret}\nTARGET_POSTGRES_PASSWORD={secret}\n")
    proc = project.smelt("run", "tap-postgres", "target-postgres", check=0, timeout=1800)
    assert secret not in proc.stderr + proc.stdout
    assert psql(pg, "SELECT count(*), sum(amount) FROM analytics.orders", "warehouse") == "50|1912.5"
    state = project.smelt.json("state", "get", "dev:tap-postgres-to-target-postgres")
    bookmark = state["singer_state"]["bookmarks"]["public-orders"]["replication_key_value"]
    assert bookmark.startswith("2024-01-03T02:00:00")
    # an old row changed without a newer updated_at must not travel again; new rows must
    psql(pg, "UPDATE orders SET amount = 0 WHERE id = 1", "source")
    psql(pg, "INSERT INTO orders SELECT g, g * 1.5, '2024-02-01'::timestamptz + g * interval '1 hour' "
             "FROM generate_series(51, 60) g", "source")
    proc = project.smelt("run", "tap-postgres", "target-postgres", check=0, timeout=1800)
    assert psql(pg, "SELECT count(*) FROM analytics.orders", "warehouse") == "60"
    assert psql(pg, "SELECT amount FROM analytics.orders WHERE id = 1", "warehouse") == "1.5"
    state = project.smelt.json("state", "get", "dev:tap-postgres-to-target-postgres")
    assert state["singer_state"]["bookmarks"]["public-orders"]["replication_key_value"].startswith("2024-02-03T12:00:00")
    # no file under the project holds the password
    for f in project.root.rglob("*"):
        if f.is_file() and f.name != ".env" and "venv" not in f.parts and f.stat().st_size < 50_000_000:
            assert secret.encode() not in f.read_bytes(), f
