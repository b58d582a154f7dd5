/*
 * smelt schedule add|set|list|remove|run: when jobs (or old-style
 * extractor/loader pairs) should run, kept in smelt.yml (`schedules:`)
 * for an orchestrator to pick up: `smelt schedule list --format json` is
 * what the Airflow adapter's DAG generator reads.  Smelt itself never
 * runs anything on a timer (DESIGN.md principle 3); `schedule run` runs a
 * schedule once, now.  Only an explicitly selected environment applies.
 */
#include "cli/commands.h"
#include "cli/schedule_export.h"
#include "project/project.h"
#include "run/cron.h"
#include "run/jobs.h"
#include "run/proc.h"
#include "settings/settings.h"
#include "util/argv.h"
#include "util/json.h"
#include "util/log.h"
#include "util/names.h"
#include "util/strbuf.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum schedule_opt { SCHED_INTERVAL, SCHED_JOB, SCHED_EXTRACTOR, SCHED_LOADER, SCHED_TRANSFORM, SCHED_FORMAT };

static const struct cli_option schedule_options[] = {
	{ SCHED_INTERVAL, "--interval", 0, "INTERVAL", "add, set: when it runs (see below)", 0, "add set" },
	{ SCHED_JOB, "--job", 0, "JOB", "add, set: the job it runs", 0, "add set" },
	{ SCHED_EXTRACTOR, "--extractor", 0, "E", "add, set: the extractor of an old-style schedule", 0, "add set" },
	{ SCHED_LOADER, "--loader", 0, "L", "add, set: its loader", 0, "add set" },
	{ SCHED_TRANSFORM, "--transform", 0, "run|skip|only", "add, set: its transforms (default skip)", 0, "add set" },
	{ SCHED_FORMAT, "--format", 0, "text|json", "list: output format (default text)", 0, "list" },
	{ 0 },
};

const struct cli_spec schedule_spec = {
	.name = "schedule",
	.usage = "smelt schedule add NAME --interval INTERVAL --job JOB\n"
	         "smelt schedule add NAME --interval INTERVAL --extractor E --loader L [--transform run|skip|only]\n"
	         "smelt schedule set NAME [--interval I] [--job J | --extractor E --loader L --transform T]\n"
	         "smelt schedule list [--format text|json]\n"
	         "smelt schedule remove NAME\n"
	         "smelt schedule run NAME [RUN OPTIONS...]\n"
	         "smelt schedule export [ORCHESTRATOR]",
	.text = "INTERVAL is a cron expression of five fields (minute hour day-of-month month\n"
	        "day-of-week; lists, ranges, steps, JAN-DEC and SUN-SAT names) or one of\n"
	        "@hourly @daily @weekly @monthly @yearly @once (@once: never on a timer).\n"
	        "Times are UTC.  'schedule run' runs 'smelt run' for the schedule now, with the\n"
	        "schedule's env, and returns its exit code; the words after NAME are options\n"
	        "of 'smelt run'.  'schedule export' hands the jobs and schedules to the\n"
	        "orchestrator's adapter (the project's only orchestrator when none is named),\n"
	        "which puts them where the orchestrator reads them.\n",
	.options = schedule_options,
	.examples = "  smelt schedule add daily --job load --interval @daily\n"
	            "  smelt schedule list --format json\n"
	            "  smelt schedule run daily\n"
	            "  smelt schedule export airflow\n",
};

struct sched_opts {
	const char *name, *interval, *job, *extractor, *loader, *transform;
};

