/*
 * The airflow adapter: Apache Airflow 3 runs the project's schedules.
 *
 * Smelt defines workflows (jobs, schedules); Airflow runs them on time.
 * The adapter puts a DAG generator (smelt_dags.py, shipped in this
 * adapter's data folder) into the project's DAGs folder: at parse time it
 * reads `smelt schedule list --format json` and builds one DAG per
 * schedule, one task per run block, each task running `smelt run BLOCK`
 * in the project (argv only, no shell).
 *
 * Every invocation runs the airflow of the plugin's venv with:
 *   AIRFLOW_HOME         <sys dir>/orchestrators/<name>/home
 *   DAGs folder          <project>/orchestrate/airflow/dags
 *   metadata database    SQLite in AIRFLOW_HOME (a PostgreSQL URL through
 *                        the setting database.sql_alchemy_conn)
 *   API server           127.0.0.1:8080 (api.host, api.port), 1 worker
 *   no examples, no usage data, LocalExecutor, simple auth manager with
 *   the user of the admin_username / admin_password settings
 *   SMELT_BIN            this smelt, for the DAG generator and its tasks
 * A setting or variable that sets one of these wins; every nested setting
 * `section.key` that no definition maps is passed as AIRFLOW__SECTION__KEY
 * (Meltano's airflow convention).
 *
 * Commands: `smelt invoke airflow ARGS...` runs `airflow ARGS...`;
 * airflow:initialize migrates the metadata database; airflow:ui runs the
 * api-server, scheduler and dag-processor together, airflow:scheduler the
 * scheduler and dag-processor (both through smelt_airflow_launcher.py,
 * which stops them together).
 */
#include "kit.h"

#include <smelt/sdk.h>

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GENERATOR "smelt_dags.py"
#define LAUNCHER "smelt_airflow_launcher.py"

struct airflow {
	const struct smelt_host_api *host; /* borrowed until destroy */
	void *hctx;
};

#define LOG(a, lvl, ...) (a)->host->log((a)->hctx, (lvl), __VA_ARGS__)

static const char *const airflow_namespaces[] = { "airflow", NULL };

static const struct smelt_command airflow_commands[] = {
	{ "initialize", "create or upgrade the metadata database (airflow db migrate)" },
	{ "ui", "run the API server (web UI), scheduler and DAG processor on 127.0.0.1" },
	{ "scheduler", "run the scheduler and DAG processor" },
	{ NULL, NULL },
};


static char *airflow_join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s/%s", a, b);
	return s;
}


/* Copy src to dst (mode 0644) unless dst already holds the same bytes. */
static int airflow_copy_if_changed(const char *src, const char *dst, char *err, size_t errlen)
{
	size_t ns = 0, nd = 0;
	char *s = kit_read_file(src, &ns);
	if (!s)
		return kit_fail(err, errlen, SMELT_ERR, "cannot read '%s': %s", src, strerror(errno));
	char *d = kit_read_file(dst, &nd);
	int same = d && nd == ns && !memcmp(s, d, ns);
	free(d);
	if (same) {
		free(s);
		return 0;
	}
	size_t tl = strlen(dst) + 24;
	char *tmp = malloc(tl);
	if (!tmp) {
		free(s);
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	}
	snprintf(tmp, tl, "%s.tmp%d", dst, (int)getpid());
	FILE *f = fopen(tmp, "wb");
	int ok = f && fwrite(s, 1, ns, f) == ns;
	if (f && fclose(f) != 0)
		ok = 0;
	free(s);
	if (!ok || chmod(tmp, 0644) != 0 || rename(tmp, dst) != 0) {
		int e = errno;
		unlink(tmp);
		free(tmp);
		return kit_fail(err, errlen, SMELT_ERR, "cannot write '%s': %s", dst, strerror(e));
	}
	free(tmp);
	return 0;
}

