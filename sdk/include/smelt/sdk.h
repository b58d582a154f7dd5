/*
 * smelt/sdk.h - the one header a Smelt adapter includes.
 *
 * An adapter is a shared object that exports one function,
 * smelt_adapter_entry(), returning a static descriptor (struct
 * smelt_adapter).  The host lends its services through struct
 * smelt_host_api; adapters never link against the host.
 *
 * Compatibility: an adapter loads when its ABI major equals the host's
 * and its minor is not newer.  Structs only grow at the end; each
 * carries its own size so either side can tell which fields exist
 * (SMELT_HAS), and an array of structs is stepped through by the
 * struct_size of its first element, never by the reader's sizeof.
 * sdk/ABI.md lists what each minor added.
 *
 * Conventions (see STYLE.md): 0 is success, a negative enum
 * smelt_status is failure; the caller owns every error buffer (errlen
 * bytes, never fewer than SMELT_ERRBUF_SIZE) and the callee fills it,
 * within errlen, with a lowercase message without a final period.
 * Pointers passed in are borrowed for the duration of the call unless a
 * comment says otherwise.
 */
#ifndef SMELT_SDK_H
#define SMELT_SDK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SMELT_ABI_MAJOR 1 /* bump on any incompatible change: remove, reorder, retype */
#define SMELT_ABI_MINOR 2 /* bump when a field is appended to a struct below */
#define SMELT_ABI_MAKE(major, minor) (((uint32_t)(major) << 16) | (uint32_t)(minor))
#define SMELT_ABI_VERSION SMELT_ABI_MAKE(SMELT_ABI_MAJOR, SMELT_ABI_MINOR)
#define SMELT_ABI_MAJOR_OF(v) ((uint32_t)(v) >> 16)
#define SMELT_ABI_MINOR_OF(v) ((uint32_t)(v) & 0xffffu)
#define SMELT_ERRBUF_SIZE 256 /* the smallest error buffer either side passes; errlen is its real size */

#define SMELT_EXPORT __attribute__((visibility("default")))

/* True when the struct at ptr (whose struct_size says how much exists) has the field. */
#define SMELT_HAS(ptr, type, field) \
	(offsetof(type, field) + sizeof(((type *)0)->field) <= (size_t)(ptr)->struct_size)

enum smelt_status { /* append only; never renumber or reuse */
	SMELT_OK = 0,
	SMELT_ERR = -1,             /* generic failure, message in err */
	SMELT_ERR_NOMEM = -2,       /* allocation failed */
	SMELT_ERR_CONFIG = -3,      /* bad settings or project file */
	SMELT_ERR_RETRY = -4,       /* transient; the same call may succeed later */
	SMELT_ERR_UNSUPPORTED = -5, /* operation not implemented by this adapter */
	SMELT_ERR_ABI = -6,         /* ABI mismatch */
	SMELT_ERR_NOTFOUND = -7,    /* a named thing does not exist */
	SMELT_ERR_FAILED = -8,      /* the tool ran and reported failure (test failed, model error) */
	SMELT_ERR_INTERRUPTED = -9, /* stopped by a signal or a timeout */
};

/* Header-only so adapters can use it without linking anything. */
static inline const char *smelt_strerror(int status)
{
	switch (status) {
	case SMELT_OK: return "success";
	case SMELT_ERR: return "error";
	case SMELT_ERR_NOMEM: return "out of memory";
	case SMELT_ERR_CONFIG: return "configuration error";
	case SMELT_ERR_RETRY: return "temporary failure";
	case SMELT_ERR_UNSUPPORTED: return "not implemented yet";
	case SMELT_ERR_ABI: return "ABI mismatch";
	case SMELT_ERR_NOTFOUND: return "not found";
	case SMELT_ERR_FAILED: return "failed";
	case SMELT_ERR_INTERRUPTED: return "interrupted";
	default: return "unknown status";
	}
}

