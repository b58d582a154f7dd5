/* yaml_doc: see yaml_doc.h. */
#include "project/yaml_doc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YDOC_JSON_BUDGET (2 * YDOC_MAX_NODES) /* nodes produced by one ynode_to_json (merge keys copy) */

/* ---- parsing ------------------------------------------------------------- */

struct anchor {
	char *name;
	struct ynode *node;
};

struct parse_state {
	struct ydoc *doc;
	size_t *line_starts; /* byte offset of each line */
	size_t nlines;
	struct anchor *anchors;
	size_t nanchors;
	struct ynode *stack[YDOC_MAX_DEPTH];
	int depth;
};

static struct ynode *node_new(struct ydoc *d, enum ynode_type t)
{
	struct ynode *n = xcalloc(1, sizeof *n);
	n->type = t;
	if (d->nall == d->alloc) {
		d->alloc = d->alloc ? d->alloc * 2 : 64;
		d->all = xrealloc(d->all, d->alloc * sizeof *d->all);
	}
	d->all[d->nall++] = n;
	return n;
}

static void build_lines(struct parse_state *ps, const char *text, size_t len)
{
	size_t alloc = 64;
	ps->line_starts = xmalloc(alloc * sizeof *ps->line_starts);
	ps->nlines = 0;
	size_t start = (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) ? 3 : 0;
	ps->line_starts[ps->nlines++] = start;
	for (size_t i = start; i < len; i++) {
		int brk = 0;
		if (text[i] == '\n')
			brk = 1;
		else if (text[i] == '\r' && (i + 1 >= len || text[i + 1] != '\n'))
			brk = 1;
		if (brk) {
			if (ps->nlines == alloc) {
				alloc *= 2;
				ps->line_starts = xrealloc(ps->line_starts, alloc * sizeof *ps->line_starts);
			}
			ps->line_starts[ps->nlines++] = i + 1;
		}
	}
}

/* libyaml marks count characters; convert (line, column) to a byte offset. */
static struct ymark conv_mark(const struct parse_state *ps, yaml_mark_t m)
{
	struct ymark r;
	const char *text = ps->doc->text;
	size_t len = ps->doc->len;
	size_t line = m.line < ps->nlines ? m.line : ps->nlines - 1;
	size_t off = ps->line_starts[line];
	size_t col = m.line < ps->nlines ? m.column : 0;
	for (size_t c = 0; c < col && off < len; c++) {
		off++;
		while (off < len && ((unsigned char)text[off] & 0xC0) == 0x80)
			off++;
	}
	if (m.line >= ps->nlines)
		off = len;
	r.off = off;
	r.line = (int)line + 1;
	r.col = (int)col + 1;
	return r;
}

static void anchor_add(struct parse_state *ps, const yaml_char_t *name, struct ynode *n)
{
	if (!name)
		return;
	ps->anchors = xrealloc(ps->anchors, (ps->nanchors + 1) * sizeof *ps->anchors);
	ps->anchors[ps->nanchors].name = xstrdup((const char *)name);
	ps->anchors[ps->nanchors].node = n;
	ps->nanchors++;
}

static struct ynode *anchor_find(struct parse_state *ps, const yaml_char_t *name)
{
	for (size_t i = ps->nanchors; i-- > 0;)
		if (!strcmp(ps->anchors[i].name, (const char *)name))
			return ps->anchors[i].node;
	return NULL;
}

/* Items are appended to a growing array; for maps n counts pairs, and a key waits in items[2n]. */
static size_t item_count(const struct ynode *p)
{
	return p->type == YN_MAP ? p->n * 2 : p->n;
}

static void add_child(struct parse_state *ps, struct ynode *child)
{
	if (ps->depth == 0) {
		if (!ps->doc->root)
			ps->doc->root = child;
		return;
	}
	struct ynode *p = ps->stack[ps->depth - 1];
	/* simple growth: realloc each time (documents are small) */
	if (p->type == YN_SEQ) {
		p->items = xrealloc(p->items, (p->n + 1) * sizeof *p->items);
		p->items[p->n++] = child;
		return;
	}
	/* map: a pending key is marked by p->plain_empty == 1 (unused otherwise for collections) */
	if (!p->plain_empty) {
		p->items = xrealloc(p->items, (p->n * 2 + 2) * sizeof *p->items);
		p->items[p->n * 2] = child;
		p->items[p->n * 2 + 1] = NULL;
		p->plain_empty = 1;
	} else {
		p->items[p->n * 2 + 1] = child;
		p->n++;
		p->plain_empty = 0;
	}
}

/* The end of a block collection: the end of its last descendant. */
static struct ymark last_end(const struct ynode *n)
{
	size_t c = item_count(n);
	if (!c)
		return n->start;
	return n->items[c - 1]->end;
}

/* The scalar a key stands for (aliases followed); NULL for complex keys. */
static const struct ynode *key_scalar(const struct ynode *k)
{
	int guard = 0;
	while (k && k->alias && guard++ < 64)
		k = k->alias;
	return k && k->type == YN_SCALAR ? k : NULL;
}

static int key_cmp(const void *a, const void *b)
{
	const struct ynode *const *x = a, *const *y = b;
	const struct ynode *kx = key_scalar(*x), *ky = key_scalar(*y);
	size_t n = kx->len < ky->len ? kx->len : ky->len;
	int c = memcmp(kx->value, ky->value, n);
	if (c)
		return c;
	if (kx->len != ky->len)
		return kx->len < ky->len ? -1 : 1;
	return (*x)->start.off < (*y)->start.off ? -1 : (*x)->start.off > (*y)->start.off;
}

/*
 * A key written twice in one mapping is an error, as in Meltano (ruamel's
 * DuplicateKeyError): the later one would silently win.  Keys compare by
 * their text (1 and "1" are one key in the JSON model).  Sorted, so a large
 * mapping costs n log n.
 */
static int check_duplicate_keys(const struct ynode *map, const char *name, char *err, size_t errlen)
{
	const struct ynode **keys = xmalloc((map->n ? map->n : 1) * sizeof *keys);
	const struct ynode *dup = NULL, *first = NULL;
	size_t nk = 0;
	for (size_t i = 0; i < map->n; i++)
		if (key_scalar(map->items[2 * i]))
			keys[nk++] = map->items[2 * i];
	qsort(keys, nk, sizeof *keys, key_cmp); /* by text, then by position */
	for (size_t i = 1; i < nk; i++) {
		const struct ynode *a = key_scalar(keys[i - 1]), *b = key_scalar(keys[i]);
		if (a->len != b->len || memcmp(a->value, b->value, a->len))
			continue;
		/* keys[i - 1] is the first of its run when the one before it differs */
		int run_start = i == 1 || key_scalar(keys[i - 2])->len != a->len ||
		                memcmp(key_scalar(keys[i - 2])->value, a->value, a->len);
		if (run_start && (!dup || keys[i]->start.off < dup->start.off)) {
			dup = keys[i];
			first = keys[i - 1];
		}
	}
	int rc = 0;
	if (dup) {
		const struct ynode *k = key_scalar(dup);
		rc = fail(err, errlen, SMELT_ERR_CONFIG, "%s:%d:%d: duplicate key '%.*s' (first at line %d, column %d)",
		          name, dup->start.line, dup->start.col, (int)(k->len > 200 ? 200 : k->len), k->value,
		          first->start.line, first->start.col);
	}
	free(keys);
	return rc;
}

