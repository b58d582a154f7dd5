/*
 * target-sqlite: a native Singer target loading messages into SQLite
 * (see README.md for settings, type mapping and state behaviour).
 *
 *   target-sqlite --config CONFIG [--input FILE]
 *   target-sqlite --about [--format=json]     target-sqlite --version
 *
 * Two threads: the main thread reads lines, parses and validates them
 * (singer_reader) and encodes each message into a batch of flat "ops";
 * the writer thread alone uses SQLite, replays the ops in order, commits
 * and writes state.  Batches travel through a small bounded queue, so
 * parsing overlaps with SQLite work.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "about.h"
#include "args.h"
#include "buf.h"
#include "log.h"
#include "fsutil.h"
#include "json.h"
#include "singer_reader.h"

#define TGT_NAME "target-sqlite"
#define TGT_VERSION "0.1.0"
#define TGT_STATE_MAX_WAIT_NS 1000000000LL  /* commit on STATE after 1 s */
#define TGT_BATCH_BYTES (512 * 1024)        /* hand a batch to the writer at this size */
#define TGT_QUEUE 4                         /* batches in flight */

enum tgt_meta {
	TGT_META_EXTRACTED, TGT_META_RECEIVED, TGT_META_BATCHED, TGT_META_DELETED, TGT_META_VERSION,
	TGT_META_N
};
static const char *const tgt_meta_names[TGT_META_N] = {
	"_sdc_extracted_at", "_sdc_received_at", "_sdc_batched_at", "_sdc_deleted_at",
	"_sdc_table_version",
};

/* Ops in a batch: op byte, then the fields below (native byte order). */
enum tgt_op {
	OP_RECORD = 1,    /* u32 stream, u64 record number, ncols values, 4 metadata values */
	OP_SCHEMA,        /* u32 stream, struct tgt_schema * (ownership passes to the writer) */
	OP_STATE,         /* u32 length, compact JSON */
	OP_ACTIVATE,      /* u32 stream, i64 version */
};

/* Value tags: null; i64; double; u32 length + bytes (text). */
enum tgt_tag { TAG_NULL, TAG_INT, TAG_REAL, TAG_TEXT };

/* A copy of one SCHEMA, made by the reader and owned by the writer. */
struct tgt_schema {
	char *stream;      /* stream name */
	size_t ncols;      /* properties */
	char **cols;       /* property names */
	unsigned *types;   /* enum conn_types bits per property */
	int *is_key;       /* 1 for key properties */
	char **keys;       /* key properties, in order */
	size_t nkeys;      /* number of keys */
};

struct tgt_table {
	struct tgt_schema *sch;       /* latest schema of the stream */
	char *name;                   /* SQL table name */
	char *quoted;                 /* "name", ready for SQL */
	sqlite3_stmt *insert;         /* cached INSERT/upsert for sch */
	int meta_idx[TGT_META_N];     /* bind index of each metadata column, 0 = not bound */
	int has_version_col;          /* the table has _sdc_table_version */
	unsigned long loaded;         /* records written */
};

struct tgt {
	/* settings */
	const char *db_path;          /* SQLite file */
	long batch_size;              /* rows per transaction */
	int add_metadata;             /* add the _sdc_* columns */
	const char *prefix;           /* table name prefix */
	/* writer */
	sqlite3 *db;                  /* the database (writer thread only) */
	struct tgt_table **tables;    /* by stream id */
	size_t ntables;               /* entries */
	int in_txn;                   /* a transaction is open */
	long batch_rows;              /* rows in the open transaction */
	long long last_commit_ns;     /* monotonic time of the last commit */
	char batched_at[64];          /* start of the open transaction */
	struct conn_buf state;        /* latest state value, compact JSON */
	struct conn_buf emitted;      /* last state value written */
	int state_pending;            /* a state arrived since the last write */
	struct conn_buf sql;          /* scratch for SQL text */
	/* queue */
	pthread_mutex_t qmu;          /* guards the queue fields */
	pthread_cond_t qcv;           /* signalled on every queue change */
	struct conn_buf bufs[TGT_QUEUE]; /* batch buffers */
	int ready[TGT_QUEUE];         /* FIFO of filled buffer indexes */
	int nready;                   /* entries in ready */
	int freelist[TGT_QUEUE];      /* empty buffer indexes */
	int nfree;                    /* entries in freelist */
	int eof;                      /* the reader pushed its last batch */
	/* checkpointer */
	sqlite3 *ckpt_db;             /* second connection, checkpointer thread only */
	pthread_mutex_t ckmu;         /* guards ckpt_stop */
	pthread_cond_t ckcv;          /* wakes the checkpointer */
	int ckpt_stop;                /* the writer is done */
};

/*
 * Held while committing and writing state, and by die() until the process
 * ends: once an error is reported, no further state can be written.
 * Recursive, because the writer may die() while holding it.
 */
static pthread_mutex_t out_mu;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_mu);
	va_start(ap, fmt);
	conn_vlog("error", fmt, ap);
	va_end(ap);
	/* the open transaction is never committed: SQLite drops it */
	_exit(1);
}

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static size_t utc_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000));
	return n < 0 ? 0 : (size_t)n;
}

/* ------------------------------------------------------------------ */
/* writer: SQL                                                          */

