/*
 * Group commit of the submitter's audit logs (audit.h).  This file owns how an audit line
 * reaches the disk: queued, written with the other lines of the same loop turn in one
 * write(2) per file, made durable by one sync for every file written in that turn, then
 * reported to its caller, which broadcasts only after that (and after the supervisor's
 * SIGNED_ACK).  A write that fails or comes up short is cut back (ftruncate to the size
 * before it) and its lines are reported as failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "log.h"
#include "safefs.h"
#include "util.h"

struct audit_line {
	TAILQ_ENTRY(audit_line) entry;
	audit_done_fn	 done;
	void		*arg;
};
TAILQ_HEAD(audit_lines, audit_line);

struct audit_file {
	TAILQ_ENTRY(audit_file) entry;	/* in the dirty list */
	char		*dir, *path;
	int		 fd;
	int		 dirty;
	char		*buf;
	size_t		 len, cap;
	struct audit_lines lines;
	int		 ok;		/* outcome of this commit */
	char		 err[512];
};

static TAILQ_HEAD(, audit_file) dirty = TAILQ_HEAD_INITIALIZER(dirty);
static struct event *commit_ev;
static long long nsyncs;

long long
audit_syncs(void)
{
	return nsyncs;
}

struct audit_file *
audit_file_new(const char *state_dir, const char *wallet)
{
	struct audit_file *a = xcalloc(1, sizeof(*a));

	a->dir = xasprintf("%s/audit", state_dir);
	a->path = xasprintf("%s/%s.jsonl", a->dir, wallet);
	a->fd = -1;
	TAILQ_INIT(&a->lines);
	return a;
}

/* Reports the outcome to every line of this commit (a callback may queue new lines). */
static void
finish(struct audit_file *a)
{
	struct audit_lines done = TAILQ_HEAD_INITIALIZER(done);
	struct audit_line *l;
	char err[sizeof(a->err)];
	int ok = a->ok;

	memcpy(err, a->err, sizeof(err));
	TAILQ_CONCAT(&done, &a->lines, entry);
	while ((l = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, l, entry);
		if (l->done != NULL)
			l->done(l->arg, ok, err);
		free(l);
	}
}

void
audit_file_free(struct audit_file *a)
{
	if (a == NULL)
		return;
	if (a->dirty) {
		TAILQ_REMOVE(&dirty, a, entry);
		a->ok = 0;
		snprintf(a->err, sizeof(a->err), "%s: not written (closing)", a->path);
		finish(a);
	}
	if (a->fd != -1)
		close(a->fd);
	free(a->buf);
	free(a->dir);
	free(a->path);
	free(a);
}

/* One write of everything queued for the file; 0 or -1 (a->err set, the file cut back). */
static int
write_out(struct audit_file *a)
{
	struct stat st;
	size_t off = 0;
	ssize_t n;
	int saved;

	if (a->fd == -1) {
		if (safe_dir(a->dir, 0700, a->err, sizeof(a->err)) != 0)
			return -1;
		a->fd = safe_open(a->path, O_WRONLY | O_CREAT | O_APPEND, 0600, NULL, a->err,
		    sizeof(a->err));
		if (a->fd == -1)
			return -1;
	}
	if (fstat(a->fd, &st) == -1) {
		snprintf(a->err, sizeof(a->err), "%s: fstat: %s", a->path, strerror(errno));
		return -1;
	}
	while (off < a->len) {
		n = write(a->fd, a->buf + off, a->len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			saved = n == 0 ? EIO : errno;
			if (ftruncate(a->fd, st.st_size) == -1)
				log_warn("%s: cutting back a failed write", a->path);
			snprintf(a->err, sizeof(a->err), "%s: write failed after %zu of %zu bytes: "
			    "%s; cut back to %lld bytes", a->path, off, a->len, strerror(saved),
			    (long long)st.st_size);
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

static void
commit_cb(evutil_socket_t fd, short ev, void *arg)
{
	TAILQ_HEAD(, audit_file) batch = TAILQ_HEAD_INITIALIZER(batch);
	struct audit_file *a, *first = NULL;
	size_t nwritten = 0;
	int rc = 0, saved = 0;
	const char *what;

	TAILQ_CONCAT(&batch, &dirty, entry);
	TAILQ_FOREACH(a, &batch, entry) {
		a->ok = write_out(a) == 0;
		a->len = 0;
		if (a->ok) {
			if (first == NULL)
				first = a;
			nwritten++;
		}
	}
	if (nwritten > 0) {
		nsyncs++;
		what = nwritten == 1 ? "fdatasync" : "syncfs";
		rc = nwritten == 1 ? fdatasync(first->fd) : syncfs(first->fd);
		saved = errno;
		if (rc == -1)
			TAILQ_FOREACH(a, &batch, entry)
				if (a->ok) {
					a->ok = 0;
					snprintf(a->err, sizeof(a->err), "%s: %s: %s", a->path, what,
					    strerror(saved));
				}
	}
	while ((a = TAILQ_FIRST(&batch)) != NULL) {
		TAILQ_REMOVE(&batch, a, entry);
		a->dirty = 0;
		if (!a->ok)
			log_warnx("audit log: %s", a->err);
		finish(a);
	}
}

void
audit_append(struct event_base *base, struct audit_file *a, const char *line,
    audit_done_fn done, void *arg)
{
	struct audit_line *l = xcalloc(1, sizeof(*l));
	size_t n = strlen(line);
	struct timeval now = { 0, 0 };

	if (a->len + n > a->cap) {
		a->cap = (a->len + n) * 2;
		a->buf = xrealloc(a->buf, a->cap);
	}
	memcpy(a->buf + a->len, line, n);
	a->len += n;
	l->done = done;
	l->arg = arg;
	TAILQ_INSERT_TAIL(&a->lines, l, entry);
	if (!a->dirty) {
		a->dirty = 1;
		TAILQ_INSERT_TAIL(&dirty, a, entry);
	}
	if (commit_ev == NULL)
		commit_ev = evtimer_new(base, commit_cb, NULL);
	if (!evtimer_pending(commit_ev, NULL))
		evtimer_add(commit_ev, &now);	/* after the other events of this turn */
}
