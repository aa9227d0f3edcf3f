/*
 * Secrets in a process's own environment (common/secretenv.c): which variables are
 * secret, and removing them so that neither environ nor /proc/PID/environ shows them.
 */
#ifndef AW_SECRETENV_H
#define AW_SECRETENV_H

#include <stddef.h>

/* A secret: its name holds MNEMONIC (in any case), or it is one of names[0..n-1]. */
int	 secretenv_is_secret(const char *name, size_t namelen, const char *const *names,
	    size_t n);

/*
 * Removes every secret variable from this process's environment: takes it out of
 * environ and overwrites its NAME=value text in place (the original environment block,
 * which /proc/PID/environ shows, or the string setenv(3) allocated).  Returns how many
 * were removed.
 */
size_t	 secretenv_scrub(const char *const *names, size_t n);

#endif
