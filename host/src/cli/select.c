/*
 * smelt select TAP [STREAM] [PROPERTY]: manage an extractor's `select`
 * patterns in smelt.yml (comment-preserving), or --list what its catalog
 * offers and what the patterns select.
 */
#include "adapters/dispatch.h"
#include "cli/commands.h"
#include "project/project.h"
#include "run/runtime.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum select_opt { SELECT_LIST, SELECT_ALL, SELECT_FORMAT, SELECT_JSON, SELECT_EXCLUDE, SELECT_RM };

static const struct cli_option select_options[] = {
	{ SELECT_LIST, "--list", 0, NULL, "show the catalog's streams and properties and their selection", 0, NULL },
	{ SELECT_ALL, "--all", 0, NULL, "--list: also those that are not selected", 0, NULL },
	{ SELECT_FORMAT, "--format", 0, "text|json", "--list: output format (default text)", 0, NULL },
	{ SELECT_JSON, "--json", 0, NULL, "the same as --list --format json", 0, NULL },
	{ SELECT_EXCLUDE, "--exclude", 0, NULL, "add the pattern '!STREAM.PROPERTY'", 0, NULL },
	{ SELECT_RM, "--rm", 0, NULL, "remove the pattern", 0, NULL },
	{ SELECT_RM, "--remove", 0, NULL, "the same as --rm", 0, NULL },
	{ 0 },
};

const struct cli_spec select_spec = {
	.name = "select",
	.usage = "smelt select TAP [STREAM [PROPERTY]] [--exclude] [--rm]\n"
	         "smelt select TAP --list [--all] [--format text|json]",
	.text = "Adds the pattern STREAM.PROPERTY (default '*') to the tap's `select` extra;\n"
	        "--exclude adds '!STREAM.PROPERTY', --rm removes the pattern.  --list shows the\n"
	        "catalog's streams and properties and whether they are selected (--all: also\n"
	        "those that are not).\n",
	.options = select_options,
	.examples = "  smelt select tap-csv --list --all\n"
	            "  smelt select tap-csv orders '*'\n"
	            "  smelt select tap-csv --exclude customers email\n",
};

/*
 * The extractor's streams and properties with their selection, from its
 * adapter's select operation (ABI 1.2): the adapter knows the catalog and
 * its rules; the host only prints.  NULL with the error reported and
 * *code set (2 when the adapter has no select operation, as for any
 * operation left NULL).
 */
static cJSON *ask_adapter(struct cli *cli, struct project *p, struct plugin *pl, int *code)
{
	struct runtime rt;
	char err[SMELT_ERRBUF_SIZE * 4] = "";
	char *json = NULL;
	int rc;
	runtime_init(&rt, &cli->paths, p);
	struct loaded_adapter *a = runtime_adapter_for(&rt, pl, err, sizeof err);
	if (!a)
		rc = SMELT_ERR_NOTFOUND;
	else if (!dispatch_has_op(a, SMELT_REQ_SELECT))
		rc = fail(err, sizeof err, SMELT_ERR_UNSUPPORTED, "adapter '%s' has no select operation", a->desc->name);
	else if ((rc = runtime_prepare(&rt, &pl, 1, 1, err, sizeof err)) == SMELT_OK) {
		struct smelt_request req = dispatch_request(SMELT_REQ_SELECT, &pl, 1);
		rc = dispatch_call_reply(a, &req, &json, err, sizeof err);
	}
	cJSON *reply = rc == SMELT_OK && json ? cJSON_Parse(json) : NULL;
	free(json); /* host->alloc() is malloc */
	runtime_release(&rt);
	if (rc == SMELT_ERR_UNSUPPORTED) {
		*code = cli_not_implemented("select --list");
		fprintf(stderr, "(%s)\n", err);
	} else if (rc != SMELT_OK)
		*code = cli_fail("cannot get the catalog of '%s': %s", pl->name, err[0] ? err : smelt_strerror(rc));
	else if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(reply, "streams")))
		*code = cli_fail("the adapter's listing of '%s' is not a JSON object with 'streams'", pl->name);
	else
		return reply;
	cJSON_Delete(reply);
	return NULL;
}

