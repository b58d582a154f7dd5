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

enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON = 1 };

#define LOG_LEVEL_DISABLED 100

/* Parse "debug|info|warning|warn|error|critical|disabled"; -1 when unknown. */
int log_parse_level(const char *name);
void log_set_level(int level);
int log_level(void);
void log_set_format(enum log_format fmt);
enum log_format log_get_format(void);
void log_set_color(int on);
int log_enabled(enum smelt_log_level level);

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
 * log lines; NULL or "" clears it.  Does nothing unless stderr is a
 * terminal and the format is text.
 */
void log_status(const char *text);

/* One log line; source is "smelt" or a plugin/adapter name. */
void log_msg(enum smelt_log_level level, const char *source, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vmsg(enum smelt_log_level level, const char *source, const char *fmt, va_list ap);

#define log_debug(...) do { if (log_enabled(SMELT_LOG_DEBUG)) log_msg(SMELT_LOG_DEBUG, "smelt", __VA_ARGS__); } while (0)
#define log_info(...) log_msg(SMELT_LOG_INFO, "smelt", __VA_ARGS__)
#define log_warn(...) log_msg(SMELT_LOG_WARN, "smelt", __VA_ARGS__)
#define log_error(...) log_msg(SMELT_LOG_ERROR, "smelt", __VA_ARGS__)

/* Fill err with a formatted message and return status (for `return fail(...)`). */
int fail(char *err, size_t errlen, int status, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
