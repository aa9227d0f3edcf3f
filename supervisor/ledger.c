/*
 * The submission ledger (ledger.h): appends, durability and crash recovery of
 * state_dir/ledger/topic-<id>.jsonl.  This file owns the on-disk rules:
 *
 * - A record is one JSON object and a '\n'.  A line is complete once its '\n' is on disk;
 *   the logical end of the file is just after the last '\n'.
 * - On open, bytes after the logical end that are not all NUL are a torn last line (a crash
 *   or ENOSPC in the middle of a write): they are cut (ftruncate to the logical end) and the
 *   cut is logged with its size, offset and first bytes.
 * - A tail of NUL bytes after the logical end is NOT a torn line: it is what a file system
 *   leaves after a power loss, or a preallocated tail (fallocate) if a later change
 *   preallocates the file.  It is left in place and appends continue at the logical end,
 *   overwriting it (the file is written with pwrite at the logical end, never O_APPEND).
 * - A write that fails or comes up short is undone: the file is cut back to the previous
 *   logical end and the caller gets -1 (and ledger_error), so a record the caller did not
 *   see succeed is never left half on disk; a failed fsync is undone the same way.
 * - Replay streams the file (no size limit; holes of a sparse file are skipped with
 *   SEEK_DATA), parses each line by the length read, treats NUL runs as separators (a NUL
 *   run is never a record and never glues two records together), and counts lines that are
 *   not a record.
 * - When the file is created, its directory is fsync'd so that the new name is durable.
 * - Group commit (issue 25): records may be written without a sync and made durable
 *   together by ledger_commit(): one fdatasync for one file, one syncfs(2) for several (the
 *   ledgers share a file system).  Space is preallocated ahead of the logical end with
 *   fallocate(FALLOC_FL_KEEP_SIZE) where the file system allows it, so that the sync finds
 *   the blocks allocated and the file's size (what readers see) stays the logical end; with
 *   fdatasync the sync writes the data and the size, not the times.  A failed sync cuts
 *   the file back to where the last sync left it: every record written since is undone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger.h"
#include "log.h"
#include "safefs.h"
#include "util.h"

#define CHUNK		(64 * 1024)
#define PREALLOC	((off_t)256 * 1024)
#define MAX_LINE	((size_t)64 << 20)	/* longer "lines" are counted bad and skipped */

struct ledger {
	uint32_t	 topic;
	int		 fd;
	char		*path;
	off_t		 end;		/* logical end: after the last complete line */
	off_t		 synced_end;	/* end at the last successful sync */
	off_t		 alloc_end;	/* preallocated up to here; -1: not supported */
	int		 dirty;		/* an undo failed: cut back before the next append */
	long long	 cut_bytes;	/* what the open cut (a torn tail), -1 none */
	long long	 cut_offset;
	char		 error[512];
};

/* Calls fn on every piece of [0, limit) (buf NULL for a hole: that many NUL bytes). */
typedef int (*piece_fn)(void *arg, const char *buf, size_t n, off_t off);

