/*
 * smelt init [DIR]: a new project as Meltano's init makes it (MELTANO.md
 * §11): smelt.yml with a fresh project_id and the dev/staging/prod
 * environments, .env (0600), .gitignore, the tool folders with .gitkeep,
 * output/ with its .gitignore, and the system folder .smelt/ with the
 * system database.
 */
#include "cli/commands.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A random (version 4) UUID from /dev/urandom. */
static int uuid4(char out[37])
{
	unsigned char b[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, b, sizeof b);
	close(fd);
	if (n != (ssize_t)sizeof b)
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
	         b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

static int write_new(const char *dir, const char *rel, const char *text, mode_t mode, int overwrite)
{
	char *path = path_join(dir, rel);
	int rc = 0;
	if (overwrite || !file_exists(path))
		rc = write_file_atomic(path, text, strlen(text), mode);
	if (rc == 0)
		chmod(path, mode);
	free(path);
	return rc;
}

enum init_opt { INIT_FORCE, INIT_NO_STATS, INIT_DATABASE_URI };

static const struct cli_option init_options[] = {
	{ INIT_FORCE, "--force", 0, NULL, "overwrite an existing smelt.yml", 0, NULL },
	{ INIT_NO_STATS, "--no-usage-stats", 0, NULL, "write send_anonymous_usage_stats: false", 0, NULL },
	{ INIT_DATABASE_URI, "--database-uri", 0, "URI", "ignored (Meltano's): the system database is .smelt/smelt.db",
	  0, NULL },
	{ 0 },
};

const struct cli_spec init_spec = {
	.name = "init",
	.usage = "smelt init [DIR] [--force] [--no-usage-stats]",
	.text = "Create a project in DIR (default: the current folder).\n",
	.options = init_options,
	.examples = "  smelt init my-project                  a new folder with the project\n"
	            "  smelt init                             the project in the current folder\n",
};

int cmd_init(struct cli *cli, int argc, char **argv)
{
	const char *dir = NULL;
	int force = 0, no_stats = 0;
	const char *v;
	(void)cli;
	for (int i = 1; i < argc; i++) {
		switch (cli_opt_next(&init_spec, NULL, argc, argv, &i, &v)) {
		case CLI_OPT_HELP:
			cli_help_print(stdout, &init_spec);
			return EXIT_OK;
		case INIT_FORCE:
			force = 1;
			break;
		case INIT_NO_STATS:
			no_stats = 1;
			break;
		case INIT_DATABASE_URI:
			log_warn("--database-uri is ignored: the system database is always .smelt/smelt.db");
			break;
		case CLI_OPT_ERROR:
			return EXIT_USAGE;
		case CLI_OPT_UNKNOWN:
			return cli_opt_unknown(&init_spec, NULL, argv[i]);
		default: /* CLI_OPT_ARG */
			if (dir)
				return cli_usage("init", "init takes one folder");
			dir = argv[i];
		}
	}
	if (!dir)
		dir = ".";
	for (int i = 0; i < 2; i++) {
		char *f = path_join(dir, i ? "meltano.yml" : "smelt.yml");
		int exists = file_exists(f);
		free(f);
		if (exists && !force)
			return cli_fail("a %s file already exists in '%s'; use --force to overwrite it",
			                i ? "meltano.yml" : "smelt.yml", dir);
	}
	if (mkdir_p(dir, 0755) < 0)
		return cli_fail("cannot create '%s': %s", dir, strerror(errno));

	char id[37];
	if (uuid4(id) < 0)
		return cli_fail("cannot read /dev/urandom: %s", strerror(errno));
	struct strbuf yml = STRBUF_INIT;
	strbuf_addf(&yml,
	            "default_environment: dev\n"
	            "project_id: %s\n"
	            "%s"
	            "env: {}\n"
	            "environments:\n"
	            "- name: dev\n"
	            "  env: {}\n"
	            "- name: staging\n"
	            "  env: {}\n"
	            "- name: prod\n"
	            "  env: {}\n",
	            id, no_stats ? "send_anonymous_usage_stats: false\n" : "");
	int rc = write_new(dir, "smelt.yml", yml.buf, 0644, 1);
	strbuf_release(&yml);
	if (rc < 0)
		return cli_fail("cannot write '%s/smelt.yml': %s", dir, strerror(errno));

	static const char *const folders[] = { "extract", "load", "transform", "orchestrate", "analyze", "quality" };
	for (size_t i = 0; i < sizeof folders / sizeof folders[0]; i++) {
		char *d = path_join(dir, folders[i]);
		int ok = mkdir_p(d, 0755) == 0;
		free(d);
		char *keep = xasprintf("%s/.gitkeep", folders[i]);
		if (!ok || write_new(dir, keep, "", 0644, 0) < 0) {
			free(keep);
			return cli_fail("cannot create '%s/%s': %s", dir, folders[i], strerror(errno));
		}
		free(keep);
	}
	char *out = path_join(dir, "output");
	int ok = mkdir_p(out, 0755) == 0;
	free(out);
	if (!ok || write_new(dir, "output/.gitignore", "*\n!.gitignore\n", 0644, 0) < 0 ||
	    write_new(dir, ".gitignore", "/venv\n/.smelt/\n.env\n", 0644, 0) < 0 ||
	    write_new(dir, ".env", "", 0600, 0) < 0 || write_new(dir, "README.md", "", 0644, 0) < 0 ||
	    write_new(dir, "requirements.txt", "", 0644, 0) < 0)
		return cli_fail("cannot write the project files in '%s': %s", dir, strerror(errno));
	char *sys = path_join(dir, ".smelt");
	/* the system folder holds the database, logs and run files: owner only (SECURITY.md) */
	if (mkdir_private(sys) < 0 || write_new(dir, ".smelt/.gitignore", "*\n", 0600, 0) < 0 ||
	    write_new(dir, ".smelt/CACHEDIR.TAG",
	              "Signature: 8a477f597d28d172789f06886806bc55\n"
	              "# This file is a cache directory tag created by smelt.\n"
	              "# For information about cache directory tags see https://bford.info/cachedir/\n",
	              0600, 0) < 0) {
		free(sys);
		return cli_fail("cannot create '%s/.smelt': %s", dir, strerror(errno));
	}
	char *db = path_join(sys, "smelt.db");
	char err[256];
	struct store *st = NULL;
	rc = store_open(db, &st, err, sizeof err);
	store_close(st);
	free(db);
	free(sys);
	if (rc < 0)
		return cli_fail("cannot create the system database: %s", err);
	printf("Created the project in '%s' (smelt.yml, .env, tool folders, .smelt/smelt.db)\n", dir);
	char *here = realpath(".", NULL), *there = realpath(dir, NULL);
	if (here && there && !strcmp(here, there)) /* no 'cd .' for the folder we are in */
		printf("Next: smelt add extractor NAME\n");
	else
		printf("Next: cd '%s' && smelt add extractor NAME\n", dir);
	free(here);
	free(there);
	return EXIT_OK;
}
