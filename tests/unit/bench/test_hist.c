/*
 * test_hist.c - the latency histogram: bucket layout and its error bound,
 * exact boundaries, percentiles on known distributions, merging.
 */
#include "bench/bench.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>

#define REL_ERR (1.0 / AP_BENCH_HIST_HALF)

/* Every bucket is contiguous with the next and no wider than the bound. */
START_TEST(test_layout_contiguous)
{
	for (size_t i = 0; i + 1 < AP_BENCH_HIST_BUCKETS; i++) {
		uint64_t lo = ap_bench_hist_lowest(i);
		uint64_t hi = ap_bench_hist_highest(i);

		ck_assert_uint_eq(ap_bench_hist_lowest(i + 1), hi + 1);
		ck_assert_uint_eq(ap_bench_hist_index(lo), i);
		ck_assert_uint_eq(ap_bench_hist_index(hi), i);
		if (lo >= (1u << AP_BENCH_HIST_SUB_BITS))
			ck_assert((double)(hi - lo + 1) / (double)lo <=
				  REL_ERR);
		else
			ck_assert_uint_eq(lo, hi); /* exact below 2^SUB_BITS */
	}
	ck_assert_uint_eq(ap_bench_hist_highest(AP_BENCH_HIST_BUCKETS - 1),
			  AP_BENCH_HIST_VALUE_MAX);
}
END_TEST

/* Any value lands in a bucket whose range holds it. */
START_TEST(test_index_contains_value)
{
	struct ap_bench_rng r = {.s = 42};

	for (int i = 0; i < 200000; i++) {
		uint64_t v = ap_bench_rng_next(&r) >> (21 + i % 43);
		size_t idx = ap_bench_hist_index(v);

		ck_assert_uint_le(ap_bench_hist_lowest(idx), v);
		ck_assert_uint_ge(ap_bench_hist_highest(idx), v);
	}
	for (unsigned b = 0; b < 64; b++) {
		uint64_t v = 1ULL << b;
		size_t idx = ap_bench_hist_index(v);

		ck_assert_uint_lt(idx, AP_BENCH_HIST_BUCKETS);
		if (v <= AP_BENCH_HIST_VALUE_MAX)
			ck_assert_uint_eq(ap_bench_hist_lowest(idx), v);
	}
}
END_TEST

/* The largest tracked value and the first one above it. */
START_TEST(test_boundaries)
{
	struct ap_bench_hist h;

	ap_bench_hist_init(&h);
	ap_bench_hist_record(&h, AP_BENCH_HIST_VALUE_MAX);
	ck_assert_uint_eq(h.overflow, 0);
	ck_assert_uint_eq(h.counts[AP_BENCH_HIST_BUCKETS - 1], 1);
	ap_bench_hist_record(&h, AP_BENCH_HIST_VALUE_MAX + 1);
	ck_assert_uint_eq(h.overflow, 1);
	ck_assert_uint_eq(h.counts[AP_BENCH_HIST_BUCKETS - 1], 2);
	ck_assert_uint_eq(h.max, AP_BENCH_HIST_VALUE_MAX + 1);
	ap_bench_hist_record(&h, UINT64_MAX);
	ck_assert_uint_eq(h.overflow, 2);
	ck_assert_uint_eq(h.sum, UINT64_MAX); /* saturates */
	ck_assert_uint_eq(ap_bench_hist_percentile(&h, 100), UINT64_MAX);
	ap_bench_hist_record(&h, 0);
	ck_assert_uint_eq(h.counts[0], 1);
	ck_assert_uint_eq(h.min, 0);
	ck_assert_uint_eq(ap_bench_hist_percentile(&h, 0), 0);
	ap_bench_hist_deinit(&h);
}
END_TEST

/* An empty histogram answers zeros; reset empties. */
START_TEST(test_empty_and_reset)
{
	struct ap_bench_hist h;

	ap_bench_hist_init(&h);
	ck_assert_uint_eq(ap_bench_hist_percentile(&h, 50), 0);
	ck_assert_uint_eq(ap_bench_hist_percentile(&h, 100), 0);
	ck_assert(ap_bench_hist_mean(&h) == 0.0);
	ap_bench_hist_record(&h, 12345);
	ck_assert_uint_eq(ap_bench_hist_percentile(&h, 50), 12345);
	ap_bench_hist_reset(&h);
	ck_assert_uint_eq(h.count, 0);
	ck_assert_uint_eq(h.counts[ap_bench_hist_index(12345)], 0);
	ck_assert_uint_eq(ap_bench_hist_percentile(&h, 99), 0);
	ap_bench_hist_deinit(&h);
}
END_TEST

