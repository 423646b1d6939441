/*
 * zset.c - the sorted-set value of core/zset.h: a listpack for small
 * sets, a skiplist with an intrusive member index for the rest
 * (core/zset_skiplist.c). This file holds the listpack encoding, the
 * conversions, and every operation over either encoding: adds, ranges,
 * pops, walks, scans, random picks, the set operations and the type
 * operations.
 *
 * Listpack layout: member, score pairs in (score, member) order; see
 * zset.h for the score encoding.
 */
#include "core/zset_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Marker byte of a listpack score stored as raw double bytes. */
#define LP_SCORE_RAW	 0x01
#define LP_SCORE_RAW_LEN 9
/* Text of any listpack score: an integer or the 9 raw bytes. */
#define LP_SCORE_BUF 24
/* Iterator skips longer than this use ranks instead of stepping. */
#define SKIP_BY_RANK_MIN 32
/* Nodes sampled by ap_zset_ops.mem for a skiplist. */
#define MEM_SAMPLE 32

/* --- range predicates --------------------------------------------------- */

/* True if the score range can hold anything. */
static bool range_nonempty(const struct ap_zset_range *r)
{
	return !(r->min > r->max ||
		 (r->min == r->max && (r->minex || r->maxex)));
}

/* True if the lex range can hold anything (Redis's zslLexValueGteMin on
 * its own bounds: min above max, or equal with one end exclusive, is
 * empty). */
static bool lex_nonempty(const struct ap_zset_lex *r)
{
	int c;

	if (r->min_kind == AP_ZLEX_POS_INF || r->max_kind == AP_ZLEX_NEG_INF)
		return false;
	if (r->min_kind == AP_ZLEX_NEG_INF || r->max_kind == AP_ZLEX_POS_INF)
		return true;
	c = lex_cmp(r->min, r->minlen, r->max, r->maxlen);
	if (c > 0)
		return false;
	return !(c == 0 &&
		 (r->min_kind == AP_ZLEX_EXCL || r->max_kind == AP_ZLEX_EXCL));
}

/* --- listpack helpers ------------------------------------------------- */

/* Writes score as a listpack element's bytes into buf; returns the
 * length. An integral score becomes its decimal text (stored as
 * a listpack integer; -0 becomes 0, as in Redis's listpacks),
 * anything else the raw form. */
static size_t lp_score_enc(double s, char buf[LP_SCORE_BUF])
{
	if (s >= -9223372036854775808.0 && s < 9223372036854775808.0 &&
	    s == (double)(long long)s)
		return ap_ll_to_str(buf, (long long)s);
	buf[0] = LP_SCORE_RAW;
	memcpy(buf + 1, &s, sizeof(s));
	return LP_SCORE_RAW_LEN;
}

/* The score stored at listpack position p. */
static double lp_score_at(const unsigned char *p)
{
	struct ap_lp_entry e;
	double s;

	ap_lp_get(p, &e);
	if (e.str == NULL)
		return (double)e.ll;
	AP_ASSERT(e.len == LP_SCORE_RAW_LEN && e.str[0] == LP_SCORE_RAW);
	memcpy(&s, e.str + 1, sizeof(s));
	return s;
}

/* The member at position p (text in buf if it is an integer). */
static const char *lp_member_at(const unsigned char *p, size_t *len,
				char buf[AP_LP_INTBUF_SIZE])
{
	return ap_lp_get_str(p, len, buf);
}

/* Position of member m's element, or NULL. */
static unsigned char *lp_find(const unsigned char *lp, const char *m,
			      size_t len)
{
	return ap_lp_find(lp, ap_lp_first(lp), m, len, 1);
}

/* Inserts (m, score), not present yet, in order; returns the listpack. */
static unsigned char *lp_insert(unsigned char *lp, const char *m, size_t len,
				double score)
{
	char sbuf[LP_SCORE_BUF], mbuf[AP_LP_INTBUF_SIZE];
	size_t slen = lp_score_enc(score, sbuf);
	unsigned char *p = ap_lp_first(lp);

	while (p != NULL) {
		unsigned char *sp = ap_lp_next(lp, p);
		size_t plen;
		const char *pm = lp_member_at(p, &plen, mbuf);

		if (elem_cmp(lp_score_at(sp), pm, plen, score, m, len) > 0)
			break;
		p = ap_lp_next(lp, sp);
	}
	if (p == NULL) {
		lp = ap_lp_append(lp, m, len);
		return ap_lp_append(lp, sbuf, slen);
	}
	lp = ap_lp_insert(lp, &p, AP_LP_BEFORE, m, len);
	return ap_lp_insert(lp, &p, AP_LP_AFTER, sbuf, slen);
}

/* Deletes the pair whose member is at *p; *p becomes the next member. */
static unsigned char *lp_delete_at(unsigned char *lp, unsigned char **p)
{
	return ap_lp_delete_range_at(lp, p, 2);
}

/* --- encoding and conversion ---------------------------------------- */

/* Makes the listpack z a skiplist holding the same members. */
static void convert_to_skiplist(struct ap_zset *z)
{
	unsigned char *lp = z->obj;
	struct ap_zsl *zs = ap_zsl_create();
	struct ap_zsl_builder b;
	char buf[AP_LP_INTBUF_SIZE];

	AP_ASSERT(z->enc == AP_ENC_LISTPACK);
	ap_dict_reserve(&zs->dict, ap_lp_count(lp) / 2);
	ap_zsl_builder_init(&b, zs);
	for (unsigned char *p = ap_lp_first(lp); p != NULL;) {
		unsigned char *sp = ap_lp_next(lp, p);
		size_t len;
		const char *m = lp_member_at(p, &len, buf);
		struct ap_zsl_node *n =
			ap_zsl_node_create(zs, m, len, lp_score_at(sp));

		ap_zsl_builder_add(&b, n);
		ap_dict_insert(&zs->dict, &n->link);
		p = ap_lp_next(lp, sp);
	}
	ap_zsl_builder_finish(&b);
	ap_lp_free(lp);
	z->obj = zs;
	z->enc = AP_ENC_SKIPLIST;
}

/* True if a listpack set of `count` members, the longest maxlen bytes and
 * all of them totlen bytes, fits the limits. */
