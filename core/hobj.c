/*
 * hobj.c - the hash object of core/hobj.h: a listpack of field, value
 * pairs while small, an intrusive dict of one-allocation nodes beyond.
 *
 * Hashtable node (one ap_malloc block):
 *
 *   dict link (8) | field length u32 | value length u32 | field | value
 *
 * The value sits after the field, so a new value is written in place
 * while it fits the block's usable size (the allocator's size class gives
 * some slack for free) and does not leave too much of it unused; else a
 * new node replaces the old one in its chain (ap_dict_replace_node) and
 * the old one is freed. Lengths are 32 bits: proto-max-bulk-len is below
 * 2 GiB (core/limits.h).
 *
 * Random sampling (HRANDFIELD) follows the shapes Redis uses: repetitions
 * are drawn independently; distinct samples use selection sampling over
 * one walk where that is O(n) anyway (listpacks, and counts above a third
 * of a hashtable), else random draws deduplicated through a small open-
 * addressing set of node pointers.
 */
#include "core/hobj.h"

#include <string.h>

/* A hashtable element: see the file comment. */
struct hnode {
	struct ap_dict_node link;
	uint32_t flen;
	uint32_t vlen;
	char data[];
};
#define HNODE_HDR_SIZE offsetof(struct hnode, data)
_Static_assert(offsetof(struct hnode, data) == 16, "hash nodes: 16B header");

/* A rewritten value stays in place unless more than this many bytes, on
 * top of its own length, would be left unused in the block. */
#define HNODE_SLACK_MAX 64
/* Listpack fields whose positions fit on the stack for sampling. */
#define LP_POS_STACK 256
/* The distinct-sampling pointer set never starts smaller than this. */
#define PTRSET_MIN 16

/* --- hashtable nodes ------------------------------------------------- */

/* The node embedding dict link n. */
static struct hnode *node_of(const struct ap_dict_node *n)
{
	return (struct hnode *)(void *)((char *)(uintptr_t)n -
					offsetof(struct hnode, link));
}

/* Dict key callback: the field bytes of a node. */
static const char *hnode_key(const struct ap_dict_node *n, size_t *len)
{
	const struct hnode *hn = node_of(n);

	*len = hn->flen;
	return hn->data;
}

static const struct ap_dict_type hash_dict_type = {.key = hnode_key};

/* Bytes a node holding flen + vlen bytes of data needs. */
static size_t hnode_size(size_t flen, size_t vlen)
{
	AP_ASSERT(flen <= UINT32_MAX && vlen <= UINT32_MAX);
	return HNODE_HDR_SIZE + flen + vlen;
}

/* A new, unlinked node holding field f and value v; the caller owns it. */
static struct hnode *hnode_create(const char *f, size_t flen, const char *v,
				  size_t vlen)
{
	struct hnode *hn = ap_malloc(hnode_size(flen, vlen));

	hn->link.next = NULL;
	hn->flen = (uint32_t)flen;
	hn->vlen = (uint32_t)vlen;
	memcpy(hn->data, f, flen);
	if (vlen > 0)
		memcpy(hn->data + flen, v, vlen);
	return hn;
}

/* Dict free callback: releases an unlinked node. */
static void hnode_free(void *arg, struct ap_dict_node *n)
{
	(void)arg;
	ap_free(node_of(n));
}

/* Fills a pair from a node (pointers into the node). */
static void hnode_pair(const struct hnode *hn, struct ap_hobj_pair *p)
{
	p->f = hn->data;
	p->flen = hn->flen;
	p->v = hn->data + hn->flen;
	p->vlen = hn->vlen;
}

/*
 * Sets the value of node hn, linked in d, to v: in place while it fits
 * the block without wasting more than its length plus HNODE_SLACK_MAX,
 * else through a new node that replaces hn in the dict (hn is freed).
 */
static void hnode_set_value(struct ap_dict *d, struct hnode *hn, const char *v,
			    size_t vlen)
{
	size_t cap = ap_alloc_size(hn) - HNODE_HDR_SIZE - hn->flen;

	if (vlen <= cap && cap - vlen <= vlen + HNODE_SLACK_MAX) {
		AP_ASSERT(vlen <= UINT32_MAX);
		memmove(hn->data + hn->flen, v, vlen);
		hn->vlen = (uint32_t)vlen;
		return;
	}
	struct hnode *nn = hnode_create(hn->data, hn->flen, v, vlen);
	ap_dict_replace_node(d, &hn->link, &nn->link);
	ap_free(hn);
}

