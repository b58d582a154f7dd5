/*
 * The superset adapter: Apache Superset: the warehouse's tables and models as datasets.
 * Its operations arrive with their issue; until then the host answers
 * every call with "not implemented yet" (exit 2).
 */
#include <smelt/sdk.h>

#include <stddef.h>

static const char *const superset_namespaces[] = { "superset", NULL };

static int superset_init(const struct smelt_host_api *host, void *hctx, void **state, char *err, size_t errlen)
{
	(void)host;
	(void)hctx;
	(void)err;
	(void)errlen;
	*state = NULL;
	return SMELT_OK;
}

static void superset_destroy(void *state)
{
	(void)state;
}

static const struct smelt_adapter superset_adapter = {
	.abi_version = SMELT_ABI_VERSION,
	.struct_size = sizeof(struct smelt_adapter),
	.name = "superset",
	.version = "0.1.0",
	.description = "Apache Superset: the warehouse's tables and models as datasets",
	.category = SMELT_CAT_ANALYSIS,
	.plugin_types = 0,
	.namespaces = superset_namespaces,
	.init = superset_init,
	.destroy = superset_destroy,
};

SMELT_EXPORT const struct smelt_adapter *smelt_adapter_entry(void)
{
	return &superset_adapter;
}
