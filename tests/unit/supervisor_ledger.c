/*
 * The submission ledger: append, fsync'd records, crash recovery (issue 14): a torn last
 * line cut at every offset of a record, NUL runs before and after valid lines, a NUL
 * (preallocated) tail, a 1.1 GiB sparse file, ENOSPC from a real (tiny tmpfs) file system.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "supervisor/ledger.h"
#include "t.h"
#include "util.h"

static char dir[] = "/tmp/aw-ledger-XXXXXX";
static char mnt[] = "/tmp/aw-ledger-enospc-XXXXXX";	/* unmounted by main, whatever happens */

static char *
lpath(uint32_t topic)
{
	return xasprintf("%s/ledger/topic-%u.jsonl", dir, topic);
}

/* Replaces the topic's file with len bytes of data. */
static int
put(uint32_t topic, const void *data, size_t len)
{
	char *d = xasprintf("%s/ledger", dir), *p = lpath(topic);
	int fd, ok;

	mkdir(d, 0750);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	ok = fd != -1 && write(fd, data, len) == (ssize_t)len;
	if (fd != -1)
		close(fd);
	free(d);
	free(p);
	return ok ? 0 : -1;
}

static off_t
fsize(uint32_t topic)
{
	char *p = lpath(topic);
	struct stat st;
	off_t n = stat(p, &st) == 0 ? st.st_size : -1;

	free(p);
	return n;
}

static const char *
state_of(json_t *all, const char *nonce)
{
	return json_string_value(json_object_get(json_object_get(all, nonce), "state"));
}

T_TEST(append_and_replay)
{
	char err[256];
	struct ledger *l = ledger_open(dir, 67, err, sizeof(err));
	json_t *all, *r;
	long bad;

	T_ASSERT(l != NULL);
	T_EQ_INT(ledger_append(l, 100, "seen", json_pack("{s:s}", "source", "ws"), 0), 0);
	T_EQ_INT(ledger_append(l, 100, "predicted", json_pack("{s:s, s:s}", "value", "0.01",
	    "source", "cache"), 0), 0);
	T_EQ_INT(ledger_append(l, 100, "signed", json_pack("{s:i, s:s, s:s}", "sequence", 7,
	    "txhash", "AA", "tx", "CgE="), 1), 0);
	T_EQ_INT(ledger_append(l, 100, "signed", json_pack("{s:i, s:s, s:s}", "sequence", 8,
	    "txhash", "BB", "tx", "CgI="), 1), 0);
	T_EQ_INT(ledger_append(l, 101, "seen", NULL, 0), 0);
	T_EQ_INT(ledger_append(l, 101, "missed", json_pack("{s:s}", "reason", "window_closed"), 0), 0);
	all = ledger_replay(l, &bad, err, sizeof(err));
	T_ASSERT(all != NULL);
	T_EQ_INT(bad, 0);
	r = json_object_get(all, "100");
	T_ASSERT(r != NULL);
	T_EQ_STR(json_string_value(json_object_get(r, "state")), "signed");
	T_EQ_STR(json_string_value(json_object_get(r, "value")), "0.01");
	T_EQ_STR(json_string_value(json_object_get(r, "txhash")), "BB");
	T_EQ_INT(json_integer_value(json_object_get(r, "sequence")), 8);
	T_EQ_INT(json_array_size(json_object_get(r, "txhashes")), 2);
	r = json_object_get(all, "101");
	T_EQ_STR(json_string_value(json_object_get(r, "state")), "missed");
	T_ASSERT(ledger_state_final("missed") && !ledger_state_final("signed"));
	json_decref(all);
	ledger_close(l);
}

/*
 * Shadow records (issue 19) go beside the nonce's records: the state and the value stay the
 * submitted ones, each model's last answer is under "shadow"; a shadow of a nonce with no
 * record before is dropped (never a nonce without a state).
 */