static void exec_sql(struct tgt *t, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(t->db, sql, NULL, NULL, &msg) != SQLITE_OK)
		die("sqlite: %s (in: %.200s)", msg ? msg : sqlite3_errmsg(t->db), sql);
}

/* Append "ident" with embedded quotes doubled. */
static void add_ident(struct conn_buf *b, const char *name)
{
	conn_buf_addc(b, '"');
	for (const char *p = name; *p; p++) {
		if (*p == '"')
			conn_buf_addc(b, '"');
		conn_buf_addc(b, *p);
	}
	conn_buf_addc(b, '"');
}

/* SQLite column type for a set of JSON types (see README.md). */
static const char *sql_type(unsigned types)
{
	unsigned t = types & ~(unsigned)CONN_TY_NULL;

	if (t == CONN_TY_INTEGER || t == CONN_TY_BOOLEAN || t == (CONN_TY_INTEGER | CONN_TY_BOOLEAN))
		return "INTEGER";
	if (t && !(t & ~(unsigned)(CONN_TY_INTEGER | CONN_TY_NUMBER)))
		return "REAL";
	if (t == CONN_TY_STRING || t == CONN_TY_OBJECT || t == CONN_TY_ARRAY)
		return "TEXT";
	return "";	/* several or any types: no affinity, values kept as given */
}

static const char *meta_type(int m)
{
	return m == TGT_META_VERSION ? "INTEGER" : "TEXT";
}

struct colset {
	char **names;   /* existing column names */
	size_t n;       /* count */
};

static void colset_release(struct colset *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		free(cs->names[i]);
	free(cs->names);
	cs->names = NULL;
	cs->n = 0;
}

