/*
 * procmon: memory and CPU of a running allora-workerd from /proc, for bench/run.sh.
 *
 * The daemon is the supervisor PID and its direct children (listener, trainer, submitter):
 * "the four".  Anything further down (the trainer's forked training helpers, predictor
 * programs) is a helper.  Every --interval-ms the program reads VmRSS and VmHWM of each
 * (found through /proc/PID/task/TID/children); at the end (after --duration-s, on SIGTERM
 * or SIGINT, or at once with --once) it takes a last snapshot of the four with PSS and CPU
 * time and prints one JSON object:
 *
 *   core[]            per process of the four: pid, comm, rss_kb, hwm_kb, pss_kb, cpu_ms
 *                     (utime + stime + cutime + cstime, so reaped helpers count), sched_ns
 *                     (the sum of /proc/PID/task/TID/schedstat run times: the same without
 *                     reaped helpers, to the nanosecond)
 *   core_rss_kb, core_hwm_kb, core_pss_kb, cpu_ms, sched_ns: their sums
 *   peak_total_kb     the largest, over the samples, of the four's RSS plus the high-water
 *                     mark of every helper alive at that sample
 *   peak_rss_sum_kb   the largest simultaneous sum of RSS over all the processes
 *   peak_pss_sum_kb   the same with PSS (shared pages shared out), sampled every
 *                     --pss-every-ms (reading smaps_rollup costs about 0.2 ms a process)
 *   helpers[]         pid and the largest VmHWM seen of each helper
 *   samples, max_helpers_alive
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXP	512

struct proc {
	int	 pid;
	int	 core;
	long	 rss_kb;
	long	 hwm_kb;
	long	 pss_kb;
	double	 cpu_ms;
	long long sched_ns;
	char	 comm[32];
};

static volatile sig_atomic_t	 stop;

static void
on_signal(int sig)
{
	stop = 1;
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: procmon --pid PID [--interval-ms N] [--pss-every-ms N] "
	    "[--duration-s S] [--once]\n"
	    "  Memory and CPU time of PID and its children from /proc, as JSON.\n");
}

/* The value in kB of "Key:" in a /proc status-like file; -1 when absent. */
static long
status_kb(const char *path, const char *key)
{
	char line[256];
	size_t kl = strlen(key);
	long v = -1;
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	fclose(fp);
	return v;
}

static void
read_mem(struct proc *p)
{
	char path[64], line[256];
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", p->pid);
	p->rss_kb = p->hwm_kb = -1;
	if ((fp = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			p->rss_kb = strtol(line + 6, NULL, 10);
		else if (strncmp(line, "VmHWM:", 6) == 0)
			p->hwm_kb = strtol(line + 6, NULL, 10);
		else if (strncmp(line, "Name:", 5) == 0) {
			char *s = line + 5;

			s += strspn(s, " \t");
			s[strcspn(s, "\n")] = '\0';
			snprintf(p->comm, sizeof(p->comm), "%s", s);
		}
	}
	fclose(fp);
}

static void
read_cpu(struct proc *p)
{
	char path[64], buf[1024], *s;
	unsigned long ut, st;
	long cut, cst;
	long long run;
	DIR *d;
	struct dirent *de;
	FILE *fp;
	size_t n;

	p->cpu_ms = -1;
	p->sched_ns = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", p->pid);
	if ((fp = fopen(path, "r")) != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, fp);
		buf[n] = '\0';
		fclose(fp);
		/* After the ")" of comm: state is field 3; utime is field 14. */
		if ((s = strrchr(buf, ')')) != NULL && sscanf(s + 2,
		    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %ld %ld", &ut, &st, &cut,
		    &cst) == 4)
			p->cpu_ms = (double)(ut + st + (unsigned long)cut + (unsigned long)cst) *
			    1000.0 / (double)sysconf(_SC_CLK_TCK);
	}
	snprintf(path, sizeof(path), "/proc/%d/task", p->pid);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char sp[96];

		if (de->d_name[0] == '.')
			continue;
		snprintf(sp, sizeof(sp), "/proc/%d/task/%s/schedstat", p->pid, de->d_name);
		if ((fp = fopen(sp, "r")) == NULL)
			continue;
		if (fscanf(fp, "%lld", &run) == 1)
			p->sched_ns += run;
		fclose(fp);
	}
	closedir(d);
}

/* Appends the children of pid (every thread's) to out; returns the new count. */
static int
children(int pid, int *out, int n, int max)
{
	char path[96];
	DIR *d;
	struct dirent *de;
	FILE *fp;
	int c;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	if ((d = opendir(path)) == NULL)
		return n;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children", pid, de->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		while (n < max && fscanf(fp, "%d", &c) == 1)
			out[n++] = c;
		fclose(fp);
	}
	closedir(d);
	return n;
}

/* The supervisor, its children (core), then every further descendant. */
static int
tree(int root, struct proc *p, int max)
{
	int pids[MAXP], n = 0, i, ncore;

	pids[n++] = root;
	n = children(root, pids, n, MAXP);
	ncore = n;
	for (i = 1; i < n; i++)
		n = children(pids[i], pids, n, MAXP);
	for (i = 0; i < n && i < max; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].pid = pids[i];
		p[i].core = i < ncore;
	}
	return i < max ? i : max;
}

