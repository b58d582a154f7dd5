/* runtime: the host services lent to adapters; see runtime.h. */
#include "run/runtime.h"
#include "adapters/dispatch.h"
#include "install/project_install.h"
#include "project/project.h"
#include "run/lineage.h"
#include "run/plugin_env.h"
#include "run/proc.h"
#include "run/runfiles.h"
#include "run/sdk_log.h"
#include "settings/required.h"
#include "settings/settings.h"
#include "settings/state_config.h"
#include "settings/system_db.h"
#include "store/state_backend.h"
#include "store/store.h"
#include "util/argv.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/paths.h"
#include "util/strbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>

/* The hctx lent to one adapter. */
struct host_ctx {
	struct runtime *rt;
	struct loaded_adapter *ad;
	uint32_t abi_minor; /* the adapter's SMELT_ABI_MINOR: which layout of struct smelt_exit it has */
};

/* struct smelt_env is an envlist behind the SDK's opaque name. */
struct smelt_env {
	struct envlist list;
};

#define RT(h) (((struct host_ctx *)(h))->rt)
#define PL(p) ((struct plugin *)(p))

const char *runtime_keep(struct runtime *rt, char *s)
{
	if (!s)
		return NULL;
	rt->pool = xrealloc(rt->pool, (rt->npool + 1) * sizeof *rt->pool);
	rt->pool[rt->npool++] = s;
	return s;
}

/* ---- services ------------------------------------------------------------ */

static void *h_alloc(size_t n) { return malloc(n ? n : 1); }
static void h_free(void *p) { free(p); }

static void h_log(void *hctx, enum smelt_log_level level, const char *fmt, ...)
{
	struct host_ctx *h = hctx;
	if (!log_enabled(level))
		return;
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, h->ad->desc->name, fmt, ap);
	va_end(ap);
}

static const char *h_path(void *hctx, enum smelt_path which)
{
	struct runtime *rt = RT(hctx);
	struct host_ctx *h = hctx;
	switch (which) {
	case SMELT_PATH_PROJECT_ROOT: return rt->project->root;
	case SMELT_PATH_SYS_DIR: return rt->project->sys_dir;
	case SMELT_PATH_RUN_LOG_DIR: return rt->run_log_dir;
	case SMELT_PATH_SMELT_EXE: return rt->paths->exe;
	case SMELT_PATH_LIBEXEC: return rt->paths->libexec_dir;
	case SMELT_PATH_ADAPTER_DATA: {
		char *dir = path_dirname(h->ad->path);
		char *data = xasprintf("%s/%s", dir, h->ad->desc->name);
		free(dir);
		return runtime_keep(rt, data);
	}
	}
	return NULL;
}

static const struct definition *def_of(struct runtime *rt, struct plugin *pl)
{
	char err[SMELT_ERRBUF_SIZE];
	const struct definition *d = project_plugin_def(rt->project, pl, err, sizeof err);
	if (!d)
		log_error("%s", err);
	return d;
}

const char *runtime_plugin_path(struct runtime *rt, struct plugin *pl, enum smelt_plugin_path what)
{
	const struct definition *d = def_of(rt, pl);
	switch (what) {
	case SMELT_PPATH_INSTALL_DIR:
		return runtime_keep(rt, xasprintf("%s/%s/%s", rt->project->sys_dir, plugin_type_plural(pl->type), pl->name));
	case SMELT_PPATH_VENV:
		if (!d || !d->pip_url)
			return NULL;
		return runtime_keep(rt, plugin_venv_dir(rt->project, pl));
	case SMELT_PPATH_RUN_DIR:
		return runtime_keep(rt, xasprintf("%s/run/%s", rt->project->sys_dir, pl->name));
	case SMELT_PPATH_EXECUTABLE: {
		const char *exe = d && d->executable ? d->executable : pl->name;
		const char *venv = runtime_plugin_path(rt, pl, SMELT_PPATH_VENV);
		if (strchr(exe, '/'))
			return runtime_keep(rt, path_join(rt->project->root, exe));
		if (venv) {
			char *p = xasprintf("%s/bin/%s", venv, exe);
			if (access(p, X_OK) == 0)
				return runtime_keep(rt, p);
			free(p);
		}
		char *p = path_join(rt->paths->libexec_dir, exe);
		if (access(p, X_OK) == 0)
			return runtime_keep(rt, p);
		free(p);
		p = which(exe, NULL);
		return runtime_keep(rt, p ? p : xstrdup(exe));
	}
	}
	return NULL;
}

static const char *h_plugin_path(void *hctx, const struct smelt_plugin *p, enum smelt_plugin_path which)
{
	return runtime_plugin_path(RT(hctx), PL(p), which);
}

static const char *h_environment(void *hctx)
{
	struct runtime *rt = RT(hctx);
	return rt->project->active ? rt->project->active->name : NULL;
}

static const char *h_plugin_attr(void *hctx, const struct smelt_plugin *p, const char *key)
{
	struct runtime *rt = RT(hctx);
	struct plugin *pl = PL(p);
	const struct definition *d = def_of(rt, pl);
	if (!strcmp(key, "name"))
		return pl->name;
	if (!strcmp(key, "namespace")) /* the tool's: an inherit_from child keeps its definition's */
		return plugin_claim_namespace(rt->project, pl);
	if (!strcmp(key, "variant"))
		return pl->variant ? pl->variant : d ? d->variant : NULL;
	if (!strcmp(key, "type"))
		return plugin_type_plural(pl->type);
	if (!strcmp(key, "executable"))
		return d && d->executable ? d->executable : pl->name;
	if (!strcmp(key, "pip_url"))
		return d ? d->pip_url : pl->pip_url;
	if (!strcmp(key, "inherit_from"))
		return pl->inherit_from;
	if (!strcmp(key, "adapter"))
		return pl->adapter;
	if (!strcmp(key, "dialect")) { /* a loader's extra: the project's, else the lock file's */
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(pl->extras, "dialect");
		if (!cJSON_IsString(v) && d && d->extras)
			v = cJSON_GetObjectItemCaseSensitive(d->extras, "dialect");
		return cJSON_IsString(v) ? v->valuestring : NULL;
	}
	if (!strcmp(key, "commands")) { /* the command names, one per line */
		struct strbuf sb = STRBUF_INIT;
		for (size_t i = 0; d && i < d->ncommands; i++)
			strbuf_addf(&sb, "%s\n", d->commands[i].name);
		return sb.buf ? runtime_keep(rt, strbuf_detach(&sb)) : NULL;
	}
	return NULL;
}

