/*
 * trainer/loss.c: the published CZAR values (research topic 155, α 1, ε 1, τ 0.05), the α 0
 * closed forms of MODEL.md §2.3, ZPTAE by hand, the gradient and Hessian against finite
 * differences, and every loss against an independent implementation (tests/loss_ref.py) on
 * a few thousand random points, z = 0, huge |z| and σ at its guard included.
 */
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t.h"

#include "trainer/loss.h"
#include "synth.h"

#define NEAR(a, b, tol)	(fabs((a) - (b)) <= (tol) * fmax(1, fabs(b)))

T_TEST(method_names)
{
	enum loss_method m;

	T_ASSERT(loss_method_parse("mse", &m) == 0 && m == LOSS_MSE);
	T_ASSERT(loss_method_parse("zptae", &m) == 0 && m == LOSS_ZPTAE);
	T_ASSERT(loss_method_parse("czar", &m) == 0 && m == LOSS_CZAR);
	T_ASSERT(loss_method_parse("CZAR", &m) == -1);
	T_ASSERT(loss_method_parse("", &m) == -1);
	T_ASSERT(loss_method_parse("auto", &m) == -1);
	T_ASSERT(loss_method_parse(NULL, &m) == -1);
	T_EQ_STR(loss_method_name(LOSS_MSE), "mse");
	T_EQ_STR(loss_method_name(LOSS_ZPTAE), "zptae");
	T_EQ_STR(loss_method_name(LOSS_CZAR), "czar");
}

/* The three-region values published with CZAR (y_true 1, σ 1, α 1, ε 1, τ 0.05). */
T_TEST(czar_published)
{
	static const double pred[3] = { -0.5, 0.5, 1.5 };
	static const double loss[3] = { 1.277257108913288, 0.270314256882699,
	    0.260455524262833 };
	static const double grad[3] = { -1.433012701892219, -0.617088652765469,
	    0.172864372318235 };
	struct czar_params p = { 1, 1, 0.05 };
	double g, h;
	int i;

	for (i = 0; i < 3; i++) {
		double l = loss_value(LOSS_CZAR, 1, pred[i], 1, &p);

		loss_czar_grad_hess(1, pred[i], 1, &p, &g, &h);
		if (!NEAR(l, loss[i], 1e-13) || !NEAR(g, grad[i], 1e-13))
			T_FAIL("pred %g: loss %.15f grad %.15f, published %.15f %.15f", pred[i],
			    l, g, loss[i], grad[i]);
		T_CHECK(h > 0);
	}
	/* Scale invariance: the same z-scores with σ 0.02. */
	for (i = 0; i < 3; i++) {
		loss_czar_grad_hess(0.02, 0.02 * pred[i], 0.02, &p, &g, &h);
		T_CHECK(NEAR(loss_czar(0.02, 0.02 * pred[i], 0.02, &p), loss[i], 1e-12));
		T_CHECK(NEAR(g * 0.02, grad[i], 1e-12));
	}
}

/* α 0 (evaluation): loss(0) = atan|z|, right-sign undershoot atan|z| - atan|ẑ|, wrong sign
 * atan|z| + |ẑ|, each plus the softening term, which is the same for one z. */
T_TEST(czar_alpha0_closed_forms)
{
	struct czar_params p = { 0, 1, 0.05 }, hard = { 0, 0, 0 };
	double z, soft;

	for (z = -3; z <= 3; z += 0.25) {
		if (z == 0)
			continue;
		soft = loss_czar(z, 0, 1, &p) - atan(fabs(z));
		T_CHECK(soft >= 0);
		T_CHECK(NEAR(loss_czar(z, 0, 1, &hard), atan(fabs(z)), 1e-14));
		T_CHECK(NEAR(loss_czar(z, z / 3, 1, &p), atan(fabs(z)) - atan(fabs(z / 3)) + soft,
		    1e-12));
		T_CHECK(NEAR(loss_czar(z, -z / 2, 1, &p), atan(fabs(z)) + fabs(z / 2) + soft,
		    1e-12));
		T_CHECK(NEAR(loss_czar(z, z, 1, &p), soft, 1e-12));
	}
	/* The softening term: atan(ε) at z = 0 with τ 0, falling with |z|. */
	T_CHECK(NEAR(loss_czar(0, 0, 1, &(struct czar_params){ 0, 1, 0 }), atan(1), 1e-14));
	T_CHECK(loss_czar(0.1, 0.1, 1, &p) > loss_czar(2, 2, 1, &p));
	/* NULL is the evaluation set. */
	T_CHECK(loss_czar(0.7, 0.2, 1, NULL) == loss_czar(0.7, 0.2, 1, &p));
}

