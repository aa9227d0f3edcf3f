/*
 * alloractl subcommands.  supervisor/alloractl.c parses the global options (-c/--config,
 * --state-dir, --run-dir, accepted before or after the subcommand) and calls one of these
 * with argv[0] = the subcommand name and the remaining arguments (global options removed).
 * Each returns the exit status (0 ok, 1 runtime failure, 2 usage/configuration error,
 * 3 topic already served, 4 daemon not running) and prints its usage on --help (exit 0).
 */
#ifndef AW_CTL_H
#define AW_CTL_H

struct ctl_opts {
	const char	*config;	/* -c FILE, or NULL: default search (config.h) */
	const char	*state_dir;	/* --state-dir, or NULL */
	const char	*run_dir;	/* --run-dir, or NULL */
};

/* submitter/ */
int	 ctl_keys(const struct ctl_opts *, int argc, char **argv);
int	 ctl_tx(const struct ctl_opts *, int argc, char **argv);
int	 ctl_check(const struct ctl_opts *, int argc, char **argv);
int	 ctl_register(const struct ctl_opts *, int argc, char **argv);
struct config;
/* With network = testnet|mainnet: 1 (and a message) when a node answers with another chain
 * id, so that start refuses it; 0 otherwise (an unreachable node does not keep it). */
int	 ctl_network_guard(const struct config *);
/* trainer/ (alloractl runs predict and backtest through the trainer's program:
 * ctl_via_trainer; loss needs no model and runs in alloractl) */
int	 ctl_predict(const struct ctl_opts *, int argc, char **argv);
int	 ctl_backtest(const struct ctl_opts *, int argc, char **argv);
int	 ctl_report(const struct ctl_opts *, int argc, char **argv);	/* history --report (trainer) */
int	 ctl_loss(const struct ctl_opts *, int argc, char **argv);	/* trainer/ctl_loss.c */
/* supervisor/ctl_trainer.c: execs `allora-workerd-trainer ctl ...` with these arguments */
int	 ctl_via_trainer(const struct ctl_opts *, int argc, char **argv);

#endif
