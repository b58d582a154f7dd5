/*
 * state_backend_s3: the S3 object store of state_backend.h.  Requests are
 * path-style (<endpoint>/<bucket>/<key>), signed with AWS Signature
 * Version 4 (HMAC-SHA-256 over util/sha256.c), and sent with the
 * libcurl that util/curl_lazy.h loads on first use.  The secret key is
 * only ever an HMAC input: no message, URL or log line carries it.
 */
#include "build_config.h"
#include "util/curl_lazy.h"
#include "util/sha256.h"
#include "store/state_backend.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct s3 {
	char *base;   /* "http://127.0.0.1:9000" (no trailing '/') */
	char *host;   /* "127.0.0.1:9000": the Host header that is signed */
	char *bucket;
	char *prefix; /* "" or "state" (no leading or trailing '/') */
	char *region;
	char *key_id; /* NULL: anonymous */
	char *secret;
};

static void hmac_sha256(const uint8_t *key, size_t keylen, const void *msg, size_t len, uint8_t out[32])
{
	uint8_t k[64] = { 0 }, pad[64], inner[32];
	struct sha256 s;
	if (keylen > 64) {
		sha256_init(&s);
		sha256_update(&s, key, keylen);
		sha256_final(&s, k);
	} else {
		memcpy(k, key, keylen);
	}
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	sha256_init(&s);
	sha256_update(&s, pad, 64);
	sha256_update(&s, msg, len);
	sha256_final(&s, inner);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	sha256_init(&s);
	sha256_update(&s, pad, 64);
	sha256_update(&s, inner, 32);
	sha256_final(&s, out);
	memset(k, 0, sizeof k);
	memset(pad, 0, sizeof pad);
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* RFC 3986 encoding as SigV4 wants it: unreserved kept, '/' kept when keep_slash. */
static void uri_encode(struct strbuf *sb, const char *s, int keep_slash)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/'))
			strbuf_addch(sb, (char)c);
		else
			strbuf_addf(sb, "%%%02X", c);
	}
}

struct body {
	const char *data;
	size_t len, pos;
};

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t left = b->len - b->pos, want = size * n;
	if (want > left)
		want = left;
	memcpy(buf, b->data + b->pos, want);
	b->pos += want;
	return want;
}

static size_t on_write(char *buf, size_t size, size_t n, void *arg)
{
	strbuf_add(arg, buf, size * n);
	return size * n;
}

/* The <Code> of an S3 error body, for messages ("NoSuchBucket"); "" when none. */
static void error_code(const char *body, char *out, size_t outlen)
{
	const char *a = strstr(body, "<Code>"), *z = a ? strstr(a, "</Code>") : NULL;
	out[0] = 0;
	if (a && z && (size_t)(z - a - 6) < outlen)
		snprintf(out, outlen, "%.*s", (int)(z - a - 6), a + 6);
}

/*
 * One signed request on object rel (beneath the prefix), or on the bucket
 * itself when rel is NULL, with query (canonical: sorted, encoded; NULL:
 * none).  Returns the HTTP status (body appended to out when not NULL),
 * or SMELT_ERR with err filled when the request could not be made.
 */
