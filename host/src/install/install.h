/*
 * install - one virtualenv per plugin, pip (or uv) installs in parallel,
 * and fingerprints that skip what is already installed.
 *
 * Layout (DESIGN.md section 3): <sys dir>/<type>/<name>/venv is the
 * virtualenv; <sys dir>/<type>/<name>/.smelt_plugin_fingerprint holds the
 * SHA-256 hex of the sorted, de-duplicated pip arguments joined by spaces
 * (Meltano's fingerprint, MELTANO.md section 11), with " python:<interpreter>"
 * appended before hashing when the interpreter is not the default python3;
 * <sys dir>/<type>/<name>/install.log holds the last install's
 * output.  A plugin is installed when its fingerprint file matches and
 * its venv has bin/python; a failed install leaves no fingerprint (and
 * no venv).
 *
 * Tools: `uv venv` + `uv pip install --python <venv>/bin/python` when uv is
 * on PATH ($SMELT_NO_UV=1 turns that off), else `<python> -m venv
 * --without-pip` + `<python> -m pip --python <venv>/bin/python install` when
 * the interpreter's pip can install elsewhere (pip >= 22.3: no ensurepip,
 * which cost about 4 s a venv; the venv has no pip, as uv's venvs), else
 * `<python> -m venv` + `<venv>/bin/python -m pip install`.  PyPI's wheels
 * come through one cache shared by the parallel installs (uv's or pip's,
 * from the environment).  A pip_url that pins every requirement exactly
 * (install/pins.h: a lock) is installed with --no-deps, no resolution,
 * then checked (`uv pip check` / `pip check`): when a dependency is
 * missing, the same install runs again resolving it.  Bytecode is compiled at install only
 * for items that ask (compile_bytecode: uv --compile-bytecode, or pip's
 * default); the others leave it to Python's first import (pip gets
 * --no-compile), as Meltano does: compiling a whole venv cost more than
 * its download.  The pip_url is split like a shell splits words (quotes,
 * backslashes) and passed as argv: no shell runs.
 * The interpreter is the item's python, else $SMELT_PYTHON, else python3.
 *
 * Threading: install_plugins() runs workers on its own threads; call it
 * from one thread at a time.
 */
#ifndef SMELT_INSTALL_H
#define SMELT_INSTALL_H

#include <stddef.h>

enum install_result {
	INSTALL_PENDING = 0, /* not looked at yet */
	INSTALL_DONE,        /* installed now */
	INSTALL_UP_TO_DATE,  /* fingerprint matched: "already installed" */
	INSTALL_NOTHING,     /* no pip_url: "nothing to install" (native connectors, tools on PATH) */
	INSTALL_FAILED,      /* see error */
};

/* One plugin to install.  The input strings are borrowed for the call. */
struct install_item {
	const char *plugin_type; /* plural, e.g. "extractors" (for messages) */
	const char *name;        /* plugin name (messages, display) */
	const char *pip_url;     /* expanded pip_url; NULL or blank: nothing to install */
	const char *python;      /* interpreter name or path; NULL: $SMELT_PYTHON, else python3 */
	const char *venv_dir;    /* <sys dir>/<type>/<name>/venv (its parent holds the fingerprint) */
	const char *base_dir;    /* the folder venv_dir lies in (the sys dir): its files are made and removed
	                            beneath it, following no symbolic link; NULL: plain paths (tests) */
	int compile_bytecode;    /* 1: compile the venv's bytecode at install (tools that start several
	                            processes at once, e.g. Airflow); 0: Python compiles at first import */
	/* filled by install_plugins(): */
	enum install_result result;
	char *error;             /* on INSTALL_FAILED: the cause, then the tail of pip's output (malloc'ed) */
	double seconds;          /* time the install took */
};

enum install_flags {
	INSTALL_CLEAN = 1 << 0,    /* remove each venv and install anew, whatever the fingerprint */
	INSTALL_PROGRESS = 1 << 1, /* live display on stderr (one redrawn line per plugin); else log lines */
	INSTALL_QUIET = 1 << 2,    /* no log line for up-to-date and nothing-to-install plugins */
};

/*
 * Install items[0..n) with at most parallelism (<= 0: number of CPUs)
 * installs at once.  Every item gets a result; a failure does not stop
 * the others.  Each failed item's error ends with the last ~20 lines of
 * the tool's output.  Returns 0 when none failed, -1 otherwise.
 */
int install_plugins(struct install_item *items, size_t n, int parallelism, unsigned flags);

/*
 * 1 when the item needs an install (pip_url set and the fingerprint file
 * missing, different, or the venv has no bin/python), 0 when it is
 * installed or has nothing to install.  No process is started.
 */
int install_needed(const struct install_item *item);

/* Free item->error (results stay); for arrays, call on each item. */
void install_item_release(struct install_item *item);

/*
 * The fingerprint text of a pip_url and interpreter (NULL: the default)
 * as written to the fingerprint file.  Caller frees.
 */
char *install_fingerprint(const char *pip_url, const char *python);


/* "3.11" for interpreter python (run once; no shell), NULL when it cannot run.  Caller frees. */
char *install_python_version(const char *python);

/* The interpreter an item uses: item->python, $SMELT_PYTHON or "python3" (borrowed). */
const char *install_python(const struct install_item *item);

#endif
