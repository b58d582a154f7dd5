/* log: see log.h. */
#include "util/log.h"
#include "util/json.h"
#include "util/strbuf.h"

#include <fcntl.h>
#include <errno.h>
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
static enum log_verbosity verbosity = LOG_NORMAL;
static int plugin_floor = SMELT_LOG_INFO; /* lowest level of a plugin line shown at LOG_NORMAL */
static char *held[LOG_HELD_MAX]; /* ring of plugin lines kept from the terminal */
static size_t held_next, held_n;

/* Fields of JSON and key-value lines (log_context_set()): [0] on every line, [1] on plugin lines only. */
#define LOG_CONTEXT_MAX 8
static struct { char *key, *value; } context[2][LOG_CONTEXT_MAX];

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
int log_enabled(enum smelt_log_level level)
{
	return (int)level >= cur_level || log_file || verbosity == LOG_VERBOSE;
}
void log_set_verbosity(enum log_verbosity v) { verbosity = v; }
enum log_verbosity log_get_verbosity(void) { return verbosity; }

int log_interactive(void)
{
	static int tty = -1;
	const char *term = getenv("TERM");
	if (tty < 0)
		tty = isatty(STDERR_FILENO);
	return tty && cur_format == LOG_FORMAT_TEXT && verbosity != LOG_QUIET && cur_level <= SMELT_LOG_INFO &&
	       !(term && !strcmp(term, "dumb"));
}

/* Whether a line reaches the terminal: see enum log_verbosity. */
static int shown(enum smelt_log_level level, const char *source)
{
	int host = !source || !strcmp(source, "smelt");
	if ((int)level < cur_level && !(verbosity == LOG_VERBOSE && !host))
		return 0;
	if (verbosity == LOG_QUIET)
		return level >= SMELT_LOG_ERROR;
	/* JSON and key-value lines go to programs: every plugin line, as Meltano's */
	if (host || verbosity == LOG_VERBOSE || cur_level <= SMELT_LOG_DEBUG || cur_format != LOG_FORMAT_TEXT)
		return 1;
	return (int)level >= plugin_floor;
}

void log_hold_plugin_info(int on)
{
	plugin_floor = on ? SMELT_LOG_WARN : SMELT_LOG_INFO;
}

static void hold(const char *line)
{
	free(held[held_next]);
	held[held_next] = xstrdup(line);
	held_next = (held_next + 1) % LOG_HELD_MAX;
	if (held_n < LOG_HELD_MAX)
		held_n++;
}

void log_held_clear(void)
{
	for (size_t i = 0; i < LOG_HELD_MAX; i++) {
		free(held[i]);
		held[i] = NULL;
	}
	held_next = held_n = 0;
}

void log_held_flush(void)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < held_n; i++)
		strbuf_addstr(&sb, held[(held_next + LOG_HELD_MAX - held_n + i) % LOG_HELD_MAX]);
	if (sb.len)
		log_print(sb.buf);
	strbuf_release(&sb);
	log_held_clear();
}

/* One write(2) per call where the kernel allows, so lines are never cut by another writer. */
static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		len -= (size_t)w;
	}
}

/* Put text on stderr above the status line (text is already scrubbed). */
static void emit(const char *text)
{
	struct strbuf sb = STRBUF_INIT;
	fflush(stdout);
	fflush(stderr);
	if (status_line)
		strbuf_addstr(&sb, "\r\033[K");
	strbuf_addstr(&sb, text);
	if (status_line)
		strbuf_addstr(&sb, status_line);
	write_all(STDERR_FILENO, sb.buf, sb.len);
	strbuf_release(&sb);
}

void log_print(const char *text)
{
	char *msg = log_scrub(text);
	emit(msg);
	free(msg);
}

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
	snprintf(buf + n, len - n, ".%06ldZ", (long)tv.tv_usec); /* Meltano's (structlog's) precision */
}

void log_context_set(int plugin_only, const char *key, const char *value)
{
	int set = plugin_only ? 1 : 0;
	size_t i = 0;
	while (i < LOG_CONTEXT_MAX && context[set][i].key && strcmp(context[set][i].key, key))
		i++;
	if (i == LOG_CONTEXT_MAX)
		return;
	if (!context[set][i].key) {
		if (!value)
			return;
		context[set][i].key = xstrdup(key);
	}
	free(context[set][i].value);
	context[set][i].value = value ? xstrdup(value) : NULL;
	if (!value) { /* keep the array dense: the last one takes the freed place */
		free(context[set][i].key);
		size_t last = i;
		while (last + 1 < LOG_CONTEXT_MAX && context[set][last + 1].key)
			last++;
		context[set][i] = context[set][last];
		context[set][last].key = context[set][last].value = NULL;
	}
}

