/*
 * test_project - the project loader (project/project.h): the model of a
 * Meltano project using every key, include_paths, root discovery,
 * environment selection, error positions, edits written back to the file
 * an item came from, .env parsing.
 */
#include "project/project.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[PATH_MAX];
static char *full; /* a copy of data/project/full */

static void setup(void)
{
	snprintf(tmp, sizeof tmp, "/tmp/smelt-test-project-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	char *cmd = xasprintf("cp -r '%s/project/full' '%s/full'", DATA_DIR, tmp);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	full = path_join(tmp, "full");
	unsetenv("SMELT_PROJECT_ROOT");
	unsetenv("MELTANO_PROJECT_ROOT");
	unsetenv("SMELT_ENVIRONMENT");
	unsetenv("MELTANO_ENVIRONMENT");
	log_set_level(LOG_LEVEL_DISABLED);
}

static void teardown(void)
{
	remove_tree(tmp);
	free(full);
}

static struct project *load_full(void)
{
	char err[512];
	struct project *p = NULL;
	char *file = path_join(full, "meltano.yml");
	int rc = project_load(full, file, NULL, &p, err, sizeof err);
	free(file);
	ck_assert_msg(rc == 0, "load failed: %s", err);
	return p;
}

START_TEST(loads_every_key)
{
	struct project *p = load_full();
	ck_assert_str_eq(p->file_name, "meltano.yml");
	ck_assert_str_eq(p->project_id, "7d1b7e1e-4a3b-4c3e-9f2f-000000000000");
	ck_assert_str_eq(p->default_environment, "dev");
	ck_assert_uint_eq(p->nfiles, 2);
	ck_assert_uint_eq(p->nplugins, 5);
	struct plugin *tap = project_find_plugin(p, PLUGIN_EXTRACTORS, "tap-custom");
	ck_assert_ptr_nonnull(tap);
	ck_assert_str_eq(tap->namespace_, "tap_custom_ns");
	ck_assert_str_eq(tap->adapter, "singer");
	ck_assert_int_eq(tap->custom, 1);
	ck_assert_uint_eq(tap->entry.nsettings, 8);
	ck_assert_uint_eq(tap->entry.ncapabilities, 3);
	ck_assert_uint_eq(tap->entry.ncommands, 2);
	ck_assert_str_eq(tap->entry.commands[1].description, "Describe it");
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(tap->extras, "select"));
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(tap->extras, "metadata"));
	ck_assert_ptr_null(cJSON_GetObjectItem(tap->extras, "mystery"));
	ck_assert_ptr_nonnull(tap->entry.requires);
	ck_assert_int_eq(tap->pos.line, 19);

	struct plugin *child = project_find_plugin(p, -1, "tap-child");
	ck_assert_ptr_eq(child->parent, tap);
	char err[256];
	const struct definition *cd = project_plugin_def(p, child, err, sizeof err);
	ck_assert_ptr_nonnull(cd);
	ck_assert_uint_eq(cd->nsettings, 8);
	ck_assert_str_eq(cd->namespace_, "tap_custom_ns");
	/* inherit_from: the plugin's own namespace, from its name, as in Meltano */
	ck_assert_str_eq(plugin_namespace(p, child), "tap_child");

	/* a locked plugin: the definition comes from plugins/loaders/<name>--<variant>.lock */
	struct plugin *tgt = project_find_plugin(p, PLUGIN_LOADERS, "target-jsonl");
	const struct definition *td = project_plugin_def(p, tgt, err, sizeof err);
	ck_assert_msg(td != NULL, "%s", err);
	ck_assert_str_eq(td->namespace_, "target_jsonl");
	ck_assert_uint_gt(td->nsettings, 0);
	ck_assert_ptr_nonnull(definition_find_setting(td, "destination_path"));
	char *lock = project_lock_path(p, tgt);
	ck_assert_ptr_nonnull(strstr(lock, "plugins/loaders/target-jsonl--andyh1203.lock"));
	free(lock);

	const struct plugin_mapping *m;
	struct plugin *mapper = project_find_mapping(p, "hide-emails", &m);
	ck_assert_ptr_nonnull(mapper);
	ck_assert_str_eq(mapper->name, "meltano-map-transformer");
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(m->config, "stream_maps"));

	ck_assert_uint_eq(p->nenvironments, 3);
	ck_assert_str_eq(project_find_environment(p, "prod")->state_id_suffix, "blue");
	struct environment *dev = project_find_environment(p, "dev");
	ck_assert_uint_eq(dev->nplugins, 1);
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(dev->plugins[0].extras, "select"));

	struct job *j = project_find_job(p, "daily");
	ck_assert_uint_eq(j->nargs, 6);
	ck_assert_str_eq(j->args[0], "tap-custom");
	ck_assert_str_eq(j->args[5], "dbt:run");
	ck_assert_ptr_nonnull(project_find_job(p, "included-job"));
	ck_assert_str_eq(project_find_schedule(p, "daily-job")->cron, "0 0 * * *");
	ck_assert_ptr_null(project_find_schedule(p, "manual")->cron);
	ck_assert_str_eq(project_find_schedule(p, "el")->transform, "skip");

	/* the merged document holds the included sections */
	const cJSON *utils = cJSON_GetObjectItem(cJSON_GetObjectItem(p->doc, "plugins"), "utilities");
	ck_assert_int_eq(cJSON_GetArraySize(utils), 1);
	project_free(p);
}
END_TEST