/* The node of field f in d, or NULL. */
static struct hnode *dict_find(struct ap_dict *d, const char *f, size_t flen)
{
	struct ap_dict_node *n = ap_dict_find(d, f, flen);

	return n != NULL ? node_of(n) : NULL;
}

/* --- listpack helpers ------------------------------------------------ */

/* Position of field f in the listpack (fields are at even indexes), or
 * NULL. */
static unsigned char *lp_find_field(const unsigned char *lp, const char *f,
				    size_t flen)
{
	return ap_lp_find(lp, ap_lp_first(lp), f, flen, 1);
}

/* Fills a pair from the field at position p of lp; integers are
 * formatted into fbuf / vbuf. Returns the position after the pair. */
static unsigned char *lp_pair(const unsigned char *lp, unsigned char *p,
			      struct ap_hobj_pair *pr, char *fbuf, char *vbuf)
{
	unsigned char *vp = ap_lp_next(lp, p);

	AP_ASSERT(vp != NULL);
	pr->f = ap_lp_get_str(p, &pr->flen, fbuf);
	pr->v = ap_lp_get_str(vp, &pr->vlen, vbuf);
	return ap_lp_next(lp, vp);
}

/* Fields in a listpack-encoded hash. */
static size_t lp_len(const unsigned char *lp)
{
	uint32_t n = ap_lp_count(lp);

	AP_ASSERT(n % 2 == 0);
	return n / 2;
}

/* True if field f and value v may live in listpack lp under lim. */
static bool lp_fits(const unsigned char *lp, size_t flen, size_t vlen,
		    const struct ap_hobj_limits *lim)
{
	/* ap_lp_can_add covers one element's worst case: ask for both. */
	return flen <= lim->value_max && vlen <= lim->value_max &&
	       ap_lp_can_add(lp, flen + vlen + 10);
}

/* --- lifecycle ------------------------------------------------------- */

void ap_hobj_init(struct ap_hobj *h)
{
	h->ptr = ap_lp_create(0);
	h->enc = AP_ENC_LISTPACK;
}

void ap_hobj_free(void *obj, enum ap_enc enc)
{
	if (enc == AP_ENC_LISTPACK) {
		ap_lp_free(obj);
		return;
	}
	AP_ASSERT(enc == AP_ENC_HASHTABLE);
	ap_dict_destroy(obj, hnode_free, NULL);
}

bool ap_hobj_free_some(void *obj, enum ap_enc enc, size_t budget)
{
	if (enc == AP_ENC_LISTPACK) {
		ap_lp_free(obj);
		return true;
	}
	AP_ASSERT(enc == AP_ENC_HASHTABLE);
	if (!ap_dict_clear_some(obj, budget, hnode_free, NULL))
		return false;
	ap_dict_destroy(obj, NULL, NULL);
	return true;
}

/* A copy of a hashtable-encoded hash: every node duplicated. */
static struct ap_dict *dict_dup(struct ap_dict *src)
{
	struct ap_dict *d = ap_dict_create(&hash_dict_type);
	struct ap_dict_iter it;
	struct ap_dict_node *n;

	ap_dict_reserve(d, ap_dict_size(src));
	ap_dict_iter_init(&it, src);
	while ((n = ap_dict_iter_next(&it)) != NULL) {
		const struct hnode *hn = node_of(n);
		struct hnode *copy =
			ap_memdup(hn, hnode_size(hn->flen, hn->vlen));

		copy->link.next = NULL;
		ap_dict_insert(d, &copy->link);
	}
	ap_dict_iter_deinit(&it);
	AP_ASSERT(ap_dict_size(d) == ap_dict_size(src));
	return d;
}

void *ap_hobj_dup(const void *obj, enum ap_enc enc)
{
	if (enc == AP_ENC_LISTPACK)
		return ap_lp_dup(obj);
	AP_ASSERT(enc == AP_ENC_HASHTABLE);
	/* The walk pauses rehashing (a counter in the dict) and restores it:
	 * the source is logically unchanged. */
	return dict_dup((struct ap_dict *)(uintptr_t)obj);
}

