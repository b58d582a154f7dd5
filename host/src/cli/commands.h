/* commands.h - one entry function per command family, each in cli/<name>.c. */
#ifndef SMELT_COMMANDS_H
#define SMELT_COMMANDS_H

#include "cli/cli.h"

int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_add(struct cli *cli, int argc, char **argv);
int cmd_remove(struct cli *cli, int argc, char **argv);
int cmd_install(struct cli *cli, int argc, char **argv);
int cmd_lock(struct cli *cli, int argc, char **argv);
int cmd_config(struct cli *cli, int argc, char **argv);
int cmd_environment(struct cli *cli, int argc, char **argv);
int cmd_invoke(struct cli *cli, int argc, char **argv);
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_select(struct cli *cli, int argc, char **argv);
int cmd_state(struct cli *cli, int argc, char **argv);
int cmd_job(struct cli *cli, int argc, char **argv);
int cmd_schedule(struct cli *cli, int argc, char **argv);
int cmd_test(struct cli *cli, int argc, char **argv);
int cmd_hub(struct cli *cli, int argc, char **argv);
int cmd_adapters(struct cli *cli, int argc, char **argv);
int cmd_runs(struct cli *cli, int argc, char **argv);
int cmd_serve(struct cli *cli, int argc, char **argv);

#endif