START_TEST(include_paths_edits_go_back)
{
	struct project *p = load_full();
	char err[256];
	struct plugin *u = project_find_plugin(p, -1, "util-x");
	struct project_file *f = project_file_of(p, &u->pos);
	ck_assert_str_eq(f->rel, "sub/extra.meltano.yml");
	const char *path[] = { "plugins", "utilities", "[name=util-x]", "config", "k" };
	cJSON *v = cJSON_CreateString("v");
	ck_assert_int_eq(project_edit_set(p, f, path, 5, v, err, sizeof err), 0);
	cJSON_Delete(v);
	ck_assert_int_eq(project_save(p, err, sizeof err), 0);
	struct strbuf sb = STRBUF_INIT;
	char *sub = path_join(full, "sub/extra.meltano.yml");
	read_file(sub, &sb);
	ck_assert_ptr_nonnull(strstr(sb.buf, "# an included file\n"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "    config:\n      k: v\n"));
	strbuf_release(&sb);
	free(sub);
	u = project_find_plugin(p, -1, "util-x"); /* the model was reloaded */
	ck_assert_str_eq(cJSON_GetObjectItem(u->config, "k")->valuestring, "v");
	/* removing it edits the included file too */
	ck_assert_int_eq(project_remove_plugin(p, u, err, sizeof err), 0);
	ck_assert_int_eq(project_save(p, err, sizeof err), 0);
	ck_assert_ptr_null(project_find_plugin(p, -1, "util-x"));
	project_free(p);
}
END_TEST

