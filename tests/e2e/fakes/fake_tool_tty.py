#!/usr/bin/env python3
"""An interactive tool: writes DIR/master ("<pid> fg|bg"), reads one line from its stdin (the
terminal) into DIR/read, then sleeps until stopped.

Usage: fake_tool_tty.py DIR
"""
import os
import sys
import time

folder = sys.argv[1]
fg = "fg" if os.tcgetpgrp(0) == os.getpgrp() else "bg"
with open(os.path.join(folder, "master.tmp"), "w") as f:
    f.write(f"{os.getpid()} {fg}")
os.rename(os.path.join(folder, "master.tmp"), os.path.join(folder, "master"))
line = sys.stdin.readline()
with open(os.path.join(folder, "read"), "w") as f:
    f.write(line)
time.sleep(600)
