/*
 * The Singer message reader declared in singer_reader.h.
 */
#include "singer_reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void conn_reader_init(struct conn_reader *r)
{
	memset(r, 0, sizeof(*r));
}

static void stream_clear_schema(struct conn_stream *s)
{
	for (size_t i = 0; i < s->ncols; i++)
		free(s->cols[i].name);
	for (size_t i = 0; i < s->nkeys; i++)
		free(s->keys[i]);
	free(s->cols);
	free(s->keys);
	free(s->slot);
	free(s->hash);
	s->cols = NULL;
	s->keys = NULL;
	s->slot = NULL;
	s->hash = NULL;
	s->ncols = s->nkeys = s->hash_cap = 0;
}

void conn_reader_release(struct conn_reader *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nstreams; i++) {
		stream_clear_schema(r->streams[i]);
		free(r->streams[i]->name);
		free(r->streams[i]);
	}
	free(r->streams);
	conn_json_release(&r->json);
	conn_buf_release(&r->tmp);
	r->streams = NULL;
	r->nstreams = r->streams_cap = 0;
}

struct conn_stream *conn_reader_stream(struct conn_reader *r, const char *name)
{
	for (size_t i = 0; i < r->nstreams; i++)
		if (!strcmp(r->streams[i]->name, name))
			return r->streams[i];
	return NULL;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static size_t name_hash(const char *s, size_t n)
{
	size_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

/*
 * The slot of name in an open-addressing table of column indexes (+1; 0 =
 * empty): the slot holding it, or the empty slot where it would go.
 */
static size_t hash_slot(const size_t *hash, size_t cap, const struct conn_column *cols,
                        const char *name, size_t n)
{
	size_t mask = cap - 1, h;

	for (h = name_hash(name, n) & mask;; h = (h + 1) & mask) {
		size_t v = hash[h];

		if (!v || (cols[v - 1].name_len == n && !memcmp(cols[v - 1].name, name, n)))
			return h;
	}
}

static size_t stream_lookup(const struct conn_stream *s, const char *name, size_t n)
{
	size_t v;

	if (!s->hash_cap)
		return CONN_JNONE;
	v = s->hash[hash_slot(s->hash, s->hash_cap, s->cols, name, n)];
	return v ? v - 1 : CONN_JNONE;
}

const char *conn_types_str(unsigned types, char *buf, size_t buflen)
{
	static const char *const names[] = {"null", "boolean", "integer", "number", "string",
	                                    "object", "array"};
	size_t used = 0;

	if (!buflen)
		return buf;
	buf[0] = '\0';
	if ((types & CONN_TY_ANY) == CONN_TY_ANY) {
		snprintf(buf, buflen, "any");
		return buf;
	}
	for (int i = 1; i < 8; i++) {	/* null last */
		int bit = i % 7;

		if (types & (1u << bit)) {
			int w = snprintf(buf + used, buflen - used, "%s%s", used ? "|" : "", names[bit]);

			if (w < 0 || (size_t)w >= buflen - used)
				break;
			used += (size_t)w;
		}
	}
	return buf;
}

static unsigned type_bit(const struct conn_json *j, size_t t)
{
	static const struct { const char *name; unsigned bit; } map[] = {
		{"null", CONN_TY_NULL}, {"boolean", CONN_TY_BOOLEAN}, {"integer", CONN_TY_INTEGER},
		{"number", CONN_TY_NUMBER}, {"string", CONN_TY_STRING}, {"object", CONN_TY_OBJECT},
		{"array", CONN_TY_ARRAY},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (conn_json_streq(j, t, map[i].name, strlen(map[i].name)))
			return map[i].bit;
	return CONN_TY_ANY;	/* an unknown type name: accept anything */
}

/* The JSON types a property schema allows. */
static unsigned schema_types(const struct conn_json *j, size_t sch)
{
	unsigned m = 0;
	size_t t, e;
	const char *alt[] = {"anyOf", "oneOf"};

	if (sch == CONN_JNONE || j->tok[sch].type != CONN_J_OBJECT)
		return CONN_TY_ANY;
	t = conn_json_get(j, sch, "type");
	if (t != CONN_JNONE) {
		if (j->tok[t].type == CONN_J_STRING) {
			m |= type_bit(j, t);
		} else if (j->tok[t].type == CONN_J_ARRAY) {
			e = t + 1;
			for (size_t i = 0; i < j->tok[t].count; i++, e = j->tok[e].next)
				m |= j->tok[e].type == CONN_J_STRING ? type_bit(j, e) : CONN_TY_ANY;
		} else {
			m = CONN_TY_ANY;
		}
	}
	for (int a = 0; a < 2 && t == CONN_JNONE; a++) {
		size_t any = conn_json_get(j, sch, alt[a]);

		if (any == CONN_JNONE || j->tok[any].type != CONN_J_ARRAY)
			continue;
		e = any + 1;
		for (size_t i = 0; i < j->tok[any].count; i++, e = j->tok[e].next)
			m |= schema_types(j, e);
	}
	return m ? m : CONN_TY_ANY;
}

/*
 * The stream name at token t into r->tmp.  A NUL (\u0000) in it is an
 * error: names are C strings from here on (file and table names), and a
 * cut name would send one stream's records into another's file.
 */
static int stream_name(struct conn_reader *r, size_t t, char *err, size_t errlen)
{
	conn_json_string(&r->json, t, &r->tmp);
	if (r->tmp.oom)
		return -2;
	if (memchr(r->tmp.data, '\0', r->tmp.len))
		return fail(err, errlen, "line %lu: stream name '%s...' contains a NUL character", r->line, r->tmp.data);
	return 0;
}

static struct conn_stream *stream_add(struct conn_reader *r, const char *name)
{
	struct conn_stream *s;

	if (r->nstreams == r->streams_cap) {
		size_t cap = r->streams_cap ? r->streams_cap * 2 : 8;
		struct conn_stream **p = realloc(r->streams, cap * sizeof(*p));

		if (!p)
			return NULL;
		r->streams = p;
		r->streams_cap = cap;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->name = strdup(name);
	if (!s->name) {
		free(s);
		return NULL;
	}
	r->streams[r->nstreams++] = s;
	return s;
}

static char *memdup0(const char *p, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, p, n);
		d[n] = '\0';
	}
	return d;
}

static int read_schema(struct conn_reader *r, struct conn_msg *m, char *err, size_t errlen)
{
	const struct conn_json *j = &r->json;
	size_t st, sch, props, keys, k, cap;
	struct conn_stream *s;
	struct conn_column *cols = NULL;
	size_t ncols = 0, *hash = NULL;

	st = conn_json_get(j, 0, "stream");
	if (st == CONN_JNONE || j->tok[st].type != CONN_J_STRING)
		return fail(err, errlen, "line %lu: SCHEMA message has no 'stream'", r->line);
	int name_rc = stream_name(r, st, err, errlen);
	if (name_rc < 0)
		return name_rc;
	sch = conn_json_get(j, 0, "schema");
	if (sch == CONN_JNONE || j->tok[sch].type != CONN_J_OBJECT)
		return fail(err, errlen, "line %lu: SCHEMA for stream '%s' has no 'schema' object",
		            r->line, r->tmp.data);
	props = conn_json_get(j, sch, "properties");
	if (props == CONN_JNONE || j->tok[props].type != CONN_J_OBJECT)
		return fail(err, errlen, "line %lu: SCHEMA for stream '%s' has no 'schema.properties' object",
		            r->line, r->tmp.data);
	keys = conn_json_get(j, 0, "key_properties");
	if (keys != CONN_JNONE && j->tok[keys].type != CONN_J_ARRAY && j->tok[keys].type != CONN_J_NULL)
		return fail(err, errlen, "line %lu: SCHEMA for stream '%s': 'key_properties' is not an array",
		            r->line, r->tmp.data);

	s = conn_reader_stream(r, r->tmp.data);
	if (!s && !(s = stream_add(r, r->tmp.data)))
		return -2;

	/*
	 * columns, first occurrence of a name wins; the table is filled as the
	 * names come, so a schema of n properties costs O(n), not O(n^2)
	 */
	if (j->tok[props].count > CONN_MAX_COLUMNS)
		return fail(err, errlen, "line %lu: SCHEMA for stream '%s' has %zu properties, more than the limit of %d",
		            r->line, r->tmp.data, j->tok[props].count, CONN_MAX_COLUMNS);
	cols = calloc(j->tok[props].count + 1, sizeof(*cols));
	for (cap = 8; cap < j->tok[props].count * 2; cap *= 2)
		;
	hash = calloc(cap, sizeof(*hash));
	if (!cols || !hash)
		goto nomem;
	k = props + 1;
	for (size_t i = 0; i < j->tok[props].count; i++, k = j->tok[k + 1].next) {
		struct conn_column *c = &cols[ncols];
		size_t h;

		c->name = malloc(j->tok[k].end - j->tok[k].start + 1);
		if (!c->name)
			goto nomem;
		c->name_len = conn_json_unescape(j, k, c->name);
		c->name[c->name_len] = '\0';
		h = hash_slot(hash, cap, cols, c->name, c->name_len);
		if (hash[h]) {
			free(c->name);
			c->name = NULL;
			continue;
		}
		hash[h] = ncols + 1;
		c->types = schema_types(j, k + 1);
		ncols++;
	}

	stream_clear_schema(s);
	s->cols = cols;
	s->ncols = ncols;
	s->hash = hash;
	s->hash_cap = cap;
	cols = NULL;
	s->slot = malloc((ncols + 1) * sizeof(*s->slot));
	if (!s->slot)
		return -2;
	if (keys != CONN_JNONE && j->tok[keys].type == CONN_J_ARRAY) {
		s->keys = calloc(j->tok[keys].count + 1, sizeof(*s->keys));
		if (!s->keys)
			return -2;
		k = keys + 1;
		for (size_t i = 0; i < j->tok[keys].count; i++, k = j->tok[k].next) {
			size_t col;

			if (j->tok[k].type != CONN_J_STRING)
				return fail(err, errlen, "line %lu: SCHEMA for stream '%s': 'key_properties' holds a non-string",
				            r->line, s->name);
			conn_json_string(j, k, &r->tmp);
			if (r->tmp.oom)
				return -2;
			col = stream_lookup(s, r->tmp.data, r->tmp.len);
			if (col == CONN_JNONE)
				return fail(err, errlen, "line %lu: SCHEMA for stream '%s': key property '%s' is not in the schema",
				            r->line, s->name, r->tmp.data);
			if (s->cols[col].is_key)
				continue;
			s->cols[col].is_key = 1;
			s->keys[s->nkeys] = memdup0(r->tmp.data, r->tmp.len);
			if (!s->keys[s->nkeys])
				return -2;
			s->nkeys++;
		}
	}
	s->schemas++;
	m->type = CONN_MSG_SCHEMA;
	m->stream = s;
	return 0;
nomem:
	for (size_t i = 0; cols && i < ncols; i++)
		free(cols[i].name);
	free(cols);
	free(hash);
	return -2;
}

static const char *jtype_name(const struct conn_json *j, size_t t)
{
	switch (j->tok[t].type) {
	case CONN_J_NULL: return "null";
	case CONN_J_TRUE: case CONN_J_FALSE: return "boolean";
	case CONN_J_NUMBER: return "number";
	case CONN_J_STRING: return "string";
	case CONN_J_OBJECT: return "object";
	default: return "array";
	}
}

/* 1 when value token t fits the types. */
static int value_fits(const struct conn_json *j, size_t t, unsigned types)
{
	long long ignored;

	switch (j->tok[t].type) {
	case CONN_J_NULL:
		return 1;
	case CONN_J_TRUE:
	case CONN_J_FALSE:
		return !!(types & CONN_TY_BOOLEAN);
	case CONN_J_NUMBER:
		if (types & CONN_TY_NUMBER)
			return 1;
		if (!(types & CONN_TY_INTEGER))
			return 0;
		return (j->tok[t].flags & CONN_JF_INTEGER) || !conn_json_int(j, t, &ignored);
	case CONN_J_STRING:
		return !!(types & CONN_TY_STRING);
	case CONN_J_OBJECT:
		return !!(types & CONN_TY_OBJECT);
	default:
		return !!(types & CONN_TY_ARRAY);
	}
}

static int read_record(struct conn_reader *r, struct conn_msg *m, char *err, size_t errlen)
{
	const struct conn_json *j = &r->json;
	size_t st, rec, k, t;
	struct conn_stream *s;

	st = conn_json_get(j, 0, "stream");
	if (st == CONN_JNONE || j->tok[st].type != CONN_J_STRING)
		return fail(err, errlen, "line %lu: RECORD message has no 'stream'", r->line);
	int name_rc = stream_name(r, st, err, errlen);
	if (name_rc < 0)
		return name_rc;
	s = conn_reader_stream(r, r->tmp.data);
	if (!s)
		return fail(err, errlen, "stream '%s': record 1: RECORD before any SCHEMA for the stream",
		            r->tmp.data);
	s->records++;
	rec = conn_json_get(j, 0, "record");
	if (rec == CONN_JNONE)
		return fail(err, errlen, "stream '%s': record %lu: message has no 'record'", s->name, s->records);
	if (j->tok[rec].type != CONN_J_OBJECT)
		return fail(err, errlen, "stream '%s': record %lu: 'record' is not an object (got %s)",
		            s->name, s->records, jtype_name(j, rec));
	t = conn_json_get(j, 0, "version");
	if (t != CONN_JNONE && j->tok[t].type != CONN_J_NULL) {
		if (conn_json_int(j, t, &m->version) < 0)
			return fail(err, errlen, "stream '%s': record %lu: 'version' is not an integer",
			            s->name, s->records);
		m->has_version = 1;
	}
	t = conn_json_get(j, 0, "time_extracted");
	if (t != CONN_JNONE && j->tok[t].type == CONN_J_STRING)
		m->time_extracted = t;

	for (size_t c = 0; c < s->ncols; c++)
		s->slot[c] = CONN_JNONE;
	k = rec + 1;
	for (size_t i = 0; i < j->tok[rec].count; i++, k = j->tok[k + 1].next) {
		size_t col;

		if (j->tok[k].flags & CONN_JF_ESCAPED) {
			conn_json_string(j, k, &r->tmp);
			if (r->tmp.oom)
				return -2;
			col = stream_lookup(s, r->tmp.data, r->tmp.len);
		} else {
			col = stream_lookup(s, j->text + j->tok[k].start + 1,
			                    j->tok[k].end - j->tok[k].start - 2);
		}
		if (col == CONN_JNONE) {
			s->unknown++;
			continue;
		}
		s->slot[col] = k + 1;
		if (!value_fits(j, k + 1, s->cols[col].types)) {
			char want[64];
			const struct conn_jtok *v = &j->tok[k + 1];
			size_t show = v->end - v->start;

			return fail(err, errlen, "stream '%s': record %lu: field '%s': expected %s, got %s %.*s%s",
			            s->name, s->records, s->cols[col].name,
			            conn_types_str(s->cols[col].types, want, sizeof(want)),
			            jtype_name(j, k + 1), (int)(show > 40 ? 40 : show), j->text + v->start,
			            show > 40 ? "..." : "");
		}
	}
	/*
	 * Every key property must be there and not null, as the Singer SDK's
	 * targets require: a keyless row would get NULL in the key column and a
	 * rerun would add it again instead of updating it.
	 */
	for (size_t i = 0; i < s->nkeys; i++) {
		size_t col = stream_lookup(s, s->keys[i], strlen(s->keys[i]));

		if (col == CONN_JNONE)
			continue;
		if (s->slot[col] == CONN_JNONE)
			return fail(err, errlen, "line %lu: stream '%s': record %lu: key property '%s' is missing",
			            r->line, s->name, s->records, s->keys[i]);
		if (j->tok[s->slot[col]].type == CONN_J_NULL)
			return fail(err, errlen, "line %lu: stream '%s': record %lu: key property '%s' is null",
			            r->line, s->name, s->records, s->keys[i]);
	}
	m->type = CONN_MSG_RECORD;
	m->stream = s;
	m->record = rec;
	return 0;
}

int conn_reader_feed(struct conn_reader *r, const char *line, size_t len, struct conn_msg *m,
                     char *err, size_t errlen)
{
	const struct conn_json *j = &r->json;
	size_t t, i;
	int rc;

	memset(m, 0, sizeof(*m));
	m->record = m->value = m->time_extracted = CONN_JNONE;
	r->line++;
	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n')
			break;
	if (i == len) {
		m->type = CONN_MSG_BLANK;
		return 0;
	}
	rc = conn_json_parse(&r->json, line, len);
	if (rc == -2)
		return fail(err, errlen, "line %lu: out of memory", r->line), -2;
	if (rc < 0)
		return fail(err, errlen, "line %lu: invalid JSON: %s at offset %zu", r->line,
		            r->json.err, r->json.err_pos);
	if (j->tok[0].type != CONN_J_OBJECT)
		return fail(err, errlen, "line %lu: message is not a JSON object", r->line);
	t = conn_json_get(j, 0, "type");
	if (t == CONN_JNONE || j->tok[t].type != CONN_J_STRING)
		return fail(err, errlen, "line %lu: message has no 'type'", r->line);
	conn_json_string(j, t, &r->tmp);
	if (r->tmp.oom)
		return -2;
	if (!strcasecmp(r->tmp.data, "RECORD"))
		rc = read_record(r, m, err, errlen);
	else if (!strcasecmp(r->tmp.data, "SCHEMA"))
		rc = read_schema(r, m, err, errlen);
	else if (!strcasecmp(r->tmp.data, "STATE")) {
		m->value = conn_json_get(j, 0, "value");
		if (m->value == CONN_JNONE)
			return fail(err, errlen, "line %lu: STATE message has no 'value'", r->line);
		m->type = CONN_MSG_STATE;
		rc = 0;
	} else if (!strcasecmp(r->tmp.data, "ACTIVATE_VERSION")) {
		t = conn_json_get(j, 0, "stream");
		if (t == CONN_JNONE || j->tok[t].type != CONN_J_STRING)
			return fail(err, errlen, "line %lu: ACTIVATE_VERSION message has no 'stream'", r->line);
		if ((rc = stream_name(r, t, err, errlen)) < 0)
			return rc;
		m->stream = conn_reader_stream(r, r->tmp.data);
		if (!m->stream)
			return fail(err, errlen, "line %lu: ACTIVATE_VERSION for stream '%s' before any SCHEMA",
			            r->line, r->tmp.data);
		t = conn_json_get(j, 0, "version");
		if (t == CONN_JNONE || conn_json_int(j, t, &m->version) < 0)
			return fail(err, errlen, "line %lu: ACTIVATE_VERSION for stream '%s' has no integer 'version'",
			            r->line, m->stream->name);
		m->has_version = 1;
		m->type = CONN_MSG_ACTIVATE_VERSION;
		rc = 0;
	} else {
		m->type = CONN_MSG_UNKNOWN;
		rc = 0;
	}
	return rc;
}
