/*
 * Reports as pictures (see report.h): owns the drawing (cairo) and report.json.  The
 * backtest and the history hand it a series of decisions; it computes nothing but what
 * it draws (cumulative losses, deciles).  cairo and fontconfig are loaded when a report
 * is drawn (common/dynlib.h): the trainer serving windows never maps them.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cairo.h>
#include <fontconfig/fontconfig.h>

#include "backtest.h"
#include "dynlib.h"
#include "report.h"
#include "util.h"

#define CAIRO_SYMS(X)							\
	X(cairo_arc) X(cairo_clip) X(cairo_create) X(cairo_debug_reset_static_data) \
	X(cairo_destroy) X(cairo_fill) X(cairo_image_surface_create) X(cairo_line_to) \
	X(cairo_move_to) X(cairo_paint) X(cairo_rectangle) X(cairo_restore)	\
	X(cairo_rotate) X(cairo_save) X(cairo_select_font_face)		\
	X(cairo_set_font_size) X(cairo_set_line_width) X(cairo_set_source_rgb)	\
	X(cairo_set_source_rgba) X(cairo_show_text) X(cairo_status_to_string)	\
	X(cairo_stroke) X(cairo_surface_destroy) X(cairo_surface_flush)	\
	X(cairo_surface_write_to_png) X(cairo_text_extents) X(cairo_translate)
#define FC_SYMS(X)	X(FcFini)
DYNLIB_TABLE(cairo, CAIRO_SYMS)
DYNLIB_TABLE(fc, FC_SYMS)

/* Plot area inside the picture. */
#define ML	110
#define MR	40
#define MT	70
#define MB	100

static const double palette[][3] = {
	{ 0.45, 0.45, 0.45 },	/* zero */
	{ 0.12, 0.47, 0.71 }, { 0.84, 0.15, 0.16 }, { 0.17, 0.63, 0.17 },
	{ 1.00, 0.50, 0.05 }, { 0.58, 0.40, 0.74 }, { 0.55, 0.34, 0.29 },
	{ 0.89, 0.47, 0.76 }, { 0.74, 0.74, 0.13 }, { 0.09, 0.75, 0.81 },
};
#define NPAL	(sizeof(palette) / sizeof(palette[0]))

struct plot {
	cairo_surface_t	*sf;
	cairo_t		*cr;
	double		 x0, x1, y0, y1;	/* data ranges */
};

static double
px(const struct plot *p, double x)
{
	return ML + (x - p->x0) / (p->x1 - p->x0) * (REPORT_W - ML - MR);
}

static double
py(const struct plot *p, double y)
{
	return REPORT_H - MB - (y - p->y0) / (p->y1 - p->y0) * (REPORT_H - MT - MB);
}

static void
color(cairo_t *cr, size_t k)
{
	dl_cairo_set_source_rgb(cr, palette[k % NPAL][0], palette[k % NPAL][1],
	    palette[k % NPAL][2]);
}

