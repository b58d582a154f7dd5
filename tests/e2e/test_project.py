"""smelt init, root discovery, file errors, add --custom / remove and
environments on real files, with the user's comments kept."""
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from conftest import Smelt

DATA = Path(__file__).resolve().parent / "data" / "project"


def test_init_layout(tmp_path):
    smelt = Smelt(tmp_path)
    smelt("init", "demo", check=0)
    root = tmp_path / "demo"
    text = (root / "smelt.yml").read_text()
    lines = text.splitlines()
    assert lines[0] == "default_environment: dev"
    pid = lines[1].split(": ")[1]
    assert len(pid) == 36 and pid[14] == "4" and pid[19] in "89ab"
    assert "environments:\n- name: dev\n  env: {}\n- name: staging\n  env: {}\n- name: prod\n  env: {}\n" in text
    assert stat.S_IMODE((root / ".env").stat().st_mode) == 0o600
    assert ".env" in (root / ".gitignore").read_text() and ".smelt" in (root / ".gitignore").read_text()
    for d in ("extract", "load", "transform", "orchestrate", "analyze", "quality"):
        assert (root / d / ".gitkeep").exists()
    assert (root / "output/.gitignore").read_text() == "*\n!.gitignore\n"
    assert (root / ".smelt").is_dir()
    # a second init refuses, --force overwrites with a new id
    proc = smelt("init", "demo", check=1)
    assert "already exists" in proc.stderr and "--force" in proc.stderr
    smelt("init", "demo", "--force", check=0)
    assert (root / "smelt.yml").read_text() != text
    (root / "smelt.yml").unlink()
    (root / "meltano.yml").write_text("{}\n")
    assert "meltano.yml" in smelt("init", "demo", check=1).stderr


def test_root_discovery(tmp_path):
    smelt = Smelt(tmp_path)
    smelt("init", "p", check=0)
    deep = tmp_path / "p" / "extract" / "deeper"
    deep.mkdir()
    out = Smelt(deep)("environment", "list", check=0).stdout
    assert out == "dev\nstaging\nprod\n"
    assert Smelt(tmp_path)("--cwd", str(deep), "environment", "list", check=0).stdout == out
    assert Smelt(tmp_path)("environment", "list", env={"MELTANO_PROJECT_ROOT": str(tmp_path / "p")},
                           check=0).stdout == out
    proc = Smelt(tmp_path)("environment", "list", check=1)
    assert proc.stderr == (f"smelt: error: no smelt.yml or meltano.yml found in '{tmp_path}' or its parents; "
                           "run 'smelt init'\n")


def test_errors_name_file_line_and_column(project):
    project.write("default_environment: dev\nplugins:\n  extractors: hello\n")
    proc = project.smelt("config", "list", "x", check=1)
    assert proc.stderr == "smelt: error: smelt.yml:3:15: 'plugins.extractors' must be a list\n"
    project.write("plugins:\n  loaders:\n  - variant: x\n")
    assert "smelt.yml:3:5: a plugin in 'plugins.loaders' has no 'name'" in project.smelt("environment", "list",
                                                                                       check=1).stderr
    project.write("a: [1,\n")
    assert project.smelt("environment", "list", check=1).stderr.startswith("smelt: error: smelt.yml:2:1: ")
    # unknown keys warn with their position and do not fail
    project.write("surprise: 1\nenvironments:\n- name: dev\n  colour: blue\n")
    proc = project.smelt("environment", "list", check=0)
    assert proc.stdout == "dev\n"
    assert "smelt.yml:1:1: unknown key 'surprise'" in proc.stderr
    assert "smelt.yml:4:3: unknown key 'colour' in environment 'dev'" in proc.stderr


def test_remove_names_what_it_leaves_in_dotenv(tmp_path):
    """.env is the user's: remove leaves it alone (as Meltano), but names the plugin's variables left there,
    never their values; settings stored in the system database go."""
    (tmp_path / "smelt.yml").write_text("""\
default_environment: dev
environments: [{name: dev}]
plugins:
  loaders:
  - name: target-mine
    namespace: target_ns
    executable: /bin/cat
    settings:
    - {name: password, kind: password}
    - {name: host}
""")
    smelt = Smelt(tmp_path)
    smelt("config", "set", "target-mine", "password", "s3cret-value", check=0)
    smelt("config", "set", "target-mine", "host", "db.example", "--store", "db", check=0)
    with open(tmp_path / ".env", "a") as f:
        f.write("OTHER_VAR=1\nTARGET_NS_PORT=5\n")
    proc = smelt("remove", "target-mine", check=0)
    assert "TARGET_MINE_PASSWORD, TARGET_NS_PORT" in proc.stderr and "OTHER_VAR" not in proc.stderr
    assert "s3cret-value" not in proc.stdout + proc.stderr
    assert "TARGET_MINE_PASSWORD='s3cret-value'" in (tmp_path / ".env").read_text()
    # added again: the database's value is gone, the .env one is back (it is the user's file)
    smelt("add", "loader", "target-mine", "--custom", "--namespace", "target_ns", "--executable", "/bin/cat",
          "--setting", "password:password", "--setting", "host", check=0)
    listed = smelt.json("config", "list", "target-mine", "--format", "json")
    text = json.dumps(listed)
    assert "db.example" not in text


