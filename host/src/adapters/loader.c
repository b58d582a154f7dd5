/* loader: see loader.h.  Modelled on Redis moduleLoad and PostgreSQL dfmgr.c. */
#include "adapters/loader.h"
#include "util/argv.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
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

/* What claims are decided on: the descriptor's once loaded, else the index's. */
static const char *entry_name(const struct loaded_adapter *a)
{
	return a->desc ? a->desc->name : a->name;
}

static uint32_t entry_types(const struct loaded_adapter *a)
{
	return a->desc ? a->desc->plugin_types : a->plugin_types;
}

static const char *const *entry_namespaces(const struct loaded_adapter *a)
{
	return a->desc ? a->desc->namespaces : (const char *const *)a->namespaces;
}

void loader_release(struct loader *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct loaded_adapter *a = &l->items[i];
		if (a->initialised)
			a->desc->destroy(a->state); /* destroy before dlclose */
		if (a->handle)
			dlclose(a->handle);
		free(a->path);
		free(a->name);
		argv_free(a->namespaces);
	}
	for (size_t i = 0; i < l->nrefusals; i++)
		free(l->refusals[i]);
	if (l->index_path) { /* its folder did not exist at discovery: written now if it does */
		char *dir = path_dirname(l->index_path);
		if (dir_exists(dir) && fs_write_under(dir, l->index_path, l->index_text, strlen(l->index_text), 0600, 0700))
			log_debug("cannot write the adapter index '%s': %s", l->index_path, fs_beneath_strerror(errno));
		free(dir);
	}
	free(l->index_path);
	free(l->index_text);
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

/* The entry of name other than skip (loaded or lazy, not refused); NULL when none.  Loads nothing. */
static struct loaded_adapter *entry_named(struct loader *l, const char *name, const struct loaded_adapter *skip)
{
	for (size_t i = 0; i < l->n; i++)
		if (&l->items[i] != skip && !l->items[i].refused && !strcmp(entry_name(&l->items[i]), name))
			return &l->items[i];
	return NULL;
}

/* dlopen path and check its descriptor; 0 with *handle and *desc, or a refusal (err filled, nothing kept). */
static int open_so(struct loader *l, const char *path, const struct loaded_adapter *self, void **handle_out,
                   const struct smelt_adapter **desc_out, char *err, size_t errlen)
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
	/* an earlier entry of the same name wins (an index entry of a later file never shadows it) */
	struct loaded_adapter *dup = entry_named(l, ad->name, self);
	if (dup && (!self || dup < self))
		return refuse(handle, SMELT_ERR_CONFIG, err, errlen,
		              "adapter '%s' in '%s' has the same name as the one loaded from '%s'", ad->name, path,
		              dup->path);
	log_debug("loaded adapter '%s' %s (ABI %u.%u) from '%s'", ad->name, ad->version ? ad->version : "",
	          major, minor, path);
	*handle_out = handle;
	*desc_out = ad;
	return SMELT_OK;
}

int loader_open(struct loader *l, const char *path, char *err, size_t errlen)
{
	void *handle;
	const struct smelt_adapter *ad;
	int rc = open_so(l, path, NULL, &handle, &ad, err, errlen);
	if (rc)
		return rc;
	l->items = xrealloc(l->items, (l->n + 1) * sizeof *l->items);
	l->items[l->n++] = (struct loaded_adapter){ .desc = ad, .handle = handle, .path = xstrdup(path),
	                                            .name = xstrdup(ad->name), .plugin_types = ad->plugin_types,
	                                            .namespaces = argv_copy(ad->namespaces) };
	return SMELT_OK;
}

static void add_refusal(struct loader *l, const char *msg)
{
	l->refusals = xrealloc(l->refusals, (l->nrefusals + 1) * sizeof *l->refusals);
	l->refusals[l->nrefusals++] = xstrdup(msg);
	log_warn("%s", msg);
}