static bool fits_listpack(const struct ap_zset *z, size_t count, size_t maxlen,
			  size_t totlen)
{
	return count <= z->lp_max && maxlen <= z->lp_value &&
	       totlen + count * (LP_SCORE_RAW_LEN + 12) <
		       (size_t)AP_LISTPACK_BYTES_MAX / 2;
}

/* Makes the skiplist z a listpack if its members fit the limits. */
static void convert_to_listpack_if_fits(struct ap_zset *z)
{
	struct ap_zsl *zs = z->obj;
	size_t maxlen = 0, totlen = 0;
	unsigned char *lp;

	if (z->enc != AP_ENC_SKIPLIST || zs->length > z->lp_max)
		return;
	for (struct ap_zsl_node *n = zs->head.fwd[0]; n; n = n->fwd[0]) {
		maxlen = AP_MAX(maxlen, (size_t)n->mlen);
		totlen += n->mlen;
	}
	if (!fits_listpack(z, zs->length, maxlen, totlen))
		return;
	lp = ap_lp_create(totlen + zs->length * 4);
	for (struct ap_zsl_node *n = zs->head.fwd[0]; n; n = n->fwd[0]) {
		char sbuf[LP_SCORE_BUF];
		size_t slen = lp_score_enc(n->score, sbuf);

		lp = ap_lp_append(lp, node_member(n), n->mlen);
		lp = ap_lp_append(lp, sbuf, slen);
	}
	ap_zsl_destroy(zs);
	z->obj = lp;
	z->enc = AP_ENC_LISTPACK;
}

/* --- lifecycle --------------------------------------------------------- */

void ap_zset_create(struct ap_zset *z, size_t lp_max, size_t lp_value,
		    size_t size_hint, size_t len_hint)
{
	z->lp_max = lp_max;
	z->lp_value = lp_value;
	if (size_hint <= lp_max && len_hint <= lp_value) {
		z->obj = ap_lp_create(0);
		z->enc = AP_ENC_LISTPACK;
	} else {
		z->obj = ap_zsl_create();
		z->enc = AP_ENC_SKIPLIST;
	}
}

/* Wraps an existing object; no allocation. */
void ap_zset_open(struct ap_zset *z, void *obj, enum ap_enc enc, size_t lp_max,
		  size_t lp_value)
{
	AP_ASSERT(enc == AP_ENC_LISTPACK || enc == AP_ENC_SKIPLIST);
	AP_ASSERT(obj != NULL);
	z->obj = obj;
	z->enc = enc;
	z->lp_max = lp_max;
	z->lp_value = lp_value;
}

/* Frees an object of either encoding. */
static void obj_free(void *obj, enum ap_enc enc)
{
	if (enc == AP_ENC_LISTPACK)
		ap_lp_free(obj);
	else
		ap_zsl_destroy(obj);
}

/* Frees the object of either encoding; z->obj becomes NULL. */
void ap_zset_destroy(struct ap_zset *z)
{
	if (z->obj != NULL)
		obj_free(z->obj, z->enc);
	z->obj = NULL;
}

/* --- single members --------------------------------------------------- */

size_t ap_zset_len(const struct ap_zset *z)
{
	if (z->enc == AP_ENC_LISTPACK)
		return ap_lp_count(z->obj) / 2;
	return ((const struct ap_zsl *)z->obj)->length;
}

/* Score lookup: the listpack is scanned, the skiplist asks its index. */
bool ap_zset_score(const struct ap_zset *z, const char *m, size_t len,
		   double *score)
{
	if (z->enc == AP_ENC_LISTPACK) {
		unsigned char *p = lp_find(z->obj, m, len);

		if (p == NULL)
			return false;
		*score = lp_score_at(ap_lp_next(z->obj, p));
		return true;
	}
	struct ap_zsl_node *n = ap_zsl_find(z->obj, m, len);

	if (n == NULL)
		return false;
	*score = n->score;
	return true;
}

/* Rank lookup: a listpack walk, or index lookup then a rank walk. */
bool ap_zset_rank(const struct ap_zset *z, const char *m, size_t len, bool rev,
		  size_t *rank, double *score)
{
	size_t r = 0, count = ap_zset_len(z);

	if (z->enc == AP_ENC_LISTPACK) {
		unsigned char *lp = z->obj, *p = ap_lp_first(lp);

		while (p != NULL && !ap_lp_eq(p, m, len)) {
			p = ap_lp_next(lp, ap_lp_next(lp, p));
			r++;
		}
		if (p == NULL)
			return false;
		*score = lp_score_at(ap_lp_next(lp, p));
	} else {
		struct ap_zsl_node *n = ap_zsl_find(z->obj, m, len);

		if (n == NULL)
			return false;
		*score = n->score;
		r = ap_zsl_rank(z->obj, n) - 1;
	}
	*rank = rev ? count - 1 - r : r;
	return true;
}

/* Applies the ZADD flags to an existing member with score cur: the new
 * score in *score, or the result that stops the update. */
static enum ap_zadd_result add_existing(double cur, double *score,
					unsigned flags)
{
	if (flags & AP_ZADD_NX)
		return AP_ZADD_NOP;
	if (flags & AP_ZADD_INCR) {
		*score += cur;
		if (isnan(*score))
			return AP_ZADD_NAN;
	}
	if (((flags & AP_ZADD_LT) && *score >= cur) ||
	    ((flags & AP_ZADD_GT) && *score <= cur))
		return AP_ZADD_NOP;
	return *score == cur ? AP_ZADD_SAME : AP_ZADD_UPDATED;
}

/* ZADD on a listpack: updates in place or inserts, converting first when
 * the new member would break the limits. */
static enum ap_zadd_result lp_add(struct ap_zset *z, const char *m, size_t len,
				  double score, unsigned flags,
				  double *newscore)
{
	unsigned char *p = lp_find(z->obj, m, len);
	enum ap_zadd_result res;

	if (p != NULL) {
		res = add_existing(lp_score_at(ap_lp_next(z->obj, p)), &score,
				   flags);
		if (res == AP_ZADD_UPDATED) {
			z->obj = lp_delete_at(z->obj, &p);
			z->obj = lp_insert(z->obj, m, len, score);
		}
		if (res == AP_ZADD_UPDATED || res == AP_ZADD_SAME)
			*newscore = score;
		return res;
	}
	if (flags & AP_ZADD_XX)
		return AP_ZADD_NOP;
	if (ap_zset_len(z) + 1 > z->lp_max || len > z->lp_value ||
	    !ap_lp_can_add(z->obj, len + LP_SCORE_RAW_LEN + 16)) {
		convert_to_skiplist(z);
		return ap_zset_add(z, m, len, score, flags, newscore);
	}
	z->obj = lp_insert(z->obj, m, len, score);
	*newscore = score;
	return AP_ZADD_ADDED;
}

