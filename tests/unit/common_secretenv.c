/*
 * Secrets in the process's own environment (common/secretenv.c): which names are secret,
 * and scrubbing removes them from environ and overwrites their text in place.
 */
#include <stdlib.h>
#include <string.h>

#include "t.h"

#include "secretenv.h"

extern char **environ;

T_TEST(which_names_are_secret)
{
	static const char *const names[] = { "WALLET_WORDS" };

	T_ASSERT(secretenv_is_secret("MNEMONIC", 8, NULL, 0));
	T_ASSERT(secretenv_is_secret("OLD_mnemonic_2", 14, NULL, 0));
	T_ASSERT(!secretenv_is_secret("MNEMONI", 7, NULL, 0));
	T_ASSERT(secretenv_is_secret("WALLET_WORDS", 12, names, 1));
	T_ASSERT(!secretenv_is_secret("WALLET_WORDSX", 13, names, 1));
	T_ASSERT(!secretenv_is_secret("WALLET_WORD", 11, names, 1));
	/* Only the name counts, not a value that happens to follow it. */
	T_ASSERT(!secretenv_is_secret("PATH=MNEMONIC", 4, NULL, 0));
}

T_TEST(scrub_removes_and_overwrites)
{
	static const char *const names[] = { "WALLET_WORDS" };
	char *a, *b, *keep;
	size_t alen, blen, i;

	setenv("MY_MNEMONIC", "legal winner thank year", 1);
	setenv("WALLET_WORDS", "abandon about", 1);
	setenv("KEEP_ME", "1", 1);
	a = getenv("MY_MNEMONIC") - strlen("MY_MNEMONIC=");
	b = getenv("WALLET_WORDS") - strlen("WALLET_WORDS=");
	alen = strlen(a);
	blen = strlen(b);
	T_EQ_INT(secretenv_scrub(names, 1), 2);
	T_ASSERT(getenv("MY_MNEMONIC") == NULL);
	T_ASSERT(getenv("WALLET_WORDS") == NULL);
	keep = getenv("KEEP_ME");
	T_ASSERT(keep != NULL && strcmp(keep, "1") == 0);
	for (i = 0; i < alen; i++)
		T_ASSERT(a[i] == '\0');
	for (i = 0; i < blen; i++)
		T_ASSERT(b[i] == '\0');
	for (i = 0; environ[i] != NULL; i++)
		T_ASSERT(environ[i][0] != '\0');
	T_EQ_INT(secretenv_scrub(names, 1), 0);
}

int
main(void)
{
	T_RUN(which_names_are_secret);
	T_RUN(scrub_removes_and_overwrites);
	return t_done();
}
