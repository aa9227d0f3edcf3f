/*
 * Development fallback for child roles whose own main is not in the tree yet: a child that
 * speaks the protocol (HELLO, heartbeats, CONFIG, READY) and does nothing else.  Each role's
 * real main (listener/, trainer/, submitter/) overrides these weak definitions.
 */
#include <stdlib.h>

#include <event2/event.h>

#include "proc.h"
#include "roles.h"

static void
fallback_config(const struct config *c, json_t *raw, void *arg)
{
	child_ready(json_pack("{s:s}", "note", "role not implemented in this build"));
}

static int
fallback_main(const char *role)
{
	struct event_base *base = event_base_new();
	struct child_ops ops = { role, fallback_config, NULL, NULL, NULL };

	child_start(base, &ops);
	event_base_dispatch(base);
	return 0;
}

__attribute__((weak)) int
trainer_main(void)
{
	return fallback_main("trainer");
}


#include <stdio.h>
#include "ctl.h"

static int
ctl_missing(const char *cmd)
{
	fprintf(stderr, "alloractl: \"%s\" is not in this build yet\n", cmd);
	return 1;
}

__attribute__((weak)) int
ctl_predict(const struct ctl_opts *o, int argc, char **argv)
{
	return ctl_missing("predict");
}

__attribute__((weak)) int
ctl_backtest(const struct ctl_opts *o, int argc, char **argv)
{
	return ctl_missing("backtest");
}
