/*
 * test_serial.c - the value format of core/serial.c: exact bytes of
 * small values, round trips of every type in every encoding, the
 * encodings a decode picks under the limits in force (conversion on
 * load), CRC-64 against known values and a real Redis payload, the DUMP
 * footer, hand-made bad inputs of every kind (lengths, varints, counts,
 * blobs, duplicates, order, scores), every truncation and every single-
 * bit flip of sample payloads (refused, or decoded to a valid value), and
 * a randomized run against a reference model.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cmd.h"
#include "core/config.h"
#include "core/intset.h"
#include "core/limits.h"
#include "core/list.h"
#include "core/listpack.h"
#include "core/serial.h"
#include "core/set.h"
#include "core/zset.h"

/* Failure-only assertion for hot loops (ck_assert writes per pass). */
#define CK(x)                                                              \
	do {                                                               \
		if (!(x))                                                  \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #x); \
	} while (0)

/* --- limits ----------------------------------------------------------- */

/* The limits of a default configuration. */
static struct ap_serial_limits lim_default(void)
{
	struct ap_config cfg;
	struct ap_serial_limits lim;

	ap_config_init(&cfg);
	ap_serial_limits_of(&cfg, &lim);
	return lim;
}

/* Limits under which every collection takes its big encoding. */
static struct ap_serial_limits lim_big(void)
{
	struct ap_serial_limits lim = lim_default();

	lim.list_fill = 2;
	lim.hash.entries_max = 0;
	lim.set.intset_max = 0;
	lim.set.lp_entries_max = 0;
	lim.zset_lp_max = 0;
	return lim;
}

/* --- values: build, canonical form, free -------------------------------- */

/* A collection value being built or compared. */
struct val {
	enum ap_type type;
	enum ap_enc enc;
	void *obj;
};

/* Byte strings: an item list in canonical order. */
struct items {
	char **s;
	size_t *len;
	size_t n, cap;
};

static void items_add(struct items *it, const void *p, size_t len)
{
	if (it->n == it->cap) {
		it->cap = it->cap ? it->cap * 2 : 16;
		it->s = realloc(it->s, it->cap * sizeof(*it->s));
		it->len = realloc(it->len, it->cap * sizeof(*it->len));
	}
	it->s[it->n] = malloc(len + 1);
	if (len > 0)
		memcpy(it->s[it->n], p, len);
	it->len[it->n++] = len;
}

/* An item made of two byte strings (hash pairs, zset member + score). */
static void items_add2(struct items *it, const void *a, size_t alen,
		       const void *b, size_t blen)
{
	char *buf = malloc(8 + alen + blen);
	uint32_t l = (uint32_t)alen;

	memcpy(buf, &l, 4);
	memcpy(buf + 4, a, alen);
	l = (uint32_t)blen;
	memcpy(buf + 4 + alen, &l, 4);
	memcpy(buf + 8 + alen, b, blen);
	items_add(it, buf, 8 + alen + blen);
	free(buf);
}

static void items_free(struct items *it)
{
	for (size_t i = 0; i < it->n; i++)
		free(it->s[i]);
	free(it->s);
	free(it->len);
	memset(it, 0, sizeof(*it));
}

static char **sort_base;
static size_t *sort_len;

static int idx_cmp(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	size_t n = sort_len[i] < sort_len[j] ? sort_len[i] : sort_len[j];
	int c = memcmp(sort_base[i], sort_base[j], n);

	if (c != 0)
		return c;
	return sort_len[i] < sort_len[j] ? -1 : sort_len[i] > sort_len[j];
}

/* Sorts the items by bytes (sets and hashes have no order). */
static void items_sort(struct items *it)
{
	size_t *idx = malloc((it->n + 1) * sizeof(*idx));
	char **s = malloc((it->n + 1) * sizeof(*s));
	size_t *len = malloc((it->n + 1) * sizeof(*len));

	for (size_t i = 0; i < it->n; i++)
		idx[i] = i;
	sort_base = it->s;
	sort_len = it->len;
	qsort(idx, it->n, sizeof(*idx), idx_cmp);
	for (size_t i = 0; i < it->n; i++) {
		s[i] = it->s[idx[i]];
		len[i] = it->len[idx[i]];
	}
	free(it->s);
	free(it->len);
	free(idx);
	it->s = s;
	it->len = len;
	it->cap = it->n + 1;
}

static bool items_eq(const struct items *a, const struct items *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->len[i] != b->len[i] ||
		    memcmp(a->s[i], b->s[i], a->len[i]) != 0)
			return false;
	return true;
}

static void zset_item(void *arg, const char *m, size_t len, double score)
{
	items_add2(arg, m, len, &score, sizeof(score));
}

/* The canonical content of a value: list order, zset order, sorted for
 * sets and hashes. Walks every element (also a validity check). */
static void canon(const struct val *v, struct items *out)
{
	memset(out, 0, sizeof(*out));
	if (v->type == AP_TYPE_LIST) {
		struct ap_list_ref ref;
		struct ap_list_iter it;
		struct ap_list *l = v->obj;
		char buf[AP_LP_INTBUF_SIZE];

		/* A bare listpack is walked through a ref (read only, never
		 * closed); a quicklist directly (a ref would set its fill). */
		if (v->enc == AP_ENC_LISTPACK) {
			ap_list_ref_open(&ref, v->obj, v->enc, -2);
			l = ref.l;
		}
		for (ap_list_iter_init(&it, l, 0, true);
		     ap_list_iter_valid(&it); ap_list_iter_next(&it)) {
			size_t len;
			const char *s = ap_list_iter_get(&it, &len, buf);
			items_add(out, s, len);
		}
		CK(out->n == ap_list_count(l));
	} else if (v->type == AP_TYPE_SET) {
		struct ap_set s = {.ptr = v->obj, .enc = v->enc};
		struct ap_set_iter it;
		struct ap_set_elem e;

		ap_set_iter_init(&it, &s);
		while (ap_set_iter_next(&it, &e))
			items_add(out, e.str, e.len);
		ap_set_iter_deinit(&it);
		CK(out->n == ap_set_len(&s));
		items_sort(out);
	} else if (v->type == AP_TYPE_HASH) {
		struct ap_hobj h = {.ptr = v->obj, .enc = v->enc};
		struct ap_hobj_iter it;
		struct ap_hobj_pair p;

		ap_hobj_iter_init(&it, &h);
		while (ap_hobj_iter_next(&it, &p))
			items_add2(out, p.f, p.flen, p.v, p.vlen);
		ap_hobj_iter_deinit(&it);
		CK(out->n == ap_hobj_len(&h));
		items_sort(out);
	} else {
		struct ap_zset z;

		ck_assert_int_eq(v->type, AP_TYPE_ZSET);
		ap_zset_open(&z, v->obj, v->enc, 128, 64);
		ap_zset_verify(&z);
		ap_zset_each(&z, zset_item, out);
		CK(out->n == ap_zset_len(&z));
	}
}

static void val_free(struct val *v)
{
	struct ap_serial_value sv = {
		.type = v->type, .enc = v->enc, .obj = v->obj};

	ap_serial_value_free(&sv);
	v->obj = NULL;
}

/* --- building values --------------------------------------------------- */

static void list_build(struct val *v, int fill, const char *const *e,
		       const size_t *len, size_t n)
{
	struct ap_list_ref ref;

	ap_list_ref_open(&ref, NULL, AP_ENC_LISTPACK, fill);
	for (size_t i = 0; i < n; i++) {
		ap_list_ref_grow(&ref, len[i], 1);
		ap_list_push(ref.l, AP_LIST_TAIL, e[i], len[i]);
	}
	v->type = AP_TYPE_LIST;
	v->obj = ap_list_ref_close(&ref, false, &v->enc);
	ck_assert_ptr_nonnull(v->obj);
}

/* Adds members (duplicates are ignored, as SADD does). */
static void set_build(struct val *v, const struct ap_set_limits *lim,
		      const char *const *e, const size_t *len, size_t n)
{
	struct ap_set s;

	ap_set_init_for(&s, e[0], len[0], n, lim);
	for (size_t i = 0; i < n; i++)
		(void)ap_set_add(&s, e[i], len[i], lim);
	v->type = AP_TYPE_SET;
	v->obj = s.ptr;
	v->enc = s.enc;
}

