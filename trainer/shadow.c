/*
 * Shadow models of the trainer (issue 19): at each window, after the topic's PREDICTION has
 * been sent, the models of the topic's `shadow =` list are computed one after the other,
 * each exactly as `model =` would compute it (compute.c's compute_start on a copy of the
 * configuration whose topic names that model; no prediction.json cache is read or
 * written), and each answer goes to the supervisor as one SHADOW frame (common/frame.h).
 * A shadow never delays the submitted prediction: it starts after PREDICTION is out; a slow
 * or failing one loses only its own row (value null, reason), and each is bounded in time.
 *
 * The running losses (status, metrics) are computed here, where the bars are: the trainer
 * keeps a journal of what it answered per window, state_dir/cache/topic-<id>/shadow.jsonl
 * ({"nonce", "time", "value"} for the submitted prediction, {"nonce", "model", "value"}
 * per shadow answer), and after each round (and every SHADOW_SCORE_S) scores it with
 * trainer/truth.c, the code of `alloractl history --shadow` (which reads the ledger
 * instead), and sends the result as SHADOW_SCORES.  Past 32 MiB the journal keeps its
 * newer half.
 * Owns: the order, the bounds, the SHADOW and SHADOW_SCORES frames and the journal.
 */
#include <sys/queue.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "frame.h"
#include "log.h"
#include "proc.h"
#include "shadow.h"
#include "trainer.h"
#include "trainer_int.h"
#include "truth.h"
#include "util.h"

/* A built-in shadow trains like the submitted model, but is given up after this long. */
#define SHADOW_BUILTIN_MAX_S	300
#define SHADOW_HELD_MAX_S	600	/* a PREDICTION held longer: the shadows go anyway */
#define SHADOW_SCORE_S		600	/* rescored this often (new bars, new truths) */
#define SHADOW_JOURNAL_MAX	((size_t)64 << 20)
#define SHADOW_JOURNAL_TRIM	((off_t)32 << 20)	/* then its older half goes */

struct sround {
	uint32_t		 topic;
	int64_t			 nonce;
	char			**models;
	size_t			 n, next;
	json_t			*cj;		/* the configuration at the window (a reload
						 * may free the daemon's meanwhile) */
	struct config		*conf;		/* cj with the model under test */
	struct compute		*k;
	struct event		*timer;
	char			*cur;		/* the model being computed */
	double			 t0;
	struct event_base	*base;
	struct http_client	*http;
	char			*state_dir;	/* of the journal */
	int			 journal;
	int			 held;		/* its PREDICTION is not out yet */
	TAILQ_ENTRY(sround)	 entry;
};
/* One round at a time, first come first served: the head runs. */
static TAILQ_HEAD(, sround) rounds = TAILQ_HEAD_INITIALIZER(rounds);

static void	round_next(struct sround *);
static struct event *score_timer;

static char *
journal_path(const struct config *c, uint32_t topic)
{
	return xasprintf("%s/cache/topic-%u/shadow.jsonl", c->state_dir, topic);
}

/* Past SHADOW_JOURNAL_TRIM bytes, the journal keeps its newer half (whole lines). */
static void
journal_trim(const char *path, off_t size, uint32_t topic)
{
	char *buf, *cut;
	size_t len;

	if (size < SHADOW_JOURNAL_TRIM || (buf = read_file(path, SHADOW_JOURNAL_MAX,
	    &len)) == NULL)
		return;
	cut = memchr(buf + len / 2, '\n', len - len / 2);
	if (cut != NULL && write_file_atomic(path, cut + 1, len - (size_t)(cut + 1 - buf),
	    0640) == -1)
		log_warn("topic %u: shadow journal %s", topic, path);
	free(buf);
}

