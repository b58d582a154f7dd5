/* adapter_data: the files adapters ship for the host; see adapter_data.h. */
#include "project/adapter_data.h"
#include "project/definition.h"
#include "build_config.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define DATA_FILE_CAP (1024u * 1024u) /* a definition or plugin_types.json: 1 MiB is plenty */

char **adapter_dirs(const char *install_dir, const char *project_root)
{
	char **dirs = xcalloc(1, sizeof *dirs);
	size_t n = 0;
#define PUSH(s) (dirs = xrealloc(dirs, (n + 2) * sizeof *dirs), dirs[n++] = (s), dirs[n] = NULL)
	if (install_dir)
		PUSH(xstrdup(install_dir));
	const char *extra = getenv("SMELT_ADAPTER_PATH");
	while (extra && *extra) {
		const char *colon = strchrnul(extra, ':');
		if (colon > extra)
			PUSH(xstrndup(extra, (size_t)(colon - extra)));
		extra = *colon ? colon + 1 : NULL;
	}
	if (project_root)
		PUSH(path_join(project_root, "adapters"));
#undef PUSH
	return dirs;
}

char *adapter_install_dir(void)
{
	char *exe = exe_path();
	if (!exe)
		return NULL;
	char *bindir = path_dirname(exe);
	char *joined = path_join(bindir, SMELT_REL_ADAPTER_DIR);
	char *real = realpath(joined, NULL);
	free(exe);
	free(bindir);
	if (!real)
		return joined;
	free(joined);
	return real;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of dir whose name passes keep(), sorted; NULL-terminated, NULL when dir cannot be read. */
static char **sorted_entries(const char *dir, int (*keep)(const char *name))
{
	DIR *d = opendir(dir);
	if (!d)
		return NULL;
	char **names = xcalloc(1, sizeof *names);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !keep(e->d_name))
			continue;
		names = xrealloc(names, (n + 2) * sizeof *names);
		names[n++] = xstrdup(e->d_name);
		names[n] = NULL;
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_str);
	return names;
}

