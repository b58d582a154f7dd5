/*
 * loader - finds adapter .so files, dlopens them, checks their ABI and
 * descriptor, and keeps the ones that pass in a registry.  A refused
 * adapter is reported in one line naming the file and why; it never
 * stops the others from loading and never crashes the host.
 */
#ifndef SMELT_LOADER_H
#define SMELT_LOADER_H

#include <smelt/sdk.h>
#include <stddef.h>

struct loaded_adapter {
	const struct smelt_adapter *desc; /* the adapter's static descriptor */
	void *handle;                     /* dlopen handle */
	char *path;                       /* the .so it came from */
	void *state;                      /* from init(), NULL until adapter_ready() */
	int initialised;                  /* init() has run successfully */
	void *hctx;                       /* the host context lent to init() */
};

struct loader {
	struct loaded_adapter *items; /* loaded, in discovery order */
	size_t n;
	char **refusals;              /* one-line messages for refused files */
	size_t nrefusals;
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
 * Entry i of the adapter's command table, stepping by its descriptor's
 * command_size (ABI 1.2; the 1.1 size when the field is absent or 0).
 * NULL at the {NULL} end of the table, or when the adapter has none.
 * Borrowed from the adapter until loader_release().
 */
const struct smelt_command *loader_command(const struct loaded_adapter *a, size_t i);

/* By adapter name; NULL when none. */
struct loaded_adapter *loader_find(struct loader *l, const char *name);

/*
 * The adapter claiming a plugin: an explicit adapter name wins, then a
 * namespace pattern match, then the plugin type bit.  NULL when none.
 */
struct loaded_adapter *loader_claim(struct loader *l, const char *explicit_name,
                                    const char *namespace_, uint32_t plugin_type);

/* The plural name of an SDK plugin-type bit ("extractors"); "unknown" for anything else. */
const char *loader_type_bit_name(uint32_t type_bit);
/* The SDK bit (enum smelt_plugin_type) of a plural or singular type name; 0 when unknown. */
uint32_t loader_type_bit(const char *name);

#endif
