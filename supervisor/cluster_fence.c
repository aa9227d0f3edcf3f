/*
 * The cluster's per-transaction protocol (supervisor/cluster.c owns the lease and the
 * leadership): before a signature a transaction that checks that our lease still holds
 * the wallet's leader key and reads the nonce's key (cluster_presign); before a broadcast
 * one that writes the signed transaction under the nonce's key, only while our lease holds
 * the leader key and nothing else is recorded there, or swaps the record for the
 * replacement of a transaction the chain refused at CheckTx (cluster_fence).  A failed
 * fence costs the leadership at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "cluster_int.h"
#include "etcd.h"
#include "sup.h"
#include "util.h"

/* ---- presign and fence ---- */

struct fcall {
	uint32_t	 topic;
	int64_t		 nonce;
	struct cwallet	*w;
	char		*nkey;		/* the nonce key */
	char		*txhash, *tx, *prev;
	long long	 seq;
	int		 second;	/* the replacement transaction */
	cluster_cb	 cb;
	void		*arg;
};

static void
fcall_free(struct fcall *f)
{
	free(f->nkey);
	free(f->txhash);
	free(f->tx);
	free(f->prev);
	free(f);
}

static struct fcall *
fcall_new(uint32_t topic, int64_t nonce, struct cwallet *w, cluster_cb cb, void *arg)
{
	struct fcall *f = xcalloc(1, sizeof(*f));

	f->topic = topic;
	f->nonce = nonce;
	f->w = w;
	f->nkey = xasprintf("%s%u/%lld", w->nonce_prefix, topic, (long long)nonce);
	f->cb = cb;
	f->arg = arg;
	return f;
}

/* etcd did not answer: said, and the caller told (f is freed); else etcd answered. */
static int
fcall_unanswered(struct fcall *f, json_t *reply, const char *err)
{
	if (reply != NULL) {
		etcd_answered();
		return 0;
	}
	etcd_failed(err);
	f->cb(f->topic, f->nonce, CL_UNAVAILABLE, NULL, err, f->arg);
	fcall_free(f);
	return 1;
}

