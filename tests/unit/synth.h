/*
 * Deterministic random numbers and generated price series for the trainer's unit tests
 * (header-only, like t.h; include it in one file per program): xorshift64* uniforms,
 * Box-Muller normals, and synth() bars.
 */
#ifndef AW_TEST_SYNTH_H
#define AW_TEST_SYNTH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "trainer/model.h"
#include "util.h"

static uint64_t rng_s = 88172645463325252ULL;

static inline double
urand(void)
{
	rng_s ^= rng_s >> 12;
	rng_s ^= rng_s << 25;
	rng_s ^= rng_s >> 27;
	return (double)((rng_s * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static inline double
nrand(void)
{
	double u = urand(), v = urand();

	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/*
 * n hourly bars: ln c = amp sin(2 pi t / period) + a random walk of hourly sd `noise`
 * (amp 0: a pure random walk, where predicting 0 is optimal).
 */
static inline void
synth(struct bars *b, size_t n, double amp, double period, double noise, uint64_t seed)
{
	double rw = 0;
	size_t i;

	rng_s = seed;
	memset(b, 0, sizeof(*b));
	b->t = xcalloc(n, sizeof(*b->t));
	b->close = xcalloc(n, sizeof(*b->close));
	b->n = n;
	for (i = 0; i < n; i++) {
		rw += noise * nrand();
		b->t[i] = 1600000000 + (int64_t)i * 3600;
		b->close[i] = 20000 * exp(rw + amp * sin(2 * M_PI * (double)i / period));
	}
}

#endif
