/*
 * The window flow's ledger side (flow_int.h): a SIGNED record made durable before its
 * SIGNED_ACK, in one group commit a turn of the event loop (issue 25), with the test
 * hooks that crash around it; the replay of each topic's ledger at start (flow_init:
 * what was signed before a restart is resolved, never signed again), flow_free, and the
 * ledger state of a (topic, nonce) for the other parts of the supervisor.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/event.h>

#include "cluster.h"
#include "flow.h"
#include "flow_int.h"
#include "forecast.h"
#include "ledger.h"
#include "metrics.h"
#include "proc.h"
#include "scores.h"
#include "shadow.h"
#include "sup.h"
#include "util.h"

static struct ledger *ft_ledger(uint32_t);
#ifdef AW_TEST_HOOKS
static void test_crash_after_ledger_sign(const char *);
static void test_crash_in_group_commit(size_t);
#endif
static void signed_done(uint32_t, int64_t, uint32_t, const char *, const char *, long long,
    int);
static void signed_pending(uint32_t, int64_t, uint32_t, const char *, const char *,
    long long);

/* The signature is ours to broadcast: fsync'd to the ledger, then SIGNED_ACK. */
void
signed_commit(struct work *w, const char *txhash, const char *tx, long long seq,
    uint32_t fseq)
{
	uint32_t topic = w->topic;
	int64_t nonce = w->nonce;
	int rc;
	json_t *fields = json_pack("{s:I, s:s, s:s, s:s?}", "sequence", (json_int_t)seq,
	    "txhash", txhash, "tx", tx, "value", w->value);

	supfc_fill_signed(topic, nonce, fields);	/* issue 22 */
	rc = record(w, "signed", fields, 0);
	if (rc != 0) {
		signed_done(topic, nonce, fseq, txhash, tx, seq, 0);
		return;
	}
	/* Group commit: acknowledged once the sync at the end of this loop turn covers it. */
	signed_pending(topic, nonce, fseq, txhash, tx, seq);
}

/*
 * SIGNED records waiting for the group commit (issue 25): every SIGNED read in one turn of
 * the event loop is written at once, and one sync (ledger_commit) at the end of the turn
 * makes them all durable before any of their SIGNED_ACKs goes out.
 */
struct pending_ack {
	TAILQ_ENTRY(pending_ack) entry;
	uint32_t	 topic;
	int64_t		 nonce;
	uint32_t	 seq;
	char		*txhash, *tx;
	long long	 sequence;
};
static TAILQ_HEAD(, pending_ack) pending_acks = TAILQ_HEAD_INITIALIZER(pending_acks);
static struct event *commit_ev;

/* The record of a SIGNED is durable (ok) or not: the work and the submitter learn it. */
static void
signed_done(uint32_t topic, int64_t nonce, uint32_t fseq, const char *txhash, const char *tx,
    long long seq, int ok)
{
	struct work *w = work_find(topic, nonce);
	struct topic_rt *t = rt_of(topic, NULL);

	if (!ok)
		/* Not durable (ENOSPC, say): no broadcast for this nonce; the next window
		 * tries again. */
		log_event(LOG_LVL_ERROR, "error", json_pack("{s:I, s:I, s:s, s:s}", "topic",
		    (json_int_t)topic, "nonce", (json_int_t)nonce, "reason", "ledger_write_failed",
		    "error", ft_ledger(topic) ? ledger_error(ft_ledger(topic)) : "no ledger"),
		    "topic %u nonce %lld: the signed record could not be made durable, not "
		    "broadcasting it: %s", topic, (long long)nonce, ft_ledger(topic) ?
		    ledger_error(ft_ledger(topic)) : "no ledger");
#ifdef AW_TEST_HOOKS
	else if (getenv("AW_TEST_CRASH_AFTER_LEDGER_SIGN") != NULL)
		test_crash_after_ledger_sign(txhash);
#endif
	if (ok && w != NULL) {
		if (w->txhashes == NULL)
			w->txhashes = json_array();
		json_array_append_new(w->txhashes, json_string(txhash));
		set_str(&w->txhash, txhash);
		set_str(&w->tx, tx);
		w->sequence = seq;
		w->st = W_SIGNED;
		if (t != NULL)
			set_str(&t->last_txhash, txhash);
	}
	sup_send_child(child_by_role(ROLE_SUBMITTER), MSG_SIGNED_ACK, topic, fseq,
	    json_pack("{s:I, s:I, s:s, s:b, s:s?}", "topic", (json_int_t)topic, "nonce",
	    (json_int_t)nonce, "txhash", txhash, "ok", ok, "error",
	    ok ? NULL : "ledger write failed"));
}

