/*
 * The chain's decimal text (PROTOCOL.md §1.5): a value is sent as decimal text that must be a
 * fixed point of the chain's "parse with apd, print with Text('G')"; anything else fails the
 * bundle signature after the chain re-encodes it.  Bounds (BoundedExp40Dec): 0 or
 * 1e-40 <= |v| <= 1e40.
 */
#ifndef AW_DEC_H
#define AW_DEC_H

#include <stddef.h>

#define DEC_MAX_TEXT	128

/*
 * Canonicalises decimal text (optional sign, digits with an optional point, optional
 * exponent e/E).  Returns 0 and the canonical text in out, or -1 and a reason in err
 * (not a number, NaN, infinity, too long).  The text is never re-printed through a double:
 * "0.04210" stays "0.04210".
 */
int	 dec_canonical(const char *in, char *out, size_t outlen, char *err, size_t errlen);
/* The same, and the value must be within the chain's bounds: what may be submitted. */
int	 dec_value(const char *in, char *out, size_t outlen, char *err, size_t errlen);

/* Formats a double as canonical text (shortest round-trip digits); -1 for NaN, infinities
 * and values out of bounds. */
int	 dec_from_double(double v, char *out, size_t outlen, char *err, size_t errlen);

#endif
