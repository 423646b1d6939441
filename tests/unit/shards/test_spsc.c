/*
 * test_spsc.c - the SPSC ring: capacity boundaries, batching visibility,
 * and a two-thread stress run checking order and completeness.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>

#include "shards/spsc.h"

static struct ap_spsc *ring_new(void)
{
	struct ap_spsc *q = aligned_alloc(AP_PAD_ALIGN, sizeof(*q));
	ap_spsc_init(q);
	return q;
}

START_TEST(test_capacity)
{
	struct ap_spsc *q = ring_new();
	void *out[AP_SPSC_SLOTS + 1];
	for (uintptr_t i = 1; i <= AP_SPSC_SLOTS; i++)
		ck_assert(ap_spsc_push(q, (void *)i));
	/* Full: the (MAX+1)th push fails and stages nothing. */
	ck_assert(!ap_spsc_push(q, (void *)1));
	/* Not published yet: the consumer sees nothing. */
	ck_assert_uint_eq(ap_spsc_pop(q, out, AP_SPSC_SLOTS), 0);
	ck_assert(ap_spsc_empty_sc(q));
	ck_assert(ap_spsc_publish(q));
	ck_assert(!ap_spsc_publish(q)); /* nothing new */
	ck_assert(!ap_spsc_empty_sc(q));
	ck_assert_uint_eq(ap_spsc_pop(q, out, 10), 10);
	ck_assert_ptr_eq(out[0], (void *)1);
	ck_assert_ptr_eq(out[9], (void *)10);
	/* Ten slots are free again. */
	for (uintptr_t i = 0; i < 10; i++)
		ck_assert(ap_spsc_push(q, (void *)(1000 + i)));
	ck_assert(!ap_spsc_push(q, (void *)1));
	ap_spsc_publish(q);
	size_t n = ap_spsc_pop(q, out, AP_SPSC_SLOTS + 1);
	ck_assert_uint_eq(n, AP_SPSC_SLOTS);
	ck_assert_ptr_eq(out[AP_SPSC_SLOTS - 1], (void *)1009);
	ck_assert(ap_spsc_empty_sc(q));
	free(q);
}
END_TEST

START_TEST(test_index_wrap)
{
	/* Indices are free-running 32-bit: start near the wrap point. */
	struct ap_spsc *q = ring_new();
	uint32_t start = UINT32_MAX - 5;
	atomic_store(&q->head, start);
	atomic_store(&q->tail, start);
	q->tail_local = start;
	q->head_cache = start;
	q->tail_cache = start;
	void *out[32];
	for (uintptr_t round = 0; round < 4; round++) {
		for (uintptr_t i = 0; i < 8; i++)
			ck_assert(ap_spsc_push(q, (void *)(round * 8 + i + 1)));
		ap_spsc_publish(q);
		ck_assert_uint_eq(ap_spsc_pop(q, out, 32), 8);
		for (uintptr_t i = 0; i < 8; i++)
			ck_assert_ptr_eq(out[i], (void *)(round * 8 + i + 1));
	}
	free(q);
}
END_TEST

#define STRESS_COUNT 2000000u

static void *producer(void *arg)
{
	struct ap_spsc *q = arg;
	uintptr_t next = 1;
	while (next <= STRESS_COUNT) {
		unsigned batch = 0;
		while (batch < 16 && next <= STRESS_COUNT &&
		       ap_spsc_push(q, (void *)next)) {
			next++;
			batch++;
		}
		ap_spsc_publish(q);
		if (batch == 0)
			sched_yield();
	}
	return NULL;
}

START_TEST(test_two_threads)
{
	struct ap_spsc *q = ring_new();
	pthread_t t;
	pthread_create(&t, NULL, producer, q);
	uintptr_t expect = 1;
	void *out[64];
	while (expect <= STRESS_COUNT) {
		size_t n = ap_spsc_pop(q, out, 64);
		if (n == 0)
			sched_yield();
		for (size_t i = 0; i < n; i++) {
			ck_assert_ptr_eq(out[i], (void *)expect);
			expect++;
		}
	}
	pthread_join(t, NULL);
	ck_assert(ap_spsc_empty_sc(q));
	free(q);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("spsc");
	TCase *tc = tcase_create("spsc");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_capacity);
	tcase_add_test(tc, test_index_wrap);
	tcase_add_test(tc, test_two_threads);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
