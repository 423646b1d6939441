/*
 * list.c - the quicklist and list values (see list.h for the contracts).
 *
 * Node sizes follow Redis 7.2's rules so that OBJECT ENCODING and memory
 * behave alike: a node accepts an element while its listpack stays within
 * the fill limit; an element over the limit gets a plain node of its own;
 * inserting into a full node in the middle splits it. Empty nodes are
 * freed at once, except the embedded node of a wrapped bare listpack,
 * which lives in the struct ap_list_ref on the caller's stack.
 *
 * Every mutation keeps node->count, l->count and l->nodes exact; the
 * assertions at the bottom of each path check the totals cheaply.
 */
#include "core/list.h"

#include <string.h>

#include "core/base.h"

/* With a count limit (fill >= 0) a node still stays under this many
 * bytes, as Redis's SIZE_SAFETY_LIMIT. */
#define NODE_SAFETY_BYTES 8192
/* Node sizes for fill -1..-5. */
static const size_t neg_fill_bytes[] = {4096, 8192, 16384, 32768, 65536};
/* Redis's listpack header is 2 bytes shorter than ours (6 vs 8) while
 * every element has the same size: encoding decisions subtract this so
 * that a list changes encoding at exactly Redis's sizes. */
#define LP_HDR_EXTRA 2
/* Nodes sampled by ap_list_mem before extrapolating. */
#define MEM_SAMPLE_NODES 64

/* The byte and element limits of a node for fill (SIZE_MAX: none). */
static void node_limits(int fill, size_t *bytes, size_t *count)
{
	*bytes = SIZE_MAX;
	*count = SIZE_MAX;
	if (fill >= 0) {
		*count = fill == 0 ? 1 : (size_t)fill;
		return;
	}
	size_t off = (size_t)(-(long long)fill) - 1;
	if (off >= AP_ARRAY_LEN(neg_fill_bytes))
		off = AP_ARRAY_LEN(neg_fill_bytes) - 1;
	*bytes = neg_fill_bytes[off];
}

/* True when a node of new_bytes bytes and new_count elements is over the
 * limit for fill. */
static bool exceeds(int fill, size_t new_bytes, size_t new_count)
{
	size_t bytes, count;
	node_limits(fill, &bytes, &count);
	if (bytes != SIZE_MAX)
		return new_bytes > bytes;
	if (new_bytes > NODE_SAFETY_BYTES)
		return true;
	return new_count > count;
}

/* True when an element of len bytes gets a plain node of its own. */
static bool is_large(int fill, size_t len)
{
	if (fill >= 0)
		return len > NODE_SAFETY_BYTES;
	size_t bytes, count;
	node_limits(fill, &bytes, &count);
	return len > bytes;
}

/* --- nodes ----------------------------------------------------------- */

/* A new heap node owning lp. */
static struct ap_list_node *node_create(unsigned char *lp, bool plain)
{
	struct ap_list_node *n = ap_calloc(1, sizeof(*n));
	n->lp = lp;
	n->count = ap_lp_count(lp);
	n->plain = plain;
	return n;
}

/* Links n next to `at` (after it when after, else before it); at NULL
 * only for an empty list. */
static void node_link(struct ap_list *l, struct ap_list_node *n,
		      struct ap_list_node *at, bool after)
{
	if (at == NULL) {
		AP_ASSERT(l->head == NULL && l->tail == NULL);
		n->prev = n->next = NULL;
		l->head = l->tail = n;
	} else if (after) {
		n->prev = at;
		n->next = at->next;
		if (at->next)
			at->next->prev = n;
		else
			l->tail = n;
		at->next = n;
	} else {
		n->next = at;
		n->prev = at->prev;
		if (at->prev)
			at->prev->next = n;
		else
			l->head = n;
		at->prev = n;
	}
	l->nodes++;
	l->count += n->count;
}

