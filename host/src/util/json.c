/* json: see json.h. */
#include "util/json.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char hexdig[] = "0123456789abcdef";

static void add_u16(struct strbuf *sb, unsigned v)
{
	char b[6] = { '\\', 'u', hexdig[(v >> 12) & 15], hexdig[(v >> 8) & 15], hexdig[(v >> 4) & 15],
	              hexdig[v & 15] };
	strbuf_add(sb, b, 6);
}

/* Decode one UTF-8 sequence at s (n bytes left); returns its length, *cp the code point (U+FFFD, length 1, when invalid). */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned c = s[0];
	size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
	if (!len || len > n) {
		*cp = 0xfffd;
		return 1;
	}
	unsigned v = len == 1 ? c : c & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		v = (v << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8: no JSON reader takes them back */
	static const unsigned min_for_len[] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (v < min_for_len[len] || (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff) {
		*cp = 0xfffd;
		return 1;
	}
	*cp = v;
	return len;
}

size_t json_utf8_invalid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		unsigned cp;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t n = utf8_decode(p + i, len - i, &cp);
		if (cp == 0xfffd && !(n == 3 && p[i] == 0xef && p[i + 1] == 0xbf && p[i + 2] == 0xbd))
			return i;
		i += n;
	}
	return (size_t)-1;
}

static void quote(struct strbuf *sb, const char *s, size_t len, int ascii)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	strbuf_addch(sb, '"');
	while (p < end) {
		const unsigned char *run = p;
		while (p < end && *p >= 0x20 && *p != '"' && *p != '\\' && (!ascii || *p < 0x80))
			p++;
		strbuf_add(sb, run, (size_t)(p - run));
		if (p >= end)
			break;
		unsigned c = *p;
		switch (c) {
		case '"': strbuf_addstr(sb, "\\\""); p++; continue;
		case '\\': strbuf_addstr(sb, "\\\\"); p++; continue;
		case '\n': strbuf_addstr(sb, "\\n"); p++; continue;
		case '\r': strbuf_addstr(sb, "\\r"); p++; continue;
		case '\t': strbuf_addstr(sb, "\\t"); p++; continue;
		case '\b': strbuf_addstr(sb, "\\b"); p++; continue;
		case '\f': strbuf_addstr(sb, "\\f"); p++; continue;
		}
		if (c < 0x20) {
			add_u16(sb, c);
			p++;
			continue;
		}
		unsigned cp;
		p += utf8_decode(p, (size_t)(end - p), &cp);
		if (cp >= 0x10000) {
			cp -= 0x10000;
			add_u16(sb, 0xd800 | (cp >> 10));
			add_u16(sb, 0xdc00 | (cp & 0x3ff));
		} else {
			add_u16(sb, cp);
		}
	}
	strbuf_addch(sb, '"');
}

void json_quote(struct strbuf *sb, const char *s) { quote(sb, s ? s : "", s ? strlen(s) : 0, 0); }
void json_quote_len(struct strbuf *sb, const char *s, size_t len) { quote(sb, s, len, 0); }
void json_quote_ascii(struct strbuf *sb, const char *s) { quote(sb, s ? s : "", s ? strlen(s) : 0, 1); }

/* Python's float repr: the shortest form that round-trips, always with a '.' or exponent. */
static void add_number(struct strbuf *sb, double d)
{
	char buf[64];
	if (isnan(d) || isinf(d)) {
		strbuf_addstr(sb, "null");
		return;
	}
	if (d == floor(d) && fabs(d) < 1e16) {
		snprintf(buf, sizeof buf, "%.0f", d);
		strbuf_addstr(sb, buf);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	strbuf_addstr(sb, buf);
}

static void indent_to(struct strbuf *sb, int indent, int depth)
{
	strbuf_addch(sb, '\n');
	for (int i = 0; i < indent * depth; i++)
		strbuf_addch(sb, ' ');
}

static void dump(struct strbuf *sb, const cJSON *v, int indent, int depth)
{
	const char *sep = indent == -2 ? "," : indent >= 0 ? "," : ", ";
	const char *colon = indent == -2 ? ":" : ": ";
	if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
		int obj = cJSON_IsObject(v);
		strbuf_addch(sb, obj ? '{' : '[');
		if (!v->child) {
			strbuf_addch(sb, obj ? '}' : ']');
			return;
		}
		for (const cJSON *c = v->child; c; c = c->next) {
			if (indent >= 0)
				indent_to(sb, indent, depth + 1);
			if (obj) {
				quote(sb, c->string ? c->string : "", c->string ? strlen(c->string) : 0, 1);
				strbuf_addstr(sb, colon);
			}
			dump(sb, c, indent, depth + 1);
			if (c->next)
				strbuf_addstr(sb, sep);
		}
		if (indent >= 0)
			indent_to(sb, indent, depth);
		strbuf_addch(sb, obj ? '}' : ']');
	} else if (cJSON_IsString(v)) {
		json_quote_ascii(sb, v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		add_number(sb, v->valuedouble);
	} else if (cJSON_IsTrue(v)) {
		strbuf_addstr(sb, "true");
	} else if (cJSON_IsFalse(v)) {
		strbuf_addstr(sb, "false");
	} else if (cJSON_IsRaw(v)) {
		strbuf_addstr(sb, v->valuestring);
	} else {
		strbuf_addstr(sb, "null");
	}
}

void json_dump(struct strbuf *sb, const cJSON *v, int indent)
{
	dump(sb, v, indent, 0);
}

cJSON *json_read_file(const char *path, char *err, size_t errlen)
{
	struct strbuf sb = STRBUF_INIT;
	if (read_regular_file(path, FS_CAP_JSON, &sb, err, errlen) < 0) { /* regular files under a cap only */
		strbuf_release(&sb);
		return NULL;
	}
	const char *end = NULL;
	cJSON *v = cJSON_ParseWithLengthOpts(sb.buf, sb.len, &end, 0);
	if (!v) {
		size_t off = end ? (size_t)(end - sb.buf) : 0, line = 1, col = 1;
		for (size_t i = 0; i < off && i < sb.len; i++, col++)
			if (sb.buf[i] == '\n')
				line++, col = 0;
		fail(err, errlen, -1, "%s:%zu:%zu: invalid JSON", path, line, col);
	}
	strbuf_release(&sb);
	return v;
}

void json_merge(cJSON *dst, const cJSON *src)
{
	for (const cJSON *c = src->child; c; c = c->next) {
		cJSON *d = cJSON_GetObjectItemCaseSensitive(dst, c->string);
		if (d && cJSON_IsObject(d) && cJSON_IsObject(c)) {
			json_merge(d, c);
			continue;
		}
		cJSON *copy = cJSON_Duplicate(c, 1);
		if (d)
			cJSON_ReplaceItemViaPointer(dst, d, copy);
		else
			cJSON_AddItemToObject(dst, c->string, copy);
	}
}
