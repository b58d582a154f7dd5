/*
 * spawn - the posix_spawn attributes of every process smelt serve starts
 * (its runs, and the smelt commands that answer API calls): no signal
 * blocked, and SIGINT, SIGTERM, SIGHUP and SIGPIPE back to their default
 * action, whatever the server's threads have set for themselves.
 */
#ifndef SMELT_SERVE_SPAWN_H
#define SMELT_SERVE_SPAWN_H

#include <spawn.h>

/*
 * posix_spawnattr_init(at) with the mask and defaults above, plus flags
 * (POSIX_SPAWN_SETSID, POSIX_SPAWN_SETPGROUP...).  The caller destroys at.
 */
void spawn_attr_init(posix_spawnattr_t *at, short flags);

#endif
