/* blocks: see blocks.h. */
#include "run/blocks.h"
#include "adapters/data.h"
#include "hub/builtin.h"
#include "project/project.h"
#include "util/suggest.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <stdlib.h>
#include <string.h>

struct word {
	char *text;
};

/* Jobs expand into their tasks' words; a name both a job and a plugin is ambiguous. */
static int expand(struct project *p, char **args, size_t nargs, char ***out, size_t *nout, int depth, char *err,
                  size_t errlen)
{
	for (size_t i = 0; i < nargs; i++) {
		struct job *j = project_find_job(p, args[i]);
		if (j) {
			if (project_find_plugin(p, -1, args[i]))
				return fail(err, errlen, SMELT_ERR_CONFIG,
				            "Ambiguous reference to '%s' which matches a job name AND a plugin name.", args[i]);
			if (depth > 8)
				return fail(err, errlen, SMELT_ERR_CONFIG, "job '%s' expands into itself", args[i]);
			int rc = expand(p, j->args, j->nargs, out, nout, depth + 1, err, errlen);
			if (rc)
				return rc;
			continue;
		}
		*out = xrealloc(*out, (*nout + 1) * sizeof **out);
		(*out)[(*nout)++] = xstrdup(args[i]);
	}
	return SMELT_OK;
}

static void add_plugin(struct block *b, struct plugin *pl, const char *mapping)
{
	b->plugins = xrealloc(b->plugins, (b->nplugins + 1) * sizeof *b->plugins);
	b->mappings = xrealloc(b->mappings, (b->nplugins + 1) * sizeof *b->mappings);
	b->plugins[b->nplugins] = pl;
	b->mappings[b->nplugins] = mapping;
	b->nplugins++;
}

static struct block *new_block(struct block_list *bl, enum block_kind kind)
{
	bl->items = xrealloc(bl->items, (bl->n + 1) * sizeof *bl->items);
	struct block *b = &bl->items[bl->n++];
	memset(b, 0, sizeof *b);
	b->kind = kind;
	return b;
}

/*
 * The type a plugin name suggests: the built-in catalog's, else the name
 * prefixes the adapters declare for their plugin types (plugin_types.json
 * of their data folders, host/src/adapters/data.h); NULL when unknown.
 */
static const char *guess_type(const char *root, const char *name)
{
	const struct adapter_definition *e = builtin_find(root, NULL, name, NULL);
	const struct adapter_data *d = adapter_data_get(root);
	int t = e ? plugin_type_parse(e->plugin_type) : -1;
	for (size_t i = 0; t < 0 && !e && i < d->ntypes; i++)
		for (char **pre = d->types[i].name_prefixes; t < 0 && *pre; pre++)
			if (!strncmp(name, *pre, strlen(*pre)))
				t = plugin_type_parse(d->types[i].plugin_type);
	return t >= 0 ? plugin_type_singular((enum plugin_type)t) : NULL;
}

/*
 * "Block X not found" (Meltano's words), and what to do: the plugin or
 * job of the project it is closest to, else how to add it.
 */
static int not_found(struct project *p, const char *word, char *err, size_t errlen)
{
	const char *colon = strchr(word, ':');
	char *base = colon ? xstrndup(word, (size_t)(colon - word)) : xstrdup(word);
	const char **names = xcalloc(p->nplugins + p->njobs + 1, sizeof *names);
	size_t n = 0;
	for (size_t i = 0; i < p->nplugins; i++)
		names[n++] = p->plugins[i]->name;
	for (size_t i = 0; i < p->njobs && !colon; i++)
		names[n++] = p->jobs[i].name;
	const char *guess = suggest_closest(base, names, n);
	const char *type = guess_type(p->root, base);
	const struct adapter_definition *native = builtin_find(p->root, NULL, base, NULL);
	int rc;
	if (guess)
		rc = fail(err, errlen, SMELT_ERR_CONFIG, "Block %s not found; did you mean '%s%s'?", word, guess,
		          colon ? colon : "");
	else /* smelt's own connectors by their variant, so the advice works without the Hub */
		rc = fail(err, errlen, SMELT_ERR_CONFIG,
		          "Block %s not found: '%s' is not a plugin or job of %s; add it with 'smelt add %s %s%s%s'", word,
		          base, p->file_name, type ? type : "TYPE", base, native ? " --variant " : "",
		          native ? native->variant : "");
	free(names);
	free(base);
	return rc;
}

