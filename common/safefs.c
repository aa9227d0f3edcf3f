/*
 * Safe files and directories (see safefs.h): the lstat checks of the directories we write
 * in and the O_NOFOLLOW opens of our state files.  This file owns those rules; mkdir_p and
 * write_file_atomic (util.c) apply them too.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safefs.h"
#include "util.h"

static void
seterr(char *err, size_t errlen, const char *fmt, const char *path, const char *what)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, fmt, path, what);
}

static const char *
uid_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(buf, len, "uid %ld (%s)", (long)uid, pw->pw_name);
	else
		snprintf(buf, len, "uid %ld", (long)uid);
	return buf;
}

int
safe_dir_check(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char what[256], a[96], b[96];

	if (lstat(path, &st) == -1) {
		int saved = errno;

		seterr(err, errlen, "%s: %s", path, strerror(saved));
		errno = saved;
		return SAFE_ERR;
	}
	if (S_ISLNK(st.st_mode)) {
		seterr(err, errlen, "%s: %s", path, "is a symbolic link, not a directory "
		    "(refusing to follow it)");
		errno = ELOOP;
		return SAFE_UNSAFE;
	}
	if (!S_ISDIR(st.st_mode)) {
		seterr(err, errlen, "%s: %s", path, "is not a directory");
		errno = ENOTDIR;
		return SAFE_UNSAFE;
	}
	if (st.st_uid != geteuid()) {
		snprintf(what, sizeof(what), "is owned by %s, not by us (%s)",
		    uid_name(st.st_uid, a, sizeof(a)), uid_name(geteuid(), b, sizeof(b)));
		seterr(err, errlen, "%s: %s", path, what);
		errno = EPERM;
		return SAFE_UNSAFE;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(what, sizeof(what), "is writable by %s (mode %04o); make it "
		    "chmod go-w", (st.st_mode & S_IWOTH) ? "others" : "its group",
		    (unsigned)(st.st_mode & 07777));
		seterr(err, errlen, "%s: %s", path, what);
		errno = EPERM;
		return SAFE_UNSAFE;
	}
	return 0;
}

int
safe_dir(const char *path, mode_t mode, char *err, size_t errlen)
{
	char *s, *p;

	if (path == NULL || *path == '\0') {
		seterr(err, errlen, "%s%s", "", "empty directory name");
		errno = EINVAL;
		return SAFE_ERR;
	}
	s = xstrdup(path);
	for (p = s + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(s, mode) == -1 && errno != EEXIST) {
			int saved = errno;

			seterr(err, errlen, "%s: cannot create: %s", s, strerror(saved));
			free(s);
			errno = saved;
			return SAFE_ERR;
		}
		*p = '/';
	}
	free(s);
	if (mkdir(path, mode) == -1 && errno != EEXIST) {
		int saved = errno;

		seterr(err, errlen, "%s: cannot create: %s", path, strerror(saved));
		errno = saved;
		return SAFE_ERR;
	}
	return safe_dir_check(path, err, errlen);
}

int
safe_open(const char *path, int flags, mode_t mode, int *created, char *err, size_t errlen)
{
	struct stat st;
	int fd, saved, made = 0;

	flags |= O_NOFOLLOW | O_CLOEXEC;
	/* O_NONBLOCK: a FIFO planted under our name must not hang the open. */
	if ((flags & O_CREAT) != 0) {
		fd = open(path, (flags & ~O_CREAT) | O_NONBLOCK);
		if (fd == -1 && errno == ENOENT) {
			fd = open(path, flags | O_EXCL | O_NONBLOCK, mode);
			if (fd != -1)
				made = 1;
			else if (errno == EEXIST)	/* lost a race: open what is there */
				fd = open(path, (flags & ~O_CREAT) | O_NONBLOCK);
		}
	} else
		fd = open(path, flags | O_NONBLOCK);
	if (fd == -1) {
		saved = errno;
		if (saved == ELOOP)
			seterr(err, errlen, "%s: %s", path, "is a symbolic link (refusing to "
			    "follow it)");
		else
			seterr(err, errlen, "%s: cannot open: %s", path, strerror(saved));
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		saved = errno;
		seterr(err, errlen, "%s: fstat: %s", path, strerror(saved));
		close(fd);
		errno = saved;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		seterr(err, errlen, "%s: %s", path, "is not a regular file");
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if ((flags & O_NONBLOCK) == 0 && set_nonblock(fd, 0) == -1) {
		saved = errno;
		seterr(err, errlen, "%s: fcntl: %s", path, strerror(saved));
		close(fd);
		errno = saved;
		return -1;
	}
	if (created != NULL)
		*created = made;
	return fd;
}

int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc, saved;

	if (fd == -1)
		return -1;
	rc = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int
fsync_parent(const char *path)
{
	char *d = path_dirname(path);
	int rc = fsync_dir(d), saved = errno;

	free(d);
	errno = saved;
	return rc;
}
