/*
 * listpack.c - the listpack (see listpack.h for the format and contracts).
 *
 * Every mutation goes through lp_resize_at(), which opens or closes a gap
 * at one offset and fixes the header; the callers then write encoded
 * elements into the gap. An element to be written is first described by
 * a struct lp_enc (what it is and how many bytes it takes), so sizes are
 * known before any memory moves.
 */
#include "core/listpack.h"

#include <string.h>

#include "core/base.h"

/* Tags (first byte of an element). */
#define TAG_STR6_MASK  0xC0 /* 10xxxxxx */
#define TAG_STR6       0x80
#define TAG_INT13_MASK 0xE0 /* 110xxxxx */
#define TAG_INT13      0xC0
#define TAG_STR12_MASK 0xF0 /* 1110xxxx */
#define TAG_STR12      0xE0
#define TAG_STR32      0xF0
#define TAG_INT16      0xF1
#define TAG_INT24      0xF2
#define TAG_INT32      0xF3
#define TAG_INT64      0xF4

#define STR6_MAX  63
#define STR12_MAX 4095
/* Longest canonical decimal int64 ("-9223372036854775808"). */
#define INT_TEXT_MAX 20

_Static_assert(AP_LISTPACK_BYTES_MAX < UINT32_MAX,
	       "listpack totals and string lengths are 32-bit fields");

/* An element about to be written: an integer or a string, and its sizes. */
struct lp_enc {
	bool is_int;
	int64_t v;
	const char *s;
	size_t len;
	size_t body; /* tag + data bytes */
	size_t size; /* body + back-length bytes */
};

