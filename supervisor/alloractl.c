/*
 * alloractl: the operator's command.  start/stop/status/reload talk to the daemon over its
 * control socket; the other subcommands live with the code they drive (common/ctl.h).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"

int	 ctl_history(const struct ctl_opts *, int argc, char **argv);	/* history.c */
#include "frame.h"
#include "log.h"
#include "safefs.h"
#include "secretenv.h"
#include "util.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: alloractl [-c FILE] [--state-dir DIR] [--run-dir DIR] COMMAND [ARGS]\n"
	    "       alloractl --version | --help\n"
	    "\n"
	    "  -c, --config FILE   configuration file (accepted before or after COMMAND)\n"
	    "      --state-dir DIR override state_dir\n"
	    "      --run-dir DIR   override run_dir\n"
	    "  -V, --version       print the version\n"
	    "  -h, --help          this help\n"
	    "\n"
	    "commands:\n"
	    "  start [--debug] [--foreground] [--polling N] [--dry-run]\n"
	    "                     start the daemon and wait until it is ready\n"
	    "  stop               stop the daemon and wait until it is gone\n"
	    "  status [--json]    children, topics and wallets of the running daemon\n"
	    "  history --topic N [--last K] [--json]  per nonce: value, network, score, reward\n"
	    "  reload             re-read the configuration (like SIGHUP)\n"
	    "  check              preflight against the chain: keys, registration, balance ...\n"
	    "  register --topic N register the topic's wallet as a worker\n"
	    "  keys show|new ...  wallet addresses; a new mnemonic file\n"
	    "  tx build|decode    offline InsertWorkerPayload transactions\n"
	    "  predict --topic N  one prediction, printed, not submitted\n"
	    "  backtest --csv F   walk-forward evaluation against the zero baseline\n"
	    "  loss --method M    the network's loss (mse, zptae, czar) of predictions\n"
	    "\n"
	    "`alloractl COMMAND --help` describes one command.\n"
	    "Exit status: 0 ok, 1 runtime failure, 2 usage or configuration error,\n"
	    "3 topic already served, 4 daemon not running.\n");
}

static struct config *
load_conf(const struct ctl_opts *o, int debug, int foreground, int dry_run, long polling)
{
	struct config_overrides ov;
	struct config *c;
	char err[2048];

	memset(&ov, 0, sizeof(ov));
	ov.state_dir = o->state_dir;
	ov.run_dir = o->run_dir;
	ov.debug = debug;
	ov.foreground = foreground;
	ov.dry_run = dry_run;
	ov.polling_interval = polling;
	c = config_load(o->config, &ov, err, sizeof(err));
	if (c == NULL)
		fprintf(stderr, "alloractl: %s\n", err);
	return c;
}

static int
write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One request/reply on the control socket.  Returns 0 and *reply, 4 when no daemon
 * listens, 1 on another failure. */
static int
ctl_request(const struct config *c, uint16_t type, json_t *payload, struct frame *reply,
    int quiet)
{
	char *path = xasprintf("%s/%s.sock", c->run_dir, c->instance), err[256];
	struct sockaddr_un sun;
	struct frame_decoder dec;
	unsigned char *buf, rbuf[8192];
	struct pollfd pfd;
	size_t len;
	ssize_t n;
	int fd, r;

	/* The socket's directory must be ours (safefs.h): else someone else answers. */
	if (safe_dir_check(c->run_dir, err, sizeof(err)) == SAFE_UNSAFE) {
		fprintf(stderr, "alloractl: run_dir %s\n", err);
		free(path);
		return 2;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "alloractl: %s: socket path too long\n", path);
		free(path);
		return 1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (!quiet)
			fprintf(stderr, "alloractl: the daemon (instance %s) is not running "
			    "(%s: %s)\n", c->instance, path, strerror(errno));
		if (fd != -1)
			close(fd);
		free(path);
		return 4;
	}
	free(path);
	if (frame_encode(type, 0, 1, payload, &buf, &len) == -1 ||
	    write_all(fd, buf, len) == -1) {
		fprintf(stderr, "alloractl: sending to the daemon: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	free(buf);
	frame_decoder_init(&dec);
	for (;;) {
		r = frame_decoder_next(&dec, reply, err, sizeof(err));
		if (r == 1)
			break;
		if (r == -1) {
			fprintf(stderr, "alloractl: bad answer from the daemon: %s\n", err);
			goto fail;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 15000) <= 0) {
			fprintf(stderr, "alloractl: the daemon did not answer in 15 s\n");
			goto fail;
		}
		n = read(fd, rbuf, sizeof(rbuf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "alloractl: the daemon closed the connection\n");
			goto fail;
		}
		frame_decoder_feed(&dec, rbuf, (size_t)n);
	}
	frame_decoder_free(&dec);
	close(fd);
	return 0;
fail:
	frame_decoder_free(&dec);
	close(fd);
	return 1;
}

