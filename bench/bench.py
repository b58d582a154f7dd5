#!/usr/bin/env python3
"""Smelt's benchmarks: W1 relay overhead, W2 end to end, W3 command latency,
W4 fixed cost.  Each compares smelt with the raw shell pipe and with Meltano
on the same work, in one run, and reports ratios.  Driven by bench/run-all:

    python3 bench/bench.py setup|w1|w2|w3|w4|report

Environment: SMELT_BENCH_BUILD (the cmake build dir), SMELT_BENCH_WORK
(scratch dir), QUICK=1 (small inputs, to check the scripts themselves).
Results go to $SMELT_BENCH_WORK/results.json; `report` prints the tables.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BUILD = Path(os.environ.get("SMELT_BENCH_BUILD", "build")).resolve()
WORK = Path(os.environ.get("SMELT_BENCH_WORK", BUILD / "bench-work")).resolve()
QUICK = os.environ.get("QUICK") == "1"
SMELT = BUILD / "stage/bin/smelt"
LIBEXEC = BUILD / "stage/libexec/smelt"
GEN = BUILD / "bench/bench-gen-tap"
SINK = BUILD / "bench/bench-sink-target"
MELTANO_VENV = WORK / "meltano-venv"
TAPJSONL_VENV = WORK / "tap-jsonl-venv"
TARGETDUCKDB_VENV = WORK / "target-duckdb-venv"
RESULTS = WORK / "results.json"
RECORDS = 20000 if QUICK else 1000000
W2_ROWS = 20000 if QUICK else 1000000


def env_for_runners():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMELT_", "MELTANO_"))}
    env.update(NO_COLOR="1", MELTANO_SEND_ANONYMOUS_USAGE_STATS="false", MELTANO_DISABLE_TRACKING="true",
               MELTANO_CLI_DISABLE_VERSION_CHECK="true", DO_NOT_TRACK="1",
               PATH=f"{MELTANO_VENV}/bin:{env.get('PATH', '/usr/bin:/bin')}")
    return env


def load():
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def save(key, value):
    data = load()
    data[key] = value
    RESULTS.write_text(json.dumps(data, indent=2))


def sh(*args, **kw):
    return subprocess.run([str(a) for a in args], check=True, **kw)


def venv(path, *packages):
    if (path / "bin/python").exists():
        return
    uv = shutil.which("uv")
    if uv:
        sh(uv, "venv", "-q", "--python", sys.executable, path)
        sh(uv, "pip", "install", "-q", "--python", path / "bin/python", *packages)
    else:
        sh(sys.executable, "-m", "venv", path)
        sh(path / "bin/python", "-m", "pip", "install", "-q", *packages)


def project_yaml(records, state_every, sink_args=()):
    """The same project for smelt (smelt.yml) and Meltano (meltano.yml): custom plugins only."""
    sink_cmd = ""
    if sink_args:
        sink_cmd = f"    commands:\n      slow:\n        args: {' '.join(sink_args)}\n"
    return f"""\
version: 1
default_environment: dev
project_id: 00000000-0000-4000-8000-000000000000
send_anonymous_usage_stats: false
environments:
- name: dev
plugins:
  extractors:
  - name: gen
    namespace: gen
    executable: {GEN}
    config: {{records: {records}, state_every: {state_every}}}
  - name: tap-csv
    namespace: tap_csv_native
    executable: {LIBEXEC}/tap-csv
    capabilities: [catalog, discover, state]
    config:
      files:
      - {{entity: rows, path: {WORK}/w2.csv, keys: [id]}}
  - name: tap-jsonl
    namespace: tap_jsonl
    executable: {TAPJSONL_VENV}/bin/tap-jsonl
    capabilities: [catalog, discover, state]
    config: {{path: {WORK}/w2.jsonl, stream_name: rows, primary_keys: [id]}}
  loaders:
  - name: sink
    namespace: sink
    executable: {SINK}
  - name: slowsink
    namespace: slowsink
    executable: {WORK}/slowsink.sh
  - name: target-sqlite
    namespace: target_sqlite_native
    executable: {LIBEXEC}/target-sqlite
    config: {{database: {WORK}/w2-native.db}}
  - name: target-duckdb-py
    namespace: target_duckdb_py
    executable: {TARGETDUCKDB_VENV}/bin/target-duckdb
    config: {{filepath: {WORK}/w2-python.duckdb, default_target_schema: main}}
  utilities:
  - name: noop
    namespace: noop
    executable: /bin/true
