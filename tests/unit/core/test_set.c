/*
 * test_set.c - unit tests for core/set.c: the encoding chosen for a new
 * set, every conversion rule at its exact boundary (intset entries,
 * listpack entries and value length, integer digits), members that look
 * like integers but are not canonical, random members and their deletion,
 * iteration, SSCAN over every encoding, dup/mem/free_some, and a
 * randomized run of every operation against a reference model under
 * small limits so that all conversions happen.
 */
#include "core/set.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Failure-only assertion for hot loops (ck_assert writes per pass). */
#define CK(x)                                                              \
	do {                                                               \
		if (!(x))                                                  \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #x); \
	} while (0)

static const struct ap_set_limits small = {
	.intset_max = 16, .lp_entries_max = 8, .lp_value_max = 10};

static bool add(struct ap_set *s, const char *m)
{
	return ap_set_add(s, m, strlen(m), &small);
}

static bool has(struct ap_set *s, const char *m)
{
	return ap_set_contains(s, m, strlen(m));
}

static bool rem(struct ap_set *s, const char *m)
{
	return ap_set_remove(s, m, strlen(m));
}

/* --------------------------------------------------------- encodings */

START_TEST(test_limits_of)
{
	struct ap_config cfg;
	struct ap_set_limits lim;

	ap_config_init(&cfg);
	lim = ap_set_limits_of(&cfg);
	ck_assert_uint_eq(lim.intset_max, 512);
	ck_assert_uint_eq(lim.lp_entries_max, 128);
	ck_assert_uint_eq(lim.lp_value_max, 64);
	cfg.set_max_intset_entries = 2000000000;
	lim = ap_set_limits_of(&cfg);
	ck_assert_uint_eq(lim.intset_max, AP_SET_INTSET_ENTRIES_MAX);
}
END_TEST

START_TEST(test_init_for)
{
	struct ap_set s;

	ap_set_init_for(&s, "12", 2, 16, &small);
	ck_assert_int_eq(s.enc, AP_ENC_INTSET);
	ap_set_free(s.ptr, s.enc);
	ap_set_init_for(&s, "12", 2, 17, &small); /* hint past intset */
	ck_assert_int_eq(s.enc, AP_ENC_HASHTABLE);
	ap_set_free(s.ptr, s.enc);
	ap_set_init_for(&s, "12", 2, 8, &(struct ap_set_limits){0, 8, 10});
	ck_assert_int_eq(s.enc, AP_ENC_LISTPACK);
	ap_set_free(s.ptr, s.enc);
	ap_set_init_for(&s, "a", 1, 8, &small);
	ck_assert_int_eq(s.enc, AP_ENC_LISTPACK);
	ap_set_free(s.ptr, s.enc);
	ap_set_init_for(&s, "a", 1, 9, &small);
	ck_assert_int_eq(s.enc, AP_ENC_HASHTABLE);
	ap_set_free(s.ptr, s.enc);
	ap_set_init_for(&s, "0123456789", 10, 1, &small);
	ck_assert_int_eq(s.enc, AP_ENC_LISTPACK);
	ap_set_free(s.ptr, s.enc);
	ap_set_init_for(&s, "0123456789a", 11, 1, &small);
	ck_assert_int_eq(s.enc, AP_ENC_HASHTABLE);
	ck_assert_uint_eq(ap_set_len(&s), 0);
	ap_set_free(s.ptr, s.enc);
	ap_set_init(&s);
	ck_assert_int_eq(s.enc, AP_ENC_INTSET);
	ck_assert_uint_eq(ap_set_len(&s), 0);
	ap_set_free(s.ptr, s.enc);
}
END_TEST