static const char *selection_str(const cJSON *o)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "selection"));
	return s ? s : "excluded";
}

static const char *name_str(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
	return s ? s : "";
}

static int list(struct cli *cli, struct project *p, struct plugin *pl, int all, int json)
{
	int code = EXIT_FAIL;
	cJSON *reply = ask_adapter(cli, p, pl, &code);
	if (!reply)
		return code;
	const cJSON *patterns = cJSON_GetObjectItemCaseSensitive(reply, "enabled_patterns");
	const cJSON *streams = cJSON_GetObjectItemCaseSensitive(reply, "streams");
	struct strbuf sb = STRBUF_INIT;
	const cJSON *stream, *prop;
	if (json) {
		cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "streams");
		cJSON_ArrayForEach(stream, streams)
		{
			const char *ss = selection_str(stream);
			if (!all && !strcmp(ss, "excluded"))
				continue;
			cJSON *s = cJSON_CreateObject(), *props = cJSON_CreateArray();
			cJSON_AddStringToObject(s, "stream", name_str(stream, "stream"));
			cJSON_AddStringToObject(s, "selection", ss);
			cJSON_ArrayForEach(prop, cJSON_GetObjectItemCaseSensitive(stream, "properties"))
			{
				const char *ps = selection_str(prop);
				if (!all && !strcmp(ps, "excluded"))
					continue;
				cJSON *pp = cJSON_CreateObject();
				cJSON_AddStringToObject(pp, "name", name_str(prop, "name"));
				cJSON_AddStringToObject(pp, "selection", ps);
				cJSON_AddItemToArray(props, pp);
			}
			cJSON_AddItemToObject(s, "properties", props);
			cJSON_AddItemToArray(arr, s);
		}
		cJSON_AddItemToObject(o, "enabled_patterns", patterns ? cJSON_Duplicate(patterns, 1) : cJSON_CreateArray());
		json_dump(&sb, o, -2);
		strbuf_addch(&sb, '\n');
		cJSON_Delete(o);
	} else {
		strbuf_addstr(&sb, "Legend:\n\tselected\n\texcluded\n\tautomatic\n\tunsupported\n\nEnabled patterns:\n");
		const cJSON *pat;
		cJSON_ArrayForEach(pat, patterns)
			strbuf_addf(&sb, "\t%s\n", cJSON_GetStringValue(pat) ? pat->valuestring : "?");
		strbuf_addf(&sb, "\n%s attributes in '%s':\n", all ? "All" : "Selected", pl->name);
		cJSON_ArrayForEach(stream, streams)
		{
			/* a property of an excluded stream is excluded, whatever its own entry says */
			int stream_out = !strcmp(selection_str(stream), "excluded");
			cJSON_ArrayForEach(prop, cJSON_GetObjectItemCaseSensitive(stream, "properties"))
			{
				const char *ps = stream_out ? "excluded" : selection_str(prop);
				if (!all && !strcmp(ps, "excluded"))
					continue;
				strbuf_addf(&sb, "\t[%-11s] %s.%s\n", ps, name_str(stream, "stream"), name_str(prop, "name"));
			}
		}
	}
	fputs(sb.buf, stdout);
	strbuf_release(&sb);
	cJSON_Delete(reply);
	return EXIT_OK;
}