static int parse_sched_opts(int argc, char **argv, struct sched_opts *o)
{
	memset(o, 0, sizeof *o);
	for (int i = 1; i < argc; i++) {
		const char *v;
		int id = cli_opt_next(&schedule_spec, argv[0], argc, argv, &i, &v);
		switch (id) {
		case SCHED_INTERVAL: case SCHED_JOB: case SCHED_EXTRACTOR: case SCHED_LOADER: case SCHED_TRANSFORM: {
			const char **dst[] = { [SCHED_INTERVAL] = &o->interval, [SCHED_JOB] = &o->job,
			                       [SCHED_EXTRACTOR] = &o->extractor, [SCHED_LOADER] = &o->loader,
			                       [SCHED_TRANSFORM] = &o->transform };
			*dst[id] = v;
			break;
		}
		case CLI_OPT_ARG:
			if (o->name)
				return cli_usage("schedule", "unexpected argument '%s'", argv[i]);
			o->name = argv[i];
			break;
		case CLI_OPT_ERROR:
			return EXIT_USAGE;
		default:
			return cli_opt_unknown(&schedule_spec, argv[0], argv[i]);
		}
	}
	if (!o->name)
		return cli_usage("schedule", "which schedule? 'smelt schedule %s NAME ...'", argv[0]);
	if (o->transform && strcmp(o->transform, "run") && strcmp(o->transform, "skip") && strcmp(o->transform, "only"))
		return cli_usage("schedule", "--transform must be run, skip or only, not '%s'", o->transform);
	return 0;
}

/*
 * Checks shared by add and set: the interval is valid (else -1, err says
 * why).  A job, extractor or loader that is not in the project is scheduled
 * all the same, as Meltano's are, with a warning naming it: the schedule
 * fails when it runs until the plugin or job is added.
 */
static int check_targets(struct project *p, const struct sched_opts *o, char *err, size_t errlen)
{
	if (o->interval && cron_validate(o->interval, err, errlen) != 0)
		return -1;
	if (o->job && !project_find_job(p, o->job))
		log_warn("job '%s' does not exist (yet): 'smelt schedule run %s' fails until it is added ('smelt job add')",
		         o->job, o->name);
	const char *what[] = { "extractor", "loader" };
	const char *names[] = { o->extractor, o->loader };
	enum plugin_type types[] = { PLUGIN_EXTRACTORS, PLUGIN_LOADERS };
	for (size_t i = 0; i < 2; i++)
		if (names[i] && !project_find_plugin(p, types[i], names[i]))
			log_warn("%s '%s' is not in %s (yet): 'smelt schedule run %s' fails until it is added ('smelt add "
			         "%s %s')", what[i], names[i], p->file_name, o->name, what[i], names[i]);
	return 0;
}

static int schedule_add(struct cli *cli, int argc, char **argv)
{
	struct sched_opts o;
	int rc = parse_sched_opts(argc, argv, &o);
	if (rc)
		return rc;
	if (!o.interval)
		return cli_usage("schedule", "missing --interval");
	if (o.job && (o.extractor || o.loader || o.transform))
		return cli_fail("cannot mix --job with --extractor/--loader/--transform");
	if (!o.job && !o.extractor && !o.loader)
		return cli_usage("schedule", "give --job JOB, or --extractor E and --loader L");
	if (!o.job && !o.extractor)
		return cli_fail("missing --extractor");
	if (!o.job && !o.loader)
		return cli_fail("missing --loader");
	if (!*o.name || strpbrk(o.name, " \t\n"))
		return cli_fail("invalid schedule name '%s'", o.name);
	char nerr[SMELT_ERRBUF_SIZE];
	if (name_check("schedule", o.name, nerr, sizeof nerr))
		return cli_fail("%s", nerr);

	struct project *p;
	if ((rc = project_open_cli(cli, ENV_IGNORE_DEFAULT, &p)) != 0)
		return rc;
	char err[1024];
	if (project_find_schedule(p, o.name)) { /* as Meltano's: a notice on stdout, nothing written, exit 0 */
		printf("Schedule '%s' already exists.\n", o.name);
		rc = EXIT_OK;
		goto out;
	}
	if (check_targets(p, &o, err, sizeof err) != 0) {
		rc = cli_fail("%s", err);
		goto out;
	}
	cJSON *entry = cJSON_CreateObject();
	cJSON_AddStringToObject(entry, "name", o.name);
	if (o.job) {
		cJSON_AddStringToObject(entry, "interval", o.interval);
		cJSON_AddStringToObject(entry, "job", o.job);
	} else { /* in Meltano's order */
		cJSON_AddStringToObject(entry, "interval", o.interval);
		cJSON_AddStringToObject(entry, "extractor", o.extractor);
		cJSON_AddStringToObject(entry, "loader", o.loader);
		cJSON_AddStringToObject(entry, "transform", o.transform ? o.transform : "skip");
	}
	const char *path[] = { "schedules" };
	rc = project_edit_append(p, p->files[0], path, 1, entry, err, sizeof err);
	cJSON_Delete(entry);
	if (rc == 0)
		rc = project_save(p, err, sizeof err);
	if (rc) {
		rc = cli_fail("%s", err);
		goto out;
	}
	printf("Scheduled %s '%s' at %s\n", o.job ? "job" : "elt", o.name, o.interval);
	rc = EXIT_OK;
out:
	project_free(p);
	return rc;
}

