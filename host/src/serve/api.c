/*
 * api: the routes of /api/v1 (api/openapi.json is the contract: change
 * both together) and /health.  Runs and logs are read from the system
 * database and .smelt/logs directly; plugins' settings, state, jobs,
 * schedules and adapters go through this smelt's own commands
 * (serve/subcmd.h), so they follow the CLI's rules (redaction, where a
 * secret is stored, state validation).
 */
#include "serve/http.h"
#include "serve/children.h"
#include "serve/ctx.h"
#include "serve/dbpool.h"
#include "serve/logstream.h"
#include "serve/respcache.h"
#include "serve/subcmd.h"
#include "build_config.h"
#include "project/definition.h"
#include "project/project.h"
#include "run/blocks.h"
#include "store/runs.h"
#include "store/store.h"
#include "run/proc.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/names.h"
#include "util/strbuf.h"
#include "util/uuid.h"

#include <smelt/sdk.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "serve/mhd_lazy.h"

#define API "/api/v1"

static int is(const struct req *r, const char *method)
{
	return !strcmp(r->method, method);
}

/* The path's segments after prefix ("a/b/c" -> 3); 0 when path does not start with prefix. */
static size_t split(const char *path, const char *prefix, char seg[][1024], size_t max)
{
	size_t pl = strlen(prefix);
	if (strncmp(path, prefix, pl) || (path[pl] && path[pl] != '/'))
		return 0;
	const char *p = path + pl;
	size_t n = 0;
	while (*p == '/' && n < max) {
		p++;
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len >= 1024)
			return max + 1;
		memcpy(seg[n], p, len);
		seg[n][len] = 0;
		n++;
		p += len;
	}
	return *p ? max + 1 : n;
}

/* A plugin, setting, job or adapter name: letters, digits, '_', '-', '.', '@' and ':', not starting with '-'. */
static int name_ok(const char *s)
{
	if (!*s || *s == '-' || *s == '.' || strlen(s) > 255)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-.@:", *s))
			return 0;
	return 1;
}

/* A state id as the CLI makes them: no '/', no "..", no control byte; at most 900 bytes (Meltano's column). */
static int state_id_ok(const char *s)
{
	if (!*s || *s == '-' || strlen(s) > 900 || strstr(s, ".."))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-.:@=+,", *s))
			return 0;
	return 1;
}

static struct store *open_store(const struct req *r, char *err, size_t errlen)
{
	return dbpool_get(r->sv->db, err, errlen);
}

static void close_store(const struct req *r, struct store *st)
{
	dbpool_put(r->sv->db, st);
}

/* Load the project model (under the lock: the model is not thread-safe); NULL with err set. */
static struct project *load_project(struct req *r, char *err, size_t errlen)
{
	const struct serve_opts *o = r->sv->o;
	struct project *p = NULL;
	if (project_load(o->root, o->file, o->env_file, &p, err, errlen))
		return NULL;
	if (project_select_environment(p, o->environment, o->no_environment, ENV_DEFAULT_OR_NONE, err, errlen)) {
		project_free(p);
		return NULL;
	}
	return p;
}

/* The JSON a smelt command printed, or an error reply: exit 1 with "not ..." texts is 404 when notfound. */
static struct reply from_subcmd(const struct subcmd_result *res, int notfound_is_404)
{
	if (res->exit_code == 0) {
		cJSON *v = cJSON_Parse(res->out);
		if (!v)
			return reply_error(500, "the command's output is not JSON");
		return reply_json(200, v);
	}
	const char *msg = res->errtext && *res->errtext ? res->errtext : "the command failed";
	if (notfound_is_404 && (strstr(msg, "no state") || strstr(msg, "not in") || strstr(msg, "not found") ||
	                        strstr(msg, "no plugin") || strstr(msg, "unknown")))
		return reply_error(404, "%s", msg);
	return reply_error(res->exit_code == -1 ? 500 : 400, "%s", msg);
}

