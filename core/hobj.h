/*
 * hobj.h - the hash object: the value of a Redis hash key, a map from
 * field strings to value strings.
 *
 * Two encodings, as Redis:
 *
 *   AP_ENC_LISTPACK   one listpack (core/listpack.h) of field, value,
 *                     field, value, ... while the hash has at most
 *                     hash-max-listpack-entries fields and every field and
 *                     value is at most hash-max-listpack-value bytes.
 *                     Lookups are linear, which is why it stays small.
 *   AP_ENC_HASHTABLE  a struct ap_dict (core/dict.h) whose element is ONE
 *                     allocation: the dict link, both lengths, the field
 *                     bytes and the value bytes. A value that changes is
 *                     rewritten in place while it fits the allocation.
 *
 * A hash converts from listpack to hashtable when an update would break
 * either limit (or the listpack's byte ceiling), never back, as Redis. The
 * object pointer the keyspace stores is the listpack itself or the dict:
 * there is no wrapper, so a small hash costs its listpack and nothing
 * more.
 *
 * Handle: functions take a struct ap_hobj (object pointer + encoding), the
 * pair ap_entry_obj()/ap_entry_enc() of a keyspace entry. Any mutation may
 * move the listpack or change the encoding: the caller writes the handle
 * back (ap_entry_obj_set) after mutating.
 *
 * Strings read out (ap_hobj_get, pairs passed to callbacks, iterators)
 * point into the object or into a caller's or iterator's buffer (listpack
 * integers are formatted there); they stay valid until the next mutation
 * of the hash (or the next iterator step, for iterator buffers).
 *
 * Threading: none; a hash belongs to the shard that owns its key.
 */
#ifndef AP_CORE_HOBJ_H
#define AP_CORE_HOBJ_H

#include "core/base.h"
#include "core/dict.h"
#include "core/keyspace.h"
#include "core/listpack.h"

/* A buffer that holds a listpack integer formatted as a string. */
#define AP_HOBJ_BUF_SIZE AP_LP_INTBUF_SIZE

/* A hash value: its object and encoding. */
struct ap_hobj {
	void *ptr;	 /* unsigned char * listpack or struct ap_dict * */
	enum ap_enc enc; /* AP_ENC_LISTPACK or AP_ENC_HASHTABLE */
};

/* The listpack limits (hash-max-listpack-entries, -value). */
struct ap_hobj_limits {
	size_t entries_max;
	size_t value_max;
};

/* One field and its value, as read out. */
struct ap_hobj_pair {
	const char *f;
	size_t flen;
	const char *v;
	size_t vlen;
};

/* Called with each pair a scan or sampling visits. The hash must not be
 * mutated from inside. */
typedef void ap_hobj_pair_fn(void *arg, const struct ap_hobj_pair *p);

/* --- lifecycle ------------------------------------------------------- */

/* Makes h an empty hash (an empty listpack). The caller owns it: it is
 * stored in the keyspace or freed with ap_hobj_free. */
void ap_hobj_init(struct ap_hobj *h);

/* Frees a hash object of either encoding in one go (type ops free). */
void ap_hobj_free(void *obj, enum ap_enc enc);

/* Frees at most about `budget` fields of a hashtable-encoded hash and
 * returns false, or frees the rest and the object and returns true (a
 * listpack always goes in one step). For lazy free of big hashes; the
 * object may not be used in between except by further calls. */
bool ap_hobj_free_some(void *obj, enum ap_enc enc, size_t budget);

/* A deep copy with the same encoding, owned by the caller. O(n). */
void *ap_hobj_dup(const void *obj, enum ap_enc enc);

/* Fields in the hash. O(1). */
size_t ap_hobj_len_of(const void *obj, enum ap_enc enc);
static inline size_t ap_hobj_len(const struct ap_hobj *h)
{
	return ap_hobj_len_of(h->ptr, h->enc);
}

/* Bytes of memory the object uses, allocation sizes included; for a big
 * hashtable the nodes are sampled (AP_HOBJ_MEM_SAMPLES) and extrapolated,
 * as Redis's MEMORY USAGE. */
#define AP_HOBJ_MEM_SAMPLES 16
size_t ap_hobj_mem(const void *obj, enum ap_enc enc);

/* Converts a listpack-encoded hash to a hashtable (no-op if it is one
 * already). O(n). */
void ap_hobj_convert(struct ap_hobj *h);

/* --- access ---------------------------------------------------------- */

/* The value of field f (flen bytes), its length in *vlen; NULL if the
 * field is absent. An integer listpack value is formatted into buf. */
