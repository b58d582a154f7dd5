"""Issue 18 items 2 and 13: names that become paths stay inside the project, symbolic links
inside .smelt/ and plugins/ are not followed out of it, and run ids are checked.

Every project here lives in <tmp>/box/proj, so anything written or removed beside it (in box)
is an escape; box holds sentinel files that must survive every command."""
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import FAKES, STAGE, Smelt

SECRET = "s3cret-do-not-leak"


class Boxed:
    def __init__(self, tmp_path):
        self.box = tmp_path / "box"
        self.root = self.box / "proj"
        self.root.mkdir(parents=True)
        self.smelt = Smelt(self.root)
        # sentinels beside the project, where '../' names lead
        for d in ("x", "evil", "outside"):
            (self.box / d).mkdir()
            (self.box / d / "sentinel").write_text("keep me")
        self.before = self.outside()

    def write(self, text):
        (self.root / "smelt.yml").write_text(text)

    def outside(self):
        """Every path in box outside the project, with file contents."""
        seen = {}
        for dirpath, dirnames, filenames in os.walk(self.box):
            if Path(dirpath) == self.box and "proj" in dirnames:
                dirnames.remove("proj")
            for name in dirnames + filenames:
                p = Path(dirpath) / name
                seen[str(p.relative_to(self.box))] = p.read_text() if p.is_file() and not p.is_symlink() else None
        return seen

    def assert_outside_untouched(self):
        assert self.outside() == self.before
        # nor anything above box
        assert sorted(p.name for p in self.box.parent.iterdir()) == ["box"]


@pytest.fixture
def boxed(tmp_path):
    return Boxed(tmp_path)


def fake_plugins(tap="tap-fake", target="target-fake"):
    return f"""\
default_environment: dev
environments:
- name: dev
plugins:
  extractors:
  - name: {json.dumps(tap)}
    namespace: tap_fake
    executable: {FAKES}/fake_tap.py
    capabilities: [state]
    config: {{records: 3, password: {SECRET}}}
  loaders:
  - name: {json.dumps(target)}
    namespace: target_fake
    executable: {FAKES}/fake_target.py
    config: {{password: {SECRET}}}
"""


def no_secret_outside(boxed):
    for rel, text in boxed.outside().items():
        assert text is None or SECRET not in text, rel


# ---- names in the project file ------------------------------------------------------------

def test_remove_with_dotdot_plugin_name_leaves_the_outside_folder(boxed):
    # .smelt/extractors/../../../x is box/x: the old remove deleted it
    boxed.write("""\
plugins:
  extractors:
  - name: ../../../x
    namespace: x
    pip_url: x
""")
    before = (boxed.root / "smelt.yml").read_text()
    proc = boxed.smelt("remove", "../../../x")
    assert proc.returncode != 0
    assert "smelt.yml:3:11: plugin name '../../../x' may not contain '/'" in proc.stderr
    assert (boxed.box / "x" / "sentinel").read_text() == "keep me"
    assert (boxed.root / "smelt.yml").read_text() == before
    boxed.assert_outside_untouched()


def test_run_with_dotdot_plugin_names_writes_nothing_outside(boxed):
    # .smelt/run/../../../x is box/x: the old run wrote the tap's config (with its secret) there
    boxed.write(fake_plugins(tap="../../../x", target="../../../evil"))
    proc = boxed.smelt("run", "../../../x", "../../../evil")
    assert proc.returncode != 0
    assert "plugin name '../../../x' may not contain '/'" in proc.stderr
    boxed.assert_outside_untouched()
    no_secret_outside(boxed)
    assert not (boxed.root / ".smelt" / "run").exists()


@pytest.mark.parametrize("yaml,where,message", [
    ("environments:\n- name: ../../e\n", "smelt.yml:2:9", "environment name '../../e' may not contain '/'"),
    ("environments:\n- name: ..\n", "smelt.yml:2:9", "environment name '..' is not a usable name"),
    ("jobs:\n- name: ../j\n  tasks: [tap-x target-y]\n", "smelt.yml:2:9", "job name '../j' may not contain '/'"),
    ("schedules:\n- name: a/b\n  interval: '@daily'\n  job: j\n", "smelt.yml:2:9",
     "schedule name 'a/b' may not contain '/'"),
    ("plugins:\n  loaders:\n  - name: ok\n    variant: ../../v\n", "smelt.yml:4:14",
     "variant name '../../v' may not contain '/'"),
    ("plugins:\n  loaders:\n  - name: ok\n    inherit_from: ../p\n", "smelt.yml:4:19",
     "plugin name '../p' may not contain '/'"),
    ("plugins:\n  loaders:\n  - name: \"a\\x1b[2Jb\"\n    namespace: a\n", "smelt.yml:3:11",
     "plugin name 'a\\x1b[2Jb' may not contain control characters"),
])
def test_names_that_become_paths_are_checked_at_load(boxed, yaml, where, message):
    boxed.write(yaml)
    proc = boxed.smelt("job", "list")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"{where}: {message}" in proc.stderr


