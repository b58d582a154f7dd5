/*
 * test_yaml_edit - comment-preserving edits of project files
 * (project/yaml_doc.h): each case applies edits to
 * data/project/<case>.yml and compares the result with <case>.golden.yml
 * byte for byte.  SMELT_UPDATE_GOLDEN=1 rewrites the golden files (review
 * the diff before committing).
 */
#include "project/yaml_doc.h"
#include "util/log.h"
#include "util/fs.h"
#include "util/strbuf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum op { SET, UNSET, APPEND };
struct edit {
	enum op op;
	const char *path[12]; /* NULL-terminated */
	const char *json;     /* value (SET/APPEND) */
	int expect;           /* return code */
};

static void run_case(const char *name, const struct edit *edits, size_t n)
{
	char err[512];
	char *in = xasprintf("%s/project/%s.yml", DATA_DIR, name);
	char *golden = xasprintf("%s/project/%s.golden.yml", DATA_DIR, name);
	struct strbuf text = STRBUF_INIT, want = STRBUF_INIT;
	ck_assert_int_eq(read_file(in, &text), 0);
	for (size_t i = 0; i < n; i++) {
		size_t np = 0;
		while (edits[i].path[np])
			np++;
		cJSON *v = edits[i].json ? cJSON_Parse(edits[i].json) : NULL;
		int rc;
		err[0] = 0;
		if (edits[i].op == SET)
			rc = yedit_set(&text, name, edits[i].path, np, v, err, sizeof err);
		else if (edits[i].op == UNSET)
			rc = yedit_unset(&text, name, edits[i].path, np, err, sizeof err);
		else
			rc = yedit_append(&text, name, edits[i].path, np, v, err, sizeof err);
		cJSON_Delete(v);
		ck_assert_msg(rc == edits[i].expect, "%s: edit %zu returned %d (%s)", name, i, rc, err);
	}
	if (getenv("SMELT_UPDATE_GOLDEN"))
		write_file_atomic(golden, text.buf, text.len, 0644);
	ck_assert_int_eq(read_file(golden, &want), 0);
	ck_assert_msg(want.len == text.len && !memcmp(want.buf, text.buf, text.len),
	              "%s: result differs from the golden file:\n%s", name, text.buf);
	/* the result still parses */
	struct ydoc *d = NULL;
	ck_assert_int_eq(ydoc_parse(text.buf, text.len, name, &d, err, sizeof err), 0);
	ydoc_free(d);
	strbuf_release(&text);
	strbuf_release(&want);
	free(in);
	free(golden);
}

START_TEST(edit_config_keeps_comments)
{
	static const struct edit edits[] = {
		/* replace a quoted scalar: the quote style stays */
		{ SET, { "plugins", "extractors", "[name=tap-a]", "config", "api_url", NULL }, "\"https://new.example.com\"", 0 },
		/* replace a plain scalar */
		{ SET, { "plugins", "extractors", "[name=tap-a]", "config", "limit", NULL }, "25", 0 },
		/* insert keys into a block mapping, nested ones too */
		{ SET, { "plugins", "extractors", "[name=tap-a]", "config", "new_key", NULL }, "true", 0 },
		{ SET, { "plugins", "extractors", "[name=tap-a]", "config", "nested", "deep", NULL }, "\"x: y\"", 0 },
		{ SET, { "plugins", "extractors", "[name=tap-b]", "select", NULL }, "[\"users.*\", \"!users.secret\"]", 0 },
		/* an empty flow mapping becomes a block one */
		{ SET, { "plugins", "loaders", "[name=target-a]", "config", "path", NULL }, "\"out/\"", 0 },
		/* new list item */
		{ APPEND, { "plugins", "loaders", NULL }, "{\"name\": \"target-b\", \"variant\": \"v\", \"config\": {\"a\": 1}}", 0 },
		/* deep path created inside an environment without config */
		{ SET, { "environments", "[name=prod]", "config", "plugins", "extractors", "[name=tap-a]", "config", "limit", NULL }, "3", 0 },
		/* an environment that has the plugin already */
		{ SET, { "environments", "[name=dev]", "config", "plugins", "extractors", "[name=tap-a]", "config", "limit", NULL }, "2", 0 },
		/* a new top-level key goes after the last one */
		{ SET, { "jobs", NULL }, "[{\"name\": \"daily\", \"tasks\": [\"tap-a target-a\"]}]", 0 },
	};
	run_case("edit_config", edits, sizeof edits / sizeof edits[0]);
}
END_TEST

START_TEST(edit_remove_takes_lines)
{
	static const struct edit edits[] = {
		{ UNSET, { "plugins", "extractors", "[name=tap-b]", "config", "drop", NULL }, NULL, 0 },
		{ UNSET, { "plugins", "extractors", "[name=tap-a]", "config", "x", NULL }, NULL, 0 },
		{ UNSET, { "environments", "[name=staging]", NULL }, NULL, 0 },
		{ UNSET, { "plugins", "extractors", "[name=tap-c]", NULL }, NULL, 0 },
		/* the last item of a list leaves [] */
		{ UNSET, { "plugins", "loaders", "[name=target-a]", NULL }, NULL, 0 },
		/* the first key of a list item: the next key moves up to the dash */
		{ UNSET, { "jobs", "[name=j1]", "name", NULL }, NULL, 0 },
		/* missing things are reported, not errors */
		{ UNSET, { "plugins", "extractors", "[name=nope]", NULL }, NULL, 1 },
		{ UNSET, { "nope", "deeper", NULL }, NULL, 1 },
	};
	run_case("edit_remove", edits, sizeof edits / sizeof edits[0]);
}
END_TEST

