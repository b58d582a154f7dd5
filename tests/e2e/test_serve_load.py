"""What smelt serve does so that a crowd of clients does not slow the runs (issue 17's load goal,
bench/serve_load.py): the request threads run under SCHED_IDLE while the runs keep a normal policy,
and the run listings are answered from a cache that the system database's changes invalidate, with
ETags and 304 for clients that send If-None-Match."""
import os
import time
from pathlib import Path

from conftest import processes_matching
from test_serve import csv_project, serve, wait_run  # noqa: F401 (serve is a fixture)

SCHED_OTHER, SCHED_IDLE = os.SCHED_OTHER, os.SCHED_IDLE


def policies(pid):
    """The scheduling policy of each thread of pid (threads that ended meanwhile are left out)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            out[int(tid)] = os.sched_getscheduler(int(tid))
        except (ProcessLookupError, FileNotFoundError):
            pass
    return out


def run_processes(run_id):
    def argv(pid):
        try:
            return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            return []
    return [p for p in processes_matching(run_id) if argv(p)[1:2] == [b"--cwd"]]  # smelt --cwd ROOT run ...


def test_requests_run_idle_and_runs_keep_a_normal_policy(project, serve):
    csv_project(project)
    s = serve(project.root)
    run_id = s.json("POST", "/api/v1/runs", {"blocks": ["tap-fake", "target-fake"]}, want=202)["run_id"]
    wait_run(s, run_id, until=("running",))
    kids = run_processes(run_id)
    # the run started over the API, and the plugins it started, are not idle
    assert kids and all(os.sched_getscheduler(p) == SCHED_OTHER for p in kids)
    for p in kids:
        for child in Path(f"/proc/{p}/task/{p}/children").read_text().split():
            assert os.sched_getscheduler(int(child)) == SCHED_OTHER
    # the server: the reaper thread (which starts the runs) normal, the request threads idle
    for _ in range(3):
        s.json("GET", "/api/v1/runs")
    seen = policies(s.proc.pid)
    assert sorted(set(seen.values())) == [SCHED_OTHER, SCHED_IDLE], seen
    assert list(seen.values()).count(SCHED_OTHER) == 1, seen
    s.json("POST", f"/api/v1/runs/{run_id}/cancel", want=202)
    assert wait_run(s, run_id)["status"] == "cancelled"


def test_sched_normal_keeps_every_thread_normal(project, serve):
    csv_project(project)
    s = serve(project.root, "--sched", "normal")
    s.json("GET", "/api/v1/runs")
    assert set(policies(s.proc.pid).values()) == {SCHED_OTHER}


def test_sched_takes_idle_or_normal(project):
    csv_project(project)
    proc = project.smelt("serve", "--sched", "fifo")
    assert proc.returncode == 2
    assert "--sched must be idle or normal, not 'fifo'" in proc.stderr


def test_run_listings_answer_304_until_the_runs_change(project, serve):
    csv_project(project)
    project.smelt("run", "tap-csv", "target-sqlite", check=0)
    s = serve(project.root)
    status, text, headers = s.request("GET", "/api/v1/runs")
    assert status == 200 and headers["ETag"].startswith('"')
    tag = headers["ETag"]
    run_id = s.json("GET", "/api/v1/runs")["runs"][0]["run_id"]

    # the same answer: 304 without a body, for the tag as given, weak, or in a list
    for sent in (tag, "W/" + tag, f'"nope", {tag}', "*"):
        status, text, h = s.request("GET", "/api/v1/runs", headers={"If-None-Match": sent})
        assert (status, text, h["ETag"]) == (304, "", tag), sent
    status, text, _ = s.request("GET", "/api/v1/runs", headers={"If-None-Match": '"nope"'})
    assert status == 200 and run_id in text
    # another answer has another tag (the tag is a hash of the answer's bytes)
    status, text, h = s.request("GET", "/api/v1/runs?status=failed", headers={"If-None-Match": tag})
    assert status == 200 and h["ETag"] != tag and run_id not in text

    # one run: the same rules
    status, text, h = s.request("GET", f"/api/v1/runs/{run_id}")
    assert status == 200 and '"success"' in text
    status, text, _ = s.request("GET", f"/api/v1/runs/{run_id}", headers={"If-None-Match": h["ETag"]})
    assert (status, text) == (304, "")

    # a run from the CLI (another process) changes the listing: the next answer is new at once
    project.smelt("run", "tap-csv", "target-sqlite", check=0)
    status, text, h = s.request("GET", "/api/v1/runs", headers={"If-None-Match": tag})
    assert status == 200 and h["ETag"] != tag
    assert s.json("GET", "/api/v1/runs")["total"] == 2


def test_cached_listings_follow_a_run_and_a_prune(project, serve):
    csv_project(project)
    s = serve(project.root)
    assert s.json("GET", "/api/v1/runs")["total"] == 0
    run_id = s.json("POST", "/api/v1/runs", {"blocks": ["tap-fake", "target-fake"]}, want=202)["run_id"]
    assert wait_run(s, run_id, until=("running",))["status"] == "running"
    assert s.json("GET", "/api/v1/runs?status=running")["total"] == 1
    s.json("POST", f"/api/v1/runs/{run_id}/cancel", want=202)
    assert wait_run(s, run_id)["status"] == "cancelled"
    assert s.json("GET", "/api/v1/runs?status=running")["total"] == 0
    assert s.json("GET", "/api/v1/runs?status=cancelled")["total"] == 1
    project.smelt("runs", "prune", "--keep", "0", check=0)
    assert s.json("GET", "/api/v1/runs")["total"] == 0
    s.json("GET", f"/api/v1/runs/{run_id}", want=404)


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_busy_cpu_holds_the_server_to_its_share_while_a_run_goes(project, serve):
    """Clients asking flat out while a run goes get answers, slowly: the server's CPU stays within
    --busy-cpu percent of one CPU (here 2%, plus the 50 ms it may spend at once)."""
    import http.client
    import threading
    csv_project(project)
    s = serve(project.root, "--busy-cpu", "2")
    run_id = s.json("POST", "/api/v1/runs", {"blocks": ["tap-fake", "target-fake"]}, want=202)["run_id"]
    wait_run(s, run_id, until=("running",))
    answered, failed, stop = [0], [0], threading.Event()

    def hammer():
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
        while not stop.is_set():
            conn.request("GET", "/api/v1/runs", headers={"Authorization": f"Bearer {s.token}"})
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                answered[0] += 1
            else:
                failed[0] += 1
        conn.close()

    cpu0, t0 = cpu_seconds(s.proc.pid), time.monotonic()
    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(4)
    stop.set()
    for t in threads:
        t.join()
    used, wall = cpu_seconds(s.proc.pid) - cpu0, time.monotonic() - t0
    assert answered[0] > 0 and failed[0] == 0
    assert used <= 0.02 * wall + 0.05 + 0.03, (used, wall, answered[0])  # 0.03: the clock's ticks
    s.json("POST", f"/api/v1/runs/{run_id}/cancel", want=202)
    assert wait_run(s, run_id)["status"] == "cancelled"
    # no run going: no waiting (a burst of requests answers at once)
    t0 = time.monotonic()
    for _ in range(50):
        s.json("GET", "/api/v1/runs")
    assert time.monotonic() - t0 < 10


def test_busy_cpu_takes_a_percentage(project):
    csv_project(project)
    proc = project.smelt("serve", "--busy-cpu", "0")
    assert proc.returncode == 2
    assert "--busy-cpu must be a whole number from 1 to 100, not '0'" in proc.stderr
