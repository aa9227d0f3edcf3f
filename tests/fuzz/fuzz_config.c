/*
 * libFuzzer target: the configuration parser (INI with the table of keys, and the .env
 * reader).  The first byte chooses which; a configuration that loads is also sent through
 * the supervisor-to-child JSON and back, as the daemon does.
 */
#include <sys/mman.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c, *c2;
	char path[64], err[2048];
	json_t *j;
	int fd;

	if (size < 1)
		return 0;
	fd = memfd_create("fuzz.conf", 0);
	if (fd == -1)
		return 0;
	if (size > 1 && write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	clearenv();
	if (data[0] & 1) {
		(void)config_load_dotenv(path, err, sizeof(err));
		clearenv();
	} else {
		c = config_load(path, NULL, err, sizeof(err));
		if (c != NULL) {
			j = config_to_json(c);
			c2 = config_from_json(j, err, sizeof(err));
			if (c2 == NULL) {
				/* What loaded must reach the children. */
				fprintf(stderr, "config_from_json: %s\n", err);
				abort();
			}
			config_free(c2);
			json_decref(j);
			config_free(c);
		}
	}
	close(fd);
	return 0;
}
