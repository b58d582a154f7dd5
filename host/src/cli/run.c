/*
 * smelt run BLOCK... : run EL blocks and command blocks in order (jobs
 * expand first); the first failure stops the run (exit 1).  Each EL block
 * holds the lock of its state id in the system database for its duration,
 * with a heartbeat, so a second run of the same pipeline is refused.
 */
#include "cli/commands.h"
#include "project/project.h"
#include "run/blocks.h"
#include "run/history.h"
#include "run/proc.h"
#include "run/runtime.h"
#include "settings/settings.h"
#include "util/argv.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/names.h"
#include "util/strbuf.h"
#include "util/uuid.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

#define RUN_LOG_MAX_BYTES (64LL * 1024 * 1024) /* run.log + run.log.1; see log_open_file_capped() */

struct run_opts {
	unsigned flags;           /* enum smelt_request_flags */
	const char *suffix;       /* --state-id-suffix */
	const char *strategy;     /* auto, merge, overwrite */
	int force;
	int timeout_s;
	const char *run_id;
};

static long long monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* <env>:<tap>-to-<target>[:suffix]; NULL with err set when a part holds ':'. */
static char *state_id_for(struct project *p, const struct block *b, const char *suffix, char *err, size_t errlen)
{
	const char *env = p->active ? p->active->name : NULL;
	const char *tap = b->plugins[0]->name, *target = b->plugins[b->nplugins - 1]->name;
	if (!suffix && p->active)
		suffix = p->active->state_id_suffix;
	if ((env && strchr(env, ':')) || strchr(tap, ':') || strchr(target, ':') || (suffix && strchr(suffix, ':'))) {
		fail(err, errlen, SMELT_ERR_CONFIG,
		     "Cannot generate a state ID from components containing the delimiter string ':'");
		return NULL;
	}
	struct strbuf sb = STRBUF_INIT;
	if (env && *env)
		strbuf_addf(&sb, "%s:", env);
	strbuf_addf(&sb, "%s-to-%s", tap, target);
	if (suffix && *suffix)
		strbuf_addf(&sb, ":%s", suffix);
	return strbuf_detach(&sb);
}

/*
 * An EL block's plugins see each other's information variables, as in
 * Meltano's ELT context: a loader's `default_target_schema:
 * $MELTANO_EXTRACT__LOAD_SCHEMA` expands to the extractor's load schema.
 * They are put in smelt's own environment for the block (every plugin
 * environment and every expansion starts from it) and taken out after.
 */
static char **el_context_enter(struct runtime *rt, const struct block *b)
{
	static const char *const prefixes[] = { "MELTANO_EXTRACT", "MELTANO_LOAD", "MELTANO_MAP",
	                                        "SMELT_EXTRACT", "SMELT_LOAD", "SMELT_MAP" };
	char **names = xcalloc(1, sizeof *names);
	size_t n = 0;
	for (size_t i = 0; i < b->nplugins; i++) {
		struct envlist env = ENVLIST_INIT;
		char err[SMELT_ERRBUF_SIZE];
		if (settings_plugin_env(rt->project, b->plugins[i], NULL, &env, err, sizeof err) != 0) {
			envlist_release(&env);
			continue;
		}
		for (size_t v = 0; v < env.n; v++) {
			const char *eq = strchr(env.vars[v], '=');
			int match = 0;
			for (size_t k = 0; eq && k < sizeof prefixes / sizeof prefixes[0]; k++)
				match |= !strncmp(env.vars[v], prefixes[k], strlen(prefixes[k]));
			if (!match)
				continue;
			char *name = xstrndup(env.vars[v], (size_t)(eq - env.vars[v]));
			if (getenv(name)) { /* the user's own value wins */
				free(name);
				continue;
			}
			setenv(name, eq + 1, 1);
			names = xrealloc(names, (n + 2) * sizeof *names);
			names[n++] = name;
			names[n] = NULL;
		}
		envlist_release(&env);
	}
	return names;
}

static void el_context_leave(char **names)
{
	for (char **v = names; v && *v; v++)
		unsetenv(*v);
	argv_free(names);
}

