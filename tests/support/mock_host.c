/* mock_host: a scripted struct smelt_host_api for adapter unit tests; see mock_host.h. */
#include "mock_host.h"

#include <cjson/cJSON.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MOCK_ADAPTER_DIR
#error "MOCK_ADAPTER_DIR (the stage's adapter folder) must be defined by the build"
#endif

/* ---- small helpers: a test helper aborts on what a test cannot go on without ------------------ */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("mock_host: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

static void *xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		die("out of memory");
	return q;
}

static char *xstrdup(const char *s)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		die("out of memory");
	return d;
}

static char *xvasprintf(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		die("out of memory");
	return s;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

/* Append one pointer to a growing array. */
#define PUSH(arr, n, v)                                              \
	do {                                                         \
		(arr) = xrealloc((arr), ((n) + 1) * sizeof *(arr)); \
		(arr)[(n)++] = (v);                                  \
	} while (0)

static void mkdirs(const char *path, mode_t mode)
{
	char *p = xstrdup(path);
	for (char *s = p + 1;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) != 0 && errno != EEXIST)
			die("cannot create '%s': %s", p, strerror(errno));
		*s = c;
		if (!c)
			break;
	}
	free(p);
}

static void mkparent(const char *path, mode_t mode)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdirs(dir, mode);
	}
	free(dir);
}

static void write_all(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		die("cannot write '%s': %s", path, strerror(errno));
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die("cannot write '%s': %s", path, strerror(errno));
		off += (size_t)w;
	}
	fchmod(fd, mode);
	close(fd);
}

char *mock_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		n += fread(buf + n, 1, cap - n - 1, f);
		if (n + 1 < cap)
			break;
		buf = xrealloc(buf, cap *= 2);
	}
	fclose(f);
	buf[n] = '\0';
	return buf;
}

void mock_make_executable(const char *path)
{
	static const char script[] = "#!/bin/sh\nexit 0\n";
	mkparent(path, 0755);
	write_all(path, script, sizeof script - 1, 0755);
}

/* ---- the records ------------------------------------------------------------------------------ */

struct smelt_env {
	char **vars; /* NAME=VALUE, NULL-terminated */
	size_t n;
};

struct named {
	char *name;
	char *value; /* may be NULL */
	int flag;    /* sensitive (settings); set (paths) */
};

struct smelt_plugin {
	struct mock_host *m;
	struct named *attrs;
	size_t nattrs;
	char **caps;
	size_t ncaps;
	struct named *settings; /* value: JSON text; flag: sensitive */
	size_t nsettings;
	char *config_error;
	struct named *commands; /* value: args; */
	char **command_exes;    /* parallel to commands */
	size_t ncommands;
	struct named *mappings; /* value: config JSON */
	size_t nmappings;
	struct named *env;
	size_t nenv;
	struct named paths[SMELT_PPATH_EXECUTABLE + 1]; /* flag: overridden */
};

struct mock_proc {
	int exit_code, signal, not_started;
	int status;
	char *status_err;
	char **lines;
	size_t nlines;
	struct named *files; /* name: path, value: text */
	size_t nfiles;
	mock_proc_fn fn;
	void *arg;
};

struct mock_host {
	struct smelt_host_api api;
	char *root;
	struct named paths[SMELT_PATH_ADAPTER_DATA + 1];
	char *environment;
	struct named *base_env;
	size_t nbase_env;
	char **pool; /* strings handed out, freed at the end */
	size_t npool;

	struct smelt_plugin **plugins;
	size_t nplugins;

	struct mock_proc **procs; /* scripts, FIFO */
	size_t nprocs, next_proc;
	struct mock_call **calls;
	size_t ncalls;
	int npipelines;

	struct mock_event *events;
	size_t nevents;
	struct mock_log *logs;
	size_t nlogs;
	struct mock_file *files;
	size_t nfiles;

	struct named *states;
	size_t nstates;
	struct mock_state_put *puts;
	size_t nputs;
	size_t put_fail_at;
	char *put_fail_msg;

	void *dl;
	const struct smelt_adapter *ad;
	void *state;

	int saved_stdout;
	char *stdout_path;
	char *stdout_text;
	char *leak;
};

static const char *keep(struct mock_host *m, char *s)
{
	if (s)
		PUSH(m->pool, m->npool, s);
	return s;
}

static struct named *named_find(struct named *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i].name, name))
			return &list[i];
	return NULL;
}

/* Set name=value in a list (replacing), returning the entry. */
static struct named *named_set(struct named **list, size_t *n, const char *name, const char *value)
{
	struct named *e = named_find(*list, *n, name);
	if (!e) {
		*list = xrealloc(*list, (*n + 1) * sizeof **list);
		e = &(*list)[(*n)++];
		memset(e, 0, sizeof *e);
		e->name = xstrdup(name);
	} else {
		free(e->value);
	}
	e->value = xstrdup(value);
	return e;
}

static void named_free(struct named *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].name);
		free(list[i].value);
	}
	free(list);
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* ---- environments ----------------------------------------------------------------------------- */

static ssize_t env_index(const struct smelt_env *env, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < env->n; i++)
		if (!strncmp(env->vars[i], name, len) && env->vars[i][len] == '=')
			return (ssize_t)i;
	return -1;
}

static int m_env_set(struct smelt_env *env, const char *name, const char *value)
{
	ssize_t i = env_index(env, name);
	if (!value) {
		if (i >= 0) {
			free(env->vars[i]);
			memmove(env->vars + i, env->vars + i + 1, (env->n - (size_t)i) * sizeof *env->vars);
			env->n--;
		}
		return SMELT_OK;
	}
	char *v = xasprintf("%s=%s", name, value);
	if (i >= 0) {
		free(env->vars[i]);
		env->vars[i] = v;
	} else {
		env->vars = xrealloc(env->vars, (env->n + 2) * sizeof *env->vars);
		env->vars[env->n++] = v;
		env->vars[env->n] = NULL;
	}
	return SMELT_OK;
}

