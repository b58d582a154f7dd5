/* Check suite for host/src/adapters/loader: every refusal, the older minor, discovery and claims. */
#include "adapters/loader.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The ABI layout is API: these must never change within major 1. */
_Static_assert(offsetof(struct smelt_adapter, abi_version) == 0, "abi_version must stay first");
_Static_assert(offsetof(struct smelt_adapter, struct_size) == 4, "struct_size must stay second");
_Static_assert(offsetof(struct smelt_host_api, abi_version) == 0, "host abi_version must stay first");
_Static_assert(offsetof(struct smelt_host_api, struct_size) == 4, "host struct_size must stay second");
_Static_assert(offsetof(struct smelt_spawn, struct_size) == 0, "spawn struct_size first");
_Static_assert(offsetof(struct smelt_request, struct_size) == 0, "request struct_size first");
_Static_assert(offsetof(struct smelt_event, struct_size) == 0, "event struct_size first");
_Static_assert(SMELT_ADAPTER_V1_0_SIZE == offsetof(struct smelt_adapter, health), "1.1 appended health after sync");
_Static_assert(SMELT_ADAPTER_V1_1_SIZE == offsetof(struct smelt_adapter, command_size), "1.2 appended after health");
_Static_assert(SMELT_ABI_VERSION == ((SMELT_ABI_MAJOR << 16) | SMELT_ABI_MINOR), "version packing");
_Static_assert(SMELT_ABI_MAJOR == 1 && SMELT_ABI_MINOR == 2, "this file freezes the layouts of 1.2");

/*
 * The 1.2 layouts on LP64, byte by byte.  Every offset below 1.2's
 * appended fields is also asserted, against the frozen 1.1 header, by
 * tests/adapters/abi_1_1/legacy11.c: a 1.1 struct is a prefix of its 1.2
 * self (struct smelt_exit gained struct_size at its end, so the host
 * writes the 1.1 adapters' 20 bytes only).
 */
#if UINTPTR_MAX == 0xffffffffffffffffu
#define AT(type, field, off) _Static_assert(offsetof(struct type, field) == (off), #type "." #field)
AT(smelt_adapter, name, 8); AT(smelt_adapter, category, 32); AT(smelt_adapter, plugin_types, 36);
AT(smelt_adapter, namespaces, 40); AT(smelt_adapter, commands, 48); AT(smelt_adapter, init, 56);
AT(smelt_adapter, destroy, 64); AT(smelt_adapter, reserved_configure, 72); AT(smelt_adapter, invoke, 80);
AT(smelt_adapter, run_block, 88); AT(smelt_adapter, test, 96); AT(smelt_adapter, post_install, 104);
AT(smelt_adapter, export_schedules, 112); AT(smelt_adapter, reserved_sync, 120); AT(smelt_adapter, health, 128);
AT(smelt_adapter, command_size, 136); AT(smelt_adapter, check_health, 144); AT(smelt_adapter, select, 152);
_Static_assert(sizeof(struct smelt_adapter) == 160 && SMELT_ADAPTER_V1_0_SIZE == 128 && SMELT_ADAPTER_V1_1_SIZE == 136,
               "smelt_adapter sizes");
AT(smelt_host_api, alloc, 8); AT(smelt_host_api, log, 24); AT(smelt_host_api, config_json, 96);
AT(smelt_host_api, run, 152); AT(smelt_host_api, pipeline, 160); AT(smelt_host_api, event, 184);
AT(smelt_host_api, write_private, 192);
_Static_assert(sizeof(struct smelt_host_api) == 200, "smelt_host_api unchanged in 1.2");
AT(smelt_spawn, label, 8); AT(smelt_spawn, flags, 40); AT(smelt_spawn, on_line, 48); AT(smelt_spawn, arg, 56);
_Static_assert(sizeof(struct smelt_spawn) == 64 && SMELT_SPAWN_V1_0_SIZE == 64, "smelt_spawn unchanged in 1.2");
AT(smelt_exit, exit_code, 4); AT(smelt_exit, not_started, 16); AT(smelt_exit, struct_size, 20);
_Static_assert(SMELT_EXIT_V1_1_SIZE == 20 && sizeof(struct smelt_exit) == 24, "smelt_exit: 1.2 appended struct_size");
AT(smelt_event, kind, 4); AT(smelt_event, count, 24); AT(smelt_event, message, 40); AT(smelt_event, detail_json, 48);
_Static_assert(sizeof(struct smelt_event) == 56 && SMELT_EVENT_V1_0_SIZE == 56, "smelt_event unchanged in 1.2");
AT(smelt_request, plugins, 8); AT(smelt_request, flags, 72); AT(smelt_request, timeout_s, 88);
AT(smelt_request, schedules_json, 96);
_Static_assert(sizeof(struct smelt_request) == 104, "smelt_request: 1.2 appended schedules_json");
AT(smelt_command, description, 8);
_Static_assert(sizeof(struct smelt_command) == 16 && SMELT_COMMAND_V1_1_SIZE == 16, "smelt_command unchanged");
AT(smelt_health, healthy, 4); AT(smelt_health, detail, 8); AT(smelt_health, detail_len, 16);
_Static_assert(sizeof(struct smelt_health) == 24, "smelt_health of 1.2");
#undef AT
#endif

