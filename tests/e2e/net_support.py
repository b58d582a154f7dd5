"""Helpers of the e2e tests that start a server process on 127.0.0.1 (smelt serve, a tool's web
server): wait until it answers, and stop it with SIGTERM, then harder."""
import signal
import subprocess
import time


def wait_answering(proc, probe, deadline_s, describe, poll_s=0.2):
    """Poll probe() until it returns True (the server answers); OSError from probe() counts as not yet.
    Raises AssertionError naming describe() (a diagnostic text, e.g. the server's stderr) when proc exits
    first, TimeoutError when deadline_s passes."""
    end = time.time() + deadline_s
    while time.time() < end:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}: {describe()}")
        try:
            if probe():
                return
        except OSError:
            pass
        time.sleep(poll_s)
    raise TimeoutError(f"the server did not answer within {deadline_s}s: {describe()}")


def terminate(proc, grace_s=30):
    """SIGTERM proc if it still runs and wait up to grace_s; True when it has exited, False when it
    is still running (the caller kills it)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            return False
    return True
