/* store_pg: the system database in PostgreSQL; see store_pg.h. */
#include "store/store_pg.h"
#include "store/store.h"
#include "store/meltano_db.h"
#include "store/pg_uri.h"
#include "store/pickle.h"
#include "util/json.h"
#include "util/log.h"
#include "util/pq_lazy.h"
#include "util/proc_owner.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_PG_SCHEMA_VERSION 1
/* pg_advisory_xact_lock key serialising schema creation ("smelt" in ASCII, then 1) */
#define SCHEMA_LOCK_KEY "495638211700001"

/* A timestamptz as store.c writes times ("YYYY-MM-DDTHH:MM:SS.fffZ"); the session is in UTC. */
#define TS(col) "to_char(" col ", 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
/* Meltano's timestamps (without time zone), as meltano_db.h gives them */
#define MTS(col) "to_char(" col ", 'YYYY-MM-DD HH24:MI:SS.US')"

struct store_pg {
	const struct pq_api *pq;
	PGconn *conn;
	struct pg_uri uri;
	char *label;       /* "PostgreSQL at host:port" */
	int meltano_state; /* public.state exists: Meltano's state, read through */
	int meltano_runs;  /* public.runs exists: Meltano's runs (its run locks) */
	int meltano_settings; /* public.plugin_settings exists: Meltano's `--store db` settings */
	int in_tx;         /* inside BEGIN ... COMMIT: a lost connection is not re-opened there */
	int warned;        /* a failed heartbeat was logged (once per store) */
	/* the session's statement_timeout and lock_timeout (ms): what the next query wants, what is set */
	int want_stmt_ms, want_lock_ms, have_stmt_ms, have_lock_ms;
	char *held_run_id;   /* the run lock this process holds (store_pg_run_begin() .. _end()); NULL: none */
	char *held_state_id; /* its state id: writes of its state are fenced by that lock */
	char *lost_state_id; /* a run of this state id lost its lock (another machine took it over): no more writes */
	char *lost_why;      /* why, for messages */
};

/* Time limits of statements (ms): a dead server or a held lock fails a command instead of hanging it. */
#define LIMIT_STMT_MS 30000 /* any statement */
#define LIMIT_LOCK_MS 10000 /* waiting for a row or advisory lock another session holds */
#define LIMIT_BEAT_MS 5000  /* a heartbeat: the run's supervisor loop waits for it */
#define LIMIT_LIST_MS 120000 /* listings and pruning of a long history */

const char *store_pg_label(const struct store_pg *g)
{
	return g->label;
}

/* A copy of libpq's msg without the password, as written in the URI or decoded; caller frees. */
static char *pg_clean(const struct store_pg *g, const char *msg)
{
	char *raw = pg_scrub(msg, g->uri.password_raw);
	char *clean = pg_scrub(raw, g->uri.password);
	free(raw);
	return clean;
}

/* err = "system database (PostgreSQL at h:p): what: msg", msg scrubbed of the password and trimmed. */
static int pg_fail(struct store_pg *g, char *err, size_t errlen, const char *what, const char *msg)
{
	char *clean = pg_clean(g, msg);
	size_t n = strlen(clean);
	while (n && (clean[n - 1] == '\n' || clean[n - 1] == ' '))
		clean[--n] = 0;
	for (char *p = clean; *p; p++)
		if (*p == '\n')
			*p = ' ';
	int rc = fail(err, errlen, SMELT_ERR, "system database (%s): %s: %s", g->label, what, clean);
	free(clean);
	return rc;
}

/* The time limits the next statements get (applied outside transactions, when they change). */
static void pg_limits(struct store_pg *g, int stmt_ms, int lock_ms)
{
	g->want_stmt_ms = stmt_ms;
	g->want_lock_ms = lock_ms;
}

/* Set the session's limits to what is wanted when they differ; a failure leaves them to be set again. */
static void pg_apply_limits(struct store_pg *g)
{
	if (g->in_tx || (g->want_stmt_ms == g->have_stmt_ms && g->want_lock_ms == g->have_lock_ms))
		return;
	char sql[160];
	snprintf(sql, sizeof sql, "SET statement_timeout = %d; SET lock_timeout = %d", g->want_stmt_ms,
	         g->want_lock_ms);
	PGresult *r = g->pq->exec(g->conn, sql);
	if (r && g->pq->result_status(r) == PGRES_COMMAND_OK) {
		g->have_stmt_ms = g->want_stmt_ms;
		g->have_lock_ms = g->want_lock_ms;
	}
	if (r)
		g->pq->clear(r);
}

/* What the session needs after (re)connecting: UTC times, no stuck transaction left holding locks. */
static const char session_sql[] = "SET TIME ZONE 'UTC'; SET idle_in_transaction_session_timeout = 60000";

/* Run sql with n text parameters (NULL entries are SQL NULL); the result, or NULL with err filled. */
static PGresult *pg_query_fmt(struct store_pg *g, const char *sql, int n, const char *const *params, char *err,
                              size_t errlen, const char *what, int binary)
{
	pg_apply_limits(g);
	PGresult *r = g->pq->exec_params(g->conn, sql, n, NULL, params, NULL, NULL, binary);
	/*
	 * A connection lost since the last query (a server restart, a network
	 * cut) is opened again and the query sent once more, unless inside a
	 * transaction (whose earlier statements are lost with it).
	 */
	if (!g->in_tx && g->pq->status(g->conn) != CONNECTION_OK) {
		if (r)
			g->pq->clear(r);
		g->pq->reset(g->conn);
		if (g->pq->status(g->conn) == CONNECTION_OK) {
			log_info("the connection to the system database (%s) was lost and is open again", g->label);
			PGresult *tz = g->pq->exec(g->conn, session_sql);
			if (tz)
				g->pq->clear(tz);
			g->have_stmt_ms = g->have_lock_ms = -1;
			pg_apply_limits(g);
		}
		r = g->pq->exec_params(g->conn, sql, n, NULL, params, NULL, NULL, binary);
	}
	ExecStatusType s = r ? g->pq->result_status(r) : PGRES_FATAL_ERROR;
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return r;
	const char *msg = r ? g->pq->result_error_message(r) : g->pq->error_message(g->conn);
	if (strstr(msg, "lock timeout")) {
		char *m = xasprintf("%s (another session held a lock for more than %d s; smelt gave up waiting)", msg,
		                    g->have_lock_ms / 1000);
		pg_fail(g, err, errlen, what, m);
		free(m);
	} else if (strstr(msg, "statement timeout")) {
		char *m = xasprintf("%s (no answer within %d s)", msg, g->have_stmt_ms / 1000);
		pg_fail(g, err, errlen, what, m);
		free(m);
	} else {
		pg_fail(g, err, errlen, what, msg);
	}
	if (r)
		g->pq->clear(r);
	return NULL;
}

