/*
 * exec: predictors under predictor_user (trainer/predrun.c): the job settings that make the
 * program run as that user, and its private copy of the bars.
 */
#ifndef AW_PREDRUN_H
#define AW_PREDRUN_H

#include <stddef.h>

#include "preduser.h"

struct config;
struct job_spec;

struct predrun {
	struct pred_user	 user;
	int			 fd;	/* the bars copy (memfd), -1 */
};

/*
 * When c->predictor_user is set: fills s (as_user, uid, gid, groups, pass_fd) and replaces
 * envp's BARS_CSV=PATH by BARS_CSV=/dev/fd/3, a sealed private copy of PATH that only the
 * predictor's process holds (readable by it, nothing of the state directory reachable).
 * Returns 0 (also when unset: nothing done), or -1 with err.  predrun_done() after
 * job_start, whatever it returned.
 */
int	 predrun_prepare(const struct config *c, struct job_spec *s, char **envp,
	    struct predrun *pr, char *err, size_t errlen);
void	 predrun_done(struct predrun *);

#endif
