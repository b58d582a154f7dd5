/* curl_lazy: libcurl loaded with dlopen on first use; see curl_lazy.h. */
#include "util/curl_lazy.h"
#include "util/dl_api.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* libcurl's stable soname since 7.16; Debian ships it as libcurl4 (OpenSSL) or libcurl3-gnutls. */
static const char *const curl_sonames[] = { "libcurl.so.4", "libcurl-gnutls.so.4", NULL };

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static struct curl_api curl_table;
static int curl_ok;
static char curl_err[256];

static const struct dl_api_sym curl_syms[] = {
	DL_API_SYM(struct curl_api, global_init, "curl_global_init"),
	DL_API_SYM(struct curl_api, easy_init, "curl_easy_init"),
	DL_API_SYM(struct curl_api, easy_cleanup, "curl_easy_cleanup"),
	DL_API_SYM(struct curl_api, easy_reset, "curl_easy_reset"),
	DL_API_SYM(struct curl_api, easy_setopt, "curl_easy_setopt"),
	DL_API_SYM(struct curl_api, easy_perform, "curl_easy_perform"),
	DL_API_SYM(struct curl_api, easy_getinfo, "curl_easy_getinfo"),
	DL_API_SYM(struct curl_api, easy_strerror, "curl_easy_strerror"),
	DL_API_SYM(struct curl_api, slist_append, "curl_slist_append"),
	DL_API_SYM(struct curl_api, slist_free_all, "curl_slist_free_all"),
};

static void curl_load(void)
{
	if (dl_api_load(curl_sonames, "libcurl", "", curl_syms, sizeof curl_syms / sizeof curl_syms[0], &curl_table,
	                curl_err, sizeof curl_err))
		return;
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
