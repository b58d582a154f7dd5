/* run/sdk_log: see sdk_log.h. */
#include "run/sdk_log.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The members every Singer SDK structured record has (Meltano's SingerSDKLogParser.required_fields). */
static const char *const required[] = { "level", "pid", "logger_name", "ts", "thread_name", "app_name", "message" };
/* The members taken out of the fields (they become the level, the event, or a renamed field). */
static const char *const lifted[] = { "level", "logger_name", "stream_name", "ts", "message", "exception", "extra" };

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int in_list(const char *key, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(key, list[i]))
			return 1;
	return 0;
}

/* Python's logging level names (upper-cased by Meltano); an unknown name is info, as in Meltano. */
static enum smelt_log_level level_of(const char *name)
{
	static const struct { const char *name; enum smelt_log_level level; } names[] = {
		{ "debug", SMELT_LOG_DEBUG }, { "notset", SMELT_LOG_DEBUG }, { "info", SMELT_LOG_INFO },
		{ "warning", SMELT_LOG_WARN }, { "warn", SMELT_LOG_WARN }, { "error", SMELT_LOG_ERROR },
		{ "critical", SMELT_LOG_ERROR }, { "fatal", SMELT_LOG_ERROR },
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcasecmp(name, names[i].name))
			return names[i].level;
	return SMELT_LOG_INFO;
}

/* Set key of obj to item (taken), replacing a member of that name, as a Python dict update does. */
static void put(cJSON *obj, const char *key, cJSON *item)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
	else
		cJSON_AddItemToObject(obj, key, item);
}

void sdk_record_release(struct sdk_record *r)
{
	free(r->message);
	cJSON_Delete(r->fields);
	memset(r, 0, sizeof *r);
}

int sdk_log_parse(const char *line, size_t len, struct sdk_record *out)
{
	memset(out, 0, sizeof *out);
	while (len && is_space(*line)) {
		line++;
		len--;
	}
	while (len && is_space(line[len - 1]))
		len--;
	if (len < 2 || line[0] != '{' || line[len - 1] != '}')
		return 0;
	/* what cJSON would read differently from Python's json (a raw control character, \u0000) is text */
	if (json_string_trouble(line, len) != (size_t)-1 || json_utf8_invalid(line, len) != (size_t)-1)
		return 0;
	cJSON *data = cJSON_ParseWithLength(line, len);
	if (!cJSON_IsObject(data))
		goto no;
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (!cJSON_GetObjectItemCaseSensitive(data, required[i]))
			goto no;
	const cJSON *level = cJSON_GetObjectItemCaseSensitive(data, "level");
	const cJSON *extra = cJSON_GetObjectItemCaseSensitive(data, "extra");
	const cJSON *exception = cJSON_GetObjectItemCaseSensitive(data, "exception");
	const cJSON *message = cJSON_GetObjectItemCaseSensitive(data, "message");
	/* what Meltano's parser fails on (then logs the line as text): a level that is no string, extra no object */
	if (!cJSON_IsString(level) || (extra && !cJSON_IsObject(extra)) ||
	    (exception && !cJSON_IsNull(exception) && !cJSON_IsObject(exception)))
		goto no;
	out->level = level_of(level->valuestring);
	out->message = cJSON_IsString(message) ? xstrdup(message->valuestring) : json_print(message);
	out->fields = cJSON_CreateObject();
	for (const cJSON *m = data->child; m; m = m->next)
		if (!in_list(m->string, lifted, sizeof lifted / sizeof lifted[0]))
			put(out->fields, m->string, cJSON_Duplicate(m, 1));
	for (const cJSON *m = extra ? extra->child : NULL; m; m = m->next)
		put(out->fields, m->string, cJSON_Duplicate(m, 1));
	static const struct { const char *from, *to; } renamed[] = {
		{ "logger_name", "plugin_logger" }, { "stream_name", "stream_name" }, { "exception", "plugin_exception" },
	};
	for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, renamed[i].from);
		if (v && !cJSON_IsNull(v))
			put(out->fields, renamed[i].to, cJSON_Duplicate(v, 1));
	}
	/* Meltano leaves out the members that are None */
	for (cJSON *m = out->fields->child, *next; m; m = next) {
		next = m->next;
		if (cJSON_IsNull(m))
			cJSON_DeleteItemFromObjectCaseSensitive(out->fields, m->string);
	}
	out->metric = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(out->fields, "metric_info")) &&
	              !strcmp(out->message, "METRIC");
	cJSON_Delete(data);
	return 1;
no:
	cJSON_Delete(data);
	return 0;
}

/* ---- which plugins write structured lines ---------------------------------------------------- */

static char **labels;
static size_t nlabels;

static size_t find_label(const char *label)
{
	for (size_t i = 0; i < nlabels; i++)
		if (!strcmp(labels[i], label))
			return i;
	return (size_t)-1;
}