/* A "nice" tick step for a range (1, 2 or 5 times a power of ten). */
static double
nice_step(double range, int nticks)
{
	double raw = range / nticks, mag = pow(10, floor(log10(raw))), f = raw / mag;

	return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

/* Widens [lo, hi] to tick multiples, never empty. */
static void
nice_range(double *lo, double *hi)
{
	double st;

	if (!isfinite(*lo) || !isfinite(*hi)) {
		*lo = -1;
		*hi = 1;
	}
	if (*hi - *lo < 1e-12 * fmax(1, fabs(*hi))) {
		double d = fabs(*hi) > 0 ? fabs(*hi) * 0.1 : 1e-3;

		*lo -= d;
		*hi += d;
	}
	st = nice_step(*hi - *lo, 8);
	*lo = floor(*lo / st) * st;
	*hi = ceil(*hi / st) * st;
}

static void
text(cairo_t *cr, double x, double y, double size, int align, const char *s)
{
	cairo_text_extents_t te;

	dl_cairo_set_font_size(cr, size);
	dl_cairo_text_extents(cr, s, &te);
	dl_cairo_move_to(cr, align == 0 ? x - te.width / 2 - te.x_bearing : align > 0 ? x -
	    te.width - te.x_bearing : x, y);
	dl_cairo_show_text(cr, s);
}

static void
plot_begin(struct plot *p, const char *title, const char *subtitle)
{
	p->sf = dl_cairo_image_surface_create(CAIRO_FORMAT_RGB24, REPORT_W, REPORT_H);
	p->cr = dl_cairo_create(p->sf);
	dl_cairo_set_source_rgb(p->cr, 1, 1, 1);
	dl_cairo_paint(p->cr);
	dl_cairo_select_font_face(p->cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
	    CAIRO_FONT_WEIGHT_BOLD);
	dl_cairo_set_source_rgb(p->cr, 0, 0, 0);
	text(p->cr, REPORT_W / 2.0, 32, 22, 0, title);
	dl_cairo_select_font_face(p->cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
	    CAIRO_FONT_WEIGHT_NORMAL);
	if (subtitle != NULL)
		text(p->cr, REPORT_W / 2.0, 56, 15, 0, subtitle);
}

static void
fmt_num(char *buf, size_t len, double v, double step)
{
	int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);

	if (fabs(v) < step * 1e-6)
		v = 0;
	if (fabs(step) < 1e-4 || fabs(v) >= 1e6)
		snprintf(buf, len, "%.2g", v);
	else
		snprintf(buf, len, "%.*f", dec > 8 ? 8 : dec, v);
}

/* Frame, grid, ticks and labels; time_x: the x values are unix seconds. */
static void
plot_axes(struct plot *p, const char *xlabel, const char *ylabel, int time_x)
{
	cairo_t *cr = p->cr;
	char buf[64];
	double st, v;

	dl_cairo_set_line_width(cr, 1);
	/* y grid and ticks */
	st = nice_step(p->y1 - p->y0, 8);
	for (v = ceil(p->y0 / st - 1e-9) * st; v <= p->y1 + st * 1e-9; v += st) {
		dl_cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
		dl_cairo_move_to(cr, ML, py(p, v));
		dl_cairo_line_to(cr, REPORT_W - MR, py(p, v));
		dl_cairo_stroke(cr);
		dl_cairo_set_source_rgb(cr, 0, 0, 0);
		fmt_num(buf, sizeof(buf), v, st);
		text(cr, ML - 8, py(p, v) + 5, 14, 1, buf);
	}
	/* x grid and ticks */
	if (time_x) {
		/* Ticks on the first of a month (every 1, 3, 6 or 12), days for short spans. */
		double span = p->x1 - p->x0;
		int mstep = span > 6 * 365 * 86400.0 ? 12 : span > 3 * 365 * 86400.0 ? 6 :
		    span > 365 * 86400.0 ? 3 : span > 60 * 86400.0 ? 1 : 0;
		time_t tt = (time_t)p->x0;
		struct tm tm;

		gmtime_r(&tt, &tm);
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		if (mstep > 0) {
			tm.tm_mday = 1;
			tm.tm_mon = (tm.tm_mon / mstep) * mstep;
		}
		for (;;) {
			v = (double)timegm(&tm);
			if (v > p->x1)
				break;
			if (v >= p->x0) {
				strftime(buf, sizeof(buf), mstep > 0 ? "%Y-%m" : "%m-%d", &tm);
				dl_cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
				dl_cairo_move_to(cr, px(p, v), MT);
				dl_cairo_line_to(cr, px(p, v), REPORT_H - MB);
				dl_cairo_stroke(cr);
				dl_cairo_set_source_rgb(cr, 0, 0, 0);
				text(cr, px(p, v), REPORT_H - MB + 22, 14, 0, buf);
			}
			if (mstep > 0)
				tm.tm_mon += mstep;
			else
				tm.tm_mday += span > 14 * 86400.0 ? 7 : 1;
			tm.tm_isdst = 0;
			(void)timegm(&tm);	/* normalises */
		}
	} else {
		st = nice_step(p->x1 - p->x0, 10);
		for (v = ceil(p->x0 / st - 1e-9) * st; v <= p->x1 + st * 1e-9; v += st) {
			dl_cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
			dl_cairo_move_to(cr, px(p, v), MT);
			dl_cairo_line_to(cr, px(p, v), REPORT_H - MB);
			dl_cairo_stroke(cr);
			dl_cairo_set_source_rgb(cr, 0, 0, 0);
			fmt_num(buf, sizeof(buf), v, st);
			text(cr, px(p, v), REPORT_H - MB + 22, 14, 0, buf);
		}
	}
	dl_cairo_set_source_rgb(cr, 0, 0, 0);
	dl_cairo_set_line_width(cr, 1.5);
	dl_cairo_rectangle(cr, ML, MT, REPORT_W - ML - MR, REPORT_H - MT - MB);
	dl_cairo_stroke(cr);
	text(cr, ML + (REPORT_W - ML - MR) / 2.0, REPORT_H - MB + 55, 16, 0, xlabel);
	dl_cairo_save(cr);
	dl_cairo_translate(cr, 28, MT + (REPORT_H - MT - MB) / 2.0);
	dl_cairo_rotate(cr, -M_PI / 2);
	text(cr, 0, 0, 16, 0, ylabel);
	dl_cairo_restore(cr);
}

