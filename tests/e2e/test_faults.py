"""Faults of smelt itself (issue 18, items 5, 9-12): kill -9 and SIGHUP of smelt, signals to an
interactive tool, a runaway output line, a chatty plugin. The fakes are in fakes/."""
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

import pytest

from conftest import FAKES, SMELT, clean_env

STATE_ID = "dev:tap-fake-to-target-fake"


def write_project(project, tap_config, target_config, target="fake_target.py", tap="fake_tap.py"):
    project.write(f"""\
default_environment: dev
environments: [{{name: dev}}]
plugins:
  extractors:
  - name: tap-fake
    namespace: tap_fake
    executable: {FAKES}/{tap}
    capabilities: [state]
    config: {json.dumps(tap_config)}
  loaders:
  - name: target-fake
    namespace: target_fake
    executable: {FAKES}/{target}
    config: {json.dumps(target_config)}
""")


def descendants(pid):
    """Live processes below pid (children, grandchildren), from /proc."""
    parents = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents.setdefault(int(fields[1]), []).append(int(p))
    found, todo = [], [pid]
    while todo:
        for c in parents.get(todo.pop(), []):
            found.append(c)
            todo.append(c)
    return found


def alive(pid):
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def wait_gone(pids, seconds):
    end = time.time() + seconds
    while time.time() < end and any(alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


def wait_for(pred, seconds, what):
    end = time.time() + seconds
    while time.time() < end:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def run_files(project):
    """The run's generated JSON files; the logging configurations (no secret) are kept between runs."""
    return sorted(p.name for p in (project.root / ".smelt/run").rglob("*.json") if "logging" not in p.name)


def stalled_run(project):
    """A run whose target emitted 3 states and then stalls; returns (smelt popen, emitted file)."""
    emitted = project.root / "emitted.jsonl"
    write_project(project, {"records": 1000, "state_every": 2, "mode": "slow"},
                  {"emitted": str(emitted), "stall_after": 3}, target="fake_target_stall.py")
    proc = project.smelt.popen("run", "tap-fake", "target-fake")
    wait_for(lambda: emitted.exists() and len(emitted.read_text().splitlines()) >= 3, 60, "3 emitted states")
    time.sleep(0.5)  # smelt commits each state as it reads it; nothing new comes after the third
    return proc, emitted


def test_kill_9_of_smelt_leaves_no_process_no_secret_file_no_lock(project):
    proc, emitted = stalled_run(project)
    kids = descendants(proc.pid)
    assert len(kids) >= 2, kids  # the tap and the target
    assert any(name.endswith(".config.json") for name in run_files(project))
    proc.kill()
    proc.wait()
    # item 10: the tap and the target die with smelt
    assert wait_gone(kids, 2) == []
    # item 9: the next command that opens the project removes the dead run's config files
    got = project.smelt("state", "get", STATE_ID, check=0)
    assert run_files(project) == []
    # the saved state is the last one the target emitted
    last = json.loads(emitted.read_text().splitlines()[-1])
    assert json.loads(got.stdout)["singer_state"] == last
    # item 11: the state id is runnable at once; the dead run is marked failed with a log line
    write_project(project, {"records": 4, "state_every": 2}, {})
    again = project.smelt("run", "tap-fake", "target-fake", timeout=60)
    assert again.returncode == 0, again.stderr
    assert "which is gone" in again.stderr and "lock released" in again.stderr
    assert json.loads(project.smelt("state", "get", STATE_ID, check=0).stdout)["singer_state"] == \
        {"bookmarks": {"things": {"id": last["bookmarks"]["things"]["id"] + 4}}}


def test_sweep_keeps_the_files_of_a_live_run(project):
    proc, _ = stalled_run(project)
    try:
        before = run_files(project)
        assert before
        project.smelt("state", "list", check=0)
        assert run_files(project) == before
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert run_files(project) == []


def test_sighup_is_handled_like_sigterm(project):
    proc, emitted = stalled_run(project)
    kids = descendants(proc.pid)
    proc.send_signal(signal.SIGHUP)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 129, err
    assert "received SIGHUP" in err and "terminated" in err
    assert wait_gone(kids, 2) == []
    assert run_files(project) == []  # removed by smelt itself, no sweep needed
    last = json.loads(emitted.read_text().splitlines()[-1])
    write_project(project, {"records": 4, "state_every": 2}, {})
    assert json.loads(project.smelt("state", "get", STATE_ID, check=0).stdout)["singer_state"] == last
    again = project.smelt("run", "tap-fake", "target-fake", timeout=60)
    assert again.returncode == 0 and "which is gone" not in again.stderr, again.stderr  # marked failed already


def tool_project(project):
    project.write(f"""\
plugins:
  utilities:
  - name: fake-server
    namespace: fake_server
    executable: {FAKES}/fake_tool_forking.py
  - name: fake-tty
    namespace: fake_tty
    executable: {FAKES}/fake_tool_tty.py
""")
    work = project.root / "work"
    work.mkdir()
    return work


def start_tool(project, work, mode, tty, argv=None):
    """smelt invoke of the forking tool; with tty, from a shell-like session leader on a pty that
    puts smelt in a process group of its own, in the terminal's foreground (as an interactive shell
    does). Returns (smelt's pid, the Popen or the session leader's pid, the pty's fd)."""
    argv = argv or [SMELT, "invoke", "fake-server", str(work), "3"] + ([mode] if mode else [])
    if not tty:
        proc = subprocess.Popen(argv, cwd=project.root, env=clean_env(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return proc.pid, proc, None
    leader, fd = pty.fork()
    if leader == 0:  # the "shell": session leader, owner of the pty
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        child = os.fork()
        if child == 0:
            os.setpgid(0, 0)
            os.tcsetpgrp(0, os.getpgrp())
            signal.signal(signal.SIGTTOU, signal.SIG_DFL)
            os.chdir(project.root)
            os.execve(SMELT, argv, clean_env())
        try:  # both sides set the group, as a shell does; EACCES: the child already did and exec'd
            os.setpgid(child, child)
        except PermissionError:
            pass
        (work / "smelt.pid").write_text(str(child))
        while True:
            _, status = os.waitpid(child, os.WUNTRACED)
            if not os.WIFSTOPPED(status):
                break
            (work / "stopped").write_text("1")  # ^Z stopped smelt's job: 'fg' it
            os.tcsetpgrp(0, child)
            os.kill(-child, signal.SIGCONT)
        (work / "exit").write_text(str(os.waitstatus_to_exitcode(status)))
        time.sleep(3600)  # the session stays: no hangup from the kernel when smelt ends
        os._exit(0)
    wait_for(lambda: (work / "smelt.pid").exists() and (work / "smelt.pid").read_text(), 30, "smelt's pid")
    return int((work / "smelt.pid").read_text()), leader, fd


@pytest.mark.parametrize("tty", [False, True], ids=["pipes", "terminal"])
@pytest.mark.parametrize("mode", [None, "ignore-term"], ids=["workers-default", "workers-ignore-sigterm"])
def test_sigterm_to_invoke_stops_the_tools_whole_group(project, tty, mode):
    work = tool_project(project)
    pid, proc, fd = start_tool(project, work, mode, tty)
    try:
        wait_for(lambda: (work / "master").exists() and len(list(work.glob("worker.*"))) == 3, 60, "the workers")
        master, fg = (work / "master").read_text().split()
        if tty:
            assert fg == "fg"  # the tool owns the terminal: ^C and ^Z reach it
        workers = [int(p.read_text()) for p in work.glob("worker.*")]
        os.kill(pid, signal.SIGTERM)
        t0 = time.time()
        if tty:
            end = time.time() + 60
            while time.time() < end and alive(pid):  # drain the pty so nothing blocks, until smelt exits
                if select.select([fd], [], [], 0.1)[0]:
                    try:
                        os.read(fd, 4096)
                    except OSError:
                        pass
        else:
            proc.communicate(timeout=60)
        assert time.time() - t0 < 12
        assert wait_gone(workers + [int(master)], 2) == []
    finally:
        for p in [int(x.read_text()) for x in work.glob("worker.*")] + ([pid] if tty else []):
            if alive(p):
                os.kill(p, signal.SIGKILL)
        if tty:
            os.kill(proc, signal.SIGKILL)
            os.waitpid(proc, 0)
            os.close(fd)


def test_runaway_output_line_fails_the_run_with_bounded_memory(project):
    write_project(project, {"records": 4, "state_every": 2}, {"line_mb": 400}, target="fake_target_longline.py")
    proc = subprocess.Popen([SMELT, "run", "tap-fake", "target-fake"], cwd=project.root, env=clean_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 1, err
    assert "'target-fake': output line length limit exceeded" in err
    assert usage.ru_maxrss < 250 * 1024, f"peak RSS {usage.ru_maxrss} KiB"  # the line was 400 MB
    # the states the target emitted before the runaway line are kept
    got = project.smelt("state", "get", STATE_ID, check=0)
    assert json.loads(got.stdout)["singer_state"] == {"bookmarks": {"things": {"id": 4}}}
    # the cap follows Meltano's elt.buffer_size (half of it)
    write_project(project, {"records": 4, "state_every": 2}, {"line_mb": 2}, target="fake_target_longline.py")
    proc = project.smelt("run", "tap-fake", "target-fake", env={"MELTANO_ELT_BUFFER_SIZE": "2000000"})
    assert proc.returncode == 1 and "longer than 1000000 bytes" in proc.stderr, proc.stderr


def test_run_log_is_capped(project):
    write_project(project, {"lines": 5000}, {}, tap="fake_tap_chatty.py")
    proc = project.smelt("run", "--verbose", "tap-fake", "target-fake", env={"SMELT_RUN_LOG_MAX_BYTES": "40000"},
                         check=0)
    assert "chatty line 004999" in proc.stderr  # the terminal (--verbose) still gets every line
    (logdir,) = (project.root / ".smelt/logs").iterdir()
    log, old = logdir / "run.log", logdir / "run.log.1"
    assert log.stat().st_size + old.stat().st_size <= 40000
    text = log.read_text()
    assert text.splitlines()[0].endswith("SMELT_RUN_LOG_MAX_BYTES)") and "run log rotated" in text.splitlines()[0]
    assert "succeeded: 1 of 1 block" in text.splitlines()[-1]  # the newest lines stay
    # without the variable the default cap (64 MiB) applies: nothing is rotated for a small run
    project.smelt("run", "tap-fake", "target-fake", check=0)
    assert sorted(len(list(d.iterdir())) for d in (project.root / ".smelt/logs").iterdir()) == [1, 2]


def test_interactive_tool_owns_the_terminal(project):
    """Terminal sharing: the tool reads the terminal, ^Z stops smelt's job and 'fg' resumes it,
    ^C reaches the tool, and smelt returns the tool's code."""
    work = tool_project(project)
    pid, leader, fd = start_tool(project, work, None, True, argv=[SMELT, "invoke", "fake-tty", str(work)])

    def drain(seconds):
        end = time.time() + seconds
        while time.time() < end:
            if select.select([fd], [], [], 0.05)[0]:
                try:
                    os.read(fd, 4096)
                except OSError:
                    return

    try:
        wait_for(lambda: (work / "master").exists(), 60, "the tool")
        tool, fg = (work / "master").read_text().split()
        assert fg == "fg"
        os.write(fd, b"typed by the user\n")
        wait_for(lambda: (work / "read").exists(), 10, "the tool to read the terminal")
        assert (work / "read").read_text() == "typed by the user\n"
        os.write(fd, b"\x1a")  # ^Z
        wait_for(lambda: (work / "stopped").exists(), 10, "smelt's job to stop")
        drain(0.5)
        state = open(f"/proc/{tool}/stat").read().rsplit(")", 1)[1].split()[0]
        assert state in ("S", "R"), state  # continued with smelt's job, in the foreground again
        os.write(fd, b"\x03")  # ^C: to the tool, which dies of it
        wait_for(lambda: (work / "exit").exists(), 10, "smelt to end")
        assert (work / "exit").read_text() == "130"
        assert not alive(int(tool))
    finally:
        for p in (pid, int((work / "master").read_text().split()[0]) if (work / "master").exists() else 0):
            if p and alive(p):
                os.kill(p, signal.SIGKILL)
        os.kill(leader, signal.SIGKILL)
        os.waitpid(leader, 0)
        os.close(fd)


def burst_project(project, records):
    """A tap that emits a state after every record, and a target that emits each state it gets and notes it
    in a side file; returns the side file."""
    emitted = project.root / "emitted.jsonl"
    write_project(project, {"records": records, "state_every": 1},
                  {"emitted": str(emitted), "stall_after": 10**9}, target="fake_target_stall.py")
    return emitted


def emitted_ids(emitted):
    """The bookmarks the target noted in its side file; a last line the target was killed while writing
    (no newline yet) is not one it noted."""
    text = emitted.read_text()
    lines = text.split("\n")[:-1]  # what follows the last newline is unfinished (or empty)
    return [json.loads(line)["bookmarks"]["things"]["id"] for line in lines if line]


def saved_bookmark(project):
    got = project.smelt("state", "get", STATE_ID, check=0)
    state = json.loads(got.stdout or "{}")
    return state.get("singer_state", {}).get("bookmarks", {}).get("things", {}).get("id")


def test_a_burst_of_states_saves_the_last_one(project):
    """Issue 19: states are coalesced in memory, yet the last state the target emitted is the one saved."""
    emitted = burst_project(project, 5000)
    run = project.smelt("run", "tap-fake", "target-fake", timeout=300)
    assert run.returncode == 0, run.stderr
    ids = emitted_ids(emitted)
    assert ids[-1] == 5000
    assert saved_bookmark(project) == 5000


def test_kill_9_in_a_burst_of_states_never_saves_ahead(project):
    """kill -9 of smelt in the middle of a burst: the saved bookmark is one the target emitted, never ahead
    of it, and at most one commit interval behind what smelt had read (here: it is saved at all).  The
    target notes a state in its side file just after printing it, so the side file may lack the newest."""
    emitted = burst_project(project, 10**6)
    proc = project.smelt.popen("run", "tap-fake", "target-fake")
    try:
        wait_for(lambda: emitted.exists() and len(emitted.read_text().splitlines()) >= 3000, 120,
                 "3000 emitted states")
    finally:
        proc.kill()
        proc.communicate()
    ids = emitted_ids(emitted)
    saved = saved_bookmark(project)
    assert saved is not None, "no state saved after thousands of states"
    assert 1 <= saved <= ids[-1] + 1, (saved, ids[-1])


def test_sigterm_in_a_burst_of_states_saves_what_smelt_read(project):
    """SIGTERM in the middle of a burst: smelt commits the newest state it read before it exits."""
    emitted = burst_project(project, 10**6)
    proc = project.smelt.popen("run", "tap-fake", "target-fake")
    wait_for(lambda: emitted.exists() and len(emitted.read_text().splitlines()) >= 3000, 120, "3000 emitted states")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    ids = emitted_ids(emitted)
    saved = saved_bookmark(project)
    assert 3000 <= saved <= ids[-1] + 1, (saved, ids[-1])
