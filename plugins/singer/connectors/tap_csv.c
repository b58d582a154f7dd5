/*
 * tap-csv: a native Singer tap reading CSV files (see README.md).
 *
 *   tap-csv --config CONFIG [--discover] [--catalog CATALOG | --properties CATALOG] [--state STATE]
 *   tap-csv --about [--format=json]     tap-csv --version
 *
 * Messages go to stdout through one large buffer; logs and errors to stderr.
 */
#include <errno.h>
#include <glob.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "about.h"
#include "args.h"
#include "buf.h"
#include "log.h"
#include "csv.h"
#include "json.h"

#define TAP_NAME "tap-csv"
#define TAP_VERSION "0.1.0"
#define TAP_SAMPLE_ROWS 1000      /* rows sampled per stream for type inference */
#define TAP_STATE_EVERY 10000     /* records between STATE messages */
#define TAP_OUT_CHUNK (1 << 20)   /* stdout buffer and write size */
#define TAP_BAD_ROW_LOGS 10       /* skipped rows logged one by one */

enum tap_meta { TAP_META_FILE, TAP_META_LINENO, TAP_META_EXTRACTED, TAP_META_N };
static const char *const tap_meta_names[TAP_META_N] = {
	"_sdc_source_file", "_sdc_source_lineno", "_sdc_extracted_at",
};

struct tap_column {
	char *name;             /* column name (header or col_N) */
	enum csv_type type;     /* inferred type (string when inference is off) */
	int selected;           /* emitted in records */
	int is_key;             /* listed in keys */
	char *json_key;         /* "\"name\":" ready to copy */
	size_t json_key_len;    /* its length */
};

struct tap_stream {
	char *entity;               /* stream name and tap_stream_id */
	char *pattern;              /* path or glob from the config */
	char **files;               /* matched files, sorted */
	size_t nfiles;              /* number of files */
	char **keys;                /* key properties */
	size_t nkeys;               /* number of keys */
	char delim;                 /* field delimiter */
	char quote;                 /* quote character */
	int header;                 /* the first row names the columns */
	char *rep_key;              /* replication key column, or NULL */
	size_t rep_col;             /* its index */
	struct tap_column *cols;    /* CSV columns */
	size_t ncols;               /* number of columns */
	int selected;               /* the stream is synced */
	int meta_selected[TAP_META_N]; /* metadata columns selected (when enabled) */
};

struct tap {
	struct tap_stream *streams; /* streams in config order */
	size_t nstreams;            /* number of streams */
	int add_metadata;           /* add _sdc_source_* columns */
	int infer_types;            /* sample rows for types */
	int skip_bad_rows;          /* on_bad_row: skip */
	cJSON *state;               /* state being written (owned) */
	struct conn_buf out;        /* pending stdout bytes */
};


/*
 * A Singer metric on stderr, as Singer SDK and singer-python taps log them
 * (`METRIC: {...}`): runners such as smelt count records per stream from
 * these without reading the data.  value is the count since the last one;
 * a zero is written only when always is set (a stream with no new records
 * still says so, and its row count of 0 shows in the run's summary).
 */
static void emit_metric(const char *stream, unsigned long value, int always)
{
	struct conn_buf b = CONN_BUF_INIT;
	if (!value && !always)
		return;
	conn_buf_adds(&b, "tap-csv: info: METRIC: {\"type\":\"counter\",\"metric\":\"record_count\",\"value\":");
	conn_buf_addf(&b, "%lu,\"tags\":{\"stream\":", value);
	conn_json_escape(&b, stream, strlen(stream));
	conn_buf_adds(&b, "}}\n");
	if (!b.oom)
		fputs(b.data, stderr);
	conn_buf_release(&b);
}



static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		conn_die("out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		conn_die("out of memory");
	return d;
}


/* --- output --- */

/*
 * Column names -> index, an open-addressing table: stream_columns() and
 * tap_apply_catalog() look every column up once, so a stream of n columns
 * costs O(n), not O(n^2) (8k columns took seconds before).
 */
struct name_index {
	size_t *slot;    /* column index + 1; 0 = empty */
	size_t cap;      /* a power of two, at least twice the names */
};

static size_t name_index_hash(const char *s)
{
	size_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* The table slot of name: where it is, or the empty slot where it would go. */
static size_t *name_index_slot(const struct name_index *ix, const struct tap_column *cols, const char *name)
{
	size_t mask = ix->cap - 1;

	for (size_t h = name_index_hash(name) & mask;; h = (h + 1) & mask)
		if (!ix->slot[h] || !strcmp(cols[ix->slot[h] - 1].name, name))
			return &ix->slot[h];
}

static void name_index_init(struct name_index *ix, size_t n)
{
	for (ix->cap = 8; ix->cap < n * 2; ix->cap *= 2)
		;
	ix->slot = xcalloc(ix->cap, sizeof(*ix->slot));
}

/* The index of column name, or (size_t)-1. */
static size_t name_index_find(const struct name_index *ix, const struct tap_column *cols, const char *name)
{
	size_t v = *name_index_slot(ix, cols, name);

	return v ? v - 1 : (size_t)-1;
}

static void out_flush(struct tap *t)
{
	if (t->out.oom)
		conn_die("out of memory");
	if (t->out.len && fwrite(t->out.data, 1, t->out.len, stdout) != t->out.len)
		conn_die("cannot write to stdout: %s", strerror(errno));
	conn_buf_reset(&t->out);
}

static void out_escaped(struct conn_buf *b, const char *s)
{
	if (conn_json_escape(b, s, strlen(s)) < 0)
		conn_die("'%s' is not valid UTF-8", s);
}

static void utc_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
}

/* --- config --- */