static struct reply run_cmd(struct req *r, const char *const *args, const char *input, size_t inlen, int nf404)
{
	struct subcmd_result res;
	if (subcmd_run(r->sv, args, input, inlen, &res))
		return reply_error(500, "cannot run smelt");
	struct reply rep = from_subcmd(&res, nf404);
	subcmd_result_release(&res);
	return rep;
}

/* ---- project, plugins -------------------------------------------------- */

static struct reply get_project(struct req *r)
{
	char err[SMELT_ERRBUF_SIZE * 2];
	pthread_mutex_lock(&r->sv->project_lock);
	struct project *p = load_project(r, err, sizeof err);
	if (!p) {
		pthread_mutex_unlock(&r->sv->project_lock);
		return reply_error(500, "%s", err);
	}
	cJSON *o = cJSON_CreateObject();
	const char *slash = strrchr(p->root, '/');
	cJSON_AddStringToObject(o, "name", slash && slash[1] ? slash + 1 : p->root);
	if (p->project_id)
		cJSON_AddStringToObject(o, "project_id", p->project_id);
	else
		cJSON_AddNullToObject(o, "project_id");
	cJSON_AddStringToObject(o, "file", p->file_name);
	cJSON_AddStringToObject(o, "smelt_version", SMELT_VERSION);
	if (p->default_environment)
		cJSON_AddStringToObject(o, "default_environment", p->default_environment);
	else
		cJSON_AddNullToObject(o, "default_environment");
	if (p->active)
		cJSON_AddStringToObject(o, "active_environment", p->active->name);
	else
		cJSON_AddNullToObject(o, "active_environment");
	cJSON *envs = cJSON_AddArrayToObject(o, "environments");
	for (size_t i = 0; i < p->nenvironments; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", p->environments[i].name);
		cJSON_AddBoolToObject(e, "default",
		                      p->default_environment && !strcmp(p->default_environment, p->environments[i].name));
		cJSON_AddItemToArray(envs, e);
	}
	project_free(p);
	pthread_mutex_unlock(&r->sv->project_lock);
	return reply_json(200, o);
}

static cJSON *plugin_json(struct project *p, struct plugin *pl)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", pl->name);
	cJSON_AddStringToObject(o, "type", plugin_type_plural(pl->type));
	if (pl->variant)
		cJSON_AddStringToObject(o, "variant", pl->variant);
	else
		cJSON_AddNullToObject(o, "variant");
	const char *ns = plugin_namespace(p, pl);
	if (ns)
		cJSON_AddStringToObject(o, "namespace", ns);
	else
		cJSON_AddNullToObject(o, "namespace");
	if (pl->inherit_from)
		cJSON_AddStringToObject(o, "inherit_from", pl->inherit_from);
	else
		cJSON_AddNullToObject(o, "inherit_from");
	if (pl->label)
		cJSON_AddStringToObject(o, "label", pl->label);
	else
		cJSON_AddNullToObject(o, "label");
	return o;
}

static struct reply get_plugins(struct req *r)
{
	char err[SMELT_ERRBUF_SIZE * 2];
	pthread_mutex_lock(&r->sv->project_lock);
	struct project *p = load_project(r, err, sizeof err);
	if (!p) {
		pthread_mutex_unlock(&r->sv->project_lock);
		return reply_error(500, "%s", err);
	}
	cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "plugins");
	for (size_t i = 0; i < p->nplugins; i++)
		cJSON_AddItemToArray(arr, plugin_json(p, p->plugins[i]));
	project_free(p);
	pthread_mutex_unlock(&r->sv->project_lock);
	return reply_json(200, o);
}

