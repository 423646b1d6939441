/*
 * test_intset.c - unit tests for core/intset.c: width boundaries and
 * upgrades (both signs), add/remove/find at the edges, validation of
 * untrusted bytes, and a randomized run against a reference model.
 */
#include "core/intset.h"
#include "core/base.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* Failure-only assertion for hot loops (ck_assert writes per pass). */
#define CK(x)                                                              \
	do {                                                               \
		if (!(x))                                                  \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #x); \
	} while (0)

/* True if is holds exactly the ascending values vals[0..n). */
static bool holds(const struct ap_intset *is, const int64_t *vals, size_t n)
{
	if (ap_intset_count(is) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ap_intset_get(is, (uint32_t)i) != vals[i])
			return false;
	return ap_intset_validate(is, ap_intset_bytes(is));
}

START_TEST(test_width_for)
{
	ck_assert_uint_eq(ap_intset_width_for(0), 2);
	ck_assert_uint_eq(ap_intset_width_for(INT16_MAX), 2);
	ck_assert_uint_eq(ap_intset_width_for(INT16_MIN), 2);
	ck_assert_uint_eq(ap_intset_width_for(INT16_MAX + 1), 4);
	ck_assert_uint_eq(ap_intset_width_for(INT16_MIN - 1), 4);
	ck_assert_uint_eq(ap_intset_width_for(INT32_MAX), 4);
	ck_assert_uint_eq(ap_intset_width_for(INT32_MIN), 4);
	ck_assert_uint_eq(ap_intset_width_for((int64_t)INT32_MAX + 1), 8);
	ck_assert_uint_eq(ap_intset_width_for((int64_t)INT32_MIN - 1), 8);
	ck_assert_uint_eq(ap_intset_width_for(INT64_MAX), 8);
	ck_assert_uint_eq(ap_intset_width_for(INT64_MIN), 8);
}
END_TEST

START_TEST(test_basic)
{
	struct ap_intset *is = ap_intset_create();
	const int64_t want[] = {-5, 1, 3, 7};

	ck_assert_uint_eq(ap_intset_count(is), 0);
	ck_assert(!ap_intset_find(is, 0));
	ck_assert(!ap_intset_remove(&is, 0));
	ck_assert(ap_intset_add(&is, 3));
	ck_assert(ap_intset_add(&is, 1));
	ck_assert(ap_intset_add(&is, 7));
	ck_assert(ap_intset_add(&is, -5));
	ck_assert(!ap_intset_add(&is, 3));
	ck_assert(holds(is, want, 4));
	ck_assert_uint_eq(is->width, 2);
	ck_assert_int_eq(ap_intset_min(is), -5);
	ck_assert_int_eq(ap_intset_max(is), 7);
	ck_assert(ap_intset_find(is, 7));
	ck_assert(!ap_intset_find(is, 2));
	ck_assert(!ap_intset_find(is, INT64_MAX));
	ck_assert_uint_eq(ap_intset_bytes(is), 8 + 4 * 2);
	ck_assert_uint_ge(ap_intset_alloc_size(is), ap_intset_bytes(is));
	/* remove first, last, middle */
	ck_assert(ap_intset_remove(&is, -5));
	ck_assert(ap_intset_remove(&is, 7));
	ck_assert(!ap_intset_remove(&is, 7));
	ck_assert(!ap_intset_remove(&is, 1LL << 40));
	ap_intset_remove_at(&is, 0);
	ck_assert_uint_eq(ap_intset_count(is), 1);
	ck_assert_int_eq(ap_intset_get(is, 0), 3);
	ap_intset_remove_at(&is, 0);
	ck_assert_uint_eq(ap_intset_count(is), 0);
	ck_assert(ap_intset_validate(is, ap_intset_bytes(is)));
	ap_intset_free(is);
	ap_intset_free(NULL);
}
END_TEST

