/*
 * logstream - GET /api/v1/runs/{id}/log/stream: a run's log as
 * Server-Sent Events.  Each log line is one `data:` event (the lines
 * already written first, then new ones as the run writes them); when the
 * run has ended and its log is read to the end, `event: end` with
 * {"status": ...} ends the stream and the connection ("Connection:
 * close").  A comment line every 10 s keeps the connection alive (and
 * finds a gone client).  The reader blocks in its own connection's thread
 * (thread-per-connection server), asleep until the log's folder changes
 * (inotify), the run's recorded process exits (pidfd), the server's
 * reaper finishes a run or the server stops (children_subscribe()): no
 * poll interval.
 */
#ifndef SMELT_LOGSTREAM_H
#define SMELT_LOGSTREAM_H

#include "serve/http.h"

/* The streaming reply for run_id (valid, existing). */
struct reply logstream_reply(struct req *r, const char *run_id);

#endif
