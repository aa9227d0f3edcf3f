/* Shadow models in the supervisor (supervisor/shadow.c, issue 19). */
#ifndef AW_SUP_SHADOW_H
#define AW_SUP_SHADOW_H

#include <stdint.h>
#include <jansson.h>

struct frame;

/* A SHADOW frame from the trainer: a `shadow` ledger record, nothing else. */
void	 shadow_frame(struct frame *);
/* A SHADOW_SCORES frame from the trainer: status and metrics. */
void	 shadow_scores_frame(struct frame *);
/* status: the topic entry's "shadow" array. */
void	 shadow_status(uint32_t topic, json_t *entry);
void	 shadow_free(void);

#endif
