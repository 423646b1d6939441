/*
 * serial.c - the value format of core/serial.h (docs/serialization.md):
 * encoders for every type and encoding, a validating decoder, the DUMP
 * payload footer and CRC-64.
 *
 * Layout of a value: [type u8][encoding u8][body]. Bodies:
 *
 *   STR       len:varint, bytes                        strings
 *   INT       zigzag varint                            strings
 *   LISTPACK  len:varint, a listpack                   list set zset hash
 *   INTSET    len:varint, an intset (little endian)    set
 *   ELEMS     hint:varint, { n:varint > 0, n items } ... 0
 *                                                      list set zset hash
 *
 * An ELEMS item is a string (len:varint, bytes) for lists and sets, two
 * strings (field, value) for hashes, a string and an 8-byte little-endian
 * IEEE double for sorted sets (members in ascending (score, member)
 * order). The hint is the writer's element count: the decoder uses it only
 * to pick an encoding and to presize (bounded), never trusts it.
 *
 * Decoding reads through struct rd, which checks every length against the
 * bytes left and records the first reason for a failure. Sub-decoders free
 * whatever they built when they fail, so a failed decode leaves nothing.
 */
#include "core/serial.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/intset.h"
#include "core/limits.h"
#include "core/list.h"
#include "core/listpack.h"
#include "core/zset.h"

/* Blobs (listpacks, intsets) and doubles are written in the host's byte
 * order, which must be little endian, the format's order. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the value format is little endian; add byte swaps first");

/* Type bytes. */
enum {
	ST_STRING = 0,
	ST_LIST = 1,
	ST_SET = 2,
	ST_ZSET = 3,
	ST_HASH = 4,
};

/* Encoding bytes. */
enum {
	SE_STR = 0,
	SE_INT = 1,
	SE_LISTPACK = 2,
	SE_INTSET = 3,
	SE_ELEMS = 4,
};

/* Longest LEB128 encoding of a 64-bit value. */
#define VARINT_MAX_LEN 10
/* Smallest first allocation of a buffer. */
#define BUF_MIN_CAP 64
/* Listpack duplicate checks compare every pair up to this many elements,
 * and sort beyond. */
#define DUP_PAIRWISE_MAX 16
/* Bytes of an ELEMS score. */
#define SCORE_SIZE 8

/* --- buffer ------------------------------------------------------------ */

/* An empty buffer; the first append allocates. */
void ap_serial_buf_init(struct ap_serial_buf *b)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

/* Frees the bytes and leaves b empty (reusable). */
void ap_serial_buf_deinit(struct ap_serial_buf *b)
{
	ap_free(b->p);
	ap_serial_buf_init(b);
}

/* Makes room for n more bytes (growing geometrically) and returns where
 * they go; the caller then adds n to b->len. */
unsigned char *ap_serial_buf_reserve(struct ap_serial_buf *b, size_t n)
{
	size_t need;

	AP_ASSERT(!__builtin_add_overflow(b->len, n, &need));
	if (need > b->cap) {
		size_t cap = AP_MAX(AP_MAX(b->cap * 2, need), BUF_MIN_CAP);

		b->p = ap_realloc(b->p, cap);
		b->cap = cap;
	}
	return b->p + b->len;
}

/* Appends n bytes. */
void ap_serial_buf_put(struct ap_serial_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	memcpy(ap_serial_buf_reserve(b, n), p, n);
	b->len += n;
}

/* Appends one byte. */
void ap_serial_buf_u8(struct ap_serial_buf *b, uint8_t v)
{
	*ap_serial_buf_reserve(b, 1) = v;
	b->len++;
}

/* Appends v as an unsigned LEB128 varint (7 bits a byte, low first). */
void ap_serial_buf_varint(struct ap_serial_buf *b, uint64_t v)
{
	unsigned char *p = ap_serial_buf_reserve(b, VARINT_MAX_LEN);
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	b->len += n;
}

/* Appends a string: its length as a varint, then its bytes. */
void ap_serial_buf_str(struct ap_serial_buf *b, const void *s, size_t len)
{
	ap_serial_buf_varint(b, len);
	ap_serial_buf_put(b, s, len);
}

/* Appends the type and encoding bytes that open a value. */
static void buf_head(struct ap_serial_buf *b, uint8_t type, uint8_t enc)
{
	ap_serial_buf_u8(b, type);
	ap_serial_buf_u8(b, enc);
}

/* --- encoding ---------------------------------------------------------- */

/* [string][STR] str. */
void ap_serial_encode_str(struct ap_serial_buf *b, const char *s, size_t len)
{
	buf_head(b, ST_STRING, SE_STR);
	ap_serial_buf_str(b, s, len);
}

/* [string][INT] zigzag varint. */
void ap_serial_encode_int(struct ap_serial_buf *b, long long v)
{
	uint64_t u = (uint64_t)v;

	buf_head(b, ST_STRING, SE_INT);
	/* Zigzag: small magnitudes of either sign take few bytes. */
	ap_serial_buf_varint(b, (u << 1) ^ (uint64_t)(v < 0 ? -1LL : 0));
}

/* Appends a blob value: head, then the blob as a string. */
static void put_blob(struct ap_serial_buf *b, uint8_t type, uint8_t enc,
		     const void *blob, size_t len)
{
	buf_head(b, type, enc);
	ap_serial_buf_str(b, blob, len);
}

/* Writes the batches of an ELEMS body: the writer says how many items it
 * has in all; each item is announced with elems_next, which opens a batch
 * of up to AP_SERIAL_BATCH items when the previous one is full. */
