/*
 * allora-devnet: a local chain that behaves like an Allora node as far as a worker can
 * tell (INTERFACES.md, PROTOCOL.md): CometBFT JSON-RPC (status, abci_query, broadcast_tx_sync,
 * tx), a /websocket with NewBlockEvents, blocks every --block-ms, worker windows every
 * --epoch blocks, CheckTx at broadcast and everything else at delivery in the next block,
 * a --record of every window and transaction, and seeded fault injection.
 *
 * This file is the front: the HTTP JSON-RPC methods (POST and GET URI forms), the injected
 * HTTP faults (--http-error-rate, --http-429-rate, --delay-ms), the options and main.  The
 * chain's rules are devchain.c's, the query paths devquery.c's, the /websocket devws.c's;
 * what they share is devnet_int.h.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <netinet/in.h>

#include "devnet_int.h"
#include "faults.h"
#include "devfees.h"
#include "devforecast.h"
#include "devnext.h"
#include "rewards.h"
#include "submitter/keys.h"
#include "submitter/tx.h"
#include "util.h"

struct devnet D;

/* ---- small helpers ---- */

double
rnd(void)
{
	D.rng ^= D.rng << 13;
	D.rng ^= D.rng >> 7;
	D.rng ^= D.rng << 17;
	return (double)(D.rng >> 11) / 9007199254740992.0;
}
/* ---- HTTP JSON-RPC ---- */

static double devnet_started;	/* wall time of the start height */

static json_t *
rpc_status(void)
{
	char h[32], ts[40];

	json_t *r;
	char eh[32], et[40];

	snprintf(h, sizeof(h), "%" PRId64, D.height);
	r = json_pack("{s:{s:s, s:s}, s:{s:s, s:s, s:b}}", "node_info", "network", D.chain_id,
	    "version", "0.38.17-devnet", "sync_info", "latest_block_height", h,
	    "latest_block_time", iso8601_now(ts, sizeof(ts)), "catching_up", 0);
	/* The oldest block kept (CometBFT's earliest_*): tells the block time. */
	snprintf(eh, sizeof(eh), "%" PRId64, D.start_height);
	json_object_set_new(json_object_get(r, "sync_info"), "earliest_block_height",
	    json_string(eh));
	json_object_set_new(json_object_get(r, "sync_info"), "earliest_block_time",
	    json_string(iso8601(devnet_started, et, sizeof(et))));
	return r;
}

static json_t *
unconfirmed_txs(json_t *params)
{
	unsigned char *raw[256];
	size_t len[256], n = 0, bytes = 0;
	struct mtx *t, *rev[256];
	json_t *r;
	size_t i;

	for (t = D.mempool; t != NULL && n < 256; t = t->next)
		rev[n++] = t;
	for (i = 0; i < n; i++) {	/* in arrival order */
		raw[i] = rev[n - 1 - i]->raw;
		len[i] = rev[n - 1 - i]->len;
		bytes += len[i];
	}
	r = faults_unconfirmed_txs(raw, len, n, params, bytes);
	return r;
}

