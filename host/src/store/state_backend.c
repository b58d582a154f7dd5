/* state_backend: see state_backend.h. */
#include "store/state_backend.h"
#include "store/meltano_db.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum backend_kind { BACKEND_SYSTEMDB, BACKEND_BLOB };

struct state_backend {
	enum backend_kind kind;
	char *label;
	struct store *store;       /* systemdb: borrowed */
	char *meltano_db;          /* systemdb: Meltano's database to read through, NULL: none */
	const struct blob_ops *ops; /* blob */
	void *ctx;
	double lock_timeout_s;
	double lock_retry_s;
};

/* ---- the local folder ---------------------------------------------------------------- */

struct dir_store {
	char *dir;
};

static int dir_read(void *ctx, const char *rel, struct strbuf *out, char *err, size_t errlen)
{
	struct dir_store *d = ctx;
	char *path = path_join(d->dir, rel);
	int rc = read_file(path, out) == 0 ? 1 : errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if (rc < 0)
		fail(err, errlen, SMELT_ERR, "cannot read '%s': %s", path, strerror(errno));
	free(path);
	return rc < 0 ? SMELT_ERR : rc;
}

static int dir_write(void *ctx, const char *rel, const char *data, size_t len, char *err, size_t errlen)
{
	struct dir_store *d = ctx;
	if (mkdir_p(d->dir, 0755) != 0 || fs_write_under(d->dir, rel, data, len, 0644, 0755) != 0)
		return fail(err, errlen, SMELT_ERR, "cannot write '%s/%s': %s", d->dir, rel, fs_beneath_strerror(errno));
	return SMELT_OK;
}

static int dir_remove(void *ctx, const char *rel, char *err, size_t errlen)
{
	struct dir_store *d = ctx;
	if (dir_exists(d->dir) && fs_unlink_under(d->dir, rel) != 0 && errno != ENOENT)
		return fail(err, errlen, SMELT_ERR, "cannot remove '%s/%s': %s", d->dir, rel, fs_beneath_strerror(errno));
	return SMELT_OK;
}

static void dir_close(void *ctx)
{
	struct dir_store *d = ctx;
	if (d)
		free(d->dir);
	free(d);
}

static const struct blob_ops dir_ops = { dir_read, dir_write, dir_remove, dir_close, NULL };

/* ---- opening ------------------------------------------------------------------------- */

void state_backend_config_release(struct state_backend_config *c)
{
	free(c->uri);
	free(c->s3_endpoint);
	free(c->s3_key);
	free(c->s3_secret);
	free(c->meltano_db);
	memset(c, 0, sizeof *c);
}

