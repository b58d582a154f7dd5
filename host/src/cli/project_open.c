/* project_open: how a command opens the project; see cli.h. */
#include "cli/cli.h"
#include "project/project.h"
#include "run/runfiles.h"
#include "settings/settings.h"
#include "settings/system_db.h"

int project_open_cli(struct cli *cli, enum env_behavior behavior, struct project **out)
{
	char err[1024];
	struct project *p;
	*out = NULL;
	if (project_load(NULL, NULL, cli ? cli->env_file : NULL, &p, err, sizeof err) < 0)
		return cli_fail("%s", err);
	if (project_select_environment(p, cli ? cli->environment : NULL, cli ? cli->no_environment : 0, behavior, err,
	                               sizeof err) < 0) {
		project_free(p);
		return cli_fail("%s", err);
	}
	settings_db_attach(p, settings_project_db_new(p)); /* database_uri: SQLite or PostgreSQL */
	runfiles_sweep(p->sys_dir); /* private files of smelt processes that died (issue 18 item 9) */
	cli_meltano_gitignore(p);
	*out = p;
	return 0;
}