static char *
sibling_program(const char *name)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *dir, *p;

	if (n > 0) {
		buf[n] = '\0';
		dir = path_dirname(buf);
		p = xasprintf("%s/%s", dir, name);
		free(dir);
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return xstrdup(name);	/* from PATH */
}

static int
cmd_start(const struct ctl_opts *o, int argc, char **argv)
{
	int debug = 0, fg = 0, dry = 0, i, status, r;
	long polling = 0;
	struct config *c;
	struct frame f;
	char *prog, *args[16], pollbuf[32];
	int na = 0;
	pid_t pid;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: alloractl [-c FILE] start [--debug] [--foreground] "
			    "[--polling N] [--dry-run]\n"
			    "Starts the daemon and waits until every process is ready (readiness "
			    "never waits for the chain).\n");
			return 0;
		} else if (strcmp(argv[i], "--debug") == 0 || strcmp(argv[i], "-d") == 0)
			debug = 1;
		else if (strcmp(argv[i], "--foreground") == 0 || strcmp(argv[i], "-f") == 0)
			fg = 1;
		else if (strcmp(argv[i], "--dry-run") == 0)
			dry = 1;
		else if (strcmp(argv[i], "--polling") == 0 && i + 1 < argc) {
			if (parse_long(argv[++i], 1, 86400, &polling) == -1) {
				fprintf(stderr, "alloractl: --polling: \"%s\" is not a number of "
				    "seconds from 1 to 86400\n", argv[i]);
				return 2;
			}
		} else {
			fprintf(stderr, "alloractl start: unknown option \"%s\"\n", argv[i]);
			return 2;
		}
	}
	c = load_conf(o, debug, fg, dry, polling);
	if (c == NULL)
		return 2;
	if ((r = ctl_request(c, MSG_STATUS, NULL, &f, 1)) == 2) {
		config_free(c);
		return 2;
	}
	if (r == 0) {
		fprintf(stderr, "alloractl: the daemon (instance %s) is already running (pid "
		    "%lld)\n", c->instance, frame_int(&f, "pid", 0));
		frame_free(&f);
		config_free(c);
		return 3;
	}
	if (c->network != NULL && ctl_network_guard(c) != 0) {
		config_free(c);
		return 1;
	}
	prog = sibling_program("allora-workerd");
	args[na++] = prog;
	if (c->path != NULL) {
		args[na++] = (char *)"-c";
		args[na++] = c->path;
	}
	args[na++] = (char *)"--state-dir";
	args[na++] = c->state_dir;
	args[na++] = (char *)"--run-dir";
	args[na++] = c->run_dir;
	if (debug)
		args[na++] = (char *)"--debug";
	if (dry)
		args[na++] = (char *)"--dry-run";
	if (polling > 0) {
		snprintf(pollbuf, sizeof(pollbuf), "%ld", polling);
		args[na++] = (char *)"--polling";
		args[na++] = pollbuf;
	}
	if (fg)
		args[na++] = (char *)"--foreground";
	args[na] = NULL;
	fflush(NULL);
	if (fg) {
		execv(prog, args);
		execvp(prog, args);
		fprintf(stderr, "alloractl: cannot run %s: %s\n", prog, strerror(errno));
		return 1;
	}
	pid = fork();
	if (pid == 0) {
		execv(prog, args);
		execvp(prog, args);
		fprintf(stderr, "alloractl: cannot run %s: %s\n", prog, strerror(errno));
		_exit(1);
	}
	{
		/* The daemon has the mnemonics now; none stays here while we wait. */
		const char **names = xcalloc(c->nwallets + 1, sizeof(*names));
		size_t w;

		for (w = 0; w < c->nwallets; w++)
			names[w] = c->wallets[w].mnemonic_env;
		secretenv_scrub(names, c->nwallets);
		free(names);
	}
	if (pid == -1 || waitpid(pid, &status, 0) != pid) {
		fprintf(stderr, "alloractl: starting the daemon: %s\n", strerror(errno));
		return 1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;

		config_free(c);
		/* 78: an unsafe directory or file (allora-workerd(8)): a configuration error. */
		return code == 2 || code == 3 ? code : code == AW_EX_CONFIG ? 2 : 1;
	}
	if (ctl_request(c, MSG_STATUS, NULL, &f, 0) == 0) {
		printf("allora-workerd started: instance %s, pid %lld, %zu topic(s); logs in "
		    "%s/logs\n", c->instance, frame_int(&f, "pid", 0), c->ntopics, c->state_dir);
		frame_free(&f);
	}
	config_free(c);
	return 0;
}

