#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger.h"
#include "log.h"
#include "util.h"

struct ledger {
	uint32_t	 topic;
	int		 fd;
	char		*path;
};

struct ledger *
ledger_open(const char *state_dir, uint32_t topic, char *err, size_t errlen)
{
	char *dir = xasprintf("%s/ledger", state_dir);
	struct ledger *l;

	if (mkdir_p(dir, 0750) == -1) {
		snprintf(err, errlen, "%s: cannot create: %s", dir, strerror(errno));
		free(dir);
		return NULL;
	}
	l = xcalloc(1, sizeof(*l));
	l->topic = topic;
	l->path = xasprintf("%s/topic-%u.jsonl", dir, topic);
	free(dir);
	l->fd = open(l->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (l->fd == -1) {
		snprintf(err, errlen, "%s: cannot open: %s", l->path, strerror(errno));
		free(l->path);
		free(l);
		return NULL;
	}
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

int
ledger_append(struct ledger *l, int64_t nonce, const char *state, json_t *fields, int sync)
{
	json_t *o = json_object();
	char ts[40], *js;
	size_t len, off = 0;
	ssize_t n;
	int rc = 0;

	json_object_set_new(o, "time", json_string(iso8601_now(ts, sizeof(ts))));
	json_object_set_new(o, "topic", json_integer(l->topic));
	json_object_set_new(o, "nonce", json_integer(nonce));
	json_object_set_new(o, "state", json_string(state));
	if (json_is_object(fields))
		json_object_update_missing(o, fields);
	json_decref(fields);
	js = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (js == NULL)
		return -1;
	len = strlen(js);
	js = xrealloc(js, len + 2);
	js[len++] = '\n';
	while (off < len) {
		n = write(l->fd, js + off, len - off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_warn("%s: write", l->path);
			rc = -1;
			break;
		}
		off += (size_t)n;
	}
	free(js);
	if (rc == 0 && sync && fsync(l->fd) == -1) {
		log_warn("%s: fsync", l->path);
		rc = -1;
	}
	return rc;
}

int
ledger_state_final(const char *s)
{
	return s != NULL && (strcmp(s, "accepted") == 0 || strcmp(s, "rejected") == 0 ||
	    strcmp(s, "missed") == 0 || strcmp(s, "scored") == 0 ||
	    strcmp(s, "rewarded") == 0);
}

json_t *
ledger_replay(struct ledger *l, long *bad)
{
	json_t *all = json_object(), *rec, *cur, *hashes;
	size_t len;
	char *buf, *line, *next, key[32];
	json_error_t jerr;

	*bad = 0;
	buf = read_file(l->path, (size_t)1 << 30, &len);
	if (buf == NULL)
		return all;
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		json_t *nonce;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (*line == '\0')
			continue;
		rec = json_loads(line, 0, &jerr);
		nonce = json_object_get(rec, "nonce");
		if (!json_is_object(rec) || !json_is_integer(nonce) ||
		    !json_is_string(json_object_get(rec, "state"))) {
			json_decref(rec);
			(*bad)++;	/* a torn last line after a crash, say */
			continue;
		}
		snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(nonce));
		cur = json_object_get(all, key);
		if (cur == NULL) {
			cur = json_object();
			json_object_set_new(cur, "txhashes", json_array());
			json_object_set_new(all, key, cur);
		}
		hashes = json_object_get(cur, "txhashes");
		json_object_del(rec, "txhashes");
		json_object_update(cur, rec);
		if (strcmp(json_string_value(json_object_get(rec, "state")), "signed") == 0 &&
		    json_is_string(json_object_get(rec, "txhash")))
			json_array_append(hashes, json_object_get(rec, "txhash"));
		json_decref(rec);
	}
	free(buf);
	return all;
}