START_TEST(root_discovery)
{
	char err[512], cwd[PATH_MAX];
	char *root = NULL, *file = NULL;
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	char *sub = path_join(full, "sub");
	ck_assert_int_eq(chdir(sub), 0);
	ck_assert_int_eq(project_find_root(&root, &file, err, sizeof err), 0);
	ck_assert_str_eq(root, full);
	ck_assert_ptr_nonnull(strstr(file, "/full/meltano.yml"));
	free(root);
	free(file);
	/* smelt.yml wins over meltano.yml in the same folder */
	char *smelt = path_join(full, "smelt.yml");
	write_file_atomic(smelt, "{}\n", 3, 0644);
	ck_assert_int_eq(project_find_root(&root, &file, err, sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(file, "/full/smelt.yml"));
	free(root);
	free(file);
	unlink(smelt);
	free(smelt);
	/* $SMELT_PROJECT_ROOT */
	ck_assert_int_eq(chdir(tmp), 0);
	setenv("MELTANO_PROJECT_ROOT", full, 1);
	ck_assert_int_eq(project_find_root(&root, &file, err, sizeof err), 0);
	ck_assert_str_eq(root, full);
	free(root);
	free(file);
	unsetenv("MELTANO_PROJECT_ROOT");
	/* nothing found */
	ck_assert_int_lt(project_find_root(&root, &file, err, sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(err, "no smelt.yml or meltano.yml found in '"));
	ck_assert_ptr_nonnull(strstr(err, "' or its parents; run 'smelt init'"));
	ck_assert_int_eq(chdir(cwd), 0);
	free(sub);
}
END_TEST

START_TEST(environment_selection)
{
	struct project *p = load_full();
	char err[256];
	ck_assert_int_eq(project_select_environment(p, NULL, 0, ENV_DEFAULT_OR_NONE, err, sizeof err), 0);
	ck_assert_str_eq(p->active->name, "dev");
	ck_assert_int_eq(p->active_explicit, 0);
	ck_assert_int_eq(project_select_environment(p, NULL, 0, ENV_IGNORE_DEFAULT, err, sizeof err), 0);
	ck_assert_ptr_null(p->active);
	ck_assert_int_eq(project_select_environment(p, NULL, 0, ENV_NONE, err, sizeof err), 0);
	ck_assert_ptr_null(p->active);
	ck_assert_int_eq(project_select_environment(p, "prod", 0, ENV_IGNORE_DEFAULT, err, sizeof err), 0);
	ck_assert_str_eq(p->active->name, "prod");
	ck_assert_int_eq(p->active_explicit, 1);
	ck_assert_int_eq(project_select_environment(p, "prod", 1, ENV_REQUIRED, err, sizeof err), 0);
	ck_assert_ptr_null(p->active); /* --no-environment */
	ck_assert_int_eq(project_select_environment(p, "NULL", 0, ENV_DEFAULT_OR_NONE, err, sizeof err), 0);
	ck_assert_ptr_null(p->active);
	setenv("MELTANO_ENVIRONMENT", "staging", 1);
	ck_assert_int_eq(project_select_environment(p, NULL, 0, ENV_IGNORE_DEFAULT, err, sizeof err), 0);
	ck_assert_str_eq(p->active->name, "staging");
	setenv("SMELT_ENVIRONMENT", "prod", 1);
	ck_assert_int_eq(project_select_environment(p, NULL, 0, ENV_IGNORE_DEFAULT, err, sizeof err), 0);
	ck_assert_str_eq(p->active->name, "prod");
	unsetenv("SMELT_ENVIRONMENT");
	unsetenv("MELTANO_ENVIRONMENT");
	/* .env */
	cJSON_AddStringToObject(p->dotenv, "MELTANO_ENVIRONMENT", "prod");
	ck_assert_int_eq(project_select_environment(p, NULL, 0, ENV_IGNORE_DEFAULT, err, sizeof err), 0);
	ck_assert_str_eq(p->active->name, "prod");
	ck_assert_int_lt(project_select_environment(p, "nope", 0, ENV_DEFAULT_OR_NONE, err, sizeof err), 0);
	ck_assert_str_eq(err, "environment 'nope' is not defined in meltano.yml");
	project_free(p);

	char e2[256];
	struct project *q;
	const char *t = "plugins: {}\n";
	ck_assert_int_eq(project_load_text("smelt.yml", t, strlen(t), &q, e2, sizeof e2), 0);
	ck_assert_int_lt(project_select_environment(q, NULL, 0, ENV_REQUIRED, e2, sizeof e2), 0);
	ck_assert_ptr_nonnull(strstr(e2, "an environment must be specified"));
	project_free(q);
}
END_TEST

static void expect_error(const char *text, const char *want)
{
	char err[512];
	struct project *p = NULL;
	int rc = project_load_text("smelt.yml", text, strlen(text), &p, err, sizeof err);
	ck_assert_msg(rc < 0, "'%s' loaded", text);
	ck_assert_ptr_null(p);
	ck_assert_msg(!strncmp(err, want, strlen(want)), "got '%s', want '%s...'", err, want);
}

START_TEST(errors_name_file_line_col)
{
	expect_error("plugins:\n  extractors: hello\n", "smelt.yml:2:15: 'plugins.extractors' must be a list");
	expect_error("plugins:\n  extractors:\n  - variant: x\n", "smelt.yml:3:5: a plugin in 'plugins.extractors' has no 'name'");
	expect_error("plugins:\n  loaders:\n  - name: a\n    config: [1]\n", "smelt.yml:4:13: 'config' must be a mapping");
	expect_error("a: [1, 2\n", "smelt.yml:2:1:");
	expect_error("environments:\n- name: a:b\n", "smelt.yml:2:9: environment name 'a:b' may not contain ':'");
	expect_error("plugins:\n  extractors:\n  - name: x\n  - name: x\n", "smelt.yml:4:5: extractor 'x' is defined twice");
	expect_error("jobs:\n- name: j\n", "smelt.yml:2:3: job 'j' has no 'tasks'");
	expect_error("schedules:\n- name: s\n  interval: '@daily'\n", "smelt.yml:2:3: schedule 's' needs 'job'");
	expect_error("plugins:\n  extractors:\n  - name: a\n    inherit_from: a\n", "smelt.yml:3:5: plugin 'a' inherits from itself");
	expect_error("- just\n- a list\n", "smelt.yml:1:1: the file must hold a mapping");
	/* issue 18 item 6: Meltano refuses duplicate keys and extra documents; the last key no longer wins */
	expect_error("plugins:\n  extractors:\n  - name: a\n    config: {x: 1}\n    config: {x: 2}\n",
	             "smelt.yml:5:5: duplicate key 'config' (first at line 4, column 5)");
	expect_error("project_id: a\n---\nproject_id: b\n",
	             "smelt.yml:2:1: a second YAML document is not allowed");
	/* issue 18 item 4 */
	expect_error("plugins:\n  extractors:\n  - name: t\n    config: &c {records: 12, me: *c}\n",
	             "smelt.yml:4:34: alias '*c' refers to a node that contains it (a cycle)");
}
END_TEST

START_TEST(unknown_keys_only_warn)
{
	char err[512];
	struct project *p = NULL;
	const char *t = "whatever: 1\nplugins:\n  extractors:\n  - name: x\n    bogus: 2\n  gadgets:\n  - name: y\n";
	ck_assert_int_eq(project_load_text("smelt.yml", t, strlen(t), &p, err, sizeof err), 0);
	ck_assert_uint_eq(p->nplugins, 1);
	project_free(p);
}
END_TEST

START_TEST(dotenv_parsing)
{
	const char *t = "# comment\nA=1\nexport B = two words \nC='single # not comment'\nD=\"dq\\nline\"\n"
	                "E=plain # comment\nbad line\nF=\nA=override\n";
	char err[256];
	cJSON *o = NULL;
	ck_assert_int_eq(dotenv_parse(t, strlen(t), ".env", &o, err, sizeof err), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "A")->valuestring, "override");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "B")->valuestring, "two words");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "C")->valuestring, "single # not comment");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "D")->valuestring, "dq\nline");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "E")->valuestring, "plain");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "F")->valuestring, "");
	ck_assert_int_eq(cJSON_GetArraySize(o), 6);
	cJSON_Delete(o);
}
END_TEST

