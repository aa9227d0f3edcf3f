/*
 * Forecasts in the submitter (issue 22): the element rules of submitter/forecast.c (each
 * rule refused with the element and the rule named, values rewritten in the chain's
 * canonical form), the forecast inside the bytes the bundle signature covers, and the
 * submitter process driven as the supervisor drives it (fd 3) against the devnet: a SUBMIT
 * whose forecast breaks a rule is signed without it (MSG_SIGNED forecast_elements 0,
 * forecast_dropped the rule) and its inference is accepted; a good one is signed and the
 * devnet accepts it (its record line counts the elements); a forecast for a topic whose
 * `forecast` is off is dropped.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "rolechild.h"
#include "t.h"

#include "config.h"
#include "frame.h"
#include "proc.h"
#include "roles.h"
#include "submitter/forecast.h"
#include "submitter/keys.h"
#include "submitter/tx.h"
#include "util.h"

#define ME	"allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv"
#define A2	"allo1avgyh77ycn997ja45q5q8ss8y9mr424jwfcszc"
#define A3	"allo1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqas6usy"
#define MNEMONIC "abandon abandon abandon abandon abandon abandon abandon abandon abandon " \
	"abandon abandon about"

static int
rules(const char *text, size_t limit, const char **rule, char *err, size_t errlen,
    struct tx_forecast_elem **el, size_t *n)
{
	json_t *j = json_loads(text, 0, NULL);
	int rc;

	if (j == NULL)
		return -2;
	rc = forecast_from_json(j, ME, limit, el, n, rule, err, errlen);
	json_decref(j);
	return rc;
}

static void
refused(const char *text, size_t limit, const char *want_rule, const char *want_text)
{
	struct tx_forecast_elem *el = NULL;
	const char *rule = "";
	char err[512];
	size_t n = 0;

	if (rules(text, limit, &rule, err, sizeof(err), &el, &n) != -1) {
		T_FAIL("accepted: %s", text);
		forecast_free(el, n);
		return;
	}
	if (strcmp(rule, want_rule) != 0 || strstr(err, want_text) == NULL)
		T_FAIL("%s: rule %s (want %s), \"%s\" (want \"%s\")", text, rule, want_rule, err,
		    want_text);
}

T_TEST(element_rules)
{
	struct tx_forecast_elem *el;
	const char *rule;
	char err[512], many[4096];
	size_t n, i, k;

	T_ASSERT(rules("[{\"inferer\": \"" A2 "\", \"value\": \"-1.75E-1\"}, {\"inferer\": \"" A3
	    "\", \"value\": \"+01.500\"}]", 0, &rule, err, sizeof(err), &el, &n) == 0);
	T_EQ_INT(n, 2);
	T_EQ_STR(el[0].inferer, A2);
	T_EQ_STR(el[0].value, "-0.175");	/* canonical, as --value is */
	T_EQ_STR(el[1].value, "1.500");
	T_EQ_INT(forecast_check(el, n, ME, 0, &rule, err, sizeof(err)), 0);
	forecast_free(el, n);
	refused("{\"inferer\": \"" A2 "\"}", 0, "not_array", "JSON array");
	refused("[]", 0, "empty", "no element");
	refused("[{\"inferer\": \"" A2 "\", \"value\": \"1\"}, {\"inferer\": \"" A3 "\", \"value\": "
	    "\"2\"}]", 1, "too_many", "at most 1");
	refused("[\"" A2 "\"]", 0, "bad_element", "element 1");
	refused("[{\"inferer\": \"" A2 "\", \"value\": \"1\", \"extra\": 1}]", 0, "bad_element",
	    "unknown key \"extra\"");
	refused("[{\"value\": \"1\"}]", 0, "bad_element", "element 1");
	refused("[{\"inferer\": \"" A2 "\", \"value\": \"1\"}, {\"inferer\": "
	    "\"cosmos1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqnrql8a\", \"value\": \"1\"}]", 0,
	    "bad_address", "forecast element 2");
	refused("[{\"inferer\": \"allo1avgyh77ycn997ja45q5q8ss8y9mr424jwfcszd\", \"value\": \"1\"}]",
	    0, "bad_address", "not a valid bech32");
	refused("[{\"inferer\": \"" ME "\", \"value\": \"1\"}]", 0, "own_address", "own address");
	refused("[{\"inferer\": \"" A2 "\", \"value\": \"1\"}, {\"inferer\": \"" A3 "\", \"value\": "
	    "\"1\"}, {\"inferer\": \"" A2 "\", \"value\": \"2\"}]", 0, "duplicate",
	    "element 3: inferer " A2 " appears twice (also element 1)");
	refused("[{\"inferer\": \"" A2 "\", \"value\": 0.5}]", 0, "bad_value",
	    "element 1 (inferer " A2 ")");
	refused("[{\"inferer\": \"" A2 "\", \"value\": \"1e41\"}]", 0, "bad_value", A2);
	refused("[{\"inferer\": \"" A2 "\", \"value\": \"NaN\"}]", 0, "bad_value", A2);
	refused("[{\"inferer\": \"" A2 "\", \"value\": \"1.2.3\"}]", 0, "bad_value", A2);
	/* The default bound: the chain's default max_elements_per_forecast (12). */
	k = (size_t)snprintf(many, sizeof(many), "[");
	for (i = 0; i < FORECAST_DEFAULT_LIMIT + 1; i++) {
		uint8_t d[20];
		char a[ADDR_MAX];

		memset(d, (int)i + 1, sizeof(d));
		T_ASSERT(bech32_encode("allo", d, sizeof(d), a, sizeof(a)) == 0);
		k += (size_t)snprintf(many + k, sizeof(many) - k, "%s{\"inferer\": \"%s\", \"value\": "
		    "\"1\"}", i ? ", " : "", a);
	}
	snprintf(many + k, sizeof(many) - k, "]");
	refused(many, 0, "too_many", "at most 12");
	T_ASSERT(rules(many, 13, &rule, err, sizeof(err), &el, &n) == 0);
	forecast_free(el, n);
	/* The policy: off (or no policy) drops any forecast; none sent is not a drop. */
	{
		json_t *f = json_loads("[{\"inferer\": \"" A2 "\", \"value\": \"1\"}]", 0, NULL);

		T_EQ_INT(forecast_for_submit(f, "off", ME, 0, &el, &n, &rule, err, sizeof(err)), -1);
		T_EQ_STR(rule, "forecast_off");
		T_EQ_INT(forecast_for_submit(f, NULL, ME, 0, &el, &n, &rule, err, sizeof(err)), -1);
		T_EQ_INT(forecast_for_submit(NULL, "off", ME, 0, &el, &n, &rule, err, sizeof(err)), 0);
		T_EQ_INT(n, 0);
		T_EQ_INT(forecast_for_submit(f, "builtin", ME, 0, &el, &n, &rule, err, sizeof(err)), 0);
		T_EQ_INT(n, 1);
		forecast_free(el, n);
		json_decref(f);
	}
}

