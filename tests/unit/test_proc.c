/* Check suite for host/src/run/proc: pipelines, callbacks, failures, early exits, timeouts. */
#include "run/proc.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char err[SMELT_ERRBUF_SIZE];

struct lines {
	struct strbuf all;
	unsigned long count;
};

static int collect(void *arg, const char *line, size_t len, unsigned long lineno)
{
	struct lines *l = arg;
	l->count = lineno;
	strbuf_add(&l->all, line, len);
	strbuf_addch(&l->all, '|');
	return 0;
}

static int stop_at_two(void *arg, const char *line, size_t len, unsigned long lineno)
{
	(void)arg; (void)line; (void)len;
	return lineno >= 2 ? SMELT_ERR_CONFIG : 0;
}

static void no_zombies(void)
{
	/* every child was reaped: waitpid has nothing left */
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
}

START_TEST(pipeline_wires_stdout_to_stdin)
{
	char *a[] = { "sh", "-c", "printf 'one\\ntwo\\nthree'", NULL };
	char *b[] = { "tr", "a-z", "A-Z", NULL };
	struct lines l = { STRBUF_INIT, 0 };
	struct proc_stage st[2] = { { .label = "a", .argv = a }, { .label = "b", .argv = b, .on_line = collect, .arg = &l } };
	struct proc_result res[2];
	ck_assert_int_eq(proc_pipeline(st, 2, NULL, res, err, sizeof err), SMELT_OK);
	ck_assert_str_eq(l.all.buf, "ONE|TWO|THREE|");
	ck_assert_uint_eq(l.count, 3);
	ck_assert(res[0].exit.exited && res[0].exit.exit_code == 0);
	ck_assert(res[1].exit.exited && res[1].exit.exit_code == 0);
	ck_assert_int_eq(res[0].bytes_written, 13);
	strbuf_release(&l.all);
	no_zombies();
}
END_TEST

