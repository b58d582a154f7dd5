/*
 * The singer adapter: Singer taps, targets and mappers.
 * Its operations arrive with their issue; until then the host answers
 * every call with "not implemented yet" (exit 2).
 */
#include <smelt/sdk.h>

#include <stddef.h>

static const char *const singer_namespaces[] = {  NULL };

static int singer_init(const struct smelt_host_api *host, void *hctx, void **state, char *err, size_t errlen)
{
	(void)host;
	(void)hctx;
	(void)err;
	(void)errlen;
	*state = NULL;
	return SMELT_OK;
}

static void singer_destroy(void *state)
{
	(void)state;
}

static const struct smelt_adapter singer_adapter = {
	.abi_version = SMELT_ABI_VERSION,
	.struct_size = sizeof(struct smelt_adapter),
	.name = "singer",
	.version = "0.1.0",
	.description = "Singer taps, targets and mappers",
	.category = SMELT_CAT_EXTRACT_LOAD,
	.plugin_types = SMELT_PT_EXTRACTOR | SMELT_PT_LOADER | SMELT_PT_MAPPER,
	.namespaces = singer_namespaces,
	.init = singer_init,
	.destroy = singer_destroy,
};

SMELT_EXPORT const struct smelt_adapter *smelt_adapter_entry(void)
{
	return &singer_adapter;
}
