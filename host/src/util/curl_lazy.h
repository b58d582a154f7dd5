/*
 * curl_lazy - libcurl, loaded on first use.
 *
 * Only the commands that talk to the Hub (add, lock, hub, auto-lock) need
 * libcurl, and loading it with its TLS stack at start-up costs several
 * milliseconds and megabytes on every command.  So the binary does not link
 * libcurl: the Hub client asks for this table, which dlopen()s libcurl.so.4
 * and resolves the few functions it uses the first time it is needed.
 * <curl/curl.h> is used for its types and constants only.
 */
#ifndef SMELT_HUB_CURL_LAZY_H
#define SMELT_HUB_CURL_LAZY_H

#include <curl/curl.h>
#include <stddef.h>

struct curl_api {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *c);
	void (*easy_reset)(CURL *c);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
	void (*slist_free_all)(struct curl_slist *list);
};

/*
 * The libcurl functions, loaded (and curl_global_init() called) once per
 * process; thread-safe.  Returns NULL with err filled when libcurl cannot be
 * loaded (the library is missing or lacks a symbol).  The table is static and
 * stays valid until the process exits (libcurl is never unloaded).
 */
const struct curl_api *curl_api_get(char *err, size_t errlen);

/* 1 when libcurl has been loaded into this process (for tests of laziness). */
int curl_api_loaded(void);

#endif
