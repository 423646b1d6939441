/*
 * keyspace.h - one shard's keyspace: its databases, their keys, values and
 * expiry.
 *
 * A shard owns one struct ap_keyspace holding `db_count` databases (SELECT).
 * Each database is a chained hash table (xxHash3 of the key) resized by
 * incremental rehashing, so no single call does O(n) work: a rehash moves a
 * few buckets per operation plus a time-budgeted step per loop tick, and
 * SCAN uses Redis's reverse-binary cursor so that every key present for the
 * whole scan is returned at least once across resizes.
 *
 * Entries are one allocation each: a packed header (chain pointer, 24-bit
 * LRU clock, type/encoding, flags), the expiry time and its index in the
 * volatile-key vector when the key has a TTL, the key length as a varint and
 * the key bytes, then the value: short strings inline (AP_ENC_EMBSTR),
 * integers inline (AP_ENC_INT), long strings as a pointer to a growable
 * buffer (AP_ENC_RAW), collections as a pointer to their object. A 16-byte
 * key with a 32-byte value costs one 64-byte allocation plus its bucket.
 *
 * Volatile keys (with a TTL) are also kept in a per-database vector, so that
 * active expiry samples them at random in O(1) as Redis does.
 *
 * Lazy expiry: every lookup first checks the key's TTL against the
 * keyspace's clock (ap_keyspace_set_now) and deletes an expired key, so an
 * expired key is never visible.
 *
 * Ownership: the keyspace owns its entries. A struct ap_entry pointer stays
 * valid until the next call that mutates this database; functions that may
 * move an entry take `struct ap_entry **` and update it.
 *
 * The implementation is core/keyspace.c, with the snapshot engine in
 * core/keyspace_snap.c and lazy free in core/keyspace_free.c; their
 * shared internals are in core/keyspace_int.h, private to those files.
 *
 * Threading: one keyspace is used by one thread (its shard) only. Entries
 * detached with ap_db_detach may be handed to another shard and attached
 * there (the memory is then freed by that shard: mimalloc allows it).
 */
#ifndef AP_CORE_KEYSPACE_H
#define AP_CORE_KEYSPACE_H

#include "core/base.h"

enum ap_type {
	AP_TYPE_STRING = 0,
	AP_TYPE_LIST = 1,
	AP_TYPE_SET = 2,
	AP_TYPE_ZSET = 3,
	AP_TYPE_HASH = 4,
	AP_TYPE_STREAM = 5,
	AP_TYPE__COUNT
};

enum ap_enc {
	AP_ENC_RAW = 0,	      /* string in a separate growable buffer */
	AP_ENC_INT = 1,	      /* string holding a canonical 64-bit integer */
	AP_ENC_EMBSTR = 2,    /* short string stored inside the entry */
	AP_ENC_HASHTABLE = 3, /* collection encodings, used by later types */
	AP_ENC_LISTPACK = 4,
	AP_ENC_QUICKLIST = 5,
	AP_ENC_INTSET = 6,
	AP_ENC_SKIPLIST = 7,
	AP_ENC_STREAM = 8,
	AP_ENC__COUNT
};

/* Strings up to this length are stored inline (OBJECT ENCODING "embstr",
 * as Redis's 44-byte limit). */
#define AP_EMBSTR_MAX 44
/* "No TTL" for expire arguments and results. */
#define AP_NO_EXPIRE (-1LL)

/* Values of collection types: how to free and copy them. Registered once
 * at start, before threads run. free() may be called from any shard. */
struct ap_type_ops {
	const char *name; /* TYPE reply: "list", "set", ... */
	void (*free)(void *obj, enum ap_enc enc);
	void *(*dup)(const void *obj, enum ap_enc enc);
	/* Elements, for lazy-free decisions and DEBUG OBJECT. */
	size_t (*length)(const void *obj, enum ap_enc enc);
	/* Optional. Bytes of memory the object uses (MEMORY USAGE, DEBUG
	 * OBJECT), allocation sizes included; sampled, for big objects. */
	size_t (*mem)(const void *obj, enum ap_enc enc);
	/* Optional. Lazy free of a big object, one budget at a time: frees at
	 * most about `budget` elements and returns false, or frees the rest
	 * and the object itself and returns true. The caller stops using obj
	 * once it returned true. NULL: free() is used in one go. */
	bool (*free_some)(void *obj, enum ap_enc enc, size_t budget);
};
void ap_type_register(enum ap_type type, const struct ap_type_ops *ops);
const char *ap_type_name(enum ap_type type);
/* OBJECT ENCODING name of an encoding ("embstr", "int", "raw", ...). */
const char *ap_enc_name(enum ap_enc enc);

