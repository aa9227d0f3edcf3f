/* Transaction building and decoding with protobuf-c (common/proto/tx.proto, emissions.proto). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "dec.h"
#include "emissions.pb-c.h"
#include "keys.h"
#include "tx.h"
#include "tx.pb-c.h"
#include "util.h"

#define PUBKEY_URL	"/cosmos.crypto.secp256k1.PubKey"

void
tx_hash_hex(const uint8_t *raw, size_t len, char out[65])
{
	uint8_t h[32];
	int i;

	SHA256(raw, len, h);
	for (i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02X", h[i]);
}

static void
put_hex(json_t *o, const char *k, const uint8_t *b, size_t n)
{
	char *h = hex_encode(b, n);

	json_object_set_new(o, k, json_string(h));
	free(h);
}

static int
valid_emissions(const char *e)
{
	return e != NULL && (strcmp(e, "v9") == 0 || strcmp(e, "v10") == 0);
}

/* body (one message) + auth info + sign doc + signature -> TxRaw. */
static int
finish_tx(const uint8_t priv[32], const uint8_t pub[33], const char *type_url,
    const uint8_t *msg, size_t msglen, const struct tx_params *p, int for_simulation,
    struct tx_out *out, char *err, size_t errlen)
{
	Awtx__Any any = AWTX__ANY__INIT, pkany = AWTX__ANY__INIT, *anys[1];
	Awtx__TxBody body = AWTX__TX_BODY__INIT;
	Awtx__PubKey pk = AWTX__PUB_KEY__INIT;
	Awtx__ModeInfo mi = AWTX__MODE_INFO__INIT;
	Awtx__ModeInfo__Single single = AWTX__MODE_INFO__SINGLE__INIT;
	Awtx__SignerInfo si = AWTX__SIGNER_INFO__INIT, *sis[1];
	Awtx__Coin coin = AWTX__COIN__INIT, *coins[1];
	Awtx__Fee fee = AWTX__FEE__INIT;
	Awtx__AuthInfo ai = AWTX__AUTH_INFO__INIT;
	Awtx__SignDoc sd = AWTX__SIGN_DOC__INIT;
	Awtx__TxRaw tr = AWTX__TX_RAW__INIT;
	ProtobufCBinaryData sigs[1];
	uint8_t *anyb = NULL, *bodyb = NULL, *pkb = NULL, *pkanyb = NULL, *aib = NULL, *sdb = NULL;
	uint8_t sig[64], sdh[32];
	size_t anyl, bodyl, pkl, pkanyl, ail, sdl;
	char amount[32];
	json_t *d = out->detail;

	any.type_url = (char *)type_url;
	any.value.data = (uint8_t *)msg;
	any.value.len = msglen;
	anyl = awtx__any__get_packed_size(&any);
	anyb = xmalloc(anyl);
	awtx__any__pack(&any, anyb);

	anys[0] = &any;
	body.n_messages = 1;
	body.messages = anys;
	body.memo = (char *)(p->memo ? p->memo : "");
	body.timeout_height = p->timeout_height;
	bodyl = awtx__tx_body__get_packed_size(&body);
	bodyb = xmalloc(bodyl);
	awtx__tx_body__pack(&body, bodyb);

	pk.key.data = (uint8_t *)pub;
	pk.key.len = 33;
	pkl = awtx__pub_key__get_packed_size(&pk);
	pkb = xmalloc(pkl);
	awtx__pub_key__pack(&pk, pkb);
	pkany.type_url = (char *)PUBKEY_URL;
	pkany.value.data = pkb;
	pkany.value.len = pkl;
	pkanyl = awtx__any__get_packed_size(&pkany);
	pkanyb = xmalloc(pkanyl);
	awtx__any__pack(&pkany, pkanyb);

