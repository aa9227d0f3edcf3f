/*
 * The network's losses (see loss.h): MSE, ZPTAE and CZAR, and CZAR's gradient and Hessian.
 *
 * CZAR (research topic 155) on z-scores zt = y_true/σ, zp = y_pred/σ, with δ = α/√3,
 * s = sign(zt) (+1 at 0), sp = sign(zp) (+1 at 0), u = s·zp, dt = zt + s·δ, dp = zp + sp·δ,
 * K(x) = 1/(1 + x²) (the Cauchy kernel, antiderivative atan), K'(x) magnitude
 * D(x) = 2|x|/(1 + x²)², h1 = (1 + δ²)·D(δ), h3 = (1 + δ²)·D(dt):
 *
 *	wrong sign, u <= 0:	L1 = h1·zp²/2 - s·zp + s(1 + δ²)(atan dt - atan sδ)
 *	undershoot, 0 < u <= |zt|:	L2 = s(1 + δ²)(atan dt - atan dp)
 *	overshoot, u > |zt|:	L3 = min(h1, h3)·(zp - zt)²/2 + s(1 + δ²)K(dt)(zp - zt)
 *
 * plus, for ε > 0, a softening term that depends on zt only: the loss of predicting ε_eff
 * when the truth is 0 (ε_eff solves (δ/(1+δ²))x² + x = A, A = (1+δ²)(atan(ε+δ) - atan δ)),
 * times a weight that is 1 at zt = 0 and falls to 0 as |zt| grows (smoothed by τ through a
 * softplus).  So a constant 0 is not free when the truth is small.
 */
#include <math.h>
#include <string.h>

#include "loss.h"

static const struct czar_params czar_eval = { CZAR_ALPHA_EVAL, CZAR_EPSILON, CZAR_TAU };

int
loss_method_parse(const char *s, enum loss_method *out)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "mse") == 0)
		*out = LOSS_MSE;
	else if (strcmp(s, "zptae") == 0)
		*out = LOSS_ZPTAE;
	else if (strcmp(s, "czar") == 0)
		*out = LOSS_CZAR;
	else
		return -1;
	return 0;
}

const char *
loss_method_name(enum loss_method m)
{
	switch (m) {
	case LOSS_MSE:
		return "mse";
	case LOSS_ZPTAE:
		return "zptae";
	case LOSS_CZAR:
		return "czar";
	}
	return "?";
}

static double
guard_sigma(double sigma)
{
	return sigma > LOSS_SIGMA_MIN ? sigma : LOSS_SIGMA_MIN;
}

/* pt(x) = x / (1 + |x|^β)^((1-α)/β); for huge |x| (where |x|^β overflows) sign(x)|x|^α. */
static double
zptae_pt(double x)
{
	double ax = fabs(x);

	if (ax > 1e100)
		return copysign(pow(ax, ZPTAE_ALPHA), x);
	return x / pow(1 + pow(ax, ZPTAE_BETA), (1 - ZPTAE_ALPHA) / ZPTAE_BETA);
}

double
loss_zptae(double y_true, double y_pred, double sigma)
{
	double zt, zp;

	if (isnan(y_true) || isnan(y_pred) || isnan(sigma))
		return NAN;
	sigma = guard_sigma(sigma);
	zt = y_true / sigma;
	zp = y_pred / sigma;
	return fabs(zptae_pt(zt) - zptae_pt(zp)) +
	    pow(ZPTAE_PENALTY * fabs(zp - zt), ZPTAE_GAMMA);
}

/* D(x) = 2|x| / (1 + x²)²: the magnitude of the kernel's derivative. */
static double
kern_d(double x)
{
	double q = 1 + x * x;

	return 2 * fabs(x) / q / q;
}

/* The three regions, without the softening term. */
static double
czar_core(double zt, double zp, double delta)
{
	double s = zt < 0 ? -1 : 1, sp = zp < 0 ? -1 : 1, u = s * zp, a = fabs(zt);
	double d2p1 = delta * delta + 1, dt = zt + s * delta, dp = zp + sp * delta;
	double h1 = d2p1 * kern_d(delta), h3 = d2p1 * kern_d(dt), dz = zp - zt;

	if (u <= 0)
		return 0.5 * h1 * zp * zp - s * zp + s * d2p1 * (atan(dt) - atan(s * delta));
	if (u <= a)
		return s * d2p1 * (atan(dt) - atan(dp));
	return 0.5 * fmin(h1, h3) * dz * dz + s * d2p1 / (1 + dt * dt) * dz;
}

