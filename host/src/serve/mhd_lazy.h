/*
 * mhd_lazy - libmicrohttpd, loaded on first use.
 *
 * Only `smelt serve` needs libmicrohttpd, and Debian's build drags GnuTLS
 * and its eight dependencies in with it: linked into the binary, they cost
 * every command (`smelt --version`, every `smelt run`) about 2 ms of dynamic
 * loading.  So the binary does not link libmicrohttpd; the server loads it
 * with dlopen() when it starts, exactly like util/curl_lazy.h does for the
 * Hub client.
 *
 * The serve sources include this header instead of <microhttpd.h>.  It
 * includes <microhttpd.h> for the types and constants, then redirects each
 * libmicrohttpd function the server uses (the MHD_ names below) to the
 * loaded table, so the call sites read as plain libmicrohttpd.  A function
 * the server starts using must be added to the table and to mhd_lazy.c.
 */
#ifndef SMELT_SERVE_MHD_LAZY_H
#define SMELT_SERVE_MHD_LAZY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <microhttpd.h>

/* Each field has the type of a pointer to the libmicrohttpd function it stands for. */
struct mhd_api {
	__typeof__(&MHD_start_daemon) start_daemon;
	__typeof__(&MHD_stop_daemon) stop_daemon;
	__typeof__(&MHD_get_daemon_info) get_daemon_info;
	__typeof__(&MHD_is_feature_supported) is_feature_supported;
	__typeof__(&MHD_lookup_connection_value) lookup_connection_value;
	__typeof__(&MHD_queue_response) queue_response;
	__typeof__(&MHD_create_response_from_buffer) create_response_from_buffer;
	__typeof__(&MHD_create_response_from_callback) create_response_from_callback;
	__typeof__(&MHD_create_response_from_fd) create_response_from_fd;
	__typeof__(&MHD_add_response_header) add_response_header;
	__typeof__(&MHD_destroy_response) destroy_response;
};

/*
 * Loads libmicrohttpd (once per process; thread-safe) and returns its
 * table, or NULL with err filled when the library is missing or lacks a
 * function.  The server calls this before anything else of libmicrohttpd,
 * so a missing library is a clear error rather than a crash.  The table is
 * static and stays valid until the process exits.
 */
const struct mhd_api *mhd_api_get(char *err, size_t errlen);

/*
 * The loaded table, for the redirected calls below.  Only valid after a
 * successful mhd_api_get(); before that it is NULL.
 */
const struct mhd_api *mhd_api(void);

/* 1 when libmicrohttpd has been loaded into this process (for tests of laziness). */
int mhd_api_loaded(void);

#define MHD_start_daemon(...) (mhd_api()->start_daemon(__VA_ARGS__))
#define MHD_stop_daemon(...) (mhd_api()->stop_daemon(__VA_ARGS__))
#define MHD_get_daemon_info(...) (mhd_api()->get_daemon_info(__VA_ARGS__))
#define MHD_is_feature_supported(...) (mhd_api()->is_feature_supported(__VA_ARGS__))
#define MHD_lookup_connection_value(...) (mhd_api()->lookup_connection_value(__VA_ARGS__))
#define MHD_queue_response(...) (mhd_api()->queue_response(__VA_ARGS__))
#define MHD_create_response_from_buffer(...) (mhd_api()->create_response_from_buffer(__VA_ARGS__))
#define MHD_create_response_from_callback(...) (mhd_api()->create_response_from_callback(__VA_ARGS__))
#define MHD_create_response_from_fd(...) (mhd_api()->create_response_from_fd(__VA_ARGS__))
#define MHD_add_response_header(...) (mhd_api()->add_response_header(__VA_ARGS__))
#define MHD_destroy_response(...) (mhd_api()->destroy_response(__VA_ARGS__))

#endif
