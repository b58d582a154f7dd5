/*
 * smelt job add|set|list|remove: named lists of run blocks in smelt.yml
 * (`jobs: - name, tasks`), edited in place with comments kept.  Like
 * Meltano, these commands apply only an explicitly selected environment.
 */
#include "cli/commands.h"
#include "project/project.h"
#include "run/jobs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/names.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

enum job_opt { JOB_TASKS, JOB_FORMAT };

static const struct cli_option job_options[] = {
	{ JOB_TASKS, "--tasks", 0, "TASKS", "add, set: the job's tasks", 0, "add set" },
	{ JOB_FORMAT, "--format", 0, "text|json", "list: output format (default text)", 0, "list" },
	{ 0 },
};

const struct cli_spec job_spec = {
	.name = "job",
	.usage = "smelt job add NAME --tasks TASKS\n"
	         "smelt job set NAME --tasks TASKS\n"
	         "smelt job list [NAME] [--format text|json]\n"
	         "smelt job remove NAME",
	.text = "TASKS is one run-block string ('tap-csv target-sqlite dbt-sqlite:run') or a\n"
	        "YAML/JSON list of them: '[\"tap-csv target-sqlite\", \"dbt-sqlite:run\"]'.\n"
	        "Each task is one 'smelt run' invocation; 'smelt run NAME' runs them in order.\n",
	.options = job_options,
	.examples = "  smelt job add load --tasks 'tap-csv target-sqlite'\n"
	            "  smelt job add daily --tasks '[\"tap-csv target-sqlite\", \"dbt-sqlite:build\"]'\n"
	            "  smelt job list --format json\n",
};

/* A job name must be usable as a `smelt run` word. */
static int check_name(const char *name)
{
	if (!*name || strpbrk(name, " \t\n:") || name[0] == '-')
		return cli_fail("invalid job name '%s': use letters, digits, '-' and '_' (no blanks or ':')", name);
	char err[SMELT_ERRBUF_SIZE];
	if (name_check("job", name, err, sizeof err))
		return cli_fail("%s", err);
	return 0;
}

static void print_tasks(struct strbuf *sb, const cJSON *tasks)
{
	json_dump(sb, tasks, -1);
}

static int job_add_or_set(struct cli *cli, int argc, char **argv, int add)
{
	const char *name = NULL, *tasks_text = NULL;
	for (int i = 1; i < argc; i++) {
		const char *v;
		switch (cli_opt_next(&job_spec, argv[0], argc, argv, &i, &v)) {
		case JOB_TASKS:
			tasks_text = v;
			break;
		case CLI_OPT_ARG:
			if (name)
				return cli_usage("job", "unexpected argument '%s'", argv[i]);
			name = argv[i];
			break;
		case CLI_OPT_ERROR:
			return EXIT_USAGE;
		default:
			return cli_opt_unknown(&job_spec, argv[0], argv[i]);
		}
	}
	if (!name)
		return cli_usage("job", "which job? 'smelt job %s NAME --tasks TASKS'", add ? "add" : "set");
	if (!tasks_text)
		return cli_usage("job", "missing --tasks");
	if (add && check_name(name))
		return EXIT_FAIL;

	struct project *p;
	int rc = project_open_cli(cli, ENV_IGNORE_DEFAULT, &p);
	if (rc)
		return rc;
	char err[1024];
	cJSON *tasks = NULL;
	struct job *j = project_find_job(p, name);
	if (add && j) {
		rc = cli_fail("job '%s' already exists", name);
		goto out;
	}
	if (!add && !j) {
		rc = cli_no_job(p, name, "see 'smelt job add'");
		goto out;
	}
	if (add && project_find_plugin(p, -1, name)) {
		rc = cli_fail("'%s' is already a plugin name: a job may not share it ('smelt run %s' could not tell "
		              "them apart)", name, name);
		goto out;
	}
	if (jobs_parse_tasks(tasks_text, &tasks, err, sizeof err) != 0 ||
	    jobs_validate_tasks(p, name, tasks, err, sizeof err) != 0) {
		rc = cli_fail("%s", err);
		goto out;
	}
	if (add) {
		cJSON *entry = cJSON_CreateObject();
		cJSON_AddStringToObject(entry, "name", name);
		cJSON_AddItemToObject(entry, "tasks", cJSON_Duplicate(tasks, 1));
		const char *path[] = { "jobs" };
		rc = project_edit_append(p, p->files[0], path, 1, entry, err, sizeof err);
		cJSON_Delete(entry);
	} else {
		char *sel = xasprintf("[name=%s]", name);
		const char *path[] = { "jobs", sel, "tasks" };
		rc = project_edit_set(p, project_file_of(p, &j->pos), path, 3, tasks, err, sizeof err);
		free(sel);
	}
	if (rc == 0)
		rc = project_save(p, err, sizeof err);
	if (rc) {
		rc = cli_fail("%s", err);
		goto out;
	}
	struct strbuf sb = STRBUF_INIT;
	print_tasks(&sb, tasks);
	printf("%s job %s: %s\n", add ? "Added" : "Updated", name, sb.buf);
	strbuf_release(&sb);
	rc = EXIT_OK;
out:
	cJSON_Delete(tasks);
	project_free(p);
	return rc;
}

