/* The chain's next changes, as the submitter meets them (chainnext.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "chainnext.h"
#include "frame.h"
#include "log.h"
#include "proc.h"
#include "query.pb-c.h"
#include "util.h"

static struct {
	const struct config	*conf;
	int			*arity;		/* per configured topic */
	int			 no_sig;
} N;

char *
chainnext_file(const char *state_dir, const char *chain_id)
{
	char id[128];
	size_t i;

	snprintf(id, sizeof(id), "%s", chain_id != NULL ? chain_id : "");
	for (i = 0; id[i] != '\0'; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
		    (id[i] >= '0' && id[i] <= '9') || id[i] == '-' || id[i] == '_' || id[i] == '.'))
			id[i] = '_';
	return xasprintf("%s/chain-%s.json", state_dir, id);
}

static size_t
topic_at(uint32_t topic)
{
	size_t i;

	for (i = 0; N.conf != NULL && i < N.conf->ntopics; i++)
		if (N.conf->topics[i].id == topic)
			return i;
	return (size_t)-1;
}

void
chainnext_config(const struct config *c)
{
	char *f;
	json_t *j;

	N.conf = c;
	free(N.arity);
	N.arity = xcalloc(c->ntopics ? c->ntopics : 1, sizeof(int));
	N.no_sig = 0;
	f = chainnext_file(c->state_dir, c->chain_id);
	if ((j = json_load_file(f, 0, NULL)) != NULL) {
		N.no_sig = json_is_false(json_object_get(j, "bundle_signature_fields"));
		json_decref(j);
	}
	if (N.no_sig)
		log_info("chain %s: InputWorkerDataBundle fields 5/6 are unknown there (remembered "
		    "in %s): bundles are sent without them", c->chain_id, f);
	free(f);
}

int
chainnext_model_labels(const char *model)
{
	return model != NULL && (strncmp(model, "exec:", 5) == 0 ||
	    strncmp(model, "http://", 7) == 0 || strncmp(model, "https://", 8) == 0);
}

int
chainnext_arity(uint32_t topic)
{
	size_t i = topic_at(topic);

	return i == (size_t)-1 || N.arity == NULL ? ARITY_UNSPECIFIED : N.arity[i];
}

int
chainnext_no_bundle_signature(void)
{
	return N.no_sig;
}

static void
refuse_topic(const struct config_topic *t)
{
	char *e = xasprintf("topic %u requires labelled values (output arity multi): model "
	    "\"%s\" gives a single value; use an exec: or http(s) model that returns "
	    "{\"labels\": {\"<label>\": \"<decimal>\", ...}}", t->id, t->model);

	log_event(LOG_LVL_ERROR, "error", json_pack("{s:I, s:s, s:s, s:s}", "topic", (json_int_t)t->id,
	    "reason", "arity", "arity", "multi", "model", t->model), "%s", e);
	/* No work of its own: the supervisor stops the topic with this reason. */
	child_send(MSG_SUBMITTED, t->id, 0, json_pack("{s:I, s:I, s:s, s:I, s:s, s:s, s:b}",
	    "topic", (json_int_t)t->id, "nonce", (json_int_t)0, "outcome", "refused", "code",
	    (json_int_t)-1, "reason", "arity", "error", e, "stop_topic", 1));
	free(e);
}

static void
topic_done(enum rpc_status st, const struct abci_result *a, const char *error, void *arg)
{
	uint32_t topic = (uint32_t)(uintptr_t)arg;
	Awq__GetTopicResponse *r;
	size_t i = topic_at(topic);

	if (i == (size_t)-1 || st != RPC_OK || a->code != 0 ||
	    (r = awq__get_topic_response__unpack(NULL, a->value_len, a->value)) == NULL)
		return;	/* unknown: single value, as before */
	if (r->topic != NULL && r->topic->id == topic) {
		N.arity[i] = r->topic->output_arity == ARITY_MULTI ? ARITY_MULTI :
		    r->topic->output_arity == ARITY_SINGLE ? ARITY_SINGLE : ARITY_UNSPECIFIED;
		log_info("topic %u: output arity %s (GetTopic)", topic, arity_name(N.arity[i]));
		if (N.arity[i] == ARITY_MULTI && !chainnext_model_labels(N.conf->topics[i].model))
			refuse_topic(&N.conf->topics[i]);
	}
	awq__get_topic_response__free_unpacked(r, NULL);
}

