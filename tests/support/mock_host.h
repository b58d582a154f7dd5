/*
 * mock_host - a scripted struct smelt_host_api for adapter unit tests.
 *
 * An adapter test loads the built adapter (.so) through its public
 * contract, lends it this mock instead of Smelt's runtime, calls its
 * operations and asserts on what the mock recorded: the processes it
 * asked for (argv, env, cwd, flags), the private files it wrote, the
 * events and log lines it reported, the states it saved.  No real tool
 * runs: each process is answered from a script.
 *
 *   struct mock_host *m = mock_host_new();
 *   const struct smelt_adapter *ad = mock_adapter_load(m, "dbt");  // <stage>/lib/smelt/adapters/dbt.so, init()
 *   struct smelt_plugin *p = mock_plugin_add(m, "transformers", "dbt-sqlite");
 *   mock_plugin_setting(p, "password", "\"s3cret\"", 1);          // a resolved setting, JSON text
 *   struct mock_proc *pr = mock_expect(m);                        // the next process the adapter runs...
 *   mock_proc_write_file(pr, path, "{...}");                      // ...writes what the tool would write
 *   mock_proc_exit(pr, 1);                                        // ...and exits with 1
 *   struct mock_request r;
 *   mock_request_init(&r, SMELT_REQ_COMMAND, "run");
 *   mock_request_plugin(&r, p, NULL);
 *   rc = ad->run_block(mock_adapter_state(m), &r.req, err, sizeof err);
 *   mock_call(m, 0)->argv[1] ... mock_call_env(mock_call(m, 0), "DBT_PROFILES_DIR") ...
 *   mock_host_free(m);                                            // destroy(), dlclose, temp project removed
 *   ...
 *   return mock_run_suite(suite);                                  // in main(): the suite, cleaned up after
 *
 * The project: a fresh temporary folder (mock_root()) with .smelt/ in it;
 * host->path() answers from it (SMELT_PATH_PROJECT_ROOT, SYS_DIR, LIBEXEC
 * = <root>/libexec, SMELT_EXE = <root>/bin/smelt, ADAPTER_DATA = the
 * loaded adapter's data folder in the stage, RUN_LOG_DIR unset);
 * mock_set_path() changes any of them.
 *
 * Plugins: mock_plugin_add() makes one; host->plugin_attr() answers
 * "name" and "type" and whatever mock_plugin_attr() set.  Settings are
 * kept by name, as the host resolves them: config_json() nests dotted
 * names ("admin.password" -> {"admin": {"password": ...}}) unless
 * SMELT_CFG_FLAT, leaves out names starting with '_' (extras) unless
 * SMELT_CFG_EXTRAS, and writes "*****" for sensitive ones under
 * SMELT_CFG_REDACT; setting() answers one name.  Plugin paths default to
 * the host's layout: INSTALL_DIR <root>/.smelt/<type>/<name>, RUN_DIR
 * <root>/.smelt/run/<name>, VENV <install dir>/venv when the plugin has a
 * pip_url attribute (else NULL), EXECUTABLE the "executable" attribute or
 * the name, unresolved.  mock_plugin_path() overrides one (NULL included).
 *
 * Environments: env_new() starts from the variables of mock_env_base()
 * (never the test's own environment, so the recorded env is exact), then
 * the plugin's mock_plugin_env() ones.
 *
 * Processes: every run() and every stage of a pipeline() takes the next
 * script of mock_expect() (first in, first out); with none left the
 * process exits 0 and prints nothing.  A script writes its files, calls
 * its callback, feeds its stdout lines to the spawn's on_line (for a
 * pipeline: the last stage's only; a line with no on_line is logged at
 * info level under the label) and ends as scripted.  Every process is
 * recorded (mock_call()) with copies of its argv, env and cwd, before its
 * script runs.  The structs are read as the 1.2 host reads them: the
 * spawns stepped through by stages[0].struct_size, the outcomes written
 * by the adapter's struct smelt_exit (its struct_size, which a 1.2
 * adapter must set in every element; the 1.1 layout for an older one).
 *
 * MOCK_ADAPTER_DIR (defined for every target linking the mock) is the
 * stage's adapter folder: <MOCK_ADAPTER_DIR>/<name>.so, and <name>/ beside
 * it for the files the adapter ships.
 *
 * Everything the adapter hands the host is copied; every pointer this
 * header returns is owned by the mock and valid until mock_host_free().
 * Allocation failures abort the test (these are test helpers), and so
 * does an adapter breaking the contract in a way the host would refuse (a
 * spawn or event smaller than ABI 1.0's, stages of different sizes, a 1.2
 * smelt_exit without its struct_size, an empty argv): the message on
 * stderr says which.  MOCK_HOST_VERBOSE=1
 * in the environment echoes the adapter's log lines on stderr.
 */
