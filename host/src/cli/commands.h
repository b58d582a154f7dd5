/* commands.h - one entry function per command family, each in cli/<name>.c. */
#ifndef SMELT_COMMANDS_H
#define SMELT_COMMANDS_H

#include "cli/cli.h"
#include "cli/options.h"

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

/* Each command's usage and option table, beside its parser (cli/<name>.c). */
extern const struct cli_spec init_spec;
extern const struct cli_spec add_spec;
extern const struct cli_spec remove_spec;
extern const struct cli_spec install_spec;
extern const struct cli_spec lock_spec;
extern const struct cli_spec config_spec;
extern const struct cli_spec environment_spec;
extern const struct cli_spec invoke_spec;
extern const struct cli_spec run_spec;
extern const struct cli_spec select_spec;
extern const struct cli_spec state_spec;
extern const struct cli_spec job_spec;
extern const struct cli_spec schedule_spec;
extern const struct cli_spec test_spec;
extern const struct cli_spec hub_spec;
extern const struct cli_spec adapters_spec;
extern const struct cli_spec runs_spec;
extern const struct cli_spec serve_spec;

#endif