int state_backend_open(const struct state_backend_config *c, struct store *store, struct state_backend **out,
                       char *err, size_t errlen)
{
	*out = NULL;
	const char *uri = c->uri;
	struct state_backend *b = xcalloc(1, sizeof *b);
	b->lock_timeout_s = c->lock_timeout_s > 0 ? c->lock_timeout_s : 10;
	b->lock_retry_s = c->lock_retry_s > 0 ? c->lock_retry_s : 1;
	int rc = SMELT_OK;
	if (!uri || !strcmp(uri, "systemdb")) {
		b->kind = BACKEND_SYSTEMDB;
		b->label = xstrdup("systemdb");
		b->store = store;
		b->meltano_db = c->meltano_db ? xstrdup(c->meltano_db) : NULL;
	} else if (!strncmp(uri, "file://", 7)) {
		/* file:///abs/dir; like urlparse(), a host part (file://host/dir) is not part of the path */
		const char *path = strchr(uri + 7, '/');
		if (!path || !path[1]) {
			rc = fail(err, errlen, SMELT_ERR_CONFIG, "state_backend.uri '%s' names no folder", uri);
		} else {
			struct dir_store *d = xcalloc(1, sizeof *d);
			d->dir = xstrdup(path);
			b->kind = BACKEND_BLOB;
			b->ops = &dir_ops;
			b->ctx = d;
			b->label = xstrdup(uri);
		}
	} else if (!strncmp(uri, "s3://", 5)) {
		char *endpoint = c->s3_endpoint ? xstrdup(c->s3_endpoint) : NULL;
		char *key = c->s3_key ? xstrdup(c->s3_key) : NULL;
		char *secret = c->s3_secret ? xstrdup(c->s3_secret) : NULL;
		if (!key && getenv("AWS_ACCESS_KEY_ID"))
			key = xstrdup(getenv("AWS_ACCESS_KEY_ID"));
		if (!secret && getenv("AWS_SECRET_ACCESS_KEY"))
			secret = xstrdup(getenv("AWS_SECRET_ACCESS_KEY"));
		if (secret)
			log_add_secret(secret);
		const char *region = getenv("AWS_DEFAULT_REGION") ? getenv("AWS_DEFAULT_REGION") : getenv("AWS_REGION");
		rc = state_s3_open(uri, endpoint, region, key, secret, &b->ops, &b->ctx, err, errlen);
		b->kind = BACKEND_BLOB;
		b->label = xstrdup(uri);
		free(endpoint);
		free(key);
		free(secret);
	} else {
		const char *colon = strstr(uri, "://");
		int n = colon ? (int)(colon - uri) : (int)strlen(uri);
		if ((n == 2 && !strncmp(uri, "gs", 2)) || (n == 5 && !strncmp(uri, "azure", 5)))
			rc = fail(err, errlen, SMELT_ERR_CONFIG,
			          "state backend '%.*s://' (state_backend.uri) is not supported by smelt; use systemdb, "
			          "file:// or s3://",
			          n, uri);
		else
			rc = fail(err, errlen, SMELT_ERR_CONFIG,
			          "no state backend for scheme '%.*s' (state_backend.uri); available: systemdb, file, s3", n,
			          uri);
	}
	if (rc != SMELT_OK) {
		state_backend_close(b);
		return rc;
	}
	*out = b;
	return SMELT_OK;
}

void state_backend_close(struct state_backend *b)
{
	if (!b)
		return;
	if (b->ops && b->ops->close)
		b->ops->close(b->ctx);
	free(b->meltano_db);
	free(b->label);
	free(b);
}

const char *state_backend_label(const struct state_backend *b)
{
	return b->label;
}

/* ---- systemdb with Meltano's database read through ----------------------------------- */

/* "2026-12-02T02:13:22.090Z" and "2026-12-02 02:13:22.090803" into comparable "YYYY-MM-DD HH:MM:SS.ffffff". */
static void norm_time(const char *in, char out[27])
{
	memset(out, '0', 26);
	out[26] = 0;
	for (size_t i = 0; i < 26 && in[i] && in[i] != 'Z' && in[i] != '+'; i++)
		out[i] = in[i] == 'T' ? ' ' : in[i];
}

static int systemdb_get(struct state_backend *b, const char *state_id, char **json, char *err, size_t errlen)
{
	char *mine = NULL, *mine_at = NULL, *theirs = NULL, *theirs_at = NULL, merr[256];
	if (!b->store)
		return fail(err, errlen, SMELT_ERR, "the system database is not open");
	if (store_state_get(b->store, state_id, &mine, err, errlen))
		return SMELT_ERR;
	int rc = b->meltano_db ? meltano_db_state_get(b->meltano_db, state_id, &theirs, &theirs_at, merr, sizeof merr) : 0;
	if (rc < 0) {
		log_warn("%s", merr);
		rc = 0;
	}
	if (rc > 0 && mine) {
		/* both have it: the newer wins */
		char cmine[27], ctheirs[27];
		store_state_updated_at(b->store, state_id, &mine_at);
		norm_time(mine_at ? mine_at : "", cmine);
		norm_time(theirs_at, ctheirs);
		if (strcmp(ctheirs, cmine) <= 0)
			rc = 0;
	}
	if (rc > 0) {
		log_info("using the state of '%s' from Meltano's system database %s%s%s%s", state_id, b->meltano_db,
		         *theirs_at ? " (written " : "", theirs_at, *theirs_at ? " UTC)" : "");
		free(mine);
		*json = theirs;
	} else {
		free(theirs);
		*json = mine;
	}
	free(mine_at);
	free(theirs_at);
	return SMELT_OK;
}

