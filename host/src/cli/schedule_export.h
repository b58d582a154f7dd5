/*
 * smelt schedule export [ORCHESTRATOR]: hand the project's jobs and
 * schedules to an orchestrator's adapter (its export_schedules operation,
 * SMELT_REQ_EXPORT; sdk/ABI.md).
 */
#ifndef SMELT_CLI_SCHEDULE_EXPORT_H
#define SMELT_CLI_SCHEDULE_EXPORT_H

struct cli;

/*
 * argv[0] is "export".  The orchestrator is the one named, else the
 * project's only one.  Returns the exit code: 0, 1 when the adapter or
 * the project failed, 2 for usage errors and an adapter without the
 * operation.
 */
int schedule_export(struct cli *cli, int argc, char **argv);

#endif