static int run_block(struct runtime *rt, struct block *b, const struct run_opts *o, size_t index, size_t total,
                     double *secs_out, char *err, size_t errlen)
{
	struct loaded_adapter *a = runtime_adapter_for(rt, b->plugins[0], err, errlen);
	if (!a)
		return SMELT_ERR_NOTFOUND;
	if (b->kind == BLOCK_EL)
		for (size_t i = 1; i < b->nplugins; i++) {
			struct loaded_adapter *other = runtime_adapter_for(rt, b->plugins[i], err, errlen);
			if (!other)
				return SMELT_ERR_NOTFOUND;
			if (other != a)
				return fail(err, errlen, SMELT_ERR_CONFIG,
				            "block '%s' mixes adapters '%s' and '%s'; an EL block needs one adapter",
				            b->text, a->desc->name, other->desc->name);
		}
	if (o->flags & SMELT_RQ_DRY_RUN) {
		log_info("Dry run, but would have run block %zu/%zu: %s (adapter '%s').", index + 1, total, b->text,
		         a->desc->name);
		return SMELT_OK;
	}
	if (!a->desc->run_block)
		return fail(err, errlen, SMELT_ERR_UNSUPPORTED, "adapter '%s': run_block: not implemented yet",
		            a->desc->name);

	char *state_id = NULL;
	struct store *st = NULL;
	unsigned flags = o->flags;
	/* Never cut: a run id holds no ':' (name_check_run_id()), so "<run id>:<n>" is unique per run. */
	char *block_run_id = xasprintf("%s:%zu", rt->run_id, index + 1);
	if (b->kind == BLOCK_EL && !(flags & SMELT_RQ_NO_STATE_UPDATE)) {
		if (!rt->project->active) {
			log_warn("no environment is active: the run is stateless");
		} else if (!(state_id = state_id_for(rt->project, b, o->suffix, err, errlen))) {
			free(block_run_id);
			return SMELT_ERR_CONFIG;
		}
		if (state_id) {
			if (!(st = runtime_store(rt, err, errlen))) {
				free(state_id);
				return SMELT_ERR;
			}
			struct proc_owner me; /* so the next run can tell at once when this one's process is gone */
			int known = proc_owner_self(&me) == SMELT_OK;
			if (store_run_begin(st, block_run_id, state_id, b->text, o->force, known ? &me : NULL, err, errlen)) {
				free(state_id);
				free(block_run_id);
				return SMELT_ERR;
			}
			rt->heartbeat_run_id = block_run_id;
		}
		if (!strcmp(o->strategy, "merge") || (!strcmp(o->strategy, "auto") && (flags & SMELT_RQ_FULL_REFRESH)))
			flags |= SMELT_RQ_STATE_PARTIAL;
	}
	struct smelt_request req = {
		.struct_size = sizeof req,
		.kind = b->kind == BLOCK_EL ? SMELT_REQ_EL : SMELT_REQ_COMMAND,
		.plugins = (const struct smelt_plugin *const *)b->plugins,
		.nplugins = b->nplugins,
		.mappings = b->mappings,
		.command = b->command,
		.state_id = state_id,
		.run_id = rt->run_id,
		.flags = flags,
		.timeout_s = o->timeout_s,
	};
	log_debug("block %zu/%zu: %s", index + 1, total, b->text);
	long long t0 = monotonic_ms();
	char aerr[SMELT_ERRBUF_SIZE * 4] = "";
	char **context = b->kind == BLOCK_EL ? el_context_enter(rt, b) : NULL;
	/* a command block's live line; an EL block draws its own progress */
	char *label = b->kind == BLOCK_COMMAND ? xasprintf("[%zu/%zu] %s", index + 1, total, b->text) : NULL;
	rt->block = index + 1;
	rt->status_label = label;
	rt->status_t0 = t0;
	log_held_clear();
	int rc = a->desc->run_block(a->state, &req, aerr, sizeof aerr);
	rt->status_label = NULL;
	log_status(NULL);
	free(label);
	el_context_leave(context);
	double secs = (double)(monotonic_ms() - t0) / 1000.0;
	*secs_out = secs;
	if (rc != SMELT_OK) {
		fail(err, errlen, rc, "%s", aerr[0] ? aerr : smelt_strerror(rc));
		/* what the tools said last, before the summary and the error; not when the failing results are shown */
		if (runtime_block_failures(rt, index + 1))
			log_held_clear();
		else
			log_held_flush();
	}
	log_debug("Block run completed: %s, success=%s, duration_seconds=%.3f", b->text, rc ? "false" : "true", secs);
	if (st && state_id) {
		char derr[SMELT_ERRBUF_SIZE];
		if (store_run_end(st, block_run_id, rc ? RUN_FAILED : RUN_SUCCESS, rc ? err : NULL, NULL, derr, sizeof derr))
			log_error("%s", derr);
		rt->heartbeat_run_id = NULL;
	}
	free(state_id);
	free(block_run_id);
	return rc;
}

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

/*
 * .smelt/logs/<run id>/ beneath the system folder (no link followed), made
 * anew for each run: an existing one means a reused --run-id, refused
 * before any block records a run under it.  Opens run.log there.
 */
