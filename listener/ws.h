/* A small websocket client (listener/ws.c). */
#ifndef AW_WS_H
#define AW_WS_H

#include <stddef.h>

struct event_base;
struct ws;

/* A text message; msg NULL (len 0) once, when the upgrade succeeded. */
typedef void (*ws_msg_fn)(struct ws *, const char *msg, size_t len, void *arg);
/* The connection ended (why); the owner calls ws_free() (not from inside a callback of
 * this ws: defer it). */
typedef void (*ws_close_fn)(struct ws *, const char *why, void *arg);

/* url: ws://, wss:// (http:// and https:// are taken as the same). */
struct ws *ws_connect(struct event_base *, const char *url, long timeout_ms, ws_msg_fn,
	    ws_close_fn, void *arg);
int	 ws_send_text(struct ws *, const char *);
void	 ws_free(struct ws *);

#endif
