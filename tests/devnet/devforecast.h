/*
 * The devnet's forecasts (issue 22): the chain's delivery rules for the InputForecast of a
 * worker payload (allora-chain x/emissions/types/validations.go and
 * keeper/msgserver/msg_server_worker_payload.go, PROTOCOL-NOTES.md "Issue 22: forecasts"),
 * the accepted forecasts kept per (topic, nonce, forecaster) for the scoring, and
 * Params.max_elements_per_forecast (--max-elements-per-forecast N, default 12).  Hooked into
 * delivery by devforecast_hook.c.
 */
#ifndef AW_DEVFORECAST_H
#define AW_DEVFORECAST_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define DEVFORECAST_OPT_MAX	1201	/* --max-elements-per-forecast N */

struct devforecast_elem {
	char	*inferer;
	char	*value;		/* the chain's decimal text, as sent */
};

struct devforecast {
	uint32_t		 topic;
	int64_t			 nonce;
	char			*forecaster;
	struct devforecast_elem	*el;	/* after the chain's filter: no duplicate, at most max */
	size_t			 nel;
	int64_t			 height;	/* the block that delivered it */
};

int	 devforecast_option(int opt, const char *arg);	/* -1: bad argument */
uint64_t devforecast_max_elements(void);		/* GetParams field 45 */

/*
 * Validate() of a decoded payload message (tx_decode's JSON) whose bundle holds a forecast:
 * 1 with code, log (caller frees) and codespace when refused, as the chain refuses it
 * before the message handler runs (the same check order as the chain's).  0 when there is
 * no forecast or it passes.
 */
int	 devforecast_check(json_t *msg, const char *signer, long *code, char **log,
	    const char **codespace);
/* The message handler's part after every check passed: filters the elements (the first of
 * each inferer, then the first max) and keeps them.  Returns the number kept (0 = nothing
 * stored, as the chain stores nothing when every element is filtered out), -1 when the
 * message has no forecast. */
int	 devforecast_accept(json_t *msg, int64_t height);
/* The forecast elements a recorded tx line shows: the number in the bundle, or -1 for none. */
int	 devforecast_elements(json_t *msg);

/* The accepted forecast of (topic, nonce, forecaster), NULL when none. */
const struct devforecast *devforecast_get(uint32_t topic, int64_t nonce, const char *forecaster);
/* Every accepted forecast of (topic, nonce), in delivery order; returns how many cb saw. */
size_t	 devforecast_each(uint32_t topic, int64_t nonce,
	    void (*cb)(const struct devforecast *, void *), void *arg);

#endif
