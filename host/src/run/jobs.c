/* jobs: tasks, schedules' blocks and plugins, the schedule export; see jobs.h. */
#include "run/jobs.h"
#include "project/project.h"
#include "project/yaml_doc.h"
#include "run/blocks.h"
#include "run/cron.h"
#include "util/argv.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <stdlib.h>
#include <string.h>

/* A task string's words, split at blanks as the project loader splits them. */
static void add_words(char ***words, size_t *n, const char *s)
{
	const char *p = s;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p)
			break;
		const char *b = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
		char *w = xstrndup(b, (size_t)(p - b));
		argv_push(words, n, w);
		free(w);
	}
}

static int blank(const char *s)
{
	for (; s && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

int jobs_parse_tasks(const char *text, cJSON **tasks, char *err, size_t errlen)
{
	struct ydoc *doc = NULL;
	char perr[512];
	*tasks = NULL;
	if (blank(text))
		return fail(err, errlen, SMELT_ERR_CONFIG, "--tasks is empty: give a run-block string or a list of them");
	if (ydoc_parse(text, strlen(text), "--tasks", &doc, perr, sizeof perr) != 0)
		return fail(err, errlen, SMELT_ERR_CONFIG, "cannot parse the tasks: %s", perr);
	cJSON *v = doc->root ? ynode_to_json(doc->root) : NULL;
	ydoc_free(doc);
	const char *shape = "tasks must be a string or a list of strings and/or lists of strings";
	if (cJSON_IsString(v)) {
		if (blank(v->valuestring)) {
			cJSON_Delete(v);
			return fail(err, errlen, SMELT_ERR_CONFIG, "--tasks is empty: give a run-block string or a list of them");
		}
	} else if (cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0) {
		for (const cJSON *c = v->child; c; c = c->next) {
			if (cJSON_IsString(c) && !blank(c->valuestring))
				continue;
			if (!cJSON_IsArray(c) || !c->child) {
				cJSON_Delete(v);
				return fail(err, errlen, SMELT_ERR_CONFIG, "%s", shape);
			}
			for (const cJSON *w = c->child; w; w = w->next)
				if (!cJSON_IsString(w) || blank(w->valuestring)) {
					cJSON_Delete(v);
					return fail(err, errlen, SMELT_ERR_CONFIG, "%s", shape);
				}
		}
	} else {
		cJSON_Delete(v);
		return fail(err, errlen, SMELT_ERR_CONFIG, "%s", shape);
	}
	*tasks = v;
	return 0;
}

/* The words of one task (a string, or a list of strings). */
static void task_words(const cJSON *task, char ***words, size_t *n)
{
	if (cJSON_IsString(task)) {
		add_words(words, n, task->valuestring);
		return;
	}
	for (const cJSON *w = task ? task->child : NULL; w; w = w->next)
		if (cJSON_IsString(w))
			add_words(words, n, w->valuestring);
}

int jobs_validate_tasks(struct project *p, const char *job_name, const cJSON *tasks, char *err, size_t errlen)
{
	const cJSON *one[1] = { tasks };
	size_t count = cJSON_IsString(tasks) ? 1 : (size_t)cJSON_GetArraySize(tasks);
	const cJSON *task = cJSON_IsString(tasks) ? one[0] : tasks->child;
	for (size_t i = 0; i < count && task; i++, task = task->next) {
		char **words = NULL;
		size_t n = 0;
		task_words(task, &words, &n);
		struct block_list bl;
		char berr[512];
		int rc = blocks_parse(p, words, n, &bl, berr, sizeof berr);
		argv_free(words);
		if (rc)
			return fail(err, errlen, SMELT_ERR_CONFIG, "job '%s' has invalid tasks: task %zu: %s", job_name, i + 1,
			            berr);
		blocks_release(&bl);
	}
	return 0;
}

/* The first transformer of the project (elt schedules with a transform). */
static struct plugin *first_transformer(struct project *p)
{
	for (size_t i = 0; i < p->nplugins; i++)
		if (p->plugins[i]->type == PLUGIN_TRANSFORMERS)
			return p->plugins[i];
	return NULL;
}

int schedule_run_args(struct project *p, const struct schedule *s, char ***args, size_t *n, char *err,
                      size_t errlen)
{
	*args = NULL;
	*n = 0;
	if (s->job) {
		argv_push(args, n, s->job);
		return 0;
	}
	const char *t = s->transform ? s->transform : "skip";
	if (strcmp(t, "only")) {
		argv_push(args, n, s->extractor);
		argv_push(args, n, s->loader);
	}
	if (!strcmp(t, "run") || !strcmp(t, "only")) {
		struct plugin *tr = first_transformer(p);
		if (!tr) {
			argv_free(*args);
			*args = NULL;
			*n = 0;
			return fail(err, errlen, SMELT_ERR_CONFIG,
			            "schedule '%s' has transform '%s' but the project has no transformer plugin", s->name, t);
		}
		char *b = xasprintf("%s:run", tr->name);
		argv_push(args, n, b);
		free(b);
	}
	return 0;
}

/* Parse a schedule's run args into blocks. */
static int parse_schedule(struct project *p, const struct schedule *s, struct block_list *bl, char *err,
                          size_t errlen)
{
	char **args;
	size_t n;
	char berr[512];
	int rc = schedule_run_args(p, s, &args, &n, err, errlen);
	if (rc)
		return rc;
	if (s->job && !project_find_job(p, s->job)) {
		argv_free(args);
		return fail(err, errlen, SMELT_ERR_CONFIG, "schedule '%s' runs job '%s', which is not defined", s->name,
		            s->job);
	}
	rc = blocks_parse(p, args, n, bl, berr, sizeof berr);
	argv_free(args);
	if (rc)
		return fail(err, errlen, SMELT_ERR_CONFIG, "schedule '%s': %s", s->name, berr);
	return 0;
}

int schedule_blocks(struct project *p, const struct schedule *s, char ***blocks, size_t *n, char *err,
                    size_t errlen)
{
	struct block_list bl;
	*blocks = NULL;
	*n = 0;
	int rc = parse_schedule(p, s, &bl, err, errlen);
	if (rc)
		return rc;
	for (size_t i = 0; i < bl.n; i++)
		argv_push(blocks, n, bl.items[i].text);
	blocks_release(&bl);
	if (!*blocks)
		*blocks = xcalloc(1, sizeof **blocks);
	return 0;
}

static void push_unique(char ***names, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*names)[i], name))
			return;
	argv_push(names, n, name);
}