/* ---- object stores: Meltano's layout and lock ---------------------------------------- */

/* Refuse ids that would leave the folder (Meltano takes them as path parts). */
static int check_id(const char *state_id, char *err, size_t errlen)
{
	const char *p = state_id;
	if (!*p || *p == '/')
		return fail(err, errlen, SMELT_ERR_CONFIG, "state id '%s' cannot be stored in a file backend", state_id);
	while (*p) {
		size_t n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.') || n == 0)
			return fail(err, errlen, SMELT_ERR_CONFIG, "state id '%s' cannot be stored in a file backend",
			            state_id);
		p += n;
		if (*p)
			p++;
	}
	return SMELT_OK;
}

static double now_s(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* The stored {"completed": ..., "partial": ...}; an empty object when none. */
static int blob_load(struct state_backend *b, const char *state_id, cJSON **out, char *err, size_t errlen)
{
	struct strbuf sb = STRBUF_INIT;
	char *rel = xasprintf("%s/state.json", state_id);
	int rc = b->ops->read(b->ctx, rel, &sb, err, errlen);
	*out = NULL;
	if (rc > 0) {
		*out = json_parse_exact(sb.buf);
		if (!*out || !cJSON_IsObject(*out)) {
			cJSON_Delete(*out);
			*out = NULL;
			rc = fail(err, errlen, SMELT_ERR, "%s/%s in the state backend is not a JSON object", b->label, rel);
		}
	}
	if (rc == 0)
		*out = cJSON_CreateObject();
	free(rel);
	strbuf_release(&sb);
	return rc < 0 ? SMELT_ERR : SMELT_OK;
}

static int blob_get(struct state_backend *b, const char *state_id, char **json, char *err, size_t errlen)
{
	cJSON *rec;
	if (check_id(state_id, err, errlen) || blob_load(b, state_id, &rec, err, errlen))
		return SMELT_ERR;
	cJSON *merged = cJSON_DetachItemFromObjectCaseSensitive(rec, "completed");
	if (!cJSON_IsObject(merged)) {
		cJSON_Delete(merged);
		merged = cJSON_CreateObject();
	}
	const cJSON *part = cJSON_GetObjectItemCaseSensitive(rec, "partial");
	if (cJSON_IsObject(part))
		json_merge(merged, part);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(merged, "singer_state");
	if (v)
		*json = json_print(v);
	cJSON_Delete(merged);
	cJSON_Delete(rec);
	return SMELT_OK;
}

/* Meltano's lock: wait while <id>/lock holds a timestamp newer than lock_timeout; then write ours. */
static int blob_lock(struct state_backend *b, const char *state_id, char *err, size_t errlen)
{
	char *rel = xasprintf("%s/lock", state_id);
	int rc;
	for (;;) {
		struct strbuf sb = STRBUF_INIT;
		rc = b->ops->read(b->ctx, rel, &sb, err, errlen);
		double at = rc > 0 ? strtod(sb.buf, NULL) : 0;
		strbuf_release(&sb);
		if (rc < 0)
			break;
		if (rc > 0 && at >= now_s() - b->lock_timeout_s) {
			struct timespec ts = { (time_t)b->lock_retry_s,
				               (long)((b->lock_retry_s - (double)(time_t)b->lock_retry_s) * 1e9) };
			nanosleep(&ts, NULL);
			continue;
		}
		char stamp[64];
		int n = snprintf(stamp, sizeof stamp, "%.6f", now_s());
		rc = b->ops->write(b->ctx, rel, stamp, (size_t)n, err, errlen);
		break;
	}
	free(rel);
	return rc < 0 ? SMELT_ERR : SMELT_OK;
}

static void blob_unlock(struct state_backend *b, const char *state_id)
{
	char *rel = xasprintf("%s/lock", state_id), e[256];
	if (b->ops->remove(b->ctx, rel, e, sizeof e))
		log_warn("%s", e);
	free(rel);
}

static int blob_put(struct state_backend *b, const char *state_id, const char *json, int partial, char *err,
                    size_t errlen)
{
	cJSON *value = json_parse_exact(json);
	if (!value)
		return fail(err, errlen, SMELT_ERR_CONFIG, "state for '%s' is not valid JSON", state_id);
	if (check_id(state_id, err, errlen) || blob_lock(b, state_id, err, errlen)) {
		cJSON_Delete(value);
		return SMELT_ERR;
	}
	cJSON *rec = NULL;
	int rc = SMELT_OK;
	if (partial) {
		rc = blob_load(b, state_id, &rec, err, errlen);
	} else {
		rec = cJSON_CreateObject();
	}
	if (rc == SMELT_OK) {
		cJSON *wrapped = cJSON_CreateObject();
		cJSON_AddItemToObject(wrapped, "singer_state", value);
		value = NULL;
		if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(rec, "completed"))) {
			cJSON_DeleteItemFromObjectCaseSensitive(rec, "completed");
			cJSON_AddItemToObject(rec, "completed", partial ? cJSON_CreateObject() : wrapped);
		}
		cJSON *part = cJSON_GetObjectItemCaseSensitive(rec, "partial");
		if (!cJSON_IsObject(part)) {
			cJSON_DeleteItemFromObjectCaseSensitive(rec, "partial");
			part = cJSON_AddObjectToObject(rec, "partial");
		}
		if (partial) {
			json_merge(part, wrapped);
			cJSON_Delete(wrapped);
		}
		/* {"completed": ..., "partial": ...} in Meltano's order, as json.dumps() writes it */
		struct strbuf sb = STRBUF_INIT;
		strbuf_addstr(&sb, "{\"completed\": ");
		json_dump(&sb, cJSON_GetObjectItemCaseSensitive(rec, "completed"), -1);
		strbuf_addstr(&sb, ", \"partial\": ");
		json_dump(&sb, cJSON_GetObjectItemCaseSensitive(rec, "partial"), -1);
		strbuf_addch(&sb, '}');
		char *rel = xasprintf("%s/state.json", state_id);
		rc = b->ops->write(b->ctx, rel, sb.buf, sb.len, err, errlen);
		free(rel);
		strbuf_release(&sb);
	}
	cJSON_Delete(value);
	cJSON_Delete(rec);
	blob_unlock(b, state_id);
	return rc;
}