START_TEST(dotenv_set_keeps_other_lines)
{
	char err[256];
	char *path = path_join(tmp, ".env");
	write_file_atomic(path, "# keep\nA=1\nB='x'\n", 17, 0644);
	ck_assert_int_eq(dotenv_set(NULL, path, "B", "it's", err, sizeof err), 0);
	ck_assert_int_eq(dotenv_set(NULL, path, "C", "new", err, sizeof err), 0);
	ck_assert_int_eq(dotenv_set(NULL, path, "A", NULL, err, sizeof err), 0);
	struct strbuf sb = STRBUF_INIT;
	read_file(path, &sb);
	ck_assert_str_eq(sb.buf, "# keep\nB='it\\'s'\nC='new'\n");
	cJSON *o = NULL;
	ck_assert_int_eq(dotenv_parse(sb.buf, sb.len, path, &o, err, sizeof err), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "B")->valuestring, "it's");
	cJSON_Delete(o);
	strbuf_release(&sb);
	unlink(path);
	/* a new file is 0600 */
	ck_assert_int_eq(dotenv_set(NULL, path, "S", "secret", err, sizeof err), 0);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	free(path);
}
END_TEST

/* issue 18 item 1: project edits on a flow-style file keep every node; a refused edit writes nothing */
START_TEST(edits_verify_and_save_whole_files)
{
	char err[512];
	const char *orig = "version: 1\nplugins: {extractors: [{name: a, namespace: a}, {name: tap-x, namespace: x, "
	                   "config: {p: 1}}, {name: c, namespace: c}]}\n"
	                   "environments: [{name: dev}, {name: prod, config: {plugins: {extractors: [{name: tap-x, "
	                   "config: {p: 2}}]}}}]\n"
	                   "annotations:\n  base: &pc {p: 2}\n  copy: *pc\n";
	char *file = path_join(tmp, "smelt.yml");
	ck_assert_int_eq(write_file_atomic(file, orig, strlen(orig), 0644), 0);
	struct project *p = NULL;
	ck_assert_msg(project_load(tmp, file, NULL, &p, err, sizeof err) == 0, "%s", err);
	cJSON *five = cJSON_CreateNumber(5);
	const char *path[] = { "plugins", "extractors", "[name=tap-x]", "config", "records" };
	ck_assert_msg(project_edit_set(p, NULL, path, 5, five, err, sizeof err) == 0, "%s", err);
	ck_assert_msg(project_save(p, err, sizeof err) == 0, "%s", err);
	ck_assert_ptr_nonnull(project_find_plugin(p, -1, "a"));
	ck_assert_ptr_nonnull(project_find_plugin(p, -1, "c"));
	struct plugin *x = project_find_plugin(p, -1, "tap-x");
	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(x->config, "records")->valueint, 5);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(x->config, "p")->valueint, 1);
	ck_assert_int_eq((int)p->nenvironments, 2);
	/* an anchored node used elsewhere: editing it in place is refused, the file unchanged */
	struct strbuf before = STRBUF_INIT, after = STRBUF_INIT;
	ck_assert_int_eq(read_file(file, &before), 0);
	const char *anchored[] = { "annotations", "base", "q" };
	ck_assert_int_lt(project_edit_set(p, NULL, anchored, 3, five, err, sizeof err), 0);
	ck_assert_msg(strstr(err, "smelt.yml: cannot edit") && strstr(err, "nothing was changed"), "%s", err);
	ck_assert_int_eq(project_save(p, err, sizeof err), 0);
	ck_assert_int_eq(read_file(file, &after), 0);
	ck_assert_int_eq((int)before.len, (int)after.len);
	ck_assert(!memcmp(before.buf, after.buf, before.len));
	/* a per-environment edit elsewhere keeps every environment */
	const char *devpath[] = { "environments", "[name=dev]", "config", "plugins", "extractors", "[name=tap-x]",
		                  "config", "records" };
	ck_assert_msg(project_edit_set(p, NULL, devpath, 8, five, err, sizeof err) == 0, "%s", err);
	ck_assert_msg(project_save(p, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq((int)p->nenvironments, 2);
	ck_assert_ptr_nonnull(project_find_environment(p, "prod"));
	ck_assert_int_eq((int)project_find_environment(p, "prod")->nplugins, 1);
	ck_assert_int_eq((int)project_find_environment(p, "dev")->nplugins, 1);
	/* no temporary file is left beside it */
	char *cmd = xasprintf("! ls -A '%s' | grep -q '\\.tmp'", tmp);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	cJSON_Delete(five);
	strbuf_release(&before);
	strbuf_release(&after);
	project_free(p);
	free(file);
}
END_TEST

/* issue 18 item 6: an unterminated quote used to swallow every following line */
START_TEST(dotenv_unterminated_quote_names_the_line)
{
	char err[256];
	cJSON *o = NULL;
	const char *t = "A=1\n# note\nB='s3cr3t-start\nC=3\nD=4\n";
	ck_assert_int_eq(dotenv_parse(t, strlen(t), "/p/.env", &o, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_ptr_null(o);
	ck_assert_str_eq(err, "/p/.env:3: unterminated quoted value of 'B'");
	t = "A=1\r\nB=\"x\r\nC=3\r\n";
	ck_assert_int_eq(dotenv_parse(t, strlen(t), ".env", &o, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, ".env:2: unterminated quoted value of 'B'");
	/* text after the closing quote: python-dotenv drops the statement, smelt says where */
	t = "A=1\nB='x' y\nC=3\n";
	ck_assert_int_eq(dotenv_parse(t, strlen(t), ".env", &o, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, ".env:2: unexpected text after the closing quote of 'B'");
	ck_assert_ptr_null(strstr(err, "s3cr3t"));
}
END_TEST

/* the rules of python-dotenv's parser that the old parser got wrong */
START_TEST(dotenv_python_dotenv_rules)
{
	char err[256];
	cJSON *o = NULL;
	const char *t = "P=\"C:\\path\\n\"\n"            /* unknown escapes stay, \n decodes */
	                "Q='it\\'s \\n'\n"                /* single quotes: only \' and \\ */
	                "M='line1\nline2'   # comment\n" /* a quoted value over two lines */
	                "export\tT=tab\n"
	                "'QK' = quoted key\n"
	                "H=a#b\n"                        /* # without a space before: kept */
	                "E= \n"
	                "CR=crlf\r\n"
	                "L=last";
	ck_assert_int_eq(dotenv_parse(t, strlen(t), ".env", &o, err, sizeof err), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "P")->valuestring, "C:\\path\n");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "Q")->valuestring, "it's \\n");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "M")->valuestring, "line1\nline2");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "T")->valuestring, "tab");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "QK")->valuestring, "quoted key");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "H")->valuestring, "a#b");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "E")->valuestring, "");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "CR")->valuestring, "crlf");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "L")->valuestring, "last");
	ck_assert_int_eq(cJSON_GetArraySize(o), 9);
	cJSON_Delete(o);
}
END_TEST

