/*
 * The Singer adapter: extractors, loaders and mappers (Singer taps,
 * targets and mappers, the native C connectors included).
 *
 * An EL block: each plugin's resolved config goes to a private file under
 * .smelt/run/<plugin>/ (0600, removed when the command ends); the tap's
 * catalog is discovered (and cached on the config and the catalog rules)
 * when its capabilities allow, the select/metadata/schema rules are
 * applied, the saved state is handed over with --state, and the host runs
 * tap | mappers... | target through kernel pipes.  Each line the target
 * prints is a state: it is saved at once in its own transaction, so the
 * saved bookmark never runs ahead of what the target committed.
 */
#include "catalog.h"
#include "catalog_text.h"
#include "kit.h"
#include "prepared.h"

#include <smelt/sdk.h>

#include <cjson/cJSON.h>
#include <ctype.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct singer {
	const struct smelt_host_api *host; /* borrowed until destroy */
	void *hctx;
	unsigned seq;                      /* makes generated file names unique within a command */
};

#define LOG(s, lvl, ...) (s)->host->log((s)->hctx, (lvl), __VA_ARGS__)


static const char *attr(struct singer *s, const struct smelt_plugin *p, const char *key)
{
	return s->host->plugin_attr(s->hctx, p, key);
}

static int has_cap(struct singer *s, const struct smelt_plugin *p, const char *cap)
{
	return s->host->plugin_has_capability(s->hctx, p, cap);
}

/* A path under the plugin's run dir: <run dir>/<prefix>.<pid>-<seq>.<suffix>; caller frees. */
static char *run_file(struct singer *s, const struct smelt_plugin *p, const char *name)
{
	const char *dir = s->host->plugin_path(s->hctx, p, SMELT_PPATH_RUN_DIR);
	size_t n = strlen(dir) + strlen(name) + 48;
	char *path = malloc(n);
	if (path)
		snprintf(path, n, "%s/%s", dir, name);
	return path;
}

static int write_private(struct singer *s, const char *path, const char *text, char *err, size_t errlen)
{
	return s->host->write_private(s->hctx, path, text, strlen(text), err, errlen);
}

/*
 * Print the host's compact JSON indented (tabs, as cJSON_Print), working on
 * the text: parsing it into cJSON would round integers above 2^53.
 */
static void singer_print_pretty(const char *json)
{
	int depth = 0, in_str = 0;
	for (const char *p = json; *p; p++) {
		char c = *p;
		if (in_str) {
			putchar(c);
			if (c == '\\' && p[1])
				putchar(*++p);
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
			putchar(c);
		} else if ((c == '{' || c == '[') && p[1] == (c == '{' ? '}' : ']')) {
			putchar(c);
			putchar(*++p);
		} else if (c == '{' || c == '[' || c == ',') {
			depth += c != ',';
			putchar(c);
			putchar('\n');
			for (int i = 0; i < depth; i++)
				putchar('\t');
		} else if (c == '}' || c == ']') {
			putchar('\n');
			for (int i = 0; i < depth - 1; i++)
				putchar('\t');
			depth--;
			putchar(c);
		} else if (c == ':') {
			printf(":\t");
		} else {
			putchar(c);
		}
	}
	putchar('\n');
}

/* The plugin's config file (settings without extras); *path caller frees. */
static int write_config(struct singer *s, const struct smelt_plugin *p, const char *mapping, char **path, char *err,
                        size_t errlen)
{
	char *json = NULL, name[96];
	int rc = mapping ? s->host->mapping_config_json(s->hctx, p, mapping, &json, err, errlen)
	                 : s->host->config_json(s->hctx, p, 0, &json, err, errlen);
	if (rc)
		return rc;
	const char *type = attr(s, p, "type");
	snprintf(name, sizeof name, "%s.%d-%u.config.json",
	         !strcmp(type, "extractors") ? "tap" : !strcmp(type, "loaders") ? "target" : "mapper", (int)getpid(),
	         ++s->seq);
	*path = run_file(s, p, name);
	rc = *path ? write_private(s, *path, json, err, errlen) : SMELT_ERR_NOMEM;
	s->host->free(json);
	return rc;
}

/*
 * Keep a discovered catalog (valid JSON with streams) under key.  The cache
 * is not secret, but lives in the private run dir all the same.
 */
static void cache_catalog(const char *cache, const char *cache_key, const char *raw, const char *key)
{
	FILE *f = fopen(cache, "w");
	if (!f)
		return;
	fchmod(fileno(f), 0600); /* every file of the system folder is 0600 (issue 18) */
	fputs(raw, f);
	fclose(f);
	f = fopen(cache_key, "w");
	if (f) {
		fchmod(fileno(f), 0600);
		fputs(key, f);
		fclose(f);
	}
}

/* The file a discovered catalog was cached in, when the cache under key is usable; caller frees. */
static char *cached_discovery(const char *cache, const char *cache_key, const char *key)
{
	char *old = kit_read_file(cache_key, NULL);
	int ok = old && !strcmp(old, key) && access(cache, R_OK) == 0;
	free(old);
	return ok ? strdup(cache) : NULL;
}

