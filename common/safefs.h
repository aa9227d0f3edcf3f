/*
 * Safe files and directories: every directory we create or write in, and every state file
 * we open (lock, pid, ledger, cache, audit, log), goes through here, so that another local
 * user cannot redirect our writes with a directory or a symbolic link they planted.
 *
 * A directory we write in must be, by lstat(2): a directory (not a symbolic link), owned by
 * the effective uid, not writable by group or others.  Its ancestors are not checked (they
 * are the operator's business: /run, /var/lib, $HOME).  A state file is opened with
 * O_NOFOLLOW | O_CLOEXEC and must be a regular file.
 */
#ifndef AW_SAFEFS_H
#define AW_SAFEFS_H

#include <stddef.h>
#include <sys/types.h>

#define SAFE_ERR	(-1)	/* a system error (errno set, err filled) */
#define SAFE_UNSAFE	(-2)	/* exists but is not safe to use (err says why) */

/*
 * Creates path (and missing parents, with mode) unless it exists, then checks it as
 * above.  0 when safe; SAFE_ERR or SAFE_UNSAFE with "PATH: what is wrong" in err.
 */
int	 safe_dir(const char *path, mode_t mode, char *err, size_t errlen);
/* Only the check of an existing directory (no creation). */
int	 safe_dir_check(const char *path, char *err, size_t errlen);
/*
 * open(2) with O_NOFOLLOW | O_CLOEXEC added; the result must be a regular file (a FIFO or
 * device never blocks the open).  With O_CREAT, *created (may be NULL) says whether this
 * call created the file.  -1 with errno (ELOOP: a symbolic link, EINVAL: not a regular
 * file) and "PATH: what is wrong" in err (may be NULL).
 */
int	 safe_open(const char *path, int flags, mode_t mode, int *created, char *err,
	    size_t errlen);
/* fsync(2) of a directory (after a file in it was created, renamed or removed). */
int	 fsync_dir(const char *dir);
/* fsync_dir of the directory part of path. */
int	 fsync_parent(const char *path);

#endif
