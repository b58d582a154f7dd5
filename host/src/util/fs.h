/* fs - file and path helpers. All return 0 on success, -1 with errno set on failure. */
#ifndef SMELT_FS_H
#define SMELT_FS_H

#include <stddef.h>
#include <sys/types.h>

struct strbuf;

int mkdir_p(const char *path, mode_t mode);
/* Read a whole file into sb (appends). */
int read_file(const char *path, struct strbuf *sb);
/* Write data to path through a temporary file in the same folder, fsync, rename, fsync of the folder (atomic), with mode. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
int file_exists(const char *path);
int dir_exists(const char *path);
/* Remove path recursively (like rm -rf); a missing path is success. */
int remove_tree(const char *path);
/* "a" + "/" + "b"; an absolute b is returned as is.  Caller frees. */
char *path_join(const char *a, const char *b);
/* The directory part of path (caller frees). */
char *path_dirname(const char *path);
/* Absolute path of the running executable (caller frees), NULL on failure. */
char *exe_path(void);
/* Search PATH (or path_var when not NULL) for an executable; caller frees; NULL when none. */
char *which(const char *name, const char *path_var);

#endif
