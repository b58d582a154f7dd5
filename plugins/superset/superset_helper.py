"""Smelt's helper inside the Superset virtualenv (shipped with the superset adapter).

    python superset_helper.py initialize JOB.json   migrate the metadata database, create or update
                                                   the admin user, sync roles and permissions
    python superset_helper.py sync JOB.json         register warehouses as databases and their
                                                   tables and views as datasets

JOB.json is a private file (0600) the adapter writes; it holds the admin user ("admin") and the
warehouses ("databases": [{"name", "uri", "extra", "schemas"}]).  It runs inside Superset's own
application context, with the configuration the adapter generated (SUPERSET_CONFIG_PATH) and the
secret key in SUPERSET_SECRET_KEY.  Every object it touches is reported on stdout as one line
"@smelt {json}" with "item" and "status" (created, updated, unchanged, error); everything else
Superset prints is left to the logs.  Nothing is ever deleted.  Exit 0: all went well; 1: something
failed (the line of the failed item says what); 2: bad usage or job file.
"""
import json
import sys
import time


def report(item, status, message=None, **detail):
    line = {"item": item, "status": status}
    if message:
        line["message"] = message
    line.update(detail)
    print("@smelt " + json.dumps(line), flush=True)


def make_app():
    from superset.app import create_app  # pylint: disable=import-outside-toplevel

    return create_app()


def ensure_admin(admin):
    """The admin user of the settings: created when missing, its password/email/names updated."""
    from superset import db, security_manager as sm  # pylint: disable=import-outside-toplevel
    from werkzeug.security import check_password_hash  # pylint: disable=import-outside-toplevel

    username = admin["username"]
    role = sm.find_role(sm.auth_role_admin)
    user = sm.find_user(username=username)
    if user is None:
        user = sm.add_user(username, admin.get("first_name") or "Superset", admin.get("last_name") or "Admin",
                           admin["email"], role, password=admin["password"])
        if not user:
            report(f"user {username}", "error", "could not create the admin user")
            return False
        report(f"user {username}", "created")
        return True
    changed = False
    if not user.password or not check_password_hash(user.password, admin["password"]):
        sm.reset_password(user.id, admin["password"])
        user = sm.find_user(username=username)
        changed = True
    for attr, key in (("email", "email"), ("first_name", "first_name"), ("last_name", "last_name")):
        want = admin.get(key)
        if want and getattr(user, attr) != want:
            setattr(user, attr, want)
            changed = True
    if role is not None and role not in user.roles:
        user.roles.append(role)
        changed = True
    if changed:
        sm.update_user(user)
    db.session.commit()
    report(f"user {username}", "updated" if changed else "unchanged")
    return True


def initialize(job):
    from flask_migrate import upgrade  # pylint: disable=import-outside-toplevel
    from superset import appbuilder, db, security_manager  # pylint: disable=import-outside-toplevel

    t0 = time.time()
    upgrade()  # `superset db upgrade`
    report("metadata database", "upgraded", seconds=round(time.time() - t0, 2))
    t0 = time.time()
    appbuilder.add_permissions(update_perms=True)  # `superset init`
    security_manager.sync_role_definitions()
    db.session.commit()
    report("roles and permissions", "synced", seconds=round(time.time() - t0, 2))
    if job.get("admin"):
        return ensure_admin(job["admin"])
    return True


def same_uri(a, b):
    from sqlalchemy.engine.url import make_url  # pylint: disable=import-outside-toplevel

    try:
        return make_url(a).render_as_string(hide_password=False) == make_url(b).render_as_string(hide_password=False)
    except Exception:  # pylint: disable=broad-except
        return a == b


def ensure_database(spec):
    """The Superset database named spec["name"] pointing at spec["uri"]; returns (database, status)."""
    from superset import db  # pylint: disable=import-outside-toplevel
    from superset.models.core import Database  # pylint: disable=import-outside-toplevel

    name = spec["name"]
    extra = spec.get("extra") or {}
    database = db.session.query(Database).filter_by(database_name=name).one_or_none()
    status = "unchanged"
    if database is None:
        database = Database(database_name=name, expose_in_sqllab=True)
        database.set_sqlalchemy_uri(spec["uri"])
        database.extra = json.dumps(extra)
        db.session.add(database)
        status = "created"
    else:
        if not same_uri(database.sqlalchemy_uri_decrypted, spec["uri"]):
            database.set_sqlalchemy_uri(spec["uri"])
            status = "updated"
        try:
            current = json.loads(database.extra or "{}")
        except ValueError:
            current = {}
        merged = dict(current)
        merged.update(extra)
        if merged != current:
            database.extra = json.dumps(merged)
            status = "updated"
    db.session.commit()
    return database, status


SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "pg_toast"}


def warehouse_relations(database, schemas):
    """[(schema, name)] of the tables and views the warehouse holds, in a stable order."""
    import sqlalchemy as sa  # pylint: disable=import-outside-toplevel

    found = []
    with database.get_sqla_engine() as engine:
        insp = sa.inspect(engine)
        names = schemas or [s for s in insp.get_schema_names()
                            if s not in SYSTEM_SCHEMAS and not s.startswith(("pg_temp", "pg_toast"))]
        if engine.dialect.name == "duckdb" and not schemas:
            # duckdb-engine lists "<catalog>.<schema>" for every attached catalog (system, temp, the
            # file's own): keep the file's own schemas, by their plain names.
            with engine.connect() as conn:
                own = conn.execute(sa.text("select current_database()")).scalar()
            names = [n.split(".", 1)[1] if "." in n else n for n in names
                     if "." not in n or n.split(".", 1)[0] == own]
            names = sorted(set(names) - SYSTEM_SCHEMAS)
        for schema in names:
            rels = set(insp.get_table_names(schema=schema)) | set(insp.get_view_names(schema=schema))
            for rel in sorted(rels):
                if rel.startswith("sqlite_"):
                    continue
                found.append((schema, rel))
    return found


def ensure_dataset(database, schema, name, owner=None):
    from superset import db  # pylint: disable=import-outside-toplevel
    from superset.connectors.sqla.models import SqlaTable  # pylint: disable=import-outside-toplevel

    table = (db.session.query(SqlaTable)
             .filter_by(database_id=database.id, schema=schema, table_name=name).one_or_none())
    status = "unchanged"
    if table is None:
        table = SqlaTable(table_name=name, schema=schema, database=database)
        if owner is not None:
            table.owners = [owner]
        db.session.add(table)
        db.session.flush()
        status = "created"
    res = table.fetch_metadata()
    if status == "unchanged" and (res.added or res.removed or res.modified):
        status = "updated"
    db.session.commit()
    return status, len(table.columns)


def sync(job):
    from superset import db, security_manager  # pylint: disable=import-outside-toplevel

    ok = True
    owner = security_manager.find_user(username=job["owner"]) if job.get("owner") else None
    for spec in job.get("databases", []):
        name = spec["name"]
        t0 = time.time()
        try:
            database, status = ensure_database(spec)
            report(f"database {name}", status, spec.get("source"), seconds=round(time.time() - t0, 2))
        except Exception as ex:  # pylint: disable=broad-except
            db.session.rollback()
            report(f"database {name}", "error", f"{type(ex).__name__}: {ex}")
            ok = False
            continue
        try:
            relations = warehouse_relations(database, spec.get("schemas"))
        except Exception as ex:  # pylint: disable=broad-except
            report(f"database {name}", "error", f"cannot list its tables: {type(ex).__name__}: {ex}")
            ok = False
            continue
        for schema, rel in relations:
            item = f"dataset {name}.{schema}.{rel}" if schema else f"dataset {name}.{rel}"
            t0 = time.time()
            try:
                status, ncols = ensure_dataset(database, schema, rel, owner)
                report(item, status, f"{ncols} columns", seconds=round(time.time() - t0, 2))
            except Exception as ex:  # pylint: disable=broad-except
                db.session.rollback()
                message = f"{type(ex).__name__}: {ex}"
                if "UNIQUE constraint failed: tables.table_name" in message:
                    # Superset's migrations cannot drop this constraint on SQLite.
                    message = ("another dataset has the same table name, which a SQLite metadata database does "
                               "not allow; use a PostgreSQL metadata database (setting sqlalchemy_database_uri)")
                report(item, "error", message)
                ok = False
    return ok


def main(argv):
    if len(argv) != 3 or argv[1] not in ("initialize", "sync"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(argv[2], encoding="utf-8") as f:
            job = json.load(f)
    except (OSError, ValueError) as ex:
        print(f"superset_helper: cannot read the job file: {ex}", file=sys.stderr)
        return 2
    try:
        app = make_app()
        with app.app_context():
            ok = initialize(job) if argv[1] == "initialize" else sync(job)
    except Exception as ex:  # pylint: disable=broad-except
        import traceback  # pylint: disable=import-outside-toplevel

        traceback.print_exc()
        report(f"superset {argv[1]}", "error", f"{type(ex).__name__}: {ex}")
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