/* Returns the result, or NULL with *err set (a JSON-RPC error object). */
static json_t *
dispatch(const char *method, json_t *params, json_t **err)
{
	if (strcmp(method, "status") == 0)
		return rpc_status();
	if (strcmp(method, "abci_query") == 0) {
		const char *path = json_string_value(json_object_get(params, "path"));
		const char *data = json_string_value(json_object_get(params, "data"));
		unsigned char *raw = NULL;
		size_t len = 0;
		json_t *r;

		if (data != NULL && strncmp(data, "0x", 2) == 0)
			data += 2;
		if (path == NULL || (data != NULL && *data != '\0' &&
		    hex_decode(data, &raw, &len) == -1)) {
			*err = json_pack("{s:i, s:s, s:s}", "code", -32602, "message", "Invalid params",
			    "data", "path and hex data expected");
			return NULL;
		}
		r = abci_query(path, raw ? raw : (const uint8_t *)"", len);
		free(raw);
		return r;
	}
	if (strcmp(method, "broadcast_tx_sync") == 0) {
		const char *b64 = json_string_value(json_object_get(params, "tx"));
		char hash[65] = "";
		unsigned char *raw;
		size_t len;
		json_t *r;

		/* The mempool cache comes before CheckTx, as in CometBFT. */
		if (b64 != NULL && base64_decode(b64, strlen(b64), &raw, &len) == 0) {
			tx_hash_hex(raw, len, hash);
			free(raw);
		}
		if (faults_cache_check(hash, err))
			return NULL;
		r = checktx(b64, hash);
		if (json_integer_value(json_object_get(r, "code")) == 0)
			faults_cache_add(hash);
		return r;
	}
	if (strcmp(method, "unconfirmed_txs") == 0 && faults_unconfirmed_offered())
		return unconfirmed_txs(params);
	if (strcmp(method, "tx") == 0) {
		const char *h = json_string_value(json_object_get(params, "hash"));
		unsigned char *raw = NULL;
		size_t len = 0;
		char hex[65] = "";
		json_t *r;
		size_t i;

		if (h != NULL && strncmp(h, "0x", 2) == 0) {
			snprintf(hex, sizeof(hex), "%s", h + 2);
		} else if (h != NULL && base64_decode(h, strlen(h), &raw, &len) == 0 && len == 32) {
			for (i = 0; i < 32; i++)
				sprintf(hex + 2 * i, "%02X", raw[i]);
		}
		free(raw);
		for (i = 0; hex[i]; i++)
			hex[i] = (char)toupper((unsigned char)hex[i]);
		r = json_object_get(D.results, hex);
		if (r == NULL) {
			*err = json_pack("{s:i, s:s, s:s}", "code", -32603, "message", "Internal error",
			    "data", "");
			json_object_set_new(*err, "data", json_sprintf("tx (%s) not found", hex));
			return NULL;
		}
		return json_pack("{s:s, s:o, s:i, s:{s:i, s:s, s:s, s:s, s:s}}", "hash", hex,
		    "height", json_sprintf("%lld", (long long)json_integer_value(json_object_get(r,
		    "height"))), "index", 0, "tx_result", "code", (int)json_integer_value(
		    json_object_get(r, "code")), "log", json_string_value(json_object_get(r, "log")),
		    "codespace", json_string_value(json_object_get(r, "codespace")), "gas_wanted",
		    "300000", "gas_used", "120000");
	}
	*err = json_pack("{s:i, s:s}", "code", -32601, "message", "Method not found");
	return NULL;
}

struct delayed {
	struct evhttp_request	*req;
	struct evbuffer		*buf;
	int			 code;
};

static void
send_delayed(evutil_socket_t fd, short ev, void *arg)
{
	struct delayed *d = arg;

	evhttp_send_reply(d->req, d->code, d->code == 200 ? "OK" : "Error", d->buf);
	evbuffer_free(d->buf);
	free(d);
}

static void
reply(struct evhttp_request *req, int code, const char *body)
{
	struct delayed *d = xcalloc(1, sizeof(*d));
	struct timeval tv = { D.delay_ms / 1000, (D.delay_ms % 1000) * 1000 };

	d->req = req;
	d->code = code;
	d->buf = evbuffer_new();
	evbuffer_add(d->buf, body, strlen(body));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "application/json");
	if (D.delay_ms > 0)
		event_base_once(D.base, -1, EV_TIMEOUT, send_delayed, d, &tv);
	else
		send_delayed(-1, 0, d);
}

