/*
 * smelt add: add plugins to the project.
 *   smelt add TYPE NAME...        (TYPE singular or plural)
 *   smelt add NAME... [--plugin-type TYPE]   (type inferred: tap-* extractor, target-* loader, else utility)
 * --custom writes an entry from flags (no Hub); otherwise the definition
 * comes from definitions_fetch() (Hub / built-in catalog, which writes the
 * lock file).  --inherit-from P / --as NEW add an inheriting plugin.
 */
#include "cli/commands.h"
#include "hub/builtin.h"
#include "project/definitions.h"
#include "project/project.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/names.h"
#include "util/strbuf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct add_opts {
	int type;              /* -1: infer */
	int custom;
	const char *variant, *inherit_from, *as, *namespace_, *pip_url, *executable, *capabilities, *python;
	const char *adapter, *label;
	const char **settings; /* NAME[:KIND] */
	size_t nsettings;
	int flags_given;       /* any of the custom flags */
};

enum add_opt {
	ADD_TYPE, ADD_VARIANT, ADD_INHERIT, ADD_AS, ADD_CUSTOM, ADD_NAMESPACE, ADD_PIP_URL, ADD_EXECUTABLE,
	ADD_CAPABILITIES, ADD_SETTING, ADD_PYTHON, ADD_ADAPTER, ADD_LABEL, ADD_FROM_REF, ADD_INSTALL_FLAG, ADD_INSTALL,
};

static const struct cli_option add_options[] = {
	{ ADD_TYPE, "--plugin-type", 0, "TYPE", "the type (instead of the TYPE word)", 0, NULL },
	{ ADD_VARIANT, "--variant", 0, "V", "the variant to add", 0, NULL },
	{ ADD_INHERIT, "--inherit-from", 0, "P", "inherit the definition and settings of plugin P", 0, NULL },
	{ ADD_AS, "--as", 0, "NEW", "add NAME as NEW (= add NEW --inherit-from NAME)", 0, NULL },
	{ ADD_CUSTOM, "--custom", 0, NULL, "define the plugin here, not from the Hub (the options below)", 0, NULL },
	{ ADD_NAMESPACE, "--namespace", 0, "NS", "custom: its namespace (default: the name with '-' -> '_')", 0, NULL },
	{ ADD_PIP_URL, "--pip-url", 0, "URL", "custom: what pip installs (default: the name; none when --executable is a path)", 0, NULL },
	{ ADD_EXECUTABLE, "--executable", 0, "EXE", "custom: its executable (default: the name)", 0, NULL },
	{ ADD_CAPABILITIES, "--capabilities", 0, "a,b", "custom: e.g. catalog,discover,state", 0, NULL },
	{ ADD_SETTING, "--setting", 0, "NAME[:KIND]", "custom: a setting; KIND string, integer, password, ...",
	  CLI_OPT_REPEAT, NULL },
	{ ADD_PYTHON, "--python", 0, "PY", "the Python its virtualenv is made with", 0, NULL },
	{ ADD_ADAPTER, "--adapter", 0, "NAME", "the adapter that runs it", 0, NULL },
	{ ADD_LABEL, "--label", 0, "TEXT", "custom: its label", 0, NULL },
	{ ADD_FROM_REF, "--from-ref", 0, "REF", "not implemented yet", CLI_OPT_HIDDEN, NULL },
	{ ADD_INSTALL, "--install", 0, NULL, "install the added plugins (as 'smelt install' does)", 0, NULL },
	/* Meltano's: an existing plugin is always updated; installing is `smelt install`'s job */
	{ ADD_INSTALL_FLAG, "--update", 0, NULL, "ignored: 'smelt install' installs", CLI_OPT_HIDDEN, NULL },
	{ ADD_INSTALL_FLAG, "--no-update", 0, NULL, "ignored: 'smelt install' installs", CLI_OPT_HIDDEN, NULL },
	{ ADD_INSTALL_FLAG, "--force-install", 0, NULL, "ignored: 'smelt install' installs", CLI_OPT_HIDDEN, NULL },
	{ ADD_INSTALL_FLAG, "--no-install", 0, NULL, "ignored: 'smelt install' installs", CLI_OPT_HIDDEN, NULL },
	{ 0 },
};

