/*
 * test_lineage - OpenLineage events (run/lineage.h) through the file
 * transport: the datasets adapters report (merged per dataset, entries of
 * the wrong shape left out, a detail that is not JSON still naming its
 * dataset), row counts from the stream counts, run ids (a run id that is
 * no UUID gets a stable one, each block its own), the end event types,
 * and what turns lineage off.  tests/e2e/test_lineage.py validates the
 * events against the OpenLineage JSON Schema.
 */
#include "project/project.h"
#include "run/lineage.h"
#include "run/runtime.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmp[PATH_MAX];
static struct project *proj;
static struct runtime rt;

static void load_project(const char *dotenv)
{
	char err[512];
	char *f = path_join(tmp, "smelt.yml"), *e = path_join(tmp, ".env");
	const char *yml = "default_environment: dev\nenvironments: [{name: dev}]\n";
	write_file_atomic(f, yml, strlen(yml), 0644);
	write_file_atomic(e, dotenv, strlen(dotenv), 0600);
	project_free(proj);
	proj = NULL;
	ck_assert_msg(project_load(tmp, f, NULL, &proj, err, sizeof err) == 0, "load: %s", err);
	rt.project = proj;
	free(f);
	free(e);
}

static void setup(void)
{
	snprintf(tmp, sizeof tmp, "/tmp/smelt-test-lineage-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	static const char *const vars[] = { "OPENLINEAGE_URL", "OPENLINEAGE_DISABLED", "OPENLINEAGE_NAMESPACE",
		                            "OPENLINEAGE_API_KEY", "OPENLINEAGE_ENDPOINT", "SMELT_LINEAGE_ENABLED",
		                            "MELTANO_LINEAGE_ENABLED", "SMELT_SYS_DIR_ROOT", "MELTANO_SYS_DIR_ROOT",
		                            NULL };
	for (int i = 0; vars[i]; i++)
		unsetenv(vars[i]);
	log_set_level(LOG_LEVEL_DISABLED);
	memset(&rt, 0, sizeof rt);
	rt.run_id = "run-1";
	load_project("");
}

static void teardown(void)
{
	for (size_t i = 0; i < rt.nevents; i++) {
		free(rt.events[i].item);
		free(rt.events[i].status);
		free(rt.events[i].detail);
	}
	free(rt.events);
	project_free(proj);
	proj = NULL;
	remove_tree(tmp);
}

/* An event as h_event() keeps it. */
static void add_event(enum smelt_event_kind kind, size_t block, const char *item, const char *status, int64_t count,
                      const char *detail)
{
	rt.events = realloc(rt.events, (rt.nevents + 1) * sizeof *rt.events);
	rt.events[rt.nevents++] = (struct rt_event){ .kind = kind, .block = block, .count = count, .seconds = -1,
		                                     .item = item ? strdup(item) : NULL,
		                                     .status = status ? strdup(status) : NULL,
		                                     .detail = detail ? strdup(detail) : NULL };
}

/* The events of .smelt/lineage/<run id>.jsonl, as a JSON array. */
static cJSON *events_of(const char *run_id)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	strbuf_addf(&path, "%s/.smelt/lineage/%s.jsonl", tmp, run_id);
	ck_assert_msg(read_file(path.buf, &text) == 0, "cannot read %s", path.buf);
	cJSON *all = cJSON_CreateArray();
	char *save = NULL;
	for (char *line = strtok_r(text.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *ev = cJSON_Parse(line);
		ck_assert_msg(ev != NULL, "not JSON: %s", line);
		cJSON_AddItemToArray(all, ev);
	}
	strbuf_release(&path);
	strbuf_release(&text);
	return all;
}

/* One whole run of nblocks blocks, each ending with rcs[i]; the run ends with the last rc. */
static cJSON *run(size_t nblocks, const int *rcs)
{
	struct lineage *l = lineage_open(&rt, "the job");
	ck_assert_ptr_nonnull(l);
	lineage_run_start(l);
	int rc = 0;
	for (size_t i = 0; i < nblocks; i++) {
		char name[16];
		snprintf(name, sizeof name, "block%zu", i + 1);
		lineage_block_start(l, i, name);
		rc = rcs ? rcs[i] : 0;
		lineage_block_end(l, &rt, i, rc, rc ? "it broke" : NULL);
	}
	lineage_run_end(l, rc, rc ? "it broke" : NULL);
	lineage_free(l);
	return events_of(rt.run_id);
}

static const cJSON *get(const cJSON *o, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", path);
	char *save = NULL;
	for (char *k = strtok_r(buf, "/", &save); k && o; k = strtok_r(NULL, "/", &save))
		o = cJSON_IsArray(o) ? cJSON_GetArrayItem(o, atoi(k)) : cJSON_GetObjectItemCaseSensitive(o, k);
	return o;
}

