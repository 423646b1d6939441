/*
 * test_list.c - unit tests for core/list.c: the quicklist's node limits
 * for every kind of fill (counts, sizes, plain nodes for big elements),
 * iteration both ways with deletes, inserts that split full nodes,
 * replaces that outgrow their node, range deletes, the listpack <->
 * quicklist conversions at Redis's boundaries, dup/mem/free_some, and a
 * randomized run against a reference array model for several fills.
 */
#include "core/list.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "tests/unit/core/str_model.h"

/* Checks the structural invariants: links, counts, no empty nodes, and
 * every non-plain node within its limit when strict. */
static void check_shape(const struct ap_list *l, bool strict)
{
	size_t count = 0, nodes = 0;
	const struct ap_list_node *prev = NULL;
	for (const struct ap_list_node *n = l->head; n; n = n->next) {
		ck_assert_ptr_eq(n->prev, prev);
		ck_assert_uint_eq(n->count, ap_lp_count(n->lp));
		ck_assert(ap_lp_validate(n->lp, ap_lp_bytes(n->lp)));
		if (!n->embedded)
			ck_assert_uint_gt(n->count, 0);
		if (n->plain)
			ck_assert_uint_eq(n->count, 1);
		if (strict && !n->plain && !l->single) {
			if (l->fill >= 0) {
				size_t lim = l->fill == 0 ? 1 : (size_t)l->fill;
				ck_assert_uint_le(n->count, lim);
				ck_assert_uint_le(ap_lp_bytes(n->lp), 8192 + 2);
			} else {
				static const size_t b[] = {4096, 8192, 16384,
							   32768, 65536};
				int off = -l->fill - 1;
				size_t lim = b[off > 4 ? 4 : off];
				ck_assert_uint_le(ap_lp_bytes(n->lp), lim + 2);
			}
		}
		count += n->count;
		nodes++;
		prev = n;
	}
	ck_assert_ptr_eq(l->tail, prev);
	ck_assert_uint_eq(count, l->count);
	ck_assert_uint_eq(nodes, l->nodes);
}

/* Element i of a test list as a string into buf. */
static const char *elem(char *buf, int i)
{
	sprintf(buf, i % 2 ? "%d" : "e%d", i);
	return buf;
}

/* Pushes element i (see elem) at end. */
static void push_elem(struct ap_list *l, enum ap_list_end end, int i)
{
	char buf[32];
	elem(buf, i);
	ap_list_push(l, end, buf, strlen(buf));
}

/* Asserts the list reads exactly as the C strings want[0..n). */
static void expect_list(struct ap_list *l, const char *const *want, size_t n)
{
	struct ap_list_iter it;
	char buf[AP_LP_INTBUF_SIZE];
	size_t len, i = 0;
	ck_assert_uint_eq(ap_list_count(l), n);
	for (ap_list_iter_init(&it, l, 0, true); ap_list_iter_valid(&it);
	     ap_list_iter_next(&it)) {
		const char *s = ap_list_iter_get(&it, &len, buf);
		ck_assert_uint_lt(i, n);
		ck_assert_uint_eq(it.idx, i);
		ck_assert_uint_eq(len, strlen(want[i]));
		ck_assert(memcmp(s, want[i], len) == 0);
		i++;
	}
	ck_assert_uint_eq(i, n);
	for (ap_list_iter_init(&it, l, -1, false); ap_list_iter_valid(&it);
	     ap_list_iter_next(&it)) {
		i--;
		ck_assert_uint_eq(it.idx, i);
		ck_assert(ap_list_iter_eq(&it, want[i], strlen(want[i])));
	}
	ck_assert_uint_eq(i, 0);
	check_shape(l, true);
}