/* Unlinks n and frees it (its elements leave the count). */
static void node_remove(struct ap_list *l, struct ap_list_node *n)
{
	AP_ASSERT(!n->embedded);
	if (n->prev)
		n->prev->next = n->next;
	else
		l->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		l->tail = n->prev;
	AP_ASSERT(l->nodes > 0 && l->count >= n->count);
	l->nodes--;
	l->count -= n->count;
	ap_lp_free(n->lp);
	ap_free(n);
}

/* Frees n when it has no elements left (never the embedded node). */
static void node_drop_if_empty(struct ap_list *l, struct ap_list_node *n)
{
	if (n->count == 0 && !n->embedded)
		node_remove(l, n);
}

/* True when node n can take one more element of esize encoded bytes. */
static bool node_allows(const struct ap_list *l, const struct ap_list_node *n,
			size_t esize)
{
	if (l->single)
		return true;
	if (n->plain)
		return false;
	return !exceeds(l->fill, ap_lp_bytes(n->lp) + esize, n->count + 1);
}

/* A new node holding just s, linked next to `at`. */
static void node_new_with(struct ap_list *l, struct ap_list_node *at,
			  bool after, const char *s, size_t len, bool plain)
{
	unsigned char *lp = ap_lp_append(ap_lp_create(0), s, len);
	node_link(l, node_create(lp, plain), at, after);
}

/* --- the quicklist --------------------------------------------------- */

struct ap_list *ap_list_create(int fill)
{
	struct ap_list *l = ap_calloc(1, sizeof(*l));
	l->fill = fill;
	return l;
}

void ap_list_destroy(struct ap_list *l)
{
	if (l == NULL)
		return;
	AP_ASSERT(!l->single);
	while (l->head)
		node_remove(l, l->head);
	ap_free(l);
}

struct ap_list *ap_list_dup(const struct ap_list *l)
{
	AP_ASSERT(!l->single);
	struct ap_list *d = ap_list_create(l->fill);
	for (const struct ap_list_node *n = l->head; n; n = n->next)
		node_link(d, node_create(ap_lp_dup(n->lp), n->plain), d->tail,
			  true);
	AP_ASSERT(d->count == l->count);
	return d;
}

size_t ap_list_count(const struct ap_list *l)
{
	return l->count;
}

size_t ap_list_mem(const struct ap_list *l)
{
	size_t sampled = 0, bytes = 0;
	const struct ap_list_node *n = l->head;
	for (; n && sampled < MEM_SAMPLE_NODES; n = n->next, sampled++)
		bytes += ap_alloc_size(n) + ap_lp_alloc_size(n->lp);
	if (n && sampled)
		bytes = bytes / sampled * l->nodes;
	return bytes + (l->single ? 0 : ap_alloc_size(l));
}

bool ap_list_free_some(struct ap_list *l, size_t budget)
{
	size_t freed = 0;
	while (l->head && freed < budget) {
		freed += l->head->count;
		node_remove(l, l->head);
	}
	if (l->head)
		return false;
	ap_free(l);
	return true;
}

void ap_list_push(struct ap_list *l, enum ap_list_end end, const char *s,
		  size_t len)
{
	bool head = end == AP_LIST_HEAD;
	struct ap_list_node *n = head ? l->head : l->tail;
	if (!l->single && is_large(l->fill, len)) {
		node_new_with(l, n, !head, s, len, true);
		return;
	}
	if (n && node_allows(l, n, ap_lp_entry_size(s, len))) {
		n->lp = head ? ap_lp_prepend(n->lp, s, len)
			     : ap_lp_append(n->lp, s, len);
		n->count++;
		l->count++;
		return;
	}
	node_new_with(l, n, !head, s, len, false);
}

bool ap_list_pop(struct ap_list *l, enum ap_list_end end, ap_list_elem_fn *fn,
		 void *arg)
{
	struct ap_list_iter it;
	ap_list_iter_init(&it, l, end == AP_LIST_HEAD ? 0 : -1,
			  end == AP_LIST_HEAD);
	if (!ap_list_iter_valid(&it))
		return false;
	if (fn) {
		char buf[AP_LP_INTBUF_SIZE];
		size_t len;
		const char *s = ap_list_iter_get(&it, &len, buf);
		fn(arg, s, len);
	}
	ap_list_iter_delete(&it);
	return true;
}

