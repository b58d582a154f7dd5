/*
 * An adapter built against the frozen ABI 1.1 header (abi_1_1/smelt/sdk.h,
 * the header of commit 27c7455), never the current one: the 1.2 host must
 * load it and run it unchanged (tests/e2e/test_abi_compat.py).
 *
 * `smelt run legacy-thing:pipe` runs printf | tr | sed through
 * host->pipeline() (the last stage's lines reach on_line), then `sh -c
 * 'exit 3'` through host->run(), reports one result per line and a count
 * through host->event(), and writes what it saw to <project>/legacy11.out.
 * Each struct smelt_exit it hands over has the 1.1 size (20 bytes) and is
 * followed by a canary: a host that wrote its own 1.2 layout, or stepped
 * through ex[] by its own sizeof, would put the exit codes in the wrong
 * places and overwrite the canary.
 */
#include <smelt/sdk.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(SMELT_ABI_MAJOR == 1 && SMELT_ABI_MINOR == 1, "built against the frozen 1.1 header");
_Static_assert(sizeof(struct smelt_exit) == 5 * sizeof(int), "1.1's struct smelt_exit has no struct_size");

/*
 * The 1.1 layouts on LP64, as tests/unit/test_loader.c asserts them for
 * 1.2: the same offsets, so each 1.1 struct is a prefix of its 1.2 self.
 */
#if UINTPTR_MAX == 0xffffffffffffffffu
#define AT(type, field, off) _Static_assert(offsetof(struct type, field) == (off), #type "." #field)
AT(smelt_adapter, name, 8); AT(smelt_adapter, category, 32); AT(smelt_adapter, plugin_types, 36);
AT(smelt_adapter, namespaces, 40); AT(smelt_adapter, commands, 48); AT(smelt_adapter, init, 56);
AT(smelt_adapter, destroy, 64); AT(smelt_adapter, configure, 72); AT(smelt_adapter, invoke, 80);
AT(smelt_adapter, run_block, 88); AT(smelt_adapter, test, 96); AT(smelt_adapter, post_install, 104);
AT(smelt_adapter, export_schedules, 112); AT(smelt_adapter, sync, 120); AT(smelt_adapter, health, 128);
_Static_assert(sizeof(struct smelt_adapter) == 136, "1.1 descriptor");
AT(smelt_host_api, alloc, 8); AT(smelt_host_api, log, 24); AT(smelt_host_api, config_json, 96);
AT(smelt_host_api, run, 152); AT(smelt_host_api, pipeline, 160); AT(smelt_host_api, event, 184);
AT(smelt_host_api, write_private, 192);
_Static_assert(sizeof(struct smelt_host_api) == 200, "1.1 host api");
AT(smelt_spawn, label, 8); AT(smelt_spawn, flags, 40); AT(smelt_spawn, on_line, 48); AT(smelt_spawn, arg, 56);
_Static_assert(sizeof(struct smelt_spawn) == 64, "1.1 spawn");
AT(smelt_exit, exit_code, 4); AT(smelt_exit, not_started, 16);
_Static_assert(sizeof(struct smelt_exit) == 20, "1.1 exit");
AT(smelt_event, kind, 4); AT(smelt_event, count, 24); AT(smelt_event, message, 40); AT(smelt_event, detail_json, 48);
_Static_assert(sizeof(struct smelt_event) == 56, "1.1 event");
AT(smelt_request, plugins, 8); AT(smelt_request, flags, 72); AT(smelt_request, timeout_s, 88);
_Static_assert(sizeof(struct smelt_request) == 96, "1.1 request");
AT(smelt_command, description, 8);
_Static_assert(sizeof(struct smelt_command) == 16, "1.1 command");
#undef AT
#endif

#define CANARY 0x5a5a5a5a

struct legacy {
	const struct smelt_host_api *host;
	void *hctx;
};

struct lines {
	char buf[512];
	size_t len;
	unsigned long n;
};

static int on_line(void *arg, const char *line, size_t len, unsigned long lineno)
{
	struct lines *l = arg;
	(void)lineno;
	if (l->len + len + 2 < sizeof l->buf) {
		memcpy(l->buf + l->len, line, len);
		l->len += len;
		l->buf[l->len++] = '\n';
		l->buf[l->len] = '\0';
	}
	l->n++;
	return 0;
}

