/*
 * Peers: a framed channel on a Unix stream socket, on a libevent base.  Used by the
 * supervisor (one peer per child and per control connection) and by every child (one peer:
 * the supervisor, on fd 3).
 */
#ifndef AW_PROC_H
#define AW_PROC_H

#include <stdint.h>
#include <jansson.h>

#include "frame.h"

struct event_base;
struct peer;
struct config;

/* A frame arrived.  The frame (and its payload) is freed after the call. */
typedef void (*peer_msg_fn)(struct peer *, struct frame *, void *arg);
/* The peer is gone: EOF, I/O error or protocol error (reason says which).  The callback
 * must call peer_free(). */
typedef void (*peer_close_fn)(struct peer *, const char *reason, void *arg);

struct peer *peer_new(struct event_base *, int fd, peer_msg_fn, peer_close_fn, void *arg);
void	 peer_free(struct peer *);
/* Queues a frame; payload is stolen (may be NULL).  Returns -1 if it can't be encoded. */
int	 peer_send(struct peer *, uint16_t type, uint32_t topic, uint32_t seq, json_t *payload);
/* Bytes queued but not yet written. */
size_t	 peer_queued(struct peer *);
void	 peer_drain(struct peer *);	/* dispatch what is left to read, now */
void	 peer_flush(struct peer *);	/* write what is queued, blocking */
int	 peer_fd(struct peer *);
void	*peer_arg(struct peer *);

/*
 * Child processes.  A role's main calls child_start(); it takes fd 3 (the channel to the
 * supervisor), arranges to die with the supervisor (PR_SET_PDEATHSIG and EOF on the
 * channel), routes log_* lines to the supervisor as EVENT frames, sends HELLO, answers
 * HEARTBEAT, and calls on_config() when CONFIG arrives (first time and on reload) and
 * dispatch() for every other frame.  The role calls child_ready() once initialised.
 * SHUTDOWN or SIGTERM calls on_shutdown (the role then finishes in-flight work and calls
 * event_base_loopexit(child_base()) itself) or, without one, ends the loop at once.  EOF
 * on the channel (the supervisor is gone) ends the loop at once.  child_start's caller
 * returns from event_base_dispatch and should exit 0.
 */
struct child_ops {
	const char	*role;
	void		(*on_config)(const struct config *, json_t *raw, void *arg);
	void		(*dispatch)(struct frame *, void *arg);
	void		(*on_shutdown)(void *arg);	/* may be NULL */
	void		*arg;
};

void	 child_start(struct event_base *, const struct child_ops *);
int	 child_send(uint16_t type, uint32_t topic, uint32_t seq, json_t *payload);
void	 child_ready(json_t *info);
const struct config *child_config(void);
struct event_base *child_base(void);

#endif