START_TEST(test_count_fill)
{
	struct ap_list *l = ap_list_create(2);
	for (int i = 0; i < 5; i++)
		push_elem(l, AP_LIST_TAIL, i);
	ck_assert_uint_eq(l->nodes, 3);
	ck_assert_uint_eq(l->head->count, 2);
	ck_assert_uint_eq(l->tail->count, 1);
	ap_list_push(l, AP_LIST_HEAD, "h", 1);
	ck_assert_uint_eq(l->nodes, 4);
	expect_list(l, (const char *[]){"h", "e0", "1", "e2", "3", "e4"}, 6);
	ap_list_destroy(l);

	/* fill 0: one element per node; fill 1 the same. */
	for (int fill = 0; fill <= 1; fill++) {
		l = ap_list_create(fill);
		for (int i = 0; i < 4; i++)
			ap_list_push(l, AP_LIST_HEAD, "x", 1);
		ck_assert_uint_eq(l->nodes, 4);
		check_shape(l, true);
		ap_list_destroy(l);
	}
	/* A count limit still keeps nodes under 8 KB. */
	l = ap_list_create(1000);
	char *big = malloc(3000);
	memset(big, 'b', 3000);
	for (int i = 0; i < 5; i++)
		ap_list_push(l, AP_LIST_TAIL, big, 3000);
	ck_assert_uint_eq(l->nodes, 3);
	check_shape(l, true);
	/* ... and an element over 8 KB is a plain node. */
	char *huge = malloc(9000);
	memset(huge, 'h', 9000);
	ap_list_push(l, AP_LIST_TAIL, huge, 9000);
	ck_assert(l->tail->plain);
	ap_list_push(l, AP_LIST_TAIL, "s", 1);
	ck_assert(!l->tail->plain);
	ck_assert_uint_eq(l->nodes, 5);
	check_shape(l, true);
	ap_list_destroy(l);
	free(big);
	free(huge);
}
END_TEST

START_TEST(test_size_fill)
{
	/* fill -1 = 4096 bytes; 100-byte strings take 103 bytes each. */
	char s[200];
	memset(s, 'a', sizeof(s));
	struct ap_list *l = ap_list_create(-1);
	for (int i = 0; i < 100; i++)
		ap_list_push(l, AP_LIST_TAIL, s, 100);
	/* (4096 - 9) / 103 = 39 per node */
	ck_assert_uint_eq(l->head->count, 39);
	ck_assert_uint_eq(l->nodes, 3);
	check_shape(l, true);
	/* 4096 is not large, 4097 is. */
	char *b = malloc(5000);
	memset(b, 'z', 5000);
	ap_list_push(l, AP_LIST_HEAD, b, 4096);
	ck_assert(!l->head->plain);
	ap_list_push(l, AP_LIST_HEAD, b, 4097);
	ck_assert(l->head->plain);
	check_shape(l, false);
	ap_list_destroy(l);
	/* Below -5 counts as -5 (64 KB). */
	l = ap_list_create(-100);
	for (int i = 0; i < 1000; i++)
		ap_list_push(l, AP_LIST_TAIL, s, 100);
	ck_assert_uint_eq(l->head->count, (65536 - 9) / 103);
	check_shape(l, true);
	ap_list_destroy(l);
	free(b);
}
END_TEST

/* ap_list_elem_fn: copies the popped element into buf (a char[64]). */
static void grab(void *arg, const char *s, size_t len)
{
	memcpy(arg, s, len);
	((char *)arg)[len] = '\0';
}

START_TEST(test_pop)
{
	char buf[64];
	struct ap_list *l = ap_list_create(3);
	ck_assert(!ap_list_pop(l, AP_LIST_HEAD, grab, buf));
	ck_assert(!ap_list_pop(l, AP_LIST_TAIL, NULL, NULL));
	for (int i = 0; i < 10; i++)
		push_elem(l, AP_LIST_TAIL, i);
	ck_assert(ap_list_pop(l, AP_LIST_HEAD, grab, buf));
	ck_assert_str_eq(buf, "e0");
	ck_assert(ap_list_pop(l, AP_LIST_TAIL, grab, buf));
	ck_assert_str_eq(buf, "9");
	ck_assert(ap_list_pop(l, AP_LIST_TAIL, NULL, NULL));
	check_shape(l, true);
	int n = 0;
	while (ap_list_pop(l, AP_LIST_HEAD, grab, buf))
		n++;
	ck_assert_int_eq(n, 7);
	ck_assert_ptr_null(l->head);
	ck_assert_uint_eq(l->nodes, 0);
	/* integers come back formatted */
	ap_list_push(l, AP_LIST_HEAD, "-9223372036854775808", 20);
	ck_assert(ap_list_pop(l, AP_LIST_HEAD, grab, buf));
	ck_assert_str_eq(buf, "-9223372036854775808");
	ap_list_destroy(l);
}
END_TEST