/* Column names of a table; none when it does not exist. */
static void table_columns(struct tgt *t, const struct tgt_table *tb, struct colset *cs)
{
	sqlite3_stmt *st;

	conn_buf_reset(&t->sql);
	conn_buf_adds(&t->sql, "PRAGMA table_info(");
	add_ident(&t->sql, tb->name);
	conn_buf_addc(&t->sql, ')');
	if (sqlite3_prepare_v2(t->db, t->sql.data, -1, &st, NULL) != SQLITE_OK)
		die("sqlite: %s", sqlite3_errmsg(t->db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(st, 1);
		char **p = realloc(cs->names, (cs->n + 1) * sizeof(*p));

		if (!p || !(p[cs->n] = strdup(n ? n : "")))
			die("out of memory");
		cs->names = p;
		cs->n++;
	}
	sqlite3_finalize(st);
}

static int colset_has(const struct colset *cs, const char *name)
{
	for (size_t i = 0; i < cs->n; i++)
		if (!sqlite3_stricmp(cs->names[i], name))
			return 1;
	return 0;
}

static int schema_has_col(const struct tgt_schema *s, const char *name)
{
	for (size_t i = 0; i < s->ncols; i++)
		if (!sqlite3_stricmp(s->cols[i], name))
			return 1;
	return 0;
}

/* Make sure the unique index on the keys exists and matches them. */
static void ensure_key_index(struct tgt *t, struct tgt_table *tb)
{
	const struct tgt_schema *s = tb->sch;
	struct conn_buf idx = CONN_BUF_INIT;
	sqlite3_stmt *st;
	size_t n = 0;
	int same = 1, exists = 0;
	char *msg = NULL;

	conn_buf_adds(&idx, tb->name);
	conn_buf_adds(&idx, "__smelt_key");
	conn_buf_reset(&t->sql);
	conn_buf_adds(&t->sql, "PRAGMA index_info(");
	add_ident(&t->sql, idx.data);
	conn_buf_addc(&t->sql, ')');
	if (sqlite3_prepare_v2(t->db, t->sql.data, -1, &st, NULL) != SQLITE_OK)
		die("sqlite: %s", sqlite3_errmsg(t->db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 2);
		int seq = sqlite3_column_int(st, 0);

		exists = 1;
		if (seq < 0 || (size_t)seq >= s->nkeys || !c || sqlite3_stricmp(c, s->keys[seq]))
			same = 0;
		n++;
	}
	sqlite3_finalize(st);
	if (exists && same && n == s->nkeys) {
		conn_buf_release(&idx);
		return;
	}
	if (exists) {
		conn_buf_reset(&t->sql);
		conn_buf_adds(&t->sql, "DROP INDEX ");
		add_ident(&t->sql, idx.data);
		exec_sql(t, t->sql.data);
	}
	conn_buf_reset(&t->sql);
	conn_buf_adds(&t->sql, "CREATE UNIQUE INDEX ");
	add_ident(&t->sql, idx.data);
	conn_buf_adds(&t->sql, " ON ");
	conn_buf_adds(&t->sql, tb->quoted);
	conn_buf_adds(&t->sql, " (");
	for (size_t k = 0; k < s->nkeys; k++) {
		if (k)
			conn_buf_addc(&t->sql, ',');
		add_ident(&t->sql, s->keys[k]);
	}
	conn_buf_addc(&t->sql, ')');
	if (t->sql.oom)
		die("out of memory");
	if (sqlite3_exec(t->db, t->sql.data, NULL, NULL, &msg) != SQLITE_OK)
		die("stream '%s': cannot create the unique index on the key properties of table '%s': %s",
		    s->stream, tb->name, msg ? msg : sqlite3_errmsg(t->db));
	conn_buf_release(&idx);
}

/*
 * Bring the table in line with its latest schema (create it, add new
 * columns, the key index) and prepare the INSERT.  Bind order: the
 * schema's properties, then the metadata columns (meta_idx).  Old columns
 * missing from a later schema stay and get NULL in new rows.
 */
static void table_sync(struct tgt *t, struct tgt_table *tb)
{
	const struct tgt_schema *s = tb->sch;
	struct colset cs = {NULL, 0};
	struct conn_buf *q = &t->sql;
	int idx;

	if (tb->insert) {
		sqlite3_finalize(tb->insert);
		tb->insert = NULL;
	}
	table_columns(t, tb, &cs);
	/* name the limit rather than quote a CREATE TABLE of thousands of columns */
	if (s->ncols + (t->add_metadata ? TGT_META_N : 0) > (size_t)sqlite3_limit(t->db, SQLITE_LIMIT_COLUMN, -1))
		die("stream '%s': %zu properties, more than the %d columns SQLite allows in table '%s'", s->stream,
		    s->ncols, sqlite3_limit(t->db, SQLITE_LIMIT_COLUMN, -1), tb->name);
	if (!cs.n) {
		conn_buf_reset(q);
		conn_buf_adds(q, "CREATE TABLE ");
		conn_buf_adds(q, tb->quoted);
		conn_buf_adds(q, " (");
		idx = 0;
		for (size_t i = 0; i < s->ncols; i++) {
			if (idx++)
				conn_buf_addc(q, ',');
			add_ident(q, s->cols[i]);
			conn_buf_addc(q, ' ');
			conn_buf_adds(q, sql_type(s->types[i]));
		}
		for (int m = 0; t->add_metadata && m < TGT_META_N; m++) {
			if (schema_has_col(s, tgt_meta_names[m]))
				continue;
			if (idx++)
				conn_buf_addc(q, ',');
			add_ident(q, tgt_meta_names[m]);
			conn_buf_addc(q, ' ');
			conn_buf_adds(q, meta_type(m));
		}
		if (!idx)
			conn_buf_adds(q, "\"_smelt_empty\" TEXT");
		conn_buf_addc(q, ')');
		if (q->oom)
			die("out of memory");
		exec_sql(t, q->data);
		conn_info("%s: created table '%s'", s->stream, tb->name);
	} else {
		for (size_t i = 0; i < s->ncols + TGT_META_N; i++) {
			const char *cn, *ty;

			if (i < s->ncols) {
				cn = s->cols[i];
				ty = sql_type(s->types[i]);
			} else {
				int m = (int)(i - s->ncols);

				if (!t->add_metadata)
					break;
				cn = tgt_meta_names[m];
				ty = meta_type(m);
			}
			if (colset_has(&cs, cn))
				continue;
			conn_buf_reset(q);
			conn_buf_adds(q, "ALTER TABLE ");
			conn_buf_adds(q, tb->quoted);
			conn_buf_adds(q, " ADD COLUMN ");
			add_ident(q, cn);
			conn_buf_addc(q, ' ');
			conn_buf_adds(q, ty);
			if (q->oom)
				die("out of memory");
			exec_sql(t, q->data);
			conn_info("%s: added column '%s' to table '%s'", s->stream, cn, tb->name);
		}
	}
	colset_release(&cs);
	table_columns(t, tb, &cs);
	tb->has_version_col = colset_has(&cs, tgt_meta_names[TGT_META_VERSION]);
	colset_release(&cs);
	if (s->nkeys)
		ensure_key_index(t, tb);

	conn_buf_reset(q);
	conn_buf_adds(q, "INSERT INTO ");
	conn_buf_adds(q, tb->quoted);
	conn_buf_adds(q, " (");
	idx = 0;
	for (size_t i = 0; i < s->ncols; i++) {
		if (idx++)
			conn_buf_addc(q, ',');
		add_ident(q, s->cols[i]);
	}
	memset(tb->meta_idx, 0, sizeof(tb->meta_idx));
	for (int m = 0; m < TGT_META_N; m++) {
		int want = t->add_metadata || (m == TGT_META_VERSION && tb->has_version_col);

		if (!want || schema_has_col(s, tgt_meta_names[m]))
			continue;
		if (idx++)
			conn_buf_addc(q, ',');
		add_ident(q, tgt_meta_names[m]);
		tb->meta_idx[m] = idx;
	}
	if (!idx) {
		conn_buf_reset(q);
		conn_buf_adds(q, "INSERT INTO ");
		conn_buf_adds(q, tb->quoted);
		conn_buf_adds(q, " DEFAULT VALUES");
	} else {
		conn_buf_adds(q, ") VALUES (");
		for (int i = 1; i <= idx; i++)
			conn_buf_addf(q, i > 1 ? ",?%d" : "?%d", i);
		conn_buf_addc(q, ')');
		if (s->nkeys) {
			int any = 0;

			conn_buf_adds(q, " ON CONFLICT (");
			for (size_t k = 0; k < s->nkeys; k++) {
				if (k)
					conn_buf_addc(q, ',');
				add_ident(q, s->keys[k]);
			}
			conn_buf_adds(q, ") DO ");
			for (size_t i = 0; i < s->ncols; i++) {
				if (s->is_key[i])
					continue;
				conn_buf_adds(q, any++ ? "," : "UPDATE SET ");
				add_ident(q, s->cols[i]);
				conn_buf_adds(q, "=excluded.");
				add_ident(q, s->cols[i]);
			}
			for (int m = 0; m < TGT_META_N; m++) {
				if (!tb->meta_idx[m])
					continue;
				conn_buf_adds(q, any++ ? "," : "UPDATE SET ");
				add_ident(q, tgt_meta_names[m]);
				conn_buf_adds(q, "=excluded.");
				add_ident(q, tgt_meta_names[m]);
			}
			if (!any)
				conn_buf_adds(q, "NOTHING");	/* only keys: nothing to update */
		}
	}
	if (q->oom)
		die("out of memory");
	if (sqlite3_prepare_v3(t->db, q->data, -1, SQLITE_PREPARE_PERSISTENT, &tb->insert, NULL) != SQLITE_OK)
		die("stream '%s': sqlite: %s", s->stream, sqlite3_errmsg(t->db));
}

static void txn_begin(struct tgt *t)
{
	if (t->in_txn)
		return;
	exec_sql(t, "BEGIN");
	t->in_txn = 1;
	t->batch_rows = 0;
	utc_now(t->batched_at, sizeof(t->batched_at));
}

/*
 * Commit the open transaction, then write the latest state if it changed.
 * Every record received before that state is in the committed data.
 */
static void commit_and_emit(struct tgt *t)
{
	pthread_mutex_lock(&out_mu);
	if (t->in_txn)
		exec_sql(t, "COMMIT");
	t->in_txn = 0;
	t->batch_rows = 0;
	t->last_commit_ns = mono_ns();
	if (t->state_pending) {
		t->state_pending = 0;
		if (t->emitted.len != t->state.len || memcmp(t->emitted.data, t->state.data, t->state.len)) {
			conn_buf_reset(&t->emitted);
			conn_buf_add(&t->emitted, t->state.data, t->state.len);
			if (t->emitted.oom)
				die("out of memory");
			fwrite(t->state.data, 1, t->state.len, stdout);
			fputc('\n', stdout);
			if (fflush(stdout))
				die("cannot write state to stdout: %s", strerror(errno));
		}
	}
	pthread_mutex_unlock(&out_mu);
}

static void schema_free(struct tgt_schema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ncols; i++)
		free(s->cols[i]);
	for (size_t i = 0; i < s->nkeys; i++)
		free(s->keys[i]);
	free(s->cols);
	free(s->keys);
	free(s->types);
	free(s->is_key);
	free(s->stream);
	free(s);
}