/*
 * Bound what aliases can make of a document: the expanded tree (what
 * ynode_to_json() builds) has at most YDOC_MAX_NODES nodes and
 * YDOC_MAX_DEPTH levels.  Each node's expanded size and height are
 * computed once (memoised in xsize, xheight), so the check is linear in
 * the written document.  Cycles were rejected by the parser.
 */
static int check_expansion(const struct ynode *n, int depth, size_t *size, int *height, const char *name,
                           char *err, size_t errlen)
{
	struct ynode *t = (struct ynode *)ynode_deref(n);
	if (depth > YDOC_MAX_DEPTH || (t->xsize && depth + t->xheight > YDOC_MAX_DEPTH))
		return fail(err, errlen, SMELT_ERR_CONFIG,
		            "%s:%d:%d: aliases nest the document deeper than %d levels of mappings and lists", name,
		            n->start.line, n->start.col, YDOC_MAX_DEPTH);
	if (!t->xsize) {
		size_t total = 1, c = item_count(t);
		int h = 0;
		for (size_t i = 0; i < c; i++) {
			size_t cs;
			int ch;
			if (!t->items[i])
				continue;
			int rc = check_expansion(t->items[i], depth + 1, &cs, &ch, name, err, errlen);
			if (rc < 0)
				return rc;
			total += cs;
			if (ch + 1 > h)
				h = ch + 1;
			if (total > YDOC_MAX_NODES)
				return fail(err, errlen, SMELT_ERR_CONFIG,
				            "%s:%d:%d: aliases expand the document to more than %d nodes", name, n->start.line,
				            n->start.col, YDOC_MAX_NODES);
		}
		t->xsize = total;
		t->xheight = h;
	}
	*size = t->xsize;
	*height = t->xheight;
	return 0;
}

static int parse_fail(char *err, size_t errlen, const char *name, const yaml_parser_t *parser)
{
	if (parser->error == YAML_MEMORY_ERROR)
		return fail(err, errlen, SMELT_ERR_NOMEM, "%s: out of memory reading YAML", name);
	const char *problem = parser->problem ? parser->problem : "cannot parse YAML";
	if (parser->context)
		return fail(err, errlen, SMELT_ERR_CONFIG, "%s:%zu:%zu: %s %s", name, parser->problem_mark.line + 1,
		            parser->problem_mark.column + 1, problem, parser->context);
	return fail(err, errlen, SMELT_ERR_CONFIG, "%s:%zu:%zu: %s", name, parser->problem_mark.line + 1,
	            parser->problem_mark.column + 1, problem);
}

int ydoc_parse(const char *text, size_t len, const char *name, struct ydoc **out, char *err, size_t errlen)
{
	struct parse_state ps = { 0 };
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = 0, done = 0, started = 0;
	struct ydoc *d = xcalloc(1, sizeof *d);

	d->text = text;
	d->len = len;
	ps.doc = d;
	build_lines(&ps, text, len);
	*out = NULL;
	if (!yaml_parser_initialize(&parser)) {
		/* libyaml fails only for lack of memory here */
		free(ps.line_starts);
		ydoc_free(d);
		return fail(err, errlen, SMELT_ERR_NOMEM, "%s: out of memory reading YAML", name);
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = parse_fail(err, errlen, name, &parser);
			break;
		}
		struct ynode *n = NULL;
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (started) {
				/* Meltano reads one document: a second one would be ignored silently */
				rc = fail(err, errlen, SMELT_ERR_CONFIG,
				          "%s:%zu:%zu: a second YAML document is not allowed (one document per file)", name,
				          ev.start_mark.line + 1, ev.start_mark.column + 1);
				done = 1;
			}
			started = 1;
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_SCALAR_EVENT:
			n = node_new(d, YN_SCALAR);
			n->style = ev.data.scalar.style;
			n->value = xstrndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
			n->len = ev.data.scalar.length;
			if (ev.data.scalar.tag)
				n->tag = xstrdup((const char *)ev.data.scalar.tag);
			n->start = conv_mark(&ps, ev.start_mark);
			n->end = conv_mark(&ps, ev.end_mark);
			n->plain_empty = n->style == YAML_PLAIN_SCALAR_STYLE && n->len == 0 && !n->tag;
			if (n->plain_empty && ps.depth > 0) {
				/* libyaml puts an empty scalar at the next token: pin it after its key / dash */
				struct ynode *p = ps.stack[ps.depth - 1];
				if (p->type == YN_MAP && p->plain_empty)
					n->start = n->end = p->items[p->n * 2]->end;
				else if (p->type == YN_SEQ)
					n->start = n->end = p->n ? p->items[p->n - 1]->end : p->start;
			}
			anchor_add(&ps, ev.data.scalar.anchor, n);
			add_child(&ps, n);
			break;
		case YAML_ALIAS_EVENT: {
			struct ynode *target = anchor_find(&ps, ev.data.alias.anchor);
			if (!target) {
				yaml_mark_t m = ev.start_mark;
				rc = fail(err, errlen, SMELT_ERR_CONFIG, "%s:%zu:%zu: unknown anchor '%s'", name, m.line + 1,
				          m.column + 1, (const char *)ev.data.alias.anchor);
				done = 1;
				break;
			}
			for (int i = 0; i < ps.depth; i++) {
				if (ps.stack[i] == target) {
					yaml_mark_t m = ev.start_mark;
					rc = fail(err, errlen, SMELT_ERR_CONFIG,
					          "%s:%zu:%zu: alias '*%s' refers to a node that contains it (a cycle)", name,
					          m.line + 1, m.column + 1, (const char *)ev.data.alias.anchor);
					done = 1;
				}
			}
			if (done)
				break;
			n = node_new(d, target->type);
			n->alias = target;
			n->start = conv_mark(&ps, ev.start_mark);
			n->end = conv_mark(&ps, ev.end_mark);
			add_child(&ps, n);
			break;
		}
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT: {
			int is_map = ev.type == YAML_MAPPING_START_EVENT;
			if (ps.depth >= YDOC_MAX_DEPTH) {
				rc = fail(err, errlen, SMELT_ERR_CONFIG,
				          "%s:%zu:%zu: nesting deeper than %d levels of mappings and lists", name,
				          ev.start_mark.line + 1, ev.start_mark.column + 1, YDOC_MAX_DEPTH);
				done = 1;
				break;
			}
			n = node_new(d, is_map ? YN_MAP : YN_SEQ);
			n->flow = is_map ? ev.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
			                 : ev.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
			const yaml_char_t *tag = is_map ? ev.data.mapping_start.tag : ev.data.sequence_start.tag;
			if (tag)
				n->tag = xstrdup((const char *)tag);
			n->start = conv_mark(&ps, ev.start_mark);
			anchor_add(&ps, is_map ? ev.data.mapping_start.anchor : ev.data.sequence_start.anchor, n);
			add_child(&ps, n);
			ps.stack[ps.depth++] = n;
			break;
		}
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (ps.depth > 0) {
				n = ps.stack[--ps.depth];
				n->plain_empty = 0;
				n->end = n->flow ? conv_mark(&ps, ev.end_mark) : last_end(n);
				if (n->flow || item_count(n) == 0)
					n->end = conv_mark(&ps, ev.end_mark);
				if (n->end.off < n->start.off)
					n->end = n->start;
				if (n->type == YN_MAP && (rc = check_duplicate_keys(n, name, err, errlen)) < 0)
					done = 1;
			}
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (!rc && d->root) {
		size_t nodes = 0;
		int height = 0;
		rc = check_expansion(d->root, 0, &nodes, &height, name, err, errlen);
	}
	for (size_t i = 0; i < ps.nanchors; i++)
		free(ps.anchors[i].name);
	free(ps.anchors);
	free(ps.line_starts);
	if (rc) {
		ydoc_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

void ydoc_free(struct ydoc *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nall; i++) {
		free(d->all[i]->value);
		free(d->all[i]->tag);
		free(d->all[i]->items);
		free(d->all[i]);
	}
	free(d->all);
	free(d);
}

/* ---- reading ------------------------------------------------------------- */

const struct ynode *ynode_deref(const struct ynode *n)
{
	int guard = 0;
	while (n && n->alias && guard++ < 64)
		n = n->alias;
	return n;
}

static int key_is(const struct ynode *k, const char *key)
{
	k = ynode_deref(k);
	return k && k->type == YN_SCALAR && k->value && strlen(k->value) == k->len && !strcmp(k->value, key);
}

const struct ynode *ynode_get(const struct ynode *map, const char *key, const struct ynode **keynode)
{
	map = ynode_deref(map);
	if (!map || map->type != YN_MAP)
		return NULL;
	for (size_t i = map->n; i-- > 0;) { /* keys are unique (ydoc_parse refuses duplicates) */
		if (key_is(map->items[2 * i], key)) {
			if (keynode)
				*keynode = map->items[2 * i];
			return map->items[2 * i + 1];
		}
	}
	return NULL;
}

static int is_str_tag(const char *tag)
{
	return tag && (!strcmp(tag, "tag:yaml.org,2002:str") || !strcmp(tag, "!!str") || !strcmp(tag, "!"));
}

static int match_null(const char *s)
{
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int match_bool(const char *s, int *val)
{
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return *val = 1, 1;
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return *val = 0, 1;
	return 0;
}

static int all_in(const char *s, const char *set)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!strchr(set, *s))
			return 0;
	return 1;
}