/* ---- dispatch ------------------------------------------------------------------------ */

int state_backend_get(struct state_backend *b, const char *state_id, char **json, char *err, size_t errlen)
{
	*json = NULL;
	return b->kind == BACKEND_SYSTEMDB ? systemdb_get(b, state_id, json, err, errlen)
	                                   : blob_get(b, state_id, json, err, errlen);
}

int state_backend_put(struct state_backend *b, const char *state_id, const char *json, int partial, char *err,
                      size_t errlen)
{
	if (b->kind == BACKEND_SYSTEMDB)
		return b->store ? store_state_put(b->store, state_id, json, partial, err, errlen)
		                : fail(err, errlen, SMELT_ERR, "the system database is not open");
	return blob_put(b, state_id, json, partial, err, errlen);
}

/* 1 when text, a stored state ({"singer_state": ...} or a partial one), holds nothing: {} inside, or {} */
static int empty_state(const char *text)
{
	cJSON *j = cJSON_Parse(text);
	const cJSON *inner = cJSON_GetObjectItemCaseSensitive(j, "singer_state");
	int empty = j && cJSON_IsObject(j) && (inner ? cJSON_IsObject(inner) && !inner->child : !j->child);
	cJSON_Delete(j);
	return empty;
}

int state_backend_clear(struct state_backend *b, const char *state_id, int *found, char *err, size_t errlen)
{
	int had = 0, empty_mask = 0;
	if (b->kind == BACKEND_SYSTEMDB) {
		char merr[256];
		if (!b->store)
			return fail(err, errlen, SMELT_ERR, "the system database is not open");
		if (found) { /* only the CLI asks: a run's clear need not read the row first */
			char *c = NULL, *p = NULL;
			if (store_state_get_raw(b->store, state_id, &c, &p, err, errlen))
				return SMELT_ERR;
			/* the empty state an earlier clear recorded over Meltano's (below) is nothing to clear again */
			had = (c && !empty_state(c)) || (p && !empty_state(p));
			empty_mask = c && empty_state(c) && (!p || empty_state(p));
			free(c);
			free(p);
		}
		if (store_state_clear(b->store, state_id, err, errlen))
			return SMELT_ERR;
		int theirs = b->meltano_db ? meltano_db_state_get(b->meltano_db, state_id, NULL, NULL, merr, sizeof merr) : 0;
		if (theirs < 0)
			log_warn("%s", merr);
		if (found)
			*found = had || (theirs > 0 && !empty_mask);
		if (theirs <= 0)
			return SMELT_OK;
		log_info("Meltano's system database %s still holds state for '%s' (smelt never writes to it); "
		         "smelt recorded an empty state so that it is not used",
		         b->meltano_db, state_id);
		return store_state_put(b->store, state_id, "{}", 0, err, errlen);
	}
	if (check_id(state_id, err, errlen) || blob_lock(b, state_id, err, errlen))
		return SMELT_ERR;
	char *rel = xasprintf("%s/state.json", state_id);
	int rc = SMELT_OK;
	if (found) { /* removing a missing object succeeds: whether there was one takes a read, under the lock */
		struct strbuf sb = STRBUF_INIT;
		had = b->ops->read(b->ctx, rel, &sb, err, errlen);
		strbuf_release(&sb);
		rc = had < 0 ? SMELT_ERR : SMELT_OK;
	}
	if (rc == SMELT_OK)
		rc = b->ops->remove(b->ctx, rel, err, errlen);
	free(rel);
	blob_unlock(b, state_id);
	if (rc == SMELT_OK && b->ops == &dir_ops) { /* Meltano removes the folder too; an emptied one goes */
		char *dir = path_join(((struct dir_store *)b->ctx)->dir, state_id);
		rmdir(dir);
		free(dir);
	}
	if (rc == SMELT_OK && found)
		*found = had > 0;
	return rc;
}

