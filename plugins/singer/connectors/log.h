/*
 * log: the native connectors' stderr lines, "<program>: <level>: <message>",
 * each written with one write(2) so lines from two threads never interleave
 * (smelt parses the prefix into its own log levels).
 */
#ifndef SMELT_CONN_LOG_H
#define SMELT_CONN_LOG_H

#include <cjson/cJSON.h>
#include <stdarg.h>

/* The program name every line starts with; call first in main(). */
void conn_log_name(const char *name);
void conn_vlog(const char *level, const char *fmt, va_list ap);
void conn_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void conn_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Flush stdout, log an error and exit(1). */
void conn_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A JSON file that must hold an object (what: "config", "catalog", ...); dies with a clear message otherwise. */
cJSON *conn_load_json_object(const char *path, const char *what);

#endif
