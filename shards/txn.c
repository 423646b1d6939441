/*
 * txn.c - the transaction core: per-key intent locks on every shard, the
 * ordered acquisition that makes them deadlock-free, and WATCH versions.
 *
 * docs/transactions.md has the design and the argument; in short:
 *
 * - A transaction (a command whose keys span shards, an EXEC, a command
 *   that must see the whole keyspace at one instant) names every key it
 *   touches, per shard, each as read (shared) or write (exclusive), or a
 *   whole-shard lock. It gets a global id from one atomic counter.
 * - Its lock requests visit the shards in ascending shard order, one at a
 *   time (a chain: each shard forwards the next request when it granted
 *   its own). A shard grants a request only when none of its keys is
 *   held in a conflicting mode AND no earlier request still waiting on
 *   that shard conflicts with it (first come, first served per key), all
 *   of the request's keys at once. Requests that do not conflict are
 *   granted out of order.
 * - Deadlock cannot happen: a transaction waits only on a shard whose
 *   predecessors in shard order it already holds, so the waits-for graph
 *   follows shard order and has no cycle. Starvation cannot happen: a
 *   waiting request is passed only by requests that do not conflict with
 *   it, and every holder finishes in bounded time.
 * - The home shard then runs the transaction (its commands run without
 *   lock checks: it holds what they touch) and releases every request.
 * - Non-transactional commands pay one predictable branch: a shard with
 *   no lock held (`holds == 0`) checks nothing. Otherwise a command whose
 *   keys are held in a conflicting mode is parked (its client stops
 *   parsing, or a remote batch stops at that command) until a release.
 *
 * WATCH: every shard keeps a version per watched key, bumped by every
 * change to it; EXEC's lock requests carry the versions its client saw,
 * compared when the locks are granted, so the check and the execution
 * are one atomic step.
 *
 * Threading: everything here runs on the shard that owns the state; a
 * transaction object is written by its home shard, and each lock request
 * by the shard holding it (messages order the hand-overs).
 */
#include "shards/shards_int.h"

#include <string.h>
#include <xxhash.h>

/* ======================= lock table ==================================== */

struct ap_lock {
	struct ap_lock *next; /* hash chain */
	uint64_t hash;
	uint64_t x_owner; /* transaction holding it exclusively, 0 if none */
	uint32_t s_count; /* shared holders */
	uint32_t refs;	  /* requests (waiting or granted) naming it */
	uint32_t mark;	  /* scan stamp: an earlier waiting request names it */
	bool mark_x;	  /* ... and that request writes it */
	uint32_t local;	  /* of s_count: local shares (streamed replies) */
	unsigned db;
	size_t klen;
	char key[];
};

static uint64_t lock_hash(unsigned db, const char *key, size_t klen)
{
	return XXH3_64bits_withSeed(key, klen, db);
}

static struct ap_lock **lock_slot(struct ap_txn_shard *ts, uint64_t h,
				  unsigned db, const char *key, size_t klen)
{
	struct ap_lock **pp = &ts->buckets[h & ts->mask];
	while (*pp) {
		struct ap_lock *l = *pp;
		if (l->hash == h && l->db == db && l->klen == klen &&
		    memcmp(l->key, key, klen) == 0)
			break;
		pp = &l->next;
	}
	return pp;
}

static void lock_table_grow(struct ap_txn_shard *ts)
{
	size_t cap = ts->mask ? (ts->mask + 1) * 2 : 64;
	struct ap_lock **nb = ap_calloc(cap, sizeof(*nb));
	for (size_t i = 0; ts->mask && i <= ts->mask; i++) {
		struct ap_lock *l = ts->buckets[i];
		while (l) {
			struct ap_lock *next = l->next;
			l->next = nb[l->hash & (cap - 1)];
			nb[l->hash & (cap - 1)] = l;
			l = next;
		}
	}
	ap_free(ts->buckets);
	ts->buckets = nb;
	ts->mask = cap - 1;
}

