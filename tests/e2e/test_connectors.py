"""End-to-end tests of the native Singer connectors (tap-csv, target-sqlite,
target-jsonl) built under $SMELT_STAGE/libexec/smelt.  Every pipeline is a
real shell-free tap | target pipe (subprocess.Popen)."""

import csv
import io
import json
import os
import re
import sqlite3
import subprocess

import pytest

STAGE = os.environ.get("SMELT_STAGE")
assert STAGE, "SMELT_STAGE must point at the build stage directory"
CONN = os.path.join(STAGE, "libexec", "smelt")
TAP = os.path.join(CONN, "tap-csv")
SQLITE = os.path.join(CONN, "target-sqlite")
JSONL = os.path.join(CONN, "target-jsonl")
TIMEOUT = 120


# --- helpers (kept here: conftest.py belongs to the host tests) ---

def write_json(path, obj):
    path.write_text(json.dumps(obj))
    return str(path)


def run(args, cwd, stdin_bytes=None):
    return subprocess.run(args, cwd=cwd, input=stdin_bytes, capture_output=True, timeout=TIMEOUT)


def pipeline(tap_args, target_args, cwd):
    """tap | target; returns (tap rc, tap stderr, target rc, target stdout, target stderr)."""
    tap_err_path = os.path.join(cwd, "tap.stderr")
    with open(tap_err_path, "wb") as tap_err:
        tap = subprocess.Popen(tap_args, cwd=cwd, stdout=subprocess.PIPE, stderr=tap_err)
        tgt = subprocess.Popen(target_args, cwd=cwd, stdin=tap.stdout,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        tap.stdout.close()  # the target owns the read end now
        out, err = tgt.communicate(timeout=TIMEOUT)
        tap_rc = tap.wait(timeout=TIMEOUT)
    with open(tap_err_path, "rb") as f:
        tap_stderr = f.read().decode()
    return tap_rc, tap_stderr, tgt.returncode, out.decode(), err.decode()


def state_lines(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def messages(stdout_bytes):
    return [json.loads(line) for line in stdout_bytes.decode().splitlines() if line.strip()]


def rows(db, sql):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def columns(db, table):
    return [r[1] for r in rows(db, f'PRAGMA table_info("{table}")')]


def tap_config(tmp_path, files, **extra):
    cfg = {"files": files}
    cfg.update(extra)
    return write_json(tmp_path / "tap.json", cfg)


def sqlite_config(tmp_path, **extra):
    cfg = {"database": "out.db"}
    cfg.update(extra)
    return write_json(tmp_path / "target.json", cfg)


def singer_lines(*msgs):
    return ("\n".join(json.dumps(m) for m in msgs) + "\n").encode()


USERS_SCHEMA = {"type": "SCHEMA", "stream": "users", "key_properties": ["id"],
                "schema": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "name": {"type": ["string", "null"]}}}}


# --- tap-csv | target-sqlite ---

AWKWARD = (
    "\ufeffid,name,note,amount,flag,when\r\n"
    '1,"Smith, John","He said ""hi""",3.25,true,2024-01-01T10:00:00Z\r\n'
    '2,Zoë 🚀 日本,"line one\nline two",-0.5,false,2024-01-02T10:00:00+02:00\r\n'
    '3,"","windows\r\nbreak",,TRUE,\r\n'
    '4,"tab\there","back\\slash and ctrl \x01",1e3,False,2024-01-04 10:00:00\r\n'
    '5,plain,"ends with comma,",0,true,2024-01-05T10:00:00.123Z'
)


def expected_awkward():
    reader = csv.reader(io.StringIO(AWKWARD.lstrip("\ufeff"), newline=""))
    next(reader)
    out = []
    for r in reader:
        out.append((int(r[0]), r[1], r[2], float(r[3]) if r[3] else None,
                    {"true": 1, "false": 0}[r[4].lower()], r[5] or None))
    return out


