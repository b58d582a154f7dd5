/* project/dotenv: reading and writing the project's .env file; see project.h. */
#include "project/project.h"
#include "project/yaml_doc.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/names.h"
#include "util/strbuf.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>


/* ---- .env ------------------------------------------------------------------------ */

/*
 * The .env grammar is python-dotenv's (what Meltano reads), statement by
 * statement: optional `export `, a key (unquoted `[^=#\s]+` or 'quoted'),
 * `=`, a value (unquoted up to the line end with a ` #` comment cut off,
 * 'single' or "double" quoted, possibly over several lines), then an
 * optional comment and the line end.  Where python-dotenv warns and skips,
 * smelt does the same for lines without a key or `=`, but a quoted value
 * without its closing quote or followed by other text is an error naming
 * file:line, as it would otherwise swallow or drop the following lines.
 */
struct dotenv_stmt {
	size_t start, end;    /* the statement's bytes in the text (end after its line end) */
	size_t key, key_len;  /* the key's bytes (inside quotes for a quoted key) */
	int binds;            /* 1: key=value; 0: blank, comment, or a line python-dotenv skips */
	struct strbuf value;  /* the decoded value when binds */
};

static int dotenv_inline_space(char c)
{
	return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

static int dotenv_space(char c)
{
	return dotenv_inline_space(c) || c == '\n' || c == '\r';
}

/* 1-based line of offset off (\n, \r\n and \r end lines, as python-dotenv counts them). */
static size_t dotenv_line_of(const char *t, size_t len, size_t off)
{
	size_t line = 1;
	for (size_t i = 0; i < off && i < len; i++)
		if (t[i] == '\n' || (t[i] == '\r' && (i + 1 >= len || t[i + 1] != '\n')))
			line++;
	return line;
}

/* Past the rest of the line at i, including its line end (\n, \r\n or \r). */
static size_t dotenv_skip_line(const char *t, size_t len, size_t i)
{
	while (i < len && t[i] != '\n' && t[i] != '\r')
		i++;
	if (i < len && t[i] == '\r')
		return i + 1 < len && t[i + 1] == '\n' ? i + 2 : i + 1;
	return i < len ? i + 1 : i;
}

/*
 * After a value at i: an optional comment, then inline space and the line end.
 * The position after the line end, or (size_t)-1 when other text follows.
 */
static size_t dotenv_end_of_line(const char *t, size_t len, size_t i)
{
	size_t j = i;
	while (j < len && dotenv_inline_space(t[j]))
		j++;
	if (j < len && t[j] == '#') {
		while (j < len && t[j] != '\n' && t[j] != '\r')
			j++;
	}
	if (j == len)
		return j;
	if (t[j] == '\r')
		return j + 1 < len && t[j + 1] == '\n' ? j + 2 : j + 1;
	if (t[j] == '\n')
		return j + 1;
	return (size_t)-1;
}

/* Decode a quoted value's bytes as python-dotenv does (its escapes only; others stay as written). */
static void dotenv_unescape(struct strbuf *v, const char *s, size_t n, char q)
{
	for (size_t i = 0; i < n; i++) {
		char c = i + 1 < n ? s[i + 1] : 0;
		if (s[i] == '\\' && c && q == '\'' && (c == '\\' || c == '\'')) {
			strbuf_addch(v, c);
			i++;
		} else if (s[i] == '\\' && c && q == '"' && strchr("\\'\"abfnrtv", c)) {
			static const char from[] = "abfnrtv", to[] = "\a\b\f\n\r\t\v";
			const char *k = strchr(from, c);
			strbuf_addch(v, k ? to[k - from] : c);
			i++;
		} else {
			strbuf_addch(v, s[i]);
		}
	}
}

/*
 * Read the statement at *pos into s (s->value must be initialized) and advance
 * *pos.  Return 1 for a statement, 0 at the end of the text, or
 * SMELT_ERR_CONFIG with "name:line: ..." in err.
 */
static int dotenv_next(const char *t, size_t len, size_t *pos, struct dotenv_stmt *s, const char *name,
                       char *err, size_t errlen)
{
	size_t i = *pos;
	strbuf_reset(&s->value);
	s->start = i;
	s->binds = 0;
	s->key = s->key_len = 0;
	if (i >= len)
		return 0;
	if (dotenv_space(t[i])) {
		/* blank lines and indentation form a statement of their own, kept as they are */
		while (i < len && dotenv_space(t[i]))
			i++;
		s->end = *pos = i;
		return 1;
	}
	if (t[i] == '#')
		goto skip;
	if (len - i > 6 && !strncmp(t + i, "export", 6) && dotenv_inline_space(t[i + 6])) {
		i += 6;
		while (i < len && dotenv_inline_space(t[i]))
			i++;
	}
	if (i < len && t[i] == '\'') {
		const char *q = memchr(t + i + 1, '\'', len - i - 1);
		if (!q || q == t + i + 1)
			goto skip;
		s->key = i + 1;
		s->key_len = (size_t)(q - t) - s->key;
		i = (size_t)(q - t) + 1;
	} else {
		s->key = i;
		while (i < len && t[i] != '=' && t[i] != '#' && !dotenv_space(t[i]))
			i++;
		s->key_len = i - s->key;
		if (!s->key_len)
			goto skip;
	}
	while (i < len && dotenv_inline_space(t[i]))
		i++;
	if (i >= len || t[i] != '=')
		goto skip; /* a key without a value: python-dotenv binds None, which sets nothing */
	i++;
	while (i < len && dotenv_inline_space(t[i]))
		i++;
	if (i < len && (t[i] == '\'' || t[i] == '"')) {
		/*
		 * The regex '((?:\\'|[^'])*)': the first quote not escaped by a backslash
		 * closes; without one, the last escaped quote does (the regex backtracks).
		 */
		char q = t[i];
		size_t open = i, close = (size_t)-1, last_escaped = (size_t)-1;
		for (i++; i < len; i++) {
			if (t[i] == '\\' && i + 1 < len && t[i + 1] == q) {
				last_escaped = ++i;
				continue;
			}
			if (t[i] == q) {
				close = i;
				break;
			}
		}
		if (close == (size_t)-1)
			close = last_escaped;
		if (close == (size_t)-1)
			return fail(err, errlen, SMELT_ERR_CONFIG, "%s:%zu: unterminated quoted value of '%.*s'", name,
			            dotenv_line_of(t, len, open), (int)s->key_len, t + s->key);
		dotenv_unescape(&s->value, t + open + 1, close - open - 1, q);
		size_t e = dotenv_end_of_line(t, len, close + 1);
		if (e == (size_t)-1)
			return fail(err, errlen, SMELT_ERR_CONFIG,
			            "%s:%zu: unexpected text after the closing quote of '%.*s'", name,
			            dotenv_line_of(t, len, close), (int)s->key_len, t + s->key);
		i = e;
	} else {
		size_t vs = i;
		while (i < len && t[i] != '\n' && t[i] != '\r')
			i++;
		size_t ve = i;
		/* re.sub(r"\s+#.*", "", value).rstrip() */
		for (size_t k = vs + 1; k < ve; k++)
			if (t[k] == '#' && dotenv_inline_space(t[k - 1])) {
				ve = k;
				break;
			}
		while (ve > vs && dotenv_inline_space(t[ve - 1]))
			ve--;
		strbuf_add(&s->value, t + vs, ve - vs);
		i = dotenv_end_of_line(t, len, i);
	}
	s->binds = 1;
	s->end = *pos = i;
	return 1;
skip:
	s->key_len = 0;
	s->end = *pos = dotenv_skip_line(t, len, i);
	return 1;
}

int dotenv_parse(const char *text, size_t len, const char *name, cJSON **out, char *err, size_t errlen)
{
	cJSON *o = cJSON_CreateObject();
	struct dotenv_stmt s = { .value = STRBUF_INIT };
	size_t pos = 0;
	int rc;
	*out = NULL;
	while ((rc = dotenv_next(text, len, &pos, &s, name, err, errlen)) > 0) {
		if (!s.binds)
			continue;
		char *key = xstrndup(text + s.key, s.key_len);
		cJSON_DeleteItemFromObjectCaseSensitive(o, key);
		cJSON_AddStringToObject(o, key, s.value.buf);
		free(key);
	}
	strbuf_release(&s.value);
	if (rc < 0) {
		cJSON_Delete(o);
		return rc;
	}
	*out = o;
	return 0;
}

int dotenv_read(const char *path, cJSON **out, char *err, size_t errlen)
{
	struct strbuf sb = STRBUF_INIT;
	struct stat st;
	int rc = 0;
	*out = NULL;
	if (read_regular_file(path, FS_CAP_DOTENV, &sb, err, errlen) < 0) {
		rc = errno == ENOENT ? 0 : SMELT_ERR_CONFIG;
		if (!rc)
			*out = cJSON_CreateObject();
	} else {
		rc = dotenv_parse(sb.buf, sb.len, path, out, err, errlen);
	}
	strbuf_release(&sb);
	/* warn rather than chmod: the file is the user's (SECURITY.md) */
	if (!rc && stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IROTH))
		log_warn("'%s' is readable by every user of this machine and may hold secrets; run 'chmod 600 %s'",
		         path, path);
	return rc;
}