/* The plugin's type word for `config --plugin-type`, or NULL (404 reply set) when no plugin has that name. */
static int find_plugin_type(struct req *r, const char *name, char *type, size_t len, cJSON **info, struct reply *rep)
{
	char err[SMELT_ERRBUF_SIZE * 2];
	const char *want = req_query(r, "type");
	pthread_mutex_lock(&r->sv->project_lock);
	struct project *p = load_project(r, err, sizeof err);
	if (!p) {
		pthread_mutex_unlock(&r->sv->project_lock);
		*rep = reply_error(500, "%s", err);
		return -1;
	}
	struct plugin *found = NULL;
	for (size_t i = 0; i < p->nplugins && !found; i++)
		if (!strcmp(p->plugins[i]->name, name) &&
		    (!want || !strcmp(want, plugin_type_plural(p->plugins[i]->type)) ||
		     !strcmp(want, plugin_type_singular(p->plugins[i]->type))))
			found = p->plugins[i];
	if (found) {
		snprintf(type, len, "%s", plugin_type_singular(found->type));
		if (info)
			*info = plugin_json(p, found);
	}
	project_free(p);
	pthread_mutex_unlock(&r->sv->project_lock);
	if (!found) {
		*rep = reply_error(404, "no plugin named '%s' in the project", name);
		return -1;
	}
	return 0;
}

static int query_true(const struct req *r, const char *name)
{
	const char *v = req_query(r, name);
	return v && (!strcmp(v, "true") || !strcmp(v, "1"));
}

static struct reply get_plugin(struct req *r, const char *name)
{
	char type[32];
	cJSON *info = NULL;
	struct reply rep;
	int unsafe = query_true(r, "unsafe");
	if (unsafe && !r->sv->o->allow_unsafe)
		return reply_error(403, "unsafe=true needs a server started with --allow-unsafe");
	if (find_plugin_type(r, name, type, sizeof type, &info, &rep))
		return rep;
	const char *args[] = { "config", "--plugin-type", type, "--format", "json", unsafe ? "--unsafe" : "--safe",
		               "list", name, NULL };
	struct subcmd_result res;
	if (subcmd_run(r->sv, args, NULL, 0, &res)) {
		cJSON_Delete(info);
		return reply_error(500, "cannot run smelt");
	}
	cJSON *settings = res.exit_code == 0 ? cJSON_Parse(res.out) : NULL;
	if (!settings) {
		rep = from_subcmd(&res, 1);
		if (rep.status == 200)
			rep.status = 500;
		subcmd_result_release(&res);
		cJSON_Delete(info);
		return rep;
	}
	subcmd_result_release(&res);
	cJSON *list = cJSON_DetachItemFromObjectCaseSensitive(settings, "settings");
	cJSON_Delete(settings);
	cJSON_AddItemToObject(info, "settings", list ? list : cJSON_CreateArray());
	return reply_json(200, info);
}

static struct reply put_setting(struct req *r, const char *name, const char *setting)
{
	char type[32];
	struct reply rep;
	if (!name_ok(setting))
		return reply_error(400, "'%s' is not a setting name", setting);
	cJSON *body = cJSON_ParseWithLength(r->body.buf, r->body.len);
	cJSON *value = body ? cJSON_GetObjectItemCaseSensitive(body, "value") : NULL;
	if (!value) {
		cJSON_Delete(body);
		return reply_error(400, "the body must be a JSON object with a \"value\"");
	}
	if (find_plugin_type(r, name, type, sizeof type, NULL, &rep)) {
		cJSON_Delete(body);
		return rep;
	}
	/* the value goes on stdin as JSON, never on a command line */
	char *text = cJSON_PrintUnformatted(value);
	cJSON_Delete(body);
	const char *args[] = { "config", "--plugin-type", type, "set", name, setting, "--from-file", "-", NULL };
	struct subcmd_result res;
	if (subcmd_run(r->sv, args, text, strlen(text), &res)) {
		free(text);
		return reply_error(500, "cannot run smelt");
	}
	free(text);
	if (res.exit_code != 0) {
		rep = from_subcmd(&res, 0);
		subcmd_result_release(&res);
		return rep;
	}
	subcmd_result_release(&res);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "plugin", name);
	cJSON_AddStringToObject(o, "setting", setting);
	cJSON_AddBoolToObject(o, "updated", 1);
	return reply_json(200, o);
}

