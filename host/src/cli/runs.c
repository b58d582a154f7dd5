/*
 * smelt runs list|show|prune: the run history (store/runs.h) of every
 * `smelt run`, whoever started it.
 */
#include "cli/commands.h"
#include "project/project.h"
#include "settings/system_db.h"
#include "store/runs.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/names.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <stdlib.h>
#include <string.h>

enum runs_opt { RUNS_JOB, RUNS_STATUS, RUNS_SINCE, RUNS_LIMIT, RUNS_FORMAT, RUNS_KEEP, RUNS_OLDER };

static const struct cli_option runs_options[] = {
	{ RUNS_JOB, "--job", 0, "J", "list: only runs of this job", 0, "list" },
	{ RUNS_STATUS, "--status", 0, "S", "list: queued, running, success, failed or cancelled", 0, "list" },
	{ RUNS_SINCE, "--since", 0, "D", "list: runs started since D", 0, "list" },
	{ RUNS_LIMIT, "--limit", 0, "N", "list: at most N runs, newest first", 0, "list" },
	{ RUNS_FORMAT, "--format", 0, "text|json", "list, show: output format (default text)", 0, "list show" },
	{ RUNS_KEEP, "--keep", 0, "N", "prune: keep the newest N finished runs", 0, "prune" },
	{ RUNS_OLDER, "--older-than", 0, "D", "prune: delete finished runs started before D", 0, "prune" },
	{ 0 },
};

const struct cli_spec runs_spec = {
	.name = "runs",
	.usage = "smelt runs list [--job J] [--status S] [--since D] [--limit N] [--format text|json]\n"
	         "smelt runs show RUN_ID [--format text|json]\n"
	         "smelt runs prune --keep N | --older-than D",
	.text = "Every run (from the command line, the API server, a schedule or an orchestrator)\n"
	        "is recorded with its blocks, their status, duration, rows per stream and results.\n"
	        "Statuses: queued (started by smelt serve, not begun yet), running, success,\n"
	        "failed, cancelled.  D is a duration back from now (7d, 12h, 30m) or an ISO date\n"
	        "(2026-12-01, 2026-12-01T10:00:00Z).  prune deletes finished runs, their logs\n"
	        "(.smelt/logs/RUN_ID) and their lineage file (.smelt/lineage/RUN_ID.jsonl).\n",
	.options = runs_options,
	.examples = "  smelt runs list --status failed --since 7d\n"
	            "  smelt runs show RUN_ID --format json\n"
	            "  smelt runs prune --keep 100\n",
};

static int open_store(struct cli *cli, struct project **p, struct store **st)
{
	int rc = project_open_cli(cli, ENV_IGNORE_DEFAULT, p);
	if (rc)
		return rc;
	char err[SMELT_ERRBUF_SIZE];
	/* database_uri: the history is in PostgreSQL when it names a server */
	if (settings_open_store(*p, st, err, sizeof err)) {
		project_free(*p);
		return cli_fail("%s", err);
	}
	return 0;
}

static const char *str_or(const cJSON *o, const char *key, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : dflt;
}

static void print_json(const cJSON *v)
{
	struct strbuf sb = STRBUF_INIT;
	json_dump(&sb, v, -2); /* one compact document on one line, as every listing */
	printf("%s\n", sb.buf);
	strbuf_release(&sb);
}

static void fmt_seconds(const cJSON *v, char *buf, size_t len)
{
	if (cJSON_IsNumber(v))
		snprintf(buf, len, "%.1f s", v->valuedouble);
	else
		snprintf(buf, len, "-");
}

static int parse_format(const char *v, int *json)
{
	int f = cli_parse_format(v, 1u << FORMAT_TEXT | 1u << FORMAT_JSON);
	if (f < 0)
		return cli_usage("runs", "--format must be text or json, not '%s'", v);
	*json = f == FORMAT_JSON;
	return 0;
}

