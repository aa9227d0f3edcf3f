/*
 * Backtest (and history) reports as pictures: report.json and PNGs drawn with cairo
 * (1200 x 800): the cumulative loss of each model minus zero's over time, predicted
 * against realised, and a calibration plot by decile of prediction.
 */
#ifndef AW_REPORT_H
#define AW_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "loss.h"

#define REPORT_W	1200
#define REPORT_H	800

/* One series of decisions: model 0 is zero (its losses are the baseline). */
struct report_series {
	const char		*title;		/* "backtest of FILE", "history of topic N" */
	size_t			 n;
	const int64_t		*time;		/* unix s of each decision */
	const double		*realized;
	const double		*sigma;		/* loss scale (NAN: not scored) */
	size_t			 nmodels;
	const char *const	*names;
	double *const		*pred;		/* pred[k][i] */
	enum loss_method	 loss;
	struct czar_params	 czar;
};

/*
 * Writes DIR/cumulative_loss.png, DIR/scatter.png, DIR/calibration.png and DIR/report.json
 * (the pictures' names and sizes, the calibration table, each model's cumulative loss minus
 * zero's at the end, and `extra` under "summary" when not NULL).  DIR is created.  -1 with
 * err.
 */
int	 report_write(const char *dir, const struct report_series *, json_t *extra, char *err,
	    size_t errlen);

struct bt_result;
enum bt_half;
/* alloractl backtest --report: the backtest's series and its --json under "summary". */
int	 bt_report(const char *dir, const struct bt_result *, const char *csv, long step,
	    enum bt_half, char *err, size_t errlen);
/* ctl_backtest.c: the backtest's --json object. */
json_t	*backtest_json(const struct bt_result *, long step, enum bt_half);

#endif
