/* smelt schedule export [ORCHESTRATOR]: see schedule_export.h. */
#include "cli/schedule_export.h"
#include "adapters/dispatch.h"
#include "cli/commands.h"
#include "project/project.h"
#include "run/jobs.h"
#include "run/runtime.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * {"jobs": [...], "schedules": {"job": [...], "elt": [...]}}: what `smelt
 * job list --format json` and `smelt schedule list --format json` print,
 * in one object.  Caller frees.
 */
static char *export_json(struct project *p)
{
	time_t now = time(NULL);
	cJSON *o = cJSON_CreateObject();
	cJSON *jobs = cJSON_AddArrayToObject(o, "jobs");
	for (size_t i = 0; i < p->njobs; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "job_name", p->jobs[i].name);
		cJSON_AddItemToObject(e, "tasks", cJSON_Duplicate(p->jobs[i].tasks, 1));
		cJSON_AddItemToArray(jobs, e);
	}
	cJSON *all = cJSON_AddObjectToObject(o, "schedules");
	cJSON *job = cJSON_AddArrayToObject(all, "job");
	cJSON *elt = cJSON_AddArrayToObject(all, "elt");
	for (size_t i = 0; i < p->nschedules; i++)
		cJSON_AddItemToArray(p->schedules[i].job ? job : elt, schedule_to_json(p, &p->schedules[i], now));
	char *text = json_print(o);
	cJSON_Delete(o);
	return text;
}

/* The orchestrator named, else the project's only one; NULL with the error printed (*code set). */
static struct plugin *pick(struct project *p, const char *name, int *code)
{
	if (name) {
		struct plugin *pl = project_find_plugin(p, PLUGIN_ORCHESTRATORS, name);
		if (!pl)
			*code = cli_fail("orchestrator '%s' is not in %s%s", name, p->file_name, cli_plugin_hint(p, name));
		return pl;
	}
	struct plugin *only = NULL;
	struct strbuf names = STRBUF_INIT;
	size_t n = 0;
	for (size_t i = 0; i < p->nplugins; i++)
		if (p->plugins[i]->type == PLUGIN_ORCHESTRATORS) {
			only = p->plugins[i];
			strbuf_addf(&names, "%s%s", n++ ? ", " : "", only->name);
		}
	if (n == 0)
		*code = cli_fail("%s has no orchestrator to export the schedules to; add one with 'smelt add orchestrator NAME'",
		                 p->file_name);
	else if (n > 1)
		*code = cli_usage("schedule", "%s has %zu orchestrators (%s): which one? 'smelt schedule export NAME'",
		                  p->file_name, n, names.buf);
	strbuf_release(&names);
	return n == 1 ? only : NULL;
}

int schedule_export(struct cli *cli, int argc, char **argv)
{
	const char *name = NULL;
	for (int i = 1; i < argc; i++) {
		if (cli_opt_is_help(argv[i]))
			return cli_help_print(stdout, &schedule_spec), EXIT_OK;
		if (argv[i][0] == '-' && argv[i][1])
			return cli_opt_unknown(&schedule_spec, "export", argv[i]);
		if (name)
			return cli_usage("schedule", "unexpected argument '%s'", argv[i]);
		name = argv[i];
	}
	struct project *p;
	int code = project_open_cli(cli, ENV_IGNORE_DEFAULT, &p);
	if (code)
		return code;
	struct plugin *pl = pick(p, name, &code);
	if (!pl) {
		project_free(p);
		return code;
	}
	struct runtime rt;
	runtime_init(&rt, &cli->paths, p);
	char err[SMELT_ERRBUF_SIZE * 4] = "";
	struct loaded_adapter *a = runtime_adapter_for(&rt, pl, err, sizeof err);
	if (!a) {
		code = cli_fail("%s", err);
	} else if (!dispatch_has_op(a, SMELT_REQ_EXPORT)) {
		code = cli_not_implemented("schedule export");
		fprintf(stderr, "(adapter '%s' has no export_schedules operation)\n", a->desc->name);
	} else {
		char *json = export_json(p);
		struct smelt_request req = dispatch_request(SMELT_REQ_EXPORT, &pl, 1);
		req.schedules_json = json;
		int rc = dispatch_call(a, &req, NULL, err, sizeof err);
		free(json);
		if (rc == SMELT_ERR_UNSUPPORTED)
			code = cli_not_implemented(err[0] ? err : "schedule export");
		else if (rc)
			code = cli_fail("%s: %s", pl->name, err[0] ? err : smelt_strerror(rc));
		else
			log_info("exported %zu schedule%s and %zu job%s to '%s'", p->nschedules, p->nschedules == 1 ? "" : "s",
			         p->njobs, p->njobs == 1 ? "" : "s", pl->name);
	}
	runtime_release(&rt);
	project_free(p);
	return code;
}
