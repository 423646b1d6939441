/*
 * test_hobj.c - the hash object of core/hobj.c: both encodings, the
 * conversion boundaries (exactly at hash-max-listpack-entries/-value and
 * one over), HINCRBY arithmetic in place, iteration, SCAN across resizes,
 * random sampling, copies, lazy free, and a randomized run against a
 * simple reference model (an array of field/value strings).
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hobj.h"

/* --- reference model ------------------------------------------------------ */

#define MODEL_MAX 4096

struct model {
	char *f[MODEL_MAX];
	size_t flen[MODEL_MAX];
	char *v[MODEL_MAX];
	size_t vlen[MODEL_MAX];
	size_t n;
};

static long model_find(const struct model *m, const char *f, size_t flen)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->flen[i] == flen && memcmp(m->f[i], f, flen) == 0)
			return (long)i;
	return -1;
}

/* Returns true if inserted. */
static bool model_set(struct model *m, const char *f, size_t flen,
		      const char *v, size_t vlen)
{
	long i = model_find(m, f, flen);

	if (i >= 0) {
		free(m->v[i]);
		m->v[i] = malloc(vlen + 1);
		memcpy(m->v[i], v, vlen);
		m->vlen[i] = vlen;
		return false;
	}
	ck_assert_uint_lt(m->n, MODEL_MAX);
	m->f[m->n] = malloc(flen + 1);
	memcpy(m->f[m->n], f, flen);
	m->flen[m->n] = flen;
	m->v[m->n] = malloc(vlen + 1);
	memcpy(m->v[m->n], v, vlen);
	m->vlen[m->n] = vlen;
	m->n++;
	return true;
}

static bool model_del(struct model *m, const char *f, size_t flen)
{
	long i = model_find(m, f, flen);

	if (i < 0)
		return false;
	free(m->f[i]);
	free(m->v[i]);
	m->n--;
	m->f[i] = m->f[m->n];
	m->flen[i] = m->flen[m->n];
	m->v[i] = m->v[m->n];
	m->vlen[i] = m->vlen[m->n];
	return true;
}

static void model_clear(struct model *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->f[i]);
		free(m->v[i]);
	}
	m->n = 0;
}

/* Checks h holds exactly the model's pairs: by lookup and by a walk that
 * must visit every field exactly once. */
static void check_same(struct ap_hobj *h, const struct model *m)
{
	static bool seen[MODEL_MAX];
	struct ap_hobj_iter it;
	struct ap_hobj_pair p;
	size_t visited = 0;

	ck_assert_uint_eq(ap_hobj_len(h), m->n);
	for (size_t i = 0; i < m->n; i++) {
		char buf[AP_HOBJ_BUF_SIZE];
		size_t vlen = 12345;
		const char *v = ap_hobj_get(h, m->f[i], m->flen[i], &vlen, buf);

		ck_assert_ptr_nonnull(v);
		ck_assert_uint_eq(vlen, m->vlen[i]);
		ck_assert(memcmp(v, m->v[i], vlen) == 0);
		ck_assert(ap_hobj_exists(h, m->f[i], m->flen[i]));
		ck_assert_uint_eq(ap_hobj_strlen(h, m->f[i], m->flen[i]),
				  m->vlen[i]);
	}
	memset(seen, 0, sizeof(seen));
	ap_hobj_iter_init(&it, h);
	while (ap_hobj_iter_next(&it, &p)) {
		long i = model_find(m, p.f, p.flen);

		ck_assert_int_ge(i, 0);
		ck_assert(!seen[i]);
		seen[i] = true;
		ck_assert_uint_eq(p.vlen, m->vlen[i]);
		ck_assert(memcmp(p.v, m->v[i], p.vlen) == 0);
		visited++;
	}
	ap_hobj_iter_deinit(&it);
	ck_assert_uint_eq(visited, m->n);
}

/* --- helpers -------------------------------------------------------------- */

static const struct ap_hobj_limits lim_default = {.entries_max = 128,
						  .value_max = 64};

static bool set_s(struct ap_hobj *h, const char *f, const char *v,
		  const struct ap_hobj_limits *lim)
{
	return ap_hobj_set(h, f, strlen(f), v, strlen(v), lim);
}

/* The value of f as a NUL-terminated copy in out ("" and false if
 * absent). */
static bool get_s(struct ap_hobj *h, const char *f, char *out, size_t size)
{
	char buf[AP_HOBJ_BUF_SIZE];
	size_t vlen;
	const char *v = ap_hobj_get(h, f, strlen(f), &vlen, buf);

	out[0] = '\0';
	if (v == NULL)
		return false;
	ck_assert_uint_lt(vlen, size);
	memcpy(out, v, vlen);
	out[vlen] = '\0';
	return true;
}

