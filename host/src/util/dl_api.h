/*
 * dl_api - a shared library's functions, resolved with dlopen() into a
 * table of function pointers.  The one mechanism behind the libraries
 * smelt loads only when a command needs them: libcurl (util/curl_lazy.h),
 * libpq (util/pq_lazy.h) and libmicrohttpd (serve/mhd_lazy.h).  Each of
 * those keeps its own table, its pthread_once() and its error text; this
 * does the loading.
 */
#ifndef SMELT_UTIL_DL_API_H
#define SMELT_UTIL_DL_API_H

#include <stddef.h>

/* One function: its symbol, and where its pointer goes in the table. */
struct dl_api_sym {
	const char *symbol;
	size_t offset; /* of the field in the table */
	size_t size;   /* of the field */
};

/* An entry of a dl_api_sym array for field of the table type type. */
#define DL_API_SYM(type, field, symbol) { (symbol), offsetof(type, field), sizeof(((type *)0)->field) }

/*
 * Open the first of sonames (NULL-terminated; each a soname or a path)
 * that loads, and resolve each of the nsyms symbols into table.  what
 * names the library in messages, hint follows it in the one for a library
 * that cannot be loaded (may be "").  0, or -1 with err filled ("cannot
 * load <what><hint>: <dlerror>", "<what> lacks '<symbol>'").  The library
 * is never closed: its functions stay valid until the process exits.
 */
int dl_api_load(const char *const *sonames, const char *what, const char *hint, const struct dl_api_sym *syms,
                size_t nsyms, void *table, char *err, size_t errlen);

#endif
