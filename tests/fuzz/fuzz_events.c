/* libFuzzer target: the NewBlockEvents parser (listener/events.c) on arbitrary text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "listener/events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct window_ev ev[8];
	char err[256];
	int64_t height;
	char *text;
	int n, i;

	/* The parser receives websocket text that is not NUL-terminated: copy to an exact size. */
	text = malloc(size ? size : 1);
	if (text == NULL)
		return 0;
	if (size)
		memcpy(text, data, size);
	n = events_parse(text, size, ev, 8, &height, err, sizeof(err));
	if (n > 8)
		abort();
	for (i = 0; i < n; i++)
		if (ev[i].nonce < 0 || ev[i].window_end < -1)
			abort();
	if (n < 0 && err[0] == '\0')
		abort();
	free(text);
	return 0;
}