START_TEST(test_intset_to_hashtable_on_count)
{
	struct ap_set s;
	char buf[32];

	ap_set_init(&s);
	for (int i = 0; i < 16; i++) {
		snprintf(buf, sizeof(buf), "%d", i * 1000);
		ck_assert(add(&s, buf));
	}
	ck_assert_int_eq(s.enc, AP_ENC_INTSET);
	ck_assert(!add(&s, "0")); /* present: no change */
	ck_assert_int_eq(s.enc, AP_ENC_INTSET);
	ck_assert(add(&s, "-1")); /* 17th integer: hashtable (as 7.2) */
	ck_assert_int_eq(s.enc, AP_ENC_HASHTABLE);
	ck_assert_uint_eq(ap_set_len(&s), 17);
	ck_assert(has(&s, "15000"));
	ck_assert(has(&s, "-1"));
	ck_assert(!has(&s, "16000"));
	ap_set_free(s.ptr, s.enc);
}
END_TEST

START_TEST(test_intset_to_listpack)
{
	struct ap_set s;

	ap_set_init(&s);
	ck_assert(add(&s, "1"));
	ck_assert(add(&s, "-20"));
	/* Non-canonical integers are strings. */
	ck_assert(add(&s, "01"));
	ck_assert_int_eq(s.enc, AP_ENC_LISTPACK);
	ck_assert(add(&s, "+1"));
	ck_assert(add(&s, " 1"));
	ck_assert(add(&s, "-0"));
	ck_assert(has(&s, "1"));
	ck_assert(has(&s, "01"));
	ck_assert(has(&s, "-20"));
	ck_assert(!has(&s, "20"));
	ck_assert(!add(&s, "1"));
	ck_assert(!add(&s, "-0"));
	ck_assert_uint_eq(ap_set_len(&s), 6);
	/* Listpack: 8 entries max, then hashtable. */
	ck_assert(add(&s, "x"));
	ck_assert(add(&s, "y"));
	ck_assert_int_eq(s.enc, AP_ENC_LISTPACK);
	ck_assert(add(&s, "z"));
	ck_assert_int_eq(s.enc, AP_ENC_HASHTABLE);
	ck_assert_uint_eq(ap_set_len(&s), 9);
	ck_assert(has(&s, "1") && has(&s, "-20") && has(&s, "01"));
	ck_assert(has(&s, "x") && has(&s, "z") && !has(&s, "w"));
	/* Never converts back. */
	ck_assert(rem(&s, "x") && rem(&s, "y") && rem(&s, "z"));
	ck_assert(!rem(&s, "z"));
	ck_assert_int_eq(s.enc, AP_ENC_HASHTABLE);
	ap_set_free(s.ptr, s.enc);
}
END_TEST

