/*
 * The forecaster's data (issue 22): the listener's part.  For each watched (topic, address)
 * whose topic has forecast on, once an epoch: GetTopic (epoch, allow_negative), the network
 * loss bundles of the last FORECASTQ_EPOCHS scored epochs and our forecaster score
 * (common/forecastq.h), sent to the supervisor as one MSG_FORECAST_DATA (frame.h), which
 * hands it to the trainer.
 */
#ifndef AW_FORECASTS_H
#define AW_FORECASTS_H

#include <stdint.h>

struct event_base;
struct rpc;
struct frame;
struct config;

void	 forecasts_init(struct event_base *, struct rpc **, const char *em,
	    const struct config **);
/* The score watch changed (MSG_SCORE_WATCH): the same pairs, those with forecast on. */
void	 forecasts_watch(const struct frame *);
/* The configuration was reloaded: the watch again, under the topics' new forecast keys. */
void	 forecasts_reload(void);
/* From the poll: a round per pair once an epoch. */
void	 forecasts_poll(int64_t height);

#endif