/* ZADD for one member (see zset.h): a listpack converts first when the
 * new member would break the limits; a skiplist updates in place or
 * relinks the same node, so its index link never moves. */
enum ap_zadd_result ap_zset_add(struct ap_zset *z, const char *m, size_t len,
				double score, unsigned flags, double *newscore)
{
	struct ap_dict_node *dn;
	struct ap_zsl *zs;
	struct ap_zsl_node *n;
	enum ap_zadd_result res;
	uint64_t h;

	AP_ASSERT(!isnan(score));
	if (z->enc == AP_ENC_LISTPACK)
		return lp_add(z, m, len, score, flags, newscore);
	zs = z->obj;
	h = ap_dict_hash(m, len);
	dn = ap_dict_find_hashed(&zs->dict, m, len, h);
	n = dn ? AP_DICT_ENTRY(dn, struct ap_zsl_node, link) : NULL;
	if (n != NULL) {
		res = add_existing(n->score, &score, flags);
		if (res == AP_ZADD_UPDATED)
			ap_zsl_rescore(zs, n, score);
		if (res == AP_ZADD_UPDATED || res == AP_ZADD_SAME)
			*newscore = score;
		return res;
	}
	if (flags & AP_ZADD_XX)
		return AP_ZADD_NOP;
	n = ap_zsl_node_create(zs, m, len, score);
	ap_zsl_link(zs, n);
	ap_dict_insert_hashed(&zs->dict, &n->link, h);
	*newscore = score;
	return AP_ZADD_ADDED;
}

/* Removes one member from either encoding. */
bool ap_zset_del(struct ap_zset *z, const char *m, size_t len)
{
	if (z->enc == AP_ENC_LISTPACK) {
		unsigned char *p = lp_find(z->obj, m, len);

		if (p == NULL)
			return false;
		z->obj = lp_delete_at(z->obj, &p);
		return true;
	}
	struct ap_zsl *zs = z->obj;
	struct ap_zsl_node *n = ap_zsl_find(zs, m, len);
	struct ap_zsl_node *update[AP_ZSL_LEVELS];

	if (n == NULL)
		return false;
	ap_zsl_path(zs, n->score, node_member(n), n->mlen, update, NULL);
	AP_ASSERT(update[0]->fwd[0] == n);
	ap_zsl_delete_node(zs, n, update);
	return true;
}

/* --- range parsing ------------------------------------------------------ */

/* Parses one score bound as Redis's zslParseRange: an optional '(' then
 * text strtod reads up to its end (or an embedded NUL), not NaN. */
static bool range_item_parse(const char *s, size_t len, double *v, bool *ex)
{
	char stack[128];
	char *buf = stack, *end;
	bool ok;

	*ex = len > 0 && s[0] == '(';
	if (*ex) {
		s++;
		len--;
	}
	if (len >= sizeof(stack))
		buf = ap_malloc(len + 1);
	if (len > 0)
		memcpy(buf, s, len);
	buf[len] = '\0';
	*v = strtod(buf, &end);
	ok = *end == '\0' && !isnan(*v);
	if (buf != stack)
		ap_free(buf);
	return ok;
}

/* Both ends of a score range, as zslParseRange. */
bool ap_zset_range_parse(const char *min, size_t minlen, const char *max,
			 size_t maxlen, struct ap_zset_range *out)
{
	return range_item_parse(min, minlen, &out->min, &out->minex) &&
	       range_item_parse(max, maxlen, &out->max, &out->maxex);
}

/* Parses one lex bound: "-", "+", "[str" or "(str". */
static bool lex_item_parse(const char *s, size_t len, const char **p,
			   size_t *plen, enum ap_zset_lex_kind *kind)
{
	if (len == 0)
		return false;
	*p = s + 1;
	*plen = len - 1;
	switch (s[0]) {
	case '-':
		*kind = AP_ZLEX_NEG_INF;
		return len == 1;
	case '+':
		*kind = AP_ZLEX_POS_INF;
		return len == 1;
	case '[':
		*kind = AP_ZLEX_INCL;
		return true;
	case '(':
		*kind = AP_ZLEX_EXCL;
		return true;
	default:
		return false;
	}
}

/* Both ends of a lex range, as zslParseLexRange. */
bool ap_zset_lex_parse(const char *min, size_t minlen, const char *max,
		       size_t maxlen, struct ap_zset_lex *out)
{
	return lex_item_parse(min, minlen, &out->min, &out->minlen,
			      &out->min_kind) &&
	       lex_item_parse(max, maxlen, &out->max, &out->maxlen,
			      &out->max_kind);
}

/* --- listpack range walks ---------------------------------------------- */

/* True if the pair at member position p is at or above the bound's low
 * end. */
static bool lp_gte_min(const unsigned char *lp, const unsigned char *p,
		       const struct ap_zset_bound *b)
{
	char buf[AP_LP_INTBUF_SIZE];
	size_t len;
	const char *m;

	if (b->r)
		return score_gte_min(lp_score_at(ap_lp_next(lp, p)), b->r);
	m = lp_member_at(p, &len, buf);
	return lex_gte_min(m, len, b->lex);
}

/* True if the pair at member position p is at or below the bound's high
 * end. */
static bool lp_lte_max(const unsigned char *lp, const unsigned char *p,
		       const struct ap_zset_bound *b)
{
	char buf[AP_LP_INTBUF_SIZE];
	size_t len;
	const char *m;

	if (b->r)
		return score_lte_max(lp_score_at(ap_lp_next(lp, p)), b->r);
	m = lp_member_at(p, &len, buf);
	return lex_lte_max(m, len, b->lex);
}

/* True unless the bound misses the listpack's ends entirely. */
static bool lp_may_hold(const unsigned char *lp, const struct ap_zset_bound *b)
{
	unsigned char *first = ap_lp_first(lp);

	return first != NULL && lp_lte_max(lp, first, b) &&
	       lp_gte_min(lp, ap_lp_prev(lp, ap_lp_last(lp)), b);
}

