/*
 * bench-state-floor: the least a runner can do to keep a target's state.
 *
 *     bench-state-floor 'TAP ARGS...' 'TARGET ARGS...'
 *
 * Starts the tap and the target (each command split on blanks, no shell),
 * the tap's stdout piped into the target's stdin, and reads the target's
 * stdout (its states, one a line) the way smelt's supervisor does: every
 * stdout pipe grown to 1 MiB, a block read at a time with a 1 ms pause
 * after each read so that a target writing many small lines wakes it
 * seldom (the pause ends early when the target's stdout closes, as
 * smelt's does).  It keeps the newest complete line and prints it at the end.
 * No database, no project, no log, no check of what it reads: what is left
 * of a runner's cost is the target writing its states into a pipe that
 * somebody reads, instead of into /dev/null.
 *
 * BENCHMARKS.md ("the floor of a runner that keeps the state") compares it
 * with the raw pipe `tap | target > /dev/null` and with `smelt run`.
 */
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define PIPE_BYTES (1 << 20) /* as smelt's PROC_PIPE_BYTES */

/* cmd split on blanks into a NULL-terminated argv (cmd is modified). */
static char **split(char *cmd)
{
	size_t n = 0;
	char **argv = calloc(strlen(cmd) / 2 + 2, sizeof *argv);
	for (char *tok = strtok(cmd, " \t"); tok; tok = strtok(NULL, " \t"))
		argv[n++] = tok;
	return argv;
}

/* Start argv with stdin in and stdout out (both closed here); its pid. */
static pid_t start(char **argv, int in, int out)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	pid_t pid;
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		perror(argv[0]);
		exit(127);
	}
	posix_spawn_file_actions_destroy(&fa);
	close(in);
	close(out);
	return pid;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: bench-state-floor 'TAP ARGS...' 'TARGET ARGS...'\n");
		return 2;
	}
	int tap_out[2], target_out[2];
	if (pipe2(tap_out, O_CLOEXEC) || pipe2(target_out, O_CLOEXEC))
		return 1;
	fcntl(tap_out[1], F_SETPIPE_SZ, PIPE_BYTES);
	fcntl(target_out[1], F_SETPIPE_SZ, PIPE_BYTES);
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid_t tap = start(split(argv[1]), devnull, tap_out[1]);
	pid_t target = start(split(argv[2]), tap_out[0], target_out[1]);

	static char buf[1 << 20];
	static char last[1 << 16];
	size_t last_len = 0, tail = 0; /* tail: bytes of an unfinished line kept at buf's start */
	for (;;) {
		ssize_t n = read(target_out[0], buf + tail, sizeof buf - tail);
		if (n <= 0)
			break;
		size_t have = tail + (size_t)n;
		char *end = memrchr(buf, '\n', have);
		if (end) {
			char *begin = memrchr(buf, '\n', (size_t)(end - buf));
			begin = begin ? begin + 1 : buf;
			last_len = (size_t)(end - begin) < sizeof last ? (size_t)(end - begin) : sizeof last;
			memcpy(last, begin, last_len);
			tail = have - (size_t)(end + 1 - buf);
			memmove(buf, end + 1, tail);
		} else {
			tail = have < sizeof buf ? have : 0; /* a line longer than the buffer is dropped */
		}
		/* the pause: 1 ms, cut short when the target's end closes the pipe (POLLHUP needs no event) */
		struct pollfd hup = { target_out[0], 0, 0 };
		poll(&hup, 1, 1);
	}
	int st_tap = 0, st_target = 0;
	waitpid(tap, &st_tap, 0);
	waitpid(target, &st_target, 0);
	fwrite(last, 1, last_len, stdout);
	fputc('\n', stdout);
	return st_tap || st_target ? 1 : 0;
}
