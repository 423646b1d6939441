/*
 * zset.h - the sorted-set value: members (byte strings) ordered by
 * (score, member bytes), with O(log n) rank, score and lex queries.
 *
 * Encodings (the keyspace keeps the object pointer and the encoding):
 *
 *   AP_ENC_LISTPACK  a listpack (core/listpack.h) of member, score,
 *                    member, score ... in order. Used while the set holds
 *                    at most zset-max-listpack-entries members of at most
 *                    zset-max-listpack-value bytes each. A score that is
 *                    an integer is stored as a listpack integer (so -0
 *                    becomes 0, as in Redis's listpacks); any other score
 *                    as a 9-byte string: 0x01 then the double's 8 bytes,
 *                    so no score ever goes through text.
 *   AP_ENC_SKIPLIST  a skiplist with spans (rank in O(log n)) whose nodes
 *                    are ONE allocation each: the member->node index link
 *                    (core/dict.h, intrusive), score, backward pointer,
 *                    level count, forward pointers, spans of the levels
 *                    above the first (the first level's span is always 1,
 *                    so it is not stored) and the member bytes.
 *
 * A listpack converts to a skiplist when an add would break the limits;
 * a skiplist never converts back on deletes (as Redis). Results built by
 * the store commands are made compact when they fit (ap_zset_finish).
 *
 * struct ap_zset is a handle, not an allocation: the object pointer, its
 * encoding and the listpack limits, filled from the keyspace entry before
 * an operation and written back (ap_entry_obj_set) after a mutating one,
 * since a listpack moves when it grows and an add may convert it.
 *
 * Scores are doubles, never NaN inside a set; -inf and +inf are allowed.
 *
 * Threading: a zset belongs to its shard; nothing here is shared.
 */
#ifndef AP_CORE_ZSET_H
#define AP_CORE_ZSET_H

#include "core/base.h"
#include "core/keyspace.h"
#include "core/listpack.h"

struct ap_zset {
	void *obj;	 /* listpack, or the skiplist set */
	enum ap_enc enc; /* AP_ENC_LISTPACK or AP_ENC_SKIPLIST */
	size_t lp_max;	 /* zset-max-listpack-entries */
	size_t lp_value; /* zset-max-listpack-value */
};

/* Called once per element by pops, scans, random picks and set-operation
 * inputs. The member bytes are valid only during the call. */
typedef void ap_zset_visit_fn(void *arg, const char *m, size_t len,
			      double score);

/* --- lifecycle -------------------------------------------------------- */

/* Makes z an empty set with the given limits, in the encoding Redis's
 * zsetTypeCreate picks: listpack if size_hint elements of len_hint bytes
 * fit the limits, else skiplist. */
void ap_zset_create(struct ap_zset *z, size_t lp_max, size_t lp_value,
		    size_t size_hint, size_t len_hint);
/* Fills z with an existing object (from a keyspace entry). */
void ap_zset_open(struct ap_zset *z, void *obj, enum ap_enc enc, size_t lp_max,
		  size_t lp_value);
/* Frees the object; z->obj becomes NULL. */
void ap_zset_destroy(struct ap_zset *z);

/* The keyspace's value operations for sorted sets (free, dup, length,
 * mem, free_some), as core/keyspace.h describes them. */
extern const struct ap_type_ops ap_zset_ops;

/* --- single members ----------------------------------------------------- */

size_t ap_zset_len(const struct ap_zset *z);
/* True and *score set if m is a member. */
bool ap_zset_score(const struct ap_zset *z, const char *m, size_t len,
		   double *score);
/* 0-based rank of m (from the highest score if rev) and its score; false
 * if m is not a member. O(log n) for skiplists. */
bool ap_zset_rank(const struct ap_zset *z, const char *m, size_t len, bool rev,
		  size_t *rank, double *score);