T_TEST(czar_bad_params)
{
	T_CHECK(isnan(loss_czar(1, 1, 1, &(struct czar_params){ 1.5, 1, 0.05 })));
	T_CHECK(isnan(loss_czar(1, 1, 1, &(struct czar_params){ -0.1, 1, 0.05 })));
	T_CHECK(isnan(loss_czar(1, 1, 1, &(struct czar_params){ 1, -1, 0.05 })));
	T_CHECK(isnan(loss_czar(1, 1, 1, &(struct czar_params){ 1, 1, -0.05 })));
	T_CHECK(isnan(loss_czar(1, 1, NAN, NULL)));
	T_CHECK(isnan(loss_value(LOSS_ZPTAE, NAN, 1, 1, NULL)));
	/* σ 0, negative or tiny is the guard, never inf or NaN. */
	T_CHECK(loss_czar(0.1, 0.05, 0, NULL) == loss_czar(0.1, 0.05, LOSS_SIGMA_MIN, NULL));
	T_CHECK(loss_czar(0.1, 0.05, -1, NULL) == loss_czar(0.1, 0.05, LOSS_SIGMA_MIN, NULL));
	T_CHECK(isfinite(loss_czar(0.1, -0.05, 0, NULL)));
	T_CHECK(isfinite(loss_zptae(0.1, -0.05, 0)));
}

/* ZPTAE by hand: z_true 1, z_pred 0: pt(1) = 2^-0.375, plus (0.01·1)^4. */
T_TEST(zptae_by_hand)
{
	T_CHECK(NEAR(loss_value(LOSS_ZPTAE, 0.1, 0, 0.1, NULL), pow(2, -0.375) + 1e-8, 1e-14));
	T_CHECK(NEAR(loss_zptae(-0.1, 0.1, 0.1), 2 * pow(2, -0.375) + 16e-8, 1e-14));
	/* The outlier penalty dominates far out: z_pred 1000, z_true 0. */
	T_CHECK(NEAR(loss_zptae(0, 1000, 1), 1000 / pow(1 + 1e6, 0.375) + 1e4, 1e-12));
	T_CHECK(loss_value(LOSS_MSE, 0.3, 0.1, 99, NULL) == (0.3 - 0.1) * (0.3 - 0.1));
}

/* The gradient is the loss's derivative where the definition says so (wrong sign,
 * undershoot), the overshoot gradient is min(h1, h3)·(zp - zt), and the Hessian is the
 * gradient's derivative everywhere. */
T_TEST(czar_derivatives)
{
	static const double alphas[3] = { 0, 0.5, 1 };
	struct czar_params p;
	double zt, zp, g, h, gp, gm, hh, e = 1e-6, sg = 0.07;
	int i, k, n = 0;

	for (i = 0; i < 3; i++) {
		p = (struct czar_params){ alphas[i], 1, 0.05 };
		for (k = 0; k < 2000; k++) {
			zt = 2 * nrand();
			zp = 2 * nrand();
			if (fabs(zp) < 1e-3 || fabs(fabs(zp) - fabs(zt)) < 1e-3)
				continue;	/* keep away from the region borders */
			loss_czar_grad_hess(zt * sg, zp * sg, sg, &p, &g, &h);
			loss_czar_grad_hess(zt * sg, (zp + e) * sg, sg, &p, &gp, &hh);
			loss_czar_grad_hess(zt * sg, (zp - e) * sg, sg, &p, &gm, &hh);
			if (!NEAR(h * sg * sg, (gp - gm) * sg / (2 * e), 1e-5)) {
				T_FAIL("hessian α %g zt %g zp %g: %g vs %g", p.alpha, zt, zp, h * sg *
				    sg, (gp - gm) * sg / (2 * e));
				return;
			}
			T_CHECK(h >= 0);
			if ((zt < 0 ? -1 : 1) * zp <= fabs(zt)) {
				double fd = (loss_czar(zt * sg, (zp + e) * sg, sg, &p) -
				    loss_czar(zt * sg, (zp - e) * sg, sg, &p)) / (2 * e);

				if (!NEAR(g * sg, fd, 1e-5)) {
					T_FAIL("gradient α %g zt %g zp %g: %g vs %g", p.alpha, zt,
					    zp, g * sg, fd);
					return;
				}
			}
			n++;
		}
	}
	T_ASSERT(n > 5000);
}

