/* libFuzzer target: the frame decoder, fed the input in pieces of varying size. */
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_decoder d;
	struct frame f;
	char err[256];
	size_t off = 0, step;
	int r;

	frame_decoder_init(&d);
	while (off < size) {
		/* The first byte of each piece chooses the size of the next one. */
		step = 1 + data[off] % 64;
		if (step > size - off)
			step = size - off;
		frame_decoder_feed(&d, data + off, step);
		off += step;
		while ((r = frame_decoder_next(&d, &f, err, sizeof(err))) == 1) {
			(void)frame_str(&f, "role");
			(void)frame_int(&f, "nonce", 0);
			frame_free(&f);
		}
		if (r == -1)
			break;
	}
	(void)frame_decoder_eof(&d, err, sizeof(err));
	frame_decoder_free(&d);
	return 0;
}