enum smelt_log_level {
	SMELT_LOG_DEBUG = 0,
	SMELT_LOG_INFO = 1,
	SMELT_LOG_WARN = 2,
	SMELT_LOG_ERROR = 3,
};

/* The categories of the data stack; an adapter belongs to one. */
enum smelt_category {
	SMELT_CAT_EXTRACT_LOAD = 1,
	SMELT_CAT_TRANSFORM = 2,
	SMELT_CAT_ORCHESTRATE = 3,
	SMELT_CAT_QUALITY = 4,
	SMELT_CAT_ANALYSIS = 5,
	SMELT_CAT_OTHER = 6,
};

/* Plugin types of a project file (Meltano's), as bits for claims. */
enum smelt_plugin_type {
	SMELT_PT_EXTRACTOR = 1 << 0,
	SMELT_PT_LOADER = 1 << 1,
	SMELT_PT_MAPPER = 1 << 2,
	SMELT_PT_TRANSFORMER = 1 << 3,
	SMELT_PT_TRANSFORM = 1 << 4,
	SMELT_PT_ORCHESTRATOR = 1 << 5,
	SMELT_PT_UTILITY = 1 << 6,
	SMELT_PT_FILE = 1 << 7,
};

/* A plugin of the project, resolved by the host.  Opaque; borrowed. */
struct smelt_plugin;
/* A process environment under construction.  Opaque. */
struct smelt_env;
/* A spawned process.  Opaque. */
struct smelt_proc;

/* Paths of the project, for host->path(). */
enum smelt_path {
	SMELT_PATH_PROJECT_ROOT = 1, /* the folder holding smelt.yml / meltano.yml */
	SMELT_PATH_SYS_DIR = 2,      /* <root>/.smelt */
	SMELT_PATH_RUN_LOG_DIR = 3,  /* <root>/.smelt/logs/<run_id>, NULL outside a run */
	SMELT_PATH_SMELT_EXE = 4,    /* absolute path of the running smelt binary */
	SMELT_PATH_LIBEXEC = 5,      /* folder of programs shipped with smelt (native connectors) */
	SMELT_PATH_ADAPTER_DATA = 6, /* <libdir>/smelt/adapters/<adapter>/: files an adapter ships */
};

/* Paths of one plugin, for host->plugin_path(). */
enum smelt_plugin_path {
	SMELT_PPATH_INSTALL_DIR = 1, /* <root>/.smelt/<type>/<name> */
	SMELT_PPATH_VENV = 2,        /* <install dir>/venv, NULL when the plugin needs none */
	SMELT_PPATH_RUN_DIR = 3,     /* <root>/.smelt/run/<name>: generated files, 0700 */
	SMELT_PPATH_EXECUTABLE = 4,  /* resolved executable (venv bin, libexec or PATH lookup) */
};

/* Flags of host->config_json(). */
enum smelt_config_flags {
	SMELT_CFG_EXTRAS = 1 << 0,  /* include extras (_select, _metadata, ...) under their "_" names */
	SMELT_CFG_REDACT = 1 << 1,  /* replace sensitive values with "*****" */
	SMELT_CFG_FLAT = 1 << 2,    /* keep dotted names flat instead of nesting them */
};

/* Flags of struct smelt_spawn. */
enum smelt_spawn_flags {
	SMELT_SPAWN_INHERIT_STDIO = 1 << 0, /* stdin/stdout/stderr are smelt's own (interactive invoke) */
	SMELT_SPAWN_STDOUT_LOG = 1 << 1,    /* log stdout lines like stderr lines instead of calling on_line */
	SMELT_SPAWN_STDIN_NULL = 1 << 2,    /* stdin reads /dev/null */
	SMELT_SPAWN_QUIET = 1 << 3,         /* log output at debug level only (still kept in the run log) */
};

