/* smelt adapters list [--format json]: what this smelt loaded, and what it refused. */
#include "adapters/loader.h"
#include "cli/commands.h"
#include "project/project.h"
#include "run/runtime.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *category_name(enum smelt_category c)
{
	switch (c) {
	case SMELT_CAT_EXTRACT_LOAD: return "extract-load";
	case SMELT_CAT_TRANSFORM: return "transform";
	case SMELT_CAT_ORCHESTRATE: return "orchestrate";
	case SMELT_CAT_QUALITY: return "quality";
	case SMELT_CAT_ANALYSIS: return "analysis";
	default: return "other";
	}
}

/* The nearest folder holding smelt.yml or meltano.yml, for project adapters; NULL when none. */
static char *nearest_project(void)
{
	const char *env = getenv("SMELT_PROJECT_ROOT");
	if (env && *env)
		return xstrdup(env);
	char *dir = getcwd(NULL, 0);
	while (dir) {
		char *a = path_join(dir, "smelt.yml"), *b = path_join(dir, "meltano.yml");
		int found = file_exists(a) || file_exists(b);
		free(a);
		free(b);
		if (found)
			return dir;
		if (!strcmp(dir, "/"))
			break;
		char *up = path_dirname(dir);
		free(dir);
		dir = up;
	}
	free(dir);
	return NULL;
}

static void print_types(struct strbuf *sb, uint32_t types, int json)
{
	int first = 1;
	for (unsigned i = 0; i < 8; i++) {
		if (!(types & (1u << i)))
			continue;
		if (!first)
			strbuf_addstr(sb, json ? "," : " ");
		if (json)
			json_quote(sb, loader_type_bit_name(1u << i));
		else
			strbuf_addstr(sb, loader_type_bit_name(1u << i));
		first = 0;
	}
}

static void list_json(struct loader *l)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "{\"adapters\":[");
	for (size_t i = 0; i < l->n; i++) {
		const struct smelt_adapter *d = l->items[i].desc;
		strbuf_addstr(&sb, i ? ",{\"name\":" : "{\"name\":");
		json_quote(&sb, d->name);
		strbuf_addstr(&sb, ",\"version\":");
		json_quote(&sb, d->version ? d->version : "");
		strbuf_addf(&sb, ",\"abi\":\"%u.%u\",\"category\":\"%s\",\"description\":",
		            SMELT_ABI_MAJOR_OF(d->abi_version), SMELT_ABI_MINOR_OF(d->abi_version),
		            category_name(d->category));
		json_quote(&sb, d->description ? d->description : "");
		strbuf_addstr(&sb, ",\"plugin_types\":[");
		print_types(&sb, d->plugin_types, 1);
		strbuf_addstr(&sb, "],\"namespaces\":[");
		for (const char *const *ns = d->namespaces; ns && *ns; ns++) {
			if (ns != d->namespaces)
				strbuf_addch(&sb, ',');
			json_quote(&sb, *ns);
		}
		strbuf_addstr(&sb, "],\"commands\":[");
		const struct smelt_command *c;
		for (size_t k = 0; (c = loader_command(&l->items[i], k)); k++) {
			if (k)
				strbuf_addch(&sb, ',');
			json_quote(&sb, c->name);
		}
		strbuf_addstr(&sb, "],\"path\":");
		json_quote(&sb, l->items[i].path);
		strbuf_addch(&sb, '}');
	}
	strbuf_addstr(&sb, "],\"refused\":[");
	for (size_t i = 0; i < l->nrefusals; i++) {
		if (i)
			strbuf_addch(&sb, ',');
		json_quote(&sb, l->refusals[i]);
	}
	strbuf_addstr(&sb, "]}\n");
	fputs(sb.buf, stdout);
	strbuf_release(&sb);
}

static void list_text(struct loader *l)
{
	printf("%-10s %-8s %-5s %-13s %-40s %s\n", "NAME", "VERSION", "ABI", "CATEGORY", "CLAIMS", "PATH");
	for (size_t i = 0; i < l->n; i++) {
		const struct smelt_adapter *d = l->items[i].desc;
		struct strbuf claims = STRBUF_INIT;
		print_types(&claims, d->plugin_types, 0);
		for (const char *const *ns = d->namespaces; ns && *ns; ns++)
			strbuf_addf(&claims, "%s%s", claims.len ? " " : "", *ns);
		printf("%-10s %-8s %u.%-3u %-13s %-40s %s\n", d->name, d->version ? d->version : "",
		       SMELT_ABI_MAJOR_OF(d->abi_version), SMELT_ABI_MINOR_OF(d->abi_version),
		       category_name(d->category), claims.buf, l->items[i].path);
		strbuf_release(&claims);
	}
	for (size_t i = 0; i < l->nrefusals; i++)
		printf("refused: %s\n", l->refusals[i]);
}

/*
 * One adapter's health check: check_health (ABI 1.2), which reports
 * through struct smelt_health, else a 1.1 adapter's health, whose status
 * says it.  Returns the status word; detail (len bytes) gets the
 * adapter's line; *bad is set when the adapter is not usable.
 */
