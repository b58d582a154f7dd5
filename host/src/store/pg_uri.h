/*
 * pg_uri - the PostgreSQL database_uri of a project, as Meltano (SQLAlchemy)
 * writes it: postgresql://, postgres:// or postgresql+<driver>:// (psycopg,
 * psycopg2, ...), then [user[:password]@][host][:port][/dbname][?params].
 *
 * libpq takes the URI itself once the "+driver" part is removed; this
 * module only finds what messages may show (host:port, a redacted URI) and
 * what they must never show (the password, also a ?password= parameter).
 */
#ifndef SMELT_STORE_PG_URI_H
#define SMELT_STORE_PG_URI_H

#include <stddef.h>

/* 1 when uri names PostgreSQL (the schemes above, case-insensitive), else 0. */
int pg_uri_is_pg(const char *uri);

/*
 * 1 when uri names PostgreSQL and holds a password (in the userinfo or a
 * password= parameter), or is refused by pg_uri_parse() (it may hold one).
 */
int pg_uri_has_password(const char *uri);

/* A parsed URI; every string owned (pg_uri_release()). */
struct pg_uri {
	char *conninfo;  /* what libpq connects with: the URI with "+driver" removed */
	char *host_port; /* "host:port" for messages; "localhost:5432" when the URI names neither */
	char *redacted;  /* the URI with the password and any password= parameter replaced by "***" */
	char *password;  /* as written, percent-decoded; NULL when none (to scrub from messages) */
	/* as written, not decoded; NULL when none.  libpq quotes it so in its message about a userinfo or
	 * parameter it cannot decode (%00, a '%' without two hex digits): scrubbed too */
	char *password_raw;
};

/*
 * Parse uri (which must satisfy pg_uri_is_pg()).  Returns SMELT_OK, or
 * SMELT_ERR_CONFIG with err naming the problem (never the password).
 * u is zeroed first and must be released either way.
 */
int pg_uri_parse(const char *uri, struct pg_uri *u, char *err, size_t errlen);
void pg_uri_release(struct pg_uri *u); /* frees the strings and zeroes u */

/*
 * A copy of msg with every occurrence of secret replaced by "***" (secret
 * NULL or empty: a plain copy).  Caller frees.
 */
char *pg_scrub(const char *msg, const char *secret);

#endif
