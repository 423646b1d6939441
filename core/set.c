/*
 * set.c - the set object of core/set.h: three encodings behind one
 * handle, with Redis 7.2's conversion rules.
 *
 * A hashtable member is a struct set_node: the dict link followed by the
 * member's length (one byte below 255, else 255 and a 4-byte length) and
 * its bytes, in one allocation.
 */
#include "core/set.h"

#include <string.h>

#include "core/limits.h"

/* Length bytes of a node: 1 below this length, else 1 + 4. */
#define NODE_LEN_LONG 255

struct set_node {
	struct ap_dict_node link;
	unsigned char hdr[]; /* length, then the member bytes */
};

/* --- hashtable members ----------------------------------------------- */

/* The member bytes of a node and their length. */
static const char *node_member(const struct set_node *n, size_t *len)
{
	uint32_t l;

	if (n->hdr[0] < NODE_LEN_LONG) {
		*len = n->hdr[0];
		return (const char *)n->hdr + 1;
	}
	memcpy(&l, n->hdr + 1, sizeof(l));
	*len = l;
	return (const char *)n->hdr + 5;
}

/* The dict type's key callback: a member is its own key. */
static const char *node_key(const struct ap_dict_node *link, size_t *len)
{
	return node_member(AP_DICT_ENTRY(link, const struct set_node, link),
			   len);
}

static const struct ap_dict_type set_dict_type = {.key = node_key};

/* A new node holding m (len bytes), not yet linked. */
static struct set_node *node_new(const char *m, size_t len)
{
	size_t hdr = len < NODE_LEN_LONG ? 1 : 5;
	struct set_node *n = ap_malloc(sizeof(*n) + hdr + len);
	uint32_t l = (uint32_t)len;

	AP_ASSERT(len <= UINT32_MAX);
	if (hdr == 1) {
		n->hdr[0] = (unsigned char)len;
	} else {
		n->hdr[0] = NODE_LEN_LONG;
		memcpy(n->hdr + 1, &l, sizeof(l));
	}
	memcpy(n->hdr + hdr, m, len);
	return n;
}

/* ap_dict_free_fn for member nodes. */
static void node_free(void *arg, struct ap_dict_node *link)
{
	(void)arg;
	ap_free(AP_DICT_ENTRY(link, struct set_node, link));
}

/* Inserts m into dict d unless present; true if inserted. */
static bool dict_add(struct ap_dict *d, const char *m, size_t len)
{
	uint64_t h = ap_dict_hash(m, len);
	struct set_node *n;

	if (ap_dict_find_hashed(d, m, len, h) != NULL)
		return false;
	n = node_new(m, len);
	ap_dict_insert_hashed(d, &n->link, h);
	return true;
}

/* --- elems ----------------------------------------------------------- */

/* Fills e with the integer v, formatted into e->buf. */
static void elem_from_int(struct ap_set_elem *e, int64_t v)
{
	e->is_int = true;
	e->ll = v;
	e->len = ap_ll_to_str(e->buf, v);
	e->str = e->buf;
}

/* Fills e with the listpack element at p. Listpack strings are never
 * canonical integers, so is_int is exact. */
static void elem_from_lp(struct ap_set_elem *e, unsigned char *p)
{
	struct ap_lp_entry le;

	ap_lp_get(p, &le);
	if (le.str == NULL) {
		elem_from_int(e, le.ll);
	} else {
		e->is_int = false;
		e->str = le.str;
		e->len = le.len;
	}
	e->pos_ = p;
}

/* Fills e with a hashtable member. */
static void elem_from_node(struct ap_set_elem *e, struct ap_dict_node *link)
{
	struct set_node *n = AP_DICT_ENTRY(link, struct set_node, link);
	long long v;

	e->str = node_member(n, &e->len);
	e->is_int = ap_str_to_ll(e->str, e->len, &v);
	e->ll = e->is_int ? v : 0;
	e->pos_ = link;
}

/* --- limits and lifecycle -------------------------------------------- */

struct ap_set_limits ap_set_limits_of(const struct ap_config *cfg)
{
	struct ap_set_limits lim = {
		.intset_max = AP_MIN((size_t)cfg->set_max_intset_entries,
				     (size_t)AP_SET_INTSET_ENTRIES_MAX),
		.lp_entries_max = (size_t)cfg->set_max_listpack_entries,
		.lp_value_max = (size_t)cfg->set_max_listpack_value,
	};

