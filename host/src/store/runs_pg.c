/* runs_pg: the run history in PostgreSQL; see runs_pg.h. */
#include "store/runs_pg.h"
#include "store/runs.h"
#include "store/store_pg.h"
#include "util/pq_lazy.h"
#include "util/log.h"
#include "util/proc_owner.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A timestamptz as runs.h prints times; the session is in UTC. */
#define TS(col) "to_char(" col ", 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* Run a statement and drop its result; SMELT_OK or SMELT_ERR with err filled. */
static int run(struct store_pg *g, const char *sql, int n, const char *const *params, char *err, size_t errlen,
               const char *what)
{
	PGresult *r = store_pg_exec(g, sql, n, params, err, errlen, what);
	if (!r)
		return SMELT_ERR;
	store_pg_api(g)->clear(r);
	return SMELT_OK;
}

/* Rows the command of r changed. */
static long changed(struct store_pg *g, PGresult *r)
{
	return strtol(store_pg_api(g)->cmd_tuples(r), NULL, 10);
}

/* The owner's four columns as text parameters (NULL when unknown); bufs hold the numbers. */
static void owner_params(const struct proc_owner *o, const char **p, char pid[32], char start[32])
{
	int known = o && o->pid > 0;
	snprintf(pid, 32, "%ld", known ? o->pid : 0L);
	snprintf(start, 32, "%llu", known ? o->start : 0ULL);
	p[0] = known ? o->host : NULL;
	p[1] = known ? o->host_key : NULL;
	p[2] = known ? pid : NULL;
	p[3] = known ? start : NULL;
}

static char *args_json(const char *const *args, size_t nargs)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < nargs; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(args[i]));
	char *text = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	return text;
}

int runs_pg_begin(struct store_pg *g, const struct runs_start *r, char *err, size_t errlen)
{
	const struct pq_api *pq = store_pg_api(g);
	char *args = args_json(r->args, r->nargs);
	char pid[32], start[32];
	int rc = store_pg_begin(g, err, errlen, "record run");
	if (rc) {
		free(args);
		return rc;
	}
	const char *p1[] = { r->run_id };
	PGresult *q = store_pg_exec(g, "SELECT status FROM smelt.run_history WHERE run_id = $1 FOR UPDATE", 1, p1, err,
	                            errlen, "record run");
	if (!q)
		rc = SMELT_ERR;
	else if (pq->ntuples(q) > 0 && strcmp(pq->getvalue(q, 0, 0), "queued"))
		rc = fail(err, errlen, SMELT_ERR_CONFIG, "run id '%s' was used before; give a new one", r->run_id);
	if (q)
		pq->clear(q);
	if (!rc) {
		const char *p[9] = { r->run_id, r->job, r->trigger ? r->trigger : "cli", args, r->log_path };
		owner_params(r->owner, p + 5, pid, start);
		/* a queued row (the server's) keeps its trigger */
		rc = run(g,
		         "INSERT INTO smelt.run_history (run_id, job, trigger, args, status, log_path, host, host_key, pid, "
		         "pid_start) VALUES ($1, $2, $3, $4, 'running', $5, $6, $7, $8::bigint, $9::bigint) "
		         "ON CONFLICT (run_id) DO UPDATE SET job = $2, args = $4, status = 'running', started_at = now(), "
		         "log_path = $5, host = $6, host_key = $7, pid = $8::bigint, pid_start = $9::bigint",
		         9, p, err, errlen, "record run");
	}
	if (!rc)
		rc = run(g, "DELETE FROM smelt.run_blocks WHERE run_id = $1", 1, p1, err, errlen, "record run");
	for (size_t i = 0; !rc && i < r->nblocks; i++) {
		char idx[32];
		snprintf(idx, sizeof idx, "%zu", i);
		const char *p[] = { r->run_id, idx, r->blocks[i], r->kinds ? r->kinds[i] : "el" };
		rc = run(g,
		         "INSERT INTO smelt.run_blocks (run_id, idx, block, kind, status) "
		         "VALUES ($1, $2::integer, $3, $4, 'pending')",
		         4, p, err, errlen, "record run");
	}
	free(args);
	return store_pg_commit(g, rc, err, errlen);
}