/* Upgrades keep every value, and put the new value first or last. */
START_TEST(test_upgrade)
{
	struct ap_intset *is = ap_intset_create();
	struct ap_intset *copy;

	for (int v = -3; v <= 3; v++)
		ck_assert(ap_intset_add(&is, v));
	ck_assert(ap_intset_add(&is, INT16_MAX + 1)); /* positive: last */
	ck_assert_uint_eq(is->width, 4);
	{
		const int64_t w[] = {-3, -2, -1, 0, 1, 2, 3, INT16_MAX + 1};

		ck_assert(holds(is, w, 8));
	}
	ck_assert(ap_intset_add(&is, INT64_MIN)); /* negative: first */
	ck_assert_uint_eq(is->width, 8);
	ck_assert_int_eq(ap_intset_min(is), INT64_MIN);
	ck_assert_int_eq(ap_intset_get(is, 1), -3);
	ck_assert_int_eq(ap_intset_max(is), INT16_MAX + 1);
	ck_assert(ap_intset_add(&is, INT64_MAX));
	ck_assert_int_eq(ap_intset_max(is), INT64_MAX);
	/* The width never shrinks. */
	ck_assert(ap_intset_remove(&is, INT64_MIN));
	ck_assert(ap_intset_remove(&is, INT64_MAX));
	ck_assert_uint_eq(is->width, 8);
	ck_assert(ap_intset_find(is, 0));
	ck_assert_uint_eq(ap_intset_count(is), 8);
	copy = ap_intset_dup(is);
	ck_assert_mem_eq(copy, is, ap_intset_bytes(is));
	ap_intset_free(copy);
	ap_intset_free(is);

	/* 2 -> 8 directly, with a negative value into a one-element set. */
	is = ap_intset_create();
	ck_assert(ap_intset_add(&is, 5));
	ck_assert(ap_intset_add(&is, (int64_t)INT32_MIN - 1));
	ck_assert_uint_eq(is->width, 8);
	ck_assert_int_eq(ap_intset_get(is, 0), (int64_t)INT32_MIN - 1);
	ck_assert_int_eq(ap_intset_get(is, 1), 5);
	/* Upgrade of an empty set. */
	ap_intset_remove_at(&is, 0);
	ap_intset_remove_at(&is, 0);
	ap_intset_free(is);
	is = ap_intset_create();
	ck_assert(ap_intset_add(&is, INT32_MAX));
	ck_assert_uint_eq(is->width, 4);
	ck_assert(ap_intset_find(is, INT32_MAX));
	ck_assert(!ap_intset_find(is, INT16_MAX));
	ap_intset_free(is);
}
END_TEST

START_TEST(test_validate)
{
	struct ap_intset *is = ap_intset_create();
	unsigned char buf[64];
	size_t n;

	for (int v = 0; v < 5; v++)
		ck_assert(ap_intset_add(&is, v * 10));
	n = ap_intset_bytes(is);
	memcpy(buf, is, n);
	ck_assert(ap_intset_validate(buf, n));
	ck_assert(!ap_intset_validate(buf, n - 1)); /* truncated */
	ck_assert(!ap_intset_validate(buf, n + 2)); /* trailing bytes */
	ck_assert(!ap_intset_validate(buf, 7));	    /* short header */
	ck_assert(!ap_intset_validate(buf, 0));
	buf[0] = 3; /* bad width */
	ck_assert(!ap_intset_validate(buf, n));
	memcpy(buf, is, n);
	buf[8] = 50; /* first element 50 > second 10: not ascending */
	ck_assert(!ap_intset_validate(buf, n));
	memcpy(buf, is, n);
	memcpy(buf + 10, buf + 8, 2); /* duplicate */
	ck_assert(!ap_intset_validate(buf, n));
	memcpy(buf, is, n);
	buf[4] = 200; /* count far beyond the size */
	ck_assert(!ap_intset_validate(buf, n));
	ap_intset_free(is);
}
END_TEST

/* qsort comparator for int64_t. */
static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* A random value drawn from ranges that exercise every width. */
static int64_t rand_value(unsigned *seed)
{
	int64_t r = ((int64_t)rand_r(seed) << 32) ^ rand_r(seed);

	switch (rand_r(seed) % 4) {
	case 0:
		return r % 50;
	case 1:
		return r % 40000;
	case 2:
		return r % 5000000000LL;
	default:
		return (int64_t)(((uint64_t)rand_r(seed) << 62) ^ (uint64_t)r);
	}
}

/* Random adds and removes against a plain array model; after each
 * operation the intset equals the sorted model. */
START_TEST(test_random_model)
{
	enum { MAX = 600 };
	unsigned seed = 4242;

	for (int round = 0; round < 40; round++) {
		struct ap_intset *is = ap_intset_create();
		int64_t model[MAX], sorted[MAX];
		size_t n = 0;

		for (int step = 0; step < 3000; step++) {
			int64_t v;
			bool in = false;
			size_t at = 0;

			if (n > 0 && rand_r(&seed) % 3 == 0)
				v = model[rand_r(&seed) % n];
			else
				v = rand_value(&seed);
			for (size_t i = 0; i < n; i++)
				if (model[i] == v) {
					in = true;
					at = i;
				}
			CK(ap_intset_find(is, v) == in);
			if (rand_r(&seed) % 2 == 0 && n < MAX) {
				CK(ap_intset_add(&is, v) == !in);
				if (!in)
					model[n++] = v;
			} else {
				CK(ap_intset_remove(&is, v) == in);
				if (in)
					model[at] = model[--n];
			}
			memcpy(sorted, model, n * sizeof(int64_t));
			qsort(sorted, n, sizeof(int64_t), cmp64);
			CK(holds(is, sorted, n));
		}
		ap_intset_free(is);
	}
}
END_TEST

static Suite *intset_suite(void)
{
	Suite *s = suite_create("intset");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_width_for);
	tcase_add_test(tc, test_basic);
	tcase_add_test(tc, test_upgrade);
	tcase_add_test(tc, test_validate);
	tcase_add_test(tc, test_random_model);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(intset_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures != 0;
}