	return lim;
}

/* Makes s an empty hashtable sized for size_hint members. */
static void init_hashtable(struct ap_set *s, size_t size_hint)
{
	struct ap_dict *d = ap_dict_create(&set_dict_type);

	ap_dict_reserve(d, size_hint);
	s->ptr = d;
	s->enc = AP_ENC_HASHTABLE;
}

void ap_set_init(struct ap_set *s)
{
	s->ptr = ap_intset_create();
	s->enc = AP_ENC_INTSET;
}

void ap_set_init_for(struct ap_set *s, const char *m, size_t len,
		     size_t size_hint, const struct ap_set_limits *lim)
{
	long long v;

	if (size_hint <= lim->intset_max && ap_str_to_ll(m, len, &v)) {
		ap_set_init(s);
	} else if (size_hint <= lim->lp_entries_max &&
		   len <= lim->lp_value_max) {
		s->ptr = ap_lp_create(0);
		s->enc = AP_ENC_LISTPACK;
	} else {
		init_hashtable(s, size_hint);
	}
}

void ap_set_free(void *obj, enum ap_enc enc)
{
	switch (enc) {
	case AP_ENC_INTSET:
		ap_intset_free(obj);
		break;
	case AP_ENC_LISTPACK:
		ap_lp_free(obj);
		break;
	default:
		AP_ASSERT(enc == AP_ENC_HASHTABLE);
		ap_dict_destroy(obj, node_free, NULL);
		break;
	}
}

bool ap_set_free_some(void *obj, enum ap_enc enc, size_t budget)
{
	if (enc != AP_ENC_HASHTABLE) {
		ap_set_free(obj, enc);
		return true;
	}
	if (!ap_dict_clear_some(obj, budget, node_free, NULL))
		return false;
	ap_free(obj);
	return true;
}

/* A copy of hashtable-encoded set d (const in effect: the walk pauses and
 * resumes rehashing, leaving d as it was). */
static struct ap_dict *dict_dup(struct ap_dict *d)
{
	struct ap_dict *copy = ap_dict_create(&set_dict_type);
	struct ap_dict_iter it;
	struct ap_dict_node *link;

	ap_dict_reserve(copy, ap_dict_size(d));
	ap_dict_iter_init(&it, d);
	while ((link = ap_dict_iter_next(&it)) != NULL) {
		size_t len;
		const char *m = node_key(link, &len);

		ap_dict_insert(copy, &node_new(m, len)->link);
	}
	ap_dict_iter_deinit(&it);
	return copy;
}

void *ap_set_dup(const void *obj, enum ap_enc enc)
{
	switch (enc) {
	case AP_ENC_INTSET:
		return ap_intset_dup(obj);
	case AP_ENC_LISTPACK:
		return ap_lp_dup(obj);
	default:
		AP_ASSERT(enc == AP_ENC_HASHTABLE);
		return dict_dup((struct ap_dict *)obj);
	}
}

size_t ap_set_len_of(const void *obj, enum ap_enc enc)
{
	switch (enc) {
	case AP_ENC_INTSET:
		return ap_intset_count(obj);
	case AP_ENC_LISTPACK:
		return ap_lp_count(obj);
	default:
		AP_ASSERT(enc == AP_ENC_HASHTABLE);
		return ap_dict_size(obj);
	}
}

/* Memory of a hashtable set: the dict, its buckets, and its nodes,
 * sampled over the first AP_SET_MEM_SAMPLES and extrapolated. */
static size_t dict_mem(struct ap_dict *d)
{
	size_t bytes = ap_alloc_size(d) + ap_dict_mem(d), sampled = 0;
	size_t node_bytes = 0;
	struct ap_dict_iter it;
	struct ap_dict_node *link;

	ap_dict_iter_init(&it, d);
	while (sampled < AP_SET_MEM_SAMPLES &&
	       (link = ap_dict_iter_next(&it)) != NULL) {
		node_bytes += ap_alloc_size(
			AP_DICT_ENTRY(link, struct set_node, link));
		sampled++;
	}
	ap_dict_iter_deinit(&it);
	if (sampled > 0)
		bytes += node_bytes * ap_dict_size(d) / sampled;
	return bytes;
}

