/*
 * zset_skiplist.c - the skiplist encoding of sorted sets (see
 * core/zset_int.h for the node layout): insert, delete, rank and range
 * walks in O(log n) through spans, in-place rescoring, O(1) appends for
 * sets built in order, deep copy and the invariant checker. The member
 * index is a core/dict.h table whose links live in the nodes.
 */
#include "core/zset_int.h"

#include <math.h>
#include <string.h>

/* --- skiplist nodes ----------------------------------------------------- */

/* Bytes of a node with `level` levels and a member of len bytes. */
static size_t node_size(int level, size_t len)
{
	return offsetof(struct ap_zsl_node, fwd) +
	       (size_t)level * sizeof(struct ap_zsl_node *) +
	       (size_t)(level - 1) * sizeof(size_t) + len;
}

/* The member index's key: the node's member bytes. */
static const char *node_key(const struct ap_dict_node *dn, size_t *len)
{
	const struct ap_zsl_node *n =
		AP_DICT_ENTRY(dn, struct ap_zsl_node, link);

	*len = n->mlen;
	return node_member(n);
}

static const struct ap_dict_type zsl_dict_type = {.key = node_key};

/* A random level in 1..AP_ZSL_LEVELS, each extra level with p = 1/4. */
static int random_level(struct ap_zsl *zs)
{
	uint64_t r = ap_dict_rand(&zs->rng);
	int level = 1;

	while ((r & 3) == 0 && level < AP_ZSL_LEVELS) {
		level++;
		r >>= 2;
	}
	return level;
}

/* Allocates an unlinked node for (m, score) with a random level. */
struct ap_zsl_node *ap_zsl_node_create(struct ap_zsl *zs, const char *m,
				       size_t len, double score)
{
	int level = random_level(zs);
	struct ap_zsl_node *n;

	AP_ASSERT(len <= UINT32_MAX);
	n = ap_malloc(node_size(level, len));
	n->link.next = NULL;
	n->score = score;
	n->back = NULL;
	n->mlen = (uint32_t)len;
	n->level = (uint8_t)level;
	if (len > 0)
		memcpy(node_member(n), m, len);
	return n;
}

/* ap_dict_free_fn: frees a node handed back by the index. */
void ap_zsl_node_free(void *arg, struct ap_dict_node *dn)
{
	(void)arg;
	ap_free(AP_DICT_ENTRY(dn, struct ap_zsl_node, link));
}

/* --- skiplist ----------------------------------------------------------- */

/* A new empty skiplist set. */
struct ap_zsl *ap_zsl_create(void)
{
	size_t size = sizeof(struct ap_zsl) + node_size(AP_ZSL_LEVELS, 0);
	struct ap_zsl *zs = ap_malloc(size);

	memset(zs, 0, size);
	ap_dict_init(&zs->dict, &zsl_dict_type);
	zs->rng = ap_dict_rng_seed();
	zs->level = 1;
	zs->head.level = AP_ZSL_LEVELS;
	return zs;
}

/* Frees every node, the index and the set. */
void ap_zsl_destroy(struct ap_zsl *zs)
{
	ap_dict_clear(&zs->dict, ap_zsl_node_free, NULL);
	ap_free(zs);
}

/*
 * Finds, on every level, the last node before (score, m): update[i], and
 * its rank rank[i] (head = 0). Levels above zs->level get the head.
 */
void ap_zsl_path(struct ap_zsl *zs, double score, const char *m, size_t len,
		 struct ap_zsl_node **update, size_t *rank)
{
	struct ap_zsl_node *x = &zs->head;
	size_t r = 0;

	for (int i = zs->level - 1; i >= 0; i--) {
		while (x->fwd[i] && node_cmp(x->fwd[i], score, m, len) < 0) {
			r += span_get(x, i);
			x = x->fwd[i];
		}
		update[i] = x;
		if (rank)
			rank[i] = r;
	}
}

/* Links node n (score and member set) where its order puts it. */
void ap_zsl_link(struct ap_zsl *zs, struct ap_zsl_node *n)
{
	struct ap_zsl_node *update[AP_ZSL_LEVELS];
	size_t rank[AP_ZSL_LEVELS];
	int level = n->level;

	ap_zsl_path(zs, n->score, node_member(n), n->mlen, update, rank);
	if (level > zs->level) {
		for (int i = zs->level; i < level; i++) {
			rank[i] = 0;
			update[i] = &zs->head;
			span_set(&zs->head, i, zs->length);
		}
		zs->level = level;
	}
	for (int i = 0; i < level; i++) {
		n->fwd[i] = update[i]->fwd[i];
		update[i]->fwd[i] = n;
		span_set(n, i, span_get(update[i], i) - (rank[0] - rank[i]));
		span_set(update[i], i, (rank[0] - rank[i]) + 1);
	}
	for (int i = level; i < zs->level; i++)
		span_set(update[i], i, span_get(update[i], i) + 1);
	n->back = update[0] == &zs->head ? NULL : update[0];
	if (n->fwd[0])
		n->fwd[0]->back = n;
	else
		zs->tail = n;
	zs->length++;
}