	single.mode = 1;	/* SIGN_MODE_DIRECT */
	mi.single = &single;
	si.public_key = &pkany;
	si.mode_info = &mi;
	si.sequence = p->sequence;
	sis[0] = &si;
	snprintf(amount, sizeof(amount), "%" PRIu64, p->fee_uallo);
	coin.denom = (char *)"uallo";
	coin.amount = amount;
	coins[0] = &coin;
	fee.n_amount = 1;
	fee.amount = coins;
	fee.gas_limit = p->gas_limit;
	if (p->fee_granter != NULL && *p->fee_granter != '\0')
		fee.granter = (char *)p->fee_granter;
	ai.n_signer_infos = 1;
	ai.signer_infos = sis;
	ai.fee = &fee;
	ail = awtx__auth_info__get_packed_size(&ai);
	aib = xmalloc(ail);
	awtx__auth_info__pack(&ai, aib);

	sd.body_bytes.data = bodyb;
	sd.body_bytes.len = bodyl;
	sd.auth_info_bytes.data = aib;
	sd.auth_info_bytes.len = ail;
	sd.chain_id = (char *)p->chain_id;
	sd.account_number = p->account_number;
	sdl = awtx__sign_doc__get_packed_size(&sd);
	sdb = xmalloc(sdl);
	awtx__sign_doc__pack(&sd, sdb);
	SHA256(sdb, sdl, sdh);

	if (for_simulation) {
		sigs[0].data = NULL;
		sigs[0].len = 0;
	} else {
		if (key_sign(priv, sdb, sdl, sig) == -1) {
			free(anyb);
			free(bodyb);
			free(pkb);
			free(pkanyb);
			free(aib);
			free(sdb);
			return errorf(err, errlen, "signing the transaction failed");
		}
		sigs[0].data = sig;
		sigs[0].len = 64;
	}
	tr.body_bytes = sd.body_bytes;
	tr.auth_info_bytes = sd.auth_info_bytes;
	tr.n_signatures = 1;
	tr.signatures = sigs;
	out->rawlen = awtx__tx_raw__get_packed_size(&tr);
	out->raw = xmalloc(out->rawlen);
	awtx__tx_raw__pack(&tr, out->raw);
	tx_hash_hex(out->raw, out->rawlen, out->hash);
	out->base64 = base64_encode(out->raw, out->rawlen);

	json_object_set_new(d, "type_url", json_string(type_url));
	json_object_set_new(d, "chain_id", json_string(p->chain_id));
	json_object_set_new(d, "account_number", json_sprintf("%" PRIu64, p->account_number));
	json_object_set_new(d, "sequence", json_sprintf("%" PRIu64, p->sequence));
	json_object_set_new(d, "gas_limit", json_sprintf("%" PRIu64, p->gas_limit));
	json_object_set_new(d, "fee", json_sprintf("%suallo", amount));
	json_object_set_new(d, "fee_granter", fee.granter != NULL && *fee.granter != '\0' ?
	    json_string(fee.granter) : json_null());
	if (p->timeout_height > 0)
		json_object_set_new(d, "timeout_height", json_sprintf("%" PRIu64,
		    p->timeout_height));
	put_hex(d, "any_hex", anyb, anyl);
	put_hex(d, "tx_body_hex", bodyb, bodyl);
	put_hex(d, "pubkey_any_hex", pkanyb, pkanyl);
	put_hex(d, "auth_info_hex", aib, ail);
	put_hex(d, "sign_doc_hex", sdb, sdl);
	put_hex(d, "sign_doc_sha256_hex", sdh, 32);
	if (!for_simulation)
		put_hex(d, "tx_signature_rs_hex", sig, 64);
	put_hex(d, "tx_raw_hex", out->raw, out->rawlen);
	json_object_set_new(d, "tx_raw_base64", json_string(out->base64));
	json_object_set_new(d, "tx_hash_hex_upper", json_string(out->hash));
	free(anyb);
	free(bodyb);
	free(pkb);
	free(pkanyb);
	free(aib);
	free(sdb);
	key_clear(sig, sizeof(sig));
	return 0;
}

