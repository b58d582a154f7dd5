/* smelt job: arrives with its issue; until then it says so (exit 2). */
#include "cli/commands.h"

int cmd_job(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	return cli_not_implemented("smelt job");
}
