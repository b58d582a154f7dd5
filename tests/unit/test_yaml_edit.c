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
#include "util/json.h"
#include "util/strbuf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
		"\"0755\"", "\"2021-10-01 00:00:00\"", "\"2021-10-01T00:00:00Z\"", "true", "false", "null", "42",
		"-7", "1.25", "1e+20", "[]", "{}", "\"é ü\"",
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

START_TEST(timestamps_read_in_iso_form)
{
	/* issue 16: an unquoted timestamp reads as Python's isoformat() (Meltano's), its zone kept */
	static const struct { const char *yaml, *want; } cases[] = {
		{ "k: 2022-12-31 23:59:59\n", "2022-12-31T23:59:59" },
		{ "k: 2021-10-01T00:00:00Z\n", "2021-10-01T00:00:00Z" },
		{ "k: 2021-06-15T08:30:00+02:00\n", "2021-06-15T08:30:00+02:00" },
		{ "k: 2021-06-15t8:30:00.5 -05:00\n", "2021-06-15T08:30:00.500000-05:00" },
		{ "k: 2021-06-15 08:30:00.000\n", "2021-06-15T08:30:00" },
		{ "k: 2020-01-01\n", "2020-01-01" },
		{ "k: '2022-12-31 23:59:59'\n", "2022-12-31 23:59:59" }, /* quoted: a string as written */
		{ "k: 2022-12-31 23:59\n", "2022-12-31 23:59" },         /* not a timestamp */
	};
	char err[256];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ydoc *d;
		ck_assert_int_eq(ydoc_parse(cases[i].yaml, strlen(cases[i].yaml), "t", &d, err, sizeof err), 0);
		cJSON *v = ynode_to_json(ynode_get(d->root, "k", NULL));
		ck_assert_msg(cJSON_IsString(v) && !strcmp(v->valuestring, cases[i].want), "%s -> %s", cases[i].yaml,
		              cJSON_IsString(v) ? v->valuestring : "(not a string)");
		cJSON_Delete(v);
		ydoc_free(d);
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

/* Apply one edit to text (a strbuf); returns its status, err filled. */
static int apply(struct strbuf *t, enum op op, const char *const *path, size_t n, const char *json, char *err,
                 size_t errlen)
{
	cJSON *v = json ? json_parse_exact(json) : NULL;
	int rc = op == SET ? yedit_set(t, "smelt.yml", path, n, v, err, errlen)
	       : op == UNSET ? yedit_unset(t, "smelt.yml", path, n, err, errlen)
	                     : yedit_append(t, "smelt.yml", path, n, v, err, errlen);
	cJSON_Delete(v);
	return rc;
}

/* The document text reads as the JSON want (numbers compared by exact text). */
static void assert_reads_as(const struct strbuf *t, const char *want)
{
	char err[256];
	struct ydoc *d = NULL;
	ck_assert_msg(ydoc_parse(t->buf, t->len, "smelt.yml", &d, err, sizeof err) == 0, "%s\n%s", err, t->buf);
	cJSON *got = ynode_to_json(d->root), *w = json_parse_exact(want);
	ck_assert_ptr_nonnull(w);
	struct strbuf g = STRBUF_INIT;
	json_dump(&g, got, -2);
	ck_assert_msg(json_equal(got, w), "got %s\nwant %s\ntext:\n%s", g.buf, want, t->buf);
	strbuf_release(&g);
	cJSON_Delete(got);
	cJSON_Delete(w);
	ydoc_free(d);
}

/* issue 18 item 1: edits of flow-style YAML kept the file valid but dropped the edited list item */
START_TEST(flow_style_edits_keep_every_node)
{
	char err[512];
	struct strbuf t = STRBUF_INIT;
	strbuf_addstr(&t, "version: 1\nplugins: {extractors: [{name: a, x: 1}, {name: tap-x, config: {p: 1}}, "
	                  "{name: c}]}\n");
	const char *p1[] = { "plugins", "extractors", "[name=tap-x]", "config", "records" };
	ck_assert_msg(apply(&t, SET, p1, 5, "5", err, sizeof err) == 0, "%s", err);
	assert_reads_as(&t, "{\"version\":1,\"plugins\":{\"extractors\":[{\"name\":\"a\",\"x\":1},"
	                    "{\"name\":\"tap-x\",\"config\":{\"p\":1,\"records\":5}},{\"name\":\"c\"}]}}");
	/* one key of a flow mapping: the others stay */
	strbuf_reset(&t);
	strbuf_addstr(&t, "cfg: {a: 1, b: 2, c: 3}\n");
	const char *p2[] = { "cfg", "b" };
	ck_assert_msg(apply(&t, SET, p2, 2, "20", err, sizeof err) == 0, "%s", err);
	assert_reads_as(&t, "{\"cfg\":{\"a\":1,\"b\":20,\"c\":3}}");
	/* a per-environment set in a flow-style environments list keeps the other environments */
	strbuf_reset(&t);
	strbuf_addstr(&t, "environments: [{name: dev, config: {plugins: {extractors: [{name: tap-x, config: {a: 1}}]}}},"
	                  " {name: staging, env: {X: '1'}}, {name: prod}]\n");
	const char *p3[] = { "environments", "[name=staging]", "config", "plugins", "extractors", "[name=tap-x]",
		             "config", "b" };
	ck_assert_msg(apply(&t, SET, p3, 8, "2", err, sizeof err) == 0, "%s", err);
	assert_reads_as(&t, "{\"environments\":[{\"name\":\"dev\",\"config\":{\"plugins\":{\"extractors\":[{\"name\":"
	                    "\"tap-x\",\"config\":{\"a\":1}}]}}},{\"name\":\"staging\",\"env\":{\"X\":\"1\"},\"config\":"
	                    "{\"plugins\":{\"extractors\":[{\"name\":\"tap-x\",\"config\":{\"b\":2}}]}}},"
	                    "{\"name\":\"prod\"}]}");
	/* unset and append inside flow lists */
	const char *p4[] = { "environments", "[name=dev]" };
	ck_assert_msg(apply(&t, UNSET, p4, 2, NULL, err, sizeof err) == 0, "%s", err);
	const char *p5[] = { "environments" };
	ck_assert_msg(apply(&t, APPEND, p5, 1, "{\"name\":\"qa\"}", err, sizeof err) == 0, "%s", err);
	assert_reads_as(&t, "{\"environments\":[{\"name\":\"staging\",\"env\":{\"X\":\"1\"},\"config\":"
	                    "{\"plugins\":{\"extractors\":[{\"name\":\"tap-x\",\"config\":{\"b\":2}}]}}},"
	                    "{\"name\":\"prod\"},{\"name\":\"qa\"}]}");
	strbuf_release(&t);
}
END_TEST

/* a flow collection re-emitted as a block keeps the comment of its line on that line, not on its last */
START_TEST(flow_reemitted_keeps_its_line_comment)
{
	char err[512];
	struct strbuf t = STRBUF_INIT;
	strbuf_addstr(&t, "plugins:\n  extractors:\n  - {name: gen, config: {records: 5}}  # the generator\n"
	                  "  - name: sink\n    config: {path: x}\t# flow map\n    other: 1  # stays\n");
	const char *p1[] = { "plugins", "extractors", "[name=gen]", "config", "state_every" };
	ck_assert_msg(apply(&t, SET, p1, 5, "3", err, sizeof err) == 0, "%s", err);
	const char *p2[] = { "plugins", "extractors", "[name=sink]", "config", "more" };
	ck_assert_msg(apply(&t, SET, p2, 5, "2", err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(t.buf, "plugins:\n  extractors:\n  - name: gen  # the generator\n    config:\n      records: 5\n"
	                        "      state_every: 3\n  - name: sink\n    config:\t# flow map\n      path: x\n"
	                        "      more: 2\n    other: 1  # stays\n");
	/* a key's flow value that becomes a block list: the comment stays on the key's line */
	strbuf_reset(&t);
	strbuf_addstr(&t, "cfg: {a: 1}  # note\nnext: 2  # two\n");
	const char *p3[] = { "cfg" };
	ck_assert_msg(apply(&t, SET, p3, 1, "[1]", err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(t.buf, "cfg:  # note\n- 1\nnext: 2  # two\n");
	/* a value that stays on its line keeps its comment after it */
	const char *p4[] = { "next" };
	ck_assert_msg(apply(&t, SET, p4, 1, "3", err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(t.buf, "cfg:  # note\n- 1\nnext: 3  # two\n");
	strbuf_release(&t);
}
END_TEST

/* issue 18 item 1: an edit that would change another node fails and leaves the text byte-identical */
START_TEST(unsafe_edit_fails_and_changes_nothing)
{
	char err[512];
	struct strbuf t = STRBUF_INIT;
	const char *orig = "plugins:\n  extractors:\n  - name: a\n    config: &shared\n      host: x\n"
	                   "  - name: b\n    config: *shared\n";
	strbuf_addstr(&t, orig);
	/* a's config is the anchored node b reads too: editing it in place would change b */
	const char *p[] = { "plugins", "extractors", "[name=a]", "config", "port" };
	int rc = apply(&t, SET, p, 5, "5", err, sizeof err);
	ck_assert_int_lt(rc, 0);
	ck_assert_msg(strstr(err, "smelt.yml: cannot edit 'plugins.extractors[name=a].config.port' safely") &&
	                  strstr(err, "nothing was changed"),
	              "got '%s'", err);
	ck_assert_str_eq(t.buf, orig);
	/* b's config is an alias: it is expanded into b alone, a keeps its value */
	const char *q[] = { "plugins", "extractors", "[name=b]", "config", "port" };
	ck_assert_msg(apply(&t, SET, q, 5, "6", err, sizeof err) == 0, "%s", err);
	assert_reads_as(&t, "{\"plugins\":{\"extractors\":[{\"name\":\"a\",\"config\":{\"host\":\"x\"}},"
	                    "{\"name\":\"b\",\"config\":{\"host\":\"x\",\"port\":6}}]}}");
	strbuf_release(&t);
}
END_TEST

/* issue 18 item 3: integers above 2^53 keep their digits, read and written back */
START_TEST(long_numbers_keep_their_text)
{
	char err[512];
	struct strbuf t = STRBUF_INIT, out = STRBUF_INIT;
	strbuf_addstr(&t, "config: {acct: 9007199254740993, neg: -12345678901234567891, hex: 0x20000000000001, "
	                  "pi: 3.14159265358979323846, small: 12}\n");
	struct ydoc *d = NULL;
	ck_assert_int_eq(ydoc_parse(t.buf, t.len, "smelt.yml", &d, err, sizeof err), 0);
	cJSON *j = ynode_to_json(d->root);
	json_dump(&out, j, -2);
	ck_assert_str_eq(out.buf, "{\"config\":{\"acct\":9007199254740993,\"neg\":-12345678901234567891,"
	                          "\"hex\":9007199254740993,\"pi\":3.14159265358979323846,\"small\":12}}");
	cJSON_Delete(j);
	ydoc_free(d);
	/* an edit re-emits the flow mapping: every number keeps its text */
	const char *p[] = { "config", "small" };
	ck_assert_msg(apply(&t, SET, p, 2, "9007199254740995", err, sizeof err) == 0, "%s", err);
	ck_assert_msg(strstr(t.buf, "acct: 9007199254740993\n") && strstr(t.buf, "small: 9007199254740995\n") &&
	                  strstr(t.buf, "neg: -12345678901234567891\n") && strstr(t.buf, "pi: 3.14159265358979323846\n"),
	              "got:\n%s", t.buf);
	strbuf_release(&t);
	strbuf_release(&out);
}
END_TEST

/* issue 18 item 4: a self-referencing alias and deep nesting are bounded errors, not hangs */
START_TEST(cycles_and_depth_are_errors)
{
	char err[512];
	struct ydoc *d = NULL;
	const char *cyc = "plugins:\n  extractors:\n  - name: t\n    config: &c {records: 12, me: *c}\n";
	ck_assert_int_eq(ydoc_parse(cyc, strlen(cyc), "smelt.yml", &d, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "smelt.yml:4:34: alias '*c' refers to a node that contains it (a cycle)");
	const char *cyc2 = "a: &x\n  b:\n  - c: *x\n";
	ck_assert_int_eq(ydoc_parse(cyc2, strlen(cyc2), "smelt.yml", &d, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_msg(!strncmp(err, "smelt.yml:3:8: alias '*x'", 25), "got '%s'", err);
	/* 100 levels parse (and quickly); 101 are refused where the 101st starts */
	struct strbuf t = STRBUF_INIT;
	for (int i = 0; i < YDOC_MAX_DEPTH; i++)
		strbuf_addstr(&t, "[");
	for (int i = 0; i < YDOC_MAX_DEPTH; i++)
		strbuf_addstr(&t, "]");
	ck_assert_msg(ydoc_parse(t.buf, t.len, "smelt.yml", &d, err, sizeof err) == 0, "%s", err);
	cJSON *j = ynode_to_json(d->root);
	ck_assert_ptr_nonnull(j);
	cJSON_Delete(j);
	ydoc_free(d);
	strbuf_reset(&t);
	strbuf_addstr(&t, "a: ");
	for (int i = 0; i <= YDOC_MAX_DEPTH; i++)
		strbuf_addstr(&t, "{k: ");
	strbuf_addstr(&t, "1");
	for (int i = 0; i <= YDOC_MAX_DEPTH; i++)
		strbuf_addstr(&t, "}");
	ck_assert_int_eq(ydoc_parse(t.buf, t.len, "smelt.yml", &d, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "smelt.yml:1:400: nesting deeper than 100 levels of mappings and lists");
	/* aliases cannot stack past the cap either */
	strbuf_reset(&t);
	strbuf_addstr(&t, "a0: &a0 [1]\n");
	for (int i = 1; i <= YDOC_MAX_DEPTH; i++)
		strbuf_addf(&t, "a%d: &a%d [*a%d]\n", i, i, i - 1);
	ck_assert_int_eq(ydoc_parse(t.buf, t.len, "smelt.yml", &d, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_msg(strstr(err, "aliases nest the document deeper than 100 levels"), "got '%s'", err);
	strbuf_release(&t);
}
END_TEST

/* issue 18 item 6: duplicate keys and a second document are errors with their position */
START_TEST(duplicate_keys_and_documents_are_errors)
{
	char err[512];
	struct ydoc *d = NULL;
	const char *dup = "version: 1\nplugins:\n  extractors:\n  - name: t\n    config:\n      a: 1\n      b: 2\n"
	                  "      a: 3\n";
	ck_assert_int_eq(ydoc_parse(dup, strlen(dup), "smelt.yml", &d, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "smelt.yml:8:7: duplicate key 'a' (first at line 6, column 7)");
	const char *flow = "x: {k: 1, 'k': 2}\n";
	ck_assert_int_eq(ydoc_parse(flow, strlen(flow), "smelt.yml", &d, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "smelt.yml:1:11: duplicate key 'k' (first at line 1, column 5)");
	const char *docs = "version: 1\n---\nversion: 2\n";
	ck_assert_int_eq(ydoc_parse(docs, strlen(docs), "smelt.yml", &d, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "smelt.yml:2:1: a second YAML document is not allowed (one document per file)");
	/* one document with explicit markers is fine */
	const char *one = "---\nversion: 1\n...\n";
	ck_assert_int_eq(ydoc_parse(one, strlen(one), "smelt.yml", &d, err, sizeof err), 0);
	ydoc_free(d);
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
	tcase_add_test(t, cycles_and_depth_are_errors);
	tcase_add_test(t, duplicate_keys_and_documents_are_errors);
	suite_add_tcase(s, t);
	t = tcase_create("safety");
	tcase_add_test(t, flow_style_edits_keep_every_node);
	tcase_add_test(t, flow_reemitted_keeps_its_line_comment);
	tcase_add_test(t, unsafe_edit_fails_and_changes_nothing);
	tcase_add_test(t, long_numbers_keep_their_text);
	tcase_add_test(t, timestamps_read_in_iso_form);
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