static int
cmd_stop(const struct ctl_opts *o, int argc, char **argv)
{
	struct config *c;
	struct frame f;
	long long pid;
	int rc, i;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: alloractl [-c FILE] stop\nStops the daemon and waits until every "
		    "process of it is gone.\n");
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "alloractl stop: unknown option \"%s\"\n", argv[1]);
		return 2;
	}
	c = load_conf(o, 0, 0, 0, 0);
	if (c == NULL)
		return 2;
	rc = ctl_request(c, MSG_STOP, NULL, &f, 0);
	if (rc != 0) {
		config_free(c);
		return rc;
	}
	pid = frame_int(&f, "pid", 0);
	frame_free(&f);
	/* Bounded: the daemon kills what has not stopped after stop_timeout_ms. */
	for (i = 0; i < 600 && pid > 0; i++) {
		if (kill((pid_t)pid, 0) == -1 && errno == ESRCH)
			break;
		usleep(50000);
	}
	if (pid > 0 && kill((pid_t)pid, 0) == 0) {
		fprintf(stderr, "alloractl: the daemon (pid %lld) is still running after 30 s\n",
		    pid);
		config_free(c);
		return 1;
	}
	printf("allora-workerd stopped (instance %s, pid %lld)\n", c->instance, pid);
	config_free(c);
	return 0;
}

static const char *
jstr(json_t *o, const char *k, char *buf, size_t len)
{
	json_t *v = json_object_get(o, k);

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.1f", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
	else
		snprintf(buf, len, "-");
	return buf;
}

/* The topic's score line (INTERFACES.md, Scores); "-" for what the chain has not told. */
static void
print_score(json_t *x)
{
	json_t *sc = json_object_get(x, "score");
	char b1[64], b2[64], b3[64], b4[64], b5[64], b6[64], b7[64], b8[64];

	if (!json_is_object(sc))
		return;
	printf("        loss %s; score %s (height %s), active %s, rank %s (active set of %s), "
	    "gap %s to the lowest active %s\n", jstr(x, "loss_method", b1, 64), jstr(sc, "ema", b2, 64),
	    jstr(sc, "height", b3, 64), jstr(sc, "active", b4, 64), jstr(sc, "rank", b5, 64),
	    jstr(sc, "active_count", b6, 64), jstr(sc, "gap", b7, 64),
	    jstr(sc, "lowest_active_ema", b8, 64));
	printf("        rewards %s uallo (last %s); network %s at nonce %s, ours %s\n",
	    jstr(sc, "rewards_uallo", b1, 64), jstr(sc, "last_reward_uallo", b2, 64),
	    jstr(sc, "network_value", b3, 64), jstr(sc, "network_nonce", b4, 64),
	    jstr(x, "last_value", b5, 64));
	sc = json_object_get(x, "forecast");	/* issue 22 */
	if (json_is_object(sc) && json_is_string(json_object_get(sc, "mode")) &&
	    strcmp(json_string_value(json_object_get(sc, "mode")), "off") != 0)
		printf("        forecaster %s: %s elements submitted, last %s at nonce %s "
		    "(%s elements%s%s); score %s (height %s)\n", jstr(sc, "mode", b1, 64),
		    jstr(sc, "elements_submitted", b2, 64), jstr(sc, "last_outcome", b3, 64),
		    jstr(sc, "last_nonce", b4, 64), jstr(sc, "last_elements", b5, 64),
		    json_is_string(json_object_get(sc, "last_reason")) ? ", " : "",
		    json_is_string(json_object_get(sc, "last_reason")) ?
		    json_string_value(json_object_get(sc, "last_reason")) : "",
		    jstr(sc, "score_ema", b6, 64), jstr(sc, "score_height", b7, 64));
}

