/* curl_lazy: libcurl loaded with dlopen on first use; see curl_lazy.h. */
#include "util/curl_lazy.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* libcurl's stable soname since 7.16; Debian ships it as libcurl4 (OpenSSL) or libcurl3-gnutls. */
static const char *const curl_sonames[] = { "libcurl.so.4", "libcurl-gnutls.so.4", NULL };

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static struct curl_api curl_table;
static int curl_ok;
static char curl_err[256];

/* Resolve one symbol into a function pointer field; 0 when found. */
static int curl_sym(void *handle, const char *name, void *field, size_t size)
{
	void *p = dlsym(handle, name);
	if (!p) {
		snprintf(curl_err, sizeof curl_err, "libcurl lacks '%s'", name);
		return -1;
	}
	/* POSIX guarantees data and function pointers convert through void *. */
	memcpy(field, &p, size);
	return 0;
}

#define CURL_SYM(h, field, name) curl_sym((h), (name), &curl_table.field, sizeof curl_table.field)

static void curl_load(void)
{
	void *h = NULL;
	for (const char *const *n = curl_sonames; *n && !h; n++)
		h = dlopen(*n, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(curl_err, sizeof curl_err, "cannot load libcurl: %s", dlerror());
		return;
	}
	if (CURL_SYM(h, global_init, "curl_global_init") || CURL_SYM(h, easy_init, "curl_easy_init") ||
	    CURL_SYM(h, easy_cleanup, "curl_easy_cleanup") || CURL_SYM(h, easy_reset, "curl_easy_reset") ||
	    CURL_SYM(h, easy_setopt, "curl_easy_setopt") || CURL_SYM(h, easy_perform, "curl_easy_perform") ||
	    CURL_SYM(h, easy_getinfo, "curl_easy_getinfo") ||
	    CURL_SYM(h, easy_strerror, "curl_easy_strerror") ||
	    CURL_SYM(h, slist_append, "curl_slist_append") ||
	    CURL_SYM(h, slist_free_all, "curl_slist_free_all"))
		return; /* the handle stays open: harmless, and dlclose of libcurl is not worth the risk */
	if (curl_table.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(curl_err, sizeof curl_err, "cannot initialise libcurl");
		return;
	}
	curl_ok = 1;
}

const struct curl_api *curl_api_get(char *err, size_t errlen)
{
	pthread_once(&curl_once, curl_load);
	if (curl_ok)
		return &curl_table;
	if (err && errlen)
		snprintf(err, errlen, "%s", curl_err);
	return NULL;
}

int curl_api_loaded(void)
{
	return curl_ok;
}