struct elems {
	size_t left;	 /* items still to write */
	size_t in_batch; /* items still to write in the open batch */
};

/* Appends the head and hint of an ELEMS value of count items. */
static void elems_begin(struct ap_serial_buf *b, struct elems *w, uint8_t type,
			size_t count)
{
	AP_ASSERT(count > 0);
	buf_head(b, type, SE_ELEMS);
	ap_serial_buf_varint(b, count);
	w->left = count;
	w->in_batch = 0;
}

/* Announces the next item (a batch header is written when one starts). */
static void elems_next(struct ap_serial_buf *b, struct elems *w)
{
	AP_ASSERT(w->left > 0);
	if (w->in_batch == 0) {
		w->in_batch = AP_MIN(w->left, (size_t)AP_SERIAL_BATCH);
		ap_serial_buf_varint(b, w->in_batch);
	}
	w->in_batch--;
	w->left--;
}

/* Closes the body with the empty batch; every item must be written. */
static void elems_end(struct ap_serial_buf *b, struct elems *w)
{
	AP_ASSERT(w->left == 0 && w->in_batch == 0);
	ap_serial_buf_varint(b, 0);
}

/* A quicklist, element by element from the head. */
static void encode_quicklist(struct ap_serial_buf *b, struct ap_list *l)
{
	struct elems w;
	struct ap_list_iter it;
	char buf[AP_LP_INTBUF_SIZE];

	elems_begin(b, &w, ST_LIST, ap_list_count(l));
	for (ap_list_iter_init(&it, l, 0, true); ap_list_iter_valid(&it);
	     ap_list_iter_next(&it)) {
		size_t len;
		const char *s = ap_list_iter_get(&it, &len, buf);

		elems_next(b, &w);
		ap_serial_buf_str(b, s, len);
	}
	elems_end(b, &w);
}

/* A hashtable-encoded set, member by member. */
static void encode_set_table(struct ap_serial_buf *b, void *obj)
{
	struct ap_set s = {.ptr = obj, .enc = AP_ENC_HASHTABLE};
	struct ap_set_iter it;
	struct ap_set_elem m;
	struct elems w;

	elems_begin(b, &w, ST_SET, ap_set_len(&s));
	ap_set_iter_init(&it, &s);
	while (ap_set_iter_next(&it, &m)) {
		elems_next(b, &w);
		ap_serial_buf_str(b, m.str, m.len);
	}
	ap_set_iter_deinit(&it);
	elems_end(b, &w);
}

/* A hashtable-encoded hash, pair by pair. */
static void encode_hash_table(struct ap_serial_buf *b, void *obj)
{
	struct ap_hobj h = {.ptr = obj, .enc = AP_ENC_HASHTABLE};
	struct ap_hobj_iter it;
	struct ap_hobj_pair pr;
	struct elems w;

	elems_begin(b, &w, ST_HASH, ap_hobj_len(&h));
	ap_hobj_iter_init(&it, &h);
	while (ap_hobj_iter_next(&it, &pr)) {
		elems_next(b, &w);
		ap_serial_buf_str(b, pr.f, pr.flen);
		ap_serial_buf_str(b, pr.v, pr.vlen);
	}
	ap_hobj_iter_deinit(&it);
	elems_end(b, &w);
}

/* A skiplist-encoded sorted set, in ascending order. */
static void encode_zset_skiplist(struct ap_serial_buf *b, void *obj)
{
	struct ap_zset z;
	struct ap_zset_iter it;
	struct elems w;
	const char *m;
	size_t len;
	double score;

	ap_zset_open(&z, obj, AP_ENC_SKIPLIST, 0, 0);
	elems_begin(b, &w, ST_ZSET, ap_zset_len(&z));
	ap_zset_iter_rank(&it, &z, 0, ap_zset_len(&z), false);
	while (ap_zset_iter_next(&it, &m, &len, &score)) {
		elems_next(b, &w);
		ap_serial_buf_str(b, m, len);
		ap_serial_buf_put(b, &score, SCORE_SIZE);
	}
	elems_end(b, &w);
}

/* Compact encodings as their blob, big ones element by element. */
void ap_serial_encode_obj(struct ap_serial_buf *b, enum ap_type type,
			  enum ap_enc enc, const void *obj)
{
	/* Encoders only read: the casts serve iterators that take handles. */
	void *o = (void *)(uintptr_t)obj;

	AP_ASSERT(obj != NULL);
	switch (type) {
	case AP_TYPE_LIST:
		if (enc == AP_ENC_LISTPACK)
			put_blob(b, ST_LIST, SE_LISTPACK, obj,
				 ap_lp_bytes(obj));
		else
			encode_quicklist(b, o);
		return;
	case AP_TYPE_SET:
		if (enc == AP_ENC_INTSET)
			put_blob(b, ST_SET, SE_INTSET, obj,
				 ap_intset_bytes(obj));
		else if (enc == AP_ENC_LISTPACK)
			put_blob(b, ST_SET, SE_LISTPACK, obj, ap_lp_bytes(obj));
		else
			encode_set_table(b, o);
		return;
	case AP_TYPE_ZSET:
		if (enc == AP_ENC_LISTPACK)
			put_blob(b, ST_ZSET, SE_LISTPACK, obj,
				 ap_lp_bytes(obj));
		else
			encode_zset_skiplist(b, o);
		return;
	case AP_TYPE_HASH:
		if (enc == AP_ENC_LISTPACK)
			put_blob(b, ST_HASH, SE_LISTPACK, obj,
				 ap_lp_bytes(obj));
		else
			encode_hash_table(b, o);
		return;
	default:
		AP_ASSERT(!"serial: no format for this type");
	}
}