static const char *m_env_get(const struct smelt_env *env, const char *name)
{
	ssize_t i = env ? env_index(env, name) : -1;
	return i >= 0 ? env->vars[i] + strlen(name) + 1 : NULL;
}

static void m_env_free(struct smelt_env *env)
{
	if (!env)
		return;
	strv_free(env->vars);
	free(env);
}

static struct smelt_env *m_env_new(void *hctx, const struct smelt_plugin *p)
{
	struct mock_host *m = hctx;
	struct smelt_env *env = xmalloc(sizeof *env);
	env->vars = xmalloc(sizeof *env->vars);
	for (size_t i = 0; i < m->nbase_env; i++)
		m_env_set(env, m->base_env[i].name, m->base_env[i].value);
	for (size_t i = 0; p && i < p->nenv; i++)
		m_env_set(env, p->env[i].name, p->env[i].value);
	return env;
}

void mock_env_base(struct mock_host *m, const char *name, const char *value)
{
	named_set(&m->base_env, &m->nbase_env, name, value);
}

/* ---- services: memory, log, paths ------------------------------------------------------------- */

static void *m_alloc(size_t n)
{
	return malloc(n ? n : 1);
}

static void m_free(void *p)
{
	free(p);
}

static void m_log(void *hctx, enum smelt_log_level level, const char *fmt, ...)
{
	struct mock_host *m = hctx;
	va_list ap;
	va_start(ap, fmt);
	char *text = xvasprintf(fmt, ap);
	va_end(ap);
	m->logs = xrealloc(m->logs, (m->nlogs + 1) * sizeof *m->logs);
	m->logs[m->nlogs++] = (struct mock_log){ .level = level, .text = text };
	if (getenv("MOCK_HOST_VERBOSE"))
		fprintf(stderr, "[mock log %d] %s\n", (int)level, text);
}

static const char *m_path(void *hctx, enum smelt_path which)
{
	struct mock_host *m = hctx;
	if ((int)which < 1 || which > SMELT_PATH_ADAPTER_DATA)
		return NULL;
	return m->paths[which].value;
}

static const char *m_environment(void *hctx)
{
	return ((struct mock_host *)hctx)->environment;
}

/* ---- services: plugins ------------------------------------------------------------------------ */

static const char *attr_of(const struct smelt_plugin *p, const char *key)
{
	struct named *e = named_find(p->attrs, p->nattrs, key);
	return e ? e->value : NULL;
}

static const char *m_plugin_path(void *hctx, const struct smelt_plugin *cp, enum smelt_plugin_path which)
{
	struct mock_host *m = hctx;
	struct smelt_plugin *p = (struct smelt_plugin *)cp;
	if ((int)which < 1 || which > SMELT_PPATH_EXECUTABLE)
		return NULL;
	if (p->paths[which].flag)
		return p->paths[which].value;
	const char *sys = m->paths[SMELT_PATH_SYS_DIR].value, *name = attr_of(p, "name");
	char *v = NULL;
	switch (which) {
	case SMELT_PPATH_INSTALL_DIR: v = xasprintf("%s/%s/%s", sys, attr_of(p, "type"), name); break;
	case SMELT_PPATH_VENV:
		if (attr_of(p, "pip_url"))
			v = xasprintf("%s/venv", m_plugin_path(hctx, cp, SMELT_PPATH_INSTALL_DIR));
		break;
	case SMELT_PPATH_RUN_DIR: v = xasprintf("%s/run/%s", sys, name); break;
	case SMELT_PPATH_EXECUTABLE: v = xstrdup(attr_of(p, "executable") ? attr_of(p, "executable") : name); break;
	}
	return keep(m, v); /* borrowed until the end, like the host's */
}

static const char *m_plugin_attr(void *hctx, const struct smelt_plugin *p, const char *key)
{
	(void)hctx;
	return attr_of(p, key);
}

static int m_plugin_has_capability(void *hctx, const struct smelt_plugin *p, const char *cap)
{
	(void)hctx;
	for (size_t i = 0; i < p->ncaps; i++)
		if (!strcmp(p->caps[i], cap))
			return 1;
	return 0;
}

static const struct smelt_plugin *m_plugin_find(void *hctx, const char *name)
{
	struct mock_host *m = hctx;
	for (size_t i = 0; i < m->nplugins; i++)
		if (!strcmp(attr_of(m->plugins[i], "name"), name))
			return m->plugins[i];
	return NULL;
}

static uint32_t type_bit(const char *type)
{
	static const struct {
		const char *name;
		uint32_t bit;
	} types[] = {
		{ "extractors", SMELT_PT_EXTRACTOR },     { "loaders", SMELT_PT_LOADER },
		{ "mappers", SMELT_PT_MAPPER },           { "transformers", SMELT_PT_TRANSFORMER },
		{ "transforms", SMELT_PT_TRANSFORM },     { "orchestrators", SMELT_PT_ORCHESTRATOR },
		{ "utilities", SMELT_PT_UTILITY },        { "files", SMELT_PT_FILE },
	};
	for (size_t i = 0; type && i < sizeof types / sizeof types[0]; i++)
		if (!strcmp(types[i].name, type))
			return types[i].bit;
	return 0;
}

static size_t m_plugin_list(void *hctx, uint32_t types, const struct smelt_plugin **out, size_t cap)
{
	struct mock_host *m = hctx;
	size_t n = 0;
	for (size_t i = 0; i < m->nplugins; i++) {
		if (!(type_bit(attr_of(m->plugins[i], "type")) & types))
			continue;
		if (n < cap)
			out[n] = m->plugins[i];
		n++;
	}
	return n;
}

static const char *m_plugin_command(void *hctx, const struct smelt_plugin *p, const char *command,
                                    const char **executable)
{
	(void)hctx;
	for (size_t i = 0; i < p->ncommands; i++) {
		if (!strcmp(p->commands[i].name, command)) {
			if (executable)
				*executable = p->command_exes[i];
			return p->commands[i].value ? p->commands[i].value : "";
		}
	}
	if (executable)
		*executable = NULL;
	return NULL;
}

/* ---- services: settings ----------------------------------------------------------------------- */

