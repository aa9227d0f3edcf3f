/* The devnet's reward loop (tests/devnet/rewards.c): hooks called by devnet.c. */
#ifndef AW_DEVNET_REWARDS_H
#define AW_DEVNET_REWARDS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* --peers, --truth, --truth-lag, --score-alpha, --active: 0, or -1 for a bad value. */
int	 rewards_option(const char *name, const char *arg);
/* After the options: loads or generates the truth series; -1 (message printed) on error. */
int	 rewards_setup(int64_t start_height, long epoch, long window, const char *em,
	    uint64_t seed, void (*record)(json_t *));
/* An inference the chain accepted at delivery. */
void	 rewards_inference(uint32_t topic, int64_t nonce, const char *worker, const char *value);
/* A new block (windows of this height already opened): may append events. */
void	 rewards_block(int64_t height, const uint32_t *topics, size_t ntopics, json_t *events);
/* One of the loop's queries: 1 and the packed answer in *out (free it), else 0. */
int	 rewards_query(const char *method, const uint8_t *data, size_t len, uint8_t **out,
	    size_t *outlen);
/* GetTopic's ground_truth_lag (blocks), 0 when the loop is off. */
int64_t	 rewards_ground_truth_lag(void);

#endif
