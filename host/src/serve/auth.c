/* auth: the bearer token of smelt serve; see auth.h. */
#include "serve/auth.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static int token_ok(const char *t, size_t n)
{
	if (n < 16 || n > AUTH_TOKEN_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)t[i]))
			return 0;
	return 1;
}

int auth_load_token(const char *sys_dir, char *token, char **path_out, char *err, size_t errlen)
{
	const char *env = getenv("SMELT_SERVE_TOKEN");
	*path_out = NULL;
	if (env && *env) {
		if (!token_ok(env, strlen(env)))
			return fail(err, errlen, SMELT_ERR_CONFIG,
			            "SMELT_SERVE_TOKEN must be 16 to %d printable characters without spaces", AUTH_TOKEN_MAX);
		snprintf(token, AUTH_TOKEN_MAX + 1, "%s", env);
		*path_out = xstrdup("$SMELT_SERVE_TOKEN");
		return SMELT_OK;
	}
	char *path = path_join(sys_dir, "serve.token");
	struct strbuf sb = STRBUF_INIT;
	char rerr[SMELT_ERRBUF_SIZE];
	if (read_regular_file(path, 4096, &sb, rerr, sizeof rerr) == 0) {
		strbuf_trim(&sb);
		if (!token_ok(sb.buf, sb.len)) {
			strbuf_release(&sb);
			int rc = fail(err, errlen, SMELT_ERR_CONFIG,
			              "'%s' does not hold a token (16 to %d printable characters); remove it to get a new one",
			              path, AUTH_TOKEN_MAX);
			free(path);
			return rc;
		}
		fs_tighten(path, 0600);
		snprintf(token, AUTH_TOKEN_MAX + 1, "%s", sb.buf);
		strbuf_release(&sb);
		*path_out = path;
		return SMELT_OK;
	}
	strbuf_release(&sb);
	unsigned char raw[32];
	size_t got = 0;
	while (got < sizeof raw) {
		ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(path);
			return fail(err, errlen, SMELT_ERR, "cannot make a token: getrandom: %s", strerror(errno));
		}
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(token + 2 * i, 3, "%02x", raw[i]);
	char *text = xasprintf("%s\n", token);
	if (mkdir_private(sys_dir) != 0 ||
	    fs_write_under(sys_dir, "serve.token", text, strlen(text), 0600, 0700) != 0) {
		int e = errno;
		free(text);
		int rc = fail(err, errlen, SMELT_ERR, "cannot write '%s': %s", path, fs_beneath_strerror(e));
		free(path);
		return rc;
	}
	free(text);
	*path_out = path;
	return SMELT_OK;
}

int auth_check(const char *token, const char *header)
{
	static const char prefix[] = "Bearer ";
	size_t tl = strlen(token);
	if (!header || strncasecmp(header, prefix, sizeof prefix - 1))
		return 0;
	const char *given = header + sizeof prefix - 1;
	size_t gl = strlen(given);
	/* every byte of the given value is looked at, whatever the lengths */
	unsigned char diff = (unsigned char)(gl != tl);
	for (size_t i = 0; i < gl; i++)
		diff |= (unsigned char)(given[i] ^ token[i < tl ? i : 0]);
	return diff == 0;
}