/* YAML 1.2 core schema ints and floats. */
static int match_number(const char *s, double *val)
{
	const char *p = s;
	if (!strncmp(s, "0o", 2) && all_in(s + 2, "01234567")) {
		*val = (double)strtoull(s + 2, NULL, 8);
		return 1;
	}
	if (!strncmp(s, "0x", 2) && all_in(s + 2, "0123456789abcdefABCDEF")) {
		*val = (double)strtoull(s + 2, NULL, 16);
		return 1;
	}
	if (*p == '-' || *p == '+')
		p++;
	int digits = 0, frac = 0;
	while (isdigit((unsigned char)*p))
		p++, digits++;
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p))
			p++, frac++;
		if (!digits && !frac)
			return 0;
	} else if (!digits) {
		return 0;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p)
		return 0;
	*val = strtod(s, NULL);
	return isfinite(*val);
}

int ynode_is_null(const struct ynode *n)
{
	n = ynode_deref(n);
	if (!n)
		return 1;
	if (n->type != YN_SCALAR || is_str_tag(n->tag))
		return 0;
	if (n->tag && !strcmp(n->tag, "tag:yaml.org,2002:null"))
		return 1;
	return n->style == YAML_PLAIN_SCALAR_STYLE && match_null(n->value);
}

/*
 * A plain YAML 1.1 timestamp with a time of day ("2022-12-31 23:59:59",
 * "2021-10-01t00:00:00.5Z") in the ISO form Meltano passes on (Python's
 * isoformat(): a 'T', microseconds padded to six digits or dropped when
 * zero).  Unlike Meltano, whose YAML loader drops the zone, an offset or Z
 * is kept as written: dropping it would move the instant.  NULL when s is
 * not such a timestamp; caller frees.
 */
static char *iso_timestamp(const char *s)
{
	const char *p = s;
	for (int i = 0; i < 10; i++, p++)
		if ((i == 4 || i == 7) ? *p != '-' : !isdigit((unsigned char)*p))
			return NULL;
	if (*p == 'T' || *p == 't')
		p++;
	else if (*p == ' ' || *p == '\t')
		while (*p == ' ' || *p == '\t')
			p++;
	else
		return NULL;
	const char *hh = p;
	if (!isdigit((unsigned char)*p))
		return NULL;
	if (isdigit((unsigned char)p[1]))
		p++;
	p++;
	size_t hlen = (size_t)(p - hh);
	if (p[0] != ':' || !isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) || p[3] != ':' ||
	    !isdigit((unsigned char)p[4]) || !isdigit((unsigned char)p[5]))
		return NULL;
	const char *ms = p + 1;
	p += 6;
	char frac[7] = "";
	int nonzero = 0;
	if (*p == '.') {
		size_t k = 0;
		for (p++; isdigit((unsigned char)*p); p++)
			if (k < 6) {
				frac[k++] = *p;
				nonzero |= *p != '0';
			}
		while (k < 6)
			frac[k++] = '0';
		frac[6] = '\0';
	}
	while (*p == ' ' || *p == '\t')
		p++;
	const char *zone = p;
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		p++;
		if (!isdigit((unsigned char)*p))
			return NULL;
		while (isdigit((unsigned char)*p))
			p++;
		if (*p == ':') {
			p++;
			if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
				return NULL;
			p += 2;
		}
	}
	if (*p)
		return NULL;
	return xasprintf("%.10sT%s%.*s:%.5s%s%s%s", s, hlen == 1 ? "0" : "", (int)hlen, hh, ms, nonzero ? "." : "",
	                 nonzero ? frac : "", zone);
}

static cJSON *scalar_json(const struct ynode *n)
{
	int b;
	double d;
	if (n->style != YAML_PLAIN_SCALAR_STYLE || is_str_tag(n->tag) ||
	    (n->tag && strncmp(n->tag, "tag:yaml.org,2002:", 18)))
		return cJSON_CreateString(n->value);
	if (match_null(n->value))
		return cJSON_CreateNull();
	if (match_bool(n->value, &b))
		return cJSON_CreateBool(b);
	if (match_number(n->value, &d)) {
		cJSON *num = json_number_from_text(n->value, n->len);
		if (num)
			return num;
		num = xnonnull(cJSON_CreateNumber(d));
		if ((!strncmp(n->value, "0x", 2) || !strncmp(n->value, "0o", 2)) && fabs(d) >= 9007199254740992.0) {
			/* a long hex or octal integer: keep its exact value as decimal text */
			errno = 0;
			unsigned long long u = strtoull(n->value + 2, NULL, n->value[1] == 'x' ? 16 : 8);
			if (!errno)
				num->valuestring = xasprintf("%llu", u);
		}
		return num;
	}
	char *ts = iso_timestamp(n->value);
	if (ts) {
		cJSON *j = cJSON_CreateString(ts);
		free(ts);
		return j;
	}
	return cJSON_CreateString(n->value);
}

static cJSON *to_json(const struct ynode *n, int depth, long *budget);

/* Adds v under key or dies out of memory (cJSON copies the key): a node is never dropped silently. */
static void add_member(cJSON *obj, const char *key, cJSON *v)
{
	if (!cJSON_AddItemToObject(obj, key, v)) {
		cJSON_Delete(v);
		xnonnull(NULL);
	}
}

