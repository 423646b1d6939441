/*
 * test_dict.c - unit tests for core/dict.c: find/insert/remove at the
 * edges, a randomized run against a reference model across many grow and
 * shrink cycles, iteration with removal and insertion, SCAN's guarantee
 * across resizes, fairness of random elements, incremental clearing, and
 * the bound on work per call while rehashing.
 */
#include "core/dict.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Check's ck_assert records the location of every PASSING assertion with
 * a write(): in hot loops use CK, which reports only failures. */
#define CK(x)                                                              \
	do {                                                               \
		if (!(x))                                                  \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #x); \
	} while (0)

/* ------------------------------------------------------- test elements */

struct elem {
	uint32_t id;	/* index into the model */
	uint32_t value; /* payload, to check replace_node */
	struct ap_dict_node node;
	uint8_t len;
	char key[23];
};

static const char *elem_key(const struct ap_dict_node *n, size_t *len)
{
	const struct elem *e = AP_DICT_ENTRY(n, const struct elem, node);

	*len = e->len;
	return e->key;
}

static const struct ap_dict_type elem_type = {.key = elem_key};

/* Key text of id: "k<id>" (distinct ids give distinct keys). */
static size_t key_of(uint32_t id, char *buf)
{
	return (size_t)snprintf(buf, 23, "k%u", id);
}

static struct elem *elem_new(uint32_t id)
{
	struct elem *e = ap_calloc(1, sizeof(*e));

	e->id = id;
	e->len = (uint8_t)key_of(id, e->key);
	return e;
}

static struct elem *as_elem(const struct ap_dict_node *n)
{
	return n == NULL ? NULL : AP_DICT_ENTRY(n, struct elem, node);
}

static size_t frees;

static void elem_free(void *arg, struct ap_dict_node *n)
{
	(void)arg;
	frees++;
	ap_free(as_elem(n));
}

static struct ap_dict_node *find_id(struct ap_dict *d, uint32_t id)
{
	char buf[23];
	size_t len = key_of(id, buf);

	return ap_dict_find(d, buf, len);
}

static struct ap_dict_node *remove_id(struct ap_dict *d, uint32_t id)
{
	char buf[23];
	size_t len = key_of(id, buf);

	return ap_dict_remove(d, buf, len);
}

/* Counts the elements by a full iteration and checks each once. */
static size_t count_by_iter(struct ap_dict *d, uint32_t id_max)
{
	struct ap_dict_iter it;
	struct ap_dict_node *n;
	uint8_t *seen = calloc(id_max, 1);
	size_t count = 0;

	ap_dict_iter_init(&it, d);
	while ((n = ap_dict_iter_next(&it)) != NULL) {
		struct elem *e = as_elem(n);

		CK((e->id) < (id_max));
		CK((seen[e->id]) == (0));
		seen[e->id] = 1;
		count++;
	}
	ap_dict_iter_deinit(&it);
	free(seen);
	return count;
}

/* --------------------------------------------------------------- basics */

START_TEST(test_empty)
{
	struct ap_dict d;
	uint64_t rng = 1;
	struct ap_dict_iter it;

	ap_dict_init(&d, &elem_type);
	ck_assert_uint_eq(ap_dict_size(&d), 0);
	ck_assert_uint_eq(ap_dict_buckets(&d), 0);
	ck_assert_uint_eq(ap_dict_mem(&d), 0);
	ck_assert_ptr_null(find_id(&d, 1));
	ck_assert_ptr_null(remove_id(&d, 1));
	ck_assert_ptr_null(ap_dict_random(&d, &rng));
	ck_assert_uint_eq(ap_dict_scan(&d, 0, NULL, NULL), 0);
	ck_assert(!ap_dict_rehash_step(&d, 100));
	ap_dict_iter_init(&it, &d);
	ck_assert_ptr_null(ap_dict_iter_next(&it));
	ck_assert_ptr_null(ap_dict_iter_next(&it));
	ap_dict_iter_deinit(&it);
	ck_assert(ap_dict_clear_some(&d, 10, elem_free, NULL));
	ap_dict_clear(&d, elem_free, NULL);
	ck_assert_uint_eq(ap_dict_size(&d), 0);
}
END_TEST

