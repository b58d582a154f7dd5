/* hub: the MeltanoHub API client; see hub.h. */
#include "hub/hub.h"
#include "build_config.h"
#include "util/curl_lazy.h"
#include "hub/lock.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const hub_plugin_types[] = {
	"extractors", "loaders", "transforms", "orchestrators", "transformers", "files", "utilities",
	"mappers", NULL,
};

int hub_type_valid(const char *plugin_type)
{
	for (const char *const *t = hub_plugin_types; *t; t++)
		if (plugin_type && !strcmp(*t, plugin_type))
			return 1;
	return 0;
}

const char *hub_type_descriptor(const char *t)
{
	static const char *const map[][2] = {
		{ "extractors", "extractor" }, { "loaders", "loader" },
		{ "transforms", "transform" }, { "orchestrators", "orchestrator" },
		{ "transformers", "transformer" }, { "files", "file bundle" },
		{ "utilities", "utility" }, { "mappers", "mapper" },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (t && !strcmp(map[i][0], t))
			return map[i][1];
	return t ? t : "plugin";
}

/* "extractor" -> "Extractor" into buf. */
static const char *capitalized(const char *plugin_type, char *buf, size_t len)
{
	snprintf(buf, len, "%s", hub_type_descriptor(plugin_type));
	buf[0] = (char)toupper((unsigned char)buf[0]);
	return buf;
}

static char *strip_slash(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

static const char *nonempty_env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

char *hub_api_root(const char *hub_api_root_setting, const char *hub_url_setting)
{
	const char *v;
	if ((v = nonempty_env("SMELT_HUB_URL")) || (v = nonempty_env("MELTANO_HUB_API_ROOT")))
		return strip_slash(xstrdup(v));
	if (hub_api_root_setting && *hub_api_root_setting)
		return strip_slash(xstrdup(hub_api_root_setting));
	if (!(v = hub_url_setting) || !*v)
		v = nonempty_env("MELTANO_HUB_URL");
	if (v) {
		char *base = strip_slash(xstrdup(v));
		char *root = xasprintf("%s/meltano/api/v1", base);
		free(base);
		return root;
	}
	return xstrdup(HUB_DEFAULT_API_ROOT);
}

void hub_init(struct hub *hub, const char *api_root)
{
	const char *v;
	memset(hub, 0, sizeof *hub);
	hub->api_root = api_root ? strip_slash(xstrdup(api_root)) : hub_api_root(NULL, NULL);
	hub->connect_timeout = 10;
	hub->timeout = 60;
	hub->retries = 3;
	hub->retry_delay = 0.5;
	if ((v = nonempty_env("SMELT_HUB_TIMEOUT")) && atol(v) > 0) {
		hub->timeout = atol(v);
		if (hub->connect_timeout > hub->timeout)
			hub->connect_timeout = hub->timeout;
	}
	if ((v = nonempty_env("SMELT_HUB_RETRY_DELAY")) && strtod(v, NULL) >= 0)
		hub->retry_delay = strtod(v, NULL);
	if ((v = nonempty_env("SMELT_HUB_URL_AUTH")) || (v = nonempty_env("MELTANO_HUB_URL_AUTH")))
		hub->auth = xstrdup(v);
}

void hub_release(struct hub *hub)
{
	if (hub->curl)
		curl_api_get(NULL, 0)->easy_cleanup(hub->curl); /* hub->curl exists only once loaded */
	free(hub->api_root);
	free(hub->auth);
	free(hub->command);
	memset(hub, 0, sizeof *hub);
}

struct response {
	struct strbuf body;
	char reason[96]; /* reason phrase of the last status line */
};

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
	struct response *r = ud;
	if (r->body.len + size * n > 64u << 20) /* 64 MiB: no Hub answer is that big */
		return 0;
	strbuf_add(&r->body, data, size * n);
	return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
	struct response *r = ud;
	size_t len = size * n;
	if (len > 5 && !strncmp(data, "HTTP/", 5)) {
		/* "HTTP/1.1 503 Service Unavailable\r\n": keep what follows the code. */
		const char *p = memchr(data, ' ', len), *end = data + len;
		r->reason[0] = '\0';
		if (p && (p = memchr(p + 1, ' ', (size_t)(end - p - 1)))) {
			p++;
			size_t m = (size_t)(end - p);
			while (m && (p[m - 1] == '\r' || p[m - 1] == '\n' || p[m - 1] == ' '))
				m--;
			if (m >= sizeof r->reason)
				m = sizeof r->reason - 1;
			memcpy(r->reason, p, m);
			r->reason[m] = '\0';
		}
	}
	return len;
}

static const char *default_reason(long code)
{
	switch (code) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "HTTP error";
	}
}

static int retryable(long code)
{
	return code == 429 || code == 500 || code == 502 || code == 503 || code == 504;
}