static void free_h(struct ap_hobj *h)
{
	ap_hobj_free(h->ptr, h->enc);
	h->ptr = NULL;
}

static uint64_t rng_state = 0x1234567;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* --- lifecycle and basic access ------------------------------------------- */

START_TEST(test_empty)
{
	struct ap_hobj h;
	char buf[AP_HOBJ_BUF_SIZE];
	size_t vlen;

	ap_hobj_init(&h);
	ck_assert_int_eq(h.enc, AP_ENC_LISTPACK);
	ck_assert_uint_eq(ap_hobj_len(&h), 0);
	ck_assert_ptr_null(ap_hobj_get(&h, "f", 1, &vlen, buf));
	ck_assert(!ap_hobj_exists(&h, "f", 1));
	ck_assert_uint_eq(ap_hobj_strlen(&h, "f", 1), 0);
	ck_assert(!ap_hobj_delete(&h, "f", 1));
	ck_assert_uint_gt(ap_hobj_mem(h.ptr, h.enc), 0);
	free_h(&h);
}
END_TEST

START_TEST(test_set_get_listpack)
{
	struct ap_hobj h;
	char out[128];

	ap_hobj_init(&h);
	ck_assert(set_s(&h, "a", "1", &lim_default));
	ck_assert(set_s(&h, "b", "hello", &lim_default));
	ck_assert(set_s(&h, "-5", "-9223372036854775808", &lim_default));
	ck_assert(set_s(&h, "", "", &lim_default));
	ck_assert(!set_s(&h, "a", "01", &lim_default));
	ck_assert_int_eq(h.enc, AP_ENC_LISTPACK);
	ck_assert_uint_eq(ap_hobj_len(&h), 4);
	ck_assert(get_s(&h, "a", out, sizeof(out)));
	ck_assert_str_eq(out, "01");
	ck_assert(get_s(&h, "-5", out, sizeof(out)));
	ck_assert_str_eq(out, "-9223372036854775808");
	ck_assert(get_s(&h, "", out, sizeof(out)));
	ck_assert_str_eq(out, "");
	ck_assert(!get_s(&h, "c", out, sizeof(out)));
	ck_assert_uint_eq(ap_hobj_strlen(&h, "b", 1), 5);
	ck_assert_uint_eq(ap_hobj_strlen(&h, "-5", 2), 20);
	/* Integer-looking fields and values are found by their text. */
	ck_assert(ap_hobj_exists(&h, "-5", 2));
	ck_assert(!ap_hobj_exists(&h, "-05", 3));
	ck_assert(ap_hobj_delete(&h, "b", 1));
	ck_assert(!ap_hobj_delete(&h, "b", 1));
	ck_assert_uint_eq(ap_hobj_len(&h), 3);
	/* A value equal to a field name is not a field. */
	ck_assert(set_s(&h, "x", "a", &lim_default));
	ck_assert(!ap_hobj_exists(&h, "01", 2));
	ck_assert_int_eq(h.enc, AP_ENC_LISTPACK);
	free_h(&h);
}
END_TEST

/* Exactly entries_max fields stay a listpack; one more converts, keeping
 * every pair. Checked for several limits including 0 and the default. */
START_TEST(test_entries_boundary)
{
	static const size_t maxes[] = {0, 1, 2, 7, 128, 512};

	for (size_t k = 0; k < AP_ARRAY_LEN(maxes); k++) {
		struct ap_hobj_limits lim = {.entries_max = maxes[k],
					     .value_max = 64};
		struct ap_hobj h;
		struct model m = {0};
		char f[32], v[32];

		ap_hobj_init(&h);
		for (size_t i = 0; i < maxes[k]; i++) {
			snprintf(f, sizeof(f), "field%zu", i);
			snprintf(v, sizeof(v), "%zu", i * 7);
			ck_assert(set_s(&h, f, v, &lim));
			model_set(&m, f, strlen(f), v, strlen(v));
			ck_assert_int_eq(h.enc, AP_ENC_LISTPACK);
		}
		/* Updates at the limit do not convert. */
		if (maxes[k] > 0) {
			ck_assert(!set_s(&h, "field0", "new", &lim));
			model_set(&m, "field0", 6, "new", 3);
			ck_assert_int_eq(h.enc, AP_ENC_LISTPACK);
		}
		check_same(&h, &m);
		ck_assert(set_s(&h, "one-over", "x", &lim));
		model_set(&m, "one-over", 8, "x", 1);
		ck_assert_int_eq(h.enc, AP_ENC_HASHTABLE);
		check_same(&h, &m);
		free_h(&h);
		model_clear(&m);
	}
}
END_TEST

