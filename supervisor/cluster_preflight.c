/*
 * alloractl check's lines for [cluster]: each etcd endpoint answers a quorum read
 * (common/etcd.c's etcd_probe); none answering is an error, since this host would then
 * sign nothing.
 */
#include <stdio.h>

#include "cluster.h"
#include "config.h"
#include "etcd.h"
#include "preflight.h"

void
cluster_preflight(const struct config *c)
{
	char msg[1024];
	size_t i, up = 0;

	for (i = 0; i < c->netcd; i++) {
		if (etcd_probe(c, i, msg, sizeof(msg)) == 0) {
			up++;
			preflight_line("etcd", L_OK, "%s %s", c->etcd[i], msg);
		} else
			preflight_line("etcd", c->netcd == 1 ? L_ERR : L_WARN, "%s", msg);
	}
	if (up == 0 && c->netcd > 1)
		preflight_line("etcd", L_ERR, "none of the %zu endpoints answers with a quorum: "
		    "this host would sign nothing", c->netcd);
	else if (up > 0)
		preflight_line("cluster", L_OK, "host %s, prefix %s, lease TTL %ld s",
		    c->cluster_name, c->cluster_prefix, c->lease_ttl_s);
}
