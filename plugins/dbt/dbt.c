/*
 * The dbt adapter: dbt Core with its warehouse adapters (sqlite, duckdb, postgres, snowflake).
 * Its operations arrive with their issue; until then the host answers
 * every call with "not implemented yet" (exit 2).
 */
#include <smelt/sdk.h>

#include <stddef.h>

static const char *const dbt_namespaces[] = { "dbt", "dbt_*", NULL };

static int dbt_init(const struct smelt_host_api *host, void *hctx, void **state, char *err, size_t errlen)
{
	(void)host;
	(void)hctx;
	(void)err;
	(void)errlen;
	*state = NULL;
	return SMELT_OK;
}

static void dbt_destroy(void *state)
{
	(void)state;
}

static const struct smelt_adapter dbt_adapter = {
	.abi_version = SMELT_ABI_VERSION,
	.struct_size = sizeof(struct smelt_adapter),
	.name = "dbt",
	.version = "0.1.0",
	.description = "dbt Core with its warehouse adapters (sqlite, duckdb, postgres, snowflake)",
	.category = SMELT_CAT_TRANSFORM,
	.plugin_types = SMELT_PT_TRANSFORMER,
	.namespaces = dbt_namespaces,
	.init = dbt_init,
	.destroy = dbt_destroy,
};

SMELT_EXPORT const struct smelt_adapter *smelt_adapter_entry(void)
{
	return &dbt_adapter;
}
