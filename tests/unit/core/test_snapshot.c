/*
 * test_snapshot.c - the keyspace's forkless snapshot: every entry that
 * exists at begin is emitted exactly once, as it was at begin, whatever
 * happens to the keyspace during the walk (overwrites, deletes, expiry,
 * detach/attach, appends, in-place list and hash changes, FLUSHDB,
 * SWAPDB, growth and shrinkage with incremental rehash); entries created
 * later never are. The randomized test checks this against a reference
 * model over many seeds; the others pin the API's edges: begin refused
 * while busy, abort and restart, nothing emitted after completion, the
 * step budget, expired entries, the graveyard of a flushed table.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cmd.h"
#include "core/hobj.h"
#include "core/keyspace.h"
#include "core/list.h"
#include "core/serial.h"

#define T0	    1700000000000LL
#define NDB	    4
#define NKEYS	    3000 /* key names per database: "key:<idx>" */
#define LIST_FILL   (-2)
#define ROUNDS	    3	 /* snapshots per seed, on the same keyspace */
#define OPS_MAX	    3000 /* mutations per snapshot before it is driven home */
#define VALUE_MAX   120	 /* random string values: 0..VALUE_MAX bytes */
#define KEY_BUF_LEN 32
/* Mutations pick keys below a varying bound (so that they often meet
 * existing keys the walk has not reached yet); growth uses all NKEYS. */
#define HOT_MIN	 100
#define HOT_SPAN 700
#ifndef SEEDS
#define SEEDS 200
#endif

/* Check's ck_assert records every passing assertion (a write per call):
 * too slow for the millions the randomized test makes. These report
 * through Check only when they fail. */
#define REQUIRE_MSG(c, ...)                        \
	do {                                       \
		if (!(c))                          \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)
