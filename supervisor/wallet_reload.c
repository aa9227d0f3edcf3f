/*
 * A reload that changes the wallet set restarts the submitter (issue 13): the submitter
 * loads its keys once, after exec, so new or switched wallets need a new one.  The ledger
 * promise holds across it: every signed transaction is in the ledger, and the successor
 * resolves it by hash (flow_child_ready re-sends the work), never signing it anew.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "flow.h"
#include "sup.h"
#include "util.h"

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Do the two configurations give the submitter different wallets?  WHAT says which. */
int
wallets_changed(const struct config *a, const struct config *b, char *what, size_t len)
{
	size_t i;
	const struct config_wallet *x, *y;

	for (i = 0; i < b->nwallets; i++) {
		y = &b->wallets[i];
		x = config_wallet(a, y->name);
		if (x == NULL) {
			snprintf(what, len, "wallet %s added", y->name);
			return 1;
		}
		if (!same_str(x->mnemonic_file, y->mnemonic_file) ||
		    !same_str(x->mnemonic_env, y->mnemonic_env) ||
		    !same_str(x->mnemonic_credential, y->mnemonic_credential) ||
		    !same_str(x->hd_path, y->hd_path) ||
		    !same_str(x->expect_address, y->expect_address)) {
			snprintf(what, len, "wallet %s changed", y->name);
			return 1;
		}
	}
	for (i = 0; i < a->nwallets; i++)
		if (config_wallet(b, a->wallets[i].name) == NULL) {
			snprintf(what, len, "wallet %s removed", a->wallets[i].name);
			return 1;
		}
	/* A topic switched to another (already loaded) wallet needs no new keys. */
	return 0;
}

static pid_t restart_pid;
static struct event *restart_kill_ev;

static void
restart_kill_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct child *c = child_by_role(ROLE_SUBMITTER);

	if (restart_pid > 0 && c->pid == restart_pid) {
		log_warnx("submitter (pid %ld) still running %ld ms after the restart was asked; "
		    "killing it", (long)restart_pid, sup->conf->stop_timeout_ms);
		kill(restart_pid, SIGKILL);
	}
	restart_pid = 0;
}

/* Ends the running submitter; the restart policy starts a new one with sup->conf. */
void
submitter_restart(const char *why)
{
	struct child *c = child_by_role(ROLE_SUBMITTER);
	struct timeval tv;

	if (c->pid <= 0) {
		log_info("%s; the submitter will load the new wallets when it starts", why);
		return;
	}
	log_event(LOG_LVL_INFO, "info", json_pack("{s:n, s:s, s:I}", "topic", "reason", why,
	    "pid", (json_int_t)c->pid), "%s: restarting the submitter (pid %ld) so that it "
	    "loads the new wallets; transactions it signed are resolved by its successor",
	    why, (long)c->pid);
	restart_pid = c->pid;
	kill(c->pid, SIGTERM);
	if (restart_kill_ev == NULL)
		restart_kill_ev = evtimer_new(sup->base, restart_kill_cb, NULL);
	tv.tv_sec = sup->conf->stop_timeout_ms / 1000;
	tv.tv_usec = (sup->conf->stop_timeout_ms % 1000) * 1000;
	evtimer_add(restart_kill_ev, &tv);
}