static void
commit_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct ledger **ls = xcalloc(sup->ntopics, sizeof(*ls));
	struct pending_ack *p;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < sup->ntopics; i++)
		ls[i] = ft[i].ledger;
	TAILQ_FOREACH(p, &pending_acks, entry)
		n++;
#ifdef AW_TEST_HOOKS
	if (getenv("AW_TEST_CRASH_IN_GROUP_COMMIT") != NULL &&
	    (long)n >= atol(getenv("AW_TEST_CRASH_IN_GROUP_COMMIT")))
		test_crash_in_group_commit(n);
#endif
	rc = ledger_commit(ls, sup->ntopics);
	free(ls);
	while ((p = TAILQ_FIRST(&pending_acks)) != NULL) {
		TAILQ_REMOVE(&pending_acks, p, entry);
		signed_done(p->topic, p->nonce, p->seq, p->txhash, p->tx, p->sequence, rc == 0);
		free(p->txhash);
		free(p->tx);
		free(p);
	}
}

static void
signed_pending(uint32_t topic, int64_t nonce, uint32_t fseq, const char *txhash,
    const char *tx, long long seq)
{
	struct pending_ack *p = xcalloc(1, sizeof(*p));
	struct timeval now = { 0, 0 };

	p->topic = topic;
	p->nonce = nonce;
	p->seq = fseq;
	p->txhash = xstrdup(txhash);
	p->tx = xstrdup(tx);
	p->sequence = seq;
	TAILQ_INSERT_TAIL(&pending_acks, p, entry);
#ifdef AW_TEST_HOOKS
	/* Test hook: a wider gather window, so that a test gets a batch of all its windows. */
	if (getenv("AW_TEST_GROUP_COMMIT_GATHER_MS") != NULL) {
		long ms = atol(getenv("AW_TEST_GROUP_COMMIT_GATHER_MS"));

		now.tv_sec = ms / 1000;
		now.tv_usec = ms % 1000 * 1000;
	}
#endif
	if (commit_ev == NULL)
		commit_ev = evtimer_new(sup->base, commit_cb, NULL);
	if (!evtimer_pending(commit_ev, NULL))
		evtimer_add(commit_ev, &now);	/* after the other events of this turn */
}

#ifdef AW_TEST_HOOKS
/*
 * The test hooks' "once per state_dir": 1 the first time (the marker NAME is created in
 * state_dir), 0 once it is there.
 */
static int
test_crash_first(const char *name)
{
	char *marker = xasprintf("%s/%s", sup->conf->state_dir, name);
	int fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	free(marker);
	if (fd == -1)
		return 0;
	close(fd);
	return 1;
}

/*
 * Test hook (AW_TEST_CRASH_IN_GROUP_COMMIT=N): the supervisor kills itself (SIGKILL) in a
 * group commit of at least N records, after their write and before the sync and the
 * SIGNED_ACKs, once per state_dir.
 */
static void
test_crash_in_group_commit(size_t n)
{
	if (!test_crash_first(".test-crash-in-group-commit"))
		return;
	log_warnx("AW_TEST_CRASH_IN_GROUP_COMMIT: killing the supervisor in a group commit "
	    "of %zu records", n);
	kill(getpid(), SIGKILL);
}
#endif

