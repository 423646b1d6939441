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
 *
 * Compression (list-compress-depth) works on three rules, so that no
 * operation ever walks more than `depth` nodes to apply it:
 *   - a node is changed only raw: node_open decompresses it for good
 *     first, and node_settle then compresses it again when it lies
 *     outside the depth nodes of either end (or leaves it raw);
 *   - a node only read is decompressed on loan (node_borrow): the raw
 *     copy replaces the blob, which the list keeps aside, until the loan
 *     is returned (the iterator leaves the node, or list_flush). At most
 *     one loan per list;
 *   - when nodes come or go the raw ends may shift: zone_fix, run by
 *     list_flush at the end of the operation, decompresses the depth
 *     nodes at each end and compresses the node just inside each.
 * An iterator deleting elements leaves its node raw and `pending` until
 * it moves on, so that its position stays valid. Every public operation
 * but an iterator's steps ends with list_flush, and every iteration and
 * ap_list_ref_open starts with it: between commands a list holds no
 * pending node and at most the loan of the last read (one raw node).
 */
#include "core/list.h"

#include <endian.h>
#include <lz4.h>
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
/* A compressed node's blob: raw and compressed byte counts, then LZ4. */
#define BLOB_HDR 8
/* Compression output up to this size goes through the stack. */
#define DEFLATE_STACK_BYTES (16 * 1024)
/* Options: fill + depth * OPTS_DEPTH_UNIT (see ap_list_opts). */
#define OPTS_DEPTH_UNIT 65536
#define FILL_MIN	(-5)

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

/* A new heap node owning the raw listpack lp. */
static struct ap_list_node *node_create(unsigned char *lp, bool plain)
{
	struct ap_list_node *n = ap_calloc(1, sizeof(*n));
	n->lp = lp;
	n->count = ap_lp_count(lp);
	n->plain = plain;
	return n;
}

/* --- compression ------------------------------------------------------ */

/* Reads the two sizes of a blob's header. */
static void blob_sizes(const unsigned char *b, uint32_t *raw, uint32_t *z)
{
	memcpy(raw, b, 4);
	memcpy(z, b + 4, 4);
	*raw = le32toh(*raw);
	*z = le32toh(*z);
}

/* Bytes a blob takes (header and LZ4 block). */
static size_t blob_bytes(const unsigned char *b)
{
	uint32_t raw, z;
	blob_sizes(b, &raw, &z);
	return BLOB_HDR + (size_t)z;
}

/* The listpack a blob holds, newly allocated (the blob is untouched). */
static unsigned char *blob_inflate(const unsigned char *b)
{
	uint32_t raw, z;
	blob_sizes(b, &raw, &z);
	unsigned char *lp = ap_malloc(raw);
	int got = LZ4_decompress_safe((const char *)b + BLOB_HDR, (char *)lp,
				      (int)z, (int)raw);
	AP_ASSERT(got >= 0 && (uint32_t)got == raw);
	AP_ASSERT(ap_lp_bytes(lp) == raw);
	return lp;
}

/* A new blob holding listpack lp, or NULL when lp is outside the sizes
 * worth compressing or LZ4 does not save AP_LIST_COMPRESS_MIN_SAVING bytes
 * (header included). lp is untouched. */
static unsigned char *blob_deflate(const unsigned char *lp)
{
	size_t raw = ap_lp_bytes(lp);
	if (raw < AP_LIST_COMPRESS_MIN_BYTES ||
	    raw > AP_LIST_COMPRESS_MAX_BYTES)
		return NULL;
	/* LZ4 gives up (0) when the block would not fit: the room is
	 * exactly the largest size still worth keeping. */
	size_t room = raw - BLOB_HDR - AP_LIST_COMPRESS_MIN_SAVING;
	unsigned char stack[DEFLATE_STACK_BYTES];
	unsigned char *out = BLOB_HDR + room <= sizeof(stack)
				     ? stack
				     : ap_malloc(BLOB_HDR + room);
	int z = LZ4_compress_default((const char *)lp, (char *)out + BLOB_HDR,
				     (int)raw, (int)room);
	unsigned char *blob = NULL;
	if (z > 0) {
		uint32_t h[2] = {htole32((uint32_t)raw), htole32((uint32_t)z)};
		memcpy(out, h, BLOB_HDR);
		blob = ap_memdup(out, BLOB_HDR + (size_t)z);
	}
	if (out != stack)
		ap_free(out);
	return blob;
}

/* Bytes of the listpack node n holds, compressed or not. */
static size_t node_raw_bytes(const struct ap_list_node *n)
{
	if (!n->compressed)
		return ap_lp_bytes(n->lp);
	uint32_t raw, z;
	blob_sizes(n->lp, &raw, &z);
	return raw;
}

