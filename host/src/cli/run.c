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

static const char run_usage[] =
	"usage: smelt run [OPTIONS] BLOCK...\n\n"
	"Blocks: 'EXTRACTOR [MAPPING...] LOADER' moves data; 'PLUGIN:COMMAND' runs a command\n"
	"(dbt-sqlite:run, gx:validate); a job name expands into its tasks.\n\n"
	"Options:\n"
	"  --full-refresh          ignore saved state (new state is saved as partial)\n"
	"  --refresh-catalog       ignore the cached catalog\n"
	"  --no-state-update       neither read nor write state, take no lock\n"
	"  --state-id-suffix S     append ':S' to state ids (overrides the environment's)\n"
	"  --state-strategy S      auto, merge or overwrite\n"
	"  --force                 run even when the same pipeline is already running\n"
	"  --dry-run               parse and validate, run nothing\n"
	"  --run-id ID             the run's id (default: a new UUID): a UUID, or up to 64\n"
	"                          letters, digits, '.', '_' and '-' starting with a letter\n"
	"                          or a digit; not one used before in this project\n"
	"  --timeout SECS          stop the run after SECS seconds (exit 1)\n"
	"  --no-install            do not install missing plugins first\n"
	"  -q, --quiet             print only errors and the run's final line\n"
	"  -v, --verbose           also print the tools' own log lines\n\n"
	"Output: one progress line per extract/load block, the tools' failures as they\n"
	"come, then a table of the blocks (rows per stream, models, checks, time) and\n"
	"the run's final line; an error comes last.  Everything is in the run log\n"
	"(.smelt/logs/RUN_ID/run.log); --log-format json prints one object per line.\n\n"
	"The run log keeps at most $SMELT_RUN_LOG_MAX_BYTES bytes (default 64 MiB, 0: no\n"
	"cap) with run.log.1.  A plugin output line longer than 50 MiB ($SMELT_ELT_BUFFER_SIZE\n"
	"or $MELTANO_ELT_BUFFER_SIZE / 2) fails the run (\"output line length limit exceeded\").\n";






/*
 * The end of a run: one table of the blocks (what each did, in one
 * phrase from its events), then one line for the whole run.  With
 * --quiet only that line; in JSON log format each row is one event.
 */
static void print_summary(struct runtime *rt, const struct block_list *bl, const double *secs, size_t done, int rc,
                          double total_s)
{
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
			cJSON_AddStringToObject(f, "status", i < done ? "ok" : i == done && rc ? "failed" : "not run");
			if (i < done || (i == done && rc))
				cJSON_AddNumberToObject(f, "seconds", (double)(long long)(secs[i] * 1000) / 1000);
			cJSON_AddStringToObject(f, "result", res.buf);
			log_event_fields(0, "block summary", f);
			cJSON_Delete(f);
			strbuf_release(&res);
		}
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "run_id", rt->run_id);
		cJSON_AddStringToObject(f, "status", rc ? "failed" : "succeeded");
		cJSON_AddNumberToObject(f, "blocks", (double)bl->n);
		cJSON_AddNumberToObject(f, "blocks_succeeded", (double)(rc ? done : bl->n));
		cJSON_AddNumberToObject(f, "seconds", (double)(long long)(total_s * 1000) / 1000);
		log_event_fields(1, "run summary", f);
		cJSON_Delete(f);
		return;
	}
	if (log_get_verbosity() != LOG_QUIET) {
		log_say(" %-*s  %-7s  %7s  %s", (int)width, "BLOCK", "STATUS", "TIME", "RESULT");
		for (size_t i = 0; i < bl->n; i++) {
			struct strbuf res = STRBUF_INIT;
			const char *status = i < done ? "ok" : i == done && rc ? "failed" : "not run";
			char t[32] = "-";
			if (i <= done && i < bl->n && (i < done || rc))
				snprintf(t, sizeof t, "%.1f s", secs[i]);
			runtime_block_result(rt, i + 1, &res);
			log_say(" %-*s  %-7s  %7s  %s", (int)width, bl->items[i].text, status, t, res.len ? res.buf : "-");
			strbuf_release(&res);
		}
	}
	log_say_final("Run %s %s: %zu of %zu block%s in %.1f s", rt->run_id, rc ? "failed" : "succeeded", rc ? done : bl->n,
	        bl->n, bl->n == 1 ? "" : "s", total_s);
}

