/* Check suite for host/src/run/runfiles: manifests of private files, the sweep of dead owners' files. */
#include "run/proc.h"
#include "run/runfiles.h"
#include "util/fs.h"
#include "util/strbuf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char sys_dir[256], outside[256];

static void setup(void)
{
	snprintf(sys_dir, sizeof sys_dir, "/tmp/smelt-test-runfiles-%d/.smelt", (int)getpid());
	snprintf(outside, sizeof outside, "/tmp/smelt-test-runfiles-%d/outside", (int)getpid());
	char *root = path_dirname(sys_dir);
	remove_tree(root);
	free(root);
	ck_assert_int_eq(mkdir_p(sys_dir, 0700), 0);
	ck_assert_int_eq(mkdir_p(outside, 0700), 0);
}

static void teardown(void)
{
	runfiles_release();
	char *root = path_dirname(sys_dir);
	remove_tree(root);
	free(root);
}

/* Register, then write a file (as the host's write_private does). */
static void put(const char *rel)
{
	char *path = xasprintf("%s/run/%s", sys_dir, rel);
	char *dir = path_dirname(path);
	ck_assert_int_eq(mkdir_p(dir, 0700), 0);
	ck_assert_int_eq(runfiles_register(sys_dir, path), 0);
	ck_assert_int_eq(write_file_atomic(path, "secret", 6, 0600), 0);
	free(dir);
	free(path);
}

static int exists(const char *rel)
{
	char *path = xasprintf("%s/run/%s", sys_dir, rel);
	int r = access(path, F_OK) == 0;
	free(path);
	return r;
}

START_TEST(sweeps_a_dead_owner_and_keeps_a_live_one)
{
	put("tap-x/tap.mine.config.json");
	pid_t c = fork();
	if (c == 0) { /* a smelt killed before its cleanup (it inherits no manifest through fork) */
		put("tap-x/tap.dead.config.json");
		put("target-y/target.dead.config.json");
		/* killed in the middle of writing the next one (write_file_atomic's temporary name) */
		char *path = xasprintf("%s/run/tap-x/state.json", sys_dir), *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
		ck_assert_int_eq(runfiles_register(sys_dir, path), 0);
		ck_assert_int_eq(write_file_atomic(tmp, "{}", 2, 0600), 0);
		_exit(0);
	}
	int status;
	waitpid(c, &status, 0);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert(exists("tap-x/tap.dead.config.json") && exists("target-y/target.dead.config.json"));
	ck_assert_int_eq(runfiles_sweep(sys_dir), 3);
	ck_assert(!exists("tap-x/tap.dead.config.json") && !exists("target-y/target.dead.config.json"));
	char *tmp = xasprintf("tap-x/state.json.tmp.%d", (int)c);
	ck_assert(!exists(tmp));
	free(tmp);
	ck_assert(exists("tap-x/tap.mine.config.json")); /* this process lives */
	ck_assert_int_eq(runfiles_sweep(sys_dir), 0);    /* its manifest went with its files */
}
END_TEST

START_TEST(a_manifest_cannot_reach_outside)
{
	/* a dead owner's manifest that lists a path with '..' and one through a symlink */
	char *secret = xasprintf("%s/keep", outside);
	ck_assert_int_eq(write_file_atomic(secret, "x", 1, 0600), 0);
	char *owners = xasprintf("%s/run/.owners", sys_dir), *link = xasprintf("%s/run/evil", sys_dir);
	ck_assert_int_eq(mkdir_p(owners, 0700), 0);
	ck_assert_int_eq(symlink(outside, link), 0);
	struct proc_owner me;
	ck_assert_int_eq(proc_owner_self(&me), SMELT_OK);
	char *m = xasprintf("%s/1-1", owners);
	char *text = xasprintf("%s\t%s\t%ld\t%llu\n../../outside/keep\nevil/keep\n", me.host, me.host_key, me.pid,
	                       me.start + 1);
	ck_assert_int_eq(write_file_atomic(m, text, strlen(text), 0600), 0);
	ck_assert_int_eq(runfiles_sweep(sys_dir), 0);
	ck_assert_int_eq(access(secret, F_OK), 0);
	ck_assert_int_ne(access(m, F_OK), 0); /* the dead owner's manifest is gone */
	free(secret), free(owners), free(link), free(m), free(text);
}
END_TEST

START_TEST(refuses_paths_outside_the_run_folder)
{
	char *p = xasprintf("%s/elsewhere/x.json", sys_dir);
	ck_assert_int_eq(runfiles_register(sys_dir, p), -1);
	free(p);
	p = xasprintf("%s/run/a/../../x.json", sys_dir);
	ck_assert_int_eq(runfiles_register(sys_dir, p), -1);
	free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("runfiles");
	TCase *tc = tcase_create("sweep");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, sweeps_a_dead_owner_and_keeps_a_live_one);
	tcase_add_test(tc, a_manifest_cannot_reach_outside);
	tcase_add_test(tc, refuses_paths_outside_the_run_folder);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
