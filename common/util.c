#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "log.h"
#include "safefs.h"
#include "util.h"

void *
xmalloc(size_t n)
{
	void *p = malloc(n == 0 ? 1 : n);

	if (p == NULL)
		fatalx("out of memory (%zu bytes)", n);
	return p;
}

void *
xcalloc(size_t n, size_t m)
{
	void *p = calloc(n == 0 ? 1 : n, m == 0 ? 1 : m);

	if (p == NULL)
		fatalx("out of memory");
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n == 0 ? 1 : n);

	if (q == NULL)
		fatalx("out of memory (%zu bytes)", n);
	return q;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatalx("out of memory");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		fatalx("out of memory");
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	return s;
}

int
errorf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double
wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

char *
iso8601(double t, char *buf, size_t len)
{
	time_t sec = (time_t)floor(t);
	long usec = (long)((t - (double)sec) * 1e6);
	struct tm tm;

	if (usec < 0)
		usec = 0;
	if (usec > 999999)
		usec = 999999;
	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
	return buf;
}

char *
iso8601_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ts.tv_nsec / 1000);
	return buf;
}

int
parse_iso8601(const char *s, double *out)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0, oh, om;
	double frac = 0;
	const char *p;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -1;
	p = s + n;
	if (*p == 'T' || *p == ' ') {
		if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3 || n != 8)
			return -1;
		p += 1 + n;
		if (*p == '.') {
			double scale = 0.1;

			p++;
			if (!isdigit((unsigned char)*p))
				return -1;
			while (isdigit((unsigned char)*p)) {
				frac += (*p - '0') * scale;
				scale /= 10;
				p++;
			}
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (*p == 'Z')
		p++;
	else if (*p == '+' || *p == '-') {
		int sign = *p == '+' ? 1 : -1;

		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5)
			return -1;
		t -= sign * (oh * 3600 + om * 60);
		p += 1 + n;
	}
	if (*p != '\0')
		return -1;
	*out = (double)t + frac;
	return 0;
}

int
mkdir_p(const char *path, mode_t mode)
{
	return safe_dir(path, mode, NULL, 0) == 0 ? 0 : -1;
}

int
write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	/* The temporary name is made with O_EXCL (mkostemp) in the directory it is renamed
	 * into, so nobody can plant it in advance. */
	char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	const char *p = data;
	int fd, saved;
	ssize_t n;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd == -1)
		goto fail;
	if (fchmod(fd, mode) == -1)
		goto fail_fd;
	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto fail_fd;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail_fd;
	if (close(fd) == -1)
		goto fail_unlink;
	if (rename(tmp, path) == -1)
		goto fail_unlink;
	free(tmp);
	fsync_parent(path);	/* the rename itself is durable too */
	return 0;
fail_fd:
	saved = errno;
	close(fd);
	errno = saved;
fail_unlink:
	saved = errno;
	unlink(tmp);
	errno = saved;
fail:
	saved = errno;
	free(tmp);
	errno = saved;
	return -1;
}

