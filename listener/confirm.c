/*
 * Confirmation of websocket windows (issue 13): the websocket endpoint is believed only as
 * far as the chain's own query agrees.  For each nonce first heard on the websocket the
 * listener asks IsWorkerNonceUnfulfilled at once (the prediction runs meanwhile) and sends
 * the supervisor WINDOW_STATUS: "open", "not_open" (the chain says fulfilled or no such
 * window: the supervisor drops it, nothing is signed) or "no_answer" (the query failed, or
 * the node answering is behind the nonce's block; it is retried every RETRY_MS, up to
 * MAX_TRIES, and the supervisor goes ahead once the prediction is ready).
 */
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "confirm.h"
#include "frame.h"
#include "log.h"
#include "proc.h"
#include "query.pb-c.h"
#include "rpc.h"
#include "util.h"

#define RETRY_MS	500
#define MAX_TRIES	40

struct ask {
	uint32_t	 topic;
	int64_t		 nonce;
	int		 tries;
	struct event	*ev;
};

static struct {
	struct event_base	*base;
	struct rpc		**rpcp;
	const char		*emissions;
} C;

static void	ask_send(struct ask *);

void
confirm_init(struct event_base *base, struct rpc **rpcp, const char *emissions)
{
	C.base = base;
	C.rpcp = rpcp;
	C.emissions = emissions;
}

static void
send_status(struct ask *q, const char *state, const char *why)
{
	child_send(MSG_WINDOW_STATUS, q->topic, 0, json_pack("{s:I, s:I, s:s, s:s?}", "topic",
	    (json_int_t)q->topic, "nonce", (json_int_t)q->nonce, "state", state, "why", why));
}

static void
ask_free(struct ask *q)
{
	if (q->ev != NULL)
		event_free(q->ev);
	free(q);
}

static void
retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	ask_send(arg);
}

static void
ask_done(enum rpc_status st, const struct abci_result *a, const char *error, void *arg)
{
	struct ask *q = arg;
	Awq__IsWorkerNonceUnfulfilledResponse *r;
	struct timeval tv = { RETRY_MS / 1000, (RETRY_MS % 1000) * 1000 };

	/* A node behind the nonce's block cannot know the window yet: no answer. */
	if (st == RPC_OK && a->code == 0 && (a->height <= 0 || a->height >= q->nonce) &&
	    (r = awq__is_worker_nonce_unfulfilled_response__unpack(NULL, a->value_len,
	    a->value)) != NULL) {
		int open = r->is_worker_nonce_unfulfilled;

		awq__is_worker_nonce_unfulfilled_response__free_unpacked(r, NULL);
		log_debug("topic %u nonce %lld (websocket): the chain says %s", q->topic,
		    (long long)q->nonce, open ? "open" : "not open");
		send_status(q, open ? "open" : "not_open", open ? NULL : "IsWorkerNonceUnfulfilled "
		    "is false: the window is fulfilled or does not exist");
		ask_free(q);
		return;
	}
	q->tries++;
	if (st == RPC_OK && a->code == 0) {
		/*
		 * Behind the nonce's block: asked again, and the supervisor keeps waiting (a
		 * nonce from the future is how a lying endpoint would make us pay for nothing).
		 */
		if (q->tries >= MAX_TRIES) {
			send_status(q, "not_open", "the chain never reached the window's block");
			ask_free(q);
			return;
		}
	} else
		send_status(q, "no_answer", st != RPC_OK ? error : a->log);
	if (q->tries >= MAX_TRIES) {
		log_warnx("topic %u nonce %lld: no answer from the chain about the websocket's "
		    "window after %d tries", q->topic, (long long)q->nonce, q->tries);
		ask_free(q);
		return;
	}
	if (q->ev == NULL)
		q->ev = evtimer_new(C.base, retry_cb, q);
	evtimer_add(q->ev, &tv);
}

static void
ask_send(struct ask *q)
{
	Awq__TopicNonceRequest req = AWQ__TOPIC_NONCE_REQUEST__INIT;
	uint8_t buf[32];
	char path[96];
	size_t n;

	req.topic_id = q->topic;
	req.block_height = q->nonce;
	n = awq__topic_nonce_request__pack(&req, buf);
	snprintf(path, sizeof(path), "/emissions.%s.QueryService/IsWorkerNonceUnfulfilled",
	    C.emissions[0] != '\0' ? C.emissions : "v9");
	if (rpc_abci_query(*C.rpcp, path, buf, n, ask_done, q) == -1)
		ask_done(RPC_FAIL, NULL, "the request could not start", q);
}

void
confirm_window(uint32_t topic, int64_t nonce)
{
	struct ask *q = xcalloc(1, sizeof(*q));

	q->topic = topic;
	q->nonce = nonce;
	ask_send(q);
}
