/*
 * paths - where this smelt install lives, as the layers below the command
 * line need it: main.c fills struct smelt_paths once (from the binary's own
 * location) and hands it down to run/ (runtime_init()), adapters/ (the
 * loader's install folder) and whoever spawns smelt itself.  The project's
 * own folders (root, system folder) are in struct project (project.h).
 */
#ifndef SMELT_UTIL_PATHS_H
#define SMELT_UTIL_PATHS_H

struct smelt_paths {
	char *exe;         /* absolute path of this smelt binary; NULL when unknown */
	char *adapter_dir; /* the install's adapter folder (<bindir>/../lib/smelt/adapters) */
	char *libexec_dir; /* the install's native-connector folder */
};

#endif
