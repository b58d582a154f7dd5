/*
 * A 1.2 adapter that hands the host structs whose struct_size is wrong:
 * the host must refuse them with SMELT_ERR_ABI and a message, never read
 * or write past what the adapter owns (tests/e2e/test_abi_compat.py).
 * `smelt run sizes-thing:CASE`, CASE one of:
 *   exit0     host->run() with a struct smelt_exit whose struct_size is 0
 *   mixed     host->pipeline() with stages of two different struct_size
 *   spawn0    host->run() with a struct smelt_spawn whose struct_size is 0
 *   event0    host->event() with a struct smelt_event whose struct_size is 0 (ignored, warned)
 */
#include <smelt/sdk.h>

#include <stdio.h>
#include <string.h>

struct sizes {
	const struct smelt_host_api *host;
	void *hctx;
};

static struct sizes the_state;

static int sizes_run_block(void *state, const struct smelt_request *req, char *err, size_t errlen)
{
	struct sizes *a = state;
	const char *argv[] = { "true", NULL };
	const char *c = req->command ? req->command : "";
	struct smelt_spawn st[2] = { { .struct_size = sizeof st[0], .label = "one", .argv = argv },
	                             { .struct_size = sizeof st[0], .label = "two", .argv = argv } };
	struct smelt_exit ex[2] = { { .struct_size = sizeof ex[0] }, { .struct_size = sizeof ex[0] } };
	if (!strcmp(c, "exit0")) {
		ex[0].struct_size = 0;
		return a->host->run(a->hctx, st, ex, err, errlen);
	}
	if (!strcmp(c, "mixed")) {
		st[1].struct_size = SMELT_SPAWN_V1_0_SIZE - 8;
		return a->host->pipeline(a->hctx, st, 2, ex, err, errlen);
	}
	if (!strcmp(c, "spawn0")) {
		st[0].struct_size = 0;
		return a->host->run(a->hctx, st, ex, err, errlen);
	}
	if (!strcmp(c, "event0")) {
		struct smelt_event ev = { .struct_size = 0, .kind = SMELT_EV_SUMMARY, .message = "never shown" };
		a->host->event(a->hctx, &ev);
		return SMELT_OK;
	}
	snprintf(err, errlen, "no case '%s'", c);
	return SMELT_ERR_NOTFOUND;
}

static int sizes_init(const struct smelt_host_api *host, void *hctx, void **state, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	the_state.host = host;
	the_state.hctx = hctx;
	*state = &the_state;
	return SMELT_OK;
}

static void sizes_destroy(void *state)
{
	(void)state;
}

static const char *const sizes_namespaces[] = { "sizes_*", NULL };

static const struct smelt_adapter sizes_adapter = {
	.abi_version = SMELT_ABI_VERSION,
	.struct_size = sizeof(struct smelt_adapter),
	.name = "struct_sizes",
	.version = "1.2.0",
	.description = "hands the host structs of wrong sizes",
	.category = SMELT_CAT_OTHER,
	.namespaces = sizes_namespaces,
	.init = sizes_init,
	.destroy = sizes_destroy,
	.run_block = sizes_run_block,
};

SMELT_EXPORT const struct smelt_adapter *smelt_adapter_entry(void)
{
	return &sizes_adapter;
}
