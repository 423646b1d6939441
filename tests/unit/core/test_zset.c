/*
 * test_zset.c - unit tests for core/zset.c: the sorted-set value in both
 * encodings, checked operation by operation against a reference model (a
 * sorted array), the listpack -> skiplist conversion at its exact
 * boundaries, score edge cases (-0, inf, raw listpack scores), ranges by
 * rank, score and lex with offsets and limits, range deletes, pops, set
 * operations with weights and aggregates, ZSCAN across resizes, random
 * members, the type operations (dup, free_some, mem).
 */
#include "core/zset.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dict.h"

/* --- the reference model: a sorted array ------------------------------ */

#define MODEL_MAX  4096
#define MEMBER_MAX 48

struct melem {
	char m[MEMBER_MAX];
	size_t len;
	double score;
};

struct model {
	struct melem e[MODEL_MAX];
	size_t n;
};

static int elem_order(const struct melem *a, const struct melem *b)
{
	if (a->score != b->score)
		return a->score < b->score ? -1 : 1;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->m, b->m, n);

	if (c != 0)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

static int melem_cmp(const void *a, const void *b)
{
	return elem_order(a, b);
}

static void model_sort(struct model *md)
{
	qsort(md->e, md->n, sizeof(md->e[0]), melem_cmp);
}

static long model_find(const struct model *md, const char *m, size_t len)
{
	for (size_t i = 0; i < md->n; i++)
		if (md->e[i].len == len && memcmp(md->e[i].m, m, len) == 0)
			return (long)i;
	return -1;
}

static void model_del_at(struct model *md, size_t i)
{
	memmove(&md->e[i], &md->e[i + 1], (md->n - i - 1) * sizeof(md->e[0]));
	md->n--;
}

/* Model of ap_zset_add. */
static enum ap_zadd_result model_add(struct model *md, const char *m,
				     size_t len, double score, unsigned flags,
				     double *newscore)
{
	long i = model_find(md, m, len);

	if (i >= 0) {
		double cur = md->e[i].score;

		if (flags & AP_ZADD_NX)
			return AP_ZADD_NOP;
		if (flags & AP_ZADD_INCR) {
			score += cur;
			if (isnan(score))
				return AP_ZADD_NAN;
		}
		if (((flags & AP_ZADD_LT) && score >= cur) ||
		    ((flags & AP_ZADD_GT) && score <= cur))
			return AP_ZADD_NOP;
		*newscore = score;
		if (score == cur)
			return AP_ZADD_SAME;
		md->e[i].score = score;
		model_sort(md);
		return AP_ZADD_UPDATED;
	}
	if (flags & AP_ZADD_XX)
		return AP_ZADD_NOP;
	ck_assert_uint_lt(md->n, MODEL_MAX);
	memcpy(md->e[md->n].m, m, len);
	md->e[md->n].len = len;
	md->e[md->n].score = score;
	md->n++;
	model_sort(md);
	*newscore = score;
	return AP_ZADD_ADDED;
}

static bool in_range(double s, const struct ap_zset_range *r)
{
	return (r->minex ? s > r->min : s >= r->min) &&
	       (r->maxex ? s < r->max : s <= r->max);
}

static int bytes_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	size_t n = al < bl ? al : bl;
	int c = n ? memcmp(a, b, n) : 0;

	return c ? c : (al < bl ? -1 : al > bl);
}

static bool in_lex(const char *m, size_t len, const struct ap_zset_lex *r)
{
	bool lo, hi;

	switch (r->min_kind) {
	case AP_ZLEX_NEG_INF:
		lo = true;
		break;
	case AP_ZLEX_POS_INF:
		lo = false;
		break;
	case AP_ZLEX_INCL:
		lo = bytes_cmp(m, len, r->min, r->minlen) >= 0;
		break;
	default:
		lo = bytes_cmp(m, len, r->min, r->minlen) > 0;
	}
	switch (r->max_kind) {
	case AP_ZLEX_POS_INF:
		hi = true;
		break;
	case AP_ZLEX_NEG_INF:
		hi = false;
		break;
	case AP_ZLEX_INCL:
		hi = bytes_cmp(m, len, r->max, r->maxlen) <= 0;
		break;
	default:
		hi = bytes_cmp(m, len, r->max, r->maxlen) < 0;
	}
	return lo && hi;
}

/* --- comparing the set with the model ---------------------------------- */

static void check_equal(const struct ap_zset *z, const struct model *md)
{
	struct ap_zset_iter it;
	const char *m;
	size_t len, i = 0;
	double s;

	ap_zset_verify(z);
	ck_assert_uint_eq(ap_zset_len(z), md->n);
	ap_zset_iter_rank(&it, z, 0, SIZE_MAX, false);
	while (ap_zset_iter_next(&it, &m, &len, &s)) {
		ck_assert_uint_lt(i, md->n);
		ck_assert_uint_eq(len, md->e[i].len);
		ck_assert(memcmp(m, md->e[i].m, len) == 0);
		ck_assert(s == md->e[i].score);
		i++;
	}
	ck_assert_uint_eq(i, md->n);
}

/* Walks it and checks it yields exactly model elements idx[0..n). */
static void check_walk(struct ap_zset_iter *it, const struct model *md,
		       const size_t *idx, size_t n)
{
	const char *m;
	size_t len, i = 0;
	double s;

	while (ap_zset_iter_next(it, &m, &len, &s)) {
		ck_assert_uint_lt(i, n);
		const struct melem *e = &md->e[idx[i]];
		ck_assert_uint_eq(len, e->len);
		ck_assert(memcmp(m, e->m, len) == 0);
		ck_assert(s == e->score);
		i++;
	}
	ck_assert_uint_eq(i, n);
}

/* --- random inputs -------------------------------------------------------- */

static uint64_t rng_state = 12345;

static uint64_t rnd(void)
{
	return ap_dict_rand(&rng_state);
}

static size_t rnd_below(size_t n)
{
	return (size_t)(rnd() % n);
}