static int s3_request_q(struct s3 *s, const char *method, const char *rel, const char *query, const char *data,
                        size_t len, struct strbuf *out, char *err, size_t errlen)
{
	char errbuf[256] = "";
	const struct curl_api *curl = curl_api_get(errbuf, sizeof errbuf);
	if (!curl)
		return fail(err, errlen, SMELT_ERR, "s3://%s: %s", s->bucket, errbuf);

	struct strbuf path = STRBUF_INIT, url = STRBUF_INIT, canon = STRBUF_INIT, hdr = STRBUF_INIT;
	strbuf_addch(&path, '/');
	uri_encode(&path, s->bucket, 0);
	if (rel) {
		strbuf_addch(&path, '/');
		if (*s->prefix) {
			uri_encode(&path, s->prefix, 1);
			strbuf_addch(&path, '/');
		}
		uri_encode(&path, rel, 1);
	}
	strbuf_addf(&url, "%s%s%s%s", s->base, path.buf, query ? "?" : "", query ? query : "");

	char payload_hash[65], amz_date[17], day[9];
	sha256_hex(data ? data : "", data ? len : 0, payload_hash);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &tm);
	strftime(day, sizeof day, "%Y%m%d", &tm);

	struct curl_slist *headers = NULL;
	strbuf_addf(&hdr, "Host: %s", s->host);
	headers = curl->slist_append(headers, hdr.buf);
	strbuf_reset(&hdr);
	strbuf_addf(&hdr, "x-amz-content-sha256: %s", payload_hash);
	headers = curl->slist_append(headers, hdr.buf);
	strbuf_reset(&hdr);
	strbuf_addf(&hdr, "x-amz-date: %s", amz_date);
	headers = curl->slist_append(headers, hdr.buf);
	if (data)
		headers = curl->slist_append(headers, "Content-Type: application/json");
	headers = curl->slist_append(headers, "Expect:");
	if (s->key_id && s->secret) {
		strbuf_addf(&canon, "%s\n%s\n%s\nhost:%s\nx-amz-content-sha256:%s\nx-amz-date:%s\n\n"
		                    "host;x-amz-content-sha256;x-amz-date\n%s",
		            method, path.buf, query ? query : "", s->host, payload_hash, amz_date, payload_hash);
		char canon_hash[65], sig_hex[65];
		sha256_hex(canon.buf, canon.len, canon_hash);
		strbuf_reset(&canon);
		strbuf_addf(&canon, "AWS4-HMAC-SHA256\n%s\n%s/%s/s3/aws4_request\n%s", amz_date, day, s->region,
		            canon_hash);
		uint8_t k[32], k2[32];
		char *kinit = xasprintf("AWS4%s", s->secret);
		hmac_sha256((const uint8_t *)kinit, strlen(kinit), day, strlen(day), k);
		memset(kinit, 0, strlen(kinit));
		free(kinit);
		hmac_sha256(k, 32, s->region, strlen(s->region), k2);
		hmac_sha256(k2, 32, "s3", 2, k);
		hmac_sha256(k, 32, "aws4_request", 12, k2);
		hmac_sha256(k2, 32, canon.buf, canon.len, k);
		hex(k, 32, sig_hex);
		memset(k2, 0, sizeof k2);
		strbuf_reset(&hdr);
		strbuf_addf(&hdr,
		            "Authorization: AWS4-HMAC-SHA256 Credential=%s/%s/%s/s3/aws4_request, "
		            "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=%s",
		            s->key_id, day, s->region, sig_hex);
		headers = curl->slist_append(headers, hdr.buf);
	}

	CURL *c = curl->easy_init();
	struct body body = { data, len, 0 };
	long status = 0;
	int rc;
	if (!c || !headers) {
		rc = fail(err, errlen, SMELT_ERR, "s3://%s: out of memory", s->bucket);
		goto out;
	}
	curl->easy_setopt(c, CURLOPT_URL, url.buf);
	curl->easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl->easy_setopt(c, CURLOPT_USERAGENT, "smelt/" SMELT_VERSION);
	curl->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl->easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl->easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl->easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	struct strbuf sink = STRBUF_INIT;
	curl->easy_setopt(c, CURLOPT_WRITEDATA, out ? out : &sink);
	if (data) {
		curl->easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl->easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl->easy_setopt(c, CURLOPT_READDATA, &body);
		curl->easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	} else if (strcmp(method, "GET")) {
		curl->easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	errbuf[0] = 0;
	CURLcode cc = curl->easy_perform(c);
	if (cc != CURLE_OK) {
		rc = fail(err, errlen, SMELT_ERR, "s3://%s/%s%s%s: %s", s->bucket, s->prefix, *s->prefix ? "/" : "",
		          rel ? rel : "", *errbuf ? errbuf : curl->easy_strerror(cc));
	} else {
		curl->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		rc = (int)status;
		if (!out && status >= 300 && status != 404) {
			char code[64];
			error_code(sink.buf ? sink.buf : "", code, sizeof code);
			rc = fail(err, errlen, SMELT_ERR, "s3://%s/%s%s%s: %s failed with HTTP %ld%s%s", s->bucket, s->prefix,
			          *s->prefix ? "/" : "", rel ? rel : "", method, status, *code ? " " : "", code);
		}
	}
	strbuf_release(&sink);
out:
	if (c) {
		curl->easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
		curl->easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
		curl->easy_cleanup(c);
	}
	curl->slist_free_all(headers);
	strbuf_release(&path);
	strbuf_release(&url);
	strbuf_release(&canon);
	strbuf_release(&hdr);
	return rc;
}

