/*
 * alloractl check (preflight against the chain) and alloractl register (RegisterRequest
 * through a one-shot child).  Key material is only ever loaded in a forked child that
 * reports the address (check) or the transaction's fate (register) over a pipe; alloractl's
 * own memory never holds more than the address.  Chain calls go through the synchronous
 * client of the command-line tools (common/rpc_sync.h).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "config.h"
#include "ctl.h"
#include "etcd.h"
#include "http.h"
#include "keyfile.h"
#include "keys.h"
#include "log.h"
#include "query.pb-c.h"
#include "rpc.h"
#include "rpc_sync.h"
#include "tx.h"
#include "util.h"

/* The configuration's .env, which alloractl itself read without its mnemonic variables. */
static const char *ctl_env_path;

/*
 * A wallet's mnemonic, in a child only: from its file (0600) or its environment variable
 * (from the environment, or from the .env, read here: never in alloractl's own memory).
 */
static char *
mnemonic_load(const struct config_wallet *w, char *err, size_t errlen)
{
	const char *env;

	if (w->mnemonic_file != NULL)
		return keyfile_read(w->mnemonic_file, err, errlen);
	if (getenv(w->mnemonic_env) == NULL && ctl_env_path != NULL) {
		config_dotenv_secrets(1);
		if (config_load_dotenv(ctl_env_path, err, errlen) == -1)
			return NULL;
	}
	if ((env = getenv(w->mnemonic_env)) != NULL && *env != '\0')
		return xstrdup(env);
	snprintf(err, errlen, "%s is not set", w->mnemonic_env);
	return NULL;
}

static void
mnemonic_free(const struct config_wallet *w, char *m)
{
	if (m == NULL)
		return;
	if (w->mnemonic_file != NULL)
		keyfile_free(m);
	else {
		key_clear(m, strlen(m));
		free(m);
	}
}