/* Strings as INT when the entry holds an integer, else STR; collections
 * through ap_serial_encode_obj. */
void ap_serial_encode_entry(struct ap_serial_buf *b, const struct ap_entry *e)
{
	enum ap_type type = ap_entry_type(e);

	if (type == AP_TYPE_STRING) {
		long long v;
		char buf[AP_INT_STR_SIZE];
		size_t len;
		const char *s;

		if (ap_entry_int(e, &v)) {
			ap_serial_encode_int(b, v);
			return;
		}
		s = ap_entry_str(e, &len, buf);
		ap_serial_encode_str(b, s, len);
		return;
	}
	ap_serial_encode_obj(b, type, ap_entry_enc(e), ap_entry_obj(e));
}

/* --- reading untrusted bytes ------------------------------------------ */

/* A cursor over input bytes; `why` keeps the first failure's reason. */
struct rd {
	const unsigned char *p;
	const unsigned char *end;
	const char *why;
};

/* Records why decoding failed (the first reason wins) and returns false. */
static bool fail(struct rd *r, const char *why)
{
	if (r->why == NULL)
		r->why = why;
	return false;
}

/* Bytes not read yet. */
static size_t rd_left(const struct rd *r)
{
	return (size_t)(r->end - r->p);
}

/* Reads one byte. */
static bool rd_u8(struct rd *r, uint8_t *v)
{
	if (rd_left(r) < 1)
		return fail(r, "truncated");
	*v = *r->p++;
	return true;
}

/* Reads a LEB128 varint in its shortest form (a longer form, or one that
 * overflows 64 bits, is refused: every value has one encoding). */
static bool rd_varint(struct rd *r, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned i = 0; i < VARINT_MAX_LEN; i++) {
		uint8_t c;

		if (!rd_u8(r, &c))
			return false;
		if (i == VARINT_MAX_LEN - 1 && c > 1)
			return fail(r, "varint overflows 64 bits");
		x |= (uint64_t)(c & 0x7F) << (7 * i);
		if (!(c & 0x80)) {
			if (c == 0 && i > 0)
				return fail(r, "overlong varint");
			*v = x;
			return true;
		}
	}
	return fail(r, "varint overflows 64 bits");
}

/* Reads a length-prefixed byte string of at most max bytes that must lie
 * within the input; *s points into the input. */
static bool rd_str(struct rd *r, size_t max, const char **s, size_t *len)
{
	uint64_t n;

	if (!rd_varint(r, &n))
		return false;
	if (n > max)
		return fail(r, "string too long");
	if (n > rd_left(r))
		return fail(r, "truncated");
	*s = (const char *)r->p;
	*len = (size_t)n;
	r->p += n;
	return true;
}

/* Reads an element string (list element, member, field or value): the
 * longest a client could have stored. */
static bool rd_elem(struct rd *r, const char **s, size_t *len)
{
	return rd_str(r, (size_t)AP_PROTO_MAX_BULK_LEN_MAX, s, len);
}

/* Reads the count of the next ELEMS batch (0: the end), refusing one
 * that the bytes left cannot hold with items of at least min_size. */
static bool rd_batch(struct rd *r, size_t min_size, uint64_t *n)
{
	if (!rd_varint(r, n))
		return false;
	if (*n > rd_left(r) / min_size)
		return fail(r, "batch count beyond the bytes left");
	return true;
}

/* Reads an ELEMS hint, bounded so that a presize never exceeds what the
 * bytes left could hold (items of min_size) nor AP_SERIAL_PRESIZE_MAX. */
static bool rd_hint(struct rd *r, size_t min_size, size_t *hint)
{
	uint64_t h;

	if (!rd_varint(r, &h))
		return false;
	h = AP_MIN(h, (uint64_t)(rd_left(r) / min_size));
	*hint = (size_t)AP_MIN(h, (uint64_t)AP_SERIAL_PRESIZE_MAX);
	return true;
}

/* --- listpack blobs ---------------------------------------------------- */

/* Reads a blob and checks that it is a well-formed listpack of a non-zero
 * multiple of `stride` elements; *lp points into the input. */
static bool rd_listpack(struct rd *r, uint32_t stride, const unsigned char **lp)
{
	const char *s;
	size_t len;

	if (!rd_str(r, (size_t)AP_LISTPACK_BYTES_MAX, &s, &len))
		return false;
	if (!ap_lp_validate((const unsigned char *)s, len))
		return fail(r, "invalid listpack");
	*lp = (const unsigned char *)s;
	if (ap_lp_count(*lp) == 0)
		return fail(r, "empty collection");
	if (ap_lp_count(*lp) % stride != 0)
		return fail(r, "listpack of unpaired elements");
	return true;
}

/* The encoded bytes of a listpack element. In a valid listpack equal
 * strings have equal encodings (the format is canonical), so duplicates
 * are found by comparing these. */
struct span {
	const unsigned char *p;
	size_t len;
};

/* The span of the element at p. */
static struct span span_at(const unsigned char *lp, const unsigned char *p)
{
	const unsigned char *next = ap_lp_next(lp, p);
	const unsigned char *end = next ? next : lp + ap_lp_bytes(lp) - 1;

	return (struct span){.p = p, .len = (size_t)(end - p)};
}

/* Order of two spans: bytes, then length. */
static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	int c = memcmp(x->p, y->p, AP_MIN(x->len, y->len));

	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* True if two of the n spans are equal: pairwise for a few, else by
 * sorting (which reorders v). */
