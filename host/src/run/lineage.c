/* lineage: OpenLineage run events for smelt run; see lineage.h. */
#include "run/lineage.h"
#include "build_config.h"
#include "util/sha256.h"
#include "project/project.h"
#include "run/runtime.h"
#include "settings/settings.h"
#include "util/fnv.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/*
 * The spec versions written: those of openlineage-python 1.54 (its
 * generated classes), which tests/e2e/test_lineage.py checks every event
 * against.  Change them together with the facets' shapes below.
 */
#define OL_SPEC "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
#define OL_FACETS "https://openlineage.io/spec/facets/"
#define OL_PARENT OL_FACETS "1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet"
#define OL_ENGINE OL_FACETS "1-1-1/ProcessingEngineRunFacet.json#/$defs/ProcessingEngineRunFacet"
#define OL_ERROR OL_FACETS "1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"
#define OL_JOBTYPE OL_FACETS "2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
#define OL_SCHEMA OL_FACETS "1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
#define OL_ASSERT OL_FACETS "1-1-0/DataQualityAssertionsDatasetFacet.json#/$defs/DataQualityAssertionsDatasetFacet"
#define OL_OUTSTATS OL_FACETS "1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet"
/* A URI naming the producer (the spec asks for one; Smelt has no public address to put here). */
#define OL_PRODUCER "urn:smelt:smelt:" SMELT_VERSION
#define OL_HTTP_TIMEOUT_S 5L /* as openlineage-python's HTTP transport */

struct lineage {
	char *ns;             /* the jobs' namespace */
	char *job;            /* the run's job name */
	char run_uuid[37];    /* the run's OpenLineage runId */
	char *url;            /* URL + endpoint; NULL: file transport */
	char *shown_url;      /* url as messages show it: without a user or password */
	char *api_key;        /* NULL: none */
	char *sys_dir;        /* file transport: <sys_dir>/lineage/<run id>.jsonl */
	char *file_rel;       /* "lineage/<run id>.jsonl" */
	int fd;               /* the open .jsonl, -1 until the first event */
	int broken;           /* the transport failed once: warned, nothing more is sent */
	char *block_name;     /* the block running now (its job name), NULL: none */
	char block_uuid[37];  /* its runId */
};

/* A variable from the environment, else from the project's .env; NULL when unset or empty. */
static const char *conf(const struct project *p, const char *name)
{
	const char *v = getenv(name);
	if (!v && p && p->dotenv)
		v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p->dotenv, name));
	return v && *v ? v : NULL;
}

static int truthy(const char *v)
{
	return v && (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"));
}

/* 1 when s is a UUID in its 8-4-4-4-12 text form. */
static int is_uuid(const char *s)
{
	if (strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* A name-based UUID (version 8, RFC 9562) of text: the same text always gives the same id. */
static void uuid_of(const char *text, char out[37])
{
	uint8_t h[32];
	struct sha256 s;
	sha256_init(&s);
	sha256_update(&s, text, strlen(text));
	sha256_final(&s, h);
	h[6] = (uint8_t)((h[6] & 0x0f) | 0x80);
	h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2],
	         h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
}

/* lineage.enabled, the project setting; 1 when unset or unreadable (the default is on). */
static int setting_enabled(struct project *p)
{
	struct settings s = { 0 };
	char err[SMELT_ERRBUF_SIZE];
	int on = 1;
	if (settings_resolve(p, NULL, NULL, 0, &s, err, sizeof err) == SMELT_OK) {
		const struct resolved_setting *r = settings_find(&s, "lineage.enabled");
		if (r && cJSON_IsFalse(r->value))
			on = 0;
		else if (r && cJSON_IsString(r->value) && !truthy(r->value->valuestring))
			on = 0;
	}
	settings_release(&s);
	return on;
}

/* url without its user and password (user:pw@ becomes ***@), for messages; malloc'd. */
static char *url_without_userinfo(const char *url)
{
	const char *host = strstr(url, "://");
	const char *at = host ? strchr(host + 3, '@') : NULL;
	const char *slash = host ? strchr(host + 3, '/') : NULL;
	if (!at || (slash && slash < at))
		return xstrdup(url);
	return xasprintf("%.*s***%s", (int)(host + 3 - url), url, at);
}

struct lineage *lineage_open(struct runtime *rt, const char *job)
{
	struct project *p = rt->project;
	if (!rt->run_id || truthy(conf(p, "OPENLINEAGE_DISABLED")) || !setting_enabled(p))
		return NULL;
	struct lineage *l = xcalloc(1, sizeof *l);
	l->fd = -1;
	const char *ns = conf(p, "OPENLINEAGE_NAMESPACE");
	if (ns) {
		l->ns = xstrdup(ns);
	} else {
		const char *slash = strrchr(p->root, '/');
		l->ns = xstrdup(slash && slash[1] ? slash + 1 : p->root);
	}
	l->job = xstrdup(job && *job ? job : "run");
	if (is_uuid(rt->run_id)) {
		for (int i = 0; i < 36; i++)
			l->run_uuid[i] = (char)tolower((unsigned char)rt->run_id[i]);
	} else {
		char *key = xasprintf("smelt run %s %s", p->root, rt->run_id);
		uuid_of(key, l->run_uuid);
		free(key);
	}
	const char *url = conf(p, "OPENLINEAGE_URL");
	if (url) {
		const char *ep = conf(p, "OPENLINEAGE_ENDPOINT");
		if (!ep)
			ep = "api/v1/lineage";
		while (*ep == '/')
			ep++;
		size_t n = strlen(url);
		while (n && url[n - 1] == '/')
			n--;
		l->url = xasprintf("%.*s/%s", (int)n, url, ep);
		l->shown_url = url_without_userinfo(l->url);
		const char *key = conf(p, "OPENLINEAGE_API_KEY");
		if (key) {
			l->api_key = xstrdup(key);
			log_add_secret(key);
		}
	} else {
		l->sys_dir = xstrdup(p->sys_dir);
		l->file_rel = xasprintf("lineage/%s.jsonl", rt->run_id);
	}
	return l;
}

/* "2026-12-07T00:10:00.123Z" */
static void now_iso(char out[32])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

static cJSON *facet(const char *schema_url)
{
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "_producer", OL_PRODUCER);
	cJSON_AddStringToObject(f, "_schemaURL", schema_url);
	return f;
}

static cJSON *job_ref(const char *ns, const char *name)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "namespace", ns);
	cJSON_AddStringToObject(j, "name", name);
	return j;
}

