/*
 * systemd readiness protocol (Type=notify) without libsystemd: datagrams to
 * $NOTIFY_SOCKET.  READY=1 when every child is ready, STATUS= with the topics' last
 * accepted nonce, STOPPING=1, WATCHDOG=1 every half $WATCHDOG_USEC.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sup.h"
#include "util.h"

static char *notify_path;
static long long watchdog_usec;

void
notify_init(void)
{
	const char *s = getenv("NOTIFY_SOCKET"), *w = getenv("WATCHDOG_USEC");
	const char *wp = getenv("WATCHDOG_PID");

	if (s != NULL && (*s == '/' || *s == '@'))
		notify_path = xstrdup(s);
	if (w != NULL && (wp == NULL || atol(wp) == (long)getpid()))
		watchdog_usec = atoll(w);
	/* The children are not the service's main process. */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

long long
notify_watchdog_usec(void)
{
	return notify_path != NULL ? watchdog_usec : 0;
}

void
notify_send(const char *msg)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	if (notify_path == NULL)
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(notify_path) >= sizeof(sun.sun_path))
		return;
	memcpy(sun.sun_path, notify_path, strlen(notify_path));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(notify_path));
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';	/* abstract namespace */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sun, len) == -1)
		log_debug("sd_notify: %s", strerror(errno));
	close(fd);
}

/* STATUS= line: per topic its state and last accepted nonce. */
void
notify_status(void)
{
	char buf[1024];
	size_t off, i;

	if (notify_path == NULL)
		return;
	off = (size_t)snprintf(buf, sizeof(buf), "STATUS=");
	for (i = 0; i < sup->ntopics && off < sizeof(buf); i++) {
		struct topic_rt *t = &sup->topics[i];

		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%stopic %u %s, %ld accepted%s",
		    i ? "; " : "", t->id, topic_state(t), t->accepted,
		    t->last_accepted_wall > 0 ? "" : " (none yet)");
	}
	notify_send(buf);
}