static bool spans_have_dup(struct span *v, size_t n)
{
	if (n <= DUP_PAIRWISE_MAX) {
		for (size_t i = 0; i < n; i++)
			for (size_t j = i + 1; j < n; j++)
				if (span_cmp(&v[i], &v[j]) == 0)
					return true;
		return false;
	}
	qsort(v, n, sizeof(*v), span_cmp);
	for (size_t i = 1; i < n; i++)
		if (span_cmp(&v[i - 1], &v[i]) == 0)
			return true;
	return false;
}

/* True if the elements at indexes 0, stride, 2*stride, ... of the
 * validated listpack lp (members, or fields of pairs) are all distinct.
 * O(n log n); the scratch array is bounded by the listpack's size. */
static bool lp_keys_distinct(const unsigned char *lp, uint32_t stride)
{
	size_t n = ap_lp_count(lp) / stride, i = 0;
	struct span small[DUP_PAIRWISE_MAX];
	struct span *v =
		n <= DUP_PAIRWISE_MAX ? small : ap_malloc(n * sizeof(*v));
	bool dup;

	for (const unsigned char *p = ap_lp_first(lp); p != NULL; i++) {
		v[i] = span_at(lp, p);
		for (uint32_t k = 0; k < stride && p != NULL; k++)
			p = ap_lp_next(lp, p);
	}
	AP_ASSERT(i == n);
	dup = spans_have_dup(v, n);
	if (v != small)
		ap_free(v);
	return !dup;
}

/* Length of the longest string among the elements at indexes 0, stride,
 * 2*stride, ... of a validated listpack (integers as their text). */
static size_t lp_longest(const unsigned char *lp, uint32_t stride)
{
	char buf[AP_LP_INTBUF_SIZE];
	size_t max = 0;
	unsigned char *p = ap_lp_first(lp);

	while (p != NULL) {
		size_t len;

		(void)ap_lp_get_str(p, &len, buf);
		max = AP_MAX(max, len);
		for (uint32_t k = 0; k < stride && p != NULL; k++)
			p = ap_lp_next(lp, p);
	}
	return max;
}

/* --- strings ----------------------------------------------------------- */

/* A string body: STR (bytes left in the input) or INT. */
static bool dec_string(struct rd *r, uint8_t enc, struct ap_serial_value *v)
{
	uint64_t u;

	v->type = AP_TYPE_STRING;
	if (enc == SE_STR) {
		v->enc = AP_ENC_RAW;
		return rd_str(r, (size_t)AP_PROTO_MAX_BULK_LEN_MAX, &v->str,
			      &v->len);
	}
	if (enc != SE_INT)
		return fail(r, "unknown string encoding");
	if (!rd_varint(r, &u))
		return false;
	v->enc = AP_ENC_INT;
	v->ll = (long long)((u >> 1) ^ (0 - (u & 1)));
	return true;
}

/* --- lists ------------------------------------------------------------- */

/* Appends s at the tail of the open list, converting a bare listpack to a
 * quicklist when this element would make it exceed a node. */
static void list_add(struct ap_list_ref *ref, const char *s, size_t len)
{
	ap_list_ref_grow(ref, len, 1);
	ap_list_push(ref->l, AP_LIST_TAIL, s, len);
}

/* Closes the list built in ref into v (it holds at least one element). */
static void list_close(struct ap_list_ref *ref, struct ap_serial_value *v)
{
	v->obj = ap_list_ref_close(ref, false, &v->enc);
	AP_ASSERT(v->obj != NULL);
}

/* A list from a listpack: its elements are pushed into a new list with
 * the node limit in force (a blob may come from a bigger limit). */
static bool dec_list_lp(struct rd *r, const struct ap_serial_limits *lim,
			struct ap_serial_value *v)
{
	const unsigned char *lp;
	struct ap_list_ref ref;
	char buf[AP_LP_INTBUF_SIZE];

	if (!rd_listpack(r, 1, &lp))
		return false;
	ap_list_ref_open(&ref, NULL, AP_ENC_LISTPACK, lim->list_fill);
	for (unsigned char *p = ap_lp_first(lp); p; p = ap_lp_next(lp, p)) {
		size_t len;
		const char *s = ap_lp_get_str(p, &len, buf);

		list_add(&ref, s, len);
	}
	list_close(&ref, v);
	return true;
}

/* A list written element by element. */
static bool dec_list_elems(struct rd *r, const struct ap_serial_limits *lim,
			   struct ap_serial_value *v)
{
	struct ap_list_ref ref;
	uint64_t n;
	size_t hint, total = 0;
	enum ap_enc enc;
	void *obj;

	if (!rd_hint(r, 1, &hint))
		return false;
	ap_list_ref_open(&ref, NULL, AP_ENC_LISTPACK, lim->list_fill);
	while (rd_batch(r, 1, &n) && n > 0) {
		for (uint64_t i = 0; i < n; i++) {
			const char *s;
			size_t len;

			if (!rd_elem(r, &s, &len))
				goto bad;
			list_add(&ref, s, len);
		}
		total += n;
	}
	if (r->why != NULL)
		goto bad;
	if (total == 0) {
		fail(r, "empty collection");
		goto bad;
	}
	list_close(&ref, v);
	return true;
bad:
	/* Whatever was pushed goes; an empty list frees itself on close. */
	obj = ap_list_ref_close(&ref, false, &enc);
	if (obj != NULL && enc == AP_ENC_LISTPACK)
		ap_lp_free(obj);
	else if (obj != NULL)
		ap_list_destroy(obj);
	return false;
}