struct ap_entry;
struct ap_db;
struct ap_keyspace;

struct ap_keyspace_stats {
	uint64_t hits;		/* keyspace_hits */
	uint64_t misses;	/* keyspace_misses */
	uint64_t expired;	/* expired_keys (lazy and active) */
	uint64_t expire_cycles; /* active expiry rounds run */
	uint64_t dirty;		/* changes since start (INFO, persistence) */
};

/* --- keyspace -------------------------------------------------------- */

struct ap_keyspace *ap_keyspace_create(unsigned db_count);
/* Frees every database and entry. */
void ap_keyspace_destroy(struct ap_keyspace *ks);
unsigned ap_keyspace_db_count(const struct ap_keyspace *ks);
struct ap_db *ap_keyspace_db(struct ap_keyspace *ks, unsigned idx);
/* The clock used for expiry: set once per loop tick or per command, as
 * Redis caches mstime per command. */
void ap_keyspace_set_now(struct ap_keyspace *ks, int64_t now_ms);
int64_t ap_keyspace_now(const struct ap_keyspace *ks);
struct ap_keyspace_stats *ap_keyspace_stats(struct ap_keyspace *ks);
/* SWAPDB: exchanges the contents of two databases. */
void ap_keyspace_swap_db(struct ap_keyspace *ks, unsigned a, unsigned b);
/* Turns active expiry on or off (DEBUG SET-ACTIVE-EXPIRE). */
void ap_keyspace_set_active_expire(struct ap_keyspace *ks, bool on);
/* While loading (replaying a log), no key counts as expired: a command
 * replayed sees the keys as they were when it first ran, since every
 * expiry in the log is absolute. Expired keys go once loading ends. */
void ap_keyspace_set_loading(struct ap_keyspace *ks, bool on);
bool ap_keyspace_loading(const struct ap_keyspace *ks);
/* Calls fn for every key that expires (lazily or actively), with its
 * database index, before it is deleted: the append-only log records a DEL
 * so that a replay, where nothing expires, sees the key gone as the
 * commands after it did. NULL to stop. */
typedef void ap_expire_hook_fn(void *arg, unsigned db, const char *key,
			       size_t klen);
void ap_keyspace_set_expire_hook(struct ap_keyspace *ks, ap_expire_hook_fn *fn,
				 void *arg);
/* Background work for one loop tick: active expiry over all databases
 * (Redis's sampling algorithm), incremental rehash and settling an
 * aborted snapshot, spending at most about budget_us. Returns the keys
 * expired. */
size_t ap_keyspace_cron(struct ap_keyspace *ks, uint64_t budget_us);
/* Lazy free (off by default; core/keyspace_free.c): deleted or
 * overwritten collections bigger than AP_LAZYFREE_THRESHOLD elements, and
 * flushed tables, are queued and freed by ap_keyspace_lazy_step, a budget
 * of elements at a time, so no call frees O(n) in one go. The owner calls
 * the step every loop tick while ap_keyspace_lazy_pending. */
void ap_keyspace_set_lazyfree(struct ap_keyspace *ks, bool on);
bool ap_keyspace_lazy_pending(const struct ap_keyspace *ks);
/* Items (values or tables) waiting (INFO lazyfree_pending_objects). */
size_t ap_keyspace_lazy_count(const struct ap_keyspace *ks);
/* Frees about `budget` elements; true while more is pending. */
bool ap_keyspace_lazy_step(struct ap_keyspace *ks, size_t budget);
/* LRU clock (seconds, 24 bits wrapping) stamped on entries on access. */
uint32_t ap_keyspace_lru_clock(const struct ap_keyspace *ks);

/* --- database -------------------------------------------------------- */

size_t ap_db_size(const struct ap_db *db);	    /* keys */
size_t ap_db_volatile_size(const struct ap_db *db); /* keys with a TTL */
/* Buckets allocated (both tables while rehashing), for DEBUG/INFO. */
size_t ap_db_buckets(const struct ap_db *db);
bool ap_db_is_rehashing(const struct ap_db *db);

enum ap_lookup_flags {
	AP_LK_READ = 1 << 0,	/* count keyspace hits/misses */
	AP_LK_NOTOUCH = 1 << 1, /* leave the LRU clock alone */
};
/* Finds a key; an expired key is deleted and not found (a pinned one is
 * only not found: see ap_entry_pin_set). */
struct ap_entry *ap_db_lookup(struct ap_db *db, const char *key, size_t klen,
			      unsigned flags);

/* Sets key to a string, replacing any value of any type (and its TTL).
 * Integers in canonical form are stored as AP_ENC_INT, strings up to
 * AP_EMBSTR_MAX inline, longer ones as AP_ENC_RAW. expire_ms is an absolute
 * Unix time in ms or AP_NO_EXPIRE. Returns the new entry. */
