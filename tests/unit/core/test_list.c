/*
 * test_list.c - unit tests for core/list.c: the quicklist's node limits
 * for every kind of fill (counts, sizes, plain nodes for big elements),
 * iteration both ways with deletes, inserts that split full nodes,
 * replaces that outgrow their node, range deletes, the listpack <->
 * quicklist conversions at Redis's boundaries, dup/mem/free_some, and a
 * randomized run against a reference array model for several fills.
 * Compression (list-compress-depth): the packed options, the raw ends and
 * compressed interior, the size rules (too small, incompressible, the
 * 48-byte boundary), loans while reading, lazy application of a changed
 * depth, memory, and the randomized model at depths 1..3, also with the
 * depth changing midway.
 */
#include "core/list.h"

#include <check.h>
#include <limits.h>
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "tests/unit/core/str_model.h"

/* The listpack of node n: n->lp, or for a compressed node a copy
 * decompressed here (into *tmp, which the caller frees), after checking
 * the blob against the compression rules. */
static const unsigned char *node_lp(const struct ap_list_node *n,
				    unsigned char **tmp)
{
	*tmp = NULL;
	if (!n->compressed)
		return n->lp;
	uint32_t raw, z;
	memcpy(&raw, n->lp, 4);
	memcpy(&z, n->lp + 4, 4);
	ck_assert_uint_ge(raw, AP_LIST_COMPRESS_MIN_BYTES);
	ck_assert_uint_le(raw, AP_LIST_COMPRESS_MAX_BYTES);
	ck_assert_uint_ge(raw, 8 + z + AP_LIST_COMPRESS_MIN_SAVING);
	ck_assert_uint_ge(ap_alloc_size(n->lp), 8 + z);
	*tmp = malloc(raw);
	ck_assert_int_eq(LZ4_decompress_safe((const char *)n->lp + 8,
					     (char *)*tmp, (int)z, (int)raw),
			 (int)raw);
	ck_assert_uint_eq(ap_lp_bytes(*tmp), raw);
	return *tmp;
}

/* Checks the structural invariants: links, counts, no empty nodes, the
 * count of compressed nodes, and every non-plain node within its limit
 * when strict. Between operations no node is pending. */
static void check_shape(const struct ap_list *l, bool strict)
{
	size_t count = 0, nodes = 0, z = 0;
	const struct ap_list_node *prev = NULL;
	ck_assert_ptr_null(l->pending);
	for (const struct ap_list_node *n = l->head; n; n = n->next) {
		unsigned char *tmp;
		const unsigned char *lp = node_lp(n, &tmp);
		ck_assert_ptr_eq(n->prev, prev);
		ck_assert_uint_eq(n->count, ap_lp_count(lp));
		ck_assert(ap_lp_validate(lp, ap_lp_bytes(lp)));
		z += n->compressed || l->loan == n;
		if (!n->embedded)
			ck_assert_uint_gt(n->count, 0);
		if (n->plain)
			ck_assert_uint_eq(n->count, 1);
		/* A lone element up to the limit may take a few bytes more
		 * with its header (as in Redis). */
		if (strict && !n->plain && !l->single && n->count > 1) {
			if (l->fill >= 0) {
				size_t lim = l->fill == 0 ? 1 : (size_t)l->fill;
				ck_assert_uint_le(n->count, lim);
				ck_assert_uint_le(ap_lp_bytes(lp), 8192 + 2);
			} else {
				static const size_t b[] = {4096, 8192, 16384,
							   32768, 65536};
				int off = -l->fill - 1;
				size_t lim = b[off > 4 ? 4 : off];
				ck_assert_uint_le(ap_lp_bytes(lp), lim + 2);
			}
		}
		free(tmp);
		count += n->count;
		nodes++;
		prev = n;
	}
	ck_assert_ptr_eq(l->tail, prev);
	ck_assert_uint_eq(count, l->count);
	ck_assert_uint_eq(nodes, l->nodes);
	ck_assert_uint_eq(z, l->zcount);
}