/* A list body of either encoding. */
static bool dec_list(struct rd *r, uint8_t enc,
		     const struct ap_serial_limits *lim,
		     struct ap_serial_value *v)
{
	v->type = AP_TYPE_LIST;
	if (enc == SE_LISTPACK)
		return dec_list_lp(r, lim, v);
	if (enc == SE_ELEMS)
		return dec_list_elems(r, lim, v);
	return fail(r, "unknown list encoding");
}

/* --- sets -------------------------------------------------------------- */

/* Most members an intset may have to become a listpack on load: each
 * takes at most 1 + 9 + 1 bytes there (tag, 64-bit integer, back-length),
 * which keeps the listpack far below AP_LISTPACK_BYTES_MAX. */
#define INTSET_LP_COUNT_MAX ((size_t)AP_LISTPACK_BYTES_MAX / 16)

/* Digits (and sign) of v in decimal. */
static size_t ll_text_len(long long v)
{
	char buf[AP_INT_STR_SIZE];

	return ap_ll_to_str(buf, v);
}

/* A set from an intset blob; converted as SADD would when it holds more
 * members than the intset limit in force. */
static bool dec_set_intset(struct rd *r, const struct ap_serial_limits *lim,
			   struct ap_serial_value *v)
{
	const char *s;
	size_t len, count, longest;
	struct ap_set set;

	if (!rd_str(r, SIZE_MAX, &s, &len))
		return false;
	if (!ap_intset_validate(s, len))
		return fail(r, "invalid intset");
	set.ptr = ap_memdup(s, len);
	set.enc = AP_ENC_INTSET;
	count = ap_set_len(&set);
	if (count == 0) {
		ap_set_free(set.ptr, set.enc);
		return fail(r, "empty collection");
	}
	if (count > lim->set.intset_max) {
		longest = AP_MAX(ll_text_len(ap_intset_min(set.ptr)),
				 ll_text_len(ap_intset_max(set.ptr)));
		if (count <= lim->set.lp_entries_max &&
		    longest <= lim->set.lp_value_max &&
		    count <= INTSET_LP_COUNT_MAX)
			ap_set_convert(&set, AP_ENC_LISTPACK, count);
		else
			ap_set_convert(&set, AP_ENC_HASHTABLE, count);
	}
	v->obj = set.ptr;
	v->enc = set.enc;
	return true;
}

/* A set from a listpack blob: distinct members, kept as the listpack
 * when the limits allow, else converted to a hashtable. */
static bool dec_set_lp(struct rd *r, const struct ap_serial_limits *lim,
		       struct ap_serial_value *v)
{
	const unsigned char *lp;
	struct ap_set set;
	size_t count;

	if (!rd_listpack(r, 1, &lp))
		return false;
	if (!lp_keys_distinct(lp, 1))
		return fail(r, "duplicate set member");
	count = ap_lp_count(lp);
	set.ptr = ap_memdup(lp, ap_lp_bytes(lp));
	set.enc = AP_ENC_LISTPACK;
	if (count > lim->set.lp_entries_max ||
	    lp_longest(lp, 1) > lim->set.lp_value_max)
		ap_set_convert(&set, AP_ENC_HASHTABLE, count);
	v->obj = set.ptr;
	v->enc = set.enc;
	return true;
}

/* A set written member by member, built as SADD would build it. */
static bool dec_set_elems(struct rd *r, const struct ap_serial_limits *lim,
			  struct ap_serial_value *v)
{
	struct ap_set set = {.ptr = NULL};
	uint64_t n;
	size_t hint;

	if (!rd_hint(r, 1, &hint))
		return false;
	while (rd_batch(r, 1, &n) && n > 0) {
		for (uint64_t i = 0; i < n; i++) {
			const char *s;
			size_t len;

			if (!rd_elem(r, &s, &len))
				goto bad;
			if (set.ptr == NULL)
				ap_set_init_for(&set, s, len, AP_MAX(hint, 1),
						&lim->set);
			if (!ap_set_add(&set, s, len, &lim->set)) {
				fail(r, "duplicate set member");
				goto bad;
			}
		}
	}
	if (r->why != NULL)
		goto bad;
	if (set.ptr == NULL)
		return fail(r, "empty collection");
	v->obj = set.ptr;
	v->enc = set.enc;
	return true;
bad:
	if (set.ptr != NULL)
		ap_set_free(set.ptr, set.enc);
	return false;
}

/* A set body of any of its three encodings. */
static bool dec_set(struct rd *r, uint8_t enc,
		    const struct ap_serial_limits *lim,
		    struct ap_serial_value *v)
{
	v->type = AP_TYPE_SET;
	if (enc == SE_INTSET)
		return dec_set_intset(r, lim, v);
	if (enc == SE_LISTPACK)
		return dec_set_lp(r, lim, v);
	if (enc == SE_ELEMS)
		return dec_set_elems(r, lim, v);
	return fail(r, "unknown set encoding");
}

/* --- hashes ------------------------------------------------------------ */

/* A hash from a listpack blob of field, value pairs with distinct
 * fields; converted to a hashtable beyond the limits in force. */
static bool dec_hash_lp(struct rd *r, const struct ap_serial_limits *lim,
			struct ap_serial_value *v)
{
	const unsigned char *lp;
	struct ap_hobj h;

	if (!rd_listpack(r, 2, &lp))
		return false;
	if (!lp_keys_distinct(lp, 2))
		return fail(r, "duplicate hash field");
	h.ptr = ap_memdup(lp, ap_lp_bytes(lp));
	h.enc = AP_ENC_LISTPACK;
	if (ap_lp_count(lp) / 2 > lim->hash.entries_max ||
	    lp_longest(lp, 1) > lim->hash.value_max)
		ap_hobj_convert(&h);
	v->obj = h.ptr;
	v->enc = h.enc;
	return true;
}