static int h_has_capability(void *hctx, const struct smelt_plugin *p, const char *cap)
{
	const struct definition *d = def_of(RT(hctx), PL(p));
	return d && definition_has_capability(d, cap);
}

static const struct smelt_plugin *h_plugin_find(void *hctx, const char *name)
{
	return (const struct smelt_plugin *)project_find_plugin(RT(hctx)->project, -1, name);
}

static size_t h_plugin_list(void *hctx, uint32_t types, const struct smelt_plugin **out, size_t cap)
{
	struct project *p = RT(hctx)->project;
	size_t n = 0;
	for (size_t i = 0; i < p->nplugins; i++) {
		if (!(loader_type_bit(plugin_type_plural(p->plugins[i]->type)) & types))
			continue;
		if (n < cap)
			out[n] = (const struct smelt_plugin *)p->plugins[i];
		n++;
	}
	return n;
}

int runtime_command_words(struct runtime *rt, struct plugin *pl, const char *command, const char *args,
                          char ***words, size_t *n, char *err, size_t errlen)
{
	char **split = NULL;
	size_t ns = 0;
	if (argv_split(args, &split, &ns) != 0) {
		argv_free(split);
		return fail(err, errlen, SMELT_ERR_CONFIG, "command '%s' of '%s' has an unterminated quote", command,
		            pl->name);
	}
	struct smelt_env *env = strchr(args, '$') ? runtime_env_new(rt, pl) : NULL;
	int rc = SMELT_OK;
	for (size_t i = 0; i < ns && !rc; i++) {
		if (!env || !strchr(split[i], '$')) {
			argv_push(words, n, split[i]);
			continue;
		}
		int empty = 0;
		char xerr[SMELT_ERRBUF_SIZE];
		char *x = settings_expand(split[i], &env->list, 0, &empty, xerr, sizeof xerr);
		if (!x)
			rc = fail(err, errlen, SMELT_ERR_CONFIG, "command '%s' of '%s': %s", command, pl->name, xerr);
		else if (empty || !*x)
			rc = fail(err, errlen, SMELT_ERR_CONFIG, "command '%s' of '%s': argument '%s' expands to nothing",
			          command, pl->name, split[i]);
		else
			argv_push(words, n, x);
		free(x);
	}
	runtime_env_free(env);
	argv_free(split);
	return rc;
}

/* One word for kit_split_args() (the adapters' splitter: quotes, no backslash escapes); NULL when it cannot say it. */
static char *quote_word(const char *w)
{
	if (*w && !strpbrk(w, " \t'\""))
		return xstrdup(w);
	if (!strchr(w, '\''))
		return xasprintf("'%s'", w);
	if (!strchr(w, '"'))
		return xasprintf("\"%s\"", w);
	return NULL;
}

static const char *h_plugin_command(void *hctx, const struct smelt_plugin *p, const char *command,
                                    const char **executable)
{
	struct runtime *rt = RT(hctx);
	const struct definition *d = def_of(rt, PL(p));
	const struct plugin_command *c = d ? definition_find_command(d, command) : NULL;
	if (executable)
		*executable = c ? c->executable : NULL;
	if (!c)
		return NULL;
	if (!c->args || !strchr(c->args, '$'))
		return c->args ? c->args : "";
	/* $VAR and ${VAR} expanded per word from the plugin's environment, re-quoted for the adapter's splitter */
	char **words = NULL, err[SMELT_ERRBUF_SIZE];
	size_t n = 0;
	if (runtime_command_words(rt, PL(p), command, c->args, &words, &n, err, sizeof err) != SMELT_OK) {
		log_error("%s", err);
		argv_free(words);
		return NULL; /* not run, as Meltano refuses it; the error says why */
	}
	struct strbuf sb = STRBUF_INIT;
	int ok = 1;
	for (size_t i = 0; i < n && ok; i++) {
		char *q = quote_word(words[i]);
		if (q)
			strbuf_addf(&sb, "%s%s", i ? " " : "", q);
		else
			ok = 0;
		free(q);
	}
	argv_free(words);
	if (!ok) {
		strbuf_release(&sb);
		log_warn("command '%s' of '%s': an expanded argument holds both quote characters; run as written", command,
		         PL(p)->name);
		return c->args;
	}
	return runtime_keep(rt, strbuf_detach(&sb));
}

static unsigned settings_flags(unsigned sdk_flags)
{
	return ((sdk_flags & SMELT_CFG_EXTRAS) ? SETTINGS_EXTRAS : 0) | ((sdk_flags & SMELT_CFG_REDACT) ? SETTINGS_REDACT : 0) |
	       ((sdk_flags & SMELT_CFG_FLAT) ? SETTINGS_FLAT : 0);
}

static int h_config_json(void *hctx, const struct smelt_plugin *p, unsigned flags, char **json, char *err,
                         size_t errlen)
{
	struct runtime *rt = RT(hctx);
	struct settings s;
	*json = NULL;
	int rc = settings_resolve(rt->project, PL(p), NULL, settings_flags(flags), &s, err, errlen);
	if (rc == SMELT_OK) {
		cJSON *cfg = settings_config_json(&s, settings_flags(flags));
		*json = cfg ? json_print(cfg) : NULL; /* json_print: keeps long numbers exact */
		cJSON_Delete(cfg);
		if (!*json)
			rc = fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	}
	settings_release(&s);
	return rc;
}

static int h_mapping_config_json(void *hctx, const struct smelt_plugin *p, const char *mapping, char **json,
                                 char *err, size_t errlen)
{
	struct runtime *rt = RT(hctx);
	struct plugin *pl = PL(p);
	const struct plugin_mapping *m = NULL;
	*json = NULL;
	for (size_t i = 0; i < pl->nmappings; i++)
		if (!strcmp(pl->mappings[i].name, mapping))
			m = &pl->mappings[i];
	if (!m)
		return fail(err, errlen, SMELT_ERR_NOTFOUND, "mapper '%s' has no mapping '%s'", pl->name, mapping);
	struct settings s;
	int rc = settings_resolve(rt->project, pl, NULL, 0, &s, err, errlen);
	if (rc == SMELT_OK) {
		cJSON *cfg = settings_config_json(&s, 0);
		if (!cfg)
			cfg = cJSON_CreateObject();
		if (m->config && cJSON_IsObject(m->config))
			json_merge(cfg, m->config);
		*json = json_print(cfg);
		cJSON_Delete(cfg);
	}
	settings_release(&s);
	return rc;
}