static void hash_build(struct val *v, const struct ap_hobj_limits *lim,
		       const char *const *e, const size_t *len, size_t pairs)
{
	struct ap_hobj h;

	ap_hobj_init(&h);
	if (lim->entries_max == 0)
		ap_hobj_convert(&h);
	for (size_t i = 0; i < pairs; i++)
		(void)ap_hobj_set(&h, e[2 * i], len[2 * i], e[2 * i + 1],
				  len[2 * i + 1], lim);
	v->type = AP_TYPE_HASH;
	v->obj = h.ptr;
	v->enc = h.enc;
}

static void zset_build(struct val *v, size_t lp_max, const char *const *m,
		       const size_t *len, const double *score, size_t n)
{
	struct ap_zset z;
	double ns;

	ap_zset_create(&z, lp_max, 64, n, 0);
	for (size_t i = 0; i < n; i++)
		(void)ap_zset_add(&z, m[i], len[i], score[i], 0, &ns);
	v->type = AP_TYPE_ZSET;
	v->obj = z.obj;
	v->enc = z.enc;
}

/* --- encode / decode helpers ------------------------------------------ */

/* Encodes v into b (initialized here). */
static void enc_val(struct ap_serial_buf *b, const struct val *v)
{
	ap_serial_buf_init(b);
	ap_serial_encode_obj(b, v->type, v->enc, v->obj);
}

/* Decodes all of p into *out (a collection) and fails the test if that
 * does not work. */
static void dec_ok(const void *p, size_t len,
		   const struct ap_serial_limits *lim, struct val *out)
{
	struct ap_serial_value sv;
	size_t used = 0;
	const char *why = NULL;
	int rc = ap_serial_decode(p, len, lim, &sv, &used, &why);

	ck_assert_msg(rc == 0, "decode failed: %s", why ? why : "?");
	ck_assert_uint_eq(used, len);
	out->type = sv.type;
	out->enc = sv.enc;
	out->obj = sv.obj;
}

/* Decoding p must fail with a reason and leave nothing allocated. */
static void dec_bad(const void *p, size_t len,
		    const struct ap_serial_limits *lim, const char *want)
{
	struct ap_serial_value sv;
	size_t used = 0;
	const char *why = NULL;
	int rc = ap_serial_decode(p, len, lim, &sv, &used, &why);

	if (rc == 0 && sv.obj != NULL)
		ap_serial_value_free(&sv);
	ck_assert_msg(rc != 0, "bad input decoded (want: %s)", want);
	ck_assert_ptr_nonnull(why);
	if (want != NULL)
		ck_assert_msg(strstr(why, want) != NULL,
			      "why \"%s\", want \"%s\"", why, want);
	ck_assert_ptr_null(sv.obj);
}

/* Round trip: encode v, decode under lim, compare contents; returns the
 * decoded encoding. v is kept. */
static enum ap_enc round_trip(const struct val *v,
			      const struct ap_serial_limits *lim)
{
	struct ap_serial_buf b;
	struct val d;
	struct items a, c;
	enum ap_enc enc;

	enc_val(&b, v);
	dec_ok(b.p, b.len, lim, &d);
	ck_assert_int_eq(d.type, v->type);
	canon(v, &a);
	canon(&d, &c);
	ck_assert(items_eq(&a, &c));
	items_free(&a);
	items_free(&c);
	enc = d.enc;
	val_free(&d);
	ap_serial_buf_deinit(&b);
	return enc;
}

/* --- raw byte building (hand-made inputs) ------------------------------ */

struct tb {
	unsigned char b[4096];
	size_t n;
};

static void tb_u8(struct tb *t, unsigned v)
{
	ck_assert_uint_lt(t->n, sizeof(t->b));
	t->b[t->n++] = (unsigned char)v;
}

static void tb_varint(struct tb *t, uint64_t v)
{
	while (v >= 0x80) {
		tb_u8(t, (unsigned)(v & 0x7F) | 0x80);
		v >>= 7;
	}
	tb_u8(t, (unsigned)v);
}

static void tb_put(struct tb *t, const void *p, size_t n)
{
	ck_assert_uint_le(t->n + n, sizeof(t->b));
	memcpy(t->b + t->n, p, n);
	t->n += n;
}

static void tb_str(struct tb *t, const char *s)
{
	tb_varint(t, strlen(s));
	tb_put(t, s, strlen(s));
}

/* A blob value: type, encoding, the listpack. Frees lp. */
static void tb_lp(struct tb *t, unsigned type, unsigned enc, unsigned char *lp)
{
	tb_u8(t, type);
	tb_u8(t, enc);
	tb_varint(t, ap_lp_bytes(lp));
	tb_put(t, lp, ap_lp_bytes(lp));
	ap_lp_free(lp);
}

/* A listpack of the given strings. */
static unsigned char *lp_of(const char *const *s, size_t n)
{
	unsigned char *lp = ap_lp_create(0);

	for (size_t i = 0; i < n; i++)
		lp = ap_lp_append(lp, s[i], strlen(s[i]));
	return lp;
}

/* Type and encoding bytes as docs/serialization.md numbers them. */
enum { T_STR = 0, T_LIST = 1, T_SET = 2, T_ZSET = 3, T_HASH = 4 };
enum { E_STR = 0, E_INT = 1, E_LP = 2, E_INTSET = 3, E_ELEMS = 4 };

/* --- exact bytes --------------------------------------------------------- */

START_TEST(test_string_bytes)
{
	struct ap_serial_buf b;
	struct ap_serial_value v;
	struct ap_serial_limits lim = lim_default();
	size_t used;
	static const unsigned char hi[] = {0, 0, 2, 'h', 'i'};
	static const unsigned char m1[] = {0, 1, 1};
	static const unsigned char i300[] = {0, 1, 0xD8, 0x04};

	ap_serial_buf_init(&b);
	ap_serial_encode_str(&b, "hi", 2);
	ck_assert_uint_eq(b.len, sizeof(hi));
	ck_assert(memcmp(b.p, hi, sizeof(hi)) == 0);
	b.len = 0;
	ap_serial_encode_int(&b, -1);
	ck_assert(b.len == sizeof(m1) && memcmp(b.p, m1, sizeof(m1)) == 0);
	b.len = 0;
	ap_serial_encode_int(&b, 300); /* zigzag 600 = 0xD8 0x04 */
	ck_assert(b.len == sizeof(i300) &&
		  memcmp(b.p, i300, sizeof(i300)) == 0);

	/* The extremes of 64 bits and an empty string come back. */
	static const long long ints[] = {0,   1,	 -1,	   63,
					 -64, INT64_MAX, INT64_MIN};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		b.len = 0;
		ap_serial_encode_int(&b, ints[i]);
		ck_assert_int_eq(
			ap_serial_decode(b.p, b.len, &lim, &v, &used, NULL), 0);
		ck_assert_uint_eq(used, b.len);
		ck_assert_int_eq(v.type, AP_TYPE_STRING);
		ck_assert_int_eq(v.enc, AP_ENC_INT);
		ck_assert(v.ll == ints[i]);
	}
	b.len = 0;
	ap_serial_encode_str(&b, "", 0);
	ck_assert_int_eq(ap_serial_decode(b.p, b.len, &lim, &v, &used, NULL),
			 0);
	ck_assert(v.enc == AP_ENC_RAW && v.len == 0 && used == 3);
	/* A value followed by more bytes: used says where it ends. */
	ap_serial_encode_str(&b, "x", 1);
	ck_assert_int_eq(ap_serial_decode(b.p, b.len, &lim, &v, &used, NULL),
			 0);
	ck_assert_uint_eq(used, 3);
	ap_serial_buf_deinit(&b);
}
END_TEST

START_TEST(test_blob_and_elems_bytes)
{
	struct ap_serial_limits lim = lim_default();
	struct ap_serial_buf b;
	struct val v;
	static const char *const e[] = {"a", "b", "c"};
	static const size_t len[] = {1, 1, 1};

	/* A small list is its listpack after [1][2][len]. */
	list_build(&v, -2, e, len, 3);
	ck_assert_int_eq(v.enc, AP_ENC_LISTPACK);
	enc_val(&b, &v);
	ck_assert_uint_eq(b.len, 3 + ap_lp_bytes(v.obj));
	ck_assert(b.p[0] == T_LIST && b.p[1] == E_LP &&
		  b.p[2] == ap_lp_bytes(v.obj));
	ck_assert(memcmp(b.p + 3, v.obj, ap_lp_bytes(v.obj)) == 0);
	ap_serial_buf_deinit(&b);
	val_free(&v);

	/* A quicklist is ELEMS: hint 3, one batch of 3, the end. */
	list_build(&v, 1, e, len, 3);
	ck_assert_int_eq(v.enc, AP_ENC_QUICKLIST);
	enc_val(&b, &v);
	static const unsigned char want[] = {T_LIST, E_ELEMS, 3, 3,   1, 'a',
					     1,	     'b',     1, 'c', 0};
	ck_assert_uint_eq(b.len, sizeof(want));
	ck_assert(memcmp(b.p, want, sizeof(want)) == 0);
	ap_serial_buf_deinit(&b);
	val_free(&v);

	/* A sorted set's ELEMS items carry 8-byte little-endian scores. */
	static const double sc[] = {1.5};
	zset_build(&v, 0, e, len, sc, 1);
	ck_assert_int_eq(v.enc, AP_ENC_SKIPLIST);
	enc_val(&b, &v);
	unsigned char zw[16] = {T_ZSET, E_ELEMS, 1, 1, 1, 'a'};
	memcpy(zw + 6, &sc[0], 8);
	zw[14] = 0;
	ck_assert_uint_eq(b.len, 15);
	ck_assert(memcmp(b.p, zw, 15) == 0);
	ap_serial_buf_deinit(&b);
	val_free(&v);
	(void)lim;
}
END_TEST

