/*
 * Asynchronous HTTP client on a libevent base: plain http:// on libevent (http_plain.c),
 * https:// on libcurl (loaded when first needed).
 * No call blocks.  Used by the listener (JSON-RPC), the submitter (broadcast, queries) and
 * the trainer (market data).
 */
#ifndef AW_HTTP_H
#define AW_HTTP_H

#include <stddef.h>

struct event_base;
struct http_client;

struct http_response {
	int		 curl_code;	/* 0 = transport ok, else non-zero (https: a CURLcode) */
	const char	*error;		/* human text of a transport error, "" when none */
	long		 status;	/* HTTP status, 0 when the transport failed */
	const char	*body;		/* NUL-terminated; may contain NULs before body_len */
	size_t		 body_len;
	long		 retry_after_s;	/* parsed Retry-After header, -1 when absent */
	double		 elapsed_ms;	/* from start of the request to completion */
};

/* Called exactly once per request (also on cancel with curl_code != 0); resp is valid
 * only during the call. */
typedef void (*http_cb)(const struct http_response *resp, void *arg);

struct http_client *http_client_new(struct event_base *);
/* Cancels all pending requests (their callbacks are NOT called) and frees. */
void	 http_client_free(struct http_client *);

struct http_request_opts {
	const char	*method;	/* "GET" (default when NULL) or "POST" */
	const char	*url;
	const char *const *headers;	/* NULL-terminated "Name: value" list, may be NULL;
					 * never logged (they may carry an API key) */
	const char	*body;		/* POST body, may be NULL */
	size_t		 body_len;
	long		 timeout_ms;	/* whole request; 0 = 10000 */
	size_t		 max_body;	/* response size limit; 0 = 16 MiB */
	/* TLS (CURLOPT_CAINFO, _SSLCERT, _SSLKEY), each NULL for libcurl's default. */
	const char	*ca_file;
	const char	*cert_file;
	const char	*key_file;
	/*
	 * Streaming: when set, every piece of the body is handed to on_data as it arrives
	 * (and not kept); cb is still called once at the end.  Return -1 to abort.
	 */
	int		(*on_data)(const char *data, size_t len, void *arg);
};

/* Returns a request id (> 0) or -1 on immediate failure (cb is then not called). */
long	 http_request(struct http_client *, const struct http_request_opts *,
	    http_cb cb, void *arg);
void	 http_cancel(struct http_client *, long id);	/* cb not called */
size_t	 http_pending(struct http_client *);

#endif
