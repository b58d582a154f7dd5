"""`make package` (scripts/package.sh) builds the Debian packages smelt and smelt-dev from this source
tree (a tree of its own, configured for /usr), lintian reports no error, and the packages unpacked
with `dpkg-deb -x` into an empty root run the demo with nothing but that root: the binary finds its
adapters and native connectors relative to its own folder, so no `dpkg -i` is needed.  Registered in
the plain build only (it builds a whole tree)."""
import gzip
import json
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from conftest import SOURCE

MULTIARCH = subprocess.run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"], capture_output=True, text=True,
                           check=True).stdout.strip()
ARCH = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()
VERSION = re.search(r"project\(smelt VERSION (\S+)", (SOURCE / "CMakeLists.txt").read_text()).group(1)


@pytest.fixture(scope="module")
def debs(tmp_path_factory):
    build = tmp_path_factory.mktemp("pkg") / "build-pkg"
    env = {k: v for k, v in os.environ.items() if k not in ("CFLAGS", "LDFLAGS", "CPPFLAGS")}
    proc = subprocess.run(["make", "-s", "-C", str(SOURCE), "package", f"BUILD_PKG={build}"], capture_output=True,
                          text=True, env=env, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    paths = [Path(p) for p in proc.stdout.splitlines() if p.endswith(".deb")]
    return {subprocess.run(["dpkg-deb", "-f", str(p), "Package"], capture_output=True, text=True,
                           check=True).stdout.strip(): p for p in paths}


@pytest.fixture(scope="module")
def root(debs, tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    for deb in debs.values():
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


def field(deb, name):
    return subprocess.run(["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True,
                          check=True).stdout.strip()


def elf_files(deb):
    """The ELF files a package holds, unpacked into a folder of their own."""
    out = Path(str(deb) + ".x")
    if not out.exists():
        subprocess.run(["dpkg-deb", "-x", str(deb), str(out)], check=True)
    return [p for p in out.rglob("*") if p.is_file() and not p.is_symlink() and p.read_bytes()[:4] == b"\x7fELF"]


def needed_packages(elf):
    """The Debian packages that hold the shared libraries ELF needs (readelf's NEEDED, then dpkg -S)."""
    dyn = subprocess.run(["readelf", "-d", str(elf)], capture_output=True, text=True, check=True).stdout
    packages = set()
    for soname in re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", dyn):
        if soname.startswith("ld-linux"):
            continue
        owner = subprocess.run(["dpkg", "-S", f"*/{soname}"], capture_output=True, text=True)
        assert owner.returncode == 0, f"{elf.name} needs {soname}, which no installed package holds"
        packages |= {line.split(":")[0] for line in owner.stdout.splitlines() if f"/{MULTIARCH}/" in line}
    return packages


def root_env(root, extra=None):
    """Only the unpacked root and the system's own tools: no SMELT_ settings, no build tree on PATH."""
    env = {"PATH": f"{root}/usr/bin:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "NO_COLOR": "1",
           "LANG": "C.UTF-8"}
    env.update(extra or {})
    return env


def smelt(root, cwd, *args, extra=None, check=0):
    proc = subprocess.run(["smelt", *map(str, args)], cwd=cwd, env=root_env(root, extra), capture_output=True,
                          text=True, timeout=300)
    assert check is None or proc.returncode == check, \
        f"smelt {' '.join(map(str, args))} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_two_packages_with_computed_dependencies(debs):
    assert set(debs) == {"smelt", "smelt-dev"}
    assert debs["smelt"].name == f"smelt_{VERSION}-1_{ARCH}.deb"
    depends = field(debs["smelt"], "Depends")
    # from dpkg-shlibdeps: the packages of the libraries smelt, the adapters and the connectors link
    needed = set()
    for deb in debs.values():
        for elf in elf_files(deb):
            needed |= needed_packages(elf)
    # the package links SQLite and libyaml as shared libraries (Debian's policy: no embedded copies)
    assert {"libc6", "libcjson1", "libsqlite3-0", "libyaml-0-2"} <= needed, needed
    for lib in needed:
        assert lib in depends, (lib, depends)
    # dlopen()ed by the Hub client and by smelt serve, so named by hand
    assert "libcurl4" in depends, depends
    assert "libmicrohttpd12" in depends, depends
    assert field(debs["smelt-dev"], "Depends") == f"smelt (= {VERSION}-1)"


def test_lintian_reports_no_errors(debs):
    proc = subprocess.run(["lintian", "--fail-on", "error", *map(str, debs.values())], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not [line for line in proc.stdout.splitlines() if line.startswith("E:")], proc.stdout


def test_paths_follow_debian(root):
    usr = root / "usr"
    adapters = usr / "lib" / MULTIARCH / "smelt" / "adapters"
    assert (usr / "bin" / "smelt").is_file()
    assert {p.name for p in adapters.glob("*.so")} >= {"singer.so", "dbt.so", "gx.so", "airflow.so", "superset.so"}
    assert {p.name for p in (usr / "libexec" / "smelt").iterdir()} == {"tap-csv", "target-sqlite", "target-jsonl"}
    # adapter data lives in /usr/share/smelt; the adapter dir links to it (SMELT_PATH_ADAPTER_DATA)
    assert (usr / "share" / "smelt" / "gx" / "gx_runner.py").is_file()
    assert (adapters / "gx").is_symlink() and not os.readlink(adapters / "gx").startswith("/")
    assert (adapters / "gx" / "gx_runner.py").is_file()
    assert (adapters / "airflow" / "constraints-3.x-py3.11.txt").is_file()
    for pkg in ("smelt", "smelt-dev"):
        doc = usr / "share" / "doc" / pkg
        assert "Files: *" in (doc / "copyright").read_text()
        first = gzip.decompress((doc / "changelog.Debian.gz").read_bytes()).decode().splitlines()[0]
        assert first == f"smelt ({VERSION}-1) unstable; urgency=medium"
    assert (usr / "share" / "man" / "man1" / "smelt.1.gz").is_file()
    # smelt serve's contract and web UI (served from share/smelt beside bin/)
    assert json.loads((usr / "share" / "smelt" / "openapi.json").read_text())["openapi"].startswith("3.1")
    assert (usr / "share" / "smelt" / "ui" / "index.html").is_file()
    assert (usr / "share" / "bash-completion" / "completions" / "smelt").is_file()
    assert (usr / "share" / "zsh" / "vendor-completions" / "_smelt").is_file()
    for unit in ("smelt-run@.service", "smelt-run@.timer", "smelt-serve.service", "smelt.sysusers"):
        assert (usr / "share" / "doc" / "smelt" / "examples" / "systemd" / unit).is_file()
    assert (usr / "include" / "smelt" / "sdk.h").is_file()
    assert (usr / "lib" / MULTIARCH / "pkgconfig" / "smelt-sdk.pc").is_file()
    assert (usr / "share" / "doc" / "smelt-dev" / "ABI.md").is_file()


def test_man_page_in_package(root):
    page = root / "usr" / "share" / "man" / "man1" / "smelt.1.gz"
    proc = subprocess.run(["man", "--warnings", "-l", str(page)], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert "smelt adapters" in proc.stdout and "--run-id" in proc.stdout.replace("\u2010", "-")


def test_demo_runs_from_the_unpacked_root(root, tmp_path):
    assert shutil.which("smelt", path=root_env(root)["PATH"]) == str(root / "usr" / "bin" / "smelt")
    proj = tmp_path / "demo"
    smelt(root, tmp_path, "init", proj)
    smelt(root, proj, "add", "extractor", "tap-csv", "--variant", "smelt")
    smelt(root, proj, "add", "loader", "target-sqlite", "--variant", "smelt")
    (proj / "data").mkdir()
    (proj / "data" / "orders.csv").write_text("id,customer,amount\n1,ada,12.50\n2,grace,40.00\n3,alan,7.25\n")
    smelt(root, proj, "config", "tap-csv", "set", "files",
          '[{"entity": "orders", "path": "data/orders.csv", "keys": ["id"]}]')
    smelt(root, proj, "run", "tap-csv", "target-sqlite")
    with sqlite3.connect(proj / "output" / "warehouse.db") as db:
        rows = db.execute("SELECT id, customer, amount FROM orders ORDER BY id").fetchall()
    assert [(int(i), c, float(a)) for i, c, a in rows] == [(1, "ada", 12.5), (2, "grace", 40.0), (3, "alan", 7.25)]
    checked = {a["name"]: a for a in json.loads(smelt(root, proj, "adapters", "check", "--format", "json").stdout)["adapters"]}
    assert checked["singer"]["status"] == "ok"
    assert checked["singer"]["message"] == f"native connectors in '{root}/usr/libexec/smelt'"
    assert {"dbt", "gx", "airflow", "superset"} <= set(checked)
    listed = json.loads(smelt(root, proj, "adapters", "list", "--format", "json").stdout)
    paths = [a["path"] for a in listed["adapters"]]
    assert paths and all(p.startswith(str(root / "usr" / "lib" / MULTIARCH / "smelt" / "adapters")) for p in paths)
    assert listed["refused"] == []


def test_sdk_example_builds_against_smelt_dev_and_loads(root, tmp_path):
    src = tmp_path / "adapter-hello"
    shutil.copytree(root / "usr" / "share" / "doc" / "smelt-dev" / "examples" / "adapter-hello", src)
    pc = root / "usr" / "lib" / MULTIARCH / "pkgconfig"
    env = root_env(root, {"PKG_CONFIG_PATH": str(pc), "PKG_CONFIG_LIBDIR": str(pc)})
    cflags = subprocess.run(["pkg-config", "--cflags", "smelt-sdk"], capture_output=True, text=True, env=env,
                            check=True).stdout
    include = cflags.split()[0]
    assert include.startswith("-I") and Path(include[2:]).resolve() == root / "usr" / "include", cflags
    proc = subprocess.run(["make", "-C", str(src)], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "smelt.yml").write_text("plugins:\n  utilities:\n  - name: greeter\n    namespace: hello\n")
    (proj / "adapters").mkdir()
    shutil.copy(src / "hello.so", proj / "adapters" / "hello.so")
    listed = json.loads(smelt(root, proj, "adapters", "list", "--format", "json").stdout)
    assert "hello" in [a["name"] for a in listed["adapters"]]
    proc = smelt(root, proj, "invoke", "greeter")
    assert "hello from greeter" in proc.stderr, proc.stderr