START_TEST(test_intset_conversion_boundaries)
{
	struct ap_set s;
	char buf[32];

	/* An intset with 8 members (= listpack entries) gets a string:
	 * hashtable, not listpack. */
	ap_set_init(&s);
	for (int i = 0; i < 8; i++) {
		snprintf(buf, sizeof(buf), "%d", i);
		ck_assert(add(&s, buf));
	}
	ck_assert(add(&s, "a"));
	ck_assert_int_eq(s.enc, AP_ENC_HASHTABLE);
	ck_assert_uint_eq(ap_set_len(&s), 9);
	ap_set_free(s.ptr, s.enc);
	/* 7 members: listpack with 8. */
	ap_set_init(&s);
	for (int i = 0; i < 7; i++) {
		snprintf(buf, sizeof(buf), "%d", i);
		ck_assert(add(&s, buf));
	}
	ck_assert(add(&s, "a"));
	ck_assert_int_eq(s.enc, AP_ENC_LISTPACK);
	ap_set_free(s.ptr, s.enc);
	/* An integer longer than the value limit (11 digits > 10). */
	ap_set_init(&s);
	ck_assert(add(&s, "12345678901"));
	ck_assert(add(&s, "a"));
	ck_assert_int_eq(s.enc, AP_ENC_HASHTABLE);
	ap_set_free(s.ptr, s.enc);
	ap_set_init(&s);
	ck_assert(add(&s, "-123456789")); /* 10 characters: fits */
	ck_assert(add(&s, "a"));
	ck_assert_int_eq(s.enc, AP_ENC_LISTPACK);
	ck_assert(has(&s, "-123456789"));
	ap_set_free(s.ptr, s.enc);
	/* A string longer than the value limit. */
	ap_set_init(&s);
	ck_assert(add(&s, "1"));
	ck_assert(add(&s, "abcdefghijk"));
	ck_assert_int_eq(s.enc, AP_ENC_HASHTABLE);
	ap_set_free(s.ptr, s.enc);
	/* Listpack: a value of exactly the limit stays, one more converts. */
	ap_set_init_for(&s, "a", 1, 1, &small);
	ck_assert(add(&s, "abcdefghij"));
	ck_assert_int_eq(s.enc, AP_ENC_LISTPACK);
	ck_assert(add(&s, "abcdefghijk"));
	ck_assert_int_eq(s.enc, AP_ENC_HASHTABLE);
	ck_assert(has(&s, "abcdefghij") && has(&s, "abcdefghijk"));
	ap_set_free(s.ptr, s.enc);
	/* Extreme integers through every encoding. */
	ap_set_init(&s);
	ck_assert(add(&s, "9223372036854775807"));
	ck_assert(add(&s, "-9223372036854775808"));
	ck_assert(add(&s, "9223372036854775808")); /* overflow: string */
	ck_assert_int_eq(s.enc, AP_ENC_HASHTABLE); /* 19+ digits > 10 */
	ck_assert(has(&s, "-9223372036854775808"));
	ck_assert(has(&s, "9223372036854775808"));
	ap_set_free(s.ptr, s.enc);
}
END_TEST

/* Members of any bytes, and lengths around the node's 255-byte switch. */
START_TEST(test_binary_and_long_members)
{
	struct ap_set s;
	static char big[70000];
	const struct ap_set_limits lim = {512, 128, 64};

	memset(big, 'x', sizeof(big));
	ap_set_init_for(&s, "a", 1, 1, &lim);
	ck_assert(ap_set_add(&s, "a\0b", 3, &lim));
	ck_assert(ap_set_add(&s, "a\0c", 3, &lim));
	ck_assert(ap_set_add(&s, "", 0, &lim));
	ck_assert(!ap_set_add(&s, "", 0, &lim));
	ck_assert(ap_set_contains(&s, "a\0b", 3));
	ck_assert(!ap_set_contains(&s, "a", 1));
	ck_assert_int_eq(s.enc, AP_ENC_LISTPACK);
	for (size_t len = 250; len <= 260; len++) {
		big[0] = (char)len;
		ck_assert(ap_set_add(&s, big, len, &lim));
	}
	ck_assert_int_eq(s.enc, AP_ENC_HASHTABLE);
	big[0] = 'x';
	ck_assert(ap_set_add(&s, big, sizeof(big), &lim));
	for (size_t len = 250; len <= 260; len++) {
		big[0] = (char)len;
		ck_assert(ap_set_contains(&s, big, len));
		ck_assert(!ap_set_contains(&s, big, len + 20));
	}
	big[0] = 'x';
	ck_assert(ap_set_contains(&s, big, sizeof(big)));
	ck_assert(ap_set_contains(&s, "", 0));
	ck_assert(ap_set_contains(&s, "a\0c", 3));
	ck_assert_uint_eq(ap_set_len(&s), 3 + 11 + 1);
	ck_assert_uint_gt(ap_set_mem(s.ptr, s.enc), sizeof(big));
	ck_assert(ap_set_remove(&s, big, sizeof(big)));
	ck_assert(!ap_set_contains(&s, big, sizeof(big)));
	ap_set_free(s.ptr, s.enc);
}
END_TEST

/* ----------------------------------------------- random, iter, scan */

/* Builds a set of n members "m<i>" (or integers when ints) in the
 * encoding the limits give. */