static void
emit(FILE *f, enum loss_method m, double y, double p, double sg, const struct czar_params *c)
{
	double g = NAN, h = NAN;

	if (m == LOSS_CZAR)
		loss_czar_grad_hess(y, p, sg, c, &g, &h);
	fprintf(f, "%s %.17g %.17g %.17g %.17g %.17g %.17g %.17g %.17g %.17g\n",
	    loss_method_name(m), y, p, sg, c->alpha, c->epsilon, c->tau,
	    loss_value(m, y, p, sg, c), g, h);
}

/* Every loss against tests/loss_ref.py on random and edge points. */
T_TEST(against_python_reference)
{
	static const double sigmas[] = { 0.1, 0.03, 1, LOSS_SIGMA_MIN, 0, 1e-15, -0.2 };
	static const double alphas[] = { 0, 1, 0.3 };
	static const double edges[] = { 0, -0.0, 1e-12, -1e-12, 1e3, -1e3, 1e8, -1e8, 5, -5 };
	char path[] = "/tmp/aw-loss-XXXXXX", line[512];
	struct czar_params c;
	FILE *f, *pp;
	size_t i, j, k, n = 0;
	double y, p, sg;
	int fd, st, checked = 0, pfd[2];
	pid_t pid;

	T_ASSERT((fd = mkstemp(path)) != -1);
	T_ASSERT((f = fdopen(fd, "w")) != NULL);
	for (i = 0; i < 3000; i++) {
		sg = sigmas[i % (sizeof(sigmas) / sizeof(sigmas[0]))];
		if (sg == 0.1)
			sg = 0.01 + 0.2 * urand();
		y = 0.1 * nrand();
		p = 0.1 * nrand();
		if (i % 11 == 0)
			y = 0;
		if (i % 13 == 0)
			p = 0;
		if (i % 17 == 0)
			y = 1e4 * nrand();	/* huge |z| */
		c.alpha = i % 4 == 3 ? urand() : alphas[i % 3];
		c.epsilon = i % 5 == 4 ? 0 : i % 5 == 3 ? 3 * urand() : 1;
		c.tau = i % 7 == 6 ? 0 : i % 7 == 5 ? urand() : 0.05;
		for (k = 0; k < 3; k++, n++)
			emit(f, (enum loss_method)k, y, p, sg, &c);
	}
	c = (struct czar_params){ 0, 1, 0.05 };
	for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		for (j = 0; j < sizeof(edges) / sizeof(edges[0]); j++)
			for (k = 0; k < 3; k++, n++) {
				emit(f, (enum loss_method)k, edges[i], edges[j], 1, &c);
				emit(f, (enum loss_method)k, edges[i] * 1e-3, edges[j] * 1e-3,
				    LOSS_SIGMA_MIN, &(struct czar_params){ 1, 1, 0.05 });
				n++;
			}
	T_ASSERT(fclose(f) == 0);
	/* python3 itself, no shell between (make check VALGRIND=1 traces the child). */
	T_ASSERT(pipe(pfd) == 0);
	T_ASSERT((pid = fork()) != -1);
	if (pid == 0) {
		int in = open(path, O_RDONLY);

		if (in == -1 || dup2(in, 0) == -1 || dup2(pfd[1], 1) == -1)
			_exit(127);
		close(pfd[0]);
		/* Debian's python3 (scripts/deps.sh), not a shell wrapper found first on PATH */
		if (access("/usr/bin/python3", X_OK) == 0)
			execl("/usr/bin/python3", "python3", "tests/loss_ref.py", (char *)NULL);
		execlp("python3", "python3", "tests/loss_ref.py", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	T_ASSERT((pp = fdopen(pfd[0], "r")) != NULL);
	while (fgets(line, sizeof(line), pp) != NULL) {
		if (sscanf(line, "checked %d", &checked) != 1)
			fprintf(stderr, "# %s", line);
	}
	fclose(pp);
	while (waitpid(pid, &st, 0) == -1)
		;
	st = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	unlink(path);
	T_ASSERT(st == 0);
	T_EQ_INT(checked, n);
	T_ASSERT(n > 9000);
}

int
main(void)
{
	rng_s = 0x9e3779b97f4a7c15ULL;	/* this program's stream (synth.h) */
	T_RUN(method_names);
	T_RUN(czar_published);
	T_RUN(czar_alpha0_closed_forms);
	T_RUN(czar_bad_params);
	T_RUN(zptae_by_hand);
	T_RUN(czar_derivatives);
	T_RUN(against_python_reference);
	return t_done();
}