static cJSON *run_ref(const char *uuid)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "runId", uuid);
	return r;
}

/* A RunEvent without datasets; block: 1 for a block's run (a TASK with a parent), 0 for the whole run. */
static cJSON *event_new(struct lineage *l, const char *type, int block, int rc, const char *error)
{
	char when[32];
	now_iso(when);
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "eventType", type);
	cJSON_AddStringToObject(ev, "eventTime", when);
	cJSON_AddStringToObject(ev, "producer", OL_PRODUCER);
	cJSON_AddStringToObject(ev, "schemaURL", OL_SPEC);

	cJSON *run = run_ref(block ? l->block_uuid : l->run_uuid);
	cJSON *rf = cJSON_AddObjectToObject(run, "facets");
	cJSON *engine = facet(OL_ENGINE);
	cJSON_AddStringToObject(engine, "version", SMELT_VERSION);
	cJSON_AddStringToObject(engine, "name", "smelt");
	cJSON_AddStringToObject(engine, "openlineageAdapterVersion", SMELT_VERSION);
	cJSON_AddItemToObject(rf, "processing_engine", engine);
	if (block) {
		cJSON *parent = facet(OL_PARENT);
		cJSON_AddItemToObject(parent, "run", run_ref(l->run_uuid));
		cJSON_AddItemToObject(parent, "job", job_ref(l->ns, l->job));
		cJSON *root = cJSON_AddObjectToObject(parent, "root");
		cJSON_AddItemToObject(root, "run", run_ref(l->run_uuid));
		cJSON_AddItemToObject(root, "job", job_ref(l->ns, l->job));
		cJSON_AddItemToObject(rf, "parent", parent);
	}
	if (rc) {
		cJSON *em = facet(OL_ERROR);
		/* as the terminal shows it: the secrets smelt knows of scrubbed */
		char *msg = log_scrub(error && *error ? error : smelt_strerror(rc));
		cJSON_AddStringToObject(em, "message", msg);
		free(msg);
		cJSON_AddStringToObject(em, "programmingLanguage", "C");
		cJSON_AddItemToObject(rf, "errorMessage", em);
	}
	cJSON_AddItemToObject(ev, "run", run);

	cJSON *job = job_ref(l->ns, block ? l->block_name : l->job);
	cJSON *jt = facet(OL_JOBTYPE);
	cJSON_AddStringToObject(jt, "processingType", "BATCH");
	cJSON_AddStringToObject(jt, "integration", "SMELT");
	cJSON_AddStringToObject(jt, "jobType", block ? "TASK" : "JOB");
	cJSON_AddItemToObject(cJSON_AddObjectToObject(job, "facets"), "jobType", jt);
	cJSON_AddItemToObject(ev, "job", job);
	cJSON_AddItemToObject(ev, "inputs", cJSON_CreateArray());
	cJSON_AddItemToObject(ev, "outputs", cJSON_CreateArray());
	return ev;
}

