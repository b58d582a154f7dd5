/*
 * faultinject - an LD_PRELOAD library that makes the Nth call of a family
 * of system functions fail, the way SQLite's and curl's test builds do,
 * without changing the program under test.  tests/e2e/test_fault_injection.py
 * walks N upward and checks what the program left behind.
 *
 * Environment (read once, when the library is loaded):
 *
 *	SMELT_FAULT=<kind>:<N>[+][:<errno>]
 *		kind   write   write, pwrite, pwrite64, writev     (default errno ENOSPC)
 *		       fsync   fsync, fdatasync                    (EIO)
 *		       rename  rename, renameat, renameat2         (ENOSPC)
 *		       malloc  malloc, calloc, realloc             (ENOMEM)
 *		N      1-based number of the call of that kind to fail; 0 fails
 *		       nothing (count only)
 *		+      fail call N and every later one (a disk that stays full)
 *		errno  ENOSPC, EIO, ENOMEM, EDQUOT, EROFS or a number
 *	SMELT_FAULT_PROCESS=<name>
 *		only the process whose program is <name> (the basename of its
 *		executable; default "smelt") counts and fails; its children
 *		(taps, targets, tools: other programs, or forks before exec) do
 *		not.
 *	SMELT_FAULT_LOG=<path>
 *		appended to, one line per injected fault ("fault write 3 pid 123")
 *		and one at exit with the calls counted ("calls write 12 pid 123"),
 *		so a test knows whether the fault was reached.
 *	SMELT_FAULT_BACKTRACE=1
 *		also append the call stack of the failed call to the log (for
 *		finding which call it was; addresses, symbols where exported).
 *
 * The library must come first in LD_PRELOAD and cannot be combined with
 * AddressSanitizer (which wants that place and owns malloc), so CMake
 * builds it in the plain build only.
 *
 * Calls made inside the C library (stdio's buffered writes, for example)
 * do not go through the dynamic symbol table and are not seen: only the
 * program's own calls and those of other shared libraries (SQLite's VFS,
 * libyaml, cJSON's allocations) are.
 *
 * Threading: the counters are atomic, so every thread's calls count.
 */
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum fault_kind { FAULT_WRITE, FAULT_FSYNC, FAULT_RENAME, FAULT_MALLOC, FAULT_NKINDS };

static const char *const kind_names[FAULT_NKINDS] = { "write", "fsync", "rename", "malloc" };
static const int default_errno[FAULT_NKINDS] = { ENOSPC, EIO, ENOSPC, ENOMEM };

static struct {
	int active;            /* 1 in the process under test, after the constructor ran */
	pid_t pid;             /* that process: forked children stop counting */
	int kind;              /* enum fault_kind to fail, -1: none */
	unsigned long nth;     /* the call to fail (1-based), 0: none */
	int sticky;            /* 1: every call from nth on fails */
	int err;               /* errno to fail with */
	unsigned long calls[FAULT_NKINDS]; /* calls counted so far, per kind */
	char log[PATH_MAX];    /* SMELT_FAULT_LOG, "" when unset */
	int backtrace;         /* SMELT_FAULT_BACKTRACE: log the failed call's stack */
} fi = { .kind = -1 };

/* glibc's own allocator, so malloc here never recurses through dlsym. */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);