/* Loads a wallet's key in a forked child; the parent gets the address (or the error). */
static int
child_address(const struct config_wallet *w, char *addr, size_t addrlen, char *err,
    size_t errlen)
{
	int p[2], st;
	pid_t pid;
	char buf[512];
	ssize_t n;

	if (pipe(p) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		uint8_t priv[32], pub[33];
		char *m, e[400], out[512];
		int len;

		close(p[0]);
		prctl(PR_SET_DUMPABLE, 0);
		m = mnemonic_load(w, e, sizeof(e));
		if (m != NULL && key_from_mnemonic(m, w->hd_path, priv, pub, e, sizeof(e)) == 0) {
			char a[ADDR_MAX];

			key_address(pub, a, sizeof(a));
			len = snprintf(out, sizeof(out), "OK %s", a);
		} else
			len = snprintf(out, sizeof(out), "ERR %s", e);
		mnemonic_free(w, m);
		key_clear(priv, sizeof(priv));
		if (write(p[1], out, (size_t)len) != len)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	if (pid == -1) {
		close(p[0]);
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	waitpid(pid, &st, 0);
	buf[n > 0 ? n : 0] = '\0';
	if (strncmp(buf, "OK ", 3) == 0) {
		snprintf(addr, addrlen, "%s", buf + 3);
		return 0;
	}
	snprintf(err, errlen, "%s", strncmp(buf, "ERR ", 4) == 0 ? buf + 4 : "the key check failed");
	return -1;
}

/* ---- check ---- */

enum { L_OK, L_WARN, L_ERR, L_SKIP };
static int nerr, nwarn;

static void
line(const char *what, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
line(const char *what, int level, const char *fmt, ...)
{
	static const char *tag[] = { "ok", "warning", "error", "skipped" };
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("%-8s %-28s %s\n", tag[level], what, msg);
	if (level == L_ERR)
		nerr++;
	else if (level == L_WARN)
		nwarn++;
}

static int
topic_addr_query(struct sync *s, const char *em, const char *method, uint32_t topic,
    const char *addr)
{
	Awq__TopicAddressRequest req = AWQ__TOPIC_ADDRESS_REQUEST__INIT;
	uint8_t buf[160];
	char path[128];
	size_t n;

	req.topic_id = topic;
	req.address = addr != NULL && *addr != '\0' ? (char *)addr : NULL;
	n = awq__topic_address_request__pack(&req, buf);
	snprintf(path, sizeof(path), "/emissions.%s.QueryService/%s", em, method);
	return sync_abci(s, path, buf, n) == RPC_OK && s->code == 0 ? 0 : -1;
}

/*
 * The websocket: a TCP (TLS for wss://) connection and an HTTP upgrade that the server
 * accepts with 101 and the right Sec-WebSocket-Accept.  -1 with err.
 */
static int
ws_probe(const char *url, long timeout_ms, char *err, size_t errlen)
{
	static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";	/* RFC 6455 §1.3 */
	static const char accept[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
	struct evhttp_uri *u = evhttp_uri_parse(url);
	struct addrinfo hints, *res = NULL, *ai;
	struct timeval tv;
	const char *scheme, *host, *path, *query;
	char port[16], req[1024], resp[4096], cerr[256] = "no address", name[256];
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	size_t got = 0;
	int fd = -1, tls, p, rc = -1, gai;
	ssize_t n;

	if (u == NULL || (scheme = evhttp_uri_get_scheme(u)) == NULL ||
	    (host = evhttp_uri_get_host(u)) == NULL ||
	    (strcmp(scheme, "ws") != 0 && strcmp(scheme, "wss") != 0)) {
		snprintf(err, errlen, "not a ws:// or wss:// URL");
		goto out;
	}
	tls = strcmp(scheme, "wss") == 0;
	p = evhttp_uri_get_port(u);
	snprintf(port, sizeof(port), "%d", p > 0 ? p : tls ? 443 : 80);
	path = evhttp_uri_get_path(u);
	query = evhttp_uri_get_query(u);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* An IPv6 literal keeps its brackets in the Host header only. */
	snprintf(name, sizeof(name), "%s", host[0] == '[' ? host + 1 : host);
	if (host[0] == '[' && strchr(name, ']') != NULL)
		*strchr(name, ']') = '\0';
	if ((gai = getaddrinfo(name, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(gai));
		goto out;
	}
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
		struct pollfd pfd;
		int e = 0;
		socklen_t el = sizeof(e);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
			if (errno != EINPROGRESS)
				e = errno;
			else {
				pfd.fd = fd;
				pfd.events = POLLOUT;
				if (poll(&pfd, 1, (int)timeout_ms) != 1)
					e = ETIMEDOUT;
				else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == -1)
					e = errno;
			}
		}
		if (e != 0) {
			snprintf(cerr, sizeof(cerr), "%s", strerror(e));
			close(fd);
			fd = -1;
		}
	}
	if (fd == -1) {
		snprintf(err, errlen, "cannot connect to %s port %s: %s", host, port, cerr);
		goto out;
	}
	/* Blocking from here, every read and write bounded by the timeout. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (tls) {
		ctx = SSL_CTX_new(TLS_client_method());
		if (ctx == NULL || (ssl = SSL_new(ctx)) == NULL) {
			snprintf(err, errlen, "TLS: cannot set up");
			goto out;
		}
		SSL_CTX_set_default_verify_paths(ctx);
		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
		SSL_set_tlsext_host_name(ssl, name);
		SSL_set1_host(ssl, name);
		SSL_set_fd(ssl, fd);
		if (SSL_connect(ssl) != 1) {
			long v = SSL_get_verify_result(ssl);

			snprintf(err, errlen, "TLS handshake with %s failed%s%s", name,
			    v != X509_V_OK ? ": " : "", v != X509_V_OK ?
			    X509_verify_cert_error_string(v) : "");
			goto out;
		}
	}
	snprintf(req, sizeof(req), "GET %s%s%s HTTP/1.1\r\nHost: %s%s%s\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
	    "User-Agent: alloractl-check\r\n\r\n", path != NULL && *path != '\0' ? path : "/",
	    query != NULL ? "?" : "", query != NULL ? query : "", host, p > 0 ? ":" : "",
	    p > 0 ? port : "", key);
	n = tls ? SSL_write(ssl, req, (int)strlen(req)) : write(fd, req, strlen(req));
	if (n != (ssize_t)strlen(req)) {
		snprintf(err, errlen, "cannot send the upgrade request");
		goto out;
	}
	while (got < sizeof(resp) - 1) {
		n = tls ? SSL_read(ssl, resp + got, (int)(sizeof(resp) - 1 - got)) :
		    read(fd, resp + got, sizeof(resp) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		resp[got] = '\0';
		if (strstr(resp, "\r\n\r\n") != NULL)
			break;
	}
	resp[got] = '\0';
	if (got == 0) {
		snprintf(err, errlen, "no answer to the upgrade request within %ld ms", timeout_ms);
		goto out;
	}
	if (strncmp(resp, "HTTP/1.1 101", 12) != 0) {
		char *eol = strpbrk(resp, "\r\n");

		if (eol != NULL)
			*eol = '\0';
		snprintf(err, errlen, "not a websocket: the server answered \"%.80s\"", resp);
		goto out;
	}
	if (strcasestr(resp, accept) == NULL) {
		snprintf(err, errlen, "the upgrade answer has no valid Sec-WebSocket-Accept");
		goto out;
	}
	rc = 0;
out:
	if (ssl != NULL)
		SSL_free(ssl);
	if (ctx != NULL)
		SSL_CTX_free(ctx);
	if (fd != -1)
		close(fd);
	if (res != NULL)
		freeaddrinfo(res);
	if (u != NULL)
		evhttp_uri_free(u);
	return rc;
}

enum { MD_TIINGO, MD_COINBASE, MD_BINANCE };

/*
 * The source's symbol for a ticker, as the trainer asks for it (trainer/fetch.c
 * fetch_symbol): Tiingo's lower-case ticker, else base + usd|usdt as BASE-USD (Coinbase)
 * or BASEUSDT (Binance).  -1 when the ticker has no such form.
 */
static int
md_symbol(int src, const char *ticker, char *out, size_t len)
{
	char tk[40];
	size_t i, n = ticker != NULL ? strlen(ticker) : 0;

	if (n == 0 || n >= sizeof(tk))
		return -1;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)ticker[i]))
			return -1;
		tk[i] = (char)(src == MD_TIINGO ? tolower((unsigned char)ticker[i]) :
		    toupper((unsigned char)ticker[i]));
	}
	tk[n] = '\0';
	if (src == MD_TIINGO) {
		snprintf(out, len, "%s", tk);
		return 0;
	}
	if (n > 4 && strcmp(tk + n - 4, "USDT") == 0)
		n -= 4;
	else if (n > 3 && strcmp(tk + n - 3, "USD") == 0)
		n -= 3;
	else
		return -1;
	tk[n] = '\0';
	snprintf(out, len, src == MD_COINBASE ? "%s-USD" : "%sUSDT", tk);
	return 0;
}

