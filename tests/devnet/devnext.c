/* The devnet's emulation of the chain's next changes (devnext.h). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devhooks.h"
#include "devnext.h"
#include "emissions.pb-c.h"
#include "query.pb-c.h"
#include "tx.pb-c.h"
#include "util.h"

#define MAXT	64
#define KEEP	8	/* epochs remembered (in flight: the open one and the ones before) */

struct epoch {
	uint64_t	 id;		/* the NonceV2 we hand out: a counter */
	int64_t		 start;		/* start_block_height, the worker nonce */
	double		 open_at, close_at;
};

static struct {
	double		 wallclock;
	int		 def_arity;
	uint32_t	 multi[MAXT], single[MAXT];
	size_t		 nmulti, nsingle;
	int		 no_sig;
	char		 em[8];
	struct epoch	 ep[KEEP];
	size_t		 nep;
	uint64_t	 next_id;
} X = { .def_arity = 1 };

int
devnext_option(int opt, const char *arg)
{
	char *end;
	unsigned long t;

	switch (opt) {
	case DEVNEXT_OPT_WALLCLOCK:
		X.wallclock = strtod(arg, &end);
		return *end == '\0' && X.wallclock >= 1 && X.wallclock <= 86400 ? 0 : -1;
	case DEVNEXT_OPT_ARITY:
		if (strcmp(arg, "single") == 0)
			X.def_arity = 1;
		else if (strcmp(arg, "multi") == 0)
			X.def_arity = 2;
		else
			return -1;
		return 0;
	case DEVNEXT_OPT_TOPIC_ARITY:
		t = strtoul(arg, &end, 10);
		if (end == arg || *end != ':' || t == 0 || t > UINT32_MAX)
			return -1;
		if (strcmp(end + 1, "multi") == 0 && X.nmulti < MAXT)
			X.multi[X.nmulti++] = (uint32_t)t;
		else if (strcmp(end + 1, "single") == 0 && X.nsingle < MAXT)
			X.single[X.nsingle++] = (uint32_t)t;
		else
			return -1;
		return 0;
	case DEVNEXT_OPT_NO_SIG:
		X.no_sig = 1;
		return 0;
	}
	return -1;
}

void
devnext_start(const char *emissions)
{
	snprintf(X.em, sizeof(X.em), "%s", emissions);
	X.next_id = 1;
}

int
devnext_arity(uint32_t topic)
{
	size_t i;

	if (strcmp(X.em, "v10") != 0)
		return 0;
	for (i = 0; i < X.nmulti; i++)
		if (X.multi[i] == topic)
			return 2;
	for (i = 0; i < X.nsingle; i++)
		if (X.single[i] == topic)
			return 1;
	return X.def_arity;
}

int
devnext_no_bundle_signature(void)
{
	return X.no_sig;
}

/* ---- wall-clock windows ---- */

double
devnext_wallclock(void)
{
	return X.wallclock;
}

int
devnext_epoch_due(int64_t height, double now)
{
	struct epoch *e;

	if (X.nep > 0 && now < X.ep[X.nep - 1].close_at)
		return 0;
	if (X.nep == KEEP) {
		memmove(&X.ep[0], &X.ep[1], (KEEP - 1) * sizeof(X.ep[0]));
		X.nep--;
	}
	e = &X.ep[X.nep++];
	e->id = X.next_id++;
	e->start = height;
	e->open_at = now;
	e->close_at = now + X.wallclock;
	return 1;
}

static const struct epoch *
epoch_of_nonce(int64_t nonce)
{
	size_t i;

	for (i = 0; i < X.nep; i++)
		if (X.ep[i].start == nonce)
			return &X.ep[i];
	return NULL;
}

int
devnext_closed(int64_t nonce, double now)
{
	const struct epoch *e = epoch_of_nonce(nonce);

	return e == NULL || now >= e->close_at;
}

double
devnext_close_at(int64_t nonce)
{
	const struct epoch *e = epoch_of_nonce(nonce);

	return e != NULL ? e->close_at : 0;
}

static void
fill_epoch(Awq__EpochMsg *m, Awq__WindowMsg *w, Awq__TimestampMsg *o, Awq__TimestampMsg *c,
    const struct epoch *e, uint32_t topic, double now)
{
	awq__epoch_msg__init(m);
	awq__window_msg__init(w);
	awq__timestamp_msg__init(o);
	awq__timestamp_msg__init(c);
	m->nonce = e->id;
	m->topic_id = topic;
	m->state = now < e->close_at ? 1 : 2;	/* WORKER_SUBMISSION, WAITING_GROUND_TRUTH */
	o->seconds = (int64_t)floor(e->open_at);
	o->nanos = (int32_t)((e->open_at - floor(e->open_at)) * 1e9);
	c->seconds = (int64_t)floor(e->close_at);
	c->nanos = (int32_t)((e->close_at - floor(e->close_at)) * 1e9);
	w->open_at = o;
	w->close_at = c;
	m->worker_submission_window = w;
	m->epsilon = (char *)"0.01";
	m->start_block_height = e->start;
}