/* A hash written pair by pair, built as HSET would build it. */
static bool dec_hash_elems(struct rd *r, const struct ap_serial_limits *lim,
			   struct ap_serial_value *v)
{
	struct ap_hobj h;
	uint64_t n;
	size_t hint, total = 0;

	if (!rd_hint(r, 2, &hint))
		return false;
	ap_hobj_init(&h);
	if (hint > lim->hash.entries_max)
		ap_hobj_convert(&h);
	while (rd_batch(r, 2, &n) && n > 0) {
		for (uint64_t i = 0; i < n; i++) {
			const char *f, *val;
			size_t flen, vlen;

			if (!rd_elem(r, &f, &flen) || !rd_elem(r, &val, &vlen))
				goto bad;
			if (!ap_hobj_set(&h, f, flen, val, vlen, &lim->hash)) {
				fail(r, "duplicate hash field");
				goto bad;
			}
		}
		total += n;
	}
	if (r->why != NULL)
		goto bad;
	if (total == 0) {
		fail(r, "empty collection");
		goto bad;
	}
	v->obj = h.ptr;
	v->enc = h.enc;
	return true;
bad:
	ap_hobj_free(h.ptr, h.enc);
	return false;
}

/* A hash body of either encoding. */
static bool dec_hash(struct rd *r, uint8_t enc,
		     const struct ap_serial_limits *lim,
		     struct ap_serial_value *v)
{
	v->type = AP_TYPE_HASH;
	if (enc == SE_LISTPACK)
		return dec_hash_lp(r, lim, v);
	if (enc == SE_ELEMS)
		return dec_hash_elems(r, lim, v);
	return fail(r, "unknown hash encoding");
}

/* --- sorted sets ------------------------------------------------------- */

/* Marker byte and length of a listpack score stored as a raw double (see
 * core/zset.h). */
#define LP_SCORE_RAW	 0x01
#define LP_SCORE_RAW_LEN 9
/* 2^63 as a double: integral scores from -2^63 up to this (excluded) are
 * stored as listpack integers. */
#define TWO_POW_63 9223372036854775808.0

/* True if score d is a whole number the zset listpack stores as an
 * integer element. */
static bool score_is_lp_int(double d)
{
	return d >= -TWO_POW_63 && d < TWO_POW_63 && d == (double)(long long)d;
}

/* Reads the score element at p of a validated listpack in the form the
 * sorted set writes (an integer exactly representable as a double, or
 * the raw form of a non-integral or huge double, never NaN). */
static bool lp_score_read(const unsigned char *p, double *out)
{
	struct ap_lp_entry e;
	double d;

	ap_lp_get(p, &e);
	if (e.str == NULL) {
		d = (double)e.ll;
		if (d >= TWO_POW_63 || (long long)d != e.ll)
			return false;
		*out = d;
		return true;
	}
	if (e.len != LP_SCORE_RAW_LEN || (uint8_t)e.str[0] != LP_SCORE_RAW)
		return false;
	memcpy(&d, e.str + 1, sizeof(d));
	if (isnan(d) || score_is_lp_int(d))
		return false;
	*out = d;
	return true;
}

/* Order of (s1, m1) against (s2, m2): score, then member bytes (a shorter
 * prefix first), the sorted set's order. Scores are never NaN. */
static int zelem_cmp(double s1, const char *m1, size_t l1, double s2,
		     const char *m2, size_t l2)
{
	int c;

	if (s1 != s2)
		return s1 < s2 ? -1 : 1;
	c = memcmp(m1, m2, AP_MIN(l1, l2));
	if (c != 0)
		return c;
	return l1 < l2 ? -1 : l1 > l2;
}

/* Checks a zset listpack: well-formed scores, strictly ascending
 * (score, member) pairs, distinct members. */
static bool zset_lp_check(struct rd *r, const unsigned char *lp)
{
	char b1[AP_LP_INTBUF_SIZE], b2[AP_LP_INTBUF_SIZE];
	const char *pm = NULL;
	size_t plen = 0;
	double ps = 0;

	for (unsigned char *p = ap_lp_first(lp); p != NULL;) {
		unsigned char *sp = ap_lp_next(lp, p);
		size_t len;
		/* Alternate buffers: the previous member may live in one. */
		const char *m = ap_lp_get_str(p, &len, pm == b1 ? b2 : b1);
		double s;

		if (!lp_score_read(sp, &s))
			return fail(r, "invalid score");
		if (pm != NULL && zelem_cmp(ps, pm, plen, s, m, len) >= 0)
			return fail(r, "sorted set out of order");
		pm = m;
		plen = len;
		ps = s;
		p = ap_lp_next(lp, sp);
	}
	if (!lp_keys_distinct(lp, 2))
		return fail(r, "duplicate sorted set member");
	return true;
}

/* Builds a skiplist from a checked zset listpack that breaks the limits
 * in force. Members are in order, so each append is O(1). */
static void zset_from_lp(const unsigned char *lp,
			 const struct ap_serial_limits *lim, size_t longest,
			 struct ap_serial_value *v)
{
	struct ap_zset z;
	char buf[AP_LP_INTBUF_SIZE];

