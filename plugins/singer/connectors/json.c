/*
 * JSON escaping and the flat tokenizer declared in json.h.
 */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (s[0] >= 0x80), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];

	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0)
		return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c < 0xF0) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0))
			return 0;	/* overlong, surrogate */
		return 3;
	}
	if (c < 0xF5) {
		if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90))
			return 0;	/* overlong, > U+10FFFF */
		return 4;
	}
	return 0;
}

int conn_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;

	while (p < e) {
		size_t k;

		if (*p < 0x80) {
			p++;
			continue;
		}
		k = utf8_seq(p, (size_t)(e - p));
		if (!k)
			return 0;
		p += k;
	}
	return 1;
}

/* 0: copy as is; 1: needs an escape; 2: starts a multi-byte sequence */
static unsigned char esc_class[256];
static int esc_class_ready;

static void esc_class_init(void)
{
	for (int c = 0; c < 256; c++)
		esc_class[c] = c < 0x20 || c == '"' || c == '\\' ? 1 : c >= 0x80 ? 2 : 0;
	esc_class_ready = 1;
}

int conn_json_escape(struct conn_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *e = p + n, *run = p;

	if (!esc_class_ready)
		esc_class_init();
	if (conn_buf_grow(b, n + 2) < 0)
		return -1;
	b->data[b->len++] = '"';
	while (p < e) {
		unsigned char c = *p, cls = esc_class[c];
		char esc[6];
		size_t k;

		if (!cls) {
			p++;
			continue;
		}
		if (cls == 2) {
			k = utf8_seq(p, (size_t)(e - p));
			if (!k)
				return -1;
			p += k;
			continue;
		}
		conn_buf_add(b, run, (size_t)(p - run));
		esc[0] = '\\';
		k = 2;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			k = 6;
		}
		conn_buf_add(b, esc, k);
		run = ++p;
	}
	conn_buf_add(b, run, (size_t)(p - run));
	conn_buf_addc(b, '"');
	return b->oom ? -1 : 0;
}

/* --- tokenizer --- */

static int jerr(struct conn_json *j, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int jerr(struct conn_json *j, size_t pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->err, sizeof(j->err), fmt, ap);
	va_end(ap);
	j->err_pos = pos;
	return -1;
}

static size_t jpush(struct conn_json *j, enum conn_jtype type, size_t start)
{
	struct conn_jtok *t;

	if (j->ntok == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 64;

		t = realloc(j->tok, cap * sizeof(*t));
		if (!t)
			return CONN_JNONE;
		j->tok = t;
		j->cap = cap;
	}
	t = &j->tok[j->ntok];
	t->type = (unsigned char)type;
	t->flags = 0;
	t->start = start;
	t->end = start;
	t->count = 0;
	t->next = j->ntok + 1;
	return j->ntok++;
}

static size_t skip_ws(const char *t, size_t i, size_t n)
{
	while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
		i++;
	return i;
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int describe(char c, char *out, size_t outlen)
{
	if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
		return snprintf(out, outlen, "'%c'", c);
	return snprintf(out, outlen, "byte 0x%02x", (unsigned char)c);
}

static int parse_string(struct conn_json *j, size_t *pos)
{
	const char *t = j->text;
	size_t n = j->len, i = *pos + 1, idx;
	unsigned char flags = 0;

	if (!esc_class_ready)
		esc_class_init();
	for (;;) {
		unsigned char c;

		while (i < n && !esc_class[(unsigned char)t[i]])
			i++;
		if (i >= n)
			return jerr(j, *pos, "unterminated string");
		c = (unsigned char)t[i];
		if (c == '"')
			break;
		if (c == '\\') {
			flags |= CONN_JF_ESCAPED;
			if (++i >= n)
				return jerr(j, *pos, "unterminated string");
			switch (t[i]) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				i++;
				break;
			case 'u':
				if (n - i < 5 || !is_hex(t[i + 1]) || !is_hex(t[i + 2]) ||
				    !is_hex(t[i + 3]) || !is_hex(t[i + 4]))
					return jerr(j, i - 1, "invalid \\u escape");
				i += 5;
				break;
			default:
				return jerr(j, i - 1, "invalid escape");
			}
			continue;
		}
		if (c < 0x20)
			return jerr(j, i, "control character in string");
		{
			size_t k = utf8_seq((const unsigned char *)t + i, n - i);

			if (!k)
				return jerr(j, i, "invalid UTF-8 in string");
			i += k;
		}
	}
	idx = jpush(j, CONN_J_STRING, *pos);
	if (idx == CONN_JNONE)
		return -2;
	j->tok[idx].flags = flags;
	j->tok[idx].end = i + 1;
	*pos = i + 1;
	return 0;
}