static int schedule_set(struct cli *cli, int argc, char **argv)
{
	struct sched_opts o;
	int rc = parse_sched_opts(argc, argv, &o);
	if (rc)
		return rc;
	if (!o.interval && !o.job && !o.extractor && !o.loader && !o.transform)
		return cli_usage("schedule", "nothing to set: give --interval, --job, --extractor, --loader or --transform");
	struct project *p;
	if ((rc = project_open_cli(cli, ENV_IGNORE_DEFAULT, &p)) != 0)
		return rc;
	char err[1024];
	struct schedule *s = project_find_schedule(p, o.name);
	if (!s) {
		rc = cli_no_schedule(p, o.name);
		goto out;
	}
	if (s->job && (o.extractor || o.loader || o.transform)) {
		rc = cli_fail("cannot mix --job with --extractor/--loader/--transform: '%s' is a job schedule", o.name);
		goto out;
	}
	if (!s->job && o.job) {
		rc = cli_fail("cannot mix --job with --extractor/--loader/--transform: '%s' is an extractor/loader "
		              "schedule", o.name);
		goto out;
	}
	if (check_targets(p, &o, err, sizeof err) != 0) {
		rc = cli_fail("%s", err);
		goto out;
	}
	struct project_file *f = project_file_of(p, &s->pos);
	char *sel = xasprintf("[name=%s]", o.name);
	const char *keys[] = { "interval", "job", "extractor", "loader", "transform" };
	const char *vals[] = { o.interval, o.job, o.extractor, o.loader, o.transform };
	rc = 0;
	for (size_t k = 0; k < 5 && rc == 0; k++) {
		if (!vals[k])
			continue;
		const char *path[] = { "schedules", sel, keys[k] };
		cJSON *v = cJSON_CreateString(vals[k]);
		rc = project_edit_set(p, f, path, 3, v, err, sizeof err);
		cJSON_Delete(v);
	}
	free(sel);
	if (rc == 0)
		rc = project_save(p, err, sizeof err);
	if (rc) {
		rc = cli_fail("%s", err);
		goto out;
	}
	printf("Updated schedule '%s'\n", o.name);
	rc = EXIT_OK;
out:
	project_free(p);
	return rc;
}

