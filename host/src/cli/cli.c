/* cli: shared helpers of the commands; see cli.h. */
#include "cli/cli.h"
#include "project/definition.h"
#include "project/project.h"
#include "util/log.h"
#include "util/suggest.h"

#include "util/fs.h"
#include "util/strbuf.h"

#include <stdarg.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fputs("smelt: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd)
		fprintf(stderr, "see 'smelt %s --help'\n", cmd);
	return EXIT_USAGE;
}

int cli_fail(const char *fmt, ...)
{
	va_list ap;
	fputs("smelt: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

int cli_not_implemented(const char *what)
{
	fprintf(stderr, "smelt: error: %s: not implemented yet\n", what);
	return EXIT_USAGE;
}

int cli_parse_format(const char *value, unsigned allowed)
{
	static const char *const names[] = { "text", "json", "env" };
	for (int f = 0; f < 3; f++)
		if (!strcmp(value, names[f]) && (allowed & (1u << f)))
			return f;
	return -1;
}

const char *cli_suggest(const char *name, const char *const *candidates, size_t n)
{
	return suggest_closest(name, candidates, n);
}

int cli_usage_suggest(const char *cmd, const char *name, const char *const *candidates, size_t n, const char *fmt,
                      ...)
{
	va_list ap;
	const char *guess = suggest_closest(name, candidates, n);
	fputs("smelt: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (guess)
		fprintf(stderr, "; did you mean '%s'?", guess);
	fputc('\n', stderr);
	if (cmd)
		fprintf(stderr, "see 'smelt %s --help'\n", cmd);
	return EXIT_USAGE;
}

/* 1 when abbrev is an abbreviation of word: its first letter, then the rest of its letters in order ("rm", "remove"). */
static int abbreviates(const char *abbrev, const char *word)
{
	if (!abbrev[0] || !abbrev[1] || abbrev[0] != word[0])
		return 0;
	for (const char *a = abbrev + 1, *w = word + 1; *a; a++) {
		while (*w && *w != *a)
			w++;
		if (!*w++)
			return 0;
	}
	return 1;
}

/* "WHAT 'NAME' does not exist; did you mean 'X'?" (the guess among names[0..n)), else "...; HINT"; EXIT_FAIL. */
static int no_such(const char *what, const char *name, const char **names, size_t n, const char *hint)
{
	const char *guess = cli_suggest(name, names, n);
	fprintf(stderr, "smelt: error: %s '%s' does not exist", what, name);
	if (guess)
		fprintf(stderr, "; did you mean '%s'?", guess);
	else if (hint)
		fprintf(stderr, "; %s", hint);
	fputc('\n', stderr);
	free(names);
	return EXIT_FAIL;
}

int cli_no_job(const struct project *p, const char *name, const char *hint)
{
	const char **names = xcalloc(p->njobs + 1, sizeof *names);
	for (size_t i = 0; i < p->njobs; i++)
		names[i] = p->jobs[i].name;
	return no_such("job", name, names, p->njobs, hint);
}

int cli_no_schedule(const struct project *p, const char *name)
{
	const char **names = xcalloc(p->nschedules + 1, sizeof *names);
	for (size_t i = 0; i < p->nschedules; i++)
		names[i] = p->schedules[i].name;
	return no_such("schedule", name, names, p->nschedules, NULL);
}

int cli_unknown_subcommand(const char *cmd, const char *sub, const char *const *subs, size_t n)
{
	struct strbuf list = STRBUF_INIT;
	const char *only = NULL; /* the one subcommand sub abbreviates, when no other does */
	size_t abbreviated = 0;
	for (size_t i = 0; i < n; i++) {
		strbuf_addf(&list, "%s%s", i ? ", " : "", subs[i]);
		if (abbreviates(sub, subs[i]) && !abbreviated++)
			only = subs[i];
	}
	int rc;
	if (!cli_suggest(sub, subs, n) && abbreviated == 1)
		rc = cli_usage(cmd, "unknown subcommand '%s %s' (%s); did you mean '%s'?", cmd, sub, list.buf, only);
	else
		rc = cli_usage_suggest(cmd, sub, subs, n, "unknown subcommand '%s %s' (%s)", cmd, sub, list.buf);
	strbuf_release(&list);
	return rc;
}

int cli_check_subcommand(const char *cmd, const char *sub, const char *const *subs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(sub, subs[i]))
			return 0;
	return cli_unknown_subcommand(cmd, sub, subs, n);
}

const char *cli_suggest_type(const char *word)
{
	const char *names[2 * PLUGIN_TYPE_COUNT];
	if (plugin_type_parse(word) >= 0)
		return NULL;
	for (int i = 0; i < PLUGIN_TYPE_COUNT; i++) {
		names[2 * i] = plugin_type_singular((enum plugin_type)i);
		names[2 * i + 1] = plugin_type_plural((enum plugin_type)i);
	}
	return suggest_closest(word, names, 2 * PLUGIN_TYPE_COUNT);
}

/* 1 when a .gitignore line already covers the folder .smelt at the root. */
static int ignores_smelt(const char *text)
{
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '/'))
			n--;
		const char *l = line;
		if (n && *l == '/')
			l++, n--;
		if (n == 6 && !strncmp(l, ".smelt", 6))
			return 1;
		line = end ? end + 1 : NULL;
	}
	return 0;
}

void cli_meltano_gitignore(const struct project *p)
{
	if (!p || strcmp(p->file_name, "meltano.yml"))
		return;
	char *own = path_join(p->root, ".smelt");
	int default_sys = !strcmp(own, p->sys_dir);
	free(own);
	char *path = path_join(p->root, ".gitignore"), *git = path_join(p->root, ".git");
	struct strbuf sb = STRBUF_INIT;
	int has = file_exists(path), repo = file_exists(git) || dir_exists(git);
	if (default_sys && (has || repo) && (!has || read_file(path, &sb) == 0) && !ignores_smelt(sb.buf)) {
		if (sb.len && sb.buf[sb.len - 1] != '\n')
			strbuf_addch(&sb, '\n');
		strbuf_addstr(&sb, "# smelt's system folder (state, logs, virtualenvs), beside Meltano's .meltano/\n.smelt/\n");
		struct stat st;
		mode_t mode = has && stat(path, &st) == 0 ? (st.st_mode & 07777) : 0644; /* keep the file's mode */
		if (write_file_atomic(path, sb.buf, sb.len, mode) == 0)
			log_info("added '.smelt/' to .gitignore (smelt's system folder, which Meltano's .gitignore does not cover)");
		else
			log_warn("cannot add '.smelt/' to '%s': %m; add it yourself so git ignores smelt's system folder", path);
	}
	strbuf_release(&sb);
	free(git);
	free(path);
}

const char *cli_plugin_hint(const struct project *p, const char *name)
{
	static char hint[160];
	const char **names = xcalloc(p->nplugins + 1, sizeof *names);
	for (size_t i = 0; i < p->nplugins; i++)
		names[i] = p->plugins[i]->name;
	const char *guess = suggest_closest(name, names, p->nplugins);
	snprintf(hint, sizeof hint, guess ? "; did you mean '%s'?" : "%s", guess ? guess : "");
	free(names);
	return hint;
}