/* The lock entry of (db, key), created with refs 0 if absent. */
static struct ap_lock *lock_get(struct ap_txn_shard *ts, unsigned db,
				const char *key, size_t klen)
{
	if (ts->lock_count >= ts->mask + 1 || !ts->buckets)
		lock_table_grow(ts);
	uint64_t h = lock_hash(db, key, klen);
	struct ap_lock **pp = lock_slot(ts, h, db, key, klen);
	if (*pp)
		return *pp;
	struct ap_lock *l = ap_calloc(1, sizeof(*l) + klen);
	l->hash = h;
	l->db = db;
	l->klen = klen;
	memcpy(l->key, key, klen);
	*pp = l;
	ts->lock_count++;
	return l;
}

static struct ap_lock *lock_find(struct ap_txn_shard *ts, unsigned db,
				 const char *key, size_t klen)
{
	if (!ts->buckets)
		return NULL;
	return *lock_slot(ts, lock_hash(db, key, klen), db, key, klen);
}

/* Drops one reference; frees the entry when none is left. */
static void lock_unref(struct ap_txn_shard *ts, struct ap_lock *l)
{
	AP_ASSERT(l->refs > 0);
	if (--l->refs > 0)
		return;
	AP_ASSERT(l->x_owner == 0 && l->s_count == 0);
	struct ap_lock **pp = lock_slot(ts, l->hash, l->db, l->key, l->klen);
	AP_ASSERT(*pp == l);
	*pp = l->next;
	ts->lock_count--;
	ap_free(l);
}

/* ======================= watch versions ================================ */

struct ap_watch_ver {
	struct ap_watch_ver *next;
	uint64_t version;
	uint32_t refs;
	unsigned db;
	size_t klen;
	char key[];
};

static struct ap_watch_ver **watch_slot(struct ap_txn_shard *ts, unsigned db,
					const char *key, size_t klen)
{
	uint64_t h = lock_hash(db, key, klen);
	struct ap_watch_ver **pp = &ts->wbuckets[h & ts->wmask];
	while (*pp) {
		struct ap_watch_ver *w = *pp;
		if (w->db == db && w->klen == klen &&
		    memcmp(w->key, key, klen) == 0)
			break;
		pp = &w->next;
	}
	return pp;
}

static void watch_table_grow(struct ap_txn_shard *ts)
{
	size_t cap = ts->wmask ? (ts->wmask + 1) * 2 : 64;
	struct ap_watch_ver **nb = ap_calloc(cap, sizeof(*nb));
	for (size_t i = 0; ts->wbuckets && i <= ts->wmask; i++) {
		struct ap_watch_ver *w = ts->wbuckets[i];
		while (w) {
			struct ap_watch_ver *next = w->next;
			size_t b =
				lock_hash(w->db, w->key, w->klen) & (cap - 1);
			w->next = nb[b];
			nb[b] = w;
			w = next;
		}
	}
	ap_free(ts->wbuckets);
	ts->wbuckets = nb;
	ts->wmask = cap - 1;
}

uint64_t ap_txn_watch_add(struct ap_shard *s, unsigned db, const char *key,
			  size_t klen)
{
	struct ap_txn_shard *ts = &s->txn;
	if (!ts->wbuckets || ts->watch_count >= ts->wmask + 1)
		watch_table_grow(ts);
	struct ap_watch_ver **pp = watch_slot(ts, db, key, klen);
	if (!*pp) {
		struct ap_watch_ver *w = ap_calloc(1, sizeof(*w) + klen);
		w->db = db;
		w->klen = klen;
		memcpy(w->key, key, klen);
		w->version = ++ts->watch_clock;
		*pp = w;
		ts->watch_count++;
	}
	(*pp)->refs++;
	return (*pp)->version;
}

void ap_txn_watch_drop(struct ap_shard *s, unsigned db, const char *key,
		       size_t klen)
{
	struct ap_txn_shard *ts = &s->txn;
	if (!ts->wbuckets)
		return;
	struct ap_watch_ver **pp = watch_slot(ts, db, key, klen);
	struct ap_watch_ver *w = *pp;
	AP_ASSERT(w != NULL && w->refs > 0);
	if (--w->refs > 0)
		return;
	*pp = w->next;
	ts->watch_count--;
	ap_free(w);
}

