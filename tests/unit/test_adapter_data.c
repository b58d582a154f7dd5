/*
 * Check suite for host/src/adapters/data: the folders in the loader's
 * order, what a data folder holds (definitions, plugin_types.json), bad
 * files skipped, the first folder winning; and the plugin types' extras
 * definition.c builds from it.
 */
#include "project/adapter_data.h"
#include "project/definition.h"
#include "util/fs.h"
#include "util/strbuf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/smelt-adapter-data-XXXXXX";

static void put(const char *rel, const char *text)
{
	char *path = path_join(tmpdir, rel);
	char *dir = path_dirname(path);
	ck_assert_int_eq(mkdir_p(dir, 0755), 0);
	ck_assert_int_eq(write_file_atomic(path, text, strlen(text), 0644), 0);
	free(dir);
	free(path);
}

static char *saved_path; /* $SMELT_ADAPTER_PATH as ctest set it: restored after each test (CK_FORK=no) */

static void setup(void)
{
	strcpy(tmpdir, "/tmp/smelt-adapter-data-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	const char *p = getenv("SMELT_ADAPTER_PATH");
	saved_path = p ? xstrdup(p) : NULL;
}

static void teardown(void)
{
	remove_tree(tmpdir);
	if (saved_path)
		setenv("SMELT_ADAPTER_PATH", saved_path, 1);
	else
		unsetenv("SMELT_ADAPTER_PATH");
	free(saved_path);
	saved_path = NULL;
}

START_TEST(dirs_in_loader_order)
{
	setenv("SMELT_ADAPTER_PATH", "/a::/b:", 1);
	char **dirs = adapter_dirs("/install", "/proj");
	ck_assert_str_eq(dirs[0], "/install");
	ck_assert_str_eq(dirs[1], "/a");
	ck_assert_str_eq(dirs[2], "/b");
	ck_assert_str_eq(dirs[3], "/proj/adapters");
	ck_assert_ptr_null(dirs[4]);
	for (size_t i = 0; dirs[i]; i++)
		free(dirs[i]);
	free(dirs);
	unsetenv("SMELT_ADAPTER_PATH");
	dirs = adapter_dirs(NULL, NULL);
	ck_assert_ptr_null(dirs[0]);
	free(dirs);
}
END_TEST

START_TEST(scans_definitions_and_types)
{
	put("one/acme.so", "not read");
	put("one/acme/definitions/utilities--lint--acme.json", "{\"name\": \"lint\", \"pip_url\": \"lint==1\"}");
	put("one/acme/definitions/utilities--fmt--acme.json", "{\"name\": \"fmt\"}");
	put("one/acme/definitions/broken--x--y.json", "{}");         /* not a plural type */
	put("one/acme/definitions/utility--x--y.json", "{}");        /* singular */
	put("one/acme/definitions/utilities--bad--acme.json", "[1]"); /* not an object */
	put("one/acme/definitions/nodashes.json", "{}");
	put("one/acme/definitions/utilities--a--b--c.json", "{}");
	put("one/acme/definitions/README.md", "not json");
	put("one/acme/plugin_types.json",
	    "{\"utilities\": {\"name_prefixes\": [\"acme-\", 3, \"\"], \"extras\": [{\"name\": \"rules\"}]},"
	    " \"utility\": {}, \"loaders\": 1}");
	/* a second folder: its lint is shadowed, its other definition joins */
	put("two/zed/definitions/utilities--lint--acme.json", "{\"name\": \"lint\", \"label\": \"second\"}");
	put("two/zed/definitions/loaders--target-z--zed.json", "{\"name\": \"target-z\"}");
	char *one = path_join(tmpdir, "one"), *two = path_join(tmpdir, "two");
	char *dirs[] = { one, two, "/nonexistent", NULL };
	struct adapter_data d = { 0 };
	adapter_data_scan(&d, dirs);
	ck_assert_uint_eq(d.ndefs, 3);
	ck_assert_str_eq(d.defs[0].name, "fmt"); /* file name order within a folder */
	ck_assert(!d.defs[0].has_pip_url);
	ck_assert_str_eq(d.defs[1].name, "lint");
	ck_assert_str_eq(d.defs[1].plugin_type, "utilities");
	ck_assert_str_eq(d.defs[1].variant, "acme");
	ck_assert_str_eq(d.defs[1].adapter, "acme");
	ck_assert(d.defs[1].has_pip_url);
	ck_assert_ptr_null(strstr(d.defs[1].json, "second"));
	ck_assert_str_eq(d.defs[2].name, "target-z");
	ck_assert_str_eq(d.defs[2].adapter, "zed");
	ck_assert_uint_eq(d.ntypes, 1);
	ck_assert_str_eq(d.types[0].plugin_type, "utilities");
	ck_assert_str_eq(d.types[0].name_prefixes[0], "acme-");
	ck_assert_ptr_null(d.types[0].name_prefixes[1]);
	ck_assert_int_eq(cJSON_GetArraySize(d.types[0].extras), 1);
	adapter_data_release(&d);
	ck_assert_uint_eq(d.ndefs, 0);
	free(one);
	free(two);
}
END_TEST

START_TEST(get_is_cached_per_folders)
{
	put("a/x/definitions/extractors--tap-x--x.json", "{\"name\": \"tap-x\"}");
	char *a = path_join(tmpdir, "a");
	setenv("SMELT_ADAPTER_PATH", a, 1);
	const struct adapter_data *d1 = adapter_data_get(NULL);
	ck_assert_ptr_eq(adapter_data_get(NULL), d1);
	int found = 0;
	for (size_t i = 0; i < d1->ndefs; i++)
		found += !strcmp(d1->defs[i].name, "tap-x");
	ck_assert_int_eq(found, 1);
	/* other folders, another scan */
	unsetenv("SMELT_ADAPTER_PATH");
	ck_assert_ptr_ne(adapter_data_get(NULL), d1);
	/* the project's adapters/ counts */
	put("p/adapters/y/definitions/loaders--target-y--y.json", "{\"name\": \"target-y\"}");
	char *p = path_join(tmpdir, "p");
	const struct adapter_data *d2 = adapter_data_get(p);
	found = 0;
	for (size_t i = 0; i < d2->ndefs; i++)
		found += !strcmp(d2->defs[i].name, "target-y");
	ck_assert_int_eq(found, 1);
	free(a);
	free(p);
}
END_TEST

/* Types only: the definitions are read when someone asks for them, into the same data. */
START_TEST(types_do_not_read_definitions)
{
	put("t/x/definitions/extractors--tap-t--x.json", "{\"name\": \"tap-t\"}");
	put("t/x/plugin_types.json", "{\"extractors\": {\"name_prefixes\": [\"tap-\"]}}");
	char *t = path_join(tmpdir, "t");
	setenv("SMELT_ADAPTER_PATH", t, 1);
	const struct adapter_data *d = adapter_data_types(NULL);
	ck_assert_uint_eq(d->ndefs, 0);
	ck_assert_uint_eq(d->ntypes, 1);
	ck_assert_str_eq(d->types[0].name_prefixes[0], "tap-");
	ck_assert_ptr_eq(adapter_data_get(NULL), d);
	ck_assert_uint_eq(d->ndefs, 1);
	ck_assert_str_eq(d->defs[0].name, "tap-t");
	ck_assert_uint_eq(d->ntypes, 1); /* not read twice */
	ck_assert_ptr_eq(adapter_data_types(NULL), d);
	free(t);
}
END_TEST

/* The extras of a type are what the adapters declare, in their order; the first folder wins a name. */
START_TEST(extras_come_from_the_adapters)
{
	put("e1/acme/plugin_types.json",
	    "{\"utilities\": {\"extras\": [{\"name\": \"rules\", \"kind\": \"array\", \"value\": [\"*\"]},"
	    " {\"name\": \"report\", \"kind\": \"string\"}, {\"kind\": \"string\"}, {\"name\": \"_x\"}]}}");
	put("e2/zed/plugin_types.json",
	    "{\"utilities\": {\"extras\": [{\"name\": \"rules\", \"kind\": \"object\"}, {\"name\": \"level\","
	    " \"kind\": \"integer\", \"value\": 3}]}}");
	char *e1 = path_join(tmpdir, "e1"), *e2 = path_join(tmpdir, "e2");
	char *path = xasprintf("%s:%s", e1, e2);
	setenv("SMELT_ADAPTER_PATH", path, 1);
	size_t n;
	const struct extra_def *x = plugin_type_extras(PLUGIN_UTILITIES, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(x[0].name, "rules");
	ck_assert_int_eq(x[0].kind, KIND_ARRAY);
	ck_assert_str_eq(x[0].default_json, "[\"*\"]");
	ck_assert_str_eq(x[1].name, "report");
	ck_assert_ptr_null(x[1].default_json);
	ck_assert_str_eq(x[2].name, "level");
	ck_assert_str_eq(x[2].default_json, "3");
	ck_assert(plugin_type_is_extra(PLUGIN_UTILITIES, "report"));
	ck_assert(!plugin_type_is_extra(PLUGIN_LOADERS, "report"));
	/* file bundles keep the host's own extra */
	x = plugin_type_extras(PLUGIN_FILES, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(x[0].name, "update");
	unsetenv("SMELT_ADAPTER_PATH");
	free(path);
	free(e1);
	free(e2);
}
END_TEST

/* The stage's adapters declare Meltano's extras, in the order and with the defaults of its EXTRA_SETTINGS
 * (SMELT_ADAPTER_PATH set by ctest). */
START_TEST(stage_adapters_declare_the_meltano_extras)
{
	size_t n;
	const struct extra_def *x = plugin_type_extras(PLUGIN_EXTRACTORS, &n);
	ck_assert_uint_eq(n, 9);
	ck_assert_str_eq(x[0].name, "log_parser");
	ck_assert_str_eq(x[0].default_json, "\"singer-sdk\"");
	ck_assert_str_eq(x[3].name, "load_schema");
	ck_assert_str_eq(x[3].default_json, "\"$MELTANO_EXTRACTOR_NAMESPACE\"");
	ck_assert_str_eq(x[4].name, "select");
	ck_assert_str_eq(x[4].default_json, "[\"*.*\"]");
	ck_assert_str_eq(x[8].name, "use_cached_catalog");
	ck_assert_str_eq(x[8].default_json, "true");
	x = plugin_type_extras(PLUGIN_LOADERS, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(x[0].name, "log_parser");
	ck_assert_str_eq(x[1].name, "dialect");
	x = plugin_type_extras(PLUGIN_MAPPERS, &n);
	ck_assert_uint_eq(n, 2);
	x = plugin_type_extras(PLUGIN_TRANSFORMS, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(x[1].name, "vars");
	x = plugin_type_extras(PLUGIN_ORCHESTRATORS, &n);
	ck_assert_uint_eq(n, 0);
}
END_TEST

static Suite *data_suite(void)
{
	Suite *s = suite_create("adapter_data");
	TCase *tc = tcase_create("scan");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, dirs_in_loader_order);
	tcase_add_test(tc, scans_definitions_and_types);
	tcase_add_test(tc, get_is_cached_per_folders);
	tcase_add_test(tc, types_do_not_read_definitions);
	tcase_add_test(tc, extras_come_from_the_adapters);
	suite_add_tcase(s, tc);
	tc = tcase_create("stage");
	tcase_add_test(tc, stage_adapters_declare_the_meltano_extras);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(data_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
