/*
 * A role's main run in a forked child as the supervisor starts it: the child's end of a
 * socketpair on fd 3.  The test gets the supervisor's end in *supfd.  Header-only, for the
 * unit tests that drive a whole role process (trainer_process, submitter_forecast).
 */
#ifndef AW_TEST_ROLECHILD_H
#define AW_TEST_ROLECHILD_H

#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

static pid_t
rolechild_start(int (*role_main)(void), int *supfd)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		if (dup2(sv[1], 3) == -1)
			_exit(99);
		_exit(role_main());
	}
	close(sv[1]);
	if (pid == -1) {
		close(sv[0]);
		return -1;
	}
	*supfd = sv[0];
	return pid;
}

#endif