/* The current version of a watched key (it must be registered). */
static uint64_t watch_version(struct ap_txn_shard *ts, unsigned db,
			      const char *key, size_t klen)
{
	struct ap_watch_ver *w = *watch_slot(ts, db, key, klen);
	AP_ASSERT(w != NULL);
	return w->version;
}

uint64_t ap_txn_watch_version(struct ap_shard *s, unsigned db, const char *key,
			      size_t klen)
{
	return watch_version(&s->txn, db, key, klen);
}

void ap_txn_watch_touch(struct ap_shard *s, unsigned db, const char *key,
			size_t klen)
{
	struct ap_txn_shard *ts = &s->txn;
	if (ts->watch_count == 0)
		return;
	struct ap_watch_ver *w = *watch_slot(ts, db, key, klen);
	if (w)
		w->version = ++ts->watch_clock;
}

void ap_txn_watch_touch_db(struct ap_shard *s, int db)
{
	struct ap_txn_shard *ts = &s->txn;
	for (size_t i = 0; ts->watch_count && i <= ts->wmask; i++)
		for (struct ap_watch_ver *w = ts->wbuckets[i]; w; w = w->next)
			if (db < 0 || w->db == (unsigned)db)
				w->version = ++ts->watch_clock;
}

void ap_txn_watch_touch_cmd(struct ap_shard *s, const struct ap_cmd_ctx *ctx)
{
	struct ap_keyidx ki;
	ap_keyidx_init(&ki, ctx->cmd, ctx->argc, ctx->argv);
	for (size_t i = 0; i < ki.n; i++)
		ap_txn_watch_touch(s, ctx->db_idx, ctx->argv[ki.idx[i]].p,
				   ctx->argv[ki.idx[i]].len);
	ap_keyidx_deinit(&ki);
}

/* ======================= requests and the chain ======================== */

/* One shard's part of a transaction: its keys there, and what it holds. */
struct txn_req {
	struct ap_msg m;
	struct ap_txn *t;
	struct txn_req *chain_next; /* the next shard's request, in order */
	int shard;
	int nkeys;
	struct ap_txn_key *keys; /* bytes owned by the transaction */
	struct ap_lock **locks;	 /* this shard's entries, on arrival */
	int nwatch;
	struct ap_txn_watch *watch; /* versions to compare at grant */
	enum ap_txn_global global;
	bool granted;
	struct txn_req *qnext, *qprev; /* the shard's waiting queue */
};

static void txn_scan(struct ap_shard *s);

/* May req be granted now, given what is held and what waits before it
 * (marked with this scan's stamp)? */
static bool req_grantable(struct ap_txn_shard *ts, const struct txn_req *req)
{
	uint32_t st = ts->stamp;
	if (ts->gx_owner || ts->mark_gx == st)
		return false;
	if (req->global == AP_TXN_GLOBAL_EXCL)
		return ts->holds == 0 && ts->mark_any != st;
	if (req->global == AP_TXN_GLOBAL_SHARED) {
		if (ts->x_holds || ts->mark_anyx == st)
			return false;
	}
	for (int i = 0; i < req->nkeys; i++) {
		const struct ap_lock *l = req->locks[i];
		bool marked = l->mark == st;
		if (req->keys[i].write) {
			if (l->x_owner || l->s_count || marked ||
			    ts->gs_count || ts->mark_gs == st)
				return false;
		} else if (l->x_owner || (marked && l->mark_x)) {
			return false;
		}
	}
	return true;
}

/* req stays waiting: later requests must not pass it where they
 * conflict. */
static void req_mark(struct ap_txn_shard *ts, const struct txn_req *req)
{
	uint32_t st = ts->stamp;
	ts->mark_any = st;
	if (req->global == AP_TXN_GLOBAL_EXCL)
		ts->mark_gx = st;
	else if (req->global == AP_TXN_GLOBAL_SHARED)
		ts->mark_gs = st;
	for (int i = 0; i < req->nkeys; i++) {
		struct ap_lock *l = req->locks[i];
		bool w = req->keys[i].write;
		if (l->mark != st) {
			l->mark = st;
			l->mark_x = w;
		} else {
			l->mark_x |= w;
		}
		if (w)
			ts->mark_anyx = st;
	}
}

