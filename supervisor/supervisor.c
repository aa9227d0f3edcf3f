/*
 * The supervisor's main loop: start the children, route their messages, answer the
 * control socket, handle signals, stop cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "cluster.h"
#include "flow.h"
#include "health.h"
#include "metrics.h"
#include "proc.h"
#include "sup.h"
#include "util.h"

struct sup *sup;

static void
sup_log_sink(enum log_level lvl, const char *event, const char *msg, json_t *data, void *arg)
{
	logfile_write("supervisor", lvl, event, msg, data);
}

static void
write_ready_fd(const char *msg)
{
	ssize_t r;

	if (sup->ready_fd == -1)
		return;
	r = write(sup->ready_fd, msg, strlen(msg));
	(void)r;
	close(sup->ready_fd);
	sup->ready_fd = -1;
}

void
sup_check_ready(void)
{
	int i, all = 1;
	char *msg;

	for (i = 0; i < NROLES; i++) {
		struct child *c = &sup->children[i];

		if (c->state == CHILD_FAILED && !sup->ready) {
			msg = xasprintf("FAIL %s\n", c->reason ? c->reason : "child failed");
			log_errorx("start failed: %s", c->reason ? c->reason : "child failed");
			if (sup->ready_fd != -1) {
				write_ready_fd(msg);
				free(msg);
				sup_shutdown("a child failed before the daemon was ready", 1);
				return;
			}
			free(msg);
			return;
		}
		if (c->ready_ms == 0)
			all = 0;
	}
	if (all && !sup->ready) {
		sup->ready = 1;
		log_event(LOG_LVL_INFO, "info", NULL, "Worker initialized: every process is ready");
		write_ready_fd("READY\n");
		notify_send("READY=1");
		notify_status();
		if (!sup->conf->foreground) {
			/* Detached: nobody reads stderr any more. */
			logfile_stderr(0);
			int fd = open("/dev/null", O_RDWR);

			if (fd != -1) {
				dup2(fd, 0);
				dup2(fd, 1);
				dup2(fd, 2);
				if (fd > 2)
					close(fd);
			}
		}
		flow_ready();
	}
}

void
sup_dispatch_child(struct child *c, struct frame *f)
{
	const char *lvl, *msg, *event;
	enum log_level l = LOG_LVL_INFO;
	json_t *data;

	switch (f->type) {
	case MSG_EVENT:
		lvl = frame_str(f, "level");
		msg = frame_str(f, "message");
		event = frame_str(f, "event");
		data = json_object_get(f->payload, "data");
		if (msg == NULL)
			return;
		if (lvl != NULL) {
			if (strcmp(lvl, "DEBUG") == 0)
				l = LOG_LVL_DEBUG;
			else if (strcmp(lvl, "WARNING") == 0)
				l = LOG_LVL_WARNING;
			else if (strcmp(lvl, "ERROR") == 0)
				l = LOG_LVL_ERROR;
		}
		if (l == LOG_LVL_DEBUG && !sup->conf->debug)
			return;
		logfile_write(child_role_name(c->role), l, event, msg,
		    json_is_object(data) ? data : NULL);
		return;
	case MSG_CHILD_STATE:
		json_decref(c->info);
		c->info = json_incref(f->payload);
		health_child_state(c, f->payload);
		return;
	default:
		flow_dispatch(c, f);
		return;
	}
}

static void
stop_timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	int i;

	for (i = 0; i < NROLES; i++) {
		struct child *c = &sup->children[i];

		if (c->pid > 0) {
			log_warnx("%s (pid %ld) did not stop in %ld ms; killing it",
			    child_role_name(c->role), (long)c->pid, sup->conf->stop_timeout_ms);
			kill(c->pid, SIGKILL);
		}
	}
}

void
sup_shutdown(const char *reason, int code)
{
	struct timeval tv;

	if (sup->stopping)
		return;
	sup->stopping = 1;
	sup->exit_code = code;
	notify_send("STOPPING=1");
	log_event(code == 0 ? LOG_LVL_INFO : LOG_LVL_ERROR, "shutdown",
	    json_pack("{s:s, s:I}", "reason", reason, "pid", (json_int_t)getpid()),
	    "Worker stopping: %s", reason);
	flow_stop();
	cluster_stop();
	control_close();
	child_stop_all();
	if (child_all_gone()) {
		event_base_loopexit(sup->base, NULL);
		return;
	}
	tv.tv_sec = sup->conf->stop_timeout_ms / 1000;
	tv.tv_usec = (sup->conf->stop_timeout_ms % 1000) * 1000;
	sup->stop_ev = evtimer_new(sup->base, stop_timeout_cb, NULL);
	evtimer_add(sup->stop_ev, &tv);
}

static void
signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	pid_t pid;
	int status;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		sup_shutdown(sig == SIGTERM ? "SIGTERM" : "SIGINT", 0);
		break;
	case SIGHUP:
		logfile_reopen();
		log_info("SIGHUP: log files reopened");
		flow_reload();
		break;
	case SIGUSR2:
		log_set_debug(!log_get_debug());
		sup->conf->debug = log_get_debug();
		log_info("SIGUSR2: debug logging %s", sup->conf->debug ? "on" : "off");
		break;
	case SIGCHLD:
		for (;;) {
			pid = waitpid(-1, &status, WNOHANG);
			if (pid == -1 && errno == EINTR)
				continue;
			if (pid <= 0)
				break;
			child_reaped(pid, status);
		}
		if (sup->stopping && child_all_gone())
			event_base_loopexit(sup->base, NULL);
		break;
	}
}

