/*
 * predictor_user (allora-worker.conf(5)): the user exec: predictors run as.  Owns the lookup
 * of that user (uid, primary group, supplementary groups), whether this process may switch
 * to it (root, or CAP_SETUID and CAP_SETGID effective), and the checks made at start.  The
 * supervisor checks at start (a clear error, exit status 2); the trainer switches in the
 * predictor's process (trainer/job.c).
 */
#ifndef AW_PREDUSER_H
#define AW_PREDUSER_H

#include <stddef.h>
#include <sys/types.h>

struct config;

struct pred_user {
	char	*name;
	uid_t	 uid;
	gid_t	 gid;
	gid_t	*groups;	/* supplementary groups, the primary one included */
	int	 ngroups;
};

/* 0, or -1 with err ("no such user", root). */
int	 pred_user_lookup(const char *name, struct pred_user *, char *err, size_t errlen);
void	 pred_user_free(struct pred_user *);
/* 1 when this process may switch users: euid 0, or CAP_SETUID and CAP_SETGID effective. */
int	 pred_user_privileged(void);
/*
 * Everything checked at start when predictor_user is set: the user exists, is neither root
 * nor the daemon's own user, this process is privileged, and state_dir is closed to the
 * user.  0 (also when predictor_user is unset), or -1 with err.
 */
int	 pred_user_check(const struct config *, char *err, size_t errlen);

#endif