/* The newest complete hourly bar's start in a source's answer (0 when there is none). */
static double
newest_bar(const char *body, int src)
{
	json_t *doc = json_loads(body, 0, NULL), *v, *bar;
	double newest = 0, t, now = (double)time(NULL);
	size_t i;

	switch (src) {
	case MD_TIINGO:		/* [{"priceData": [{"date": ISO-8601, ...}]}] */
		v = json_object_get(json_array_get(doc, 0), "priceData");
		json_array_foreach(v, i, bar) {
			const char *d = json_string_value(json_object_get(bar, "date"));

			if (d != NULL && parse_iso8601(d, &t) == 0 && t > newest &&
			    t + 3600 <= now)
				newest = t;
		}
		break;
	case MD_COINBASE:	/* [[time, low, high, open, close, volume], ...] */
		json_array_foreach(doc, i, bar) {
			t = json_number_value(json_array_get(bar, 0));
			if (t > newest && t + 3600 <= now)
				newest = t;
		}
		break;
	default:		/* [[openTime ms, "open", ..., closeTime ms, ...], ...] */
		json_array_foreach(doc, i, bar) {
			t = json_number_value(json_array_get(bar, 0)) / 1000;
			if (t > newest && t + 3600 <= now)
				newest = t;
		}
		break;
	}
	json_decref(doc);
	return newest;
}

/* Staleness as the trainer measures it: from the end of the newest complete bar. */
static void
fresh_line(const char *what, const struct config_topic *t, const char *src, double newest)
{
	double age = (double)time(NULL) - (newest + 3600);

	if (age > (double)t->stale_after_s)
		line(what, L_WARN, "%s: the newest complete bar ended %.1f h ago (stale_after_s = "
		    "%ld): built-in models would submit the fallback", src, age / 3600,
		    t->stale_after_s);
	else
		line(what, L_OK, "%s: the newest complete bar ended %.0f min ago", src, age / 60);
}

static void
check_market_data(struct sync *s, const struct config *c, const struct config_topic *t)
{
	static const char *const def_url[] = { NULL, "https://api.exchange.coinbase.com",
	    "https://data-api.binance.vision" };
	char what[64], *url, *key = NULL, *auth = NULL, from[32], sym[64];
	const char *hdr[3] = { NULL, NULL, NULL }, *base;
	struct sync_get g;
	time_t since = time(NULL) - 2 * 86400;
	struct tm tm;
	int src;
	double newest;

	snprintf(what, sizeof(what), "topic %u market data", t->id);
	if (strncmp(t->data_source, "csv:", 4) == 0) {
		const char *path = t->data_source + 4;
		size_t len;
		char *data = read_file(path, (size_t)1 << 30, &len), *p, *nl;
		long long ts = 0, now = (long long)time(NULL);
		int lines;

		if (data == NULL) {
			line(what, L_ERR, "%s: %s", path, strerror(errno));
			return;
		}
		/* From the end: the newest bar whose hour has ended ("unix,close" lines). */
		p = data + len;
		for (lines = 0; p > data && lines < 4; lines++) {
			while (p > data && (p[-1] == '\n' || p[-1] == '\r'))
				*--p = '\0';
			nl = p;
			while (nl > data && nl[-1] != '\n')
				nl--;
			ts = atoll(nl);
			if (ts <= 0 || ts + 3600 <= now)
				break;
			p = nl;
		}
		if (ts <= 0)
			line(what, L_ERR, "%s: no \"unix,close\" line at its end", path);
		else if (ts + 3600 > now)
			line(what, L_ERR, "%s: no complete hourly bar at its end", path);
		else
			fresh_line(what, t, path, (double)ts);
		free(data);
		return;
	}
	if (strcmp(t->data_source, "tiingo") == 0)
		src = MD_TIINGO;
	else if (strcmp(t->data_source, "coinbase") == 0)
		src = MD_COINBASE;
	else if (strcmp(t->data_source, "binance") == 0)
		src = MD_BINANCE;
	else {
		line(what, L_ERR, "data_source %s cannot be fetched", t->data_source);
		return;
	}
	if (md_symbol(src, t->ticker, sym, sizeof(sym)) == -1) {
		line(what, L_ERR, "ticker %s has no %s symbol", t->ticker, t->data_source);
		return;
	}
	gmtime_r(&since, &tm);
	strftime(from, sizeof(from), "%Y-%m-%d", &tm);
	base = src == MD_TIINGO ? t->tiingo_url : t->data_url != NULL && t->data_url[0] != '\0' ?
	    t->data_url : def_url[src];
	if (src == MD_TIINGO) {
		size_t len;

		if (t->tiingo_key_file != NULL && t->tiingo_key_file[0] != '\0') {
			if ((key = read_file(t->tiingo_key_file, 4096, &len)) == NULL) {
				line(what, L_ERR, "tiingo_key_file %s: %s", t->tiingo_key_file,
				    strerror(errno));
				return;
			}
			while (len > 0 && isspace((unsigned char)key[len - 1]))
				key[--len] = '\0';
		} else if (getenv("TIINGO_API_KEY") != NULL && *getenv("TIINGO_API_KEY") != '\0')
			key = xstrdup(getenv("TIINGO_API_KEY"));
		else {
			line(what, L_ERR, "tiingo needs TIINGO_API_KEY or tiingo_key_file");
			return;
		}
		auth = xasprintf("Authorization: Token %s", key);
		explicit_bzero(key, strlen(key));
		free(key);
		hdr[0] = auth;
		hdr[1] = "Content-Type: application/json";
		url = xasprintf("%s/tiingo/crypto/prices?tickers=%s&startDate=%s&resampleFreq=1hour",
		    base, sym, from);
	} else if (src == MD_COINBASE) {
		hdr[0] = "User-Agent: allora-workerd";
		url = xasprintf("%s/products/%s/candles?granularity=3600&start=%sT00:00:00Z",
		    base, sym, from);
	} else {
		hdr[0] = "User-Agent: allora-workerd";
		url = xasprintf("%s/api/v3/klines?symbol=%s&interval=1h&startTime=%lld000"
		    "&limit=1000", base, sym, (long long)since);
	}
	if (sync_get(s, url, hdr, c->request_timeout_ms, &g) == -1)
		line(what, L_ERR, "%s: cannot start the request", t->data_source);
	else if (g.curl_code != 0)
		line(what, L_ERR, "%s unreachable: %s", t->data_source, g.error);
	else if (g.status == 401 || g.status == 403)
		line(what, L_ERR, "%s refused the request (HTTP %ld)%s", t->data_source, g.status,
		    src == MD_TIINGO ? ": check the API key" : "");
	else if (g.status != 200)
		line(what, L_ERR, "%s answered HTTP %ld", t->data_source, g.status);
	else if ((newest = newest_bar(g.body, src)) <= 0)
		line(what, L_ERR, "%s answered no hourly %s bars for the last two days",
		    t->data_source, sym);
	else
		fresh_line(what, t, t->data_source, newest);
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	free(url);
	sync_get_free(&g);
}