START_TEST(test_batches)
{
	/* 2500 elements: batches of 1024, 1024, 452, then 0. */
	struct ap_serial_limits lim = lim_default();
	struct ap_serial_buf b;
	struct val v;
	const char *e[2500];
	size_t len[2500];
	char(*txt)[8] = malloc(2500 * 8);

	for (int i = 0; i < 2500; i++) {
		len[i] = (size_t)snprintf(txt[i], 8, "m%d", i);
		e[i] = txt[i];
	}
	set_build(&v, &lim.set, e, len, 2500);
	ck_assert_int_eq(v.enc, AP_ENC_HASHTABLE);
	enc_val(&b, &v);
	ck_assert(b.p[0] == T_SET && b.p[1] == E_ELEMS);
	/* hint 2500 = 0xC4 0x13, then batch 1024 = 0x80 0x08 */
	ck_assert(b.p[2] == 0xC4 && b.p[3] == 0x13);
	ck_assert(b.p[4] == 0x80 && b.p[5] == 0x08);
	ck_assert_uint_eq(b.p[b.len - 1], 0);
	ap_serial_buf_deinit(&b);
	ck_assert_int_eq(round_trip(&v, &lim), AP_ENC_HASHTABLE);
	val_free(&v);
	free(txt);
}
END_TEST

/* --- round trips of every type and encoding ------------------------------ */

START_TEST(test_round_trip_every_encoding)
{
	struct ap_serial_limits lim = lim_default(), big = lim_big();
	static const char *const s[] = {
		"alpha", "12", "-7", "", "beta", "9999999999999999999", "x"};
	static const size_t sl[] = {5, 2, 2, 0, 4, 19, 1};
	static const char *const ints[] = {"1", "-5", "70000", "-9000000000"};
	static const size_t il[] = {1, 2, 5, 11};
	static const double sc[] = {1, -2.5, INFINITY, -INFINITY, 0, 3e300, 7};
	struct val v;

	list_build(&v, -2, s, sl, 7);
	ck_assert_int_eq(v.enc, AP_ENC_LISTPACK);
	ck_assert_int_eq(round_trip(&v, &lim), AP_ENC_LISTPACK);
	val_free(&v);
	list_build(&v, 2, s, sl, 7);
	ck_assert_int_eq(v.enc, AP_ENC_QUICKLIST);
	ck_assert_int_eq(round_trip(&v, &big), AP_ENC_QUICKLIST);
	ck_assert_int_eq(round_trip(&v, &lim), AP_ENC_LISTPACK);
	val_free(&v);

	set_build(&v, &lim.set, ints, il, 4);
	ck_assert_int_eq(v.enc, AP_ENC_INTSET);
	ck_assert_int_eq(round_trip(&v, &lim), AP_ENC_INTSET);
	val_free(&v);
	set_build(&v, &lim.set, s, sl, 7);
	ck_assert_int_eq(v.enc, AP_ENC_LISTPACK);
	ck_assert_int_eq(round_trip(&v, &lim), AP_ENC_LISTPACK);
	val_free(&v);
	set_build(&v, &big.set, s, sl, 7);
	ck_assert_int_eq(v.enc, AP_ENC_HASHTABLE);
	ck_assert_int_eq(round_trip(&v, &big), AP_ENC_HASHTABLE);
	ck_assert_int_eq(round_trip(&v, &lim), AP_ENC_LISTPACK);
	val_free(&v);
	set_build(&v, &big.set, ints, il, 4);
	ck_assert_int_eq(round_trip(&v, &lim), AP_ENC_INTSET);
	val_free(&v);

	hash_build(&v, &lim.hash, s, sl, 3);
	ck_assert_int_eq(v.enc, AP_ENC_LISTPACK);
	ck_assert_int_eq(round_trip(&v, &lim), AP_ENC_LISTPACK);
	val_free(&v);
	hash_build(&v, &big.hash, s, sl, 3);
	ck_assert_int_eq(v.enc, AP_ENC_HASHTABLE);
	ck_assert_int_eq(round_trip(&v, &big), AP_ENC_HASHTABLE);
	ck_assert_int_eq(round_trip(&v, &lim), AP_ENC_LISTPACK);
	val_free(&v);

	zset_build(&v, 128, s, sl, sc, 7);
	ck_assert_int_eq(v.enc, AP_ENC_LISTPACK);
	ck_assert_int_eq(round_trip(&v, &lim), AP_ENC_LISTPACK);
	ck_assert_int_eq(round_trip(&v, &big), AP_ENC_SKIPLIST);
	val_free(&v);
	zset_build(&v, 0, s, sl, sc, 7);
	ck_assert_int_eq(v.enc, AP_ENC_SKIPLIST);
	ck_assert_int_eq(round_trip(&v, &big), AP_ENC_SKIPLIST);
	ck_assert_int_eq(round_trip(&v, &lim), AP_ENC_LISTPACK);
	val_free(&v);
}
END_TEST

/* Fills e/len with n distinct strings "<prefix><i>" (txt holds them). */
static void names(const char **e, size_t *len, char (*txt)[24], size_t n,
		  const char *prefix)
{
	for (size_t i = 0; i < n; i++) {
		len[i] = (size_t)snprintf(txt[i], 24, "%s%zu", prefix, i);
		e[i] = txt[i];
	}
}

START_TEST(test_convert_on_load)
{
	struct ap_serial_limits lim = lim_default(), small;
	const char *e[1200];
	size_t len[1200];
	char(*txt)[24] = malloc(1200 * 24);
	double sc[1200];
	struct val v;

	/* Hash: 10 pairs stay a listpack by default, not under 5 entries
	 * or a 3-byte value limit. */
	names(e, len, txt, 20, "f");
	hash_build(&v, &lim.hash, e, len, 10);
	small = lim;
	small.hash.entries_max = 10;
	ck_assert_int_eq(round_trip(&v, &small), AP_ENC_LISTPACK);
	small.hash.entries_max = 9;
	ck_assert_int_eq(round_trip(&v, &small), AP_ENC_HASHTABLE);
	small = lim;
	small.hash.value_max = 3; /* "f10".."f19" are 3 bytes */
	ck_assert_int_eq(round_trip(&v, &small), AP_ENC_LISTPACK);
	small.hash.value_max = 2;
	ck_assert_int_eq(round_trip(&v, &small), AP_ENC_HASHTABLE);
	val_free(&v);
	/* 600 pairs (over the default 512): a hashtable, also on load. */
	names(e, len, txt, 1200, "g");
	hash_build(&v, &lim.hash, e, len, 600);
	ck_assert_int_eq(v.enc, AP_ENC_HASHTABLE);
	ck_assert_int_eq(round_trip(&v, &lim), AP_ENC_HASHTABLE);
	val_free(&v);

	/* Set of 100 integers: intset; over an intset limit of 99 a
	 * listpack (fits 128), over a listpack limit of 99 a hashtable. */
	for (size_t i = 0; i < 100; i++) {
		len[i] = (size_t)snprintf(txt[i], 24, "%zu", i * 1000);
		e[i] = txt[i];
	}
	set_build(&v, &lim.set, e, len, 100);
	ck_assert_int_eq(v.enc, AP_ENC_INTSET);
	small = lim;
	small.set.intset_max = 100;
	ck_assert_int_eq(round_trip(&v, &small), AP_ENC_INTSET);
	small.set.intset_max = 99;
	ck_assert_int_eq(round_trip(&v, &small), AP_ENC_LISTPACK);
	small.set.lp_entries_max = 99;
	ck_assert_int_eq(round_trip(&v, &small), AP_ENC_HASHTABLE);
	small.set.lp_entries_max = 128;
	small.set.lp_value_max = 4; /* "99000" is 5 bytes */
	ck_assert_int_eq(round_trip(&v, &small), AP_ENC_HASHTABLE);
	val_free(&v);
	/* Set listpack: over its limits a hashtable. */
	names(e, len, txt, 50, "m");
	set_build(&v, &lim.set, e, len, 50);
	ck_assert_int_eq(v.enc, AP_ENC_LISTPACK);
	small = lim;
	small.set.lp_entries_max = 50;
	ck_assert_int_eq(round_trip(&v, &small), AP_ENC_LISTPACK);
	small.set.lp_entries_max = 49;
	ck_assert_int_eq(round_trip(&v, &small), AP_ENC_HASHTABLE);
	small = lim;
	small.set.lp_value_max = 2;
	ck_assert_int_eq(round_trip(&v, &small), AP_ENC_HASHTABLE);
	val_free(&v);

	/* Sorted set listpack: over its limits a skiplist. */
	for (size_t i = 0; i < 50; i++)
		sc[i] = (double)i / 3;
	zset_build(&v, 128, e, len, sc, 50);
	ck_assert_int_eq(v.enc, AP_ENC_LISTPACK);
	small = lim;
	small.zset_lp_max = 50;
	ck_assert_int_eq(round_trip(&v, &small), AP_ENC_LISTPACK);
	small.zset_lp_max = 49;
	ck_assert_int_eq(round_trip(&v, &small), AP_ENC_SKIPLIST);
	small = lim;
	small.zset_lp_value = 2;
	ck_assert_int_eq(round_trip(&v, &small), AP_ENC_SKIPLIST);
	val_free(&v);

	/* List listpack of 100 elements: a quicklist under a 10-per-node
	 * fill, and the nodes respect it. */
	names(e, len, txt, 100, "l");
	list_build(&v, -2, e, len, 100);
	ck_assert_int_eq(v.enc, AP_ENC_LISTPACK);
	small = lim;
	small.list_fill = 10;
	ck_assert_int_eq(round_trip(&v, &small), AP_ENC_QUICKLIST);
	val_free(&v);
	free(txt);
}
END_TEST

