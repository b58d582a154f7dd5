/*
 * target-jsonl: a native Singer target writing each stream's records as
 * JSON Lines files (see README.md).
 *
 *   target-jsonl --config CONFIG [--input FILE]
 *   target-jsonl --about [--format=json]     target-jsonl --version
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "about.h"
#include "args.h"
#include "buf.h"
#include "log.h"
#include "fsutil.h"
#include "json.h"
#include "singer_reader.h"

#define TGT_NAME "target-jsonl"
#define TGT_VERSION "0.1.0"

struct jl_file {
	char *path;              /* file path */
	FILE *f;                 /* open in append mode */
	unsigned long written;   /* records written */
	struct jl_file *next;    /* list link */
};



/* mkdir -p */
static void make_dirs(const char *path)
{
	char failed[4096];
	if (conn_mkdirs(path, failed, sizeof failed) < 0)
		conn_die("cannot create directory '%s': %s", failed, strerror(errno));
}

static struct jl_file *open_file(struct jl_file **files, const char *path)
{
	struct jl_file *f;

	for (f = *files; f; f = f->next)
		if (!strcmp(f->path, path))
			return f;
	f = calloc(1, sizeof(*f));
	if (!f || !(f->path = strdup(path)))
		conn_die("out of memory");
	f->f = fopen(path, "ab");
	if (!f->f)
		conn_die("cannot open '%s': %s", path, strerror(errno));
	f->next = *files;
	*files = f;
	return f;
}

static void flush_files(struct jl_file *files)
{
	for (; files; files = files->next)
		if (fflush(files->f))
			conn_die("cannot write '%s': %s", files->path, strerror(errno));
}

static void about(int as_json)
{
	static const char *settings =
		"{\"type\":\"object\",\"properties\":{"
		"\"destination_path\":{\"type\":\"string\",\"default\":\"output\",\"description\":\"folder of the files, created when missing\"},"
		"\"do_timestamp_file\":{\"type\":\"boolean\",\"default\":false,\"description\":\"name files <stream>-<YYYYMMDDTHHMMSS>.jsonl (UTC)\"},"
		"\"custom_name\":{\"type\":\"string\",\"description\":\"one file <custom_name>.jsonl for every stream\"}},"
		"\"required\":[]}";
	static const char *const caps[] = {"about"};
	const struct conn_about a = { TGT_NAME, TGT_VERSION, "native Singer target writing JSON Lines files (Smelt)", caps, sizeof caps / sizeof caps[0] };
	if (conn_about_print(&a, cJSON_Parse(settings), as_json) < 0)
		conn_die("out of memory");
}


