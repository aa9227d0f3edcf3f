/*
 * Trainer: external predictors.  What a predictor program prints and what a model server
 * answers, canonicalised as text; URL templates; command-line splitting; and jobs (real
 * child processes: exit status, deadline, output limit, standard error lines).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "t.h"

#include "dec.h"
#include "trainer/extpred.h"
#include "trainer/job.h"
#include "util.h"

static int
out(const char *s, char *v)
{
	char err[256];

	return extpred_parse_output(s, strlen(s), v, DEC_MAX_TEXT + 1, err, sizeof(err));
}

static int
body(const char *s, char *v, char *err)
{
	return extpred_parse_body(s, strlen(s), v, DEC_MAX_TEXT + 1, err, 256);
}

T_TEST(output_is_canonicalised_as_text)
{
	char v[DEC_MAX_TEXT + 1];

	T_EQ_INT(out("0.04210\n", v), 0);
	T_EQ_STR(v, "0.04210");		/* never re-printed through a double */
	T_EQ_INT(out("  -1.5e-07 \r\n", v), 0);
	T_EQ_STR(v, "-1.5E-7");
	T_EQ_INT(out("0", v), 0);
	T_EQ_STR(v, "0");
	T_EQ_INT(out("12345678901234567890.123456789", v), 0);
	T_EQ_STR(v, "12345678901234567890.123456789");
}

T_TEST(output_refused)
{
	char v[DEC_MAX_TEXT + 1];

	T_EQ_INT(out("", v), -1);
	T_EQ_INT(out(" \n", v), -1);
	T_EQ_INT(out("hello", v), -1);
	T_EQ_INT(out("0.1 0.2", v), -1);
	T_EQ_INT(out("0.1\n0.2\n", v), -1);
	T_EQ_INT(out("1e50", v), -1);		/* past the chain's bound 1e40 */
	T_EQ_INT(out("1e-50", v), -1);
	T_EQ_INT(out("nan", v), -1);
	T_EQ_INT(out("inf", v), -1);
	T_EQ_INT(out("0x10", v), -1);
}

T_TEST(output_error_names_what_was_printed)
{
	char v[DEC_MAX_TEXT + 1], err[256];

	T_EQ_INT(extpred_parse_output("garbage!\n", 9, v, sizeof(v), err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "garbage!") != NULL);
	T_EQ_INT(extpred_parse_output("1e50", 4, v, sizeof(v), err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "1e50") != NULL);
	/* Control characters are escaped, long output cut. */
	T_EQ_INT(extpred_parse_output("\x1b[31m", 5, v, sizeof(v), err, sizeof(err)), -1);
	T_ASSERT(strchr(err, '\x1b') == NULL);
}

T_TEST(body_shapes)
{
	char v[DEC_MAX_TEXT + 1], err[256];

	T_EQ_INT(body("0.0421", v, err), 0);
	T_EQ_STR(v, "0.0421");
	T_EQ_INT(body(" -1.5e-07\n", v, err), 0);
	T_EQ_STR(v, "-1.5E-7");
	T_EQ_INT(body("\"0.04210\"", v, err), 0);
	T_EQ_STR(v, "0.04210");
	T_EQ_INT(body("[0.5]", v, err), 0);
	T_EQ_STR(v, "0.5");
	T_EQ_INT(body("[ \"2.50\" ]", v, err), 0);
	T_EQ_STR(v, "2.50");
	T_EQ_INT(body("{\"value\": 0.00100}", v, err), 0);
	T_EQ_STR(v, "0.00100");
	T_EQ_INT(body("{\"topic\": 67, \"prediction\": \"-0.3\", \"x\": [1, {\"y\": \"}\"}]}",
	    v, err), 0);
	T_EQ_STR(v, "-0.3");
	T_EQ_INT(body("{\"inference\": 1E+2}", v, err), 0);
	T_EQ_STR(v, "1E+2");
	T_EQ_INT(body("{\"anything\": 7}", v, err), 0);
	T_EQ_STR(v, "7");
	/* value comes before prediction whatever the order in the text. */
	T_EQ_INT(body("{\"prediction\": 1, \"value\": 2}", v, err), 0);
	T_EQ_STR(v, "2");
}

T_TEST(body_refused)
{
	char v[DEC_MAX_TEXT + 1], err[256];

	T_EQ_INT(body("", v, err), -1);
	T_EQ_INT(body("not a number", v, err), -1);
	T_EQ_INT(body("<html>500</html>", v, err), -1);
	T_EQ_INT(body("[]", v, err), -1);
	T_EQ_INT(body("[1, 2]", v, err), -1);
	T_EQ_INT(body("{}", v, err), -1);
	T_EQ_INT(body("{\"a\": 1, \"b\": 2}", v, err), -1);
	T_ASSERT(strstr(err, "2 members") != NULL);
	T_EQ_INT(body("{\"value\": null}", v, err), -1);
	T_EQ_INT(body("{\"value\": true}", v, err), -1);
	T_EQ_INT(body("{\"value\": {\"x\": 1}}", v, err), -1);
	T_EQ_INT(body("{\"value\": \"abc\"}", v, err), -1);
	T_EQ_INT(body("{\"value\": 1e50}", v, err), -1);
	T_EQ_INT(body("{\"value\": 1", v, err), -1);	/* broken JSON */
	T_EQ_INT(body("\"1\\u0030\"", v, err), -1);	/* escapes are not numbers */
	T_EQ_INT(body("[[1]]", v, err), -1);
}