static void
handle(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *path = u ? evhttp_uri_get_path(u) : NULL;
	json_t *doc = NULL, *params = NULL, *res, *err = NULL, *out, *id = NULL;
	const char *method = NULL;
	char *s;

	if (path != NULL && strcmp(path, "/websocket") == 0) {
		ws_upgrade(req);
		return;
	}
	if (D.http_error_rate > 0 && rnd() < D.http_error_rate) {
		reply(req, 500, "{\"error\":\"injected failure\"}");
		return;
	}
	if (D.http_429_rate > 0 && rnd() < D.http_429_rate) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
		reply(req, 429, "{\"error\":\"too many requests\"}");
		return;
	}
	if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t n = evbuffer_get_length(in);
		char *body = xmalloc(n + 1);
		json_error_t je;

		evbuffer_remove(in, body, n);
		body[n] = '\0';
		doc = json_loads(body, 0, &je);
		free(body);
		method = json_string_value(json_object_get(doc, "method"));
		params = json_object_get(doc, "params");
		id = json_object_get(doc, "id");
		if (method == NULL) {
			json_decref(doc);
				reply(req, 200, "{\"jsonrpc\":\"2.0\",\"id\":-1,\"error\":{\"code\":-32700,"
			    "\"message\":\"Parse error\"}}");
			return;
		}
	} else if (path != NULL && strlen(path) > 1) {
		/* GET URI form: /status, /abci_query?path="..."&data=0x.., /tx?hash=0x.. */
		struct evkeyvalq q;
		struct evkeyval *kv;

		method = path + 1;
		params = json_object();
		doc = params;
		TAILQ_INIT(&q);
		if (evhttp_uri_get_query(u) != NULL)
			evhttp_parse_query_str(evhttp_uri_get_query(u), &q);
		TAILQ_FOREACH(kv, &q, next) {
			char *v = xstrdup(kv->value);
			size_t l = strlen(v);

			if (l >= 2 && v[0] == '"' && v[l - 1] == '"') {
				v[l - 1] = '\0';
				memmove(v, v + 1, l - 1);
			}
			json_object_set_new(params, kv->key, json_string(v));
			free(v);
		}
		evhttp_clear_headers(&q);
	}
	if (method == NULL) {
		reply(req, 404, "{\"error\":\"not found\"}");
		return;
	}
	res = dispatch(method, params, &err);
	if (strcmp(method, "broadcast_tx_sync") == 0 && faults_lose_reply(req)) {
		json_decref(res);
		json_decref(err);
		json_decref(doc);
		return;
	}
	out = json_pack("{s:s, s:O}", "jsonrpc", "2.0", "id", id ? id : json_integer(-1));
	if (res != NULL)
		json_object_set_new(out, "result", res);
	else
		json_object_set_new(out, "error", err);
	s = json_dumps(out, JSON_COMPACT);
	reply(req, 200, s);
	free(s);
	json_decref(out);
	json_decref(doc);
}

/* ---- main ---- */

static void
stop_cb(evutil_socket_t sig, short ev, void *arg)
{
	event_base_loopexit(D.base, NULL);
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: allora-devnet [--port N] [--port-file F] [--chain-id ID] [--block-ms N]\n"
	    "                     [--start-height H] [--topics 67,68] [--inactive-topics 68]\n"
	    "                     [--epoch N] [--window N]\n"
	    "                     [--emissions v9|v10]\n"
	    "                     [--account ADDRESS:UALLO[:ACCOUNT_NUMBER[:SEQUENCE]]]...\n"
	    "                     [--unregistered ADDRESS:TOPIC]... [--not-whitelisted ADDRESS:TOPIC]...\n"
	    "                     [--min-gas-price N] [--data-sending-fee N] [--record FILE] [--seed N]\n"
	    "                     [--drop-ws-every S] [--http-error-rate P] [--http-429-rate P]\n"
	    "                     [--delay-ms N] [--seq-mismatch-once] [--fee-spike-once]\n"
	    "                     [--malformed-rate P] [--lose-reply-rate P]\n"
	    "                     [--lose-reply-hold-ms N] [--fake-window-rate P]\n"
	    "                     [--mempool-cache-size N] [--no-unconfirmed-txs]\n"
	    "                     [--gas-price-walk] [--fee-grant GRANTER:GRANTEE:UALLO[:EXPIRES_S]]\n"
	    "                     [--no-feemarket] [--gas-used N]\n"
	    "                     [--peers K] [--truth FILE] [--truth-lag N] [--score-alpha A]\n"
	    "                     [--active N]\n"
	    "                     [--ws-one-block]\n"
	    "                     [--wallclock-windows SECONDS] [--arity single|multi]\n"
	    "                     [--topic-arity TOPIC:single|multi]... [--no-bundle-signature]\n"
	    "                     [--max-elements-per-forecast N]\n"
	    "\n"
	    "A local chain for tests and the demo: CometBFT JSON-RPC and /websocket on\n"
	    "127.0.0.1:N (0 picks a free port, printed on the first line and written to\n"
	    "--port-file).  Runs until SIGTERM, then exits 0.\n");
}