static struct ledger *
ft_ledger(uint32_t topic)
{
	size_t i;

	return rt_of(topic, &i) != NULL ? ft[i].ledger : NULL;
}

#ifdef AW_TEST_HOOKS
/*
 * Test hook (AW_TEST_CRASH_AFTER_LEDGER_SIGN=1): the supervisor kills itself (SIGKILL)
 * right after the signed record is durable and before SIGNED_ACK, once per state_dir.
 */
static void
test_crash_after_ledger_sign(const char *txhash)
{
	if (!test_crash_first(".test-crash-after-ledger-sign"))
		return;
	log_warnx("AW_TEST_CRASH_AFTER_LEDGER_SIGN: killing the supervisor between the "
	    "signed record of %s and its broadcast", txhash);
	kill(getpid(), SIGKILL);
}
#endif

/* The topic's ledger cannot be opened or read: that topic stops, with the reason. */
static void
ledger_failed(size_t i, const char *err)
{
	set_str(&sup->topics[i].state, "failed");
	set_str(&sup->topics[i].reason, err);
	ft[i].chain_stopped = 1;
	log_event(LOG_LVL_ERROR, "error", json_pack("{s:I, s:s, s:s}", "topic",
	    (json_int_t)sup->topics[i].id, "reason", "ledger_unreadable", "error", err),
	    "topic %u stopped: its ledger cannot be used: %s", sup->topics[i].id, err);
}

void
flow_init(void)
{
	char err[512], key[32];
	const char *k;
	json_t *all, *rec;
	size_t i;
	long bad;

	ft = xcalloc(sup->ntopics, sizeof(*ft));
	for (i = 0; i < sup->ntopics; i++) {
		ft[i].known = json_object();
		ft[i].ledger = ledger_open(sup->conf->state_dir, sup->topics[i].id, err,
		    sizeof(err));
		all = NULL;
		if (ft[i].ledger != NULL &&
		    (all = ledger_replay(ft[i].ledger, &bad, err, sizeof(err))) == NULL) {
			ledger_close(ft[i].ledger);
			ft[i].ledger = NULL;
		}
		if (all == NULL) {
			/* Never serve a topic whose past we cannot read: it could sign twice. */
			ledger_failed(i, err);
			continue;
		}
		sup->topics[i].ledger_bad = bad;
		if (bad > 0)
			log_event(LOG_LVL_WARNING, "warning", json_pack("{s:I, s:s, s:i}",
			    "topic", (json_int_t)sup->topics[i].id, "file",
			    ledger_path(ft[i].ledger), "bad_lines", (int)bad),
			    "ledger %s: %ld line(s) that are not records skipped",
			    ledger_path(ft[i].ledger), bad);
		json_object_foreach(all, k, rec) {
			const char *st = json_string_value(json_object_get(rec, "state"));
			int64_t nonce = json_integer_value(json_object_get(rec, "nonce"));
			struct topic_rt *t = &sup->topics[i];

			if (nonce > t->last_nonce) {
				t->last_nonce = nonce;
				set_str(&t->last_state, st);
				set_str(&t->last_value, json_string_value(json_object_get(rec,
				    "value")));
				set_str(&t->last_source, json_string_value(json_object_get(rec,
				    "source")));
				set_str(&t->last_txhash, json_string_value(json_object_get(rec,
				    "txhash")));
			}
			scores_replay(t->id, rec);
			if (ledger_state_final(st)) {
				snprintf(key, sizeof(key), "%lld", (long long)nonce);
				json_object_set_new(ft[i].known, key, json_string(st));
				if (strcmp(st, "accepted") == 0 || strcmp(st, "scored") == 0 ||
				    strcmp(st, "rewarded") == 0)
					t->accepted++;
				continue;
			}
			if (json_is_string(json_object_get(rec, "txhash")) &&
			    json_is_string(json_object_get(rec, "tx")) && sup->conf->dry_run) {
				/* A dry run sends nothing, ever: it says what it would do. */
				snprintf(key, sizeof(key), "%lld", (long long)nonce);
				json_object_set_new(ft[i].known, key, json_string(st));
				log_event(LOG_LVL_INFO, "info", json_pack("{s:I, s:I, s:s, s:O}",
				    "topic", (json_int_t)t->id, "nonce", (json_int_t)nonce, "reason",
				    "dry_run", "txhashes", json_object_get(rec, "txhashes")),
				    "dry run: topic %u nonce %lld was signed before (tx %s, %zu "
				    "signature(s)); a real run would resolve it by hash and re-send "
				    "only its identical bytes; nothing is sent now", t->id,
				    (long long)nonce, json_string_value(json_object_get(rec,
				    "txhash")), json_array_size(json_object_get(rec, "txhashes")));
				continue;
			}
			if (json_is_string(json_object_get(rec, "txhash")) &&
			    json_is_string(json_object_get(rec, "tx"))) {
				/* Signed before the restart: resolve the same transaction. */
				struct work *w = xcalloc(1, sizeof(*w));

				w->topic = t->id;
				w->nonce = nonce;
				w->window_end = json_integer_value(json_object_get(rec,
				    "window_end"));
				if (w->window_end <= 0)
					w->window_end = -1;
				w->st = W_SIGNED;
				w->seen_ms = mono_ms();
				w->value = xstrdup(json_string_value(json_object_get(rec, "value")) ?
				    json_string_value(json_object_get(rec, "value")) : "0");
				w->txhash = xstrdup(json_string_value(json_object_get(rec, "txhash")));
				w->tx = xstrdup(json_string_value(json_object_get(rec, "tx")));
				w->sequence = json_integer_value(json_object_get(rec, "sequence"));
				w->txhashes = json_incref(json_object_get(rec, "txhashes"));
				w->confirm = 1;
				w->close_ms = w->seen_ms + 180000;
				TAILQ_INSERT_TAIL(&works, w, entry);
				snprintf(key, sizeof(key), "%lld", (long long)nonce);
				json_object_set_new(ft[i].known, key, json_string(st));
				log_info("topic %u nonce %lld was signed before a restart (tx %s); "
				    "resolving that transaction", t->id, (long long)nonce, w->txhash);
			}
		}
		json_decref(all);
	}
	competition_tick();
}

