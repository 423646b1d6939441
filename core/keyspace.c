/*
 * keyspace.c - one shard's databases: chained hash tables with incremental
 * rehashing, compact one-allocation entries, the volatile-key vector, lazy
 * and active expiry, SCAN, and the type registry.
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
 * see "snapshots").
 *
 * Fields after the header are unaligned and accessed with memcpy. type_enc
 * holds the type in its high nibble and the encoding in its low nibble.
 * Entries never move during a rehash (only their chain links change); they
 * move (are rebuilt in a new block) when their TTL section appears or
 * disappears, when a string changes encoding, and on attach under a new
 * key. Whoever rebuilds an entry relinks it in its chain by re-walking the
 * bucket and fixes its slot in the volatile vector.
 *
 * The table follows the classic incremental scheme: ht[0] is the live
 * table; while rehashing, ht[1] is the new one, buckets of ht[0] below
 * rehash_idx are already moved, and inserts go to ht[1]. Grow at load
 * factor 1, shrink below 1/8 to a load of at most 1/2, never under
 * TABLE_MIN_SIZE buckets.
 *
 * The volatile vector is chunked (VOL_CHUNK pointers per chunk) so that it
 * grows and shrinks without copying the whole array in one call.
 */
#include "core/keyspace.h"
#include "core/limits.h"

#include <stddef.h>
#include <string.h>

#include <xxhash.h>

/* Header flag: the entry has the TTL section. */
#define EF_TTL 0x01u
/* Header flag: the snapshot epoch of the entry (see "snapshots" below). */
#define EF_SNAP 0x02u
/* Bytes of the TTL section: int64 expire time + uint32 volatile index. */
#define TTL_SECTION_SIZE 12
#define LRU_MASK	 0xFFFFFFu
/* Smallest bucket array of a non-empty table. */
#define TABLE_MIN_SIZE 4
/* Shrink when keys < buckets / SHRINK_RATIO. */
#define SHRINK_RATIO 8
/* Empty buckets a rehash step may skip per bucket it is asked to move. */
#define REHASH_EMPTY_VISITS 10
/* Buckets moved per step of the background rehash (between time checks). */
#define REHASH_CRON_BATCH 100
/* Active expiry checks the clock every this many samples. */
#define EXPIRE_TIME_CHECK 16
/* Pointers per chunk of the volatile vector (8 KiB). */
#define VOL_CHUNK 1024
/* ap_db_random: expired keys deleted before giving up. */
#define RANDOM_EXPIRED_TRIES 1000
/* ap_db_random: random bucket probes before walking from a random start. */
#define RANDOM_PROBES 128
/* Raw strings below this size double on growth, above grow by 1/4. */
#define STRBUF_DOUBLE_MAX (1024 * 1024)
/* Snapshot walk: buckets and entries looked at per entry of budget. */
#define SNAP_VISITS_PER_EMIT 16
/* Entries settled per batch when active expiry's tick finishes an
 * aborted snapshot (between time checks). */
#define SNAP_CRON_BATCH 1024

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

/* The growable buffer of an AP_ENC_RAW string. */
struct strbuf {
	uint32_t len;
	uint32_t cap;
	char buf[];
};

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
	/* Forkless snapshot (see "snapshots" below). */
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

/* ------------------------------------------------------- type registry */

/* Written by ap_type_register at start, before threads; read-only after. */
static const struct ap_type_ops *type_ops[AP_TYPE__COUNT];

static const char *const type_names[AP_TYPE__COUNT] = {
	"string", "list", "set", "zset", "hash", "stream",
};

static const char *const enc_names[AP_ENC__COUNT] = {
	"raw",	     "int",    "embstr",   "hashtable", "listpack",
	"quicklist", "intset", "skiplist", "stream",
};

/*
 * Registers the free/dup/length operations of a collection type. Call once
 * per type at start, before any thread uses a keyspace; ops must outlive
 * every keyspace. Strings are built in and cannot be registered.
 */
void ap_type_register(enum ap_type type, const struct ap_type_ops *ops)
{
	AP_ASSERT(type > AP_TYPE_STRING && type < AP_TYPE__COUNT);
	AP_ASSERT(ops != NULL && ops->free != NULL && ops->dup != NULL);
	type_ops[type] = ops;
}

/* TYPE reply for a type: the registered name, else the built-in one. */
const char *ap_type_name(enum ap_type type)
{
	AP_ASSERT(type < AP_TYPE__COUNT);
	if (type_ops[type] != NULL && type_ops[type]->name != NULL)
		return type_ops[type]->name;
	return type_names[type];
}

/* OBJECT ENCODING name of an encoding. */
const char *ap_enc_name(enum ap_enc enc)
{
	AP_ASSERT(enc < AP_ENC__COUNT);
	return enc_names[enc];
}

/* The registered ops of a collection type; a missing one is a bug. */
static const struct ap_type_ops *ops_of(enum ap_type type)
{
	AP_ASSERT(type > AP_TYPE_STRING && type < AP_TYPE__COUNT);
	AP_ASSERT(type_ops[type] != NULL);
	return type_ops[type];
}

/* ------------------------------------------------------------- helpers */

/* Bytes of the LEB128 encoding of v. */
static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Writes v as LEB128 at p; returns the bytes written. */
static size_t varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Reads a LEB128 value written by varint_put; returns the bytes read. */
static size_t varint_get(const uint8_t *p, uint64_t *v)
{
	uint64_t r = 0;
	size_t n = 0;
	unsigned shift = 0;

	for (;;) {
		uint8_t b = p[n++];
		r |= (uint64_t)(b & 0x7F) << shift;
		if (!(b & 0x80))
			break;
		shift += 7;
		AP_ASSERT(shift < 64);
	}
	*v = r;
	return n;
}

/* Smallest power of two >= n (1 for n <= 1). */
static size_t next_pow2(size_t n)
{
	if (n <= 1)
		return 1;
	return (size_t)1 << (64 - __builtin_clzll((unsigned long long)n - 1));
}