static int json_bool(const cJSON *obj, const char *key, int def, const char *ctx)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v || cJSON_IsNull(v))
		return def;
	if (!cJSON_IsBool(v))
		conn_die("%s'%s' must be true or false", ctx, key);
	return cJSON_IsTrue(v);
}

static const char *json_str(const cJSON *obj, const char *key, const char *def, const char *ctx)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v || cJSON_IsNull(v))
		return def;
	if (!cJSON_IsString(v))
		conn_die("%s'%s' must be a string", ctx, key);
	return v->valuestring;
}

static char json_char(const cJSON *obj, const char *key, char def, const char *ctx)
{
	const char *s = json_str(obj, key, NULL, ctx);

	if (!s)
		return def;
	if (strlen(s) != 1 || s[0] == '\n' || s[0] == '\r')
		conn_die("%s'%s' must be a single character other than a line end", ctx, key);
	return s[0];
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void stream_glob(struct tap_stream *s)
{
	glob_t g;
	int rc = glob(s->pattern, 0, NULL, &g);

	if (rc == GLOB_NOMATCH)
		conn_die("stream '%s': no file matches '%s'", s->entity, s->pattern);
	if (rc)
		conn_die("stream '%s': cannot expand '%s'", s->entity, s->pattern);
	s->files = xcalloc(g.gl_pathc, sizeof(*s->files));
	for (size_t i = 0; i < g.gl_pathc; i++)
		s->files[i] = xstrdup(g.gl_pathv[i]);
	s->nfiles = g.gl_pathc;
	qsort(s->files, s->nfiles, sizeof(*s->files), cmp_str);
	globfree(&g);
}

static void tap_load_config(struct tap *t, const cJSON *cfg)
{
	const cJSON *files, *f;
	const char *bad;
	size_t i = 0;

	if (!cJSON_IsObject(cfg))
		conn_die("config is not a JSON object");
	files = cJSON_GetObjectItemCaseSensitive(cfg, "files");
	if (!cJSON_IsArray(files) || !cJSON_GetArraySize(files))
		conn_die("config: 'files' must be a non-empty array");
	t->add_metadata = json_bool(cfg, "add_metadata_columns", 0, "config: ");
	t->infer_types = json_bool(cfg, "infer_types", 1, "config: ");
	bad = json_str(cfg, "on_bad_row", "fail", "config: ");
	if (!strcmp(bad, "skip"))
		t->skip_bad_rows = 1;
	else if (strcmp(bad, "fail"))
		conn_die("config: 'on_bad_row' must be \"fail\" or \"skip\", not '%s'", bad);

	t->nstreams = (size_t)cJSON_GetArraySize(files);
	t->streams = xcalloc(t->nstreams, sizeof(*t->streams));
	cJSON_ArrayForEach(f, files) {
		struct tap_stream *s = &t->streams[i++];
		const char *entity, *path, *enc, *rk;
		const cJSON *keys, *k;
		char ctx[256];

		if (!cJSON_IsObject(f))
			conn_die("config: files[%zu] is not an object", i - 1);
		snprintf(ctx, sizeof(ctx), "config: files[%zu]: ", i - 1);
		entity = json_str(f, "entity", NULL, ctx);
		path = json_str(f, "path", NULL, ctx);
		if (!entity || !*entity)
			conn_die("%s'entity' is required", ctx);
		if (!path || !*path)
			conn_die("%s'path' is required", ctx);
		for (size_t p = 0; p + 1 < i; p++)
			if (!strcmp(t->streams[p].entity, entity))
				conn_die("%sentity '%s' is listed twice", ctx, entity);
		if (!conn_utf8_valid(entity, strlen(entity)))
			conn_die("%s'entity' is not valid UTF-8", ctx);
		s->entity = xstrdup(entity);
		s->pattern = xstrdup(path);
		s->delim = json_char(f, "delimiter", ',', ctx);
		s->quote = json_char(f, "quotechar", '"', ctx);
		if (s->delim == s->quote)
			conn_die("%s'delimiter' and 'quotechar' must differ", ctx);
		enc = json_str(f, "encoding", "utf-8", ctx);
		if (strcasecmp(enc, "utf-8") && strcasecmp(enc, "utf8") && strcasecmp(enc, "utf-8-sig") &&
		    strcasecmp(enc, "utf_8"))
			conn_die("%sencoding '%s' is not supported (only UTF-8)", ctx, enc);
		s->header = json_bool(f, "header", 1, ctx);
		rk = json_str(f, "replication_key", NULL, ctx);
		s->rep_key = rk && *rk ? xstrdup(rk) : NULL;
		keys = cJSON_GetObjectItemCaseSensitive(f, "keys");
		if (keys && !cJSON_IsNull(keys)) {
			if (!cJSON_IsArray(keys))
				conn_die("%s'keys' must be an array of column names", ctx);
			s->keys = xcalloc((size_t)cJSON_GetArraySize(keys), sizeof(*s->keys));
			cJSON_ArrayForEach(k, keys) {
				if (!cJSON_IsString(k))
					conn_die("%s'keys' must be an array of column names", ctx);
				s->keys[s->nkeys++] = xstrdup(k->valuestring);
			}
		}
	}
}

/* --- columns and inference --- */

static int csv_open(const char *path, struct csv_parser *p, char delim, char quote)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		conn_die("cannot open '%s': %s", path, strerror(errno));
	if (csv_init_fd(p, fd, delim, quote) < 0)
		conn_die("out of memory");
	return fd;
}

static void csv_close(struct csv_parser *p, int fd)
{
	csv_release(p);
	close(fd);
}

