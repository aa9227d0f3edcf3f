/* The shape of an allo address (see addrshape.h). */
#include <string.h>

#include "addrshape.h"

int
allo_address_shape(const char *a)
{
	static const char cs[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
	size_t i, n;

	if (a == NULL || strncmp(a, "allo1", 5) != 0)
		return 0;
	n = strlen(a);
	if (n < 39 || n > 90)
		return 0;
	for (i = 5; i < n; i++)
		if (strchr(cs, a[i]) == NULL)
			return 0;
	return 1;
}
