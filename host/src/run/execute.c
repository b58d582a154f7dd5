/* execute: smelt run's blocks, executed; see execute.h. */
#include "run/execute.h"
#include "adapters/dispatch.h"
#include "project/project.h"
#include "run/blocks.h"
#include "run/history.h"
#include "run/lineage.h"
#include "run/plugin_env.h"
#include "run/proc.h"
#include "run/runtime.h"
#include "settings/settings.h"
#include "store/store.h"
#include "util/argv.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/log.h"
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

#define RUN_LOG_MAX_BYTES (64LL * 1024 * 1024) /* run.log + run.log.1; see log_open_file_capped() */


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

static int run_one(struct runtime *rt, struct block *b, const struct run_opts *o, size_t index, size_t total,
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
	int rc = dispatch_check_op(a, SMELT_REQ_EL, err, errlen);
	if (rc)
		return rc;

	char *state_id = NULL;
	struct store *st = NULL;
	unsigned flags = o->flags;
	/* Never cut: a run id holds no ':' (name_check_run_id()), so "<run id>:<n>" is unique per run. */
	char *block_run_id = xasprintf("%s:%zu", rt->run_id, index + 1);
	if (b->kind == BLOCK_EL && !(flags & SMELT_RQ_NO_STATE_UPDATE)) {
		if (o->state_id) {
			state_id = xstrdup(o->state_id); /* as given, without the environment (Meltano's elt --state-id) */
		} else if (!rt->project->active) {
			log_warn("no environment is active: the run is stateless");
		} else if (!(state_id = state_id_for(rt->project, b, o->suffix, err, errlen))) {
			free(block_run_id);
			return SMELT_ERR_CONFIG;
		}
		if (state_id) {
			if (!(st = runtime_store(rt, err, errlen))) {
				free(state_id);
				free(block_run_id);
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
	struct smelt_request req =
		dispatch_request(b->kind == BLOCK_EL ? SMELT_REQ_EL : SMELT_REQ_COMMAND, b->plugins, b->nplugins);
	req.mappings = b->mappings;
	req.command = b->command;
	req.state_id = state_id;
	req.run_id = rt->run_id;
	req.flags = flags;
	req.timeout_s = o->timeout_s;
	log_debug("block %zu/%zu: %s", index + 1, total, b->text);
	long long t0 = mono_ms();
	char aerr[SMELT_ERRBUF_SIZE * 4] = "";
	if (b->kind == BLOCK_EL) /* each plugin sees what the ones before it are configured with (run/plugin_env.h) */
		plugin_env_el_enter(rt, b->plugins, b->nplugins);
	/* Meltano's keys of the plugins' log lines (JSON, key-value) */
	log_context_set(1, "cmd_type", b->kind == BLOCK_EL ? "elb" : "command");
	log_context_set(1, "job_name", b->kind == BLOCK_EL ? state_id : NULL);
	/* a command block's live line; an EL block draws its own progress */
	char *label = b->kind == BLOCK_COMMAND ? xasprintf("[%zu/%zu] %s", index + 1, total, b->text) : NULL;
	rt->block = index + 1;
	rt->status_label = label;
	rt->status_t0 = t0;
	log_held_clear();
	rc = dispatch_call(a, &req, NULL, aerr, sizeof aerr);
	rt->status_label = NULL;
	log_status(NULL);
	free(label);
	plugin_env_el_leave();
	log_context_set(1, "cmd_type", NULL);
	log_context_set(1, "job_name", NULL);
	double secs = (double)(mono_ms() - t0) / 1000.0;
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

int execute_begin(struct runtime *rt, const struct block_list *bl, const struct run_opts *o, char *err, size_t errlen)
{
	char uuid[37];
	size_t nel = 0;
	for (size_t i = 0; i < bl->n; i++)
		nel += bl->items[i].kind == BLOCK_EL;
	if (o->state_id && nel > 1)
		return fail(err, errlen, SMELT_ERR_CONFIG, "--state-id names the state of one extract/load block; the run has %zu",
		            nel);
	if (!o->run_id)
		uuid4(uuid);
	rt->run_id = xstrdup(o->run_id ? o->run_id : uuid);
	log_context_set(0, "run_id", rt->run_id); /* on every JSON / key-value line of the run, as in Meltano */
	rt->check_required = 1;
	rt->timeout_s = o->timeout_s;
	if (o->timeout_s)
		rt->deadline_ms = mono_ms() + (long long)o->timeout_s * 1000;
	if (!(o->flags & SMELT_RQ_DRY_RUN) && make_log_dir(rt, err, errlen) != 0)
		return SMELT_ERR;
	log_debug("run %s: %zu block%s", rt->run_id, bl->n, bl->n == 1 ? "" : "s");
	if (o->flags & SMELT_RQ_DRY_RUN)
		return SMELT_OK;
	/* from here to execute_end(), a stop signal stops the run, recorded as such, and never kills smelt mid-way */
	proc_signals_hold();
	history_run_begin(rt, o->args ? o->args : o->words, o->args ? o->nargs : o->nwords, o->words, o->nwords, bl);
	struct strbuf job = STRBUF_INIT; /* OpenLineage: a job named by the run's words */
	for (size_t i = 0; i < o->nwords; i++)
		strbuf_addf(&job, "%s%s", i ? " " : "", o->words[i]);
	rt->lineage = lineage_open(rt, job.buf ? job.buf : "");
	strbuf_release(&job);
	lineage_run_start(rt->lineage);
	struct plugin **all = NULL;
	size_t nall = 0;
	for (size_t i = 0; i < bl->n; i++)
		for (size_t j = 0; j < bl->items[i].nplugins; j++) {
			all = xrealloc(all, (nall + 1) * sizeof *all);
			all[nall++] = bl->items[i].plugins[j];
		}
	int rc = runtime_prepare(rt, all, nall, !(o->flags & SMELT_RQ_NO_INSTALL), err, errlen);
	free(all);
	if (rc) {
		history_run_end(rt, rc, 1, err); /* exits 1, as a failed block does */
		lineage_run_end(rt->lineage, rc, err);
		execute_end(rt);
	}
	return rc;
}

int execute_blocks(struct runtime *rt, const struct block_list *bl, const struct run_opts *o, double *secs,
                   size_t *done, double *total_s, char *err, size_t errlen)
{
	long long t0 = mono_ms();
	int rc = SMELT_OK;
	int record = !(o->flags & SMELT_RQ_DRY_RUN);
	for (*done = 0; *done < bl->n; (*done)++) {
		rt->block_procs = 0; /* before anything can stop the block: what it starts is its own */
		int sig = proc_signal_take(); /* one that came while nothing ran: the next block does not start */
		if (sig) {
			rc = fail(err, errlen, SMELT_ERR_INTERRUPTED, "the process was %s", proc_signal_outcome(sig));
			break;
		}
		if (record)
			history_block_begin(rt, *done);
		lineage_block_start(rt->lineage, *done, bl->items[*done].text);
		rc = run_one(rt, &bl->items[*done], o, *done, bl->n, &secs[*done], err, errlen);
		lineage_block_end(rt->lineage, rt, *done, rc, err);
		if (record)
			history_block_end(rt, *done, rc, secs[*done]);
		if (rc)
			break;
	}
	lineage_run_end(rt->lineage, rc, err);
	*total_s = (double)(mono_ms() - t0) / 1000.0;
	return rc;
}

int execute_cancelled(int rc)
{
	int sig = proc_last_signal();
	return rc == SMELT_ERR_INTERRUPTED && (sig == SIGTERM || sig == SIGINT || sig == SIGHUP);
}

int execute_exit_code(int rc)
{
	if (!rc)
		return 0;
	if (rc == SMELT_ERR_INTERRUPTED && (proc_last_signal() == SIGTERM || proc_last_signal() == SIGHUP))
		return 128 + proc_last_signal();
	if (rc == SMELT_ERR_INTERRUPTED && proc_last_signal() == SIGINT)
		return 130; /* 128 + SIGINT, as a shell reports Ctrl-C */
	return rc == SMELT_ERR_UNSUPPORTED ? 2 : 1;
}

void execute_record_end(struct runtime *rt, const struct run_opts *o, int rc, int exit_code, const char *err)
{
	if (!(o->flags & SMELT_RQ_DRY_RUN))
		history_run_end(rt, rc, exit_code, rc ? err : NULL);
}

void execute_end(struct runtime *rt)
{
	(void)rt;
	proc_signals_release();
	log_context_set(0, "run_id", NULL);
	log_open_file_capped(NULL, 0);
}

/* ---- smelt invoke of a plugin no adapter claims ---------------------------------------- */

int execute_direct(struct runtime *rt, struct plugin *pl, const char *command, char *const *args, size_t nargs,
                   int *code, char *err, size_t errlen)
{
	*code = 0;
	const struct definition *d = project_plugin_def(rt->project, pl, err, errlen);
	if (!d)
		return SMELT_ERR_CONFIG;
	char **argv = NULL;
	size_t n = 0;
	const char *exe = runtime_plugin_path(rt, pl, SMELT_PPATH_EXECUTABLE);
	argv_push(&argv, &n, exe);
	if (command) {
		const struct plugin_command *c = definition_find_command(d, command);
		if (!c) {
			argv_free(argv);
			return fail(err, errlen, SMELT_ERR_CONFIG,
			            "plugin '%s' has no command '%s' (see 'smelt invoke --list-commands %s')", pl->name, command,
			            pl->name);
		}
		if (c->executable) {
			free(argv[0]);
			argv[0] = xstrdup(c->executable);
		}
		int rc = c->args ? runtime_command_words(rt, pl, command, c->args, &argv, &n, err, errlen) : SMELT_OK;
		if (rc) {
			argv_free(argv);
			return rc;
		}
	}
	for (size_t i = 0; i < nargs; i++)
		argv_push(&argv, &n, args[i]);
	struct smelt_env *env = runtime_env_new(rt, pl);
	struct proc_stage st = { .label = pl->name, .argv = argv, .envp = runtime_env_vars(env),
	                         .cwd = rt->project->root, .flags = SMELT_SPAWN_INHERIT_STDIO };
	struct proc_result res;
	rt->block_procs++;
	int rc = proc_pipeline(&st, 1, NULL, &res, err, errlen);
	settings_note_write(); /* what it ran may have written settings: resolve afresh */
	runtime_env_free(env);
	argv_free(argv);
	if (rc == SMELT_ERR)
		return rc;
	*code = res.exit.signaled ? 128 + res.exit.term_signal : res.exit.exit_code;
	return SMELT_OK;
}
