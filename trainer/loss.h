/*
 * The network's losses for returns topics, in one place: MSE, ZPTAE (with the outlier
 * penalty of research topic 120) and CZAR (research topic 155), with CZAR's gradient and
 * Hessian for training.  Validation, the backtest, training, `alloractl loss` and the
 * history/shadow scoring all call these; nothing else computes a network loss.
 *
 * Returns are z-scored around 0 by sigma, the trailing realised standard deviation of the
 * target (MODEL.md §2.3).  A sigma below LOSS_SIGMA_MIN (zero, negative, or tiny) is used
 * as LOSS_SIGMA_MIN: the guard keeps z finite; a NaN sigma gives NaN.
 */
#ifndef AW_LOSS_H
#define AW_LOSS_H

enum loss_method { LOSS_MSE, LOSS_ZPTAE, LOSS_CZAR };

#define LOSS_SIGMA_MIN		1e-9

/* ZPTAE constants (research topic 120): pt(x) = x / (1 + |x|^β)^((1 - α)/β). */
#define ZPTAE_ALPHA		0.25
#define ZPTAE_BETA		2.0
#define ZPTAE_GAMMA		4.0	/* exponent of the outlier penalty */
#define ZPTAE_PENALTY		0.01	/* (penalty · |z_pred - z_true|)^γ */

/* CZAR's α for each use (issue 17): the command, evaluation (validation, backtest,
 * history, shadow; a topic's czar_alpha overrides) and training. */
#define CZAR_ALPHA_CMD		1.0
#define CZAR_ALPHA_EVAL		0.0
#define CZAR_ALPHA_TRAIN	1.0
#define CZAR_EPSILON		1.0
#define CZAR_TAU		0.05
/* Smallest Hessian handed to a Newton step (in z units, before the 1/σ² scaling). */
#define CZAR_HESS_FLOOR		1e-6

/* α in [0, 1], ε >= 0, τ >= 0 (τ 0: the hard softening norm). */
struct czar_params {
	double	 alpha, epsilon, tau;
};

/* "mse" | "zptae" | "czar" (exact, lower case): 0, or -1 for anything else. */
int		 loss_method_parse(const char *, enum loss_method *);
const char	*loss_method_name(enum loss_method);

/*
 * The loss of y_pred for y_true.  MSE is (y_true - y_pred)² and ignores sigma and p;
 * ZPTAE and CZAR are computed on z = y / max(sigma, LOSS_SIGMA_MIN).  p is CZAR's
 * parameters (NULL: α CZAR_ALPHA_EVAL, ε CZAR_EPSILON, τ CZAR_TAU); NaN when p is out of
 * range or an input is NaN.
 */
double		 loss_value(enum loss_method, double y_true, double y_pred, double sigma,
		    const struct czar_params *);

/* The single losses (the same as loss_value). */
double		 loss_zptae(double y_true, double y_pred, double sigma);
double		 loss_czar(double y_true, double y_pred, double sigma,
		    const struct czar_params *);

/*
 * CZAR's training gradient and Hessian with respect to y_pred (the z-space values divided
 * by σ and σ²).  In the wrong-sign and undershoot regions the gradient is the loss's
 * derivative; in the overshoot region it is the curvature term min(h3, h1)·(z_pred - z_true)
 * alone, as the published reference values define it.  The Hessian is the derivative of that
 * gradient (≥ 0), not floored: floor it with CZAR_HESS_FLOOR / σ² for a Newton step.
 * Only p->alpha is used (ε and τ shape a term that does not depend on y_pred).
 */
void		 loss_czar_grad_hess(double y_true, double y_pred, double sigma,
		    const struct czar_params *, double *grad, double *hess);

#endif