static int make_log_dir(struct runtime *rt, char *err, size_t errlen)
{
	const char *sys = rt->project->sys_dir;
	int fd = -1;
	if (mkdir_private(sys) != 0 || fs_mkdirs_under(sys, "logs", 0700) != 0 ||
	    (fd = fs_open_under(sys, "logs", O_PATH | O_DIRECTORY, 0)) < 0)
		return fail(err, errlen, SMELT_ERR, "cannot create '%s/logs': %s", sys, fs_beneath_strerror(errno));
	int made = mkdirat(fd, rt->run_id, 0700);
	int e = errno;
	close(fd);
	if (made != 0 && e == EEXIST)
		return fail(err, errlen, SMELT_ERR_CONFIG, "run id '%s' was used before ('%s/logs/%s' exists); give a new one",
		            rt->run_id, sys, rt->run_id);
	if (made != 0)
		return fail(err, errlen, SMELT_ERR, "cannot create '%s/logs/%s': %s", sys, rt->run_id, strerror(e));
	rt->run_log_dir = xasprintf("%s/logs/%s", sys, rt->run_id);
	char *log = path_join(rt->run_log_dir, "run.log");
	const char *max = getenv("SMELT_RUN_LOG_MAX_BYTES");
	char *end = NULL;
	long long cap = max ? strtoll(max, &end, 10) : RUN_LOG_MAX_BYTES;
	if (max && (!*max || *end || cap < 0)) {
		log_warn("SMELT_RUN_LOG_MAX_BYTES must be a number of bytes (0: no cap), not '%s'; using %lld", max,
		         RUN_LOG_MAX_BYTES);
		cap = RUN_LOG_MAX_BYTES;
	}
	log_open_file_capped(log, cap);
	free(log);
	return SMELT_OK;
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
	char uuid[37];
	log_hold_plugin_info(1); /* the tools' info lines go to the run log; the table says what they did */
	runtime_init(&rt, cli, p);
	if (!o.run_id) {
		uuid4(uuid);
		o.run_id = uuid;
	}
	rt.run_id = xstrdup(o.run_id);
	rt.check_required = 1;
	rt.timeout_s = o.timeout_s;
	if (o.timeout_s)
		rt.deadline_ms = monotonic_ms() + (long long)o.timeout_s * 1000;
	if (!(o.flags & SMELT_RQ_DRY_RUN) && make_log_dir(&rt, err, sizeof err) != 0) {
		runtime_release(&rt);
		blocks_release(&bl);
		project_free(p);
		return cli_fail("%s", err);
	}
	log_debug("run %s: %zu block%s", rt.run_id, bl.n, bl.n == 1 ? "" : "s");
	if (!(o.flags & SMELT_RQ_DRY_RUN)) {
		history_run_begin(&rt, argv + first, (size_t)(argc - first), &bl);
		struct plugin **all = NULL;
		size_t nall = 0;
		for (size_t i = 0; i < bl.n; i++)
			for (size_t j = 0; j < bl.items[i].nplugins; j++) {
				all = xrealloc(all, (nall + 1) * sizeof *all);
				all[nall++] = bl.items[i].plugins[j];
			}
		rc = runtime_prepare(&rt, all, nall, !(o.flags & SMELT_RQ_NO_INSTALL), err, sizeof err);
		free(all);
		if (rc) {
			history_run_end(&rt, rc, EXIT_FAIL, err);
			log_open_file_capped(NULL, 0);
			runtime_release(&rt);
			blocks_release(&bl);
			project_free(p);
			return cli_fail("%s", err);
		}
	}
	long long t0 = monotonic_ms();
	size_t done = 0;
	double *secs = xcalloc(bl.n, sizeof *secs);
	rc = SMELT_OK;
	for (; done < bl.n; done++) {
		if (!(o.flags & SMELT_RQ_DRY_RUN))
			history_block_begin(&rt, done);
		rc = run_block(&rt, &bl.items[done], &o, done, bl.n, &secs[done], err, sizeof err);
		if (!(o.flags & SMELT_RQ_DRY_RUN))
			history_block_end(&rt, done, rc, secs[done]);
		if (rc)
			break;
	}
	int exit_code = EXIT_OK;
	if (rc) {
		exit_code = rc == SMELT_ERR_UNSUPPORTED ? EXIT_USAGE : EXIT_FAIL;
		if (rc == SMELT_ERR_INTERRUPTED && (proc_last_signal() == SIGTERM || proc_last_signal() == SIGHUP))
			exit_code = 128 + proc_last_signal();
		else if (rc == SMELT_ERR_INTERRUPTED && proc_last_signal() == SIGINT)
			exit_code = 130; /* 128 + SIGINT, as a shell reports Ctrl-C */
	}
	if (!(o.flags & SMELT_RQ_DRY_RUN))
		history_run_end(&rt, rc, exit_code, err);
	if (!(o.flags & SMELT_RQ_DRY_RUN))
		print_summary(&rt, &bl, secs, done, rc, (double)(monotonic_ms() - t0) / 1000.0);
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
	log_open_file_capped(NULL, 0);
	runtime_release(&rt);
	blocks_release(&bl);
	project_free(p);
	return exit_code;
}
