/*
 * The trainer's forecaster process part (see forecaster.h).  Owns the per-topic data cache,
 * how an external forecaster is run (the predictors' contract: a clean environment, no
 * shell, its own process group, predictor_user, a deadline, a size limit, stderr into the
 * log) and what it is given: FORECAST_INPUT=/dev/fd/3 (a sealed memfd with
 * fcast_input()'s document) for exec:, the same document as a POST body for http(s)://.
 */
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "extpred.h"
#include "forecast.h"
#include "forecaster.h"
#include "frame.h"
#include "http.h"
#include "job.h"
#include "log.h"
#include "predrun.h"
#include "proc.h"
#include "shadow.h"
#include "util.h"

#define FC_TOPICS_MAX	64

struct fc {
	uint32_t	 topic;
	json_t		*data;		/* the last FORECAST_DATA */
	/* the current nonce's forecast */
	int64_t		 nonce;		/* 0 none */
	int		 running;
	json_t		*elements;	/* done: the elements, or NULL with reason */
	char		 reason[32];
	char		 detail[256];
	struct job	*job;
	long		 http_id;
	int64_t		 hold_until;	/* mono ms: the prediction waits no longer */
	struct event	*timer;
	json_t		*held;		/* the prediction waiting for the forecast */
	uint32_t	 held_seq;
	int		 stderr_lines;
};

static struct {
	struct event_base	*base;
	struct http_client	*http;
	struct fc		 t[FC_TOPICS_MAX];
	size_t			 n;
} FC;

static struct fc *
fc_of(uint32_t topic, int create)
{
	size_t i;

	for (i = 0; i < FC.n; i++)
		if (FC.t[i].topic == topic)
			return &FC.t[i];
	if (!create || FC.n >= FC_TOPICS_MAX)
		return NULL;
	memset(&FC.t[FC.n], 0, sizeof(FC.t[FC.n]));
	FC.t[FC.n].topic = topic;
	return &FC.t[FC.n++];
}

void
forecaster_init(struct event_base *base, struct http_client *http)
{
	FC.base = base;
	FC.http = http;
}

void
forecaster_data(const struct frame *f)
{
	uint32_t topic = (uint32_t)frame_int(f, "topic", f->topic);
	struct fc *c = fc_of(topic, 1);

	if (c == NULL)
		return;
	json_decref(c->data);
	c->data = json_incref(f->payload);
	log_debug("topic %u: forecaster data of height %lld: %zu inferer(s), %zu loss bundle(s)",
	    topic, (long long)frame_int(f, "height", -1),
	    json_array_size(json_object_get(f->payload, "inferers")),
	    json_array_size(json_object_get(f->payload, "losses")));
}

/* Puts the forecast (or why there is none) into a prediction payload. */
static void
fill(struct fc *c, json_t *o, const char *late)
{
	if (late != NULL)
		json_object_set_new(o, "forecast_reason", json_string(late));
	else if (c->elements != NULL)
		json_object_set(o, "forecast", c->elements);
	else
		json_object_set_new(o, "forecast_reason", json_string(c->reason[0] ? c->reason :
		    "none"));
}

static void
stop_work(struct fc *c)
{
	if (c->job != NULL)
		job_cancel(c->job);
	c->job = NULL;
	if (c->http_id > 0)
		http_cancel(FC.http, c->http_id);
	c->http_id = 0;
	if (c->timer != NULL)
		event_free(c->timer);
	c->timer = NULL;
	c->running = 0;
}

static void
release(struct fc *c, const char *late)
{
	json_t *o = c->held;
	json_int_t nonce;

	c->held = NULL;
	if (o == NULL)
		return;
	fill(c, o, late);
	nonce = json_integer_value(json_object_get(o, "nonce"));
	child_send(MSG_PREDICTION, c->topic, c->held_seq, o);
	shadow_released(c->topic, nonce);	/* issue 19: the shadows come after it */
}

static void
finish(struct fc *c, json_t *elements, const char *reason, const char *detail)
{
	stop_work(c);
	json_decref(c->elements);
	c->elements = elements;
	snprintf(c->reason, sizeof(c->reason), "%s", elements != NULL ? "" : reason);
	snprintf(c->detail, sizeof(c->detail), "%s", detail != NULL ? detail : "");
	if (elements == NULL)
		log_event(LOG_LVL_WARNING, "warning", json_pack("{s:I, s:I, s:s, s:s, s:s}", "topic",
		    (json_int_t)c->topic, "nonce", (json_int_t)c->nonce, "reason",
		    "forecast_dropped", "forecast_reason", reason, "detail", c->detail),
		    "topic %u nonce %lld: forecast dropped (%s%s%s); the inference goes alone",
		    c->topic, (long long)c->nonce, reason, c->detail[0] ? ": " : "", c->detail);
	else
		log_debug("topic %u nonce %lld: forecast of %zu element(s)", c->topic,
		    (long long)c->nonce, json_array_size(elements));
	release(c, NULL);
}