static void
print_status(json_t *s)
{
	char b1[64], b2[64], b3[64], b4[64], b5[64], b6[64], b7[64], b8[64];
	json_t *x, *m;
	const char *k;
	size_t i;

	printf("instance %s  pid %s  version %s  ready %s%s\n\n",
	    jstr(s, "instance", b1, 64), jstr(s, "pid", b2, 64), jstr(s, "version", b3, 64),
	    jstr(s, "ready", b4, 64), json_is_true(json_object_get(s, "dry_run")) ?
	    "  (dry run)" : "");
	printf("%-10s %-8s %-9s %8s %9s  %s\n", "PROCESS", "PID", "STATE", "RESTARTS",
	    "UPTIME", "REASON");
	json_array_foreach(json_object_get(s, "children"), i, x)
		printf("%-10s %-8s %-9s %8s %8ss  %s\n", jstr(x, "role", b1, 64),
		    jstr(x, "pid", b2, 64), jstr(x, "state", b3, 64), jstr(x, "restarts", b4, 64),
		    jstr(x, "uptime_s", b5, 64), json_is_string(json_object_get(x, "reason")) ?
		    json_string_value(json_object_get(x, "reason")) : "");
	printf("\n%-7s %-8s %-10s %-10s %-9s %-14s %-8s %8s %s\n", "TOPIC", "STATE", "WALLET",
	    "LAST NONCE", "LAST", "VALUE", "SOURCE", "ACCEPTED", "MISSED");
	json_array_foreach(json_object_get(s, "topics"), i, x) {
		char missed[256] = "";
		size_t off = 0;

		json_object_foreach(json_object_get(x, "missed"), k, m)
			off += (size_t)snprintf(missed + off, off < sizeof(missed) ?
			    sizeof(missed) - off : 0, "%s%s=%lld", off ? "," : "", k,
			    (long long)json_integer_value(m));
		printf("%-7s %-8s %-10s %-10s %-9s %-14s %-8s %8s %s\n", jstr(x, "id", b1, 64),
		    jstr(x, "state", b2, 64), jstr(x, "wallet", b3, 64),
		    jstr(x, "last_nonce", b4, 64), jstr(x, "last_state", b5, 64),
		    jstr(x, "last_value", b6, 64), jstr(x, "last_source", b7, 64),
		    jstr(x, "accepted", b8, 64), missed[0] ? missed : "-");
		if (json_is_string(json_object_get(x, "reason")))
			printf("        reason: %s\n", json_string_value(json_object_get(x, "reason")));
		if (json_integer_value(json_object_get(x, "ledger_bad_lines")) > 0)
			printf("        ledger: %lld line(s) that are not records were skipped at "
			    "start\n", (long long)json_integer_value(json_object_get(x,
			    "ledger_bad_lines")));
		if (json_is_string(json_object_get(x, "last_txhash")))
			printf("        last tx %s, %s s since the last accepted submission\n",
			    json_string_value(json_object_get(x, "last_txhash")),
			    jstr(x, "seconds_since_accepted", b1, 64));
		print_score(x);
	}
	printf("\n%-10s %-45s %16s %8s\n", "WALLET", "ADDRESS", "BALANCE (uallo)", "SEQUENCE");
	json_array_foreach(json_object_get(s, "wallets"), i, x)
		printf("%-10s %-45s %16s %8s\n", jstr(x, "name", b1, 64),
		    jstr(x, "address", b2, 64), jstr(x, "balance_uallo", b3, 64),
		    jstr(x, "sequence", b4, 64));
	if (json_is_object(json_object_get(s, "cluster"))) {
		json_t *cl = json_object_get(s, "cluster");

		printf("\ncluster: host %s, etcd %s%s%s\n", jstr(cl, "name", b1, 64),
		    json_is_true(json_object_get(cl, "etcd_ok")) ? "ok" : "UNREACHABLE",
		    json_is_true(json_object_get(cl, "etcd_ok")) ? "" : ": ",
		    json_is_true(json_object_get(cl, "etcd_ok")) ? "" :
		    jstr(cl, "etcd_error", b2, 64));
		json_array_foreach(json_object_get(cl, "wallets"), i, x)
			printf("  wallet %-10s leader %s%s\n", jstr(x, "name", b1, 64),
			    jstr(x, "leader", b2, 64), json_is_true(json_object_get(x, "me")) ?
			    " (this host: serving)" : " (this host stands by, signs nothing)");
	}
}