static void build(struct ap_set *s, int n, bool ints,
		  const struct ap_set_limits *lim)
{
	char buf[32];

	ap_set_init(s);
	for (int i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), ints ? "%d" : "m%d", i);
		CK(ap_set_add(s, buf, strlen(buf), lim));
	}
}

/* Index i of member text "m<i>" or "<i>". */
static int member_idx(const struct ap_set_elem *e)
{
	char buf[32];

	CK(e->len < sizeof(buf));
	memcpy(buf, e->str, e->len);
	buf[e->len] = '\0';
	return atoi(buf[0] == 'm' ? buf + 1 : buf);
}

static void check_random_fair(struct ap_set *s, int n)
{
	uint64_t rng = ap_dict_rng_seed();
	int *count = calloc((size_t)n, sizeof(int));
	int draws = n * 300, lo = draws, hi = 0;

	for (int i = 0; i < draws; i++) {
		struct ap_set_elem e;

		CK(ap_set_random(s, &rng, &e));
		count[member_idx(&e)]++;
	}
	for (int i = 0; i < n; i++) {
		lo = AP_MIN(lo, count[i]);
		hi = AP_MAX(hi, count[i]);
	}
	ck_assert_msg(lo > 300 * 0.6 && hi < 300 * 1.4, "min %d max %d", lo,
		      hi);
	free(count);
}

START_TEST(test_random_each_encoding)
{
	const struct ap_set_limits lim = {100, 200, 64};
	struct ap_set s;
	uint64_t rng = 3;
	struct ap_set_elem e;

	build(&s, 0, true, &lim);
	ck_assert(!ap_set_random(&s, &rng, &e));
	ap_set_free(s.ptr, s.enc);
	build(&s, 100, true, &lim);
	ck_assert_int_eq(s.enc, AP_ENC_INTSET);
	check_random_fair(&s, 100);
	ap_set_free(s.ptr, s.enc);
	build(&s, 150, false, &lim);
	ck_assert_int_eq(s.enc, AP_ENC_LISTPACK);
	check_random_fair(&s, 150);
	ap_set_free(s.ptr, s.enc);
	build(&s, 1000, false, &lim);
	ck_assert_int_eq(s.enc, AP_ENC_HASHTABLE);
	check_random_fair(&s, 1000);
	ap_set_free(s.ptr, s.enc);
}
END_TEST

static void count_member(void *arg, const struct ap_set_elem *e)
{
	int *count = arg;

	count[member_idx(e)]++;
}

/* ap_set_random_many: exactly count draws, roughly uniform, per
 * encoding; nothing from an empty set. */
START_TEST(test_random_many)
{
	const struct ap_set_limits lim = {100, 200, 64};
	const struct {
		int n;
		bool ints;
		enum ap_enc enc;
	} cases[] = {{0, true, AP_ENC_INTSET},
		     {80, true, AP_ENC_INTSET},
		     {150, false, AP_ENC_LISTPACK},
		     {1000, false, AP_ENC_HASHTABLE}};

	for (size_t c = 0; c < AP_ARRAY_LEN(cases); c++) {
		struct ap_set s;
		int n = cases[c].n, total = 0;
		int *count = calloc((size_t)n + 1, sizeof(int));
		uint64_t rng = 5;

		build(&s, n, cases[c].ints, &lim);
		ck_assert_int_eq(s.enc, cases[c].enc);
		ap_set_random_many(&s, &rng, (size_t)n * 300, count_member,
				   count);
		for (int i = 0; i < n; i++) {
			CK(count[i] > 300 * 0.6 && count[i] < 300 * 1.4);
			total += count[i];
		}
		ck_assert_int_eq(total, n * 300);
		if (n == 0) {
			ap_set_random_many(&s, &rng, 10, count_member, count);
			ck_assert_int_eq(count[0], 0);
		}
		ap_set_free(s.ptr, s.enc);
		free(count);
	}
}
END_TEST