/* ---- runs ---------------------------------------------------------------- */

static int int_query(const struct req *r, const char *name, int dflt, int max, int *out)
{
	const char *v = req_query(r, name);
	if (!v) {
		*out = dflt;
		return 0;
	}
	char *end;
	long n = strtol(v, &end, 10);
	if (!*v || *end || n < 0 || n > max)
		return -1;
	*out = (int)n;
	return 0;
}

/*
 * A run listing's answer: from the cache while the database has not
 * changed, else made by fill() and stored (key NULL: neither looked up nor
 * stored); with its ETag, or 304 when the
 * client's If-None-Match names it.  The runs of dead processes are marked
 * first (a write: the generation moves on), then the generation is read,
 * then the database (respcache.h says why in this order).
 */
static struct reply cached_json(struct req *r, const char *key,
                                int (*fill)(struct store *st, const void *arg, cJSON **out, char *err, size_t errlen),
                                const void *arg, unsigned (*status_of)(int rc))
{
	char err[SMELT_ERRBUF_SIZE], etag[RESPCACHE_ETAG_SIZE];
	struct store *st = open_store(r, err, sizeof err);
	if (!st)
		return reply_error(500, "%s", err);
	runs_reap_dead(st, children_supervised, r->sv->kids);
	long long gen = respcache_generation(r->sv->cache);
	char *text = NULL;
	size_t len = 0;
	if (!key || respcache_get(r->sv->cache, key, gen, &text, &len, etag) != 0) {
		cJSON *v;
		int rc = fill(st, arg, &v, err, sizeof err);
		if (rc) {
			close_store(r, st);
			return reply_error(status_of(rc), "%s", err);
		}
		text = cJSON_PrintUnformatted(v);
		cJSON_Delete(v);
		len = strlen(text);
		if (key)
			respcache_put(r->sv->cache, key, gen, text, len, etag);
		else
			respcache_etag(text, len, etag);
	}
	close_store(r, st);
	struct MHD_Response *resp;
	unsigned status = 200;
	if (respcache_etag_matches(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "If-None-Match"), etag)) {
		free(text);
		status = 304;
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	} else {
		resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(resp, "Content-Type", "application/json");
	}
	MHD_add_response_header(resp, "ETag", etag);
	return (struct reply){ status, resp };
}

static int fill_list(struct store *st, const void *arg, cJSON **out, char *err, size_t errlen)
{
	return runs_list(st, arg, out, err, errlen);
}

static unsigned list_status(int rc)
{
	return rc == SMELT_ERR_CONFIG ? 400 : 500;
}

static struct reply list_runs(struct req *r)
{
	struct runs_query q = { .job = req_query(r, "job"), .status = req_query(r, "status"),
		                .since = req_query(r, "since") };
	if (int_query(r, "limit", 50, 1000, &q.limit) || q.limit < 1)
		return reply_error(400, "limit must be a whole number from 1 to 1000");
	if (int_query(r, "offset", 0, 1000000000, &q.offset))
		return reply_error(400, "offset must be a whole number >= 0");
	if (q.status && strcmp(q.status, "queued") && strcmp(q.status, "running") && strcmp(q.status, "success") &&
	    strcmp(q.status, "failed") && strcmp(q.status, "cancelled"))
		return reply_error(400, "status must be queued, running, success, failed or cancelled");
	/*
	 * the key: the query as runs_list() sees it (unknown arguments and their order make no new entry);
	 * none with since=, which may be relative to now (7d): the answer changes with the clock
	 */
	struct strbuf key = STRBUF_INIT;
	strbuf_addf(&key, "runs\x1f%d\x1f%d\x1f%c%s\x1f%c%s\x1f%c%s", q.limit, q.offset, q.job ? '=' : '-',
	            q.job ? q.job : "", q.status ? '=' : '-', q.status ? q.status : "", q.since ? '=' : '-',
	            q.since ? q.since : "");
	struct reply rep = cached_json(r, q.since ? NULL : key.buf, fill_list, &q, list_status);
	strbuf_release(&key);
	return rep;
}

