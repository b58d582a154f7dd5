#!/usr/bin/env python3
"""Smelt against the machine's limit and against the peers a user would pick
instead (issue 19, "round 2").  Driven by bench/run-all after bench.py setup:

    python3 bench/peers.py setup|w5|w6|w7|w8|w8cpu|report

W5  CSV into SQLite, 1M rows x 10 columns: the limit (bench/csv_limit.c: one
    prepared statement, one transaction), `smelt run` of the native pair, the
    raw shell pipe of the same two programs, `sqlite3 .import`, Sling, dlt
    (into SQLite and DuckDB) and `meltano run` of its fastest pair (the same
    native connectors: Meltano cannot run anything faster).
W6  JSONL out: `smelt run tap-csv target-jsonl` against `jq -c .` over the same
    records and the limit of `cat`.
W7  installs of the demo project's Python plugins (dbt-sqlite, gx): `smelt
    install` against `meltano install` on copies of the same project (Meltano's
    default uv backend and its virtualenv+pip one) and against uv alone, cold
    (empty caches), with warm caches and rebuilt venvs (--clean), and warm
    (nothing changed), in interleaved rounds (W7_ROUNDS, W7_RUNNERS=0,1,...).
W8  scale: a catalog of 1,000 (and 2,000) streams x 50 properties and a project
    of 200 plugins: `select --list`, `config list`, the start of a run, against
    Meltano.  `w8cpu`: the CPU time of `select --list` and of a run's start, the first after a
    change (nothing prepared) and the next, at 1,000-4,000 streams, this build against the build
    in $SMELT_BENCH_BASE, alternately (perf stat).

Results are added to $SMELT_BENCH_WORK/results.json; `report` prints tables.
Environment as bench.py (SMELT_BENCH_BUILD, SMELT_BENCH_WORK, QUICK=1).
"""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (shared paths, venv(), measure(), hyperfine(), save()/load())
from bench import LIBEXEC, MELTANO_VENV, QUICK, SMELT, WORK, W2_ROWS, env_for_runners, hyperfine, measure, save, sh, venv  # noqa: E402

LIMIT = bench.BUILD / "bench/bench-csv-limit"
SLING_VENV = WORK / "sling-venv"
DLT_VENV = WORK / "dlt-venv"
CSV = WORK / "w2.csv"
JSONL = WORK / "w2.jsonl"
RUNS = 3 if QUICK else 5


def sling_binary():
    found = list(SLING_VENV.glob("lib/python*/site-packages/sling_linux_amd64/bin/sling-linux-amd64"))
    if not found:
        raise RuntimeError("sling-linux-amd64 is not installed in the sling venv")
    found[0].chmod(0o755)
    return found[0]


def setup():
    # Sling's PyPI package downloads its binary at first use unless the platform package is installed;
    # the platform package carries the binary itself (SLING_BINARY points at it).
    venv(SLING_VENV, "sling", "sling-linux-amd64")
    venv(DLT_VENV, "dlt[duckdb,sqlalchemy]")
    (WORK / "dlt_load.py").write_text(DLT_SCRIPT)


# dlt reading the CSV with the csv module (dlt's own filesystem source needs fsspec and a bucket URL; the
# csv module is what a user of dlt writes for a local file) and loading it in one pipeline run.
DLT_SCRIPT = '''\
import csv, sys, dlt
path, destination, target = sys.argv[1], sys.argv[2], sys.argv[3]

@dlt.resource(name="rows", primary_key="id", write_disposition="replace")
def rows():
    with open(path, newline="") as f:
        yield from csv.DictReader(f)

if destination == "sqlite":
    dest = dlt.destinations.sqlalchemy(credentials=f"sqlite:///{target}")
else:
    dest = dlt.destinations.duckdb(credentials=target)
pipe = dlt.pipeline(pipeline_name="bench_" + destination, destination=dest, dataset_name="main",
                    pipelines_dir=sys.argv[4])
info = pipe.run(rows())
info.raise_on_failed_jobs()
'''