void
chainnext_precheck(struct rpc *rpc, const struct config *c, const char *em)
{
	Awq__TopicIdRequest req = AWQ__TOPIC_ID_REQUEST__INIT;
	uint8_t buf[16];
	char path[96];
	size_t i, n;

	snprintf(path, sizeof(path), "/emissions.%s.QueryService/GetTopic", em);
	for (i = 0; i < c->ntopics; i++) {
		req.topic_id = c->topics[i].id;
		n = awq__topic_id_request__pack(&req, buf);
		rpc_abci_query(rpc, path, buf, n, topic_done, (void *)(uintptr_t)c->topics[i].id);
	}
}

int
chainnext_sim_failed(const char *log)
{
	char *f, *s, ts[40];
	json_t *j;

	if (N.no_sig || log == NULL || N.conf == NULL)
		return 0;
	/* cosmos-sdk unknownproto: errUnknownField "*types.InputWorkerDataBundle": {TagNum: 5, ...} */
	if (strstr(log, "InputWorkerDataBundle") == NULL || strstr(log, "nknown") == NULL ||
	    (strstr(log, "TagNum: 5") == NULL && strstr(log, "TagNum: 6") == NULL))
		return 0;
	N.no_sig = 1;
	log_event(LOG_LVL_WARNING, "warning", json_pack("{s:n, s:s, s:s, s:s}", "topic", "reason",
	    "bundle_signature_unknown", "chain_id", N.conf->chain_id, "log", log),
	    "chain %s does not know InputWorkerDataBundle fields 5/6 (bundle signature, pubkey): "
	    "sending bundles without them from now on", N.conf->chain_id);
	f = chainnext_file(N.conf->state_dir, N.conf->chain_id);
	j = json_pack("{s:s, s:b, s:s, s:s}", "chain_id", N.conf->chain_id,
	    "bundle_signature_fields", 0, "learnt_at", iso8601_now(ts, sizeof(ts)), "log", log);
	s = json_dumps(j, JSON_COMPACT);
	if (write_file_atomic(f, s, strlen(s), 0644) == -1)
		log_warnx("cannot remember it in %s: %s", f, strerror(errno));
	free(s);
	json_decref(j);
	free(f);
	return 1;
}

int
chainnext_values(uint32_t topic, const char *value, struct tx_label **labels, size_t *nlabels,
    char *err, size_t errlen)
{
	int arity = chainnext_arity(topic);
	json_t *j;
	int rc;

	*labels = NULL;
	*nlabels = 0;
	if (value == NULL || value[0] != '{') {
		if (arity == ARITY_MULTI) {
			snprintf(err, errlen, "topic %u requires labelled values (output arity multi): "
			    "a single value (%s) is refused", topic, value ? value : "none");
			return -1;
		}
		return 0;
	}
	if ((j = json_loads(value, JSON_REJECT_DUPLICATES, NULL)) == NULL) {
		snprintf(err, errlen, "labelled values are not a JSON object (or repeat a label)");
		return -1;
	}
	rc = labels_from_json(j, 1, labels, nlabels, err, errlen);
	json_decref(j);
	if (rc == 0 && *nlabels == 0) {
		snprintf(err, errlen, "no labelled values");
		rc = -1;
	}
	if (rc == 0)
		rc = labels_check(*labels, *nlabels, arity, topic, err, errlen);
	if (rc == -1) {
		labels_free(*labels, *nlabels);
		*labels = NULL;
		*nlabels = 0;
	}
	return rc;
}