static PGresult *pg_query(struct store_pg *g, const char *sql, int n, const char *const *params, char *err,
                          size_t errlen, const char *what)
{
	return pg_query_fmt(g, sql, n, params, err, errlen, what, 0);
}

static int pg_run(struct store_pg *g, const char *sql, int n, const char *const *params, char *err, size_t errlen,
                  const char *what)
{
	PGresult *r = pg_query(g, sql, n, params, err, errlen, what);
	if (!r)
		return SMELT_ERR;
	g->pq->clear(r);
	return SMELT_OK;
}

/* Rows changed by the command of r. */
static long pg_changed(struct store_pg *g, PGresult *r)
{
	return strtol(g->pq->cmd_tuples(r), NULL, 10);
}

/* Cell (row, col) of r, copied; NULL for SQL NULL. */
static char *pg_dup(struct store_pg *g, const PGresult *r, int row, int col)
{
	return g->pq->getisnull(r, row, col) ? NULL : xstrdup(g->pq->getvalue(r, row, col));
}

static int pg_begin(struct store_pg *g, char *err, size_t errlen, const char *what)
{
	int rc = pg_run(g, "BEGIN", 0, NULL, err, errlen, what);
	g->in_tx = rc == SMELT_OK;
	return rc;
}

static void pg_rollback(struct store_pg *g)
{
	g->in_tx = 0;
	PGresult *r = g->pq->exec(g->conn, "ROLLBACK");
	if (r)
		g->pq->clear(r);
}

static int pg_commit(struct store_pg *g, int rc, char *err, size_t errlen)
{
	if (rc == SMELT_OK)
		rc = pg_run(g, "COMMIT", 0, NULL, err, errlen, "commit");
	g->in_tx = 0;
	if (rc != SMELT_OK)
		pg_rollback(g);
	return rc;
}

/* libpq prints NOTICEs ("schema already exists, skipping") on stderr by default: not here. */
static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static const char schema_sql[] =
	"BEGIN;"
	"SELECT pg_advisory_xact_lock(" SCHEMA_LOCK_KEY ");"
	"CREATE SCHEMA IF NOT EXISTS smelt;"
	"CREATE TABLE IF NOT EXISTS smelt.schema_version (version integer NOT NULL);"
	"INSERT INTO smelt.schema_version SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM smelt.schema_version);"
	"CREATE TABLE IF NOT EXISTS smelt.state ("
	"  state_id text PRIMARY KEY,"
	"  completed_state text NOT NULL DEFAULT '{}',"
	"  partial_state text NOT NULL DEFAULT '{}',"
	"  updated_at timestamptz NOT NULL DEFAULT now());"
	"CREATE TABLE IF NOT EXISTS smelt.runs ("
	"  id bigserial PRIMARY KEY,"
	"  run_id text NOT NULL UNIQUE,"
	"  state_id text,"
	"  name text,"
	"  status text NOT NULL,"
	"  started_at timestamptz NOT NULL DEFAULT now(),"
	"  last_heartbeat_at timestamptz,"
	"  ended_at timestamptz,"
	"  error text,"
	"  payload text,"
	"  host text, host_key text, pid bigint, pid_start bigint);"
	"CREATE INDEX IF NOT EXISTS runs_state ON smelt.runs (state_id, status);"
	/*
	 * Added later, still version 1 (only new tables, created when missing:
	 * a smelt that does not know them keeps working beside them): the run
	 * history (store/runs.h) and `config set --store db` settings.
	 */
	"CREATE TABLE IF NOT EXISTS smelt.run_history ("
	"  seq bigserial,"
	"  run_id text PRIMARY KEY,"
	"  job text,"
	"  trigger text NOT NULL DEFAULT 'cli',"
	"  args text,"
	"  status text NOT NULL,"
	"  started_at timestamptz NOT NULL DEFAULT now(),"
	"  ended_at timestamptz,"
	"  duration_s double precision,"
	"  exit_code integer,"
	"  error text,"
	"  log_path text,"
	"  host text, host_key text, pid bigint, pid_start bigint);"
	"CREATE INDEX IF NOT EXISTS run_history_started ON smelt.run_history (started_at);"
	"CREATE TABLE IF NOT EXISTS smelt.run_blocks ("
	"  run_id text NOT NULL REFERENCES smelt.run_history (run_id) ON DELETE CASCADE,"
	"  idx integer NOT NULL,"
	"  block text NOT NULL,"
	"  kind text NOT NULL,"
	"  status text NOT NULL,"
	"  started_at timestamptz,"
	"  duration_s double precision,"
	"  rows bigint,"
	"  detail text,"
	"  PRIMARY KEY (run_id, idx));"
	"CREATE TABLE IF NOT EXISTS smelt.plugin_settings ("
	"  plugin text NOT NULL,"
	"  name text NOT NULL,"
	"  value text,"
	"  PRIMARY KEY (plugin, name));"
	"COMMIT;";

