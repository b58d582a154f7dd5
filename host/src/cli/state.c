/*
 * smelt state list|get|set|merge|clear|copy|move|edit|export|import: the
 * incremental state saved in the system database, by state id
 * (<env>:<tap>-to-<target>[:suffix]).  As Meltano's, set/clear/copy/move/edit
 * ask for confirmation on stdin unless --force is given (no answer: abort, 1),
 * once the arguments are known to be usable.
 */
#include "cli/commands.h"
#include "project/project.h"
#include "settings/state_config.h"
#include "settings/system_db.h"
#include "store/state_backend.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <ctype.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

enum state_opt { STATE_PATTERN, STATE_FORMAT, STATE_INPUT, STATE_FROM, STATE_ALL, STATE_NO_VALIDATE, STATE_FORCE };

static const struct cli_option state_options[] = {
	{ STATE_PATTERN, "--pattern", 0, "GLOB", "list: only the state ids that match", 0, NULL },
	{ STATE_FORMAT, "--format", 0, "text|json|pretty", "list: text or json; get: json or pretty", 0, NULL },
	{ STATE_INPUT, "--input-file", 0, "FILE", "set, merge: read the JSON from FILE", 0, NULL },
	{ STATE_FROM, "--from-state-id", 0, "SRC", "merge: the state saved under SRC", 0, NULL },
	{ STATE_ALL, "--all", 0, NULL, "clear: every state", 0, NULL },
	{ STATE_NO_VALIDATE, "--no-validate", 0, NULL, "set, merge: take JSON without 'singer_state'", 0, NULL },
	{ STATE_FORCE, "--force", 'f', NULL, "set, clear, copy, move, edit: do not ask for confirmation", 0, NULL },
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
	         "smelt state move SRC DST\n"
	         "smelt state edit ID\n"
	         "smelt state export\n"
	         "smelt state import [FILE]",
	.text = "set replaces the saved state (the JSON needs a top-level 'singer_state');\n"
	        "merge deep-merges into it as a partial state; get of an unknown id prints {}.\n"
	        "edit opens $VISUAL or $EDITOR on the state; export prints every state as\n"
	        "{\"<id>\": {\"completed\": ..., \"partial\": ...}} and import (FILE or stdin) reads it back.\n"
	        "set, clear, copy, move and edit ask for confirmation unless --force is given.\n",
	.options = state_options,
	.examples = "  smelt state list\n"
	            "  smelt state get dev:tap-csv-to-target-sqlite\n"
	            "  smelt state clear --force dev:tap-csv-to-target-sqlite\n"
	            "  smelt state export > state.json\n",
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

/* The JSON text given as an argument or in --input-file (check_args() saw one of them); caller frees. */
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
	return xstrdup(arg);
}

/*
 * The arguments and options sub takes, all checked before the
 * confirmation prompt: a question answered "y" must not end in a usage
 * error, and --all must never widen a command that names a state id
 * (Meltano's "a state ID or the --all flag, but not both").  0, or the exit
 * code of the usage error.
 */