static void on_schema(struct tgt *t, uint32_t id, struct tgt_schema *sch)
{
	struct tgt_table *tb;

	if (id >= t->ntables) {
		struct tgt_table **p = realloc(t->tables, (id + 1) * sizeof(*p));

		if (!p)
			die("out of memory");
		memset(p + t->ntables, 0, (id + 1 - t->ntables) * sizeof(*p));
		t->tables = p;
		t->ntables = id + 1;
	}
	tb = t->tables[id];
	if (!tb) {
		struct conn_buf name = CONN_BUF_INIT, quoted = CONN_BUF_INIT;

		tb = calloc(1, sizeof(*tb));
		if (!tb)
			die("out of memory");
		conn_buf_adds(&name, t->prefix);
		for (const char *p = sch->stream; *p; p++) {
			char c = *p;

			conn_buf_addc(&name, (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			              (c >= '0' && c <= '9') || c == '_' ? c : '_');
		}
		if (!name.len)
			conn_buf_addc(&name, '_');
		add_ident(&quoted, name.data);
		if (name.oom || quoted.oom)
			die("out of memory");
		tb->name = name.data;
		tb->quoted = quoted.data;
		t->tables[id] = tb;
	}
	schema_free(tb->sch);
	tb->sch = sch;
	txn_begin(t);
	table_sync(t, tb);
}

static void on_activate(struct tgt *t, uint32_t id, long long version)
{
	struct tgt_table *tb = t->tables[id];
	sqlite3_stmt *st;

	txn_begin(t);
	if (!tb->has_version_col) {
		conn_buf_reset(&t->sql);
		conn_buf_adds(&t->sql, "ALTER TABLE ");
		conn_buf_adds(&t->sql, tb->quoted);
		conn_buf_adds(&t->sql, " ADD COLUMN \"_sdc_table_version\" INTEGER");
		exec_sql(t, t->sql.data);
		table_sync(t, tb);
	}
	conn_buf_reset(&t->sql);
	conn_buf_adds(&t->sql, "DELETE FROM ");
	conn_buf_adds(&t->sql, tb->quoted);
	conn_buf_adds(&t->sql, " WHERE \"_sdc_table_version\" IS NULL OR \"_sdc_table_version\" <> ?1");
	if (sqlite3_prepare_v2(t->db, t->sql.data, -1, &st, NULL) != SQLITE_OK)
		die("sqlite: %s", sqlite3_errmsg(t->db));
	sqlite3_bind_int64(st, 1, version);
	if (sqlite3_step(st) != SQLITE_DONE)
		die("stream '%s': cannot activate version %lld: %s", tb->sch->stream, version,
		    sqlite3_errmsg(t->db));
	if (sqlite3_changes(t->db))
		conn_info("%s: version %lld activated, %d old rows deleted", tb->sch->stream, version,
		     sqlite3_changes(t->db));
	sqlite3_finalize(st);
}

/* Bind the value at *p to parameter i (0: skip it) and advance *p. */
static void bind_op_value(sqlite3_stmt *st, int i, const char **p)
{
	const char *q = *p;
	long long iv;
	double dv;
	uint32_t len;

	switch (*q++) {
	case TAG_INT:
		memcpy(&iv, q, sizeof(iv));
		q += sizeof(iv);
		if (i)
			sqlite3_bind_int64(st, i, iv);
		break;
	case TAG_REAL:
		memcpy(&dv, q, sizeof(dv));
		q += sizeof(dv);
		if (i)
			sqlite3_bind_double(st, i, dv);
		break;
	case TAG_TEXT:
		memcpy(&len, q, sizeof(len));
		q += sizeof(len);
		if (i)
			sqlite3_bind_text(st, i, q, (int)len, SQLITE_STATIC);
		q += len;
		break;
	default:
		if (i)
			sqlite3_bind_null(st, i);
	}
	*p = q;
}

static const char *on_record(struct tgt *t, const char *p)
{
	static const int meta_order[4] = {
		TGT_META_EXTRACTED, TGT_META_RECEIVED, TGT_META_DELETED, TGT_META_VERSION,
	};
	uint32_t id;
	uint64_t recno;
	struct tgt_table *tb;
	sqlite3_stmt *st;
	int rc;

	memcpy(&id, p, sizeof(id));
	p += sizeof(id);
	memcpy(&recno, p, sizeof(recno));
	p += sizeof(recno);
	tb = t->tables[id];
	st = tb->insert;
	txn_begin(t);
	for (size_t i = 0; i < tb->sch->ncols; i++)
		bind_op_value(st, (int)i + 1, &p);
	for (int m = 0; m < 4; m++)
		bind_op_value(st, tb->meta_idx[meta_order[m]], &p);
	if (tb->meta_idx[TGT_META_BATCHED])
		sqlite3_bind_text(st, tb->meta_idx[TGT_META_BATCHED], t->batched_at, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		die("stream '%s': record %llu: cannot write to table '%s': %s", tb->sch->stream,
		    (unsigned long long)recno, tb->name, sqlite3_errmsg(t->db));
	tb->loaded++;
	if (++t->batch_rows >= t->batch_size)
		commit_and_emit(t);
	return p;
}

static void run_batch(struct tgt *t, const struct conn_buf *b)
{
	const char *p = b->data, *end = b->data + b->len;

	while (p < end) {
		uint32_t id, len;
		long long v;
		struct tgt_schema *sch;

		switch (*p++) {
		case OP_RECORD:
			p = on_record(t, p);
			break;
		case OP_SCHEMA:
			memcpy(&id, p, sizeof(id));
			memcpy(&sch, p + sizeof(id), sizeof(sch));
			p += sizeof(id) + sizeof(sch);
			on_schema(t, id, sch);
			break;
		case OP_STATE:
			memcpy(&len, p, sizeof(len));
			p += sizeof(len);
			conn_buf_reset(&t->state);
			conn_buf_add(&t->state, p, len);
			if (t->state.oom)
				die("out of memory");
			p += len;
			t->state_pending = 1;
			if (!t->in_txn || t->batch_rows >= t->batch_size ||
			    mono_ns() - t->last_commit_ns >= TGT_STATE_MAX_WAIT_NS)
				commit_and_emit(t);
			break;
		case OP_ACTIVATE:
			memcpy(&id, p, sizeof(id));
			memcpy(&v, p + sizeof(id), sizeof(v));
			p += sizeof(id) + sizeof(v);
			on_activate(t, id, v);
			break;
		default:
			die("internal error: bad op in batch");
		}
	}
}

static void *writer_main(void *arg)
{
	struct tgt *t = arg;

	for (;;) {
		int bi;

		pthread_mutex_lock(&t->qmu);
		while (!t->nready && !t->eof)
			pthread_cond_wait(&t->qcv, &t->qmu);
		if (!t->nready) {
			pthread_mutex_unlock(&t->qmu);
			break;
		}
		bi = t->ready[0];
		memmove(t->ready, t->ready + 1, (size_t)(--t->nready) * sizeof(int));
		pthread_mutex_unlock(&t->qmu);

		run_batch(t, &t->bufs[bi]);
		conn_buf_reset(&t->bufs[bi]);

		pthread_mutex_lock(&t->qmu);
		t->freelist[t->nfree++] = bi;
		pthread_cond_broadcast(&t->qcv);
		pthread_mutex_unlock(&t->qmu);
	}
	commit_and_emit(t);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* reader: encode messages                                              */

/* Take an empty batch buffer (waiting for the writer when all are in use). */
static struct conn_buf *batch_take(struct tgt *t, int *bi)
{
	pthread_mutex_lock(&t->qmu);
	while (!t->nfree)
		pthread_cond_wait(&t->qcv, &t->qmu);
	*bi = t->freelist[--t->nfree];
	pthread_mutex_unlock(&t->qmu);
	return &t->bufs[*bi];
}

static void batch_push(struct tgt *t, int bi, int eof)
{
	pthread_mutex_lock(&t->qmu);
	if (bi >= 0)
		t->ready[t->nready++] = bi;
	t->eof = eof;
	pthread_cond_broadcast(&t->qcv);
	pthread_mutex_unlock(&t->qmu);
}

static int fast_int(const char *p, size_t n, long long *out)
{
	long long v = 0;
	int neg = 0;

	if (n && *p == '-') {
		neg = 1;
		p++;
		n--;
	}
	if (!n || n > 18)
		return -1;
	while (n--)
		v = v * 10 + (*p++ - '0');
	*out = neg ? -v : v;
	return 0;
}

static void put_text(struct conn_buf *b, const char *s, size_t n)
{
	uint32_t len = (uint32_t)n;

	conn_buf_addc(b, TAG_TEXT);
	conn_buf_add(b, &len, sizeof(len));
	conn_buf_add(b, s, n);
}

static void put_value(struct conn_buf *b, const struct conn_json *j, size_t tk)
{
	const struct conn_jtok *k;
	long long iv;
	double dv;
	uint32_t len;

	if (tk == CONN_JNONE) {
		conn_buf_addc(b, TAG_NULL);
		return;
	}
	k = &j->tok[tk];
	switch (k->type) {
	case CONN_J_NULL:
		conn_buf_addc(b, TAG_NULL);
		break;
	case CONN_J_TRUE:
	case CONN_J_FALSE:
		iv = k->type == CONN_J_TRUE;
		conn_buf_addc(b, TAG_INT);
		conn_buf_add(b, &iv, sizeof(iv));
		break;
	case CONN_J_NUMBER:
		if ((k->flags & CONN_JF_INTEGER) &&
		    (!fast_int(j->text + k->start, k->end - k->start, &iv) || !conn_json_int(j, tk, &iv))) {
			conn_buf_addc(b, TAG_INT);
			conn_buf_add(b, &iv, sizeof(iv));
		} else {
			dv = conn_json_double(j, tk);
			conn_buf_addc(b, TAG_REAL);
			conn_buf_add(b, &dv, sizeof(dv));
		}
		break;
	default:	/* strings decoded; objects and arrays as compact JSON */
		if (k->type == CONN_J_STRING && !(k->flags & CONN_JF_ESCAPED)) {
			put_text(b, j->text + k->start + 1, k->end - k->start - 2);
			break;
		}
		if (k->end - k->start > UINT32_MAX || conn_buf_grow(b, 1 + sizeof(len) + (k->end - k->start)) < 0)
			die("out of memory");
		b->data[b->len] = TAG_TEXT;
		if (k->type == CONN_J_STRING)
			len = (uint32_t)conn_json_unescape(j, tk, b->data + b->len + 1 + sizeof(len));
		else
			len = (uint32_t)conn_json_compact(j, tk, b->data + b->len + 1 + sizeof(len));
		memcpy(b->data + b->len + 1, &len, sizeof(len));
		b->len += 1 + sizeof(len) + len;
	}
}

static void encode_record(struct tgt *t, struct conn_buf *b, struct conn_reader *r,
                          const struct conn_msg *m)
{
	const struct conn_stream *s = m->stream;
	uint32_t id = (uint32_t)((uintptr_t)s->user - 1);
	uint64_t recno = s->records;

	conn_buf_addc(b, OP_RECORD);
	conn_buf_add(b, &id, sizeof(id));
	conn_buf_add(b, &recno, sizeof(recno));
	for (size_t i = 0; i < s->ncols; i++)
		put_value(b, &r->json, s->slot[i]);
	/* metadata, in the order on_record() reads them */
	put_value(b, &r->json, m->time_extracted);
	if (t->add_metadata) {
		char now[64];
		size_t n = utc_now(now, sizeof(now));

		put_text(b, now, n);
		put_value(b, &r->json, conn_json_get(&r->json, m->record, "_sdc_deleted_at"));
	} else {
		conn_buf_addc(b, TAG_NULL);
		conn_buf_addc(b, TAG_NULL);
	}
	if (m->has_version) {
		long long v = m->version;

		conn_buf_addc(b, TAG_INT);
		conn_buf_add(b, &v, sizeof(v));
	} else {
		conn_buf_addc(b, TAG_NULL);
	}
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		die("out of memory");
	return d;
}

static void encode_schema(struct conn_buf *b, struct conn_stream *s, uint32_t *next_id)
{
	struct tgt_schema *sch = calloc(1, sizeof(*sch));
	uint32_t id;

	if (!sch)
		die("out of memory");
	if (!s->user)
		s->user = (void *)(uintptr_t)(++*next_id);
	id = (uint32_t)((uintptr_t)s->user - 1);
	sch->stream = xstrdup(s->name);
	sch->ncols = s->ncols;
	sch->cols = calloc(s->ncols + 1, sizeof(*sch->cols));
	sch->types = calloc(s->ncols + 1, sizeof(*sch->types));
	sch->is_key = calloc(s->ncols + 1, sizeof(*sch->is_key));
	sch->keys = calloc(s->nkeys + 1, sizeof(*sch->keys));
	if (!sch->cols || !sch->types || !sch->is_key || !sch->keys)
		die("out of memory");
	for (size_t i = 0; i < s->ncols; i++) {
		if (strlen(s->cols[i].name) != s->cols[i].name_len)
			die("stream '%s': property name with a NUL character", s->name);
		sch->cols[i] = xstrdup(s->cols[i].name);
		sch->types[i] = s->cols[i].types;
		sch->is_key[i] = s->cols[i].is_key;
	}
	for (size_t k = 0; k < s->nkeys; k++)
		sch->keys[k] = xstrdup(s->keys[k]);
	sch->nkeys = s->nkeys;
	conn_buf_addc(b, OP_SCHEMA);
	conn_buf_add(b, &id, sizeof(id));
	conn_buf_add(b, &sch, sizeof(sch));
}

/* ------------------------------------------------------------------ */


static void about(int as_json)
{
	static const char *settings =
		"{\"type\":\"object\",\"properties\":{"
		"\"database\":{\"type\":\"string\",\"description\":\"path of the SQLite file, relative to the current directory\"},"
		"\"batch_size_rows\":{\"type\":\"integer\",\"default\":10000,\"description\":\"rows per transaction\"},"
		"\"add_record_metadata\":{\"type\":\"boolean\",\"default\":false,"
		"\"description\":\"add _sdc_extracted_at, _sdc_received_at, _sdc_batched_at, _sdc_deleted_at, _sdc_table_version\"},"
		"\"table_prefix\":{\"type\":\"string\",\"default\":\"\",\"description\":\"prefix of every table name\"}},"
		"\"required\":[\"database\"]}";
	static const char *const caps[] = {"about", "activate-version", "hard-delete"};
	const struct conn_about a = { TGT_NAME, TGT_VERSION, "native Singer target for SQLite (Smelt)", caps, sizeof caps / sizeof caps[0] };
	if (conn_about_print(&a, cJSON_Parse(settings), as_json) < 0)
		die("out of memory");
}

static void load_settings(struct tgt *t, const cJSON *cfg)
{
	const cJSON *v;

	v = cJSON_GetObjectItemCaseSensitive(cfg, "database");
	if (!cJSON_IsString(v) || !*v->valuestring)
		die("config: 'database' (path of the SQLite file) is required");
	t->db_path = v->valuestring;
	v = cJSON_GetObjectItemCaseSensitive(cfg, "batch_size_rows");
	t->batch_size = 10000;
	if (v && !cJSON_IsNull(v)) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e9)
			die("config: 'batch_size_rows' must be a positive integer");
		t->batch_size = (long)v->valuedouble;
	}
	v = cJSON_GetObjectItemCaseSensitive(cfg, "add_record_metadata");
	if (v && !cJSON_IsNull(v) && !cJSON_IsBool(v))
		die("config: 'add_record_metadata' must be true or false");
	t->add_metadata = cJSON_IsTrue(v);
	v = cJSON_GetObjectItemCaseSensitive(cfg, "table_prefix");
	if (v && !cJSON_IsNull(v) && !cJSON_IsString(v))
		die("config: 'table_prefix' must be a string");
	t->prefix = cJSON_IsString(v) ? v->valuestring : "";
}

/*
 * Checkpoints run here, on a second connection, instead of inside the
 * writer's commits: copying WAL frames into the database and the fsyncs
 * that go with it no longer stall the writer.  PASSIVE never blocks the
 * writer; the last connection to close does the final checkpoint.
 */
static void *ckpt_main(void *arg)
{
	struct tgt *t = arg;

	pthread_mutex_lock(&t->ckmu);
	while (!t->ckpt_stop) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&t->ckcv, &t->ckmu, &ts);
		if (t->ckpt_stop)
			break;
		pthread_mutex_unlock(&t->ckmu);
		sqlite3_wal_checkpoint_v2(t->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&t->ckmu);
	}
	pthread_mutex_unlock(&t->ckmu);
	return NULL;
}

