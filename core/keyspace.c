/*
 * keyspace.c - one shard's databases: chained hash tables with incremental
 * rehashing, compact one-allocation entries, the volatile-key vector, lazy
 * and active expiry, SCAN, and the type registry.
 *
 * Two parts live in their own files, behind the same public header
 * (core/keyspace.h) and sharing this file's layouts through the private
 * core/keyspace_int.h: core/keyspace_snap.c, the forkless snapshot engine
 * (every change, replacement or unlink of an entry here first calls its
 * snap_keep; every entry linked here is stamped with its epoch), and
 * core/keyspace_free.c, lazy free (ap_ks_entry_dispose and ap_db_flush
 * queue big values and tables there). The entry layout is drawn in
 * core/keyspace_int.h; the accessors are here.
 *
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
#include "core/keyspace_int.h"
#include "core/limits.h"

#include <stddef.h>
#include <string.h>

#include <xxhash.h>

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

/* The growable buffer of an AP_ENC_RAW string. */
struct strbuf {
	uint32_t len;
	uint32_t cap;
	char buf[];
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

/* ops_of for core/keyspace_free.c; a missing type is a bug. */
const struct ap_type_ops *ap_ks_type_ops(enum ap_type type)
{
	return ops_of(type);
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

/*
 * Frees an entry that left the table. A collection with more than
 * AP_LAZYFREE_THRESHOLD elements goes to the lazy list (when lazy free is
 * on for this keyspace, core/keyspace_free.c) and is freed a budget at a
 * time; everything else at once.
 */
void ap_ks_entry_dispose(struct ap_keyspace *ks, struct ap_entry *e)
{
	enum ap_type type = entry_type(e);

	if (ks->lazy_on && type != AP_TYPE_STRING &&
	    ops_of(type)->free_some != NULL &&
	    ops_of(type)->length(entry_ptr(e), entry_enc(e)) >
		    AP_LAZYFREE_THRESHOLD) {
		ap_ks_lazy_push_obj(ks, entry_ptr(e), type, entry_enc(e));
		ap_free(e);
		return;
	}
	ap_entry_free(e);
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
	ne->flags &= (uint8_t)~EF_PIN; /* the copy is nobody's stream */
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

/* Frees the vector's chunks and directory and empties it (the entries are
 * not touched). */
void ap_ks_vol_free(struct vol *v)
{
	for (size_t i = 0; i < v->chunk_count; i++)
		ap_free(v->chunks[i]);
	ap_free(v->chunks);
	memset(v, 0, sizeof(*v));
}

/* ---------------------------------------------------------------- table */

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

/* The linked entry named key, expired or not, or NULL: no rehash step, no
 * lazy expiry, no statistics (ap_db_snap_preserve). */
struct ap_entry *ap_ks_entry_find(struct ap_db *db, const char *key,
				  size_t klen)
{
	int tbl;
	struct ap_entry **link =
		db_find(db, key, klen, key_hash(db, key, klen), &tbl);

	return link != NULL ? *link : NULL;
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
	ap_ks_entry_dispose(db->ks, e);
	db->ks->stats.expired++;
	db->ks->stats.dirty++;
	db_shrink_if_needed(db);
}

/*
 * Finds key for an operation: one rehash step, then the lookup, then lazy
 * expiry (an expired key is deleted and reported absent). An expired key
 * pinned by a streamed reply is reported absent and left alone; only a
 * reader (`write` false) may meet one: writers of a pinned key are kept
 * away by the caller's locks, and would otherwise link a second entry
 * under the same key.
 */
static struct ap_entry **db_find_live(struct ap_db *db, const void *key,
				      size_t klen, uint64_t h, int *tbl,
				      bool write)
{
	db_rehash(db, AP_REHASH_STEP_BUCKETS);
	struct ap_entry **link = db_find(db, key, klen, h, tbl);

	if (link != NULL && entry_expired(db->ks, *link)) {
		if (AP_UNLIKELY((*link)->flags & EF_PIN)) {
			AP_ASSERT(!write);
			return NULL;
		}
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
	struct ap_entry **link = db_find_live(
		db, key, klen, key_hash(db, key, klen), &tbl, false);

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
	struct ap_entry **link = db_find_live(db, key, klen, h, &tbl, true);

	entry_lru_set(ne, ap_keyspace_lru_clock(db->ks));
	if (link != NULL) {
		struct ap_entry *old = *link;
		db_swap(db, link, ne);
		ap_ks_entry_dispose(db->ks, old);
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
	struct ap_entry **link = db_find_live(
		db, key, klen, key_hash(db, key, klen), &tbl, true);

	if (link == NULL)
		return false;
	ap_ks_entry_dispose(db->ks, db_unlink(db, link, tbl));
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
	if (AP_UNLIKELY(db->snap_pending > 0) && ap_ks_snap_flush_to_grave(db))
		return;
	for (int t = 0; t < 2; t++) {
		struct table *ht = &db->ht[t];
		if (db->ks->lazy_on && ht->b != NULL) {
			ap_ks_lazy_push_table(db->ks, ht->b, table_size(ht));
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
	ap_ks_vol_free(&db->vol);
}

/* Unlinks a live key; the entry (value and TTL kept) goes to the caller. */
struct ap_entry *ap_db_detach(struct ap_db *db, const char *key, size_t klen)
{
	int tbl;
	struct ap_entry **link = db_find_live(
		db, key, klen, key_hash(db, key, klen), &tbl, true);

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
	struct ap_entry **link = db_find_live(db, key, klen, h, &tbl, true);

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
		ap_ks_entry_dispose(db->ks, old);
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
		if (!((*link)->flags & EF_PIN)) /* a stream's: left alone */
			db_expire_link(db, link, tbl);
	}
	return NULL;
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
	if (ks->snap_state != SNAP_IDLE)
		ap_ks_snap_discard(ks);
	ks->lazy_on = false;
	for (unsigned i = 0; i < ks->db_count; i++)
		ap_db_flush(&ks->dbs[i]);
	ap_ks_lazy_drain(ks);
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

/* Loading mode: while on, no key counts as expired (keyspace.h). */
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

/* Turns active expiry in ap_keyspace_cron on or off. */
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
			if (entry_expired(ks, e) && !(e->flags & EF_PIN)) {
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
		ap_ks_snap_finish_cycle(ks, deadline);
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

/* Pins or unpins e for a streamed reply (keyspace.h). */
void ap_entry_pin_set(struct ap_entry *e, bool pinned)
{
	AP_ASSERT(e != NULL);
	if (pinned)
		e->flags |= EF_PIN;
	else
		e->flags &= (uint8_t)~EF_PIN;
}

/* True while a streamed reply pins e. */
bool ap_entry_pinned(const struct ap_entry *e)
{
	return (e->flags & EF_PIN) != 0;
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