int blocks_parse(struct project *p, char **args, size_t nargs, struct block_list *out, char *err, size_t errlen)
{
	char **words = NULL;
	size_t n = 0;
	int rc = expand(p, args, nargs, &words, &n, 0, err, errlen);
	memset(out, 0, sizeof *out);
	for (size_t i = 0; rc == SMELT_OK && i < n; i++) {
		char *name = words[i], *colon = strchr(name, ':');
		char *base = colon ? xstrndup(name, (size_t)(colon - name)) : xstrdup(name);
		struct plugin *pl = project_find_plugin(p, -1, base);
		const struct plugin_mapping *mp = NULL;
		if (!pl && !colon && project_find_mapping(p, base, &mp)) {
			free(base);
			rc = fail(err, errlen, SMELT_ERR_CONFIG,
			          "Unknown command type or bad block sequence at index %zu, starting block '%s'", i + 1, name);
			break;
		}
		if (!pl) {
			free(base);
			rc = not_found(p, name, err, errlen);
			break;
		}
		free(base);
		if (pl->type == PLUGIN_EXTRACTORS && !colon) {
			struct block *b = new_block(out, BLOCK_EL);
			struct strbuf text = STRBUF_INIT;
			strbuf_addstr(&text, name);
			add_plugin(b, pl, NULL);
			int done = 0;
			for (i++; i < n && !done; i++) {
				struct plugin *next = project_find_plugin(p, -1, words[i]);
				const struct plugin_mapping *m = NULL;
				struct plugin *mapper = project_find_mapping(p, words[i], &m);
				strbuf_addf(&text, " %s", words[i]);
				if (next && next->type == PLUGIN_LOADERS) {
					add_plugin(b, next, NULL);
					done = 1;
				} else if (mapper && !next) {
					add_plugin(b, mapper, m->name);
				} else if (next && next->type == PLUGIN_MAPPERS) {
					rc = fail(err, errlen, SMELT_ERR_CONFIG,
					          "Expected unique mappings name not the mapper plugin name: %s.", words[i]);
					break;
				} else if (next || mapper) {
					rc = fail(err, errlen, SMELT_ERR_CONFIG, "Expected mappers or loaders.");
					break;
				} else {
					rc = not_found(p, words[i], err, errlen);
					break;
				}
			}
			i--;
			b->text = strbuf_detach(&text);
			if (rc == SMELT_OK && !done)
				rc = fail(err, errlen, SMELT_ERR_CONFIG, "Loader missing in block set!");
			continue;
		}
		if (pl->type == PLUGIN_EXTRACTORS || pl->type == PLUGIN_LOADERS || pl->type == PLUGIN_MAPPERS) {
			if (!colon) {
				rc = fail(err, errlen, SMELT_ERR_CONFIG,
				          "Unknown command type or bad block sequence at index %zu, starting block '%s'", i + 1,
				          name);
				break;
			}
		}
		struct block *b = new_block(out, BLOCK_COMMAND);
		add_plugin(b, pl, NULL);
		b->command = colon ? xstrdup(colon + 1) : NULL;
		b->text = xstrdup(name);
	}
	for (size_t i = 0; i < n; i++)
		free(words[i]);
	free(words);
	if (rc)
		blocks_release(out);
	return rc;
}

void blocks_release(struct block_list *bl)
{
	for (size_t i = 0; i < bl->n; i++) {
		free(bl->items[i].plugins);
		free(bl->items[i].mappings);
		free(bl->items[i].command);
		free(bl->items[i].text);
	}
	free(bl->items);
	memset(bl, 0, sizeof *bl);
}