/* Read the header of a file (or size the columns from its first row). */
static int read_header(struct tap_stream *s, struct csv_parser *p, const char *path,
                       char ***names, size_t *n)
{
	int rc;

	for (;;) {
		rc = csv_next(p);
		if (rc == CSV_ROW || rc == CSV_EOF)
			break;
		if (rc == CSV_ERR)
			conn_die("%s:%lu: %s", path, p->err_line, p->err);
		conn_die("cannot read '%s': %s", path, rc == CSV_ERR_NOMEM ? "out of memory" : p->err);
	}
	if (rc == CSV_EOF)
		return 0;
	*n = p->nfields;
	*names = xcalloc(p->nfields, sizeof(**names));
	for (size_t i = 0; i < p->nfields; i++) {
		size_t len;
		const char *v = csv_field(p, i, &len);
		char tmp[32];

		if (!s->header || !len) {
			snprintf(tmp, sizeof(tmp), "col_%zu", i + 1);
			v = tmp;
		} else if (strlen(v) != len || !conn_utf8_valid(v, len)) {
			conn_die("%s:%lu: column %zu: name is not valid UTF-8 text", path, p->row_line, i + 1);
		}
		(*names)[i] = xstrdup(v);
	}
	return 1;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void stream_columns(struct tap *t, struct tap_stream *s)
{
	struct csv_infer *inf = NULL;
	size_t sampled = 0;

	stream_glob(s);
	for (size_t fi = 0; fi < s->nfiles; fi++) {
		struct csv_parser p;
		char **names = NULL;
		size_t n = 0;
		int fd = csv_open(s->files[fi], &p, s->delim, s->quote), rc;

		if (!read_header(s, &p, s->files[fi], &names, &n)) {
			csv_close(&p, fd);
			continue;	/* an empty file */
		}
		if (!s->cols) {
			struct name_index ix;

			s->ncols = n;
			s->cols = xcalloc(n, sizeof(*s->cols));
			inf = xcalloc(n, sizeof(*inf));
			name_index_init(&ix, n);
			for (size_t i = 0; i < n; i++) {
				size_t *slot;

				s->cols[i].name = names[i];
				names[i] = NULL;
				csv_infer_init(&inf[i]);
				slot = name_index_slot(&ix, s->cols, s->cols[i].name);
				if (*slot)
					conn_die("%s:%lu: duplicate column '%s'", s->files[fi], p.row_line,
					    s->cols[i].name);
				*slot = i + 1;
			}
			free(ix.slot);
		} else if (s->header) {
			int same = n == s->ncols;

			for (size_t i = 0; same && i < n; i++)
				same = !strcmp(names[i], s->cols[i].name);
			if (!same)
				conn_die("%s:%lu: header differs from the header of '%s'", s->files[fi], p.row_line,
				    s->files[0]);
		} else if (n != s->ncols) {
			conn_die("%s:%lu: expected %zu fields, found %zu", s->files[fi], p.row_line, s->ncols, n);
		}
		free_names(names, n);
		if (!s->header && t->infer_types && sampled < TAP_SAMPLE_ROWS) {
			/* the first row is data */
			if (p.nfields == s->ncols) {
				for (size_t i = 0; i < s->ncols; i++) {
					size_t len;
					const char *v = csv_field(&p, i, &len);

					csv_infer_add(&inf[i], v, len);
				}
				sampled++;
			}
		}
		p.expect_fields = s->ncols;
		while (t->infer_types && sampled < TAP_SAMPLE_ROWS) {
			rc = csv_next(&p);
			if (rc == CSV_EOF)
				break;
			if (rc == CSV_ERR)
				continue;	/* reported by the sync */
			if (rc < 0)
				conn_die("cannot read '%s': %s", s->files[fi], p.err);
			for (size_t i = 0; i < s->ncols; i++) {
				size_t len;
				const char *v = csv_field(&p, i, &len);

				csv_infer_add(&inf[i], v, len);
			}
			sampled++;
		}
		csv_close(&p, fd);
		if (!t->infer_types || sampled >= TAP_SAMPLE_ROWS)
			break;
	}
	if (!s->cols)
		conn_die("stream '%s': every file matching '%s' is empty", s->entity, s->pattern);
	for (size_t i = 0; i < s->ncols; i++) {
		struct conn_buf k = CONN_BUF_INIT;

		s->cols[i].type = t->infer_types ? csv_infer_result(&inf[i]) : CSV_T_STRING;
		s->cols[i].selected = 1;
		out_escaped(&k, s->cols[i].name);
		conn_buf_addc(&k, ':');
		if (k.oom)
			conn_die("out of memory");
		s->cols[i].json_key = k.data;
		s->cols[i].json_key_len = k.len;
	}
	free(inf);
	if (s->nkeys) {
		struct name_index ix;

		name_index_init(&ix, s->ncols);
		for (size_t i = 0; i < s->ncols; i++)
			*name_index_slot(&ix, s->cols, s->cols[i].name) = i + 1;
		for (size_t k = 0; k < s->nkeys; k++) {
			size_t i = name_index_find(&ix, s->cols, s->keys[k]);

			if (i == (size_t)-1)
				conn_die("stream '%s': key '%s' is not a column of '%s'", s->entity, s->keys[k],
				    s->files[0]);
			s->cols[i].is_key = 1;
		}
		free(ix.slot);
	}
	for (int m = 0; m < TAP_META_N; m++)
		s->meta_selected[m] = t->add_metadata;
	s->selected = 1;
}

static int stream_set_rep_key(struct tap_stream *s, const char *rk)
{
	for (size_t i = 0; i < s->ncols; i++) {
		if (!strcmp(s->cols[i].name, rk)) {
			if (rk != s->rep_key) {
				free(s->rep_key);
				s->rep_key = xstrdup(rk);
			}
			s->rep_col = i;
			return 0;
		}
	}
	return -1;
}

/* --- schema and catalog --- */

static cJSON *prop_schema(enum csv_type type)
{
	cJSON *p = cJSON_CreateObject(), *ty = cJSON_CreateArray();

	cJSON_AddItemToArray(ty, cJSON_CreateString(csv_type_json(type)));
	cJSON_AddItemToArray(ty, cJSON_CreateString("null"));
	cJSON_AddItemToObject(p, "type", ty);
	if (type == CSV_T_DATETIME)
		cJSON_AddStringToObject(p, "format", "date-time");
	else if (type == CSV_T_DATE)
		cJSON_AddStringToObject(p, "format", "date");
	return p;
}

static enum csv_type meta_type(int m)
{
	return m == TAP_META_LINENO ? CSV_T_INTEGER : m == TAP_META_EXTRACTED ? CSV_T_DATETIME : CSV_T_STRING;
}

/* The stream's JSON schema; with only_selected, just the selected properties. */
static cJSON *stream_schema(const struct tap *t, const struct tap_stream *s, int only_selected)
{
	cJSON *sch = cJSON_CreateObject(), *props = cJSON_CreateObject();

	cJSON_AddStringToObject(sch, "type", "object");
	for (size_t i = 0; i < s->ncols; i++)
		if (!only_selected || s->cols[i].selected)
			cJSON_AddItemToObject(props, s->cols[i].name, prop_schema(s->cols[i].type));
	for (int m = 0; t->add_metadata && m < TAP_META_N; m++)
		if (!only_selected || s->meta_selected[m])
			cJSON_AddItemToObject(props, tap_meta_names[m], prop_schema(meta_type(m)));
	cJSON_AddItemToObject(sch, "properties", props);
	return sch;
}

static cJSON *string_array(char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

static cJSON *md_entry(cJSON *breadcrumb, const char *inclusion)
{
	cJSON *e = cJSON_CreateObject(), *md = cJSON_CreateObject();

	cJSON_AddItemToObject(e, "breadcrumb", breadcrumb);
	cJSON_AddStringToObject(md, "inclusion", inclusion);
	cJSON_AddBoolToObject(md, "selected-by-default", 1);
	cJSON_AddItemToObject(e, "metadata", md);
	return e;
}

static cJSON *prop_breadcrumb(const char *name)
{
	cJSON *b = cJSON_CreateArray();

	cJSON_AddItemToArray(b, cJSON_CreateString("properties"));
	cJSON_AddItemToArray(b, cJSON_CreateString(name));
	return b;
}

static void tap_discover(struct tap *t)
{
	cJSON *cat = cJSON_CreateObject(), *streams = cJSON_CreateArray();
	char *txt;

	for (size_t si = 0; si < t->nstreams; si++) {
		struct tap_stream *s = &t->streams[si];
		cJSON *e = cJSON_CreateObject(), *md = cJSON_CreateArray(), *top, *topmd;

		cJSON_AddStringToObject(e, "tap_stream_id", s->entity);
		cJSON_AddStringToObject(e, "stream", s->entity);
		cJSON_AddItemToObject(e, "schema", stream_schema(t, s, 0));
		cJSON_AddItemToObject(e, "key_properties", string_array(s->keys, s->nkeys));
		if (s->rep_key) {
			cJSON_AddStringToObject(e, "replication_key", s->rep_key);
			cJSON_AddStringToObject(e, "replication_method", "INCREMENTAL");
		} else {
			cJSON_AddStringToObject(e, "replication_method", "FULL_TABLE");
		}
		top = md_entry(cJSON_CreateArray(), "available");
		topmd = cJSON_GetObjectItemCaseSensitive(top, "metadata");
		cJSON_AddItemToObject(topmd, "table-key-properties", string_array(s->keys, s->nkeys));
		cJSON_AddItemToObject(topmd, "valid-replication-keys",
		                      string_array(&s->rep_key, s->rep_key ? 1 : 0));
		cJSON_AddItemToArray(md, top);
		for (size_t i = 0; i < s->ncols; i++) {
			int automatic = s->cols[i].is_key || (s->rep_key && i == s->rep_col);

			cJSON_AddItemToArray(md, md_entry(prop_breadcrumb(s->cols[i].name),
			                                  automatic ? "automatic" : "available"));
		}
		for (int m = 0; t->add_metadata && m < TAP_META_N; m++)
			cJSON_AddItemToArray(md, md_entry(prop_breadcrumb(tap_meta_names[m]), "available"));
		cJSON_AddItemToObject(e, "metadata", md);
		cJSON_AddItemToArray(streams, e);
	}
	cJSON_AddItemToObject(cat, "streams", streams);
	txt = cJSON_Print(cat);
	if (!txt)
		conn_die("out of memory");
	fputs(txt, stdout);
	fputc('\n', stdout);
	free(txt);
	cJSON_Delete(cat);
}

/* The metadata object for a breadcrumb (NULL prop = the stream), or NULL. */
static const cJSON *md_find(const cJSON *mdarr, const char *prop)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, mdarr) {
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(e, "breadcrumb");
		int n = cJSON_GetArraySize(b);

		if (!cJSON_IsArray(b))
			continue;
		if (!prop && n == 0)
			return cJSON_GetObjectItemCaseSensitive(e, "metadata");
		if (prop && n == 2) {
			const cJSON *b0 = cJSON_GetArrayItem(b, 0), *b1 = cJSON_GetArrayItem(b, 1);

			if (cJSON_IsString(b0) && !strcmp(b0->valuestring, "properties") &&
			    cJSON_IsString(b1) && !strcmp(b1->valuestring, prop))
				return cJSON_GetObjectItemCaseSensitive(e, "metadata");
		}
	}
	return NULL;
}