int runs_pg_queue(struct store_pg *g, const char *run_id, const char *trigger, const char *job,
                  const char *const *args, size_t nargs, const struct proc_owner *owner, char *err, size_t errlen)
{
	const struct pq_api *pq = store_pg_api(g);
	char *text = args_json(args, nargs);
	char pid[32], start[32];
	const char *p[8] = { run_id, job, trigger, text };
	owner_params(owner, p + 4, pid, start);
	PGresult *r = store_pg_exec(g,
	                            "INSERT INTO smelt.run_history (run_id, job, trigger, args, status, host, host_key, "
	                            "pid, pid_start) VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7::bigint, $8::bigint) "
	                            "ON CONFLICT (run_id) DO NOTHING",
	                            8, p, err, errlen, "record run");
	free(text);
	if (!r)
		return SMELT_ERR;
	int rc = changed(g, r) > 0
	         ? SMELT_OK
	         : fail(err, errlen, SMELT_ERR_CONFIG, "run id '%s' was used before; give a new one", run_id);
	pq->clear(r);
	return rc;
}

int runs_pg_queued_owner(struct store_pg *g, const char *run_id, const struct proc_owner *owner, char *err,
                         size_t errlen)
{
	char pid[32], start[32];
	const char *p[5] = { run_id };
	owner_params(owner, p + 1, pid, start);
	return run(g,
	           "UPDATE smelt.run_history SET host = $2, host_key = $3, pid = $4::bigint, pid_start = $5::bigint "
	           "WHERE run_id = $1 AND status = 'queued'",
	           5, p, err, errlen, "record run");
}

int runs_pg_block_begin(struct store_pg *g, const char *run_id, size_t idx, char *err, size_t errlen)
{
	char i[32];
	snprintf(i, sizeof i, "%zu", idx);
	const char *p[] = { run_id, i };
	return run(g,
	           "UPDATE smelt.run_blocks SET status = 'running', started_at = now() WHERE run_id = $1 AND "
	           "idx = $2::integer",
	           2, p, err, errlen, "record block");
}

int runs_pg_block_end(struct store_pg *g, const char *run_id, size_t idx, const char *status, double seconds,
                      long long rows, const cJSON *detail, char *err, size_t errlen)
{
	char i[32], secs[64], nrows[32];
	snprintf(i, sizeof i, "%zu", idx);
	snprintf(secs, sizeof secs, "%.17g", seconds);
	snprintf(nrows, sizeof nrows, "%lld", rows);
	char *d = detail ? cJSON_PrintUnformatted(detail) : NULL;
	const char *p[] = { run_id, i, status, secs, rows >= 0 ? nrows : NULL, d };
	int rc = run(g,
	             "UPDATE smelt.run_blocks SET status = $3, duration_s = $4::double precision, rows = $5::bigint, "
	             "detail = $6, started_at = coalesce(started_at, now()) WHERE run_id = $1 AND idx = $2::integer",
	             6, p, err, errlen, "record block");
	free(d);
	return rc;
}

int runs_pg_end(struct store_pg *g, const char *run_id, const char *status, int exit_code, const char *error,
                char *err, size_t errlen)
{
	char code[32];
	snprintf(code, sizeof code, "%d", exit_code);
	const char *p[] = { run_id, status, code, error };
	int rc = store_pg_begin(g, err, errlen, "finish run");
	if (rc)
		return rc;
	/* the first writer wins: only a run still running (or queued) changes */
	PGresult *r = store_pg_exec(g,
	                            "UPDATE smelt.run_history SET status = $2, exit_code = $3::integer, error = $4, "
	                            "ended_at = now(), duration_s = round(extract(epoch FROM now() - started_at)::numeric, "
	                            "3) WHERE run_id = $1 AND status IN ('running', 'queued')",
	                            4, p, err, errlen, "finish run");
	if (!r)
		rc = SMELT_ERR;
	else if (changed(g, r) > 0)
		rc = run(g,
		         "UPDATE smelt.run_blocks SET status = CASE status WHEN 'pending' THEN 'skipped' ELSE $2 END, "
		         "duration_s = coalesce(duration_s, round(extract(epoch FROM now() - started_at)::numeric, 3)) "
		         "WHERE run_id = $1 AND status IN ('pending', 'running')",
		         2, p, err, errlen, "finish run");
	if (r)
		store_pg_api(g)->clear(r);
	return store_pg_commit(g, rc, err, errlen);
}