/* A Python repr() of a string, as structlog's key-value renderer writes values. */
static void py_repr(struct strbuf *sb, const char *s)
{
	char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
	strbuf_addch(sb, q);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '\\' || *c == (unsigned char)q)
			strbuf_addf(sb, "\\%c", *c);
		else if (*c == '\n')
			strbuf_addstr(sb, "\\n");
		else if (*c == '\r')
			strbuf_addstr(sb, "\\r");
		else if (*c == '\t')
			strbuf_addstr(sb, "\\t");
		else if (*c < 0x20 || *c == 0x7f)
			strbuf_addf(sb, "\\x%02x", *c);
		else
			strbuf_addch(sb, (char)*c);
	}
	strbuf_addch(sb, q);
}

/* A JSON value as Python's repr() writes what json.loads() makes of it (True, None, {'k': 'v'}). */
static void py_value(struct strbuf *sb, const cJSON *v)
{
	if (cJSON_IsString(v)) {
		py_repr(sb, v->valuestring);
	} else if (cJSON_IsBool(v) || cJSON_IsNull(v)) {
		strbuf_addstr(sb, cJSON_IsTrue(v) ? "True" : cJSON_IsFalse(v) ? "False" : "None");
	} else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		strbuf_addch(sb, cJSON_IsObject(v) ? '{' : '[');
		for (const cJSON *c = v->child; c; c = c->next) {
			strbuf_addstr(sb, c == v->child ? "" : ", ");
			if (cJSON_IsObject(v)) {
				py_repr(sb, c->string ? c->string : "");
				strbuf_addstr(sb, ": ");
			}
			py_value(sb, c);
		}
		strbuf_addch(sb, cJSON_IsObject(v) ? '}' : ']');
	} else {
		char *t = cJSON_PrintUnformatted(v);
		strbuf_addstr(sb, t ? t : "None");
		free(t);
	}
}

/* One field of a structured line; raw: value is JSON text (numbers, objects) rather than a string. */
static void field(struct strbuf *sb, const char *key, const char *value, int raw)
{
	if (cur_format == LOG_FORMAT_JSON) {
		strbuf_addstr(sb, sb->len > 1 ? ", " : "");
		json_quote(sb, key);
		strbuf_addstr(sb, ": ");
		if (raw)
			strbuf_addstr(sb, value);
		else
			json_quote(sb, value);
	} else {
		strbuf_addf(sb, "%s%s=", sb->len ? " " : "", key);
		if (raw)
			strbuf_addstr(sb, value);
		else
			py_repr(sb, value);
	}
}

/* A key a plugin line writes itself: event, name, stdio, level, timestamp, source, the context's. */
static int reserved(const char *key)
{
	static const char *const own[] = { "event", "name", "stdio", "level", "timestamp", "source" };
	for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
		if (!strcmp(key, own[i]))
			return 1;
	for (int set = 0; set < 2; set++)
		for (size_t i = 0; i < LOG_CONTEXT_MAX && context[set][i].key; i++)
			if (!strcmp(key, context[set][i].key))
				return 1;
	return 0;
}

/*
 * A JSON or key-value line with Meltano's keys: event, for a plugin's line
 * name and stdio (stdio non-NULL) and the plugin context, the context of
 * every line (run_id), fields' members, level, timestamp; then smelt's
 * own key source.
 */
static void structured_line(struct strbuf *sb, enum smelt_log_level level, const char *source, const char *stdio,
                            const char *msg, const char *ts, const cJSON *fields)
{
	if (cur_format == LOG_FORMAT_JSON)
		strbuf_addch(sb, '{');
	field(sb, "event", msg, 0);
	if (stdio) {
		field(sb, "name", source, 0);
		field(sb, "stdio", stdio, 0);
		for (size_t i = 0; i < LOG_CONTEXT_MAX && context[1][i].key; i++)
			field(sb, context[1][i].key, context[1][i].value, 0);
	}
	for (const cJSON *f = fields ? fields->child : NULL; f; f = f->next) {
		if (stdio && reserved(f->string)) /* a plugin's field never shadows the line's own keys */
			continue;
		if (cur_format != LOG_FORMAT_JSON) { /* structlog's key-value: repr() of the Python value */
			struct strbuf v = STRBUF_INIT;
			py_value(&v, f);
			field(sb, f->string, v.buf, 1);
			strbuf_release(&v);
			continue;
		}
		char *v = cJSON_PrintUnformatted(f);
		field(sb, f->string, v ? v : "null", 1);
		free(v);
	}
	for (size_t i = 0; i < LOG_CONTEXT_MAX && context[0][i].key; i++)
		if (stdio || !cJSON_GetObjectItemCaseSensitive(fields, context[0][i].key))
			field(sb, context[0][i].key, context[0][i].value, 0);
	field(sb, "level", level_name(level), 0);
	field(sb, "timestamp", ts, 0);
	field(sb, "source", source, 0);
	strbuf_addstr(sb, cur_format == LOG_FORMAT_JSON ? "}\n" : "\n");
}