/* Finds the node holding index (0 <= index < count), walking from the
 * nearer end; *off gets the index inside that node. */
static struct ap_list_node *node_at(const struct ap_list *l, size_t index,
				    size_t *off)
{
	AP_ASSERT(index < l->count);
	struct ap_list_node *n;
	if (index < l->count / 2) {
		n = l->head;
		while (index >= n->count) {
			index -= n->count;
			n = n->next;
		}
		*off = index;
		return n;
	}
	size_t from_end = l->count - 1 - index;
	n = l->tail;
	while (from_end >= n->count) {
		from_end -= n->count;
		n = n->prev;
	}
	*off = n->count - 1 - from_end;
	return n;
}

void ap_list_delete_range(struct ap_list *l, long long start, size_t count)
{
	if (start < 0)
		start += (long long)l->count;
	if (start < 0 || (size_t)start >= l->count || count == 0)
		return;
	size_t off;
	struct ap_list_node *n = node_at(l, (size_t)start, &off);
	while (n && count > 0) {
		struct ap_list_node *next = n->next;
		if (off == 0 && count >= n->count && !n->embedded) {
			count -= n->count;
			node_remove(l, n);
		} else {
			size_t del = AP_MIN(count, n->count - off);
			n->lp = ap_lp_delete_range(n->lp, (long long)off, del);
			n->count -= (uint32_t)del;
			l->count -= del;
			count -= del;
			node_drop_if_empty(l, n);
		}
		off = 0;
		n = next;
	}
}

/* --- iteration ------------------------------------------------------- */

void ap_list_iter_init(struct ap_list_iter *it, struct ap_list *l,
		       long long index, bool forward)
{
	it->l = l;
	it->forward = forward;
	it->node = NULL;
	it->p = NULL;
	it->idx = 0;
	if (index < 0)
		index += (long long)l->count;
	if (index < 0 || (size_t)index >= l->count)
		return;
	size_t off;
	it->node = node_at(l, (size_t)index, &off);
	it->p = ap_lp_seek(it->node->lp, (long long)off);
	it->idx = (size_t)index;
	AP_ASSERT(it->p != NULL);
}

bool ap_list_iter_valid(const struct ap_list_iter *it)
{
	return it->p != NULL;
}

const char *ap_list_iter_get(const struct ap_list_iter *it, size_t *len,
			     char buf[AP_LP_INTBUF_SIZE])
{
	AP_ASSERT(it->p != NULL);
	return ap_lp_get_str(it->p, len, buf);
}

bool ap_list_iter_eq(const struct ap_list_iter *it, const char *s, size_t len)
{
	AP_ASSERT(it->p != NULL);
	return ap_lp_eq(it->p, s, len);
}

/* Moves the iterator onto the first element (in its direction) of the
 * node after / before n, or ends it. */
static void iter_enter_node(struct ap_list_iter *it, struct ap_list_node *n)
{
	while (n && n->count == 0)
		n = it->forward ? n->next : n->prev;
	it->node = n;
	if (n == NULL)
		it->p = NULL;
	else
		it->p = it->forward ? ap_lp_first(n->lp) : ap_lp_last(n->lp);
}

void ap_list_iter_next(struct ap_list_iter *it)
{
	AP_ASSERT(it->p != NULL);
	struct ap_list_node *n = it->node;
	if (it->forward) {
		it->idx++;
		it->p = ap_lp_next(n->lp, it->p);
		if (it->p == NULL)
			iter_enter_node(it, n->next);
	} else {
		it->idx--;
		it->p = ap_lp_prev(n->lp, it->p);
		if (it->p == NULL)
			iter_enter_node(it, n->prev);
	}
}