/* The first failure of a transport is a warning; nothing more is sent for the run after it. */
static void transport_failed(struct lineage *l, const char *type, const char *where, const char *why)
{
	log_warn("OpenLineage: cannot send the %s event to '%s': %s; no more lineage events are sent for this run "
	         "(the run goes on)",
	         type, where, why);
	l->broken = 1;
}

/* Send ev (consumed) through the transport. */
static void emit(struct lineage *l, cJSON *ev)
{
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "eventType"));
	char *text = l->broken ? NULL : cJSON_PrintUnformatted(ev);
	if (!text || l->broken) {
		if (!l->broken)
			transport_failed(l, type, l->url ? l->shown_url : l->file_rel, "out of memory");
		cJSON_Delete(ev);
		return;
	}
	char err[SMELT_ERRBUF_SIZE];
	if (l->url) {
		if (lineage_http_post(l->url, l->api_key, text, OL_HTTP_TIMEOUT_S, err, sizeof err) != SMELT_OK)
			transport_failed(l, type, l->shown_url, err);
		else
			log_debug("OpenLineage: %s event sent to '%s'", type, l->shown_url);
	} else {
		int e = EIO;
		if (l->fd < 0) {
			if (mkdir_private(l->sys_dir) != 0 || fs_mkdirs_under(l->sys_dir, "lineage", 0700) != 0 ||
			    (l->fd = fs_open_under(l->sys_dir, l->file_rel, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			                           0600)) < 0) {
				e = errno;
				l->fd = -1;
			}
		}
		struct strbuf line = STRBUF_INIT;
		strbuf_addf(&line, "%s\n", text);
		const char *p = line.buf;
		size_t left = line.len;
		while (l->fd >= 0 && left) {
			ssize_t w = write(l->fd, p, left);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				e = w < 0 ? errno : EIO;
				break;
			}
			p += w;
			left -= (size_t)w;
		}
		if (l->fd < 0 || left) {
			char *path = xasprintf("%s/%s", l->sys_dir, l->file_rel);
			transport_failed(l, type, path, fs_beneath_strerror(e));
			free(path);
		}
		strbuf_release(&line);
	}
	free(text);
	cJSON_Delete(ev);
}

void lineage_run_start(struct lineage *l)
{
	if (l)
		emit(l, event_new(l, "START", 0, 0, NULL));
}

void lineage_block_start(struct lineage *l, size_t index, const char *name)
{
	if (!l)
		return;
	free(l->block_name);
	l->block_name = xasprintf("%s.%s", l->job, name);
	char *key = xasprintf("%s block %zu", l->run_uuid, index + 1);
	uuid_of(key, l->block_uuid);
	free(key);
	emit(l, event_new(l, "START", 1, 0, NULL));
}

/* ---- datasets ------------------------------------------------------------------------
 *
 * A SMELT_EV_DATASET event: item is the dataset's name, status "input" or
 * "output", detail_json an object that may hold
 *   namespace   the dataset's namespace (default: the jobs' namespace)
 *   fields      [{name, type, description}]       -> the schema facet
 *   assertions  [{assertion, success, column}]     -> dataQualityAssertions (inputs)
 *   stream      the stream whose SMELT_EV_COUNT rows were written (outputs)
 *   rows        rows written (outputs)             -> outputStatistics
 * Anything of the wrong type is left out, so what goes out stays valid.
 */

static const char *dataset_ns(const cJSON *ds)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ds, "namespace"));
}

/*
 * The block's datasets by (namespace, name), and the rows its SMELT_EV_COUNT
 * events report by stream: two open-addressing tables built once per block, so
 * a catalog of thousands of streams costs linear time (issue 19, W8), not a
 * scan of every dataset and every event per dataset.  Keys point into the
 * datasets' own strings and into rt's events: nothing is copied.
 */
struct ds_slot {
	const char *ns, *name; /* NULL: empty */
	cJSON *ds;             /* dataset: the dataset; rows: unused */
	long long rows;        /* rows: the sum of the counts */
};
struct ds_table {
	struct ds_slot *slot;
	size_t cap, n; /* cap a power of two, more than twice n */
};

static size_t ds_hash(const char *a, const char *b)
{
	return (size_t)fnv1a(fnv1a_sep(fnv1a(FNV1A_INIT, a, strlen(a))), b, strlen(b));
}