static void req_grant(struct ap_txn_shard *ts, struct txn_req *req)
{
	uint64_t id = req->t->id;
	if (req->global == AP_TXN_GLOBAL_EXCL) {
		ts->gx_owner = id;
		ts->holds++;
	} else if (req->global == AP_TXN_GLOBAL_SHARED) {
		ts->gs_count++;
		ts->holds++;
	}
	for (int i = 0; i < req->nkeys; i++) {
		struct ap_lock *l = req->locks[i];
		if (req->keys[i].write) {
			AP_ASSERT(l->x_owner == 0 && l->s_count == 0);
			l->x_owner = id;
			ts->x_holds++;
		} else {
			AP_ASSERT(l->x_owner == 0);
			l->s_count++;
		}
		ts->holds++;
	}
	req->granted = true;
}

static void queue_remove(struct ap_txn_shard *ts, struct txn_req *req)
{
	if (req->qprev)
		req->qprev->qnext = req->qnext;
	else
		ts->qhead = req->qnext;
	if (req->qnext)
		req->qnext->qprev = req->qprev;
	else
		ts->qtail = req->qprev;
	req->qnext = req->qprev = NULL;
}

/* Compares the WATCH versions of this shard's keys; a key whose TTL
 * passed since WATCH counts as changed (it expired). */
static bool req_watch_ok(struct ap_shard *s, const struct txn_req *req)
{
	for (int i = 0; i < req->nwatch; i++) {
		const struct ap_txn_watch *w = &req->watch[i];
		if (watch_version(&s->txn, w->db, w->key, w->klen) !=
		    w->version)
			return false;
		if (w->expire_ms != AP_NO_EXPIRE && w->expire_ms <= s->now_ms)
			return false;
	}
	return true;
}

static void locked_msg_run(struct ap_shard *s, struct ap_msg *m);
static void req_arrive_msg(struct ap_shard *s, struct ap_msg *m);

/* req was granted here: pass the chain on, or tell home all is held. */
static void req_granted(struct ap_shard *s, struct txn_req *req)
{
	struct ap_txn *t = req->t;
	if (req->nwatch && !req_watch_ok(s, req))
		atomic_store_explicit(&t->watch_failed, true,
				      memory_order_relaxed);
	if (t->on_grant)
		t->on_grant(s, t);
	if (req->chain_next) {
		req->chain_next->m.run = req_arrive_msg;
		req->chain_next->m.home = (uint16_t)t->home;
		ap_shard_send(s, req->chain_next->shard, &req->chain_next->m);
		return;
	}
	/* Always a message, even to ourselves: the continuation never runs
	 * inside the scan (or the command) that granted the lock. */
	t->locked_msg.run = locked_msg_run;
	t->locked_msg.home = (uint16_t)t->home;
	ap_shard_send(s, t->home, &t->locked_msg);
}

/* Grants every waiting request that can be, in queue order. */
static void txn_scan(struct ap_shard *s)
{
	struct ap_txn_shard *ts = &s->txn;
	struct txn_req *granted = NULL, **gtail = &granted;
	if (++ts->stamp == 0)
		ts->stamp = 1;
	for (struct txn_req *req = ts->qhead, *next; req; req = next) {
		next = req->qnext;
		if (!req_grantable(ts, req)) {
			req_mark(ts, req);
			continue;
		}
		req_grant(ts, req);
		queue_remove(ts, req);
		*gtail = req;
		gtail = &req->qnext; /* reuse the link for the granted list */
	}
	while (granted) {
		struct txn_req *req = granted;
		granted = req->qnext;
		req->qnext = NULL;
		req_granted(s, req);
	}
}

