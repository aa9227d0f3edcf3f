/*
 * Owns where the role programs live and what their main() accepts (roles.h): the one place
 * that knows the libexec layout, used by the supervisor and by alloractl.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "roles.h"

#define ROLE_DIR	"libexec/allora-workerd"

int
role_exe_path(const char *role, char *buf, size_t len, char *err, size_t errlen)
{
	char self[PATH_MAX], dir[PATH_MAX + 64];
	struct stat st;
	ssize_t n;
	char *slash;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		snprintf(err, errlen, "cannot find this program's own path (/proc/self/exe: %s), "
		    "so not the %s program beside it", strerror(errno), role);
		return -1;
	}
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash == NULL) {
		snprintf(err, errlen, "/proc/self/exe is not a path: %s", self);
		return -1;
	}
	*slash = '\0';
	snprintf(dir, sizeof(dir), "%s/%s", self, ROLE_DIR);
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		slash = strrchr(self, '/');
		if (slash != NULL)
			*slash = '\0';
		snprintf(dir, sizeof(dir), "%s/%s", slash == self ? "" : self, ROLE_DIR);
	}
	if ((size_t)snprintf(buf, len, "%s/allora-workerd-%s", dir, role) >= len) {
		snprintf(err, errlen, "the path of the %s program is too long", role);
		return -1;
	}
	if (stat(buf, &st) == -1) {
		snprintf(err, errlen, "the %s program %s is missing (%s); it is installed with "
		    "allora-workerd, in %s relative to it", role, buf, strerror(errno), ROLE_DIR);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || access(buf, X_OK) == -1) {
		snprintf(err, errlen, "the %s program %s is not an executable file", role, buf);
		return -1;
	}
	return 0;
}

int
role_main(const char *role, int argc, char **argv, int (*entry)(void))
{
	struct stat st;

	if (argc == 2 && (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)) {
		printf("allora-workerd-%s %s%s\n", role, AW_VERSION,
#ifdef AW_TEST_HOOKS
		    " (test build: test hooks enabled)"
#else
		    ""
#endif
		    );
		return 0;
	}
	if (argc != 1 || fstat(3, &st) == -1 || !S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "allora-workerd-%s: this program is one of allora-workerd's "
		    "processes and is started by it (fd 3 is its channel to the supervisor); it "
		    "takes no arguments. See allora-workerd(8).\n", role);
		return 2;
	}
	return entry();
}