/* Fields and values of exactly value_max bytes stay; one more converts,
 * whether it is a field, a new value or an updated value. */
START_TEST(test_value_boundary)
{
	struct ap_hobj_limits lim = {.entries_max = 128, .value_max = 16};
	char at[17], over[18];
	struct ap_hobj h;
	struct model m = {0};

	memset(at, 'a', 16);
	at[16] = '\0';
	memset(over, 'b', 17);
	over[17] = '\0';

	/* field of value_max, value of value_max */
	ap_hobj_init(&h);
	ck_assert(set_s(&h, at, at, &lim));
	ck_assert_int_eq(h.enc, AP_ENC_LISTPACK);
	/* a field one over */
	ck_assert(set_s(&h, over, "v", &lim));
	ck_assert_int_eq(h.enc, AP_ENC_HASHTABLE);
	free_h(&h);

	/* a new value one over */
	ap_hobj_init(&h);
	ck_assert(set_s(&h, "f", "small", &lim));
	ck_assert(set_s(&h, "g", over, &lim));
	ck_assert_int_eq(h.enc, AP_ENC_HASHTABLE);
	free_h(&h);

	/* an update one over, then conversion keeps everything */
	ap_hobj_init(&h);
	for (int i = 0; i < 10; i++) {
		char f[8];
		snprintf(f, sizeof(f), "%d", i);
		set_s(&h, f, at, &lim);
		model_set(&m, f, strlen(f), at, 16);
	}
	ck_assert_int_eq(h.enc, AP_ENC_LISTPACK);
	ck_assert(!set_s(&h, "3", over, &lim));
	model_set(&m, "3", 1, over, 17);
	ck_assert_int_eq(h.enc, AP_ENC_HASHTABLE);
	check_same(&h, &m);

	/* Never back: deleting down to one short field stays a table. */
	for (int i = 0; i < 9; i++) {
		char f[8];
		snprintf(f, sizeof(f), "%d", i);
		ck_assert(ap_hobj_delete(&h, f, strlen(f)));
		model_del(&m, f, strlen(f));
	}
	ck_assert_int_eq(h.enc, AP_ENC_HASHTABLE);
	check_same(&h, &m);
	free_h(&h);
	model_clear(&m);

	/* value_max 0: only empty fields and values fit */
	struct ap_hobj_limits zero = {.entries_max = 128, .value_max = 0};
	ap_hobj_init(&h);
	ck_assert(set_s(&h, "", "", &zero));
	ck_assert_int_eq(h.enc, AP_ENC_LISTPACK);
	ck_assert(!set_s(&h, "", "x", &zero));
	ck_assert_int_eq(h.enc, AP_ENC_HASHTABLE);
	free_h(&h);
}
END_TEST

START_TEST(test_convert_explicit)
{
	struct ap_hobj h;
	struct model m = {0};

	ap_hobj_init(&h);
	ap_hobj_convert(&h); /* empty */
	ck_assert_int_eq(h.enc, AP_ENC_HASHTABLE);
	ap_hobj_convert(&h); /* no-op */
	ck_assert_int_eq(h.enc, AP_ENC_HASHTABLE);
	ck_assert_uint_eq(ap_hobj_len(&h), 0);
	free_h(&h);

	ap_hobj_init(&h);
	set_s(&h, "n", "42", &lim_default);
	set_s(&h, "s", "str", &lim_default);
	model_set(&m, "n", 1, "42", 2);
	model_set(&m, "s", 1, "str", 3);
	ap_hobj_convert(&h);
	ck_assert_int_eq(h.enc, AP_ENC_HASHTABLE);
	check_same(&h, &m);
	free_h(&h);
	model_clear(&m);
}
END_TEST

/* --- HINCRBY -------------------------------------------------------------- */

