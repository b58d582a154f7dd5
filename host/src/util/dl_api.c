/* dl_api: a shared library's functions into a table, with dlopen(); see dl_api.h. */
#include "util/dl_api.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int dl_api_load(const char *const *sonames, const char *what, const char *hint, const struct dl_api_sym *syms,
                size_t nsyms, void *table, char *err, size_t errlen)
{
	void *h = NULL;
	for (const char *const *n = sonames; *n && !h; n++)
		h = dlopen(*n, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "cannot load %s%s: %s", what, hint, dlerror());
		return -1;
	}
	for (size_t i = 0; i < nsyms; i++) {
		void *p = dlsym(h, syms[i].symbol);
		if (!p) {
			snprintf(err, errlen, "%s lacks '%s'", what, syms[i].symbol);
			return -1; /* the handle stays open: harmless */
		}
		/* POSIX guarantees data and function pointers convert through void *. */
		memcpy((char *)table + syms[i].offset, &p, syms[i].size);
	}
	return 0;
}