T_TEST(shadow_records)
{
	char err[256];
	struct ledger *l = ledger_open(dir, 90, err, sizeof(err));
	json_t *all, *r, *sh;
	long bad;

	T_ASSERT(l != NULL);
	T_EQ_INT(ledger_append(l, 5, "seen", NULL, 0), 0);
	T_EQ_INT(ledger_append(l, 5, "predicted", json_pack("{s:s, s:s}", "value", "0.01",
	    "source", "fresh"), 0), 0);
	T_EQ_INT(ledger_append(l, 5, "shadow", json_pack("{s:s, s:s}", "model", "momentum",
	    "value", "0.02"), 0), 0);
	T_EQ_INT(ledger_append(l, 5, "accepted", NULL, 0), 0);
	T_EQ_INT(ledger_append(l, 5, "shadow", json_pack("{s:s, s:n, s:s}", "model",
	    "exec:/x", "value", "reason", "predictor exited with status 1"), 0), 0);
	T_EQ_INT(ledger_append(l, 6, "shadow", json_pack("{s:s, s:s}", "model", "momentum",
	    "value", "0.03"), 0), 0);
	all = ledger_replay(l, &bad, err, sizeof(err));
	T_ASSERT(all != NULL);
	T_EQ_INT(bad, 0);
	r = json_object_get(all, "5");
	T_EQ_STR(json_string_value(json_object_get(r, "state")), "accepted");
	T_EQ_STR(json_string_value(json_object_get(r, "value")), "0.01");
	T_ASSERT(json_object_get(r, "model") == NULL && json_object_get(r, "reason") == NULL);
	sh = json_object_get(r, "shadow");
	T_EQ_INT(json_object_size(sh), 2);
	T_EQ_STR(json_string_value(json_object_get(json_object_get(sh, "momentum"), "value")),
	    "0.02");
	T_ASSERT(json_is_null(json_object_get(json_object_get(sh, "exec:/x"), "value")));
	T_EQ_STR(json_string_value(json_object_get(json_object_get(sh, "exec:/x"), "reason")),
	    "predictor exited with status 1");
	T_ASSERT(json_object_get(all, "6") == NULL);
	json_decref(all);
	ledger_close(l);
}

/*
 * A crash (or ENOSPC) cut the write of a signed record after k bytes, for every k: the
 * open cuts exactly those k bytes, the earlier records replay with no bad line, and the
 * next record is readable (not glued to the torn one).
 */
T_TEST(torn_at_every_offset)
{
	char err[256];
	struct ledger *l;
	char *base, *rec, *buf;
	size_t blen, rlen, k;
	json_t *all;
	long bad;

	l = ledger_open(dir, 70, err, sizeof(err));
	T_ASSERT(l != NULL);
	T_EQ_INT(ledger_append(l, 1, "seen", NULL, 0), 0);
	T_EQ_INT(ledger_append(l, 1, "signed", json_pack("{s:i, s:s, s:s}", "sequence", 3,
	    "txhash", "H1", "tx", "CgE="), 1), 0);
	ledger_close(l);
	base = lpath(70);
	buf = t_slurp(base, &blen);
	free(base);
	base = buf;
	l = ledger_open(dir, 71, err, sizeof(err));
	T_ASSERT(l != NULL);
	T_EQ_INT(ledger_append(l, 2, "signed", json_pack("{s:i, s:s, s:s, s:s}", "sequence", 4,
	    "txhash", "H2", "tx", "CgI=", "value", "-0.25"), 1), 0);
	ledger_close(l);
	rec = lpath(71);
	buf = t_slurp(rec, &rlen);
	free(rec);
	rec = buf;
	T_ASSERT(rlen > 40 && rec[rlen - 1] == '\n');
	for (k = 1; k < rlen; k++) {
		buf = xmalloc(blen + k);
		memcpy(buf, base, blen);
		memcpy(buf + blen, rec, k);
		T_ASSERT(put(72, buf, blen + k) == 0);
		free(buf);
		l = ledger_open(dir, 72, err, sizeof(err));
		T_ASSERT(l != NULL);
		if (fsize(72) != (off_t)blen || ledger_cut_bytes(l) != (long long)k) {
			T_FAIL("cut at %zu: size %lld (want %zu), cut %lld", k,
			    (long long)fsize(72), blen, ledger_cut_bytes(l));
			return;
		}
		T_EQ_INT(ledger_append(l, 3, "seen", NULL, 1), 0);
		all = ledger_replay(l, &bad, err, sizeof(err));
		T_ASSERT(all != NULL);
		if (bad != 0 || json_object_size(all) != 2 || state_of(all, "3") == NULL ||
		    strcmp(state_of(all, "1"), "signed") != 0) {
			T_FAIL("cut at %zu: bad %ld, %zu nonces", k, bad, json_object_size(all));
			return;
		}
		json_decref(all);
		ledger_close(l);
	}
	free(base);
	free(rec);
}

