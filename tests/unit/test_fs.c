/*
 * Check suite for host/src/util/fs.c (paths that cannot leave a folder)
 * and host/src/util/names.c (the name check).  The beneath tests run
 * twice: with openat2 and with the component-by-component fallback.
 */
#include "util/fs.h"
#include "util/names.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char top[256];     /* a temporary folder holding base/ and outside/ */
static char base[300];    /* the confined folder */
static char outside[300]; /* a sentinel folder beside it */
static int bfd = -1;      /* base, opened */

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static char *at(const char *dir, const char *rel)
{
	static char buf[4][600];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", dir, rel);
	return buf[i];
}

static void setup_common(void)
{
	snprintf(top, sizeof top, "/tmp/smelt-test-fs-%d-XXXXXX", (int)getpid());
	ck_assert_ptr_nonnull(mkdtemp(top));
	snprintf(base, sizeof base, "%s/base", top);
	snprintf(outside, sizeof outside, "%s/outside", top);
	ck_assert_int_eq(mkdir(base, 0755), 0);
	ck_assert_int_eq(mkdir(outside, 0755), 0);
	put(at(outside, "sentinel"), "keep me");
	ck_assert_int_eq(mkdir(at(outside, "dir"), 0755), 0);
	put(at(outside, "dir/inner"), "keep me too");
	/* base/sub/file, base/up -> ../outside, base/sub/uplink -> ../../outside/dir, base/in -> sub */
	ck_assert_int_eq(mkdir(at(base, "sub"), 0755), 0);
	put(at(base, "sub/file"), "inside");
	ck_assert_int_eq(symlink("../outside", at(base, "up")), 0);
	ck_assert_int_eq(symlink("../../outside/dir", at(base, "sub/uplink")), 0);
	ck_assert_int_eq(symlink("sub", at(base, "in")), 0);
	ck_assert_int_eq(symlink("/etc/passwd", at(base, "abs")), 0);
	bfd = open(base, O_PATH | O_DIRECTORY);
	ck_assert_int_ge(bfd, 0);
}

static void setup_openat2(void)
{
	fs_beneath_force_fallback(0);
	setup_common();
}

static void setup_fallback(void)
{
	fs_beneath_force_fallback(1);
	setup_common();
}

static void teardown(void)
{
	close(bfd);
	fs_beneath_force_fallback(0);
	remove_tree(top);
}

static void assert_outside_intact(void)
{
	struct strbuf sb = STRBUF_INIT;
	ck_assert_int_eq(read_file(at(outside, "sentinel"), &sb), 0);
	ck_assert_str_eq(sb.buf, "keep me");
	strbuf_reset(&sb);
	ck_assert_int_eq(read_file(at(outside, "dir/inner"), &sb), 0);
	ck_assert_str_eq(sb.buf, "keep me too");
	strbuf_release(&sb);
	ck_assert_int_eq(access(at(outside, "evil"), F_OK), -1);
	ck_assert_int_eq(access(at(top, "evil"), F_OK), -1);
}

/* ---- resolution ---------------------------------------------------------- */

START_TEST(opens_plain_paths)
{
	int fd = fs_open_beneath(bfd, "sub/file", O_RDONLY, 0);
	ck_assert_int_ge(fd, 0);
	char buf[16] = "";
	ck_assert_int_eq(read(fd, buf, sizeof buf - 1), 6);
	ck_assert_str_eq(buf, "inside");
	close(fd);
	fd = fs_open_beneath(bfd, "./sub//file", O_RDONLY, 0);
	ck_assert_int_ge(fd, 0);
	close(fd);
	fd = fs_open_beneath(bfd, "", O_PATH | O_DIRECTORY, 0);
	ck_assert_int_ge(fd, 0);
	close(fd);
}
END_TEST

