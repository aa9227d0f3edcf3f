/* trainer/forecast: the built-in forecaster against a hand computation, and every rule an
 * external forecaster's answer is refused by. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trainer/forecast.h"
#include "util.h"
#include "t.h"

/* Valid bech32 allo addresses (test data). */
#define A "allo19rl4cm2hmr8afy4kldpxz3fka4jguq0ajnh7gv"
#define B "allo1avgyh77ycn997ja45q5q8ss8y9mr424jwfcszc"
#define C "allo1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqas6usy"
#define D "allo1qyqszqgpqyqszqgpqyqszqgpqyqszqgpjnp7du"

static json_t *
data(int allow_negative)
{
	/* Newest first: nonce 130, 120 and 100 (epoch 10: ages 0, 1, 3). */
	return json_pack("{s:I, s:b, s:[s, s, s, s], s:[{s:I, s:[{s:s, s:s}, {s:s, s:s}]},"
	    " {s:I, s:[{s:s, s:s}, {s:s, s:s}]}, {s:I, s:[{s:s, s:s}, {s:s, s:s}]}]}",
	    "epoch_length", (json_int_t)10, "allow_negative", allow_negative,
	    "inferers", A, B, C, D,
	    "losses",
	    "nonce", (json_int_t)130, "values", "inferer", A, "loss", "0.01", "inferer", B,
	    "loss", "0.1",
	    "nonce", (json_int_t)120, "values", "inferer", A, "loss", "0.03", "inferer", C,
	    "loss", "0.5",
	    "nonce", (json_int_t)100, "values", "inferer", A, "loss", "0.07", "inferer", B,
	    "loss", "0.3");
}

static double
value_of(json_t *arr, const char *inferer)
{
	size_t i;
	json_t *x;
	double v;

	json_array_foreach(arr, i, x)
		if (strcmp(json_string_value(json_object_get(x, "inferer")), inferer) == 0 &&
		    parse_double(json_string_value(json_object_get(x, "value")), &v) == 0)
			return v;
	return NAN;
}

T_TEST(builtin_ewma_log10_by_hand)
{
	json_t *d = data(0), *e;
	char r[32], det[256];

	e = fcast_builtin(d, r, sizeof(r), det, sizeof(det));
	T_ASSERT(e != NULL);
	/* A: (0.01·1 + 0.03·0.5 + 0.07·0.125) / 1.625 = 0.0207692…, log10 -> -1.68257958… */
	T_CHECK(fabs(value_of(e, A) - -1.6825795881478494) < 1e-12);
	/* B: (0.1·1 + 0.3·0.125) / 1.125 = 0.12222…, log10 -> -0.91284982… */
	T_CHECK(fabs(value_of(e, B) - -0.9128498242810998) < 1e-12);
	/* C: one loss 0.5 (its weight does not matter) -> log10 0.5 */
	T_CHECK(fabs(value_of(e, C) - -0.3010299956639812) < 1e-12);
	/* D has no loss: not forecast. */
	T_EQ_INT(json_array_size(e), 3);
	json_decref(e);
	json_decref(d);
}

T_TEST(builtin_allow_negative_is_the_mean_itself)
{
	json_t *d = data(1), *e;
	char r[32], det[256];

	e = fcast_builtin(d, r, sizeof(r), det, sizeof(det));
	T_ASSERT(e != NULL);
	T_CHECK(fabs(value_of(e, A) - 0.02076923076923077) < 1e-15);
	T_CHECK(fabs(value_of(e, B) - 0.12222222222222223) < 1e-15);
	json_decref(e);
	json_decref(d);
}

T_TEST(builtin_without_losses_is_no_data)
{
	json_t *d = json_pack("{s:I, s:b, s:[s], s:[]}", "epoch_length", (json_int_t)10,
	    "allow_negative", 0, "inferers", A, "losses");
	char r[32], det[256];

	T_ASSERT(fcast_builtin(d, r, sizeof(r), det, sizeof(det)) == NULL);
	T_EQ_STR(r, "no_data");
	json_decref(d);
}