/* v is reported within the relative bound (and never below the truth). */
static void assert_close(uint64_t got, uint64_t want)
{
	ck_assert_msg(got >= want, "got %llu < want %llu",
		      (unsigned long long)got, (unsigned long long)want);
	ck_assert_msg((double)got <= (double)want * (1 + REL_ERR) + 1,
		      "got %llu too far above %llu", (unsigned long long)got,
		      (unsigned long long)want);
}

/* Uniform 1..N: the p-th percentile is ceil(p% * N). */
START_TEST(test_percentiles_uniform)
{
	struct ap_bench_hist h;
	const uint64_t n = 1000000;
	const double ps[] = {1, 10, 50, 90, 99, 99.9, 99.99, 99.999};

	ap_bench_hist_init(&h);
	for (uint64_t v = 1; v <= n; v++)
		ap_bench_hist_record(&h, v * 1000); /* 1 us .. 1 s */
	ck_assert_uint_eq(h.count, n);
	ck_assert_uint_eq(ap_bench_hist_percentile(&h, 0), 1000);
	ck_assert_uint_eq(ap_bench_hist_percentile(&h, 100), n * 1000);
	for (size_t i = 0; i < AP_ARRAY_LEN(ps); i++) {
		uint64_t rank = (uint64_t)llround(ps[i] / 100.0 * (double)n);

		assert_close(ap_bench_hist_percentile(&h, ps[i]), rank * 1000);
	}
	ck_assert(fabs(ap_bench_hist_mean(&h) - 500000.5 * 1000) < 1e-3);
	ap_bench_hist_deinit(&h);
}
END_TEST

/* A bimodal run: 99% fast, 1% stalled. The tail percentiles must show the
 * stall and p99 must not. */
START_TEST(test_percentiles_bimodal)
{
	struct ap_bench_hist h;

	ap_bench_hist_init(&h);
	for (int i = 0; i < 99000; i++)
		ap_bench_hist_record(&h, 100000); /* 100 us */
	for (int i = 0; i < 1000; i++)
		ap_bench_hist_record(&h, 500000000); /* 500 ms */
	assert_close(ap_bench_hist_percentile(&h, 50), 100000);
	assert_close(ap_bench_hist_percentile(&h, 99), 100000);
	assert_close(ap_bench_hist_percentile(&h, 99.001), 500000000);
	assert_close(ap_bench_hist_percentile(&h, 99.9), 500000000);
	ck_assert_uint_eq(ap_bench_hist_percentile(&h, 100), 500000000);
	/* Clamped to the exact max, never above it. */
	ck_assert_uint_le(ap_bench_hist_percentile(&h, 99.99), 500000000);
	ap_bench_hist_deinit(&h);
}
END_TEST

/* 1000 samples: p99.9 is the 999th, not the 1000th (float rounding). */
START_TEST(test_percentile_rank_rounding)
{
	struct ap_bench_hist h;

	ap_bench_hist_init(&h);
	for (uint64_t v = 1; v <= 1000; v++)
		ap_bench_hist_record(&h, v);
	ck_assert_uint_eq(ap_bench_hist_percentile(&h, 99.9), 999);
	ck_assert_uint_eq(ap_bench_hist_percentile(&h, 50), 500);
	ck_assert_uint_eq(ap_bench_hist_percentile(&h, 0.1), 1);
	ck_assert_uint_eq(ap_bench_hist_percentile(&h, 0.0001), 1);
	ck_assert_uint_eq(ap_bench_hist_percentile(&h, -5), 1);
	ck_assert_uint_eq(ap_bench_hist_percentile(&h, 250), 1000);
	ap_bench_hist_deinit(&h);
}
END_TEST