int loader_load(struct loader *l, struct loaded_adapter *a, char *err, size_t errlen)
{
	if (a->desc)
		return SMELT_OK;
	if (a->refused)
		return fail(err, errlen, SMELT_ERR, "adapter '%s' could not be loaded (see above)", a->path);
	void *handle;
	const struct smelt_adapter *ad;
	int rc = open_so(l, a->path, a, &handle, &ad, err, errlen);
	if (rc) {
		a->refused = 1;
		add_refusal(l, err);
		return rc;
	}
	/* what the descriptor says counts from now on (the caller decides again when it differs from the index) */
	a->desc = ad;
	a->handle = handle;
	free(a->name);
	argv_free(a->namespaces);
	a->name = xstrdup(ad->name);
	a->plugin_types = ad->plugin_types;
	a->namespaces = argv_copy(ad->namespaces);
	return SMELT_OK;
}

void loader_load_all(struct loader *l)
{
	char err[SMELT_ERRBUF_SIZE * 2];
	for (size_t i = 0; i < l->n; i++)
		if (!l->items[i].refused)
			loader_load(l, &l->items[i], err, sizeof err);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.so names of dir, sorted; NULL-terminated, NULL when dir cannot be read. */
static char **so_names(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return NULL;
	char **names = xcalloc(1, sizeof *names);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len > 3 && !strcmp(e->d_name + len - 3, ".so")) {
			names = xrealloc(names, (n + 2) * sizeof *names);
			names[n++] = xstrdup(e->d_name);
			names[n] = NULL;
		}
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_str);
	return names;
}

/* ---- the index of lazy discovery (see loader.h) ---- */

struct index {
	cJSON *doc;   /* {"version": 1, "adapters": [{path, id, name, plugin_types, namespaces}, ...]} as read; may be NULL */
	int dirty;    /* an entry was added or changed: written at the end */
	size_t used;  /* entries of doc that are still in use (to tell when one went away) */
};

/* The identity of the file at path (what changes whenever its content can have): "" when it cannot be stat'ed. */
static void file_identity(const char *path, char *out, size_t len)
{
	struct stat sb;
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		out[0] = '\0';
		return;
	}
	snprintf(out, len, "%llu:%llu:%lld:%lld.%09ld:%lld.%09ld", (unsigned long long)sb.st_dev,
	         (unsigned long long)sb.st_ino, (long long)sb.st_size, (long long)sb.st_mtim.tv_sec,
	         sb.st_mtim.tv_nsec, (long long)sb.st_ctim.tv_sec, sb.st_ctim.tv_nsec);
}

/* The index's entry of path when its identity is id and it is well formed; NULL otherwise. */
static const cJSON *index_entry(const struct index *ix, const char *path, const char *id)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(ix->doc, "adapters")) {
		const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "path"));
		if (!p || strcmp(p, path))
			continue;
		const char *i = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "id"));
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
		const cJSON *types = cJSON_GetObjectItemCaseSensitive(e, "plugin_types");
		const cJSON *ns = cJSON_GetObjectItemCaseSensitive(e, "namespaces");
		if (!i || strcmp(i, id) || !name || !valid_name(name) || !cJSON_IsNumber(types) || types->valuedouble < 0 ||
		    types->valuedouble > UINT32_MAX || !cJSON_IsArray(ns))
			return NULL;
		const cJSON *n;
		cJSON_ArrayForEach(n, ns)
			if (!cJSON_IsString(n))
				return NULL;
		return e;
	}
	return NULL;
}

static void index_read(struct index *ix, const char *dir, const char *name)
{
	char *path = path_join(dir, name), err[256];
	struct strbuf sb = STRBUF_INIT;
	memset(ix, 0, sizeof *ix);
	if (read_regular_file(path, 1024 * 1024, &sb, err, sizeof err) == 0) {
		ix->doc = cJSON_ParseWithLength(sb.buf, sb.len);
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(ix->doc, "version");
		if (!cJSON_IsNumber(v) || v->valueint != 1) {
			cJSON_Delete(ix->doc);
			ix->doc = NULL;
		}
	}
	strbuf_release(&sb);
	free(path);
}