/* The member position of the first pair in the bound, or NULL. */
static unsigned char *lp_first_in(const unsigned char *lp,
				  const struct ap_zset_bound *b)
{
	unsigned char *p;

	if (!lp_may_hold(lp, b))
		return NULL;
	p = ap_lp_first(lp);
	while (p != NULL && !lp_gte_min(lp, p, b))
		p = ap_lp_next(lp, ap_lp_next(lp, p));
	return p && lp_lte_max(lp, p, b) ? p : NULL;
}

/* The member position of the last pair in the bound, or NULL. */
static unsigned char *lp_last_in(const unsigned char *lp,
				 const struct ap_zset_bound *b)
{
	unsigned char *p;

	if (!lp_may_hold(lp, b))
		return NULL;
	p = ap_lp_prev(lp, ap_lp_last(lp));
	while (p != NULL && !lp_lte_max(lp, p, b)) {
		p = ap_lp_prev(lp, p);
		p = p ? ap_lp_prev(lp, p) : NULL;
	}
	return p && lp_gte_min(lp, p, b) ? p : NULL;
}

/* Pairs from member position p on that stay inside the bound's high
 * end. */
static size_t lp_run(const unsigned char *lp, unsigned char *p,
		     const struct ap_zset_bound *b)
{
	size_t n = 0;

	while (p != NULL && lp_lte_max(lp, p, b)) {
		p = ap_lp_next(lp, ap_lp_next(lp, p));
		n++;
	}
	return n;
}

/* --- counting and deleting ranges --------------------------------------- */

/* Members in the bound, for either encoding: the run from the first
 * member in it (for skiplists, through ranks: O(log n)). */
static size_t count_bound(const struct ap_zset *z,
			  const struct ap_zset_bound *b)
{
	const struct ap_zsl *zs = z->obj;
	size_t before, last, count;

	if (z->enc == AP_ENC_LISTPACK)
		return lp_run(z->obj, lp_first_in(z->obj, b), b);
	if (ap_zsl_first_in(zs, b, &before) == NULL)
		return 0;
	count = zs->length - before;
	if (ap_zsl_last_in(zs, b, &last) != NULL)
		count = last > before ? last - before : 0;
	return count;
}

/* ZCOUNT: an empty range counts nothing. */
size_t ap_zset_count(const struct ap_zset *z, const struct ap_zset_range *r)
{
	struct ap_zset_bound b = {.r = r};

	return range_nonempty(r) ? count_bound(z, &b) : 0;
}

/* ZLEXCOUNT: an empty range counts nothing. */
size_t ap_zset_lex_count(const struct ap_zset *z, const struct ap_zset_lex *r)
{
	struct ap_zset_bound b = {.lex = r};

	return lex_nonempty(r) ? count_bound(z, &b) : 0;
}

/* Deletes up to count skiplist nodes from x on, while they stay inside
 * the bound's high end (b NULL: no bound), update[] being the path to x.
 * Returns how many went. */
static size_t zsl_delete_run(struct ap_zsl *zs, struct ap_zsl_node *x,
			     struct ap_zsl_node **update, size_t count,
			     const struct ap_zset_bound *b)
{
	size_t n = 0;

	while (x != NULL && n < count && (b == NULL || node_lte_max(b, x))) {
		struct ap_zsl_node *next = x->fwd[0];

		ap_zsl_delete_node(zs, x, update);
		x = next;
		n++;
	}
	return n;
}

/* ZREMRANGEBYRANK on valid ranks: one listpack cut, or a skiplist run
 * from the node at start. */
size_t ap_zset_del_rank(struct ap_zset *z, size_t start, size_t end)
{
	struct ap_zsl_node *update[AP_ZSL_LEVELS];
	struct ap_zsl_node *x;

	AP_ASSERT(start <= end && end < ap_zset_len(z));
	if (z->enc == AP_ENC_LISTPACK) {
		z->obj = ap_lp_delete_range(z->obj, (long long)start * 2,
					    (end - start + 1) * 2);
		return end - start + 1;
	}
	x = ap_zsl_at(z->obj, start + 1, update);
	return zsl_delete_run(z->obj, x, update, end - start + 1, NULL);
}

/* Deletes the members in the bound: the run from the first one in it. */
static size_t del_bound(struct ap_zset *z, const struct ap_zset_bound *b)
{
	struct ap_zsl_node *update[AP_ZSL_LEVELS];
	struct ap_zsl_node *x;

	if (z->enc == AP_ENC_LISTPACK) {
		unsigned char *p = lp_first_in(z->obj, b);
		size_t n = lp_run(z->obj, p, b);

		if (n > 0)
			z->obj = ap_lp_delete_range_at(z->obj, &p, n * 2);
		return n;
	}
	x = ap_zsl_walk_min(z->obj, b, update, NULL);
	return x ? zsl_delete_run(z->obj, x, update, SIZE_MAX, b) : 0;
}

/* ZREMRANGEBYSCORE. */
size_t ap_zset_del_range(struct ap_zset *z, const struct ap_zset_range *r)
{
	struct ap_zset_bound b = {.r = r};

	return range_nonempty(r) ? del_bound(z, &b) : 0;
}

/* ZREMRANGEBYLEX. */
size_t ap_zset_del_lex(struct ap_zset *z, const struct ap_zset_lex *r)
{
	struct ap_zset_bound b = {.lex = r};

	return lex_nonempty(r) ? del_bound(z, &b) : 0;
}

/* --- pops ---------------------------------------------------------------- */

/* Pops the lowest or highest pair of a listpack through fn. */
static void lp_pop_one(struct ap_zset *z, bool max, ap_zset_visit_fn *fn,
		       void *arg)
{
	unsigned char *lp = z->obj;
	unsigned char *p =
		max ? ap_lp_prev(lp, ap_lp_last(lp)) : ap_lp_first(lp);
	char buf[AP_LP_INTBUF_SIZE];
	size_t len;
	const char *m = lp_member_at(p, &len, buf);

	fn(arg, m, len, lp_score_at(ap_lp_next(lp, p)));
	z->obj = lp_delete_at(lp, &p);
}

