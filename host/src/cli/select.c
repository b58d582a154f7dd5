/*
 * smelt select TAP [STREAM] [PROPERTY]: manage an extractor's `select`
 * patterns in smelt.yml (comment-preserving), or --list what its catalog
 * offers and what the patterns select.
 */
#include "cli/commands.h"
#include "project/project.h"
#include "run/proc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

static const char select_usage[] =
	"usage: smelt select TAP [STREAM [PROPERTY]] [--exclude] [--rm]\n"
	"       smelt select TAP --list [--all] [--format text|json]\n\n"
	"Adds the pattern STREAM.PROPERTY (default '*') to the tap's `select` extra;\n"
	"--exclude adds '!STREAM.PROPERTY', --rm removes the pattern.  --list shows the\n"
	"catalog's streams and properties and whether they are selected (--all: also\n"
	"those that are not).\n";

struct sel_out {
	struct strbuf buf;
};

static int collect(void *arg, const char *line, size_t len, unsigned long lineno)
{
	struct sel_out *o = arg;
	(void)lineno;
	strbuf_add(&o->buf, line, len);
	strbuf_addch(&o->buf, '\n');
	return 0;
}

static const char *selection_of(const cJSON *stream, const char *prop)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(stream, "metadata"), *e;
	cJSON_ArrayForEach(e, md)
	{
		const cJSON *bc = cJSON_GetObjectItemCaseSensitive(e, "breadcrumb");
		int n = cJSON_GetArraySize(bc);
		if (prop ? !(n == 2 && !strcmp(cJSON_GetArrayItem(bc, 1)->valuestring, prop)) : n != 0)
			continue;
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "metadata");
		const cJSON *inc = cJSON_GetObjectItemCaseSensitive(m, "inclusion");
		const cJSON *sel = cJSON_GetObjectItemCaseSensitive(m, "selected");
		if (cJSON_IsString(inc) && !strcmp(inc->valuestring, "automatic"))
			return "automatic";
		if (cJSON_IsString(inc) && !strcmp(inc->valuestring, "unsupported"))
			return "unsupported";
		return cJSON_IsTrue(sel) ? "selected" : "excluded";
	}
	return "selected"; /* no metadata: selected (Singer rule 1) */
}