struct helper {
	int	 pid;
	long	 hwm_kb;
};

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "duration-s", required_argument, NULL, 'd' },
		{ "pss-every-ms", required_argument, NULL, 's' },
		{ "once", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct proc p[MAXP];
	struct helper h[MAXP];
	struct timespec t0, now, iv;
	double duration = 0, el, last_pss = -1e9;
	long interval_ms = 2, pss_ms = 50, core_rss, core_hwm, core_pss, peak_total = 0,
	    peak_sum = 0, peak_pss = 0, tot, v;
	long long sched = 0;
	double cpu = 0;
	int pid = 0, once = 0, ch, n, i, k, nh = 0, alive, max_alive = 0, samples = 0;
	char path[64];

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			pid = atoi(optarg);
			break;
		case 'i':
			interval_ms = atol(optarg);
			break;
		case 'd':
			duration = atof(optarg);
			break;
		case 's':
			pss_ms = atol(optarg);
			break;
		case 'o':
			once = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (pid <= 0 || interval_ms <= 0) {
		usage(stderr);
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	iv.tv_sec = interval_ms / 1000;
	iv.tv_nsec = (interval_ms % 1000) * 1000000L;
	while (!once && !stop) {
		n = tree(pid, p, MAXP);
		if (n == 0 || kill(pid, 0) == -1)
			break;
		tot = 0;
		core_rss = 0;
		alive = 0;
		for (i = 0; i < n; i++) {
			read_mem(&p[i]);
			if (p[i].rss_kb < 0)
				continue;
			tot += p[i].rss_kb;
			if (p[i].core) {
				core_rss += p[i].rss_kb;
				continue;
			}
			alive++;
			for (k = 0; k < nh && h[k].pid != p[i].pid; k++)
				;
			if (k == nh && nh < MAXP)
				h[nh++] = (struct helper){ p[i].pid, 0 };
			if (k < nh && p[i].hwm_kb > h[k].hwm_kb)
				h[k].hwm_kb = p[i].hwm_kb;
			core_rss += p[i].hwm_kb;	/* a helper counts at its high-water mark */
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		el = (double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9;
		if (pss_ms > 0 && (el - last_pss) * 1000 >= (double)pss_ms) {
			last_pss = el;
			for (i = 0, tot = 0; i < n; i++) {
				snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", p[i].pid);
				if ((v = status_kb(path, "Pss")) > 0)
					tot += v;
			}
			if (tot > peak_pss)
				peak_pss = tot;
		}
		samples++;
		if (core_rss > peak_total)
			peak_total = core_rss;
		if (tot > peak_sum)
			peak_sum = tot;
		if (alive > max_alive)
			max_alive = alive;
		if (duration > 0 && el >= duration)
			break;
		nanosleep(&iv, NULL);
	}

	/* The last snapshot: the four, with PSS and CPU time. */
	n = tree(pid, p, MAXP);
	core_rss = core_hwm = core_pss = 0;
	printf("{\"pid\": %d, \"samples\": %d, \"core\": [", pid, samples);
	for (i = 0, k = 0; i < n; i++) {
		if (!p[i].core)
			continue;
		read_mem(&p[i]);
		read_cpu(&p[i]);
		snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", p[i].pid);
		p[i].pss_kb = status_kb(path, "Pss");
		core_rss += p[i].rss_kb;
		core_hwm += p[i].hwm_kb;
		core_pss += p[i].pss_kb;
		cpu += p[i].cpu_ms;
		sched += p[i].sched_ns;
		printf("%s{\"pid\": %d, \"comm\": \"%s\", \"rss_kb\": %ld, \"hwm_kb\": %ld, "
		    "\"pss_kb\": %ld, \"cpu_ms\": %.1f, \"sched_ns\": %lld}", k++ ? ", " : "",
		    p[i].pid, p[i].comm, p[i].rss_kb, p[i].hwm_kb, p[i].pss_kb, p[i].cpu_ms,
		    p[i].sched_ns);
	}
	if (core_hwm > peak_total)
		peak_total = core_hwm;	/* the kernel's own high-water marks of the four */
	if (core_pss > peak_pss)
		peak_pss = core_pss;
	printf("], \"nproc\": %d, \"core_rss_kb\": %ld, \"core_hwm_kb\": %ld, \"core_pss_kb\": %ld, "
	    "\"cpu_ms\": %.1f, \"sched_ns\": %lld, \"peak_total_kb\": %ld, "
	    "\"peak_rss_sum_kb\": %ld, \"peak_pss_sum_kb\": %ld, \"max_helpers_alive\": %d, "
	    "\"helpers\": [", k, core_rss, core_hwm, core_pss, cpu, sched, peak_total, peak_sum,
	    peak_pss, max_alive);
	for (i = 0; i < nh; i++)
		printf("%s{\"pid\": %d, \"hwm_kb\": %ld}", i ? ", " : "", h[i].pid, h[i].hwm_kb);
	printf("]}\n");
	return k > 0 ? 0 : 1;
}
