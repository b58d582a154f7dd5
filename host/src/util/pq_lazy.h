/*
 * pq_lazy - libpq (PostgreSQL's client library), loaded on first use.
 *
 * Only a project whose database_uri names PostgreSQL needs libpq, so the
 * binary does not link it (start-up of every other command stays as fast
 * as without it): the system database asks for this table, which
 * dlopen()s libpq.so.5 and resolves the few functions it uses.
 * <libpq-fe.h> is used for its types and constants only, as curl_lazy.h
 * does for libcurl.
 */
#ifndef SMELT_UTIL_PQ_LAZY_H
#define SMELT_UTIL_PQ_LAZY_H

#include <libpq-fe.h>
#include <stddef.h>

struct pq_api {
	PGconn *(*connectdb_params)(const char *const *keywords, const char *const *values, int expand_dbname);
	ConnStatusType (*status)(const PGconn *conn);
	char *(*error_message)(const PGconn *conn);
	void (*finish)(PGconn *conn);
	void (*reset)(PGconn *conn);
	PGresult *(*exec)(PGconn *conn, const char *query);
	PGresult *(*exec_params)(PGconn *conn, const char *command, int nparams, const Oid *types,
	                         const char *const *values, const int *lengths, const int *formats, int result_format);
	ExecStatusType (*result_status)(const PGresult *res);
	char *(*result_error_message)(const PGresult *res);
	int (*ntuples)(const PGresult *res);
	char *(*getvalue)(const PGresult *res, int row, int col);
	int (*getisnull)(const PGresult *res, int row, int col);
	int (*getlength)(const PGresult *res, int row, int col);
	char *(*cmd_tuples)(PGresult *res);
	void (*clear)(PGresult *res);
	PQnoticeProcessor (*set_notice_processor)(PGconn *conn, PQnoticeProcessor proc, void *arg);
};

/*
 * The libpq functions, loaded once per process; thread-safe.  The library
 * is SMELT_LIBPQ when that is set (a path or soname), else libpq.so.5.
 * Returns NULL with err filled ("cannot load libpq (PostgreSQL's client
 * library, Debian's libpq5): ...") when it cannot be loaded or lacks a
 * symbol.  The table stays valid until the process exits.
 */
const struct pq_api *pq_api_get(char *err, size_t errlen);

/* 1 when libpq has been loaded into this process (for tests of laziness). */
int pq_api_loaded(void);

#endif