static int
stream(struct ledger *l, off_t limit, piece_fn fn, void *arg)
{
	char *buf = xmalloc(CHUNK);
	off_t off = 0, data;
	ssize_t n;
	size_t want;
	int rc = 0;

	while (off < limit) {
		data = lseek(l->fd, off, SEEK_DATA);
		if (data == -1 && errno == ENXIO)
			break;		/* only a hole up to the end */
		if (data == -1)
			data = off;	/* no SEEK_DATA here: read everything */
		if (data > limit)
			data = limit;
		if (data > off) {
			if ((rc = fn(arg, NULL, (size_t)(data - off), off)) != 0)
				break;
			off = data;
			continue;
		}
		want = limit - off < CHUNK ? (size_t)(limit - off) : CHUNK;
		n = pread(l->fd, buf, want, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		if ((rc = fn(arg, buf, (size_t)n, off)) != 0)
			break;
		off += n;
	}
	free(buf);
	return rc;
}

/* ---- recovery on open ---- */

struct scan {
	off_t	 last_nl_end;	/* offset after the last '\n', 0 none */
	off_t	 tail_start;	/* first non-NUL byte after it, -1 none */
};

static int
scan_piece(void *arg, const char *buf, size_t n, off_t off)
{
	struct scan *s = arg;
	const char *nl;
	size_t i, from = 0;

	if (buf == NULL)
		return 0;
	nl = memrchr(buf, '\n', n);
	if (nl != NULL) {
		from = (size_t)(nl - buf) + 1;
		s->last_nl_end = off + (off_t)from;
		s->tail_start = -1;
	}
	if (s->tail_start != -1)
		return 0;
	for (i = from; i < n; i++)
		if (buf[i] != '\0') {
			s->tail_start = off + (off_t)i;
			break;
		}
	return 0;
}

static int
recover(struct ledger *l, char *err, size_t errlen)
{
	struct scan s = { 0, -1 };
	struct stat st;
	char head[49], shown[200];
	ssize_t n;
	size_t i, j;

	if (fstat(l->fd, &st) == -1 || stream(l, st.st_size, scan_piece, &s) == -1) {
		snprintf(err, errlen, "%s: cannot read: %s", l->path, strerror(errno));
		return -1;
	}
	l->end = s.last_nl_end;
	l->synced_end = l->end;
	if (s.tail_start == -1)
		return 0;	/* clean, or a NUL tail (preallocated or left by a power loss) */
	/* A torn last line: cut it, saying what it was. */
	n = pread(l->fd, head, sizeof(head) - 1, s.tail_start);
	if (n < 0)
		n = 0;
	for (i = 0, j = 0; i < (size_t)n && j + 5 < sizeof(shown); i++) {
		unsigned char c = (unsigned char)head[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			shown[j++] = (char)c;
		else
			j += (size_t)snprintf(shown + j, sizeof(shown) - j, "\\x%02x", c);
	}
	shown[j] = '\0';
	if (ftruncate(l->fd, l->end) == -1 || fsync(l->fd) == -1) {
		snprintf(err, errlen, "%s: cannot cut the torn last line: %s", l->path,
		    strerror(errno));
		return -1;
	}
	l->cut_bytes = (long long)(st.st_size - l->end);
	l->cut_offset = (long long)l->end;
	l->synced_end = l->end;
	log_event(LOG_LVL_WARNING, "warning", json_pack("{s:I, s:s, s:I, s:I, s:s}", "topic",
	    (json_int_t)l->topic, "file", l->path, "cut_bytes", (json_int_t)l->cut_bytes,
	    "cut_offset", (json_int_t)l->cut_offset, "cut_start", shown),
	    "ledger %s: cut a torn last line of %lld byte(s) at offset %lld, starting \"%s%s\"",
	    l->path, l->cut_bytes, l->cut_offset, shown, (size_t)n == sizeof(head) - 1 ?
	    "..." : "");
	return 0;
}

struct ledger *
ledger_open(const char *state_dir, uint32_t topic, char *err, size_t errlen)
{
	char *dir = xasprintf("%s/ledger", state_dir);
	struct ledger *l;
	int created = 0;

	if (safe_dir(dir, 0750, err, errlen) != 0) {
		free(dir);
		return NULL;
	}
	l = xcalloc(1, sizeof(*l));
	l->topic = topic;
	l->cut_bytes = -1;
	l->cut_offset = -1;
	l->path = xasprintf("%s/topic-%u.jsonl", dir, topic);
	l->fd = safe_open(l->path, O_RDWR | O_CREAT, 0640, &created, err, errlen);
	if (l->fd == -1)
		goto fail;
	if (created && fsync_dir(dir) == -1) {
		snprintf(err, errlen, "%s: fsync of the directory: %s", dir, strerror(errno));
		goto fail;
	}
	if (recover(l, err, errlen) == -1)
		goto fail;
	free(dir);
	return l;
fail:
	if (l->fd != -1)
		close(l->fd);
	free(dir);
	free(l->path);
	free(l);
	return NULL;
}

struct ledger *
ledger_open_readonly(const char *state_dir, uint32_t topic, char *err, size_t errlen)
{
	struct ledger *l = xcalloc(1, sizeof(*l));
	struct stat st;

	l->topic = topic;
	l->cut_bytes = -1;
	l->cut_offset = -1;
	l->alloc_end = -1;
	l->path = xasprintf("%s/ledger/topic-%u.jsonl", state_dir, topic);
	l->fd = safe_open(l->path, O_RDONLY, 0, NULL, err, errlen);
	if (l->fd == -1 || fstat(l->fd, &st) == -1) {
		if (l->fd != -1) {
			snprintf(err, errlen, "%s: fstat: %s", l->path, strerror(errno));
			close(l->fd);
		}
		free(l->path);
		free(l);
		return NULL;
	}
	l->end = l->synced_end = st.st_size;
	return l;
}

void
ledger_close(struct ledger *l)
{
	if (l == NULL)
		return;
	close(l->fd);
	free(l->path);
	free(l);
}

const char *
ledger_path(const struct ledger *l)
{
	return l->path;
}

const char *
ledger_error(const struct ledger *l)
{
	return l->error;
}

long long
ledger_cut_bytes(const struct ledger *l)
{
	return l->cut_bytes;
}

static long long nsyncs;

long long
ledger_syncs(void)
{
	return nsyncs;
}

/* Space ahead of the logical end, so that appends do not allocate blocks at sync time. */
static void
prealloc(struct ledger *l, size_t len)
{
	if (l->alloc_end == -1 || l->end + (off_t)len <= l->alloc_end)
		return;
	if (fallocate(l->fd, FALLOC_FL_KEEP_SIZE, l->end, PREALLOC + (off_t)len) == 0)
		l->alloc_end = l->end + PREALLOC + (off_t)len;
	else if (errno == EOPNOTSUPP || errno == ENOSYS)
		l->alloc_end = -1;	/* not here: plain appends */
}

/* Cuts the file back to the logical end after a failed write. */
static int
undo(struct ledger *l)
{
	while (ftruncate(l->fd, l->end) == -1) {
		if (errno == EINTR)
			continue;
		l->dirty = 1;
		return -1;
	}
	l->dirty = 0;
	return 0;
}

int
ledger_append(struct ledger *l, int64_t nonce, const char *state, json_t *fields, int sync)
{
	json_t *o = json_object();
	char ts[40], *js;
	size_t len, off = 0;
	ssize_t n;
	int saved;
	const char *what = "write";

	json_object_set_new(o, "time", json_string(iso8601_now(ts, sizeof(ts))));
	json_object_set_new(o, "topic", json_integer(l->topic));
	json_object_set_new(o, "nonce", json_integer(nonce));
	json_object_set_new(o, "state", json_string(state));
	if (json_is_object(fields))
		json_object_update_missing(o, fields);
	json_decref(fields);
	js = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (js == NULL) {
		snprintf(l->error, sizeof(l->error), "%s: cannot encode a %s record", l->path,
		    state);
		errno = EINVAL;
		return -1;
	}
	if (l->dirty && undo(l) == -1) {
		saved = errno;
		snprintf(l->error, sizeof(l->error), "%s: cannot cut back to offset %lld after "
		    "a failed write: %s", l->path, (long long)l->end, strerror(saved));
		log_warnx("%s", l->error);
		free(js);
		errno = saved;
		return -1;
	}
	len = strlen(js);
	js = xrealloc(js, len + 2);
	js[len++] = '\n';
	prealloc(l, len);
	while (off < len) {
		n = pwrite(l->fd, js + off, len - off, l->end + (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			goto fail;
		}
		off += (size_t)n;
	}
	if (sync) {
		what = "fdatasync";
		nsyncs++;
		if (fdatasync(l->fd) == -1) {
			/* Everything since the last sync is in doubt: undo it all. */
			l->end = l->synced_end;
			goto fail;
		}
	}
	free(js);
	l->end += (off_t)len;
	if (sync)
		l->synced_end = l->end;
	return 0;
fail:
	saved = errno;
	free(js);
	snprintf(l->error, sizeof(l->error), "%s: %s of a %s record for nonce %lld failed "
	    "after %zu of %zu bytes: %s; %s offset %lld", l->path, what, state, (long long)nonce,
	    off, len, strerror(saved), undo(l) == 0 ? "cut back to" : "could not cut back to",
	    (long long)l->end);
	log_warnx("%s", l->error);
	errno = saved;
	return -1;
}

int
ledger_commit(struct ledger **ls, size_t n)
{
	size_t i, dirty = 0, first = 0;
	int rc, saved;
	const char *what;

	for (i = 0; i < n; i++)
		if (ls[i] != NULL && ls[i]->end != ls[i]->synced_end) {
			if (dirty++ == 0)
				first = i;
		}
	if (dirty == 0)
		return 0;
	nsyncs++;
	if (dirty == 1) {
		what = "fdatasync";
		rc = fdatasync(ls[first]->fd);
	} else {
		what = "syncfs";
		rc = syncfs(ls[first]->fd);
	}
	if (rc == 0) {
		for (i = 0; i < n; i++)
			if (ls[i] != NULL)
				ls[i]->synced_end = ls[i]->end;
		return 0;
	}
	saved = errno;
	for (i = 0; i < n; i++) {
		struct ledger *l = ls[i];
		off_t was;

		if (l == NULL || l->end == l->synced_end)
			continue;
		was = l->end;
		l->end = l->synced_end;
		snprintf(l->error, sizeof(l->error), "%s: %s failed: %s; the records written "
		    "since the last sync (%lld bytes) %s offset %lld", l->path, what,
		    strerror(saved), (long long)(was - l->end), undo(l) == 0 ?
		    "were cut back to" : "could not be cut back to", (long long)l->end);
		log_warnx("%s", l->error);
	}
	errno = saved;
	return -1;
}

int
ledger_pending(const struct ledger *l)
{
	return l != NULL && l->end != l->synced_end;
}

int
ledger_state_final(const char *s)
{
	return s != NULL && (strcmp(s, "accepted") == 0 || strcmp(s, "rejected") == 0 ||
	    strcmp(s, "missed") == 0 || strcmp(s, "scored") == 0 ||
	    strcmp(s, "rewarded") == 0);
}

/* ---- replay ---- */

struct replay {
	json_t	*all;
	long	 bad;
	char	*line;
	size_t	 len, cap;
	int	 overlong;
};

static void
shadow_take(json_t *cur, json_t *rec)
{
	const char *model = json_string_value(json_object_get(rec, "model"));
	json_t *sh;

	if (cur == NULL || model == NULL)	/* no record of the nonce before: dropped */
		return;
	if ((sh = json_object_get(cur, "shadow")) == NULL) {
		sh = json_object();
		json_object_set_new(cur, "shadow", sh);
	}
	json_object_set_new(sh, model, json_pack("{s:O?, s:O?, s:O?}", "value",
	    json_object_get(rec, "value"), "reason", json_object_get(rec, "reason"), "time",
	    json_object_get(rec, "time")));
}

static void
take_line(struct replay *r)
{
	json_t *rec, *cur, *hashes, *nonce;
	json_error_t jerr;
	char key[32];

	if (r->overlong) {
		r->bad++;
		r->overlong = 0;
		r->len = 0;
		return;
	}
	if (r->len == 0)
		return;
	rec = json_loadb(r->line, r->len, 0, &jerr);
	r->len = 0;
	nonce = json_object_get(rec, "nonce");
	if (!json_is_object(rec) || !json_is_integer(nonce) ||
	    !json_is_string(json_object_get(rec, "state"))) {
		json_decref(rec);
		r->bad++;
		return;
	}
	snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(nonce));
	cur = json_object_get(r->all, key);
	if (strcmp(json_string_value(json_object_get(rec, "state")), "shadow") == 0) {
		/* A shadow model's answer (issue 19) goes beside the nonce's records, under
		 * "shadow": {"<model>": {value, reason, time}}; never into its state or value. */
		shadow_take(cur, rec);
		json_decref(rec);
		return;
	}
	if (cur == NULL) {
		cur = json_object();
		json_object_set_new(cur, "txhashes", json_array());
		json_object_set_new(r->all, key, cur);
	}
	hashes = json_object_get(cur, "txhashes");
	json_object_del(rec, "txhashes");
	json_object_update(cur, rec);
	if (strcmp(json_string_value(json_object_get(rec, "state")), "signed") == 0 &&
	    json_is_string(json_object_get(rec, "txhash")))
		json_array_append(hashes, json_object_get(rec, "txhash"));
	json_decref(rec);
}

static int
replay_piece(void *arg, const char *buf, size_t n, off_t off)
{
	struct replay *r = arg;
	size_t i = 0, j;

	(void)off;
	if (buf == NULL) {	/* a hole: a NUL run */
		take_line(r);
		return 0;
	}
	while (i < n) {
		for (j = i; j < n && buf[j] != '\n' && buf[j] != '\0'; j++)
			;
		if (j > i && !r->overlong) {
			if (r->len + (j - i) > MAX_LINE)
				r->overlong = 1;
			else {
				if (r->len + (j - i) > r->cap) {
					r->cap = (r->len + (j - i)) * 2;
					r->line = xrealloc(r->line, r->cap);
				}
				memcpy(r->line + r->len, buf + i, j - i);
				r->len += j - i;
			}
		}
		if (j < n)
			take_line(r);	/* a '\n' or a NUL ends the line */
		i = j + 1;
	}
	return 0;
}

json_t *
ledger_replay(struct ledger *l, long *bad, char *err, size_t errlen)
{
	struct replay r;
	struct stat st;
	memset(&r, 0, sizeof(r));
	*bad = 0;
	if (fstat(l->fd, &st) == -1) {
		snprintf(err, errlen, "%s: cannot read: %s", l->path, strerror(errno));
		return NULL;
	}
	/* The whole file: past the logical end there is at most a NUL tail (the open cut
	 * anything else). */
	r.all = json_object();
	if (stream(l, st.st_size, replay_piece, &r) == -1) {
		snprintf(err, errlen, "%s: cannot read: %s", l->path, strerror(errno));
		json_decref(r.all);
		free(r.line);
		return NULL;
	}
	take_line(&r);
	free(r.line);
	*bad = r.bad;
	return r.all;
}