static void
on_answer(struct fc *c, const char *text, size_t len)
{
	char reason[32], detail[256];
	json_t *e = fcast_check(text, len, c->data, reason, sizeof(reason), detail,
	    sizeof(detail));

	finish(c, e, reason, detail);
}

static void
on_job_done(const struct job_result *r, void *arg)
{
	struct fc *c = arg;
	char d[128];

	c->job = NULL;
	if (r->end == JOB_TIMEOUT) {
		finish(c, NULL, "late", "the forecaster did not answer by the deadline");
		return;
	}
	if (r->end == JOB_TOO_MUCH) {
		snprintf(d, sizeof(d), "it printed more than %d bytes", FORECAST_MAX_OUT);
		finish(c, NULL, "garbage", d);
		return;
	}
	if (r->end != JOB_EXITED || r->status != 0) {
		snprintf(d, sizeof(d), "it %s %d", r->end == JOB_EXITED ? "exited with status" :
		    "was killed by signal", r->status);
		finish(c, NULL, "failed", d);
		return;
	}
	on_answer(c, r->out, r->out_len);
}

static void
on_http_done(const struct http_response *r, void *arg)
{
	struct fc *c = arg;
	char d[256];

	c->http_id = 0;
	if (r->curl_code != 0) {
		snprintf(d, sizeof(d), "%.200s", r->error);
		/* A transfer cut by its timeout is a late answer. */
		finish(c, NULL, r->curl_code == 28 ? "late" : "failed", d);
		return;
	}
	if (r->status != 200) {
		snprintf(d, sizeof(d), "HTTP status %ld", r->status);
		finish(c, NULL, "failed", d);
		return;
	}
	on_answer(c, r->body, r->body_len);
}

static void
on_stderr(const char *line, size_t len, void *arg)
{
	struct fc *c = arg;
	char *e;

	if (c->stderr_lines++ >= 20)
		return;		/* enough of it for one nonce */
	e = log_escape(line, len > 400 ? 400 : len);
	log_warnx("topic %u: forecaster: %s", c->topic, e);
	free(e);
}

static void
on_hold(evutil_socket_t fd, short ev, void *arg)
{
	struct fc *c = arg;

	/* The deadline: whatever runs is too late for this nonce. */
	if (c->running)
		finish(c, NULL, "late", "not ready by the prediction deadline");
}