char *
read_file(const char *path, size_t max, size_t *lenp)
{
	int fd, saved;
	size_t cap = 4096, len = 0;
	char *buf;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	buf = xmalloc(cap + 1);
	for (;;) {
		if (len == cap) {
			if (cap >= max) {
				free(buf);
				close(fd);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			saved = errno;
			free(buf);
			close(fd);
			errno = saved;
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			free(buf);
			close(fd);
			errno = EFBIG;
			return NULL;
		}
	}
	close(fd);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

char *
read_file_nofollow(const char *path, size_t max, size_t *lenp)
{
	char proc[64], *buf;
	int fd = safe_open(path, O_RDONLY, 0, NULL, NULL, 0), saved;

	if (fd == -1)
		return NULL;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	buf = read_file(proc, max, lenp);	/* the file just checked, not the name again */
	saved = errno;
	close(fd);
	errno = saved;
	return buf;
}

char *
path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

char *
path_resolve(const char *base_dir, const char *path)
{
	if (path[0] == '/' || base_dir == NULL)
		return xstrdup(path);
	if (path[0] == '~' && path[1] == '/' && getenv("HOME") != NULL)
		return xasprintf("%s%s", getenv("HOME"), path + 1);
	return xasprintf("%s/%s", base_dir, path);
}

char *
hex_encode(const void *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = data;
	char *s = xmalloc(len * 2 + 1);
	size_t i;

	for (i = 0; i < len; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * len] = '\0';
	return s;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hex_decode(const char *s, unsigned char **out, size_t *outlen)
{
	size_t len = strlen(s), i;
	unsigned char *buf;
	int hi, lo;

	if (len % 2 != 0)
		return -1;
	buf = xmalloc(len / 2 + 1);
	for (i = 0; i < len / 2; i++) {
		hi = hexval((unsigned char)s[2 * i]);
		lo = hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(buf);
			return -1;
		}
		buf[i] = (unsigned char)(hi << 4 | lo);
	}
	*out = buf;
	*outlen = len / 2;
	return 0;
}

char *
base64_encode(const void *data, size_t len)
{
	char *s = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)s, data, (int)len);
	return s;
}

int
base64_decode(const char *s, size_t len, unsigned char **out, size_t *outlen)
{
	unsigned char *buf;
	size_t pad = 0, i;
	int n;

	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len % 4 != 0 || len > INT_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(isalnum(c) || c == '+' || c == '/' || (c == '=' && i >= len - 2)))
			return -1;
	}
	if (len >= 1 && s[len - 1] == '=')
		pad++;
	if (len >= 2 && s[len - 2] == '=')
		pad++;
	buf = xmalloc(len / 4 * 3 + 1);
	n = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len);
	if (n < 0 || (size_t)n < pad) {
		free(buf);
		return -1;
	}
	*out = buf;
	*outlen = (size_t)n - pad;
	return 0;
}

int
parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * A topic id: a decimal number from 1 to TOPIC_ID_MAX. On failure err says which rule the text
 * broke, naming the limit; the result is -1 for text that is no number at all and -2 for a
 * number out of range (0, or above the limit), so a caller may word the first case its own way.
 */
int
parse_topic_id(const char *s, uint32_t *out, char *err, size_t errlen)
{
	const char *q;
	char *end;
	unsigned long long v;

	if (s == NULL || *s == '\0') {
		snprintf(err, errlen, "a topic id is required");
		return -1;
	}
	for (q = s; *q != '\0'; q++)
		if (!isdigit((unsigned char)*q)) {
			snprintf(err, errlen, "\"%s\" is not a topic id (a number from 1 to %llu)",
			    s, TOPIC_ID_MAX);
			return -1;
		}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE || v > TOPIC_ID_MAX) {
		snprintf(err, errlen, "topic id %s is above the limit %llu (topic ids are 32 bits)",
		    s, TOPIC_ID_MAX);
		return -2;
	}
	if (v == 0) {
		snprintf(err, errlen, "topic id 0 is not a topic (ids start at 1)");
		return -2;
	}
	*out = (uint32_t)v;
	return 0;
}

int
topic_arg(const char *prog, const char *v, uint32_t *out)
{
	char why[128];

	if (parse_topic_id(v, out, why, sizeof(why)) == 0)
		return 0;
	fprintf(stderr, "%s: --topic: %s\n", prog, why);
	return -1;
}

int
parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

void
closefrom_compat(int lowfd)
{
	DIR *d;
	struct dirent *de;
	long fd;
	int dfd;

	d = opendir("/proc/self/fd");
	if (d == NULL) {
		for (fd = lowfd; fd < 1024; fd++)
			close((int)fd);
		return;
	}
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (parse_long(de->d_name, 0, INT_MAX, &fd) == -1)
			continue;
		if (fd >= lowfd && fd != dfd)
			close((int)fd);
	}
	closedir(d);
}

int
set_cloexec(int fd, int on)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl == -1)
		return -1;
	fl = on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC;
	return fcntl(fd, F_SETFD, fl);
}

int
set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return -1;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl);
}

void
secure_clear(void *p, size_t n)
{
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, n);
}
