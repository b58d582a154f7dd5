/*
 * state_backend - where incremental state lives, chosen by the project
 * setting `state_backend.uri` as Meltano chooses it
 * (`meltano/meltano: src/meltano/core/state_store/`):
 *
 *   systemdb         Smelt's system database (store.h), reading through
 *                    to Meltano's `.meltano/meltano.db` (meltano_db.h):
 *                    when Meltano's record of a state id is newer than
 *                    Smelt's (or Smelt has none), Meltano's is used and a
 *                    log line says so.  Meltano's database is never written.
 *   file:///dir      <dir>/<state_id>/state.json = {"completed": {...},
 *                    "partial": {...}}, written under <dir>/<state_id>/lock
 *                    (a UNIX timestamp; older than
 *                    state_backend.lock_timeout_seconds = stale), exactly
 *                    Meltano's layout, so both tools can share one folder.
 *   s3://bucket/pfx  the same layout as objects <pfx>/<state_id>/state.json,
 *                    signed with AWS Signature V4 (state_backend_s3.c);
 *                    settings state_backend.s3.aws_access_key_id,
 *                    .aws_secret_access_key, .endpoint_url (else AWS_*
 *                    variables of the environment).
 *   gs://, azure://  refused with an error naming the scheme.
 *
 * Values passed in and out are the Singer state (the "singer_state"
 * value), compact JSON text.  Not thread-safe.
 */
#ifndef SMELT_STATE_BACKEND_H
#define SMELT_STATE_BACKEND_H

#include <stddef.h>

struct strbuf;
struct store;
struct state_backend;

/*
 * What a backend is opened from: the project's settings state_backend.*
 * (settings/state_config.h reads them), every string owned (NULL: unset).
 */
struct state_backend_config {
	char *uri;             /* state_backend.uri; NULL: systemdb */
	double lock_timeout_s; /* state_backend.lock_timeout_seconds; <= 0: 10 */
	double lock_retry_s;   /* state_backend.lock_retry_seconds; <= 0: 1 */
	char *s3_endpoint;     /* state_backend.s3.endpoint_url */
	char *s3_key;          /* state_backend.s3.aws_access_key_id (else $AWS_ACCESS_KEY_ID) */
	char *s3_secret;       /* state_backend.s3.aws_secret_access_key (else $AWS_SECRET_ACCESS_KEY) */
	char *meltano_db;      /* systemdb: Meltano's .meltano/meltano.db to read through; NULL: none */
};
/* Free the strings of c and zero it. */
void state_backend_config_release(struct state_backend_config *c);

/*
 * Open the backend c names.  store is Smelt's system database (borrowed;
 * may be NULL when the backend is not systemdb, and then the systemdb
 * backend fails).  Returns SMELT_OK, or SMELT_ERR_CONFIG with err naming
 * the unsupported scheme or the missing setting (secrets are never part of
 * a message).
 */
int state_backend_open(const struct state_backend_config *c, struct store *store, struct state_backend **out,
                       char *err, size_t errlen);
void state_backend_close(struct state_backend *b); /* accepts NULL */

/* "systemdb", "file:///dir", "s3://bucket/prefix" (for messages; borrowed). */
const char *state_backend_label(const struct state_backend *b);

/* The state of state_id, partial merged over complete; *json NULL when none (free()). */
int state_backend_get(struct state_backend *b, const char *state_id, char **json, char *err, size_t errlen);
/* Save: partial deep-merges into the partial payload; else it replaces both (partial becomes {}). */
int state_backend_put(struct state_backend *b, const char *state_id, const char *json, int partial, char *err,
                      size_t errlen);

/*
 * Forget the state of state_id.  systemdb: Smelt's row is removed; when
 * Meltano's database still holds state for the id, an empty state ({}) is
 * recorded instead, so the read-through does not bring Meltano's back
 * (Meltano's database is never written).  file/s3: <state_id>/state.json
 * is removed under the lock, as Meltano's `state clear` does (and, for
 * file, the emptied <state_id> folder).  found (NULL: not wanted) is set
 * to 1 when there was a state to clear (Smelt's or Meltano's row, the
 * state.json), else 0: asking costs a read first.
 */
int state_backend_clear(struct state_backend *b, const char *state_id, int *found, char *err, size_t errlen);

/*
 * Call fn for each state id matching glob (NULL: all), sorted.
 * systemdb: Smelt's ids and Meltano's (the newer updated_at when both
 * have one); file: the folders holding a state.json (updated_at: its
 * mtime); s3: the <prefix>/<id>/state.json objects (ListObjectsV2;
 * updated_at: LastModified).
 */
int state_backend_list(struct state_backend *b, const char *glob,
                       void (*fn)(void *arg, const char *state_id, const char *updated_at), void *arg, char *err,
                       size_t errlen);

/*
 * state copy / move, as Meltano's: dst's state becomes src's (partial
 * merged over complete) as a complete state, then, for move, src is
 * cleared (state_backend_clear()).  SMELT_ERR_NOTFOUND with err = "no
 * state with id 'src'" when src has none (nothing is written).
 */
int state_backend_copy(struct state_backend *b, const char *src, const char *dst, int move, char *err, size_t errlen);

/* state clear --all: every id state_backend_list() finds, cleared; their number in *count. */
int state_backend_clear_all(struct state_backend *b, int *count, char *err, size_t errlen);

/* ---- object stores (the file and S3 backends) ---------------------------------------- */

/* What a state backend stores files in; paths are "<state_id>/state.json", "<state_id>/lock". */
struct blob_ops {
	/* 1 found (data appended to out), 0 missing, negative on failure. */
	int (*read)(void *ctx, const char *rel, struct strbuf *out, char *err, size_t errlen);
	int (*write)(void *ctx, const char *rel, const char *data, size_t len, char *err, size_t errlen);
	/* A missing object is success. */
	int (*remove)(void *ctx, const char *rel, char *err, size_t errlen);
	void (*close)(void *ctx);
	/* Every object beneath the store: fn(rel, its last change as ISO 8601 or NULL); NULL: not listable. */
	int (*list)(void *ctx, void (*fn)(void *arg, const char *rel, const char *updated_at), void *arg, char *err,
	            size_t errlen);
};

/*
 * The S3 blob store for uri "s3://bucket/prefix" (state_backend_s3.c).
 * key_id and secret may be NULL (anonymous); endpoint NULL means
 * https://s3.amazonaws.com; region NULL means us-east-1.  The strings are
 * copied.  Returns SMELT_OK with *ops and *ctx filled.
 */
int state_s3_open(const char *uri, const char *endpoint, const char *region, const char *key_id,
                  const char *secret, const struct blob_ops **ops, void **ctx, char *err, size_t errlen);

/*
 * One page of a ListObjectsV2 reply (XML text body): fn(rel, LastModified
 * or NULL) for each <Contents> whose <Key> starts with prefix (rel: the
 * key after it; XML entities decoded).  Returns 1 when the page says more
 * follow (<IsTruncated>true</IsTruncated>) with a non-empty
 * <NextContinuationToken>, stored in token; else 0.
 */
int state_s3_parse_list(const char *body, const char *prefix,
                        void (*fn)(void *arg, const char *rel, const char *updated_at), void *arg, struct strbuf *token);

#endif
