/*
 * libFuzzer harness for PostgreSQL database_uri parsing (host/src/store/
 * pg_uri.c): any text either is refused (not PostgreSQL, or an unencoded
 * '@' or '/' in the userinfo) or parses into a conninfo, a
 * host:port and a redacted URI, and the redacted URI never holds the
 * password it found (when that password is long enough to be told apart
 * from the rest of the URI).
 */
#include "store/pg_uri.h"

#include <smelt/sdk.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *uri = malloc(size + 1), err[256];
	memcpy(uri, data, size);
	uri[size] = 0;
	struct pg_uri u;
	int rc = pg_uri_parse(uri, &u, err, sizeof err);
	if (rc == SMELT_OK) {
		if (!u.conninfo || !u.host_port || !u.redacted || !pg_uri_is_pg(uri))
			abort();
		if (strncmp(u.conninfo, "postgresql://", 13))
			abort();
		/* a password of 8+ characters with no '*' and that the URI holds only once is gone from the redacted form */
		if (u.password && strlen(u.password) >= 8 && !strchr(u.password, '*') && !strchr(u.password, '%') &&
		    strstr(uri, u.password) && !strstr(strstr(uri, u.password) + 1, u.password) &&
		    strstr(u.redacted, u.password))
			abort();
		char *s = pg_scrub(uri, u.password);
		free(s);
	} else if (rc != SMELT_ERR_CONFIG || (pg_uri_is_pg(uri) && !strstr(err, "percent-encode"))) {
		abort(); /* only what is not PostgreSQL, or a userinfo libpq would misread, is refused */
	}
	pg_uri_release(&u);
	free(uri);
	return 0;
}
