/*
 * runfiles - the private files a smelt process writes under
 * <sys_dir>/run (generated configs with secrets, catalogs, state), and
 * the sweep that removes those of a process that died without removing
 * them (kill -9, a crash, a signal outside the supervisor).
 *
 * Before a process writes its first private file it creates a manifest,
 * <sys_dir>/run/.owners/<pid>-<start>, whose first line names the owner
 * (host, boot and namespace key, pid, start time: struct proc_owner) and
 * whose further lines are the files, relative to <sys_dir>/run, each
 * appended before the file is written.  runfiles_release() removes the
 * manifest after the files.  runfiles_sweep() removes the files of every
 * manifest whose owner is provably gone (PROC_GONE), with the temporary
 * file write_file_atomic() leaves when killed mid-write, then the
 * manifest; a live owner, one on another host, or an unreadable manifest
 * is left alone, so a concurrent run in the same project keeps its files.
 *
 * Not thread-safe: one thread of a process registers files.  A child made
 * by fork() starts without a manifest (it never touches its parent's).
 */
#ifndef SMELT_RUNFILES_H
#define SMELT_RUNFILES_H

/*
 * Record path (absolute; must lie under <sys_dir>/run) in this process's
 * manifest before the file is written.  0, or -1 with errno set when the
 * manifest cannot be written or the path cannot be recorded (outside the
 * run folder, a newline or a '..' in it).  sys_dir and path are borrowed.
 */
int runfiles_register(const char *sys_dir, const char *path);

/* Remove this process's manifest (call after its files were removed). */
void runfiles_release(void);

/*
 * Remove the files of dead owners under <sys_dir>/run and their
 * manifests; logs one info line per swept owner.  Returns how many files
 * were removed.  Never follows a symbolic link out of the run folder.
 */
int runfiles_sweep(const char *sys_dir);

#endif