static const double score_pool[] = {
	0.0,  -0.0, 1.0,    -1.0,   1.5,      2.0,	 3.0,
	-2.5, 10.0, 1e300,  -1e300, INFINITY, -INFINITY, 0.1,
	0.2,  0.3,  4.0e18, 9.3e18, -9.3e18,  7.0,	 100.0,
};

static double rnd_score(void)
{
	if (rnd_below(3) == 0)
		return (double)((long long)rnd_below(41) - 20);
	return score_pool[rnd_below(AP_ARRAY_LEN(score_pool))];
}

/* A member from a small universe: words, integers (stored as listpack
 * integers), the empty string, and some long ones. */
static size_t rnd_member(char *buf, size_t universe)
{
	size_t k = rnd_below(universe);

	switch (k % 5) {
	case 0:
		return (size_t)snprintf(buf, MEMBER_MAX, "%zu", k);
	case 1:
		return (size_t)snprintf(buf, MEMBER_MAX, "-%zu", k);
	case 2:
		if (k == 2)
			return 0;
		return (size_t)snprintf(buf, MEMBER_MAX, "m:%zu", k);
	case 3:
		return (size_t)snprintf(buf, MEMBER_MAX, "%c",
					'a' + (int)(k % 26));
	default:
		return (size_t)snprintf(buf, MEMBER_MAX,
					"long-member-name-%zu-xxxxxxxxxxxx", k);
	}
}

static void rnd_range(struct ap_zset_range *r)
{
	double a = rnd_score(), b = rnd_score();

	if (rnd_below(4) != 0 && a > b) {
		double t = a;
		a = b;
		b = t;
	}
	r->min = a;
	r->max = b;
	r->minex = rnd_below(3) == 0;
	r->maxex = rnd_below(3) == 0;
}

static char lexbuf[2][MEMBER_MAX];

static void rnd_lex(struct ap_zset_lex *r, size_t universe)
{
	enum ap_zset_lex_kind kinds[] = {AP_ZLEX_NEG_INF, AP_ZLEX_POS_INF,
					 AP_ZLEX_INCL,	  AP_ZLEX_EXCL,
					 AP_ZLEX_INCL,	  AP_ZLEX_EXCL};

	r->min_kind = kinds[rnd_below(6)];
	r->max_kind = kinds[rnd_below(6)];
	r->minlen = rnd_member(lexbuf[0], universe);
	r->maxlen = rnd_member(lexbuf[1], universe);
	r->min = lexbuf[0];
	r->max = lexbuf[1];
	if (rnd_below(4) != 0 &&
	    bytes_cmp(r->min, r->minlen, r->max, r->maxlen) > 0) {
		r->min = lexbuf[1];
		r->max = lexbuf[0];
		size_t t = r->minlen;
		r->minlen = r->maxlen;
		r->maxlen = t;
	}
}

/* --- the randomized test ---------------------------------------------- */

struct pop_check {
	struct model *md;
	bool max;
	size_t n;
};

static void pop_visit(void *arg, const char *m, size_t len, double score)
{
	struct pop_check *pc = arg;
	struct model *md = pc->md;
	size_t i = pc->max ? md->n - 1 : 0;

	ck_assert_uint_gt(md->n, 0);
	ck_assert_uint_eq(len, md->e[i].len);
	ck_assert(memcmp(m, md->e[i].m, len) == 0);
	ck_assert(score == md->e[i].score);
	model_del_at(md, i);
	pc->n++;
}

struct rand_check {
	const struct model *md;
	int hits[MODEL_MAX];
	size_t n;
};

static void rand_visit(void *arg, const char *m, size_t len, double score)
{
	struct rand_check *rc = arg;
	long i = model_find(rc->md, m, len);

	ck_assert_int_ge(i, 0);
	ck_assert(rc->md->e[i].score == score);
	rc->hits[i]++;
	rc->n++;
}

/* One random operation on z and the model, compared. In lexmode every
 * score is 0 (lex ranges are meant for such sets). */