/* Append one line to the log with raw system calls (nothing here is interposed). */
static void log_line(const char *what, int kind, unsigned long n)
{
	char line[128];
	int len, fd;

	if (!fi.log[0])
		return;
	len = snprintf(line, sizeof line, "%s %s %lu pid %ld\n", what, kind_names[kind], n, (long)getpid());
	fd = (int)syscall(SYS_openat, AT_FDCWD, fi.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	(void)syscall(SYS_write, fd, line, (size_t)len);
	(void)syscall(SYS_close, fd);
}

/* The calling stack, appended to the log (backtrace() was called once at load: it allocates nothing now). */
static void log_backtrace(void)
{
	void *frames[64];
	int n = backtrace(frames, 64);
	int fd = (int)syscall(SYS_openat, AT_FDCWD, fi.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	backtrace_symbols_fd(frames, n, fd);
	(void)syscall(SYS_close, fd);
}

/* 1 when this call of kind must fail (errno is then set). */
static int fail_now(int kind)
{
	unsigned long n;

	if (!fi.active || getpid() != fi.pid)
		return 0;
	n = __atomic_add_fetch(&fi.calls[kind], 1, __ATOMIC_RELAXED);
	if (kind != fi.kind || !fi.nth || n < fi.nth || (n > fi.nth && !fi.sticky))
		return 0;
	if (n == fi.nth) {
		log_line("fault", kind, n);
		if (fi.backtrace && fi.log[0])
			log_backtrace();
	}
	errno = fi.err;
	return 1;
}

static int parse_errno(const char *s, int fallback)
{
	static const struct { const char *name; int value; } names[] = {
		{ "ENOSPC", ENOSPC }, { "EIO", EIO }, { "ENOMEM", ENOMEM }, { "EDQUOT", EDQUOT }, { "EROFS", EROFS },
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(s, names[i].name))
			return names[i].value;
	return atoi(s) > 0 ? atoi(s) : fallback;
}

/* The basename of this process's executable, in buf. */
static const char *program_name(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	char *slash;

	if (n < 0)
		return "";
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	return slash ? slash + 1 : buf;
}

__attribute__((constructor)) static void faultinject_init(void)
{
	const char *spec = getenv("SMELT_FAULT"), *want = getenv("SMELT_FAULT_PROCESS"), *log = getenv("SMELT_FAULT_LOG");
	char exe[PATH_MAX], kind[16] = "";
	char *rest;

	if (!spec)
		return;
	if (strcmp(program_name(exe, sizeof exe), want && *want ? want : "smelt"))
		return;
	if (log)
		snprintf(fi.log, sizeof fi.log, "%s", log);
	rest = strchr(spec, ':');
	if (!rest || (size_t)(rest - spec) >= sizeof kind)
		return;
	memcpy(kind, spec, (size_t)(rest - spec));
	for (int k = 0; k < FAULT_NKINDS; k++)
		if (!strcmp(kind, kind_names[k]))
			fi.kind = k;
	if (fi.kind < 0)
		return;
	fi.nth = strtoul(rest + 1, &rest, 10);
	if (*rest == '+') {
		fi.sticky = 1;
		rest++;
	}
	fi.err = *rest == ':' ? parse_errno(rest + 1, default_errno[fi.kind]) : default_errno[fi.kind];
	if (getenv("SMELT_FAULT_BACKTRACE")) {
		void *warm[1];
		backtrace(warm, 1); /* loads the unwinder now, not inside a failing malloc */
		fi.backtrace = 1;
	}
	fi.pid = getpid();
	fi.active = 1;
}

__attribute__((destructor)) static void faultinject_fini(void)
{
	if (fi.active && getpid() == fi.pid && fi.kind >= 0)
		log_line("calls", fi.kind, fi.calls[fi.kind]);
}

/* next_<name>: the next definition of name (the C library's), looked up once. */
#define NEXT(name)                                                             \
	static __typeof__(&name) next_##name;                                  \
	if (!next_##name)                                                      \
		next_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *buf, size_t count)
{
	NEXT(write);
	/* stdout and stderr are messages, not data: failing them tells nothing */
	if (fd > 2 && fail_now(FAULT_WRITE))
		return -1;
	return next_write(fd, buf, count);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t off)
{
	NEXT(pwrite);
	if (fail_now(FAULT_WRITE))
		return -1;
	return next_pwrite(fd, buf, count, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t off)
{
	NEXT(pwrite64);
	if (fail_now(FAULT_WRITE))
		return -1;
	return next_pwrite64(fd, buf, count, off);
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
	NEXT(writev);
	if (fd > 2 && fail_now(FAULT_WRITE))
		return -1;
	return next_writev(fd, iov, n);
}

int fsync(int fd)
{
	NEXT(fsync);
	if (fail_now(FAULT_FSYNC))
		return -1;
	return next_fsync(fd);
}

int fdatasync(int fd)
{
	NEXT(fdatasync);
	if (fail_now(FAULT_FSYNC))
		return -1;
	return next_fdatasync(fd);
}

int rename(const char *from, const char *to)
{
	NEXT(rename);
	if (fail_now(FAULT_RENAME))
		return -1;
	return next_rename(from, to);
}

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
	NEXT(renameat);
	if (fail_now(FAULT_RENAME))
		return -1;
	return next_renameat(fromfd, from, tofd, to);
}

int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned flags)
{
	NEXT(renameat2);
	if (fail_now(FAULT_RENAME))
		return -1;
	return next_renameat2(fromfd, from, tofd, to, flags);
}

void *malloc(size_t size)
{
	if (fail_now(FAULT_MALLOC))
		return NULL;
	return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	if (fail_now(FAULT_MALLOC))
		return NULL;
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	if (size && fail_now(FAULT_MALLOC))
		return NULL;
	return __libc_realloc(p, size);
}
