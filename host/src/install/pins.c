/* pins: see pins.h. */
#include "install/pins.h"

#include <string.h>

/* Options of pip install / uv pip install that take the next word as their value. */
static const char *const value_options[] = {
	"-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--index",
	"--default-index", "--index-strategy", "--platform", "--python-version", "--implementation", "--abi",
	"--target", "--prefix", "--root", "--src", "--progress-bar", "--trusted-host", "--cert", "--client-cert",
	"--timeout", "--retries", "--proxy", "--keyring-provider", "--only-binary", "--no-binary", "--config-settings",
	"-C", "--global-option", "--upgrade-strategy", "--exclude-newer", "--resolution", "--prerelease",
	"--link-mode", "--build-constraint", "--override", NULL
};

static int takes_value(const char *opt)
{
	for (const char *const *o = value_options; *o; o++)
		if (!strcmp(opt, *o))
			return 1;
	return 0;
}

/* -r FILE, -rFILE, --requirement[=FILE], -e, --editable[=X], --no-deps: not a list of pins */
static int disqualifies(const char *opt)
{
	static const char *const longs[] = { "--requirement", "--editable", "--no-deps", "--no-dependencies", NULL };
	if (!strncmp(opt, "-r", 2) || !strncmp(opt, "-e", 2))
		return 1;
	for (const char *const *o = longs; *o; o++) {
		size_t len = strlen(*o);
		if (!strncmp(opt, *o, len) && (opt[len] == '\0' || opt[len] == '='))
			return 1;
	}
	return 0;
}

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-';
}

/*
 * name==version.  Not name[extra]==version: pip check cannot tell that an
 * extra's dependencies are missing (it does not know which extras were
 * asked for), so such a list is resolved as any other.
 */
static int exact_pin(const char *w)
{
	const char *eq = strstr(w, "==");
	if (!eq || eq == w || eq[2] == '=' || eq[2] == '\0')
		return 0;
	const char *p = w;
	while (p < eq && name_char(*p))
		p++;
	if (p == w || p != eq)
		return 0;
	for (p = eq + 2; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		      *p == '+' || *p == '!' || *p == '_' || *p == '-'))
			return 0;
	return 1;
}

int install_pins_exact(char *const *words, size_t n)
{
	size_t reqs = 0;
	for (size_t i = 0; i < n; i++) {
		const char *w = words[i];
		if (w[0] == '-') {
			if (disqualifies(w))
				return 0;
			if (!strchr(w, '=') && takes_value(w))
				i++; /* its value */
			continue;
		}
		if (!exact_pin(w))
			return 0;
		reqs++;
	}
	return reqs > 0;
}
