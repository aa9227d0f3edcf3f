/*
 * Child processes of the trainer on its event loop (see job.h).
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <sys/queue.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "job.h"
#include "util.h"

#define JOB_LINE_MAX	2048	/* longer stderr lines are cut into pieces */
#define JOB_GRACE_MS	1000	/* after the exit, for descendants holding the pipes */

struct job {
	pid_t		 pid;
	int		 exited, status_raw;
	enum job_end	 end;		/* JOB_EXITED until killed */
	int		 killed;
	int		 grace;
	int		 out_fd, err_fd;
	struct event	*ev_out, *ev_err, *ev_timer;
	char		*out;
	size_t		 out_len, max_out;
	char		 line[JOB_LINE_MAX];
	size_t		 line_len;
	job_line_fn	 on_stderr;
	void		*line_arg;
	job_done_fn	 done;
	void		*arg;
	int64_t		 started_ms;
	int		 as_user;	/* runs as uid/gid: killed through kill_as_user */
	uid_t		 uid;
	gid_t		 gid;
	TAILQ_ENTRY(job) entry;
};

static TAILQ_HEAD(, job) jobs = TAILQ_HEAD_INITIALIZER(jobs);
static struct event *sigchld_ev;

static void job_free(struct job *);
static void job_maybe_finish(struct job *);

/* SIGCHLD is watched while jobs run (so that a caller may free its event base after). */
static void
sigchld_release(void)
{
	if (TAILQ_EMPTY(&jobs) && sigchld_ev != NULL) {
		event_free(sigchld_ev);
		sigchld_ev = NULL;
	}
}

static void
close_out(struct job *j)
{
	if (j->ev_out != NULL) {
		event_free(j->ev_out);
		j->ev_out = NULL;
	}
	if (j->out_fd != -1) {
		close(j->out_fd);
		j->out_fd = -1;
	}
}

static void
flush_line(struct job *j)
{
	if (j->line_len > 0 && j->on_stderr != NULL)
		j->on_stderr(j->line, j->line_len, j->line_arg);
	j->line_len = 0;
}

static void
close_err(struct job *j)
{
	if (j->ev_err != NULL) {
		event_free(j->ev_err);
		j->ev_err = NULL;
	}
	if (j->err_fd != -1) {
		close(j->err_fd);
		j->err_fd = -1;
	}
	flush_line(j);
}

/*
 * SIGKILL to the job's process group.  A program run as another user cannot be signalled
 * by a daemon that has CAP_SETUID but is not root (no CAP_KILL): a short-lived process
 * switches to that user and sends the signal.
 */
static void
kill_group(struct job *j)
{
	pid_t h;
	int st;

	if (kill(-j->pid, SIGKILL) == 0 || errno != EPERM || !j->as_user)
		return;
	h = fork();
	if (h == 0) {
		if (setgroups(0, NULL) == -1 && errno != EPERM)
			_exit(1);
		if (setgid(j->gid) == -1 || setuid(j->uid) == -1)
			_exit(1);
		_exit(kill(-j->pid, SIGKILL) == 0 ? 0 : 1);
	}
	if (h > 0)
		while (waitpid(h, &st, 0) == -1 && errno == EINTR)
			;
}

static void
kill_job(struct job *j, enum job_end why)
{
	if (!j->killed) {
		j->killed = 1;
		j->end = why;
	}
	if (!j->exited) {
		kill_group(j);
		kill(j->pid, SIGKILL);
	}
	/* Stop reading: descendants in other groups may keep the pipes open. */
	close_out(j);
	close_err(j);
}

static void
reap(struct job *j)
{
	int st;
	pid_t r;

	if (j->exited)
		return;
	do
		r = waitpid(j->pid, &st, WNOHANG);
	while (r == -1 && errno == EINTR);
	if (r == j->pid || (r == -1 && errno == ECHILD)) {
		j->exited = 1;
		j->status_raw = r == j->pid ? st : 0;
	}
}

static void
on_sigchld(evutil_socket_t sig, short ev, void *arg)
{
	struct job *j, *tmp;

	TAILQ_FOREACH_SAFE(j, &jobs, entry, tmp) {
		reap(j);
		job_maybe_finish(j);
	}
}

static void
on_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct job *j = arg;

	if (j->grace && j->exited) {
		/* Exited, but something it started still holds the pipes. */
		kill_group(j);
		close_out(j);
		close_err(j);
	} else
		kill_job(j, JOB_TIMEOUT);
	reap(j);
	job_maybe_finish(j);
}

