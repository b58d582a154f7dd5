/* logstream: a run's log as Server-Sent Events; see logstream.h. */
#include "serve/logstream.h"
#include "serve/children.h"
#include "serve/ctx.h"
#include "serve/dbpool.h"
#include "store/runs.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/proc_owner.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "serve/mhd_lazy.h"
#include "util/clock.h"

#define KEEPALIVE_MS 10000   /* a comment line this often (and the run's status looked at) */
#define UNARMED_MS 500       /* the wait while no folder of the log can be watched yet */

struct stream {
	struct serve_ctx *sv;  /* borrowed (outlives every connection) */
	char *run_id;
	char *rel;             /* logs/<id>/run.log beneath sys_dir */
	int fd;                /* -1 until the log exists */
	ino_t ino;
	off_t pos;
	struct strbuf line;    /* a line read in part */
	struct strbuf out;     /* events not sent yet */
	size_t out_pos;
	int ended;             /* `event: end` queued */
	struct store *st;      /* opened on first use, closed with the stream */
	char status[32];
	long long last_ms;     /* when bytes were last handed to the server */
	/* what wakes the reader: no interval */
	int notify;            /* inotify: the log's folder (writes, rotation), or logs/ until it exists */
	int wd_dir, wd_logs;   /* their watches, -1: none */
	int pidfd;             /* the run's process (exits when the run is over), -1: none */
	long pid;              /* whose pidfd it is */
	int sub;               /* children_subscribe(): the server finished a run, or stops */
	int check;             /* look at the run's status before sleeping again */
};

static void add_event(struct stream *s, const char *line, size_t len)
{
	if (len && line[len - 1] == '\r')
		len--;
	strbuf_addstr(&s->out, "data: ");
	for (size_t i = 0; i < len; i++) /* no CR in an SSE data line */
		strbuf_addch(&s->out, line[i] == '\r' ? ' ' : line[i]);
	strbuf_addstr(&s->out, "\n\n");
}

/* Read what the log gained; events for each whole line.  Returns bytes read. */
static size_t pump(struct stream *s)
{
	if (s->fd < 0) {
		s->fd = fs_open_under(s->sv->o->sys_dir, s->rel, O_RDONLY | O_CLOEXEC, 0);
		if (s->fd < 0)
			return 0;
		struct stat sb;
		fstat(s->fd, &sb);
		s->ino = sb.st_ino;
		s->pos = 0;
	} else {
		/* the log is capped and rotated (run.log -> run.log.1): follow the new file */
		struct stat now, cur;
		int fd = fs_open_under(s->sv->o->sys_dir, s->rel, O_RDONLY | O_CLOEXEC, 0);
		if (fd >= 0 && fstat(fd, &now) == 0 && now.st_ino != s->ino && fstat(s->fd, &cur) == 0 &&
		    s->pos >= cur.st_size) {
			close(s->fd);
			s->fd = fd;
			s->ino = now.st_ino;
			s->pos = 0;
		} else if (fd >= 0) {
			close(fd);
		}
	}
	size_t total = 0;
	char buf[16384];
	ssize_t n;
	while (total < (1u << 20) && (n = pread(s->fd, buf, sizeof buf, s->pos)) > 0) {
		s->pos += n;
		total += (size_t)n;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				add_event(s, s->line.buf, s->line.len);
				strbuf_reset(&s->line);
			} else if (s->line.len < 65536) {
				strbuf_addch(&s->line, buf[i]);
			}
		}
	}
	return total;
}

/* Watch the run's process: its pidfd, when it is provably the recorded one. */
static void watch_process(struct stream *s, const struct proc_owner *owner)
{
	if (owner->pid == s->pid)
		return;
	if (s->pidfd >= 0)
		close(s->pidfd);
	s->pidfd = -1;
	s->pid = owner->pid;
	if (owner->pid <= 0)
		return;
	s->pidfd = pidfd_open((pid_t)owner->pid, 0);
	if (s->pidfd >= 0)
		fcntl(s->pidfd, F_SETFD, FD_CLOEXEC);
	/* opened after the check: a reused pid cannot pass for it */
	if (s->pidfd >= 0 && proc_owner_check(owner) != PROC_ALIVE) {
		close(s->pidfd);
		s->pidfd = -1;
		s->check = 1;
	}
}

static int run_over(struct stream *s)
{
	char err[SMELT_ERRBUF_SIZE];
	if (!s->st && !(s->st = dbpool_get(s->sv->db, err, sizeof err)))
		return 0; /* try again at the next look */
	runs_reap_dead(s->st, children_supervised, s->sv->kids);
	struct proc_owner owner;
	if (runs_status(s->st, s->run_id, s->status, sizeof s->status, &owner, err, sizeof err) != 0)
		return 1; /* pruned meanwhile */
	if (strcmp(s->status, "running") && strcmp(s->status, "queued"))
		return 1;
	watch_process(s, &owner);
	return 0;
}