T_TEST(signed_inside_the_bundle)
{
	struct tx_forecast_elem el[2] = { { (char *)A2, (char *)"-0.175" }, { (char *)A3,
	    (char *)"2" } }, bad[1] = { { (char *)A2, (char *)"-1.75E-1" } };
	uint8_t priv[32], pub[33];
	struct tx_params p;
	struct tx_out out, plain;
	char err[512];
	json_t *d, *f;

	T_ASSERT(key_from_mnemonic(MNEMONIC, DEFAULT_HD_PATH, priv, pub, err, sizeof(err)) == 0);
	memset(&p, 0, sizeof(p));
	p.chain_id = "devnet-1";
	p.topic = 67;
	p.nonce = 1000;
	p.value = "0.5";
	p.gas_limit = 300000;
	p.fee_uallo = 3000;
	p.emissions = "v10";
	T_ASSERT(tx_build_payload(priv, &p, 0, &plain, err, sizeof(err)) == 0);
	T_CHECK(json_is_null(json_object_get(plain.detail, "forecast")));
	p.forecast = el;
	p.nforecast = 2;
	T_ASSERT(tx_build_payload(priv, &p, 0, &out, err, sizeof(err)) == 0);
	/* The bundle is longer by the InputForecast (field 2) and its signature differs. */
	T_CHECK(strcmp(json_string_value(json_object_get(out.detail, "bundle_signature_rs_hex")),
	    json_string_value(json_object_get(plain.detail, "bundle_signature_rs_hex"))) != 0);
	T_CHECK(strstr(json_string_value(json_object_get(out.detail,
	    "input_inference_forecast_bundle_hex")), json_string_value(json_object_get(out.detail,
	    "input_forecast_hex"))) != NULL);
	f = json_object_get(out.detail, "forecast");
	T_EQ_STR(json_string_value(json_object_get(f, "forecaster")), ME);
	T_EQ_INT(json_integer_value(json_object_get(f, "block_height")), 1000);
	d = tx_decode(out.raw, out.rawlen, "devnet-1", 0, err, sizeof(err));
	T_ASSERT(d != NULL);
	T_CHECK(json_is_true(json_object_get(d, "bundle_signature_ok")));
	T_CHECK(json_equal(f, json_object_get(json_object_get(json_array_get(json_object_get(
	    json_object_get(d, "body"), "messages"), 0), "worker_data_bundle"), "forecast")));
	json_decref(d);
	/* The builder's own check: not canonical, or our own address, is never signed. */
	p.forecast = bad;
	p.nforecast = 1;
	tx_out_free(&out);
	T_EQ_INT(tx_build_payload(priv, &p, 0, &out, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "canonical") != NULL);
	tx_out_free(&plain);
	key_clear(priv, sizeof(priv));
}