static const char *str(const cJSON *o, const char *path)
{
	return cJSON_GetStringValue(get(o, path));
}

START_TEST(datasets_merge_and_bad_entries_are_left_out)
{
	/* block 1: an output twice (the second schema is ignored), fields of the wrong shape */
	add_event(SMELT_EV_DATASET, 1, "t", "output", -1,
	          "{\"namespace\":\"smelt://w\",\"fields\":[{\"name\":\"a\",\"type\":\"integer\"},{\"name\":5},"
	          "{\"type\":\"x\"},{\"name\":\"b\",\"type\":7,\"description\":\"bee\"}],\"rows\":7}");
	add_event(SMELT_EV_DATASET, 1, "t", "output", -1, "{\"namespace\":\"smelt://w\",\"fields\":[{\"name\":\"z\"}]}");
	/* an input checked twice: the valid assertions of both, in order */
	add_event(SMELT_EV_DATASET, 1, "src", "input", -1,
	          "{\"assertions\":[{\"assertion\":\"not_null\",\"success\":true,\"column\":\"a\"},"
	          "{\"assertion\":3,\"success\":true},{\"assertion\":\"x\",\"success\":\"yes\"}]}");
	add_event(SMELT_EV_DATASET, 1, "src", "input", -1, "{\"assertions\":[{\"assertion\":\"unique\",\"success\":false}]}");
	/* not JSON: the dataset is still named, without facets; bad direction, no name, other block: ignored */
	add_event(SMELT_EV_DATASET, 1, "raw", "input", -1, "{not json");
	add_event(SMELT_EV_DATASET, 1, "nowhere", "sideways", -1, "{}");
	add_event(SMELT_EV_DATASET, 1, NULL, "input", -1, "{}");
	add_event(SMELT_EV_DATASET, 2, "later", "input", -1, "{}");
	/* rows of an output from its stream's counts */
	add_event(SMELT_EV_COUNT, 1, "stream s", NULL, 3, NULL);
	add_event(SMELT_EV_COUNT, 1, "stream s", NULL, 2, NULL);
	add_event(SMELT_EV_DATASET, 1, "u", "output", -1, "{\"stream\":\"s\"}");
	cJSON *evs = run(1, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(evs), 4);
	const cJSON *done = cJSON_GetArrayItem(evs, 2);
	ck_assert_str_eq(str(done, "eventType"), "COMPLETE");
	ck_assert_int_eq(cJSON_GetArraySize(get(done, "outputs")), 2);
	ck_assert_int_eq(cJSON_GetArraySize(get(done, "inputs")), 2);
	const cJSON *t = get(done, "outputs/0");
	ck_assert_str_eq(str(t, "namespace"), "smelt://w");
	ck_assert_str_eq(str(t, "name"), "t");
	char *fields = cJSON_PrintUnformatted(get(t, "facets/schema/fields"));
	ck_assert_str_eq(fields, "[{\"name\":\"a\",\"type\":\"integer\"},{\"name\":\"b\",\"description\":\"bee\"}]");
	free(fields);
	ck_assert_int_eq((int)get(t, "outputFacets/outputStatistics/rowCount")->valuedouble, 7);
	const cJSON *u = get(done, "outputs/1");
	ck_assert_str_eq(str(u, "name"), "u");
	ck_assert_str_eq(str(u, "namespace"), strrchr(tmp, '/') + 1); /* none given: the jobs' namespace */
	ck_assert_int_eq((int)get(u, "outputFacets/outputStatistics/rowCount")->valuedouble, 5);
	const cJSON *src = get(done, "inputs/0");
	char *as = cJSON_PrintUnformatted(get(src, "inputFacets/dataQualityAssertions/assertions"));
	ck_assert_str_eq(as, "[{\"assertion\":\"not_null\",\"success\":true,\"column\":\"a\"},"
	                     "{\"assertion\":\"unique\",\"success\":false}]");
	free(as);
	const cJSON *raw = get(done, "inputs/1");
	ck_assert_str_eq(str(raw, "name"), "raw");
	ck_assert_int_eq(cJSON_GetArraySize(get(raw, "facets")), 0);
	ck_assert_ptr_null(get(raw, "inputFacets"));
	cJSON_Delete(evs);
}
END_TEST