static void op_random(struct ap_zset *z, struct model *md, size_t universe,
		      bool lexmode)
{
	char m[MEMBER_MAX];
	size_t len = rnd_member(m, universe);
	size_t idx[MODEL_MAX], k = 0;
	struct ap_zset_iter it;

	switch (rnd_below(lexmode ? 10 : 12)) {
	case 0:
	case 1:
	case 2: { /* add */
		static const unsigned fl[] = {
			0,
			AP_ZADD_NX,
			AP_ZADD_XX,
			AP_ZADD_GT,
			AP_ZADD_LT,
			AP_ZADD_INCR,
			AP_ZADD_INCR | AP_ZADD_GT,
			AP_ZADD_XX | AP_ZADD_LT,
			AP_ZADD_INCR | AP_ZADD_XX,
		};
		unsigned f = lexmode ? 0 : fl[rnd_below(AP_ARRAY_LEN(fl))];
		double s = lexmode ? 0 : rnd_score(), s1 = -7, s2 = -7;
		enum ap_zadd_result r1, r2;

		r2 = model_add(md, m, len, s, f, &s2);
		r1 = ap_zset_add(z, m, len, s, f, &s1);
		ck_assert_int_eq(r1, r2);
		if (r1 != AP_ZADD_NOP && r1 != AP_ZADD_NAN)
			ck_assert(s1 == s2);
		break;
	}
	case 3: { /* delete */
		long i = model_find(md, m, len);
		ck_assert(ap_zset_del(z, m, len) == (i >= 0));
		if (i >= 0)
			model_del_at(md, (size_t)i);
		break;
	}
	case 4: { /* score and rank */
		long i = model_find(md, m, len);
		double s;
		size_t rank;
		bool rev = rnd_below(2);

		ck_assert(ap_zset_score(z, m, len, &s) == (i >= 0));
		ck_assert(ap_zset_rank(z, m, len, rev, &rank, &s) == (i >= 0));
		if (i >= 0) {
			ck_assert(s == md->e[i].score);
			ck_assert_uint_eq(rank, rev ? md->n - 1 - (size_t)i
						    : (size_t)i);
		}
		break;
	}
	case 5: { /* rank walk with skip and limit */
		size_t start = rnd_below(md->n + 3),
		       count = rnd_below(md->n + 3);
		size_t skip = rnd_below(md->n + 40);
		bool rev = rnd_below(2);

		ap_zset_iter_rank(&it, z, start, SIZE_MAX, rev);
		ap_zset_iter_skip(&it, skip);
		ap_zset_iter_limit(&it, count);
		for (size_t i = start + skip; i < md->n && k < count; i++)
			idx[k++] = rev ? md->n - 1 - i : i;
		check_walk(&it, md, idx, k);
		break;
	}
	case 6: { /* lex walk, count, delete */
		struct ap_zset_lex r;
		bool rev = rnd_below(2);
		size_t off = rnd_below(8), lim = rnd_below(md->n + 2);

		if (!lexmode)
			break;
		rnd_lex(&r, universe);
		for (size_t j = 0; j < md->n; j++) {
			size_t i = rev ? md->n - 1 - j : j;
			if (in_lex(md->e[i].m, md->e[i].len, &r))
				idx[k++] = i;
		}
		ck_assert_uint_eq(ap_zset_lex_count(z, &r), k);
		ap_zset_iter_lex(&it, z, &r, rev);
		ap_zset_iter_skip(&it, off);
		ap_zset_iter_limit(&it, lim);
		if (off < k) {
			size_t n = AP_MIN(k - off, lim);
			check_walk(&it, md, idx + off, n);
		} else {
			check_walk(&it, md, idx, 0);
		}
		if (rnd_below(4) == 0) {
			ck_assert_uint_eq(ap_zset_del_lex(z, &r), k);
			for (size_t j = md->n; j-- > 0;)
				if (in_lex(md->e[j].m, md->e[j].len, &r))
					model_del_at(md, j);
		}
		break;
	}
	case 7: { /* pop */
		struct pop_check pc = {.md = md, .max = rnd_below(2)};
		size_t count = rnd_below(4);
		size_t exp = AP_MIN(count, md->n);

		ck_assert_uint_eq(ap_zset_pop(z, pc.max, count, pop_visit, &pc),
				  exp);
		ck_assert_uint_eq(pc.n, exp);
		break;
	}
	case 8: { /* delete a rank range */
		size_t a, b;

		if (md->n == 0 || rnd_below(3) != 0)
			break;
		a = rnd_below(md->n);
		b = a + rnd_below(AP_MIN(md->n - a, (size_t)6));
		ck_assert_uint_eq(ap_zset_del_rank(z, a, b), b - a + 1);
		for (size_t i = b + 1; i-- > a;)
			model_del_at(md, i);
		break;
	}
	case 9: { /* random members */
		struct rand_check rc = {.md = md};
		size_t count = rnd_below(md->n + 3);
		bool unique = rnd_below(2);

		ck_assert_uint_eq(
			ap_zset_random(z, count, unique, rand_visit, &rc),
			unique ? AP_MIN(count, md->n) : (md->n ? count : 0));
		ck_assert_uint_eq(rc.n, unique ? AP_MIN(count, md->n)
					       : (md->n ? count : 0));
		if (unique)
			for (size_t i = 0; i < md->n; i++)
				ck_assert_int_le(rc.hits[i], 1);
		break;
	}
	case 10: { /* score walk, count */
		struct ap_zset_range r;
		bool rev = rnd_below(2);
		size_t off = rnd_below(6), lim = rnd_below(md->n + 2);

		rnd_range(&r);
		for (size_t j = 0; j < md->n; j++) {
			size_t i = rev ? md->n - 1 - j : j;
			if (in_range(md->e[i].score, &r))
				idx[k++] = i;
		}
		ck_assert_uint_eq(ap_zset_count(z, &r), k);
		ap_zset_iter_score(&it, z, &r, rev);
		ap_zset_iter_skip(&it, off);
		ap_zset_iter_limit(&it, lim);
		if (off < k)
			check_walk(&it, md, idx + off, AP_MIN(k - off, lim));
		else
			check_walk(&it, md, idx, 0);
		break;
	}
	default: { /* delete a score range */
		struct ap_zset_range r;
		size_t n = 0;

		if (rnd_below(3) != 0)
			break;
		rnd_range(&r);
		for (size_t j = md->n; j-- > 0;)
			if (in_range(md->e[j].score, &r)) {
				model_del_at(md, j);
				n++;
			}
		ck_assert_uint_eq(ap_zset_del_range(z, &r), n);
		break;
	}
	}
}

/* Runs `ops` random operations on a set with the given listpack limit,
 * comparing with the model after each. */
static void run_random(size_t lp_max, size_t lp_value, size_t universe,
		       size_t ops, bool lexmode, uint64_t seed)
{
	static struct model md;
	struct ap_zset z;
	bool saw_lp = false, saw_sl = false;

	rng_state = seed;
	md.n = 0;
	ap_zset_create(&z, lp_max, lp_value, 0, 0);
	for (size_t i = 0; i < ops; i++) {
		op_random(&z, &md, universe, lexmode);
		check_equal(&z, &md);
		if (z.enc == AP_ENC_LISTPACK && md.n > 0)
			saw_lp = true;
		else if (z.enc == AP_ENC_SKIPLIST)
			saw_sl = true;
		/* Never back to a listpack by deletes. */
		if (saw_sl)
			ck_assert_int_eq(z.enc, AP_ENC_SKIPLIST);
	}
	if (lp_max == 0)
		ck_assert(!saw_lp && saw_sl);
	if (lp_max >= universe && lp_value >= MEMBER_MAX)
		ck_assert(saw_lp && !saw_sl);
	ap_zset_destroy(&z);
}

START_TEST(test_random_listpack)
{
	run_random(100000, 64, 60, 4000, false, 1);
}
END_TEST

START_TEST(test_random_skiplist)
{
	run_random(0, 64, 200, 6000, false, 2);
	run_random(0, 64, 1500, 6000, false, 3);
}
END_TEST

