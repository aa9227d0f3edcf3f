/* Health endpoints /healthz and /readyz on the metrics listener (supervisor/health.c). */
#ifndef AW_HEALTH_H
#define AW_HEALTH_H

#include <jansson.h>

struct evhttp;
struct child;

/* Adds /healthz and /readyz to the metrics listener's evhttp. */
void	 health_register(struct evhttp *);
/* A CHILD_STATE frame of a child (the listener's tell when the chain last answered). */
void	 health_child_state(const struct child *, const json_t *payload);
/* The two answers: {"status": "ok"|"fail", "reasons": [...]}; *ok set. */
json_t	*health_live(int *ok);
json_t	*health_ready(int *ok);

#endif
