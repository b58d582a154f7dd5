/*
 * lineage.c - the datasets of a dbt command, from target/manifest.json and
 * target/run_results.json, as SMELT_EV_DATASET events (the host turns them
 * into OpenLineage events).
 *
 * Each model, seed or snapshot that ran with status success is an output,
 * with its documented columns (name, data_type, description) and the rows
 * dbt says it wrote; the nodes and sources it depends on are inputs.  Each
 * test that ran (pass, warn, fail or error) is an assertion on the node it
 * tests (attached_node, else its first model dependency): the test's
 * generic name (not_null, unique, ...) or its own name, its column, and
 * whether it passed.  A dataset is named after its relation (database and
 * schema as dbt prints them, quotes removed: "main.customers") in the
 * namespace smelt://<plugin>.  Files that are missing or not what dbt
 * writes give no datasets: lineage never fails a block.
 */
#include "dbt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str_of(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* The relation of a node or source: relation_name without quotes, else database.schema.alias; malloc'd. */
static char *relation_of(const cJSON *node)
{
	const char *rel = str_of(node, "relation_name");
	if (rel && *rel) {
		char *out = malloc(strlen(rel) + 1), *o = out;
		if (!out)
			return NULL;
		for (const char *c = rel; *c; c++)
			if (*c != '"' && *c != '`' && *c != '[' && *c != ']')
				*o++ = *c;
		*o = '\0';
		return out;
	}
	const char *db = str_of(node, "database"), *schema = str_of(node, "schema");
	const char *name = str_of(node, "alias") ? str_of(node, "alias") : str_of(node, "identifier");
	if (!name)
		name = str_of(node, "name");
	if (!name)
		return NULL;
	return kit_asprintf("%s%s%s%s%s", db ? db : "", db ? "." : "", schema ? schema : "", schema ? "." : "", name);
}

/* The node or source of unique_id in the manifest, NULL when absent. */
static const cJSON *manifest_node(const cJSON *manifest, const char *id)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(manifest, "nodes"), id);
	return n ? n : cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(manifest, "sources"), id);
}

static int is_relation(const cJSON *node)
{
	const char *t = str_of(node, "resource_type");
	return t && (!strcmp(t, "model") || !strcmp(t, "seed") || !strcmp(t, "snapshot") || !strcmp(t, "source"));
}

/* The node's documented columns as [{name, type, description}]. */
static cJSON *fields_of(const cJSON *node)
{
	cJSON *fields = cJSON_CreateArray();
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(node, "columns"))
	{
		const char *name = str_of(c, "name") ? str_of(c, "name") : c->string;
		if (!name)
			continue;
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "name", name);
		if (str_of(c, "data_type") && *str_of(c, "data_type"))
			cJSON_AddStringToObject(f, "type", str_of(c, "data_type"));
		if (str_of(c, "description") && *str_of(c, "description"))
			cJSON_AddStringToObject(f, "description", str_of(c, "description"));
		cJSON_AddItemToArray(fields, f);
	}
	return fields;
}

/* One SMELT_EV_DATASET for node; detail (consumed) gets the namespace and, when the node has some, fields. */
static void emit(struct dbt *d, const char *ns, const cJSON *node, const char *direction, cJSON *detail)
{
	char *name = relation_of(node);
	if (!name || !detail) {
		free(name);
		cJSON_Delete(detail);
		return;
	}
	cJSON_AddStringToObject(detail, "namespace", ns);
	cJSON *fields = fields_of(node);
	if (cJSON_GetArraySize(fields))
		cJSON_AddItemToObject(detail, "fields", fields);
	else
		cJSON_Delete(fields);
	char *json = cJSON_PrintUnformatted(detail);
	struct smelt_event ev = { .struct_size = sizeof ev, .kind = SMELT_EV_DATASET, .item = name, .status = direction,
	                          .count = -1, .seconds = -1, .detail_json = json };
	if (json)
		d->host->event(d->hctx, &ev);
	free(json);
	free(name);
	cJSON_Delete(detail);
}

