/*
 * The submitter's audit logs (state_dir/audit/<wallet>.jsonl) with group commit (issue 25):
 * lines appended in one turn of the event loop share one write per file and one sync for all
 * of them (fdatasync for one file, syncfs(2) for several: they share a file system); each
 * line's callback runs once the sync that covers it returned.
 */
#ifndef AW_AUDIT_H
#define AW_AUDIT_H

#include <event2/event.h>

struct audit_file;

/* ok 0: the line is not durable; err says why. */
typedef void (*audit_done_fn)(void *arg, int ok, const char *err);

/* The wallet's log, opened on first use (safe_dir / safe_open checks). */
struct audit_file *audit_file_new(const char *state_dir, const char *wallet);
void	 audit_file_free(struct audit_file *);
/* Queues a line (a copy is taken; it must end with '\n'); done runs after the sync. */
void	 audit_append(struct event_base *, struct audit_file *, const char *line,
	    audit_done_fn done, void *arg);
/* fdatasync/syncfs calls made so far (for the benchmark). */
long long audit_syncs(void);

#endif
