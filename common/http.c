/*
 * Asynchronous HTTP (common/http.h).  Plain http:// goes to libevent's client
 * (common/http_plain.c); https:// to libcurl's multi interface driven by libevent through
 * CURLMOPT_SOCKETFUNCTION and CURLMOPT_TIMERFUNCTION, for its certificate and host name
 * checks.  libcurl is loaded at the first https:// request (common/dynlib.h): a process
 * that makes none (the daemon against a plain-HTTP node, the supervisor without an https
 * [cluster], a trainer on csv: data) never maps it nor its dependencies.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The type-checking macros of curl.h would hide the pointers below. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <event2/event.h>

#include "dynlib.h"
#include "http.h"
#include "http_plain.h"
#include "log.h"
#include "util.h"

#define CURL_SYMS(X)							\
	X(curl_global_init) X(curl_easy_init) X(curl_easy_cleanup)		\
	X(curl_easy_setopt) X(curl_easy_getinfo) X(curl_easy_strerror)	\
	X(curl_getdate) X(curl_slist_append) X(curl_slist_free_all)		\
	X(curl_multi_init) X(curl_multi_cleanup) X(curl_multi_setopt)	\
	X(curl_multi_add_handle) X(curl_multi_remove_handle)		\
	X(curl_multi_socket_action) X(curl_multi_assign) X(curl_multi_info_read)
DYNLIB_TABLE(curl, CURL_SYMS)

struct http_req {
	struct http_client	*cl;
	struct http_req		*next;
	long			 id;
	CURL			*easy;
	struct curl_slist	*hdrs;
	char			*body;
	size_t			 len;
	size_t			 cap;
	size_t			 max;
	long			 retry_after;
	int			 too_big;
	double			 start;
	char			 errbuf[CURL_ERROR_SIZE];
	http_cb			 cb;
	void			*arg;
	int			(*on_data)(const char *, size_t, void *);
};

struct sockev {
	struct event	*ev;
	curl_socket_t	 fd;
};

struct http_client {
	struct event_base	*base;
	CURLM			*multi;
	struct event		*timer;
	struct http_req		*reqs;
	struct http_plain	*plain;
	long			 next_id;
	size_t			 pending;
};

static void	check_done(struct http_client *);

static void
unlink_req(struct http_client *cl, struct http_req *r)
{
	struct http_req **pp;

	for (pp = &cl->reqs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			cl->pending--;
			return;
		}
}

static void
free_req(struct http_req *r)
{
	dl_curl_multi_remove_handle(r->cl->multi, r->easy);
	dl_curl_easy_cleanup(r->easy);
	dl_curl_slist_free_all(r->hdrs);
	free(r->body);
	free(r);
}

static void
event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_client *cl = arg;
	int running, flags = 0;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	dl_curl_multi_socket_action(cl->multi, fd, flags, &running);
	check_done(cl);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_client *cl = arg;
	int running;

	dl_curl_multi_socket_action(cl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(cl);
}

static int
socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct http_client *cl = userp;
	struct sockev *se = socketp;
	short kind;

	if (what == CURL_POLL_REMOVE) {
		if (se != NULL) {
			event_free(se->ev);
			free(se);
			dl_curl_multi_assign(cl->multi, s, NULL);
		}
		return 0;
	}
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (se == NULL) {
		se = xcalloc(1, sizeof(*se));
		se->fd = s;
		dl_curl_multi_assign(cl->multi, s, se);
	} else
		event_free(se->ev);
	se->ev = event_new(cl->base, s, kind, event_cb, cl);
	event_add(se->ev, NULL);
	return 0;
}

static int
timerfunc_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct http_client *cl = userp;
	struct timeval tv;

	if (timeout_ms < 0) {
		evtimer_del(cl->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(cl->timer, &tv);
	return 0;
}

static size_t
write_cb(char *ptr, size_t size, size_t n, void *userdata)
{
	struct http_req *r = userdata;
	size_t len = size * n;

	if (r->on_data != NULL)
		return r->on_data(ptr, len, r->arg) == -1 ? 0 : len;
	if (r->len + len > r->max) {
		r->too_big = 1;
		return 0;	/* aborts the transfer */
	}
	if (r->len + len + 1 > r->cap) {
		size_t nc = r->cap ? r->cap : 4096;

		while (nc < r->len + len + 1)
			nc *= 2;
		r->body = xrealloc(r->body, nc);
		r->cap = nc;
	}
	memcpy(r->body + r->len, ptr, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

static size_t
header_cb(char *buf, size_t size, size_t n, void *userdata)
{
	struct http_req *r = userdata;
	size_t len = size * n;
	char line[256];

	if (len >= 12 && len < sizeof(line) && strncasecmp(buf, "retry-after:", 12) == 0) {
		long v;
		char *p, *e;

		memcpy(line, buf + 12, len - 12);
		line[len - 12] = '\0';
		for (p = line; isspace((unsigned char)*p); p++)
			;
		for (e = p + strlen(p); e > p && isspace((unsigned char)e[-1]); )
			*--e = '\0';
		if (parse_long(p, 0, 86400 * 7, &v) == 0)
			r->retry_after = v;
		else {
			/* An HTTP date. */
			time_t t = dl_curl_getdate(p, NULL);

			if (t > 0)
				r->retry_after = t > time(NULL) ? (long)(t - time(NULL)) : 0;
		}
	}
	return len;
}

static void
check_done(struct http_client *cl)
{
	CURLMsg *m;
	int left;

	while ((m = dl_curl_multi_info_read(cl->multi, &left)) != NULL) {
		struct http_req *r = NULL;
		struct http_response resp;

		if (m->msg != CURLMSG_DONE)
			continue;
		dl_curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (r == NULL)
			continue;
		memset(&resp, 0, sizeof(resp));
		resp.curl_code = (int)m->data.result;
		if (r->too_big) {
			resp.curl_code = CURLE_FILESIZE_EXCEEDED;
			snprintf(r->errbuf, sizeof(r->errbuf), "response larger than %zu bytes",
			    r->max);
		}
		resp.error = resp.curl_code == 0 ? "" : (r->errbuf[0] ? r->errbuf :
		    dl_curl_easy_strerror((CURLcode)resp.curl_code));
		if (resp.curl_code == 0)
			dl_curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &resp.status);
		resp.body = r->body ? r->body : "";
		resp.body_len = r->len;
		resp.retry_after_s = r->retry_after;
		resp.elapsed_ms = (mono_s() - r->start) * 1000.0;
		unlink_req(cl, r);
		r->cb(&resp, r->arg);
		free_req(r);
	}
}

