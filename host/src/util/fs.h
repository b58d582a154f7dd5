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

/*
 * ---- Paths that cannot leave a folder -----------------------------------
 *
 * The *_beneath() functions resolve a relative path rel beneath an open
 * folder dirfd and never leave it: an absolute rel or any '..' component
 * fails with EXDEV, and a symbolic link in any component fails with ELOOP
 * (a link is never followed, not even one that stays inside).  They use
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) where the kernel has it,
 * else walk rel one component at a time with O_NOFOLLOW.  Empty and '.'
 * components are skipped.  All return -1 with errno set on failure.
 *
 * The *_under() forms take the folder as a path (base, trusted: it is
 * opened normally) and path either relative to base or absolute and
 * lexically inside base ("<base>/..."); any other absolute path fails with
 * EXDEV.  Use them for every file Smelt creates or removes inside the
 * project or its system folder from a name it was given.
 */

/* Open rel beneath dirfd with open(2) flags and mode; O_NOFOLLOW is implied.  Returns the fd. */
int fs_open_beneath(int dirfd, const char *rel, int flags, mode_t mode);
/* Create the folders of rel beneath dirfd (mode for new ones); returns an O_DIRECTORY fd of the last. */
int fs_mkdirs_beneath(int dirfd, const char *rel, mode_t mode);
/*
 * Replace rel beneath dirfd with data (a temporary file, then rename:
 * atomic), file mode mode; missing parent folders are created with
 * dir_mode.  A symbolic link at rel is replaced, not followed.
 */
int fs_write_beneath(int dirfd, const char *rel, const void *data, size_t len, mode_t mode, mode_t dir_mode);
/* Remove the file (or symbolic link) rel beneath dirfd. */
int fs_unlink_beneath(int dirfd, const char *rel);
/*
 * Remove rel beneath dirfd recursively (like rm -rf) without following
 * any symbolic link: a link inside the tree is removed, never what it
 * points to.  A missing rel is success; an empty rel (dirfd itself) fails
 * with EINVAL.
 */
int fs_remove_tree_beneath(int dirfd, const char *rel);

/* The part of path below base ("" for base itself), path when relative, NULL when outside.  Borrowed from path. */
const char *path_beneath(const char *base, const char *path);
/* The *_under() forms: see above.  fs_open_under() returns the fd (caller closes); the others 0. */
int fs_open_under(const char *base, const char *path, int flags, mode_t mode);
int fs_mkdirs_under(const char *base, const char *path, mode_t mode);
int fs_write_under(const char *base, const char *path, const void *data, size_t len, mode_t mode, mode_t dir_mode);
int fs_unlink_under(const char *base, const char *path);
int fs_remove_tree_under(const char *base, const char *path);
/* strerror() with the two errors of the *_beneath() functions said plainly (EXDEV, ELOOP).  Static string. */
const char *fs_beneath_strerror(int errnum);
/* Tests only: 1 makes the *_beneath() functions use the component walk even where openat2 exists. */
void fs_beneath_force_fallback(int on);

/* ---- capped reading of regular files ----------------------------------------------
 * Every file smelt reads whole from a project goes through read_regular_file(), so a
 * .env pointing at /dev/zero or a FIFO fails at once instead of filling memory or
 * hanging.  The caps are documented in README.md ("Limits") and SECURITY.md.
 */
#define FS_CAP_DOTENV (1024u * 1024u)          /* .env and --env-file: 1 MiB */
#define FS_CAP_PROJECT (16u * 1024u * 1024u)   /* smelt.yml/meltano.yml and include_paths files */
#define FS_CAP_JSON (64u * 1024u * 1024u)      /* lock files, catalogs, state files */

/*
 * Append the whole content of path to sb when it is a regular file (after
 * following symlinks) of at most cap bytes.  Opening never blocks (a FIFO is
 * refused, not waited on) and at most cap + 1 bytes are read even if the file
 * grows meanwhile.  Return 0, or -1 with errno set (EINVAL: not a regular file,
 * EFBIG: over the cap, else open/read's errno) and err filled with a message
 * naming the file ("'x' is not a regular file", "'x' is larger than 1 MiB, the
 * limit for this file", "cannot read 'x': ...").  On failure sb is as it was.
 */
int read_regular_file(const char *path, size_t cap, struct strbuf *sb, char *err, size_t errlen);

/*
 * Private files and folders: the system folder (.smelt) and what it holds can
 * hold secrets, so folders are 0700 and files 0600 (SECURITY.md).
 * fs_tighten() clears the mode bits of path that max does not allow (for
 * files and folders an older smelt made with 0644/0755); a missing path, a
 * sticky folder (shared, like /tmp) and a path owned by another user are
 * left alone (success).  mkdir_private() creates path and missing parents as 0700 and
 * tightens an existing path to 0700.  Both return 0 or -1 with errno set.
 */
int fs_tighten(const char *path, mode_t max);
int mkdir_private(const char *path);


#endif