/* Pops the lowest or highest skiplist node through fn. */
static void zsl_pop_one(struct ap_zsl *zs, bool max, ap_zset_visit_fn *fn,
			void *arg)
{
	struct ap_zsl_node *update[AP_ZSL_LEVELS];
	struct ap_zsl_node *n;

	if (max) {
		n = zs->tail;
		ap_zsl_path(zs, n->score, node_member(n), n->mlen, update,
			    NULL);
	} else {
		n = zs->head.fwd[0];
		for (int i = 0; i < zs->level; i++)
			update[i] = &zs->head;
	}
	fn(arg, node_member(n), n->mlen, n->score);
	ap_zsl_delete_node(zs, n, update);
}

/* Pops one end at a time through fn (see zset.h). */
size_t ap_zset_pop(struct ap_zset *z, bool max, size_t count,
		   ap_zset_visit_fn *fn, void *arg)
{
	size_t n = 0;

	while (n < count && ap_zset_len(z) > 0) {
		if (z->enc == AP_ENC_LISTPACK)
			lp_pop_one(z, max, fn, arg);
		else
			zsl_pop_one(z->obj, max, fn, arg);
		n++;
	}
	return n;
}

/* --- iteration ------------------------------------------------------------ */

/* Common start of a walk. */
static void iter_init(struct ap_zset_iter *it, const struct ap_zset *z,
		      bool rev)
{
	it->z = z;
	it->pos = NULL;
	it->left = SIZE_MAX;
	it->rev = rev;
	it->bound = 0;
}

/* A rank walk: starts at the node of the forward rank. */
void ap_zset_iter_rank(struct ap_zset_iter *it, const struct ap_zset *z,
		       size_t start, size_t count, bool rev)
{
	size_t len = ap_zset_len(z);
	size_t fwd_rank = rev ? len - 1 - start : start;

	iter_init(it, z, rev);
	it->left = count;
	if (start >= len || count == 0)
		return;
	if (z->enc == AP_ENC_LISTPACK)
		it->pos = ap_lp_seek(z->obj, (long long)fwd_rank * 2);
	else
		it->pos = ap_zsl_at(z->obj, fwd_rank + 1, NULL);
}

/* Start of a bounded walk over either encoding: the first member in
 * the bound, or the last one for a reverse walk. */
static void iter_bound(struct ap_zset_iter *it, const struct ap_zset_bound *b)
{
	const struct ap_zset *z = it->z;

	if (z->enc == AP_ENC_LISTPACK)
		it->pos = it->rev ? lp_last_in(z->obj, b)
				  : lp_first_in(z->obj, b);
	else
		it->pos = it->rev ? (void *)ap_zsl_last_in(z->obj, b, NULL)
				  : (void *)ap_zsl_first_in(z->obj, b, NULL);
}

/* A score walk; an empty range gives an empty walk. */
void ap_zset_iter_score(struct ap_zset_iter *it, const struct ap_zset *z,
			const struct ap_zset_range *r, bool rev)
{
	struct ap_zset_bound b = {.r = r};

	iter_init(it, z, rev);
	it->bound = 1;
	it->range = *r;
	if (range_nonempty(r))
		iter_bound(it, &b);
}

/* A lex walk; an empty range gives an empty walk. */
void ap_zset_iter_lex(struct ap_zset_iter *it, const struct ap_zset *z,
		      const struct ap_zset_lex *r, bool rev)
{
	struct ap_zset_bound b = {.lex = r};

	iter_init(it, z, rev);
	it->bound = 2;
	it->lex = *r;
	if (lex_nonempty(r))
		iter_bound(it, &b);
}

/* Moves the walk's position one member on. */
static void iter_step(struct ap_zset_iter *it)
{
	const unsigned char *lp = it->z->obj;
	unsigned char *p = it->pos;

	if (it->z->enc == AP_ENC_SKIPLIST) {
		struct ap_zsl_node *n = it->pos;

		it->pos = it->rev ? (void *)n->back : (void *)n->fwd[0];
	} else if (it->rev) {
		p = ap_lp_prev(lp, p);
		it->pos = p ? ap_lp_prev(lp, p) : NULL;
	} else {
		it->pos = ap_lp_next(lp, ap_lp_next(lp, p));
	}
}

/* Skips n members: long skips on a skiplist go through ranks. */
void ap_zset_iter_skip(struct ap_zset_iter *it, size_t n)
{
	const struct ap_zsl *zs = it->z->obj;

	if (it->pos != NULL && it->z->enc == AP_ENC_SKIPLIST &&
	    n >= SKIP_BY_RANK_MIN) {
		size_t r = ap_zsl_rank(zs, it->pos);

		if (it->rev)
			it->pos = n < r ? ap_zsl_at(zs, r - n, NULL) : NULL;
		else
			it->pos = n <= zs->length - r
					  ? ap_zsl_at(zs, r + n, NULL)
					  : NULL;
		return;
	}
	while (n-- > 0 && it->pos != NULL)
		iter_step(it);
}

/* Lowers the walk's remaining count. */
void ap_zset_iter_limit(struct ap_zset_iter *it, size_t count)
{
	if (count < it->left)
		it->left = count;
}

/* True if the member and score read are still inside the walk's bound. */
static bool iter_in_bound(const struct ap_zset_iter *it, const char *m,
			  size_t len, double score)
{
	if (it->bound == 1)
		return it->rev ? score_gte_min(score, &it->range)
			       : score_lte_max(score, &it->range);
	if (it->bound == 2)
		return it->rev ? lex_gte_min(m, len, &it->lex)
			       : lex_lte_max(m, len, &it->lex);
	return true;
}

/* Reads the member at the walk's position, ends the walk when it left
 * the bound, else steps on. */
bool ap_zset_iter_next(struct ap_zset_iter *it, const char **m, size_t *len,
		       double *score)
{
	if (it->pos == NULL || it->left == 0)
		return false;
	if (it->z->enc == AP_ENC_SKIPLIST) {
		const struct ap_zsl_node *n = it->pos;

		*m = node_member(n);
		*len = n->mlen;
		*score = n->score;
	} else {
		*m = lp_member_at(it->pos, len, it->buf);
		*score = lp_score_at(ap_lp_next(it->z->obj, it->pos));
	}
	if (!iter_in_bound(it, *m, *len, *score)) {
		it->pos = NULL;
		return false;
	}
	iter_step(it);
	it->left--;
	return true;
}