static struct loader loader;
static char err[SMELT_ERRBUF_SIZE * 2];

static void setup(void)
{
	loader_init(&loader);
	err[0] = '\0';
}

static void teardown(void)
{
	loader_release(&loader);
}

static int open_case(const char *name)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s.so", ADAPTER_DIR, name);
	return loader_open(&loader, path, err, sizeof err);
}

START_TEST(loads_good_adapter)
{
	ck_assert_int_eq(open_case("ok"), SMELT_OK);
	ck_assert_uint_eq(loader.n, 1);
	ck_assert_str_eq(loader.items[0].desc->name, "test_ok");
	ck_assert_ptr_nonnull(loader_find(&loader, "test_ok"));
}
END_TEST

START_TEST(loads_older_minor)
{
	ck_assert_int_eq(open_case("abi_minor_older"), SMELT_OK);
	const struct smelt_adapter *d = loader.items[0].desc;
	ck_assert_uint_eq(SMELT_ABI_MINOR_OF(d->abi_version), 0);
	/* A 1.0 descriptor has no health field: the host must not read it. */
	ck_assert(!SMELT_HAS(d, struct smelt_adapter, health));
}
END_TEST

START_TEST(rejects_other_major)
{
	ck_assert_int_eq(open_case("abi_major"), SMELT_ERR_ABI);
	ck_assert_ptr_nonnull(strstr(err, "abi_major.so"));
	char want[64];
	snprintf(want, sizeof want, "needs ABI %u.0, host has %u.%u", SMELT_ABI_MAJOR + 1, SMELT_ABI_MAJOR,
	         SMELT_ABI_MINOR);
	ck_assert_msg(strstr(err, want), "got: %s", err);
	ck_assert_uint_eq(loader.n, 0);
}
END_TEST

START_TEST(rejects_newer_minor)
{
	/* abi_minor_newer.so claims 1.3: the whole message, naming the file and both versions */
	ck_assert_int_eq(open_case("abi_minor_newer"), SMELT_ERR_ABI);
	ck_assert_str_eq(err, "adapter '" ADAPTER_DIR "/abi_minor_newer.so' needs ABI 1.3, host has 1.2 (adapter is newer)");
	ck_assert_uint_eq(loader.n, 0);
}
END_TEST

START_TEST(rejects_missing_entry)
{
	ck_assert_int_eq(open_case("no_entry"), SMELT_ERR_ABI);
	ck_assert_msg(strstr(err, "no_entry.so") && strstr(err, "no 'smelt_adapter_entry' symbol"), "got: %s", err);
}
END_TEST

START_TEST(rejects_null_entry)
{
	ck_assert_int_eq(open_case("null_entry"), SMELT_ERR_ABI);
	ck_assert_msg(strstr(err, "returned NULL"), "got: %s", err);
}
END_TEST

START_TEST(rejects_small_struct)
{
	ck_assert_int_eq(open_case("too_small"), SMELT_ERR_ABI);
	ck_assert_msg(strstr(err, "too_small.so") && strstr(err, "descriptor of 16 bytes"), "got: %s", err);
}
END_TEST

START_TEST(rejects_duplicate_name)
{
	ck_assert_int_eq(open_case("ok"), SMELT_OK);
	ck_assert_int_eq(open_case("dup_name"), SMELT_ERR_CONFIG);
	ck_assert_msg(strstr(err, "same name") && strstr(err, "ok.so"), "got: %s", err);
	ck_assert_uint_eq(loader.n, 1);
}
END_TEST