int state_backend_copy(struct state_backend *b, const char *src, const char *dst, int move, char *err, size_t errlen)
{
	if (b->kind == BACKEND_SYSTEMDB && b->store && !b->meltano_db) /* one transaction */
		return store_state_copy(b->store, src, dst, move, err, errlen);
	char *json = NULL;
	int rc = state_backend_get(b, src, &json, err, errlen);
	if (rc == SMELT_OK && !json)
		rc = fail(err, errlen, SMELT_ERR_NOTFOUND, "no state with id '%s'", src);
	if (rc == SMELT_OK)
		rc = state_backend_put(b, dst, json, 0, err, errlen);
	if (rc == SMELT_OK && move && strcmp(src, dst))
		rc = state_backend_clear(b, src, NULL, err, errlen);
	free(json);
	return rc;
}

static void collect_id(void *arg, const char *id, const char *updated_at)
{
	(void)updated_at;
	struct strbuf *sb = arg;
	strbuf_addstr(sb, id);
	strbuf_addch(sb, '\n');
}

int state_backend_clear_all(struct state_backend *b, int *count, char *err, size_t errlen)
{
	struct strbuf ids = STRBUF_INIT;
	*count = 0;
	int rc = state_backend_list(b, NULL, collect_id, &ids, err, errlen);
	char *save = NULL;
	for (char *id = rc ? NULL : strtok_r(ids.buf, "\n", &save); id && rc == SMELT_OK; id = strtok_r(NULL, "\n", &save))
		if ((rc = state_backend_clear(b, id, NULL, err, errlen)) == SMELT_OK)
			(*count)++;
	strbuf_release(&ids);
	return rc;
}