START_TEST(test_random_converting)
{
	run_random(16, 64, 60, 6000, false, 4);
	run_random(128, 20, 200, 6000, false, 5);
}
END_TEST

START_TEST(test_random_lex)
{
	run_random(100000, 64, 80, 3000, true, 6);
	run_random(0, 64, 300, 5000, true, 7);
	run_random(20, 64, 80, 5000, true, 8);
}
END_TEST

/* --- encodings and conversion ------------------------------------------ */

static void add_ok(struct ap_zset *z, const char *m, double s)
{
	double ns;

	ck_assert_int_eq(ap_zset_add(z, m, strlen(m), s, 0, &ns),
			 AP_ZADD_ADDED);
	ck_assert(ns == s);
}

START_TEST(test_conversion_boundary)
{
	struct ap_zset z;
	double ns;
	char m[16];

	/* Entries: exactly lp_max members stay a listpack. */
	ap_zset_create(&z, 4, 5, 0, 0);
	ck_assert_int_eq(z.enc, AP_ENC_LISTPACK);
	for (int i = 0; i < 4; i++) {
		snprintf(m, sizeof(m), "m%d", i);
		add_ok(&z, m, i);
	}
	ck_assert_int_eq(z.enc, AP_ENC_LISTPACK);
	/* Updating and re-adding existing members does not convert. */
	ck_assert_int_eq(ap_zset_add(&z, "m0", 2, 10, 0, &ns), AP_ZADD_UPDATED);
	ck_assert_int_eq(ap_zset_add(&z, "m0", 2, 10, 0, &ns), AP_ZADD_SAME);
	ck_assert_int_eq(ap_zset_add(&z, "m9", 2, 1, AP_ZADD_XX, &ns),
			 AP_ZADD_NOP);
	ck_assert_int_eq(z.enc, AP_ENC_LISTPACK);
	add_ok(&z, "m4", 4);
	ck_assert_int_eq(z.enc, AP_ENC_SKIPLIST);
	ck_assert_uint_eq(ap_zset_len(&z), 5);
	ap_zset_verify(&z);
	/* Deleting back to one member keeps the skiplist. */
	for (int i = 1; i < 5; i++) {
		snprintf(m, sizeof(m), "m%d", i);
		ck_assert(ap_zset_del(&z, m, strlen(m)));
	}
	ck_assert_int_eq(z.enc, AP_ENC_SKIPLIST);
	ck_assert(ap_zset_score(&z, "m0", 2, &ns) && ns == 10);
	ap_zset_destroy(&z);
	ck_assert_ptr_null(z.obj);

	/* Value: a member of exactly lp_value bytes fits, one more not. */
	ap_zset_create(&z, 4, 5, 0, 0);
	add_ok(&z, "abcde", 1);
	ck_assert_int_eq(z.enc, AP_ENC_LISTPACK);
	add_ok(&z, "abcdef", 1);
	ck_assert_int_eq(z.enc, AP_ENC_SKIPLIST);
	ap_zset_verify(&z);
	ap_zset_destroy(&z);

	/* Creation hints as Redis's zsetTypeCreate. */
	ap_zset_create(&z, 4, 5, 4, 5);
	ck_assert_int_eq(z.enc, AP_ENC_LISTPACK);
	ap_zset_destroy(&z);
	ap_zset_create(&z, 4, 5, 5, 1);
	ck_assert_int_eq(z.enc, AP_ENC_SKIPLIST);
	ap_zset_destroy(&z);
	ap_zset_create(&z, 4, 5, 1, 6);
	ck_assert_int_eq(z.enc, AP_ENC_SKIPLIST);
	ap_zset_destroy(&z);
	ap_zset_create(&z, 0, 5, 1, 0);
	ck_assert_int_eq(z.enc, AP_ENC_SKIPLIST);
	ap_zset_destroy(&z);
}
END_TEST

/* Scores that must round-trip exactly through both encodings. */
START_TEST(test_score_edges)
{
	static const double scores[] = {
		0.0,
		-0.0,
		1.5,
		-1.0,
		INFINITY,
		-INFINITY,
		9223372036854775807.0, /* 2^63: not an int64 */
		-9223372036854775808.0,
		4503599627370497.0,
		0.1,
		1e-300,
		-123456789.0,
	};
	for (int enc = 0; enc < 2; enc++) {
		struct ap_zset z;
		char m[16];
		double s;

		ap_zset_create(&z, enc ? 0 : 128, 64, 0, 0);
		for (size_t i = 0; i < AP_ARRAY_LEN(scores); i++) {
			snprintf(m, sizeof(m), "%zu", i);
			add_ok(&z, m, scores[i]);
		}
		ap_zset_verify(&z);
		for (size_t i = 0; i < AP_ARRAY_LEN(scores); i++) {
			snprintf(m, sizeof(m), "%zu", i);
			ck_assert(ap_zset_score(&z, m, strlen(m), &s));
			ck_assert(s == scores[i]);
			/* A listpack keeps -0 as the integer 0. */
			ck_assert(!!signbit(s) ==
				  (!!signbit(scores[i]) && (enc || s != 0)));
		}
		/* INCR to NaN changes nothing; inf + 1 stays inf. */
		ck_assert_int_eq(
			ap_zset_add(&z, "4", 1, -INFINITY, AP_ZADD_INCR, &s),
			AP_ZADD_NAN);
		ck_assert(ap_zset_score(&z, "4", 1, &s) && s == INFINITY);
		ck_assert_int_eq(ap_zset_add(&z, "4", 1, 1, AP_ZADD_INCR, &s),
				 AP_ZADD_SAME);
		ck_assert(s == INFINITY);
		/* INCR of a new member starts from 0. */
		ck_assert_int_eq(
			ap_zset_add(&z, "new", 3, 2.5, AP_ZADD_INCR, &s),
			AP_ZADD_ADDED);
		ck_assert(s == 2.5);
		/* GT/LT do not stop adding new members. */
		ck_assert_int_eq(ap_zset_add(&z, "gt", 2, -5, AP_ZADD_GT, &s),
				 AP_ZADD_ADDED);
		ck_assert_int_eq(ap_zset_add(&z, "gt", 2, -6, AP_ZADD_GT, &s),
				 AP_ZADD_NOP);
		ck_assert_int_eq(ap_zset_add(&z, "gt", 2, -4, AP_ZADD_GT, &s),
				 AP_ZADD_UPDATED);
		ck_assert_int_eq(ap_zset_add(&z, "gt", 2, -3, AP_ZADD_LT, &s),
				 AP_ZADD_NOP);
		ap_zset_verify(&z);
		ap_zset_destroy(&z);
	}
}
END_TEST

