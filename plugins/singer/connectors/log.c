/* log: see log.h. */
#include "log.h"
#include "buf.h"
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *prog = "connector";

void conn_log_name(const char *name)
{
	prog = name;
}

void conn_vlog(const char *level, const char *fmt, va_list ap)
{
	char line[2048];
	int n = snprintf(line, sizeof line, "%s: %s: ", prog, level);
	if (n < 0 || (size_t)n >= sizeof line - 2)
		return;
	vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	ssize_t w = write(2, line, (size_t)n);
	(void)w;
}

void conn_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	conn_vlog("info", fmt, ap);
	va_end(ap);
}

void conn_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	conn_vlog("warning", fmt, ap);
	va_end(ap);
}

void conn_die(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	va_start(ap, fmt);
	conn_vlog("error", fmt, ap);
	va_end(ap);
	exit(1);
}

cJSON *conn_load_json_object(const char *path, const char *what)
{
	FILE *f = fopen(path, "rb");
	struct conn_buf b = CONN_BUF_INIT;
	char chunk[65536];
	size_t n;
	if (!f)
		conn_die("cannot open %s file '%s': %s", what, path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		conn_buf_add(&b, chunk, n);
	if (ferror(f))
		conn_die("cannot read %s file '%s': %s", what, path, strerror(errno));
	fclose(f);
	if (b.oom)
		conn_die("out of memory reading %s file '%s'", what, path);
	/* strict first: a "\u0000" inside a string would cut a name or a path short once in C */
	struct conn_json strict = { 0 };
	int rc = conn_json_parse(&strict, b.data ? b.data : "", b.len);
	if (rc == -2)
		conn_die("out of memory reading %s file '%s'", what, path);
	if (rc < 0)
		conn_die("%s file '%s' is not valid JSON: %s at byte %zu", what, path, strict.err, strict.err_pos + 1);
	if (conn_json_has_nul(&strict))
		conn_die("%s file '%s': a string holds \\u0000 (a NUL character), which is not allowed", what, path);
	conn_json_release(&strict);
	cJSON *j = cJSON_ParseWithLength(b.data ? b.data : "", b.len);
	conn_buf_release(&b);
	if (!cJSON_IsObject(j))
		conn_die("%s file '%s' is not a JSON object", what, path);
	return j;
}
