/* pq_lazy: libpq loaded with dlopen on first use; see pq_lazy.h. */
#include "util/pq_lazy.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t pq_once = PTHREAD_ONCE_INIT;
static struct pq_api pq_table;
static int pq_ok;
static char pq_err[384];

/* Resolve one symbol into a function pointer field; 0 when found. */
static int pq_sym(void *handle, const char *name, void *field, size_t size)
{
	void *p = dlsym(handle, name);
	if (!p) {
		snprintf(pq_err, sizeof pq_err, "libpq lacks '%s'", name);
		return -1;
	}
	/* POSIX guarantees data and function pointers convert through void *. */
	memcpy(field, &p, size);
	return 0;
}

#define PQ_SYM(h, field, name) pq_sym((h), (name), &pq_table.field, sizeof pq_table.field)

static void pq_load(void)
{
	const char *name = getenv("SMELT_LIBPQ");
	if (!name || !*name)
		name = "libpq.so.5";
	void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(pq_err, sizeof pq_err, "cannot load libpq (PostgreSQL's client library, Debian's libpq5): %s",
		         dlerror());
		return;
	}
	if (PQ_SYM(h, connectdb_params, "PQconnectdbParams") || PQ_SYM(h, status, "PQstatus") ||
	    PQ_SYM(h, error_message, "PQerrorMessage") || PQ_SYM(h, finish, "PQfinish") || PQ_SYM(h, reset, "PQreset") || PQ_SYM(h, exec, "PQexec") ||
	    PQ_SYM(h, exec_params, "PQexecParams") || PQ_SYM(h, result_status, "PQresultStatus") ||
	    PQ_SYM(h, result_error_message, "PQresultErrorMessage") || PQ_SYM(h, ntuples, "PQntuples") ||
	    PQ_SYM(h, getvalue, "PQgetvalue") || PQ_SYM(h, getisnull, "PQgetisnull") ||
	    PQ_SYM(h, cmd_tuples, "PQcmdTuples") || PQ_SYM(h, clear, "PQclear") ||
	    PQ_SYM(h, set_notice_processor, "PQsetNoticeProcessor"))
		return; /* the handle stays open: harmless */
	pq_ok = 1;
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
