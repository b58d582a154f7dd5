/*
 * test_yaml_property - a property test of project-file edits
 * (project/yaml_doc.h, issue 18): generated documents (block and flow
 * collections, anchors and aliases, comments, every quoting style, long
 * numbers) get random edits (set / unset / append at random paths).  After
 * each edit either
 *   - it succeeded, the text parses and reads as exactly the tree before
 *     the edit with the intended change applied (an oracle written here,
 *     independent of the editor), or
 *   - it failed, and the text is byte-identical to the text before.
 * A document without anchors must accept every edit.
 *
 * The seed is fixed so a failure reproduces; SMELT_PROPERTY_ITERATIONS sets
 * the number of documents (default 1000, a few seconds also under ASan) and
 * SMELT_PROPERTY_SEED another seed.
 */
#include "project/yaml_doc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a small deterministic generator (xorshift64*) ------------------------------ */

static uint64_t rng_state;

static unsigned rnd(unsigned n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (unsigned)((rng_state * 2685821657736338717ULL) >> 33) % (n ? n : 1);
}

/* ---- the model: scalars with the YAML forms that read as them -------------------- */

struct scalar {
	const char *json;         /* the value */
	const char *forms[3];     /* YAML spellings (plain first when it is safe), NULL-terminated */
};

static const struct scalar scalars[] = {
	{ "\"hello\"", { "hello", "'hello'", "\"hello\"" } },
	{ "\"yes\"", { "'yes'", "\"yes\"", NULL } },
	{ "\"a: b\"", { "'a: b'", "\"a: b\"", NULL } },
	{ "\"it's\"", { "\"it's\"", "'it''s'", NULL } },
	{ "\"#x\"", { "'#x'", "\"#x\"", NULL } },
	{ "\"\"", { "''", "\"\"", NULL } },
	{ "\"12\"", { "'12'", "\"12\"", NULL } },
	{ "\"line\\nbreak\"", { "\"line\\nbreak\"", NULL, NULL } },
	{ "\"\\u00e9 \\u00fc\"", { "\xc3\xa9 \xc3\xbc", "'\xc3\xa9 \xc3\xbc'", NULL } },
	{ "\"$VAR\"", { "$VAR", "'$VAR'", NULL } },
	{ "12", { "12", NULL, NULL } },
	{ "-3.5", { "-3.5", NULL, NULL } },
	{ "9007199254740993", { "9007199254740993", NULL, NULL } },
	{ "true", { "true", NULL, NULL } },
	{ "false", { "false", NULL, NULL } },
	{ "null", { "null", "~", NULL } },
};
#define NSCALARS (sizeof scalars / sizeof scalars[0])

static const char *const keys[] = { "k0", "k1", "k2", "k3", "config", "a b", "records" };
#define NKEYS (sizeof keys / sizeof keys[0])

/* New values an edit writes. */
static const char *const new_values[] = {
	"5", "\"five\"", "9007199254740995", "\"a: b # c\"", "true", "null", "{\"z\": 1}", "[1, \"x\"]",
	"{}", "[]", "{\"n\": {\"m\": [\"deep\"]}}", "\"yes\"", "\"\"", "-0.25", "[{\"name\": \"q\", \"v\": 2}]",
};
#define NNEW (sizeof new_values / sizeof new_values[0])

/* ---- rendering a generated tree as YAML text ------------------------------------- */

struct gen {
	struct strbuf out;
	cJSON *anchors[16]; /* anchored values by anchor number, once finished (borrowed from the model) */
	int nanchors;       /* finished anchors: their numbers are in done[] */
	int done[16];
	int next_anchor;
	int used_anchor;    /* 1: the document has an anchor that an alias uses */
};

static void indent(struct strbuf *sb, int n)
{
	for (int i = 0; i < n; i++)
		strbuf_addch(sb, ' ');
}

static cJSON *gen_value(struct gen *g, int depth, int flow, int listy);

