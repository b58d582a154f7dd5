/*
 * smelt run BLOCK... : run EL blocks and command blocks in order (jobs
 * expand first); the first failure stops the run (exit 1).  Each EL block
 * holds the lock of its state id in the system database for its duration,
 * with a heartbeat, so a second run of the same pipeline is refused.
 * This file parses the options and prints the summary; run/execute.c runs.
 */
#include "cli/commands.h"
#include "project/project.h"
#include "run/blocks.h"
#include "run/execute.h"
#include "run/proc.h"
#include "run/runtime.h"
#include "util/json.h"
#include "util/log.h"
#include "util/names.h"
#include "util/strbuf.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

enum run_opt {
	RUN_FULL_REFRESH, RUN_REFRESH_CATALOG, RUN_NO_STATE_UPDATE, RUN_SUFFIX, RUN_STRATEGY, RUN_MERGE_STATE,
	RUN_FORCE, RUN_DRY_RUN, RUN_RUN_ID, RUN_TIMEOUT, RUN_NO_INSTALL, RUN_INSTALL, RUN_QUIET, RUN_VERBOSE,
	RUN_STATE_ID,
};

static const struct cli_option run_options[] = {
	{ RUN_FULL_REFRESH, "--full-refresh", 0, NULL, "ignore saved state (new state is saved as partial)", 0, NULL },
	{ RUN_REFRESH_CATALOG, "--refresh-catalog", 0, NULL, "ignore the cached catalog", 0, NULL },
	{ RUN_NO_STATE_UPDATE, "--no-state-update", 0, NULL, "neither read nor write state, take no lock", 0, NULL },
	{ RUN_SUFFIX, "--state-id-suffix", 0, "S", "append ':S' to state ids (overrides the environment's)", 0, NULL },
	{ RUN_STATE_ID, "--state-id", 0, "ID", "the state id of the run's one extract/load block (as Meltano's elt)", 0, NULL },
	{ RUN_STRATEGY, "--state-strategy", 0, "S", "auto, merge or overwrite", 0, NULL },
	{ RUN_MERGE_STATE, "--merge-state", 0, NULL, "the same as --state-strategy merge", 0, NULL },
	{ RUN_FORCE, "--force", 'f', NULL, "run even when the same pipeline is already running", 0, NULL },
	{ RUN_DRY_RUN, "--dry-run", 0, NULL, "parse and validate, run nothing", 0, NULL },
	{ RUN_RUN_ID, "--run-id", 0, "ID", "the run's id (default: a new UUID; see below)", 0, NULL },
	{ RUN_TIMEOUT, "--timeout", 0, "SECS", "stop the run after SECS seconds (exit 1)", 0, NULL },
	{ RUN_NO_INSTALL, "--no-install", 0, NULL, "do not install missing plugins first", 0, NULL },
	{ RUN_INSTALL, "--install", 0, NULL, "install missing plugins first (the default)", 0, NULL },
	{ RUN_QUIET, "--quiet", 'q', NULL, "print only errors and the run's final line", 0, NULL },
	{ RUN_VERBOSE, "--verbose", 'v', NULL, "also print the tools' own log lines", 0, NULL },
	{ 0 },
};

const struct cli_spec run_spec = {
	.name = "run",
	.usage = "smelt run [OPTIONS] BLOCK...",
	.text = "Blocks: 'EXTRACTOR [MAPPING...] LOADER' moves data; 'PLUGIN:COMMAND' runs a command\n"
	        "(dbt-sqlite:run, gx:validate); a job name expands into its tasks.  Options go\n"
	        "before the blocks.\n",
	.options = run_options,
	.notes = "A run id is a UUID, or up to 64 letters, digits, '.', '_' and '-' starting with a\n"
	         "letter or a digit; not one used before in this project.  $SMELT_RUN_FULL_REFRESH\n"
	         "and $SMELT_RUN_STATE_STRATEGY (or Meltano's MELTANO_RUN_*) set the defaults.\n\n"
	         "Output: one progress line per extract/load block, the tools' failures as they\n"
	         "come, then a table of the blocks (rows per stream, models, checks, time) and\n"
	         "the run's final line; an error comes last.  Everything is in the run log\n"
	         "(.smelt/logs/RUN_ID/run.log); --log-format json prints one object per line.\n\n"
	         "The run log keeps at most $SMELT_RUN_LOG_MAX_BYTES bytes (default 64 MiB, 0: no\n"
	         "cap) with run.log.1.  A plugin output line longer than 50 MiB ($SMELT_ELT_BUFFER_SIZE\n"
	         "or $MELTANO_ELT_BUFFER_SIZE / 2) fails the run (\"output line length limit exceeded\").\n",
	.examples = "  smelt run tap-csv target-sqlite                  extract and load\n"
	            "  smelt run tap-csv target-sqlite dbt-sqlite:build  then build the dbt models\n"
	            "  smelt run --full-refresh daily                   a job, ignoring saved state\n"
	            "  smelt run -q daily                               for cron: errors and one line\n",
};






