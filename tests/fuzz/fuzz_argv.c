/*
 * fuzz_argv - command-line words: the splitter that turns a command
 * string (plugin commands, `args:`) into argv without a shell
 * (argv_split), and the parser of `smelt run` arguments into blocks
 * (blocks_parse) against a fixed project with jobs, mappers and every
 * plugin type.  Split words, quoted back the way a shell quotes, must
 * split into the same words; blocks must never crash, and an EL block
 * starts with an extractor and ends with a loader.
 */
#include "project/project.h"
#include "run/blocks.h"
#include "util/argv.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property failed: say which (the compiler merges abort() calls, so a backtrace cannot). */
#define FUZZ_FAIL(what) \
	do { \
		fprintf(stderr, "fuzz_argv: %s\n", what); \
		abort(); \
	} while (0)

static const char project_yml[] =
	"version: 1\n"
	"default_environment: dev\n"
	"environments: [{name: dev}]\n"
	"plugins:\n"
	"  extractors:\n"
	"  - {name: tap-a, namespace: tap_a, executable: tap-a}\n"
	"  - {name: tap-b, inherit_from: tap-a}\n"
	"  loaders:\n"
	"  - {name: target-x, namespace: target_x, executable: target-x}\n"
	"  mappers:\n"
	"  - name: mapper-m\n"
	"    namespace: mapper_m\n"
	"    executable: mapper-m\n"
	"    mappings: [{name: hide, config: {}}, {name: upper, config: {}}]\n"
	"  utilities:\n"
	"  - {name: util-u, namespace: util_u, executable: util-u, commands: {go: run --x}}\n"
	"  transformers:\n"
	"  - {name: dbt-x, namespace: dbt_x, executable: dbt}\n"
	"jobs:\n"
	"- {name: j1, tasks: [tap-a target-x]}\n"
	"- {name: j2, tasks: [j1, 'util-u:go']}\n"
	"- {name: loop, tasks: [loop]}\n"
	"- {name: target-x, tasks: [tap-b target-x]}\n";

/* Quote w for a POSIX shell: 'w' with each ' written as '\''. */
static void shell_quote(struct strbuf *sb, const char *w)
{
	strbuf_addch(sb, '\'');
	for (; *w; w++)
		if (*w == '\'')
			strbuf_addstr(sb, "'\\''");
		else
			strbuf_addch(sb, *w);
	strbuf_addstr(sb, "' ");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct project *p;
	char err[512];
	char **words = NULL, **again = NULL;
	size_t n = 0, m = 0;
	char *s = malloc(size + 1);

	log_set_level(LOG_LEVEL_DISABLED);
	if (!p && project_load_text("smelt.yml", project_yml, sizeof project_yml - 1, &p, err, sizeof err) != 0)
		FUZZ_FAIL(err);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (argv_split(s, &words, &n) == 0) {
		struct strbuf q = STRBUF_INIT;
		for (size_t i = 0; i < n; i++)
			shell_quote(&q, words[i]);
		if (argv_split(q.buf, &again, &m) != 0 || m != n)
			FUZZ_FAIL("quoted words no longer split the same");
		for (size_t i = 0; i < n; i++)
			if (strcmp(words[i], again[i]))
				FUZZ_FAIL("a quoted word split differently");
		strbuf_release(&q);

		struct block_list bl;
		if (blocks_parse(p, words, n, &bl, err, sizeof err) == 0) {
			for (size_t i = 0; i < bl.n; i++) {
				const struct block *b = &bl.items[i];
				if (!b->nplugins || !b->text)
					FUZZ_FAIL("an empty block");
				if (b->kind == BLOCK_EL && (b->plugins[0]->type != PLUGIN_EXTRACTORS ||
				                            b->plugins[b->nplugins - 1]->type != PLUGIN_LOADERS))
					FUZZ_FAIL("an EL block must go from an extractor to a loader");
			}
		} else if (!err[0]) {
			FUZZ_FAIL("refused without a message");
		}
		blocks_release(&bl);
	}
	argv_free(words);
	argv_free(again);
	free(s);
	return 0;
}
