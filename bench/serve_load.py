#!/usr/bin/env python3
"""Load on `smelt serve` while a 1M-record native run goes (issue 17; not a timed test).

    python3 bench/serve_load.py [BUILD_DIR] [--clients 200] [--followers 20] [--records 1000000]
                                [--repeats 3] [--think-ms 0,1000] [--server-nice N]
                                [--server-sched idle|normal] [--server-busy-cpu PCT] [--loadgen-idle]
                                [--sched-trace]

Sets up a project in BUILD_DIR/bench-work/serve-load (a generated CSV of RECORDS rows x 10
columns, tap-csv -> target-sqlite, both Smelt's native connectors; 40 small runs so the run
history has pages), starts `smelt serve` on 127.0.0.1, then for each think time:

  - quiet: the 1M-record run started over the API with no other client (REPEATS times);
  - loaded: the same run while CLIENTS concurrent clients hit the server: FOLLOWERS of them
    follow the run's live log (/log/stream, Server-Sent Events) and the others loop over
    GET /runs?limit=50 and GET /runs/{id} (waiting THINK ms between requests; 0 = flat out),
    over keep-alive connections.

Quiet and loaded runs alternate, so drift of the machine hits both.  It prints requests/s,
p50/p99 latency, errors, the server's RSS (peak VmHWM and the largest VmRSS seen under load) and
the run's own speed (rows/s, from the run's recorded duration) with and without the load, and
writes everything to serve-load.json in the work folder.  The load generator is Python asyncio
in this process, on the same machine: its CPU competes with the run's, which the numbers include
(--loadgen-idle runs it under SCHED_IDLE instead).

On a machine shared with other work the run's speed wanders more than the effect sought, so
--sched-trace also records the scheduler's events machine-wide (`perf record -e sched:*`, needs
perf and the right to trace) during each run and reports, for the run's processes, how long they
were runnable but waiting for a CPU, split by what ran on that CPU meanwhile: the server's threads,
the run's own other process, or anything else.  The part behind the server is what the server
took from the run, whatever else the machine does.
"""
import argparse
import asyncio
import bisect
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

TOKEN = "bench-serve-load-token-5d1e"


# ---- --sched-trace: where the run's processes waited for a CPU (perf's scheduler events) ----

EVENTS = "sched:sched_switch,sched:sched_wakeup,sched:sched_wakeup_new,sched:sched_process_fork"
HEAD = re.compile(r"^\s*(.+?)\s+(\d+)/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s+(.*)$")
KV = re.compile(r"(\w+)=(\S+)")


class Trace:
    """perf record of the scheduler's events, machine-wide, while a run goes."""

    def __init__(self, path):
        self.path = path
        self.proc = subprocess.Popen(["perf", "record", "-q", "-e", EVENTS, "-a", "-o", path],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.5)  # perf's tracing is on before the run forks (its fork must be seen)

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=60)