/* Every member in order, through a rank walk. */
void ap_zset_each(const struct ap_zset *z, ap_zset_visit_fn *fn, void *arg)
{
	struct ap_zset_iter it;
	const char *m;
	size_t len;
	double score;

	ap_zset_iter_rank(&it, z, 0, SIZE_MAX, false);
	while (ap_zset_iter_next(&it, &m, &len, &score))
		fn(arg, m, len, score);
}

/* --- scan ---------------------------------------------------------------- */

struct scan_arg {
	ap_zset_visit_fn *fn;
	void *arg;
	size_t seen;
};

/* ap_dict_scan_fn: passes a node to the caller's function. */
static void scan_node(void *arg, const struct ap_dict_node *dn)
{
	struct scan_arg *sa = arg;
	const struct ap_zsl_node *n =
		AP_DICT_ENTRY(dn, struct ap_zsl_node, link);

	sa->fn(sa->arg, node_member(n), n->mlen, n->score);
	sa->seen++;
}

/* ZSCAN step: a listpack in one go, a skiplist through its index's scan. */
uint64_t ap_zset_scan(const struct ap_zset *z, uint64_t cursor, size_t count,
		      ap_zset_visit_fn *fn, void *arg)
{
	struct scan_arg sa = {.fn = fn, .arg = arg};
	struct ap_zsl *zs = z->obj;
	size_t steps;

	if (z->enc == AP_ENC_LISTPACK) {
		ap_zset_each(z, fn, arg);
		return 0;
	}
	/* As Redis: at most ten buckets per element asked for, so a sparse
	 * table cannot make one call long. */
	count = AP_MAX(count, (size_t)1);
	steps = count < SIZE_MAX / 10 ? count * 10 : SIZE_MAX;
	do {
		cursor = ap_dict_scan(&zs->dict, cursor, scan_node, &sa);
	} while (cursor != 0 && --steps > 0 && sa.seen < count);
	return cursor;
}

/* --- random members ------------------------------------------------------ */

/* A uniform integer in [0, n), n > 0. */
static size_t rand_below(uint64_t *rng, size_t n)
{
	return (size_t)(((unsigned __int128)ap_dict_rand(rng) * n) >> 64);
}

/* Visits a random selection of `want` of the len members in order
 * (Knuth's selection sampling: each is taken with probability
 * still-wanted / still-left). */
static size_t random_select(const struct ap_zset *z, size_t want, uint64_t *rng,
			    ap_zset_visit_fn *fn, void *arg)
{
	struct ap_zset_iter it;
	size_t left = ap_zset_len(z), taken = 0;
	const char *m;
	size_t len;
	double score;

	ap_zset_iter_rank(&it, z, 0, SIZE_MAX, false);
	while (taken < want && ap_zset_iter_next(&it, &m, &len, &score)) {
		if (rand_below(rng, left) < want - taken) {
			fn(arg, m, len, score);
			taken++;
		}
		left--;
	}
	AP_ASSERT(taken == want);
	return taken;
}

/* Visits count members of a listpack drawn independently. The member
 * positions are indexed once so each draw is O(1). */
static size_t lp_random_repeat(const struct ap_zset *z, size_t count,
			       uint64_t *rng, ap_zset_visit_fn *fn, void *arg)
{
	const unsigned char *lp = z->obj;
	size_t len = ap_zset_len(z), i = 0;
	unsigned char **pos = ap_malloc(len * sizeof(*pos));
	char buf[AP_LP_INTBUF_SIZE];

	for (unsigned char *p = ap_lp_first(lp); p != NULL;
	     p = ap_lp_next(lp, ap_lp_next(lp, p)))
		pos[i++] = p;
	for (i = 0; i < count; i++) {
		unsigned char *p = pos[rand_below(rng, len)];
		size_t mlen;
		const char *m = lp_member_at(p, &mlen, buf);

		fn(arg, m, mlen, lp_score_at(ap_lp_next(lp, p)));
	}
	ap_free(pos);
	return count;
}

/* Visits `count` distinct random nodes of a skiplist (count * 3 <= len):
 * random index picks, duplicates rejected through a small open-addressing
 * set of node pointers. */
static size_t zsl_random_unique(struct ap_zsl *zs, size_t count, uint64_t *rng,
				ap_zset_visit_fn *fn, void *arg)
{
	size_t slots = 4, taken = 0;
	const struct ap_zsl_node **seen;

	while (slots < count * 2)
		slots *= 2;
	seen = ap_calloc(slots, sizeof(*seen));
	while (taken < count) {
		struct ap_dict_node *dn = ap_dict_random(&zs->dict, rng);
		const struct ap_zsl_node *n =
			AP_DICT_ENTRY(dn, struct ap_zsl_node, link);
		size_t h =
			(size_t)(((uintptr_t)n >> 4) * 0x9E3779B97F4A7C15ULL) &
			(slots - 1);

		while (seen[h] != NULL && seen[h] != n)
			h = (h + 1) & (slots - 1);
		if (seen[h] == n)
			continue;
		seen[h] = n;
		fn(arg, node_member(n), n->mlen, n->score);
		taken++;
	}
	ap_free(seen);
	return taken;
}

/* ZRANDMEMBER: picks the sampling strategy by count and encoding. */
size_t ap_zset_random(const struct ap_zset *z, size_t count, bool unique,
		      ap_zset_visit_fn *fn, void *arg)
{
	size_t len = ap_zset_len(z);
	uint64_t rng = ap_dict_rng_seed() ^ (uintptr_t)z->obj;

	if (len == 0 || count == 0)
		return 0;
	if (unique) {
		if (count >= len) { /* all, highest first (as Redis) */
			struct ap_zset_iter it;
			const char *m;
			size_t mlen;
			double score;

			ap_zset_iter_rank(&it, z, 0, len, true);
			while (ap_zset_iter_next(&it, &m, &mlen, &score))
				fn(arg, m, mlen, score);
			return len;
		}
		if (z->enc == AP_ENC_LISTPACK || count * 3 > len)
			return random_select(z, count, &rng, fn, arg);
		return zsl_random_unique(z->obj, count, &rng, fn, arg);
	}
	if (z->enc == AP_ENC_LISTPACK)
		return lp_random_repeat(z, count, &rng, fn, arg);
	for (size_t i = 0; i < count; i++) {
		const struct ap_zsl_node *n = AP_DICT_ENTRY(
			ap_dict_random(&((struct ap_zsl *)z->obj)->dict, &rng),
			struct ap_zsl_node, link);

		fn(arg, node_member(n), n->mlen, n->score);
	}
	return count;
}

