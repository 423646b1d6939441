/*
 * dict.h - the collection hash table: an intrusive chained hash table with
 * incremental rehashing, used by sets, hashes and sorted sets.
 *
 * Intrusive: the table stores no entries of its own. An element embeds a
 * struct ap_dict_node (at any offset; convert back with AP_DICT_ENTRY, a
 * container_of) and the dict's type gives a callback returning the
 * element's key bytes. A set member, a hash field with its value, or a
 * sorted-set skiplist node is therefore ONE allocation, and the table's
 * only memory is its bucket arrays (8 bytes per bucket).
 *
 * Hashing: XXH3-64 with a process-wide seed drawn from getrandom() once at
 * load time (before threads). Keys are compared as bytes.
 *
 * Sizing: bucket counts are powers of two. The table grows (to twice the
 * element count, rounded up to a power of two) when an insert brings the
 * load to 1, and shrinks (to the element count rounded up) when a removal
 * leaves it below 1/4 (also checked when a shrink completes). A resize
 * allocates the new bucket array and then moves AP_DICT_REHASH_BUCKETS old
 * buckets per find/insert/remove (and per ap_dict_rehash_step call, for idle
 * time), so no call does O(n) work. While rehashing, elements live in two
 * tables: lookups probe both.
 *
 * Pausing: an iterator or a scan in progress pauses rehash steps (nodes do
 * not move between tables) but not resizes, so inserts and removals stay
 * correct while paused.
 *
 * Ownership: the dict never allocates or frees nodes, only bucket arrays.
 * The caller allocates a node, inserts it, and after removing it (the node
 * is then unlinked and the caller's again) frees it. ap_dict_clear and
 * ap_dict_clear_some hand each node to a callback to be freed.
 *
 * Threading: a dict is used by one thread at a time. Nothing here is
 * global except the hash seed, written once before main().
 */
#ifndef AP_CORE_DICT_H
#define AP_CORE_DICT_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"

/* Old-table buckets moved per find/insert/remove while rehashing. */
#define AP_DICT_REHASH_BUCKETS 1

/* The link embedded in every element. Belongs to the dict while the
 * element is inserted; do not touch it then. */
struct ap_dict_node {
	struct ap_dict_node *next;
};

/* The element that embeds node as member `field` (container_of). */
#define AP_DICT_ENTRY(node, type, field) \
	((type *)(void *)((char *)(node)-offsetof(type, field)))

/* Returns the key bytes of an inserted element and their length. The
 * bytes must not change while the element is in a dict. */
typedef const char *ap_dict_key_fn(const struct ap_dict_node *node,
				   size_t *len);

/* A dict's behaviour: static, shared by every dict of a kind. */
struct ap_dict_type {
	ap_dict_key_fn *key;
};

/* Called once per node by ap_dict_clear / ap_dict_clear_some, with the
 * node already unlinked: free it (and whatever it owns). */
typedef void ap_dict_free_fn(void *arg, struct ap_dict_node *node);

/* Called by ap_dict_scan for each node of the visited buckets. Must not
 * insert or remove anything in the dict. */
typedef void ap_dict_scan_fn(void *arg, const struct ap_dict_node *node);

/* The table. Embed it (56 bytes) or allocate it; fields are private. */
struct ap_dict {
	const struct ap_dict_type *type;
	struct ap_dict_node **table[2]; /* [1] only while rehashing */
	size_t used[2];			/* elements in each table */
	int64_t rehash_idx;		/* next table[0] bucket; -1: idle */
	int8_t exp[2];			/* log2(buckets); -1: no array */
	uint16_t pause;			/* iterators and scans running */
};

/* A walk over every element; see ap_dict_iter_init. Fields private. */
struct ap_dict_iter {
	struct ap_dict *d;
	struct ap_dict_node *next; /* the next node to return, if any */
	size_t idx;		   /* bucket index in table[tbl] */
	int tbl;
	bool started;
};

/* --- lifecycle ------------------------------------------------------- */

/* Initializes an empty dict in place: no bucket array is allocated until
 * the first insert. */
void ap_dict_init(struct ap_dict *d, const struct ap_dict_type *type);

/* Allocates and initializes an empty dict. Free with ap_dict_destroy. */
struct ap_dict *ap_dict_create(const struct ap_dict_type *type);

/* Unlinks every node and passes it to fn (may be NULL if the nodes are
 * freed elsewhere), then releases the bucket arrays. The dict is empty and
 * usable afterwards. O(n): for big dicts use ap_dict_clear_some. No
 * iterator may be open. */
void ap_dict_clear(struct ap_dict *d, ap_dict_free_fn *fn, void *arg);

/* Incremental ap_dict_clear: unlinks and passes to fn at most about
 * `budget` nodes (empty buckets visited count too, one per 16), then
 * returns false; once the dict is empty it releases the bucket arrays and
 * returns true. Between calls the dict may only be cleared further (the
 * rehash index is used as the clearing cursor): no finds or inserts. */
bool ap_dict_clear_some(struct ap_dict *d, size_t budget, ap_dict_free_fn *fn,
			void *arg);

/* ap_dict_clear, then frees a dict made by ap_dict_create. */
void ap_dict_destroy(struct ap_dict *d, ap_dict_free_fn *fn, void *arg);

/* --- size and memory ------------------------------------------------- */

/* Elements in the dict. */
static inline size_t ap_dict_size(const struct ap_dict *d)
{
	return d->used[0] + d->used[1];
}

/* Buckets allocated (both tables while rehashing). */
size_t ap_dict_buckets(const struct ap_dict *d);