START_TEST(test_basic_ops)
{
	struct ap_dict *d = ap_dict_create(&elem_type);
	struct elem *a = elem_new(1), *b = elem_new(2), *dup = elem_new(1);
	struct ap_dict_node *n;

	ap_dict_insert(d, &a->node);
	ck_assert_uint_eq(ap_dict_size(d), 1);
	ck_assert_uint_eq(ap_dict_buckets(d), 4);
	ck_assert_uint_ge(ap_dict_mem(d), 4 * sizeof(void *));
	ck_assert_ptr_eq(find_id(d, 1), &a->node);
	ck_assert_ptr_null(find_id(d, 2));
	/* insert_or_find: existing key returns the old node, leaves dup. */
	ck_assert_ptr_eq(ap_dict_insert_or_find(d, &dup->node), &a->node);
	ck_assert_uint_eq(ap_dict_size(d), 1);
	ck_assert_ptr_null(ap_dict_insert_or_find(d, &b->node));
	ck_assert_uint_eq(ap_dict_size(d), 2);
	/* Keys are compared by bytes, length included: "k1" vs "k1\0". */
	ck_assert_ptr_null(ap_dict_find(d, "k1\0", 3));
	ck_assert_ptr_null(ap_dict_find(d, "k", 1));
	ck_assert_ptr_null(ap_dict_find(d, "", 0));
	/* replace_node keeps the key, swaps the element. */
	dup->value = 7;
	ap_dict_replace_node(d, &a->node, &dup->node);
	ap_free(a);
	n = find_id(d, 1);
	ck_assert_ptr_eq(n, &dup->node);
	ck_assert_uint_eq(as_elem(n)->value, 7);
	ck_assert_uint_eq(ap_dict_size(d), 2);
	/* remove by key and by node. */
	n = remove_id(d, 1);
	ck_assert_ptr_eq(n, &dup->node);
	ck_assert_ptr_null(remove_id(d, 1));
	ap_free(dup);
	ap_dict_remove_node(d, &b->node);
	ck_assert_uint_eq(ap_dict_size(d), 0);
	ap_free(b);
	ap_dict_destroy(d, elem_free, NULL);
}
END_TEST

START_TEST(test_hash_seeded)
{
	/* Same bytes, same hash; different bytes differ (overwhelmingly). */
	ck_assert_uint_eq(ap_dict_hash("abc", 3), ap_dict_hash("abc", 3));
	ck_assert_uint_ne(ap_dict_hash("abc", 3), ap_dict_hash("abd", 3));
	ck_assert_uint_ne(ap_dict_hash("", 0), ap_dict_hash("a", 1));
	/* The hashed variants agree with the plain ones. */
	{
		struct ap_dict d;
		struct elem *e = elem_new(5);
		uint64_t h = ap_dict_hash(e->key, e->len);

		ap_dict_init(&d, &elem_type);
		ck_assert_ptr_null(ap_dict_find_hashed(&d, e->key, e->len, h));
		ap_dict_insert_hashed(&d, &e->node, h);
		ck_assert_ptr_eq(ap_dict_find_hashed(&d, e->key, e->len, h),
				 &e->node);
		ap_dict_clear(&d, elem_free, NULL);
	}
}
END_TEST

/* ------------------------------------------------ randomized vs. model */

/* The reference model: the live element of each id, and the live ids in
 * a dense array for picking one at random. */
struct model {
	struct elem **by_id;
	uint32_t *ids;
	uint32_t *pos;
	size_t live;
	uint32_t range;
};

static void model_add(struct model *m, struct elem *e)
{
	m->by_id[e->id] = e;
	m->pos[e->id] = (uint32_t)m->live;
	m->ids[m->live++] = e->id;
}

static void model_del(struct model *m, uint32_t id)
{
	ap_free(m->by_id[id]);
	m->by_id[id] = NULL;
	m->live--;
	m->ids[m->pos[id]] = m->ids[m->live];
	m->pos[m->ids[m->live]] = m->pos[id];
}

/* One random operation on d and the model: insert (both APIs), remove
 * (by key and by node), replace, find, or an idle rehash step. Fills
 * while `filling`, else drains (removals pick live ids). */