static int set_err(char *err, size_t errlen, int status, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int set_err(char *err, size_t errlen, int status, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return status;
}

static cJSON *parse_or_die(const char *json, const char *what)
{
	cJSON *v = cJSON_Parse(json);
	if (!v)
		die("%s is not JSON: %s", what, json);
	return v;
}

/* Put v at the dotted name in o, creating the objects on the way (the host's nesting). */
static void nest_into(cJSON *o, const char *name, cJSON *v)
{
	const char *dot = strchr(name, '.');
	if (!dot) {
		cJSON_DeleteItemFromObjectCaseSensitive(o, name);
		cJSON_AddItemToObject(o, name, v);
		return;
	}
	char *head = strndup(name, (size_t)(dot - name));
	if (!head)
		die("out of memory");
	cJSON *child = cJSON_GetObjectItemCaseSensitive(o, head);
	if (!cJSON_IsObject(child)) {
		cJSON_DeleteItemFromObjectCaseSensitive(o, head);
		child = cJSON_AddObjectToObject(o, head);
	}
	free(head);
	nest_into(child, dot + 1, v);
}

static cJSON *config_of(const struct smelt_plugin *p, unsigned flags)
{
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; i < p->nsettings; i++) {
		const struct named *s = &p->settings[i];
		cJSON *v = parse_or_die(s->value, s->name);
		int extra = s->name[0] == '_';
		if (cJSON_IsNull(v) || (extra && !(flags & SMELT_CFG_EXTRAS))) {
			cJSON_Delete(v);
			continue;
		}
		if ((flags & SMELT_CFG_REDACT) && s->flag) {
			cJSON_Delete(v);
			v = cJSON_CreateString("*****");
		}
		if ((flags & SMELT_CFG_FLAT) || extra) {
			cJSON_DeleteItemFromObjectCaseSensitive(o, s->name);
			cJSON_AddItemToObject(o, s->name, v);
		} else {
			nest_into(o, s->name, v);
		}
	}
	return o;
}

static char *print_or_die(const cJSON *v)
{
	char *s = cJSON_PrintUnformatted(v);
	if (!s)
		die("out of memory");
	return s;
}

static int m_config_json(void *hctx, const struct smelt_plugin *p, unsigned flags, char **json, char *err,
                         size_t errlen)
{
	(void)hctx;
	*json = NULL;
	if (p->config_error)
		return set_err(err, errlen, SMELT_ERR_CONFIG, "%s", p->config_error);
	cJSON *o = config_of(p, flags);
	*json = print_or_die(o);
	cJSON_Delete(o);
	return SMELT_OK;
}