/* Watch the log's folder, or logs/ until the run makes it; 1 when something is watched. */
static int arm(struct stream *s)
{
	if (s->notify < 0)
		return 0;
	if (s->wd_dir < 0) {
		char *dir = xasprintf("%s/logs/%s", s->sv->o->sys_dir, s->run_id);
		s->wd_dir = inotify_add_watch(s->notify, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE |
		                                               IN_ONLYDIR | IN_DONT_FOLLOW);
		free(dir);
		if (s->wd_dir >= 0 && s->wd_logs >= 0) {
			inotify_rm_watch(s->notify, s->wd_logs);
			s->wd_logs = -1;
		}
	}
	if (s->wd_dir < 0 && s->wd_logs < 0) {
		char *dir = path_join(s->sv->o->sys_dir, "logs");
		s->wd_logs = inotify_add_watch(s->notify, dir, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW);
		free(dir);
	}
	return s->wd_dir >= 0 || s->wd_logs >= 0;
}

static void drain(int fd)
{
	char buf[4096];
	while (read(fd, buf, sizeof buf) > 0)
		;
}

/* Sleep until the log grows, the run's process exits, the server finished a run or stops, or timeout. */
static void wait_for_news(struct stream *s, int timeout_ms)
{
	struct pollfd fds[3];
	nfds_t n = 0;
	int i_ino = -1, i_pid = -1, i_sub = -1;
	if (s->notify >= 0) {
		i_ino = (int)n;
		fds[n++] = (struct pollfd){ .fd = s->notify, .events = POLLIN };
	}
	if (s->pidfd >= 0) {
		i_pid = (int)n;
		fds[n++] = (struct pollfd){ .fd = s->pidfd, .events = POLLIN };
	}
	if (s->sub >= 0) {
		i_sub = (int)n;
		fds[n++] = (struct pollfd){ .fd = s->sub, .events = POLLIN };
	}
	int got = poll(fds, n, timeout_ms);
	if (got <= 0) {
		s->check = 1; /* a timeout (or EINTR): look anyway */
		return;
	}
	if (i_ino >= 0 && fds[i_ino].revents)
		drain(s->notify);
	if (i_pid >= 0 && fds[i_pid].revents) { /* the run's process is gone: its end is recorded, or is being */
		close(s->pidfd);
		s->pidfd = -1;
		s->check = 1;
	}
	if (i_sub >= 0 && fds[i_sub].revents) {
		drain(s->sub);
		s->check = 1;
	}
}
static void add_end(struct stream *s)
{
	if (s->line.len) {
		add_event(s, s->line.buf, s->line.len);
		strbuf_reset(&s->line);
	}
	strbuf_addstr(&s->out, "event: end\ndata: {\"status\":");
	json_quote(&s->out, s->status[0] ? s->status : "unknown");
	strbuf_addstr(&s->out, "}\n\n");
	s->ended = 1;
}

static ssize_t reader(void *cls, uint64_t offset, char *buf, size_t max)
{
	struct stream *s = cls;
	for (;;) {
		if (s->out_pos < s->out.len) {
			size_t n = s->out.len - s->out_pos;
			if (n > max)
				n = max;
			memcpy(buf, s->out.buf + s->out_pos, n);
			s->out_pos += n;
			if (s->out_pos == s->out.len) {
				strbuf_reset(&s->out);
				s->out_pos = 0;
			}
			s->last_ms = mono_ms();
			return (ssize_t)n;
		}
		if (s->ended || atomic_load(&s->sv->stopping))
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (pump(s))
			continue;
		/* nothing new: is the run over?  (read the log once more after: its last lines) */
		if (s->check) {
			s->check = 0;
			if (run_over(s)) {
				pump(s);
				add_end(s);
				continue;
			}
		}
		long long idle = mono_ms() - s->last_ms;
		if (idle >= KEEPALIVE_MS) {
			strbuf_addstr(&s->out, ": keepalive\n\n");
			s->check = 1;
			continue;
		}
		int armed = arm(s);
		if (pump(s)) /* written between the read above and the watch */
			continue;
		int timeout = (int)(KEEPALIVE_MS - idle);
		wait_for_news(s, armed || timeout < UNARMED_MS ? timeout : UNARMED_MS);
	}
}

static void stream_free(void *cls)
{
	struct stream *s = cls;
	if (s->fd >= 0)
		close(s->fd);
	if (s->notify >= 0)
		close(s->notify);
	if (s->pidfd >= 0)
		close(s->pidfd);
	children_unsubscribe(s->sv->kids, s->sub);
	dbpool_put(s->sv->db, s->st);
	strbuf_release(&s->line);
	strbuf_release(&s->out);
	free(s->rel);
	free(s->run_id);
	free(s);
}

struct reply logstream_reply(struct req *r, const char *run_id)
{
	struct stream *s = xcalloc(1, sizeof *s);
	s->sv = r->sv;
	s->run_id = xstrdup(run_id);
	s->rel = xasprintf("logs/%s/run.log", run_id);
	s->fd = -1;
	s->notify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	s->wd_dir = s->wd_logs = -1;
	s->pidfd = -1;
	s->sub = children_subscribe(r->sv->kids);
	s->check = 1;
	s->last_ms = mono_ms();
	strbuf_init(&s->line, 0);
	strbuf_init(&s->out, 0);
	strbuf_addstr(&s->out, "retry: 2000\n\n");
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, reader, s, stream_free);
	MHD_add_response_header(resp, "Content-Type", "text/event-stream");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	/* the end event is the end: the connection closes, so a client reading to EOF is done too */
	MHD_add_response_header(resp, "Connection", "close");
	return (struct reply){ 200, resp };
}