def analyze(path, server_pid):
    """Where the run's processes waited for a CPU: the time each spent runnable but not running, split by
    what ran on its CPU meanwhile (the server's threads, the run's own other processes, anything else)."""
    out = subprocess.run(["perf", "script", "-i", path, "-F", "comm,pid,tid,cpu,time,event,trace"],
                         capture_output=True, text=True, errors="replace").stdout
    tgid = {}            # tid -> tgid
    family = {server_pid}  # the server's threads and everything forked from them
    segs = {}            # cpu -> list of (start, end, tid)
    cur = {}             # cpu -> (tid, since)
    runnable = {}        # tid -> since
    waits = []           # (tid, cpu, start, end)
    t_first = t_last = None
    for line in out.splitlines():
        m = HEAD.match(line)
        if not m:
            continue
        _, pid, tid, cpu, ts, ev, rest = m.groups()
        pid, tid, cpu, ts = int(pid), int(tid), int(cpu), float(ts)
        t_first = ts if t_first is None else t_first
        t_last = ts
        tgid[tid] = pid
        kv = dict(KV.findall(rest))
        if ev == "sched:sched_process_fork":
            if pid == server_pid or int(kv["pid"]) in family or tid in family:  # pid: the forking task's process
                family.add(int(kv["child_pid"]))
        elif ev in ("sched:sched_wakeup", "sched:sched_wakeup_new"):
            runnable.setdefault(int(kv["pid"]), ts)
        elif ev == "sched:sched_switch":
            prev, nxt = int(kv["prev_pid"]), int(kv["next_pid"])
            if cpu in cur:
                segs.setdefault(cpu, []).append((cur[cpu][1], ts, cur[cpu][0]))
            cur[cpu] = (nxt, ts)
            if kv["prev_state"].startswith("R"):
                runnable[prev] = ts
            else:
                runnable.pop(prev, None)
            since = runnable.pop(nxt, None)
            if since is not None:
                waits.append((nxt, cpu, since, ts))
    for cpu, (tid, since) in cur.items():
        segs.setdefault(cpu, []).append((since, t_last, tid))

    def kind(tid):
        if tid == 0:
            return "idle"
        g = tgid.get(tid)
        if g == server_pid or tid == server_pid:
            return "server"
        if tid in family or g in family:
            return "run"
        return "other"

    run_tids = {t for t in family if kind(t) == "run"}
    starts = {c: [s[0] for s in v] for c, v in segs.items()}
    behind = {"server": 0.0, "run": 0.0, "other": 0.0, "idle": 0.0}
    for tid, cpu, a, b in waits:
        if tid not in run_tids:
            continue
        lst = segs.get(cpu, [])
        i = max(0, bisect.bisect_right(starts.get(cpu, []), a) - 1)
        while i < len(lst) and lst[i][0] < b:
            s, e, who = lst[i]
            ov = min(e, b) - max(s, a)
            if ov > 0 and who != tid:
                behind[kind(who)] += ov
            i += 1
    ran = {"server": 0.0, "run": 0.0}
    for v in segs.values():
        for s, e, who in v:
            k = kind(who)
            if k in ran:
                ran[k] += e - s
    return {"window_s": (t_last - t_first) if t_first else 0, "run_tasks": len(run_tids),
            "run_cpu_s": ran["run"], "server_cpu_s": ran["server"],
            "run_waited_behind_server_s": behind["server"], "run_waited_behind_run_s": behind["run"],
            "run_waited_behind_other_s": behind["other"]}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base, path, method="GET", body=None):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def setup(work, smelt, records):
    work.mkdir(parents=True, exist_ok=True)
    big = work / "big.csv"
    if not big.exists() or sum(1 for _ in open(big)) != records + 1:
        with open(big, "w") as c:
            c.write("id,user_id,kind,name,email,amount,ok,country,note,created_at\n")
            for i in range(1, records + 1):
                c.write(f"{i},{i % 9973},purchase,User {i % 100000},user{i}@example.com,{i % 1000}.{i % 100:02d},"
                        f"{'true' if i % 3 else 'false'},NL,a benchmark row,2024-05-01T12:{(i // 60) % 60:02d}:{i % 60:02d}Z\n")
    (work / "small.csv").write_text("id,v\n" + "".join(f"{i},v{i}\n" for i in range(1, 51)))
    (work / "smelt.yml").write_text("""\
default_environment: dev
environments: [{name: dev}]
plugins:
  extractors:
  - name: tap-csv
    variant: smelt
    config:
      files: [{entity: events, path: big.csv, keys: [id]}]
  - name: tap-small
    inherit_from: tap-csv
    config:
      files: [{entity: small, path: small.csv, keys: [id]}]
  loaders:
  - name: target-sqlite
    variant: smelt
    config: {database: output/wh.db}
""")
    env = runner_env()
    history = subprocess.run([smelt, "runs", "list", "--format", "json"], cwd=work, env=env,
                             capture_output=True, text=True)
    have = json.loads(history.stdout).get("total", 0) if history.returncode == 0 and history.stdout.strip() else 0
    for _ in range(max(0, 40 - have)):
        subprocess.run([smelt, "run", "tap-small", "target-sqlite"], cwd=work, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def runner_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMELT_", "MELTANO_"))}
    env.update(NO_COLOR="1", SMELT_SERVE_TOKEN=TOKEN)
    return env


def cpu_seconds(pid):
    """utime + stime of pid and its reaped children's threads (the server's own work), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def memory(pid):
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])  # kB
    except OSError:
        pass
    return out


class Stats:
    def __init__(self):
        self.lat = []
        self.errors = 0
        self.log_events = 0
        self.streams_opened = 0
        self.per_follower = []
        self.ends = {}   # how the followers' streams ended: the end event's data (or the HTTP status line)
        self.phase = {}  # follower -> where it is (connecting, headers, streaming N lines)


async def http(reader, writer, path, host):
    """One GET over a keep-alive connection; returns (status, body bytes)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:] if l)}
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    else:
        body = await reader.read()
    if headers.get("connection", "").lower() == "close":
        raise ConnectionResetError("server closed the connection")
    return status, body


