/* Check suite for host/src/serve/respcache.c: cached answers of smelt serve, valid until the database changes. */
#include "serve/dbpool.h"
#include "serve/respcache.h"
#include "store/runs.h"
#include "store/store.h"

#include <smelt/sdk.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[256];
static struct dbpool *pool;
static struct respcache *cache;
static char err[SMELT_ERRBUF_SIZE];

static void setup(void)
{
	snprintf(path, sizeof path, "/tmp/smelt-test-respcache-%d.db", (int)getpid());
	unlink(path);
	pool = dbpool_new(path);
	struct store *st = dbpool_get(pool, err, sizeof err); /* creates the database */
	ck_assert_ptr_nonnull(st);
	dbpool_put(pool, st);
	cache = respcache_new(pool);
}

static void teardown(void)
{
	respcache_free(cache);
	dbpool_free(pool);
	char f[300];
	unlink(path);
	snprintf(f, sizeof f, "%s-wal", path);
	unlink(f);
	snprintf(f, sizeof f, "%s-shm", path);
	unlink(f);
}

/* A commit by another connection, as a run or the CLI makes. */
static void commit_elsewhere(const char *run_id)
{
	struct store *other;
	ck_assert_int_eq(store_open(path, &other, err, sizeof err), SMELT_OK);
	const char *args[] = { "tap", "target" }, *blocks[] = { "tap target" }, *kinds[] = { "el" };
	struct runs_start r = { .run_id = run_id, .args = args, .nargs = 2, .blocks = blocks, .kinds = kinds,
		                .nblocks = 1, .log_path = "logs/x/run.log" };
	ck_assert_int_eq(runs_begin(other, &r, err, sizeof err), SMELT_OK);
	store_close(other);
}

START_TEST(an_answer_is_served_until_another_connection_commits)
{
	char etag[RESPCACHE_ETAG_SIZE], etag2[RESPCACHE_ETAG_SIZE], *text;
	size_t len;
	long long gen = respcache_generation(cache);
	ck_assert_int_ge(gen, 0);
	ck_assert_int_eq(respcache_get(cache, "runs", gen, &text, &len, etag), -1);
	respcache_put(cache, "runs", gen, "{\"runs\":[]}", 11, etag);
	ck_assert_int_eq(respcache_generation(cache), gen); /* nothing committed: same generation */
	ck_assert_int_eq(respcache_get(cache, "runs", gen, &text, &len, etag2), 0);
	ck_assert_str_eq(text, "{\"runs\":[]}");
	ck_assert_uint_eq(len, 11);
	ck_assert_str_eq(etag2, etag);
	free(text);
	ck_assert_int_eq(respcache_get(cache, "other", gen, &text, &len, etag2), -1);

	commit_elsewhere("r1");
	long long now = respcache_generation(cache);
	ck_assert_int_gt(now, gen);
	ck_assert_int_eq(respcache_get(cache, "runs", now, &text, &len, etag2), -1);
	/* an answer read before the commit cannot replace a newer one */
	respcache_put(cache, "runs", now, "{\"runs\":[1]}", 12, etag2);
	respcache_put(cache, "runs", gen, "{\"runs\":[]}", 11, etag);
	ck_assert_int_eq(respcache_get(cache, "runs", now, &text, &len, etag), 0);
	ck_assert_str_eq(text, "{\"runs\":[1]}");
	free(text);
}
END_TEST

START_TEST(the_least_recently_used_make_room)
{
	char etag[RESPCACHE_ETAG_SIZE], key[32], *text;
	size_t len;
	long long gen = respcache_generation(cache);
	for (int i = 0; i < RESPCACHE_ENTRIES; i++) {
		snprintf(key, sizeof key, "k%d", i);
		respcache_put(cache, key, gen, key, strlen(key), etag);
	}
	ck_assert_int_eq(respcache_get(cache, "k0", gen, &text, &len, etag), 0); /* k0 used again: k1 is oldest */
	free(text);
	respcache_put(cache, "new", gen, "new", 3, etag);
	ck_assert_int_eq(respcache_get(cache, "k1", gen, &text, &len, etag), -1);
	ck_assert_int_eq(respcache_get(cache, "k0", gen, &text, &len, etag), 0);
	free(text);
	ck_assert_int_eq(respcache_get(cache, "new", gen, &text, &len, etag), 0);
	free(text);
	/* an answer over a quarter of the budget is not kept, but gets its tag */
	size_t big = RESPCACHE_BYTES / 4 + 1;
	char *huge = calloc(1, big);
	memset(huge, 'x', big);
	etag[0] = 0;
	respcache_put(cache, "huge", gen, huge, big, etag);
	ck_assert_int_eq((int)strlen(etag), RESPCACHE_ETAG_SIZE - 1);
	ck_assert_int_eq(respcache_get(cache, "huge", gen, &text, &len, etag), -1);
	free(huge);
}
END_TEST

START_TEST(etags_are_hashes_of_the_bytes_and_match_as_http_says)
{
	char a[RESPCACHE_ETAG_SIZE], b[RESPCACHE_ETAG_SIZE], c[RESPCACHE_ETAG_SIZE];
	respcache_etag("{\"a\":1}", 7, a);
	respcache_etag("{\"a\":1}", 7, b);
	respcache_etag("{\"a\":2}", 7, c);
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	ck_assert_int_eq(a[0], '"');
	ck_assert_int_eq(a[RESPCACHE_ETAG_SIZE - 2], '"');
	char list[64], weak[32];
	snprintf(list, sizeof list, "\"x\", %s", a);
	snprintf(weak, sizeof weak, "W/%s", a);
	ck_assert(respcache_etag_matches(a, a));
	ck_assert(respcache_etag_matches(list, a));
	ck_assert(respcache_etag_matches(weak, a));
	ck_assert(respcache_etag_matches("*", a));
	ck_assert(!respcache_etag_matches(NULL, a));
	ck_assert(!respcache_etag_matches("", a));
	ck_assert(!respcache_etag_matches(c, a));
	ck_assert(!respcache_etag_matches("\"x\", \"y\"", a));
	ck_assert(!respcache_etag_matches("\"unterminated", a));
	char prefix[32]; /* a tag that only starts like ours is another tag */
	snprintf(prefix, sizeof prefix, "%.*s\"", RESPCACHE_ETAG_SIZE - 3, a);
	ck_assert(!respcache_etag_matches(prefix, a));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("respcache");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, an_answer_is_served_until_another_connection_commits);
	tcase_add_test(tc, the_least_recently_used_make_room);
	tcase_add_test(tc, etags_are_hashes_of_the_bytes_and_match_as_http_says);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
