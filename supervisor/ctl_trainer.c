/*
 * `alloractl predict` and `alloractl backtest`: their code is the trainer's (trainer/ctl_*.c)
 * and links libxgboost, which alloractl must not map (HACKING.md, "What each program links").
 * alloractl therefore replaces itself with `allora-workerd-trainer ctl ...`, found beside it
 * like the supervisor finds its children (roles.h); the exit status is the trainer's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "roles.h"
#include "util.h"

extern char **environ;

/* No variable that may hold a mnemonic goes to the trainer (it never needs a key). */
static void
drop_secret_env(void)
{
	size_t i = 0;
	char *name;

	while (environ != NULL && environ[i] != NULL) {
		const char *eq = strchr(environ[i], '=');

		if (eq != NULL && memmem(environ[i], (size_t)(eq - environ[i]), "MNEMONIC", 8) !=
		    NULL) {
			name = xstrndup(environ[i], (size_t)(eq - environ[i]));
			unsetenv(name);
			free(name);
			continue;	/* environ[i] is now the next one */
		}
		i++;
	}
}

int
ctl_via_trainer(const struct ctl_opts *o, int argc, char **argv)
{
	char path[4096], err[4400], **args;
	int n = 0, i;

	if (role_exe_path("trainer", path, sizeof(path), err, sizeof(err)) == -1) {
		fprintf(stderr, "alloractl: %s: %s\n", argv[0], err);
		return 1;
	}
	args = xcalloc((size_t)argc + 9, sizeof(*args));
	args[n++] = path;
	args[n++] = (char *)"ctl";
	if (o->config != NULL) {
		args[n++] = (char *)"--config";
		args[n++] = (char *)o->config;
	}
	if (o->state_dir != NULL) {
		args[n++] = (char *)"--state-dir";
		args[n++] = (char *)o->state_dir;
	}
	if (o->run_dir != NULL) {
		args[n++] = (char *)"--run-dir";
		args[n++] = (char *)o->run_dir;
	}
	for (i = 0; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	drop_secret_env();
	fflush(NULL);
	execv(path, args);
	fprintf(stderr, "alloractl: %s: cannot run %s: %m\n", argv[0], path);
	free(args);
	return 1;
}
