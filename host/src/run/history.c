/* history: recording a smelt run in the run history; see history.h. */
#include "run/history.h"
#include "project/project.h"
#include "run/blocks.h"
#include "run/execute.h"
#include "run/proc.h"
#include "run/runtime.h"
#include "store/runs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static struct store *history_store(struct runtime *rt)
{
	char err[SMELT_ERRBUF_SIZE];
	if (!rt->run_id)
		return NULL;
	if (rt->history_unavailable)
		return NULL;
	struct store *st = runtime_store(rt, err, sizeof err);
	if (!st) { /* said once per run, not at each block's start and end */
		log_warn("run history: %s", err);
		rt->history_unavailable = 1;
	}
	return st;
}

void history_run_begin(struct runtime *rt, char *const *args, size_t nargs, char *const *words, size_t nwords,
                       const struct block_list *bl)
{
	struct store *st = history_store(rt);
	if (!st)
		return;
	const char **texts = xcalloc(bl->n + 1, sizeof *texts), **kinds = xcalloc(bl->n + 1, sizeof *kinds);
	for (size_t i = 0; i < bl->n; i++) {
		texts[i] = bl->items[i].text;
		kinds[i] = bl->items[i].kind == BLOCK_EL ? "el" : "command";
	}
	char *log = NULL;
	if (rt->run_log_dir) {
		size_t rl = strlen(rt->project->root);
		const char *rel = !strncmp(rt->run_log_dir, rt->project->root, rl) && rt->run_log_dir[rl] == '/'
		                  ? rt->run_log_dir + rl + 1 : rt->run_log_dir;
		log = xasprintf("%s/run.log", rel);
	}
	struct proc_owner me;
	int known = proc_owner_self(&me) == SMELT_OK;
	const char *trigger = getenv("SMELT_RUN_TRIGGER");
	struct runs_start r = {
		.run_id = rt->run_id,
		.job = nwords == 1 && project_find_job(rt->project, words[0]) ? words[0] : NULL,
		.trigger = trigger && *trigger ? trigger : "cli",
		.args = (const char *const *)args,
		.nargs = nargs,
		.blocks = texts,
		.kinds = kinds,
		.nblocks = bl->n,
		.log_path = log,
		.owner = known ? &me : NULL,
	};
	char err[SMELT_ERRBUF_SIZE];
	if (runs_begin(st, &r, err, sizeof err))
		log_warn("run history: %s", err);
	free(log);
	free(texts);
	free(kinds);
}

void history_block_begin(struct runtime *rt, size_t index)
{
	struct store *st = history_store(rt);
	char err[SMELT_ERRBUF_SIZE];
	if (st && runs_block_begin(st, rt->run_id, index, err, sizeof err))
		log_warn("run history: %s", err);
}

/*
 * What the adapters reported for the block: rows per stream (COUNT events
 * on "stream NAME"), and results (RESULT events: item, status, message,
 * seconds, kind = the item's first dotted part when it has one).
 */
static cJSON *block_detail(struct runtime *rt, size_t block, long long *rows)
{
	cJSON *d = cJSON_CreateObject(), *streams = cJSON_AddObjectToObject(d, "streams");
	cJSON *results = cJSON_AddArrayToObject(d, "results");
	*rows = -1;
	for (size_t i = 0; i < rt->nevents; i++) {
		struct rt_event *e = &rt->events[i];
		if (e->block != block)
			continue;
		if (e->kind == SMELT_EV_COUNT && e->item && !strncmp(e->item, "stream ", 7) && e->count >= 0) {
			cJSON_DeleteItemFromObjectCaseSensitive(streams, e->item + 7);
			cJSON_AddNumberToObject(streams, e->item + 7, (double)e->count);
		} else if (e->kind == SMELT_EV_RESULT) {
			cJSON *r = cJSON_CreateObject();
			const char *dot = e->item ? strchr(e->item, '.') : NULL;
			char *kind = dot ? xstrndup(e->item, (size_t)(dot - e->item)) : NULL;
			if (e->item)
				cJSON_AddStringToObject(r, "item", e->item);
			else
				cJSON_AddNullToObject(r, "item");
			if (kind)
				cJSON_AddStringToObject(r, "kind", kind);
			else
				cJSON_AddNullToObject(r, "kind");
			free(kind);
			if (e->status)
				cJSON_AddStringToObject(r, "status", e->status);
			else
				cJSON_AddNullToObject(r, "status");
			if (e->message)
				cJSON_AddStringToObject(r, "message", e->message);
			if (e->seconds >= 0)
				cJSON_AddNumberToObject(r, "seconds", e->seconds);
			if (e->count >= 0)
				cJSON_AddNumberToObject(r, "count", (double)e->count);
			cJSON_AddItemToArray(results, r);
		}
	}
	for (cJSON *s = streams->child; s; s = s->next)
		*rows = (*rows < 0 ? 0 : *rows) + (long long)s->valuedouble;
	struct strbuf sb = STRBUF_INIT;
	runtime_block_result(rt, block, &sb);
	cJSON_AddStringToObject(d, "summary", sb.buf);
	strbuf_release(&sb);
	return d;
}

static const char *run_status(int rc)
{
	if (!rc)
		return "success";
	return execute_cancelled(rc) ? "cancelled" : "failed";
}

void history_block_end(struct runtime *rt, size_t index, int rc, double secs)
{
	struct store *st = history_store(rt);
	if (!st)
		return;
	long long rows;
	cJSON *d = block_detail(rt, index + 1, &rows);
	char err[SMELT_ERRBUF_SIZE];
	if (runs_block_end(st, rt->run_id, index, run_status(rc), secs, rows, d, err, sizeof err))
		log_warn("run history: %s", err);
	cJSON_Delete(d);
}

void history_run_end(struct runtime *rt, int rc, int exit_code, const char *error)
{
	struct store *st = history_store(rt);
	char err[SMELT_ERRBUF_SIZE];
	if (st && runs_end(st, rt->run_id, run_status(rc), exit_code, rc ? error : NULL, err, sizeof err))
		log_warn("run history: %s", err);
}