START_TEST(test_range_parse)
{
	struct ap_zset_range r;
	struct ap_zset_lex l;

#define RP(a, b) ap_zset_range_parse(a, strlen(a), b, strlen(b), &r)
	ck_assert(RP("1.5", "(2"));
	ck_assert(r.min == 1.5 && !r.minex && r.max == 2 && r.maxex);
	ck_assert(RP("-inf", "+inf"));
	ck_assert(r.min == -INFINITY && r.max == INFINITY);
	ck_assert(RP("(-inf", "inf"));
	ck_assert(r.minex && r.max == INFINITY);
	ck_assert(RP("(", ""));
	ck_assert(r.min == 0 && r.minex && r.max == 0 && !r.maxex);
	ck_assert(RP("1e400", "-1e400"));
	ck_assert(r.min == INFINITY && r.max == -INFINITY);
	ck_assert(!RP("nan", "1"));
	ck_assert(!RP("1", "(nan"));
	ck_assert(!RP("abc", "1"));
	ck_assert(!RP("1.5x", "2"));
	ck_assert(!RP("1", "((2"));
	ck_assert(!RP("[1", "2"));
	/* Long texts (heap buffer path). */
	char big[300];
	memset(big, '0', sizeof(big) - 2);
	big[0] = '(';
	big[sizeof(big) - 2] = '7';
	big[sizeof(big) - 1] = '\0';
	ck_assert(RP(big, big));
	ck_assert(r.min == 7 && r.minex);
#undef RP
#define LP(a, b) ap_zset_lex_parse(a, strlen(a), b, strlen(b), &l)
	ck_assert(LP("-", "+"));
	ck_assert(l.min_kind == AP_ZLEX_NEG_INF &&
		  l.max_kind == AP_ZLEX_POS_INF);
	ck_assert(LP("[a", "(b"));
	ck_assert(l.min_kind == AP_ZLEX_INCL && l.minlen == 1 &&
		  l.min[0] == 'a' && l.max_kind == AP_ZLEX_EXCL);
	ck_assert(LP("[", "("));
	ck_assert(l.minlen == 0 && l.maxlen == 0);
	ck_assert(!LP("a", "+"));
	ck_assert(!LP("", "+"));
	ck_assert(!LP("-", "+a"));
	ck_assert(!LP("-a", "+"));
	ck_assert(!LP("-", "b"));
#undef LP
}
END_TEST

/* Empty ranges (min above max, equal with an exclusive end). */
START_TEST(test_empty_ranges)
{
	for (int enc = 0; enc < 2; enc++) {
		struct ap_zset z;
		struct ap_zset_range r = {.min = 2, .max = 2, .minex = true};
		struct ap_zset_lex l = {.min = "b",
					.minlen = 1,
					.max = "b",
					.maxlen = 1,
					.min_kind = AP_ZLEX_EXCL,
					.max_kind = AP_ZLEX_INCL};
		struct ap_zset_iter it;
		const char *m;
		size_t len;
		double s;

		ap_zset_create(&z, enc ? 0 : 128, 64, 0, 0);
		add_ok(&z, "a", 0);
		add_ok(&z, "b", 0);
		add_ok(&z, "c", 0);
		ck_assert_uint_eq(ap_zset_count(&z, &r), 0);
		ap_zset_iter_score(&it, &z, &r, false);
		ck_assert(!ap_zset_iter_next(&it, &m, &len, &s));
		r.min = 3;
		r.minex = false;
		ck_assert_uint_eq(ap_zset_del_range(&z, &r), 0);
		ck_assert_uint_eq(ap_zset_lex_count(&z, &l), 0);
		ck_assert_uint_eq(ap_zset_del_lex(&z, &l), 0);
		l.min_kind = AP_ZLEX_POS_INF;
		ck_assert_uint_eq(ap_zset_lex_count(&z, &l), 0);
		l.min_kind = AP_ZLEX_INCL;
		ck_assert_uint_eq(ap_zset_lex_count(&z, &l), 1);
		l.max_kind = AP_ZLEX_NEG_INF;
		ap_zset_iter_lex(&it, &z, &l, true);
		ck_assert(!ap_zset_iter_next(&it, &m, &len, &s));
		/* Rank walks past the end are empty. */
		ap_zset_iter_rank(&it, &z, 3, 10, false);
		ck_assert(!ap_zset_iter_next(&it, &m, &len, &s));
		ap_zset_iter_rank(&it, &z, 2, 10, true);
		ck_assert(ap_zset_iter_next(&it, &m, &len, &s));
		ck_assert(len == 1 && m[0] == 'a');
		ck_assert(!ap_zset_iter_next(&it, &m, &len, &s));
		ap_zset_destroy(&z);
	}
}
END_TEST

/* --- set operations ----------------------------------------------------- */

/* A plain set for inputs: members with score 1. */
struct plain_set {
	const char *const *m;
	size_t n;
};

static size_t plain_len(const void *src)
{
	return ((const struct plain_set *)src)->n;
}

static bool plain_score(const void *src, const char *m, size_t len,
			double *score)
{
	const struct plain_set *ps = src;

	for (size_t i = 0; i < ps->n; i++)
		if (strlen(ps->m[i]) == len && memcmp(ps->m[i], m, len) == 0) {
			*score = 1;
			return true;
		}
	return false;
}

