/*
 * The devnet's loss history and forecast scoring (issue 22; tests/devnet/devlosses.c):
 * hooks called by rewards.c (losses of a scored window, the peers' addresses) and by
 * devquery.c (the queries, through DEVNET_QUERY); the accepted forecasts come from
 * devforecast.c.
 */
#ifndef AW_DEVNET_DEVLOSSES_H
#define AW_DEVNET_DEVLOSSES_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* The synthetic peer p's address: a valid bech32 allo address (allora-devnet(1)). */
void	 devlosses_peer_address(long p, char *out, size_t len);
/* The loss of addr's inference of (topic, nonce), as rewards.c scored it. */
void	 devlosses_loss(uint32_t topic, int64_t nonce, const char *addr, double loss);
/* Every loss of (topic, nonce) is in: the forecasts of that nonce are scored (record). */
void	 devlosses_scored(uint32_t topic, int64_t nonce, void (*record)(json_t *));
/* GetNetworkLossBundleAtBlock, GetForecasterScoreEma: 1 and the packed answer (also
 * registered as a DEVNET_QUERY, devhooks.h). */
int	 devlosses_query(const char *method, const uint8_t *data, size_t len, uint8_t **out,
	    size_t *outlen);

#endif