size_t ap_hobj_len_of(const void *obj, enum ap_enc enc)
{
	if (enc == AP_ENC_LISTPACK)
		return lp_len(obj);
	AP_ASSERT(enc == AP_ENC_HASHTABLE);
	return ap_dict_size(obj);
}

size_t ap_hobj_mem(const void *obj, enum ap_enc enc)
{
	if (enc == AP_ENC_LISTPACK)
		return ap_lp_alloc_size(obj);
	AP_ASSERT(enc == AP_ENC_HASHTABLE);

	struct ap_dict *d = (struct ap_dict *)(uintptr_t)obj;
	size_t total = ap_dict_size(d);
	size_t nodes = 0;
	size_t seen = 0;
	struct ap_dict_iter it;
	struct ap_dict_node *n;

	ap_dict_iter_init(&it, d);
	while (seen < AP_HOBJ_MEM_SAMPLES &&
	       (n = ap_dict_iter_next(&it)) != NULL) {
		nodes += ap_alloc_size(node_of(n));
		seen++;
	}
	ap_dict_iter_deinit(&it);
	if (seen > 0 && seen < total)
		nodes = nodes / seen * total;
	return ap_alloc_size(d) + ap_dict_mem(d) + nodes;
}

void ap_hobj_convert(struct ap_hobj *h)
{
	if (h->enc == AP_ENC_HASHTABLE)
		return;
	AP_ASSERT(h->enc == AP_ENC_LISTPACK);

	unsigned char *lp = h->ptr;
	struct ap_dict *d = ap_dict_create(&hash_dict_type);
	char fbuf[AP_HOBJ_BUF_SIZE], vbuf[AP_HOBJ_BUF_SIZE];
	struct ap_hobj_pair pr;

	ap_dict_reserve(d, lp_len(lp));
	for (unsigned char *p = ap_lp_first(lp); p != NULL;) {
		p = lp_pair(lp, p, &pr, fbuf, vbuf);
		struct hnode *hn = hnode_create(pr.f, pr.flen, pr.v, pr.vlen);
		ap_dict_insert(d, &hn->link);
	}
	AP_ASSERT(ap_dict_size(d) == lp_len(lp));
	ap_lp_free(lp);
	h->ptr = d;
	h->enc = AP_ENC_HASHTABLE;
}

/* --- access ---------------------------------------------------------- */

const char *ap_hobj_get(struct ap_hobj *h, const char *f, size_t flen,
			size_t *vlen, char buf[AP_HOBJ_BUF_SIZE])
{
	if (h->enc == AP_ENC_LISTPACK) {
		unsigned char *lp = h->ptr;
		unsigned char *p = lp_find_field(lp, f, flen);

		if (p == NULL)
			return NULL;
		p = ap_lp_next(lp, p);
		AP_ASSERT(p != NULL);
		return ap_lp_get_str(p, vlen, buf);
	}
	AP_ASSERT(h->enc == AP_ENC_HASHTABLE);
	struct hnode *hn = dict_find(h->ptr, f, flen);
	if (hn == NULL)
		return NULL;
	*vlen = hn->vlen;
	return hn->data + hn->flen;
}

bool ap_hobj_exists(struct ap_hobj *h, const char *f, size_t flen)
{
	if (h->enc == AP_ENC_LISTPACK)
		return lp_find_field(h->ptr, f, flen) != NULL;
	AP_ASSERT(h->enc == AP_ENC_HASHTABLE);
	return dict_find(h->ptr, f, flen) != NULL;
}

size_t ap_hobj_strlen(struct ap_hobj *h, const char *f, size_t flen)
{
	char buf[AP_HOBJ_BUF_SIZE];
	size_t vlen = 0;

	return ap_hobj_get(h, f, flen, &vlen, buf) != NULL ? vlen : 0;
}

/* Sets a field of a listpack-encoded hash that can hold it; returns true
 * if the field was inserted. */
static bool lp_set(struct ap_hobj *h, const char *f, size_t flen, const char *v,
		   size_t vlen)
{
	unsigned char *lp = h->ptr;
	unsigned char *p = lp_find_field(lp, f, flen);

	if (p != NULL) {
		unsigned char *vp = ap_lp_next(lp, p);

		AP_ASSERT(vp != NULL);
		h->ptr = ap_lp_replace(lp, &vp, v, vlen);
		return false;
	}
	const char *strs[2] = {f, v};
	size_t lens[2] = {flen, vlen};
	h->ptr = ap_lp_append_many(lp, strs, lens, 2);
	return true;
}