/* --- CRC-64 and the DUMP footer ------------------------------------------ */

/* Bit-at-a-time reference CRC-64 (Jones, reflected). */
static uint64_t crc64_ref(uint64_t crc, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc & 1) ? (crc >> 1) ^ 0x95ac9329ac4bc9b5ULL
					: crc >> 1;
	}
	return crc;
}

START_TEST(test_crc64)
{
	unsigned char buf[300];
	/* A DUMP of "SET a 1" from a Redis 7.0 server: value, RDB version
	 * 10, then its CRC-64, little endian. */
	static const unsigned char redis[] = {0x00, 0xc0, 0x01, 0x0a, 0x00,
					      0x26, 0x78, 0xe7, 0xb6, 0xd1,
					      0x01, 0x11, 0xfc};
	uint64_t want;
	size_t vlen = 0;

	ck_assert(ap_serial_crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9caULL);
	ck_assert(ap_serial_crc64(0, "", 0) == 0);
	memcpy(&want, redis + 5, 8);
	ck_assert(ap_serial_crc64(0, redis, 5) == want);
	/* Redis's own payload is refused: its version is not ours. */
	ck_assert(!ap_serial_dump_check(redis, sizeof(redis), &vlen));

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	/* Every length and alignment against the reference; split sums. */
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n + off <= sizeof(buf); n += 1 + n / 8) {
			uint64_t c = ap_serial_crc64(0, buf + off, n);

			CK(c == crc64_ref(0, buf + off, n));
			for (size_t cut = 0; cut <= n; cut += 1 + n / 5)
				CK(ap_serial_crc64(
					   ap_serial_crc64(0, buf + off, cut),
					   buf + off + cut, n - cut) == c);
		}
}
END_TEST

START_TEST(test_dump_footer)
{
	struct ap_keyspace *ks = ap_keyspace_create(1);
	struct ap_db *db = ap_keyspace_db(ks, 0);
	struct ap_entry *e =
		ap_db_set_string(db, "k", 1, "hello", 5, AP_NO_EXPIRE);
	struct ap_serial_buf b;
	size_t vlen = 0;
	uint16_t ver;
	uint64_t crc;

	ap_serial_buf_init(&b);
	ap_serial_dump(&b, e);
	/* [0][0][5]hello, version 0xA001, CRC-64 of the 10 bytes before. */
	ck_assert_uint_eq(b.len, 8 + AP_SERIAL_FOOTER_SIZE);
	ck_assert(memcmp(b.p, "\x00\x00\x05hello", 8) == 0);
	memcpy(&ver, b.p + 8, 2);
	ck_assert_uint_eq(ver, 0xA001);
	ck_assert_uint_eq(b.p[8], 0x01);
	ck_assert_uint_eq(b.p[9], 0xA0);
	memcpy(&crc, b.p + 10, 8);
	ck_assert(crc == crc64_ref(0, b.p, 10));
	ck_assert(ap_serial_dump_check(b.p, b.len, &vlen));
	ck_assert_uint_eq(vlen, 8);
	/* Every bit flip anywhere is caught by the version or the sum. */
	for (size_t i = 0; i < b.len; i++)
		for (int k = 0; k < 8; k++) {
			b.p[i] ^= (unsigned char)(1 << k);
			CK(!ap_serial_dump_check(b.p, b.len, &vlen));
			b.p[i] ^= (unsigned char)(1 << k);
		}
	/* Too short for a footer. */
	for (size_t n = 0; n < AP_SERIAL_FOOTER_SIZE; n++)
		CK(!ap_serial_dump_check(b.p, n, &vlen));
	/* A footer with nothing before it passes the check; the value then
	 * fails to decode (the caller's job). */
	{
		unsigned char only[10] = {0x01, 0xA0};
		uint64_t c = ap_serial_crc64(0, only, 2);
		struct ap_serial_limits lim = lim_default();

		memcpy(only + 2, &c, 8);
		ck_assert(ap_serial_dump_check(only, 10, &vlen));
		ck_assert_uint_eq(vlen, 0);
		dec_bad(only, 0, &lim, "truncated");
	}
	ap_serial_buf_deinit(&b);
	ap_keyspace_destroy(ks);
}
END_TEST

/* --- bad inputs ------------------------------------------------------------
 */

START_TEST(test_bad_heads_and_lengths)
{
	struct ap_serial_limits lim = lim_default();
	struct tb t;

	dec_bad("", 0, &lim, "truncated");
	dec_bad("\x00", 1, &lim, "truncated");
	dec_bad("\x05\x00", 2, &lim, "unknown value type");
	dec_bad("\xff\x00", 2, &lim, "unknown value type");
	dec_bad("\x00\x02\x00", 3, &lim, "unknown string encoding");
	dec_bad("\x01\x00\x00", 3, &lim, "unknown list encoding");
	dec_bad("\x02\x01\x00", 3, &lim, "unknown set encoding");
	dec_bad("\x03\x03\x00", 3, &lim, "unknown sorted set encoding");
	dec_bad("\x04\x03\x00", 3, &lim, "unknown hash encoding");
	/* String length beyond the bytes; beyond any string's limit. */
	dec_bad("\x00\x00\x05zz", 5, &lim, "truncated");
	t.n = 0;
	tb_u8(&t, T_STR);
	tb_u8(&t, E_STR);
	tb_varint(&t, 1ULL << 40);
	tb_put(&t, "abc", 3);
	dec_bad(t.b, t.n, &lim, "string too long");
	t.n = 0;
	tb_u8(&t, T_STR);
	tb_u8(&t, E_STR);
	tb_varint(&t, (uint64_t)AP_PROTO_MAX_BULK_LEN_MAX);
	dec_bad(t.b, t.n, &lim, "truncated");
	/* Varints: overlong, 11 bytes, bits past 64, unterminated. */
	dec_bad("\x00\x01\x80\x00", 4, &lim, "overlong varint");
	dec_bad("\x00\x01\x81\x00", 4, &lim, "overlong varint");
	dec_bad("\x00\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 12, &lim,
		"overflows");
	dec_bad("\x00\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 13,
		&lim, "overflows");
	dec_bad("\x00\x01\xff\xff", 4, &lim, "truncated");
	{
		/* The largest 10-byte varint is fine. */
		struct ap_serial_value v;
		size_t used;

		ck_assert_int_eq(
			ap_serial_decode("\x00\x01\xff\xff\xff\xff\xff\xff\xff"
					 "\xff\xff\x01",
					 12, &lim, &v, &used, NULL),
			0);
		ck_assert(v.ll == INT64_MIN);
	}
}
END_TEST

