"""smelt install of a pip_url that pins every requirement: exactly those versions, without resolving
(--no-deps, then a check); pins that miss a dependency are resolved and the plugin still works.
Real packages from PyPI through uv (the test venv's, first on PATH) and the shared tool cache."""
import subprocess


def version(venv, module):
    proc = subprocess.run([str(venv / "bin/python"), "-c", f"import {module}; print({module}.__version__)"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_pinned_pip_url_installs_exactly_the_pins(project):
    project.write("""\
default_environment: dev
environments: [{name: dev}]
plugins:
  utilities:
  - name: complete
    namespace: complete
    pip_url: six==1.16.0
  - name: partial
    namespace: partial
    pip_url: requests==2.31.0
""")
    proc = project.smelt("install", check=0)
    assert "complete: installed" in proc.stderr and "partial: installed" in proc.stderr, proc.stderr
    sysdir = project.root / ".smelt/utilities"
    # the pinned version, not the newest six
    assert version(sysdir / "complete/venv", "six") == "1.16.0"
    log = (sysdir / "complete/install.log").read_text()
    commands = [line for line in log.splitlines() if line.startswith("$ ")]
    assert " pip install " in commands[1] and " --no-deps six==1.16.0" in commands[1], log
    assert " pip check " in commands[2], log
    assert len(commands) == 3, log  # no resolving install after the check
    # requests' dependencies were not pinned: they were resolved, and requests imports
    assert version(sysdir / "partial/venv", "requests") == "2.31.0"
    assert version(sysdir / "partial/venv", "urllib3")
    commands = [line for line in (sysdir / "partial/install.log").read_text().splitlines() if line.startswith("$ ")]
    assert " --no-deps " in commands[1] and " pip check " in commands[2]
    assert " pip install " in commands[3] and " --no-deps " not in commands[3]