static void incr_cases(bool table)
{
	struct ap_hobj h;
	long long out = 0;
	char s[64];

	ap_hobj_init(&h);
	if (table)
		ap_hobj_convert(&h);
	ck_assert_int_eq(ap_hobj_incr_ll(&h, "c", 1, 5, &lim_default, &out),
			 AP_HOBJ_INCR_OK);
	ck_assert_int_eq(out, 5);
	ck_assert_int_eq(ap_hobj_incr_ll(&h, "c", 1, -7, &lim_default, &out),
			 AP_HOBJ_INCR_OK);
	ck_assert_int_eq(out, -2);
	ck_assert(get_s(&h, "c", s, sizeof(s)));
	ck_assert_str_eq(s, "-2");

	set_s(&h, "max", "9223372036854775806", &lim_default);
	ck_assert_int_eq(ap_hobj_incr_ll(&h, "max", 3, 1, &lim_default, &out),
			 AP_HOBJ_INCR_OK);
	ck_assert_int_eq(out, LLONG_MAX);
	ck_assert_int_eq(ap_hobj_incr_ll(&h, "max", 3, 1, &lim_default, &out),
			 AP_HOBJ_INCR_OVERFLOW);
	ck_assert(get_s(&h, "max", s, sizeof(s)));
	ck_assert_str_eq(s, "9223372036854775807");

	set_s(&h, "min", "-9223372036854775807", &lim_default);
	ck_assert_int_eq(ap_hobj_incr_ll(&h, "min", 3, -1, &lim_default, &out),
			 AP_HOBJ_INCR_OK);
	ck_assert_int_eq(out, LLONG_MIN);
	ck_assert_int_eq(ap_hobj_incr_ll(&h, "min", 3, -1, &lim_default, &out),
			 AP_HOBJ_INCR_OVERFLOW);

	static const char *const bad[] = {
		"",    "abc", " 1", "1 ",
		"1.5", "01",  "+1", "9223372036854775808",
		"-0"};
	for (size_t i = 0; i < AP_ARRAY_LEN(bad); i++) {
		set_s(&h, "bad", bad[i], &lim_default);
		ck_assert_int_eq(
			ap_hobj_incr_ll(&h, "bad", 3, 1, &lim_default, &out),
			AP_HOBJ_INCR_NOT_INT);
		ck_assert(get_s(&h, "bad", s, sizeof(s)));
		ck_assert_str_eq(s, bad[i]);
	}
	ck_assert_int_eq(h.enc, table ? AP_ENC_HASHTABLE : AP_ENC_LISTPACK);
	ck_assert_uint_eq(ap_hobj_len(&h), 4);
	free_h(&h);
}

START_TEST(test_incr)
{
	incr_cases(false);
	incr_cases(true);
}
END_TEST

/* HINCRBY writes convert like any other write (as Redis): a new field
 * over value_max, a result longer than value_max, one field too many. */
START_TEST(test_incr_converts)
{
	struct ap_hobj_limits lim = {.entries_max = 2, .value_max = 3};
	struct ap_hobj h;
	long long out;
	char s[32];

	ap_hobj_init(&h);
	ck_assert_int_eq(ap_hobj_incr_ll(&h, "a", 1, 999, &lim, &out),
			 AP_HOBJ_INCR_OK);
	ck_assert_int_eq(h.enc, AP_ENC_LISTPACK);
	ck_assert_int_eq(ap_hobj_incr_ll(&h, "a", 1, 1, &lim, &out),
			 AP_HOBJ_INCR_OK);
	ck_assert_int_eq(out, 1000);
	ck_assert_int_eq(h.enc, AP_ENC_HASHTABLE);
	ck_assert(get_s(&h, "a", s, sizeof(s)));
	ck_assert_str_eq(s, "1000");
	free_h(&h);

	ap_hobj_init(&h);
	ck_assert_int_eq(ap_hobj_incr_ll(&h, "long", 4, 1, &lim, &out),
			 AP_HOBJ_INCR_OK);
	ck_assert_int_eq(h.enc, AP_ENC_HASHTABLE);
	free_h(&h);

	ap_hobj_init(&h);
	(void)ap_hobj_incr_ll(&h, "a", 1, 1, &lim, &out);
	(void)ap_hobj_incr_ll(&h, "b", 1, 1, &lim, &out);
	ck_assert_int_eq(h.enc, AP_ENC_LISTPACK);
	(void)ap_hobj_incr_ll(&h, "c", 1, 1, &lim, &out);
	ck_assert_int_eq(h.enc, AP_ENC_HASHTABLE);
	ck_assert_uint_eq(ap_hobj_len(&h), 3);
	free_h(&h);
}
END_TEST

/* Values rewritten in a hashtable node: growing, shrinking a lot, same
 * size, empty; every other field stays intact. */
