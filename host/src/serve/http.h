/*
 * http - one request as the API handlers see it, and the replies they
 * build (serve/server.c runs libmicrohttpd around them).
 */
#ifndef SMELT_HTTP_H
#define SMELT_HTTP_H

#include "util/strbuf.h"

#include <cjson/cJSON.h>
#include <stddef.h>

struct MHD_Connection;
struct MHD_Response;
struct serve_ctx;

#define HTTP_BODY_MAX (1u << 20) /* request bodies above 1 MiB: 413 */

struct req {
	struct serve_ctx *sv;          /* borrowed */
	struct MHD_Connection *conn;   /* borrowed */
	const char *method;            /* "GET", ... */
	const char *path;              /* percent-decoded path, no query */
	struct strbuf body;            /* the request body (at most HTTP_BODY_MAX) */
	int too_large;                 /* the body was over HTTP_BODY_MAX */
	int bad_url;                   /* the path held a NUL or a control byte once decoded */
};

/* What a handler answers: a status and a response (owned, NULL: only the status, as JSON error). */
struct reply {
	unsigned status;
	struct MHD_Response *resp;
};

/* JSON body (v is consumed). */
struct reply reply_json(unsigned status, cJSON *v);
/* JSON text as is (copied). */
struct reply reply_json_text(unsigned status, const char *text, size_t len);
/* {"error": "..."}, message formatted; control bytes escaped by the JSON encoder. */
struct reply reply_error(unsigned status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A query argument (?name=value), borrowed; NULL when absent. */
const char *req_query(const struct req *r, const char *name);

/* The API: route r to its handler (serve/api.c). */
struct reply api_handle(struct req *r);

#endif
