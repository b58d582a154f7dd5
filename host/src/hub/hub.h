/*
 * hub - the MeltanoHub API client (libcurl).  MELTANO.md section 10.
 *
 *   GET <api root>/plugins/index                 every type's index
 *   GET <api root>/plugins/<type>/index          {name: {default_variant, variants: {v: {ref}}, logo_url}}
 *   GET <variants[v].ref>                        the flat definition (absolute URL, may redirect to another host)
 *
 * Requests follow redirects, verify TLS, send "User-Agent: smelt/<version>"
 * and "Accept: application/json", retry 429/500/502/503/504 three times
 * with a doubling delay (first delay $SMELT_HUB_RETRY_DELAY seconds, default
 * 0.5), and time out after 10 s to connect and 60 s in all ($SMELT_HUB_TIMEOUT
 * overrides the total, in seconds).  There is no HTTP cache: lock files are.
 *
 * Errors are one line naming the URL and the cause, e.g.
 *   cannot reach the Hub at 'http://127.0.0.1:1/plugins/extractors/index': Couldn't connect to server
 *
 * Threading: a struct hub is used by one thread at a time; different
 * structs may be used on different threads.
 */
#ifndef SMELT_HUB_H
#define SMELT_HUB_H

#include <cjson/cJSON.h>
#include <stddef.h>

#define HUB_DEFAULT_API_ROOT "https://hub.meltano.com/meltano/api/v1"

struct hub {
	char *api_root;       /* no trailing '/', e.g. HUB_DEFAULT_API_ROOT */
	char *auth;           /* Authorization header value (hub_url_auth), NULL: none */
	char *command;        /* X-Smelt-Command header value (e.g. "add"), NULL: none */
	long connect_timeout; /* seconds */
	long timeout;         /* seconds for a whole request */
	int retries;          /* extra attempts on 429/500/502/503/504 */
	double retry_delay;   /* seconds before the first retry; doubles each time */
	int requests;         /* HTTP requests made so far (tests, logging) */
	void *curl;           /* CURL *, created on first use */
};

/*
 * The API root to use, first found: $SMELT_HUB_URL, $MELTANO_HUB_API_ROOT,
 * the project's hub_api_root setting, the project's hub_url setting (or
 * $MELTANO_HUB_URL) + "/meltano/api/v1", HUB_DEFAULT_API_ROOT.  Settings
 * may be NULL.  Caller frees; a trailing '/' is removed.
 */
char *hub_api_root(const char *hub_api_root_setting, const char *hub_url_setting);

/*
 * Set up a client for api_root (copied; NULL: hub_api_root(NULL, NULL)).
 * Reads $SMELT_HUB_TIMEOUT, $SMELT_HUB_RETRY_DELAY and, when set,
 * $SMELT_HUB_URL_AUTH / $MELTANO_HUB_URL_AUTH for the Authorization header.
 * No network I/O happens here.
 */
void hub_init(struct hub *hub, const char *api_root);
/* Free what hub holds; hub is zeroed and may be hub_init'ed again.  Accepts a zeroed hub. */
void hub_release(struct hub *hub);

/*
 * GET url and parse the answer as JSON (with lock_parse_json's float marks).
 * what names the request in errors ("plugins of type 'extractor'").
 * Returns 0 with *out (caller frees with cJSON_Delete), or -1 with err
 * filled; *http_status (may be NULL) is the last HTTP status, 0 when no
 * answer came.
 */
int hub_get_json(struct hub *hub, const char *url, cJSON **out, long *http_status, char *err,
                 size_t errlen);

/*
 * The index of one plural plugin type.  A 404 means the Hub does not know
 * the type: "Extractor is not supported in Meltano Hub. Available plugin
 * types: [...]".  Returns 0 with *index (caller frees) or -1 with err.
 */
int hub_type_index(struct hub *hub, const char *plugin_type, cJSON **index, char *err, size_t errlen);

/* The whole index (GET <root>/plugins/index). */
int hub_plugins_index(struct hub *hub, cJSON **index, char *err, size_t errlen);

/*
 * Status of a definition lookup, so callers can fall back (to the
 * built-in catalog) when the Hub simply does not know a plugin.
 */
enum hub_status {
	HUB_OK = 0,
	HUB_ERR = -1,             /* network or HTTP failure, bad answer */
	HUB_UNKNOWN_PLUGIN = -2,  /* the type index has no such name */
	HUB_UNKNOWN_VARIANT = -3, /* the plugin has no such variant */
};

/*
 * Fetch the definition of plugin name of plugin_type (plural) and variant
 * (NULL, "", "default" or "original": the default variant).  On HUB_OK
 * *def is the definition as the Hub serves it (caller frees) with
 * "variant" set to the variant chosen.  Otherwise err holds Meltano's
 * message, e.g. "Extractor 'tap-x' is not known to Meltano Hub" or
 * "Extractor 'tap-x' variant 'v' is not known to Meltano. Variants:
 * ['a (default)', 'b']".
 */
enum hub_status hub_fetch_definition(struct hub *hub, const char *plugin_type, const char *name,
                                     const char *variant, cJSON **def, char *err, size_t errlen);

/* "extractors" -> "extractor", "utilities" -> "utility", "files" -> "file bundle", ... (static string). */
const char *hub_type_descriptor(const char *plugin_type);
/* 1 when plugin_type is one of Meltano's eight plural type names. */
int hub_type_valid(const char *plugin_type);
/* The eight plural types, NULL-terminated, in Meltano's order. */
extern const char *const hub_plugin_types[];

#endif