/* Create smelt's tables when missing, check their version, and see whether Meltano's are there. */
static int pg_prepare_schema(struct store_pg *g, char *err, size_t errlen)
{
	PGresult *r = pg_query(g,
	                       "SELECT to_regclass('smelt.schema_version') IS NOT NULL AND "
	                       "to_regclass('smelt.state') IS NOT NULL AND to_regclass('smelt.runs') IS NOT NULL AND "
	                       "to_regclass('smelt.run_history') IS NOT NULL AND to_regclass('smelt.run_blocks') IS NOT "
	                       "NULL AND to_regclass('smelt.plugin_settings') IS NOT NULL, "
	                       /* Meltano's tables, told from another program's "state" or "runs" by their columns */
	                       "(SELECT count(*) = 4 FROM information_schema.columns WHERE table_schema = 'public' AND "
	                       " table_name = 'state' AND column_name IN ('state_id', 'completed_state', "
	                       " 'partial_state', 'updated_at')), "
	                       "(SELECT count(*) = 5 FROM information_schema.columns WHERE table_schema = 'public' AND "
	                       " table_name = 'runs' AND column_name IN ('job_name', 'run_id', 'state', 'started_at', "
	                       " 'last_heartbeat_at')), "
	                       "(SELECT count(*) = 4 FROM information_schema.columns WHERE table_schema = 'public' AND "
	                       " table_name = 'plugin_settings' AND column_name IN ('namespace', 'name', 'value', "
	                       " 'enabled'))",
	                       0, NULL, err, errlen, "read the schema");
	if (!r)
		return SMELT_ERR;
	int have = !strcmp(g->pq->getvalue(r, 0, 0), "t");
	g->meltano_state = !strcmp(g->pq->getvalue(r, 0, 1), "t");
	g->meltano_runs = !strcmp(g->pq->getvalue(r, 0, 2), "t");
	g->meltano_settings = !strcmp(g->pq->getvalue(r, 0, 3), "t");
	g->pq->clear(r);
	if (!have) {
		r = g->pq->exec(g->conn, schema_sql);
		ExecStatusType s = r ? g->pq->result_status(r) : PGRES_FATAL_ERROR;
		if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
			pg_fail(g, err, errlen, "create smelt's tables",
			        r ? g->pq->result_error_message(r) : g->pq->error_message(g->conn));
			if (r)
				g->pq->clear(r);
			pg_rollback(g);
			return SMELT_ERR;
		}
		g->pq->clear(r);
	}
	r = pg_query(g, "SELECT max(version) FROM smelt.schema_version", 0, NULL, err, errlen, "read the schema version");
	if (!r)
		return SMELT_ERR;
	int version = g->pq->getisnull(r, 0, 0) ? 0 : atoi(g->pq->getvalue(r, 0, 0));
	g->pq->clear(r);
	if (version > STORE_PG_SCHEMA_VERSION)
		return fail(err, errlen, SMELT_ERR,
		            "the system database (%s) has smelt schema version %d, this smelt knows up to %d; upgrade smelt",
		            g->label, version, STORE_PG_SCHEMA_VERSION);
	return SMELT_OK;
}

int store_pg_open(const char *uri, struct store_pg **out, char *err, size_t errlen)
{
	struct store_pg *g = xcalloc(1, sizeof *g);
	*out = NULL;
	int rc = pg_uri_parse(uri, &g->uri, err, errlen);
	if (rc) {
		store_pg_close(g);
		return rc;
	}
	g->label = xasprintf("PostgreSQL at %s", g->uri.host_port);
	if (g->uri.password_raw)
		log_add_secret(g->uri.password_raw);
	if (g->uri.password)
		log_add_secret(g->uri.password);
	char lerr[SMELT_ERRBUF_SIZE];
	if (!(g->pq = pq_api_get(lerr, sizeof lerr))) {
		rc = fail(err, errlen, SMELT_ERR, "database_uri names %s: %s", g->label, lerr);
		store_pg_close(g);
		return rc;
	}
	/*
	 * Keywords after dbname override what the URI says; before it, the URI
	 * wins.  A server that does not answer fails the connection after 10 s;
	 * TCP keepalives (and a 30 s limit on unacknowledged data) find a
	 * server or network that died under an open connection.
	 */
	const char *const keys[] = { "tcp_user_timeout", "connect_timeout", "keepalives", "keepalives_idle",
		                     "keepalives_interval", "keepalives_count", "dbname", "fallback_application_name",
		                     NULL };
	const char *const vals[] = { "30000", "10", "1", "30", "10", "3", g->uri.conninfo, "smelt", NULL };
	g->conn = g->pq->connectdb_params(keys, vals, 1);
	if (g->conn && g->pq->status(g->conn) != CONNECTION_OK &&
	    strstr(g->pq->error_message(g->conn), "tcp_user_timeout")) { /* a libpq older than 12: without it */
		g->pq->finish(g->conn);
		g->conn = g->pq->connectdb_params(keys + 1, vals + 1, 1);
	}
	if (!g->conn || g->pq->status(g->conn) != CONNECTION_OK) {
		char *msg = pg_clean(g, g->conn ? g->pq->error_message(g->conn) : "out of memory");
		size_t n = strlen(msg);
		while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = 0;
		for (char *p = msg; *p; p++)
			if (*p == '\n')
				*p = ' ';
		rc = fail(err, errlen, SMELT_ERR, "cannot connect to the system database (database_uri) at %s: %s",
		          g->uri.host_port, msg);
		free(msg);
		store_pg_close(g);
		return rc;
	}
	g->pq->set_notice_processor(g->conn, quiet_notice, NULL);
	g->have_stmt_ms = g->have_lock_ms = -1;
	pg_limits(g, LIMIT_STMT_MS, LIMIT_LOCK_MS);
	PGresult *r = g->pq->exec(g->conn, session_sql);
	if (!r || g->pq->result_status(r) != PGRES_COMMAND_OK) {
		pg_fail(g, err, errlen, "set up the session", r ? g->pq->result_error_message(r) : "out of memory");
		if (r)
			g->pq->clear(r);
		store_pg_close(g);
		return SMELT_ERR;
	}
	g->pq->clear(r);
	if (pg_prepare_schema(g, err, errlen)) {
		store_pg_close(g);
		return SMELT_ERR;
	}
	*out = g;
	return SMELT_OK;
}

