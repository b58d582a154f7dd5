/*
 * server: libmicrohttpd around the API (serve/api.c): one thread per
 * connection (a live log stream may block its own thread, never the
 * others), connection timeouts, the body cap, the bearer token, TLS.
 * The threads answering requests run at a lower scheduling priority
 * (SCHED_IDLE and nice 10 by default: --sched, --nice) than the runs the
 * server starts, so a crowd of clients slows the server, not the runs.
 */
#include "serve/serve.h"
#include "serve/budget.h"
#include "serve/children.h"
#include "serve/ctx.h"
#include "serve/dbpool.h"
#include "serve/http.h"
#include "serve/respcache.h"
#include "serve/static.h"
#include "build_config.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "serve/mhd_lazy.h"

#define CONN_TIMEOUT_S 30     /* an idle or stalled connection is closed after this */
#define CONN_LIMIT 1024       /* simultaneous connections */

struct reply reply_json(unsigned status, cJSON *v)
{
	char *text = cJSON_PrintUnformatted(v);
	cJSON_Delete(v);
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return (struct reply){ status, resp };
}

struct reply reply_json_text(unsigned status, const char *text, size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return (struct reply){ status, resp };
}

struct reply reply_error(unsigned status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", msg);
	return reply_json(status, o);
}

const char *req_query(const struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

/*
 * Percent-decoding of the path and query: a decoded NUL or control byte
 * becomes 0x7f, which no id accepts, so "%00" cannot cut a path short
 * and every check sees what was asked for.
 */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *w = s;
	for (const char *p = s; *p;) {
		if (p[0] == '%' && p[1] && p[2] && strchr("0123456789abcdefABCDEF", p[1]) &&
		    strchr("0123456789abcdefABCDEF", p[2])) {
			char hex[3] = { p[1], p[2], 0 };
			unsigned char v = (unsigned char)strtoul(hex, NULL, 16);
			*w++ = (char)(v < 0x20 || v == 0x7f ? 0x7f : v);
			p += 3;
		} else {
			*w++ = *p++;
		}
	}
	*w = 0;
	return (size_t)(w - s);
}

static void add_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
}

static enum MHD_Result send_reply(struct MHD_Connection *c, struct reply rep)
{
	if (!rep.resp) {
		struct reply e = reply_error(rep.status, "error");
		rep.resp = e.resp;
	}
	add_headers(rep.resp);
	if (rep.status == 401)
		MHD_add_response_header(rep.resp, "WWW-Authenticate", "Bearer");
	enum MHD_Result r = MHD_queue_response(c, rep.status, rep.resp);
	MHD_destroy_response(rep.resp);
	return r;
}

static void request_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;
	if (!r)
		return;
	strbuf_release(&r->body);
	free(r);
	*con_cls = NULL;
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 1;
	return 0;
}

/* budget_admit()'s question: do runs the server started go? */
static int runs_going(void *kids)
{
	return children_running(kids) > 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct serve_ctx *sv = cls;
	struct req *r = *con_cls;
	if (!r) { /* first call: headers only; refuse early what needs no body */
		r = xcalloc(1, sizeof *r);
		strbuf_init(&r->body, 0);
		r->sv = sv;
		r->conn = c;
		r->method = method;
		r->path = url;
		r->bad_url = has_control(url);
		*con_cls = r;
		char ui_file[256];
		if (!r->bad_url && static_wants(method, url, ui_file, sizeof ui_file)) /* the web UI: no token */
			return send_reply(c, static_serve(sv->o->data_dir, ui_file));
		int is_health = !strcmp(url, "/health") && (!strcmp(method, "GET") || !strcmp(method, "HEAD"));
		if (!is_health &&
		    !auth_check(sv->token, MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION)))
			return send_reply(c, reply_error(401, "missing or wrong bearer token (Authorization: Bearer TOKEN)"));
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > HTTP_BODY_MAX)
			return send_reply(c, reply_error(413, "the request body is over %u bytes", HTTP_BODY_MAX));
		return MHD_YES;
	}
	if (*upload_size) {
		if (r->body.len + *upload_size > HTTP_BODY_MAX)
			r->too_large = 1;
		else
			strbuf_add(&r->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->too_large)
		return send_reply(c, reply_error(413, "the request body is over %u bytes", HTTP_BODY_MAX));
	if (strcmp(r->path, "/health")) /* runs go: the server keeps to its share; a health probe never waits */
		budget_admit(sv->budget, runs_going, sv->kids);
	enum MHD_Result ret = send_reply(c, api_handle(r));
	budget_done(sv->budget);
	return ret;
}

