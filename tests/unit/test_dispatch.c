/*
 * Check suite for host/src/adapters/dispatch: which adapter claims a
 * plugin (and the two errors when none does), init() once with the
 * caller's host context, the request, and the call of the operation that
 * serves each kind (SMELT_ERR_UNSUPPORTED naming the adapter and the
 * operation when it lacks it).  The adapters are descriptors in memory: no
 * .so is loaded (loading is test_loader's).
 */
#include "adapters/dispatch.h"
#include "project/project.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

static char err[SMELT_ERRBUF_SIZE * 2];

/* What the fake operations saw. */
static int inits, runs, invokes, tests;
static const struct smelt_host_api *seen_api;
static void *seen_hctx;
static struct smelt_request seen_req;

static int ok_init(const struct smelt_host_api *host, void *hctx, void **state, char *e, size_t elen)
{
	(void)e, (void)elen;
	inits++;
	seen_api = host;
	seen_hctx = hctx;
	*state = &inits;
	return SMELT_OK;
}

static int bad_init(const struct smelt_host_api *host, void *hctx, void **state, char *e, size_t elen)
{
	(void)host, (void)hctx, (void)state;
	inits++;
	snprintf(e, elen, "no tool here");
	return SMELT_ERR_CONFIG;
}

static void no_destroy(void *state) { (void)state; }

static int op_run_block(void *state, const struct smelt_request *req, char *e, size_t elen)
{
	(void)state, (void)e, (void)elen;
	runs++;
	seen_req = *req;
	return SMELT_OK;
}

static int op_invoke(void *state, const struct smelt_request *req, int *exit_code, char *e, size_t elen)
{
	(void)state, (void)elen;
	invokes++;
	seen_req = *req;
	*exit_code = 7;
	snprintf(e, elen, "unused");
	return SMELT_OK;
}

static int op_test(void *state, const struct smelt_request *req, char *e, size_t elen)
{
	(void)state;
	tests++;
	seen_req = *req;
	snprintf(e, elen, "2 tests failed");
	return SMELT_ERR;
}

static const char *const el_namespaces[] = { "tap_*", "target_*", NULL };

/* "el": claims namespaces tap_* and target_*, has every operation */
static const struct smelt_adapter el_desc = {
	.abi_version = SMELT_ABI_VERSION, .struct_size = sizeof(struct smelt_adapter), .name = "el",
	.plugin_types = SMELT_PT_EXTRACTOR, .namespaces = el_namespaces, .init = ok_init, .destroy = no_destroy,
	.run_block = op_run_block, .invoke = op_invoke, .test = op_test,
};
/* "util": claims the utilities type, no operation */
static const struct smelt_adapter util_desc = {
	.abi_version = SMELT_ABI_VERSION, .struct_size = sizeof(struct smelt_adapter), .name = "util",
	.plugin_types = SMELT_PT_UTILITY, .init = ok_init, .destroy = no_destroy,
};
/* "broken": its init fails */
static const struct smelt_adapter broken_desc = {
	.abi_version = SMELT_ABI_VERSION, .struct_size = sizeof(struct smelt_adapter), .name = "broken",
	.plugin_types = 0, .init = bad_init, .destroy = no_destroy,
};

static struct loaded_adapter items[3];
static struct loader loader;
static struct smelt_host_api api;
static int hctx_made;
static int hctx_storage[8];

static void *new_hctx(void *owner, struct loaded_adapter *a)
{
	(void)a;
	ck_assert_ptr_eq(owner, &loader);
	return &hctx_storage[hctx_made++];
}

static const struct dispatch_host host = { &api, new_hctx, &loader };

static void setup(void)
{
	memset(items, 0, sizeof items);
	items[0].desc = &el_desc;
	items[1].desc = &util_desc;
	items[2].desc = &broken_desc;
	loader = (struct loader){ .items = items, .n = 3 };
	inits = runs = invokes = tests = hctx_made = 0;
	seen_api = NULL;
	seen_hctx = NULL;
	memset(&seen_req, 0, sizeof seen_req);
	err[0] = '\0';
}

static struct plugin plugin(enum plugin_type type, const char *name, const char *adapter)
{
	return (struct plugin){ .type = type, .name = (char *)name, .adapter = (char *)adapter };
}

START_TEST(claims_by_namespace_type_and_name)
{
	struct plugin tap = plugin(PLUGIN_EXTRACTORS, "tap-x", NULL);
	struct plugin tool = plugin(PLUGIN_UTILITIES, "sqlfluff", NULL);
	struct plugin named = plugin(PLUGIN_UTILITIES, "sqlfluff", "el");
	ck_assert_ptr_eq(dispatch_claim(&loader, &tap, "tap_x", err, sizeof err), &items[0]);
	ck_assert_ptr_eq(dispatch_claim(&loader, &tool, "sqlfluff", err, sizeof err), &items[1]);
	ck_assert_ptr_eq(dispatch_claim(&loader, &named, "sqlfluff", err, sizeof err), &items[0]);
	ck_assert_int_eq(inits, 0); /* claiming inits nothing */
}
END_TEST

START_TEST(unclaimed_plugins_name_what_is_missing)
{
	struct plugin loader_pl = plugin(PLUGIN_LOADERS, "load-y", NULL);
	struct plugin named = plugin(PLUGIN_UTILITIES, "sqlfluff", "nope");
	ck_assert_ptr_null(dispatch_claim(&loader, &loader_pl, "load_y", err, sizeof err));
	ck_assert_str_eq(err, "no adapter claims plugin 'load-y' (loader, namespace 'load_y'); see 'smelt adapters list'");
	ck_assert_ptr_null(dispatch_adapter_for(&loader, &host, &named, "sqlfluff", err, sizeof err));
	ck_assert_str_eq(err, "plugin 'sqlfluff' names adapter 'nope', which is not loaded (see 'smelt adapters list')");
	ck_assert_int_eq(inits, 0);
}
END_TEST

