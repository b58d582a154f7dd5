"""The README's command blocks, run verbatim: the Quickstart from an empty folder and the
out-of-tree adapter from a copy of its example.  The blocks are read from README.md itself,
so this test breaks when the README drifts from what smelt does.  (The README's first block,
`make demo` / `make test`, is what CI itself runs.)"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

from conftest import SMELT, SOURCE, clean_env


def readme_block(heading):
    """The first ```sh block under the `## heading` of README.md."""
    text = (SOURCE / "README.md").read_text()
    section = text.split("\n## " + heading + "\n", 1)
    assert len(section) == 2, f"README.md has no '## {heading}' section"
    m = re.search(r"```sh\n(.*?)```", section[1], re.S)
    assert m, f"README.md's '{heading}' section has no sh block"
    return m.group(1)


def run_block(script, cwd, env):
    """Run a README block with bash, stopping at the first failing line (set -e), each line echoed."""
    proc = subprocess.run(["bash", "-e", "-x", "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=1500)
    assert proc.returncode == 0, f"README block failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_quickstart_verbatim(tmp_path):
    block = readme_block("Quickstart")
    assert block.startswith("smelt init my-project")
    env = clean_env({"PATH": os.path.dirname(SMELT) + os.pathsep + clean_env()["PATH"], "HOME": str(tmp_path)})
    proc = run_block(block, tmp_path, env)
    root = tmp_path / "my-project"

    # extract and load, then incrementally: 3 rows in the warehouse, the bookmark at id 3
    db = sqlite3.connect(root / "output" / "warehouse.db")
    assert db.execute("SELECT id, customer, amount FROM orders ORDER BY id").fetchall() == [
        (1, "ada", 12.5), (2, "grace", 40.0), (3, "alan", 7.25)]
    # the model dbt built from the README's SQL
    assert dict(db.execute("SELECT customer, revenue FROM revenue").fetchall()) == {
        "ada": 12.5, "grace": 40.0, "alan": 7.25}
    db.close()
    state = subprocess.run([SMELT, "state", "get", "dev:tap-csv-to-target-sqlite"], cwd=root, env=env,
                           capture_output=True, text=True, check=True)
    assert json.loads(state.stdout)["singer_state"]["bookmarks"]["orders"]["replication_key_value"] == 3
    # the first state get showed the bookmark after the first run; the second run read only the new row
    assert '"replication_key_value":2' in proc.stdout.replace(" ", "")
    assert (root / "quality" / "orders.yml").exists()


def test_writing_an_adapter_verbatim(tmp_path):
    """`cmake --install build ...`, `make` in examples/adapter-hello, `smelt adapters list`: from a folder
    laid out like the repository (build = the build under test, a copy of the example)."""
    block = readme_block("Writing an adapter")
    work = tmp_path / "repo"
    (work / "examples").mkdir(parents=True)
    build = Path(os.environ.get("SMELT_BUILD") or SOURCE / "build").resolve()
    (work / "build").symlink_to(build)
    shutil.copytree(SOURCE / "examples" / "adapter-hello", work / "examples" / "adapter-hello")
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env({"HOME": str(home)})
    env.pop("CFLAGS", None)
    proc = run_block(block, work, env)
    assert (home / ".local" / "bin" / "smelt").exists()
    listed = [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]
    assert "hello" in listed and "singer" in listed, proc.stdout
