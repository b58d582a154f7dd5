"""The evidence adapter (issue 15): real Evidence from npm (its pinned Node.js from PyPI through
`smelt install evidence`, then `npm ci` of the lock the adapter ships) builds the pages of
analyze/evidence/pages over the SQLite warehouse that native tap-csv + target-sqlite load.  A headless
Chromium opens the built site served by `evidence:serve` on 127.0.0.1 and the figures on the page must
equal the same SQL run on the warehouse with sqlite3 (screenshot kept in
<build>/test-artifacts/evidence/).  The adapter is built out of tree (test_oot_adapters); host/src
names no evidence (test_host_names_no_tool)."""
import json
import os
import re
import sqlite3
import subprocess
import threading
import time
import urllib.request

import pytest

import conftest
from conftest import SMELT, Smelt, clean_env, free_port
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

    server = subprocess.Popen([SMELT, "invoke", "evidence:serve"], cwd=root, env=clean_env(npm_env()),
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
            b.screenshot(SHOTS / "index.png")
        assert [s.replace(",", "").strip() for s in shown] == [str(orders), str(revenue)], shown
        table = {r[0]: int(r[1].replace(",", "")) for r in rows}
        assert table == by_customer, rows
    finally:
        stop_group(server)
    assert server.returncode is not None


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
