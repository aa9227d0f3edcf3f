/*
 * main of allora-workerd-trainer: the trainer process started by the supervisor (roles.h),
 * or, as `allora-workerd-trainer ctl [--config F] [--state-dir D] [--run-dir D] predict|backtest
 * ARGS...`, the code of `alloractl predict` and `alloractl backtest`, which alloractl runs
 * through this program so that only the trainer ever maps libxgboost (HACKING.md).
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "log.h"
#include "roles.h"

static int
ctl_main(int argc, char **argv)
{
	struct ctl_opts o;
	int i = 2;

	memset(&o, 0, sizeof(o));
	log_init("alloractl", 0);
	config_dotenv_secrets(0);	/* as in alloractl: the trainer never needs a key */
	for (; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--config") == 0)
			o.config = argv[i + 1];
		else if (strcmp(argv[i], "--state-dir") == 0)
			o.state_dir = argv[i + 1];
		else if (strcmp(argv[i], "--run-dir") == 0)
			o.run_dir = argv[i + 1];
		else
			break;
	}
	if (i < argc && strcmp(argv[i], "predict") == 0)
		return ctl_predict(&o, argc - i, argv + i);
	if (i < argc && strcmp(argv[i], "backtest") == 0)
		return ctl_backtest(&o, argc - i, argv + i);
	if (i < argc && strcmp(argv[i], "report") == 0)	/* alloractl history --report */
		return ctl_report(&o, argc - i, argv + i);
	fprintf(stderr, "allora-workerd-trainer ctl: expected predict or backtest (this mode is "
	    "alloractl's: use `alloractl predict` or `alloractl backtest`)\n");
	return 2;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "ctl") == 0)
		return ctl_main(argc, argv);
	return role_main("trainer", argc, argv, trainer_main);
}
