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

static void dump(struct strbuf *sb, const cJSON *v, int indent, int depth, int ascii)
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
				quote(sb, c->string ? c->string : "", c->string ? strlen(c->string) : 0, ascii);
				strbuf_addstr(sb, colon);
			}
			dump(sb, c, indent, depth + 1, ascii);
			if (c->next)
				strbuf_addstr(sb, sep);
		}
		if (indent >= 0)
			indent_to(sb, indent, depth);
		strbuf_addch(sb, obj ? '}' : ']');
	} else if (cJSON_IsString(v)) {
		quote(sb, v->valuestring ? v->valuestring : "", v->valuestring ? strlen(v->valuestring) : 0, ascii);
	} else if (cJSON_IsNumber(v)) {
		if (v->valuestring)
			strbuf_addstr(sb, v->valuestring);
		else
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
	dump(sb, v, indent, 0, 1);
}

char *json_print(const cJSON *v)
{
	struct strbuf sb = STRBUF_INIT;
	dump(&sb, v, -2, 0, 0);
	return strbuf_detach(&sb);
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

/* ---- numbers with their exact text ------------------------------------------- */

/* 1 when s (len bytes) is a JSON number literal. */
static int json_number_syntax(const char *s, size_t len)
{
	size_t i = 0;
	if (i < len && s[i] == '-')
		i++;
	if (i >= len || s[i] < '0' || s[i] > '9')
		return 0;
	if (s[i] == '0')
		i++;
	else
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	if (i < len && s[i] == '.') {
		i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == len;
}

/*
 * 1 when the JSON number literal s is not held exactly by a double in a way
 * our writers would print back: an integer of more than 15 digits whose
 * double prints differently, or a fraction with more than 15 significant
 * digits.
 */
static int json_number_needs_text(const char *s, size_t len)
{
	size_t digits = 0, lead = 1;
	int integer = 1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.' || s[i] == 'e' || s[i] == 'E') {
			integer = 0;
			if (s[i] != '.')
				break;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			continue;
		if (lead && s[i] == '0')
			continue;
		lead = 0;
		digits++;
	}
	if (digits <= 15)
		return 0;
	if (!integer)
		return 1;
	char buf[64];
	double d = strtod(s, NULL);
	snprintf(buf, sizeof buf, "%.0f", d);
	return strlen(buf) != len || memcmp(buf, s, len) != 0;
}

cJSON *json_number_from_text(const char *text, size_t len)
{
	char *s = xstrndup(text, len);
	cJSON *n = NULL;
	const char *digits = s;
	if (*digits == '+')
		digits++;
	if (json_number_syntax(digits, strlen(digits))) {
		double d = strtod(digits, NULL);
		if (isfinite(d)) {
			n = cJSON_CreateNumber(d);
			if (json_number_needs_text(digits, strlen(digits)))
				n->valuestring = xstrdup(digits);
		}
	}
	free(s);
	return n;
}

const char *json_number_text(const cJSON *v, char *buf, size_t buflen)
{
	if (!cJSON_IsNumber(v))
		return NULL;
	if (v->valuestring)
		return v->valuestring;
	struct strbuf sb = STRBUF_INIT;
	add_number(&sb, v->valuedouble);
	snprintf(buf, buflen, "%s", sb.buf);
	strbuf_release(&sb);
	return buf;
}

/* Give each number of v (pre-order) the text of the next number token of text. */
static const char *attach_texts(cJSON *v, const char *p, const char *end)
{
	for (; v; v = v->next) {
		if (cJSON_IsNumber(v)) {
			/* the next number token: skip strings, find '-' or a digit */
			while (p < end) {
				if (*p == '"') {
					for (p++; p < end && *p != '"'; p++)
						if (*p == '\\')
							p++;
					p++;
				} else if (*p == '-' || (*p >= '0' && *p <= '9')) {
					break;
				} else {
					p++;
				}
			}
			const char *start = p;
			while (p < end && strchr("+-.eE0123456789", *p))
				p++;
			size_t len = (size_t)(p - start);
			if (len && json_number_syntax(start, len) && json_number_needs_text(start, len)) {
				free(v->valuestring);
				v->valuestring = xstrndup(start, len);
			}
		} else if (v->child) {
			p = attach_texts(v->child, p, end);
		} /* strings and keys: skipped by the scan when the next number is looked for */
	}
	return p;
}

cJSON *json_parse_exact(const char *text)
{
	cJSON *v = cJSON_Parse(text);
	if (v)
		attach_texts(v, text, text + strlen(text));
	return v;
}

/* ---- comparing and linking ------------------------------------------------------- */

int json_equal(const cJSON *a, const cJSON *b)
{
	if (a == b)
		return 1;
	if (!a || !b)
		return 0;
	int ta = a->type & 0xff, tb = b->type & 0xff;
	if (ta != tb)
		return 0;
	if (cJSON_IsNumber(a)) {
		if (a->valuestring || b->valuestring)
			return a->valuestring && b->valuestring && !strcmp(a->valuestring, b->valuestring);
		return a->valuedouble == b->valuedouble;
	}
	if (cJSON_IsString(a) || cJSON_IsRaw(a))
		return !strcmp(a->valuestring, b->valuestring);
	if (cJSON_IsArray(a)) {
		const cJSON *x = a->child, *y = b->child;
		for (; x && y; x = x->next, y = y->next)
			if (!json_equal(x, y))
				return 0;
		return !x && !y;
	}
	if (cJSON_IsObject(a)) {
		size_t na = 0, nb = 0;
		for (const cJSON *x = a->child; x; x = x->next)
			na++;
		for (const cJSON *y = b->child; y; y = y->next)
			nb++;
		if (na != nb)
			return 0;
		/* keys are unique (duplicates are rejected where objects are built), so a's keys all
		 * found in b with equal values and equal counts means equal; the same order is the fast path */
		const cJSON *y = b->child;
		for (const cJSON *x = a->child; x; x = x->next, y = y ? y->next : NULL) {
			const cJSON *m = y && y->string && x->string && !strcmp(x->string, y->string)
			                         ? y
			                         : cJSON_GetObjectItemCaseSensitive(b, x->string ? x->string : "");
			if (!m || !json_equal(x, m))
				return 0;
		}
		return 1;
	}
	return 1; /* null, true, false: the type says it all */
}

void json_link_after(cJSON *container, cJSON *prev, cJSON *item)
{
	if (!prev) {
		item->next = container->child;
		item->prev = container->child ? container->child->prev : item;
		if (container->child)
			container->child->prev = item;
		container->child = item;
		return;
	}
	item->prev = prev;
	item->next = prev->next;
	if (prev->next)
		prev->next->prev = item;
	else
		container->child->prev = item; /* the first item's prev is the last one */
	prev->next = item;
}

size_t json_string_trouble(const char *s, size_t len)
{
	int in_string = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!in_string) {
			in_string = c == '"';
			continue;
		}
		if (c < 0x20)
			return i;
		if (c == '"') {
			in_string = 0;
		} else if (c == '\\' && i + 1 < len) {
			if (s[i + 1] == 'u' && i + 5 < len && !memcmp(s + i + 2, "0000", 4))
				return i;
			i++; /* the escaped character, '"' and '\\' included */
		}
	}
	return (size_t)-1;
}