/* Sets a field of a hashtable-encoded hash; returns true if inserted. */
static bool dict_set(struct ap_hobj *h, const char *f, size_t flen,
		     const char *v, size_t vlen)
{
	struct ap_dict *d = h->ptr;
	uint64_t hash = ap_dict_hash(f, flen);
	struct ap_dict_node *n = ap_dict_find_hashed(d, f, flen, hash);

	if (n != NULL) {
		hnode_set_value(d, node_of(n), v, vlen);
		return false;
	}
	struct hnode *hn = hnode_create(f, flen, v, vlen);
	ap_dict_insert_hashed(d, &hn->link, hash);
	return true;
}

bool ap_hobj_set(struct ap_hobj *h, const char *f, size_t flen, const char *v,
		 size_t vlen, const struct ap_hobj_limits *lim)
{
	if (h->enc == AP_ENC_LISTPACK && !lp_fits(h->ptr, flen, vlen, lim))
		ap_hobj_convert(h);
	if (h->enc == AP_ENC_HASHTABLE)
		return dict_set(h, f, flen, v, vlen);
	AP_ASSERT(h->enc == AP_ENC_LISTPACK);
	bool inserted = lp_set(h, f, flen, v, vlen);
	if (inserted && lp_len(h->ptr) > lim->entries_max)
		ap_hobj_convert(h);
	return inserted;
}

bool ap_hobj_delete(struct ap_hobj *h, const char *f, size_t flen)
{
	if (h->enc == AP_ENC_LISTPACK) {
		unsigned char *lp = h->ptr;
		unsigned char *p = lp_find_field(lp, f, flen);

		if (p == NULL)
			return false;
		h->ptr = ap_lp_delete_range_at(lp, &p, 2);
		return true;
	}
	AP_ASSERT(h->enc == AP_ENC_HASHTABLE);
	struct ap_dict_node *n = ap_dict_remove(h->ptr, f, flen);
	if (n == NULL)
		return false;
	hnode_free(NULL, n);
	return true;
}

/*
 * Reads the listpack value at vp as an integer: listpack integers
 * directly, strings through the strict parser (a canonical integer is
 * never stored as a string, but a defensive parse costs nothing).
 */
static bool lp_value_ll(const unsigned char *vp, long long *out)
{
	int64_t v;
	struct ap_lp_entry e;

	if (ap_lp_get_int(vp, &v)) {
		*out = v;
		return true;
	}
	ap_lp_get(vp, &e);
	return ap_str_to_ll(e.str, e.len, out);
}

enum ap_hobj_incr ap_hobj_incr_ll(struct ap_hobj *h, const char *f, size_t flen,
				  long long incr,
				  const struct ap_hobj_limits *lim,
				  long long *out)
{
	char buf[AP_INT_STR_SIZE];
	long long cur = 0;
	unsigned char *vp = NULL;
	struct hnode *hn = NULL;

	if (h->enc == AP_ENC_LISTPACK) {
		unsigned char *p = lp_find_field(h->ptr, f, flen);

		if (p != NULL) {
			vp = ap_lp_next(h->ptr, p);
			AP_ASSERT(vp != NULL);
			if (!lp_value_ll(vp, &cur))
				return AP_HOBJ_INCR_NOT_INT;
		}
	} else {
		AP_ASSERT(h->enc == AP_ENC_HASHTABLE);
		hn = dict_find(h->ptr, f, flen);
		if (hn != NULL &&
		    !ap_str_to_ll(hn->data + hn->flen, hn->vlen, &cur))
			return AP_HOBJ_INCR_NOT_INT;
	}
	if (__builtin_add_overflow(cur, incr, out))
		return AP_HOBJ_INCR_OVERFLOW;

	size_t n = ap_ll_to_str(buf, *out);
	if (vp != NULL && n <= lim->value_max)
		h->ptr = ap_lp_replace_int(h->ptr, &vp, *out);
	else if (hn != NULL)
		hnode_set_value(h->ptr, hn, buf, n);
	else
		(void)ap_hobj_set(h, f, flen, buf, n, lim);
	return AP_HOBJ_INCR_OK;
}

