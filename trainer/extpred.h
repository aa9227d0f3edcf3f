/*
 * External predictors (model = exec:... or http(s)://...): what they print or answer,
 * turned into the chain's canonical decimal text as text (never through a double), and the
 * URL templates of the official Go worker's API adapter.  Pure functions.
 */
#ifndef AW_EXTPRED_H
#define AW_EXTPRED_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define EXTPRED_MAX_OUT		4096	/* bytes a predictor program may print */
#define EXTPRED_MAX_BODY	65536	/* bytes of a model server's answer */

/*
 * A predictor program's standard output: one decimal number, with blanks and newlines
 * around it at most.  0 with the canonical text in out (within the chain's bounds), -1 with
 * the reason in err.
 */
int	 extpred_parse_output(const char *text, size_t len, char *out, size_t outlen,
	    char *err, size_t errlen);

/*
 * A model server's body: a bare number (0.0421), a quoted number ("0.0421"), a JSON array
 * holding exactly one number or quoted number ([0.0421]), or a JSON object whose member
 * "value", "prediction" or "inference" (first found, in that order) or, failing those, whose
 * only member is a number or a quoted number ({"value": 0.0421}).  Nothing else.
 */
int	 extpred_parse_body(const char *body, size_t len, char *out, size_t outlen,
	    char *err, size_t errlen);

/*
 * Labelled values (issue 21): text that is {"labels": {"<label>": "<decimal>", ...}} ->
 * canonical {"<label>":"<decimal>",...} (labels sorted, values canonical) in out: 1.  0 when
 * the text is not a labelled answer (the single-value parsers then apply), -1 with err.
 */
int	 extpred_parse_labels(const char *text, size_t len, char *out, size_t outlen,
	    char *err, size_t errlen);

/*
 * Expands {Token} (the topic's ticker), {TopicId} and {BlockHeight} (the window's nonce) in
 * a URL template; the values are percent-encoded.  Malloc'd.
 */
char	*extpred_url(const char *tmpl, const char *ticker, uint32_t topic, int64_t nonce);

/*
 * A predictor program's standard error, bounded per run (issue 15): at most
 * EXTPRED_STDERR_LINES lines and EXTPRED_STDERR_BYTES bytes of it are logged; the rest is
 * read (so that the program never blocks on a full pipe), counted and reported once.
 */
#define EXTPRED_STDERR_LINES	100
#define EXTPRED_STDERR_BYTES	16384

struct extpred_stderr {
	size_t	 lines, bytes;			/* logged */
	size_t	 dropped_lines, dropped_bytes;	/* not logged */
	int	 reported;
};

/* 1 when a line of len bytes is to be logged, 0 when it is over the run's budget. */
int	 extpred_stderr_take(struct extpred_stderr *, size_t len);
/* Once, when lines were dropped: 1 with what to log in buf; else 0. */
int	 extpred_stderr_report(struct extpred_stderr *, char *buf, size_t buflen);

/*
 * The first five variables of an external program's environment (predictors and
 * forecasters alike): PATH, HOME and LANG (ours, or a safe default), TOPIC_ID and NONCE,
 * written into env[0..4] (malloc'd).  Returns 5.
 */
size_t	 extpred_env_common(char **env, const struct config_topic *t, int64_t nonce);

#endif
