"""The evidence adapter (issue 15): real Evidence from npm (its pinned Node.js from PyPI through
`smelt install evidence`, then `npm ci` of the lock the adapter ships) builds the pages of
analyze/evidence/pages over the SQLite warehouse that native tap-csv + target-sqlite load, and over the
DuckDB warehouse that target-duckdb (PyPI, DuckDB 1.2.2) loads, read through the DuckDB datasource the
adapter ships (DuckDB's Node API 1.2.2 from npm).  A headless Chromium opens the built site served by
`evidence:serve` on 127.0.0.1 and the figures on the page must equal the same SQL run on the warehouse
with sqlite3, or with the duckdb module that wrote the DuckDB file (screenshots kept in
<build>/test-artifacts/evidence/).  The adapter is built out of tree (test_oot_adapters); host/src
names no evidence (test_host_names_no_tool)."""
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import threading
import time
import urllib.request

import pytest

import conftest
from conftest import SMELT, SOURCE, Smelt, clean_env, free_port
from superset_support import Browser, stop_group
from ui_support import artifacts_dir

SHOTS = artifacts_dir("evidence")

PROJECT = """\
version: 1
default_environment: dev
environments:
- name: dev
plugins:
  extractors:
  - name: tap-csv
    variant: smelt
    config:
      files:
      - {{entity: orders, path: data/orders.csv, keys: [id]}}
      - {{entity: customers, path: data/customers.csv, keys: [id]}}
  loaders:
  - name: target-sqlite
    variant: smelt
    config:
      database: output/warehouse.db
  # the DuckDB case: its definition is the lock file of examples/demo/duckdb (no Hub)
  - name: target-duckdb
    variant: jwills
    pip_url: target-duckdb==0.8.0 duckdb==1.2.2
    config:
      filepath: output/warehouse.duckdb
      default_target_schema: main
  utilities:
  - name: evidence
    variant: smelt
    config:
      serve: {{port: {port}}}
{extra}"""

PAGE = """\
# Orders

```sql totals
select count(*) as orders, sum(amount) as revenue from warehouse.orders
```

```sql by_customer
select c.name, sum(o.amount) as revenue
from warehouse.orders o join warehouse.customers c on c.id = o.customer_id
group by c.name order by c.name
```

Orders: <span id="fig-orders"><Value data={totals} column=orders /></span>

Revenue: <span id="fig-revenue"><Value data={totals} column=revenue /></span>

<BigValue data={totals} value=revenue />

<DataTable data={by_customer} />
"""


def npm_env():
    # npm's download cache beside uv's, shared by the helpers' and CI's runs
    return conftest.tool_env({"npm_config_cache": str(conftest.TOOL_CACHE / "npm")})


def write_data(root, orders):
    data = root / "data"
    data.mkdir(exist_ok=True)
    with open(data / "orders.csv", "w") as f:
        f.write("id,customer_id,amount\n")
        for i in range(1, orders + 1):
            f.write(f"{i},{i % 3 + 1},{i * 7}\n")
    (data / "customers.csv").write_text("id,name\n1,Ada\n2,Grace\n3,Edsger\n")