/* The fee of one submission: gas times price, capped, plus the data sending fee. */
static uint64_t
submission_cost(const struct config *c, uint64_t data_fee)
{
	double fee = ceil((double)(c->gas_limit > 0 ? c->gas_limit : 300000) * c->gas_price);

	if (fee > (double)c->max_fee)
		fee = (double)c->max_fee;
	return (uint64_t)fee + data_fee;
}

static void
check_balance(struct sync *s, const struct config *c, const struct config_wallet *w,
    const char *addr, uint64_t data_fee)
{
	Awq__QueryBalanceRequest br = AWQ__QUERY_BALANCE_REQUEST__INIT;
	Awq__QueryBalanceResponse *bal;
	uint8_t buf[160];
	size_t n;
	uint64_t have, per = submission_cost(c, data_fee);
	char what[64];

	snprintf(what, sizeof(what), "wallet %s balance", w->name);
	br.address = (char *)addr;
	br.denom = (char *)"uallo";
	n = awq__query_balance_request__pack(&br, buf);
	if (sync_abci(s, "/cosmos.bank.v1beta1.Query/Balance", buf, n) != RPC_OK ||
	    s->code != 0) {
		line(what, L_ERR, "cannot ask the chain: %s", sync_why(s));
		return;
	}
	bal = awq__query_balance_response__unpack(NULL, s->value_len, s->value);
	have = bal && bal->balance && bal->balance->amount ?
	    strtoull(bal->balance->amount, NULL, 10) : 0;
	if (bal != NULL)
		awq__query_balance_response__free_unpacked(bal, NULL);
	if (have < per)
		line(what, L_ERR, "%" PRIu64 " uallo: less than one submission (%" PRIu64
		    " uallo)", have, per);
	else if (have < per * (uint64_t)c->balance_warn_submissions)
		line(what, L_WARN, "%" PRIu64 " uallo: fewer than %ld submissions "
		    "(balance_warn_submissions; %" PRIu64 " uallo each)", have,
		    c->balance_warn_submissions, per);
	else
		line(what, L_OK, "%" PRIu64 " uallo: about %" PRIu64 " submissions", have,
		    have / (per ? per : 1));
}

/* The lines of a topic that cannot be checked, marked skipped with the reason. */
static void
skip_topic_lines(const struct config_topic *t, int active_too, const char *why)
{
	static const char *names[] = { "active", "registration", "whitelist" };
	char what[64];
	size_t i;

	for (i = active_too ? 0 : 1; i < 3; i++) {
		snprintf(what, sizeof(what), "topic %u %s", t->id, names[i]);
		line(what, L_SKIP, "%s", why);
	}
}

/* The chain's lines of one topic; addr is NULL when the wallet's key did not load. */
static void
check_topic_chain(struct sync *s, const char *em, const struct config_topic *t,
    const char *addr, uint64_t reg_fee)
{
	Awq__TopicIdRequest tr = AWQ__TOPIC_ID_REQUEST__INIT;
	Awq__GetTopicResponse *gt = NULL;
	Awq__GetWorkerSubmissionWindowStatusResponse *ws;
	uint8_t buf[160];
	char what[64], path[96];
	size_t n;
	int yes;

	snprintf(what, sizeof(what), "topic %u", t->id);
	tr.topic_id = t->id;
	n = awq__topic_id_request__pack(&tr, buf);
	snprintf(path, sizeof(path), "/emissions.%s.QueryService/GetTopic", em);
	if (sync_abci(s, path, buf, n) != RPC_OK) {
		line(what, L_ERR, "cannot ask the chain: %s", sync_why(s));
		return;
	}
	if (s->code != 0 || (gt = awq__get_topic_response__unpack(NULL, s->value_len,
	    s->value)) == NULL || gt->topic == NULL || gt->topic->id != t->id) {
		line(what, L_ERR, "does not exist on this chain (%s)", sync_why(s));
		if (gt != NULL)
			awq__get_topic_response__free_unpacked(gt, NULL);
		skip_topic_lines(t, 1, "no such topic");
		return;
	}
	line(what, L_OK, "\"%s\": epoch %" PRId64 " blocks, window %" PRId64 " blocks",
	    gt->topic->metadata ? gt->topic->metadata : "", gt->topic->epoch_length,
	    gt->topic->worker_submission_window);
	awq__get_topic_response__free_unpacked(gt, NULL);

	snprintf(what, sizeof(what), "topic %u active", t->id);
	if (topic_addr_query(s, em, "GetWorkerSubmissionWindowStatus", t->id, addr) == -1)
		line(what, L_WARN, "cannot tell: %s", sync_why(s));
	else if ((ws = awq__get_worker_submission_window_status_response__unpack(NULL,
	    s->value_len, s->value)) == NULL)
		line(what, L_WARN, "cannot tell: %s", sync_why(s));
	else {
		if (!ws->is_topic_active)
			line(what, L_ERR, "the topic is not active: the chain opens no worker "
			    "windows for it");
		else if (ws->is_open)
			line(what, L_OK, "a window is open now (nonce %" PRId64 ", until block %"
			    PRId64 ")", ws->current_nonce_block_height, ws->window_end_block);
		else
			line(what, L_OK, "next window at block %" PRId64,
			    ws->next_window_start_block);
		awq__get_worker_submission_window_status_response__free_unpacked(ws, NULL);
	}

	if (addr == NULL) {
		skip_topic_lines(t, 0, "the wallet's key did not load");
		return;
	}
	snprintf(what, sizeof(what), "topic %u registration", t->id);
	if (topic_addr_query(s, em, "IsWorkerRegisteredInTopicId", t->id, addr) == -1)
		line(what, L_ERR, "cannot ask the chain: %s", sync_why(s));
	else {
		Awq__IsWorkerRegisteredInTopicIdResponse *r =
		    awq__is_worker_registered_in_topic_id_response__unpack(NULL, s->value_len,
		    s->value);

		yes = r != NULL && r->is_registered;
		if (r != NULL)
			awq__is_worker_registered_in_topic_id_response__free_unpacked(r, NULL);
		if (yes)
			line(what, L_OK, "%s is registered", addr);
		else
			line(what, L_ERR, "%s is not registered: run `alloractl register --topic %u`"
			    " (registration fee %" PRIu64 " uallo)", addr, t->id, reg_fee);
	}
	snprintf(what, sizeof(what), "topic %u whitelist", t->id);
	if (topic_addr_query(s, em, "CanSubmitWorkerPayload", t->id, addr) == -1)
		line(what, L_ERR, "cannot ask the chain: %s", sync_why(s));
	else {
		Awq__CanSubmitWorkerPayloadResponse *r =
		    awq__can_submit_worker_payload_response__unpack(NULL, s->value_len, s->value);

		yes = r != NULL && r->can_submit_worker_payload;
		if (r != NULL)
			awq__can_submit_worker_payload_response__free_unpacked(r, NULL);
		if (yes)
			line(what, L_OK, "%s may submit", addr);
		else
			line(what, L_ERR, "%s may not submit to topic %u (CanSubmitWorkerPayload is "
			    "false: not whitelisted; contact the topic creator)", addr, t->id);
	}
}