static void sleep_seconds(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* One GET with retries.  Returns 0 with the body in r (any HTTP status), -1 on transport failure. */
static int http_get(struct hub *hub, const char *url, struct response *r, long *status, char *err,
                    size_t errlen)
{
	char lerr[256];
	const struct curl_api *curl = curl_api_get(lerr, sizeof lerr);
	if (!curl)
		return fail(err, errlen, -1, "cannot reach the Hub at '%s': %s", url, lerr);
	if (!hub->curl && !(hub->curl = curl->easy_init()))
		return fail(err, errlen, -1, "cannot reach the Hub at '%s': cannot initialise libcurl", url);
	CURL *c = hub->curl;
	double delay = hub->retry_delay;
	char cerr[CURL_ERROR_SIZE];
	struct curl_slist *headers = NULL;
	char *h;

	headers = curl->slist_append(headers, "Accept: application/json");
	if (hub->auth) {
		h = xasprintf("Authorization: %s", hub->auth);
		headers = curl->slist_append(headers, h);
		free(h);
	}
	if (hub->command) {
		h = xasprintf("X-Smelt-Command: %s", hub->command);
		headers = curl->slist_append(headers, h);
		free(h);
	}
	*status = 0;
	for (int attempt = 0;; attempt++) {
		curl->easy_reset(c);
		strbuf_reset(&r->body);
		r->reason[0] = '\0';
		cerr[0] = '\0';
		curl->easy_setopt(c, CURLOPT_URL, url);
		curl->easy_setopt(c, CURLOPT_HTTPHEADER, headers);
		curl->easy_setopt(c, CURLOPT_USERAGENT, "smelt/" SMELT_VERSION);
		curl->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
		curl->easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
		curl->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		curl->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
		curl->easy_setopt(c, CURLOPT_CONNECTTIMEOUT, hub->connect_timeout);
		curl->easy_setopt(c, CURLOPT_TIMEOUT, hub->timeout);
		curl->easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
		curl->easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
		curl->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl->easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
		curl->easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
		curl->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		curl->easy_setopt(c, CURLOPT_WRITEDATA, r);
		curl->easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
		curl->easy_setopt(c, CURLOPT_HEADERDATA, r);
		hub->requests++;
		log_debug("GET %s", url);
		CURLcode rc = curl->easy_perform(c);
		if (rc != CURLE_OK) {
			log_debug("GET %s: %s", url, cerr[0] ? cerr : curl->easy_strerror(rc));
			curl->slist_free_all(headers);
			curl->easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
			curl->easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
			return fail(err, errlen, -1, "cannot reach the Hub at '%s': %s", url,
			            curl->easy_strerror(rc));
		}
		curl->easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
		if (!retryable(*status) || attempt >= hub->retries)
			break;
		log_debug("GET %s: HTTP %ld, retrying in %.2fs", url, *status, delay);
		sleep_seconds(delay);
		delay *= 2;
	}
	curl->easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl->easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl->slist_free_all(headers);
	if (!r->reason[0])
		snprintf(r->reason, sizeof r->reason, "%s", default_reason(*status));
	return 0;
}

/* GET + JSON; HTTP >= 400 is left to the caller (returns 1 with *status set). */
static int get_json_raw(struct hub *hub, const char *url, cJSON **out, long *status,
                        struct response *r, char *err, size_t errlen)
{
	char perr[128];
	*out = NULL;
	if (http_get(hub, url, r, status, err, errlen) != 0)
		return -1;
	if (*status >= 400)
		return 1;
	*out = lock_parse_json(r->body.buf, r->body.len, perr, sizeof perr);
	if (!*out)
		return fail(err, errlen, -1, "the Hub at '%s' answered with %s", url,
		            r->body.len ? perr : "an empty body");
	return 0;
}

int hub_get_json(struct hub *hub, const char *url, cJSON **out, long *http_status, char *err,
                 size_t errlen)
{
	struct response r = { STRBUF_INIT, "" };
	long status = 0;
	int rc = get_json_raw(hub, url, out, &status, &r, err, errlen);
	if (rc == 1)
		rc = fail(err, errlen, -1, "%s (%ld): cannot retrieve '%s'", r.reason, status, url);
	if (http_status)
		*http_status = status;
	strbuf_release(&r.body);
	return rc;
}

int hub_type_index(struct hub *hub, const char *plugin_type, cJSON **index, char *err, size_t errlen)
{
	struct response r = { STRBUF_INIT, "" };
	long status = 0;
	char *url = xasprintf("%s/plugins/%s/index", hub->api_root, plugin_type);
	char cap[32];
	int rc = get_json_raw(hub, url, index, &status, &r, err, errlen);
	if (rc == 1 && status == 404) {
		struct strbuf types = STRBUF_INIT;
		for (const char *const *t = hub_plugin_types; *t; t++)
			strbuf_addf(&types, "%s'%s'", t == hub_plugin_types ? "" : ", ", *t);
		rc = fail(err, errlen, -1, "%s is not supported in Meltano Hub (%s). Available plugin types: [%s]",
		          capitalized(plugin_type, cap, sizeof cap), url, types.buf);
		strbuf_release(&types);
	} else if (rc == 1) {
		rc = fail(err, errlen, -1, "%s (%ld): can not retrieve plugins of type '%s' from '%s'",
		          r.reason, status, hub_type_descriptor(plugin_type), url);
	} else if (rc == 0 && !cJSON_IsObject(*index)) {
		cJSON_Delete(*index);
		*index = NULL;
		rc = fail(err, errlen, -1, "the Hub at '%s' answered with no plugin index", url);
	}
	strbuf_release(&r.body);
	free(url);
	return rc;
}

int hub_plugins_index(struct hub *hub, cJSON **index, char *err, size_t errlen)
{
	char *url = xasprintf("%s/plugins/index", hub->api_root);
	int rc = hub_get_json(hub, url, index, NULL, err, errlen);
	if (rc == 0 && !cJSON_IsObject(*index)) {
		cJSON_Delete(*index);
		*index = NULL;
		rc = fail(err, errlen, -1, "the Hub at '%s' answered with no plugin index", url);
	}
	free(url);
	return rc;
}

enum hub_status hub_fetch_definition(struct hub *hub, const char *plugin_type, const char *name,
                                     const char *variant, cJSON **def, char *err, size_t errlen)
{
	cJSON *index = NULL;
	char cap[32];
	*def = NULL;
	if (hub_type_index(hub, plugin_type, &index, err, errlen) != 0)
		return HUB_ERR;
	const cJSON *entry = cJSON_GetObjectItemCaseSensitive(index, name);
	if (!cJSON_IsObject(entry)) {
		cJSON_Delete(index);
		fail(err, errlen, -1, "%s '%s' is not known to Meltano Hub", capitalized(plugin_type, cap, sizeof cap),
		     name);
		return HUB_UNKNOWN_PLUGIN;
	}
	const cJSON *dv = cJSON_GetObjectItemCaseSensitive(entry, "default_variant");
	const cJSON *variants = cJSON_GetObjectItemCaseSensitive(entry, "variants");
	const char *want = variant;
	if (!want || !*want || !strcmp(want, "default") || !strcmp(want, "original"))
		want = cJSON_IsString(dv) ? dv->valuestring : NULL;
	const cJSON *v = want ? cJSON_GetObjectItemCaseSensitive(variants, want) : NULL;
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(v, "ref");
	if (!cJSON_IsString(ref)) {
		struct strbuf list = STRBUF_INIT;
		const cJSON *c;
		if (cJSON_IsString(dv))
			strbuf_addf(&list, "'%s (default)'", dv->valuestring);
		cJSON_ArrayForEach(c, variants)
			if (c->string && !(cJSON_IsString(dv) && !strcmp(c->string, dv->valuestring)))
				strbuf_addf(&list, "%s'%s'", list.len ? ", " : "", c->string);
		fail(err, errlen, -1, "%s '%s' variant '%s' is not known to Meltano. Variants: [%s]",
		     capitalized(plugin_type, cap, sizeof cap), name, want ? want : "", list.buf);
		strbuf_release(&list);
		cJSON_Delete(index);
		return HUB_UNKNOWN_VARIANT;
	}
	char *chosen = xstrdup(want);
	char *url = xstrdup(ref->valuestring);
	cJSON_Delete(index);

	struct response r = { STRBUF_INIT, "" };
	long status = 0;
	int rc = get_json_raw(hub, url, def, &status, &r, err, errlen);
	if (rc == 1)
		fail(err, errlen, -1, "%s (%ld): can not retrieve plugin %s '%s' from '%s'", r.reason, status,
		     hub_type_descriptor(plugin_type), name, url);
	else if (rc == 0 && (!cJSON_IsObject(*def) || !cJSON_IsString(cJSON_GetObjectItem(*def, "name")))) {
		fail(err, errlen, -1, "the Hub at '%s' answered with no plugin definition", url);
		rc = -1;
	}
	if (rc != 0) {
		cJSON_Delete(*def);
		*def = NULL;
	} else {
		/* The variant chosen is the one locked, whatever the definition says. */
		cJSON *dvar = cJSON_GetObjectItemCaseSensitive(*def, "variant");
		if (!cJSON_IsString(dvar) || strcmp(dvar->valuestring, chosen)) {
			if (dvar)
				cJSON_ReplaceItemInObjectCaseSensitive(*def, "variant", cJSON_CreateString(chosen));
			else
				cJSON_AddStringToObject(*def, "variant", chosen);
		}
	}
	strbuf_release(&r.body);
	free(url);
	free(chosen);
	return rc == 0 ? HUB_OK : HUB_ERR;
}
