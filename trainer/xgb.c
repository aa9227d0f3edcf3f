/*
 * Gradient boosting through the XGBoost C API (see model.h).  libxgboost (and with it
 * libstdc++, libgomp, libdmlc) is loaded at the first xgboost model this process trains or
 * loads (common/dynlib.h): a trainer whose topics use ridge or an external predictor never
 * maps it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xgboost/c_api.h>

#include "dynlib.h"
#include "loss.h"
#include "model.h"
#include "util.h"

#define XGB_SYMS(X)							\
	X(XGBGetLastError) X(XGBSetGlobalConfig) X(XGBoosterBoostOneIter)	\
	X(XGBoosterCreate) X(XGBoosterFree) X(XGBoosterGetNumFeature)	\
	X(XGBoosterLoadModelFromBuffer) X(XGBoosterPredict)		\
	X(XGBoosterSaveModelToBuffer) X(XGBoosterSetParam)			\
	X(XGBoosterUpdateOneIter) X(XGDMatrixCreateFromMat) X(XGDMatrixFree)	\
	X(XGDMatrixSetFloatInfo)
DYNLIB_TABLE(xgb, XGB_SYMS)

/* Debian's libxgboost0 (HACKING.md, "What each program links"). */
static int
xgb_lib(char *err, size_t errlen)
{
	char e[320];

	if (dynlib_load("libxgboost.so.0", xgb_dynsyms, xgb_ndynsyms, e, sizeof(e)) == 0)
		return 0;
	snprintf(err, errlen, "xgboost: %s", e);
	return -1;
}

struct xgb {
	BoosterHandle	 bst;
	int		 ncol;
};

void
xgb_params_default(struct xgb_params *p)
{
	/* MODEL.md §5.2 */
	p->n_trees = 200;
	p->max_depth = 3;
	p->eta = 0.03;
	p->subsample = 0.8;
	p->colsample = 0.8;
	p->min_child_weight = 50;
	p->lambda = 10;
	p->seed = 42;
	p->exact = 0;
	p->base_mean = 0;
	p->czar = 0;
	p->czar_alpha = CZAR_ALPHA_TRAIN;
}

void
xgb_params_gbr(struct xgb_params *p)
{
	/*
	 * sklearn's GradientBoostingRegressor(n_estimators=100, max_depth=3,
	 * learning_rate=0.1): squared error, no subsampling, leaves of one sample allowed
	 * (min_child_weight 1), no leaf penalty (lambda 0, so a leaf's value is the mean
	 * residual), and the first guess the mean of the targets.  Splits are searched on
	 * XGBoost's 256-bin histograms rather than exactly as sklearn does: on the real data
	 * the holdout error is the same (bench/README.md: paired by fold, within two standard
	 * errors at 14 d, 28 d and 1 y) and training is 6x (28 d) to 50x (1 y) faster than
	 * sklearn instead of 4x to 5x.  exact = 1 gives sklearn's exact search.
	 */
	p->n_trees = 100;
	p->max_depth = 3;
	p->eta = 0.1;
	p->subsample = 1;
	p->colsample = 1;
	p->min_child_weight = 1;
	p->lambda = 0;
	p->seed = 42;
	p->exact = 0;
	p->base_mean = 1;
	p->czar = 0;
	p->czar_alpha = CZAR_ALPHA_TRAIN;
}

static int
xerr(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "xgboost: %s: %s", what, dl_XGBGetLastError());
	return -1;
}

