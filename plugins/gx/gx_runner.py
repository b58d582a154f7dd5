"""Smelt's Great Expectations runner (GX Core 1.x has no CLI).

The gx adapter runs this file with the python of the plugin's virtualenv:

    python gx_runner.py plan FILE...     suite names and sources, as one JSON line on stdout
    python gx_runner.py check            import GX and print its version (after install)
    python gx_runner.py validate REQUEST run the suites of a request file (JSON, private)
    python gx_runner.py init REQUEST     write an example suite for a table

A request names the suites (files), each source's connection (resolved by
the adapter from the source plugin's settings, secrets included, which is
why the request is a private file and never argv), and where to write the
result.  The result is a JSON file; the exit code is 0 when every
expectation passed, 1 when one failed, 2 on any error (a bad suite file, an
unknown expectation, a missing table, a crash): the message is in the
result, with no Python traceback unless SMELT_GX_DEBUG is set.

Only the standard library is imported at the top, so `plan` is fast and a
venv without GX still gets a clear message.
"""
import decimal
import difflib
import json
import numbers
import os
import re
import sys
import traceback
from pathlib import Path

DEBUG = bool(os.environ.get("SMELT_GX_DEBUG"))
SUITE_KEYS = {"source", "table", "query", "schema", "name", "expectations", "meta", "notes", "result_format",
              "id", "suite_parameters"}


class SuiteError(Exception):
    """A problem of one suite (file, source, table, expectation): reported, not a crash."""


# ---- helpers -----------------------------------------------------------------

