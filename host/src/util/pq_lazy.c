/* pq_lazy: libpq loaded with dlopen on first use; see pq_lazy.h. */
#include "util/pq_lazy.h"
#include "util/dl_api.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t pq_once = PTHREAD_ONCE_INIT;
static struct pq_api pq_table;
static int pq_ok;
static char pq_err[384];

static const struct dl_api_sym pq_syms[] = {
	DL_API_SYM(struct pq_api, connectdb_params, "PQconnectdbParams"),
	DL_API_SYM(struct pq_api, status, "PQstatus"),
	DL_API_SYM(struct pq_api, error_message, "PQerrorMessage"),
	DL_API_SYM(struct pq_api, finish, "PQfinish"),
	DL_API_SYM(struct pq_api, reset, "PQreset"),
	DL_API_SYM(struct pq_api, exec, "PQexec"),
	DL_API_SYM(struct pq_api, exec_params, "PQexecParams"),
	DL_API_SYM(struct pq_api, result_status, "PQresultStatus"),
	DL_API_SYM(struct pq_api, result_error_message, "PQresultErrorMessage"),
	DL_API_SYM(struct pq_api, ntuples, "PQntuples"),
	DL_API_SYM(struct pq_api, getvalue, "PQgetvalue"),
	DL_API_SYM(struct pq_api, getisnull, "PQgetisnull"),
	DL_API_SYM(struct pq_api, getlength, "PQgetlength"),
	DL_API_SYM(struct pq_api, cmd_tuples, "PQcmdTuples"),
	DL_API_SYM(struct pq_api, clear, "PQclear"),
	DL_API_SYM(struct pq_api, set_notice_processor, "PQsetNoticeProcessor"),
};

static void pq_load(void)
{
	const char *name = getenv("SMELT_LIBPQ");
	const char *const sonames[] = { name && *name ? name : "libpq.so.5", NULL };
	pq_ok = dl_api_load(sonames, "libpq", " (PostgreSQL's client library, Debian's libpq5)", pq_syms,
	                    sizeof pq_syms / sizeof pq_syms[0], &pq_table, pq_err, sizeof pq_err) == 0;
}

const struct pq_api *pq_api_get(char *err, size_t errlen)
{
	pthread_once(&pq_once, pq_load);
	if (pq_ok)
		return &pq_table;
	if (err && errlen)
		snprintf(err, errlen, "%s", pq_err);
	return NULL;
}

int pq_api_loaded(void)
{
	return pq_ok;
}
