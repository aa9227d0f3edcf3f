/*
 * Safe files and directories (issue 14): lstat checks of the directories we write in,
 * O_NOFOLLOW opens of our state files, temporary files made with O_EXCL beside their target.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "safefs.h"
#include "t.h"
#include "util.h"

static char dir[] = "/tmp/aw-safefs-XXXXXX";

static char *
p(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

T_TEST(dirs)
{
	char err[512], *a = p("a/b/c"), *l = p("link"), *w = p("wide"), *f = p("file");
	int fd;

	T_EQ_INT(safe_dir(a, 0700, err, sizeof(err)), 0);	/* created, parents too */
	T_EQ_INT(safe_dir(a, 0700, err, sizeof(err)), 0);	/* exists: fine */
	T_ASSERT(symlink(a, l) == 0);
	T_EQ_INT(safe_dir(l, 0700, err, sizeof(err)), SAFE_UNSAFE);
	T_ASSERT(strstr(err, l) != NULL && strstr(err, "symbolic link") != NULL);
	T_ASSERT(mkdir(w, 0700) == 0 && chmod(w, 0777) == 0);
	T_EQ_INT(safe_dir(w, 0700, err, sizeof(err)), SAFE_UNSAFE);
	T_ASSERT(strstr(err, "writable by others (mode 0777)") != NULL);
	T_ASSERT(chmod(w, 0770) == 0);
	T_EQ_INT(safe_dir_check(w, err, sizeof(err)), SAFE_UNSAFE);
	T_ASSERT(strstr(err, "writable by its group") != NULL);
	fd = open(f, O_WRONLY | O_CREAT, 0600);
	T_ASSERT(fd != -1);
	close(fd);
	T_EQ_INT(safe_dir(f, 0700, err, sizeof(err)), SAFE_UNSAFE);
	T_ASSERT(strstr(err, "is not a directory") != NULL);
	T_EQ_INT(mkdir_p(l, 0700), -1);			/* mkdir_p applies the check too */
	if (geteuid() == 0) {
		T_ASSERT(chmod(w, 0700) == 0 && chown(w, 65534, 65534) == 0);
		T_EQ_INT(safe_dir(w, 0700, err, sizeof(err)), SAFE_UNSAFE);
		T_ASSERT(strstr(err, "is owned by uid 65534") != NULL);
	} else
		printf("# not root: the other-owner case is in tests/integ/safe_files.sh\n");
	free(a);
	free(l);
	free(w);
	free(f);
}

T_TEST(files)
{
	char err[512], *r = p("reg"), *l = p("reg-link"), *q = p("fifo"), *buf;
	int fd, created = -1;
	size_t len;

	fd = safe_open(r, O_RDWR | O_CREAT, 0600, &created, err, sizeof(err));
	T_ASSERT(fd != -1);
	T_EQ_INT(created, 1);
	T_ASSERT(write(fd, "x\n", 2) == 2);
	T_ASSERT((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	T_ASSERT((fcntl(fd, F_GETFL) & O_NONBLOCK) == 0);
	close(fd);
	fd = safe_open(r, O_RDWR | O_CREAT, 0600, &created, err, sizeof(err));
	T_ASSERT(fd != -1);
	T_EQ_INT(created, 0);
	close(fd);
	T_ASSERT(symlink(r, l) == 0);
	errno = 0;
	T_EQ_INT(safe_open(l, O_WRONLY | O_CREAT | O_APPEND, 0600, NULL, err, sizeof(err)), -1);
	T_EQ_INT(errno, ELOOP);
	T_ASSERT(strstr(err, l) != NULL && strstr(err, "symbolic link") != NULL);
	T_ASSERT(mkfifo(q, 0600) == 0);
	errno = 0;
	T_EQ_INT(safe_open(q, O_RDONLY, 0, NULL, err, sizeof(err)), -1);	/* never blocks */
	T_EQ_INT(errno, EINVAL);
	T_ASSERT(strstr(err, "not a regular file") != NULL);
	buf = read_file_nofollow(r, 100, &len);
	T_ASSERT(buf != NULL && len == 2);
	free(buf);
	T_ASSERT(read_file_nofollow(l, 100, &len) == NULL && errno == ELOOP);
	free(r);
	free(l);
	free(q);
}

/* The temporary file is made with O_EXCL beside the target; a symbolic link planted at the
 * target's name is replaced, its own target left alone. */
T_TEST(atomic_write)
{
	char *d = p("atomic"), *t = p("atomic/prediction.json"), *v = p("victim"), *s;
	struct dirent *de;
	DIR *dd;
	int n = 0, fd;

	T_ASSERT(mkdir(d, 0700) == 0);
	fd = open(v, O_WRONLY | O_CREAT, 0600);
	T_ASSERT(fd != -1 && write(fd, "keep", 4) == 4);
	close(fd);
	T_ASSERT(symlink(v, t) == 0);
	T_EQ_INT(write_file_atomic(t, "{}", 2, 0640), 0);
	s = t_slurp(v, NULL);
	T_EQ_STR(s, "keep");
	free(s);
	s = t_slurp(t, NULL);
	T_EQ_STR(s, "{}");
	free(s);
	dd = opendir(d);
	T_ASSERT(dd != NULL);
	while ((de = readdir(dd)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(dd);
	T_EQ_INT(n, 1);		/* no temporary file left */
	free(d);
	free(t);
	free(v);
}

int
main(void)
{
	int rc;
	char *cmd;

	if (mkdtemp(dir) == NULL)
		return 1;
	T_RUN(dirs);
	T_RUN(files);
	T_RUN(atomic_write);
	rc = t_done();
	cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		rc = 1;
	free(cmd);
	return rc;
}