/*
 * One process to spawn.  argv[0] is looked up on the PATH of env.
 * Borrowed for the duration of the call that takes it.  In the array of
 * host->pipeline() every element has the same struct_size, and the host
 * steps through the array by stages[0].struct_size (1.2).
 */
struct smelt_spawn {
	uint32_t struct_size;          /* sizeof(struct smelt_spawn) of the adapter */
	const char *label;             /* name in log lines, usually the plugin name */
	const char *const *argv;       /* NULL-terminated */
	const struct smelt_env *env;   /* NULL: the host's own environment */
	const char *cwd;               /* NULL: the project root */
	unsigned flags;                /* enum smelt_spawn_flags */
	/*
	 * Called for each stdout line of the process (for a pipeline: of the
	 * last stage) without the newline; line is NUL-terminated and
	 * borrowed for the call.  Return 0 to go on, negative to stop the
	 * process (the call then fails with that status).  NULL: stdout
	 * is logged.
	 */
	int (*on_line)(void *arg, const char *line, size_t len, unsigned long lineno);
	void *arg;                     /* passed to on_line */
};

/* The size of struct smelt_spawn in ABI 1.0 and 1.1, the smallest the host accepts. */
#define SMELT_SPAWN_V1_0_SIZE (offsetof(struct smelt_spawn, arg) + sizeof(void *))

/*
 * Outcome of one process of host->run() or host->pipeline(), written by
 * the host.  From 1.2 the adapter sets struct_size (sizeof(struct
 * smelt_exit)) before the call, in every element of the pipeline's ex[]
 * (the host steps through ex[] by ex[0].struct_size) and writes no more
 * than that.  For an adapter built against 1.0 or 1.1 the host writes
 * the first SMELT_EXIT_V1_1_SIZE bytes only and never reads struct_size.
 */
struct smelt_exit {
	int exited;      /* 1: exited normally, exit_code valid */
	int exit_code;   /* exit status when exited */
	int signaled;    /* 1: killed by term_signal */
	int term_signal; /* the signal */
	int not_started; /* 1: the executable could not be run (exit_code 127) */
	/* added in 1.2 */
	uint32_t struct_size; /* set by the adapter: sizeof(struct smelt_exit) */
};

/* The size of struct smelt_exit in ABI 1.0 and 1.1 (no struct_size). */
#define SMELT_EXIT_V1_1_SIZE (offsetof(struct smelt_exit, not_started) + sizeof(int))

/* Kinds of run event, for host->event(). */
enum smelt_event_kind {
	SMELT_EV_PROGRESS = 1, /* item: what is going on; count: units done */
	SMELT_EV_COUNT = 2,    /* item: stream or table; count: records moved */
	SMELT_EV_RESULT = 3,   /* item: a model, test, expectation or dataset; status: its outcome */
	SMELT_EV_SUMMARY = 4,  /* message: a line for the run summary */
	/*
	 * item: a dataset the block read or wrote; status: "input" or "output";
	 * detail_json: {"namespace" (in-tree adapters: "smelt://<plugin>"),
	 * "fields": [{"name", "type", "description"}], "assertions": [{"assertion",
	 * "success", "column"}], "rows", "stream" (rows from its SMELT_EV_COUNT)},
	 * each optional.  The host's OpenLineage events carry them.  Added in 1.2.
	 */
	SMELT_EV_DATASET = 5,
};

/* A run event: progress, counts, per-item results.  Borrowed. */
struct smelt_event {
	uint32_t struct_size;      /* sizeof(struct smelt_event) of the adapter */
	enum smelt_event_kind kind;
	const char *item;          /* e.g. "model.jaffle.orders", may be NULL */
	const char *status;        /* e.g. "success", "fail", "pass", may be NULL */
	int64_t count;             /* records, rows, failures; -1 when unknown */
	double seconds;            /* duration, -1 when unknown */
	const char *message;       /* human text, may be NULL */
	const char *detail_json;   /* a JSON object with anything else, may be NULL */
};