/* One line appended (one write: a torn last line is skipped when read). */
static void
journal_add(const struct config *c, uint32_t topic, json_t *o)
{
	char *path = journal_path(c, topic), *dir = path_dirname(path), *s, *line;
	int fd;

	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	line = xasprintf("%s\n", s != NULL ? s : "{}");
	if (mkdir_p(dir, 0750) == -1 ||
	    (fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640)) == -1)
		log_warn("topic %u: shadow journal %s", topic, path);
	else {
		off_t end;

		if (write(fd, line, strlen(line)) != (ssize_t)strlen(line))
			log_warn("topic %u: shadow journal %s", topic, path);
		end = lseek(fd, 0, SEEK_END);
		close(fd);
		journal_trim(path, end, topic);
	}
	free(line);
	free(s);
	free(dir);
	free(path);
}

/* The journal as rows {"<nonce>": {"time", "value", "shadow": {"<model>": {"value"}}}}. */
static json_t *
journal_rows(const struct config *c, uint32_t topic)
{
	char *path = journal_path(c, topic), *buf, *line, *next, key[32];
	json_t *all = json_object(), *r, *cur, *sh;
	size_t len;

	buf = read_file(path, SHADOW_JOURNAL_MAX, &len);
	free(path);
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		const char *model;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if ((r = json_loads(line, 0, NULL)) == NULL)
			continue;
		if (!json_is_integer(json_object_get(r, "nonce"))) {
			json_decref(r);
			continue;
		}
		snprintf(key, sizeof(key), "%lld",
		    (long long)json_integer_value(json_object_get(r, "nonce")));
		if ((cur = json_object_get(all, key)) == NULL) {
			cur = json_pack("{s:O}", "nonce", json_object_get(r, "nonce"));
			json_object_set_new(all, key, cur);
		}
		if ((model = json_string_value(json_object_get(r, "model"))) != NULL) {
			if ((sh = json_object_get(cur, "shadow")) == NULL) {
				sh = json_object();
				json_object_set_new(cur, "shadow", sh);
			}
			json_object_set_new(sh, model, json_pack("{s:O?}", "value",
			    json_object_get(r, "value")));
		} else if (json_object_get(cur, "time") == NULL) {
			json_object_set(cur, "time", json_object_get(r, "time"));
			json_object_set(cur, "value", json_object_get(r, "value"));
		}
		json_decref(r);
	}
	free(buf);
	return all;
}

/* Scores the journal of topic t and sends SHADOW_SCORES. */
static void
score_topic(const struct config *c, const struct config_topic *t)
{
	struct truth tr;
	json_t *all, **rows, *sc;
	char why[300], note[160], **models;
	size_t n, nm;
	enum loss_method m;

	if ((models = config_shadow_split(t->shadow, &nm, why, sizeof(why))) == NULL)
		return;
	m = trainer_topic_loss(t, note, sizeof(note));
	all = journal_rows(c, t->id);
	rows = truth_rows(all, &n);
	truth_load(&tr, c, t, m);
	sc = truth_shadow_scores(&tr, rows, n, models);
	truth_free(&tr);
	free(rows);
	json_decref(all);
	config_shadow_free(models);
	child_send(MSG_SHADOW_SCORES, t->id, 0, json_pack("{s:I, s:s, s:o}", "topic",
	    (json_int_t)t->id, "loss_method", loss_method_name(m), "scores", sc));
}

static json_t *SCORE_CJ;	/* the configuration of the last window (a copy) */

static void
on_score_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval tv = { SHADOW_SCORE_S, 0 };
	char err[256];
	struct config *c = SCORE_CJ != NULL ? config_from_json(SCORE_CJ, err, sizeof(err)) :
	    NULL;
	size_t i;

	for (i = 0; c != NULL && i < c->ntopics; i++)
		if (c->topics[i].shadow != NULL && c->topics[i].shadow[0] != '\0')
			score_topic(c, &c->topics[i]);
	if (c != NULL)
		config_free(c);
	evtimer_add(score_timer, &tv);
}

static void
journal_add_cj(const struct sround *r, const char *model, const char *value)
{
	struct config c;

	memset(&c, 0, sizeof(c));
	c.state_dir = r->state_dir;
	journal_add(&c, r->topic, json_pack("{s:I, s:s, s:o}", "nonce", (json_int_t)r->nonce,
	    "model", model, "value", value != NULL ? json_string(value) : json_null()));
}

