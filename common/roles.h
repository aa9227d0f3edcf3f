/*
 * The role programs: allora-workerd-listener, -trainer and -submitter, installed in
 * $(PREFIX)/libexec/allora-workerd/ (the build tree has them in build/libexec/allora-workerd/).
 * Each role's main.c calls role_main() with its entry point; the supervisor (and alloractl,
 * for the trainer's commands) find them with role_exe_path().
 */
#ifndef AW_ROLES_H
#define AW_ROLES_H

#include <stddef.h>

/* Entry points of the child roles, called by role_main() once checked.  Each returns the
 * process exit status (0 after a clean shutdown). */
int	 listener_main(void);
int	 trainer_main(void);
int	 submitter_main(void);

/*
 * main() of a role program: no arguments (or -V/--version, -h/--help), and fd 3 must be the
 * supervisor's channel (a socket); otherwise a clear message and exit status 2.
 */
int	 role_main(const char *role, int argc, char **argv, int (*entry)(void));

/*
 * The path of role `role`'s program, found relative to the calling program's own path
 * (/proc/self/exe, never $PATH): <dir>/libexec/allora-workerd/ when that folder exists
 * beside the program (the build tree), else <dir>/../libexec/allora-workerd/ (an
 * installation: /usr/bin -> /usr/libexec).  Returns 0 with the path in buf when that file is
 * an executable; -1 with err naming the missing or unusable file otherwise.
 */
int	 role_exe_path(const char *role, char *buf, size_t len, char *err, size_t errlen);

#endif
