/*
 * project_install - installing a project's plugins: the lock files they
 * lack (auto-lock), each plugin's expanded pip_url and venv folder, then
 * install/install.h does the work.  Shared by `smelt install` and by
 * `smelt invoke` / `smelt run`, which install a missing plugin first.
 */
#ifndef SMELT_PROJECT_INSTALL_H
#define SMELT_PROJECT_INSTALL_H

#include "install/install.h"

#include <stddef.h>

struct project;
struct plugin;

/* The install items of a selection of plugins (owned strings behind them). */
struct plugin_installs {
	struct install_item *items; /* one per venv (plugins sharing a venv install once) */
	size_t n;
	char **owned;               /* strings the items point at */
	size_t nowned;
	int failed;                 /* plugins that could not be prepared (logged) */
};

/*
 * The venv folder of a plugin: <sys dir>/<type>/<name>/venv, or the
 * parent's when an inherited plugin has its parent's pip_url (Meltano's
 * venv_name).  Caller frees.
 */
char *plugin_venv_dir(struct project *p, struct plugin *pl);

/*
 * Lock the plugins that lack a lock file (and their parents), then build
 * the install items of sel[0..n).  Returns 0, or a negative status with
 * err set when locking failed; plugins whose definition is broken are
 * logged and counted in out->failed.
 */
int plugin_installs_prepare(struct project *p, struct plugin *const *sel, size_t n, struct plugin_installs *out,
                            char *err, size_t errlen);
void plugin_installs_release(struct plugin_installs *pi);

#endif
