/*
 * Development fallback for an alloractl subcommand whose code is not in the tree yet; the
 * real definition (a strong symbol in its own folder) replaces it at link time.
 */
#include <stdio.h>

#include "ctl.h"

__attribute__((weak)) int
ctl_backtest(const struct ctl_opts *o, int argc, char **argv)
{
	fprintf(stderr, "alloractl: \"backtest\" is not in this build yet\n");
	return 1;
}