static int s3_request(struct s3 *s, const char *method, const char *rel, const char *data, size_t len,
                      struct strbuf *out, char *err, size_t errlen)
{
	return s3_request_q(s, method, rel, NULL, data, len, out, err, errlen);
}

/* The text of the first <tag>...</tag> at or after *at, XML entities decoded, into out; 0 when none. */
static int xml_take(const char **at, const char *end, const char *tag, struct strbuf *out)
{
	char open[48], close[48];
	snprintf(open, sizeof open, "<%s>", tag);
	snprintf(close, sizeof close, "</%s>", tag);
	const char *a = strstr(*at, open), *z = a ? strstr(a, close) : NULL;
	if (!a || !z || (end && z > end))
		return 0;
	static const char *const ent[][2] = { { "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" },
		                              { "&apos;", "'" } };
	strbuf_reset(out);
	for (const char *p = a + strlen(open); p < z;) {
		size_t k = 0;
		while (k < 5 && strncmp(p, ent[k][0], strlen(ent[k][0])))
			k++;
		if (k < 5) {
			strbuf_addstr(out, ent[k][1]);
			p += strlen(ent[k][0]);
		} else {
			strbuf_addch(out, *p++);
		}
	}
	*at = z + strlen(close);
	return 1;
}

int state_s3_parse_list(const char *body, const char *prefix,
                        void (*fn)(void *arg, const char *rel, const char *updated_at), void *arg, struct strbuf *token)
{
	struct strbuf key = STRBUF_INIT, at = STRBUF_INIT, trunc = STRBUF_INIT;
	size_t plen = strlen(prefix);
	const char *p = body, *c;
	while ((c = strstr(p, "<Contents>"))) {
		const char *end = strstr(c, "</Contents>");
		if (!end)
			break;
		const char *q = c;
		if (xml_take(&q, end, "Key", &key) && key.len > plen && !strncmp(key.buf, prefix, plen)) {
			const char *r = c;
			int have_at = xml_take(&r, end, "LastModified", &at);
			fn(arg, key.buf + plen, have_at ? at.buf : NULL);
		}
		p = end + strlen("</Contents>");
	}
	const char *r = body;
	int more = xml_take(&r, NULL, "IsTruncated", &trunc) && trunc.buf && !strcmp(trunc.buf, "true");
	r = body;
	if (more && (!xml_take(&r, NULL, "NextContinuationToken", token) || !token->len))
		more = 0; /* no token to go on with: a server that says "truncated" forever ends here */
	strbuf_release(&key);
	strbuf_release(&at);
	strbuf_release(&trunc);
	return more;
}

/* ListObjectsV2 beneath the prefix, page by page: fn(rel, LastModified) for each object. */
static int s3_list(void *ctx, void (*fn)(void *arg, const char *rel, const char *updated_at), void *arg, char *err,
                   size_t errlen)
{
	struct s3 *s = ctx;
	struct strbuf token = STRBUF_INIT, query = STRBUF_INIT, body = STRBUF_INIT, pfx = STRBUF_INIT;
	if (*s->prefix)
		strbuf_addf(&pfx, "%s/", s->prefix);
	int rc = SMELT_OK, pages = 0;
	for (int more = 1; more && rc == SMELT_OK;) {
		if (++pages > 100000) { /* a server repeating its continuation token would never end */
			rc = fail(err, errlen, SMELT_ERR, "s3://%s: listing did not end after %d pages", s->bucket, pages - 1);
			break;
		}
		strbuf_reset(&query);
		if (token.len) {
			strbuf_addstr(&query, "continuation-token=");
			uri_encode(&query, token.buf, 0);
			strbuf_addch(&query, '&');
		}
		strbuf_addstr(&query, "list-type=2&prefix=");
		uri_encode(&query, pfx.buf ? pfx.buf : "", 0);
		strbuf_reset(&body);
		int st = s3_request_q(s, "GET", NULL, query.buf, NULL, 0, &body, err, errlen);
		if (st < 0) {
			rc = st;
			break;
		}
		const char *p = body.buf ? body.buf : "";
		if (st != 200) {
			char code[64];
			error_code(p, code, sizeof code);
			rc = fail(err, errlen, SMELT_ERR, "s3://%s: listing failed with HTTP %d%s%s", s->bucket, st,
			          *code ? " " : "", code);
			break;
		}
		more = state_s3_parse_list(p, pfx.buf ? pfx.buf : "", fn, arg, &token);
	}
	strbuf_release(&token);
	strbuf_release(&query);
	strbuf_release(&body);
	strbuf_release(&pfx);
	return rc;
}