static void plain_each(const void *src, ap_zset_visit_fn *fn, void *arg)
{
	const struct plain_set *ps = src;

	for (size_t i = 0; i < ps->n; i++)
		fn(arg, ps->m[i], strlen(ps->m[i]), 1);
}

/* Asserts z holds exactly the members/scores given, in order. */
static void expect_set(const struct ap_zset *z, const char *const *m,
		       const double *s, size_t n)
{
	struct ap_zset_iter it;
	const char *got;
	size_t len, i = 0;
	double sc;

	ap_zset_verify(z);
	ck_assert_uint_eq(ap_zset_len(z), n);
	ap_zset_iter_rank(&it, z, 0, SIZE_MAX, false);
	while (ap_zset_iter_next(&it, &got, &len, &sc)) {
		ck_assert_msg(len == strlen(m[i]) &&
				      memcmp(got, m[i], len) == 0,
			      "member %zu: %.*s, expected %s", i, (int)len, got,
			      m[i]);
		ck_assert_msg(sc == s[i], "score %zu: %g, expected %g", i, sc,
			      s[i]);
		i++;
	}
}

START_TEST(test_combine)
{
	for (int enc = 0; enc < 2; enc++) {
		struct ap_zset a, b, out;
		struct ap_zset_input in[3];
		static const char *const pm[] = {"b", "x"};
		struct plain_set ps = {pm, 2};
		size_t lpm = enc ? 0 : 128;

		ap_zset_create(&a, lpm, 64, 0, 0);
		ap_zset_create(&b, lpm, 64, 0, 0);
		add_ok(&a, "a", 1);
		add_ok(&a, "b", 2);
		add_ok(&a, "c", INFINITY);
		add_ok(&b, "b", 3);
		add_ok(&b, "c", -INFINITY);
		add_ok(&b, "d", 4);

		/* union, sum: inf + -inf counts as 0 */
		ap_zset_input(&in[0], &a, 1);
		ap_zset_input(&in[1], &b, 1);
		out.lp_max = 128;
		out.lp_value = 64;
		ap_zset_combine(&out, AP_ZOP_UNION, in, 2, AP_ZAGG_SUM);
		expect_set(&out, (const char *const[]){"c", "a", "d", "b"},
			   (const double[]){0, 1, 4, 5}, 4);
		ck_assert_int_eq(out.enc, AP_ENC_LISTPACK);
		ap_zset_destroy(&out);

		/* union with weights and MAX, a plain set and a missing key */
		ap_zset_input(&in[0], &a, 2);
		ap_zset_input(&in[1], &b, -1);
		in[2] = (struct ap_zset_input){.src = &ps,
					       .len = plain_len,
					       .score = plain_score,
					       .each = plain_each,
					       .weight = 10};
		ap_zset_combine(&out, AP_ZOP_UNION, in, 3, AP_ZAGG_MAX);
		expect_set(&out, (const char *const[]){"d", "a", "b", "x", "c"},
			   (const double[]){-4, 2, 10, 10, INFINITY}, 5);
		ap_zset_destroy(&out);

		/* inter, MIN, weight 0 on inf: NaN counts as 0 */
		ap_zset_input(&in[0], &a, 0);
		ap_zset_input(&in[1], &b, 1);
		ap_zset_combine(&out, AP_ZOP_INTER, in, 2, AP_ZAGG_MIN);
		expect_set(&out, (const char *const[]){"c", "b"},
			   (const double[]){-INFINITY, 0}, 2);
		ap_zset_destroy(&out);
		ap_zset_input(&in[0], &a, 1);
		ap_zset_input(&in[1], &b, 1);
		ck_assert_uint_eq(ap_zset_inter_card(in, 2, 0), 2);
		ck_assert_uint_eq(ap_zset_inter_card(in, 2, 1), 1);
		ck_assert_uint_eq(ap_zset_inter_card(in, 2, 5), 2);

		/* inter with a missing input is empty */
		in[2] = (struct ap_zset_input){.src = NULL, .weight = 1};
		ap_zset_combine(&out, AP_ZOP_INTER, in, 3, AP_ZAGG_SUM);
		ck_assert_uint_eq(ap_zset_len(&out), 0);
		ap_zset_destroy(&out);
		ck_assert_uint_eq(ap_zset_inter_card(in, 3, 0), 0);

		/* diff keeps the first input's scores */
		ap_zset_input(&in[0], &a, 5);
		ap_zset_input(&in[1], &b, 1);
		ap_zset_combine(&out, AP_ZOP_DIFF, in, 2, AP_ZAGG_SUM);
		expect_set(&out, (const char *const[]){"a"},
			   (const double[]){1}, 1);
		ap_zset_destroy(&out);
		ap_zset_input(&in[0], &b, 1);
		ap_zset_input(&in[1], &a, 1);
		in[2] = (struct ap_zset_input){.src = &ps,
					       .len = plain_len,
					       .score = plain_score,
					       .each = plain_each,
					       .weight = 1};
		ap_zset_combine(&out, AP_ZOP_DIFF, in, 3, AP_ZAGG_SUM);
		expect_set(&out, (const char *const[]){"d"},
			   (const double[]){4}, 1);
		ap_zset_destroy(&out);
		ap_zset_destroy(&a);
		ap_zset_destroy(&b);
	}
}
END_TEST

/* Set operations over big random sets against a model, and the encoding
 * of the result: listpack only when it fits. */
