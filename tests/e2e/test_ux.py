"""The first ten minutes (issue 21): what a person sees on a terminal, and errors that say what to do.

The terminal tests run smelt under a pseudo-terminal (Python's pty module), so smelt draws its live
lines as it does for a person, and check the screen the person is left with (the redraws applied).
"""
import errno
import json
import os
import pty
import re
import select
import shutil
import subprocess
import time

import pytest

from conftest import FAKES, SMELT, SOURCE, clean_env
from test_run import fake_project

DEMO = SOURCE / "examples" / "demo"
CSI = re.compile(rb"\x1b\[([0-9;?]*)([A-Za-z])")


def run_in_pty(args, cwd, env=None, timeout=900):
    """Run smelt with stdin, stdout and stderr on a pty; returns (exit code, raw bytes it wrote)."""
    master, slave = pty.openpty()
    full_env = clean_env(dict({"TERM": "xterm", "COLUMNS": "120", "LINES": "50"}, **(env or {})))
    proc = subprocess.Popen([SMELT, *map(str, args)], cwd=cwd, env=full_env, stdin=slave, stdout=slave,
                            stderr=slave, close_fds=True)
    os.close(slave)
    raw = bytearray()
    end = time.time() + timeout
    while time.time() < end:
        ready, _, _ = select.select([master], [], [], 1.0)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError as e:  # EIO: every writer closed the pty
            if e.errno != errno.EIO:
                raise
            break
        if not chunk:
            break
        raw += chunk
    os.close(master)
    return proc.wait(timeout=60), bytes(raw)


def screen(raw):
    """The lines a terminal shows after raw is drawn: \\r, erase-line and cursor-up applied."""
    lines, row, col = [[]], 0, 0
    i = 0
    while i < len(raw):
        m = CSI.match(raw, i)
        if m:
            arg, cmd = m.group(1), m.group(2)
            if cmd == b"K" or (cmd == b"J"):
                del lines[row][col:]
            elif cmd == b"A":
                row = max(0, row - int(arg or b"1"))
                col = 0
            i = m.end()
            continue
        b = raw[i]
        if b == 0x0D:
            col = 0
        elif b == 0x0A:
            row += 1
            col = 0
            while len(lines) <= row:
                lines.append([])
        elif b >= 0x20 or b == 0x09:
            line = lines[row]
            if col < len(line):
                line[col] = b
            else:
                line.extend([0x20] * (col - len(line)) + [b])
            col += 1
        i += 1
    text = [bytes(l).decode(errors="replace").rstrip() for l in lines]
    while text and not text[-1]:
        text.pop()
    return text


def demo_copy(tmp_path, native_only):
    dest = tmp_path / "demo"
    shutil.copytree(DEMO, dest)
    if native_only:  # no dbt, no GX: nothing to install from PyPI
        text = (dest / "smelt.yml").read_text()
        (dest / "smelt.yml").write_text(text.split("  transformers:")[0] + "jobs: []\n")
    return dest


def test_terminal_run_of_the_demo_connectors(tmp_path):
    """A person's view of 'smelt run tap-csv target-sqlite': the progress line, one summary table, short."""
    demo = demo_copy(tmp_path, native_only=True)
    code, raw = run_in_pty(["run", "tap-csv", "target-sqlite"], demo)
    lines = screen(raw)
    shown = "\n".join(lines)
    assert code == 0, shown
    # the progress line of the block: records, bytes, rate, elapsed
    assert any(re.fullmatch(r"tap-csv -> target-sqlite: 45 records, [\d.]+ kB, [\d.]+ [kM]?B/s, [\d.]+ s", l)
               for l in lines), shown
    # one summary table, with each stream's row count in it, and each count printed once in all
    assert sum("BLOCK" in l and "STATUS" in l and "RESULT" in l for l in lines) == 1, shown
    row = [l for l in lines if l.lstrip().startswith("tap-csv target-sqlite ")]
    assert len(row) == 1 and "customers 5 rows" in row[0] and "orders 40 rows" in row[0], shown
    assert sum(bool(re.search(r"customers\b.*\b5\b", l)) for l in lines) == 1, shown
    assert sum(bool(re.search(r"orders\b.*\b40\b", l)) for l in lines) == 1, shown
    assert "METRIC" not in shown
    assert re.search(r"^Run [0-9a-f-]{36} succeeded: 1 of 1 block in [\d.]+ s$", lines[-1], re.M), shown
    # two lock lines (first use), the progress line, the table (header + 1 row), the final line
    assert len(lines) <= 6, shown
    # the METRIC lines and the tools' own lines are in the run log, and on the terminal with --log-level debug
    code, raw = run_in_pty(["--log-level", "debug", "run", "tap-csv", "target-sqlite"], demo)
    debug = "\n".join(screen(raw))
    assert code == 0 and "METRIC: " in debug and "customers: 5 records upserted" in debug, debug
    logs = list((demo / ".smelt" / "logs").glob("*/run.log"))
    assert len(logs) == 2 and all("METRIC: " in p.read_text() for p in logs)