static void merge_into(cJSON *dst, const cJSON *src)
{
	for (const cJSON *e = src->child; e; e = e->next) {
		cJSON *d = cJSON_GetObjectItemCaseSensitive(dst, e->string);
		if (cJSON_IsObject(d) && cJSON_IsObject(e)) {
			merge_into(d, e);
			continue;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(dst, e->string);
		cJSON_AddItemToObject(dst, e->string, cJSON_Duplicate(e, 1));
	}
}

static int m_mapping_config_json(void *hctx, const struct smelt_plugin *p, const char *mapping, char **json,
                                 char *err, size_t errlen)
{
	(void)hctx;
	*json = NULL;
	struct named *mp = named_find(p->mappings, p->nmappings, mapping);
	if (!mp)
		return set_err(err, errlen, SMELT_ERR_NOTFOUND, "mapper '%s' has no mapping '%s'", attr_of(p, "name"), mapping);
	if (p->config_error)
		return set_err(err, errlen, SMELT_ERR_CONFIG, "%s", p->config_error);
	cJSON *o = config_of(p, 0), *conf = parse_or_die(mp->value, mapping);
	if (cJSON_IsObject(conf))
		merge_into(o, conf);
	cJSON_Delete(conf);
	*json = print_or_die(o);
	cJSON_Delete(o);
	return SMELT_OK;
}

static int m_setting(void *hctx, const struct smelt_plugin *p, const char *name, char **json, int *sensitive,
                     char *err, size_t errlen)
{
	(void)hctx;
	(void)err;
	(void)errlen;
	*json = NULL;
	if (sensitive)
		*sensitive = 0;
	struct named *s = named_find(p->settings, p->nsettings, name);
	if (!s)
		return SMELT_OK;
	if (sensitive)
		*sensitive = s->flag;
	if (strcmp(s->value, "null"))
		*json = xstrdup(s->value);
	return SMELT_OK;
}

/* ---- services: processes ---------------------------------------------------------------------- */

static char **strv_copy(const char *const *v, size_t *n)
{
	size_t k = 0;
	while (v && v[k])
		k++;
	char **c = xmalloc((k + 1) * sizeof *c);
	for (size_t i = 0; i < k; i++)
		c[i] = xstrdup(v[i]);
	if (n)
		*n = k;
	return c;
}

static struct mock_call *record(struct mock_host *m, const struct smelt_spawn *spec, int pipeline, size_t stage)
{
	struct mock_call *c = xmalloc(sizeof *c);
	c->label = xstrdup(spec->label);
	c->argv = strv_copy(spec->argv, &c->argc);
	if (!c->argc)
		die("a process with an empty argv");
	c->env = spec->env ? strv_copy((const char *const *)spec->env->vars, NULL) : NULL;
	c->cwd = xstrdup(spec->cwd);
	c->flags = spec->flags;
	c->has_on_line = spec->on_line != NULL;
	c->pipeline = pipeline;
	c->stage = stage;
	size_t len = 1;
	for (size_t i = 0; i < c->argc; i++)
		len += strlen(c->argv[i]) + 1;
	c->joined = xmalloc(len);
	for (size_t i = 0; i < c->argc; i++) {
		if (i)
			strcat(c->joined, " ");
		strcat(c->joined, c->argv[i]);
	}
	PUSH(m->calls, m->ncalls, c);
	return c;
}

static struct mock_proc default_proc;

static struct mock_proc *next_script(struct mock_host *m)
{
	return m->next_proc < m->nprocs ? m->procs[m->next_proc++] : &default_proc;
}

/* Write the script's files and call its callback: what the process does before it prints. */
static void act(struct mock_host *m, struct mock_proc *pr, const struct mock_call *c)
{
	for (size_t i = 0; i < pr->nfiles; i++) {
		mkparent(pr->files[i].name, 0755);
		write_all(pr->files[i].name, pr->files[i].value, strlen(pr->files[i].value), 0644);
	}
	if (pr->fn && pr->fn(m, c, pr->arg) != 0)
		die("the callback of process %zu ('%s') failed", m->ncalls - 1, c->joined);
}

/* Feed the script's stdout lines to on_line, or log them; a negative return stops the process. */
static int print_lines(struct mock_host *m, struct mock_proc *pr, const struct smelt_spawn *spec)
{
	for (size_t i = 0; i < pr->nlines; i++) {
		if (!spec->on_line) {
			m_log(m, SMELT_LOG_INFO, "%s: %s", spec->label ? spec->label : "?", pr->lines[i]);
			continue;
		}
		int rc = spec->on_line(spec->arg, pr->lines[i], strlen(pr->lines[i]), (unsigned long)i + 1);
		if (rc < 0)
			return rc;
	}
	return SMELT_OK;
}

static void outcome(const struct mock_proc *pr, struct smelt_exit *ex, int stopped)
{
	memset(ex, 0, sizeof *ex);
	if (stopped) {
		ex->signaled = 1;
		ex->term_signal = 15;
	} else if (pr->not_started) {
		ex->exited = 1;
		ex->exit_code = 127;
		ex->not_started = 1;
	} else if (pr->signal) {
		ex->signaled = 1;
		ex->term_signal = pr->signal;
	} else {
		ex->exited = 1;
		ex->exit_code = pr->exit_code;
	}
}

/*
 * The spawns of run()/pipeline() as the host reads them (sdk/ABI.md,
 * growth): stepped through by stages[0].struct_size, every stage the same
 * size, copied into this build's layout with what an older adapter lacks
 * zeroed.  An adapter breaking this fails the test.
 */
static struct smelt_spawn *spawns_read(const struct smelt_spawn *stages, size_t n)
{
	if (!stages || !n)
		die("a pipeline of no stage");
	size_t stride = stages->struct_size;
	if (stride < SMELT_SPAWN_V1_0_SIZE || stride > sizeof(struct smelt_spawn))
		die("struct smelt_spawn has struct_size %zu; the host takes %zu to %zu", stride,
		    (size_t)SMELT_SPAWN_V1_0_SIZE, sizeof(struct smelt_spawn));
	struct smelt_spawn *out = xmalloc(n * sizeof *out);
	for (size_t i = 0; i < n; i++) {
		const struct smelt_spawn *sp = (const void *)((const char *)stages + i * stride);
		if (sp->struct_size != stride)
			die("pipeline stage %zu has struct_size %u, stage 0 %zu", i, sp->struct_size, stride);
		memcpy(&out[i], sp, stride);
	}
	return out;
}

/*
 * The stride of the adapter's ex[]: 1.1's layout for an adapter older than
 * 1.2; from 1.2 the struct_size the adapter must set in every element
 * (the host reads ex[0]'s; the mock checks them all).
 */
static size_t exits_stride(struct mock_host *m, const struct smelt_exit *ex, size_t n)
{
	if (!ex)
		die("no smelt_exit to write the outcome in");
	if (m->ad && SMELT_ABI_MINOR_OF(m->ad->abi_version) < 2)
		return SMELT_EXIT_V1_1_SIZE;
	size_t stride = ex->struct_size;
	if (stride < offsetof(struct smelt_exit, struct_size) + sizeof ex->struct_size || stride > sizeof *ex)
		die("struct smelt_exit has struct_size %zu: a 1.2 adapter sets it to sizeof(struct smelt_exit)", stride);
	for (size_t i = 1; i < n; i++) {
		const struct smelt_exit *e = (const void *)((const char *)ex + i * stride);
		if (e->struct_size != stride)
			die("ex[%zu] has struct_size %u, ex[0] %zu: set it in every element", i, e->struct_size, stride);
	}
	return stride;
}

static void exit_write(struct smelt_exit *ex, size_t stride, size_t i, const struct smelt_exit *got)
{
	struct smelt_exit e = *got;
	e.struct_size = (uint32_t)stride;
	memcpy((char *)ex + i * stride, &e, stride);
}

/* The processes of run() (number 0) or of the number-th pipeline(), each answered by its script. */
static int stages_run(struct mock_host *m, const struct smelt_spawn *stages, size_t n, struct smelt_exit *ex,
                      int number, char *err, size_t errlen)
{
	size_t stride = exits_stride(m, ex, n);
	struct smelt_spawn *specs = spawns_read(stages, n);
	int rc = SMELT_OK, status = SMELT_OK;
	const char *status_err = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct smelt_spawn *spec = &specs[i];
		struct mock_call *c = record(m, spec, number, i);
		struct mock_proc *pr = next_script(m);
		act(m, pr, c);
		int stopped = 0;
		if (i + 1 == n && !pr->not_started) {
			rc = print_lines(m, pr, spec);
			stopped = rc < 0;
		}
		struct smelt_exit got;
		outcome(pr, &got, stopped);
		exit_write(ex, stride, i, &got);
		if (pr->status && !status) {
			status = pr->status;
			status_err = pr->status_err;
		}
	}
	const char *label = specs[n - 1].label;
	free(specs);
	if (rc < 0)
		return set_err(err, errlen, rc, "%s: stopped by its output handler", label ? label : "?");
	if (status)
		return set_err(err, errlen, status, "%s", status_err ? status_err : "scripted failure");
	return SMELT_OK;
}

static int m_pipeline(void *hctx, const struct smelt_spawn *stages, size_t n, struct smelt_exit *ex, char *err,
                      size_t errlen)
{
	struct mock_host *m = hctx;
	return stages_run(m, stages, n, ex, ++m->npipelines, err, errlen);
}

