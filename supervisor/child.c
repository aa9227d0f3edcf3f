/*
 * The child table and the restart policy (ARCHITECTURE.md):
 *  - a child that dies after at least 1 s of readiness is restarted at once;
 *  - one that dies sooner is restarted after a backoff (restart_backoff_min_ms doubling to
 *    restart_backoff_max_ms); after restart_limit such deaths in a row it is failed;
 *  - exit status 78 (EX_CONFIG) means failed at once, never restarted;
 *  - 3 missed heartbeats count as a death (the child is killed).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "flow.h"
#include "proc.h"
#include "sup.h"
#include "util.h"

extern char **environ;

static const char *role_names[NROLES] = { "listener", "trainer", "submitter" };
static const char *state_names[] = { "starting", "running", "backoff", "failed", "stopped" };

const char *
child_role_name(enum child_role r)
{
	return role_names[r];
}

const char *
child_state_name(enum child_state s)
{
	return state_names[s];
}

struct child *
child_by_role(enum child_role r)
{
	return &sup->children[r];
}

static void	child_closed(struct peer *, const char *, void *);
static void	child_msg(struct peer *, struct frame *, void *);

static void
restart_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct child *c = arg;

	if (sup->stopping || c->state != CHILD_BACKOFF)
		return;
	child_spawn(c);
}

void
child_table_init(void)
{
	int i;

	for (i = 0; i < NROLES; i++) {
		struct child *c = &sup->children[i];

		memset(c, 0, sizeof(*c));
		c->role = (enum child_role)i;
		c->state = CHILD_STOPPED;
		c->restart_ev = evtimer_new(sup->base, restart_cb, c);
	}
}

void
child_spawn(struct child *c)
{
	int sv[2];
	pid_t pid;
	sigset_t all, old;
	char *argv[4], **env;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("%s: socketpair", child_role_name(c->role));
		goto retry;
	}
	argv[0] = (char *)"allora-workerd";
	argv[1] = (char *)"-P";
	argv[2] = (char *)child_role_name(c->role);
	argv[3] = NULL;
	env = secrets_child_env(c->role);	/* never our own environment */

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0) {
		/* Only fd and signal set-up between fork and exec. */
		int i;

		for (i = 1; i < NSIG; i++)
			signal(i, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (sv[1] != 3) {
			if (dup2(sv[1], 3) == -1)
				_exit(127);
		} else
			set_cloexec(3, 0);
		if (c->role == ROLE_SUBMITTER && sup->mnemonic_fd != -1) {
			if (dup2(sup->mnemonic_fd, 4) == -1)
				_exit(127);
			closefrom_compat(5);
		} else
			closefrom_compat(4);
		{
			/* Test and debugging hook: AW_CHILD_WRAPPER="valgrind -q ..." runs every
			 * child under that command (make check VALGRIND=1). */
			const char *wrap = getenv("AW_CHILD_WRAPPER");

			if (wrap != NULL && *wrap != '\0') {
				char *wargv[32], *copy = strdup(wrap), *tok, *save = NULL;
				int n = 0;

				for (tok = strtok_r(copy, " ", &save); tok != NULL && n < 27;
				    tok = strtok_r(NULL, " ", &save))
					wargv[n++] = tok;
				wargv[n++] = (char *)sup->self_exe;
				wargv[n++] = argv[1];
				wargv[n++] = argv[2];
				wargv[n] = NULL;
				environ = env;
				execvp(wargv[0], wargv);
			}
		}
		environ = env;
		execv(sup->self_exe, argv);
		_exit(127);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	secrets_child_env_free(env);
	close(sv[1]);
	if (pid == -1) {
		log_warn("%s: fork", child_role_name(c->role));
		close(sv[0]);
		goto retry;
	}
	c->pid = pid;
	c->state = CHILD_STARTING;
	c->started_ms = mono_ms();
	c->last_ack_ms = c->started_ms;
	c->ready_ms = 0;
	c->hello = 0;
	c->peer = peer_new(sup->base, sv[0], child_msg, child_closed, c);
	log_debug("started %s (pid %ld)", child_role_name(c->role), (long)pid);
	return;
retry:
	{
		struct timeval tv = { 1, 0 };

		c->state = CHILD_BACKOFF;
		evtimer_add(c->restart_ev, &tv);
	}
}

int
sup_send_child(struct child *c, uint16_t type, uint32_t topic, uint32_t seq, json_t *payload)
{
	if (c->peer == NULL) {
		json_decref(payload);
		return -1;
	}
	return peer_send(c->peer, type, topic, seq, payload);
}

static void
child_closed(struct peer *p, const char *reason, void *arg)
{
	struct child *c = arg;

	if (strcmp(reason, "connection closed") != 0) {
		/* A protocol error: the child is not to be trusted any more. */
		log_warnx("%s (pid %ld): %s; killing it", child_role_name(c->role),
		    (long)c->pid, reason);
		if (c->pid > 0)
			kill(c->pid, SIGKILL);
	}
	peer_free(p);
	c->peer = NULL;
}

static void
child_msg(struct peer *p, struct frame *f, void *arg)
{
	struct child *c = arg;
	json_t *v;

	switch (f->type) {
	case MSG_HELLO:
		v = json_object_get(f->payload, "protocol");
		if (!json_is_integer(v) || json_integer_value(v) != AW_PROTOCOL_VERSION) {
			log_warnx("%s speaks protocol %lld, we speak %d; killing it",
			    child_role_name(c->role), (long long)json_integer_value(v),
			    AW_PROTOCOL_VERSION);
			kill(c->pid, SIGKILL);
			return;
		}
		c->hello = 1;
		sup_send_child(c, MSG_CONFIG, 0, 0, config_to_json(sup->conf));
		return;
	case MSG_HEARTBEAT_ACK:
		c->last_ack_ms = mono_ms();
		return;
	case MSG_READY:
		if (!c->hello)
			return;
		if (c->ready_ms == 0) {
			c->ready_ms = mono_ms();
			c->state = CHILD_RUNNING;
			free(c->reason);
			c->reason = NULL;
			log_debug("%s (pid %ld) is ready", child_role_name(c->role), (long)c->pid);
		}
		json_decref(c->info);
		c->info = json_incref(f->payload);
		sup_check_ready();
		flow_child_ready(c);
		return;
	default:
		sup_dispatch_child(c, f);
		return;
	}
}

static char *
describe_status(int status)
{
	if (WIFEXITED(status))
		return xasprintf("exited with status %d", WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return xasprintf("killed by signal %d%s", WTERMSIG(status),
		    WCOREDUMP(status) ? " (core dumped)" : "");
	return xasprintf("stopped (status 0x%x)", status);
}

void
child_reaped(pid_t pid, int status)
{
	struct child *c = NULL;
	struct timeval tv;
	char *how;
	int i, was_ready;
	long ms;

	for (i = 0; i < NROLES; i++)
		if (sup->children[i].pid == pid)
			c = &sup->children[i];
	if (c == NULL)
		return;
	how = describe_status(status);
	was_ready = c->ready_ms != 0 && mono_ms() - c->ready_ms >= 1000;
	if (c->peer != NULL)
		peer_drain(c->peer);	/* its last frames (an outcome, say) */
	c->pid = 0;
	if (c->peer != NULL) {
		peer_free(c->peer);
		c->peer = NULL;
	}
	if (sup->stopping) {
		log_debug("%s %s", child_role_name(c->role), how);
		c->state = CHILD_STOPPED;
		free(how);
		return;
	}
	free(c->reason);
	c->reason = xasprintf("%s %s", child_role_name(c->role), how);
	if (WIFEXITED(status) && WEXITSTATUS(status) == AW_EX_CONFIG) {
		c->state = CHILD_FAILED;
		log_event(LOG_LVL_ERROR, "error", json_pack("{s:n, s:s, s:s}", "topic",
		    "role", child_role_name(c->role), "reason", "permanent failure"),
		    "%s %s (permanent failure: configuration or key); not restarting it",
		    child_role_name(c->role), how);
		free(how);
		sup_check_ready();
		return;
	}
	if (was_ready) {
		c->early_deaths = 0;
		c->backoff_ms = 0;
		c->restarts++;
		log_event(LOG_LVL_WARNING, "warning", json_pack("{s:n, s:s, s:s}", "topic",
		    "role", child_role_name(c->role), "reason", how),
		    "%s %s; restarting it", child_role_name(c->role), how);
		free(how);
		child_spawn(c);
		return;
	}
	c->early_deaths++;
	if (c->early_deaths >= sup->conf->restart_limit) {
		c->state = CHILD_FAILED;
		free(c->reason);
		c->reason = xasprintf("%s %s; %ld early deaths in a row (crash loop)",
		    child_role_name(c->role), how, c->early_deaths);
		log_event(LOG_LVL_ERROR, "error", json_pack("{s:n, s:s, s:s}", "topic",
		    "role", child_role_name(c->role), "reason", "crash loop"),
		    "%s; not restarting it", c->reason);
		free(how);
		sup_check_ready();
		return;
	}
	ms = sup->conf->restart_backoff_min_ms;
	for (i = 1; i < c->early_deaths && ms < sup->conf->restart_backoff_max_ms; i++)
		ms *= 2;
	if (ms > sup->conf->restart_backoff_max_ms)
		ms = sup->conf->restart_backoff_max_ms;
	c->backoff_ms = ms;
	c->state = CHILD_BACKOFF;
	c->restarts++;
	log_event(LOG_LVL_WARNING, "warning", json_pack("{s:n, s:s, s:s, s:i}", "topic",
	    "role", child_role_name(c->role), "reason", how, "backoff_ms", (int)ms),
	    "%s before it was ready for 1 s; restarting it in %ld ms (%ld early deaths)",
	    c->reason, ms, c->early_deaths);
	free(how);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(c->restart_ev, &tv);
}

void
child_heartbeat_tick(void)
{
	int64_t now = mono_ms(), limit = 3 * sup->conf->heartbeat_ms;
	int i;

	for (i = 0; i < NROLES; i++) {
		struct child *c = &sup->children[i];

		if (c->pid <= 0 || c->peer == NULL)
			continue;
		if (now - c->last_ack_ms > limit) {
			log_event(LOG_LVL_WARNING, "warning", json_pack("{s:n, s:s, s:s}",
			    "topic", "role", child_role_name(c->role), "reason",
			    "missed heartbeats"), "%s (pid %ld) missed 3 heartbeats; killing it",
			    child_role_name(c->role), (long)c->pid);
			kill(c->pid, SIGKILL);
			c->last_ack_ms = now;	/* once */
			continue;
		}
		sup_send_child(c, MSG_HEARTBEAT, 0, 0, json_pack("{s:f}", "time", wall_s()));
	}
}

void
child_stop_all(void)
{
	int i;

	for (i = 0; i < NROLES; i++) {
		struct child *c = &sup->children[i];

		evtimer_del(c->restart_ev);
		if (c->pid <= 0) {
			c->state = c->state == CHILD_FAILED ? CHILD_FAILED : CHILD_STOPPED;
			continue;
		}
		if (c->peer != NULL)
			sup_send_child(c, MSG_SHUTDOWN, 0, 0, NULL);
		kill(c->pid, SIGTERM);
	}
}

int
child_all_gone(void)
{
	int i;

	for (i = 0; i < NROLES; i++)
		if (sup->children[i].pid > 0)
			return 0;
	return 1;
}
