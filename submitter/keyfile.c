#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyfile.h"
#include "keys.h"

#define KEYFILE_MAX	1024

char *
keyfile_read(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 && errno == ELOOP)
		fd = open(path, O_RDONLY | O_CLOEXEC);	/* a symlink (systemd credentials) */
	if (fd == -1) {
		snprintf(err, errlen, "%s: cannot read the mnemonic file: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: mode %04o lets group or others read the mnemonic; "
		    "refused (chmod 600 %s)", path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return NULL;
	}
	buf = calloc(1, KEYFILE_MAX + 1);
	if (buf == NULL) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	(void)mlock(buf, KEYFILE_MAX + 1);
	while (len < KEYFILE_MAX) {
		n = read(fd, buf + len, KEYFILE_MAX - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len >= KEYFILE_MAX) {
		keyfile_free(buf);
		snprintf(err, errlen, "%s: too large for a mnemonic", path);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

void
keyfile_free(char *buf)
{
	if (buf == NULL)
		return;
	key_clear(buf, KEYFILE_MAX + 1);
	munlock(buf, KEYFILE_MAX + 1);
	free(buf);
}

int
keyfile_write_new(const char *path, const char *mnemonic, char *err, size_t errlen)
{
	size_t len = strlen(mnemonic);
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
		    errno == EEXIST ? " (refusing to overwrite a key file)" : "");
		return -1;
	}
	if (fchmod(fd, 0600) == -1 || write(fd, mnemonic, len) != (ssize_t)len ||
	    write(fd, "\n", 1) != 1 || fsync(fd) == -1) {
		snprintf(err, errlen, "%s: write: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}