/* Unlinks n given the path to it (update[i] precedes n on level i). */
static void zsl_unlink(struct ap_zsl *zs, struct ap_zsl_node *n,
		       struct ap_zsl_node **update)
{
	for (int i = 0; i < zs->level; i++) {
		if (update[i]->fwd[i] == n) {
			span_set(update[i], i,
				 span_get(update[i], i) + span_get(n, i) - 1);
			update[i]->fwd[i] = n->fwd[i];
		} else {
			span_set(update[i], i, span_get(update[i], i) - 1);
		}
	}
	if (n->fwd[0])
		n->fwd[0]->back = n->back;
	else
		zs->tail = n->back;
	while (zs->level > 1 && zs->head.fwd[zs->level - 1] == NULL)
		zs->level--;
	zs->length--;
}

/* Unlinks n from the skiplist only (it stays in the index). */
static void zsl_unlink_node(struct ap_zsl *zs, struct ap_zsl_node *n)
{
	struct ap_zsl_node *update[AP_ZSL_LEVELS];

	ap_zsl_path(zs, n->score, node_member(n), n->mlen, update, NULL);
	AP_ASSERT(update[0]->fwd[0] == n);
	zsl_unlink(zs, n, update);
}

/* Unlinks n from the skiplist and the index and frees it. */
void ap_zsl_delete_node(struct ap_zsl *zs, struct ap_zsl_node *n,
			struct ap_zsl_node **update)
{
	zsl_unlink(zs, n, update);
	ap_dict_remove_node(&zs->dict, &n->link);
	ap_free(n);
}

/* The node of member m, or NULL. */
struct ap_zsl_node *ap_zsl_find(const struct ap_zsl *zs, const char *m,
				size_t len)
{
	struct ap_dict_node *dn =
		ap_dict_find((struct ap_dict *)&zs->dict, m, len);

	return dn ? AP_DICT_ENTRY(dn, struct ap_zsl_node, link) : NULL;
}

/* 1-based rank of node n. */
size_t ap_zsl_rank(const struct ap_zsl *zs, const struct ap_zsl_node *n)
{
	const struct ap_zsl_node *x = &zs->head;
	size_t r = 0;

	for (int i = zs->level - 1; i >= 0; i--) {
		while (x->fwd[i] && node_cmp(x->fwd[i], n->score,
					     node_member(n), n->mlen) <= 0) {
			r += span_get(x, i);
			x = x->fwd[i];
		}
		if (x == n)
			return r;
	}
	AP_ASSERT(!"node not in its skiplist");
	return 0;
}

/* The node at 1-based rank r (1 <= r <= length), and the path to it
 * before it when update is not NULL. */
struct ap_zsl_node *ap_zsl_at(const struct ap_zsl *zs, size_t r,
			      struct ap_zsl_node **update)
{
	struct ap_zsl_node *x = (struct ap_zsl_node *)&zs->head;
	size_t t = 0;

	AP_ASSERT(r >= 1 && r <= zs->length);
	for (int i = zs->level - 1; i >= 0; i--) {
		while (x->fwd[i] && t + span_get(x, i) < r) {
			t += span_get(x, i);
			x = x->fwd[i];
		}
		if (update)
			update[i] = x;
	}
	AP_ASSERT(t + 1 == r && x->fwd[0] != NULL);
	return x->fwd[0];
}

/* True unless the bound misses the set's ends entirely (Redis's
 * zslIsInRange / zslIsInLexRange, which decide lex walks on sets that
 * are not in member order). */
static bool zsl_may_hold(const struct ap_zsl *zs, const struct ap_zset_bound *b)
{
	return zs->tail != NULL && node_gte_min(b, zs->tail) &&
	       node_lte_max(b, zs->head.fwd[0]);
}

/*
 * Walks to the last node below the bound's low end: its path in update
 * (may be NULL) and its rank in *rank (may be NULL). Returns the next
 * node if it is inside the bound, else NULL.
 */
struct ap_zsl_node *ap_zsl_walk_min(const struct ap_zsl *zs,
				    const struct ap_zset_bound *b,
				    struct ap_zsl_node **update, size_t *rank)
{
	struct ap_zsl_node *x = (struct ap_zsl_node *)&zs->head;
	size_t t = 0;

	for (int i = zs->level - 1; i >= 0; i--) {
		while (x->fwd[i] && !node_gte_min(b, x->fwd[i])) {
			t += span_get(x, i);
			x = x->fwd[i];
		}
		if (update)
			update[i] = x;
	}
	if (rank)
		*rank = t;
	x = x->fwd[0];
	return x && node_lte_max(b, x) ? x : NULL;
}

/* The first node in the bound (NULL if none) and its rank - 1. */
struct ap_zsl_node *ap_zsl_first_in(const struct ap_zsl *zs,
				    const struct ap_zset_bound *b,
				    size_t *before)
{
	if (!zsl_may_hold(zs, b))
		return NULL;
	return ap_zsl_walk_min(zs, b, NULL, before);
}