/* A lock request arrives on its shard: it joins the queue. */
static void req_arrive(struct ap_shard *s, struct txn_req *req)
{
	struct ap_txn_shard *ts = &s->txn;
	AP_ASSERT(req->shard == s->id);
	for (int i = 0; i < req->nkeys; i++) {
		const struct ap_txn_key *k = &req->keys[i];
		req->locks[i] = lock_get(ts, k->db, k->key, k->klen);
		req->locks[i]->refs++;
	}
	req->qprev = ts->qtail;
	req->qnext = NULL;
	if (ts->qtail)
		ts->qtail->qnext = req;
	else
		ts->qhead = req;
	ts->qtail = req;
	txn_scan(s);
}

static void req_arrive_msg(struct ap_shard *s, struct ap_msg *m)
{
	req_arrive(s, (struct txn_req *)m);
}

/* Schedules one pass over the parked work of this shard (never inline:
 * a release may come from inside a command). */
static void unpark_schedule(struct ap_shard *s);

/* Gives back everything req holds on this shard and frees it. */
static void req_release(struct ap_shard *s, struct txn_req *req)
{
	struct ap_txn_shard *ts = &s->txn;
	AP_ASSERT(req->granted);
	if (req->global == AP_TXN_GLOBAL_EXCL) {
		ts->gx_owner = 0;
		ts->holds--;
	} else if (req->global == AP_TXN_GLOBAL_SHARED) {
		ts->gs_count--;
		ts->holds--;
	}
	for (int i = 0; i < req->nkeys; i++) {
		struct ap_lock *l = req->locks[i];
		if (req->keys[i].write) {
			l->x_owner = 0;
			ts->x_holds--;
		} else {
			l->s_count--;
		}
		ts->holds--;
		lock_unref(ts, l);
	}
	ap_free(req->locks);
	ap_free(req->keys);
	ap_free(req);
	if (ts->qhead)
		txn_scan(s);
	if (ts->parked_clients || ts->parked_msgs)
		unpark_schedule(s);
	ap_blk_locks_released(s);
}

static void req_release_msg(struct ap_shard *s, struct ap_msg *m)
{
	req_release(s, (struct txn_req *)m);
}

/* ======================= local shares ================================== */

/*
 * A streamed reply (shards/stream.c) reads one key across loop ticks.
 * It holds a shared lock on it for that time, taken at once: the read
 * that started it just ran, so no exclusive lock is held on the key (a
 * waiting request may be passed: plain reads never wait for requests,
 * and the stream layer starts no stream while anything waits here).
 * Writers of the key then park exactly as behind a transaction's shared
 * lock, whole-shard exclusive requests wait for holds to drop to 0, and
 * the release rescans and unparks as req_release does.
 */
struct ap_lock *ap_txn_local_share(struct ap_shard *s, unsigned db,
				   const char *key, size_t klen)
{
	struct ap_txn_shard *ts = &s->txn;
	struct ap_lock *l = lock_get(ts, db, key, klen);

	AP_ASSERT(l->x_owner == 0 && ts->gx_owner == 0);
	l->refs++;
	l->s_count++;
	l->local++;
	ts->holds++;
	return l;
}

bool ap_txn_local_last(const struct ap_lock *l)
{
	AP_ASSERT(l->local > 0);
	return l->local == 1;
}

void ap_txn_local_unshare(struct ap_shard *s, struct ap_lock *l)
{
	struct ap_txn_shard *ts = &s->txn;

	AP_ASSERT(l->local > 0 && l->s_count > 0 && ts->holds > 0);
	l->local--;
	l->s_count--;
	ts->holds--;
	lock_unref(ts, l);
	if (ts->qhead)
		txn_scan(s);
	if (ts->parked_clients || ts->parked_msgs)
		unpark_schedule(s);
	ap_blk_locks_released(s);
}

bool ap_txn_waiters(const struct ap_shard *s)
{
	const struct ap_txn_shard *ts = &s->txn;

	return ts->qhead || ts->parked_clients || ts->parked_msgs ||
	       s->blk.locked;
}

/* ======================= transactions ================================== */