/* Deterministic settings, re-applied after a load (not all are persisted). */
static int
set_params(BoosterHandle b, const struct xgb_params *p, double base)
{
	char v[8][40];
	int rc = 0;

	snprintf(v[0], sizeof(v[0]), "%d", p->max_depth);
	snprintf(v[1], sizeof(v[1]), "%.17g", p->eta);
	snprintf(v[2], sizeof(v[2]), "%.17g", p->subsample);
	snprintf(v[3], sizeof(v[3]), "%.17g", p->colsample);
	snprintf(v[4], sizeof(v[4]), "%.17g", p->min_child_weight);
	snprintf(v[5], sizeof(v[5]), "%.17g", p->lambda);
	snprintf(v[6], sizeof(v[6]), "%ld", p->seed);
	snprintf(v[7], sizeof(v[7]), "%.9g", base);
	rc |= dl_XGBoosterSetParam(b, "objective", "reg:squarederror");
	rc |= dl_XGBoosterSetParam(b, "tree_method", p->exact ? "exact" : "hist");
	rc |= dl_XGBoosterSetParam(b, "max_depth", v[0]);
	rc |= dl_XGBoosterSetParam(b, "eta", v[1]);
	rc |= dl_XGBoosterSetParam(b, "subsample", v[2]);
	rc |= dl_XGBoosterSetParam(b, "colsample_bytree", v[3]);
	rc |= dl_XGBoosterSetParam(b, "min_child_weight", v[4]);
	rc |= dl_XGBoosterSetParam(b, "lambda", v[5]);
	rc |= dl_XGBoosterSetParam(b, "base_score", v[7]);	/* 0.5 by default in 1.7 */
	rc |= dl_XGBoosterSetParam(b, "seed", v[6]);
	rc |= dl_XGBoosterSetParam(b, "nthread", "1");
	rc |= dl_XGBoosterSetParam(b, "verbosity", "0");
	return rc == 0 ? 0 : -1;
}

/*
 * One boosting round on CZAR (α p->czar_alpha): the gradient and Hessian at the current
 * margins (training = 1, so subsampling is what the round sees), the Hessian floored.
 */
static int
czar_round(BoosterHandle bst, DMatrixHandle d, const double *Y, const double *S,
    size_t rows, const struct xgb_params *p, float *g, float *h)
{
	struct czar_params cp = { p->czar_alpha, CZAR_EPSILON, CZAR_TAU };
	const float *margin;
	bst_ulong n;
	double gr, he, floor_;
	size_t i;

	if (dl_XGBoosterPredict(bst, d, 1, 0, 1, &n, &margin) != 0 || n != rows)
		return -1;
	for (i = 0; i < rows; i++) {
		loss_czar_grad_hess(Y[i], (double)margin[i], S[i], &cp, &gr, &he);
		floor_ = CZAR_HESS_FLOOR / (S[i] * S[i]);
		if (!isfinite(gr) || !isfinite(he))
			return -1;
		g[i] = (float)gr;
		h[i] = (float)(he > floor_ ? he : floor_);
	}
	return dl_XGBoosterBoostOneIter(bst, d, g, h, (bst_ulong)rows) == 0 ? 0 : -1;
}

struct xgb *
xgb_train(const double *X, const double *Y, size_t rows, int ncol, const struct xgb_params *p,
    char *err, size_t errlen)
{
	return xgb_train_s(X, Y, NULL, rows, ncol, p, err, errlen);
}

