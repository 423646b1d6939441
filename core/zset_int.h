/*
 * zset_int.h - private to the sorted-set module (core/zset.c and
 * core/zset_skiplist.c): the skiplist encoding's types, its node
 * accessors, the order and range predicates both encodings share, and the
 * skiplist functions.
 *
 * Skiplist node layout (one allocation, 8-byte aligned):
 *
 *   link   struct ap_dict_node   the member index chain (core/dict.h)
 *   score  double
 *   back   node *                previous node on level 0 (NULL: first)
 *   mlen   uint32_t, level uint8_t
 *   fwd    node *[level]         forward pointer per level
 *   span   size_t[level - 1]     level-0 steps to fwd[i], levels 1..
 *   member mlen bytes
 *
 * A level-0 span is always 1, so it is not stored; spans of NULL forward
 * pointers are never read. A one-level node with a 20-byte member takes
 * 60 bytes. The head node holds AP_ZSL_LEVELS levels and no member. The
 * levels are drawn with p = 1/4 from a per-set random state.
 *
 * Nobody outside the module includes this file.
 */
#ifndef AP_CORE_ZSET_INT_H
#define AP_CORE_ZSET_INT_H

#include <string.h>

#include "core/dict.h"
#include "core/zset.h"

/* Most levels a node may have: 32 levels at p = 1/4 cover 2^64 nodes. */
#define AP_ZSL_LEVELS 32

/* A skiplist node: one allocation (see the layout above). */
struct ap_zsl_node {
	struct ap_dict_node link;
	double score;
	struct ap_zsl_node *back;
	uint32_t mlen;
	uint8_t level;
	struct ap_zsl_node *fwd[];
};

/* A skiplist-encoded sorted set: the member index, the list, and the
 * random state its levels are drawn from. */
struct ap_zsl {
	struct ap_dict dict;
	size_t length;
	uint64_t rng;
	struct ap_zsl_node *tail;
	int level;		 /* levels in use (at least 1) */
	struct ap_zsl_node head; /* must be last: AP_ZSL_LEVELS levels */
};

/* Appends nodes in increasing order at the tail in O(1) each: last[i] is
 * the last node on level i and last_rank[i] its rank. */
struct ap_zsl_builder {
	struct ap_zsl *zs;
	struct ap_zsl_node *last[AP_ZSL_LEVELS];
	size_t last_rank[AP_ZSL_LEVELS];
};

/* --- order and ranges ------------------------------------------------- */

/* --- comparisons --------------------------------------------------------- */