static int
bad_arg(const char *opt, const char *v)
{
	fprintf(stderr, "allora-devnet: %s: bad value \"%s\"\n", opt, v);
	return 2;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, 'P' },
		{ "chain-id", required_argument, NULL, 'c' },
		{ "block-ms", required_argument, NULL, 'b' },
		{ "start-height", required_argument, NULL, 'H' },
		{ "topics", required_argument, NULL, 't' },
		{ "inactive-topics", required_argument, NULL, 'i' },
		{ "epoch", required_argument, NULL, 'e' },
		{ "window", required_argument, NULL, 'w' },
		{ "emissions", required_argument, NULL, 'E' },
		{ "account", required_argument, NULL, 'a' },
		{ "unregistered", required_argument, NULL, 'u' },
		{ "not-whitelisted", required_argument, NULL, 'n' },
		{ "min-gas-price", required_argument, NULL, 'g' },
		{ "data-sending-fee", required_argument, NULL, 'd' },
		{ "record", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 's' },
		{ "drop-ws-every", required_argument, NULL, 'D' },
		{ "http-error-rate", required_argument, NULL, 'x' },
		{ "http-429-rate", required_argument, NULL, 'X' },
		{ "delay-ms", required_argument, NULL, 'y' },
		{ "seq-mismatch-once", no_argument, NULL, 'S' },
		{ "fee-spike-once", no_argument, NULL, 'F' },
		{ "malformed-rate", required_argument, NULL, 'M' },
		{ "lose-reply-rate", required_argument, NULL, 'Z' },
		{ "lose-reply-hold-ms", required_argument, NULL, 'Z' },
		{ "fake-window-rate", required_argument, NULL, 'Z' },
		{ "mempool-cache-size", required_argument, NULL, 'Z' },
		{ "no-unconfirmed-txs", no_argument, NULL, 'Z' },
		{ "gas-price-walk", no_argument, NULL, DEVFEES_OPT_WALK },
		{ "fee-grant", required_argument, NULL, DEVFEES_OPT_GRANT },
		{ "no-feemarket", no_argument, NULL, DEVFEES_OPT_NO_FM },
		{ "gas-used", required_argument, NULL, DEVFEES_OPT_GAS_USED },
		{ "wallclock-windows", required_argument, NULL, DEVNEXT_OPT_WALLCLOCK },
		{ "arity", required_argument, NULL, DEVNEXT_OPT_ARITY },
		{ "topic-arity", required_argument, NULL, DEVNEXT_OPT_TOPIC_ARITY },
		{ "no-bundle-signature", no_argument, NULL, DEVNEXT_OPT_NO_SIG },
		{ "max-elements-per-forecast", required_argument, NULL, DEVFORECAST_OPT_MAX },
		{ "peers", required_argument, NULL, 0x180 },
		{ "truth", required_argument, NULL, 0x181 },
		{ "truth-lag", required_argument, NULL, 0x182 },
		{ "score-alpha", required_argument, NULL, 0x183 },
		{ "active", required_argument, NULL, 0x184 },
		{ "ws-one-block", no_argument, NULL, 1015 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct evhttp_bound_socket *sock;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct event *blk, *sterm, *sint;
	struct timeval tv;
	const char *port_file = NULL;
	long port = 0, v;
	double dv;
	int ch, i, li = 0;
	struct { char *spec; int kind; } pending[256];
	int npending = 0;

	memset(&D, 0, sizeof(D));
	D.chain_id = "devnet-1";
	D.block_ms = 1000;
	D.start_height = 1;
	D.epoch = 10;
	D.window = 5;
	snprintf(D.em, sizeof(D.em), "v10");
	D.min_gas_price = 10;
	D.data_sending_fee = 10000;
	D.registration_fee = 1000000;
	D.rng = 88172645463325252ULL;
	D.topics[D.ntopics++] = 67;
	while ((ch = getopt_long(argc, argv, "h", opts, &li)) != -1) {
		switch (ch) {
		case 'p':
			if (parse_long(optarg, 0, 65535, &port) == -1)
				return bad_arg("--port", optarg);
			break;
		case 'P': port_file = optarg; break;
		case 'c': D.chain_id = optarg; break;
		case 'b':
			if (parse_long(optarg, 10, 600000, &D.block_ms) == -1)
				return bad_arg("--block-ms", optarg);
			break;
		case 'H':
			if (parse_long(optarg, 1, 1L << 50, &v) == -1)
				return bad_arg("--start-height", optarg);
			D.start_height = v;
			break;
		case 't': case 'i': {
			char *cp = xstrdup(optarg), *tok, *save = NULL;
			uint32_t *l = ch == 't' ? D.topics : D.inactive;
			size_t *n = ch == 't' ? &D.ntopics : &D.ninactive;

			*n = 0;
			for (tok = strtok_r(cp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (parse_long(tok, 1, UINT32_MAX, &v) == -1 || *n >= MAXT)
					return bad_arg(ch == 't' ? "--topics" : "--inactive-topics",
					    optarg);
				l[(*n)++] = (uint32_t)v;
			}
			free(cp);
			break;
		}
		case 'e':
			if (parse_long(optarg, 1, 1000000, &D.epoch) == -1)
				return bad_arg("--epoch", optarg);
			break;
		case 'w':
			if (parse_long(optarg, 0, 1000000, &D.window) == -1)
				return bad_arg("--window", optarg);
			break;
		case 'E':
			if (strcmp(optarg, "v9") != 0 && strcmp(optarg, "v10") != 0)
				return bad_arg("--emissions", optarg);
			snprintf(D.em, sizeof(D.em), "%s", optarg);
			break;
		case 'a': case 'u': case 'n':
			if (npending >= 256)
				return bad_arg("--account", "too many");
			pending[npending].spec = optarg;
			pending[npending++].kind = ch;
			break;
		case 'g':
			if (parse_long(optarg, 0, 1L << 40, &v) == -1)
				return bad_arg("--min-gas-price", optarg);
			D.min_gas_price = (uint64_t)v;
			break;
		case 'd':
			if (parse_long(optarg, 0, 1L << 50, &v) == -1)
				return bad_arg("--data-sending-fee", optarg);
			D.data_sending_fee = (uint64_t)v;
			break;
		case 'r':
			D.record = fopen(optarg, "a");
			if (D.record == NULL) {
				fprintf(stderr, "allora-devnet: %s: %s\n", optarg, strerror(errno));
				return 2;
			}
			break;
		case 's':
			if (parse_long(optarg, 0, 1L << 62, &v) == -1)
				return bad_arg("--seed", optarg);
			D.rng = (uint64_t)v * 2654435761ULL + 1;
			break;
		case 1015:
			D.ws_one_block = 1;
			break;
		case 'D':
			if (parse_double(optarg, &dv) == -1 || dv < 0)
				return bad_arg("--drop-ws-every", optarg);
			D.drop_ws_every = dv;
			break;
		case 'x': case 'X': case 'M':
			if (parse_double(optarg, &dv) == -1 || dv < 0 || dv > 1)
				return bad_arg(ch == 'x' ? "--http-error-rate" : ch == 'X' ?
				    "--http-429-rate" : "--malformed-rate", optarg);
			if (ch == 'x')
				D.http_error_rate = dv;
			else if (ch == 'X')
				D.http_429_rate = dv;
			else
				D.malformed_rate = dv;
			break;
		case 'y':
			if (parse_long(optarg, 0, 600000, &D.delay_ms) == -1)
				return bad_arg("--delay-ms", optarg);
			break;
		case 'Z':
			if (faults_option(opts[li].name, optarg) != 1) {
				char o[64];

				snprintf(o, sizeof(o), "--%s", opts[li].name);
				return bad_arg(o, optarg);
			}
			break;
		case 'S': D.seq_mismatch_once = 1; break;
		case 'F': D.fee_spike_once = 1; break;
		case DEVFEES_OPT_WALK: case DEVFEES_OPT_GRANT: case DEVFEES_OPT_NO_FM:
		case DEVFEES_OPT_GAS_USED:
			if (devfees_option(ch, optarg) == -1)
				return bad_arg(ch == DEVFEES_OPT_GRANT ? "--fee-grant" : "--gas-used",
				    optarg);
			break;
		case DEVFORECAST_OPT_MAX:
			if (devforecast_option(ch, optarg) == -1)
				return bad_arg("--max-elements-per-forecast", optarg);
			break;
		case DEVNEXT_OPT_WALLCLOCK: case DEVNEXT_OPT_ARITY: case DEVNEXT_OPT_TOPIC_ARITY:
		case DEVNEXT_OPT_NO_SIG:
			if (devnext_option(ch, optarg) == -1)
				return bad_arg(ch == DEVNEXT_OPT_WALLCLOCK ? "--wallclock-windows" :
				    ch == DEVNEXT_OPT_ARITY ? "--arity" : "--topic-arity", optarg);
			break;
		case 0x180: case 0x181: case 0x182: case 0x183: case 0x184: {
			static const char *rn[] = { "peers", "truth", "truth-lag", "score-alpha",
			    "active" };

			if (rewards_option(rn[ch - 0x180], optarg) == -1)
				return bad_arg(rn[ch - 0x180], optarg);
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < npending; i++) {
		char *cp = xstrdup(pending[i].spec), *f[5], *save = NULL, *tok;
		int nf = 0;
		char hrp[16], e[64];
		uint8_t data[64];
		size_t dl;

		for (tok = strtok_r(cp, ":", &save); tok != NULL && nf < 5;
		    tok = strtok_r(NULL, ":", &save))
			f[nf++] = tok;
		if (nf < 2 || bech32_decode(f[0], hrp, sizeof(hrp), data, &dl, e, sizeof(e)) == -1)
			return bad_arg(pending[i].kind == 'a' ? "--account" : pending[i].kind == 'u' ?
			    "--unregistered" : "--not-whitelisted", pending[i].spec);
		if (pending[i].kind == 'a') {
			struct account *a;

			D.accts = xrealloc(D.accts, (D.nacct + 1) * sizeof(*D.accts));
			a = &D.accts[D.nacct++];
			memset(a, 0, sizeof(*a));
			snprintf(a->addr, sizeof(a->addr), "%s", f[0]);
			if (parse_long(f[1], 0, 1L << 62, &v) == -1)
				return bad_arg("--account", pending[i].spec);
			a->balance = (uint64_t)v;
			a->number = 100 + D.nacct;
			if (nf >= 3) {
				if (parse_long(f[2], 0, 1L << 62, &v) == -1)
					return bad_arg("--account", pending[i].spec);
				a->number = (uint64_t)v;
			}
			if (nf >= 4) {
				if (parse_long(f[3], 0, 1L << 62, &v) == -1)
					return bad_arg("--account", pending[i].spec);
				a->sequence = (uint64_t)v;
			}
			a->committed = a->sequence;
		} else {
			struct account *a = account(f[0]);

			if (a == NULL || parse_long(f[1], 1, UINT32_MAX, &v) == -1)
				return bad_arg(pending[i].kind == 'u' ? "--unregistered" :
				    "--not-whitelisted", pending[i].spec);
			if (pending[i].kind == 'u' && a->nunreg < MAXT)
				a->unregistered[a->nunreg++] = (uint32_t)v;
			if (pending[i].kind == 'n' && a->nnotwl < MAXT)
				a->notwl[a->nnotwl++] = (uint32_t)v;
		}
		free(cp);
	}
	if (rewards_setup(D.start_height, D.epoch, D.window, D.em, D.rng, record) == -1)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	devfees_start(D.min_gas_price, D.rng);
	devnext_start(D.em);
	devnet_started = wall_s();
	D.height = D.start_height - 1;
	D.fulfilled = json_object();
	D.results = json_object();
	D.base = event_base_new();
	faults_init(D.base, rnd, record);
	D.http = evhttp_new(D.base);
	evhttp_set_allowed_methods(D.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_gencb(D.http, handle, NULL);
	sock = evhttp_bind_socket_with_handle(D.http, "127.0.0.1", (uint16_t)port);
	if (sock == NULL) {
		fprintf(stderr, "allora-devnet: cannot listen on 127.0.0.1:%ld\n", port);
		return 1;
	}
	getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&sin, &sl);
	printf("%u\n", ntohs(sin.sin_port));
	fflush(stdout);
	if (port_file != NULL) {
		char buf[16];

		snprintf(buf, sizeof(buf), "%u\n", ntohs(sin.sin_port));
		if (write_file_atomic(port_file, buf, strlen(buf), 0644) == -1) {
			fprintf(stderr, "allora-devnet: %s: %s\n", port_file, strerror(errno));
			return 1;
		}
	}
	D.last_drop = wall_s();
	make_block(-1, 0, NULL);	/* the start height, with its windows */
	blk = event_new(D.base, -1, EV_PERSIST, make_block, NULL);
	tv.tv_sec = D.block_ms / 1000;
	tv.tv_usec = (D.block_ms % 1000) * 1000;
	evtimer_add(blk, &tv);
	sterm = evsignal_new(D.base, SIGTERM, stop_cb, NULL);
	sint = evsignal_new(D.base, SIGINT, stop_cb, NULL);
	evsignal_add(sterm, NULL);
	evsignal_add(sint, NULL);
	event_base_dispatch(D.base);
	ws_reap(1);
	event_free(blk);
	event_free(sterm);
	event_free(sint);
	evhttp_free(D.http);
	faults_free();
	if (D.record != NULL)
		fclose(D.record);
	return 0;
}
