/* The lines of `alloractl check` and their count (preflight.h). */
#include <stdarg.h>
#include <stdio.h>

#include "preflight.h"

static int nerr, nwarn;

void
preflight_line(const char *what, int level, const char *fmt, ...)
{
	static const char *tag[] = { "ok", "warning", "error", "skipped" };
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("%-8s %-28s %s\n", tag[level], what, msg);
	if (level == L_ERR)
		nerr++;
	else if (level == L_WARN)
		nwarn++;
}

void
preflight_reset(void)
{
	nerr = nwarn = 0;
}

int
preflight_errors(void)
{
	return nerr;
}

int
preflight_warnings(void)
{
	return nwarn;
}