int
tx_build_payload(const uint8_t priv[32], const struct tx_params *p, int for_simulation,
    struct tx_out *out, char *err, size_t errlen)
{
	Awem__InputInference inf = AWEM__INPUT_INFERENCE__INIT;
	Awem__InputInferenceForecastBundle bundle = AWEM__INPUT_INFERENCE_FORECAST_BUNDLE__INIT;
	Awem__InputWorkerDataBundle wdb = AWEM__INPUT_WORKER_DATA_BUNDLE__INIT;
	Awem__Nonce nonce = AWEM__NONCE__INIT;
	Awem__InsertWorkerPayloadRequest req = AWEM__INSERT_WORKER_PAYLOAD_REQUEST__INIT;
	uint8_t pub[33], *infb, *bb, *wdbb, *reqb, sig[64], bh[32];
	size_t infl, bl, wdbl, reql;
	char addr[ADDR_MAX], canon[DEC_MAX_TEXT + 1], why[320], *pubhex, type_url[64];
	json_t *pl;
	Awem__InputLabeledValue *lv = NULL, **lvp = NULL;
	Awem__InputForecast fc = AWEM__INPUT_FORECAST__INIT;
	Awem__InputForecastElement *fe = NULL, **fep = NULL;
	const char *frule;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!valid_emissions(p->emissions))
		return errorf(err, errlen, "emissions version must be v9 or v10");
	if (p->chain_id == NULL || *p->chain_id == '\0')
		return errorf(err, errlen, "chain id is empty");
	if (p->nonce <= 0)
		return errorf(err, errlen, "nonce must be a positive block height");
	if (p->topic == 0)
		return errorf(err, errlen, "topic must be positive");
	if ((p->value == NULL) == (p->nlabels == 0))
		return errorf(err, errlen, "either a value or labelled values, not %s",
		    p->value == NULL ? "neither" : "both");
	if (p->nlabels > 0) {
		if (strcmp(p->emissions, "v10") != 0)
			return errorf(err, errlen, "labelled values need emissions v10");
		if (labels_check(p->labels, p->nlabels, p->arity, p->topic, why,
		    sizeof(why)) == -1)
			return errorf(err, errlen, "%s", why);
		canon[0] = '\0';
	} else {
		if (dec_value(p->value, canon, sizeof(canon), why, sizeof(why)) == -1)
			return errorf(err, errlen, "value \"%s\": %s", p->value, why);
		if (strcmp(canon, p->value) != 0)
			return errorf(err, errlen, "value \"%s\" is not in the chain's canonical form "
			    "(\"%s\")", p->value, canon);
	}
	if (key_pubkey(priv, pub) == -1 || key_address(pub, addr, sizeof(addr)) == -1)
		return errorf(err, errlen, "invalid private key");
	if (p->nforecast > 0 && forecast_check(p->forecast, p->nforecast, addr,
	    p->forecast_limit, &frule, why, sizeof(why)) == -1)
		return errorf(err, errlen, "%s", why);
	inf.topic_id = p->topic;
	inf.block_height = p->nonce;
	inf.inferer = addr;
	inf.value = canon;
	if (p->nlabels > 0) {
		size_t i;

		lv = xcalloc(p->nlabels, sizeof(*lv));
		lvp = xcalloc(p->nlabels, sizeof(*lvp));
		for (i = 0; i < p->nlabels; i++) {
			awem__input_labeled_value__init(&lv[i]);
			lv[i].label = p->labels[i].label;
			lv[i].value = p->labels[i].value;
			lvp[i] = &lv[i];
		}
		inf.n_values = p->nlabels;
		inf.values = lvp;
	}
	bundle.inference = &inf;
	if (p->nforecast > 0) {
		size_t i;

		fe = xcalloc(p->nforecast, sizeof(*fe));
		fep = xcalloc(p->nforecast, sizeof(*fep));
		for (i = 0; i < p->nforecast; i++) {
			awem__input_forecast_element__init(&fe[i]);
			fe[i].inferer = p->forecast[i].inferer;
			fe[i].value = p->forecast[i].value;
			fep[i] = &fe[i];
		}
		fc.topic_id = p->topic;
		fc.block_height = p->nonce;
		fc.forecaster = addr;
		fc.n_forecast_elements = p->nforecast;
		fc.forecast_elements = fep;
		bundle.forecast = &fc;	/* inside the bytes the bundle signature covers */
	}
	infl = awem__input_inference__get_packed_size(&inf);
	infb = xmalloc(infl);
	awem__input_inference__pack(&inf, infb);
	bl = awem__input_inference_forecast_bundle__get_packed_size(&bundle);
	bb = xmalloc(bl);
	awem__input_inference_forecast_bundle__pack(&bundle, bb);
	SHA256(bb, bl, bh);
	if (!p->no_bundle_signature && key_sign(priv, bb, bl, sig) == -1) {
		free(infb);
		free(bb);
		free(lv);
		free(lvp);
		free(fe);
		free(fep);
		return errorf(err, errlen, "signing the bundle failed");
	}
	pubhex = hex_encode(pub, 33);
	nonce.block_height = p->nonce;
	wdb.worker = addr;
	wdb.nonce = &nonce;
	wdb.topic_id = p->topic;
	wdb.inference_forecasts_bundle = &bundle;
	if (!p->no_bundle_signature) {
		wdb.inferences_forecasts_bundle_signature.data = sig;
		wdb.inferences_forecasts_bundle_signature.len = 64;
		wdb.pubkey = pubhex;
	}
	wdbl = awem__input_worker_data_bundle__get_packed_size(&wdb);
	wdbb = xmalloc(wdbl);
	awem__input_worker_data_bundle__pack(&wdb, wdbb);
	req.sender = addr;
	req.worker_data_bundle = &wdb;
	reql = awem__insert_worker_payload_request__get_packed_size(&req);
	reqb = xmalloc(reql);
	awem__insert_worker_payload_request__pack(&req, reqb);

	out->detail = json_object();
	pl = json_object();
	json_object_set_new(pl, "topic_id", json_sprintf("%u", p->topic));
	json_object_set_new(pl, "nonce_block_height", json_sprintf("%" PRId64, p->nonce));
	json_object_set_new(pl, "value", p->nlabels > 0 ? json_null() : json_string(canon));
	{
		json_t *vals = json_array();
		size_t i;

		for (i = 0; i < p->nlabels; i++)
			json_array_append_new(vals, json_pack("{s:s, s:s}", "label",
			    p->labels[i].label, "value", p->labels[i].value));
		json_object_set_new(pl, "values", vals);
	}
	put_hex(pl, "input_inference_hex", infb, infl);
	if (p->nforecast > 0) {
		size_t fl = awem__input_forecast__get_packed_size(&fc);
		uint8_t *fb = xmalloc(fl);

		awem__input_forecast__pack(&fc, fb);
		put_hex(pl, "input_forecast_hex", fb, fl);
		free(fb);
		json_object_set_new(pl, "forecast", json_pack("{s:I, s:I, s:s, s:o, s:s}",
		    "topic_id", (json_int_t)p->topic, "block_height", (json_int_t)p->nonce,
		    "forecaster", addr, "forecast_elements", forecast_to_json(p->forecast,
		    p->nforecast), "extra_data", ""));
	} else
		json_object_set_new(pl, "forecast", json_null());
	put_hex(pl, "input_inference_forecast_bundle_hex", bb, bl);
	put_hex(pl, "bundle_sha256_hex", bh, 32);
	if (p->no_bundle_signature)
		json_object_set_new(pl, "bundle_signature_rs_hex", json_null());
	else
		put_hex(pl, "bundle_signature_rs_hex", sig, 64);
	put_hex(pl, "worker_data_bundle_hex", wdbb, wdbl);
	put_hex(pl, "insert_worker_payload_request_hex", reqb, reql);
	json_object_update(out->detail, pl);
	json_object_set_new(out->detail, "payload", pl);
	json_object_set_new(out->detail, "address", json_string(addr));
	json_object_set_new(out->detail, "pubkey", json_string(pubhex));
	snprintf(type_url, sizeof(type_url), "/emissions.%s.InsertWorkerPayloadRequest",
	    p->emissions);
	rc = finish_tx(priv, pub, type_url, reqb, reql, p, for_simulation, out, err, errlen);
	free(infb);
	free(bb);
	free(wdbb);
	free(reqb);
	free(pubhex);
	free(lv);
	free(lvp);
	free(fe);
	free(fep);
	key_clear(sig, sizeof(sig));
	if (rc == -1)
		tx_out_free(out);
	return rc;
}

