/* fsutil: folder helpers shared by the native connectors. */
#ifndef SMELT_CONN_FSUTIL_H
#define SMELT_CONN_FSUTIL_H

#include <stddef.h>

/* mkdir -p path.  0 on success, -1 with errno set (the failing prefix in failed, when not NULL, up to len bytes). */
int conn_mkdirs(const char *path, char *failed, size_t len);
/* mkdir -p the folder that holds file (nothing for a bare file name). */
int conn_mkdirs_parent(const char *file, char *failed, size_t len);

#endif
