/*
 * The chain's next changes, as the submitter meets them (issue 21), each detected at run time:
 * the topics' output arity (GetTopic, v10 Topic field 24) and whether a topic takes labelled
 * values; and whether the chain still knows InputWorkerDataBundle fields 5/6 (bundle
 * signature, pubkey), learnt from a simulation that calls them unknown and remembered per
 * chain id in <state_dir>/chain-<chain id>.json (shown by `alloractl check`).
 */
#ifndef AW_CHAINNEXT_H
#define AW_CHAINNEXT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "labels.h"
#include "rpc.h"

/* A new configuration: forget the arities, read what is remembered of the chain. */
void	 chainnext_config(const struct config *);
/* After the emissions version is known: GetTopic of every topic.  A topic that takes
 * labelled values while its model can only give one value is refused (stopped) now. */
void	 chainnext_precheck(struct rpc *, const struct config *, const char *emissions);
int	 chainnext_arity(uint32_t topic);	/* enum topic_arity */
/* 1 when this chain does not know InputWorkerDataBundle fields 5/6. */
int	 chainnext_no_bundle_signature(void);
/* A simulation's (or CheckTx's) failure log: 1 when it says fields 5/6 are unknown and the
 * fields were still sent (then they are left out from now on: logged once, remembered). */
int	 chainnext_sim_failed(const char *log);
/*
 * A SUBMIT's value text and the topic's arity -> what to sign: one value (*labels NULL) or
 * labelled values ({"<label>": "<decimal>", ...}, canonical).  -1 with err when the chain's
 * rules refuse it (a single value for a multi-output topic, the label rules).
 */
int	 chainnext_values(uint32_t topic, const char *value, struct tx_label **labels,
	    size_t *nlabels, char *err, size_t errlen);
/* The models that can return labelled values: exec: and http(s). */
int	 chainnext_model_labels(const char *model);
/* The file where a chain's features are remembered (malloc'd). */
char	*chainnext_file(const char *state_dir, const char *chain_id);

#endif