/* Ends the list's loan, if any: the raw copy is freed and the node holds
 * its blob again. Positions into the copy are void. */
static void loan_return(struct ap_list *l)
{
	struct ap_list_node *n = l->loan;
	if (n == NULL)
		return;
	AP_ASSERT(!n->compressed && l->loan_blob != NULL);
	ap_lp_free(n->lp);
	n->lp = l->loan_blob;
	n->compressed = 1;
	l->loan = NULL;
	l->loan_blob = NULL;
}

/* Compresses the raw node n when that is worth it; else marks it
 * incompressible, so that it is not tried again until it changes. Never
 * the embedded node. A loaned node (unchanged since) gets its blob back. */
static void node_compress(struct ap_list *l, struct ap_list_node *n)
{
	if (l->loan == n) {
		loan_return(l);
		return;
	}
	if (n->compressed || n->incompressible || n->embedded)
		return;
	unsigned char *b = blob_deflate(n->lp);
	if (b == NULL) {
		n->incompressible = 1;
		return;
	}
	ap_lp_free(n->lp);
	n->lp = b;
	n->compressed = 1;
	l->zcount++;
}

/* Makes n raw for good: decompresses it, or keeps the raw copy of a
 * loan (positions into it stay valid) and drops the blob. */
static void node_decompress(struct ap_list *l, struct ap_list_node *n)
{
	if (l->loan == n) {
		ap_free(l->loan_blob);
		l->loan = NULL;
		l->loan_blob = NULL;
	} else if (n->compressed) {
		unsigned char *lp = blob_inflate(n->lp);
		ap_free(n->lp);
		n->lp = lp;
		n->compressed = 0;
	} else {
		return;
	}
	AP_ASSERT(l->zcount > 0);
	l->zcount--;
}

/* Makes n readable: a compressed node is decompressed on loan (an
 * earlier loan is returned first). */
static void node_borrow(struct ap_list *l, struct ap_list_node *n)
{
	if (!n->compressed)
		return;
	loan_return(l);
	l->loan_blob = n->lp;
	n->lp = blob_inflate(l->loan_blob);
	n->compressed = 0;
	l->loan = n;
}

/* Before changing n's elements: raw for good, and worth a compression
 * try again afterwards. */
static void node_open(struct ap_list *l, struct ap_list_node *n)
{
	node_decompress(l, n);
	n->incompressible = 0;
}

/* True when n is one of the depth nodes at either end of l. O(depth). */
static bool within_depth(const struct ap_list *l, const struct ap_list_node *n)
{
	size_t d = (size_t)l->depth;
	if (l->nodes <= 2 * d)
		return true;
	const struct ap_list_node *a = n, *b = n;
	for (size_t i = 0; i < d; i++) {
		a = a->prev;
		b = b->next;
		if (a == NULL || b == NULL)
			return true;
	}
	return false;
}

/* After n was opened (and maybe changed): with a depth, compressed
 * outside the raw ends and raw inside them; with depth 0 it stays raw. */
static void node_settle(struct ap_list *l, struct ap_list_node *n)
{
	if (l->pending == n)
		l->pending = NULL;
	if (l->depth == 0 || n->embedded)
		return;
	if (within_depth(l, n))
		node_decompress(l, n);
	else
		node_compress(l, n);
}

/* After nodes came or went: the depth nodes at each end raw, and the
 * node just inside each (which may have moved there from an end)
 * compressed. O(depth); nothing to do when no node can be compressed
 * and none is. */
static void zone_fix(struct ap_list *l)
{
	size_t d = (size_t)l->depth;
	bool room = l->nodes > 2 * d;
	if (d == 0 || (!room && l->zcount == 0))
		return;
	struct ap_list_node *h = l->head, *t = l->tail;
	for (size_t i = 0; i < d && h != NULL; i++) {
		node_decompress(l, h);
		node_decompress(l, t);
		h = h->next;
		t = t->prev;
	}
	if (room) {
		node_compress(l, h);
		node_compress(l, t);
	}
}

/* Marks n, which an iterator is deleting from, to be settled when the
 * iterator leaves it (settling an earlier one first). */
static void node_set_pending(struct ap_list *l, struct ap_list_node *n)
{
	if (l->pending != NULL && l->pending != n)
		node_settle(l, l->pending);
	l->pending = n;
}

/* An iterator leaves n: its loan ends, or a pending n settles. */
static void node_leave(struct ap_list *l, struct ap_list_node *n)
{
	if (l->loan == n)
		loan_return(l);
	else if (l->pending == n)
		node_settle(l, n);
}

