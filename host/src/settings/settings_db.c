/*
 * settings_db - the SOURCE_DB level backed by the system database
 * (host/src/store): settings_use_system_db() installs settings_db_ops that
 * open <sys_dir>/smelt.db lazily (reads never create it) and close it at
 * exit.
 */
#include "settings/settings.h"
#include "store/meltano_db.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

struct sysdb {
	char *path;        /* <sys_dir>/smelt.db */
	char *dir;         /* <sys_dir> */
	struct store *st;  /* NULL until opened */
	char *meltano_db;  /* Meltano's .meltano/meltano.db, read when smelt.db has no value; NULL: none */
};

static struct sysdb sysdb;
static int atexit_done;

/* 0 opened, 1 no database (and create is 0), negative on failure. */
static int sysdb_open(struct sysdb *c, int create, char *err, size_t errlen)
{
	if (c->st)
		return 0;
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
	return c->meltano_db ? meltano_db_setting_get(c->meltano_db, ns, name, json_out, err, errlen) : 0;
}

static int sysdb_set(void *ctx, const char *ns, const char *name, const char *json, char *err, size_t errlen)
{
	struct sysdb *c = ctx;
	int rc = sysdb_open(c, 1, err, errlen);
	return rc < 0 ? rc : store_setting_set(c->st, ns, name, json, err, errlen);
}

static int sysdb_unset(void *ctx, const char *ns, const char *name, char *err, size_t errlen)
{
	struct sysdb *c = ctx;
	int rc = sysdb_open(c, 0, err, errlen);
	if (rc)
		return rc > 0 ? 0 : rc;
	return store_setting_unset(c->st, ns, name, err, errlen);
}

static int sysdb_reset(void *ctx, const char *ns, char *err, size_t errlen)
{
	struct sysdb *c = ctx;
	int rc = sysdb_open(c, 0, err, errlen);
	if (rc)
		return rc > 0 ? 0 : rc;
	return store_settings_clear(c->st, ns, err, errlen);
}

static void sysdb_close(void)
{
	store_close(sysdb.st);
	free(sysdb.path);
	free(sysdb.dir);
	free(sysdb.meltano_db);
	memset(&sysdb, 0, sizeof sysdb);
}

void settings_use_system_db(const char *sys_dir, const char *project_root)
{
	sysdb_close();
	if (!sys_dir) {
		settings_set_db(NULL);
		return;
	}
	sysdb.dir = xstrdup(sys_dir);
	sysdb.path = path_join(sys_dir, "smelt.db");
	sysdb.meltano_db = project_root ? meltano_db_path(project_root) : NULL;
	struct settings_db_ops ops = { &sysdb, sysdb_get, sysdb_set, sysdb_unset, sysdb_reset };
	settings_set_db(&ops);
	if (!atexit_done) {
		atexit(sysdb_close);
		atexit_done = 1;
	}
}
