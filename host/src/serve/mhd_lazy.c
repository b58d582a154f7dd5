/* mhd_lazy: libmicrohttpd loaded with dlopen on first use; see mhd_lazy.h. */
#include "serve/mhd_lazy.h"
#include "util/dl_api.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Debian 12 ships libmicrohttpd12 (soname .12 since 0.9.x). */
static const char *const mhd_sonames[] = { "libmicrohttpd.so.12", NULL };

static pthread_once_t mhd_once = PTHREAD_ONCE_INIT;
static struct mhd_api mhd_table;
static int mhd_ok;
static char mhd_err[256];

static const struct dl_api_sym mhd_syms[] = {
	DL_API_SYM(struct mhd_api, start_daemon, "MHD_start_daemon"),
	DL_API_SYM(struct mhd_api, stop_daemon, "MHD_stop_daemon"),
	DL_API_SYM(struct mhd_api, get_daemon_info, "MHD_get_daemon_info"),
	DL_API_SYM(struct mhd_api, is_feature_supported, "MHD_is_feature_supported"),
	DL_API_SYM(struct mhd_api, lookup_connection_value, "MHD_lookup_connection_value"),
	DL_API_SYM(struct mhd_api, queue_response, "MHD_queue_response"),
	DL_API_SYM(struct mhd_api, create_response_from_buffer, "MHD_create_response_from_buffer"),
	DL_API_SYM(struct mhd_api, create_response_from_callback, "MHD_create_response_from_callback"),
	DL_API_SYM(struct mhd_api, create_response_from_fd, "MHD_create_response_from_fd"),
	DL_API_SYM(struct mhd_api, add_response_header, "MHD_add_response_header"),
	DL_API_SYM(struct mhd_api, destroy_response, "MHD_destroy_response"),
};

static void mhd_load(void)
{
	mhd_ok = dl_api_load(mhd_sonames, "libmicrohttpd", "", mhd_syms, sizeof mhd_syms / sizeof mhd_syms[0],
	                     &mhd_table, mhd_err, sizeof mhd_err) == 0;
}

const struct mhd_api *mhd_api_get(char *err, size_t errlen)
{
	pthread_once(&mhd_once, mhd_load);
	if (mhd_ok)
		return &mhd_table;
	if (err && errlen)
		snprintf(err, errlen, "%s", mhd_err);
	return NULL;
}

const struct mhd_api *mhd_api(void)
{
	return mhd_ok ? &mhd_table : NULL;
}

int mhd_api_loaded(void)
{
	return mhd_ok;
}