START_TEST(rejects_missing_init)
{
	ck_assert_int_eq(open_case("no_init"), SMELT_ERR_CONFIG);
	ck_assert_msg(strstr(err, "required operation 'init'"), "got: %s", err);
}
END_TEST

START_TEST(rejects_bad_name)
{
	ck_assert_int_eq(open_case("bad_name"), SMELT_ERR_CONFIG);
	ck_assert_msg(strstr(err, "invalid name"), "got: %s", err);
}
END_TEST

START_TEST(rejects_bad_command_size)
{
	ck_assert_int_eq(open_case("bad_command_size"), SMELT_ERR_ABI);
	ck_assert_str_eq(err, "adapter '" ADAPTER_DIR "/bad_command_size.so' (ABI 1.2) has a command_size of 8 bytes; "
	                      "want 16 to 16");
}
END_TEST

START_TEST(steps_through_commands_by_command_size)
{
	ck_assert_int_eq(open_case("ok"), SMELT_OK);
	ck_assert_int_eq(open_case("abi_minor_older"), SMELT_OK); /* 1.0: no command_size, the 1.1 stride */
	for (size_t i = 0; i < 2; i++) {
		ck_assert_str_eq(loader_command(&loader.items[i], 0)->name, "first");
		ck_assert_str_eq(loader_command(&loader.items[i], 1)->description, "the second command");
		ck_assert_ptr_null(loader_command(&loader.items[i], 2));
		ck_assert_ptr_null(loader_command(&loader.items[i], 7));
	}
}
END_TEST

START_TEST(rejects_non_library)
{
	ck_assert_int_eq(loader_open(&loader, SOURCE_DIR "/README.md", err, sizeof err), SMELT_ERR);
	ck_assert_msg(strstr(err, "cannot load adapter"), "got: %s", err);
}
END_TEST

START_TEST(scan_keeps_good_despite_bad)
{
	size_t n = loader_scan_dir(&loader, ADAPTER_DIR);
	/* ok.so and abi_minor_older.so load; dup_name.so sorts before ok.so so it wins the name */
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(loader.nrefusals, 9);
	ck_assert_ptr_nonnull(loader_find(&loader, "test_older"));
	ck_assert_ptr_nonnull(loader_find(&loader, "test_ok"));
}
END_TEST

START_TEST(scan_missing_dir_is_empty)
{
	ck_assert_uint_eq(loader_scan_dir(&loader, "/nonexistent/smelt/adapters"), 0);
	ck_assert_uint_eq(loader.nrefusals, 0);
}
END_TEST

START_TEST(claims_by_namespace_then_type)
{
	ck_assert_int_eq(open_case("ok"), SMELT_OK);
	ck_assert_ptr_nonnull(loader_claim(&loader, NULL, "test_thing", 0));
	ck_assert_ptr_null(loader_claim(&loader, NULL, "other", SMELT_PT_EXTRACTOR));
	ck_assert_ptr_nonnull(loader_claim(&loader, NULL, "other", SMELT_PT_UTILITY));
	ck_assert_ptr_nonnull(loader_claim(&loader, "test_ok", NULL, 0));
	ck_assert_ptr_null(loader_claim(&loader, "nope", "test_x", SMELT_PT_UTILITY));
}
END_TEST

START_TEST(discovers_from_env_path)
{
	setenv("SMELT_ADAPTER_PATH", "/nonexistent:" STAGE_DIR "/lib/smelt/adapters", 1);
	loader_discover(&loader, NULL, NULL);
	unsetenv("SMELT_ADAPTER_PATH");
	ck_assert_ptr_nonnull(loader_find(&loader, "singer"));
	ck_assert_ptr_nonnull(loader_find(&loader, "dbt"));
}
END_TEST

START_TEST(plugin_type_names)
{
	ck_assert_uint_eq(loader_type_bit("extractors"), SMELT_PT_EXTRACTOR);
	ck_assert_uint_eq(loader_type_bit("extractor"), SMELT_PT_EXTRACTOR);
	ck_assert_uint_eq(loader_type_bit("utility"), SMELT_PT_UTILITY);
	ck_assert_uint_eq(loader_type_bit("files"), SMELT_PT_FILE);
	ck_assert_uint_eq(loader_type_bit("nope"), 0);
	ck_assert_str_eq(loader_type_bit_name(SMELT_PT_ORCHESTRATOR), "orchestrators");
}
END_TEST