static void model_step(struct ap_dict *d, struct model *m, bool filling,
		       uint64_t *rng)
{
	uint32_t id = (uint32_t)(ap_dict_rand(rng) % m->range);
	unsigned op = (unsigned)(ap_dict_rand(rng) % 100);
	bool insert = filling ? op < 70 : op < 20;

	if (!insert && op < 92 && m->live > 0)
		id = m->ids[ap_dict_rand(rng) % m->live];
	if (op >= 92) {
		if (op & 1)
			(void)ap_dict_rehash_step(d, 3);
		else
			CK((as_elem(find_id(d, id))) == (m->by_id[id]));
	} else if (insert && m->by_id[id] == NULL) {
		struct elem *e = elem_new(id);

		if (op & 1)
			ap_dict_insert(d, &e->node);
		else
			CK((ap_dict_insert_or_find(d, &e->node)) == NULL);
		model_add(m, e);
	} else if (!insert && op < 5 && m->by_id[id] != NULL) {
		struct elem *e = elem_new(id);

		e->value = m->by_id[id]->value + 1;
		ap_dict_replace_node(d, &m->by_id[id]->node, &e->node);
		ap_free(m->by_id[id]);
		m->by_id[id] = e;
	} else if (!insert && m->by_id[id] != NULL) {
		if (op & 1)
			CK((remove_id(d, id)) == (&m->by_id[id]->node));
		else
			ap_dict_remove_node(d, &m->by_id[id]->node);
		model_del(m, id);
	} else {
		CK((as_elem(find_id(d, id))) == (m->by_id[id]));
	}
	CK((ap_dict_size(d)) == (m->live));
}

/* Checks every id of the model against the dict, and the iteration. */
static void model_check(struct ap_dict *d, const struct model *m)
{
	CK((count_by_iter(d, m->range)) == (m->live));
	for (uint32_t id = 0; id < m->range; id++)
		CK((as_elem(find_id(d, id))) == (m->by_id[id]));
}

/*
 * Random operations with a target size that swings between 0 and a
 * random peak, so the table grows and shrinks many times; the dict is
 * compared with the model after each swing.
 */
START_TEST(test_random_model)
{
	enum { RANGE = 40000 };
	struct ap_dict d;
	struct model m = {calloc(RANGE, sizeof(struct elem *)),
			  calloc(RANGE, sizeof(uint32_t)),
			  calloc(RANGE, sizeof(uint32_t)), 0, RANGE};
	size_t shrinks = 0;
	uint64_t rng = 12345;

	ap_dict_init(&d, &elem_type);
	for (int cycle = 0; cycle < 12; cycle++) {
		size_t peak = 1 + ap_dict_rand(&rng) % (RANGE / 2);
		size_t high;

		while (m.live < peak)
			model_step(&d, &m, true, &rng);
		model_check(&d, &m);
		high = ap_dict_buckets(&d);
		ck_assert_uint_ge(high, peak / 2);
		while (m.live > (size_t)(cycle % 3) * 7)
			model_step(&d, &m, false, &rng);
		model_check(&d, &m);
		/* Drained: the table shrank back to a small size. */
		while (ap_dict_rehash_step(&d, 100))
			;
		ck_assert_uint_le(ap_dict_buckets(&d), AP_MAX(4, 4 * m.live));
		shrinks += ap_dict_buckets(&d) < high;
	}
	ck_assert_uint_ge(shrinks, 10);
	frees = 0;
	ap_dict_clear(&d, elem_free, NULL);
	ck_assert_uint_eq(frees, m.live);
	ck_assert_uint_eq(ap_dict_buckets(&d), 0);
	free(m.by_id);
	free(m.ids);
	free(m.pos);
}
END_TEST

/* -------------------------------------------------------- bounded work */

