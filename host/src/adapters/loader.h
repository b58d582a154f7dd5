/*
 * loader - finds adapter .so files, dlopens them, checks their ABI and
 * descriptor, and keeps the ones that pass in a registry.  A refused
 * adapter is reported in one line naming the file and why; it never
 * stops the others from loading and never crashes the host.
 *
 * Lazy discovery (loader_discover_indexed()): an index file remembers,
 * for each .so that loaded, its identity (device, inode, size, mtime,
 * ctime) and what claims are decided on (name, plugin_types, namespaces).
 * A .so whose identity matches its entry is registered without being
 * loaded (desc NULL); loader_find() and loader_claim() load the one they
 * return, so an adapter a command does not need is never mapped.  Any
 * other .so (new, changed, refused before) is loaded at discovery as
 * loader_discover() does, its refusal reported the same way, and the
 * index is rewritten.  The index only saves work: when a loaded adapter's
 * descriptor disagrees with it, or a lazy entry cannot be loaded after
 * all, the claim is decided again on what loading found, as it would have
 * been with every adapter loaded.
 */
#ifndef SMELT_LOADER_H
#define SMELT_LOADER_H

#include <smelt/sdk.h>
#include <stddef.h>
#include <stdint.h>

struct loaded_adapter {
	const struct smelt_adapter *desc; /* the adapter's static descriptor; NULL while a lazy entry is not loaded */
	void *handle;                     /* dlopen handle (NULL while not loaded) */
	char *path;                       /* the .so it came from */
	void *state;                      /* from init(), NULL until adapter_ready() */
	int initialised;                  /* init() has run successfully */
	void *hctx;                       /* the host context lent to init() */
	/* what claims are decided on while desc is NULL, from the index (owned; the descriptor's once loaded) */
	char *name;
	uint32_t plugin_types;
	char **namespaces;                /* NULL-terminated, never NULL */
	int refused;                      /* a lazy entry that failed to load: skipped by find and claim */
};

struct loader {
	struct loaded_adapter *items; /* loaded (or lazy: see above), in discovery order; never moved once discovered */
	size_t n;
	char **refusals;              /* one-line messages for refused files */
	size_t nrefusals;
	char *index_path;             /* an index to write at loader_release() (its folder did not exist yet), or NULL */
	char *index_text;
};

void loader_init(struct loader *l);
/* destroy() every initialised adapter, then dlclose all. */
void loader_release(struct loader *l);

/*
 * Load one .so.  Returns 0 when it loaded; a negative status with err
 * filled otherwise (SMELT_ERR_ABI for version and size mismatches,
 * SMELT_ERR_CONFIG for a bad descriptor, SMELT_ERR for dlopen failures).
 */
int loader_open(struct loader *l, const char *path, char *err, size_t errlen);

/*
 * Load every *.so of dir (sorted by name); refusals are recorded in
 * l->refusals.  A missing dir is not an error.  Returns how many loaded.
 */
size_t loader_scan_dir(struct loader *l, const char *dir);

/*
 * The standard discovery: the install's adapter folder, each folder of
 * $SMELT_ADAPTER_PATH (':'-separated), then <project_root>/adapters when
 * project_root is not NULL.
 */
void loader_discover(struct loader *l, const char *install_dir, const char *project_root);

/*
 * loader_discover() with the index file index_dir/index_name (see the top
 * of this file): only what the index does not vouch for is loaded now.
 * index_dir NULL: loader_discover().  The index is written (0600, through
 * a temporary file, beneath index_dir, created 0700 when missing) when it
 * changed; a failure to read or write it costs only the time it saves.
 * The folder is never created here: when it is missing, the index is
 * written at loader_release() if the folder exists by then (the first
 * `smelt run` of a project creates it).
 */
void loader_discover_indexed(struct loader *l, const char *install_dir, const char *project_root,
                             const char *index_dir, const char *index_name);

/*
 * Load a lazy entry (nothing when a is loaded).  0, or a negative status
 * with err filled: then a is marked refused, the refusal recorded in
 * l->refusals and logged as loader_scan_dir() does.
 */
int loader_load(struct loader *l, struct loaded_adapter *a, char *err, size_t errlen);

/* Load every lazy entry (refusals as loader_load()); after it every entry not refused has its desc. */
void loader_load_all(struct loader *l);

/*
 * Entry i of the adapter's command table, stepping by its descriptor's
 * command_size (ABI 1.2; the 1.1 size when the field is absent or 0).
 * NULL at the {NULL} end of the table, or when the adapter has none.
 * Borrowed from the adapter until loader_release().
 */
const struct smelt_command *loader_command(const struct loaded_adapter *a, size_t i);

/* By adapter name, loaded (loader_load()); NULL when none or when it cannot be loaded. */
struct loaded_adapter *loader_find(struct loader *l, const char *name);

/*
 * The adapter claiming a plugin: an explicit adapter name wins, then a
 * namespace pattern match, then the plugin type bit.  NULL when none.
 * The adapter returned is loaded (a lazy one that cannot be loaded is
 * refused and the claim decided again without it).
 */
struct loaded_adapter *loader_claim(struct loader *l, const char *explicit_name,
                                    const char *namespace_, uint32_t plugin_type);

/* The plural name of an SDK plugin-type bit ("extractors"); "unknown" for anything else. */
const char *loader_type_bit_name(uint32_t type_bit);
/* The SDK bit (enum smelt_plugin_type) of a plural or singular type name; 0 when unknown. */
uint32_t loader_type_bit(const char *name);

#endif