/* A setting's value as a string (JSON strings unquoted); NULL when unset.  Caller frees. */
static char *airflow_setting(struct airflow *a, const struct smelt_plugin *p, const char *name)
{
	char *json = NULL, err[SMELT_ERRBUF_SIZE];
	if (a->host->setting(a->hctx, p, name, &json, NULL, err, sizeof err) != 0 || !json)
		return NULL;
	cJSON *v = cJSON_Parse(json);
	a->host->free(json);
	char *out = NULL;
	if (cJSON_IsString(v))
		out = strdup(v->valuestring);
	else if (cJSON_IsNumber(v)) {
		char buf[64];
		snprintf(buf, sizeof buf, "%.15g", v->valuedouble);
		out = strdup(buf);
	} else if (cJSON_IsBool(v))
		out = strdup(cJSON_IsTrue(v) ? "true" : "false");
	cJSON_Delete(v);
	return out;
}

/* Set name in env unless something (a setting, smelt's environment) already did. */
static void airflow_default(struct airflow *a, struct smelt_env *env, const char *name, const char *value)
{
	const char *cur = a->host->env_get(env, name);
	if (!cur || !*cur)
		a->host->env_set(env, name, value);
}

/* AIRFLOW__SECTION__KEY for each nested setting section.key nothing has set yet. */
static void airflow_config_env(struct airflow *a, const struct smelt_plugin *p, struct smelt_env *env)
{
	char *json = NULL, err[SMELT_ERRBUF_SIZE];
	if (a->host->config_json(a->hctx, p, 0, &json, err, sizeof err) != 0 || !json) {
		LOG(a, SMELT_LOG_DEBUG, "no config to pass on: %s", err);
		return;
	}
	cJSON *cfg = cJSON_Parse(json);
	a->host->free(json);
	for (const cJSON *sec = cfg ? cfg->child : NULL; sec; sec = sec->next) {
		if (!cJSON_IsObject(sec) || !strcmp(sec->string, "admin"))
			continue;
		for (const cJSON *k = sec->child; k; k = k->next) {
			char name[256], val[64];
			const char *v = NULL;
			if (cJSON_IsString(k))
				v = k->valuestring;
			else if (cJSON_IsBool(k))
				v = cJSON_IsTrue(k) ? "True" : "False";
			else if (cJSON_IsNumber(k)) {
				snprintf(val, sizeof val, "%.15g", k->valuedouble);
				v = val;
			}
			if (!v)
				continue;
			int n = snprintf(name, sizeof name, "AIRFLOW__%s__%s", sec->string, k->string);
			if (n < 0 || (size_t)n >= sizeof name)
				continue;
			for (char *c = name; *c; c++)
				*c = isalnum((unsigned char)*c) ? (char)toupper((unsigned char)*c) : '_';
			airflow_default(a, env, name, v);
		}
	}
	cJSON_Delete(cfg);
}

/* Everything an airflow process of plugin p needs. */
struct airflow_ctx {
	const struct smelt_plugin *p;
	struct smelt_env *env;
	const char *root;   /* project root (borrowed) */
	char *airflow;      /* <venv>/bin/airflow */
	char *python;       /* <venv>/bin/python */
	char *home;         /* AIRFLOW_HOME */
};

static void airflow_ctx_release(struct airflow *a, struct airflow_ctx *c)
{
	if (c->env)
		a->host->env_free(c->env);
	free(c->airflow);
	free(c->python);
	free(c->home);
	memset(c, 0, sizeof *c);
}

/*
 * Everything an airflow process of p needs, and the DAG generator in place
 * (copied when it changed).  tool: airflow must be installed (for running
 * it); 0 when only the files are wanted (schedule export).
 */