static int h_setting(void *hctx, const struct smelt_plugin *p, const char *name, char **json, int *sensitive,
                     char *err, size_t errlen)
{
	struct runtime *rt = RT(hctx);
	struct settings s;
	*json = NULL;
	if (sensitive)
		*sensitive = 0;
	int rc = settings_resolve(rt->project, PL(p), NULL, SETTINGS_EXTRAS, &s, err, errlen);
	if (rc == SMELT_OK) {
		const struct resolved_setting *r = settings_find(&s, name);
		if (r && r->value && !cJSON_IsNull(r->value))
			*json = json_print(r->value);
		if (r && sensitive)
			*sensitive = r->def && r->def->sensitive;
	}
	settings_release(&s);
	return rc;
}

struct smelt_env *runtime_env_new(struct runtime *rt, struct plugin *pl)
{
	struct smelt_env *env = xcalloc(1, sizeof *env);
	char err[SMELT_ERRBUF_SIZE];
	plugin_env_base(pl, &env->list);
	if (settings_plugin_env(rt->project, pl, NULL, &env->list, err, sizeof err) != SMELT_OK)
		log_warn("%s", err);
	plugin_env_finish(rt, pl, &env->list);
	/* The venv's bin, then smelt's own programs, then the inherited PATH. */
	struct strbuf path = STRBUF_INIT;
	const char *venv = pl ? runtime_plugin_path(rt, pl, SMELT_PPATH_VENV) : NULL;
	if (venv) {
		strbuf_addf(&path, "%s/bin:", venv);
		envlist_set(&env->list, "VIRTUAL_ENV", venv);
	}
	strbuf_addf(&path, "%s", rt->paths->libexec_dir);
	const char *old = envlist_get(&env->list, "PATH");
	strbuf_addf(&path, ":%s", old ? old : "/usr/local/bin:/usr/bin:/bin");
	envlist_set(&env->list, "PATH", path.buf);
	strbuf_release(&path);
	envlist_set(&env->list, "SMELT_BIN", rt->paths->exe);
	if (rt->run_id) {
		envlist_set(&env->list, "SMELT_RUN_ID", rt->run_id);
		envlist_set(&env->list, "MELTANO_RUN_ID", rt->run_id);
	}
	/* No phone-home from any tool we run (TOOLS.md §0). */
	envlist_set(&env->list, "DO_NOT_TRACK", "1");
	return env;
}

void runtime_env_free(struct smelt_env *env)
{
	if (!env)
		return;
	envlist_release(&env->list);
	free(env);
}

char *const *runtime_env_vars(const struct smelt_env *env)
{
	return env ? env->list.vars : NULL;
}

static struct smelt_env *h_env_new(void *hctx, const struct smelt_plugin *p)
{
	return runtime_env_new(RT(hctx), PL(p));
}

static int h_env_set(struct smelt_env *env, const char *name, const char *value)
{
	envlist_set(&env->list, name, value);
	return SMELT_OK;
}

static const char *h_env_get(const struct smelt_env *env, const char *name)
{
	return envlist_get(&env->list, name);
}

/* ---- state: the newest complete state, committed at most every STATE_COMMIT_MS ----
 *
 * A tap that emits a state after every record would otherwise pay one SQLite
 * transaction (about 50 us) per record.  A complete state replaces the one
 * before it, so only the newest matters: h_state_put() keeps it in memory and
 * commits it when STATE_COMMIT_MS have passed since the last commit; the
 * supervisor's tick commits one that waited longer, and the end of every
 * pipeline commits what is left, on every exit path (success, a plugin's
 * failure, SIGINT/SIGTERM/SIGHUP, the timeout).  So a saved bookmark is always
 * one the target emitted (never ahead of it), the last one is saved whenever
 * smelt itself survives, and only a kill -9 of smelt can lose the states of
 * its last tick (about a second at most).  Partial (merge) writes are not
 * coalesced: they are committed at once, in order, after any pending state.
 */
#define STATE_COMMIT_MS 100

static struct state_backend *runtime_state_backend(struct runtime *rt, char *err, size_t errlen);

/* Commit the pending state, if any; 0 or a negative status with err set. */
static int state_flush(struct runtime *rt, char *err, size_t errlen)
{
	if (!rt->pending_state.json)
		return SMELT_OK;
	struct state_backend *b = runtime_state_backend(rt, err, errlen);
	int rc = b ? state_backend_put(b, rt->pending_state.state_id, rt->pending_state.json, 0, err, errlen)
	           : SMELT_ERR;
	free(rt->pending_state.state_id);
	rt->pending_state.state_id = rt->pending_state.json = NULL; /* json is buf, kept for the next */
	rt->pending_state.last_ms = coarse_ms();
	return rc;
}

/* After a pipeline: commit what is pending and report a commit that failed meanwhile. */
static int state_settle(struct runtime *rt, char *err, size_t errlen)
{
	char ferr[SMELT_ERRBUF_SIZE];
	int rc = state_flush(rt, ferr, sizeof ferr);
	if (rc == SMELT_OK && rt->pending_state.failed) {
		snprintf(ferr, sizeof ferr, "%s", rt->pending_state.err);
		rc = SMELT_ERR;
	}
	rt->pending_state.failed = 0;
	return rc ? fail(err, errlen, rc, "cannot save the state: %s", ferr) : SMELT_OK;
}

/* Every STATE_COMMIT_MS while plugins run: a waiting state is committed, the heartbeat refreshed each second. */
static void tick(void *arg)
{
	struct runtime *rt = arg;
	long long now = coarse_ms();
	if (now - rt->heartbeat_ms >= 1000) {
		rt->heartbeat_ms = now;
		/* another machine took the run's lock over (store.h): stop as a SIGTERM would, state unsaved */
		if (rt->store && rt->heartbeat_run_id &&
		    store_run_heartbeat(rt->store, rt->heartbeat_run_id) == SMELT_ERR_NOTFOUND) {
			rt->heartbeat_run_id = NULL;
			kill(getpid(), SIGTERM);
		}
		if (rt->status_label) {
			static const char spin[] = "|/-\\";
			char line[256];
			long long ms = now - rt->status_t0;
			snprintf(line, sizeof line, "%c %s  %llds", spin[(ms / 1000) % 4], rt->status_label, ms / 1000);
			log_status(line);
		}
	}
	if (rt->pending_state.json && coarse_ms() - rt->pending_state.last_ms >= STATE_COMMIT_MS &&
	    state_flush(rt, rt->pending_state.err, sizeof rt->pending_state.err) != SMELT_OK)
		rt->pending_state.failed = 1;
}