/* ---- reading ----------------------------------------------------------------------------- */

static void add_text(const struct pq_api *pq, cJSON *o, const char *key, const PGresult *r, int row, int col)
{
	if (pq->getisnull(r, row, col))
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddStringToObject(o, key, pq->getvalue(r, row, col));
}

static void add_number(const struct pq_api *pq, cJSON *o, const char *key, const PGresult *r, int row, int col)
{
	if (pq->getisnull(r, row, col))
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, strtod(pq->getvalue(r, row, col), NULL));
}

#define RUN_COLUMNS                                                                                              \
	"h.run_id, h.job, h.trigger, h.args, h.status, " TS("h.started_at") ", " TS("h.ended_at") ", h.duration_s, " \
	"h.exit_code, h.error, h.log_path, (SELECT count(*) FROM smelt.run_blocks b WHERE b.run_id = h.run_id), "    \
	"(SELECT sum(rows) FROM smelt.run_blocks b WHERE b.run_id = h.run_id)"

/* A run's row as runs.h's runs_list() gives it. */
static cJSON *run_row(const struct pq_api *pq, const PGresult *r, int row)
{
	cJSON *o = cJSON_CreateObject();
	add_text(pq, o, "run_id", r, row, 0);
	add_text(pq, o, "job", r, row, 1);
	add_text(pq, o, "trigger", r, row, 2);
	cJSON *a = pq->getisnull(r, row, 3) ? NULL : cJSON_Parse(pq->getvalue(r, row, 3));
	cJSON_AddItemToObject(o, "args", a ? a : cJSON_CreateArray());
	add_text(pq, o, "status", r, row, 4);
	add_text(pq, o, "started_at", r, row, 5);
	add_text(pq, o, "ended_at", r, row, 6);
	add_number(pq, o, "duration_s", r, row, 7);
	add_number(pq, o, "exit_code", r, row, 8);
	add_text(pq, o, "error", r, row, 9);
	add_text(pq, o, "log_path", r, row, 10);
	cJSON_AddNumberToObject(o, "blocks_total", strtod(pq->getvalue(r, row, 11), NULL));
	add_number(pq, o, "rows", r, row, 12);
	return o;
}

static const char list_where[] = "WHERE ($1::text IS NULL OR h.job = $1) AND ($2::text IS NULL OR h.status = $2) "
                                 "AND ($3::timestamptz IS NULL OR h.started_at >= $3::timestamptz)";

int runs_pg_list(struct store_pg *g, const struct runs_query *q, const char *since, cJSON **out, char *err,
                 size_t errlen)
{
	const struct pq_api *pq = store_pg_api(g);
	char lim[32], off[32];
	snprintf(lim, sizeof lim, "%d", q->limit);
	snprintf(off, sizeof off, "%d", q->offset > 0 ? q->offset : 0);
	const char *p[] = { q->job, q->status, since, q->limit > 0 ? lim : NULL, off };
	*out = NULL;
	char *sql = xasprintf("SELECT " RUN_COLUMNS ", count(*) OVER () FROM smelt.run_history h %s "
	                      "ORDER BY h.started_at DESC, h.seq DESC LIMIT $4::bigint OFFSET $5::bigint",
	                      list_where);
	store_pg_slow(g, 1);
	PGresult *r = store_pg_exec(g, sql, 5, p, err, errlen, "list runs");
	free(sql);
	double total = 0;
	int rc = r ? SMELT_OK : SMELT_ERR;
	/* the total ignores paging: counted apart when the page is empty (an offset past the end) */
	if (r && pq->ntuples(r) > 0) {
		total = strtod(pq->getvalue(r, 0, 13), NULL);
	} else if (r) {
		char *count_sql = xasprintf("SELECT count(*) FROM smelt.run_history h %s", list_where);
		PGresult *c = store_pg_exec(g, count_sql, 3, p, err, errlen, "list runs");
		free(count_sql);
		if (c) {
			total = strtod(pq->getvalue(c, 0, 0), NULL);
			pq->clear(c);
		} else {
			rc = SMELT_ERR;
		}
	}
	store_pg_slow(g, 0);
	if (rc) {
		if (r)
			pq->clear(r);
		return rc;
	}
	cJSON *res = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(res, "runs");
	for (int i = 0, n = pq->ntuples(r); i < n; i++)
		cJSON_AddItemToArray(arr, run_row(pq, r, i));
	cJSON_AddNumberToObject(res, "total", total);
	pq->clear(r);
	*out = res;
	return SMELT_OK;
}

