/*
 * allora-workerd: the supervisor.  Its children are the role programs beside it
 * (libexec/allora-workerd/allora-workerd-ROLE, roles.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flow.h"
#include "preduser.h"
#include "roles.h"
#include "sup.h"
#include "safefs.h"
#include "util.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: allora-workerd [-c FILE] [-f] [-d] [--polling N] [--dry-run]\n"
	    "                      [--state-dir DIR] [--run-dir DIR]\n"
	    "\n"
	    "  -c, --config FILE   configuration file (default: $ALLORA_WORKER_CONF,\n"
	    "                      ./allora-worker.conf, /etc/allora-worker/allora-worker.conf,\n"
	    "                      else ./.env)\n"
	    "  -f, --foreground    stay in the foreground; the log also goes to stderr\n"
	    "  -d, --debug         debug lines in the human log\n"
	    "      --polling N     poll the chain every N seconds (overrides polling_interval)\n"
	    "      --dry-run       do everything but broadcast\n"
	    "      --state-dir DIR override state_dir\n"
	    "      --run-dir DIR   override run_dir\n"
	    "  -V, --version       print the version\n"
	    "  -h, --help          this help\n"
	    "\n"
	    "Exit status: 0 ok, 1 runtime failure, 2 usage or configuration error,\n"
	    "3 topic already served by another daemon.\n");
}

/*
 * Every directory the daemon and its children create or write in, checked before anything
 * is written (safefs.h): 78 when one is not ours, writable by others, or a symbolic link.
 */
static int
prepare_dirs(struct config *conf, char *err, size_t errlen)
{
	static const char *sub[] = { "logs", "ledger", "audit", "cache" };
	char *d, msg[768];
	size_t i;
	int rc;

	if ((rc = safe_dir(conf->state_dir, 0750, msg, sizeof(msg))) != 0) {
		snprintf(err, errlen, "state_dir %s", msg);
		return rc == SAFE_UNSAFE ? AW_EX_CONFIG : 1;
	}
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		d = xasprintf("%s/%s", conf->state_dir, sub[i]);
		rc = safe_dir(d, i == 2 ? 0700 : 0750, msg, sizeof(msg));
		free(d);
		if (rc != 0) {
			snprintf(err, errlen, "state_dir: %s", msg);
			return rc == SAFE_UNSAFE ? AW_EX_CONFIG : 1;
		}
	}
	if ((rc = safe_dir(conf->run_dir, 0700, msg, sizeof(msg))) != 0) {
		snprintf(err, errlen, "run_dir %s", msg);
		return rc == SAFE_UNSAFE ? AW_EX_CONFIG : 1;
	}
	return 0;
}

/* Everything that can fail with a clear status before the daemon detaches. */
static int
prepare(struct config *conf, char *err, size_t errlen)
{
	size_t i;
	int rc;

	sup = xcalloc(1, sizeof(*sup));
	sup->conf = conf;
	sup->ctl_fd = -1;
	sup->ready_fd = -1;
	sup->mnemonic_fd = -1;
	for (i = 0; i < NROLES; i++) {
		char path[4096];

		if (role_exe_path(child_role_name((enum child_role)i), path, sizeof(path), err,
		    errlen) == -1)
			return 1;
		sup->role_exe[i] = xstrdup(path);
	}
	sup->pid_fd = -1;
	if ((rc = prepare_dirs(conf, err, errlen)) != 0)
		return rc;
	if (pred_user_check(conf, err, errlen) == -1)
		return 2;
	sup->pid_path = xasprintf("%s/%s.pid", conf->run_dir, conf->instance);
	sup->sock_path = xasprintf("%s/%s.sock", conf->run_dir, conf->instance);
	if ((rc = pidfile_lock(sup->pid_path, err, errlen)) != 0)
		return rc;
	sup->ntopics = conf->ntopics;
	sup->topics = xcalloc(conf->ntopics, sizeof(*sup->topics));
	for (i = 0; i < conf->ntopics; i++) {
		sup->topics[i].id = conf->topics[i].id;
		sup->topics[i].lock_fd = -1;
		sup->topics[i].last_nonce = -1;
		sup->topics[i].state = xstrdup("serving");
	}
	sup->nwallets = conf->nwallets;
	sup->wallets = xcalloc(conf->nwallets, sizeof(*sup->wallets));
	for (i = 0; i < conf->nwallets; i++) {
		sup->wallets[i].name = xstrdup(conf->wallets[i].name);
		sup->wallets[i].sequence = -1;
	}
	return locks_take(conf, sup->topics, sup->ntopics, err, errlen);
}