START_TEST(test_incremental_rehash)
{
	enum { N = 1 << 16 };
	struct ap_dict d;
	size_t rehashing_inserts = 0;

	ap_dict_init(&d, &elem_type);
	for (uint32_t i = 0; i < N; i++) {
		size_t before0 = d.used[0];
		bool was = ap_dict_is_rehashing(&d);
		struct elem *e = elem_new(i);

		ap_dict_insert(&d, &e->node);
		if (was && ap_dict_is_rehashing(&d)) {
			/* One bucket moved: a handful of nodes at most. */
			ck_assert_uint_le(before0 - d.used[0], 12);
			rehashing_inserts++;
		}
	}
	ck_assert_uint_gt(rehashing_inserts, 1000);
	/* Inserting the element that reaches load 1 starts a resize that
	 * the next insert does not finish. */
	while (ap_dict_rehash_step(&d, 1000))
		;
	ck_assert_uint_eq(ap_dict_buckets(&d), N);
	{
		struct elem *e = elem_new(N);

		ap_dict_insert(&d, &e->node);
		ck_assert(ap_dict_is_rehashing(&d));
		ck_assert_uint_eq(ap_dict_buckets(&d), N + 2 * N);
		e = elem_new(N + 1);
		ap_dict_insert(&d, &e->node);
		ck_assert(ap_dict_is_rehashing(&d));
	}
	/* Paused by an iterator: steps do nothing. */
	{
		struct ap_dict_iter it;
		size_t u0 = d.used[0];

		ap_dict_iter_init(&it, &d);
		ck_assert(ap_dict_rehash_step(&d, 1000));
		ck_assert_uint_eq(d.used[0], u0);
		ap_dict_iter_deinit(&it);
		ck_assert(ap_dict_rehash_step(&d, 10));
		ck_assert_uint_lt(d.used[0], u0);
	}
	/* A step of k buckets visits at most 10k empty ones. */
	while (ap_dict_rehash_step(&d, 1))
		;
	ck_assert_uint_eq(ap_dict_size(&d), N + 2);
	/* Shrink: remove down below 1/8 load, a resize starts. */
	for (uint32_t i = 0; i < N + 2 - 1000; i++) {
		struct ap_dict_node *n = remove_id(&d, i);

		ck_assert_ptr_nonnull(n);
		ap_free(as_elem(n));
	}
	while (ap_dict_rehash_step(&d, 1000))
		;
	ck_assert_uint_eq(ap_dict_size(&d), 1000);
	ck_assert_uint_le(ap_dict_buckets(&d), 4096);
	ck_assert_uint_ge(ap_dict_buckets(&d), 1000);
	ap_dict_clear(&d, elem_free, NULL);
}
END_TEST

START_TEST(test_reserve)
{
	struct ap_dict d;

	ap_dict_init(&d, &elem_type);
	ap_dict_reserve(&d, 1000);
	ck_assert_uint_eq(ap_dict_buckets(&d), 1024);
	ck_assert(!ap_dict_is_rehashing(&d));
	for (uint32_t i = 0; i < 1000; i++) {
		struct elem *e = elem_new(i);

		ap_dict_insert(&d, &e->node);
		ck_assert(!ap_dict_is_rehashing(&d));
	}
	ck_assert_uint_eq(ap_dict_buckets(&d), 1024);
	/* Reserving on a non-empty dict starts an incremental resize. */
	ap_dict_reserve(&d, 5000);
	ck_assert(ap_dict_is_rehashing(&d));
	ck_assert_uint_eq(ap_dict_buckets(&d), 1024 + 8192);
	/* Smaller reservations do nothing. */
	while (ap_dict_rehash_step(&d, 100))
		;
	ap_dict_reserve(&d, 10);
	ck_assert_uint_eq(ap_dict_buckets(&d), 8192);
	ck_assert_uint_eq(count_by_iter(&d, 1000), 1000);
	ap_dict_clear(&d, elem_free, NULL);
}
END_TEST

/* ----------------------------------------------------------- iteration */