/* The slot of (ns, name): the one holding it, or the empty one where it goes (the table grows first). */
static struct ds_slot *ds_slot(struct ds_table *t, const char *ns, const char *name)
{
	if (2 * (t->n + 1) >= t->cap) {
		struct ds_table g = { xcalloc(t->cap ? 2 * t->cap : 64, sizeof *g.slot), t->cap ? 2 * t->cap : 64, 0 };
		for (size_t i = 0; i < t->cap; i++)
			if (t->slot[i].name)
				*ds_slot(&g, t->slot[i].ns, t->slot[i].name) = t->slot[i], g.n++;
		free(t->slot);
		*t = g;
	}
	size_t mask = t->cap - 1;
	for (size_t h = ds_hash(ns, name) & mask;; h = (h + 1) & mask)
		if (!t->slot[h].name || (!strcmp(t->slot[h].ns, ns) && !strcmp(t->slot[h].name, name)))
			return &t->slot[h];
}

/* The dataset (ns, name) of list (indexed in t), or NULL. */
static cJSON *find_dataset(struct ds_table *t, const char *ns, const char *name)
{
	return t->cap ? ds_slot(t, ns, name)->ds : NULL;
}

/* The string member key of src copied into dst, when it is a string. */
static void copy_str(cJSON *dst, const cJSON *src, const char *key)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(src, key));
	if (v)
		cJSON_AddStringToObject(dst, key, v);
}

/*
 * The schema facet of a dataset from the "fields" of an event's detail:
 * the array is moved over (not copied: a run of a thousand selected
 * streams carries tens of thousands of fields), keeping of each field only
 * the string members the facet defines and dropping fields without a name.
 */
static void add_fields(cJSON *facets, cJSON *detail)
{
	static const char *const keep[] = { "name", "type", "description" };
	cJSON *fields = cJSON_GetObjectItemCaseSensitive(detail, "fields");
	if (!cJSON_IsArray(fields) || cJSON_GetObjectItemCaseSensitive(facets, "schema"))
		return;
	cJSON_DetachItemViaPointer(detail, fields);
	for (cJSON *f = fields->child, *next; f; f = next) {
		next = f->next;
		if (!cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "name"))) {
			cJSON_Delete(cJSON_DetachItemViaPointer(fields, f));
			continue;
		}
		for (cJSON *m = f->child, *mnext; m; m = mnext) {
			mnext = m->next;
			int wanted = 0;
			for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++)
				wanted |= m->string && !strcmp(m->string, keep[k]) && cJSON_IsString(m);
			if (!wanted)
				cJSON_Delete(cJSON_DetachItemViaPointer(f, m));
		}
	}
	cJSON *schema = facet(OL_SCHEMA);
	cJSON_AddItemToObject(schema, "fields", fields);
	cJSON_AddItemToObject(facets, "schema", schema);
}

static void add_assertions(cJSON *input_facets, const cJSON *assertions)
{
	if (!cJSON_IsArray(assertions))
		return;
	cJSON *dq = cJSON_GetObjectItemCaseSensitive(input_facets, "dataQualityAssertions");
	if (!dq) {
		dq = facet(OL_ASSERT);
		cJSON_AddArrayToObject(dq, "assertions");
		cJSON_AddItemToObject(input_facets, "dataQualityAssertions", dq);
	}
	cJSON *out = cJSON_GetObjectItemCaseSensitive(dq, "assertions");
	const cJSON *a;
	cJSON_ArrayForEach(a, assertions)
	{
		const cJSON *ok = cJSON_GetObjectItemCaseSensitive(a, "success");
		if (!cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "assertion")) || !cJSON_IsBool(ok))
			continue;
		cJSON *o = cJSON_CreateObject();
		copy_str(o, a, "assertion");
		cJSON_AddBoolToObject(o, "success", cJSON_IsTrue(ok));
		copy_str(o, a, "column");
		copy_str(o, a, "name");
		copy_str(o, a, "severity");
		copy_str(o, a, "description");
		cJSON_AddItemToArray(out, o);
	}
}

static void set_rows(cJSON *ds, double rows)
{
	cJSON *of = cJSON_GetObjectItemCaseSensitive(ds, "outputFacets");
	if (!of)
		of = cJSON_AddObjectToObject(ds, "outputFacets");
	cJSON_DeleteItemFromObjectCaseSensitive(of, "outputStatistics");
	cJSON *st = facet(OL_OUTSTATS);
	cJSON_AddNumberToObject(st, "rowCount", rows);
	cJSON_AddItemToObject(of, "outputStatistics", st);
}