static int parse_number(struct conn_json *j, size_t *pos)
{
	const char *t = j->text;
	size_t n = j->len, i = *pos, idx;
	unsigned char flags = CONN_JF_INTEGER;

	if (i < n && t[i] == '-')
		i++;
	if (i >= n || t[i] < '0' || t[i] > '9')
		return jerr(j, *pos, "invalid number");
	if (t[i] == '0')
		i++;
	else
		while (i < n && t[i] >= '0' && t[i] <= '9')
			i++;
	if (i < n && t[i] == '.') {
		flags = 0;
		if (++i >= n || t[i] < '0' || t[i] > '9')
			return jerr(j, *pos, "invalid number");
		while (i < n && t[i] >= '0' && t[i] <= '9')
			i++;
	}
	if (i < n && (t[i] == 'e' || t[i] == 'E')) {
		flags = 0;
		i++;
		if (i < n && (t[i] == '+' || t[i] == '-'))
			i++;
		if (i >= n || t[i] < '0' || t[i] > '9')
			return jerr(j, *pos, "invalid number");
		while (i < n && t[i] >= '0' && t[i] <= '9')
			i++;
	}
	idx = jpush(j, CONN_J_NUMBER, *pos);
	if (idx == CONN_JNONE)
		return -2;
	j->tok[idx].flags = flags;
	j->tok[idx].end = i;
	*pos = i;
	return 0;
}

static int parse_value(struct conn_json *j, size_t *pos, int depth)
{
	const char *t = j->text;
	size_t n = j->len, i = *pos, idx;
	char what[16];
	int r;

	if (i >= n)
		return jerr(j, i, "unexpected end of input");
	switch (t[i]) {
	case '{':
	case '[': {
		int is_obj = t[i] == '{';
		char close = is_obj ? '}' : ']';

		if (depth >= CONN_JSON_MAX_DEPTH)
			return jerr(j, i, "nesting too deep");
		idx = jpush(j, is_obj ? CONN_J_OBJECT : CONN_J_ARRAY, i);
		if (idx == CONN_JNONE)
			return -2;
		i = skip_ws(t, i + 1, n);
		if (i < n && t[i] == close) {
			i++;
		} else {
			for (;;) {
				if (is_obj) {
					if (i >= n)
						return jerr(j, i, "unexpected end of input");
					if (t[i] != '"') {
						describe(t[i], what, sizeof(what));
						return jerr(j, i, "expected a member name, found %s", what);
					}
					if ((r = parse_string(j, &i)) < 0)
						return r;
					i = skip_ws(t, i, n);
					if (i >= n)
						return jerr(j, i, "unexpected end of input");
					if (t[i] != ':') {
						describe(t[i], what, sizeof(what));
						return jerr(j, i, "expected ':', found %s", what);
					}
					i = skip_ws(t, i + 1, n);
				}
				if ((r = parse_value(j, &i, depth + 1)) < 0)
					return r;
				j->tok[idx].count++;
				i = skip_ws(t, i, n);
				if (i >= n)
					return jerr(j, i, "unexpected end of input");
				if (t[i] == ',') {
					i = skip_ws(t, i + 1, n);
					continue;
				}
				if (t[i] == close) {
					i++;
					break;
				}
				describe(t[i], what, sizeof(what));
				return jerr(j, i, "expected ',' or '%c', found %s", close, what);
			}
		}
		j->tok[idx].end = i;
		j->tok[idx].next = j->ntok;
		*pos = i;
		return 0;
	}
	case '"':
		return parse_string(j, pos);
	case 't':
	case 'f':
	case 'n': {
		static const char *const lit[] = {"true", "false", "null"};
		static const enum conn_jtype lt[] = {CONN_J_TRUE, CONN_J_FALSE, CONN_J_NULL};
		int k = t[i] == 't' ? 0 : t[i] == 'f' ? 1 : 2;
		size_t l = strlen(lit[k]);

		if (n - i < l || memcmp(t + i, lit[k], l))
			return jerr(j, i, "invalid literal");
		idx = jpush(j, lt[k], i);
		if (idx == CONN_JNONE)
			return -2;
		j->tok[idx].end = i + l;
		*pos = i + l;
		return 0;
	}
	default:
		if (t[i] == '-' || (t[i] >= '0' && t[i] <= '9'))
			return parse_number(j, pos);
		describe(t[i], what, sizeof(what));
		return jerr(j, i, "unexpected %s", what);
	}
}