/* Records per stream, from the METRIC lines taps log on stderr (Singer SDK and singer-python). */
struct flow {
	struct runtime *rt;
	const struct smelt_spawn *specs;
	size_t n;
	char **streams;
	long long *records;
	size_t nstreams;
	long long total;
	long long bytes;   /* the first stage's stdout bytes */
	double seconds;
};

/* "9.3 kB", "12.0 MB": bytes for people (SI units, as dd and cargo print them). */
static void human_bytes(char *buf, size_t len, double bytes)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
	size_t u = 0;
	while (bytes >= 1000 && u < 4)
		bytes /= 1000, u++;
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

/* "tap -> target: 45 records, 9.3 kB, 133 kB/s, 0.1 s": the progress line of an EL block. */
static void flow_line(const struct flow *f, size_t n, long long bytes, double seconds, char *line, size_t len)
{
	char size[32], rate[32];
	human_bytes(size, sizeof size, bytes > 0 ? (double)bytes : 0);
	human_bytes(rate, sizeof rate, seconds > 0 && bytes > 0 ? (double)bytes / seconds : 0);
	char records[48] = ""; /* known only from the tap's record_count metrics: no metric, no count (not "0 records") */
	if (f->nstreams)
		snprintf(records, sizeof records, "%lld record%s, ", f->total, f->total == 1 ? "" : "s");
	snprintf(line, len, "%s -> %s: %s%s, %s/s, %.1f s", f->specs[0].label, f->specs[n - 1].label, records, size, rate,
	         seconds);
}

static void flow_stderr(void *arg, size_t stage, const char *line, size_t len)
{
	struct flow *f = arg;
	const char *m = stage == 0 ? memmem(line, len, "METRIC: ", 8) : NULL;
	/* a plain metric line, or the metric_info of a Singer SDK structured one (run/sdk_log.h) */
	cJSON *v = m ? cJSON_ParseWithLength(m + 8, len - (size_t)(m + 8 - line))
	             : stage == 0 && sdk_log_used(f->specs[0].label) ? sdk_log_metric(line, len) : NULL;
	if (!v)
		return;
	const char *metric = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "metric"));
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(v, "value");
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(v, "tags");
	const char *stream = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tags, "stream"));
	if (!stream)
		stream = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tags, "endpoint"));
	if (metric && !strcmp(metric, "record_count") && cJSON_IsNumber(value) && stream) {
		size_t i = 0;
		while (i < f->nstreams && strcmp(f->streams[i], stream))
			i++;
		if (i == f->nstreams) {
			f->streams = xrealloc(f->streams, (i + 1) * sizeof *f->streams);
			f->records = xrealloc(f->records, (i + 1) * sizeof *f->records);
			f->streams[i] = xstrdup(stream);
			f->records[i] = 0;
			f->nstreams++;
		}
		f->records[i] += (long long)value->valuedouble;
		f->total += (long long)value->valuedouble;
	}
	cJSON_Delete(v);
}

static void flow_progress(void *arg, const long long *bytes, size_t n, double seconds)
{
	struct flow *f = arg;
	char line[256];
	f->bytes = bytes[0];
	f->seconds = seconds;
	flow_line(f, n, bytes[0], seconds, line, sizeof line);
	log_status(line);
}

/*
 * The end of an EL pipeline: the progress line once more, as plain text
 * (the only line of the block at the default level), and the counts kept
 * for the summary table, which is where each stream's rows are shown.
 */
static void flow_report(struct runtime *rt, struct flow *f, size_t n, long long bytes, double seconds)
{
	char line[256];
	flow_line(f, n, bytes, seconds, line, sizeof line);
	log_say("%s", line);
	for (size_t i = 0; i < f->nstreams; i++) {
		log_debug("stream '%s': %lld records", f->streams[i], f->records[i]);
		rt->events = xrealloc(rt->events, (rt->nevents + 1) * sizeof *rt->events);
		rt->events[rt->nevents++] = (struct rt_event){ .kind = SMELT_EV_COUNT, .source = xstrdup(f->specs[0].label),
		                                               .item = xasprintf("stream %s", f->streams[i]),
		                                               .count = f->records[i], .seconds = -1,
		                                               .message = xstrdup("records"), .block = rt->block };
		free(f->streams[i]);
	}
	if (bytes >= 0) {
		rt->events = xrealloc(rt->events, (rt->nevents + 1) * sizeof *rt->events);
		rt->events[rt->nevents++] = (struct rt_event){
			.kind = SMELT_EV_SUMMARY, .source = xstrdup(f->specs[0].label), .item = xstrdup("bytes moved"),
			.count = bytes, .seconds = seconds,
			.message = xasprintf("(%.1f MB/s)", seconds > 0 ? (double)bytes / 1e6 / seconds : 0.0),
			.block = rt->block };
	}
	free(f->streams);
	free(f->records);
}

