"""The web UI `smelt serve` serves, in a headless Chromium (Debian's chromium, driven over the
DevTools protocol): after a real native run (tap-csv -> target-sqlite) the runs page shows the
run's status and the rows the warehouse holds, the run's page its rows per stream; the live log
arrives while a run goes; the token is asked once; a phone-sized screen and a dark room work.
Screenshots are kept under <build>/test-artifacts/ui/ (SMELT_UI_DOCS_IMG=1 also refreshes
docs/img/ui-runs.png and docs/img/ui-run.png for the README)."""
import http.client
import json
import os
import shutil
import sqlite3

import pytest

from conftest import FAKES, SOURCE
from superset_support import Browser
from ui_support import TOKEN, Server, artifacts_dir, csv_project, request

SHOTS = artifacts_dir("ui")


@pytest.fixture
def served(project):
    csv_project(project)
    server = Server(project.root)
    try:
        yield project, server
    finally:
        server.stop()


@pytest.fixture
def browser():
    with Browser() as b:
        yield b


# Every visible text element's contrast against its background (WCAG 2 formula), the lowest first,
# and the form controls that have no label.
A11Y_JS = """(() => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
                                     .reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
  const bg = el => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
                       if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3); }
                     return [255, 255, 255]; };
  const worst = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!el.offsetParent && el.tagName !== 'BODY') continue;
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(bg(el));
    worst.push([(Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05), el.tagName + '.' + el.className + ': ' + el.textContent.trim().slice(0, 30)]);
  }
  worst.sort((x, y) => x[0] - y[0]);
  const unlabelled = [...document.querySelectorAll('input, select, textarea')].filter(i =>
      i.type !== 'hidden' && !i.labels.length && !i.getAttribute('aria-label')).map(i => i.id || i.name);
  return {worst: worst.slice(0, 3), unlabelled};
})()"""


def assert_accessible(browser):
    res = browser.evaluate(A11Y_JS)
    assert res["worst"] and res["worst"][0][0] >= 4.5, res["worst"]
    assert res["unlabelled"] == [], res["unlabelled"]


def sign_in(browser, base, token=TOKEN):
    browser.navigate(base + "/")
    browser.wait_for("document.readyState === 'complete' && !!document.querySelector('#login:not([hidden]) #token')",
                     what="the token form")
    browser.evaluate(f"""(() => {{
        document.getElementById('token').value = {json.dumps(token)};
        document.querySelector('#login-form button[type=submit]').click();
        return true;
    }})()""")


def cell_rows(browser, selector):
    return browser.evaluate(f"(() => {{ const c = document.querySelector({json.dumps(selector)});"
                            " return c ? c.textContent.replace(/,/g, '') : null; })()")