START_TEST(test_table_values_resize)
{
	struct ap_hobj h;
	struct model m = {0};
	static char big[5000];

	memset(big, 'z', sizeof(big));
	ap_hobj_init(&h);
	ap_hobj_convert(&h);
	for (int i = 0; i < 50; i++) {
		char f[16];
		snprintf(f, sizeof(f), "f%d", i);
		ap_hobj_set(&h, f, strlen(f), "v", 1, &lim_default);
		model_set(&m, f, strlen(f), "v", 1);
	}
	static const size_t lens[] = {0, 1, 7,	8,  9,	  40,	100, 4999,
				      3, 0, 64, 65, 5000, 5000, 1};
	for (size_t k = 0; k < AP_ARRAY_LEN(lens); k++) {
		for (int i = 0; i < 50; i += 3) {
			char f[16];
			snprintf(f, sizeof(f), "f%d", i);
			big[0] = (char)('a' + k);
			ck_assert(!ap_hobj_set(&h, f, strlen(f), big, lens[k],
					       &lim_default));
			model_set(&m, f, strlen(f), big, lens[k]);
		}
		check_same(&h, &m);
	}
	free_h(&h);
	model_clear(&m);
}
END_TEST

/* --- copies, memory, lazy free -------------------------------------------- */

START_TEST(test_dup_and_mem)
{
	for (int enc = 0; enc < 2; enc++) {
		struct ap_hobj h, d;
		struct model m = {0};

		ap_hobj_init(&h);
		for (int i = 0; i < (enc ? 500 : 20); i++) {
			char f[16], v[16];
			snprintf(f, sizeof(f), "f%d", i);
			snprintf(v, sizeof(v), "%d", i * 3);
			ap_hobj_set(&h, f, strlen(f), v, strlen(v),
				    &lim_default);
			model_set(&m, f, strlen(f), v, strlen(v));
		}
		ck_assert_int_eq(h.enc,
				 enc ? AP_ENC_HASHTABLE : AP_ENC_LISTPACK);
		d.ptr = ap_hobj_dup(h.ptr, h.enc);
		d.enc = h.enc;
		ck_assert_ptr_ne(d.ptr, h.ptr);
		check_same(&d, &m);
		ck_assert_uint_eq(ap_hobj_len_of(d.ptr, d.enc), m.n);
		/* independent: change the copy only */
		set_s(&d, "f0", "changed", &lim_default);
		ck_assert(ap_hobj_delete(&d, "f1", 2));
		check_same(&h, &m);

		size_t mem = ap_hobj_mem(h.ptr, h.enc);
		if (enc)
			ck_assert_uint_ge(mem, 500 * 20);
		else
			ck_assert_uint_ge(mem, 8 + 20 * 4);
		free_h(&h);
		free_h(&d);
		model_clear(&m);
	}
}
END_TEST

START_TEST(test_free_some)
{
	struct ap_hobj h;
	int calls = 0;

	ap_hobj_init(&h);
	for (int i = 0; i < 10000; i++) {
		char f[16];
		snprintf(f, sizeof(f), "f%d", i);
		ap_hobj_set(&h, f, strlen(f), "v", 1, &lim_default);
	}
	ck_assert_int_eq(h.enc, AP_ENC_HASHTABLE);
	while (!ap_hobj_free_some(h.ptr, h.enc, 100))
		calls++;
	ck_assert_int_ge(calls, 50);

	/* A listpack goes in one call. */
	ap_hobj_init(&h);
	set_s(&h, "a", "b", &lim_default);
	ck_assert(ap_hobj_free_some(h.ptr, h.enc, 1));
}
END_TEST

/* --- SCAN ----------------------------------------------------------------- */

struct collect {
	struct model *m;
	bool *seen;
	size_t calls;
};

static void collect_pair(void *arg, const struct ap_hobj_pair *p)
{
	struct collect *c = arg;
	long i = model_find(c->m, p->f, p->flen);

	c->calls++;
	if (i < 0)
		return; /* inserted during the scan */
	ck_assert_uint_eq(p->vlen, c->m->vlen[i]);
	ck_assert(memcmp(p->v, c->m->v[i], p->vlen) == 0);
	c->seen[i] = true;
}

START_TEST(test_scan_listpack)
{
	struct ap_hobj h;
	struct model m = {0};
	bool seen[MODEL_MAX] = {0};
	struct collect c = {.m = &m, .seen = seen};

	ap_hobj_init(&h);
	for (int i = 0; i < 30; i++) {
		char f[16];
		snprintf(f, sizeof(f), "%d", i);
		set_s(&h, f, f, &lim_default);
		model_set(&m, f, strlen(f), f, strlen(f));
	}
	/* Whole listpack whatever the cursor and count. */
	ck_assert_uint_eq(ap_hobj_scan(&h, 12345, 1, collect_pair, &c), 0);
	ck_assert_uint_eq(c.calls, 30);
	for (int i = 0; i < 30; i++)
		ck_assert(seen[i]);
	free_h(&h);
	model_clear(&m);
}
END_TEST