int conn_json_parse(struct conn_json *j, const char *text, size_t len)
{
	size_t i;
	int r;

	j->text = text;
	j->len = len;
	j->ntok = 0;
	j->err[0] = '\0';
	j->err_pos = 0;
	i = skip_ws(text, 0, len);
	r = parse_value(j, &i, 0);
	if (r == -2)
		return jerr(j, i, "out of memory"), -2;
	if (r < 0)
		return r;
	i = skip_ws(text, i, len);
	if (i < len)
		return jerr(j, i, "trailing characters after the value");
	return 0;
}

void conn_json_release(struct conn_json *j)
{
	if (!j)
		return;
	free(j->tok);
	j->tok = NULL;
	j->ntok = j->cap = 0;
}

int conn_json_streq(const struct conn_json *j, size_t t, const char *s, size_t n)
{
	const struct conn_jtok *k = &j->tok[t];
	size_t raw = k->end - k->start - 2;
	char small[256], *tmp;
	size_t got;
	int eq;

	if (k->type != CONN_J_STRING)
		return 0;
	if (!(k->flags & CONN_JF_ESCAPED))
		return raw == n && !memcmp(j->text + k->start + 1, s, n);
	if (n > raw)
		return 0;
	tmp = raw <= sizeof(small) ? small : malloc(raw);
	if (!tmp)
		return 0;
	got = conn_json_unescape(j, t, tmp);
	eq = got == n && !memcmp(tmp, s, n);
	if (tmp != small)
		free(tmp);
	return eq;
}

size_t conn_json_get(const struct conn_json *j, size_t obj, const char *key)
{
	size_t k, n, klen = strlen(key);

	if (obj >= j->ntok || j->tok[obj].type != CONN_J_OBJECT)
		return CONN_JNONE;
	k = obj + 1;
	for (n = 0; n < j->tok[obj].count; n++) {
		if (conn_json_streq(j, k, key, klen))
			return k + 1;
		k = j->tok[k + 1].next;
	}
	return CONN_JNONE;
}

static unsigned hex4(const char *s)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

static size_t utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

size_t conn_json_unescape(const struct conn_json *j, size_t t, char *out)
{
	const struct conn_jtok *k = &j->tok[t];
	const char *s = j->text + k->start + 1, *e = j->text + k->end - 1;
	char *o = out;

	if (!(k->flags & CONN_JF_ESCAPED)) {
		memcpy(out, s, (size_t)(e - s));
		return (size_t)(e - s);
	}
	while (s < e) {
		const char *bs;
		unsigned cp;

		if (*s != '\\') {
			bs = memchr(s, '\\', (size_t)(e - s));
			if (!bs)
				bs = e;
			memcpy(o, s, (size_t)(bs - s));
			o += bs - s;
			s = bs;
			continue;
		}
		s++;
		switch (*s++) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			cp = hex4(s);
			s += 4;
			if (cp >= 0xD800 && cp <= 0xDBFF && e - s >= 6 && s[0] == '\\' && s[1] == 'u' &&
			    hex4(s + 2) >= 0xDC00 && hex4(s + 2) <= 0xDFFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4(s + 2) - 0xDC00);
				s += 6;
			} else if (cp >= 0xD800 && cp <= 0xDFFF) {
				cp = 0xFFFD;
			}
			o += utf8_put(o, cp);
			break;
		default: /* '"', '\\', '/' */
			*o++ = s[-1];
		}
	}
	return (size_t)(o - out);
}