def test_round_trip_awkward_csv(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "awkward.csv").write_bytes(AWKWARD.encode())
    cfg = tap_config(tmp_path, [{"entity": "awkward", "path": "data/awkward.csv", "keys": ["id"]}])
    tap_rc, tap_err, rc, out, err = pipeline([TAP, "--config", cfg],
                                             [SQLITE, "--config", sqlite_config(tmp_path)], tmp_path)
    assert tap_rc == 0, tap_err
    assert rc == 0, err
    got = rows(str(tmp_path / "out.db"),
               'SELECT id, name, note, amount, flag, "when" FROM awkward ORDER BY id')
    assert got == expected_awkward()
    types = dict((r[1], r[2]) for r in rows(str(tmp_path / "out.db"), "PRAGMA table_info(awkward)"))
    assert types == {"id": "INTEGER", "name": "TEXT", "note": "TEXT", "amount": "REAL",
                     "flag": "INTEGER", "when": "TEXT"}
    assert "awkward: 5 records upserted" in err
    # a full-table stream still ends with one state line
    assert len(state_lines(out)) == 1


def test_tap_output_is_valid_singer(tmp_path):
    (tmp_path / "a.csv").write_bytes(AWKWARD.encode())
    cfg = tap_config(tmp_path, [{"entity": "a", "path": "a.csv", "keys": ["id"],
                                 "replication_key": "id"}], add_metadata_columns=True)
    res = run([TAP, "--config", cfg], tmp_path)
    assert res.returncode == 0, res.stderr
    msgs = messages(res.stdout)
    schema, recs = msgs[0], [m for m in msgs if m["type"] == "RECORD"]
    assert schema["type"] == "SCHEMA" and schema["key_properties"] == ["id"]
    assert schema["bookmark_properties"] == ["id"]
    props = schema["schema"]["properties"]
    assert props["id"]["type"] == ["integer", "null"]
    assert props["when"]["format"] == "date-time"
    assert props["_sdc_source_lineno"]["type"][0] == "integer"
    assert [r["record"]["id"] for r in recs] == [1, 2, 3, 4, 5]
    assert recs[2]["record"]["name"] == ""          # empty string column stays ""
    assert recs[2]["record"]["amount"] is None      # empty typed column is null
    assert recs[3]["record"]["amount"] == 1000      # a JSON number
    assert [r["record"]["_sdc_source_lineno"] for r in recs] == [2, 3, 5, 7, 8]
    assert recs[0]["record"]["_sdc_source_file"] == "a.csv"
    assert all(re.match(r"\d{4}-\d\d-\d\dT", r["time_extracted"]) for r in recs)
    assert msgs[-1] == {"type": "STATE", "value": {"bookmarks": {"a": {
        "replication_key": "id", "replication_key_value": 5}}}}


def test_incremental_run_moves_only_new_rows(tmp_path):
    data = tmp_path / "events.csv"
    data.write_text("id,updated_at,what\n1,2024-01-01T00:00:00Z,a\n2,2024-01-03T00:00:00Z,b\n"
                    "3,2024-01-02T00:00:00Z,c\n")
    cfg = tap_config(tmp_path, [{"entity": "events", "path": "events.csv", "keys": ["id"],
                                 "replication_key": "updated_at"}])
    tcfg = sqlite_config(tmp_path)
    tap_rc, tap_err, rc, out, err = pipeline([TAP, "--config", cfg], [SQLITE, "--config", tcfg], tmp_path)
    assert (tap_rc, rc) == (0, 0), tap_err + err
    first = state_lines(out)[-1]
    assert first == {"bookmarks": {"events": {"replication_key": "updated_at",
                                              "replication_key_value": "2024-01-03T00:00:00Z"}}}
    state_file = write_json(tmp_path / "state.json", first)

    with data.open("a") as f:
        f.write("4,2024-01-03T00:00:00Z,same-as-bookmark\n5,2024-01-04T00:00:00Z,d\n"
                "6,2024-01-05T00:00:00Z,e\n")
    tap_only = run([TAP, "--config", cfg, "--state", state_file], tmp_path)
    assert tap_only.returncode == 0, tap_only.stderr
    recs = [m["record"]["id"] for m in messages(tap_only.stdout) if m["type"] == "RECORD"]
    assert recs == [5, 6]   # strictly greater than the bookmark

    tap_rc, tap_err, rc, out, err = pipeline([TAP, "--config", cfg, "--state", state_file],
                                             [SQLITE, "--config", tcfg], tmp_path)
    assert (tap_rc, rc) == (0, 0), tap_err + err
    assert state_lines(out)[-1]["bookmarks"]["events"]["replication_key_value"] == "2024-01-05T00:00:00Z"
    assert "events: 2 records upserted" in err
    assert rows(str(tmp_path / "out.db"), "SELECT id FROM events ORDER BY id") == \
        [(1,), (2,), (3,), (5,), (6,)]