int schedule_plugins(struct project *p, const char *schedule, char ***names, size_t *n, char *err,
                     size_t errlen)
{
	*names = NULL;
	*n = 0;
	const struct schedule *s = project_find_schedule(p, schedule);
	if (!s)
		return fail(err, errlen, SMELT_ERR_NOTFOUND, "schedule '%s' is not in %s", schedule, p->file_name);
	struct block_list bl;
	int rc = parse_schedule(p, s, &bl, err, errlen);
	if (rc)
		return rc;
	for (size_t i = 0; i < bl.n; i++)
		for (size_t k = 0; k < bl.items[i].nplugins; k++) {
			struct plugin *pl = bl.items[i].plugins[k];
			if (pl->parent)
				push_unique(names, n, pl->parent->name);
			push_unique(names, n, pl->name);
		}
	blocks_release(&bl);
	if (!*names)
		*names = xcalloc(1, sizeof **names);
	return 0;
}

/* The environment a schedule runs in: its env's SMELT_/MELTANO_ENVIRONMENT, else the active one. */
static const char *schedule_environment(const struct project *p, const struct schedule *s)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(s->env, "SMELT_ENVIRONMENT");
	if (!cJSON_IsString(e))
		e = cJSON_GetObjectItemCaseSensitive(s->env, "MELTANO_ENVIRONMENT");
	if (cJSON_IsString(e) && *e->valuestring)
		return e->valuestring;
	return p->active ? p->active->name : NULL;
}

static cJSON *string_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