/* The rows of each stream that the block's SMELT_EV_COUNT events report (a stream without any: no slot). */
static void block_rows(struct ds_table *t, const struct runtime *rt, size_t block)
{
	for (size_t i = 0; i < rt->nevents; i++) {
		const struct rt_event *e = &rt->events[i];
		if (e->block == block && e->kind == SMELT_EV_COUNT && e->item && !strncmp(e->item, "stream ", 7) &&
		    e->count >= 0) {
			struct ds_slot *sl = ds_slot(t, "", e->item + 7);
			if (!sl->name) {
				sl->ns = "";
				sl->name = e->item + 7;
				t->n++;
			}
			sl->rows += e->count;
		}
	}
}

/* The rows of stream that the block's SMELT_EV_COUNT events report; -1 when none. */
static long long stream_rows(struct ds_table *rows, const char *stream)
{
	if (!rows->cap)
		return -1;
	const struct ds_slot *sl = ds_slot(rows, "", stream);
	return sl->name ? sl->rows : -1;
}

static void add_dataset(struct lineage *l, struct ds_table ix[2], struct ds_table *counts, cJSON *ev,
                        const struct rt_event *e)
{
	int input = !strcmp(e->status, "input");
	cJSON *detail = e->detail ? cJSON_Parse(e->detail) : NULL;
	const char *ns = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(detail, "namespace"));
	if (!ns || !*ns)
		ns = l->ns;
	cJSON *list = cJSON_GetObjectItemCaseSensitive(ev, input ? "inputs" : "outputs");
	cJSON *ds = find_dataset(&ix[input], ns, e->item);
	if (!ds) {
		ds = job_ref(ns, e->item);
		cJSON_AddObjectToObject(ds, "facets");
		cJSON_AddItemToArray(list, ds);
		struct ds_slot *sl = ds_slot(&ix[input], ns, e->item);
		sl->ns = dataset_ns(ds);
		sl->name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ds, "name"));
		sl->ds = ds;
		ix[input].n++;
	}
	add_fields(cJSON_GetObjectItemCaseSensitive(ds, "facets"), detail);
	if (input) {
		const cJSON *as = cJSON_GetObjectItemCaseSensitive(detail, "assertions");
		cJSON *inf = cJSON_GetObjectItemCaseSensitive(ds, "inputFacets");
		if (cJSON_IsArray(as) && !inf)
			inf = cJSON_AddObjectToObject(ds, "inputFacets");
		add_assertions(inf, as);
	} else {
		const cJSON *rows = cJSON_GetObjectItemCaseSensitive(detail, "rows");
		const char *stream = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(detail, "stream"));
		long long n = stream ? stream_rows(counts, stream) : -1;
		if (cJSON_IsNumber(rows) && rows->valuedouble >= 0)
			set_rows(ds, (double)(long long)rows->valuedouble);
		else if (n >= 0)
			set_rows(ds, (double)n);
	}
	cJSON_Delete(detail);
}

/* COMPLETE, FAIL, or ABORT for a run stopped by a signal or its timeout. */
static const char *end_type(int rc)
{
	return !rc ? "COMPLETE" : rc == SMELT_ERR_INTERRUPTED ? "ABORT" : "FAIL";
}

void lineage_block_end(struct lineage *l, const struct runtime *rt, size_t index, int rc, const char *error)
{
	if (!l || !l->block_name)
		return;
	cJSON *ev = event_new(l, end_type(rc), 1, rc, error);
	struct ds_table ix[2] = { { 0 }, { 0 } }, rows = { 0 };
	block_rows(&rows, rt, index + 1);
	for (size_t i = 0; i < rt->nevents; i++) {
		const struct rt_event *e = &rt->events[i];
		if (e->block == index + 1 && e->kind == SMELT_EV_DATASET && e->item && *e->item && e->status &&
		    (!strcmp(e->status, "input") || !strcmp(e->status, "output")))
			add_dataset(l, ix, &rows, ev, e);
	}
	free(ix[0].slot);
	free(ix[1].slot);
	free(rows.slot);
	emit(l, ev);
	free(l->block_name);
	l->block_name = NULL;
}

void lineage_run_end(struct lineage *l, int rc, const char *error)
{
	if (l)
		emit(l, event_new(l, end_type(rc), 0, rc, error));
}

void lineage_free(struct lineage *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	free(l->ns);
	free(l->job);
	free(l->url);
	free(l->shown_url);
	if (l->api_key)
		memset(l->api_key, 0, strlen(l->api_key));
	free(l->api_key);
	free(l->sys_dir);
	free(l->file_rel);
	free(l->block_name);
	free(l);
}