static void open_db(struct tgt *t)
{
	/* each connection is used by one thread at a time; no statistics */
	sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	char failed[4096];
	if (conn_mkdirs_parent(t->db_path, failed, sizeof failed) < 0)
		die("cannot create directory '%s' for database '%s': %s", failed, t->db_path, strerror(errno));
	if (sqlite3_open_v2(t->db_path, &t->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
		die("cannot open database '%s': %s", t->db_path, t->db ? sqlite3_errmsg(t->db) : "out of memory");
	sqlite3_busy_timeout(t->db, 10000);
	exec_sql(t, "PRAGMA journal_mode=WAL");
	exec_sql(t, "PRAGMA synchronous=NORMAL");
	exec_sql(t, "PRAGMA cache_size=-65536");
	/*
	 * The checkpointer thread (ckpt_main) keeps the WAL short; the writer
	 * only checkpoints itself if the WAL passes ~40 MB anyway.  Durability
	 * is unchanged: commits land in the WAL either way.
	 */
	exec_sql(t, "PRAGMA wal_autocheckpoint=10000");
	if (sqlite3_open_v2(t->db_path, &t->ckpt_db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		die("cannot open database '%s': %s", t->db_path,
		    t->ckpt_db ? sqlite3_errmsg(t->ckpt_db) : "out of memory");
	sqlite3_busy_timeout(t->ckpt_db, 1000);
	/* a connection only checkpoints once it has read the file and seen WAL mode */
	if (sqlite3_exec(t->ckpt_db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK)
		die("cannot open database '%s': %s", t->db_path, sqlite3_errmsg(t->ckpt_db));
	t->last_commit_ns = mono_ns();
}

int main(int argc, char **argv)
{
	const char *config = NULL, *input = NULL;
	int fd = 0, bi;
	uint32_t next_id = 0;
	struct tgt t;
	struct conn_reader r;
	struct conn_lines lr;
	struct conn_msg m;
	struct conn_buf *b;
	pthread_mutexattr_t ma;
	pthread_t writer, ckpt;
	cJSON *cfg;
	char *line, err[512];
	size_t len;
	int rc;

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&out_mu, &ma);
	struct conn_args args;
	conn_log_name(TGT_NAME);
	switch (conn_args_parse(argc, argv, CONN_ARGS_INPUT, TGT_NAME, TGT_VERSION, &args, err, sizeof err)) {
	case 1:
		return 0;
	case -1:
		die("%s", err);
	}
	config = args.config;
	input = args.input;
	if (args.about) {
		about(!strcmp(args.format, "json"));
		return 0;
	}
	if (!config)
		die("--config is required");
	memset(&t, 0, sizeof(t));
	cfg = conn_load_json_object(config, "config");
	load_settings(&t, cfg);
	if (input && (fd = open(input, O_RDONLY | O_CLOEXEC)) < 0)
		die("cannot open input '%s': %s", input, strerror(errno));
	open_db(&t);

	pthread_mutex_init(&t.qmu, NULL);
	pthread_cond_init(&t.qcv, NULL);
	for (int i = 0; i < TGT_QUEUE; i++)
		t.freelist[t.nfree++] = i;
	pthread_mutex_init(&t.ckmu, NULL);
	pthread_cond_init(&t.ckcv, NULL);
	if (pthread_create(&writer, NULL, writer_main, &t))
		die("cannot start the writer thread");
	if (pthread_create(&ckpt, NULL, ckpt_main, &t))
		die("cannot start the checkpoint thread");

	conn_reader_init(&r);
	if (conn_lines_init(&lr, fd) < 0)
		die("out of memory");
	b = batch_take(&t, &bi);
	while ((rc = conn_lines_next(&lr, &line, &len)) > 0) {
		int handoff = 0;

		if (conn_reader_feed(&r, line, len, &m, err, sizeof(err)) < 0)
			die("%s", err);
		switch (m.type) {
		case CONN_MSG_RECORD:
			encode_record(&t, b, &r, &m);
			break;
		case CONN_MSG_SCHEMA:
			encode_schema(b, m.stream, &next_id);
			break;
		case CONN_MSG_STATE: {
			const struct conn_jtok *k = &r.json.tok[m.value];
			uint32_t n;

			if (conn_buf_grow(b, 1 + sizeof(n) + (k->end - k->start)) < 0)
				die("out of memory");
			b->data[b->len] = OP_STATE;
			n = (uint32_t)conn_json_compact(&r.json, m.value, b->data + b->len + 1 + sizeof(n));
			memcpy(b->data + b->len + 1, &n, sizeof(n));
			b->len += 1 + sizeof(n) + n;
			handoff = 1;	/* let the writer see state soon */
			break;
		}
		case CONN_MSG_ACTIVATE_VERSION: {
			uint32_t id = (uint32_t)((uintptr_t)m.stream->user - 1);
			long long v = m.version;

			conn_buf_addc(b, OP_ACTIVATE);
			conn_buf_add(b, &id, sizeof(id));
			conn_buf_add(b, &v, sizeof(v));
			break;
		}
		default:
			break;
		}
		if (b->oom)
			die("out of memory");
		if (handoff || b->len >= TGT_BATCH_BYTES) {
			batch_push(&t, bi, 0);
			b = batch_take(&t, &bi);
		}
	}
	if (rc < 0)
		die("cannot read input: %s", strerror(errno));
	batch_push(&t, bi, 1);
	pthread_join(writer, NULL);
	pthread_mutex_lock(&t.ckmu);
	t.ckpt_stop = 1;
	pthread_cond_signal(&t.ckcv);
	pthread_mutex_unlock(&t.ckmu);
	pthread_join(ckpt, NULL);
	sqlite3_close(t.ckpt_db);

	for (size_t i = 0; i < r.nstreams; i++) {
		struct conn_stream *s = r.streams[i];
		struct tgt_table *tb;

		if (!s->user)
			continue;
		tb = t.tables[(uintptr_t)s->user - 1];
		conn_info("%s: %lu records %s into table '%s'", s->name, tb->loaded,
		     tb->sch->nkeys ? "upserted" : "inserted", tb->name);
		if (s->unknown)
			conn_info("%s: %lu record fields not in the schema were ignored", s->name, s->unknown);
	}
	for (size_t i = 0; i < t.ntables; i++) {
		struct tgt_table *tb = t.tables[i];

		if (!tb)
			continue;
		sqlite3_finalize(tb->insert);
		schema_free(tb->sch);
		free(tb->name);
		free(tb->quoted);
		free(tb);
	}
	free(t.tables);
	if (sqlite3_close(t.db) != SQLITE_OK)
		die("cannot close database: %s", sqlite3_errmsg(t.db));
	for (int i = 0; i < TGT_QUEUE; i++)
		conn_buf_release(&t.bufs[i]);
	conn_reader_release(&r);
	conn_lines_release(&lr);
	conn_buf_release(&t.state);
	conn_buf_release(&t.emitted);
	conn_buf_release(&t.sql);
	cJSON_Delete(cfg);
	return 0;
}