/* The size of struct smelt_event in ABI 1.0 and 1.1, the smallest the host accepts. */
#define SMELT_EVENT_V1_0_SIZE (offsetof(struct smelt_event, detail_json) + sizeof(const char *))

/* Services the host lends to adapters; append only. */
struct smelt_host_api {
	uint32_t abi_version; /* SMELT_ABI_VERSION the host was built with */
	uint32_t struct_size; /* sizeof(struct smelt_host_api) in the host */

	/* Memory that crosses the boundary.  alloc returns NULL on failure, never aborts. */
	void *(*alloc)(size_t size);
	void (*free)(void *ptr); /* frees only what alloc() or a host service returned; accepts NULL */

	/* Logging; the host adds the adapter name and skips formatting when the level is off. */
	void (*log)(void *hctx, enum smelt_log_level level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

	/* Project paths; borrowed until destroy().  NULL when not applicable. */
	const char *(*path)(void *hctx, enum smelt_path which);
	/* Plugin paths; borrowed until destroy().  NULL when not applicable. */
	const char *(*plugin_path)(void *hctx, const struct smelt_plugin *p, enum smelt_plugin_path which);
	/* The active environment's name, NULL when none; borrowed until destroy(). */
	const char *(*environment)(void *hctx);

	/*
	 * Attributes of a plugin, as the project and its lock file define it:
	 * "name", "namespace", "variant", "type" (plural, e.g. "extractors"),
	 * "executable", "pip_url", "inherit_from", "adapter", "dialect" (a
	 * loader's extra, from the project or the lock file), "commands" (the
	 * names of its `commands:`, each followed by a newline; hosts before
	 * the command adapter answer NULL).  Borrowed until destroy(); NULL when unset.
	 */
	const char *(*plugin_attr)(void *hctx, const struct smelt_plugin *p, const char *key);
	/* 1 when the plugin's capabilities list holds cap, else 0. */
	int (*plugin_has_capability)(void *hctx, const struct smelt_plugin *p, const char *cap);
	/* A plugin of the project by name; NULL when none.  Borrowed until destroy(). */
	const struct smelt_plugin *(*plugin_find)(void *hctx, const char *name);
	/*
	 * Plugins of the given types (enum smelt_plugin_type bits), in project
	 * order: fills up to cap entries of out and returns how many exist.
	 */
	size_t (*plugin_list)(void *hctx, uint32_t types, const struct smelt_plugin **out, size_t cap);
	/*
	 * The args string of a plugin command (from the project or lock file),
	 * and its executable override in *executable (NULL when none).  NULL
	 * when the plugin has no such command, or when a $VAR in its args
	 * cannot be expanded (the host has logged why).  Borrowed until
	 * destroy().
	 */
	const char *(*plugin_command)(void *hctx, const struct smelt_plugin *p, const char *command,
	                              const char **executable);

	/*
	 * The plugin's resolved settings as a JSON object (nested by dotted
	 * names unless SMELT_CFG_FLAT), null values left out.  On success
	 * *json is allocated; the caller frees it with host->free().
	 */
	int (*config_json)(void *hctx, const struct smelt_plugin *p, unsigned flags, char **json,
	                   char *err, size_t errlen);
	/*
	 * The config of one mapping of a mapper plugin (the mapper's resolved
	 * settings with the mapping's `config` merged over them) as a JSON
	 * object in *json (caller frees with host->free()).  SMELT_ERR_NOTFOUND
	 * when the plugin has no such mapping.
	 */
	int (*mapping_config_json)(void *hctx, const struct smelt_plugin *p, const char *mapping, char **json,
	                           char *err, size_t errlen);
	/*
	 * One resolved setting as JSON text (a string value is quoted) in
	 * *json (caller frees with host->free(); NULL when unset) and whether it
	 * is sensitive in *sensitive (may be NULL).
	 */
	int (*setting)(void *hctx, const struct smelt_plugin *p, const char *name, char **json,
	               int *sensitive, char *err, size_t errlen);

	/*
	 * A process environment for running plugin p: smelt's environment,
	 * the project's env, the plugin's env, its settings under their env
	 * names, the MELTANO_* and SMELT_* information variables, and the
	 * plugin's venv bin first on PATH.  p may be NULL (the project only).
	 * Caller frees with env_free().  NULL on allocation failure.
	 */
	struct smelt_env *(*env_new)(void *hctx, const struct smelt_plugin *p);
	/* Add or replace a variable; value NULL removes it. */
	int (*env_set)(struct smelt_env *env, const char *name, const char *value);
	/* A variable's value; borrowed until the next change to env. */
	const char *(*env_get)(const struct smelt_env *env, const char *name);
	void (*env_free)(struct smelt_env *env); /* accepts NULL */

	/*
	 * Run one process to completion under the host's supervisor: stderr
	 * (and stdout, unless on_line is set) is logged line by line with the
	 * label, the run timeout and SIGINT/SIGTERM are honoured, and no child
	 * outlives the call.  Returns 0 when the process ran (see *ex for how
	 * it ended), a negative status when it could not be started or was
	 * interrupted.
	 */
	int (*run)(void *hctx, const struct smelt_spawn *spec, struct smelt_exit *ex, char *err,
	           size_t errlen);
	/*
	 * Run n processes as a pipeline: stage i's stdout is stage i+1's stdin
	 * through a kernel pipe the host never reads, the last stage's stdout
	 * goes to its on_line (state lines of a Singer target), every stderr
	 * is logged.  When one stage fails the host closes the pipes around it
	 * and stops the others.  ex[] (n entries) receives each outcome.
	 */
	int (*pipeline)(void *hctx, const struct smelt_spawn *stages, size_t n, struct smelt_exit *ex,
	                char *err, size_t errlen);

	/*
	 * The saved state of state_id: the Singer state value (partial merged
	 * over complete) as JSON in *json (caller frees with host->free();
	 * NULL when none).
	 */
	int (*state_get)(void *hctx, const char *state_id, char **json, char *err, size_t errlen);
	/*
	 * Save a state value (JSON text) for state_id in its own transaction.
	 * partial: deep-merge into the partial state; else replace.
	 */
	int (*state_put)(void *hctx, const char *state_id, const char *json, int partial, char *err,
	                 size_t errlen);

	/* Report a run event (progress, counts, per-item results). */
	void (*event)(void *hctx, const struct smelt_event *ev);

	/*
	 * Write a private file (mode 0600, parent folders 0700 created) that
	 * the host removes when the current command ends.  Used for configs
	 * with secrets.
	 */
	int (*write_private)(void *hctx, const char *path, const char *data, size_t len, char *err,
	                     size_t errlen);
};

/* Kinds of request an adapter receives. */
enum smelt_request_kind {
	SMELT_REQ_INVOKE = 1,  /* smelt invoke PLUGIN[:COMMAND] ARGS... */
	SMELT_REQ_EL = 2,      /* an EL block of smelt run: extractor, mappers, loader */
	SMELT_REQ_COMMAND = 3, /* a command block of smelt run: PLUGIN:COMMAND */
	SMELT_REQ_TEST = 4,    /* smelt test PLUGIN[:TEST] */
	SMELT_REQ_DUMP = 5,    /* smelt invoke --dump WHAT PLUGIN */
	SMELT_REQ_SYNC = 6,    /* reserved: no 1.x host sends it (the reserved_sync op) */
	SMELT_REQ_EXPORT = 7,  /* smelt schedule export: hand the project's jobs and schedules to an orchestrator */
	SMELT_REQ_SELECT = 8,  /* added in 1.2: smelt select TAP --list: the catalog's streams and their selection */
};

/* Flags of a request. */
enum smelt_request_flags {
	SMELT_RQ_FULL_REFRESH = 1 << 0,    /* ignore saved state and the catalog cache */
	SMELT_RQ_REFRESH_CATALOG = 1 << 1, /* ignore the catalog cache */
	SMELT_RQ_NO_STATE_UPDATE = 1 << 2, /* neither read nor write state */
	SMELT_RQ_STATE_PARTIAL = 1 << 3,   /* save states as partial (merge) writes */
	SMELT_RQ_DRY_RUN = 1 << 4,         /* validate, run nothing */
	SMELT_RQ_JSON = 1 << 5,            /* the user asked for JSON output */
	SMELT_RQ_INTERACTIVE = 1 << 6,     /* stdio is a terminal the tool may use */
	SMELT_RQ_NO_INSTALL = 1 << 7,      /* do not install missing plugins */
};

/* What the host asks of an adapter.  Borrowed for the call. */
struct smelt_request {
	uint32_t struct_size;               /* sizeof(struct smelt_request) in the host */
	enum smelt_request_kind kind;
	const struct smelt_plugin *const *plugins; /* EL: extractor, mappers..., loader; else one */
	size_t nplugins;
	const char *const *mappings;        /* parallel to plugins: mapping name of a mapper, else NULL */
	const char *command;                /* command name (dbt "run"), NULL for the plugin itself */
	const char *const *args;            /* extra arguments, NULL-terminated (may be NULL) */
	size_t nargs;
	const char *state_id;               /* EL: the state id, NULL when stateless */
	const char *run_id;                 /* the run's UUID, NULL outside smelt run */
	unsigned flags;                     /* enum smelt_request_flags */
	const char *dump;                   /* SMELT_REQ_DUMP: "config", "catalog", ... */
	int timeout_s;                      /* 0: none; the host enforces it in run/pipeline */
	/* added in 1.2 */
	/*
	 * SMELT_REQ_EXPORT: the project's jobs and schedules as one JSON object,
	 * {"jobs": [...], "schedules": {"job": [...], "elt": [...]}}, the
	 * members of what `smelt job list --format json` and `smelt schedule
	 * list --format json` print.  NULL for other kinds.
	 */
	const char *schedules_json;
};

/*
 * What an adapter's health check found (smelt adapters check).  The host
 * fills struct_size, detail and detail_len; the adapter sets healthy and
 * writes one line into detail either way (what it found, or what is
 * missing).
 */
struct smelt_health {
	uint32_t struct_size; /* sizeof(struct smelt_health) in the host */
	int healthy;          /* set by the adapter: 1 usable, 0 not (the host starts it at 0) */
	char *detail;         /* the host's buffer, NUL-terminated by the adapter */
	size_t detail_len;    /* its size, never less than SMELT_ERRBUF_SIZE */
};

/*
 * A command an adapter provides beyond the plugin definition's (gx
 * "validate").  The host steps through a table by the descriptor's
 * command_size (1.2; sizeof the 1.1 struct when it is absent or 0).
 */
struct smelt_command {
	const char *name;        /* e.g. "validate"; NULL ends a table */
	const char *description; /* one line for --list-commands */
};

/* What an adapter tells the host about itself. */
struct smelt_adapter {
	uint32_t abi_version;              /* must stay first: SMELT_ABI_VERSION at build time */
	uint32_t struct_size;              /* must stay second: sizeof(struct smelt_adapter) */
	const char *name;                  /* unique, [a-z0-9_]+, e.g. "dbt" */
	const char *version;               /* the adapter's own version string */
	const char *description;           /* one line */
	enum smelt_category category;
	uint32_t plugin_types;             /* enum smelt_plugin_type bits claimed as a whole */
	const char *const *namespaces;     /* NULL-terminated fnmatch patterns claimed, or NULL */
	const struct smelt_command *commands; /* {NULL}-terminated, or NULL */

