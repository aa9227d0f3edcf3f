/*
 * The control socket (run_dir/<instance>.sock, mode 0600): alloractl's way in.  Peers of
 * another uid (root excepted) are refused; a malformed frame drops that connection only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "flow.h"
#include "proc.h"
#include "sup.h"
#include "util.h"

#define CTL_MAX_CONN	16

static int nconn;
static struct peer *conns[CTL_MAX_CONN];

static void
ctl_closed(struct peer *p, const char *reason, void *arg)
{
	int i;

	if (strcmp(reason, "connection closed") != 0)
		log_warnx("control connection dropped: %s", reason);
	for (i = 0; i < CTL_MAX_CONN; i++)
		if (conns[i] == p) {
			conns[i] = NULL;
			nconn--;
		}
	peer_free(p);
}

static void
ctl_msg(struct peer *p, struct frame *f, void *arg)
{
	char err[1024];

	switch (f->type) {
	case MSG_STATUS:
		peer_send(p, MSG_STATUS_REPLY, 0, f->seq, status_json());
		return;
	case MSG_STOP:
		peer_send(p, MSG_STOP_REPLY, 0, f->seq, json_pack("{s:b, s:I}", "ok", 1,
		    "pid", (json_int_t)getpid()));
		sup_shutdown("stop requested by alloractl", 0);
		return;
	case MSG_RELOAD:
		if (flow_reload_config(err, sizeof(err)) == 0)
			peer_send(p, MSG_RELOAD_REPLY, 0, f->seq, json_pack("{s:b}", "ok", 1));
		else
			peer_send(p, MSG_RELOAD_REPLY, 0, f->seq, json_pack("{s:b, s:s}", "ok", 0,
			    "error", err));
		return;
	default:
		log_warnx("control connection sent %s, which it may not; dropping it",
		    msg_type_name(f->type));
		peer_send(p, MSG_ERROR, 0, f->seq, json_pack("{s:s}", "error",
		    "message not allowed on the control socket"));
		ctl_closed(p, "connection closed", NULL);
		return;
	}
}

static void
ctl_accept(evutil_socket_t lfd, short ev, void *arg)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd, i;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("control socket: accept");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control socket: SO_PEERCRED");
		close(fd);
		return;
	}
	if (cred.uid != geteuid() && cred.uid != 0) {
		log_warnx("control socket: refused a connection from uid %ld (pid %ld)",
		    (long)cred.uid, (long)cred.pid);
		close(fd);
		return;
	}
	if (nconn >= CTL_MAX_CONN) {
		log_warnx("control socket: too many connections; refusing pid %ld",
		    (long)cred.pid);
		close(fd);
		return;
	}
	for (i = 0; i < CTL_MAX_CONN; i++)
		if (conns[i] == NULL)
			break;
	conns[i] = peer_new(sup->base, fd, ctl_msg, ctl_closed, NULL);
	nconn++;
}

int
control_open(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: control socket path too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		snprintf(err, errlen, "control socket: %s", strerror(errno));
		return -1;
	}
	/* A stale socket of a dead daemon (the pid file check ran first). */
	unlink(path);
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		snprintf(err, errlen, "%s: bind: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	chmod(path, 0600);
	if (listen(fd, 16) == -1) {
		snprintf(err, errlen, "%s: listen: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	sup->ctl_fd = fd;
	sup->ctl_ev = event_new(sup->base, fd, EV_READ | EV_PERSIST, ctl_accept, NULL);
	event_add(sup->ctl_ev, NULL);
	return 0;
}

void
control_close(void)
{
	if (sup->ctl_ev != NULL) {
		event_free(sup->ctl_ev);
		sup->ctl_ev = NULL;
	}
	if (sup->ctl_fd != -1) {
		close(sup->ctl_fd);
		sup->ctl_fd = -1;
		unlink(sup->sock_path);
	}
}
