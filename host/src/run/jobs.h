/*
 * jobs - jobs and schedules beyond the project model: parsing and
 * validating a job's tasks, the run blocks and plugins a schedule needs,
 * and the JSON export of schedules that orchestrators read
 * (`smelt schedule list --format json`, Meltano's shape, MELTANO.md §3).
 *
 * Not thread-safe (uses the project model).
 */
#ifndef SMELT_JOBS_H
#define SMELT_JOBS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <time.h>

struct project;
struct schedule;

/*
 * Parse the --tasks text of `smelt job add|set`: YAML or JSON, a string
 * or a list of strings and/or lists of strings (a plain string such as
 * "tap-csv target-sqlite" reads as one task).  On success *tasks is the
 * value (caller frees with cJSON_Delete).  SMELT_ERR_CONFIG otherwise.
 */
int jobs_parse_tasks(const char *text, cJSON **tasks, char *err, size_t errlen);

/*
 * Check that each task of tasks parses into run blocks of project p
 * (plugins exist, EL blocks end with a loader, ...).  job_name is for
 * messages.  0 or SMELT_ERR_CONFIG with Meltano's block message.
 */
int jobs_validate_tasks(struct project *p, const char *job_name, const cJSON *tasks, char *err, size_t errlen);

/*
 * The arguments of the `smelt run` a schedule stands for: [job] for a job
 * schedule; [extractor, loader] (then "<transformer>:run" for transform
 * run, only the latter for only) for an extractor/loader schedule.
 * NULL-terminated (free with argv_free()), count in *n.  SMELT_ERR_CONFIG
 * when a transform is asked for and the project has no transformer.
 */
int schedule_run_args(struct project *p, const struct schedule *s, char ***args, size_t *n, char *err,
                      size_t errlen);

/*
 * The run blocks of a schedule, each as `smelt run` words would write it
 * ("tap-csv target-sqlite", "dbt-sqlite:run"), in order: jobs are
 * expanded.  NULL-terminated array (free with argv_free()), count in *n.
 * SMELT_ERR_CONFIG / SMELT_ERR_NOTFOUND with err set when they do not
 * parse.
 */
int schedule_blocks(struct project *p, const struct schedule *s, char ***blocks, size_t *n, char *err,
                    size_t errlen);

/*
 * The names of the plugins a schedule needs to run (for `smelt install
 * --schedule NAME`): every plugin of its run blocks (mapper plugins of
 * mappings, each name once), in block order, plus the parent of an
 * inherited plugin (it must be locked/installed too).  *names is
 * NULL-terminated (free with argv_free()), count in *n.
 * SMELT_ERR_NOTFOUND when there is no schedule of that name,
 * SMELT_ERR_CONFIG when its blocks do not parse; err is set.
 */
int schedule_plugins(struct project *p, const char *schedule, char ***names, size_t *n, char *err,
                     size_t errlen);

/*
 * One schedule as an entry of `smelt schedule list --format json`:
 * Meltano's keys (name, interval, cron_interval, env, and job: {name,
 * tasks} or extractor, loader, transform, elt_args,
 * last_successful_run_ended_at) plus Smelt's: annotations (as written,
 * when given), environment (the active
 * environment's name or null), next_run_at (ISO-8601 UTC after now, null
 * without cron), run_args (the `smelt run` arguments), blocks (the run
 * blocks, absent when they do not parse, then block_error says why).
 * Caller frees.
 */
cJSON *schedule_to_json(struct project *p, const struct schedule *s, time_t now);

#endif
