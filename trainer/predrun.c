/*
 * Owns how an exec: predictor runs under predictor_user (allora-worker.conf(5)): as that
 * user with its groups (trainer/job.c switches in the predictor's process), in its own
 * process group, with BARS_CSV=/dev/fd/3, a memfd copy of the bars sealed against writes,
 * so that it needs no access to the state directory (which the supervisor checked is
 * closed to it).
 */
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "job.h"
#include "predrun.h"
#include "util.h"

#define BARS_MAX	(256L * 1024 * 1024)

/* A sealed memfd holding a copy of path (an empty one when path is ""). */
static int
bars_copy(const char *path, char *err, size_t errlen)
{
	char buf[65536];
	ssize_t n, w, off;
	long total = 0;
	int in = -1, fd;

	fd = memfd_create("bars.csv", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd == -1) {
		snprintf(err, errlen, "memfd_create: %s", strerror(errno));
		return -1;
	}
	if (*path != '\0' && (in = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	while (in != -1 && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || (total += n) > BARS_MAX) {
			snprintf(err, errlen, "%s: %s", path, n == -1 ? strerror(errno) :
			    "too large to copy");
			goto fail;
		}
		for (off = 0; off < n; off += w) {
			w = write(fd, buf + off, (size_t)(n - off));
			if (w == -1 && errno == EINTR)
				w = 0;
			else if (w <= 0) {
				snprintf(err, errlen, "copying %s: %s", path, strerror(errno));
				goto fail;
			}
		}
	}
	if (in != -1)
		close(in);
	if (lseek(fd, 0, SEEK_SET) == -1 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) == -1) {
		snprintf(err, errlen, "sealing the bars copy: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
fail:
	if (in != -1)
		close(in);
	close(fd);
	return -1;
}

int
predrun_prepare(const struct config *c, struct job_spec *s, char **envp, struct predrun *pr,
    char *err, size_t errlen)
{
	char why[512];
	size_t i;

	memset(pr, 0, sizeof(*pr));
	pr->fd = -1;
	if (c->predictor_user == NULL)
		return 0;
	if (pred_user_lookup(c->predictor_user, &pr->user, err, errlen) == -1)
		return -1;
	if (!pred_user_privileged()) {
		snprintf(err, errlen, "predictor_user = %s: the trainer holds neither root nor "
		    "CAP_SETUID and CAP_SETGID", c->predictor_user);
		return -1;
	}
	for (i = 0; envp[i] != NULL; i++) {
		if (strncmp(envp[i], "BARS_CSV=", 9) != 0)
			continue;
		pr->fd = bars_copy(envp[i] + 9, why, sizeof(why));
		if (pr->fd == -1) {
			snprintf(err, errlen, "the predictor's copy of the bars: %s", why);
			return -1;
		}
		free(envp[i]);
		envp[i] = xstrdup("BARS_CSV=/dev/fd/3");
	}
	s->as_user = 1;
	s->uid = pr->user.uid;
	s->gid = pr->user.gid;
	s->groups = pr->user.groups;
	s->ngroups = pr->user.ngroups;
	if (pr->fd != -1) {
		s->pass_fd = 1;
		s->fd = pr->fd;
	}
	return 0;
}

void
predrun_done(struct predrun *pr)
{
	if (pr->fd != -1)
		close(pr->fd);
	pred_user_free(&pr->user);
	pr->fd = -1;
}
