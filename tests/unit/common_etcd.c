/* The [cluster] section (defaults, absent section) and the etcd gateway's encodings. */
#include <unistd.h>

#include "config.h"
#include "etcd.h"
#include "t.h"
#include "util.h"

static char dir[] = "/tmp/aw-etcd-XXXXXX";

static struct config *
load(const char *extra, char *err, size_t errlen)
{
	char *p = xasprintf("%s/w.conf", dir);
	FILE *f = fopen(p, "w");
	struct config *c;

	fprintf(f, "[global]\nstate_dir = %s\nrun_dir = %s\n[chain]\nchain_id = devnet-1\n"
	    "[wallet main]\nmnemonic_env = MNEMONIC\n[topic 67]\nwallet = main\n%s", dir, dir,
	    extra);
	fclose(f);
	c = config_load(p, NULL, err, errlen);
	free(p);
	return c;
}

T_TEST(no_cluster_section_changes_nothing)
{
	char err[512];
	struct config *c = load("", err, sizeof(err));

	T_ASSERT(c != NULL);
	T_EQ_INT(c->cluster_line, 0);
	T_ASSERT(c->netcd == 0 && c->cluster_prefix == NULL && c->cluster_name == NULL);
	config_free(c);
}

T_TEST(cluster_defaults)
{
	char err[512], host[256];
	struct config *c = load("[cluster]\netcd = http://h1:2379, https://h2:2379/\n", err,
	    sizeof(err));

	if (c == NULL)
		T_FAIL("%s", err);
	T_ASSERT(c != NULL);
	T_EQ_INT(c->cluster_line, 10);
	T_EQ_INT(c->netcd, 2);
	T_EQ_STR(c->etcd[0], "http://h1:2379");
	T_EQ_STR(c->etcd[1], "https://h2:2379/");
	T_EQ_STR(c->cluster_prefix, "allora-workerd");
	T_EQ_INT(c->lease_ttl_s, 10);
	T_ASSERT(gethostname(host, sizeof(host)) == 0);
	host[strcspn(host, ".")] = '\0';
	T_EQ_STR(c->cluster_name, host);
	config_free(c);
}

T_TEST(cluster_errors_name_the_line)
{
	char err[512];

	T_ASSERT(load("[cluster]\netcd = http://h1:2379\nlease_ttl_s = 1\n", err,
	    sizeof(err)) == NULL);
	T_ASSERT(strstr(err, "w.conf:12: lease_ttl_s") != NULL);
	T_ASSERT(load("[cluster]\netcd = http://h1:2379\nprefix = /x\n", err, sizeof(err)) ==
	    NULL);
	T_ASSERT(strstr(err, "w.conf:12: prefix \"/x\"") != NULL);
	T_ASSERT(load("[cluster]\nname = a\n", err, sizeof(err)) == NULL);
	T_ASSERT(strstr(err, "w.conf:10: [cluster] needs \"etcd =\"") != NULL);
}

T_TEST(encodings)
{
	char *b = etcd_b64("/allora-workerd/devnet-1/allo1x/leader"), *s;
	json_t *o = json_pack("{s:s, s:I}", "ID", "7587876432451542274", "n", (json_int_t)5);
	json_t *v;

	T_EQ_STR(b, "L2FsbG9yYS13b3JrZXJkL2Rldm5ldC0xL2FsbG8xeC9sZWFkZXI=");
	s = etcd_unb64(b);
	T_EQ_STR(s, "/allora-workerd/devnet-1/allo1x/leader");
	free(s);
	free(b);
	T_ASSERT(etcd_unb64("AGE=") == NULL);	/* "\0a": a NUL inside is refused */
	T_ASSERT(etcd_unb64("!!") == NULL);
	T_EQ_INT(etcd_int(o, "ID"), 7587876432451542274LL);
	T_EQ_INT(etcd_int(o, "n"), 5);
	T_EQ_INT(etcd_int(o, "absent"), 0);
	v = etcd_num(7587876432451542274LL);
	T_EQ_STR(json_string_value(v), "7587876432451542274");
	json_decref(v);
	json_decref(o);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	T_RUN(no_cluster_section_changes_nothing);
	T_RUN(cluster_defaults);
	T_RUN(cluster_errors_name_the_line);
	T_RUN(encodings);
	return t_done();
}