int cmd_select(struct cli *cli, int argc, char **argv)
{
	int do_list = 0, all = 0, exclude = 0, rm = 0, json = 0;
	const char *pos[3] = { 0 };
	int npos = 0;
	for (int i = 1; i < argc; i++) {
		const char *format;
		switch (cli_opt_next(&select_spec, NULL, argc, argv, &i, &format)) {
		case CLI_OPT_HELP:
			cli_help_print(stdout, &select_spec);
			return EXIT_OK;
		case SELECT_FORMAT:
			if (cli_parse_format(format, 1 << FORMAT_TEXT | 1 << FORMAT_JSON) < 0)
				return cli_usage("select", "unknown format '%s' (text, json)", format);
			json = !strcmp(format, "json");
			break;
		case SELECT_LIST:
			do_list = 1;
			break;
		case SELECT_JSON:
			do_list = json = 1;
			break;
		case SELECT_ALL:
			all = 1;
			break;
		case SELECT_EXCLUDE:
			exclude = 1;
			break;
		case SELECT_RM:
			rm = 1;
			break;
		case CLI_OPT_ARG:
			if (npos >= 3)
				return cli_usage("select", "too many arguments");
			pos[npos++] = argv[i];
			break;
		case CLI_OPT_ERROR:
			return EXIT_USAGE;
		default:
			return cli_opt_unknown(&select_spec, NULL, argv[i]);
		}
	}
	if (!npos)
		return cli_usage("select", "which extractor?");
	struct project *p;
	/* as Meltano's select: only an environment chosen explicitly (flag, variable, .env) is active */
	int rc = project_open_cli(cli, ENV_IGNORE_DEFAULT, &p);
	if (rc)
		return rc;
	struct plugin *pl = project_find_plugin(p, PLUGIN_EXTRACTORS, pos[0]);
	if (!pl) {
		/* a plugin of another type is there: "not in smelt.yml" would send the user looking for a typo */
		const struct plugin *other = project_find_plugin(p, -1, pos[0]);
		const char *kind = other ? plugin_type_singular(other->type) : NULL;
		if (other) /* "an orchestrator"; "a utility": the article goes by the sound, not the vowel */
			rc = cli_fail("'%s' is %s %s, not an extractor (select works on extractors)", pos[0],
			              kind[0] == 'o' ? "an" : "a", kind);
		else
			rc = cli_fail("extractor '%s' is not in %s%s", pos[0], p->file_name, cli_plugin_hint(p, pos[0]));
		project_free(p);
		return rc;
	}
	if (do_list || npos == 1) {
		rc = list(cli, p, pl, all, json);
		project_free(p);
		return rc;
	}
	char pattern[1024];
	snprintf(pattern, sizeof pattern, "%s%s.%s", exclude ? "!" : "", pos[1], pos[2] ? pos[2] : "*");
	char err[SMELT_ERRBUF_SIZE * 2];
	struct project_file *f = project_file_of(p, &pl->pos);
	char seg[600];
	snprintf(seg, sizeof seg, "[name=%s]", pl->name);
	const char *path[] = { "plugins", "extractors", seg, "select" };
	const cJSON *patterns = cJSON_GetObjectItemCaseSensitive(pl->extras, "select"), *it;
	int present = -1, idx = 0;
	cJSON_ArrayForEach(it, patterns)
	{
		if (cJSON_IsString(it) && !strcmp(it->valuestring, pattern))
			present = idx;
		idx++;
	}
	if (rm) {
		if (present < 0) {
			rc = cli_fail("'%s' has no select pattern '%s'", pl->name, pattern); /* before pl is freed */
			project_free(p);
			return rc;
		}
		char item[32];
		snprintf(item, sizeof item, "[%d]", present);
		const char *ipath[] = { "plugins", "extractors", seg, "select", item };
		rc = project_edit_unset(p, f, ipath, 5, err, sizeof err);
	} else if (present >= 0) {
		log_info("'%s' already selects '%s'", pl->name, pattern);
		project_free(p);
		return EXIT_OK;
	} else {
		cJSON *v = cJSON_CreateString(pattern);
		rc = project_edit_append(p, f, path, 4, v, err, sizeof err);
		cJSON_Delete(v);
	}
	if (rc < 0 || project_save(p, err, sizeof err)) {
		project_free(p);
		return cli_fail("%s", err);
	}
	log_info("%s select pattern '%s' of '%s'", rm ? "removed" : "added", pattern, pos[0]);
	project_free(p);
	return EXIT_OK;
}
