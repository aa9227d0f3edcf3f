/*
 * The configuration reload of the window flow (flow.h): the new file must parse; the
 * topics it adds get their locks and ledgers, those it removes lose them, and the children
 * receive the new CONFIG frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/event.h>

#include "cluster.h"
#include "flow.h"
#include "flow_int.h"
#include "ledger.h"
#include "metrics.h"
#include "proc.h"
#include "scores.h"
#include "sup.h"
#include "util.h"

void
flow_reload(void)
{
	char err[1024];

	if (flow_reload_config(err, sizeof(err)) == -1)
		log_event(LOG_LVL_ERROR, "error", json_pack("{s:n, s:s}", "topic", "reason", err),
		    "configuration reload refused, keeping the running one: %s", err);
}

/*
 * Reload (SIGHUP or alloractl): the new configuration must parse; settings reach the
 * children in a new CONFIG frame.  Adding or removing topics needs their locks and
 * ledgers: reload_topics() below.
 */
int
flow_reload_config(char *err, size_t errlen)
{
	struct config_overrides ov;
	struct config *nc;
	size_t i;
	char what[160];
	int wchanged;

	if (sup->conf->path == NULL) {
		snprintf(err, errlen, "running from a .env file: nothing to reload");
		return -1;
	}
	memset(&ov, 0, sizeof(ov));
	ov.state_dir = sup->conf->state_dir;
	ov.run_dir = sup->conf->run_dir;
	ov.debug = sup->conf->debug;
	ov.foreground = sup->conf->foreground;
	ov.dry_run = sup->conf->dry_run;
	ov.polling_interval = sup->conf->polling_interval;
	nc = config_load(sup->conf->path, &ov, err, errlen);
	if (nc == NULL)
		return -1;
	if (strcmp(nc->instance, sup->conf->instance) != 0) {
		snprintf(err, errlen, "%s: instance cannot change while running (%s -> %s)",
		    nc->path, sup->conf->instance, nc->instance);
		config_free(nc);
		return -1;
	}
	if (reload_topics(nc, err, errlen) == -1) {
		config_free(nc);
		return -1;
	}
	wchanged = wallets_changed(sup->conf, nc, what, sizeof(what));
	config_free(sup->conf);
	sup->conf = nc;
	for (i = 0; i < NROLES; i++)
		if (sup->children[i].peer != NULL && sup->children[i].hello)
			sup_send_child(&sup->children[i], MSG_CONFIG, 0, 0, config_to_json(nc));
	if (wchanged)
		submitter_restart(what);
	scores_send_watch();	/* topics or wallets may have changed */
	log_info("configuration reloaded from %s (%zu topics)", nc->path, nc->ntopics);
	return 0;
}

/* Takes the locks and ledgers of added topics, releases those of removed ones. */
int
reload_topics(struct config *nc, char *err, size_t errlen)
{
	struct topic_rt *nt;
	struct ftopic *nf;
	size_t i, j, n = nc->ntopics;
	int rc;

	nt = xcalloc(n, sizeof(*nt));
	nf = xcalloc(n, sizeof(*nf));
	for (i = 0; i < n; i++) {
		nt[i].id = nc->topics[i].id;
		nt[i].lock_fd = -1;
		for (j = 0; j < sup->ntopics; j++)
			if (sup->topics[j].id == nt[i].id)
				break;
		if (j < sup->ntopics)
			continue;
		rc = locks_take(nc, &nt[i], 1, err, errlen);
		if (rc == 0) {
			nf[i].ledger = ledger_open(nc->state_dir, nt[i].id, err, errlen);
			if (nf[i].ledger == NULL)
				rc = 1;
		}
		if (rc != 0) {
			for (j = 0; j <= i; j++) {
				locks_release(&nt[j], 1);
				ledger_close(nf[j].ledger);
			}
			free(nt);
			free(nf);
			return -1;
		}
		nt[i].state = xstrdup("serving");
		nt[i].last_nonce = -1;
		nf[i].known = json_object();
		locks_write_pid(&nt[i], 1);
		log_info("topic %u added by the reload", nt[i].id);
	}
	/* Keep the state of topics that stay; drop the others. */
	for (j = 0; j < sup->ntopics; j++) {
		for (i = 0; i < n; i++)
			if (nt[i].id == sup->topics[j].id)
				break;
		if (i < n) {
			nt[i] = sup->topics[j];
			nf[i] = ft[j];
			continue;
		}
		{
			struct work *w, *tmp;

			TAILQ_FOREACH_SAFE(w, &works, entry, tmp)
				if (w->topic == sup->topics[j].id && w->st == W_PREDICTING)
					work_free(w);
		}
		log_info("topic %u removed by the reload", sup->topics[j].id);
		locks_release(&sup->topics[j], 1);
		ledger_close(ft[j].ledger);
		json_decref(ft[j].known);
		free(sup->topics[j].state);
		free(sup->topics[j].reason);
		free(sup->topics[j].last_state);
		free(sup->topics[j].last_value);
		free(sup->topics[j].last_source);
		free(sup->topics[j].last_txhash);
		free(sup->topics[j].loss_used);
		free(sup->topics[j].model_resolved);
		json_decref(sup->topics[j].missed);
	}
	free(sup->topics);
	free(ft);
	sup->topics = nt;
	sup->ntopics = n;
	ft = nf;
	return 0;
}
