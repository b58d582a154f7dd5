/*
 * required - the settings a plugin cannot run without: its definition's
 * settings_group_validation, a list of groups of setting names, of which
 * one group must be set in full (Meltano's rule).  `smelt config list`
 * marks them; `smelt run` checks them before installing anything.
 */
#ifndef SMELT_REQUIRED_H
#define SMELT_REQUIRED_H

#include <stddef.h>

struct definition;
struct project;
struct plugin;
struct settings;

/* 1 when name is in one of d's settings_group_validation groups. */
int required_has(const struct definition *d, const char *name);

/*
 * Whether the resolved settings s satisfy d's groups.  Returns 0 when
 * they do (or there are none); otherwise 1 with the unset names of the
 * group nearest completion in *missing ("api_key, account", caller
 * frees).
 */
int required_missing(const struct definition *d, const struct settings *s, char **missing);

/*
 * required_missing() for plugin pl of p, its settings resolved here.
 * Returns 0 (satisfied, or the definition cannot be read: the run reports
 * that itself), 1 with *missing set, or a negative status with err filled
 * when the settings cannot be resolved.
 */
int required_check(struct project *p, struct plugin *pl, char **missing, char *err, size_t errlen);

#endif
