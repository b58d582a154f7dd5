"""Runs Airflow components side by side and stops them together.

Smelt's airflow adapter starts this with the venv's python for
`smelt invoke airflow:ui` (api-server, scheduler, dag-processor) and
`airflow:scheduler` (scheduler, dag-processor):

    python smelt_airflow_launcher.py COMPONENT... [-- EXTRA ARGS FOR api-server]

Each component is `airflow <component>` in its own process group.  When
one of them exits, or on SIGTERM/SIGINT, the others are stopped (SIGTERM
to each group, SIGKILL after 30 s): nothing outlives the launcher.  The
exit code is the first failing component's, 0 after a requested stop.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

GRACE_S = 30


def main(argv: list) -> int:
    components, extra = [], []
    args = argv[1:]
    if "--" in args:
        i = args.index("--")
        components, extra = args[:i], args[i + 1:]
    else:
        components = [a for a in args if not a.startswith("-")]
        extra = [a for a in args if a.startswith("-")]
    if not components:
        print("usage: smelt_airflow_launcher.py COMPONENT... [-- ARGS]", file=sys.stderr)
        return 2
    airflow = os.path.join(os.path.dirname(sys.executable), "airflow")
    stop = {"signal": 0}

    def on_signal(signum, _frame):
        stop["signal"] = signum

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    procs = {}
    for name in components:
        cmd = [airflow, name] + (extra if name == "api-server" else [])
        procs[name] = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
        print(f"started airflow {name} (pid {procs[name].pid})", file=sys.stderr, flush=True)

    rc = 0
    while not stop["signal"]:
        ended = [(n, p.returncode) for n, p in procs.items() if p.poll() is not None]
        if ended:
            name, code = ended[0]
            print(f"airflow {name} exited with code {code}: stopping the others", file=sys.stderr, flush=True)
            rc = code or 1
            break
        time.sleep(0.5)

    for p in procs.values():
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + GRACE_S
    for p in procs.values():
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for p in procs.values():
        # Whatever is left in each component's group (workers) goes now.
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        p.wait()
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