/*
 * The end of a run: one table of the blocks (what each did, in one
 * phrase from its events), then one line for the whole run.  With
 * --quiet only that line; in JSON log format each row is one event.
 */
static void print_summary(struct runtime *rt, const struct block_list *bl, const double *secs, size_t done, int rc,
                          double total_s)
{
	const char *failed = execute_cancelled(rc) ? "cancelled" : "failed"; /* a stopped run is not a broken one */
	size_t width = 5;
	for (size_t i = 0; i < bl->n; i++)
		if (strlen(bl->items[i].text) > width)
			width = strlen(bl->items[i].text);
	if (width > 40)
		width = 40;
	if (log_get_format() == LOG_FORMAT_JSON) { /* the same facts as data: one event per block, one for the run */
		for (size_t i = 0; i < bl->n; i++) {
			struct strbuf res = STRBUF_INIT;
			cJSON *f = cJSON_CreateObject();
			runtime_block_result(rt, i + 1, &res);
			cJSON_AddStringToObject(f, "block", bl->items[i].text);
			cJSON_AddStringToObject(f, "status", i < done ? "ok" : i == done && rc ? failed : "not run");
			if (i < done || (i == done && rc))
				cJSON_AddNumberToObject(f, "seconds", (double)(long long)(secs[i] * 1000) / 1000);
			cJSON_AddStringToObject(f, "result", res.buf);
			log_event_fields(0, "block summary", f);
			cJSON_Delete(f);
			strbuf_release(&res);
		}
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "run_id", rt->run_id);
		cJSON_AddStringToObject(f, "status", rc ? failed : "succeeded");
		cJSON_AddNumberToObject(f, "blocks", (double)bl->n);
		cJSON_AddNumberToObject(f, "blocks_succeeded", (double)(rc ? done : bl->n));
		cJSON_AddNumberToObject(f, "seconds", (double)(long long)(total_s * 1000) / 1000);
		log_event_fields(1, "run summary", f);
		cJSON_Delete(f);
		return;
	}
	if (log_get_verbosity() != LOG_QUIET) {
		int sw = (int)strlen(failed) > 7 ? (int)strlen(failed) : 7;
		log_say(" %-*s  %-*s  %7s  %s", (int)width, "BLOCK", sw, "STATUS", "TIME", "RESULT");
		for (size_t i = 0; i < bl->n; i++) {
			struct strbuf res = STRBUF_INIT;
			const char *status = i < done ? "ok" : i == done && rc ? failed : "not run";
			char t[32] = "-";
			if (i <= done && i < bl->n && (i < done || rc))
				snprintf(t, sizeof t, "%.1f s", secs[i]);
			runtime_block_result(rt, i + 1, &res);
			log_say(" %-*s  %-*s  %7s  %s", (int)width, bl->items[i].text, sw, status, t, res.len ? res.buf : "-");
			strbuf_release(&res);
		}
	}
	log_say_final("Run %s %s: %zu of %zu block%s in %.1f s", rt->run_id, rc ? failed : "succeeded", rc ? done : bl->n,
	        bl->n, bl->n == 1 ? "" : "s", total_s);
}

/*
 * Options may come before, between or after the blocks, as Meltano's: the
 * block words are moved to argv[1..] and *argc becomes 1 + their count.
 */
static int parse_opts(int *argc_io, char **argv, struct run_opts *o, int *first)
{
	const char *v;
	int i, argc = *argc_io, nwords = 0;
	const char *env;
	o->strategy = "auto";
	/* Meltano's MELTANO_RUN_* variables, and their SMELT_RUN_* twins */
	if (((env = getenv("SMELT_RUN_FULL_REFRESH")) || (env = getenv("MELTANO_RUN_FULL_REFRESH"))) && strcmp(env, "0") && strcasecmp(env, "false"))
		o->flags |= SMELT_RQ_FULL_REFRESH;
	if ((env = getenv("SMELT_RUN_STATE_STRATEGY")) || (env = getenv("MELTANO_RUN_STATE_STRATEGY")))
		o->strategy = env;
	for (i = 1; i < argc; i++) {
		char err[SMELT_ERRBUF_SIZE], *end;
		long t;
		switch (cli_opt_next(&run_spec, NULL, argc, argv, &i, &v)) {
		case CLI_OPT_ARG:
			argv[1 + nwords++] = argv[i];
			break;
		case CLI_OPT_HELP:
			cli_help_print(stdout, &run_spec);
			return -1;
		case RUN_FULL_REFRESH:
			o->flags |= SMELT_RQ_FULL_REFRESH;
			break;
		case RUN_REFRESH_CATALOG:
			o->flags |= SMELT_RQ_REFRESH_CATALOG;
			break;
		case RUN_NO_STATE_UPDATE:
			o->flags |= SMELT_RQ_NO_STATE_UPDATE;
			break;
		case RUN_DRY_RUN:
			o->flags |= SMELT_RQ_DRY_RUN;
			break;
		case RUN_NO_INSTALL:
			o->flags |= SMELT_RQ_NO_INSTALL;
			break;
		case RUN_INSTALL:
			o->flags &= ~(unsigned)SMELT_RQ_NO_INSTALL;
			break;
		case RUN_FORCE:
			o->force = 1;
			break;
		case RUN_MERGE_STATE:
			o->strategy = "merge";
			break;
		case RUN_QUIET:
			log_set_verbosity(LOG_QUIET);
			break;
		case RUN_VERBOSE:
			log_set_verbosity(LOG_VERBOSE);
			break;
		case RUN_SUFFIX:
			o->suffix = v;
			break;
		case RUN_STRATEGY:
			o->strategy = v;
			break;
		case RUN_STATE_ID:
			o->state_id = v;
			break;
		case RUN_RUN_ID:
			o->run_id = v;
			if (name_check_run_id(o->run_id, err, sizeof err))
				return cli_usage("run", "--run-id: %s", err);
			break;
		case RUN_TIMEOUT:
			t = strtol(v, &end, 10);
			if (*end || t < 1)
				return cli_usage("run", "--timeout needs a whole number of seconds >= 1, not '%s'", v);
			o->timeout_s = (int)t;
			break;
		case CLI_OPT_ERROR:
			return EXIT_USAGE;
		default:
			return cli_opt_unknown(&run_spec, NULL, argv[i]);
		}
	}
	if (strcmp(o->strategy, "auto") && strcmp(o->strategy, "merge") && strcmp(o->strategy, "overwrite"))
		return cli_usage("run", "--state-strategy must be auto, merge or overwrite, not '%s'", o->strategy);
	*first = 1;
	*argc_io = 1 + nwords;
	return 0;
}


