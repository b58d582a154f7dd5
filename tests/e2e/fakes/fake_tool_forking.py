#!/usr/bin/env python3
"""A server-like tool (think gunicorn): the master forks `workers` workers and waits. Each worker
writes its pid to <dir>/worker.<pid> and sleeps; the master writes <dir>/master with its pid and
whether it owns the terminal's foreground ("fg" or "bg" or "notty").

Usage: fake_tool_forking.py DIR WORKERS [ignore-term]   (ignore-term: workers ignore SIGTERM)
"""
import os
import signal
import sys
import time

folder, workers = sys.argv[1], int(sys.argv[2])
ignore = len(sys.argv) > 3 and sys.argv[3] == "ignore-term"
for _ in range(workers):
    pid = os.fork()
    if pid == 0:
        if ignore:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with open(os.path.join(folder, f"tmp.{os.getpid()}"), "w") as f:
            f.write(str(os.getpid()))
        os.rename(os.path.join(folder, f"tmp.{os.getpid()}"), os.path.join(folder, f"worker.{os.getpid()}"))
        while True:
            time.sleep(1)
try:
    fg = "fg" if os.tcgetpgrp(0) == os.getpgrp() else "bg"
except OSError:
    fg = "notty"
with open(os.path.join(folder, "master.tmp"), "w") as f:
    f.write(f"{os.getpid()} {fg}")
os.rename(os.path.join(folder, "master.tmp"), os.path.join(folder, "master"))
while True:
    try:
        os.wait()
    except ChildProcessError:
        time.sleep(1)
