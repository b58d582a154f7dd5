/* lineage_http: OpenLineage's HTTP transport (one POST per event); see lineage.h. */
#include "build_config.h"
#include "util/curl_lazy.h"
#include "run/lineage.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>

#include <stdio.h>
#include <string.h>

/* The response body is not read: only its status matters. */
static size_t discard(char *ptr, size_t size, size_t n, void *arg)
{
	(void)ptr;
	(void)arg;
	return size * n;
}

int lineage_http_post(const char *url, const char *api_key, const char *body, long timeout_s, char *err,
                      size_t errlen)
{
	const struct curl_api *curl = curl_api_get(err, errlen);
	if (!curl)
		return SMELT_ERR;
	CURL *c = curl->easy_init();
	if (!c)
		return fail(err, errlen, SMELT_ERR_NOMEM, "cannot start an HTTP request");
	struct curl_slist *headers = curl->slist_append(NULL, "Content-Type: application/json");
	if (api_key && *api_key) {
		struct strbuf auth = STRBUF_INIT;
		strbuf_addf(&auth, "Authorization: Bearer %s", api_key);
		headers = curl->slist_append(headers, auth.buf);
		/* libcurl copied it: no copy of the key outlives the call */
		memset(auth.buf, 0, auth.len);
		strbuf_release(&auth);
	}
	char cerr[CURL_ERROR_SIZE] = "";
	curl->easy_setopt(c, CURLOPT_URL, url);
	curl->easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl->easy_setopt(c, CURLOPT_USERAGENT, "smelt/" SMELT_VERSION);
	curl->easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl->easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	/* no redirect: a POST must not be replayed elsewhere with the key */
	curl->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl->easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout_s);
	curl->easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl->easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl->easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl->easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl->easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	CURLcode cc = curl->easy_perform(c);
	long status = 0;
	int rc = SMELT_OK;
	if (cc != CURLE_OK) {
		rc = fail(err, errlen, SMELT_ERR, "%s", cerr[0] ? cerr : curl->easy_strerror(cc));
	} else {
		curl->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (status < 200 || status > 299)
			rc = fail(err, errlen, SMELT_ERR, "the server answered HTTP %ld", status);
	}
	curl->easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl->easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl->easy_cleanup(c);
	curl->slist_free_all(headers);
	return rc;
}