/* SINGER.md section 5, rules 3-5 for one breadcrumb. */
static int md_selected(const cJSON *md, int parent, const cJSON *legacy_selected)
{
	const cJSON *inc = cJSON_GetObjectItemCaseSensitive(md, "inclusion");
	const cJSON *sel = cJSON_GetObjectItemCaseSensitive(md, "selected");
	const cJSON *def = cJSON_GetObjectItemCaseSensitive(md, "selected-by-default");

	if (cJSON_IsString(inc) && !strcmp(inc->valuestring, "unsupported"))
		return 0;
	if (cJSON_IsString(inc) && !strcmp(inc->valuestring, "automatic"))
		return 1;
	if (cJSON_IsBool(sel))
		return cJSON_IsTrue(sel);
	if (cJSON_IsBool(legacy_selected))
		return cJSON_IsTrue(legacy_selected);
	if (cJSON_IsBool(def))
		return cJSON_IsTrue(def);
	return parent;
}

/*
 * Column selection from a stream's metadata array, in one pass over it: each
 * ["properties", name] entry is matched through a name index (md_find() per
 * column made this quadratic).  The first entry of a breadcrumb wins, as
 * md_find() would find it.
 */
static void catalog_columns(struct tap *t, struct tap_stream *s, const cJSON *mdarr)
{
	const cJSON **pmd = xcalloc(s->ncols + 1, sizeof(*pmd));
	unsigned char *seen = xcalloc(s->ncols + 1, 1);
	const cJSON *meta[TAP_META_N] = {NULL}, *e;
	int meta_seen[TAP_META_N] = {0};
	struct name_index ix;

	name_index_init(&ix, s->ncols);
	for (size_t i = 0; i < s->ncols; i++)
		*name_index_slot(&ix, s->cols, s->cols[i].name) = i + 1;
	cJSON_ArrayForEach(e, mdarr) {
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(e, "breadcrumb"), *b0, *b1, *md;
		size_t col;

		if (!cJSON_IsArray(b) || !(b0 = b->child) || !(b1 = b0->next) || b1->next)
			continue;
		if (!cJSON_IsString(b0) || strcmp(b0->valuestring, "properties") || !cJSON_IsString(b1))
			continue;
		md = cJSON_GetObjectItemCaseSensitive(e, "metadata");
		col = name_index_find(&ix, s->cols, b1->valuestring);
		if (col != (size_t)-1 && !seen[col]) {
			seen[col] = 1;
			pmd[col] = md;
		}
		for (int m = 0; m < TAP_META_N; m++)
			if (!meta_seen[m] && !strcmp(b1->valuestring, tap_meta_names[m])) {
				meta_seen[m] = 1;
				meta[m] = md;
			}
	}
	/* no entry, or one without metadata, selects the column (md_selected(NULL, 1, ...) is 1) */
	for (size_t i = 0; i < s->ncols; i++)
		s->cols[i].selected = md_selected(pmd[i], 1, NULL);
	for (int m = 0; t->add_metadata && m < TAP_META_N; m++)
		s->meta_selected[m] = md_selected(meta[m], 1, NULL);
	free(ix.slot);
	free(seen);
	free(pmd);
}