START_TEST(test_iter_delete)
{
	const char *odd[] = {"1", "3", "5", "7", "9", "11"};
	for (int dir = 0; dir < 2; dir++) {
		struct ap_list *l = ap_list_create(4);
		for (int i = 0; i < 12; i++)
			push_elem(l, AP_LIST_TAIL, i);
		struct ap_list_iter it;
		ap_list_iter_init(&it, l, dir ? -1 : 0, !dir);
		while (ap_list_iter_valid(&it)) {
			char b[AP_LP_INTBUF_SIZE];
			size_t len;
			const char *s = ap_list_iter_get(&it, &len, b);
			if (s[0] == 'e')
				ap_list_iter_delete(&it);
			else
				ap_list_iter_next(&it);
		}
		expect_list(l, odd, 6);
		/* delete everything backwards */
		ap_list_iter_init(&it, l, -1, false);
		while (ap_list_iter_valid(&it))
			ap_list_iter_delete(&it);
		ck_assert_uint_eq(ap_list_count(l), 0);
		ck_assert_uint_eq(l->nodes, 0);
		ap_list_destroy(l);
	}
	/* Out of range starts are done at once. */
	struct ap_list *l = ap_list_create(4);
	struct ap_list_iter it;
	ap_list_iter_init(&it, l, 0, true);
	ck_assert(!ap_list_iter_valid(&it));
	ap_list_push(l, AP_LIST_TAIL, "a", 1);
	ap_list_iter_init(&it, l, 1, true);
	ck_assert(!ap_list_iter_valid(&it));
	ap_list_iter_init(&it, l, -2, true);
	ck_assert(!ap_list_iter_valid(&it));
	ap_list_iter_init(&it, l, -1, true);
	ck_assert(ap_list_iter_valid(&it));
	ap_list_destroy(l);
}
END_TEST

START_TEST(test_insert_split)
{
	struct ap_list *l = ap_list_create(3);
	const char *base[] = {"a", "b", "c", "d", "e", "f"};
	for (int i = 0; i < 6; i++)
		ap_list_push(l, AP_LIST_TAIL, base[i], 1);
	ck_assert_uint_eq(l->nodes, 2);
	struct ap_list_iter it;
	/* middle of a full node: split */
	ap_list_iter_init(&it, l, 1, true);
	ap_list_iter_insert(&it, AP_LP_AFTER, "x", 1);
	expect_list(l, (const char *[]){"a", "b", "x", "c", "d", "e", "f"}, 7);
	/* before the first of a full node whose prev has room */
	ap_list_iter_init(&it, l, 4, true); /* "d" */
	ap_list_iter_insert(&it, AP_LP_BEFORE, "y", 1);
	expect_list(l, (const char *[]){"a", "b", "x", "c", "y", "d", "e", "f"},
		    8);
	/* after the last element, at the tail */
	ap_list_iter_init(&it, l, -1, true);
	ap_list_iter_insert(&it, AP_LP_AFTER, "z", 1);
	ap_list_iter_init(&it, l, 0, true);
	ap_list_iter_insert(&it, AP_LP_BEFORE, "0", 1);
	expect_list(l,
		    (const char *[]){"0", "a", "b", "x", "c", "y", "d", "e",
				     "f", "z"},
		    10);
	/* a large element in the middle of a node gets its own node */
	char *big = malloc(9000);
	memset(big, 'B', 9000);
	big[8999] = '\0';
	ap_list_iter_init(&it, l, 2, true);
	ap_list_iter_insert(&it, AP_LP_BEFORE, big, 8999);
	expect_list(l,
		    (const char *[]){"0", "a", big, "b", "x", "c", "y", "d",
				     "e", "f", "z"},
		    11);
	/* replace: in place, then by something too big for the node */
	ap_list_iter_init(&it, l, 3, true);
	ap_list_iter_replace(&it, "B", 1);
	ck_assert(!ap_list_iter_valid(&it));
	ap_list_iter_init(&it, l, 2, true);
	ap_list_iter_replace(&it, "small", 5);
	ap_list_iter_init(&it, l, 0, true);
	ap_list_iter_replace(&it, big, 8999);
	ap_list_iter_init(&it, l, -1, true);
	ap_list_iter_replace(&it, big, 8999);
	expect_list(l,
		    (const char *[]){big, "a", "small", "B", "x", "c", "y", "d",
				     "e", "f", big},
		    11);
	ap_list_destroy(l);
	free(big);
}
END_TEST