static void locked_msg_run(struct ap_shard *s, struct ap_msg *m)
{
	struct ap_txn *t = (struct ap_txn *)((char *)m - offsetof(struct ap_txn,
								  locked_msg));
	AP_ASSERT(s->id == t->home);
	t->on_locked(s, t);
}

static int key_cmp(const void *a, const void *b)
{
	const struct ap_txn_key *x = a, *y = b;
	if (x->db != y->db)
		return x->db < y->db ? -1 : 1;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->key, y->key, n);
	if (c)
		return c;
	return x->klen < y->klen ? -1 : (x->klen > y->klen);
}

struct ap_txn *ap_txn_create(struct ap_shard *home, struct ap_client *c)
{
	struct ap_txn *t = ap_calloc(1, sizeof(*t));
	t->home = home->id;
	t->client = c;
	t->id = atomic_fetch_add_explicit(&home->srv->next_txn_id, 1,
					  memory_order_relaxed);
	return t;
}

void ap_txn_add_key(struct ap_txn *t, unsigned db, const char *key, size_t klen,
		    bool write)
{
	AP_ASSERT(!t->started);
	if (t->nkeys == t->keys_cap) {
		t->keys_cap = t->keys_cap ? t->keys_cap * 2 : 8;
		t->keys = ap_realloc(t->keys,
				     (size_t)t->keys_cap * sizeof(*t->keys));
	}
	struct ap_txn_key *k = &t->keys[t->nkeys++];
	k->db = db;
	k->key = ap_memdup(key, klen ? klen : 1);
	k->klen = klen;
	k->write = write;
}

void ap_txn_set_global(struct ap_txn *t, enum ap_txn_global g)
{
	if (g > t->global)
		t->global = g;
}

void ap_txn_set_watch(struct ap_txn *t, const struct ap_txn_watch *w, int n)
{
	t->watch = w;
	t->nwatch = n;
}

/* Sorts and merges the keys (a key read and written is written), then
 * builds one request per shard in ascending shard order. */
static void txn_build(struct ap_shard *home, struct ap_txn *t)
{
	struct ap_server *srv = home->srv;
	int n = srv->nshards;
	if (t->nkeys > 1)
		qsort(t->keys, (size_t)t->nkeys, sizeof(*t->keys), key_cmp);
	int out = 0;
	for (int i = 0; i < t->nkeys; i++) {
		if (out > 0 && key_cmp(&t->keys[out - 1], &t->keys[i]) == 0) {
			t->keys[out - 1].write |= t->keys[i].write;
			ap_free((void *)t->keys[i].key);
			continue;
		}
		t->keys[out++] = t->keys[i];
	}
	t->nkeys = out;
	int *per = ap_calloc((size_t)n, sizeof(int));
	int *wper = ap_calloc((size_t)n, sizeof(int));
	int *kshard = ap_malloc(((size_t)t->nkeys + 1) * sizeof(int));
	for (int i = 0; i < t->nkeys; i++) {
		kshard[i] =
			ap_shard_of_key(srv, t->keys[i].key, t->keys[i].klen);
		per[kshard[i]]++;
	}
	for (int i = 0; i < t->nwatch; i++)
		wper[ap_shard_of_key(srv, t->watch[i].key, t->watch[i].klen)]++;
	t->reqs = ap_calloc((size_t)n, sizeof(*t->reqs));
	struct txn_req *prev = NULL;
	for (int sh = 0; sh < n; sh++) {
		if (!per[sh] && !wper[sh] && t->global == AP_TXN_GLOBAL_NONE)
			continue;
		struct txn_req *r = ap_calloc(1, sizeof(*r));
		r->t = t;
		r->shard = sh;
		r->global = t->global;
		r->keys = ap_malloc(((size_t)per[sh] + 1) * sizeof(*r->keys));
		r->locks = ap_calloc((size_t)per[sh] + 1, sizeof(*r->locks));
		r->watch =
			ap_malloc(((size_t)wper[sh] + 1) * sizeof(*r->watch));
		for (int i = 0; i < t->nkeys; i++)
			if (kshard[i] == sh)
				r->keys[r->nkeys++] = t->keys[i];
		for (int i = 0; i < t->nwatch; i++)
			if (ap_shard_of_key(srv, t->watch[i].key,
					    t->watch[i].klen) == sh)
				r->watch[r->nwatch++] = t->watch[i];
		if (prev)
			prev->chain_next = r;
		else
			t->first = r;
		prev = r;
		t->reqs[sh] = r;
		t->nreqs++;
	}
	ap_free(kshard);
	ap_free(per);
	ap_free(wper);
}