void store_pg_close(struct store_pg *g)
{
	if (!g)
		return;
	if (g->conn)
		g->pq->finish(g->conn);
	pg_uri_release(&g->uri);
	free(g->held_run_id);
	free(g->held_state_id);
	free(g->lost_state_id);
	free(g->lost_why);
	free(g->label);
	free(g);
}

/* ---- state ---------------------------------------------------------------------------- */

int store_pg_state_get_raw(struct store_pg *g, const char *state_id, char **completed, char **partial, char *err,
                           size_t errlen)
{
	*completed = *partial = NULL;
	const char *p[] = { state_id };
	PGresult *r = pg_query(g, "SELECT completed_state, partial_state FROM smelt.state WHERE state_id = $1", 1, p,
	                       err, errlen, "read state");
	if (!r)
		return SMELT_ERR;
	if (g->pq->ntuples(r) > 0) {
		*completed = pg_dup(g, r, 0, 0);
		*partial = pg_dup(g, r, 0, 1);
	}
	g->pq->clear(r);
	return SMELT_OK;
}

int store_pg_state_updated_at(struct store_pg *g, const char *state_id, char **updated_at)
{
	*updated_at = NULL;
	const char *p[] = { state_id };
	char err[SMELT_ERRBUF_SIZE];
	PGresult *r = pg_query(g, "SELECT " TS("updated_at") " FROM smelt.state WHERE state_id = $1", 1, p, err,
	                       sizeof err, "read state");
	if (!r)
		return SMELT_ERR;
	if (g->pq->ntuples(r) > 0)
		*updated_at = pg_dup(g, r, 0, 0);
	g->pq->clear(r);
	return SMELT_OK;
}

/*
 * Meltano's record of state_id in public.state: its raw payloads and when it
 * was written (Meltano 4.4 leaves updated_at NULL on insert: its last run
 * of the id tells).  1 found, 0 none, negative with err filled.
 */
static int meltano_raw(struct store_pg *g, const char *state_id, char **completed, char **partial, char **at,
                       char *err, size_t errlen)
{
	*completed = *partial = *at = NULL;
	if (!g->meltano_state)
		return 0;
	const char *p[] = { state_id };
	const char *sql = g->meltano_runs
		? "SELECT completed_state::text, partial_state::text, " MTS(
			  "COALESCE(s.updated_at, (SELECT max(COALESCE(ended_at, last_heartbeat_at, started_at)) "
			  "FROM public.runs WHERE job_name = s.state_id))") " FROM public.state s WHERE state_id = $1"
		: "SELECT completed_state::text, partial_state::text, " MTS("updated_at") " FROM public.state "
		  "WHERE state_id = $1";
	PGresult *r = pg_query(g, sql, 1, p, err, errlen, "read Meltano's state");
	if (!r)
		return SMELT_ERR;
	int found = g->pq->ntuples(r) > 0;
	if (found) {
		*completed = pg_dup(g, r, 0, 0);
		*partial = pg_dup(g, r, 0, 1);
		*at = pg_dup(g, r, 0, 2);
	}
	g->pq->clear(r);
	return found;
}

/* Meltano's Singer state of state_id and its time ("" when unknown); 1 found, 0 none, negative on failure. */
static int meltano_state(struct store_pg *g, const char *state_id, char **json, char **at, char *err,
                         size_t errlen)
{
	char *c, *p;
	*json = NULL;
	int rc = meltano_raw(g, state_id, &c, &p, at, err, errlen);
	if (rc > 0) {
		*json = meltano_state_singer(c, p);
		rc = *json != NULL;
	}
	if (rc <= 0) {
		free(*at);
		*at = NULL;
	} else if (!*at) {
		*at = xstrdup("");
	}
	free(c);
	free(p);
	return rc;
}

/* "2026-12-02T02:13:22.090Z" and "2026-12-02 02:13:22.090803" into comparable "YYYY-MM-DD HH:MM:SS.ffffff". */
static void norm_time(const char *in, char out[27])
{
	memset(out, '0', 26);
	out[26] = 0;
	for (size_t i = 0; i < 26 && in[i] && in[i] != 'Z' && in[i] != '+'; i++)
		out[i] = in[i] == 'T' ? ' ' : in[i];
}

int store_pg_state_get(struct store_pg *g, const char *state_id, char **json, char *err, size_t errlen)
{
	char *c, *p, *theirs = NULL, *theirs_at = NULL, *mine_at = NULL;
	*json = NULL;
	if (store_pg_state_get_raw(g, state_id, &c, &p, err, errlen))
		return SMELT_ERR;
	char *mine = c || p ? meltano_state_singer(c, p) : NULL;
	free(c);
	free(p);
	char merr[SMELT_ERRBUF_SIZE];
	int rc = meltano_state(g, state_id, &theirs, &theirs_at, merr, sizeof merr);
	if (rc < 0) { /* Meltano's table unreadable: Smelt's own state still counts, as with meltano_db.h */
		log_warn("%s", merr);
		rc = 0;
	}
	if (rc > 0 && mine) {
		char cmine[27], ctheirs[27];
		store_pg_state_updated_at(g, state_id, &mine_at);
		norm_time(mine_at ? mine_at : "", cmine);
		norm_time(theirs_at, ctheirs);
		if (strcmp(ctheirs, cmine) <= 0)
			rc = 0;
	}
	if (rc > 0) {
		log_info("using the state of '%s' from Meltano's state table in the system database (%s)%s%s%s",
		         state_id, g->label, *theirs_at ? ", written " : "", theirs_at, *theirs_at ? " UTC" : "");
		free(mine);
		*json = theirs;
	} else {
		free(theirs);
		*json = mine;
	}
	free(mine_at);
	free(theirs_at);
	return SMELT_OK;
}

