/*
 * settings_db - the SOURCE_DB level backed by the system database
 * (host/src/store): settings_system_db_new() makes a settings_db_ops whose
 * context opens <sys_dir>/smelt.db lazily (reads never create it);
 * settings_project_db_new() (system_db.h) one that opens what the
 * project's database_uri names, PostgreSQL included.  Closing the backend
 * closes the database.
 */
#include "project/project.h"
#include "settings/settings.h"
#include "settings/system_db.h"
#include "store/meltano_db.h"
#include "store/store.h"
#include "store/store_pg.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sysdb {
	char *path;        /* <sys_dir>/smelt.db */
	char *dir;         /* <sys_dir> */
	struct store *st;  /* NULL until opened */
	char *meltano_db;  /* Meltano's .meltano/meltano.db, read when smelt.db has no value; NULL: none */
	struct project *p; /* borrowed; NULL: always <sys_dir>/smelt.db (settings_system_db_new()) */
	int pg;            /* -1 not known yet, 0 SQLite, 1 database_uri names PostgreSQL */
	int pg_failed;     /* the server could not be used: said once, then the level is empty */
	long long meltano_absent_until; /* monotonic ms: meltano_db was missing, not looked for again before then */
};

/*
 * Meltano's database, read through when smelt.db lacks a value: most
 * projects have none, and a run asks for a hundred values, so a missing
 * file is looked for again only a second later (a long-lived process still
 * finds one Meltano creates meanwhile).
 */
static int meltano_get(struct sysdb *c, const char *ns, const char *name, char **json_out, char *err, size_t errlen)
{
	if (!c->meltano_db || coarse_ms() < c->meltano_absent_until)
		return 0;
	if (!file_exists(c->meltano_db)) {
		c->meltano_absent_until = coarse_ms() + 1000;
		return 0;
	}
	return meltano_db_setting_get(c->meltano_db, ns, name, json_out, err, errlen);
}

/* Open the PostgreSQL system database of c->p; 0 opened, 1 it failed before, negative (once) on failure. */
static int sysdb_open_pg(struct sysdb *c, char *err, size_t errlen)
{
	if (c->pg_failed)
		return 1;
	int rc = settings_open_store(c->p, &c->st, err, errlen);
	if (rc) {
		c->pg_failed = 1;
		return rc < 0 ? rc : SMELT_ERR;
	}
	return 0;
}


/* 0 opened, 1 no database (and create is 0), negative on failure. */
static int sysdb_open(struct sysdb *c, int create, char *err, size_t errlen)
{
	if (c->st)
		return 0;
	if (c->p && c->pg < 0) {
		char *uri = NULL, uerr[SMELT_ERRBUF_SIZE];
		/* a database_uri that cannot be used is reported by the commands that open the database */
		c->pg = settings_system_db_uri(c->p, &uri, uerr, sizeof uerr) == SMELT_OK && uri;
		free(uri);
	}
	if (c->pg > 0)
		return sysdb_open_pg(c, err, errlen);
	if (!create && !file_exists(c->path))
		return 1;
	if (mkdir_private(c->dir) < 0)
		return fail(err, errlen, SMELT_ERR, "cannot create '%s'", c->dir);
	return store_open(c->path, &c->st, err, errlen) < 0 ? SMELT_ERR : 0;
}

static int sysdb_get(void *ctx, const char *ns, const char *name, char **json_out, char *err, size_t errlen)
{
	struct sysdb *c = ctx;
	int rc = sysdb_open(c, 0, err, errlen);
	*json_out = NULL;
	if (rc < 0)
		return rc;
	if (rc == 0 && store_setting_get(c->st, ns, name, json_out) < 0)
		return fail(err, errlen, SMELT_ERR, "cannot read setting '%s'", name);
	if (*json_out)
		return 1;
	/* read through to Meltano's database (never written): `meltano config set --store db` */
	if (c->pg > 0)
		return rc == 0 ? store_pg_meltano_setting_get(store_pg_of(c->st), ns, name, json_out, err, errlen) : 0;
	return meltano_get(c, ns, name, json_out, err, errlen);
}