/* Ends whatever reading and iterator deletes left open (the loan, the
 * pending node) and fixes the raw ends after nodes came or went. Every
 * public operation calls it when done, every iteration when starting. */
static void list_flush(struct ap_list *l)
{
	loan_return(l);
	if (l->pending)
		node_settle(l, l->pending);
	if (l->reshaped) {
		l->reshaped = false;
		zone_fix(l);
	}
	AP_ASSERT(l->zcount <= l->nodes);
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
	l->reshaped = true;
}

/* Unlinks n and frees it (its elements leave the count; its loan, blob
 * or pending mark go with it). */
static void node_remove(struct ap_list *l, struct ap_list_node *n)
{
	AP_ASSERT(!n->embedded);
	if (l->pending == n)
		l->pending = NULL;
	if (l->loan == n || n->compressed) {
		AP_ASSERT(l->zcount > 0);
		l->zcount--;
	}
	if (l->loan == n) {
		ap_free(l->loan_blob);
		l->loan = NULL;
		l->loan_blob = NULL;
	}
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
	l->reshaped = true;
	ap_free(n->lp);
	ap_free(n);
}

/* True when node n can take one more element of esize encoded bytes. */
static bool node_allows(const struct ap_list *l, const struct ap_list_node *n,
			size_t esize)
{
	if (l->single)
		return true;
	if (n->plain)
		return false;
	return !exceeds(l->fill, node_raw_bytes(n) + esize, n->count + 1);
}

/* A new node holding just s, linked next to `at`. */
static void node_new_with(struct ap_list *l, struct ap_list_node *at,
			  bool after, const char *s, size_t len, bool plain)
{
	unsigned char *lp = ap_lp_append(ap_lp_create(0), s, len);
	node_link(l, node_create(lp, plain), at, after);
}

/* --- options ---------------------------------------------------------- */

int ap_list_opts(int fill, int depth)
{
	if (fill < FILL_MIN)
		fill = FILL_MIN;
	if (fill > AP_LIST_FILL_MAX)
		fill = AP_LIST_FILL_MAX;
	if (depth <= 0)
		return fill;
	if (depth > AP_LIST_COMPRESS_DEPTH_MAX)
		depth = AP_LIST_COMPRESS_DEPTH_MAX;
	return fill + depth * OPTS_DEPTH_UNIT;
}

int ap_list_opts_of(const struct ap_config *cfg)
{
	return ap_list_opts(cfg->list_max_listpack_size,
			    cfg->list_compress_depth);
}

/* Splits opts (see ap_list_opts) into the fill and depth of l. A value
 * below the first depth is a bare fill. */
static void opts_apply(struct ap_list *l, int opts)
{
	if (opts < OPTS_DEPTH_UNIT + FILL_MIN) {
		l->fill = opts;
		l->depth = 0;
		return;
	}
	long long depth = ((long long)opts - FILL_MIN) / OPTS_DEPTH_UNIT;
	AP_ASSERT(depth > 0 && depth <= AP_LIST_COMPRESS_DEPTH_MAX);
	l->depth = (int)depth;
	l->fill = (int)((long long)opts - depth * OPTS_DEPTH_UNIT);
}

/* --- the quicklist --------------------------------------------------- */