int
tx_build_register(const uint8_t priv[32], const struct tx_params *p, int for_simulation,
    struct tx_out *out, char *err, size_t errlen)
{
	Awem__RegisterRequest req = AWEM__REGISTER_REQUEST__INIT;
	uint8_t pub[33], *reqb;
	size_t reql;
	char addr[ADDR_MAX], type_url[64];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!valid_emissions(p->emissions))
		return errorf(err, errlen, "emissions version must be v9 or v10");
	if (key_pubkey(priv, pub) == -1 || key_address(pub, addr, sizeof(addr)) == -1)
		return errorf(err, errlen, "invalid private key");
	req.sender = addr;
	req.topic_id = p->topic;
	req.owner = addr;
	req.is_reputer = 0;
	reql = awem__register_request__get_packed_size(&req);
	reqb = xmalloc(reql);
	awem__register_request__pack(&req, reqb);
	out->detail = json_object();
	put_hex(out->detail, "register_request_hex", reqb, reql);
	snprintf(type_url, sizeof(type_url), "/emissions.%s.RegisterRequest", p->emissions);
	rc = finish_tx(priv, pub, type_url, reqb, reql, p, for_simulation, out, err, errlen);
	free(reqb);
	if (rc == -1)
		tx_out_free(out);
	return rc;
}