START_TEST(reports_exit_codes)
{
	char *a[] = { "sh", "-c", "echo x; exit 3", NULL };
	char *b[] = { "cat", NULL };
	struct proc_stage st[2] = { { .label = "a", .argv = a }, { .label = "b", .argv = b } };
	struct proc_result res[2];
	ck_assert_int_eq(proc_pipeline(st, 2, NULL, res, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(res[0].exit.exit_code, 3);
	ck_assert_int_eq(res[1].exit.exit_code, 0);
	no_zombies();
}
END_TEST

START_TEST(missing_executable_is_an_error)
{
	char *a[] = { "smelt-no-such-program", NULL };
	char *b[] = { "cat", NULL };
	struct proc_stage st[2] = { { .label = "tap-x", .argv = a }, { .label = "b", .argv = b } };
	struct proc_result res[2];
	ck_assert_int_eq(proc_pipeline(st, 2, NULL, res, err, sizeof err), SMELT_ERR);
	ck_assert_msg(strstr(err, "smelt-no-such-program") && strstr(err, "tap-x"), "got: %s", err);
	ck_assert(res[0].exit.not_started);
	no_zombies();
}
END_TEST

START_TEST(downstream_exit_stops_upstream)
{
	char *a[] = { "sh", "-c", "trap '' PIPE; while :; do echo y || sleep 1; done", NULL };
	char *b[] = { "head", "-n", "1", NULL };
	struct lines l = { STRBUF_INIT, 0 };
	struct proc_stage st[2] = { { .label = "a", .argv = a }, { .label = "b", .argv = b, .on_line = collect, .arg = &l } };
	struct proc_result res[2];
	time_t t0 = time(NULL);
	ck_assert_int_eq(proc_pipeline(st, 2, NULL, res, err, sizeof err), SMELT_OK);
	ck_assert(time(NULL) - t0 < 8);
	ck_assert(res[0].exit.signaled && res[0].exit.term_signal == SIGTERM);
	ck_assert_str_eq(l.all.buf, "y|");
	strbuf_release(&l.all);
	no_zombies();
}
END_TEST

START_TEST(timeout_interrupts)
{
	char *a[] = { "sleep", "30", NULL };
	struct proc_stage st[1] = { { .label = "sleeper", .argv = a } };
	struct proc_result res[1];
	struct proc_opts o = { .timeout_s = 1 };
	ck_assert_int_eq(proc_pipeline(st, 1, &o, res, err, sizeof err), SMELT_ERR_INTERRUPTED);
	ck_assert_msg(strstr(err, "timed out"), "got: %s", err);
	ck_assert(res[0].exit.signaled);
	no_zombies();
}
END_TEST

START_TEST(callback_can_stop)
{
	char *a[] = { "sh", "-c", "while :; do echo s; sleep 0.05; done", NULL };
	struct proc_stage st[1] = { { .label = "a", .argv = a, .on_line = stop_at_two } };
	struct proc_result res[1];
	ck_assert_int_eq(proc_pipeline(st, 1, NULL, res, err, sizeof err), SMELT_ERR_CONFIG);
	no_zombies();
}
END_TEST

/* on_line's contract (sdk.h): the line ends at len with a NUL, whichever read delivered it */
static int c_strings(void *arg, const char *line, size_t len, unsigned long lineno)
{
	struct lines *l = arg;
	(void)lineno;
	strbuf_addstr(&l->all, line); /* as a C string, as Singer's state sink hands it on */
	strbuf_addch(&l->all, len == strlen(line) ? '|' : '!');
	return 0;
}

START_TEST(crlf_lines_split_across_reads_end_with_nul)
{
	/* each CRLF line reaches the supervisor in two reads: the second half comes 50 ms later */
	char *a[] = { "sh", "-c", "printf '{\"a\"'; sleep 0.05; printf ':1}\\r\\n{\"b\"'; sleep 0.05; printf ':2}\\r\\n'",
		      NULL };
	struct lines l = { STRBUF_INIT, 0 };
	struct proc_stage st[1] = { { .label = "a", .argv = a, .on_line = c_strings, .arg = &l } };
	struct proc_result res[1];
	ck_assert_int_eq(proc_pipeline(st, 1, NULL, res, err, sizeof err), SMELT_OK);
	ck_assert_str_eq(l.all.buf, "{\"a\":1}|{\"b\":2}|");
	strbuf_release(&l.all);
	no_zombies();
}
END_TEST

START_TEST(long_line_below_the_cap_passes)
{
	/* a 5 MB line (under the 50 MiB cap) through two stages and into the callback */
	char *a[] = { "sh", "-c", "head -c 5000000 /dev/zero | tr '\\0' x; echo", NULL };
	char *b[] = { "cat", NULL };
	struct lines l = { STRBUF_INIT, 0 };
	struct proc_stage st[2] = { { .label = "a", .argv = a }, { .label = "b", .argv = b, .on_line = collect, .arg = &l } };
	struct proc_result res[2];
	ck_assert_int_eq(proc_pipeline(st, 2, NULL, res, err, sizeof err), SMELT_OK);
	ck_assert_uint_eq(l.all.len, 5000001);
	strbuf_release(&l.all);
}
END_TEST

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void note_written(void *arg, size_t stage, const char *line, size_t len)
{
	if (stage == 0 && len >= 7 && !memcmp(line, "written", 7))
		*(double *)arg = mono_s();
}

START_TEST(a_stage_writes_ahead_up_to_a_mebibyte)
{
	/* 900,000 bytes fit in the grown pipe: the writer is done long before the reader wakes (2 s) */
	char *a[] = { "sh", "-c", "head -c 900000 /dev/zero; echo written >&2", NULL };
	char *b[] = { "sh", "-c", "sleep 2; wc -c", NULL };
	struct lines l = { STRBUF_INIT, 0 };
	double written = 0;
	struct proc_opts o = { .on_stderr = note_written, .stderr_arg = &written };
	struct proc_stage st[2] = { { .label = "a", .argv = a }, { .label = "b", .argv = b, .on_line = collect, .arg = &l } };
	struct proc_result res[2];
	double t0 = mono_s();
	ck_assert_int_eq(proc_pipeline(st, 2, &o, res, err, sizeof err), SMELT_OK);
	ck_assert_str_eq(l.all.buf, "900000|");
	ck_assert_msg(written > 0, "the writer's stderr line was not seen");
	ck_assert_msg(written - t0 < 1.5, "the writer waited %.2f s for its reader", written - t0);
	strbuf_release(&l.all);
	no_zombies();
}
END_TEST

START_TEST(pipes_stay_at_their_default_size_when_asked)
{
	/* pipe_bytes at the default 64 KiB ($SMELT_PIPE_BYTES=65536): the same writer waits for its reader */
	char *a[] = { "sh", "-c", "head -c 900000 /dev/zero; echo written >&2", NULL };
	char *b[] = { "sh", "-c", "sleep 1; wc -c", NULL };
	struct lines l = { STRBUF_INIT, 0 };
	double written = 0;
	struct proc_opts o = { .on_stderr = note_written, .stderr_arg = &written, .pipe_bytes = 65536 };
	struct proc_stage st[2] = { { .label = "a", .argv = a }, { .label = "b", .argv = b, .on_line = collect, .arg = &l } };
	struct proc_result res[2];
	double t0 = mono_s();
	ck_assert_int_eq(proc_pipeline(st, 2, &o, res, err, sizeof err), SMELT_OK);
	ck_assert_str_eq(l.all.buf, "900000|");
	ck_assert_msg(written - t0 >= 0.9, "the writer did not wait for its reader (%.2f s): the pipe was grown", written - t0);
	strbuf_release(&l.all);
	no_zombies();
}
END_TEST

START_TEST(a_level_prefix_is_read_and_other_text_kept_whole)
{
	char path[64];
	snprintf(path, sizeof path, "/tmp/smelt-test-proc-log-%d", (int)getpid());
	ck_assert_int_eq(log_open_file(path), 0);
	char *a[] = { "sh", "-c", "echo 'tap: warning: careful' >&2; echo 'tap: counted 3 rows' >&2", NULL };
	struct proc_stage st[1] = { { .label = "tap", .argv = a } };
	struct proc_result res[1];
	ck_assert_int_eq(proc_pipeline(st, 1, NULL, res, err, sizeof err), SMELT_OK);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	char text[4096] = "";
	size_t n = fread(text, 1, sizeof text - 1, f);
	text[n] = 0;
	fclose(f);
	unlink(path);
	ck_assert_msg(strstr(text, "careful") && !strstr(text, "tap: warning: careful"), "%s", text);
	ck_assert_msg(strstr(text, "tap: counted 3 rows"), "the tool's own 'tap: ' was cut: %s", text);
}
END_TEST

START_TEST(env_and_cwd_are_the_childs)
{
	char *a[] = { "sh", "-c", "echo \"$FOO:$(pwd)\"", NULL };
	char *envp[] = { "FOO=bar", "PATH=/usr/bin:/bin", NULL };
	struct lines l = { STRBUF_INIT, 0 };
	struct proc_stage st[1] = { { .label = "a", .argv = a, .envp = envp, .cwd = "/tmp", .on_line = collect, .arg = &l } };
	struct proc_result res[1];
	ck_assert_int_eq(proc_pipeline(st, 1, NULL, res, err, sizeof err), SMELT_OK);
	ck_assert_str_eq(l.all.buf, "bar:/tmp|");
	strbuf_release(&l.all);
}
END_TEST


static int alive(long pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p && p[2] != 'Z' && p[2] != 'X';
}

static int wait_dead(long pid, int ms)
{
	for (int i = 0; i < ms / 10 && alive(pid); i++)
		usleep(10000);
	return !alive(pid);
}

static int first_number(void *arg, const char *line, size_t len, unsigned long lineno)
{
	(void)len;
	if (lineno == 1)
		*(long *)arg = strtol(line, NULL, 10);
	return 0;
}

START_TEST(signals_reach_the_whole_group)
{
	/* the stage starts a grandchild and waits: the timeout's signals must reach both */
	char *a[] = { "sh", "-c", "sleep 60 & echo $!; wait", NULL };
	long grandchild = 0;
	struct proc_stage st[1] = { { .label = "a", .argv = a, .on_line = first_number, .arg = &grandchild } };
	struct proc_result res[1];
	struct proc_opts o = { .timeout_s = 1 };
	ck_assert_int_eq(proc_pipeline(st, 1, &o, res, err, sizeof err), SMELT_ERR_INTERRUPTED);
	ck_assert_int_gt(grandchild, 0);
	ck_assert_msg(wait_dead(grandchild, 2000), "grandchild %ld outlived the timeout", grandchild);
	no_zombies();
}
END_TEST

START_TEST(interactive_stage_gets_its_own_group_and_signals)
{
	/* SMELT_SPAWN_INHERIT_STDIO too: a group of its own (not smelt's), signalled as a whole */
	/* a folder of its own: concurrent builds running this suite must not share the pid file */
	char dir[] = "/tmp/smelt-test-proc-gc-XXXXXX", pidfile[64];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(pidfile, sizeof pidfile, "%s/pid", dir);
	char *a[] = { "sh", "-c", "sleep 60 & echo $! > \"$0\"; wait", pidfile, NULL };
	struct proc_stage st[1] = { { .label = "a", .argv = a, .flags = SMELT_SPAWN_INHERIT_STDIO } };
	struct proc_result res[1];
	struct proc_opts o = { .timeout_s = 1 };
	ck_assert_int_eq(proc_pipeline(st, 1, &o, res, err, sizeof err), SMELT_ERR_INTERRUPTED);
	FILE *f = fopen(pidfile, "r");
	long gc = 0;
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%ld", &gc), 1);
	fclose(f);
	unlink(pidfile);
	rmdir(dir);
	ck_assert_msg(wait_dead(gc, 2000), "grandchild %ld outlived the timeout", gc);
	ck_assert(res[0].exit.signaled && res[0].exit.term_signal == SIGTERM);
	no_zombies();
}
END_TEST

START_TEST(sighup_stops_like_sigterm)
{
	char *a[] = { "sleep", "30", NULL };
	struct proc_stage st[1] = { { .label = "sleeper", .argv = a } };
	struct proc_result res[1];
	pid_t me = getpid(), killer = fork();
	if (killer == 0) {
		usleep(300000);
		kill(me, SIGHUP);
		_exit(0);
	}
	time_t t0 = time(NULL);
	ck_assert_int_eq(proc_pipeline(st, 1, NULL, res, err, sizeof err), SMELT_ERR_INTERRUPTED);
	ck_assert(time(NULL) - t0 < 5);
	ck_assert_msg(strstr(err, "terminated (SIGHUP)"), "got: %s", err);
	ck_assert_int_eq(proc_last_signal(), SIGHUP);
	ck_assert(res[0].exit.signaled && res[0].exit.term_signal == SIGTERM); /* forwarded as SIGTERM */
	waitpid(killer, NULL, 0);
	no_zombies();
}
END_TEST

START_TEST(held_signal_waits_for_the_next_pipeline_or_take)
{
	/* a SIGTERM between pipelines neither kills the process nor is lost */
	proc_signals_hold();
	raise(SIGTERM);
	ck_assert_int_eq(proc_signal_take(), SIGTERM);
	ck_assert_int_eq(proc_last_signal(), SIGTERM);
	ck_assert_int_eq(proc_signal_take(), 0); /* taken once */

	/* one pending when a pipeline starts stops it at once */
	char *a[] = { "sleep", "30", NULL };
	struct proc_stage st[1] = { { .label = "sleeper", .argv = a } };
	struct proc_result res[1];
	raise(SIGINT);
	time_t t0 = time(NULL);
	ck_assert_int_eq(proc_pipeline(st, 1, NULL, res, err, sizeof err), SMELT_ERR_INTERRUPTED);
	ck_assert(time(NULL) - t0 < 5);
	ck_assert_int_eq(proc_last_signal(), SIGINT);
	ck_assert_msg(strstr(err, "interrupted"), "got: %s", err);
	no_zombies();

	/* stages do not inherit the hold: a stage that signals itself dies of it at once */
	char *b[] = { "sh", "-c", "kill -TERM $$; sleep 10; exit 7", NULL };
	struct proc_stage st2[1] = { { .label = "self", .argv = b } };
	t0 = time(NULL);
	ck_assert_int_eq(proc_pipeline(st2, 1, NULL, res, err, sizeof err), SMELT_OK);
	ck_assert(time(NULL) - t0 < 5);
	ck_assert(res[0].exit.signaled && res[0].exit.term_signal == SIGTERM);

	/* the release takes what is still pending, then restores the mask: the process survives */
	raise(SIGHUP);
	proc_signals_release();
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	ck_assert(!sigismember(&now, SIGTERM) && !sigismember(&now, SIGINT) && !sigismember(&now, SIGHUP));
	no_zombies();
}
END_TEST

START_TEST(children_die_with_smelt)
{
	/* a helper process plays smelt: it runs a pipeline and is killed by SIGKILL mid-way */
	int fds[2];
	ck_assert_int_eq(pipe(fds), 0);
	pid_t helper = fork();
	if (helper == 0) {
		close(fds[0]);
		char fd[16];
		snprintf(fd, sizeof fd, "%d", fds[1]);
		char *a[] = { "sh", "-c", "echo $$ >&\"$0\"; exec sleep 60", fd, NULL };
		struct proc_stage st[1] = { { .label = "a", .argv = a } };
		struct proc_result res[1];
		proc_pipeline(st, 1, NULL, res, err, sizeof err);
		_exit(0);
	}
	close(fds[1]);
	char buf[32] = "";
	FILE *f = fdopen(fds[0], "r");
	ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
	fclose(f);
	long child = strtol(buf, NULL, 10);
	ck_assert(alive(child));
	kill(helper, SIGKILL);
	waitpid(helper, NULL, 0);
	ck_assert_msg(wait_dead(child, 2000), "the stage %ld outlived its smelt", child);
}
END_TEST

START_TEST(line_cap_stops_the_run)
{
	/* 5000 bytes without a newline, cap 1000: an error naming the stage, stages stopped */
	char *a[] = { "sh", "-c", "echo ok; head -c 5000 /dev/zero | tr '\\0' x; sleep 30", NULL };
	struct lines l = { STRBUF_INIT, 0 };
	struct proc_stage st[1] = { { .label = "target-x", .argv = a, .on_line = collect, .arg = &l } };
	struct proc_result res[1];
	struct proc_opts o = { .line_max = 1000 };
	time_t t0 = time(NULL);
	ck_assert_int_eq(proc_pipeline(st, 1, &o, res, err, sizeof err), SMELT_ERR);
	ck_assert(time(NULL) - t0 < 8);
	ck_assert_msg(strstr(err, "'target-x': output line length limit exceeded"), "got: %s", err);
	ck_assert_str_eq(l.all.buf, "ok|"); /* the line before it was delivered; the runaway one never is */
	strbuf_release(&l.all);
	no_zombies();
}
END_TEST

START_TEST(line_cap_applies_to_stderr)
{
	char *a[] = { "sh", "-c", "head -c 5000 /dev/zero | tr '\\0' x >&2; sleep 30", NULL };
	struct proc_stage st[1] = { { .label = "tap-x", .argv = a } };
	struct proc_result res[1];
	struct proc_opts o = { .line_max = 1000 };
	ck_assert_int_eq(proc_pipeline(st, 1, &o, res, err, sizeof err), SMELT_ERR);
	ck_assert_msg(strstr(err, "'tap-x': output line length limit exceeded") && strstr(err, "stderr"), "got: %s", err);
	no_zombies();
}
END_TEST

/* proc_owner_self() reads /proc once per process: a forked child gets its own pid and start, not the memo */
START_TEST(owner_self_is_read_again_in_a_forked_child)
{
	struct proc_owner me, again;
	ck_assert_int_eq(proc_owner_self(&me), SMELT_OK);
	ck_assert_int_eq(proc_owner_self(&again), SMELT_OK);
	ck_assert(!memcmp(&me, &again, sizeof me));
	int fds[2];
	ck_assert_int_eq(pipe(fds), 0);
	pid_t c = fork();
	if (c == 0) {
		struct proc_owner child;
		int ok = proc_owner_self(&child) == SMELT_OK && child.pid == (long)getpid() && child.pid != me.pid &&
		         proc_owner_check(&child) == PROC_ALIVE && !strcmp(child.host_key, me.host_key);
		_exit(write(fds[1], &ok, sizeof ok) == (ssize_t)sizeof ok ? 0 : 1);
	}
	close(fds[1]);
	int ok = 0;
	ck_assert_int_eq(read(fds[0], &ok, sizeof ok), (ssize_t)sizeof ok);
	close(fds[0]);
	waitpid(c, NULL, 0);
	ck_assert_msg(ok, "the child read the parent's identity, or its own was wrong");
	ck_assert_int_eq(proc_owner_check(&me), PROC_ALIVE);
}
END_TEST

START_TEST(owner_liveness)
{
	struct proc_owner me, o;
	ck_assert_int_eq(proc_owner_self(&me), SMELT_OK);
	ck_assert_int_eq(me.pid, (long)getpid());
	ck_assert_int_eq(proc_owner_check(&me), PROC_ALIVE);
	/* the same pid with another start time: a reused pid, so the owner is gone */
	o = me;
	o.start = me.start + 1;
	ck_assert_int_eq(proc_owner_check(&o), PROC_GONE);
	/* a child that exited and was reaped */
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	waitpid(c, NULL, 0);
	o = me;
	o.pid = c;
	ck_assert_int_eq(proc_owner_check(&o), PROC_GONE);
	/* a zombie is gone too */
	c = fork();
	if (c == 0)
		_exit(0);
	usleep(200000);
	o.pid = c;
	ck_assert_int_eq(proc_owner_check(&o), PROC_GONE);
	waitpid(c, NULL, 0);
	/* another host, or another boot: cannot tell */
	o = me;
	o.pid = 999999999;
	snprintf(o.host, sizeof o.host, "%s", strcmp(me.host, "elsewhere.invalid") ? "elsewhere.invalid" : "other.invalid");
	ck_assert_int_eq(proc_owner_check(&o), PROC_UNKNOWN);
	o = me;
	o.pid = 999999999;
	o.host_key[0] ^= 1;
	ck_assert_int_eq(proc_owner_check(&o), PROC_UNKNOWN);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proc");
	TCase *tc = tcase_create("pipeline");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pipeline_wires_stdout_to_stdin);
	tcase_add_test(tc, reports_exit_codes);
	tcase_add_test(tc, a_stage_writes_ahead_up_to_a_mebibyte);
	tcase_add_test(tc, pipes_stay_at_their_default_size_when_asked);
	tcase_add_test(tc, a_level_prefix_is_read_and_other_text_kept_whole);
	tcase_add_test(tc, missing_executable_is_an_error);
	tcase_add_test(tc, downstream_exit_stops_upstream);
	tcase_add_test(tc, timeout_interrupts);
	tcase_add_test(tc, callback_can_stop);
	tcase_add_test(tc, long_line_below_the_cap_passes);
	tcase_add_test(tc, env_and_cwd_are_the_childs);
	suite_add_tcase(s, tc);
	tc = tcase_create("signals");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, signals_reach_the_whole_group);
	tcase_add_test(tc, interactive_stage_gets_its_own_group_and_signals);
	tcase_add_test(tc, sighup_stops_like_sigterm);
	tcase_add_test(tc, held_signal_waits_for_the_next_pipeline_or_take);
	tcase_add_test(tc, children_die_with_smelt);
	suite_add_tcase(s, tc);
	tc = tcase_create("line cap");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, crlf_lines_split_across_reads_end_with_nul);
	tcase_add_test(tc, line_cap_stops_the_run);
	tcase_add_test(tc, line_cap_applies_to_stderr);
	suite_add_tcase(s, tc);
	tc = tcase_create("owner");
	tcase_add_test(tc, owner_liveness);
	tcase_add_test(tc, owner_self_is_read_again_in_a_forked_child);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