struct http_client *
http_client_new(struct event_base *base)
{
	struct http_client *cl;

	cl = xcalloc(1, sizeof(*cl));
	cl->base = base;
	cl->plain = hp_new(base);
	return cl;
}

/* libcurl and the multi handle, at the first request; 0 or -1 (said once). */
static int
client_start(struct http_client *cl)
{
	static int inited, said;
	char err[320];

	if (cl->multi != NULL)
		return 0;
	if (dynlib_load("libcurl.so.4", curl_dynsyms, curl_ndynsyms, err, sizeof(err)) == -1) {
		if (!said++)
			log_warnx("HTTP: %s", err);
		return -1;
	}
	if (!inited) {
		dl_curl_global_init(CURL_GLOBAL_DEFAULT);
		inited = 1;
	}
	cl->multi = dl_curl_multi_init();
	if (cl->multi == NULL)
		return -1;
	cl->timer = evtimer_new(cl->base, timer_cb, cl);
	dl_curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	dl_curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
	dl_curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, timerfunc_cb);
	dl_curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
	return 0;
}

void
http_client_free(struct http_client *cl)
{
	struct http_req *r;

	if (cl == NULL)
		return;
	while ((r = cl->reqs) != NULL) {
		unlink_req(cl, r);
		free_req(r);
	}
	hp_free(cl->plain);
	if (cl->multi != NULL) {
		dl_curl_multi_cleanup(cl->multi);
		event_free(cl->timer);
	}
	free(cl);
}

