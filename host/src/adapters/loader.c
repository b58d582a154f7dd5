/* loader: see loader.h.  Modelled on Redis moduleLoad and PostgreSQL dfmgr.c. */
#include "adapters/loader.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
	"extractors", "loaders", "mappers", "transformers", "transforms", "orchestrators", "utilities", "files",
};

const char *loader_type_bit_name(uint32_t bit)
{
	for (unsigned i = 0; i < 8; i++)
		if (bit == (1u << i))
			return type_names[i];
	return "unknown";
}

uint32_t loader_type_bit(const char *name)
{
	size_t n = strlen(name);
	for (unsigned i = 0; i < 8; i++) {
		const char *t = type_names[i];
		size_t tn = strlen(t);
		if (!strcmp(name, t))
			return 1u << i;
		/* singular: "extractor", "utility" (utilities), "file" */
		if (!strcmp(t, "utilities") ? !strcmp(name, "utility") : (n + 1 == tn && !strncmp(name, t, n)))
			return 1u << i;
	}
	return 0;
}

void loader_init(struct loader *l)
{
	memset(l, 0, sizeof *l);
}

void loader_release(struct loader *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct loaded_adapter *a = &l->items[i];
		if (a->initialised)
			a->desc->destroy(a->state); /* destroy before dlclose */
		dlclose(a->handle);
		free(a->path);
	}
	for (size_t i = 0; i < l->nrefusals; i++)
		free(l->refusals[i]);
	free(l->items);
	free(l->refusals);
	loader_init(l);
}

static int valid_name(const char *name)
{
	if (!name || !*name || strlen(name) > 64)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return 1;
}

