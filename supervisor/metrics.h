/* Prometheus metrics (supervisor/metrics.c). */
#ifndef AW_METRICS_H
#define AW_METRICS_H

#include <stddef.h>

struct event_base;

enum metrics_hist { HIST_TO_BROADCAST, HIST_TO_INCLUSION };

int	 metrics_start(struct event_base *, const char *listen, char *err, size_t errlen);
void	 metrics_stop(void);
/* "host:port" actually bound (port 0 picks one), or NULL when off. */
const char *metrics_bound(void);
/* labels: Prometheus label text without braces, e.g. topic="67",source="ws" (may be NULL). */
void	 metrics_count(const char *name, const char *labels, long n);
void	 metrics_gauge(const char *name, const char *labels, double value);
/* A gauge that is no longer known: not exported until set again. */
void	 metrics_gauge_unset(const char *name, const char *labels);
void	 metrics_observe(enum metrics_hist, const char *labels, double seconds);
int	 strcmp_ptr(const void *, const void *);
/* A label value with \, " and newline escaped (out always terminated). */
void	 label_escape(char *out, size_t outlen, const char *in);

#endif