/* --- set operations ------------------------------------------------------- */

/* The inputs' own functions for a sorted set. */
static size_t input_len(const void *src)
{
	return ap_zset_len(src);
}

/* The ap_zset_input score function of a sorted set. */
static bool input_score(const void *src, const char *m, size_t len,
			double *score)
{
	return ap_zset_score(src, m, len, score);
}

/* The ap_zset_input walk of a sorted set. */
static void input_each(const void *src, ap_zset_visit_fn *fn, void *arg)
{
	ap_zset_each(src, fn, arg);
}

/* An input over a sorted set with a weight. */
void ap_zset_input(struct ap_zset_input *in, const struct ap_zset *z,
		   double weight)
{
	in->src = z;
	in->len = input_len;
	in->score = input_score;
	in->each = input_each;
	in->weight = weight;
}

/* Members of an input (0 for a missing key). */
static size_t in_len(const struct ap_zset_input *in)
{
	return in->src ? in->len(in->src) : 0;
}

/* True and the weighted score if m is in the input. */
static bool in_score(const struct ap_zset_input *in, const char *m, size_t len,
		     double *score)
{
	if (in->src == NULL || !in->score(in->src, m, len, score))
		return false;
	*score *= in->weight;
	if (isnan(*score))
		*score = 0;
	return true;
}

/* Combines two scores as ZUNIONSTORE's AGGREGATE does. */
static double aggregate(enum ap_zset_agg agg, double a, double b)
{
	double s;

	switch (agg) {
	case AP_ZAGG_MIN:
		return b < a ? b : a;
	case AP_ZAGG_MAX:
		return b > a ? b : a;
	default:
		s = a + b;
		return isnan(s) ? 0 : s;
	}
}

/* The state of one set operation: the result's members are nodes kept in
 * acc->dict only until they are sorted and linked at the end. */
struct combine {
	struct ap_zsl *acc;
	struct ap_zset_input *in;
	size_t n;
	size_t cur; /* the input being visited */
	enum ap_zset_agg agg;
	size_t limit; /* ZINTERCARD: stop counting here (0: none) */
	size_t count;
};

/* Adds (m, score) to the accumulator, or combines it with the member's
 * score if it is there already. */
static void acc_put(struct combine *cb, const char *m, size_t len, double score)
{
	uint64_t h = ap_dict_hash(m, len);
	struct ap_dict_node *dn =
		ap_dict_find_hashed(&cb->acc->dict, m, len, h);
	struct ap_zsl_node *n;

	if (dn != NULL) {
		n = AP_DICT_ENTRY(dn, struct ap_zsl_node, link);
		n->score = aggregate(cb->agg, n->score, score);
		return;
	}
	n = ap_zsl_node_create(cb->acc, m, len, score);
	ap_dict_insert_hashed(&cb->acc->dict, &n->link, h);
}

/* ap_zset_visit_fn of ZUNION: every member of every input. */
static void union_visit(void *arg, const char *m, size_t len, double score)
{
	struct combine *cb = arg;

	score *= cb->in[cb->cur].weight;
	acc_put(cb, m, len, isnan(score) ? 0 : score);
}

/* ap_zset_visit_fn of ZINTER (and ZINTERCARD when acc is NULL): a member
 * of the smallest input, kept if every other input has it. */
static void inter_visit(void *arg, const char *m, size_t len, double score)
{
	struct combine *cb = arg;

	if (cb->limit && cb->count >= cb->limit)
		return;
	score *= cb->in[0].weight;
	if (isnan(score))
		score = 0;
	for (size_t i = 1; i < cb->n; i++) {
		double s;

		if (!in_score(&cb->in[i], m, len, &s))
			return;
		score = aggregate(cb->agg, score, s);
	}
	cb->count++;
	if (cb->acc)
		acc_put(cb, m, len, score);
}

/* ap_zset_visit_fn of ZDIFF: a member of the first input, kept if no
 * other input has it, with its own score. */
static void diff_visit(void *arg, const char *m, size_t len, double score)
{
	struct combine *cb = arg;
	double s;

	for (size_t i = 1; i < cb->n; i++)
		if (in_score(&cb->in[i], m, len, &s))
			return;
	acc_put(cb, m, len, score);
}

/* Orders inputs by size, smallest first, keeping the given order between
 * equal sizes (insertion sort: there are few inputs). */
static void inputs_sort(struct ap_zset_input *in, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct ap_zset_input t = in[i];
		size_t j = i, tl = in_len(&t);

		while (j > 0 && in_len(&in[j - 1]) > tl) {
			in[j] = in[j - 1];
			j--;
		}
		in[j] = t;
	}
}

/* qsort order of node pointers: (score, member). */
static int node_ptr_cmp(const void *a, const void *b)
{
	const struct ap_zsl_node *x = *(const struct ap_zsl_node *const *)a;
	const struct ap_zsl_node *y = *(const struct ap_zsl_node *const *)b;

	return node_cmp(x, y->score, node_member(y), y->mlen);
}

/* ap_dict_free_fn used to collect the accumulator's nodes in an array. */
static void collect_node(void *arg, struct ap_dict_node *dn)
{
	struct ap_zsl_node ***w = arg;

	*(*w)++ = AP_DICT_ENTRY(dn, struct ap_zsl_node, link);
}

/* Links the accumulator's nodes in order and makes it the value of out
 * (compact when it fits). */
static void acc_finish(struct ap_zsl *acc, struct ap_zset *out)
{
	size_t n = ap_dict_size(&acc->dict);
	struct ap_zsl_node **v = ap_malloc((n ? n : 1) * sizeof(*v));
	struct ap_zsl_node **w = v;
	struct ap_zsl_builder b;

	/* Empty the index to sort, then re-insert in order. */
	ap_dict_clear(&acc->dict, collect_node, &w);
	AP_ASSERT((size_t)(w - v) == n);
	qsort(v, n, sizeof(*v), node_ptr_cmp);
	ap_dict_reserve(&acc->dict, n);
	ap_zsl_builder_init(&b, acc);
	for (size_t i = 0; i < n; i++) {
		ap_zsl_builder_add(&b, v[i]);
		ap_dict_insert(&acc->dict, &v[i]->link);
	}
	ap_zsl_builder_finish(&b);
	ap_free(v);
	out->obj = acc;
	out->enc = AP_ENC_SKIPLIST;
	convert_to_listpack_if_fits(out);
}