/*
 * The run lock run_id of state_id is no longer RUNNING: remember it (no
 * more writes of that state), log who took it once, and fail with err.
 */
static int lost_lock(struct store_pg *g, const char *run_id, const char *state_id, char *err, size_t errlen)
{
	if (!g->lost_state_id || strcmp(g->lost_state_id, state_id)) {
		char qerr[SMELT_ERRBUF_SIZE];
		const char *p[] = { run_id };
		PGresult *r = pg_query(g, "SELECT status, coalesce(error, '') FROM smelt.runs WHERE run_id = $1", 1, p,
		                       qerr, sizeof qerr, "read the run lock");
		const char *why = r && g->pq->ntuples(r) > 0 ? g->pq->getvalue(r, 0, 1) : "";
		free(g->lost_state_id);
		free(g->lost_why);
		g->lost_state_id = xstrdup(state_id);
		g->lost_why = xasprintf("its run %s is %s in the system database (%s)%s%s", run_id,
		                        r && g->pq->ntuples(r) > 0 ? g->pq->getvalue(r, 0, 0) : "gone", g->label,
		                        *why ? ": " : "", why);
		if (r)
			g->pq->clear(r);
		log_error("the run lock of '%s' was taken over by another process: %s; this run stops so that two runs "
		          "never write its state",
		          state_id, g->lost_why);
	}
	return fail(err, errlen, SMELT_ERR,
	            "the state of '%s' is not saved: this run lost its lock to another process (%s)", state_id,
	            g->lost_why);
}

int store_pg_state_put(struct store_pg *g, const char *state_id, const char *json, int partial, char *err,
                       size_t errlen)
{
	if (g->lost_state_id && !strcmp(g->lost_state_id, state_id))
		return fail(err, errlen, SMELT_ERR,
		            "the state of '%s' is not saved: this run lost its lock to another process (%s)", state_id,
		            g->lost_why);
	cJSON *value = cJSON_Parse(json);
	if (!value)
		return fail(err, errlen, SMELT_ERR_CONFIG, "state for '%s' is not valid JSON", state_id);
	cJSON *wrapped = cJSON_CreateObject();
	cJSON_AddItemToObject(wrapped, "singer_state", value);
	struct strbuf sb = STRBUF_INIT;
	int rc;
	/*
	 * Fencing: the state of the id whose run lock this process holds is
	 * written only while that lock row is still RUNNING, checked in the same
	 * statement with the row share-locked, so another machine that marks the
	 * run stale (an UPDATE of that row) and takes the lock over is ordered
	 * before or after the write, never beside it.
	 */
	const char *fence = g->held_state_id && !strcmp(g->held_state_id, state_id) ? g->held_run_id : NULL;
	if (!partial) {
		json_dump(&sb, wrapped, -2);
		const char *p[] = { state_id, sb.buf, fence };
		PGresult *r = pg_query(g,
		                       "INSERT INTO smelt.state (state_id, completed_state, partial_state) "
		                       "SELECT $1, $2, '{}' WHERE $3::text IS NULL OR EXISTS (SELECT 1 FROM smelt.runs "
		                       "WHERE run_id = $3 AND status = 'RUNNING' FOR SHARE) "
		                       "ON CONFLICT (state_id) DO UPDATE SET completed_state = $2, partial_state = '{}', "
		                       "updated_at = now()",
		                       3, p, err, errlen, "save state");
		rc = r ? SMELT_OK : SMELT_ERR;
		if (r && pg_changed(g, r) == 0)
			rc = lost_lock(g, fence, state_id, err, errlen);
		if (r)
			g->pq->clear(r);
	} else if (!(rc = pg_begin(g, err, errlen, "save state"))) {
		/* the row exists and is locked before its partial payload is read, so merges never interleave */
		const char *p1[] = { state_id };
		PGresult *r = NULL;
		if (fence) {
			const char *pf[] = { fence };
			if (!(r = pg_query(g, "SELECT 1 FROM smelt.runs WHERE run_id = $1 AND status = 'RUNNING' FOR SHARE", 1,
			                   pf, err, errlen, "save state")))
				rc = SMELT_ERR;
			else if (g->pq->ntuples(r) == 0)
				rc = lost_lock(g, fence, state_id, err, errlen);
			if (r)
				g->pq->clear(r);
			r = NULL;
		}
		if (!rc)
			rc = pg_run(g, "INSERT INTO smelt.state (state_id) VALUES ($1) ON CONFLICT (state_id) DO NOTHING", 1,
			            p1, err, errlen, "save state");
		if (!rc && !(r = pg_query(g, "SELECT partial_state FROM smelt.state WHERE state_id = $1 FOR UPDATE", 1, p1,
		                          err, errlen, "save state")))
			rc = SMELT_ERR;
		if (!rc) {
			cJSON *old = json_parse_exact(g->pq->ntuples(r) ? g->pq->getvalue(r, 0, 0) : "{}");
			if (!old || !cJSON_IsObject(old)) {
				cJSON_Delete(old);
				old = cJSON_CreateObject();
			}
			json_merge(old, wrapped);
			json_dump(&sb, old, -2);
			cJSON_Delete(old);
			const char *p2[] = { state_id, sb.buf };
			rc = pg_run(g, "UPDATE smelt.state SET partial_state = $2, updated_at = now() WHERE state_id = $1", 2,
			            p2, err, errlen, "save state");
		}
		if (r)
			g->pq->clear(r);
		rc = pg_commit(g, rc, err, errlen);
	}
	strbuf_release(&sb);
	cJSON_Delete(wrapped);
	return rc;
}