START_TEST(test_bad_listpacks)
{
	struct ap_serial_limits lim = lim_default();
	struct tb t;
	static const char *const dup[] = {"a", "b", "a"};
	static const char *const odd[] = {"f", "v", "g"};
	static const char *const hdup[] = {"f", "1", "g", "2", "f", "3"};
	static const char *const hval[] = {"f", "1", "1", "f"};
	unsigned char *lp;

	/* Empty listpacks for every type. */
	for (unsigned type = T_LIST; type <= T_HASH; type++) {
		t.n = 0;
		tb_lp(&t, type, E_LP, ap_lp_create(0));
		dec_bad(t.b, t.n, &lim, "empty collection");
	}
	/* Broken listpack bytes: total mismatch, bad end byte. */
	t.n = 0;
	tb_lp(&t, T_LIST, E_LP, lp_of(dup, 3));
	t.b[3] ^= 1; /* total bytes, low byte */
	dec_bad(t.b, t.n, &lim, "invalid listpack");
	t.b[3] ^= 1;
	t.b[t.n - 1] = 0x7F;
	dec_bad(t.b, t.n, &lim, "invalid listpack");
	/* Blob length beyond the input. */
	t.n = 0;
	tb_u8(&t, T_LIST);
	tb_u8(&t, E_LP);
	tb_varint(&t, 1000);
	tb_put(&t, "abc", 3);
	dec_bad(t.b, t.n, &lim, "truncated");
	/* Duplicates and pairing. */
	t.n = 0;
	tb_lp(&t, T_SET, E_LP, lp_of(dup, 3));
	dec_bad(t.b, t.n, &lim, "duplicate set member");
	t.n = 0;
	tb_lp(&t, T_HASH, E_LP, lp_of(odd, 3));
	dec_bad(t.b, t.n, &lim, "unpaired");
	t.n = 0;
	tb_lp(&t, T_ZSET, E_LP, lp_of(odd, 3));
	dec_bad(t.b, t.n, &lim, "unpaired");
	t.n = 0;
	tb_lp(&t, T_HASH, E_LP, lp_of(hdup, 6));
	dec_bad(t.b, t.n, &lim, "duplicate hash field");
	/* A value equal to a field is fine. */
	t.n = 0;
	tb_lp(&t, T_HASH, E_LP, lp_of(hval, 4));
	{
		struct val v;

		dec_ok(t.b, t.n, &lim, &v);
		ck_assert_int_eq(v.enc, AP_ENC_LISTPACK);
		val_free(&v);
	}
	/* A list may hold the same element twice. */
	t.n = 0;
	tb_lp(&t, T_LIST, E_LP, lp_of(dup, 3));
	{
		struct val v;

		dec_ok(t.b, t.n, &lim, &v);
		val_free(&v);
	}
	/* Duplicates among many members are found by sorting. */
	{
		char txt[40][8];
		const char *m[41];

		for (int i = 0; i < 40; i++) {
			snprintf(txt[i], sizeof(txt[i]), "m%d", i);
			m[i] = txt[i];
		}
		m[40] = "m17";
		t.n = 0;
		tb_lp(&t, T_SET, E_LP, lp_of(m, 41));
		dec_bad(t.b, t.n, &lim, "duplicate set member");
		t.n = 0;
		tb_lp(&t, T_SET, E_LP, lp_of(m, 40));
		struct val v;
		dec_ok(t.b, t.n, &lim, &v);
		val_free(&v);
	}
	(void)lp;
}
END_TEST

/* Appends a raw-double score element as the sorted set stores it. */
static unsigned char *lp_raw_score(unsigned char *lp, double d)
{
	char b[9] = {0x01};

	memcpy(b + 1, &d, 8);
	return ap_lp_append(lp, b, 9);
}

START_TEST(test_bad_zset_listpacks)
{
	struct ap_serial_limits lim = lim_default();
	struct tb t;
	unsigned char *lp;

	/* Good: a 1, b 1.5, c +inf. */
	lp = ap_lp_create(0);
	lp = ap_lp_append(lp, "a", 1);
	lp = ap_lp_append(lp, "1", 1);
	lp = ap_lp_append(lp, "b", 1);
	lp = lp_raw_score(lp, 1.5);
	lp = ap_lp_append(lp, "c", 1);
	lp = lp_raw_score(lp, INFINITY);
	t.n = 0;
	tb_lp(&t, T_ZSET, E_LP, lp);
	{
		struct val v;

		dec_ok(t.b, t.n, &lim, &v);
		ck_assert_int_eq(v.enc, AP_ENC_LISTPACK);
		val_free(&v);
	}
	/* Out of order by score; equal scores out of member order. */
	lp = ap_lp_create(0);
	lp = ap_lp_append(lp, "a", 1);
	lp = ap_lp_append(lp, "2", 1);
	lp = ap_lp_append(lp, "b", 1);
	lp = ap_lp_append(lp, "1", 1);
	t.n = 0;
	tb_lp(&t, T_ZSET, E_LP, lp);
	dec_bad(t.b, t.n, &lim, "out of order");
	lp = ap_lp_create(0);
	lp = ap_lp_append(lp, "b", 1);
	lp = ap_lp_append(lp, "1", 1);
	lp = ap_lp_append(lp, "a", 1);
	lp = ap_lp_append(lp, "1", 1);
	t.n = 0;
	tb_lp(&t, T_ZSET, E_LP, lp);
	dec_bad(t.b, t.n, &lim, "out of order");
	/* The same member twice with different scores. */
	lp = ap_lp_create(0);
	lp = ap_lp_append(lp, "a", 1);
	lp = ap_lp_append(lp, "1", 1);
	lp = ap_lp_append(lp, "a", 1);
	lp = ap_lp_append(lp, "2", 1);
	t.n = 0;
	tb_lp(&t, T_ZSET, E_LP, lp);
	dec_bad(t.b, t.n, &lim, "duplicate sorted set member");
	/* Scores: NaN, a text score, an integral raw double, -0 raw, a
	 * wrong marker, an integer a double cannot hold exactly. */
	static const double raw_bad[] = {NAN, 2.0, -0.0, 1e15};
	for (size_t i = 0; i < 4; i++) {
		lp = ap_lp_create(0);
		lp = ap_lp_append(lp, "a", 1);
		lp = lp_raw_score(lp, raw_bad[i]);
		t.n = 0;
		tb_lp(&t, T_ZSET, E_LP, lp);
		dec_bad(t.b, t.n, &lim, "invalid score");
	}
	static const char *const text_bad[] = {"1.5", "abc", "", "\x02xxxxxxxx",
					       "9007199254740993"};
	for (size_t i = 0; i < 5; i++) {
		lp = ap_lp_create(0);
		lp = ap_lp_append(lp, "a", 1);
		lp = ap_lp_append(lp, text_bad[i], strlen(text_bad[i]));
		t.n = 0;
		tb_lp(&t, T_ZSET, E_LP, lp);
		dec_bad(t.b, t.n, &lim, "invalid score");
	}
	/* Huge raw scores (beyond 2^63) are raw and fine. */
	lp = ap_lp_create(0);
	lp = ap_lp_append(lp, "a", 1);
	lp = lp_raw_score(lp, 1e19);
	lp = ap_lp_append(lp, "b", 1);
	lp = lp_raw_score(lp, 1e300);
	t.n = 0;
	tb_lp(&t, T_ZSET, E_LP, lp);
	{
		struct val v;

		dec_ok(t.b, t.n, &lim, &v);
		val_free(&v);
	}
}
END_TEST

