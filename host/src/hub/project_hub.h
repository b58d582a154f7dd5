/*
 * project_hub - the hub module's glue to a loaded project: the Hub client
 * configured from the project, and auto-lock.
 *
 * Auto-lock (Meltano v4): a plugin that should have a lock file (not
 * custom, not inherit_from) but has none is fetched once (built-in
 * catalog or Hub) and locked.  With every lock file present nothing here
 * touches the network.  Call it before project_plugin_def() (which reads
 * lock files) in any command that needs plugin definitions: install,
 * invoke, run, config, test, ...
 *
 * Threading: like struct project (not thread-safe).
 */
#ifndef SMELT_HUB_PROJECT_HUB_H
#define SMELT_HUB_PROJECT_HUB_H

#include <stddef.h>

struct hub;
struct project;
struct plugin;

/*
 * Set up hub for project p (may be NULL): the API root is the first of
 * $SMELT_HUB_URL, $MELTANO_HUB_API_ROOT (process, then the project's .env),
 * the project's hub_api_root, hub_url (+ /meltano/api/v1), the default.
 * command ("add", "lock", ...) is sent as X-Smelt-Command; may be NULL.
 * Release with hub_release().
 */
void hub_init_project(struct hub *hub, const struct project *p, const char *command);

/* 1 when pl gets a lock file: not custom and not inherit_from. */
int hub_plugin_lockable(const struct plugin *pl);

/*
 * Auto-lock the plugins of p whose lock file is missing: all of them
 * (pls NULL) or pls[0..n).  Logs "<name>: locked ... from ..." for each
 * lock written.  Returns the number of lock files written, or a negative
 * status with err filled (the first failure; plugins before it stay
 * locked): HUB_UNKNOWN_VARIANT when the Hub does not know the variant
 * (e.g. spelled with another case), -1 otherwise.  Writes no lock file for
 * a plugin it cannot fetch.
 */
int hub_autolock(struct project *p, struct plugin *const *pls, size_t n, char *err, size_t errlen);

#endif