static int run_stages(struct runtime *rt, const struct smelt_spawn *specs, size_t n, struct smelt_exit *ex,
                      char *err, size_t errlen)
{
	struct proc_stage *st = xcalloc(n, sizeof *st);
	struct proc_result *res = xcalloc(n, sizeof *res);
	for (size_t i = 0; i < n; i++) {
		st[i].label = specs[i].label;
		st[i].argv = (char *const *)specs[i].argv;
		st[i].envp = runtime_env_vars(specs[i].env);
		st[i].cwd = specs[i].cwd ? specs[i].cwd : rt->project->root;
		st[i].flags = specs[i].flags;
		st[i].on_line = specs[i].on_line;
		st[i].arg = specs[i].arg;
	}
	struct proc_opts o = { .tick = tick, .tick_arg = rt, .tick_ms = STATE_COMMIT_MS };
	/* Meltano's elt.buffer_size: the longest output line is half of it (proc.h, PROC_LINE_MAX) */
	const char *buffer = getenv("SMELT_ELT_BUFFER_SIZE") ? getenv("SMELT_ELT_BUFFER_SIZE") : getenv("MELTANO_ELT_BUFFER_SIZE");
	if (buffer && strtoll(buffer, NULL, 10) >= 2)
		o.line_max = (size_t)(strtoll(buffer, NULL, 10) / 2);
	const char *pipe_bytes = getenv("SMELT_PIPE_BYTES"); /* proc.h, "Pipe size" */
	if (pipe_bytes && strtoll(pipe_bytes, NULL, 10) > 0)
		o.pipe_bytes = (size_t)strtoll(pipe_bytes, NULL, 10);
	struct flow flow = { .rt = rt, .specs = specs, .n = n };
	if (n > 1) {
		o.on_stderr = flow_stderr;
		o.stderr_arg = &flow;
		o.progress = flow_progress;
		o.progress_arg = &flow;
	}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (rt->deadline_ms) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		long long left = rt->deadline_ms - ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
		o.timeout_s = left > 1000 ? (int)(left / 1000) : 1;
	}
	rt->block_procs += n;
	int rc = proc_pipeline(st, n, &o, res, err, errlen);
	settings_note_write(); /* a plugin may have written settings (a block calling `smelt config set`): resolve afresh */
	/* every exit path: the newest state the target emitted is committed before anything else */
	char serr[SMELT_ERRBUF_SIZE];
	int src = state_settle(rt, serr, sizeof serr);
	if (src && !rc)
		rc = fail(err, errlen, src, "%s", serr);
	else if (src)
		log_error("%s", serr);
	for (size_t i = 0; i < n; i++)
		ex[i] = res[i].exit;
	if (n > 1) {
		struct timespec t1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		log_status(NULL);
		flow_report(rt, &flow, n, res[0].bytes_written,
		            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	}
	free(st);
	free(res);
	return rc;
}

/*
 * The structs an adapter hands to run() and pipeline(), read by their own
 * sizes (ABI.md, "Growth"): the spawns are copied into the host's layout
 * (fields the adapter's struct lacks stay zero), stepping by
 * stages[0].struct_size; outcomes are written in the adapter's layout,
 * stepping by ex[0].struct_size (1.2), or 1.1's when the adapter is older.
 */
static int spawns_read(const void *stages, size_t n, struct smelt_spawn *out, char *err, size_t errlen)
{
	size_t stride = ((const struct smelt_spawn *)stages)->struct_size;
	if (stride < SMELT_SPAWN_V1_0_SIZE || stride > sizeof(struct smelt_spawn))
		return fail(err, errlen, SMELT_ERR_ABI, "struct smelt_spawn has struct_size %zu; want %zu to %zu", stride,
		            (size_t)SMELT_SPAWN_V1_0_SIZE, sizeof(struct smelt_spawn));
	for (size_t i = 0; i < n; i++) {
		const struct smelt_spawn *s = (const void *)((const char *)stages + i * stride);
		if (s->struct_size != stride)
			return fail(err, errlen, SMELT_ERR_ABI,
			            "pipeline stage %zu has struct_size %u, stage 0 %zu: every stage must have the same", i,
			            s->struct_size, stride);
		memset(&out[i], 0, sizeof out[i]);
		memcpy(&out[i], s, stride);
	}
	return SMELT_OK;
}

/* The stride of the adapter's ex[] (its struct smelt_exit); 0 with err set when it is not one. */
static size_t exits_stride(const struct host_ctx *h, const struct smelt_exit *ex, char *err, size_t errlen)
{
	if (h->abi_minor < 2)
		return SMELT_EXIT_V1_1_SIZE;
	size_t stride = ex->struct_size;
	if (stride < offsetof(struct smelt_exit, struct_size) + sizeof ex->struct_size || stride > sizeof *ex) {
		fail(err, errlen, SMELT_ERR_ABI, "struct smelt_exit has struct_size %zu; set it to sizeof(struct smelt_exit)",
		     stride);
		return 0;
	}
	return stride;
}

static void exits_write(struct smelt_exit *ex, size_t stride, const struct smelt_exit *got, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct smelt_exit e = got[i];
		e.struct_size = (uint32_t)stride;
		memcpy((char *)ex + i * stride, &e, stride);
	}
}

static int h_pipeline(void *hctx, const struct smelt_spawn *stages, size_t n, struct smelt_exit *ex, char *err,
                      size_t errlen)
{
	if (!n || !stages || !ex)
		return fail(err, errlen, SMELT_ERR, "pipeline of %zu stages: nothing to run", n);
	size_t stride = exits_stride(hctx, ex, err, errlen);
	if (!stride)
		return SMELT_ERR_ABI;
	struct smelt_spawn *specs = xcalloc(n, sizeof *specs);
	struct smelt_exit *got = xcalloc(n, sizeof *got);
	int rc = spawns_read(stages, n, specs, err, errlen);
	if (rc == SMELT_OK) {
		rc = run_stages(RT(hctx), specs, n, got, err, errlen);
		exits_write(ex, stride, got, n);
	}
	free(specs);
	free(got);
	return rc;
}

static int h_run(void *hctx, const struct smelt_spawn *spec, struct smelt_exit *ex, char *err, size_t errlen)
{
	int discovery = 0; /* a Singer tap's discovery: Meltano's log lines say type=discovery */
	for (size_t i = 0; spec && spec->argv && spec->argv[i]; i++)
		discovery |= !strcmp(spec->argv[i], "--discover");
	if (discovery)
		log_context_set(1, "type", "discovery");
	int rc = h_pipeline(hctx, spec, 1, ex, err, errlen);
	if (discovery)
		log_context_set(1, "type", NULL);
	return rc;
}

/* The state backend of state_backend.uri (store/state_backend.h), opened on first use. */
static struct state_backend *runtime_state_backend(struct runtime *rt, char *err, size_t errlen)
{
	struct store *st = rt->state_backend ? NULL : runtime_store(rt, err, errlen);
	if (!rt->state_backend && st)
		settings_open_state_backend(rt->project, st, &rt->state_backend, err, errlen);
	return rt->state_backend;
}

static int h_state_get(void *hctx, const char *state_id, char **json, char *err, size_t errlen)
{
	struct runtime *rt = RT(hctx);
	*json = NULL;
	int rc = state_settle(rt, err, errlen); /* a reader sees every state put before */
	struct state_backend *b = rc ? NULL : runtime_state_backend(rt, err, errlen);
	return b ? state_backend_get(b, state_id, json, err, errlen) : SMELT_ERR;
}