/* The legend, top left inside the plot area. */
static void
plot_legend(struct plot *p, const struct report_series *s, size_t from, int dots)
{
	cairo_t *cr = p->cr;
	double x = ML + 16, y = MT + 14, w = 0;
	cairo_text_extents_t te;
	size_t k;

	dl_cairo_set_font_size(cr, 14);
	for (k = from; k < s->nmodels; k++) {
		dl_cairo_text_extents(cr, s->names[k], &te);
		w = fmax(w, te.width);
	}
	dl_cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
	dl_cairo_rectangle(cr, x - 8, y - 6, w + 56, 22.0 * (double)(s->nmodels - from) + 8);
	dl_cairo_fill(cr);
	for (k = from; k < s->nmodels; k++, y += 22) {
		color(cr, k);
		if (dots) {
			dl_cairo_arc(cr, x + 14, y + 6, 4, 0, 2 * M_PI);
			dl_cairo_fill(cr);
		} else {
			dl_cairo_set_line_width(cr, 3);
			dl_cairo_move_to(cr, x, y + 6);
			dl_cairo_line_to(cr, x + 28, y + 6);
			dl_cairo_stroke(cr);
		}
		dl_cairo_set_source_rgb(cr, 0, 0, 0);
		text(cr, x + 38, y + 11, 14, -1, s->names[k]);
	}
}

static int
plot_end(struct plot *p, const char *dir, const char *name, json_t *pics, char *err,
    size_t errlen)
{
	char *path = xasprintf("%s/%s", dir, name);
	cairo_status_t st;

	dl_cairo_destroy(p->cr);
	dl_cairo_surface_flush(p->sf);
	st = dl_cairo_surface_write_to_png(p->sf, path);
	dl_cairo_surface_destroy(p->sf);
	if (st != CAIRO_STATUS_SUCCESS) {
		snprintf(err, errlen, "%s: %s", path, dl_cairo_status_to_string(st));
		free(path);
		return -1;
	}
	free(path);
	json_array_append_new(pics, json_pack("{s:s, s:i, s:i}", "file", name, "width",
	    REPORT_W, "height", REPORT_H));
	return 0;
}

static const char *
loss_unit(enum loss_method m)
{
	return m == LOSS_MSE ? "cumulative squared error minus zero's (log-return^2)" :
	    m == LOSS_ZPTAE ? "cumulative ZPTAE minus zero's (z-score units)" :
	    "cumulative CZAR minus zero's (z-score units)";
}