/* A scalar: its model value, its text appended to g->out. */
static cJSON *gen_scalar(struct gen *g)
{
	const struct scalar *s = &scalars[rnd(NSCALARS)];
	int nforms = 0;
	while (nforms < 3 && s->forms[nforms])
		nforms++;
	strbuf_addstr(&g->out, s->forms[rnd((unsigned)nforms)]);
	return json_parse_exact(s->json);
}

static void gen_key(struct gen *g, const char *k)
{
	if (strchr(k, ' ') && rnd(2))
		strbuf_addf(&g->out, "\"%s\"", k);
	else if (rnd(5) == 0)
		strbuf_addf(&g->out, "'%s'", k);
	else
		strbuf_addstr(&g->out, k);
}

/* Pick n distinct keys. */
static int pick_keys(const char **out, int n)
{
	int have = 0;
	while (have < n) {
		const char *k = keys[rnd(NKEYS)];
		int dup = 0;
		for (int i = 0; i < have; i++)
			dup |= out[i] == k;
		if (!dup)
			out[have++] = k;
	}
	return have;
}

static cJSON *gen_flow(struct gen *g, int depth)
{
	if (depth >= 3 || rnd(3) == 0)
		return gen_scalar(g);
	if (rnd(2)) {
		cJSON *o = cJSON_CreateObject();
		const char *ks[4];
		int n = pick_keys(ks, (int)rnd(4));
		strbuf_addch(&g->out, '{');
		for (int i = 0; i < n; i++) {
			if (i)
				strbuf_addstr(&g->out, rnd(2) ? ", " : ",");
			gen_key(g, ks[i]);
			strbuf_addstr(&g->out, ": ");
			cJSON_AddItemToObject(o, ks[i], gen_flow(g, depth + 1));
		}
		strbuf_addch(&g->out, '}');
		return o;
	}
	cJSON *a = cJSON_CreateArray();
	int n = (int)rnd(4), named = rnd(2);
	strbuf_addch(&g->out, '[');
	for (int i = 0; i < n; i++) {
		if (i)
			strbuf_addstr(&g->out, ", ");
		if (named) {
			cJSON *o = cJSON_CreateObject();
			char nm[8];
			snprintf(nm, sizeof nm, "n%d", i);
			strbuf_addf(&g->out, "{name: %s", nm);
			cJSON_AddStringToObject(o, "name", nm);
			if (rnd(2)) {
				strbuf_addstr(&g->out, ", k0: ");
				cJSON_AddItemToObject(o, "k0", gen_flow(g, depth + 2));
			}
			strbuf_addch(&g->out, '}');
			cJSON_AddItemToArray(a, o);
		} else {
			cJSON_AddItemToArray(a, gen_flow(g, depth + 1));
		}
	}
	strbuf_addch(&g->out, ']');
	return a;
}

/* A value after "key:" or "- " (the caller wrote that); at block indent ind. */
static cJSON *gen_inline_or_block(struct gen *g, int depth)
{
	/* an alias to a finished anchor */
	if (g->nanchors && rnd(8) == 0) {
		int a = g->done[rnd((unsigned)g->nanchors)];
		strbuf_addf(&g->out, " *a%d\n", a);
		g->used_anchor = 1;
		return cJSON_Duplicate(g->anchors[a], 1);
	}
	int anchor = g->next_anchor < 16 && rnd(8) == 0 ? g->next_anchor++ : -1;
	cJSON *v;
	unsigned kind = depth >= 4 ? 0 : rnd(4);
	if (kind == 0 || kind == 1) {
		strbuf_addch(&g->out, ' ');
		if (anchor >= 0)
			strbuf_addf(&g->out, "&a%d ", anchor);
		v = kind == 0 ? gen_scalar(g) : gen_flow(g, depth);
		if (rnd(4) == 0)
			strbuf_addstr(&g->out, " # trailing comment");
		strbuf_addch(&g->out, '\n');
	} else {
		if (anchor >= 0)
			strbuf_addf(&g->out, " &a%d", anchor);
		strbuf_addch(&g->out, '\n');
		v = gen_value(g, depth + 1, 0, kind == 3); /* at cur_indent, set by the caller */
	}
	if (anchor >= 0) {
		g->anchors[anchor] = v;
		g->done[g->nanchors++] = anchor;
	}
	return v;
}

