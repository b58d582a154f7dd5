/*
 * bench-state-floor: the least a runner can do to keep a target's state.
 * Reads its stdin (a target's stdout: one state per line) the way smelt's
 * supervisor does, through a 1 MiB pipe, a block at a time with a 1 ms
 * pause after each read so that a target writing many small lines wakes it
 * seldom, and keeps the newest complete line, which it prints at the end.
 * No database, no project, no log: what is left of a runner's cost is the
 * target writing its states into a pipe that somebody reads, instead of
 * into /dev/null.
 *
 *     bench-gen-tap ... | bench-sink-target | bench-state-floor
 *
 * BENCHMARKS.md ("the floor of a runner that keeps the state") compares it
 * with the raw pipe `tap | target > /dev/null` and with `smelt run`.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	static char buf[1 << 20];
	static char last[1 << 16];
	size_t last_len = 0, tail = 0; /* tail: bytes of an unfinished line kept at buf's start */
	const struct timespec pause = { 0, 1000000 };
	fcntl(0, F_SETPIPE_SZ, 1 << 20); /* as smelt grows each stage's stdout pipe */
	for (;;) {
		ssize_t n = read(0, buf + tail, sizeof buf - tail);
		if (n <= 0)
			break;
		size_t have = tail + (size_t)n;
		char *end = memrchr(buf, '\n', have);
		if (end) {
			char *start = memrchr(buf, '\n', (size_t)(end - buf));
			start = start ? start + 1 : buf;
			last_len = (size_t)(end - start) < sizeof last ? (size_t)(end - start) : sizeof last;
			memcpy(last, start, last_len);
			tail = have - (size_t)(end + 1 - buf);
			memmove(buf, end + 1, tail);
		} else {
			tail = have < sizeof buf ? have : 0; /* a line longer than the buffer is dropped */
		}
		nanosleep(&pause, NULL);
	}
	fwrite(last, 1, last_len, stdout);
	fputc('\n', stdout);
	return 0;
}