def jsonable(v):
    """A value JSON can hold: numpy and Decimal numbers as numbers, the rest as text."""
    if v is None or isinstance(v, (bool, str, int, float)):
        if isinstance(v, float) and v != v:
            return None
        return v
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set)):
        return [jsonable(x) for x in v]
    if isinstance(v, bool) or type(v).__name__ == "bool_":
        return bool(v)
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Number):
        try:
            f = float(v)
            return None if f != f else f
        except (TypeError, ValueError):
            return str(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if hasattr(v, "to_json_dict"):
        return jsonable(v.to_json_dict())
    return str(v)


class Scrubber:
    """Takes secrets (passwords, URLs with them) out of every message."""

    def __init__(self):
        self.secrets = []

    def add(self, s):
        if s and isinstance(s, str) and len(s) >= 3:
            from urllib.parse import quote, quote_plus
            for form in {s, quote(s, safe=""), quote_plus(s)}:
                if form not in self.secrets:
                    self.secrets.append(form)

    def __call__(self, text):
        text = str(text)
        for s in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(s, "*****")
        return re.sub(r"(://[^:/@\s]+:)[^@\s]+@", r"\1*****@", text)


SCRUB = Scrubber()


def short(text, limit=600):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_yaml_text(text, path):
    try:
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError
    except ImportError:
        try:
            import yaml  # PyYAML, when ruamel is missing
        except ImportError:
            raise SuiteError(f"cannot read '{path}': no YAML library in the GX venv (is great-expectations installed?)")
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise SuiteError(f"'{path}' is not valid YAML: {short(e)}")
    try:
        return YAML(typ="safe", pure=True).load(text)
    except YAMLError as e:
        raise SuiteError(f"'{path}' is not valid YAML: {short(e)}")


def read_suite_file(path, shown=None):
    """The suite file as a dict (YAML or JSON), checked for its shape; shown: its name in messages."""
    p = Path(path)
    path = shown or path
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise SuiteError(f"cannot read '{path}': {e.strerror}")
    if p.suffix == ".json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise SuiteError(f"'{path}' is not valid JSON: {e}")
    else:
        doc = load_yaml_text(text, path)
    if not isinstance(doc, dict):
        raise SuiteError(f"'{path}' must hold a mapping with 'source', 'table' (or 'query') and 'expectations'")
    unknown = sorted(set(doc) - SUITE_KEYS)
    if unknown:
        raise SuiteError(f"'{path}': unknown key '{unknown[0]}' (keys: source, table, query, schema, name, expectations, meta)")
    return doc


def suite_name(path, doc):
    name = doc.get("name") if isinstance(doc, dict) else None
    return str(name) if name else Path(path).stem


def parse_expectations(doc, path):
    """[(type, kwargs, meta)] from the short form `- expect_x: {kwargs}` or the long form `- type: expect_x`."""
    items = doc.get("expectations")
    if items is None:
        raise SuiteError(f"'{path}' has no 'expectations' list")
    if not isinstance(items, list):
        raise SuiteError(f"'{path}': 'expectations' must be a list")
    out = []
    for i, item in enumerate(items, 1):
        where = f"'{path}', expectation {i}"
        if isinstance(item, str):
            out.append((item, {}, None))
            continue
        if not isinstance(item, dict) or not item:
            raise SuiteError(f"{where}: write '- expect_name: {{arguments}}'")
        if "type" in item or "expectation_type" in item:
            etype = item.get("type") or item.get("expectation_type")
            kwargs = item.get("kwargs") or {}
            meta = item.get("meta")
            extra = set(item) - {"type", "expectation_type", "kwargs", "meta", "id", "notes", "rendered_content",
                                 "description", "severity"}
            if extra:
                raise SuiteError(f"{where}: unknown key '{sorted(extra)[0]}' (long form: type, kwargs, meta)")
        elif len(item) == 1:
            etype, kwargs = next(iter(item.items()))
            meta = None
            if kwargs is None:
                kwargs = {}
        else:
            raise SuiteError(f"{where}: one expectation per list item: '- expect_name: {{arguments}}' "
                             f"(found keys {', '.join(map(str, item))})")
        if not isinstance(etype, str) or not etype:
            raise SuiteError(f"{where}: the expectation name must be a string")
        if not isinstance(kwargs, dict):
            raise SuiteError(f"{where}: the arguments of '{etype}' must be a mapping, e.g. {{column: id}}")
        out.append((etype, dict(kwargs), meta))
    return out


def label_of(etype, kwargs):
    args = ", ".join(f"{k}={json.dumps(jsonable(v))}" if not isinstance(v, str) else f"{k}={v}"
                     for k, v in kwargs.items() if k not in ("batch_id",))
    return f"{etype}({args})"


def describe(etype, result, exception):
    """What was observed, in a few words."""
    if exception:
        return f"error: {exception}"
    if not result:
        return ""
    if "observed_value" in result:
        ov = jsonable(result["observed_value"])
        return f"observed {json.dumps(ov) if not isinstance(ov, str) else ov}"
    if "unexpected_count" in result:
        n, total = result.get("unexpected_count"), result.get("element_count")
        if etype == "expect_column_values_to_not_be_null":
            return f"{n} of {total} values null" if total is not None else f"{n} values null"
        pct = result.get("unexpected_percent")
        text = f"{n} of {total} values unexpected" if total is not None else f"{n} values unexpected"
        if isinstance(pct, (int, float)) and n:
            text += f" ({pct:.1f}%)"
        sample = result.get("partial_unexpected_list")
        if n and sample is not None:
            sample = jsonable(sample)[:10]
            text += ": " + json.dumps(sample)
        return text
    return ""


# ---- plan: which source each suite needs (no GX import) ------------------------

def cmd_plan(files):
    suites = []
    for f in files:
        entry = {"file": f, "name": Path(f).stem, "source": None, "error": None}
        try:
            doc = read_suite_file(f, os.path.relpath(f) if os.path.isabs(f) else f)
            entry["name"] = suite_name(f, doc)
            src = doc.get("source")
            if src is not None and not isinstance(src, str):
                raise SuiteError(f"'{f}': 'source' must be the name of a plugin of the project")
            entry["source"] = src
        except SuiteError as e:
            entry["error"] = str(e)
        suites.append(entry)
    print(json.dumps({"suites": suites}))
    return 0


# ---- GX -------------------------------------------------------------------------

def import_gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import logging
    import warnings
    if not DEBUG:
        warnings.filterwarnings("ignore")
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
    try:
        import great_expectations as gx
    except ImportError as e:
        raise RuntimeError(f"cannot import great_expectations in {sys.prefix} ({e}): run 'smelt install' for the gx plugin")
    major = str(getattr(gx, "__version__", "0")).split(".")[0]
    if major != "1":
        raise RuntimeError(f"the gx adapter needs GX Core 1.x, the venv has great_expectations {gx.__version__}: "
                           "set pip_url to 'great-expectations>=1.3,<2' and reinstall")
    return gx


def new_context(gx, docs_dir):
    ctx = gx.get_context(mode="ephemeral")
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    except Exception:  # an older 1.x: the bars only clutter the log
        pass
    if docs_dir:
        for site in list(ctx.get_site_names()):
            ctx.delete_data_docs_site(site)
        ctx.add_data_docs_site("smelt", {
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": docs_dir},
        })
    return ctx


def rel(path):
    """A path as the user wrote it: relative to the project root (the cwd) when under it."""
    try:
        r = os.path.relpath(path)
        return path if r.startswith("..") else r
    except ValueError:
        return path


def where_text(conn):
    kind = conn.get("kind")
    if kind in ("sqlite", "duckdb"):
        return f"{kind} file {rel(conn.get('path') or '?')}"
    if kind == "postgres":
        return f"postgres {conn.get('host')}:{conn.get('port')}/{conn.get('database')}"
    return kind or "?"


def sqlite_file(conn, schema):
    """The SQLite file of a schema: the main file, or dbt-sqlite's per-schema files."""
    path = conn.get("path")
    if schema and schema != "main":
        attached = conn.get("schemas_and_paths") or {}
        if isinstance(attached, dict) and schema in attached:
            path = attached[schema]
        elif conn.get("schema_directory"):
            path = os.path.join(conn["schema_directory"], f"{schema}.db")
    if not path:
        raise SuiteError(f"source '{conn['plugin']}' has no database file setting")
    if not os.path.exists(path) and os.path.exists(path + ".db"):
        path += ".db"
    if not os.path.exists(path):
        raise SuiteError(f"the database file '{rel(path)}' of source '{conn['plugin']}' does not exist (has '{conn['plugin']}' run yet?)")
    return path


def pg_url(conn):
    from urllib.parse import quote
    if conn.get("url"):
        return conn["url"]
    user = quote(str(conn.get("user") or ""), safe="")
    pw = conn.get("password")
    auth = f"{user}:{quote(str(pw), safe='')}@" if pw else (f"{user}@" if user else "")
    return f"postgresql+psycopg2://{auth}{conn.get('host') or 'localhost'}:{conn.get('port') or 5432}/{quote(str(conn.get('database') or 'postgres'), safe='')}"


class Sources:
    """GX data sources, one per (plugin, file), made on first use."""

    def __init__(self, gx, ctx):
        self.gx, self.ctx, self.made, self.engines = gx, ctx, {}, {}

    def engine(self, conn, schema):
        """(GX datasource, SQLAlchemy engine or None, kind)."""
        kind = conn.get("kind")
        if kind == "sqlite":
            path = sqlite_file(conn, schema)
            key = ("sqlite", path)
            if key not in self.made:
                name = f"{conn['plugin']}-{len(self.made) + 1}"
                self.made[key] = self.ctx.data_sources.add_sqlite(name, connection_string=f"sqlite:///{path}")
            return self.made[key], "sqlite"
        if kind == "postgres" or kind == "sqlalchemy":
            url = pg_url(conn)
            key = ("sql", conn["plugin"])
            if key not in self.made:
                name = f"{conn['plugin']}-{len(self.made) + 1}"
                if url.startswith("postgres"):
                    self.made[key] = self.ctx.data_sources.add_postgres(name, connection_string=url)
                else:
                    self.made[key] = self.ctx.data_sources.add_sql(name, connection_string=url)
            return self.made[key], "sql"
        if kind == "duckdb":
            key = ("pandas", conn["plugin"])
            if key not in self.made:
                self.made[key] = self.ctx.data_sources.add_pandas(f"{conn['plugin']}-{len(self.made) + 1}")
            return self.made[key], "duckdb"
        raise SuiteError(f"source '{conn.get('plugin')}': unsupported kind '{kind}'")


def sql_engine(ds):
    return ds.get_engine()


def table_check(ds, conn, table, schema):
    """A clear error when the table is missing, with the tables that exist."""
    import sqlalchemy as sa
    try:
        insp = sa.inspect(sql_engine(ds))
        if insp.has_table(table, schema=schema):
            return
        names = sorted(insp.get_table_names(schema=schema)) + sorted(insp.get_view_names(schema=schema))
    except SuiteError:
        raise
    except Exception as e:
        raise SuiteError(f"cannot connect to source '{conn['plugin']}' ({where_text(conn)}): {short(SCRUB(e))}")
    there = f"; tables there: {', '.join(names[:20])}" if names else "; it has no tables"
    qual = f"{schema}.{table}" if schema else table
    raise SuiteError(f"table '{qual}' not found in source '{conn['plugin']}' ({where_text(conn)}){there}")


def duckdb_frame(conn, table, query, schema):
    try:
        import duckdb
    except ImportError:
        raise SuiteError(f"source '{conn['plugin']}' is a DuckDB file: add 'duckdb' (the same version as the "
                         "loader's) to the pip_url of the gx plugin and reinstall it")
    path = conn.get("path")
    if not path or not os.path.exists(path):
        raise SuiteError(f"the database file '{rel(path or '?')}' of source '{conn['plugin']}' does not exist (has it run yet?)")
    con = duckdb.connect(path, read_only=True)
    try:
        if query:
            return con.execute(query).df()
        rows = con.execute("SELECT table_schema FROM information_schema.tables WHERE table_name = ?"
                           + (" AND table_schema = ?" if schema else ""),
                           [table] + ([schema] if schema else [])).fetchall()
        if not rows:
            names = sorted({r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()})
            there = f"; tables there: {', '.join(names[:20])}" if names else "; it has no tables"
            raise SuiteError(f"table '{table}' not found in source '{conn['plugin']}' ({where_text(conn)}){there}")
        ident = '"' + rows[0][0].replace('"', '""') + '"."' + table.replace('"', '""') + '"'
        return con.execute(f"SELECT * FROM {ident}").df()
    finally:
        con.close()


def build_expectation(gx, etype, kwargs, meta, path, index, names):
    from great_expectations.expectations.registry import get_expectation_impl
    where = f"'{path}', expectation {index}"
    try:
        cls = get_expectation_impl(etype)
    except Exception:
        cls = None
    if cls is None:
        close = difflib.get_close_matches(etype, names, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise SuiteError(f"{where}: unknown expectation '{etype}'{hint}")
    args = dict(kwargs)
    if meta is not None:
        args["meta"] = meta
    try:
        return cls(**args)
    except Exception as e:
        errs = getattr(e, "errors", None)
        if callable(errs):
            try:
                parts = []
                for er in errs():
                    loc = ".".join(str(x) for x in er.get("loc", ()) if x != "__root__")
                    msg = er.get("msg", "")
                    if msg == "extra fields not permitted":
                        msg = "unknown argument"
                    parts.append(f"{loc}: {msg}" if loc else msg)
                raise SuiteError(f"{where}: bad arguments for '{etype}': {'; '.join(parts)}")
            except SuiteError:
                raise
            except Exception:
                pass
        raise SuiteError(f"{where}: bad arguments for '{etype}': {short(e)}")


def exception_message(er):
    info = getattr(er, "exception_info", None) or {}
    if isinstance(info, dict):
        if info.get("raised_exception"):
            return info.get("exception_message") or "raised an exception"
        for v in info.values():
            if isinstance(v, dict) and v.get("raised_exception"):
                return v.get("exception_message") or "raised an exception"
    return None


def run_suite(gx, ctx, sources, spec, result_format, docs, index):
    """One suite: its expectations, data and checkpoint.  Returns the suite's result dict."""
    path, conn = spec["file"], spec.get("connection")
    out = {"name": spec.get("name") or Path(path).stem, "file": spec.get("display_file") or path, "source": None,
           "table": None, "query": None, "success": False, "error": None, "statistics": None, "expectations": []}
    shown = spec.get("display_file") or path
    doc = read_suite_file(path, shown)
    out["name"] = suite_name(path, doc)
    path = shown
    out["source"] = doc.get("source") or (conn or {}).get("plugin")
    table, query, schema = doc.get("table"), doc.get("query"), doc.get("schema")
    if bool(table) == bool(query):
        raise SuiteError(f"'{path}' needs either 'table' or 'query' (not both)")
    if table is not None and not isinstance(table, str) or query is not None and not isinstance(query, str):
        raise SuiteError(f"'{path}': 'table' and 'query' are strings")
    out["table"], out["query"] = table, query
    items = parse_expectations(doc, path)
    if not items:
        raise SuiteError(f"'{path}' has an empty 'expectations' list")
    from great_expectations.expectations.registry import list_registered_expectation_implementations
    names = list_registered_expectation_implementations()
    exps = [build_expectation(gx, t, k, m, path, i, names) for i, (t, k, m) in enumerate(items, 1)]

    if spec.get("connection_error"):
        raise SuiteError(spec["connection_error"])
    if not conn:
        raise SuiteError(f"'{path}' names no 'source' (a loader or transformer of the project), and the gx "
                         "plugin has no 'source' setting")
    schema = schema or conn.get("schema") or None
    try:
        ds, kind = sources.engine(conn, schema)
    except SuiteError:
        raise
    except Exception as e:
        raise SuiteError(f"cannot connect to source '{conn['plugin']}' ({where_text(conn)}): {short(SCRUB(e))}")
    asset_name = f"{out['name']}-{index}"
    batch_parameters = None
    if kind == "duckdb":
        frame = duckdb_frame(conn, table, query, schema)
        asset = ds.add_dataframe_asset(asset_name)
        bd = asset.add_batch_definition_whole_dataframe("all")
        batch_parameters = {"dataframe": frame}
    else:
        if table:
            sql_schema = None if kind == "sqlite" else schema
            table_check(ds, conn, table, sql_schema)
            try:
                asset = ds.add_table_asset(asset_name, table_name=table, schema_name=sql_schema)
            except Exception as e:
                raise SuiteError(f"cannot read table '{table}' of source '{conn['plugin']}': {short(SCRUB(e))}")
        else:
            try:
                asset = ds.add_query_asset(asset_name, query=query)
            except Exception as e:
                raise SuiteError(f"the query of '{path}' fails on source '{conn['plugin']}': {short(SCRUB(e))}")
        bd = asset.add_batch_definition_whole_table("all")

    suite = ctx.suites.add(gx.ExpectationSuite(name=f"{out['name']}-{index}"))
    for e in exps:
        suite.add_expectation(e)
    ids = [e.id for e in suite.expectations]
    vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=f"{out['name']}-{index}", data=bd, suite=suite))
    actions = [gx.checkpoint.UpdateDataDocsAction(name="data_docs")] if docs else []
    cp = ctx.checkpoints.add(gx.Checkpoint(name=f"smelt-{out['name']}-{index}", validation_definitions=[vd],
                                           actions=actions, result_format={"result_format": result_format}))
    try:
        res = cp.run(batch_parameters=batch_parameters) if batch_parameters else cp.run()
    except Exception as e:
        raise SuiteError(f"cannot validate suite '{out['name']}' on source '{conn['plugin']}': {short(SCRUB(e))}")
    by_id = {}
    for vr in res.run_results.values():
        for er in vr.results:
            by_id[er.expectation_config.id] = er
    for i, ((etype, kwargs, _), eid) in enumerate(zip(items, ids)):
        er = by_id.get(eid)
        if er is None:
            entry = {"type": etype, "kwargs": jsonable(kwargs), "success": False, "exception": "no result from GX"}
        else:
            exc = exception_message(er)
            result = jsonable(er.result or {})
            entry = {"type": etype, "kwargs": jsonable(kwargs), "success": bool(er.success) and not exc,
                     "exception": SCRUB(short(exc)) if exc else None, "result": result}
        entry["label"] = label_of(etype, kwargs)
        entry["observed"] = describe(etype, entry.get("result"), entry.get("exception"))
        entry["unexpected_count"] = (entry.get("result") or {}).get("unexpected_count")
        out["expectations"].append(entry)
    passed = sum(1 for e in out["expectations"] if e["success"])
    out["statistics"] = {"evaluated": len(out["expectations"]), "successful": passed,
                         "unsuccessful": len(out["expectations"]) - passed}
    out["success"] = passed == len(out["expectations"])
    return out


