/*
 * cli - what every command shares: the global options, the command table,
 * usage errors and output formats.
 *
 * Exit codes (documented in README.md, stable API):
 *   0 success; 1 a handled failure (failed block, bad input, tool error);
 *   2 usage error or an operation that is not implemented yet;
 *   3 the project requires another version of smelt.
 * `smelt invoke` returns the tool's own exit code.
 */
#ifndef SMELT_CLI_H
#define SMELT_CLI_H

#include "cli/options.h"
#include "project/project.h"
#include "util/paths.h"

#include <stdio.h>

enum cli_exit { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_VERSION = 3 };

struct cli {
	const char *cwd;            /* --cwd DIR, NULL when not given */
	const char *environment;    /* --environment NAME, NULL when not given */
	int no_environment;         /* --no-environment */
	const char *env_file;       /* --env-file PATH, NULL: <root>/.env */
	int color;                  /* colour on stderr (a terminal and no NO_COLOR) */
	struct smelt_paths paths;   /* this install's binary, adapter and libexec folders (owned, main.c) */
	const char *command;        /* the command being run, e.g. "config" */
};

typedef int (*cli_fn)(struct cli *cli, int argc, char **argv);

struct cli_command {
	const char *name;    /* e.g. "config" */
	cli_fn fn;           /* argv[0] is the command name */
	const char *summary; /* one line for --help */
	const struct cli_spec *spec; /* its usage and option table (cli/options.h) */
};

/* The command table (main.c), {NULL}-terminated. */
extern const struct cli_command cli_commands[];

/* Print "smelt: error: ..." (and "see 'smelt CMD --help'") and return EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "smelt: error: ..." and return EXIT_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* For an operation whose issue has not landed: error and EXIT_USAGE (2). */
int cli_not_implemented(const char *what);

/* Output formats of listings. */
enum cli_format { FORMAT_TEXT = 0, FORMAT_JSON = 1, FORMAT_ENV = 2 };
/* Parse a --format value; -1 when not one of the allowed (mask of 1 << FORMAT_X). */
int cli_parse_format(const char *value, unsigned allowed);

/* "did you mean": suggest_closest() (util/suggest.h); NULL when nothing is close. */
const char *cli_suggest(const char *name, const char *const *candidates, size_t n);
/*
 * Print "smelt: error: <message>; did you mean '<guess>'?" (the guess
 * among candidates, when one is close) and "see 'smelt CMD --help'" when
 * cmd is set; returns EXIT_USAGE.  For unknown options, types and names.
 */
int cli_usage_suggest(const char *cmd, const char *name, const char *const *candidates, size_t n, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6)));
/*
 * "unknown subcommand 'SUB' (a, b, c); did you mean 'b'?" for command cmd,
 * whose subcommands are subs[0..n); returns EXIT_USAGE.
 */
int cli_unknown_subcommand(const char *cmd, const char *sub, const char *const *subs, size_t n);
/* 0 when sub is one of subs[0..n), else cli_unknown_subcommand()'s message and EXIT_USAGE. */
int cli_check_subcommand(const char *cmd, const char *sub, const char *const *subs, size_t n);

/*
 * For commands: find and load the project (cli->env_file), select the
 * environment from cli->environment / cli->no_environment per behavior,
 * and attach the system database as its settings level
 * (settings_system_db_new(), closed by project_free()).  Prints
 * "smelt: error: ..." and returns EXIT_FAIL (1) on failure, else 0 with
 * *out set (free with project_free()).  (project_open.c)
 */
int project_open_cli(struct cli *cli, enum env_behavior behavior, struct project **out);

/*
 * A Meltano project (meltano.yml) that smelt opens gets '.smelt/' in its
 * .gitignore, since Meltano's own .gitignore covers only .meltano/: added
 * once (nothing when a line already names .smelt), with a log line.  Only
 * when the project has a .gitignore or is a git work tree, and only for
 * the default system folder <root>/.smelt.  Failures are warnings.
 */
void cli_meltano_gitignore(const struct project *p);

/*
 * "; did you mean 'tap-csv'?" when a plugin of p has a name close to
 * name, else "": the tail of a "plugin 'x' is not in smelt.yml" error.
 * Borrowed (a static buffer, valid until the next call).
 */
const char *cli_plugin_hint(const struct project *p, const char *name);
/*
 * "job 'NAME' does not exist; did you mean 'daily'?" (the closest of p's
 * jobs), or "...; HINT" when none is close and hint is set; EXIT_FAIL.
 * cli_no_schedule(): the same for schedules.
 */
int cli_no_job(const struct project *p, const char *name, const char *hint);
int cli_no_schedule(const struct project *p, const char *name);

/*
 * The plugin type word ("extractor", "loaders", ...) closest to word when
 * word is not a type but looks like a mistyped one ("extracter"); NULL
 * otherwise.  Borrowed (static).
 */
const char *cli_suggest_type(const char *word);

#endif