static void tap_apply_catalog(struct tap *t, const cJSON *cat, const char *path)
{
	const cJSON *streams = cJSON_GetObjectItemCaseSensitive(cat, "streams");

	if (!cJSON_IsArray(streams))
		conn_die("catalog '%s' has no 'streams' array", path);
	for (size_t si = 0; si < t->nstreams; si++) {
		struct tap_stream *s = &t->streams[si];
		const cJSON *e, *entry = NULL, *mdarr, *smd, *v;

		cJSON_ArrayForEach(e, streams) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "tap_stream_id");

			if (!cJSON_IsString(id))
				id = cJSON_GetObjectItemCaseSensitive(e, "stream");
			if (cJSON_IsString(id) && !strcmp(id->valuestring, s->entity)) {
				entry = e;
				break;
			}
		}
		s->selected = 0;
		if (!entry)
			continue;
		mdarr = cJSON_GetObjectItemCaseSensitive(entry, "metadata");
		if (!cJSON_IsArray(mdarr) || !cJSON_GetArraySize(mdarr)) {
			s->selected = 1;	/* rule 1: no metadata at all */
			continue;
		}
		smd = md_find(mdarr, NULL);
		s->selected = md_selected(smd, 0, cJSON_GetObjectItemCaseSensitive(entry, "selected"));
		if (!s->selected)
			continue;
		catalog_columns(t, s, mdarr);
		/* replication settings written by the user or host */
		v = cJSON_GetObjectItemCaseSensitive(smd, "replication-method");
		if (!cJSON_IsString(v))
			v = cJSON_GetObjectItemCaseSensitive(entry, "replication_method");
		if (cJSON_IsString(v) && !strcasecmp(v->valuestring, "FULL_TABLE")) {
			free(s->rep_key);
			s->rep_key = NULL;
		} else {
			v = cJSON_GetObjectItemCaseSensitive(smd, "replication-key");
			if (!cJSON_IsString(v))
				v = cJSON_GetObjectItemCaseSensitive(entry, "replication_key");
			if (cJSON_IsString(v) && *v->valuestring && stream_set_rep_key(s, v->valuestring) < 0)
				conn_die("catalog: stream '%s': replication key '%s' is not a column", s->entity,
				    v->valuestring);
		}
	}
}

/* --- sync --- */

struct rep_state {
	int has_bookmark;           /* the state had a value for this stream */
	int numeric;                /* compare as numbers */
	double bookmark_num;        /* bookmark as a number */
	char *bookmark_str;         /* bookmark as text (string columns) */
	int has_max;                /* a value was emitted */
	double max_num;             /* the largest emitted value */
	struct conn_buf max_raw;    /* its CSV text */
	int sorted;                 /* values came in non-decreasing order so far */
};