int
report_write(const char *dir, const struct report_series *s, json_t *extra, char *err,
    size_t errlen)
{
	struct plot p;
	json_t *j, *pics, *cal, *cum;
	double *c, lo, hi, v, sub_lo, sub_hi;
	char sub[256], ts0[40], ts1[40], *out, *path;
	size_t i, k, d, *ord;
	int rc = -1;

	if (s->n == 0 || s->nmodels == 0) {
		snprintf(err, errlen, "no decision to draw");
		return -1;
	}
	/* Debian's libcairo2 and libfontconfig1 (HACKING.md, "What each program links"). */
	if (dynlib_load("libcairo.so.2", cairo_dynsyms, cairo_ndynsyms, err, errlen) == -1 ||
	    dynlib_load("libfontconfig.so.1", fc_dynsyms, fc_ndynsyms, err, errlen) == -1)
		return -1;
	if (mkdir_p(dir, 0755) == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	j = json_pack("{s:s, s:s, s:I, s:s, s:s}", "title", s->title, "loss",
	    loss_method_name(s->loss), "decisions", (json_int_t)s->n, "first_decision",
	    iso8601((double)s->time[0], ts0, sizeof(ts0)), "last_decision",
	    iso8601((double)s->time[s->n - 1], ts1, sizeof(ts1)));
	pics = json_array();
	cal = json_object();
	cum = json_object();
	{
		time_t a = (time_t)s->time[0], b = (time_t)s->time[s->n - 1];
		struct tm ta, tb;
		char da[32], db[32];

		gmtime_r(&a, &ta);
		gmtime_r(&b, &tb);
		strftime(da, sizeof(da), "%Y-%m-%d %H:%M", &ta);
		strftime(db, sizeof(db), "%Y-%m-%d %H:%M UTC", &tb);
		snprintf(sub, sizeof(sub), "%s: %s to %s, %zu decisions, loss %s", s->title, da, db,
		    s->n, loss_method_name(s->loss));
	}

	/* 1. cumulative loss minus zero's */
	c = xcalloc(s->n * s->nmodels, sizeof(double));
	lo = hi = 0;
	for (k = 0; k < s->nmodels; k++) {
		double acc = 0;

		for (i = 0; i < s->n; i++) {
			/* A window without the model's value (history) adds nothing. */
			if ((isfinite(s->sigma[i]) || s->loss == LOSS_MSE) &&
			    !isnan(s->pred[k][i]))
				acc += loss_value(s->loss, s->realized[i], s->pred[k][i], s->sigma[i],
				    &s->czar) - loss_value(s->loss, s->realized[i], 0, s->sigma[i],
				    &s->czar);
			c[k * s->n + i] = acc;
			lo = fmin(lo, acc);
			hi = fmax(hi, acc);
		}
		json_object_set_new(cum, s->names[k], json_real(acc));
	}
	nice_range(&lo, &hi);
	plot_begin(&p, "Cumulative loss of each model minus zero's (below 0: better than "
	    "zero)", sub);
	p.x0 = (double)s->time[0];
	p.x1 = (double)s->time[s->n - 1];
	if (p.x1 <= p.x0)
		p.x1 = p.x0 + 86400;
	p.y0 = lo;
	p.y1 = hi;
	plot_axes(&p, "decision time (UTC)", loss_unit(s->loss), 1);
	for (k = 0; k < s->nmodels; k++) {
		color(p.cr, k);
		dl_cairo_set_line_width(p.cr, k == 0 ? 1.5 : 2.5);
		for (i = 0; i < s->n; i++)
			(i == 0 ? dl_cairo_move_to : dl_cairo_line_to)(p.cr, px(&p, (double)s->time[i]),
			    py(&p, c[k * s->n + i]));
		dl_cairo_stroke(p.cr);
	}
	plot_legend(&p, s, 0, 0);
	free(c);
	if (plot_end(&p, dir, "cumulative_loss.png", pics, err, errlen) == -1)
		goto out;

	/* 2. predicted against realised */
	lo = hi = 0;
	sub_lo = sub_hi = 0;
	for (i = 0; i < s->n; i++) {
		sub_lo = fmin(sub_lo, s->realized[i]);
		sub_hi = fmax(sub_hi, s->realized[i]);
		for (k = 1; k < s->nmodels; k++) {
			lo = fmin(lo, s->pred[k][i]);
			hi = fmax(hi, s->pred[k][i]);
		}
	}
	nice_range(&lo, &hi);
	nice_range(&sub_lo, &sub_hi);
	plot_begin(&p, "Predicted against realised", sub);
	p.x0 = lo;
	p.x1 = hi;
	p.y0 = sub_lo;
	p.y1 = sub_hi;
	plot_axes(&p, "predicted log return", "realised log return", 0);
	dl_cairo_save(p.cr);
	dl_cairo_rectangle(p.cr, ML, MT, REPORT_W - ML - MR, REPORT_H - MT - MB);
	dl_cairo_clip(p.cr);
	dl_cairo_set_source_rgb(p.cr, 0.6, 0.6, 0.6);
	dl_cairo_set_line_width(p.cr, 1);
	dl_cairo_move_to(p.cr, px(&p, fmax(lo, sub_lo)), py(&p, fmax(lo, sub_lo)));
	dl_cairo_line_to(p.cr, px(&p, fmin(hi, sub_hi)), py(&p, fmin(hi, sub_hi)));
	dl_cairo_stroke(p.cr);
	for (k = 1; k < s->nmodels; k++) {
		color(p.cr, k);
		for (i = 0; i < s->n; i++) {
			if (isnan(s->pred[k][i]))
				continue;
			dl_cairo_arc(p.cr, px(&p, s->pred[k][i]), py(&p, s->realized[i]), 2.5, 0,
			    2 * M_PI);
			dl_cairo_fill(p.cr);
		}
	}
	dl_cairo_restore(p.cr);
	if (s->nmodels > 1)
		plot_legend(&p, s, 1, 1);
	if (plot_end(&p, dir, "scatter.png", pics, err, errlen) == -1)
		goto out;

	/* 3. calibration by decile of prediction */
	ord = xcalloc(s->n, sizeof(size_t));
	lo = sub_lo = INFINITY;
	hi = sub_hi = -INFINITY;
	{
		double (*mp)[10] = xcalloc(s->nmodels, sizeof(*mp));
		double (*mr)[10] = xcalloc(s->nmodels, sizeof(*mr));
		size_t (*cnt)[10] = xcalloc(s->nmodels, sizeof(*cnt));

		for (k = 1; k < s->nmodels; k++) {
			json_t *rows = json_array();
			const double *pk = s->pred[k];
			size_t nf = 0;

			/* The windows with a value of the model (all of them in a backtest). */
			double pmin = INFINITY, pmax = -INFINITY;

			for (i = 0; i < s->n; i++)
				if (!isnan(pk[i])) {
					ord[nf++] = i;
					pmin = fmin(pmin, pk[i]);
					pmax = fmax(pmax, pk[i]);
				}
			/* A constant prediction (0 every time) has no deciles to show. */
			if (nf == 0 || pmin == pmax) {
				json_decref(rows);
				continue;
			}
			/* insertion sort by prediction: stable and n is at most a few thousand */
			for (i = 1; i < nf; i++) {
				size_t x = ord[i], m = i;

				while (m > 0 && pk[ord[m - 1]] > pk[x]) {
					ord[m] = ord[m - 1];
					m--;
				}
				ord[m] = x;
			}
			for (i = 0; i < nf; i++) {
				d = i * 10 / nf;
				mp[k][d] += pk[ord[i]];
				mr[k][d] += s->realized[ord[i]];
				cnt[k][d]++;
			}
			for (d = 0; d < 10; d++) {
				if (cnt[k][d] == 0)
					continue;
				mp[k][d] /= (double)cnt[k][d];
				mr[k][d] /= (double)cnt[k][d];
				lo = fmin(lo, mp[k][d]);
				hi = fmax(hi, mp[k][d]);
				sub_lo = fmin(sub_lo, mr[k][d]);
				sub_hi = fmax(sub_hi, mr[k][d]);
				json_array_append_new(rows, json_pack("{s:I, s:f, s:f, s:I}",
				    "decile", (json_int_t)d + 1, "mean_pred", mp[k][d],
				    "mean_realized", mr[k][d], "n", (json_int_t)cnt[k][d]));
			}
			json_object_set_new(cal, s->names[k], rows);
		}
		v = fmax(fabs(lo), fabs(hi));
		lo = fmin(lo, sub_lo);
		hi = fmax(hi, sub_hi);
		if (!isfinite(lo))
			lo = hi = 0;
		nice_range(&lo, &hi);
		plot_begin(&p, "Calibration: mean realised by decile of prediction", sub);
		p.x0 = p.y0 = lo;
		p.x1 = p.y1 = hi;
		plot_axes(&p, "mean predicted log return (decile)", "mean realised log return",
		    0);
		dl_cairo_set_source_rgb(p.cr, 0.6, 0.6, 0.6);
		dl_cairo_set_line_width(p.cr, 1);
		dl_cairo_move_to(p.cr, px(&p, lo), py(&p, lo));
		dl_cairo_line_to(p.cr, px(&p, hi), py(&p, hi));
		dl_cairo_stroke(p.cr);
		dl_cairo_move_to(p.cr, ML, py(&p, 0));
		dl_cairo_line_to(p.cr, REPORT_W - MR, py(&p, 0));
		dl_cairo_stroke(p.cr);
		for (k = 1; k < s->nmodels; k++) {
			int first = 1;

			color(p.cr, k);
			dl_cairo_set_line_width(p.cr, 2);
			for (d = 0; d < 10; d++) {
				if (cnt[k][d] == 0)
					continue;
				(first ? dl_cairo_move_to : dl_cairo_line_to)(p.cr, px(&p, mp[k][d]),
				    py(&p, mr[k][d]));
				first = 0;
			}
			dl_cairo_stroke(p.cr);
			for (d = 0; d < 10; d++)
				if (cnt[k][d] > 0) {
					dl_cairo_arc(p.cr, px(&p, mp[k][d]), py(&p, mr[k][d]), 5, 0,
					    2 * M_PI);
					dl_cairo_fill(p.cr);
				}
		}
		(void)v;
		if (s->nmodels > 1)
			plot_legend(&p, s, 1, 1);
		free(mp);
		free(mr);
		free(cnt);
	}
	free(ord);
	if (plot_end(&p, dir, "calibration.png", pics, err, errlen) == -1)
		goto out;

	json_object_set_new(j, "pictures", pics);
	pics = NULL;
	json_object_set_new(j, "cumulative_loss_minus_zero", cum);
	cum = NULL;
	json_object_set_new(j, "calibration", cal);
	cal = NULL;
	if (extra != NULL)
		json_object_set(j, "summary", extra);
	out = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	path = xasprintf("%s/report.json", dir);
	if (out == NULL || write_file_atomic(path, out, strlen(out), 0644) == -1)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else
		rc = 0;
	free(out);
	free(path);
out:
	json_decref(pics);
	json_decref(cal);
	json_decref(cum);
	json_decref(j);
	/* cairo's and fontconfig's caches: a report is drawn once per run. */
	dl_cairo_debug_reset_static_data();
	dl_FcFini();
	return rc;
}

int
bt_report(const char *dir, const struct bt_result *r, const char *csv, long step,
    enum bt_half half, char *err, size_t errlen)
{
	struct report_series s;
	json_t *extra;
	char *title;
	int rc;

	if (r->time == NULL) {
		snprintf(err, errlen, "the backtest kept no series");
		return -1;
	}
	memset(&s, 0, sizeof(s));
	title = xasprintf("backtest of %s", strrchr(csv, '/') != NULL ? strrchr(csv, '/') + 1 :
	    csv);
	s.title = title;
	s.n = r->decisions;
	s.time = r->time;
	s.realized = r->realized;
	s.sigma = r->sigma;
	s.nmodels = r->nmodels;
	s.names = r->names;
	s.pred = r->pred;
	s.loss = r->loss;
	s.czar = (struct czar_params){ r->czar_alpha, CZAR_EPSILON, CZAR_TAU };
	extra = backtest_json(r, step, half);
	rc = report_write(dir, &s, extra, err, errlen);
	json_decref(extra);
	free(title);
	return rc;
}
