/*
 * The devnet's emulation of the chain's next changes (issue 21), from allora-chain's
 * development sources (PROTOCOL-NOTES.md): wall-clock windows (--wallclock-windows SECONDS:
 * epochs opened and closed by block time, answered by GetTopicEpochs / GetEpoch), topic
 * output arity (--arity, --topic-arity TOPIC:single|multi; GetTopic field 24) and the label
 * rules at delivery, --no-bundle-signature (InputWorkerDataBundle fields 5/6 unknown), and
 * unknown protobuf fields rejected at decode as cosmos-sdk's unknownproto does.
 */
#ifndef AW_DEVNEXT_H
#define AW_DEVNEXT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define DEVNEXT_OPT_WALLCLOCK	1101	/* --wallclock-windows SECONDS */
#define DEVNEXT_OPT_TOPIC_ARITY	1102	/* --topic-arity TOPIC:single|multi */
#define DEVNEXT_OPT_ARITY	1103	/* --arity single|multi (every other topic) */
#define DEVNEXT_OPT_NO_SIG	1104	/* --no-bundle-signature */

int	 devnext_option(int opt, const char *arg);	/* -1: bad argument */
void	 devnext_start(const char *emissions);

/* GetTopic's output_arity of a topic (0 on a v9 chain). */
int	 devnext_arity(uint32_t topic);
int	 devnext_no_bundle_signature(void);

/* Wall-clock windows: 0 when off.  Seconds otherwise. */
double	 devnext_wallclock(void);
/* A block at height with time now (wall seconds): 1 when a new epoch opens in it. */
int	 devnext_epoch_due(int64_t height, double now);
/* 1 when the window of (topic, nonce) closed at or before block time now. */
int	 devnext_closed(int64_t nonce, double now);
/* The close time of the epoch whose worker nonce is nonce (0 when unknown). */
double	 devnext_close_at(int64_t nonce);

/* An abci_query path of ours (GetTopicEpochs, GetEpoch): 0 with code, log (caller frees)
 * and value (caller frees); -1 when not ours (or wall-clock windows are off). */
int	 devnext_abci(const char *path, const uint8_t *data, size_t len, const char *em,
	    long *code, char **log, uint8_t **val, size_t *vlen);
/*
 * The decoder's unknown fields, for CheckTx and Simulate: 1 with log (caller frees; code 2,
 * codespace sdk, "tx parse error") when a payload message holds a field this chain does not
 * know (fields 5/6 under --no-bundle-signature, field 7 on a v9 chain, anything unknown).
 */
int	 devnext_unknown_fields(const uint8_t *raw, size_t len, const char *em, char **log);
/* Delivery's label rules for a decoded payload message (tx_decode's JSON): 1 with code, log
 * (caller frees), codespace when refused. */
int	 devnext_deliver(json_t *msg, long *code, char **log, const char **codespace);

#endif
