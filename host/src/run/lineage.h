/*
 * lineage - OpenLineage run events for smelt run.
 *
 * A run is one OpenLineage job run (the "parent"): START when it begins,
 * COMPLETE or FAIL when it ends.  Each block of the run is a run of its
 * own, with a parent run facet naming the whole run, and START then
 * COMPLETE or FAIL; its COMPLETE/FAIL carries the datasets its adapter
 * reported with SMELT_EV_DATASET events (sdk.h): inputs and outputs with
 * schema facets, data-quality assertions, row counts.  The module names no
 * tool: what a dataset is comes from the adapters.
 *
 * Configuration, as OpenLineage's own clients read it (the process
 * environment first, then the project's .env):
 *   OPENLINEAGE_DISABLED=true   no events at all (so does the project
 *                               setting lineage.enabled: false)
 *   OPENLINEAGE_URL             HTTP transport: each event is POSTed to
 *                               URL/OPENLINEAGE_ENDPOINT (default
 *                               api/v1/lineage), with OPENLINEAGE_API_KEY
 *                               as a bearer token when set
 *   otherwise                   file transport: one JSON event per line in
 *                               <system dir>/lineage/<run id>.jsonl
 *   OPENLINEAGE_NAMESPACE       the jobs' namespace (default: the name of
 *                               the project folder)
 *
 * Lineage never fails a run: a transport that fails (server down, an
 * HTTP error, an unwritable file) is a warning, and the run goes on with
 * its exit code unchanged.  The API key is registered as a secret, so no
 * log line can show it.  Not thread-safe; one per smelt run.
 */
#ifndef SMELT_LINEAGE_H
#define SMELT_LINEAGE_H

#include <stddef.h>

struct lineage;
struct runtime;

/*
 * Lineage for the run rt->run_id (set before the call) of project
 * rt->project; job is the run's job name (the words given to smelt run),
 * copied.  NULL when lineage is disabled.  Free with lineage_free().
 */
struct lineage *lineage_open(struct runtime *rt, const char *job);

/* The run's START event.  Does nothing when l is NULL (as do all below). */
void lineage_run_start(struct lineage *l);

/*
 * Block index (0-based) starts: its START event.  name is the block's own
 * job name (the text of the block), copied.
 */
void lineage_block_start(struct lineage *l, size_t index, const char *name);

/*
 * Block index ended with status rc (0: success) and error (the block's
 * error message when rc != 0, may be NULL): its COMPLETE or FAIL event,
 * with the datasets of the SMELT_EV_DATASET events the block reported
 * (read from rt->events) and the row counts of its SMELT_EV_COUNT events.
 */
void lineage_block_end(struct lineage *l, const struct runtime *rt, size_t index, int rc, const char *error);

/* The run ended with rc (0: success) and error (may be NULL): its COMPLETE or FAIL event. */
void lineage_run_end(struct lineage *l, int rc, const char *error);

/* Free l (accepts NULL). */
void lineage_free(struct lineage *l);

/* ---- transports (lineage_http.c) ---- */

/*
 * POST body (JSON) to url with Content-Type application/json and, when
 * api_key is set, "Authorization: Bearer <api_key>".  0 when the server
 * answered 2xx; else a negative status with err filled (never with the
 * key in it).  libcurl is loaded on first use (hub/curl_lazy.h).
 */
int lineage_http_post(const char *url, const char *api_key, const char *body, long timeout_s, char *err,
                      size_t errlen);

#endif
