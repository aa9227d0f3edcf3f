/*
 * to_stderr: 0 never, 1 every line (foreground), 2 warnings and errors (a detaching daemon
 * before it is ready: its starter shows them).
 *
 * The two log files, written by the supervisor alone:
 *   logs/worker_output.log      human: "<mark> [time] [role] LEVEL message"
 *   logs/worker_continuous.log  JSON lines: timestamp, event, message, data
 * Debug lines go only to the human log (and only with -d).  SIGHUP reopens both.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sup.h"
#include "safefs.h"
#include "util.h"

static int out_fd = -1, json_fd = -1, to_stderr;
static char *out_path, *json_path;

static const char *
mark(const char *event, enum log_level lvl)
{
	static const struct {
		const char *event, *mark;
	} m[] = {
		{ "startup", "🚀" }, { "window_open", "🔔" }, { "prediction", "🎯" },
		{ "submission", "📤" }, { "success", "✅" }, { "error", "❌" },
		{ "warning", "⚠️" }, { "info", "ℹ️" }, { "shutdown", "🛑" },
	};
	size_t i;

	if (event != NULL)
		for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
			if (strcmp(m[i].event, event) == 0)
				return m[i].mark;
	switch (lvl) {
	case LOG_LVL_DEBUG:
		return "🔍";
	case LOG_LVL_WARNING:
		return "⚠️";
	case LOG_LVL_ERROR:
		return "❌";
	default:
		return "ℹ️";
	}
}

static int
open_log(const char *path)
{
	return safe_open(path, O_WRONLY | O_CREAT | O_APPEND, 0640, NULL, NULL, 0);
}

int
logfile_open(const char *state_dir, int foreground, char *err, size_t errlen)
{
	char *dir = xasprintf("%s/logs", state_dir);
	int saved;

	to_stderr = foreground;
	if (safe_dir(dir, 0750, err, errlen) != 0) {
		free(dir);
		return -1;
	}
	free(out_path);
	free(json_path);
	out_path = xasprintf("%s/worker_output.log", dir);
	json_path = xasprintf("%s/worker_continuous.log", dir);
	free(dir);
	out_fd = open_log(out_path);
	saved = errno;
	json_fd = open_log(json_path);
	if (out_fd != -1)
		saved = errno;
	if (out_fd == -1 || json_fd == -1) {
		snprintf(err, errlen, "%s: cannot open: %s", out_fd == -1 ? out_path : json_path,
		    saved == ELOOP ? "it is a symbolic link" : saved == EINVAL ?
		    "not a regular file" : strerror(saved));
		return -1;
	}
	return 0;
}

void
logfile_reopen(void)
{
	int a, b;

	if (out_path == NULL)
		return;
	a = open_log(out_path);
	b = open_log(json_path);
	if (a == -1 || b == -1) {
		if (a != -1)
			close(a);
		if (b != -1)
			close(b);
		log_warn("reopening the log files");
		return;
	}
	close(out_fd);
	close(json_fd);
	out_fd = a;
	json_fd = b;
}

void
logfile_close(void)
{
	if (out_fd != -1)
		close(out_fd);
	if (json_fd != -1)
		close(json_fd);
	out_fd = json_fd = -1;
}

void
logfile_stderr(int on)
{
	to_stderr = on;
}

static void
write_all(int fd, const char *s, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, s, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		s += n;
		len -= (size_t)n;
	}
}

void
logfile_write(const char *role, enum log_level lvl, const char *event, const char *msg,
    json_t *data)
{
	char ts[40], *line, *esc, *js;
	const char *ev;
	json_t *o;

	iso8601_now(ts, sizeof(ts));
	esc = log_escape(msg, strlen(msg));
	line = xasprintf("%s [%s] [%s] %s %s\n", mark(event, lvl), ts, role,
	    log_level_name(lvl), esc);
	free(esc);
	if (out_fd != -1)
		write_all(out_fd, line, strlen(line));
	if (to_stderr == 1 || out_fd == -1 || (to_stderr == 2 && lvl >= LOG_LVL_WARNING))
		write_all(2, line, strlen(line));
	free(line);
	if (lvl == LOG_LVL_DEBUG || json_fd == -1)
		return;
	ev = event;
	if (ev == NULL)
		ev = lvl == LOG_LVL_ERROR ? "error" : lvl == LOG_LVL_WARNING ? "warning" : "info";
	o = json_object();
	json_object_set_new(o, "timestamp", json_string(ts));
	json_object_set_new(o, "event", json_string(ev));
	if (json_object_set_new(o, "message", json_string(msg)) == -1) {
		esc = log_escape(msg, strlen(msg));
		json_object_set_new(o, "message", json_string(esc));
		free(esc);
	}
	if (json_is_object(data))
		json_object_set(o, "data", data);
	else
		json_object_set_new(o, "data", json_object());
	if (json_object_get(json_object_get(o, "data"), "role") == NULL && data == NULL)
		json_object_set_new(json_object_get(o, "data"), "role", json_string(role));
	js = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	if (js != NULL) {
		size_t n = strlen(js);

		js = xrealloc(js, n + 2);
		js[n] = '\n';
		js[n + 1] = '\0';
		write_all(json_fd, js, n + 1);
		free(js);
	}
}