START_TEST(test_delete_range)
{
	struct ap_list *l = ap_list_create(4);
	for (int i = 0; i < 20; i++)
		push_elem(l, AP_LIST_TAIL, i);
	ap_list_delete_range(l, 20, 5);
	ap_list_delete_range(l, -21, 5);
	ap_list_delete_range(l, 3, 0);
	ck_assert_uint_eq(ap_list_count(l), 20);
	ap_list_delete_range(l, 2, 9); /* spans 3 nodes, frees one whole */
	ck_assert_uint_eq(ap_list_count(l), 11);
	expect_list(l,
		    (const char *[]){"e0", "1", "11", "e12", "13", "e14", "15",
				     "e16", "17", "e18", "19"},
		    11);
	ap_list_delete_range(l, -3, 100);
	ap_list_delete_range(l, 0, 1);
	expect_list(
		l, (const char *[]){"1", "11", "e12", "13", "e14", "15", "e16"},
		7);
	ap_list_delete_range(l, 0, SIZE_MAX);
	ck_assert_uint_eq(l->nodes, 0);
	ap_list_destroy(l);
}
END_TEST

START_TEST(test_dup_mem_free_some)
{
	struct ap_list *l = ap_list_create(8);
	for (int i = 0; i < 1000; i++)
		push_elem(l, AP_LIST_TAIL, i);
	struct ap_list *d = ap_list_dup(l);
	ck_assert_uint_eq(d->nodes, l->nodes);
	check_shape(d, true);
	struct ap_list_iter a, b;
	ap_list_iter_init(&a, l, 0, true);
	ap_list_iter_init(&b, d, 0, true);
	for (; ap_list_iter_valid(&a); ap_list_iter_next(&a)) {
		char b1[AP_LP_INTBUF_SIZE];
		size_t len;
		const char *s = ap_list_iter_get(&a, &len, b1);
		ck_assert(ap_list_iter_eq(&b, s, len));
		ap_list_iter_next(&b);
	}
	size_t mem = ap_list_mem(l);
	ck_assert_uint_gt(mem, 1000 * 3);
	ck_assert_uint_lt(mem, 1000 * 40);
	ap_list_destroy(l);
	/* free_some: 125 nodes of 8; budget 100 elements per step. */
	int steps = 0;
	while (!ap_list_free_some(d, 100))
		steps++;
	ck_assert_int_eq(steps, 9);
	ck_assert(ap_list_free_some(ap_list_create(1), 10));
	ap_list_destroy(NULL);
}
END_TEST

/* Opens a new bare listpack value, pushes n copies of s (each announced
 * with grow), closes it; returns the object and encoding. */
static void *build(int fill, const char *s, size_t len, int n, enum ap_enc *enc)
{
	struct ap_list_ref ref;
	ap_list_ref_open(&ref, NULL, AP_ENC_LISTPACK, fill);
	for (int i = 0; i < n; i++) {
		ap_list_ref_grow(&ref, len, 1);
		ap_list_push(ref.l, AP_LIST_TAIL, s, len);
	}
	return ap_list_ref_close(&ref, false, enc);
}