static int m_run(void *hctx, const struct smelt_spawn *spec, struct smelt_exit *ex, char *err, size_t errlen)
{
	return stages_run(hctx, spec, 1, ex, 0, err, errlen);
}

struct mock_proc *mock_expect(struct mock_host *m)
{
	struct mock_proc *pr = xmalloc(sizeof *pr);
	PUSH(m->procs, m->nprocs, pr);
	return pr;
}

void mock_proc_exit(struct mock_proc *pr, int code)
{
	pr->exit_code = code;
}

void mock_proc_signal(struct mock_proc *pr, int sig)
{
	pr->signal = sig;
}

void mock_proc_not_started(struct mock_proc *pr)
{
	pr->not_started = 1;
}

void mock_proc_status(struct mock_proc *pr, int status, const char *err)
{
	pr->status = status;
	free(pr->status_err);
	pr->status_err = xstrdup(err);
}

void mock_proc_stdout(struct mock_proc *pr, const char *line)
{
	PUSH(pr->lines, pr->nlines, xstrdup(line));
}

void mock_proc_write_file(struct mock_proc *pr, const char *path, const char *text)
{
	pr->files = xrealloc(pr->files, (pr->nfiles + 1) * sizeof *pr->files);
	pr->files[pr->nfiles++] = (struct named){ .name = xstrdup(path), .value = xstrdup(text) };
}

void mock_proc_callback(struct mock_proc *pr, mock_proc_fn fn, void *arg)
{
	pr->fn = fn;
	pr->arg = arg;
}

size_t mock_ncalls(struct mock_host *m)
{
	return m->ncalls;
}

const struct mock_call *mock_call(struct mock_host *m, size_t i)
{
	if (i >= m->ncalls)
		die("process %zu asked for, but the adapter ran %zu", i, m->ncalls);
	return m->calls[i];
}

const char *mock_call_env(const struct mock_call *c, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; c->env && c->env[i]; i++)
		if (!strncmp(c->env[i], name, len) && c->env[i][len] == '=')
			return c->env[i] + len + 1;
	return NULL;
}

const char *mock_call_arg_after(const struct mock_call *c, const char *flag)
{
	for (size_t i = 1; i + 1 < c->argc; i++)
		if (!strcmp(c->argv[i], flag))
			return c->argv[i + 1];
	return NULL;
}

int mock_call_has_arg(const struct mock_call *c, const char *arg)
{
	for (size_t i = 1; i < c->argc; i++)
		if (!strcmp(c->argv[i], arg))
			return 1;
	return 0;
}

/* ---- services: state, events, private files --------------------------------------------------- */

static int m_state_get(void *hctx, const char *state_id, char **json, char *err, size_t errlen)
{
	struct mock_host *m = hctx;
	(void)err;
	(void)errlen;
	struct named *s = named_find(m->states, m->nstates, state_id);
	*json = s && s->value ? xstrdup(s->value) : NULL;
	return SMELT_OK;
}

static int m_state_put(void *hctx, const char *state_id, const char *json, int partial, char *err, size_t errlen)
{
	struct mock_host *m = hctx;
	if (m->put_fail_msg && m->nputs == m->put_fail_at) {
		m->put_fail_at = (size_t)-1; /* once */
		return set_err(err, errlen, SMELT_ERR, "%s", m->put_fail_msg);
	}
	m->puts = xrealloc(m->puts, (m->nputs + 1) * sizeof *m->puts);
	m->puts[m->nputs++] = (struct mock_state_put){ .id = xstrdup(state_id), .json = xstrdup(json), .partial = partial };
	named_set(&m->states, &m->nstates, state_id, json);
	return SMELT_OK;
}

static void m_event(void *hctx, const struct smelt_event *ev)
{
	struct mock_host *m = hctx;
	if (!ev || ev->struct_size < SMELT_EVENT_V1_0_SIZE)
		die("an event's struct_size is %u, smaller than ABI 1.0's (%zu): the host would ignore it",
		    ev ? ev->struct_size : 0, (size_t)SMELT_EVENT_V1_0_SIZE);
	m->events = xrealloc(m->events, (m->nevents + 1) * sizeof *m->events);
	m->events[m->nevents++] = (struct mock_event){
		.kind = ev->kind,
		.item = xstrdup(ev->item),
		.status = xstrdup(ev->status),
		.message = xstrdup(ev->message),
		.detail_json = xstrdup(ev->detail_json),
		.count = ev->count,
		.seconds = ev->seconds,
	};
}

static int m_write_private(void *hctx, const char *path, const char *data, size_t len, char *err, size_t errlen)
{
	struct mock_host *m = hctx;
	if (!path || path[0] != '/')
		return set_err(err, errlen, SMELT_ERR, "write_private: '%s' is not an absolute path", path ? path : "(null)");
	mkparent(path, 0700);
	write_all(path, data, len, 0600);
	char *copy = xmalloc(len + 1);
	memcpy(copy, data, len);
	m->files = xrealloc(m->files, (m->nfiles + 1) * sizeof *m->files);
	m->files[m->nfiles++] = (struct mock_file){ .path = xstrdup(path), .data = copy, .len = len };
	return SMELT_OK;
}

size_t mock_nevents(struct mock_host *m)
{
	return m->nevents;
}

const struct mock_event *mock_event(struct mock_host *m, size_t i)
{
	if (i >= m->nevents)
		die("event %zu asked for, but the adapter reported %zu", i, m->nevents);
	return &m->events[i];
}

const struct mock_event *mock_event_find(struct mock_host *m, enum smelt_event_kind kind, const char *item)
{
	for (size_t i = 0; i < m->nevents; i++)
		if (m->events[i].kind == kind && (!item || (m->events[i].item && !strcmp(m->events[i].item, item))))
			return &m->events[i];
	return NULL;
}

size_t mock_event_count(struct mock_host *m, enum smelt_event_kind kind, const char *status)
{
	size_t n = 0;
	for (size_t i = 0; i < m->nevents; i++)
		n += m->events[i].kind == kind &&
		     (!status || (m->events[i].status && !strcmp(m->events[i].status, status)));
	return n;
}

