/* run/plugin_env: see plugin_env.h. */
#include "run/plugin_env.h"
#include "run/runtime.h"
#include "run/sdk_log.h"
#include "project/project.h"
#include "settings/settings.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The EL block running now (one at a time): see plugin_env.h. */
static struct {
	struct plugin *const *plugins; /* borrowed; NULL outside a block */
	size_t n;
	struct envlist *handoff;       /* handoff[i]: what plugins 0..i-1 hand to plugin i (n lists) */
	char **injected;               /* names put in smelt's environment (owned) */
	size_t ninjected;
} el;

static const char *const context_prefixes[] = { "MELTANO_EXTRACT", "MELTANO_LOAD", "MELTANO_MAP",
                                                "SMELT_EXTRACT", "SMELT_LOAD", "SMELT_MAP" };

static int is_context_name(const char *name)
{
	for (size_t k = 0; k < sizeof context_prefixes / sizeof context_prefixes[0]; k++)
		if (!strncmp(name, context_prefixes[k], strlen(context_prefixes[k])))
			return 1;
	return 0;
}

/* What plugin pl hands to the plugins after it: its information variables and its settings' variables. */
static void context_of(struct runtime *rt, struct plugin *pl, struct envlist *out)
{
	struct settings s = { 0 };
	struct envlist all = ENVLIST_INIT;
	char err[SMELT_ERRBUF_SIZE];
	if (settings_resolve(rt->project, pl, NULL, 0, &s, err, sizeof err) != 0 ||
	    settings_plugin_env(rt->project, pl, &s, &all, err, sizeof err) != 0) {
		log_debug("%s: %s", pl->name, err);
		settings_release(&s);
		envlist_release(&all);
		return;
	}
	char *up = settings_env_name(NULL, plugin_type_singular(pl->type));
	static const char *const info[] = { "MELTANO_%s_NAME", "MELTANO_%s_NAMESPACE", "MELTANO_%s_VARIANT",
	                                    "SMELT_%s_NAME", "SMELT_%s_NAMESPACE", "SMELT_%s_VARIANT" };
	for (size_t i = 0; i < sizeof info / sizeof info[0]; i++) {
		char *name = xasprintf(info[i], up);
		const char *v = envlist_get(&all, name);
		if (v)
			envlist_set(out, name, v);
		free(name);
	}
	free(up);
	settings_config_env(rt->project, pl, &s, out);
	envlist_release(&all);
	settings_release(&s);
}

static void copy_vars(struct envlist *dst, const struct envlist *src)
{
	for (size_t i = 0; i < src->n; i++) {
		const char *eq = strchr(src->vars[i], '=');
		char *name = xstrndup(src->vars[i], (size_t)(eq - src->vars[i]));
		envlist_set(dst, name, eq + 1);
		free(name);
	}
}

void plugin_env_el_enter(struct runtime *rt, struct plugin *const *plugins, size_t n)
{
	plugin_env_el_leave();
	struct envlist acc = ENVLIST_INIT;
	el.handoff = xcalloc(n ? n : 1, sizeof *el.handoff);
	for (size_t i = 0; i < n; i++) {
		copy_vars(&el.handoff[i], &acc);
		struct envlist ctx = ENVLIST_INIT;
		context_of(rt, plugins[i], &ctx); /* resolved with what the plugins before it put in */
		for (size_t v = 0; v < ctx.n; v++) {
			const char *eq = strchr(ctx.vars[v], '=');
			char *name = xstrndup(ctx.vars[v], (size_t)(eq - ctx.vars[v]));
			int mine = 0;
			for (size_t k = 0; k < el.ninjected && !mine; k++)
				mine = !strcmp(el.injected[k], name);
			/* for $VAR expansion; the user's own value wins there */
			if (is_context_name(name) && (mine || !getenv(name))) {
				setenv(name, eq + 1, 1);
				if (!mine) {
					el.injected = xrealloc(el.injected, (el.ninjected + 1) * sizeof *el.injected);
					el.injected[el.ninjected++] = xstrdup(name);
				}
			}
			free(name);
		}
		copy_vars(&acc, &ctx);
		envlist_release(&ctx);
	}
	envlist_release(&acc);
	el.plugins = plugins;
	el.n = n;
}

void plugin_env_el_leave(void)
{
	for (size_t i = 0; i < el.ninjected; i++) {
		unsetenv(el.injected[i]);
		free(el.injected[i]);
	}
	free(el.injected);
	for (size_t i = 0; el.handoff && i < el.n; i++)
		envlist_release(&el.handoff[i]);
	free(el.handoff);
	memset(&el, 0, sizeof el);
}

void plugin_env_base(struct plugin *pl, struct envlist *env)
{
	envlist_from_environ(env);
	for (size_t i = 0; i < el.ninjected; i++)
		envlist_set(env, el.injected[i], NULL);
	for (size_t i = 0; pl && i < el.n; i++)
		if (el.plugins[i] == pl) {
			copy_vars(env, &el.handoff[i]);
			break;
		}
}

/* Python's name of smelt's log level, for the plugins' logging configurations. */
static const char *python_level(void)
{
	int level = log_level();
	if (level <= SMELT_LOG_DEBUG)
		return "DEBUG";
	if (level <= SMELT_LOG_INFO)
		return "INFO";
	if (level <= SMELT_LOG_WARN)
		return "WARNING";
	if (level <= SMELT_LOG_ERROR)
		return "ERROR";
	return "CRITICAL";
}