def test_terminal_progress_line_is_redrawn_in_place(project):
    """A slow block: the progress line is drawn again and again on one terminal line, then stays."""
    fake_project(project, {"records": 20, "state_every": 5, "mode": "slow"}, {})
    code, raw = run_in_pty(["run", "tap-fake", "target-fake"], project.root)
    lines = screen(raw)
    assert code == 0, lines
    redraws = re.findall(rb"\r\x1b\[Ktap-fake -> target-fake: (\d+) records?, ", raw)
    assert len(redraws) >= 2, raw  # about once a second for 4 s
    counts = [int(n) for n in redraws]
    assert counts == sorted(counts) and counts[-1] <= 20, counts
    progress = [l for l in lines if l.startswith("tap-fake -> target-fake: ")]
    assert len(progress) == 1 and progress[0].startswith("tap-fake -> target-fake: 20 records, "), lines


def test_plain_output_when_not_a_terminal(project):
    """Piped: no redraws, the final progress line once, the table, the final line; -q only that line."""
    fake_project(project, {"records": 12, "state_every": 5, "mode": "slow"}, {})
    proc = project.smelt("run", "tap-fake", "target-fake", check=0)
    assert "\r" not in proc.stderr and "\x1b" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert [l for l in lines if l.startswith("tap-fake -> target-fake: ")][0].startswith(
        "tap-fake -> target-fake: 12 records, ")
    assert lines[-1].startswith("Run ") and " succeeded: 1 of 1 block in " in lines[-1]
    quiet = project.smelt("run", "-q", "tap-fake", "target-fake", check=0)
    assert quiet.stdout == "" and len(quiet.stderr.splitlines()) == 1 and quiet.stderr.startswith("Run "), quiet.stderr
    verbose = project.smelt("--verbose", "run", "tap-fake", "target-fake", check=0)
    metrics = [l for l in verbose.stderr.splitlines() if "METRIC: " in l]
    assert len(metrics) == 12 and all(l.startswith("tap-fake debug: ") for l in metrics), verbose.stderr


def test_failure_is_last_with_what_to_do(project):
    """A failing block: the tool's last lines, the table, then one error line naming the run log."""
    fake_project(project, {"records": 12, "state_every": 5, "mode": "crash"}, {})
    proc = project.smelt("run", "tap-fake", "target-fake", check=1)
    lines = proc.stderr.splitlines()
    assert "boom, crashing on purpose" in proc.stderr
    table = [i for i, l in enumerate(lines) if "BLOCK" in l and "STATUS" in l]
    assert len(table) == 1 and "failed" in lines[table[0] + 1]
    assert lines[-2].startswith("Run ") and " failed: 0 of 1 block in " in lines[-2]
    assert re.fullmatch(r"smelt error: block 1/1 'tap-fake target-fake' failed: Extractor failed: 'tap-fake' "
                        r"\(exit code 3\); the tools' output is in \.smelt/logs/[0-9a-f-]+/run\.log "
                        r"\(or run again with --verbose\)", lines[-1]), lines[-1]


def test_full_demo_fits_on_a_screen(tmp_path):
    """The whole demo (CSV -> SQLite, dbt build, GX checks; dbt and GX installed on first use) on a
    terminal: at most 40 lines, install progress shown, one table, the final line last."""
    demo = demo_copy(tmp_path, native_only=False)
    code, raw = run_in_pty(["run", "daily"], demo, timeout=1500)
    lines = screen(raw)
    shown = "\n".join(lines)
    assert code == 0, shown
    assert len(lines) <= 40, shown
    assert "installing 2 plugins first" in shown and re.search(r"\+ gx +installed \([\d.]+s\)", shown), shown
    assert sum("BLOCK" in l and "STATUS" in l for l in lines) == 1, shown
    assert any(re.search(r"dbt-sqlite:build +ok .*2 models, 10 tests: 12 passed", l) for l in lines), shown
    assert any(re.search(r"gx:validate +ok .*13 checks: 13 passed", l) for l in lines), shown
    assert lines[-1].startswith("Run ") and "succeeded: 3 of 3 blocks" in lines[-1], shown