static void
send_shadow(const struct sround *r, const char *model, const char *value, const char *reason)
{
	json_t *o = json_pack("{s:I, s:I, s:s, s:o, s:o, s:f}", "topic", (json_int_t)r->topic,
	    "nonce", (json_int_t)r->nonce, "model", model, "value", value != NULL ?
	    json_string(value) : json_null(), "reason", reason != NULL ? json_string(reason) :
	    json_null(), "ms", (mono_s() - r->t0) * 1000);

	if (r->journal)
		journal_add_cj(r, model, value);
	if (value != NULL)
		log_info("topic %u nonce %lld: shadow %s answered %s", r->topic,
		    (long long)r->nonce, model, value);
	else
		log_warnx("topic %u nonce %lld: shadow %s has no value: %s", r->topic,
		    (long long)r->nonce, model, reason != NULL ? reason : "?");
	child_send(MSG_SHADOW, r->topic, 0, o);
}

static void
round_free(struct sround *r)
{
	TAILQ_REMOVE(&rounds, r, entry);
	if (r->k != NULL)
		compute_free(r->k);
	if (r->timer != NULL)
		event_free(r->timer);
	if (r->conf != NULL)
		config_free(r->conf);
	json_decref(r->cj);
	free(r->state_dir);
	config_shadow_free(r->models);
	free(r->cur);
	free(r);
}

static void
on_shadow_done(struct compute *k, const struct prediction *p, void *arg)
{
	struct sround *r = arg;

	r->k = NULL;
	if (k != NULL)
		compute_free(k);
	if (r->timer != NULL)
		evtimer_del(r->timer);
	/* A fallback is the topic's value, not the model's: the model has no row then. */
	if (p->have_value && strcmp(p->source, "fallback") != 0)
		send_shadow(r, r->cur, p->value, NULL);
	else
		send_shadow(r, r->cur, NULL, p->reason[0] != '\0' ? p->reason : "no value");
	round_next(r);
}

static void
on_shadow_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct sround *r = arg;
	char why[96];

	snprintf(why, sizeof(why), "shadow model did not answer within %d s",
	    SHADOW_BUILTIN_MAX_S);
	if (r->k != NULL) {
		compute_free(r->k);	/* cancels its job or request; done() is not called */
		r->k = NULL;
	}
	send_shadow(r, r->cur, NULL, why);
	round_next(r);
}

/* The window's configuration with the topic's model replaced by the shadow model m. */
static struct config *
conf_with_model(const json_t *cj, uint32_t topic, const char *m, char *err, size_t errlen)
{
	struct config *cc = config_from_json(cj, err, errlen);
	size_t i;

	if (cc == NULL)
		return NULL;
	for (i = 0; i < cc->ntopics; i++)
		if (cc->topics[i].id == topic) {
			free(cc->topics[i].model);
			cc->topics[i].model = xstrdup(m);
			free(cc->topics[i].shadow);
			cc->topics[i].shadow = xstrdup("");
		}
	return cc;
}

/* Starts r's next model, or ends r and starts the next round. */
static void
round_next(struct sround *r)
{
	struct compute *k;
	char err[256];

	if (r->conf != NULL) {
		config_free(r->conf);
		r->conf = NULL;
	}
	while (r->next < r->n) {
		free(r->cur);
		r->cur = xstrdup(r->models[r->next++]);
		r->t0 = mono_s();
		if ((r->conf = conf_with_model(r->cj, r->topic, r->cur, err, sizeof(err))) ==
		    NULL) {
			send_shadow(r, r->cur, NULL, err);
			continue;
		}
		if (strncmp(r->cur, "exec:", 5) != 0 && strncmp(r->cur, "http", 4) != 0) {
			struct timeval tv = { SHADOW_BUILTIN_MAX_S, 0 };

			if (r->timer == NULL)
				r->timer = evtimer_new(r->base, on_shadow_timeout, r);
			evtimer_add(r->timer, &tv);
		}
		/* External ones are bounded by their predict_timeout_s (compute_start). */
		k = compute_start(r->base, r->http, r->conf, r->topic, r->nonce, 0, NULL, 0, 0,
		    on_shadow_done, r);
		if (k != NULL)
			r->k = k;
		return;		/* NULL: on_shadow_done has run (and r may be gone) */
	}
	{
		struct config *cc = config_from_json(r->cj, err, sizeof(err));
		const struct config_topic *t = cc != NULL ? config_topic(cc, r->topic) : NULL;

		if (t != NULL)
			score_topic(cc, t);
		if (cc != NULL)
			config_free(cc);
	}
	round_free(r);
	if (!TAILQ_EMPTY(&rounds) && !TAILQ_FIRST(&rounds)->held)
		round_next(TAILQ_FIRST(&rounds));
}