const char *ap_hobj_get(struct ap_hobj *h, const char *f, size_t flen,
			size_t *vlen, char buf[AP_HOBJ_BUF_SIZE]);

/* True if field f exists. */
bool ap_hobj_exists(struct ap_hobj *h, const char *f, size_t flen);

/* Length in bytes of field f's value, 0 if the field is absent (HSTRLEN). */
size_t ap_hobj_strlen(struct ap_hobj *h, const char *f, size_t flen);

/* Sets field f to value v, inserting the field if absent; converts to a
 * hashtable first when the field or value is longer than lim->value_max
 * (or the listpack could not hold them), and after the insert when the
 * hash has more than lim->entries_max fields. Returns true if the field
 * was inserted, false if an existing value was replaced. */
bool ap_hobj_set(struct ap_hobj *h, const char *f, size_t flen, const char *v,
		 size_t vlen, const struct ap_hobj_limits *lim);

/* Deletes field f; true if it existed. Never converts (an emptied hash is
 * the caller's to delete). */
bool ap_hobj_delete(struct ap_hobj *h, const char *f, size_t flen);

/* Results of ap_hobj_incr_ll. */
enum ap_hobj_incr {
	AP_HOBJ_INCR_OK = 0,
	AP_HOBJ_INCR_NOT_INT,  /* the current value is not an integer */
	AP_HOBJ_INCR_OVERFLOW, /* the result does not fit in 64 bits */
};

/* HINCRBY: adds incr to the integer value of field f (0 if absent, the
 * field is then created) in place and stores the result in *out. On
 * NOT_INT or OVERFLOW nothing changes. */
enum ap_hobj_incr ap_hobj_incr_ll(struct ap_hobj *h, const char *f, size_t flen,
				  long long incr,
				  const struct ap_hobj_limits *lim,
				  long long *out);

/* --- iteration ------------------------------------------------------- */

/* A walk over every pair, in storage order. While it is open the hash
 * must not be mutated. ap_hobj_iter_deinit MUST be called (a hashtable
 * walk pauses the dict's rehashing). */
struct ap_hobj_iter {
	struct ap_hobj h;
	unsigned char *p;	/* listpack: the next field */
	struct ap_dict_iter di; /* hashtable */
	char fbuf[AP_HOBJ_BUF_SIZE];
	char vbuf[AP_HOBJ_BUF_SIZE];
};

void ap_hobj_iter_init(struct ap_hobj_iter *it, const struct ap_hobj *h);
/* Fills *p with the next pair (valid until the next step); false at the
 * end. */
bool ap_hobj_iter_next(struct ap_hobj_iter *it, struct ap_hobj_pair *p);
void ap_hobj_iter_deinit(struct ap_hobj_iter *it);

/*
 * One HSCAN step from `cursor`: calls fn for the pairs visited and returns
 * the next cursor, 0 when done. A listpack is visited whole (cursor 0, as
 * Redis). A hashtable visits buckets with the dict's reverse-binary cursor
 * until at least `count` pairs were visited, the scan ends, or count * 10
 * buckets were visited: every pair present for the whole scan is visited
 * at least once, across resizes.
 */
uint64_t ap_hobj_scan(struct ap_hobj *h, uint64_t cursor, size_t count,
		      ap_hobj_pair_fn *fn, void *arg);

/* --- random fields --------------------------------------------------- */

/* A uniformly random pair of a non-empty hash, into *p; listpack
 * integers are formatted into fbuf / vbuf. rng: ap_dict_rng_seed state. */
void ap_hobj_random(struct ap_hobj *h, uint64_t *rng, struct ap_hobj_pair *p,
		    char fbuf[AP_HOBJ_BUF_SIZE], char vbuf[AP_HOBJ_BUF_SIZE]);

/* Calls fn `count` times with a uniformly random pair of a non-empty hash
 * each time (repetitions allowed: HRANDFIELD with a negative count). */
void ap_hobj_random_repeat(struct ap_hobj *h, size_t count, uint64_t *rng,
			   ap_hobj_pair_fn *fn, void *arg);

/* Calls fn once for each of `count` distinct pairs chosen uniformly at
 * random; count must be below the hash's length (a caller wanting all of
 * them iterates). O(n) for listpacks and when count is above a third of
 * the fields, else O(count) expected. */
void ap_hobj_random_distinct(struct ap_hobj *h, size_t count, uint64_t *rng,
			     ap_hobj_pair_fn *fn, void *arg);

#endif
