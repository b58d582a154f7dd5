/*
 * The gx adapter: Great Expectations (GX Core 1.x) quality checks.
 * Its operations arrive with their issue; until then the host answers
 * every call with "not implemented yet" (exit 2).
 */
#include <smelt/sdk.h>

#include <stddef.h>

static const char *const gx_namespaces[] = { "great_expectations", "gx", NULL };

static int gx_init(const struct smelt_host_api *host, void *hctx, void **state, char *err, size_t errlen)
{
	(void)host;
	(void)hctx;
	(void)err;
	(void)errlen;
	*state = NULL;
	return SMELT_OK;
}

static void gx_destroy(void *state)
{
	(void)state;
}

static const struct smelt_adapter gx_adapter = {
	.abi_version = SMELT_ABI_VERSION,
	.struct_size = sizeof(struct smelt_adapter),
	.name = "gx",
	.version = "0.1.0",
	.description = "Great Expectations (GX Core 1.x) quality checks",
	.category = SMELT_CAT_QUALITY,
	.plugin_types = 0,
	.namespaces = gx_namespaces,
	.init = gx_init,
	.destroy = gx_destroy,
};

SMELT_EXPORT const struct smelt_adapter *smelt_adapter_entry(void)
{
	return &gx_adapter;
}
