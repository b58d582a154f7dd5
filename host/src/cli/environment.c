/* smelt environment add|list|remove (no environment is applied, as Meltano's). */
#include "cli/commands.h"
#include "project/project.h"
#include "util/json.h"
#include "util/names.h"
#include "util/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum environment_opt { ENVIRONMENT_FORMAT };

static const struct cli_option environment_options[] = {
	{ ENVIRONMENT_FORMAT, "--format", 0, "text|json", "list: output format (default text)", 0, NULL },
	{ 0 },
};

const struct cli_spec environment_spec = {
	.name = "environment",
	.usage = "smelt environment add NAME\n"
	         "smelt environment list [--format text|json]\n"
	         "smelt environment remove NAME",
	.options = environment_options,
	.examples = "  smelt environment list\n"
	            "  smelt environment add staging\n",
};

int cmd_environment(struct cli *cli, int argc, char **argv)
{
	const char *sub = NULL, *name = NULL, *v;
	int format = FORMAT_TEXT, rc;
	char err[1024];
	for (int i = 1; i < argc; i++) {
		switch (cli_opt_next(&environment_spec, NULL, argc, argv, &i, &v)) {
		case CLI_OPT_HELP:
			cli_help_print(stdout, &environment_spec);
			return EXIT_OK;
		case ENVIRONMENT_FORMAT:
			if ((format = cli_parse_format(v, 3)) < 0)
				return cli_usage("environment", "unknown format '%s' (text, json)", v);
			break;
		case CLI_OPT_ARG:
			if (!sub)
				sub = argv[i];
			else if (!name)
				name = argv[i];
			else
				return cli_usage("environment", "unexpected argument '%s'", argv[i]);
			break;
		case CLI_OPT_ERROR:
			return EXIT_USAGE;
		default:
			return cli_opt_unknown(&environment_spec, NULL, argv[i]);
		}
	}
	if (!sub) {
		cli_help_print(stderr, &environment_spec);
		return EXIT_USAGE;
	}
	static const char *const subs[] = { "add", "list", "remove" };
	int bad = cli_check_subcommand("environment", sub, subs, sizeof subs / sizeof subs[0]);
	if (bad)
		return bad;
	if (strcmp(sub, "list") && !name)
		return cli_usage("environment", "environment %s needs a name", sub);
	if (!strcmp(sub, "list") && name)
		return cli_usage("environment", "unexpected argument '%s'", name);
	if (name && (strchr(name, ':') || !*name))
		return cli_usage("environment", "environment name '%s' may not be empty or contain ':'", name);
	if (name && !strcmp(sub, "add") && name_check("environment", name, err, sizeof err))
		return cli_usage("environment", "%s", err);

	struct project *p;
	if ((rc = project_open_cli(cli, ENV_NONE, &p)) != 0)
		return rc;
	rc = EXIT_OK;
	if (!strcmp(sub, "list")) {
		if (format == FORMAT_JSON) {
			cJSON *root = cJSON_CreateObject();
			cJSON *arr = cJSON_AddArrayToObject(root, "environments");
			for (size_t i = 0; i < p->nenvironments; i++) {
				const struct environment *e = &p->environments[i];
				cJSON *o = cJSON_CreateObject();
				cJSON_AddStringToObject(o, "name", e->name);
				cJSON_AddBoolToObject(o, "default", p->default_environment && !strcmp(p->default_environment, e->name));
				if (e->state_id_suffix)
					cJSON_AddStringToObject(o, "state_id_suffix", e->state_id_suffix);
				cJSON_AddItemToArray(arr, o);
			}
			struct strbuf sb = STRBUF_INIT;
			json_dump(&sb, root, -2);
			printf("%s\n", sb.buf);
			strbuf_release(&sb);
			cJSON_Delete(root);
		} else {
			for (size_t i = 0; i < p->nenvironments; i++)
				printf("%s\n", p->environments[i].name);
		}
	} else if (!strcmp(sub, "add")) {
		if (project_find_environment(p, name)) {
			rc = cli_fail("environment '%s' already exists", name);
		} else {
			const char *path[] = { "environments" };
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "name", name);
			if (project_edit_append(p, p->files[0], path, 1, e, err, sizeof err) < 0 ||
			    project_save(p, err, sizeof err) < 0)
				rc = cli_fail("%s", err);
			else
				printf("Created new environment '%s'\n", name);
			cJSON_Delete(e);
		}
	} else {
		struct environment *e = project_find_environment(p, name);
		if (!e) {
			rc = cli_fail("environment '%s' does not exist", name);
		} else {
			char *sel = xasprintf("[name=%s]", name);
			const char *path[] = { "environments", sel };
			if (project_edit_unset(p, project_file_of(p, &e->pos), path, 2, err, sizeof err) < 0 ||
			    project_save(p, err, sizeof err) < 0)
				rc = cli_fail("%s", err);
			else
				printf("Removed environment '%s'\n", name);
			free(sel);
		}
	}
	project_free(p);
	return rc;
}