size_t mock_nlogs(struct mock_host *m)
{
	return m->nlogs;
}

const struct mock_log *mock_log(struct mock_host *m, size_t i)
{
	if (i >= m->nlogs)
		die("log line %zu asked for, but the adapter logged %zu", i, m->nlogs);
	return &m->logs[i];
}

const struct mock_log *mock_log_find(struct mock_host *m, const char *needle)
{
	for (size_t i = 0; i < m->nlogs; i++)
		if (strstr(m->logs[i].text, needle))
			return &m->logs[i];
	return NULL;
}

size_t mock_nfiles(struct mock_host *m)
{
	return m->nfiles;
}

const struct mock_file *mock_file(struct mock_host *m, size_t i)
{
	if (i >= m->nfiles)
		die("private file %zu asked for, but the adapter wrote %zu", i, m->nfiles);
	return &m->files[i];
}

const struct mock_file *mock_file_find(struct mock_host *m, const char *needle)
{
	for (size_t i = m->nfiles; i-- > 0;)
		if (strstr(m->files[i].path, needle))
			return &m->files[i];
	return NULL;
}

void mock_state_set(struct mock_host *m, const char *id, const char *json)
{
	named_set(&m->states, &m->nstates, id, json);
}

size_t mock_nstate_puts(struct mock_host *m)
{
	return m->nputs;
}

const struct mock_state_put *mock_state_put(struct mock_host *m, size_t i)
{
	if (i >= m->nputs)
		die("state put %zu asked for, but the adapter saved %zu", i, m->nputs);
	return &m->puts[i];
}

void mock_state_put_fail(struct mock_host *m, size_t n, const char *message)
{
	m->put_fail_at = n;
	free(m->put_fail_msg);
	m->put_fail_msg = xstrdup(message);
}

const char *mock_secret_leak(struct mock_host *m, const char *secret)
{
	char *where = NULL;
	for (size_t i = 0; i < m->ncalls && !where; i++)
		if (strstr(m->calls[i]->joined, secret))
			where = xasprintf("argv of process %zu: %s", i, m->calls[i]->joined);
	for (size_t i = 0; i < m->nlogs && !where; i++)
		if (strstr(m->logs[i].text, secret))
			where = xasprintf("log line %zu: %s", i, m->logs[i].text);
	for (size_t i = 0; i < m->nevents && !where; i++) {
		const struct mock_event *e = &m->events[i];
		const char *texts[] = { e->item, e->status, e->message, e->detail_json };
		for (size_t k = 0; k < 4 && !where; k++)
			if (texts[k] && strstr(texts[k], secret))
				where = xasprintf("event %zu: %s", i, texts[k]);
	}
	free(m->leak);
	m->leak = where;
	return where;
}

/* ---- plugins (test side) ---------------------------------------------------------------------- */

struct smelt_plugin *mock_plugin_add(struct mock_host *m, const char *type, const char *name)
{
	if (!type_bit(type))
		die("'%s' is not a plugin type (the plural: extractors, loaders, ...)", type);
	struct smelt_plugin *p = xmalloc(sizeof *p);
	p->m = m;
	named_set(&p->attrs, &p->nattrs, "name", name);
	named_set(&p->attrs, &p->nattrs, "type", type);
	PUSH(m->plugins, m->nplugins, p);
	return p;
}

void mock_plugin_attr(struct smelt_plugin *p, const char *key, const char *value)
{
	named_set(&p->attrs, &p->nattrs, key, value);
}

void mock_plugin_capability(struct smelt_plugin *p, const char *cap)
{
	PUSH(p->caps, p->ncaps, xstrdup(cap));
}

void mock_plugin_setting(struct smelt_plugin *p, const char *name, const char *json, int sensitive)
{
	cJSON_Delete(parse_or_die(json, name));
	named_set(&p->settings, &p->nsettings, name, json)->flag = sensitive;
}

void mock_plugin_config_error(struct smelt_plugin *p, const char *message)
{
	free(p->config_error);
	p->config_error = xstrdup(message);
}

void mock_plugin_command(struct smelt_plugin *p, const char *name, const char *args, const char *executable)
{
	struct named *e = named_find(p->commands, p->ncommands, name);
	if (e) {
		size_t i = (size_t)(e - p->commands);
		free(p->command_exes[i]);
		p->command_exes[i] = xstrdup(executable);
		free(e->value);
		e->value = xstrdup(args);
		return;
	}
	named_set(&p->commands, &p->ncommands, name, args);
	p->command_exes = xrealloc(p->command_exes, p->ncommands * sizeof *p->command_exes);
	p->command_exes[p->ncommands - 1] = xstrdup(executable);
}

void mock_plugin_mapping(struct smelt_plugin *p, const char *name, const char *config_json)
{
	cJSON_Delete(parse_or_die(config_json, name));
	named_set(&p->mappings, &p->nmappings, name, config_json);
}

void mock_plugin_env(struct smelt_plugin *p, const char *name, const char *value)
{
	named_set(&p->env, &p->nenv, name, value);
}

void mock_plugin_path(struct smelt_plugin *p, enum smelt_plugin_path which, const char *path)
{
	if ((int)which < 1 || which > SMELT_PPATH_EXECUTABLE)
		die("no plugin path %d", (int)which);
	free(p->paths[which].value);
	p->paths[which].value = xstrdup(path);
	p->paths[which].flag = 1;
}

const char *mock_plugin_path_of(struct smelt_plugin *p, enum smelt_plugin_path which)
{
	return m_plugin_path(p->m, p, which);
}

const char *mock_plugin_venv(struct smelt_plugin *p, const char *const *programs)
{
	const char *venv = mock_plugin_path_of(p, SMELT_PPATH_VENV);
	if (!venv) {
		char *v = xasprintf("%s/venv", mock_plugin_path_of(p, SMELT_PPATH_INSTALL_DIR));
		mock_plugin_path(p, SMELT_PPATH_VENV, v);
		free(v);
		venv = p->paths[SMELT_PPATH_VENV].value;
	}
	char *bin = xasprintf("%s/bin", venv);
	mkdirs(bin, 0755);
	for (size_t i = 0; programs && programs[i]; i++) {
		char *path = xasprintf("%s/%s", bin, programs[i]);
		mock_make_executable(path);
		free(path);
	}
	free(bin);
	return venv;
}

