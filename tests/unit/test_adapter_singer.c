/*
 * Check suite for the Singer adapter (plugins/singer) under the mock host:
 * the EL pipeline it asks for (argv, private config/catalog/state files),
 * discovery and its cache, the select rules applied to the catalog, the
 * states it saves from the target's lines, its error texts when a stage
 * fails, invoke of plugin commands, and the health check.  No tap runs.
 */
#include "mock_host.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct mock_host *m;
static const struct smelt_adapter *ad;
static char err[SMELT_ERRBUF_SIZE];
static struct smelt_plugin *tap, *target;

/* Two streams as a tap discovers them: keys automatic, other properties available. */
static const char catalog[] =
	"{\"streams\": ["
	" {\"tap_stream_id\": \"orders\", \"stream\": \"orders\", \"schema\": {\"type\": \"object\", \"properties\":"
	"  {\"id\": {\"type\": \"integer\"}, \"total\": {\"type\": \"number\"}}}, \"metadata\": ["
	"  {\"breadcrumb\": [], \"metadata\": {\"inclusion\": \"available\", \"table-key-properties\": [\"id\"]}},"
	"  {\"breadcrumb\": [\"properties\", \"id\"], \"metadata\": {\"inclusion\": \"automatic\"}},"
	"  {\"breadcrumb\": [\"properties\", \"total\"], \"metadata\": {\"inclusion\": \"available\"}}]},"
	" {\"tap_stream_id\": \"customers\", \"stream\": \"customers\", \"schema\": {\"type\": \"object\", \"properties\":"
	"  {\"id\": {\"type\": \"integer\"}, \"email\": {\"type\": \"string\"}}}, \"metadata\": ["
	"  {\"breadcrumb\": [], \"metadata\": {\"inclusion\": \"available\"}},"
	"  {\"breadcrumb\": [\"properties\", \"id\"], \"metadata\": {\"inclusion\": \"automatic\"}},"
	"  {\"breadcrumb\": [\"properties\", \"email\"], \"metadata\": {\"inclusion\": \"unsupported\"}}]}"
	"]}";

static void setup(void)
{
	m = mock_host_new();
	ad = mock_adapter_load(m, "singer");
	err[0] = '\0';
	tap = mock_plugin_add(m, "extractors", "tap-shop");
	mock_plugin_path(tap, SMELT_PPATH_EXECUTABLE, "/venv/tap/bin/tap-shop");
	mock_plugin_capability(tap, "catalog");
	mock_plugin_capability(tap, "discover");
	mock_plugin_capability(tap, "state");
	mock_plugin_setting(tap, "api_url", "\"https://shop.example\"", 0);
	mock_plugin_setting(tap, "api_key", "\"tap-s3cret\"", 1);
	mock_plugin_setting(tap, "_select", "[\"orders.*\"]", 0);
	target = mock_plugin_add(m, "loaders", "target-jsonl");
	mock_plugin_path(target, SMELT_PPATH_EXECUTABLE, "/usr/libexec/smelt/target-jsonl");
	mock_plugin_setting(target, "destination_path", "\"output\"", 0);
}

static void teardown(void)
{
	mock_host_free(m);
}

static void el_request(struct mock_request *r, unsigned flags)
{
	mock_request_init(r, SMELT_REQ_EL, NULL);
	mock_request_plugin(r, tap, NULL);
	mock_request_plugin(r, target, NULL);
	r->req.state_id = "dev:tap-shop-to-target-jsonl";
	r->req.flags = flags;
}

static int run_el(unsigned flags)
{
	struct mock_request r;
	el_request(&r, flags);
	return ad->run_block(mock_adapter_state(m), &r.req, err, sizeof err);
}

/* Discovery prints the catalog over two lines. */
static void expect_discovery(void)
{
	struct mock_proc *pr = mock_expect(m);
	mock_proc_stdout(pr, "{\"streams\": [");
	mock_proc_stdout(pr, strstr(catalog, "[") + 1);
}

/* Stream-level "selected" of stream id in a catalog file; -1 when absent. */
static int selected(const char *path, const char *id)
{
	char *text = mock_read_file(path);
	cJSON *cat = cJSON_Parse(text);
	free(text);
	int sel = -1;
	const cJSON *st, *md;
	cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(cat, "streams"))
	{
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "tap_stream_id")), id))
			continue;
		cJSON_ArrayForEach(md, cJSON_GetObjectItemCaseSensitive(st, "metadata"))
		{
			if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(md, "breadcrumb")) == 0)
				sel = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
					cJSON_GetObjectItemCaseSensitive(md, "metadata"), "selected"));
		}
	}
	cJSON_Delete(cat);
	return sel;
}