static int schedule_list(struct cli *cli, int argc, char **argv)
{
	const char *fmt = "text";
	for (int i = 1; i < argc; i++) {
		const char *v;
		switch (cli_opt_next(&schedule_spec, argv[0], argc, argv, &i, &v)) {
		case SCHED_FORMAT:
			fmt = v;
			break;
		case CLI_OPT_ERROR:
			return EXIT_USAGE;
		case CLI_OPT_UNKNOWN:
			return cli_opt_unknown(&schedule_spec, argv[0], argv[i]);
		default:
			return cli_usage("schedule", "unexpected argument '%s'", argv[i]);
		}
	}
	int format = cli_parse_format(fmt, 1u << FORMAT_TEXT | 1u << FORMAT_JSON);
	if (format < 0)
		return cli_usage("schedule", "--format must be text or json, not '%s'", fmt);
	struct project *p;
	int rc = project_open_cli(cli, ENV_IGNORE_DEFAULT, &p);
	if (rc)
		return rc;
	time_t now = time(NULL);
	struct strbuf sb = STRBUF_INIT;
	if (format == FORMAT_JSON) {
		cJSON *o = cJSON_CreateObject();
		cJSON *all = cJSON_AddObjectToObject(o, "schedules");
		cJSON *jobs = cJSON_AddArrayToObject(all, "job");
		cJSON *elts = cJSON_AddArrayToObject(all, "elt");
		for (size_t i = 0; i < p->nschedules; i++) {
			const struct schedule *s = &p->schedules[i];
			cJSON_AddItemToArray(s->job ? jobs : elts, schedule_to_json(p, s, now));
		}
		json_dump(&sb, o, -2);
		strbuf_addch(&sb, '\n');
		cJSON_Delete(o);
	} else {
		for (size_t i = 0; i < p->nschedules; i++) {
			const struct schedule *s = &p->schedules[i];
			cJSON *e = schedule_to_json(p, s, now);
			const cJSON *next = cJSON_GetObjectItemCaseSensitive(e, "next_run_at");
			strbuf_addf(&sb, "[%s] ", s->interval ? s->interval : "");
			if (s->job) {
				struct job *j = project_find_job(p, s->job);
				strbuf_addf(&sb, "job %s: %s \u2192 ", s->name, s->job);
				if (j)
					json_dump(&sb, j->tasks, -1);
				else
					strbuf_addstr(&sb, "(no such job)");
			} else {
				const char *t = s->transform ? s->transform : "skip";
				const char *m1 = !strcmp(t, "only") ? "\u00d7" : "\u2192";
				const char *m2 = !strcmp(t, "skip") ? "x" : "\u2192";
				strbuf_addf(&sb, "elt %s: %s %s %s %s transforms", s->name, s->extractor, m1, s->loader, m2);
			}
			if (cJSON_IsString(next))
				strbuf_addf(&sb, " (next run %s)", next->valuestring);
			strbuf_addch(&sb, '\n');
			cJSON_Delete(e);
		}
	}
	fputs(sb.buf ? sb.buf : "", stdout);
	strbuf_release(&sb);
	project_free(p);
	return EXIT_OK;
}

static int schedule_remove(struct cli *cli, int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return cli_usage("schedule", "usage: smelt schedule remove NAME");
	const char *name = argv[1];
	struct project *p;
	int rc = project_open_cli(cli, ENV_IGNORE_DEFAULT, &p);
	if (rc)
		return rc;
	char err[1024];
	struct schedule *s = project_find_schedule(p, name);
	if (!s) {
		rc = cli_no_schedule(p, name);
		goto out;
	}
	char *sel = xasprintf("[name=%s]", name);
	const char *path[] = { "schedules", sel };
	rc = project_edit_unset(p, project_file_of(p, &s->pos), path, 2, err, sizeof err);
	free(sel);
	if (rc < 0 || (rc = project_save(p, err, sizeof err)) != 0) {
		rc = cli_fail("%s", err);
		goto out;
	}
	printf("Removed schedule '%s'.\n", name);
	rc = EXIT_OK;
out:
	project_free(p);
	return rc;
}

