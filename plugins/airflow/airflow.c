/*
 * The airflow adapter: Apache Airflow 3: the project's schedules as DAGs.
 * Its operations arrive with their issue; until then the host answers
 * every call with "not implemented yet" (exit 2).
 */
#include <smelt/sdk.h>

#include <stddef.h>

static const char *const airflow_namespaces[] = { "airflow", NULL };

static int airflow_init(const struct smelt_host_api *host, void *hctx, void **state, char *err, size_t errlen)
{
	(void)host;
	(void)hctx;
	(void)err;
	(void)errlen;
	*state = NULL;
	return SMELT_OK;
}

static void airflow_destroy(void *state)
{
	(void)state;
}

static const struct smelt_adapter airflow_adapter = {
	.abi_version = SMELT_ABI_VERSION,
	.struct_size = sizeof(struct smelt_adapter),
	.name = "airflow",
	.version = "0.1.0",
	.description = "Apache Airflow 3: the project's schedules as DAGs",
	.category = SMELT_CAT_ORCHESTRATE,
	.plugin_types = SMELT_PT_ORCHESTRATOR,
	.namespaces = airflow_namespaces,
	.init = airflow_init,
	.destroy = airflow_destroy,
};

SMELT_EXPORT const struct smelt_adapter *smelt_adapter_entry(void)
{
	return &airflow_adapter;
}