START_TEST(test_combine_random)
{
	static struct model ma, mb;
	struct ap_zset a, b, out;
	struct ap_zset_input in[2];
	char m[MEMBER_MAX];

	rng_state = 99;
	ma.n = mb.n = 0;
	ap_zset_create(&a, 128, 64, 0, 0);
	ap_zset_create(&b, 128, 64, 0, 0);
	for (int i = 0; i < 3000; i++) {
		size_t len = rnd_member(m, 2000);
		double s = (double)rnd_below(100), ns;
		struct model *md = i % 2 ? &ma : &mb;

		if (model_find(md, m, len) >= 0)
			continue;
		model_add(md, m, len, s, 0, &ns);
		ap_zset_add(i % 2 ? &a : &b, m, len, s, 0, &ns);
	}
	ap_zset_input(&in[0], &a, 2);
	ap_zset_input(&in[1], &b, 3);
	out.lp_max = 128;
	out.lp_value = 64;
	ap_zset_combine(&out, AP_ZOP_UNION, in, 2, AP_ZAGG_SUM);
	ap_zset_verify(&out);
	ck_assert_int_eq(out.enc, AP_ENC_SKIPLIST);
	for (size_t i = 0; i < ma.n; i++) {
		double s, exp = ma.e[i].score * 2;
		long j = model_find(&mb, ma.e[i].m, ma.e[i].len);

		if (j >= 0)
			exp += mb.e[j].score * 3;
		ck_assert(ap_zset_score(&out, ma.e[i].m, ma.e[i].len, &s));
		ck_assert(s == exp);
	}
	size_t both = 0;
	for (size_t i = 0; i < mb.n; i++)
		if (model_find(&ma, mb.e[i].m, mb.e[i].len) >= 0)
			both++;
	ck_assert_uint_eq(ap_zset_len(&out), ma.n + mb.n - both);
	ap_zset_destroy(&out);
	ap_zset_input(&in[0], &a, 1);
	ap_zset_input(&in[1], &b, 1);
	ap_zset_combine(&out, AP_ZOP_INTER, in, 2, AP_ZAGG_MAX);
	ck_assert_uint_eq(ap_zset_len(&out), both);
	ck_assert_uint_eq(ap_zset_inter_card(in, 2, 0), both);
	ap_zset_destroy(&out);
	ap_zset_input(&in[0], &a, 1);
	ap_zset_input(&in[1], &b, 1);
	ap_zset_combine(&out, AP_ZOP_DIFF, in, 2, AP_ZAGG_SUM);
	ck_assert_uint_eq(ap_zset_len(&out), ma.n - both);
	ap_zset_verify(&out);
	ap_zset_destroy(&out);
	ap_zset_destroy(&a);
	ap_zset_destroy(&b);
}
END_TEST

/* --- scan, random, building, type operations ------------------------- */

struct seen {
	unsigned char *hit;
	size_t n;
};

static void scan_visit(void *arg, const char *m, size_t len, double score)
{
	struct seen *sn = arg;
	char buf[32];

	ck_assert_uint_lt(len, sizeof(buf));
	memcpy(buf, m, len);
	buf[len] = '\0';
	size_t i = strtoul(buf + 1, NULL, 10);
	ck_assert(score == (double)i);
	sn->hit[i] = 1;
	sn->n++;
}

/* Every member present for the whole scan is returned, while members are
 * added (growing the index) and removed (shrinking it) between steps. */
START_TEST(test_scan_across_resizes)
{
	enum { N = 20000 };
	struct ap_zset z;
	struct seen sn = {.hit = ap_calloc(N * 4, 1)};
	uint64_t cursor = 0;
	char m[32];
	double ns;
	int step = 0;

	ap_zset_create(&z, 0, 64, 0, 0);
	for (int i = 0; i < N; i++) {
		int len = snprintf(m, sizeof(m), "k%d", i);
		ap_zset_add(&z, m, (size_t)len, i, 0, &ns);
	}
	do {
		cursor = ap_zset_scan(&z, cursor, 10, scan_visit, &sn);
		step++;
		/* Phase 1 grows (new members), phase 2 shrinks (removes
		 * the upper half of the stable ones is not allowed: remove
		 * only the added ones). */
		if (step < 400) {
			for (int j = 0; j < 100; j++) {
				int k = N + step * 100 + j;
				int len = snprintf(m, sizeof(m), "k%d", k);
				ap_zset_add(&z, m, (size_t)len, k, 0, &ns);
			}
		} else if (step < 800) {
			for (int j = 0; j < 100; j++) {
				int k = N + (step - 400) * 100 + j;
				int len = snprintf(m, sizeof(m), "k%d", k);
				if (k < N * 4)
					ap_zset_del(&z, m, (size_t)len);
			}
		}
	} while (cursor != 0);
	for (int i = 0; i < N; i++)
		ck_assert_msg(sn.hit[i], "member k%d never returned", i);
	ap_zset_verify(&z);
	ap_zset_destroy(&z);
	ap_free(sn.hit);

	/* A listpack is scanned in one step. */
	sn.hit = ap_calloc(16, 1);
	sn.n = 0;
	ap_zset_create(&z, 128, 64, 0, 0);
	add_ok(&z, "k1", 1);
	add_ok(&z, "k2", 2);
	ck_assert_uint_eq(ap_zset_scan(&z, 0, 1, scan_visit, &sn), 0);
	ck_assert_uint_eq(sn.n, 2);
	ap_zset_destroy(&z);
	ap_free(sn.hit);
}
END_TEST

struct counts {
	size_t c[64];
	size_t n;
};

static void count_visit(void *arg, const char *m, size_t len, double score)
{
	struct counts *cs = arg;

	(void)m;
	(void)len;
	cs->c[(size_t)score]++;
	cs->n++;
}

/* Random picks are roughly uniform, unique ones distinct, in both
 * encodings and every sampling strategy. */
