/*
 * The trainer's forecaster (issue 22): the topic's forecaster data (MSG_FORECAST_DATA, kept
 * per topic until the next epoch's), one forecast per nonce (built-in, exec: or http(s)://,
 * trainer/forecast.h), and the one payload per nonce: the prediction waits for the forecast
 * until the prediction deadline, then goes without it (forecast_reason "late").
 */
#ifndef AW_FORECASTER_H
#define AW_FORECASTER_H

#include <stdint.h>
#include <jansson.h>

struct event_base;
struct http_client;
struct frame;
struct config;
struct config_topic;

void	 forecaster_init(struct event_base *, struct http_client *);
void	 forecaster_data(const struct frame *);
/* A PREDICT of (topic, nonce) with its deadline (ms from now, <= 0: predict_timeout_s). */
void	 forecaster_start(const struct config *, const struct config_topic *, int64_t nonce,
	    long deadline_ms);
/*
 * The prediction o (a MSG_PREDICTION payload) of (topic, nonce) is ready.  0: the forecast
 * (or forecast_reason) is in o now, send it.  1: o is taken and will be sent (as the reply
 * to seq) when the forecast ends or the deadline passes.
 */
int	 forecaster_attach(const struct config_topic *, int64_t nonce, uint32_t seq, json_t *o);
void	 forecaster_cancel_all(void);

#endif