/* 1 when the file at path (beneath sys) holds exactly text. */
static int holds(const char *sys, const char *path, const char *text)
{
	int fd = fs_open_under(sys, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	size_t len = strlen(text), got = 0;
	char *buf = xmalloc(len + 1);
	ssize_t r;
	while (got <= len && (r = read(fd, buf + got, len + 1 - got)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	int same = got == len && !memcmp(buf, text, len);
	free(buf);
	return same;
}

/*
 * Write one logging configuration into the plugin's run folder and name it
 * in env as var (unless env names one already).  No secret in it, so it is
 * kept between runs and written only when its text changed
 * (a new log level): no file made and removed per run, and runs of one
 * plugin at once never remove the file the other's plugin is reading.
 */
static void logging_file(struct runtime *rt, struct plugin *pl, struct envlist *env, const char *var,
                         const char *file, const char *text)
{
	if (envlist_get(env, var))
		return;
	const char *dir = runtime_plugin_path(rt, pl, SMELT_PPATH_RUN_DIR);
	char *path = xasprintf("%s/%s", dir, file);
	const char *sys = rt->project->sys_dir;
	if (!holds(sys, path, text) &&
	    (mkdir_private(sys) != 0 || fs_write_under(sys, path, text, strlen(text), 0600, 0700) != 0)) {
		log_warn("cannot write '%s': %s", path, fs_beneath_strerror(errno));
		free(path);
		return;
	}
	envlist_set(env, var, path);
	free(path);
}

/*
 * Meltano's PluginInvoker.get_log_parser(): the plugin has the
 * structured-logging capability and its _log_parser extra names the
 * Singer SDK's parser: the default the plugin type's adapter data gives
 * (plugins/singer/plugin_types.json), which a project may override.
 */
static int structured_logging(struct runtime *rt, struct plugin *pl)
{
	char err[SMELT_ERRBUF_SIZE];
	const struct definition *d = project_plugin_def(rt->project, pl, err, sizeof err);
	if (!d || !definition_has_capability(d, "structured-logging"))
		return 0;
	struct settings s = { 0 };
	int yes = 0;
	if (settings_resolve(rt->project, pl, NULL, SETTINGS_EXTRAS, &s, err, sizeof err) == SMELT_OK) {
		const struct resolved_setting *r = settings_find(&s, "_log_parser");
		/* the parser the plugin type's adapter names as the default (its data, not the host, knows which) */
		const cJSON *dflt = r && r->def ? r->def->value : NULL;
		yes = r && cJSON_IsString(r->value) && cJSON_IsString(dflt) &&
		      !strcmp(r->value->valuestring, dflt->valuestring);
	} else {
		log_debug("%s: %s", pl->name, err);
	}
	settings_release(&s);
	return yes;
}

void plugin_env_finish(struct runtime *rt, struct plugin *pl, struct envlist *env)
{
	if (!envlist_get(env, "PYTHONWARNINGS"))
		envlist_set(env, "PYTHONWARNINGS", "once");
	if (!envlist_get(env, "MELTANO_JOB_TRIGGER")) /* what started the run, as Meltano's CLI says */
		envlist_set(env, "MELTANO_JOB_TRIGGER", "cli");
	if (!pl)
		return;
	const char *kind = pl->type == PLUGIN_EXTRACTORS ? "tap" : pl->type == PLUGIN_LOADERS ? "target"
	                 : pl->type == PLUGIN_MAPPERS ? "mapper" : NULL;
	if (!kind)
		return;
	const char *level = python_level();
	int structured = structured_logging(rt, pl);
	sdk_log_use(pl->name, structured);
	struct strbuf sb = STRBUF_INIT;
	char *file = xasprintf("%s.singer_sdk_logging.json", kind);
	/* Meltano's file (json.dumps(indent=2)), with the SDK's StructuredFormatter for structured logging */
	strbuf_addf(&sb, "{\n  \"version\": 1,\n  \"disable_existing_loggers\": false,\n  \"formatters\": {\n"
	            "    \"singer_formatter\": {\n      %s\n    }\n  },\n"
	            "  \"handlers\": {\n    \"console\": {\n      \"class\": \"logging.StreamHandler\",\n"
	            "      \"formatter\": \"singer_formatter\",\n      \"stream\": \"ext://sys.stderr\"\n    }\n  },\n"
	            "  \"root\": {\n    \"handlers\": [\n      \"console\"\n    ],\n    \"level\": \"%s\"\n  }\n}",
	            structured ? "\"()\": \"singer_sdk.logging.StructuredFormatter\"" : "\"format\": \"%(message)s\"", level);
	logging_file(rt, pl, env, "SINGER_SDK_LOG_CONFIG", file, sb.buf);
	free(file);
	strbuf_reset(&sb);
	file = xasprintf("%s.pipelinewise_logging.conf", kind);
	strbuf_addf(&sb, "[loggers]\nkeys=root\n\n[handlers]\nkeys=console\n\n[formatters]\nkeys=default\n\n"
	            "[logger_root]\nlevel=%s\nhandlers=console\n\n[handler_console]\nclass=StreamHandler\n"
	            "level=%s\nformatter=default\nargs=(sys.stderr,)\n\n[formatter_default]\nformat=%%(message)s\n",
	            level, level);
	logging_file(rt, pl, env, "LOGGING_CONF_FILE", file, sb.buf);
	free(file);
	strbuf_release(&sb);
}
