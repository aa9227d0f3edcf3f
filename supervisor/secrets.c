/*
 * The supervisor's part in keeping secrets in the submitter (ARCHITECTURE.md, issue 15):
 *  - the supervisor is not dumpable: no process of its uid but root reads its memory or
 *    its descriptors (the sealed memfd) through /proc;
 *  - the wallets' mnemonic variables are moved into one sealed memfd, passed to the
 *    submitter alone on fd 4, and every secret variable (secretenv.h) is wiped from this
 *    process's environment, whether a wallet used it or not;
 *  - each child starts with an environment built here from an allow-list, never with
 *    the supervisor's own (allora-workerd(8), ENVIRONMENT).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config.h"
#include "secretenv.h"
#include "sup.h"
#include "util.h"

extern char **environ;

void
secrets_harden(void)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_DUMPABLE)");
}

int
secrets_seal(const struct config *conf)
{
	const char **names;
	size_t i;
	int fd = -1;

	for (i = 0; i < conf->nwallets; i++) {
		const char *name = conf->wallets[i].mnemonic_env;
		char *val;

		if (name == NULL || (val = getenv(name)) == NULL)
			continue;
		if (fd == -1) {
			fd = memfd_create("allora-mnemonics", MFD_CLOEXEC | MFD_ALLOW_SEALING);
			if (fd == -1)
				fatal("memfd_create");
		}
		if (write(fd, name, strlen(name)) == -1 || write(fd, "=", 1) == -1 ||
		    write(fd, val, strlen(val)) == -1 || write(fd, "\n", 1) == -1)
			fatal("memfd write");
	}
	if (fd != -1 && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
	    F_SEAL_SEAL) == -1)
		fatal("sealing the mnemonic memfd");
	if (fd != -1 && fd < 10) {
		/* Early in the process it would be fd 3 or 4, which child_spawn dup2()s onto:
		 * out of their way. */
		int hi = fcntl(fd, F_DUPFD_CLOEXEC, 10);

		if (hi == -1)
			fatal("moving the mnemonic memfd");
		close(fd);
		fd = hi;
	}
	/* Sealed or unused: gone from this process, and never read again on a reload. */
	names = xcalloc(conf->nwallets + 1, sizeof(*names));
	for (i = 0; i < conf->nwallets; i++)
		names[i] = conf->wallets[i].mnemonic_env;
	secretenv_scrub(names, conf->nwallets);
	free(names);
	config_dotenv_secrets(0);
	return fd;
}

/* Whether a variable NAME=value of ours goes to a child of that role. */
static int
allowed(const char *e, enum child_role role)
{
	static const char *const all[] = { "PATH", "HOME", "TZ", "LANG" };
#ifdef AW_TEST_HOOKS
	/*
	 * Test hooks the children honour (AW_TEST_CRASH: proc.c, AW_TEST_CRASH_AFTER_SIGN:
	 * submitter/broadcast.c), passed on by the test build only (README, "Test builds").
	 */
	static const char *const hooks[] = { "AW_TEST_CRASH", "AW_TEST_CRASH_AFTER_SIGN" };
#endif
#if defined(__SANITIZE_ADDRESS__)
	static const char *const san[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS" };
#endif
	const char *eq = strchr(e, '=');
	size_t n, i;

	if (eq == NULL)
		return 0;
	n = (size_t)(eq - e);
	if (secretenv_is_secret(e, n, NULL, 0))
		return 0;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strlen(all[i]) == n && memcmp(e, all[i], n) == 0)
			return 1;
	if (n > 3 && strncmp(e, "LC_", 3) == 0)
		return 1;
	if (role == ROLE_TRAINER && n == 14 && memcmp(e, "TIINGO_API_KEY", 14) == 0)
		return 1;
#ifdef AW_TEST_HOOKS
	for (i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++)
		if (strlen(hooks[i]) == n && memcmp(e, hooks[i], n) == 0)
			return 1;
#endif
#if defined(__SANITIZE_ADDRESS__)
	for (i = 0; i < sizeof(san) / sizeof(san[0]); i++)
		if (strlen(san[i]) == n && memcmp(e, san[i], n) == 0)
			return 1;
#endif
	return 0;
}

char **
secrets_child_env(enum child_role role)
{
	size_t n = 0, i, k = 0;
	char **env;
	int path = 0;

	for (i = 0; environ != NULL && environ[i] != NULL; i++)
		n++;
	env = xcalloc(n + 2, sizeof(*env));
	for (i = 0; i < n; i++) {
		if (!allowed(environ[i], role))
			continue;
		if (strncmp(environ[i], "PATH=", 5) == 0)
			path = 1;
		env[k++] = xstrdup(environ[i]);
	}
	if (!path)
		env[k++] = xstrdup("PATH=/usr/local/bin:/usr/bin:/bin");
	env[k] = NULL;
	return env;
}

void
secrets_child_env_free(char **env)
{
	size_t i;

	if (env == NULL)
		return;
	for (i = 0; env[i] != NULL; i++) {
		if (strncmp(env[i], "TIINGO_API_KEY=", 15) == 0)
			secure_clear(env[i], strlen(env[i]));
		free(env[i]);
	}
	free(env);
}