T_TEST(url_template)
{
	char *u;

	u = extpred_url("http://localhost:8000/inference/{Token}", "BTC", 67, 123);
	T_EQ_STR(u, "http://localhost:8000/inference/BTC");
	free(u);
	u = extpred_url("http://h/{TopicId}/{BlockHeight}?t={Token}&x={Other}", "a b/c", 7,
	    4242);
	T_EQ_STR(u, "http://h/7/4242?t=a%20b%2Fc&x={Other}");
	free(u);
}

T_TEST(split_command_lines)
{
	char **av, err[128];

	av = job_split("/usr/bin/python3  -u '/opt/my model.py' \"a \\\"q\\\" b\" x\\ y", err,
	    sizeof(err));
	T_ASSERT(av != NULL);
	T_EQ_STR(av[0], "/usr/bin/python3");
	T_EQ_STR(av[1], "-u");
	T_EQ_STR(av[2], "/opt/my model.py");
	T_EQ_STR(av[3], "a \"q\" b");
	T_EQ_STR(av[4], "x y");
	T_ASSERT(av[5] == NULL);
	job_argv_free(av);
	T_ASSERT(job_split("/bin/x 'open", err, sizeof(err)) == NULL);
	T_ASSERT(strstr(err, "unterminated") != NULL);
	T_ASSERT(job_split("   ", err, sizeof(err)) == NULL);
	/* No shell: $HOME and globs are literal. */
	av = job_split("/bin/echo $HOME *", err, sizeof(err));
	T_EQ_STR(av[1], "$HOME");
	T_EQ_STR(av[2], "*");
	job_argv_free(av);
}

/* ---- jobs ---- */

struct got {
	struct job_result r;
	char out[8192];
	char lines[8][256];
	int nlines, done;
};

static void
got_done(const struct job_result *r, void *arg)
{
	struct got *g = arg;

	g->r = *r;
	snprintf(g->out, sizeof(g->out), "%s", r->out);
	g->r.out = g->out;
	g->done = 1;
}

static void
got_line(const char *l, size_t len, void *arg)
{
	struct got *g = arg;

	if (g->nlines < 8)
		snprintf(g->lines[g->nlines++], 256, "%.*s", (int)len, l);
}

/* Starts the job of spec s (its stderr lines and result into g) and runs it to the end. */
static int
run_spec(struct job_spec *s, struct got *g)
{
	struct event_base *base = event_base_new();
	char err[128];
	int64_t t0 = mono_ms();

	memset(g, 0, sizeof(*g));
	s->on_stderr = got_line;
	s->line_arg = g;
	if (job_start(base, s, got_done, g, err, sizeof(err)) == NULL) {
		event_base_free(base);
		return -1;
	}
	while (!g->done && mono_ms() - t0 < 20000)
		event_base_loop(base, EVLOOP_ONCE);
	event_base_free(base);
	return g->done ? 0 : -1;
}

static int
run(const char *script, long timeout_ms, size_t max_out, struct got *g)
{
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
	char *envp[] = { "PATH=/usr/bin:/bin", "SECRET_NOT=1", NULL };
	struct job_spec s;

	memset(&s, 0, sizeof(s));
	s.path = "/bin/sh";
	s.argv = argv;
	s.envp = envp;
	s.timeout_ms = timeout_ms;
	s.max_out = max_out;
	return run_spec(&s, g);
}

T_TEST(job_output_and_status)
{
	struct got g;

	T_EQ_INT(run("echo 0.0421; echo warn >&2; echo two >&2; exit 0", 10000, 0, &g), 0);
	T_EQ_INT(g.r.end, JOB_EXITED);
	T_EQ_INT(g.r.status, 0);
	T_EQ_STR(g.out, "0.0421\n");
	T_EQ_INT(g.nlines, 2);
	T_EQ_STR(g.lines[0], "warn");
	T_EQ_STR(g.lines[1], "two");
	T_EQ_INT(run("exit 3", 10000, 0, &g), 0);
	T_EQ_INT(g.r.end, JOB_EXITED);
	T_EQ_INT(g.r.status, 3);
	T_EQ_INT(run("kill -9 $$", 10000, 0, &g), 0);
	T_EQ_INT(g.r.end, JOB_SIGNALED);
	T_EQ_INT(g.r.status, 9);
}