static void free_value(void *obj, enum ap_enc enc)
{
	if (enc == AP_ENC_LISTPACK)
		ap_lp_free(obj);
	else
		ap_list_destroy(obj);
}

START_TEST(test_conversions)
{
	enum ap_enc enc;
	char s[100];
	memset(s, 'a', sizeof(s));
	/* count fill 128: 128 elements stay a listpack, 129 convert */
	void *o = build(128, "x", 1, 128, &enc);
	ck_assert_int_eq(enc, AP_ENC_LISTPACK);
	ck_assert_uint_eq(ap_lp_count(o), 128);
	free_value(o, enc);
	o = build(128, "x", 1, 129, &enc);
	ck_assert_int_eq(enc, AP_ENC_QUICKLIST);
	ck_assert_uint_eq(ap_list_count(o), 129);
	/* shrink: pops to 64 (half) convert back, not at 65 */
	struct ap_list_ref ref;
	ap_list_ref_open(&ref, o, enc, 128);
	ap_list_pop(ref.l, AP_LIST_TAIL, NULL, NULL); /* one node left */
	ck_assert_uint_eq(ref.l->nodes, 1);
	while (ap_list_count(ref.l) > 65)
		ap_list_pop(ref.l, AP_LIST_HEAD, NULL, NULL);
	o = ap_list_ref_close(&ref, true, &enc);
	ck_assert_int_eq(enc, AP_ENC_QUICKLIST);
	ap_list_ref_open(&ref, o, enc, 128);
	ap_list_pop(ref.l, AP_LIST_HEAD, NULL, NULL);
	o = ap_list_ref_close(&ref, false, &enc);
	ck_assert_int_eq(enc, AP_ENC_QUICKLIST); /* not shrinking */
	ap_list_ref_open(&ref, o, enc, 128);
	o = ap_list_ref_close(&ref, true, &enc);
	ck_assert_int_eq(enc, AP_ENC_LISTPACK);
	ck_assert_uint_eq(ap_lp_count(o), 64);
	free_value(o, enc);

	/* size fill -2 (8 KB): Redis converts when its lpBytes (7 + 103 per
	 * 100-byte string) plus the new 100 bytes passes 8192: 79 stay. */
	o = build(-2, s, 100, 79, &enc);
	ck_assert_int_eq(enc, AP_ENC_LISTPACK);
	free_value(o, enc);
	o = build(-2, s, 100, 80, &enc);
	ck_assert_int_eq(enc, AP_ENC_QUICKLIST);
	ck_assert_uint_eq(((struct ap_list *)o)->nodes, 2);
	free_value(o, enc);

	/* An element bigger than the limit converts at once, into a plain
	 * node that never converts back. */
	char *big = malloc(10000);
	memset(big, 'q', 10000);
	o = build(128, big, 10000, 1, &enc);
	ck_assert_int_eq(enc, AP_ENC_QUICKLIST);
	ck_assert(((struct ap_list *)o)->head->plain);
	ap_list_ref_open(&ref, o, enc, 128);
	o = ap_list_ref_close(&ref, true, &enc);
	ck_assert_int_eq(enc, AP_ENC_QUICKLIST);
	free_value(o, enc);
	free(big);

	/* Emptying closes to NULL in both encodings. */
	o = build(128, "x", 1, 3, &enc);
	ap_list_ref_open(&ref, o, enc, 128);
	while (ap_list_pop(ref.l, AP_LIST_TAIL, NULL, NULL))
		;
	ck_assert_ptr_null(ap_list_ref_close(&ref, true, &enc));
	o = build(2, "x", 1, 3, &enc);
	ck_assert_int_eq(enc, AP_ENC_QUICKLIST);
	ap_list_ref_open(&ref, o, enc, 2);
	ap_list_delete_range(ref.l, 0, 3);
	ck_assert_ptr_null(ap_list_ref_close(&ref, true, &enc));
	/* A wrapped listpack takes any number of elements in its node. */
	ap_list_ref_open(&ref, NULL, AP_ENC_LISTPACK, 1);
	for (int i = 0; i < 10; i++)
		ap_list_push(ref.l, AP_LIST_HEAD, "y", 1);
	ck_assert_uint_eq(ref.l->nodes, 1);
	o = ap_list_ref_close(&ref, false, &enc);
	ck_assert_int_eq(enc, AP_ENC_LISTPACK);
	ck_assert_uint_eq(ap_lp_count(o), 10);
	free_value(o, enc);
}
END_TEST