void ap_list_iter_delete(struct ap_list_iter *it)
{
	AP_ASSERT(it->p != NULL);
	struct ap_list *l = it->l;
	struct ap_list_node *n = it->node;
	size_t off = (size_t)(it->p - n->lp);
	unsigned char *p = it->p;
	n->lp = ap_lp_delete(n->lp, &p);
	n->count--;
	l->count--;
	if (it->forward) {
		it->p = p;
		if (p == NULL)
			iter_enter_node(it, n->next);
	} else {
		it->idx--;
		it->p = ap_lp_prev(n->lp, n->lp + off);
		if (it->p == NULL)
			iter_enter_node(it, n->prev);
	}
	node_drop_if_empty(l, n);
}

/* Splits node n so that the elements from position p on move to a new
 * node linked after n. p must not be n's first element. */
static void node_split(struct ap_list *l, struct ap_list_node *n,
		       unsigned char *p)
{
	size_t off = (size_t)(p - n->lp);
	uint32_t keep = 0;
	for (unsigned char *q = ap_lp_first(n->lp); q != p;
	     q = ap_lp_next(n->lp, q))
		keep++;
	AP_ASSERT(keep > 0 && keep < n->count);
	unsigned char *right = ap_lp_dup(n->lp);
	right = ap_lp_delete_range(right, 0, keep);
	unsigned char *q = n->lp + off;
	n->lp = ap_lp_delete_range_at(n->lp, &q, n->count - keep);
	uint32_t moved = n->count - keep;
	n->count = keep;
	l->count -= moved;
	node_link(l, node_create(right, false), n, true);
}

/* Inserts s next to the element at p in node n: into n when it has room,
 * else into a neighbour at a node boundary, else into a new node
 * (splitting n when p is inside it). */
static void insert_at(struct ap_list *l, struct ap_list_node *n,
		      unsigned char *p, enum ap_lp_where where, const char *s,
		      size_t len)
{
	bool after = where == AP_LP_AFTER;
	bool large = !l->single && is_large(l->fill, len);
	size_t esize = ap_lp_entry_size(s, len);
	if (!large && node_allows(l, n, esize)) {
		n->lp = ap_lp_insert(n->lp, &p, where, s, len);
		n->count++;
		l->count++;
		return;
	}
	bool at_tail = after && ap_lp_next(n->lp, p) == NULL;
	bool at_head = !after && ap_lp_prev(n->lp, p) == NULL;
	if (!large && at_tail && n->next && node_allows(l, n->next, esize)) {
		n->next->lp = ap_lp_prepend(n->next->lp, s, len);
		n->next->count++;
		l->count++;
		return;
	}
	if (!large && at_head && n->prev && node_allows(l, n->prev, esize)) {
		n->prev->lp = ap_lp_append(n->prev->lp, s, len);
		n->prev->count++;
		l->count++;
		return;
	}
	if (at_head) {
		node_new_with(l, n, false, s, len, large);
		return;
	}
	if (!at_tail)
		node_split(l, n, after ? ap_lp_next(n->lp, p) : p);
	node_new_with(l, n, true, s, len, large);
}

void ap_list_iter_insert(struct ap_list_iter *it, enum ap_lp_where where,
			 const char *s, size_t len)
{
	AP_ASSERT(it->p != NULL);
	insert_at(it->l, it->node, it->p, where, s, len);
	it->p = NULL;
	it->node = NULL;
}