def warehouse_count(project, table):
    with sqlite3.connect(project.root / "output/wh.db") as db:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_runs_page_and_run_page_show_a_real_run(served, browser):
    project, server = served
    project.smelt("run", "tap-csv", "target-sqlite", check=0)
    orders, customers = warehouse_count(project, "orders"), warehouse_count(project, "customers")
    assert (orders, customers) == (137, 5)
    run_id = server.get("/api/v1/runs")["runs"][0]["run_id"]
    # a second, incremental run: only the new orders (past the bookmark), all the customers again
    with open(project.root / "data/orders.csv", "a") as f:
        f.write("138,1,7.5\n139,2,8.5\n140,3,9.5\n")
    project.smelt("run", "tap-csv", "target-sqlite", check=0)
    orders2 = warehouse_count(project, "orders")
    assert orders2 == 140
    second_id = server.get("/api/v1/runs")["runs"][0]["run_id"]
    assert second_id != run_id

    # a wrong token is refused in the page, and nothing is shown
    sign_in(browser, server.base, token="not-the-token")
    browser.wait_for("document.getElementById('login-error').textContent.length > 0", what="the refusal")
    assert "refused" in browser.evaluate("document.getElementById('login-error').textContent")
    assert browser.evaluate("document.getElementById('view').hidden") is True

    sign_in(browser, server.base)
    row = f"tr[data-run-id={json.dumps(run_id)}]"
    browser.wait_for(f"!!document.querySelector({json.dumps(row)})", what="the run in the runs list")
    assert browser.evaluate(f"document.querySelector({json.dumps(row + ' .badge')}).textContent") == "success"
    assert cell_rows(browser, row + " td[data-rows]") == str(orders + customers)
    row2 = f"tr[data-run-id={json.dumps(second_id)}]"
    assert browser.evaluate(f"document.querySelector({json.dumps(row2 + ' .badge')}).textContent") == "success"
    assert cell_rows(browser, row2 + " td[data-rows]") == str(orders2 - orders + customers)
    assert_accessible(browser)
    browser.screenshot(SHOTS / "runs.png")

    # the token was asked once: a reload goes straight to the runs
    browser.reload()
    browser.wait_for(f"!!document.querySelector({json.dumps(row)}) && !!document.querySelector({json.dumps(row2)})",
                     what="the runs list after a reload")
    assert browser.evaluate("document.getElementById('login').hidden") is True

    # the run's page: its block, with the rows of each stream the warehouse holds
    link = json.dumps(row + " a")
    browser.wait_for(f"(() => {{ const a = document.querySelector({link}); if (a) a.click(); return !!a; }})()",
                     what="the run's link")
    browser.wait_for("!!document.querySelector('tr[data-stream=customers]')", what="the per-stream rows")
    assert browser.evaluate("document.getElementById('run-id').textContent") == run_id
    assert browser.evaluate("document.querySelector('#run-facts .badge').textContent") == "success"
    assert cell_rows(browser, "tr[data-stream=orders] td[data-rows]") == str(orders)
    assert cell_rows(browser, "tr[data-stream=customers] td[data-rows]") == str(customers)
    assert "tap-csv" in browser.evaluate("document.querySelector('.card.block h3').textContent")
    browser.wait_for("document.getElementById('log').textContent.includes('tap-csv')", what="the run's log")
    assert_accessible(browser)
    browser.screenshot(SHOTS / "run.png")
    if os.environ.get("SMELT_UI_DOCS_IMG") == "1":
        (SOURCE / "docs/img").mkdir(parents=True, exist_ok=True)
        shutil.copy(SHOTS / "runs.png", SOURCE / "docs/img/ui-runs.png")
        shutil.copy(SHOTS / "run.png", SOURCE / "docs/img/ui-run.png")

    # a failed filter shows nothing of it; the matching one shows it
    browser.navigate(server.base + "/#/runs?status=failed")
    browser.wait_for("document.getElementById('view').dataset.loaded === '#/runs?status=failed'", what="the filter")
    assert browser.evaluate(f"!document.querySelector({json.dumps(row)})") is True
    assert "No run matches" in browser.text()


def test_live_log_arrives_while_the_run_goes(project, browser):
    project.write(f"""\
default_environment: dev
environments: [{{name: dev}}]
plugins:
  extractors:
  - name: tap-fake
    namespace: tap_fake
    executable: {FAKES}/fake_tap.py
    config: {{records: 40, mode: slow, state_every: 10}}
  loaders:
  - name: target-sqlite
    variant: smelt
    config: {{database: output/wh.db}}
""")
    server = Server(project.root)
    try:
        sign_in(browser, server.base)
        browser.wait_for("!!document.querySelector('#runs p')", what="the empty runs list")
        status, body = request(server.base, "/api/v1/runs", "POST", {"blocks": ["tap-fake", "target-sqlite"]})
        assert status == 202, body
        run_id = body["run_id"]
        browser.navigate(f"{server.base}/#/runs/{run_id}")
        # a log line of the tap is on the page while the page still says the run is running
        seen = browser.wait_for(
            "(() => { const s = document.querySelector('#run-facts .badge'); const log = document.getElementById('log');"
            " return s && log && s.textContent === 'running' && log.textContent.includes('record_count')"
            " && document.getElementById('log-state').textContent === '(live)'; })()",
            deadline_s=60, what="a live log line during the run")
        assert seen is True
        browser.screenshot(SHOTS / "run-live.png")
        done = server.wait_run(run_id)
        assert done["status"] == "success", json.dumps(done)
        browser.wait_for("document.querySelector('#run-facts .badge').textContent === 'success'",
                         what="the page noticing the end of the run")
        assert cell_rows(browser, "tr[data-stream=things] td[data-rows]") == "40"
        with sqlite3.connect(project.root / "output/wh.db") as db:
            assert db.execute("SELECT count(*) FROM things").fetchone()[0] == 40
    finally:
        server.stop()