static void rep_state_init(struct tap *t, struct tap_stream *s, struct rep_state *rs)
{
	const cJSON *bm, *v;

	memset(rs, 0, sizeof(*rs));
	rs->sorted = 1;
	rs->numeric = s->cols[s->rep_col].type == CSV_T_INTEGER || s->cols[s->rep_col].type == CSV_T_NUMBER;
	bm = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t->state, "bookmarks"),
	                                      s->entity);
	v = cJSON_GetObjectItemCaseSensitive(bm, "replication_key_value");
	if (!v || cJSON_IsNull(v))
		return;
	{
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(bm, "replication_key");

		if (cJSON_IsString(k) && strcmp(k->valuestring, s->rep_key)) {
			conn_warn("stream '%s': the state bookmarks '%s', not '%s': ignoring it", s->entity,
			     k->valuestring, s->rep_key);
			return;
		}
	}
	rs->has_bookmark = 1;
	if (rs->numeric) {
		if (cJSON_IsNumber(v))
			rs->bookmark_num = v->valuedouble;
		else if (cJSON_IsString(v) && csv_is_number(v->valuestring, strlen(v->valuestring)))
			rs->bookmark_num = strtod(v->valuestring, NULL);
		else
			conn_die("stream '%s': bookmark is not a number", s->entity);
	} else {
		if (cJSON_IsString(v))
			rs->bookmark_str = xstrdup(v->valuestring);
		else {
			char *txt = cJSON_PrintUnformatted(v);

			if (!txt)
				conn_die("out of memory");
			rs->bookmark_str = txt;
		}
	}
}

/* Write a STATE message with this stream's bookmark (when it has a replication key). */
static void emit_state(struct tap *t, struct tap_stream *s, const struct rep_state *rs, int final)
{
	cJSON *bms, *bm;
	char *txt;

	bms = cJSON_GetObjectItemCaseSensitive(t->state, "bookmarks");
	if (!cJSON_IsObject(bms)) {
		cJSON_DeleteItemFromObjectCaseSensitive(t->state, "bookmarks");
		bms = cJSON_AddObjectToObject(t->state, "bookmarks");
	}
	if (s->rep_key && rs->has_max && (final || rs->sorted)) {
		bm = cJSON_CreateObject();
		cJSON_AddStringToObject(bm, "replication_key", s->rep_key);
		if (rs->numeric)
			cJSON_AddItemToObject(bm, "replication_key_value", cJSON_CreateRaw(rs->max_raw.data));
		else
			cJSON_AddStringToObject(bm, "replication_key_value", rs->max_raw.data);
		if (cJSON_GetObjectItemCaseSensitive(bms, s->entity))
			cJSON_ReplaceItemInObjectCaseSensitive(bms, s->entity, bm);
		else
			cJSON_AddItemToObject(bms, s->entity, bm);
	}
	txt = cJSON_PrintUnformatted(t->state);
	if (!txt)
		conn_die("out of memory");
	conn_buf_adds(&t->out, "{\"type\":\"STATE\",\"value\":");
	conn_buf_adds(&t->out, txt);
	conn_buf_adds(&t->out, "}\n");
	free(txt);
}

static void emit_schema(struct tap *t, struct tap_stream *s)
{
	cJSON *msg = cJSON_CreateObject();
	char *txt;

	cJSON_AddStringToObject(msg, "type", "SCHEMA");
	cJSON_AddStringToObject(msg, "stream", s->entity);
	cJSON_AddItemToObject(msg, "schema", stream_schema(t, s, 1));
	cJSON_AddItemToObject(msg, "key_properties", string_array(s->keys, s->nkeys));
	if (s->rep_key)
		cJSON_AddItemToObject(msg, "bookmark_properties", string_array(&s->rep_key, 1));
	txt = cJSON_PrintUnformatted(msg);
	if (!txt)
		conn_die("out of memory");
	conn_buf_adds(&t->out, txt);
	conn_buf_addc(&t->out, '\n');
	free(txt);
	cJSON_Delete(msg);
}

/*
 * Append one value; 0, or -1 with why filled when it does not fit the
 * column's type.
 */
static int emit_value(struct conn_buf *b, const struct tap_column *c, const char *v, size_t len,
                      char *why, size_t whylen)
{
	if (c->type == CSV_T_STRING) {
		if (conn_json_escape(b, v, len) < 0)
			return snprintf(why, whylen, "column '%s': invalid UTF-8", c->name), -1;
		return 0;
	}
	if (!len) {
		conn_buf_add(b, "null", 4);
		return 0;
	}
	if (!csv_value_fits(c->type, v, len)) {
		snprintf(why, whylen, "column '%s': '%.40s' is not a valid %s%s", c->name, v,
		         c->type == CSV_T_DATETIME ? "date-time" : c->type == CSV_T_DATE ? "date" :
		         csv_type_json(c->type), " (type inferred from the first rows)");
		return -1;
	}
	switch (c->type) {
	case CSV_T_INTEGER:
	case CSV_T_NUMBER:
		conn_buf_add(b, v, len);
		break;
	case CSV_T_BOOLEAN:
		if (v[0] == 't' || v[0] == 'T')
			conn_buf_add(b, "true", 4);
		else
			conn_buf_add(b, "false", 5);
		break;
	default:
		conn_json_escape(b, v, len);	/* dates are ASCII once they fit */
	}
	return 0;
}

struct sync_counts {
	unsigned long records;    /* RECORD messages written */
	unsigned long bad;        /* rows skipped */
	unsigned long filtered;   /* rows at or below the bookmark */
};

static void bad_row(struct tap *t, const char *path, unsigned long line, const char *why,
                    struct sync_counts *cnt)
{
	if (!t->skip_bad_rows)
		conn_die("%s:%lu: %s", path, line, why);
	if (cnt->bad < TAP_BAD_ROW_LOGS)
		conn_warn("%s:%lu: %s (row skipped)", path, line, why);
	cnt->bad++;
}

