/*
 * The submitter's key loading: each configured wallet's mnemonic, from the sealed memfd
 * of the environment the supervisor passed on fd 4 or from its key file, to a private key
 * in a locked, undumpable page; the address checked against ALLORA_WALLET_ADDR and the fee
 * granter checked to be an address.  A wallet that does not load stops the process with
 * AW_EX_CONFIG.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "keyfile.h"
#include "keys.h"
#include "log.h"
#include "proc.h"
#include "util.h"
#include "submitter_int.h"

/* ---- wallets ---- */

/* Reads NAME=value lines from the sealed memfd the supervisor passed on fd 4. */
static char *blob;
static size_t bloblen;

static char *
mnemonic_from_env_fd(const char *name, char *err, size_t errlen)
{
	char *p, *line, *res = NULL;
	size_t nl = strlen(name);

	if (blob == NULL) {
		struct stat st;

		if (S.memfd == -1 || fstat(S.memfd, &st) == -1 || st.st_size <= 0 ||
		    st.st_size > 65536) {
			snprintf(err, errlen, "%s is not set (no mnemonic was passed from the "
			    "environment)", name);
			return NULL;
		}
		bloblen = (size_t)st.st_size;
		blob = mmap(NULL, bloblen, PROT_READ, MAP_PRIVATE, S.memfd, 0);
		if (blob == MAP_FAILED) {
			blob = NULL;
			snprintf(err, errlen, "reading the mnemonic memfd: %s", strerror(errno));
			return NULL;
		}
	}
	for (p = blob; p < blob + bloblen; p = line + 1) {
		line = memchr(p, '\n', (size_t)(blob + bloblen - p));
		if (line == NULL)
			line = blob + bloblen;
		if ((size_t)(line - p) > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t vl = (size_t)(line - p) - nl - 1;

			res = calloc(1, vl + 1);
			if (res != NULL) {
				mlock(res, vl + 1);
				memcpy(res, p + nl + 1, vl);
			}
			return res;
		}
	}
	snprintf(err, errlen, "%s is not set in the daemon's environment", name);
	return NULL;
}

void
load_wallets(const struct config *c)
{
	size_t i;
	char err[512], *m;
	long pg = sysconf(_SC_PAGESIZE);

	S.nwallets = c->nwallets;
	S.wallets = xcalloc(c->nwallets, sizeof(*S.wallets));
	for (i = 0; i < c->nwallets; i++) {
		const struct config_wallet *cw = &c->wallets[i];
		struct wallet *w = &S.wallets[i];
		int from_env = cw->mnemonic_file == NULL;

		w->name = xstrdup(cw->name);
		TAILQ_INIT(&w->queue);
		if (from_env)
			m = mnemonic_from_env_fd(cw->mnemonic_env, err, sizeof(err));
		else
			m = keyfile_read(cw->mnemonic_file, err, sizeof(err));
		if (m == NULL) {
			log_event(LOG_LVL_ERROR, "error", json_pack("{s:n, s:s, s:s}", "topic",
			    "wallet", cw->name, "reason", err), "wallet %s: %s", cw->name, err);
			exit(AW_EX_CONFIG);
		}
		w->priv = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE |
		    MAP_ANONYMOUS, -1, 0);
		if (w->priv == MAP_FAILED)
			fatal("mmap");
		(void)mlock(w->priv, (size_t)pg);
		(void)madvise(w->priv, (size_t)pg, MADV_DONTDUMP);
		if (key_from_mnemonic(m, cw->hd_path, w->priv, w->pub, err, sizeof(err)) == -1) {
			size_t ml = strlen(m);

			key_clear(m, ml);
			if (from_env)
				free(m);
			else
				keyfile_free(m);
			log_event(LOG_LVL_ERROR, "error", json_pack("{s:n, s:s, s:s}", "topic",
			    "wallet", cw->name, "reason", err), "wallet %s (%s): %s", cw->name,
			    from_env ? cw->mnemonic_env : cw->mnemonic_file, err);
			exit(AW_EX_CONFIG);
		}
		if (from_env) {
			key_clear(m, strlen(m));
			free(m);
		} else
			keyfile_free(m);
		key_address(w->pub, w->address, sizeof(w->address));
		if (cw->expect_address != NULL && strcmp(cw->expect_address, w->address) != 0) {
			log_event(LOG_LVL_ERROR, "error", json_pack("{s:n, s:s, s:s, s:s}", "topic",
			    "wallet", cw->name, "expected", cw->expect_address, "derived", w->address),
			    "wallet %s: the mnemonic gives %s, but ALLORA_WALLET_ADDR is %s; refusing "
			    "to start", cw->name, w->address, cw->expect_address);
			exit(AW_EX_CONFIG);
		}
		if (cw->fee_granter != NULL) {
			char hrp[16], e[96];
			uint8_t d[64];
			size_t dl;

			if (bech32_decode(cw->fee_granter, hrp, sizeof(hrp), d, &dl, e,
			    sizeof(e)) == -1 || strcmp(hrp, "allo") != 0) {
				log_event(LOG_LVL_ERROR, "error", json_pack("{s:n, s:s, s:s}", "topic",
				    "wallet", cw->name, "reason", "bad_fee_granter"), "wallet %s: "
				    "fee_granter %s is not an address (%s)", cw->name, cw->fee_granter,
				    e);
				exit(AW_EX_CONFIG);
			}
			log_info("wallet %s: %s (fees paid by the grant of %s)", w->name,
			    w->address, cw->fee_granter);
		} else
			log_info("wallet %s: %s", w->name, w->address);
		send_wallet(w);
	}
	if (blob != NULL) {
		munmap(blob, bloblen);
		blob = NULL;
	}
	if (S.memfd != -1) {
		close(S.memfd);
		S.memfd = -1;
	}
}