static int s3_read(void *ctx, const char *rel, struct strbuf *out, char *err, size_t errlen)
{
	struct s3 *s = ctx;
	struct strbuf body = STRBUF_INIT;
	int st = s3_request(s, "GET", rel, NULL, 0, &body, err, errlen);
	int rc = st < 0 ? st : st == 200 ? 1 : 0;
	if (st >= 300 && st != 404) {
		char code[64];
		error_code(body.buf ? body.buf : "", code, sizeof code);
		rc = fail(err, errlen, SMELT_ERR, "s3://%s/%s%s%s: GET failed with HTTP %d%s%s", s->bucket, s->prefix,
		          *s->prefix ? "/" : "", rel, st, *code ? " " : "", code);
	} else if (rc == 1) {
		strbuf_add(out, body.buf ? body.buf : "", body.len);
	}
	strbuf_release(&body);
	return rc;
}

static int s3_write(void *ctx, const char *rel, const char *data, size_t len, char *err, size_t errlen)
{
	int st = s3_request(ctx, "PUT", rel, data, len, NULL, err, errlen);
	return st < 0 ? st : SMELT_OK;
}

static int s3_remove(void *ctx, const char *rel, char *err, size_t errlen)
{
	int st = s3_request(ctx, "DELETE", rel, NULL, 0, NULL, err, errlen);
	return st < 0 ? st : SMELT_OK;
}

static void s3_close(void *ctx)
{
	struct s3 *s = ctx;
	if (!s)
		return;
	if (s->secret) {
		memset(s->secret, 0, strlen(s->secret));
		free(s->secret);
	}
	free(s->base);
	free(s->host);
	free(s->bucket);
	free(s->prefix);
	free(s->region);
	free(s->key_id);
	free(s);
}

static const struct blob_ops s3_ops = { s3_read, s3_write, s3_remove, s3_close, s3_list };

int state_s3_open(const char *uri, const char *endpoint, const char *region, const char *key_id,
                  const char *secret, const struct blob_ops **ops, void **ctx, char *err, size_t errlen)
{
	*ops = NULL;
	*ctx = NULL;
	const char *b = uri + 5, *slash = strchr(b, '/');
	size_t blen = slash ? (size_t)(slash - b) : strlen(b);
	if (strncmp(uri, "s3://", 5) || !blen)
		return fail(err, errlen, SMELT_ERR_CONFIG, "state_backend.uri '%s' names no bucket", uri);
	const char *ep = endpoint && *endpoint ? endpoint : "https://s3.amazonaws.com";
	const char *scheme_end = strstr(ep, "://");
	if (!scheme_end || (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8)))
		return fail(err, errlen, SMELT_ERR_CONFIG,
		            "state_backend.s3.endpoint_url '%s' is not an http:// or https:// URL", ep);
	struct s3 *s = xcalloc(1, sizeof *s);
	s->base = xstrdup(ep);
	size_t n = strlen(s->base);
	while (n && s->base[n - 1] == '/')
		s->base[--n] = 0;
	const char *h = scheme_end + 3;
	s->host = xasprintf("%.*s", (int)strcspn(h, "/?#"), h);
	if (strchr(s->base + (h - ep), '/')) {
		s3_close(s);
		return fail(err, errlen, SMELT_ERR_CONFIG, "state_backend.s3.endpoint_url '%s' must not have a path", ep);
	}
	s->bucket = xasprintf("%.*s", (int)blen, b);
	const char *pfx = slash ? slash : "";
	while (*pfx == '/')
		pfx++;
	s->prefix = xstrdup(pfx);
	n = strlen(s->prefix);
	while (n && s->prefix[n - 1] == '/')
		s->prefix[--n] = 0;
	s->region = xstrdup(region && *region ? region : "us-east-1");
	if (key_id && secret) {
		s->key_id = xstrdup(key_id);
		s->secret = xstrdup(secret);
	}
	*ops = &s3_ops;
	*ctx = s;
	return SMELT_OK;
}
