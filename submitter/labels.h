/*
 * Labelled values (issue 21; emissions v10 InputInference field 7, InputLabeledValue): the
 * chain's rules a submission must meet before it is signed, and the JSON object form
 * {"<label>": "<decimal>", ...} used by `tx build --labels`, the SUBMIT frame and the
 * predictors.  Owns the label rules; pure, no I/O.
 */
#ifndef AW_LABELS_H
#define AW_LABELS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define LABELS_MAX	64	/* labels in one submission */
#define LABEL_MAX_LEN	64	/* bytes of one label */

/* Topic output arity, as GetTopic's Topic.output_arity (v10 topic.proto field 24). */
enum topic_arity {
	ARITY_UNSPECIFIED = 0,	/* v9 chains, or a v10 topic that does not say */
	ARITY_SINGLE = 1,
	ARITY_MULTI = 2,
};

struct tx_label {
	char	*label;
	char	*value;		/* canonical decimal text */
};

const char	*arity_name(int arity);	/* "single", "multi", "unspecified" */

/*
 * {"<label>": "<decimal>", ...} -> labels sorted by label (bytewise; the order they are
 * encoded in).  Values must be JSON strings holding decimals; each is made canonical
 * (dec_value) and must already be so when strict.  Load the JSON with
 * JSON_REJECT_DUPLICATES so that a repeated label is refused.  -1 with err.
 */
int	 labels_from_json(json_t *obj, int strict, struct tx_label **out, size_t *n, char *err,
	    size_t errlen);
/* The chain's rules: at most one label for a single-output topic, none empty or repeated,
 * every value canonical and within the bounds, at most LABELS_MAX.  -1 with err. */
int	 labels_check(const struct tx_label *, size_t n, int arity, uint32_t topic, char *err,
	    size_t errlen);
json_t	*labels_to_json(const struct tx_label *, size_t n);
void	 labels_free(struct tx_label *, size_t n);

#endif