/* 400 for a malformed run id (no lookup at all), else 0. */
static int bad_run_id(const char *id, struct reply *rep)
{
	char err[SMELT_ERRBUF_SIZE];
	if (name_check_run_id(id, err, sizeof err)) {
		*rep = reply_error(400, "not a run id");
		return 1;
	}
	return 0;
}

static int fill_show(struct store *st, const void *arg, cJSON **out, char *err, size_t errlen)
{
	return runs_show(st, arg, out, err, errlen);
}

static unsigned show_status(int rc)
{
	return rc == SMELT_ERR_NOTFOUND ? 404 : 500;
}

static struct reply show_run(struct req *r, const char *id)
{
	char *key = xasprintf("run\x1f%s", id);
	struct reply rep = cached_json(r, key, fill_show, id, show_status);
	free(key);
	return rep;
}

static int arg_ok(const char *s)
{
	/* a block: a plugin name, optionally ":command" (never an option) */
	return name_ok(s) && strlen(s) < 256;
}

static struct reply start_run(struct req *r)
{
	cJSON *body = cJSON_ParseWithLength(r->body.buf, r->body.len);
	if (!cJSON_IsObject(body)) {
		cJSON_Delete(body);
		return reply_error(400, "the body must be a JSON object: {\"blocks\": [...]} or {\"job\": \"name\"}");
	}
	const cJSON *blocks = cJSON_GetObjectItemCaseSensitive(body, "blocks");
	const cJSON *job = cJSON_GetObjectItemCaseSensitive(body, "job");
	const cJSON *fr = cJSON_GetObjectItemCaseSensitive(body, "full_refresh");
	struct reply rep = { 0, NULL };
	const char **args = NULL;
	size_t n = 0;
	if ((blocks != NULL) == (job != NULL)) {
		rep = reply_error(400, "give either \"blocks\" (a list of plugin names) or \"job\" (a job name)");
	} else if (fr && !cJSON_IsBool(fr)) {
		rep = reply_error(400, "\"full_refresh\" must be true or false");
	} else if (job) {
		if (!cJSON_IsString(job) || !arg_ok(job->valuestring))
			rep = reply_error(400, "\"job\" must be a job name");
		else {
			args = xcalloc(2, sizeof *args);
			args[n++] = job->valuestring;
		}
	} else if (!cJSON_IsArray(blocks) || !cJSON_GetArraySize(blocks) || cJSON_GetArraySize(blocks) > 32) {
		rep = reply_error(400, "\"blocks\" must be a list of 1 to 32 plugin names");
	} else {
		const cJSON *b;
		args = xcalloc((size_t)cJSON_GetArraySize(blocks) + 1, sizeof *args);
		cJSON_ArrayForEach(b, blocks) {
			if (!cJSON_IsString(b) || !arg_ok(b->valuestring)) {
				rep = reply_error(400, "\"blocks\" must hold plugin names (PLUGIN or PLUGIN:COMMAND)");
				break;
			}
			args[n++] = b->valuestring;
		}
	}
	if (rep.status) {
		free(args);
		cJSON_Delete(body);
		return rep;
	}
	/* the same parse as smelt run's, so a wrong block is a 400 now rather than a failed run later */
	char err[SMELT_ERRBUF_SIZE * 2];
	pthread_mutex_lock(&r->sv->project_lock);
	struct project *p = load_project(r, err, sizeof err);
	int rc = p ? 0 : SMELT_ERR, client_err = 1;
	if (p) {
		struct block_list bl;
		rc = blocks_parse(p, (char **)args, n, &bl, err, sizeof err);
		if (!rc) {
			if (!bl.n)
				rc = fail(err, sizeof err, SMELT_ERR_CONFIG, "no blocks to run");
			blocks_release(&bl);
		}
		if (!rc && !p->active)
			rc = fail(err, sizeof err, SMELT_ERR_CONFIG,
			          "no environment is active: set default_environment or start the server with --environment");
	}
	const char *job_name = job && p && project_find_job(p, job->valuestring) ? job->valuestring : NULL;
	char uuid[37];
	uuid4(uuid);
	if (!rc) {
		client_err = 0;
		rc = children_start(r->sv->kids, uuid, job_name, args, n, cJSON_IsTrue(fr), err, sizeof err);
	} else if (!p) {
		client_err = 0;
	}
	project_free(p);
	pthread_mutex_unlock(&r->sv->project_lock);
	free(args);
	cJSON_Delete(body);
	if (rc)
		return reply_error(client_err ? 400 : 500, "%s", err);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "run_id", uuid);
	cJSON_AddStringToObject(o, "status", "queued");
	struct reply ok = reply_json(202, o);
	char *loc = xasprintf(API "/runs/%s", uuid);
	MHD_add_response_header(ok.resp, "Location", loc);
	free(loc);
	return ok;
}

