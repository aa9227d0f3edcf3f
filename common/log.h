/*
 * Logging.  One API for every process:
 *  - in a daemon child (after log_set_sink(LOG_SINK_PEER)) every line becomes an EVENT
 *    frame for the supervisor, which is the only writer of the log files;
 *  - in the supervisor the lines go to the log files (and stderr in the foreground);
 *  - in alloractl, the devnet and tests they go to stderr.
 * errno is preserved.  Never pass secrets.
 */
#ifndef AW_LOG_H
#define AW_LOG_H

#include <stdarg.h>
#include <jansson.h>

enum log_level {
	LOG_LVL_DEBUG = 0,
	LOG_LVL_INFO,
	LOG_LVL_WARNING,
	LOG_LVL_ERROR,
};

/* Process tag ("supervisor", "listener", "trainer", "submitter", "alloractl", ...). */
void	 log_init(const char *role, int debug);
void	 log_set_debug(int);
int	 log_get_debug(void);
const char *log_role(void);

/*
 * Where lines go.  The sink receives the level, the event name (NULL for plain lines:
 * the supervisor maps them to "info"/"warning"/"error"), the message and a data object
 * (may be NULL; borrowed).  Default sink: stderr "time [role] LEVEL message".
 */
typedef void (*log_sink_fn)(enum log_level, const char *event, const char *msg,
	    json_t *data, void *arg);
void	 log_set_sink(log_sink_fn, void *arg);

void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));	/* + strerror(errno) */
void	 log_errorx(const char *, ...) __attribute__((format(printf, 1, 2)));

/*
 * A structured event of the event log (worker_continuous.log): event is one of the Python
 * worker's names (startup, window_open, prediction, submission, success, error, warning, info,
 * shutdown).  data is stolen (may be NULL).
 */
void	 log_event(enum log_level, const char *event, json_t *data, const char *, ...)
	    __attribute__((format(printf, 4, 5)));

__attribute__((noreturn)) void fatal(const char *, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatalx(const char *, ...) __attribute__((format(printf, 1, 2)));

/* Copy of s with control characters and non-UTF-8 bytes escaped (\xNN); caller frees. */
char	*log_escape(const char *s, size_t len);

const char *log_level_name(enum log_level);

#endif