/* --- randomized against a model ------------------------------------- */

static void m_check(const struct str_model *m, struct ap_list *l, bool strict)
{
	struct ap_list_iter it;
	size_t i = 0;
	ck_assert_uint_eq(ap_list_count(l), m->n);
	for (ap_list_iter_init(&it, l, 0, true); ap_list_iter_valid(&it);
	     ap_list_iter_next(&it), i++)
		ck_assert(ap_list_iter_eq(&it, m->s[i], m->len[i]));
	ck_assert_uint_eq(i, m->n);
	for (ap_list_iter_init(&it, l, -1, false); ap_list_iter_valid(&it);
	     ap_list_iter_next(&it)) {
		i--;
		ck_assert(ap_list_iter_eq(&it, m->s[i], m->len[i]));
	}
	ck_assert_uint_eq(i, 0);
	check_shape(l, strict);
}

/* Random element: small ints, small strings, and sometimes big ones. */
static size_t r_elem(char *buf)
{
	int k = rand() % 10;
	if (k < 4)
		return (size_t)sprintf(buf, "%d", rand() % 100000 - 50000);
	if (k < 9) {
		size_t len = (size_t)(rand() % 40);
		for (size_t i = 0; i < len; i++)
			buf[i] = (char)('a' + rand() % 4);
		return len;
	}
	size_t len = (size_t)(rand() % 12000);
	memset(buf, 'L', len);
	return len;
}

/* One random operation on l and the model. */
static void r_op(struct ap_list *l, struct str_model *m, char *buf)
{
	size_t len = r_elem(buf);
	size_t at = m->n ? (size_t)rand() % m->n : 0;
	struct ap_list_iter it;
	int op = rand() % 10;
	if (m->n == 0 && op >= 2)
		op = rand() % 2;
	switch (op) {
	case 0:
		ap_list_push(l, AP_LIST_HEAD, buf, len);
		str_model_insert(m, 0, buf, len);
		break;
	case 1:
		ap_list_push(l, AP_LIST_TAIL, buf, len);
		str_model_insert(m, m->n, buf, len);
		break;
	case 2:
		ck_assert(ap_list_pop(l, AP_LIST_HEAD, NULL, NULL));
		str_model_delete(m, 0, 1);
		break;
	case 3:
		ck_assert(ap_list_pop(l, AP_LIST_TAIL, NULL, NULL));
		str_model_delete(m, m->n - 1, 1);
		break;
	case 4:
		ap_list_iter_init(&it, l, (long long)at, rand() % 2);
		ap_list_iter_insert(&it, AP_LP_BEFORE, buf, len);
		str_model_insert(m, at, buf, len);
		break;
	case 5:
		ap_list_iter_init(&it, l, (long long)at - (long long)m->n,
				  rand() % 2);
		ap_list_iter_insert(&it, AP_LP_AFTER, buf, len);
		str_model_insert(m, at + 1, buf, len);
		break;
	case 6:
		ap_list_iter_init(&it, l, (long long)at, rand() % 2);
		ap_list_iter_replace(&it, buf, len);
		str_model_delete(m, at, 1);
		str_model_insert(m, at, buf, len);
		break;
	case 7: {
		/* delete a few while walking, either way */
		bool fwd = rand() % 2;
		ap_list_iter_init(&it, l, (long long)at, fwd);
		for (int k = rand() % 4; k > 0 && ap_list_iter_valid(&it);
		     k--) {
			size_t idx = it.idx;
			ck_assert(ap_list_iter_eq(&it, m->s[idx], m->len[idx]));
			ap_list_iter_delete(&it);
			str_model_delete(m, idx, 1);
			if (ap_list_iter_valid(&it))
				ck_assert(ap_list_iter_eq(&it, m->s[it.idx],
							  m->len[it.idx]));
		}
		break;
	}
	default: {
		size_t cnt = (size_t)rand() % 30;
		ap_list_delete_range(l, (long long)at, cnt);
		str_model_delete(m, at, AP_MIN(cnt, m->n - at));
		break;
	}
	}
}