static struct reply cancel_run(struct req *r, const char *id)
{
	char err[SMELT_ERRBUF_SIZE], status[32];
	struct store *st = open_store(r, err, sizeof err);
	if (!st)
		return reply_error(500, "%s", err);
	struct proc_owner owner;
	runs_reap_dead(st, children_supervised, r->sv->kids);
	int rc = runs_status(st, id, status, sizeof status, &owner, err, sizeof err);
	close_store(r, st);
	if (rc)
		return reply_error(rc == SMELT_ERR_NOTFOUND ? 404 : 500, "%s", err);
	if (strcmp(status, "running") && strcmp(status, "queued"))
		return reply_error(409, "run '%s' is not running (%s)", id, status);
	int sent = children_cancel(r->sv->kids, id);
	/* a run this server did not start (CLI, an earlier server): its recorded process, when provably it */
	if (!sent && owner.pid > 0 && proc_owner_check(&owner) == PROC_ALIVE)
		sent = kill((pid_t)owner.pid, SIGTERM) == 0;
	if (!sent)
		return reply_error(409, "run '%s' cannot be cancelled from here (its process is not on this host)", id);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "run_id", id);
	cJSON_AddStringToObject(o, "status", "cancelling");
	return reply_json(202, o);
}

static struct reply get_log(struct req *r, const char *id)
{
	char *rel = xasprintf("logs/%s/run.log", id);
	int fd = fs_open_under(r->sv->o->sys_dir, rel, O_RDONLY | O_CLOEXEC, 0);
	free(rel);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		if (fd >= 0)
			close(fd);
		return reply_error(404, "run '%s' has no log", id);
	}
	struct MHD_Response *resp = MHD_create_response_from_fd((size_t)sb.st_size, fd);
	MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
	return (struct reply){ 200, resp };
}

static int run_exists(struct req *r, const char *id, struct reply *rep)
{
	char err[SMELT_ERRBUF_SIZE], status[32];
	struct store *st = open_store(r, err, sizeof err);
	if (!st) {
		*rep = reply_error(500, "%s", err);
		return 0;
	}
	int rc = runs_status(st, id, status, sizeof status, NULL, err, sizeof err);
	close_store(r, st);
	if (rc) {
		*rep = reply_error(rc == SMELT_ERR_NOTFOUND ? 404 : 500, "%s", err);
		return 0;
	}
	return 1;
}

/* ---- state ----------------------------------------------------------------- */

/* `smelt state get` of an unknown id prints {} and exits 0, as Meltano's does; the API answers 404. */
static int state_found(const struct subcmd_result *res)
{
	cJSON *o = res->out ? cJSON_Parse(res->out) : NULL;
	int found = cJSON_IsObject(o) && o->child;
	cJSON_Delete(o);
	return found;
}