void ap_list_iter_replace(struct ap_list_iter *it, const char *s, size_t len)
{
	AP_ASSERT(it->p != NULL);
	struct ap_list *l = it->l;
	struct ap_list_node *n = it->node;
	size_t esize = ap_lp_entry_size(s, len);
	size_t old = ap_lp_bytes(n->lp);
	unsigned char *p = it->p;
	unsigned char *nx = ap_lp_next(n->lp, p);
	size_t cur = (size_t)((nx ? nx : n->lp + old - 1) - p);
	bool fits =
		l->single || (!n->plain && !is_large(l->fill, len) &&
			      !exceeds(l->fill, old - cur + esize, n->count));
	it->p = NULL;
	it->node = NULL;
	if (fits) {
		n->lp = ap_lp_replace(n->lp, &p, s, len);
		return;
	}
	/* Delete, then insert at the same index. */
	size_t idx = it->idx;
	struct ap_list_iter at;
	ap_list_iter_init(&at, l, (long long)idx, true);
	ap_list_iter_delete(&at);
	if (idx == l->count) {
		ap_list_push(l, AP_LIST_TAIL, s, len);
		return;
	}
	ap_list_iter_init(&at, l, (long long)idx, true);
	insert_at(l, at.node, at.p, AP_LP_BEFORE, s, len);
}

/* --- values of either encoding --------------------------------------- */

void ap_list_ref_open(struct ap_list_ref *ref, void *obj, enum ap_enc enc,
		      int fill)
{
	if (enc == AP_ENC_QUICKLIST) {
		AP_ASSERT(obj != NULL);
		ref->l = obj;
		ref->l->fill = fill;
		return;
	}
	AP_ASSERT(enc == AP_ENC_LISTPACK);
	unsigned char *lp = obj ? obj : ap_lp_create(0);
	memset(&ref->node, 0, sizeof(ref->node));
	ref->node.lp = lp;
	ref->node.count = ap_lp_count(lp);
	ref->node.embedded = 1;
	memset(&ref->wrap, 0, sizeof(ref->wrap));
	ref->wrap.head = ref->wrap.tail = &ref->node;
	ref->wrap.count = ref->node.count;
	ref->wrap.nodes = 1;
	ref->wrap.fill = fill;
	ref->wrap.single = true;
	ref->l = &ref->wrap;
}

void ap_list_ref_grow(struct ap_list_ref *ref, size_t add_bytes,
		      size_t add_count)
{
	if (ref->l != &ref->wrap)
		return;
	unsigned char *lp = ref->node.lp;
	if (!exceeds(ref->wrap.fill, ap_lp_bytes(lp) - LP_HDR_EXTRA + add_bytes,
		     ref->wrap.count + add_count))
		return;
	struct ap_list *l = ap_list_create(ref->wrap.fill);
	if (ref->node.count > 0)
		node_link(l, node_create(lp, false), NULL, true);
	else
		ap_lp_free(lp);
	ref->node.lp = NULL;
	ref->l = l;
}

/* A one-node quicklist small enough (half a node's limit) to become a
 * bare listpack again: returns its listpack and frees the rest, or NULL
 * when it stays a quicklist. */
static unsigned char *try_to_listpack(struct ap_list *l)
{
	if (l->nodes != 1 || l->head->plain)
		return NULL;
	size_t bytes, count;
	node_limits(l->fill, &bytes, &count);
	if (ap_lp_bytes(l->head->lp) - LP_HDR_EXTRA > bytes / 2 ||
	    l->count > count / 2)
		return NULL;
	unsigned char *lp = l->head->lp;
	ap_free(l->head);
	ap_free(l);
	return lp;
}

void *ap_list_ref_close(struct ap_list_ref *ref, bool shrinking,
			enum ap_enc *enc)
{
	struct ap_list *l = ref->l;
	ref->l = NULL;
	if (l == &ref->wrap) {
		AP_ASSERT(l->nodes == 1 && l->head == &ref->node);
		if (l->count == 0) {
			ap_lp_free(ref->node.lp);
			return NULL;
		}
		*enc = AP_ENC_LISTPACK;
		return ref->node.lp;
	}
	if (l->count == 0) {
		ap_list_destroy(l);
		return NULL;
	}
	if (shrinking) {
		unsigned char *lp = try_to_listpack(l);
		if (lp) {
			*enc = AP_ENC_LISTPACK;
			return lp;
		}
	}
	*enc = AP_ENC_QUICKLIST;
	return l;
}