int store_pg_state_clear(struct store_pg *g, const char *state_id, char *err, size_t errlen)
{
	const char *p[] = { state_id };
	if (pg_run(g, "DELETE FROM smelt.state WHERE state_id = $1", 1, p, err, errlen, "clear state"))
		return SMELT_ERR;
	char *theirs = NULL, *at = NULL, merr[SMELT_ERRBUF_SIZE];
	int rc = meltano_state(g, state_id, &theirs, &at, merr, sizeof merr);
	free(theirs);
	free(at);
	if (rc < 0)
		log_warn("%s", merr);
	if (rc <= 0)
		return SMELT_OK;
	log_info("Meltano's state table in the system database (%s) still holds state for '%s' (smelt never writes "
	         "to it); smelt recorded an empty state so that it is not used",
	         g->label, state_id);
	return store_pg_state_put(g, state_id, "{}", 0, err, errlen);
}

int store_pg_state_copy(struct store_pg *g, const char *src, const char *dst, int move, char *err, size_t errlen)
{
	char *c, *p, *at = NULL;
	if (store_pg_state_get_raw(g, src, &c, &p, err, errlen))
		return SMELT_ERR;
	if (!c && !p && meltano_raw(g, src, &c, &p, &at, err, errlen) < 0)
		return SMELT_ERR;
	free(at);
	if (!c && !p)
		return fail(err, errlen, SMELT_ERR_NOTFOUND, "no state with id '%s'", src);
	const char *params[] = { dst, c ? c : "{}", p ? p : "{}" };
	int rc = pg_run(g,
	                "INSERT INTO smelt.state (state_id, completed_state, partial_state) VALUES ($1, $2, $3) "
	                "ON CONFLICT (state_id) DO UPDATE SET completed_state = $2, partial_state = $3, updated_at = now()",
	                3, params, err, errlen, "copy state");
	free(c);
	free(p);
	if (!rc && move)
		rc = store_pg_state_clear(g, src, err, errlen);
	return rc;
}

int store_pg_state_list(struct store_pg *g, const char *glob,
                        void (*fn)(void *arg, const char *state_id, const char *updated_at), void *arg, char *err,
                        size_t errlen)
{
	const char *sql = g->meltano_state
		? "SELECT state_id, max(at) FROM ("
		  " SELECT state_id, " TS("updated_at") " AS at FROM smelt.state UNION ALL"
		  " SELECT state_id, " TS("updated_at") " FROM public.state) s "
		  "GROUP BY state_id ORDER BY state_id COLLATE \"C\""
		: "SELECT state_id, " TS("updated_at") " FROM smelt.state ORDER BY state_id COLLATE \"C\"";
	PGresult *r = pg_query(g, sql, 0, NULL, err, errlen, "list state");
	if (!r)
		return SMELT_ERR;
	for (int i = 0, n = g->pq->ntuples(r); i < n; i++) {
		const char *id = g->pq->getvalue(r, i, 0);
		if (!glob || fnmatch(glob, id, 0) == 0)
			fn(arg, id, g->pq->getisnull(r, i, 1) ? "" : g->pq->getvalue(r, i, 1));
	}
	g->pq->clear(r);
	return SMELT_OK;
}

/* ---- runs: the run locks of state ids -------------------------------------------------- */

/* The owner row `row` of r records in its columns col..col+3: host, host_key, pid, pid_start. */
static void owner_of_row(struct store_pg *g, PGresult *r, int row, int col, struct proc_owner *o)
{
	memset(o, 0, sizeof *o);
	snprintf(o->host, sizeof o->host, "%s", g->pq->getvalue(r, row, col));
	snprintf(o->host_key, sizeof o->host_key, "%s", g->pq->getvalue(r, row, col + 1));
	o->pid = strtol(g->pq->getvalue(r, row, col + 2), NULL, 10);
	o->start = strtoull(g->pq->getvalue(r, row, col + 3), NULL, 10);
}

/* RUNNING runs of state_id whose process is provably gone (this host, same boot) are marked failed at once. */
static void fail_dead(struct store_pg *g, const char *state_id)
{
	char err[SMELT_ERRBUF_SIZE];
	const char *p[] = { state_id };
	PGresult *r = pg_query(g,
	                       "SELECT run_id, host, host_key, pid, pid_start FROM smelt.runs "
	                       "WHERE status = 'RUNNING' AND state_id = $1 AND pid IS NOT NULL",
	                       1, p, err, sizeof err, "find dead runs");
	if (!r)
		return;
	for (int i = 0, n = g->pq->ntuples(r); i < n; i++) {
		struct proc_owner o;
		owner_of_row(g, r, i, 1, &o);
		if (proc_owner_check(&o) != PROC_GONE)
			continue;
		char *why = xasprintf("The process (pid %ld on %s) is gone. It was likely killed unceremoniously.", o.pid,
		                      o.host);
		const char *u[] = { g->pq->getvalue(r, i, 0), why };
		PGresult *w = pg_query(g,
		                       "UPDATE smelt.runs SET status = 'FAIL', ended_at = now(), error = $2 "
		                       "WHERE run_id = $1 AND status = 'RUNNING'",
		                       2, u, err, sizeof err, "fail a dead run");
		if (w && pg_changed(g, w) > 0)
			log_warn("run %s of '%s' was left running by smelt process %ld, which is gone: marked failed, its "
			         "lock released",
			         u[0], state_id, o.pid);
		if (w)
			g->pq->clear(w);
		free(why);
	}
	g->pq->clear(r);
}