START_TEST(test_iter_remove_insert)
{
	enum { N = 5000 };
	struct ap_dict d;
	struct ap_dict_iter it;
	struct ap_dict_node *n;
	uint8_t seen[N * 2] = {0};
	size_t returned = 0, inserted = 0;

	ap_dict_init(&d, &elem_type);
	for (uint32_t i = 0; i < N; i++) {
		struct elem *e = elem_new(i);

		ap_dict_insert(&d, &e->node);
	}
	ap_dict_iter_init(&it, &d);
	while ((n = ap_dict_iter_next(&it)) != NULL) {
		struct elem *e = as_elem(n);

		ck_assert_uint_eq(seen[e->id], 0);
		seen[e->id] = 1;
		returned++;
		if (e->id >= N)
			continue; /* inserted during the walk */
		if (e->id % 2 == 0) {
			/* remove the node just returned */
			ap_dict_remove_node(&d, n);
			ap_free(e);
		} else if (e->id % 3 == 0) {
			/* replace it by a copy */
			struct elem *c = elem_new(e->id);

			ap_dict_replace_node(&d, n, &c->node);
			ap_free(e);
		} else if (e->id % 5 == 1) {
			/* insert a new element */
			struct elem *x = elem_new(N + e->id);

			ap_dict_insert(&d, &x->node);
			inserted++;
		}
	}
	ap_dict_iter_deinit(&it);
	ck_assert_uint_gt(inserted, 100);
	/* Every original element was returned exactly once. */
	for (uint32_t i = 0; i < N; i++)
		ck_assert_uint_eq(seen[i], 1);
	ck_assert_uint_ge(returned, N);
	for (uint32_t i = 0; i < N; i++) {
		bool present = find_id(&d, i) != NULL;

		ck_assert_int_eq(present, i % 2 != 0);
	}
	frees = 0;
	ap_dict_clear(&d, elem_free, NULL);
	ck_assert_uint_eq(frees, N / 2 + inserted);
}
END_TEST

START_TEST(test_iter_during_rehash)
{
	struct ap_dict d;
	uint32_t i;

	ap_dict_init(&d, &elem_type);
	/* Stop right after a resize began. */
	for (i = 0; !ap_dict_is_rehashing(&d) || i < 100; i++) {
		struct elem *e = elem_new(i);

		ap_dict_insert(&d, &e->node);
	}
	ck_assert(ap_dict_is_rehashing(&d));
	ck_assert_uint_gt(d.used[0], 0);
	ck_assert_uint_gt(d.used[1], 0);
	ck_assert_uint_eq(count_by_iter(&d, i), i);
	ap_dict_clear(&d, elem_free, NULL);
}
END_TEST

/* ---------------------------------------------------------------- scan */

struct scan_seen {
	uint32_t *count; /* per id */
	uint32_t id_max;
};

static void scan_cb(void *arg, const struct ap_dict_node *n)
{
	struct scan_seen *s = arg;
	const struct elem *e = as_elem(n);

	if (e->id < s->id_max)
		s->count[e->id]++;
}

/* A full scan without mutation returns each element exactly once. */
START_TEST(test_scan_stable)
{
	enum { N = 3000 };
	struct ap_dict d;
	uint32_t count[N] = {0};
	struct scan_seen s = {count, N};
	uint64_t cur = 0;
	size_t calls = 0;

	ap_dict_init(&d, &elem_type);
	for (uint32_t i = 0; i < N; i++) {
		struct elem *e = elem_new(i);

		ap_dict_insert(&d, &e->node);
	}
	while (ap_dict_rehash_step(&d, 100))
		;
	do {
		cur = ap_dict_scan(&d, cur, scan_cb, &s);
		calls++;
	} while (cur != 0);
	ck_assert_uint_eq(calls, ap_dict_buckets(&d));
	for (uint32_t i = 0; i < N; i++)
		ck_assert_uint_eq(count[i], 1);
	ap_dict_clear(&d, elem_free, NULL);
}
END_TEST

/*
 * Elements present for the whole scan are returned at least once while
 * transient elements are added and removed between calls so that the
 * table grows and shrinks (and is mid-rehash) many times during the scan.
 */