size_t ap_set_mem(const void *obj, enum ap_enc enc)
{
	switch (enc) {
	case AP_ENC_INTSET:
		return ap_intset_alloc_size(obj);
	case AP_ENC_LISTPACK:
		return ap_lp_alloc_size(obj);
	default:
		AP_ASSERT(enc == AP_ENC_HASHTABLE);
		return dict_mem((struct ap_dict *)obj);
	}
}

/* --- conversions ----------------------------------------------------- */

/* An intset's members as a new listpack. */
static unsigned char *intset_to_lp(const struct ap_intset *is)
{
	uint32_t n = ap_intset_count(is);
	unsigned char *lp = ap_lp_create((size_t)n * 10);

	for (uint32_t i = 0; i < n; i++)
		lp = ap_lp_append_int(lp, ap_intset_get(is, i));
	return lp;
}

/* Every member of s (intset or listpack) into dict d. */
static void fill_dict(struct ap_dict *d, struct ap_set *s)
{
	struct ap_set_iter it;
	struct ap_set_elem e;

	ap_set_iter_init(&it, s);
	while (ap_set_iter_next(&it, &e))
		ap_dict_insert(d, &node_new(e.str, e.len)->link);
	ap_set_iter_deinit(&it);
}

void ap_set_convert(struct ap_set *s, enum ap_enc to, size_t size_hint)
{
	struct ap_dict *d;

	AP_ASSERT(s->enc != AP_ENC_HASHTABLE && to != s->enc);
	if (to == AP_ENC_LISTPACK) {
		AP_ASSERT(s->enc == AP_ENC_INTSET);
		unsigned char *lp = intset_to_lp(s->ptr);

		ap_intset_free(s->ptr);
		s->ptr = lp;
		s->enc = AP_ENC_LISTPACK;
		return;
	}
	AP_ASSERT(to == AP_ENC_HASHTABLE);
	d = ap_dict_create(&set_dict_type);
	ap_dict_reserve(d, AP_MAX(size_hint, ap_set_len(s)));
	fill_dict(d, s);
	ap_set_free(s->ptr, s->enc);
	s->ptr = d;
	s->enc = AP_ENC_HASHTABLE;
}

/* --- access ---------------------------------------------------------- */

bool ap_set_contains(struct ap_set *s, const char *m, size_t len)
{
	long long v;

	switch (s->enc) {
	case AP_ENC_INTSET:
		return ap_str_to_ll(m, len, &v) && ap_intset_find(s->ptr, v);
	case AP_ENC_LISTPACK:
		return ap_lp_find(s->ptr, ap_lp_first(s->ptr), m, len, 0) !=
		       NULL;
	default:
		AP_ASSERT(s->enc == AP_ENC_HASHTABLE);
		return ap_dict_find(s->ptr, m, len) != NULL;
	}
}

bool ap_set_contains_elem(struct ap_set *s, const struct ap_set_elem *e)
{
	if (s->enc == AP_ENC_INTSET)
		return e->is_int && ap_intset_find(s->ptr, e->ll);
	return ap_set_contains(s, e->str, e->len);
}

/*
 * True if an intset-encoded s, given one more member of mlen bytes that
 * is not an integer, fits the listpack limits: Redis 7.2 then converts to
 * a listpack rather than a hashtable. Integers print in at most 20 bytes;
 * the byte ceiling is checked against that worst case.
 */
static bool intset_fits_lp(const struct ap_set *s, size_t mlen,
			   const struct ap_set_limits *lim)
{
	const struct ap_intset *is = s->ptr;
	size_t n = ap_intset_count(is), digits = 0;
	char buf[AP_INT_STR_SIZE];

	if (n >= lim->lp_entries_max || mlen > lim->lp_value_max)
		return false;
	if (n > 0) {
		digits = AP_MAX(ap_ll_to_str(buf, ap_intset_min(is)),
				ap_ll_to_str(buf, ap_intset_max(is)));
		if (digits > lim->lp_value_max)
			return false;
	}
	/* 20 digits take at most 10 bytes as listpack integers, plus tag and
	 * back-length: 12 per element bounds it. */
	return (uint64_t)n * 12 + mlen + 64 < (uint64_t)AP_LISTPACK_BYTES_MAX;
}

