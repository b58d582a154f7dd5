/*
 * smelt state list|get|set|merge|clear|copy|move: the incremental state
 * saved in the system database, by state id (<env>:<tap>-to-<target>[:suffix]).
 */
#include "cli/commands.h"
#include "project/project.h"
#include "settings/state_config.h"
#include "store/state_backend.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

enum state_opt { STATE_PATTERN, STATE_FORMAT, STATE_INPUT, STATE_FROM, STATE_ALL, STATE_NO_VALIDATE, STATE_FORCE };

static const struct cli_option state_options[] = {
	{ STATE_PATTERN, "--pattern", 0, "GLOB", "list: only the state ids that match", 0, NULL },
	{ STATE_FORMAT, "--format", 0, "text|json|pretty", "list: text or json; get: json or pretty", 0, NULL },
	{ STATE_INPUT, "--input-file", 0, "FILE", "set, merge: read the JSON from FILE", 0, NULL },
	{ STATE_FROM, "--from-state-id", 0, "SRC", "merge: the state saved under SRC", 0, NULL },
	{ STATE_ALL, "--all", 0, NULL, "clear: every state", 0, NULL },
	{ STATE_NO_VALIDATE, "--no-validate", 0, NULL, "set, merge: take JSON without 'singer_state'", 0, NULL },
	{ STATE_FORCE, "--force", 'f', NULL, "ignored (Meltano's): nothing here asks for confirmation", 0, NULL },
	{ 0 },
};

const struct cli_spec state_spec = {
	.name = "state",
	.usage = "smelt state list [--pattern GLOB] [--format text|json]\n"
	         "smelt state get ID [--format json|pretty]\n"
	         "smelt state set ID [JSON] [--input-file FILE] [--no-validate]\n"
	         "smelt state merge ID [JSON] [--input-file FILE | --from-state-id SRC]\n"
	         "smelt state clear ID | --all\n"
	         "smelt state copy SRC DST\n"
	         "smelt state move SRC DST",
	.text = "set replaces the saved state (the JSON needs a top-level 'singer_state');\n"
	        "merge deep-merges into it as a partial state.\n",
	.options = state_options,
	.examples = "  smelt state list\n"
	            "  smelt state get dev:tap-csv-to-target-sqlite\n"
	            "  smelt state clear --force dev:tap-csv-to-target-sqlite\n",
};

struct list_ctx {
	int json;
	int count;
	struct strbuf out;
};

static void list_one(void *arg, const char *id, const char *updated)
{
	struct list_ctx *c = arg;
	if (c->json) {
		strbuf_addstr(&c->out, c->count ? ",{\"state_id\":" : "{\"state_id\":");
		json_quote(&c->out, id);
		strbuf_addstr(&c->out, ",\"updated_at\":");
		json_quote(&c->out, updated ? updated : "");
		strbuf_addch(&c->out, '}');
	} else {
		strbuf_addf(&c->out, "%s\n", id);
	}
	c->count++;
}

/* The JSON text given as an argument or in --input-file; caller frees. */
static char *payload(const char *arg, const char *file, char *err, size_t errlen)
{
	if (file) {
		struct strbuf sb = STRBUF_INIT;
		if (read_file(file, &sb) != 0) {
			fail(err, errlen, SMELT_ERR, "cannot read '%s': %m", file);
			strbuf_release(&sb);
			return NULL;
		}
		return strbuf_detach(&sb);
	}
	if (!arg) {
		fail(err, errlen, SMELT_ERR_CONFIG, "give the state as JSON or with --input-file");
		return NULL;
	}
	return xstrdup(arg);
}

/* Validate {"singer_state": ...} and return the inner value as compact JSON; caller frees. */
static char *singer_state_of(const char *text, int validate, char *err, size_t errlen)
{
	cJSON *v = cJSON_Parse(text);
	if (!v) {
		fail(err, errlen, SMELT_ERR_CONFIG, "the state is not valid JSON");
		return NULL;
	}
	cJSON *inner = cJSON_GetObjectItemCaseSensitive(v, "singer_state");
	if (!inner && validate) {
		cJSON_Delete(v);
		fail(err, errlen, SMELT_ERR_CONFIG, "the state needs a top-level 'singer_state' key");
		return NULL;
	}
	struct strbuf sb = STRBUF_INIT;
	json_dump(&sb, inner ? inner : v, -2);
	cJSON_Delete(v);
	return strbuf_detach(&sb);
}

