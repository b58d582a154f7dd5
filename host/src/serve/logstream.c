/* logstream: a run's log as Server-Sent Events; see logstream.h. */
#include "serve/logstream.h"
#include "serve/children.h"
#include "serve/ctx.h"
#include "store/runs.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "serve/mhd_lazy.h"

#define POLL_MS 100          /* how often the log and the run's status are looked at */
#define KEEPALIVE_MS 10000   /* a comment line this often */
#define STATUS_EVERY 5       /* status read every STATUS_EVERY polls */

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
};

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

static int run_over(struct stream *s)
{
	char err[SMELT_ERRBUF_SIZE];
	if (!s->st) {
		char *db = path_join(s->sv->o->sys_dir, "smelt.db");
		int rc = store_open(db, &s->st, err, sizeof err);
		free(db);
		if (rc)
			return 0; /* try again at the next look */
	}
	runs_reap_dead(s->st, children_supervised, s->sv->kids);
	if (runs_status(s->st, s->run_id, s->status, sizeof s->status, NULL, err, sizeof err) != 0)
		return 1; /* pruned meanwhile */
	return strcmp(s->status, "running") && strcmp(s->status, "queued");
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
	long long last = mono_ms();
	for (int polls = 0;; polls++) {
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
			return (ssize_t)n;
		}
		if (s->ended || atomic_load(&s->sv->stopping))
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (pump(s))
			continue;
		/* nothing new: is the run over?  (read the log once more after: its last lines) */
		if (polls % STATUS_EVERY == 0 && run_over(s)) {
			pump(s);
			add_end(s);
			continue;
		}
		if (mono_ms() - last >= KEEPALIVE_MS) {
			strbuf_addstr(&s->out, ": keepalive\n\n");
			continue;
		}
		struct timespec ts = { 0, POLL_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
}

static void stream_free(void *cls)
{
	struct stream *s = cls;
	if (s->fd >= 0)
		close(s->fd);
	store_close(s->st);
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
	strbuf_init(&s->line, 0);
	strbuf_init(&s->out, 0);
	strbuf_addstr(&s->out, "retry: 2000\n\n");
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, reader, s, stream_free);
	MHD_add_response_header(resp, "Content-Type", "text/event-stream");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	return (struct reply){ 200, resp };
}