struct xgb *
xgb_train_s(const double *X, const double *Y, const double *S, size_t rows, int ncol,
    const struct xgb_params *p, char *err, size_t errlen)
{
	DMatrixHandle d = NULL;
	struct xgb *m;
	float *fx, *fy, *g = NULL, *h = NULL;
	double base = 0;
	size_t i;
	int it;

	if (rows < 2 || ncol <= 0 || ncol > 1000 || p->n_trees <= 0 ||
	    p->n_trees > XGB_MAX_TREES || p->max_depth <= 0 || p->max_depth > XGB_MAX_DEPTH ||
	    !(p->eta > 0 && p->eta <= 1) || !(p->subsample > 0 && p->subsample <= 1) ||
	    !(p->colsample > 0 && p->colsample <= 1) || !(p->min_child_weight >= 0) ||
	    !(p->lambda >= 0) || p->seed < 0 || (p->czar && (S == NULL ||
	    !(p->czar_alpha >= 0 && p->czar_alpha <= 1)))) {
		snprintf(err, errlen, "xgboost: bad training shape or parameters");
		return NULL;
	}
	for (i = 0; p->czar && i < rows; i++)
		if (!(S[i] > 0) || !isfinite(S[i])) {
			snprintf(err, errlen, "xgboost: a CZAR scale that is not positive (row %zu)",
			    i);
			return NULL;
		}
	if (xgb_lib(err, errlen) == -1)
		return NULL;
	fx = xcalloc(rows * (size_t)ncol, sizeof(float));
	fy = xcalloc(rows, sizeof(float));
	for (i = 0; i < rows * (size_t)ncol; i++)
		fx[i] = (float)X[i];
	for (i = 0; i < rows; i++) {
		fy[i] = (float)Y[i];
		base += Y[i];
	}
	base = p->base_mean ? base / (double)rows : 0;
	if (!isfinite(base)) {
		snprintf(err, errlen, "xgboost: targets that are not finite");
		free(fx);
		free(fy);
		return NULL;
	}
	dl_XGBSetGlobalConfig("{\"verbosity\":0}");
	m = xcalloc(1, sizeof(*m));
	m->ncol = ncol;
	if (dl_XGDMatrixCreateFromMat(fx, rows, (bst_ulong)ncol, NAN, &d) != 0) {
		xerr(err, errlen, "DMatrix");
		goto fail;
	}
	if (dl_XGDMatrixSetFloatInfo(d, "label", fy, rows) != 0) {
		xerr(err, errlen, "labels");
		goto fail;
	}
	if (dl_XGBoosterCreate(&d, 1, &m->bst) != 0) {
		xerr(err, errlen, "create");
		goto fail;
	}
	if (set_params(m->bst, p, base) == -1) {
		xerr(err, errlen, "parameters");
		goto fail;
	}
	if (p->czar) {
		g = xcalloc(rows, sizeof(float));
		h = xcalloc(rows, sizeof(float));
	}
	for (it = 0; it < p->n_trees; it++)
		if (p->czar ? czar_round(m->bst, d, Y, S, rows, p, g, h) != 0 :
		    dl_XGBoosterUpdateOneIter(m->bst, it, d) != 0) {
			xerr(err, errlen, p->czar ? "training on CZAR" : "training");
			goto fail;
		}
	dl_XGDMatrixFree(d);
	free(fx);
	free(fy);
	free(g);
	free(h);
	return m;
fail:
	if (d != NULL)
		dl_XGDMatrixFree(d);
	free(fx);
	free(fy);
	free(g);
	free(h);
	xgb_free(m);
	return NULL;
}

int
xgb_predict(const struct xgb *m, const double *x, double *out)
{
	DMatrixHandle d;
	float fx[1000];
	bst_ulong n;
	const float *o;
	int i, rc;

	for (i = 0; i < m->ncol; i++)
		fx[i] = (float)x[i];
	if (dl_XGDMatrixCreateFromMat(fx, 1, (bst_ulong)m->ncol, NAN, &d) != 0)
		return -1;
	rc = dl_XGBoosterPredict(m->bst, d, 0, 0, 0, &n, &o);
	if (rc == 0 && n == 1)
		*out = (double)o[0];
	dl_XGDMatrixFree(d);
	return rc == 0 && n == 1 && isfinite(*out) ? 0 : -1;
}

int
xgb_save(const struct xgb *m, const char *path, char *err, size_t errlen)
{
	bst_ulong len;
	const char *buf;

	if (dl_XGBoosterSaveModelToBuffer(m->bst, "{\"format\":\"ubj\"}", &len, &buf) != 0)
		return xerr(err, errlen, "save");
	if (write_file_atomic(path, buf, (size_t)len, 0640) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

struct xgb *
xgb_load(const char *path, int ncol, char *err, size_t errlen)
{
	struct xgb *m;
	bst_ulong nf = 0;
	size_t len;
	char *buf;

	if (xgb_lib(err, errlen) == -1)
		return NULL;
	buf = read_file_nofollow(path, (size_t)256 << 20, &len);	/* in the cache */
	if (buf == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->ncol = ncol;
	if (dl_XGBoosterCreate(NULL, 0, &m->bst) != 0 ||
	    dl_XGBoosterLoadModelFromBuffer(m->bst, buf, (bst_ulong)len) != 0 ||
	    dl_XGBoosterSetParam(m->bst, "nthread", "1") != 0 ||
	    dl_XGBoosterGetNumFeature(m->bst, &nf) != 0) {
		xerr(err, errlen, path);
		free(buf);
		xgb_free(m);
		return NULL;
	}
	free(buf);
	if ((int)nf != ncol) {
		snprintf(err, errlen, "%s: a model of %d features, %d expected", path, (int)nf, ncol);
		xgb_free(m);
		return NULL;
	}
	return m;
}

void
xgb_free(struct xgb *m)
{
	if (m == NULL)
		return;
	if (m->bst != NULL)
		dl_XGBoosterFree(m->bst);
	free(m);
}