static void
on_out(evutil_socket_t fd, short ev, void *arg)
{
	struct job *j = arg;
	char buf[4096];
	ssize_t n;

	n = read(fd, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_out(j);
		reap(j);
		job_maybe_finish(j);
		return;
	}
	if (j->out_len + (size_t)n > j->max_out) {
		kill_job(j, JOB_TOO_MUCH);
		reap(j);
		job_maybe_finish(j);
		return;
	}
	memcpy(j->out + j->out_len, buf, (size_t)n);
	j->out_len += (size_t)n;
	j->out[j->out_len] = '\0';
}

static void
on_err(evutil_socket_t fd, short ev, void *arg)
{
	struct job *j = arg;
	char buf[4096];
	ssize_t n, i;

	n = read(fd, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_err(j);
		reap(j);
		job_maybe_finish(j);
		return;
	}
	for (i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			flush_line(j);
			continue;
		}
		if (j->line_len == sizeof(j->line))
			flush_line(j);
		j->line[j->line_len++] = buf[i];
	}
}

static void
job_maybe_finish(struct job *j)
{
	struct job_result r;
	struct timeval tv;

	if (!j->exited)
		return;
	if (j->out_fd != -1 || j->err_fd != -1) {
		if (!j->grace) {
			j->grace = 1;
			tv.tv_sec = JOB_GRACE_MS / 1000;
			tv.tv_usec = (JOB_GRACE_MS % 1000) * 1000;
			evtimer_add(j->ev_timer, &tv);
		}
		return;
	}
	memset(&r, 0, sizeof(r));
	r.end = j->end;
	if (!j->killed) {
		if (WIFSIGNALED(j->status_raw)) {
			r.end = JOB_SIGNALED;
			r.status = WTERMSIG(j->status_raw);
		} else {
			r.end = JOB_EXITED;
			r.status = WEXITSTATUS(j->status_raw);
		}
	}
	r.out = j->out;
	r.out_len = j->out_len;
	r.elapsed_ms = (double)(mono_ms() - j->started_ms);
	TAILQ_REMOVE(&jobs, j, entry);
	j->done(&r, j->arg);
	job_free(j);
	sigchld_release();
}

static void
job_free(struct job *j)
{
	close_out(j);
	close_err(j);
	if (j->ev_timer != NULL)
		event_free(j->ev_timer);
	free(j->out);
	free(j);
}

/*
 * In the new process, before the exec: becomes s->uid with its groups, for good (no way
 * back, no capability left, none inherited by the program), in / (not the daemon's folder).
 * A failure ends the process: the program never runs as us.
 */
