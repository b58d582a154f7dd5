/*
 * run/sdk_log - the Singer SDK's structured log lines, read as Meltano
 * 4.4 reads them.
 *
 * A plugin with the `structured-logging` capability whose `_log_parser`
 * extra is "singer-sdk" (the default of Singer plugins) is given a
 * SINGER_SDK_LOG_CONFIG whose formatter is the SDK's StructuredFormatter
 * (run/plugin_env.c), so each of its log records is one JSON object on
 * stderr:
 *
 *   {"level":"warning","pid":7,"logger_name":"tap-x","ts":1.7e9,
 *    "thread_name":"MainThread","app_name":"singer-sdk","stream_name":null,
 *    "message":"slow source","extra":{"rows_per_s":12}}
 *
 * Such a line is logged with the record's level and message, and its
 * other members as fields of JSON and key-value lines, as Meltano's
 * SingerSDKLogParser and OutputLogger do: pid, thread_name, app_name,
 * the members of extra, metric_info, plugin_logger (logger_name),
 * stream_name and plugin_exception (exception), null ones left out.  A
 * line that is not such an object (plain text, broken JSON, an object
 * lacking one of level, pid, logger_name, ts, thread_name, app_name,
 * message) is logged as text, as every other plugin line is.  Every
 * string (message, field values and names) is scrubbed of secrets.
 *
 * Which plugins write such lines is process-wide state (keyed by the
 * plugin's name, which is the label of its stages): sdk_log_use() is
 * called when the plugin's environment is built, sdk_log_emit() when one
 * of its stderr lines is read.
 */
#ifndef SMELT_RUN_SDK_LOG_H
#define SMELT_RUN_SDK_LOG_H

#include <smelt/sdk.h>
#include <stddef.h>

struct cJSON;

/* One parsed record. */
struct sdk_record {
	enum smelt_log_level level; /* debug, info, warning; error for error, critical and fatal */
	char *message;              /* owned; not scrubbed */
	struct cJSON *fields;       /* owned object: the fields above, in Meltano's order; not scrubbed */
	int metric;                 /* 1: a METRIC record (message "METRIC" with a metric_info object) */
};

/*
 * Parse line (len bytes, need not end with a NUL) as a Singer SDK
 * structured record, Meltano's rules (see above).  1 with *out filled
 * (free with sdk_record_release()), 0 when it is not one (*out zeroed).
 */
int sdk_log_parse(const char *line, size_t len, struct sdk_record *out);
void sdk_record_release(struct sdk_record *r);

/* Mark the stderr of the plugin named label as structured (on 1) or not (0). Copies label. */
void sdk_log_use(const char *label, int on);
/* 1 when sdk_log_use(label, 1) was the last call for label. */
int sdk_log_used(const char *label);
/* Forget every label (tests; the end of the process). */
void sdk_log_reset(void);

/*
 * A stderr line of the stage labelled label: when label uses structured
 * logging and line is such a record, log it (log_plugin_fields(), source
 * label, stdio "stderr") and return 1; otherwise 0 (the caller logs it as
 * text).  quiet: the stage's SMELT_SPAWN_QUIET (its info lines become
 * debug lines).  A METRIC record is logged at debug level in text format
 * ("METRIC: {metric_info}", like the SDK's plain metric lines) and at its
 * own level in JSON and key-value formats, as Meltano does.  In text
 * format a record's exception (plugin_exception) follows its message as
 * Python prints a traceback, a log line per line, at the record's level
 * (Meltano's console renders it too).
 */
int sdk_log_emit(const char *label, const char *line, size_t len, int quiet);

/*
 * The metric_info object of a structured METRIC line (the same object as
 * the JSON after "METRIC: " of a plain metric line), or NULL.  Owned by
 * the caller (cJSON_Delete()).
 */
struct cJSON *sdk_log_metric(const char *line, size_t len);

#endif