/* --- iteration ------------------------------------------------------- */

void ap_hobj_iter_init(struct ap_hobj_iter *it, const struct ap_hobj *h)
{
	it->h = *h;
	it->p = NULL;
	if (h->enc == AP_ENC_LISTPACK) {
		it->p = ap_lp_first(h->ptr);
		return;
	}
	AP_ASSERT(h->enc == AP_ENC_HASHTABLE);
	ap_dict_iter_init(&it->di, h->ptr);
}

bool ap_hobj_iter_next(struct ap_hobj_iter *it, struct ap_hobj_pair *p)
{
	if (it->h.enc == AP_ENC_LISTPACK) {
		if (it->p == NULL)
			return false;
		it->p = lp_pair(it->h.ptr, it->p, p, it->fbuf, it->vbuf);
		return true;
	}
	struct ap_dict_node *n = ap_dict_iter_next(&it->di);
	if (n == NULL)
		return false;
	hnode_pair(node_of(n), p);
	return true;
}

void ap_hobj_iter_deinit(struct ap_hobj_iter *it)
{
	if (it->h.enc == AP_ENC_HASHTABLE)
		ap_dict_iter_deinit(&it->di);
	it->h.ptr = NULL;
}

/* Calls fn for every pair of a listpack. */
static void lp_visit_all(const unsigned char *lp, ap_hobj_pair_fn *fn,
			 void *arg)
{
	char fbuf[AP_HOBJ_BUF_SIZE], vbuf[AP_HOBJ_BUF_SIZE];
	struct ap_hobj_pair pr;

	for (unsigned char *p = ap_lp_first(lp); p != NULL;) {
		p = lp_pair(lp, p, &pr, fbuf, vbuf);
		fn(arg, &pr);
	}
}

struct scan_state {
	ap_hobj_pair_fn *fn;
	void *arg;
	size_t visited;
};

/* ap_dict_scan callback: hands the node's pair on and counts it. */
static void scan_node(void *arg, const struct ap_dict_node *n)
{
	struct scan_state *st = arg;
	struct ap_hobj_pair pr;

	hnode_pair(node_of(n), &pr);
	st->fn(st->arg, &pr);
	st->visited++;
}

uint64_t ap_hobj_scan(struct ap_hobj *h, uint64_t cursor, size_t count,
		      ap_hobj_pair_fn *fn, void *arg)
{
	if (h->enc == AP_ENC_LISTPACK) {
		lp_visit_all(h->ptr, fn, arg);
		return 0;
	}
	AP_ASSERT(h->enc == AP_ENC_HASHTABLE && count > 0);

	struct scan_state st = {.fn = fn, .arg = arg, .visited = 0};
	size_t steps;
	if (__builtin_mul_overflow(count, (size_t)10, &steps))
		steps = SIZE_MAX;
	do {
		cursor = ap_dict_scan(h->ptr, cursor, scan_node, &st);
	} while (cursor != 0 && --steps > 0 && st.visited < count);
	return cursor;
}

/* --- random fields --------------------------------------------------- */

/* A uniform random number in [0, n), n > 0. */
static size_t rand_below(uint64_t *rng, size_t n)
{
	AP_ASSERT(n > 0);
	return (size_t)(ap_dict_rand(rng) % n);
}

void ap_hobj_random(struct ap_hobj *h, uint64_t *rng, struct ap_hobj_pair *p,
		    char fbuf[AP_HOBJ_BUF_SIZE], char vbuf[AP_HOBJ_BUF_SIZE])
{
	size_t n = ap_hobj_len(h);

	AP_ASSERT(n > 0);
	if (h->enc == AP_ENC_LISTPACK) {
		size_t i = rand_below(rng, n);
		unsigned char *fp = ap_lp_seek(h->ptr, (long long)(2 * i));

		AP_ASSERT(fp != NULL);
		(void)lp_pair(h->ptr, fp, p, fbuf, vbuf);
		return;
	}
	struct ap_dict_node *node = ap_dict_random(h->ptr, rng);
	AP_ASSERT(node != NULL);
	hnode_pair(node_of(node), p);
}

/* Repeated draws from a listpack: the field positions are collected once
 * (on the stack when few), then each draw is O(1). */
