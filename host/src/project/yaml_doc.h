/*
 * yaml_doc - a YAML node tree with source positions (from libyaml marks),
 * its conversion to cJSON, and comment-preserving edits done as byte-range
 * splices of the original text.
 *
 * Edits keep everything outside the changed range byte-identical
 * (comments, key order, quoting, blank lines).  New keys go after the last
 * key of their block mapping at its indentation; new list items after the
 * last item ("- " at the list's column); removed keys/items take their
 * whole lines with them.  New collections are written in block style with
 * Meltano's layout (lists not indented under their key).  A flow-style
 * collection ({a: 1}, [x, y]) that must change inside is re-emitted in
 * block style, and so is anything unusual (e.g. "- - x"): comments and
 * anchors inside such a re-emitted part are lost.
 *
 * Every edit verifies itself before it keeps the new text: the text must
 * parse and read (ynode_to_json) as exactly the old tree with the edit
 * applied (json_equal).  Otherwise the edit fails, naming the path, and
 * the text is left byte-identical; this is what refuses an in-place edit of
 * an anchored node that an alias elsewhere shares.
 *
 * Limits (each an error naming file:line:col, never a silent cut):
 * one document per stream (a second `---` document is an error); keys
 * unique within a mapping (as Meltano: a repeated key is an error, not
 * "the last one wins"); no alias inside the node it refers to (a cycle);
 * at most YDOC_MAX_DEPTH levels of nested mappings/lists and at most
 * YDOC_MAX_NODES nodes once aliases are expanded (alias bombs).  Every
 * function here is linear (or n log n) in the size of the text.
 * Not thread-safe.
 */
#ifndef SMELT_PROJECT_YAML_DOC_H
#define SMELT_PROJECT_YAML_DOC_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct strbuf;

#define YDOC_MAX_DEPTH 100     /* levels of nested mappings and lists, aliases expanded */
#define YDOC_MAX_NODES 500000  /* nodes of a document once aliases are expanded */

enum ynode_type { YN_SCALAR = 0, YN_MAP = 1, YN_SEQ = 2 };

struct ymark {
	size_t off; /* byte offset in the text */
	int line;   /* 1-based */
	int col;    /* 1-based */
};

struct ynode {
	enum ynode_type type;
	int flow;              /* collections: 1 when written in flow style */
	int style;             /* scalars: libyaml yaml_scalar_style_t */
	int plain_empty;       /* scalars: an empty plain scalar (`key:` with no value) */
	char *tag;             /* explicit tag or NULL */
	char *value;           /* scalars: the value (NUL-terminated; may hold NULs, see len) */
	size_t len;            /* scalars: value length */
	struct ymark start;    /* first byte of the node (collections: first key/item or the bracket) */
	struct ymark end;      /* just after the node (collections: after the last descendant) */
	struct ynode **items;  /* seq: items; map: key, value, key, value, ... */
	size_t n;              /* seq: item count; map: pair count (items holds 2n) */
	struct ynode *alias;   /* non-NULL when this node is an alias (*x); it points at the anchored node */
	size_t xsize;          /* internal: nodes of the alias-expanded subtree, 0 until computed */
	int xheight;           /* internal: levels below this node once aliases are expanded */
};

struct ydoc {
	struct ynode *root;    /* NULL for an empty document */
	const char *text;      /* borrowed: the text parsed */
	size_t len;
	struct ynode **all;    /* every node, for freeing */
	size_t nall, alloc;
};

/*
 * Parse text (borrowed until ydoc_free) into *out.  name is used in
 * messages: "name:LINE:COL: problem".  0 or SMELT_ERR_CONFIG.
 */
int ydoc_parse(const char *text, size_t len, const char *name, struct ydoc **out, char *err, size_t errlen);
void ydoc_free(struct ydoc *d); /* accepts NULL */

/* Follow an alias to its anchored node (n itself when not an alias). */
const struct ynode *ynode_deref(const struct ynode *n);
/* A mapping's value for key (and its key node in *key when not NULL); NULL when none. */
const struct ynode *ynode_get(const struct ynode *map, const char *key, const struct ynode **keynode);
/* 1 when n is a null scalar (empty, ~, null, Null, NULL) without a !!str tag. */
int ynode_is_null(const struct ynode *n);
/* The node as JSON (YAML 1.2 core schema for plain scalars, merge keys <<, aliases expanded with a size limit). */
cJSON *ynode_to_json(const struct ynode *n);

/*
 * Edits on text (see the top).  name is for messages.  Path segments as in
 * project.h.  0 on success; a negative status with err filled and text
 * unchanged on failure.
 */
int yedit_set(struct strbuf *text, const char *name, const char *const *path, size_t n, const cJSON *value,
              char *err, size_t errlen);
/* 0 removed, 1 not there, negative on error. */
int yedit_unset(struct strbuf *text, const char *name, const char *const *path, size_t n, char *err,
                size_t errlen);
int yedit_append(struct strbuf *text, const char *name, const char *const *path, size_t n, const cJSON *value,
                 char *err, size_t errlen);

/* Append value as a YAML scalar (plain when that reads back the same, else quoted). */
void yaml_emit_scalar(struct strbuf *sb, const cJSON *v);
/* Append a value in block style at indent (first line indented too); no final newline. */
void yaml_emit_block(struct strbuf *sb, const cJSON *v, int indent);

#endif
