/*
 * smelt lock [--all] [-u|--update] [--plugin-type T] [NAME...]
 *
 * Writes plugins/<type>/<name>--<variant>.lock for the named plugins (all
 * of them without names) from the built-in catalog or the Hub, with the
 * lock files of what they require.  An existing lock file is kept unless
 * --update, named on an info line: as Meltano's, that is no failure (a
 * project locked once must be able to run `smelt lock` again); custom and
 * inherited plugins have none and are skipped with a warning.
 */
#include "cli/commands.h"
#include "hub/hub.h"
#include "hub/lock.h"
#include "hub/project_hub.h"
#include "hub/resolve.h"
#include "project/project.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

enum lock_opt { LOCK_ALL, LOCK_UPDATE, LOCK_TYPE };

static const struct cli_option lock_options[] = {
	{ LOCK_ALL, "--all", 0, NULL, "every plugin (the default without NAME)", 0, NULL },
	{ LOCK_UPDATE, "--update", 'u', NULL, "replace existing lock files with the newest definitions", 0, NULL },
	{ LOCK_TYPE, "--plugin-type", 0, "TYPE", "only plugins of this type", 0, NULL },
	{ 0 },
};

const struct cli_spec lock_spec = {
	.name = "lock",
	.usage = "smelt lock [--all] [-u|--update] [--plugin-type TYPE] [NAME...]",
	.text = "Write the lock files of plugins (all without NAME) from the built-in catalog\n"
	        "or MeltanoHub ($SMELT_HUB_URL).  An existing lock file is kept unless --update.\n",
	.options = lock_options,
	.examples = "  smelt lock --all                       lock every plugin\n"
	            "  smelt lock --update tap-github         take the Hub's newest definition\n",
};

/* Project-relative form of path for messages. */
static const char *rel(const struct project *p, const char *path)
{
	size_t n = strlen(p->root);
	return !strncmp(path, p->root, n) && path[n] == '/' ? path + n + 1 : path;
}

/* The variant a plugin locks: as written, else the one its existing lock has, else the Hub's default. */
static char *lock_variant(const struct project *p, const struct plugin *pl, const char *existing)
{
	if (pl->variant)
		return xstrdup(pl->variant);
	if (existing) {
		cJSON *def = lock_read(existing, NULL, 0);
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(def, "variant");
		char *res = cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
		cJSON_Delete(def);
		return res;
	}
	(void)p;
	return NULL;
}

int cmd_lock(struct cli *cli, int argc, char **argv)
{
	int update = 0, type = -1, failed = 0, done = 0;
	const char *v;
	const char **names = xcalloc((size_t)argc + 1, sizeof *names);
	size_t nnames = 0;
	for (int i = 1; i < argc; i++) {
		switch (cli_opt_next(&lock_spec, NULL, argc, argv, &i, &v)) {
		case CLI_OPT_HELP:
			cli_help_print(stdout, &lock_spec);
			free(names);
			return EXIT_OK;
		case LOCK_UPDATE:
			update = 1;
			break;
		case LOCK_ALL: /* the default without names */
			break;
		case LOCK_TYPE:
			if ((type = plugin_type_parse(v)) < 0) {
				free(names);
				return cli_usage("lock", "unknown plugin type '%s'", v);
			}
			break;
		case CLI_OPT_ARG:
			names[nnames++] = argv[i];
			break;
		case CLI_OPT_ERROR:
			free(names);
			return EXIT_USAGE;
		default:
			free(names);
			return cli_opt_unknown(&lock_spec, NULL, argv[i]);
		}
	}

	struct project *p;
	int rc = project_open_cli(cli, ENV_NONE, &p);
	if (rc) {
		free(names);
		return rc;
	}
	struct plugin **sel = xcalloc(p->nplugins + nnames + 1, sizeof *sel);
	size_t nsel = 0;
	if (nnames) {
		for (size_t i = 0; i < nnames; i++) {
			struct plugin *pl = project_find_plugin(p, type, names[i]);
			if (!pl) {
				log_error("%s '%s' is not in %s%s", type >= 0 ? plugin_type_singular(type) : "plugin",
				          names[i], p->file_name, cli_plugin_hint(p, names[i]));
				failed++;
				continue;
			}
			sel[nsel++] = pl;
		}
	} else {
		for (size_t i = 0; i < p->nplugins; i++)
			if (type < 0 || (int)p->plugins[i]->type == type)
				sel[nsel++] = p->plugins[i];
	}

	struct hub hub;
	hub_init_project(&hub, p, "lock");
	for (size_t i = 0; i < nsel; i++) {
		struct plugin *pl = sel[i];
		const char *ptype = plugin_type_plural(pl->type), *desc = plugin_type_singular(pl->type);
		if (!hub_plugin_lockable(pl)) {
			log_warn("%s '%s' is %s: it has no lock file, skipped", desc, pl->name,
			         pl->inherit_from ? "inherited" : "a custom plugin");
			continue;
		}
		char *existing = lock_find(p->root, ptype, pl->name, pl->variant);
		if (existing && !update) {
			log_info("%s '%s': lock file '%s' kept; --update refreshes it", desc, pl->name, rel(p, existing));
			free(existing);
			continue;
		}
		char *variant = lock_variant(p, pl, existing);
		char *path = NULL;
		char err[1024];
		if (resolve_lock(&hub, p->root, ptype, pl->name, variant, update ? RESOLVE_UPDATE_REQUIRES : 0,
		                 NULL, &path, err, sizeof err) != 0) {
			log_error("%s '%s': %s", desc, pl->name, err);
			failed++;
		} else {
			printf("Locked definition for %s '%s' in %s\n", desc, pl->name, rel(p, path));
			done++;
		}
		free(path);
		free(variant);
		free(existing);
	}
	hub_release(&hub);
	free(sel);
	free(names);
	project_free(p);
	if (failed)
		return cli_fail("%d plugin(s) could not be locked", failed);
	if (!done && !nsel)
		log_info("no plugins to lock");
	return EXIT_OK;
}
