/* options: the commands' option tables: parsing, --help, man page; see options.h. */
#include "cli/options.h"
#include "cli/cli.h"
#include "util/strbuf.h"
#include "util/suggest.h"

#include <stdlib.h>
#include <string.h>

#define HELP_COLUMN_MAX 26 /* a longer option term puts its help on the next line */

/* The help option every command has; not in the tables. */
static const struct cli_option help_option = { CLI_OPT_HELP, "--help", 'h', NULL, "show this help", 0, NULL };

/* 1 when o goes with subcommand sub (every option goes when sub is NULL or o names none). */
static int goes_with(const struct cli_option *o, const char *sub)
{
	if (!sub || !o->subs)
		return 1;
	size_t n = strlen(sub);
	for (const char *p = o->subs; (p = strstr(p, sub)); p += n)
		if ((p == o->subs || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

/*
 * Does word start with the option name (compared with '_' and '-' alike)
 * and end there or at '='?  Returns the length matched, 0 when not.
 */
static size_t name_match(const char *word, const char *name)
{
	size_t n = strlen(name);
	for (size_t k = 0; k < n; k++) {
		char a = word[k] == '_' ? '-' : word[k], b = name[k] == '_' ? '-' : name[k];
		if (a != b)
			return 0; /* also stops at word's end: name has no NUL before n */
	}
	return word[n] == '\0' || word[n] == '=' ? n : 0;
}

int cli_opt_is_help(const char *word)
{
	return !strcmp(word, "-h") || !strcmp(word, "--help");
}

int cli_opt_next(const struct cli_spec *spec, const char *sub, int argc, char **argv, int *i, const char **value)
{
	const char *word = argv[*i];
	*value = NULL;
	if (word[0] != '-' || word[1] == '\0')
		return CLI_OPT_ARG;
	if (cli_opt_is_help(word))
		return CLI_OPT_HELP;
	for (const struct cli_option *o = spec->options; o && o->name; o++) {
		char shrt[3] = { '-', o->short_name, '\0' };
		size_t n = word[1] == '-' ? name_match(word, o->name) : o->short_name ? name_match(word, shrt) : 0;
		if (!n || !goes_with(o, sub))
			continue;
		if (!o->arg) {
			if (word[n] == '=')
				continue; /* "--flag=x": no flag takes a value */
			return o->id;
		}
		if (word[n] == '=') {
			*value = word + n + 1;
			return o->id;
		}
		if (*i + 1 >= argc) {
			fprintf(stderr, "smelt: error: option '%s' needs a value\n", word); /* as typed: -p, --for_mat */
			return CLI_OPT_ERROR;
		}
		*value = argv[++*i];
		return o->id;
	}
	return CLI_OPT_UNKNOWN;
}

int cli_opt_unknown(const struct cli_spec *spec, const char *sub, const char *arg)
{
	const char **names = NULL;
	size_t n = 0;
	for (const struct cli_option *o = spec->options; o && o->name; o++)
		if (!(o->flags & CLI_OPT_HIDDEN) && goes_with(o, sub)) {
			names = xrealloc(names, (n + 2) * sizeof *names);
			names[n++] = o->name;
		}
	names = xrealloc(names, (n + 2) * sizeof *names);
	names[n++] = help_option.name;
	const char *eq = strchr(arg, '=');
	char *name = eq ? xstrndup(arg, (size_t)(eq - arg)) : xstrdup(arg);
	int rc = cli_usage_suggest(spec->name, name, names, n,
	                           spec->name ? "unknown option '%s'" : "unknown global option '%s'", arg);
	if (!spec->name) /* the global options, before the command */
		fputs("see 'smelt --help'\n", stderr);
	free(name);
	free(names);
	return rc;
}

const struct cli_option *cli_opt_find(const struct cli_spec *spec, int id)
{
	for (const struct cli_option *o = spec->options; o && o->name; o++)
		if (o->id == id)
			return o;
	return NULL;
}

/* "-q, --quiet" or "--format text|json": how an option is shown in --help. */
static void option_term(struct strbuf *sb, const struct cli_option *o)
{
	strbuf_reset(sb);
	if (o->short_name)
		strbuf_addf(sb, "-%c, ", o->short_name);
	strbuf_addstr(sb, o->name);
	if (o->arg)
		strbuf_addf(sb, " %s", o->arg);
}

/* The options --help shows, in table order, then --help itself; NULL-terminated, caller frees. */
static const struct cli_option **visible_options(const struct cli_spec *spec)
{
	size_t n = 0;
	for (const struct cli_option *o = spec->options; o && o->name; o++)
		n++;
	const struct cli_option **list = xcalloc(n + 2, sizeof *list);
	n = 0;
	for (const struct cli_option *o = spec->options; o && o->name; o++)
		if (!(o->flags & CLI_OPT_HIDDEN))
			list[n++] = o;
	list[n] = &help_option;
	return list;
}

/* Every synopsis line of spec, after "usage: " or aligned under it. */
static void print_usage(FILE *out, const char *usage)
{
	int first = 1;
	for (const char *line = usage; line && *line;) {
		const char *end = strchr(line, '\n');
		int len = end ? (int)(end - line) : (int)strlen(line);
		fprintf(out, "%s%.*s\n", first ? "usage: " : "       ", len, line);
		first = 0;
		line = end ? end + 1 : NULL;
	}
}

/* The option lines of spec under heading, aligned on one column. */
static void print_options(FILE *out, const struct cli_spec *spec, const char *heading)
{
	const struct cli_option **list = visible_options(spec);
	struct strbuf term = STRBUF_INIT;
	size_t width = 0;
	for (size_t k = 0; list[k]; k++) {
		option_term(&term, list[k]);
		if (term.len > width && term.len <= HELP_COLUMN_MAX)
			width = term.len;
	}
	fprintf(out, "\n%s\n", heading);
	for (size_t k = 0; list[k]; k++) {
		const struct cli_option *o = list[k];
		option_term(&term, o);
		if (term.len > width)
			fprintf(out, "  %s\n  %-*s  ", term.buf, (int)width, "");
		else
			fprintf(out, "  %-*s  ", (int)width, term.buf);
		fprintf(out, "%s%s\n", o->help ? o->help : "", o->flags & CLI_OPT_REPEAT ? " (repeatable)" : "");
	}
	strbuf_release(&term);
	free(list);
}

void cli_help_print(FILE *out, const struct cli_spec *spec)
{
	print_usage(out, spec->usage);
	if (spec->text)
		fprintf(out, "\n%s", spec->text);
	print_options(out, spec, "Options:");
	if (spec->notes)
		fprintf(out, "\n%s", spec->notes);
	if (spec->examples)
		fprintf(out, "\nExamples:\n%s", spec->examples);
}

void cli_help_top(FILE *out, const struct cli_spec *global, const struct cli_command *commands)
{
	print_usage(out, global->usage);
	if (global->text)
		fprintf(out, "\n%s", global->text);
	fprintf(out, "\nCommands:\n");
	for (const struct cli_command *c = commands; c->name; c++)
		fprintf(out, "  %-12s %s\n", c->name, c->summary);
	print_options(out, global, "Global options (before the command):");
	if (global->notes)
		fprintf(out, "\n%s", global->notes);
}

void cli_help_options(FILE *out, const struct cli_spec *spec)
{
	for (const struct cli_option *o = spec->options; o && o->name; o++) {
		const char *flags = o->flags & CLI_OPT_HIDDEN ? (o->flags & CLI_OPT_REPEAT ? "hidden,repeat" : "hidden")
		                    : o->flags & CLI_OPT_REPEAT ? "repeat" : "-";
		for (int form = 0; form < 2; form++) {
			if (form && !o->short_name)
				break;
			fprintf(out, "%s\t", spec->name ? spec->name : "");
			if (form)
				fprintf(out, "-%c", o->short_name);
			else
				fputs(o->name, out);
			fprintf(out, "\t%s\t%s\t%s\n", o->arg ? o->arg : "", flags, o->help ? o->help : "");
		}
	}
}

/* roff-escaped text of s[0..n), without a line break; a '.' or '\'' at a line start is guarded. */
static void roff_chars(FILE *out, const char *s, size_t n, int line_start)
{
	if (line_start && n && (s[0] == '.' || s[0] == '\''))
		fputs("\\&", out);
	for (size_t k = 0; k < n; k++) {
		if (s[k] == '\\')
			fputs("\\e", out);
		else if (s[k] == '-')
			fputs("\\-", out);
		else
			fputc(s[k], out);
	}
}

/* s for roff running text: '\\' and '-' escaped, a '.' or '\'' that starts it guarded. */
static void cli_roff_text(FILE *out, const char *s)
{
	roff_chars(out, s, strlen(s), 1);
}

/* One option as a tagged paragraph: bold names, italic argument. */
static void roff_option(FILE *out, const struct cli_option *o)
{
	fputs(".TP\n", out);
	if (o->short_name)
		fprintf(out, "\\fB\\-%c\\fR, ", o->short_name);
	fputs("\\fB", out);
	cli_roff_text(out, o->name);
	fputs("\\fR", out);
	if (o->arg) {
		fputs(" \\fI", out);
		roff_chars(out, o->arg, strlen(o->arg), 0);
		fputs("\\fR", out);
	}
	fputc('\n', out);
	cli_roff_text(out, o->help ? o->help : "");
	if (o->flags & CLI_OPT_REPEAT)
		fputs(" (repeatable)", out);
	fputc('\n', out);
}

/*
 * A help text's paragraphs as roff: a line "  TERM  description" is a
 * tagged paragraph (TERM in bold), a line indented under its description
 * continues it, a blank line starts a new paragraph, other lines are
 * running text.  In bold "smelt ..." lines of examples stay as they are.
 */
static void roff_paragraphs(FILE *out, const char *text)
{
	int para = 0;      /* a paragraph break is due before the next running text */
	size_t desccol = 0; /* the column of the last term's description; 0: not in a term list */
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line), indent = 0;
		while (indent < len && line[indent] == ' ')
			indent++;
		const char *t = line + indent;
		size_t tlen = len - indent;
		const char *gap = NULL;
		for (size_t k = 0; k + 1 < tlen; k++)
			if (t[k] == ' ' && t[k + 1] == ' ') {
				gap = t + k;
				break;
			}
		if (!tlen) {
			para = 1;
			desccol = 0;
		} else if (indent && desccol && indent >= desccol) {
			roff_chars(out, t, tlen, 1);
			fputc('\n', out);
		} else if (indent && gap) {
			const char *rest = gap;
			while (*rest == ' ')
				rest++;
			desccol = (size_t)(rest - line);
			fputs(".TP\n\\fB", out);
			roff_chars(out, t, (size_t)(gap - t), 0);
			fputs("\\fR\n", out);
			roff_chars(out, rest, len - desccol, 1);
			fputc('\n', out);
			para = 0;
		} else if (indent) {
			fputs(".TP\n\\fB", out);
			roff_chars(out, t, tlen, 0);
			fputs("\\fR\n", out);
			desccol = 0;
			para = 0;
		} else {
			if (para || desccol)
				fputs(".PP\n", out);
			para = 0;
			desccol = 0;
			roff_chars(out, t, tlen, 1);
			fputc('\n', out);
		}
		line = end ? end + 1 : NULL;
	}
}

/* Lines of text, each in bold, in a no-fill block: a synopsis. */
static void roff_synopsis(FILE *out, const char *usage)
{
	fputs(".nf\n", out);
	for (const char *line = usage; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		fputs("\\fB", out);
		roff_chars(out, line, len, 0);
		fputs("\\fR\n", out);
		line = end ? end + 1 : NULL;
	}
	fputs(".fi\n", out);
}

void cli_help_roff(FILE *out, const struct cli_spec *spec)
{
	fputs(".SS \"smelt ", out);
	roff_chars(out, spec->name, strlen(spec->name), 0);
	fputs("\"\n", out);
	roff_synopsis(out, spec->usage);
	if (spec->text) {
		fputs(".PP\n", out);
		roff_paragraphs(out, spec->text);
	}
	const struct cli_option **list = visible_options(spec);
	if (list[0] != &help_option)
		fputs(".PP\nOptions:\n", out);
	for (size_t k = 0; list[k] && list[k] != &help_option; k++)
		roff_option(out, list[k]);
	free(list);
	if (spec->notes) {
		fputs(".PP\n", out);
		roff_paragraphs(out, spec->notes);
	}
	if (spec->examples) {
		fputs(".PP\nExamples:\n", out);
		roff_paragraphs(out, spec->examples);
	}
}

void cli_man_page(FILE *out, const char *summary, const struct cli_spec *global, const struct cli_command *commands)
{
	fputs(".SH NAME\nsmelt \\- ", out);
	roff_chars(out, summary, strlen(summary), 0);
	fputs("\n.SH SYNOPSIS\n", out);
	roff_synopsis(out, global->usage);
	if (global->text) {
		fputs(".SH DESCRIPTION\n", out);
		roff_paragraphs(out, global->text);
	}
	fputs(".SH COMMANDS\n", out);
	for (const struct cli_command *c = commands; c->name; c++) {
		fputs(".TP\n\\fB", out);
		roff_chars(out, c->name, strlen(c->name), 0);
		fputs("\\fR\n", out);
		cli_roff_text(out, c->summary);
		fputc('\n', out);
	}
	fputs(".SH \"GLOBAL OPTIONS\"\n", out);
	const struct cli_option **list = visible_options(global);
	for (size_t k = 0; list[k]; k++)
		roff_option(out, list[k]);
	free(list);
	if (global->notes) {
		fputs(".SH \"EXIT STATUS\"\n", out);
		roff_paragraphs(out, global->notes);
	}
	fputs(".SH \"COMMAND OPTIONS\"\n", out);
	for (const struct cli_command *c = commands; c->name; c++)
		if (c->spec)
			cli_help_roff(out, c->spec);
}
