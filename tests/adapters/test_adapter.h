/* A parameterised test adapter: each tests/adapters/<case>.c sets the macros and includes this. */
#include <smelt/sdk.h>
#include <stddef.h>

#ifndef TA_NAME
#define TA_NAME "test_ok"
#endif
#ifndef TA_ABI
#define TA_ABI SMELT_ABI_VERSION
#endif
#ifndef TA_SIZE
#define TA_SIZE sizeof(struct smelt_adapter)
#endif
#ifndef TA_INIT
#define TA_INIT ta_init
#endif
#ifndef TA_COMMAND_SIZE
#define TA_COMMAND_SIZE sizeof(struct smelt_command)
#endif

__attribute__((unused)) static int ta_init(const struct smelt_host_api *host, void *hctx, void **state, char *err, size_t errlen)
{
	(void)host; (void)hctx; (void)err; (void)errlen;
	*state = NULL;
	return SMELT_OK;
}

static void ta_destroy(void *state) { (void)state; }

static const char *const ta_namespaces[] = { "test_*", NULL };

static const struct smelt_command ta_commands[] = {
	{ "first", "the first command" },
	{ "second", "the second command" },
	{ NULL, NULL },
};

__attribute__((unused)) static const struct smelt_adapter ta_adapter = {
	.abi_version = TA_ABI,
	.struct_size = TA_SIZE,
	.name = TA_NAME,
	.version = "9.9.9",
	.description = "test adapter",
	.category = SMELT_CAT_OTHER,
	.plugin_types = SMELT_PT_UTILITY,
	.namespaces = ta_namespaces,
	.commands = ta_commands,
	.command_size = TA_COMMAND_SIZE,
	.init = TA_INIT,
	.destroy = ta_destroy,
};

#ifndef TA_NO_ENTRY
SMELT_EXPORT const struct smelt_adapter *smelt_adapter_entry(void)
{
#ifdef TA_NULL_ENTRY
	return NULL;
#else
	(void)ta_adapter;
	return &ta_adapter;
#endif
}
#else
/* Exported, but under another name than the loader looks for. */
SMELT_EXPORT const struct smelt_adapter *smelt_adapter_entry_v0(void) { return &ta_adapter; }
#endif
