"""Real-world project files resolve as Meltano resolves them (issue 16), compared with real Meltano 4.4.1
(from PyPI): for every fixture project under data/meltano_projects/ (hand-written from Meltano's
documentation and public example projects; see the comment at the top of each meltano.yml), both tools
run `config print PLUGIN --plugin-type TYPE --format json` for every plugin of the project (the main file
and the files its include_paths match) on copies of the project, and the printed configs must be equal.
Plugin definitions come from the loopback Hub (tests/fixtures/hub) for both tools, so nothing is fetched
from the network.

What the fixtures cover: include_paths globs (a file no glob matches is ignored), legacy files
(`transforms` plugins, schedules with extractor/loader/transform, `files` plugins named airflow/dbt),
environments overriding a plugin not defined under plugins:, unquoted YAML timestamps, folded
multi-line and `${MELTANO__PYTHON_VERSION}` pip_urls, object-form commands, inherit_from chains with
nested config, settings with no value, unset $VARs in nested config, defaults written as strings,
dotted setting names of Singer and non-Singer plugins (Airflow's own shape), relative dates, defaults
that name the tool's context, and a variant spelled with another case.

Every difference that remains on purpose is in KNOWN below, with its reason."""
import glob
import json
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from conftest import HUB_FIXTURES, SMELT, clean_env, uv_venv

DATA = Path(__file__).resolve().parent / "data" / "meltano_projects"
PROJECTS = sorted(p.name for p in DATA.iterdir() if (p / "meltano.yml").is_file())
MELTANO_ENV = {"MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", "MELTANO_DISABLE_TRACKING": "true",
               "MELTANO_CLI_DISABLE_VERSION_CHECK": "true"}
# extra runs per project: global options before `config`
RUNS = {"environments": [[], ["--environment", "dev"], ["--environment", "prod"]]}
# plugins a project's files mention that neither tool may find (files include_paths does not match)
ABSENT = {"include_paths": [("extractors", "tap-ignored"), ("loaders", "target-unused")]}
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$")


def zone_kept(m, s):
    return isinstance(m, str) and isinstance(s, str) and re.fullmatch(re.escape(m) + r"(Z|[+-]\d{2}:\d{2})", s)


# (project, plugin, setting) -> (test of Meltano's and Smelt's values, why they differ on purpose)
KNOWN = {
    ("settings_values", "tap-custom", "agent"): (
        lambda m, s: m == "Meltano/4.4.1" and re.fullmatch(r"Smelt/\d+\.\d+\.\d+", s),
        "$MELTANO_USER_AGENT names the tool that runs the plugin: Smelt/<version>"),
    ("yaml_forms", "tap-gitlab", "start_date"): (
        zone_kept, "an unquoted timestamp keeps its zone: Meltano's YAML loader drops it, which moves the instant"),
    ("yaml_forms", "tap-dated", "as_of"): (
        zone_kept, "an unquoted timestamp keeps its zone: Meltano's YAML loader drops it, which moves the instant"),
}


# (identical, compared) printed configs per project: 33 of 36 in all.  A config is identical when every value
# is equal, a relative date being the same instant resolved seconds apart; the 3 others differ only as KNOWN
# says (settings_values tap-custom, yaml_forms tap-gitlab and tap-dated), and every KNOWN difference must
# still be there, so a change either way shows here.
IDENTICAL = {"environments": (6, 6), "include_paths": (3, 3), "inherit": (5, 5), "legacy": (7, 7),
             "settings_values": (7, 8), "variant_case": (2, 2), "yaml_forms": (3, 5)}


def same_instant(m, s):
    """Two relative dates resolved a few seconds apart (`1 month ago` by each tool when it ran)."""
    if not (isinstance(m, str) and isinstance(s, str) and ISO.match(m) and ISO.match(s)):
        return False
    return abs((datetime.fromisoformat(m) - datetime.fromisoformat(s)).total_seconds()) < 600