static void plugin_free(struct smelt_plugin *p)
{
	named_free(p->attrs, p->nattrs);
	for (size_t i = 0; i < p->ncaps; i++)
		free(p->caps[i]);
	free(p->caps);
	named_free(p->settings, p->nsettings);
	free(p->config_error);
	for (size_t i = 0; i < p->ncommands; i++)
		free(p->command_exes[i]);
	free(p->command_exes);
	named_free(p->commands, p->ncommands);
	named_free(p->mappings, p->nmappings);
	named_free(p->env, p->nenv);
	for (size_t i = 0; i <= SMELT_PPATH_EXECUTABLE; i++)
		free(p->paths[i].value);
	free(p);
}

/* ---- requests --------------------------------------------------------------------------------- */

void mock_request_init(struct mock_request *r, enum smelt_request_kind kind, const char *command)
{
	memset(r, 0, sizeof *r);
	r->req.struct_size = sizeof r->req;
	r->req.kind = kind;
	r->req.command = command;
	r->req.plugins = r->plugins;
	r->req.mappings = r->mappings;
	r->req.args = r->args;
}

void mock_request_plugin(struct mock_request *r, const struct smelt_plugin *p, const char *mapping)
{
	if (r->req.nplugins + 1 >= sizeof r->plugins / sizeof r->plugins[0])
		die("too many plugins in a mock request");
	r->mappings[r->req.nplugins] = mapping;
	r->plugins[r->req.nplugins++] = p;
}

void mock_request_arg(struct mock_request *r, const char *arg)
{
	if (r->req.nargs + 1 >= sizeof r->args / sizeof r->args[0])
		die("too many arguments in a mock request");
	r->args[r->req.nargs++] = arg;
	r->args[r->req.nargs] = NULL;
}

/* ---- the host --------------------------------------------------------------------------------- */

static void set_path(struct mock_host *m, enum smelt_path which, const char *path)
{
	free(m->paths[which].value);
	m->paths[which].value = xstrdup(path);
}

struct mock_host *mock_host_new(void)
{
	struct mock_host *m = xmalloc(sizeof *m);
	const char *tmp = getenv("MOCK_HOST_TMP") ? getenv("MOCK_HOST_TMP") : getenv("TMPDIR");
	char *tmpl = xasprintf("%s/smelt-mock.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl))
		die("cannot create a temporary project from '%s': %s", tmpl, strerror(errno));
	m->root = realpath(tmpl, NULL);
	free(tmpl);
	if (!m->root)
		die("realpath: %s", strerror(errno));
	char *s = xasprintf("%s/.smelt", m->root);
	mkdirs(s, 0700);
	set_path(m, SMELT_PATH_PROJECT_ROOT, m->root);
	set_path(m, SMELT_PATH_SYS_DIR, s);
	free(s);
	s = xasprintf("%s/bin/smelt", m->root);
	set_path(m, SMELT_PATH_SMELT_EXE, s);
	free(s);
	s = xasprintf("%s/libexec", m->root);
	set_path(m, SMELT_PATH_LIBEXEC, s);
	free(s);
	m->saved_stdout = -1;
	m->put_fail_at = (size_t)-1;
	m->api = (struct smelt_host_api){
		.abi_version = SMELT_ABI_VERSION,
		.struct_size = sizeof(struct smelt_host_api),
		.alloc = m_alloc,
		.free = m_free,
		.log = m_log,
		.path = m_path,
		.plugin_path = m_plugin_path,
		.environment = m_environment,
		.plugin_attr = m_plugin_attr,
		.plugin_has_capability = m_plugin_has_capability,
		.plugin_find = m_plugin_find,
		.plugin_list = m_plugin_list,
		.plugin_command = m_plugin_command,
		.config_json = m_config_json,
		.mapping_config_json = m_mapping_config_json,
		.setting = m_setting,
		.env_new = m_env_new,
		.env_set = m_env_set,
		.env_get = m_env_get,
		.env_free = m_env_free,
		.run = m_run,
		.pipeline = m_pipeline,
		.state_get = m_state_get,
		.state_put = m_state_put,
		.event = m_event,
		.write_private = m_write_private,
	};
	return m;
}

const struct smelt_host_api *mock_host_api(struct mock_host *m)
{
	return &m->api;
}

void *mock_host_ctx(struct mock_host *m)
{
	return m;
}

const char *mock_root(struct mock_host *m)
{
	return m->root;
}

void mock_set_path(struct mock_host *m, enum smelt_path which, const char *path)
{
	if ((int)which < 1 || which > SMELT_PATH_ADAPTER_DATA)
		die("no path %d", (int)which);
	set_path(m, which, path);
}

void mock_set_environment(struct mock_host *m, const char *name)
{
	free(m->environment);
	m->environment = xstrdup(name);
}

const char *mock_path(struct mock_host *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *rel = xvasprintf(fmt, ap);
	va_end(ap);
	char *abs = xasprintf("%s/%s", m->root, rel);
	free(rel);
	return keep(m, abs);
}

const char *mock_write_file(struct mock_host *m, const char *rel, const char *text)
{
	const char *path = mock_path(m, "%s", rel);
	mkparent(path, 0755);
	write_all(path, text, strlen(text), 0644);
	return path;
}

const struct smelt_adapter *mock_adapter_load(struct mock_host *m, const char *name)
{
	if (m->ad)
		die("one adapter per mock host");
	char *path = strchr(name, '/') ? xstrdup(name) : xasprintf("%s/%s.so", MOCK_ADAPTER_DIR, name);
	m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!m->dl)
		die("cannot load '%s': %s", path, dlerror());
	smelt_entry_fn entry;
	*(void **)&entry = dlsym(m->dl, SMELT_ENTRY_SYMBOL);
	const struct smelt_adapter *ad = entry ? entry() : NULL;
	if (!ad || ad->struct_size < SMELT_ADAPTER_V1_0_SIZE)
		die("'%s' is not an adapter", path);
	if (SMELT_ABI_MAJOR_OF(ad->abi_version) != SMELT_ABI_MAJOR || SMELT_ABI_MINOR_OF(ad->abi_version) > SMELT_ABI_MINOR)
		die("'%s' needs ABI %u.%u, the mock has %u.%u", path, SMELT_ABI_MAJOR_OF(ad->abi_version),
		    SMELT_ABI_MINOR_OF(ad->abi_version), SMELT_ABI_MAJOR, SMELT_ABI_MINOR);
	size_t csize = SMELT_HAS(ad, struct smelt_adapter, command_size) ? ad->command_size : 0;
	if (csize && (csize < SMELT_COMMAND_V1_1_SIZE || csize > sizeof(struct smelt_command)))
		die("'%s' has a command_size of %zu bytes; the host takes %zu to %zu", path, csize,
		    (size_t)SMELT_COMMAND_V1_1_SIZE, sizeof(struct smelt_command));
	if (SMELT_ABI_MINOR_OF(ad->abi_version) >= 2 && ad->commands && !csize)
		die("'%s' (ABI 1.2) has commands but no command_size", path);
	if (!ad->name || !ad->init || !ad->destroy || (!strchr(name, '/') && strcmp(ad->name, name)))
		die("'%s' is named '%s' or lacks init/destroy", path, ad->name ? ad->name : "(null)");
	/* the data folder beside the file, named as the adapter (the host's rule) */
	char *slash = strrchr(path, '/');
	*slash = '\0';
	char *data = xasprintf("%s/%s", path, ad->name);
	set_path(m, SMELT_PATH_ADAPTER_DATA, data);
	free(data);
	free(path);
	char err[SMELT_ERRBUF_SIZE] = "";
	int rc = ad->init(&m->api, m, &m->state, err, sizeof err);
	if (rc != SMELT_OK)
		die("init() of '%s' failed (%d): %s", name, rc, err);
	m->ad = ad;
	return ad;
}