void
tx_out_free(struct tx_out *o)
{
	free(o->raw);
	free(o->base64);
	json_decref(o->detail);
	memset(o, 0, sizeof(*o));
}

static json_t *
jbytes_hex(const ProtobufCBinaryData *b)
{
	char *h = hex_encode(b->data, b->len);
	json_t *j = json_string(h);

	free(h);
	return j;
}

/* INTERFACES.md: {"topic_id", "block_height", "forecaster", "forecast_elements": [{"inferer",
 * "value"}], "extra_data"}, or null. */
static json_t *
decode_forecast(const Awem__InputForecast *f)
{
	json_t *o, *els;
	size_t k;

	if (f == NULL)
		return json_null();
	o = json_object();
	json_object_set_new(o, "topic_id", json_integer((json_int_t)f->topic_id));
	json_object_set_new(o, "block_height", json_integer(f->block_height));
	json_object_set_new(o, "forecaster", json_string(f->forecaster ? f->forecaster : ""));
	els = json_array();
	for (k = 0; k < f->n_forecast_elements; k++)
		json_array_append_new(els, json_pack("{s:s, s:s}", "inferer",
		    f->forecast_elements[k]->inferer ? f->forecast_elements[k]->inferer : "",
		    "value", f->forecast_elements[k]->value ? f->forecast_elements[k]->value : ""));
	json_object_set_new(o, "forecast_elements", els);
	json_object_set_new(o, "extra_data", jbytes_hex(&f->extra_data));
	return o;
}