def test_add_custom_with_a_program_path_has_nothing_to_pip_install(tmp_path):
    smelt = Smelt(tmp_path)
    smelt("init", ".", check=0)
    smelt("add", "utility", "mytool", "--custom", "--executable", "/bin/echo", check=0)
    text = (tmp_path / "smelt.yml").read_text()
    assert "  - name: mytool\n    namespace: mytool\n    executable: /bin/echo\n" in text
    assert "pip_url: mytool" not in text
    proc = smelt("install", "mytool", check=0)
    assert "mytool: nothing to install" in proc.stderr
    assert smelt("invoke", "mytool", "hello", check=0).stdout == "hello\n"
    # a name (found on PATH or installed) still defaults pip_url to the name, as Meltano's prompt does
    smelt("add", "utility", "othertool", "--custom", "--executable", "othertool", check=0)
    assert "  - name: othertool\n    namespace: othertool\n    pip_url: othertool\n" in \
        (tmp_path / "smelt.yml").read_text()


def test_add_custom_and_remove_keep_comments(tmp_path):
    root = tmp_path / "proj"
    shutil.copytree(DATA, root)
    yml = root / "meltano.yml"
    before = yml.read_text()
    smelt = Smelt(root)
    out = smelt("add", "extractor", "tap-new", "--custom", "--namespace", "tap_new", "--pip-url", "tap-new==2",
                "--executable", "tap-new", "--capabilities", "catalog,discover", "--setting", "token:password",
                "--setting", "base_url", check=0).stdout
    assert out == "Added extractor 'tap-new' to your project\n"
    text = yml.read_text()
    assert text.startswith(before.split("  loaders:\n")[0])  # everything up to the new item is unchanged
    assert ("  - name: tap-new\n    namespace: tap_new\n    pip_url: tap-new==2\n    executable: tap-new\n"
            "    capabilities:\n    - catalog\n    - discover\n    settings:\n    - name: token\n      kind: password\n"
            "    - name: base_url\n  loaders:\n") in text
    smelt("add", "tap-new", "--as", "tap-new-2", check=0)
    smelt("add", "target-x", "--custom", check=0)  # type inferred from the name
    smelt("add", "mapper", "my-mapper", "--custom", "--plugin-type", "mappers", check=0)
    smelt("add", "utilities", "tool", "--custom", check=0)
    text = yml.read_text()
    assert "  - name: tap-new-2\n    inherit_from: tap-new\n" in text
    assert "  - name: target-x\n    namespace: target_x\n" in text
    assert "  utilities:\n  - name: tool\n" in (root / "subdir/utilities.meltano.yml").read_text() or \
        "  - name: tool\n" in text
    # as Meltano's: an existing plugin is left as it is, with a message, exit 0
    added = yml.read_text()
    assert "already exists" in smelt("add", "extractor", "tap-new", "--custom", check=0).stderr
    assert yml.read_text() == added
    # remove: the entry, the install folder, lock files, from whichever file
    (root / ".smelt/extractors/tap-new").mkdir(parents=True)
    (root / "plugins/extractors").mkdir(parents=True)
    (root / "plugins/extractors/tap-new--x.lock").write_text("{}")
    smelt("remove", "tap-new-2", "tap-new", "target-x", "my-mapper", "tool", check=0)
    assert not (root / ".smelt/extractors/tap-new").exists()
    assert not (root / "plugins/extractors/tap-new--x.lock").exists()
    # the emptied `utilities:` list (new in this file) stays as [], as Meltano leaves it
    assert yml.read_text().replace("  utilities: []\n", "") == before
    smelt("remove", "sqlfluff", check=0)
    sub = (root / "subdir/utilities.meltano.yml").read_text()
    assert sub.startswith("# included via include_paths\nplugins:\n  utilities: []\n")
    assert "plugin 'nope' is not in meltano.yml" in smelt("remove", "nope", check=1).stderr


def test_environments(tmp_path):
    root = tmp_path / "proj"
    shutil.copytree(DATA, root)
    smelt = Smelt(root)
    assert smelt("environment", "list", check=0).stdout == "dev\nstaging\nprod\n"
    assert smelt("environment", "add", "ci", check=0).stdout == "Created new environment 'ci'\n"
    assert "already exists" in smelt("environment", "add", "ci", check=1).stderr
    data = json.loads(smelt("environment", "list", "--format", "json", check=0).stdout)
    assert [e["name"] for e in data["environments"]] == ["dev", "staging", "prod", "ci"]
    assert data["environments"][2]["state_id_suffix"] == "blue"
    smelt("environment", "remove", "staging", check=0)
    text = (root / "meltano.yml").read_text()
    assert "- name: staging\n" not in text and "- name: prod\n  state_id_suffix: blue\n" in text
    assert "- name: ci\n\njobs:" in text or "- name: ci\n" in text
    smelt("environment", "remove", "nope", check=1)
    smelt("--environment", "nope", "config", "list", "tap-custom", check=1)
