/*
 * log - the host's one logging path: level filter, text or JSON lines on
 * stderr, an optional run-log file, and scrubbing of registered secret
 * values from every line (so a plugin echoing a password in its stderr
 * never puts it on the terminal or in a log file).
 */
#ifndef SMELT_LOG_H
#define SMELT_LOG_H

#include <smelt/sdk.h>
#include <stdarg.h>

/*
 * TEXT: "source level: message" lines for people.  JSON and KV (Meltano's
 * key_value): one object / one line of key='value' pairs per line, with
 * Meltano's keys (event, level, timestamp; a plugin's lines also name,
 * stdio and the context of log_context_set(), e.g. run_id, cmd_type), then
 * smelt's own key source.
 */
enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON = 1, LOG_FORMAT_KV = 2 };

#define LOG_LEVEL_DISABLED 100

/* Parse "debug|info|warning|warn|error|critical|disabled"; -1 when unknown. */
int log_parse_level(const char *name);
void log_set_level(int level);
int log_level(void);
void log_set_format(enum log_format fmt);
enum log_format log_get_format(void);
void log_set_color(int on);
/* 1 when a line of this level would go anywhere (terminal or run log), for any source. */
int log_enabled(enum smelt_log_level level);

/*
 * How much of the tools' own chatter reaches the terminal.  Smelt's own
 * lines follow the log level; lines of any other source (plugins,
 * adapters) follow it too, except after log_hold_plugin_info(1) (smelt
 * run), when their info lines are held back (see log_held_flush()) and
 * only warnings and errors show.  LOG_VERBOSE or --log-level debug show
 * every plugin line; LOG_QUIET shows only errors (smelt's own info lines
 * too).  The run log gets everything.
 */
enum log_verbosity { LOG_QUIET = -1, LOG_NORMAL = 0, LOG_VERBOSE = 1 };
void log_set_verbosity(enum log_verbosity v);
enum log_verbosity log_get_verbosity(void);
void log_hold_plugin_info(int on);
/* 1 when stderr is a terminal that takes redrawn lines (text format, TERM not dumb, not quiet). */
int log_interactive(void);

/*
 * The plugin lines held back from the terminal at the default level are
 * kept (the last LOG_HELD_MAX of them), so a failure can show what the
 * tool said just before it.  log_held_flush() prints them under a
 * heading and forgets them; log_held_clear() forgets them.
 */
#define LOG_HELD_MAX 12
void log_held_flush(void);
void log_held_clear(void);

/*
 * Write text (whole lines) to stderr in one write, under the status line
 * when there is one, with secrets scrubbed; stdout is flushed first so a
 * tool's output and smelt's lines never share a line.
 */
void log_print(const char *text);

/* Also append every line (always at debug level) to path; NULL closes it. */
int log_open_file(const char *path);
/*
 * The same with a cap: path and path.1 hold at most max_bytes together
 * (0: no cap).  When path would pass max_bytes / 2 it is renamed to
 * path.1 (replacing it) and a new path starts with a "run log rotated"
 * line; a single line longer than max_bytes / 2 is cut (" [...]").
 */
int log_open_file_capped(const char *path, long long max_bytes);
/* Register a secret value to scrub from all output; copies it.  Values shorter than 4 bytes are ignored. */
void log_add_secret(const char *value);
/* Replace registered secrets in s with "*****"; returns a new string (free()). */
char *log_scrub(const char *s);

/*
 * A live status line on a terminal (progress of a run), redrawn under the
 * log lines; NULL or "" clears it.  Does nothing unless log_interactive().
 */
void log_status(const char *text);

/* One log line; source is "smelt" or a plugin/adapter name. */
void log_msg(enum smelt_log_level level, const char *source, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vmsg(enum smelt_log_level level, const char *source, const char *fmt, va_list ap);
/*
 * A line a plugin wrote on stdio ("stdout" or "stderr"), as log_msg(); its
 * JSON and key-value lines also carry name, stdio and the plugin context.
 * In those formats every plugin line is shown (not only warnings and
 * errors), as Meltano shows them.
 */
void log_plugin_msg(enum smelt_log_level level, const char *source, const char *stdio, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * log_plugin_msg() with fields: in JSON and key-value format the line also
 * carries fields' members (borrowed; already scrubbed by the caller) after
 * name, stdio and the plugin context, except those named like a key the
 * line writes itself (event, name, stdio, level, timestamp, source, a
 * context key).  The text format and the run log get the message only.
 */
struct cJSON;
void log_plugin_fields(enum smelt_log_level level, const char *source, const char *stdio, const struct cJSON *fields,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Add key: value (copied; NULL removes key) to the JSON and key-value lines
 * logged from now on: every line (plugin_only 0, e.g. run_id), or the
 * lines of plugins only (1, e.g. cmd_type, job_name, type).  At most 8 of
 * each; more are ignored.
 */
void log_context_set(int plugin_only, const char *key, const char *value);

/*
 * A line of smelt's own output for people (a progress line, the run's
 * summary): at info level, printed without the "smelt info:" prefix in
 * text format, as a log event in JSON format, and kept in the run log.
 */
void log_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* As log_say(), and shown with LOG_QUIET too: the one line a quiet command prints. */
void log_say_final(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * In JSON (and key-value) format: one log event of smelt at info level whose object also
 * carries fields' members (after timestamp, level, source and event), so
 * a summary is data, not text; always: shown with LOG_QUIET too.  The run
 * log gets the event text.  fields is borrowed.  Does nothing in text
 * format (use log_say() there).
 */
struct cJSON;
void log_event_fields(int always, const char *event, const struct cJSON *fields);

#define log_debug(...) do { if (log_enabled(SMELT_LOG_DEBUG)) log_msg(SMELT_LOG_DEBUG, "smelt", __VA_ARGS__); } while (0)
#define log_info(...) log_msg(SMELT_LOG_INFO, "smelt", __VA_ARGS__)
#define log_warn(...) log_msg(SMELT_LOG_WARN, "smelt", __VA_ARGS__)
#define log_error(...) log_msg(SMELT_LOG_ERROR, "smelt", __VA_ARGS__)

/* Fill err with a formatted message and return status (for `return fail(...)`). */
int fail(char *err, size_t errlen, int status, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
