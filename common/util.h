/* Small utilities shared by every process. */
#ifndef AW_UTIL_H
#define AW_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define AW_EX_CONFIG	78	/* child: permanent failure (bad configuration, key refused) */

/* Allocation that aborts on out-of-memory. */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Formats into err (when not NULL) and returns -1: the "return errorf(err, errlen, ...)" idiom. */
int	 errorf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Time: monotonic milliseconds / seconds for timers, wall clock only for logs. */
int64_t	 mono_ms(void);
double	 mono_s(void);
double	 wall_s(void);
/* "2026-11-28T13:14:15.123456Z" for now (buf >= 32). */
char	*iso8601_now(char *buf, size_t len);
/* The same for a given time (seconds since the epoch, fractional). */
char	*iso8601(double t, char *buf, size_t len);
/* Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM)" or "YYYY-MM-DD"; returns -1 on error. */
int	 parse_iso8601(const char *, double *out);

/* Creates a directory and its parents with mode (existing ones are fine); the directory
 * itself must then pass safe_dir_check (safefs.h), else -1 (ELOOP, ENOTDIR or EPERM). */
int	 mkdir_p(const char *path, mode_t mode);
/* Writes data to path via a temporary file (O_EXCL, same directory), fsync, rename and
 * fsync of the directory. */
int	 write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* Reads a whole file (NUL-terminated, max bytes); NULL with errno on failure. */
char	*read_file(const char *path, size_t max, size_t *lenp);
/* The same for our state files (cache): opened with safe_open, so never through a symbolic
 * link and only a regular file (ELOOP, EINVAL). */
char	*read_file_nofollow(const char *path, size_t max, size_t *lenp);
/* Directory part of a path (caller frees). */
char	*path_dirname(const char *path);
/* path if absolute, else base_dir/path (caller frees). */
char	*path_resolve(const char *base_dir, const char *path);

/* Hex (lower case) and base64 (standard, padded). Decoders return -1 on bad input. */
char	*hex_encode(const void *, size_t);
int	 hex_decode(const char *, unsigned char **out, size_t *outlen);
char	*base64_encode(const void *, size_t);
int	 base64_decode(const char *, size_t, unsigned char **out, size_t *outlen);

/* Strict number parsing: whole string, range checked; return -1 on error. */
int	 parse_long(const char *, long min, long max, long *out);
/* Topic ids are 32 bits (ARCHITECTURE.md): 1 to TOPIC_ID_MAX. */
#define TOPIC_ID_MAX	4294967295ULL
int	 parse_topic_id(const char *, uint32_t *out, char *err, size_t errlen);
/* --topic of a command-line tool: on a bad id prints "PROG: --topic: why"; -1. */
int	 topic_arg(const char *prog, const char *v, uint32_t *out);
int	 parse_double(const char *, double *out);

/* Closes every fd >= lowfd. */
void	 closefrom_compat(int lowfd);
/* Sets FD_CLOEXEC / O_NONBLOCK. */
int	 set_cloexec(int fd, int on);
int	 set_nonblock(int fd, int on);

/* Clears memory that held a secret (not optimised away). */
void	 secure_clear(void *, size_t);

#endif
