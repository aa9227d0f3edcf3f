/* devforecast.c's rules and keeping as a delivery rule of devchain.c (DEVNET_DELIVER,
 * devhooks.h); apart so that the rules stay free of the devnet's state (unit-tested alone). */
#include <jansson.h>

#include "devforecast.h"
#include "devhooks.h"
#include "devnet_int.h"

/* The rules and the keeping as a delivery rule of devchain.c (DEVNET_DELIVER, devhooks.h). */
static int
devforecast_rule(int stage, json_t *dec, json_t *msg, int simulate, long *code, char **log,
    const char **codespace)
{
	if (stage == DEVNET_VALIDATE)
		return devforecast_check(msg, json_string_value(json_object_get(dec,
		    "signer_address")), code, log, codespace);
	if (stage == DEVNET_ACCEPTED)
		devforecast_accept(msg, D.height);
	return 0;
}
DEVNET_DELIVER(devforecast_rule)