/* An exponential distribution: percentiles against the closed form. */
START_TEST(test_percentiles_exponential)
{
	struct ap_bench_hist h;
	struct ap_bench_rng r = {.s = 7};
	const double mean = 200000; /* 200 us */
	const int n = 2000000;

	ap_bench_hist_init(&h);
	for (int i = 0; i < n; i++) {
		double u = 1.0 - ap_bench_rng_double(&r);

		ap_bench_hist_record(&h, (uint64_t)(-mean * log(u)));
	}
	const double ps[] = {50, 90, 99, 99.9};

	for (size_t i = 0; i < AP_ARRAY_LEN(ps); i++) {
		double want = -mean * log(1 - ps[i] / 100);
		double got = (double)ap_bench_hist_percentile(&h, ps[i]);

		/* sampling noise dominates the bucket error here */
		ck_assert_msg(fabs(got - want) / want < 0.03,
			      "p%g: got %.0f want %.0f", ps[i], got, want);
	}
	ck_assert(fabs(ap_bench_hist_mean(&h) - mean) / mean < 0.01);
	ap_bench_hist_deinit(&h);
}
END_TEST

/* Merging two histograms equals recording both streams into one. */
START_TEST(test_merge_equals_combined)
{
	struct ap_bench_hist a, b, all;
	struct ap_bench_rng r = {.s = 99};

	ap_bench_hist_init(&a);
	ap_bench_hist_init(&b);
	ap_bench_hist_init(&all);
	for (int i = 0; i < 300000; i++) {
		uint64_t v = ap_bench_rng_next(&r) >> (20 + i % 30);

		ap_bench_hist_record(i % 3 ? &a : &b, v);
		ap_bench_hist_record(&all, v);
	}
	ap_bench_hist_merge(&a, &b);
	ck_assert_uint_eq(a.count, all.count);
	ck_assert_uint_eq(a.min, all.min);
	ck_assert_uint_eq(a.max, all.max);
	ck_assert_uint_eq(a.sum, all.sum);
	ck_assert_uint_eq(a.overflow, all.overflow);
	for (size_t i = 0; i < AP_BENCH_HIST_BUCKETS; i++)
		ck_assert_uint_eq(a.counts[i], all.counts[i]);
	for (double p = 0; p <= 100; p += 0.5)
		ck_assert_uint_eq(ap_bench_hist_percentile(&a, p),
				  ap_bench_hist_percentile(&all, p));
	/* Merging an empty histogram changes nothing. */
	ap_bench_hist_reset(&b);
	ap_bench_hist_merge(&a, &b);
	ck_assert_uint_eq(a.count, all.count);
	ck_assert_uint_eq(a.min, all.min);
	ap_bench_hist_deinit(&a);
	ap_bench_hist_deinit(&b);
	ap_bench_hist_deinit(&all);
}
END_TEST

/* Per-command counters merge field by field. */
START_TEST(test_cmd_stats_merge)
{
	struct ap_bench_cmd_stats x, y;

	ap_bench_cmd_stats_init(&x);
	ap_bench_cmd_stats_init(&y);
	x.ops = 3;
	x.errors = 1;
	y.ops = 4;
	y.misses = 2;
	y.moved = 5;
	y.ask = 6;
	y.bytes_in = 7;
	y.bytes_out = 8;
	ap_bench_hist_record(&y.hist, 10);
	ap_bench_cmd_stats_merge(&x, &y);
	ck_assert_uint_eq(x.ops, 7);
	ck_assert_uint_eq(x.errors, 1);
	ck_assert_uint_eq(x.misses, 2);
	ck_assert_uint_eq(x.moved, 5);
	ck_assert_uint_eq(x.ask, 6);
	ck_assert_uint_eq(x.bytes_in, 7);
	ck_assert_uint_eq(x.bytes_out, 8);
	ck_assert_uint_eq(x.hist.count, 1);
	ap_bench_cmd_stats_reset(&x);
	ck_assert_uint_eq(x.ops, 0);
	ck_assert_uint_eq(x.hist.count, 0);
	ck_assert_ptr_nonnull(x.hist.counts);
	ap_bench_cmd_stats_deinit(&x);
	ap_bench_cmd_stats_deinit(&y);
}
END_TEST

static Suite *hist_suite(void)
{
	Suite *s = suite_create("bench_hist");
	TCase *tc = tcase_create("hist");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_layout_contiguous);
	tcase_add_test(tc, test_index_contains_value);
	tcase_add_test(tc, test_boundaries);
	tcase_add_test(tc, test_empty_and_reset);
	tcase_add_test(tc, test_percentiles_uniform);
	tcase_add_test(tc, test_percentiles_bimodal);
	tcase_add_test(tc, test_percentile_rank_rounding);
	tcase_add_test(tc, test_percentiles_exponential);
	tcase_add_test(tc, test_merge_equals_combined);
	tcase_add_test(tc, test_cmd_stats_merge);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hist_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