/* Union, intersection or difference into out (see zset.h): union and
 * intersection visit the inputs smallest first, as Redis does. */
void ap_zset_combine(struct ap_zset *out, enum ap_zset_op op,
		     struct ap_zset_input *in, size_t n, enum ap_zset_agg agg)
{
	struct combine cb = {
		.acc = ap_zsl_create(), .in = in, .n = n, .agg = agg};

	AP_ASSERT(n > 0);
	if (op != AP_ZOP_DIFF)
		inputs_sort(in, n);
	if (op == AP_ZOP_UNION) {
		for (cb.cur = 0; cb.cur < n; cb.cur++)
			if (in[cb.cur].src)
				in[cb.cur].each(in[cb.cur].src, union_visit,
						&cb);
	} else if (in_len(&in[0]) > 0) {
		in[0].each(in[0].src,
			   op == AP_ZOP_INTER ? inter_visit : diff_visit, &cb);
	}
	acc_finish(cb.acc, out);
}

/* ZINTERCARD: counts, keeping nothing. */
size_t ap_zset_inter_card(struct ap_zset_input *in, size_t n, size_t limit)
{
	struct combine cb = {.in = in, .n = n, .limit = limit};

	AP_ASSERT(n > 0);
	inputs_sort(in, n);
	if (in_len(&in[0]) > 0)
		in[0].each(in[0].src, inter_visit, &cb);
	return cb.count;
}

/* --- building in order ---------------------------------------------------- */

void ap_zset_append(struct ap_zset *z, const char *m, size_t len, double score)
{
	if (z->enc == AP_ENC_LISTPACK &&
	    (ap_zset_len(z) + 1 > z->lp_max || len > z->lp_value ||
	     !ap_lp_can_add(z->obj, len + LP_SCORE_RAW_LEN + 16)))
		convert_to_skiplist(z);
	if (z->enc == AP_ENC_LISTPACK) {
		char sbuf[LP_SCORE_BUF];
		size_t slen = lp_score_enc(score, sbuf);

		z->obj = ap_lp_append(z->obj, m, len);
		z->obj = ap_lp_append(z->obj, sbuf, slen);
		return;
	}
	struct ap_zsl *zs = z->obj;
	struct ap_zsl_node *n = ap_zsl_node_create(zs, m, len, score);

	AP_ASSERT(zs->tail == NULL || node_cmp(zs->tail, score, m, len) < 0);
	ap_zsl_link(zs, n);
	ap_dict_insert(&zs->dict, &n->link);
}

/* Ends ordered building: a result that fits becomes a listpack. */
void ap_zset_finish(struct ap_zset *z)
{
	convert_to_listpack_if_fits(z);
}

/* --- type operations -------------------------------------------------------
 */

static void ops_free(void *obj, enum ap_enc enc)
{
	obj_free(obj, enc);
}

/* Deep copy in the same encoding. */
static void *ops_dup(const void *obj, enum ap_enc enc)
{
	if (enc == AP_ENC_LISTPACK)
		return ap_lp_dup(obj);
	return ap_zsl_dup(obj);
}

/* Members, from either encoding. */
static size_t ops_length(const void *obj, enum ap_enc enc)
{
	if (enc == AP_ENC_LISTPACK)
		return ap_lp_count(obj) / 2;
	return ((const struct ap_zsl *)obj)->length;
}

/* Memory of the set: exact for listpacks; for skiplists the fixed parts
 * plus the average of the first MEM_SAMPLE nodes times the length. */
static size_t ops_mem(const void *obj, enum ap_enc enc)
{
	const struct ap_zsl *zs = obj;
	size_t sampled = 0, bytes = 0;

	if (enc == AP_ENC_LISTPACK)
		return ap_lp_alloc_size(obj);
	for (const struct ap_zsl_node *n = zs->head.fwd[0];
	     n && sampled < MEM_SAMPLE; n = n->fwd[0]) {
		bytes += ap_alloc_size(n);
		sampled++;
	}
	bytes = sampled ? bytes / sampled * zs->length : 0;
	return ap_alloc_size(zs) + ap_dict_mem(&zs->dict) + bytes;
}

/* Lazy free: the index hands the nodes back a budget at a time. */
static bool ops_free_some(void *obj, enum ap_enc enc, size_t budget)
{
	struct ap_zsl *zs = obj;

	if (enc == AP_ENC_LISTPACK) {
		ap_lp_free(obj);
		return true;
	}
	if (!ap_dict_clear_some(&zs->dict, budget, ap_zsl_node_free, NULL))
		return false;
	ap_free(zs);
	return true;
}

const struct ap_type_ops ap_zset_ops = {
	.name = "zset",
	.free = ops_free,
	.dup = ops_dup,
	.length = ops_length,
	.mem = ops_mem,
	.free_some = ops_free_some,
};

/* --- checks ----------------------------------------------------------------
 */

/* Asserts the listpack set's layout and order. */
static void lp_verify(const unsigned char *lp)
{
	char b1[AP_LP_INTBUF_SIZE], b2[AP_LP_INTBUF_SIZE];
	const char *pm = NULL;
	size_t plen = 0;
	double ps = 0;

	AP_ASSERT(ap_lp_count(lp) % 2 == 0);
	for (unsigned char *p = ap_lp_first(lp); p;) {
		unsigned char *sp = ap_lp_next(lp, p);
		size_t len;
		const char *m = lp_member_at(p, &len, pm == b1 ? b2 : b1);
		double s = lp_score_at(sp);

		AP_ASSERT(!isnan(s));
		AP_ASSERT(pm == NULL || elem_cmp(ps, pm, plen, s, m, len) < 0);
		/* Member text of an integer lives in a buffer: keep it. */
		pm = m;
		plen = len;
		ps = s;
		p = ap_lp_next(lp, sp);
	}
}

/* Checks the invariants of either encoding (tests). */
void ap_zset_verify(const struct ap_zset *z)
{
	if (z->enc == AP_ENC_LISTPACK) {
		lp_verify(z->obj);
	} else {
		AP_ASSERT(z->enc == AP_ENC_SKIPLIST);
		ap_zsl_verify(z->obj);
	}
}