/* Byte-wise comparison, a shorter prefix first (memcmp order). */
static inline int lex_cmp(const char *a, size_t alen, const char *b,
			  size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* Order of (s1, m1) against (s2, m2): score first, then member bytes. */
static inline int elem_cmp(double s1, const char *m1, size_t l1, double s2,
			   const char *m2, size_t l2)
{
	if (s1 < s2)
		return -1;
	if (s1 > s2)
		return 1;
	return lex_cmp(m1, l1, m2, l2);
}

/* True if v is at or above the range's low end. */
static inline bool score_gte_min(double v, const struct ap_zset_range *r)
{
	return r->minex ? v > r->min : v >= r->min;
}

/* True if v is at or below the range's high end. */
static inline bool score_lte_max(double v, const struct ap_zset_range *r)
{
	return r->maxex ? v < r->max : v <= r->max;
}

/* True if m is at or above the lex range's low end. */
static inline bool lex_gte_min(const char *m, size_t len,
			       const struct ap_zset_lex *r)
{
	int c;

	if (r->min_kind == AP_ZLEX_NEG_INF)
		return true;
	if (r->min_kind == AP_ZLEX_POS_INF)
		return false;
	c = lex_cmp(m, len, r->min, r->minlen);
	return r->min_kind == AP_ZLEX_EXCL ? c > 0 : c >= 0;
}

/* True if m is at or below the lex range's high end. */
static inline bool lex_lte_max(const char *m, size_t len,
			       const struct ap_zset_lex *r)
{
	int c;

	if (r->max_kind == AP_ZLEX_POS_INF)
		return true;
	if (r->max_kind == AP_ZLEX_NEG_INF)
		return false;
	c = lex_cmp(m, len, r->max, r->maxlen);
	return r->max_kind == AP_ZLEX_EXCL ? c < 0 : c <= 0;
}

/* --- node accessors ----------------------------------------------------- */

/* The spans of levels 1.. of n (index i-1 for level i). */
static inline size_t *node_spans(const struct ap_zsl_node *n)
{
	return (size_t *)(void *)((char *)n +
				  offsetof(struct ap_zsl_node, fwd) +
				  n->level * sizeof(struct ap_zsl_node *));
}

/* Level-0 steps from n to n->fwd[i] (only meaningful when it is set). */
static inline size_t span_get(const struct ap_zsl_node *n, int i)
{
	return i == 0 ? 1 : node_spans(n)[i - 1];
}

/* Sets the span of level i; level 0 spans are always 1. */
static inline void span_set(struct ap_zsl_node *n, int i, size_t v)
{
	if (i > 0)
		node_spans(n)[i - 1] = v;
}

/* The member bytes of n. */
static inline char *node_member(const struct ap_zsl_node *n)
{
	return (char *)(node_spans(n) + (n->level - 1));
}

/* Order of node n against (score, m). */
static inline int node_cmp(const struct ap_zsl_node *n, double score,
			   const char *m, size_t len)
{
	return elem_cmp(n->score, node_member(n), n->mlen, score, m, len);
}

/* A score range or a lex range (exactly one is set). Lex ranges compare
 * members only: they are meant for sets whose scores are all equal, and
 * give unspecified (but consistent and safe) results otherwise. */
struct ap_zset_bound {
	const struct ap_zset_range *r;
	const struct ap_zset_lex *lex;
};

/* True if (m, score) is at or above the bound's low end. */
static inline bool bound_gte_min(const struct ap_zset_bound *b, const char *m,
				 size_t len, double score)
{
	return b->r ? score_gte_min(score, b->r) : lex_gte_min(m, len, b->lex);
}

/* True if (m, score) is at or below the bound's high end. */
static inline bool bound_lte_max(const struct ap_zset_bound *b, const char *m,
				 size_t len, double score)
{
	return b->r ? score_lte_max(score, b->r) : lex_lte_max(m, len, b->lex);
}

/* bound_gte_min / bound_lte_max of a node. */
static inline bool node_gte_min(const struct ap_zset_bound *b,
				const struct ap_zsl_node *n)
{
	return bound_gte_min(b, node_member(n), n->mlen, n->score);
}

static inline bool node_lte_max(const struct ap_zset_bound *b,
				const struct ap_zsl_node *n)
{
	return bound_lte_max(b, node_member(n), n->mlen, n->score);
}

/* --- skiplist (core/zset_skiplist.c) ------------------------------------ */

/* A new empty skiplist set; free with ap_zsl_destroy. */
struct ap_zsl *ap_zsl_create(void);
/* Frees every node, the index and the set. */
void ap_zsl_destroy(struct ap_zsl *zs);
/* A deep copy, built in order. */
struct ap_zsl *ap_zsl_dup(const struct ap_zsl *src);
/* Allocates an unlinked node for (m, score) with a random level. */
struct ap_zsl_node *ap_zsl_node_create(struct ap_zsl *zs, const char *m,
				       size_t len, double score);
/* ap_dict_free_fn: frees a node handed back by the index. */
void ap_zsl_node_free(void *arg, struct ap_dict_node *dn);
/* The path to (score, m): on every level the last node before it, and
 * (rank not NULL) that node's rank. */
void ap_zsl_path(struct ap_zsl *zs, double score, const char *m, size_t len,
		 struct ap_zsl_node **update, size_t *rank);
/* Links node n (score and member set) where its order puts it; the
 * caller inserts it in the index. */
void ap_zsl_link(struct ap_zsl *zs, struct ap_zsl_node *n);
/* Unlinks n given the path to it, removes it from the index, frees it. */
void ap_zsl_delete_node(struct ap_zsl *zs, struct ap_zsl_node *n,
			struct ap_zsl_node **update);
/* The node of member m, or NULL. */
struct ap_zsl_node *ap_zsl_find(const struct ap_zsl *zs, const char *m,
				size_t len);
/* 1-based rank of node n. */
size_t ap_zsl_rank(const struct ap_zsl *zs, const struct ap_zsl_node *n);
/* The node at 1-based rank r, and (update not NULL) the path before it. */
struct ap_zsl_node *ap_zsl_at(const struct ap_zsl *zs, size_t r,
			      struct ap_zsl_node **update);
/* The path to the last node below the bound's low end (update, rank may
 * be NULL); returns the next node if it is inside the bound. */
struct ap_zsl_node *ap_zsl_walk_min(const struct ap_zsl *zs,
				    const struct ap_zset_bound *b,
				    struct ap_zsl_node **update, size_t *rank);
/* The first node in the bound and its rank - 1 / the last node in the
 * bound and its rank; NULL if none. */
struct ap_zsl_node *ap_zsl_first_in(const struct ap_zsl *zs,
				    const struct ap_zset_bound *b,
				    size_t *before);
struct ap_zsl_node *ap_zsl_last_in(const struct ap_zsl *zs,
				   const struct ap_zset_bound *b, size_t *rank);
/* Changes the score of n, moving it only if its order changes. */
void ap_zsl_rescore(struct ap_zsl *zs, struct ap_zsl_node *n, double score);
/* Appending in order to an EMPTY skiplist: init, add nodes in strictly
 * increasing order (the caller indexes them), finish. */
void ap_zsl_builder_init(struct ap_zsl_builder *b, struct ap_zsl *zs);
void ap_zsl_builder_add(struct ap_zsl_builder *b, struct ap_zsl_node *n);
void ap_zsl_builder_finish(struct ap_zsl_builder *b);
/* Asserts every invariant (order, spans, back links, tail, index). */
void ap_zsl_verify(const struct ap_zsl *zs);

#endif
