/*
 * Jobs: a child process of the trainer, run on the trainer's event loop without blocking it.
 * Either a program (execve, no shell, its own process group, a clean environment) or a
 * function run in a forked copy of the trainer (training, so that a long fit never delays
 * heartbeats).  Standard output is collected up to a size limit; standard error is handed
 * over line by line; a deadline kills the whole process group.  The callback is called
 * exactly once, after the process has been reaped.
 */
#ifndef AW_JOB_H
#define AW_JOB_H

#include <stddef.h>
#include <sys/types.h>

struct event_base;
struct job;

enum job_end {
	JOB_EXITED,		/* status: the exit status */
	JOB_SIGNALED,		/* status: the signal */
	JOB_TIMEOUT,		/* killed at the deadline */
	JOB_TOO_MUCH,		/* killed: printed more than max_out bytes */
	JOB_CANCELED,		/* job_cancel (callback not called) */
};

struct job_result {
	enum job_end	 end;
	int		 status;
	const char	*out;		/* NUL-terminated standard output */
	size_t		 out_len;
	double		 elapsed_ms;
};

typedef void (*job_done_fn)(const struct job_result *, void *arg);
/* One line of the child's standard error (without the newline, not NUL-safe text). */
typedef void (*job_line_fn)(const char *line, size_t len, void *arg);

struct job_spec {
	/* A program: path, argv (NULL-terminated), envp (NULL-terminated). */
	const char		*path;
	char *const		*argv;
	char *const		*envp;
	/* Or a function run in a forked copy; it writes its answer to fd and returns the
	 * exit status of the copy. */
	int			(*fn)(int fd, void *arg);
	void			*fn_arg;
	long			 timeout_ms;	/* > 0 */
	size_t			 max_out;	/* standard output limit; 0 = 64 KiB */
	job_line_fn		 on_stderr;	/* may be NULL: stderr is discarded */
	void			*line_arg;
	/* A program only: run it as this user (predictor_user) with its groups, no
	 * capabilities, in / (as_user 0: as we are). */
	int			 as_user;
	uid_t			 uid;
	gid_t			 gid;
	const gid_t		*groups;
	int			 ngroups;
	/* An open file given to the program as its fd 3 (pass_fd 0: none). */
	int			 pass_fd;
	int			 fd;
};

/* NULL with err when the process could not be started (callback then not called). */
struct job *job_start(struct event_base *, const struct job_spec *, job_done_fn, void *arg,
	    char *err, size_t errlen);
/* Kills the process group and forgets the job (its callback is not called). */
void	 job_cancel(struct job *);
/* Kills every running job (at shutdown). */
void	 job_cancel_all(void);
size_t	 job_running(void);

/*
 * Splits a command line into argv: words separated by blanks; '...' keeps everything
 * literally, "..." keeps blanks and honours \" and \\, a backslash outside quotes escapes
 * the next character.  No variables, globs or other shell syntax.  NULL-terminated,
 * malloc'd (free with job_argv_free); NULL with err for an unterminated quote or no words.
 */
char	**job_split(const char *, char *err, size_t errlen);
void	 job_argv_free(char **);

#endif