START_TEST(edit_flow_reemitted_as_block)
{
	static const struct edit edits[] = {
		{ SET, { "plugins", "extractors", "[name=tap-a]", "config", "c", NULL }, "3", 0 },
		{ APPEND, { "plugins", "extractors", "[name=tap-b]", "select", NULL }, "\"orders.total\"", 0 },
		{ UNSET, { "plugins", "extractors", "[name=tap-b]", "config", "x", NULL }, NULL, 0 },
	};
	run_case("edit_flow", edits, sizeof edits / sizeof edits[0]);
}
END_TEST

START_TEST(edit_empty_file)
{
	static const struct edit edits[] = {
		{ SET, { "default_environment", NULL }, "\"dev\"", 0 },
		{ APPEND, { "plugins", "extractors", NULL }, "{\"name\": \"tap-a\", \"namespace\": \"tap_a\"}", 0 },
	};
	run_case("edit_empty", edits, sizeof edits / sizeof edits[0]);
}
END_TEST

START_TEST(edit_file_without_final_newline)
{
	static const struct edit edits[] = {
		{ SET, { "env", "B", NULL }, "\"2\"", 0 },
		{ SET, { "project_id", NULL }, "\"abc\"", 0 },
	};
	run_case("edit_noeol", edits, sizeof edits / sizeof edits[0]);
}
END_TEST

START_TEST(scalars_round_trip)
{
	static const char *const values[] = {
		"\"plain\"", "\"true\"", "\"yes\"", "\"123\"", "\"1.5\"", "\"\"", "\" lead\"", "\"a: b\"", "\"#x\"",
		"\"it's\"", "\"line\\nbreak\"", "\"-e git+https://x\"", "\"~\"", "\"null\"", "\"@daily\"", "\"*.*\"",
		"\"0755\"", "true", "false", "null", "42", "-7", "1.25", "1e+20", "[]", "{}", "\"é ü\"",
	};
	char err[256];
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		struct strbuf text = STRBUF_INIT;
		cJSON *v = cJSON_Parse(values[i]);
		const char *path[] = { "k" };
		strbuf_addstr(&text, "a: 1\n");
		ck_assert_int_eq(yedit_set(&text, "t", path, 1, v, err, sizeof err), 0);
		struct ydoc *d;
		ck_assert_int_eq(ydoc_parse(text.buf, text.len, "t", &d, err, sizeof err), 0);
		cJSON *back = ynode_to_json(ynode_get(d->root, "k", NULL));
		ck_assert_msg(cJSON_Compare(back, v, 1), "value %s came back different from:\n%s", values[i], text.buf);
		cJSON_Delete(back);
		cJSON_Delete(v);
		ydoc_free(d);
		strbuf_release(&text);
	}
}
END_TEST

START_TEST(parse_errors_have_positions)
{
	char err[256];
	struct ydoc *d = NULL;
	const char *bad = "a: 1\nb:\n  - x\n  y: 2\n";
	ck_assert_int_lt(ydoc_parse(bad, strlen(bad), "smelt.yml", &d, err, sizeof err), 0);
	ck_assert_ptr_null(d);
	ck_assert_msg(!strncmp(err, "smelt.yml:4:", 12), "got '%s'", err);
}
END_TEST

START_TEST(aliases_and_merge_keys)
{
	char err[256];
	struct ydoc *d = NULL;
	const char *t = "base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\nlist: [*b]\n";
	ck_assert_int_eq(ydoc_parse(t, strlen(t), "t", &d, err, sizeof err), 0);
	cJSON *j = ynode_to_json(d->root);
	cJSON *want = cJSON_Parse("{\"base\":{\"x\":1,\"y\":2},\"other\":{\"y\":3,\"x\":1},\"list\":[{\"x\":1,\"y\":2}]}");
	ck_assert(cJSON_Compare(j, want, 1));
	cJSON_Delete(j);
	cJSON_Delete(want);
	ydoc_free(d);
	/* a billion laughs is refused with its position instead of being cut silently */
	const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	                   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	                   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
	ck_assert_int_eq(ydoc_parse(bomb, strlen(bomb), "t", &d, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_ptr_null(d);
	ck_assert_msg(strstr(err, "t:6:") && strstr(err, "more than 500000 nodes"), "got '%s'", err);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("yaml_edit");
	TCase *t = tcase_create("golden");
	tcase_add_test(t, edit_config_keeps_comments);
	tcase_add_test(t, edit_remove_takes_lines);
	tcase_add_test(t, edit_flow_reemitted_as_block);
	tcase_add_test(t, edit_empty_file);
	tcase_add_test(t, edit_file_without_final_newline);
	suite_add_tcase(s, t);
	t = tcase_create("scalars");
	tcase_add_test(t, scalars_round_trip);
	suite_add_tcase(s, t);
	t = tcase_create("parse");
	tcase_add_test(t, parse_errors_have_positions);
	tcase_add_test(t, aliases_and_merge_keys);
	suite_add_tcase(s, t);
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