/* Reads / writes a little-endian u32 (header fields, string lengths). */
static uint32_t rd_u32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void wr_u32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Reads n (1..8) little-endian bytes at p as an unsigned value. */
static uint64_t rd_le(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Writes the low n bytes of v at p, little endian. */
static void wr_le(unsigned char *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Sign-extends the low `bits` bits of v. */
static int64_t sign_extend(uint64_t v, unsigned bits)
{
	uint64_t m = 1ULL << (bits - 1);
	v &= (bits == 64) ? ~0ULL : ((1ULL << bits) - 1);
	return (int64_t)((v ^ m) - m);
}

/* Header fields: total bytes and element count. */
static void set_total(unsigned char *lp, size_t n)
{
	wr_u32(lp, (uint32_t)n);
}

static void set_count(unsigned char *lp, uint32_t n)
{
	wr_u32(lp + 4, n);
}

/*
 * Parses s as a canonical decimal int64: optional '-', no leading zeros
 * (except "0" itself), no "-0", no sign '+', no spaces, no overflow.
 * Returns true and stores the value in *out when it is one.
 */
static bool canonical_int(const char *s, size_t len, int64_t *out)
{
	if (len == 0 || len > INT_TEXT_MAX)
		return false;
	size_t i = 0;
	bool neg = s[0] == '-';
	if (neg && ++i == len)
		return false;
	if (s[i] == '0')
		return len == 1 && (*out = 0, true);
	uint64_t v = 0;
	uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';
		if (d > 9 || v > (lim - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

/* Bytes the back-length of an element body of `body` bytes takes. */
static size_t backlen_size(size_t body)
{
	size_t n = 1;
	while (body >= 128) {
		body >>= 7;
		n++;
	}
	return n;
}

/* Writes the back-length of `body` at p (backlen_size(body) bytes): the
 * leftmost byte holds the most significant group without the high bit,
 * every byte to its right has the high bit set ("more to the left"). */
static void backlen_write(unsigned char *p, size_t body)
{
	size_t k = backlen_size(body);
	for (size_t i = 0; i < k; i++) {
		unsigned char g =
			(unsigned char)((body >> (7 * (k - 1 - i))) & 127);
		p[i] = (unsigned char)(g | (i > 0 ? 128 : 0));
	}
}

/* Reads a back-length whose last byte is at q (walking left); stops at
 * `floor` (not read) and returns 0 when it would cross it or when the
 * value is longer than 5 groups. */
static size_t backlen_read(const unsigned char *q, const unsigned char *floor)
{
	size_t v = 0;
	for (unsigned shift = 0; shift < 35; shift += 7) {
		if (q <= floor)
			return 0;
		v |= (size_t)(*q & 127) << shift;
		if (!(*q & 128))
			return v;
		q--;
	}
	return 0;
}

/* Body size (tag + data) of an integer in its smallest encoding. */
static size_t int_body(int64_t v)
{
	if (v >= 0 && v <= 127)
		return 1;
	if (v >= -4096 && v <= 4095)
		return 2;
	if (v >= INT16_MIN && v <= INT16_MAX)
		return 3;
	if (v >= -(1 << 23) && v < (1 << 23))
		return 4;
	if (v >= INT32_MIN && v <= INT32_MAX)
		return 5;
	return 9;
}

/* Body size of a string (not a canonical integer) of len bytes. */
static size_t str_body(size_t len)
{
	if (len <= STR6_MAX)
		return 1 + len;
	if (len <= STR12_MAX)
		return 2 + len;
	return 5 + len;
}

/* Describes an integer element. */
static void enc_int(struct lp_enc *e, int64_t v)
{
	e->is_int = true;
	e->v = v;
	e->s = NULL;
	e->len = 0;
	e->body = int_body(v);
	e->size = e->body + backlen_size(e->body);
}

/* Describes the element holding s: an integer when s is canonical. */
static void enc_str(struct lp_enc *e, const char *s, size_t len)
{
	int64_t v;
	if (len <= INT_TEXT_MAX && canonical_int(s, len, &v)) {
		enc_int(e, v);
		return;
	}
	e->is_int = false;
	e->v = 0;
	e->s = s;
	e->len = len;
	e->body = str_body(len);
	e->size = e->body + backlen_size(e->body);
}

/* Writes the integer v (body bytes, from int_body) at p. */
static void write_int(unsigned char *p, int64_t v, size_t body)
{
	uint64_t u = (uint64_t)v;
	switch (body) {
	case 1:
		p[0] = (unsigned char)v;
		break;
	case 2:
		p[0] = (unsigned char)(TAG_INT13 | ((u >> 8) & 0x1F));
		p[1] = (unsigned char)u;
		break;
	case 3:
		p[0] = TAG_INT16;
		wr_le(p + 1, u, 2);
		break;
	case 4:
		p[0] = TAG_INT24;
		wr_le(p + 1, u, 3);
		break;
	case 5:
		p[0] = TAG_INT32;
		wr_le(p + 1, u, 4);
		break;
	default:
		AP_ASSERT(body == 9);
		p[0] = TAG_INT64;
		wr_le(p + 1, u, 8);
		break;
	}
}

/* Writes the element e at p (e->size bytes). */
static void enc_write(unsigned char *p, const struct lp_enc *e)
{
	if (e->is_int) {
		write_int(p, e->v, e->body);
	} else if (e->len <= STR6_MAX) {
		p[0] = (unsigned char)(TAG_STR6 | e->len);
		memcpy(p + 1, e->s, e->len);
	} else if (e->len <= STR12_MAX) {
		p[0] = (unsigned char)(TAG_STR12 | (e->len >> 8));
		p[1] = (unsigned char)e->len;
		memcpy(p + 2, e->s, e->len);
	} else {
		p[0] = TAG_STR32;
		wr_u32(p + 1, (uint32_t)e->len);
		memcpy(p + 5, e->s, e->len);
	}
	backlen_write(p + e->body, e->body);
}

/* Body size (tag + data) of the trusted element at p. */
static size_t body_at(const unsigned char *p)
{
	unsigned char t = p[0];
	if (t < 0x80)
		return 1;
	if ((t & TAG_STR6_MASK) == TAG_STR6)
		return 1 + (t & 0x3F);
	if ((t & TAG_INT13_MASK) == TAG_INT13)
		return 2;
	if ((t & TAG_STR12_MASK) == TAG_STR12)
		return 2 + (((size_t)(t & 0x0F) << 8) | p[1]);
	switch (t) {
	case TAG_STR32:
		return 5 + (size_t)rd_u32(p + 1);
	case TAG_INT16:
		return 3;
	case TAG_INT24:
		return 4;
	case TAG_INT32:
		return 5;
	case TAG_INT64:
		return 9;
	}
	AP_ASSERT(!"listpack: bad element tag");
	return 0;
}

/* Full size (body + back-length) of the trusted element at p. */
static size_t size_at(const unsigned char *p)
{
	size_t b = body_at(p);
	return b + backlen_size(b);
}

unsigned char *ap_lp_create(size_t capacity)
{
	AP_ASSERT(capacity <= AP_LISTPACK_BYTES_MAX);
	unsigned char *lp = ap_malloc(AP_LP_HDR_SIZE + 1 + capacity);
	set_total(lp, AP_LP_HDR_SIZE + 1);
	set_count(lp, 0);
	lp[AP_LP_HDR_SIZE] = AP_LP_END;
	return lp;
}

void ap_lp_free(unsigned char *lp)
{
	ap_free(lp);
}

unsigned char *ap_lp_dup(const unsigned char *lp)
{
	return ap_memdup(lp, ap_lp_bytes(lp));
}

size_t ap_lp_bytes(const unsigned char *lp)
{
	return rd_u32(lp);
}

size_t ap_lp_alloc_size(const unsigned char *lp)
{
	return ap_alloc_size(lp);
}

uint32_t ap_lp_count(const unsigned char *lp)
{
	return rd_u32(lp + 4);
}

unsigned char *ap_lp_shrink(unsigned char *lp)
{
	return ap_realloc(lp, ap_lp_bytes(lp));
}

unsigned char *ap_lp_first(const unsigned char *lp)
{
	const unsigned char *p = lp + AP_LP_HDR_SIZE;
	return *p == AP_LP_END ? NULL : (unsigned char *)p;
}

unsigned char *ap_lp_last(const unsigned char *lp)
{
	const unsigned char *end = lp + ap_lp_bytes(lp) - 1;
	return ap_lp_prev(lp, end);
}

unsigned char *ap_lp_next(const unsigned char *lp, const unsigned char *p)
{
	(void)lp;
	AP_ASSERT(p != NULL && *p != AP_LP_END);
	p += size_at(p);
	return *p == AP_LP_END ? NULL : (unsigned char *)p;
}

unsigned char *ap_lp_prev(const unsigned char *lp, const unsigned char *p)
{
	const unsigned char *first = lp + AP_LP_HDR_SIZE;
	if (p == first)
		return NULL;
	AP_ASSERT(p > first);
	size_t body = backlen_read(p - 1, lp + AP_LP_HDR_SIZE - 1);
	AP_ASSERT(body > 0);
	return (unsigned char *)(p - backlen_size(body) - body);
}

unsigned char *ap_lp_seek(const unsigned char *lp, long long index)
{
	long long n = ap_lp_count(lp);
	if (index < 0)
		index += n;
	if (index < 0 || index >= n)
		return NULL;
	unsigned char *p;
	if (index <= n / 2) {
		p = ap_lp_first(lp);
		while (index-- > 0)
			p = ap_lp_next(lp, p);
	} else {
		p = ap_lp_last(lp);
		for (long long i = n - 1; i > index; i--)
			p = ap_lp_prev(lp, p);
	}
	return p;
}

void ap_lp_get(const unsigned char *p, struct ap_lp_entry *e)
{
	unsigned char t = p[0];
	e->str = NULL;
	e->len = 0;
	if (t < 0x80) {
		e->ll = t;
	} else if ((t & TAG_STR6_MASK) == TAG_STR6) {
		e->str = (const char *)p + 1;
		e->len = t & 0x3F;
	} else if ((t & TAG_INT13_MASK) == TAG_INT13) {
		e->ll = sign_extend(((uint64_t)(t & 0x1F) << 8) | p[1], 13);
	} else if ((t & TAG_STR12_MASK) == TAG_STR12) {
		e->str = (const char *)p + 2;
		e->len = ((size_t)(t & 0x0F) << 8) | p[1];
	} else if (t == TAG_STR32) {
		e->str = (const char *)p + 5;
		e->len = rd_u32(p + 1);
	} else if (t == TAG_INT16) {
		e->ll = sign_extend(rd_le(p + 1, 2), 16);
	} else if (t == TAG_INT24) {
		e->ll = sign_extend(rd_le(p + 1, 3), 24);
	} else if (t == TAG_INT32) {
		e->ll = sign_extend(rd_le(p + 1, 4), 32);
	} else {
		AP_ASSERT(t == TAG_INT64);
		e->ll = (int64_t)rd_le(p + 1, 8);
	}
}

const char *ap_lp_get_str(const unsigned char *p, size_t *len,
			  char buf[AP_LP_INTBUF_SIZE])
{
	struct ap_lp_entry e;
	ap_lp_get(p, &e);
	if (e.str) {
		*len = e.len;
		return e.str;
	}
	*len = ap_ll_to_str(buf, e.ll);
	return buf;
}

bool ap_lp_get_int(const unsigned char *p, int64_t *out)
{
	struct ap_lp_entry e;
	ap_lp_get(p, &e);
	if (e.str)
		return false;
	*out = e.ll;
	return true;
}

bool ap_lp_eq(const unsigned char *p, const char *s, size_t len)
{
	struct ap_lp_entry e;
	ap_lp_get(p, &e);
	if (e.str)
		return e.len == len && memcmp(e.str, s, len) == 0;
	int64_t v;
	return canonical_int(s, len, &v) && v == e.ll;
}

/* True when the element at p matches the classified search key. */
static bool matches(const unsigned char *p, bool key_int, int64_t kv,
		    const char *s, size_t len)
{
	unsigned char t = p[0];
	bool is_str = (t & TAG_STR6_MASK) == TAG_STR6 ||
		      (t & TAG_STR12_MASK) == TAG_STR12 || t == TAG_STR32;
	if (is_str == key_int)
		return false;
	struct ap_lp_entry e;
	ap_lp_get(p, &e);
	if (key_int)
		return e.ll == kv;
	return e.len == len && memcmp(e.str, s, len) == 0;
}

unsigned char *ap_lp_find(const unsigned char *lp, const unsigned char *p,
			  const char *s, size_t len, uint32_t skip)
{
	int64_t kv = 0;
	bool key_int = canonical_int(s, len, &kv);
	while (p) {
		if (matches(p, key_int, kv, s, len))
			return (unsigned char *)p;
		p = ap_lp_next(lp, p);
		for (uint32_t i = 0; i < skip && p; i++)
			p = ap_lp_next(lp, p);
	}
	return NULL;
}

size_t ap_lp_entry_size(const char *s, size_t len)
{
	struct lp_enc e;
	enc_str(&e, s, len);
	return e.size;
}

bool ap_lp_can_add(const unsigned char *lp, size_t len)
{
	if (len > AP_LISTPACK_BYTES_MAX)
		return false;
	size_t worst = 5 + len + 5;
	return ap_lp_bytes(lp) + worst <= AP_LISTPACK_BYTES_MAX;
}

/*
 * Replaces del bytes at offset off with a gap of add bytes (contents
 * undefined) and adjusts the header by count_delta elements. Returns the
 * listpack's new address; the gap starts at new + off.
 */
static unsigned char *lp_resize_at(unsigned char *lp, size_t off, size_t del,
				   size_t add, int64_t count_delta)
{
	size_t total = ap_lp_bytes(lp);
	AP_ASSERT(off >= AP_LP_HDR_SIZE && off + del < total);
	size_t ntotal = total - del + add;
	AP_ASSERT(ntotal <= AP_LISTPACK_BYTES_MAX);
	size_t tail = total - off - del;
	if (add > del) {
		lp = ap_realloc(lp, ntotal);
		memmove(lp + off + add, lp + off + del, tail);
	} else if (add < del) {
		memmove(lp + off + add, lp + off + del, tail);
		lp = ap_realloc(lp, ntotal);
	}
	set_total(lp, ntotal);
	int64_t count = (int64_t)ap_lp_count(lp) + count_delta;
	AP_ASSERT(count >= 0 && count <= UINT32_MAX);
	set_count(lp, (uint32_t)count);
	return lp;
}

/* Inserts e at byte offset off (an element start or the end byte). */
static unsigned char *lp_insert_enc(unsigned char *lp, size_t off,
				    const struct lp_enc *e)
{
	lp = lp_resize_at(lp, off, 0, e->size, 1);
	enc_write(lp + off, e);
	return lp;
}

unsigned char *ap_lp_append(unsigned char *lp, const char *s, size_t len)
{
	struct lp_enc e;
	enc_str(&e, s, len);
	return lp_insert_enc(lp, ap_lp_bytes(lp) - 1, &e);
}

unsigned char *ap_lp_prepend(unsigned char *lp, const char *s, size_t len)
{
	struct lp_enc e;
	enc_str(&e, s, len);
	return lp_insert_enc(lp, AP_LP_HDR_SIZE, &e);
}

unsigned char *ap_lp_append_int(unsigned char *lp, int64_t v)
{
	struct lp_enc e;
	enc_int(&e, v);
	return lp_insert_enc(lp, ap_lp_bytes(lp) - 1, &e);
}

unsigned char *ap_lp_prepend_int(unsigned char *lp, int64_t v)
{
	struct lp_enc e;
	enc_int(&e, v);
	return lp_insert_enc(lp, AP_LP_HDR_SIZE, &e);
}

unsigned char *ap_lp_append_many(unsigned char *lp, const char *const *strs,
				 const size_t *lens, size_t n)
{
	struct lp_enc e;
	size_t add = 0;
	for (size_t i = 0; i < n; i++) {
		enc_str(&e, strs[i], lens[i]);
		add += e.size;
		AP_ASSERT(add <= AP_LISTPACK_BYTES_MAX);
	}
	size_t off = ap_lp_bytes(lp) - 1;
	AP_ASSERT(n <= UINT32_MAX);
	lp = lp_resize_at(lp, off, 0, add, (int64_t)n);
	for (size_t i = 0; i < n; i++) {
		enc_str(&e, strs[i], lens[i]);
		enc_write(lp + off, &e);
		off += e.size;
	}
	return lp;
}

unsigned char *ap_lp_insert(unsigned char *lp, unsigned char **p,
			    enum ap_lp_where where, const char *s, size_t len)
{
	AP_ASSERT(*p != NULL && **p != AP_LP_END);
	struct lp_enc e;
	enc_str(&e, s, len);
	size_t off = (size_t)(*p - lp);
	if (where == AP_LP_AFTER)
		off += size_at(*p);
	lp = lp_insert_enc(lp, off, &e);
	*p = lp + off;
	return lp;
}

/* Replaces the element at *p with e; *p becomes the replacement. */
static unsigned char *lp_replace_enc(unsigned char *lp, unsigned char **p,
				     const struct lp_enc *e)
{
	AP_ASSERT(*p != NULL && **p != AP_LP_END);
	size_t off = (size_t)(*p - lp);
	lp = lp_resize_at(lp, off, size_at(*p), e->size, 0);
	enc_write(lp + off, e);
	*p = lp + off;
	return lp;
}

unsigned char *ap_lp_replace(unsigned char *lp, unsigned char **p,
			     const char *s, size_t len)
{
	struct lp_enc e;
	enc_str(&e, s, len);
	return lp_replace_enc(lp, p, &e);
}

unsigned char *ap_lp_replace_int(unsigned char *lp, unsigned char **p,
				 int64_t v)
{
	struct lp_enc e;
	enc_int(&e, v);
	return lp_replace_enc(lp, p, &e);
}

unsigned char *ap_lp_delete(unsigned char *lp, unsigned char **p)
{
	return ap_lp_delete_range_at(lp, p, 1);
}

unsigned char *ap_lp_delete_range_at(unsigned char *lp, unsigned char **p,
				     size_t count)
{
	AP_ASSERT(*p != NULL && **p != AP_LP_END);
	size_t off = (size_t)(*p - lp);
	const unsigned char *q = *p;
	size_t n = 0;
	while (n < count && *q != AP_LP_END) {
		q += size_at(q);
		n++;
	}
	lp = lp_resize_at(lp, off, (size_t)(q - *p), 0, -(int64_t)n);
	*p = lp[off] == AP_LP_END ? NULL : lp + off;
	return lp;
}

unsigned char *ap_lp_delete_range(unsigned char *lp, long long index,
				  size_t count)
{
	unsigned char *p = ap_lp_seek(lp, index);
	if (!p || count == 0)
		return lp;
	return ap_lp_delete_range_at(lp, &p, count);
}

unsigned char *ap_lp_merge(unsigned char *dst, const unsigned char *src)
{
	size_t add = ap_lp_bytes(src) - AP_LP_HDR_SIZE - 1;
	if (add == 0)
		return dst;
	size_t off = ap_lp_bytes(dst) - 1;
	dst = lp_resize_at(dst, off, 0, add, ap_lp_count(src));
	memcpy(dst + off, src + AP_LP_HDR_SIZE, add);
	return dst;
}

/*
 * Validates the element at p, which must end before `end` (the end byte's
 * address): tag, sizes, canonical width and back-length. Returns the
 * element's full size, or 0 when it is malformed.
 */
static size_t validate_elem(const unsigned char *p, const unsigned char *end)
{
	size_t avail = (size_t)(end - p);
	unsigned char t = p[0];
	size_t body;
	struct ap_lp_entry e;
	if ((t & TAG_STR12_MASK) == TAG_STR12 && avail < 2)
		return 0;
	if (t == TAG_STR32 && avail < 5)
		return 0;
	if (t >= 0xF5)
		return 0;
	body = body_at(p);
	if (body > avail)
		return 0;
	ap_lp_get(p, &e);
	if (e.str) {
		int64_t v;
		if (str_body(e.len) != body || canonical_int(e.str, e.len, &v))
			return 0;
	} else if (int_body(e.ll) != body) {
		return 0;
	}
	size_t bl = backlen_size(body);
	if (bl > avail - body)
		return 0;
	const unsigned char *q = p + body + bl - 1;
	if (backlen_read(q, p + body - 1) != body)
		return 0;
	/* Reject overlong forms: the bytes must be exactly what we write. */
	unsigned char want[8];
	backlen_write(want, body);
	if (memcmp(want, p + body, bl) != 0)
		return 0;
	return body + bl;
}

bool ap_lp_validate(const unsigned char *buf, size_t size)
{
	if (size < AP_LP_HDR_SIZE + 1 || size > AP_LISTPACK_BYTES_MAX)
		return false;
	if (rd_u32(buf) != size || buf[size - 1] != AP_LP_END)
		return false;
	const unsigned char *end = buf + size - 1;
	const unsigned char *p = buf + AP_LP_HDR_SIZE;
	uint64_t n = 0;
	while (p < end) {
		size_t sz = validate_elem(p, end);
		if (sz == 0)
			return false;
		p += sz;
		n++;
	}
	return p == end && n == rd_u32(buf + 4);
}