/* The emissions version: configured, or detected (-1 when the chain does not answer). */
static int
emissions_version(struct sync *s, const struct config *c, char *em, size_t emlen)
{
	if (strcmp(c->emissions, "auto") != 0) {
		snprintf(em, emlen, "%s", c->emissions);
		return 0;
	}
	if (sync_abci(s, "/emissions.v10.QueryService/GetParams", (const uint8_t *)"", 0) !=
	    RPC_OK)
		return -1;
	snprintf(em, emlen, "%s", s->code == 0 ? "v10" : "v9");
	return 1;
}

/* data_sending_fee and registration_fee of the module's parameters (0 when unknown). */
static void
module_fees(struct sync *s, const char *em, uint64_t *data_fee, uint64_t *reg_fee)
{
	char path[96];
	Awq__GetParamsResponse *r;

	*data_fee = *reg_fee = 0;
	snprintf(path, sizeof(path), "/emissions.%s.QueryService/GetParams", em);
	if (sync_abci(s, path, (const uint8_t *)"", 0) == RPC_OK && s->code == 0 &&
	    (r = awq__get_params_response__unpack(NULL, s->value_len, s->value)) != NULL) {
		if (r->params && r->params->data_sending_fee)
			*data_fee = strtoull(r->params->data_sending_fee, NULL, 10);
		if (r->params && r->params->registration_fee)
			*reg_fee = strtoull(r->params->registration_fee, NULL, 10);
		awq__get_params_response__free_unpacked(r, NULL);
	}
}

/* [cluster]: each etcd endpoint (common/etcd.c); none answering is an error. */
static void
check_cluster(const struct config *c)
{
	char msg[1024];
	size_t i, up = 0;

	for (i = 0; i < c->netcd; i++) {
		if (etcd_probe(c, i, msg, sizeof(msg)) == 0) {
			up++;
			line("etcd", L_OK, "%s %s", c->etcd[i], msg);
		} else
			line("etcd", c->netcd == 1 ? L_ERR : L_WARN, "%s", msg);
	}
	if (up == 0 && c->netcd > 1)
		line("etcd", L_ERR, "none of the %zu endpoints answers with a quorum: this host "
		    "would sign nothing", c->netcd);
	else if (up > 0)
		line("cluster", L_OK, "host %s, prefix %s, lease TTL %ld s", c->cluster_name,
		    c->cluster_prefix, c->lease_ttl_s);
}

