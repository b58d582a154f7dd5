"""Adapters built like a third party builds them (issue 15): plugins/soda and plugins/dagster are each
their own CMake project that the build configures against the SDK installed into the stage
(cmake/OutOfTree.cmake).  Their sources use nothing of host/ or plugins/kit, their compile finds
<smelt/sdk.h> through the installed smelt-sdk.pc only, their .so links nothing of the host, and the
staged smelt loads them with the definitions they ship."""
import json
import os
import re
import subprocess
from pathlib import Path

from conftest import Smelt

SOURCE = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("SMELT_BUILD") or SOURCE / "build")
OOT = ["soda", "dagster", "evidence"]


def test_sources_use_only_the_installed_sdk():
    for tool in OOT:
        src = SOURCE / "plugins" / tool
        for f in list(src.glob("*.c")) + list(src.glob("*.h")):
            for inc in re.findall(r'^\s*#\s*include\s*(\S+)', f.read_text(), re.M):
                assert inc.startswith("<"), f"{f.name} includes {inc}: an out-of-tree adapter has only the SDK"
                assert "kit" not in inc and "host" not in inc, f"{f.name} includes {inc}"
        cmake = (src / "CMakeLists.txt").read_text()
        assert "project(" in cmake and "pkg_check_modules(SMELT_SDK REQUIRED IMPORTED_TARGET smelt-sdk)" in cmake
        assert not re.search(r"\.\./|host/|plugins/kit|smelt_adapter_kit|smelt_sdk\b", cmake), tool


def test_built_against_the_staged_prefix_and_links_nothing_of_the_host():
    stage = (BUILD / "stage").resolve()
    for tool in OOT:
        cache = (BUILD / "oot" / tool / "CMakeCache.txt").read_text()
        inc = re.search(r"^SMELT_SDK_INCLUDE_DIRS:INTERNAL=(.*)$", cache, re.M).group(1)
        assert Path(inc).resolve() == stage / "include", inc
        assert (stage / "include" / "smelt" / "sdk.h").read_bytes() == \
            (SOURCE / "sdk" / "include" / "smelt" / "sdk.h").read_bytes()
        so = next(stage.glob(f"lib*/smelt/adapters/{tool}.so"))
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.*)\]",
                            subprocess.run(["readelf", "-d", str(so)], capture_output=True, text=True,
                                           check=True).stdout)
        assert not [n for n in needed if "smelt" in n], needed
        undefined = subprocess.run(["nm", "-D", "--undefined-only", str(so)], capture_output=True, text=True,
                                   check=True).stdout
        assert not re.search(r"\b(S_|smelt_|kit_)\w+", undefined), undefined


def test_staged_smelt_loads_them_with_their_definitions(tmp_path):
    listed = json.loads(Smelt(tmp_path)("adapters", "list", "--format", "json").stdout)
    by_name = {a["name"]: a for a in listed["adapters"]}
    assert by_name["soda"]["category"] == "quality" and by_name["soda"]["abi"] == "1.2"
    assert by_name["dagster"]["category"] == "orchestrate" and by_name["dagster"]["abi"] == "1.2"
    assert listed["refused"] == []
    # the definition it ships is the catalog's: `smelt add` finds it offline
    (tmp_path / "smelt.yml").write_text("version: 1\ndefault_environment: dev\nenvironments:\n- name: dev\n")
    proc = Smelt(tmp_path)("add", "utility", "soda")
    assert proc.returncode == 0, proc.stderr
    assert "soda-core==4.28.0" in (tmp_path / "smelt.yml").read_text() or \
        "soda-core==4.28.0" in "".join(p.read_text() for p in tmp_path.rglob("*.lock"))
    proc = Smelt(tmp_path)("add", "orchestrator", "dagster")
    assert proc.returncode == 0, proc.stderr
    assert "dagster==1.13.28" in "".join(p.read_text() for p in tmp_path.rglob("dagster*.lock"))