/* Run the tap's discovery; its output in *raw (caller frees). */
static int discover(struct singer *s, const struct smelt_plugin *tap, const char *config_path, char **raw, char *err,
                    size_t errlen)
{
	*raw = NULL;
	const char *exe = s->host->plugin_path(s->hctx, tap, SMELT_PPATH_EXECUTABLE);
	const char *argv[] = { exe, "--config", config_path, "--discover", NULL };
	struct kit_collect out = { 0 };
	struct smelt_env *env = s->host->env_new(s->hctx, tap);
	struct smelt_spawn spec = { .struct_size = sizeof spec, .label = attr(s, tap, "name"), .argv = argv,
	                            .env = env, .on_line = kit_collect_line, .arg = &out };
	struct smelt_exit ex = { .struct_size = sizeof ex };
	int rc = s->host->run(s->hctx, &spec, &ex, err, errlen);
	s->host->env_free(env);
	if (rc == SMELT_OK && !(ex.exited && ex.exit_code == 0))
		rc = kit_fail(err, errlen, SMELT_ERR_FAILED, "Catalog discovery failed: '%s --discover' exited with %d",
		              attr(s, tap, "name"), ex.exited ? ex.exit_code : 128 + ex.term_signal);
	if (rc == SMELT_OK) {
		*raw = out.buf ? out.buf : strdup("");
		out.buf = NULL;
	}
	free(out.buf);
	return rc;
}

/*
 * The tap's catalog with the rules applied: the file the tap reads (*path,
 * caller frees) when path is not NULL, the datasets it selects
 * (catalog_datasets(); *datasets, caller deletes) when datasets is not
 * NULL, the reply of the select operation (catalog_selection_report(),
 * printed; *listing, caller frees) when listing is not NULL.  All are NULL
 * when the tap has no catalog.  The catalog comes from the `catalog`
 * extra, else from discovery, whose output is cached under a key of the
 * config and the schema/metadata rules.  What was prepared before from the
 * same file with the same rules is reused as it is (prepared.h): no parse,
 * no rules, no print.
 */
