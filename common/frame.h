/*
 * The framed protocol: the whole wire contract between the supervisor, its children and
 * alloractl.  A frame is a 16-byte header followed by a UTF-8 JSON object:
 *
 *	offset size field
 *	0      4    len    payload length, network byte order, at most FRAME_MAX_PAYLOAD
 *	4      2    type   enum msg_type
 *	6      2    flags  reserved, 0
 *	8      4    topic  the topic the message is about, 0 when none
 *	12     4    seq    sender's sequence number; replies echo the request's
 *
 * A payload of length 0 stands for {}.  Anything else (length over the limit, unknown type,
 * non-zero flags, a payload that is not a JSON object) is a protocol error: the reader drops
 * the connection and logs why.  Changing a payload bumps AW_PROTOCOL_VERSION, which every
 * HELLO carries.
 */
#ifndef AW_FRAME_H
#define AW_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define AW_PROTOCOL_VERSION	2	/* 2: WINDOW_STATUS, SUBMITTED "refused", resolve.txhashes */
#define FRAME_HDR_LEN		16
#define FRAME_MAX_PAYLOAD	65536

/* Message numbers are explicit and grouped by owner; retired numbers stay reserved. */
enum msg_type {
	/* any process <-> supervisor: 1.. */
	MSG_HELLO = 1,		/* child -> sup: role, pid, version, protocol */
	MSG_HEARTBEAT = 2,	/* sup -> child: time */
	MSG_HEARTBEAT_ACK = 3,	/* child -> sup: time (echoed) */
	MSG_CONFIG = 4,		/* sup -> child: config (config_to_json; never a secret) */
	MSG_READY = 5,		/* child -> sup: the child has initialised; info */
	MSG_EVENT = 6,		/* child -> sup: level, event, message, data */
	MSG_SHUTDOWN = 7,	/* sup -> child: stop now, cleanly */
	MSG_CHILD_STATE = 8,	/* child -> sup: a free-form state object for status */

	/* listener: 200.. */
	MSG_WINDOW_OPEN = 200,	/* topic, nonce, window_end (or null), source ws|poll,
				 * confirm: "pending" (ws: WINDOW_STATUS follows) | "open" */
	MSG_WINDOW_STATUS = 201, /* listener -> sup: topic, nonce, state open|not_open|no_answer
				 * (IsWorkerNonceUnfulfilled for a nonce heard on the ws) */
	MSG_SCORE = 202,	/* listener -> sup: kind (query|ema|reward|active_set|gap),
				 * topic, address, ... (listener/scores.h) */
	MSG_SCORE_WATCH = 203,	/* sup -> listener: watch [{topic, address}] */
	MSG_FORECAST_DATA = 204, /* listener -> sup -> trainer (issue 22, listener/forecasts.c):
				 * topic, address (ours), height, epoch_length, allow_negative,
				 * inferers [str] (the active set less us), losses [{nonce,
				 * values: [{inferer, loss}]}] newest first, score {ema,
				 * ema_height}; the trainer's builtin and external forecasters
				 * read it, the supervisor keeps the score for status */

	/* trainer: 300.. */
	MSG_PREDICT = 300,	/* sup -> trainer: topic, nonce, deadline_ms */
	MSG_PREDICTION = 301,	/* trainer -> sup: topic, nonce, value|null, source, model,
				 * trained_at, reason, ...; [forecast: [{inferer, value}]]
				 * when the topic's forecaster was ready, else
				 * [forecast_reason] (issue 22) */
	MSG_SHADOW = 302,	/* trainer -> sup: topic, nonce, model, value|null, reason,
				 * ms: one shadow model's answer for a window, sent after
				 * that window's PREDICTION (issue 19); the supervisor puts it
				 * in the ledger (state "shadow") and never forwards it */
	MSG_SHADOW_SCORES = 303, /* trainer -> sup: topic, loss_method, scores: [{model, n,
				 * loss, zero_loss, submitted_loss, loss_minus_zero,
				 * ci: [lo, hi]|null}] (trainer/truth.h) for status and
				 * metrics */

	/* submitter: 400.. */
	MSG_SUBMIT = 400,	/* sup -> submitter: topic, nonce, value, window_end, [resolve],
				 * [forecast: [{inferer, value}]] (as the trainer sent it) */
	MSG_SIGNED = 401,	/* submitter -> sup: topic, nonce, sequence, txhash, tx (base64),
				 * forecast_elements (signed; 0 = none), [forecast_dropped:
				 * the rule that refused it] */
	MSG_SIGNED_ACK = 402,	/* sup -> submitter: topic, nonce, txhash (ledger fsync'd) */
	MSG_SUBMITTED = 403,	/* submitter -> sup: topic, nonce, txhash, code, height,
				 * outcome, error */
	MSG_WALLET = 404,	/* submitter -> sup: name, address, balance_uallo, sequence */

	/* control socket (alloractl): 500.. */
	MSG_STATUS = 500,	/* ctl -> sup */
	MSG_STATUS_REPLY = 501,	/* sup -> ctl: the status object of INTERFACES.md */
	MSG_STOP = 502,		/* ctl -> sup */
	MSG_STOP_REPLY = 503,	/* sup -> ctl: ok */
	MSG_ERROR = 504,	/* sup -> ctl: error text */
	MSG_RELOAD = 505,	/* ctl -> sup: like SIGHUP */
	MSG_RELOAD_REPLY = 506,	/* sup -> ctl: ok, error */
};

struct frame {
	uint16_t	 type;
	uint16_t	 flags;
	uint32_t	 topic;
	uint32_t	 seq;
	uint32_t	 len;		/* payload length on the wire */
	json_t		*payload;	/* a JSON object, owned by the frame */
};

/* Name of a message type ("HELLO"), or NULL when unknown. */
const char *msg_type_name(uint16_t);
int	 msg_type_known(uint16_t);

/*
 * Encodes a frame into a new buffer (*out, *outlen; caller frees).  payload may be NULL
 * ({}) and is not consumed.  Returns -1 when the payload is not an object or too large.
 */
int	 frame_encode(uint16_t type, uint32_t topic, uint32_t seq, const json_t *payload,
	    unsigned char **out, size_t *outlen);

/* Incremental decoder: feed it bytes as they come, take frames out. */
struct frame_decoder {
	unsigned char	*buf;
	size_t		 len;
	size_t		 cap;
	int		 failed;
};

void	 frame_decoder_init(struct frame_decoder *);
void	 frame_decoder_free(struct frame_decoder *);
void	 frame_decoder_feed(struct frame_decoder *, const void *, size_t);
/*
 * Takes the next complete frame out: 1 and *f filled (free with frame_free), 0 when more
 * bytes are needed, -1 on a protocol error (err says why; the decoder stays failed).
 */
int	 frame_decoder_next(struct frame_decoder *, struct frame *f, char *err, size_t errlen);
/* At end of stream: 0 when nothing is left over, -1 (err) for a truncated frame. */
int	 frame_decoder_eof(struct frame_decoder *, char *err, size_t errlen);
void	 frame_free(struct frame *);

/* Payload accessors (NULL / default when absent or of another type). */
const char *frame_str(const struct frame *, const char *key);
long long frame_int(const struct frame *, const char *key, long long def);

#endif