/* NUL runs (power loss) before, between and after records; a torn fragment ended by NULs. */
T_TEST(nul_runs)
{
	static const char r1[] = "{\"topic\":73,\"nonce\":1,\"state\":\"seen\"}\n";
	static const char r2[] = "{\"topic\":73,\"nonce\":2,\"state\":\"signed\",\"txhash\":\"X\","
	    "\"tx\":\"CgE=\"}\n";
	static const char r3[] = "{\"topic\":73,\"nonce\":3,\"state\":\"signed\",\"txhash\":\"Y\","
	    "\"tx\":\"CgI=\"}\n";
	char err[256], buf[16384];
	size_t n = 0;
	struct ledger *l;
	json_t *all;
	long bad;
	off_t before;

	memset(buf, 0, sizeof(buf));
	n += 100;				/* NULs first */
	memcpy(buf + n, r1, strlen(r1));
	n += strlen(r1) + 300;			/* a NUL run between lines */
	memcpy(buf + n, r2, strlen(r2));
	n += strlen(r2);
	memcpy(buf + n, "{\"topic\":73,\"no", 15);	/* a fragment, then NULs */
	n += 15 + 50;
	memcpy(buf + n, r3, strlen(r3));
	n += strlen(r3);
	n += 5000;				/* a NUL tail (preallocated, say) */
	T_ASSERT(put(73, buf, n) == 0);
	l = ledger_open(dir, 73, err, sizeof(err));
	T_ASSERT(l != NULL);
	T_EQ_INT(ledger_cut_bytes(l), -1);	/* a NUL tail is not a torn line */
	T_EQ_INT(fsize(73), (long long)n);
	all = ledger_replay(l, &bad, err, sizeof(err));
	T_ASSERT(all != NULL);
	T_EQ_INT(bad, 1);
	T_EQ_INT(json_object_size(all), 3);
	T_EQ_STR(state_of(all, "2"), "signed");
	T_EQ_STR(state_of(all, "3"), "signed");
	json_decref(all);
	/* Appends continue at the logical end, over the NUL tail. */
	before = fsize(73);
	T_EQ_INT(ledger_append(l, 4, "seen", NULL, 1), 0);
	T_EQ_INT(fsize(73), before);
	all = ledger_replay(l, &bad, err, sizeof(err));
	T_ASSERT(all != NULL);
	T_EQ_INT(bad, 1);
	T_EQ_INT(json_object_size(all), 4);
	T_EQ_STR(state_of(all, "4"), "seen");
	json_decref(all);
	ledger_close(l);
	/* Reopened: still nothing to cut, the new record is there. */
	l = ledger_open(dir, 73, err, sizeof(err));
	T_ASSERT(l != NULL);
	T_EQ_INT(ledger_cut_bytes(l), -1);
	all = ledger_replay(l, &bad, err, sizeof(err));
	T_ASSERT(all != NULL && json_object_size(all) == 4);
	json_decref(all);
	ledger_close(l);
}