#ifndef SMELT_MOCK_HOST_H
#define SMELT_MOCK_HOST_H

#include <smelt/sdk.h>

#include <check.h>
#include <stddef.h>
#include <stdint.h>

struct mock_host;
struct mock_proc;
/* struct smelt_plugin is the mock's own plugin record (opaque to tests as to adapters). */

/* ---- the host -------------------------------------------------------------------------------- */

/* A new mock host with an empty temporary project; free with mock_host_free(). */
struct mock_host *mock_host_new(void);
/*
 * Destroy the loaded adapter's state, unload it, remove the temporary
 * project (MOCK_HOST_KEEP=1 in the environment keeps it, for a look), free
 * everything.  A test that ends early (Check's failed assertion _exit()s
 * the test's process) leaves its project for mock_run_suite() to remove.
 */
void mock_host_free(struct mock_host *m);
/* The service table and context to lend an adapter (mock_adapter_load() does it for you). */
const struct smelt_host_api *mock_host_api(struct mock_host *m);
void *mock_host_ctx(struct mock_host *m);
/* The temporary project's root (absolute, symlinks resolved). */
const char *mock_root(struct mock_host *m);
/* Make host->path(which) answer path (copied; NULL answers NULL). */
void mock_set_path(struct mock_host *m, enum smelt_path which, const char *path);
/* Make host->environment() answer name (copied; NULL: no active environment). */
void mock_set_environment(struct mock_host *m, const char *name);
/* A variable every env_new() starts with. */
void mock_env_base(struct mock_host *m, const char *name, const char *value);
/* A formatted path under the project root (mock-owned): mock_path(m, "transform/target/%s", f). */
const char *mock_path(struct mock_host *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Write a file under the project root (parent folders created); its absolute path (mock-owned). */
const char *mock_write_file(struct mock_host *m, const char *rel, const char *text);
/* An executable file (a shell script that exits 0) at an absolute path, parents created. */
void mock_make_executable(const char *path);
/* A file's whole text (malloc'd; the caller frees), NULL when unreadable. */
char *mock_read_file(const char *path);

/* ---- the adapter under test ------------------------------------------------------------------- */

/*
 * Load <MOCK_ADAPTER_DIR>/<name>.so (the stage's adapter folder, fixed at
 * build time; name may also be the path of a .so), check its ABI like the
 * host's loader, point SMELT_PATH_ADAPTER_DATA at the folder named as the
 * adapter beside the file, and call its init() with the mock.  An adapter
 * of an older minor gets the mock as the host treats it (its struct
 * smelt_exit written in the 1.1 layout).  Returns its descriptor; aborts the test when any step
 * fails (the message says which).  One adapter per mock host.
 */
const struct smelt_adapter *mock_adapter_load(struct mock_host *m, const char *name);
/* The state init() returned, for calling the adapter's operations. */
void *mock_adapter_state(struct mock_host *m);

/* A request under construction; the test owns it (on its stack). */
struct mock_request {
	struct smelt_request req;                 /* what the adapter receives: &r.req */
	const struct smelt_plugin *plugins[8];
	const char *mappings[8];
	const char *args[32];                     /* NULL-terminated */
};
/* A request of kind for command (NULL for the plugin itself), no plugins, no args, no flags. */
void mock_request_init(struct mock_request *r, enum smelt_request_kind kind, const char *command);
/* Append a plugin (and its mapping name, for a mapper in an EL block; else NULL). */
void mock_request_plugin(struct mock_request *r, const struct smelt_plugin *p, const char *mapping);
/* Append an extra argument (borrowed: keep it alive while the request is used). */
void mock_request_arg(struct mock_request *r, const char *arg);

/* ---- plugins ----------------------------------------------------------------------------------- */

/* A plugin of the project: type is the plural ("extractors", "loaders", "transformers", "utilities"...). */
struct smelt_plugin *mock_plugin_add(struct mock_host *m, const char *type, const char *name);
/* An attribute for host->plugin_attr() ("namespace", "pip_url", "executable", "dialect"...); NULL unsets. */
void mock_plugin_attr(struct smelt_plugin *p, const char *key, const char *value);
/* A capability ("catalog", "discover", "state", "properties"...). */
void mock_plugin_capability(struct smelt_plugin *p, const char *cap);
/*
 * A resolved setting: name (dotted for nested ones, '_'-prefixed for
 * extras), its value as JSON text ("\"x\"", "5", "{...}", "null" for
 * unset), and whether the definition marks it sensitive.  Replaces an
 * earlier one of the same name; order of first definition is kept.
 */
void mock_plugin_setting(struct smelt_plugin *p, const char *name, const char *json, int sensitive);
/* Make config_json() (and mapping_config_json()) of p fail with SMELT_ERR_CONFIG and this message. */
void mock_plugin_config_error(struct smelt_plugin *p, const char *message);
/* A command of the definition: args string and executable override (may be NULL). */
void mock_plugin_command(struct smelt_plugin *p, const char *name, const char *args, const char *executable);
/* A mapping of a mapper: its `config` object as JSON text, merged over the settings. */
void mock_plugin_mapping(struct smelt_plugin *p, const char *name, const char *config_json);
/* A variable env_new(p) adds for this plugin. */
void mock_plugin_env(struct smelt_plugin *p, const char *name, const char *value);
/* Make host->plugin_path(p, which) answer path (copied; NULL answers NULL). */
void mock_plugin_path(struct smelt_plugin *p, enum smelt_plugin_path which, const char *path);
/* What host->plugin_path(p, which) answers now (mock-owned). */
const char *mock_plugin_path_of(struct smelt_plugin *p, enum smelt_plugin_path which);
/* Create the plugin's venv with executables bin/<prog> for each NULL-terminated name; the venv path. */
const char *mock_plugin_venv(struct smelt_plugin *p, const char *const *programs);

/* ---- processes --------------------------------------------------------------------------------- */

/* The script of the next process not yet scripted (FIFO); by default it exits 0 silently. */
struct mock_proc *mock_expect(struct mock_host *m);
void mock_proc_exit(struct mock_proc *pr, int code);      /* exited with code */
void mock_proc_signal(struct mock_proc *pr, int sig);     /* killed by sig */
void mock_proc_not_started(struct mock_proc *pr);         /* could not be run (exit 127, not_started) */
/* run()/pipeline() itself returns status with err (e.g. SMELT_ERR_INTERRUPTED). */
void mock_proc_status(struct mock_proc *pr, int status, const char *err);
/* A line the process prints on stdout (without the newline). */
void mock_proc_stdout(struct mock_proc *pr, const char *line);
/* A file the process writes (absolute path; parents created) before it prints or ends. */
void mock_proc_write_file(struct mock_proc *pr, const char *path, const char *text);

struct mock_call;
/* Called when the process runs (after its files are written, before its stdout); non-zero fails the test. */
typedef int (*mock_proc_fn)(struct mock_host *m, const struct mock_call *call, void *arg);
void mock_proc_callback(struct mock_proc *pr, mock_proc_fn fn, void *arg);

/* One process the adapter asked for. */
struct mock_call {
	char *label;       /* the spawn's label, may be NULL */
	char **argv;       /* copied, NULL-terminated */
	size_t argc;
	char **env;        /* NAME=VALUE copies, NULL-terminated; NULL when the spawn had no env */
	char *cwd;         /* NULL: the spawn left it to the host */
	unsigned flags;    /* enum smelt_spawn_flags */
	int has_on_line;   /* the spawn had an on_line callback */
	int pipeline;      /* 0 for run(); else the 1-based number of the pipeline() call */
	size_t stage;      /* index in its pipeline */
	char *joined;      /* argv joined with single spaces (for one assertion on the whole line) */
};
size_t mock_ncalls(struct mock_host *m);
const struct mock_call *mock_call(struct mock_host *m, size_t i); /* aborts when i is out of range */
/* A variable of the call's env (borrowed), NULL when unset or the spawn had no env. */
const char *mock_call_env(const struct mock_call *c, const char *name);
/* The argument after the first occurrence of flag, NULL when none. */
const char *mock_call_arg_after(const struct mock_call *c, const char *flag);
/* 1 when arg is one of argv[1...]. */
int mock_call_has_arg(const struct mock_call *c, const char *arg);

/* ---- what the adapter reported ----------------------------------------------------------------- */

struct mock_event {
	enum smelt_event_kind kind;
	char *item, *status, *message, *detail_json; /* copies, NULL when the adapter gave NULL */
	int64_t count;
	double seconds;
};
size_t mock_nevents(struct mock_host *m);
const struct mock_event *mock_event(struct mock_host *m, size_t i);
/* The first event of kind whose item equals item (any item when NULL); NULL when none. */
const struct mock_event *mock_event_find(struct mock_host *m, enum smelt_event_kind kind, const char *item);
/* How many events of kind have this status (any status when NULL). */
size_t mock_event_count(struct mock_host *m, enum smelt_event_kind kind, const char *status);

struct mock_log {
	enum smelt_log_level level;
	char *text; /* formatted */
};
size_t mock_nlogs(struct mock_host *m);
const struct mock_log *mock_log(struct mock_host *m, size_t i);
/* The first log line containing needle, NULL when none. */
const struct mock_log *mock_log_find(struct mock_host *m, const char *needle);

/* A file written through host->write_private(). */
struct mock_file {
	char *path;
	char *data; /* NUL-terminated copy */
	size_t len;
};
size_t mock_nfiles(struct mock_host *m);
const struct mock_file *mock_file(struct mock_host *m, size_t i);
/* The last private file whose path contains needle, NULL when none. */
const struct mock_file *mock_file_find(struct mock_host *m, const char *needle);

/* ---- state ------------------------------------------------------------------------------------- */

/* The saved state state_get(id) answers (JSON text; NULL: none). */
void mock_state_set(struct mock_host *m, const char *id, const char *json);
struct mock_state_put {
	char *id, *json;
	int partial;
};
size_t mock_nstate_puts(struct mock_host *m);
const struct mock_state_put *mock_state_put(struct mock_host *m, size_t i);
/* Make the (n+1)-th state_put() fail with SMELT_ERR and message. */
void mock_state_put_fail(struct mock_host *m, size_t n, const char *message);

/* ---- secrets ----------------------------------------------------------------------------------- */

/*
 * Where secret shows where it must not: in the argv of a process, a log
 * line, or an event's texts (environments and private files are where
 * secrets belong).  Returns a description ("argv of process 2: ...",
 * mock-owned) or NULL when it appears nowhere.
 */
const char *mock_secret_leak(struct mock_host *m, const char *secret);
/* For Check suites: fail the test, saying where, when secret leaked (see mock_secret_leak()). */
#define mock_assert_no_leak(m, secret)                                                          \
	do {                                                                                    \
		const char *where_ = mock_secret_leak((m), (secret));                           \
		ck_assert_msg(!where_, "secret '%s' leaked: %s", (secret), where_ ? where_ : ""); \
	} while (0)

/* ---- stdout ------------------------------------------------------------------------------------ */

/* Send the test's stdout (fd 1) to a file until mock_stdout_end(), which returns what was printed. */
void mock_stdout_begin(struct mock_host *m);
const char *mock_stdout_end(struct mock_host *m);

/* ---- running a suite --------------------------------------------------------------------------- */

/*
 * Run a Check suite (CK_NORMAL) with every mock project inside one
 * temporary folder, removed at the end even when tests failed half-way;
 * EXIT_SUCCESS when every test passed.  The main() of an adapter suite.
 */
int mock_run_suite(Suite *s);

#endif /* SMELT_MOCK_HOST_H */
