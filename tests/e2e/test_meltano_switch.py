"""Switching from Meltano loses nothing (issue 16): real Meltano 4.4.1 (from PyPI) and smelt run the
native connectors, as custom plugins, on the SAME project folder, one after the other.

- Meltano's system database (.meltano/meltano.db): smelt continues from the bookmark Meltano left
  (only new rows), uses settings stored with `meltano config set --store db` (pickled), names one it
  cannot read, and never writes to Meltano's database (Meltano keeps working on it).
- state_backend.uri file:///dir: Meltano, then smelt, then Meltano again, each from the other's bookmark.
- state_backend.uri s3://bucket/prefix against moto's S3 server (127.0.0.1, stopped at the end):
  smelt saves and reads its state there, and Meltano reads smelt's state from the bucket.
- gs:// and azure:// are refused with an error naming the scheme.
- A venv Meltano installed is used when its fingerprint matches (no reinstall, offline).
- `config set meltano <secret>` writes the same `.env` line as Meltano and is redacted."""
import hashlib
import json
import os
import pickle
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import LIBEXEC, SMELT, clean_env, free_port, uv_venv
from meltano_support import MELTANO_ENV, meltano_fixture, native_tap_csv_yml
from net_support import terminate, wait_answering

STATE_ID = "dev:tap-csv-to-target-jsonl"
SECRET = "s3cr3t-Never-Printed-9f2"