/* Next value of the splitmix64 generator of ks. */
static uint64_t ks_rand(struct ap_keyspace *ks)
{
	uint64_t z = (ks->rng += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* --------------------------------------------------------- entry layout */

/* Type and encoding live in the high and low nibbles of type_enc. */
static inline enum ap_type entry_type(const struct ap_entry *e)
{
	return (enum ap_type)(e->type_enc >> 4);
}

/* The encoding nibble of type_enc. */
static inline enum ap_enc entry_enc(const struct ap_entry *e)
{
	return (enum ap_enc)(e->type_enc & 0x0F);
}

/* Packs a type and an encoding into a type_enc byte. */
static inline uint8_t make_type_enc(enum ap_type type, enum ap_enc enc)
{
	return (uint8_t)((unsigned)type << 4 | (unsigned)enc);
}

/* True if e carries the TTL section (and a volatile-vector slot). */
static inline bool entry_has_ttl(const struct ap_entry *e)
{
	return (e->flags & EF_TTL) != 0;
}

/* Key bytes of e; *klen set to their length. */
static const uint8_t *entry_key_bytes(const struct ap_entry *e, size_t *klen)
{
	const uint8_t *p = e->data + (entry_has_ttl(e) ? TTL_SECTION_SIZE : 0);
	uint64_t len;

	p += varint_get(p, &len);
	*klen = (size_t)len;
	return p;
}

/* Start of the value field of e. */
static uint8_t *entry_val(const struct ap_entry *e)
{
	size_t klen;
	const uint8_t *k = entry_key_bytes(e, &klen);

	return (uint8_t *)(k + klen);
}

/* Bytes of the value field of e. */
static size_t entry_val_size(const struct ap_entry *e)
{
	uint64_t len;

	if (entry_enc(e) != AP_ENC_EMBSTR)
		return 8;
	size_t n = varint_get(entry_val(e), &len);
	return n + (size_t)len;
}

/* Bytes of e's block that the layout uses (the block may be larger). */
static size_t entry_size(const struct ap_entry *e)
{
	return (size_t)(entry_val(e) - (const uint8_t *)e) + entry_val_size(e);
}

/* The pointer stored in the value field (RAW buffer or collection). */
static void *entry_ptr(const struct ap_entry *e)
{
	void *p;

	AP_ASSERT(entry_enc(e) != AP_ENC_INT && entry_enc(e) != AP_ENC_EMBSTR);
	memcpy(&p, entry_val(e), sizeof(p));
	return p;
}

/* Stores a pointer value (RAW buffer or collection) in e's value field. */
static void entry_ptr_set(struct ap_entry *e, void *p)
{
	memcpy(entry_val(e), &p, sizeof(p));
}

/* The expire time of an entry with a TTL section. */
static int64_t entry_expire_get(const struct ap_entry *e)
{
	int64_t when;

	memcpy(&when, e->data, sizeof(when));
	return when;
}

/* e's index in its database's volatile vector. */
static uint32_t entry_vidx(const struct ap_entry *e)
{
	uint32_t idx;

	AP_ASSERT(entry_has_ttl(e));
	memcpy(&idx, e->data + 8, sizeof(idx));
	return idx;
}

/* Records e's index in the volatile vector. */
static void entry_vidx_set(struct ap_entry *e, uint32_t idx)
{
	AP_ASSERT(entry_has_ttl(e));
	memcpy(e->data + 8, &idx, sizeof(idx));
}

/* The 24-bit LRU stamp of e. */
static uint32_t entry_lru(const struct ap_entry *e)
{
	return (uint32_t)e->lru[0] | (uint32_t)e->lru[1] << 8 |
	       (uint32_t)e->lru[2] << 16;
}

/* Stamps e with a 24-bit LRU clock value. */
static void entry_lru_set(struct ap_entry *e, uint32_t lru)
{
	e->lru[0] = (uint8_t)lru;
	e->lru[1] = (uint8_t)(lru >> 8);
	e->lru[2] = (uint8_t)(lru >> 16);
}

/*
 * Allocates an entry holding key (and a TTL section with expire_ms if
 * ttl) and room for a value field of val_size bytes, whose start is
 * returned in *val for the caller to fill. LRU is zero, next NULL.
 */
static struct ap_entry *entry_alloc(const void *key, size_t klen, bool ttl,
				    int64_t expire_ms, uint8_t type_enc,
				    size_t val_size, uint8_t **val)
{
	AP_ASSERT(klen <= UINT32_MAX && val_size <= UINT32_MAX);
	size_t size = ENTRY_HDR_SIZE + (ttl ? TTL_SECTION_SIZE : 0) +
		      varint_len(klen) + klen + val_size;
	struct ap_entry *e = ap_malloc(size);
	uint8_t *p = e->data;

	e->next = NULL;
	e->type_enc = type_enc;
	e->flags = ttl ? EF_TTL : 0;
	entry_lru_set(e, 0);
	if (ttl) {
		uint32_t idx = UINT32_MAX;
		memcpy(p, &expire_ms, sizeof(expire_ms));
		memcpy(p + 8, &idx, sizeof(idx));
		p += TTL_SECTION_SIZE;
	}
	p += varint_put(p, klen);
	if (klen > 0)
		memcpy(p, key, klen);
	*val = p + klen;
	return e;
}

/*
 * A copy of e's header, LRU and value field under a new key and TTL. The
 * value is shared (pointers are copied, not duplicated): the caller frees
 * the old block with ap_free, not ap_entry_free. The volatile index of
 * the copy is unset.
 */
static struct ap_entry *entry_rebuild(const struct ap_entry *e, const void *key,
				      size_t klen, bool ttl, int64_t expire_ms)
{
	size_t vsize = entry_val_size(e);
	uint8_t *val;
	struct ap_entry *ne = entry_alloc(key, klen, ttl, expire_ms,
					  e->type_enc, vsize, &val);

	memcpy(val, entry_val(e), vsize);
	memcpy(ne->lru, e->lru, sizeof(ne->lru));
	return ne;
}

/* Allocates a raw buffer holding len bytes of s (NULL: zeros), with room
 * for cap bytes (cap >= len). */
static struct strbuf *strbuf_new(const char *s, size_t len, size_t cap)
{
	AP_ASSERT(len <= cap && cap <= UINT32_MAX);
	struct strbuf *sb = ap_malloc(sizeof(*sb) + cap);
	size_t usable = ap_alloc_size(sb) - sizeof(*sb);

	sb->len = (uint32_t)len;
	sb->cap = (uint32_t)AP_MIN(usable, (size_t)UINT32_MAX);
	if (s != NULL && len > 0)
		memcpy(sb->buf, s, len);
	else if (len > 0)
		memset(sb->buf, 0, len);
	return sb;
}

/* Capacity to allocate for a string that must hold need bytes and grows. */
static size_t strbuf_grow_cap(size_t need)
{
	size_t cap = need < STRBUF_DOUBLE_MAX ? need * 2 : need + need / 4;

	return AP_MIN(cap, (size_t)UINT32_MAX);
}

/* Sets sb's length to len (new bytes zero), growing geometrically or
 * giving back memory when it shrank to a quarter. Returns the buffer,
 * which may have moved. */
static struct strbuf *strbuf_resize(struct strbuf *sb, size_t len)
{
	AP_ASSERT(len <= UINT32_MAX);
	if (len > sb->cap) {
		size_t cap = strbuf_grow_cap(len);
		sb = ap_realloc(sb, sizeof(*sb) + cap);
		size_t usable = ap_alloc_size(sb) - sizeof(*sb);
		sb->cap = (uint32_t)AP_MIN(usable, (size_t)UINT32_MAX);
	} else if (len < sb->cap / 4 && sb->cap > 64) {
		sb = ap_realloc(sb, sizeof(*sb) + len);
		size_t usable = ap_alloc_size(sb) - sizeof(*sb);
		sb->cap = (uint32_t)AP_MIN(usable, (size_t)UINT32_MAX);
	}
	if (len > sb->len)
		memset(sb->buf + sb->len, 0, len - sb->len);
	sb->len = (uint32_t)len;
	return sb;
}

/* Builds a string entry, choosing INT, EMBSTR or RAW for val. */
static struct ap_entry *entry_new_string(const char *key, size_t klen,
					 const char *val, size_t vlen,
					 int64_t expire_ms)
{
	bool ttl = expire_ms != AP_NO_EXPIRE;
	long long iv;
	uint8_t *p;
	struct ap_entry *e;

	if (vlen <= 20 && ap_str_to_ll(val, vlen, &iv)) {
		int64_t v = iv;
		e = entry_alloc(key, klen, ttl, expire_ms,
				make_type_enc(AP_TYPE_STRING, AP_ENC_INT), 8,
				&p);
		memcpy(p, &v, sizeof(v));
	} else if (vlen <= AP_EMBSTR_MAX) {
		e = entry_alloc(key, klen, ttl, expire_ms,
				make_type_enc(AP_TYPE_STRING, AP_ENC_EMBSTR),
				varint_len(vlen) + vlen, &p);
		p += varint_put(p, vlen);
		if (vlen > 0)
			memcpy(p, val, vlen);
	} else {
		struct strbuf *sb = strbuf_new(val, vlen, vlen);
		e = entry_alloc(key, klen, ttl, expire_ms,
				make_type_enc(AP_TYPE_STRING, AP_ENC_RAW), 8,
				&p);
		memcpy(p, &sb, sizeof(sb));
	}
	return e;
}

/* Builds an AP_ENC_INT string entry. */
static struct ap_entry *entry_new_int(const void *key, size_t klen,
				      long long val, int64_t expire_ms)
{
	int64_t v = val;
	uint8_t *p;
	struct ap_entry *e =
		entry_alloc(key, klen, expire_ms != AP_NO_EXPIRE, expire_ms,
			    make_type_enc(AP_TYPE_STRING, AP_ENC_INT), 8, &p);

	memcpy(p, &v, sizeof(v));
	return e;
}

/* Frees an entry and its value (RAW buffer or collection object). */
void ap_entry_free(struct ap_entry *e)
{
	if (e == NULL)
		return;
	enum ap_type type = entry_type(e);
	enum ap_enc enc = entry_enc(e);

	if (type != AP_TYPE_STRING)
		ops_of(type)->free(entry_ptr(e), enc);
	else if (enc == AP_ENC_RAW)
		ap_free(entry_ptr(e));
	ap_free(e);
}

/* ------------------------------------------------------------ lazy free */

static void lazy_push(struct ap_keyspace *ks, struct lazy_item *it)
{
	it->next = NULL;
	if (ks->lazy_tail)
		ks->lazy_tail->next = it;
	else
		ks->lazy_head = it;
	ks->lazy_tail = it;
	ks->lazy_count++;
}

/*
 * Frees an entry that left the table. A collection with more than
 * AP_LAZYFREE_THRESHOLD elements goes to the lazy list (when lazy free is
 * on for this keyspace) and is freed a budget at a time; everything else
 * at once.
 */
static void entry_dispose(struct ap_keyspace *ks, struct ap_entry *e)
{
	enum ap_type type = entry_type(e);

	if (ks->lazy_on && type != AP_TYPE_STRING &&
	    ops_of(type)->free_some != NULL &&
	    ops_of(type)->length(entry_ptr(e), entry_enc(e)) >
		    AP_LAZYFREE_THRESHOLD) {
		struct lazy_item *it = ap_calloc(1, sizeof(*it));
		it->obj = entry_ptr(e);
		it->type = type;
		it->enc = entry_enc(e);
		lazy_push(ks, it);
		ap_free(e);
		return;
	}
	ap_entry_free(e);
}

void ap_keyspace_set_lazyfree(struct ap_keyspace *ks, bool on)
{
	ks->lazy_on = on;
}

bool ap_keyspace_lazy_pending(const struct ap_keyspace *ks)
{
	return ks->lazy_head != NULL;
}

size_t ap_keyspace_lazy_count(const struct ap_keyspace *ks)
{
	return ks->lazy_count;
}

/* Works on the first lazy item within budget; true when it is gone. */
static bool lazy_item_step(struct ap_keyspace *ks, struct lazy_item *it,
			   size_t *budget)
{
	if (it->buckets == NULL) {
		const struct ap_type_ops *ops = ops_of(it->type);
		size_t step = *budget;
		*budget = 0;
		return ops->free_some(it->obj, it->enc, step);
	}
	while (it->pos<it->bucket_count && * budget> 0) {
		struct ap_entry *e = it->buckets[it->pos];
		while (e != NULL && *budget > 0) {
			struct ap_entry *next = e->next;
			entry_dispose(ks, e); /* big values queue behind */
			e = next;
			(*budget)--;
		}
		it->buckets[it->pos] = e;
		if (e == NULL)
			it->pos++;
	}
	if (it->pos < it->bucket_count)
		return false;
	ap_free(it->buckets);
	return true;
}

bool ap_keyspace_lazy_step(struct ap_keyspace *ks, size_t budget)
{
	while (ks->lazy_head != NULL && budget > 0) {
		struct lazy_item *it = ks->lazy_head;
		if (!lazy_item_step(ks, it, &budget))
			break;
		ks->lazy_head = it->next;
		if (ks->lazy_head == NULL)
			ks->lazy_tail = NULL;
		ks->lazy_count--;
		ap_free(it);
	}
	return ks->lazy_head != NULL;
}

/* Frees everything queued at once (keyspace destruction). */
static void lazy_drain(struct ap_keyspace *ks)
{
	bool on = ks->lazy_on;
	ks->lazy_on = false;
	while (ap_keyspace_lazy_step(ks, SIZE_MAX))
		;
	ks->lazy_on = on;
}

/*
 * Deep copy of e: a new block with the same key, TTL, LRU and a duplicated
 * value, not linked anywhere and owned by the caller.
 */
struct ap_entry *ap_entry_dup(const struct ap_entry *e)
{
	AP_ASSERT(e != NULL);
	size_t size = entry_size(e);
	struct ap_entry *ne = ap_memdup(e, size);
	enum ap_type type = entry_type(e);

	ne->next = NULL;
	if (type != AP_TYPE_STRING) {
		void *obj = ops_of(type)->dup(entry_ptr(e), entry_enc(e));
		AP_ASSERT(obj != NULL);
		entry_ptr_set(ne, obj);
	} else if (entry_enc(e) == AP_ENC_RAW) {
		const struct strbuf *sb = entry_ptr(e);
		entry_ptr_set(ne, strbuf_new(sb->buf, sb->len, sb->len));
	}
	return ne;
}

/* ------------------------------------------------------ volatile vector */

static struct ap_entry **vol_slot(const struct vol *v, size_t i)
{
	AP_ASSERT(i < v->count);
	return &v->chunks[i / VOL_CHUNK][i % VOL_CHUNK];
}

/* Appends e (which has a TTL section) and records its index in it. */
static void vol_add(struct ap_db *db, struct ap_entry *e)
{
	struct vol *v = &db->vol;

	AP_ASSERT(v->count < UINT32_MAX);
	if (v->count == v->chunk_count * VOL_CHUNK) {
		if (v->chunk_count == v->dir_cap) {
			v->dir_cap = v->dir_cap ? v->dir_cap * 2 : 4;
			v->chunks = ap_realloc(v->chunks,
					       v->dir_cap * sizeof(*v->chunks));
		}
		v->chunks[v->chunk_count++] =
			ap_malloc(VOL_CHUNK * sizeof(struct ap_entry *));
	}
	v->count++;
	*vol_slot(v, v->count - 1) = e;
	entry_vidx_set(e, (uint32_t)(v->count - 1));
}

/* Removes e by moving the last entry into its slot; frees a chunk when two
 * whole chunks are unused (one spare avoids thrashing at a boundary). */
static void vol_remove(struct ap_db *db, struct ap_entry *e)
{
	struct vol *v = &db->vol;
	uint32_t idx = entry_vidx(e);
	struct ap_entry **slot = vol_slot(v, idx);

	AP_ASSERT(*slot == e);
	struct ap_entry *last = *vol_slot(v, v->count - 1);
	*slot = last;
	entry_vidx_set(last, idx);
	v->count--;
	if (v->chunk_count >= 2 &&
	    v->count <= (v->chunk_count - 2) * VOL_CHUNK) {
		ap_free(v->chunks[--v->chunk_count]);
	}
}

/* Puts ne in the slot of old (both have TTL sections). */
static void vol_replace(struct ap_db *db, struct ap_entry *old,
			struct ap_entry *ne)
{
	uint32_t idx = entry_vidx(old);
	struct ap_entry **slot = vol_slot(&db->vol, idx);

	AP_ASSERT(*slot == old);
	*slot = ne;
	entry_vidx_set(ne, idx);
}

/* Frees the vector's chunks and directory and empties it. */
static void vol_free(struct vol *v)
{
	for (size_t i = 0; i < v->chunk_count; i++)
		ap_free(v->chunks[i]);
	ap_free(v->chunks);
	memset(v, 0, sizeof(*v));
}

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

/* XXH3 of a key, seeded per keyspace. */
static uint64_t key_hash(const struct ap_db *db, const void *key, size_t klen)
{
	return XXH3_64bits_withSeed(key, klen, db->ks->seed);
}

/* The hash of e's key (recomputed: entries do not store it). */
static uint64_t entry_hash(const struct ap_db *db, const struct ap_entry *e)
{
	size_t klen;
	const uint8_t *k = entry_key_bytes(e, &klen);

	return key_hash(db, k, klen);
}

/* True if e's key is exactly key[0..klen). */
static bool entry_key_eq(const struct ap_entry *e, const void *key, size_t klen)
{
	size_t elen;
	const uint8_t *k = entry_key_bytes(e, &elen);

	return elen == klen && (klen == 0 || memcmp(k, key, klen) == 0);
}

/* A table of `size` empty buckets (a power of two). */
static struct table table_make(size_t size)
{
	struct table t;

	AP_ASSERT(size >= TABLE_MIN_SIZE && (size & (size - 1)) == 0);
	t.b = ap_calloc(size, sizeof(*t.b));
	t.mask = size - 1;
	t.used = 0;
	return t;
}

/*
 * Moves up to n non-empty buckets of ht[0] into ht[1], skipping at most
 * n * REHASH_EMPTY_VISITS empty ones; finishes the rehash when ht[0] is
 * empty. No-op when not rehashing.
 */
static void db_rehash(struct ap_db *db, size_t n)
{
	struct table *from = &db->ht[0], *to = &db->ht[1];
	size_t empty_left = n * REHASH_EMPTY_VISITS;

	if (!db_rehashing(db))
		return;
	while (n > 0 && from->used > 0) {
		AP_ASSERT((size_t)db->rehash_idx <= from->mask);
		struct ap_entry *e = from->b[db->rehash_idx];
		if (e == NULL) {
			db->rehash_idx++;
			if (--empty_left == 0)
				return;
			continue;
		}
		while (e != NULL) {
			struct ap_entry *next = e->next;
			size_t i = entry_hash(db, e) & to->mask;
			e->next = to->b[i];
			to->b[i] = e;
			from->used--;
			to->used++;
			e = next;
		}
		from->b[db->rehash_idx++] = NULL;
		n--;
	}
	if (from->used == 0) {
		ap_free(from->b);
		*from = *to;
		memset(to, 0, sizeof(*to));
		db->rehash_idx = -1;
	}
}

/* Starts resizing to `size` buckets; immediate when ht[0] is empty. */
static void db_resize(struct ap_db *db, size_t size)
{
	AP_ASSERT(!db_rehashing(db));
	struct table t = table_make(size);

	if (db->ht[0].used == 0) {
		ap_free(db->ht[0].b);
		db->ht[0] = t;
		return;
	}
	db->ht[1] = t;
	db->rehash_idx = 0;
}

/* Before an insert: allocate the first buckets or grow at load factor 1. */
static void db_expand_if_needed(struct ap_db *db)
{
	size_t size = table_size(&db->ht[0]);

	if (db_rehashing(db))
		return;
	if (size == 0)
		db->ht[0] = table_make(TABLE_MIN_SIZE);
	else if (db->ht[0].used >= size)
		db_resize(db, size * 2);
}

/* After a delete: shrink a table whose load fell under 1/SHRINK_RATIO. */
static void db_shrink_if_needed(struct ap_db *db)
{
	size_t size = table_size(&db->ht[0]);
	size_t used = db->ht[0].used;

	if (db_rehashing(db) || size <= TABLE_MIN_SIZE ||
	    used >= size / SHRINK_RATIO)
		return;
	db_resize(db, AP_MAX((size_t)TABLE_MIN_SIZE, next_pow2(used * 2)));
}

/* Link to the entry named key in either table (*tbl set), or NULL. */
static struct ap_entry **db_find(struct ap_db *db, const void *key, size_t klen,
				 uint64_t h, int *tbl)
{
	for (int t = 0; t < 2; t++) {
		struct table *ht = &db->ht[t];
		if (ht->b == NULL)
			break;
		struct ap_entry **link = &ht->b[h & ht->mask];
		for (; *link != NULL; link = &(*link)->next) {
			if (entry_key_eq(*link, key, klen)) {
				*tbl = t;
				return link;
			}
		}
		if (!db_rehashing(db))
			break;
	}
	return NULL;
}

/* Prefetching for pipelined commands: the caller computes the hash of
 * each key ahead, touches its bucket, then (once the buckets are on their
 * way) the first entry of each chain, so that the misses of a batch
 * overlap instead of stalling one command at a time. */
uint64_t ap_db_prefetch_bucket(const struct ap_db *db, const char *key,
			       size_t klen)
{
	uint64_t h = key_hash(db, key, klen);

	for (int t = 0; t < 2; t++) {
		const struct table *ht = &db->ht[t];
		if (ht->b == NULL)
			break;
		__builtin_prefetch(&ht->b[h & ht->mask]);
		if (!db_rehashing(db))
			break;
	}
	return h;
}

void ap_db_prefetch_entry(const struct ap_db *db, uint64_t h)
{
	for (int t = 0; t < 2; t++) {
		const struct table *ht = &db->ht[t];
		if (ht->b == NULL)
			break;
		const struct ap_entry *e = ht->b[h & ht->mask];
		if (e != NULL)
			__builtin_prefetch(e);
		if (!db_rehashing(db))
			break;
	}
}

/* Link to the linked entry e (hash h) in either table (*tbl set). */
static struct ap_entry **db_find_ptr(struct ap_db *db, const struct ap_entry *e,
				     uint64_t h, int *tbl)
{
	for (int t = 0; t < 2; t++) {
		struct table *ht = &db->ht[t];
		if (ht->b == NULL)
			break;
		struct ap_entry **link = &ht->b[h & ht->mask];
		for (; *link != NULL; link = &(*link)->next) {
			if (*link == e) {
				*tbl = t;
				return link;
			}
		}
	}
	AP_ASSERT(!"entry not linked in its bucket");
	return NULL;
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

/* Emits e (old epoch) as part of database `origin` while the snapshot
 * is active (nothing while finishing an abort) and stamps it current. */
static void snap_emit_one(struct ap_keyspace *ks, unsigned origin,
			  struct ap_entry *e)
{
	AP_ASSERT(snap_old(ks, e));
	if (ks->snap_state == SNAP_ACTIVE) {
		ks->snap_emit(ks->snap_arg, origin, e);
		ks->snap_emitted++;
	}
	snap_stamp(ks, e);
}

/* Emits the linked old-epoch entry e of db and counts it done. */
static void snap_take(struct ap_db *db, struct ap_entry *e)
{
	AP_ASSERT(db->snap_pending > 0);
	snap_emit_one(db->ks, db->snap_origin, e);
	db->snap_pending--;
}

/* snap_keep's slow path: a snapshot (or its abort) is under way. */
static void snap_keep_slow(struct ap_db *db, struct ap_entry *e)
{
	if (snap_old(db->ks, e))
		snap_take(db, e);
}

/* Before the linked entry e of db is changed, replaced, unlinked or
 * freed: emits its old version if a snapshot still owes it. One
 * predictable branch when no snapshot is under way. */
static inline void snap_keep(struct ap_db *db, struct ap_entry *e)
{
	if (AP_UNLIKELY(db->ks->snap_state != SNAP_IDLE))
		snap_keep_slow(db, e);
}

/*
 * ap_db_flush's snapshot path: db's table is still owed entries. While
 * the snapshot is active its tables become graveyard items, walked (old
 * entries emitted) and freed by snap_step, and true is returned: the
 * flush is done, O(1). While finishing an abort nothing is owed: false,
 * the ordinary flush goes on. Either way the table owes nothing now.
 */
static bool snap_flush_to_grave(struct ap_db *db)
{
	struct ap_keyspace *ks = db->ks;

	db->snap_pending = 0;
	if (ks->snap_state != SNAP_ACTIVE)
		return false;
	for (int t = 0; t < 2; t++) {
		struct table *ht = &db->ht[t];
		if (ht->b == NULL)
			continue;
		struct lazy_item *it = ap_calloc(1, sizeof(*it));
		it->buckets = ht->b;
		it->bucket_count = table_size(ht);
		it->db = db->snap_origin;
		if (ks->grave_tail != NULL)
			ks->grave_tail->next = it;
		else
			ks->grave_head = it;
		ks->grave_tail = it;
		memset(ht, 0, sizeof(*ht));
	}
	db->rehash_idx = -1;
	vol_free(&db->vol);
	return true;
}

/* Links a new entry (hash h) into the table and, with a TTL, the vector. */
static void db_link_new(struct ap_db *db, struct ap_entry *e, uint64_t h)
{
	db_expand_if_needed(db);
	struct table *t = db_rehashing(db) ? &db->ht[1] : &db->ht[0];
	size_t i = h & t->mask;

	snap_stamp(db->ks, e);
	e->next = t->b[i];
	t->b[i] = e;
	t->used++;
	if (entry_has_ttl(e))
		vol_add(db, e);
}

/* Unlinks *link (in table tbl) from its chain and from the vector; a
 * snapshot gets its old version first. */
static struct ap_entry *db_unlink(struct ap_db *db, struct ap_entry **link,
				  int tbl)
{
	struct ap_entry *e = *link;

	AP_ASSERT(e != NULL && db->ht[tbl].used > 0);
	snap_keep(db, e);
	*link = e->next;
	e->next = NULL;
	db->ht[tbl].used--;
	if (entry_has_ttl(e))
		vol_remove(db, e);
	return e;
}

/* Puts ne where *link's entry was, in its chain and in the vector. The
 * old entry is unlinked but not freed; a snapshot gets its old version
 * first, and ne is current. */
static void db_swap(struct ap_db *db, struct ap_entry **link,
		    struct ap_entry *ne)
{
	struct ap_entry *old = *link;

	snap_keep(db, old);
	snap_stamp(db->ks, ne);
	ne->next = old->next;
	*link = ne;
	old->next = NULL;
	if (entry_has_ttl(old) && entry_has_ttl(ne))
		vol_replace(db, old, ne);
	else if (entry_has_ttl(old))
		vol_remove(db, old);
	else if (entry_has_ttl(ne))
		vol_add(db, ne);
}

/* Replaces the linked entry old by its rebuilt copy ne and frees old's
 * block (not its value, which ne now holds). */
static void db_move(struct ap_db *db, struct ap_entry *old, struct ap_entry *ne)
{
	int tbl;
	struct ap_entry **link =
		db_find_ptr(db, old, entry_hash(db, old), &tbl);

	db_swap(db, link, ne);
	ap_free(old);
}

/* ----------------------------------------------------------- expiry */

static bool entry_expired(const struct ap_keyspace *ks,
			  const struct ap_entry *e)
{
	return entry_has_ttl(e) && ks->now_ms > entry_expire_get(e) &&
	       !ks->loading;
}

/* Deletes the expired entry at *link and counts it. */
static void db_expire_link(struct ap_db *db, struct ap_entry **link, int tbl)
{
	struct ap_entry *e = db_unlink(db, link, tbl);

	if (db->ks->expire_hook) {
		size_t klen;
		const char *key = ap_entry_key(e, &klen);
		db->ks->expire_hook(db->ks->expire_arg,
				    (unsigned)(db - db->ks->dbs), key, klen);
	}
	entry_dispose(db->ks, e);
	db->ks->stats.expired++;
	db->ks->stats.dirty++;
	db_shrink_if_needed(db);
}

/*
 * Finds key for an operation: one rehash step, then the lookup, then lazy
 * expiry (an expired key is deleted and reported absent).
 */
static struct ap_entry **db_find_live(struct ap_db *db, const void *key,
				      size_t klen, uint64_t h, int *tbl)
{
	db_rehash(db, AP_REHASH_STEP_BUCKETS);
	struct ap_entry **link = db_find(db, key, klen, h, tbl);

	if (link != NULL && entry_expired(db->ks, *link)) {
		db_expire_link(db, link, *tbl);
		return NULL;
	}
	return link;
}

/* ------------------------------------------------------------ database */

/* Keys in the database, expired ones not yet reclaimed included. */
size_t ap_db_size(const struct ap_db *db)
{
	return db->ht[0].used + db->ht[1].used;
}

/* Keys with a TTL. */
size_t ap_db_volatile_size(const struct ap_db *db)
{
	return db->vol.count;
}

/* Buckets allocated in both tables. */
size_t ap_db_buckets(const struct ap_db *db)
{
	return table_size(&db->ht[0]) + table_size(&db->ht[1]);
}

/* True while an incremental rehash is in progress. */
bool ap_db_is_rehashing(const struct ap_db *db)
{
	return db_rehashing(db);
}

/*
 * Finds a live key (lazy expiry first). AP_LK_READ counts a hit or a miss;
 * the entry's LRU clock is stamped unless AP_LK_NOTOUCH.
 */
struct ap_entry *ap_db_lookup(struct ap_db *db, const char *key, size_t klen,
			      unsigned flags)
{
	int tbl;
	struct ap_entry **link =
		db_find_live(db, key, klen, key_hash(db, key, klen), &tbl);

	if (flags & AP_LK_READ) {
		if (link != NULL)
			db->ks->stats.hits++;
		else
			db->ks->stats.misses++;
	}
	if (link == NULL)
		return NULL;
	if (!(flags & AP_LK_NOTOUCH))
		entry_lru_set(*link, ap_keyspace_lru_clock(db->ks));
	return *link;
}

/*
 * Stores the new entry ne under key, replacing (and freeing) any value of
 * any type; ne's LRU is stamped now. key may point into the replaced
 * entry: it is not read once that entry is freed.
 */
static struct ap_entry *db_store(struct ap_db *db, struct ap_entry *ne,
				 const char *key, size_t klen)
{
	uint64_t h = key_hash(db, key, klen);
	int tbl;
	struct ap_entry **link = db_find_live(db, key, klen, h, &tbl);

	entry_lru_set(ne, ap_keyspace_lru_clock(db->ks));
	if (link != NULL) {
		struct ap_entry *old = *link;
		db_swap(db, link, ne);
		entry_dispose(db->ks, old);
	} else {
		db_link_new(db, ne, h);
	}
	return ne;
}

/* Sets key to a string value (INT, EMBSTR or RAW), replacing anything. */
struct ap_entry *ap_db_set_string(struct ap_db *db, const char *key,
				  size_t klen, const char *val, size_t vlen,
				  int64_t expire_ms)
{
	AP_ASSERT(vlen <= UINT32_MAX);
	struct ap_entry *ne = entry_new_string(key, klen, val, vlen, expire_ms);

	return db_store(db, ne, key, klen);
}

/* Sets key to an integer string (AP_ENC_INT), replacing anything. */
struct ap_entry *ap_db_set_int(struct ap_db *db, const char *key, size_t klen,
			       long long val, int64_t expire_ms)
{
	return db_store(db, entry_new_int(key, klen, val, expire_ms), key,
			klen);
}

/* Sets key to a collection object (owned by the db from now on). */
struct ap_entry *ap_db_set_object(struct ap_db *db, const char *key,
				  size_t klen, enum ap_type type,
				  enum ap_enc enc, void *obj, int64_t expire_ms)
{
	AP_ASSERT(obj != NULL && enc >= AP_ENC_HASHTABLE &&
		  enc < AP_ENC__COUNT);
	(void)ops_of(type);
	uint8_t *p;
	struct ap_entry *ne =
		entry_alloc(key, klen, expire_ms != AP_NO_EXPIRE, expire_ms,
			    make_type_enc(type, enc), 8, &p);

	memcpy(p, &obj, sizeof(obj));
	return db_store(db, ne, key, klen);
}

/* Deletes a live key and frees its value; false if absent or expired. */
bool ap_db_delete(struct ap_db *db, const char *key, size_t klen)
{
	int tbl;
	struct ap_entry **link =
		db_find_live(db, key, klen, key_hash(db, key, klen), &tbl);

	if (link == NULL)
		return false;
	entry_dispose(db->ks, db_unlink(db, link, tbl));
	db_shrink_if_needed(db);
	return true;
}

/* Frees every entry, both bucket arrays and the volatile vector: in one
 * go (O(n)) when lazy free is off, else the tables go to the lazy list
 * (O(1) here; ap_keyspace_lazy_step frees them). During a snapshot that
 * still owes entries of this table, the tables go to its graveyard
 * (O(1)): the walk emits their old entries and frees them. */
void ap_db_flush(struct ap_db *db)
{
	if (AP_UNLIKELY(db->snap_pending > 0) && snap_flush_to_grave(db))
		return;
	for (int t = 0; t < 2; t++) {
		struct table *ht = &db->ht[t];
		if (db->ks->lazy_on && ht->b != NULL) {
			struct lazy_item *it = ap_calloc(1, sizeof(*it));
			it->buckets = ht->b;
			it->bucket_count = table_size(ht);
			lazy_push(db->ks, it);
			memset(ht, 0, sizeof(*ht));
			continue;
		}
		for (size_t i = 0; i < table_size(ht); i++) {
			struct ap_entry *e = ht->b[i];
			while (e != NULL) {
				struct ap_entry *next = e->next;
				ap_entry_free(e);
				e = next;
			}
		}
		ap_free(ht->b);
		memset(ht, 0, sizeof(*ht));
	}
	db->rehash_idx = -1;
	vol_free(&db->vol);
}

/* Unlinks a live key; the entry (value and TTL kept) goes to the caller. */
struct ap_entry *ap_db_detach(struct ap_db *db, const char *key, size_t klen)
{
	int tbl;
	struct ap_entry **link =
		db_find_live(db, key, klen, key_hash(db, key, klen), &tbl);

	if (link == NULL)
		return NULL;
	struct ap_entry *e = db_unlink(db, link, tbl);
	db_shrink_if_needed(db);
	return e;
}

/*
 * Links a detached (or duplicated) entry under key, rebuilding it when the
 * key differs. Fails (NULL, e still the caller's) if a live key exists and
 * !replace; otherwise e belongs to the db and the stored entry is
 * returned. A TTL already in the past is kept: the key then expires
 * lazily.
 */
struct ap_entry *ap_db_attach(struct ap_db *db, struct ap_entry *e,
			      const char *key, size_t klen, bool replace)
{
	AP_ASSERT(e != NULL && e->next == NULL);
	uint64_t h = key_hash(db, key, klen);
	int tbl;
	struct ap_entry **link = db_find_live(db, key, klen, h, &tbl);

	if (link != NULL && !replace)
		return NULL;
	struct ap_entry *ne = e;
	if (!entry_key_eq(e, key, klen)) {
		bool ttl = entry_has_ttl(e);
		ne = entry_rebuild(e, key, klen, ttl,
				   ttl ? entry_expire_get(e) : 0);
		ap_free(e);
	}
	if (link != NULL) {
		struct ap_entry *old = *link;
		db_swap(db, link, ne);
		entry_dispose(db->ks, old);
	} else {
		db_link_new(db, ne, h);
	}
	return ne;
}

/* Sets (when_ms) or removes (AP_NO_EXPIRE) the TTL of a linked entry,
 * rebuilding it when the TTL section appears or disappears. */
void ap_db_set_expire(struct ap_db *db, struct ap_entry **ep, int64_t when_ms)
{
	struct ap_entry *e = *ep;
	size_t klen;
	const uint8_t *key;

	AP_ASSERT(e != NULL);
	snap_keep(db, e);
	if (when_ms != AP_NO_EXPIRE && entry_has_ttl(e)) {
		memcpy(e->data, &when_ms, sizeof(when_ms));
		return;
	}
	if (when_ms == AP_NO_EXPIRE && !entry_has_ttl(e))
		return;
	key = entry_key_bytes(e, &klen);
	struct ap_entry *ne =
		entry_rebuild(e, key, klen, when_ms != AP_NO_EXPIRE, when_ms);
	db_move(db, e, ne);
	*ep = ne;
}

/*
 * Makes the string value a RAW buffer of new_len bytes (old bytes kept,
 * new ones zero). An INT or EMBSTR value is converted (the entry moves);
 * a RAW buffer is resized in place in the entry. Callers enforce length
 * limits; new_len above UINT32_MAX is a bug.
 */
char *ap_db_str_resize(struct ap_db *db, struct ap_entry **ep, size_t new_len)
{
	struct ap_entry *e = *ep;

	AP_ASSERT(e != NULL && entry_type(e) == AP_TYPE_STRING);
	AP_ASSERT(new_len <= UINT32_MAX);
	snap_keep(db, e);
	if (entry_enc(e) == AP_ENC_RAW) {
		struct strbuf *sb = strbuf_resize(entry_ptr(e), new_len);
		entry_ptr_set(e, sb);
		return sb->buf;
	}
	char tmp[AP_INT_STR_SIZE];
	size_t olen, klen;
	const char *old = ap_entry_str(e, &olen, tmp);
	size_t cap = new_len > olen ? strbuf_grow_cap(new_len) : new_len;
	struct strbuf *sb = strbuf_new(old, AP_MIN(olen, new_len), cap);

	sb = strbuf_resize(sb, new_len);

	const uint8_t *key = entry_key_bytes(e, &klen);
	bool ttl = entry_has_ttl(e);
	uint8_t *p;
	struct ap_entry *ne =
		entry_alloc(key, klen, ttl, ttl ? entry_expire_get(e) : 0,
			    make_type_enc(AP_TYPE_STRING, AP_ENC_RAW), 8, &p);
	memcpy(p, &sb, sizeof(sb));
	memcpy(ne->lru, e->lru, sizeof(ne->lru));
	db_move(db, e, ne);
	*ep = ne;
	return sb->buf;
}

/* Sets a string value to the integer v: in place when already INT, else
 * the entry is rebuilt as INT (a RAW buffer is freed). TTL, LRU kept. */
void ap_db_str_set_int(struct ap_db *db, struct ap_entry **ep, long long v)
{
	struct ap_entry *e = *ep;
	int64_t iv = v;

	AP_ASSERT(e != NULL && entry_type(e) == AP_TYPE_STRING);
	snap_keep(db, e);
	if (entry_enc(e) == AP_ENC_INT) {
		memcpy(entry_val(e), &iv, sizeof(iv));
		return;
	}
	void *raw = entry_enc(e) == AP_ENC_RAW ? entry_ptr(e) : NULL;
	size_t klen;
	const uint8_t *key = entry_key_bytes(e, &klen);
	struct ap_entry *ne = entry_new_int(
		key, klen, v,
		entry_has_ttl(e) ? entry_expire_get(e) : AP_NO_EXPIRE);

	memcpy(ne->lru, e->lru, sizeof(ne->lru));
	db_move(db, e, ne);
	ap_free(raw);
	*ep = ne;
}

/* ---------------------------------------------------------------- scan */

/* Reverses the bits of v. */
static uint64_t rev64(uint64_t v)
{
	v = (v >> 1 & 0x5555555555555555ULL) | (v & 0x5555555555555555ULL) << 1;
	v = (v >> 2 & 0x3333333333333333ULL) | (v & 0x3333333333333333ULL) << 2;
	v = (v >> 4 & 0x0F0F0F0F0F0F0F0FULL) | (v & 0x0F0F0F0F0F0F0F0FULL) << 4;
	return __builtin_bswap64(v);
}

/* Increments the masked bits of cursor v from the most significant one
 * down (reverse binary), so that buckets split by a grow are visited
 * together and no bucket is skipped when the mask changes. */
static uint64_t cursor_next(uint64_t v, uint64_t mask)
{
	v |= ~mask;
	v = rev64(v);
	v++;
	return rev64(v);
}

/* Calls fn for the live entries of one chain; returns how many. */
static size_t scan_chain(const struct ap_keyspace *ks, const struct ap_entry *e,
			 ap_db_scan_fn *fn, void *arg)
{
	size_t n = 0;

	for (; e != NULL; e = e->next) {
		if (entry_expired(ks, e))
			continue;
		fn(arg, e);
		n++;
	}
	return n;
}

/*
 * One cursor step: the bucket v of the smaller table and, while rehashing,
 * every bucket of the larger table that it expands to. Advances *cursor;
 * returns the keys emitted.
 */
static size_t scan_step(struct ap_db *db, uint64_t *cursor, ap_db_scan_fn *fn,
			void *arg)
{
	const struct table *small = &db->ht[0], *large = &db->ht[1];
	uint64_t v = *cursor;
	size_t n;

	if (!db_rehashing(db)) {
		n = scan_chain(db->ks, small->b[v & small->mask], fn, arg);
		*cursor = cursor_next(v, small->mask);
		return n;
	}
	if (small->mask > large->mask) {
		const struct table *t = small;
		small = large;
		large = t;
	}
	n = scan_chain(db->ks, small->b[v & small->mask], fn, arg);
	do {
		n += scan_chain(db->ks, large->b[v & large->mask], fn, arg);
		v = cursor_next(v, large->mask);
	} while (v & (small->mask ^ large->mask));
	*cursor = v;
	return n;
}

/*
 * SCAN: steps from cursor until about count keys were emitted, the cursor
 * wraps to 0, or count * 10 steps emitted nothing. Returns the next
 * cursor (0: done). Expired keys are skipped, not deleted.
 */
uint64_t ap_db_scan(struct ap_db *db, uint64_t cursor, size_t count,
		    ap_db_scan_fn *fn, void *arg)
{
	size_t emitted = 0, empty = 0, empty_max;

	if (ap_db_size(db) == 0)
		return 0;
	count = AP_MAX(count, (size_t)1);
	if (__builtin_mul_overflow(count, (size_t)10, &empty_max))
		empty_max = SIZE_MAX;
	do {
		size_t n = scan_step(db, &cursor, fn, arg);
		emitted += n;
		if (n == 0 && ++empty > empty_max)
			break;
	} while (cursor != 0 && emitted < count);
	return cursor;
}

/* The slot of a non-empty bucket picked at random (both tables while
 * rehashing; moved buckets of ht[0] excluded); *tbl set. */
static struct ap_entry **random_bucket(struct ap_db *db, int *tbl)
{
	size_t size0 = table_size(&db->ht[0]);
	size_t start = db_rehashing(db) ? (size_t)db->rehash_idx : 0;
	size_t span = size0 + table_size(&db->ht[1]) - start;
	size_t i = start + ks_rand(db->ks) % span;

	for (size_t probe = 0;; probe++) {
		struct ap_entry **slot =
			i < size0 ? &db->ht[0].b[i] : &db->ht[1].b[i - size0];
		if (*slot != NULL) {
			*tbl = i < size0 ? 0 : 1;
			return slot;
		}
		/* Random probes, then (very sparse table) walk forward. */
		if (probe < RANDOM_PROBES)
			i = start + ks_rand(db->ks) % span;
		else
			i = i + 1 < start + span ? i + 1 : start;
	}
}

/* Link to a uniformly chosen entry of a random non-empty bucket. */
static struct ap_entry **random_link(struct ap_db *db, int *tbl)
{
	struct ap_entry **link = random_bucket(db, tbl);
	size_t len = 0;

	for (const struct ap_entry *e = *link; e != NULL; e = e->next)
		len++;
	for (size_t k = ks_rand(db->ks) % len; k > 0; k--)
		link = &(*link)->next;
	return link;
}

/*
 * A random live key. Expired keys met on the way are deleted; after
 * RANDOM_EXPIRED_TRIES of them in a row the call gives up and returns
 * NULL, so that one call stays bounded.
 */
struct ap_entry *ap_db_random(struct ap_db *db)
{
	for (int tries = 0; tries < RANDOM_EXPIRED_TRIES; tries++) {
		int tbl;
		if (ap_db_size(db) == 0)
			return NULL;
		struct ap_entry **link = random_link(db, &tbl);
		if (!entry_expired(db->ks, *link))
			return *link;
		db_expire_link(db, link, tbl);
	}
	return NULL;
}

/* ----------------------------------------------------------- snapshots */

/*
 * Forkless snapshots. Every entry carries an epoch bit (EF_SNAP); the
 * keyspace has a current epoch, flipped by snap_begin, so that at begin
 * every linked entry is "old" and each table counts its old entries
 * (snap_pending). An old entry is emitted exactly once, then stamped
 * current: by the walk, or by snap_keep just before anything changes,
 * replaces, unlinks or frees it. Entries linked later are stamped current
 * and never emitted. A table is done when it owes nothing (pending 0).
 *
 * The walk uses SCAN's reverse-binary cursor per table. A cursor stands
 * for a threshold in bit-reversed hash order; one step covers the hashes
 * of one bucket of the larger table, whose bucket in the smaller table
 * (while rehashing) covers them too, so a step looks at both. Nothing
 * changes while a step call runs (emit must not touch the keyspace), so
 * the smaller table's bucket is looked at once per call and per bucket;
 * between calls tables may grow, shrink and rehash freely: an old entry
 * keeps its hash, so it sits below the threshold only if a step has
 * already emitted it. Entries seen twice are skipped by their bit. A
 * cursor that wraps with entries still owed would be a bug (asserted).
 *
 * FLUSH of a table still owed moves its buckets to the graveyard, which
 * the walk empties first (emitting old entries, freeing everything);
 * SWAPDB swaps whole tables with their walk state and origin index, so
 * both stay O(1). An abort stops emitting at once; old entries are then
 * settled silently (by snap_step or the keyspace cron) before the next
 * begin, since one bit cannot tell two snapshots apart.
 */

/* Work left in one snap_step call: entries to emit (or settle) and
 * buckets and entries to look at. */
struct snap_work {
	size_t emit_left;
	size_t visit_left;
};

/* Emits the old entries of one chain of db within w; false when the emit
 * budget ran out before the chain's end (the chain is then revisited). */
static bool snap_chain(struct ap_db *db, struct ap_entry *e,
		       struct snap_work *w)
{
	if (w->visit_left > 0)
		w->visit_left--;
	for (; e != NULL && db->snap_pending > 0; e = e->next) {
		if (w->visit_left > 0)
			w->visit_left--;
		if (!snap_old(db->ks, e))
			continue;
		if (w->emit_left == 0)
			return false;
		w->emit_left--;
		snap_take(db, e);
	}
	return true;
}

/* The two tables of a rehashing db ordered by size. */
static void snap_tables(struct ap_db *db, const struct table **small,
			const struct table **large)
{
	*small = &db->ht[0];
	*large = &db->ht[1];
	if ((*small)->mask > (*large)->mask) {
		const struct table *t = *small;
		*small = *large;
		*large = t;
	}
}

/*
 * Walks db's table from its cursor within w, looking at whole buckets
 * (an emit budget that runs out mid-chain leaves the cursor there).
 * Returns true when the table owes nothing more.
 */
static bool snap_walk_db(struct ap_db *db, struct snap_work *w)
{
	uint64_t v = db->snap_cursor;
	uint64_t small_seen = UINT64_MAX; /* small bucket looked at already */

	while (db->snap_pending > 0 && w->emit_left > 0 && w->visit_left > 0) {
		const struct table *t = &db->ht[0], *small = NULL;
		AP_ASSERT(t->b != NULL);
		if (db_rehashing(db)) {
			snap_tables(db, &small, &t);
			uint64_t sb = v & small->mask;
			if (sb != small_seen) {
				if (!snap_chain(db, small->b[sb], w))
					break;
				small_seen = sb;
			}
		}
		if (!snap_chain(db, t->b[v & t->mask], w))
			break;
		v = cursor_next(v, t->mask);
		AP_ASSERT(v != 0 || db->snap_pending == 0);
	}
	db->snap_cursor = v;
	return db->snap_pending == 0;
}

/* Emits the old entries of the first graveyard item and frees every
 * entry and, at the end, the item's buckets, within w. True when done. */
static bool snap_grave_step(struct ap_keyspace *ks, struct lazy_item *it,
			    struct snap_work *w)
{
	while (it->pos < it->bucket_count) {
		if (w->visit_left == 0 || w->emit_left == 0)
			return false;
		w->visit_left--;
		struct ap_entry *e = it->buckets[it->pos];
		while (e != NULL) {
			if (snap_old(ks, e)) {
				if (w->emit_left == 0)
					break;
				w->emit_left--;
				snap_emit_one(ks, it->db, e);
			}
			struct ap_entry *next = e->next;
			entry_dispose(ks, e);
			if (w->visit_left > 0)
				w->visit_left--;
			e = next;
		}
		it->buckets[it->pos] = e;
		if (e != NULL)
			return false;
		it->pos++;
	}
	ap_free(it->buckets);
	return true;
}

/* Hands the graveyard to the lazy list (abort, destruction): what is
 * left there is freed without being emitted. */
static void snap_grave_drop(struct ap_keyspace *ks)
{
	while (ks->grave_head != NULL) {
		struct lazy_item *it = ks->grave_head;
		ks->grave_head = it->next;
		lazy_push(ks, it);
	}
	ks->grave_tail = NULL;
}

/* Ends the snapshot or its abort: nothing is owed any more. */
static void snap_end(struct ap_keyspace *ks)
{
	AP_ASSERT(ks->grave_head == NULL);
	ks->snap_state = SNAP_IDLE;
	ks->snap_emit = NULL;
	ks->snap_arg = NULL;
}

/*
 * Starts a snapshot: flips the epoch (every linked entry is now owed),
 * resets each table's walk. O(databases). Refused (false) while another
 * snapshot runs or an abort is being settled.
 */
bool ap_keyspace_snap_begin(struct ap_keyspace *ks, ap_snap_emit_fn *emit,
			    void *arg)
{
	AP_ASSERT(emit != NULL);
	if (ks->snap_state != SNAP_IDLE)
		return false;
	AP_ASSERT(ks->grave_head == NULL);
	ks->snap_epoch ^= EF_SNAP;
	for (unsigned i = 0; i < ks->db_count; i++) {
		struct ap_db *db = &ks->dbs[i];
		db->snap_cursor = 0;
		db->snap_pending = ap_db_size(db);
		db->snap_origin = i;
	}
	ks->snap_db_next = 0;
	ks->snap_emit = emit;
	ks->snap_arg = arg;
	ks->snap_emitted = 0;
	ks->snap_state = SNAP_ACTIVE;
	return true;
}

/* True while a snapshot is emitting (begun, neither complete nor
 * aborted). */
bool ap_keyspace_snap_active(const struct ap_keyspace *ks)
{
	return ks->snap_state == SNAP_ACTIVE;
}

/* True while a snapshot is active or its abort is still being settled:
 * ap_keyspace_snap_begin refuses until this is false. */
bool ap_keyspace_snap_busy(const struct ap_keyspace *ks)
{
	return ks->snap_state != SNAP_IDLE;
}

/*
 * One bounded piece of the walk: the graveyard first, then the tables
 * from the first one still owed. Emits (or, after an abort, settles) at
 * most `budget` entries and looks at about budget * SNAP_VISITS_PER_EMIT
 * buckets and entries, whole chains at a time. Returns true when nothing
 * is owed: the snapshot (or its abort) has ended and emit is not called
 * again; also true when no snapshot is under way.
 */
bool ap_keyspace_snap_step(struct ap_keyspace *ks, size_t budget)
{
	struct snap_work w = {.emit_left = budget};

	if (ks->snap_state == SNAP_IDLE)
		return true;
	if (__builtin_mul_overflow(budget, (size_t)SNAP_VISITS_PER_EMIT,
				   &w.visit_left))
		w.visit_left = SIZE_MAX;
	while (ks->grave_head != NULL) {
		struct lazy_item *it = ks->grave_head;
		if (!snap_grave_step(ks, it, &w))
			return false;
		ks->grave_head = it->next;
		if (ks->grave_head == NULL)
			ks->grave_tail = NULL;
		ap_free(it);
	}
	for (; ks->snap_db_next < ks->db_count; ks->snap_db_next++) {
		if (!snap_walk_db(&ks->dbs[ks->snap_db_next], &w))
			return false;
	}
	snap_end(ks);
	return true;
}

/*
 * Emits key's entry now if the snapshot still owes it, so that a command
 * may then change its value in place. A cheap no-op when no snapshot is
 * under way, or when key is absent (expired keys included: they are
 * emitted as they are, the loader drops them).
 */
void ap_db_snap_preserve(struct ap_db *db, const char *key, size_t klen)
{
	if (AP_LIKELY(db->ks->snap_state == SNAP_IDLE))
		return;
	int tbl;
	struct ap_entry **link =
		db_find(db, key, klen, key_hash(db, key, klen), &tbl);

	if (link != NULL)
		snap_keep_slow(db, *link);
}

/* As ap_db_snap_preserve, for the linked entry e of db. */
void ap_db_snap_preserve_entry(struct ap_db *db, struct ap_entry *e)
{
	AP_ASSERT(e != NULL);
	snap_keep(db, e);
}

/*
 * Abandons the snapshot: emit is not called again. Flushed tables still
 * in the graveyard go to the lazy list; old entries of the tables are
 * settled later (snap_step, ap_keyspace_cron). No-op unless active.
 */
void ap_keyspace_snap_abort(struct ap_keyspace *ks)
{
	if (ks->snap_state != SNAP_ACTIVE)
		return;
	ks->snap_state = SNAP_FINISHING;
	ks->snap_emit = NULL;
	ks->snap_arg = NULL;
	snap_grave_drop(ks);
	(void)ap_keyspace_snap_step(ks, 0);
}

/* Entries emitted by the current (or last) snapshot. */
uint64_t ap_keyspace_snap_emitted(const struct ap_keyspace *ks)
{
	return ks->snap_emitted;
}

/* Settles an aborted snapshot from the cron within the deadline, at least
 * one batch per tick. */
static void snap_finish_cycle(struct ap_keyspace *ks, uint64_t deadline_us)
{
	while (!ap_keyspace_snap_step(ks, SNAP_CRON_BATCH) &&
	       ap_time_us() < deadline_us)
		;
}

/* ------------------------------------------------------------ keyspace */

/* A keyspace of db_count empty databases; its clock starts at the current
 * Unix time and active expiry is on. */
struct ap_keyspace *ap_keyspace_create(unsigned db_count)
{
	AP_ASSERT(db_count >= 1 && db_count <= AP_DATABASES_MAX);
	struct ap_keyspace *ks = ap_calloc(1, sizeof(*ks));

	ks->dbs = ap_calloc(db_count, sizeof(*ks->dbs));
	ks->db_count = db_count;
	ks->active_expire = true;
	ks->now_ms = ap_unix_ms();
	ks->rng = ap_time_ns() ^ (uint64_t)(uintptr_t)ks;
	ks->seed = ks_rand(ks);
	for (unsigned i = 0; i < db_count; i++) {
		ks->dbs[i].ks = ks;
		ks->dbs[i].rehash_idx = -1;
	}
	return ks;
}

/* Frees every database, entry and value, then the keyspace. */
void ap_keyspace_destroy(struct ap_keyspace *ks)
{
	if (ks == NULL)
		return;
	if (ks->snap_state != SNAP_IDLE) {
		snap_grave_drop(ks);
		for (unsigned i = 0; i < ks->db_count; i++)
			ks->dbs[i].snap_pending = 0;
		snap_end(ks);
	}
	ks->lazy_on = false;
	for (unsigned i = 0; i < ks->db_count; i++)
		ap_db_flush(&ks->dbs[i]);
	lazy_drain(ks);
	ap_free(ks->dbs);
	ap_free(ks);
}

/* Databases in the keyspace (fixed at creation). */
unsigned ap_keyspace_db_count(const struct ap_keyspace *ks)
{
	return ks->db_count;
}

/* Database idx; idx out of range is a bug (SELECT validates first). */
struct ap_db *ap_keyspace_db(struct ap_keyspace *ks, unsigned idx)
{
	AP_ASSERT(idx < ks->db_count);
	return &ks->dbs[idx];
}

/* Sets the clock used for expiry and the LRU clock (Unix ms). */
void ap_keyspace_set_now(struct ap_keyspace *ks, int64_t now_ms)
{
	ks->now_ms = now_ms;
}

/* The keyspace clock (Unix ms). */
int64_t ap_keyspace_now(const struct ap_keyspace *ks)
{
	return ks->now_ms;
}

/* The keyspace's counters, writable by callers (dirty). */
struct ap_keyspace_stats *ap_keyspace_stats(struct ap_keyspace *ks)
{
	return &ks->stats;
}

/* SWAPDB: exchanges the tables and vectors of two databases in O(1). */
void ap_keyspace_swap_db(struct ap_keyspace *ks, unsigned a, unsigned b)
{
	AP_ASSERT(a < ks->db_count && b < ks->db_count);
	struct ap_db t = ks->dbs[a];

	ks->dbs[a] = ks->dbs[b];
	ks->dbs[b] = t;
	/* A snapshot's walk state and origin travel with each table; a
	 * table still owed may now sit below the walk's database index. */
	ks->snap_db_next = AP_MIN(ks->snap_db_next, AP_MIN(a, b));
}

/* Turns active expiry in ap_keyspace_cron on or off. */
void ap_keyspace_set_loading(struct ap_keyspace *ks, bool on)
{
	ks->loading = on;
}

bool ap_keyspace_loading(const struct ap_keyspace *ks)
{
	return ks->loading;
}

void ap_keyspace_set_expire_hook(struct ap_keyspace *ks, ap_expire_hook_fn *fn,
				 void *arg)
{
	ks->expire_hook = fn;
	ks->expire_arg = arg;
}

void ap_keyspace_set_active_expire(struct ap_keyspace *ks, bool on)
{
	ks->active_expire = on;
}

/*
 * The LRU clock: Unix seconds of the keyspace clock, 24 bits. Unix time
 * rather than time since this keyspace started, so that stamps stay
 * meaningful when an entry is attached in another shard's keyspace.
 */
uint32_t ap_keyspace_lru_clock(const struct ap_keyspace *ks)
{
	return (uint32_t)((uint64_t)ks->now_ms / 1000) & LRU_MASK;
}

/* Deletes the linked entry e, which has expired. */
static void db_expire_entry(struct ap_db *db, struct ap_entry *e)
{
	int tbl;
	struct ap_entry **link = db_find_ptr(db, e, entry_hash(db, e), &tbl);

	db_expire_link(db, link, tbl);
}

/*
 * Active expiry of one database: rounds of up to AP_EXPIRE_SAMPLE random
 * volatile keys, repeated while more than AP_EXPIRE_REPEAT_PCT % of a
 * round had expired. Every EXPIRE_TIME_CHECK samples (counted in *samples
 * across databases) the clock is checked against deadline_us; *timeout is
 * set when it passed. Returns the keys expired.
 */
static size_t expire_db(struct ap_db *db, uint64_t deadline_us, size_t *samples,
			bool *timeout)
{
	struct ap_keyspace *ks = db->ks;
	size_t total = 0;

	while (!*timeout && db->vol.count > 0) {
		size_t sample = AP_MIN(db->vol.count, (size_t)AP_EXPIRE_SAMPLE);
		size_t seen = 0, expired = 0;

		while (seen < sample && db->vol.count > 0) {
			size_t i = ks_rand(ks) % db->vol.count;
			struct ap_entry *e = *vol_slot(&db->vol, i);
			seen++;
			if (entry_expired(ks, e)) {
				db_expire_entry(db, e);
				expired++;
			}
			if (++*samples % EXPIRE_TIME_CHECK == 0 &&
			    ap_time_us() >= deadline_us) {
				*timeout = true;
				break;
			}
		}
		total += expired;
		if (expired * 100 <= seen * AP_EXPIRE_REPEAT_PCT)
			break;
	}
	return total;
}

/* Active expiry over the databases, starting where the last call
 * stopped; one cycle per call. Returns the keys expired. */
static size_t expire_cycle(struct ap_keyspace *ks, uint64_t deadline_us)
{
	size_t total = 0, samples = 0;
	bool timeout = false;

	ks->stats.expire_cycles++;
	for (unsigned n = 0; n < ks->db_count && !timeout; n++) {
		unsigned i = ks->expire_db_next;
		ks->expire_db_next = (i + 1) % ks->db_count;
		total +=
			expire_db(&ks->dbs[i], deadline_us, &samples, &timeout);
	}
	return total;
}

/* Background rehash: shrinks tables that need it and moves buckets of
 * rehashing ones, at least one batch per database, then until the
 * deadline or AP_REHASH_TICK_US, whichever comes first. A rehash that
 * finished is followed by a shrink check (continued next tick). */
static void rehash_cycle(struct ap_keyspace *ks, uint64_t deadline_us)
{
	uint64_t stop = AP_MIN(deadline_us, ap_time_us() + AP_REHASH_TICK_US);

	for (unsigned i = 0; i < ks->db_count; i++) {
		struct ap_db *db = &ks->dbs[i];
		db_shrink_if_needed(db);
		if (!db_rehashing(db))
			continue;
		do {
			db_rehash(db, REHASH_CRON_BATCH);
		} while (db_rehashing(db) && ap_time_us() < stop);
		/* Deletes during a grow may have left it sparse. */
		db_shrink_if_needed(db);
	}
}

/* One loop tick of background work within about budget_us. */
size_t ap_keyspace_cron(struct ap_keyspace *ks, uint64_t budget_us)
{
	uint64_t deadline = ap_time_us() + budget_us;
	size_t expired = 0;

	if (ks->active_expire)
		expired = expire_cycle(ks, deadline);
	rehash_cycle(ks, deadline);
	if (ks->snap_state == SNAP_FINISHING)
		snap_finish_cycle(ks, deadline);
	return expired;
}

/* ------------------------------------------------------------- entries */

/* The key bytes of e (not NUL-terminated) and their length. */
const char *ap_entry_key(const struct ap_entry *e, size_t *len)
{
	return (const char *)entry_key_bytes(e, len);
}

/* The type of an entry. */
enum ap_type ap_entry_type(const struct ap_entry *e)
{
	return entry_type(e);
}

/* The encoding of an entry. */
enum ap_enc ap_entry_enc(const struct ap_entry *e)
{
	return entry_enc(e);
}

/* Absolute expire time in Unix ms, or AP_NO_EXPIRE. */
int64_t ap_entry_expire(const struct ap_entry *e)
{
	return entry_has_ttl(e) ? entry_expire_get(e) : AP_NO_EXPIRE;
}

/* The bytes of a string value; INT digits are written into buf. Valid
 * until the entry is mutated (or buf reused). */
const char *ap_entry_str(const struct ap_entry *e, size_t *len,
			 char buf[AP_INT_STR_SIZE])
{
	const uint8_t *p = entry_val(e);

	AP_ASSERT(entry_type(e) == AP_TYPE_STRING);
	switch (entry_enc(e)) {
	case AP_ENC_INT: {
		int64_t v;
		memcpy(&v, p, sizeof(v));
		*len = ap_ll_to_str(buf, v);
		return buf;
	}
	case AP_ENC_EMBSTR: {
		uint64_t n;
		p += varint_get(p, &n);
		*len = (size_t)n;
		return (const char *)p;
	}
	case AP_ENC_RAW: {
		const struct strbuf *sb = entry_ptr(e);
		*len = sb->len;
		return sb->buf;
	}
	default:
		AP_ASSERT(!"bad string encoding");
		return NULL;
	}
}

/* Length of a string value (digits for AP_ENC_INT). */
size_t ap_entry_str_len(const struct ap_entry *e)
{
	char buf[AP_INT_STR_SIZE];
	size_t len;

	ap_entry_str(e, &len, buf);
	return len;
}

/* True and *v set if the value is an AP_ENC_INT string. */
bool ap_entry_int(const struct ap_entry *e, long long *v)
{
	int64_t iv;

	if (entry_type(e) != AP_TYPE_STRING || entry_enc(e) != AP_ENC_INT)
		return false;
	memcpy(&iv, entry_val(e), sizeof(iv));
	*v = iv;
	return true;
}

/* The collection object of a non-string entry. */
void *ap_entry_obj(const struct ap_entry *e)
{
	AP_ASSERT(entry_type(e) != AP_TYPE_STRING);
	return entry_ptr(e);
}

/* Replaces the object pointer and encoding in place (conversions); the
 * old object is the caller's to free. */
void ap_entry_obj_set(struct ap_entry *e, void *obj, enum ap_enc enc)
{
	AP_ASSERT(entry_type(e) != AP_TYPE_STRING && obj != NULL);
	AP_ASSERT(enc >= AP_ENC_HASHTABLE && enc < AP_ENC__COUNT);
	e->type_enc = make_type_enc(entry_type(e), enc);
	entry_ptr_set(e, obj);
}

/* Seconds since the entry was last stamped, modulo the 24-bit clock. */
uint32_t ap_entry_idle_s(const struct ap_keyspace *ks, const struct ap_entry *e)
{
	return (ap_keyspace_lru_clock(ks) - entry_lru(e)) & LRU_MASK;
}

/* Sets the entry's access time idle_s seconds in the past (RESTORE
 * IDLETIME, OBJECT IDLETIME's inverse), modulo the 24-bit clock. */
void ap_entry_set_idle_s(const struct ap_keyspace *ks, struct ap_entry *e,
			 uint64_t idle_s)
{
	entry_lru_set(e, (ap_keyspace_lru_clock(ks) - (uint32_t)idle_s) &
				 LRU_MASK);
}

/* Allocated bytes of the entry plus its RAW buffer (collections count
 * only their pointer: their owners know their size). */
size_t ap_entry_mem(const struct ap_entry *e)
{
	size_t n = ap_alloc_size(e);

	enum ap_type t = entry_type(e);

	if (t == AP_TYPE_STRING) {
		if (entry_enc(e) == AP_ENC_RAW)
			n += ap_alloc_size(entry_ptr(e));
	} else if (ops_of(t)->mem != NULL) {
		n += ops_of(t)->mem(entry_ptr(e), entry_enc(e));
	}
	return n;
}