START_TEST(refuses_dotdot_components)
{
	errno = 0;
	ck_assert_int_eq(fs_open_beneath(bfd, "../outside/sentinel", O_RDONLY, 0), -1);
	ck_assert_int_eq(errno, EXDEV);
	/* '..' that would come back inside is refused as well: nothing climbs */
	ck_assert_int_eq(fs_open_beneath(bfd, "sub/../sub/file", O_RDONLY, 0), -1);
	ck_assert_int_eq(errno, EXDEV);
	ck_assert_int_eq(fs_open_beneath(bfd, "/etc/passwd", O_RDONLY, 0), -1);
	ck_assert_int_eq(errno, EXDEV);
	ck_assert_int_eq(fs_open_beneath(bfd, "sub/../../evil", O_WRONLY | O_CREAT, 0600), -1);
	ck_assert_int_eq(fs_write_beneath(bfd, "../evil", "x", 1, 0600, 0700), -1);
	ck_assert_int_eq(errno, EXDEV);
	ck_assert_int_eq(fs_mkdirs_beneath(bfd, "a/../../evil", 0700), -1);
	ck_assert_int_eq(fs_remove_tree_beneath(bfd, "../outside"), -1);
	ck_assert_int_eq(errno, EXDEV);
	/* names that merely start with dots are names */
	ck_assert_int_eq(fs_write_beneath(bfd, "..x/...", "y", 1, 0600, 0700), 0);
	ck_assert_int_eq(access(at(base, "..x/..."), F_OK), 0);
	assert_outside_intact();
}
END_TEST

