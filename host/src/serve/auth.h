/*
 * auth - the bearer token of `smelt serve`: $SMELT_SERVE_TOKEN when set,
 * else <sys_dir>/serve.token, generated (256 random bits, hex) on first
 * start and written 0600.  Every request but GET /health must carry
 * "Authorization: Bearer <token>"; the comparison takes the same time
 * whatever the given value.
 */
#ifndef SMELT_AUTH_H
#define SMELT_AUTH_H

#include <stddef.h>

#define AUTH_TOKEN_MAX 256 /* longest token accepted (bytes) */

/*
 * Fill token (AUTH_TOKEN_MAX + 1 bytes) and *from ("SMELT_SERVE_TOKEN" or
 * the file's path, borrowed static or from sys_dir's lifetime: the caller
 * frees *path_out).  Returns 0 or a negative status with err filled.
 */
int auth_load_token(const char *sys_dir, char *token, char **path_out, char *err, size_t errlen);
/* 1 when header (the Authorization header's value, may be NULL) carries token; constant time in header. */
int auth_check(const char *token, const char *header);

#endif