START_TEST(test_bad_intsets)
{
	struct ap_serial_limits lim = lim_default();
	struct tb t;
	struct ap_intset *is = ap_intset_create();

	ap_intset_add(&is, 5);
	ap_intset_add(&is, 9);
	/* Good. */
	t.n = 0;
	tb_u8(&t, T_SET);
	tb_u8(&t, E_INTSET);
	tb_varint(&t, ap_intset_bytes(is));
	tb_put(&t, is, ap_intset_bytes(is));
	{
		struct val v;

		dec_ok(t.b, t.n, &lim, &v);
		ck_assert_int_eq(v.enc, AP_ENC_INTSET);
		val_free(&v);
	}
	/* Unsorted (swap the two elements), bad width, count past the
	 * bytes, empty. */
	unsigned char raw[12];
	memcpy(raw, is, 12);
	{
		unsigned char s[12];

		memcpy(s, raw, 12);
		memcpy(s + 8, raw + 10, 2);
		memcpy(s + 10, raw + 8, 2);
		t.n = 0;
		tb_u8(&t, T_SET);
		tb_u8(&t, E_INTSET);
		tb_varint(&t, 12);
		tb_put(&t, s, 12);
		dec_bad(t.b, t.n, &lim, "invalid intset");
		memcpy(s, raw, 12);
		s[0] = 3;
		t.n = 0;
		tb_u8(&t, T_SET);
		tb_u8(&t, E_INTSET);
		tb_varint(&t, 12);
		tb_put(&t, s, 12);
		dec_bad(t.b, t.n, &lim, "invalid intset");
		memcpy(s, raw, 12);
		s[4] = 0xFF;
		s[7] = 0x7F;
		t.n = 0;
		tb_u8(&t, T_SET);
		tb_u8(&t, E_INTSET);
		tb_varint(&t, 12);
		tb_put(&t, s, 12);
		dec_bad(t.b, t.n, &lim, "invalid intset");
	}
	{
		struct ap_intset *empty = ap_intset_create();

		t.n = 0;
		tb_u8(&t, T_SET);
		tb_u8(&t, E_INTSET);
		tb_varint(&t, ap_intset_bytes(empty));
		tb_put(&t, empty, ap_intset_bytes(empty));
		dec_bad(t.b, t.n, &lim, "empty collection");
		ap_intset_free(empty);
	}
	ap_intset_free(is);
}
END_TEST

START_TEST(test_bad_elems)
{
	struct ap_serial_limits lim = lim_default();
	struct tb t;
	double one = 1, nan = NAN, two = 2;

	/* No elements at all, for every type. */
	for (unsigned type = T_LIST; type <= T_HASH; type++) {
		t.n = 0;
		tb_u8(&t, type);
		tb_u8(&t, E_ELEMS);
		tb_varint(&t, 0);
		tb_varint(&t, 0);
		dec_bad(t.b, t.n, &lim, "empty collection");
	}
	/* Missing end batch; batch count beyond the bytes. */
	t.n = 0;
	tb_u8(&t, T_LIST);
	tb_u8(&t, E_ELEMS);
	tb_varint(&t, 1);
	tb_varint(&t, 1);
	tb_str(&t, "a");
	dec_bad(t.b, t.n, &lim, "truncated");
	t.n = 0;
	tb_u8(&t, T_LIST);
	tb_u8(&t, E_ELEMS);
	tb_varint(&t, 1);
	tb_varint(&t, 1ULL << 60);
	tb_str(&t, "a");
	tb_varint(&t, 0);
	dec_bad(t.b, t.n, &lim, "batch count");
	/* Set and hash duplicates. */
	t.n = 0;
	tb_u8(&t, T_SET);
	tb_u8(&t, E_ELEMS);
	tb_varint(&t, 2);
	tb_varint(&t, 2);
	tb_str(&t, "a");
	tb_str(&t, "a");
	tb_varint(&t, 0);
	dec_bad(t.b, t.n, &lim, "duplicate set member");
	t.n = 0;
	tb_u8(&t, T_HASH);
	tb_u8(&t, E_ELEMS);
	tb_varint(&t, 2);
	tb_varint(&t, 1);
	tb_str(&t, "f");
	tb_str(&t, "1");
	tb_varint(&t, 1);
	tb_str(&t, "f");
	tb_str(&t, "2");
	tb_varint(&t, 0);
	dec_bad(t.b, t.n, &lim, "duplicate hash field");
	/* Sorted sets: NaN, out of order, duplicate member, short score. */
	t.n = 0;
	tb_u8(&t, T_ZSET);
	tb_u8(&t, E_ELEMS);
	tb_varint(&t, 1);
	tb_varint(&t, 1);
	tb_str(&t, "a");
	tb_put(&t, &nan, 8);
	tb_varint(&t, 0);
	dec_bad(t.b, t.n, &lim, "invalid score");
	t.n = 0;
	tb_u8(&t, T_ZSET);
	tb_u8(&t, E_ELEMS);
	tb_varint(&t, 2);
	tb_varint(&t, 2);
	tb_str(&t, "a");
	tb_put(&t, &two, 8);
	tb_str(&t, "b");
	tb_put(&t, &one, 8);
	tb_varint(&t, 0);
	dec_bad(t.b, t.n, &lim, "out of order");
	t.n = 0;
	tb_u8(&t, T_ZSET);
	tb_u8(&t, E_ELEMS);
	tb_varint(&t, 2);
	tb_varint(&t, 2);
	tb_str(&t, "a");
	tb_put(&t, &one, 8);
	tb_str(&t, "a");
	tb_put(&t, &two, 8);
	tb_varint(&t, 0);
	dec_bad(t.b, t.n, &lim, "duplicate sorted set member");
	t.n = 0;
	tb_u8(&t, T_ZSET);
	tb_u8(&t, E_ELEMS);
	tb_varint(&t, 1);
	tb_varint(&t, 1);
	tb_str(&t, "a");
	tb_put(&t, &one, 4);
	dec_bad(t.b, t.n, &lim, NULL);
	/* A failure deep in a big value frees everything built so far
	 * (ASan's leak check): 300 members, then a duplicate. */
	t.n = 0;
	tb_u8(&t, T_SET);
	tb_u8(&t, E_ELEMS);
	tb_varint(&t, 301);
	tb_varint(&t, 301);
	for (int i = 0; i < 300; i++) {
		char s[8];
		snprintf(s, sizeof(s), "s%d", i);
		tb_str(&t, s);
	}
	tb_str(&t, "s3");
	tb_varint(&t, 0);
	dec_bad(t.b, t.n, &lim, "duplicate set member");
}
END_TEST

START_TEST(test_hints_not_trusted)
{
	/* Hints far beyond the bytes give small values in small
	 * encodings, nothing allocated for the claimed sizes. */
	struct ap_serial_limits lim = lim_default();
	struct tb t;
	struct val v;
	double one = 1;

	for (unsigned type = T_LIST; type <= T_HASH; type++) {
		t.n = 0;
		tb_u8(&t, type);
		tb_u8(&t, E_ELEMS);
		tb_varint(&t, 1ULL << 62);
		tb_varint(&t, 1);
		tb_str(&t, "x");
		if (type == T_HASH)
			tb_str(&t, "y");
		if (type == T_ZSET)
			tb_put(&t, &one, 8);
		tb_varint(&t, 0);
		dec_ok(t.b, t.n, &lim, &v);
		ck_assert_int_eq(v.enc, AP_ENC_LISTPACK);
		val_free(&v);
	}
	/* A hint smaller than the truth is fine too. */
	t.n = 0;
	tb_u8(&t, T_SET);
	tb_u8(&t, E_ELEMS);
	tb_varint(&t, 1);
	tb_varint(&t, 300);
	for (int i = 0; i < 300; i++) {
		char s[8];
		snprintf(s, sizeof(s), "s%d", i);
		tb_str(&t, s);
	}
	tb_varint(&t, 0);
	dec_ok(t.b, t.n, &lim, &v);
	ck_assert_int_eq(v.enc, AP_ENC_HASHTABLE);
	val_free(&v);
}
END_TEST

START_TEST(test_any_batching)
{
	/* Readers accept any cut into batches: 6 list elements as 1+2+3,
	 * a hash as 1+1. */
	struct ap_serial_limits lim = lim_default();
	struct tb t;
	struct val v;
	struct items it;

	t.n = 0;
	tb_u8(&t, T_LIST);
	tb_u8(&t, E_ELEMS);
	tb_varint(&t, 6);
	tb_varint(&t, 1);
	tb_str(&t, "a");
	tb_varint(&t, 2);
	tb_str(&t, "b");
	tb_str(&t, "7");
	tb_varint(&t, 3);
	tb_str(&t, "");
	tb_str(&t, "a");
	tb_str(&t, "z");
	tb_varint(&t, 0);
	dec_ok(t.b, t.n, &lim, &v);
	ck_assert_int_eq(v.enc, AP_ENC_LISTPACK);
	canon(&v, &it);
	ck_assert_uint_eq(it.n, 6);
	ck_assert(it.len[2] == 1 && it.s[2][0] == '7' && it.len[3] == 0);
	items_free(&it);
	val_free(&v);
	t.n = 0;
	tb_u8(&t, T_HASH);
	tb_u8(&t, E_ELEMS);
	tb_varint(&t, 0);
	tb_varint(&t, 1);
	tb_str(&t, "f");
	tb_str(&t, "1");
	tb_varint(&t, 1);
	tb_str(&t, "g");
	tb_str(&t, "2");
	tb_varint(&t, 0);
	dec_ok(t.b, t.n, &lim, &v);
	canon(&v, &it);
	ck_assert_uint_eq(it.n, 2);
	items_free(&it);
	val_free(&v);
}
END_TEST