static int runs_list_cmd(struct cli *cli, int argc, char **argv)
{
	struct runs_query q = { 0 };
	int json = 0, r;
	const char *v;
	for (int i = 2; i < argc; i++) {
		char *end;
		long n;
		switch (cli_opt_next(&runs_spec, "list", argc, argv, &i, &v)) {
		case RUNS_JOB: q.job = v; break;
		case RUNS_STATUS: q.status = v; break;
		case RUNS_SINCE: q.since = v; break;
		case RUNS_LIMIT:
			n = strtol(v, &end, 10);
			if (*end || !*v || n < 1 || n > 1000000)
				return cli_usage("runs", "--limit needs a whole number >= 1, not '%s'", v);
			q.limit = (int)n;
			break;
		case RUNS_FORMAT:
			if ((r = parse_format(v, &json)) != 0)
				return r;
			break;
		case CLI_OPT_ERROR: return EXIT_USAGE;
		case CLI_OPT_ARG: return cli_usage("runs", "unexpected argument '%s'", argv[i]);
		default: return cli_opt_unknown(&runs_spec, "list", argv[i]);
		}
	}
	if (q.status && strcmp(q.status, "queued") && strcmp(q.status, "running") && strcmp(q.status, "success") &&
	    strcmp(q.status, "failed") && strcmp(q.status, "cancelled"))
		return cli_usage("runs", "--status must be queued, running, success, failed or cancelled, not '%s'",
		                 q.status);
	struct project *p;
	struct store *st;
	if ((r = open_store(cli, &p, &st)) != 0)
		return r;
	char err[SMELT_ERRBUF_SIZE];
	cJSON *res;
	runs_reap_dead(st, NULL, NULL);
	int rc = runs_list(st, &q, &res, err, sizeof err);
	store_close(st);
	project_free(p);
	if (rc)
		return rc == SMELT_ERR_CONFIG ? cli_usage("runs", "%s", err) : cli_fail("%s", err);
	if (json) {
		print_json(res);
	} else {
		cJSON *runs = cJSON_GetObjectItemCaseSensitive(res, "runs"), *run;
		if (!cJSON_GetArraySize(runs))
			log_info(q.job || q.status || q.since ? "No runs match." : "No runs recorded.");
		else
			printf("%-36s  %-9s  %-24s  %8s  %8s  %s\n", "RUN ID", "STATUS", "STARTED", "TIME", "ROWS", "JOB/BLOCKS");
		cJSON_ArrayForEach(run, runs) {
			char t[32], rows[32] = "-";
			fmt_seconds(cJSON_GetObjectItemCaseSensitive(run, "duration_s"), t, sizeof t);
			const cJSON *nr = cJSON_GetObjectItemCaseSensitive(run, "rows");
			if (cJSON_IsNumber(nr))
				snprintf(rows, sizeof rows, "%.0f", nr->valuedouble);
			struct strbuf what = STRBUF_INIT;
			const char *job = str_or(run, "job", NULL);
			if (job) {
				strbuf_addstr(&what, job);
			} else {
				const cJSON *a;
				cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(run, "args"))
					if (cJSON_IsString(a))
						strbuf_addf(&what, "%s%s", what.len ? " " : "", a->valuestring);
			}
			printf("%-36s  %-9s  %-24s  %8s  %8s  %s\n", str_or(run, "run_id", ""), str_or(run, "status", ""),
			       str_or(run, "started_at", ""), t, rows, what.buf);
			strbuf_release(&what);
		}
	}
	cJSON_Delete(res);
	return EXIT_OK;
}

static int runs_show_cmd(struct cli *cli, int argc, char **argv)
{
	const char *id = NULL, *v;
	int json = 0, r;
	for (int i = 2; i < argc; i++) {
		switch (cli_opt_next(&runs_spec, "show", argc, argv, &i, &v)) {
		case RUNS_FORMAT:
			if ((r = parse_format(v, &json)) != 0)
				return r;
			break;
		case CLI_OPT_ARG:
			if (id)
				return cli_usage("runs", "usage: smelt runs show RUN_ID [--format text|json]");
			id = argv[i];
			break;
		case CLI_OPT_ERROR: return EXIT_USAGE;
		default: return cli_opt_unknown(&runs_spec, "show", argv[i]);
		}
	}
	if (!id)
		return cli_usage("runs", "usage: smelt runs show RUN_ID [--format text|json]");
	char err[SMELT_ERRBUF_SIZE];
	if (name_check_run_id(id, err, sizeof err))
		return cli_fail("%s", err);
	struct project *p;
	struct store *st;
	if ((r = open_store(cli, &p, &st)) != 0)
		return r;
	cJSON *run;
	runs_reap_dead(st, NULL, NULL);
	int rc = runs_show(st, id, &run, err, sizeof err);
	store_close(st);
	project_free(p);
	if (rc)
		return cli_fail("%s", err);
	if (json) {
		print_json(run);
		cJSON_Delete(run);
		return EXIT_OK;
	}
	char t[32];
	fmt_seconds(cJSON_GetObjectItemCaseSensitive(run, "duration_s"), t, sizeof t);
	const cJSON *ec = cJSON_GetObjectItemCaseSensitive(run, "exit_code");
	printf("Run:      %s\nStatus:   %s\nJob:      %s\nTrigger:  %s\nStarted:  %s\nEnded:    %s\nTime:     %s\n",
	       str_or(run, "run_id", ""), str_or(run, "status", ""), str_or(run, "job", "-"), str_or(run, "trigger", ""),
	       str_or(run, "started_at", "-"), str_or(run, "ended_at", "-"), t);
	if (cJSON_IsNumber(ec))
		printf("Exit:     %d\n", ec->valueint);
	printf("Log:      %s\n", str_or(run, "log_path", "-"));
	if (str_or(run, "error", NULL))
		printf("Error:    %s\n", str_or(run, "error", ""));
	printf("\n %-40s  %-9s  %7s  %s\n", "BLOCK", "STATUS", "TIME", "RESULT");
	const cJSON *b;
	cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(run, "blocks")) {
		fmt_seconds(cJSON_GetObjectItemCaseSensitive(b, "duration_s"), t, sizeof t);
		const char *sum = str_or(b, "summary", "");
		printf(" %-40s  %-9s  %7s  %s\n", str_or(b, "block", ""), str_or(b, "status", ""), t, *sum ? sum : "-");
	}
	cJSON_Delete(run);
	return EXIT_OK;
}