long
http_request(struct http_client *cl, const struct http_request_opts *o, http_cb cb, void *arg)
{
	struct http_req *r;
	const char *const *h;

	if (o->url == NULL || (strncmp(o->url, "http://", 7) != 0 &&
	    strncmp(o->url, "https://", 8) != 0))
		return -1;
	if (strncmp(o->url, "http://", 7) == 0) {
		if (hp_request(cl->plain, cl->next_id + 1, o, cb, arg) == -1)
			return -1;
		return ++cl->next_id;
	}
	if (client_start(cl) == -1)
		return -1;
	r = xcalloc(1, sizeof(*r));
	r->cl = cl;
	r->easy = dl_curl_easy_init();
	if (r->easy == NULL) {
		free(r);
		return -1;
	}
	r->id = ++cl->next_id;
	r->cb = cb;
	r->arg = arg;
	r->on_data = o->on_data;
	r->max = o->max_body ? o->max_body : 16u << 20;
	r->retry_after = -1;
	r->start = mono_s();
	dl_curl_easy_setopt(r->easy, CURLOPT_URL, o->url);
	dl_curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	dl_curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, write_cb);
	dl_curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	dl_curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, header_cb);
	dl_curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
	dl_curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	dl_curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	dl_curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, o->timeout_ms > 0 ? o->timeout_ms : 10000L);
	dl_curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms > 0 ? o->timeout_ms :
	    10000L);
	dl_curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	dl_curl_easy_setopt(r->easy, CURLOPT_USERAGENT, "allora-workerd/" AW_VERSION);
	dl_curl_easy_setopt(r->easy, CURLOPT_ACCEPT_ENCODING, "");
	if (o->ca_file != NULL)
		dl_curl_easy_setopt(r->easy, CURLOPT_CAINFO, o->ca_file);
	if (o->cert_file != NULL)
		dl_curl_easy_setopt(r->easy, CURLOPT_SSLCERT, o->cert_file);
	if (o->key_file != NULL)
		dl_curl_easy_setopt(r->easy, CURLOPT_SSLKEY, o->key_file);
	for (h = o->headers; h != NULL && *h != NULL; h++)
		r->hdrs = dl_curl_slist_append(r->hdrs, *h);
	if (o->method != NULL && strcmp(o->method, "POST") == 0) {
		dl_curl_easy_setopt(r->easy, CURLOPT_POST, 1L);
		dl_curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, (long)o->body_len);
		dl_curl_easy_setopt(r->easy, CURLOPT_COPYPOSTFIELDS, o->body ? o->body : "");
		if (o->body != NULL && o->body_len > 0 && o->body[0] == '{')
			r->hdrs = dl_curl_slist_append(r->hdrs, "Content-Type: application/json");
	}
	if (r->hdrs != NULL)
		dl_curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->hdrs);
	r->next = cl->reqs;
	cl->reqs = r;
	cl->pending++;
	if (dl_curl_multi_add_handle(cl->multi, r->easy) != CURLM_OK) {
		unlink_req(cl, r);
		free_req(r);
		return -1;
	}
	return r->id;
}

void
http_cancel(struct http_client *cl, long id)
{
	struct http_req *r;

	if (hp_cancel(cl->plain, id))
		return;
	for (r = cl->reqs; r != NULL; r = r->next)
		if (r->id == id) {
			unlink_req(cl, r);
			free_req(r);
			return;
		}
}

size_t
http_pending(struct http_client *cl)
{
	return cl->pending + hp_pending(cl->plain);
}