	ap_zset_create(&z, lim->zset_lp_max, lim->zset_lp_value,
		       ap_lp_count(lp) / 2, longest);
	for (unsigned char *p = ap_lp_first(lp); p != NULL;) {
		unsigned char *sp = ap_lp_next(lp, p);
		size_t len;
		const char *m = ap_lp_get_str(p, &len, buf);
		double s = 0;
		bool ok = lp_score_read(sp, &s);

		AP_ASSERT(ok);
		ap_zset_append(&z, m, len, s);
		p = ap_lp_next(lp, sp);
	}
	v->obj = z.obj;
	v->enc = z.enc;
}

/* A sorted set from a listpack blob: kept when the limits allow. */
static bool dec_zset_lp(struct rd *r, const struct ap_serial_limits *lim,
			struct ap_serial_value *v)
{
	const unsigned char *lp;
	size_t longest;

	if (!rd_listpack(r, 2, &lp) || !zset_lp_check(r, lp))
		return false;
	longest = lp_longest(lp, 2);
	if (ap_lp_count(lp) / 2 <= lim->zset_lp_max &&
	    longest <= lim->zset_lp_value) {
		v->obj = ap_memdup(lp, ap_lp_bytes(lp));
		v->enc = AP_ENC_LISTPACK;
		return true;
	}
	zset_from_lp(lp, lim, longest, v);
	return true;
}

/* One ELEMS item of a sorted set: checks it follows the previous one
 * (*prev_m NULL for the first) and is new, then appends it. */
static bool zset_elem_add(struct rd *r, struct ap_zset *z, const char **prev_m,
			  size_t *prev_len, double *prev_s)
{
	const char *m;
	size_t len;
	double s, old;

	if (!rd_elem(r, &m, &len))
		return false;
	if (rd_left(r) < SCORE_SIZE)
		return fail(r, "truncated");
	memcpy(&s, r->p, SCORE_SIZE);
	r->p += SCORE_SIZE;
	if (isnan(s))
		return fail(r, "invalid score");
	if (*prev_m != NULL &&
	    zelem_cmp(*prev_s, *prev_m, *prev_len, s, m, len) >= 0)
		return fail(r, "sorted set out of order");
	if (ap_zset_score(z, m, len, &old))
		return fail(r, "duplicate sorted set member");
	ap_zset_append(z, m, len, s);
	*prev_m = m;
	*prev_len = len;
	*prev_s = s;
	return true;
}

/* A sorted set written member by member in order; made a listpack at the
 * end when it fits (as Redis does on load). */
static bool dec_zset_elems(struct rd *r, const struct ap_serial_limits *lim,
			   struct ap_serial_value *v)
{
	struct ap_zset z;
	uint64_t n;
	size_t hint;
	const char *pm = NULL;
	size_t plen = 0;
	double ps = 0;

	if (!rd_hint(r, 1 + SCORE_SIZE, &hint))
		return false;
	ap_zset_create(&z, lim->zset_lp_max, lim->zset_lp_value, hint, 0);
	while (rd_batch(r, 1 + SCORE_SIZE, &n) && n > 0) {
		for (uint64_t i = 0; i < n; i++)
			if (!zset_elem_add(r, &z, &pm, &plen, &ps))
				goto bad;
	}
	if (r->why != NULL)
		goto bad;
	if (pm == NULL) {
		fail(r, "empty collection");
		goto bad;
	}
	ap_zset_finish(&z);
	v->obj = z.obj;
	v->enc = z.enc;
	return true;
bad:
	ap_zset_destroy(&z);
	return false;
}

/* A sorted-set body of either encoding. */
static bool dec_zset(struct rd *r, uint8_t enc,
		     const struct ap_serial_limits *lim,
		     struct ap_serial_value *v)
{
	v->type = AP_TYPE_ZSET;
	if (enc == SE_LISTPACK)
		return dec_zset_lp(r, lim, v);
	if (enc == SE_ELEMS)
		return dec_zset_elems(r, lim, v);
	return fail(r, "unknown sorted set encoding");
}

/* --- decoding ---------------------------------------------------------- */

/* The directives in force, the intset limit clamped as the set type
 * clamps it. */
void ap_serial_limits_of(const struct ap_config *cfg,
			 struct ap_serial_limits *out)
{
	AP_ASSERT(cfg->hash_max_listpack_entries >= 0 &&
		  cfg->hash_max_listpack_value >= 0 &&
		  cfg->zset_max_listpack_entries >= 0 &&
		  cfg->zset_max_listpack_value >= 0);
	out->list_fill = ap_list_opts_of(cfg); /* with list-compress-depth */
	out->hash.entries_max = (size_t)cfg->hash_max_listpack_entries;
	out->hash.value_max = (size_t)cfg->hash_max_listpack_value;
	out->set = ap_set_limits_of(cfg);
	out->zset_lp_max = (size_t)cfg->zset_max_listpack_entries;
	out->zset_lp_value = (size_t)cfg->zset_max_listpack_value;
}

/* Reads the head, dispatches on the type; see serial.h. */
int ap_serial_decode(const void *buf, size_t len,
		     const struct ap_serial_limits *lim,
		     struct ap_serial_value *out, size_t *used,
		     const char **why)
{
	struct rd r = {.p = buf, .end = (const unsigned char *)buf + len};
	uint8_t type, enc;
	bool ok = false;

	memset(out, 0, sizeof(*out));
	if (rd_u8(&r, &type) && rd_u8(&r, &enc)) {
		switch (type) {
		case ST_STRING:
			ok = dec_string(&r, enc, out);
			break;
		case ST_LIST:
			ok = dec_list(&r, enc, lim, out);
			break;
		case ST_SET:
			ok = dec_set(&r, enc, lim, out);
			break;
		case ST_ZSET:
			ok = dec_zset(&r, enc, lim, out);
			break;
		case ST_HASH:
			ok = dec_hash(&r, enc, lim, out);
			break;
		default:
			fail(&r, "unknown value type");
			break;
		}
	}
	if (!ok) {
		AP_ASSERT(r.why != NULL && out->obj == NULL);
		if (why != NULL)
			*why = r.why;
		return -EBADMSG;
	}
	*used = (size_t)(r.p - (const unsigned char *)buf);
	return 0;
}

