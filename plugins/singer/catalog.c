/* catalog: Meltano's catalog rules; see catalog.h. */
#include "catalog.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *stream_id(const cJSON *stream)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(stream, "tap_stream_id");
	if (!cJSON_IsString(id))
		id = cJSON_GetObjectItemCaseSensitive(stream, "stream");
	return cJSON_IsString(id) ? id->valuestring : "";
}

/*
 * An index of one stream's metadata array (property name -> first entry whose
 * breadcrumb has two items, the second being the name), so the per-property
 * loops of catalog_apply_rules() are linear instead of quadratic (issue 18: a
 * CSV of 100k columns).  It is used only while catalog_apply_rules() runs
 * (active), which resets it on the way in and out: there entries are only
 * appended, never removed, so the index cannot go stale.
 */
static __thread struct catalog_props md_ix; /* see catalog_apply_rules() */
static __thread int md_ix_active;             /* inside catalog_apply_rules() */

static const char *entry_prop(const cJSON *e)
{
	const cJSON *bc = cJSON_GetObjectItemCaseSensitive(e, "breadcrumb");
	const cJSON *p = cJSON_GetArraySize(bc) == 2 ? cJSON_GetArrayItem(bc, 1) : NULL;
	return cJSON_IsString(p) ? p->valuestring : NULL;
}

static cJSON **ixp_slot(const struct catalog_props *ix, const char *prop)
{
	size_t h = 1469598103934665603ull, mask = ix->cap - 1;
	for (const char *c = prop; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ull;
	for (h &= mask;; h = (h + 1) & mask)
		if (!ix->slot[h] || !strcmp(entry_prop(ix->slot[h]), prop))
			return &ix->slot[h];
}

void catalog_props_release(struct catalog_props *ix)
{
	free(ix->slot);
	memset(ix, 0, sizeof *ix);
}

/* Index md (first entry of a name wins, as the linear search finds it); 0, or -1 out of memory. */
static int ixp_build(struct catalog_props *ix, const cJSON *md)
{
	size_t cap = 16, count = (size_t)cJSON_GetArraySize(md);
	const cJSON *e;
	catalog_props_release(ix);
	while (cap < 2 * count + 2)
		cap *= 2;
	if (!(ix->slot = calloc(cap, sizeof *ix->slot)))
		return -1;
	ix->cap = cap;
	ix->md = md;
	cJSON_ArrayForEach(e, md)
	{
		const char *name = entry_prop(e);
		cJSON **s = name ? ixp_slot(ix, name) : NULL;
		if (s && !*s) {
			*s = (cJSON *)e;
			ix->n++;
		} else if (s) {
			ix->dups = 1;
		}
	}
	return 0;
}

int catalog_props_index(struct catalog_props *ix, const cJSON *stream)
{
	return ixp_build(ix, cJSON_GetObjectItemCaseSensitive(stream, "metadata"));
}

static cJSON **ix_slot(const char *prop)
{
	return ixp_slot(&md_ix, prop);
}

static void ix_reset(void)
{
	catalog_props_release(&md_ix);
}

static int ix_build(const cJSON *md)
{
	return ixp_build(&md_ix, md);
}

/* The "metadata" object of a metadata entry.  When the entry has none (or something else than an
 * object) and create is set, an empty object takes its place, as Meltano creates missing entries:
 * a rule is never silently not applied. */
static cJSON *entry_metadata(cJSON *e, int create)
{
	cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "metadata");
	if (cJSON_IsObject(m) || !create)
		return cJSON_IsObject(m) ? m : NULL;
	cJSON *fresh = cJSON_CreateObject();
	if (!fresh)
		return NULL;
	if (m ? !cJSON_ReplaceItemInObjectCaseSensitive(e, "metadata", fresh)
	      : !cJSON_AddItemToObject(e, "metadata", fresh)) {
		cJSON_Delete(fresh);
		return NULL;
	}
	return fresh;
}

