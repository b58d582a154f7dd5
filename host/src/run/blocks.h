/*
 * blocks - parsing the arguments of `smelt run` into blocks (Meltano's
 * grammar, MELTANO.md §6): jobs expand first; an extractor starts an EL
 * block `extractor (mapping)* loader`; any other plugin type, optionally
 * `:command`, is a command block.
 */
#ifndef SMELT_BLOCKS_H
#define SMELT_BLOCKS_H

#include <stddef.h>

struct project;
struct plugin;

enum block_kind { BLOCK_EL = 1, BLOCK_COMMAND = 2 };

struct block {
	enum block_kind kind;
	struct plugin **plugins; /* EL: extractor, mappers..., loader; command: one */
	const char **mappings;   /* parallel to plugins: mapping name of a mapper, else NULL */
	size_t nplugins;
	char *command;           /* command blocks: the part after ':', NULL when none */
	char *text;              /* the block as written, for messages ("tap-csv target-sqlite") */
};

struct block_list {
	struct block *items;
	size_t n;
};

/*
 * Parse args (run arguments, jobs expanded here) against project p.
 * Returns 0, or SMELT_ERR_CONFIG with err set to Meltano's message
 * ("Block x not found", "Loader missing in block set!", ...).
 */
int blocks_parse(struct project *p, char **args, size_t nargs, struct block_list *out, char *err,
                 size_t errlen);
void blocks_release(struct block_list *bl);

#endif