/* A complete state waits (at most STATE_COMMIT_MS, or until the next tick) for a newer one; see above. */
static int h_state_put(void *hctx, const char *state_id, const char *json, int partial, char *err, size_t errlen)
{
	struct runtime *rt = RT(hctx);
	int rc = SMELT_OK;
	if (partial || (rt->pending_state.state_id && strcmp(rt->pending_state.state_id, state_id)))
		rc = state_settle(rt, err, errlen);
	if (rc)
		return rc;
	if (partial) {
		struct state_backend *b = runtime_state_backend(rt, err, errlen);
		rc = b ? state_backend_put(b, state_id, json, 1, err, errlen) : SMELT_ERR;
		rt->pending_state.last_ms = coarse_ms();
		return rc;
	}
	size_t n = strlen(json) + 1;
	if (n > rt->pending_state.cap) {
		rt->pending_state.buf = xrealloc(rt->pending_state.buf, n);
		rt->pending_state.cap = n;
	}
	memcpy(rt->pending_state.buf, json, n);
	rt->pending_state.json = rt->pending_state.buf;
	if (!rt->pending_state.state_id)
		rt->pending_state.state_id = xstrdup(state_id);
	if (coarse_ms() - rt->pending_state.last_ms >= STATE_COMMIT_MS)
		rc = state_flush(rt, err, errlen);
	return rc;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void h_event(void *hctx, const struct smelt_event *ev)
{
	struct host_ctx *h = hctx;
	struct runtime *rt = h->rt;
	if (!ev || ev->struct_size < SMELT_EVENT_V1_0_SIZE) {
		log_warn("adapter '%s': an event of %u bytes was ignored (struct smelt_event has at least %zu)",
		         h->ad->desc->name, ev ? ev->struct_size : 0, (size_t)SMELT_EVENT_V1_0_SIZE);
		return;
	}
	rt->events = xrealloc(rt->events, (rt->nevents + 1) * sizeof *rt->events);
	struct rt_event *e = &rt->events[rt->nevents++];
	e->kind = ev->kind;
	e->source = xstrdup(h->ad->desc->name);
	e->item = dup_or_null(ev->item);
	e->status = dup_or_null(ev->status);
	e->message = dup_or_null(ev->message);
	e->count = ev->count;
	e->seconds = ev->seconds;
	e->block = rt->block;
	e->detail = ev->struct_size >= offsetof(struct smelt_event, detail_json) + sizeof ev->detail_json
	                    ? dup_or_null(ev->detail_json) : NULL;
	/*
	 * Results are facts for smelt run's summary table: logged as the
	 * adapter's info lines (the run log has them; the terminal with
	 * --verbose), except a failing one, which the terminal shows as it
	 * comes, since it is what the user must act on.
	 */
	struct strbuf sb = STRBUF_INIT;
	if (ev->item)
		strbuf_addstr(&sb, ev->item);
	if (ev->status)
		strbuf_addf(&sb, "%s%s", sb.len ? ": " : "", ev->status);
	if (ev->count >= 0 && ev->kind != SMELT_EV_RESULT)
		strbuf_addf(&sb, "%s%lld", sb.len ? " " : "", (long long)ev->count);
	if (ev->seconds >= 0)
		strbuf_addf(&sb, " (%.2f s)", ev->seconds);
	if (ev->message)
		strbuf_addf(&sb, "%s%s", sb.len ? " - " : "", ev->message);
	log_msg(ev->kind == SMELT_EV_RESULT && ev->status &&
	                (!strcmp(ev->status, "fail") || !strcmp(ev->status, "error"))
	            ? SMELT_LOG_ERROR
	            : ev->kind == SMELT_EV_DATASET ? SMELT_LOG_DEBUG : SMELT_LOG_INFO,
	        h->ad->desc->name, "%s", sb.buf);
	strbuf_release(&sb);
}

/*
 * Private files hold secrets: they are written only beneath the system
 * folder (where SMELT_PPATH_RUN_DIR points), through fs_write_under(), so
 * neither a name that slipped through nor a symbolic link inside .smelt/
 * can put them anywhere else.
 */
static int h_write_private(void *hctx, const char *path, const char *data, size_t len, char *err, size_t errlen)
{
	struct runtime *rt = RT(hctx);
	const char *sys = rt->project->sys_dir;
	if (!rt->sys_dir_made && mkdir_private(sys) != 0) /* once per runtime: a run writes several files */
		return fail(err, errlen, SMELT_ERR, "cannot create '%s': %s", sys, strerror(errno));
	rt->sys_dir_made = 1;
	/* Listed before it exists, so a smelt killed now leaves a record for the next one's sweep. */
	char *run = xasprintf("%s/run/", sys);
	int in_run = !strncmp(path, run, strlen(run));
	free(run);
	if (in_run && runfiles_register(sys, path) != 0)
		return fail(err, errlen, SMELT_ERR, "cannot record '%s' for its removal: %s", path,
		            fs_beneath_strerror(errno));
	if (fs_write_under(sys, path, data, len, 0600, 0700) != 0)
		return fail(err, errlen, SMELT_ERR, "cannot write '%s': %s", path, fs_beneath_strerror(errno));
	rt->private_files = xrealloc(rt->private_files, (rt->nprivate + 1) * sizeof *rt->private_files);
	rt->private_files[rt->nprivate++] = xstrdup(path);
	return SMELT_OK;
}

/* ---- lifecycle ----------------------------------------------------------- */

static void runtime_setup(struct runtime *rt, const struct smelt_paths *paths, struct project *project, int lazy)
{
	memset(rt, 0, sizeof *rt);
	rt->paths = paths;
	rt->project = project;
	loader_init(&rt->loader);
	loader_discover_indexed(&rt->loader, paths->adapter_dir, project ? project->root : NULL,
	                        lazy && project ? project->sys_dir : NULL, "adapters.index");
	rt->api = (struct smelt_host_api){
		.abi_version = SMELT_ABI_VERSION,
		.struct_size = sizeof(struct smelt_host_api),
		.alloc = h_alloc,
		.free = h_free,
		.log = h_log,
		.path = h_path,
		.plugin_path = h_plugin_path,
		.environment = h_environment,
		.plugin_attr = h_plugin_attr,
		.plugin_has_capability = h_has_capability,
		.plugin_find = h_plugin_find,
		.plugin_list = h_plugin_list,
		.plugin_command = h_plugin_command,
		.config_json = h_config_json,
		.mapping_config_json = h_mapping_config_json,
		.setting = h_setting,
		.env_new = h_env_new,
		.env_set = h_env_set,
		.env_get = h_env_get,
		.env_free = runtime_env_free,
		.run = h_run,
		.pipeline = h_pipeline,
		.state_get = h_state_get,
		.state_put = h_state_put,
		.event = h_event,
		.write_private = h_write_private,
	};
}

void runtime_init(struct runtime *rt, const struct smelt_paths *paths, struct project *project)
{
	runtime_setup(rt, paths, project, 0);
}

void runtime_init_lazy(struct runtime *rt, const struct smelt_paths *paths, struct project *project)
{
	runtime_setup(rt, paths, project, 1);
}

void runtime_release(struct runtime *rt)
{
	char err[SMELT_ERRBUF_SIZE];
	if (state_settle(rt, err, sizeof err) != SMELT_OK) /* nothing is pending outside a pipeline: a safety net */
		log_error("%s", err);
	free(rt->pending_state.buf);
	loader_release(&rt->loader); /* destroy() before dlclose(), before the contexts go */
	for (size_t i = 0; i < rt->nhctx; i++)
		free(rt->hctxs[i]);
	free(rt->hctxs);
	for (size_t i = 0; i < rt->nprivate; i++) {
		fs_unlink_under(rt->project->sys_dir, rt->private_files[i]);
		free(rt->private_files[i]);
	}
	free(rt->private_files);
	runfiles_release(); /* after the files it lists */
	for (size_t i = 0; i < rt->npool; i++)
		free(rt->pool[i]);
	free(rt->pool);
	for (size_t i = 0; i < rt->nevents; i++) {
		free(rt->events[i].source);
		free(rt->events[i].item);
		free(rt->events[i].status);
		free(rt->events[i].message);
		free(rt->events[i].detail);
	}
	lineage_free(rt->lineage);
	free(rt->events);
	state_backend_close(rt->state_backend);
	if (rt->store_owned)
		store_close(rt->store); /* else the project's (settings_project_store()), closed by project_free() */
	free(rt->run_id);
	free(rt->run_log_dir);
	memset(rt, 0, sizeof *rt);
}

struct store *runtime_store(struct runtime *rt, char *err, size_t errlen)
{
	if (rt->store)
		return rt->store;
	/* database_uri: SQLite or PostgreSQL; the connection the project's settings are read through */
	if (settings_project_store(rt->project, &rt->store, &rt->store_owned, err, errlen) != SMELT_OK)
		rt->store = NULL;
	return rt->store;
}

/* dispatch_host.new_hctx: the host context of adapter a, kept by the runtime until runtime_release(). */
static void *new_hctx(void *owner, struct loaded_adapter *a)
{
	struct runtime *rt = owner;
	struct host_ctx *h = xcalloc(1, sizeof *h);
	h->rt = rt;
	h->ad = a;
	h->abi_minor = SMELT_ABI_MINOR_OF(a->desc->abi_version);
	rt->hctxs = xrealloc(rt->hctxs, (rt->nhctx + 1) * sizeof *rt->hctxs);
	rt->hctxs[rt->nhctx++] = h;
	return h;
}

static struct dispatch_host dispatch_host_of(struct runtime *rt)
{
	return (struct dispatch_host){ &rt->api, new_hctx, rt };
}

struct loaded_adapter *runtime_adapter_for(struct runtime *rt, struct plugin *pl, char *err, size_t errlen)
{
	struct dispatch_host h = dispatch_host_of(rt);
	return dispatch_adapter_for(&rt->loader, &h, pl, plugin_claim_namespace(rt->project, pl), err, errlen);
}

int runtime_init_adapter(struct runtime *rt, struct loaded_adapter *a, char *err, size_t errlen)
{
	struct dispatch_host h = dispatch_host_of(rt);
	return dispatch_init(a, &h, err, errlen);
}

void runtime_post_install(struct runtime *rt, const struct install_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (items[i].result != INSTALL_DONE)
			continue;
		struct plugin *pl = project_find_plugin(rt->project, plugin_type_parse(items[i].plugin_type), items[i].name);
		char err[SMELT_ERRBUF_SIZE * 2] = "";
		struct loaded_adapter *a = pl ? runtime_adapter_for(rt, pl, err, sizeof err) : NULL;
		if (!a || !a->desc->post_install)
			continue;
		int rc = a->desc->post_install(a->state, (const struct smelt_plugin *)pl, err, sizeof err);
		if (rc)
			log_warn("%s: after install: %s", pl->name, err[0] ? err : smelt_strerror(rc));
	}
}