def test_incremental_numeric_key_and_state_every_10000(tmp_path):
    with (tmp_path / "n.csv").open("w") as f:
        f.write("seq,v\n")
        for i in range(1, 25001):
            f.write(f"{i},{i * 2}\n")
    cfg = tap_config(tmp_path, [{"entity": "n", "path": "n.csv", "replication_key": "seq"}])
    res = run([TAP, "--config", cfg], tmp_path)
    states = [m["value"] for m in messages(res.stdout) if m["type"] == "STATE"]
    assert [s["bookmarks"]["n"]["replication_key_value"] for s in states] == [10000, 20000, 25000]
    state = write_json(tmp_path / "state.json", {"bookmarks": {"n": {"replication_key": "seq",
                                                                     "replication_key_value": 24998}}})
    res = run([TAP, "--config", cfg, "--state", state], tmp_path)
    assert [m["record"]["seq"] for m in messages(res.stdout) if m["type"] == "RECORD"] == [24999, 25000]


def test_schema_change_adds_column(tmp_path):
    data = tmp_path / "people.csv"
    data.write_text("id,name\n1,ann\n2,bob\n")
    cfg = tap_config(tmp_path, [{"entity": "people", "path": "people.csv", "keys": ["id"]}])
    tcfg = sqlite_config(tmp_path)
    assert pipeline([TAP, "--config", cfg], [SQLITE, "--config", tcfg], tmp_path)[2] == 0
    data.write_text("id,name,email\n2,bob,b@x.org\n3,cy,c@x.org\n")
    tap_rc, tap_err, rc, out, err = pipeline([TAP, "--config", cfg], [SQLITE, "--config", tcfg], tmp_path)
    assert (tap_rc, rc) == (0, 0), tap_err + err
    assert "added column 'email'" in err
    db = str(tmp_path / "out.db")
    assert columns(db, "people") == ["id", "name", "email"]
    assert rows(db, "SELECT id, name, email FROM people ORDER BY id") == \
        [(1, "ann", None), (2, "bob", "b@x.org"), (3, "cy", "c@x.org")]


def test_second_schema_mid_stream(tmp_path):
    v2 = json.loads(json.dumps(USERS_SCHEMA))
    v2["schema"]["properties"]["age"] = {"type": ["integer", "null"]}
    v2["schema"]["properties"]["tags"] = {"type": ["array", "null"]}
    data = singer_lines(
        USERS_SCHEMA,
        {"type": "RECORD", "stream": "users", "record": {"id": 1, "name": "a"}},
        v2,
        {"type": "RECORD", "stream": "users", "record": {"id": 2, "name": "b", "age": 30,
                                                         "tags": ["x", {"k": 1}]}},
        {"type": "RECORD", "stream": "users", "record": {"id": 1, "name": "a2", "age": 5}},
        {"type": "STATE", "value": {"done": True}})
    res = run([SQLITE, "--config", sqlite_config(tmp_path)], tmp_path, data)
    assert res.returncode == 0, res.stderr
    db = str(tmp_path / "out.db")
    assert columns(db, "users") == ["id", "name", "age", "tags"]
    assert rows(db, "SELECT id, name, age, tags FROM users ORDER BY id") == \
        [(1, "a2", 5, None), (2, "b", 30, '["x",{"k":1}]')]
    assert state_lines(res.stdout.decode()) == [{"done": True}]