/* smelt schedule run NAME [ARGS]: `smelt [global flags] run ARGS <run args>` with the schedule's env. */
static int schedule_run(struct cli *cli, int argc, char **argv)
{
	if (argc < 2 || argv[1][0] == '-')
		return cli_usage("schedule", "usage: smelt schedule run NAME [RUN OPTIONS...]");
	const char *name = argv[1];
	if (!cli->paths.exe)
		return cli_fail("cannot find the smelt executable to run");
	struct project *p;
	int rc = project_open_cli(cli, ENV_IGNORE_DEFAULT, &p);
	if (rc)
		return rc;
	char err[1024];
	char **args = NULL, **child = NULL;
	size_t nargs = 0, nchild = 0;
	struct envlist env = ENVLIST_INIT;
	struct schedule *s = project_find_schedule(p, name);
	if (!s) {
		rc = cli_no_schedule(p, name);
		goto out;
	}
	if (s->job && !project_find_job(p, s->job)) {
		rc = cli_fail("schedule '%s' runs job '%s', which does not exist", name, s->job);
		goto out;
	}
	if (schedule_run_args(p, s, &args, &nargs, err, sizeof err) != 0) {
		rc = cli_fail("%s", err);
		goto out;
	}
	argv_push(&child, &nchild, cli->paths.exe);
	if (cli->environment) {
		argv_push(&child, &nchild, "--environment");
		argv_push(&child, &nchild, cli->environment);
	}
	if (cli->no_environment)
		argv_push(&child, &nchild, "--no-environment");
	if (cli->env_file) {
		argv_push(&child, &nchild, "--env-file");
		argv_push(&child, &nchild, cli->env_file);
	}
	argv_push(&child, &nchild, "run");
	for (int i = 2; i < argc; i++)
		argv_push(&child, &nchild, argv[i]);
	for (size_t i = 0; i < nargs; i++)
		argv_push(&child, &nchild, args[i]);
	if (!s->job) { /* an extractor/loader schedule keeps its state under its own name, as Meltano's elt */
		argv_push(&child, &nchild, "--state-id");
		argv_push(&child, &nchild, s->name);
	}

	/* The schedule's env over smelt's own, $VAR expanded against what is there already. */
	envlist_from_environ(&env);
	if (!envlist_get(&env, "SMELT_RUN_TRIGGER")) /* the run history says who started the run */
		envlist_set(&env, "SMELT_RUN_TRIGGER", "schedule");
	for (const cJSON *c = s->env ? s->env->child : NULL; c; c = c->next) {
		char *raw = settings_value_to_string(c);
		if (!raw)
			continue;
		char *x = settings_expand(raw, &env, 0, NULL, NULL, 0);
		envlist_set(&env, c->string, x ? x : raw);
		free(x);
		free(raw);
	}
	struct strbuf shown = STRBUF_INIT;
	for (size_t i = 1; i < nchild; i++)
		strbuf_addf(&shown, "%s%s", i > 1 ? " " : "", child[i]);
	log_info("schedule '%s': smelt %s", name, shown.buf ? shown.buf : "");
	strbuf_release(&shown);

	struct proc_stage st = { .label = name, .argv = child, .envp = env.vars, .cwd = p->root,
	                         .flags = SMELT_SPAWN_INHERIT_STDIO };
	struct proc_result res;
	memset(&res, 0, sizeof res);
	int prc = proc_pipeline(&st, 1, NULL, &res, err, sizeof err);
	if (prc == SMELT_ERR) {
		rc = cli_fail("%s", err);
	} else if (res.exit.signaled) {
		rc = 128 + res.exit.term_signal;
	} else if (prc == SMELT_ERR_INTERRUPTED && !res.exit.exited) {
		rc = 128 + (proc_last_signal() ? proc_last_signal() : SIGTERM);
	} else {
		rc = res.exit.exit_code;
	}
out:
	envlist_release(&env);
	argv_free(args);
	argv_free(child);
	project_free(p);
	return rc;
}

int cmd_schedule(struct cli *cli, int argc, char **argv)
{
	if (argc < 2 || cli_opt_is_help(argv[1])) {
		cli_help_print(argc < 2 ? stderr : stdout, &schedule_spec);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	const char *sub = argv[1];
	/* `schedule run` passes options through to `smelt run`; the others take --help anywhere. */
	if (strcmp(sub, "run"))
		for (int i = 2; i < argc; i++)
			if (cli_opt_is_help(argv[i])) {
				cli_help_print(stdout, &schedule_spec);
				return EXIT_OK;
			}
	if (!strcmp(sub, "add"))
		return schedule_add(cli, argc - 1, argv + 1);
	if (!strcmp(sub, "set"))
		return schedule_set(cli, argc - 1, argv + 1);
	if (!strcmp(sub, "list"))
		return schedule_list(cli, argc - 1, argv + 1);
	if (!strcmp(sub, "remove"))
		return schedule_remove(cli, argc - 1, argv + 1);
	if (!strcmp(sub, "run"))
		return schedule_run(cli, argc - 1, argv + 1);
	if (!strcmp(sub, "export"))
		return schedule_export(cli, argc - 1, argv + 1);
	static const char *const subs[] = { "add", "set", "list", "remove", "run", "export" };
	return cli_unknown_subcommand("schedule", sub, subs, sizeof subs / sizeof subs[0]);
}