static void sync_stream(struct tap *t, struct tap_stream *s)
{
	struct conn_buf prefix = CONN_BUF_INIT, suffix = CONN_BUF_INIT, file_json = CONN_BUF_INIT;
	struct sync_counts cnt = {0, 0, 0};
	struct rep_state rs;
	char now[64], why[256] = "";
	size_t first_sel = (size_t)-1;

	utc_now(now, sizeof(now));
	if (s->rep_key)
		rep_state_init(t, s, &rs);
	else
		memset(&rs, 0, sizeof(rs));
	emit_schema(t, s);
	conn_buf_adds(&prefix, "{\"type\":\"RECORD\",\"stream\":");
	out_escaped(&prefix, s->entity);
	conn_buf_adds(&prefix, ",\"record\":{");
	conn_buf_addf(&suffix, "},\"time_extracted\":\"%s\"}\n", now);
	for (size_t i = 0; i < s->ncols; i++)
		if (s->cols[i].selected && first_sel == (size_t)-1)
			first_sel = i;

	for (size_t fi = 0; fi < s->nfiles; fi++) {
		const char *path = s->files[fi];
		struct csv_parser p;
		int fd = csv_open(path, &p, s->delim, s->quote), rc;

		conn_buf_reset(&file_json);
		if (conn_json_escape(&file_json, path, strlen(path)) < 0)
			conn_die("file name '%s' is not valid UTF-8", path);
		if (s->header) {
			char **names = NULL;
			size_t n = 0;

			if (!read_header(s, &p, path, &names, &n)) {
				csv_close(&p, fd);
				continue;
			}
			free_names(names, n);
		}
		p.expect_fields = s->ncols;
		while ((rc = csv_next(&p)) != CSV_EOF) {
			size_t rec_start = t->out.len;
			int first = 1;

			if (rc == CSV_ERR) {
				bad_row(t, path, p.err_line, p.err, &cnt);
				continue;
			}
			if (rc < 0)
				conn_die("cannot read '%s': %s", path, rc == CSV_ERR_NOMEM ? "out of memory" : p.err);
			if (s->rep_key) {
				size_t len;
				const char *v = csv_field(&p, s->rep_col, &len);
				const struct tap_column *c = &s->cols[s->rep_col];
				double num = 0;

				if (len && !csv_value_fits(c->type, v, len)) {
					emit_value(&t->out, c, v, len, why, sizeof(why));
					t->out.len = rec_start;
					bad_row(t, path, p.row_line, why, &cnt);
					why[0] = '\0';
					continue;
				}
				if (!len) {
					if (rs.has_bookmark) {
						cnt.filtered++;
						continue;
					}
				} else {
					int cmp_bm = 1, cmp_max = 1;

					if (rs.numeric) {
						num = strtod(v, NULL);
						if (rs.has_bookmark)
							cmp_bm = num > rs.bookmark_num ? 1 : -1;
						if (rs.has_max)
							cmp_max = num > rs.max_num ? 1 : num < rs.max_num ? -1 : 0;
					} else {
						if (rs.has_bookmark)
							cmp_bm = strcmp(v, rs.bookmark_str) > 0 ? 1 : -1;
						if (rs.has_max)
							cmp_max = strcmp(v, rs.max_raw.data);
					}
					if (cmp_bm <= 0) {
						cnt.filtered++;
						continue;
					}
					if (cmp_max < 0)
						rs.sorted = 0;
					if (cmp_max > 0) {
						rs.has_max = 1;
						rs.max_num = num;
						conn_buf_reset(&rs.max_raw);
						conn_buf_add(&rs.max_raw, v, len);
					}
				}
			}
			conn_buf_add(&t->out, prefix.data, prefix.len);
			for (size_t i = first_sel == (size_t)-1 ? s->ncols : first_sel; i < s->ncols; i++) {
				const struct tap_column *c = &s->cols[i];
				size_t len;
				const char *v;

				if (!c->selected)
					continue;
				v = csv_field(&p, i, &len);
				if (!first)
					conn_buf_addc(&t->out, ',');
				first = 0;
				conn_buf_add(&t->out, c->json_key, c->json_key_len);
				if (emit_value(&t->out, c, v, len, why, sizeof(why)) < 0)
					break;
			}
			if (why[0]) {
				t->out.len = rec_start;
				t->out.data[rec_start] = '\0';
				bad_row(t, path, p.row_line, why, &cnt);
				why[0] = '\0';
				continue;
			}
			if (t->add_metadata) {
				if (s->meta_selected[TAP_META_FILE]) {
					conn_buf_adds(&t->out, first ? "\"_sdc_source_file\":" : ",\"_sdc_source_file\":");
					conn_buf_add(&t->out, file_json.data, file_json.len);
					first = 0;
				}
				if (s->meta_selected[TAP_META_LINENO]) {
					conn_buf_addf(&t->out, "%s\"_sdc_source_lineno\":%lu", first ? "" : ",",
					              p.row_line);
					first = 0;
				}
				if (s->meta_selected[TAP_META_EXTRACTED]) {
					conn_buf_addf(&t->out, "%s\"_sdc_extracted_at\":\"%s\"", first ? "" : ",", now);
					first = 0;
				}
			}
			conn_buf_add(&t->out, suffix.data, suffix.len);
			cnt.records++;
			if (cnt.records % TAP_STATE_EVERY == 0) {
				emit_state(t, s, &rs, 0);
				emit_metric(s->entity, TAP_STATE_EVERY, 0);
			}
			if (t->out.len >= TAP_OUT_CHUNK)
				out_flush(t);
		}
		csv_close(&p, fd);
	}
	emit_state(t, s, &rs, 1);
	out_flush(t);
	emit_metric(s->entity, cnt.records % TAP_STATE_EVERY, cnt.records == 0);
	if (s->rep_key)
		conn_info("%s: %lu records, %lu at or below the bookmark", s->entity, cnt.records, cnt.filtered);
	else
		conn_info("%s: %lu records", s->entity, cnt.records);
	if (cnt.bad)
		conn_info("%s: %lu bad rows skipped", s->entity, cnt.bad);
	conn_buf_release(&prefix);
	conn_buf_release(&suffix);
	conn_buf_release(&file_json);
	conn_buf_release(&rs.max_raw);
	free(rs.bookmark_str);
}