static void lp_random_repeat(const unsigned char *lp, size_t count,
			     uint64_t *rng, ap_hobj_pair_fn *fn, void *arg)
{
	unsigned char *stack_pos[LP_POS_STACK];
	unsigned char **pos = stack_pos;
	size_t n = lp_len(lp);
	char fbuf[AP_HOBJ_BUF_SIZE], vbuf[AP_HOBJ_BUF_SIZE];
	struct ap_hobj_pair pr;

	AP_ASSERT(n > 0);
	if (n > LP_POS_STACK)
		pos = ap_malloc(n * sizeof(*pos));
	size_t i = 0;
	for (unsigned char *p = ap_lp_first(lp); p != NULL; i++) {
		pos[i] = p;
		p = ap_lp_next(lp, ap_lp_next(lp, p));
	}
	AP_ASSERT(i == n);
	while (count-- > 0) {
		(void)lp_pair(lp, pos[rand_below(rng, n)], &pr, fbuf, vbuf);
		fn(arg, &pr);
	}
	if (pos != stack_pos)
		ap_free(pos);
}

void ap_hobj_random_repeat(struct ap_hobj *h, size_t count, uint64_t *rng,
			   ap_hobj_pair_fn *fn, void *arg)
{
	AP_ASSERT(ap_hobj_len(h) > 0);
	if (h->enc == AP_ENC_LISTPACK) {
		lp_random_repeat(h->ptr, count, rng, fn, arg);
		return;
	}
	while (count-- > 0) {
		struct ap_dict_node *n = ap_dict_random(h->ptr, rng);
		struct ap_hobj_pair pr;

		AP_ASSERT(n != NULL);
		hnode_pair(node_of(n), &pr);
		fn(arg, &pr);
	}
}

/*
 * Distinct sampling in one walk (Knuth's selection sampling): each pair
 * is taken with probability (still needed) / (still left), which gives
 * every subset of `count` pairs the same probability.
 */
static void select_in_walk(struct ap_hobj *h, size_t count, uint64_t *rng,
			   ap_hobj_pair_fn *fn, void *arg)
{
	struct ap_hobj_iter it;
	struct ap_hobj_pair pr;
	size_t left = ap_hobj_len(h);

	ap_hobj_iter_init(&it, h);
	while (count > 0 && ap_hobj_iter_next(&it, &pr)) {
		if (rand_below(rng, left) < count) {
			fn(arg, &pr);
			count--;
		}
		left--;
	}
	ap_hobj_iter_deinit(&it);
	AP_ASSERT(count == 0);
}

/* Inserts pointer v into the open-addressing set slots[0..mask]; returns
 * false if it was there already. */
static bool ptrset_add(const void **slots, size_t mask, const void *v)
{
	uint64_t x = (uint64_t)(uintptr_t)v;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	for (size_t i = (size_t)x & mask;; i = (i + 1) & mask) {
		if (slots[i] == v)
			return false;
		if (slots[i] == NULL) {
			slots[i] = v;
			return true;
		}
	}
}

/* Distinct sampling of few pairs from a big dict: random draws, repeats
 * dropped. count <= size / 3, so about 1.5 draws per pair are expected. */
static void dict_random_distinct(struct ap_dict *d, size_t count, uint64_t *rng,
				 ap_hobj_pair_fn *fn, void *arg)
{
	size_t cap = PTRSET_MIN;

	while (cap < 2 * count)
		cap *= 2;
	const void **slots = ap_calloc(cap, sizeof(*slots));
	for (size_t got = 0; got < count;) {
		struct ap_dict_node *n = ap_dict_random(d, rng);
		struct ap_hobj_pair pr;

		AP_ASSERT(n != NULL);
		if (!ptrset_add(slots, cap - 1, n))
			continue;
		hnode_pair(node_of(n), &pr);
		fn(arg, &pr);
		got++;
	}
	ap_free(slots);
}

void ap_hobj_random_distinct(struct ap_hobj *h, size_t count, uint64_t *rng,
			     ap_hobj_pair_fn *fn, void *arg)
{
	size_t n = ap_hobj_len(h);

	AP_ASSERT(count < n);
	if (h->enc == AP_ENC_LISTPACK || count > n / 3)
		select_in_walk(h, count, rng, fn, arg);
	else
		dict_random_distinct(h->ptr, count, rng, fn, arg);
}
