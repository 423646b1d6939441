/*
 * set.h - the set object: the value of a Redis set key, an unordered
 * collection of distinct byte strings.
 *
 * Three encodings, as Redis 7.2:
 *
 *   AP_ENC_INTSET     a struct ap_intset (core/intset.h) while every member
 *                     is a canonical 64-bit integer ("12", not "012") and
 *                     there are at most set-max-intset-entries members.
 *   AP_ENC_LISTPACK   one listpack (core/listpack.h) of members while
 *                     there are at most set-max-listpack-entries members,
 *                     each at most set-max-listpack-value bytes. Lookups
 *                     are linear, which is why it stays small.
 *   AP_ENC_HASHTABLE  a struct ap_dict (core/dict.h) whose element is ONE
 *                     allocation: the dict link, a 1- or 5-byte length and
 *                     the member bytes (a 10-byte member costs 24 bytes plus
 *                     its bucket).
 *
 * Conversions go up only (intset -> listpack or hashtable, listpack ->
 * hashtable), never back, as Redis. The object pointer the keyspace stores
 * is the intset, the listpack or the dict itself: no wrapper.
 *
 * Handle: functions take a struct ap_set (object pointer + encoding), the
 * pair ap_entry_obj()/ap_entry_enc() of a keyspace entry. Any mutation may
 * move the object or change the encoding: the caller writes the handle
 * back (ap_entry_obj_set) after mutating.
 *
 * Members read out (struct ap_set_elem) point into the object or into the
 * elem's own buffer (integers are formatted there): valid until the next
 * mutation of the set, and only while the elem itself is not copied.
 *
 * Threading: none; a set belongs to the shard that owns its key.
 */
#ifndef AP_CORE_SET_H
#define AP_CORE_SET_H

#include "core/base.h"
#include "core/config.h"
#include "core/dict.h"
#include "core/intset.h"
#include "core/keyspace.h"
#include "core/listpack.h"

/* A set value: its object and encoding. */
struct ap_set {
	void *ptr; /* struct ap_intset *, unsigned char * or struct ap_dict * */
	enum ap_enc enc; /* AP_ENC_INTSET, AP_ENC_LISTPACK, AP_ENC_HASHTABLE */
};

/* The compact-encoding limits (set-max-intset-entries,
 * set-max-listpack-entries, set-max-listpack-value). */
struct ap_set_limits {
	size_t intset_max;
	size_t lp_entries_max;
	size_t lp_value_max;
};

/* One member as read out: always as bytes (str, len); is_int tells that
 * the member is a canonical integer, with its value in ll. The position
 * fields are private: they let ap_set_delete_elem remove the member
 * without a second lookup. */
struct ap_set_elem {
	const char *str;
	size_t len;
	bool is_int;
	int64_t ll;
	char buf[AP_LP_INTBUF_SIZE];
	void *pos_;    /* listpack position or dict node */
	uint32_t idx_; /* intset index */
};

/* Called with each member a scan visits; must not mutate the set. */
typedef void ap_set_elem_fn(void *arg, const struct ap_set_elem *e);

/* A walk over the members; see ap_set_iter_init. Fields private. */
struct ap_set_iter {
	struct ap_set *s;
	struct ap_dict_iter di;
	unsigned char *p; /* listpack position */
	uint32_t idx;	  /* intset index */
	bool started;
};

/* --- limits ---------------------------------------------------------- */

/* The limits a shard's configuration sets, the intset one clamped to
 * AP_SET_INTSET_ENTRIES_MAX. */
struct ap_set_limits ap_set_limits_of(const struct ap_config *cfg);

/* --- lifecycle ------------------------------------------------------- */

/* Makes s an empty set in the encoding Redis would give a new set whose
 * first member is m (len bytes) and that is about to receive `size_hint`
 * members (SADD's member count): intset if m is an integer and the hint
 * fits set-max-intset-entries, else listpack if the hint fits
 * set-max-listpack-entries (and m the value limit), else hashtable. The
 * caller owns the object: stored in the keyspace or freed with
 * ap_set_free. */
void ap_set_init_for(struct ap_set *s, const char *m, size_t len,
		     size_t size_hint, const struct ap_set_limits *lim);

/* Makes s an empty intset-encoded set (the destination of the *STORE
 * commands grows from there through ap_set_add). */
void ap_set_init(struct ap_set *s);

