/*
 * names - the one check for every name that becomes a path.
 *
 * Plugin, environment, job, schedule and mapping names, variants and run
 * ids end up as folder and file names (.smelt/<type>/<name>/venv,
 * .smelt/run/<name>/, plugins/<type>/<name>--<variant>.lock,
 * .smelt/logs/<run id>/).  A name is checked where it enters (project
 * load, the command line) so that it stays one path component inside
 * the project; fs.h's *_beneath() helpers are the second line, for a
 * check that was missed.
 *
 * A name is 1 to NAME_MAX_LEN bytes, is not '.' or '..', and holds no '/',
 * no '\' and no control character (bytes 0x00-0x1f and 0x7f).  Any other
 * byte, UTF-8 included, is allowed, so existing Meltano projects load.
 * A run id is stricter (name_check_run_id()).
 *
 * Thread-safe: no state.
 */
#ifndef SMELT_NAMES_H
#define SMELT_NAMES_H

#include <stddef.h>

#define NAME_MAX_LEN 128   /* bytes; a path component stays far below NAME_MAX (255) */
#define RUN_ID_MAX_LEN 64  /* bytes; block ids add ':<n>' and must stay unique */

/*
 * Check one name.  what says what it names, for the message ("plugin",
 * "environment", "job", "schedule", "mapping", "variant").  Returns 0
 * when the name is usable, else SMELT_ERR_CONFIG with err set to e.g.
 * "plugin name '../x' may not contain '/'" (the name is quoted with
 * control bytes shown as \xNN, so a hostile name cannot garble a
 * terminal).  The caller adds where the name came from (file:line:col or
 * the option).  value may be NULL (reported as missing).
 */
int name_check(const char *what, const char *value, char *err, size_t errlen);

/*
 * Check a run id (smelt run --run-id): a UUID, or 1 to RUN_ID_MAX_LEN
 * letters, digits, '.', '_' and '-' that starts with a letter or a digit.
 * No ':' (it separates the run id from a block's number), no '/'.
 * Returns 0 or SMELT_ERR_CONFIG with err set ("run id '...' ...").
 */
int name_check_run_id(const char *value, char *err, size_t errlen);

/*
 * Append value to out (outlen bytes, always NUL-terminated) quoted for a
 * message: at most 64 bytes of it, control bytes and '\' as \xNN, and
 * "..." when cut.  Returns out.
 */
char *name_quote(const char *value, char *out, size_t outlen);

#endif