/*
 * Without -f: fork; the parent waits until the daemon is ready (exit 0) or failed (exit 1
 * with the reason), so `allora-workerd` and `alloractl start` return a meaningful status.
 */
static int
detach(int *ready_fd)
{
	int p[2], status;
	char buf[1024];
	ssize_t n;
	size_t len = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1) {
		perror("allora-workerd: pipe");
		return 1;
	}
	pid = fork();
	if (pid == -1) {
		perror("allora-workerd: fork");
		return 1;
	}
	if (pid == 0) {
		close(p[0]);
		setsid();
		*ready_fd = p[1];
		return -1;	/* the daemon goes on */
	}
	close(p[1]);
	while (len < sizeof(buf) - 1) {
		n = read(p[0], buf + len, sizeof(buf) - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (strncmp(buf, "READY", 5) == 0)
		return 0;
	if (strncmp(buf, "FAIL ", 5) == 0) {
		buf[strcspn(buf, "\n")] = '\0';
		fprintf(stderr, "allora-workerd: not started: %s\n", buf + 5);
	}
	/* The daemon died before it was ready: its status says why. */
	if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) != 0)
		return WEXITSTATUS(status);
	return 1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "polling", required_argument, NULL, 'p' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct config_overrides ov;
	struct config *conf;
	const char *path = NULL;
	char err[2048];
	int ch, rc, ready_fd = -1;
	long v;

	/* Before anything secret is read (a .env's MNEMONIC): not dumpable. */
	secrets_harden();
	memset(&ov, 0, sizeof(ov));
	while ((ch = getopt_long(argc, argv, "c:fdVh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			ov.foreground = 1;
			break;
		case 'd':
			ov.debug = 1;
			break;
		case 'p':
			if (parse_long(optarg, 1, 86400, &v) == -1) {
				fprintf(stderr, "allora-workerd: --polling: \"%s\" is not a number of "
				    "seconds from 1 to 86400\n", optarg);
				return 2;
			}
			ov.polling_interval = v;
			break;
		case 'n':
			ov.dry_run = 1;
			break;
		case 's':
			ov.state_dir = optarg;
			break;
		case 'r':
			ov.run_dir = optarg;
			break;
		case 'V':
			printf("allora-workerd %s (protocol %d)%s\n", AW_VERSION, AW_PROTOCOL_VERSION,
#ifdef AW_TEST_HOOKS
			    " (test build: test hooks enabled)"
#else
			    ""
#endif
			    );
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "allora-workerd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	log_init("allora-workerd", ov.debug);
	conf = config_load(path, &ov, err, sizeof(err));
	if (conf == NULL) {
		fprintf(stderr, "allora-workerd: %s\n", err);
		return 2;
	}
	rc = prepare(conf, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "allora-workerd: %s\n", err);
		return rc;
	}
	/* Sealed for the submitter and wiped here before the fork: neither the waiting
	 * parent nor the daemon keeps a mnemonic in its environment. */
	sup->mnemonic_fd = secrets_seal(conf);
	if (!conf->foreground) {
		rc = detach(&ready_fd);
		if (rc >= 0)
			return rc;
	}
	return supervisor_run(conf, ready_fd);
}
