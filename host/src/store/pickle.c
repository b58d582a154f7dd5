/* pickle: see pickle.h.  Opcodes follow CPython's Lib/pickletools.py documentation. */
#include "store/pickle.h"
#include "util/json.h"
#include "util/log.h"

#include <smelt/sdk.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PICKLE_MAX_STACK 256
#define PICKLE_MAX_MEMO 4096
#define PICKLE_MAX_COPIED 100000 /* values copied by memo references, in all: no "billion laughs" */

struct reader {
	const unsigned char *p;
	size_t len, pos;
	cJSON *stack[PICKLE_MAX_STACK];
	int marks[PICKLE_MAX_STACK]; /* stack heights at each MARK */
	int depth, nmarks;
	const cJSON *memo[PICKLE_MAX_MEMO]; /* borrowed: each lives in the stack or in a value below it */
	size_t nmemo;
	size_t copied; /* values copied by BINGET so far */
	cJSON *dead; /* dict keys and replaced values, kept until the end as the memo may point at them */
	char *err;
	size_t errlen;
};

static int need(struct reader *r, size_t n)
{
	if (r->len - r->pos < n)
		return fail(r->err, r->errlen, SMELT_ERR, "truncated pickle (byte %zu of %zu)", r->pos, r->len);
	return SMELT_OK;
}

static uint64_t read_le(struct reader *r, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)r->p[r->pos + i] << (8 * i);
	r->pos += n;
	return v;
}

static int push(struct reader *r, cJSON *v)
{
	if (!v)
		return fail(r->err, r->errlen, SMELT_ERR, "out of memory");
	if (r->depth == PICKLE_MAX_STACK) {
		cJSON_Delete(v);
		return fail(r->err, r->errlen, SMELT_ERR, "pickle nests too deep");
	}
	r->stack[r->depth++] = v;
	return SMELT_OK;
}

static int push_int(struct reader *r, long long v)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%lld", v);
	return push(r, json_number_from_text(buf, (size_t)n));
}

static int push_str(struct reader *r, size_t n)
{
	if (need(r, n))
		return SMELT_ERR;
	const char *s = (const char *)r->p + r->pos;
	if (memchr(s, 0, n) || json_utf8_invalid(s, n) != (size_t)-1)
		return fail(r->err, r->errlen, SMELT_ERR, "pickled string at byte %zu is not text", r->pos);
	char *t = malloc(n + 1);
	if (!t)
		return fail(r->err, r->errlen, SMELT_ERR, "out of memory");
	memcpy(t, s, n);
	t[n] = 0;
	r->pos += n;
	int rc = push(r, cJSON_CreateString(t));
	free(t);
	return rc;
}

/* LONG1: n bytes of little-endian two's complement; up to 8 bytes. */
static int push_long(struct reader *r, size_t n)
{
	if (need(r, n))
		return SMELT_ERR;
	if (n > 8)
		return fail(r->err, r->errlen, SMELT_ERR, "pickled integer of %zu bytes is too large", n);
	if (n == 0)
		return push_int(r, 0);
	uint64_t u = read_le(r, n);
	if (n < 8 && (u >> (8 * n - 1)) & 1)
		u |= ~(uint64_t)0 << (8 * n);
	return push_int(r, (long long)(int64_t)u);
}

/* Pop everything above the last MARK into the container just below it. */
static int pop_mark(struct reader *r, int dict)
{
	if (!r->nmarks)
		return fail(r->err, r->errlen, SMELT_ERR, "pickle has no MARK before byte %zu", r->pos);
	int base = r->marks[--r->nmarks];
	/* a MARK above the stack (values it marked were popped since) would expose slots already moved */
	if (base < 1 || base > r->depth || ((r->depth - base) & dict))
		return fail(r->err, r->errlen, SMELT_ERR, "malformed pickle at byte %zu", r->pos);
	cJSON *into = r->stack[base - 1];
	if (dict ? !cJSON_IsObject(into) : !cJSON_IsArray(into))
		return fail(r->err, r->errlen, SMELT_ERR, "malformed pickle at byte %zu", r->pos);
	int rc = SMELT_OK;
	for (int i = base; i < r->depth; i += dict ? 2 : 1) {
		if (!dict) {
			cJSON_AddItemToArray(into, r->stack[i]);
			continue;
		}
		if (rc == SMELT_OK && !cJSON_IsString(r->stack[i]))
			rc = fail(r->err, r->errlen, SMELT_ERR, "pickled dict has a key that is not a string");
		if (rc == SMELT_OK) {
			cJSON *old = cJSON_DetachItemFromObjectCaseSensitive(into, r->stack[i]->valuestring);
			if (old)
				cJSON_AddItemToArray(r->dead, old);
			cJSON_AddItemToObject(into, r->stack[i]->valuestring, r->stack[i + 1]);
		} else {
			cJSON_AddItemToArray(r->dead, r->stack[i + 1]);
		}
		cJSON_AddItemToArray(r->dead, r->stack[i]);
	}
	r->depth = base;
	return rc;
}

/* Add the number of values in v to *n; nonzero as soon as *n passes limit. */
static int count_values(const cJSON *v, size_t limit, size_t *n)
{
	if (++*n > limit)
		return 1;
	for (const cJSON *c = v->child; c; c = c->next)
		if (count_values(c, limit, n))
			return 1;
	return 0;
}