static int cur_indent; /* the block indent gen_value writes at (set by the caller) */

/* A block mapping or list at cur_indent. */
static cJSON *gen_value(struct gen *g, int depth, int flow, int listy)
{
	(void)flow;
	int ind = cur_indent;
	if (!listy) {
		cJSON *o = cJSON_CreateObject();
		const char *ks[5];
		int n = pick_keys(ks, 1 + (int)rnd(4));
		for (int i = 0; i < n; i++) {
			if (rnd(6) == 0) {
				indent(&g->out, ind);
				strbuf_addstr(&g->out, "# a comment line\n");
			}
			indent(&g->out, ind);
			gen_key(g, ks[i]);
			strbuf_addch(&g->out, ':');
			cur_indent = ind + 2;
			cJSON *v = gen_inline_or_block(g, depth);
			cJSON_AddItemToObject(o, ks[i], v);
			cur_indent = ind;
		}
		return o;
	}
	/* a block list of named mappings or of scalars */
	cJSON *a = cJSON_CreateArray();
	int n = 1 + (int)rnd(4), named = rnd(3) != 0;
	/* dashes indented under their key, or at the key's column (Meltano's layout) */
	int dash = rnd(2) ? ind : (ind >= 2 ? ind - 2 : ind);
	for (int i = 0; i < n; i++) {
		indent(&g->out, dash);
		if (named) {
			cJSON *o = cJSON_CreateObject();
			char nm[8];
			snprintf(nm, sizeof nm, "n%d", i);
			strbuf_addf(&g->out, "- name: %s\n", nm);
			cJSON_AddStringToObject(o, "name", nm);
			const char *ks[3];
			int nk = pick_keys(ks, (int)rnd(3));
			for (int k = 0; k < nk; k++) {
				indent(&g->out, dash + 2);
				gen_key(g, ks[k]);
				strbuf_addch(&g->out, ':');
				cur_indent = dash + 4;
				cJSON_AddItemToObject(o, ks[k], gen_inline_or_block(g, depth + 1));
			}
			cJSON_AddItemToArray(a, o);
		} else {
			strbuf_addstr(&g->out, "-");
			strbuf_addch(&g->out, ' ');
			cJSON_AddItemToArray(a, gen_scalar(g));
			strbuf_addch(&g->out, '\n');
		}
	}
	cur_indent = ind;
	return a;
}

/* A whole document: its text in g->out, its model returned. */
static cJSON *gen_document(struct gen *g)
{
	strbuf_reset(&g->out);
	g->nanchors = g->next_anchor = g->used_anchor = 0;
	if (rnd(5) == 0)
		strbuf_addstr(&g->out, "# smelt.yml\n");
	cur_indent = 0;
	if (rnd(6) == 0) {
		/* the whole document in flow style */
		cJSON *o = cJSON_CreateObject();
		strbuf_addstr(&g->out, "{version: 1, plugins: {extractors: ");
		cJSON_AddNumberToObject(o, "version", 1);
		cJSON *pl = cJSON_AddObjectToObject(o, "plugins");
		cJSON_AddItemToObject(pl, "extractors", gen_flow(g, 1));
		strbuf_addstr(&g->out, "}}\n");
		return o;
	}
	return gen_value(g, 0, 0, 0);
}

/* ---- the oracle: the tree an edit must produce ------------------------------------- */

enum op { SET, UNSET, APPEND };