/* A 1.1 GiB sparse file with its records at the end replays them (streamed, no limit). */
T_TEST(sparse_1_1_gib)
{
	static const char r1[] = "{\"topic\":74,\"nonce\":9,\"state\":\"signed\",\"txhash\":\"Z\","
	    "\"tx\":\"CgE=\"}\n";
	off_t at = (off_t)1181116006;	/* 1.1 GiB */
	char err[256], *p = lpath(74);
	struct ledger *l;
	json_t *all;
	long bad;
	int fd;

	T_ASSERT(put(74, "", 0) == 0);
	fd = open(p, O_WRONLY);
	T_ASSERT(fd != -1);
	T_ASSERT(pwrite(fd, r1, strlen(r1), at) == (ssize_t)strlen(r1));
	close(fd);
	free(p);
	l = ledger_open(dir, 74, err, sizeof(err));
	T_ASSERT(l != NULL);
	all = ledger_replay(l, &bad, err, sizeof(err));
	T_ASSERT(all != NULL);
	T_EQ_INT(bad, 0);
	T_EQ_STR(state_of(all, "9"), "signed");
	json_decref(all);
	T_EQ_INT(ledger_append(l, 10, "seen", NULL, 0), 0);
	T_ASSERT(fsize(74) > at + (off_t)strlen(r1));
	all = ledger_replay(l, &bad, err, sizeof(err));
	T_ASSERT(all != NULL);
	T_EQ_INT(json_object_size(all), 2);
	json_decref(all);
	ledger_close(l);
}

/* A ledger that is not a regular file is refused, naming the file. */
T_TEST(not_a_file)
{
	char err[256], *p = lpath(75), *d = xasprintf("%s/ledger", dir);
	struct ledger *l;

	mkdir(d, 0750);
	T_ASSERT(symlink("/etc/passwd", p) == 0);
	l = ledger_open(dir, 75, err, sizeof(err));
	T_ASSERT(l == NULL);
	T_ASSERT(strstr(err, p) != NULL && strstr(err, "symbolic link") != NULL);
	unlink(p);
	T_ASSERT(mkdir(p, 0700) == 0);
	l = ledger_open(dir, 75, err, sizeof(err));
	T_ASSERT(l == NULL);
	T_ASSERT(strstr(err, p) != NULL);
	free(p);
	free(d);
}

/*
 * ENOSPC the way the kernel gives it: a 16 KiB tmpfs, filled up.  The record that does not
 * fit (partly written first: a short write) is undone, the earlier records stay, and once
 * space is back the next record goes in.
 */
T_TEST(enospc)
{
	char err[512], *big, *filler;
	struct ledger *l;
	json_t *all;
	long bad;
	off_t before;
	int fd;

	if (geteuid() != 0) {
		printf("# skipped: needs root to mount a tiny tmpfs\n");
		return;
	}
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=16k,mode=0700") == -1) {
		printf("# skipped: mount tmpfs: %s\n", strerror(errno));
		return;
	}
	l = ledger_open(mnt, 76, err, sizeof(err));
	T_ASSERT(l != NULL);
	T_EQ_INT(ledger_append(l, 1, "seen", NULL, 1), 0);
	T_EQ_INT(ledger_append(l, 1, "predicted", json_pack("{s:s}", "value", "0.5"), 1), 0);
	filler = xasprintf("%s/filler", mnt);
	fd = open(filler, O_WRONLY | O_CREAT, 0600);
	T_ASSERT(fd != -1);
	big = xcalloc(1, 4096);
	while (write(fd, big, 4096) > 0)
		;
	while (write(fd, big, 1) > 0)
		;
	close(fd);
	free(big);
	/* A signed record bigger than the rest of the ledger's page: a short write, then
	 * ENOSPC. */
	big = xmalloc(6001);
	memset(big, 'A', 6000);
	big[6000] = '\0';
	before = (off_t)0;
	{
		char *p = xasprintf("%s/ledger/topic-76.jsonl", mnt);
		struct stat st;

		T_ASSERT(stat(p, &st) == 0);
		before = st.st_size;
		errno = 0;
		T_EQ_INT(ledger_append(l, 1, "signed", json_pack("{s:i, s:s, s:s}", "sequence",
		    1, "txhash", "H", "tx", big), 1), -1);
		T_EQ_INT(errno, ENOSPC);
		T_ASSERT(strstr(ledger_error(l), "No space left on device") != NULL);
		T_ASSERT(strstr(ledger_error(l), "topic-76.jsonl") != NULL);
		T_ASSERT(strstr(ledger_error(l), "cut back to offset") != NULL);
		T_ASSERT(stat(p, &st) == 0);
		T_EQ_INT(st.st_size, before);
		all = ledger_replay(l, &bad, err, sizeof(err));
		T_ASSERT(all != NULL);
		T_EQ_INT(bad, 0);
		T_EQ_STR(state_of(all, "1"), "predicted");
		json_decref(all);
		/* Space is back: the next window's record goes in, readable. */
		unlink(filler);
		T_EQ_INT(ledger_append(l, 2, "signed", json_pack("{s:i, s:s, s:s}", "sequence",
		    1, "txhash", "H2", "tx", big), 1), 0);
		all = ledger_replay(l, &bad, err, sizeof(err));
		T_ASSERT(all != NULL);
		T_EQ_INT(bad, 0);
		T_EQ_STR(state_of(all, "1"), "predicted");
		T_EQ_STR(state_of(all, "2"), "signed");
		json_decref(all);
		ledger_close(l);
		l = ledger_open(mnt, 76, err, sizeof(err));
		T_ASSERT(l != NULL);
		T_EQ_INT(ledger_cut_bytes(l), -1);
		ledger_close(l);
		free(p);
	}
	free(big);
	free(filler);
}