/* Bytes of memory the bucket arrays use (allocation sizes), excluding the
 * struct ap_dict itself and the nodes. */
size_t ap_dict_mem(const struct ap_dict *d);

/* True while a resize is in progress (two tables). */
static inline bool ap_dict_is_rehashing(const struct ap_dict *d)
{
	return d->rehash_idx >= 0;
}

/* Moves up to `buckets` old buckets to the new table (nothing when idle
 * or paused). Returns true if a rehash is still in progress afterwards.
 * For idle-time work: every mutating call already does a little. */
bool ap_dict_rehash_step(struct ap_dict *d, size_t buckets);

/* Makes room for `count` elements without growing again: starts a resize
 * to the right size if the table is smaller (incremental as any other;
 * only the new bucket array is allocated at once). Does nothing while a
 * rehash is in progress. Use before bulk inserts of a known count. */
void ap_dict_reserve(struct ap_dict *d, size_t count);

/* --- lookup and update ----------------------------------------------- */

/* The dict's hash of a key (seeded XXH3-64), for the *_hashed variants
 * that spare a second hash computation. */
uint64_t ap_dict_hash(const char *key, size_t len);

/* The node whose key equals key[0..len), or NULL. May do a rehash step. */
struct ap_dict_node *ap_dict_find(struct ap_dict *d, const char *key,
				  size_t len);

/* ap_dict_find with the key's hash already computed by ap_dict_hash. */
struct ap_dict_node *ap_dict_find_hashed(struct ap_dict *d, const char *key,
					 size_t len, uint64_t hash);

/* Inserts node, whose key the CALLER GUARANTEES is not in the dict yet
 * (not checked: a duplicate would shadow the other). May start a resize and do
 * a rehash step. O(1). */
void ap_dict_insert(struct ap_dict *d, struct ap_dict_node *node);

/* ap_dict_insert with the node's key hash already computed (typically by
 * a preceding ap_dict_find_hashed that found nothing; any mutation may
 * happen in between, the hash stays valid). */
void ap_dict_insert_hashed(struct ap_dict *d, struct ap_dict_node *node,
			   uint64_t hash);

/* Inserts node unless an element with the same key is present. Returns
 * NULL if node was inserted, else the existing node (node untouched and
 * still the caller's). */
struct ap_dict_node *ap_dict_insert_or_find(struct ap_dict *d,
					    struct ap_dict_node *node);

/* Unlinks the node with key key[0..len) and returns it (now the caller's
 * to free), or NULL if there is none. May start a shrink. */
struct ap_dict_node *ap_dict_remove(struct ap_dict *d, const char *key,
				    size_t len);

/* Unlinks node, which must be in the dict (asserted). May start a shrink.
 * O(chain length). */
void ap_dict_remove_node(struct ap_dict *d, struct ap_dict_node *node);

/* Puts new_node in the place of old_node, which must be in the dict
 * (asserted); new_node must have the same key. For reallocating an element
 * (a hash value that grew): allocate the new copy, replace, free the old.
 * Never resizes; safe during iteration if old_node is the node last
 * returned (the iterator then continues after new_node). */
void ap_dict_replace_node(struct ap_dict *d, struct ap_dict_node *old_node,
			  struct ap_dict_node *new_node);

/* --- iteration ------------------------------------------------------- */

/*
 * Starts a walk over every element and pauses rehash steps until
 * ap_dict_iter_deinit (which MUST be called). While the walk is open the
 * caller may remove the node last returned (ap_dict_remove_node or
 * ap_dict_remove), replace it (ap_dict_replace_node), and insert new
 * elements (returned or not, unspecified); removing any other node is
 * forbidden. Every element present for the whole walk is returned exactly
 * once.
 */
void ap_dict_iter_init(struct ap_dict_iter *it, struct ap_dict *d);

/* The next element, or NULL at the end. */
struct ap_dict_node *ap_dict_iter_next(struct ap_dict_iter *it);

/* Ends the walk and lets rehashing resume. */
void ap_dict_iter_deinit(struct ap_dict_iter *it);

/*
 * One SCAN step with Redis's reverse-binary cursor: calls fn for every
 * node of the bucket `cursor` designates (in both tables while rehashing:
 * the small table's bucket and every bucket of the large table it expands
 * to) and returns the next cursor, 0 when the scan is complete. Start with
 * cursor 0. Every element present from the start of a scan to its end is
 * returned at least once, across any number of resizes between calls;
 * some may be returned more than once. Callers loop until they have
 * enough elements or the cursor is 0. fn must not mutate the dict.
 */
uint64_t ap_dict_scan(struct ap_dict *d, uint64_t cursor, ap_dict_scan_fn *fn,
		      void *arg);

/* --- random elements ------------------------------------------------- */

/* Seeds a random state for ap_dict_rand / ap_dict_random from the cycle
 * counter and the clock: call once per command that samples. */
uint64_t ap_dict_rng_seed(void);

/* The next 64 random bits of *state (not cryptographic). */
uint64_t ap_dict_rand(uint64_t *state);

/* A uniformly random element, or NULL if the dict is empty. Fair: every
 * element has the same probability whatever its chain (rejection
 * sampling over buckets and 8 chain slots per bucket; members of chains
 * longer than 8, about one bucket in a million with a seeded hash at load
 * <= 1, are slightly under-sampled). Expected O(1): about 8 / load bucket
 * probes, and the load is kept at least 1/4 once resizes settle. Does not
 * change the dict. */
struct ap_dict_node *ap_dict_random(struct ap_dict *d, uint64_t *rng);

#endif