int
devnext_abci(const char *path, const uint8_t *data, size_t len, const char *em, long *code,
    char **log, uint8_t **val, size_t *vlen)
{
	char p1[96], p2[96];
	double now = wall_s();
	size_t i;

	snprintf(p1, sizeof(p1), "/emissions.%s.QueryService/GetTopicEpochs", em);
	snprintf(p2, sizeof(p2), "/emissions.%s.QueryService/GetEpoch", em);
	if (X.wallclock <= 0 || (strcmp(path, p1) != 0 && strcmp(path, p2) != 0))
		return -1;
	*code = 0;
	*log = xstrdup("");
	*val = NULL;
	*vlen = 0;
	if (strcmp(path, p1) == 0) {
		Awq__TopicIdRequest *q = awq__topic_id_request__unpack(NULL, len, data);
		Awq__GetTopicEpochsResponse r = AWQ__GET_TOPIC_EPOCHS_RESPONSE__INIT;
		Awq__EpochMsg m[KEEP], *mp[KEEP];
		Awq__WindowMsg w[KEEP];
		Awq__TimestampMsg o[KEEP], c[KEEP];
		uint32_t topic = q != NULL ? (uint32_t)q->topic_id : 0;

		if (q != NULL)
			awq__topic_id_request__free_unpacked(q, NULL);
		/* In flight: the open epoch and the one before (completed ones are pruned). */
		for (i = X.nep >= 2 ? X.nep - 2 : 0; i < X.nep; i++) {
			fill_epoch(&m[r.n_epochs], &w[r.n_epochs], &o[r.n_epochs], &c[r.n_epochs],
			    &X.ep[i], topic, now);
			mp[r.n_epochs] = &m[r.n_epochs];
			r.n_epochs++;
		}
		r.epochs = mp;
		*vlen = awq__get_topic_epochs_response__get_packed_size(&r);
		*val = xmalloc(*vlen + 1);
		awq__get_topic_epochs_response__pack(&r, *val);
	} else {
		Awq__GetEpochRequest *q = awq__get_epoch_request__unpack(NULL, len, data);
		Awq__GetEpochResponse r = AWQ__GET_EPOCH_RESPONSE__INIT;
		Awq__EpochMsg m;
		Awq__WindowMsg w;
		Awq__TimestampMsg o, c;
		const struct epoch *e = NULL;

		for (i = 0; q != NULL && i < X.nep; i++)
			if (X.ep[i].id == q->nonce)
				e = &X.ep[i];
		if (e == NULL) {
			*code = 38;	/* gRPC NotFound through abci_query (emulated) */
			free(*log);
			*log = xasprintf("epoch not found for topic %" PRIu64 " nonce %" PRIu64,
			    q ? q->topic_id : 0, q ? q->nonce : 0);
		} else {
			fill_epoch(&m, &w, &o, &c, e, (uint32_t)q->topic_id, now);
			r.epoch = &m;
			*vlen = awq__get_epoch_response__get_packed_size(&r);
			*val = xmalloc(*vlen + 1);
			awq__get_epoch_response__pack(&r, *val);
		}
		if (q != NULL)
			awq__get_epoch_request__free_unpacked(q, NULL);
	}
	return 0;
}

/* ---- unknown fields ---- */

static char *
unknown(const char *em, const char *msg, unsigned tag, const char *wire)
{
	/* cosmos-sdk unknownproto (errUnknownField), wrapped by ErrTxDecode */
	return xasprintf("errUnknownField \"emissions.%s.%s\": {TagNum: %u, WireType:\"%s\"}: "
	    "tx parse error", em, msg, tag, wire);
}

static const char *
wire_name(ProtobufCWireType w)
{
	return w == PROTOBUF_C_WIRE_TYPE_VARINT ? "varint" : w == PROTOBUF_C_WIRE_TYPE_64BIT ?
	    "fixed64" : w == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED ? "bytes" : "fixed32";
}

/* The first unknown field of a message protobuf-c kept aside, or NULL. */
static char *
first_unknown(const ProtobufCMessage *m, const char *em, const char *name)
{
	if (m == NULL || m->n_unknown_fields == 0)
		return NULL;
	return unknown(em, name, m->unknown_fields[0].tag,
	    wire_name(m->unknown_fields[0].wire_type));
}

