#!/usr/bin/env python3
"""Interleaved A/B timing of whole commands: each round runs every command once, in an order that
flips every round, so a machine whose load drifts slows all of them alike (hyperfine runs one command's
runs back to back, and a drift of a few milliseconds between its blocks passes for a difference).

    bench/ab.py [-n ROUNDS] [-w WARMUP] [--cwd DIR] 'CMD A' 'CMD B' ...

A command is split on blanks (no shell: wrap a pipe in `sh -c '...'` yourself, or a script); its
stdout and stderr go to /dev/null. Prints the median, mean and 10th percentile of each, and each
median's ratio to the first command's.
"""
import argparse
import os
import shlex
import statistics
import time


def run(argv, devnull):
    t = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ,
                          file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, status = os.waitpid(pid, 0)
    took = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"ab: {' '.join(argv)} failed ({os.waitstatus_to_exitcode(status)})")
    return took


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--rounds", type=int, default=200)
    ap.add_argument("-w", "--warmup", type=int, default=5)
    ap.add_argument("--cwd")
    ap.add_argument("commands", nargs="+")
    a = ap.parse_args()
    if a.cwd:
        os.chdir(a.cwd)
    cmds = [shlex.split(c) for c in a.commands]
    devnull = os.open(os.devnull, os.O_WRONLY)
    for c in cmds:
        for _ in range(a.warmup):
            run(c, devnull)
    times = [[] for _ in cmds]
    for i in range(a.rounds):
        order = list(range(len(cmds)))
        for k in order if i % 2 == 0 else reversed(order):
            times[k].append(run(cmds[k], devnull))
    base = statistics.median(times[0])
    for c, t in zip(a.commands, times):
        med = statistics.median(t)
        print(f"{med * 1000:8.2f} ms median {statistics.mean(t) * 1000:8.2f} mean "
              f"{sorted(t)[len(t) // 10] * 1000:8.2f} p10  {med / base:5.2f}x  {c}")


if __name__ == "__main__":
    main()