/* Frees with the type's own free function. */
void ap_serial_value_free(struct ap_serial_value *v)
{
	struct ap_zset z;

	if (v->obj == NULL)
		return;
	switch (v->type) {
	case AP_TYPE_LIST:
		if (v->enc == AP_ENC_LISTPACK)
			ap_lp_free(v->obj);
		else
			ap_list_destroy(v->obj);
		break;
	case AP_TYPE_SET:
		ap_set_free(v->obj, v->enc);
		break;
	case AP_TYPE_HASH:
		ap_hobj_free(v->obj, v->enc);
		break;
	case AP_TYPE_ZSET:
		ap_zset_open(&z, v->obj, v->enc, 0, 0);
		ap_zset_destroy(&z);
		break;
	default:
		AP_ASSERT(!"serial: a string owns no object");
	}
	v->obj = NULL;
}

/* Strings through ap_db_set_int / ap_db_set_string (which pick the
 * encoding), collections through ap_db_set_object. */
struct ap_entry *ap_serial_value_store(struct ap_db *db, const char *key,
				       size_t klen, struct ap_serial_value *v,
				       int64_t expire_ms)
{
	struct ap_entry *e;

	if (v->type == AP_TYPE_STRING) {
		if (v->enc == AP_ENC_INT)
			return ap_db_set_int(db, key, klen, v->ll, expire_ms);
		return ap_db_set_string(db, key, klen, v->str, v->len,
					expire_ms);
	}
	AP_ASSERT(v->obj != NULL);
	e = ap_db_set_object(db, key, klen, v->type, v->enc, v->obj, expire_ms);
	v->obj = NULL;
	return e;
}

/* --- CRC-64 and DUMP payloads ------------------------------------------ */

/* The Jones polynomial 0xad93d23594c935a9, bit-reversed for the
 * reflected (least significant bit first) algorithm. */
#define CRC64_POLY_REV 0x95ac9329ac4bc9b5ULL

/* Slicing-by-8 tables: t[0] is the byte table; t[k][b] is the CRC of byte
 * b followed by k zero bytes. Filled once, then read-only. */
static uint64_t crc64_t[8][256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

/* Fills crc64_t (run once, by pthread_once). */
static void crc64_init(void)
{
	for (unsigned b = 0; b < 256; b++) {
		uint64_t c = b;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ CRC64_POLY_REV : c >> 1;
		crc64_t[0][b] = c;
	}
	for (unsigned b = 0; b < 256; b++)
		for (int k = 1; k < 8; k++)
			crc64_t[k][b] = (crc64_t[k - 1][b] >> 8) ^
					crc64_t[0][crc64_t[k - 1][b] & 0xFF];
}

/* One byte into the running CRC. */
static uint64_t crc64_byte(uint64_t crc, unsigned char c)
{
	return crc64_t[0][(crc ^ c) & 0xFF] ^ (crc >> 8);
}

/* Eight bytes per step through the slicing tables, then byte by byte. */
uint64_t ap_serial_crc64(uint64_t crc, const void *p, size_t len)
{
	const unsigned char *s = p;

	pthread_once(&crc64_once, crc64_init);
	while (len >= 8) {
		uint64_t w;

		memcpy(&w, s, sizeof(w));
		crc ^= w;
		crc = crc64_t[7][crc & 0xFF] ^ crc64_t[6][(crc >> 8) & 0xFF] ^
		      crc64_t[5][(crc >> 16) & 0xFF] ^
		      crc64_t[4][(crc >> 24) & 0xFF] ^
		      crc64_t[3][(crc >> 32) & 0xFF] ^
		      crc64_t[2][(crc >> 40) & 0xFF] ^
		      crc64_t[1][(crc >> 48) & 0xFF] ^ crc64_t[0][crc >> 56];
		s += 8;
		len -= 8;
	}
	while (len-- > 0)
		crc = crc64_byte(crc, *s++);
	return crc;
}

/* Value, then version and CRC-64 of what this call wrote. */
void ap_serial_dump(struct ap_serial_buf *b, const struct ap_entry *e)
{
	size_t start = b->len;
	uint16_t ver = AP_SERIAL_DUMP_VERSION;
	uint64_t crc;

	ap_serial_encode_entry(b, e);
	ap_serial_buf_put(b, &ver, sizeof(ver));
	crc = ap_serial_crc64(0, b->p + start, b->len - start);
	ap_serial_buf_put(b, &crc, sizeof(crc));
}

/* Version first (cheap), then the CRC-64. */
bool ap_serial_dump_check(const void *p, size_t len, size_t *value_len)
{
	const unsigned char *s = p;
	uint16_t ver;
	uint64_t crc;

	if (len < AP_SERIAL_FOOTER_SIZE)
		return false;
	memcpy(&ver, s + len - AP_SERIAL_FOOTER_SIZE, sizeof(ver));
	memcpy(&crc, s + len - sizeof(crc), sizeof(crc));
	if (ver != AP_SERIAL_DUMP_VERSION ||
	    ap_serial_crc64(0, s, len - sizeof(crc)) != crc)
		return false;
	*value_len = len - AP_SERIAL_FOOTER_SIZE;
	return true;
}
