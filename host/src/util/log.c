/* log: see log.h. */
#include "util/log.h"
#include "util/json.h"
#include "util/strbuf.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

static int cur_level = SMELT_LOG_INFO;
static enum log_format cur_format = LOG_FORMAT_TEXT;
static int use_color;
static FILE *log_file;
static char *status_line; /* the live status line on the terminal, NULL when none */
static char **secrets;
static size_t nsecrets;

int log_parse_level(const char *name)
{
	static const struct { const char *name; int level; } names[] = {
		{ "debug", SMELT_LOG_DEBUG }, { "info", SMELT_LOG_INFO }, { "warning", SMELT_LOG_WARN },
		{ "warn", SMELT_LOG_WARN }, { "error", SMELT_LOG_ERROR }, { "critical", SMELT_LOG_ERROR },
		{ "disabled", LOG_LEVEL_DISABLED },
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcasecmp(name, names[i].name))
			return names[i].level;
	return -1;
}

void log_set_level(int level) { cur_level = level; }
int log_level(void) { return cur_level; }
void log_set_format(enum log_format fmt) { cur_format = fmt; }
enum log_format log_get_format(void) { return cur_format; }
void log_set_color(int on) { use_color = on; }
int log_enabled(enum smelt_log_level level) { return (int)level >= cur_level || log_file; }

int log_open_file(const char *path)
{
	if (log_file)
		fclose(log_file);
	log_file = NULL;
	if (!path)
		return 0;
	/* run logs can quote errors of the run: owner only, like the rest of the system folder */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	log_file = fd >= 0 ? fdopen(fd, "a") : NULL;
	if (fd >= 0 && !log_file)
		close(fd);
	return log_file ? 0 : -1;
}

static char *log_path;          /* the run log's path, for rotation */
static long long log_max;       /* its cap in bytes, 0: none */
static long long log_size;      /* bytes in the current file */

int log_open_file_capped(const char *path, long long max_bytes)
{
	free(log_path);
	log_path = NULL;
	log_max = log_size = 0;
	if (log_open_file(path) != 0 || !path)
		return path ? -1 : 0;
	log_path = xstrdup(path);
	log_max = max_bytes > 0 ? max_bytes : 0;
	log_size = ftell(log_file) > 0 ? ftell(log_file) : 0;
	return 0;
}

/*
 * The run log holds at most log_max bytes on disk: when the file would
 * pass half of it, it becomes <path>.1 (replacing the older half) and a
 * new file starts with a marker line, so the newest lines always stay.
 */
static void log_file_line(const char *ts, const char *line)
{
	long long len = (long long)strlen(line);
	if (log_max && log_size > 0 && log_size + len > log_max / 2) {
		char *old = xasprintf("%s.1", log_path);
		int fd = rename(log_path, old) == 0 ? open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
		FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (!f && fd >= 0)
			close(fd);
		if (f) {
			fclose(log_file);
			log_file = f;
			log_size = fprintf(log_file, "%s info    [smelt] run log rotated: earlier lines are in %s, older ones were "
			                   "dropped (size limit %lld bytes, SMELT_RUN_LOG_MAX_BYTES)\n", ts, old, log_max);
		}
		free(old);
		if (!f) { /* the file was renamed but no new one opened: stop here rather than grow the old one */
			log_open_file_capped(NULL, 0);
			return;
		}
	}
	if (log_max && len > log_max / 2) { /* one line larger than the whole half: keep its start */
		fprintf(log_file, "%.*s [...]\n", (int)(log_max / 2 > 64 ? log_max / 2 - 64 : 0), line);
		log_size += log_max / 2;
	} else {
		fputs(line, log_file);
		log_size += len;
	}
	fflush(log_file);
}

void log_add_secret(const char *value)
{
	if (!value || strlen(value) < 4)
		return;
	for (size_t i = 0; i < nsecrets; i++)
		if (!strcmp(secrets[i], value))
			return;
	secrets = xrealloc(secrets, (nsecrets + 1) * sizeof *secrets);
	secrets[nsecrets++] = xstrdup(value);
}

char *log_scrub(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = s;
	if (!nsecrets)
		return xstrdup(s);
	while (*p) {
		size_t hit = 0;
		for (size_t i = 0; i < nsecrets; i++) {
			size_t n = strlen(secrets[i]);
			if (!strncmp(p, secrets[i], n) && n > hit)
				hit = n;
		}
		if (hit) {
			strbuf_addstr(&sb, "*****");
			p += hit;
		} else {
			strbuf_addch(&sb, *p++);
		}
	}
	return strbuf_detach(&sb);
}

static const char *level_name(enum smelt_log_level level)
{
	switch (level) {
	case SMELT_LOG_DEBUG: return "debug";
	case SMELT_LOG_INFO: return "info";
	case SMELT_LOG_WARN: return "warning";
	default: return "error";
	}
}

static const char *level_color(enum smelt_log_level level)
{
	switch (level) {
	case SMELT_LOG_DEBUG: return "\033[2m";
	case SMELT_LOG_WARN: return "\033[33m";
	case SMELT_LOG_ERROR: return "\033[31m";
	default: return "";
	}
}

static void timestamp(char *buf, size_t len)
{
	struct timeval tv;
	struct tm tm;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ldZ", (long)(tv.tv_usec / 1000));
}

void log_vmsg(enum smelt_log_level level, const char *source, const char *fmt, va_list ap)
{
	if (!log_enabled(level))
		return;
	struct strbuf raw = STRBUF_INIT, line = STRBUF_INIT;
	char ts[40];
	strbuf_vaddf(&raw, fmt, ap);
	char *msg = log_scrub(raw.buf);
	strbuf_release(&raw);
	timestamp(ts, sizeof ts);

	if (log_file) {
		char *text = xasprintf("%s %-7s [%s] %s\n", ts, level_name(level), source, msg);
		log_file_line(ts, text);
		free(text);
	}
	if ((int)level >= cur_level) {
		if (cur_format == LOG_FORMAT_JSON) {
			strbuf_addf(&line, "{\"timestamp\":\"%s\",\"level\":\"%s\",\"source\":", ts, level_name(level));
			json_quote(&line, source);
			strbuf_addstr(&line, ",\"event\":");
			json_quote(&line, msg);
			strbuf_addstr(&line, "}\n");
		} else if (use_color) {
			strbuf_addf(&line, "%s%s\033[0m \033[1m%s\033[0m %s%s\033[0m\n", level_color(level),
			            level_name(level), source, level_color(level), msg);
		} else {
			strbuf_addf(&line, "%s %s: %s\n", source, level_name(level), msg);
		}
		if (status_line)
			fputs("\r\033[K", stderr);
		fputs(line.buf, stderr);
		if (status_line)
			fputs(status_line, stderr);
	}
	strbuf_release(&line);
	free(msg);
}

void log_msg(enum smelt_log_level level, const char *source, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, source, fmt, ap);
	va_end(ap);
}

void log_status(const char *text)
{
	static int tty = -1;
	if (tty < 0)
		tty = isatty(STDERR_FILENO);
	if (!tty || cur_format != LOG_FORMAT_TEXT || cur_level > SMELT_LOG_INFO)
		return;
	free(status_line);
	status_line = text && *text ? xstrdup(text) : NULL;
	fprintf(stderr, "\r\033[K%s", status_line ? status_line : "");
	fflush(stderr);
}

int fail(char *err, size_t errlen, int status, const char *fmt, ...)
{
	va_list ap;
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return status;
}