START_TEST(init_runs_once_with_the_callers_context)
{
	struct plugin tap = plugin(PLUGIN_EXTRACTORS, "tap-x", NULL);
	struct loaded_adapter *a = dispatch_adapter_for(&loader, &host, &tap, "tap_x", err, sizeof err);
	ck_assert_ptr_eq(a, &items[0]);
	ck_assert_int_eq(inits, 1);
	ck_assert_ptr_eq(seen_api, &api);
	ck_assert_ptr_eq(seen_hctx, &hctx_storage[0]);
	ck_assert(a->initialised);
	ck_assert_ptr_eq(a->hctx, &hctx_storage[0]);
	ck_assert_ptr_eq(a->state, &inits);
	ck_assert_ptr_eq(dispatch_adapter_for(&loader, &host, &tap, "tap_x", err, sizeof err), a);
	ck_assert_int_eq(inits, 1);
	ck_assert_int_eq(hctx_made, 1);
}
END_TEST

START_TEST(failed_init_names_the_adapter)
{
	ck_assert_int_eq(dispatch_init(&items[2], &host, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "adapter 'broken': init: no tool here");
	ck_assert(!items[2].initialised);
}
END_TEST

START_TEST(request_and_call_by_kind)
{
	struct plugin tap = plugin(PLUGIN_EXTRACTORS, "tap-x", NULL), target = plugin(PLUGIN_LOADERS, "target-y", NULL);
	struct plugin *block[] = { &tap, &target };
	struct loaded_adapter *a = dispatch_adapter_for(&loader, &host, &tap, "tap_x", err, sizeof err);
	ck_assert_ptr_nonnull(a);

	struct smelt_request req = dispatch_request(SMELT_REQ_EL, block, 2);
	ck_assert_uint_eq(req.struct_size, sizeof(struct smelt_request));
	ck_assert_int_eq(req.kind, SMELT_REQ_EL);
	ck_assert_uint_eq(req.nplugins, 2);
	ck_assert_ptr_eq(req.plugins[1], (const struct smelt_plugin *)&target);
	ck_assert_ptr_null(req.command);
	ck_assert_ptr_null(req.state_id);
	ck_assert_uint_eq(req.flags, 0);
	req.state_id = "dev:tap-x-to-target-y";
	int code = -1;
	ck_assert_int_eq(dispatch_call(a, &req, &code, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(runs, 1);
	ck_assert_int_eq(code, 0);
	ck_assert_str_eq(seen_req.state_id, "dev:tap-x-to-target-y");

	req = dispatch_request(SMELT_REQ_COMMAND, block, 1);
	ck_assert_int_eq(dispatch_call(a, &req, NULL, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(runs, 2);

	req = dispatch_request(SMELT_REQ_DUMP, block, 1);
	req.dump = "config";
	ck_assert_int_eq(dispatch_call(a, &req, &code, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(invokes, 1);
	ck_assert_int_eq(code, 7);
	ck_assert_str_eq(seen_req.dump, "config");

	req = dispatch_request(SMELT_REQ_TEST, block, 1);
	req.command = "unit";
	ck_assert_int_eq(dispatch_call(a, &req, NULL, err, sizeof err), SMELT_ERR);
	ck_assert_int_eq(tests, 1);
	ck_assert_str_eq(err, "2 tests failed");
	ck_assert_str_eq(seen_req.command, "unit");
}
END_TEST

START_TEST(missing_operation_is_unsupported)
{
	struct plugin tool = plugin(PLUGIN_UTILITIES, "sqlfluff", NULL);
	struct plugin *one[] = { &tool };
	struct loaded_adapter *a = dispatch_adapter_for(&loader, &host, &tool, "sqlfluff", err, sizeof err);
	ck_assert_ptr_eq(a, &items[1]);
	static const struct {
		enum smelt_request_kind kind;
		const char *op;
	} kinds[] = { { SMELT_REQ_EL, "run_block" }, { SMELT_REQ_COMMAND, "run_block" }, { SMELT_REQ_INVOKE, "invoke" },
		      { SMELT_REQ_DUMP, "invoke" }, { SMELT_REQ_TEST, "test" } };
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		char want[128];
		struct smelt_request req = dispatch_request(kinds[i].kind, one, 1);
		ck_assert(!dispatch_has_op(a, kinds[i].kind));
		ck_assert(dispatch_has_op(&items[0], kinds[i].kind));
		ck_assert_int_eq(dispatch_call(a, &req, NULL, err, sizeof err), SMELT_ERR_UNSUPPORTED);
		snprintf(want, sizeof want, "adapter 'util': %s: not implemented yet", kinds[i].op);
		ck_assert_str_eq(err, want);
	}
	ck_assert_int_eq(runs + invokes + tests, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("dispatch");
	TCase *t = tcase_create("dispatch");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, claims_by_namespace_type_and_name);
	tcase_add_test(t, unclaimed_plugins_name_what_is_missing);
	tcase_add_test(t, init_runs_once_with_the_callers_context);
	tcase_add_test(t, failed_init_names_the_adapter);
	tcase_add_test(t, request_and_call_by_kind);
	tcase_add_test(t, missing_operation_is_unsupported);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
