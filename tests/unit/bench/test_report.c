/*
 * test_report.c - apiary-bench's outputs: the table, the JSON document and
 * the self-contained HTML page (one run and several).
 */
#include "bench/bench.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A result with known numbers: 1000 SETs at 100 us, 9000 GETs at
 * 200 us of which 10 took 500 ms, 3 errors, 2 seconds of timeline. */
static void fake_result(struct ap_bench_result *r, struct ap_bench_opts *o,
			struct ap_bench_wl *wl)
{
	char err[128];
	char *argv[] = {"apiary-bench", "--label", "run </script> \"x\"", NULL};
	FILE *devnull = fopen("/dev/null", "w");

	ck_assert_int_eq(
		ap_bench_opts_parse(o, 3, argv, devnull, err, sizeof(err)), 0);
	fclose(devnull);
	ck_assert_int_eq(ap_bench_wl_build(wl, o, err, sizeof(err)), 0);
	ap_bench_result_init(r, o, wl);
	for (int i = 0; i < 1000; i++)
		ap_bench_hist_record(&r->cmds[0].hist, 100000);
	for (int i = 0; i < 8990; i++)
		ap_bench_hist_record(&r->cmds[1].hist, 200000);
	for (int i = 0; i < 10; i++)
		ap_bench_hist_record(&r->cmds[1].hist, 500000000);
	r->cmds[0].ops = 1000;
	r->cmds[1].ops = 9000;
	r->cmds[1].errors = 3;
	r->cmds[1].misses = 4500;
	for (int c = 0; c < 2; c++)
		ap_bench_cmd_stats_merge(&r->total, &r->cmds[c]);
	r->duration_s = 2;
	r->bench_user_s = 0.5;
	r->bench_sys_s = 1.0;
	r->thread_count = 1;
	r->thread_cpu_s[0] = 1.5;
	r->server_cpu_s = 1.9;
	snprintf(r->server_version, sizeof(r->server_version), "redis 7.0.15");
	for (int s = 1; s <= 2; s++) {
		struct ap_bench_tick t = {.t = s,
					  .ops = 5000,
					  .p50 = 200000,
					  .p99 = 300000,
					  .p999 = 500000000,
					  .max = 500000000};

		ap_bench_result_add_tick(r, &t);
	}
}

/* The table shows every command and the totals with ms latencies. */
START_TEST(test_table)
{
	struct ap_bench_opts o;
	struct ap_bench_wl wl;
	struct ap_bench_result r;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	fake_result(&r, &o, &wl);
	ck_assert_double_eq(ap_bench_result_ops_per_sec(&r), 5000);
	ap_bench_report_table(f, &r);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "SET "));
	ck_assert_ptr_nonnull(strstr(text, "GET "));
	ck_assert_ptr_nonnull(strstr(text, "Totals"));
	ck_assert_ptr_nonnull(strstr(text, "500.000")); /* max in ms */
	ck_assert_ptr_nonnull(strstr(text, "3 errors"));
	ck_assert_ptr_nonnull(strstr(text, "Server CPU: 1.90 s"));
	ck_assert_ptr_nonnull(strstr(text, "190.000 us/request"));
	free(text);
	ap_bench_result_deinit(&r);
	ap_bench_wl_destroy(&wl);
}
END_TEST

/* The JSON document carries the numbers, escaped strings and curves. */
START_TEST(test_json)
{
	struct ap_bench_opts o;
	struct ap_bench_wl wl;
	struct ap_bench_result r;
	struct ap_bench_sb sb = {0};

	fake_result(&r, &o, &wl);
	ap_bench_report_json(&sb, &r);
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"ops_per_sec\": 5000.00"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"label\": \"run \\u003c/script"
					     "> \\\"x\\\"\""));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"p99\": 200.0"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"p99.9\": 500000.000"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"max\": 500000.000"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"cpu_us_per_request\": 190."));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"percentiles\": [[0.000000"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "[100, 500000.000]]"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"timeline\": ["));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"t\": 2.000"));
	ck_assert_ptr_null(strstr(sb.buf, "</"));
	/* Balanced braces and brackets (a cheap well-formedness check;
	 * strings here hold none). */
	int depth = 0;

	for (const char *p = sb.buf; *p; p++) {
		depth += *p == '{' || *p == '[';
		depth -= *p == '}' || *p == ']';
		ck_assert_int_ge(depth, 0);
	}
	ck_assert_int_eq(depth, 0);
	ap_bench_sb_free(&sb);
	ap_bench_result_deinit(&r);
	ap_bench_wl_destroy(&wl);
}
END_TEST

/* The HTML page embeds every result, needs no network and refuses
 * files that are not results. */
START_TEST(test_html)
{
	struct ap_bench_opts o;
	struct ap_bench_wl wl;
	struct ap_bench_result r;
	struct ap_bench_sb sb = {0};
	char path[] = "/tmp/apiary-bench-test-XXXXXX";
	char err[256];
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	fake_result(&r, &o, &wl);
	ap_bench_report_json(&sb, &r);
	const char *jsons[2] = {sb.buf, "{\"x\": \"</script><b>\"}"};
	const char *names[2] = {"a.json", "b.json"};

	ck_assert_int_eq(
		ap_bench_report_html(path, jsons, names, 2, err, sizeof(err)),
		0);
	size_t len;
	char *page = ap_bench_file_read(path, &len, err, sizeof(err));

	ck_assert_ptr_nonnull(page);
	ck_assert_ptr_nonnull(strstr(page, "<svg"));
	ck_assert_ptr_nonnull(strstr(page, "\"name\": \"a.json\""));
	ck_assert_ptr_nonnull(strstr(page, "\"name\": \"b.json\""));
	ck_assert_ptr_nonnull(strstr(page, "<\\/script><b>"));
	/* exactly one closing script tag: the page's own */
	char *end = strstr(page, "</script>");

	ck_assert_ptr_nonnull(end);
	ck_assert_ptr_null(strstr(end + 1, "</script>"));
	ck_assert_ptr_null(strstr(page, "src="));
	ck_assert_ptr_null(strstr(page, "href="));
	ap_free(page);
	const char *bad[1] = {"not json"};

	ck_assert_int_lt(
		ap_bench_report_html(path, bad, names, 1, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "a.json"));
	ck_assert_int_lt(ap_bench_report_html("/nonexistent/dir/x.html", jsons,
					      names, 1, err, sizeof(err)),
			 0);
	ck_assert_ptr_null(ap_bench_file_read("/nonexistent/x.json", &len, err,
					      sizeof(err)));
	unlink(path);
	ap_bench_sb_free(&sb);
	ap_bench_result_deinit(&r);
	ap_bench_wl_destroy(&wl);
}
END_TEST

/* The string builder grows past its first block and formats big text. */
START_TEST(test_sb)
{
	struct ap_bench_sb sb = {0};
	char big[2000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int i = 0; i < 10; i++)
		ap_bench_sb_printf(&sb, "%s", big);
	ck_assert_uint_eq(sb.len, 10 * (sizeof(big) - 1));
	ck_assert_uint_eq(strlen(sb.buf), sb.len);
	ap_bench_sb_append(&sb, "", 0);
	ck_assert_uint_eq(strlen(sb.buf), sb.len);
	ap_bench_sb_free(&sb);
	ck_assert_ptr_null(sb.buf);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("bench_report");
	TCase *tc = tcase_create("report");

	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_html);
	tcase_add_test(tc, test_sb);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(report_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