/* The metadata entry of a breadcrumb ([] for the stream, ["properties", prop] for a property), created when missing. */
static cJSON *entry(cJSON *stream, const char *prop, int create)
{
	cJSON *md = cJSON_GetObjectItemCaseSensitive(stream, "metadata");
	if (!cJSON_IsArray(md)) {
		if (!create)
			return NULL;
		md = cJSON_AddArrayToObject(stream, "metadata");
	}
	cJSON *e = NULL;
	int indexed = prop && md_ix_active && (md_ix.md == md || ix_build(md) == 0);
	if (indexed) {
		e = *ix_slot(prop);
		if (e || !create)
			return e ? entry_metadata(e, create) : NULL;
	}
	/* indexed and not there: created below (the search must not run, it would leave e at the first entry) */
	cJSON *search = indexed ? NULL : md;
	cJSON_ArrayForEach(e, search)
	{
		cJSON *bc = cJSON_GetObjectItemCaseSensitive(e, "breadcrumb");
		int size = cJSON_GetArraySize(bc);
		if (!prop && size == 0)
			break;
		if (prop && size == 2 && cJSON_IsString(cJSON_GetArrayItem(bc, 1)) &&
		    !strcmp(cJSON_GetArrayItem(bc, 1)->valuestring, prop))
			break;
	}
	if (e || !create)
		return e ? entry_metadata(e, create) : NULL;
	e = cJSON_CreateObject();
	cJSON *bc = cJSON_AddArrayToObject(e, "breadcrumb");
	if (prop) {
		cJSON_AddItemToArray(bc, cJSON_CreateString("properties"));
		cJSON_AddItemToArray(bc, cJSON_CreateString(prop));
	}
	cJSON *m = cJSON_AddObjectToObject(e, "metadata");
	cJSON_AddStringToObject(m, "inclusion", "automatic");
	cJSON_AddItemToArray(md, e);
	if (indexed) {
		if (2 * (md_ix.n + 1) >= md_ix.cap)
			ix_build(md); /* grown: rebuilt with the new entry in it */
		else
			*ix_slot(prop) = e, md_ix.n++;
	}
	return m;
}

/* Sets obj[key] = value (owned); value is freed when it cannot be stored (no object, no key). */
static void set_key(cJSON *obj, const char *key, cJSON *value)
{
	int ok = 0;
	if (cJSON_IsObject(obj) && key && value)
		ok = cJSON_GetObjectItemCaseSensitive(obj, key) ? cJSON_ReplaceItemInObjectCaseSensitive(obj, key, value)
		                                                : cJSON_AddItemToObject(obj, key, value);
	if (!ok)
		cJSON_Delete(value);
}

static const char *inclusion(const cJSON *m)
{
	const cJSON *inc = cJSON_GetObjectItemCaseSensitive(m, "inclusion");
	return cJSON_IsString(inc) ? inc->valuestring : "";
}

static void set_selected(cJSON *m, int on)
{
	if (on && !strcmp(inclusion(m), "unsupported"))
		return; /* never select what the tap cannot emit */
	set_key(m, "selected", cJSON_CreateBool(on));
}

static cJSON *properties(cJSON *stream)
{
	cJSON *props = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(stream, "schema"), "properties");
	return cJSON_IsObject(props) ? props : NULL;
}

char *catalog_pattern_split(const char *pat, const char **prop)
{
	size_t n = strlen(pat);
	char *s = malloc(n + 1), *o = s;
	*prop = NULL;
	if (!s)
		return NULL;
	for (const char *p = pat; *p; p++) {
		if (p[0] == '\\' && p[1] == '.') {
			*o++ = '.';
			p++;
			continue;
		}
		if (*p == '.') {
			*prop = p + 1;
			break;
		}
		*o++ = *p;
	}
	*o = '\0';
	return s;
}

char *catalog_pattern_prop(const char *prop)
{
	const char *dot = strchr(prop, '.');
	size_t n = dot ? (size_t)(dot - prop) : strlen(prop);
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, prop, n);
		s[n] = '\0';
	}
	return s;
}

static void apply_select(cJSON *catalog, const char *pattern)
{
	int exclude = pattern[0] == '!';
	const char *prop;
	char *sglob = catalog_pattern_split(pattern + exclude, &prop);
	char *pglob = catalog_pattern_prop(prop ? prop : "*");
	cJSON *streams = cJSON_GetObjectItemCaseSensitive(catalog, "streams"), *st;
	cJSON_ArrayForEach(st, streams)
	{
		if (!sglob || fnmatch(sglob, stream_id(st), 0) != 0)
			continue;
		cJSON *props = properties(st), *p;
		if (!exclude)
			set_selected(entry(st, NULL, 1), 1);
		else if (!prop || !strcmp(prop, "*"))
			set_selected(entry(st, NULL, 1), 0);
		cJSON_ArrayForEach(p, props)
		{
			if (pglob && fnmatch(pglob, p->string, 0) == 0)
				set_selected(entry(st, p->string, 1), !exclude);
		}
	}
	free(sglob);
	free(pglob);
}

