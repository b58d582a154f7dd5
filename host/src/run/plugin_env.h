/*
 * run/plugin_env - what the host adds to a plugin's environment beyond its
 * settings (settings_plugin_env()), as Meltano's plugin invoker does:
 *
 *  - Singer plugins (extractors, loaders, mappers) get SINGER_SDK_LOG_CONFIG
 *    and LOGGING_CONF_FILE naming logging configurations written into the
 *    plugin's run folder (<sys dir>/run/<name>/<tap|target|mapper>.
 *    singer_sdk_logging.json and .pipelinewise_logging.conf, Meltano's
 *    files: messages only, at smelt's log level; kept between runs, as
 *    they hold no secret, and rewritten only when their text changes, so
 *    runs of one plugin at once share them), unless the user's
 *    environment names its own.  A plugin with the `structured-logging` capability and the
 *    `_log_parser` "singer-sdk" (the default) gets the Singer SDK's
 *    StructuredFormatter instead, and its JSON stderr lines are read by
 *    run/sdk_log.h (sdk_log_use() is called for every Singer plugin);
 *    every plugin gets PYTHONWARNINGS=once unless set.
 *
 *  - Inside an EL block (smelt run), each plugin also sees what the plugins
 *    BEFORE it in the block are configured with (their information
 *    variables and every setting under its written names: MELTANO_EXTRACT_*,
 *    TAP_X_*, ...), so a loader's `$MELTANO_EXTRACT__LOAD_SCHEMA` resolves;
 *    a plugin never sees those of the plugins after it.
 *
 * The EL context is process-wide (one block runs at a time): the variables
 * named MELTANO_EXTRACT*, MELTANO_LOAD*, MELTANO_MAP* (and SMELT_ twins) are
 * put in smelt's own environment while the block runs, so that settings'
 * $VAR expansion sees them, and taken out by plugin_env_el_leave().
 */
#ifndef SMELT_RUN_PLUGIN_ENV_H
#define SMELT_RUN_PLUGIN_ENV_H

#include <stddef.h>

struct runtime;
struct plugin;
struct envlist;

/*
 * The start of the environment of plugin pl: the process environment
 * without the variables the EL context put there, plus the hand-off of
 * the plugins before pl in the current EL block (none outside one).
 * Appends to env (normally empty).
 */
void plugin_env_base(struct plugin *pl, struct envlist *env);

/* The logging configurations and PYTHONWARNINGS (see above), added to env of pl. */
void plugin_env_finish(struct runtime *rt, struct plugin *pl, struct envlist *env);

/* Begin the EL context of a block of n plugins (borrowed until plugin_env_el_leave()). */
void plugin_env_el_enter(struct runtime *rt, struct plugin *const *plugins, size_t n);
/* End it: smelt's environment is as before plugin_env_el_enter(). */
void plugin_env_el_leave(void);

#endif