@pytest.fixture(scope="module")
def ev(tmp_path_factory):
    root = tmp_path_factory.mktemp("evidence-project")
    port = free_port()
    (root / "smelt.yml").write_text(PROJECT.format(port=port, extra=""))
    write_data(root, 23)
    (root / "analyze" / "evidence" / "pages").mkdir(parents=True)
    (root / "analyze" / "evidence" / "pages" / "index.md").write_text(PAGE)
    (root / "plugins" / "loaders").mkdir(parents=True)
    shutil.copy(SOURCE / "examples" / "demo" / "duckdb" / "plugins" / "loaders" / "target-duckdb--jwills.lock",
                root / "plugins" / "loaders")
    cli = Smelt(root)
    proc = cli("install", "evidence", env=npm_env(), timeout=2400)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = cli("run", "tap-csv", "target-sqlite", env=npm_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root, port, cli


def warehouse_sql(root, sql):
    with sqlite3.connect(root / "output" / "warehouse.db") as db:
        return db.execute(sql).fetchone()


def test_definition_ships_with_the_adapter(tmp_path):
    listed = json.loads(Smelt(tmp_path)("adapters", "list", "--format", "json").stdout)
    evidence = {a["name"]: a for a in listed["adapters"]}["evidence"]
    assert evidence["category"] == "analysis" and evidence["namespaces"] == ["evidence"]
    data = os.path.join(os.path.dirname(evidence["path"]), "evidence")
    assert os.path.exists(os.path.join(data, "definitions", "utilities--evidence--smelt.json"))
    lock = json.load(open(os.path.join(data, "app", "package-lock.json")))
    assert lock["packages"]["node_modules/@evidence-dev/evidence"]["version"] == "39.1.13"
    assert lock["packages"]["node_modules/@duckdb/duckdb-wasm"]["version"] == "1.28.0"
    # the DuckDB datasource: shipped beside the lock, linked by it, on the DuckDB 1.2.2 of the Node API
    assert lock["packages"]["node_modules/smelt-evidence-duckdb"] == {"resolved": "duckdb", "link": True}
    assert lock["packages"]["node_modules/@duckdb/node-api"]["version"] == "1.2.2-alpha.19"
    assert lock["packages"]["node_modules/@duckdb/node-bindings-linux-x64"]["version"] == "1.2.2-alpha.19"
    connector = json.load(open(os.path.join(data, "app", "duckdb", "package.json")))
    assert connector["name"] == "smelt-evidence-duckdb" and connector["evidence"]["datasources"] == ["duckdb"]
    assert all(os.path.isfile(os.path.join(data, "app", "duckdb", f)) for f in ("index.cjs", "tables.cjs"))


def test_install_put_evidence_beside_a_pinned_node(ev):
    root, _, _ = ev
    app = root / ".smelt" / "utilities" / "evidence" / "app"
    pkg = json.loads((app / "node_modules" / "@evidence-dev" / "evidence" / "package.json").read_text())
    assert pkg["version"] == "39.1.13"
    node = subprocess.run([str(app / "bin" / "node"), "--version"], capture_output=True, text=True, check=True)
    assert node.stdout.strip() == "v20.18.0"


def test_build_then_serve_shows_the_warehouse_figures(ev):
    root, port, cli = ev
    proc = cli("invoke", "evidence:build", env=npm_env(), timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Evidence site built in analyze/evidence/build" in proc.stdout, proc.stdout
    site = root / "analyze" / "evidence" / "build"
    assert (site / "index.html").is_file()
    # the data is Evidence's own Parquet, written offline by the duckdb-wasm the lock pins
    assert list((site / "data" / "warehouse" / "orders").glob("*.parquet"))

    orders, revenue = warehouse_sql(root, "select count(*), sum(amount) from orders")
    assert (orders, revenue) == (23, 7 * 23 * 24 // 2)
    by_customer = {n: r for n, r in sqlite3.connect(root / "output" / "warehouse.db").execute(
        "select c.name, sum(o.amount) from orders o join customers c on c.id = o.customer_id group by c.name")}

    shown, table = served_figures(root, port, npm_env(), "index.png")
    assert shown == [str(orders), str(revenue)], shown
    assert table == by_customer, table


def served_figures(root, port, env, shot):
    """`smelt invoke evidence:serve` on 127.0.0.1:port, then a headless Chromium: the page's two figures
    (orders, revenue) as text without thousands separators and its customer table; screenshot kept."""
    server = subprocess.Popen([SMELT, "invoke", "evidence:serve"], cwd=root, env=clean_env(env),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        end = time.time() + 60
        while True:
            assert server.poll() is None, server.stdout.read()
            try:
                with urllib.request.urlopen(base + "/", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            assert time.time() < end, "evidence:serve did not answer on 127.0.0.1"
            time.sleep(0.3)
        with Browser() as b:
            b.navigate(base + "/")
            b.wait_for("document.querySelector('#fig-revenue') && "
                       "document.querySelector('#fig-revenue').innerText.trim().length > 0", what="the revenue figure")
            # the customer table (Evidence's DataTable: its rows, each twice: screen and print copies)
            rows_js = ("[...document.querySelectorAll('tr')].map(tr => [...tr.querySelectorAll('td')]"
                       ".map(td => td.innerText.trim())).filter(r => r.length === 2)")
            b.wait_for(rows_js + ".length >= 3", what="the customer table")
            shown = b.evaluate("[document.querySelector('#fig-orders').innerText, "
                               "document.querySelector('#fig-revenue').innerText]")
            rows = b.evaluate(rows_js)
            b.screenshot(SHOTS / shot)
    finally:
        stop_group(server)
    assert server.returncode is not None
    return [v.replace(",", "").strip() for v in shown], {r[0]: int(r[1].replace(",", "")) for r in rows}


def test_serve_before_a_build_says_so(ev, tmp_path):
    root, _, cli = ev
    proc = cli("invoke", "evidence:serve", env={**npm_env(), "EVIDENCE_BUILD_DIR": str(tmp_path / "none")})
    assert proc.returncode == 2
    assert "no built site in" in proc.stderr and "smelt invoke evidence:build" in proc.stderr, proc.stderr


def test_missing_pages_and_unknown_command_are_clear_errors(ev):
    root, _, cli = ev
    proc = cli("invoke", "evidence:build", env={**npm_env(), "EVIDENCE_PROJECT_DIR": "analyze/nothing"})
    assert proc.returncode == 2
    assert "no pages folder 'analyze/nothing/pages/'" in proc.stderr, proc.stderr
    proc = cli("invoke", "evidence:publish", env=npm_env())
    assert proc.returncode != 0
    assert "has no command 'publish'" in proc.stderr, proc.stderr
    proc = cli("run", "evidence:dev", env=npm_env())
    assert proc.returncode != 0
    assert "dev and serve never end" in proc.stdout + proc.stderr


def test_dev_server_answers_on_loopback(ev):
    """evidence:dev serves the live pages on 127.0.0.1 (port 3000 or the next free one, Evidence's choice,
    read from Vite's "Local:" line) and the browser shows the warehouse's figure."""
    root, _, _ = ev
    server = subprocess.Popen([SMELT, "invoke", "evidence:dev"], cwd=root, env=clean_env(npm_env()),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines, found = [], []

    def read():
        for line in server.stdout:
            lines.append(line)
            m = re.search(r"Local:\s+http://([0-9.]+):(\d+)/", line)
            if m and not found:
                found.append((m.group(1), int(m.group(2))))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        end = time.time() + 300
        while not found and time.time() < end and server.poll() is None:
            time.sleep(0.5)
        assert found, "".join(lines)[-3000:]
        host, port = found[0]
        assert host == "127.0.0.1"
        # the dev server renders in the browser (no prerendering): the figure appears once Vite compiled the page
        orders = warehouse_sql(root, "select count(*) from orders")[0]
        with Browser() as b:
            b.navigate(f"http://127.0.0.1:{port}/")
            b.wait_for("document.querySelector('#fig-orders') && "
                       f"document.querySelector('#fig-orders').innerText.trim() === '{orders}'",
                       deadline_s=max(30, end - time.time()), what=f"the orders figure {orders} on the dev server")
            b.screenshot(SHOTS / "dev.png")
    finally:
        stop_group(server)


# ---- over a DuckDB warehouse ------------------------------------------------------------------------

# the same project, its pages built over target-duckdb's file instead (settings from the environment)
DUCK = {"EVIDENCE_SOURCE": "target-duckdb", "EVIDENCE_BUILD_DIR": "analyze/evidence/build-duckdb"}


def duckdb_sql(root, sql):
    """Rows of the DuckDB warehouse, read with the duckdb module that wrote it (1.2.2, in target-duckdb's
    venv: the test venv has no duckdb), read-only."""
    py = root / ".smelt" / "loaders" / "target-duckdb" / "venv" / "bin" / "python"
    proc = subprocess.run([str(py), "-c",
                           "import duckdb, json, sys\n"
                           "con = duckdb.connect(sys.argv[1], read_only=True)\n"
                           "print(json.dumps(con.execute(sys.argv[2]).fetchall(), default=float))\n"
                           "con.close()",
                           str(root / "output" / "warehouse.duckdb"), sql],
                          capture_output=True, text=True, check=True)
    return [tuple(r) for r in json.loads(proc.stdout)]


@pytest.fixture(scope="module")
def duck(ev):
    """ev's project with target-duckdb installed (PyPI) and its DuckDB file loaded with 31 orders, where
    the SQLite warehouse holds 23: the page can only show 31 when it reads the DuckDB file."""
    root, port, cli = ev
    proc = cli("install", "target-duckdb", env=npm_env(), timeout=1200)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    write_data(root, 31)
    try:
        proc = cli("run", "tap-csv", "target-duckdb", env=npm_env(), timeout=600)
    finally:
        write_data(root, 23)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root, port, cli


def test_build_over_duckdb_shows_the_duckdb_figures(duck):
    root, port, cli = duck
    db = root / "output" / "warehouse.duckdb"
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    proc = cli("invoke", "evidence:build", env={**npm_env(), **DUCK}, timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Evidence site built in analyze/evidence/build-duckdb" in proc.stdout, proc.stdout
    # the Evidence project the adapter laid out: the shipped DuckDB datasource, not Evidence's SQLite one
    app = root / ".smelt" / "utilities" / "evidence" / "app"
    assert "type: duckdb" in (app / "sources" / "warehouse" / "connection.yaml").read_text()
    plugins = (app / "evidence.plugins.yaml").read_text()
    assert '"smelt-evidence-duckdb"' in plugins and "@evidence-dev/sqlite" not in plugins, plugins
    # no sources/ in the project: one query per table of the DuckDB file, listed by the datasource's tables.cjs
    assert sorted(q.name for q in (app / "sources" / "warehouse").glob("*.sql")) == ["customers.sql", "orders.sql"]
    site = root / "analyze" / "evidence" / "build-duckdb"
    assert list((site / "data" / "warehouse" / "orders").glob("*.parquet"))
    # opened read-only: the warehouse is byte for byte what target-duckdb wrote, and no WAL appeared
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert not (root / "output" / "warehouse.duckdb.wal").exists()

    orders, revenue = duckdb_sql(root, "select count(*), sum(amount) from orders")[0]
    assert (orders, revenue) == (31, 7 * 31 * 32 // 2)
    by_customer = dict(duckdb_sql(root, "select c.name, sum(o.amount) from orders o "
                                        "join customers c on c.id = o.customer_id group by c.name"))
    shown, table = served_figures(root, port, {**npm_env(), **DUCK}, "duckdb.png")
    assert shown == [str(orders), str(revenue)], shown
    assert table == by_customer, table


def test_a_warehouse_evidence_cannot_read_is_a_clear_error(ev):
    root, _, cli = ev
    proc = cli("invoke", "evidence:build", env={**npm_env(), "EVIDENCE_SOURCE": "tap-csv"})
    assert proc.returncode == 2
    assert "source 'tap-csv' writes neither to SQLite nor to DuckDB" in proc.stderr, proc.stderr
    proc = cli("invoke", "evidence:build", env={**npm_env(), "EVIDENCE_SOURCE": "target-duckdb",
                                                "TARGET_DUCKDB_FILEPATH": "md:analytics"})
    assert proc.returncode == 2
    assert "source 'target-duckdb' writes to MotherDuck, not to a DuckDB file" in proc.stderr, proc.stderr