static void apply_metadata(cJSON *catalog, const cJSON *metadata)
{
	cJSON *streams = cJSON_GetObjectItemCaseSensitive(catalog, "streams"), *st;
	const cJSON *rule;
	cJSON_ArrayForEach(rule, metadata)
	{
		if (!cJSON_IsObject(rule) || !rule->string)
			continue; /* the host refuses such rules; never fnmatch() a NULL pattern */
		cJSON_ArrayForEach(st, streams)
		{
			if (fnmatch(rule->string, stream_id(st), 0) != 0)
				continue;
			const cJSON *kv;
			cJSON_ArrayForEach(kv, rule)
			{
				if (!cJSON_IsObject(kv)) { /* stream-level key */
					set_key(entry(st, NULL, 1), kv->string, cJSON_Duplicate(kv, 1));
					continue;
				}
				cJSON *props = properties(st), *p;
				cJSON_ArrayForEach(p, props)
				{
					if (fnmatch(kv->string, p->string, 0) != 0)
						continue;
					const cJSON *pk;
					cJSON *m = entry(st, p->string, 1);
					cJSON_ArrayForEach(pk, kv)
						set_key(m, pk->string, cJSON_Duplicate(pk, 1));
				}
			}
		}
	}
}

static void apply_schema(cJSON *catalog, const cJSON *schema)
{
	cJSON *streams = cJSON_GetObjectItemCaseSensitive(catalog, "streams"), *st;
	const cJSON *rule;
	cJSON_ArrayForEach(rule, schema)
	{
		if (!cJSON_IsObject(rule) || !rule->string)
			continue; /* the host refuses such rules; never fnmatch() a NULL pattern */
		cJSON_ArrayForEach(st, streams)
		{
			if (fnmatch(rule->string, stream_id(st), 0) != 0)
				continue;
			cJSON *props = properties(st);
			if (!props) {
				cJSON *sch = cJSON_GetObjectItemCaseSensitive(st, "schema");
				if (!cJSON_IsObject(sch))
					sch = cJSON_AddObjectToObject(st, "schema");
				props = cJSON_AddObjectToObject(sch, "properties");
			}
			const cJSON *kv;
			cJSON_ArrayForEach(kv, rule)
				set_key(props, kv->string, cJSON_Duplicate(kv, 1));
		}
	}
}

static void apply_filter(cJSON *catalog, const cJSON *filter)
{
	cJSON *streams = cJSON_GetObjectItemCaseSensitive(catalog, "streams"), *st;
	int has_include = 0;
	const cJSON *f;
	cJSON_ArrayForEach(f, filter)
		has_include |= cJSON_IsString(f) && f->valuestring[0] != '!';
	cJSON_ArrayForEach(st, streams)
	{
		int keep = !has_include;
		cJSON_ArrayForEach(f, filter)
		{
			if (!cJSON_IsString(f))
				continue;
			int neg = f->valuestring[0] == '!';
			if (fnmatch(f->valuestring + neg, stream_id(st), 0) == 0)
				keep = !neg;
		}
		if (!keep)
			set_selected(entry(st, NULL, 1), 0);
	}
}

