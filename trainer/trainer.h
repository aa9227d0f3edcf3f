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
	const char	*loss_method;	/* the loss used (mse | zptae | czar) */
	char		 loss_note[160];	/* why, when it was assumed */
	char		 model_resolved[96];	/* model = default: what it resolved to */
	char		 resolved_why[200];	/* and why */
};

/*
 * The loss method of a topic as the trainer knows it: the PREDICT frame's "loss_method"
 * (the supervisor's: the configuration's, or the chain's GetTopic when auto), else the
 * configuration's, else MSE with note saying it was assumed.  Returns the method.
 */
enum loss_method trainer_topic_loss(const struct config_topic *, char *note, size_t notelen);
/* Records what a PREDICT frame said for a topic (NULL or unknown text: nothing known). */
void	 trainer_set_topic_loss(uint32_t topic, const char *method);

/*
 * One prediction for topic t.  csv: a file overriding the data source (its newest bar is
 * "now" for staleness; nothing is cached).  use_cache: answer from
 * state_dir/cache/topic-<id>/prediction.json while it is younger than cache_ttl, and write
 * it after training.  Never fails: missing, stale or short data gives the fallback.
 */
void	 predict_topic(const struct config *, const struct config_topic *, const char *csv,
	    int use_cache, struct prediction *);

#endif