const struct cli_spec add_spec = {
	.name = "add",
	.usage = "smelt add [TYPE] NAME... [OPTIONS]",
	.text = "TYPE is extractor, loader, mapper, transformer, transform, orchestrator, utility or file\n"
	        "(singular or plural); without it, tap-* is an extractor, target-* a loader, else a utility.\n",
	.options = add_options,
	.examples = "  smelt add extractor tap-csv            from the Hub or the built-in catalog\n"
	            "  smelt add loader target-sqlite\n"
	            "  smelt add tap-github --variant meltanolabs\n"
	            "  smelt add extractor tap-mine --custom   a plugin the Hub does not know\n",
};

static int infer_type(const char *name)
{
	if (!strncmp(name, "tap-", 4))
		return PLUGIN_EXTRACTORS;
	if (!strncmp(name, "target-", 7))
		return PLUGIN_LOADERS;
	return PLUGIN_UTILITIES;
}

static char *prompt(const char *question, const char *def)
{
	char line[1024];
	fprintf(stderr, "%s%s%s%s: ", question, def ? " [" : "", def ? def : "", def ? "]" : "");
	if (!fgets(line, sizeof line, stdin))
		return def ? xstrdup(def) : NULL;
	line[strcspn(line, "\r\n")] = 0;
	return xstrdup(*line ? line : def ? def : "");
}

static void add_settings_list(cJSON *entry, const char *const *list, size_t n)
{
	if (!n)
		return;
	cJSON *arr = cJSON_AddArrayToObject(entry, "settings");
	for (size_t i = 0; i < n; i++) {
		const char *colon = strchr(list[i], ':');
		cJSON *s = cJSON_CreateObject();
		char *name = colon ? xstrndup(list[i], (size_t)(colon - list[i])) : xstrdup(list[i]);
		cJSON_AddStringToObject(s, "name", name);
		if (colon && colon[1])
			cJSON_AddStringToObject(s, "kind", colon + 1);
		cJSON_AddItemToArray(arr, s);
		free(name);
	}
}

static void add_caps(cJSON *entry, const char *caps)
{
	cJSON *arr = cJSON_AddArrayToObject(entry, "capabilities");
	const char *p = caps;
	while (p && *p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char *c = xstrndup(p, n);
		char *t = c;
		while (*t == ' ')
			t++;
		size_t tl = strlen(t);
		while (tl && t[tl - 1] == ' ')
			t[--tl] = 0;
		if (*t)
			cJSON_AddItemToArray(arr, cJSON_CreateString(t));
		free(c);
		p = e ? e + 1 : NULL;
	}
}

static cJSON *custom_entry(const char *name, const struct add_opts *o)
{
	cJSON *e = cJSON_CreateObject();
	char *ns = NULL, *pip = NULL, *exe = NULL, *caps = NULL;
	cJSON_AddStringToObject(e, "name", name);
	if (o->variant)
		cJSON_AddStringToObject(e, "variant", o->variant);
	char *def_ns = xstrdup(name);
	for (char *c = def_ns; *c; c++)
		if (*c == '-')
			*c = '_';
	if (!o->flags_given && isatty(STDIN_FILENO)) {
		ns = prompt("namespace", def_ns);
		pip = prompt("pip_url", name);
		exe = prompt("executable", name);
		caps = prompt("capabilities (comma-separated)", "");
	}
	cJSON_AddStringToObject(e, "namespace", ns ? ns : o->namespace_ ? o->namespace_ : def_ns);
	/* a program given by its path is the user's own: nothing to pip-install unless they say what */
	int local_exe = !pip && !o->pip_url && o->executable && strchr(o->executable, '/');
	if (!local_exe)
		cJSON_AddStringToObject(e, "pip_url", pip ? pip : o->pip_url ? o->pip_url : name);
	cJSON_AddStringToObject(e, "executable", exe ? exe : o->executable ? o->executable : name);
	if (o->python)
		cJSON_AddStringToObject(e, "python", o->python);
	if (o->adapter)
		cJSON_AddStringToObject(e, "adapter", o->adapter);
	if (o->label)
		cJSON_AddStringToObject(e, "label", o->label);
	if ((caps && *caps) || o->capabilities)
		add_caps(e, caps && *caps ? caps : o->capabilities);
	add_settings_list(e, o->settings, o->nsettings);
	free(def_ns);
	free(ns);
	free(pip);
	free(exe);
	free(caps);
	return e;
}

