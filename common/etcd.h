/*
 * etcd v3 client over its HTTP/JSON gateway (the /v3/ paths of etcd 3.4, Debian's
 * etcd-server): POSTs of JSON bodies with libcurl on the libevent loop (common/http.h),
 * failover across the configured endpoints, TLS through libcurl's options, the watch
 * stream, and the gateway's encodings (keys and values base64, 64-bit numbers as
 * strings).  No consensus of our own: every decision is an etcd transaction.
 */
#ifndef AW_ETCD_H
#define AW_ETCD_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct config;
struct event_base;
struct etcd;

/* Endpoints and TLS from the [cluster] section; timeout_ms bounds every request. */
struct etcd *etcd_new(struct event_base *, const struct config *, long timeout_ms);
/* Cancels every request (no callback is called) and frees. */
void	 etcd_free(struct etcd *);

/*
 * reply: the gateway's JSON object (borrowed) when an endpoint answered 200, else NULL
 * and err names every endpoint tried with its error ("http://h1:2379: Connection
 * refused; http://h2:2379: ...").
 */
typedef void (*etcd_cb)(json_t *reply, const char *err, void *arg);
/* POSTs body (stolen) to path ("/v3/kv/txn") on the endpoints in turn; -1 if none. */
int	 etcd_post(struct etcd *, const char *path, json_t *body, etcd_cb, void *arg);

/*
 * Watches one key from revision start_rev (0 = now): cb gets each "result" object of
 * the stream (events, "created", ...); at the end of the stream (endpoint gone,
 * cancelled by the server) cb gets NULL and the reason.  Returns an id > 0, or -1.
 */
long	 etcd_watch(struct etcd *, const char *key, int64_t start_rev, etcd_cb, void *arg);
void	 etcd_watch_cancel(struct etcd *, long id);

/* Base64 of a text (caller frees) and back (NUL-terminated, caller frees; NULL if bad). */
char	*etcd_b64(const char *);
char	*etcd_unb64(const char *);
/* A 64-bit field, which the gateway writes as a string (absent = 0). */
int64_t	 etcd_int(const json_t *, const char *key);
/* "123" for a 64-bit id (static buffer per call site is the caller's). */
json_t	*etcd_num(int64_t);

/*
 * One blocking probe of endpoint i (for alloractl check): a linearizable read, which
 * needs the cluster's quorum.  0 and what answered in msg, or -1 and why.
 */
int	 etcd_probe(const struct config *, size_t i, char *msg, size_t msglen);

#endif