/* Checks that the depth nodes at each end of l are raw (or on loan). */
static void check_raw_ends(const struct ap_list *l)
{
	const struct ap_list_node *h = l->head, *t = l->tail;
	for (int i = 0; i < l->depth && h; i++) {
		ck_assert(!h->compressed);
		ck_assert(!t->compressed);
		ck_assert(l->loan != h && l->loan != t);
		h = h->next;
		t = t->prev;
	}
}

/* Checks that every node past the depth nodes at each end is compressed
 * (or was found incompressible). */
static void check_interior(const struct ap_list *l)
{
	size_t pos = 0;
	for (const struct ap_list_node *n = l->head; n; n = n->next, pos++) {
		if (pos < (size_t)l->depth ||
		    pos + (size_t)l->depth >= l->nodes)
			continue;
		ck_assert(n->compressed || n->incompressible || l->loan == n);
	}
}

/* Compressed nodes of l, by walking it. */
static size_t count_compressed(const struct ap_list *l)
{
	size_t z = 0;
	for (const struct ap_list_node *n = l->head; n; n = n->next)
		z += n->compressed;
	return z;
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
	int op = rand() % 11;
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
	case 8: {
		size_t cnt = (size_t)rand() % 30;
		ap_list_delete_range(l, (long long)at, cnt);
		str_model_delete(m, at, AP_MIN(cnt, m->n - at));
		break;
	}
	default: {
		/* LTRIM: a few from each end */
		size_t lt = (size_t)rand() % 8, rt = (size_t)rand() % 8;
		lt = AP_MIN(lt, m->n);
		ap_list_delete_range(l, 0, lt);
		str_model_delete(m, 0, lt);
		rt = AP_MIN(rt, m->n);
		if (rt) {
			ap_list_delete_range(l, -(long long)rt, rt);
			str_model_delete(m, m->n - rt, rt);
		}
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

/* Reads element idx of l (LINDEX) and checks it against the model, and
 * that the list stays as it was (a loan at most). */
static void r_index(struct ap_list *l, const struct str_model *m)
{
	if (m->n == 0)
		return;
	size_t at = (size_t)rand() % m->n;
	bool fwd = rand() % 2;
	struct ap_list_iter it;
	char b[AP_LP_INTBUF_SIZE];
	size_t len;
	ap_list_iter_init(&it, l, (long long)at, fwd); /* flushes */
	size_t z = l->zcount;
	ap_list_iter_init(&it, l, (long long)at, fwd);
	const char *s = ap_list_iter_get(&it, &len, b);
	ck_assert_uint_eq(len, m->len[at]);
	ck_assert(memcmp(s, m->s[at], len) == 0);
	ck_assert_uint_eq(l->zcount, z);
}

START_TEST(test_random_compressed)
{
	/* Depths 1..3 for a few fills; from op 1000 on, the depth changes
	 * every 300 operations (as CONFIG SET would, through ref_open). */
	static const int fills[] = {-2, 4, 1, -1};
	char *buf = malloc(16384);
	srand(2024);
	for (int depth = 1; depth <= 3; depth++) {
		for (size_t f = 0; f < AP_ARRAY_LEN(fills); f++) {
			struct str_model m = {0};
			struct ap_list *l =
				ap_list_create(ap_list_opts(fills[f], depth));
			ck_assert_int_eq(l->depth, depth);
			bool changed = false;
			size_t zmax = 0, nmax = 0;
			for (int i = 0; i < 2500; i++) {
				if (i >= 1000 && i % 300 == 0) {
					struct ap_list_ref ref;
					int d = rand() % 4;
					ap_list_ref_open(
						&ref, l, AP_ENC_QUICKLIST,
						ap_list_opts(fills[f], d));
					ck_assert_ptr_eq(ref.l, l);
					ck_assert_int_eq(l->depth, d);
					changed = true;
				}
				/* Growth phases (pushes at random ends) so
				 * that lists get long enough to compress. */
				for (int k = (i / 400) % 3 == 2 ? 0
								: rand() % 12;
				     k > 0; k--) {
					size_t len = r_elem(buf);
					bool head = rand() % 2;
					ap_list_push(l,
						     head ? AP_LIST_HEAD
							  : AP_LIST_TAIL,
						     buf, len);
					str_model_insert(&m, head ? 0 : m.n,
							 buf, len);
				}
				r_op(l, &m, buf);
				if (rand() % 4 == 0)
					r_index(l, &m);
				zmax = AP_MAX(zmax, l->zcount);
				nmax = AP_MAX(nmax, l->nodes);
				if (i % 100 == 0) {
					m_check(&m, l, true);
					if (!changed)
						check_raw_ends(l);
				}
			}
			ck_assert_uint_gt(zmax, 2);
			ck_assert_uint_gt(nmax, 20);
			m_check(&m, l, true);
			struct ap_list *d = ap_list_dup(l);
			m_check(&m, d, true);
			ck_assert_uint_eq(d->zcount, count_compressed(l));
			ap_list_destroy(d);
			str_model_delete(&m, 0, m.n);
			free(m.s);
			free(m.len);
			ap_list_destroy(l);
		}
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

/* --- compression ---------------------------------------------------- */

START_TEST(test_opts)
{
	struct ap_list *l;
	ck_assert_int_eq(ap_list_opts(-2, 0), -2);
	ck_assert_int_eq(ap_list_opts(128, -4), 128);
	ck_assert_int_eq(ap_list_opts(-100, 0), -5);
	ck_assert_int_eq(ap_list_opts(INT_MIN, 0), -5);
	ck_assert_int_eq(ap_list_opts(INT_MAX, 0), AP_LIST_FILL_MAX);
	static const int fills[] = {-5, -2, -1, 0, 1, 2, 128, AP_LIST_FILL_MAX};
	static const int depths[] = {0, 1,    2,
				     3, 1000, AP_LIST_COMPRESS_DEPTH_MAX};
	for (size_t i = 0; i < AP_ARRAY_LEN(fills); i++) {
		for (size_t j = 0; j < AP_ARRAY_LEN(depths); j++) {
			l = ap_list_create(ap_list_opts(fills[i], depths[j]));
			ck_assert_int_eq(l->fill, fills[i]);
			ck_assert_int_eq(l->depth, depths[j]);
			ap_list_destroy(l);
		}
	}
	/* The depth is clamped; a bare fill (not through ap_list_opts)
	 * below the first depth means depth 0. */
	l = ap_list_create(ap_list_opts(-2, INT_MAX));
	ck_assert_int_eq(l->depth, AP_LIST_COMPRESS_DEPTH_MAX);
	ap_list_destroy(l);
	l = ap_list_create(65530);
	ck_assert_int_eq(l->fill, 65530);
	ck_assert_int_eq(l->depth, 0);
	ap_list_destroy(l);
	/* From a configuration. */
	struct ap_config cfg;
	ap_config_init(&cfg);
	ck_assert_int_eq(ap_list_opts_of(&cfg), -2);
	cfg.list_compress_depth = 2;
	cfg.list_max_listpack_size = 7;
	l = ap_list_create(ap_list_opts_of(&cfg));
	ck_assert_int_eq(l->fill, 7);
	ck_assert_int_eq(l->depth, 2);
	ap_list_destroy(l);
}
END_TEST

/* Element i of a compressible list: 20 bytes, as the memory benchmark. */
static size_t zelem(char *buf, int i)
{
	return (size_t)sprintf(buf, "element-value-%06d", i);
}

/* A list of n zelem elements pushed at the tail with opts. */
static struct ap_list *zlist(int opts, int n)
{
	char buf[32];
	struct ap_list *l = ap_list_create(opts);
	for (int i = 0; i < n; i++)
		ap_list_push(l, AP_LIST_TAIL, buf, zelem(buf, i));
	return l;
}

START_TEST(test_compress_ends)
{
	char buf[32], b[AP_LP_INTBUF_SIZE];
	size_t len;
	for (int depth = 1; depth <= 3; depth++) {
		/* Built from the tail, then the head: the depth nodes at
		 * each end are raw, every node between compressed. */
		struct ap_list *l = zlist(ap_list_opts(-2, depth), 20000);
		for (int i = 0; i < 3000; i++)
			ap_list_push(l, AP_LIST_HEAD, "head", 4);
		check_shape(l, true);
		check_raw_ends(l);
		check_interior(l);
		ck_assert_uint_gt(l->nodes, 2 * (size_t)depth + 10);
		ck_assert_uint_eq(l->zcount, l->nodes - 2 * (size_t)depth);
		ck_assert_uint_eq(count_compressed(l), l->zcount);
		/* Pops from both ends keep the ends raw. */
		while (l->nodes > 2 * (size_t)depth + 1) {
			ck_assert(ap_list_pop(l, AP_LIST_HEAD, NULL, NULL));
			ck_assert(ap_list_pop(l, AP_LIST_TAIL, NULL, NULL));
			check_raw_ends(l);
		}
		check_shape(l, true);
		/* 2 * depth + 1 nodes: the middle one compressed. */
		ck_assert_uint_le(l->zcount, 1);
		while (l->nodes > 2 * (size_t)depth)
			ck_assert(ap_list_pop(l, AP_LIST_TAIL, NULL, NULL));
		ck_assert_uint_eq(l->zcount, 0);
		check_shape(l, true);
		ap_list_destroy(l);
	}
	/* Reading the middle (LINDEX) borrows the node: the same blob comes
	 * back when the read is over, nothing is compressed again. */
	struct ap_list *l = zlist(ap_list_opts(-2, 1), 10000);
	struct ap_list_iter it;
	ap_list_iter_init(&it, l, 5000, true);
	struct ap_list_node *mid = it.node;
	ck_assert_ptr_eq(l->loan, mid);
	ck_assert(ap_list_iter_transient(&it));
	const unsigned char *blob = l->loan_blob;
	const char *s = ap_list_iter_get(&it, &len, b);
	ck_assert_uint_eq(len, zelem(buf, 5000));
	ck_assert(memcmp(s, buf, len) == 0);
	size_t z = l->zcount;
	ap_list_iter_done(&it); /* the command's end */
	ck_assert_ptr_null(l->loan);
	ck_assert(mid->compressed);
	ck_assert_ptr_eq(mid->lp, blob);
	ck_assert_uint_eq(l->zcount, z);
	/* Without iter_done, the list's next iteration returns it. */
	ap_list_iter_init(&it, l, 5001, true);
	ck_assert_ptr_eq(l->loan, mid);
	ap_list_iter_init(&it, l, 0, true); /* the head: raw, no loan */
	ck_assert(!ap_list_iter_transient(&it));
	ck_assert_ptr_null(l->loan);
	ck_assert(mid->compressed);
	ck_assert_ptr_eq(mid->lp, blob);
	ck_assert_uint_eq(l->zcount, z);
	/* A walk over everything ends with every loan returned. */
	int i = 0;
	for (; ap_list_iter_valid(&it); ap_list_iter_next(&it), i++) {
		s = ap_list_iter_get(&it, &len, b);
		ck_assert_uint_eq(len, zelem(buf, i));
		ck_assert(memcmp(s, buf, len) == 0);
	}
	ck_assert_int_eq(i, 10000);
	ck_assert_ptr_null(l->loan);
	ck_assert_uint_eq(count_compressed(l), z);
	/* LSET in the middle: the node is changed raw and compressed
	 * again; LINSERT and LREM in the middle likewise. */
	ap_list_iter_init(&it, l, 5000, true);
	ap_list_iter_replace(&it, "changed", 7);
	ck_assert(mid->compressed);
	ck_assert_ptr_null(l->loan);
	ap_list_iter_init(&it, l, 6000, false);
	ap_list_iter_insert(&it, AP_LP_AFTER, "inserted", 8);
	ap_list_iter_init(&it, l, 7000, true);
	ap_list_iter_delete(&it);
	ap_list_iter_delete(&it);
	ck_assert_ptr_nonnull(l->pending);
	ap_list_iter_init(&it, l, 0, true); /* settles the pending node */
	ck_assert_ptr_null(l->pending);
	check_shape(l, true);
	check_raw_ends(l);
	check_interior(l);
	ap_list_iter_init(&it, l, 5000, true);
	ck_assert(ap_list_iter_eq(&it, "changed", 7));
	ap_list_iter_init(&it, l, 6001, true);
	ck_assert(ap_list_iter_eq(&it, "inserted", 8));
	ck_assert_uint_eq(ap_list_count(l), 9999);
	ap_list_destroy(l);
}
END_TEST

START_TEST(test_compress_sizes)
{
	/* fill 1: one element per node. A string of 37 bytes makes a
	 * 48-byte listpack (8 header + 1 tag + 37 + 1 back-length + 1
	 * end): compressed; 36 bytes (47) stays raw. */
	char s[64];
	memset(s, 'a', sizeof(s));
	for (size_t len = 36; len <= 37; len++) {
		struct ap_list *l = ap_list_create(ap_list_opts(1, 1));
		for (int i = 0; i < 7; i++)
			ap_list_push(l, AP_LIST_TAIL, s, len);
		ck_assert_uint_eq(ap_lp_bytes(l->head->lp), len + 11);
		check_shape(l, true);
		ck_assert_uint_eq(l->zcount, len == 36 ? 0 : 5);
		ck_assert(l->head->next->incompressible == (len == 36));
		ap_list_destroy(l);
	}
	/* Incompressible data stays raw, whatever the depth. */
	struct ap_list *l = ap_list_create(ap_list_opts(-2, 1));
	unsigned int seed = 99;
	for (int i = 0; i < 3000; i++) {
		char r[30];
		for (size_t k = 0; k < sizeof(r); k++)
			r[k] = (char)(rand_r(&seed) & 0xff);
		ap_list_push(l, AP_LIST_TAIL, r, sizeof(r));
	}
	ck_assert_uint_gt(l->nodes, 5);
	ck_assert_uint_eq(l->zcount, 0);
	ck_assert_uint_eq(count_compressed(l), 0);
	check_shape(l, true);
	ap_list_destroy(l);
	/* A plain node (an element bigger than the node limit) of
	 * repetitive bytes is compressed in the middle, and reads back. */
	size_t big_len = 100000;
	char *big = malloc(big_len + 1);
	memset(big, 'P', big_len);
	big[big_len] = '\0';
	l = ap_list_create(ap_list_opts(-2, 1));
	ap_list_push(l, AP_LIST_TAIL, "a", 1);
	ap_list_push(l, AP_LIST_TAIL, big, big_len);
	ap_list_push(l, AP_LIST_TAIL, "z", 1);
	ck_assert(l->head->next->plain);
	ck_assert(l->head->next->compressed);
	ck_assert_uint_lt(ap_alloc_size(l->head->next->lp), 4096);
	expect_list(l, (const char *[]){"a", big, "z"}, 3);
	ap_list_destroy(l);
	free(big);
}
END_TEST

START_TEST(test_compress_lazy)
{
	/* A list built without compression, then opened with depth 1 (a
	 * CONFIG SET): nothing is compressed until the list changes, then
	 * only what the change touches. */
	struct ap_list *l = zlist(ap_list_opts(-2, 0), 20000);
	size_t nodes = l->nodes;
	ck_assert_uint_gt(nodes, 20);
	struct ap_list_ref ref;
	ap_list_ref_open(&ref, l, AP_ENC_QUICKLIST, ap_list_opts(-2, 1));
	ck_assert_uint_eq(l->zcount, 0);
	struct ap_list_iter it;
	ap_list_iter_init(&it, l, 10000, true);
	ap_list_iter_replace(&it, "x", 1); /* LSET in the middle */
	ck_assert_uint_eq(l->zcount, 1);
	/* A new head node moves the old head inside: compressed, and the
	 * node inside the tail likewise. */
	long long pushed = 0;
	while (l->nodes == nodes) {
		ap_list_push(l, AP_LIST_HEAD, "head-element-padding", 20);
		pushed++;
	}
	ck_assert_uint_eq(l->zcount, 3);
	ck_assert(l->head->next->compressed);
	ck_assert(l->tail->prev->compressed);
	check_shape(l, true);
	/* Back to depth 0: what is compressed stays so until changed. */
	ap_list_ref_open(&ref, l, AP_ENC_QUICKLIST, ap_list_opts(-2, 0));
	ap_list_iter_init(&it, l, 10000 + pushed, true);
	ck_assert(ap_list_iter_eq(&it, "x", 1));
	ck_assert_uint_eq(l->zcount, 3);
	ap_list_iter_replace(&it, "y", 1);
	ck_assert_uint_eq(l->zcount, 2);
	ck_assert_uint_eq(count_compressed(l), 2);
	check_shape(l, true);
	ap_list_destroy(l);

	/* Three nodes of 4, the middle compressed; then (depth 0, size
	 * fill) trimmed to that node alone, it closes into a bare
	 * listpack. */
	l = zlist(ap_list_opts(4, 1), 12);
	ck_assert_uint_eq(l->nodes, 3);
	ck_assert(l->head->next->compressed);
	ap_list_ref_open(&ref, l, AP_ENC_QUICKLIST, ap_list_opts(-2, 0));
	ap_list_delete_range(l, 0, 4);
	ap_list_delete_range(l, -4, 4);
	ck_assert_uint_eq(l->nodes, 1);
	ck_assert(l->head->compressed);
	enum ap_enc enc;
	unsigned char *o = ap_list_ref_close(&ref, true, &enc);
	ck_assert_int_eq(enc, AP_ENC_LISTPACK);
	ck_assert_uint_eq(ap_lp_count(o), 4);
	int i = 4;
	for (unsigned char *p = ap_lp_first(o); p; p = ap_lp_next(o, p)) {
		char buf[32];
		size_t len = zelem(buf, i++);
		ck_assert(ap_lp_eq(p, buf, len));
	}
	ap_lp_free(o);
}
END_TEST

START_TEST(test_compress_mem)
{
	/* 200k 20-byte compressible elements: depth 1 takes well under
	 * half the memory of depth 0, by the type's estimate and by the
	 * allocator's count. */
	int64_t m0 = ap_mem_thread_used();
	struct ap_list *raw = zlist(ap_list_opts(-2, 0), 200000);
	int64_t m1 = ap_mem_thread_used();
	struct ap_list *z = zlist(ap_list_opts(-2, 1), 200000);
	int64_t m2 = ap_mem_thread_used();
	ck_assert_uint_eq(raw->zcount, 0);
	ck_assert_uint_eq(z->zcount, z->nodes - 2);
	ck_assert_uint_lt(ap_list_mem(z) * 2, ap_list_mem(raw));
	ck_assert_int_lt((m2 - m1) * 2, m1 - m0);
	/* The estimate is close to the allocator's count. */
	ck_assert_uint_lt(ap_list_mem(z), (uint64_t)(m2 - m1) * 11 / 10);
	ck_assert_uint_gt(ap_list_mem(z), (uint64_t)(m2 - m1) * 9 / 10);
	/* dup keeps it compressed; free_some frees it in steps. */
	struct ap_list *d = ap_list_dup(z);
	ck_assert_uint_eq(d->zcount, z->zcount);
	ck_assert_uint_eq(ap_list_mem(d), ap_list_mem(z));
	int steps = 0;
	while (!ap_list_free_some(d, 10000))
		steps++;
	ck_assert_int_ge(steps, 19);
	ap_list_destroy(raw);
	/* A borrowed node is counted with its blob; destroying the list
	 * frees the loan too. */
	struct ap_list_iter it;
	ap_list_iter_init(&it, z, 100000, true);
	ck_assert_ptr_nonnull(z->loan);
	ck_assert_uint_ge(ap_list_mem(z), ap_alloc_size(z->loan_blob));
	ap_list_destroy(z);
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

	tc = tcase_create("compression");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_opts);
	tcase_add_test(tc, test_compress_ends);
	tcase_add_test(tc, test_compress_sizes);
	tcase_add_test(tc, test_compress_lazy);
	tcase_add_test(tc, test_compress_mem);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_random_model);
	tcase_add_test(tc, test_random_compressed);
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