def test_append_without_keys_and_table_prefix(tmp_path):
    schema = {"type": "SCHEMA", "stream": "my-log.v1", "key_properties": [],
              "schema": {"properties": {"msg": {"type": "string"}}}}
    data = singer_lines(schema, *[{"type": "RECORD", "stream": "my-log.v1", "record": {"msg": "m"}}] * 3)
    res = run([SQLITE, "--config", sqlite_config(tmp_path, table_prefix="raw_")], tmp_path, data)
    assert res.returncode == 0, res.stderr
    assert rows(str(tmp_path / "out.db"), "SELECT count(*) FROM raw_my_log_v1") == [(3,)]


def test_activate_version_and_record_metadata(tmp_path):
    schema = json.loads(json.dumps(USERS_SCHEMA))
    tcfg = sqlite_config(tmp_path, add_record_metadata=True)
    run1 = singer_lines(schema, {"type": "ACTIVATE_VERSION", "stream": "users", "version": 1},
                        *[{"type": "RECORD", "stream": "users", "version": 1,
                           "time_extracted": "2024-01-01T00:00:00Z",
                           "record": {"id": i, "name": f"v1-{i}"}} for i in (1, 2, 3)],
                        {"type": "ACTIVATE_VERSION", "stream": "users", "version": 1})
    assert run([SQLITE, "--config", tcfg], tmp_path, run1).returncode == 0
    run2 = singer_lines(schema, {"type": "ACTIVATE_VERSION", "stream": "users", "version": 2},
                        *[{"type": "RECORD", "stream": "users", "version": 2,
                           "record": {"id": i, "name": f"v2-{i}"}} for i in (2, 4)],
                        {"type": "ACTIVATE_VERSION", "stream": "users", "version": 2})
    res = run([SQLITE, "--config", tcfg], tmp_path, run2)
    assert res.returncode == 0, res.stderr
    db = str(tmp_path / "out.db")
    assert rows(db, "SELECT id, name, _sdc_table_version FROM users ORDER BY id") == \
        [(2, "v2-2", 2), (4, "v2-4", 2)]
    cols = columns(db, "users")
    for c in ("_sdc_extracted_at", "_sdc_received_at", "_sdc_batched_at", "_sdc_deleted_at",
              "_sdc_table_version"):
        assert c in cols
    assert rows(db, "SELECT count(*) FROM users WHERE _sdc_received_at LIKE '20%' "
                    "AND _sdc_batched_at LIKE '20%'") == [(2,)]


def test_target_sqlite_validation_error(tmp_path):
    data = singer_lines(
        USERS_SCHEMA,
        {"type": "RECORD", "stream": "users", "record": {"id": 1, "name": "a"}},
        {"type": "STATE", "value": {"pos": 1}},
        {"type": "RECORD", "stream": "users", "record": {"id": 2, "name": "b"}},
        {"type": "RECORD", "stream": "users", "record": {"id": "abc", "name": "c"}},
        {"type": "STATE", "value": {"pos": 3}},
        {"type": "RECORD", "stream": "users", "record": {"id": 4, "name": "d"}})
    res = run([SQLITE, "--config", sqlite_config(tmp_path)], tmp_path, data)
    assert res.returncode == 1
    err = res.stderr.decode()
    assert err.startswith("target-sqlite: error: ") or "\ntarget-sqlite: error: " in err
    assert "stream 'users'" in err and "record 3" in err and "field 'id'" in err
    # nothing after the bad record is acknowledged
    assert {"pos": 3} not in state_lines(res.stdout.decode())


@pytest.mark.parametrize("lines,needle", [
    ([{"type": "RECORD", "stream": "ghost", "record": {"id": 1}}],
     "stream 'ghost': record 1: RECORD before any SCHEMA"),
    ([USERS_SCHEMA, {"type": "RECORD", "stream": "users", "record": {"id": 1}},
      {"type": "RECORD", "stream": "users", "record": "nope"}],
     "stream 'users': record 2: 'record' is not an object"),
])
def test_target_sqlite_rejects_bad_records(tmp_path, lines, needle):
    res = run([SQLITE, "--config", sqlite_config(tmp_path)], tmp_path, singer_lines(*lines))
    assert res.returncode == 1
    assert needle in res.stderr.decode()
    assert res.stdout == b""


