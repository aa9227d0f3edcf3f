/* The supervisor: state shared by the files of supervisor/. */
#ifndef AW_SUP_H
#define AW_SUP_H

#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "config.h"
#include "frame.h"
#include "log.h"

struct event;
struct event_base;
struct peer;

enum child_role { ROLE_LISTENER, ROLE_TRAINER, ROLE_SUBMITTER, NROLES };
enum child_state { CHILD_STARTING, CHILD_RUNNING, CHILD_BACKOFF, CHILD_FAILED, CHILD_STOPPED };

struct child {
	enum child_role	 role;
	enum child_state state;
	pid_t		 pid;		/* 0 when not running */
	struct peer	*peer;
	int64_t		 started_ms;	/* mono */
	int64_t		 ready_ms;	/* mono, 0 until READY */
	int64_t		 last_ack_ms;	/* mono: last heartbeat answer (or spawn) */
	int		 hello;		/* HELLO received */
	long		 restarts;	/* successful respawns */
	long		 early_deaths;	/* consecutive deaths before 1 s of readiness */
	long		 backoff_ms;	/* last backoff applied */
	char		*reason;	/* why it is failed / last death */
	struct event	*restart_ev;
	json_t		*info;		/* last READY / CHILD_STATE payload */
};

/* Per-topic runtime state (for status, flow and metrics). */
struct topic_rt {
	uint32_t	 id;
	char		*state;		/* waiting | serving | stopped | failed */
	char		*reason;
	int		 lock_fd;
	int64_t		 last_nonce;	/* -1 unknown */
	char		*last_state;
	char		*last_value;
	char		*last_source;
	char		*last_txhash;
	long		 accepted;
	long		 ledger_bad;	/* lines of the ledger replay that were not records */
	json_t		*missed;	/* reason -> count */
	double		 last_accepted_wall;	/* 0 = never */
	char		*loss_used;	/* the trainer's last PREDICTION: loss method */
	char		*model_resolved;	/* and what model = default resolved to */
};

struct wallet_rt {
	char		*name;
	char		*address;
	char		*balance;
	long long	 sequence;	/* -1 unknown */
};

struct sup {
	struct config	*conf;
	struct event_base *base;
	char		*role_exe[NROLES];	/* the role programs (roles.h) */
	struct child	 children[NROLES];
	struct topic_rt	*topics;
	size_t		 ntopics;
	struct wallet_rt *wallets;
	size_t		 nwallets;
	int		 ready;		/* every child has been ready once */
	int		 ready_fd;	/* pipe to the starting parent, -1 */
	int		 stopping;
	int		 exit_code;
	int		 ctl_fd;
	char		*sock_path;
	char		*pid_path;
	int		 pid_fd;	/* the pid file, locked (flock) while we run; -1 */
	struct event	*ctl_ev;
	struct event	*hb_ev;
	struct event	*stop_ev;
	struct event	*sig_ev[5];
	int		 mnemonic_fd;	/* sealed memfd with MNEMONIC for the submitter, -1 */
	double		 started_wall;
};

extern struct sup *sup;

/* supervisor.c */
int	 supervisor_run(struct config *, int ready_fd);
void	 sup_shutdown(const char *reason, int code);
void	 sup_check_ready(void);
void	 sup_dispatch_child(struct child *, struct frame *);

/* child.c */
const char *child_role_name(enum child_role);
const char *child_state_name(enum child_state);
void	 child_table_init(void);
void	 child_spawn(struct child *);
void	 child_reaped(pid_t, int status);
void	 child_heartbeat_tick(void);
void	 child_stop_all(void);
int	 child_all_gone(void);
int	 sup_send_child(struct child *, uint16_t type, uint32_t topic, uint32_t seq, json_t *);
struct child *child_by_role(enum child_role);

/* control.c */
int	 control_open(const char *path, char *err, size_t errlen);
void	 control_close(void);

/* locks.c */
int	 locks_take(struct config *, struct topic_rt *, size_t, char *err, size_t errlen);
void	 locks_write_pid(struct topic_rt *, size_t);
void	 locks_release(struct topic_rt *, size_t);
int	 pidfile_lock(const char *path, char *err, size_t errlen);
int	 pidfile_write(const char *path);

/* logfile.c */
int	 logfile_open(const char *state_dir, int foreground, char *err, size_t errlen);
void	 logfile_reopen(void);
void	 logfile_close(void);
void	 logfile_stderr(int);
void	 logfile_write(const char *role, enum log_level, const char *event, const char *msg,
	    json_t *data);

/* notify.c */
void	 notify_init(void);
void	 notify_send(const char *);
void	 notify_status(void);
long long notify_watchdog_usec(void);

/* secrets.c */
void	 secrets_harden(void);
int	 secrets_seal(const struct config *);
char	**secrets_child_env(enum child_role);
void	 secrets_child_env_free(char **);

/* status.c */
json_t	*status_json(void);
const char *topic_state(const struct topic_rt *);

#endif