static int airflow_prepare(struct airflow *a, const struct smelt_plugin *p, struct airflow_ctx *c, int tool,
                           char *err, size_t errlen)
{
	const struct smelt_host_api *h = a->host;
	char buf[4096];
	int rc;
	memset(c, 0, sizeof *c);
	c->p = p;
	c->root = h->path(a->hctx, SMELT_PATH_PROJECT_ROOT);
	const char *venv = h->plugin_path(a->hctx, p, SMELT_PPATH_VENV);
	const char *install = h->plugin_path(a->hctx, p, SMELT_PPATH_INSTALL_DIR);
	const char *name = h->plugin_attr(a->hctx, p, "name");
	if (!c->root || !install)
		return kit_fail(err, errlen, SMELT_ERR, "no project folder for '%s'", name);
	if (venv) {
		c->airflow = airflow_join(venv, "bin/airflow");
		c->python = airflow_join(venv, "bin/python");
	} else {
		const char *exe = h->plugin_path(a->hctx, p, SMELT_PPATH_EXECUTABLE);
		c->airflow = strdup(exe ? exe : "airflow");
		c->python = strdup("python3");
	}
	if (!c->airflow || !c->python)
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	if (tool && strchr(c->airflow, '/') && access(c->airflow, X_OK) != 0)
		return kit_fail(err, errlen, SMELT_ERR_NOTFOUND, "'%s' is not installed (no '%s'): run 'smelt install %s'",
		                    name, c->airflow, name);

	if (!(c->env = h->env_new(a->hctx, p)))
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	struct smelt_env *env = c->env;

	/* Where Airflow keeps its state: always under .smelt, never ~/airflow. */
	c->home = airflow_join(install, "home");
	if (!c->home)
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	h->env_set(env, "AIRFLOW_HOME", c->home);
	if (kit_mkdirs(c->home, 0700) != 0)
		return kit_fail(err, errlen, SMELT_ERR, "cannot create '%s': %s", c->home, strerror(errno));

	airflow_config_env(a, p, env);
	snprintf(buf, sizeof buf, "%s/orchestrate/airflow/dags", c->root);
	airflow_default(a, env, "AIRFLOW__CORE__DAGS_FOLDER", buf);
	snprintf(buf, sizeof buf, "%s/orchestrate/airflow/plugins", c->root);
	airflow_default(a, env, "AIRFLOW__CORE__PLUGINS_FOLDER", buf);
	snprintf(buf, sizeof buf, "sqlite:///%s/airflow.db", c->home);
	airflow_default(a, env, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", buf);
	airflow_default(a, env, "AIRFLOW__CORE__LOAD_EXAMPLES", "False");
	airflow_default(a, env, "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "False");
	airflow_default(a, env, "AIRFLOW__CORE__EXECUTOR", "LocalExecutor");
	airflow_default(a, env, "AIRFLOW__API__HOST", "127.0.0.1");
	airflow_default(a, env, "AIRFLOW__API__PORT", "8080");
	airflow_default(a, env, "AIRFLOW__API__WORKERS", "1");
	/* Task runners reach the API server here; keep it on the address it listens on. */
	const char *host = h->env_get(env, "AIRFLOW__API__HOST");
	if (!host || !strcmp(host, "0.0.0.0") || !strcmp(host, "::"))
		host = "127.0.0.1";
	snprintf(buf, sizeof buf, "http://%s:%s/execution/", host, h->env_get(env, "AIRFLOW__API__PORT"));
	airflow_default(a, env, "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", buf);
	/* Nothing phones home (TOOLS.md section 0). */
	h->env_set(env, "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED", "False");
	h->env_set(env, "SCARF_ANALYTICS", "false");
	h->env_set(env, "DO_NOT_TRACK", "1");
	/* Airflow's import takes seconds; let its venv keep compiled bytecode. */
	h->env_set(env, "PYTHONDONTWRITEBYTECODE", NULL);

	/* The simple auth manager's user, and its password when a setting gives one. */
	char *user = airflow_setting(a, p, "admin_username");
	char *password = airflow_setting(a, p, "admin_password");
	snprintf(buf, sizeof buf, "%s:admin", user && *user ? user : "admin");
	airflow_default(a, env, "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", buf);
	rc = 0;
	if (password && *password) {
		const char *run_dir = h->plugin_path(a->hctx, p, SMELT_PPATH_RUN_DIR);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, user && *user ? user : "admin", password);
		char *text = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		char *path = run_dir ? airflow_join(run_dir, "simple_auth_manager_passwords.json") : NULL;
		if (!text || !path)
			rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		else if ((rc = h->write_private(a->hctx, path, text, strlen(text), err, errlen)) == 0)
			h->env_set(env, "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", path);
		free(text);
		free(path);
	}
	free(user);
	free(password);
	if (rc)
		return rc;

	/* What the DAG generator needs: this smelt, the project. */
	const char *exe = h->path(a->hctx, SMELT_PATH_SMELT_EXE);
	if (exe)
		h->env_set(env, "SMELT_BIN", exe);
	h->env_set(env, "SMELT_PROJECT_ROOT", c->root);

	/* The generator, fresh from this adapter's data folder. */
	const char *dags = h->env_get(env, "AIRFLOW__CORE__DAGS_FOLDER");
	const char *data = h->path(a->hctx, SMELT_PATH_ADAPTER_DATA);
	if (!data)
		return kit_fail(err, errlen, SMELT_ERR, "the airflow adapter's data folder is unknown");
	if (kit_mkdirs(dags, 0755) != 0)
		return kit_fail(err, errlen, SMELT_ERR, "cannot create the DAGs folder '%s': %s", dags, strerror(errno));
	char *src = airflow_join(data, GENERATOR), *dst = airflow_join(dags, GENERATOR);
	rc = src && dst ? airflow_copy_if_changed(src, dst, err, errlen)
	                : kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	free(src);
	free(dst);
	return rc;
}

/* Run argv under the host's supervisor; *code is its exit code (128+signal when killed). */
static int airflow_spawn(struct airflow *a, struct airflow_ctx *c, const char *const *argv, unsigned flags,
                         int *code, char *err, size_t errlen)
{
	struct smelt_spawn spec = {
		.struct_size = sizeof spec,
		.label = a->host->plugin_attr(a->hctx, c->p, "name"),
		.argv = argv,
		.env = c->env,
		.cwd = c->root,
		.flags = flags,
	};
	struct smelt_exit ex = { .struct_size = sizeof ex };
	int rc = a->host->run(a->hctx, &spec, &ex, err, errlen);
	if (ex.not_started)
		return kit_fail(err, errlen, SMELT_ERR, "cannot run '%s'", argv[0]);
	*code = ex.signaled ? 128 + ex.term_signal : ex.exit_code;
	if (rc == SMELT_ERR_INTERRUPTED)
		return 0; /* the user stopped it: report the tool's code */
	return rc;
}

static int airflow_migrate(struct airflow *a, struct airflow_ctx *c, int *code, char *err, size_t errlen)
{
	const char *argv[] = { c->airflow, "db", "migrate", NULL };
	LOG(a, SMELT_LOG_INFO, "migrating the Airflow metadata database (AIRFLOW_HOME=%s)", c->home);
	return airflow_spawn(a, c, argv, SMELT_SPAWN_STDIN_NULL | SMELT_SPAWN_STDOUT_LOG, code, err, errlen);
}

/* Split a command's args string at blanks ('...' and "..." group); NULL-terminated, caller frees. */
static char **airflow_split(const char *s, size_t *n)
{
	size_t cap = 8, len = strlen(s);
	char **out = calloc(cap, sizeof *out);
	char *w = malloc(len + 1);
	*n = 0;
	if (!out || !w) {
		free(out);
		free(w);
		return NULL;
	}
	const char *p = s;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		size_t k = 0;
		char q = 0;
		while (*p && (q || (*p != ' ' && *p != '\t'))) {
			if (!q && (*p == '\'' || *p == '"'))
				q = *p;
			else if (q && *p == q)
				q = 0;
			else
				w[k++] = *p;
			p++;
		}
		w[k] = '\0';
		if (*n + 2 > cap) {
			char **no = realloc(out, (cap *= 2) * sizeof *out);
			if (!no)
				break;
			out = no;
		}
		out[(*n)++] = strdup(w);
		out[*n] = NULL;
	}
	free(w);
	return out;
}