/* --- keyspace operations --------------------------------------------- */

size_t ap_list_entry_len(const struct ap_entry *e)
{
	AP_ASSERT(ap_entry_type(e) == AP_TYPE_LIST);
	void *obj = ap_entry_obj(e);
	if (ap_entry_enc(e) == AP_ENC_LISTPACK)
		return ap_lp_count(obj);
	return ap_list_count(obj);
}

void ap_list_key_store(struct ap_db *db, struct ap_entry *e,
		       struct ap_list_ref *ref, bool shrinking, const char *key,
		       size_t klen)
{
	if (ap_list_count(ref->l) == 0) {
		/* Hand the (maybe moved) empty value to the entry so that
		 * deleting the key frees it exactly once. */
		bool bare = ref->l == &ref->wrap;
		ap_entry_obj_set(e, bare ? (void *)ref->node.lp : ref->l,
				 bare ? AP_ENC_LISTPACK : AP_ENC_QUICKLIST);
		ref->l = NULL;
		bool deleted = ap_db_delete(db, key, klen);
		AP_ASSERT(deleted);
		return;
	}
	enum ap_enc enc;
	void *obj = ap_list_ref_close(ref, shrinking, &enc);
	ap_entry_obj_set(e, obj, enc);
}

size_t ap_list_key_push(struct ap_db *db, struct ap_entry *e, int fill,
			const char *key, size_t klen, enum ap_list_end end,
			const struct ap_arg *elems, size_t n)
{
	struct ap_list_ref ref;
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++)
		bytes += elems[i].len;
	if (e)
		ap_list_ref_open(&ref, ap_entry_obj(e), ap_entry_enc(e), fill);
	else
		ap_list_ref_open(&ref, NULL, AP_ENC_LISTPACK, fill);
	ap_list_ref_grow(&ref, bytes, n);
	for (size_t i = 0; i < n; i++)
		ap_list_push(ref.l, end, elems[i].p, elems[i].len);
	size_t len = ap_list_count(ref.l);
	enum ap_enc enc;
	void *obj = ap_list_ref_close(&ref, false, &enc);
	AP_ASSERT(obj != NULL || n == 0);
	if (obj == NULL)
		return 0;
	if (e)
		ap_entry_obj_set(e, obj, enc);
	else
		(void)ap_db_set_object(db, key, klen, AP_TYPE_LIST, enc, obj,
				       AP_NO_EXPIRE);
	return len;
}

/* ap_list_elem_fn that replies the element as a bulk string. */
static void reply_elem(void *arg, const char *s, size_t len)
{
	ap_reply_bulk(arg, s, len);
}

size_t ap_list_key_pop_reply(struct ap_db *db, struct ap_entry *e, int fill,
			     const char *key, size_t klen, enum ap_list_end end,
			     size_t count, struct ap_reply *r)
{
	struct ap_list_ref ref;
	AP_ASSERT(e != NULL && ap_entry_type(e) == AP_TYPE_LIST);
	ap_list_ref_open(&ref, ap_entry_obj(e), ap_entry_enc(e), fill);
	size_t n = 0;
	while (n < count && ap_list_pop(ref.l, end, reply_elem, r))
		n++;
	ap_list_key_store(db, e, &ref, true, key, klen);
	return n;
}

bool ap_list_key_pop(struct ap_db *db, struct ap_entry *e, int fill,
		     const char *key, size_t klen, enum ap_list_end end,
		     ap_list_elem_fn *fn, void *arg)
{
	if (e == NULL)
		return false;
	struct ap_list_ref ref;
	AP_ASSERT(ap_entry_type(e) == AP_TYPE_LIST);
	ap_list_ref_open(&ref, ap_entry_obj(e), ap_entry_enc(e), fill);
	bool popped = ap_list_pop(ref.l, end, fn, arg);
	ap_list_key_store(db, e, &ref, true, key, klen);
	return popped;
}

/* The element being moved by LMOVE within one list, copied out because
 * it must survive the mutation of its own list (small ones on the
 * stack). */