struct ap_list *ap_list_create(int opts)
{
	struct ap_list *l = ap_calloc(1, sizeof(*l));
	opts_apply(l, opts);
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

/* A copy of node n of l as stored: a loaned node as its blob. */
static struct ap_list_node *node_copy(const struct ap_list *l,
				      const struct ap_list_node *n)
{
	struct ap_list_node *c = ap_calloc(1, sizeof(*c));
	const unsigned char *blob = l->loan == n    ? l->loan_blob
				    : n->compressed ? n->lp
						    : NULL;
	c->lp = blob ? ap_memdup(blob, blob_bytes(blob)) : ap_lp_dup(n->lp);
	c->count = n->count;
	c->plain = n->plain;
	c->compressed = blob != NULL;
	c->incompressible = n->incompressible;
	return c;
}

struct ap_list *ap_list_dup(const struct ap_list *l)
{
	AP_ASSERT(!l->single);
	struct ap_list *d = ap_list_create(l->fill);
	d->depth = l->depth;
	for (const struct ap_list_node *n = l->head; n; n = n->next) {
		struct ap_list_node *c = node_copy(l, n);
		d->zcount += c->compressed;
		node_link(d, c, d->tail, true);
	}
	d->reshaped = false;
	AP_ASSERT(d->count == l->count && d->zcount == l->zcount);
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
		bytes += ap_alloc_size(n) + ap_alloc_size(n->lp);
	if (n && sampled)
		bytes = bytes / sampled * l->nodes;
	if (l->loan_blob)
		bytes += ap_alloc_size(l->loan_blob);
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

/* ap_list_push without the final flush. */
static void push_raw(struct ap_list *l, enum ap_list_end end, const char *s,
		     size_t len)
{
	bool head = end == AP_LIST_HEAD;
	struct ap_list_node *n = head ? l->head : l->tail;
	if (!l->single && is_large(l->fill, len)) {
		node_new_with(l, n, !head, s, len, true);
		return;
	}
	if (n && node_allows(l, n, ap_lp_entry_size(s, len))) {
		node_open(l, n);
		n->lp = head ? ap_lp_prepend(n->lp, s, len)
			     : ap_lp_append(n->lp, s, len);
		n->count++;
		l->count++;
		node_settle(l, n);
		return;
	}
	node_new_with(l, n, !head, s, len, false);
}

void ap_list_push(struct ap_list *l, enum ap_list_end end, const char *s,
		  size_t len)
{
	push_raw(l, end, s, len);
	list_flush(l);
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
	list_flush(l);
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
	struct ap_list_node *cut[2] = {NULL, NULL}; /* nodes cut, not freed */
	while (n && count > 0) {
		struct ap_list_node *next = n->next;
		if (off == 0 && count >= n->count && !n->embedded) {
			count -= n->count;
			node_remove(l, n);
		} else {
			size_t del = AP_MIN(count, n->count - off);
			node_open(l, n);
			n->lp = ap_lp_delete_range(n->lp, (long long)off, del);
			n->count -= (uint32_t)del;
			l->count -= del;
			count -= del;
			if (n->count == 0 && !n->embedded)
				node_remove(l, n);
			else
				cut[cut[0] != NULL] = n;
		}
		off = 0;
		n = next;
	}
	/* Settled once the range is gone: their positions are final. */
	for (int i = 0; i < 2 && cut[i]; i++)
		node_settle(l, cut[i]);
	list_flush(l);
}

/* --- iteration ------------------------------------------------------- */

/* ap_list_iter_init without the flush first (for edits in progress). */
static void iter_seek(struct ap_list_iter *it, struct ap_list *l,
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
	node_borrow(l, it->node);
	it->p = ap_lp_seek(it->node->lp, (long long)off);
	it->idx = (size_t)index;
	AP_ASSERT(it->p != NULL);
}

void ap_list_iter_init(struct ap_list_iter *it, struct ap_list *l,
		       long long index, bool forward)
{
	list_flush(l);
	iter_seek(it, l, index, forward);
}

bool ap_list_iter_valid(const struct ap_list_iter *it)
{
	return it->p != NULL;
}

bool ap_list_iter_transient(const struct ap_list_iter *it)
{
	AP_ASSERT(it->p != NULL);
	return it->l->loan == it->node || it->l->pending == it->node;
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

/* Moves the iterator onto the first element (in its direction) of n or
 * the first node past it with elements (borrowing it), or ends it. */
static void iter_enter_node(struct ap_list_iter *it, struct ap_list_node *n)
{
	while (n && n->count == 0)
		n = it->forward ? n->next : n->prev;
	it->node = n;
	if (n == NULL) {
		it->p = NULL;
		return;
	}
	node_borrow(it->l, n);
	it->p = it->forward ? ap_lp_first(n->lp) : ap_lp_last(n->lp);
}

void ap_list_iter_next(struct ap_list_iter *it)
{
	AP_ASSERT(it->p != NULL);
	struct ap_list_node *n = it->node;
	if (it->forward) {
		it->idx++;
		it->p = ap_lp_next(n->lp, it->p);
	} else {
		it->idx--;
		it->p = ap_lp_prev(n->lp, it->p);
	}
	if (it->p == NULL) {
		node_leave(it->l, n);
		iter_enter_node(it, it->forward ? n->next : n->prev);
	}
}

void ap_list_iter_done(struct ap_list_iter *it)
{
	if (it->node != NULL && it->l->loan == it->node)
		loan_return(it->l);
	it->node = NULL;
	it->p = NULL;
}

void ap_list_iter_delete(struct ap_list_iter *it)
{
	AP_ASSERT(it->p != NULL);
	struct ap_list *l = it->l;
	struct ap_list_node *n = it->node;
	node_open(l, n); /* a loaned copy stays: positions hold */
	node_set_pending(l, n);
	size_t off = (size_t)(it->p - n->lp);
	unsigned char *p = it->p;
	n->lp = ap_lp_delete(n->lp, &p);
	n->count--;
	l->count--;
	if (it->forward) {
		it->p = p;
	} else {
		it->idx--;
		it->p = ap_lp_prev(n->lp, n->lp + off);
	}
	if (it->p != NULL)
		return;
	struct ap_list_node *next = it->forward ? n->next : n->prev;
	if (n->count == 0 && !n->embedded)
		node_remove(l, n);
	else
		node_leave(l, n);
	iter_enter_node(it, next);
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

/* Adds s at the tail (append) or head of node n, a neighbour of an
 * insert, then settles n. */
static void insert_into(struct ap_list *l, struct ap_list_node *n, bool append,
			const char *s, size_t len)
{
	node_open(l, n);
	n->lp = append ? ap_lp_append(n->lp, s, len)
		       : ap_lp_prepend(n->lp, s, len);
	n->count++;
	l->count++;
	node_settle(l, n);
}

/* Inserts s next to the element at p in node n: into n when it has room,
 * else into a neighbour at a node boundary, else into a new node
 * (splitting n when p is inside it). Every node touched is settled. */
static void insert_at(struct ap_list *l, struct ap_list_node *n,
		      unsigned char *p, enum ap_lp_where where, const char *s,
		      size_t len)
{
	bool after = where == AP_LP_AFTER;
	bool large = !l->single && is_large(l->fill, len);
	size_t esize = ap_lp_entry_size(s, len);
	node_open(l, n); /* n is raw already: p holds */
	if (!large && node_allows(l, n, esize)) {
		n->lp = ap_lp_insert(n->lp, &p, where, s, len);
		n->count++;
		l->count++;
		node_settle(l, n);
		return;
	}
	bool at_tail = after && ap_lp_next(n->lp, p) == NULL;
	bool at_head = !after && ap_lp_prev(n->lp, p) == NULL;
	if (!large && at_tail && n->next && node_allows(l, n->next, esize)) {
		insert_into(l, n->next, false, s, len);
		node_settle(l, n);
		return;
	}
	if (!large && at_head && n->prev && node_allows(l, n->prev, esize)) {
		insert_into(l, n->prev, true, s, len);
		node_settle(l, n);
		return;
	}
	if (at_head) {
		node_new_with(l, n, false, s, len, large);
		node_settle(l, n->prev);
		node_settle(l, n);
		return;
	}
	if (!at_tail)
		node_split(l, n, after ? ap_lp_next(n->lp, p) : p);
	node_new_with(l, n, true, s, len, large);
	struct ap_list_node *added = n->next;
	node_settle(l, n);
	node_settle(l, added);
	if (!at_tail)
		node_settle(l, added->next);
}

void ap_list_iter_insert(struct ap_list_iter *it, enum ap_lp_where where,
			 const char *s, size_t len)
{
	AP_ASSERT(it->p != NULL);
	insert_at(it->l, it->node, it->p, where, s, len);
	it->p = NULL;
	it->node = NULL;
	list_flush(it->l);
}

void ap_list_iter_replace(struct ap_list_iter *it, const char *s, size_t len)
{
	AP_ASSERT(it->p != NULL);
	struct ap_list *l = it->l;
	struct ap_list_node *n = it->node;
	node_open(l, n); /* n is raw already: it->p holds */
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
		node_settle(l, n);
		list_flush(l);
		return;
	}
	/* Delete, then insert at the same index. */
	size_t idx = it->idx;
	struct ap_list_iter at;
	iter_seek(&at, l, (long long)idx, true);
	ap_list_iter_delete(&at);
	if (idx == l->count) {
		push_raw(l, AP_LIST_TAIL, s, len);
	} else {
		iter_seek(&at, l, (long long)idx, true);
		insert_at(l, at.node, at.p, AP_LP_BEFORE, s, len);
	}
	list_flush(l);
}

/* --- values of either encoding --------------------------------------- */

void ap_list_ref_open(struct ap_list_ref *ref, void *obj, enum ap_enc enc,
		      int opts)
{
	if (enc == AP_ENC_QUICKLIST) {
		AP_ASSERT(obj != NULL);
		ref->l = obj;
		opts_apply(ref->l, opts);
		list_flush(ref->l); /* the last read's loan */
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
	opts_apply(&ref->wrap, opts);
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
	l->depth = ref->wrap.depth;
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
	if (node_raw_bytes(l->head) - LP_HDR_EXTRA > bytes / 2 ||
	    l->count > count / 2)
		return NULL;
	node_decompress(l, l->head);
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
	list_flush(l);
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