/* ap_set_add for an intset-encoded s. */
static bool add_intset(struct ap_set *s, const char *m, size_t len,
		       const struct ap_set_limits *lim)
{
	long long v;
	size_t n;

	if (ap_str_to_ll(m, len, &v)) {
		if (!ap_intset_add((struct ap_intset **)&s->ptr, v))
			return false;
		n = ap_intset_count(s->ptr);
		if (n > lim->intset_max)
			ap_set_convert(s, AP_ENC_HASHTABLE, n);
		return true;
	}
	n = ap_intset_count(s->ptr);
	if (intset_fits_lp(s, len, lim))
		ap_set_convert(s, AP_ENC_LISTPACK, n + 1);
	else
		ap_set_convert(s, AP_ENC_HASHTABLE, n + 1);
	return ap_set_add(s, m, len, lim);
}

/* ap_set_add for a listpack-encoded s. */
static bool add_listpack(struct ap_set *s, const char *m, size_t len,
			 const struct ap_set_limits *lim)
{
	unsigned char *lp = s->ptr;
	size_t n = ap_lp_count(lp);

	if (ap_lp_find(lp, ap_lp_first(lp), m, len, 0) != NULL)
		return false;
	if (n < lim->lp_entries_max && len <= lim->lp_value_max &&
	    ap_lp_can_add(lp, len)) {
		s->ptr = ap_lp_append(lp, m, len);
		return true;
	}
	ap_set_convert(s, AP_ENC_HASHTABLE, n + 1);
	return dict_add(s->ptr, m, len);
}

bool ap_set_add(struct ap_set *s, const char *m, size_t len,
		const struct ap_set_limits *lim)
{
	switch (s->enc) {
	case AP_ENC_INTSET:
		return add_intset(s, m, len, lim);
	case AP_ENC_LISTPACK:
		return add_listpack(s, m, len, lim);
	default:
		AP_ASSERT(s->enc == AP_ENC_HASHTABLE);
		return dict_add(s->ptr, m, len);
	}
}

bool ap_set_remove(struct ap_set *s, const char *m, size_t len)
{
	long long v;
	unsigned char *p;
	struct ap_dict_node *link;

	switch (s->enc) {
	case AP_ENC_INTSET:
		return ap_str_to_ll(m, len, &v) &&
		       ap_intset_remove((struct ap_intset **)&s->ptr, v);
	case AP_ENC_LISTPACK:
		p = ap_lp_find(s->ptr, ap_lp_first(s->ptr), m, len, 0);
		if (p == NULL)
			return false;
		s->ptr = ap_lp_delete(s->ptr, &p);
		return true;
	default:
		AP_ASSERT(s->enc == AP_ENC_HASHTABLE);
		link = ap_dict_remove(s->ptr, m, len);
		if (link == NULL)
			return false;
		node_free(NULL, link);
		return true;
	}
}

/* A uniform integer in [0, n), n > 0. */
static uint32_t rand_below(uint64_t *rng, uint32_t n)
{
	return (uint32_t)(((unsigned __int128)ap_dict_rand(rng) * n) >> 64);
}

bool ap_set_random(struct ap_set *s, uint64_t *rng, struct ap_set_elem *out)
{
	size_t n = ap_set_len(s);
	uint32_t idx;
	struct ap_dict_node *link;

	if (n == 0)
		return false;
	switch (s->enc) {
	case AP_ENC_INTSET:
		idx = rand_below(rng, (uint32_t)n);
		elem_from_int(out, ap_intset_get(s->ptr, idx));
		out->idx_ = idx;
		break;
	case AP_ENC_LISTPACK:
		idx = rand_below(rng, (uint32_t)n);
		elem_from_lp(out, ap_lp_seek(s->ptr, idx));
		break;
	default:
		AP_ASSERT(s->enc == AP_ENC_HASHTABLE);
		link = ap_dict_random(s->ptr, rng);
		elem_from_node(out, link);
		break;
	}
	return true;
}