static int parse_opts(int argc, char **argv, struct run_opts *o, int *first)
{
	const char *v;
	int i, r;
	const char *env;
	o->strategy = "auto";
	/* Meltano's MELTANO_RUN_* variables, and their SMELT_RUN_* twins */
	if (((env = getenv("SMELT_RUN_FULL_REFRESH")) || (env = getenv("MELTANO_RUN_FULL_REFRESH"))) && strcmp(env, "0") && strcasecmp(env, "false"))
		o->flags |= SMELT_RQ_FULL_REFRESH;
	if ((env = getenv("SMELT_RUN_STATE_STRATEGY")) || (env = getenv("MELTANO_RUN_STATE_STRATEGY")))
		o->strategy = env;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (cli_is_help(argv[i])) {
			fputs(run_usage, stdout);
			return -1;
		}
		if (cli_opt_flag(argv[i], "--full-refresh"))
			o->flags |= SMELT_RQ_FULL_REFRESH;
		else if (cli_opt_flag(argv[i], "--refresh-catalog"))
			o->flags |= SMELT_RQ_REFRESH_CATALOG;
		else if (cli_opt_flag(argv[i], "--no-state-update"))
			o->flags |= SMELT_RQ_NO_STATE_UPDATE;
		else if (cli_opt_flag(argv[i], "--dry-run"))
			o->flags |= SMELT_RQ_DRY_RUN;
		else if (cli_opt_flag(argv[i], "--no-install"))
			o->flags |= SMELT_RQ_NO_INSTALL;
		else if (cli_opt_flag(argv[i], "--install"))
			o->flags &= ~(unsigned)SMELT_RQ_NO_INSTALL;
		else if (cli_opt_flag(argv[i], "--force") || cli_opt_flag(argv[i], "-f"))
			o->force = 1;
		else if (cli_opt_flag(argv[i], "--merge-state"))
			o->strategy = "merge";
		else if (cli_opt_flag(argv[i], "--quiet") || cli_opt_flag(argv[i], "-q"))
			log_set_verbosity(LOG_QUIET);
		else if (cli_opt_flag(argv[i], "--verbose") || cli_opt_flag(argv[i], "-v"))
			log_set_verbosity(LOG_VERBOSE);
		else if ((r = cli_opt_value(argc, argv, &i, "--state-id-suffix", &o->suffix)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
		} else if ((r = cli_opt_value(argc, argv, &i, "--state-strategy", &o->strategy)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
		} else if ((r = cli_opt_value(argc, argv, &i, "--run-id", &o->run_id)) != 0) {
			char err[SMELT_ERRBUF_SIZE];
			if (r < 0)
				return EXIT_USAGE;
			if (name_check_run_id(o->run_id, err, sizeof err))
				return cli_usage("run", "--run-id: %s", err);
		} else if ((r = cli_opt_value(argc, argv, &i, "--timeout", &v)) != 0) {
			char *end;
			if (r < 0)
				return EXIT_USAGE;
			long t = strtol(v, &end, 10);
			if (*end || t < 1)
				return cli_usage("run", "--timeout needs a whole number of seconds >= 1, not '%s'", v);
			o->timeout_s = (int)t;
		} else {
			return cli_unknown_option("run", argv[i]);
		}
	}
	if (strcmp(o->strategy, "auto") && strcmp(o->strategy, "merge") && strcmp(o->strategy, "overwrite"))
		return cli_usage("run", "--state-strategy must be auto, merge or overwrite, not '%s'", o->strategy);
	*first = i;
	return 0;
}


int cmd_run(struct cli *cli, int argc, char **argv)
{
	struct run_opts o = { 0 };
	int first = 1, rc = parse_opts(argc, argv, &o, &first);
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
	runtime_init(&rt, &cli->paths, p);
	if (execute_begin(&rt, &bl, &o, err, sizeof err) != 0) {
		runtime_release(&rt);
		blocks_release(&bl);
		project_free(p);
		return cli_fail("%s", err);
	}
	size_t done = 0;
	double total_s = 0, *secs = xcalloc(bl.n, sizeof *secs);
	rc = execute_blocks(&rt, &bl, &o, secs, &done, &total_s, err, sizeof err);
	int exit_code = EXIT_OK;
	if (rc) {
		exit_code = rc == SMELT_ERR_UNSUPPORTED ? EXIT_USAGE : EXIT_FAIL;
		if (rc == SMELT_ERR_INTERRUPTED && (proc_last_signal() == SIGTERM || proc_last_signal() == SIGHUP))
			exit_code = 128 + proc_last_signal();
		else if (rc == SMELT_ERR_INTERRUPTED && proc_last_signal() == SIGINT)
			exit_code = 130; /* 128 + SIGINT, as a shell reports Ctrl-C */
	}
	if (!(o.flags & SMELT_RQ_DRY_RUN))
		print_summary(&rt, &bl, secs, done, rc, total_s);
	if (rc) {
		char *log = rt.run_log_dir ? xasprintf("%s/run.log", rt.run_log_dir) : NULL;
		size_t rl = strlen(p->root);
		char *shown = log && !strncmp(log, p->root, rl) && log[rl] == '/' ? xstrdup(log + rl + 1)
		              : log ? xstrdup(log) : NULL;
		log_error("block %zu/%zu '%s' failed: %s%s%s%s", done + 1, bl.n, bl.items[done].text, err,
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