/* The names of the command line become paths (.smelt/<type>/<name>, lock files): check them first. */
static int check_names(const char *const *names, size_t n, const struct add_opts *o)
{
	char err[SMELT_ERRBUF_SIZE];
	for (size_t i = 0; i < n; i++)
		if (name_check("plugin", names[i], err, sizeof err))
			return cli_fail("%s (argument %zu of 'smelt add')", err, i + 1);
	const struct { const char *opt, *what, *value; } opts[] = {
		{ "--as", "plugin", o->as },
		{ "--inherit-from", "plugin", o->inherit_from },
		{ "--variant", "variant", o->variant },
	};
	for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++)
		if (opts[k].value && name_check(opts[k].what, opts[k].value, err, sizeof err))
			return cli_fail("%s (given with %s)", err, opts[k].opt);
	return EXIT_OK;
}

/*
 * `add` of a plugin the project already has, as Meltano 4.4's: a Hub plugin
 * of the same variant is updated (its lock rewritten; the project file and
 * its config are kept); another variant, an inherited or a custom plugin is
 * left as it is with a message.  Both exit 0.
 */
static int add_existing(struct project *p, int type, const struct plugin *old, const struct add_opts *o)
{
	const char *variant = o->variant ? o->variant : old->variant;
	if (!o->as && !o->inherit_from && !o->custom && !old->inherit_from && old->variant &&
	    !strcmp(variant, old->variant)) {
		char err[1024], *lock = NULL;
		struct definition def;
		definition_init(&def);
		int rc = definitions_fetch(p, plugin_type_plural(type), old->name, variant, &def, &lock, err, sizeof err);
		definition_release(&def);
		free(lock);
		if (rc < 0)
			return cli_fail("%s", err);
		printf("Updated %s '%s' in your project\n", plugin_type_singular(type), old->name);
		return EXIT_OK;
	}
	fprintf(stderr, "%c%s '%s' already exists in your project\n", toupper((unsigned char)*plugin_type_singular(type)),
	        plugin_type_singular(type) + 1, old->name);
	if (o->variant && old->variant && strcmp(o->variant, old->variant))
		printf("To switch from the current '%s' variant to '%s', change `variant` (and `pip_url`) of '%s'\n"
		       "in %s and run 'smelt install %s %s'; to keep both, add the other variant under its own name:\n"
		       "\tsmelt add %s %s--%s --inherit-from %s --variant %s\n",
		       old->variant, o->variant, old->name, p->file_name, plugin_type_singular(type), old->name,
		       plugin_type_singular(type), old->name, o->variant, old->name, o->variant);
	else
		printf("To add it another time, configured differently, inherit from it under its own name:\n"
		       "\tsmelt add %s %s--new --inherit-from %s\n",
		       plugin_type_singular(type), old->name, old->name);
	return EXIT_OK;
}