static struct reply state_one(struct req *r, const char *id)
{
	if (!state_id_ok(id))
		return reply_error(400, "not a state id");
	if (is(r, "GET")) {
		const char *args[] = { "state", "get", id, NULL };
		struct subcmd_result res;
		if (subcmd_run(r->sv, args, NULL, 0, &res))
			return reply_error(500, "cannot run smelt");
		struct reply rep = res.exit_code == 0 && !state_found(&res) ? reply_error(404, "no state with id '%s'", id)
		                                                             : from_subcmd(&res, 1);
		subcmd_result_release(&res);
		return rep;
	}
	if (is(r, "PUT")) {
		cJSON *body = cJSON_ParseWithLength(r->body.buf, r->body.len);
		int ok = cJSON_IsObject(body) && cJSON_GetObjectItemCaseSensitive(body, "singer_state");
		cJSON_Delete(body);
		if (!ok)
			return reply_error(400, "the body must be a JSON object with a top-level \"singer_state\"");
		const char *args[] = { "state", "set", "--force", id, "--input-file", "/dev/stdin", NULL };
		struct subcmd_result res;
		if (subcmd_run(r->sv, args, r->body.buf, r->body.len, &res))
			return reply_error(500, "cannot run smelt");
		struct reply rep;
		if (res.exit_code == 0) {
			const char *get[] = { "state", "get", id, NULL };
			rep = run_cmd(r, get, NULL, 0, 1);
		} else {
			rep = from_subcmd(&res, 0);
		}
		subcmd_result_release(&res);
		return rep;
	}
	if (is(r, "DELETE")) {
		const char *get[] = { "state", "get", id, NULL };
		struct subcmd_result res;
		if (subcmd_run(r->sv, get, NULL, 0, &res))
			return reply_error(500, "cannot run smelt");
		int exists = res.exit_code == 0 && state_found(&res);
		subcmd_result_release(&res);
		if (!exists)
			return reply_error(404, "no state with id '%s'", id);
		const char *args[] = { "state", "clear", "--force", id, NULL };
		if (subcmd_run(r->sv, args, NULL, 0, &res))
			return reply_error(500, "cannot run smelt");
		struct reply rep;
		if (res.exit_code == 0)
			rep = (struct reply){ 204, MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT) };
		else
			rep = from_subcmd(&res, 1);
		subcmd_result_release(&res);
		return rep;
	}
	return reply_error(405, "method not allowed");
}

/* ---- adapters ------------------------------------------------------------------ */

static struct reply check_adapter(struct req *r, const char *name)
{
	const char *args[] = { "adapters", "check", "--format", "json", NULL };
	struct subcmd_result res;
	if (subcmd_run(r->sv, args, NULL, 0, &res))
		return reply_error(500, "cannot run smelt");
	cJSON *all = cJSON_Parse(res.out);
	subcmd_result_release(&res);
	const cJSON *list = all ? cJSON_GetObjectItemCaseSensitive(all, "adapters") : NULL, *a;
	cJSON_ArrayForEach(a, list) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(a, "name");
		if (cJSON_IsString(n) && !strcmp(n->valuestring, name)) {
			cJSON *one = cJSON_Duplicate(a, 1);
			cJSON_Delete(all);
			return reply_json(200, one);
		}
	}
	cJSON_Delete(all);
	return reply_error(404, "no adapter named '%s'", name);
}

/* ---- files ----------------------------------------------------------------------- */

static struct reply openapi(struct req *r)
{
	char *path = path_join(r->sv->o->data_dir, "openapi.json");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0) {
		if (fd >= 0)
			close(fd);
		return reply_error(500, "openapi.json is not installed with this smelt");
	}
	struct MHD_Response *resp = MHD_create_response_from_fd((size_t)sb.st_size, fd);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return (struct reply){ 200, resp };
}

/* ---- routing ---------------------------------------------------------------------- */

static struct reply method_not_allowed(const char *allow)
{
	struct reply rep = reply_error(405, "method not allowed (allowed: %s)", allow);
	MHD_add_response_header(rep.resp, "Allow", allow);
	return rep;
}

#define ONLY(m)                                        \
	do {                                           \
		if (!is(r, m))                         \
			return method_not_allowed(m);  \
	} while (0)

