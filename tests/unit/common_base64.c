/* Base64 of common/util.c (RFC 4648 §10 vectors, padding and bad input). */
#include "t.h"
#include "util.h"

static const char *const vec[][2] = {
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

T_TEST(rfc4648_vectors)
{
	size_t i, n;
	unsigned char *out;
	char *e;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		e = base64_encode(vec[i][0], strlen(vec[i][0]));
		T_EQ_STR(e, vec[i][1]);
		free(e);
		T_EQ_INT(base64_decode(vec[i][1], strlen(vec[i][1]), &out, &n), 0);
		T_EQ_INT(n, strlen(vec[i][0]));
		T_EQ_MEM(out, vec[i][0], n);
		free(out);
	}
}

T_TEST(all_bytes_round_trip)
{
	unsigned char in[256], *out;
	size_t n;
	char *e;
	int i;

	for (i = 0; i < 256; i++)
		in[i] = (unsigned char)(255 - i);
	e = base64_encode(in, sizeof(in));
	T_EQ_INT(strlen(e), 344);
	T_EQ_INT(base64_decode(e, strlen(e), &out, &n), 0);
	T_EQ_INT(n, 256);
	T_EQ_MEM(out, in, 256);
	free(out);
	free(e);
	/* trailing white space is allowed (a file's newline) */
	T_EQ_INT(base64_decode("Zm9v\n", 5, &out, &n), 0);
	T_EQ_INT(n, 3);
	free(out);
}

T_TEST(bad_input)
{
	const char *bad[] = { "Zm9", "Zm9v!A==", "Z===", "Zg=a", "=Zg=", "Zm 9v", "Zg==Zg==" };
	unsigned char *out;
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (base64_decode(bad[i], strlen(bad[i]), &out, &n) != -1) {
			T_FAIL("\"%s\" was accepted", bad[i]);
			free(out);
		}
}

int
main(void)
{
	T_RUN(rfc4648_vectors);
	T_RUN(all_bytes_round_trip);
	T_RUN(bad_input);
	return t_done();
}