static const char *health_of(struct runtime *rt, struct loaded_adapter *a, char *detail, size_t len, int *bad)
{
	const struct smelt_adapter *d = a->desc;
	char err[SMELT_ERRBUF_SIZE] = "";
	*bad = 1;
	detail[0] = '\0';
	if (runtime_init_adapter(rt, a, detail, len) != SMELT_OK)
		return "error";
	if (SMELT_HAS(d, struct smelt_adapter, check_health) && d->check_health) {
		struct smelt_health h = { .struct_size = sizeof h, .healthy = 0, .detail = detail, .detail_len = len };
		int rc = d->check_health(a->state, &h, err, sizeof err);
		detail[len - 1] = '\0';
		if (rc != SMELT_OK) {
			snprintf(detail, len, "%s", err[0] ? err : smelt_strerror(rc));
			return "error";
		}
		*bad = !h.healthy;
		return h.healthy ? "ok" : "unhealthy";
	}
	if (SMELT_HAS(d, struct smelt_adapter, health) && d->health) {
		int rc = d->health(a->state, detail, len);
		detail[len - 1] = '\0';
		*bad = rc != SMELT_OK;
		return rc == SMELT_OK ? "ok" : "unhealthy";
	}
	*bad = 0;
	return "no health check";
}

/* smelt adapters check: init every adapter for the project and ask each for its health. */
static int check(struct cli *cli, int format)
{
	struct project *p;
	int rc = project_open_cli(cli, ENV_DEFAULT_OR_NONE, &p);
	if (rc)
		return rc;
	struct runtime rt;
	runtime_init(&rt, &cli->paths, p);
	int bad = 0;
	cJSON *out = cJSON_CreateArray();
	for (size_t i = 0; i < rt.loader.n; i++) {
		struct loaded_adapter *a = &rt.loader.items[i];
		char detail[SMELT_ERRBUF_SIZE * 2];
		int unusable;
		const char *status = health_of(&rt, a, detail, sizeof detail, &unusable);
		bad |= unusable;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", a->desc->name);
		cJSON_AddStringToObject(o, "status", status);
		cJSON_AddBoolToObject(o, "healthy", !unusable); /* as the exit code: loaded and not reported unhealthy */
		cJSON_AddStringToObject(o, "message", detail);
		cJSON_AddItemToArray(out, o);
		if (format != FORMAT_JSON)
			printf("%-10s %-16s %s\n", a->desc->name, status, detail);
	}
	if (format == FORMAT_JSON) {
		struct strbuf sb = STRBUF_INIT;
		cJSON *wrap = cJSON_CreateObject();
		cJSON_AddItemToObject(wrap, "adapters", out);
		json_dump(&sb, wrap, -2);
		printf("%s\n", sb.buf);
		strbuf_release(&sb);
		cJSON_Delete(wrap);
	} else {
		cJSON_Delete(out);
	}
	runtime_release(&rt);
	project_free(p);
	return bad ? EXIT_FAIL : EXIT_OK;
}

enum adapters_opt { ADAPTERS_FORMAT };

static const struct cli_option adapters_options[] = {
	{ ADAPTERS_FORMAT, "--format", 0, "text|json", "output format (default text)", 0, NULL },
	{ 0 },
};

const struct cli_spec adapters_spec = {
	.name = "adapters",
	.usage = "smelt adapters list [--format text|json]\n"
	         "smelt adapters check [--format text|json]",
	.text = "list: the adapters found in the install's adapter folder, in $SMELT_ADAPTER_PATH\n"
	        "and in the project's adapters/ folder, and the files that were refused.\n"
	        "check: start each adapter for the current project and run its health check.\n",
	.options = adapters_options,
	.examples = "  smelt adapters list\n"
	            "  smelt adapters check\n",
};

int cmd_adapters(struct cli *cli, int argc, char **argv)
{
	int format = FORMAT_TEXT;
	const char *v;
	if (argc < 2 || cli_opt_is_help(argv[1])) {
		cli_help_print(argc < 2 ? stderr : stdout, &adapters_spec);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	static const char *const subs[] = { "list", "check" };
	int bad = cli_check_subcommand("adapters", argv[1], subs, sizeof subs / sizeof subs[0]);
	if (bad)
		return bad;
	for (int i = 2; i < argc; i++) {
		switch (cli_opt_next(&adapters_spec, NULL, argc, argv, &i, &v)) {
		case CLI_OPT_HELP:
			cli_help_print(stdout, &adapters_spec);
			return EXIT_OK;
		case ADAPTERS_FORMAT:
			if ((format = cli_parse_format(v, 1 << FORMAT_TEXT | 1 << FORMAT_JSON)) < 0)
				return cli_usage("adapters", "unknown format '%s' (text, json)", v);
			break;
		case CLI_OPT_ERROR:
			return EXIT_USAGE;
		case CLI_OPT_UNKNOWN:
			return cli_opt_unknown(&adapters_spec, NULL, argv[i]);
		default:
			return cli_usage("adapters", "unknown argument '%s'", argv[i]);
		}
	}
	if (!strcmp(argv[1], "check"))
		return check(cli, format);
	struct loader l;
	char *root = nearest_project();
	loader_init(&l);
	loader_discover(&l, cli->paths.adapter_dir, root);
	if (format == FORMAT_JSON)
		list_json(&l);
	else
		list_text(&l);
	loader_release(&l);
	free(root);
	return EXIT_OK;
}