def peers_project():
    """A smelt.yml and a meltano.yml with the native pair (absolute executables, as bench.py does)."""
    text = f"""\
version: 1
default_environment: dev
project_id: 00000000-0000-4000-8000-000000000005
send_anonymous_usage_stats: false
environments:
- name: dev
plugins:
  extractors:
  - name: tap-csv
    namespace: tap_csv_native
    executable: {LIBEXEC}/tap-csv
    capabilities: [catalog, discover, state]
    config:
      files:
      - {{entity: rows, path: {CSV}, keys: [id]}}
  loaders:
  - name: target-sqlite
    namespace: target_sqlite_native
    executable: {LIBEXEC}/target-sqlite
    config: {{database: {WORK}/w5-out.db}}
  - name: target-jsonl
    namespace: target_jsonl_native
    executable: {LIBEXEC}/target-jsonl
    config: {{destination_path: {WORK}/w6-out}}
"""
    dirs = {}
    for runner, file in (("smelt", "smelt.yml"), ("meltano", "meltano.yml")):
        d = WORK / f"peers-{runner}"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        (d / file).write_text(text)
        dirs[runner] = d
    return dirs


def w5():
    dirs = peers_project()
    db = WORK / "w5-out.db"
    prep = f"rm -rf {db} {db}-wal {db}-shm {WORK}/w5-dlt {WORK}/w5-dlt.duckdb {WORK}/w5-dlt.db {WORK}/w5-sling.db"
    sling = sling_binary()
    env = env_for_runners()
    env["SLING_BINARY"] = str(sling)
    env["SLING_HOME_DIR"] = str(WORK / "sling-home")
    commands = [
        ("limit (C, one prepared statement)", f"{LIMIT} {CSV} {db} rows"),
        ("smelt run tap-csv target-sqlite", f"{SMELT} run --full-refresh tap-csv target-sqlite"),
        ("raw pipe tap-csv | target-sqlite",
         f"sh -c '{LIBEXEC}/tap-csv --config {WORK}/w5-tap.json | {LIBEXEC}/target-sqlite --config {WORK}/w5-tgt.json >/dev/null'"),
        ("sqlite3 .import", f"sqlite3 {db} \".import --csv {CSV} rows\""),
    ]
    slow = [  # a minute or more each: one run
        ("sling", [sling, "run", "--src-stream", f"file://{CSV}", "--tgt-conn", f"sqlite://{WORK}/w5-sling.db",
                   "--tgt-object", "main.rows"], None),
        ("dlt -> sqlite", [DLT_VENV / "bin/python", WORK / "dlt_load.py", CSV, "sqlite", WORK / "w5-dlt.db", WORK / "w5-dlt"],
         None),
        ("dlt -> duckdb", [DLT_VENV / "bin/python", WORK / "dlt_load.py", CSV, "duckdb", WORK / "w5-dlt.duckdb",
                           WORK / "w5-dlt"], None),
        ("meltano run (same native pair)",
         [MELTANO_VENV / "bin/meltano", "run", "--full-refresh", "tap-csv", "target-sqlite"], dirs["meltano"]),
    ]
    (WORK / "w5-tap.json").write_text(json.dumps({"files": [{"entity": "rows", "path": str(CSV), "keys": ["id"]}]}))
    (WORK / "w5-tgt.json").write_text(json.dumps({"database": str(db)}))
    out = WORK / "hf-w5.json"
    args = ["hyperfine", "-N", "--style", "basic", "--runs", str(RUNS), "--prepare", prep, "--export-json", str(out)]
    for label, cmd in commands:
        args += ["-n", label, cmd]
    sh(*args, cwd=dirs["smelt"], env=env)
    res = {r["command"]: {"mean_s": r["mean"], "median_s": r["median"], "stddev_s": r["stddev"]}
           for r in json.loads(out.read_text())["results"]}
    save("w5", {"rows": W2_ROWS, "results": res})
    for label, argv, cwd in slow:
        sh("sh", "-c", prep)
        try:
            res[label] = {"mean_s": measure(argv, cwd or WORK, env)["wall_s"], "runs": 1}
        except RuntimeError as e:
            res[label] = {"error": str(e)}
        save("w5", {"rows": W2_ROWS, "results": res})
    rows = subprocess.run(["sqlite3", str(db), "select count(*) from rows"], capture_output=True, text=True).stdout
    save("w5", {"rows": W2_ROWS, "results": res, "check_rows_meltano": rows.strip()})