/* "HOST:PORT", "[V6]:PORT" or ":PORT"/"PORT" (loopback) into addr; 0 or -1. */
static int parse_listen(const char *text, struct sockaddr_storage *addr, int *loopback, char *err, size_t errlen)
{
	char host[256] = "127.0.0.1";
	const char *port_s;
	memset(addr, 0, sizeof *addr);
	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		if (!end || end[1] != ':' || (size_t)(end - text - 1) >= sizeof host)
			goto bad;
		memcpy(host, text + 1, (size_t)(end - text - 1));
		host[end - text - 1] = 0;
		port_s = end + 2;
	} else {
		const char *colon = strrchr(text, ':');
		if (colon) {
			if ((size_t)(colon - text) >= sizeof host)
				goto bad;
			if (colon > text) {
				memcpy(host, text, (size_t)(colon - text));
				host[colon - text] = 0;
			}
			port_s = colon + 1;
		} else {
			port_s = text;
		}
	}
	char *e;
	long port = strtol(port_s, &e, 10);
	if (!*port_s || *e || port < 1 || port > 65535)
		goto bad;
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof host, "127.0.0.1");
	struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
		return 0;
	}
bad:
	return fail(err, errlen, SMELT_ERR_CONFIG,
	            "--listen must be HOST:PORT with an IP address (127.0.0.1:5000, [::1]:5000), not '%s'", text);
}

/*
 * Lower the calling thread's priority (Linux: nice and the scheduling
 * policy are per thread); the daemon's threads, made from it later,
 * inherit both.  With idle, the thread runs under SCHED_IDLE: it gets a
 * CPU when nothing else wants it, and a waking run preempts it at once;
 * the kernel still gives it a small share (weight 3 against 1024 for a
 * nice 0 task), so a busy machine slows the API, never stops it.  With
 * the kernel's autogroups (one scheduling group per session) a thread's
 * nice only counts inside its session, and runs are sessions of their
 * own: so a server that leads its session (systemd, setsid) also lowers
 * its session's group.  One started from a shell leaves the shell's
 * session alone.  Failures change nothing.
 */
static void lower_priority(int nice, int idle)
{
	if (idle) {
		struct sched_param sp = { .sched_priority = 0 };
		pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
	}
	errno = 0;
	int now = getpriority(PRIO_PROCESS, (id_t)gettid());
	if (errno || now >= nice)
		return;
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), nice) != 0)
		return;
	if (getsid(0) == getpid()) {
		int fd = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			char text[16];
			int n = snprintf(text, sizeof text, "%d", nice);
			ssize_t w = write(fd, text, (size_t)n);
			(void)w;
			close(fd);
		}
	}
}

static volatile sig_atomic_t got_signal;

/*
 * libmicrohttpd's own messages (a port in use, a client that broke off a
 * TLS handshake) go to smelt's log at debug level, not raw to stderr: what
 * stops the server is said once, by smelt's error.
 */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char line[512];
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = 0;
	log_debug("http: %s", line);
}

static void on_signal(int sig)
{
	got_signal = sig;
}

static char *read_pem(const char *path, const char *what, char *err, size_t errlen)
{
	struct strbuf sb = STRBUF_INIT;
	char rerr[SMELT_ERRBUF_SIZE];
	if (read_regular_file(path, 1u << 20, &sb, rerr, sizeof rerr) != 0) {
		strbuf_release(&sb);
		fail(err, errlen, SMELT_ERR_CONFIG, "%s: %s", what, rerr);
		return NULL;
	}
	return strbuf_detach(&sb);
}