static void free_list(char **list)
{
	for (size_t i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

static int is_json(const char *name)
{
	return ends_with(name, ".json");
}

static int not_so(const char *name)
{
	return !ends_with(name, ".so");
}

/* A plural plugin type name ("extractors"), not a singular one. */
static int plural_type(const char *s)
{
	int t = plugin_type_parse(s);
	return t >= 0 && !strcmp(plugin_type_plural((enum plugin_type)t), s);
}

/* Parse a JSON file (capped); NULL with a warning naming it when it cannot be read or parsed. */
static cJSON *read_json(const char *path, char **text)
{
	struct strbuf sb = STRBUF_INIT;
	char err[512];
	if (read_regular_file(path, DATA_FILE_CAP, &sb, err, sizeof err) != 0) {
		log_warn("%s: skipped", err);
		strbuf_release(&sb);
		return NULL;
	}
	cJSON *doc = cJSON_ParseWithLength(sb.buf, sb.len);
	if (!cJSON_IsObject(doc)) {
		log_warn("'%s' is not a JSON object: skipped", path);
		cJSON_Delete(doc);
		strbuf_release(&sb);
		return NULL;
	}
	if (text)
		*text = strbuf_detach(&sb);
	strbuf_release(&sb);
	return doc;
}

static const struct adapter_definition *find_def(const struct adapter_data *d, const char *type, const char *name,
                                                 const char *variant)
{
	for (size_t i = 0; i < d->ndefs; i++)
		if (!strcmp(d->defs[i].plugin_type, type) && !strcmp(d->defs[i].name, name) &&
		    !strcmp(d->defs[i].variant, variant))
			return &d->defs[i];
	return NULL;
}

/* definitions/<plural type>--<name>--<variant>.json of one data folder. */
static void scan_definitions(struct adapter_data *d, const char *data_dir, const char *adapter)
{
	char *dir = path_join(data_dir, "definitions");
	char **files = sorted_entries(dir, is_json);
	for (size_t i = 0; files && files[i]; i++) {
		char *path = path_join(dir, files[i]);
		char *base = xstrndup(files[i], strlen(files[i]) - 5);
		char *sep1 = strstr(base, "--"), *sep2 = sep1 ? strstr(sep1 + 2, "--") : NULL;
		if (!sep2 || sep1 == base || sep2 == sep1 + 2 || !sep2[2] || strstr(sep2 + 2, "--")) {
			log_warn("'%s' is not named <plural type>--<name>--<variant>.json: skipped", path);
			goto next;
		}
		*sep1 = *sep2 = '\0';
		if (!plural_type(base)) {
			log_warn("'%s': '%s' is not a plural plugin type: skipped", path, base);
			goto next;
		}
		if (find_def(d, base, sep1 + 2, sep2 + 2)) {
			log_debug("'%s': %s '%s' variant '%s' is defined by an earlier folder: skipped", path, base,
			          sep1 + 2, sep2 + 2);
			goto next;
		}
		char *text = NULL;
		cJSON *doc = read_json(path, &text);
		if (!doc)
			goto next;
		const cJSON *pip = cJSON_GetObjectItemCaseSensitive(doc, "pip_url");
		d->defs = xrealloc(d->defs, (d->ndefs + 1) * sizeof *d->defs);
		d->defs[d->ndefs++] = (struct adapter_definition){
			.plugin_type = xstrdup(base), .name = xstrdup(sep1 + 2), .variant = xstrdup(sep2 + 2),
			.adapter = xstrdup(adapter), .path = path, .json = text,
			.has_pip_url = cJSON_IsString(pip) && *pip->valuestring,
		};
		path = NULL;
		cJSON_Delete(doc);
next:
		free(base);
		free(path);
	}
	free_list(files);
	free(dir);
}

/* plugin_types.json of one data folder. */
static void scan_types(struct adapter_data *d, const char *data_dir, const char *adapter)
{
	char *path = path_join(data_dir, "plugin_types.json");
	if (!file_exists(path)) {
		free(path);
		return;
	}
	cJSON *doc = read_json(path, NULL);
	if (!doc) {
		free(path);
		return;
	}
	d->docs = xrealloc(d->docs, (d->ndocs + 1) * sizeof *d->docs);
	d->docs[d->ndocs++] = doc;
	const cJSON *t;
	cJSON_ArrayForEach(t, doc) {
		if (!plural_type(t->string) || !cJSON_IsObject(t)) {
			log_warn("'%s': '%s' is not a plural plugin type with an object: skipped", path, t->string);
			continue;
		}
		struct adapter_type_info info = { .plugin_type = xstrdup(t->string), .adapter = xstrdup(adapter) };
		size_t n = 0;
		info.name_prefixes = xcalloc(1, sizeof *info.name_prefixes);
		const cJSON *p;
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(t, "name_prefixes"))
			if (cJSON_IsString(p) && *p->valuestring) {
				info.name_prefixes = xrealloc(info.name_prefixes, (n + 2) * sizeof *info.name_prefixes);
				info.name_prefixes[n++] = xstrdup(p->valuestring);
				info.name_prefixes[n] = NULL;
			}
		const cJSON *extras = cJSON_GetObjectItemCaseSensitive(t, "extras");
		info.extras = cJSON_IsArray(extras) ? extras : NULL;
		const cJSON *py = cJSON_GetObjectItemCaseSensitive(t, "print_as_python_str");
		info.print_as_python_str = cJSON_IsArray(py) ? py : NULL;
		d->types = xrealloc(d->types, (d->ntypes + 1) * sizeof *d->types);
		d->types[d->ntypes++] = info;
	}
	free(path);
}

enum { SCAN_DEFINITIONS = 1, SCAN_TYPES = 2 };

static void scan_parts(struct adapter_data *d, char *const *dirs, unsigned parts)
{
	for (size_t i = 0; dirs && dirs[i]; i++) {
		/* every entry but the .so files may be a data folder (a symbolic link in a Debian install) */
		char **entries = sorted_entries(dirs[i], not_so);
		for (size_t k = 0; entries && entries[k]; k++) {
			char *data_dir = path_join(dirs[i], entries[k]);
			if (dir_exists(data_dir)) {
				if (parts & SCAN_DEFINITIONS)
					scan_definitions(d, data_dir, entries[k]);
				if (parts & SCAN_TYPES)
					scan_types(d, data_dir, entries[k]);
			}
			free(data_dir);
		}
		free_list(entries);
	}
}

void adapter_data_scan(struct adapter_data *d, char *const *dirs)
{
	scan_parts(d, dirs, SCAN_DEFINITIONS | SCAN_TYPES);
}

void adapter_data_release(struct adapter_data *d)
{
	for (size_t i = 0; i < d->ndefs; i++) {
		struct adapter_definition *e = &d->defs[i];
		free(e->plugin_type);
		free(e->name);
		free(e->variant);
		free(e->adapter);
		free(e->path);
		free(e->json);
	}
	for (size_t i = 0; i < d->ntypes; i++) {
		free(d->types[i].plugin_type);
		free(d->types[i].adapter);
		free_list(d->types[i].name_prefixes);
	}
	for (size_t i = 0; i < d->ndocs; i++)
		cJSON_Delete(d->docs[i]);
	free(d->defs);
	free(d->types);
	free(d->docs);
	memset(d, 0, sizeof *d);
}

/* One scan per list of folders, kept until exit (callers hold pointers into it). */
struct cached {
	char *key; /* the folders, '\n'-joined */
	struct adapter_data data;
	unsigned scanned; /* SCAN_DEFINITIONS, SCAN_TYPES: the parts read so far */
	struct cached *next;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cached *cache;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static char *install_dir; /* the executable does not move: found once */

static void find_install_dir(void)
{
	install_dir = adapter_install_dir();
}

static const struct adapter_data *data_get(const char *project_root, unsigned parts)
{
	pthread_once(&install_once, find_install_dir);
	char **dirs = adapter_dirs(install_dir, project_root);
	struct strbuf key = STRBUF_INIT;
	for (size_t i = 0; dirs[i]; i++)
		strbuf_addf(&key, "%s\n", dirs[i]);
	pthread_mutex_lock(&cache_lock);
	struct cached *c = cache;
	while (c && strcmp(c->key, key.buf))
		c = c->next;
	if (!c) {
		c = xcalloc(1, sizeof *c);
		c->key = strbuf_detach(&key);
		c->next = cache;
		cache = c;
	}
	if (parts & ~c->scanned) { /* each part is read once, in the folders' order, whichever comes first */
		scan_parts(&c->data, dirs, parts & ~c->scanned);
		c->scanned |= parts;
	}
	pthread_mutex_unlock(&cache_lock);
	strbuf_release(&key);
	free_list(dirs);
	return &c->data;
}

const struct adapter_data *adapter_data_get(const char *project_root)
{
	return data_get(project_root, SCAN_DEFINITIONS | SCAN_TYPES);
}

const struct adapter_data *adapter_data_types(const char *project_root)
{
	return data_get(project_root, SCAN_TYPES);
}