static void merge_into(cJSON *obj, const struct ynode *src, int depth, long *budget)
{
	src = ynode_deref(src);
	if (!src)
		return;
	if (src->type == YN_SEQ) {
		for (size_t i = 0; i < src->n; i++)
			merge_into(obj, src->items[i], depth + 1, budget);
		return;
	}
	if (src->type != YN_MAP)
		return;
	cJSON *m = to_json(src, depth + 1, budget);
	for (cJSON *c = m ? m->child : NULL; c; c = c->next)
		if (!cJSON_GetObjectItemCaseSensitive(obj, c->string))
			add_member(obj, c->string, xnonnull(cJSON_Duplicate(c, 1)));
	cJSON_Delete(m);
}

static cJSON *to_json(const struct ynode *n, int depth, long *budget)
{
	n = ynode_deref(n);
	if (!n || depth > YDOC_MAX_DEPTH || --*budget < 0)
		return xnonnull(cJSON_CreateNull());
	if (n->type == YN_SCALAR)
		return xnonnull(scalar_json(n));
	if (n->type == YN_SEQ) {
		cJSON *a = xnonnull(cJSON_CreateArray());
		for (size_t i = 0; i < n->n && *budget >= 0; i++)
			cJSON_AddItemToArray(a, to_json(n->items[i], depth + 1, budget));
		return a;
	}
	cJSON *o = xnonnull(cJSON_CreateObject());
	const struct ynode *merge = NULL;
	for (size_t i = 0; i < n->n && *budget >= 0; i++) {
		const struct ynode *k = ynode_deref(n->items[2 * i]);
		if (!k || k->type != YN_SCALAR)
			continue; /* complex keys are not part of the schema */
		if (k->style == YAML_PLAIN_SCALAR_STYLE && !strcmp(k->value, "<<")) {
			merge = n->items[2 * i + 1];
			continue;
		}
		cJSON *v = to_json(n->items[2 * i + 1], depth + 1, budget);
		if (cJSON_GetObjectItemCaseSensitive(o, k->value)) {
			if (!cJSON_ReplaceItemInObjectCaseSensitive(o, k->value, v)) {
				cJSON_Delete(v);
				xnonnull(NULL);
			}
		} else {
			add_member(o, k->value, v);
		}
	}
	if (merge)
		merge_into(o, merge, depth, budget);
	return o;
}

cJSON *ynode_to_json(const struct ynode *n)
{
	long budget = YDOC_JSON_BUDGET;
	return to_json(n, 0, &budget);
}

/* ---- emitting -------------------------------------------------------------- */

static int looks_special(const char *s)
{
	static const char *const words[] = { "y", "Y", "n", "N", "yes", "Yes", "YES", "no", "No", "NO",
		                             "on", "On", "ON", "off", "Off", "OFF", ".inf", ".Inf", ".INF",
		                             "-.inf", "-.Inf", "-.INF", "+.inf", ".nan", ".NaN", ".NAN" };
	int b;
	double d;
	if (match_null(s) || match_bool(s, &b) || match_number(s, &d))
		return 1;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (!strcmp(s, words[i]))
			return 1;
	/* YAML 1.1 numbers (0755, 1_000, 1:20, 0b1) */
	const char *p = s;
	if (*p == '-' || *p == '+' || *p == '.')
		p++;
	return isdigit((unsigned char)*p);
}

