/* One prediction of the trainer (used by the trainer process and alloractl predict). */
#ifndef AW_TRAINER_H
#define AW_TRAINER_H

#include <stddef.h>

#include "config.h"
#include "dec.h"
#include "model.h"

#define PRED_VALUE_MAX	2048

struct prediction {
	int		 have_value;	/* 0: no value (fallback = skip) */
	/* canonical decimal text, or labelled values {"<label>":"<decimal>",...} (issue 21) */
	char		 value[PRED_VALUE_MAX];
	const char	*source;	/* cache | fresh | fallback */
	char		 model[128];
	char		 reason[256];	/* why the fallback was used */
	double		 trained_at;
	double		 data_from;
	double		 data_to;
	size_t		 rows;
	int		 have_val;
	struct validation val;
	double		 train_ms;
};

/*
 * One prediction for topic t.  csv: a file overriding the data source (its newest bar is
 * "now" for staleness; nothing is cached).  use_cache: answer from
 * state_dir/cache/topic-<id>/prediction.json while it is younger than cache_ttl, and write
 * it after training.  Never fails: missing, stale or short data gives the fallback.
 */
void	 predict_topic(const struct config *, const struct config_topic *, const char *csv,
	    int use_cache, struct prediction *);

#endif