@pytest.fixture(scope="module")
def meltano(tmp_path_factory):
    venv = uv_venv(tmp_path_factory.mktemp("meltano") / "venv", "meltano==4.4.1")
    return venv / "bin/meltano"


@pytest.fixture(scope="module")
def hub():
    from hubserver import HubServer
    srv = HubServer(str(HUB_FIXTURES)).start()
    try:
        yield {"MELTANO_HUB_API_ROOT": srv.api_root, "SMELT_HUB_URL": srv.api_root}
    finally:
        srv.stop()


def project_plugins(root):
    """(type, name) of every plugin in meltano.yml and the files its include_paths globs match."""
    main = yaml.safe_load((root / "meltano.yml").read_text())
    docs = [main]
    for pattern in main.get("include_paths") or []:
        for f in sorted(glob.glob(str(root / pattern))):
            docs.append(yaml.safe_load(Path(f).read_text()))
    return [(t, p["name"]) for d in docs for t, plugins in (d.get("plugins") or {}).items() for p in plugins or []]


class Copies:
    def __init__(self, meltano, hub, tmp_path, name):
        self.meltano, self.hub, self.roots = meltano, hub, {}
        for tool in ("meltano", "smelt"):
            self.roots[tool] = tmp_path / tool
            shutil.copytree(DATA / name, self.roots[tool])

    def run(self, tool, *args):
        exe = [str(self.meltano)] if tool == "meltano" else [SMELT]
        env = {**MELTANO_ENV, **self.hub} if tool == "meltano" else self.hub
        proc = subprocess.run([*exe, *args], cwd=self.roots[tool], env=clean_env(env), capture_output=True,
                              text=True, timeout=600)
        proc.stdout = proc.stdout.replace(str(self.roots[tool]), "<project>")
        return proc

    def config(self, tool, opts, ptype, name):
        proc = self.run(tool, *opts, "config", "print", name, "--plugin-type", ptype, "--format", "json")
        return proc, (json.loads(proc.stdout) if proc.returncode == 0 else None)


def compare(project, name, m, s):
    """(the differences of Smelt's printed config s from Meltano's m less the known ones, the known ones as
    (plugin, setting))."""
    diffs, known_found = [], set()
    for key in sorted(set(m) | set(s)):
        mv, sv = m.get(key, "<absent>"), s.get(key, "<absent>")
        if mv == sv or same_instant(mv, sv):
            continue
        known = KNOWN.get((project, name, key))
        if known and known[0](mv, sv):
            known_found.add((name, key))
            continue
        diffs.append(f"{key}: meltano={json.dumps(mv)} smelt={json.dumps(sv)}")
    return diffs, known_found


@pytest.mark.parametrize("project", PROJECTS)
def test_config_print_matches_meltano(meltano, hub, tmp_path, project):
    pair = Copies(meltano, hub, tmp_path, project)
    failures, identical, total, known_seen = [], 0, 0, set()
    for opts in RUNS.get(project, [[]]):
        for ptype, name in project_plugins(DATA / project):
            (mp, m), (sp, s) = pair.config("meltano", opts, ptype, name), pair.config("smelt", opts, ptype, name)
            total += 1
            where = f"{' '.join(opts)} {ptype} {name}".strip()
            if mp.returncode or sp.returncode:
                # both refuse, with Meltano's message (e.g. a variant the Hub does not know)
                message = sp.stderr.strip().rpartition("error: ")[2]
                if mp.returncode == sp.returncode == 1 and message and message in mp.stderr:
                    identical += 1
                else:
                    failures.append(f"{where}: meltano exit {mp.returncode}, smelt exit {sp.returncode}\n"
                                    f"{mp.stderr[-600:]}\n{sp.stderr[-600:]}")
                continue
            diffs, known_found = compare(project, name, m, s)
            known_seen |= known_found
            identical += not diffs and not known_found
            if diffs:
                failures.append(f"{where}:\n  " + "\n  ".join(diffs))
    print(f"{project}: {identical} of {total} printed configs identical, the rest differ only as KNOWN says")
    assert not failures, "\n".join(failures)
    assert known_seen == {(name, key) for (p, name, key) in KNOWN if p == project}, known_seen
    assert (identical, total) == IDENTICAL[project]
    for ptype, name in ABSENT.get(project, []):
        mp, _ = pair.config("meltano", [], ptype, name)
        sp, _ = pair.config("smelt", [], ptype, name)
        assert mp.returncode == sp.returncode == 1, (name, mp.stderr[-400:], sp.stderr[-400:])
        assert f"'{name}'" in sp.stderr