void catalog_apply_rules(cJSON *catalog, const cJSON *select, const cJSON *metadata, const cJSON *schema,
                         const cJSON *select_filter)
{
	cJSON *streams = cJSON_GetObjectItemCaseSensitive(catalog, "streams"), *st;
	ix_reset();
	md_ix_active = 1;
	if (cJSON_IsObject(schema))
		apply_schema(catalog, schema);
	/* every stream and top-level property gets an entry, then everything is deselected (!*.*) */
	cJSON_ArrayForEach(st, streams)
	{
		cJSON *props = properties(st), *p;
		set_selected(entry(st, NULL, 1), 0);
		cJSON_ArrayForEach(p, props)
			set_selected(entry(st, p->string, 1), 0);
	}
	const cJSON *pat;
	if (!cJSON_IsArray(select)) {
		apply_select(catalog, "*.*");
	} else {
		cJSON_ArrayForEach(pat, select)
			if (cJSON_IsString(pat) && pat->valuestring[0] != '!')
				apply_select(catalog, pat->valuestring);
		cJSON_ArrayForEach(pat, select)
			if (cJSON_IsString(pat) && pat->valuestring[0] == '!')
				apply_select(catalog, pat->valuestring);
	}
	if (cJSON_IsObject(metadata))
		apply_metadata(catalog, metadata);
	if (cJSON_IsArray(select_filter))
		apply_filter(catalog, select_filter);
	/* legacy catalogs read stream-level rules from the stream object, with '_' for '-' */
	cJSON_ArrayForEach(st, streams)
	{
		cJSON *m = entry(st, NULL, 0), *kv;
		cJSON_ArrayForEach(kv, m)
		{
			if (!strcmp(kv->string, "selected") || !strcmp(kv->string, "replication-method") ||
			    !strcmp(kv->string, "replication-key")) {
				char key[64];
				snprintf(key, sizeof key, "%s", kv->string);
				for (char *c = key; *c; c++)
					if (*c == '-')
						*c = '_';
				set_key(st, key, cJSON_Duplicate(kv, 1));
			}
		}
	}
	md_ix_active = 0;
	ix_reset();
}

int catalog_stream_selected(const cJSON *stream)
{
	cJSON *m = entry((cJSON *)stream, NULL, 0);
	const cJSON *sel = cJSON_GetObjectItemCaseSensitive(m, "selected");
	return !m || cJSON_IsTrue(sel) || !strcmp(inclusion(m), "automatic");
}

/* The selection of metadata entry e (NULL: none), as catalog_selection() tells it. */
static const char *entry_selection(const cJSON *e)
{
	if (!e)
		return "selected"; /* no metadata: selected (Singer rule 1) */
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "metadata");
	const char *inc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "inclusion"));
	if (inc && !strcmp(inc, "automatic"))
		return "automatic";
	if (inc && !strcmp(inc, "unsupported"))
		return "unsupported";
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "selected")) ? "selected" : "excluded";
}

const char *catalog_selection(const cJSON *stream, const char *prop)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(stream, "metadata"), *e;
	cJSON_ArrayForEach(e, md)
	{
		const cJSON *bc = cJSON_GetObjectItemCaseSensitive(e, "breadcrumb");
		int n = cJSON_GetArraySize(bc);
		const char *name = n == 2 ? cJSON_GetStringValue(cJSON_GetArrayItem(bc, 1)) : NULL;
		if (prop ? !(name && !strcmp(name, prop)) : n != 0)
			continue;
		return entry_selection(e);
	}
	return entry_selection(NULL);
}

/* The selection of property prop of the stream indexed in ix (built from stream); ix NULL: a search. */
static const char *prop_selection(const struct catalog_props *ix, const cJSON *stream, const char *prop)
{
	if (!ix || !ix->cap)
		return catalog_selection(stream, prop);
	return entry_selection(*ixp_slot(ix, prop));
}

/* Whether metadata entry e leaves its property out (unsupported, or selected: false unless automatic). */
static int entry_deselects(const cJSON *e)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(e, "metadata");
	const char *inc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md, "inclusion"));
	if (inc && !strcmp(inc, "unsupported"))
		return 1;
	return cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(md, "selected")) && !(inc && !strcmp(inc, "automatic"));
}

int catalog_field_selected(const struct catalog_props *ix, const cJSON *stream, const char *name)
{
	if (ix && ix->cap && !ix->dups) {
		const cJSON *e = *ixp_slot(ix, name);
		return !(e && entry_deselects(e));
	}
	const cJSON *m;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(stream, "metadata"))
	{
		const char *p = entry_prop(m);
		if (p && !strcmp(p, name) && entry_deselects(m))
			return 0;
	}
	return 1;
}