/* Every field present for the whole scan is returned, while fields are
 * added (growing the table) and others removed (shrinking it) between
 * calls. */
START_TEST(test_scan_table_resizes)
{
	struct ap_hobj h;
	struct model m = {0};
	static bool seen[MODEL_MAX];
	struct collect c = {.m = &m, .seen = seen};
	char f[32];

	memset(seen, 0, sizeof(seen));
	ap_hobj_init(&h);
	for (int i = 0; i < 1000; i++) {
		snprintf(f, sizeof(f), "keep%d", i);
		set_s(&h, f, "v", &lim_default);
		model_set(&m, f, strlen(f), "v", 1);
	}
	for (int i = 0; i < 1000; i++) {
		snprintf(f, sizeof(f), "gone%d", i);
		set_s(&h, f, "w", &lim_default);
	}
	uint64_t cursor = 0;
	int step = 0;
	do {
		cursor = ap_hobj_scan(&h, cursor, 5, collect_pair, &c);
		/* first half of the scan: shrink; second half: grow */
		if (step < 100) {
			for (int i = step * 10; i < step * 10 + 10; i++) {
				snprintf(f, sizeof(f), "gone%d", i);
				ck_assert(ap_hobj_delete(&h, f, strlen(f)));
			}
		} else {
			for (int i = 0; i < 20; i++) {
				snprintf(f, sizeof(f), "new%d.%d", step, i);
				set_s(&h, f, "n", &lim_default);
			}
		}
		step++;
		ck_assert_int_lt(step, 100000);
	} while (cursor != 0);
	for (size_t i = 0; i < m.n; i++)
		ck_assert_msg(seen[i], "field %s missed", m.f[i]);
	free_h(&h);
	model_clear(&m);
}
END_TEST

/* COUNT bounds the work of one call: at least count pairs unless done. */
START_TEST(test_scan_count)
{
	struct ap_hobj h;
	struct model m = {0};
	static bool seen[MODEL_MAX];
	struct collect c = {.m = &m, .seen = seen};

	ap_hobj_init(&h);
	for (int i = 0; i < 2000; i++) {
		char f[16];
		snprintf(f, sizeof(f), "%d", i);
		set_s(&h, f, "v", &lim_default);
		model_set(&m, f, strlen(f), "v", 1);
	}
	uint64_t cursor = ap_hobj_scan(&h, 0, 100, collect_pair, &c);
	ck_assert_uint_ne(cursor, 0);
	ck_assert_uint_ge(c.calls, 100);
	ck_assert_uint_lt(c.calls, 200);
	cursor = ap_hobj_scan(&h, 0, 100000, collect_pair, &c);
	ck_assert_uint_eq(cursor, 0);
	free_h(&h);
	model_clear(&m);
}
END_TEST

/* --- random --------------------------------------------------------------- */

struct tally {
	struct model *m;
	size_t *hits;
	size_t calls;
	bool distinct;
};

static void tally_pair(void *arg, const struct ap_hobj_pair *p)
{
	struct tally *t = arg;
	long i = model_find(t->m, p->f, p->flen);

	ck_assert_int_ge(i, 0);
	ck_assert_uint_eq(p->vlen, t->m->vlen[i]);
	ck_assert(memcmp(p->v, t->m->v[i], p->vlen) == 0);
	if (t->distinct)
		ck_assert_uint_eq(t->hits[i], 0);
	t->hits[i]++;
	t->calls++;
}

/* Builds a hash of n fields ("0".."n-1", values "v<i>") in the given
 * encoding and its model. */
static void build(struct ap_hobj *h, struct model *m, int n, bool table)
{
	ap_hobj_init(h);
	if (table)
		ap_hobj_convert(h);
	for (int i = 0; i < n; i++) {
		char f[16], v[16];
		snprintf(f, sizeof(f), "%d", i);
		snprintf(v, sizeof(v), "v%d", i);
		ap_hobj_set(h, f, strlen(f), v, strlen(v), &lim_default);
		model_set(m, f, strlen(f), v, strlen(v));
	}
}