static int airflow_invoke(void *state, const struct smelt_request *req, int *exit_code, char *err, size_t errlen)
{
	struct airflow *a = state;
	struct airflow_ctx c;
	if (req->kind == SMELT_REQ_DUMP)
		return kit_fail(err, errlen, SMELT_ERR_UNSUPPORTED, "airflow has no --dump");
	if (req->nplugins < 1)
		return kit_fail(err, errlen, SMELT_ERR, "no plugin to invoke");
	int rc = airflow_prepare(a, req->plugins[0], &c, 1, err, errlen);
	if (rc) {
		airflow_ctx_release(a, &c);
		return rc;
	}
	const char *cmd = req->command;
	size_t n = req->nargs, extra = 0;
	char **cmd_args = NULL;
	const char **argv = NULL;
	*exit_code = 0;

	if (cmd && !strcmp(cmd, "initialize")) {
		rc = airflow_migrate(a, &c, exit_code, err, errlen);
		if (rc == 0 && *exit_code == 0)
			LOG(a, SMELT_LOG_INFO, "Airflow is ready: DAGs in %s; start it with 'smelt invoke %s:ui'",
			    a->host->env_get(c.env, "AIRFLOW__CORE__DAGS_FOLDER"),
			    a->host->plugin_attr(a->hctx, c.p, "name"));
		goto out;
	}
	if (cmd && (!strcmp(cmd, "ui") || !strcmp(cmd, "scheduler"))) {
		rc = airflow_migrate(a, &c, exit_code, err, errlen);
		if (rc || *exit_code)
			goto out;
		const char *data = a->host->path(a->hctx, SMELT_PATH_ADAPTER_DATA);
		char *launcher = airflow_join(data, LAUNCHER);
		argv = calloc(n + 8, sizeof *argv);
		if (!launcher || !argv) {
			free(launcher);
			rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
			goto out;
		}
		size_t k = 0;
		argv[k++] = c.python;
		argv[k++] = launcher;
		if (!strcmp(cmd, "ui")) {
			argv[k++] = "api-server";
			LOG(a, SMELT_LOG_INFO, "Airflow UI on http://%s:%s/", a->host->env_get(c.env, "AIRFLOW__API__HOST"),
			    a->host->env_get(c.env, "AIRFLOW__API__PORT"));
		}
		argv[k++] = "scheduler";
		argv[k++] = "dag-processor";
		if (n)
			argv[k++] = "--"; /* the rest goes to the api-server */
		for (size_t i = 0; i < n; i++)
			argv[k++] = req->args[i];
		argv[k] = NULL;
		rc = airflow_spawn(a, &c, argv, SMELT_SPAWN_STDIN_NULL | SMELT_SPAWN_STDOUT_LOG, exit_code, err, errlen);
		free(launcher);
		goto out;
	}
	if (cmd) {
		const char *exe = NULL;
		const char *args = a->host->plugin_command(a->hctx, c.p, cmd, &exe);
		if (!args) {
			rc = kit_fail(err, errlen, SMELT_ERR_NOTFOUND,
			                  "airflow has no command '%s' (initialize, ui, scheduler, or a command of the "
			                  "plugin's definition)", cmd);
			goto out;
		}
		if (!(cmd_args = airflow_split(args, &extra))) {
			rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	argv = calloc(n + extra + 2, sizeof *argv);
	if (!argv) {
		rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		goto out;
	}
	size_t k = 0;
	argv[k++] = c.airflow;
	for (size_t i = 0; i < extra; i++)
		argv[k++] = cmd_args[i];
	for (size_t i = 0; i < n; i++)
		argv[k++] = req->args[i];
	argv[k] = NULL;
	rc = airflow_spawn(a, &c, argv, SMELT_SPAWN_INHERIT_STDIO, exit_code, err, errlen);
out:
	for (size_t i = 0; cmd_args && cmd_args[i]; i++)
		free(cmd_args[i]);
	free(cmd_args);
	free(argv);
	airflow_ctx_release(a, &c);
	return rc;
}

/* smelt run airflow:CMD: the same commands, but a non-zero exit fails the block. */
static int airflow_run_block(void *state, const struct smelt_request *req, char *err, size_t errlen)
{
	int code = 0;
	int rc = airflow_invoke(state, req, &code, err, errlen);
	if (rc)
		return rc;
	if (code)
		return kit_fail(err, errlen, SMELT_ERR_FAILED, "airflow%s%s exited with code %d",
		                    req->command ? ":" : "", req->command ? req->command : "", code);
	return 0;
}

/*
 * smelt schedule export: the DAG generator written (or refreshed) into the
 * DAGs folder, where Airflow's DAG processor builds one DAG per schedule
 * at its next parse.  Only files are written: Airflow need not be
 * installed.  The schedules handed over (req->schedules_json) are named
 * in the log; the generator reads them itself when it runs.
 */
static int airflow_export(void *state, const struct smelt_request *req, char *err, size_t errlen)
{
	struct airflow *a = state;
	struct airflow_ctx c;
	if (req->nplugins < 1)
		return kit_fail(err, errlen, SMELT_ERR, "no plugin to export to");
	int rc = airflow_prepare(a, req->plugins[0], &c, 0, err, errlen);
	if (rc == 0) {
		const char *dags = a->host->env_get(c.env, "AIRFLOW__CORE__DAGS_FOLDER");
		const char *json = SMELT_HAS(req, struct smelt_request, schedules_json) ? req->schedules_json : NULL;
		cJSON *o = json ? cJSON_Parse(json) : NULL;
		const cJSON *all = cJSON_GetObjectItemCaseSensitive(o, "schedules"), *kind, *sc;
		char names[512] = "";
		size_t len = 0, n = 0;
		cJSON_ArrayForEach(kind, all)
			cJSON_ArrayForEach(sc, kind)
			{
				const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sc, "name"));
				if (name && len < sizeof names) {
					int w = snprintf(names + len, sizeof names - len, "%s%s", n ? ", " : "", name);
					len += w > 0 ? (size_t)w : 0;
				}
				n++;
			}
		cJSON_Delete(o);
		LOG(a, SMELT_LOG_INFO, "DAG generator in '%s/%s': one DAG per schedule (%zu%s%s%s)", dags, GENERATOR, n,
		    n ? ": " : "", names, n ? "" : "; add one with 'smelt schedule add'");
	}
	airflow_ctx_release(a, &c);
	return rc;
}

static int airflow_init(const struct smelt_host_api *host, void *hctx, void **state, char *err, size_t errlen)
{
	struct airflow *a = calloc(1, sizeof *a);
	if (!a)
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	a->host = host;
	a->hctx = hctx;
	*state = a;
	return SMELT_OK;
}

static void airflow_destroy(void *state)
{
	free(state);
}

static const struct smelt_adapter airflow_adapter = {
	.abi_version = SMELT_ABI_VERSION,
	.struct_size = sizeof(struct smelt_adapter),
	.command_size = sizeof(struct smelt_command),
	.name = "airflow",
	.version = "0.2.0",
	.description = "Apache Airflow 3: the project's schedules as DAGs",
	.category = SMELT_CAT_ORCHESTRATE,
	.plugin_types = SMELT_PT_ORCHESTRATOR,
	.namespaces = airflow_namespaces,
	.commands = airflow_commands,
	.init = airflow_init,
	.destroy = airflow_destroy,
	.invoke = airflow_invoke,
	.run_block = airflow_run_block,
	.export_schedules = airflow_export,
};

SMELT_EXPORT const struct smelt_adapter *smelt_adapter_entry(void)
{
	return &airflow_adapter;
}
