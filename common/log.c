#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static const char *log_rolename = "allora";
static int log_debug_on;
static log_sink_fn log_sink;
static void *log_sink_arg;

void
log_init(const char *role, int debug)
{
	log_rolename = role;
	log_debug_on = debug;
}

void
log_set_debug(int on)
{
	log_debug_on = on;
}

int
log_get_debug(void)
{
	return log_debug_on;
}

const char *
log_role(void)
{
	return log_rolename;
}

void
log_set_sink(log_sink_fn fn, void *arg)
{
	log_sink = fn;
	log_sink_arg = arg;
}

const char *
log_level_name(enum log_level lvl)
{
	switch (lvl) {
	case LOG_LVL_DEBUG:
		return "DEBUG";
	case LOG_LVL_INFO:
		return "INFO";
	case LOG_LVL_WARNING:
		return "WARNING";
	case LOG_LVL_ERROR:
		return "ERROR";
	}
	return "INFO";
}

static void
log_emit(enum log_level lvl, const char *event, json_t *data, const char *msg)
{
	char ts[40];

	if (lvl == LOG_LVL_DEBUG && !log_debug_on)
		return;
	if (log_sink != NULL) {
		log_sink(lvl, event, msg, data, log_sink_arg);
		return;
	}
	iso8601_now(ts, sizeof(ts));
	fprintf(stderr, "%s [%s] %s %s\n", ts, log_rolename, log_level_name(lvl), msg);
	fflush(stderr);
}

static void
log_vemit(enum log_level lvl, const char *event, json_t *data, int with_errno,
    const char *fmt, va_list ap)
{
	int saved = errno;
	char *msg, *full;

	if (lvl == LOG_LVL_DEBUG && !log_debug_on) {
		json_decref(data);
		errno = saved;
		return;
	}
	if (vasprintf(&msg, fmt, ap) == -1) {
		json_decref(data);
		errno = saved;
		return;
	}
	if (with_errno) {
		if (asprintf(&full, "%s: %s", msg, strerror(saved)) == -1)
			full = NULL;
		if (full != NULL) {
			free(msg);
			msg = full;
		}
	}
	log_emit(lvl, event, data, msg);
	free(msg);
	json_decref(data);
	errno = saved;
}

#define LOG_FN(name, lvl, err)						\
void									\
name(const char *fmt, ...)						\
{									\
	va_list ap;							\
									\
	va_start(ap, fmt);						\
	log_vemit(lvl, NULL, NULL, err, fmt, ap);			\
	va_end(ap);							\
}

LOG_FN(log_debug, LOG_LVL_DEBUG, 0)
LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_warnx, LOG_LVL_WARNING, 0)
LOG_FN(log_warn, LOG_LVL_WARNING, 1)
LOG_FN(log_errorx, LOG_LVL_ERROR, 0)

void
log_event(enum log_level lvl, const char *event, json_t *data, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(lvl, event, data, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LVL_ERROR, NULL, NULL, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LVL_ERROR, NULL, NULL, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

char *
log_escape(const char *s, size_t len)
{
	char *out = xmalloc(len * 4 + 1), *o = out;
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = p[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			*o++ = (char)c;
		else if (c == '\\') {
			*o++ = '\\';
			*o++ = '\\';
		} else
			o += sprintf(o, "\\x%02x", c);
	}
	*o = '\0';
	return out;
}