void ap_txn_start(struct ap_shard *home, struct ap_txn *t, ap_txn_fn *on_locked)
{
	AP_ASSERT(!t->started && home->id == t->home);
	t->started = true;
	t->on_locked = on_locked;
	txn_build(home, t);
	home->txn.active++;
	if (!t->first) { /* nothing to lock: still never inline */
		t->locked_msg.run = locked_msg_run;
		ap_shard_send(home, home->id, &t->locked_msg);
		return;
	}
	t->first->m.home = (uint16_t)home->id;
	if (t->first->shard == home->id) {
		req_arrive(home, t->first);
	} else {
		t->first->m.run = req_arrive_msg;
		ap_shard_send(home, t->first->shard, &t->first->m);
	}
}

bool ap_txn_watch_failed(const struct ap_txn *t)
{
	return atomic_load_explicit(&t->watch_failed, memory_order_relaxed);
}

void ap_txn_finish(struct ap_shard *home, struct ap_txn *t)
{
	AP_ASSERT(home->id == t->home);
	/* A request keeps its keys array (modes, for the release) and is
	 * freed by its shard; lock entries hold their own copy of the key
	 * bytes, so the bytes owned by t may go now. The watch versions were
	 * compared at grant time. */
	for (int sh = 0; t->reqs && sh < home->srv->nshards; sh++) {
		struct txn_req *r = t->reqs[sh];
		if (!r)
			continue;
		ap_free(r->watch);
		r->watch = NULL;
		if (sh == home->id) {
			req_release(home, r);
		} else {
			r->m.run = req_release_msg;
			ap_shard_send(home, sh, &r->m);
		}
	}
	for (int i = 0; i < t->nkeys; i++)
		ap_free((void *)t->keys[i].key);
	ap_free(t->keys);
	ap_free(t->reqs);
	ap_free(t);
	home->txn.active--;
}

/* ======================= checks for plain commands ===================== */

/* A database index as COPY and MOVE read it (decimal, no sign); false if
 * it is not one (the command then replies the error). */
