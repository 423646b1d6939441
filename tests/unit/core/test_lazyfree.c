/*
 * test_lazyfree.c - lazy free in the keyspace: big collections deleted,
 * overwritten or expired, and flushed tables, are freed a budget at a
 * time by ap_keyspace_lazy_step; small ones and everything with lazy free
 * off go at once. A fake collection counts its elements down. ASan checks
 * that nothing leaks, also when a keyspace is destroyed with work queued.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "core/keyspace.h"
#include "core/limits.h"

#define T0 1700000000000LL

struct big {
	size_t left; /* elements not yet freed */
};

static int objects_freed;
static size_t elements_freed;

static void big_free(void *obj, enum ap_enc enc)
{
	(void)enc;
	elements_freed += ((struct big *)obj)->left;
	objects_freed++;
	ap_free(obj);
}

static void *big_dup(const void *obj, enum ap_enc enc)
{
	(void)enc;
	return ap_memdup(obj, sizeof(struct big));
}

static size_t big_length(const void *obj, enum ap_enc enc)
{
	(void)enc;
	return ((const struct big *)obj)->left;
}

static bool big_free_some(void *obj, enum ap_enc enc, size_t budget)
{
	struct big *b = obj;
	size_t n = b->left < budget ? b->left : budget;

	b->left -= n;
	elements_freed += n;
	if (b->left > 0)
		return false;
	big_free(obj, enc);
	return true;
}

static const struct ap_type_ops big_ops = {
	.name = "list",
	.free = big_free,
	.dup = big_dup,
	.length = big_length,
	.free_some = big_free_some,
};

static struct ap_keyspace *ks;

static void setup(void)
{
	ap_type_register(AP_TYPE_LIST, &big_ops);
	ks = ap_keyspace_create(2);
	ap_keyspace_set_now(ks, T0);
	objects_freed = 0;
	elements_freed = 0;
}

static void teardown(void)
{
	ap_keyspace_destroy(ks);
}

static void set_big(const char *key, size_t n, int64_t expire)
{
	struct big *b = ap_malloc(sizeof(*b));

	b->left = n;
	ap_db_set_object(ap_keyspace_db(ks, 0), key, strlen(key), AP_TYPE_LIST,
			 AP_ENC_QUICKLIST, b, expire);
}

/* Steps with the given budget until done; returns the steps taken. */
static int drain(size_t budget)
{
	int steps = 1;

	while (ap_keyspace_lazy_step(ks, budget))
		steps++;
	return steps;
}

START_TEST(test_off_frees_at_once)
{
	set_big("k", 100000, AP_NO_EXPIRE);
	ck_assert(ap_db_delete(ap_keyspace_db(ks, 0), "k", 1));
	ck_assert_int_eq(objects_freed, 1);
	ck_assert(!ap_keyspace_lazy_pending(ks));
}
END_TEST

START_TEST(test_big_delete_is_lazy)
{
	ap_keyspace_set_lazyfree(ks, true);
	set_big("k", 100000, AP_NO_EXPIRE);
	ck_assert(ap_db_delete(ap_keyspace_db(ks, 0), "k", 1));
	ck_assert_int_eq(objects_freed, 0);
	ck_assert(ap_keyspace_lazy_pending(ks));
	ck_assert_uint_eq(ap_keyspace_lazy_count(ks), 1);
	/* 100000 elements at 1000 per step: 100 steps. */
	ck_assert_int_eq(drain(1000), 100);
	ck_assert_int_eq(objects_freed, 1);
	ck_assert_uint_eq(elements_freed, 100000);
	ck_assert(!ap_keyspace_lazy_pending(ks));
}
END_TEST

START_TEST(test_threshold)
{
	ap_keyspace_set_lazyfree(ks, true);
	set_big("small", AP_LAZYFREE_THRESHOLD, AP_NO_EXPIRE);
	ck_assert(ap_db_delete(ap_keyspace_db(ks, 0), "small", 5));
	ck_assert_int_eq(objects_freed, 1); /* at the threshold: at once */
	set_big("big", AP_LAZYFREE_THRESHOLD + 1, AP_NO_EXPIRE);
	ck_assert(ap_db_delete(ap_keyspace_db(ks, 0), "big", 3));
	ck_assert_int_eq(objects_freed, 1);
	drain(AP_LAZYFREE_BUDGET);
	ck_assert_int_eq(objects_freed, 2);
}
END_TEST

START_TEST(test_overwrite_and_expiry_are_lazy)
{
	ap_keyspace_set_lazyfree(ks, true);
	set_big("k", 5000, AP_NO_EXPIRE);
	ap_db_set_string(ap_keyspace_db(ks, 0), "k", 1, "v", 1, AP_NO_EXPIRE);
	ck_assert_int_eq(objects_freed, 0);
	set_big("e", 5000, T0 + 10);
	ap_keyspace_set_now(ks, T0 + 20);
	ck_assert_ptr_null(ap_db_lookup(ap_keyspace_db(ks, 0), "e", 1, 0));
	ck_assert_uint_eq(ap_keyspace_lazy_count(ks), 2);
	drain(100);
	ck_assert_int_eq(objects_freed, 2);
	ck_assert_uint_eq(elements_freed, 10000);
}
END_TEST

START_TEST(test_flush_is_lazy)
{
	struct ap_db *db = ap_keyspace_db(ks, 0);
	char key[32];

	ap_keyspace_set_lazyfree(ks, true);
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "key:%d", i);
		ap_db_set_string(db, key, strlen(key), "value", 5,
				 i % 2 ? T0 + 100000 : AP_NO_EXPIRE);
	}
	set_big("big", 3000, AP_NO_EXPIRE);
	ap_db_flush(db);
	ck_assert_uint_eq(ap_db_size(db), 0);
	ck_assert_ptr_null(ap_db_lookup(db, "key:1", 5, 0));
	ck_assert(ap_keyspace_lazy_pending(ks));
	/* The table goes a budget of entries at a time; the big value
	 * queues behind it. */
	ck_assert_int_gt(drain(1000), 20);
	ck_assert_int_eq(objects_freed, 1);
	/* The database works as new. */
	ap_db_set_string(db, "a", 1, "b", 1, AP_NO_EXPIRE);
	ck_assert_uint_eq(ap_db_size(db), 1);
}
END_TEST

START_TEST(test_destroy_with_work_queued)
{
	ap_keyspace_set_lazyfree(ks, true);
	set_big("k", 100000, AP_NO_EXPIRE);
	ap_db_flush(ap_keyspace_db(ks, 0));
	ck_assert(ap_keyspace_lazy_pending(ks));
	/* teardown destroys the keyspace: everything is freed there */
}
END_TEST

static Suite *lazyfree_suite(void)
{
	Suite *s = suite_create("lazyfree");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_off_frees_at_once);
	tcase_add_test(tc, test_big_delete_is_lazy);
	tcase_add_test(tc, test_threshold);
	tcase_add_test(tc, test_overwrite_and_expiry_are_lazy);
	tcase_add_test(tc, test_flush_is_lazy);
	tcase_add_test(tc, test_destroy_with_work_queued);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lazyfree_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