def w6():
    dirs = peers_project()
    out = WORK / "w6-out"
    prep = f"rm -rf {out} {WORK}/w6-jq.jsonl {WORK}/w6-cat.jsonl"
    commands = [
        ("cat (the limit)", f"sh -c 'cat {JSONL} > {WORK}/w6-cat.jsonl'"),
        ("jq -c .", f"sh -c 'jq -c . {JSONL} > {WORK}/w6-jq.jsonl'"),
        ("smelt run tap-csv target-jsonl", f"{SMELT} run --full-refresh tap-csv target-jsonl"),
    ]
    res = hyperfine("w6", commands, RUNS, dirs["smelt"], prepare=prep)
    save("w6", {"rows": W2_ROWS, "results": res})


def demo_pip_urls():
    """The pip_urls of the demo's Python plugins, as smelt resolves them (its lock files)."""
    d = WORK / "w7-probe"
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(bench.BUILD.parent / "examples/demo", d)
    sh(SMELT, "lock", "--all", cwd=d, stdout=subprocess.DEVNULL)
    urls = {}
    for lock in d.glob("plugins/*/*.lock"):
        data = json.loads(lock.read_text())
        if data.get("pip_url") and data["name"] in ("dbt-sqlite", "gx"):
            urls[data["name"]] = (data["pip_url"], data.get("executable") or data["name"], lock.parent.name)
    return urls


W7_ROUNDS = int(os.environ.get("W7_ROUNDS", 2 if QUICK else 5))


def w7_runners(urls):
    """The runners of W7: (label, kind, extra environment).  Meltano 4.4.1's default venv.backend is uv
    (since 3.8.0; uv is one of its dependencies and it runs the uv of its own venv, not the PATH's);
    venv.backend=virtualenv is its other backend (virtualenv + pip), shown for reference."""
    return [
        ("smelt install", "smelt", {}),
        ("meltano install (default: venv.backend=uv)", "meltano", {}),
        ("meltano install (venv.backend=virtualenv: pip)", "meltano", {"MELTANO_VENV_BACKEND": "virtualenv"}),
        ("uv alone (uv venv + uv pip install, in parallel)", "uv", {}),
        ("smelt install, no uv (SMELT_NO_UV=1: venv + pip)", "smelt", {"SMELT_NO_UV": "1"}),
        ("smelt install, every requirement pinned", "smelt", {"_pinned": "1"}),
        ("meltano install (default: uv), every requirement pinned", "meltano", {"_pinned": "1"}),
    ] + ([  # A/B: another smelt binary (e.g. the commit before a change), same rounds
        ("smelt install (before)", "smelt", {"_bin": os.environ["W7_BEFORE"]}),
        ("smelt install, no uv (before)", "smelt", {"_bin": os.environ["W7_BEFORE"], "SMELT_NO_UV": "1"}),
    ] if os.environ.get("W7_BEFORE") else [])