/* Pops every member through random + delete_elem, per encoding. */
START_TEST(test_pop_all)
{
	const struct ap_set_limits lim = {100, 200, 64};
	const struct {
		int n;
		bool ints;
		enum ap_enc enc;
	} cases[] = {{50, true, AP_ENC_INTSET},
		     {120, false, AP_ENC_LISTPACK},
		     {3000, false, AP_ENC_HASHTABLE}};

	for (size_t c = 0; c < AP_ARRAY_LEN(cases); c++) {
		struct ap_set s;
		uint64_t rng = 11;
		int n = cases[c].n;
		char *seen = calloc((size_t)n, 1);
		struct ap_set_elem e;

		build(&s, n, cases[c].ints, &lim);
		ck_assert_int_eq(s.enc, cases[c].enc);
		for (int left = n; left > 0; left--) {
			int idx;

			CK(ap_set_random(&s, &rng, &e));
			idx = member_idx(&e);
			CK(!seen[idx]);
			seen[idx] = 1;
			ap_set_delete_elem(&s, &e);
			CK(ap_set_len(&s) == (size_t)left - 1);
		}
		ck_assert(!ap_set_random(&s, &rng, &e));
		ck_assert_int_eq(s.enc, cases[c].enc);
		ap_set_free(s.ptr, s.enc);
		free(seen);
	}
}
END_TEST

static void scan_collect(void *arg, const struct ap_set_elem *e)
{
	int *count = arg;

	count[member_idx(e)]++;
}

START_TEST(test_iter_and_scan)
{
	const struct ap_set_limits lim = {100, 200, 64};
	const int sizes[] = {0, 1, 60, 150, 5000};

	for (size_t c = 0; c < AP_ARRAY_LEN(sizes); c++) {
		int n = sizes[c];
		struct ap_set s;
		struct ap_set_iter it;
		struct ap_set_elem e;
		int *count = calloc((size_t)n + 1, sizeof(int));
		uint64_t cur = 0;
		size_t calls = 0;

		build(&s, n, c < 3, &lim);
		ap_set_iter_init(&it, &s);
		while (ap_set_iter_next(&it, &e)) {
			CK(e.is_int == (c < 3));
			count[member_idx(&e)]++;
		}
		ck_assert(!ap_set_iter_next(&it, &e));
		ap_set_iter_deinit(&it);
		for (int i = 0; i < n; i++)
			CK(count[i] == 1);
		memset(count, 0, (size_t)n * sizeof(int));
		do {
			cur = ap_set_scan(&s, cur, 10, scan_collect, count);
			calls++;
		} while (cur != 0);
		for (int i = 0; i < n; i++)
			CK(count[i] == 1);
		if (s.enc == AP_ENC_HASHTABLE)
			ck_assert_uint_gt(calls, 100);
		else
			ck_assert_uint_eq(calls, 1);
		ap_set_free(s.ptr, s.enc);
		free(count);
	}
}
END_TEST

/* Deleting during a hashtable iteration (SPOP-all, SMOVE-like sweeps). */
START_TEST(test_iter_delete_hashtable)
{
	const struct ap_set_limits lim = {0, 0, 0};
	struct ap_set s;
	struct ap_set_iter it;
	struct ap_set_elem e;
	size_t seen = 0;

	build(&s, 2000, false, &lim);
	ck_assert_int_eq(s.enc, AP_ENC_HASHTABLE);
	ap_set_iter_init(&it, &s);
	while (ap_set_iter_next(&it, &e)) {
		seen++;
		if (member_idx(&e) % 3 != 0)
			ap_set_delete_elem(&s, &e);
	}
	ap_set_iter_deinit(&it);
	ck_assert_uint_eq(seen, 2000);
	ck_assert_uint_eq(ap_set_len(&s), 667);
	ck_assert(has(&s, "m0") && has(&s, "m1998") && !has(&s, "m1999"));
	ap_set_free(s.ptr, s.enc);
}
END_TEST