int store_pg_run_begin(struct store_pg *g, const char *run_id, const char *state_id, const char *name, int force,
                       const struct proc_owner *owner, char *err, size_t errlen)
{
	char pid[32] = "", start[32] = "";
	int known = owner && owner->pid > 0 && owner->host[0] && owner->host_key[0];
	if (known) {
		snprintf(pid, sizeof pid, "%ld", owner->pid);
		snprintf(start, sizeof start, "%llu", owner->start);
	}
	int rc = pg_begin(g, err, errlen, "record run");
	if (rc)
		return rc;
	if (state_id) {
		const char *p[] = { state_id };
		/* one begin per state id at a time, across every machine using this database */
		rc = pg_run(g, "SELECT pg_advisory_xact_lock(hashtextextended('smelt.run:' || $1, 0))", 1, p, err, errlen,
		            "lock the state id");
		if (!rc)
			fail_dead(g, state_id);
		if (!rc)
			rc = pg_run(g,
			            "UPDATE smelt.runs SET status = 'FAIL', ended_at = now(), error = CASE WHEN last_heartbeat_at "
			            "IS NOT NULL THEN 'No heartbeat recorded for 5 minutes. The process was likely killed "
			            "unceremoniously.' ELSE 'Still running after 24 hours. The process was likely killed "
			            "unceremoniously.' END WHERE status = 'RUNNING' AND state_id = $1 AND ("
			            " (last_heartbeat_at IS NOT NULL AND last_heartbeat_at < now() - interval '300 seconds') OR"
			            " (last_heartbeat_at IS NULL AND started_at < now() - interval '86400 seconds'))",
			            1, p, err, errlen, "fail stale runs");
		PGresult *r = NULL;
		if (!rc && !force &&
		    (r = pg_query(g,
		                  "SELECT run_id, " TS("started_at") ", coalesce(host, 'an unknown host'), "
		                  "to_char(coalesce(last_heartbeat_at, started_at) + interval '5 minutes', "
		                  "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), coalesce(host, ''), coalesce(host_key, ''), "
		                  "coalesce(pid, 0), coalesce(pid_start, 0) FROM smelt.runs "
		                  "WHERE state_id = $1 AND status = 'RUNNING' ORDER BY id LIMIT 1",
		                  1, p, err, errlen, "check running runs"))) {
			if (g->pq->ntuples(r) > 0) {
				struct proc_owner o;
				owner_of_row(g, r, 0, 4, &o);
				rc = store_refuse_running(err, errlen, state_id, g->pq->getvalue(r, 0, 0), g->pq->getvalue(r, 0, 2),
				                          g->pq->getvalue(r, 0, 1), g->pq->getvalue(r, 0, 3), &o);
			}
			g->pq->clear(r);
		} else if (!rc && !force) {
			rc = SMELT_ERR;
		}
		/* Meltano's own run of the id, alive by Meltano's rule (a heartbeat in 5 min, or 24 h without) */
		if (!rc && !force && g->meltano_runs &&
		    (r = pg_query(g,
		                  "SELECT run_id::text, " MTS("started_at") " FROM public.runs WHERE job_name = $1 AND "
		                  "state = 'RUNNING' AND ((last_heartbeat_at IS NOT NULL AND last_heartbeat_at > "
		                  "(now() AT TIME ZONE 'UTC') - interval '5 minutes') OR (last_heartbeat_at IS NULL AND "
		                  "started_at > (now() AT TIME ZONE 'UTC') - interval '24 hours')) LIMIT 1",
		                  1, p, err, errlen, "check Meltano's running runs"))) {
			if (g->pq->ntuples(r) > 0)
				rc = fail(err, errlen, SMELT_ERR,
				          "a Meltano '%s' pipeline is already running (run %s, started at %s UTC, in Meltano's "
				          "runs table of the system database); wait until it ends, or ignore this check with "
				          "'--force'",
				          state_id, g->pq->getvalue(r, 0, 0), g->pq->getvalue(r, 0, 1));
			g->pq->clear(r);
		} else if (!rc && !force && g->meltano_runs) {
			rc = SMELT_ERR;
		}
	}
	if (!rc && state_id) {
		if (g->lost_state_id && !strcmp(g->lost_state_id, state_id)) {
			free(g->lost_state_id); /* this process holds the lock of that state id again */
			g->lost_state_id = NULL;
		}
		free(g->held_run_id);
		free(g->held_state_id);
		g->held_run_id = xstrdup(run_id);
		g->held_state_id = xstrdup(state_id);
	}
	if (!rc) {
		const char *p[] = { run_id, state_id, name, known ? owner->host : NULL, known ? owner->host_key : NULL,
			            known ? pid : NULL, known ? start : NULL };
		rc = pg_run(g,
		            "INSERT INTO smelt.runs (run_id, state_id, name, status, last_heartbeat_at, host, host_key, pid, "
		            "pid_start) VALUES ($1, $2, $3, 'RUNNING', now(), $4, $5, $6::bigint, $7::bigint)",
		            7, p, err, errlen, "record run");
	}
	return pg_commit(g, rc, err, errlen);
}

int store_pg_run_heartbeat(struct store_pg *g, const char *run_id)
{
	char err[SMELT_ERRBUF_SIZE];
	const char *p[] = { run_id };
	pg_limits(g, LIMIT_BEAT_MS, LIMIT_BEAT_MS);
	PGresult *r = pg_query(g,
	                       "UPDATE smelt.runs SET last_heartbeat_at = now() WHERE run_id = $1 AND status = 'RUNNING' "
	                       "RETURNING 1",
	                       1, p, err, sizeof err, "heartbeat");
	pg_limits(g, LIMIT_STMT_MS, LIMIT_LOCK_MS);
	if (!r) {
		if (!g->warned++)
			log_warn("%s (the run goes on; other machines see it as stale 5 minutes after its last heartbeat)",
			         err);
		return SMELT_ERR;
	}
	g->warned = 0;
	int beat = g->pq->ntuples(r) > 0;
	g->pq->clear(r);
	if (beat)
		return SMELT_OK;
	/* no RUNNING row: another machine took the lock over (it marked this run stale), or someone ended it */
	if (g->held_run_id && !strcmp(g->held_run_id, run_id)) {
		lost_lock(g, run_id, g->held_state_id, err, sizeof err);
	} else {
		log_error("the run lock %s is no longer running in the system database (%s); this run stops", run_id,
		          g->label);
	}
	return SMELT_ERR_NOTFOUND;
}

