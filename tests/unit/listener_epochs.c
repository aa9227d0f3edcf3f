/* Wall-clock windows (listener/epochs.c, issue 21): the last safe height before a close time. */
#include "listener/epochs.h"
#include "t.h"

T_TEST(last_height)
{
	/* block 100 at t=1000 s, 250 ms blocks, close at 1020 s: margin 1.25 s -> 18.75 s
	 * left -> 75 blocks */
	T_EQ_INT(epochs_last_height(100, 1000.0, 1020.0, 250), 175);
	/* 5 s blocks, 60 s left: margin 6 s -> 54 s -> 10 blocks */
	T_EQ_INT(epochs_last_height(100, 1000.0, 1060.0, 5000), 110);
	/* too close to the close: no block is safe, the height goes below the anchor */
	T_ASSERT(epochs_last_height(100, 1000.0, 1000.5, 250) < 100);
	/* unknown interval */
	T_EQ_INT(epochs_last_height(100, 1000.0, 1020.0, 0), -1);
	T_EQ_INT(epochs_last_height(0, 1000.0, 1020.0, 250), -1);
}

int
main(void)
{
	T_RUN(last_height);
	return t_done();
}
