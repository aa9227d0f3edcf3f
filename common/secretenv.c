/*
 * Owns the rule of which environment variables are secrets (MNEMONIC-like names and the
 * variables a wallet names) and their removal from a process's own environment block.
 * The supervisor scrubs its environment once the mnemonics are sealed for the submitter;
 * alloractl scrubs its own while it waits for the daemon it started.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "secretenv.h"
#include "util.h"

extern char **environ;

int
secretenv_is_secret(const char *name, size_t namelen, const char *const *names, size_t n)
{
	static const char word[] = "MNEMONIC";
	size_t i, wl = sizeof(word) - 1;

	for (i = 0; i + wl <= namelen; i++)
		if (strncasecmp(name + i, word, wl) == 0)
			return 1;
	for (i = 0; i < n; i++)
		if (names[i] != NULL && strlen(names[i]) == namelen &&
		    memcmp(names[i], name, namelen) == 0)
			return 1;
	return 0;
}

size_t
secretenv_scrub(const char *const *names, size_t n)
{
	size_t removed = 0, i, j;
	char *e, *eq;

	if (environ == NULL)
		return 0;
	/*
	 * On environ itself rather than with unsetenv(3), which would only drop the
	 * pointer: the text stays where it was (for the original block, where
	 * /proc/PID/environ reads it) unless it is overwritten.  An entry without '='
	 * counts by its whole text.
	 */
	for (i = 0, j = 0; (e = environ[i]) != NULL; i++) {
		eq = strchr(e, '=');
		if (secretenv_is_secret(e, eq != NULL ? (size_t)(eq - e) : strlen(e), names,
		    n)) {
			secure_clear(e, strlen(e));
			removed++;
			continue;
		}
		environ[j++] = e;
	}
	environ[j] = NULL;
	return removed;
}