struct prune_ctx {
	const char *sys_dir;
};

static void prune_logs(void *arg, const char *run_id)
{
	struct prune_ctx *c = arg;
	char err[SMELT_ERRBUF_SIZE];
	if (name_check_run_id(run_id, err, sizeof err)) /* never a path: ids come from the database */
		return;
	char *rel = xasprintf("logs/%s", run_id);
	fs_remove_tree_under(c->sys_dir, rel);
	free(rel);
	rel = xasprintf("lineage/%s.jsonl", run_id); /* its lineage events, when they went to a file */
	fs_unlink_under(c->sys_dir, rel);
	free(rel);
}

static int runs_prune_cmd(struct cli *cli, int argc, char **argv)
{
	const char *keep_s = NULL, *older = NULL;
	int r, keep = -1;
	for (int i = 2; i < argc; i++) {
		const char *v;
		switch (cli_opt_next(&runs_spec, "prune", argc, argv, &i, &v)) {
		case RUNS_KEEP: keep_s = v; break;
		case RUNS_OLDER: older = v; break;
		case CLI_OPT_ERROR: return EXIT_USAGE;
		case CLI_OPT_ARG: return cli_usage("runs", "unexpected argument '%s'", argv[i]);
		default: return cli_opt_unknown(&runs_spec, "prune", argv[i]);
		}
	}
	if (!keep_s && !older)
		return cli_usage("runs", "prune needs one of --keep N or --older-than D");
	if (keep_s && older)
		return cli_usage("runs", "prune takes one of --keep N or --older-than D, not both");
	if (keep_s) {
		char *end;
		long n = strtol(keep_s, &end, 10);
		if (*end || !*keep_s || n < 0 || n > 100000000)
			return cli_usage("runs", "--keep needs a whole number >= 0, not '%s'", keep_s);
		keep = (int)n;
	}
	char err[SMELT_ERRBUF_SIZE], when[40];
	if (older && runs_parse_since(older, when, sizeof when, err, sizeof err))
		return cli_usage("runs", "--older-than: %s", err);
	struct project *p;
	struct store *st;
	if ((r = open_store(cli, &p, &st)) != 0)
		return r;
	struct prune_ctx c = { p->sys_dir };
	int removed = 0;
	int rc = runs_prune(st, keep, older, prune_logs, &c, &removed, err, sizeof err);
	store_close(st);
	project_free(p);
	if (rc)
		return cli_fail("%s", err);
	log_say_final("Pruned %d run%s.", removed, removed == 1 ? "" : "s");
	return EXIT_OK;
}

int cmd_runs(struct cli *cli, int argc, char **argv)
{
	if (argc < 2) {
		cli_help_print(stderr, &runs_spec);
		return EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++) /* --help anywhere */
		if (cli_opt_is_help(argv[i])) {
			cli_help_print(stdout, &runs_spec);
			return EXIT_OK;
		}
	if (!strcmp(argv[1], "list"))
		return runs_list_cmd(cli, argc, argv);
	if (!strcmp(argv[1], "show"))
		return runs_show_cmd(cli, argc, argv);
	if (!strcmp(argv[1], "prune"))
		return runs_prune_cmd(cli, argc, argv);
	static const char *const subs[] = { "list", "show", "prune" };
	return cli_unknown_subcommand("runs", argv[1], subs, sizeof subs / sizeof subs[0]);
}