def test_target_sqlite_invalid_json_line(tmp_path):
    data = singer_lines(USERS_SCHEMA) + b'{"type":"RECORD","stream":"users",\n'
    res = run([SQLITE, "--config", sqlite_config(tmp_path)], tmp_path, data)
    assert res.returncode == 1
    assert "target-sqlite: error: line 2: invalid JSON" in res.stderr.decode()


def test_target_sqlite_ignores_unknown_messages_and_huge_lines(tmp_path):
    big = "x" * (3 * 1024 * 1024)
    data = singer_lines(USERS_SCHEMA, {"type": "BATCH", "stream": "users"},
                        {"type": "SOMETHING_NEW"},
                        {"type": "RECORD", "stream": "users", "record": {"id": 1, "name": big}})
    res = run([SQLITE, "--config", sqlite_config(tmp_path)], tmp_path, data)
    assert res.returncode == 0, res.stderr
    assert rows(str(tmp_path / "out.db"), "SELECT length(name) FROM users") == [(len(big),)]


def test_malformed_csv_names_file_and_line(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "users.csv").write_text('id,name\n1,a\n2,b\n3,"open\n4,d\n')
    cfg = tap_config(tmp_path, [{"entity": "users", "path": "data/users.csv"}])
    res = run([TAP, "--config", cfg], tmp_path)
    assert res.returncode == 1
    assert "tap-csv: error: data/users.csv:4: unterminated quoted field" in res.stderr.decode()

    (tmp_path / "data" / "users.csv").write_text('id,name\n1,a\n2,"b"x\n')
    res = run([TAP, "--config", cfg], tmp_path)
    assert res.returncode == 1
    assert "tap-csv: error: data/users.csv:3: text after closing quote" in res.stderr.decode()

    (tmp_path / "data" / "users.csv").write_text('id,name\n1,a\n2,b,extra\n')
    res = run([TAP, "--config", cfg], tmp_path)
    assert res.returncode == 1
    assert "tap-csv: error: data/users.csv:3: expected 2 fields, found 3" in res.stderr.decode()


def test_on_bad_row_skip_counts(tmp_path):
    (tmp_path / "u.csv").write_text('id,name\n1,a\n2,b,extra\n3,c\n4,"x"y\n5,e\n')
    cfg = tap_config(tmp_path, [{"entity": "u", "path": "u.csv", "keys": ["id"]}], on_bad_row="skip")
    tap_rc, tap_err, rc, out, err = pipeline([TAP, "--config", cfg],
                                             [SQLITE, "--config", sqlite_config(tmp_path)], tmp_path)
    assert (tap_rc, rc) == (0, 0), tap_err + err
    assert "u: 2 bad rows skipped" in tap_err
    assert "u.csv:3: expected 2 fields, found 3" in tap_err
    assert rows(str(tmp_path / "out.db"), "SELECT id FROM u ORDER BY id") == [(1,), (3,), (5,)]


def test_value_not_matching_inferred_type_is_a_bad_row(tmp_path):
    with (tmp_path / "t.csv").open("w") as f:
        f.write("id,n\n")
        for i in range(1, 1101):
            f.write(f"{i},{'oops' if i == 1050 else i}\n")
    cfg = tap_config(tmp_path, [{"entity": "t", "path": "t.csv"}])
    res = run([TAP, "--config", cfg], tmp_path)
    assert res.returncode == 1
    assert "t.csv:1051: column 'n': 'oops' is not a valid integer" in res.stderr.decode()


def test_tap_options_header_delimiter_no_inference(tmp_path):
    (tmp_path / "a.tsv").write_text("1|'x|y'|007\n2|'it''s'|010\n")
    cfg = tap_config(tmp_path, [{"entity": "a", "path": "*.tsv", "header": False, "delimiter": "|",
                                 "quotechar": "'"}], infer_types=False)
    res = run([TAP, "--config", cfg], tmp_path)
    assert res.returncode == 0, res.stderr
    recs = [m["record"] for m in messages(res.stdout) if m["type"] == "RECORD"]
    assert recs == [{"col_1": "1", "col_2": "x|y", "col_3": "007"},
                    {"col_1": "2", "col_2": "it's", "col_3": "010"}]


