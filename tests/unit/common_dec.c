/* The decimal text rule against the apd vectors (tests/vectors/dec-canonical.json). */
#include <jansson.h>
#include <math.h>

#include "dec.h"
#include "t.h"

T_TEST(every_vector)
{
	json_error_t je;
	json_t *d = json_load_file("tests/vectors/dec-canonical.json", 0, &je), *v;
	size_t i, n = 0;
	char out[DEC_MAX_TEXT + 1], err[128];

	T_ASSERT(d != NULL);
	json_array_foreach(json_object_get(d, "vectors"), i, v) {
		const char *in = json_string_value(json_object_get(v, "input"));
		const char *want = json_string_value(json_object_get(v, "output"));

		if (dec_canonical(in, out, sizeof(out), err, sizeof(err)) != 0) {
			T_FAIL("%s: refused: %s (want %s)", in, err, want);
			continue;
		}
		if (strcmp(out, want) != 0)
			T_FAIL("%s -> %s, want %s", in, out, want);
		n++;
	}
	T_ASSERT(n >= 100);
	json_decref(d);
}

T_TEST(refused)
{
	static const char *bad[] = { "NaN", "nan", "inf", "-Infinity", "1e41", "-2e40", "1e-41",
	    "abc", "", "1.2.3", "1e", "e5", "--1", "1e+", "0x10", " 1", "1 ", "." };
	char out[DEC_MAX_TEXT + 1], err[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (dec_value(bad[i], out, sizeof(out), err, sizeof(err)) == 0)
			T_FAIL("\"%s\" accepted as %s", bad[i], out);
	T_EQ_INT(dec_value("1e40", out, sizeof(out), err, sizeof(err)), 0);
	T_EQ_INT(dec_value("-1e-40", out, sizeof(out), err, sizeof(err)), 0);
	T_EQ_INT(dec_value("0", out, sizeof(out), err, sizeof(err)), 0);
	T_EQ_INT(dec_value("1.0000001e40", out, sizeof(out), err, sizeof(err)), -1);
	T_EQ_INT(dec_value("1e41", out, sizeof(out), err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "bounds") != NULL);
	T_EQ_INT(dec_canonical("1e41", out, sizeof(out), err, sizeof(err)), 0);
	/* A zero with a large negative exponent (found by fuzz_txdecode): refused, no overrun. */
	T_EQ_INT(dec_value("0E-2000", out, sizeof(out), err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "too long") != NULL);
	T_EQ_INT(dec_canonical("-0e-1999", out, sizeof(out), err, sizeof(err)), -1);
}

T_TEST(text_kept_as_text)
{
	char out[DEC_MAX_TEXT + 1], err[128];

	T_EQ_INT(dec_canonical("0.04210", out, sizeof(out), err, sizeof(err)), 0);
	T_EQ_STR(out, "0.04210");
	T_EQ_INT(dec_canonical("-1.5e-07", out, sizeof(out), err, sizeof(err)), 0);
	T_EQ_STR(out, "-1.5E-7");
}

T_TEST(from_double)
{
	char out[DEC_MAX_TEXT + 1], err[128];

	T_EQ_INT(dec_from_double(-0.0123456789, out, sizeof(out), err, sizeof(err)), 0);
	T_EQ_STR(out, "-0.0123456789");
	T_EQ_INT(dec_from_double(1.2345e-7, out, sizeof(out), err, sizeof(err)), 0);
	T_EQ_STR(out, "1.2345E-7");
	T_EQ_INT(dec_from_double(0.0, out, sizeof(out), err, sizeof(err)), 0);
	T_EQ_STR(out, "0");
	T_EQ_INT(dec_from_double(NAN, out, sizeof(out), err, sizeof(err)), -1);
	T_EQ_INT(dec_from_double(INFINITY, out, sizeof(out), err, sizeof(err)), -1);
	T_EQ_INT(dec_from_double(1e41, out, sizeof(out), err, sizeof(err)), -1);
}

int
main(void)
{
	T_RUN(every_vector);
	T_RUN(refused);
	T_RUN(text_kept_as_text);
	T_RUN(from_double);
	return t_done();
}
