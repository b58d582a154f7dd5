"""The CLI frame, the five adapters, and an adapter built out of tree against the installed SDK."""
import json
import os
import shutil
import subprocess
from pathlib import Path

from conftest import SMELT, SOURCE, clean_env


def smelt(*args, env=None, cwd=None):
    return subprocess.run([SMELT, *args], capture_output=True, text=True, env=clean_env(env), cwd=cwd, timeout=120)


def test_version_and_help():
    proc = smelt("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("smelt, version ")
    proc = smelt("--help")
    assert proc.returncode == 0
    for cmd in ("init", "add", "install", "config", "invoke", "run", "state", "job", "schedule", "adapters"):
        assert f"\n  {cmd} " in proc.stdout


def test_unknown_command_suggests():
    proc = smelt("instal")
    assert proc.returncode == 2
    assert "did you mean 'install'?" in proc.stderr


def test_adapters_list_json_has_the_five():
    proc = smelt("adapters", "list", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    by_name = {a["name"]: a for a in data["adapters"]}
    assert set(by_name) >= {"singer", "dbt", "airflow", "gx", "superset"}
    assert set(by_name["singer"]["plugin_types"]) == {"extractors", "loaders", "mappers"}
    assert "orchestrators" in by_name["airflow"]["plugin_types"]
    assert "great_expectations" in by_name["gx"]["namespaces"]
    for a in by_name.values():
        assert a["abi"].startswith("1.") and os.path.exists(a["path"])
    assert data["refused"] == []


def test_bad_adapter_is_refused_and_others_load(tmp_path):
    (tmp_path / "broken.so").write_text("not an ELF file")
    proc = smelt("adapters", "list", "--format", "json", env={"SMELT_ADAPTER_PATH": str(tmp_path)})
    assert proc.returncode == 0
    data = json.loads(proc.stdout)
    assert len(data["adapters"]) >= 5
    assert any("broken.so" in r for r in data["refused"])


def test_unimplemented_operation_exits_2(tmp_path):
    # tests/adapters/ok.so claims namespace test_* and implements nothing but init/destroy
    adapters = tmp_path / "adapters"
    adapters.mkdir()
    shutil.copy(Path(os.environ.get("SMELT_BUILD") or SOURCE / "build") / "tests/adapters/ok.so", adapters)
    (tmp_path / "smelt.yml").write_text("""\
default_environment: dev
environments: [{name: dev}]
plugins:
  utilities:
  - name: thing
    namespace: test_thing
    commands:
      test_it: check
""")
    for args in (["run", "thing:go"], ["invoke", "thing"], ["test", "thing"]):
        proc = smelt(*args, cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert "not implemented yet" in proc.stderr


def test_out_of_tree_adapter(tmp_path):
    build = Path(os.environ.get("SMELT_BUILD") or SOURCE / "build")
    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", str(build), "--prefix", str(prefix)], check=True, capture_output=True)
    assert (prefix / "include/smelt/sdk.h").exists()
    pc_dir = next(prefix.glob("lib*/pkgconfig"))
    src = tmp_path / "adapter-hello"
    shutil.copytree(SOURCE / "examples/adapter-hello", src)
    env = dict(os.environ, PKG_CONFIG_PATH=str(pc_dir))
    env.pop("CFLAGS", None)
    subprocess.run(["make", "-C", str(src)], check=True, capture_output=True, env=env)
    installed = prefix / "bin/smelt"
    proc = subprocess.run([str(installed), "adapters", "list", "--format", "json"], capture_output=True, text=True,
                          env=clean_env({"SMELT_ADAPTER_PATH": str(src)}))
    assert proc.returncode == 0, proc.stderr
    names = {a["name"]: a for a in json.loads(proc.stdout)["adapters"]}
    assert "hello" in names and "singer" in names
    assert names["hello"]["namespaces"] == ["hello"]
    # and the installed smelt dispatches to it: a project utility in its namespace
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "smelt.yml").write_text("plugins:\n  utilities:\n  - name: greeter\n    namespace: hello\n")
    proc = subprocess.run([str(installed), "invoke", "greeter"], capture_output=True, text=True, cwd=proj,
                          env=clean_env({"SMELT_ADAPTER_PATH": str(src)}))
    assert proc.returncode == 0, proc.stderr
    assert "hello from greeter" in proc.stderr


def test_adapters_check(tmp_path):
    (tmp_path / "smelt.yml").write_text("default_environment: dev\nenvironments: [{name: dev}]\n")
    proc = smelt("adapters", "check", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    status = {a["name"]: a for a in json.loads(proc.stdout)["adapters"]}
    assert status["singer"]["status"] == "ok" and "native connectors in" in status["singer"]["message"]
    assert set(status) >= {"dbt", "gx", "airflow", "superset"}