async def reader_client(port, run_ids, stop, stats, think):
    host = f"127.0.0.1:{port}"
    conn = None
    i = 0
    while not stop.is_set():
        try:
            if conn is None:
                conn = await asyncio.open_connection("127.0.0.1", port)
            path = "/api/v1/runs?limit=50" if i % 2 == 0 else f"/api/v1/runs/{run_ids[i % len(run_ids)]}"
            i += 1
            t0 = time.perf_counter()
            status, _ = await http(*conn, path, host)
            stats.lat.append(time.perf_counter() - t0)
            if status != 200:
                stats.errors += 1
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            stats.errors += 1
            if conn:
                conn[1].close()
            conn = None
            await asyncio.sleep(0.05)
        if think:
            await asyncio.sleep(think)
    if conn:
        conn[1].close()


async def follower_client(port, run_id, stop, stats, me):
    """Follows the run's live log to its end (reconnecting if the server drops it before)."""
    while not stop.is_set():
        try:
            stats.phase[me] = "connecting"
            r, w = await asyncio.open_connection("127.0.0.1", port)
            stats.phase[me] = "waiting for the status line"
            w.write(f"GET /api/v1/runs/{run_id}/log/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    f"Authorization: Bearer {TOKEN}\r\nAccept: text/event-stream\r\n\r\n".encode())
            await w.drain()
            stats.streams_opened += 1
            mine = 0
            first = (await r.readline()).decode(errors="replace").strip()
            end = first if not first.endswith("200 OK") else "no end event"
            ending = False
            while True:
                line = await r.readline()
                if not line:
                    break
                if ending and line.startswith(b"data:"):
                    end = line[5:].decode(errors="replace").strip()
                ending = line.startswith(b"event: end")
                if ending:
                    mine -= 1  # its data line is the run's status, not a log line
                if line.startswith(b"data:"):
                    stats.log_events += 1
                    mine += 1
                    stats.phase[me] = f"streaming ({mine} lines)"
            stats.per_follower.append(mine)
            stats.ends[end] = stats.ends.get(end, 0) + 1
            stats.phase[me] = "done"
            w.close()
            return
        except OSError:
            stats.errors += 1
            await asyncio.sleep(0.1)


def log_line_count(base, run_id):
    req = urllib.request.Request(f"{base}/api/v1/runs/{run_id}/log", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return len(resp.read().decode(errors="replace").splitlines())


def start_run(base):
    return api(base, "/api/v1/runs", "POST", {"blocks": ["tap-csv", "target-sqlite"]})["run_id"]


def wait_run(base, run_id, pid, samples):
    while True:
        run = api(base, f"/api/v1/runs/{run_id}")
        if run["status"] not in ("running", "queued"):
            return run
        samples.append(memory(pid))
        time.sleep(0.1)


async def loaded_run(base, port, pid, work, args, think, run_ids):
    (work / "output/wh.db").unlink(missing_ok=True)
    stats = Stats()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    readers = [asyncio.create_task(reader_client(port, run_ids, stop, stats, think))
               for _ in range(args.clients - args.followers)]
    await asyncio.sleep(1.0)  # the readers are connected and going before the run starts
    tr = Trace(str(work / "sched.data")) if args.sched_trace else None
    stats.lat.clear()
    stats.errors = 0
    t0 = time.perf_counter()
    cpu0, gen0 = cpu_seconds(pid), time.process_time()
    run_id = await loop.run_in_executor(None, start_run, base)
    followers = [asyncio.create_task(follower_client(port, run_id, stop, stats, i)) for i in range(args.followers)]
    samples = []
    run = await loop.run_in_executor(None, wait_run, base, run_id, pid, samples)
    wall = time.perf_counter() - t0
    server_cpu, gen_cpu = cpu_seconds(pid) - cpu0, time.process_time() - gen0
    if tr:
        tr.stop()
    stop.set()
    t_end = time.perf_counter()
    await asyncio.wait(followers, timeout=30)   # the streams end on their own once the run has
    streams_done_s = time.perf_counter() - t_end
    unfinished = {k: v for k, v in stats.phase.items() if v != "done"}
    if unfinished:
        print(f"  {len(unfinished)} log streams still open {time.perf_counter() - t_end:.0f} s after the run ended: "
              f"{sorted(set(unfinished.values()))}", flush=True)
    await asyncio.wait(readers, timeout=10)
    log_lines = await loop.run_in_executor(None, log_line_count, base, run_id)
    lat = sorted(stats.lat)
    summary = summarize(run, args.records)
    if tr:
        summary["sched"] = await loop.run_in_executor(None, analyze, str(work / "sched.data"), pid)
    return {"run": summary, "requests": len(lat), "seconds": wall,
            "requests_per_s": len(lat) / wall, "p50_ms": 1000 * lat[len(lat) // 2] if lat else None,
            "p99_ms": 1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else None,
            "errors": stats.errors, "log_streams": stats.streams_opened, "log_events": stats.log_events,
            "log_lines": log_lines, "follower_lines_min": min(stats.per_follower, default=0),
            "follower_lines_max": max(stats.per_follower, default=0), "stream_ends": stats.ends,
            "rss_kb_max": max((s.get("VmRSS", 0) for s in samples), default=0),
            "server_cpu_s": server_cpu, "loadgen_cpu_s": gen_cpu, "loadavg_1m": os.getloadavg()[0],
            "streams_closed_after_s": streams_done_s,
            "server_cpu_ms_per_request": 1000 * server_cpu / len(lat) if lat else None}


def summarize(run, records):
    return {"run_id": run["run_id"], "status": run["status"], "duration_s": run["duration_s"],
            "rows": run.get("rows"), "rows_per_s": records / run["duration_s"] if run.get("duration_s") else None}


def quiet_run(base, pid, work, records, trace=False):
    (work / "output/wh.db").unlink(missing_ok=True)
    tr = Trace(str(work / "sched.data")) if trace else None
    run_id = start_run(base)
    out = summarize(wait_run(base, run_id, pid, []), records)
    if tr:
        tr.stop()
        out["sched"] = analyze(str(work / "sched.data"), pid)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build", nargs="?", default=str(Path(__file__).resolve().parents[1] / "build"))
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--followers", type=int, default=20)
    ap.add_argument("--records", type=int, default=1000000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--think-ms", default="0,1000", help="comma-separated think times to measure")
    ap.add_argument("--server-nice", type=int, default=None,
                    help="smelt serve --nice N (the request threads' priority; default: the server's own, 10)")
    ap.add_argument("--server-sched", choices=("idle", "normal"), default=None,
                    help="smelt serve --sched POLICY (the request threads' policy; default: the server's own, idle)")
    ap.add_argument("--server-busy-cpu", type=int, default=None,
                    help="smelt serve --busy-cpu PCT (the requests' CPU while runs go; default: the server's own, 5)")
    ap.add_argument("--sched-trace", action="store_true",
                    help="record the scheduler's events (perf, machine-wide) during each run and report how long "
                         "the run's processes waited for a CPU while the server's threads had it")
    ap.add_argument("--loadgen-idle", action="store_true",
                    help="run this load generator under SCHED_IDLE (it then competes with the run no more than "
                         "an idle-priority server does; by default it runs at normal priority)")
    args = ap.parse_args()
    build = Path(args.build).resolve()
    smelt = build / "stage/bin/smelt"
    work = build / "bench-work" / "serve-load"
    setup(work, smelt, args.records)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    err = open(work / "serve.stderr", "w")
    nice = ["--nice", str(args.server_nice)] if args.server_nice is not None else []
    if args.server_sched:
        nice += ["--sched", args.server_sched]
    if args.server_busy_cpu is not None:
        nice += ["--busy-cpu", str(args.server_busy_cpu)]
    server = subprocess.Popen([smelt, "serve", "--listen", f"127.0.0.1:{port}", *nice], cwd=work, env=runner_env(),
                              stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    if args.loadgen_idle:  # after the server started: it must not inherit the policy
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    results = {"clients": args.clients, "followers": args.followers, "records": args.records,
               "server_nice": args.server_nice, "server_sched": args.server_sched, "server_busy_cpu": args.server_busy_cpu, "loadgen_idle": args.loadgen_idle,
               "cores": os.cpu_count(), "date": time.strftime("%Y-%m-%d"), "modes": {}}
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        results["rss_kb_idle"] = memory(server.pid).get("VmRSS")
        run_ids = [r["run_id"] for r in api(base, "/api/v1/runs?limit=50")["runs"]]
        quiet_run(base, server.pid, work, args.records)  # warm the page cache
        for think_ms in [int(x) for x in args.think_ms.split(",")]:
            quiet, loaded = [], []
            for i in range(args.repeats):
                quiet.append(quiet_run(base, server.pid, work, args.records, args.sched_trace))
                loaded.append(asyncio.run(loaded_run(base, port, server.pid, work, args, think_ms / 1000, run_ids)))
                print(f"think {think_ms} ms, round {i + 1}: quiet {quiet[-1]['rows_per_s']:.0f} rows/s "
                      f"({quiet[-1]['status']}), loaded {loaded[-1]['run']['rows_per_s']:.0f} rows/s "
                      f"({loaded[-1]['run']['status']}), {loaded[-1]['requests_per_s']:.0f} req/s, "
                      f"p50 {loaded[-1]['p50_ms']:.1f} ms, p99 {loaded[-1]['p99_ms']:.1f} ms, "
                      f"errors {loaded[-1]['errors']}, log lines {loaded[-1]['log_lines']}, each follower got "
                      f"{loaded[-1]['follower_lines_min']}-{loaded[-1]['follower_lines_max']} "
                      f"(ends: {loaded[-1]['stream_ends']}), server CPU "
                      f"{loaded[-1]['server_cpu_s']:.1f} s, load generator CPU {loaded[-1]['loadgen_cpu_s']:.1f} s "
                      f"in {loaded[-1]['seconds']:.1f} s, machine load average {loaded[-1]['loadavg_1m']:.1f}",
                      flush=True)
                if args.sched_trace:
                    for name, r in (("quiet", quiet[-1]), ("loaded", loaded[-1]["run"])):
                        t = r["sched"]
                        print(f"  {name}: run {r['duration_s']:.2f} s, its processes ran {t['run_cpu_s']:.2f} s and "
                              f"waited {t['run_waited_behind_server_s'] * 1000:.0f} ms behind the server, "
                              f"{t['run_waited_behind_run_s'] * 1000:.0f} ms behind each other, "
                              f"{t['run_waited_behind_other_s'] * 1000:.0f} ms behind other work; "
                              f"the server ran {t['server_cpu_s']:.2f} s", flush=True)
            q = statistics.median(r["rows_per_s"] for r in quiet)
            lo = statistics.median(r["run"]["rows_per_s"] for r in loaded)
            results["modes"][f"think_{think_ms}ms"] = {
                "quiet": quiet, "loaded": loaded, "quiet_rows_per_s": q, "loaded_rows_per_s": lo,
                "slowdown_pct": 100 * (q - lo) / q,
                "requests_per_s": statistics.median(r["requests_per_s"] for r in loaded),
                "p50_ms": statistics.median(r["p50_ms"] for r in loaded),
                "p99_ms": statistics.median(r["p99_ms"] for r in loaded),
                "errors": sum(r["errors"] for r in loaded),
                "runs_not_success": sum(r["status"] != "success" for r in quiet) +
                                    sum(r["run"]["status"] != "success" for r in loaded),
                "streams_without_end": sum(args.followers - sum(r["stream_ends"].values()) for r in loaded),
                "rss_kb_max": max(r["rss_kb_max"] for r in loaded),
                "server_cpu_ms_per_request": statistics.median(r["server_cpu_ms_per_request"] for r in loaded),
                "server_cpu_share": statistics.median(r["server_cpu_s"] / r["seconds"] for r in loaded),
                "loadgen_cpu_share": statistics.median(r["loadgen_cpu_s"] / r["seconds"] for r in loaded),
                "loadavg_1m": statistics.median(r["loadavg_1m"] for r in loaded)}
            if args.sched_trace:
                m = results["modes"][f"think_{think_ms}ms"]
                for name, runs in (("quiet", quiet), ("loaded", [r["run"] for r in loaded])):
                    m[f"sched_{name}"] = {k: statistics.median(r["sched"][k] for r in runs)
                                          for k in runs[0]["sched"]}
                    m[f"sched_{name}"]["behind_server_share_of_run"] = statistics.median(
                        r["sched"]["run_waited_behind_server_s"] / r["duration_s"] for r in runs)
        results["rss_kb_peak"] = memory(server.pid).get("VmHWM")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        err.close()
    (work / "serve-load.json").write_text(json.dumps(results, indent=2))
    print(f"\n{args.clients} clients ({args.followers} following the live log), {args.records:,}-record native run, "
          f"{results['cores']} cores; server RSS idle {results['rss_kb_idle'] / 1024:.1f} MiB, "
          f"peak {results['rss_kb_peak'] / 1024:.1f} MiB\n")
    print("| think time | requests/s | p50 | p99 | errors | server CPU / request | server CPU | load generator CPU "
          "| run quiet | run loaded | slowdown | runs not success | streams without end | load average |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, m in results["modes"].items():
        print(f"| {name[6:]} | {m['requests_per_s']:,.0f} | {m['p50_ms']:.1f} ms | {m['p99_ms']:.1f} ms | {m['errors']} "
              f"| {m['server_cpu_ms_per_request']:.2f} ms | {100 * m['server_cpu_share']:.0f}% of a core "
              f"| {100 * m['loadgen_cpu_share']:.0f}% of a core | {m['quiet_rows_per_s']:,.0f} rows/s | {m['loaded_rows_per_s']:,.0f} rows/s | {m['slowdown_pct']:.1f}% "
              f"| {m['runs_not_success']} | {m['streams_without_end']} | {m['loadavg_1m']:.1f} |")
    for name, m in results["modes"].items():
        if "sched_loaded" in m:
            t = m["sched_loaded"]
            print(f"\n{name[6:]}: loaded runs (medians) waited {t['run_waited_behind_server_s'] * 1000:.0f} ms behind the "
                  f"server ({100 * t['behind_server_share_of_run']:.2f}% of the run's duration), "
                  f"{t['run_waited_behind_other_s'] * 1000:.0f} ms behind other work; quiet runs "
                  f"{m['sched_quiet']['run_waited_behind_server_s'] * 1000:.0f} ms behind the server")
    return 0


if __name__ == "__main__":
    sys.exit(main())