/* Frees a set object of any encoding in one go (type ops free). */
void ap_set_free(void *obj, enum ap_enc enc);

/* Frees at most about `budget` members of a hashtable-encoded set and
 * returns false, or frees the rest and the object and returns true
 * (compact encodings always go in one step). For lazy free of big sets;
 * the object may not be used in between except by further calls. */
bool ap_set_free_some(void *obj, enum ap_enc enc, size_t budget);

/* A deep copy with the same encoding, owned by the caller. O(n). */
void *ap_set_dup(const void *obj, enum ap_enc enc);

/* Members in the set. O(1). */
size_t ap_set_len_of(const void *obj, enum ap_enc enc);
static inline size_t ap_set_len(const struct ap_set *s)
{
	return ap_set_len_of(s->ptr, s->enc);
}

/* Bytes of memory the object uses, allocation sizes included; for a big
 * hashtable the nodes are sampled (AP_SET_MEM_SAMPLES) and extrapolated,
 * as Redis's MEMORY USAGE. */
#define AP_SET_MEM_SAMPLES 16
size_t ap_set_mem(const void *obj, enum ap_enc enc);

/* Converts s to encoding `to`, which must be above its current one
 * (intset < listpack < hashtable; asserted), sizing a new hashtable for
 * `size_hint` members (at least the current count). O(n). */
void ap_set_convert(struct ap_set *s, enum ap_enc to, size_t size_hint);

/* --- access ---------------------------------------------------------- */

/* True if m (len bytes) is a member. (May do a rehash step.) */
bool ap_set_contains(struct ap_set *s, const char *m, size_t len);

/* ap_set_contains for a member read from another set: uses e->is_int to
 * skip parsing (an intset answers by value, a non-integer is never in
 * one). */
bool ap_set_contains_elem(struct ap_set *s, const struct ap_set_elem *e);

/* Adds m (len bytes). Returns true if it was added, false if it was
 * already a member. Converts the encoding first when m does not fit it
 * (not an integer for an intset; longer than lim->lp_value_max or past
 * the listpack byte ceiling for a listpack) and after the insert when the
 * member count passes the encoding's limit. */
bool ap_set_add(struct ap_set *s, const char *m, size_t len,
		const struct ap_set_limits *lim);

/* Removes m. Returns true if it was a member. The caller deletes the key
 * when the set becomes empty. */
bool ap_set_remove(struct ap_set *s, const char *m, size_t len);

/* Reads a uniformly random member into *out; false if the set is empty.
 * Does not change the set. */
bool ap_set_random(struct ap_set *s, uint64_t *rng, struct ap_set_elem *out);

/* Calls fn with `count` members drawn independently and uniformly
 * (repetitions possible: SRANDMEMBER with a negative count); nothing if
 * the set is empty. A listpack is indexed once (one pointer per member)
 * so that each draw is O(1). fn must not mutate the set. */
void ap_set_random_many(struct ap_set *s, uint64_t *rng, size_t count,
			ap_set_elem_fn *fn, void *arg);

/* Removes the member e was read from by ap_set_random (or by
 * ap_set_iter_next, for a hashtable-encoded set only), with no second
 * lookup. e and every other elem read before are invalid afterwards. */
void ap_set_delete_elem(struct ap_set *s, struct ap_set_elem *e);

/* --- iteration ------------------------------------------------------- */

/*
 * Starts a walk over every member; ap_set_iter_deinit MUST end it. The set
 * must not be mutated during the walk, except that for a hashtable-
 * encoded set the member last returned may be removed with
 * ap_set_delete_elem.
 */
void ap_set_iter_init(struct ap_set_iter *it, struct ap_set *s);

/* Reads the next member into *out; false at the end. */
bool ap_set_iter_next(struct ap_set_iter *it, struct ap_set_elem *out);

void ap_set_iter_deinit(struct ap_set_iter *it);

/*
 * One SSCAN step from cursor: compact encodings visit every member and
 * return 0; a hashtable visits buckets (Redis's reverse-binary cursor,
 * see ap_dict_scan) until it has visited at least `count` members or
 * 10 * count buckets or the scan completes, and returns the next cursor
 * (0 when done). fn must not mutate the set.
 */
uint64_t ap_set_scan(struct ap_set *s, uint64_t cursor, size_t count,
		     ap_set_elem_fn *fn, void *arg);

#endif
