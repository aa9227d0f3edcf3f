/*
 * predictor_user: the user of exec: predictors (preduser.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "preduser.h"
#include "util.h"

#define CAP_SETGID_BIT	6
#define CAP_SETUID_BIT	7

int
pred_user_lookup(const char *name, struct pred_user *u, char *err, size_t errlen)
{
	struct passwd *pw;
	int n = 0;

	memset(u, 0, sizeof(*u));
	errno = 0;
	pw = getpwnam(name);
	if (pw == NULL) {
		snprintf(err, errlen, "predictor_user = %s: no such user%s%s", name,
		    errno != 0 ? ": " : "", errno != 0 ? strerror(errno) : "");
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "predictor_user = %s: that is root; name an unprivileged user "
		    "of its own", name);
		return -1;
	}
	u->name = xstrdup(name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	getgrouplist(name, pw->pw_gid, NULL, &n);
	if (n < 1)
		n = 1;
	u->groups = xcalloc((size_t)n, sizeof(gid_t));
	if (getgrouplist(name, pw->pw_gid, u->groups, &n) == -1 || n < 1) {
		u->groups[0] = pw->pw_gid;
		n = 1;
	}
	u->ngroups = n;
	return 0;
}

void
pred_user_free(struct pred_user *u)
{
	free(u->name);
	free(u->groups);
	memset(u, 0, sizeof(*u));
}

int
pred_user_privileged(void)
{
	char line[256];
	unsigned long long eff = 0;
	FILE *fp;

	if (geteuid() == 0)
		return 1;
	fp = fopen("/proc/self/status", "r");
	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "CapEff:", 7) == 0)
			eff = strtoull(line + 7, NULL, 16);
	fclose(fp);
	return (eff >> CAP_SETUID_BIT & 1) && (eff >> CAP_SETGID_BIT & 1);
}

static int
in_groups(const struct pred_user *u, gid_t g)
{
	int i;

	for (i = 0; i < u->ngroups; i++)
		if (u->groups[i] == g)
			return 1;
	return u->gid == g;
}

int
pred_user_check(const struct config *c, char *err, size_t errlen)
{
	struct pred_user u;
	struct stat st;
	const char *why = NULL;

	if (c->predictor_user == NULL)
		return 0;
	if (pred_user_lookup(c->predictor_user, &u, err, errlen) == -1)
		return -1;
	if (u.uid == geteuid()) {
		snprintf(err, errlen, "predictor_user = %s is the daemon's own user: name another "
		    "one (the point is that predictors cannot reach the daemon's files)", u.name);
		goto fail;
	}
	if (!pred_user_privileged()) {
		snprintf(err, errlen, "predictor_user = %s: running predictors as another user needs "
		    "root or the capabilities CAP_SETUID and CAP_SETGID, which this daemon (uid %ld) "
		    "does not have; run it as root, or grant them (systemd: AmbientCapabilities= "
		    "and CapabilityBoundingSet=CAP_SETUID CAP_SETGID, see allora-workerd(8)), or "
		    "remove predictor_user", u.name, (long)geteuid());
		goto fail;
	}
	if (stat(c->state_dir, &st) == 0) {
		if (st.st_uid == u.uid)
			why = "it owns it";
		else if ((st.st_mode & S_IXGRP) && in_groups(&u, st.st_gid))
			why = "it is in the directory's group";
		else if (st.st_mode & S_IXOTH)
			why = "the directory is open to others";
		if (why != NULL) {
			snprintf(err, errlen, "predictor_user = %s could reach state_dir %s (mode %04o: "
			    "%s); close it to that user (for example chmod o-rwx %s)", u.name,
			    c->state_dir, (unsigned)(st.st_mode & 07777), why, c->state_dir);
			goto fail;
		}
	}
	pred_user_free(&u);
	return 0;
fail:
	pred_user_free(&u);
	return -1;
}