START_TEST(test_random_garbage)
{
	/* Random bodies after every valid head: never a crash, a leak or an
	 * invalid value (ASan, canon's walk and the zset verifier). */
	struct ap_serial_limits lims[2] = {lim_default(), lim_big()};
	static const unsigned char heads[][2] = {
		{T_STR, E_STR},	   {T_STR, E_INT},    {T_LIST, E_LP},
		{T_LIST, E_ELEMS}, {T_SET, E_INTSET}, {T_SET, E_LP},
		{T_SET, E_ELEMS},  {T_ZSET, E_LP},    {T_ZSET, E_ELEMS},
		{T_HASH, E_LP},	   {T_HASH, E_ELEMS},
	};
	unsigned char buf[64];
	uint64_t x = 12345;
	size_t ok = 0;

	for (int round = 0; round < 200000; round++) {
		const unsigned char *h = heads[round % 11];
		size_t n = 2 + (size_t)(x % 40);
		struct ap_serial_value sv;
		size_t used;

		buf[0] = h[0];
		buf[1] = h[1];
		for (size_t i = 2; i < n; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			/* Small bytes often: plausible lengths and counts. */
			buf[i] = (unsigned char)((x >> 33) % 4 ? (x >> 40) % 8
							       : x >> 40);
		}
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		if (ap_serial_decode(buf, n, &lims[round % 2], &sv, &used,
				     NULL) != 0)
			continue;
		ok++;
		CK(used <= n);
		if (sv.type != AP_TYPE_STRING) {
			struct val d = {sv.type, sv.enc, sv.obj};
			struct items it;

			canon(&d, &it);
			CK(it.n > 0);
			items_free(&it);
			val_free(&d);
		}
	}
	/* Some did decode (the walk above ran). */
	ck_assert_uint_gt(ok, 0);
}
END_TEST

/* --- truncations and bit flips ------------------------------------------ */

/* Every proper prefix of the encoding of v fails; every single-bit flip
 * fails or decodes to a valid value (walked and verified). */
static void mangle(const struct val *v)
{
	struct ap_serial_limits lims[2] = {lim_default(), lim_big()};
	struct ap_serial_buf b;
	struct ap_serial_value sv;
	size_t used;

	enc_val(&b, v);
	for (size_t n = 0; n < b.len; n++) {
		unsigned char *cut = malloc(n + 1);

		memcpy(cut, b.p, n);
		CK(ap_serial_decode(cut, n, &lims[n % 2], &sv, &used, NULL) !=
		   0);
		free(cut);
	}
	for (size_t i = 0; i < b.len; i++)
		for (int k = 0; k < 8; k++) {
			b.p[i] ^= (unsigned char)(1 << k);
			if (ap_serial_decode(b.p, b.len, &lims[k % 2], &sv,
					     &used, NULL) == 0) {
				CK(used <= b.len);
				if (sv.type != AP_TYPE_STRING) {
					struct val d = {sv.type, sv.enc,
							sv.obj};
					struct items it;

					canon(&d, &it);
					CK(it.n > 0);
					items_free(&it);
					val_free(&d);
				}
			}
			b.p[i] ^= (unsigned char)(1 << k);
		}
	ap_serial_buf_deinit(&b);
}

START_TEST(test_truncations_and_flips)
{
	struct ap_serial_limits lim = lim_default(), big = lim_big();
	static const char *const s[] = {"a", "17", "ccc", "-2", "", "long"};
	static const size_t sl[] = {1, 2, 3, 2, 0, 4};
	static const char *const ints[] = {"1", "300", "-70000"};
	static const size_t il[] = {1, 3, 6};
	static const double sc[] = {0.5, 1, 2, -1e200, 3, INFINITY};
	struct val v;
	struct ap_serial_buf b;

	ap_serial_buf_init(&b);
	ap_serial_encode_str(&b, "hello", 5);
	ap_serial_encode_int(&b, -123456);
	for (size_t n = 0; n < 7; n++)
		CK(ap_serial_decode(b.p, n, &lim, &(struct ap_serial_value){0},
				    &(size_t){0}, NULL) != 0);
	ap_serial_buf_deinit(&b);

	list_build(&v, -2, s, sl, 6);
	mangle(&v);
	val_free(&v);
	list_build(&v, 2, s, sl, 6);
	mangle(&v);
	val_free(&v);
	set_build(&v, &lim.set, ints, il, 3);
	ck_assert_int_eq(v.enc, AP_ENC_INTSET);
	mangle(&v);
	val_free(&v);
	set_build(&v, &lim.set, s, sl, 6);
	mangle(&v);
	val_free(&v);
	set_build(&v, &big.set, s, sl, 6);
	mangle(&v);
	val_free(&v);
	hash_build(&v, &lim.hash, s, sl, 3);
	mangle(&v);
	val_free(&v);
	hash_build(&v, &big.hash, s, sl, 3);
	mangle(&v);
	val_free(&v);
	zset_build(&v, 128, s, sl, sc, 6);
	mangle(&v);
	val_free(&v);
	zset_build(&v, 0, s, sl, sc, 6);
	mangle(&v);
	val_free(&v);
}
END_TEST

/* --- randomized run against a model -------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* A random element string into buf: an integer, a short or a long
 * string (with any bytes); returns its length. */
static size_t rnd_elem(char *buf, size_t cap)
{
	switch (rnd() % 4) {
	case 0:
		return (size_t)snprintf(buf, cap, "%lld",
					(long long)(rnd() % 2000) - 1000);
	case 1:
		return (size_t)snprintf(buf, cap, "%lld", (long long)rnd());
	case 2: {
		size_t n = rnd() % 12;
		for (size_t i = 0; i < n; i++)
			buf[i] = (char)('a' + rnd() % 6);
		return n;
	}
	default: {
		size_t n = 60 + rnd() % (cap - 60);
		for (size_t i = 0; i < n; i++)
			buf[i] = (char)(rnd() & 0xFF);
		return n;
	}
	}
}

/* Random limits: defaults or tight ones, so both encodings appear on
 * either side. */
static struct ap_serial_limits rnd_lim(void)
{
	struct ap_serial_limits lim = lim_default();

	if (rnd() % 2) {
		lim.list_fill = (int)(rnd() % 8) - 3; /* -3..4 */
		if (lim.list_fill == 0)
			lim.list_fill = 1;
		lim.hash.entries_max = rnd() % 40;
		lim.hash.value_max = rnd() % 80;
		lim.set.intset_max = rnd() % 40;
		lim.set.lp_entries_max = rnd() % 40;
		lim.set.lp_value_max = rnd() % 80;
		lim.zset_lp_max = rnd() % 40;
		lim.zset_lp_value = rnd() % 80;
	}
	return lim;
}

/* The model's canonical items for comparison with canon(). */
static void model_canon(enum ap_type type, char **e, size_t *len, double *score,
			size_t n, struct items *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		if (type == AP_TYPE_HASH)
			items_add2(out, e[2 * i], len[2 * i], e[2 * i + 1],
				   len[2 * i + 1]);
		else if (type == AP_TYPE_ZSET)
			items_add2(out, e[i], len[i], &score[i], 8);
		else
			items_add(out, e[i], len[i]);
	}
	if (type == AP_TYPE_SET || type == AP_TYPE_HASH)
		items_sort(out);
}

/* The compact encodings a decode gives must respect the limits. */
static void check_limits(const struct val *v, const struct ap_serial_limits *l,
			 size_t n)
{
	if (v->type == AP_TYPE_SET && v->enc == AP_ENC_INTSET)
		CK(n <= l->set.intset_max);
	if (v->type == AP_TYPE_SET && v->enc == AP_ENC_LISTPACK)
		CK(n <= l->set.lp_entries_max);
	if (v->type == AP_TYPE_HASH && v->enc == AP_ENC_LISTPACK)
		CK(n <= l->hash.entries_max);
	if (v->type == AP_TYPE_ZSET && v->enc == AP_ENC_LISTPACK)
		CK(n <= l->zset_lp_max);
}

/* zset order for the model: score then bytes. */
static char **zs_e;
static size_t *zs_len;
static double *zs_sc;
static int zs_cmp(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	if (zs_sc[i] != zs_sc[j])
		return zs_sc[i] < zs_sc[j] ? -1 : 1;
	size_t n = zs_len[i] < zs_len[j] ? zs_len[i] : zs_len[j];
	int c = memcmp(zs_e[i], zs_e[j], n);
	if (c)
		return c;
	return zs_len[i] < zs_len[j] ? -1 : zs_len[i] > zs_len[j];
}