static const char *
refused(const char *answer)
{
	static char r[32];
	char det[256];
	json_t *d = data(0), *e = fcast_check(answer, strlen(answer), d, r, sizeof(r), det,
	    sizeof(det));

	json_decref(d);
	if (e != NULL) {
		json_decref(e);
		return "accepted";
	}
	return r;
}

T_TEST(external_answer_accepted_and_canonical)
{
	const char *ans = "[{\"inferer\": \"" A "\", \"value\": \"-1.75E-1\"}, {\"inferer\": \"" B
	    "\", \"value\": \"0.0420\"}]";
	json_t *d = data(0), *e;
	char r[32], det[256];

	e = fcast_check(ans, strlen(ans), d, r, sizeof(r), det, sizeof(det));
	T_ASSERT(e != NULL);
	T_EQ_INT(json_array_size(e), 2);
	T_EQ_STR(json_string_value(json_object_get(json_array_get(e, 0), "value")), "-0.175");
	T_EQ_STR(json_string_value(json_object_get(json_array_get(e, 0), "inferer")), A);
	json_decref(e);
	json_decref(d);
}

T_TEST(external_answer_refusals)
{
	T_EQ_STR(refused("this is not json"), "garbage");
	T_EQ_STR(refused("{\"inferer\": \"" A "\"}"), "garbage");
	T_EQ_STR(refused("[{\"inferer\": \"" A "\", \"value\": 0.5}]"), "garbage");
	T_EQ_STR(refused("[{\"inferer\": \"" A "\", \"value\": \"abc\"}]"), "garbage");
	T_EQ_STR(refused("[{\"inferer\": \"" A "\", \"value\": \"1e99\"}]"), "garbage");
	T_EQ_STR(refused("[{\"inferer\": \"" A "\", \"value\": \"1\", \"x\": 1}]"), "garbage");
	T_EQ_STR(refused("[]"), "empty");
	T_EQ_STR(refused("[{\"inferer\": \"" A "\", \"value\": \"1\"}, {\"inferer\": \"" A
	    "\", \"value\": \"2\"}]"), "duplicate");
	T_EQ_STR(refused("[{\"inferer\": \"allo1devnetpeer01\", \"value\": \"1\"}]"),
	    "invalid_address");
	T_EQ_STR(refused("[{\"inferer\": \"cosmos19rl4cm2hmr8afy4kldpxz3fka4jguq0a3vute5\", "
	    "\"value\": \"1\"}]"), "invalid_address");
	/* A well-formed address outside the active set (our own is never in it). */
	T_EQ_STR(refused("[{\"inferer\": \"allo1zg69v7ys40x77y352eufp27daufrg4ncnjqz7q\", "
	    "\"value\": \"1\"}]"), "unknown_inferer");
	T_EQ_STR(refused("[{\"inferer\": \"" A "\", \"value\": \"1\"}, {\"inferer\": \"" B
	    "\", \"value\": \"1\"}, {\"inferer\": \"" C "\", \"value\": \"1\"}, {\"inferer\": \"" D
	    "\", \"value\": \"1\"}, {\"inferer\": \"" A "\", \"value\": \"1\"}]"), "too_many");
}

T_TEST(input_document)
{
	json_t *d = data(0), *in = fcast_input(d, 67, 1234);

	T_EQ_INT(json_integer_value(json_object_get(in, "topic")), 67);
	T_EQ_INT(json_integer_value(json_object_get(in, "nonce")), 1234);
	T_EQ_INT(json_array_size(json_object_get(in, "inferers")), 4);
	T_EQ_INT(json_array_size(json_object_get(in, "losses")), 3);
	T_CHECK(json_is_false(json_object_get(in, "allow_negative")));
	json_decref(in);
	json_decref(d);
}

int
main(void)
{
	T_RUN(builtin_ewma_log10_by_hand);
	T_RUN(builtin_allow_negative_is_the_mean_itself);
	T_RUN(builtin_without_losses_is_no_data);
	T_RUN(external_answer_accepted_and_canonical);
	T_RUN(external_answer_refusals);
	T_RUN(input_document);
	return t_done();
}