/* ---- listing ------------------------------------------------------------------------- */

struct collect {
	cJSON *ids;         /* {state_id: updated_at} */
	const char *glob;
};

static void collect_one(void *arg, const char *id, const char *updated_at)
{
	struct collect *c = arg;
	if (!id || (c->glob && fnmatch(c->glob, id, 0)))
		return;
	const cJSON *have = cJSON_GetObjectItemCaseSensitive(c->ids, id);
	char a[27], b[27];
	norm_time(updated_at ? updated_at : "", a);
	if (have) {
		norm_time(have->valuestring, b);
		if (strcmp(a, b) <= 0)
			return;
		cJSON_DeleteItemFromObjectCaseSensitive(c->ids, id);
	}
	cJSON_AddStringToObject(c->ids, id, updated_at ? updated_at : "");
}

/* An object "<state_id>/state.json" of a listable store is a state id (as Meltano's get_state_ids()). */
static void collect_object(void *arg, const char *rel, const char *updated_at)
{
	const char *slash = strchr(rel, '/');
	if (!slash || slash == rel || strcmp(slash + 1, "state.json"))
		return;
	char *id = xstrndup(rel, (size_t)(slash - rel));
	collect_one(arg, id, updated_at);
	free(id);
}

static int cmp_items(const void *x, const void *y)
{
	return strcmp((*(cJSON *const *)x)->string, (*(cJSON *const *)y)->string);
}

int state_backend_list(struct state_backend *b, const char *glob,
                       void (*fn)(void *arg, const char *state_id, const char *updated_at), void *arg, char *err,
                       size_t errlen)
{
	struct collect c = { cJSON_CreateObject(), glob };
	int rc = SMELT_OK;
	if (b->kind == BACKEND_SYSTEMDB) {
		char merr[256];
		if (!b->store)
			rc = fail(err, errlen, SMELT_ERR, "the system database is not open");
		else if (store_state_list(b->store, glob, collect_one, &c, err, errlen))
			rc = SMELT_ERR;
		else if (b->meltano_db && meltano_db_state_list(b->meltano_db, collect_one, &c, merr, sizeof merr))
			log_warn("%s", merr);
	} else if (b->ops->list) {
		rc = b->ops->list(b->ctx, collect_object, &c, err, errlen);
	} else if (b->ops != &dir_ops) {
		rc = fail(err, errlen, SMELT_ERR, "listing the states of %s is not supported", b->label);
	} else {
		const char *dir = ((struct dir_store *)b->ctx)->dir;
		DIR *d = opendir(dir);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
				continue;
			char *path = xasprintf("%s/%s/state.json", dir, e->d_name);
			struct stat sbuf;
			if (stat(path, &sbuf) == 0 && S_ISREG(sbuf.st_mode)) {
				char at[32];
				struct tm tm;
				gmtime_r(&sbuf.st_mtime, &tm);
				strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
				collect_one(&c, e->d_name, at);
			}
			free(path);
		}
		if (d)
			closedir(d);
	}
	int n = cJSON_GetArraySize(c.ids), i = 0;
	cJSON **items = xcalloc((size_t)n + 1, sizeof *items);
	for (cJSON *it = c.ids->child; it; it = it->next)
		items[i++] = it;
	qsort(items, (size_t)n, sizeof *items, cmp_items);
	for (i = 0; rc == SMELT_OK && i < n; i++)
		fn(arg, items[i]->string, items[i]->valuestring);
	free(items);
	cJSON_Delete(c.ids);
	return rc;
}