def read_request(path):
    with open(path, encoding="utf-8") as f:
        req = json.load(f)
    for conn in (req.get("sources") or {}).values():
        if isinstance(conn, dict):
            SCRUB.add(conn.get("password"))
            SCRUB.add(conn.get("url"))
    if isinstance(req.get("source"), dict):
        SCRUB.add(req["source"].get("password"))
        SCRUB.add(req["source"].get("url"))
    return req


def write_result(path, result):
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(jsonable(result), f, indent=1)
    os.replace(tmp, path)


def cmd_validate(request_path):
    req = read_request(request_path)
    output = req["output"]
    result = {"success": False, "suites": [], "statistics": None, "data_docs": None, "error": None}
    code = 2
    try:
        gx = import_gx()
        result["gx_version"] = gx.__version__
        docs = req.get("data_docs_dir")
        if docs:
            os.makedirs(docs, exist_ok=True)
        ctx = new_context(gx, docs)
        sources = Sources(gx, ctx)
        rf = str(req.get("result_format") or "SUMMARY").upper()
        if rf not in ("BOOLEAN_ONLY", "BASIC", "SUMMARY", "COMPLETE"):
            rf = "SUMMARY"
        conns = req.get("sources") or {}
        for i, spec in enumerate(req.get("suites") or [], 1):
            src = spec.get("source")
            c = conns.get(src) if src else None
            spec = dict(spec)
            if isinstance(c, dict) and c.get("error"):
                spec["connection_error"] = c["error"]
            elif isinstance(c, dict):
                spec["connection"] = c
            try:
                if spec.get("error"):
                    raise SuiteError(spec["error"])
                s = run_suite(gx, ctx, sources, spec, rf, docs, i)
            except SuiteError as e:
                s = {"name": spec.get("name"), "file": spec.get("display_file") or spec.get("file"),
                     "source": src, "success": False, "error": SCRUB(str(e)), "statistics": None, "expectations": []}
            result["suites"].append(s)
        total = sum(len(s["expectations"]) for s in result["suites"])
        ok = sum(1 for s in result["suites"] for e in s["expectations"] if e["success"])
        errors = sum(1 for s in result["suites"] if s.get("error"))
        result["statistics"] = {"suites": len(result["suites"]), "evaluated": total, "successful": ok,
                                "unsuccessful": total - ok, "errors": errors}
        result["success"] = errors == 0 and ok == total
        if docs and any(s.get("expectations") for s in result["suites"]):
            index = os.path.join(docs, "index.html")
            if os.path.exists(index):
                result["data_docs"] = index
        code = 0 if result["success"] else (2 if errors else 1)
    except Exception as e:  # a crash: a clear line, the traceback only when debugging
        if DEBUG:
            traceback.print_exc()
        result["error"] = SCRUB(short(f"{type(e).__name__}: {e}" if not isinstance(e, RuntimeError) else e))
        code = 2
    write_result(output, result)
    return code