void
flow_free(void)
{
	struct pending_ack *p;
	struct work *w;
	size_t i;

	while ((w = TAILQ_FIRST(&works)) != NULL)
		work_free(w);
	shadow_free();
	while ((p = TAILQ_FIRST(&pending_acks)) != NULL) {
		/* Never acknowledged: never broadcast. */
		TAILQ_REMOVE(&pending_acks, p, entry);
		free(p->txhash);
		free(p->tx);
		free(p);
	}
	if (commit_ev != NULL)
		event_free(commit_ev);
	commit_ev = NULL;
	for (i = 0; i < sup->ntopics && ft != NULL; i++) {
		ledger_close(ft[i].ledger);
		json_decref(ft[i].known);
	}
	free(ft);
	ft = NULL;
}

const char *
flow_nonce_state(uint32_t topic, int64_t nonce)
{
	size_t i;
	char key[32];

	if (rt_of(topic, &i) == NULL)
		return NULL;
	snprintf(key, sizeof(key), "%lld", (long long)nonce);
	return json_string_value(json_object_get(ft[i].known, key));
}

int
flow_record(uint32_t topic, int64_t nonce, const char *state, json_t *fields)
{
	struct work w;

	memset(&w, 0, sizeof(w));
	w.topic = topic;
	w.nonce = nonce;
	return record(&w, state, fields, 0);
}

int
flow_note(uint32_t topic, int64_t nonce, const char *state, json_t *fields)
{
	struct ledger *l = ft_ledger(topic);

	if (l == NULL) {
		json_decref(fields);
		return -1;
	}
	return ledger_append(l, nonce, state, fields, 0);
}