enum ap_zadd_flags {
	AP_ZADD_NX = 1 << 0,   /* only add new members */
	AP_ZADD_XX = 1 << 1,   /* only update existing members */
	AP_ZADD_GT = 1 << 2,   /* update only if the new score is greater */
	AP_ZADD_LT = 1 << 3,   /* update only if the new score is less */
	AP_ZADD_INCR = 1 << 4, /* score is an increment */
};
enum ap_zadd_result {
	AP_ZADD_NOP = 0,     /* nothing changed (flags said no, or same) */
	AP_ZADD_ADDED = 1,   /* a new member */
	AP_ZADD_UPDATED = 2, /* an existing member's score changed */
	AP_ZADD_SAME = 3,    /* exists, flags allowed it, score unchanged */
	AP_ZADD_NAN = 4,     /* INCR gave NaN: nothing changed */
};
/*
 * ZADD's core for one member, as Redis's zsetAdd: score must not be NaN.
 * With AP_ZADD_INCR the score is added to the current one (0 for a new
 * member). *newscore is set to the member's score afterwards unless the
 * result is NOP or NAN. The caller checks the flags' compatibility (NX
 * with XX, GT or LT; GT with LT). May convert the encoding.
 */
enum ap_zadd_result ap_zset_add(struct ap_zset *z, const char *m, size_t len,
				double score, unsigned flags, double *newscore);
/* Removes m; false if it was not a member. */
bool ap_zset_del(struct ap_zset *z, const char *m, size_t len);

/* --- ranges -------------------------------------------------------------- */

/* A score interval; minex/maxex make an end exclusive. */
struct ap_zset_range {
	double min, max;
	bool minex, maxex;
};

/* A lex interval: each end is -, + or a [inclusive / (exclusive string. */
enum ap_zset_lex_kind {
	AP_ZLEX_NEG_INF = 0, /* "-" */
	AP_ZLEX_POS_INF = 1, /* "+" */
	AP_ZLEX_INCL = 2,    /* "[abc" */
	AP_ZLEX_EXCL = 3,    /* "(abc" */
};
struct ap_zset_lex {
	const char *min, *max; /* bytes after the [ or ( */
	size_t minlen, maxlen;
	enum ap_zset_lex_kind min_kind, max_kind;
};

/* Parses ZRANGEBYSCORE-style bounds ("1.5", "(1.5", "-inf", "+inf").
 * False if either is not a float (or is NaN). */
bool ap_zset_range_parse(const char *min, size_t minlen, const char *max,
			 size_t maxlen, struct ap_zset_range *out);
/* Parses ZRANGEBYLEX-style bounds; the result points into the
 * arguments. False if either is not a valid lex bound. */
bool ap_zset_lex_parse(const char *min, size_t minlen, const char *max,
		       size_t maxlen, struct ap_zset_lex *out);

/* Members in a score / lex interval. O(log n) for skiplists. */
size_t ap_zset_count(const struct ap_zset *z, const struct ap_zset_range *r);
size_t ap_zset_lex_count(const struct ap_zset *z, const struct ap_zset_lex *r);

/* Deletes the members with ranks start..end (inclusive, 0-based from the
 * lowest, start <= end < len) / in a score or lex interval; returns how
 * many went. O(log n + deleted) for skiplists. */
size_t ap_zset_del_rank(struct ap_zset *z, size_t start, size_t end);
size_t ap_zset_del_range(struct ap_zset *z, const struct ap_zset_range *r);
size_t ap_zset_del_lex(struct ap_zset *z, const struct ap_zset_lex *r);

/*
 * Removes up to count members from the lowest (or, if max, the highest)
 * score end, calling fn for each before it goes, in pop order. Returns
 * the number popped. For ZPOPMIN/ZPOPMAX/ZMPOP and the blocking layer's
 * BZPOPMIN/BZPOPMAX/BZMPOP: the caller deletes the key if the set is
 * left empty.
 */
size_t ap_zset_pop(struct ap_zset *z, bool max, size_t count,
		   ap_zset_visit_fn *fn, void *arg);

/* --- iteration ----------------------------------------------------------- */

/*
 * Walks members in order (or reverse order) from a start point until a
 * limit: a count of members, or leaving a score or lex interval. Start
 * with ap_zset_iter_rank / _score / _lex, optionally skip (LIMIT offset)
 * and cap (LIMIT count), then call ap_zset_iter_next until it returns
 * false. The set must not change while a walk is open; the walk needs no
 * cleanup.
 */
struct ap_zset_iter {
	const struct ap_zset *z;
	void *pos;   /* listpack member position, or skiplist node; NULL */
	size_t left; /* members still allowed */
	bool rev;
	uint8_t bound; /* 0: none, 1: score, 2: lex */
	struct ap_zset_range range;
	struct ap_zset_lex lex;
	char buf[AP_LP_INTBUF_SIZE]; /* an integer member as text */
};
/* Members with ranks start.. (counted from the highest if rev), at most
 * count of them. start >= len gives an empty walk. */