/* A sealed memfd holding text (-1 with err). */
static int
sealed(const char *text, size_t len, char *err, size_t errlen)
{
	int fd = memfd_create("forecast.json", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	size_t off = 0;
	ssize_t w;

	if (fd == -1) {
		snprintf(err, errlen, "memfd_create: %s", strerror(errno));
		return -1;
	}
	while (off < len) {
		w = write(fd, text + off, len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "writing the input: %s", strerror(errno));
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) ==
	    -1 || lseek(fd, 0, SEEK_SET) == -1) {
		snprintf(err, errlen, "sealing the input: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static char **
fc_env(const struct config_topic *t, int64_t nonce)
{
	char **env = xcalloc(7, sizeof(*env));
	size_t n;

	n = extpred_env_common(env, t, nonce);
	env[n++] = xstrdup("FORECAST_INPUT=/dev/fd/3");
	return env;
}

static void
start_exec(const struct config *conf, const struct config_topic *t, struct fc *c,
    const char *input, long tmo)
{
	struct job_spec s;
	struct predrun pr;
	char err[256], d[300], **argv, **envp;
	int fd;

	argv = job_split(t->forecast + 5, err, sizeof(err));
	if (argv == NULL) {
		snprintf(d, sizeof(d), "the command line: %s", err);
		finish(c, NULL, "failed", d);
		return;
	}
	if ((fd = sealed(input, strlen(input), err, sizeof(err))) == -1) {
		job_argv_free(argv);
		finish(c, NULL, "failed", err);
		return;
	}
	envp = fc_env(t, c->nonce);
	memset(&s, 0, sizeof(s));
	s.path = argv[0];
	s.argv = argv;
	s.envp = envp;
	s.timeout_ms = tmo;
	s.max_out = FORECAST_MAX_OUT;
	s.on_stderr = on_stderr;
	s.line_arg = c;
	/* predictor_user applies to forecasters too (predrun.c; no bars to copy). */
	if (predrun_prepare(conf, &s, envp, &pr, err, sizeof(err)) == 0) {
		s.pass_fd = 1;
		s.fd = fd;
		c->job = job_start(FC.base, &s, on_job_done, c, err, sizeof(err));
	}
	predrun_done(&pr);
	close(fd);
	job_argv_free(argv);
	job_argv_free(envp);
	if (c->job == NULL) {
		snprintf(d, sizeof(d), "%s", err);
		finish(c, NULL, "failed", d);
	}
}

static void
start_http(const struct config_topic *t, struct fc *c, const char *input, long tmo)
{
	static const char *const hdrs[] = { "Content-Type: application/json", NULL };
	struct http_request_opts o;

	memset(&o, 0, sizeof(o));
	o.method = "POST";
	o.url = t->forecast;
	o.headers = hdrs;
	o.body = input;
	o.body_len = strlen(input);
	o.timeout_ms = tmo;
	o.max_body = FORECAST_MAX_OUT;
	c->http_id = http_request(FC.http, &o, on_http_done, c);
	if (c->http_id == -1) {
		c->http_id = 0;
		finish(c, NULL, "failed", "the request could not be started");
	}
}

void
forecaster_start(const struct config *conf, const struct config_topic *t, int64_t nonce,
    long deadline_ms)
{
	struct fc *c;
	struct timeval tv;
	long tmo, margin;
	char reason[32], detail[256];
	json_t *in;
	char *input;

	if (t->forecast == NULL || strcmp(t->forecast, "off") == 0 || nonce < 0 ||
	    (c = fc_of(t->id, 1)) == NULL)
		return;
	if (c->nonce == nonce && (c->running || c->elements != NULL || c->reason[0] != '\0'))
		return;		/* asked again for the same nonce: the same forecast */
	stop_work(c);
	release(c, "late");	/* a prediction of an older nonce still waiting */
	json_decref(c->elements);
	c->elements = NULL;
	c->reason[0] = c->detail[0] = '\0';
	c->nonce = nonce;
	c->stderr_lines = 0;
	/* The same margin as the predictors': the prediction still arrives in time. */
	tmo = deadline_ms > 0 ? deadline_ms : t->predict_timeout_s * 1000;
	margin = tmo / 10 < 500 ? tmo / 10 : 500;
	tmo -= margin;
	if (tmo < 100)
		tmo = 100;
	c->hold_until = mono_ms() + tmo;
	if (strcmp(t->forecast, "builtin") == 0) {
		json_t *e = c->data != NULL ? fcast_builtin(c->data, reason, sizeof(reason),
		    detail, sizeof(detail)) : NULL;

		if (c->data == NULL) {
			snprintf(reason, sizeof(reason), "no_data");
			snprintf(detail, sizeof(detail), "no forecaster data from the chain yet");
		}
		finish(c, e, reason, detail);
		return;
	}
	if (c->data == NULL || json_array_size(json_object_get(c->data, "inferers")) == 0) {
		finish(c, NULL, "no_data", "no active inferer known from the chain yet");
		return;
	}
	c->running = 1;
	c->timer = evtimer_new(FC.base, on_hold, c);
	tv.tv_sec = tmo / 1000;
	tv.tv_usec = (tmo % 1000) * 1000;
	evtimer_add(c->timer, &tv);
	in = fcast_input(c->data, t->id, nonce);
	input = json_dumps(in, JSON_COMPACT);
	json_decref(in);
	if (strncmp(t->forecast, "exec:", 5) == 0)
		start_exec(conf, t, c, input, tmo);
	else
		start_http(t, c, input, tmo);
	free(input);
}

int
forecaster_attach(const struct config_topic *t, int64_t nonce, uint32_t seq, json_t *o)
{
	struct fc *c;

	if (t == NULL || t->forecast == NULL || strcmp(t->forecast, "off") == 0)
		return 0;
	c = fc_of(t->id, 0);
	if (c == NULL || c->nonce != nonce) {
		json_object_set_new(o, "forecast_reason", json_string("none"));
		return 0;
	}
	if (!c->running) {
		fill(c, o, NULL);
		return 0;
	}
	if (mono_ms() >= c->hold_until) {
		finish(c, NULL, "late", "not ready by the prediction deadline");
		fill(c, o, NULL);
		return 0;
	}
	if (c->held != NULL)
		release(c, "late");
	c->held = o;
	c->held_seq = seq;
	return 1;
}

void
forecaster_cancel_all(void)
{
	size_t i;

	for (i = 0; i < FC.n; i++) {
		stop_work(&FC.t[i]);
		json_decref(FC.t[i].held);
		FC.t[i].held = NULL;
	}
}