/* ---- lazy discovery through an index (loader_discover_indexed()) ---- */

static char tmp[256], adir[300], saved_path[4096];
static int had_path;

static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out;
	ck_assert_ptr_nonnull(in);
	unlink(to); /* a new inode and ctime, as an upgrade that replaces the file */
	out = fopen(to, "wb");
	ck_assert_ptr_nonnull(out);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	fclose(out);
}

static void copy_case(const char *name)
{
	char from[1024], to[1024];
	snprintf(from, sizeof from, "%s/%s.so", ADAPTER_DIR, name);
	snprintf(to, sizeof to, "%s/%s.so", adir, name);
	copy_file(from, to);
}

static char *read_index(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/adapters.index", tmp);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void write_index(const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/adapters.index", tmp);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* A fresh loader discovering adir through the index in tmp. */
static void discover_indexed(const char *dir)
{
	loader_release(&loader);
	loader_init(&loader);
	loader_discover_indexed(&loader, dir, NULL, tmp, "adapters.index");
}

static void index_setup(void)
{
	setup();
	const char *p = getenv("SMELT_ADAPTER_PATH"); /* the suite's own: only adir is scanned here */
	had_path = p != NULL;
	if (p)
		snprintf(saved_path, sizeof saved_path, "%s", p);
	unsetenv("SMELT_ADAPTER_PATH");
	snprintf(tmp, sizeof tmp, "/tmp/smelt-loader-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(adir, sizeof adir, "%s/adapters", tmp);
	ck_assert_int_eq(mkdir(adir, 0700), 0);
	copy_case("abi_minor_older"); /* test_older, sorts first */
	copy_case("ok");              /* test_ok */
}

static void index_teardown(void)
{
	teardown();
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	ck_assert_int_eq(system(cmd), 0);
	if (had_path)
		setenv("SMELT_ADAPTER_PATH", saved_path, 1);
}

START_TEST(index_first_discovery_loads_all_and_writes_it)
{
	discover_indexed(adir);
	ck_assert_uint_eq(loader.n, 2);
	ck_assert_ptr_nonnull(loader.items[0].desc);
	ck_assert_ptr_nonnull(loader.items[1].desc);
	const char *ix = read_index();
	ck_assert_ptr_nonnull(ix);
	ck_assert_msg(strstr(ix, "\"name\":\"test_older\"") && strstr(ix, "\"name\":\"test_ok\""), "index: %s", ix);
	char path[512];
	struct stat sb;
	snprintf(path, sizeof path, "%s/adapters.index", tmp);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
}
END_TEST

START_TEST(index_loads_only_what_is_claimed)
{
	discover_indexed(adir);
	discover_indexed(adir);
	ck_assert_uint_eq(loader.n, 2);
	ck_assert_ptr_null(loader.items[0].desc); /* vouched for by the index: not loaded */
	ck_assert_ptr_null(loader.items[1].desc);
	/* both claim test_*: the later one wins, as with every adapter loaded; only it is loaded */
	struct loaded_adapter *a = loader_claim(&loader, NULL, "test_thing", 0);
	ck_assert_ptr_eq(a, &loader.items[1]);
	ck_assert_str_eq(a->desc->name, "test_ok");
	ck_assert_ptr_null(loader.items[0].desc);
	ck_assert_ptr_eq(loader_find(&loader, "test_older"), &loader.items[0]);
	ck_assert_str_eq(loader.items[0].desc->name, "test_older");
	ck_assert_ptr_null(loader_find(&loader, "nope"));
	ck_assert_ptr_null(loader_claim(&loader, NULL, "other", SMELT_PT_EXTRACTOR));
}
END_TEST

START_TEST(index_reloads_a_changed_file)
{
	discover_indexed(adir);
	copy_case("ok"); /* replaced: its identity changed */
	discover_indexed(adir);
	ck_assert_ptr_null(loader.items[0].desc);
	ck_assert_ptr_nonnull(loader.items[1].desc);
	ck_assert_str_eq(loader.items[1].desc->name, "test_ok");
	/* and a file that went away leaves the index */
	char path[512];
	snprintf(path, sizeof path, "%s/ok.so", adir);
	ck_assert_int_eq(unlink(path), 0);
	discover_indexed(adir);
	ck_assert_uint_eq(loader.n, 1);
	ck_assert_ptr_null(strstr(read_index(), "test_ok"));
}
END_TEST

START_TEST(index_that_disagrees_with_the_file_is_overruled)
{
	discover_indexed(adir);
	/* the index (edited: a file's identity alone guards it) says test_older claims extractors; it claims utilities */
	char *ix = read_index(), *p = strstr(ix, "\"name\":\"test_older\",\"plugin_types\":64");
	ck_assert_ptr_nonnull(p);
	memcpy(strstr(p, ":64") + 1, "1 ", 2);
	write_index(ix);
	discover_indexed(adir);
	ck_assert_ptr_null(loader.items[0].desc);
	/* the index's word would give test_older; loading it shows it does not claim extractors */
	ck_assert_ptr_null(loader_claim(&loader, NULL, "other", SMELT_PT_EXTRACTOR));
	ck_assert_ptr_nonnull(loader.items[0].desc);
	ck_assert_uint_eq(loader.items[0].plugin_types, SMELT_PT_UTILITY); /* what the file says, from now on */
	ck_assert_ptr_null(loader.items[1].desc);
}
END_TEST

START_TEST(index_refusals_are_reported_every_time)
{
	discover_indexed(ADAPTER_DIR);
	ck_assert_uint_eq(loader.nrefusals, 9);
	discover_indexed(ADAPTER_DIR);
	ck_assert_uint_eq(loader.nrefusals, 9); /* refused files are never indexed: loaded, and refused, again */
	ck_assert_uint_eq(loader.n, 2);
	ck_assert_ptr_null(loader.items[0].desc);
	ck_assert_ptr_nonnull(strstr(loader.refusals[0], ".so"));
	loader_load_all(&loader);
	for (size_t i = 0; i < loader.n; i++)
		ck_assert_ptr_nonnull(loader.items[i].desc);
}
END_TEST

START_TEST(index_garbage_is_ignored)
{
	write_index("{\"version\": 1, \"adapters\": [{\"path\": 7}, 3, \"x\"]}");
	discover_indexed(adir);
	ck_assert_uint_eq(loader.n, 2);
	ck_assert_ptr_nonnull(loader.items[0].desc);
	write_index("not json");
	discover_indexed(adir);
	ck_assert_ptr_nonnull(loader.items[1].desc);
	discover_indexed(adir); /* rewritten by the discovery before: good again */
	ck_assert_ptr_null(loader.items[1].desc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("loader");
	TCase *tc = tcase_create("refusals");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, loads_good_adapter);
	tcase_add_test(tc, loads_older_minor);
	tcase_add_test(tc, rejects_other_major);
	tcase_add_test(tc, rejects_newer_minor);
	tcase_add_test(tc, rejects_missing_entry);
	tcase_add_test(tc, rejects_null_entry);
	tcase_add_test(tc, rejects_small_struct);
	tcase_add_test(tc, rejects_duplicate_name);
	tcase_add_test(tc, rejects_missing_init);
	tcase_add_test(tc, rejects_bad_name);
	tcase_add_test(tc, rejects_non_library);
	tcase_add_test(tc, rejects_bad_command_size);
	tcase_add_test(tc, steps_through_commands_by_command_size);
	suite_add_tcase(s, tc);
	tc = tcase_create("discovery");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, scan_keeps_good_despite_bad);
	tcase_add_test(tc, scan_missing_dir_is_empty);
	tcase_add_test(tc, claims_by_namespace_then_type);
	tcase_add_test(tc, discovers_from_env_path);
	tcase_add_test(tc, plugin_type_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("index");
	tcase_add_checked_fixture(tc, index_setup, index_teardown);
	tcase_add_test(tc, index_first_discovery_loads_all_and_writes_it);
	tcase_add_test(tc, index_loads_only_what_is_claimed);
	tcase_add_test(tc, index_reloads_a_changed_file);
	tcase_add_test(tc, index_that_disagrees_with_the_file_is_overruled);
	tcase_add_test(tc, index_refusals_are_reported_every_time);
	tcase_add_test(tc, index_garbage_is_ignored);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
