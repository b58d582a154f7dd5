/*
 * results.c - dbt's run_results.json turned into Smelt run events.
 *
 * run_results.json (schema v5/v6 in dbt 1.8-1.12; parsed leniently, only
 * results[].unique_id/status/execution_time/message/failures are read) is
 * written by run, test, build, seed, snapshot, compile and docs generate.
 * Statuses: models success|error|skipped|partial success|no-op|reused,
 * tests pass|fail|warn|error|skipped, freshness pass|warn|error|runtime
 * error.  error, fail and runtime error fail the block; warn does not.
 */
#include "dbt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failing(const char *status)
{
	return status && (!strcmp(status, "error") || !strcmp(status, "fail") || !strcmp(status, "runtime error"));
}

/*
 * The kind of a result for smelt run's table, from its unique id
 * ("model.p.m": model), with its place in the table (kind_order: seeds,
 * snapshots, models, tests, unit tests first, as dbt lists them; the other
 * kinds after, in the order they came): the detail_json of the result
 * event, in buf.  NULL for an id of no kind dbt documents (the host then
 * counts it as a check).
 */
static const char *kind_detail(const char *unique_id, char *buf, size_t len)
{
	static const struct { const char *kind; int order; } kinds[] = {
		{ "seed", 0 }, { "snapshot", 1 }, { "model", 2 }, { "test", 3 }, { "unit_test", 4 },
		{ "source", -1 }, { "analysis", -1 }, { "operation", -1 }, { "exposure", -1 }, { "metric", -1 },
	};
	for (size_t i = 0; unique_id && i < sizeof kinds / sizeof kinds[0]; i++) {
		size_t n = strlen(kinds[i].kind);
		if (strncmp(unique_id, kinds[i].kind, n) || unique_id[n] != '.')
			continue;
		if (kinds[i].order >= 0)
			snprintf(buf, len, "{\"kind\": \"%s\", \"kind_order\": %d}", kinds[i].kind, kinds[i].order);
		else
			snprintf(buf, len, "{\"kind\": \"%s\"}", kinds[i].kind);
		return buf;
	}
	return NULL;
}

/* A message on one line (blank runs, newlines included, become one space), at most max bytes, in buf. */
static const char *one_line(const char *msg, char *buf, size_t max)
{
	size_t k = 0;
	if (!msg)
		return NULL;
	for (const char *c = msg; *c && k + 1 < max; c++) {
		if (*c == ' ' || *c == '\n' || *c == '\t' || *c == '\r') {
			if (k && buf[k - 1] != ' ')
				buf[k++] = ' ';
		} else {
			buf[k++] = *c;
		}
	}
	while (k && buf[k - 1] == ' ')
		k--;
	buf[k] = '\0';
	return k ? buf : NULL;
}

int dbt_results_report(struct dbt *d, const char *label, const char *path, char *err, size_t errlen)
{
	char *text = kit_read_file(path, NULL);
	if (!text)
		return SMELT_ERR_NOTFOUND;
	cJSON *doc = cJSON_Parse(text);
	free(text);
	const cJSON *results = cJSON_GetObjectItemCaseSensitive(doc, "results");
	if (!cJSON_IsArray(results)) {
		cJSON_Delete(doc);
		DBT_LOG(d, SMELT_LOG_WARN, "'%s' has no results list: nothing to report", path);
		return SMELT_ERR_NOTFOUND;
	}
	size_t total = 0, nfail = 0, ok = 0, warned = 0, skipped = 0;
	size_t used = 0, more = 0;
	char list[900] = "";
	const cJSON *r;
	cJSON_ArrayForEach(r, results)
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "unique_id");
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "status");
		const cJSON *secs = cJSON_GetObjectItemCaseSensitive(r, "execution_time");
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(r, "message");
		const cJSON *failures = cJSON_GetObjectItemCaseSensitive(r, "failures");
		const char *item = cJSON_IsString(id) ? id->valuestring : "?";
		const char *status = cJSON_IsString(st) ? st->valuestring : "unknown";
		char line[240];
		const char *message = one_line(cJSON_IsString(msg) ? msg->valuestring : NULL, line, sizeof line);
		char kind[64];
		struct smelt_event ev = {
			.struct_size = sizeof ev,
			.kind = SMELT_EV_RESULT,
			.item = item,
			.status = status,
			.count = cJSON_IsNumber(failures) ? (int64_t)failures->valuedouble : -1,
			.seconds = cJSON_IsNumber(secs) ? secs->valuedouble : -1,
			.message = message,
			.detail_json = kind_detail(item, kind, sizeof kind),
		};
		d->host->event(d->hctx, &ev);
		total++;
		if (failing(status)) {
			/* "model.p.m (error: ...), test.p.t (fail: ...)", then "and N more" */
			char one[320];
			int n = snprintf(one, sizeof one, "%s%s (%s%s%.160s)", nfail ? ", " : "", item, status,
			                 message ? ": " : "", message ? message : "");
			if (n > 0 && used + (size_t)n < sizeof list - 32) {
				memcpy(list + used, one, (size_t)n + 1);
				used += (size_t)n;
			} else {
				more++;
			}
			nfail++;
		} else if (!strcmp(status, "warn")) {
			warned++;
		} else if (!strcmp(status, "skipped")) {
			skipped++;
		} else {
			ok++;
		}
	}
	cJSON_Delete(doc);
	char summary[160];
	snprintf(summary, sizeof summary, "%zu node(s): %zu ok, %zu failed, %zu warned, %zu skipped", total, ok, nfail,
	         warned, skipped);
	struct smelt_event ev = { .struct_size = sizeof ev, .kind = SMELT_EV_SUMMARY, .item = label,
	                          .status = nfail ? "failed" : "success", .count = -1, .seconds = -1,
	                          .message = summary };
	d->host->event(d->hctx, &ev);
	if (!nfail)
		return SMELT_OK;
	if (more)
		snprintf(list + used, sizeof list - used, " and %zu more", more);
	kit_fail(err, errlen, SMELT_ERR_FAILED, "dbt reported %zu failure%s: %s", nfail, nfail == 1 ? "" : "s", list);
	return SMELT_ERR_FAILED;
}
