/*
 * adapter-hello: the smallest complete Smelt adapter, built out of tree
 * against the installed SDK:
 *
 *   cc $(pkg-config --cflags smelt-sdk) -shared -o hello.so hello.c
 *   SMELT_ADAPTER_PATH=$PWD smelt adapters list
 *
 * It claims utilities whose namespace is "hello" and, when invoked,
 * runs `echo` through the host's process supervisor, so its output lands
 * in smelt's log like any tool's.
 */
#include <smelt/sdk.h>

#include <stdio.h>

struct hello {
	const struct smelt_host_api *host; /* borrowed until destroy */
	void *hctx;
};

static struct hello hello_state; /* one instance per process is enough here */

static int hello_init(const struct smelt_host_api *host, void *hctx, void **state, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	hello_state.host = host;
	hello_state.hctx = hctx;
	*state = &hello_state;
	return SMELT_OK;
}

static void hello_destroy(void *state)
{
	(void)state;
}

static int hello_invoke(void *state, const struct smelt_request *req, int *exit_code, char *err, size_t errlen)
{
	struct hello *h = state;
	const char *name = h->host->plugin_attr(h->hctx, req->plugins[0], "name");
	const char *argv[] = { "echo", "hello from", name ? name : "?", NULL };
	struct smelt_spawn spec = { .struct_size = sizeof spec, .label = name, .argv = argv };
	struct smelt_exit ex = { .struct_size = sizeof ex }; /* 1.2: every struct says its size */
	int rc = h->host->run(h->hctx, &spec, &ex, err, errlen);
	if (rc != SMELT_OK)
		return rc;
	*exit_code = ex.exited ? ex.exit_code : 1;
	return SMELT_OK;
}

static const char *const hello_namespaces[] = { "hello", NULL };

static const struct smelt_command hello_commands[] = {
	{ "greet", "print a greeting" },
	{ NULL, NULL },
};

static const struct smelt_adapter hello_adapter = {
	.abi_version = SMELT_ABI_VERSION,
	.struct_size = sizeof(struct smelt_adapter),
	.name = "hello",
	.version = "1.0.0",
	.description = "the smallest out-of-tree adapter",
	.category = SMELT_CAT_OTHER,
	.namespaces = hello_namespaces,
	.commands = hello_commands,
	.command_size = sizeof(struct smelt_command),
	.init = hello_init,
	.destroy = hello_destroy,
	.invoke = hello_invoke,
};

SMELT_EXPORT const struct smelt_adapter *smelt_adapter_entry(void)
{
	return &hello_adapter;
}