struct seg {
	char text[32]; /* "key", "[name=x]", "[N]" */
	int kind;      /* 0 key, 1 named, 2 index */
	char arg[24];
	int index;
};

static cJSON *child_of(cJSON *c, const struct seg *s)
{
	if (s->kind == 0)
		return cJSON_IsObject(c) ? cJSON_GetObjectItemCaseSensitive(c, s->arg) : NULL;
	if (!cJSON_IsArray(c))
		return NULL;
	if (s->kind == 2)
		return cJSON_GetArrayItem(c, s->index);
	cJSON *found = NULL;
	for (cJSON *i = c->child; i; i = i->next) {
		cJSON *nm = cJSON_GetObjectItemCaseSensitive(i, "name");
		if (cJSON_IsString(nm) && !strcmp(nm->valuestring, s->arg))
			found = i;
	}
	return found;
}

/*
 * Apply op to tree (a copy), along an existing path whose last one or two
 * segments may be new (see pick_path).  0 done, 1 nothing to unset.
 */
static int oracle(cJSON **tree, const struct seg *segs, int n, enum op op, const cJSON *v)
{
	cJSON *cur = *tree, *parent = NULL;
	int i;
	if (n == 0) {
		cJSON_Delete(*tree);
		*tree = cJSON_Duplicate(v, 1);
		return 0;
	}
	for (i = 0; i < n - 1; i++) {
		cJSON *c = child_of(cur, &segs[i]);
		if (!c)
			break;
		parent = cur;
		cur = c;
	}
	(void)parent;
	if (i < n - 1) {
		/* new segments from i: a new key of an object or a new named item of a list */
		if (op == UNSET)
			return 1;
		cJSON *made = NULL;
		if (op == APPEND) {
			made = cJSON_CreateArray();
			cJSON_AddItemToArray(made, cJSON_Duplicate(v, 1));
		} else {
			made = cJSON_Duplicate(v, 1);
		}
		for (int k = n - 1; k > i; k--) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddItemToObject(o, segs[k].arg, made);
			made = o;
		}
		if (segs[i].kind == 1) {
			cJSON *nm = cJSON_CreateString(segs[i].arg);
			nm->string = strdup("name");
			json_link_after(made, NULL, nm);
			cJSON_AddItemToArray(cur, made);
		} else {
			cJSON_AddItemToObject(cur, segs[i].arg, made);
		}
		return 0;
	}
	const struct seg *last = &segs[n - 1];
	cJSON *c = child_of(cur, last);
	if (op == UNSET) {
		if (!c)
			return 1;
		cJSON_Delete(cJSON_DetachItemViaPointer(cur, c));
		return 0;
	}
	cJSON *nv;
	if (op == APPEND) {
		nv = cJSON_IsArray(c) ? cJSON_Duplicate(c, 1) : cJSON_CreateArray();
		cJSON_AddItemToArray(nv, cJSON_Duplicate(v, 1));
	} else {
		nv = cJSON_Duplicate(v, 1);
	}
	if (c) {
		if (last->kind == 0) {
			free(nv->string); /* a duplicate of c carries its key; ReplaceItemViaPointer sets none */
			nv->string = strdup(last->arg);
			cJSON_ReplaceItemViaPointer(cur, c, nv);
		} else {
			cJSON *prev = c == cur->child ? NULL : c->prev;
			cJSON_Delete(cJSON_DetachItemViaPointer(cur, c));
			json_link_after(cur, prev, nv);
		}
	} else if (last->kind == 0) {
		cJSON_AddItemToObject(cur, last->arg, nv);
	} else {
		cJSON_Delete(nv); /* a new named item as the last segment: not generated */
		return 1;
	}
	return 0;
}

