/*
 * Per-topic locks (run_dir/locks/topic-<id>.lock, flock(2)) and the pid file.  A lock
 * file holds the pid and instance of the daemon that serves the topic, so a second daemon
 * can name it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "sup.h"
#include "util.h"

int
locks_take(struct config *c, struct topic_rt *t, size_t n, char *err, size_t errlen)
{
	char *dir = xasprintf("%s/locks", c->run_dir), *path, holder[128];
	size_t i;
	ssize_t r;
	int fd;

	if (mkdir_p(dir, 0700) == -1) {
		snprintf(err, errlen, "%s: cannot create: %s", dir, strerror(errno));
		free(dir);
		return 1;
	}
	for (i = 0; i < n; i++) {
		path = xasprintf("%s/topic-%u.lock", dir, t[i].id);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd == -1) {
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
			goto fail;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			int saved = errno;

			if (saved != EWOULDBLOCK) {
				snprintf(err, errlen, "%s: flock: %s", path, strerror(saved));
				close(fd);
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
	return 1;
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

/* 0: free to use; 3: another live daemon of this instance (err says which). */
int
pidfile_check(const char *path, char *err, size_t errlen)
{
	char *s;
	long pid;

	s = read_file(path, 64, NULL);
	if (s == NULL)
		return 0;
	s[strcspn(s, "\n")] = '\0';
	if (parse_long(s, 1, 1L << 30, &pid) == 0 && pid != getpid() &&
	    (kill((pid_t)pid, 0) == 0 || errno == EPERM)) {
		snprintf(err, errlen, "instance already running (pid %ld, pid file %s)", pid,
		    path);
		free(s);
		return 3;
	}
	free(s);
	return 0;
}

int
pidfile_write(const char *path)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	return write_file_atomic(path, buf, strlen(buf), 0644);
}
