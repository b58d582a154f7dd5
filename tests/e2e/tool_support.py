"""Helpers of the e2e tests that install a real tool (from PyPI) through smelt with the shared tool
cache: a project folder whose smelt commands get conftest.tool_env() plus the tool's own variables,
and an install that fails the test loudly."""
from pathlib import Path

import conftest
from conftest import Smelt


class ToolProject:
    """A project folder (root, with a data/ folder) for a tool's e2e tests. Every smelt command it runs
    gets conftest.tool_env() (the shared download cache, the test venv's uv on PATH) with the
    variables in tool_vars (e.g. the tool's telemetry off) and a command's own env on top."""

    def __init__(self, root, tool_vars=None):
        self.root = Path(root)
        self.cli = Smelt(self.root)
        self.tool_vars = dict(tool_vars or {})
        (self.root / "data").mkdir(exist_ok=True)

    def env(self, extra=None):
        """The environment of this project's smelt commands, with extra on top."""
        return conftest.tool_env({**self.tool_vars, **(extra or {})})

    def smelt(self, *args, env=None, **kw):
        """conftest.Smelt's call (a CompletedProcess) in root with env() and env on top."""
        return self.cli(*args, env=self.env(env), **kw)

    def install(self, *names, timeout=1800):
        """install() of names in this project, with this project's tool variables."""
        return install(self.cli, *names, env=self.tool_vars, timeout=timeout)


def install(smelt, *names, env=None, timeout=1800):
    """`smelt install names` (real packages from PyPI) through smelt (a conftest.Smelt) with
    conftest.tool_env(env); a failure fails the test with smelt's exit code and output."""
    proc = smelt("install", *names, env=conftest.tool_env(env), timeout=timeout)
    assert proc.returncode == 0, f"smelt install {' '.join(names)} exited {proc.returncode}:\n" \
                                 f"{proc.stdout}\n{proc.stderr}"
    return proc