# ---- init: an example suite for a table -----------------------------------------

def yaml_scalar(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    s = str(v)
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", s) and s.lower() not in ("true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"):
        return s
    return json.dumps(s)


def yaml_flow(d):
    parts = []
    for k, v in d.items():
        if isinstance(v, list):
            parts.append(f"{k}: [{', '.join(yaml_scalar(x) for x in v)}]")
        else:
            parts.append(f"{k}: {yaml_scalar(v)}")
    return "{" + ", ".join(parts) + "}"


def profile_sql(engine, table, schema):
    """Columns of the table with a few facts: type, nulls, distinct values, min/max of numbers."""
    import sqlalchemy as sa
    insp = sa.inspect(engine)
    cols = insp.get_columns(table, schema=schema)
    pk = (insp.get_pk_constraint(table, schema=schema) or {}).get("constrained_columns") or []
    t = sa.Table(table, sa.MetaData(), schema=schema, *[sa.Column(c["name"]) for c in cols])
    facts = []
    with engine.connect() as cx:
        rows = cx.execute(sa.select(sa.func.count()).select_from(t)).scalar() or 0
        for c in cols:
            col = t.c[c["name"]]
            nulls, distinct, lo, hi = cx.execute(sa.select(
                sa.func.count() - sa.func.count(col), sa.func.count(sa.distinct(col)),
                sa.func.min(col), sa.func.max(col)).select_from(t)).one()
            values = None
            if 0 < distinct <= 8 and rows >= 2 * distinct:
                values = sorted(r[0] for r in cx.execute(sa.select(sa.distinct(col)).select_from(t).where(col.isnot(None))))
            facts.append({"name": c["name"], "type": str(c.get("type")), "nulls": nulls, "distinct": distinct,
                          "min": lo, "max": hi, "values": values})
    return rows, pk, facts


def profile_duckdb(conn, table, schema):
    frame = duckdb_frame(conn, table, None, schema)
    facts = []
    for name in frame.columns:
        s = frame[name]
        distinct = int(s.nunique())
        values = sorted(s.dropna().unique().tolist()) if 0 < distinct <= 8 and len(frame) >= 2 * distinct else None
        num = s.dtype.kind in "iuf"
        facts.append({"name": name, "type": str(s.dtype), "nulls": int(s.isna().sum()), "distinct": distinct,
                      "min": s.min() if num and len(s.dropna()) else None,
                      "max": s.max() if num and len(s.dropna()) else None, "values": values})
    return len(frame), [], facts


def example_suite(source, table, schema, rows, pk, facts):
    names = [f["name"] for f in facts]
    keys = list(pk) or [n for n in names if n.lower() == "id"][:1]
    exps = [("expect_table_row_count_to_be_between", {"min_value": 1}),
            ("expect_table_columns_to_match_set", {"column_set": names})]
    for f in facts:
        n = f["name"]
        if n in keys:  # what holds today: a key without nulls or duplicates
            if f["nulls"] == 0:
                exps.append(("expect_column_values_to_not_be_null", {"column": n}))
            if f["distinct"] == rows - f["nulls"]:
                exps.append(("expect_column_values_to_be_unique", {"column": n}))
            continue
        if f["nulls"] == 0 and rows and (n.lower().endswith("_id") or n.lower().endswith("_at")):
            exps.append(("expect_column_values_to_not_be_null", {"column": n}))
        if f["values"] and all(isinstance(v, str) for v in f["values"]):
            exps.append(("expect_column_values_to_be_in_set", {"column": n, "value_set": f["values"]}))
        elif isinstance(f["min"], (numbers.Real, decimal.Decimal)) and not isinstance(f["min"], bool) \
                and not n.lower().endswith("_id") and f["min"] >= 0:
            exps.append(("expect_column_values_to_be_between", {"column": n, "min_value": 0}))
    lines = [f"# Expectations for table {table} of {source}, written by 'smelt invoke gx:init'",
             f"# from the data seen then ({rows} rows).  Edit freely; run with: smelt invoke gx:validate",
             "# Names and arguments: https://greatexpectations.io/expectations/",
             f"source: {yaml_scalar(source)}",
             f"table: {yaml_scalar(table)}"]
    if schema:
        lines.append(f"schema: {yaml_scalar(schema)}")
    lines.append("expectations:")
    for t, k in exps:
        lines.append(f"- {t}: {yaml_flow(k)}")
    return "\n".join(lines) + "\n", len(exps)


def cmd_init(request_path):
    req = read_request(request_path)
    output = req["output"]
    result = {"file": None, "table": None, "expectations": 0, "error": None}
    code = 2
    try:
        conn = req.get("source") or {}
        if conn.get("error"):
            raise SuiteError(conn["error"])
        table, schema = req.get("table"), req.get("schema") or conn.get("schema") or None
        kind = conn.get("kind")
        if kind == "duckdb":
            if not table:
                raise SuiteError("name the table: smelt invoke gx:init TABLE (DuckDB sources)")
            rows, pk, facts = profile_duckdb(conn, table, schema)
        else:
            import sqlalchemy as sa
            if kind == "sqlite":
                engine = sa.create_engine(f"sqlite:///{sqlite_file(conn, schema)}")
                schema = None if schema == "main" else schema
                sql_schema = None
            else:
                engine = sa.create_engine(pg_url(conn))
                sql_schema = schema
            try:
                insp = sa.inspect(engine)
                tables = sorted(insp.get_table_names(schema=sql_schema))
            except Exception as e:
                raise SuiteError(f"cannot connect to source '{conn['plugin']}' ({where_text(conn)}): {short(SCRUB(e))}")
            if not table:
                if len(tables) == 1:
                    table = tables[0]
                elif not tables:
                    raise SuiteError(f"source '{conn['plugin']}' ({where_text(conn)}) has no tables yet")
                else:
                    raise SuiteError(f"source '{conn['plugin']}' has {len(tables)} tables ({', '.join(tables[:20])}): "
                                     "name one: smelt invoke gx:init TABLE")
            if table not in tables and not insp.has_table(table, schema=sql_schema):
                there = f"; tables there: {', '.join(tables[:20])}" if tables else "; it has no tables"
                raise SuiteError(f"table '{table}' not found in source '{conn['plugin']}' ({where_text(conn)}){there}")
            rows, pk, facts = profile_sql(engine, table, sql_schema)
            engine.dispose()
        text, n = example_suite(conn["plugin"], table, schema if kind != "sqlite" else None, rows, pk, facts)
        target = os.path.join(req["suites_dir"], f"{table}.yml")
        if os.path.exists(target) and not req.get("force"):
            raise SuiteError(f"'{req.get('display_dir', req['suites_dir'])}/{table}.yml' exists: edit it, or pass --force to replace it")
        os.makedirs(req["suites_dir"], exist_ok=True)
        with open(target, "w", encoding="utf-8") as f:
            f.write(text)
        result.update(file=target, table=table, expectations=n, source=conn["plugin"])
        code = 0
    except SuiteError as e:
        result["error"] = SCRUB(str(e))
    except Exception as e:
        if DEBUG:
            traceback.print_exc()
        result["error"] = SCRUB(short(f"{type(e).__name__}: {e}"))
    write_result(output, result)
    return code


def cmd_check():
    try:
        gx = import_gx()
    except RuntimeError as e:
        print(str(e), file=sys.stderr)
        return 2
    print(f"great_expectations {gx.__version__}")
    return 0


def main(argv):
    if len(argv) < 2:
        print("usage: gx_runner.py plan FILE... | check | validate REQUEST | init REQUEST", file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    try:
        if cmd == "plan":
            return cmd_plan(args)
        if cmd == "check":
            return cmd_check()
        if cmd in ("validate", "init") and len(args) == 1:
            return cmd_validate(args[0]) if cmd == "validate" else cmd_init(args[0])
    except Exception as e:  # the request itself is unreadable
        if DEBUG:
            traceback.print_exc()
        print(f"gx runner: {SCRUB(short(e))}", file=sys.stderr)
        return 2
    print(f"gx runner: unknown command '{cmd}'", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
