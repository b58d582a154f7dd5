/* project_install: see project_install.h. */
#include "install/project_install.h"
#include "hub/project_hub.h"
#include "install/meltano_venv.h"
#include "project/project.h"
#include "settings/settings.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* pip_url with $VAR expanded in the plugin's environment (MELTANO.md section 5). */
static char *expand_pip_url(struct project *p, struct plugin *pl, const char *pip_url, const char *python,
                            char *err, size_t errlen)
{
	struct envlist env = ENVLIST_INIT;
	char serr[512];
	int empty = 0;
	if (!strchr(pip_url, '$'))
		return xstrdup(pip_url);
	envlist_from_environ(&env);
	if (settings_plugin_env(p, pl, NULL, &env, serr, sizeof serr) != 0)
		log_debug("%s: plugin environment: %s (expanding pip_url with the process environment)", pl->name,
		          serr);
	if (strstr(pip_url, "MELTANO__PYTHON_VERSION") && !envlist_get(&env, "MELTANO__PYTHON_VERSION")) {
		char *ver = install_python_version(python);
		if (ver)
			envlist_set(&env, "MELTANO__PYTHON_VERSION", ver);
		free(ver);
	}
	char *res = settings_expand(pip_url, &env, 0, &empty, err, errlen);
	envlist_release(&env);
	return res;
}

char *plugin_venv_dir(struct project *p, struct plugin *pl)
{
	char err[SMELT_ERRBUF_SIZE];
	const char *venv_name = pl->name;
	if (pl->parent) {
		const struct definition *def = project_plugin_def(p, pl, err, sizeof err);
		const struct definition *pdef = project_plugin_def(p, pl->parent, err, sizeof err);
		if (def && pdef && def->pip_url && pdef->pip_url && !strcmp(def->pip_url, pdef->pip_url))
			venv_name = pl->parent->name;
	}
	char *venv = xasprintf("%s/%s/%s/venv", p->sys_dir, plugin_type_plural(pl->type), venv_name);
	/* no venv of smelt's own: the one Meltano installed, when its fingerprint matches */
	char *py = path_join(venv, "bin/python");
	if (access(py, X_OK) != 0) {
		const struct definition *d = project_plugin_def(p, pl, err, sizeof err);
		char *theirs = d ? meltano_venv_find(p->root, plugin_type_plural(pl->type), venv_name, d->pip_url,
		                                     d->python)
		                 : NULL;
		if (theirs) {
			free(venv);
			venv = theirs;
		}
	}
	free(py);
	return venv;
}

static const char *own(struct plugin_installs *pi, char *s)
{
	pi->owned = xrealloc(pi->owned, (pi->nowned + 1) * sizeof *pi->owned);
	pi->owned[pi->nowned++] = s;
	return s;
}

int plugin_installs_prepare(struct project *p, struct plugin *const *sel, size_t nsel, struct plugin_installs *out,
                            char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	/* Lock what has no lock file (and the parents of inherited plugins). */
	struct plugin **lock_sel = xcalloc(nsel * 2 + 1, sizeof *lock_sel);
	size_t nlock = 0;
	for (size_t i = 0; i < nsel; i++) {
		lock_sel[nlock++] = sel[i];
		if (sel[i]->parent)
			lock_sel[nlock++] = sel[i]->parent;
	}
	int rc = hub_autolock(p, lock_sel, nlock, err, errlen);
	free(lock_sel);
	if (rc < 0)
		return rc;
	/* project_plugin_def() reads lock files when first asked: the new ones are seen. */
	out->items = xcalloc(nsel + 1, sizeof *out->items);
	for (size_t i = 0; i < nsel; i++) {
		struct plugin *pl = sel[i];
		char derr[SMELT_ERRBUF_SIZE * 2];
		const struct definition *def = project_plugin_def(p, pl, derr, sizeof derr);
		if (!def) {
			log_error("%s: %s", pl->name, derr);
			out->failed++;
			continue;
		}
		struct install_item probe = { .python = def->python };
		const char *pip_url = NULL;
		if (def->pip_url && *def->pip_url) {
			char *expanded = expand_pip_url(p, pl, def->pip_url, install_python(&probe), derr, sizeof derr);
			if (!expanded) {
				log_error("%s: pip_url: %s", pl->name, derr);
				out->failed++;
				continue;
			}
			pip_url = own(out, expanded);
		}
		char *venv = plugin_venv_dir(p, pl);
		if (!path_beneath(p->sys_dir, venv)) { /* Meltano's venv (meltano_venv.h): installed already */
			log_info("%s: using the virtualenv Meltano installed: %s", pl->name, venv);
			free(venv);
			continue;
		}
		int dup = 0; /* two plugins sharing a venv install once */
		for (size_t j = 0; j < out->n; j++)
			dup |= !strcmp(out->items[j].venv_dir, venv);
		if (dup) {
			free(venv);
			continue;
		}
		out->items[out->n++] = (struct install_item){
			.plugin_type = plugin_type_plural(pl->type),
			.name = pl->name,
			.pip_url = pip_url,
			.python = def->python ? own(out, xstrdup(def->python)) : NULL,
			.venv_dir = own(out, venv),
			.base_dir = p->sys_dir,
			/* an orchestrator (Airflow) starts several processes at once that import it all */
			.compile_bytecode = pl->type == PLUGIN_ORCHESTRATORS,
		};
	}
	return SMELT_OK;
}

void plugin_installs_release(struct plugin_installs *pi)
{
	for (size_t i = 0; i < pi->n; i++)
		install_item_release(&pi->items[i]);
	for (size_t i = 0; i < pi->nowned; i++)
		free(pi->owned[i]);
	free(pi->owned);
	free(pi->items);
	memset(pi, 0, sizeof *pi);
}