int serve_run(const struct serve_opts *o, char *err, size_t errlen)
{
	struct sockaddr_storage addr;
	int loopback = 0;
	if (parse_listen(o->listen ? o->listen : "127.0.0.1:5000", &addr, &loopback, err, errlen))
		return SMELT_ERR_CONFIG;
	int tls = o->tls_cert || o->tls_key;
	if ((o->tls_cert == NULL) != (o->tls_key == NULL))
		return fail(err, errlen, SMELT_ERR_CONFIG, "--tls-cert and --tls-key go together");
	if (!loopback && !tls && !o->insecure)
		return fail(err, errlen, SMELT_ERR_CONFIG,
		            "listening on '%s' (not a loopback address) needs TLS (--tls-cert F --tls-key F), or "
		            "--insecure to send the token in clear text",
		            o->listen);
	char why[256];
	if (!mhd_api_get(why, sizeof why))
		return fail(err, errlen, SMELT_ERR_UNSUPPORTED, "smelt serve needs libmicrohttpd: %s", why);
	if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return fail(err, errlen, SMELT_ERR_UNSUPPORTED, "this libmicrohttpd has no TLS support");
	if (mkdir_private(o->sys_dir) != 0)
		return fail(err, errlen, SMELT_ERR, "cannot create '%s': %s", o->sys_dir, strerror(errno));
	struct serve_ctx *sv = xcalloc(1, sizeof *sv);
	sv->o = o;
	pthread_mutex_init(&sv->project_lock, NULL);
	char *token_from = NULL;
	if (auth_load_token(o->sys_dir, sv->token, &token_from, err, errlen)) {
		free(sv);
		return SMELT_ERR_CONFIG;
	}
	char *cert = NULL, *key = NULL;
	if (tls && (!(cert = read_pem(o->tls_cert, "--tls-cert", err, errlen)) ||
	            !(key = read_pem(o->tls_key, "--tls-key", err, errlen)))) {
		free(cert);
		free(token_from);
		free(sv);
		return SMELT_ERR_CONFIG;
	}
	char *db = path_join(o->sys_dir, "smelt.db");
	sv->db = dbpool_new(db);
	dbpool_use_postgres(sv->db, o->database_uri);
	free(db);
	sv->cache = respcache_new(sv->db);
	sv->budget = budget_new(o->busy_cpu);
	sv->kids = children_new(sv);
	if (!sv->kids) {
		budget_free(sv->budget);
		respcache_free(sv->cache);
		dbpool_free(sv->db);
		free(cert);
		free(key);
		free(token_from);
		free(sv);
		return fail(err, errlen, SMELT_ERR, "cannot start a thread");
	}
	/* after the reaper thread (which starts the runs) was made: it keeps the normal priority */
	lower_priority(o->nice, o->idle);
	/* SIGTERM/SIGINT end the server; SIGPIPE from a gone client must not */
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
	                 (addr.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0) | (tls ? MHD_USE_TLS : 0);
	struct MHD_OptionItem opts[] = {
		{ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL }, /* first, so that start-up messages use it */
		{ MHD_OPTION_SOCK_ADDR, 0, &addr },
		{ MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S, NULL },
		{ MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT, NULL },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)request_done, NULL },
		{ MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)unescape, NULL },
		{ tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert },
		{ tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, key },
		{ MHD_OPTION_END, 0, NULL },
	};
	struct MHD_Daemon *d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, sv, MHD_OPTION_ARRAY, opts,
	                                        MHD_OPTION_END);
	int rc = SMELT_OK;
	if (!d) {
		rc = fail(err, errlen, SMELT_ERR, "cannot listen on '%s': %s (is the port in use?)",
		          o->listen ? o->listen : "127.0.0.1:5000", strerror(errno));
	} else {
		const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
		log_say_final("Serving %s on %s://%s (port %u); token in %s; stop with Ctrl-C", o->root,
		              tls ? "https" : "http", o->listen ? o->listen : "127.0.0.1:5000",
		              info ? (unsigned)info->port : 0, token_from);
		fflush(NULL);
		while (!got_signal) {
			struct timespec ts = { 0, 200 * 1000000L };
			nanosleep(&ts, NULL);
		}
		log_info("stopping (%s): open streams end, runs in progress go on and record their own end",
		         got_signal == SIGINT ? "SIGINT" : "SIGTERM");
		atomic_store(&sv->stopping, 1);
		children_notify(sv->kids); /* wakes the live log streams, which end */
		MHD_stop_daemon(d);
	}
	children_free(sv->kids);
	budget_free(sv->budget);
	respcache_free(sv->cache);
	dbpool_free(sv->db);
	pthread_mutex_destroy(&sv->project_lock);
	free(cert);
	free(key);
	free(token_from);
	free(sv);
	return rc;
}