struct reply api_handle(struct req *r)
{
	char seg[4][1024];
	size_t n;
	if (r->bad_url)
		return reply_error(400, "the path holds a control byte");
	if (!strcmp(r->path, "/health")) {
		if (!is(r, "GET") && !is(r, "HEAD"))
			return method_not_allowed("GET");
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "status", "ok");
		cJSON_AddStringToObject(o, "version", SMELT_VERSION);
		return reply_json(200, o);
	}
	if (!strcmp(r->path, API "/openapi.json")) {
		ONLY("GET");
		return openapi(r);
	}
	if (!strcmp(r->path, API "/project")) {
		ONLY("GET");
		return get_project(r);
	}
	if (!strcmp(r->path, API "/jobs")) {
		ONLY("GET");
		const char *args[] = { "job", "list", "--format", "json", NULL };
		return run_cmd(r, args, NULL, 0, 0);
	}
	if (!strcmp(r->path, API "/schedules")) {
		ONLY("GET");
		const char *args[] = { "schedule", "list", "--format", "json", NULL };
		return run_cmd(r, args, NULL, 0, 0);
	}
	if (!strcmp(r->path, API "/adapters")) {
		ONLY("GET");
		const char *args[] = { "adapters", "list", "--format", "json", NULL };
		return run_cmd(r, args, NULL, 0, 0);
	}
	if (!strcmp(r->path, API "/state")) {
		ONLY("GET");
		const char *pattern = req_query(r, "pattern");
		if (pattern && (strlen(pattern) > 900 || pattern[0] == '-'))
			return reply_error(400, "not a pattern");
		const char *args[] = { "state", "list", "--format", "json", pattern ? "--pattern" : NULL, pattern, NULL };
		return run_cmd(r, args, NULL, 0, 0);
	}
	if (!strcmp(r->path, API "/plugins")) {
		ONLY("GET");
		return get_plugins(r);
	}
	if (!strcmp(r->path, API "/runs")) {
		if (is(r, "GET"))
			return list_runs(r);
		if (is(r, "POST"))
			return start_run(r);
		return method_not_allowed("GET, POST");
	}
	if ((n = split(r->path, API "/runs", seg, 3)) >= 1 && n <= 3) {
		struct reply rep;
		if (bad_run_id(seg[0], &rep))
			return rep;
		if (n == 1) {
			ONLY("GET");
			return show_run(r, seg[0]);
		}
		if (n == 2 && !strcmp(seg[1], "cancel")) {
			ONLY("POST");
			return cancel_run(r, seg[0]);
		}
		if (n == 2 && !strcmp(seg[1], "log")) {
			ONLY("GET");
			if (!run_exists(r, seg[0], &rep))
				return rep;
			return get_log(r, seg[0]);
		}
		if (n == 3 && !strcmp(seg[1], "log") && !strcmp(seg[2], "stream")) {
			ONLY("GET");
			if (!run_exists(r, seg[0], &rep))
				return rep;
			return logstream_reply(r, seg[0]);
		}
		return reply_error(404, "no such path");
	}
	if ((n = split(r->path, API "/state", seg, 1)) == 1)
		return state_one(r, seg[0]);
	if ((n = split(r->path, API "/plugins", seg, 3)) >= 1 && n <= 3) {
		if (!name_ok(seg[0]))
			return reply_error(400, "not a plugin name");
		if (n == 1) {
			ONLY("GET");
			return get_plugin(r, seg[0]);
		}
		if (n == 3 && !strcmp(seg[1], "settings")) {
			ONLY("PUT");
			return put_setting(r, seg[0], seg[2]);
		}
		return reply_error(404, "no such path");
	}
	if ((n = split(r->path, API "/adapters", seg, 2)) == 2 && !strcmp(seg[1], "check")) {
		ONLY("POST");
		if (!name_ok(seg[0]))
			return reply_error(400, "not an adapter name");
		return check_adapter(r, seg[0]);
	}
	return reply_error(404, "no such path");
}
