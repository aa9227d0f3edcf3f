/* Wall-clock windows: GetTopicEpochs and the last height before a close time (epochs.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "epochs.h"
#include "log.h"
#include "query.pb-c.h"
#include "util.h"

static int mode = -1;

int
epochs_mode(void)
{
	return mode;
}

void
epochs_reset(void)
{
	mode = -1;
}

int64_t
epochs_last_height(int64_t height, double at, double close_at, double block_ms)
{
	double block = block_ms / 1000.0, left;

	if (block_ms <= 0 || height <= 0)
		return -1;
	left = close_at - (block + EPOCHS_MARGIN_S) - at;
	return height + (int64_t)floor(left / block);
}

struct eq {
	uint32_t	 topic;
	int64_t		 want;
	epochs_cb	 cb;
	void		*arg;
};

static double
ts(const Awq__TimestampMsg *t)
{
	return t != NULL ? (double)t->seconds + t->nanos / 1e9 : 0;
}

static void
epochs_done(enum rpc_status st, const struct abci_result *a, const char *error, void *arg)
{
	struct eq *q = arg;
	Awq__GetTopicEpochsResponse *r;
	struct epoch_window best, w;
	double now = wall_s();
	int found = 0;
	size_t i;

	if (st != RPC_OK) {
		log_debug("GetTopicEpochs of topic %u: %s", q->topic, error);
		q->cb(-1, NULL, q->topic, q->arg);
		free(q);
		return;
	}
	if (a->code != 0 || (r = awq__get_topic_epochs_response__unpack(NULL, a->value_len,
	    a->value)) == NULL) {
		if (mode != 0)
			log_info("the chain does not answer GetTopicEpochs (%s): block-height windows",
			    a->code != 0 && a->log != NULL ? a->log : "an answer that does not decode");
		mode = 0;
		q->cb(-1, NULL, q->topic, q->arg);
		free(q);
		return;
	}
	if (mode != 1)
		log_info("the chain answers GetTopicEpochs: wall-clock windows (open and close "
		    "times from the chain)");
	mode = 1;
	memset(&best, 0, sizeof(best));
	for (i = 0; i < r->n_epochs; i++) {
		Awq__EpochMsg *e = r->epochs[i];

		if (e->worker_submission_window == NULL || e->start_block_height <= 0)
			continue;
		w.nonce = e->start_block_height;
		w.open_at = ts(e->worker_submission_window->open_at);
		w.close_at = ts(e->worker_submission_window->close_at);
		if (w.close_at <= w.open_at)
			continue;	/* nonsense from a node is never trusted */
		if (q->want > 0 ? w.nonce == q->want : (e->state == 1 && now >= w.open_at &&
		    now < w.close_at && (!found || w.nonce > best.nonce))) {
			best = w;
			found = 1;
		}
	}
	awq__get_topic_epochs_response__free_unpacked(r, NULL);
	q->cb(found, found ? &best : NULL, q->topic, q->arg);
	free(q);
}

void
epochs_query(struct rpc *rpc, const char *em, uint32_t topic, int64_t want_nonce, epochs_cb cb,
    void *arg)
{
	Awq__TopicIdRequest req = AWQ__TOPIC_ID_REQUEST__INIT;
	struct eq *q = xcalloc(1, sizeof(*q));
	uint8_t buf[16];
	char path[96];
	size_t n;

	q->topic = topic;
	q->want = want_nonce;
	q->cb = cb;
	q->arg = arg;
	req.topic_id = topic;
	n = awq__topic_id_request__pack(&req, buf);
	snprintf(path, sizeof(path), "/emissions.%s.QueryService/GetTopicEpochs", em);
	rpc_abci_query(rpc, path, buf, n, epochs_done, q);
}