static int step(struct reader *r, int *done)
{
	size_t at = r->pos;
	if (need(r, 1))
		return SMELT_ERR;
	unsigned char op = r->p[r->pos++];
	switch (op) {
	case 0x80: /* PROTO */
		return need(r, 1) ? SMELT_ERR : (r->pos++, SMELT_OK);
	case 0x95: /* FRAME: u64 length, ignored */
		return need(r, 8) ? SMELT_ERR : (r->pos += 8, SMELT_OK);
	case 0x94: /* MEMOIZE */
		if (!r->depth || r->nmemo == PICKLE_MAX_MEMO)
			return fail(r->err, r->errlen, SMELT_ERR, "malformed pickle at byte %zu", at);
		r->memo[r->nmemo++] = r->stack[r->depth - 1];
		return SMELT_OK;
	case 0x68:   /* BINGET: a value seen before (Python shares equal strings), copied */
	case 0x6a: { /* LONG_BINGET */
		size_t n = op == 0x68 ? 1 : 4;
		if (need(r, n))
			return SMELT_ERR;
		size_t i = (size_t)read_le(r, n);
		if (i >= r->nmemo)
			return fail(r->err, r->errlen, SMELT_ERR, "pickle refers to memo %zu it does not have", i);
		if (count_values(r->memo[i], PICKLE_MAX_COPIED, &r->copied))
			return fail(r->err, r->errlen, SMELT_ERR, "pickle repeats values too often");
		return push(r, cJSON_Duplicate(r->memo[i], 1));
	}
	case 0x2e: /* STOP */
		*done = 1;
		return SMELT_OK;
	case 0x8c: /* SHORT_BINUNICODE */
		return need(r, 1) ? SMELT_ERR : push_str(r, (size_t)read_le(r, 1));
	case 0x58: /* BINUNICODE */
		return need(r, 4) ? SMELT_ERR : push_str(r, (size_t)read_le(r, 4));
	case 0x8d: /* BINUNICODE8 */
		return need(r, 8) ? SMELT_ERR : push_str(r, (size_t)read_le(r, 8));
	case 0x4b: /* BININT1 */
		return need(r, 1) ? SMELT_ERR : push_int(r, (long long)read_le(r, 1));
	case 0x4d: /* BININT2 */
		return need(r, 2) ? SMELT_ERR : push_int(r, (long long)read_le(r, 2));
	case 0x4a: /* BININT: signed 32-bit */
		return need(r, 4) ? SMELT_ERR : push_int(r, (long long)(int32_t)(uint32_t)read_le(r, 4));
	case 0x8a: /* LONG1 */
		return need(r, 1) ? SMELT_ERR : push_long(r, (size_t)read_le(r, 1));
	case 0x47: { /* BINFLOAT: big-endian IEEE 754 double */
		if (need(r, 8))
			return SMELT_ERR;
		uint64_t u = 0;
		for (int i = 0; i < 8; i++)
			u = (u << 8) | r->p[r->pos++];
		double d;
		memcpy(&d, &u, sizeof d);
		if (!isfinite(d))
			return fail(r->err, r->errlen, SMELT_ERR, "pickled float at byte %zu is not finite", at);
		char buf[40];
		int n = snprintf(buf, sizeof buf, "%.17g", d);
		if (!strpbrk(buf, ".e"))
			n = snprintf(buf, sizeof buf, "%.1f", d);
		return push(r, json_number_from_text(buf, (size_t)n));
	}
	case 0x88: /* NEWTRUE */
		return push(r, cJSON_CreateTrue());
	case 0x89: /* NEWFALSE */
		return push(r, cJSON_CreateFalse());
	case 0x4e: /* NONE */
		return push(r, cJSON_CreateNull());
	case 0x7d: /* EMPTY_DICT */
		return push(r, cJSON_CreateObject());
	case 0x5d: /* EMPTY_LIST */
		return push(r, cJSON_CreateArray());
	case 0x28: /* MARK */
		if (r->nmarks == PICKLE_MAX_STACK)
			return fail(r->err, r->errlen, SMELT_ERR, "pickle nests too deep");
		r->marks[r->nmarks++] = r->depth;
		return SMELT_OK;
	case 0x73: /* SETITEM */
		if (r->nmarks == PICKLE_MAX_STACK)
			return fail(r->err, r->errlen, SMELT_ERR, "pickle nests too deep");
		r->marks[r->nmarks++] = r->depth - 2;
		return pop_mark(r, 1);
	case 0x75: /* SETITEMS */
		return pop_mark(r, 1);
	case 0x61: /* APPEND */
		if (r->nmarks == PICKLE_MAX_STACK)
			return fail(r->err, r->errlen, SMELT_ERR, "pickle nests too deep");
		r->marks[r->nmarks++] = r->depth - 1;
		return pop_mark(r, 0);
	case 0x65: /* APPENDS */
		return pop_mark(r, 0);
	default:
		return fail(r->err, r->errlen, SMELT_ERR, "unsupported pickle opcode 0x%02x at byte %zu", op, at);
	}
}

int pickle_to_json(const unsigned char *buf, size_t len, char **json, char *err, size_t errlen)
{
	struct reader r = { .p = buf, .len = len, .err = err, .errlen = errlen, .dead = cJSON_CreateArray() };
	int done = 0, rc = SMELT_OK;
	*json = NULL;
	while (!done && rc == SMELT_OK)
		rc = step(&r, &done);
	if (rc == SMELT_OK && (r.depth != 1 || r.nmarks))
		rc = fail(err, errlen, SMELT_ERR, "malformed pickle (%d values left)", r.depth);
	if (rc == SMELT_OK)
		*json = json_print(r.stack[0]);
	for (int i = 0; i < r.depth; i++)
		cJSON_Delete(r.stack[i]);
	cJSON_Delete(r.dead);
	return rc;
}