def test_legacy_schedules_list_as_in_meltano(meltano, hub, tmp_path):
    """Schedules of the old shape (extractor/loader/transform) list with Meltano's fields and values."""
    pair = Copies(meltano, hub, tmp_path, "legacy")
    mp, sp = (pair.run(tool, "schedule", "list", "--format", "json") for tool in ("meltano", "smelt"))
    assert mp.returncode == sp.returncode == 0, (mp.stderr[-400:], sp.stderr[-400:])
    theirs, mine = json.loads(mp.stdout)["schedules"], json.loads(sp.stdout)["schedules"]
    assert theirs["job"] == mine["job"] == []
    assert [s["name"] for s in theirs["elt"]] == [s["name"] for s in mine["elt"]] == ["gitlab-to-postgres"]
    # every field Meltano prints, Smelt prints with the same value (Smelt adds a few of its own)
    assert {k: mine["elt"][0].get(k) for k in theirs["elt"][0]} == theirs["elt"][0]


def test_extras_of_a_legacy_transform_and_an_extractor(meltano, hub, tmp_path):
    """`config print --extras` prints what Meltano prints: a legacy dbt `transforms` plugin gets its package
    name from its namespace and the Hub definition's `vars` under the project's (merged key by key), and an
    object extra (`vars`, `metadata`) prints its leaves flattened too ("_vars.schema")."""
    pair = Copies(meltano, hub, tmp_path, "legacy")
    for ptype, name in (("transforms", "tap-gitlab"), ("extractors", "tap-gitlab")):
        got = {}
        for tool in ("meltano", "smelt"):
            proc = pair.run(tool, "config", "print", name, "--plugin-type", ptype, "--extras")
            assert proc.returncode == 0, proc.stderr[-400:]
            got[tool] = json.loads(proc.stdout)
        assert got["meltano"] == got["smelt"], (ptype, got)
        assert list(got["meltano"]) == list(got["smelt"]), (ptype, got)
    transform = json.loads(pair.run("smelt", "config", "print", "tap-gitlab", "--plugin-type", "transforms",
                                          "--extras").stdout)
    assert transform["_package_name"] == "tap_gitlab"
    assert transform["_vars"] == {"schema": "{{ env_var('DBT_SOURCE_SCHEMA') }}",
                                  "ultimate_license": "{{ env_var('GITLAB_API_ULTIMATE_LICENSE', False) }}"}
    assert transform["_vars.ultimate_license"] == transform["_vars"]["ultimate_license"]


def test_inherit_from_child_has_its_own_namespace(meltano, hub, tmp_path):
    """A plugin with inherit_from loads into a schema named after itself, as with Meltano (its namespace is
    its own name), not into its parent's."""
    pair = Copies(meltano, hub, tmp_path, "inherit")
    for ptype, name, extra in (("extractors", "tap-github-team-a", "_load_schema"),
                               ("extractors", "tap-github-team-a-nightly", "_load_schema"),
                               ("loaders", "target-jsonl-archive", "_dialect")):
        got = {}
        for tool in ("meltano", "smelt"):
            proc = pair.run(tool, "config", "print", name, "--plugin-type", ptype, "--extras")
            assert proc.returncode == 0, proc.stderr[-400:]
            got[tool] = json.loads(proc.stdout)[extra]
        assert got["meltano"] == got["smelt"] == name.replace("-", "_")