static int refuse(void *handle, int status, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int refuse(void *handle, int status, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if (handle)
		dlclose(handle);
	return status;
}

int loader_open(struct loader *l, const char *path, char *err, size_t errlen)
{
	void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL); /* fail fast; no symbol bleed between adapters */
	if (!handle) {
		const char *why = dlerror();
		return refuse(NULL, SMELT_ERR, err, errlen, "cannot load adapter '%s': %s", path,
		              why ? why : "unknown error");
	}
	dlerror();
	smelt_entry_fn entry;
	*(void **)&entry = dlsym(handle, SMELT_ENTRY_SYMBOL);
	if (!entry)
		return refuse(handle, SMELT_ERR_ABI, err, errlen,
		              "'%s' is not a smelt adapter: no '%s' symbol", path, SMELT_ENTRY_SYMBOL);
	const struct smelt_adapter *ad = entry();
	if (!ad)
		return refuse(handle, SMELT_ERR_ABI, err, errlen, "'%s' is not a smelt adapter: its entry returned NULL",
		              path);
	uint32_t major = SMELT_ABI_MAJOR_OF(ad->abi_version), minor = SMELT_ABI_MINOR_OF(ad->abi_version);
	if (major != SMELT_ABI_MAJOR)
		return refuse(handle, SMELT_ERR_ABI, err, errlen,
		              "adapter '%s' needs ABI %u.%u, host has %u.%u (major differs)", path, major, minor,
		              SMELT_ABI_MAJOR, SMELT_ABI_MINOR);
	if (minor > SMELT_ABI_MINOR)
		return refuse(handle, SMELT_ERR_ABI, err, errlen,
		              "adapter '%s' needs ABI %u.%u, host has %u.%u (adapter is newer)", path, major, minor,
		              SMELT_ABI_MAJOR, SMELT_ABI_MINOR);
	if (ad->struct_size < SMELT_ADAPTER_V1_0_SIZE)
		return refuse(handle, SMELT_ERR_ABI, err, errlen,
		              "adapter '%s' (ABI %u.%u) has a descriptor of %u bytes, ABI 1.0 needs at least %zu",
		              path, major, minor, ad->struct_size, (size_t)SMELT_ADAPTER_V1_0_SIZE);
	size_t csize = SMELT_HAS(ad, struct smelt_adapter, command_size) ? ad->command_size : 0;
	if (csize && (csize < SMELT_COMMAND_V1_1_SIZE || csize > sizeof(struct smelt_command)))
		return refuse(handle, SMELT_ERR_ABI, err, errlen,
		              "adapter '%s' (ABI %u.%u) has a command_size of %zu bytes; want %zu to %zu", path, major,
		              minor, csize, (size_t)SMELT_COMMAND_V1_1_SIZE, sizeof(struct smelt_command));
	if (!valid_name(ad->name))
		return refuse(handle, SMELT_ERR_CONFIG, err, errlen,
		              "adapter '%s' has an invalid name (want [a-z0-9_]+)", path);
	if (!ad->init || !ad->destroy)
		return refuse(handle, SMELT_ERR_CONFIG, err, errlen,
		              "adapter '%s' in '%s' lacks the required operation '%s'", ad->name, path,
		              !ad->init ? "init" : "destroy");
	if (ad->category < SMELT_CAT_EXTRACT_LOAD || ad->category > SMELT_CAT_OTHER)
		return refuse(handle, SMELT_ERR_CONFIG, err, errlen, "adapter '%s' in '%s' has an unknown category %d",
		              ad->name, path, (int)ad->category);
	struct loaded_adapter *dup = loader_find(l, ad->name);
	if (dup)
		return refuse(handle, SMELT_ERR_CONFIG, err, errlen,
		              "adapter '%s' in '%s' has the same name as the one loaded from '%s'", ad->name, path,
		              dup->path);
	l->items = xrealloc(l->items, (l->n + 1) * sizeof *l->items);
	l->items[l->n++] = (struct loaded_adapter){ .desc = ad, .handle = handle, .path = xstrdup(path) };
	log_debug("loaded adapter '%s' %s (ABI %u.%u) from '%s'", ad->name, ad->version ? ad->version : "",
	          major, minor, path);
	return SMELT_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t loader_scan_dir(struct loader *l, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	char **names = NULL;
	size_t n = 0, loaded = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len > 3 && !strcmp(e->d_name + len - 3, ".so")) {
			names = xrealloc(names, (n + 1) * sizeof *names);
			names[n++] = xstrdup(e->d_name);
		}
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		char err[SMELT_ERRBUF_SIZE * 2];
		char *path = path_join(dir, names[i]);
		if (loader_open(l, path, err, sizeof err) == SMELT_OK) {
			loaded++;
		} else {
			l->refusals = xrealloc(l->refusals, (l->nrefusals + 1) * sizeof *l->refusals);
			l->refusals[l->nrefusals++] = xstrdup(err);
			log_warn("%s", err);
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return loaded;
}

void loader_discover(struct loader *l, const char *install_dir, const char *project_root)
{
	if (install_dir)
		loader_scan_dir(l, install_dir);
	const char *extra = getenv("SMELT_ADAPTER_PATH");
	while (extra && *extra) {
		const char *colon = strchrnul(extra, ':');
		char *dir = xstrndup(extra, (size_t)(colon - extra));
		if (*dir)
			loader_scan_dir(l, dir);
		free(dir);
		extra = *colon ? colon + 1 : NULL;
	}
	if (project_root) {
		char *dir = path_join(project_root, "adapters");
		loader_scan_dir(l, dir);
		free(dir);
	}
}

const struct smelt_command *loader_command(const struct loaded_adapter *a, size_t i)
{
	const struct smelt_adapter *d = a->desc;
	size_t stride = SMELT_HAS(d, struct smelt_adapter, command_size) && d->command_size ? d->command_size
	                                                                                    : SMELT_COMMAND_V1_1_SIZE;
	if (!d->commands)
		return NULL;
	for (size_t k = 0;; k++) { /* never past the {NULL} end */
		const struct smelt_command *c = (const void *)((const char *)d->commands + k * stride);
		if (!c->name)
			return NULL;
		if (k == i)
			return c;
	}
}

struct loaded_adapter *loader_find(struct loader *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->items[i].desc->name, name))
			return &l->items[i];
	return NULL;
}

struct loaded_adapter *loader_claim(struct loader *l, const char *explicit_name, const char *ns,
                                    uint32_t plugin_type)
{
	if (explicit_name)
		return loader_find(l, explicit_name);
	/* A namespace claim is more specific than a type claim; later adapters (project, $SMELT_ADAPTER_PATH) win ties. */
	for (size_t i = l->n; ns && i-- > 0;) {
		const char *const *pat = l->items[i].desc->namespaces;
		for (; pat && *pat; pat++)
			if (fnmatch(*pat, ns, 0) == 0)
				return &l->items[i];
	}
	for (size_t i = l->n; i-- > 0;)
		if (l->items[i].desc->plugin_types & plugin_type)
			return &l->items[i];
	return NULL;
}
