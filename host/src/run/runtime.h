/*
 * runtime - what a command that dispatches to adapters holds for its
 * duration: the project, the system database, the loaded adapters, the
 * host-service table lent to them, the run id and log folder, private
 * files to remove, and the events adapters report (for the summary).
 */
#ifndef SMELT_RUNTIME_H
#define SMELT_RUNTIME_H

#include "adapters/loader.h"

#include <smelt/sdk.h>

struct smelt_paths;
struct project;
struct plugin;
struct store;
struct strbuf;

/* One event kept for the run summary. */
struct rt_event {
	enum smelt_event_kind kind;
	char *source;   /* adapter or plugin label */
	char *item, *status, *message;
	int64_t count;
	double seconds;
	size_t block;   /* runtime.block when reported: 1-based block of smelt run, 0 outside */
	char *detail;   /* the event's detail_json (owned), NULL when none */
};

struct runtime {
	const struct smelt_paths *paths; /* this install's folders (borrowed) */
	struct project *project;      /* borrowed */
	struct store *store;          /* NULL until runtime_store(); the project's (settings_project_store()) unless store_owned */
	int store_owned;              /* 1: store is closed by runtime_release() */
	int sys_dir_made;             /* the system folder was made (or made private) by this runtime */
	struct state_backend *state_backend; /* owned; NULL until runtime_state_backend() */
	struct loader loader;         /* adapters found for this project */
	struct smelt_host_api api;    /* the table lent to adapters */
	char *run_id;                 /* NULL outside smelt run */
	int history_unavailable;      /* the run history's database could not be opened: said once (run/history.c) */
	char *run_log_dir;            /* .smelt/logs/<run_id>, NULL outside smelt run */
	int timeout_s;                /* 0: none */
	long long deadline_ms;        /* monotonic deadline of the whole run, 0: none */
	char **private_files;         /* removed by runtime_release() */
	size_t nprivate;
	char **pool;                  /* strings handed to adapters as "borrowed until destroy" */
	size_t npool;
	struct rt_event *events;
	size_t nevents;
	const char *heartbeat_run_id; /* the run whose heartbeat the supervisor's tick refreshes */
	long long heartbeat_ms;       /* monotonic time of the last heartbeat */
	struct {                      /* the newest complete state not committed yet (see h_state_put) */
		char *state_id;           /* owned; NULL: nothing pending */
		char *json;               /* buf when a state is pending, else NULL */
		char *buf;                /* owned; kept between states, so a state per record costs no malloc */
		size_t cap;               /* bytes of buf */
		long long last_ms;        /* monotonic time of the last commit */
		int failed;               /* a commit from the tick failed: err says why */
		char err[SMELT_ERRBUF_SIZE];
	} pending_state;
	void **hctxs;                 /* host contexts, one per initialised adapter */
	size_t nhctx;
	size_t block;                 /* 1-based index of the block running now (events carry it), 0: none */
	size_t block_procs;           /* processes the current block started: none, no tool output to point at */
	const char *status_label;     /* live status of a command block ("[2/3] dbt:run"), NULL: none */
	long long status_t0;          /* monotonic ms when status_label was set */
	int check_required;           /* runtime_prepare() refuses plugins lacking required settings (smelt run) */
	struct lineage *lineage;      /* owned; OpenLineage events of smelt run (run/lineage.h), NULL: none */
};

/* Set up: load adapters (install folder, $SMELT_ADAPTER_PATH, <root>/adapters). */
void runtime_init(struct runtime *rt, const struct smelt_paths *paths, struct project *project);
/*
 * runtime_init() for commands that only claim adapters (smelt run): the
 * adapters are discovered through the index <sys_dir>/adapters.index
 * (adapters/loader.h, loader_discover_indexed()), so only the ones a
 * plugin of the command needs are loaded.  rt->loader may then hold
 * entries without a desc: iterate it only after loader_load_all().
 */
void runtime_init_lazy(struct runtime *rt, const struct smelt_paths *paths, struct project *project);
/* destroy() adapters, remove private files, close the store. */
void runtime_release(struct runtime *rt);

/*
 * The system database, opened on first use: the connection the project's
 * settings are read through (settings/system_db.h, settings_project_store()),
 * so a command opens it once.  NULL with err filled on failure.
 */
struct store *runtime_store(struct runtime *rt, char *err, size_t errlen);

/*
 * The adapter that claims plugin pl, initialised (init() called once with
 * its own host context, kept in rt): dispatch_adapter_for()
 * (adapters/dispatch.h) with rt's loader and service table.  NULL with err
 * filled when none claims it or its init failed.
 */
struct loaded_adapter *runtime_adapter_for(struct runtime *rt, struct plugin *pl, char *err, size_t errlen);

/* init() one adapter (once) with its own host context; 0 or a negative status with err set. */
int runtime_init_adapter(struct runtime *rt, struct loaded_adapter *a, char *err, size_t errlen);

/* Keep s until runtime_release() and return it (for borrowed strings). */
const char *runtime_keep(struct runtime *rt, char *s);

/* Absolute path of a plugin's install dir, venv, run dir, executable (borrowed until release). */
const char *runtime_plugin_path(struct runtime *rt, struct plugin *pl, enum smelt_plugin_path which);

/*
 * Build the NULL-terminated environment of plugin pl (NULL: project only):
 * smelt's environment, the settings' env vars, the info vars, the plugin's
 * venv bin and smelt's libexec folder first on PATH.  Caller frees with
 * runtime_env_free().
 */
struct smelt_env *runtime_env_new(struct runtime *rt, struct plugin *pl);
void runtime_env_free(struct smelt_env *env);
char *const *runtime_env_vars(const struct smelt_env *env);

/*
 * The words of a plugin command's args string, as Meltano builds them:
 * split at blanks with quotes (util/argv.h) first, then $VAR and ${VAR}
 * expanded in each word from the plugin's environment (runtime_env_new()),
 * so a value with blanks stays one word.  A word that had references and
 * expands to nothing is an error, as in Meltano.  Appends to *words and *n
 * (argv_push); 0, or SMELT_ERR_CONFIG with err = "command 'C' of 'P': ...".
 */
int runtime_command_words(struct runtime *rt, struct plugin *pl, const char *command, const char *args,
                          char ***words, size_t *n, char *err, size_t errlen);

/*
 * Before running plugins: lock those without a lock file (auto-lock, the
 * Hub is asked only then) and, when install is set, install those whose
 * venv is missing or out of date; otherwise such a plugin is an error
 * naming 'smelt install'.  With rt->check_required, a plugin whose
 * required settings (settings/required.h) are unset is an error naming
 * them, before anything is installed.  Returns 0 or a negative status
 * with err set.
 */
int runtime_prepare(struct runtime *rt, struct plugin *const *pls, size_t n, int install, char *err, size_t errlen);

struct install_item;
/* Call the adapters' post_install for the items installed just now (INSTALL_DONE); failures are warnings. */
void runtime_post_install(struct runtime *rt, const struct install_item *items, size_t n);

/*
 * What the events of block (1-based) say, in one phrase for the run's
 * summary table: rows per stream for an EL block ("customers 5 rows,
 * orders 40 rows"), results by kind and outcome for a command block
 * ("2 models, 10 tests: 12 passed").  Appended to sb; nothing when the
 * block reported nothing.
 */
void runtime_block_result(struct runtime *rt, size_t block, struct strbuf *sb);
/* How many failing results (fail, error) block reported; each was printed as it came. */
size_t runtime_block_failures(const struct runtime *rt, size_t block);

#endif
