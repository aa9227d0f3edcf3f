/*
 * What the backtest's and the shadow scores' block bootstraps share: the generator that
 * draws the blocks' starts (xorshift64*, deterministic from a seed) and the order of
 * doubles the percentiles are read from.  Pure; no model code (alloractl links it).
 */
#ifndef AW_RESAMPLE_H
#define AW_RESAMPLE_H

#include <stdint.h>

uint64_t resample_rng(uint64_t *state);
int	 resample_cmp_dbl(const void *, const void *);

#endif