struct ap_entry *ap_db_set_string(struct ap_db *db, const char *key,
				  size_t klen, const char *val, size_t vlen,
				  int64_t expire_ms);
struct ap_entry *ap_db_set_int(struct ap_db *db, const char *key, size_t klen,
			       long long val, int64_t expire_ms);
/* Sets key to a collection object; ownership of obj passes to the db. */
struct ap_entry *ap_db_set_object(struct ap_db *db, const char *key,
				  size_t klen, enum ap_type type,
				  enum ap_enc enc, void *obj,
				  int64_t expire_ms);

/* Prefetch hints for a batch of lookups (pipelined commands): touch the
 * bucket of each key first (returns its hash), then the first entry of
 * each chain. No effect on contents or statistics. */
uint64_t ap_db_prefetch_bucket(const struct ap_db *db, const char *key,
			       size_t klen);
void ap_db_prefetch_entry(const struct ap_db *db, uint64_t h);

/* Deletes a key (the value is freed). Returns true if a live key was
 * deleted. */
bool ap_db_delete(struct ap_db *db, const char *key, size_t klen);
/* Deletes every key. During a snapshot that still owes keys of this db
 * the tables are handed to the snapshot walk, which frees them. */
void ap_db_flush(struct ap_db *db);

/* Unlinks a live key and returns its entry, now owned by the caller (who
 * attaches it somewhere or frees it with ap_entry_free). NULL if absent. */
struct ap_entry *ap_db_detach(struct ap_db *db, const char *key, size_t klen);
/* Inserts a detached entry under `key` (which may differ from its old key:
 * RENAME, MOVE), keeping value, TTL and LRU. A live key with that name is
 * replaced if `replace`, else the call fails and returns NULL with the
 * entry still owned by the caller. Returns the entry as stored. */
struct ap_entry *ap_db_attach(struct ap_db *db, struct ap_entry *e,
			      const char *key, size_t klen, bool replace);
void ap_entry_free(struct ap_entry *e);
/* Deep copy of an entry (COPY), owned by the caller, ready to attach. */
struct ap_entry *ap_entry_dup(const struct ap_entry *e);

/* Sets or clears (AP_NO_EXPIRE) a key's TTL; may move the entry. */
void ap_db_set_expire(struct ap_db *db, struct ap_entry **ep, int64_t when_ms);

/* Makes the string value of *ep a mutable AP_ENC_RAW buffer of exactly
 * new_len bytes: old bytes kept up to the shorter length, new bytes zero.
 * The buffer grows geometrically so repeated APPENDs are linear. May move
 * the entry. Returns the writable bytes (valid until the next mutation). */
char *ap_db_str_resize(struct ap_db *db, struct ap_entry **ep, size_t new_len);
/* Replaces the value of an integer-encodable string in place where it can
 * (INCR family); may move the entry. TTL and LRU are kept. */
void ap_db_str_set_int(struct ap_db *db, struct ap_entry **ep, long long v);

/* Calls fn for the live keys of the buckets visited from `cursor`; returns
 * the next cursor, 0 when done (Redis SCAN semantics). Visits at least
 * `count` buckets' worth of keys when there are that many. fn must not
 * mutate the database. */
typedef void ap_db_scan_fn(void *arg, const struct ap_entry *e);
uint64_t ap_db_scan(struct ap_db *db, uint64_t cursor, size_t count,
		    ap_db_scan_fn *fn, void *arg);
/* A random live key, or NULL if the database is empty. */
struct ap_entry *ap_db_random(struct ap_db *db);

/* --- entries --------------------------------------------------------- */

const char *ap_entry_key(const struct ap_entry *e, size_t *len);
enum ap_type ap_entry_type(const struct ap_entry *e);
enum ap_enc ap_entry_enc(const struct ap_entry *e);
/* Absolute Unix ms, or AP_NO_EXPIRE. */
int64_t ap_entry_expire(const struct ap_entry *e);
/* The string value. For AP_ENC_INT the digits are written into buf. */
#define AP_INT_STR_SIZE 24
const char *ap_entry_str(const struct ap_entry *e, size_t *len,
			 char buf[AP_INT_STR_SIZE]);
size_t ap_entry_str_len(const struct ap_entry *e);
/* True and *v set if the value is AP_ENC_INT. */
bool ap_entry_int(const struct ap_entry *e, long long *v);
/* Collection object and its encoding. */
void *ap_entry_obj(const struct ap_entry *e);
void ap_entry_obj_set(struct ap_entry *e, void *obj, enum ap_enc enc);
/* Seconds since last access (OBJECT IDLETIME). */
uint32_t ap_entry_idle_s(const struct ap_keyspace *ks,
			 const struct ap_entry *e);