# ---- names on the command line ------------------------------------------------------------

@pytest.mark.parametrize("args,message", [
    (["extractor", "../../evil", "--custom", "--namespace", "evil", "--pip-url", "evil", "--executable", "evil"],
     "plugin name '../../evil' may not contain '/' (argument 1 of 'smelt add')"),
    (["extractor", "tap-csv", "--as", "../../evil", "--variant", "smelt"],
     "plugin name '../../evil' may not contain '/' (given with --as)"),
    (["loader", "target-x", "--custom", "--variant", "../../../evil", "--namespace", "x", "--pip-url", "x"],
     "variant name '../../../evil' may not contain '/' (given with --variant)"),
])
def test_add_refuses_names_that_leave_the_project(boxed, args, message):
    boxed.write("version: 1\n")
    proc = boxed.smelt("add", *args, input="")
    assert proc.returncode == 1
    assert message in proc.stderr
    assert (boxed.root / "smelt.yml").read_text() == "version: 1\n"
    assert not (boxed.root / "plugins").exists()
    boxed.assert_outside_untouched()


@pytest.mark.parametrize("run_id", ["../../x", "../../../x", "a/../../../x", "x:1"])
def test_run_id_that_is_a_path_is_refused(boxed, run_id):
    boxed.write(fake_plugins())
    proc = boxed.smelt("run", "--run-id", run_id, "tap-fake", "target-fake")
    assert proc.returncode == 2
    assert f"--run-id: run id '{run_id}'" in proc.stderr
    assert "a run id is a UUID, or up to 64 letters, digits" in proc.stderr
    assert not (boxed.root / "x").exists()
    assert not (boxed.root / ".smelt" / "logs").exists()
    boxed.assert_outside_untouched()


def test_long_run_id_gets_a_clear_error_and_64_bytes_run_every_block(boxed):
    boxed.write(fake_plugins())
    # the old run cut "<id>:<n>" to 63 bytes: block 2 then failed with a UNIQUE-constraint error
    long_id = "r" * 65
    proc = boxed.smelt("run", "--run-id", long_id, "tap-fake", "target-fake", "tap-fake", "target-fake")
    assert proc.returncode == 2
    assert f"run id '{long_id[:64]}...' is 65 bytes long" in proc.stderr
    assert "UNIQUE" not in proc.stderr
    ok_id = "n" * 64
    proc = boxed.smelt("run", "--run-id", ok_id, "tap-fake", "target-fake", "tap-fake", "target-fake")
    assert proc.returncode == 0, proc.stderr
    assert "succeeded: 2 of 2 blocks" in proc.stderr
    assert (boxed.root / ".smelt" / "logs" / ok_id / "run.log").is_file()


def test_reused_run_id_is_refused_before_any_block(boxed):
    boxed.write(fake_plugins())
    run_id = "4a3f2a5e-1111-4b8e-9a55-0b7f6a1c2d3e"
    assert boxed.smelt("run", "--run-id", run_id, "tap-fake", "target-fake").returncode == 0
    proc = boxed.smelt("run", "--run-id", run_id, "tap-fake", "target-fake")
    assert proc.returncode == 1
    assert f"run id '{run_id}' was used before" in proc.stderr
    assert "UNIQUE" not in proc.stderr
    assert "block 1/1" not in proc.stderr


# ---- symbolic links inside the project ----------------------------------------------------

def test_remove_does_not_follow_symlinks_out_of_smelt(boxed):
    boxed.write("""\
plugins:
  extractors:
  - name: tap-a
    namespace: a
    pip_url: a
  loaders:
  - name: target-b
    namespace: b
    pip_url: b
""")
    sys_dir = boxed.root / ".smelt"
    (sys_dir / "extractors").mkdir(parents=True)
    # the install folder itself is a link out: the link goes, its target stays
    (sys_dir / "extractors" / "tap-a").symlink_to(boxed.box / "outside")
    # a folder on the way is a link out: refused
    (boxed.box / "evil" / "target-b").mkdir()
    (boxed.box / "evil" / "target-b" / "sentinel").write_text("keep me")
    (sys_dir / "loaders").symlink_to(boxed.box / "evil")
    boxed.before = boxed.outside()
    proc = boxed.smelt("remove", "tap-a")
    assert proc.returncode == 0, proc.stderr
    assert not os.path.lexists(sys_dir / "extractors" / "tap-a")
    proc = boxed.smelt("remove", "target-b")
    assert proc.returncode == 1
    assert "cannot remove 'loaders/target-b'" in proc.stderr
    assert "a symbolic link is in the way" in proc.stderr
    assert (boxed.box / "evil" / "target-b" / "sentinel").read_text() == "keep me"
    boxed.assert_outside_untouched()


