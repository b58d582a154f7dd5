/*
 * options - the option tables of the commands: one table per command
 * (struct cli_spec) that parses argv, prints `--help`, and writes the
 * command's part of the man page, so the three never disagree.
 *
 * A command keeps its table next to its parser, switches on the ids
 * cli_opt_next() returns, and leaves --help and "unknown option" errors
 * (with their "did you mean") to this module:
 *
 *	enum { O_FORCE, O_DIR };
 *	static const struct cli_option opts[] = {
 *		{ O_FORCE, "--force", 'f', NULL, "overwrite", 0, NULL },
 *		{ O_DIR, "--dir", 0, "DIR", "the folder", 0, NULL },
 *		{ 0 },
 *	};
 *	for (int i = 1; i < argc; i++)
 *		switch (cli_opt_next(&spec, NULL, argc, argv, &i, &v)) { ... }
 *
 * Option words: "--name VALUE" and "--name=VALUE" (also with '_' for '-'
 * in the name, as Meltano accepts), "-x VALUE" and "-x=VALUE" for a short
 * name.  Short names do not bundle ("-qv" is unknown).
 *
 * Threading: no shared state; the tables are constant.
 */
#ifndef SMELT_OPTIONS_H
#define SMELT_OPTIONS_H

#include <stdio.h>

enum cli_opt_flags {
	CLI_OPT_REPEAT = 1 << 0, /* may be given several times; each value counts (help says "repeatable") */
	CLI_OPT_HIDDEN = 1 << 1, /* accepted, but not in --help, the man page or "did you mean" */
};

/* One option of a command.  It takes a value exactly when arg is set. */
struct cli_option {
	int id;               /* what cli_opt_next() returns for it: >= 0, the command's own enum */
	const char *name;     /* long name with its dashes, "--format"; NULL ends the table */
	char short_name;      /* 'q' for -q; 0: none */
	const char *arg;      /* the value's name in help ("DIR", "text|json"); NULL: a flag */
	const char *help;     /* one line for --help and the man page */
	unsigned flags;       /* enum cli_opt_flags */
	const char *subs;     /* the subcommands it goes with, space-separated; NULL: every one */
};

/* What a command says about itself: its usage, its options, its examples. */
struct cli_spec {
	const char *name;                  /* the command, "config"; NULL for smelt's global options */
	const char *usage;                 /* synopsis lines, '\n'-separated, each "smelt CMD ..." */
	const char *text;                  /* paragraphs after the synopsis ('\n'-ended), or NULL */
	const struct cli_option *options;  /* { 0 }-terminated; NULL: none */
	const char *notes;                 /* paragraphs after the options, or NULL */
	const char *examples;              /* "  smelt CMD ...   what it does\n" lines, or NULL */
};

/* What cli_opt_next() returns besides an option's id. */
enum cli_opt_result {
	CLI_OPT_ARG = -1,     /* argv[*i] is not an option: a word (or "-" alone) */
	CLI_OPT_HELP = -2,    /* -h or --help */
	CLI_OPT_UNKNOWN = -3, /* looks like an option, but not one of the table (nothing printed) */
	CLI_OPT_ERROR = -4,   /* the option's value is missing; the error is printed: exit with EXIT_USAGE */
};

/*
 * Read the word argv[*i] against spec's table, for subcommand sub (NULL:
 * options of every subcommand count).  Returns the option's id; for an
 * option that takes a value *value is set (to the part after '=', or to
 * the next word, and *i then moves past it), for a flag *value is NULL.
 * Otherwise one of enum cli_opt_result.  value is borrowed from argv.
 */
int cli_opt_next(const struct cli_spec *spec, const char *sub, int argc, char **argv, int *i, const char **value);

/* 1 when word is -h or --help (for commands that look for it before their subcommand). */
int cli_opt_is_help(const char *word);

/*
 * "smelt: error: unknown option 'ARG'; did you mean '--x'?" (the guess
 * among the visible options of spec that go with sub, when one is close)
 * and "see 'smelt CMD --help'".  Returns EXIT_USAGE.
 */
int cli_opt_unknown(const struct cli_spec *spec, const char *sub, const char *arg);

/* The option of spec with this id; NULL when there is none. */
const struct cli_option *cli_opt_find(const struct cli_spec *spec, int id);

/*
 * Print spec as `--help` shows it: "usage: " and the synopsis, the text,
 * "Options:" with one aligned line per visible option (and -h, --help),
 * the notes, and "Examples:".
 */
void cli_help_print(FILE *out, const struct cli_spec *spec);

/*
 * Print the options of spec as tab-separated lines
 * "CMD\tOPTION\tARG\tFLAGS\tHELP": CMD empty for the global options,
 * OPTION the long name (and again the short one, "-q", on a line of its
 * own), ARG empty for a flag, FLAGS "hidden", "repeat", both
 * comma-separated, or "-".  The list the shell completions read
 * (`smelt help --options`).
 */
void cli_help_options(FILE *out, const struct cli_spec *spec);

/*
 * The man page section of a command: .SS "smelt CMD", its synopsis in
 * bold, its text, one .TP per visible option, its notes and examples.
 */
void cli_help_roff(FILE *out, const struct cli_spec *spec);

struct cli_command;
/*
 * `smelt --help`: the global spec's synopsis and text, the commands with
 * their summaries, the global options, the global notes (exit codes).
 */
void cli_help_top(FILE *out, const struct cli_spec *global, const struct cli_command *commands);

/*
 * The body of the smelt(1) man page, from .SH NAME ("smelt - summary")
 * through the options of every command of commands (whose spec is set);
 * scripts/manpage.sh adds the title line and the closing sections.
 */
void cli_man_page(FILE *out, const char *summary, const struct cli_spec *global, const struct cli_command *commands);

#endif