void
shadow_window(struct event_base *base, struct http_client *http, const struct config *c,
    uint32_t topic, int64_t nonce, const char *value, int held)
{
	const struct config_topic *t = config_topic(c, topic);
	struct sround *r, *q;
	char why[300];
	size_t n, i;
	char **models;

	if (t == NULL || t->shadow == NULL || t->shadow[0] == '\0' || nonce < 0)
		return;
	if ((models = config_shadow_split(t->shadow, &n, why, sizeof(why))) == NULL ||
	    n == 0) {
		config_shadow_free(models);
		return;
	}
	TAILQ_FOREACH(q, &rounds, entry)
		if (q->topic == topic && q->nonce == nonce) {	/* a resent PREDICT */
			config_shadow_free(models);
			return;
		}
	{
		char ts[40];

		/* The submitted side of the window, for the running losses. */
		journal_add(c, topic, json_pack("{s:I, s:s, s:o}", "nonce", (json_int_t)nonce,
		    "time", iso8601(wall_s(), ts, sizeof(ts)), "value", value != NULL ?
		    json_string(value) : json_null()));
	}
	json_decref(SCORE_CJ);
	SCORE_CJ = config_to_json(c);
	if (score_timer == NULL) {
		struct timeval tv = { SHADOW_SCORE_S, 0 };

		score_timer = evtimer_new(base, on_score_timer, NULL);
		evtimer_add(score_timer, &tv);
	}
	/*
	 * The shadows share the CPUs with the next window's training: one waiting round per
	 * topic at most; an older waiting one (not the running head) loses its rows.
	 */
	TAILQ_FOREACH(q, &rounds, entry)
		if (q != TAILQ_FIRST(&rounds) && q->topic == topic) {
			for (i = 0; i < q->n; i++)
				send_shadow(q, q->models[i], NULL, "skipped: the shadow models of "
				    "an earlier window were still running");
			round_free(q);
			break;
		}
	r = xcalloc(1, sizeof(*r));
	r->topic = topic;
	r->nonce = nonce;
	r->models = models;
	r->n = n;
	r->cj = config_to_json(c);
	r->state_dir = xstrdup(c->state_dir);
	r->journal = 1;
	r->base = base;
	r->http = http;
	r->t0 = mono_s();
	r->held = held;
	TAILQ_INSERT_TAIL(&rounds, r, entry);
	q = TAILQ_FIRST(&rounds);
	/* A head held past any window's deadline (its release was lost): it goes now. */
	if (q != r && q->held && q->k == NULL && mono_s() - q->t0 > SHADOW_HELD_MAX_S) {
		q->held = 0;
		round_next(q);
		return;
	}
	if (q == r && !r->held)
		round_next(r);
}

void
shadow_released(uint32_t topic, int64_t nonce)
{
	struct sround *r;

	TAILQ_FOREACH(r, &rounds, entry)
		if (r->topic == topic && r->nonce == nonce && r->held) {
			r->held = 0;
			if (r == TAILQ_FIRST(&rounds) && r->k == NULL && r->next == 0)
				round_next(r);
			return;
		}
}
void
shadow_cancel_all(void)
{
	while (!TAILQ_EMPTY(&rounds))
		round_free(TAILQ_FIRST(&rounds));
	if (score_timer != NULL) {
		event_free(score_timer);
		score_timer = NULL;
	}
	json_decref(SCORE_CJ);
	SCORE_CJ = NULL;
}