/* The last node in the bound (NULL if none) and its rank. */
struct ap_zsl_node *ap_zsl_last_in(const struct ap_zsl *zs,
				   const struct ap_zset_bound *b, size_t *rank)
{
	struct ap_zsl_node *x = (struct ap_zsl_node *)&zs->head;
	size_t t = 0;

	if (!zsl_may_hold(zs, b))
		return NULL;
	for (int i = zs->level - 1; i >= 0; i--) {
		while (x->fwd[i] && node_lte_max(b, x->fwd[i])) {
			t += span_get(x, i);
			x = x->fwd[i];
		}
	}
	if (rank)
		*rank = t;
	return x != &zs->head && node_gte_min(b, x) ? x : NULL;
}

/* Changes the score of n (in the set) to score, moving it only if its
 * order changes (the node and its index link are kept). */
void ap_zsl_rescore(struct ap_zsl *zs, struct ap_zsl_node *n, double score)
{
	const char *m = node_member(n);

	if ((n->back == NULL ||
	     elem_cmp(n->back->score, node_member(n->back), n->back->mlen,
		      score, m, n->mlen) < 0) &&
	    (n->fwd[0] == NULL || node_cmp(n->fwd[0], score, m, n->mlen) > 0)) {
		n->score = score;
		return;
	}
	zsl_unlink_node(zs, n);
	n->score = score;
	ap_zsl_link(zs, n);
}

/* --- bulk building in order ------------------------------------------- */

/* Starts appending to the EMPTY skiplist zs. */
void ap_zsl_builder_init(struct ap_zsl_builder *b, struct ap_zsl *zs)
{
	AP_ASSERT(zs->length == 0);
	for (int i = 0; i < AP_ZSL_LEVELS; i++) {
		b->last[i] = &zs->head;
		b->last_rank[i] = 0;
	}
	b->zs = zs;
}

/* Links n (greater than every node so far) at the tail. The caller puts
 * n in the index. */
void ap_zsl_builder_add(struct ap_zsl_builder *b, struct ap_zsl_node *n)
{
	struct ap_zsl *zs = b->zs;
	size_t r = zs->length + 1;

	for (int i = 0; i < n->level; i++) {
		b->last[i]->fwd[i] = n;
		span_set(b->last[i], i, r - b->last_rank[i]);
		n->fwd[i] = NULL;
		b->last[i] = n;
		b->last_rank[i] = r;
	}
	if (n->level > zs->level)
		zs->level = n->level;
	n->back = zs->tail;
	zs->tail = n;
	zs->length = r;
}

/* Ends appending: spans of the NULL pointers at the end are set as the
 * insert path sets them (the number of nodes after). */
void ap_zsl_builder_finish(struct ap_zsl_builder *b)
{
	for (int i = 1; i < AP_ZSL_LEVELS; i++)
		span_set(b->last[i], i, b->zs->length - b->last_rank[i]);
}

/* --- copy and checks -------------------------------------------------------
 */

/* Deep copy of a skiplist set, built in order. */
struct ap_zsl *ap_zsl_dup(const struct ap_zsl *src)
{
	struct ap_zsl *zs = ap_zsl_create();
	struct ap_zsl_builder b;

	ap_dict_reserve(&zs->dict, src->length);
	ap_zsl_builder_init(&b, zs);
	for (struct ap_zsl_node *x = src->head.fwd[0]; x; x = x->fwd[0]) {
		struct ap_zsl_node *n = ap_zsl_node_create(zs, node_member(x),
							   x->mlen, x->score);

		ap_zsl_builder_add(&b, n);
		ap_dict_insert(&zs->dict, &n->link);
	}
	ap_zsl_builder_finish(&b);
	return zs;
}

/* Asserts the skiplist's order, spans, back links, levels, tail and the
 * index. */
void ap_zsl_verify(const struct ap_zsl *zs)
{
	size_t rank = 0;
	const struct ap_zsl_node *prev = NULL;

	AP_ASSERT(ap_dict_size(&zs->dict) == zs->length);
	for (const struct ap_zsl_node *x = zs->head.fwd[0]; x; x = x->fwd[0]) {
		rank++;
		AP_ASSERT(x->back == prev);
		AP_ASSERT(!isnan(x->score));
		AP_ASSERT(x->level >= 1 && x->level <= zs->level);
		AP_ASSERT(prev == NULL ||
			  node_cmp(prev, x->score, node_member(x), x->mlen) <
				  0);
		AP_ASSERT(ap_zsl_find(zs, node_member(x), x->mlen) == x);
		AP_ASSERT(ap_zsl_rank(zs, x) == rank);
		for (int i = 1; i < x->level; i++)
			if (x->fwd[i])
				AP_ASSERT(span_get(x, i) ==
					  ap_zsl_rank(zs, x->fwd[i]) - rank);
		prev = x;
	}
	AP_ASSERT(rank == zs->length && zs->tail == prev);
	for (int i = 1; i < zs->level; i++)
		if (zs->head.fwd[i])
			AP_ASSERT(span_get(&zs->head, i) ==
				  ap_zsl_rank(zs, zs->head.fwd[i]));
	AP_ASSERT(zs->level == 1 || zs->head.fwd[zs->level - 1] != NULL);
}