int store_pg_run_end(struct store_pg *g, const char *run_id, const char *status, const char *error,
                     const char *payload_json, char *err, size_t errlen)
{
	const char *p[] = { run_id, status, error, payload_json };
	if (g->held_run_id && !strcmp(g->held_run_id, run_id)) {
		free(g->held_run_id);
		free(g->held_state_id);
		g->held_run_id = g->held_state_id = NULL;
	}
	return pg_run(g,
	              /* a lock another machine took over keeps the reason it gave */
	              "UPDATE smelt.runs SET status = $2, error = $3, payload = $4, ended_at = now() WHERE run_id = $1 "
	              "AND status = 'RUNNING'",
	              4, p, err, errlen, "finish run");
}

int store_pg_runs_json(struct store_pg *g, const char *state_id, int limit, char **json, char *err, size_t errlen)
{
	char lim[32];
	snprintf(lim, sizeof lim, "%d", limit);
	const char *p[] = { state_id, limit > 0 ? lim : NULL };
	*json = NULL;
	PGresult *r = pg_query(g,
	                       "SELECT run_id, state_id, name, status, " TS("started_at") ", " TS("last_heartbeat_at")
	                       ", " TS("ended_at") ", error, payload FROM smelt.runs "
	                       "WHERE ($1::text IS NULL OR state_id = $1) ORDER BY id DESC LIMIT $2::bigint",
	                       2, p, err, errlen, "list runs");
	if (!r)
		return SMELT_ERR;
	static const char *const keys[] = { "run_id", "state_id", "name", "status", "started_at",
		                            "last_heartbeat_at", "ended_at", "error" };
	struct strbuf sb = STRBUF_INIT;
	strbuf_addch(&sb, '[');
	for (int row = 0, n = g->pq->ntuples(r); row < n; row++) {
		strbuf_addstr(&sb, row ? ",{" : "{");
		for (int c = 0; c < 8; c++) {
			strbuf_addf(&sb, "%s\"%s\":", c ? "," : "", keys[c]);
			if (g->pq->getisnull(r, row, c))
				strbuf_addstr(&sb, "null");
			else
				json_quote(&sb, g->pq->getvalue(r, row, c));
		}
		strbuf_addf(&sb, ",\"payload\":%s}", g->pq->getisnull(r, row, 8) ? "null" : g->pq->getvalue(r, row, 8));
	}
	strbuf_addch(&sb, ']');
	g->pq->clear(r);
	*json = strbuf_detach(&sb);
	return SMELT_OK;
}

/* ---- plugin settings stored with `config set --store db` ---------------------------- */

int store_pg_setting_get(struct store_pg *g, const char *plugin, const char *name, char **value, char *err,
                         size_t errlen)
{
	const char *p[] = { plugin, name };
	*value = NULL;
	PGresult *r = pg_query(g, "SELECT value FROM smelt.plugin_settings WHERE plugin = $1 AND name = $2", 2, p, err,
	                       errlen, "read setting");
	if (!r)
		return SMELT_ERR;
	if (g->pq->ntuples(r) > 0)
		*value = pg_dup(g, r, 0, 0);
	g->pq->clear(r);
	return SMELT_OK;
}

int store_pg_setting_set(struct store_pg *g, const char *plugin, const char *name, const char *value, char *err,
                         size_t errlen)
{
	const char *p[] = { plugin, name, value };
	return pg_run(g,
	              "INSERT INTO smelt.plugin_settings (plugin, name, value) VALUES ($1, $2, $3) "
	              "ON CONFLICT (plugin, name) DO UPDATE SET value = $3",
	              3, p, err, errlen, "save setting");
}

int store_pg_setting_unset(struct store_pg *g, const char *plugin, const char *name, char *err, size_t errlen)
{
	const char *p[] = { plugin, name };
	return pg_run(g, "DELETE FROM smelt.plugin_settings WHERE plugin = $1 AND (name = $2 OR $2 IS NULL)", 2, p, err,
	              errlen, name ? "unset setting" : "clear settings");
}

int store_pg_meltano_setting_get(struct store_pg *g, const char *ns, const char *name, char **json, char *err,
                                 size_t errlen)
{
	*json = NULL;
	if (!g->meltano_settings)
		return 0;
	char *mns = strcmp(ns, "meltano") ? xasprintf("%s.default", ns) : xstrdup(ns);
	const char *p[] = { mns, name };
	/* the pickled value as bytes: the result in binary format */
	PGresult *r = pg_query_fmt(g,
	                           "SELECT value FROM public.plugin_settings WHERE namespace = $1 AND name = $2 AND "
	                           "enabled AND value IS NOT NULL",
	                           2, p, err, errlen, "read Meltano's plugin_settings", 1);
	int rc = r ? 0 : SMELT_ERR;
	if (r && g->pq->ntuples(r) > 0) {
		char why[160];
		const unsigned char *b = (const unsigned char *)g->pq->getvalue(r, 0, 0);
		size_t n = (size_t)g->pq->getlength(r, 0, 0);
		if (pickle_to_json(b, n, json, why, sizeof why) == SMELT_OK)
			rc = 1;
		else
			rc = fail(err, errlen, SMELT_ERR,
			          "setting '%s' of '%s' in Meltano's plugin_settings table (%s) is not plain data: %s", name,
			          mns, g->label, why);
	}
	if (r)
		g->pq->clear(r);
	free(mns);
	return rc;
}

/* ---- for store/runs_pg.c ------------------------------------------------------------ */

const struct pq_api *store_pg_api(const struct store_pg *g)
{
	return g->pq;
}

PGresult *store_pg_exec(struct store_pg *g, const char *sql, int n, const char *const *params, char *err,
                        size_t errlen, const char *what)
{
	return pg_query(g, sql, n, params, err, errlen, what);
}

int store_pg_begin(struct store_pg *g, char *err, size_t errlen, const char *what)
{
	return pg_begin(g, err, errlen, what);
}

int store_pg_commit(struct store_pg *g, int rc, char *err, size_t errlen)
{
	return pg_commit(g, rc, err, errlen);
}

void store_pg_slow(struct store_pg *g, int slow)
{
	pg_limits(g, slow ? LIMIT_LIST_MS : LIMIT_STMT_MS, LIMIT_LOCK_MS);
}