static int check_args(const char *sub, int npos, int all, const char *input, const char *from, const char *pattern,
                      const char *format, int no_validate)
{
	static const char *const subs[] = { "list", "get", "set", "merge", "clear", "copy", "move", "edit", "export",
		                            "import" };
	int bad = cli_check_subcommand("state", sub, subs, sizeof subs / sizeof subs[0]);
	if (bad)
		return bad;
	int merge = !strcmp(sub, "merge"), list = !strcmp(sub, "list"), get = !strcmp(sub, "get");
	if (all && strcmp(sub, "clear"))
		return cli_usage("state", "--all only goes with 'clear'");
	/* an option another subcommand takes would be ignored here: say so rather than do half of what was asked */
	if (pattern && !list)
		return cli_usage("state", "--pattern only goes with 'list'");
	if (format && !list && !get)
		return cli_usage("state", "--format only goes with 'list' and 'get'");
	if (format && list && strcmp(format, "text") && strcmp(format, "json"))
		return cli_usage("state", "'state list --format' takes text or json, not '%s'", format);
	if (format && get && strcmp(format, "json") && strcmp(format, "pretty"))
		return cli_usage("state", "'state get --format' takes json or pretty, not '%s'", format);
	if ((input || no_validate) && strcmp(sub, "set") && !merge)
		return cli_usage("state", "%s only goes with 'set' and 'merge'", input ? "--input-file" : "--no-validate");
	if (from && !merge)
		return cli_usage("state", "--from-state-id only goes with 'merge'");
	if (!strcmp(sub, "clear"))
		return npos + all == 1 ? 0 : cli_usage("state", "'state clear' takes one state id or --all, but not both");
	if (!strcmp(sub, "set") || merge) {
		/* exactly one source of the state, as Meltano's mutually exclusive STATE, --input-file, --from-state-id */
		int sources = (npos == 2) + (input != NULL) + (from != NULL);
		if (npos < 1 || npos > 2 || sources != 1)
			return cli_usage("state", "'state %s' takes a state id and one of: the JSON, --input-file FILE%s", sub,
			                 merge ? ", --from-state-id SRC" : "");
		return 0;
	}
	if (!strcmp(sub, "copy") || !strcmp(sub, "move"))
		return npos == 2 ? 0 : cli_usage("state", "'state %s' takes SRC and DST", sub);
	if (!strcmp(sub, "get") || !strcmp(sub, "edit"))
		return npos == 1 ? 0 : cli_usage("state", "'state %s' takes one state id", sub);
	if (!strcmp(sub, "import"))
		return npos <= 1 ? 0 : cli_usage("state", "'state import' takes at most one file");
	return npos == 0 ? 0 : cli_usage("state", "'state %s' takes no arguments", sub); /* list, export */
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

/*
 * Ask "<prompt> [y/N]: " on stdout and read the answer from stdin, as
 * Meltano's click.confirm does: 1 for y/yes; 0 (exit 1) for n/no or an empty
 * line; end of input prints "Aborted!" and returns 0.
 */
static int confirm(const char *prompt)
{
	char line[64];
	for (;;) {
		printf("%s [y/N]: ", prompt);
		fflush(stdout);
		if (!fgets(line, sizeof line, stdin)) {
			fputs("Aborted!\n", stderr);
			return 0;
		}
		size_t n = strcspn(line, "\r\n");
		line[n] = '\0';
		for (char *c = line; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (!strcmp(line, "y") || !strcmp(line, "yes"))
			return 1;
		if (!*line || !strcmp(line, "n") || !strcmp(line, "no"))
			return 0;
		fputs("Error: invalid input\n", stderr);
	}
}

/*
 * Run $VISUAL or $EDITOR (else vi) on path, split at blanks, without a
 * shell; 0 when it exits 0.
 */
static int run_editor(const char *path, char *err, size_t errlen)
{
	const char *ed = getenv("VISUAL");
	if (!ed || !*ed)
		ed = getenv("EDITOR");
	if (!ed || !*ed)
		ed = "vi";
	char *copy = xstrdup(ed), *save = NULL;
	char *argv[34];
	int n = 0;
	for (char *w = strtok_r(copy, " \t", &save); w && n < 32; w = strtok_r(NULL, " \t", &save))
		argv[n++] = w;
	argv[n++] = (char *)path;
	argv[n] = NULL;
	pid_t pid;
	int status = 0, rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
	if (rc != 0) {
		fail(err, errlen, SMELT_ERR, "cannot run the editor '%s': %s", argv[0], strerror(rc));
		free(copy);
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fail(err, errlen, SMELT_ERR, "the editor '%s' failed", argv[0]);
		free(copy);
		return -1;
	}
	free(copy);
	return 0;
}

/* The saved state of id as {"singer_state": ...}, or {} when there is none; caller frees. */
static cJSON *wrapped_state(struct state_backend *b, const char *id, char *err, size_t errlen, int *rc)
{
	char *json = NULL;
	*rc = state_backend_get(b, id, &json, err, errlen);
	cJSON *w = cJSON_CreateObject();
	if (!*rc && json)
		cJSON_AddItemToObject(w, "singer_state", cJSON_Parse(json));
	free(json);
	return w;
}

/* smelt state edit ID: the state in an editor, saved as a complete state when changed. */
static int state_edit(struct project *p, struct state_backend *b, const char *id)
{
	char err[SMELT_ERRBUF_SIZE * 2];
	int rc;
	cJSON *cur = wrapped_state(b, id, err, sizeof err, &rc);
	if (rc) {
		cJSON_Delete(cur);
		return cli_fail("%s", err);
	}
	if (!cJSON_GetObjectItemCaseSensitive(cur, "singer_state"))
		log_info("no state found for %s: creating a new state", id);
	struct strbuf sb = STRBUF_INIT;
	json_dump(&sb, cur, 2);
	strbuf_addch(&sb, '\n');
	char *path = path_join(p->sys_dir, "state-edit.XXXXXX.json");
	int fd = mkstemps(path, 5), exit_code = EXIT_OK;
	if (fd < 0 || write(fd, sb.buf, sb.len) != (ssize_t)sb.len) {
		exit_code = cli_fail("cannot write '%s': %m", path);
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	strbuf_reset(&sb);
	if (run_editor(path, err, sizeof err) || read_file(path, &sb) != 0) {
		exit_code = cli_fail("%s", *err ? err : "cannot read the edited state");
		goto out;
	}
	const char *t = sb.buf;
	while (isspace((unsigned char)*t))
		t++;
	if (!*t) {
		log_info("empty content provided: no changes made");
		goto out;
	}
	cJSON *edited = cJSON_Parse(t);
	if (edited && cJSON_Compare(edited, cur, 1)) {
		log_info("no changes detected");
		cJSON_Delete(edited);
		goto out;
	}
	cJSON_Delete(edited);
	char *value = singer_state_of(t, 1, err, sizeof err);
	if (!value || state_backend_put(b, id, value, 0, err, sizeof err))
		exit_code = cli_fail("%s", err);
	else
		log_info("state of '%s' set", id);
	free(value);
out:
	if (fd >= 0)
		unlink(path);
	free(path);
	strbuf_release(&sb);
	cJSON_Delete(cur);
	return exit_code;
}

/* smelt state export: {"<id>": {"completed": {"singer_state": ...}, "partial": {}}} on one line. */
static int state_export(struct state_backend *b)
{
	char err[SMELT_ERRBUF_SIZE * 2];
	struct list_ctx c = { .out = STRBUF_INIT };
	if (state_backend_list(b, NULL, list_one, &c, err, sizeof err)) {
		strbuf_release(&c.out);
		return cli_fail("%s", err);
	}
	cJSON *all = cJSON_CreateObject();
	int exit_code = EXIT_OK, rc;
	char *save = NULL;
	for (char *id = strtok_r(c.out.buf, "\n", &save); id; id = strtok_r(NULL, "\n", &save)) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddItemToObject(e, "completed", wrapped_state(b, id, err, sizeof err, &rc));
		cJSON_AddItemToObject(e, "partial", cJSON_CreateObject());
		cJSON_AddItemToObject(all, id, e);
		if (rc) {
			exit_code = cli_fail("%s", err);
			break;
		}
	}
	if (exit_code == EXIT_OK) {
		struct strbuf sb = STRBUF_INIT;
		json_dump(&sb, all, -2);
		printf("%s\n", sb.buf);
		strbuf_release(&sb);
	}
	cJSON_Delete(all);
	strbuf_release(&c.out);
	return exit_code;
}

/* The "singer_state" of a {"singer_state": ...} object as compact JSON, or NULL; caller frees. */
static char *inner_of(const cJSON *o)
{
	const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, "singer_state") : NULL;
	if (!v)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	json_dump(&sb, v, -2);
	return strbuf_detach(&sb);
}

/* smelt state import [FILE|-]: what export printed; each id present is overwritten. */
static int state_import(struct state_backend *b, const char *file)
{
	char err[SMELT_ERRBUF_SIZE * 2];
	struct strbuf sb = STRBUF_INIT;
	int bad = read_file(file && strcmp(file, "-") ? file : "/dev/stdin", &sb);
	if (bad) {
		strbuf_release(&sb);
		return cli_fail("cannot read '%s': %m", file ? file : "-");
	}
	cJSON *all = cJSON_Parse(sb.buf);
	strbuf_release(&sb);
	if (!cJSON_IsObject(all)) {
		int r = all ? cli_usage("state", "import: expected a JSON object") : cli_fail("import: invalid JSON");
		cJSON_Delete(all);
		return r;
	}
	int count = 0, exit_code = EXIT_OK;
	for (const cJSON *e = all->child; e && exit_code == EXIT_OK; e = e->next) {
		char *done = inner_of(cJSON_GetObjectItemCaseSensitive(e, "completed"));
		char *part = inner_of(cJSON_GetObjectItemCaseSensitive(e, "partial"));
		if (state_backend_clear(b, e->string, NULL, err, sizeof err) ||
		    (done && state_backend_put(b, e->string, done, 0, err, sizeof err)) ||
		    (part && state_backend_put(b, e->string, part, 1, err, sizeof err)))
			exit_code = cli_fail("%s", err);
		else
			count++;
		free(done);
		free(part);
	}
	cJSON_Delete(all);
	if (exit_code == EXIT_OK)
		log_info("imported %d state%s", count, count == 1 ? "" : "s");
	return exit_code;
}

int cmd_state(struct cli *cli, int argc, char **argv)
{
	if (argc < 2 || cli_opt_is_help(argv[1])) {
		cli_help_print(argc < 2 ? stderr : stdout, &state_spec);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	const char *sub = argv[1], *pattern = NULL, *format = NULL, *input = NULL, *from = NULL;
	const char *pos[3] = { 0 };
	int npos = 0, all = 0, no_validate = 0, force = 0, rc;
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
		case STATE_FORCE:
			force = 1;
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
	if ((rc = check_args(sub, npos, all, input, from, pattern, format, no_validate)) != 0)
		return rc;
	struct project *p;
	if ((rc = project_open_cli(cli, ENV_IGNORE_DEFAULT, &p)) != 0)
		return rc;
	static const char *const prompts[][2] = {
		{ "set", "This will overwrite the state's current value. Continue?" },
		{ "edit", "This will overwrite the state's current value. Continue?" },
		{ "clear", "This will clear state for the job(s). Continue?" },
		{ "copy", "This will overwrite state for the destination. Continue?" },
		{ "move", "This will clear the source state and overwrite destination state. Continue?" },
	};
	for (size_t k = 0; k < sizeof prompts / sizeof prompts[0]; k++)
		if (!strcmp(sub, prompts[k][0]) && !force && !confirm(prompts[k][1])) {
			project_free(p);
			return EXIT_FAIL;
		}
	char err[SMELT_ERRBUF_SIZE * 2];
	struct store *st = NULL;
	char *dbpath = path_join(p->sys_dir, "smelt.db");
	int exit_code = EXIT_OK;
	struct state_backend *backend = NULL; /* get/set/merge go through state_backend.uri */
	if (settings_open_store(p, &st, err, sizeof err) ||
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
		if (state_backend_get(backend, pos[0], &json, err, sizeof err))
			exit_code = cli_fail("%s", err);
		else if (!json)
			puts("{}"); /* as Meltano: an unknown id has an empty state */
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
		if (from) {
			if (state_backend_get(backend, from, &value, err, sizeof err)) {
				exit_code = cli_fail("%s", err); /* the read failed: say why, not that there is nothing */
				goto out;
			}
			if (!value) {
				exit_code = cli_fail("no state with id '%s'", from);
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
		int count = 0, found = 0;
		if (all) {
			if (state_backend_clear_all(backend, &count, err, sizeof err))
				exit_code = cli_fail("%s", err);
			else
				log_info("cleared %d state%s", count, count == 1 ? "" : "s");
		} else if (state_backend_clear(backend, pos[0], &found, err, sizeof err)) {
			exit_code = cli_fail("%s", err);
		} else if (found) {
			log_info("state of '%s' cleared", pos[0]);
		} else {
			/* as Meltano, not an error (a script may clear what may not be there), but a mistyped id is named */
			log_warn("no state with id '%s': nothing cleared", pos[0]);
		}
	} else if (!strcmp(sub, "copy") || !strcmp(sub, "move")) {
		int move = !strcmp(sub, "move");
		if (state_backend_copy(backend, pos[0], pos[1], move, err, sizeof err))
			exit_code = cli_fail("%s", err);
		else if (move)
			log_info("state of '%s' moved to '%s'", pos[0], pos[1]);
		else
			log_info("state of '%s' copied from '%s'", pos[1], pos[0]);
	} else if (!strcmp(sub, "edit")) {
		exit_code = state_edit(p, backend, pos[0]);
	} else if (!strcmp(sub, "export")) {
		exit_code = state_export(backend);
	} else {
		exit_code = state_import(backend, npos ? pos[0] : NULL);
	}
out:
	state_backend_close(backend);
	store_close(st);
	free(dbpath);
	project_free(p);
	return exit_code;
}
