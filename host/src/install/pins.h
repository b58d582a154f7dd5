/*
 * pins - whether a pip_url pins every requirement to one exact version,
 * so that its install need not resolve dependencies (install.h).
 */
#ifndef SMELT_INSTALL_PINS_H
#define SMELT_INSTALL_PINS_H

#include <stddef.h>

/*
 * 1 when words[0..n) (a pip_url split like a shell splits words) name at
 * least one requirement and every requirement is `name==version` (no
 * wildcard, no URL, no path, no [extras]: pip check cannot see an extra's
 * missing dependencies), 0 otherwise.
 * Options are skipped, with the value of those that take one
 * (--index-url URL, --find-links DIR, --constraint FILE, ...); a
 * requirements file (-r), an editable (-e) or --no-deps already there
 * give 0.  Such a list is a lock only when it is complete: install.c
 * checks the venv after installing it without dependencies and resolves
 * when something is missing.
 */
int install_pins_exact(char *const *words, size_t n);

#endif
