"""
Smelt's runner for Soda Core 4.x data contracts (run with the python of the
soda plugin's venv by the soda adapter).

    python soda_runner.py check
    python soda_runner.py verify CONTRACT...

The warehouse comes from the environment only (the adapter sets it from the
loader's settings): SMELT_SODA_KIND (duckdb, sqlite or postgres),
SMELT_SODA_PATH, SMELT_SODA_HOST, SMELT_SODA_PORT, SMELT_SODA_USER,
SMELT_SODA_DATABASE, SMELT_SODA_SCHEMA and SMELT_SODA_PASSWORD.  The data
source file written for Soda names the password as ${env.SMELT_SODA_PASSWORD}:
no secret is written to disk, argv or the output.

A contract's `dataset` may be a bare table name: it is qualified for the
warehouse (duckdb: smelt/<file stem>/<schema>/<table>).  A SQLite warehouse
is read through DuckDB: the contract's table is copied into a private DuckDB
file first (DuckDB's sqlite extension is a download, not possible offline).

Prints one JSON object on stdout: {"contracts": [{"file", "dataset",
"checks": [{"name", "column", "type", "outcome", "observed", "diagnostics"}],
"error"}]}.  Exit 0 all passed, 1 a check failed, 2 an error.
"""
import json
import os
import sqlite3
import sys
import tempfile

OUT = sys.stdout
sys.stdout = sys.stderr  # whatever Soda prints goes to the log


def env(name, default=None):
    v = os.environ.get(name)
    return v if v else default


def mirror_sqlite(path, table, workdir):
    import duckdb

    if not os.path.isfile(path):
        raise RuntimeError("sqlite file %s does not exist (run the loader first)" % path)
    src = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    cols = src.execute('select name, type from pragma_table_info(?)', (table,)).fetchall()
    if not cols:
        raise RuntimeError("table '%s' not found in the sqlite file %s" % (table, path))
    dst_path = os.path.join(workdir, "smelt.duckdb")
    dst = duckdb.connect(dst_path)

    def duck_type(t):
        t = (t or "").upper()
        if "INT" in t:
            return "BIGINT"
        if any(k in t for k in ("REAL", "FLOA", "DOUB", "NUM", "DEC")):
            return "DOUBLE"
        if "BOOL" in t:
            return "BOOLEAN"
        return "VARCHAR"

    qt = '"%s"' % table.replace('"', '""')
    dst.execute("create or replace table %s (%s)" % (
        qt, ", ".join('"%s" %s' % (c.replace('"', '""'), duck_type(t)) for c, t in cols)))
    rows = src.execute("select * from %s" % qt).fetchall()
    if rows:
        dst.executemany("insert into %s values (%s)" % (qt, ", ".join("?" * len(cols))), rows)
    dst.close()
    src.close()
    return dst_path


def data_source_yaml(kind, workdir, table):
    if kind in ("duckdb", "sqlite"):
        path = env("SMELT_SODA_PATH")
        if not path:
            raise RuntimeError("the warehouse has no file path")
        if kind == "sqlite":
            path = mirror_sqlite(path, table, workdir)
        elif not os.path.isfile(path):
            raise RuntimeError("duckdb file %s does not exist (run the loader first)" % path)
        schema = env("SMELT_SODA_SCHEMA", "main")
        stem = os.path.splitext(os.path.basename(path))[0]
        text = ("type: duckdb\nname: smelt\nconnection:\n  database: %s\n  schema: %s\n  read_only: true\n"
                % (json.dumps(path), json.dumps(schema)))
        return text, "smelt/%s/%s/%s" % (stem, schema, table)
    if kind == "postgres":
        schema = env("SMELT_SODA_SCHEMA", "public")
        db = env("SMELT_SODA_DATABASE", "postgres")
        text = ("type: postgres\nname: smelt\nconnection:\n  host: %s\n  port: %s\n  user: %s\n"
                "  password: ${env.SMELT_SODA_PASSWORD}\n  database: %s\n" % (
                    json.dumps(env("SMELT_SODA_HOST", "localhost")), env("SMELT_SODA_PORT", "5432"),
                    json.dumps(env("SMELT_SODA_USER", "postgres")), json.dumps(db)))
        return text, "smelt/%s/%s/%s" % (db, schema, table)
    raise RuntimeError("unknown warehouse kind '%s'" % kind)


def observed_of(diag):
    keys = [k for k in diag if k not in ("check_rows_tested", "dataset_rows_tested")]
    if not keys and "dataset_rows_tested" in diag:
        return "row_count: %s" % diag["dataset_rows_tested"]
    return ", ".join("%s: %s" % (k, diag[k]) for k in keys)


def verify_one(path, kind):
    from ruamel.yaml import YAML
    from soda_core.contracts import verify_contract_locally

    one = {"file": path, "checks": []}
    yaml = YAML(typ="safe", pure=True)
    with open(path) as f:
        doc = yaml.load(f)
    if not isinstance(doc, dict) or not isinstance(doc.get("dataset"), str):
        one["error"] = "%s: a contract needs a 'dataset' (a table name)" % path
        return one
    table = doc["dataset"]
    with tempfile.TemporaryDirectory(prefix="smelt-soda-") as work:
        ds_text, qualified = data_source_yaml(kind, work, table.split("/")[-1])
        if "/" not in table:
            doc["dataset"] = qualified
        one["dataset"] = doc["dataset"]
        ds_path = os.path.join(work, "data_source.yml")
        c_path = os.path.join(work, os.path.basename(path))
        with open(ds_path, "w") as f:
            f.write(ds_text)
        with open(c_path, "w") as f:
            yaml.dump(doc, f)
        res = verify_contract_locally(data_source_file_path=ds_path, contract_file_path=c_path)
        for cvr in res.contract_verification_results:
            for cr in cvr.check_results:
                diag = {k: v for k, v in (cr.diagnostic_metric_values or {}).items()}
                one["checks"].append({
                    "name": cr.check.name,
                    "column": cr.check.column_name,
                    "type": cr.check.type,
                    "outcome": cr.outcome.name.lower(),
                    "observed": observed_of(diag),
                    "diagnostics": diag,
                })
        errs = getattr(res, "has_errors", False)
        if callable(errs):
            errs = errs()
        if errs:
            text = getattr(res, "get_errors_str", None)
            one["error"] = text() if callable(text) else "Soda reported errors (see the log above)"
        if not one["checks"] and "error" not in one:
            one["error"] = "Soda evaluated no check (see the log above)"
    return one


def main(argv):
    if len(argv) >= 1 and argv[0] == "check":
        import soda_core.contracts  # noqa: F401
        import soda_duckdb  # noqa: F401
        return 0
    if len(argv) < 2 or argv[0] != "verify":
        print("usage: soda_runner.py check | verify CONTRACT...", file=sys.stderr)
        return 2
    kind = env("SMELT_SODA_KIND")
    out = {"contracts": []}
    code = 0
    for path in argv[1:]:
        try:
            one = verify_one(path, kind)
        except Exception as e:  # reported per contract: the others still run
            one = {"file": path, "checks": [], "error": str(e)}
        out["contracts"].append(one)
        if one.get("error"):
            code = 2
        elif code == 0 and any(c["outcome"] == "failed" for c in one["checks"]):
            code = 1
    OUT.write(json.dumps(out) + "\n")
    OUT.flush()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