/* smelt run, with typed: its words as typed (the record's args; argv's order is changed by parse_opts()). */
static int run_command(struct cli *cli, int argc, char **argv, char *const *typed, size_t ntyped)
{
	struct run_opts o = { .args = typed, .nargs = ntyped };
	int first = 1, rc = parse_opts(&argc, argv, &o, &first);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;

	struct project *p;
	if ((rc = project_open_cli(cli, ENV_REQUIRED, &p)) != 0)
		return rc;
	char err[SMELT_ERRBUF_SIZE * 4];
	struct block_list bl;
	if (blocks_parse(p, argv + first, (size_t)(argc - first), &bl, err, sizeof err)) {
		project_free(p);
		return cli_fail("%s", err);
	}
	if (!bl.n) {
		log_info("No valid blocks found.");
		blocks_release(&bl);
		project_free(p);
		return EXIT_OK;
	}

	struct runtime rt;
	log_hold_plugin_info(1); /* the tools' info lines go to the run log; the table says what they did */
	runtime_init_lazy(&rt, &cli->paths, p); /* only the adapters the blocks need are loaded */
	o.words = argv + first;
	o.nwords = (size_t)(argc - first);
	if (execute_begin(&rt, &bl, &o, err, sizeof err) != 0) {
		runtime_release(&rt);
		blocks_release(&bl);
		project_free(p);
		return cli_fail("%s", err);
	}
	size_t done = 0;
	double total_s = 0, *secs = xcalloc(bl.n, sizeof *secs);
	rc = execute_blocks(&rt, &bl, &o, secs, &done, &total_s, err, sizeof err);
	int exit_code = execute_exit_code(rc);
	execute_record_end(&rt, &o, rc, exit_code, err);
	if (!(o.flags & SMELT_RQ_DRY_RUN))
		print_summary(&rt, &bl, secs, done, rc, total_s);
	if (rc) {
		/* the tools' output, when the failed block ran any tool (not for a setting that stopped it first) */
		char *log = rt.run_log_dir && rt.block_procs ? xasprintf("%s/run.log", rt.run_log_dir) : NULL;
		size_t rl = strlen(p->root);
		char *shown = log && !strncmp(log, p->root, rl) && log[rl] == '/' ? xstrdup(log + rl + 1)
		              : log ? xstrdup(log) : NULL;
		log_error("block %zu/%zu '%s' %s: %s%s%s%s", done + 1, bl.n, bl.items[done].text,
		          execute_cancelled(rc) ? "cancelled" : "failed", err,
		          shown ? "; the tools' output is in " : "", shown ? shown : "",
		          shown && log_get_verbosity() != LOG_VERBOSE ? " (or run again with --verbose)" : "");
		free(shown);
		free(log);
	}
	free(secs);
	execute_end(&rt);
	runtime_release(&rt);
	blocks_release(&bl);
	project_free(p);
	return exit_code;
}

int cmd_run(struct cli *cli, int argc, char **argv)
{
	/* the run id is recorded as such: `--run-id X` (how smelt serve starts a run) is left out of the args */
	char **typed = xcalloc(argc > 0 ? (size_t)argc : 1, sizeof *typed);
	size_t ntyped = 0;
	for (int k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--run-id") && k + 1 < argc) {
			k++;
			continue;
		}
		if (!strncmp(argv[k], "--run-id=", 9))
			continue;
		typed[ntyped++] = argv[k];
	}
	int rc = run_command(cli, argc, argv, typed, ntyped);
	free(typed);
	return rc;
}