/* Sets the access time idle_s seconds back (RESTORE IDLETIME). */
void ap_entry_set_idle_s(const struct ap_keyspace *ks, struct ap_entry *e,
			 uint64_t idle_s);
/* Bytes of memory this entry uses (allocation sizes, value included). */
size_t ap_entry_mem(const struct ap_entry *e);
/*
 * Pinning, for a reply streamed over several loop ticks (SMEMBERS of a
 * huge set, shards/stream.c): while pinned, the entry stays where it is
 * even once its TTL passes. Lookups (and SCAN, RANDOMKEY) then treat it
 * as absent without deleting it, and active expiry skips it; the first
 * lookup or expiry cycle after ap_entry_pin_set(e, false) deletes it as
 * usual. The caller keeps every writer of the key away meanwhile (the
 * shards layer holds a lock on it): a write reaching a pinned, expired
 * key is a bug (asserted). A copy (ap_entry_dup) is never pinned. The
 * flag is not counted: with several readers, the last one unpins.
 */
void ap_entry_pin_set(struct ap_entry *e, bool pinned);
bool ap_entry_pinned(const struct ap_entry *e);

/* --- snapshots ------------------------------------------------------- */

/*
 * Forkless, point-in-time snapshot of a whole keyspace (all databases),
 * docs/persistence.md "Snapshots without fork". One bit per entry tells
 * whether the running snapshot still owes it; no copy of the data set.
 * Implemented in core/keyspace_snap.c.
 *
 * Contract for code that changes values in place (commands, list/hash/
 * set/zset helpers): call ap_db_snap_preserve (or _entry) for a key
 * before the first in-place change of its value, encoding conversions
 * (ap_entry_obj_set) included. Everything the keyspace itself does
 * (set/replace, delete, detach, attach over a key, expiry, ap_db_set_
 * expire, ap_db_str_resize, ap_db_str_set_int, flush, SWAPDB) preserves
 * on its own.
 */

/* Called once per entry of the snapshot with the database index the
 * entry had at begin and the entry as it was then. The entry may be
 * expired (the loader drops it) or already unlinked (about to be freed);
 * it is valid during the call only. Must not modify the keyspace. */
typedef void ap_snap_emit_fn(void *arg, unsigned db, const struct ap_entry *e);
/* Starts a snapshot: from now on every entry that exists at this instant
 * is emitted exactly once, as it is at this instant, either by the walk
 * (ap_keyspace_snap_step) or just before it is first changed, deleted,
 * overwritten, expired, moved between databases, flushed or swapped.
 * Entries created after begin are never emitted. O(databases). Returns
 * false (nothing started) if one is active or still finishing an abort
 * (ap_keyspace_snap_busy). */
bool ap_keyspace_snap_begin(struct ap_keyspace *ks, ap_snap_emit_fn *emit,
			    void *arg);
/* True while a snapshot is emitting: begun, not complete, not aborted. */
bool ap_keyspace_snap_active(const struct ap_keyspace *ks);
/* True while a snapshot is active or an abort is being settled; begin
 * refuses while this is true. */
bool ap_keyspace_snap_busy(const struct ap_keyspace *ks);
/* Walks at most `budget` entries (and about 16 bucket or entry visits
 * per unit of budget: bounded work per loop tick). Returns true when
 * every entry has been emitted: the snapshot is complete and ends (emit
 * is not called again). After an abort it settles up to `budget` entries
 * silently and returns true once begin may be called again. True when
 * no snapshot is under way. */
bool ap_keyspace_snap_step(struct ap_keyspace *ks, size_t budget);
/* Before a command changes the value of key in db in place (LPUSH into
 * an existing list, APPEND, HSET, ...): emits the entry's current version
 * first if the snapshot has not emitted it yet. Cheap no-op when no
 * snapshot is active (one predictable branch) or key is absent. */
void ap_db_snap_preserve(struct ap_db *db, const char *key, size_t klen);
/* The same for an entry already looked up (e linked in db): saves the
 * second lookup. */
void ap_db_snap_preserve_entry(struct ap_db *db, struct ap_entry *e);
/* Stops emitting at once (a write error): the snapshot is abandoned.
 * Bookkeeping finishes in the background during later snap_step calls
 * or ap_keyspace_cron ticks (silently, no emit); snap_begin refuses until
 * it has. No-op when no snapshot is active. */
void ap_keyspace_snap_abort(struct ap_keyspace *ks);
/* Progress for INFO: entries emitted so far in this (or the last)
 * snapshot. */
uint64_t ap_keyspace_snap_emitted(const struct ap_keyspace *ks);

#endif
