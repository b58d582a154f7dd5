/*
 * smelt hub ping
 * smelt hub search TERM [--type TYPE] [--format text|json]
 *
 * `ping` asks the Hub for the orchestrators index (as Meltano does) and
 * says whether and how fast it answered.  `search` lists the plugins whose
 * name contains TERM (case-insensitive) from the Hub's index and the
 * built-in catalog.  Both use the project's Hub settings when run inside
 * a project, else $SMELT_HUB_URL / the default.
 */
#include "cli/commands.h"
#include "hub/builtin.h"
#include "hub/hub.h"
#include "hub/project_hub.h"
#include "project/project.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum hub_opt { HUB_TYPE, HUB_FORMAT };

static const struct cli_option hub_options[] = {
	{ HUB_TYPE, "--type", 0, "TYPE", "search: only plugins of this type", 0, NULL },
	{ HUB_TYPE, "--plugin-type", 0, "TYPE", "the same as --type", 0, NULL },
	{ HUB_FORMAT, "--format", 0, "text|json", "search: output format (default text)", 0, NULL },
	{ 0 },
};

const struct cli_spec hub_spec = {
	.name = "hub",
	.usage = "smelt hub ping\n"
	         "smelt hub search TERM [--type TYPE] [--format text|json]",
	.text = "ping: check that MeltanoHub ($SMELT_HUB_URL) answers.\n"
	        "search: plugins whose name contains TERM, from the Hub and the built-in catalog.\n",
	.options = hub_options,
	.examples = "  smelt hub search github --type extractors\n"
	            "  smelt hub ping\n",
};

/* The project when run inside one (for its Hub settings), else NULL; never an error. */
static struct project *maybe_project(struct cli *cli)
{
	char *root = NULL, *file = NULL;
	struct project *p = NULL;
	char err[512];
	if (project_find_root(&root, &file, err, sizeof err) == 0 &&
	    project_load(root, file, cli->env_file, &p, err, sizeof err) != 0) {
		log_warn("%s (using the Hub settings of the environment)", err);
		p = NULL;
	}
	free(root);
	free(file);
	return p;
}

static int ci_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return 1;
	return n == 0;
}

static int hub_ping(struct hub *hub)
{
	cJSON *index = NULL;
	char err[1024];
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (hub_type_index(hub, "orchestrators", &index, err, sizeof err) != 0)
		return cli_fail("%s", err);
	clock_gettime(CLOCK_MONOTONIC, &b);
	cJSON_Delete(index);
	long ms = (long)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000);
	printf("The Hub at '%s' answered in %ld ms\n", hub->api_root, ms);
	return EXIT_OK;
}

static void add_match(cJSON *out, const char *type, const char *name, const cJSON *entry, const char *source)
{
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "plugin_type", type);
	cJSON_AddStringToObject(m, "name", name);
	const cJSON *dv = cJSON_GetObjectItemCaseSensitive(entry, "default_variant");
	cJSON_AddStringToObject(m, "default_variant", cJSON_IsString(dv) ? dv->valuestring : BUILTIN_VARIANT);
	cJSON *vars = cJSON_AddArrayToObject(m, "variants");
	const cJSON *v;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(entry, "variants"))
		if (v->string)
			cJSON_AddItemToArray(vars, cJSON_CreateString(v->string));
	if (!entry)
		cJSON_AddItemToArray(vars, cJSON_CreateString(BUILTIN_VARIANT));
	cJSON_AddStringToObject(m, "source", source);
	cJSON_AddItemToArray(out, m);
}