START_TEST(test_random_model)
{
	static const int fills[] = {1, 2, 5, 128, 0, -1, -2, -5};
	char *buf = malloc(16384);
	srand(777);
	for (size_t f = 0; f < AP_ARRAY_LEN(fills); f++) {
		struct str_model m = {0};
		struct ap_list *l = ap_list_create(fills[f]);
		for (int i = 0; i < 1500; i++) {
			r_op(l, &m, buf);
			if (i % 50 == 0)
				m_check(&m, l, true);
		}
		m_check(&m, l, true);
		struct ap_list *d = ap_list_dup(l);
		m_check(&m, d, true);
		ap_list_destroy(d);
		str_model_delete(&m, 0, m.n);
		free(m.s);
		free(m.len);
		ap_list_destroy(l);
	}
	free(buf);
}
END_TEST

START_TEST(test_random_refs)
{
	/* Values going through open/grow/op/close many times, switching
	 * encodings; the model holds the truth. */
	char *buf = malloc(16384);
	srand(4242);
	for (int fill = -2; fill <= 16; fill += 9) {
		struct str_model m = {0};
		void *obj = NULL;
		enum ap_enc enc = AP_ENC_LISTPACK;
		int conversions = 0;
		for (int i = 0; i < 2000; i++) {
			struct ap_list_ref ref;
			ap_list_ref_open(&ref, obj, enc, fill);
			/* phases of growth and of shrinking */
			bool up = (i / 800) % 2 == 0;
			int op = rand() % 10 < 8 ? (up ? rand() % 2 : 2)
						 : (up ? 2 : rand() % 2);
			bool shrinking = false;
			if (op == 0 || m.n == 0) {
				size_t len = r_elem(buf) % 300;
				ap_list_ref_grow(&ref, len, 1);
				ap_list_push(ref.l, AP_LIST_TAIL, buf, len);
				str_model_insert(&m, m.n, buf, len);
			} else if (op == 1) {
				size_t len = r_elem(buf) % 300;
				ap_list_ref_grow(&ref, len, 1);
				ap_list_push(ref.l, AP_LIST_HEAD, buf, len);
				str_model_insert(&m, 0, buf, len);
			} else {
				size_t cnt = (size_t)rand() % 4;
				ap_list_delete_range(ref.l, 0, cnt);
				str_model_delete(&m, 0, AP_MIN(cnt, m.n));
				shrinking = true;
			}
			m_check(&m, ref.l, false);
			enum ap_enc was = enc;
			obj = ap_list_ref_close(&ref, shrinking, &enc);
			if (obj == NULL) {
				ck_assert_uint_eq(m.n, 0);
				enc = AP_ENC_LISTPACK;
			} else if (enc != was) {
				conversions++;
			}
		}
		ck_assert_int_ge(conversions, 2);
		if (obj)
			free_value(obj, enc);
		str_model_delete(&m, 0, m.n);
		free(m.s);
		free(m.len);
	}
	free(buf);
}
END_TEST

static Suite *list_suite(void)
{
	Suite *s = suite_create("list");
	TCase *tc = tcase_create("quicklist");
	tcase_add_test(tc, test_count_fill);
	tcase_add_test(tc, test_size_fill);
	tcase_add_test(tc, test_pop);
	tcase_add_test(tc, test_iter_delete);
	tcase_add_test(tc, test_insert_split);
	tcase_add_test(tc, test_delete_range);
	tcase_add_test(tc, test_dup_mem_free_some);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_test(tc, test_conversions);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_random_model);
	tcase_add_test(tc, test_random_refs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(list_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