static json_t *
decode_payload_msg(const ProtobufCBinaryData *v, char *err, size_t errlen)
{
	Awem__InsertWorkerPayloadRequest *r;
	Awem__InputWorkerDataBundle *b;
	Awem__InputInference *inf;
	json_t *o, *wdb, *io = json_null();
	int sig_ok = 0;
	char canon[DEC_MAX_TEXT + 1], why[128];

	r = awem__insert_worker_payload_request__unpack(NULL, v->len, v->data);
	if (r == NULL) {
		errorf(err, errlen, "InsertWorkerPayloadRequest does not decode");
		return NULL;
	}
	b = r->worker_data_bundle;
	o = json_object();
	json_object_set_new(o, "sender", json_string(r->sender ? r->sender : ""));
	if (b == NULL) {
		json_object_set_new(o, "worker_data_bundle", json_null());
		awem__insert_worker_payload_request__free_unpacked(r, NULL);
		return o;
	}
	wdb = json_object();
	json_object_set_new(wdb, "worker", json_string(b->worker ? b->worker : ""));
	json_object_set_new(wdb, "nonce", b->nonce ? json_integer(b->nonce->block_height) :
	    json_null());
	json_object_set_new(wdb, "topic_id", json_integer((json_int_t)b->topic_id));
	inf = b->inference_forecasts_bundle ? b->inference_forecasts_bundle->inference : NULL;
	if (inf != NULL) {
		io = json_object();
		json_object_set_new(io, "topic_id", json_integer((json_int_t)inf->topic_id));
		json_object_set_new(io, "block_height", json_integer(inf->block_height));
		json_object_set_new(io, "inferer", json_string(inf->inferer ? inf->inferer : ""));
		json_object_set_new(io, "value", json_string(inf->value ? inf->value : ""));
		json_object_set_new(io, "extra_data", jbytes_hex(&inf->extra_data));
		json_object_set_new(io, "proof", json_string(inf->proof ? inf->proof : ""));
		{
			json_t *vals = json_array();
			size_t k;

			for (k = 0; k < inf->n_values; k++)
				json_array_append_new(vals, json_pack("{s:s, s:s}", "label",
				    inf->values[k]->label ? inf->values[k]->label : "", "value",
				    inf->values[k]->value ? inf->values[k]->value : ""));
			json_object_set_new(io, "values", vals);
		}
		if (inf->n_values > 0) {
			/* Labelled: every value canonical, and no single value beside them. */
			int ok = inf->value == NULL || inf->value[0] == '\0';
			size_t k;

			for (k = 0; k < inf->n_values && ok; k++)
				ok = inf->values[k]->value != NULL && dec_value(inf->values[k]->value,
				    canon, sizeof(canon), why, sizeof(why)) == 0 &&
				    strcmp(canon, inf->values[k]->value) == 0;
			json_object_set_new(io, "value_canonical", json_boolean(ok));
		} else
			json_object_set_new(io, "value_canonical", json_boolean(inf->value != NULL &&
			    dec_value(inf->value, canon, sizeof(canon), why, sizeof(why)) == 0 &&
			    strcmp(canon, inf->value) == 0));
	}
	json_object_set_new(wdb, "inference", io);
	json_object_set_new(wdb, "forecast", b->inference_forecasts_bundle != NULL ?
	    decode_forecast(b->inference_forecasts_bundle->forecast) : json_null());
	json_object_set_new(wdb, "signature_hex",
	    jbytes_hex(&b->inferences_forecasts_bundle_signature));
	json_object_set_new(wdb, "pubkey", json_string(b->pubkey ? b->pubkey : ""));
	/* The chain re-encodes the bundle and verifies the signature over those bytes. */
	if (b->inference_forecasts_bundle != NULL && b->pubkey != NULL &&
	    b->inferences_forecasts_bundle_signature.len == 64) {
		unsigned char *pk = NULL;
		size_t pklen = 0, bl;
		uint8_t *bb;

		if (hex_decode(b->pubkey, &pk, &pklen) == 0 && pklen == 33) {
			bl = awem__input_inference_forecast_bundle__get_packed_size(
			    b->inference_forecasts_bundle);
			bb = xmalloc(bl);
			awem__input_inference_forecast_bundle__pack(b->inference_forecasts_bundle, bb);
			sig_ok = key_verify(pk, bb, bl,
			    b->inferences_forecasts_bundle_signature.data);
			free(bb);
			{
				char a[ADDR_MAX];

				json_object_set_new(wdb, "pubkey_address",
				    key_address(pk, a, sizeof(a)) == 0 ? json_string(a) : json_null());
			}
		}
		free(pk);
	}
	json_object_set_new(o, "worker_data_bundle", wdb);
	json_object_set_new(o, "bundle_signature_ok", json_boolean(sig_ok));
	awem__insert_worker_payload_request__free_unpacked(r, NULL);
	return o;
}