START_TEST(test_scan_across_resizes)
{
	enum { STABLE = 500, TRANSIENT = 60000 };
	struct ap_dict d;
	static uint32_t count[STABLE];
	struct scan_seen s = {count, STABLE};
	struct elem **tr = calloc(TRANSIENT, sizeof(*tr));
	uint64_t rng = 99;

	for (int round = 0; round < 20; round++) {
		uint64_t cur = 0;
		size_t calls = 0, sizes_seen = 0, last = 0;
		size_t live_tr = 0;

		memset(count, 0, sizeof(count));
		ap_dict_init(&d, &elem_type);
		for (uint32_t i = 0; i < STABLE; i++) {
			struct elem *e = elem_new(i);

			ap_dict_insert(&d, &e->node);
		}
		do {
			cur = ap_dict_scan(&d, cur, scan_cb, &s);
			calls++;
			/* Swing the size: bursts of inserts, then removals. */
			bool grow = (calls / 40) % 2 == 0;
			size_t burst = ap_dict_rand(&rng) % 400;

			for (size_t k = 0; k < burst; k++) {
				uint32_t t = (uint32_t)(ap_dict_rand(&rng) %
							TRANSIENT);

				if (grow && tr[t] == NULL) {
					tr[t] = elem_new(STABLE + t);
					ap_dict_insert(&d, &tr[t]->node);
					live_tr++;
				} else if (!grow && tr[t] != NULL) {
					ap_dict_remove_node(&d, &tr[t]->node);
					ap_free(tr[t]);
					tr[t] = NULL;
					live_tr--;
				}
			}
			if (!grow && live_tr > 0 && calls % 7 == 0) {
				/* remove a lot to force shrinks */
				for (uint32_t t = 0; t < TRANSIENT; t++) {
					if (tr[t] == NULL)
						continue;
					ap_dict_remove_node(&d, &tr[t]->node);
					ap_free(tr[t]);
					tr[t] = NULL;
					live_tr--;
				}
			}
			if (ap_dict_buckets(&d) != last) {
				sizes_seen++;
				last = ap_dict_buckets(&d);
			}
			ck_assert_uint_lt(calls, 10000000);
		} while (cur != 0);
		for (uint32_t i = 0; i < STABLE; i++)
			ck_assert_msg(count[i] >= 1, "round %d: id %u missed",
				      round, i);
		ck_assert_uint_gt(sizes_seen, 2);
		for (uint32_t t = 0; t < TRANSIENT; t++) {
			if (tr[t] == NULL)
				continue;
			ap_dict_remove_node(&d, &tr[t]->node);
			ap_free(tr[t]);
			tr[t] = NULL;
			live_tr--;
		}
		ck_assert_uint_eq(live_tr, 0);
		ck_assert_uint_eq(ap_dict_size(&d), STABLE);
		frees = 0;
		ap_dict_clear(&d, elem_free, NULL);
		ck_assert_uint_eq(frees, STABLE);
	}
	free(tr);
}
END_TEST

/* -------------------------------------------------------------- random */

/* Draws `draws` random elements of d and checks every count is within
 * +-tol of the mean. */
static void check_fair(struct ap_dict *d, uint32_t n, size_t draws, double tol)
{
	uint32_t *count = calloc(n, sizeof(*count));
	uint64_t rng = ap_dict_rng_seed();
	double mean = (double)draws / (double)ap_dict_size(d);
	uint32_t lo = UINT32_MAX, hi = 0;

	for (size_t i = 0; i < draws; i++) {
		struct ap_dict_node *nd = ap_dict_random(d, &rng);

		CK((nd) != NULL);
		CK((as_elem(nd)->id) < (n));
		count[as_elem(nd)->id]++;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (count[i] == 0 && find_id(d, i) == NULL)
			continue;
		lo = AP_MIN(lo, count[i]);
		hi = AP_MAX(hi, count[i]);
	}
	ck_assert_msg(lo >= mean * (1 - tol) && hi <= mean * (1 + tol),
		      "unfair: mean %.1f min %u max %u", mean, lo, hi);
	free(count);
}

START_TEST(test_random_fair)
{
	enum { N = 1000 };
	struct ap_dict d;
	uint64_t rng = 7;

	ap_dict_init(&d, &elem_type);
	/* One element: always it. */
	{
		struct elem *e = elem_new(0);

		ap_dict_insert(&d, &e->node);
		for (int i = 0; i < 100; i++)
			ck_assert_ptr_eq(ap_dict_random(&d, &rng), &e->node);
	}
	for (uint32_t i = 1; i < N; i++) {
		struct elem *e = elem_new(i);

		ap_dict_insert(&d, &e->node);
	}
	while (ap_dict_rehash_step(&d, 100))
		;
	/* Load ~1: mean 400 per element, 4.5 sigma is about +-23%. */
	check_fair(&d, N, 400 * N, 0.3);
	/* Low load (300 in 1024 buckets): shrink threshold not reached. */
	for (uint32_t i = 300; i < N; i++) {
		struct ap_dict_node *n = remove_id(&d, i);

		ap_free(as_elem(n));
	}
	ck_assert(!ap_dict_is_rehashing(&d));
	ck_assert_uint_eq(ap_dict_buckets(&d), 1024);
	check_fair(&d, N, 400 * (size_t)ap_dict_size(&d), 0.3);
	ap_dict_clear(&d, elem_free, NULL);

	/* Mid-rehash: elements in both tables. */
	ap_dict_init(&d, &elem_type);
	for (uint32_t i = 0; !ap_dict_is_rehashing(&d) || i < 1100; i++) {
		struct elem *e = elem_new(i);

		ap_dict_insert(&d, &e->node);
		if (i > 2000)
			break;
	}
	ck_assert(ap_dict_is_rehashing(&d));
	{
		struct ap_dict_iter it;
		uint32_t n = (uint32_t)ap_dict_size(&d);

		ap_dict_iter_init(&it, &d); /* pause so it stays mid-rehash */
		check_fair(&d, n, 400 * (size_t)n, 0.3);
		ap_dict_iter_deinit(&it);
	}
	ap_dict_clear(&d, elem_free, NULL);
}
END_TEST