static void tap_release(struct tap *t)
{
	for (size_t i = 0; i < t->nstreams; i++) {
		struct tap_stream *s = &t->streams[i];

		free(s->entity);
		free(s->pattern);
		for (size_t f = 0; f < s->nfiles; f++)
			free(s->files[f]);
		free(s->files);
		for (size_t k = 0; k < s->nkeys; k++)
			free(s->keys[k]);
		free(s->keys);
		free(s->rep_key);
		for (size_t c = 0; c < s->ncols; c++) {
			free(s->cols[c].name);
			free(s->cols[c].json_key);
		}
		free(s->cols);
	}
	free(t->streams);
	cJSON_Delete(t->state);
	conn_buf_release(&t->out);
}

/* --- about --- */

static cJSON *settings_schema(void)
{
	const char *txt =
		"{\"type\":\"object\",\"properties\":{"
		"\"files\":{\"type\":\"array\",\"description\":\"CSV files, one entry per stream\","
		"\"items\":{\"type\":\"object\",\"properties\":{"
		"\"entity\":{\"type\":\"string\",\"description\":\"stream name\"},"
		"\"path\":{\"type\":\"string\",\"description\":\"file path or glob, relative to the current directory\"},"
		"\"keys\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"description\":\"key properties\"},"
		"\"delimiter\":{\"type\":\"string\",\"default\":\",\"},"
		"\"quotechar\":{\"type\":\"string\",\"default\":\"\\\"\"},"
		"\"encoding\":{\"type\":\"string\",\"default\":\"utf-8\",\"enum\":[\"utf-8\"]},"
		"\"header\":{\"type\":\"boolean\",\"default\":true,\"description\":\"false: columns are col_1..col_N\"},"
		"\"replication_key\":{\"type\":\"string\",\"description\":\"column for incremental reads\"}},"
		"\"required\":[\"entity\",\"path\"]}},"
		"\"add_metadata_columns\":{\"type\":\"boolean\",\"default\":false,"
		"\"description\":\"add _sdc_source_file, _sdc_source_lineno, _sdc_extracted_at\"},"
		"\"infer_types\":{\"type\":\"boolean\",\"default\":true,"
		"\"description\":\"infer integer/number/boolean/date-time from the first 1000 rows\"},"
		"\"on_bad_row\":{\"type\":\"string\",\"enum\":[\"fail\",\"skip\"],\"default\":\"fail\"}},"
		"\"required\":[\"files\"]}";

	return cJSON_Parse(txt);
}

static void tap_about(int as_json)
{
	static const char *const caps[] = {"catalog", "discover", "state", "about"};
	const struct conn_about about = { TAP_NAME, TAP_VERSION, "native Singer tap for CSV files (Smelt)", caps,
	                                  sizeof caps / sizeof caps[0] };
	if (conn_about_print(&about, settings_schema(), as_json) < 0)
		conn_die("out of memory");
}


int main(int argc, char **argv)
{
	struct conn_args args;
	struct tap t;
	cJSON *cfg;
	char err[512];

	conn_log_name(TAP_NAME);
	switch (conn_args_parse(argc, argv, CONN_ARGS_TAP, TAP_NAME, TAP_VERSION, &args, err, sizeof err)) {
	case 1:
		return 0;
	case -1:
		conn_die("%s", err);
	}
	const char *config = args.config, *catalog = args.catalog, *state = args.state;
	if (args.about) {
		tap_about(!strcmp(args.format, "json"));
		return 0;
	}
	if (!config)
		conn_die("--config is required");
	memset(&t, 0, sizeof(t));
	cfg = conn_load_json_object(config, "config");
	tap_load_config(&t, cfg);
	for (size_t i = 0; i < t.nstreams; i++) {
		struct tap_stream *s = &t.streams[i];

		stream_columns(&t, s);
		if (s->rep_key && stream_set_rep_key(s, s->rep_key) < 0)
			conn_die("stream '%s': replication key '%s' is not a column", s->entity, s->rep_key);
	}
	if (args.discover) {
		tap_discover(&t);
		tap_release(&t);
		cJSON_Delete(cfg);
		if (fflush(stdout))
			conn_die("cannot write to stdout: %s", strerror(errno));
		return 0;
	}
	if (catalog) {
		cJSON *cat = conn_load_json_object(catalog, "catalog");

		tap_apply_catalog(&t, cat, catalog);
		cJSON_Delete(cat);
	}
	t.state = state ? conn_load_json_object(state, "state") : cJSON_CreateObject();
	if (!cJSON_IsObject(t.state))
		conn_die("state file '%s' is not a JSON object", state);
	setvbuf(stdout, NULL, _IOFBF, TAP_OUT_CHUNK);
	for (size_t i = 0; i < t.nstreams; i++) {
		struct tap_stream *s = &t.streams[i];

		if (!s->selected) {
			conn_info("%s: not selected", s->entity);
			continue;
		}
		for (size_t k = 0; k < s->ncols; k++)	/* keys and the bookmark always go out */
			if (s->cols[k].is_key || (s->rep_key && k == s->rep_col))
				s->cols[k].selected = 1;
		sync_stream(&t, s);
	}
	if (fflush(stdout) || ferror(stdout))
		conn_die("cannot write to stdout: %s", strerror(errno));
	tap_release(&t);
	cJSON_Delete(cfg);
	return 0;
}