json_t *
tx_decode(const uint8_t *raw, size_t len, const char *chain_id, int64_t account_number,
    char *err, size_t errlen)
{
	Awtx__TxRaw *tr;
	Awtx__TxBody *body = NULL;
	Awtx__AuthInfo *ai = NULL;
	json_t *o = NULL, *jb, *msgs, *ja, *fees, *sigs, *m;
	uint8_t pub[33];
	int have_pub = 0, bundle_ok = 1, nbundles = 0;
	size_t i;
	char hash[65];

	tr = awtx__tx_raw__unpack(NULL, len, raw);
	if (tr == NULL) {
		errorf(err, errlen, "not a transaction (TxRaw does not decode)");
		return NULL;
	}
	body = awtx__tx_body__unpack(NULL, tr->body_bytes.len, tr->body_bytes.data);
	ai = awtx__auth_info__unpack(NULL, tr->auth_info_bytes.len, tr->auth_info_bytes.data);
	if (body == NULL || ai == NULL) {
		errorf(err, errlen, "not a transaction (%s does not decode)",
		    body == NULL ? "TxBody" : "AuthInfo");
		goto out;
	}
	o = json_object();
	jb = json_object();
	msgs = json_array();
	for (i = 0; i < body->n_messages; i++) {
		Awtx__Any *a = body->messages[i];
		const char *url = a->type_url ? a->type_url : "";

		if (strcmp(url, "/emissions.v9.InsertWorkerPayloadRequest") == 0 ||
		    strcmp(url, "/emissions.v10.InsertWorkerPayloadRequest") == 0) {
			m = decode_payload_msg(&a->value, err, errlen);
			if (m == NULL) {
				json_decref(o);
				json_decref(jb);
				json_decref(msgs);
				o = NULL;
				goto out;
			}
			nbundles++;
			if (!json_is_true(json_object_get(m, "bundle_signature_ok")))
				bundle_ok = 0;
			json_object_del(m, "bundle_signature_ok");
		} else if (strcmp(url, "/emissions.v9.RegisterRequest") == 0 ||
		    strcmp(url, "/emissions.v10.RegisterRequest") == 0) {
			Awem__RegisterRequest *r = awem__register_request__unpack(NULL,
			    a->value.len, a->value.data);

			m = json_object();
			if (r != NULL) {
				json_object_set_new(m, "sender", json_string(r->sender ? r->sender : ""));
				json_object_set_new(m, "topic_id", json_integer((json_int_t)r->topic_id));
				json_object_set_new(m, "owner", json_string(r->owner ? r->owner : ""));
				json_object_set_new(m, "is_reputer", json_boolean(r->is_reputer));
				awem__register_request__free_unpacked(r, NULL);
			}
		} else {
			m = json_object();
			json_object_set_new(m, "value_hex", jbytes_hex(&a->value));
		}
		json_object_set_new(m, "type_url", json_string(url));
		json_array_append_new(msgs, m);
	}
	json_object_set_new(jb, "messages", msgs);
	json_object_set_new(jb, "memo", json_string(body->memo ? body->memo : ""));
	json_object_set_new(jb, "timeout_height", json_integer((json_int_t)body->timeout_height));
	json_object_set_new(o, "body", jb);

	ja = json_object();
	json_object_set_new(ja, "pubkey_hex", json_null());
	json_object_set_new(ja, "sign_mode", json_null());
	json_object_set_new(ja, "sequence", json_null());
	if (ai->n_signer_infos >= 1) {
		Awtx__SignerInfo *si = ai->signer_infos[0];

		if (si->public_key != NULL && si->public_key->type_url != NULL &&
		    strcmp(si->public_key->type_url, PUBKEY_URL) == 0) {
			Awtx__PubKey *pk = awtx__pub_key__unpack(NULL, si->public_key->value.len,
			    si->public_key->value.data);

			if (pk != NULL && pk->key.len == 33) {
				memcpy(pub, pk->key.data, 33);
				have_pub = 1;
				json_object_set_new(ja, "pubkey_hex", jbytes_hex(&pk->key));
			}
			if (pk != NULL)
				awtx__pub_key__free_unpacked(pk, NULL);
		}
		if (si->mode_info != NULL && si->mode_info->single != NULL)
			json_object_set_new(ja, "sign_mode", json_string(
			    si->mode_info->single->mode == 1 ? "SIGN_MODE_DIRECT" : "other"));
		json_object_set_new(ja, "sequence", json_integer((json_int_t)si->sequence));
	}
	fees = json_array();
	if (ai->fee != NULL)
		for (i = 0; i < ai->fee->n_amount; i++)
			json_array_append_new(fees, json_pack("{s:s, s:s}", "denom",
			    ai->fee->amount[i]->denom ? ai->fee->amount[i]->denom : "", "amount",
			    ai->fee->amount[i]->amount ? ai->fee->amount[i]->amount : ""));
	json_object_set_new(ja, "fee", fees);
	json_object_set_new(ja, "gas_limit", json_integer(ai->fee ?
	    (json_int_t)ai->fee->gas_limit : 0));
	json_object_set_new(ja, "fee_granter", ai->fee != NULL && ai->fee->granter != NULL &&
	    *ai->fee->granter != '\0' ? json_string(ai->fee->granter) : json_null());
	json_object_set_new(o, "auth_info", ja);

	sigs = json_array();
	for (i = 0; i < tr->n_signatures; i++)
		json_array_append_new(sigs, jbytes_hex(&tr->signatures[i]));
	json_object_set_new(o, "signatures_hex", sigs);
	tx_hash_hex(raw, len, hash);
	json_object_set_new(o, "tx_hash", json_string(hash));
	json_object_set_new(o, "bundle_signature_ok", nbundles > 0 ? json_boolean(bundle_ok) :
	    json_null());
	if (have_pub) {
		char a[ADDR_MAX];

		json_object_set_new(o, "signer_address", key_address(pub, a, sizeof(a)) == 0 ?
		    json_string(a) : json_null());
	} else
		json_object_set_new(o, "signer_address", json_null());
	if (chain_id != NULL && account_number >= 0) {
		Awtx__SignDoc sd = AWTX__SIGN_DOC__INIT;
		uint8_t *sdb;
		size_t sdl;
		int ok = 0;

		sd.body_bytes = tr->body_bytes;
		sd.auth_info_bytes = tr->auth_info_bytes;
		sd.chain_id = (char *)chain_id;
		sd.account_number = (uint64_t)account_number;
		sdl = awtx__sign_doc__get_packed_size(&sd);
		sdb = xmalloc(sdl);
		awtx__sign_doc__pack(&sd, sdb);
		if (have_pub && tr->n_signatures == 1 && tr->signatures[0].len == 64)
			ok = key_verify(pub, sdb, sdl, tr->signatures[0].data);
		free(sdb);
		json_object_set_new(o, "tx_signature_ok", json_boolean(ok));
	} else
		json_object_set_new(o, "tx_signature_ok", json_null());
out:
	if (body != NULL)
		awtx__tx_body__free_unpacked(body, NULL);
	if (ai != NULL)
		awtx__auth_info__free_unpacked(ai, NULL);
	awtx__tx_raw__free_unpacked(tr, NULL);
	return o;
}