/* A random path into tree: existing segments, then maybe one or two new keys. */
static int pick_path(cJSON *tree, struct seg *segs, int max, enum op op)
{
	int n = 0;
	cJSON *cur = tree;
	while (n < max) {
		if (cJSON_IsObject(cur) && cur->child && (n == 0 || rnd(4) != 0)) {
			int cnt = cJSON_GetArraySize(cur);
			cJSON *c = cJSON_GetArrayItem(cur, (int)rnd((unsigned)cnt));
			segs[n].kind = 0;
			snprintf(segs[n].arg, sizeof segs[n].arg, "%s", c->string);
			snprintf(segs[n].text, sizeof segs[n].text, "%s", c->string);
			n++;
			cur = c;
		} else if (cJSON_IsArray(cur) && cur->child && rnd(4) != 0) {
			int cnt = cJSON_GetArraySize(cur), k = (int)rnd((unsigned)cnt);
			cJSON *c = cJSON_GetArrayItem(cur, k);
			cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, "name");
			if (cJSON_IsString(nm) && rnd(3)) {
				segs[n].kind = 1;
				snprintf(segs[n].arg, sizeof segs[n].arg, "%s", nm->valuestring);
				snprintf(segs[n].text, sizeof segs[n].text, "[name=%s]", nm->valuestring);
			} else {
				segs[n].kind = 2;
				segs[n].index = k;
				snprintf(segs[n].text, sizeof segs[n].text, "[%d]", k);
			}
			n++;
			cur = c;
		} else {
			break;
		}
	}
	if (op != UNSET && n < max - 1 && (cJSON_IsObject(cur) || (cJSON_IsArray(cur) && rnd(2))) && rnd(3) == 0) {
		/* new: a key (maybe two levels) or a named item */
		int named = cJSON_IsArray(cur);
		segs[n].kind = named ? 1 : 0;
		snprintf(segs[n].arg, sizeof segs[n].arg, named ? "fresh" : "new%u", rnd(3));
		snprintf(segs[n].text, sizeof segs[n].text, named ? "[name=%s]" : "%s", segs[n].arg);
		if (child_of(cur, &segs[n]))
			return n; /* it exists after all (an earlier edit made it): stop at its parent */
		n++;
		if (named || rnd(2)) {
			segs[n].kind = 0;
			snprintf(segs[n].arg, sizeof segs[n].arg, "leaf");
			snprintf(segs[n].text, sizeof segs[n].text, "leaf");
			n++;
		}
	}
	return n;
}

/* ---- the property ------------------------------------------------------------------- */

static cJSON *read_tree(const struct strbuf *t, char *err, size_t errlen, int *ok)
{
	struct ydoc *d = NULL;
	*ok = ydoc_parse(t->buf, t->len, "smelt.yml", &d, err, errlen) == 0;
	if (!*ok)
		return NULL;
	cJSON *j = d->root && !ynode_is_null(d->root) ? ynode_to_json(d->root) : cJSON_CreateObject();
	ydoc_free(d);
	if (cJSON_IsObject(j) || cJSON_IsArray(j))
		return j;
	cJSON_Delete(j);
	return cJSON_CreateObject();
}

static int same_doc(const cJSON *a, const cJSON *b)
{
	int ae = cJSON_IsObject(a) && !a->child, be = cJSON_IsObject(b) && !b->child;
	if (ae || be)
		return ae && be;
	return json_equal(a, b);
}

static char *show(const cJSON *v)
{
	struct strbuf sb = STRBUF_INIT;
	json_dump(&sb, v, -2);
	return strbuf_detach(&sb);
}