static int legacy_run_block(void *state, const struct smelt_request *req, char *err, size_t errlen)
{
	struct legacy *a = state;
	if (!req->command || strcmp(req->command, "pipe")) {
		snprintf(err, errlen, "legacy11 runs only the command 'pipe'");
		return SMELT_ERR_NOTFOUND;
	}
	const char *produce[] = { "printf", "one\\ntwo\\nthree\\n", NULL };
	const char *upper[] = { "tr", "a-z", "A-Z", NULL };
	const char *label[] = { "sed", "s/^/got /", NULL };
	struct lines got = { .len = 0 };
	struct smelt_spawn st[3] = {
		{ .struct_size = sizeof st[0], .label = "produce", .argv = produce },
		{ .struct_size = sizeof st[0], .label = "upper", .argv = upper },
		{ .struct_size = sizeof st[0], .label = "label", .argv = label, .on_line = on_line, .arg = &got },
	};
	struct {
		struct smelt_exit ex[3];
		int canary;
	} pipe;
	memset(&pipe, 0xff, sizeof pipe); /* every field -1 until the host writes it */
	pipe.canary = CANARY;
	int rc = a->host->pipeline(a->hctx, st, 3, pipe.ex, err, errlen);
	if (rc)
		return rc;
	const char *fail_argv[] = { "sh", "-c", "exit 3", NULL };
	struct smelt_spawn one = { .struct_size = sizeof one, .label = "exit3", .argv = fail_argv,
	                           .flags = SMELT_SPAWN_STDIN_NULL };
	struct {
		struct smelt_exit ex;
		int canary;
	} single;
	memset(&single, 0xff, sizeof single);
	single.canary = CANARY;
	if ((rc = a->host->run(a->hctx, &one, &single.ex, err, errlen)))
		return rc;

	/* one result per line (a "check"), and the count of lines as a stream's rows */
	for (char *line = got.buf, *nl; got.len && (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		char item[sizeof got.buf + 8];
		snprintf(item, sizeof item, "check %s", line);
		struct smelt_event ev = { .struct_size = sizeof ev, .kind = SMELT_EV_RESULT, .item = item,
		                          .status = "pass", .count = -1, .seconds = -1 };
		a->host->event(a->hctx, &ev);
		*nl = '\n';
	}
	struct smelt_event count = { .struct_size = sizeof count, .kind = SMELT_EV_COUNT, .item = "stream lines",
	                             .count = (int64_t)got.n, .seconds = -1, .message = "records" };
	a->host->event(a->hctx, &count);

	const char *root = a->host->path(a->hctx, SMELT_PATH_PROJECT_ROOT);
	char path[4096];
	snprintf(path, sizeof path, "%s/legacy11.out", root);
	FILE *f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "cannot write '%s'", path);
		return SMELT_ERR;
	}
	fputs(got.buf, f);
	for (int i = 0; i < 3; i++)
		fprintf(f, "stage %d: exited %d code %d signaled %d not_started %d\n", i, pipe.ex[i].exited,
		        pipe.ex[i].exit_code, pipe.ex[i].signaled, pipe.ex[i].not_started);
	fprintf(f, "run: exited %d code %d signaled %d not_started %d\n", single.ex.exited, single.ex.exit_code,
	        single.ex.signaled, single.ex.not_started);
	fprintf(f, "canaries: %s %s\n", pipe.canary == CANARY ? "intact" : "overwritten",
	        single.canary == CANARY ? "intact" : "overwritten");
	fclose(f);
	return SMELT_OK;
}

static int legacy_health(void *state, char *err, size_t errlen)
{
	(void)state;
	snprintf(err, errlen, "legacy is fine");
	return SMELT_OK;
}

static int legacy_init(const struct smelt_host_api *host, void *hctx, void **state, char *err, size_t errlen)
{
	struct legacy *a = calloc(1, sizeof *a);
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return SMELT_ERR_NOMEM;
	}
	a->host = host;
	a->hctx = hctx;
	*state = a;
	return SMELT_OK;
}

static void legacy_destroy(void *state)
{
	free(state);
}

static const char *const legacy_namespaces[] = { "legacy_*", NULL };

static const struct smelt_command legacy_commands[] = {
	{ "pipe", "a pipeline of three stages, then one process" },
	{ "spare", "a second entry, so the host must step through the table" },
	{ NULL, NULL },
};

static const struct smelt_adapter legacy_adapter = {
	.abi_version = SMELT_ABI_VERSION,
	.struct_size = sizeof(struct smelt_adapter),
	.name = "legacy11",
	.version = "1.1.0",
	.description = "built against the ABI 1.1 header",
	.category = SMELT_CAT_OTHER,
	.plugin_types = 0,
	.namespaces = legacy_namespaces,
	.commands = legacy_commands,
	.init = legacy_init,
	.destroy = legacy_destroy,
	.run_block = legacy_run_block,
	.health = legacy_health,
};

SMELT_EXPORT const struct smelt_adapter *smelt_adapter_entry(void)
{
	return &legacy_adapter;
}