static int plain_ok(const char *s)
{
	size_t len = strlen(s);
	if (!len || looks_special(s))
		return 0;
	if (strchr("-?:,[]{}#&*!|>'\"%@` \t", s[0]))
		return 0;
	if (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == ':')
		return 0;
	if (strstr(s, ": ") || strstr(s, " #") || strstr(s, ":\t") || strstr(s, "\t#"))
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static void emit_string(struct strbuf *sb, const char *s, int prefer_double)
{
	int printable = 1;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			printable = 0;
	if (!prefer_double && plain_ok(s)) {
		strbuf_addstr(sb, s);
		return;
	}
	if (printable && !prefer_double) {
		strbuf_addch(sb, '\'');
		for (const char *p = s; *p; p++) {
			if (*p == '\'')
				strbuf_addch(sb, '\'');
			strbuf_addch(sb, *p);
		}
		strbuf_addch(sb, '\'');
		return;
	}
	json_quote(sb, s);
}

static void emit_number(struct strbuf *sb, double d)
{
	if (!isfinite(d)) {
		strbuf_addstr(sb, d != d ? ".nan" : d > 0 ? ".inf" : "-.inf");
		return;
	}
	if (d == floor(d) && fabs(d) < 1e17) {
		strbuf_addf(sb, "%lld", (long long)d);
		return;
	}
	char buf[64];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	strbuf_addstr(sb, buf);
}

static void emit_scalar_styled(struct strbuf *sb, const cJSON *v, int style)
{
	if (!v || cJSON_IsNull(v)) {
		strbuf_addstr(sb, "null");
	} else if (cJSON_IsTrue(v)) {
		strbuf_addstr(sb, "true");
	} else if (cJSON_IsFalse(v)) {
		strbuf_addstr(sb, "false");
	} else if (cJSON_IsNumber(v)) {
		if (v->valuestring) /* the exact text of a long number */
			strbuf_addstr(sb, v->valuestring);
		else
			emit_number(sb, v->valuedouble);
	} else if (cJSON_IsString(v)) {
		if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE) {
			int printable = 1;
			for (const unsigned char *p = (const unsigned char *)v->valuestring; *p; p++)
				if (*p < 0x20 || *p == 0x7f)
					printable = 0;
			if (printable) {
				strbuf_addch(sb, '\'');
				for (const char *p = v->valuestring; *p; p++) {
					if (*p == '\'')
						strbuf_addch(sb, '\'');
					strbuf_addch(sb, *p);
				}
				strbuf_addch(sb, '\'');
				return;
			}
		}
		emit_string(sb, v->valuestring, style == YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	} else if (cJSON_IsArray(v) && !v->child) {
		strbuf_addstr(sb, "[]");
	} else if (cJSON_IsObject(v) && !v->child) {
		strbuf_addstr(sb, "{}");
	} else {
		json_dump(sb, v, -1); /* JSON is YAML flow; json_dump keeps numbers' exact text */
	}
}

void yaml_emit_scalar(struct strbuf *sb, const cJSON *v)
{
	emit_scalar_styled(sb, v, YAML_ANY_SCALAR_STYLE);
}

static int is_block(const cJSON *v)
{
	return v && (cJSON_IsArray(v) || cJSON_IsObject(v)) && v->child;
}

static void indent_to(struct strbuf *sb, int n)
{
	for (int i = 0; i < n; i++)
		strbuf_addch(sb, ' ');
}

/* Emit v at indent; the first line is not indented (the caller placed it). */
static void emit_block_rest(struct strbuf *sb, const cJSON *v, int indent)
{
	int first = 1;
	for (const cJSON *c = v->child; c; c = c->next) {
		if (!first) {
			strbuf_addch(sb, '\n');
			indent_to(sb, indent);
		}
		first = 0;
		if (cJSON_IsObject(v)) {
			cJSON key = { 0 };
			key.type = cJSON_String;
			key.valuestring = c->string ? c->string : "";
			yaml_emit_scalar(sb, &key);
			strbuf_addch(sb, ':');
			if (is_block(c)) {
				int child_indent = cJSON_IsObject(c) ? indent + 2 : indent;
				strbuf_addch(sb, '\n');
				indent_to(sb, child_indent);
				emit_block_rest(sb, c, child_indent);
			} else {
				strbuf_addch(sb, ' ');
				yaml_emit_scalar(sb, c);
			}
		} else {
			strbuf_addstr(sb, "- ");
			if (is_block(c))
				emit_block_rest(sb, c, indent + 2);
			else
				yaml_emit_scalar(sb, c);
		}
	}
}

void yaml_emit_block(struct strbuf *sb, const cJSON *v, int indent)
{
	indent_to(sb, indent);
	if (is_block(v))
		emit_block_rest(sb, v, indent);
	else
		yaml_emit_scalar(sb, v);
}

/* ---- editing ----------------------------------------------------------------- */

enum seg_kind { SEG_KEY, SEG_NAMED, SEG_INDEX };
struct seg {
	enum seg_kind kind;
	char *s;      /* key or name value (owned) */
	long index;
};

static void seg_parse(struct seg *sg, const char *p)
{
	size_t n = strlen(p);
	sg->s = NULL;
	sg->index = -1;
	if (n >= 2 && p[0] == '[' && p[n - 1] == ']') {
		if (!strncmp(p, "[name=", 6)) {
			sg->kind = SEG_NAMED;
			sg->s = xstrndup(p + 6, n - 7);
			return;
		}
		char *end;
		long v = strtol(p + 1, &end, 10);
		if (end == p + n - 1 && end != p + 1 && v >= 0) {
			sg->kind = SEG_INDEX;
			sg->index = v;
			return;
		}
	}
	sg->kind = SEG_KEY;
	sg->s = xstrdup(p);
}

enum edit_op { OP_SET, OP_UNSET, OP_APPEND };

static int json_is_named(const cJSON *item, const char *name)
{
	const cJSON *nm = cJSON_GetObjectItemCaseSensitive(item, "name");
	return cJSON_IsString(nm) && !strcmp(nm->valuestring, name);
}

/*
 * Apply op on a JSON tree held in *slot (which may be NULL or of the wrong
 * type: it is replaced for set/append).  Returns 0, 1 (unset: not there) or
 * a negative status.
 */
static int json_apply(cJSON **slot, const struct seg *segs, size_t n, enum edit_op op, const cJSON *v, char *err,
                      size_t errlen)
{
	if (n == 0) {
		if (op == OP_SET) {
			cJSON_Delete(*slot);
			*slot = cJSON_Duplicate(v, 1);
			return 0;
		}
		if (op == OP_APPEND) {
			if (!cJSON_IsArray(*slot)) {
				cJSON_Delete(*slot);
				*slot = cJSON_CreateArray();
			}
			cJSON_AddItemToArray(*slot, cJSON_Duplicate(v, 1));
			return 0;
		}
		return fail(err, errlen, SMELT_ERR, "empty path");
	}
	const struct seg *sg = &segs[0];
	int want_obj = sg->kind == SEG_KEY;
	if (want_obj ? !cJSON_IsObject(*slot) : !cJSON_IsArray(*slot)) {
		if (op == OP_UNSET)
			return 1;
		if (sg->kind == SEG_INDEX)
			return fail(err, errlen, SMELT_ERR, "no list item %ld", sg->index);
		cJSON_Delete(*slot);
		*slot = want_obj ? cJSON_CreateObject() : cJSON_CreateArray();
	}
	cJSON *container = *slot, *child = NULL;
	if (sg->kind == SEG_KEY) {
		child = cJSON_GetObjectItemCaseSensitive(container, sg->s);
	} else if (sg->kind == SEG_INDEX) {
		child = cJSON_GetArrayItem(container, (int)sg->index);
	} else {
		for (cJSON *c = container->child; c; c = c->next)
			if (json_is_named(c, sg->s))
				child = c;
	}
	if (!child) {
		if (op == OP_UNSET)
			return 1;
		if (sg->kind == SEG_INDEX)
			return fail(err, errlen, SMELT_ERR, "no list item %ld", sg->index);
		cJSON *nc = NULL;
		if (sg->kind == SEG_NAMED) {
			nc = cJSON_CreateObject();
			cJSON_AddStringToObject(nc, "name", sg->s);
		}
		int rc = json_apply(&nc, segs + 1, n - 1, op, v, err, errlen);
		if (rc < 0) {
			cJSON_Delete(nc);
			return rc;
		}
		if (sg->kind == SEG_NAMED && cJSON_IsObject(nc) && !cJSON_GetObjectItemCaseSensitive(nc, "name")) {
			cJSON *nm = cJSON_CreateString(sg->s);
			nm->string = xstrdup("name");
			json_link_after(nc, NULL, nm);
		}
		if (sg->kind == SEG_KEY)
			cJSON_AddItemToObject(container, sg->s, nc);
		else
			cJSON_AddItemToArray(container, nc);
		return 0;
	}
	if (n == 1 && op == OP_UNSET) {
		cJSON_Delete(cJSON_DetachItemViaPointer(container, child));
		return 0;
	}
	/* recurse on the child, then put it back at the same place (after prev) */
	cJSON *prev = child == container->child ? NULL : child->prev;
	cJSON *tmp = cJSON_DetachItemViaPointer(container, child);
	int rc = json_apply(&tmp, segs + 1, n - 1, op, v, err, errlen);
	if (sg->kind == SEG_KEY && (!tmp->string || strcmp(tmp->string, sg->s))) {
		if (!(tmp->type & cJSON_StringIsConst))
			free(tmp->string);
		tmp->type &= ~cJSON_StringIsConst;
		tmp->string = xstrdup(sg->s);
	}
	if (sg->kind != SEG_KEY && tmp->string) {
		free(tmp->string);
		tmp->string = NULL;
	}
	/* not cJSON_InsertItemInArray: Debian 12's libcjson fails it for any index but 0, and the item was lost */
	json_link_after(container, prev, tmp);
	return rc;
}

struct ectx {
	const struct ynode *node; /* the value node */
	const struct ynode *key;  /* its key when in a mapping */
	const struct ynode *seq;  /* its sequence when a list item */
};

static size_t line_start(const char *t, size_t off)
{
	while (off > 0 && t[off - 1] != '\n')
		off--;
	return off;
}

static size_t line_after(const char *t, size_t len, size_t off)
{
	if (off > len)
		off = len;
	if (off > 0 && t[off - 1] == '\n')
		return off;
	while (off < len && t[off] != '\n')
		off++;
	return off < len ? off + 1 : len;
}

static int only_spaces(const char *t, size_t a, size_t b)
{
	for (size_t i = a; i < b; i++)
		if (t[i] != ' ')
			return 0;
	return 1;
}

/* Column (0-based) of the '-' of a block list item; -1 when it cannot be found. */
static long dash_of(const char *t, const struct ynode *item, size_t *dash_off)
{
	size_t off = item->start.off;
	while (off > 0 && (t[off - 1] == ' ' || t[off - 1] == '\t' || t[off - 1] == '\n' || t[off - 1] == '\r'))
		off--;
	if (off == 0 || t[off - 1] != '-')
		return -1;
	off--;
	if (dash_off)
		*dash_off = off;
	return (long)(off - line_start(t, off));
}

struct splice {
	size_t from, to;
	struct strbuf with;
};

static void apply_splice(struct strbuf *text, struct splice *sp)
{
	struct strbuf out = STRBUF_INIT;
	strbuf_add(&out, text->buf, sp->from);
	strbuf_add(&out, sp->with.buf, sp->with.len);
	strbuf_add(&out, text->buf + sp->to, text->len - sp->to);
	strbuf_release(text);
	*text = out;
}

/* Replace the value at ctx by v. */
/*
 * A value on one line re-emitted over several (a flow collection becoming a
 * block): the comment after it on that line stays on that line, the first
 * of the new text ("- name: tap-x  # note", "config:  # note"), rather than
 * trail its last.
 */
static void keep_line_comment(const struct ydoc *d, struct splice *sp)
{
	const char *t = d->text;
	char *nl = memchr(sp->with.buf, '\n', sp->with.len);
	if (!nl || nl + 1 == sp->with.buf + sp->with.len || memchr(t + sp->from, '\n', sp->to - sp->from))
		return;
	size_t e = sp->to;
	while (e < d->len && (t[e] == ' ' || t[e] == '\t'))
		e++;
	if (e >= d->len || t[e] != '#')
		return;
	while (e < d->len && t[e] != '\n' && t[e] != '\r')
		e++;
	struct strbuf with = STRBUF_INIT;
	size_t at = (size_t)(nl - sp->with.buf);
	strbuf_add(&with, sp->with.buf, at);
	strbuf_add(&with, t + sp->to, e - sp->to); /* the comment with the blanks before it */
	strbuf_add(&with, sp->with.buf + at, sp->with.len - at);
	strbuf_release(&sp->with);
	sp->with = with;
	sp->to = e;
}

static int replace_value(struct ydoc *d, const struct ectx *c, const cJSON *v, struct splice *sp, char *err,
                         size_t errlen)
{
	const char *t = d->text;
	const struct ynode *n = c->node;
	strbuf_reset(&sp->with);
	if (c->key) {
		size_t p = c->key->end.off;
		while (p < d->len && (t[p] == ' ' || t[p] == '\t' || t[p] == '"' || t[p] == '\''))
			p++;
		if (p >= d->len || t[p] != ':')
			return fail(err, errlen, SMELT_ERR, "cannot edit the value of a complex key");
		sp->from = p + 1;
		sp->to = n->plain_empty ? p + 1 : n->end.off;
		if (sp->to < sp->from)
			sp->to = sp->from;
		/* a block collection on the lines below: its last line's comment goes with it */
		if (!n->plain_empty && !n->alias && !n->flow && n->type != YN_SCALAR && n->start.line > c->key->start.line) {
			size_t e = sp->to;
			while (e < d->len && (t[e] == ' ' || t[e] == '\t'))
				e++;
			if (e < d->len && t[e] == '#')
				while (e < d->len && t[e] != '\n' && t[e] != '\r')
					e++;
			if (e >= d->len || t[e] == '\n' || t[e] == '\r')
				sp->to = e;
		}
		if (is_block(v)) {
			int ind = c->key->start.col - 1 + (cJSON_IsObject(v) ? 2 : 0);
			strbuf_addch(&sp->with, '\n');
			yaml_emit_block(&sp->with, v, ind);
		} else {
			strbuf_addch(&sp->with, ' ');
			emit_scalar_styled(&sp->with, v, n->type == YN_SCALAR && !n->alias ? n->style : 0);
		}
	} else if (c->seq) {
		if (n->plain_empty)
			return fail(err, errlen, SMELT_ERR, "cannot edit an empty list item");
		sp->from = n->start.off;
		sp->to = n->end.off;
		if (is_block(v)) {
			int ind = n->start.col - 1;
			yaml_emit_block(&sp->with, v, ind);
			/* drop the first line's indent: the item starts after "- " */
			memmove(sp->with.buf, sp->with.buf + ind, sp->with.len - ind + 1);
			sp->with.len -= ind;
		} else {
			emit_scalar_styled(&sp->with, v, n->type == YN_SCALAR && !n->alias ? n->style : 0);
		}
	} else {
		/* the root */
		sp->from = n ? n->start.off : d->len;
		sp->to = n ? n->end.off : d->len;
		yaml_emit_block(&sp->with, v, 0);
	}
	keep_line_comment(d, sp);
	if (sp->to > sp->from && t[sp->to - 1] == '\n')
		strbuf_addch(&sp->with, '\n');
	return 0;
}

static void emit_pair(struct strbuf *sb, const char *key, const cJSON *v, int indent)
{
	cJSON k = { 0 };
	k.type = cJSON_String;
	k.valuestring = (char *)key;
	indent_to(sb, indent);
	yaml_emit_scalar(sb, &k);
	strbuf_addch(sb, ':');
	if (is_block(v)) {
		strbuf_addch(sb, '\n');
		yaml_emit_block(sb, v, indent + (cJSON_IsObject(v) ? 2 : 0));
	} else {
		strbuf_addch(sb, ' ');
		yaml_emit_scalar(sb, v);
	}
	strbuf_addch(sb, '\n');
}

static void insert_at(struct ydoc *d, size_t at, struct splice *sp)
{
	sp->from = sp->to = at;
	if (at == d->len && d->len && d->text[d->len - 1] != '\n') {
		struct strbuf nl = STRBUF_INIT;
		strbuf_addch(&nl, '\n');
		strbuf_add(&nl, sp->with.buf, sp->with.len);
		strbuf_release(&sp->with);
		sp->with = nl;
	}
}

static void insert_pair(struct ydoc *d, const struct ynode *map, const char *key, const cJSON *v,
                        struct splice *sp)
{
	size_t at = line_after(d->text, d->len, map->items[2 * map->n - 1]->end.off);
	strbuf_reset(&sp->with);
	emit_pair(&sp->with, key, v, map->items[0]->start.col - 1);
	insert_at(d, at, sp);
}

static int append_item(struct ydoc *d, const struct ynode *seq, const cJSON *v, struct splice *sp)
{
	long col = dash_of(d->text, seq->items[0], NULL);
	if (col < 0)
		return -1;
	size_t at = line_after(d->text, d->len, seq->items[seq->n - 1]->end.off);
	strbuf_reset(&sp->with);
	indent_to(&sp->with, (int)col);
	strbuf_addstr(&sp->with, "- ");
	if (is_block(v)) {
		size_t mark = sp->with.len;
		yaml_emit_block(&sp->with, v, (int)col + 2);
		memmove(sp->with.buf + mark, sp->with.buf + mark + col + 2, sp->with.len - mark - col - 2 + 1);
		sp->with.len -= col + 2;
	} else {
		yaml_emit_scalar(&sp->with, v);
	}
	strbuf_addch(&sp->with, '\n');
	insert_at(d, at, sp);
	return 0;
}

static void free_segs(struct seg *segs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(segs[i].s);
	free(segs);
}

/* Re-emit the subtree at ctx with the edit applied on its JSON. */
static int rewrite(struct ydoc *d, const struct ectx *c, const struct seg *segs, size_t n, enum edit_op op,
                   const cJSON *v, struct splice *sp, char *err, size_t errlen)
{
	cJSON *j = c->node ? ynode_to_json(c->node) : NULL;
	int rc = json_apply(&j, segs, n, op, v, err, errlen);
	if (rc == 0)
		rc = replace_value(d, c, j, sp, err, errlen);
	cJSON_Delete(j);
	return rc;
}

/* An empty or null document reads as an empty mapping. */
static int doc_equal(const cJSON *a, const cJSON *b)
{
	int a_empty = !a || cJSON_IsNull(a) || (cJSON_IsObject(a) && !a->child);
	int b_empty = !b || cJSON_IsNull(b) || (cJSON_IsObject(b) && !b->child);
	if (a_empty || b_empty)
		return a_empty && b_empty;
	return json_equal(a, b);
}

/* "plugins.extractors[name=tap-x].config" for messages. */
static void path_describe(struct strbuf *sb, const char *const *path, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i && path[i][0] != '[')
			strbuf_addch(sb, '.');
		strbuf_addstr(sb, path[i]);
	}
	if (!n)
		strbuf_addstr(sb, "(the document)");
}