static int prepare_catalog(struct singer *s, const struct smelt_plugin *tap, const char *config_path,
                           const char *config_json, unsigned flags, char **path, cJSON **datasets, char **listing,
                           char *err, size_t errlen)
{
	if (path)
		*path = NULL;
	if (listing)
		*listing = NULL;
	if (datasets)
		*datasets = NULL;
	char *extras_json = NULL;
	int rc = s->host->config_json(s->hctx, tap, SMELT_CFG_EXTRAS, &extras_json, err, errlen);
	if (rc)
		return rc;
	cJSON *extras = cJSON_Parse(extras_json);
	s->host->free(extras_json);
	const cJSON *schema = cJSON_GetObjectItemCaseSensitive(extras, "_schema");
	const cJSON *metadata = cJSON_GetObjectItemCaseSensitive(extras, "_metadata");
	const cJSON *select = cJSON_GetObjectItemCaseSensitive(extras, "_select");
	const cJSON *filter = cJSON_GetObjectItemCaseSensitive(extras, "_select_filter");
	const cJSON *catalog_extra = cJSON_GetObjectItemCaseSensitive(extras, "_catalog");
	const cJSON *use_cache = cJSON_GetObjectItemCaseSensitive(extras, "_use_cached_catalog");
	char *rules[4] = { cJSON_PrintUnformatted(select), cJSON_PrintUnformatted(metadata),
		           cJSON_PrintUnformatted(schema), cJSON_PrintUnformatted(filter) };
	const char *dir = s->host->plugin_path(s->hctx, tap, SMELT_PPATH_RUN_DIR);
	char *src = NULL, *raw = NULL, *cache = NULL, *cache_key = NULL, *text = NULL;
	char key[32], pkey[17];
	cJSON *catalog = NULL, *ds = NULL;
	int fresh = 0, keyed = 0; /* fresh: discovered now, cached once it proves a catalog */
	int fd = -1;              /* the file the catalog is written to as it is made (prepared_open()) */
	int in = -1;              /* the catalog's file, read as it is needed (catalog_text_read()) */
	char *tmp = NULL;         /* its name */

	if (cJSON_IsString(catalog_extra) && catalog_extra->valuestring[0]) {
		const char *root = s->host->path(s->hctx, SMELT_PATH_PROJECT_ROOT);
		src = kit_asprintf("%s%s%s", catalog_extra->valuestring[0] == '/' ? "" : root,
		                   catalog_extra->valuestring[0] == '/' ? "" : "/", catalog_extra->valuestring);
		struct stat cst; /* a regular file under 64 MiB only: never /dev/zero or a FIFO (issue 18) */
		if (!src || stat(src, &cst) != 0 || !S_ISREG(cst.st_mode) || cst.st_size > 64 * 1024 * 1024) {
			rc = kit_fail(err, errlen, SMELT_ERR_CONFIG,
			              "the catalog '%s' of '%s' is not a regular file of at most 64 MiB", src ? src : "?",
			              attr(s, tap, "name"));
			goto out;
		}
	} else {
		char *schema_s = rules[2], *metadata_s = rules[1];
		uint64_t h = kit_fnv1a(kit_fnv1a(kit_fnv1a(KIT_FNV_INIT, config_json), schema_s), metadata_s);
		snprintf(key, sizeof key, "%016llx", (unsigned long long)h);
		cache = run_file(s, tap, "tap.discovered.json");
		cache_key = run_file(s, tap, "tap.discovered.cache_key");
		if (!(flags & (SMELT_RQ_REFRESH_CATALOG | SMELT_RQ_FULL_REFRESH)) && !cJSON_IsFalse(use_cache))
			src = cached_discovery(cache, cache_key, key);
	}
	/* the key is taken before the file is read: a change after it makes the next run miss, never reuse */
	keyed = src && dir && prepared_key(src, (const char *const *)rules, pkey) == 0;
	if (keyed) {
		char *kept = path ? prepared_find(dir, pkey, datasets) : NULL;
		char *list = listing ? prepared_read(dir, pkey, ".select.json") : NULL;
		if ((kept || !path) && (list || !listing)) {
			LOG(s, SMELT_LOG_DEBUG, "using the cached catalog of '%s', rules applied (tap.prepared.%s.json)",
			    attr(s, tap, "name"), pkey);
			if (path)
				*path = kept;
			if (listing)
				*listing = list;
			goto out;
		}
		free(kept);
		free(list);
		if (datasets) {
			cJSON_Delete(*datasets);
			*datasets = NULL;
		}
	}
	size_t raw_len = 0;
	if (src && (in = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
		if (!cache) {
			rc = kit_fail(err, errlen, SMELT_ERR_CONFIG, "cannot read the catalog '%s' of '%s'", src,
			              attr(s, tap, "name"));
			goto out;
		}
		keyed = 0; /* the cache went away: discover */
	}
	if (in >= 0 && cache)
		LOG(s, SMELT_LOG_DEBUG, "using the cached catalog of '%s'", attr(s, tap, "name"));
	if (in < 0) {
		if (!has_cap(s, tap, "discover")) {
			LOG(s, SMELT_LOG_WARN, "'%s' lacks the 'discover' capability: running without a catalog",
			    attr(s, tap, "name"));
			goto out;
		}
		if ((rc = discover(s, tap, config_path, &raw, err, errlen)))
			goto out;
		raw_len = strlen(raw);
		fresh = 1;
	}
	/*
	 * The rules applied to the text as it is read (catalog_text.h), the catalog written as it is made to
	 * the file it is kept in (prepared.h); a text that reader does not take is parsed with cJSON.
	 */
	if (path && dir && (keyed || fresh))
		fd = prepared_open(dir, &tmp);
	int parse = in >= 0 ? catalog_text_read(in, select, metadata, schema, filter, fd, path && fd < 0 ? &text : NULL,
	                                        NULL, datasets || path ? &ds : NULL, listing)
	                    : catalog_text_prepare(raw, raw_len, select, metadata, schema, filter, fd,
	                                           path && fd < 0 ? &text : NULL, NULL, datasets || path ? &ds : NULL,
	                                           listing);
	if (parse != 0 && fd >= 0) { /* nothing kept from that file */
		prepared_abort(fd, tmp);
		fd = -1;
		free(tmp);
		tmp = NULL;
	}
	if (parse == CATALOG_TEXT_EWRITE) /* made again with cJSON: keeping it, or the run's own file, says why */
		parse = CATALOG_TEXT_UNHANDLED;
	if (parse < 0) {
		rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (parse && !raw && !(raw = kit_read_file(src, &raw_len))) { /* the whole text, for cJSON */
		rc = kit_fail(err, errlen, SMELT_ERR_CONFIG, "cannot read the catalog '%s' of '%s'", src, attr(s, tap, "name"));
		goto out;
	}
	if (parse && (!(catalog = cJSON_Parse(raw)) || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(catalog, "streams")))) {
		if (cache && !fresh)
			unlink(cache_key); /* a bad cached catalog: the next run discovers again */
		rc = kit_fail(err, errlen, SMELT_ERR_FAILED, "Invalid catalog from '%s': not a JSON object with 'streams'",
		              attr(s, tap, "name"));
		goto out;
	}
	if (fresh) {
		cache_catalog(cache, cache_key, raw, key);
		keyed = dir && prepared_key(cache, (const char *const *)rules, pkey) == 0;
	}
	if (parse) {
		catalog_apply_rules(catalog, select, metadata, schema, filter);
		if ((datasets || path) && !(ds = catalog_datasets(catalog))) {
			rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (path && !(text = cJSON_PrintUnformatted(catalog))) {
			rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (listing) {
			cJSON *report = catalog_selection_report(catalog, select);
			if (!report || !(*listing = cJSON_PrintUnformatted(report)))
				rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
			cJSON_Delete(report);
			if (rc)
				goto out;
		}
	}
	if (path && fd >= 0) { /* written to its file: kept under its key, else read back for the run's own file */
		if (keyed)
			*path = prepared_commit(dir, pkey, fd, tmp, ds);
		else
			close(fd);
		fd = -1;
		if (!*path && !(text = kit_read_file(tmp, NULL))) {
			rc = kit_fail(err, errlen, SMELT_ERR, "cannot write the catalog of '%s' in '%s'", attr(s, tap, "name"), dir);
			goto out;
		}
	} else if (path && keyed) {
		*path = prepared_keep(dir, pkey, text, ds);
	}
	if (path && !*path) { /* not kept: a private file of this run */
		char name[64];
		snprintf(name, sizeof name, "tap.%d-%u.properties.json", (int)getpid(), ++s->seq);
		*path = run_file(s, tap, name);
		rc = !*path ? kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory")
		            : write_private(s, *path, text, err, errlen);
	}
	if (!rc && listing && keyed)
		prepared_add(dir, pkey, ".select.json", *listing);
	if (!rc && datasets) {
		*datasets = ds;
		ds = NULL;
	}
out:
	if (tmp) /* renamed when it was kept; else read back, or not wanted */
		prepared_abort(fd, tmp);
	free(tmp);
	if (in >= 0)
		close(in);
	if (rc && listing) {
		free(*listing);
		*listing = NULL;
	}
	for (int i = 0; i < 4; i++)
		free(rules[i]);
	free(src);
	free(raw);
	free(cache);
	free(cache_key);
	free(text);
	cJSON_Delete(catalog);
	cJSON_Delete(ds);
	cJSON_Delete(extras);
	return rc;
}

/* Where a target's state lines go. */
struct state_sink {
	struct singer *s;
	const char *state_id;    /* NULL: not saved */
	const char *label;       /* the target's name */
	int partial;
	unsigned long saved;     /* states saved */
	unsigned long invalid;   /* lines that were not JSON */
	int save_failed;
	char err[SMELT_ERRBUF_SIZE];
};

/* ---- a JSON syntax check that allocates nothing ---------------------------------------------------
 * cJSON returns NULL both for text that is not JSON and when it runs out of memory; this check tells
 * the two apart, so that a state the target did emit is never dropped as "invalid" (issue 18). */
struct jscan {
	const char *p, *end;
	int depth;
};

static void js_ws(struct jscan *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int js_lit(struct jscan *j, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
		return 0;
	j->p += n;
	return 1;
}

/* Reads the 4 hex digits after the 'u' at j->p, leaving j->p on the last; 0x10000 when malformed. */
static unsigned js_hex4(struct jscan *j)
{
	unsigned u = 0;
	for (int i = 0; i < 4; i++) {
		if (++j->p >= j->end || !isxdigit((unsigned char)*j->p))
			return 0x10000;
		u = u * 16 + (unsigned)(isdigit((unsigned char)*j->p) ? *j->p - '0' : (tolower((unsigned char)*j->p) - 'a' + 10));
	}
	return u;
}

static int js_string(struct jscan *j)
{
	if (j->p >= j->end || *j->p != '"')
		return 0;
	for (j->p++; j->p < j->end; j->p++) {
		unsigned char c = (unsigned char)*j->p;
		if (c == '"') {
			j->p++;
			return 1;
		}
		if (c < 0x20)
			return 0;
		if (c == '\\') {
			if (++j->p >= j->end)
				return 0;
			if (*j->p == 'u') {
				/* surrogates as cJSON takes them: a high one followed by a low one, never alone */
				unsigned u = js_hex4(j);
				if (u == 0x10000 || (u >= 0xDC00 && u <= 0xDFFF))
					return 0;
				if (u >= 0xD800 && u <= 0xDBFF) {
					if (j->end - j->p < 3 || j->p[1] != '\\' || j->p[2] != 'u')
						return 0;
					j->p += 2;
					u = js_hex4(j);
					if (u < 0xDC00 || u > 0xDFFF)
						return 0;
				}
			} else if (!strchr("\"\\/bfnrt", *j->p) || !*j->p) {
				return 0;
			}
		}
	}
	return 0;
}

static int js_digits(struct jscan *j)
{
	const char *s = j->p;
	while (j->p < j->end && isdigit((unsigned char)*j->p))
		j->p++;
	return j->p > s;
}

static int js_value(struct jscan *j)
{
	js_ws(j);
	/* 512: well inside cJSON's nesting limit (1000), so a text this check passes always parses */
	if (j->p >= j->end || ++j->depth > 512)
		return 0;
	int ok = 0;
	char c = *j->p;
	if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';
		j->p++;
		js_ws(j);
		if (j->p < j->end && *j->p == close) {
			j->p++;
			ok = 1;
		} else {
			for (;;) {
				if (c == '{') {
					js_ws(j);
					if (!js_string(j))
						break;
					js_ws(j);
					if (j->p >= j->end || *j->p++ != ':')
						break;
				}
				if (!js_value(j))
					break;
				js_ws(j);
				if (j->p < j->end && *j->p == ',') {
					j->p++;
					continue;
				}
				ok = j->p < j->end && *j->p++ == close;
				break;
			}
		}
	} else if (c == '"') {
		ok = js_string(j);
	} else if (c == '-' || isdigit((unsigned char)c)) {
		const char *start = j->p;
		if (c == '-')
			j->p++;
		ok = js_digits(j);
		if (ok && j->p < j->end && *j->p == '.') {
			j->p++;
			ok = js_digits(j);
		}
		if (ok && j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
			j->p++;
			if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
				j->p++;
			ok = js_digits(j);
		}
		ok = ok && j->p - start < 64; /* cJSON reads at most 63 characters of a number */
	} else {
		ok = js_lit(j, "true") || js_lit(j, "false") || js_lit(j, "null");
	}
	j->depth--;
	return ok;
}

/* 1 when text[0..len) is one JSON value, with only whitespace around it and no NUL byte. */
static int json_text_valid(const char *text, size_t len)
{
	struct jscan j = { text, text + len, 0 };
	if (memchr(text, '\0', len) || !js_value(&j))
		return 0;
	js_ws(&j);
	return j.p == j.end;
}

static int on_state(void *arg, const char *line, size_t len, unsigned long lineno)
{
	struct state_sink *k = arg;
	/* Meltano's json.loads() refuses trailing text after the value and a NUL byte: so do we, rather
	 * than save a state cut short or followed by junk.  The check allocates nothing, and the state is
	 * saved as the text the target wrote: a tap emitting a state per record pays no parse for it. */
	if (!json_text_valid(line, len)) {
		k->invalid++;
		LOG(k->s, SMELT_LOG_WARN, "%s: line %lu: received state is invalid, incremental state has not been updated",
		    k->label, lineno);
		return 0;
	}
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
		i++;
	if (line[i] != '{')
		LOG(k->s, SMELT_LOG_WARN, "%s: line %lu: state is not a JSON object (saved as is)", k->label, lineno);
	if (!k->state_id)
		return 0;
	/* line is NUL-terminated (sdk.h, on_line) and, being valid JSON text, holds no other NUL */
	int rc = k->s->host->state_put(k->s->hctx, k->state_id, line, k->partial, k->err, sizeof k->err);
	if (rc) {
		k->save_failed = 1;
		return rc; /* a state that cannot be saved fails the run */
	}
	k->saved++;
	return 0;
}

/*
 * Lineage: each selected stream of the catalog is an input dataset of the
 * tap and an output of the target (a target names its table after the
 * stream), with the stream's fields and JSON Schema types (its format when
 * it has one: "date-time"), as SMELT_EV_DATASET events.  The namespace is
 * smelt://<plugin>, the data as that plugin of the project holds it: the
 * in-tree adapters share the convention, so a quality suite run on the
 * target's tables (gx) names the same datasets.
 */
static void singer_report_datasets(struct singer *s, const struct smelt_plugin *tap, const struct smelt_plugin *target,
                                   const cJSON *datasets)
{
	const cJSON *ds;
	cJSON_ArrayForEach(ds, datasets)
	{
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ds, "stream"));
		cJSON *fields = cJSON_GetObjectItemCaseSensitive(ds, "fields");
		if (!name || !cJSON_IsArray(fields))
			continue;
		for (int out = 0; out < 2; out++) {
			const struct smelt_plugin *p = out ? target : tap;
			char *ns = kit_asprintf("smelt://%s", attr(s, p, "name"));
			cJSON *detail = cJSON_CreateObject();
			cJSON_AddStringToObject(detail, "namespace", ns ? ns : "smelt");
			cJSON_AddItemReferenceToObject(detail, "fields", fields);
			cJSON_AddStringToObject(detail, "stream", name);
			char *json = cJSON_PrintUnformatted(detail);
			struct smelt_event ev = { .struct_size = sizeof ev, .kind = SMELT_EV_DATASET, .item = name,
			                          .status = out ? "output" : "input", .count = -1, .seconds = -1,
			                          .detail_json = json };
			if (json)
				s->host->event(s->hctx, &ev);
			free(json);
			free(ns);
			cJSON_Delete(detail);
		}
	}
}

static int run_el(struct singer *s, const struct smelt_request *req, char *err, size_t errlen)
{
	size_t n = req->nplugins;
	const struct smelt_plugin *tap = req->plugins[0], *target = req->plugins[n - 1];
	char **configs = calloc(n, sizeof *configs);
	const char ***argvs = calloc(n, sizeof *argvs);
	struct smelt_env **envs = calloc(n, sizeof *envs);
	struct smelt_spawn *stages = calloc(n, sizeof *stages);
	struct smelt_exit *ex = calloc(n, sizeof *ex);
	char *catalog = NULL, *state_path = NULL, *tap_json = NULL;
	int rc = SMELT_OK;
	if (!configs || !argvs || !envs || !stages || !ex) {
		rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n && !rc; i++)
		rc = write_config(s, req->plugins[i], req->mappings ? req->mappings[i] : NULL, &configs[i], err, errlen);
	if (rc)
		goto out;

	int use_catalog = has_cap(s, tap, "catalog"), use_props = !use_catalog && has_cap(s, tap, "properties");
	if (use_catalog || use_props) {
		if ((rc = s->host->config_json(s->hctx, tap, 0, &tap_json, err, errlen)))
			goto out;
		cJSON *datasets = NULL;
		if ((rc = prepare_catalog(s, tap, configs[0], tap_json, req->flags, &catalog, &datasets, NULL, err,
		                          errlen)))
			goto out;
		singer_report_datasets(s, tap, target, datasets);
		cJSON_Delete(datasets);
	}
	if (req->state_id && !(req->flags & (SMELT_RQ_FULL_REFRESH | SMELT_RQ_NO_STATE_UPDATE))) {
		char *state = NULL;
		if ((rc = s->host->state_get(s->hctx, req->state_id, &state, err, errlen)))
			goto out;
		if (!state) {
			LOG(s, SMELT_LOG_INFO, "No state was found, complete import.");
		} else if (!has_cap(s, tap, "state")) {
			LOG(s, SMELT_LOG_WARN, "'%s' lacks the 'state' capability: its saved state is not passed",
			    attr(s, tap, "name"));
		} else {
			char name[64];
			snprintf(name, sizeof name, "state.%d-%u.json", (int)getpid(), ++s->seq);
			state_path = run_file(s, tap, name);
			rc = write_private(s, state_path, state, err, errlen);
		}
		s->host->free(state);
		if (rc)
			goto out;
	}

	for (size_t i = 0; i < n; i++) {
		const char **a = calloc(10, sizeof *a);
		int k = 0;
		if (!a) {
			rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
			goto out;
		}
		argvs[i] = a;
		a[k++] = s->host->plugin_path(s->hctx, req->plugins[i], SMELT_PPATH_EXECUTABLE);
		a[k++] = "--config";
		a[k++] = configs[i];
		if (i == 0 && catalog) {
			a[k++] = use_catalog ? "--catalog" : "--properties";
			a[k++] = catalog;
		}
		if (i == 0 && state_path) {
			a[k++] = "--state";
			a[k++] = state_path;
		}
		envs[i] = s->host->env_new(s->hctx, req->plugins[i]);
		ex[i].struct_size = sizeof ex[i];
		stages[i] = (struct smelt_spawn){ .struct_size = sizeof stages[i],
		                                  .label = attr(s, req->plugins[i], "name"),
		                                  .argv = a,
		                                  .env = envs[i] };
	}
	struct state_sink sink = { .s = s, .label = attr(s, target, "name"),
	                           .state_id = (req->flags & SMELT_RQ_NO_STATE_UPDATE) ? NULL : req->state_id,
	                           .partial = !!(req->flags & SMELT_RQ_STATE_PARTIAL) };
	stages[n - 1].on_line = on_state;
	stages[n - 1].arg = &sink;
	rc = s->host->pipeline(s->hctx, stages, n, ex, err, errlen);
	if (sink.save_failed) {
		rc = kit_fail(err, errlen, SMELT_ERR, "cannot save the state of '%s': %s", req->state_id, sink.err);
		goto out;
	}
	if (rc)
		goto out;
	int tap_bad = !(ex[0].exited && ex[0].exit_code == 0), target_bad = !(ex[n - 1].exited && ex[n - 1].exit_code == 0);
	int mappers_bad = 0;
	for (size_t i = 1; i + 1 < n; i++)
		mappers_bad |= !(ex[i].exited && ex[i].exit_code == 0);
	/* A target that ended first stops the tap (SIGPIPE, or the host's SIGTERM): the tap's end says nothing then. */
	if (target_bad && tap_bad && ex[0].signaled && (ex[0].term_signal == SIGPIPE || ex[0].term_signal == SIGTERM))
		tap_bad = 0;
	char what[160] = "";
	if (tap_bad || target_bad || mappers_bad) {
		const struct smelt_exit *e = tap_bad ? &ex[0] : &ex[n - 1];
		if (e->signaled)
			snprintf(what, sizeof what, "killed by signal %d", e->term_signal);
		else
			snprintf(what, sizeof what, "exit code %d", e->exit_code);
	}
	if (tap_bad && target_bad)
		rc = kit_fail(err, errlen, SMELT_ERR_FAILED, "Extractor and loader failed: '%s' (%s), '%s' (exit code %d)",
		          attr(s, tap, "name"), what, attr(s, target, "name"), ex[n - 1].exit_code);
	else if (tap_bad)
		rc = kit_fail(err, errlen, SMELT_ERR_FAILED, "Extractor failed: '%s' (%s)", attr(s, tap, "name"), what);
	else if (target_bad)
		rc = kit_fail(err, errlen, SMELT_ERR_FAILED, "Loader failed: '%s' (%s)", attr(s, target, "name"), what);
	else if (mappers_bad)
		rc = kit_fail(err, errlen, SMELT_ERR_FAILED, "Mappers failed");
	struct smelt_event ev = { .struct_size = sizeof ev, .kind = SMELT_EV_SUMMARY, .item = req->state_id,
	                          .status = rc ? "failed" : "success", .count = (int64_t)sink.saved, .seconds = -1,
	                          .message = "states saved" };
	s->host->event(s->hctx, &ev);
out:
	for (size_t i = 0; i < n; i++) {
		if (configs)
			free(configs[i]);
		if (argvs)
			free(argvs[i]);
		if (envs && envs[i])
			s->host->env_free(envs[i]);
	}
	free(configs);
	free(argvs);
	free(envs);
	free(stages);
	free(ex);
	free(catalog);
	free(state_path);
	s->host->free(tap_json);
	return rc;
}

/* smelt invoke: the plugin with --config (and a catalog for a bare tap run), stdio inherited. */
static int singer_invoke(void *state, const struct smelt_request *req, int *exit_code, char *err, size_t errlen)
{
	struct singer *s = state;
	const struct smelt_plugin *p = req->plugins[0];
	char *config = NULL, *catalog = NULL, *json = NULL;
	int rc;
	*exit_code = 0;
	if (req->kind == SMELT_REQ_DUMP && !strcmp(req->dump, "config")) {
		if ((rc = s->host->config_json(s->hctx, p, 0, &json, err, errlen)))
			return rc;
		singer_print_pretty(json);
		s->host->free(json);
		return SMELT_OK;
	}
	if ((rc = write_config(s, p, NULL, &config, err, errlen)))
		return rc;
	int is_tap = !strcmp(attr(s, p, "type"), "extractors");
	int want_catalog = is_tap && req->nargs == 0 && !req->command &&
	                   (has_cap(s, p, "catalog") || has_cap(s, p, "properties"));
	if (req->kind == SMELT_REQ_DUMP || want_catalog) {
		if (!is_tap) {
			free(config);
			return kit_fail(err, errlen, SMELT_ERR_CONFIG, "'%s' is not an extractor: it has no catalog",
			            attr(s, p, "name"));
		}
		if ((rc = s->host->config_json(s->hctx, p, 0, &json, err, errlen)) ||
		    (rc = prepare_catalog(s, p, config, json, req->flags, &catalog, NULL, NULL, err, errlen)))
			goto out;
		if (req->kind == SMELT_REQ_DUMP) {
			char *text = catalog ? kit_read_file(catalog, NULL) : NULL;
			if (!text) {
				rc = kit_fail(err, errlen, SMELT_ERR_FAILED, "'%s' produced no catalog", attr(s, p, "name"));
				goto out;
			}
			fputs(text, stdout);
			fputc('\n', stdout);
			free(text);
			goto out;
		}
	}
	const char **argv = calloc(req->nargs + 8, sizeof *argv);
	if (!argv) {
		rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
		goto out;
	}
	size_t k = 0;
	const char *exe = s->host->plugin_path(s->hctx, p, SMELT_PPATH_EXECUTABLE);
	if (req->command) {
		const char *cmd_exe = NULL;
		const char *args = s->host->plugin_command(s->hctx, p, req->command, &cmd_exe);
		if (!args) {
			free(argv);
			rc = kit_fail(err, errlen, SMELT_ERR_NOTFOUND,
			              "plugin '%s' has no command '%s' (see 'smelt invoke --list-commands %s')",
			              attr(s, p, "name"), req->command, attr(s, p, "name"));
			goto out;
		}
		argv[k++] = cmd_exe ? cmd_exe : exe;
		char *words = malloc(strlen(args) + 1);
		const char **all = realloc(argv, (strlen(args) / 2 + req->nargs + 4) * sizeof *argv);
		if (!words || !all) {
			free(words);
			free(all ? all : argv);
			rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
			goto out;
		}
		argv = all;
		if (kit_split_args(args, words, argv, &k, strlen(args) / 2 + 2) != 0) {
			free(words);
			free(argv);
			rc = kit_fail(err, errlen, SMELT_ERR_CONFIG, "command '%s' of '%s' has an unterminated quote",
			              req->command, attr(s, p, "name"));
			goto out;
		}
		for (size_t i = 0; i < req->nargs; i++)
			argv[k++] = req->args[i];
		struct smelt_env *env = s->host->env_new(s->hctx, p);
		struct smelt_spawn spec = { .struct_size = sizeof spec, .label = attr(s, p, "name"), .argv = argv, .env = env,
		                            .flags = SMELT_SPAWN_INHERIT_STDIO };
		struct smelt_exit ex = { .struct_size = sizeof ex };
		rc = s->host->run(s->hctx, &spec, &ex, err, errlen);
		s->host->env_free(env);
		free(words);
		free(argv);
		*exit_code = ex.exited ? ex.exit_code : 128 + ex.term_signal;
		goto out;
	}
	argv[k++] = exe;
	argv[k++] = "--config";
	argv[k++] = config;
	if (catalog) {
		argv[k++] = has_cap(s, p, "catalog") ? "--catalog" : "--properties";
		argv[k++] = catalog;
	}
	for (size_t i = 0; i < req->nargs; i++)
		argv[k++] = req->args[i];
	struct smelt_env *env = s->host->env_new(s->hctx, p);
	struct smelt_spawn spec = { .struct_size = sizeof spec, .label = attr(s, p, "name"), .argv = argv, .env = env,
	                            .flags = SMELT_SPAWN_INHERIT_STDIO };
	struct smelt_exit ex = { .struct_size = sizeof ex };
	rc = s->host->run(s->hctx, &spec, &ex, err, errlen);
	s->host->env_free(env);
	free(argv);
	if (rc == SMELT_OK)
		*exit_code = ex.exited ? ex.exit_code : 128 + ex.term_signal;
out:
	free(config);
	free(catalog);
	s->host->free(json);
	return rc;
}

static int singer_run_block(void *state, const struct smelt_request *req, char *err, size_t errlen)
{
	struct singer *s = state;
	if (req->kind == SMELT_REQ_EL)
		return run_el(s, req, err, errlen);
	/* A command block of a Singer plugin (tap-x:some-command): run it like invoke. */
	int code = 0;
	struct smelt_request r = *req;
	r.kind = SMELT_REQ_INVOKE;
	int rc = singer_invoke(state, &r, &code, err, errlen);
	if (rc == SMELT_OK && code != 0)
		rc = kit_fail(err, errlen, SMELT_ERR_FAILED, "'%s:%s' exited with code %d", attr(s, req->plugins[0], "name"),
		          req->command ? req->command : "", code);
	return rc;
}

/*
 * smelt select TAP --list: the tap's catalog as a run would use it (cached
 * or discovered, the rules applied) and the selection of each stream and
 * property, as the reply of the select operation (sdk.h).
 */
static int singer_select(void *state, const struct smelt_request *req, char **json, char *err, size_t errlen)
{
	struct singer *s = state;
	*json = NULL;
	if (req->nplugins < 1)
		return kit_fail(err, errlen, SMELT_ERR, "no plugin to list");
	const struct smelt_plugin *p = req->plugins[0];
	if (strcmp(attr(s, p, "type"), "extractors"))
		return kit_fail(err, errlen, SMELT_ERR_CONFIG, "'%s' is not an extractor: it has no catalog", attr(s, p, "name"));
	char *config = NULL, *config_json = NULL, *reply = NULL;
	int rc = write_config(s, p, NULL, &config, err, errlen);
	if (!rc)
		rc = s->host->config_json(s->hctx, p, 0, &config_json, err, errlen);
	if (!rc) /* the listing needs the rules applied, not a properties file for the tap */
		rc = prepare_catalog(s, p, config, config_json, req->flags, NULL, NULL, &reply, err, errlen);
	if (!rc && !reply)
		rc = kit_fail(err, errlen, SMELT_ERR_FAILED, "'%s' produced no catalog", attr(s, p, "name"));
	if (!rc && !(*json = s->host->alloc(strlen(reply) + 1)))
		rc = kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	if (!rc)
		memcpy(*json, reply, strlen(reply) + 1);
	free(reply);
	free(config);
	s->host->free(config_json);
	return rc;
}

/* Healthy when the native connectors shipped with smelt are there and executable. */
static int singer_check_health(void *state, struct smelt_health *out, char *err, size_t errlen)
{
	struct singer *s = state;
	static const char *const natives[] = { "tap-csv", "target-sqlite", "target-jsonl" };
	const char *dir = s->host->path(s->hctx, SMELT_PATH_LIBEXEC);
	(void)err;
	(void)errlen;
	if (!SMELT_HAS(out, struct smelt_health, detail_len))
		return SMELT_ERR_ABI;
	out->healthy = 1;
	for (size_t i = 0; i < sizeof natives / sizeof natives[0] && out->healthy; i++) {
		char *path = kit_asprintf("%s/%s", dir ? dir : ".", natives[i]);
		out->healthy = path && access(path, X_OK) == 0;
		if (!out->healthy)
			snprintf(out->detail, out->detail_len, "native connector '%s' is missing from '%s': reinstall smelt",
			         natives[i], dir ? dir : "?");
		free(path);
	}
	if (out->healthy)
		snprintf(out->detail, out->detail_len, "native connectors in '%s'", dir);
	return SMELT_OK;
}

static int singer_init(const struct smelt_host_api *host, void *hctx, void **state, char *err, size_t errlen)
{
	struct singer *s = calloc(1, sizeof *s);
	if (!s)
		return kit_fail(err, errlen, SMELT_ERR_NOMEM, "out of memory");
	s->host = host;
	s->hctx = hctx;
	*state = s;
	return SMELT_OK;
}

static void singer_destroy(void *state)
{
	free(state);
}

static const struct smelt_adapter singer_adapter = {
	.abi_version = SMELT_ABI_VERSION,
	.struct_size = sizeof(struct smelt_adapter),
	.name = "singer",
	.version = "0.1.0",
	.description = "Singer taps, targets and mappers",
	.category = SMELT_CAT_EXTRACT_LOAD,
	.plugin_types = SMELT_PT_EXTRACTOR | SMELT_PT_LOADER | SMELT_PT_MAPPER,
	.init = singer_init,
	.destroy = singer_destroy,
	.invoke = singer_invoke,
	.run_block = singer_run_block,
	.check_health = singer_check_health,
	.select = singer_select,
};

SMELT_EXPORT const struct smelt_adapter *smelt_adapter_entry(void)
{
	return &singer_adapter;
}
