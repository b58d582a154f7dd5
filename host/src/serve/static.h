/*
 * static - the web UI's files (ui/ in the source tree, installed in
 * <data dir>/ui) served by `smelt serve` without a token: the page cannot
 * send one for its own load, asks for it, then calls the API with it.
 * Only GET and HEAD of "/" and of flat file names in that folder are
 * served (no folders, no dot files, no symbolic links), with a strict
 * Content-Security-Policy; everything else goes to the API.
 */
#ifndef SMELT_STATIC_H
#define SMELT_STATIC_H

#include "serve/http.h"

#include <stddef.h>

/*
 * 1 when a request of method for url (percent-decoded path) is the UI's
 * to answer: GET or HEAD of "/" or of "/<name>" outside /api/ and
 * /health.  Its file name ("index.html" for "/") is written to name
 * (len bytes); a name that is not a plain file name ([A-Za-z0-9_.-]+, not
 * starting with a dot) still answers 1 with name empty (404 follows).
 */
int static_wants(const char *method, const char *url, char *name, size_t len);

/*
 * The reply for UI file name ("" or absent: 404) from <data_dir>/ui, with
 * its content type and security headers.  data_dir is borrowed.
 */
struct reply static_serve(const char *data_dir, const char *name);

#endif