START_TEST(test_contains_elem)
{
	const struct ap_set_limits lim = {100, 200, 64};
	struct ap_set ints, strs, big;
	struct ap_set_iter it;
	struct ap_set_elem e;
	size_t hits = 0;

	build(&ints, 50, true, &lim);
	build(&strs, 5, false, &lim);
	ck_assert(ap_set_add(&strs, "7", 1, &lim)); /* int in a listpack */
	build(&big, 300, true, &lim);		    /* ints, hashtable */
	ck_assert_int_eq(big.enc, AP_ENC_HASHTABLE);
	ap_set_iter_init(&it, &big);
	while (ap_set_iter_next(&it, &e)) {
		CK(e.is_int);
		hits += ap_set_contains_elem(&ints, &e);
		hits += ap_set_contains_elem(&strs, &e);
	}
	ap_set_iter_deinit(&it);
	ck_assert_uint_eq(hits, 51);
	ap_set_iter_init(&it, &strs);
	hits = 0;
	while (ap_set_iter_next(&it, &e))
		hits += ap_set_contains_elem(&ints, &e) +
			ap_set_contains_elem(&big, &e);
	ap_set_iter_deinit(&it);
	ck_assert_uint_eq(hits, 2);
	ap_set_free(ints.ptr, ints.enc);
	ap_set_free(strs.ptr, strs.enc);
	ap_set_free(big.ptr, big.enc);
}
END_TEST

/* --------------------------------------------------- dup, mem, free */

START_TEST(test_dup_mem_free_some)
{
	const struct ap_set_limits lim = {100, 200, 64};
	const int sizes[] = {50, 150, 20000};

	for (size_t c = 0; c < AP_ARRAY_LEN(sizes); c++) {
		struct ap_set s, d;
		size_t calls = 0;

		build(&s, sizes[c], c == 0, &lim);
		d.enc = s.enc;
		d.ptr = ap_set_dup(s.ptr, s.enc);
		ck_assert_ptr_ne(d.ptr, s.ptr);
		ck_assert_uint_eq(ap_set_len(&d), (size_t)sizes[c]);
		/* Independent: a change to the copy leaves the original. */
		ck_assert(ap_set_add(&d, "extra", 5, &lim));
		ck_assert(!ap_set_contains(&s, "extra", 5));
		ck_assert(ap_set_contains(&d, c == 0 ? "49" : "m0", 2));
		ck_assert(!ap_set_contains(&d, c == 0 ? "50" : "m0x",
					   c == 0 ? 2 : 3));
		ck_assert_uint_ge(ap_set_mem(s.ptr, s.enc),
				  (size_t)sizes[c] * 2);
		ap_set_free(d.ptr, d.enc);
		while (!ap_set_free_some(s.ptr, s.enc, 1000))
			calls++;
		if (s.enc == AP_ENC_HASHTABLE)
			ck_assert_uint_ge(calls, 19);
		else
			ck_assert_uint_eq(calls, 0);
	}
}
END_TEST

/* ------------------------------------------------------------ model */

#define MODEL_MAX 64

/* A member text from a pool mixing small integers, big integers,
 * non-canonical integers and strings of various lengths. */
static size_t model_member(unsigned *seed, char *buf)
{
	unsigned r = (unsigned)rand_r(seed);

	switch (r % 6) {
	case 0:
	case 1:
		return (size_t)sprintf(buf, "%d", (int)(r / 6 % 40) - 10);
	case 2:
		return (size_t)sprintf(buf, "%lld",
				       (long long)(r / 6 % 8) * 100000000000LL);
	case 3:
		return (size_t)sprintf(buf, "0%u", r / 6 % 5);
	case 4:
		return (size_t)sprintf(buf, "s%u", r / 6 % 30);
	default:
		return (size_t)sprintf(buf, "long-member-%u", r / 6 % 10);
	}
}

struct model {
	char m[MODEL_MAX * 4][24];
	size_t n;
};

