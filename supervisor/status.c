/* The status object of INTERFACES.md (`alloractl status --json`). */
#include <stdlib.h>
#include <unistd.h>

#include "cluster.h"
#include "metrics.h"
#include "forecast.h"
#include "scores.h"
#include "shadow.h"
#include "sup.h"
#include "util.h"

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

const char *
topic_state(const struct topic_rt *t)
{
	int i;

	for (i = 0; i < NROLES; i++)
		if (sup->children[i].state == CHILD_FAILED)
			return "failed";
	return t->state;
}

json_t *
status_json(void)
{
	json_t *o = json_object(), *children = json_array(), *topics = json_array();
	json_t *wallets = json_array(), *x;
	int64_t now = mono_ms();
	double wnow = wall_s();
	size_t i;

	json_object_set_new(o, "instance", json_string(sup->conf->instance));
	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(o, "version", json_string(AW_VERSION));
	json_object_set_new(o, "ready", json_boolean(sup->ready));
	json_object_set_new(o, "stopping", json_boolean(sup->stopping));
	json_object_set_new(o, "config", str_or_null(sup->conf->path));
	json_object_set_new(o, "state_dir", json_string(sup->conf->state_dir));
	json_object_set_new(o, "dry_run", json_boolean(sup->conf->dry_run));
	json_object_set_new(o, "metrics", str_or_null(metrics_bound()));
	json_object_set_new(o, "uptime_s", json_real(wnow - sup->started_wall));
	for (i = 0; i < NROLES; i++) {
		struct child *c = &sup->children[i];

		x = json_object();
		json_object_set_new(x, "role", json_string(child_role_name(c->role)));
		json_object_set_new(x, "pid", c->pid > 0 ? json_integer(c->pid) : json_null());
		json_object_set_new(x, "state", json_string(child_state_name(c->state)));
		json_object_set_new(x, "restarts", json_integer(c->restarts));
		json_object_set_new(x, "uptime_s", c->pid > 0 ?
		    json_real((double)(now - c->started_ms) / 1000.0) : json_null());
		json_object_set_new(x, "reason", str_or_null(c->reason));
		json_object_set_new(x, "backoff_ms", c->state == CHILD_BACKOFF ?
		    json_integer(c->backoff_ms) : json_null());
		json_object_set_new(x, "info", c->info ? json_incref(c->info) : json_null());
		json_array_append_new(children, x);
	}
	for (i = 0; i < sup->ntopics; i++) {
		struct topic_rt *t = &sup->topics[i];
		const struct config_topic *ct = config_topic(sup->conf, t->id);

		x = json_object();
		json_object_set_new(x, "id", json_integer(t->id));
		json_object_set_new(x, "state", json_string(topic_state(t)));
		json_object_set_new(x, "reason", str_or_null(t->reason));
		json_object_set_new(x, "wallet", str_or_null(ct ? ct->wallet : NULL));
		json_object_set_new(x, "last_nonce", t->last_nonce >= 0 ?
		    json_integer(t->last_nonce) : json_null());
		json_object_set_new(x, "last_state", str_or_null(t->last_state));
		json_object_set_new(x, "last_value", str_or_null(t->last_value));
		json_object_set_new(x, "last_source", str_or_null(t->last_source));
		json_object_set_new(x, "last_txhash", str_or_null(t->last_txhash));
		json_object_set_new(x, "accepted", json_integer(t->accepted));
		json_object_set_new(x, "ledger_bad_lines", json_integer(t->ledger_bad));
		json_object_set_new(x, "missed", t->missed ? json_deep_copy(t->missed) :
		    json_object());
		json_object_set_new(x, "seconds_since_accepted", t->last_accepted_wall > 0 ?
		    json_real(wnow - t->last_accepted_wall) : json_null());
		/* The trainer's last answer: the loss it used and what default resolved to. */
		json_object_set_new(x, "loss_method", str_or_null(t->loss_used));
		json_object_set_new(x, "model_resolved", str_or_null(t->model_resolved));
		/* The score from the chain (and the chain's loss method once it said it). */
		scores_status(t->id, x);
		shadow_status(t->id, x);	/* issue 19: running losses of shadow models */
		supfc_status(t->id, x);	/* issue 22 */
		json_array_append_new(topics, x);
	}
	for (i = 0; i < sup->nwallets; i++) {
		struct wallet_rt *w = &sup->wallets[i];

		x = json_object();
		json_object_set_new(x, "name", json_string(w->name));
		json_object_set_new(x, "address", str_or_null(w->address));
		json_object_set_new(x, "balance_uallo", str_or_null(w->balance));
		json_object_set_new(x, "sequence", w->sequence >= 0 ?
		    json_integer(w->sequence) : json_null());
		json_array_append_new(wallets, x);
	}
	json_object_set_new(o, "children", children);
	json_object_set_new(o, "topics", topics);
	json_object_set_new(o, "wallets", wallets);
	if (cluster_enabled())
		json_object_set_new(o, "cluster", cluster_status_json());
	return o;
}