void *mock_adapter_state(struct mock_host *m)
{
	return m->state;
}

/* ---- stdout ----------------------------------------------------------------------------------- */

void mock_stdout_begin(struct mock_host *m)
{
	if (m->saved_stdout >= 0)
		die("stdout is already captured");
	fflush(stdout);
	free(m->stdout_path);
	m->stdout_path = xasprintf("%s/.mock-stdout", m->root);
	int fd = open(m->stdout_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (m->saved_stdout = dup(STDOUT_FILENO)) < 0 || dup2(fd, STDOUT_FILENO) < 0)
		die("cannot capture stdout: %s", strerror(errno));
	close(fd);
}

const char *mock_stdout_end(struct mock_host *m)
{
	if (m->saved_stdout < 0)
		die("stdout is not captured");
	fflush(stdout);
	dup2(m->saved_stdout, STDOUT_FILENO);
	close(m->saved_stdout);
	m->saved_stdout = -1;
	free(m->stdout_text);
	m->stdout_text = mock_read_file(m->stdout_path);
	if (!m->stdout_text)
		die("cannot read the captured stdout");
	return m->stdout_text;
}

/* ---- the end ---------------------------------------------------------------------------------- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void call_free(struct mock_call *c)
{
	free(c->label);
	strv_free(c->argv);
	strv_free(c->env);
	free(c->cwd);
	free(c->joined);
	free(c);
}

static void proc_free(struct mock_proc *pr)
{
	for (size_t i = 0; i < pr->nlines; i++)
		free(pr->lines[i]);
	free(pr->lines);
	named_free(pr->files, pr->nfiles);
	free(pr->status_err);
	free(pr);
}

void mock_host_free(struct mock_host *m)
{
	if (!m)
		return;
	if (m->saved_stdout >= 0)
		mock_stdout_end(m);
	if (m->ad)
		m->ad->destroy(m->state);
	if (m->dl)
		dlclose(m->dl);
	if (m->root && !getenv("MOCK_HOST_KEEP"))
		nftw(m->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);

	for (size_t i = 0; i < m->nplugins; i++)
		plugin_free(m->plugins[i]);
	free(m->plugins);
	for (size_t i = 0; i < m->nprocs; i++)
		proc_free(m->procs[i]);
	free(m->procs);
	for (size_t i = 0; i < m->ncalls; i++)
		call_free(m->calls[i]);
	free(m->calls);
	for (size_t i = 0; i < m->nevents; i++) {
		free(m->events[i].item);
		free(m->events[i].status);
		free(m->events[i].message);
		free(m->events[i].detail_json);
	}
	free(m->events);
	for (size_t i = 0; i < m->nlogs; i++)
		free(m->logs[i].text);
	free(m->logs);
	for (size_t i = 0; i < m->nfiles; i++) {
		free(m->files[i].path);
		free(m->files[i].data);
	}
	free(m->files);
	named_free(m->states, m->nstates);
	for (size_t i = 0; i < m->nputs; i++) {
		free(m->puts[i].id);
		free(m->puts[i].json);
	}
	free(m->puts);
	free(m->put_fail_msg);
	named_free(m->base_env, m->nbase_env);
	for (size_t i = 0; i <= SMELT_PATH_ADAPTER_DATA; i++)
		free(m->paths[i].value);
	for (size_t i = 0; i < m->npool; i++)
		free(m->pool[i]);
	free(m->pool);
	free(m->environment);
	free(m->stdout_path);
	free(m->stdout_text);
	free(m->leak);
	free(m->root);
	free(m);
}

int mock_run_suite(Suite *s)
{
	const char *tmp = getenv("TMPDIR");
	char *base = xasprintf("%s/smelt-mock-run.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(base))
		die("cannot create '%s': %s", base, strerror(errno));
	setenv("MOCK_HOST_TMP", base, 1);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (!getenv("MOCK_HOST_KEEP"))
		nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	unsetenv("MOCK_HOST_TMP");
	free(base);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