void ap_zset_iter_rank(struct ap_zset_iter *it, const struct ap_zset *z,
		       size_t start, size_t count, bool rev);
/* Members in the interval, from its low end (its high end if rev). */
void ap_zset_iter_score(struct ap_zset_iter *it, const struct ap_zset *z,
			const struct ap_zset_range *r, bool rev);
void ap_zset_iter_lex(struct ap_zset_iter *it, const struct ap_zset *z,
		      const struct ap_zset_lex *r, bool rev);
/* Skips up to n members of the walk (O(log n) for skiplists). */
void ap_zset_iter_skip(struct ap_zset_iter *it, size_t n);
/* Caps the members the walk still returns at count. */
void ap_zset_iter_limit(struct ap_zset_iter *it, size_t count);
/* The next member; false at the end of the walk. *m is valid until the
 * next call or any change to the set. */
bool ap_zset_iter_next(struct ap_zset_iter *it, const char **m, size_t *len,
		       double *score);

/* Calls fn for every member, in order. */
void ap_zset_each(const struct ap_zset *z, ap_zset_visit_fn *fn, void *arg);

/*
 * One ZSCAN step from cursor: calls fn for the members of about `count`
 * buckets (listpacks: every member, cursor 0) and returns the next
 * cursor, 0 at the end. Every member present for the whole scan is seen
 * at least once (Redis SCAN guarantees, across resizes).
 */
uint64_t ap_zset_scan(const struct ap_zset *z, uint64_t cursor, size_t count,
		      ap_zset_visit_fn *fn, void *arg);

/*
 * ZRANDMEMBER: if unique, min(count, len) distinct members; else count
 * members drawn independently (repeats allowed). fn gets each; returns
 * how many it called fn for. The order is unspecified.
 */
size_t ap_zset_random(const struct ap_zset *z, size_t count, bool unique,
		      ap_zset_visit_fn *fn, void *arg);

/* --- set operations ------------------------------------------------------ */

/*
 * An input of ZUNION / ZINTER / ZDIFF: anything that can list its members
 * with scores and look one up. Sorted sets use ap_zset_input(); plain
 * sets are given by the command layer (score 1). src NULL is an empty
 * input (a missing key).
 */
struct ap_zset_input {
	const void *src;
	size_t (*len)(const void *src);
	bool (*score)(const void *src, const char *m, size_t len,
		      double *score);
	void (*each)(const void *src, ap_zset_visit_fn *fn, void *arg);
	double weight;
};
/* Fills in an input over the sorted set z (which must outlive it). */
void ap_zset_input(struct ap_zset_input *in, const struct ap_zset *z,
		   double weight);

enum ap_zset_agg {
	AP_ZAGG_SUM = 0,
	AP_ZAGG_MIN = 1,
	AP_ZAGG_MAX = 2,
};
enum ap_zset_op {
	AP_ZOP_UNION = 0,
	AP_ZOP_INTER = 1,
	AP_ZOP_DIFF = 2,
};
/*
 * Computes the union / intersection / difference of n inputs into out
 * (created here with out's limits lp_max and lp_value, which the caller
 * sets; listpack-encoded when the result fits). Scores are the inputs'
 * times their weights (NaN from inf*0 counts as 0), combined by agg (a sum
 * giving NaN, inf + -inf, counts as 0), as Redis. The difference keeps the
 * first input's scores and ignores weights. The inputs are read only.
 */
void ap_zset_combine(struct ap_zset *out, enum ap_zset_op op,
		     struct ap_zset_input *in, size_t n, enum ap_zset_agg agg);
/* ZINTERCARD: size of the intersection of n inputs, stopping at limit
 * (0: no limit). */
size_t ap_zset_inter_card(struct ap_zset_input *in, size_t n, size_t limit);

/*
 * Building a set from members already in order (ZRANGESTORE): create out
 * with ap_zset_create, then ap_zset_append members in strictly increasing
 * (score, member) order, then ap_zset_finish, which makes a small result
 * a listpack. An append is O(1) on a listpack, O(log n) on a skiplist.
 */
void ap_zset_append(struct ap_zset *z, const char *m, size_t len, double score);
void ap_zset_finish(struct ap_zset *z);

/* --- checks --------------------------------------------------------------- */

/* Asserts every structural invariant (order, spans, back links, the
 * index, the count, the listpack layout). O(n): for tests. */
void ap_zset_verify(const struct ap_zset *z);

#endif
