/* static - the web UI's files; see static.h. */
#include "serve/static.h"

#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include "serve/mhd_lazy.h"
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATIC_FILE_MAX (4u << 20) /* a UI file above 4 MiB is not ours: refused */

/* The page loads only its own files and talks only to this server (no inline script or style). */
static const char csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                          "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".json", "application/json" },
};

static int name_ok(const char *s)
{
	if (!*s || *s == '.')
		return 0;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') && *s != '.' &&
		    *s != '_' && *s != '-')
			return 0;
	return 1;
}

int static_wants(const char *method, const char *url, char *name, size_t len)
{
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return 0;
	if (url[0] != '/' || !strncmp(url, "/api/", 5) || !strcmp(url, "/api") || !strcmp(url, "/health"))
		return 0;
	const char *file = url[1] ? url + 1 : "index.html";
	name[0] = 0;
	if (name_ok(file) && strlen(file) < len)
		memcpy(name, file, strlen(file) + 1);
	return 1;
}

static const char *type_of(const char *name)
{
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return NULL;
}

struct reply static_serve(const char *data_dir, const char *name)
{
	const char *type = name && *name ? type_of(name) : NULL;
	if (!type || !data_dir)
		return reply_error(404, "no such page");
	char *dir = path_join(data_dir, "ui");
	char *path = path_join(dir, name);
	free(dir);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(path);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > (off_t)STATIC_FILE_MAX) {
		if (fd >= 0)
			close(fd);
		return reply_error(404, "no such page");
	}
	/* the response reads the file itself and closes fd when it is destroyed */
	struct MHD_Response *resp = MHD_create_response_from_fd((size_t)st.st_size, fd);
	if (!resp) {
		close(fd);
		return reply_error(500, "out of memory");
	}
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Content-Security-Policy", csp);
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	return (struct reply){ 200, resp };
}