START_TEST(test_random_members)
{
	for (int enc = 0; enc < 2; enc++) {
		struct ap_zset z;
		struct counts cs;
		char m[16];

		ap_zset_create(&z, enc ? 0 : 128, 64, 0, 0);
		for (int i = 0; i < 60; i++) {
			snprintf(m, sizeof(m), "r%d", i);
			add_ok(&z, m, i);
		}
		memset(&cs, 0, sizeof(cs));
		ck_assert_uint_eq(
			ap_zset_random(&z, 60000, false, count_visit, &cs),
			60000);
		for (int i = 0; i < 60; i++)
			ck_assert_msg(cs.c[i] > 700 && cs.c[i] < 1300,
				      "member %d drawn %zu times", i, cs.c[i]);
		size_t wants[] = {1, 5, 19, 20, 21, 59, 60, 61, 1000};
		for (size_t w = 0; w < AP_ARRAY_LEN(wants); w++) {
			memset(&cs, 0, sizeof(cs));
			ck_assert_uint_eq(ap_zset_random(&z, wants[w], true,
							 count_visit, &cs),
					  AP_MIN(wants[w], (size_t)60));
			for (int i = 0; i < 60; i++)
				ck_assert_uint_le(cs.c[i], 1);
		}
		/* Unique picks of 1 cover every member over many runs. */
		memset(&cs, 0, sizeof(cs));
		for (int t = 0; t < 3000; t++)
			ap_zset_random(&z, 3, true, count_visit, &cs);
		for (int i = 0; i < 60; i++)
			ck_assert_uint_gt(cs.c[i], 60);
		ap_zset_destroy(&z);
	}
}
END_TEST

START_TEST(test_append_finish)
{
	struct ap_zset z;
	char m[16];

	ap_zset_create(&z, 8, 64, 0, 0);
	for (int i = 0; i < 8; i++) {
		snprintf(m, sizeof(m), "a%d", i);
		ap_zset_append(&z, m, strlen(m), i * 0.5);
	}
	ap_zset_finish(&z);
	ck_assert_int_eq(z.enc, AP_ENC_LISTPACK);
	ap_zset_verify(&z);
	ap_zset_append(&z, "b", 1, 100);
	ck_assert_int_eq(z.enc, AP_ENC_SKIPLIST);
	ap_zset_verify(&z);
	ap_zset_finish(&z);
	ck_assert_int_eq(z.enc, AP_ENC_SKIPLIST);
	ck_assert_uint_eq(ap_zset_len(&z), 9);
	ap_zset_destroy(&z);

	/* A skiplist that shrank to fit is made compact by finish. */
	ap_zset_create(&z, 8, 64, 100, 0);
	ck_assert_int_eq(z.enc, AP_ENC_SKIPLIST);
	ap_zset_append(&z, "x", 1, -0.0);
	ap_zset_finish(&z);
	ck_assert_int_eq(z.enc, AP_ENC_LISTPACK);
	double s;
	ck_assert(ap_zset_score(&z, "x", 1, &s) && s == 0 && !signbit(s));
	ap_zset_destroy(&z);
}
END_TEST

START_TEST(test_type_ops)
{
	for (int enc = 0; enc < 2; enc++) {
		struct ap_zset z, d;
		char m[16];
		double s;

		ap_zset_create(&z, enc ? 0 : 1000, 64, 0, 0);
		for (int i = 0; i < 500; i++) {
			snprintf(m, sizeof(m), "t%d", i);
			add_ok(&z, m, i % 7);
		}
		ck_assert_uint_eq(ap_zset_ops.length(z.obj, z.enc), 500);
		ck_assert_uint_gt(ap_zset_ops.mem(z.obj, z.enc), 500 * 4);
		ap_zset_open(&d, ap_zset_ops.dup(z.obj, z.enc), z.enc, 1000,
			     64);
		ap_zset_verify(&d);
		ck_assert_uint_eq(ap_zset_len(&d), 500);
		ck_assert(ap_zset_del(&z, "t3", 2));
		ck_assert(ap_zset_score(&d, "t3", 2, &s) && s == 3);
		/* Lazy free in small budgets. */
		int calls = 0;
		while (!ap_zset_ops.free_some(d.obj, d.enc, 16))
			calls++;
		if (enc)
			ck_assert_int_gt(calls, 10);
		ap_zset_ops.free(z.obj, z.enc);
	}
	ck_assert_str_eq(ap_zset_ops.name, "zset");
}
END_TEST

/* A big skiplist: ranks, pops from both ends and rank deletes stay
 * consistent (spans verified at the end). */
START_TEST(test_big_skiplist)
{
	enum { N = 200000 };
	struct ap_zset z;
	char m[32];
	double s;
	size_t rank;

	ap_zset_create(&z, 128, 64, 0, 0);
	for (int i = 0; i < N; i++) {
		int len = snprintf(m, sizeof(m), "member:%07d", (i * 7919) % N);
		ap_zset_add(&z, m, (size_t)len, (double)((i * 7919) % N), 0,
			    &s);
	}
	ck_assert_int_eq(z.enc, AP_ENC_SKIPLIST);
	for (int i = 0; i < N; i += 997) {
		int len = snprintf(m, sizeof(m), "member:%07d", i);
		ck_assert(ap_zset_rank(&z, m, (size_t)len, false, &rank, &s));
		ck_assert_uint_eq(rank, (size_t)i);
		ck_assert(ap_zset_rank(&z, m, (size_t)len, true, &rank, &s));
		ck_assert_uint_eq(rank, (size_t)(N - 1 - i));
	}
	ck_assert_uint_eq(ap_zset_del_rank(&z, 1000, 1999), 1000);
	struct ap_zset_range r = {.min = 500, .max = 2500};
	ck_assert_uint_eq(ap_zset_count(&z, &r), 500 + 501);
	ck_assert_uint_eq(ap_zset_del_range(&z, &r), 1001);
	ap_zset_verify(&z);
	ap_zset_destroy(&z);
}
END_TEST

static Suite *zset_suite(void)
{
	Suite *s = suite_create("zset");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_random_listpack);
	tcase_add_test(tc, test_random_skiplist);
	tcase_add_test(tc, test_random_converting);
	tcase_add_test(tc, test_random_lex);
	tcase_add_test(tc, test_conversion_boundary);
	tcase_add_test(tc, test_score_edges);
	tcase_add_test(tc, test_range_parse);
	tcase_add_test(tc, test_empty_ranges);
	tcase_add_test(tc, test_combine);
	tcase_add_test(tc, test_combine_random);
	tcase_add_test(tc, test_scan_across_resizes);
	tcase_add_test(tc, test_random_members);
	tcase_add_test(tc, test_append_finish);
	tcase_add_test(tc, test_type_ops);
	tcase_add_test(tc, test_big_skiplist);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(zset_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