static double
softplus(double x)
{
	return fmax(x, 0) + log1p(exp(-fabs(x)));
}

/* The softening term's weight at |zt| = a, for ε_eff and δ. */
static double
czar_norm(double a, double eps_eff, double delta, double tau)
{
	double d2p1 = delta * delta + 1, denom, nmin, ninf, teff;

	denom = eps_eff + delta / d2p1 * eps_eff * eps_eff;
	nmin = 1 - d2p1 * (atan(a + delta) - atan(delta)) / denom;
	if (tau > 0) {
		ninf = 1 - d2p1 * (M_PI / 2 - atan(delta)) / denom;
		teff = tau * fabs(ninf);
		if (teff > 0)
			return softplus(nmin / teff) / softplus(1 / teff);
	}
	return fmax(nmin, 0);
}

static double
czar_eps_eff(double eps, double delta)
{
	double A, beta;

	if (delta == 0)
		return atan(eps);
	A = (1 + delta * delta) * (atan(eps + delta) - atan(delta));
	beta = delta / (1 + delta * delta);
	return (-1 + sqrt(1 + 4 * beta * A)) / (2 * beta);
}

static int
czar_params_ok(const struct czar_params *p)
{
	return p->alpha >= 0 && p->alpha <= 1 && p->epsilon >= 0 && p->tau >= 0 &&
	    isfinite(p->epsilon) && isfinite(p->tau);
}

double
loss_czar(double y_true, double y_pred, double sigma, const struct czar_params *p)
{
	double zt, zp, delta, l, ee;

	if (p == NULL)
		p = &czar_eval;
	if (isnan(y_true) || isnan(y_pred) || isnan(sigma) || !czar_params_ok(p))
		return NAN;
	sigma = guard_sigma(sigma);
	zt = y_true / sigma;
	zp = y_pred / sigma;
	delta = p->alpha / sqrt(3);
	l = czar_core(zt, zp, delta);
	if (p->epsilon > 0) {
		ee = czar_eps_eff(p->epsilon, delta);
		l += czar_norm(fabs(zt), ee, delta, p->tau) * czar_core(0, ee, delta);
	}
	return l;
}

void
loss_czar_grad_hess(double y_true, double y_pred, double sigma, const struct czar_params *p,
    double *grad, double *hess)
{
	double zt, zp, s, sp, u, a, delta, d2p1, dt, dp, h1, h3, g, h;

	if (p == NULL)
		p = &czar_eval;
	if (isnan(y_true) || isnan(y_pred) || isnan(sigma) || !czar_params_ok(p)) {
		*grad = *hess = NAN;
		return;
	}
	sigma = guard_sigma(sigma);
	zt = y_true / sigma;
	zp = y_pred / sigma;
	s = zt < 0 ? -1 : 1;
	sp = zp < 0 ? -1 : 1;
	u = s * zp;
	a = fabs(zt);
	delta = p->alpha / sqrt(3);
	d2p1 = delta * delta + 1;
	dt = zt + s * delta;
	dp = zp + sp * delta;
	h1 = d2p1 * kern_d(delta);
	h3 = d2p1 * kern_d(dt);
	if (u <= 0) {
		g = h1 * zp - s;
		h = h1;
	} else if (u <= a) {
		g = -s * d2p1 / (1 + dp * dp);
		h = d2p1 * kern_d(dp);
	} else {
		g = fmin(h1, h3) * (zp - zt);
		h = fmin(h1, h3);
	}
	*grad = g / sigma;
	*hess = h / (sigma * sigma);
}

double
loss_value(enum loss_method m, double y_true, double y_pred, double sigma,
    const struct czar_params *p)
{
	switch (m) {
	case LOSS_MSE:
		if (isnan(y_true) || isnan(y_pred))
			return NAN;
		return (y_true - y_pred) * (y_true - y_pred);
	case LOSS_ZPTAE:
		return loss_zptae(y_true, y_pred, sigma);
	case LOSS_CZAR:
		return loss_czar(y_true, y_pred, sigma, p);
	}
	return NAN;
}