START_TEST(test_random)
{
	static size_t hits[MODEL_MAX];

	for (int table = 0; table < 2; table++) {
		struct ap_hobj h;
		struct model m = {0};
		uint64_t rng = 42;
		int n = table ? 300 : 60;

		build(&h, &m, n, table);
		for (int i = 0; i < 1000; i++) {
			struct ap_hobj_pair p;
			char fb[AP_HOBJ_BUF_SIZE], vb[AP_HOBJ_BUF_SIZE];
			ap_hobj_random(&h, &rng, &p, fb, vb);
			long k = model_find(&m, p.f, p.flen);
			ck_assert_int_ge(k, 0);
			ck_assert(memcmp(p.v, m.v[k], p.vlen) == 0);
		}
		/* repetitions: exactly count calls, every pick a member */
		memset(hits, 0, sizeof(hits));
		struct tally t = {.m = &m, .hits = hits};
		ap_hobj_random_repeat(&h, 5000, &rng, tally_pair, &t);
		ck_assert_uint_eq(t.calls, 5000);
		/* distinct: both the walk (> n/3) and the draw (<= n/3)
		 * paths, up to n - 1 */
		int counts[] = {1, n / 3, n / 3 + 1, n / 2, n - 1};
		for (size_t k = 0; k < AP_ARRAY_LEN(counts); k++) {
			memset(hits, 0, sizeof(hits));
			struct tally td = {
				.m = &m, .hits = hits, .distinct = true};
			ap_hobj_random_distinct(&h, (size_t)counts[k], &rng,
						tally_pair, &td);
			ck_assert_uint_eq(td.calls, (size_t)counts[k]);
		}
		free_h(&h);
		model_clear(&m);
	}
}
END_TEST

/* Rough fairness: each of 8 fields drawn 1/8 of the time (within 10%),
 * and each field equally likely in distinct samples of 2, for both
 * encodings and both distinct paths. */
START_TEST(test_random_fair)
{
	static size_t hits[MODEL_MAX];
	const size_t draws = 80000;

	for (int table = 0; table < 2; table++) {
		struct ap_hobj h;
		struct model m = {0};
		uint64_t rng = 7;

		build(&h, &m, 8, table);
		memset(hits, 0, sizeof(hits));
		struct tally t = {.m = &m, .hits = hits};
		ap_hobj_random_repeat(&h, draws, &rng, tally_pair, &t);
		for (int i = 0; i < 8; i++) {
			ck_assert_uint_gt(hits[i], draws / 8 * 9 / 10);
			ck_assert_uint_lt(hits[i], draws / 8 * 11 / 10);
		}
		/* distinct samples of 2 (the draw path for 8 fields) and 5
		 * (the walk path) */
		static const size_t ks[] = {2, 5};
		for (size_t j = 0; j < AP_ARRAY_LEN(ks); j++) {
			static size_t total[MODEL_MAX];
			memset(total, 0, sizeof(total));
			for (int r = 0; r < 16000; r++) {
				memset(hits, 0, sizeof(hits));
				struct tally td = {.m = &m,
						   .hits = hits,
						   .distinct = true};
				ap_hobj_random_distinct(&h, ks[j], &rng,
							tally_pair, &td);
				for (int i = 0; i < 8; i++)
					total[i] += hits[i];
			}
			size_t expect = 16000 * ks[j] / 8;
			for (int i = 0; i < 8; i++) {
				ck_assert_uint_gt(total[i], expect * 9 / 10);
				ck_assert_uint_lt(total[i], expect * 11 / 10);
			}
		}
		free_h(&h);
		model_clear(&m);
	}
}
END_TEST

/* --- randomized against the model ----------------------------------------- */

/* A random field name from a pool of `pool` names, sometimes long. */
static size_t rand_field(char *buf, size_t pool)
{
	size_t i = (size_t)(rnd() % pool);

	if (i % 37 == 0) {
		size_t n = 60 + i % 20; /* around a value_max of 64 */
		memset(buf, 'F', n);
		snprintf(buf, 32, "L%zu", i);
		buf[strlen(buf)] = 'F';
		return n;
	}
	if (i % 5 == 0)
		return (size_t)snprintf(buf, 32, "%zu", i); /* an integer */
	return (size_t)snprintf(buf, 32, "field:%zu", i);
}

/* A random value: integers, short strings, some over 64 bytes. */
static size_t rand_value(char *buf)
{
	uint64_t r = rnd();

	switch (r % 6) {
	case 0:
		return (size_t)snprintf(buf, 32, "%lld",
					(long long)(rnd() % 2000000) - 1000000);
	case 1:
		return 0;
	case 2: {
		size_t n = 60 + (size_t)(rnd() % 10);
		memset(buf, 'x', n);
		return n;
	}
	default: {
		size_t n = 1 + (size_t)(rnd() % 20);
		for (size_t i = 0; i < n; i++)
			buf[i] = (char)('a' + rnd() % 26);
		return n;
	}
	}
}