int runtime_prepare(struct runtime *rt, struct plugin *const *pls, size_t n, int install, char *err, size_t errlen)
{
	struct plugin_installs pi;
	int rc = plugin_installs_prepare(rt->project, pls, n, &pi, err, errlen);
	if (rc < 0)
		return rc;
	if (pi.failed) {
		plugin_installs_release(&pi);
		return fail(err, errlen, SMELT_ERR_CONFIG, "cannot resolve the definition of a plugin (see above)");
	}
	for (size_t i = 0; rt->check_required && i < n; i++) {
		char *missing = NULL;
		int r = required_check(rt->project, pls[i], &missing, err, errlen);
		if (r > 0) {
			int several = strchr(missing, ',') != NULL;
			fail(err, errlen, SMELT_ERR_CONFIG,
			     "%s '%s' needs the setting%s %s; set %s with 'smelt config set %s %s VALUE'",
			     plugin_type_singular(pls[i]->type), pls[i]->name, several ? "s" : "", missing,
			     several ? "each" : "it", pls[i]->name, several ? "NAME" : missing);
			free(missing);
		}
		if (r) {
			plugin_installs_release(&pi);
			return r > 0 ? SMELT_ERR_CONFIG : r;
		}
	}
	struct install_item *todo = xcalloc(pi.n + 1, sizeof *todo);
	size_t ntodo = 0;
	for (size_t i = 0; i < pi.n; i++)
		if (install_needed(&pi.items[i]))
			todo[ntodo++] = pi.items[i];
	if (ntodo && !install) {
		rc = fail(err, errlen, SMELT_ERR_CONFIG, "plugin '%s' is not installed; run 'smelt install %s'",
		          todo[0].name, todo[0].name);
	} else if (ntodo) {
		log_info("installing %zu plugin%s first (skip with --no-install)", ntodo, ntodo == 1 ? "" : "s");
		/* the spinner of smelt install, so a first run is not minutes of silence */
		if (install_plugins(todo, ntodo, 0, log_interactive() ? INSTALL_PROGRESS : 0) != 0) {
			for (size_t i = 0; i < ntodo; i++)
				if (todo[i].result == INSTALL_FAILED)
					log_error("%s: %s", todo[i].name, todo[i].error ? todo[i].error : "install failed");
			rc = fail(err, errlen, SMELT_ERR, "installing '%s' failed", todo[0].name);
		}
		runtime_post_install(rt, todo, ntodo);
		for (size_t i = 0; i < ntodo; i++)
			install_item_release(&todo[i]);
	}
	free(todo);
	plugin_installs_release(&pi);
	return rc;
}

