/*
 * state_config - the project's state_backend.* settings, resolved
 * (settings.h) into the struct state_backend_config the store opens its
 * state backend from (store/state_backend.h).
 */
#ifndef SMELT_SETTINGS_STATE_CONFIG_H
#define SMELT_SETTINGS_STATE_CONFIG_H

#include <stddef.h>

struct project;
struct state_backend;
struct state_backend_config;
struct store;

/*
 * Fill c from p's settings (state_backend.uri, .lock_timeout_seconds,
 * .lock_retry_seconds, .s3.*) and p's Meltano database (systemdb
 * read-through).  0, or SMELT_ERR_CONFIG with err set when the settings do
 * not resolve.  Release c with state_backend_config_release() either way.
 */
int settings_state_backend_config(struct project *p, struct state_backend_config *c, char *err, size_t errlen);

/* settings_state_backend_config() then state_backend_open(): the backend p's settings name. */
int settings_open_state_backend(struct project *p, struct store *store, struct state_backend **out, char *err,
                                size_t errlen);

#endif