	/* Required.  *state is the adapter's, born here and freed in destroy(). */
	int (*init)(const struct smelt_host_api *host, void *hctx, void **state, char *err,
	            size_t errlen);
	void (*destroy)(void *state); /* required; must accept NULL */

	/* Every operation below is optional; NULL answers "not implemented yet". */

	/* Reserved (1.0's configure): never called by a 1.x host; leave it NULL. */
	void *reserved_configure;
	/* smelt invoke: run the plugin or one of its commands; *exit_code is the tool's. */
	int (*invoke)(void *state, const struct smelt_request *req, int *exit_code, char *err,
	              size_t errlen);
	/* smelt run: one EL or command block.  SMELT_ERR_FAILED when the tool reported failure. */
	int (*run_block)(void *state, const struct smelt_request *req, char *err, size_t errlen);
	/* smelt test. */
	int (*test)(void *state, const struct smelt_request *req, char *err, size_t errlen);
	/* After smelt install built the plugin's venv. */
	int (*post_install)(void *state, const struct smelt_plugin *p, char *err, size_t errlen);
	/*
	 * Orchestrators, `smelt schedule export [ORCHESTRATOR]`: hand the
	 * project's jobs and schedules (req->schedules_json, SMELT_REQ_EXPORT,
	 * plugins[0] the orchestrator) to the tool.
	 */
	int (*export_schedules)(void *state, const struct smelt_request *req, char *err,
	                        size_t errlen);
	/* Reserved (1.0's sync): never called by a 1.x host; leave it NULL. */
	void *reserved_sync;

