/* sha256 - FIPS 180-4 SHA-256 (no dependency on a crypto library; used for fingerprints). */
#ifndef SMELT_INSTALL_SHA256_H
#define SMELT_INSTALL_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];     /* chaining state */
	uint64_t len;      /* bytes hashed so far */
	uint8_t buf[64];   /* pending partial block */
	size_t nbuf;       /* bytes in buf */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[32]);
/* Hex digest of data into hex (65 bytes with the NUL). */
void sha256_hex(const void *data, size_t len, char hex[65]);

#endif
