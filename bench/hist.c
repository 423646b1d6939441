/*
 * hist.c - the latency histogram (log-linear buckets, bounded relative
 * error, mergeable) and the per-command counters built on it.
 *
 * Layout: index v for v < 2^SUB_BITS; above, bucket (shift, sub) holds
 * [sub << shift, (sub + 1) << shift) with sub in [HALF, 2 * HALF), so the
 * width over the lowest value is at most 1 / HALF. See bench.h.
 */
#include "bench/bench.h"

#include <math.h>
#include <string.h>

/* Allocates the bucket array; the histogram starts empty. */
void ap_bench_hist_init(struct ap_bench_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->counts = ap_calloc(AP_BENCH_HIST_BUCKETS, sizeof(*h->counts));
	h->min = UINT64_MAX;
}

/* Frees the bucket array. */
void ap_bench_hist_deinit(struct ap_bench_hist *h)
{
	ap_free(h->counts);
	h->counts = NULL;
}

/* Empties the histogram, keeping its memory. */
void ap_bench_hist_reset(struct ap_bench_hist *h)
{
	memset(h->counts, 0, AP_BENCH_HIST_BUCKETS * sizeof(*h->counts));
	h->count = h->sum = h->max = h->overflow = 0;
	h->min = UINT64_MAX;
}

/* Shift (log2 of the width) of bucket idx; 0 for the exact range. */
static unsigned bucket_shift(size_t idx)
{
	if (idx < (1u << AP_BENCH_HIST_SUB_BITS))
		return 0;
	return (unsigned)((idx - (1u << AP_BENCH_HIST_SUB_BITS)) /
			  AP_BENCH_HIST_HALF) +
	       1;
}

/* Smallest value that maps to bucket idx. */
uint64_t ap_bench_hist_lowest(size_t idx)
{
	AP_ASSERT(idx < AP_BENCH_HIST_BUCKETS);
	unsigned shift = bucket_shift(idx);

	if (shift == 0)
		return idx;
	uint64_t sub =
		AP_BENCH_HIST_HALF +
		(idx - (1u << AP_BENCH_HIST_SUB_BITS)) % AP_BENCH_HIST_HALF;

	return sub << shift;
}

/* Largest value that maps to bucket idx. */
uint64_t ap_bench_hist_highest(size_t idx)
{
	return ap_bench_hist_lowest(idx) + (1ULL << bucket_shift(idx)) - 1;
}

/* Adds every count of src into dst; min/max/sum combine exactly. */
void ap_bench_hist_merge(struct ap_bench_hist *dst,
			 const struct ap_bench_hist *src)
{
	if (src->count == 0)
		return;
	for (size_t i = 0; i < AP_BENCH_HIST_BUCKETS; i++)
		dst->counts[i] += src->counts[i];
	dst->count += src->count;
	dst->overflow += src->overflow;
	dst->sum = dst->sum + src->sum < dst->sum ? UINT64_MAX
						  : dst->sum + src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

/* Value at a percentile; see bench.h for the exact definition. */
uint64_t ap_bench_hist_percentile(const struct ap_bench_hist *h, double pct)
{
	if (h->count == 0)
		return 0;
	if (!(pct > 0))
		return h->min;
	if (pct >= 100)
		return h->max;
	/* The tiny relative margin keeps 99.9% of 1000 at 999, not 1000
	 * (99.9 / 100 is a hair above 0.999 in binary). */
	uint64_t target =
		(uint64_t)ceil(pct / 100.0 * (double)h->count * (1 - 1e-12));
	uint64_t seen = 0;

	if (target == 0)
		target = 1;
	if (target > h->count)
		target = h->count;
	for (size_t i = 0; i < AP_BENCH_HIST_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= target) {
			uint64_t v = ap_bench_hist_highest(i);

			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	AP_ASSERT(!"histogram counts below its total");
	return h->max;
}

/* Arithmetic mean of the recorded values (0 when empty). */
double ap_bench_hist_mean(const struct ap_bench_hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}

/* --------------------------------------------------- per-command counters */

/* Zeroes the counters and allocates the histogram. */
void ap_bench_cmd_stats_init(struct ap_bench_cmd_stats *s)
{
	memset(s, 0, sizeof(*s));
	ap_bench_hist_init(&s->hist);
}

void ap_bench_cmd_stats_deinit(struct ap_bench_cmd_stats *s)
{
	ap_bench_hist_deinit(&s->hist);
}

/* Zeroes the counters and empties the histogram. */
void ap_bench_cmd_stats_reset(struct ap_bench_cmd_stats *s)
{
	struct ap_bench_hist h = s->hist;

	memset(s, 0, sizeof(*s));
	s->hist = h;
	ap_bench_hist_reset(&s->hist);
}

/* Adds src's counters and histogram into dst. */
void ap_bench_cmd_stats_merge(struct ap_bench_cmd_stats *dst,
			      const struct ap_bench_cmd_stats *src)
{
	ap_bench_hist_merge(&dst->hist, &src->hist);
	dst->ops += src->ops;
	dst->errors += src->errors;
	dst->misses += src->misses;
	dst->moved += src->moved;
	dst->ask += src->ask;
	dst->bytes_out += src->bytes_out;
	dst->bytes_in += src->bytes_in;
}