int conn_json_has_nul(const struct conn_json *j)
{
	for (size_t t = 0; t < j->ntok; t++) {
		const struct conn_jtok *k = &j->tok[t];
		if (k->type != CONN_J_STRING || !(k->flags & CONN_JF_ESCAPED))
			continue;
		/* the token was validated: every '\\' starts a complete escape */
		for (size_t i = k->start + 1; i + 1 < k->end; i++) {
			if (j->text[i] != '\\')
				continue;
			if (j->text[i + 1] == 'u' && i + 5 < k->end && !memcmp(j->text + i + 2, "0000", 4))
				return 1;
			i++; /* skip the escaped character ('\\' included) */
		}
	}
	return 0;
}

void conn_json_string(const struct conn_json *j, size_t t, struct conn_buf *b)
{
	const struct conn_jtok *k = &j->tok[t];

	conn_buf_reset(b);
	if (conn_buf_grow(b, k->end - k->start) < 0)
		return;
	b->len = conn_json_unescape(j, t, b->data);
	b->data[b->len] = '\0';
}

size_t conn_json_compact(const struct conn_json *j, size_t t, char *out)
{
	const struct conn_jtok *k = &j->tok[t];
	const char *s = j->text + k->start, *e = j->text + k->end;
	char *o = out;

	while (s < e) {
		char c = *s;

		if (c == '"') {
			const char *q = s + 1;

			while (*q != '"') {
				if (*q == '\\')
					q++;
				q++;
			}
			q++;
			memcpy(o, s, (size_t)(q - s));
			o += q - s;
			s = q;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			s++;
		} else {
			*o++ = c;
			s++;
		}
	}
	return (size_t)(o - out);
}

/* Copy number token t into a NUL-terminated buffer (small or heap). */
static char *num_text(const struct conn_json *j, size_t t, char *small, size_t smalllen)
{
	size_t n = j->tok[t].end - j->tok[t].start;
	char *p = n < smalllen ? small : malloc(n + 1);

	if (!p)
		return NULL;
	memcpy(p, j->text + j->tok[t].start, n);
	p[n] = '\0';
	return p;
}

int conn_json_int(const struct conn_json *j, size_t t, long long *out)
{
	char small[64], *p, *end;
	int r = -1;

	if (j->tok[t].type != CONN_J_NUMBER)
		return -1;
	p = num_text(j, t, small, sizeof(small));
	if (!p)
		return -1;
	errno = 0;
	if (j->tok[t].flags & CONN_JF_INTEGER) {
		long long v = strtoll(p, &end, 10);

		if (!errno && !*end) {
			*out = v;
			r = 0;
		}
	} else {
		double d = strtod(p, &end);

		if (!*end && isfinite(d) && d == floor(d) && d >= -9223372036854775808.0 &&
		    d < 9223372036854775808.0) {
			*out = (long long)d;
			r = 0;
		}
	}
	if (p != small)
		free(p);
	return r;
}

/*
 * Clinger's fast path: at most 15 significant digits and no exponent, so
 * the mantissa and the power of ten are exact doubles and one division is
 * correctly rounded (the same result as strtod).
 */
static int fast_double(const char *p, size_t n, double *out)
{
	static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	unsigned long long m = 0;
	int digits = 0, frac = -1, neg = 0;
	size_t i = 0;

	if (n && p[0] == '-') {
		neg = 1;
		i++;
	}
	for (; i < n; i++) {
		char c = p[i];

		if (c == '.') {
			frac = 0;
			continue;
		}
		if (c < '0' || c > '9')
			return -1;	/* exponent: slow path */
		if (m || c != '0')
			digits++;
		if (digits > 15)
			return -1;
		m = m * 10 + (unsigned long long)(c - '0');
		if (frac >= 0)
			frac++;
	}
	if (frac > 22)
		return -1;
	*out = (double)m / pow10[frac > 0 ? frac : 0];
	if (neg)
		*out = -*out;
	return 0;
}

double conn_json_double(const struct conn_json *j, size_t t)
{
	char small[64], *p;
	double d;

	if (!fast_double(j->text + j->tok[t].start, j->tok[t].end - j->tok[t].start, &d))
		return d;

	p = num_text(j, t, small, sizeof(small));
	if (!p)
		return NAN;
	d = strtod(p, NULL);
	if (p != small)
		free(p);
	return d;
}
