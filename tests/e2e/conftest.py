"""Shared fixtures of the e2e tests: the smelt binary, throwaway projects,
free ports, and servers started on 127.0.0.1 (always stopped)."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

SMELT = os.environ.get("SMELT_BIN") or str(Path(__file__).resolve().parents[2] / "build/stage/bin/smelt")
STAGE = os.environ.get("SMELT_STAGE") or str(Path(SMELT).resolve().parents[1])
SOURCE = Path(os.environ.get("SMELT_SOURCE") or Path(__file__).resolve().parents[2])
# MeltanoHub definitions, schemas and real lock files kept in the repository (see its SOURCE.md).
HUB_FIXTURES = SOURCE / "tests" / "fixtures" / "hub"
FAKES = Path(__file__).resolve().parent / "fakes"
LIBEXEC = Path(STAGE) / "libexec" / "smelt"


BUILD = Path(os.environ.get("SMELT_BUILD") or SOURCE / "build").resolve()
# One download cache for every tool install of a test run, beside the build folders, so the
# sanitizer build's second install of dbt, GX, Airflow or Superset comes from it.
TOOL_CACHE = Path(os.environ.get("SMELT_TOOL_CACHE") or BUILD.parent / "tool-cache")


def tool_env(extra=None):
    """Variables for commands that install or run Python tools: the shared package cache, and the
    test venv's bin (uv, which smelt's installer prefers) first on PATH."""
    env = {"UV_CACHE_DIR": str(TOOL_CACHE / "uv"), "PIP_CACHE_DIR": str(TOOL_CACHE / "pip"),
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin")}
    env.update(extra or {})
    return env


def clean_env(extra=None):
    """The environment a user's shell would give smelt: no stray SMELT_/MELTANO_ settings, plus
    tool_env()."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMELT_", "MELTANO_"))}
    env["NO_COLOR"] = "1"
    env.update(tool_env())
    # intercept_tls_get_addr=0: see scripts/run-tests.sh (a GCC 12 LeakSanitizer tracer crash at exit)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:intercept_tls_get_addr=0")
    if extra:
        env.update(extra)
    return env


def uv_venv(venv, *requirements):
    """A venv with requirements, through uv and the shared tool cache (pip when uv is missing)."""
    env = clean_env()
    uv = shutil.which("uv", path=env["PATH"])
    if uv:
        subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True, env=env)
        subprocess.run([uv, "pip", "install", "-q", "--python", str(venv / "bin/python"), *requirements],
                       check=True, env=env)
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin/pip"), "install", "-q", *requirements], check=True, env=env)
    return venv


class Smelt:
    def __init__(self, cwd):
        self.cwd = Path(cwd)

    def __call__(self, *args, env=None, timeout=600, check=None, input=None, cwd=None):
        proc = subprocess.run([SMELT, *map(str, args)], cwd=cwd or self.cwd, env=clean_env(env),
                              capture_output=True, text=True, timeout=timeout, input=input)
        if check is not None and proc.returncode != check:
            raise AssertionError(f"smelt {' '.join(map(str, args))} exited {proc.returncode}, want {check}\n"
                                 f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    def popen(self, *args, env=None):
        return subprocess.Popen([SMELT, *map(str, args)], cwd=self.cwd, env=clean_env(env),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def json(self, *args, **kw):
        proc = self(*args, check=0, **kw)
        return json.loads(proc.stdout)


@pytest.fixture
def project(tmp_path):
    """An empty folder for a project; write smelt.yml with project.write()."""
    class Project:
        root = tmp_path
        smelt = Smelt(tmp_path)

        def write(self, text, name="smelt.yml"):
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            return path

    return Project()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, deadline_s=60):
    end = time.time() + deadline_s
    while time.time() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {deadline_s}s")


def wait_until(pred, deadline_s=60, what="the condition"):
    """Poll pred() until it is truthy (returns its value); fail naming what was awaited. Use it
    instead of a bare sleep before acting on a running process: a loaded machine is slow."""
    end = time.time() + deadline_s
    while time.time() < end:
        value = pred()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"timed out after {deadline_s}s waiting for {what}")


def processes_matching(marker):
    """PIDs of live processes whose command line holds marker (zombies excluded)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1].split()[0]
        except OSError:
            continue
        if marker in cmd and state != "Z":
            found.append(int(pid))
    return found


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server on 127.0.0.1 (Debian's), in a temp dir, as the postgres user; stopped at the end."""
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not bindir:
        raise RuntimeError("PostgreSQL is not installed: run scripts/deps.sh test (make test does)")
    bindir = bindir[-1]
    base = Path(tempfile.mkdtemp(prefix="smelt-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    shutil.chown(base, "postgres")
    shutil.chown(sock, "postgres")
    port = free_port()
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run(as_pg + [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    log = base / "pg.log"
    subprocess.run(as_pg + [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o",
                            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sock}", "start"],
                   check=True, capture_output=True)
    try:
        wait_port(port)
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-c",
                        "ALTER USER postgres PASSWORD 'pg-secret-pw'"], check=True, capture_output=True)
        yield {"host": "127.0.0.1", "port": port, "user": "postgres", "password": "pg-secret-pw", "dbname": "postgres"}
    finally:
        subprocess.run(as_pg + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