static int
cmd_status(const struct ctl_opts *o, int argc, char **argv)
{
	struct config *c;
	struct frame f;
	int json = 0, i, rc;
	char *s;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: alloractl [-c FILE] status [--json]\n"
			    "Shows the processes, topics and wallets of the running daemon.\n");
			return 0;
		} else if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else {
			fprintf(stderr, "alloractl status: unknown option \"%s\"\n", argv[i]);
			return 2;
		}
	}
	c = load_conf(o, 0, 0, 0, 0);
	if (c == NULL)
		return 2;
	rc = ctl_request(c, MSG_STATUS, NULL, &f, 0);
	config_free(c);
	if (rc != 0)
		return rc;
	if (json) {
		s = json_dumps(f.payload, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", s);
		free(s);
	} else
		print_status(f.payload);
	frame_free(&f);
	return 0;
}

static int
cmd_reload(const struct ctl_opts *o, int argc, char **argv)
{
	struct config *c;
	struct frame f;
	int rc;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: alloractl [-c FILE] reload\nRe-reads the configuration file; an "
		    "invalid one is refused and the running one kept.\n");
		return 0;
	}
	c = load_conf(o, 0, 0, 0, 0);
	if (c == NULL)
		return 2;
	rc = ctl_request(c, MSG_RELOAD, NULL, &f, 0);
	config_free(c);
	if (rc != 0)
		return rc;
	if (!json_is_true(json_object_get(f.payload, "ok"))) {
		fprintf(stderr, "alloractl: reload refused: %s\n", frame_str(&f, "error") ?
		    frame_str(&f, "error") : "?");
		frame_free(&f);
		return 2;
	}
	printf("configuration reloaded\n");
	frame_free(&f);
	return 0;
}

int
main(int argc, char **argv)
{
	struct ctl_opts o;
	char **rest;
	int nrest = 0, i;
	const char *cmd;

	memset(&o, 0, sizeof(o));
	log_init("alloractl", 0);
	signal(SIGPIPE, SIG_IGN);
	/* A .env's mnemonic never enters alloractl: the daemon, or a key child, reads it. */
	config_dotenv_secrets(0);
	/* Global options anywhere on the line (before or after the subcommand). */
	rest = xcalloc((size_t)argc + 1, sizeof(char *));
	for (i = 1; i < argc; i++) {
		const char **dst = NULL;
		const char *a = argv[i];

		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0)
			dst = &o.config;
		else if (strcmp(a, "--state-dir") == 0)
			dst = &o.state_dir;
		else if (strcmp(a, "--run-dir") == 0)
			dst = &o.run_dir;
		if (dst != NULL) {
			if (i + 1 >= argc) {
				fprintf(stderr, "alloractl: %s needs an argument\n", a);
				return 2;
			}
			*dst = argv[++i];
			continue;
		}
		if (strncmp(a, "--config=", 9) == 0) {
			o.config = a + 9;
			continue;
		}
		rest[nrest++] = argv[i];
	}
	if (nrest == 0) {
		usage(stderr);
		return 2;
	}
	cmd = rest[0];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
		printf("alloractl %s\n", AW_VERSION);
		return 0;
	}
	if (strcmp(cmd, "start") == 0)
		return cmd_start(&o, nrest, rest);
	if (strcmp(cmd, "stop") == 0)
		return cmd_stop(&o, nrest, rest);
	if (strcmp(cmd, "status") == 0)
		return cmd_status(&o, nrest, rest);
	if (strcmp(cmd, "reload") == 0)
		return cmd_reload(&o, nrest, rest);
	if (strcmp(cmd, "check") == 0)
		return ctl_check(&o, nrest, rest);
	if (strcmp(cmd, "register") == 0)
		return ctl_register(&o, nrest, rest);
	if (strcmp(cmd, "keys") == 0)
		return ctl_keys(&o, nrest, rest);
	if (strcmp(cmd, "tx") == 0)
		return ctl_tx(&o, nrest, rest);
	if (strcmp(cmd, "predict") == 0 || strcmp(cmd, "backtest") == 0)
		return ctl_via_trainer(&o, nrest, rest);
	if (strcmp(cmd, "history") == 0)
		return ctl_history(&o, nrest, rest);
	if (strcmp(cmd, "loss") == 0)
		return ctl_loss(&o, nrest, rest);
	fprintf(stderr, "alloractl: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return 2;
}