/*
 * Can value be written unquoted and read back as it is?  Not when python-dotenv
 * would cut or trim it (a line end, leading or trailing space, " #"), take it
 * for a quoted value, or expand it ($, as Meltano reads .env with interpolation).
 */
static int dotenv_plain_ok(const char *v)
{
	size_t n = strlen(v);
	if (!n || v[0] == '\'' || v[0] == '"' || dotenv_space(v[0]) || dotenv_space(v[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] == '\n' || v[i] == '\r' || v[i] == '$' || (v[i] == '#' && i && dotenv_inline_space(v[i - 1])))
			return 0;
	return 1;
}

int dotenv_format(struct strbuf *out, const char *name, const char *value)
{
	size_t n = strlen(value);
	if (n && value[n - 1] == '\\') {
		/*
		 * python-dotenv's scanner takes the \\' of 'x\\' for an escaped quote, so
		 * a quoted value ending in a backslash would swallow the next lines
		 */
		if (!dotenv_plain_ok(value))
			return -1;
		strbuf_addf(out, "%s=%s\n", name, value);
		return 0;
	}
	strbuf_addf(out, "%s='", name);
	for (const char *c = value; *c; c++) {
		if (*c == '\'' || *c == '\\')
			strbuf_addch(out, '\\');
		strbuf_addch(out, *c);
	}
	strbuf_addstr(out, "'\n");
	return 0;
}

int dotenv_set(struct project *p, const char *path, const char *name, const char *value, char *err,
               size_t errlen)
{
	struct strbuf old = STRBUF_INIT, out = STRBUF_INIT, line = STRBUF_INIT;
	struct dotenv_stmt s = { .value = STRBUF_INIT };
	struct stat st;
	mode_t mode = 0600;
	int exists = stat(path, &st) == 0, rc = 0, done = 0;
	size_t pos = 0, nlen = strlen(name);
	if (exists) {
		mode = st.st_mode & 07777;
		if (read_regular_file(path, FS_CAP_DOTENV, &old, err, errlen) < 0) {
			rc = SMELT_ERR;
			goto out;
		}
	}
	if (value && dotenv_format(&line, name, value) < 0) {
		rc = fail(err, errlen, SMELT_ERR_CONFIG,
		          "cannot write '%s' to '%s': a value ending in a backslash must have no spaces at its ends, "
		          "' #', '$', quote first or line break (python-dotenv could not read it back)", name, path);
		goto out;
	}
	/* statement by statement, so a quoted value over several lines is replaced whole */
	while ((rc = dotenv_next(old.buf, old.len, &pos, &s, path, err, errlen)) > 0) {
		if (s.key_len == nlen && !memcmp(old.buf + s.key, name, nlen) && s.binds) {
			if (!done && value)
				strbuf_add(&out, line.buf, line.len);
			done = 1;
			continue;
		}
		strbuf_add(&out, old.buf + s.start, s.end - s.start);
	}
	if (rc < 0)
		goto out; /* err names path:line; nothing is written */
	if (!done && value) {
		if (out.len && out.buf[out.len - 1] != '\n' && out.buf[out.len - 1] != '\r')
			strbuf_addch(&out, '\n');
		strbuf_add(&out, line.buf, line.len);
	}
	/* the new text is read back before it is written: a file that would not load (or a lack of
	 * memory while reading it) fails the edit with nothing written */
	cJSON *o = NULL;
	if (p && (rc = dotenv_parse(out.buf, out.len, path, &o, err, errlen)) != 0)
		goto out;
	if (value || done) {
		if (write_file_atomic(path, out.buf, out.len, mode) < 0)
			rc = fail(err, errlen, SMELT_ERR, "cannot write '%s': %s", path, strerror(errno));
		else if (!exists)
			chmod(path, 0600);
	}
	if (!rc && p) {
		cJSON_Delete(p->dotenv);
		p->dotenv = o;
	} else {
		cJSON_Delete(o);
	}
out:
	strbuf_release(&old);
	strbuf_release(&out);
	strbuf_release(&line);
	strbuf_release(&s.value);
	return rc;
}