static void
heartbeat_cb(evutil_socket_t fd, short ev, void *arg)
{
	static int64_t last_status;

	if (!sup->stopping)
		child_heartbeat_tick();
	flow_tick();
	if (mono_ms() - last_status >= 10000) {
		last_status = mono_ms();
		if (sup->ready)
			notify_status();
	}
}

static void
watchdog_cb(evutil_socket_t fd, short ev, void *arg)
{
	/* Alive means the loop turns and every child answered its heartbeats. */
	notify_send("WATCHDOG=1");
}

int
supervisor_run(struct config *conf, int ready_fd)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR2 };
	char err[1024];
	struct timeval hb;
	struct event *ev = NULL;
	size_t i;
	int code;

	sup->conf = conf;
	sup->ready_fd = ready_fd;
	notify_init();
	sup->started_wall = wall_s();
	signal(SIGPIPE, SIG_IGN);
	sup->base = event_base_new();
	if (sup->base == NULL)
		fatalx("event_base_new failed");
	log_init("supervisor", conf->debug);
	if (logfile_open(conf->state_dir, conf->foreground ? 1 : ready_fd != -1 ? 2 : 0, err,
	    sizeof(err)) == -1) {
		char msg[1100];

		fprintf(stderr, "allora-workerd: %s\n", err);
		snprintf(msg, sizeof(msg), "FAIL cannot open the log files: %s\n", err);
		write_ready_fd(msg);
		return AW_EX_CONFIG;	/* the state directory is unusable: configuration-class */
	}
	log_set_sink(sup_log_sink, NULL);
	if (sup->mnemonic_fd == -1)
		sup->mnemonic_fd = secrets_seal(conf);	/* workerd.c did it before detaching */
	if (pidfile_write(sup->pid_path) == -1) {
		log_warn("%s", sup->pid_path);
		write_ready_fd("FAIL cannot write the pid file\n");
		return 1;
	}
	locks_write_pid(sup->topics, sup->ntopics);
	if (control_open(sup->sock_path, err, sizeof(err)) == -1) {
		log_errorx("%s", err);
		unlink(sup->pid_path);
		write_ready_fd("FAIL cannot open the control socket\n");
		return 1;
	}
	if (metrics_start(sup->base, conf->metrics_listen, err, sizeof(err)) == -1)
		log_event(LOG_LVL_ERROR, "error", json_pack("{s:n, s:s}", "topic", "reason", err),
		    "%s; running without metrics", err);
	else if (metrics_bound() != NULL)
		log_info("metrics on http://%s/metrics", metrics_bound());
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sup->sig_ev[i] = evsignal_new(sup->base, sigs[i], signal_cb, NULL);
		evsignal_add(sup->sig_ev[i], NULL);
	}
	hb.tv_sec = conf->heartbeat_ms / 1000;
	hb.tv_usec = (conf->heartbeat_ms % 1000) * 1000;
	sup->hb_ev = event_new(sup->base, -1, EV_PERSIST, heartbeat_cb, NULL);
	evtimer_add(sup->hb_ev, &hb);
	if (notify_watchdog_usec() > 0) {
		struct timeval wd;
		long long half = notify_watchdog_usec() / 2;

		wd.tv_sec = half / 1000000;
		wd.tv_usec = half % 1000000;
		ev = event_new(sup->base, -1, EV_PERSIST, watchdog_cb, NULL);
		evtimer_add(ev, &wd);
	}

	{
		json_t *topics = json_array();

		for (i = 0; i < conf->ntopics; i++)
			json_array_append_new(topics, json_integer(conf->topics[i].id));
		log_event(LOG_LVL_INFO, "startup", json_pack("{s:s, s:I, s:o, s:s, s:s}",
		    "version", AW_VERSION, "pid", (json_int_t)getpid(), "topics", topics,
		    "instance", conf->instance, "config", conf->path ? conf->path : ".env"),
		    "Starting Allora Worker %s (instance %s, pid %ld)", AW_VERSION,
		    conf->instance, (long)getpid());
	}
	/* libcurl's and OpenSSL's versions: the processes that use them (the supervisor
	 * links neither; it loads libcurl for [cluster] only, common/http.c). */
	log_debug("libevent %s, protocol %d", event_get_version(), AW_PROTOCOL_VERSION);
	/* The child table first: flow_init may already shut down (every competition over). */
	child_table_init();
	flow_init();
	cluster_init();
	for (i = 0; i < NROLES && !sup->stopping; i++)
		child_spawn(&sup->children[i]);

	event_base_dispatch(sup->base);

	/* Stopped: release everything. */
	code = sup->exit_code;
	control_close();
	locks_release(sup->topics, sup->ntopics);
	unlink(sup->pid_path);
	log_event(LOG_LVL_INFO, "shutdown", json_pack("{s:s, s:I}", "reason", "stopped",
	    "pid", (json_int_t)getpid()), "Worker stopped gracefully");
	cluster_free();
	flow_free();
	metrics_stop();
	logfile_close();
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		event_free(sup->sig_ev[i]);
	event_free(sup->hb_ev);
	if (sup->stop_ev != NULL)
		event_free(sup->stop_ev);
	for (i = 0; i < NROLES; i++) {
		event_free(sup->children[i].restart_ev);
		json_decref(sup->children[i].info);
		free(sup->children[i].reason);
	}
	if (ev != NULL)
		event_free(ev);
	event_base_free(sup->base);
	if (sup->mnemonic_fd != -1)
		close(sup->mnemonic_fd);
	return code;
}
