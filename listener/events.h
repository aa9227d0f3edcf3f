/* Parsing CometBFT NewBlockEvents frames into worker windows (pure, untrusted input). */
#ifndef AW_EVENTS_H
#define AW_EVENTS_H

#include <stddef.h>
#include <stdint.h>

struct window_ev {
	uint32_t	 topic;
	int64_t		 nonce;
	int64_t		 window_end;	/* -1 when absent */
};

/*
 * Parses one websocket text message.  Returns the number of EventWorkerSubmissionWindowOpened
 * events found (at most max, written to out), 0 for frames without one (acks, other events),
 * or -1 when the text is not a JSON-RPC frame (err says why).  *height is the block height
 * of the frame (-1 when absent).
 */
int	 events_parse(const char *text, size_t len, struct window_ev *out, int max,
	    int64_t *height, char *err, size_t errlen);

/* The one subscription the listener holds (and alloractl check tries): every block's events. */
#define EVENTS_SUBSCRIBE_ID	"aw-blocks"
#define EVENTS_SUBSCRIBE_REQUEST "{\"jsonrpc\":\"2.0\",\"method\":\"subscribe\",\"id\":\"" \
	EVENTS_SUBSCRIBE_ID "\",\"params\":{\"query\":\"tm.event='NewBlockEvents'\"}}"

#endif