int main(int argc, char **argv)
{
	const char *config = NULL, *input = NULL, *dest = "output", *custom = NULL;
	int stamp = 0;
	struct conn_reader r;
	struct conn_msg m;
	struct conn_buf rec = CONN_BUF_INIT, state = CONN_BUF_INIT, emitted = CONN_BUF_INIT;
	struct conn_buf path = CONN_BUF_INIT;
	struct jl_file *files = NULL;
	char stamp_txt[32] = "", *line = NULL, err[512];
	size_t cap = 0;
	ssize_t n;
	cJSON *cfg;
	const cJSON *v;

	struct conn_args args;
	conn_log_name(TGT_NAME);
	switch (conn_args_parse(argc, argv, CONN_ARGS_INPUT, TGT_NAME, TGT_VERSION, &args, err, sizeof err)) {
	case 1:
		return 0;
	case -1:
		conn_die("%s", err);
	}
	config = args.config;
	input = args.input;
	if (args.about) {
		about(!strcmp(args.format, "json"));
		return 0;
	}
	if (!config)
		conn_die("--config is required");
	cfg = conn_load_json_object(config, "config");
	v = cJSON_GetObjectItemCaseSensitive(cfg, "destination_path");
	if (v && !cJSON_IsNull(v)) {
		if (!cJSON_IsString(v) || !*v->valuestring)
			conn_die("config: 'destination_path' must be a non-empty string");
		dest = v->valuestring;
	}
	v = cJSON_GetObjectItemCaseSensitive(cfg, "do_timestamp_file");
	if (v && !cJSON_IsNull(v) && !cJSON_IsBool(v))
		conn_die("config: 'do_timestamp_file' must be true or false");
	stamp = cJSON_IsTrue(v);
	v = cJSON_GetObjectItemCaseSensitive(cfg, "custom_name");
	if (v && !cJSON_IsNull(v)) {
		if (!cJSON_IsString(v))
			conn_die("config: 'custom_name' must be a string");
		if (*v->valuestring)
			custom = v->valuestring;
	}
	if (stamp) {
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(stamp_txt, sizeof(stamp_txt), "-%Y%m%dT%H%M%S", &tm);
	}
	if (input && !freopen(input, "rb", stdin))
		conn_die("cannot open input '%s': %s", input, strerror(errno));
	make_dirs(dest);
	setvbuf(stdin, NULL, _IOFBF, 1 << 20);

	conn_reader_init(&r);
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		struct jl_file *f;
		const struct conn_jtok *k;

		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		if (conn_reader_feed(&r, line, (size_t)n, &m, err, sizeof(err)) < 0)
			conn_die("%s", err);
		switch (m.type) {
		case CONN_MSG_RECORD:
			f = m.stream->user;
			if (!f) {
				const char *base = custom ? custom : m.stream->name;

				conn_buf_reset(&path);
				conn_buf_adds(&path, dest);
				conn_buf_addc(&path, '/');
				/* one file name inside dest: no '/', '\\' or control byte; '.' and '..' get a '_' */
				for (const char *p = base; *p; p++)
					conn_buf_addc(&path, *p == '/' || *p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f
					                     ? '_' : *p);
				if (!strcmp(base, ".") || !strcmp(base, ".."))
					conn_buf_addc(&path, '_');
				conn_buf_adds(&path, stamp_txt);
				conn_buf_adds(&path, ".jsonl");
				if (path.oom)
					conn_die("out of memory");
				f = open_file(&files, path.data);
				m.stream->user = f;
			}
			k = &r.json.tok[m.record];
			conn_buf_reset(&rec);
			if (conn_buf_grow(&rec, k->end - k->start + 1) < 0)
				conn_die("out of memory");
			rec.len = conn_json_compact(&r.json, m.record, rec.data);
			rec.data[rec.len++] = '\n';
			if (fwrite(rec.data, 1, rec.len, f->f) != rec.len)
				conn_die("cannot write '%s': %s", f->path, strerror(errno));
			f->written++;
			break;
		case CONN_MSG_STATE:
			k = &r.json.tok[m.value];
			conn_buf_reset(&state);
			if (conn_buf_grow(&state, k->end - k->start) < 0)
				conn_die("out of memory");
			state.len = conn_json_compact(&r.json, m.value, state.data);
			state.data[state.len] = '\0';
			flush_files(files);
			if (state.len != emitted.len || memcmp(state.data, emitted.data, state.len)) {
				fwrite(state.data, 1, state.len, stdout);
				fputc('\n', stdout);
				if (fflush(stdout))
					conn_die("cannot write state to stdout: %s", strerror(errno));
				conn_buf_reset(&emitted);
				conn_buf_add(&emitted, state.data, state.len);
			}
			break;
		default:
			break;
		}
	}
	if (ferror(stdin))
		conn_die("cannot read stdin: %s", strerror(errno));
	flush_files(files);
	for (size_t i = 0; i < r.nstreams; i++) {
		struct jl_file *f = r.streams[i]->user;

		if (f)
			conn_info("%s: %lu records written to '%s'", r.streams[i]->name, r.streams[i]->records,
			     f->path);
		if (r.streams[i]->unknown)
			conn_info("%s: %lu record fields were not in the schema", r.streams[i]->name,
			     r.streams[i]->unknown);
	}
	while (files) {
		struct jl_file *next = files->next;

		if (fclose(files->f))
			conn_die("cannot write '%s': %s", files->path, strerror(errno));
		free(files->path);
		free(files);
		files = next;
	}
	conn_reader_release(&r);
	conn_buf_release(&rec);
	conn_buf_release(&state);
	conn_buf_release(&emitted);
	conn_buf_release(&path);
	free(line);
	cJSON_Delete(cfg);
	return 0;
}