static char *
payload_unknown(const ProtobufCBinaryData *v, const char *em)
{
	Awem__InsertWorkerPayloadRequest *r = awem__insert_worker_payload_request__unpack(NULL,
	    v->len, v->data);
	Awem__InputWorkerDataBundle *b;
	Awem__InputInference *inf;
	char *e = NULL;
	size_t i;

	if (r == NULL)
		return NULL;	/* the decoder proper says what is wrong */
	b = r->worker_data_bundle;
	inf = b != NULL && b->inference_forecasts_bundle != NULL ?
	    b->inference_forecasts_bundle->inference : NULL;
	if ((e = first_unknown(&r->base, em, "InsertWorkerPayloadRequest")) != NULL ||
	    (b != NULL && (e = first_unknown(&b->base, em, "InputWorkerDataBundle")) != NULL) ||
	    (b != NULL && b->nonce != NULL &&
	    (e = first_unknown(&b->nonce->base, "v3", "Nonce")) != NULL) ||
	    (b != NULL && b->inference_forecasts_bundle != NULL && (e = first_unknown(
	    &b->inference_forecasts_bundle->base, em, "InputInferenceForecastBundle")) != NULL) ||
	    (inf != NULL && (e = first_unknown(&inf->base, em, "InputInference")) != NULL))
		goto out;
	for (i = 0; inf != NULL && i < inf->n_values; i++)
		if ((e = first_unknown(&inf->values[i]->base, em, "InputLabeledValue")) != NULL)
			goto out;
	if (b != NULL && b->inference_forecasts_bundle != NULL &&
	    b->inference_forecasts_bundle->forecast != NULL) {
		Awem__InputForecast *fc = b->inference_forecasts_bundle->forecast;

		if ((e = first_unknown(&fc->base, em, "InputForecast")) != NULL)
			goto out;
		for (i = 0; i < fc->n_forecast_elements; i++)
			if ((e = first_unknown(&fc->forecast_elements[i]->base, em,
			    "InputForecastElement")) != NULL)
				goto out;
	}
	if (b != NULL && X.no_sig && b->inferences_forecasts_bundle_signature.len > 0)
		e = unknown(em, "InputWorkerDataBundle", 5, "bytes");
	else if (b != NULL && X.no_sig && b->pubkey != NULL && b->pubkey[0] != '\0')
		e = unknown(em, "InputWorkerDataBundle", 6, "bytes");
	else if (inf != NULL && inf->n_values > 0 && strcmp(em, "v10") != 0)
		e = unknown(em, "InputInference", 7, "bytes");
out:
	awem__insert_worker_payload_request__free_unpacked(r, NULL);
	return e;
}

int
devnext_unknown_fields(const uint8_t *raw, size_t len, const char *em, char **log)
{
	Awtx__TxRaw *tr = awtx__tx_raw__unpack(NULL, len, raw);
	Awtx__TxBody *body = NULL;
	char *e = NULL, url[80];
	size_t i;

	*log = NULL;
	if (tr == NULL)
		return 0;
	body = awtx__tx_body__unpack(NULL, tr->body_bytes.len, tr->body_bytes.data);
	snprintf(url, sizeof(url), "/emissions.%s.InsertWorkerPayloadRequest", em);
	for (i = 0; body != NULL && i < body->n_messages && e == NULL; i++) {
		const char *u = body->messages[i]->type_url ? body->messages[i]->type_url : "";
		char pre[32];

		snprintf(pre, sizeof(pre), "/emissions.%s.", em);
		if (strcmp(u, url) == 0)
			e = payload_unknown(&body->messages[i]->value, em);
		else if (strncmp(u, "/emissions.", 11) == 0 && strncmp(u, pre, strlen(pre)) != 0)
			/* another emissions version than the chain's: the registry has no such type */
			e = xasprintf("unable to resolve type URL %s: tx parse error", u);
	}
	if (body != NULL)
		awtx__tx_body__free_unpacked(body, NULL);
	awtx__tx_raw__free_unpacked(tr, NULL);
	*log = e;
	return e != NULL;
}

/* ---- delivery: the label rules ---- */

int
devnext_deliver(json_t *msg, long *code, char **log, const char **codespace)
{
	json_t *b = json_object_get(msg, "worker_data_bundle");
	json_t *inf = json_object_get(b, "inference"), *vals = json_object_get(inf, "values");
	uint32_t topic = (uint32_t)json_integer_value(json_object_get(b, "topic_id"));
	const char *value = json_string_value(json_object_get(inf, "value"));
	int arity = devnext_arity(topic);
	size_t n = json_array_size(vals), i, j;
	const char *why = NULL;

	if (inf == NULL)
		return 0;
	if (arity == 2 && n == 0)
		why = "a multi-output topic takes labelled values, not a single value";
	else if (n > 0 && value != NULL && value[0] != '\0')
		why = "value and labelled values are both set";
	else if (arity != 2 && n > 1)
		why = "a single-output topic takes at most one label";
	for (i = 0; why == NULL && i < n; i++) {
		const char *l = json_string_value(json_object_get(json_array_get(vals, i), "label"));

		if (l == NULL || l[0] == '\0')
			why = "empty label";
		for (j = 0; why == NULL && j < i; j++)
			if (strcmp(l, json_string_value(json_object_get(json_array_get(vals, j),
			    "label")) ?: "") == 0)
				why = "duplicate label";
	}
	if (why == NULL)
		return 0;
	*code = 18;
	*log = xasprintf("invalid labelled values for topic %u: %s: invalid request", topic, why);
	*codespace = "sdk";
	return 1;
}

/* The label rules as a delivery rule of devchain.c (DEVNET_DELIVER, devhooks.h). */
static int
devnext_deliver_rule(int stage, json_t *dec, json_t *msg, int simulate, long *code, char **log,
    const char **codespace)
{
	return stage == DEVNET_VALIDATE && devnext_deliver(msg, code, log, codespace);
}
DEVNET_DELIVER(devnext_deliver_rule)
