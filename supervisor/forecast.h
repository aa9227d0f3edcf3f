/*
 * The forecaster role as the supervisor sees it (issue 22): the listener's FORECAST_DATA
 * handed to the trainer (and kept, for a restarted trainer and for the forecaster score),
 * the trainer's forecast of a nonce copied into that nonce's SUBMIT, the submitter's count
 * of signed elements into the ledger's signed record, status, history and the metrics.
 * Hooks in supervisor/flow.c, status.c and scores.c call these.
 */
#ifndef AW_SUP_FORECAST_H
#define AW_SUP_FORECAST_H

#include <stdint.h>
#include <jansson.h>

struct frame;

/* MSG_FORECAST_DATA from the listener. */
void	 supfc_data(struct frame *);
/* A trainer (re)started: it gets the data it has not seen. */
void	 supfc_trainer_ready(void);
/* MSG_PREDICTION of (topic, nonce), accepted: its forecast or forecast_reason. */
void	 supfc_prediction(uint32_t topic, int64_t nonce, const json_t *payload);
/* MSG_SUBMIT being sent: "forecast" added when the trainer gave one. */
void	 supfc_fill_submit(uint32_t topic, int64_t nonce, json_t *submit);
/* MSG_SIGNED: forecast_elements / forecast_dropped kept for the signed record. */
void	 supfc_signed(const struct frame *);
/* The signed record's fields: forecast (included|dropped|none), forecast_elements,
 * forecast_reason (when dropped); counted in the metrics once per nonce. */
void	 supfc_fill_signed(uint32_t topic, int64_t nonce, json_t *fields);
/* A scored record: the forecaster score the chain reported last (forecaster_score_ema). */
void	 supfc_fill_scored(uint32_t topic, json_t *fields);
/* The topic's "forecast" object in status. */
void	 supfc_status(uint32_t topic, json_t *topic_obj);

#endif