START_TEST(refuses_symlinks_anywhere)
{
	errno = 0;
	ck_assert_int_eq(fs_open_beneath(bfd, "up/sentinel", O_RDONLY, 0), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_int_eq(fs_open_beneath(bfd, "abs", O_RDONLY, 0), -1);
	ck_assert_int_eq(errno, ELOOP);
	/* even a link that stays inside is not followed */
	ck_assert_int_eq(fs_open_beneath(bfd, "in/file", O_RDONLY, 0), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_int_eq(fs_open_beneath(bfd, "up", O_PATH | O_DIRECTORY, 0), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_int_eq(fs_write_beneath(bfd, "up/evil", "x", 1, 0600, 0700), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_int_eq(fs_mkdirs_beneath(bfd, "sub/uplink/evil", 0700), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_int_eq(fs_open_beneath(bfd, "up/evil", O_WRONLY | O_CREAT, 0600), -1);
	ck_assert_int_eq(fs_unlink_beneath(bfd, "up/sentinel"), -1);
	ck_assert_int_eq(errno, ELOOP);
	assert_outside_intact();
}
END_TEST

START_TEST(write_replaces_a_link_instead_of_following_it)
{
	ck_assert_int_eq(fs_write_beneath(bfd, "abs", "mine", 4, 0600, 0700), 0);
	struct stat st;
	ck_assert_int_eq(lstat(at(base, "abs"), &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(fs_write_beneath(bfd, "new/deeper/config.json", "{}", 2, 0600, 0700), 0);
	ck_assert_int_eq(stat(at(base, "new/deeper"), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	struct strbuf sb = STRBUF_INIT;
	ck_assert_int_eq(read_file(at(base, "new/deeper/config.json"), &sb), 0);
	ck_assert_str_eq(sb.buf, "{}");
	strbuf_release(&sb);
	assert_outside_intact();
}
END_TEST

START_TEST(remove_tree_does_not_follow_links)
{
	/* a tree holding links out: the links go, their targets stay */
	ck_assert_int_eq(mkdir(at(base, "tree"), 0755), 0);
	ck_assert_int_eq(mkdir(at(base, "tree/venv"), 0755), 0);
	put(at(base, "tree/venv/f"), "x");
	ck_assert_int_eq(symlink("../../../outside", at(base, "tree/venv/lib")), 0);
	ck_assert_int_eq(symlink(outside, at(base, "tree/abs")), 0);
	ck_assert_int_eq(fs_remove_tree_beneath(bfd, "tree"), 0);
	ck_assert_int_eq(access(at(base, "tree"), F_OK), -1);
	/* a link as the tree itself: the link is removed */
	ck_assert_int_eq(fs_remove_tree_beneath(bfd, "up"), 0);
	ck_assert_int_eq(access(at(base, "up"), F_OK), -1);
	/* a link on the way: refused */
	ck_assert_int_eq(fs_remove_tree_beneath(bfd, "sub/uplink/inner"), -1);
	ck_assert_int_eq(errno, ELOOP);
	/* missing: success; the folder itself: refused */
	ck_assert_int_eq(fs_remove_tree_beneath(bfd, "nothing/here"), 0);
	ck_assert_int_eq(fs_remove_tree_beneath(bfd, ""), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(fs_remove_tree_beneath(bfd, "."), -1);
	assert_outside_intact();
}
END_TEST

START_TEST(under_forms_take_absolute_paths_inside_only)
{
	ck_assert_str_eq(path_beneath("/a/b", "/a/b/c/d"), "c/d");
	ck_assert_str_eq(path_beneath("/a/b/", "/a/b//c"), "c");
	ck_assert_str_eq(path_beneath("/a/b", "/a/b"), "");
	ck_assert_str_eq(path_beneath("/a/b", "rel/x"), "rel/x");
	ck_assert_ptr_null(path_beneath("/a/b", "/a/bc/d"));
	ck_assert_ptr_null(path_beneath("/a/b", "/a"));
	ck_assert_int_eq(fs_write_under(base, at(base, "run/x/config.json"), "{}", 2, 0600, 0700), 0);
	ck_assert_int_eq(access(at(base, "run/x/config.json"), F_OK), 0);
	ck_assert_int_eq(fs_write_under(base, at(base, "run/../../evil"), "{}", 2, 0600, 0700), -1);
	ck_assert_int_eq(errno, EXDEV);
	ck_assert_int_eq(fs_write_under(base, at(top, "evil"), "{}", 2, 0600, 0700), -1);
	ck_assert_int_eq(errno, EXDEV);
	ck_assert_int_eq(fs_mkdirs_under(base, "logs/run-1", 0700), 0);
	ck_assert_int_eq(fs_mkdirs_under(base, "up/evil", 0700), -1);
	ck_assert_int_eq(fs_unlink_under(base, at(base, "run/x/config.json")), 0);
	ck_assert_int_eq(fs_remove_tree_under(base, at(base, "run")), 0);
	ck_assert_int_eq(fs_remove_tree_under(base, outside), -1);
	ck_assert_int_eq(errno, EXDEV);
	ck_assert_int_eq(fs_remove_tree_under(base, at(base, "up/dir")), -1);
	ck_assert_str_eq(fs_beneath_strerror(EXDEV), "the path leads outside its folder");
	assert_outside_intact();
}
END_TEST

/* ---- names ------------------------------------------------------------- */

START_TEST(names_accept_real_names)
{
	char err[SMELT_ERRBUF_SIZE];
	static const char *const ok[] = { "tap-csv", "target-jsonl", "tap-github--org", "dbt_postgres", "airflow",
	                                  "my.plugin", "..x", "Tap CSV (sales)", "tap-ünïcode", "a", NULL };
	for (int i = 0; ok[i]; i++)
		ck_assert_msg(name_check("plugin", ok[i], err, sizeof err) == 0, "%s: %s", ok[i], err);
	char longest[NAME_MAX_LEN + 2];
	memset(longest, 'a', NAME_MAX_LEN);
	longest[NAME_MAX_LEN] = '\0';
	ck_assert_int_eq(name_check("job", longest, err, sizeof err), 0);
	longest[NAME_MAX_LEN] = 'a';
	longest[NAME_MAX_LEN + 1] = '\0';
	ck_assert_int_eq(name_check("job", longest, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "is longer than 128 bytes"));
}
END_TEST

START_TEST(names_refuse_paths)
{
	char err[SMELT_ERRBUF_SIZE];
	ck_assert_int_eq(name_check("plugin", "../../../x", err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "plugin name '../../../x' may not contain '/'");
	ck_assert_int_eq(name_check("environment", "..", err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "environment name '..' is not a usable name");
	ck_assert_int_eq(name_check("plugin", ".", err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_int_eq(name_check("schedule", "a\\b", err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_int_eq(name_check("plugin", "", err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "plugin name is empty");
	ck_assert_int_eq(name_check("plugin", NULL, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_int_eq(name_check("job", "a\nb\x1b[2J", err, sizeof err), SMELT_ERR_CONFIG);
	/* the control bytes are shown, not sent to the terminal */
	ck_assert_str_eq(err, "job name 'a\\x0ab\\x1b[2J' may not contain control characters");
	ck_assert_int_eq(name_check("variant", "/abs", err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "variant name '/abs' may not contain '/'");
}
END_TEST

START_TEST(run_ids)
{
	char err[SMELT_ERRBUF_SIZE];
	ck_assert_int_eq(name_check_run_id("5f0c2f7e-8d4b-4b8e-9a55-0b7f6a1c2d3e", err, sizeof err), 0);
	ck_assert_int_eq(name_check_run_id("nightly-2026.12.06_1", err, sizeof err), 0);
	char id[80];
	memset(id, 'a', 64);
	id[64] = '\0';
	ck_assert_int_eq(name_check_run_id(id, err, sizeof err), 0);
	id[64] = 'b';
	id[65] = '\0';
	ck_assert_int_eq(name_check_run_id(id, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "is 65 bytes long; a run id is a UUID, or up to 64 letters"));
	ck_assert_int_eq(name_check_run_id("../../x", err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "run id '../../x' does not start with a letter or a digit"));
	ck_assert_int_eq(name_check_run_id("a/../../x", err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "run id 'a/../../x' may not contain '/'"));
	ck_assert_int_eq(name_check_run_id("a:1", err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "may not contain ':'"));
	ck_assert_int_eq(name_check_run_id("a b", err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "may not contain '\\x20'"));
	ck_assert_int_eq(name_check_run_id("", err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_int_eq(name_check_run_id("-x", err, sizeof err), SMELT_ERR_CONFIG);
}
END_TEST

START_TEST(quote_cuts_long_values)
{
	char out[300], v[200];
	memset(v, 'x', sizeof v - 1);
	v[sizeof v - 1] = '\0';
	name_quote(v, out, sizeof out);
	ck_assert_uint_eq(strlen(out), 64 + 3);
	ck_assert_str_eq(out + 64, "...");
	char small[8];
	name_quote("abcdefghij", small, sizeof small);
	ck_assert_str_eq(small, "abcd...");
}
END_TEST

START_TEST(atomic_write_ignores_a_planted_temporary_link)
{
	/* a link planted at the temporary name write_file_atomic uses must not be written through */
	char tmpname[700];
	snprintf(tmpname, sizeof tmpname, "%s.tmp.%ld", at(base, "smelt.yml"), (long)getpid());
	ck_assert_int_eq(symlink(at(outside, "sentinel"), tmpname), 0);
	ck_assert_int_eq(write_file_atomic(at(base, "smelt.yml"), "plugins: {}\n", 12, 0644), 0);
	struct strbuf sb = STRBUF_INIT;
	ck_assert_int_eq(read_file(at(base, "smelt.yml"), &sb), 0);
	ck_assert_str_eq(sb.buf, "plugins: {}\n");
	strbuf_release(&sb);
	ck_assert_int_eq(access(tmpname, F_OK), -1);
	assert_outside_intact();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fs");
	const struct {
		const char *name;
		void (*setup)(void);
	} modes[] = { { "beneath-openat2", setup_openat2 }, { "beneath-fallback", setup_fallback } };
	for (size_t m = 0; m < 2; m++) {
		TCase *tc = tcase_create(modes[m].name);
		tcase_add_checked_fixture(tc, modes[m].setup, teardown);
		tcase_add_test(tc, opens_plain_paths);
		tcase_add_test(tc, refuses_dotdot_components);
		tcase_add_test(tc, refuses_symlinks_anywhere);
		tcase_add_test(tc, write_replaces_a_link_instead_of_following_it);
		tcase_add_test(tc, remove_tree_does_not_follow_links);
		tcase_add_test(tc, under_forms_take_absolute_paths_inside_only);
		tcase_add_test(tc, atomic_write_ignores_a_planted_temporary_link);
		suite_add_tcase(s, tc);
	}
	TCase *tc = tcase_create("names");
	tcase_add_test(tc, names_accept_real_names);
	tcase_add_test(tc, names_refuse_paths);
	tcase_add_test(tc, run_ids);
	tcase_add_test(tc, quote_cuts_long_values);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