/* Removes duplicate keys from the model (first one wins), keeping the
 * order; stride 2 for hash pairs. Returns the new item count. */
static size_t model_dedup(char **e, size_t *len, double *sc, size_t n,
			  size_t stride)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		for (size_t j = 0; j < out && !seen; j++)
			seen = len[j * stride] == len[i * stride] &&
			       memcmp(e[j * stride], e[i * stride],
				      len[i * stride]) == 0;
		if (seen) {
			for (size_t k = 0; k < stride; k++)
				free(e[i * stride + k]);
			continue;
		}
		for (size_t k = 0; k < stride; k++) {
			e[out * stride + k] = e[i * stride + k];
			len[out * stride + k] = len[i * stride + k];
		}
		if (sc)
			sc[out] = sc[i];
		out++;
	}
	return out;
}

START_TEST(test_random_against_model)
{
	enum { ROUNDS = 300, NMAX = 700 };
	char **e = malloc(2 * NMAX * sizeof(*e));
	size_t *len = malloc(2 * NMAX * sizeof(*len));
	double *sc = malloc(NMAX * sizeof(*sc));
	char buf[200];

	for (int round = 0; round < ROUNDS; round++) {
		enum ap_type type = (enum ap_type)(1 + rnd() % 4);
		size_t n = 1 + (rnd() % 4 == 0 ? rnd() % NMAX : rnd() % 40);
		size_t stride = type == AP_TYPE_HASH ? 2 : 1;
		struct ap_serial_limits bl = rnd_lim(), dl = rnd_lim();
		struct val v, d;
		struct items want, got;
		struct ap_serial_buf b;

		for (size_t i = 0; i < n * stride; i++) {
			len[i] = rnd_elem(buf, sizeof(buf));
			e[i] = malloc(len[i] + 1);
			memcpy(e[i], buf, len[i]);
		}
		for (size_t i = 0; i < n; i++)
			sc[i] = rnd() % 3 ? (double)(rnd() % 100) / 4
					  : (double)(int64_t)rnd() * 1e-3;
		if (type != AP_TYPE_LIST)
			n = model_dedup(e, len, sc, n, stride);
		if (type == AP_TYPE_LIST)
			list_build(&v, bl.list_fill, (const char *const *)e,
				   len, n);
		else if (type == AP_TYPE_SET)
			set_build(&v, &bl.set, (const char *const *)e, len, n);
		else if (type == AP_TYPE_HASH)
			hash_build(&v, &bl.hash, (const char *const *)e, len,
				   n);
		else
			zset_build(&v, bl.zset_lp_max, (const char *const *)e,
				   len, sc, n);
		if (type == AP_TYPE_ZSET) {
			/* The model in (score, member) order. */
			size_t *idx = malloc(n * sizeof(*idx));
			char **e2 = malloc(n * sizeof(*e2));
			size_t *l2 = malloc(n * sizeof(*l2));
			double *s2 = malloc(n * sizeof(*s2));

			for (size_t i = 0; i < n; i++)
				idx[i] = i;
			zs_e = e;
			zs_len = len;
			zs_sc = sc;
			qsort(idx, n, sizeof(*idx), zs_cmp);
			for (size_t i = 0; i < n; i++) {
				e2[i] = e[idx[i]];
				l2[i] = len[idx[i]];
				s2[i] = sc[idx[i]];
			}
			memcpy(e, e2, n * sizeof(*e));
			memcpy(len, l2, n * sizeof(*len));
			memcpy(sc, s2, n * sizeof(*sc));
			free(idx);
			free(e2);
			free(l2);
			free(s2);
		}
		enc_val(&b, &v);
		dec_ok(b.p, b.len, &dl, &d);
		CK(d.type == type);
		check_limits(&d, &dl, n);
		model_canon(type, e, len, sc, n, &want);
		canon(&d, &got);
		CK(items_eq(&want, &got));
		items_free(&got);
		canon(&v, &got);
		CK(items_eq(&want, &got));
		items_free(&got);
		items_free(&want);
		ap_serial_buf_deinit(&b);
		val_free(&v);
		val_free(&d);
		for (size_t i = 0; i < n * stride; i++)
			free(e[i]);
	}
	free(e);
	free(len);
	free(sc);
}
END_TEST

/* --- keyspace store ----------------------------------------------------- */

START_TEST(test_value_store)
{
	struct ap_keyspace *ks = ap_keyspace_create(1);
	struct ap_db *db = ap_keyspace_db(ks, 0);
	struct ap_serial_limits lim = lim_default();
	struct ap_serial_buf b;
	struct ap_serial_value v;
	struct ap_entry *e;
	size_t used, len;
	char buf[AP_INT_STR_SIZE];
	long long ll;

	ap_keyspace_set_now(ks, 1000);
	ap_serial_buf_init(&b);
	ap_serial_encode_int(&b, 42);
	ck_assert_int_eq(ap_serial_decode(b.p, b.len, &lim, &v, &used, NULL),
			 0);
	e = ap_serial_value_store(db, "i", 1, &v, 5000);
	ck_assert(ap_entry_int(e, &ll) && ll == 42);
	ck_assert_int_eq(ap_entry_expire(e), 5000);
	b.len = 0;
	/* A canonical integer written as text is stored as an integer. */
	ap_serial_encode_str(&b, "77", 2);
	ck_assert_int_eq(ap_serial_decode(b.p, b.len, &lim, &v, &used, NULL),
			 0);
	e = ap_serial_value_store(db, "s", 1, &v, AP_NO_EXPIRE);
	ck_assert_int_eq(ap_entry_enc(e), AP_ENC_INT);
	b.len = 0;
	ap_serial_encode_str(&b, "hello", 5);
	ck_assert_int_eq(ap_serial_decode(b.p, b.len, &lim, &v, &used, NULL),
			 0);
	e = ap_serial_value_store(db, "s", 1, &v, AP_NO_EXPIRE);
	ck_assert_int_eq(ap_entry_enc(e), AP_ENC_EMBSTR);
	ck_assert(memcmp(ap_entry_str(e, &len, buf), "hello", 5) == 0);
	/* A collection replaces the string; encode_entry gives the same
	 * bytes back. */
	{
		static const char *const m[] = {"x", "y"};
		static const size_t ml[] = {1, 1};
		struct val sv;
		struct ap_serial_buf b2;

		set_build(&sv, &lim.set, m, ml, 2);
		b.len = 0;
		ap_serial_encode_obj(&b, sv.type, sv.enc, sv.obj);
		val_free(&sv);
		ck_assert_int_eq(
			ap_serial_decode(b.p, b.len, &lim, &v, &used, NULL), 0);
		e = ap_serial_value_store(db, "s", 1, &v, AP_NO_EXPIRE);
		ck_assert_ptr_null(v.obj);
		ck_assert_int_eq(ap_entry_type(e), AP_TYPE_SET);
		ap_serial_buf_init(&b2);
		ap_serial_encode_entry(&b2, e);
		ck_assert(b2.len == b.len && memcmp(b2.p, b.p, b.len) == 0);
		ap_serial_buf_deinit(&b2);
	}
	ap_serial_buf_deinit(&b);
	ap_keyspace_destroy(ks);
}
END_TEST

static Suite *serial_suite(void)
{
	Suite *s = suite_create("serial");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_string_bytes);
	tcase_add_test(tc, test_blob_and_elems_bytes);
	tcase_add_test(tc, test_batches);
	tcase_add_test(tc, test_round_trip_every_encoding);
	tcase_add_test(tc, test_convert_on_load);
	tcase_add_test(tc, test_crc64);
	tcase_add_test(tc, test_dump_footer);
	tcase_add_test(tc, test_bad_heads_and_lengths);
	tcase_add_test(tc, test_bad_listpacks);
	tcase_add_test(tc, test_bad_zset_listpacks);
	tcase_add_test(tc, test_bad_intsets);
	tcase_add_test(tc, test_bad_elems);
	tcase_add_test(tc, test_hints_not_trusted);
	tcase_add_test(tc, test_any_batching);
	tcase_add_test(tc, test_random_garbage);
	tcase_add_test(tc, test_truncations_and_flips);
	tcase_add_test(tc, test_random_against_model);
	tcase_add_test(tc, test_value_store);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	ap_core_setup();

	SRunner *sr = srunner_create(serial_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures != 0;
}