void ap_set_random_many(struct ap_set *s, uint64_t *rng, size_t count,
			ap_set_elem_fn *fn, void *arg)
{
	size_t n = ap_set_len(s);
	unsigned char **pos;
	unsigned char *p;
	struct ap_set_elem e;

	if (n == 0)
		return;
	if (s->enc != AP_ENC_LISTPACK) {
		for (size_t i = 0; i < count; i++) {
			(void)ap_set_random(s, rng, &e);
			fn(arg, &e);
		}
		return;
	}
	pos = ap_malloc(n * sizeof(*pos));
	p = ap_lp_first(s->ptr);
	for (size_t i = 0; i < n; i++, p = ap_lp_next(s->ptr, p))
		pos[i] = p;
	for (size_t i = 0; i < count; i++) {
		elem_from_lp(&e, pos[rand_below(rng, (uint32_t)n)]);
		fn(arg, &e);
	}
	ap_free(pos);
}

void ap_set_delete_elem(struct ap_set *s, struct ap_set_elem *e)
{
	unsigned char *p;

	switch (s->enc) {
	case AP_ENC_INTSET:
		AP_ASSERT(e->is_int && ap_intset_get(s->ptr, e->idx_) == e->ll);
		ap_intset_remove_at((struct ap_intset **)&s->ptr, e->idx_);
		break;
	case AP_ENC_LISTPACK:
		p = e->pos_;
		s->ptr = ap_lp_delete(s->ptr, &p);
		break;
	default:
		AP_ASSERT(s->enc == AP_ENC_HASHTABLE);
		ap_dict_remove_node(s->ptr, e->pos_);
		node_free(NULL, e->pos_);
		break;
	}
	e->str = NULL;
	e->pos_ = NULL;
}

/* --- iteration ------------------------------------------------------- */

void ap_set_iter_init(struct ap_set_iter *it, struct ap_set *s)
{
	it->s = s;
	it->p = NULL;
	it->idx = 0;
	it->started = false;
	if (s->enc == AP_ENC_HASHTABLE)
		ap_dict_iter_init(&it->di, s->ptr);
}

bool ap_set_iter_next(struct ap_set_iter *it, struct ap_set_elem *out)
{
	struct ap_set *s = it->s;
	struct ap_dict_node *link;

	switch (s->enc) {
	case AP_ENC_INTSET:
		if (it->idx >= ap_intset_count(s->ptr))
			return false;
		elem_from_int(out, ap_intset_get(s->ptr, it->idx));
		out->idx_ = it->idx++;
		return true;
	case AP_ENC_LISTPACK:
		if (it->started && it->p == NULL)
			return false; /* past the end already */
		it->p = it->started ? ap_lp_next(s->ptr, it->p)
				    : ap_lp_first(s->ptr);
		it->started = true;
		if (it->p == NULL)
			return false;
		elem_from_lp(out, it->p);
		return true;
	default:
		AP_ASSERT(s->enc == AP_ENC_HASHTABLE);
		link = ap_dict_iter_next(&it->di);
		if (link == NULL)
			return false;
		elem_from_node(out, link);
		return true;
	}
}

void ap_set_iter_deinit(struct ap_set_iter *it)
{
	if (it->s->enc == AP_ENC_HASHTABLE)
		ap_dict_iter_deinit(&it->di);
	it->s = NULL;
}

/* State of one ap_set_scan over a hashtable. */
struct scan_state {
	ap_set_elem_fn *fn;
	void *arg;
	size_t visited;
};

/* ap_dict_scan_fn: hands each node to the caller's function as an elem. */
static void scan_node(void *arg, const struct ap_dict_node *link)
{
	struct scan_state *st = arg;
	struct ap_set_elem e;

	elem_from_node(&e, (struct ap_dict_node *)link);
	st->fn(st->arg, &e);
	st->visited++;
}

uint64_t ap_set_scan(struct ap_set *s, uint64_t cursor, size_t count,
		     ap_set_elem_fn *fn, void *arg)
{
	struct scan_state st = {fn, arg, 0};
	size_t buckets_max;
	struct ap_set_iter it;
	struct ap_set_elem e;

	if (s->enc != AP_ENC_HASHTABLE) {
		ap_set_iter_init(&it, s);
		while (ap_set_iter_next(&it, &e))
			fn(arg, &e);
		ap_set_iter_deinit(&it);
		return 0;
	}
	count = AP_MAX(count, (size_t)1);
	buckets_max = count < SIZE_MAX / 10 ? count * 10 : SIZE_MAX;
	do {
		cursor = ap_dict_scan(s->ptr, cursor, scan_node, &st);
	} while (cursor != 0 && --buckets_max > 0 && st.visited < count);
	return cursor;
}