/* tests/vectors/forecast-tx.json (checked against cosmjs by tx_forecast_cosmjs.sh). */
T_TEST(vector)
{
	json_error_t je;
	json_t *root = json_load_file("tests/vectors/forecast-tx.json", 0, &je), *v, *x;
	struct tx_forecast_elem *el;
	const char *rule, *k;
	uint8_t priv[32], pub[33];
	struct tx_params p;
	struct tx_out out;
	char err[512];
	size_t n;

	T_ASSERT(root != NULL);
	v = json_object_get(root, "tx_v10_forecast");
	T_ASSERT(json_object_size(v) >= 20);
	/* The elements as given to tx build: made canonical by the rules. */
	T_ASSERT(rules("[{\"inferer\": \"" A2 "\", \"value\": \"-1.75E-1\"}, {\"inferer\": \"" A3
	    "\", \"value\": \"0.0000001\"}]", 0, &rule, err, sizeof(err), &el, &n) == 0);
	T_ASSERT(key_from_mnemonic(MNEMONIC, DEFAULT_HD_PATH, priv, pub, err, sizeof(err)) == 0);
	memset(&p, 0, sizeof(p));
	p.chain_id = "allora-testnet-1";
	p.account_number = 1234;
	p.sequence = 7;
	p.topic = 67;
	p.nonce = 6626395;
	p.value = "0.5";
	p.gas_limit = 300000;
	p.fee_uallo = 3000000;
	p.emissions = "v10";
	p.forecast = el;
	p.nforecast = n;
	T_ASSERT(tx_build_payload(priv, &p, 0, &out, err, sizeof(err)) == 0);
	json_object_foreach(v, k, x)
		if (!json_equal(x, json_object_get(out.detail, k)))
			T_FAIL("%s differs from the vector", k);
	tx_out_free(&out);
	forecast_free(el, n);
	key_clear(priv, sizeof(priv));
	json_decref(root);
}

/* ---- the process ---- */

static char top[] = "/tmp/submitter_forecast_XXXXXX";
static struct event_base *base;
static struct config *conf;
static json_t *signed_[5], *submitted[5];
static int nsigned, nsubmitted, ready;

static void
submit(struct peer *p, uint32_t topic, const char *forecast)
{
	json_t *o = json_pack("{s:I, s:I, s:s, s:s}", "topic", (json_int_t)topic, "nonce",
	    (json_int_t)1000, "value", "0.5", "wallet", "main");

	json_object_set_new(o, "forecast", json_loads(forecast, 0, NULL));
	peer_send(p, MSG_SUBMIT, topic, topic, o);
}

static void
on_msg(struct peer *p, struct frame *f, void *arg)
{
	switch (f->type) {
	case MSG_HELLO:
		peer_send(p, MSG_CONFIG, 0, 0, config_to_json(conf));
		break;
	case MSG_READY:
		ready = 1;
		/* 67: a duplicate inferer; 68: good; 69: forecast = off. */
		submit(p, 67, "[{\"inferer\": \"" A2 "\", \"value\": \"1\"}, {\"inferer\": \"" A2
		    "\", \"value\": \"2\"}]");
		submit(p, 68, "[{\"inferer\": \"" A2 "\", \"value\": \"-1.75E-1\"}, {\"inferer\": \""
		    A3 "\", \"value\": \"0.25\"}]");
		submit(p, 69, "[{\"inferer\": \"" A2 "\", \"value\": \"1\"}]");
		break;
	case MSG_SIGNED:
		if (nsigned < 5)
			signed_[nsigned++] = json_incref(f->payload);
		peer_send(p, MSG_SIGNED_ACK, f->topic, f->seq, json_pack("{s:O, s:O, s:O, s:b}",
		    "topic", json_object_get(f->payload, "topic"), "nonce", json_object_get(f->payload,
		    "nonce"), "txhash", json_object_get(f->payload, "txhash"), "ok", 1));
		break;
	case MSG_SUBMITTED: {
		const char *o = json_string_value(json_object_get(f->payload, "outcome"));

		if (o != NULL && (strcmp(o, "broadcast") == 0 || strcmp(o, "included") == 0))
			break;
		if (nsubmitted < 5)
			submitted[nsubmitted++] = json_incref(f->payload);
		/* By now GetParams has answered: the chain's max_elements_per_forecast (2)
		 * bounds a forecast, not the default 12. */
		if (nsubmitted == 3)
			submit(p, 70, "[{\"inferer\": \"" A2 "\", \"value\": \"1\"}, {\"inferer\": \""
			    A3 "\", \"value\": \"2\"}, {\"inferer\": "
			    "\"allo1qypqxpqpqgpsgqgzqvzqzqsrqsqsyqcy2e5gza\", \"value\": \"3\"}]");
		if (nsubmitted == 4)
			event_base_loopexit(base, NULL);
		break;
	}
	default:
		break;
	}
}