meltano = meltano_fixture("meltano[s3]==4.4.1")


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    """moto's S3 server on 127.0.0.1 (a free port); yields its URL; always stopped."""
    venv = uv_venv(tmp_path_factory.mktemp("moto") / "venv", "moto[server]")
    port = free_port()
    proc = subprocess.Popen([str(venv / "bin/moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=lambda: (signal.signal(signal.SIGINT, signal.SIG_DFL),
                                                signal.signal(signal.SIGQUIT, signal.SIG_DFL)))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_answering(proc, lambda: urllib.request.urlopen(url + "/moto-api/", timeout=2).close() is None, 60,
                       lambda: f"moto_server on {url}", poll_s=0.3)
        yield venv, url
    finally:
        if not terminate(proc, 10):
            proc.kill()
            proc.wait()


def project_yml(root, extra=""):
    return f"""\
default_environment: dev
project_id: 6f1c1a2e-0000-4000-8000-000000000016
send_anonymous_usage_stats: false
environments:
- name: dev
plugins:
  extractors:
{native_tap_csv_yml(root)}  loaders:
  - name: target-jsonl
    namespace: target_jsonl
    executable: {LIBEXEC}/target-jsonl
    settings:
    - name: destination_path
    - name: do_timestamp_file
      kind: boolean
    - name: batch_note
{extra}"""


def add_rows(root, first, last):
    path = root / "people.csv"
    text = path.read_text() if path.exists() else "id,name\n"
    path.write_text(text + "".join(f"{i},n{i}\n" for i in range(first, last + 1)))


def ids(path):
    """The ids of the rows target-jsonl appended (it appends, so a re-extraction shows twice)."""
    return [json.loads(line)["id"] for line in path.read_text().splitlines()] if path.exists() else []


def run_meltano(meltano, root, *args, env=None, check=0):
    proc = subprocess.run([str(meltano), *args], cwd=root, env=clean_env({**MELTANO_ENV, **(env or {})}),
                          capture_output=True, text=True, timeout=600)
    if check is not None:
        assert proc.returncode == check, f"meltano {args}: {proc.stdout}\n{proc.stderr}"
    return proc


def run_smelt(root, *args, env=None, check=0):
    proc = subprocess.run([SMELT, *args], cwd=root, env=clean_env(env), capture_output=True, text=True,
                          timeout=600)
    if check is not None:
        assert proc.returncode == check, f"smelt {args}: {proc.stdout}\n{proc.stderr}"
    return proc


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_smelt_continues_from_meltano_system_database(meltano, tmp_path):
    root = tmp_path
    (root / "meltano.yml").write_text(project_yml(root))
    add_rows(root, 1, 3)
    # a setting kept only in Meltano's database (pickled): where target-jsonl writes
    run_meltano(meltano, root, "config", "set", "--store", "db", "target-jsonl", "destination_path", str(root / "out"))
    run_meltano(meltano, root, "run", "tap-csv", "target-jsonl")
    out = root / "out" / "people.jsonl"
    assert ids(out) == [1, 2, 3]
    meltano_db = root / ".meltano" / "meltano.db"
    before = digest(meltano_db)

    # `smelt state list` and `smelt state get` show the bookmark Meltano left
    assert run_smelt(root, "state", "list").stdout.split() == [STATE_ID]
    assert STATE_ID in run_meltano(meltano, root, "state", "list").stdout.split()
    assert json.loads(run_smelt(root, "state", "get", STATE_ID).stdout)["singer_state"]["bookmarks"]["people"][
        "replication_key_value"] == 3
    add_rows(root, 4, 5)
    proc = run_smelt(root, "run", "tap-csv", "target-jsonl")
    # only the new rows, written where Meltano's database says
    assert ids(out) == [1, 2, 3, 4, 5]
    assert f"using the state of '{STATE_ID}' from Meltano's system database {meltano_db}" in proc.stderr
    # smelt never wrote to Meltano's database, and Meltano still reads it
    assert digest(meltano_db) == before
    got = json.loads(run_meltano(meltano, root, "state", "get", STATE_ID).stdout)
    assert got["singer_state"]["bookmarks"]["people"]["replication_key_value"] == 3
    # smelt's own state has the new bookmark
    assert json.loads(run_smelt(root, "state", "get", STATE_ID).stdout)["singer_state"]["bookmarks"]["people"][
        "replication_key_value"] == 5

    # a third run of smelt: smelt's state (newer) wins, nothing is extracted again
    add_rows(root, 6, 6)
    proc = run_smelt(root, "run", "tap-csv", "target-jsonl")
    assert ids(out) == [1, 2, 3, 4, 5, 6]
    assert "from Meltano's system database" not in proc.stderr

    # `smelt state clear` means a full extraction next time: Meltano's older bookmark does not come back
    proc = run_smelt(root, "state", "clear", "--force", STATE_ID)
    assert "still holds state" in proc.stderr
    assert digest(meltano_db) == before
    run_smelt(root, "run", "tap-csv", "target-jsonl")
    assert ids(out) == [1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6]


def test_settings_stored_in_meltano_database(meltano, tmp_path):
    root = tmp_path
    (root / "meltano.yml").write_text(project_yml(root))
    run_meltano(meltano, root, "config", "set", "--store", "db", "target-jsonl", "destination_path", "out dir")
    run_meltano(meltano, root, "config", "set", "--store", "db", "target-jsonl", "do_timestamp_file", "false")
    # a value that is not plain data (a Python tuple): Meltano reads it, smelt names it and goes on
    db = sqlite3.connect(root / ".meltano" / "meltano.db")
    with db:
        db.execute("INSERT INTO plugin_settings(name, namespace, value, enabled) VALUES (?, ?, ?, 1)",
                   ("batch_note", "loaders.target-jsonl.default", pickle.dumps((1, 2), protocol=5)))
    db.close()
    theirs = json.loads(run_meltano(meltano, root, "config", "print", "target-jsonl", "--format", "json").stdout)
    proc = run_smelt(root, "config", "print", "target-jsonl", "--format", "json")
    mine = json.loads(proc.stdout)
    assert theirs["destination_path"] == mine["destination_path"] == "out dir"
    assert theirs["do_timestamp_file"] is mine["do_timestamp_file"] is False
    assert theirs["batch_note"] == [1, 2]  # Meltano unpickles the tuple
    assert "batch_note" not in mine
    assert "setting 'batch_note' of 'loaders.target-jsonl.default' in Meltano's system database is not plain " \
           "data: unsupported pickle opcode 0x86" in proc.stderr
    # the listing says where the value came from, as Meltano's does (values printed as JSON, smelt's form)
    listing = run_smelt(root, "config", "list", "target-jsonl").stdout
    assert 'destination_path [env: TARGET_JSONL_DESTINATION_PATH] current value: "out dir" (from the system ' \
           'database)' in listing


def test_file_backend_shared_both_ways(meltano, tmp_path):
    root, store = tmp_path / "proj", tmp_path / "shared-state"
    root.mkdir()
    (root / "meltano.yml").write_text(project_yml(root, f"state_backend:\n  uri: file://{store}\n"))
    run_meltano(meltano, root, "config", "set", "target-jsonl", "destination_path", str(root / "out"))
    out = root / "out" / "people.jsonl"
    add_rows(root, 1, 2)
    run_meltano(meltano, root, "run", "tap-csv", "target-jsonl")
    state_file = store / STATE_ID / "state.json"
    assert run_smelt(root, "state", "list").stdout.split() == [STATE_ID]
    assert json.loads(state_file.read_text())["completed"]["singer_state"]["bookmarks"]["people"][
        "replication_key_value"] == 2

    add_rows(root, 3, 4)
    run_smelt(root, "run", "tap-csv", "target-jsonl")
    assert ids(out) == [1, 2, 3, 4]
    written = json.loads(state_file.read_text())
    assert written == {"completed": {"singer_state": {"bookmarks": {"people": {
        "replication_key": "id", "replication_key_value": 4}}}}, "partial": {}}
    assert not (store / STATE_ID / "lock").exists()  # released, as Meltano releases it
    # Meltano reads smelt's bookmark from the shared folder
    assert json.loads(run_meltano(meltano, root, "state", "get", STATE_ID).stdout)["singer_state"]["bookmarks"][
        "people"]["replication_key_value"] == 4

    add_rows(root, 5, 5)
    run_meltano(meltano, root, "run", "tap-csv", "target-jsonl")
    assert ids(out) == [1, 2, 3, 4, 5]  # Meltano continued from smelt's bookmark
    assert json.loads(run_smelt(root, "state", "get", STATE_ID).stdout)["singer_state"]["bookmarks"]["people"][
        "replication_key_value"] == 5
    add_rows(root, 6, 6)
    run_smelt(root, "run", "tap-csv", "target-jsonl")
    assert ids(out) == [1, 2, 3, 4, 5, 6]
    # `smelt state clear` clears the shared state: Meltano finds none
    run_smelt(root, "state", "clear", "--force", STATE_ID)
    assert not state_file.exists()
    assert run_meltano(meltano, root, "state", "get", STATE_ID, check=None).stdout.strip() in ("", "{}")


def test_file_backend_waits_for_meltano_lock(tmp_path):
    """A fresh lock file (a timestamp, as Meltano writes it) makes smelt wait; a stale one is taken over."""
    root, store = tmp_path / "proj", tmp_path / "st"
    root.mkdir()
    (root / "meltano.yml").write_text(project_yml(
        root, f"state_backend:\n  uri: file://{store}\n  lock_timeout_seconds: 3\n  lock_retry_seconds: 1\n"))
    add_rows(root, 1, 1)
    (store / STATE_ID).mkdir(parents=True)
    (store / STATE_ID / "lock").write_text(str(time.time()))
    start = time.time()
    run_smelt(root, "run", "tap-csv", "target-jsonl", env={"TARGET_JSONL_DESTINATION_PATH": str(root / "out")})
    assert time.time() - start >= 2.5
    assert json.loads((store / STATE_ID / "state.json").read_text())["completed"]["singer_state"]
    assert not (store / STATE_ID / "lock").exists()


def s3_env(url):
    return {"MELTANO_STATE_BACKEND_S3_AWS_ACCESS_KEY_ID": "AKIDSMELTTEST",
            "MELTANO_STATE_BACKEND_S3_AWS_SECRET_ACCESS_KEY": SECRET,
            "MELTANO_STATE_BACKEND_S3_ENDPOINT_URL": url, "AWS_DEFAULT_REGION": "us-east-1"}


def s3_object(venv, url, bucket, key):
    code = ("import boto3, sys; c = boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id='a', "
            "aws_secret_access_key='b', region_name='us-east-1'); "
            "print(c.get_object(Bucket=sys.argv[2], Key=sys.argv[3])['Body'].read().decode())")
    return subprocess.run([str(venv / "bin/python"), "-c", code, url, bucket, key], capture_output=True,
                          text=True, check=True).stdout


def test_s3_backend(meltano, moto, tmp_path):
    venv, url = moto
    subprocess.run([str(venv / "bin/python"), "-c",
                    "import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id='a', "
                    "aws_secret_access_key='b', region_name='us-east-1').create_bucket(Bucket='smelt-state')", url],
                   check=True)
    root = tmp_path
    (root / "meltano.yml").write_text(project_yml(root, "state_backend:\n  uri: s3://smelt-state/team/state\n"))
    env = {**s3_env(url), "TARGET_JSONL_DESTINATION_PATH": str(root / "out")}
    out = root / "out" / "people.jsonl"
    add_rows(root, 1, 2)
    proc = run_smelt(root, "run", "tap-csv", "target-jsonl", env=env)
    assert SECRET not in proc.stdout + proc.stderr
    stored = json.loads(s3_object(venv, url, "smelt-state", f"team/state/{STATE_ID}/state.json"))
    assert stored["completed"]["singer_state"]["bookmarks"]["people"]["replication_key_value"] == 2
    # smelt reads it back: only the new row
    add_rows(root, 3, 3)
    run_smelt(root, "run", "tap-csv", "target-jsonl", env=env)
    assert ids(out) == [1, 2, 3]
    # Meltano reads smelt's state from the bucket
    got = json.loads(run_meltano(meltano, root, "state", "get", STATE_ID, env=env).stdout)
    assert got["singer_state"]["bookmarks"]["people"]["replication_key_value"] == 3
    # and Meltano's run continues from it
    add_rows(root, 4, 4)
    run_meltano(meltano, root, "run", "tap-csv", "target-jsonl", env=env)
    assert ids(out) == [1, 2, 3, 4]
    add_rows(root, 5, 5)
    run_smelt(root, "run", "tap-csv", "target-jsonl", env=env)
    assert ids(out) == [1, 2, 3, 4, 5]

    # an unreachable endpoint fails the run with a message naming the object, never the secret
    bad = {**env, "MELTANO_STATE_BACKEND_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    proc = run_smelt(root, "run", "tap-csv", "target-jsonl", env=bad, check=1)
    assert f"s3://smelt-state/team/state/{STATE_ID}/state.json" in proc.stderr
    assert SECRET not in proc.stdout + proc.stderr


@pytest.mark.parametrize("uri,scheme", [("gs://bucket/state", "gs"), ("azure://container/state", "azure")])
def test_unsupported_cloud_backends_fail_clearly(meltano, tmp_path, uri, scheme):
    root = tmp_path
    (root / "meltano.yml").write_text(project_yml(root, f"state_backend:\n  uri: {uri}\n"))
    add_rows(root, 1, 1)
    env = {"TARGET_JSONL_DESTINATION_PATH": str(root / "out")}
    # Meltano without the google/azure extra fails too: neither tool runs without its state
    assert run_meltano(meltano, root, "run", "tap-csv", "target-jsonl", env=env, check=None).returncode != 0
    proc = run_smelt(root, "run", "tap-csv", "target-jsonl", env=env, check=1)
    assert f"state backend '{scheme}://' (state_backend.uri) is not supported by smelt" in proc.stderr
    assert not (root / "out" / "people.jsonl").exists()


def test_secret_project_setting_goes_to_dotenv(meltano, tmp_path):
    """`config set meltano <secret>` writes the same .env line as Meltano, redacted, never in the project file."""
    yml = "default_environment: dev\nproject_id: x\nenvironments:\n- name: dev\n"
    results = []
    for tool in ("meltano", "smelt"):
        root = tmp_path / tool
        root.mkdir()
        (root / "meltano.yml").write_text(yml)
        args = ("config", "set", "meltano", "state_backend.s3.aws_secret_access_key", SECRET)
        proc = run_meltano(meltano, root, *args) if tool == "meltano" else run_smelt(root, *args)
        assert SECRET not in proc.stdout + proc.stderr
        assert "(redacted)" in proc.stdout
        listing = (run_meltano(meltano, root, "config", "list", "meltano") if tool == "meltano"
                   else run_smelt(root, "config", "list", "meltano")).stdout
        line = [x for x in listing.splitlines() if x.startswith("state_backend.s3.aws_secret_access_key ")][0]
        assert SECRET not in listing and "current value: (redacted)" in line
        assert (root / "meltano.yml").read_text() == yml
        results.append((root / ".env").read_text())
    assert results[0] == results[1] == f"MELTANO_STATE_BACKEND_S3_AWS_SECRET_ACCESS_KEY='{SECRET}'\n"


def test_meltano_installed_venv_is_used(meltano, tmp_path):
    """A venv Meltano installed (matching fingerprint) runs under smelt without a reinstall, even offline."""
    root = tmp_path
    add_rows(root, 1, 2)
    (root / "meltano.yml").write_text(f"""\
default_environment: dev
project_id: 6f1c1a2e-0000-4000-8000-000000000017
environments:
- name: dev
plugins:
  extractors:
{native_tap_csv_yml(root)}  loaders:
  - name: target-jsonl-py
    namespace: target_jsonl
    pip_url: target-jsonl
    executable: target-jsonl
    config:
      destination_path: out
""")
    run_meltano(meltano, root, "install")
    assert (root / ".meltano/loaders/target-jsonl-py/venv/.meltano_plugin_fingerprint").exists()
    # no package index and no cache: any reinstall fails
    offline = {"UV_NO_CACHE": "1", "UV_INDEX_URL": "http://127.0.0.1:9/simple", "UV_OFFLINE": "1",
               "PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_NO_CACHE_DIR": "1", "PIP_NO_INDEX": "1"}
    proc = run_smelt(root, "run", "tap-csv", "target-jsonl-py", env=offline)
    assert "target-jsonl-py: using the virtualenv Meltano installed: " \
           f"{root}/.meltano/loaders/target-jsonl-py/venv" in proc.stderr
    assert not (root / ".smelt/loaders/target-jsonl-py").exists()
    files = list((root / "out").glob("people*.jsonl"))
    assert [json.loads(x)["id"] for x in files[0].read_text().splitlines()] == [1, 2]
    # Meltano, offline too, still runs from its venv after smelt used it
    add_rows(root, 3, 3)
    run_meltano(meltano, root, "run", "tap-csv", "target-jsonl-py", env=offline)
    # a pip_url that no longer matches the fingerprint is not used: smelt installs (and fails offline)
    text = (root / "meltano.yml").read_text().replace("pip_url: target-jsonl", "pip_url: target-jsonl==0.1.4")
    (root / "meltano.yml").write_text(text)
    proc = run_smelt(root, "run", "tap-csv", "target-jsonl-py", env=offline, check=None)
    assert proc.returncode != 0
    assert "using the virtualenv Meltano installed" not in proc.stderr
