/*
 * keyspace_int.h - private to the keyspace: the layouts of entries,
 * tables, databases and the keyspace, the inline helpers that the hot
 * paths of more than one keyspace file use, and the few functions one of
 * those files calls in another.
 *
 * The keyspace is three files behind one public header, core/keyspace.h:
 *
 *   core/keyspace.c       the type registry, entries, the hash tables and
 *                         their incremental rehash, the volatile-key
 *                         vector, lazy and active expiry, SCAN
 *   core/keyspace_snap.c  the forkless snapshot engine: the EF_SNAP epoch
 *                         bit, the walk, preserve, abort, and the
 *                         graveyard of tables flushed during a snapshot
 *   core/keyspace_free.c  lazy free: big values and flushed tables queued
 *                         and freed a budget of elements at a time
 *
 * keyspace.c calls snap_keep (below) before it changes, replaces or
 * unlinks an entry, and hands values and tables it cannot free at once to
 * keyspace_free.c; keyspace_snap.c walks keyspace.c's tables and frees the
 * entries it takes from the graveyard through ap_ks_entry_dispose.
 *
 * Entry layout (one ap_malloc block, no padding):
 *
 *   next (8) | type_enc (1) | flags (1) | lru (3)          13-byte header
 *   [expire ms int64 (8) | volatile index uint32 (4)]     if EF_TTL
 *   key length (LEB128 varint) | key bytes
 *   value:  EMBSTR  varint length | bytes
 *           INT     int64 (8)
 *           RAW     pointer to a struct strbuf (8)
 *           other   pointer to the collection object (8)
 *
 * flags: EF_TTL (the TTL section is present), EF_SNAP (snapshot epoch,
 * see core/keyspace_snap.c), EF_PIN (a streamed reply reads the value:
 * see ap_entry_pin_set).
 *
 * Fields after the header are unaligned and accessed with memcpy (the
 * accessors are in core/keyspace.c). type_enc holds the type in its high
 * nibble and the encoding in its low nibble.
 *
 * Nobody outside these three files includes this one (unit tests use
 * core/keyspace.h only).
 */
#ifndef AP_CORE_KEYSPACE_INT_H
#define AP_CORE_KEYSPACE_INT_H

#include "core/keyspace.h"

#include <stddef.h>

/* Header flag: the entry has the TTL section. */
#define EF_TTL 0x01u
/* Header flag: the snapshot epoch of the entry (core/keyspace_snap.c). */
#define EF_SNAP 0x02u
/* Header flag: pinned by a streamed reply (ap_entry_pin_set): once
 * expired it reads as absent but is not deleted until unpinned. Never
 * copied (ap_entry_dup clears it). */
#define EF_PIN 0x04u

struct ap_entry {
	struct ap_entry *next;
	uint8_t type_enc;
	uint8_t flags;
	uint8_t lru[3];
	uint8_t data[];
};
#define ENTRY_HDR_SIZE offsetof(struct ap_entry, data)
_Static_assert(offsetof(struct ap_entry, data) == 13,
	       "the entry header is 13 bytes");
_Static_assert(sizeof(void *) == 8, "entries store 8-byte pointers");

struct table {
	struct ap_entry **b; /* NULL when the table has no buckets */
	size_t mask;	     /* buckets - 1 */
	size_t used;	     /* entries linked in this table */
};

struct vol {
	struct ap_entry ***chunks; /* directory of VOL_CHUNK-pointer chunks */
	size_t chunk_count;	   /* chunks allocated */
	size_t dir_cap;		   /* directory slots */
	size_t count;		   /* volatile entries */
};

struct ap_db {
	struct ap_keyspace *ks;
	struct table ht[2];
	ptrdiff_t rehash_idx; /* next ht[0] bucket to move; -1 if not */
	struct vol vol;
	/* Snapshot state of the table, which SWAPDB moves with it. */
	uint64_t snap_cursor; /* walk position (reverse binary, as SCAN) */
	size_t snap_pending;  /* linked entries of the old epoch */
	unsigned snap_origin; /* the table's database index at begin */
};

/* Lazy free: values and flushed tables too big to free in one go, freed
 * a budget at a time by ap_keyspace_lazy_step. */
struct lazy_item {
	struct lazy_item *next;
	struct ap_entry **buckets; /* a flushed table, or NULL */
	size_t bucket_count, pos;
	void *obj; /* a collection value */
	enum ap_type type;
	enum ap_enc enc;
	unsigned db; /* snapshot graveyard: the table's database at begin */
};

/* Snapshot states. FINISHING: aborted, old-epoch entries are still being
 * brought to the current epoch (silently) before the next begin. */
enum snap_state {
	SNAP_IDLE = 0,
	SNAP_ACTIVE = 1,
	SNAP_FINISHING = 2,
};