void sdk_log_use(const char *label, int on)
{
	if (!label)
		return;
	size_t i = find_label(label);
	if (on && i == (size_t)-1) {
		labels = xrealloc(labels, (nlabels + 1) * sizeof *labels);
		labels[nlabels++] = xstrdup(label);
	} else if (!on && i != (size_t)-1) {
		free(labels[i]);
		labels[i] = labels[--nlabels];
	}
}

int sdk_log_used(const char *label)
{
	return label && find_label(label) != (size_t)-1;
}

void sdk_log_reset(void)
{
	for (size_t i = 0; i < nlabels; i++)
		free(labels[i]);
	free(labels);
	labels = NULL;
	nlabels = 0;
}

/* ---- logging a record ----------------------------------------------------------------------- */

/* Scrub registered secrets from every string of v (names of members too), in place. */
static void scrub_tree(cJSON *v)
{
	for (cJSON *m = v ? v->child : NULL; m; m = m->next) {
		if (m->string && !(m->type & cJSON_StringIsConst)) {
			char *s = log_scrub(m->string);
			cJSON_free(m->string);
			m->string = cJSON_malloc(strlen(s) + 1);
			memcpy(m->string, s, strlen(s) + 1);
			free(s);
		}
		if (cJSON_IsString(m) && m->valuestring) {
			char *s = log_scrub(m->valuestring);
			cJSON_SetValuestring(m, s);
			free(s);
		}
		scrub_tree(m);
	}
}

/*
 * An exception of a record (the SDK's _format_exception(): type, module,
 * message, traceback frames, cause or context) as Python prints one, a
 * line at a time, for the text format: its cause first, as Python does.
 */
static void exception_lines(const cJSON *e, enum smelt_log_level level, const char *label, int depth)
{
	const cJSON *cause = cJSON_GetObjectItemCaseSensitive(e, "cause");
	const cJSON *context = cJSON_GetObjectItemCaseSensitive(e, "context");
	const cJSON *chained = cJSON_IsObject(cause) ? cause : cJSON_IsObject(context) ? context : NULL;
	if (chained && depth < 8) {
		exception_lines(chained, level, label, depth + 1);
		log_plugin_msg(level, label, "stderr", "%s", chained == cause
		               ? "The above exception was the direct cause of the following exception:"
		               : "During handling of the above exception, another exception occurred:");
	}
	const cJSON *tb = cJSON_GetObjectItemCaseSensitive(e, "traceback");
	if (cJSON_GetArraySize(tb) > 0)
		log_plugin_msg(level, label, "stderr", "Traceback (most recent call last):");
	for (const cJSON *f = cJSON_IsArray(tb) ? tb->child : NULL; f; f = f->next) {
		const char *file = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "filename"));
		const char *func = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "function"));
		const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "line"));
		const cJSON *lineno = cJSON_GetObjectItemCaseSensitive(f, "lineno");
		log_plugin_msg(level, label, "stderr", "  File \"%s\", line %d, in %s", file ? file : "?",
		               cJSON_IsNumber(lineno) ? lineno->valueint : 0, func ? func : "?");
		while (code && is_space(*code))
			code++;
		size_t n = code ? strlen(code) : 0;
		while (n && is_space(code[n - 1]))
			n--;
		if (n)
			log_plugin_msg(level, label, "stderr", "    %.*s", (int)n, code);
	}
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "type"));
	const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
	log_plugin_msg(level, label, "stderr", "%s%s%s", type ? type : "Exception", msg && *msg ? ": " : "",
	               msg ? msg : "");
}

int sdk_log_emit(const char *label, const char *line, size_t len, int quiet)
{
	struct sdk_record r;
	if (!sdk_log_used(label) || !sdk_log_parse(line, len, &r))
		return 0;
	scrub_tree(r.fields);
	enum smelt_log_level level = r.level;
	if (quiet && level <= SMELT_LOG_INFO)
		level = SMELT_LOG_DEBUG;
	if (r.metric && log_get_format() == LOG_FORMAT_TEXT) {
		/* the line the SDK's plain format writes; debug detail, as every METRIC line of a plain log */
		char *info = json_print(cJSON_GetObjectItemCaseSensitive(r.fields, "metric_info"));
		log_plugin_fields(level == SMELT_LOG_INFO ? SMELT_LOG_DEBUG : level, label, "stderr", r.fields,
		                  "METRIC: %s", info);
		free(info);
	} else {
		log_plugin_fields(level, label, "stderr", r.fields, "%s", r.message);
	}
	/* the text format has no fields: a record's exception follows its message, as Python prints it */
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r.fields, "plugin_exception");
	if (log_get_format() == LOG_FORMAT_TEXT && cJSON_IsObject(e))
		exception_lines(e, level, label, 0);
	sdk_record_release(&r);
	return 1;
}

cJSON *sdk_log_metric(const char *line, size_t len)
{
	struct sdk_record r;
	if (!memmem(line, len, "\"metric_info\"", 13) || !sdk_log_parse(line, len, &r)) /* most lines: no parse */
		return NULL;
	cJSON *info = r.metric ? cJSON_DetachItemFromObjectCaseSensitive(r.fields, "metric_info") : NULL;
	sdk_record_release(&r);
	return info;
}