static void
on_close(struct peer *p, const char *reason, void *arg)
{
	fprintf(stderr, "# submitter channel closed: %s\n", reason);
	event_base_loopexit(base, NULL);
}

static json_t *
by_topic(json_t **a, int n, long long topic)
{
	int i;

	for (i = 0; i < n; i++)
		if (json_integer_value(json_object_get(a[i], "topic")) == topic)
			return a[i];
	return NULL;
}

static pid_t
start_devnet(const char *dir, int *port)
{
	char portf[400], rec[400], *devnet;
	pid_t pid;
	FILE *fp;
	int i;

	snprintf(portf, sizeof(portf), "%s/port", dir);
	snprintf(rec, sizeof(rec), "%s/record.jsonl", dir);
	devnet = xasprintf("%s/allora-devnet", getenv("BUILD_DIR") ? getenv("BUILD_DIR") : "build");
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		execl(devnet, devnet, "--port", "0", "--port-file", portf, "--record", rec,
		    "--chain-id", "devnet-1", "--start-height", "1000", "--epoch", "1000",
		    "--window", "600", "--block-ms", "200", "--topics", "67,68,69,70",
		    "--max-elements-per-forecast", "2", "--account",
		    ME ":100000000000:1:0", (char *)NULL);
		_exit(127);
	}
	free(devnet);
	*port = 0;
	for (i = 0; i < 100 && *port == 0; i++) {
		usleep(50000);
		if ((fp = fopen(portf, "r")) != NULL) {
			if (fscanf(fp, "%d", port) != 1)
				*port = 0;
			fclose(fp);
		}
	}
	return pid;
}

/* The record line of the delivered transaction txhash: its forecast_elements (-1 null,
 * -2 not found) and code. */
static int
recorded(const char *dir, const char *txhash, long long *code)
{
	char path[400], line[8192];
	FILE *fp;
	int r = -2;

	snprintf(path, sizeof(path), "%s/record.jsonl", dir);
	if ((fp = fopen(path, "r")) == NULL)
		return -2;
	while (fgets(line, sizeof(line), fp) != NULL) {
		json_t *o = json_loads(line, 0, NULL);

		if (o != NULL && json_is_string(json_object_get(o, "txhash")) &&
		    strcmp(json_string_value(json_object_get(o, "txhash")), txhash) == 0 &&
		    strcmp(json_string_value(json_object_get(o, "stage")) ?: "", "deliver") == 0) {
			r = json_is_null(json_object_get(o, "forecast_elements")) ? -1 :
			    (int)json_integer_value(json_object_get(o, "forecast_elements"));
			*code = json_integer_value(json_object_get(o, "code"));
		}
		json_decref(o);
	}
	fclose(fp);
	return r;
}