static void plugin_vmsg(enum smelt_log_level level, const char *source, const char *stdio, const cJSON *fields,
                        const char *fmt, va_list ap)
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
	int show = shown(level, source);
	/* plugin info lines kept from the terminal are held for a failure report */
	int keep = !show && level == SMELT_LOG_INFO && cur_level <= SMELT_LOG_INFO && strcmp(source, "smelt");
	if (show || keep) {
		if (cur_format != LOG_FORMAT_TEXT) {
			structured_line(&line, level, source, stdio, msg, ts, fields);
		} else if (use_color) {
			strbuf_addf(&line, "%s%s\033[0m \033[1m%s\033[0m %s%s\033[0m\n", level_color(level),
			            level_name(level), source, level_color(level), msg);
		} else {
			strbuf_addf(&line, "%s %s: %s\n", source, level_name(level), msg);
		}
		if (show)
			emit(line.buf);
		else
			hold(line.buf);
	}
	strbuf_release(&line);
	free(msg);
}

void log_vmsg(enum smelt_log_level level, const char *source, const char *fmt, va_list ap)
{
	plugin_vmsg(level, source, NULL, NULL, fmt, ap);
}

void log_plugin_msg(enum smelt_log_level level, const char *source, const char *stdio, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	plugin_vmsg(level, source, stdio, NULL, fmt, ap);
	va_end(ap);
}

void log_plugin_fields(enum smelt_log_level level, const char *source, const char *stdio, const struct cJSON *fields,
                       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	plugin_vmsg(level, source, stdio, fields, fmt, ap);
	va_end(ap);
}

static void say(int always, const char *fmt, va_list ap0)
{
	va_list ap;
	int show = always ? cur_level <= SMELT_LOG_ERROR : shown(SMELT_LOG_INFO, "smelt");
	if (cur_format != LOG_FORMAT_TEXT || log_file) {
		/* the run log and JSON / key-value consumers get it as an event */
		int plain = cur_format == LOG_FORMAT_TEXT;
		int saved = cur_level;
		enum log_verbosity saved_v = verbosity;
		if (plain || !show)
			cur_level = LOG_LEVEL_DISABLED; /* the file only; the terminal gets the plain line below */
		else
			verbosity = LOG_NORMAL;
		va_copy(ap, ap0);
		log_vmsg(SMELT_LOG_INFO, "smelt", fmt, ap);
		va_end(ap);
		cur_level = saved;
		verbosity = saved_v;
		if (!plain)
			return;
	}
	if (!show)
		return;
	struct strbuf sb = STRBUF_INIT;
	va_copy(ap, ap0);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strbuf_addch(&sb, '\n');
	log_print(sb.buf);
	strbuf_release(&sb);
}

void log_say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(0, fmt, ap);
	va_end(ap);
}

void log_say_final(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(1, fmt, ap);
	va_end(ap);
}

void log_event_fields(int always, const char *event, const struct cJSON *fields)
{
	if (cur_format == LOG_FORMAT_TEXT)
		return;
	char ts[40];
	timestamp(ts, sizeof ts);
	if (log_file) {
		fprintf(log_file, "%s %-7s [smelt] %s\n", ts, level_name(SMELT_LOG_INFO), event);
		fflush(log_file);
	}
	if (!(always ? cur_level <= SMELT_LOG_ERROR : shown(SMELT_LOG_INFO, "smelt")))
		return;
	struct strbuf line = STRBUF_INIT;
	structured_line(&line, SMELT_LOG_INFO, "smelt", NULL, event, ts, fields);
	log_print(line.buf);
	strbuf_release(&line);
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
	if (!log_interactive())
		return;
	free(status_line);
	status_line = text && *text ? xstrdup(text) : NULL;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "\r\033[K%s", status_line ? status_line : "");
	fflush(stderr);
	write_all(STDERR_FILENO, sb.buf, sb.len);
	strbuf_release(&sb);
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