static int job_list(struct cli *cli, int argc, char **argv)
{
	const char *name = NULL, *fmt = "text";
	for (int i = 1; i < argc; i++) {
		const char *v;
		switch (cli_opt_next(&job_spec, argv[0], argc, argv, &i, &v)) {
		case JOB_FORMAT:
			fmt = v;
			break;
		case CLI_OPT_ARG:
			if (name)
				return cli_usage("job", "unexpected argument '%s'", argv[i]);
			name = argv[i];
			break;
		case CLI_OPT_ERROR:
			return EXIT_USAGE;
		default:
			return cli_opt_unknown(&job_spec, argv[0], argv[i]);
		}
	}
	int format = cli_parse_format(fmt, 1u << FORMAT_TEXT | 1u << FORMAT_JSON);
	if (format < 0)
		return cli_usage("job", "--format must be text or json, not '%s'", fmt);
	struct project *p;
	int rc = project_open_cli(cli, ENV_IGNORE_DEFAULT, &p);
	if (rc)
		return rc;
	struct strbuf sb = STRBUF_INIT;
	if (name) {
		struct job *j = project_find_job(p, name);
		if (!j) {
			rc = cli_no_job(p, name, NULL);
			project_free(p);
			return rc;
		}
		if (format == FORMAT_JSON) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "job_name", j->name);
			cJSON_AddItemToObject(o, "tasks", cJSON_Duplicate(j->tasks, 1));
			json_dump(&sb, o, -2);
			cJSON_Delete(o);
			strbuf_addch(&sb, '\n');
		} else {
			strbuf_addf(&sb, "%s: ", j->name);
			print_tasks(&sb, j->tasks);
			strbuf_addch(&sb, '\n');
		}
	} else if (format == FORMAT_JSON) {
		cJSON *o = cJSON_CreateObject();
		cJSON *arr = cJSON_AddArrayToObject(o, "jobs");
		for (size_t i = 0; i < p->njobs; i++) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "job_name", p->jobs[i].name);
			cJSON_AddItemToObject(e, "tasks", cJSON_Duplicate(p->jobs[i].tasks, 1));
			cJSON_AddItemToArray(arr, e);
		}
		json_dump(&sb, o, -2);
		cJSON_Delete(o);
		strbuf_addch(&sb, '\n');
	} else {
		for (size_t i = 0; i < p->njobs; i++) {
			strbuf_addf(&sb, "%s: ", p->jobs[i].name);
			print_tasks(&sb, p->jobs[i].tasks);
			strbuf_addch(&sb, '\n');
		}
	}
	fputs(sb.buf ? sb.buf : "", stdout);
	strbuf_release(&sb);
	project_free(p);
	return EXIT_OK;
}

static int job_remove(struct cli *cli, int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return cli_usage("job", "usage: smelt job remove NAME");
	const char *name = argv[1];
	struct project *p;
	int rc = project_open_cli(cli, ENV_IGNORE_DEFAULT, &p);
	if (rc)
		return rc;
	char err[1024];
	struct job *j = project_find_job(p, name);
	if (!j) {
		rc = cli_no_job(p, name, NULL);
		goto out;
	}
	for (size_t i = 0; i < p->nschedules; i++)
		if (p->schedules[i].job && !strcmp(p->schedules[i].job, name)) {
			rc = cli_fail("schedule '%s' runs job '%s': remove or change the schedule first "
			              "('smelt schedule remove %s')", p->schedules[i].name, name, p->schedules[i].name);
			goto out;
		}
	char *sel = xasprintf("[name=%s]", name);
	const char *path[] = { "jobs", sel };
	rc = project_edit_unset(p, project_file_of(p, &j->pos), path, 2, err, sizeof err);
	free(sel);
	if (rc < 0 || (rc = project_save(p, err, sizeof err)) != 0) {
		rc = cli_fail("%s", err);
		goto out;
	}
	printf("Removed job '%s'.\n", name);
	rc = EXIT_OK;
out:
	project_free(p);
	return rc;
}

int cmd_job(struct cli *cli, int argc, char **argv)
{
	if (argc < 2) {
		cli_help_print(stderr, &job_spec);
		return EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++) /* --help anywhere */
		if (cli_opt_is_help(argv[i])) {
			cli_help_print(stdout, &job_spec);
			return EXIT_OK;
		}
	const char *sub = argv[1];
	if (!strcmp(sub, "add"))
		return job_add_or_set(cli, argc - 1, argv + 1, 1);
	if (!strcmp(sub, "set"))
		return job_add_or_set(cli, argc - 1, argv + 1, 0);
	if (!strcmp(sub, "list"))
		return job_list(cli, argc - 1, argv + 1);
	if (!strcmp(sub, "remove"))
		return job_remove(cli, argc - 1, argv + 1);
	static const char *const subs[] = { "add", "set", "list", "remove" };
	return cli_unknown_subcommand("job", sub, subs, sizeof subs / sizeof subs[0]);
}
