/* cli: shared helpers of the commands; see cli.h. */
#include "cli/cli.h"
#include "project/definition.h"
#include "project/project.h"
#include "util/log.h"
#include "util/suggest.h"

#include "util/fs.h"
#include "util/strbuf.h"

#include <ctype.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
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

int cli_is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

/* Compare an option name allowing '_' for '-'. */
static int opt_eq(const char *arg, const char *name, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char a = arg[i] == '_' ? '-' : arg[i], b = name[i] == '_' ? '-' : name[i];
		if (a != b)
			return 0;
	}
	return 1;
}

int cli_opt_flag(const char *arg, const char *name)
{
	size_t n = strlen(name);
	return strlen(arg) == n && opt_eq(arg, name, n);
}

int cli_opt_value(int argc, char **argv, int *i, const char *name, const char **value)
{
	const char *arg = argv[*i];
	size_t n = strlen(name);
	if (!opt_eq(arg, name, n) || strlen(arg) < n)
		return 0;
	if (arg[n] == '=') {
		*value = arg + n + 1;
		return 1;
	}
	if (arg[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "smelt: error: option '%s' needs a value\n", name);
		return -1;
	}
	*value = argv[++*i];
	return 1;
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

/* The text 'smelt CMD --help' prints; NULL when it cannot be run. */
static char *help_text(const char *cmd)
{
	char *exe = exe_path();
	int fds[2];
	if (!exe || pipe(fds) != 0) {
		free(exe);
		return NULL;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	char *args[] = { exe, (char *)cmd, "--help", NULL };
	pid_t pid;
	extern char **environ;
	int rc = posix_spawn(&pid, exe, &fa, NULL, args, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	ssize_t got;
	while (rc == 0 && (got = read(fds[0], buf, sizeof buf)) > 0)
		strbuf_add(&sb, buf, (size_t)got);
	close(fds[0]);
	if (rc == 0)
		waitpid(pid, NULL, 0);
	free(exe);
	return strbuf_detach(&sb);
}

int cli_unknown_option(const char *cmd, const char *arg)
{
	char *help = help_text(cmd);
	const char **opts = NULL;
	size_t n = 0;
	for (char *p = help; p && (p = strstr(p, "--")); ) {
		char *q = p + 2;
		while (isalnum((unsigned char)*q) || *q == '-' || *q == '_')
			q++;
		if (q > p + 2 && (p == help || !isalnum((unsigned char)p[-1]))) {
			opts = xrealloc(opts, (n + 1) * sizeof *opts);
			opts[n++] = p;
			if (*q)
				*q++ = '\0';
		}
		p = q;
	}
	const char *eq = strchr(arg, '=');
	char *name = eq ? xstrndup(arg, (size_t)(eq - arg)) : xstrdup(arg);
	int rc = cli_usage_suggest(cmd, name, opts, n, "unknown option '%s'", arg);
	free(name);
	free(opts);
	free(help);
	return rc;
}

/* Examples of each command, printed under its --help (one table, so every command has them). */
static const struct {
	const char *cmd;
	const char *text;
} examples[] = {
	{ "init", "  smelt init my-project                  a new folder with the project\n"
	          "  smelt init                             the project in the current folder\n" },
	{ "add", "  smelt add extractor tap-csv            from the Hub or the built-in catalog\n"
	         "  smelt add loader target-sqlite\n"
	         "  smelt add tap-github --variant meltanolabs\n"
	         "  smelt add extractor tap-mine --custom   a plugin the Hub does not know\n" },
	{ "remove", "  smelt remove tap-csv\n"
	            "  smelt remove --plugin-type loader target-sqlite\n" },
	{ "install", "  smelt install                          every plugin of the project\n"
	             "  smelt install dbt-sqlite gx\n"
	             "  smelt install --clean tap-github       rebuild its virtualenv\n" },
	{ "lock", "  smelt lock --all                       lock every plugin\n"
	          "  smelt lock --update tap-github         take the Hub's newest definition\n" },
	{ "config", "  smelt config list tap-csv              settings, where each value comes from\n"
	            "  smelt config set tap-csv files '[{\"entity\": \"orders\", \"path\": \"data/orders.csv\", \"keys\": [\"id\"]}]'\n"
	            "  smelt config set target-postgres password --from-file -   a secret from stdin, into .env\n"
	            "  smelt config print tap-csv --format env\n" },
	{ "environment", "  smelt environment list\n"
	                 "  smelt environment add staging\n" },
	{ "invoke", "  smelt invoke tap-csv --discover        run the plugin's executable\n"
	            "  smelt invoke dbt-sqlite:run            one of its commands\n"
	            "  smelt invoke --list-commands dbt-sqlite --format json\n" },
	{ "run", "  smelt run tap-csv target-sqlite                  extract and load\n"
	         "  smelt run tap-csv target-sqlite dbt-sqlite:build  then build the dbt models\n"
	         "  smelt run --full-refresh daily                   a job, ignoring saved state\n"
	         "  smelt run -q daily                               for cron: errors and one line\n" },
	{ "select", "  smelt select tap-csv --list --all\n"
	            "  smelt select tap-csv orders '*'\n"
	            "  smelt select tap-csv --exclude customers email\n" },
	{ "state", "  smelt state list\n"
	           "  smelt state get dev:tap-csv-to-target-sqlite\n"
	           "  smelt state clear --force dev:tap-csv-to-target-sqlite\n" },
	{ "job", "  smelt job add load --tasks 'tap-csv target-sqlite'\n"
	         "  smelt job add daily --tasks '[\"tap-csv target-sqlite\", \"dbt-sqlite:build\"]'\n"
	         "  smelt job list --format json\n" },
	{ "schedule", "  smelt schedule add daily --job load --interval @daily\n"
	              "  smelt schedule list --format json\n"
	              "  smelt schedule run daily\n" },
	{ "test", "  smelt test --all\n"
	          "  smelt test dbt-sqlite\n" },
	{ "hub", "  smelt hub search github --type extractors\n"
	         "  smelt hub ping\n" },
	{ "adapters", "  smelt adapters list\n"
	              "  smelt adapters check\n" },
	{ "runs", "  smelt runs list --status failed --since 7d\n"
	          "  smelt runs show RUN_ID --format json\n"
	          "  smelt runs prune --keep 100\n" },
	{ "serve", "  smelt serve                            the API on 127.0.0.1:5000\n"
	           "  smelt serve --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem\n" },
};

int cli_print_examples(FILE *out, const char *cmd)
{
	for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++)
		if (!strcmp(examples[i].cmd, cmd)) {
			fprintf(out, "\nExamples:\n%s", examples[i].text);
			return 1;
		}
	return 0;
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