static int sysdb_set(void *ctx, const char *ns, const char *name, const char *json, char *err, size_t errlen)
{
	struct sysdb *c = ctx;
	int rc = sysdb_open(c, 1, err, errlen);
	if (rc > 0)
		return fail(err, errlen, SMELT_ERR, "the system database cannot be used (see above)");
	rc = rc < 0 ? rc : store_setting_set(c->st, ns, name, json, err, errlen);
	settings_note_write(); /* what was resolved before is stale */
	return rc;
}

static int sysdb_unset(void *ctx, const char *ns, const char *name, char *err, size_t errlen)
{
	struct sysdb *c = ctx;
	int rc = sysdb_open(c, 0, err, errlen);
	if (rc)
		return rc > 0 ? 0 : rc;
	rc = store_setting_unset(c->st, ns, name, err, errlen);
	settings_note_write();
	return rc;
}

static int sysdb_reset(void *ctx, const char *ns, char *err, size_t errlen)
{
	struct sysdb *c = ctx;
	int rc = sysdb_open(c, 0, err, errlen);
	if (rc)
		return rc > 0 ? 0 : rc;
	rc = store_settings_clear(c->st, ns, err, errlen);
	settings_note_write();
	return rc;
}

/* One read transaction for a resolution's reads, when the database is open already (never opened here). */
static int sysdb_read_begin(void *ctx)
{
	struct sysdb *c = ctx;
	return c->st && c->pg == 0 && store_read_begin(c->st);
}

static void sysdb_read_end(void *ctx, int began)
{
	struct sysdb *c = ctx;
	if (began && c->st)
		store_read_end(c->st, 1);
}

static void sysdb_close(struct settings_db_ops *self)
{
	struct sysdb *c = self->ctx;
	store_close(c->st);
	free(c->path);
	free(c->dir);
	free(c->meltano_db);
	free(c);
	free(self);
}

struct settings_db_ops *settings_system_db_new(const char *sys_dir, const char *project_root)
{
	struct sysdb *c = xcalloc(1, sizeof *c);
	c->dir = xstrdup(sys_dir);
	c->path = path_join(sys_dir, "smelt.db");
	c->meltano_db = project_root ? meltano_db_path(project_root) : NULL;
	c->pg = 0;
	struct settings_db_ops *db = xcalloc(1, sizeof *db);
	*db = (struct settings_db_ops){ c, sysdb_get, sysdb_set, sysdb_unset, sysdb_reset, sysdb_close, sysdb_read_begin,
		                        sysdb_read_end };
	return db;
}

int settings_project_store(struct project *p, struct store **out, int *owned, char *err, size_t errlen)
{
	const struct settings_db_ops *db = settings_db_of(p);
	struct sysdb *c = db->get == sysdb_get ? db->ctx : NULL;
	*out = NULL;
	*owned = 0;
	if (!c || c->p != p || c->pg_failed) {
		*owned = 1;
		return settings_open_store(p, out, err, errlen);
	}
	char *uri = NULL;
	int rc = settings_system_db_uri(p, &uri, err, errlen); /* refuses what settings_open_store() refuses */
	if (rc)
		return rc;
	c->pg = uri != NULL; /* known now: sysdb_open() need not resolve it again */
	free(uri);
	if (!c->st && mkdir_private(p->sys_dir) != 0)
		return fail(err, errlen, SMELT_ERR, "cannot create '%s': %s", p->sys_dir, strerror(errno));
	rc = sysdb_open(c, 1, err, errlen);
	if (rc)
		return rc < 0 ? rc : fail(err, errlen, SMELT_ERR, "the system database cannot be used (see above)");
	*out = c->st;
	return SMELT_OK;
}

struct settings_db_ops *settings_project_db_new(struct project *p)
{
	struct settings_db_ops *db = settings_system_db_new(p->sys_dir, p->root);
	struct sysdb *c = db->ctx;
	c->p = p;
	c->pg = -1;
	return db;
}