static int
cmd_check(const struct ctl_opts *o, int argc, char **argv)
{
	struct config *c;
	struct sync s;
	char err[2048], em[8] = "v10", (*addrs)[ADDR_MAX];
	size_t i, k, nup = 0, nbad_id = 0;
	int ch, chain;
	uint64_t data_fee = 0, reg_fee = 0;
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h') {
			printf("usage: alloractl [-c FILE] check\n"
			    "Preflight: configuration, keys, RPC and websocket, chain id, emissions "
			    "version,\ntopics (exist, active), registration, whitelist, balance and "
			    "market data; one\nline each with ok, warning or error (or skipped when "
			    "what it needs failed).\nExit status 0 when nothing is an error, else 1 "
			    "(2: configuration error).\n");
			return 0;
		}
		return 2;
	}
	if (optind != argc) {
		fprintf(stderr, "alloractl check: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	nerr = nwarn = 0;
	c = config_load(o->config, NULL, err, sizeof(err));
	if (c == NULL) {
		line("configuration", L_ERR, "%s", err);
		return 2;
	}
	ctl_env_path = c->env_path;
	line("configuration", L_OK, "%s: %zu topic(s), %zu wallet(s)", c->path ? c->path : ".env",
	    c->ntopics, c->nwallets);
	sync_init(&s, c);

	/* RPC endpoints, one by one, and the chain id each serves. */
	for (i = 0; i < c->nrpc; i++) {
		struct rpc *one = rpc_new(s.http, &c->rpc[i], 1, c->request_timeout_ms);
		struct rpc *saved = s.rpc;
		const char *net, *h;

		s.rpc = one;
		if (sync_call(&s, "status", NULL) != RPC_OK) {
			const char *why = sync_why(&s);

			/* The transport's errors name the endpoint already. */
			if (strncmp(why, c->rpc[i], strlen(c->rpc[i])) == 0)
				line("rpc", c->nrpc == 1 ? L_ERR : L_WARN, "unreachable: %s", why);
			else
				line("rpc", c->nrpc == 1 ? L_ERR : L_WARN, "%s unreachable: %s",
				    c->rpc[i], why);
		} else {
			nup++;
			net = json_string_value(json_object_get(json_object_get(s.result,
			    "node_info"), "network"));
			h = json_string_value(json_object_get(json_object_get(s.result,
			    "sync_info"), "latest_block_height"));
			line("rpc", L_OK, "%s answers, height %s", c->rpc[i], h ? h : "?");
			if (net == NULL || strcmp(net, c->chain_id) != 0) {
				line("chain id", L_ERR, "%s serves chain \"%s\", the configuration "
				    "says \"%s\"", c->rpc[i], net ? net : "?", c->chain_id);
				nbad_id++;
			}
		}
		s.rpc = saved;
		rpc_free(one);
	}
	if (nup == 0 && c->nrpc > 1)
		line("rpc", L_ERR, "none of the %zu endpoints answers", c->nrpc);
	if (nup > 0 && nbad_id == 0)
		line("chain id", L_OK, "%s", c->chain_id);
	chain = nup > 0;

	if (ws_probe(c->websocket, c->request_timeout_ms, err, sizeof(err)) == -1)
		line("websocket", L_ERR, "%s: %s (the daemon would find windows by polling only)",
		    c->websocket, err);
	else
		line("websocket", L_OK, "%s accepts the upgrade", c->websocket);

	if (!chain)
		line("chain", L_SKIP, "emissions, balances, topics, registration, whitelist: no "
		    "RPC endpoint answers");
	else {
		int r = emissions_version(&s, c, em, sizeof(em));

		if (r == -1) {
			line("emissions", L_ERR, "cannot ask the chain: %s", sync_why(&s));
			chain = 0;
		} else
			line("emissions", L_OK, "%s (%s)", em, r ? "detected" : "configured");
		if (chain)
			module_fees(&s, em, &data_fee, &reg_fee);
	}

	/* Wallets: the key loads in a child; then the balance. */
	addrs = xcalloc(c->nwallets, sizeof(*addrs));
	for (k = 0; k < c->nwallets; k++) {
		const struct config_wallet *w = &c->wallets[k];
		char what[64];

		snprintf(what, sizeof(what), "wallet %s key", w->name);
		if (child_address(w, addrs[k], sizeof(addrs[k]), err, sizeof(err)) == -1) {
			addrs[k][0] = '\0';
			line(what, L_ERR, "%s", err);
			continue;
		}
		if (w->expect_address != NULL && strcmp(w->expect_address, addrs[k]) != 0) {
			line(what, L_ERR, "derives %s, but the configured address is %s", addrs[k],
			    w->expect_address);
			addrs[k][0] = '\0';
			continue;
		}
		line(what, L_OK, "%s (%s)", addrs[k], w->hd_path);
		if (chain)
			check_balance(&s, c, w, addrs[k], data_fee);
	}

	/* Topics. */
	for (i = 0; i < c->ntopics; i++) {
		const struct config_topic *t = &c->topics[i];
		const char *addr = NULL;

		for (k = 0; k < c->nwallets; k++)
			if (strcmp(c->wallets[k].name, t->wallet) == 0 && addrs[k][0] != '\0')
				addr = addrs[k];
		if (chain)
			check_topic_chain(&s, em, t, addr, reg_fee);
		check_market_data(&s, c, t);
	}
	if (c->cluster_line != 0)
		check_cluster(c);
	free(addrs);
	sync_free(&s);
	config_free(c);
	printf("%d error(s), %d warning(s)\n", nerr, nwarn);
	return nerr > 0 ? 1 : 0;
}

/* ---- register ---- */

static int
child_reply(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
child_reply(int fd, const char *fmt, ...)
{
	char out[1024];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(out, sizeof(out), fmt, ap);
	va_end(ap);
	if (len >= (int)sizeof(out))
		len = (int)sizeof(out) - 1;
	return write(fd, out, (size_t)len) == len ? 0 : -1;
}

/* 1 registered, 0 not, -1 cannot tell. */
static int
is_registered(struct sync *s, const char *em, uint32_t topic, const char *addr)
{
	Awq__IsWorkerRegisteredInTopicIdResponse *r;
	int yes;

	if (topic_addr_query(s, em, "IsWorkerRegisteredInTopicId", topic, addr) == -1 ||
	    (r = awq__is_worker_registered_in_topic_id_response__unpack(NULL, s->value_len,
	    s->value)) == NULL)
		return -1;
	yes = r->is_registered != 0;
	awq__is_worker_registered_in_topic_id_response__free_unpacked(r, NULL);
	return yes;
}

/*
 * The one-shot child: the only place the key exists.  Writes one line to fd: "OK address
 * txhash height", "ALREADY address" or "ERR text", and exits.
 */
static void
register_child(const struct config *c, const struct config_wallet *w, uint32_t topic,
    const char *em, int fd)
{
	struct sync s;
	uint8_t priv[32], pub[33], buf[160], hash[32];
	char *m, e[512], addr[ADDR_MAX];
	struct tx_params tp;
	struct tx_out tx;
	Awq__QueryAccountInfoRequest ar = AWQ__QUERY_ACCOUNT_INFO_REQUEST__INIT;
	Awq__QueryAccountInfoResponse *acc;
	Awq__QueryBalanceRequest br = AWQ__QUERY_BALANCE_REQUEST__INIT;
	Awq__QueryBalanceResponse *bal;
	uint64_t data_fee, reg_fee, have;
	int64_t deadline;
	size_t n, i;
	int rc;
	double fee;

	prctl(PR_SET_DUMPABLE, 0);
	memset(&tx, 0, sizeof(tx));
	m = mnemonic_load(w, e, sizeof(e));
	rc = m != NULL ? key_from_mnemonic(m, w->hd_path, priv, pub, e, sizeof(e)) : -1;
	mnemonic_free(w, m);
	if (rc == -1) {
		key_clear(priv, sizeof(priv));
		child_reply(fd, "ERR wallet %s: %s", w->name, e);
		_exit(1);
	}
	key_address(pub, addr, sizeof(addr));
	sync_init(&s, c);
	switch (is_registered(&s, em, topic, addr)) {
	case 1:
		key_clear(priv, sizeof(priv));
		child_reply(fd, "ALREADY %s", addr);
		_exit(0);
	case -1:
		key_clear(priv, sizeof(priv));
		child_reply(fd, "ERR cannot ask the chain whether %s is registered: %s", addr,
		    sync_why(&s));
		_exit(1);
	}
	ar.address = addr;
	n = awq__query_account_info_request__pack(&ar, buf);
	if (sync_abci(&s, "/cosmos.auth.v1beta1.Query/AccountInfo", buf, n) != RPC_OK ||
	    s.code != 0 || (acc = awq__query_account_info_response__unpack(NULL, s.value_len,
	    s.value)) == NULL || acc->info == NULL) {
		key_clear(priv, sizeof(priv));
		child_reply(fd, "ERR account %s not found on the chain (fund it first): %s",
		    addr, sync_why(&s));
		_exit(1);
	}
	memset(&tp, 0, sizeof(tp));
	tp.chain_id = c->chain_id;
	tp.account_number = acc->info->account_number;
	tp.sequence = acc->info->sequence;
	awq__query_account_info_response__free_unpacked(acc, NULL);
	tp.topic = topic;
	tp.gas_limit = c->gas_limit > 0 ? (uint64_t)c->gas_limit : 300000;
	fee = ceil((double)tp.gas_limit * c->gas_price);
	tp.fee_uallo = fee > (double)c->max_fee ? (uint64_t)c->max_fee : (uint64_t)fee;
	tp.emissions = em;
	/* The balance must cover the registration fee and the transaction's fee. */
	module_fees(&s, em, &data_fee, &reg_fee);
	br.address = addr;
	br.denom = (char *)"uallo";
	n = awq__query_balance_request__pack(&br, buf);
	if (sync_abci(&s, "/cosmos.bank.v1beta1.Query/Balance", buf, n) != RPC_OK ||
	    s.code != 0) {
		key_clear(priv, sizeof(priv));
		child_reply(fd, "ERR cannot ask the chain for the balance of %s: %s", addr,
		    sync_why(&s));
		_exit(1);
	}
	bal = awq__query_balance_response__unpack(NULL, s.value_len, s.value);
	have = bal && bal->balance && bal->balance->amount ?
	    strtoull(bal->balance->amount, NULL, 10) : 0;
	if (bal != NULL)
		awq__query_balance_response__free_unpacked(bal, NULL);
	if (have < reg_fee + tp.fee_uallo) {
		key_clear(priv, sizeof(priv));
		child_reply(fd, "ERR insufficient funds: %s has %" PRIu64 " uallo, registering "
		    "costs %" PRIu64 " uallo (registration fee %" PRIu64 " + transaction fee %"
		    PRIu64 "); fund the wallet first", addr, have, reg_fee + tp.fee_uallo, reg_fee,
		    tp.fee_uallo);
		_exit(1);
	}
	rc = tx_build_register(priv, &tp, 0, &tx, e, sizeof(e));
	key_clear(priv, sizeof(priv));
	if (rc == -1) {
		child_reply(fd, "ERR %s", e);
		_exit(1);
	}
	if (sync_broadcast(&s, tx.raw, tx.rawlen) != RPC_OK) {
		child_reply(fd, "ERR broadcast: %s", sync_why(&s));
		_exit(1);
	}
	if (json_integer_value(json_object_get(s.result, "code")) != 0) {
		child_reply(fd, "ERR the chain refused the transaction (code %lld): %s",
		    (long long)json_integer_value(json_object_get(s.result, "code")),
		    json_string_value(json_object_get(s.result, "log")) ?: "");
		_exit(1);
	}
	/* Wait for inclusion: up to 60 s. */
	for (i = 0; i < 32; i++)
		sscanf(tx.hash + 2 * i, "%2hhx", &hash[i]);
	deadline = mono_ms() + 60000;
	while (mono_ms() < deadline) {
		json_t *r;
		long long code;
		const char *height;

		if (sync_tx(&s, hash) != RPC_OK) {
			if (s.error != NULL && strcmp(s.error, "the request could not start") == 0)
				break;
			usleep(250000);
			continue;
		}
		r = json_object_get(s.result, "tx_result");
		code = json_integer_value(json_object_get(r, "code"));
		height = json_string_value(json_object_get(s.result, "height")) ?: "?";
		if (code != 0) {
			child_reply(fd, "ERR transaction %s failed in block %s (code %lld): %s",
			    tx.hash, height, code, json_string_value(json_object_get(r, "log")) ?:
			    "");
			_exit(1);
		}
		{
			char *ht = xstrdup(height);

			/* Registration visible afterwards? */
			if (is_registered(&s, em, topic, addr) != 1) {
				child_reply(fd, "ERR transaction %s was included in block %s, but the "
				    "chain does not show %s as registered in topic %u", tx.hash, ht,
				    addr, topic);
				_exit(1);
			}
			child_reply(fd, "OK %s %s %s", addr, tx.hash, ht);
			_exit(0);
		}
	}
	child_reply(fd, "ERR transaction %s not included within 60 s", tx.hash);
	_exit(1);
}

static int
cmd_register(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "topic", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct config *c;
	const struct config_topic *t;
	const struct config_wallet *w;
	struct sync s;
	Awq__TopicIdRequest tr = AWQ__TOPIC_ID_REQUEST__INIT;
	Awq__GetTopicResponse *gt;
	char err[2048], em[8], buf[1024], path[96];
	uint8_t qb[32];
	const char *net;
	long topic = 0;
	uint32_t tid;
	int ch, p[2], st, ok;
	pid_t pid;
	ssize_t n, got = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (topic_arg("alloractl register", optarg, &tid) == -1)
				return 2;
			topic = tid;
			break;
		case 'h':
			printf("usage: alloractl [-c FILE] register --topic N\n"
			    "Registers the topic's wallet as a worker (RegisterRequest) through a "
			    "one-shot\nsubmitter process and waits for the transaction's inclusion.\n");
			return 0;
		default:
			return 2;
		}
	}
	if (topic == 0 || optind != argc) {
		fprintf(stderr, "alloractl register: give --topic N\n");
		return 2;
	}
	c = config_load(o->config, NULL, err, sizeof(err));
	if (c == NULL) {
		fprintf(stderr, "alloractl: %s\n", err);
		return 2;
	}
	ctl_env_path = c->env_path;
	t = config_topic(c, (uint32_t)topic);
	if (t == NULL || (w = config_wallet(c, t->wallet)) == NULL) {
		fprintf(stderr, "alloractl register: topic %ld is not in %s\n", topic,
		    c->path ? c->path : ".env");
		config_free(c);
		return 2;
	}
	/* What needs no key: the chain answers, is the right one, and has the topic. */
	sync_init(&s, c);
	ok = 0;
	if (sync_call(&s, "status", NULL) != RPC_OK)
		fprintf(stderr, "alloractl register: the chain does not answer: %s\n",
		    sync_why(&s));
	else if ((net = json_string_value(json_object_get(json_object_get(s.result,
	    "node_info"), "network"))) == NULL || strcmp(net, c->chain_id) != 0)
		fprintf(stderr, "alloractl register: %s serves chain \"%s\", the configuration "
		    "says \"%s\"\n", rpc_endpoint(s.rpc), net ? net : "?", c->chain_id);
	else if (emissions_version(&s, c, em, sizeof(em)) == -1)
		fprintf(stderr, "alloractl register: the chain does not answer: %s\n",
		    sync_why(&s));
	else {
		tr.topic_id = (uint64_t)topic;
		n = (ssize_t)awq__topic_id_request__pack(&tr, qb);
		snprintf(path, sizeof(path), "/emissions.%s.QueryService/GetTopic", em);
		if (sync_abci(&s, path, qb, (size_t)n) != RPC_OK)
			fprintf(stderr, "alloractl register: the chain does not answer: %s\n",
			    sync_why(&s));
		else if (s.code != 0 || (gt = awq__get_topic_response__unpack(NULL, s.value_len,
		    s.value)) == NULL)
			fprintf(stderr, "alloractl register: topic %ld does not exist on this chain "
			    "(%s)\n", topic, sync_why(&s));
		else {
			awq__get_topic_response__free_unpacked(gt, NULL);
			ok = 1;
		}
	}
	sync_free(&s);
	if (!ok) {
		config_free(c);
		return 1;
	}
	if (pipe(p) == -1) {
		fprintf(stderr, "alloractl register: pipe: %s\n", strerror(errno));
		config_free(c);
		return 1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		register_child(c, w, (uint32_t)topic, em, p[1]);
		_exit(1);
	}
	close(p[1]);
	if (pid == -1) {
		close(p[0]);
		fprintf(stderr, "alloractl register: fork: %s\n", strerror(errno));
		config_free(c);
		return 1;
	}
	while (got < (ssize_t)sizeof(buf) - 1 &&
	    ((n = read(p[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0 ||
	    (n == -1 && errno == EINTR)))
		if (n > 0)
			got += n;
	close(p[0]);
	waitpid(pid, &st, 0);
	buf[got] = '\0';
	config_free(c);
	if (strncmp(buf, "OK ", 3) == 0) {
		char a[128], h[80], ht[32];

		if (sscanf(buf + 3, "%127s %79s %31s", a, h, ht) == 3)
			printf("registered %s as a worker in topic %ld (tx %s, block %s)\n", a, topic,
			    h, ht);
		return 0;
	}
	if (strncmp(buf, "ALREADY ", 8) == 0) {
		printf("%s is already registered in topic %ld: nothing to do\n", buf + 8, topic);
		return 0;
	}
	fprintf(stderr, "alloractl register: %s\n", strncmp(buf, "ERR ", 4) == 0 ? buf + 4 :
	    "the registration process failed");
	return 1;
}

int
ctl_check(const struct ctl_opts *o, int argc, char **argv)
{
	return cmd_check(o, argc, argv);
}

int
ctl_register(const struct ctl_opts *o, int argc, char **argv)
{
	return cmd_register(o, argc, argv);
}
