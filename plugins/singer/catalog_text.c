/* catalog_text: Meltano's catalog rules applied to a catalog's text; see catalog_text.h. */
#include "catalog_text.h"
#include "catalog.h"

#include <fnmatch.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define INLINE static inline __attribute__((always_inline))
#define MAX_DEPTH 512 /* cJSON refuses more than 1000 */
#define TYPE_SIZE 128 /* catalog_datasets()'s buffer for a field's type */

/* ---------------------------------------------------------------- reading */

/* A JSON string of the input: its bytes between the quotes, as written. */
struct str {
	const char *p;
	size_t n;
	int esc; /* it holds a backslash escape: decode() it before comparing */
};

/* A string's value: NUL-terminated when it was copied (z), else only p/n. */
struct name {
	const char *p;
	size_t n;
};

struct reader {
	const char *p;   /* the next byte; the input ends with a NUL, which nothing below takes */
	const char *end; /* that NUL */
	int depth;
};

/* Bytes that end the fast scan of a string: controls (NUL included), '"' and '\\'. */
static const unsigned char str_stop[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	['"'] = 1, ['\\'] = 1,
};

INLINE void ws(struct reader *r)
{
	while (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t')
		r->p++;
}

/* Four hex digits at h: their value, or -1 (a NUL stops it before reading further). */
static long hex4(const char *h)
{
	long v = 0;
	for (int i = 0; i < 4; i++) {
		char c = h[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/*
 * The rest of a string from q (a byte str_stop[] stops at) to its closing
 * quote, into s (s->p set).  Only what cJSON decodes the way JSON means it:
 * no raw control character, the usual escapes, \uXXXX with four hex
 * digits, never \u0000 (cJSON cuts the string there), surrogates only in
 * pairs.  0, or -1.
 */
static int scan_string_rest(struct reader *r, struct str *s, const unsigned char *q)
{
	for (;;) {
		while (!str_stop[*q])
			q++;
		if (*q == '"')
			break;
		if (*q != '\\')
			return -1;
		s->esc = 1;
		switch (q[1]) {
		case 'b': case 'f': case 'n': case 'r': case 't': case '"': case '\\': case '/':
			q += 2;
			continue;
		case 'u':
			break;
		default:
			return -1;
		}
		long c = hex4((const char *)q + 2);
		if (c <= 0 || (c >= 0xDC00 && c <= 0xDFFF))
			return -1;
		if (c >= 0xD800 && c <= 0xDBFF) {
			long lo = q[6] == '\\' && q[7] == 'u' ? hex4((const char *)q + 8) : -1;
			if (lo < 0xDC00 || lo > 0xDFFF)
				return -1;
			q += 12;
		} else {
			q += 6;
		}
	}
	s->n = (size_t)((const char *)q - s->p);
	r->p = (const char *)q + 1;
	return 0;
}

/* The string at r->p (a '"'), into s (see scan_string_rest()); 16 bytes at a time to its first special byte. */
INLINE int scan_string(struct reader *r, struct str *s)
{
	const unsigned char *q = (const unsigned char *)r->p + 1;
	s->p = (const char *)q;
	s->esc = 0;
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), ctl = _mm_set1_epi8(0x1F);
	while ((const char *)q + 16 <= r->end) {
		__m128i v = _mm_loadu_si128((const __m128i *)q);
		__m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
		                            _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl));
		int m = _mm_movemask_epi8(stop);
		if (!m) {
			q += 16;
			continue;
		}
		q += __builtin_ctz((unsigned)m);
		if (*q != '"')
			break;
		s->n = (size_t)((const char *)q - s->p);
		r->p = (const char *)q + 1;
		return 0;
	}
#endif
	return scan_string_rest(r, s, q);
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A number as RFC 8259 writes it, of at most 63 characters (cJSON reads no more) and finite. */
static int scan_number(struct reader *r)
{
	const char *q = r->p;
	int exp = 0;
	if (*q == '-')
		q++;
	if (*q == '0')
		q++;
	else if (*q >= '1' && *q <= '9')
		while (is_digit(*q))
			q++;
	else
		return -1;
	if (*q == '.') {
		if (!is_digit(*++q))
			return -1;
		while (is_digit(*q))
			q++;
	}
	if (*q == 'e' || *q == 'E') {
		exp = 1;
		q++;
		if (*q == '+' || *q == '-')
			q++;
		if (!is_digit(*q))
			return -1;
		while (is_digit(*q))
			q++;
	}
	size_t n = (size_t)(q - r->p);
	if (n > 63)
		return -1;
	if (exp) { /* 1e999 is inf to cJSON, which prints it as null: leave that to cJSON */
		char num[64];
		memcpy(num, r->p, n);
		num[n] = '\0';
		if (!isfinite(strtod(num, NULL)))
			return -1;
	}
	r->p = q;
	return 0;
}

/* After '{' or '[' at r->p: 1 when the container is empty (and read), 0 when something follows, -1. */
INLINE int open_c(struct reader *r, char close)
{
	if (++r->depth > MAX_DEPTH)
		return -1;
	r->p++;
	ws(r);
	if (*r->p != close)
		return 0;
	r->p++;
	r->depth--;
	return 1;
}

/* After a member or an element: 1 when the container ended (and was read), 0 when another follows, -1. */
INLINE int next_c(struct reader *r, char close)
{
	ws(r);
	if (*r->p == ',') {
		r->p++;
		ws(r);
		return 0;
	}
	if (*r->p != close)
		return -1;
	r->p++;
	r->depth--;
	return 1;
}

/* A member's key and its ':'; r is then at the value. */
INLINE int scan_key(struct reader *r, struct str *k)
{
	if (*r->p != '"' || scan_string(r, k))
		return -1;
	ws(r);
	if (*r->p != ':')
		return -1;
	r->p++;
	ws(r);
	return 0;
}

static int skip_value(struct reader *r);

static int skip_container(struct reader *r, char close)
{
	int e = open_c(r, close);
	struct str k;
	while (e == 0) {
		if ((close == '}' && scan_key(r, &k)) || skip_value(r))
			return -1;
		e = next_c(r, close);
	}
	return e < 0 ? -1 : 0;
}

/* Check the value at r->p and go past it. */
static int skip_value(struct reader *r)
{
	struct str s;
	switch (*r->p) {
	case '"':
		return scan_string(r, &s);
	case '{':
		return skip_container(r, '}');
	case '[':
		return skip_container(r, ']');
	case 't':
		return strncmp(r->p, "true", 4) ? -1 : (r->p += 4, 0);
	case 'f':
		return strncmp(r->p, "false", 5) ? -1 : (r->p += 5, 0);
	case 'n':
		return strncmp(r->p, "null", 4) ? -1 : (r->p += 4, 0);
	default:
		return scan_number(r);
	}
}

/* s decoded into out (room for s->n bytes: decoding never grows a string); its length. */
static size_t decode(const struct str *s, char *out)
{
	const char *p = s->p, *e = s->p + s->n;
	char *o = out;
	if (!s->esc) {
		memcpy(out, s->p, s->n);
		return s->n;
	}
	while (p < e) {
		if (*p != '\\') {
			*o++ = *p++;
			continue;
		}
		char c = p[1];
		if (c != 'u') {
			*o++ = c == 'b' ? '\b' : c == 'f' ? '\f' : c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c;
			p += 2;
			continue;
		}
		unsigned long cp = (unsigned long)hex4(p + 2);
		p += 6;
		if (cp >= 0xD800 && cp <= 0xDBFF) { /* scan_string() checked the pair */
			cp = 0x10000 + (((cp & 0x3FF) << 10) | ((unsigned long)hex4(p + 2) & 0x3FF));
			p += 6;
		}
		if (cp < 0x80) {
			*o++ = (char)cp;
		} else if (cp < 0x800) {
			*o++ = (char)(0xC0 | (cp >> 6));
			*o++ = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			*o++ = (char)(0xE0 | (cp >> 12));
			*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
			*o++ = (char)(0x80 | (cp & 0x3F));
		} else {
			*o++ = (char)(0xF0 | (cp >> 18));
			*o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
			*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
			*o++ = (char)(0x80 | (cp & 0x3F));
		}
	}
	return (size_t)(o - out);
}

/* Whether s, decoded, is lit (n bytes). */
static int str_is(const struct str *s, const char *lit, size_t n)
{
	char buf[256], *d = buf;
	if (!s->esc)
		return s->n == n && !memcmp(s->p, lit, n);
	if (s->n > 6 * n) /* a decoded byte takes at most 6 bytes written: longer than lit */
		return 0;
	if (s->n > sizeof buf && !(d = malloc(s->n)))
		return 0; /* out of memory: taken as another key (a rule's key of over 42 bytes, escaped) */
	int eq = decode(s, d) == n && !memcmp(d, lit, n);
	if (d != buf)
		free(d);
	return eq;
}

/* str_is() of a literal: as written, a compare of its length the compiler unrolls */
#define STR_IS(s, lit) \
	((s)->esc ? str_is((s), lit, sizeof lit - 1) : (s)->n == sizeof lit - 1 && !memcmp((s)->p, lit, sizeof lit - 1))

/* ---------------------------------------------------------------- output */

struct buf {
	char *p;
	size_t n, cap; /* n < cap: there is always room for the final NUL */
	int oom;
	int fd;        /* >= 0: written there whenever full (cap fixed) instead of growing */
	int werr;      /* writing to fd failed: its errno */
};

#define BUF_SINK (1 << 18) /* the buffer of a buf written to a file */

/* Write n bytes of s to b's file; 0, or -1 (b->werr set). */
static int buf_write(struct buf *b, const char *s, size_t n)
{
	while (n && !b->werr) {
		ssize_t w = write(b->fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			b->werr = w < 0 ? errno : EIO;
			break;
		}
		s += w;
		n -= (size_t)w;
	}
	return b->werr ? -1 : 0;
}

/* put() when s does not fit: b written out (fd) or grown, then s. */
static void put_more(struct buf *b, const char *s, size_t n)
{
	if (b->oom || b->werr)
		return;
	if (b->fd >= 0) {
		if (buf_write(b, b->p, b->n))
			return;
		b->n = 0;
		if (n >= b->cap) {
			buf_write(b, s, n);
			return;
		}
	} else {
		size_t cap = b->cap ? b->cap : 1 << 16;
		while (cap - b->n <= n)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

INLINE void put(struct buf *b, const char *s, size_t n)
{
	if (__builtin_expect(b->cap - b->n <= n, 0)) {
		put_more(b, s, n);
		return;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

INLINE void putc_(struct buf *b, char c)
{
	if (__builtin_expect(b->cap - b->n <= 1, 0)) {
		put_more(b, &c, 1);
		return;
	}
	b->p[b->n++] = c;
}

/* The end of b: NUL-terminated in memory, or the rest written to its file; 0, or -1. */
static int buf_finish(struct buf *b)
{
	if (b->oom || b->werr)
		return -1;
	if (b->fd >= 0)
		return buf_write(b, b->p, b->n);
	if (!b->p && !(b->p = malloc(b->cap = 1)))
		return b->oom = 1, -1;
	b->p[b->n] = '\0';
	return 0;
}

#define PUTS(b, lit) put((b), lit, sizeof lit - 1)


/* s (NUL-terminated) as a JSON string, escaped as cJSON_PrintUnformatted() escapes it. */
static void put_escaped(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	putc_(b, '"');
	while (*p) {
		const unsigned char *run = p;
		while (*p && *p >= 32 && *p != '"' && *p != '\\')
			p++;
		put(b, (const char *)run, (size_t)(p - run));
		if (!*p)
			break;
		char esc[8];
		switch (*p) {
		case '"': memcpy(esc, "\\\"", 3); break;
		case '\\': memcpy(esc, "\\\\", 3); break;
		case '\b': memcpy(esc, "\\b", 3); break;
		case '\f': memcpy(esc, "\\f", 3); break;
		case '\n': memcpy(esc, "\\n", 3); break;
		case '\r': memcpy(esc, "\\r", 3); break;
		case '\t': memcpy(esc, "\\t", 3); break;
		default: snprintf(esc, sizeof esc, "\\u%04x", *p); break;
		}
		put(b, esc, strlen(esc));
		p++;
	}
	putc_(b, '"');
}

/* A string of the input as cJSON prints its value: as written when it has no escape (then it has nothing cJSON escapes). */
static void put_str(struct buf *b, const struct str *s, const char *decoded)
{
	if (!s->esc) {
		putc_(b, '"');
		put(b, s->p, s->n);
		putc_(b, '"');
	} else {
		put_escaped(b, decoded);
	}
}

/* A key of the input and its ':'. */
static void put_key(struct buf *b, const struct str *k)
{
	putc_(b, '"');
	put(b, k->p, k->n);
	PUTS(b, "\":");
}

/* ---------------------------------------------------------------- the stream being read */

/* Vectors of the stream being read: emptied for each stream, their memory kept. */
#define VEC(T) \
	struct { \
		T *v; \
		size_t n, cap; \
	}

/* Append an element to vector a (the caller sets all of it); its index, or -1 when out of memory. */
#define PUSH(a) ((a).n < (a).cap || vec_grow((void **)&(a).v, &(a).cap, sizeof *(a).v) == 0 ? (long)(a).n++ : -1L)

static int vec_grow(void **v, size_t *cap, size_t size)
{
	size_t nc = *cap ? 2 * *cap : 64;
	void *p = realloc(*v, nc * size);
	if (!p)
		return -1;
	*v = p;
	*cap = nc;
	return 0;
}

/* Kinds of keys the rules read. */
enum key_kind { K_OTHER, K_TAP_STREAM_ID, K_STREAM, K_SCHEMA, K_METADATA, K_SELECTED, K_RMETHOD, K_RKEY, K_N };

/* A member of an object of the input: its key and its value's bytes. */
struct mem {
	struct str key;
	const char *v;
	size_t vn;
};

/* What an entry's "inclusion" is: no string, "automatic", "unsupported", another string. */
enum { I_NONE, I_AUTOMATIC, I_UNSUPPORTED, I_OTHER };
/* What an entry's "selected" is: absent, true, false, anything else. */
enum { S_NONE, S_TRUE, S_FALSE, S_OTHER };

/* A member of an entry's "metadata" object. */
struct dmem {
	struct mem m;
	unsigned char kind; /* K_SELECTED, K_RMETHOD (replication-method), K_RKEY (replication-key), K_OTHER */
	unsigned char incl; /* its key is "inclusion": I_*; else I_NONE */
	unsigned char sel;  /* S_TRUE, S_FALSE or S_OTHER (for any key) */
	unsigned char is_incl; /* its key is "inclusion" */
	long ovr;           /* the value a rule set in its place, -1 */
};

/* What a rule set. */
enum { O_TRUE, O_FALSE, O_AUTOMATIC, O_JSON };

/* The key set_selected() sets (put_member() knows it by its address). */
static const char selected_key[] = "selected";

/* A key a rule set in an entry's metadata object. */
struct ovr {
	const char *key;   /* decoded, NUL-terminated (a rule's, or a literal) */
	int kind;          /* O_* */
	const cJSON *json; /* O_JSON: the rule's value */
	long dmem;         /* the original member it replaced; -1: appended */
	long next;         /* the entry's next, -1 */
};

/* An entry of the stream's metadata. */
struct entry {
	const char *text;   /* an original entry's bytes */
	const char *md_end; /* md_obj: the '}' that ends its metadata object */
	struct name nm;     /* bc 2 and the second a string: that string */
	size_t tn;
	uint32_t m0, m1;    /* its members in emems */
	uint32_t d0, d1;    /* md_obj: its metadata object's members in dmems */
	int32_t md;         /* its first "metadata" member, index in emems; -1 */
	int32_t prop;       /* created for a property: that property */
	int32_t o_head, o_tail; /* what the rules set, in order; -1 */
	int32_t same;       /* the next entry of the same property name, -1 */
	int bc;             /* how many items its breadcrumb has (none: 0) */
	unsigned char md_obj;   /* that member is an object */
	unsigned char replaced; /* a rule set a key the metadata object had (not only appended keys) */
	unsigned char created;  /* made by the rules: 1 for a property (prop), 2 for the stream */
	unsigned char touched;  /* a rule set a key: written anew, its metadata an object */
};

/* A property of the stream's schema. */
struct prop {
	struct str key;    /* as written; key.p NULL for one a schema rule added */
	struct name nm;    /* its name, NUL-terminated */
	const char *v;     /* its schema's bytes */
	size_t vn;
	const cJSON *ovr;  /* the schema rule's value that replaced it, or that it was added with */
	long entry;        /* its metadata entry once looked up, -1 */
};

/* A block of the arena where decoded strings live while their stream is read. */
struct blk {
	struct blk *next;
	size_t cap, used;
	char data[];
};

/* A select pattern, split. */
struct pat {
	int exclude;
	char *sglob;      /* the stream's glob */
	const char *prop; /* the rest after the '.', inside the pattern; NULL */
	char *pglob;      /* the top-level property's glob */
};

/* The input read from a file as it is needed, through a window that is reused (no buffer of its size). */
struct input {
	int fd;      /* -1: all of the input is in memory */
	char *buf;   /* the window (owned) */
	size_t cap;
	int eof;     /* nothing more to read */
	int err;     /* a read failed: its errno */
};

#ifndef CATALOG_TEXT_WINDOW /* the tests build it with a window of a few bytes, so that every step meets its end */
#define CATALOG_TEXT_WINDOW (1 << 20)
#endif
#define WINDOW CATALOG_TEXT_WINDOW  /* the first window; a stream larger than half of it grows it */
#define LOOKAHEAD (WINDOW / 4)      /* what is read ahead of each step, when there is more */

struct ctx {
	const char *end; /* the input's NUL (the window's, when read from a file) */
	struct input in;
	const cJSON *metadata, *schema, *filter;
	struct pat *pats;
	size_t npats;
	int filter_include;
	struct buf *out, *list;
	cJSON *datasets;
	int oom;
	size_t nstreams;
	/* rule values printed once */
	struct {
		const cJSON *j;
		char *text;
	} *printed;
	size_t nprinted, capprinted;
	struct blk *arena;
	/* the stream */
	const char *st_text;
	VEC(struct mem) smems;
	VEC(struct mem) schmems;
	VEC(struct mem) emems;
	VEC(struct dmem) dmems;
	VEC(struct prop) props;
	VEC(struct entry) entries;
	VEC(struct ovr) ovrs;
	long *slots; /* the entries by property name: index + 1, 0 empty */
	size_t nslots;
	long at[K_N];        /* the first stream member of each kind, -1 */
	long schema_props;   /* the first "properties" member of the schema (index in schmems), -1 */
	struct str id_str[2]; /* tap_stream_id, stream: when the first of each is a string */
	const char *id_z[2];  /* the same decoded, NUL-terminated; NULL */
	const char *id;       /* what the rules match: tap_stream_id, else stream, else "" */
	int schema_changed;   /* a schema rule matched */
	long e0;              /* the stream's metadata entry (breadcrumb []), -1 */
	struct {
		int set, order;
		long dmem, ovr; /* its value: an original member of the entry's metadata, or what a rule set */
	} legacy[3];          /* selected, replication_method, replication_key */
	int nlegacy;
};

/* n bytes of the arena, for the stream being read; NULL when out of memory. */
static char *a_alloc(struct ctx *c, size_t n)
{
	struct blk *b = c->arena;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > 1 << 16 ? n : 1 << 16;
		if (!(b = malloc(sizeof *b + cap))) {
			c->oom = 1;
			return NULL;
		}
		b->cap = cap;
		b->used = 0;
		b->next = c->arena;
		c->arena = b;
	}
	b->used += n;
	return b->data + b->used - n;
}

/* Empty the arena, keeping its newest block. */
static void a_reset(struct ctx *c)
{
	if (!c->arena)
		return;
	struct blk *b = c->arena->next;
	while (b) {
		struct blk *next = b->next;
		free(b);
		b = next;
	}
	c->arena->next = NULL;
	c->arena->used = 0;
}

/* s decoded, NUL-terminated, in the arena; NULL when out of memory. */
static const char *a_decode(struct ctx *c, const struct str *s, size_t *len)
{
	char *z = a_alloc(c, s->n + 1);
	if (!z)
		return NULL;
	size_t n = decode(s, z);
	z[n] = '\0';
	if (len)
		*len = n;
	return z;
}

static enum key_kind stream_key(const struct str *k)
{
	if (STR_IS(k, "tap_stream_id"))
		return K_TAP_STREAM_ID;
	if (STR_IS(k, "stream"))
		return K_STREAM;
	if (STR_IS(k, "schema"))
		return K_SCHEMA;
	if (STR_IS(k, "metadata"))
		return K_METADATA;
	if (STR_IS(k, "selected"))
		return K_SELECTED;
	if (STR_IS(k, "replication_method"))
		return K_RMETHOD;
	if (STR_IS(k, "replication_key"))
		return K_RKEY;
	return K_OTHER;
}

/* The properties object at r->p: each property into props. */
static int scan_props(struct ctx *c, struct reader *r)
{
	int e = open_c(r, '}');
	while (e == 0) {
		long i = PUSH(c->props);
		struct str k;
		if (i < 0)
			return c->oom = 1, -1;
		if (scan_key(r, &k))
			return -1;
		const char *v = r->p;
		if (skip_value(r))
			return -1;
		struct prop *p = &c->props.v[i];
		*p = (struct prop){ .key = k, .v = v, .vn = (size_t)(r->p - v), .entry = -1 };
		if (!(p->nm.p = a_decode(c, &k, &p->nm.n)))
			return -1;
		e = next_c(r, '}');
	}
	return e < 0 ? -1 : 0;
}

/* The schema object at r->p. */
static int scan_schema(struct ctx *c, struct reader *r)
{
	int e = open_c(r, '}');
	while (e == 0) {
		long i = PUSH(c->schmems);
		struct str k;
		if (i < 0)
			return c->oom = 1, -1;
		if (scan_key(r, &k))
			return -1;
		const char *v = r->p;
		if (c->schema_props < 0 && STR_IS(&k, "properties")) {
			if (*v != '{' || scan_props(c, r)) /* properties as anything else: left to cJSON */
				return -1;
			c->schema_props = i;
		} else if (skip_value(r)) {
			return -1;
		}
		c->schmems.v[i] = (struct mem){ k, v, (size_t)(r->p - v) };
		e = next_c(r, '}');
	}
	return e < 0 ? -1 : 0;
}

/* A breadcrumb array at r->p: its size into en->bc, its second item when a string into en->nm. */
static int scan_breadcrumb(struct ctx *c, struct reader *r, long ei)
{
	int e = open_c(r, ']'), n = 0;
	struct name nm = { 0 };
	while (e == 0) {
		if (n == 1 && *r->p == '"') {
			struct str s;
			if (scan_string(r, &s))
				return -1;
			if (!s.esc) {
				nm.p = s.p;
				nm.n = s.n;
			} else if (!(nm.p = a_decode(c, &s, &nm.n))) {
				return -1;
			}
		} else if (skip_value(r)) {
			return -1;
		}
		n++;
		e = next_c(r, ']');
	}
	if (e < 0)
		return -1;
	c->entries.v[ei].bc = n;
	if (n == 2) { /* field by field: a 16-byte copy of what was just stored in halves stalls */
		c->entries.v[ei].nm.p = nm.p;
		c->entries.v[ei].nm.n = nm.n;
	}
	return 0;
}

/* What a string value means as an "inclusion". */
static unsigned char incl_code(const struct str *s)
{
	if (STR_IS(s, "automatic"))
		return I_AUTOMATIC;
	if (STR_IS(s, "unsupported"))
		return I_UNSUPPORTED;
	return I_OTHER;
}

/* An entry's metadata object at r->p: its members into dmems. */
static int scan_entry_md(struct ctx *c, struct reader *r, long ei)
{
	int e = open_c(r, '}');
	c->entries.v[ei].d0 = (uint32_t)c->dmems.n;
	while (e == 0) {
		long i = PUSH(c->dmems);
		struct dmem *d;
		struct str k, s;
		if (i < 0)
			return c->oom = 1, -1;
		if (scan_key(r, &k))
			return -1;
		const char *v = r->p;
		int is_incl = STR_IS(&k, "inclusion"), string = *v == '"';
		if (string ? scan_string(r, &s) : skip_value(r))
			return -1;
		d = &c->dmems.v[i];
		d->m = (struct mem){ k, v, (size_t)(r->p - v) };
		d->ovr = -1;
		d->kind = STR_IS(&k, "selected")             ? K_SELECTED
		          : STR_IS(&k, "replication-method") ? K_RMETHOD
		          : STR_IS(&k, "replication-key")    ? K_RKEY
		                                             : K_OTHER;
		d->incl = is_incl && string ? incl_code(&s) : I_NONE;
		d->is_incl = (unsigned char)is_incl;
		d->sel = *v == 't' ? S_TRUE : *v == 'f' ? S_FALSE : S_OTHER;
		e = next_c(r, '}');
	}
	c->entries.v[ei].d1 = (uint32_t)c->dmems.n;
	c->entries.v[ei].md_obj = 1;
	c->entries.v[ei].md_end = r->p - 1;
	return e < 0 ? -1 : 0;
}

/* An entry of the metadata array at r->p. */
static int scan_entry(struct ctx *c, struct reader *r)
{
	long ei = PUSH(c->entries);
	if (ei < 0)
		return c->oom = 1, -1;
	if (*r->p != '{') /* an entry that is no object: left to cJSON */
		return -1;
	const char *start = r->p;
	int e = open_c(r, '}'), has_bc = 0;
	struct entry *en = &c->entries.v[ei]; /* field by field: cheaper than clearing it all first */
	en->text = start;
	en->md_end = NULL;
	en->nm.p = NULL;
	en->nm.n = 0;
	en->tn = 0;
	en->m0 = en->m1 = (uint32_t)c->emems.n;
	en->d0 = en->d1 = 0;
	en->md = en->prop = en->o_head = en->o_tail = en->same = -1;
	en->bc = 0;
	en->md_obj = en->replaced = en->created = en->touched = 0;
	while (e == 0) {
		long i = PUSH(c->emems);
		struct str k;
		if (i < 0)
			return c->oom = 1, -1;
		if (scan_key(r, &k))
			return -1;
		const char *v = r->p;
		if (!has_bc && STR_IS(&k, "breadcrumb")) {
			has_bc = 1;
			if (*v != '[' || scan_breadcrumb(c, r, ei)) /* a breadcrumb that is no array: left to cJSON */
				return -1;
		} else if (c->entries.v[ei].md < 0 && STR_IS(&k, "metadata")) {
			c->entries.v[ei].md = i;
			if (*v == '{' ? scan_entry_md(c, r, ei) : skip_value(r))
				return -1;
		} else if (skip_value(r)) {
			return -1;
		}
		c->emems.v[i] = (struct mem){ k, v, (size_t)(r->p - v) };
		e = next_c(r, '}');
	}
	if (e < 0)
		return -1;
	en = &c->entries.v[ei];
	en->m1 = (uint32_t)c->emems.n;
	en->tn = (size_t)(r->p - start);
	return 0;
}

/* The metadata array at r->p. */
static int scan_metadata(struct ctx *c, struct reader *r)
{
	int e = open_c(r, ']');
	while (e == 0) {
		if (scan_entry(c, r))
			return -1;
		e = next_c(r, ']');
	}
	return e < 0 ? -1 : 0;
}

/* The stream object at r->p: its members into smems, its schema and metadata read. */
static int scan_stream(struct ctx *c, struct reader *r)
{
	if (*r->p != '{') /* a stream that is no object: left to cJSON */
		return -1;
	int e = open_c(r, '}');
	while (e == 0) {
		long i = PUSH(c->smems);
		struct str k;
		if (i < 0)
			return c->oom = 1, -1;
		if (scan_key(r, &k))
			return -1;
		const char *v = r->p;
		enum key_kind kind = stream_key(&k);
		int first = kind != K_OTHER && c->at[kind] < 0;
		if (first)
			c->at[kind] = i;
		if (first && kind == K_SCHEMA) {
			if (*v != '{' || scan_schema(c, r))
				return -1;
		} else if (first && kind == K_METADATA) {
			if (*v != '[' || scan_metadata(c, r))
				return -1;
		} else if (first && (kind == K_TAP_STREAM_ID || kind == K_STREAM) && *v == '"') {
			int w = kind == K_STREAM;
			if (scan_string(r, &c->id_str[w]) || !(c->id_z[w] = a_decode(c, &c->id_str[w], NULL)))
				return -1;
		} else if (skip_value(r)) {
			return -1;
		}
		c->smems.v[i] = (struct mem){ k, v, (size_t)(r->p - v) };
		e = next_c(r, '}');
	}
	return e < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------- the rules */

static uint64_t name_hash(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h;
}

/* The slot of name p/n in the index: the first entry with that name, or the empty slot for it. */
static long *slot_of(struct ctx *c, const char *p, size_t n)
{
	size_t mask = c->nslots - 1;
	for (size_t h = name_hash(p, n) & mask;; h = (h + 1) & mask) {
		long *s = &c->slots[h];
		if (!*s)
			return s;
		const struct name *nm = &c->entries.v[*s - 1].nm;
		if (nm->n == n && !memcmp(nm->p, p, n))
			return s;
	}
}

/* Index the stream's entries by property name (first one wins, the others chained to it). */
static int index_entries(struct ctx *c)
{
	size_t want = 16, most = c->entries.n + c->props.n + 1; /* the rules add at most one entry per property */
	while (want < 2 * most + 2)
		want *= 2;
	if (want > c->nslots) {
		free(c->slots);
		if (!(c->slots = malloc(want * sizeof *c->slots))) {
			c->nslots = 0;
			return c->oom = 1, -1;
		}
		c->nslots = want;
	}
	memset(c->slots, 0, c->nslots * sizeof *c->slots);
	for (size_t i = 0; i < c->entries.n; i++) {
		struct entry *en = &c->entries.v[i];
		if (en->bc == 0 && c->e0 < 0)
			c->e0 = (long)i;
		if (en->bc != 2 || !en->nm.p)
			continue;
		long *s = slot_of(c, en->nm.p, en->nm.n);
		if (!*s) {
			*s = (long)i + 1;
			continue;
		}
		long j = *s - 1; /* a duplicate: chained at the end */
		while (c->entries.v[j].same >= 0)
			j = c->entries.v[j].same;
		c->entries.v[j].same = (long)i;
	}
	return 0;
}

/* A new entry made by the rules, with "inclusion": "automatic" as entry() makes it. */
static long new_entry(struct ctx *c, int created, long prop)
{
	long ei = PUSH(c->entries), oi = ei < 0 ? -1 : PUSH(c->ovrs);
	if (oi < 0)
		return c->oom = 1, -1;
	struct entry *en = &c->entries.v[ei];
	*en = (struct entry){ .created = (unsigned char)created, .prop = (int32_t)prop, .md = -1, .md_obj = 1, .touched = 1, .same = -1,
		              .o_head = oi, .o_tail = oi };
	if (prop >= 0) {
		en->bc = 2;
		en->nm = c->props.v[prop].nm;
	}
	c->ovrs.v[oi] = (struct ovr){ "inclusion", O_AUTOMATIC, NULL, -1, -1 };
	return ei;
}

/* The entry of the stream (prop -1) or of property prop, made when missing and create is set; -1 when none. */
static long entry_of(struct ctx *c, long prop, int create)
{
	if (prop < 0) {
		if (c->e0 < 0 && create)
			c->e0 = new_entry(c, 2, -1);
		return c->e0;
	}
	struct prop *p = &c->props.v[prop];
	if (p->entry >= 0)
		return p->entry;
	long *s = slot_of(c, p->nm.p, p->nm.n);
	if (*s)
		return p->entry = *s - 1;
	if (!create)
		return -1;
	long ei = new_entry(c, 1, prop);
	if (ei >= 0)
		*slot_of(c, c->props.v[prop].nm.p, c->props.v[prop].nm.n) = ei + 1;
	return c->props.v[prop].entry = ei;
}

/* Whether original member d of an entry's metadata has the key key. */
static int dmem_is(const struct dmem *d, const char *key)
{
	return str_is(&d->m.key, key, strlen(key));
}

/* Set key in entry e's metadata object (made an object), in place of its first member of that name or appended. */
static void set_key(struct ctx *c, long e, const char *key, int kind, const cJSON *json)
{
	if (e < 0 || !key)
		return;
	struct entry *en = &c->entries.v[e];
	en->touched = 1;
	for (long o = en->o_head; o >= 0; o = c->ovrs.v[o].next) {
		if (!strcmp(c->ovrs.v[o].key, key)) {
			c->ovrs.v[o].kind = kind;
			c->ovrs.v[o].json = json;
			return;
		}
	}
	long d = -1;
	for (size_t i = en->d0; en->md_obj && i < en->d1 && d < 0; i++)
		if (dmem_is(&c->dmems.v[i], key))
			d = (long)i;
	long o = PUSH(c->ovrs);
	if (o < 0) {
		c->oom = 1;
		return;
	}
	c->ovrs.v[o] = (struct ovr){ key, kind, json, d, -1 };
	if (d >= 0) {
		c->dmems.v[d].ovr = o;
		en->replaced = 1;
	}
	if (en->o_tail >= 0)
		c->ovrs.v[en->o_tail].next = o;
	else
		en->o_head = o;
	en->o_tail = o;
}

static unsigned char ovr_incl(const struct ovr *o)
{
	if (o->kind == O_AUTOMATIC)
		return I_AUTOMATIC;
	if (o->kind != O_JSON || !cJSON_IsString(o->json))
		return I_NONE;
	return !strcmp(o->json->valuestring, "automatic")     ? I_AUTOMATIC
	       : !strcmp(o->json->valuestring, "unsupported") ? I_UNSUPPORTED
	                                                      : I_OTHER;
}

static unsigned char ovr_sel(const struct ovr *o)
{
	if (o->kind == O_TRUE || (o->kind == O_JSON && cJSON_IsTrue(o->json)))
		return S_TRUE;
	if (o->kind == O_FALSE || (o->kind == O_JSON && cJSON_IsFalse(o->json)))
		return S_FALSE;
	return S_OTHER;
}

/* The "inclusion" (I_*) of entry e as the rules left it (the first member of that name). */
static unsigned char incl_of(struct ctx *c, long e)
{
	const struct entry *en = &c->entries.v[e];
	for (long o = en->o_head; o >= 0; o = c->ovrs.v[o].next)
		if (!strcmp(c->ovrs.v[o].key, "inclusion"))
			return ovr_incl(&c->ovrs.v[o]);
	for (size_t i = en->d0; en->md_obj && i < en->d1; i++)
		if (c->dmems.v[i].is_incl)
			return c->dmems.v[i].incl;
	return I_NONE;
}

/* The "selected" (S_*) of entry e as the rules left it. */
static unsigned char sel_of(struct ctx *c, long e)
{
	const struct entry *en = &c->entries.v[e];
	for (long o = en->o_head; o >= 0; o = c->ovrs.v[o].next)
		if (!strcmp(c->ovrs.v[o].key, "selected"))
			return ovr_sel(&c->ovrs.v[o]);
	for (size_t i = en->d0; en->md_obj && i < en->d1; i++)
		if (c->dmems.v[i].kind == K_SELECTED)
			return c->dmems.v[i].sel;
	return S_NONE;
}

static void set_selected(struct ctx *c, long e, int on)
{
	if (e < 0 || (on && incl_of(c, e) == I_UNSUPPORTED))
		return; /* never select what the tap cannot emit */
	set_key(c, e, selected_key, on ? O_TRUE : O_FALSE, NULL);
}

/* Set property name of the schema to a schema rule's value (in place, or appended). */
static void set_prop(struct ctx *c, const cJSON *kv)
{
	size_t n = strlen(kv->string);
	for (size_t i = 0; i < c->props.n; i++) {
		if (c->props.v[i].nm.n == n && !memcmp(c->props.v[i].nm.p, kv->string, n)) {
			c->props.v[i].ovr = kv;
			return;
		}
	}
	long i = PUSH(c->props);
	if (i < 0) {
		c->oom = 1;
		return;
	}
	c->props.v[i] = (struct prop){ .nm = { kv->string, n }, .ovr = kv, .entry = -1 };
}

/* The legacy copy of a stream-level key to the stream object (k: 0 selected, 1 replication_method, 2 replication_key). */
static void set_legacy(struct ctx *c, int k, long dmem, long ovr)
{
	if (!c->legacy[k].set)
		c->legacy[k].order = c->nlegacy++;
	c->legacy[k].set = 1;
	c->legacy[k].dmem = dmem;
	c->legacy[k].ovr = ovr;
}

static int legacy_of_key(const char *key)
{
	return !strcmp(key, "selected") ? 0 : !strcmp(key, "replication-method") ? 1 : !strcmp(key, "replication-key") ? 2 : -1;
}

/* catalog_apply_rules() on the stream read. */
static void apply(struct ctx *c)
{
	const cJSON *rule, *kv, *pk;
	cJSON_ArrayForEach(rule, c->schema)
	{
		if (!cJSON_IsObject(rule) || !rule->string || fnmatch(rule->string, c->id, 0) != 0)
			continue;
		c->schema_changed = 1;
		cJSON_ArrayForEach(kv, rule)
			if (kv->string)
				set_prop(c, kv);
	}
	if (c->oom || index_entries(c))
		return;
	/* every stream and top-level property gets an entry, then everything is deselected (!*.*) */
	set_selected(c, entry_of(c, -1, 1), 0);
	for (size_t i = 0; i < c->props.n; i++)
		set_selected(c, entry_of(c, (long)i, 1), 0);
	for (size_t k = 0; k < c->npats; k++) {
		const struct pat *pt = &c->pats[k];
		if (fnmatch(pt->sglob, c->id, 0) != 0)
			continue;
		if (!pt->exclude)
			set_selected(c, c->e0, 1);
		else if (!pt->prop || !strcmp(pt->prop, "*"))
			set_selected(c, c->e0, 0);
		for (size_t i = 0; i < c->props.n; i++)
			if (fnmatch(pt->pglob, c->props.v[i].nm.p, 0) == 0)
				set_selected(c, entry_of(c, (long)i, 1), !pt->exclude);
	}
	cJSON_ArrayForEach(rule, c->metadata)
	{
		if (!cJSON_IsObject(rule) || !rule->string || fnmatch(rule->string, c->id, 0) != 0)
			continue;
		cJSON_ArrayForEach(kv, rule)
		{
			if (!cJSON_IsObject(kv)) {
				set_key(c, c->e0, kv->string, O_JSON, kv);
				continue;
			}
			for (size_t i = 0; i < c->props.n; i++) {
				if (fnmatch(kv->string, c->props.v[i].nm.p, 0) != 0)
					continue;
				long e = entry_of(c, (long)i, 1);
				cJSON_ArrayForEach(pk, kv)
					set_key(c, e, pk->string, O_JSON, pk);
			}
		}
	}
	if (c->filter) {
		int keep = !c->filter_include;
		const cJSON *f;
		cJSON_ArrayForEach(f, c->filter)
		{
			if (!cJSON_IsString(f))
				continue;
			int neg = f->valuestring[0] == '!';
			if (fnmatch(f->valuestring + neg, c->id, 0) == 0)
				keep = !neg;
		}
		if (!keep)
			set_selected(c, c->e0, 0);
	}
	/* legacy catalogs read stream-level rules from the stream object, with '_' for '-' */
	if (c->e0 < 0 || c->oom)
		return;
	const struct entry *en = &c->entries.v[c->e0];
	for (size_t i = en->d0; en->md_obj && i < en->d1; i++) {
		const struct dmem *d = &c->dmems.v[i];
		if (d->kind != K_OTHER)
			set_legacy(c, d->kind == K_SELECTED ? 0 : d->kind == K_RMETHOD ? 1 : 2, d->ovr < 0 ? (long)i : -1, d->ovr);
	}
	for (long o = en->o_head; o >= 0; o = c->ovrs.v[o].next) {
		int k = c->ovrs.v[o].dmem < 0 ? legacy_of_key(c->ovrs.v[o].key) : -1;
		if (k >= 0)
			set_legacy(c, k, -1, o);
	}
}

/* ---------------------------------------------------------------- writing */

/* A rule's value as cJSON_PrintUnformatted() prints it (printed once). */
static void put_json(struct ctx *c, struct buf *b, const cJSON *j)
{
	size_t i;
	for (i = 0; i < c->nprinted && c->printed[i].j != j; i++)
		;
	if (i == c->nprinted) {
		if (c->nprinted == c->capprinted) {
			size_t cap = c->capprinted ? 2 * c->capprinted : 16;
			void *p = realloc(c->printed, cap * sizeof *c->printed);
			if (!p) {
				c->oom = 1;
				return;
			}
			c->printed = p;
			c->capprinted = cap;
		}
		char *text = cJSON_PrintUnformatted(j);
		if (!text) {
			c->oom = 1;
			return;
		}
		c->printed[c->nprinted].j = j;
		c->printed[c->nprinted++].text = text;
	}
	put(b, c->printed[i].text, strlen(c->printed[i].text));
}

static void put_ovr(struct ctx *c, struct buf *b, const struct ovr *o)
{
	switch (o->kind) {
	case O_TRUE: PUTS(b, "true"); break;
	case O_FALSE: PUTS(b, "false"); break;
	case O_AUTOMATIC: PUTS(b, "\"automatic\""); break;
	default: put_json(c, b, o->json); break;
	}
}

/* What a rule set as a member: its key, ':' and its value. */
static void put_member(struct ctx *c, struct buf *b, const struct ovr *o)
{
	if (o->key == selected_key && o->kind == O_TRUE) {
		PUTS(b, "\"selected\":true");
	} else if (o->key == selected_key && o->kind == O_FALSE) {
		PUTS(b, "\"selected\":false");
	} else {
		put_escaped(b, o->key);
		putc_(b, ':');
		put_ovr(c, b, o);
	}
}

/* The metadata object of touched entry en. */
static void put_entry_md(struct ctx *c, struct buf *b, const struct entry *en)
{
	int n = 0;
	putc_(b, '{');
	for (size_t i = en->d0; en->md_obj && i < en->d1; i++, n++) {
		const struct dmem *d = &c->dmems.v[i];
		if (n)
			putc_(b, ',');
		put_key(b, &d->m.key);
		if (d->ovr >= 0)
			put_ovr(c, b, &c->ovrs.v[d->ovr]);
		else
			put(b, d->m.v, d->m.vn);
	}
	for (long o = en->o_head; o >= 0; o = c->ovrs.v[o].next) {
		if (c->ovrs.v[o].dmem >= 0)
			continue;
		if (n++)
			putc_(b, ',');
		put_member(c, b, &c->ovrs.v[o]);
	}
	putc_(b, '}');
}

/* A property's name as a JSON string. */
static void put_prop_name(struct buf *b, const struct prop *p)
{
	if (p->key.p)
		put_str(b, &p->key, p->nm.p);
	else
		put_escaped(b, p->nm.p);
}

static void put_entry(struct ctx *c, struct buf *b, const struct entry *en)
{
	if (!en->touched) {
		put(b, en->text, en->tn);
		return;
	}
	if (en->created) {
		PUTS(b, "{\"breadcrumb\":[");
		if (en->created == 1) {
			PUTS(b, "\"properties\",");
			put_prop_name(b, &c->props.v[en->prop]);
		}
		PUTS(b, "],\"metadata\":");
		put_entry_md(c, b, en);
		putc_(b, '}');
		return;
	}
	if (en->md_obj && !en->replaced) {
		/* only keys appended to its metadata object: the entry as written, with them before that object's '}' */
		put(b, en->text, (size_t)(en->md_end - en->text));
		for (long o = en->o_head; o >= 0; o = c->ovrs.v[o].next) {
			if (o != en->o_head || en->d1 > en->d0)
				putc_(b, ',');
			put_member(c, b, &c->ovrs.v[o]);
		}
		put(b, en->md_end, (size_t)(en->text + en->tn - en->md_end));
		return;
	}
	putc_(b, '{');
	for (size_t i = en->m0; i < en->m1; i++) {
		const struct mem *m = &c->emems.v[i];
		if (i > en->m0)
			putc_(b, ',');
		put_key(b, &m->key);
		if ((long)i == en->md)
			put_entry_md(c, b, en);
		else
			put(b, m->v, m->vn);
	}
	if (en->md < 0) {
		if (en->m1 > en->m0)
			putc_(b, ',');
		PUTS(b, "\"metadata\":");
		put_entry_md(c, b, en);
	}
	putc_(b, '}');
}

static void put_metadata(struct ctx *c, struct buf *b)
{
	putc_(b, '[');
	for (size_t i = 0; i < c->entries.n; i++) {
		if (i)
			putc_(b, ',');
		put_entry(c, b, &c->entries.v[i]);
	}
	putc_(b, ']');
}

static void put_props(struct ctx *c, struct buf *b)
{
	putc_(b, '{');
	for (size_t i = 0; i < c->props.n; i++) {
		const struct prop *p = &c->props.v[i];
		if (i)
			putc_(b, ',');
		put_prop_name(b, p);
		putc_(b, ':');
		if (p->ovr)
			put_json(c, b, p->ovr);
		else
			put(b, p->v, p->vn);
	}
	putc_(b, '}');
}

/* The schema object, its properties changed by a rule. */
static void put_schema(struct ctx *c, struct buf *b)
{
	putc_(b, '{');
	for (size_t i = 0; i < c->schmems.n; i++) {
		if (i)
			putc_(b, ',');
		put_key(b, &c->schmems.v[i].key);
		if ((long)i == c->schema_props)
			put_props(c, b);
		else
			put(b, c->schmems.v[i].v, c->schmems.v[i].vn);
	}
	if (c->schema_props < 0) {
		if (c->schmems.n)
			putc_(b, ',');
		PUTS(b, "\"properties\":");
		put_props(c, b);
	}
	putc_(b, '}');
}

static const char *const legacy_keys[3] = { "selected", "replication_method", "replication_key" };
static const enum key_kind legacy_kinds[3] = { K_SELECTED, K_RMETHOD, K_RKEY };

static void put_legacy(struct ctx *c, struct buf *b, int k)
{
	if (c->legacy[k].ovr >= 0)
		put_ovr(c, b, &c->ovrs.v[c->legacy[k].ovr]);
	else
		put(b, c->dmems.v[c->legacy[k].dmem].m.v, c->dmems.v[c->legacy[k].dmem].m.vn);
}

/* The stream with the rules applied. */
static void put_stream(struct ctx *c, struct buf *b)
{
	size_t n = c->smems.n;
	putc_(b, '{');
	for (size_t i = 0; i < n; i++) {
		const struct mem *m = &c->smems.v[i];
		int k;
		if (i)
			putc_(b, ',');
		put_key(b, &m->key);
		for (k = 0; k < 3 && !(c->legacy[k].set && c->at[legacy_kinds[k]] == (long)i); k++)
			;
		if ((long)i == c->at[K_SCHEMA] && c->schema_changed)
			put_schema(c, b);
		else if ((long)i == c->at[K_METADATA])
			put_metadata(c, b);
		else if (k < 3)
			put_legacy(c, b, k);
		else
			put(b, m->v, m->vn);
	}
	/* what the rules added, in the order they added it */
	if (c->at[K_SCHEMA] < 0 && c->schema_changed) {
		if (n++)
			putc_(b, ',');
		PUTS(b, "\"schema\":");
		put_schema(c, b);
	}
	if (c->at[K_METADATA] < 0) {
		if (n++)
			putc_(b, ',');
		PUTS(b, "\"metadata\":");
		put_metadata(c, b);
	}
	for (int ord = 0; ord < c->nlegacy; ord++) {
		for (int k = 0; k < 3; k++) {
			if (!c->legacy[k].set || c->legacy[k].order != ord || c->at[legacy_kinds[k]] >= 0)
				continue;
			if (n++)
				putc_(b, ',');
			putc_(b, '"');
			put(b, legacy_keys[k], strlen(legacy_keys[k]));
			PUTS(b, "\":");
			put_legacy(c, b, k);
		}
	}
	putc_(b, '}');
}

/* entry_selection() of catalog.c: "automatic", "unsupported", "selected" or "excluded"; e -1: "selected". */
static const char *selection(struct ctx *c, long e)
{
	if (e < 0)
		return "selected";
	unsigned char inc = incl_of(c, e);
	if (inc == I_AUTOMATIC)
		return "automatic";
	if (inc == I_UNSUPPORTED)
		return "unsupported";
	return sel_of(c, e) == S_TRUE ? "selected" : "excluded";
}

/* The stream's part of catalog_selection_report(). */
static void put_report(struct ctx *c, struct buf *b)
{
	const char *sel;
	PUTS(b, "{\"stream\":");
	if (c->id_z[0])
		put_str(b, &c->id_str[0], c->id_z[0]);
	else
		PUTS(b, "\"\"");
	PUTS(b, ",\"selection\":\"");
	sel = selection(c, c->e0);
	put(b, sel, strlen(sel));
	PUTS(b, "\",\"properties\":[");
	for (size_t i = 0; i < c->props.n; i++) {
		const struct prop *p = &c->props.v[i];
		if (i)
			putc_(b, ',');
		PUTS(b, "{\"name\":");
		put_prop_name(b, p);
		PUTS(b, ",\"selection\":\"");
		sel = selection(c, entry_of(c, (long)i, 0));
		put(b, sel, strlen(sel));
		PUTS(b, "\"}");
	}
	PUTS(b, "]}");
}

/* Whether entry e leaves its property out (entry_deselects() of catalog.c). */
static int deselects(struct ctx *c, long e)
{
	unsigned char inc = incl_of(c, e);
	return inc == I_UNSUPPORTED || (sel_of(c, e) == S_FALSE && inc != I_AUTOMATIC);
}

/* snprintf(type + used, size - used, "%s%s", sep, z), which catalog_field_type() does, without its cost. */
static void append_cut(char *type, size_t size, size_t used, const char *sep, const char *z)
{
	char *o = type + used, *last = type + size - 1;
	for (const char *p = sep; *p && o < last; p++)
		*o++ = *p;
	for (const char *p = z; *p && o < last; p++)
		*o++ = *p;
	*o = '\0';
}

/* catalog_field_type() of an original property schema, from its bytes. */
static void text_field_type(struct ctx *c, const struct prop *p, char *type, size_t size)
{
	struct reader r = { p->v, c->end, 0 };
	struct str k, fmt = { 0 }, t = { 0 };
	const char *tv = NULL;
	int has_fmt = 0, has_t = 0, e;
	type[0] = '\0';
	if (*r.p != '{')
		return; /* no object: no member to find */
	for (e = open_c(&r, '}'); e == 0; e = next_c(&r, '}')) {
		scan_key(&r, &k); /* the text was checked: no failure here */
		const char *v = r.p;
		if (!has_fmt && STR_IS(&k, "format")) {
			has_fmt = 1;
			if (*v == '"')
				scan_string(&r, &fmt);
			else
				skip_value(&r);
		} else if (!has_t && STR_IS(&k, "type")) {
			has_t = 1;
			tv = v;
			if (*v == '"')
				scan_string(&r, &t);
			else
				skip_value(&r);
		} else {
			skip_value(&r);
		}
	}
	const char *z;
	if (fmt.p || t.p) {
		if ((z = a_decode(c, fmt.p ? &fmt : &t, NULL)))
			append_cut(type, size, 0, "", z);
		return;
	}
	if (!tv || (*tv != '[' && *tv != '{'))
		return;
	/* each string item (or member) other than "null", joined by '|' */
	char close = *tv == '[' ? ']' : '}';
	r.p = tv;
	for (e = open_c(&r, close); e == 0; e = next_c(&r, close)) {
		struct str s;
		if (close == '}')
			scan_key(&r, &k);
		if (*r.p != '"') {
			skip_value(&r);
			continue;
		}
		scan_string(&r, &s);
		if (!(z = a_decode(c, &s, NULL)) || !strcmp(z, "null"))
			continue;
		size_t used = strlen(type);
		append_cut(type, size, used, used ? "|" : "", z);
	}
}

/* The stream's part of catalog_datasets(). */
static void add_dataset(struct ctx *c)
{
	const char *name = c->id_z[0] ? c->id_z[0] : c->id_z[1];
	if (!name)
		return;
	if (c->e0 >= 0) {
		const struct entry *en = &c->entries.v[c->e0];
		int obj = en->touched || en->md_obj;
		if (obj && !(sel_of(c, c->e0) == S_TRUE || incl_of(c, c->e0) == I_AUTOMATIC))
			return; /* not selected */
	}
	cJSON *ds = cJSON_CreateObject(), *fields = NULL;
	if (!ds || !cJSON_AddItemToArray(c->datasets, ds)) {
		cJSON_Delete(ds);
		c->oom = 1;
		return;
	}
	if (!(fields = cJSON_AddArrayToObject(ds, "fields")) || !cJSON_AddStringToObject(ds, "stream", name)) {
		c->oom = 1;
		return;
	}
	for (size_t i = 0; i < c->props.n && !c->oom; i++) {
		const struct prop *p = &c->props.v[i];
		long e = entry_of(c, (long)i, 0);
		for (; e >= 0 && !deselects(c, e); e = c->entries.v[e].same)
			;
		if (e >= 0)
			continue; /* some entry of its name leaves it out */
		char type[TYPE_SIZE];
		if (p->ovr)
			catalog_field_type(p->ovr, type, sizeof type);
		else
			text_field_type(c, p, type, sizeof type);
		/* the keys are constants (cJSON's "CS" calls): no copy of them per field */
		cJSON *f = cJSON_CreateObject(), *v;
		if (!f || !cJSON_AddItemToArray(fields, f)) {
			cJSON_Delete(f);
			c->oom = 1;
		} else if (!(v = cJSON_CreateString(p->nm.p)) || !cJSON_AddItemToObjectCS(f, "name", v)) {
			cJSON_Delete(v);
			c->oom = 1;
		} else if (type[0] && (!(v = cJSON_CreateString(type)) || !cJSON_AddItemToObjectCS(f, "type", v))) {
			cJSON_Delete(v);
			c->oom = 1;
		}
	}
}

/*
 * Read more of the input: the kept bytes [koff, koff + kept) of the window
 * moved to its start (grown when they fill more than half of it), then as
 * much as fits read after them; r->p (off bytes into them) moves with them.
 * 0, or -1.  refill(): keep from the pointer keep to the window's end.
 */
/* noinline: inlined into refill(), GCC 12 takes the offsets for uses of the old window (-Wuse-after-free) */
__attribute__((noinline)) static int refill_at(struct ctx *c, struct reader *r, size_t koff, size_t kept, size_t off)
{
	struct input *in = &c->in;
	char *buf = in->buf;
	if (2 * kept > in->cap) {
		size_t cap = 2 * in->cap;
		if (!(buf = realloc(buf, cap)))
			return c->oom = 1, -1;
		in->buf = buf;
		in->cap = cap;
	}
	memmove(buf, buf + koff, kept);
	size_t got = kept;
	while (!in->eof && got + 1 < in->cap) {
		ssize_t n = read(in->fd, buf + got, in->cap - got - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			in->err = errno;
			return -1;
		}
		in->eof = n == 0;
		got += (size_t)n;
	}
	buf[got] = '\0';
	r->end = c->end = buf + got;
	r->p = buf + off;
	return 0;
}

static int refill(struct ctx *c, struct reader *r, const char *keep)
{
	return refill_at(c, r, (size_t)(keep - c->in.buf), (size_t)(r->end - keep), (size_t)(r->p - keep));
}

/* After a step from start failed: 1 when more was read (r back at start, wherever it is now), else 0. */
static int again(struct ctx *c, struct reader *r, const char *start, int depth)
{
	if (c->oom || c->in.fd < 0 || c->in.eof)
		return 0;
	r->p = start;
	r->depth = depth;
	return refill(c, r, start) == 0;
}

/* Before a step at r->p: read ahead when the window holds less than LOOKAHEAD bytes and there is more. */
static int ahead(struct ctx *c, struct reader *r)
{
	if (c->in.fd < 0 || c->in.eof || (size_t)(r->end - r->p) >= LOOKAHEAD)
		return 0;
	return refill(c, r, r->p);
}

/* Read, apply the rules to and write the stream at r->p. */
static int do_stream(struct ctx *c, struct reader *r)
{
	c->smems.n = c->schmems.n = c->emems.n = c->dmems.n = c->props.n = c->entries.n = c->ovrs.n = 0;
	for (int k = 0; k < K_N; k++)
		c->at[k] = -1;
	memset(c->legacy, 0, sizeof c->legacy);
	memset(c->id_z, 0, sizeof c->id_z);
	c->nlegacy = 0;
	c->schema_props = -1;
	c->schema_changed = 0;
	c->e0 = -1;
	a_reset(c);
	ws(r); /* the window may have ended in the spaces before it */
	const char *start = r->p;
	int depth = r->depth;
	while (ws(r), scan_stream(c, r)) { /* the window ended inside it: read more and read it again */
		if (!again(c, r, start, depth))
			return -1;
		start = r->p;
		c->smems.n = c->schmems.n = c->emems.n = c->dmems.n = c->props.n = c->entries.n = c->ovrs.n = 0;
		for (int k = 0; k < K_N; k++)
			c->at[k] = -1;
		memset(c->id_z, 0, sizeof c->id_z);
		c->schema_props = -1;
		a_reset(c);
	}
	c->id = c->id_z[0] ? c->id_z[0] : c->id_z[1] ? c->id_z[1] : "";
	apply(c);
	if (c->oom)
		return -1;
	if (c->out) {
		if (c->nstreams)
			putc_(c->out, ',');
		put_stream(c, c->out);
	}
	if (c->list) {
		if (c->nstreams)
			putc_(c->list, ',');
		put_report(c, c->list);
	}
	if (c->datasets)
		add_dataset(c);
	c->nstreams++;
	return c->oom ? -1 : 0;
}

/* The catalog's top-level object at r->p. */
/* next_c() at r, reading more of the input while the window ends first. */
static int next_more(struct ctx *c, struct reader *r, char close)
{
	const char *start = r->p;
	int depth = r->depth, e;
	while ((e = next_c(r, close)) < 0 && again(c, r, start, depth))
		start = r->p;
	return e;
}

/* The catalog's top-level object at r->p: each member read whole (again after reading more) before it is written. */
static int do_catalog(struct ctx *c, struct reader *r)
{
	int e, streams = 0;
	while (ws(r), !*r->p && again(c, r, r->p, r->depth))
		;
	if (*r->p != '{')
		return -1;
	if (c->out)
		putc_(c->out, '{');
	e = open_c(r, '}');
	for (int n = 0; e == 0; n++) {
		struct str k;
		const char *start, *v;
		int depth = r->depth, is_streams = 0;
		if (ahead(c, r))
			return -1;
		start = r->p;
		int s = 0;
		for (;;) {
			v = NULL;
			ws(r); /* the window may have ended in the spaces before it */
			if (!scan_key(r, &k)) {
				v = r->p;
				is_streams = !streams && STR_IS(&k, "streams");
				if (is_streams ? *v == '[' && (s = open_c(r, ']')) >= 0 : !skip_value(r))
					break;
				if (is_streams && *v && *v != '[') /* not a catalog: cJSON's path says so */
					return -1;
			}
			if (!again(c, r, start, depth))
				return -1;
			start = r->p;
		}
		if (c->out) {
			if (n)
				putc_(c->out, ',');
			put_key(c->out, &k);
		}
		if (is_streams) {
			streams = 1;
			if (c->out)
				putc_(c->out, '[');
			while (s == 0) {
				if (ahead(c, r) || do_stream(c, r))
					return -1;
				s = next_more(c, r, ']');
			}
			if (s < 0)
				return -1;
			if (c->out)
				putc_(c->out, ']');
		} else if (c->out) {
			put(c->out, v, (size_t)(r->p - v));
		}
		e = next_more(c, r, '}');
	}
	if (e < 0 || !streams)
		return -1;
	if (c->out)
		putc_(c->out, '}');
	while (ws(r), !*r->p && again(c, r, r->p, r->depth))
		;
	return 0;
}

/* The select patterns: the includes in order, then the excludes. */
static int split_patterns(struct ctx *c, const cJSON *select)
{
	static const char *const all[] = { "*.*" };
	const char *const *list = all;
	size_t n = 1;
	const char **strs = NULL;
	if (cJSON_IsArray(select)) {
		const cJSON *p;
		n = 0;
		if (!(strs = calloc((size_t)cJSON_GetArraySize(select) + 1, sizeof *strs)))
			return -1;
		for (int pass = 0; pass < 2; pass++)
			cJSON_ArrayForEach(p, select)
				if (cJSON_IsString(p) && (p->valuestring[0] == '!') == pass)
					strs[n++] = p->valuestring;
		list = strs;
	}
	if (n && !(c->pats = calloc(n, sizeof *c->pats))) {
		free(strs);
		return -1;
	}
	for (size_t i = 0; i < n; i++, c->npats++) {
		struct pat *pt = &c->pats[i];
		pt->exclude = list[i][0] == '!';
		pt->sglob = catalog_pattern_split(list[i] + pt->exclude, &pt->prop);
		pt->pglob = catalog_pattern_prop(pt->prop ? pt->prop : "*");
		if (!pt->sglob || !pt->pglob) {
			c->npats++;
			free(strs);
			return -1;
		}
	}
	free(strs);
	return 0;
}

/* catalog_text_prepare() and catalog_text_read(): the input in memory (raw, len), or read from fd in. */
static int prepare(const char *raw, size_t len, int in, const cJSON *select, const cJSON *metadata,
                   const cJSON *schema, const cJSON *select_filter, int fd, char **text, size_t *text_len,
                   cJSON **datasets, char **listing)
{
	struct ctx c = { .in = { .fd = in } };
	struct buf out = { .fd = -1 }, list = { .fd = -1 };
	struct reader r = { raw, raw + len, 0 };
	int rc = 0;
	if (text)
		*text = NULL;
	if (text_len)
		*text_len = 0;
	if (datasets)
		*datasets = NULL;
	if (listing)
		*listing = NULL;
	c.end = raw + len;
	if (in >= 0) { /* an empty window, then its first read */
		if (!(c.in.buf = malloc(c.in.cap = WINDOW)))
			c.oom = 1;
		else
			c.in.buf[0] = '\0';
		r.p = r.end = c.end = c.in.buf;
		if (c.in.buf && refill(&c, &r, r.p))
			c.oom |= !c.in.err;
	}
	c.metadata = cJSON_IsObject(metadata) ? metadata : NULL;
	c.schema = cJSON_IsObject(schema) ? schema : NULL;
	c.filter = cJSON_IsArray(select_filter) ? select_filter : NULL;
	const cJSON *f;
	cJSON_ArrayForEach(f, c.filter)
		c.filter_include |= cJSON_IsString(f) && f->valuestring[0] != '!';
	if (fd >= 0 && !text) {
		out.fd = fd;
		if (!(out.p = malloc(out.cap = BUF_SINK)))
			c.oom = 1;
	}
	c.out = text || out.fd >= 0 ? &out : NULL;
	c.list = listing ? &list : NULL;
	if (split_patterns(&c, select) || (datasets && !(c.datasets = cJSON_CreateArray())))
		c.oom = 1;
	if (c.list && !c.oom)
		PUTS(c.list, "{\"streams\":[");
	if (!c.oom && !c.in.err)
		rc = do_catalog(&c, &r) || r.p != r.end || (in >= 0 && !c.in.eof) ? CATALOG_TEXT_UNHANDLED : 0;
	if (c.in.err) { /* the file could not be read: the caller reads it to say so */
		rc = CATALOG_TEXT_UNHANDLED;
		c.oom = 0;
	}
	if (c.list && !rc && !c.oom) {
		char *pats = select ? cJSON_PrintUnformatted(select) : NULL;
		PUTS(c.list, "],\"enabled_patterns\":");
		if (pats)
			put(c.list, pats, strlen(pats));
		else if (select)
			c.oom = 1;
		else
			PUTS(c.list, "[\"*.*\"]");
		putc_(c.list, '}');
		free(pats);
	}
	if (!rc && ((c.out && buf_finish(&out)) || (c.list && buf_finish(&list))))
		rc = out.werr ? CATALOG_TEXT_EWRITE : -1;
	if (c.oom || out.oom || list.oom)
		rc = -1;
	if (rc == CATALOG_TEXT_EWRITE)
		errno = out.werr;
	if (!rc) {
		if (text) {
			*text = out.p;
			out.p = NULL;
			if (text_len)
				*text_len = out.n;
		}
		if (listing) {
			*listing = list.p;
			list.p = NULL;
		}
		if (datasets) {
			*datasets = c.datasets;
			c.datasets = NULL;
		}
	}
	free(out.p);
	free(list.p);
	cJSON_Delete(c.datasets);
	for (size_t i = 0; i < c.npats; i++) {
		free(c.pats[i].sglob);
		free(c.pats[i].pglob);
	}
	free(c.pats);
	for (size_t i = 0; i < c.nprinted; i++)
		free(c.printed[i].text);
	free(c.printed);
	while (c.arena) {
		struct blk *next = c.arena->next;
		free(c.arena);
		c.arena = next;
	}
	free(c.smems.v);
	free(c.schmems.v);
	free(c.emems.v);
	free(c.dmems.v);
	free(c.props.v);
	free(c.entries.v);
	free(c.ovrs.v);
	free(c.slots);
	free(c.in.buf);
	if (rc == CATALOG_TEXT_EWRITE)
		errno = out.werr;
	return rc;
}

int catalog_text_prepare(const char *raw, size_t len, const cJSON *select, const cJSON *metadata,
                         const cJSON *schema, const cJSON *select_filter, int fd, char **text, size_t *text_len,
                         cJSON **datasets, char **listing)
{
	return prepare(raw, len, -1, select, metadata, schema, select_filter, fd, text, text_len, datasets, listing);
}

int catalog_text_read(int in, const cJSON *select, const cJSON *metadata, const cJSON *schema,
                      const cJSON *select_filter, int fd, char **text, size_t *text_len, cJSON **datasets,
                      char **listing)
{
	return prepare(NULL, 0, in, select, metadata, schema, select_filter, fd, text, text_len, datasets, listing);
}