/*
 * edit() in steps.  The edit is planned as one splice of the text: on an
 * empty document by plan_empty(), else by walking the path through the
 * document's nodes, one segment at a time, with step_map() and
 * step_seq() (plan_walk()), and plan_full_path() when the whole path
 * exists.  A node the walk cannot splice into (an alias, a flow
 * collection, a scalar, a key segment on a list...) is re-emitted whole
 * with the edit applied on its JSON (rewrite()).  apply_checked() then
 * applies the splice only if the new text parses and reads as the tree
 * expected_tree() computed.
 *
 * The planning steps return 0 (the splice is planned), 1 (unset: the
 * path is not there, nothing to do), a negative status, or, for one
 * segment, EDIT_DESCEND (go on with the next one, c moved to its node).
 */
#define EDIT_DESCEND 2

/* What the document must read as after the edit: its tree with the edit applied; *ok 0 when that fails. */
static cJSON *expected_tree(const struct ydoc *d, const struct seg *segs, size_t n, enum edit_op op, const cJSON *v,
                            int *ok)
{
	char cerr[256];
	cJSON *expected = d->root && !ynode_is_null(d->root) ? ynode_to_json(d->root) : NULL;
	*ok = 1;
	if (json_apply(&expected, segs, n, op, v, cerr, sizeof cerr) < 0) {
		cJSON_Delete(expected);
		expected = NULL;
		*ok = 0;
	}
	return expected;
}