static void random_run(const struct ap_hobj_limits *lim, size_t pool, int ops)
{
	struct ap_hobj h;
	struct model m = {0};
	char f[128], v[128];
	bool converted = false;

	ap_hobj_init(&h);
	for (int op = 0; op < ops; op++) {
		size_t flen = rand_field(f, pool);
		uint64_t kind = rnd() % 10;

		if (kind < 5) {
			size_t vlen = rand_value(v);
			bool ins = ap_hobj_set(&h, f, flen, v, vlen, lim);
			ck_assert_int_eq(ins, model_set(&m, f, flen, v, vlen));
		} else if (kind < 7) {
			ck_assert_int_eq(ap_hobj_delete(&h, f, flen),
					 model_del(&m, f, flen));
		} else if (kind < 9) {
			long long incr = (long long)(rnd() % 200) - 100;
			long long out;
			long i = model_find(&m, f, flen);
			long long cur = 0;
			bool isint =
				i < 0 || ap_str_to_ll(m.v[i], m.vlen[i], &cur);
			enum ap_hobj_incr st =
				ap_hobj_incr_ll(&h, f, flen, incr, lim, &out);
			if (!isint) {
				ck_assert_int_eq(st, AP_HOBJ_INCR_NOT_INT);
			} else {
				ck_assert_int_eq(st, AP_HOBJ_INCR_OK);
				ck_assert_int_eq(out, cur + incr);
				char nb[32];
				size_t nl = ap_ll_to_str(nb, out);
				model_set(&m, f, flen, nb, nl);
			}
		} else {
			char buf[AP_HOBJ_BUF_SIZE];
			size_t vlen;
			long i = model_find(&m, f, flen);
			const char *got = ap_hobj_get(&h, f, flen, &vlen, buf);
			ck_assert_int_eq(got != NULL, i >= 0);
		}
		/* Conversion happens exactly when the model says a limit is
		 * broken, and never reverts. */
		bool over = m.n > lim->entries_max;
		for (size_t i = 0; i < m.n && !over; i++)
			over = m.flen[i] > lim->value_max ||
			       m.vlen[i] > lim->value_max;
		if (over)
			converted = true;
		if (converted)
			ck_assert_int_eq(h.enc, AP_ENC_HASHTABLE);
		else if (m.n > 0 || h.enc == AP_ENC_LISTPACK)
			ck_assert_int_eq(h.enc, AP_ENC_LISTPACK);
		if (op % 97 == 0)
			check_same(&h, &m);
		if (m.n == 0 && rnd() % 4 == 0) {
			/* as the keyspace does: an empty hash is dropped */
			free_h(&h);
			ap_hobj_init(&h);
			converted = false;
		}
	}
	check_same(&h, &m);
	free_h(&h);
	model_clear(&m);
}

START_TEST(test_random_model)
{
	static const struct ap_hobj_limits lims[] = {
		{.entries_max = 128, .value_max = 64},
		{.entries_max = 16, .value_max = 64},
		{.entries_max = 4, .value_max = 8},
		{.entries_max = 0, .value_max = 64},
		{.entries_max = 1000, .value_max = 1000},
	};
	static const size_t pools[] = {8, 40, 150, 600};

	for (size_t l = 0; l < AP_ARRAY_LEN(lims); l++)
		for (size_t p = 0; p < AP_ARRAY_LEN(pools); p++)
			random_run(&lims[l], pools[p], 6000);
}
END_TEST

static Suite *hobj_suite(void)
{
	Suite *s = suite_create("hobj");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_set_get_listpack);
	tcase_add_test(tc, test_entries_boundary);
	tcase_add_test(tc, test_value_boundary);
	tcase_add_test(tc, test_convert_explicit);
	tcase_add_test(tc, test_incr);
	tcase_add_test(tc, test_incr_converts);
	tcase_add_test(tc, test_table_values_resize);
	tcase_add_test(tc, test_dup_and_mem);
	tcase_add_test(tc, test_free_some);
	tcase_add_test(tc, test_scan_listpack);
	tcase_add_test(tc, test_scan_table_resizes);
	tcase_add_test(tc, test_scan_count);
	tcase_add_test(tc, test_random);
	tcase_add_test(tc, test_random_fair);
	tcase_add_test(tc, test_random_model);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hobj_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures != 0;
}