static int add_one(struct project *p, int type, const char *name, const struct add_opts *o)
{
	char err[1024];
	const char *new_name = o->as ? o->as : name;
	const char *inherit = o->as ? name : o->inherit_from;
	cJSON *entry = NULL, *requires = NULL;
	char *lock = NULL;

	const struct plugin *old = project_find_plugin(p, type, new_name);
	if (old)
		return add_existing(p, type, old, o);
	if (inherit) {
		entry = cJSON_CreateObject();
		cJSON_AddStringToObject(entry, "name", new_name);
		cJSON_AddStringToObject(entry, "inherit_from", inherit);
		if (o->variant)
			cJSON_AddStringToObject(entry, "variant", o->variant);
		if (!project_find_plugin(p, type, inherit) && !o->custom) {
			/* the parent is a Hub plugin: lock its definition */
			struct definition def;
			definition_init(&def);
			int rc = definitions_fetch(p, plugin_type_plural(type), inherit, o->variant, &def, &lock, err,
			                           sizeof err);
			if (rc == 0 && def.variant && !o->variant)
				cJSON_AddStringToObject(entry, "variant", def.variant);
			definition_release(&def);
			if (rc < 0) {
				cJSON_Delete(entry);
				return cli_fail("%s", err);
			}
		}
		if (o->custom || o->flags_given) {
			if (o->namespace_)
				cJSON_AddStringToObject(entry, "namespace", o->namespace_);
			if (o->pip_url)
				cJSON_AddStringToObject(entry, "pip_url", o->pip_url);
			if (o->executable)
				cJSON_AddStringToObject(entry, "executable", o->executable);
			if (o->capabilities)
				add_caps(entry, o->capabilities);
			add_settings_list(entry, o->settings, o->nsettings);
		}
	} else if (o->custom) {
		entry = custom_entry(new_name, o);
	} else {
		struct definition def;
		definition_init(&def);
		int rc = definitions_fetch(p, plugin_type_plural(type), name, o->variant, &def, &lock, err, sizeof err);
		if (rc < 0) {
			definition_release(&def);
			const struct adapter_definition *b =
				o->variant ? NULL : builtin_find(p->root, plugin_type_plural(type), name, NULL);
			if (b && strstr(err, "cannot reach the Hub")) /* offline: the variant smelt ships can still be added */
				return cli_fail("%s; '%s' variant '%s' ships with smelt: smelt add %s %s --variant %s", err, name,
				                b->variant, plugin_type_singular(type), name, b->variant);
			return cli_fail("%s", err);
		}
		entry = cJSON_CreateObject();
		cJSON_AddStringToObject(entry, "name", name);
		if (def.variant)
			cJSON_AddStringToObject(entry, "variant", def.variant);
		if (def.pip_url)
			cJSON_AddStringToObject(entry, "pip_url", def.pip_url);
		if (o->python)
			cJSON_AddStringToObject(entry, "python", o->python);
		if (o->adapter)
			cJSON_AddStringToObject(entry, "adapter", o->adapter);
		requires = def.requires ? cJSON_Duplicate(def.requires, 1) : NULL;
		definition_release(&def);
	}
	int rc = project_add_plugin(p, (enum plugin_type)type, entry, err, sizeof err);
	cJSON_Delete(entry);
	/* What the definition requires (files-airflow, ...) joins the project too; its lock is already written. */
	const cJSON *group, *req;
	cJSON_ArrayForEach(group, requires)
	{
		int rtype = plugin_type_parse(group->string);
		cJSON_ArrayForEach(req, group)
		{
			const char *rname = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "name"));
			const char *rvariant = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "variant"));
			if (rc < 0 || rtype < 0 || !rname || project_find_plugin(p, rtype, rname))
				continue;
			if (name_check("plugin", rname, err, sizeof err) ||
			    (rvariant && name_check("variant", rvariant, err, sizeof err))) {
				log_warn("'%s' requires a plugin that cannot be added: %s", new_name, err);
				continue;
			}
			cJSON *dep = cJSON_CreateObject();
			cJSON_AddStringToObject(dep, "name", rname);
			if (rvariant)
				cJSON_AddStringToObject(dep, "variant", rvariant);
			rc = project_add_plugin(p, (enum plugin_type)rtype, dep, err, sizeof err);
			cJSON_Delete(dep);
			if (rc == 0)
				printf("Added %s '%s' (required by '%s')\n", plugin_type_singular(rtype), rname, new_name);
		}
	}
	cJSON_Delete(requires);
	if (rc == 0)
		rc = project_save(p, err, sizeof err);
	if (rc < 0) {
		free(lock);
		return cli_fail("%s", err);
	}
	printf("Added %s '%s' to your project%s%s\n", plugin_type_singular(type), new_name,
	       inherit ? " inheriting from " : "", inherit ? inherit : "");
	if (lock) {
		const char *rel = !strncmp(lock, p->root, strlen(p->root)) ? lock + strlen(p->root) + 1 : lock;
		printf("Locked the definition in %s\n", rel);
	}
	free(lock);
	return EXIT_OK;
}