START_TEST(el_block_runs_discovery_then_the_pipeline)
{
	mock_state_set(m, "dev:tap-shop-to-target-jsonl", "{\"bookmarks\": {\"orders\": 41}}");
	expect_discovery();
	mock_expect(m); /* the tap */
	struct mock_proc *tgt = mock_expect(m);
	mock_proc_stdout(tgt, "{\"bookmarks\": {\"orders\": 42}}");
	mock_proc_stdout(tgt, "{\"bookmarks\": {\"orders\": 43}}");
	ck_assert_int_eq(run_el(0), SMELT_OK);

	ck_assert_uint_eq(mock_ncalls(m), 3);
	const struct mock_call *disc = mock_call(m, 0), *t = mock_call(m, 1), *g = mock_call(m, 2);
	ck_assert_int_eq(disc->pipeline, 0);
	ck_assert_uint_eq(disc->argc, 4);
	ck_assert_str_eq(disc->argv[0], "/venv/tap/bin/tap-shop");
	ck_assert_str_eq(disc->argv[3], "--discover");
	ck_assert(disc->has_on_line);
	ck_assert_int_eq(t->pipeline, 1);
	ck_assert_int_eq(g->pipeline, 1);
	ck_assert_uint_eq(g->stage, 1);
	ck_assert_str_eq(t->label, "tap-shop");
	ck_assert_str_eq(g->label, "target-jsonl");
	ck_assert(!t->has_on_line);
	ck_assert(g->has_on_line);

	/* tap: --config --catalog --state, each a private file of its run dir */
	ck_assert_uint_eq(t->argc, 7);
	ck_assert_str_eq(t->argv[1], "--config");
	ck_assert_str_eq(t->argv[3], "--catalog");
	ck_assert_str_eq(t->argv[5], "--state");
	const char *run_dir = mock_path(m, ".smelt/run/tap-shop/");
	for (int i = 2; i <= 6; i += 2)
		ck_assert_msg(!strncmp(t->argv[i], run_dir, strlen(run_dir)), "%s not in %s", t->argv[i], run_dir);
	ck_assert_str_eq(disc->argv[2], t->argv[2]);
	const struct mock_file *cfg = mock_file_find(m, t->argv[2]);
	ck_assert_str_eq(cfg->data, "{\"api_url\":\"https://shop.example\",\"api_key\":\"tap-s3cret\"}");
	struct stat st;
	ck_assert_int_eq(stat(t->argv[2], &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_str_eq(mock_file_find(m, t->argv[6])->data, "{\"bookmarks\": {\"orders\": 41}}");
	/* select: orders.* only */
	ck_assert_int_eq(selected(t->argv[4], "orders"), 1);
	ck_assert_int_eq(selected(t->argv[4], "customers"), 0);

	/* target: --config only */
	ck_assert_uint_eq(g->argc, 3);
	ck_assert_str_eq(g->argv[0], "/usr/libexec/smelt/target-jsonl");
	ck_assert_str_eq(mock_file_find(m, g->argv[2])->data, "{\"destination_path\":\"output\"}");

	/* every state line saved, in order, as complete states */
	ck_assert_uint_eq(mock_nstate_puts(m), 2);
	ck_assert_str_eq(mock_state_put(m, 0)->json, "{\"bookmarks\": {\"orders\": 42}}");
	ck_assert_str_eq(mock_state_put(m, 1)->json, "{\"bookmarks\": {\"orders\": 43}}");
	ck_assert_str_eq(mock_state_put(m, 1)->id, "dev:tap-shop-to-target-jsonl");
	ck_assert_int_eq(mock_state_put(m, 1)->partial, 0);
	const struct mock_event *e = mock_event_find(m, SMELT_EV_SUMMARY, "dev:tap-shop-to-target-jsonl");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->status, "success");
	ck_assert_int_eq(e->count, 2);
	ck_assert_str_eq(e->message, "states saved");
	mock_assert_no_leak(m, "tap-s3cret");
}
END_TEST

START_TEST(invalid_state_lines_are_skipped_with_a_warning)
{
	expect_discovery();
	mock_expect(m);
	struct mock_proc *tgt = mock_expect(m);
	mock_proc_stdout(tgt, "{\"bookmarks\": {\"orders\": 1}}");
	mock_proc_stdout(tgt, "{\"bookmarks\": {\"orders\": 2}} trailing");
	mock_proc_stdout(tgt, "[1, 2]");
	ck_assert_int_eq(run_el(SMELT_RQ_STATE_PARTIAL), SMELT_OK);
	ck_assert_uint_eq(mock_nstate_puts(m), 2);
	ck_assert_str_eq(mock_state_put(m, 1)->json, "[1, 2]");
	ck_assert_int_eq(mock_state_put(m, 0)->partial, 1);
	const struct mock_log *l = mock_log_find(m, "target-jsonl: line 2: received state is invalid");
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(l->level, SMELT_LOG_WARN);
	ck_assert_ptr_nonnull(mock_log_find(m, "target-jsonl: line 3: state is not a JSON object (saved as is)"));
	ck_assert_int_eq(mock_event_find(m, SMELT_EV_SUMMARY, NULL)->count, 2);
}
END_TEST

START_TEST(a_state_that_cannot_be_saved_fails_the_run)
{
	expect_discovery();
	mock_expect(m);
	mock_proc_stdout(mock_expect(m), "{\"bookmarks\": {}}");
	mock_state_put_fail(m, 0, "disk full");
	ck_assert_int_eq(run_el(0), SMELT_ERR);
	ck_assert_str_eq(err, "cannot save the state of 'dev:tap-shop-to-target-jsonl': disk full");
}
END_TEST

START_TEST(state_flags)
{
	mock_state_set(m, "dev:tap-shop-to-target-jsonl", "{\"bookmarks\": {}}");
	expect_discovery();
	mock_expect(m);
	mock_proc_stdout(mock_expect(m), "{\"bookmarks\": {\"orders\": 1}}");
	ck_assert_int_eq(run_el(SMELT_RQ_FULL_REFRESH), SMELT_OK);
	ck_assert(!mock_call_has_arg(mock_call(m, 1), "--state")); /* the saved state is ignored... */
	ck_assert_uint_eq(mock_nstate_puts(m), 1);                 /* ...and replaced */
	/* --no-state-update neither reads nor writes */
	mock_expect(m);
	mock_proc_stdout(mock_expect(m), "{\"bookmarks\": {\"orders\": 2}}");
	ck_assert_int_eq(run_el(SMELT_RQ_NO_STATE_UPDATE), SMELT_OK);
	ck_assert_uint_eq(mock_ncalls(m), 5); /* the cached catalog: no discovery */
	ck_assert(!mock_call_has_arg(mock_call(m, 3), "--state"));
	ck_assert_uint_eq(mock_nstate_puts(m), 1);
}
END_TEST

START_TEST(no_state_capability_no_state_argument)
{
	struct smelt_plugin *t2 = mock_plugin_add(m, "extractors", "tap-plain");
	mock_plugin_capability(t2, "properties");
	mock_plugin_capability(t2, "discover");
	tap = t2;
	mock_state_set(m, "dev:tap-shop-to-target-jsonl", "{\"bookmarks\": {}}");
	expect_discovery();
	ck_assert_int_eq(run_el(0), SMELT_OK);
	const struct mock_call *t = mock_call(m, 1);
	ck_assert_str_eq(t->argv[3], "--properties");
	ck_assert(!mock_call_has_arg(t, "--state"));
	ck_assert_ptr_nonnull(mock_log_find(m, "'tap-plain' lacks the 'state' capability: its saved state is not passed"));
}
END_TEST

START_TEST(discovery_is_cached_on_config_and_rules)
{
	expect_discovery();
	ck_assert_int_eq(run_el(0), SMELT_OK);
	ck_assert_uint_eq(mock_ncalls(m), 3);
	ck_assert_int_eq(run_el(0), SMELT_OK);
	ck_assert_uint_eq(mock_ncalls(m), 5); /* no second --discover */
	ck_assert_ptr_nonnull(mock_log_find(m, "using the cached catalog of 'tap-shop'"));
	/* a changed setting is a new key */
	mock_plugin_setting(tap, "api_url", "\"https://other.example\"", 0);
	expect_discovery();
	ck_assert_int_eq(run_el(0), SMELT_OK);
	ck_assert_str_eq(mock_call(m, 5)->argv[3], "--discover");
	/* and --refresh-catalog forces it */
	expect_discovery();
	ck_assert_int_eq(run_el(SMELT_RQ_REFRESH_CATALOG), SMELT_OK);
	ck_assert_str_eq(mock_call(m, 8)->argv[3], "--discover");
}
END_TEST

START_TEST(discovery_errors)
{
	mock_proc_exit(mock_expect(m), 1);
	ck_assert_int_eq(run_el(0), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "Catalog discovery failed: 'tap-shop --discover' exited with 1");
	ck_assert_uint_eq(mock_ncalls(m), 1);
	mock_proc_stdout(mock_expect(m), "{\"streams\": 5}");
	ck_assert_int_eq(run_el(0), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "Invalid catalog from 'tap-shop': not a JSON object with 'streams'");
	/* an invalid catalog is not cached: the next run, without --refresh-catalog, discovers again */
	mock_proc_stdout(mock_expect(m), "not json at all");
	ck_assert_int_eq(run_el(0), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "Invalid catalog from 'tap-shop': not a JSON object with 'streams'");
	ck_assert_uint_eq(mock_ncalls(m), 3); /* no pipeline after a bad catalog */
}
END_TEST

START_TEST(a_catalog_extra_must_be_a_regular_file)
{
	mock_plugin_setting(tap, "_catalog", "\"/dev/zero\"", 0);
	ck_assert_int_eq(run_el(0), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "the catalog '/dev/zero' of 'tap-shop' is not a regular file of at most 64 MiB");
	/* a relative one is the project's, and replaces discovery */
	mock_write_file(m, "extract/shop.catalog.json", catalog);
	mock_plugin_setting(tap, "_catalog", "\"extract/shop.catalog.json\"", 0);
	ck_assert_int_eq(run_el(0), SMELT_OK);
	ck_assert_uint_eq(mock_ncalls(m), 2);
	ck_assert_int_eq(selected(mock_call(m, 0)->argv[4], "orders"), 1);
}
END_TEST

/* The dataset events of the run so far, in order, as one text ("input orders {...}\n..."). */
static char *dataset_events(size_t from)
{
	size_t cap = 1, len = 0;
	char *out = calloc(1, 1);
	for (size_t i = from; i < mock_nevents(m); i++) {
		const struct mock_event *e = mock_event(m, i);
		if (e->kind != SMELT_EV_DATASET)
			continue;
		size_t n = strlen(e->status) + strlen(e->item) + strlen(e->detail_json) + 3;
		out = realloc(out, cap += n);
		len += (size_t)snprintf(out + len, cap - len, "%s %s %s\n", e->status, e->item, e->detail_json);
	}
	return out;
}

/* Run the block once: the catalog the tap got is a prepared one of the plugin's run folder, private (0600). */
static char *run_prepared(void)
{
	ck_assert_int_eq(run_el(0), SMELT_OK);
	char *path = strdup(mock_call(m, 0)->argv[4]);
	const char *run_dir = mock_path(m, ".smelt/run/tap-shop/tap.prepared.");
	ck_assert_msg(!strncmp(path, run_dir, strlen(run_dir)), "%s", path);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	return path;
}

/* A catalog prepared by one run (rules applied) is what the next runs hand the tap, until the catalog or a rule changes. */
START_TEST(a_prepared_catalog_is_kept_until_the_catalog_or_a_rule_changes)
{
	const char *file = mock_write_file(m, "extract/shop.catalog.json", catalog);
	mock_plugin_setting(tap, "_catalog", "\"extract/shop.catalog.json\"", 0);
	char *first = run_prepared();
	ck_assert_int_eq(selected(first, "orders"), 1);
	ck_assert_int_eq(selected(first, "customers"), 0);
	char *events1 = dataset_events(0);
	ck_assert_ptr_nonnull(strstr(events1, "input orders {\"namespace\":\"smelt://tap-shop\",\"fields\":["
	                                      "{\"name\":\"id\",\"type\":\"integer\"},{\"name\":\"total\",\"type\":\"number\"}]"));
	ck_assert_ptr_null(strstr(events1, "customers"));
	ck_assert_ptr_null(mock_log_find(m, "rules applied"));

	/* the next run reuses it, and reports the same datasets */
	size_t ev = mock_nevents(m);
	ck_assert_int_eq(run_el(0), SMELT_OK);
	ck_assert_str_eq(mock_call(m, 2)->argv[4], first);
	ck_assert_ptr_nonnull(mock_log_find(m, "using the cached catalog of 'tap-shop', rules applied"));
	char *events2 = dataset_events(ev);
	ck_assert_str_eq(events2, events1);

	/* a changed rule is another file, with the new selection */
	mock_plugin_setting(tap, "_select", "[\"customers.*\"]", 0);
	ck_assert_int_eq(run_el(0), SMELT_OK);
	const char *third = mock_call(m, 4)->argv[4];
	ck_assert_str_ne(third, first);
	ck_assert_int_eq(selected(third, "orders"), 0);
	ck_assert_int_eq(selected(third, "customers"), 1);

	/* a changed catalog (same rules as the first run) too: the stream it gained is there */
	mock_plugin_setting(tap, "_select", "[\"orders.*\", \"refunds.*\"]", 0);
	ck_assert_int_eq(run_el(0), SMELT_OK);
	char *before = strdup(mock_call(m, 6)->argv[4]);
	const char *was = "\"orders\", \"stream\": \"orders\"", *now = "\"refunds\", \"stream\": \"refunds\"";
	const char *at = strstr(catalog, was);
	char *bigger = malloc(sizeof catalog + strlen(now));
	snprintf(bigger, sizeof catalog + strlen(now), "%.*s%s%s", (int)(at - catalog), catalog, now, at + strlen(was));
	FILE *f = fopen(file, "w");
	fputs(bigger, f);
	fclose(f);
	ck_assert_int_eq(run_el(0), SMELT_OK);
	const char *after = mock_call(m, 8)->argv[4];
	ck_assert_str_ne(after, before);
	ck_assert_int_eq(selected(after, "refunds"), 1);
	ck_assert_int_eq(selected(after, "orders"), -1);

	/* a kept catalog whose datasets went missing is prepared again, never half used */
	char *ds = malloc(strlen(after) + 16);
	strcpy(ds, after);
	strcpy(ds + strlen(ds) - strlen(".json"), ".datasets.json");
	ck_assert_int_eq(unlink(ds), 0);
	size_t logs_ev = mock_nevents(m);
	ck_assert_int_eq(run_el(0), SMELT_OK);
	ck_assert_str_eq(mock_call(m, 10)->argv[4], after);
	ck_assert_int_eq(access(ds, R_OK), 0);
	char *events3 = dataset_events(logs_ev);
	ck_assert_ptr_nonnull(strstr(events3, "input refunds "));
	free(ds);
	free(events3);
	free(before);
	free(bigger);
	free(events1);
	free(events2);
	free(first);
}
END_TEST

/* Kept catalogs no run used for a day are removed when a new one is kept; a used one stays. */
/* A catalog the text reader leaves to cJSON (a schema whose properties are not an object) is kept the same way. */
START_TEST(a_catalog_made_with_cjson_is_kept_too)
{
	static const char odd[] =
		"{\"streams\": ["
		" {\"tap_stream_id\": \"orders\", \"stream\": \"orders\", \"schema\": {\"type\": \"object\", \"properties\":"
		"  {\"id\": {\"type\": \"integer\"}}}, \"metadata\": ["
		"  {\"breadcrumb\": [], \"metadata\": {\"inclusion\": \"available\"}}]},"
		" {\"tap_stream_id\": \"blob\", \"stream\": \"blob\", \"schema\": {\"type\": \"object\", \"properties\": null},"
		"  \"metadata\": [{\"breadcrumb\": [], \"metadata\": {\"inclusion\": \"available\"}}]}"
		"]}";
	mock_write_file(m, "extract/odd.catalog.json", odd);
	mock_plugin_setting(tap, "_catalog", "\"extract/odd.catalog.json\"", 0);
	char *first = run_prepared();
	ck_assert_int_eq(selected(first, "orders"), 1);
	ck_assert_int_eq(selected(first, "blob"), 0);
	/* kept: the next run hands the tap the same file */
	ck_assert_int_eq(run_el(0), SMELT_OK);
	ck_assert_str_eq(mock_call(m, 2)->argv[4], first);
	ck_assert_ptr_nonnull(mock_log_find(m, "using the cached catalog of 'tap-shop', rules applied"));
	free(first);
}
END_TEST

START_TEST(prepared_catalogs_unused_for_a_day_are_swept)
{
	mock_write_file(m, "extract/shop.catalog.json", catalog);
	mock_plugin_setting(tap, "_catalog", "\"extract/shop.catalog.json\"", 0);
	ck_assert_int_eq(run_el(0), SMELT_OK);
	char *kept = strdup(mock_call(m, 0)->argv[4]);
	const char *old = mock_write_file(m, ".smelt/run/tap-shop/tap.prepared.00000000deadbeef.json", "{}");
	const char *other = mock_write_file(m, ".smelt/run/tap-shop/tap.discovered.json", "{}");
	struct timespec two_days[2] = { { time(NULL) - 2 * 24 * 3600, 0 }, { time(NULL) - 2 * 24 * 3600, 0 } };
	ck_assert_int_eq(utimensat(AT_FDCWD, old, two_days, 0), 0);
	ck_assert_int_eq(utimensat(AT_FDCWD, other, two_days, 0), 0);
	ck_assert_int_eq(utimensat(AT_FDCWD, kept, two_days, 0), 0);
	ck_assert_int_eq(run_el(0), SMELT_OK); /* a hit: touches the kept one */
	mock_plugin_setting(tap, "_select", "[\"customers.*\"]", 0);
	ck_assert_int_eq(run_el(0), SMELT_OK); /* a new one is kept: the sweep runs */
	ck_assert_int_eq(access(old, F_OK), -1);
	ck_assert_int_eq(access(kept, F_OK), 0);
	ck_assert_int_eq(access(other, F_OK), 0); /* only the prepared files are swept */
	free(kept);
}
END_TEST

START_TEST(stage_failures_name_the_stage)
{
	expect_discovery();
	mock_proc_exit(mock_expect(m), 1);
	mock_expect(m);
	ck_assert_int_eq(run_el(0), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "Extractor failed: 'tap-shop' (exit code 1)");
	ck_assert_str_eq(mock_event_find(m, SMELT_EV_SUMMARY, NULL)->status, "failed");

	mock_proc_signal(mock_expect(m), 13); /* SIGPIPE: the target ended first */
	mock_proc_exit(mock_expect(m), 2);
	ck_assert_int_eq(run_el(0), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "Loader failed: 'target-jsonl' (exit code 2)");

	mock_proc_exit(mock_expect(m), 3);
	mock_proc_exit(mock_expect(m), 4);
	ck_assert_int_eq(run_el(0), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "Extractor and loader failed: 'tap-shop' (exit code 3), 'target-jsonl' (exit code 4)");

	mock_proc_signal(mock_expect(m), 9);
	mock_expect(m);
	ck_assert_int_eq(run_el(0), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "Extractor failed: 'tap-shop' (killed by signal 9)");
}
END_TEST

START_TEST(mappers_get_their_mapping_config)
{
	struct smelt_plugin *mapper = mock_plugin_add(m, "mappers", "meltano-map-transformer");
	mock_plugin_path(mapper, SMELT_PPATH_EXECUTABLE, "/venv/map/bin/map");
	mock_plugin_setting(mapper, "stream_maps", "{\"orders\": {\"total\": \"__NULL__\"}}", 0);
	mock_plugin_mapping(mapper, "hide-total", "{\"stream_maps\": {\"customers\": {\"id\": \"id\"}}}");
	struct mock_request r;
	mock_request_init(&r, SMELT_REQ_EL, NULL);
	mock_request_plugin(&r, tap, NULL);
	mock_request_plugin(&r, mapper, "hide-total");
	mock_request_plugin(&r, target, NULL);
	expect_discovery();
	mock_expect(m);
	mock_proc_exit(mock_expect(m), 5);
	ck_assert_int_eq(ad->run_block(mock_adapter_state(m), &r.req, err, sizeof err), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "Mappers failed");
	const struct mock_call *mc = mock_call(m, 2);
	ck_assert_uint_eq(mc->stage, 1);
	ck_assert_uint_eq(mc->argc, 3);
	ck_assert_ptr_nonnull(strstr(mc->argv[2], "/mapper."));
	ck_assert_str_eq(mock_file_find(m, mc->argv[2])->data,
	                 "{\"stream_maps\":{\"orders\":{\"total\":\"__NULL__\"},\"customers\":{\"id\":\"id\"}}}");
	/* an unknown mapping is the host's error, passed on */
	r.mappings[1] = "nope";
	ck_assert_int_eq(ad->run_block(mock_adapter_state(m), &r.req, err, sizeof err), SMELT_ERR_NOTFOUND);
	ck_assert_str_eq(err, "mapper 'meltano-map-transformer' has no mapping 'nope'");
}
END_TEST

START_TEST(invoke_runs_a_command_of_the_definition)
{
	mock_plugin_command(tap, "about", "--about --format 'json output'", NULL);
	struct mock_request r;
	mock_request_init(&r, SMELT_REQ_INVOKE, "about");
	mock_request_plugin(&r, tap, NULL);
	mock_request_arg(&r, "--extra");
	mock_proc_exit(mock_expect(m), 7);
	int code = 0;
	ck_assert_int_eq(ad->invoke(mock_adapter_state(m), &r.req, &code, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(code, 7);
	const struct mock_call *c = mock_call(m, 0);
	ck_assert_uint_eq(c->argc, 5);
	ck_assert_str_eq(c->argv[0], "/venv/tap/bin/tap-shop");
	ck_assert_str_eq(c->argv[3], "json output");
	ck_assert_str_eq(c->argv[4], "--extra");
	ck_assert_uint_eq(c->flags, SMELT_SPAWN_INHERIT_STDIO);
	/* a command block fails on a non-zero exit */
	r.req.kind = SMELT_REQ_COMMAND;
	mock_proc_exit(mock_expect(m), 7);
	ck_assert_int_eq(ad->run_block(mock_adapter_state(m), &r.req, err, sizeof err), SMELT_ERR_FAILED);
	ck_assert_str_eq(err, "'tap-shop:about' exited with code 7");
	mock_plugin_command(tap, "broken", "--x 'open", NULL);
	r.req.command = "broken";
	ck_assert_int_eq(ad->run_block(mock_adapter_state(m), &r.req, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "command 'broken' of 'tap-shop' has an unterminated quote");
	r.req.command = "nope";
	ck_assert_int_eq(ad->run_block(mock_adapter_state(m), &r.req, err, sizeof err), SMELT_ERR_NOTFOUND);
	ck_assert_str_eq(err, "plugin 'tap-shop' has no command 'nope' (see 'smelt invoke --list-commands tap-shop')");
	ck_assert_uint_eq(mock_ncalls(m), 2);
}
END_TEST

START_TEST(invoke_a_bare_tap_with_its_catalog)
{
	expect_discovery();
	struct mock_request r;
	mock_request_init(&r, SMELT_REQ_INVOKE, NULL);
	mock_request_plugin(&r, tap, NULL);
	int code = -1;
	ck_assert_int_eq(ad->invoke(mock_adapter_state(m), &r.req, &code, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(code, 0);
	const struct mock_call *c = mock_call(m, 1);
	ck_assert_uint_eq(c->argc, 5);
	ck_assert_str_eq(c->argv[3], "--catalog");
	/* --dump config prints the settings, not the extras */
	r.req.kind = SMELT_REQ_DUMP;
	r.req.dump = "config";
	mock_stdout_begin(m);
	int rc = ad->invoke(mock_adapter_state(m), &r.req, &code, err, sizeof err);
	const char *out = mock_stdout_end(m);
	ck_assert_int_eq(rc, SMELT_OK);
	ck_assert_str_eq(out, "{\n\t\"api_url\":\t\"https://shop.example\",\n\t\"api_key\":\t\"tap-s3cret\"\n}\n");
}
END_TEST

static int check_health(struct smelt_health *out, char *detail, size_t len)
{
	*out = (struct smelt_health){ .struct_size = sizeof *out, .detail = detail, .detail_len = len };
	detail[0] = '\0';
	return ad->check_health(mock_adapter_state(m), out, err, sizeof err);
}

START_TEST(health_checks_the_native_connectors)
{
	ck_assert_ptr_nonnull(ad->check_health);
	ck_assert(SMELT_HAS(ad, struct smelt_adapter, check_health));
	struct smelt_health hc;
	char detail[SMELT_ERRBUF_SIZE];
	ck_assert_int_eq(check_health(&hc, detail, sizeof detail), SMELT_OK); /* the check ran... */
	ck_assert_int_eq(hc.healthy, 0);                                      /* ...and found a gap */
	char want[512];
	snprintf(want, sizeof want, "native connector 'tap-csv' is missing from '%s/libexec': reinstall smelt",
	         mock_root(m));
	ck_assert_str_eq(detail, want);
	mock_make_executable(mock_path(m, "libexec/tap-csv"));
	mock_make_executable(mock_path(m, "libexec/target-sqlite"));
	ck_assert_int_eq(check_health(&hc, detail, sizeof detail), SMELT_OK);
	ck_assert_int_eq(hc.healthy, 0);
	ck_assert_ptr_nonnull(strstr(detail, "'target-jsonl' is missing"));
	mock_make_executable(mock_path(m, "libexec/target-jsonl"));
	ck_assert_int_eq(check_health(&hc, detail, sizeof detail), SMELT_OK);
	ck_assert_int_eq(hc.healthy, 1);
	snprintf(want, sizeof want, "native connectors in '%s/libexec'", mock_root(m));
	ck_assert_str_eq(detail, want);
	/* a host too old to pass detail_len is refused, not written past */
	hc.struct_size = offsetof(struct smelt_health, detail_len);
	ck_assert_int_eq(ad->check_health(mock_adapter_state(m), &hc, err, sizeof err), SMELT_ERR_ABI);
}
END_TEST

/* smelt select TAP --list: the catalog as a run would use it, and every stream's and property's selection. */
START_TEST(select_lists_the_selection_of_the_catalog)
{
	ck_assert_ptr_nonnull(ad->select);
	mock_plugin_setting(tap, "_select", "[\"orders.*\", \"!orders.total\"]", 0);
	expect_discovery();
	struct mock_request r;
	mock_request_init(&r, SMELT_REQ_SELECT, NULL);
	mock_request_plugin(&r, tap, NULL);
	char *json = NULL;
	ck_assert_int_eq(ad->select(mock_adapter_state(m), &r.req, &json, err, sizeof err), SMELT_OK);
	ck_assert_ptr_nonnull(json);
	ck_assert_str_eq(json, "{\"streams\":["
	                       "{\"stream\":\"orders\",\"selection\":\"selected\",\"properties\":["
	                       "{\"name\":\"id\",\"selection\":\"automatic\"},{\"name\":\"total\",\"selection\":\"excluded\"}]},"
	                       "{\"stream\":\"customers\",\"selection\":\"excluded\",\"properties\":["
	                       "{\"name\":\"id\",\"selection\":\"automatic\"},{\"name\":\"email\",\"selection\":\"unsupported\"}]}],"
	                       "\"enabled_patterns\":[\"orders.*\",\"!orders.total\"]}");
	mock_host_api(m)->free(json);
	ck_assert_uint_eq(mock_ncalls(m), 1); /* discovery only: nothing runs the tap */
	ck_assert_str_eq(mock_call(m, 0)->argv[3], "--discover");
	/* the same cache as a run: no second discovery, and the listing kept from the first */
	ck_assert_int_eq(ad->select(mock_adapter_state(m), &r.req, &json, err, sizeof err), SMELT_OK);
	ck_assert_ptr_nonnull(strstr(json, "{\"name\":\"total\",\"selection\":\"excluded\"}"));
	mock_host_api(m)->free(json);
	ck_assert_uint_eq(mock_ncalls(m), 1);
	ck_assert_ptr_nonnull(mock_log_find(m, "using the cached catalog of 'tap-shop', rules applied"));
	/* a changed rule lists the new selection */
	mock_plugin_setting(tap, "_select", "[\"orders.*\"]", 0);
	ck_assert_int_eq(ad->select(mock_adapter_state(m), &r.req, &json, err, sizeof err), SMELT_OK);
	ck_assert_ptr_nonnull(strstr(json, "{\"name\":\"total\",\"selection\":\"selected\"}"));
	ck_assert_ptr_nonnull(strstr(json, "\"enabled_patterns\":[\"orders.*\"]}"));
	mock_host_api(m)->free(json);
	ck_assert_uint_eq(mock_ncalls(m), 1);
	/* a loader has no catalog */
	r.plugins[0] = target;
	ck_assert_int_eq(ad->select(mock_adapter_state(m), &r.req, &json, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "'target-jsonl' is not an extractor: it has no catalog");
	ck_assert_ptr_null(json);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("adapter_singer");
	TCase *tc = tcase_create("singer");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, el_block_runs_discovery_then_the_pipeline);
	tcase_add_test(tc, invalid_state_lines_are_skipped_with_a_warning);
	tcase_add_test(tc, a_state_that_cannot_be_saved_fails_the_run);
	tcase_add_test(tc, state_flags);
	tcase_add_test(tc, no_state_capability_no_state_argument);
	tcase_add_test(tc, discovery_is_cached_on_config_and_rules);
	tcase_add_test(tc, discovery_errors);
	tcase_add_test(tc, a_catalog_extra_must_be_a_regular_file);
	tcase_add_test(tc, a_prepared_catalog_is_kept_until_the_catalog_or_a_rule_changes);
	tcase_add_test(tc, a_catalog_made_with_cjson_is_kept_too);
	tcase_add_test(tc, prepared_catalogs_unused_for_a_day_are_swept);
	tcase_add_test(tc, stage_failures_name_the_stage);
	tcase_add_test(tc, mappers_get_their_mapping_config);
	tcase_add_test(tc, invoke_runs_a_command_of_the_definition);
	tcase_add_test(tc, invoke_a_bare_tap_with_its_catalog);
	tcase_add_test(tc, health_checks_the_native_connectors);
	tcase_add_test(tc, select_lists_the_selection_of_the_catalog);
	suite_add_tcase(s, tc);
	return mock_run_suite(s);
}