"""


def make_projects(name, records, state_every):
    for runner, file in (("smelt", "smelt.yml"), ("meltano", "meltano.yml")):
        d = WORK / f"{name}-{runner}"
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        (d / file).write_text(project_yaml(records, state_every))
    return WORK / f"{name}-smelt", WORK / f"{name}-meltano"


def setup():
    WORK.mkdir(parents=True, exist_ok=True)
    venv(MELTANO_VENV, "meltano")
    venv(TAPJSONL_VENV, "tap-jsonl")          # one venv per plugin, as smelt and Meltano install them
    # The only Python SQLite target on the package index (target-sqlite 0.2.0) pins SQLAlchemy 1.2.12,
    # which fails on Python >= 3.10; target-duckdb (an embedded database file too) stands in for it.
    venv(TARGETDUCKDB_VENV, "target-duckdb~=0.8", "duckdb<2")
    slow = WORK / "slowsink.sh"
    slow.write_text(f"#!/bin/sh\nexec {SINK} --slow-us 2000 \"$@\"\n")
    slow.chmod(0o755)
    version = subprocess.run([MELTANO_VENV / "bin/meltano", "--version"], capture_output=True, text=True,
                             env=env_for_runners()).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    save("machine", {"cpu": cpu, "cores": os.cpu_count(), "meltano": version,
                     "smelt": subprocess.run([SMELT, "--version"], capture_output=True, text=True).stdout.strip(),
                     "date": time.strftime("%Y-%m-%d"), "quick": QUICK})
    # W2 input: the same rows as CSV and as JSONL
    if not (WORK / "w2.csv").exists() or QUICK:
        with open(WORK / "w2.csv", "w") as c, open(WORK / "w2.jsonl", "w") as j:
            c.write("id,user_id,kind,name,email,amount,ok,country,note,created_at\n")
            for i in range(1, W2_ROWS + 1):
                row = [i, i % 9973, "purchase", f"User {i % 100000}", f"user{i}@example.com",
                       f"{i % 1000}.{i % 100:02d}", "true" if i % 3 else "false", "NL", "a benchmark row",
                       f"2024-05-01T12:{(i // 60) % 60:02d}:{i % 60:02d}Z"]
                c.write(",".join(map(str, row)) + "\n")
                j.write(json.dumps(dict(zip(["id", "user_id", "kind", "name", "email", "amount", "ok", "country",
                                             "note", "created_at"], row))) + "\n")


def measure(argv, cwd, env=None):
    """Run argv; poll /proc for the runner process's own CPU (utime+stime) and peak RSS (VmHWM)."""
    tick = os.sysconf("SC_CLK_TCK")
    t0 = time.monotonic()
    proc = subprocess.Popen([str(a) for a in argv], cwd=cwd, env=env or env_for_runners(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cpu = rss = 0.0
    while proc.poll() is None:
        try:
            stat = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu = (int(stat[11]) + int(stat[12])) / tick
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    rss = max(rss, int(line.split()[1]) / 1024)
        except (OSError, IndexError):
            pass
        time.sleep(0.02)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {proc.returncode}")
    return {"wall_s": wall, "runner_cpu_s": cpu, "runner_peak_rss_mb": rss}


def hyperfine(name, commands, runs, cwd, prepare=None):
    out = WORK / f"hf-{name}.json"
    args = ["hyperfine", "-N", "--style", "basic", "--runs", str(runs), "--export-json", str(out)]
    if prepare:
        args += ["--prepare", prepare]
    for label, cmd in commands:
        args += ["-n", label, cmd]
    sh(*args, cwd=cwd, env=env_for_runners())
    data = json.loads(out.read_text())["results"]
    return {r["command"]: {"mean_s": r["mean"], "median_s": r["median"], "stddev_s": r["stddev"],
                           "p95_s": sorted(r["times"])[max(0, int(len(r["times"]) * 0.95) - 1)],
                           "user_s": r["user"], "system_s": r["system"], "runs": len(r["times"])} for r in data}


def reset_state(smelt_dir, meltano_dir):
    for d in (smelt_dir / ".smelt", meltano_dir / ".meltano"):
        shutil.rmtree(d, ignore_errors=True)


def w1():
    results = {}
    # Meltano commits twice per state line, so the state-every-record variant is kept small enough to finish.
    variants = [("stream", RECORDS, 10000, "sink"), ("state_every_record", RECORDS // 50, 1, "sink"),
                ("slow_target", RECORDS // 10, 10000, "slowsink")]
    for name, records, every, sink in variants:
        s_dir, m_dir = make_projects(f"w1-{name}", records, every)
        cfg = s_dir / "gen.json"
        cfg.write_text(json.dumps({"records": records, "state_every": every}))
        sink_exe = SINK if sink == "sink" else WORK / "slowsink.sh"
        raw = f"sh -c '{GEN} --config {cfg} | {sink_exe} >/dev/null'"
        runs = 3 if QUICK else 5
        # raw pipe and smelt side by side, alternating, several runs each (hyperfine); Meltano is far
        # slower, so it is measured once (still the same work, in the same session)
        hf = hyperfine(f"w1-{name}", [("raw pipe", raw), ("smelt run", f"{SMELT} run --force gen {sink}")], runs, s_dir)
        res = {"records": records, "state_every": every, "hyperfine": hf,
               "raw": measure(["sh", "-c", f"{GEN} --config {cfg} | {sink_exe} >/dev/null"], s_dir),
               "smelt": measure([SMELT, "run", "--force", "gen", sink], s_dir),
               "meltano": measure([MELTANO_VENV / "bin/meltano", "run", "--force", "gen", sink], m_dir)}
        results[name] = res
        print(f"W1 {name}: raw {hf['raw pipe']['mean_s']:.3f}s, smelt {hf['smelt run']['mean_s']:.3f}s, "
              f"meltano {res['meltano']['wall_s']:.3f}s", flush=True)
    # one 60 MB line
    s_dir, m_dir = make_projects("w1-bigline", 1, 1)
    for d in (s_dir / "smelt.yml", m_dir / "meltano.yml"):
        d.write_text(d.read_text().replace("config: {records: 1, state_every: 1}", "config: {line_mb: 60}"))
    cfg = s_dir / "gen.json"
    cfg.write_text(json.dumps({"line_mb": 60}))
    res = {"raw": measure(["sh", "-c", f"{GEN} --config {cfg} | {SINK} >/dev/null"], s_dir),
           "smelt": measure([SMELT, "run", "--force", "gen", "sink"], s_dir)}
    try:
        res["meltano"] = measure([MELTANO_VENV / "bin/meltano", "run", "--force", "gen", "sink"], m_dir)
    except RuntimeError as e:  # Meltano caps a line at half its 100 MiB buffer; 60 MB passes, but report failures
        res["meltano"] = {"error": str(e)}
    results["one_60mb_line"] = res
    save("w1", results)


def w2():
    s_dir, _ = make_projects("w2", 1, 1)
    for f in (WORK / "w2-native.db",):
        f.unlink(missing_ok=True)
    native = measure([SMELT, "run", "--full-refresh", "tap-csv", "target-sqlite"], s_dir)
    (WORK / "w2-python.duckdb").unlink(missing_ok=True)
    python = measure([SMELT, "run", "--full-refresh", "tap-jsonl", "target-duckdb-py"], s_dir)
    res = {"rows": W2_ROWS, "native": native, "python": python,
           "native_rows_per_s": W2_ROWS / native["wall_s"], "python_rows_per_s": W2_ROWS / python["wall_s"]}
    save("w2", res)
    print(f"W2: native {res['native_rows_per_s']:.0f} rows/s, python {res['python_rows_per_s']:.0f} rows/s")


def w3():
    s_dir, m_dir = make_projects("w3", 10, 10)
    runs = 10 if QUICK else 30
    out = {}
    cases = [("--version", ["--version"]), ("--help", ["--help"]), ("config list", ["config", "list", "gen"]),
             ("invoke no-op", ["invoke", "noop"]), ("empty run", ["run"])]
    for label, args in cases:
        sm = " ".join([str(SMELT), *args])
        me = " ".join([f"{MELTANO_VENV}/bin/meltano", *args])
        # both run in their own project folder; hyperfine -N needs one cwd, so give meltano --cwd
        me = me.replace("meltano ", f"meltano --cwd {m_dir} ", 1) if args[0] not in ("--version", "--help") else me
        hf = hyperfine(f"w3-{label.replace(' ', '-')}", [("smelt", sm), ("meltano", me)], runs, s_dir)
        out[label] = hf
    save("w3", out)


def w4():
    s_dir, m_dir = make_projects("w4", 10, 10)
    n_smelt, n_meltano = (20, 5) if QUICK else (100, 20)
    cfg = s_dir / "gen.json"
    cfg.write_text(json.dumps({"records": 10, "state_every": 10}))
    t0 = time.monotonic()
    for _ in range(n_smelt):
        sh("sh", "-c", f"{GEN} --config {cfg} | {SINK} >/dev/null 2>&1")
    raw = time.monotonic() - t0
    t0 = time.monotonic()
    for _ in range(n_smelt):
        sh(SMELT, "run", "gen", "sink", cwd=s_dir, env=env_for_runners(), stdout=subprocess.DEVNULL,
           stderr=subprocess.DEVNULL)
    smelt = time.monotonic() - t0
    t0 = time.monotonic()
    for _ in range(n_meltano):
        sh(MELTANO_VENV / "bin/meltano", "run", "gen", "sink", cwd=m_dir, env=env_for_runners(),
           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    meltano = time.monotonic() - t0
    save("w4", {"raw_runs": n_smelt, "raw_total_s": raw, "smelt_runs": n_smelt, "smelt_total_s": smelt,
                "meltano_runs": n_meltano, "meltano_total_s": meltano})


def report():
    d = load()
    m = d.get("machine", {})
    print(f"\n# Smelt benchmarks ({m.get('date')}, {m.get('cpu')}, {m.get('cores')} cores; {m.get('smelt')}; "
          f"{m.get('meltano')}{'; QUICK inputs' if m.get('quick') else ''})\n")
    if "w1" in d:
        print("## W1 relay overhead (raw pipe and smelt: mean of 5 hyperfine runs; Meltano: one run; "
              "runner-only CPU and peak RSS)\n")
        print("| variant | raw pipe | smelt run | meltano run | smelt/raw | runner CPU smelt | runner CPU meltano "
              "| meltano/smelt CPU | peak RSS smelt | peak RSS meltano |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for name, r in d["w1"].items():
            hf = r.get("hyperfine")
            if hf:
                raw, sm = hf["raw pipe"]["mean_s"], hf["smelt run"]["mean_s"]
                me = r["meltano"].get("wall_s", float("nan"))
            else:
                raw, sm = r["raw"]["wall_s"], r["smelt"]["wall_s"]
                me = r["meltano"].get("wall_s", float("nan"))
            scpu = r["smelt"]["runner_cpu_s"]
            if "error" in r["meltano"]:
                m_wall = m_cpu = m_ratio = m_rss = "failed"
            else:
                mcpu = r["meltano"]["runner_cpu_s"]
                m_wall, m_cpu = f"{me:.3f} s", f"{mcpu:.2f} s"
                m_ratio, m_rss = f"{mcpu / max(scpu, 0.01):.0f}x", f"{r['meltano']['runner_peak_rss_mb']:.1f} MB"
            print(f"| {name} | {raw:.3f} s | {sm:.3f} s | {m_wall} | {sm / raw:.3f} | {scpu:.2f} s | {m_cpu} "
                  f"| {m_ratio} | {r['smelt']['runner_peak_rss_mb']:.1f} MB | {m_rss} |")
    if "w2" in d:
        w = d["w2"]
        print(f"\n## W2 end to end, {w['rows']} rows x 10 columns\n")
        print("| pair | wall | rows/s |\n|---|---|---|")
        print(f"| tap-csv -> target-sqlite (native C) | {w['native']['wall_s']:.2f} s | {w['native_rows_per_s']:.0f} |")
        print(f"| tap-jsonl -> target-duckdb (Python) | {w['python']['wall_s']:.2f} s | {w['python_rows_per_s']:.0f} |")
        print(f"\nratio native/Python: {w['native_rows_per_s'] / w['python_rows_per_s']:.1f}x")
    if "w3" in d:
        print("\n## W3 command latency (median / p95)\n")
        print("| command | smelt | meltano | meltano/smelt |\n|---|---|---|---|")
        for label, hf in d["w3"].items():
            s, me = hf["smelt"], hf["meltano"]
            print(f"| {label} | {s['median_s'] * 1000:.1f} / {s['p95_s'] * 1000:.1f} ms | "
                  f"{me['median_s'] * 1000:.0f} / {me['p95_s'] * 1000:.0f} ms | {me['median_s'] / s['median_s']:.0f}x |")
    if "w4" in d:
        w = d["w4"]
        print("\n## W4 fixed cost of tiny runs (10 records each)\n")
        print("| runner | runs | total | per run |\n|---|---|---|---|")
        for k in ("raw", "smelt", "meltano"):
            n, t = w[f"{k}_runs"], w[f"{k}_total_s"]
            print(f"| {k} | {n} | {t:.2f} s | {t / n * 1000:.1f} ms |")


if __name__ == "__main__":
    {"setup": setup, "w1": w1, "w2": w2, "w3": w3, "w4": w4, "report": report}[sys.argv[1]]()