T_TEST(process_drops_bad_forecasts_and_signs_good_ones)
{
	char dir[300], path[400], err[1024];
	struct timeval tmo = { 40, 0 };
	struct peer *sup;
	json_t *s67, *s68, *s69, *u;
	FILE *fp;
	int supfd, st, i, port;
	long long code = -1;
	pid_t pid, dpid;

	snprintf(dir, sizeof(dir), "%s/p", top);
	T_ASSERT(mkdir(dir, 0700) == 0);
	dpid = start_devnet(dir, &port);
	T_ASSERT(port > 0);
	snprintf(path, sizeof(path), "%s/key", dir);
	fp = fopen(path, "w");
	fprintf(fp, "%s\n", MNEMONIC);
	fclose(fp);
	chmod(path, 0600);
	snprintf(path, sizeof(path), "%s/w.conf", dir);
	fp = fopen(path, "w");
	fprintf(fp, "[global]\nstate_dir = %s/state\nrun_dir = %s/run\nmetrics_listen = off\n"
	    "[chain]\nchain_id = devnet-1\nrpc = http://127.0.0.1:%d\nrequest_timeout_ms = 2000\n"
	    "[wallet main]\nmnemonic_file = %s/key\n"
	    "[topic 67]\nforecast = builtin\n[topic 68]\nforecast = builtin\n"
	    "[topic 69]\nforecast = off\n[topic 70]\nforecast = builtin\n", dir, dir, port, dir);
	fclose(fp);
	conf = config_load(path, NULL, err, sizeof(err));
	if (conf == NULL)
		T_FAIL("%s", err);
	T_ASSERT(conf != NULL);
	pid = rolechild_start(submitter_main, &supfd);
	T_ASSERT(pid != -1);
	base = event_base_new();
	sup = peer_new(base, supfd, on_msg, on_close, NULL);
	event_base_loopexit(base, &tmo);
	event_base_dispatch(base);
	peer_send(sup, MSG_SHUTDOWN, 0, 0, NULL);
	peer_flush(sup);
	for (i = 0; i < 50 && waitpid(pid, &st, WNOHANG) == 0; i++)
		usleep(100000);
	if (i == 50) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	kill(dpid, SIGTERM);
	waitpid(dpid, &st, 0);
	T_ASSERT(ready);
	T_EQ_INT(nsigned, 4);
	T_EQ_INT(nsubmitted, 4);
	s67 = by_topic(signed_, nsigned, 67);
	s68 = by_topic(signed_, nsigned, 68);
	s69 = by_topic(signed_, nsigned, 69);
	T_ASSERT(s67 != NULL && s68 != NULL && s69 != NULL);
	/* 67: dropped by the duplicate rule, the inference signed alone and accepted. */
	T_EQ_INT(json_integer_value(json_object_get(s67, "forecast_elements")), 0);
	T_EQ_STR(json_string_value(json_object_get(s67, "forecast_dropped")), "duplicate");
	u = by_topic(submitted, nsubmitted, 67);
	T_ASSERT(u != NULL);
	T_EQ_STR(json_string_value(json_object_get(u, "outcome")), "accepted");
	T_EQ_INT(recorded(dir, json_string_value(json_object_get(s67, "txhash")), &code), -1);
	T_EQ_INT(code, 0);
	/* 68: signed with its two elements, accepted by the devnet, which counted them. */
	T_EQ_INT(json_integer_value(json_object_get(s68, "forecast_elements")), 2);
	T_CHECK(json_object_get(s68, "forecast_dropped") == NULL);
	u = by_topic(submitted, nsubmitted, 68);
	T_ASSERT(u != NULL);
	T_EQ_STR(json_string_value(json_object_get(u, "outcome")), "accepted");
	T_EQ_INT(recorded(dir, json_string_value(json_object_get(s68, "txhash")), &code), 2);
	T_EQ_INT(code, 0);
	/* 69: forecast off in the configuration: dropped, the inference goes. */
	T_EQ_INT(json_integer_value(json_object_get(s69, "forecast_elements")), 0);
	T_EQ_STR(json_string_value(json_object_get(s69, "forecast_dropped")), "forecast_off");
	u = by_topic(submitted, nsubmitted, 69);
	T_ASSERT(u != NULL);
	T_EQ_STR(json_string_value(json_object_get(u, "outcome")), "accepted");
	/* 70: three elements, the chain allows two: dropped, the inference goes. */
	u = by_topic(signed_, nsigned, 70);
	T_ASSERT(u != NULL);
	T_EQ_INT(json_integer_value(json_object_get(u, "forecast_elements")), 0);
	T_EQ_STR(json_string_value(json_object_get(u, "forecast_dropped")), "too_many");
	u = by_topic(submitted, nsubmitted, 70);
	T_ASSERT(u != NULL);
	T_EQ_STR(json_string_value(json_object_get(u, "outcome")), "accepted");
	config_free(conf);
}

int
main(void)
{
	char *cmd;
	int rc;

	if (mkdtemp(top) == NULL) {
		perror(top);
		return 1;
	}
	T_RUN(element_rules);
	T_RUN(signed_inside_the_bundle);
	T_RUN(vector);
	T_RUN(process_drops_bad_forecasts_and_signs_good_ones);
	rc = t_done();
	cmd = xasprintf("rm -rf '%s'", top);
	(void)!system(cmd);
	free(cmd);
	return rc;
}