int runs_pg_show(struct store_pg *g, const char *run_id, cJSON **out, char *err, size_t errlen)
{
	const struct pq_api *pq = store_pg_api(g);
	const char *p[] = { run_id };
	*out = NULL;
	PGresult *r = store_pg_exec(g, "SELECT " RUN_COLUMNS " FROM smelt.run_history h WHERE h.run_id = $1", 1, p, err,
	                            errlen, "read run");
	if (!r)
		return SMELT_ERR;
	if (pq->ntuples(r) == 0) {
		pq->clear(r);
		return fail(err, errlen, SMELT_ERR_NOTFOUND, "no run with id '%s'", run_id);
	}
	cJSON *run = run_row(pq, r, 0);
	pq->clear(r);
	/* the lock rows of its EL blocks ("<run id>:<n>") name their state ids */
	r = store_pg_exec(g,
	                  "SELECT b.idx, b.block, b.kind, b.status, " TS("b.started_at") ", b.duration_s, b.rows, b.detail, "
	                  "(SELECT l.state_id FROM smelt.runs l WHERE l.run_id = b.run_id || ':' || (b.idx + 1)) "
	                  "FROM smelt.run_blocks b WHERE b.run_id = $1 ORDER BY b.idx",
	                  1, p, err, errlen, "read run");
	if (!r) {
		cJSON_Delete(run);
		return SMELT_ERR;
	}
	cJSON *blocks = cJSON_AddArrayToObject(run, "blocks");
	for (int i = 0, n = pq->ntuples(r); i < n; i++) {
		cJSON *b = cJSON_CreateObject();
		cJSON_AddNumberToObject(b, "index", strtod(pq->getvalue(r, i, 0), NULL) + 1);
		add_text(pq, b, "block", r, i, 1);
		add_text(pq, b, "kind", r, i, 2);
		add_text(pq, b, "status", r, i, 3);
		add_text(pq, b, "started_at", r, i, 4);
		add_number(pq, b, "duration_s", r, i, 5);
		add_number(pq, b, "rows", r, i, 6);
		add_text(pq, b, "state_id", r, i, 8);
		cJSON *detail = pq->getisnull(r, i, 7) ? NULL : cJSON_Parse(pq->getvalue(r, i, 7));
		cJSON *streams = detail ? cJSON_DetachItemFromObjectCaseSensitive(detail, "streams") : NULL;
		cJSON *results = detail ? cJSON_DetachItemFromObjectCaseSensitive(detail, "results") : NULL;
		cJSON *summary = detail ? cJSON_DetachItemFromObjectCaseSensitive(detail, "summary") : NULL;
		cJSON_AddItemToObject(b, "streams", streams ? streams : cJSON_CreateObject());
		cJSON_AddItemToObject(b, "results", results ? results : cJSON_CreateArray());
		cJSON_AddItemToObject(b, "summary", summary ? summary : cJSON_CreateString(""));
		cJSON_Delete(detail);
		cJSON_AddItemToArray(blocks, b);
	}
	pq->clear(r);
	*out = run;
	return SMELT_OK;
}

/* The owner recorded in columns col..col+3 of row (host, host_key, pid, pid_start). */
static void owner_of(const struct pq_api *pq, const PGresult *r, int row, int col, struct proc_owner *o)
{
	memset(o, 0, sizeof *o);
	snprintf(o->host, sizeof o->host, "%s", pq->getvalue(r, row, col));
	snprintf(o->host_key, sizeof o->host_key, "%s", pq->getvalue(r, row, col + 1));
	o->pid = strtol(pq->getvalue(r, row, col + 2), NULL, 10);
	o->start = strtoull(pq->getvalue(r, row, col + 3), NULL, 10);
}