static bool db_arg(const struct ap_arg *a, unsigned *db)
{
	unsigned long long v = 0;

	if (a->len == 0 || a->len > 10)
		return false;
	for (size_t i = 0; i < a->len; i++) {
		if (a->p[i] < '0' || a->p[i] > '9')
			return false;
		v = v * 10 + (unsigned long long)(a->p[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*db = (unsigned)v;
	return true;
}

/* MOVE key db and COPY src dst DB db write a key of another database,
 * which their key positions (in the client's database) do not name: the
 * database written and the key there, when the command has one. */
static bool other_db_key(const struct ap_cmd *cmd, int argc,
			 const struct ap_arg *argv, unsigned *db,
			 const struct ap_arg **key)
{
	const struct ap_arg *dbarg = NULL;

	if (!strcmp(cmd->name, "move") && argc == 3) {
		*key = &argv[1];
		dbarg = &argv[2];
	} else if (!strcmp(cmd->name, "copy")) {
		*key = &argv[2];
		for (int i = 3; i + 1 < argc; i++) {
			if (ap_arg_eq(&argv[i], "db"))
				dbarg = &argv[++i];
		}
	}
	return dbarg != NULL && db_arg(dbarg, db);
}

bool ap_txn_blocks(struct ap_shard *s, unsigned db, const struct ap_cmd *cmd,
		   int argc, const struct ap_arg *argv)
{
	struct ap_txn_shard *ts = &s->txn;
	bool write = cmd->flags & AP_CMD_WRITE;
	if (ts->gx_owner || (write && ts->gs_count))
		return true;
	/* FLUSHALL, FLUSHDB, SWAPDB run here without a transaction (one
	 * shard): they wait for every lock, a stream's included. */
	if (write && (cmd->flags & AP_CMD_WHOLE_KEYSPACE))
		return true;
	if (ts->lock_count == 0)
		return false;
	struct ap_keyidx ki;
	ap_keyidx_init(&ki, cmd, argc, argv);
	bool blocked = false;
	for (size_t i = 0; i < ki.n && !blocked; i++) {
		const struct ap_arg *k = &argv[ki.idx[i]];
		const struct ap_lock *l = lock_find(ts, db, k->p, k->len);
		blocked = l && (l->x_owner || (write && l->s_count));
	}
	ap_keyidx_deinit(&ki);
	unsigned odb;
	const struct ap_arg *ok;
	if (!blocked && write && other_db_key(cmd, argc, argv, &odb, &ok)) {
		const struct ap_lock *l = lock_find(ts, odb, ok->p, ok->len);
		blocked = l && (l->x_owner || l->s_count);
	}
	return blocked;
}

/* ======================= parking ======================================= */

static void unpark_run(struct ap_shard *s, struct ap_msg *m)
{
	struct ap_txn_shard *ts = &s->txn;
	(void)m;
	ts->unpark_scheduled = false;
	struct ap_client *cl = ts->parked_clients;
	ts->parked_clients = NULL;
	while (cl) {
		struct ap_client *c = cl;
		cl = c->lockwait_next;
		c->lockwait_next = NULL;
		c->flags &= ~AP_CF_LOCKWAIT;
		ap_client_resume(c);
	}
	struct ap_msg *ml = ts->parked_msgs;
	ts->parked_msgs = ts->parked_tail = NULL;
	while (ml) {
		struct ap_msg *pm = ml;
		ml = pm->next;
		pm->next = NULL;
		pm->run(s, pm); /* may park again */
	}
}

static void unpark_schedule(struct ap_shard *s)
{
	struct ap_txn_shard *ts = &s->txn;
	if (ts->unpark_scheduled)
		return;
	ts->unpark_scheduled = true;
	ts->unpark_msg.run = unpark_run;
	ap_shard_send(s, s->id, &ts->unpark_msg);
}

void ap_txn_park_client(struct ap_shard *s, struct ap_client *c)
{
	struct ap_txn_shard *ts = &s->txn;
	AP_ASSERT(!(c->flags & AP_CF_LOCKWAIT));
	c->flags |= AP_CF_LOCKWAIT;
	/* FIFO: append. Parked lists are short; O(n) append is fine. */
	struct ap_client **pp = &ts->parked_clients;
	while (*pp)
		pp = &(*pp)->lockwait_next;
	c->lockwait_next = NULL;
	*pp = c;
	ts->parks++;
}

void ap_txn_unpark_client_gone(struct ap_shard *s, struct ap_client *c)
{
	struct ap_client **pp = &s->txn.parked_clients;
	while (*pp && *pp != c)
		pp = &(*pp)->lockwait_next;
	if (*pp)
		*pp = c->lockwait_next;
	c->lockwait_next = NULL;
	c->flags &= ~AP_CF_LOCKWAIT;
}

void ap_txn_park_msg(struct ap_shard *s, struct ap_msg *m)
{
	struct ap_txn_shard *ts = &s->txn;
	m->next = NULL;
	if (ts->parked_tail)
		ts->parked_tail->next = m;
	else
		ts->parked_msgs = m;
	ts->parked_tail = m;
	ts->parks++;
}

void ap_txn_shard_deinit(struct ap_shard *s)
{
	struct ap_txn_shard *ts = &s->txn;
	ap_free(ts->buckets);
	for (size_t i = 0; ts->wbuckets && i <= ts->wmask; i++) {
		struct ap_watch_ver *w = ts->wbuckets[i];
		while (w) {
			struct ap_watch_ver *next = w->next;
			ap_free(w);
			w = next;
		}
	}
	ap_free(ts->wbuckets);
	memset(ts, 0, sizeof(*ts));
}