static int model_find(const struct model *md, const char *m)
{
	for (size_t i = 0; i < md->n; i++)
		if (strcmp(md->m[i], m) == 0)
			return (int)i;
	return -1;
}

/* Encoding rank: conversions only go up. */
static int enc_rank(enum ap_enc enc)
{
	return enc == AP_ENC_INTSET ? 0 : enc == AP_ENC_LISTPACK ? 1 : 2;
}

/* Checks that the set equals the model (size, membership, iteration). */
static void model_check(struct ap_set *s, const struct model *md)
{
	struct ap_set_iter it;
	struct ap_set_elem e;
	size_t seen = 0;
	char buf[64];

	CK(ap_set_len(s) == md->n);
	ap_set_iter_init(&it, s);
	while (ap_set_iter_next(&it, &e)) {
		CK(e.len < sizeof(buf));
		memcpy(buf, e.str, e.len);
		buf[e.len] = '\0';
		CK(model_find(md, buf) >= 0);
		seen++;
	}
	ap_set_iter_deinit(&it);
	CK(seen == md->n);
	for (size_t i = 0; i < md->n; i++)
		CK(ap_set_contains(s, md->m[i], strlen(md->m[i])));
}

START_TEST(test_random_model)
{
	unsigned seed = 777;
	const struct ap_set_limits lim = {12, 10, 12};

	for (int round = 0; round < 300; round++) {
		struct model md = {.n = 0};
		struct ap_set s;
		int rank = 0;
		uint64_t rng = (uint64_t)round;

		ap_set_init(&s);
		for (int step = 0; step < 200; step++) {
			char buf[32];
			size_t len = model_member(&seed, buf);
			int at = model_find(&md, buf);
			unsigned op = (unsigned)rand_r(&seed) % 10;
			struct ap_set_elem e;

			CK(ap_set_contains(&s, buf, len) == (at >= 0));
			if (op < 5 && md.n < MODEL_MAX) {
				CK(ap_set_add(&s, buf, len, &lim) == (at < 0));
				if (at < 0)
					strcpy(md.m[md.n++], buf);
			} else if (op < 8) {
				CK(ap_set_remove(&s, buf, len) == (at >= 0));
				if (at >= 0)
					memmove(md.m[at], md.m[--md.n], 24);
			} else if (ap_set_random(&s, &rng, &e)) {
				memcpy(buf, e.str, e.len);
				buf[e.len] = '\0';
				at = model_find(&md, buf);
				CK(at >= 0);
				ap_set_delete_elem(&s, &e);
				memmove(md.m[at], md.m[--md.n], 24);
			}
			/* Conversions up only, and the encoding fits. */
			CK(enc_rank(s.enc) >= rank);
			rank = enc_rank(s.enc);
			if (s.enc == AP_ENC_INTSET)
				CK(ap_set_len(&s) <= lim.intset_max);
			if (s.enc == AP_ENC_LISTPACK)
				CK(ap_set_len(&s) <= lim.lp_entries_max);
			model_check(&s, &md);
		}
		ap_set_free(s.ptr, s.enc);
	}
}
END_TEST

static Suite *set_suite(void)
{
	Suite *s = suite_create("set");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_limits_of);
	tcase_add_test(tc, test_init_for);
	tcase_add_test(tc, test_intset_to_hashtable_on_count);
	tcase_add_test(tc, test_intset_to_listpack);
	tcase_add_test(tc, test_intset_conversion_boundaries);
	tcase_add_test(tc, test_binary_and_long_members);
	tcase_add_test(tc, test_random_each_encoding);
	tcase_add_test(tc, test_random_many);
	tcase_add_test(tc, test_pop_all);
	tcase_add_test(tc, test_iter_and_scan);
	tcase_add_test(tc, test_iter_delete_hashtable);
	tcase_add_test(tc, test_contains_elem);
	tcase_add_test(tc, test_dup_mem_free_some);
	tcase_add_test(tc, test_random_model);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(set_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures != 0;
}