def test_remove_does_not_follow_a_symlinked_lock_folder(boxed):
    boxed.write("plugins:\n  extractors:\n  - name: tap-a\n    namespace: a\n    pip_url: a\n")
    (boxed.box / "outside" / "tap-a.lock").write_text("{}")
    (boxed.root / "plugins").mkdir()
    (boxed.root / "plugins" / "extractors").symlink_to(boxed.box / "outside")
    boxed.before = boxed.outside()
    proc = boxed.smelt("remove", "tap-a")
    assert proc.returncode == 1
    assert "cannot remove lock file 'plugins/extractors/tap-a.lock'" in proc.stderr
    assert (boxed.box / "outside" / "tap-a.lock").read_text() == "{}"
    boxed.assert_outside_untouched()


def test_run_does_not_write_secrets_through_a_symlinked_run_folder(boxed):
    boxed.write(fake_plugins())
    (boxed.root / ".smelt").mkdir()
    (boxed.root / ".smelt" / "run").symlink_to(boxed.box / "outside")
    boxed.before = boxed.outside()
    proc = boxed.smelt("run", "tap-fake", "target-fake")
    assert proc.returncode == 1
    assert "a symbolic link is in the way" in proc.stderr
    boxed.assert_outside_untouched()
    no_secret_outside(boxed)


# ---- stream names in the native targets ---------------------------------------------------

def singer(*msgs):
    return ("\n".join(json.dumps(m) for m in msgs) + "\n").encode()


def schema(stream):
    return {"type": "SCHEMA", "stream": stream, "key_properties": [],
            "schema": {"properties": {"v": {"type": "integer"}}}}


def record(stream, v):
    return {"type": "RECORD", "stream": stream, "record": {"v": v}}


TARGETS = {"target-jsonl": {"destination_path": "out"}, "target-sqlite": {"database": "out/wh.db"}}


def test_stream_names_with_slashes_dots_and_controls_stay_in_the_destination(boxed):
    # (target-sqlite names tables, not files, from streams: [A-Za-z0-9_] only, already safe)
    target = "target-jsonl"
    streams = ["../../../x", "a/b", "..", ".", "/abs", "c\\d", "nl\nx"]
    msgs = []
    for i, s in enumerate(streams):
        msgs += [schema(s), record(s, i)]
    (boxed.root / "cfg.json").write_text(json.dumps(TARGETS[target]))
    proc = subprocess.run([os.path.join(STAGE, "libexec", "smelt", target), "--config", "cfg.json"],
                          cwd=boxed.root, input=singer(*msgs), capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    made = sorted(str(p.relative_to(boxed.root)) for p in boxed.root.rglob("*") if p.is_file())
    assert made == sorted(["cfg.json", "out/.._.._.._x.jsonl", "out/a_b.jsonl", "out/.._.jsonl", "out/._.jsonl",
                           "out/_abs.jsonl", "out/c_d.jsonl", "out/nl_x.jsonl"])
    assert (boxed.root / "out/.._.._.._x.jsonl").read_text() == '{"v":0}\n'
    assert (boxed.root / "out/nl_x.jsonl").read_text() == '{"v":6}\n'
    boxed.assert_outside_untouched()


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_stream_name_with_nul_is_an_error_not_cut(boxed, target):
    # cut at the NUL, both streams were 'n': one file (one table) held both streams' records
    msgs = [schema("n\u0000/../../../x"), record("n\u0000/../../../x", 1), schema("n\u0000z"), record("n\u0000z", 2)]
    (boxed.root / "cfg.json").write_text(json.dumps(TARGETS[target]))
    proc = subprocess.run([os.path.join(STAGE, "libexec", "smelt", target), "--config", "cfg.json"],
                          cwd=boxed.root, input=singer(*msgs), capture_output=True, timeout=60)
    assert proc.returncode == 1
    assert "line 1: stream name 'n...' contains a NUL character" in proc.stderr.decode()
    assert not (boxed.root / "out" / "n.jsonl").exists()
    boxed.assert_outside_untouched()


@pytest.mark.parametrize("args,message", [
    (["environment", "add", "../e"], "environment name '../e' may not contain '/'"),
    (["job", "add", "../j", "--tasks", "tap-fake target-fake"], "job name '../j' may not contain '/'"),
    (["schedule", "add", "../s", "--job", "j", "--interval", "@daily"], "schedule name '../s' may not contain '/'"),
])
def test_cli_adds_refuse_names_and_leave_the_file(boxed, args, message):
    boxed.write(fake_plugins() + "jobs:\n- name: j\n  tasks: [tap-fake target-fake]\n")
    before = (boxed.root / "smelt.yml").read_text()
    proc = boxed.smelt(*args)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert (boxed.root / "smelt.yml").read_text() == before