def test_tap_config_errors(tmp_path):
    res = run([TAP, "--config", str(tmp_path / "missing.json")], tmp_path)
    assert res.returncode == 1
    assert "tap-csv: error: cannot open config file" in res.stderr.decode()
    (tmp_path / "a.csv").write_text("a\n1\n")
    cfg = tap_config(tmp_path, [{"entity": "a", "path": "a.csv", "encoding": "latin-1"}])
    res = run([TAP, "--config", cfg], tmp_path)
    assert res.returncode == 1
    assert "encoding 'latin-1' is not supported" in res.stderr.decode()
    cfg = tap_config(tmp_path, [{"entity": "a", "path": "nothing-*.csv"}])
    res = run([TAP, "--config", cfg], tmp_path)
    assert res.returncode == 1
    assert "no file matches 'nothing-*.csv'" in res.stderr.decode()
    for prog in (SQLITE, JSONL):
        res = run([prog, "--config", str(tmp_path / "missing.json")], tmp_path, b"")
        assert res.returncode == 1
        assert "error: cannot open config file" in res.stderr.decode()


def test_discover_and_catalog_selection(tmp_path):
    (tmp_path / "u.csv").write_text("id,name,secret,ts\n1,a,s,2024-01-01T00:00:00Z\n")
    (tmp_path / "o.csv").write_text("oid,total\n9,1.5\n")
    cfg = tap_config(tmp_path, [
        {"entity": "users", "path": "u.csv", "keys": ["id"], "replication_key": "ts"},
        {"entity": "orders", "path": "o.csv", "keys": ["oid"]}])
    res = run([TAP, "--config", cfg, "--discover"], tmp_path)
    assert res.returncode == 0, res.stderr
    cat = json.loads(res.stdout)
    users = next(s for s in cat["streams"] if s["tap_stream_id"] == "users")
    assert users["stream"] == "users" and users["key_properties"] == ["id"]
    md = {tuple(m["breadcrumb"]): m["metadata"] for m in users["metadata"]}
    assert md[()]["table-key-properties"] == ["id"]
    assert md[()]["valid-replication-keys"] == ["ts"]
    assert md[()]["selected-by-default"] is True
    assert md[("properties", "id")]["inclusion"] == "automatic"
    assert md[("properties", "ts")]["inclusion"] == "automatic"
    assert md[("properties", "name")]["inclusion"] == "available"

    # deselect a property and the orders stream; keys stay automatic
    for m in users["metadata"]:
        if m["breadcrumb"] == ["properties", "secret"]:
            m["metadata"]["selected"] = False
        if m["breadcrumb"] == ["properties", "id"]:
            m["metadata"]["selected"] = False
    orders = next(s for s in cat["streams"] if s["tap_stream_id"] == "orders")
    next(m for m in orders["metadata"] if m["breadcrumb"] == [])["metadata"]["selected"] = False
    catalog = write_json(tmp_path / "catalog.json", cat)
    res = run([TAP, "--config", cfg, "--catalog", catalog], tmp_path)
    assert res.returncode == 0, res.stderr
    msgs = messages(res.stdout)
    assert {m.get("stream") for m in msgs if m["type"] == "RECORD"} == {"users"}
    rec = next(m for m in msgs if m["type"] == "RECORD")["record"]
    assert rec == {"id": 1, "name": "a", "ts": "2024-01-01T00:00:00Z"}

    # a stream with no metadata at all is selected; a stream missing from the catalog is not
    legacy = write_json(tmp_path / "props.json", {"streams": [
        {"tap_stream_id": "orders", "stream": "orders", "schema": {}}]})
    res = run([TAP, "--config", cfg, "--properties", legacy], tmp_path)
    assert {m["stream"] for m in messages(res.stdout) if m["type"] == "RECORD"} == {"orders"}