/* An empty or null document: the whole tree is emitted in its place (or at the end). */
static int plan_empty(struct ydoc *d, const struct seg *segs, size_t n, enum edit_op op, const cJSON *v,
                      struct splice *sp, char *err, size_t errlen)
{
	if (op == OP_UNSET)
		return 1;
	cJSON *j = NULL;
	int rc = json_apply(&j, segs, n, op, v, err, errlen);
	if (rc == 0) {
		strbuf_reset(&sp->with);
		yaml_emit_block(&sp->with, j, 0);
		strbuf_addch(&sp->with, '\n');
		if (d->root && !d->root->plain_empty) {
			sp->from = d->root->start.off;
			sp->to = line_after(d->text, d->len, d->root->end.off);
		} else {
			insert_at(d, d->len, sp);
		}
	}
	cJSON_Delete(j);
	return rc;
}

/* Unset the key at index k of the block mapping at c: its lines, the text up to the next key, or a rewrite. */
static int unset_pair(struct ydoc *d, const struct ectx *c, size_t k, const struct seg *segs, size_t i, size_t n,
                      struct splice *sp, char *err, size_t errlen)
{
	const struct ynode *cur = c->node, *key = cur->items[2 * k];
	size_t ls = line_start(d->text, key->start.off);
	size_t pend = cur->items[2 * k + 1]->end.off;
	if (cur->n == 1 && (c->key || c->seq)) { /* the last pair: the mapping becomes {} */
		cJSON *empty = cJSON_CreateObject();
		int rc = replace_value(d, c, empty, sp, err, errlen);
		cJSON_Delete(empty);
		return rc;
	}
	if (only_spaces(d->text, ls, key->start.off)) {
		sp->from = ls;
		sp->to = line_after(d->text, d->len, pend);
		return 0;
	}
	if (k + 1 < cur->n) {
		sp->from = key->start.off;
		sp->to = cur->items[2 * k + 2]->start.off;
		return 0;
	}
	return rewrite(d, c, segs + i, n - i, OP_UNSET, NULL, sp, err, errlen);
}

/* Segment i (a key) on the block mapping at c: insert, unset or set its pair, or descend into its value. */
static int step_map(struct ydoc *d, struct ectx *c, const struct seg *segs, size_t i, size_t n, enum edit_op op,
                    const cJSON *v, struct splice *sp, char *err, size_t errlen)
{
	const struct ynode *cur = c->node;
	const struct seg *sg = &segs[i];
	if (sg->kind != SEG_KEY) /* [name=x] or [0] on a mapping: the JSON edit decides */
		return op == OP_UNSET ? 1 : rewrite(d, c, segs + i, n - i, op, v, sp, err, errlen);
	size_t k;
	for (k = cur->n; k-- > 0;)
		if (key_is(cur->items[2 * k], sg->s))
			break;
	if (k == (size_t)-1) { /* a new key: the rest of the path becomes its value */
		if (op == OP_UNSET)
			return 1;
		cJSON *j = NULL;
		int rc = json_apply(&j, segs + i + 1, n - i - 1, op, v, err, errlen);
		if (rc == 0)
			insert_pair(d, cur, sg->s, j, sp);
		cJSON_Delete(j);
		return rc;
	}
	if (i == n - 1 && op == OP_UNSET)
		return unset_pair(d, c, k, segs, i, n, sp, err, errlen);
	if (i == n - 1 && op == OP_SET) {
		struct ectx vc = { cur->items[2 * k + 1], cur->items[2 * k], NULL };
		return replace_value(d, &vc, v, sp, err, errlen);
	}
	c->node = cur->items[2 * k + 1];
	c->key = cur->items[2 * k];
	c->seq = NULL;
	return EDIT_DESCEND;
}

/* The index of the item segment sg names in the block sequence cur ([N] or [name=x], the last match); -1: none. */
static size_t seq_find(const struct ynode *cur, const struct seg *sg)
{
	size_t k = (size_t)-1;
	if (sg->kind == SEG_INDEX) {
		if ((size_t)sg->index < cur->n)
			k = (size_t)sg->index;
		return k;
	}
	for (size_t j = 0; j < cur->n; j++) {
		const struct ynode *nm = ynode_get(cur->items[j], "name", NULL);
		nm = ynode_deref(nm);
		if (nm && nm->type == YN_SCALAR && !strcmp(nm->value, sg->s))
			k = j;
	}
	return k;
}

/* Unset item k of the block sequence at c: its lines, or the list becomes [] or is rewritten. */
static int unset_item(struct ydoc *d, const struct ectx *c, size_t k, const struct seg *segs, size_t i, size_t n,
                      struct splice *sp, char *err, size_t errlen)
{
	const struct ynode *cur = c->node, *item = cur->items[k];
	size_t dash = 0;
	long col = dash_of(d->text, item, &dash);
	if (cur->n == 1 && (c->key || c->seq)) {
		cJSON *empty = cJSON_CreateArray();
		int rc = replace_value(d, c, empty, sp, err, errlen);
		cJSON_Delete(empty);
		return rc;
	}
	if (col >= 0 && !item->plain_empty && only_spaces(d->text, line_start(d->text, dash), dash)) {
		sp->from = line_start(d->text, dash);
		sp->to = line_after(d->text, d->len, item->end.off);
		return 0;
	}
	return rewrite(d, c, segs + i, n - i, OP_UNSET, NULL, sp, err, errlen);
}