/* Group commit (issue 25): records of two ledgers written without a sync share one sync. */
T_TEST(group_commit)
{
	char err[256];
	struct ledger *ls[3];
	long long before;
	json_t *all;
	long bad;
	int i;

	ls[0] = ledger_open(dir, 80, err, sizeof(err));
	ls[1] = ledger_open(dir, 81, err, sizeof(err));
	ls[2] = NULL;
	T_ASSERT(ls[0] != NULL && ls[1] != NULL);
	T_EQ_INT(ledger_commit(ls, 3), 0);
	before = ledger_syncs();
	T_EQ_INT(ledger_commit(ls, 3), 0);		/* nothing to sync: no call */
	T_EQ_INT(ledger_syncs(), before);
	for (i = 0; i < 5; i++) {
		T_EQ_INT(ledger_append(ls[0], i, "signed", json_pack("{s:s, s:s}", "txhash", "A",
		    "tx", "CgE="), 0), 0);
		T_EQ_INT(ledger_append(ls[1], i, "signed", json_pack("{s:s, s:s}", "txhash", "B",
		    "tx", "CgE="), 0), 0);
	}
	T_ASSERT(ledger_pending(ls[0]) && ledger_pending(ls[1]));
	T_EQ_INT(ledger_commit(ls, 3), 0);
	T_EQ_INT(ledger_syncs(), before + 1);		/* one sync for ten records, two files */
	T_ASSERT(!ledger_pending(ls[0]) && !ledger_pending(ls[1]));
	T_EQ_INT(ledger_append(ls[1], 9, "seen", NULL, 0), 0);
	T_EQ_INT(ledger_commit(ls, 3), 0);		/* one file: fdatasync */
	T_EQ_INT(ledger_syncs(), before + 2);
	all = ledger_replay(ls[1], &bad, err, sizeof(err));
	T_ASSERT(all != NULL && bad == 0 && json_object_size(all) == 6);
	json_decref(all);
	ledger_close(ls[0]);
	ledger_close(ls[1]);
}

int
main(void)
{
	int rc;

	if (mkdtemp(dir) == NULL || mkdtemp(mnt) == NULL)
		return 1;
	T_RUN(append_and_replay);
	T_RUN(shadow_records);
	T_RUN(torn_at_every_offset);
	T_RUN(nul_runs);
	T_RUN(sparse_1_1_gib);
	T_RUN(not_a_file);
	T_RUN(enospc);
	T_RUN(group_commit);
	rc = t_done();
	umount2(mnt, MNT_DETACH);
	rmdir(mnt);
	{
		char *cmd = xasprintf("rm -rf '%s'", dir);

		if (system(cmd) != 0)
			rc = 1;
		free(cmd);
	}
	return rc;
}