static json_t *
rec_of(json_t *kv)
{
	char *v = kv_value(kv);
	json_t *o = v != NULL ? json_loads(v, 0, NULL) : NULL;

	free(v);
	if (!json_is_string(json_object_get(o, "txhash")) ||
	    !json_is_string(json_object_get(o, "tx"))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Not the leader: says so once, and answers the caller. */
static void
fenced(struct fcall *f, json_t *reply, size_t leader_resp, const char *what)
{
	json_t *kv = txn_kv(reply, leader_resp);
	char *h = kv != NULL ? holder_name(kv) : NULL;
	char why[256];

	snprintf(why, sizeof(why), "fencing transaction failed before %s: our lease does not "
	    "hold the leader key of wallet %s (%s%s)", what, f->w->name,
	    h ? "held by " : "nobody holds it", h ? h : "");
	log_event(LOG_LVL_WARNING, "warning", json_pack("{s:I, s:I, s:s, s:s, s:s?}", "topic",
	    (json_int_t)f->topic, "nonce", (json_int_t)f->nonce, "reason", "fenced", "wallet",
	    f->w->name, "leader", h), "topic %u nonce %lld: %s; signing nothing", f->topic,
	    (long long)f->nonce, why);
	if (f->w->leader)
		leader_is(f->w, h, 0, "fencing transaction failed");
	free(h);
	f->cb(f->topic, f->nonce, CL_NOT_LEADER, NULL, why, f->arg);
}

static void
presign_done(json_t *reply, const char *err, void *arg)
{
	struct fcall *f = arg;
	json_t *kv, *rec;

	if (fcall_unanswered(f, reply, err))
		return;
	if (!json_is_true(json_object_get(reply, "succeeded"))) {
		fenced(f, reply, 0, "signing");
		fcall_free(f);
		return;
	}
	kv = txn_kv(reply, 0);
	rec = kv != NULL ? rec_of(kv) : NULL;
	if (rec != NULL) {
		log_info("topic %u nonce %lld: transaction %s was recorded in etcd by %s; "
		    "resolving it instead of signing", f->topic, (long long)f->nonce,
		    json_string_value(json_object_get(rec, "txhash")),
		    json_string_value(json_object_get(rec, "host")) ?
		    json_string_value(json_object_get(rec, "host")) : "?");
		f->cb(f->topic, f->nonce, CL_RESOLVE, rec, NULL, f->arg);
		json_decref(rec);
	} else
		f->cb(f->topic, f->nonce, CL_GO, NULL, NULL, f->arg);
	fcall_free(f);
}

void
cluster_presign(uint32_t topic, int64_t nonce, const char *wallet, cluster_cb cb, void *arg)
{
	struct cwallet *w = wallet_of(wallet);
	struct fcall *f;
	char *k, *nk;

	if (w == NULL || !cluster_serves(wallet)) {
		cb(topic, nonce, C.etcd_ok ? CL_NOT_LEADER : CL_UNAVAILABLE, NULL, C.etcd_ok ?
		    "this host is a standby for the wallet" : C.etcd_err, arg);
		return;
	}
	f = fcall_new(topic, nonce, w, cb, arg);
	k = etcd_b64(w->key);
	nk = etcd_b64(f->nkey);
	etcd_post(C.etcd, "/v3/kv/txn", json_pack("{s:[o], s:[o], s:[o]}", "compare",
	    cmp(k, "LEASE", "lease", etcd_num(C.lease)), "success", range_op(nk), "failure",
	    range_op(k)), presign_done, f);
	free(k);
	free(nk);
}

static void	fence_send(struct fcall *, int64_t mod_rev);

static void
fence_done(json_t *reply, const char *err, void *arg)
{
	struct fcall *f = arg;
	json_t *kv, *rec;
	const char *rh;

	if (fcall_unanswered(f, reply, err))
		return;
	if (json_is_true(json_object_get(reply, "succeeded"))) {
		f->cb(f->topic, f->nonce, CL_GO, NULL, NULL, f->arg);
		fcall_free(f);
		return;
	}
	/* failure: [range leader, range nonce] */
	kv = txn_kv(reply, 0);
	if (kv == NULL || C.lease == 0 || etcd_int(kv, "lease") != C.lease) {
		fenced(f, reply, 0, "broadcasting");
		fcall_free(f);
		return;
	}
	kv = txn_kv(reply, 1);
	rec = kv != NULL ? rec_of(kv) : NULL;
	rh = rec != NULL ? json_string_value(json_object_get(rec, "txhash")) : NULL;
	if (rh != NULL && strcmp(rh, f->txhash) == 0) {
		f->cb(f->topic, f->nonce, CL_GO, NULL, NULL, f->arg);	/* recorded already */
	} else if (rh != NULL && f->prev != NULL && strcmp(rh, f->prev) == 0 && !f->second) {
		/* It replaces the one the chain refused at CheckTx: swap the record. */
		f->second = 1;
		fence_send(f, etcd_int(kv, "mod_revision"));
		json_decref(rec);
		return;
	} else if (rec != NULL) {
		log_event(LOG_LVL_WARNING, "warning", json_pack("{s:I, s:I, s:s, s:s}", "topic",
		    (json_int_t)f->topic, "nonce", (json_int_t)f->nonce, "reason", "recorded",
		    "txhash", rh), "topic %u nonce %lld: transaction %s is recorded in etcd for "
		    "this nonce; not broadcasting %s but resolving that one", f->topic,
		    (long long)f->nonce, rh, f->txhash);
		f->cb(f->topic, f->nonce, CL_RESOLVE, rec, NULL, f->arg);
	} else
		f->cb(f->topic, f->nonce, CL_UNAVAILABLE, NULL, "the nonce key changed meanwhile",
		    f->arg);
	json_decref(rec);
	fcall_free(f);
}

static void
fence_send(struct fcall *f, int64_t mod_rev)
{
	char *k = etcd_b64(f->w->key), *nk = etcd_b64(f->nkey), *v, *v64;
	json_t *rec;

	rec = json_pack("{s:s, s:s, s:I, s:s, s:I}", "txhash", f->txhash, "tx", f->tx,
	    "sequence", (json_int_t)f->seq, "host", C.name, "lease", (json_int_t)C.lease);
	v = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	v64 = etcd_b64(v);
	etcd_post(C.etcd, "/v3/kv/txn", json_pack("{s:[o, o], s:[{s:{s:s, s:s}}], s:[o, o]}",
	    "compare", cmp(k, "LEASE", "lease", etcd_num(C.lease)),
	    mod_rev > 0 ? cmp(nk, "MOD", "mod_revision", etcd_num(mod_rev)) :
	    cmp(nk, "CREATE", "create_revision", etcd_num(0)),
	    "success", "request_put", "key", nk, "value", v64,
	    "failure", range_op(k), range_op(nk)), fence_done, f);
	free(k);
	free(nk);
	free(v);
	free(v64);
}

void
cluster_fence(uint32_t topic, int64_t nonce, const char *wallet, const char *txhash,
    const char *tx, long long sequence, const char *prev_txhash, cluster_cb cb, void *arg)
{
	struct cwallet *w = wallet_of(wallet);
	struct fcall *f;

	if (w == NULL || C.lease == 0) {
		cb(topic, nonce, C.etcd_ok ? CL_NOT_LEADER : CL_UNAVAILABLE, NULL,
		    "no lease: this host is not the leader", arg);
		return;
	}
	f = fcall_new(topic, nonce, w, cb, arg);
	f->txhash = xstrdup(txhash);
	f->tx = xstrdup(tx);
	f->prev = prev_txhash != NULL && strcmp(prev_txhash, txhash) != 0 ?
	    xstrdup(prev_txhash) : NULL;
	f->seq = sequence;
	fence_send(f, 0);
}