/*
 * The kind of a result, for counting, and its place in the table: what
 * the adapter reports in the event's detail_json ({"kind": "model",
 * "kind_order": 2}), else the item's first word ("dataset warehouse.x"),
 * else "check".  A kind without kind_order goes last.  Written to kind
 * (len bytes); returns the order.
 */
static size_t result_kind(const struct rt_event *e, char *kind, size_t len)
{
	const char *item = e->item;
	cJSON *detail = e->detail ? cJSON_Parse(e->detail) : NULL;
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(detail, "kind");
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(detail, "kind_order");
	size_t order = cJSON_IsNumber(o) && o->valuedouble >= 0 && o->valuedouble < 99 ? (size_t)o->valuedouble : 99;
	size_t w = item ? strspn(item, "abcdefghijklmnopqrstuvwxyz_") : 0;
	if (cJSON_IsString(k) && *k->valuestring)
		snprintf(kind, len, "%s", k->valuestring);
	else if (w && item[w] == ' ' && w < len)
		snprintf(kind, len, "%.*s", (int)w, item);
	else
		snprintf(kind, len, "check");
	cJSON_Delete(detail);
	return order;
}

/* An outcome in the table's words: pass/success/ok "passed", fail/error "failed", ... else itself. */
static const char *outcome(const char *status)
{
	static const struct { const char *status, *word; } words[] = {
		{ "pass", "passed" }, { "success", "passed" }, { "ok", "passed" }, { "fail", "failed" },
		{ "error", "failed" }, { "runtime error", "failed" }, { "warn", "warned" }, { "skipped", "skipped" },
		{ "skip", "skipped" },
	};
	for (size_t i = 0; status && i < sizeof words / sizeof words[0]; i++)
		if (!strcmp(status, words[i].status))
			return words[i].word;
	return status ? status : "done";
}

/* A count per name, in order of first appearance (ranks: the order of the table, kinds only). */
struct tally {
	char names[16][32];
	size_t counts[16];
	size_t ranks[16];
	size_t n;
};

static void tally_add(struct tally *t, const char *name, size_t rank)
{
	size_t i = 0;
	while (i < t->n && strcmp(t->names[i], name))
		i++;
	if (i == t->n) {
		if (t->n == 16)
			return;
		t->ranks[t->n] = rank;
		snprintf(t->names[t->n++], sizeof t->names[0], "%s", name);
	}
	t->counts[i]++;
}

void runtime_block_result(struct runtime *rt, size_t block, struct strbuf *sb)
{
	struct tally kinds = { 0 }, outcomes = { 0 };
	size_t start = sb->len, nres = 0;
	for (size_t i = 0; i < rt->nevents; i++) {
		struct rt_event *e = &rt->events[i];
		if (e->block != block)
			continue;
		if (e->kind == SMELT_EV_COUNT && e->item && !strncmp(e->item, "stream ", 7)) {
			strbuf_addf(sb, "%s%s %lld row%s", sb->len > start ? ", " : "", e->item + 7, (long long)e->count,
			            e->count == 1 ? "" : "s");
			continue;
		}
		if (e->kind != SMELT_EV_RESULT)
			continue;
		char kind[32];
		size_t rank = result_kind(e, kind, sizeof kind);
		tally_add(&kinds, kind, rank);
		tally_add(&outcomes, outcome(e->status), 0);
		nres++;
	}
	if (!nres)
		return;
	for (size_t j = 0; j < kinds.n; j++) /* in the order the adapter gives its kinds */
		for (size_t k = j + 1; k < kinds.n; k++)
			if (kinds.ranks[k] < kinds.ranks[j]) {
				char tn[32];
				size_t tc = kinds.counts[j], tr = kinds.ranks[j];
				memcpy(tn, kinds.names[j], sizeof tn);
				memcpy(kinds.names[j], kinds.names[k], sizeof tn);
				kinds.counts[j] = kinds.counts[k];
				kinds.ranks[j] = kinds.ranks[k];
				memcpy(kinds.names[k], tn, sizeof tn);
				kinds.counts[k] = tc;
				kinds.ranks[k] = tr;
			}
	static const char *const first[] = { "passed", "failed", "warned", "skipped" };
	size_t shown = 0;
	if (sb->len > start)
		strbuf_addstr(sb, "; ");
	for (size_t j = 0; j < kinds.n; j++)
		strbuf_addf(sb, "%s%zu %s%s", j ? ", " : "", kinds.counts[j], kinds.names[j], kinds.counts[j] == 1 ? "" : "s");
	strbuf_addch(sb, ':');
	/* passed, failed, warned, skipped first (in that order), then other outcomes as they came */
	for (size_t pass = 0; pass < 5; pass++)
		for (size_t j = 0; j < outcomes.n; j++) {
			size_t r = 4;
			for (size_t k = 0; k < 4; k++)
				if (!strcmp(outcomes.names[j], first[k]))
					r = k;
			if (r == pass)
				strbuf_addf(sb, "%s%zu %s", shown++ ? ", " : " ", outcomes.counts[j], outcomes.names[j]);
		}
}

size_t runtime_block_failures(const struct runtime *rt, size_t block)
{
	size_t n = 0;
	for (size_t i = 0; i < rt->nevents; i++)
		n += rt->events[i].block == block && rt->events[i].kind == SMELT_EV_RESULT &&
		     !strcmp(outcome(rt->events[i].status), "failed");
	return n;
}
