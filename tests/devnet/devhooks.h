/*
 * The devnet's extension points (devquery.c asks the query hooks, devchain.c the delivery
 * hooks): a new file adds an abci_query path or a delivery rule by including this header
 * alone, with no edit of those files.
 */
#ifndef AW_DEVHOOKS_H
#define AW_DEVHOOKS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/*
 * Extending the devnet from another file, with no edit of devquery.c or devchain.c: at
 * file scope,
 *	DEVNET_QUERY(fn)	an abci_query path:
 *	    int fn(const char *path, const uint8_t *data, size_t len, long *code, char **log,
 *		uint8_t **val, size_t *vlen);
 *	    0 with code, log (caller frees; NULL for none) and the packed value (caller frees;
 *	    NULL for none); -1 when the path is not its.  Asked before the built-in paths, in
 *	    the order the files are linked (by name); the query is recorded ("kind":"query").
 *	DEVNET_DELIVER(fn)	a rule for a payload message (InsertWorkerPayload):
 *	    int fn(int stage, json_t *dec, json_t *msg, int simulate, long *code, char **log,
 *		const char **codespace);
 *	    dec is tx_decode's JSON, msg its message.  DEVNET_VALIDATE (delivery and Simulate):
 *	    asked after the whitelist, before the bundle signature and the inference's checks
 *	    (the bundle's Validate), in the order the files are linked (devnext.c's label rules
 *	    are one); the first hook to return 1, with code, log (caller frees) and codespace,
 *	    refuses the message.  DEVNET_ACCEPTED: the message was accepted at delivery (never
 *	    in Simulate; rewards.c's loop is one); what it returns or sets is ignored.
 * Rules of different files should refuse disjoint things: their order is the link order.
 */
enum { DEVNET_VALIDATE, DEVNET_ACCEPTED };
typedef int	devnet_query_fn(const char *, const uint8_t *, size_t, long *, char **,
		    uint8_t **, size_t *);
typedef int	devnet_deliver_fn(int, json_t *, json_t *, int, long *, char **,
		    const char **);
void	 devnet_query_hook(devnet_query_fn *);
void	 devnet_deliver_hook(devnet_deliver_fn *);
/* devchain.c: the deliver hooks of a stage; 1 when one refused (VALIDATE). */
int	 devnet_deliver_run(int stage, json_t *dec, json_t *msg, int simulate, long *code,
	    char **log, const char **codespace);

#define DEVNET_QUERY(fn)						\
static void __attribute__((constructor))				\
fn##_devnet_query(void)							\
{									\
	devnet_query_hook(fn);						\
}
#define DEVNET_DELIVER(fn)						\
static void __attribute__((constructor))				\
fn##_devnet_deliver(void)						\
{									\
	devnet_deliver_hook(fn);					\
}

#endif
