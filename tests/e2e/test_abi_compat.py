"""ABI compatibility: an adapter built against the frozen 1.1 header (tests/adapters/abi_1_1/)
loads and works in this 1.2 host; one that claims a newer minor is refused, naming its file and
both versions."""
import json
import os

from conftest import BUILD, Smelt

COMPAT = BUILD / "tests" / "adapters" / "compat"
ADAPTERS = BUILD / "tests" / "adapters"

PROJECT = """\
default_environment: dev
environments: [{name: dev}]
plugins:
  utilities:
  - name: legacy-thing
    namespace: legacy_thing
"""


def env():
    return {"SMELT_ADAPTER_PATH": str(COMPAT)}


def test_a_1_1_adapter_runs_a_pipeline_and_reports_in_the_1_2_host(project):
    project.write(PROJECT)
    proc = project.smelt("run", "legacy-thing:pipe", env=env(), check=0)
    out = (project.root / "legacy11.out").read_text()
    # the last stage's lines reached on_line; every exit landed in its own 1.1-sized slot
    assert out == ("got ONE\ngot TWO\ngot THREE\n"
                   "stage 0: exited 1 code 0 signaled 0 not_started 0\n"
                   "stage 1: exited 1 code 0 signaled 0 not_started 0\n"
                   "stage 2: exited 1 code 0 signaled 0 not_started 0\n"
                   "run: exited 1 code 3 signaled 0 not_started 0\n"
                   "canaries: intact intact\n")
    # its events are the block's result in the run summary
    assert "legacy-thing:pipe  ok" in proc.stdout + proc.stderr
    assert "lines 3 rows; 3 checks: 3 passed" in proc.stdout + proc.stderr


def test_a_1_1_adapter_is_listed_with_its_commands_and_health(project):
    project.write(PROJECT)
    listed = project.smelt.json("adapters", "list", "--format", "json", env=env())
    legacy = next(a for a in listed["adapters"] if a["name"] == "legacy11")
    assert legacy["abi"] == "1.1" and legacy["commands"] == ["pipe", "spare"]
    assert legacy["path"] == str(COMPAT / "legacy11.so")
    cmds = project.smelt("invoke", "--list-commands", "legacy-thing", env=env(), check=0).stdout
    assert cmds.splitlines()[1:] == [
        "  legacy-thing:pipe             a pipeline of three stages, then one process",
        "  legacy-thing:spare            a second entry, so the host must step through the table"]
    checked = {a["name"]: a for a in
               project.smelt.json("adapters", "check", "--format", "json", env=env())["adapters"]}
    # a 1.1 health op still answers, through its status and error buffer
    assert checked["legacy11"] == {"name": "legacy11", "status": "ok", "healthy": True,
                                   "message": "legacy is fine"}
    assert checked["singer"]["healthy"] is True and checked["singer"]["status"] == "ok"
    # an adapter without a health check loaded fine: usable, as the exit code (0) says, not "unhealthy"
    unchecked = [a for a in checked.values() if a["status"] == "no health check"]
    assert unchecked and all(a["healthy"] is True for a in unchecked), checked


def test_an_adapter_claiming_1_3_is_refused_naming_the_file_and_both_versions(project):
    project.write(PROJECT)
    listed = project.smelt.json("adapters", "list", "--format", "json",
                                env={"SMELT_ADAPTER_PATH": f"{COMPAT}{os.pathsep}{ADAPTERS}"})
    assert f"adapter '{ADAPTERS}/abi_minor_newer.so' needs ABI 1.3, host has 1.2 (adapter is newer)" \
        in listed["refused"]
    assert "legacy11" in [a["name"] for a in listed["adapters"]]
    assert "test_newer" not in [a["name"] for a in listed["adapters"]]


SIZES = PROJECT.replace("legacy-thing\n    namespace: legacy_thing", "sizes-thing\n    namespace: sizes_thing")


def test_structs_of_the_wrong_size_are_refused_not_read(project):
    project.write(SIZES)
    cases = {"exit0": "struct smelt_exit has struct_size 0; set it to sizeof(struct smelt_exit)",
             "mixed": "pipeline stage 1 has struct_size 56, stage 0 64: every stage must have the same",
             "spawn0": "struct smelt_spawn has struct_size 0; want 64 to 64"}
    for case, message in cases.items():
        proc = project.smelt("run", f"sizes-thing:{case}", env=env())
        assert proc.returncode == 1, proc.stderr
        assert message in proc.stderr, proc.stderr
    proc = project.smelt("run", "sizes-thing:event0", env=env(), check=0)
    assert "adapter 'struct_sizes': an event of 0 bytes was ignored (struct smelt_event has at least 56)" \
        in proc.stderr
    assert "never shown" not in proc.stdout + proc.stderr
