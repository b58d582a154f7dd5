/*
 * test_install: virtualenvs, fingerprints and parallel installs
 * (install/install.c).  The installs here need no package index: "--no-index
 * pip" succeeds with the pip a new venv already has, and "--no-index
 * smelt-no-such-package-xyz" fails; real packages are installed by the e2e
 * tests.  $SMELT_NO_UV=1 keeps the pip path even where uv is installed.
 */
#include "install/install.h"
#include "install/pins.h"
#include "util/argv.h"
#include "util/sha256.h"
#include "util/fs.h"
#include "util/strbuf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <glob.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char tmpdir[256];

static void setup_tmp(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/smelt-test-install-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	setenv("SMELT_NO_UV", "1", 1);
	unsetenv("SMELT_PYTHON");
}

static void teardown_tmp(void)
{
	remove_tree(tmpdir);
}

START_TEST(sha256_known_vectors)
{
	char hex[65];
	sha256_hex("", 0, hex);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *long_msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha256_hex(long_msg, strlen(long_msg), hex);
	ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

START_TEST(fingerprint_like_meltano)
{
	/* Meltano's own test: sha256 of "example" */
	char *fp = install_fingerprint("example", NULL);
	ck_assert_str_eq(fp, "50d858e0985ecc7f60418aaf0cc5ab587f42c2570a884095a9e8ccacd0f6545c");
	free(fp);
	/* sorted, de-duplicated, joined by one space */
	char *a = install_fingerprint("b a  b", NULL), *b = install_fingerprint("a b", NULL);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	a = install_fingerprint("a b", "python3.12");
	b = install_fingerprint("a b", NULL);
	ck_assert_str_ne(a, b);
	free(a);
	free(b);
}
END_TEST

START_TEST(split_args_like_a_shell)
{
	size_t n = 0;
	char **w = NULL;
	ck_assert_int_eq(argv_split("  dbt-core>=1.10,<2 'a b' \"c \\\"d\\\"\" e\\ f --constraint=x ", &w, &n), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(w[0], "dbt-core>=1.10,<2");
	ck_assert_str_eq(w[1], "a b");
	ck_assert_str_eq(w[2], "c \"d\"");
	ck_assert_str_eq(w[3], "e f");
	ck_assert_str_eq(w[4], "--constraint=x");
	ck_assert_ptr_null(w[5]);
	argv_free(w);
	w = NULL;
	ck_assert_int_eq(argv_split("a 'b", &w, &n), -1);
	argv_free(w);
	w = NULL;
	ck_assert_int_eq(argv_split("", &w, &n), 0);
	ck_assert_uint_eq(n, 0);
	argv_free(w);
}
END_TEST

START_TEST(needed_follows_fingerprint)
{
	char *venv = xasprintf("%s/extractors/tap-x/venv", tmpdir);
	struct install_item it = { .plugin_type = "extractors", .name = "tap-x", .pip_url = "tap-x==1", .venv_dir = venv };
	ck_assert_int_eq(install_needed(&it), 1);
	struct install_item none = { .name = "tap-csv", .pip_url = "  ", .venv_dir = venv };
	ck_assert_int_eq(install_needed(&none), 0);
	/* a matching fingerprint alone is not enough: bin/python must exist too */
	char *bin = xasprintf("%s/bin", venv), *py = xasprintf("%s/bin/python", venv);
	char *fpfile = xasprintf("%s/extractors/tap-x/.smelt_plugin_fingerprint", tmpdir);
	char *fp = install_fingerprint("tap-x==1", NULL);
	ck_assert_int_eq(mkdir_p(bin, 0755), 0);
	ck_assert_int_eq(write_file_atomic(fpfile, fp, strlen(fp), 0644), 0);
	ck_assert_int_eq(install_needed(&it), 1);
	ck_assert_int_eq(write_file_atomic(py, "#!/bin/sh\n", 10, 0755), 0);
	ck_assert_int_eq(install_needed(&it), 0);
	it.pip_url = "tap-x==2";
	ck_assert_int_eq(install_needed(&it), 1);
	it.pip_url = "tap-x==1";
	setenv("SMELT_PYTHON", "python3.99", 1);
	ck_assert_int_eq(install_needed(&it), 1);
	unsetenv("SMELT_PYTHON");
	free(fp);
	free(fpfile);
	free(py);
	free(bin);
	free(venv);
}
END_TEST

/* One good, one failing, one with nothing to install, in parallel. */
/* A wheel of one module, smelt_bc_probe, written by python3 into dir; returns its path (caller frees). */
static char *probe_wheel(const char *dir)
{
	static const char script[] =
		"import sys, zipfile\n"
		"n = 'smelt_bc_probe-1.0'\n"
		"with zipfile.ZipFile(sys.argv[1] + '/smelt_bc_probe-1.0-py3-none-any.whl', 'w') as z:\n"
		"    z.writestr('smelt_bc_probe/__init__.py', 'X = 1\\n')\n"
		"    z.writestr(n + '.dist-info/METADATA', 'Metadata-Version: 2.1\\nName: smelt-bc-probe\\nVersion: 1.0\\n')\n"
		"    z.writestr(n + '.dist-info/WHEEL', 'Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')\n"
		"    z.writestr(n + '.dist-info/RECORD', '')\n";
	char *const argv[] = { "python3", "-c", (char *)script, (char *)dir, NULL };
	pid_t pid;
	int st;
	ck_assert_int_eq(posix_spawnp(&pid, "python3", NULL, NULL, argv, environ), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return xasprintf("%s/smelt_bc_probe-1.0-py3-none-any.whl", dir);
}

/* Number of compiled files of the probe module in a venv. */
static size_t probe_pycs(const char *venv)
{
	char *pat = xasprintf("%s/lib/python*/site-packages/smelt_bc_probe/__pycache__/*.pyc", venv);
	glob_t g;
	size_t n = glob(pat, 0, NULL, &g) == 0 ? g.gl_pathc : 0;
	if (n)
		globfree(&g);
	free(pat);
	return n;
}

START_TEST(parallel_install_failure_keeps_others)
{
	char *v1 = xasprintf("%s/loaders/good/venv", tmpdir), *v2 = xasprintf("%s/loaders/bad/venv", tmpdir);
	char *v3 = xasprintf("%s/extractors/tap-csv/venv", tmpdir);
	char *wheel = probe_wheel(tmpdir);
	char *url = xasprintf("--no-index %s", wheel);
	struct install_item items[] = {
		{ .plugin_type = "loaders", .name = "good", .pip_url = url, .venv_dir = v1 },
		{ .plugin_type = "loaders", .name = "bad", .pip_url = "--no-index smelt-no-such-package-xyz", .venv_dir = v2 },
		{ .plugin_type = "extractors", .name = "tap-csv", .pip_url = NULL, .venv_dir = v3 },
	};
	ck_assert_int_eq(install_plugins(items, 3, 0, 0), -1);
	ck_assert_int_eq(items[0].result, INSTALL_DONE);
	ck_assert_int_eq(items[1].result, INSTALL_FAILED);
	ck_assert_int_eq(items[2].result, INSTALL_NOTHING);
	ck_assert_ptr_nonnull(items[1].error);
	ck_assert_msg(strstr(items[1].error, "bad: cannot install '--no-index smelt-no-such-package-xyz'") &&
	                      strstr(items[1].error, "last ") && strstr(items[1].error, "smelt-no-such-package-xyz"),
	              "%s", items[1].error);
	/* the failed one is not installed, the good one is */
	char *bad_fp = xasprintf("%s/loaders/bad/.smelt_plugin_fingerprint", tmpdir);
	ck_assert(!file_exists(bad_fp));
	ck_assert(!dir_exists(v2));
	char *good_py = xasprintf("%s/bin/python", v1);
	ck_assert(access(good_py, X_OK) == 0);
	char *log = xasprintf("%s/loaders/good/install.log", tmpdir);
	ck_assert(file_exists(log));
	ck_assert_int_eq(install_needed(&items[0]), 0);
	for (size_t i = 0; i < 3; i++)
		install_item_release(&items[i]);

	/* again: the good one is skipped without running anything */
	struct install_item again[] = { { .plugin_type = "loaders", .name = "good", .pip_url = url, .venv_dir = v1 } };
	ck_assert_int_eq(install_plugins(again, 1, 1, 0), 0);
	ck_assert_int_eq(again[0].result, INSTALL_UP_TO_DATE);
	ck_assert(again[0].seconds < 1.0);
	/* --clean rebuilds it */
	ck_assert_int_eq(install_plugins(again, 1, 1, INSTALL_CLEAN | INSTALL_PROGRESS), 0);
	ck_assert_int_eq(again[0].result, INSTALL_DONE);
	ck_assert(access(good_py, X_OK) == 0);
	install_item_release(&again[0]);
	free(url);
	free(wheel);
	free(log);
	free(good_py);
	free(bad_fp);
	free(v1);
	free(v2);
	free(v3);
}
END_TEST

/* Bytecode is compiled at install only for items that ask (Meltano leaves it to the first import). */
START_TEST(bytecode_only_when_asked)
{
	char *wheel = probe_wheel(tmpdir);
	char *url = xasprintf("--no-index %s", wheel);
	char *v1 = xasprintf("%s/utilities/lazy/venv", tmpdir), *v2 = xasprintf("%s/orchestrators/eager/venv", tmpdir);
	struct install_item items[] = {
		{ .plugin_type = "utilities", .name = "lazy", .pip_url = url, .venv_dir = v1 },
		{ .plugin_type = "orchestrators", .name = "eager", .pip_url = url, .venv_dir = v2, .compile_bytecode = 1 },
	};
	ck_assert_int_eq(install_plugins(items, 2, 0, 0), 0);
	ck_assert_int_eq(items[0].result, INSTALL_DONE);
	ck_assert_int_eq(items[1].result, INSTALL_DONE);
	ck_assert_uint_eq(probe_pycs(v1), 0);
	ck_assert_uint_gt(probe_pycs(v2), 0);
	for (size_t i = 0; i < 2; i++)
		install_item_release(&items[i]);
	free(v1);
	free(v2);
	free(url);
	free(wheel);
}
END_TEST

/* Exit status of argv (no shell), output discarded. */
static int run_status(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int st;
	ck_assert_int_eq(posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/*
 * Without uv, the interpreter's own pip installs into the venv (pip
 * --python): the venv gets no pip of its own (no ensurepip, about 4 s a
 * venv), like uv's venvs, and what was asked for is installed and imports.
 */
START_TEST(pip_path_venv_has_no_pip_of_its_own)
{
	char *wheel = probe_wheel(tmpdir);
	char *url = xasprintf("--no-index %s", wheel);
	char *v = xasprintf("%s/utilities/probe/venv", tmpdir);
	struct install_item it = { .plugin_type = "utilities", .name = "probe", .pip_url = url, .venv_dir = v };
	ck_assert_int_eq(install_plugins(&it, 1, 1, 0), 0);
	ck_assert_int_eq(it.result, INSTALL_DONE);
	char *py = xasprintf("%s/bin/python", v);
	char *const import_probe[] = { py, "-c", "import smelt_bc_probe; assert smelt_bc_probe.X == 1", NULL };
	ck_assert_int_eq(run_status(import_probe), 0);
	char *const import_pip[] = { py, "-c", "import pip", NULL };
	ck_assert_int_ne(run_status(import_pip), 0);
	char *pip = xasprintf("%s/bin/pip", v);
	ck_assert(!file_exists(pip));
	ck_assert_int_eq(install_needed(&it), 0);
	install_item_release(&it);
	free(pip);
	free(py);
	free(v);
	free(url);
	free(wheel);
}
END_TEST

/*
 * With uv: the plugins install at the same time, through one cache.  A
 * fake uv on PATH: `uv venv` makes the venv's bin/python, `uv pip install`
 * writes its arguments and $UV_CACHE_DIR to a file named after the
 * package, then waits (up to 30 s) until the other install has started
 * too, and fails if it never does: installs run one after another fail.
 */
START_TEST(uv_installs_run_at_once_through_one_cache)
{
	static const char fake_uv[] =
		"#!/bin/sh\n"
		"if [ \"$1\" = venv ]; then\n"
		"  for a; do d=$a; done\n"
		"  mkdir -p \"$d/bin\" && ln -s \"$(command -v python3)\" \"$d/bin/python\"; exit\n"
		"fi\n"
		"for a; do pkg=$a; done\n"
		"echo \"$* cache=$UV_CACHE_DIR\" > \"$FAKE_UV_DIR/$pkg.args\"\n"
		"i=0\n"
		"while [ \"$(ls \"$FAKE_UV_DIR\" | grep -c '\\.args$')\" -lt 2 ]; do\n"
		"  i=$((i + 1)); [ $i -gt 300 ] && { echo 'the other install never started'; exit 1; }\n"
		"  sleep 0.1\n"
		"done\n";
	char *bin = xasprintf("%s/fakebin", tmpdir), *uv = xasprintf("%s/fakebin/uv", tmpdir);
	char *marks = xasprintf("%s/marks", tmpdir);
	ck_assert_int_eq(mkdir_p(bin, 0755), 0);
	ck_assert_int_eq(mkdir_p(marks, 0755), 0);
	ck_assert_int_eq(write_file_atomic(uv, fake_uv, strlen(fake_uv), 0755), 0);
	char *old_path = xstrdup(getenv("PATH"));
	char *path = xasprintf("%s:%s", bin, old_path);
	setenv("PATH", path, 1);
	unsetenv("SMELT_NO_UV");
	setenv("FAKE_UV_DIR", marks, 1);
	setenv("UV_CACHE_DIR", "/the/shared/cache", 1);
	char *v1 = xasprintf("%s/transformers/dbt/venv", tmpdir), *v2 = xasprintf("%s/utilities/gx/venv", tmpdir);
	struct install_item items[] = {
		{ .plugin_type = "transformers", .name = "dbt", .pip_url = "dbt-core", .venv_dir = v1 },
		{ .plugin_type = "utilities", .name = "gx", .pip_url = "great-expectations", .venv_dir = v2 },
	};
	int rc = install_plugins(items, 2, 2, 0);
	setenv("PATH", old_path, 1);
	unsetenv("UV_CACHE_DIR");
	unsetenv("FAKE_UV_DIR");
	ck_assert_msg(rc == 0, "%s / %s", items[0].error ? items[0].error : "", items[1].error ? items[1].error : "");
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	char *fa = xasprintf("%s/dbt-core.args", marks), *fb = xasprintf("%s/great-expectations.args", marks);
	ck_assert_int_eq(read_file(fa, &a), 0);
	ck_assert_int_eq(read_file(fb, &b), 0);
	/* uv pip install into each venv, no bytecode compiled, one cache for both */
	ck_assert_msg(strstr(a.buf, "pip install --python ") && strstr(a.buf, "/transformers/dbt/venv/bin/python dbt-core"),
	              "%s", a.buf);
	ck_assert_msg(!strstr(a.buf, "compile"), "%s", a.buf);
	ck_assert_msg(strstr(a.buf, "cache=/the/shared/cache") && strstr(b.buf, "cache=/the/shared/cache"), "%s%s",
	              a.buf, b.buf);
	for (size_t i = 0; i < 2; i++)
		install_item_release(&items[i]);
	strbuf_release(&a);
	strbuf_release(&b);
	free(fa);
	free(fb);
	free(v1);
	free(v2);
	free(path);
	free(old_path);
	free(marks);
	free(uv);
	free(bin);
}
END_TEST

START_TEST(pins_exact_only_when_every_requirement_is_pinned)
{
	static const struct {
		const char *pip_url;
		int exact;
	} cases[] = {
		{ "dbt-core==1.11.2 dbt-sqlite==1.10.0", 1 },
		{ "great-expectations==1.3.0 pandas==2.2.3", 1 },
		{ "great-expectations[postgresql]==1.3.0 pandas==2.2.3", 0 },
		{ "--index-url https://x/simple --find-links /w a==1.0 b==2.0.post1", 1 },
		{ "--no-index --find-links=/w a==1.0", 1 },
		{ "-c constraints.txt a==1", 1 },
		{ "a==1.0 b>=2", 0 },
		{ "a==1.*", 0 },
		{ "a===1.0", 0 },
		{ "a", 0 },
		{ "", 0 },
		{ "--upgrade", 0 },
		{ "-r requirements.txt", 0 },
		{ "--requirement=req.txt a==1", 0 },
		{ "-e ./plugin", 0 },
		{ "--no-deps a==1", 0 },
		{ "git+https://github.com/x/y.git@v1==2", 0 },
		{ "./dist/a-1.0-py3-none-any.whl", 0 },
		{ "a @ https://x/a-1.0.whl", 0 },
		{ "a[x==1", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char **w = NULL;
		size_t n = 0;
		ck_assert_int_eq(argv_split(cases[i].pip_url, &w, &n), 0);
		ck_assert_msg(install_pins_exact(w, n) == cases[i].exact, "%s", cases[i].pip_url);
		argv_free(w);
	}
}
END_TEST

/* A wheel of one module named after the package, with its Requires-Dist lines, written by python3 into dir. */
static void make_wheel(const char *dir, const char *name, const char *version, const char *requires)
{
	static const char script[] =
		"import sys, zipfile\n"
		"d, name, ver, req = sys.argv[1:5]\n"
		"mod = name.replace('-', '_')\n"
		"n = mod + '-' + ver\n"
		"meta = 'Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\n' % (name, ver)\n"
		"meta += ''.join('Requires-Dist: %s\\n' % r for r in req.split(',') if r)\n"
		"with zipfile.ZipFile('%s/%s-py3-none-any.whl' % (d, n), 'w') as z:\n"
		"    z.writestr(mod + '/__init__.py', 'VERSION = %r\\n' % ver)\n"
		"    z.writestr(n + '.dist-info/METADATA', meta)\n"
		"    z.writestr(n + '.dist-info/WHEEL', 'Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')\n"
		"    z.writestr(n + '.dist-info/RECORD', '')\n";
	char *const argv[] = { "python3", "-c", (char *)script, (char *)dir, (char *)name, (char *)version,
		               (char *)requires, NULL };
	ck_assert_int_eq(run_status(argv), 0);
}

/* The installed version of module mod in venv ("" when it does not import).  Caller frees. */
static char *installed_version(const char *venv, const char *mod)
{
	char *out = xasprintf("%s/version.txt", tmpdir);
	char *py = xasprintf("%s/bin/python", venv);
	char *code = xasprintf("import %s; open(%s, 'w').write(%s.VERSION)", mod, "__import__('sys').argv[1]", mod);
	unlink(out);
	char *const argv[] = { py, "-c", code, out, NULL };
	struct strbuf sb = STRBUF_INIT;
	if (run_status(argv) != 0 || read_file(out, &sb) != 0)
		strbuf_reset(&sb);
	free(code);
	free(py);
	free(out);
	return strbuf_detach(&sb);
}

/*
 * A pip_url pinning every requirement installs exactly those versions,
 * without resolving (--no-deps), when the pins are complete; when they
 * miss a dependency, the install resolves it and the plugin still works.
 */
START_TEST(pinned_pip_url_installs_exactly_the_pins)
{
	char *wheels = xasprintf("%s/wheels", tmpdir);
	ck_assert_int_eq(mkdir_p(wheels, 0755), 0);
	make_wheel(wheels, "smelt-a-probe", "1.0", "smelt-b-probe");
	make_wheel(wheels, "smelt-b-probe", "1.0", "");
	make_wheel(wheels, "smelt-b-probe", "2.0", "");
	char *complete = xasprintf("--no-index --find-links=%s smelt-a-probe==1.0 smelt-b-probe==1.0", wheels);
	char *partial = xasprintf("--no-index --find-links=%s smelt-a-probe==1.0", wheels);
	char *v1 = xasprintf("%s/utilities/complete/venv", tmpdir), *v2 = xasprintf("%s/utilities/partial/venv", tmpdir);
	struct install_item items[] = {
		{ .plugin_type = "utilities", .name = "complete", .pip_url = complete, .venv_dir = v1 },
		{ .plugin_type = "utilities", .name = "partial", .pip_url = partial, .venv_dir = v2 },
	};
	ck_assert_int_eq(install_plugins(items, 2, 2, 0), 0);
	ck_assert_int_eq(items[0].result, INSTALL_DONE);
	ck_assert_int_eq(items[1].result, INSTALL_DONE);
	char *a1 = installed_version(v1, "smelt_a_probe"), *b1 = installed_version(v1, "smelt_b_probe");
	ck_assert_str_eq(a1, "1.0");
	ck_assert_str_eq(b1, "1.0"); /* the pin, not the newest 2.0 */
	char *a2 = installed_version(v2, "smelt_a_probe"), *b2 = installed_version(v2, "smelt_b_probe");
	ck_assert_str_eq(a2, "1.0");
	ck_assert_str_eq(b2, "2.0"); /* the missing dependency was resolved */
	/* the complete pins were installed without resolving: one install, with --no-deps */
	char *log1 = xasprintf("%s/utilities/complete/install.log", tmpdir);
	struct strbuf sb = STRBUF_INIT;
	ck_assert_int_eq(read_file(log1, &sb), 0);
	ck_assert_msg(strstr(sb.buf, " --no-deps ") && strstr(sb.buf, " check"), "%s", sb.buf);
	ck_assert_msg(!strstr(strstr(sb.buf, " --no-deps ") + 1, " install "), "%s", sb.buf);
	strbuf_release(&sb);
	for (size_t i = 0; i < 2; i++)
		install_item_release(&items[i]);
	free(log1);
	free(a1);
	free(b1);
	free(a2);
	free(b2);
	free(v1);
	free(v2);
	free(complete);
	free(partial);
	free(wheels);
}
END_TEST

START_TEST(missing_interpreter_fails_cleanly)
{
	char *v = xasprintf("%s/loaders/x/venv", tmpdir);
	struct install_item it = { .plugin_type = "loaders", .name = "x", .pip_url = "pip", .python = "python-does-not-exist-9",
		                   .venv_dir = v };
	ck_assert_int_eq(install_plugins(&it, 1, 1, 0), -1);
	ck_assert_int_eq(it.result, INSTALL_FAILED);
	ck_assert_msg(strstr(it.error, "cannot create virtualenv") && strstr(it.error, "python-does-not-exist-9"), "%s",
	              it.error);
	ck_assert(!dir_exists(v));
	install_item_release(&it);
	free(v);
}
END_TEST

static Suite *install_suite(void)
{
	Suite *s = suite_create("install");
	TCase *tc = tcase_create("pure");
	tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
	tcase_add_test(tc, sha256_known_vectors);
	tcase_add_test(tc, fingerprint_like_meltano);
	tcase_add_test(tc, split_args_like_a_shell);
	tcase_add_test(tc, needed_follows_fingerprint);
	tcase_add_test(tc, pins_exact_only_when_every_requirement_is_pinned);
	suite_add_tcase(s, tc);
	tc = tcase_create("venv");
	tcase_set_timeout(tc, 240);
	tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
	tcase_add_test(tc, parallel_install_failure_keeps_others);
	tcase_add_test(tc, missing_interpreter_fails_cleanly);
	tcase_add_test(tc, bytecode_only_when_asked);
	tcase_add_test(tc, pip_path_venv_has_no_pip_of_its_own);
	tcase_add_test(tc, uv_installs_run_at_once_through_one_cache);
	tcase_add_test(tc, pinned_pip_url_installs_exactly_the_pins);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(install_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