struct moved {
	char small[128];
	char *heap;
	const char *s;
	size_t len;
};

/* ap_list_elem_fn that keeps a copy of the element in a struct moved. */
static void keep_elem(void *arg, const char *s, size_t len)
{
	struct moved *m = arg;
	m->len = len;
	if (len <= sizeof(m->small)) {
		memcpy(m->small, s, len);
		m->s = m->small;
	} else {
		m->heap = ap_memdup(s, len);
		m->s = m->heap;
	}
}

/* LMOVE / RPOPLPUSH with src == dst: rotates the list. */
static void move_rotate(struct ap_db *db, struct ap_entry *e, int fill,
			const char *key, size_t klen, enum ap_list_end from,
			enum ap_list_end to, struct ap_reply *r)
{
	struct moved m = {.heap = NULL};
	bool ok = ap_list_key_pop(db, e, fill, key, klen, from, keep_elem, &m);
	AP_ASSERT(ok);
	e = ap_db_lookup(db, key, klen, AP_LK_NOTOUCH);
	struct ap_arg a = {.p = m.s, .len = m.len};
	(void)ap_list_key_push(db, e, fill, key, klen, to, &a, 1);
	ap_reply_bulk(r, m.s, m.len);
	ap_free(m.heap);
}

/* LMOVE between two keys: the element goes from src's listpack straight
 * into dst, then leaves src. */
static void move_between(struct ap_db *db, struct ap_entry *se,
			 struct ap_entry *de, int fill, const char *src,
			 size_t slen, const char *dst, size_t dlen,
			 enum ap_list_end from, enum ap_list_end to,
			 struct ap_reply *r)
{
	struct ap_list_ref ref;
	struct ap_list_iter it;
	char buf[AP_LP_INTBUF_SIZE];
	struct ap_arg a;
	ap_list_ref_open(&ref, ap_entry_obj(se), ap_entry_enc(se), fill);
	ap_list_iter_init(&it, ref.l, from == AP_LIST_HEAD ? 0 : -1,
			  from == AP_LIST_HEAD);
	AP_ASSERT(ap_list_iter_valid(&it));
	a.p = ap_list_iter_get(&it, &a.len, buf);
	(void)ap_list_key_push(db, de, fill, dst, dlen, to, &a, 1);
	ap_reply_bulk(r, a.p, a.len);
	ap_list_iter_delete(&it);
	/* Creating dst mutated the database: find src's entry again. */
	se = ap_db_lookup(db, src, slen, AP_LK_NOTOUCH);
	AP_ASSERT(se != NULL);
	ap_list_key_store(db, se, &ref, true, src, slen);
}

enum ap_list_move_result
ap_list_key_move(struct ap_db *db, int fill, const char *src, size_t slen,
		 const char *dst, size_t dlen, enum ap_list_end from,
		 enum ap_list_end to, struct ap_reply *r, uint64_t *dirty)
{
	struct ap_entry *se = ap_db_lookup(db, src, slen, 0);
	if (se == NULL)
		return AP_LIST_MOVE_EMPTY;
	if (ap_entry_type(se) != AP_TYPE_LIST)
		return AP_LIST_MOVE_WRONGTYPE;
	struct ap_entry *de = ap_db_lookup(db, dst, dlen, 0);
	if (de != NULL && ap_entry_type(de) != AP_TYPE_LIST)
		return AP_LIST_MOVE_WRONGTYPE;
	/* The destination lookup may have expired a key: find src again. */
	se = ap_db_lookup(db, src, slen, AP_LK_NOTOUCH);
	AP_ASSERT(se != NULL);
	if (slen == dlen && memcmp(src, dst, slen) == 0)
		move_rotate(db, se, fill, src, slen, from, to, r);
	else
		move_between(db, se, de, fill, src, slen, dst, dlen, from, to,
			     r);
	*dirty += 1;
	return AP_LIST_MOVED;
}