/* The assertion of a test node that ran with status. */
static cJSON *assertion_of(const cJSON *test, const char *status)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(test, "test_metadata");
	const char *kind = str_of(meta, "name") ? str_of(meta, "name") : str_of(test, "name");
	const char *column = str_of(test, "column_name");
	if (!column)
		column = str_of(cJSON_GetObjectItemCaseSensitive(meta, "kwargs"), "column_name");
	const char *severity = str_of(cJSON_GetObjectItemCaseSensitive(test, "config"), "severity");
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "assertion", kind ? kind : "test");
	cJSON_AddBoolToObject(a, "success", !strcmp(status, "pass"));
	if (column && *column)
		cJSON_AddStringToObject(a, "column", column);
	if (str_of(test, "name"))
		cJSON_AddStringToObject(a, "name", str_of(test, "name"));
	if (severity) {
		char sev[16];
		size_t i = 0;
		for (; severity[i] && i + 1 < sizeof sev; i++)
			sev[i] = (char)(severity[i] >= 'A' && severity[i] <= 'Z' ? severity[i] + 32 : severity[i]);
		sev[i] = '\0';
		cJSON_AddStringToObject(a, "severity", sev);
	}
	return a;
}

/* The node a test checks: attached_node (dbt 1.5+), else its first relation dependency. */
static const cJSON *tested_node(const cJSON *manifest, const cJSON *test)
{
	const char *attached = str_of(test, "attached_node");
	const cJSON *n = attached ? manifest_node(manifest, attached) : NULL;
	const cJSON *dep;
	cJSON_ArrayForEach(dep, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(test, "depends_on"),
	                                                         "nodes"))
	{
		if (n)
			break;
		const cJSON *cand = cJSON_IsString(dep) ? manifest_node(manifest, dep->valuestring) : NULL;
		if (is_relation(cand))
			n = cand;
	}
	return is_relation(n) ? n : NULL;
}

void dbt_lineage_report(struct dbt *d, const char *plugin, const char *target_path)
{
	char *rpath = kit_asprintf("%s/run_results.json", target_path);
	char *mpath = kit_asprintf("%s/manifest.json", target_path);
	char *rtext = rpath ? kit_read_file(rpath, NULL) : NULL, *mtext = mpath ? kit_read_file(mpath, NULL) : NULL;
	cJSON *results = rtext ? cJSON_Parse(rtext) : NULL, *manifest = mtext ? cJSON_Parse(mtext) : NULL;
	char *ns = kit_asprintf("smelt://%s", plugin);
	free(rtext);
	free(mtext);
	if (!results || !manifest || !ns)
		DBT_LOG(d, SMELT_LOG_DEBUG, "no lineage: cannot read '%s' and '%s'", rpath ? rpath : "?",
		        mpath ? mpath : "?");
	const cJSON *r, *list = manifest && ns ? cJSON_GetObjectItemCaseSensitive(results, "results") : NULL;
	cJSON_ArrayForEach(r, list)
	{
		const char *id = str_of(r, "unique_id"), *status = str_of(r, "status");
		const cJSON *node = id ? manifest_node(manifest, id) : NULL;
		const char *type = str_of(node, "resource_type");
		if (!node || !status || !type)
			continue;
		if (!strcmp(type, "test")) {
			if (strcmp(status, "pass") && strcmp(status, "warn") && strcmp(status, "fail") && strcmp(status, "error"))
				continue;
			const cJSON *target = tested_node(manifest, node);
			cJSON *detail = cJSON_CreateObject();
			cJSON_AddItemToArray(cJSON_AddArrayToObject(detail, "assertions"), assertion_of(node, status));
			if (target)
				emit(d, ns, target, "input", detail);
			else
				cJSON_Delete(detail);
			continue;
		}
		if (!is_relation(node) || strcmp(status, "success"))
			continue;
		cJSON *detail = cJSON_CreateObject();
		const cJSON *rows = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "adapter_response"),
		                                                     "rows_affected");
		if (cJSON_IsNumber(rows) && rows->valuedouble >= 0)
			cJSON_AddNumberToObject(detail, "rows", rows->valuedouble);
		emit(d, ns, node, "output", detail);
		const cJSON *dep;
		cJSON_ArrayForEach(dep, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(node, "depends_on"),
		                                                         "nodes"))
		{
			const cJSON *in = cJSON_IsString(dep) ? manifest_node(manifest, dep->valuestring) : NULL;
			if (is_relation(in))
				emit(d, ns, in, "input", cJSON_CreateObject());
		}
	}
	cJSON_Delete(results);
	cJSON_Delete(manifest);
	free(rpath);
	free(mpath);
	free(ns);
}