/* dotenv_set keeps a multi-line value of another key and refuses a broken file */
START_TEST(dotenv_set_statements)
{
	char err[256];
	char *path = path_join(tmp, ".env");
	const char *text = "M='a\nb'\nX=1\n";
	write_file_atomic(path, text, strlen(text), 0600);
	ck_assert_int_eq(dotenv_set(NULL, path, "X", "2", err, sizeof err), 0);
	struct strbuf sb = STRBUF_INIT;
	read_file(path, &sb);
	ck_assert_str_eq(sb.buf, "M='a\nb'\nX='2'\n");
	strbuf_release(&sb);
	/* a value ending in a backslash is written unquoted: quoted, it would swallow the next line */
	ck_assert_int_eq(dotenv_set(NULL, path, "X", "C:\\dir\\", err, sizeof err), 0);
	ck_assert_int_eq(dotenv_set(NULL, path, "Y", "it's", err, sizeof err), 0);
	read_file(path, &sb);
	ck_assert_str_eq(sb.buf, "M='a\nb'\nX=C:\\dir\\\nY='it\\'s'\n");
	cJSON *o = NULL;
	ck_assert_int_eq(dotenv_parse(sb.buf, sb.len, path, &o, err, sizeof err), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "X")->valuestring, "C:\\dir\\");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "Y")->valuestring, "it's");
	cJSON_Delete(o);
	strbuf_release(&sb);
	/* ... and refused when it cannot be unquoted either; the file is unchanged */
	ck_assert_int_eq(dotenv_set(NULL, path, "X", "two words $HOME\\", err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "a value ending in a backslash"));
	ck_assert_ptr_null(strstr(err, "$HOME"));
	read_file(path, &sb);
	ck_assert_str_eq(sb.buf, "M='a\nb'\nX=C:\\dir\\\nY='it\\'s'\n");
	strbuf_release(&sb);
	text = "A=1\nB='open\nC=3\n";
	write_file_atomic(path, text, strlen(text), 0600);
	ck_assert_int_eq(dotenv_set(NULL, path, "C", "4", err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, ":2: unterminated quoted value of 'B'"));
	read_file(path, &sb);
	ck_assert_str_eq(sb.buf, text);
	strbuf_release(&sb);
	free(path);
}
END_TEST