cJSON *schedule_to_json(struct project *p, const struct schedule *s, time_t now)
{
	cJSON *o = cJSON_CreateObject();
	const char *cron = s->cron ? s->cron : cron_expression(s->interval);
	cJSON_AddItemToObject(o, "name", cJSON_CreateString(s->name));
	if (s->job) {
		cJSON_AddItemToObject(o, "interval", string_or_null(s->interval));
		cJSON_AddItemToObject(o, "cron_interval", string_or_null(cron));
		cJSON_AddItemToObject(o, "env", cJSON_Duplicate(s->env, 1));
		cJSON *job = cJSON_AddObjectToObject(o, "job");
		struct job *j = project_find_job(p, s->job);
		cJSON_AddItemToObject(job, "name", cJSON_CreateString(s->job));
		cJSON_AddItemToObject(job, "tasks", j ? cJSON_Duplicate(j->tasks, 1) : cJSON_CreateArray());
	} else {
		const char *t = s->transform ? s->transform : "skip";
		cJSON_AddItemToObject(o, "extractor", string_or_null(s->extractor));
		cJSON_AddItemToObject(o, "loader", string_or_null(s->loader));
		cJSON_AddItemToObject(o, "transform", cJSON_CreateString(t));
		cJSON_AddItemToObject(o, "interval", string_or_null(s->interval));
		cJSON_AddItemToObject(o, "start_date", cJSON_CreateNull());
		cJSON_AddItemToObject(o, "env", cJSON_Duplicate(s->env, 1));
		cJSON_AddItemToObject(o, "cron_interval", string_or_null(cron));
		cJSON_AddItemToObject(o, "last_successful_run_ended_at", cJSON_CreateNull());
		cJSON *ea = cJSON_AddArrayToObject(o, "elt_args");
		cJSON_AddItemToArray(ea, cJSON_CreateString(s->extractor ? s->extractor : ""));
		cJSON_AddItemToArray(ea, cJSON_CreateString(s->loader ? s->loader : ""));
		char *x = xasprintf("--transform=%s", t);
		cJSON_AddItemToArray(ea, cJSON_CreateString(x));
		free(x);
		x = xasprintf("--state-id=%s", s->name);
		cJSON_AddItemToArray(ea, cJSON_CreateString(x));
		free(x);
	}
	/* Smelt's additions. */
	cJSON_AddItemToObject(o, "environment", string_or_null(schedule_environment(p, s)));
	const cJSON *raw = NULL, *all = cJSON_GetObjectItemCaseSensitive(p->doc, "schedules");
	for (const cJSON *c = cJSON_IsArray(all) ? all->child : NULL; c && !raw; c = c->next) {
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, "name");
		if (cJSON_IsString(nm) && !strcmp(nm->valuestring, s->name))
			raw = c;
	}
	const cJSON *ann = cJSON_GetObjectItemCaseSensitive(raw, "annotations");
	if (cJSON_IsObject(ann))
		cJSON_AddItemToObject(o, "annotations", cJSON_Duplicate(ann, 1));
	struct cron c;
	char cerr[256], when[32];
	time_t next;
	int rc = cron ? cron_parse(cron, &c, cerr, sizeof cerr) : 1;
	if (rc == 0 && cron_next(&c, now, &next) == 0) {
		cron_format_utc(next, when, sizeof when);
		cJSON_AddItemToObject(o, "next_run_at", cJSON_CreateString(when));
	} else {
		cJSON_AddItemToObject(o, "next_run_at", cJSON_CreateNull());
		if (rc < 0)
			cJSON_AddItemToObject(o, "interval_error", cJSON_CreateString(cerr));
	}
	char **args = NULL, **blocks = NULL;
	size_t n;
	char err[1024];
	cJSON *ra = cJSON_AddArrayToObject(o, "run_args");
	if (schedule_run_args(p, s, &args, &n, err, sizeof err) == 0)
		for (size_t i = 0; i < n; i++)
			cJSON_AddItemToArray(ra, cJSON_CreateString(args[i]));
	argv_free(args);
	if (schedule_blocks(p, s, &blocks, &n, err, sizeof err) == 0) {
		cJSON *ba = cJSON_AddArrayToObject(o, "blocks");
		for (size_t i = 0; i < n; i++)
			cJSON_AddItemToArray(ba, cJSON_CreateString(blocks[i]));
	} else {
		cJSON_AddItemToObject(o, "block_error", cJSON_CreateString(err));
	}
	argv_free(blocks);
	return o;
}