int cmd_state(struct cli *cli, int argc, char **argv)
{
	if (argc < 2 || cli_opt_is_help(argv[1])) {
		cli_help_print(argc < 2 ? stderr : stdout, &state_spec);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	const char *sub = argv[1], *pattern = NULL, *format = NULL, *input = NULL, *from = NULL;
	const char *pos[3] = { 0 };
	int npos = 0, all = 0, no_validate = 0;
	for (int i = 2; i < argc; i++) {
		const char *v;
		switch (cli_opt_next(&state_spec, NULL, argc, argv, &i, &v)) {
		case CLI_OPT_HELP:
			cli_help_print(stdout, &state_spec);
			return EXIT_OK;
		case STATE_PATTERN:
			pattern = v;
			break;
		case STATE_FORMAT:
			format = v;
			break;
		case STATE_INPUT:
			input = v;
			break;
		case STATE_FROM:
			from = v;
			break;
		case STATE_ALL:
			all = 1;
			break;
		case STATE_NO_VALIDATE:
			no_validate = 1;
			break;
		case STATE_FORCE: /* nothing here asks for confirmation */
			break;
		case CLI_OPT_ARG:
			if (npos >= 3)
				return cli_usage("state", "too many arguments");
			pos[npos++] = argv[i];
			break;
		case CLI_OPT_ERROR:
			return EXIT_USAGE;
		default:
			return cli_opt_unknown(&state_spec, NULL, argv[i]);
		}
	}
	/* state ids are database keys only, never paths; a control character would garble listings */
	int nids = !strcmp(sub, "copy") || !strcmp(sub, "move") ? npos : npos > 0; /* set/merge: pos[1] is JSON */
	const char *ids[4] = { nids > 0 ? pos[0] : NULL, nids > 1 ? pos[1] : NULL, nids > 2 ? pos[2] : NULL, from };
	for (int k = 0; k < 4; k++)
		for (const char *c = ids[k] ? ids[k] : ""; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				return cli_usage("state", "a state id cannot hold control characters");
	struct project *p;
	int rc = project_open_cli(cli, ENV_IGNORE_DEFAULT, &p);
	if (rc)
		return rc;
	char err[SMELT_ERRBUF_SIZE * 2];
	struct store *st = NULL;
	char *dbpath = path_join(p->sys_dir, "smelt.db");
	int exit_code = EXIT_OK;
	struct state_backend *backend = NULL; /* get/set/merge go through state_backend.uri */
	if (mkdir_private(p->sys_dir) != 0 || store_open(dbpath, &st, err, sizeof err) ||
	    settings_open_state_backend(p, st, &backend, err, sizeof err)) {
		exit_code = cli_fail("%s", err);
		goto out;
	}
	if (!strcmp(sub, "list")) {
		struct list_ctx c = { .json = format && !strcmp(format, "json"), .out = STRBUF_INIT };
		if (c.json)
			strbuf_addstr(&c.out, "{\"states\":[");
		if (state_backend_list(backend, pattern, list_one, &c, err, sizeof err))
			exit_code = cli_fail("%s", err);
		if (c.json)
			strbuf_addstr(&c.out, "]}\n");
		fputs(c.out.buf, stdout);
		strbuf_release(&c.out);
	} else if (!strcmp(sub, "get")) {
		char *json = NULL;
		if (npos != 1)
			exit_code = cli_usage("state", "'state get' takes one state id");
		else if (state_backend_get(backend, pos[0], &json, err, sizeof err))
			exit_code = cli_fail("%s", err);
		else if (!json)
			exit_code = cli_fail("no state with id '%s'", pos[0]);
		else {
			cJSON *v = cJSON_Parse(json), *w = cJSON_CreateObject();
			cJSON_AddItemToObject(w, "singer_state", v);
			struct strbuf sb = STRBUF_INIT;
			json_dump(&sb, w, format && !strcmp(format, "pretty") ? 2 : -2);
			printf("%s\n", sb.buf);
			strbuf_release(&sb);
			cJSON_Delete(w);
		}
		free(json);
	} else if (!strcmp(sub, "set") || !strcmp(sub, "merge")) {
		int merge = !strcmp(sub, "merge");
		char *text = NULL, *value = NULL;
		if (npos < 1 || npos > 2) {
			exit_code = cli_usage("state", "'state %s' takes a state id and the JSON", sub);
			goto out;
		}
		if (from) {
			if (!merge || state_backend_get(backend, from, &value, err, sizeof err) || !value) {
				exit_code = merge ? cli_fail("no state with id '%s'", from)
				                  : cli_usage("state", "--from-state-id only goes with 'merge'");
				goto out;
			}
		} else if (!(text = payload(npos == 2 ? pos[1] : NULL, input, err, sizeof err)) ||
		           !(value = singer_state_of(text, !no_validate, err, sizeof err))) {
			free(text);
			exit_code = cli_fail("%s", err);
			goto out;
		}
		if (state_backend_put(backend, pos[0], value, merge, err, sizeof err))
			exit_code = cli_fail("%s", err);
		else
			log_info("state of '%s' %s", pos[0], merge ? "merged" : "set");
		free(text);
		free(value);
	} else if (!strcmp(sub, "clear")) {
		if (all) {
			struct list_ctx c = { .out = STRBUF_INIT };
			store_state_list(st, NULL, list_one, &c, err, sizeof err);
			char *save = NULL;
			for (char *id = strtok_r(c.out.buf, "\n", &save); id; id = strtok_r(NULL, "\n", &save))
				store_state_clear(st, id, err, sizeof err);
			log_info("cleared %d state%s", c.count, c.count == 1 ? "" : "s");
			strbuf_release(&c.out);
		} else if (npos != 1) {
			exit_code = cli_usage("state", "'state clear' takes one state id or --all");
		} else if (state_backend_clear(backend, pos[0], err, sizeof err)) {
			exit_code = cli_fail("%s", err);
		}
	} else if (!strcmp(sub, "copy") || !strcmp(sub, "move")) {
		if (npos != 2)
			exit_code = cli_usage("state", "'state %s' takes SRC and DST", sub);
		else if (store_state_copy(st, pos[0], pos[1], !strcmp(sub, "move"), err, sizeof err))
			exit_code = cli_fail("%s", err);
	} else {
		exit_code = cli_usage("state", "unknown subcommand 'state %s'", sub);
	}
out:
	state_backend_close(backend);
	store_close(st);
	free(dbpath);
	project_free(p);
	return exit_code;
}
