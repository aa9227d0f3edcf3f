/*
 * The ground truth of a topic's past windows, for `alloractl history` and the trainer's
 * shadow scores of status and metrics (trainer/truth.c): one rule, in one place.
 *
 * The realised value of a window is ln(close(T + H) / close(T)), T the hour of the row's
 * time (history: the nonce's first ledger record; the trainer: its PREDICT), H the topic's target_hours, from the topic's bars (the csv: file or
 * the trainer's bar cache, read as files: the trainer owns fetching them); NAN while the
 * bar T + H is not there.  Losses: trainer/loss.h under the topic's loss method (the
 * caller's), CZAR's evaluation α, sigma the standard deviation of the bars' H-hour log
 * returns.  Rows are JSON objects: "seen_time" or "time" (ISO-8601), "value" (ours),
 * "shadow": {"<model>": {"value"}} -- a ledger replay's records, or the trainer's journal.
 */
#ifndef AW_TRUTH_H
#define AW_TRUTH_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "loss.h"
#include "model.h"

struct config;
struct config_topic;

struct truth {
	struct bars		 bars;
	int			 have_bars;
	double			 sd;		/* loss scale */
	long			 h;		/* hours */
	enum loss_method	 m;
	char			*path;		/* the bars file */
};

/* The rows of an object {"<nonce>": row} sorted by nonce (*n of them; free the array,
 * not the rows). */
json_t	**truth_rows(json_t *all, size_t *n);
/* The topic's bars, scored under m.  Never fails: without bars nothing is realised. */
void	 truth_load(struct truth *, const struct config *, const struct config_topic *,
	    enum loss_method m);
void	 truth_free(struct truth *);
/* Unix seconds of a row's first record (0 when unknown). */
double	 truth_when(json_t *row);
double	 truth_realized(const struct truth *, double when);
/* The loss of value v for the realised y (NAN when unknown). */
double	 truth_loss(const struct truth *, double y, double v);

/*
 * Shadow scores (issue 19) over the rows with a realised value, each shadow model against
 * zero and the submitted value on the same windows: [{"model", "n", "loss", "zero_loss",
 * "submitted_loss", "loss_minus_zero", "ci": [lo, hi]|null}], ci the 95 % circular
 * block-bootstrap interval of the mean of loss - zero's loss (blocks of 4 weeks of
 * windows, at most the cube root of the windows long; null with fewer than 2 windows).
 * models: the configured shadow list (models only in the ledger are added after it).
 * Means are null with n 0.
 */
json_t	*truth_shadow_scores(const struct truth *, json_t **rows, size_t n,
	    char *const *models);

#endif