int runs_pg_status(struct store_pg *g, const char *run_id, char *status, size_t statuslen, struct proc_owner *owner,
                   char *err, size_t errlen)
{
	const struct pq_api *pq = store_pg_api(g);
	const char *p[] = { run_id };
	PGresult *r = store_pg_exec(g,
	                            "SELECT status, host, host_key, pid, pid_start FROM smelt.run_history WHERE run_id = $1",
	                            1, p, err, errlen, "read run");
	if (!r)
		return SMELT_ERR;
	if (pq->ntuples(r) == 0) {
		pq->clear(r);
		return fail(err, errlen, SMELT_ERR_NOTFOUND, "no run with id '%s'", run_id);
	}
	snprintf(status, statuslen, "%s", pq->getvalue(r, 0, 0));
	if (owner)
		owner_of(pq, r, 0, 1, owner);
	pq->clear(r);
	return SMELT_OK;
}

void runs_pg_reap_dead(struct store_pg *g, int (*supervised)(void *arg, const char *run_id), void *arg)
{
	const struct pq_api *pq = store_pg_api(g);
	char err[SMELT_ERRBUF_SIZE];
	PGresult *r = store_pg_exec(g,
	                            "SELECT run_id, host, host_key, pid, pid_start, status FROM smelt.run_history "
	                            "WHERE status IN ('running', 'queued') AND pid IS NOT NULL",
	                            0, NULL, err, sizeof err, "read runs");
	if (!r)
		return;
	/* proc_owner_check() says PROC_GONE only for this host (same boot): other machines' runs are theirs */
	for (int i = 0, n = pq->ntuples(r); i < n; i++) {
		struct proc_owner o;
		owner_of(pq, r, i, 1, &o);
		const char *id = pq->getvalue(r, i, 0);
		if (proc_owner_check(&o) != PROC_GONE || (supervised && supervised(arg, id)))
			continue;
		runs_pg_end(g, id, "failed", -1,
		            !strcmp(pq->getvalue(r, i, 5), "queued")
		                ? "the process that was to run it is gone before the run began; it was likely killed"
		                : "the process running it is gone; it was likely killed",
		            err, sizeof err);
	}
	pq->clear(r);
}

int runs_pg_prune(struct store_pg *g, int keep, const char *before, void (*fn)(void *arg, const char *run_id),
                  void *arg, int *removed, char *err, size_t errlen)
{
	const struct pq_api *pq = store_pg_api(g);
	char k[32];
	snprintf(k, sizeof k, "%d", keep);
	const char *p[] = { k, before };
	*removed = 0;
	store_pg_slow(g, 1);
	int rc = store_pg_begin(g, err, errlen, "prune runs");
	PGresult *r = NULL;
	/* the history's rows and the lock rows of their blocks ("<run id>:<n>"), in one transaction */
	if (!rc && !(r = store_pg_exec(g,
	                               "WITH gone AS (DELETE FROM smelt.run_history WHERE status NOT IN ('running', "
	                               "'queued') AND (($1::integer >= 0 AND run_id NOT IN (SELECT run_id FROM "
	                               "smelt.run_history ORDER BY started_at DESC, seq DESC LIMIT greatest($1::integer, "
	                               "0))) OR ($2::timestamptz IS NOT NULL AND started_at < $2::timestamptz)) "
	                               "RETURNING run_id), "
	                               "locks AS (DELETE FROM smelt.runs l USING gone "
	                               "WHERE starts_with(l.run_id, gone.run_id || ':')) "
	                               "SELECT run_id FROM gone",
	                               2, p, err, errlen, "prune runs")))
		rc = SMELT_ERR;
	rc = store_pg_commit(g, rc, err, errlen);
	store_pg_slow(g, 0);
	if (r) {
		int n = pq->ntuples(r);
		for (int i = 0; !rc && i < n; i++)
			if (fn)
				fn(arg, pq->getvalue(r, i, 0));
		if (!rc)
			*removed = n;
		pq->clear(r);
	}
	return rc;
}
