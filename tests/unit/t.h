/*
 * Tiny unit test harness: each test runs in a forked child (a crash fails one test, not
 * the program), results are printed as TAP lines, the exit status is non-zero when a test
 * failed.
 *
 *	T_TEST(parse_empty) { T_ASSERT(parse("") == -1); T_EQ_STR(x, "y"); }
 *	int main(void) { T_RUN(parse_empty); return t_done(); }
 *
 * Header-only; include it in exactly one file per program.
 */
#ifndef AW_T_H
#define AW_T_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int t_count, t_failed, t_child_failed;
static const char *t_only;

#define T_TEST(name)	static void t_fn_##name(void)
#define T_RUN(name)	t_run(#name, t_fn_##name)

#define T_FAIL(...) do {						\
	fprintf(stderr, "# %s:%d: ", __FILE__, __LINE__);		\
	fprintf(stderr, __VA_ARGS__);					\
	fputc('\n', stderr);						\
	t_child_failed = 1;						\
} while (0)

#define T_ASSERT(c) do { if (!(c)) { T_FAIL("assertion failed: %s", #c); return; } } while (0)
#define T_CHECK(c) do { if (!(c)) T_FAIL("check failed: %s", #c); } while (0)
#define T_EQ_INT(a, b) do {						\
	long long t_a_ = (long long)(a), t_b_ = (long long)(b);		\
	if (t_a_ != t_b_) { T_FAIL("%s == %lld, expected %s == %lld", #a, t_a_, #b, t_b_); return; } \
} while (0)
#define T_EQ_STR(a, b) do {						\
	const char *t_a_ = (a), *t_b_ = (b);				\
	if (t_a_ == NULL || t_b_ == NULL || strcmp(t_a_, t_b_) != 0) {	\
		T_FAIL("%s == \"%s\", expected \"%s\"", #a,		\
		    t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");	\
		return;							\
	}								\
} while (0)
#define T_EQ_MEM(a, b, n) do {						\
	if (memcmp((a), (b), (n)) != 0) { T_FAIL("%s != %s (%zu bytes)", #a, #b, (size_t)(n)); return; } \
} while (0)

static inline void
t_run(const char *name, void (*fn)(void))
{
	pid_t pid;
	int st;

	if (t_only == NULL)
		t_only = getenv("T_ONLY");
	if (t_only != NULL && *t_only != '\0' && strstr(name, t_only) == NULL)
		return;
	t_count++;
	fflush(stdout);
	fflush(stderr);
	if (getenv("T_NOFORK") != NULL) {
		t_child_failed = 0;
		fn();
		st = t_child_failed ? 1 << 8 : 0;
	} else {
		pid = fork();
		if (pid == -1) {
			perror("fork");
			exit(1);
		}
		if (pid == 0) {
			t_child_failed = 0;
			fn();
			fflush(stdout);
			fflush(stderr);
			_exit(t_child_failed ? 1 : 0);
		}
		while (waitpid(pid, &st, 0) == -1)
			;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		printf("ok %d - %s\n", t_count, name);
	else {
		t_failed++;
		if (WIFSIGNALED(st))
			printf("not ok %d - %s (signal %d)\n", t_count, name, WTERMSIG(st));
		else
			printf("not ok %d - %s\n", t_count, name);
	}
	fflush(stdout);
}

static inline int
t_done(void)
{
	printf("1..%d\n", t_count);
	return t_failed ? 1 : 0;
}

/* Reads a whole file (NUL-terminated); exits the test on failure. */
static inline char *
t_slurp(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL) {
		fprintf(stderr, "# cannot open %s\n", path);
		_exit(1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "# cannot read %s\n", path);
		_exit(1);
	}
	buf[n] = '\0';
	fclose(f);
	if (lenp != NULL)
		*lenp = (size_t)n;
	return buf;
}

#endif
