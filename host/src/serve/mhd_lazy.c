/* mhd_lazy: libmicrohttpd loaded with dlopen on first use; see mhd_lazy.h. */
#include "serve/mhd_lazy.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Debian 12 ships libmicrohttpd12 (soname .12 since 0.9.x). */
static const char *const mhd_sonames[] = { "libmicrohttpd.so.12", NULL };

static pthread_once_t mhd_once = PTHREAD_ONCE_INIT;
static struct mhd_api mhd_table;
static int mhd_ok;
static char mhd_err[256];

/* Resolve one symbol into a function pointer field; 0 when found. */
static int mhd_sym(void *handle, const char *name, void *field, size_t size)
{
	void *p = dlsym(handle, name);
	if (!p) {
		snprintf(mhd_err, sizeof mhd_err, "libmicrohttpd lacks '%s'", name);
		return -1;
	}
	/* POSIX guarantees data and function pointers convert through void *. */
	memcpy(field, &p, size);
	return 0;
}

#define MHD_SYM(h, field, name) mhd_sym((h), (name), &mhd_table.field, sizeof mhd_table.field)

static void mhd_load(void)
{
	void *h = NULL;
	for (const char *const *n = mhd_sonames; *n && !h; n++)
		h = dlopen(*n, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(mhd_err, sizeof mhd_err, "cannot load libmicrohttpd: %s", dlerror());
		return;
	}
	if (MHD_SYM(h, start_daemon, "MHD_start_daemon") || MHD_SYM(h, stop_daemon, "MHD_stop_daemon") ||
	    MHD_SYM(h, get_daemon_info, "MHD_get_daemon_info") ||
	    MHD_SYM(h, is_feature_supported, "MHD_is_feature_supported") ||
	    MHD_SYM(h, lookup_connection_value, "MHD_lookup_connection_value") ||
	    MHD_SYM(h, queue_response, "MHD_queue_response") ||
	    MHD_SYM(h, create_response_from_buffer, "MHD_create_response_from_buffer") ||
	    MHD_SYM(h, create_response_from_callback, "MHD_create_response_from_callback") ||
	    MHD_SYM(h, create_response_from_fd, "MHD_create_response_from_fd") ||
	    MHD_SYM(h, add_response_header, "MHD_add_response_header") ||
	    MHD_SYM(h, destroy_response, "MHD_destroy_response"))
		return; /* the handle stays open: harmless */
	mhd_ok = 1;
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
