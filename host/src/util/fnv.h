/*
 * util/fnv - FNV-1a, 64 bits: a fast hash for in-memory tables and memo
 * keys (never for anything an attacker may choose to collide, nor stored).
 * fnv1a() continues h over n bytes of p; start from FNV1A_INIT.  Parts
 * hashed one after the other are told apart by fnv1a_sep(): a byte no
 * text holds, so ("ab", "c") and ("a", "bc") differ.
 */
#ifndef SMELT_UTIL_FNV_H
#define SMELT_UTIL_FNV_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A_INIT 1469598103934665603ULL

static inline uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 1099511628211ULL;
	return h;
}

static inline uint64_t fnv1a_sep(uint64_t h)
{
	return (h ^ 0xff) * 1099511628211ULL;
}

#endif