#define REQUIRE(c) REQUIRE_MSG(c, "%s:%d: %s", __FILE__, __LINE__, #c)
#define REQUIRE_CMP(a, op, b)                                           \
	REQUIRE_MSG((a)op(b), "%s:%d: %s %s %s (%lld, %lld)", __FILE__, \
		    __LINE__, #a, #op, #b, (long long)(a), (long long)(b))
#define REQUIRE_EQ(a, b)   REQUIRE_CMP(a, ==, b)
#define REQUIRE_LT(a, b)   REQUIRE_CMP(a, <, b)
#define REQUIRE_LE(a, b)   REQUIRE_CMP(a, <=, b)
#define REQUIRE_NONNULL(p) REQUIRE((p) != NULL)

/* Small hash limits, so that hashes convert during the test. */
static const struct ap_hobj_limits hash_lim = {.entries_max = 16,
					       .value_max = 32};

/* ------------------------------------------------------- the recorder */

/* One key's value in a snapshot: serialized value and expire time. */
struct rec {
	bool present;
	int64_t expire;
	struct ap_serial_buf ser;
};

/* What a snapshot emitted, and what the keyspace held at begin. */
struct recorder {
	bool accepting; /* emit calls allowed */
	size_t calls;
	unsigned last_db;
	struct rec got[NDB][NKEYS];
	struct rec want[NDB][NKEYS];
};

/* The recorder of the running test (big: allocated per test). */
static struct recorder *rc;

/* The index of a "key:<idx>" key. */
static size_t key_idx(const struct ap_entry *e)
{
	char buf[KEY_BUF_LEN];
	size_t len;
	const char *k = ap_entry_key(e, &len);

	REQUIRE_LT(len, sizeof(buf));
	memcpy(buf, k, len);
	buf[len] = '\0';
	REQUIRE(strncmp(buf, "key:", 4) == 0);
	size_t idx = strtoul(buf + 4, NULL, 10);
	REQUIRE_LT(idx, NKEYS);
	return idx;
}

/* Records e's value and expire time into r. */
static void rec_fill(struct rec *r, const struct ap_entry *e)
{
	REQUIRE(!r->present);
	r->present = true;
	r->expire = ap_entry_expire(e);
	ap_serial_buf_init(&r->ser);
	ap_serial_encode_entry(&r->ser, e);
}

/* Frees r's bytes and marks it absent. */
static void rec_clear(struct rec *r)
{
	if (r->present)
		ap_serial_buf_deinit(&r->ser);
	memset(r, 0, sizeof(*r));
}

/* The emit callback: each (db, key) at most once, only while allowed. */
static void on_emit(void *arg, unsigned db, const struct ap_entry *e)
{
	struct recorder *r = arg;

	REQUIRE(r->accepting);
	REQUIRE_LT(db, NDB);
	size_t idx = key_idx(e);
	REQUIRE_MSG(!r->got[db][idx].present, "db %u key %zu emitted twice", db,
		    idx);
	rec_fill(&r->got[db][idx], e);
	r->calls++;
	r->last_db = db;
}

/* Empties the recorder for a new snapshot (emits refused). */
static void recorder_reset(struct recorder *r)
{
	for (unsigned d = 0; d < NDB; d++) {
		for (size_t i = 0; i < NKEYS; i++) {
			rec_clear(&r->got[d][i]);
			rec_clear(&r->want[d][i]);
		}
	}
	r->calls = 0;
	r->accepting = false;
}

/* Asserts that what was emitted is exactly what was wanted. */
static void recorder_check(const struct recorder *r)
{
	size_t n = 0;

	for (unsigned d = 0; d < NDB; d++) {
		for (size_t i = 0; i < NKEYS; i++) {
			const struct rec *w = &r->want[d][i],
					 *g = &r->got[d][i];
			REQUIRE_MSG(w->present == g->present,
				    "db %u key %zu: wanted %d emitted %d", d, i,
				    w->present, g->present);
			if (!w->present)
				continue;
			n++;
			REQUIRE_EQ(w->expire, g->expire);
			REQUIRE_EQ(w->ser.len, g->ser.len);
			REQUIRE_MSG(memcmp(w->ser.p, g->ser.p, w->ser.len) == 0,
				    "db %u key %zu: value differs", d, i);
		}
	}
	REQUIRE_EQ(n, r->calls);
}

/* --------------------------------------------------- the reference model */

/* What the test believes a key holds. Collections: type only. */
struct mkey {
	bool present;
	enum ap_type type;
	int64_t expire;
	char *s; /* string value */
	size_t slen;
};

struct world {
	struct ap_keyspace *ks;
	struct mkey m[NDB][NKEYS];
	int64_t now;
	uint64_t rng;
	unsigned hot; /* key indexes in use: 1..NKEYS, varies for resizes */
};

/* splitmix64: the test's reproducible randomness, one stream per seed. */
static uint64_t rnd(struct world *w)
{
	uint64_t z = (w->rng += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* A random number in [0, n). */
static size_t rnd_below(struct world *w, size_t n)
{
	return (size_t)(rnd(w) % n);
}

/* Writes the name of key idx ("key:<idx>") into buf; its length. */
static size_t key_name(char *buf, size_t idx)
{
	return (size_t)snprintf(buf, KEY_BUF_LEN, "key:%zu", idx);
}

/* Forgets a model key (absent). */
static void mkey_clear(struct mkey *k)
{
	free(k->s);
	memset(k, 0, sizeof(*k));
}

/* True if the model holds a live key (an expired one is gone). */
static bool mkey_live(const struct world *w, const struct mkey *k)
{
	return k->present && (k->expire == AP_NO_EXPIRE || w->now <= k->expire);
}

/* Makes k a string key holding s[0..len) with expire time expire. */
static void mkey_set_str(struct mkey *k, const char *s, size_t len,
			 int64_t expire)
{
	mkey_clear(k);
	k->present = true;
	k->type = AP_TYPE_STRING;
	k->expire = expire;
	k->s = malloc(len + 1);
	memcpy(k->s, s, len);
	k->slen = len;
}

/* Makes dst a copy of src (value, type, TTL). */
static void mkey_copy(struct mkey *dst, const struct mkey *src)
{
	if (dst == src)
		return;
	mkey_clear(dst);
	*dst = *src;
	if (src->s != NULL) {
		dst->s = malloc(src->slen + 1);
		memcpy(dst->s, src->s, src->slen);
	}
}

/* A random string value: an integer, short (embstr) or long (raw). */
static size_t rnd_value(struct world *w, char *buf)
{
	switch (rnd_below(w, 4)) {
	case 0:
		return (size_t)sprintf(buf, "%lld",
				       (long long)rnd_below(w, 100000) - 500);
	default: {
		size_t len = rnd_below(w, VALUE_MAX + 1);
		for (size_t i = 0; i < len; i++)
			buf[i] = (char)('a' + rnd_below(w, 26));
		return len;
	}
	}
}

/* No TTL three times in four, else a TTL up to 3 s ahead. */
static int64_t rnd_expire(struct world *w)
{
	if (rnd_below(w, 4) != 0)
		return AP_NO_EXPIRE;
	return w->now + 1 + (int64_t)rnd_below(w, 3000);
}

/* A random database and a key index in the hot range. */
static void rnd_key(struct world *w, unsigned *db, size_t *idx)
{
	*db = (unsigned)rnd_below(w, NDB);
	*idx = rnd_below(w, w->hot);
}

/* --------------------------------------------------------- mutations */

static void op_set(struct world *w)
{
	char key[KEY_BUF_LEN], val[VALUE_MAX + 1];
	unsigned d;
	size_t i;

	rnd_key(w, &d, &i);
	size_t klen = key_name(key, i), vlen = rnd_value(w, val);
	int64_t exp = rnd_expire(w);
	ap_db_set_string(ap_keyspace_db(w->ks, d), key, klen, val, vlen, exp);
	mkey_set_str(&w->m[d][i], val, vlen, exp);
}

/* SET of an integer: an AP_ENC_INT entry. */
static void op_set_int(struct world *w)
{
	char key[KEY_BUF_LEN], val[AP_INT_STR_SIZE];
	unsigned d;
	size_t i;

	rnd_key(w, &d, &i);
	long long v = (long long)rnd(w);
	ap_db_set_int(ap_keyspace_db(w->ks, d), key, key_name(key, i), v,
		      AP_NO_EXPIRE);
	mkey_set_str(&w->m[d][i], val, (size_t)sprintf(val, "%lld", v),
		     AP_NO_EXPIRE);
}

/* DEL: true exactly when the model holds the key live. */
static void op_delete(struct world *w)
{
	char key[KEY_BUF_LEN];
	unsigned d;
	size_t i;

	rnd_key(w, &d, &i);
	bool live = mkey_live(w, &w->m[d][i]);
	REQUIRE(ap_db_delete(ap_keyspace_db(w->ks, d), key, key_name(key, i)) ==
		live);
	mkey_clear(&w->m[d][i]);
}

/* Looks a key up (lazy expiry may reclaim it); checks it against the
 * model and returns it. */
static struct ap_entry *lookup(struct world *w, unsigned d, size_t i)
{
	char key[KEY_BUF_LEN];
	struct ap_entry *e = ap_db_lookup(ap_keyspace_db(w->ks, d), key,
					  key_name(key, i), 0);
	struct mkey *k = &w->m[d][i];

	REQUIRE(mkey_live(w, k) == (e != NULL));
	if (e == NULL) {
		mkey_clear(k);
		return NULL;
	}
	REQUIRE_EQ(ap_entry_type(e), k->type);
	REQUIRE_EQ(ap_entry_expire(e), k->expire);
	if (k->type == AP_TYPE_STRING) {
		char buf[AP_INT_STR_SIZE];
		size_t len;
		const char *s = ap_entry_str(e, &len, buf);
		REQUIRE_EQ(len, k->slen);
		REQUIRE(len == 0 || memcmp(s, k->s, len) == 0);
	}
	return e;
}

/* A read (lazy expiry may reclaim the key). */
static void op_lookup(struct world *w)
{
	unsigned d;
	size_t i;

	rnd_key(w, &d, &i);
	lookup(w, d, i);
}

/* EXPIRE/PERSIST: a TTL set in place, added or removed. */
static void op_expire(struct world *w)
{
	unsigned d;
	size_t i;

	rnd_key(w, &d, &i);
	struct ap_entry *e = lookup(w, d, i);
	if (e == NULL)
		return;
	int64_t exp = rnd_below(w, 3) == 0
			      ? AP_NO_EXPIRE
			      : w->now + (int64_t)rnd_below(w, 3000);
	ap_db_set_expire(ap_keyspace_db(w->ks, d), &e, exp);
	w->m[d][i].expire = exp;
}

/* Time passes: keys with a TTL expire (reclaimed lazily or actively). */
static void op_clock(struct world *w)
{
	w->now += (int64_t)rnd_below(w, 400);
	ap_keyspace_set_now(w->ks, w->now);
}

/* A loop tick: active expiry, background rehash, lazy free. */
static void op_cron(struct world *w)
{
	ap_keyspace_cron(w->ks, 200);
	while (ap_keyspace_lazy_step(w->ks, 64))
		;
}

/* RENAME / MOVE: detach then attach under another name or database. */
static void op_rename(struct world *w)
{
	char key[KEY_BUF_LEN];
	unsigned sd, dd;
	size_t si, di;

	rnd_key(w, &sd, &si);
	rnd_key(w, &dd, &di);
	struct ap_db *src = ap_keyspace_db(w->ks, sd),
		     *dst = ap_keyspace_db(w->ks, dd);
	bool live = mkey_live(w, &w->m[sd][si]);
	struct ap_entry *e = ap_db_detach(src, key, key_name(key, si));
	REQUIRE((e != NULL) == live);
	if (e == NULL) {
		mkey_clear(&w->m[sd][si]);
		return;
	}
	bool replace = rnd_below(w, 2) == 0;
	if (ap_db_attach(dst, e, key, key_name(key, di), replace) == NULL) {
		REQUIRE(!replace && mkey_live(w, &w->m[dd][di]));
		REQUIRE_NONNULL(
			ap_db_attach(src, e, key, key_name(key, si), false));
		return;
	}
	if (dd == sd && di == si)
		return;
	mkey_copy(&w->m[dd][di], &w->m[sd][si]);
	mkey_clear(&w->m[sd][si]);
}

/* COPY: a deep copy attached under another key, replacing it. */
static void op_copy(struct world *w)
{
	char key[KEY_BUF_LEN];
	unsigned sd, dd;
	size_t si, di;

	rnd_key(w, &sd, &si);
	rnd_key(w, &dd, &di);
	struct ap_entry *e = lookup(w, sd, si);
	if (e == NULL || (sd == dd && si == di))
		return;
	struct ap_entry *c = ap_entry_dup(e);
	REQUIRE_NONNULL(ap_db_attach(ap_keyspace_db(w->ks, dd), c, key,
				     key_name(key, di), true));
	mkey_copy(&w->m[dd][di], &w->m[sd][si]);
}

/* APPEND / SETRANGE-like: resize the string and write new bytes. */
static void op_append(struct world *w)
{
	unsigned d;
	size_t i;

	rnd_key(w, &d, &i);
	struct ap_entry *e = lookup(w, d, i);
	struct mkey *k = &w->m[d][i];
	if (e == NULL || k->type != AP_TYPE_STRING)
		return;
	size_t len = k->slen + rnd_below(w, 40);
	if (rnd_below(w, 4) == 0)
		len = rnd_below(w, k->slen + 1);
	char *p = ap_db_str_resize(ap_keyspace_db(w->ks, d), &e, len);
	k->s = realloc(k->s, len + 1);
	for (size_t j = k->slen; j < len; j++)
		p[j] = k->s[j] = (char)('A' + rnd_below(w, 26));
	if (len > 0) {
		size_t j = rnd_below(w, len); /* SETRANGE one byte */
		p[j] = k->s[j] = '#';
	}
	k->slen = len;
}

/* INCR-like: the string becomes an integer in place or rebuilt. */
static void op_incr(struct world *w)
{
	unsigned d;
	size_t i;

	rnd_key(w, &d, &i);
	struct ap_entry *e = lookup(w, d, i);
	struct mkey *k = &w->m[d][i];
	if (e == NULL || k->type != AP_TYPE_STRING)
		return;
	long long v = (long long)rnd_below(w, 1000000);
	char buf[AP_INT_STR_SIZE];
	ap_db_str_set_int(ap_keyspace_db(w->ks, d), &e, v);
	int64_t exp = k->expire;
	mkey_set_str(k, buf, (size_t)sprintf(buf, "%lld", v), exp);
}

/* LPUSH/RPUSH: in place into an existing list, preserved first. */
static void op_push(struct world *w)
{
	char key[KEY_BUF_LEN];
	unsigned d;
	size_t i;

	rnd_key(w, &d, &i);
	struct ap_entry *e = lookup(w, d, i);
	struct mkey *k = &w->m[d][i];
	if (e != NULL && k->type != AP_TYPE_LIST)
		return;
	struct ap_db *db = ap_keyspace_db(w->ks, d);
	struct ap_arg elems[4];
	char vals[4][VALUE_MAX + 1];
	size_t n = 1 + rnd_below(w, 4);
	for (size_t j = 0; j < n; j++) {
		elems[j].len = rnd_value(w, vals[j]);
		elems[j].p = vals[j];
	}
	if (e != NULL)
		ap_db_snap_preserve_entry(db, e);
	ap_list_key_push(db, e, LIST_FILL, key, key_name(key, i),
			 rnd_below(w, 2) ? AP_LIST_HEAD : AP_LIST_TAIL, elems,
			 n);
	if (e == NULL) {
		mkey_clear(k);
		k->present = true;
		k->type = AP_TYPE_LIST;
		k->expire = AP_NO_EXPIRE;
	}
}

/* HSET: in place into an existing hash (preserved by key), converting
 * to a hashtable past the small limits. */
static void op_hset(struct world *w)
{
	char key[KEY_BUF_LEN], f[16], v[VALUE_MAX + 1];
	unsigned d;
	size_t i;

	rnd_key(w, &d, &i);
	struct ap_entry *e = lookup(w, d, i);
	struct mkey *k = &w->m[d][i];
	if (e != NULL && k->type != AP_TYPE_HASH)
		return;
	struct ap_db *db = ap_keyspace_db(w->ks, d);
	size_t klen = key_name(key, i);
	size_t flen = (size_t)sprintf(f, "f%zu", rnd_below(w, 24));
	size_t vlen = rnd_value(w, v) % 48;
	struct ap_hobj h;
	if (e == NULL) {
		ap_hobj_init(&h);
		ap_hobj_set(&h, f, flen, v, vlen, &hash_lim);
		ap_db_set_object(db, key, klen, AP_TYPE_HASH, h.enc, h.ptr,
				 AP_NO_EXPIRE);
		mkey_clear(k);
		k->present = true;
		k->type = AP_TYPE_HASH;
		k->expire = AP_NO_EXPIRE;
		return;
	}
	ap_db_snap_preserve(db, key, klen);
	h.ptr = ap_entry_obj(e);
	h.enc = ap_entry_enc(e);
	ap_hobj_set(&h, f, flen, v, vlen, &hash_lim);
	ap_entry_obj_set(e, h.ptr, h.enc);
}

/* FLUSHDB of a random database. */
static void op_flush(struct world *w)
{
	unsigned d = (unsigned)rnd_below(w, NDB);

	ap_db_flush(ap_keyspace_db(w->ks, d));
	for (size_t i = 0; i < NKEYS; i++)
		mkey_clear(&w->m[d][i]);
}

/* SWAPDB of two random databases (possibly the same one). */
static void op_swap(struct world *w)
{
	unsigned a = (unsigned)rnd_below(w, NDB),
		 b = (unsigned)rnd_below(w, NDB);

	ap_keyspace_swap_db(w->ks, a, b);
	for (size_t i = 0; i < NKEYS; i++) {
		struct mkey t = w->m[a][i];
		w->m[a][i] = w->m[b][i];
		w->m[b][i] = t;
	}
}

/* Growth: many new keys in one database (the table grows, rehashes). */
static void op_grow(struct world *w)
{
	char key[KEY_BUF_LEN];
	unsigned d = (unsigned)rnd_below(w, NDB);
	size_t n = 50 + rnd_below(w, 500);

	w->hot = HOT_MIN + (unsigned)rnd_below(w, HOT_SPAN);
	for (size_t j = 0; j < n; j++) {
		size_t i = rnd_below(w, NKEYS);
		ap_db_set_int(ap_keyspace_db(w->ks, d), key, key_name(key, i),
			      (long long)i, AP_NO_EXPIRE);
		char buf[AP_INT_STR_SIZE];
		mkey_set_str(&w->m[d][i], buf, (size_t)sprintf(buf, "%zu", i),
			     AP_NO_EXPIRE);
	}
}

/* Shrinkage: most keys of one database deleted (the table shrinks). */
static void op_shrink(struct world *w)
{
	char key[KEY_BUF_LEN];
	unsigned d = (unsigned)rnd_below(w, NDB);
	size_t keep = rnd_below(w, 64);

	for (size_t i = keep; i < NKEYS; i++) {
		bool live = mkey_live(w, &w->m[d][i]);
		REQUIRE(ap_db_delete(ap_keyspace_db(w->ks, d), key,
				     key_name(key, i)) == live);
		mkey_clear(&w->m[d][i]);
	}
	w->hot = (unsigned)AP_MAX(keep, (size_t)16);
}

/* RANDOMKEY (may reclaim expired keys on the way). */
static void op_random(struct world *w)
{
	struct ap_entry *e = ap_db_random(
		ap_keyspace_db(w->ks, (unsigned)rnd_below(w, NDB)));

	if (e != NULL)
		REQUIRE_LT(key_idx(e), NKEYS);
}

/* lazyfree on or off: flushed tables and big values freed later. */
static void op_lazyfree(struct world *w)
{
	ap_keyspace_set_lazyfree(w->ks, rnd_below(w, 2) == 0);
}

typedef void op_fn(struct world *w);

/* Mutations and their weights. */
static const struct {
	op_fn *fn;
	unsigned weight;
} ops[] = {
	{op_set, 30},	 {op_set_int, 5}, {op_delete, 12},  {op_lookup, 10},
	{op_expire, 15}, {op_clock, 6},	  {op_cron, 3},	    {op_rename, 8},
	{op_copy, 4},	 {op_append, 20}, {op_incr, 10},    {op_push, 15},
	{op_hset, 15},	 {op_flush, 1},	  {op_swap, 2},	    {op_grow, 2},
	{op_shrink, 1},	 {op_random, 3},  {op_lazyfree, 1},
};

/* Runs one mutation drawn by weight. */
static void rnd_op(struct world *w)
{
	unsigned total = 0;

	for (size_t i = 0; i < AP_ARRAY_LEN(ops); i++)
		total += ops[i].weight;
	unsigned r = (unsigned)rnd_below(w, total);
	for (size_t i = 0; i < AP_ARRAY_LEN(ops); i++) {
		if (r < ops[i].weight) {
			ops[i].fn(w);
			return;
		}
		r -= ops[i].weight;
	}
}

/* ------------------------------------------------------------ rounds */

/* Reclaims keys the model considers expired, then checks that the
 * keyspace holds exactly the model's keys with the model's values. */
static void world_settle(struct world *w)
{
	for (unsigned d = 0; d < NDB; d++) {
		size_t n = 0;
		for (size_t i = 0; i < NKEYS; i++) {
			lookup(w, d, i);
			n += w->m[d][i].present;
		}
		REQUIRE_EQ(ap_db_size(ap_keyspace_db(w->ks, d)), n);
	}
}

/* Records the keyspace as it is now as what the snapshot must emit. */
static void want_capture(struct world *w)
{
	char key[KEY_BUF_LEN];

	for (unsigned d = 0; d < NDB; d++) {
		for (size_t i = 0; i < NKEYS; i++) {
			if (!w->m[d][i].present)
				continue;
			struct ap_entry *e =
				ap_db_lookup(ap_keyspace_db(w->ks, d), key,
					     key_name(key, i), AP_LK_NOTOUCH);
			REQUIRE_NONNULL(e);
			rec_fill(&rc->want[d][i], e);
		}
	}
}

/* Records keys [from, to) of db (database 0) as wanted. */
static void want_capture_db(struct ap_db *db, size_t from, size_t to)
{
	char key[KEY_BUF_LEN];

	for (size_t i = from; i < to; i++) {
		struct ap_entry *e =
			ap_db_lookup(db, key, key_name(key, i), AP_LK_NOTOUCH);
		REQUIRE_NONNULL(e);
		rec_fill(&rc->want[0][i], e);
	}
}

/* Steps the snapshot with a budget, checking that at most that many
 * entries were emitted. */
static bool step(struct world *w, size_t budget)
{
	size_t before = rc->calls;
	bool done = ap_keyspace_snap_step(w->ks, budget);

	REQUIRE_LE(rc->calls - before, budget);
	return done;
}

/* An empty keyspace and model for one seed. */
static void world_init(struct world *w, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	w->rng = seed;
	w->now = T0;
	w->hot = HOT_MIN;
	w->ks = ap_keyspace_create(NDB);
	ap_keyspace_set_now(w->ks, w->now);
}

/* Destroys the keyspace (mid-snapshot or not) and the model. */
static void world_deinit(struct world *w)
{
	ap_keyspace_destroy(w->ks);
	for (unsigned d = 0; d < NDB; d++)
		for (size_t i = 0; i < NKEYS; i++)
			mkey_clear(&w->m[d][i]);
}

/*
 * One snapshot under random mutations: settle, capture, begin, then
 * mutations interleaved with small steps; at the end the emitted set
 * must equal the capture, and nothing may be emitted afterwards.
 */
static void snapshot_round(struct world *w)
{
	world_settle(w);
	recorder_reset(rc);
	want_capture(w);
	rc->accepting = true;
	REQUIRE(ap_keyspace_snap_begin(w->ks, on_emit, rc));
	REQUIRE(ap_keyspace_snap_active(w->ks));
	REQUIRE(!ap_keyspace_snap_begin(w->ks, on_emit, rc));

	bool done = false;
	size_t ops_n = rnd_below(w, OPS_MAX);
	size_t step_every = 1 + rnd_below(w, 8);
	for (size_t n = 0; n < ops_n && !done; n++) {
		rnd_op(w);
		if (n % step_every == 0)
			done = step(w, 1 + rnd_below(w, 4));
	}
	while (!done)
		done = step(w, 1 + rnd_below(w, 64));
	REQUIRE(!ap_keyspace_snap_active(w->ks));
	REQUIRE(!ap_keyspace_snap_busy(w->ks));
	REQUIRE_EQ(ap_keyspace_snap_emitted(w->ks), rc->calls);
	recorder_check(rc);

	/* Nothing is emitted after completion. */
	rc->accepting = false;
	for (size_t n = 0; n < 200; n++)
		rnd_op(w);
	REQUIRE(ap_keyspace_snap_step(w->ks, 100));
}

/* A snapshot aborted midway: settled by steps or the cron, then a new
 * snapshot works. */
static void abort_round(struct world *w)
{
	world_settle(w);
	recorder_reset(rc);
	rc->accepting = true;
	REQUIRE(ap_keyspace_snap_begin(w->ks, on_emit, rc));
	size_t ops_n = rnd_below(w, 300);
	for (size_t n = 0; n < ops_n; n++) {
		rnd_op(w);
		if (n % 2 == 0 && step(w, 1 + rnd_below(w, 8)))
			break;
	}
	ap_keyspace_snap_abort(w->ks);
	rc->accepting = false;
	REQUIRE(!ap_keyspace_snap_active(w->ks));
	while (ap_keyspace_snap_busy(w->ks)) {
		REQUIRE(!ap_keyspace_snap_begin(w->ks, on_emit, rc));
		rnd_op(w);
		if (rnd_below(w, 2))
			ap_keyspace_snap_step(w->ks, 1 + rnd_below(w, 8));
		else
			ap_keyspace_cron(w->ks, 100);
	}
}

/* The randomized model test: SEEDS seeds, each ROUNDS snapshots (some
 * after an aborted one) on one keyspace, then one left unfinished when
 * the keyspace is destroyed. */
START_TEST(test_random_model)
{
	rc = calloc(1, sizeof(*rc));
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct world *w = calloc(1, sizeof(*w));
		world_init(w, seed * 7919);
		for (size_t n = 0; n < 1500; n++)
			rnd_op(w);
		for (int r = 0; r < ROUNDS; r++) {
			if (rnd_below(w, 3) == 0)
				abort_round(w);
			snapshot_round(w);
		}
		/* A keyspace destroyed mid-snapshot frees everything. */
		recorder_reset(rc);
		rc->accepting = true;
		REQUIRE(ap_keyspace_snap_begin(w->ks, on_emit, rc));
		step(w, 5);
		op_flush(w);
		world_deinit(w);
		free(w);
	}
	recorder_reset(rc);
	free(rc);
}
END_TEST

/* ------------------------------------------------------ targeted tests */

static struct ap_keyspace *ks_make(void)
{
	struct ap_keyspace *ks = ap_keyspace_create(NDB);

	ap_keyspace_set_now(ks, T0);
	return ks;
}

/* Sets key i of db to the string v. */
static void put(struct ap_db *db, size_t i, const char *v, int64_t exp)
{
	char key[KEY_BUF_LEN];

	ap_db_set_string(db, key, key_name(key, i), v, strlen(v), exp);
}

/* Asserts that key idx of db was emitted with the string value v. */
static void check_got(unsigned db, size_t i, const char *v)
{
	const struct rec *r = &rc->got[db][i];
	struct ap_serial_buf b;

	ck_assert_msg(r->present, "db %u key %zu not emitted", db, i);
	ap_serial_buf_init(&b);
	ap_serial_encode_str(&b, v, strlen(v));
	ck_assert_uint_eq(r->ser.len, b.len);
	ck_assert(memcmp(r->ser.p, b.p, b.len) == 0);
	ap_serial_buf_deinit(&b);
}

/* The edges of the API: no snapshot, an empty keyspace, budget 0,
 * begin refused while busy, nothing emitted once complete. */
START_TEST(test_empty_and_refusals)
{
	struct ap_keyspace *ks = ks_make();

	rc = calloc(1, sizeof(*rc));
	rc->accepting = true;
	/* No snapshot: step is done, preserve and abort are no-ops. */
	ck_assert(ap_keyspace_snap_step(ks, 10));
	ck_assert(!ap_keyspace_snap_busy(ks));
	ap_db_snap_preserve(ap_keyspace_db(ks, 0), "x", 1);
	ap_keyspace_snap_abort(ks);
	/* An empty keyspace completes at the first step, budget 0 too. */
	ck_assert(ap_keyspace_snap_begin(ks, on_emit, rc));
	ck_assert(!ap_keyspace_snap_begin(ks, on_emit, rc));
	ck_assert(ap_keyspace_snap_busy(ks));
	ck_assert(ap_keyspace_snap_step(ks, 0));
	ck_assert(!ap_keyspace_snap_busy(ks));
	ck_assert_uint_eq(rc->calls, 0);
	/* Budget 0 with entries owed does nothing. */
	put(ap_keyspace_db(ks, 1), 7, "v", AP_NO_EXPIRE);
	ck_assert(ap_keyspace_snap_begin(ks, on_emit, rc));
	ck_assert(!ap_keyspace_snap_step(ks, 0));
	ck_assert_uint_eq(rc->calls, 0);
	ck_assert(ap_keyspace_snap_step(ks, 1));
	ck_assert_uint_eq(rc->calls, 1);
	ck_assert_uint_eq(rc->last_db, 1);
	ck_assert_uint_eq(ap_keyspace_snap_emitted(ks), 1);
	/* Done: nothing more, even when the entry changes. */
	rc->accepting = false;
	put(ap_keyspace_db(ks, 1), 7, "w", AP_NO_EXPIRE);
	ap_db_delete(ap_keyspace_db(ks, 1), "key:7", 5);
	ck_assert(ap_keyspace_snap_step(ks, 10));
	ap_keyspace_destroy(ks);
	recorder_reset(rc);
	free(rc);
}
END_TEST

/* Exactly `budget` entries per step while enough are owed, and the
 * old value when a key is overwritten before the walk reaches it. */
START_TEST(test_budget_and_overwrite)
{
	struct ap_keyspace *ks = ks_make();
	struct ap_db *db = ap_keyspace_db(ks, 2);

	rc = calloc(1, sizeof(*rc));
	rc->accepting = true;
	for (size_t i = 0; i < 1000; i++)
		put(db, i, "old", AP_NO_EXPIRE);
	ck_assert(ap_keyspace_snap_begin(ks, on_emit, rc));
	for (size_t i = 0; i < 1000; i++)
		put(db, i + 1000, "new", AP_NO_EXPIRE);
	for (size_t i = 0; i < 1000; i += 2)
		put(db, i, "changed", AP_NO_EXPIRE);
	ck_assert_uint_eq(rc->calls, 500);
	size_t steps = 0;
	while (!ap_keyspace_snap_step(ks, 7)) {
		steps++;
		ck_assert_uint_le(rc->calls, 500 + steps * 7);
	}
	ck_assert_uint_eq(rc->calls, 1000);
	for (size_t i = 0; i < 1000; i++)
		check_got(2, i, "old");
	/* Keys 1000.. were created during the snapshot. */
	for (size_t i = 1000; i < NKEYS; i++)
		ck_assert(!rc->got[2][i].present);
	ap_keyspace_destroy(ks);
	recorder_reset(rc);
	free(rc);
}
END_TEST

/* Expired entries not yet reclaimed at begin are emitted (the loader
 * drops them); expiry during the snapshot emits before freeing. */
START_TEST(test_expired_entries)
{
	struct ap_keyspace *ks = ks_make();
	struct ap_db *db = ap_keyspace_db(ks, 0);

	rc = calloc(1, sizeof(*rc));
	rc->accepting = true;
	put(db, 1, "gone", T0 + 10);
	put(db, 2, "soon", T0 + 100);
	put(db, 3, "kept", AP_NO_EXPIRE);
	ap_keyspace_set_now(ks, T0 + 50); /* key 1 expired, unreclaimed */
	ck_assert_uint_eq(ap_db_size(db), 3);
	ck_assert(ap_keyspace_snap_begin(ks, on_emit, rc));
	ap_keyspace_set_now(ks, T0 + 200);
	ck_assert_ptr_null(ap_db_lookup(db, "key:2", 5, 0)); /* lazy expiry */
	ck_assert_uint_eq(rc->calls, 1);
	ck_assert_int_eq(rc->got[0][2].expire, T0 + 100);
	while (!ap_keyspace_snap_step(ks, 1))
		;
	ck_assert_uint_eq(rc->calls, 3);
	check_got(0, 1, "gone");
	ck_assert_int_eq(rc->got[0][1].expire, T0 + 10);
	check_got(0, 2, "soon");
	ck_assert_int_eq(rc->got[0][3].expire, AP_NO_EXPIRE);
	ap_keyspace_destroy(ks);
	recorder_reset(rc);
	free(rc);
}
END_TEST

/* FLUSHDB during a snapshot is O(1): the walk emits the flushed keys
 * under their database and frees them; with lazy free on or off. SWAPDB
 * keeps the database index the keys had at begin. */
START_TEST(test_flush_and_swap)
{
	for (int lazy = 0; lazy < 2; lazy++) {
		struct ap_keyspace *ks = ks_make();

		rc = calloc(1, sizeof(*rc));
		rc->accepting = true;
		ap_keyspace_set_lazyfree(ks, lazy);
		for (size_t i = 0; i < 500; i++) {
			put(ap_keyspace_db(ks, 0), i, "zero", AP_NO_EXPIRE);
			put(ap_keyspace_db(ks, 1), i, "one", AP_NO_EXPIRE);
			put(ap_keyspace_db(ks, 3), i, "three", AP_NO_EXPIRE);
		}
		ck_assert(ap_keyspace_snap_begin(ks, on_emit, rc));
		ck_assert(!ap_keyspace_snap_step(ks, 3));
		ap_keyspace_swap_db(ks, 0, 3);
		ap_keyspace_swap_db(ks, 1, 2);
		/* db 2 holds the old db 1: flush it, refill it. */
		ap_db_flush(ap_keyspace_db(ks, 2));
		ck_assert_uint_eq(ap_db_size(ap_keyspace_db(ks, 2)), 0);
		ck_assert_uint_lt(rc->calls, 10);
		put(ap_keyspace_db(ks, 2), 0, "fresh", AP_NO_EXPIRE);
		put(ap_keyspace_db(ks, 0), 0, "over", AP_NO_EXPIRE);
		while (!ap_keyspace_snap_step(ks, 5))
			;
		ck_assert_uint_eq(rc->calls, 1500);
		for (size_t i = 0; i < 500; i++) {
			check_got(0, i, "zero");
			check_got(1, i, "one");
			check_got(3, i, "three");
			ck_assert(!rc->got[2][i].present);
		}
		ck_assert(!ap_keyspace_lazy_pending(ks) || lazy);
		while (ap_keyspace_lazy_step(ks, 100))
			;
		ap_keyspace_destroy(ks);
		recorder_reset(rc);
		free(rc);
	}
}
END_TEST

/* Abort: nothing emitted afterwards, begin refused until settled, then a
 * complete snapshot works; a flushed table waiting in the graveyard goes
 * to lazy free. */
START_TEST(test_abort_restart)
{
	struct ap_keyspace *ks = ks_make();
	struct ap_db *db = ap_keyspace_db(ks, 1);

	rc = calloc(1, sizeof(*rc));
	rc->accepting = true;
	for (size_t i = 0; i < 2000; i++)
		put(db, i, "v", AP_NO_EXPIRE);
	put(ap_keyspace_db(ks, 3), 5, "flushed", AP_NO_EXPIRE);
	ck_assert(ap_keyspace_snap_begin(ks, on_emit, rc));
	ck_assert(!ap_keyspace_snap_step(ks, 10));
	ap_db_flush(ap_keyspace_db(ks, 3));
	ap_keyspace_snap_abort(ks);
	rc->accepting = false;
	ck_assert(!ap_keyspace_snap_active(ks));
	ck_assert(ap_keyspace_snap_busy(ks));
	ck_assert(!ap_keyspace_snap_begin(ks, on_emit, rc));
	put(db, 3, "changed", AP_NO_EXPIRE);
	ap_db_delete(db, "key:4", 5);
	ap_keyspace_snap_abort(ks); /* no-op now */
	ck_assert(!ap_keyspace_snap_step(ks, 100));
	ck_assert(ap_keyspace_snap_busy(ks));
	ap_keyspace_cron(ks, 100000); /* settles the rest */
	ck_assert(!ap_keyspace_snap_busy(ks));
	while (ap_keyspace_lazy_step(ks, 100))
		;
	/* A new snapshot emits the current state. */
	recorder_reset(rc);
	rc->accepting = true;
	ck_assert(ap_keyspace_snap_begin(ks, on_emit, rc));
	while (!ap_keyspace_snap_step(ks, 50))
		;
	ck_assert_uint_eq(rc->calls, 1999);
	ck_assert_uint_eq(ap_keyspace_snap_emitted(ks), 1999);
	ck_assert(!rc->got[1][4].present);
	ap_keyspace_destroy(ks);
	recorder_reset(rc);
	free(rc);
}
END_TEST

/* Every in-place change preserves the old version first: a RAW string
 * resized in place, an EMBSTR one rebuilt, an INT set in place, a TTL
 * changed in place, added, removed; a hash and a list changed in place
 * after ap_db_snap_preserve(_entry), the preserve of an absent key. */
START_TEST(test_in_place_changes)
{
	struct ap_keyspace *ks = ks_make();
	struct ap_db *db = ap_keyspace_db(ks, 0);
	char key[KEY_BUF_LEN], raw[100];
	struct ap_entry *e;

	rc = calloc(1, sizeof(*rc));
	memset(raw, 'r', sizeof(raw) - 1);
	raw[sizeof(raw) - 1] = '\0';
	put(db, 0, raw, AP_NO_EXPIRE);
	put(db, 1, "emb", AP_NO_EXPIRE);
	put(db, 2, "42", AP_NO_EXPIRE);
	put(db, 3, "ttl", T0 + 1000);
	put(db, 4, "nottl", AP_NO_EXPIRE);
	put(db, 5, "ttl2", T0 + 1000);
	struct ap_hobj h;
	ap_hobj_init(&h);
	ap_hobj_set(&h, "f", 1, "v", 1, &hash_lim);
	ap_db_set_object(db, key, key_name(key, 6), AP_TYPE_HASH, h.enc, h.ptr,
			 AP_NO_EXPIRE);
	struct ap_arg el = {.p = "a", .len = 1};
	ap_list_key_push(db, NULL, LIST_FILL, key, key_name(key, 7),
			 AP_LIST_TAIL, &el, 1);
	recorder_reset(rc);
	rc->accepting = true;
	want_capture_db(db, 0, 8);
	ck_assert(ap_keyspace_snap_begin(ks, on_emit, rc));

	e = ap_db_lookup(db, key, key_name(key, 0), 0);
	memcpy(ap_db_str_resize(db, &e, 120) + 99, "appended", 8);
	e = ap_db_lookup(db, key, key_name(key, 1), 0);
	memcpy(ap_db_str_resize(db, &e, 6) + 3, "ded", 3);
	e = ap_db_lookup(db, key, key_name(key, 2), 0);
	ap_db_str_set_int(db, &e, 43);
	e = ap_db_lookup(db, key, key_name(key, 3), 0);
	ap_db_set_expire(db, &e, T0 + 5000);
	e = ap_db_lookup(db, key, key_name(key, 4), 0);
	ap_db_set_expire(db, &e, T0 + 5000);
	e = ap_db_lookup(db, key, key_name(key, 5), 0);
	ap_db_set_expire(db, &e, AP_NO_EXPIRE);
	e = ap_db_lookup(db, key, key_name(key, 6), 0);
	ap_db_snap_preserve(db, key, key_name(key, 6));
	h.ptr = ap_entry_obj(e);
	h.enc = ap_entry_enc(e);
	ap_hobj_set(&h, "g", 1, "w", 1, &hash_lim);
	ap_entry_obj_set(e, h.ptr, h.enc);
	e = ap_db_lookup(db, key, key_name(key, 7), 0);
	ap_db_snap_preserve_entry(db, e);
	ap_db_snap_preserve_entry(db, e); /* twice: emitted once */
	ap_list_key_push(db, e, LIST_FILL, key, key_name(key, 7), AP_LIST_HEAD,
			 &el, 1);
	ap_db_snap_preserve(db, key, key_name(key, 8)); /* absent */
	ck_assert_uint_eq(rc->calls, 8);
	ck_assert(ap_keyspace_snap_step(ks, 100));
	recorder_check(rc);
	ap_keyspace_destroy(ks);
	recorder_reset(rc);
	free(rc);
}
END_TEST

/* A walk with budget 1 across a grow and a deep shrink (rehashes in
 * both directions, the cursor mid-table): nothing missed or repeated. */
START_TEST(test_walk_across_resizes)
{
	struct ap_keyspace *ks = ks_make();
	struct ap_db *db = ap_keyspace_db(ks, 0);
	char key[KEY_BUF_LEN];

	rc = calloc(1, sizeof(*rc));
	rc->accepting = true;
	for (size_t i = 0; i < 1024; i++)
		put(db, i, "x", AP_NO_EXPIRE);
	ck_assert(ap_keyspace_snap_begin(ks, on_emit, rc));
	for (int r = 0; r < 2000 && !ap_keyspace_snap_step(ks, 1); r++) {
		if (r == 100) /* grow: 1024 -> 2048 buckets */
			for (size_t i = 1024; i < 2100; i++)
				put(db, i, "n", AP_NO_EXPIRE);
		if (r == 400) /* shrink: delete the new ones */
			for (size_t i = 1024; i < 2100; i++)
				ap_db_delete(db, key, key_name(key, i));
		if (r == 600) /* deep shrink: keep 40 */
			for (size_t i = 40; i < 1024; i++)
				ap_db_delete(db, key, key_name(key, i));
		if (r % 7 == 0)
			ap_keyspace_cron(ks, 50);
	}
	while (!ap_keyspace_snap_step(ks, 1))
		;
	ck_assert_uint_eq(rc->calls, 1024);
	for (size_t i = 0; i < 1024; i++)
		ck_assert(rc->got[0][i].present);
	ap_keyspace_destroy(ks);
	recorder_reset(rc);
	free(rc);
}
END_TEST

/* A shrink (ht[1] the smaller table) whose incremental rehash moves
 * buckets the walk has not reached into the smaller table while the
 * walk's cursor is inside their group: the smaller table's bucket must
 * be looked at again, not only at the group's start. Repeated with the
 * walk at different points. */
START_TEST(test_walk_during_shrink)
{
	for (size_t lag = 0; lag < 64; lag++) {
		struct ap_keyspace *ks = ks_make();
		struct ap_db *db = ap_keyspace_db(ks, 0);
		char key[KEY_BUF_LEN];
		size_t i = NKEYS;

		rc = calloc(1, sizeof(*rc));
		for (size_t k = 0; k < NKEYS; k++)
			put(db, k, "v", AP_NO_EXPIRE);
		want_capture_db(db, 0, NKEYS);
		rc->accepting = true;
		ck_assert(ap_keyspace_snap_begin(ks, on_emit, rc));
		for (size_t k = 0; k < lag; k++)
			ck_assert(!ap_keyspace_snap_step(ks, 1));
		/* Delete from the top until a shrink starts. */
		while (!ap_db_is_rehashing(db) && i > 0)
			ap_db_delete(db, key, key_name(key, --i));
		ck_assert(ap_db_is_rehashing(db));
		/* Walk and rehash in small alternating steps, at several
		 * relative speeds (a lookup of a missing key moves a bucket).
		 */
		while (!ap_keyspace_snap_step(ks, 1 + lag % 3))
			for (size_t n = 0; n < lag % 16; n++)
				ap_db_lookup(db, "none", 4, 0);
		recorder_check(rc);
		ap_keyspace_destroy(ks);
		recorder_reset(rc);
		free(rc);
	}
}
END_TEST

/* Every test in one case; the randomized one needs a longer timeout
 * under the sanitizers. */
static Suite *snapshot_suite(void)
{
	Suite *s = suite_create("snapshot");
	TCase *tc = tcase_create("snapshot");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_empty_and_refusals);
	tcase_add_test(tc, test_budget_and_overwrite);
	tcase_add_test(tc, test_expired_entries);
	tcase_add_test(tc, test_flush_and_swap);
	tcase_add_test(tc, test_abort_restart);
	tcase_add_test(tc, test_in_place_changes);
	tcase_add_test(tc, test_walk_across_resizes);
	tcase_add_test(tc, test_walk_during_shrink);
	tcase_add_test(tc, test_random_model);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	ap_core_setup();
	SRunner *sr = srunner_create(snapshot_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