START_TEST(edits_keep_the_document)
{
	long iterations = getenv("SMELT_PROPERTY_ITERATIONS") ? atol(getenv("SMELT_PROPERTY_ITERATIONS")) : 1000;
	rng_state = getenv("SMELT_PROPERTY_SEED") ? strtoull(getenv("SMELT_PROPERTY_SEED"), NULL, 10) : 0x5eed18ULL;
	if (!rng_state)
		rng_state = 1;
	struct gen g = { STRBUF_INIT, { 0 }, 0, { 0 }, 0, 0 };
	char err[1024];
	long edits = 0, refused = 0;
	for (long it = 0; it < iterations; it++) {
		cJSON *model = gen_document(&g);
		struct strbuf text = STRBUF_INIT, before = STRBUF_INIT;
		strbuf_add(&text, g.out.buf, g.out.len);
		int ok;
		cJSON *tree = read_tree(&text, err, sizeof err, &ok);
		ck_assert_msg(ok, "document %ld does not parse: %s\n%s", it, err, text.buf);
		char *m = show(model), *t = show(tree);
		ck_assert_msg(same_doc(tree, model), "document %ld reads as %s, generated %s\n%s", it, t, m, text.buf);
		free(m);
		free(t);
		int anchored = g.used_anchor; /* only a node shared through an alias may refuse an edit */
		for (int e = 0; e < 6; e++) {
			enum op op = (enum op)rnd(3);
			struct seg segs[8];
			int n = pick_path(tree, segs, 7, op);
			if (n == 0)
				continue; /* the whole document: not a project edit */
			const char *path[8];
			for (int i = 0; i < n; i++)
				path[i] = segs[i].text;
			cJSON *v = json_parse_exact(new_values[rnd(NNEW)]);
			cJSON *want = cJSON_Duplicate(tree, 1);
			int orc = oracle(&want, segs, n, op, v);
			strbuf_reset(&before);
			strbuf_add(&before, text.buf, text.len);
			err[0] = 0;
			int rc = op == SET ? yedit_set(&text, "smelt.yml", path, (size_t)n, v, err, sizeof err)
			       : op == UNSET ? yedit_unset(&text, "smelt.yml", path, (size_t)n, err, sizeof err)
			                     : yedit_append(&text, "smelt.yml", path, (size_t)n, v, err, sizeof err);
			struct strbuf where = STRBUF_INIT;
			for (int i = 0; i < n; i++)
				strbuf_addf(&where, "/%s", path[i]);
			edits++;
			if (rc < 0) {
				refused++;
				ck_assert_msg(before.len == text.len && !memcmp(before.buf, text.buf, text.len),
				              "document %ld: a failed edit of %s changed the text", it, where.buf);
				ck_assert_msg(anchored, "document %ld: op %d of %s refused without aliases: %s\n%s", it, op,
				              where.buf, err, before.buf);
			} else if (rc == 1 || orc == 1) {
				ck_assert_msg(rc == orc, "document %ld: %s: editor says %d, oracle %d\n%s", it, where.buf, rc,
				              orc, before.buf);
				ck_assert_msg(before.len == text.len && !memcmp(before.buf, text.buf, text.len),
				              "document %ld: a no-op unset changed the text", it);
			} else {
				cJSON *got = read_tree(&text, err, sizeof err, &ok);
				ck_assert_msg(ok, "document %ld: after op %d of %s the text does not parse: %s\n%s", it, op,
				              where.buf, err, text.buf);
				char *gs = show(got), *ws = show(want);
				ck_assert_msg(same_doc(got, want), "document %ld: op %d of %s\nbefore:\n%s\nafter:\n%s\ngot  %s\nwant %s",
				              it, op, where.buf, before.buf, text.buf, gs, ws);
				free(gs);
				free(ws);
				cJSON_Delete(tree);
				tree = got;
			}
			strbuf_release(&where);
			cJSON_Delete(want);
			cJSON_Delete(v);
		}
		cJSON_Delete(tree);
		cJSON_Delete(model);
		strbuf_release(&text);
		strbuf_release(&before);
	}
	strbuf_release(&g.out);
	/* the property is not vacuous: most edits went through */
	ck_assert_msg(edits > iterations * 3 && refused * 10 < edits, "%ld edits, %ld refused", edits, refused);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("yaml_property");
	TCase *t = tcase_create("edits");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, edits_keep_the_document);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	log_set_level(LOG_LEVEL_DISABLED);
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