/* Segment i ([N] or [name=x]) on the block sequence at c: append, unset or set the item, or descend into it. */
static int step_seq(struct ydoc *d, struct ectx *c, const struct seg *segs, size_t i, size_t n, enum edit_op op,
                    const cJSON *v, const char *name, struct splice *sp, char *err, size_t errlen)
{
	const struct ynode *cur = c->node;
	const struct seg *sg = &segs[i];
	if (sg->kind == SEG_KEY) /* a key on a list: the JSON edit decides */
		return op == OP_UNSET ? 1 : rewrite(d, c, segs + i, n - i, op, v, sp, err, errlen);
	size_t k = seq_find(cur, sg);
	if (k == (size_t)-1) { /* a new item [name=x] at the end, holding the rest of the path */
		if (op == OP_UNSET)
			return 1;
		if (sg->kind == SEG_INDEX)
			return fail(err, errlen, SMELT_ERR_CONFIG, "%s: no list item %ld", name, sg->index);
		cJSON *j = NULL;
		int rc = json_apply(&j, segs + i, n - i, op, v, err, errlen);
		if (rc == 0 && append_item(d, cur, j->child, sp) < 0)
			rc = rewrite(d, c, segs + i, n - i, op, v, sp, err, errlen);
		cJSON_Delete(j);
		return rc;
	}
	const struct ynode *item = cur->items[k];
	if (i == n - 1 && op == OP_UNSET)
		return unset_item(d, c, k, segs, i, n, sp, err, errlen);
	if (i == n - 1 && op == OP_SET) {
		struct ectx vc = { item, NULL, cur };
		return replace_value(d, &vc, v, sp, err, errlen);
	}
	c->node = item;
	c->key = NULL;
	c->seq = cur;
	return EDIT_DESCEND;
}

/* The path exists in full at c: set its value, or append to it (in place when a block list). */
static int plan_full_path(struct ydoc *d, const struct ectx *c, enum edit_op op, const cJSON *v, struct splice *sp,
                          char *err, size_t errlen)
{
	const struct ynode *cur = c->node;
	if (op == OP_SET)
		return replace_value(d, c, v, sp, err, errlen);
	if (op != OP_APPEND)
		return fail(err, errlen, SMELT_ERR, "empty path");
	if (cur->type == YN_SEQ && !cur->flow && !cur->alias && cur->n > 0 && append_item(d, cur, v, sp) == 0)
		return 0;
	return rewrite(d, c, NULL, 0, op, v, sp, err, errlen);
}

/* Walk the path from the root of a non-empty document, segment by segment, and plan the splice. */
static int plan_walk(struct ydoc *d, const struct seg *segs, size_t n, enum edit_op op, const cJSON *v,
                     const char *name, struct splice *sp, char *err, size_t errlen)
{
	struct ectx c = { d->root, NULL, NULL };
	for (size_t i = 0; i < n; i++) {
		const struct ynode *cur = c.node;
		int rc;
		if (cur->alias || cur->flow || cur->type == YN_SCALAR) { /* no splicing inside: re-emit it */
			if (op == OP_UNSET && cur->type == YN_SCALAR)
				return 1;
			return rewrite(d, &c, segs + i, n - i, op, v, sp, err, errlen);
		}
		if (cur->type == YN_MAP)
			rc = step_map(d, &c, segs, i, n, op, v, sp, err, errlen);
		else
			rc = step_seq(d, &c, segs, i, n, op, v, name, sp, err, errlen);
		if (rc != EDIT_DESCEND)
			return rc;
	}
	return plan_full_path(d, &c, op, v, sp, err, errlen);
}

/*
 * Verify before keeping: the text with the splice must parse and read as
 * exactly the expected tree, so an edit can never drop or change another
 * node (a splice at the wrong place, an anchored node shared through an
 * alias, a bug in the re-emitter).  On a mismatch the text is restored.
 */
static int apply_checked(struct strbuf *text, const char *name, const char *const *path, size_t n,
                         struct splice *sp, const cJSON *expected, int have_expected, char *err, size_t errlen)
{
	struct strbuf saved = STRBUF_INIT, where = STRBUF_INIT;
	struct ydoc *check = NULL;
	char cerr[256];
	int rc = 0;
	strbuf_add(&saved, text->buf, text->len);
	apply_splice(text, sp);
	path_describe(&where, path, n);
	if (ydoc_parse(text->buf, text->len, name, &check, cerr, sizeof cerr) < 0) {
		rc = fail(err, errlen, SMELT_ERR,
		          "%s: cannot edit '%s' safely: the result would not parse (%s); nothing was changed", name,
		          where.buf, cerr);
	} else {
		cJSON *got = check->root && !ynode_is_null(check->root) ? ynode_to_json(check->root) : NULL;
		if (!have_expected || !doc_equal(expected, got))
			rc = fail(err, errlen, SMELT_ERR,
			          "%s: cannot edit '%s' safely: the change would also alter other parts of the file "
			          "(e.g. a node shared through an anchor); nothing was changed",
			          name, where.buf);
		cJSON_Delete(got);
	}
	strbuf_release(&where);
	if (rc < 0) {
		strbuf_release(text);
		*text = saved;
	} else {
		strbuf_release(&saved);
	}
	ydoc_free(check);
	return rc;
}

static int edit(struct strbuf *text, const char *name, const char *const *path, size_t n, enum edit_op op,
                const cJSON *v, char *err, size_t errlen)
{
	struct ydoc *d = NULL;
	struct seg *segs = xcalloc(n ? n : 1, sizeof *segs);
	struct splice sp = { 0, 0, STRBUF_INIT };
	cJSON *expected = NULL;
	int rc, have_expected = 0;

	for (size_t i = 0; i < n; i++)
		seg_parse(&segs[i], path[i]);
	if ((rc = ydoc_parse(text->buf, text->len, name, &d, err, errlen)) == 0) {
		expected = expected_tree(d, segs, n, op, v, &have_expected);
		if (!d->root || (d->root->type == YN_SCALAR && ynode_is_null(d->root)))
			rc = plan_empty(d, segs, n, op, v, &sp, err, errlen);
		else
			rc = plan_walk(d, segs, n, op, v, name, &sp, err, errlen);
		if (rc == 0)
			rc = apply_checked(text, name, path, n, &sp, expected, have_expected, err, errlen);
	}
	cJSON_Delete(expected);
	strbuf_release(&sp.with);
	ydoc_free(d);
	free_segs(segs, n);
	return rc;
}

int yedit_set(struct strbuf *text, const char *name, const char *const *path, size_t n, const cJSON *value,
              char *err, size_t errlen)
{
	return edit(text, name, path, n, OP_SET, value, err, errlen);
}

int yedit_unset(struct strbuf *text, const char *name, const char *const *path, size_t n, char *err,
                size_t errlen)
{
	if (!n)
		return fail(err, errlen, SMELT_ERR, "empty path");
	return edit(text, name, path, n, OP_UNSET, NULL, err, errlen);
}

int yedit_append(struct strbuf *text, const char *name, const char *const *path, size_t n, const cJSON *value,
                 char *err, size_t errlen)
{
	return edit(text, name, path, n, OP_APPEND, value, err, errlen);
}