def w7_pins(urls):
    """Every requirement of each plugin pinned exactly (the versions a resolving install picks today, from
    `uv pip freeze`): the pip_urls of a project that locks its plugins' whole dependency trees."""
    import shlex
    pins, uv = {}, shutil.which("uv", path=env_for_runners()["PATH"])
    tmp = WORK / "w7-pins"
    shutil.rmtree(tmp, ignore_errors=True)
    env = dict(env_for_runners(), UV_CACHE_DIR=str(tmp / "cache"))
    for name, (pip_url, exe, ptype) in urls.items():
        v = tmp / name
        sh(uv, "venv", "-q", "--python", "python3", v, env=env)
        sh(uv, "pip", "install", "-q", "--python", v / "bin/python", *shlex.split(pip_url), env=env)
        frozen = subprocess.run([uv, "pip", "freeze", "--python", str(v / "bin/python")], env=env, check=True,
                                capture_output=True, text=True).stdout.split()
        pins[name] = (" ".join(frozen), exe, ptype)
    shutil.rmtree(tmp, ignore_errors=True)
    return pins


def w7_meltano_yml(urls):
    plugins = {"transformers": [], "utilities": []}
    for name, (pip_url, exe, ptype) in sorted(urls.items()):
        plugins.setdefault(ptype, []).append(
            f"  - name: {name}\n    namespace: {name.replace('-', '_')}\n    pip_url: {pip_url}\n    executable: {exe}\n")
    return ("version: 1\ndefault_environment: dev\nproject_id: 00000000-0000-4000-8000-000000000007\n"
            "send_anonymous_usage_stats: false\nenvironments:\n- name: dev\nplugins:\n" +
            "".join(f"  {t}:\n" + "".join(v) for t, v in plugins.items() if v))


def w7_project(kind, d, meltano_yml, pins=None):
    shutil.rmtree(d, ignore_errors=True)
    if kind == "smelt":
        shutil.copytree(bench.BUILD.parent / "examples/demo", d)
        if pins:  # the demo with each Python plugin's pip_url pinned (the smelt.yml entry overrides the lock's)
            text = (d / "smelt.yml").read_text()
            for name, (pip_url, _exe, _t) in pins.items():
                text = text.replace(f"  - name: {name}\n    variant: smelt\n",
                                    f"  - name: {name}\n    variant: smelt\n    pip_url: {pip_url}\n")
            (d / "smelt.yml").write_text(text)
    else:
        d.mkdir(parents=True)
        if kind == "meltano":
            (d / "meltano.yml").write_text(w7_meltano_yml(pins) if pins else meltano_yml)


