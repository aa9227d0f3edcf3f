/* The submission ledger: append, fsync'd records, replay after a crash (torn last line). */
#include <fcntl.h>

#include "supervisor/ledger.h"
#include "t.h"
#include "util.h"

static char dir[] = "/tmp/aw-ledger-XXXXXX";

T_TEST(append_and_replay)
{
	char err[256];
	struct ledger *l = ledger_open(dir, 67, err, sizeof(err));
	json_t *all, *r;
	long bad;

	T_ASSERT(l != NULL);
	T_EQ_INT(ledger_append(l, 100, "seen", json_pack("{s:s}", "source", "ws"), 0), 0);
	T_EQ_INT(ledger_append(l, 100, "predicted", json_pack("{s:s, s:s}", "value", "0.01",
	    "source", "cache"), 0), 0);
	T_EQ_INT(ledger_append(l, 100, "signed", json_pack("{s:i, s:s, s:s}", "sequence", 7,
	    "txhash", "AA", "tx", "CgE="), 1), 0);
	T_EQ_INT(ledger_append(l, 100, "signed", json_pack("{s:i, s:s, s:s}", "sequence", 8,
	    "txhash", "BB", "tx", "CgI="), 1), 0);
	T_EQ_INT(ledger_append(l, 101, "seen", NULL, 0), 0);
	T_EQ_INT(ledger_append(l, 101, "missed", json_pack("{s:s}", "reason", "window_closed"), 0), 0);
	all = ledger_replay(l, &bad);
	T_EQ_INT(bad, 0);
	r = json_object_get(all, "100");
	T_ASSERT(r != NULL);
	T_EQ_STR(json_string_value(json_object_get(r, "state")), "signed");
	T_EQ_STR(json_string_value(json_object_get(r, "value")), "0.01");
	T_EQ_STR(json_string_value(json_object_get(r, "txhash")), "BB");
	T_EQ_INT(json_integer_value(json_object_get(r, "sequence")), 8);
	T_EQ_INT(json_array_size(json_object_get(r, "txhashes")), 2);
	r = json_object_get(all, "101");
	T_EQ_STR(json_string_value(json_object_get(r, "state")), "missed");
	T_ASSERT(ledger_state_final("missed") && !ledger_state_final("signed"));
	json_decref(all);
	ledger_close(l);
}

T_TEST(torn_line_skipped)
{
	char err[256], *path;
	struct ledger *l = ledger_open(dir, 68, err, sizeof(err));
	json_t *all;
	long bad;
	int fd;

	T_ASSERT(l != NULL);
	T_EQ_INT(ledger_append(l, 5, "seen", NULL, 0), 0);
	path = xasprintf("%s/ledger/topic-68.jsonl", dir);
	fd = open(path, O_WRONLY | O_APPEND);
	T_ASSERT(write(fd, "{\"topic\":68,\"nonce\":6,\"sta", 26) == 26);
	close(fd);
	all = ledger_replay(l, &bad);
	T_EQ_INT(bad, 1);
	T_EQ_INT(json_object_size(all), 1);
	json_decref(all);
	ledger_close(l);
	free(path);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	T_RUN(append_and_replay);
	T_RUN(torn_line_skipped);
	return t_done();
}