T_TEST(job_environment_is_the_given_one)
{
	struct got g;

	T_EQ_INT(run("env | sort", 10000, 0, &g), 0);
	T_ASSERT(strstr(g.out, "SECRET_NOT=1\n") != NULL);
	T_ASSERT(strstr(g.out, "HOME=") == NULL);
}

T_TEST(job_deadline_kills_the_group)
{
	struct got g;

	/* A grandchild holding the pipes must not keep us waiting. */
	T_EQ_INT(run("sleep 30 & sleep 30; echo late", 300, 0, &g), 0);
	T_EQ_INT(g.r.end, JOB_TIMEOUT);
	T_ASSERT(g.r.elapsed_ms < 10000);
	T_ASSERT(strstr(g.out, "late") == NULL);
}

T_TEST(job_output_limit)
{
	struct got g;

	T_EQ_INT(run("yes 1234567890", 10000, 4096, &g), 0);
	T_EQ_INT(g.r.end, JOB_TOO_MUCH);
	T_ASSERT(g.r.out_len <= 4096);
}

T_TEST(job_exit_with_lingering_descendant)
{
	struct got g;

	/* The program exits but leaves something holding stdout: finished after the grace. */
	T_EQ_INT(run("echo 1; (sleep 30 >&1 &) ; exit 0", 10000, 0, &g), 0);
	T_EQ_INT(g.r.end, JOB_EXITED);
	T_EQ_INT(g.r.status, 0);
	T_EQ_STR(g.out, "1\n");
	T_ASSERT(g.r.elapsed_ms < 5000);
}

T_TEST(job_missing_program)
{
	char *argv[] = { "/nonexistent/predictor", NULL }, *envp[] = { NULL };
	struct job_spec s;
	struct got g;

	memset(&s, 0, sizeof(s));
	s.path = argv[0];
	s.argv = argv;
	s.envp = envp;
	s.timeout_ms = 5000;
	T_EQ_INT(run_spec(&s, &g), 0);
	T_EQ_INT(g.r.end, JOB_EXITED);
	T_EQ_INT(g.r.status, 127);
	T_ASSERT(g.nlines == 1 && strstr(g.lines[0], "/nonexistent/predictor") != NULL);
}

static int
fn_answer(int fd, void *arg)
{
	dprintf(fd, "{\"x\": %d}", *(int *)arg);
	dprintf(2, "I from the helper\n");
	return 5;
}

T_TEST(job_function_in_a_forked_copy)
{
	struct job_spec s;
	struct got g;
	int x = 42;

	memset(&s, 0, sizeof(s));
	s.fn = fn_answer;
	s.fn_arg = &x;
	s.timeout_ms = 5000;
	T_EQ_INT(run_spec(&s, &g), 0);
	T_EQ_INT(g.r.status, 5);
	T_EQ_STR(g.out, "{\"x\": 42}");
	T_EQ_STR(g.lines[0], "I from the helper");
}

T_TEST(stderr_budget_lines_bytes_and_one_report)
{
	struct extpred_stderr e;
	char msg[256];
	int i, took = 0;

	memset(&e, 0, sizeof(e));
	T_EQ_INT(extpred_stderr_report(&e, msg, sizeof(msg)), 0);	/* nothing dropped */
	for (i = 0; i < 150; i++)
		took += extpred_stderr_take(&e, 10);
	T_EQ_INT(took, EXTPRED_STDERR_LINES);
	T_EQ_INT(e.dropped_lines, 150 - EXTPRED_STDERR_LINES);
	T_EQ_INT(e.dropped_bytes, 10 * (150 - EXTPRED_STDERR_LINES));
	T_EQ_INT(extpred_stderr_report(&e, msg, sizeof(msg)), 1);
	T_ASSERT(strstr(msg, "50 more lines (500 bytes)") != NULL);
	T_EQ_INT(extpred_stderr_report(&e, msg, sizeof(msg)), 0);	/* once */

	memset(&e, 0, sizeof(e));
	for (i = 0, took = 0; i < 40; i++)
		took += extpred_stderr_take(&e, 2048);
	T_EQ_INT(took, EXTPRED_STDERR_BYTES / 2048);
	T_ASSERT(e.bytes <= EXTPRED_STDERR_BYTES);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	T_RUN(output_is_canonicalised_as_text);
	T_RUN(output_refused);
	T_RUN(output_error_names_what_was_printed);
	T_RUN(body_shapes);
	T_RUN(body_refused);
	T_RUN(url_template);
	T_RUN(split_command_lines);
	T_RUN(job_output_and_status);
	T_RUN(job_environment_is_the_given_one);
	T_RUN(job_deadline_kills_the_group);
	T_RUN(job_output_limit);
	T_RUN(job_exit_with_lingering_descendant);
	T_RUN(job_function_in_a_forked_copy);
	T_RUN(job_missing_program);
	T_RUN(stderr_budget_lines_bytes_and_one_report);
	return t_done();
}