int cmd_add(struct cli *cli, int argc, char **argv)
{
	struct add_opts o = { 0 };
	const char **names = calloc((size_t)argc + 1, sizeof *names);
	const char **settings = calloc((size_t)argc + 1, sizeof *settings);
	size_t nnames = 0;
	int rc = EXIT_OK, install = 0;
	const char *v;
	o.type = -1;
	o.settings = settings;
	if (!names || !settings) {
		free(names);
		free(settings);
		return cli_fail("out of memory");
	}
	for (int i = 1; i < argc; i++) {
		int id = cli_opt_next(&add_spec, NULL, argc, argv, &i, &v);
		switch (id) {
		case CLI_OPT_HELP:
			cli_help_print(stdout, &add_spec);
			goto done;
		case CLI_OPT_ARG:
			names[nnames++] = argv[i];
			break;
		case CLI_OPT_ERROR:
			rc = EXIT_USAGE;
			goto done;
		case CLI_OPT_UNKNOWN:
			rc = cli_opt_unknown(&add_spec, NULL, argv[i]);
			goto done;
		case ADD_TYPE:
			if ((o.type = plugin_type_parse(v)) < 0) {
				rc = cli_suggest_type(v)
				         ? cli_usage("add", "unknown plugin type '%s'; did you mean '%s'?", v, cli_suggest_type(v))
				         : cli_usage("add", "unknown plugin type '%s'", v);
				goto done;
			}
			break;
		case ADD_CUSTOM:
			o.custom = 1;
			break;
		case ADD_SETTING:
			settings[o.nsettings++] = v;
			o.flags_given = 1;
			break;
		case ADD_FROM_REF:
			rc = cli_not_implemented("smelt add --from-ref");
			goto done;
		case ADD_INSTALL_FLAG:
			break;
		case ADD_INSTALL:
			install = 1;
			break;
		default: { /* an option with one value */
			const char **dst[] = { [ADD_VARIANT] = &o.variant, [ADD_INHERIT] = &o.inherit_from, [ADD_AS] = &o.as,
			                       [ADD_NAMESPACE] = &o.namespace_, [ADD_PIP_URL] = &o.pip_url,
			                       [ADD_EXECUTABLE] = &o.executable, [ADD_CAPABILITIES] = &o.capabilities,
			                       [ADD_PYTHON] = &o.python, [ADD_ADAPTER] = &o.adapter, [ADD_LABEL] = &o.label };
			*dst[id] = v;
			/* the custom flags: a plugin defined by them asks nothing */
			o.flags_given |= id == ADD_NAMESPACE || id == ADD_PIP_URL || id == ADD_EXECUTABLE || id == ADD_CAPABILITIES;
		}
		}
	}
	if (nnames >= 2 && cli_suggest_type(names[0])) { /* "add extracter tap-x": a typo, not a utility */
		rc = cli_usage("add", "unknown plugin type '%s'; did you mean '%s'?", names[0], cli_suggest_type(names[0]));
		goto done;
	}
	if (nnames >= 2 && plugin_type_parse(names[0]) >= 0) {
		if (o.type >= 0 && o.type != plugin_type_parse(names[0])) {
			rc = cli_usage("add", "'%s' and --plugin-type disagree", names[0]);
			goto done;
		}
		o.type = plugin_type_parse(names[0]);
		memmove(names, names + 1, nnames * sizeof *names);
		nnames--;
	}
	if (!nnames) {
		rc = cli_usage("add", "add needs a plugin name");
		goto done;
	}
	if (o.as && nnames != 1) {
		rc = cli_usage("add", "--as takes exactly one plugin");
		goto done;
	}
	if ((rc = check_names(names, nnames, &o)) != EXIT_OK)
		goto done;
	struct project *p;
	if ((rc = project_open_cli(cli, ENV_NONE, &p)) != 0)
		goto done;
	for (size_t i = 0; i < nnames && rc == EXIT_OK; i++)
		rc = add_one(p, o.type >= 0 ? o.type : infer_type(names[i]), names[i], &o);
	project_free(p);
	for (size_t i = 0; i < nnames && rc == EXIT_OK && install; i++) {
		/* the plugins as now saved, through `smelt install TYPE NAME` */
		int type = o.type >= 0 ? o.type : infer_type(names[i]);
		char *args[] = { "install", "--plugin-type", (char *)plugin_type_singular(type),
			         (char *)(o.as ? o.as : names[i]), NULL };
		rc = cmd_install(cli, 4, args);
	}
done:
	free(names);
	free(settings);
	return rc;
}