START_TEST(test_rng)
{
	uint64_t a = 1, b = 1, c = 2;

	ck_assert_uint_eq(ap_dict_rand(&a), ap_dict_rand(&b));
	ck_assert_uint_ne(ap_dict_rand(&a), ap_dict_rand(&c));
	ck_assert_uint_ne(ap_dict_rng_seed(), ap_dict_rng_seed());
}
END_TEST

/* ------------------------------------------------------------ clearing */

START_TEST(test_clear_some)
{
	enum { N = 20000 };
	struct ap_dict d;
	int calls = 0;

	ap_dict_init(&d, &elem_type);
	for (uint32_t i = 0; i < N; i++) {
		struct elem *e = elem_new(i);

		ap_dict_insert(&d, &e->node);
	}
	frees = 0;
	for (;;) {
		size_t before = frees;
		bool done = ap_dict_clear_some(&d, 100, elem_free, NULL);

		ck_assert_uint_le(frees - before, 100);
		calls++;
		if (done)
			break;
		ck_assert_uint_eq(ap_dict_size(&d), N - frees);
	}
	ck_assert_uint_eq(frees, N);
	ck_assert_uint_ge(calls, N / 100);
	ck_assert_uint_eq(ap_dict_buckets(&d), 0);
	ck_assert_uint_eq(ap_dict_mem(&d), 0);
	/* Reusable after clearing. */
	{
		struct elem *e = elem_new(1);

		ap_dict_insert(&d, &e->node);
		ck_assert_ptr_eq(find_id(&d, 1), &e->node);
	}
	/* A budget of 1 frees at most one node per call. */
	frees = 0;
	while (!ap_dict_clear_some(&d, 1, elem_free, NULL))
		ck_assert_uint_eq(frees, 0);
	ck_assert_uint_eq(frees, 1);
	ck_assert_uint_eq(ap_dict_size(&d), 0);
}
END_TEST

START_TEST(test_clear_some_mid_rehash)
{
	struct ap_dict d;
	uint32_t i;

	ap_dict_init(&d, &elem_type);
	for (i = 0; !ap_dict_is_rehashing(&d) || i < 5000; i++) {
		struct elem *e = elem_new(i);

		ap_dict_insert(&d, &e->node);
	}
	ck_assert(ap_dict_is_rehashing(&d));
	frees = 0;
	while (!ap_dict_clear_some(&d, 37, elem_free, NULL))
		;
	ck_assert_uint_eq(frees, i);
}
END_TEST

static Suite *dict_suite(void)
{
	Suite *s = suite_create("dict");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_basic_ops);
	tcase_add_test(tc, test_hash_seeded);
	tcase_add_test(tc, test_random_model);
	tcase_add_test(tc, test_incremental_rehash);
	tcase_add_test(tc, test_reserve);
	tcase_add_test(tc, test_iter_remove_insert);
	tcase_add_test(tc, test_iter_during_rehash);
	tcase_add_test(tc, test_scan_stable);
	tcase_add_test(tc, test_scan_across_resizes);
	tcase_add_test(tc, test_random_fair);
	tcase_add_test(tc, test_rng);
	tcase_add_test(tc, test_clear_some);
	tcase_add_test(tc, test_clear_some_mid_rehash);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dict_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures != 0;
}