static void
job_become(const struct job_spec *s)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (setgroups((size_t)s->ngroups, s->groups) == -1 || setgid(s->gid) == -1 ||
	    setuid(s->uid) == -1) {
		dprintf(2, "cannot switch to uid %ld (predictor_user): %s\n", (long)s->uid,
		    strerror(errno));
		_exit(126);
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(d, 0, sizeof(d));
	syscall(SYS_capset, &h, d);
	if (getuid() != s->uid || geteuid() != s->uid || getgid() != s->gid ||
	    getegid() != s->gid || setuid(0) != -1) {
		dprintf(2, "switching to uid %ld (predictor_user) did not hold\n", (long)s->uid);
		_exit(126);
	}
	/* Changing credentials cleared it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (chdir("/") == -1)
		_exit(126);
}

/* In the new process: never returns. */
static void
job_child(const struct job_spec *s, int outw, int errw)
{
	sigset_t none;
	int fd, st;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	fd = open("/dev/null", O_RDONLY);
	if (fd == -1 || dup2(fd, 0) == -1 || dup2(outw, 1) == -1 || dup2(errw, 2) == -1)
		_exit(126);
	if (s->pass_fd && s->fn == NULL) {
		if (s->fd == 3)
			set_cloexec(3, 0);
		else if (dup2(s->fd, 3) == -1)
			_exit(126);
		closefrom_compat(4);
	} else
		closefrom_compat(3);
	if (s->as_user && s->fn == NULL)
		job_become(s);
	if (s->fn != NULL) {
		st = s->fn(1, s->fn_arg);
		_exit(st);
	}
	execve(s->path, s->argv, s->envp);
	dprintf(2, "cannot run %s: %s\n", s->path, strerror(errno));
	_exit(127);
}

struct job *
job_start(struct event_base *base, const struct job_spec *s, job_done_fn done, void *arg,
    char *err, size_t errlen)
{
	struct job *j;
	struct timeval tv;
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	pid_t pid;

	if (s->fn == NULL && (s->path == NULL || s->argv == NULL || s->envp == NULL)) {
		snprintf(err, errlen, "job without a program");
		return NULL;
	}
	if (sigchld_ev == NULL) {
		sigchld_ev = evsignal_new(base, SIGCHLD, on_sigchld, NULL);
		if (sigchld_ev == NULL || evsignal_add(sigchld_ev, NULL) == -1) {
			snprintf(err, errlen, "cannot watch SIGCHLD");
			return NULL;
		}
	}
	if (pipe2(po, O_CLOEXEC) == -1 || pipe2(pe, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	pid = fork();
	if (pid == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0)
		job_child(s, po[1], pe[1]);
	setpgid(pid, pid);	/* also from here: no race with kill(-pid) */
	close(po[1]);
	close(pe[1]);
	j = xcalloc(1, sizeof(*j));
	j->pid = pid;
	j->end = JOB_EXITED;
	j->out_fd = po[0];
	j->err_fd = pe[0];
	j->max_out = s->max_out > 0 ? s->max_out : 65536;
	j->out = xmalloc(j->max_out + 1);
	j->out[0] = '\0';
	j->on_stderr = s->on_stderr;
	j->line_arg = s->line_arg;
	j->done = done;
	j->arg = arg;
	j->started_ms = mono_ms();
	j->as_user = s->as_user && s->fn == NULL;
	j->uid = s->uid;
	j->gid = s->gid;
	set_nonblock(j->out_fd, 1);
	set_nonblock(j->err_fd, 1);
	j->ev_out = event_new(base, j->out_fd, EV_READ | EV_PERSIST, on_out, j);
	j->ev_err = event_new(base, j->err_fd, EV_READ | EV_PERSIST, on_err, j);
	j->ev_timer = evtimer_new(base, on_timer, j);
	event_add(j->ev_out, NULL);
	event_add(j->ev_err, NULL);
	tv.tv_sec = s->timeout_ms / 1000;
	tv.tv_usec = (s->timeout_ms % 1000) * 1000;
	evtimer_add(j->ev_timer, &tv);
	TAILQ_INSERT_TAIL(&jobs, j, entry);
	return j;
fail:
	sigchld_release();
	if (po[0] != -1) {
		close(po[0]);
		close(po[1]);
	}
	if (pe[0] != -1) {
		close(pe[0]);
		close(pe[1]);
	}
	return NULL;
}

void
job_cancel(struct job *j)
{
	struct job *k;

	TAILQ_FOREACH(k, &jobs, entry)
		if (k == j)
			break;
	if (k == NULL)
		return;
	kill_job(j, JOB_CANCELED);
	TAILQ_REMOVE(&jobs, j, entry);
	/* Reaped now if it is already gone; otherwise the zombie goes with the trainer or
	 * the next waitpid of SIGCHLD's default handling in the supervisor. */
	reap(j);
	if (!j->exited) {
		int st;

		/* SIGKILL was sent: the wait is short. */
		while (waitpid(j->pid, &st, 0) == -1 && errno == EINTR)
			;
	}
	job_free(j);
	sigchld_release();
}

void
job_cancel_all(void)
{
	while (!TAILQ_EMPTY(&jobs))
		job_cancel(TAILQ_FIRST(&jobs));
}

size_t
job_running(void)
{
	struct job *j;
	size_t n = 0;

	TAILQ_FOREACH(j, &jobs, entry)
		n++;
	return n;
}

/* ---- command lines ---- */

void
job_argv_free(char **av)
{
	size_t i;

	if (av == NULL)
		return;
	for (i = 0; av[i] != NULL; i++)
		free(av[i]);
	free(av);
}

char **
job_split(const char *s, char *err, size_t errlen)
{
	char **av = NULL, *w = xmalloc(strlen(s) + 1);
	size_t n = 0, wl;
	int inword;
	char q;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		wl = 0;
		inword = 1;
		while (inword && *s != '\0') {
			switch (*s) {
			case ' ':
			case '\t':
				inword = 0;
				break;
			case '\'':
			case '"':
				q = *s++;
				while (*s != '\0' && *s != q) {
					if (q == '"' && *s == '\\' && (s[1] == '"' || s[1] == '\\'))
						s++;
					w[wl++] = *s++;
				}
				if (*s != q) {
					snprintf(err, errlen, "unterminated %c quote", q);
					goto fail;
				}
				s++;
				break;
			case '\\':
				if (s[1] == '\0') {
					snprintf(err, errlen, "a backslash at the end");
					goto fail;
				}
				w[wl++] = s[1];
				s += 2;
				break;
			default:
				w[wl++] = *s++;
			}
		}
		av = xrealloc(av, (n + 2) * sizeof(*av));
		av[n++] = xstrndup(w, wl);
		av[n] = NULL;
	}
	free(w);
	if (n == 0) {
		snprintf(err, errlen, "no program");
		job_argv_free(av);
		return NULL;
	}
	return av;
fail:
	free(w);
	job_argv_free(av);
	return NULL;
}