/* The index of what l holds now (every entry not refused), written beneath dir; failures only cost time. */
static void index_write(struct loader *l, char *const *ids, const char *dir, const char *name)
{
	cJSON *doc = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(doc, "adapters");
	cJSON_AddNumberToObject(doc, "version", 1);
	for (size_t i = 0; i < l->n; i++) {
		const struct loaded_adapter *a = &l->items[i];
		if (a->refused || !ids[i][0])
			continue;
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "path", a->path);
		cJSON_AddStringToObject(e, "id", ids[i]);
		cJSON_AddStringToObject(e, "name", entry_name(a));
		cJSON_AddNumberToObject(e, "plugin_types", entry_types(a));
		cJSON *ns = cJSON_AddArrayToObject(e, "namespaces");
		for (const char *const *p = entry_namespaces(a); p && *p; p++)
			cJSON_AddItemToArray(ns, cJSON_CreateString(*p));
		cJSON_AddItemToArray(arr, e);
	}
	char *text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (!text)
		return;
	if (!dir_exists(dir)) { /* never creates the folder (a dry run in a new project leaves nothing behind) */
		l->index_path = path_join(dir, name);
		l->index_text = text;
		return;
	}
	if (fs_write_under(dir, name, text, strlen(text), 0600, 0700) != 0)
		log_debug("cannot write the adapter index '%s/%s': %s", dir, name, fs_beneath_strerror(errno));
	free(text);
}

/* Lazy discovery under way: the index read, and the identity of each entry made (parallel to l->items). */
struct indexed_scan {
	struct loader *l;
	struct index ix;
	char **ids;
	size_t nids;
};

/* One folder: indexed files as lazy entries, the others loaded. */
static void scan_dir_indexed(struct indexed_scan *s, const char *dir)
{
	struct loader *l = s->l;
	char **names = so_names(dir);
	for (size_t i = 0; names && names[i]; i++) {
		char err[SMELT_ERRBUF_SIZE * 2], id[128];
		char *path = path_join(dir, names[i]);
		file_identity(path, id, sizeof id);
		const cJSON *e = id[0] ? index_entry(&s->ix, path, id) : NULL;
		const char *name = e ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name")) : NULL;
		size_t before = l->n;
		if (e && !entry_named(l, name, NULL)) { /* a name taken before is refused by loading it, as always */
			const cJSON *ns = cJSON_GetObjectItemCaseSensitive(e, "namespaces"), *n;
			char **v = xcalloc((size_t)cJSON_GetArraySize(ns) + 1, sizeof *v);
			size_t k = 0;
			cJSON_ArrayForEach(n, ns)
				v[k++] = xstrdup(n->valuestring);
			l->items = xrealloc(l->items, (l->n + 1) * sizeof *l->items);
			l->items[l->n++] = (struct loaded_adapter){
				.path = path, .name = xstrdup(name),
				.plugin_types = (uint32_t)cJSON_GetObjectItemCaseSensitive(e, "plugin_types")->valuedouble,
				.namespaces = v };
			path = NULL;
			s->ix.used++;
		} else if (loader_open(l, path, err, sizeof err) == SMELT_OK) {
			s->ix.dirty = 1;
		} else {
			add_refusal(l, err);
		}
		if (l->n > before) {
			s->ids = xrealloc(s->ids, l->n * sizeof *s->ids);
			s->ids[s->nids++] = xstrdup(id);
		}
		free(path);
		free(names[i]);
	}
	free(names);
}

size_t loader_scan_dir(struct loader *l, const char *dir)
{
	char **names = so_names(dir);
	size_t loaded = 0;
	for (size_t i = 0; names && names[i]; i++) {
		char err[SMELT_ERRBUF_SIZE * 2];
		char *path = path_join(dir, names[i]);
		if (loader_open(l, path, err, sizeof err) == SMELT_OK)
			loaded++;
		else
			add_refusal(l, err);
		free(path);
		free(names[i]);
	}
	free(names);
	return loaded;
}