cJSON *catalog_selection_report(const cJSON *catalog, const cJSON *patterns)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(o, "streams");
	cJSON *pats = patterns ? cJSON_Duplicate(patterns, 1) : cJSON_CreateStringArray((const char *[]){ "*.*" }, 1);
	if (!arr || !pats || !cJSON_AddItemToObject(o, "enabled_patterns", pats)) {
		cJSON_Delete(pats);
		goto oom;
	}
	const cJSON *stream, *prop;
	cJSON_ArrayForEach(stream, cJSON_GetObjectItemCaseSensitive(catalog, "streams"))
	{
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(stream, "tap_stream_id"));
		cJSON *s = cJSON_CreateObject(), *props;
		if (!s || !cJSON_AddItemToArray(arr, s)) {
			cJSON_Delete(s);
			goto oom;
		}
		if (!cJSON_AddStringToObject(s, "stream", id ? id : "") ||
		    !cJSON_AddStringToObject(s, "selection", catalog_selection(stream, NULL)) ||
		    !(props = cJSON_AddArrayToObject(s, "properties")))
			goto oom;
		const cJSON *schema = cJSON_GetObjectItemCaseSensitive(stream, "schema");
		struct catalog_props ix = { 0 };
		int indexed = catalog_props_index(&ix, stream) == 0; /* else: searched */
		cJSON_ArrayForEach(prop, cJSON_GetObjectItemCaseSensitive(schema, "properties"))
		{
			if (!prop->string)
				continue; /* schema.properties given as an array: its entries have no name to list */
			cJSON *pp = cJSON_CreateObject();
			if (!pp || !cJSON_AddItemToArray(props, pp)) {
				cJSON_Delete(pp);
				catalog_props_release(&ix);
				goto oom;
			}
			if (!cJSON_AddStringToObject(pp, "name", prop->string) ||
			    !cJSON_AddStringToObject(pp, "selection", prop_selection(indexed ? &ix : NULL, stream, prop->string))) {
				catalog_props_release(&ix);
				goto oom;
			}
		}
		catalog_props_release(&ix);
	}
	return o;
oom:
	cJSON_Delete(o);
	return NULL;
}

void catalog_field_type(const cJSON *prop, char *type, size_t size)
{
	const char *format = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(prop, "format"));
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(prop, "type"), *one;
	type[0] = '\0';
	if (format) {
		snprintf(type, size, "%s", format);
	} else if (cJSON_IsString(t)) {
		snprintf(type, size, "%s", t->valuestring);
	} else {
		cJSON_ArrayForEach(one, t)
		{
			size_t used = strlen(type);
			if (cJSON_IsString(one) && strcmp(one->valuestring, "null"))
				snprintf(type + used, size - used, "%s%s", used ? "|" : "", one->valuestring);
		}
	}
}

cJSON *catalog_datasets(const cJSON *catalog)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *st;
	if (!out)
		return NULL;
	cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(catalog, "streams"))
	{
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "tap_stream_id"));
		if (!name)
			name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "stream"));
		if (!name || !catalog_stream_selected(st))
			continue;
		cJSON *ds = cJSON_CreateObject();
		if (!ds || !cJSON_AddItemToArray(out, ds)) {
			cJSON_Delete(ds);
			cJSON_Delete(out);
			return NULL;
		}
		cJSON *fields = cJSON_AddArrayToObject(ds, "fields");
		int oom = !fields || !cJSON_AddStringToObject(ds, "stream", name);
		struct catalog_props ix = { 0 };
		int indexed = !oom && catalog_props_index(&ix, st) == 0; /* else: searched */
		const cJSON *prop;
		cJSON_ArrayForEach(prop, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(st, "schema"),
		                                                          "properties"))
		{
			if (oom || !prop->string || !catalog_field_selected(indexed ? &ix : NULL, st, prop->string))
				continue;
			char type[128];
			catalog_field_type(prop, type, sizeof type);
			cJSON *f = cJSON_CreateObject();
			if (!f || !cJSON_AddItemToArray(fields, f)) {
				cJSON_Delete(f);
				oom = 1;
			} else if (!cJSON_AddStringToObject(f, "name", prop->string) ||
			           (type[0] && !cJSON_AddStringToObject(f, "type", type))) {
				oom = 1;
			}
		}
		catalog_props_release(&ix);
		if (oom) {
			cJSON_Delete(out);
			return NULL;
		}
	}
	return out;
}