/* issue 18 item 5: .env is read only when it is a regular file under the cap */
START_TEST(dotenv_read_refuses_devices_fifos_and_big_files)
{
	char err[512];
	cJSON *o = NULL;
	ck_assert_int_eq(dotenv_read("/dev/zero", &o, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_str_eq(err, "'/dev/zero' is not a regular file");
	ck_assert_ptr_null(o);
	char *fifo = path_join(tmp, "fifo.env");
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(dotenv_read(fifo, &o, err, sizeof err), SMELT_ERR_CONFIG); /* no writer: no hang */
	ck_assert_ptr_nonnull(strstr(err, "is not a regular file"));
	char *big = path_join(tmp, "big.env");
	size_t n = FS_CAP_DOTENV + 1;
	char *data = xmalloc(n);
	memset(data, '#', n);
	ck_assert_int_eq(write_file_atomic(big, data, n, 0600), 0);
	ck_assert_int_eq(dotenv_read(big, &o, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "is larger than 1 MiB"));
	ck_assert_int_eq(write_file_atomic(big, data, n - 1, 0600), 0); /* at the cap: fine */
	ck_assert_int_eq(dotenv_read(big, &o, err, sizeof err), 0);
	ck_assert_int_eq(cJSON_GetArraySize(o), 0);
	cJSON_Delete(o);
	char *missing = path_join(tmp, "none.env");
	ck_assert_int_eq(dotenv_read(missing, &o, err, sizeof err), 0);
	cJSON_Delete(o);
	free(data);
	free(big);
	free(fifo);
	free(missing);
}
END_TEST

/* the project file and include_paths files: regular files only */
START_TEST(project_file_must_be_regular)
{
	char err[512];
	struct project *p = NULL;
	char *fifo = path_join(tmp, "smelt.yml");
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(project_load(tmp, fifo, NULL, &p, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "is not a regular file"));
	unlink(fifo);
	const char *yml = "include_paths: ['inc.yml']\n";
	ck_assert_int_eq(write_file_atomic(fifo, yml, strlen(yml), 0644), 0);
	char *inc = path_join(tmp, "inc.yml");
	ck_assert_int_eq(mkfifo(inc, 0600), 0);
	ck_assert_int_eq(project_load(tmp, fifo, NULL, &p, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "inc.yml' is not a regular file"));
	free(inc);
	free(fifo);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("project");
	TCase *t = tcase_create("load");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, loads_every_key);
	tcase_add_test(t, include_paths_edits_go_back);
	tcase_add_test(t, root_discovery);
	tcase_add_test(t, environment_selection);
	suite_add_tcase(s, t);
	t = tcase_create("errors");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, errors_name_file_line_col);
	tcase_add_test(t, unknown_keys_only_warn);
	tcase_add_test(t, edits_verify_and_save_whole_files);
	suite_add_tcase(s, t);
	t = tcase_create("dotenv");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, dotenv_parsing);
	tcase_add_test(t, dotenv_set_keeps_other_lines);
	tcase_add_test(t, dotenv_unterminated_quote_names_the_line);
	tcase_add_test(t, dotenv_python_dotenv_rules);
	tcase_add_test(t, dotenv_set_statements);
	tcase_add_test(t, dotenv_read_refuses_devices_fifos_and_big_files);
	tcase_add_test(t, project_file_must_be_regular);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