static int hub_search(struct hub *hub, const char *root, const char *term, int type, int format)
{
	cJSON *index = NULL, *matches = cJSON_CreateArray();
	char err[1024];
	int rc;
	if (type >= 0) {
		cJSON *one = NULL;
		rc = hub_type_index(hub, plugin_type_plural(type), &one, err, sizeof err);
		if (rc == 0) {
			index = cJSON_CreateObject();
			cJSON_AddItemToObject(index, plugin_type_plural(type), one);
		}
	} else {
		rc = hub_plugins_index(hub, &index, err, sizeof err);
	}
	int hub_failed = rc != 0; /* offline: the built-in catalog is still searched, and the exit says it was not all */
	if (hub_failed)
		log_warn("%s; showing the built-in catalog only", err);
	for (const char *const *t = hub_plugin_types; *t; t++) {
		const cJSON *plugins = cJSON_GetObjectItemCaseSensitive(index, *t), *e;
		cJSON_ArrayForEach(e, plugins)
			if (e->string && ci_contains(e->string, term))
				add_match(matches, *t, e->string, e, "hub");
		size_t nb;
		const struct adapter_definition *b = builtin_entries(root, &nb);
		for (size_t k = 0; k < nb; k++)
			if (!strcmp(b[k].plugin_type, *t) && (type < 0 || !strcmp(plugin_type_plural(type), *t)) &&
			    ci_contains(b[k].name, term))
				add_match(matches, *t, b[k].name, NULL, "builtin");
	}
	cJSON_Delete(index);
	if (format == FORMAT_JSON) {
		struct strbuf sb = STRBUF_INIT;
		cJSON *doc = cJSON_CreateObject();
		cJSON_AddItemToObject(doc, "plugins", matches);
		json_dump(&sb, doc, -2);
		printf("%s\n", sb.buf);
		strbuf_release(&sb);
		cJSON_Delete(doc);
		return hub_failed ? EXIT_FAIL : EXIT_OK;
	}
	const cJSON *m;
	cJSON_ArrayForEach(m, matches) {
		const char *name = cJSON_GetObjectItem(m, "name")->valuestring;
		const char *ptype = cJSON_GetObjectItem(m, "plugin_type")->valuestring;
		const char *dv = cJSON_GetObjectItem(m, "default_variant")->valuestring;
		struct strbuf others = STRBUF_INIT;
		const cJSON *v;
		cJSON_ArrayForEach(v, cJSON_GetObjectItem(m, "variants"))
			if (strcmp(v->valuestring, dv))
				strbuf_addf(&others, "%s%s", others.len ? ", " : "", v->valuestring);
		int t = plugin_type_parse(ptype);
		printf("%-12s %-36s %s%s%s%s\n", t >= 0 ? plugin_type_singular(t) : ptype, name, dv,
		       strcmp(cJSON_GetObjectItem(m, "source")->valuestring, "builtin") ? "" : " (built-in)",
		       others.len ? "; other variants: " : "", others.buf);
		strbuf_release(&others);
	}
	if (!cJSON_GetArraySize(matches))
		log_info("no plugin name contains '%s'%s", term, hub_failed ? " in the built-in catalog" : "");
	cJSON_Delete(matches);
	return hub_failed ? EXIT_FAIL : EXIT_OK;
}

int cmd_hub(struct cli *cli, int argc, char **argv)
{
	if (argc < 2 || cli_opt_is_help(argv[1])) {
		cli_help_print(argc < 2 ? stderr : stdout, &hub_spec);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	const char *sub = argv[1], *term = NULL, *v;
	int type = -1, format = FORMAT_TEXT;
	static const char *const subs[] = { "ping", "search" };
	int bad = cli_check_subcommand("hub", sub, subs, sizeof subs / sizeof subs[0]);
	if (bad)
		return bad;
	for (int i = 2; i < argc; i++) {
		switch (cli_opt_next(&hub_spec, NULL, argc, argv, &i, &v)) {
		case CLI_OPT_HELP:
			cli_help_print(stdout, &hub_spec);
			return EXIT_OK;
		case HUB_TYPE:
			if ((type = plugin_type_parse(v)) < 0)
				return cli_usage("hub", "unknown plugin type '%s'", v);
			break;
		case HUB_FORMAT:
			if ((format = cli_parse_format(v, 1u << FORMAT_TEXT | 1u << FORMAT_JSON)) < 0)
				return cli_usage("hub", "unknown format '%s' (text, json)", v);
			break;
		case CLI_OPT_ARG:
			if (term || strcmp(sub, "search"))
				return cli_usage("hub", "unexpected argument '%s'", argv[i]);
			term = argv[i];
			break;
		case CLI_OPT_ERROR:
			return EXIT_USAGE;
		default:
			return cli_opt_unknown(&hub_spec, NULL, argv[i]);
		}
	}
	if (!strcmp(sub, "search") && !term)
		return cli_usage("hub", "search needs a TERM");

	struct project *p = maybe_project(cli);
	struct hub hub;
	hub_init_project(&hub, p, "hub");
	int rc = !strcmp(sub, "ping") ? hub_ping(&hub) : hub_search(&hub, p ? p->root : NULL, term, type, format);
	hub_release(&hub);
	project_free(p);
	return rc;
}