def test_phone_screen_dark_room_and_other_pages(served, browser):
    project, server = served
    project.smelt("run", "tap-csv", "target-sqlite", check=0)
    browser.call("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    browser.call("Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme", "value": "dark"}])
    sign_in(browser, server.base)
    browser.wait_for("!!document.querySelector('tr[data-run-id]')", what="the runs list")
    # nothing is wider than the phone's screen, and the page follows the dark scheme
    assert browser.evaluate("document.documentElement.scrollWidth") <= 390
    bg = browser.evaluate("getComputedStyle(document.body).backgroundColor")
    rgb = [int(x) for x in bg[bg.index("(") + 1:bg.index(")")].split(",")[:3]]
    assert sum(rgb) < 150, bg
    assert browser.evaluate("document.querySelector('tr[data-run-id] .badge').textContent") == "success"
    assert_accessible(browser)
    browser.screenshot(SHOTS / "runs-phone-dark.png")

    # plugins and their settings: the extractor's files are listed, the state id's bookmarks shown
    browser.navigate(server.base + "/#/plugins/tap-csv")
    browser.wait_for("!!document.querySelector('tr[data-setting=files]')", what="tap-csv's settings")
    assert "orders.csv" in browser.evaluate("document.querySelector('tr[data-setting=files]').textContent")
    assert browser.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(browser)
    browser.screenshot(SHOTS / "plugin-phone-dark.png")

    browser.navigate(server.base + "/#/state")
    browser.wait_for("document.body.innerText.includes('dev:tap-csv-to-target-sqlite')", what="the state id")
    browser.navigate(server.base + "/#/state/dev:tap-csv-to-target-sqlite")
    browser.wait_for("!!document.querySelector('pre.json') && document.querySelector('pre.json').textContent.includes('bookmarks')",
                     what="the state's bookmarks")

    browser.navigate(server.base + "/#/jobs")
    browser.wait_for("!!document.querySelector('tr[data-job=load-all]')", what="the job")
    browser.screenshot(SHOTS / "jobs-phone-dark.png")
    # starting the job from the page runs it: a second run appears, and it succeeds
    browser.evaluate("document.querySelector('tr[data-job=load-all] button').click()")
    browser.wait_for("location.hash.startsWith('#/runs/') && !!document.getElementById('run-id')", what="the new run's page")
    new_id = browser.evaluate("document.getElementById('run-id').textContent")
    assert server.wait_run(new_id)["status"] == "success"
    assert server.get("/api/v1/runs")["total"] == 2


def raw_get(server, path, method="GET", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def test_ui_files_are_served_without_token_and_nothing_else_is(served):
    project, server = served
    (project.root / ".smelt").mkdir(exist_ok=True)
    (project.root / ".smelt/secret.txt").write_text("sentinel-secret-4471")
    status, headers, body = raw_get(server, "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b'<script src="app.js"' in body and b"<form id=\"login-form\">" in body
    assert "script-src 'self'" in headers["Content-Security-Policy"] and headers["X-Frame-Options"] == "DENY"
    for name, ctype in (("app.js", "text/javascript"), ("app.css", "text/css"), ("favicon.svg", "image/svg+xml")):
        status, headers, body = raw_get(server, "/" + name)
        assert status == 200 and headers["Content-Type"].startswith(ctype) and body
    assert raw_get(server, "/app.js", "HEAD")[0] == 200
    # nothing outside the UI's folder, whatever the spelling; the API still wants its token
    for path in ("/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fsmelt.yml", "/.smelt/secret.txt",
                 "/%2esmelt%2fsecret.txt", "/ui/../smelt.yml", "/smelt.yml", "/nope.html", "/.."):
        status, _, body = raw_get(server, path)
        assert status in (400, 404), f"{path}: {status}"
        assert b"sentinel-secret" not in body and b"default_environment" not in body
    for path in ("/api/v1/runs", "/api/v1/openapi.json", "/api/", "/api"):
        assert raw_get(server, path)[0] == 401, path
    assert raw_get(server, "/", "POST")[0] == 401