START_TEST(run_ids_and_job_names)
{
	cJSON *evs = run(2, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(evs), 6);
	const char *run_uuid = str(evs, "0/run/runId");
	ck_assert_int_eq((int)strlen(run_uuid), 36);
	ck_assert_int_eq(run_uuid[14], '8'); /* a name-based UUID (version 8) of a run id that is no UUID */
	ck_assert_str_eq(str(evs, "5/run/runId"), run_uuid);
	ck_assert_str_eq(str(evs, "1/run/runId"), str(evs, "2/run/runId"));
	ck_assert_str_ne(str(evs, "1/run/runId"), run_uuid);
	ck_assert_str_ne(str(evs, "1/run/runId"), str(evs, "3/run/runId"));
	ck_assert_str_eq(str(evs, "1/run/facets/parent/run/runId"), run_uuid);
	ck_assert_str_eq(str(evs, "1/run/facets/parent/job/name"), "the job");
	ck_assert_str_eq(str(evs, "0/job/name"), "the job");
	ck_assert_str_eq(str(evs, "3/job/name"), "the job.block2");
	/* the namespace: the project folder's name */
	ck_assert_str_eq(str(evs, "0/job/namespace"), strrchr(tmp, '/') + 1);
	char first[37];
	snprintf(first, sizeof first, "%s", run_uuid);
	cJSON_Delete(evs);
	/* the same run id of the same project gives the same ids (a file of its own: appended to) */
	cJSON *again = run(2, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(again), 12);
	ck_assert_str_eq(str(again, "6/run/runId"), first);
	cJSON_Delete(again);
	/* a UUID run id is the runId, in lower case */
	rt.run_id = "0D28C666-AC9F-4ADE-A0C5-40E49D9A58B6";
	setenv("OPENLINEAGE_NAMESPACE", "team", 1);
	cJSON *u = run(1, NULL);
	ck_assert_str_eq(str(u, "0/run/runId"), "0d28c666-ac9f-4ade-a0c5-40e49d9a58b6");
	ck_assert_str_eq(str(u, "0/job/namespace"), "team");
	cJSON_Delete(u);
}
END_TEST

START_TEST(end_types)
{
	int fail[] = { SMELT_ERR_FAILED };
	cJSON *evs = run(1, fail);
	ck_assert_str_eq(str(evs, "2/eventType"), "FAIL");
	ck_assert_str_eq(str(evs, "3/eventType"), "FAIL");
	ck_assert_str_eq(str(evs, "2/run/facets/errorMessage/message"), "it broke");
	ck_assert_str_eq(str(evs, "2/run/facets/errorMessage/programmingLanguage"), "C");
	ck_assert_ptr_null(get(evs, "0/run/facets/errorMessage"));
	cJSON_Delete(evs);
	rt.run_id = "run-2";
	int stop[] = { 0, SMELT_ERR_INTERRUPTED };
	evs = run(2, stop);
	ck_assert_str_eq(str(evs, "2/eventType"), "COMPLETE");
	ck_assert_str_eq(str(evs, "4/eventType"), "ABORT");
	ck_assert_str_eq(str(evs, "5/eventType"), "ABORT");
	cJSON_Delete(evs);
	/* a secret smelt knows of is scrubbed from the error, as on the terminal */
	log_add_secret("sekrit-value-123");
	struct lineage *l = lineage_open(&rt, "j");
	lineage_run_start(l);
	lineage_run_end(l, SMELT_ERR, "cannot connect with password sekrit-value-123");
	lineage_free(l);
	evs = events_of(rt.run_id);
	ck_assert_str_eq(str(evs, "7/run/facets/errorMessage/message"), "cannot connect with password *****");
	cJSON_Delete(evs);
}
END_TEST

START_TEST(what_turns_it_off)
{
	setenv("OPENLINEAGE_DISABLED", "TRUE", 1);
	ck_assert_ptr_null(lineage_open(&rt, "j"));
	setenv("OPENLINEAGE_DISABLED", "false", 1);
	struct lineage *l = lineage_open(&rt, "j");
	ck_assert_ptr_nonnull(l);
	lineage_free(l);
	unsetenv("OPENLINEAGE_DISABLED");
	load_project("OPENLINEAGE_DISABLED=true\n"); /* the project's .env counts too */
	ck_assert_ptr_null(lineage_open(&rt, "j"));
	load_project("");
	setenv("SMELT_LINEAGE_ENABLED", "false", 1);
	ck_assert_ptr_null(lineage_open(&rt, "j"));
	unsetenv("SMELT_LINEAGE_ENABLED");
	/* every call accepts NULL */
	lineage_run_start(NULL);
	lineage_block_start(NULL, 0, "b");
	lineage_block_end(NULL, &rt, 0, 0, NULL);
	lineage_run_end(NULL, 0, NULL);
	lineage_free(NULL);
	char *dir = path_join(tmp, ".smelt/lineage");
	ck_assert(!dir_exists(dir));
	free(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("lineage");
	struct { const char *name; const TTest *t; } cases[] = {
		{ "datasets", datasets_merge_and_bad_entries_are_left_out },
		{ "ids", run_ids_and_job_names },
		{ "end_types", end_types },
		{ "off", what_turns_it_off },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		TCase *t = tcase_create(cases[i].name);
		tcase_add_checked_fixture(t, setup, teardown);
		_tcase_add_test(t, cases[i].t, 0, 0, 0, 1);
		suite_add_tcase(s, t);
	}
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