	/* added in 1.1 */
	/*
	 * Is the tool usable?  0 when healthy, else a status with err saying
	 * why.  Superseded by check_health in 1.2: the host calls this one only
	 * when check_health is absent.
	 */
	int (*health)(void *state, char *err, size_t errlen);

	/* added in 1.2 */
	uint32_t command_size; /* sizeof(struct smelt_command), the stride of commands */
	/*
	 * `smelt adapters check`: is the tool usable (installed, configured)?
	 * Sets out->healthy and out->detail; returns 0 when the check ran
	 * (healthy or not), a negative status with err set when it could not.
	 */
	int (*check_health)(void *state, struct smelt_health *out, char *err, size_t errlen);
	/*
	 * `smelt select TAP --list` (SMELT_REQ_SELECT, plugins[0] the
	 * extractor): the streams and properties the plugin offers and their
	 * selection, computed by the adapter, as a JSON object in *json
	 * (allocated with host->alloc(); the host frees it):
	 *   {"enabled_patterns": ["users.*", ...],
	 *    "streams": [{"stream": "users", "selection": "selected",
	 *                 "properties": [{"name": "id", "selection": "automatic"}, ...]}, ...]}
	 * selection is one of "selected", "excluded", "automatic",
	 * "unsupported"; every stream and property is listed, in catalog order.
	 */
	int (*select)(void *state, const struct smelt_request *req, char **json, char *err, size_t errlen);
};

/* The size of struct smelt_adapter in ABI 1.0, the smallest the host accepts. */
#define SMELT_ADAPTER_V1_0_SIZE (offsetof(struct smelt_adapter, reserved_sync) + sizeof(void *))
/* The size of struct smelt_adapter in ABI 1.1. */
#define SMELT_ADAPTER_V1_1_SIZE (offsetof(struct smelt_adapter, health) + sizeof(void *))
/* The size of struct smelt_command in ABI 1.0 and 1.1, the stride when command_size is absent. */
#define SMELT_COMMAND_V1_1_SIZE (2 * sizeof(const char *))

typedef const struct smelt_adapter *(*smelt_entry_fn)(void);

/* The one symbol an adapter exports. */
#define SMELT_ENTRY_SYMBOL "smelt_adapter_entry"
SMELT_EXPORT const struct smelt_adapter *smelt_adapter_entry(void);

#ifdef __cplusplus
}
#endif

#endif /* SMELT_SDK_H */
