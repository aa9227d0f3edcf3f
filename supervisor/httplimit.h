/* Limits of the supervisor's HTTP endpoint (supervisor/httplimit.c). */
#ifndef AW_HTTPLIMIT_H
#define AW_HTTPLIMIT_H

#define HTTPLIMIT_MAX_CONN	32	/* connections open at once */
#define HTTPLIMIT_MAX_HEADERS	8192	/* bytes of request line and headers */
#define HTTPLIMIT_MAX_BODY	1024	/* bytes of a request body (GET has none) */
#define HTTPLIMIT_TIMEOUT_S	5	/* read and write timeout, idle connections too */

struct evhttp;
struct evhttp_bound_socket;

/*
 * Sets the size limits and timeouts on http and keeps our own count of its open
 * connections: at HTTPLIMIT_MAX_CONN the listening socket stops accepting (new
 * connections wait in the kernel's backlog, holding none of our descriptors) until one
 * closes.  Call once, after binding s.  -1 when the limits could not be set up.
 */
int	 httplimit_apply(struct evhttp *http, struct evhttp_bound_socket *s);
/* Forgets the endpoint (metrics_stop). */
void	 httplimit_reset(void);

#endif