static int list(struct cli *cli, struct project *p, struct plugin *pl, int all, int json)
{
	/* The catalog with the rules applied comes from the adapter, through `smelt invoke --dump catalog`. */
	char *argv[] = { cli->exe, "--cwd", p->root, "invoke", "--dump", "catalog", pl->name, NULL };
	struct sel_out out = { STRBUF_INIT };
	struct proc_stage st = { .label = pl->name, .argv = argv, .on_line = collect, .arg = &out };
	struct proc_result res;
	char err[SMELT_ERRBUF_SIZE];
	if (proc_pipeline(&st, 1, NULL, &res, err, sizeof err) || !res.exit.exited || res.exit.exit_code) {
		strbuf_release(&out.buf);
		return cli_fail("cannot get the catalog of '%s'%s%s", pl->name, err[0] ? ": " : "", err);
	}
	cJSON *catalog = cJSON_Parse(out.buf.buf);
	strbuf_release(&out.buf);
	if (!catalog)
		return cli_fail("the catalog of '%s' is not valid JSON", pl->name);
	const cJSON *patterns = cJSON_GetObjectItemCaseSensitive(pl->extras, "select");
	struct strbuf sb = STRBUF_INIT;
	const cJSON *stream, *prop;
	const cJSON *streams = cJSON_GetObjectItemCaseSensitive(catalog, "streams");
	if (json) {
		cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "streams");
		cJSON_AddItemToObject(o, "enabled_patterns", patterns ? cJSON_Duplicate(patterns, 1) : cJSON_CreateStringArray((const char *[]){ "*.*" }, 1));
		cJSON_ArrayForEach(stream, streams)
		{
			const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(stream, "tap_stream_id"));
			const char *ss = selection_of(stream, NULL);
			if (!all && !strcmp(ss, "excluded"))
				continue;
			cJSON *s = cJSON_CreateObject(), *props = cJSON_CreateArray();
			cJSON_AddStringToObject(s, "stream", id ? id : "");
			cJSON_AddStringToObject(s, "selection", ss);
			cJSON_ArrayForEach(prop, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(stream, "schema"), "properties"))
			{
				const char *ps = selection_of(stream, prop->string);
				if (!all && !strcmp(ps, "excluded"))
					continue;
				cJSON *pp = cJSON_CreateObject();
				cJSON_AddStringToObject(pp, "name", prop->string);
				cJSON_AddStringToObject(pp, "selection", ps);
				cJSON_AddItemToArray(props, pp);
			}
			cJSON_AddItemToObject(s, "properties", props);
			cJSON_AddItemToArray(arr, s);
		}
		json_dump(&sb, o, -2);
		strbuf_addch(&sb, '\n');
		cJSON_Delete(o);
	} else {
		strbuf_addstr(&sb, "Legend:\n\tselected\n\texcluded\n\tautomatic\n\tunsupported\n\nEnabled patterns:\n");
		const cJSON *pat;
		if (!patterns)
			strbuf_addstr(&sb, "\t*.*\n");
		cJSON_ArrayForEach(pat, patterns)
			strbuf_addf(&sb, "\t%s\n", cJSON_GetStringValue(pat) ? pat->valuestring : "?");
		strbuf_addf(&sb, "\n%s attributes in '%s':\n", all ? "All" : "Selected", pl->name);
		cJSON_ArrayForEach(stream, streams)
		{
			const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(stream, "tap_stream_id"));
			cJSON_ArrayForEach(prop, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(stream, "schema"), "properties"))
			{
				const char *ps = selection_of(stream, prop->string);
				if (!strcmp(selection_of(stream, NULL), "excluded"))
					ps = "excluded";
				if (!all && !strcmp(ps, "excluded"))
					continue;
				strbuf_addf(&sb, "\t[%-11s] %s.%s\n", ps, id ? id : "", prop->string);
			}
		}
	}
	fputs(sb.buf, stdout);
	strbuf_release(&sb);
	cJSON_Delete(catalog);
	return EXIT_OK;
}

int cmd_select(struct cli *cli, int argc, char **argv)
{
	int do_list = 0, all = 0, exclude = 0, rm = 0, json = 0;
	const char *pos[3] = { 0 }, *format = NULL;
	int npos = 0;
	for (int i = 1; i < argc; i++) {
		int r;
		if (cli_is_help(argv[i])) {
			fputs(select_usage, stdout);
			return EXIT_OK;
		}
		if ((r = cli_opt_value(argc, argv, &i, "--format", &format)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
			if (cli_parse_format(format, 1 << FORMAT_TEXT | 1 << FORMAT_JSON) < 0)
				return cli_usage("select", "unknown format '%s' (text, json)", format);
			json = !strcmp(format, "json");
		} else if (cli_opt_flag(argv[i], "--list"))
			do_list = 1;
		else if (cli_opt_flag(argv[i], "--json"))
			do_list = json = 1;
		else if (cli_opt_flag(argv[i], "--all"))
			all = 1;
		else if (cli_opt_flag(argv[i], "--exclude"))
			exclude = 1;
		else if (cli_opt_flag(argv[i], "--rm") || cli_opt_flag(argv[i], "--remove"))
			rm = 1;
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_unknown_option("select", argv[i]);
		else if (npos < 3)
			pos[npos++] = argv[i];
		else
			return cli_usage("select", "too many arguments");
	}
	if (!npos)
		return cli_usage("select", "which extractor?");
	struct project *p;
	int rc = project_open_cli(cli, ENV_IGNORE_DEFAULT, &p);
	if (rc)
		return rc;
	struct plugin *pl = project_find_plugin(p, PLUGIN_EXTRACTORS, pos[0]);
	if (!pl) {
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
