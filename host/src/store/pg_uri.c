/* pg_uri: PostgreSQL database URIs; see pg_uri.h. */
#include "store/pg_uri.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Length of the scheme including "://" when uri names PostgreSQL, else 0. */
static size_t pg_scheme_len(const char *uri)
{
	static const char *const bases[] = { "postgresql", "postgres" };
	if (!uri)
		return 0;
	for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
		size_t n = strlen(bases[i]);
		if (strncasecmp(uri, bases[i], n))
			continue;
		const char *p = uri + n;
		if (*p == '+') { /* SQLAlchemy's driver: psycopg, psycopg2, pg8000, ... */
			p++;
			while (isalnum((unsigned char)*p) || *p == '_')
				p++;
			if (p == uri + n + 1)
				continue;
		}
		if (!strncmp(p, "://", 3))
			return (size_t)(p - uri) + 3;
	}
	return 0;
}

int pg_uri_is_pg(const char *uri)
{
	return pg_scheme_len(uri) > 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static char *percent_decode(const char *s, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
		    hexval((unsigned char)s[i + 2]) >= 0) {
			strbuf_addch(&sb, (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2])));
			i += 2;
		} else {
			strbuf_addch(&sb, s[i]);
		}
	}
	return strbuf_detach(&sb);
}

void pg_uri_release(struct pg_uri *u)
{
	free(u->conninfo);
	free(u->host_port);
	free(u->redacted);
	free(u->password);
	free(u->password_raw);
	memset(u, 0, sizeof *u);
}

/* Append the query string q (without '?') to sb, any password=... value replaced by "***". */
static void add_redacted_query(struct strbuf *sb, const char *q)
{
	while (*q) {
		size_t n = strcspn(q, "&");
		if (n >= 9 && !strncasecmp(q, "password=", 9))
			strbuf_addstr(sb, "password=***");
		else
			strbuf_add(sb, q, n);
		q += n;
		if (*q == '&')
			strbuf_addch(sb, *q++);
	}
}

int pg_uri_parse(const char *uri, struct pg_uri *u, char *err, size_t errlen)
{
	memset(u, 0, sizeof *u);
	size_t slen = pg_scheme_len(uri);
	if (!slen)
		return fail(err, errlen, SMELT_ERR_CONFIG, "database_uri is not a postgresql:// URI");
	const char *rest = uri + slen;
	/* libpq's reading: a userinfo ends at an '@' met before any '/' */
	const char *at = rest + strcspn(rest, "@/");
	if (*at != '@')
		at = NULL;
	const char *hosts = at ? at + 1 : rest;
	size_t hlen = strcspn(hosts, "/?");
	/*
	 * An unencoded '@' or '/' in a password makes libpq take part of it for
	 * the host or the database, which its messages then show: refused.
	 */
	const char *slash = at ? NULL : strchr(rest, '/');
	if (memchr(hosts, '@', hlen) || (slash && memchr(slash, '@', strcspn(slash, "?"))))
		return fail(err, errlen, SMELT_ERR_CONFIG,
		            "database_uri: percent-encode '@' and '/' in the user name and password (%%40, %%2F)");
	const char *tail = hosts + hlen; /* "/dbname?params" */

	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "postgresql://");
	strbuf_addstr(&sb, rest);
	u->conninfo = strbuf_detach(&sb);

	const char *pw = NULL;
	size_t pwlen = 0, userlen = at ? (size_t)(at - rest) : 0;
	if (at) {
		const char *colon = memchr(rest, ':', (size_t)(at - rest));
		if (colon) {
			userlen = (size_t)(colon - rest);
			pw = colon + 1;
			pwlen = (size_t)(at - pw);
			u->password = percent_decode(pw, pwlen);
			u->password_raw = xstrndup(pw, pwlen);
		}
	}
	/* a password= parameter counts too */
	const char *q = strchr(tail, '?');
	for (const char *p = q; p && *p;) {
		p++;
		size_t n = strcspn(p, "&");
		if (n >= 9 && !strncasecmp(p, "password=", 9) && !u->password) {
			u->password = percent_decode(p + 9, n - 9);
			u->password_raw = xstrndup(p + 9, n - 9);
		}
		p += n;
	}

	if (hlen == 0) {
		u->host_port = xstrdup("localhost:5432");
	} else {
		char *h = xstrndup(hosts, hlen);
		const char *last = strrchr(h, ']');
		int has_port = strchr(last ? last : h, ':') != NULL;
		u->host_port = has_port || strchr(h, ',') ? xstrdup(h) : xasprintf("%s:5432", h);
		free(h);
	}

	strbuf_add(&sb, uri, slen);
	if (at) {
		strbuf_add(&sb, rest, userlen);
		if (pw)
			strbuf_addstr(&sb, ":***");
		strbuf_addch(&sb, '@');
	}
	strbuf_add(&sb, hosts, (size_t)(q ? q - hosts : (ptrdiff_t)strlen(hosts)));
	if (q) {
		strbuf_addch(&sb, '?');
		add_redacted_query(&sb, q + 1);
	}
	u->redacted = strbuf_detach(&sb);
	return SMELT_OK;
}

char *pg_scrub(const char *msg, const char *secret)
{
	if (!msg)
		return xstrdup("");
	if (!secret || !*secret)
		return xstrdup(msg);
	struct strbuf sb = STRBUF_INIT;
	size_t n = strlen(secret);
	for (const char *p = msg; *p;) {
		const char *hit = strstr(p, secret);
		if (!hit) {
			strbuf_addstr(&sb, p);
			break;
		}
		strbuf_add(&sb, p, (size_t)(hit - p));
		strbuf_addstr(&sb, "***");
		p = hit + n;
	}
	return strbuf_detach(&sb);
}

int pg_uri_has_password(const char *uri)
{
	struct pg_uri u;
	if (!pg_uri_is_pg(uri))
		return 0;
	int has = pg_uri_parse(uri, &u, NULL, 0) != SMELT_OK || u.password; /* refused: it may hold one */
	pg_uri_release(&u);
	return has;
}