struct ap_keyspace {
	struct lazy_item *lazy_head, *lazy_tail;
	size_t lazy_count; /* items queued */
	bool lazy_on;	   /* big values are freed lazily */
	struct ap_db *dbs;
	unsigned db_count;
	bool active_expire;
	bool loading; /* no key expires while the data set loads */
	/* Told of every key that expires, before it goes (the log). */
	ap_expire_hook_fn *expire_hook;
	void *expire_arg;
	unsigned expire_db_next; /* active expiry resumes here */
	int64_t now_ms;
	uint64_t seed; /* hash seed, fixed for the keyspace's life */
	uint64_t rng;  /* splitmix64 state for sampling */
	struct ap_keyspace_stats stats;
	/* Forkless snapshot (core/keyspace_snap.c). */
	uint8_t snap_state;    /* enum snap_state */
	uint8_t snap_epoch;    /* EF_SNAP or 0: the bit of current entries */
	unsigned snap_db_next; /* databases below have nothing pending */
	ap_snap_emit_fn *snap_emit;
	void *snap_arg;
	uint64_t snap_emitted;
	/* Tables flushed during the snapshot, still to be walked, freed as
	 * they are. */
	struct lazy_item *grave_head, *grave_tail;
};

/* --- defined in core/keyspace.c -------------------------------------- */

/* The registered ops of a collection type; a missing one is a bug. */
const struct ap_type_ops *ap_ks_type_ops(enum ap_type type);
/* Frees an entry that left the table, or queues its big value for lazy
 * free. */
void ap_ks_entry_dispose(struct ap_keyspace *ks, struct ap_entry *e);
/* The linked entry named key in db, expired or not, or NULL. */
struct ap_entry *ap_ks_entry_find(struct ap_db *db, const char *key,
				  size_t klen);
/* Frees a volatile vector's chunks and directory and empties it. */
void ap_ks_vol_free(struct vol *v);

/* --- defined in core/keyspace_snap.c --------------------------------- */

/* snap_keep's slow path: a snapshot (or its abort) is under way. */
void ap_ks_snap_keep_slow(struct ap_db *db, struct ap_entry *e);
/* ap_db_flush's snapshot path for a table still owed entries. */
bool ap_ks_snap_flush_to_grave(struct ap_db *db);
/* Settles an aborted snapshot from the cron within the deadline. */
void ap_ks_snap_finish_cycle(struct ap_keyspace *ks, uint64_t deadline_us);
/* Keyspace destruction: forgets a snapshot under way. */
void ap_ks_snap_discard(struct ap_keyspace *ks);

/* --- defined in core/keyspace_free.c --------------------------------- */

/* Appends an item to the lazy-free queue. */
void ap_ks_lazy_push(struct ap_keyspace *ks, struct lazy_item *it);
/* Queues a collection value for lazy free. */
void ap_ks_lazy_push_obj(struct ap_keyspace *ks, void *obj, enum ap_type type,
			 enum ap_enc enc);
/* Queues a flushed table's buckets (and their entries) for lazy free. */
void ap_ks_lazy_push_table(struct ap_keyspace *ks, struct ap_entry **buckets,
			   size_t bucket_count);
/* Frees everything queued at once (keyspace destruction). */
void ap_ks_lazy_drain(struct ap_keyspace *ks);

/* ---------------------------------------------------------------- table */

/* True while ht[1] exists and ht[0] is being drained into it. */
static inline bool db_rehashing(const struct ap_db *db)
{
	return db->rehash_idx >= 0;
}

/* Buckets of a table (0 when unallocated). */
static inline size_t table_size(const struct table *t)
{
	return t->b != NULL ? t->mask + 1 : 0;
}

/* Reverses the bits of v. */
static inline uint64_t rev64(uint64_t v)
{
	v = (v >> 1 & 0x5555555555555555ULL) | (v & 0x5555555555555555ULL) << 1;
	v = (v >> 2 & 0x3333333333333333ULL) | (v & 0x3333333333333333ULL) << 2;
	v = (v >> 4 & 0x0F0F0F0F0F0F0F0FULL) | (v & 0x0F0F0F0F0F0F0F0FULL) << 4;
	return __builtin_bswap64(v);
}

/* Increments the masked bits of cursor v from the most significant one
 * down (reverse binary), so that buckets split by a grow are visited
 * together and no bucket is skipped when the mask changes. Used by SCAN
 * and by the snapshot walk. */
static inline uint64_t cursor_next(uint64_t v, uint64_t mask)
{
	v |= ~mask;
	v = rev64(v);
	v++;
	return rev64(v);
}

/* --------------------------------------------------- snapshot epochs */

/* True if e belongs to the snapshot's old epoch: it existed when the
 * snapshot began and has not been emitted (or settled) yet. */
static inline bool snap_old(const struct ap_keyspace *ks,
			    const struct ap_entry *e)
{
	return (e->flags & EF_SNAP) != ks->snap_epoch;
}

/* Stamps e with the current epoch: every entry linked into a table is
 * current (new, rebuilt after its old version was emitted, or attached
 * after it left the snapshot's view). Branch-free for the hot paths. */
static inline void snap_stamp(const struct ap_keyspace *ks, struct ap_entry *e)
{
	e->flags = (uint8_t)((e->flags & ~EF_SNAP) | ks->snap_epoch);
}

/* Before the linked entry e of db is changed, replaced, unlinked or
 * freed: emits its old version if a snapshot still owes it. One
 * predictable branch when no snapshot is under way. */
static inline void snap_keep(struct ap_db *db, struct ap_entry *e)
{
	if (AP_UNLIKELY(db->ks->snap_state != SNAP_IDLE))
		ap_ks_snap_keep_slow(db, e);
}

#endif