/* Each folder of discovery, in order, through fn. */
static void each_dir(const char *install_dir, const char *project_root, void (*fn)(void *arg, const char *dir),
                     void *arg)
{
	if (install_dir)
		fn(arg, install_dir);
	const char *extra = getenv("SMELT_ADAPTER_PATH");
	while (extra && *extra) {
		const char *colon = strchrnul(extra, ':');
		char *dir = xstrndup(extra, (size_t)(colon - extra));
		if (*dir)
			fn(arg, dir);
		free(dir);
		extra = *colon ? colon + 1 : NULL;
	}
	if (project_root) {
		char *dir = path_join(project_root, "adapters");
		fn(arg, dir);
		free(dir);
	}
}

static void scan_one(void *arg, const char *dir)
{
	loader_scan_dir(arg, dir);
}

void loader_discover(struct loader *l, const char *install_dir, const char *project_root)
{
	each_dir(install_dir, project_root, scan_one, l);
}

static void scan_one_indexed(void *arg, const char *dir)
{
	scan_dir_indexed(arg, dir);
}

void loader_discover_indexed(struct loader *l, const char *install_dir, const char *project_root,
                             const char *index_dir, const char *index_name)
{
	if (!index_dir) {
		loader_discover(l, install_dir, project_root);
		return;
	}
	struct indexed_scan s = { .l = l };
	index_read(&s.ix, index_dir, index_name);
	each_dir(install_dir, project_root, scan_one_indexed, &s);
	size_t had = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s.ix.doc, "adapters"));
	if (s.ix.dirty || s.ix.used != had)
		index_write(l, s.ids, index_dir, index_name);
	for (size_t k = 0; k < s.nids; k++)
		free(s.ids[k]);
	free(s.ids);
	cJSON_Delete(s.ix.doc);
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
	char err[SMELT_ERRBUF_SIZE * 2];
	for (;;) {
		struct loaded_adapter *a = entry_named(l, name, NULL);
		if (!a || a->desc)
			return a;
		/* loaded now: when it turns out to be another name (or refused), look again */
		if (loader_load(l, a, err, sizeof err) == SMELT_OK && !strcmp(entry_name(a), name))
			return a;
	}
}

/* The claim on what the entries say now (loaded or not); NULL when none. */
static struct loaded_adapter *decide_claim(struct loader *l, const char *ns, uint32_t plugin_type)
{
	/* A namespace claim is more specific than a type claim; later adapters (project, $SMELT_ADAPTER_PATH) win ties. */
	for (size_t i = l->n; ns && i-- > 0;) {
		if (l->items[i].refused)
			continue;
		for (const char *const *pat = entry_namespaces(&l->items[i]); pat && *pat; pat++)
			if (fnmatch(*pat, ns, 0) == 0)
				return &l->items[i];
	}
	for (size_t i = l->n; i-- > 0;)
		if (!l->items[i].refused && (entry_types(&l->items[i]) & plugin_type))
			return &l->items[i];
	return NULL;
}

struct loaded_adapter *loader_claim(struct loader *l, const char *explicit_name, const char *ns,
                                    uint32_t plugin_type)
{
	if (explicit_name)
		return loader_find(l, explicit_name);
	char err[SMELT_ERRBUF_SIZE * 2];
	for (;;) {
		struct loaded_adapter *a = decide_claim(l, ns, plugin_type);
		if (!a || a->desc)
			return a;
		/* Loaded now, then decided again on what loading found (the same adapter unless its file changed under
		 * the index, or it cannot be loaded after all).  Ends: each turn loads or refuses one more entry. */
		if (loader_load(l, a, err, sizeof err) == SMELT_OK && decide_claim(l, ns, plugin_type) == a)
			return a;
	}
}