def w7_install(kind, d, env, urls, clean=False):
    """One install of the two plugins; returns the wall time (raises on failure)."""
    import shlex
    t0 = time.monotonic()
    if kind == "uv":  # the floor: what both tools run, without either tool
        uv = shutil.which("uv", path=env["PATH"])
        procs = []
        for name, (pip_url, _exe, _t) in sorted(urls.items()):
            venv = d / name
            script = (f"{shlex.quote(uv)} venv --quiet --clear --python python3 {shlex.quote(str(venv))} && "
                      f"{shlex.quote(uv)} pip install --quiet --python {shlex.quote(str(venv / 'bin/python'))} "
                      + " ".join(shlex.quote(w) for w in shlex.split(pip_url)))
            procs.append(subprocess.Popen(["sh", "-c", script], cwd=d, env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE, text=True))
        errs = [(p.communicate()[1], p.returncode) for p in procs]
        wall = time.monotonic() - t0
        for e, rc in errs:
            if rc:
                raise RuntimeError(e[-400:])
        return wall
    argv = [env.get("_bin", SMELT), "install"] if kind == "smelt" else [MELTANO_VENV / "bin/meltano", "install"]
    if clean:
        argv.append("--clean")
    p = subprocess.run([str(a) for a in argv], cwd=d, env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if p.returncode:
        raise RuntimeError((p.stderr or p.stdout)[-400:])
    return wall


def w7():
    """Interleaved rounds: in each round every runner does, in a rotating order, a cold install (a fresh
    copy of the project, empty uv/pip caches), a --clean install with the caches that install filled
    (uv offline: no download, so this is the tools' own work), and warm installs (nothing changed)."""
    urls = demo_pip_urls()
    meltano_yml = w7_meltano_yml(urls)
    runners = w7_runners(urls)
    only = os.environ.get("W7_RUNNERS")  # e.g. "0,1": a subset, by index
    if only:
        runners = [runners[int(i)] for i in only.split(",")]
    pins = w7_pins(urls) if any("_pinned" in e for _l, _k, e in runners) else None
    res = {label: {"cold_s": [], "clean_cached_s": [], "warm_s": [], "errors": []} for label, _k, _e in runners}
    loads = []
    for r in range(W7_ROUNDS):
        order = runners[r % len(runners):] + runners[:r % len(runners)]
        for label, kind, extra in order:
            loads.append(os.getloadavg()[0])
            d = WORK / f"w7-{kind}"
            w7_project(kind, d, meltano_yml, pins if "_pinned" in extra else None)
            cache = WORK / "w7-cache"
            shutil.rmtree(cache, ignore_errors=True)
            env = env_for_runners()
            env.update(UV_CACHE_DIR=str(cache / "uv"), PIP_CACHE_DIR=str(cache / "pip"), XDG_CACHE_HOME=str(cache),
                       **extra)
            row = res[label]
            try:
                row["cold_s"].append(w7_install(kind, d, env, urls))
                if kind == "smelt":  # uv's own account of the cold install: resolve, download+unpack, link
                    import re
                    phases = {}
                    for log in sorted(d.glob(".smelt/*/*/install.log")):
                        phases[log.parent.name] = [" ".join(m.split()) for m in re.findall(
                            r"^(?:Resolved|Prepared|Installed) \d+ packages? in [\d.]+m?s", log.read_text(), re.M)]
                    row.setdefault("uv_phases", []).append(phases)
                env["UV_OFFLINE"] = "1"
                row["clean_cached_s"].append(w7_install(kind, d, env, urls, clean=True))
                if kind != "uv":
                    warm = sorted(w7_install(kind, d, env, urls) for _ in range(3))
                    row["warm_s"].append(warm[1])
            except RuntimeError as e:
                row["errors"].append(str(e))
            print(f"w7 round {r + 1} {label}: " + ", ".join(
                f"{k} {v[-1]:.2f}s" for k, v in row.items() if k.endswith("_s") and v), file=sys.stderr)
            shutil.rmtree(cache, ignore_errors=True)
            save("w7", {"plugins": sorted(urls), "rounds": W7_ROUNDS, "load": loads, "results": res, "pins": pins})


def catalog(streams, props):
    return {"streams": [{
        "tap_stream_id": f"stream_{s}", "stream": f"stream_{s}",
        "schema": {"type": "object", "properties": {f"p{p}": {"type": ["null", "string"]} for p in range(props)}},
        "metadata": [{"breadcrumb": [], "metadata": {"inclusion": "available", "table-key-properties": ["p0"]}}] +
                    [{"breadcrumb": ["properties", f"p{p}"], "metadata": {"inclusion": "available"}}
                     for p in range(props)]} for s in range(streams)]}


def scale_project(d, file, streams, plugins):
    """A project of `plugins` extractors; the first has a static catalog of `streams` streams and select rules."""
    cat = d / f"catalog-{streams}.json"
    cat.write_text(json.dumps(catalog(streams, 50)))
    tap = d / "tap.sh"  # a tap that emits nothing: the run's start is what is measured
    tap.write_text("#!/bin/sh\nexit 0\n")
    tap.chmod(0o755)
    lines = ["version: 1", "default_environment: dev", "project_id: 00000000-0000-4000-8000-000000000008",
             "send_anonymous_usage_stats: false", "environments:", "- name: dev", "plugins:", "  extractors:"]
    for i in range(plugins):
        lines += [f"  - name: tap-{i}", f"    namespace: tap_{i}", f"    executable: {tap}",
                  "    capabilities: [catalog, discover]",
                  f"    settings: [{{name: s1}}, {{name: s2, kind: password}}, {{name: s3, kind: integer}}]",
                  f"    config: {{s1: v{i}, s3: {i}}}"]
        if i == 0:
            # one stream in ten selected (and one property of another tenth), whatever the number of
            # streams, so that doubling the streams doubles the work (stream_1* selected 111 of 1,000
            # streams but 1,111 of 2,000)
            lines += [f"    catalog: {cat}", "    select: ['stream_*7.*', '!stream_*7.p4*', 'stream_*3.p1']"]
    lines += ["  loaders:", "  - name: sink", "    namespace: sink", f"    executable: {bench.SINK}"]
    (d / file).write_text("\n".join(lines) + "\n")


def w8():
    res = {}
    for streams, plugins in ((1000, 200), (2000, 200), (1000, 400)):
        key = f"{streams} streams, {plugins} plugins"
        dirs = {}
        for runner, file in (("smelt", "smelt.yml"), ("meltano", "meltano.yml")):
            d = WORK / f"w8-{runner}-{streams}-{plugins}"
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir(parents=True)
            scale_project(d, file, streams, plugins)
            dirs[runner] = d
        row = {}
        # "run start, first": no catalog prepared by an earlier run (plugins/singer/prepared.h), as after
        # a change of the catalog or of the select rules
        first = f"sh -c 'rm -f {dirs['smelt']}/.smelt/run/tap-0/tap.prepared.*'"
        for label, args, prepare in (("select --list", ["select", "tap-0", "--list"], None),
                                     ("config list", ["config", "list", "tap-199"], None),
                                     ("run start, first", ["run", "tap-0", "sink"], first),
                                     ("run start", ["run", "tap-0", "sink"], None)):
            hf = hyperfine(f"w8-{streams}-{plugins}-{label.replace(' ', '').replace(',', '')}",
                           [("smelt", f"{SMELT} {' '.join(args)}")], 3 if QUICK else 10, dirs["smelt"],
                           prepare=prepare)
            try:
                m = measure([MELTANO_VENV / "bin/meltano", *args], dirs["meltano"])["wall_s"]
            except RuntimeError as e:
                m = str(e)
            row[label] = {"smelt_s": hf["smelt"]["median_s"], "meltano_s": m}
        res[key] = row
    save("w8", res)


def perf_cpu(argv, cwd, runs, pre=None):
    """CPU time (perf stat task-clock: user+sys, children included) of argv, mean of runs, in seconds."""
    args = ["perf", "stat", "-x,", "-r", str(runs), "-e", "task-clock"] + (["--pre", pre] if pre else [])
    p = subprocess.run(args + [str(a) for a in argv], cwd=cwd, env=env_for_runners(), stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, check=True)
    for line in p.stderr.splitlines():
        f = line.split(",")
        if len(f) > 3 and f[2] == "task-clock":
            return float(f[0]) / 1000
    raise RuntimeError(f"no task-clock from perf stat: {p.stderr}")


def w8cpu():
    """W8 round 4: CPU time of select --list and of the start of a run, the first after a change (nothing
    prepared: plugins/singer/prepared.h) and the next, at 1,000, 2,000 and 4,000 streams; this build against
    $SMELT_BENCH_BASE (another build dir, e.g. of the commit before), alternately, the lower of two rounds of
    `perf stat -r 5` each.  Meltano is not rerun here (its CPU time is in BENCHMARKS.md)."""
    base = Path(os.environ["SMELT_BENCH_BASE"]).resolve() / "stage/bin/smelt"
    rounds, runs = (1, 3) if QUICK else (2, 5)
    res = {}
    for streams in (1000, 2000, 4000):
        d = WORK / f"w8cpu-{streams}"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        scale_project(d, "smelt.yml", streams, 200)
        first = f"rm -f {d}/.smelt/run/tap-0/tap.prepared.*"
        row = {}
        for label, args, pre in (("select --list, first", ["select", "tap-0", "--list"], first),
                                 ("select --list", ["select", "tap-0", "--list"], None),
                                 ("run start, first", ["run", "tap-0", "sink"], first),
                                 ("run start", ["run", "tap-0", "sink"], None)):
            got = {"base": [], "now": []}
            for _ in range(rounds):
                for name, exe in (("base", base), ("now", SMELT)):
                    sh(exe, *args, cwd=d, env=env_for_runners(), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)  # works; prepares
                    got[name].append(perf_cpu([exe, *args], d, runs, pre))
            row[label] = {k: min(v) for k, v in got.items()}
            print(f"w8cpu {streams} {label}: base {row[label]['base'] * 1000:.1f} ms, "
                  f"now {row[label]['now'] * 1000:.1f} ms", flush=True)
        res[str(streams)] = row
    save("w8cpu", res)


def fmt(s):
    return f"{s:.3f} s" if s >= 1 else f"{s * 1000:.1f} ms"


def report():
    d = bench.load()
    if "w5" in d:
        r = d["w5"]["results"]
        limit = r["limit (C, one prepared statement)"]["mean_s"]
        print(f"\n## W5 CSV into a database, {d['w5']['rows']} rows x 10 columns (mean of {RUNS} runs; Sling, dlt and Meltano: one run)\n")
        print("| runner | wall | rows/s | limit/runner |\n|---|---|---|---|")
        for label, v in r.items():
            if "error" in v:
                print(f"| {label} | failed | | |")
                continue
            print(f"| {label} | {fmt(v['mean_s'])} | {d['w5']['rows'] / v['mean_s']:,.0f} | {limit / v['mean_s']:.0%} |")
    if "w6" in d:
        r = d["w6"]["results"]
        print(f"\n## W6 JSONL out, {d['w6']['rows']} records\n")
        print("| runner | wall | cat/runner |\n|---|---|---|")
        cat = r["cat (the limit)"]["mean_s"]
        for label, v in r.items():
            print(f"| {label} | {fmt(v['mean_s'])} | {cat / v['mean_s']:.0%} |")
    if "w7" in d:
        import statistics
        w = d["w7"]
        r = w["results"]
        med = lambda v: statistics.median(v) if v else None  # noqa: E731
        load = w.get("load") or [0]
        print(f"\n## W7 installs of {', '.join(w['plugins'])} (medians of {w.get('rounds', 1)} interleaved rounds; "
              f"load average {min(load):.1f}-{max(load):.1f}, median {statistics.median(load):.1f})\n")
        print("| runner | cold | caches warm, venvs rebuilt (--clean, uv offline) | warm (nothing changed) | rounds |")
        print("|---|---|---|---|---|")
        for k, v in r.items():
            cells = [fmt(med(v[m])) if v.get(m) else "-" for m in ("cold_s", "clean_cached_s", "warm_s")]
            print(f"| {k} | {' | '.join(cells)} | {len(v['cold_s'])}{' (' + str(len(v['errors'])) + ' failed)' if v['errors'] else ''} |")
        s = r.get("smelt install", {})
        for k, v in r.items():
            if k.startswith("meltano") and s.get("cold_s") and v.get("cold_s"):
                print(f"\n{k} / smelt: cold {med(v['cold_s']) / med(s['cold_s']):.1f}x (goal 3x), "
                      f"caches warm {med(v['clean_cached_s']) / med(s['clean_cached_s']):.1f}x, "
                      f"warm {med(v['warm_s']) / med(s['warm_s']):.0f}x")
    if "w8" in d:
        print("\n## W8 scale of a project (median of 10 smelt runs; Meltano one run)\n")
        print("| project | command | smelt | meltano | meltano/smelt |\n|---|---|---|---|---|")
        for key, row in d["w8"].items():
            for label, v in row.items():
                m = v["meltano_s"]
                ratio = f"{m / v['smelt_s']:.0f}x" if isinstance(m, float) else "failed"
                print(f"| {key} | {label} | {fmt(v['smelt_s'])} | {fmt(m) if isinstance(m, float) else 'failed'} | {ratio} |")


if __name__ == "__main__":
    {"setup": setup, "w5": w5, "w6": w6, "w7": w7, "w8": w8, "w8cpu": w8cpu, "report": report}[sys.argv[1]]()
