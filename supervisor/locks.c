/*
 * Per-topic locks (run_dir/locks/topic-<id>.lock, flock(2)) and the pid file.  A lock
 * file holds the pid and instance of the daemon that serves the topic, so a second daemon
 * can name it.  The pid file is locked the same way: whether an instance runs is decided by
 * that lock (the kernel drops it when the daemon dies, even while it is an unreaped
 * zombie), never by kill(pid, 0).  Every file here is opened with safe_open and every
 * directory checked with safe_dir (safefs.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safefs.h"
#include "sup.h"
#include "util.h"

int
locks_take(struct config *c, struct topic_rt *t, size_t n, char *err, size_t errlen)
{
	char *dir = xasprintf("%s/locks", c->run_dir), *path, holder[128];
	size_t i;
	ssize_t r;
	int fd;

	int unsafe = AW_EX_CONFIG;

	if ((fd = safe_dir(dir, 0700, err, errlen)) != 0) {
		free(dir);
		return fd == SAFE_UNSAFE ? AW_EX_CONFIG : 1;
	}
	for (i = 0; i < n; i++) {
		path = xasprintf("%s/topic-%u.lock", dir, t[i].id);
		fd = safe_open(path, O_RDWR | O_CREAT, 0600, NULL, err, errlen);
		if (fd == -1) {
			if (errno != ELOOP && errno != EINVAL)
				unsafe = 1;
			goto fail;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			int saved = errno;

			if (saved != EWOULDBLOCK) {
				snprintf(err, errlen, "%s: flock: %s", path, strerror(saved));
				close(fd);
				unsafe = 1;
				goto fail;
			}
			r = pread(fd, holder, sizeof(holder) - 1, 0);
			holder[r > 0 ? r : 0] = '\0';
			holder[strcspn(holder, "\n")] = '\0';
			snprintf(err, errlen, "topic %u is already served by another daemon "
			    "(%s; lock %s)", t[i].id, holder[0] ? holder : "pid unknown", path);
			close(fd);
			free(path);
			free(dir);
			locks_release(t, i);
			return 3;
		}
		t[i].lock_fd = fd;
		free(path);
	}
	free(dir);
	return 0;
fail:
	free(path);
	free(dir);
	locks_release(t, i);
	return unsafe;
}

void
locks_write_pid(struct topic_rt *t, size_t n)
{
	char buf[160];
	size_t i;
	int len;

	len = snprintf(buf, sizeof(buf), "pid %ld, instance %s\n", (long)getpid(),
	    sup->conf->instance);
	for (i = 0; i < n; i++) {
		if (t[i].lock_fd == -1)
			continue;
		if (ftruncate(t[i].lock_fd, 0) == -1 ||
		    pwrite(t[i].lock_fd, buf, (size_t)len, 0) != len)
			log_warn("writing the lock file of topic %u", t[i].id);
	}
}

void
locks_release(struct topic_rt *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (t[i].lock_fd == -1)
			continue;
		/* The file stays: removing it would race with a daemon taking it. */
		if (ftruncate(t[i].lock_fd, 0) == -1)
			log_debug("truncating the lock file of topic %u failed", t[i].id);
		flock(t[i].lock_fd, LOCK_UN);
		close(t[i].lock_fd);
		t[i].lock_fd = -1;
	}
}

/*
 * Opens and locks the pid file (kept open in sup->pid_fd while the daemon runs).  0: ours;
 * 3: another instance holds it (err names its pid); 78: not a regular file or a symbolic
 * link; 1: another error.
 */
int
pidfile_lock(const char *path, char *err, size_t errlen)
{
	struct stat a, b;
	char buf[64];
	ssize_t r;
	int fd, tries;
	long pid;

	for (tries = 0; tries < 10; tries++) {
		fd = safe_open(path, O_RDWR | O_CREAT, 0644, NULL, err, errlen);
		if (fd == -1)
			return errno == ELOOP || errno == EINVAL ? AW_EX_CONFIG : 1;
		if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			int saved = errno;

			if (saved != EWOULDBLOCK) {
				snprintf(err, errlen, "%s: flock: %s", path, strerror(saved));
				close(fd);
				return 1;
			}
			r = pread(fd, buf, sizeof(buf) - 1, 0);
			buf[r > 0 ? r : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			if (parse_long(buf, 1, 1L << 30, &pid) == 0)
				snprintf(err, errlen, "instance already running (pid %ld, pid file "
				    "%s)", pid, path);
			else
				snprintf(err, errlen, "instance already running (pid file %s is "
				    "locked)", path);
			close(fd);
			return 3;
		}
		/* A stopping daemon may have removed the file we opened: lock the one that
		 * is there. */
		if (fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino) {
			sup->pid_fd = fd;
			return 0;
		}
		close(fd);
	}
	snprintf(err, errlen, "%s: keeps being replaced; cannot lock it", path);
	return 1;
}

/* Writes our pid into the locked pid file. */
int
pidfile_write(const char *path)
{
	char buf[32];
	int len;

	(void)path;
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (sup->pid_fd == -1) {
		errno = EBADF;
		return -1;
	}
	if (ftruncate(sup->pid_fd, 0) == -1 || pwrite(sup->pid_fd, buf, (size_t)len, 0) != len)
		return -1;
	return 0;
}
