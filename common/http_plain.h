/*
 * Plain http:// requests for common/http.c on libevent's HTTP client (http_plain.c): the
 * request ids are http.c's; the callbacks and options are those of common/http.h.
 */
#ifndef AW_HTTP_PLAIN_H
#define AW_HTTP_PLAIN_H

#include "http.h"

struct http_plain;

struct http_plain *hp_new(struct event_base *);
void	 hp_free(struct http_plain *);		/* callbacks not called */
/* 0, or -1 on immediate failure (cb not called). */
int	 hp_request(struct http_plain *, long id, const struct http_request_opts *, http_cb,
	    void *);
int	 hp_cancel(struct http_plain *, long id);	/* 1 when it was ours */
size_t	 hp_pending(const struct http_plain *);

#endif
