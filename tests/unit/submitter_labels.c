/* Labelled values (submitter/labels.c, issue 21): the JSON object form and the chain's label
 * rules; and the trainer-independent parts of chainnext (the file name). */
#include <string.h>

#include "submitter/chainnext.h"
#include "submitter/labels.h"
#include "t.h"

static int
parse(const char *text, int strict, struct tx_label **l, size_t *n, char *err, size_t errlen)
{
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	int rc;

	if (j == NULL)
		return -2;
	rc = labels_from_json(j, strict, l, n, err, errlen);
	json_decref(j);
	return rc;
}

T_TEST(sorted_and_canonical)
{
	struct tx_label *l;
	size_t n;
	char err[256];

	T_ASSERT(parse("{\"b\": \"0.50\", \"a\": \"-1.5e-07\"}", 0, &l, &n, err, sizeof(err)) == 0);
	T_EQ_INT(n, 2);
	T_EQ_STR(l[0].label, "a");
	T_EQ_STR(l[0].value, "-1.5E-7");
	T_EQ_STR(l[1].label, "b");
	T_EQ_STR(l[1].value, "0.50");
	T_ASSERT(labels_check(l, n, ARITY_MULTI, 68, err, sizeof(err)) == 0);
	labels_free(l, n);
	/* strict: the text must already be canonical */
	T_ASSERT(parse("{\"a\": \"-1.5e-07\"}", 1, &l, &n, err, sizeof(err)) == -1);
	T_ASSERT(strstr(err, "canonical") != NULL);
}

T_TEST(rules)
{
	struct tx_label two[2] = { { (char *)"a", (char *)"1" }, { (char *)"b", (char *)"2" } };
	struct tx_label dup[2] = { { (char *)"a", (char *)"1" }, { (char *)"a", (char *)"2" } };
	struct tx_label empty[1] = { { (char *)"", (char *)"1" } };
	struct tx_label blank[1] = { { (char *)"a b", (char *)"1" } };
	struct tx_label big[1] = { { (char *)"a", (char *)"1e41" } };
	struct tx_label noncanon[1] = { { (char *)"a", (char *)"1e-07" } };
	char err[256];

	T_ASSERT(labels_check(two, 2, ARITY_SINGLE, 67, err, sizeof(err)) == -1);
	T_ASSERT(strstr(err, "topic 67") != NULL && strstr(err, "at most one") != NULL);
	T_ASSERT(labels_check(two, 2, ARITY_UNSPECIFIED, 67, err, sizeof(err)) == -1);
	T_ASSERT(labels_check(two, 1, ARITY_SINGLE, 67, err, sizeof(err)) == 0);
	T_ASSERT(labels_check(dup, 2, ARITY_MULTI, 68, err, sizeof(err)) == -1);
	T_ASSERT(strstr(err, "twice") != NULL);
	T_ASSERT(labels_check(empty, 1, ARITY_MULTI, 68, err, sizeof(err)) == -1);
	T_ASSERT(labels_check(blank, 1, ARITY_MULTI, 68, err, sizeof(err)) == -1);
	T_ASSERT(labels_check(big, 1, ARITY_MULTI, 68, err, sizeof(err)) == -1);
	T_ASSERT(labels_check(noncanon, 1, ARITY_MULTI, 68, err, sizeof(err)) == -1);
}

T_TEST(json_shapes_refused)
{
	struct tx_label *l;
	size_t n;
	char err[256];

	T_EQ_INT(parse("{\"a\": \"1\", \"a\": \"2\"}", 0, &l, &n, err, sizeof(err)), -2);
	T_ASSERT(parse("{\"a\": 1.5}", 0, &l, &n, err, sizeof(err)) == -1);
	T_ASSERT(strstr(err, "JSON string") != NULL);
	T_ASSERT(parse("[\"1\"]", 0, &l, &n, err, sizeof(err)) == -1);
	T_ASSERT(parse("{\"a\": \"nan\"}", 0, &l, &n, err, sizeof(err)) == -1);
}

T_TEST(chain_file_name_is_safe)
{
	char *f = chainnext_file("/var/lib/w", "allora-testnet-1");

	T_EQ_STR(f, "/var/lib/w/chain-allora-testnet-1.json");
	free(f);
	f = chainnext_file("/s", "../x/y");
	T_EQ_STR(f, "/s/chain-.._x_y.json");
	free(f);
}

int
main(void)
{
	T_RUN(sorted_and_canonical);
	T_RUN(rules);
	T_RUN(json_shapes_refused);
	T_RUN(chain_file_name_is_safe);
	return t_done();
}