def test_target_jsonl_files_and_state(tmp_path):
    orders_schema = {"type": "SCHEMA", "stream": "orders", "key_properties": [],
                     "schema": {"properties": {"oid": {"type": "integer"}, "items": {}}}}
    data = singer_lines(
        USERS_SCHEMA, orders_schema,
        {"type": "RECORD", "stream": "users", "record": {"id": 1, "name": "é \"q\""}},
        {"type": "RECORD", "stream": "orders", "record": {"oid": 7, "items": [{"a": 1}]}},
        {"type": "STATE", "value": {"bookmarks": {"users": {"replication_key_value": 1}}}},
        {"type": "RECORD", "stream": "users", "record": {"id": 2, "name": None}},
        {"type": "STATE", "value": {"bookmarks": {"users": {"replication_key_value": 2}}}})
    cfg = write_json(tmp_path / "jl.json", {"destination_path": "out/nested"})
    res = run([JSONL, "--config", cfg], tmp_path, data)
    assert res.returncode == 0, res.stderr
    assert state_lines(res.stdout.decode()) == [
        {"bookmarks": {"users": {"replication_key_value": 1}}},
        {"bookmarks": {"users": {"replication_key_value": 2}}}]
    out = tmp_path / "out" / "nested"
    assert sorted(p.name for p in out.iterdir()) == ["orders.jsonl", "users.jsonl"]
    assert [json.loads(line) for line in (out / "users.jsonl").read_text().splitlines()] == \
        [{"id": 1, "name": "é \"q\""}, {"id": 2, "name": None}]
    assert (out / "orders.jsonl").read_text() == '{"oid":7,"items":[{"a":1}]}\n'

    cfg = write_json(tmp_path / "jl2.json", {"destination_path": "stamped", "do_timestamp_file": True})
    res = run([JSONL, "--config", cfg], tmp_path, data)
    assert res.returncode == 0, res.stderr
    names = sorted(p.name for p in (tmp_path / "stamped").iterdir())
    assert len(names) == 2 and all(re.fullmatch(r"(orders|users)-\d{8}T\d{6}\.jsonl", n) for n in names)

    res = run([JSONL, "--config", cfg], tmp_path, singer_lines(
        USERS_SCHEMA, {"type": "RECORD", "stream": "users", "record": {"id": "x"}}))
    assert res.returncode == 1
    assert "stream 'users': record 1: field 'id'" in res.stderr.decode()


def test_tap_csv_to_target_jsonl(tmp_path):
    (tmp_path / "a.csv").write_bytes(AWKWARD.encode())
    cfg = tap_config(tmp_path, [{"entity": "a", "path": "a.csv", "keys": ["id"]}])
    jl = write_json(tmp_path / "jl.json", {})
    tap_rc, tap_err, rc, out, err = pipeline([TAP, "--config", cfg], [JSONL, "--config", jl], tmp_path)
    assert (tap_rc, rc) == (0, 0), tap_err + err
    recs = [json.loads(line) for line in (tmp_path / "output" / "a.jsonl").read_text().splitlines()]
    assert [(r["id"], r["name"], r["note"]) for r in recs] == [(e[0], e[1], e[2]) for e in expected_awkward()]
    assert len(state_lines(out)) == 1


@pytest.mark.parametrize("prog,name", [(TAP, "tap-csv"), (SQLITE, "target-sqlite"), (JSONL, "target-jsonl")])
def test_about_and_version(tmp_path, prog, name):
    res = run([prog, "--about", "--format=json"], tmp_path)
    assert res.returncode == 0, res.stderr
    about = json.loads(res.stdout)
    assert list(about) == ["name", "description", "version", "sdk_version",
                           "supported_python_versions", "capabilities", "settings"]
    assert about["name"] == name
    assert about["sdk_version"] == "smelt-native"
    assert about["supported_python_versions"] is None
    assert about["settings"]["type"] == "object" and about["settings"]["properties"]
    if name == "tap-csv":
        assert about["capabilities"] == ["catalog", "discover", "state", "about"]
        assert "files" in about["settings"]["required"]
    text = run([prog, "--about"], tmp_path)
    assert text.returncode == 0 and name in text.stdout.decode()
    ver = run([prog, "--version"], tmp_path)
    assert ver.returncode == 0 and ver.stdout.decode().startswith(name + " ")
