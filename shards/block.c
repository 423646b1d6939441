/*
 * block.c - blocking commands (BLPOP, BLMOVE, BZPOPMIN, ...): waiting on
 * the shard that owns the keys, served first come first served.
 *
 * A blocking command runs like any other, on the shard that owns its
 * keys. When it finds nothing it does not reply: it sets ctx->block (and
 * a timeout) and the shards layer turns it into a waiter here, on the
 * owner, queued on each of its keys. A write that changes a key with
 * waiters marks the key ready; once per tick the owner serves the ready
 * keys: the first waiter of the key runs its command again (never
 * blocking), and if that produced a reply the waiter is done and its
 * reply travels home; if not (the data went elsewhere) it keeps its
 * place. So waiters on one key are served in the order they blocked, and
 * a push on any connection or shard wakes them (the write runs on the
 * owner, where the waiters are).
 *
 * Timeouts are checked by the owner every tick against the earliest
 * deadline; a timed-out waiter runs its command once more without
 * blocking (it answers the command's null reply, or data that arrived in
 * the same tick). CLIENT UNBLOCK does the same (TIMEOUT) or answers
 * -UNBLOCKED (ERROR). A client that disconnects drops its waiter without
 * running anything.
 *
 * Where the reply goes: a waiter from a batch (the client lives on
 * another shard) writes into the batch, which then goes home; a local
 * waiter writes into its client's reply and resumes it. A blocking
 * command is never squashed with other commands, so a batch holding one
 * holds nothing after it.
 *
 * Threading: all of it runs on the owner shard.
 */
#include "shards/shards_int.h"

#include <string.h>
#include <xxhash.h>

struct blk_key;

/* A waiter's membership in one key's queue. */
struct blk_link {
	struct blk_link *next, *prev;
	struct ap_blk_waiter *w;
	struct blk_key *k;
};

struct blk_key {
	struct blk_key *next; /* hash chain */
	struct blk_link *head, *tail;
	bool ready;   /* on the ready list */
	bool serving; /* serve_key runs on it: not freed meanwhile */
	struct blk_key *ready_next;
	unsigned db;
	size_t klen;
	char key[];
};

struct ap_blk_waiter {
	struct ap_blk_waiter *prev, *next; /* the shard's waiter list */
	struct ap_client *client;	   /* local waiter; or the batch's */
	struct ap_xbatch *batch;	   /* NULL for a local waiter */
	int cmd_idx;			   /* in the batch */
	const struct ap_cmd *cmd;
	int argc;
	struct ap_arg *argv; /* copy, one allocation */
	unsigned db;
	uint64_t client_id;
	int64_t deadline_ms; /* 0: forever */
	/* A notify waiter stands for a spanning waiter of shard `home`
	 * (xshard.c): served, it only tells home to try again. */
	bool notify;
	int home;
	uint64_t gen;
	int nlinks;
	struct blk_link links[];
};

/* ======================= the key table ================================ */

static struct blk_key **key_slot(struct ap_blk_shard *bs, unsigned db,
				 const char *key, size_t klen)
{
	uint64_t h = XXH3_64bits_withSeed(key, klen, db);
	struct blk_key **pp = &bs->buckets[h & bs->mask];
	while (*pp && !((*pp)->db == db && (*pp)->klen == klen &&
			memcmp((*pp)->key, key, klen) == 0))
		pp = &(*pp)->next;
	return pp;
}

static void key_table_grow(struct ap_blk_shard *bs)
{
	size_t cap = bs->buckets ? (bs->mask + 1) * 2 : 64;
	struct blk_key **old = bs->buckets;
	size_t old_n = bs->buckets ? bs->mask + 1 : 0;
	bs->buckets = ap_calloc(cap, sizeof(*bs->buckets));
	bs->mask = cap - 1;
	for (size_t i = 0; i < old_n; i++) {
		struct blk_key *k = old[i];
		while (k) {
			struct blk_key *next = k->next;
			struct blk_key **pp =
				key_slot(bs, k->db, k->key, k->klen);
			k->next = NULL;
			*pp = k;
			k = next;
		}
	}
	ap_free(old);
}

static struct blk_key *key_get(struct ap_blk_shard *bs, unsigned db,
			       const char *key, size_t klen)
{
	if (!bs->buckets || bs->key_count >= bs->mask + 1)
		key_table_grow(bs);
	struct blk_key **pp = key_slot(bs, db, key, klen);
	if (!*pp) {
		struct blk_key *k = ap_calloc(1, sizeof(*k) + klen);
		k->db = db;
		k->klen = klen;
		memcpy(k->key, key, klen);
		*pp = k;
		bs->key_count++;
	}
	return *pp;
}

/* Frees k when no waiter names it and it is not on the ready list. */
static void key_maybe_free(struct ap_blk_shard *bs, struct blk_key *k)
{
	if (k->head || k->ready || k->serving)
		return;
	struct blk_key **pp = key_slot(bs, k->db, k->key, k->klen);
	AP_ASSERT(*pp == k);
	*pp = k->next;
	bs->key_count--;
	ap_free(k);
}

/* ======================= waiters ====================================== */

static void waiter_unlink(struct ap_shard *s, struct ap_blk_waiter *w)
{
	struct ap_blk_shard *bs = &s->blk;
	for (int i = 0; i < w->nlinks; i++) {
		struct blk_link *l = &w->links[i];
		if (l->prev)
			l->prev->next = l->next;
		else
			l->k->head = l->next;
		if (l->next)
			l->next->prev = l->prev;
		else
			l->k->tail = l->prev;
		key_maybe_free(bs, l->k);
	}
	if (w->prev)
		w->prev->next = w->next;
	else
		bs->waiters = w->next;
	if (w->next)
		w->next->prev = w->prev;
	bs->count--;
}

/* Runs the waiter's command without blocking into its reply sink.
 * Returns true if it replied (the waiter is done). */
static bool waiter_try(struct ap_shard *s, struct ap_blk_waiter *w)
{
	struct ap_reply rb, *r;
	struct ap_xbatch *b = w->batch;
	if (b) {
		ap_reply_init(&rb, &b->out, b->proto);
		rb.on_error = ap_shard_count_error;
		rb.on_error_ctx = s;
		r = &rb;
	} else {
		r = &w->client->reply;
	}
	struct ap_cmd_ctx ctx = {
		.ks = s->ks,
		.db = ap_keyspace_db(s->ks, w->db),
		.db_idx = w->db,
		.r = r,
		.cfg = &s->cfg,
		.argc = w->argc,
		.argv = w->argv,
		.cmd = w->cmd,
		.no_block = true,
	};
	size_t before = r->out->len;
	ap_shard_exec(s, &ctx);
	return r->out->len != before;
}

/* The waiter is done (its reply written, or its client gone): free it and
 * let its batch go home, or resume its local client. */
static void waiter_done(struct ap_shard *s, struct ap_blk_waiter *w)
{
	waiter_unlink(s, w);
	struct ap_xbatch *b = w->batch;
	struct ap_client *c = w->client;
	ap_free(w->argv);
	ap_free(w);
	if (b) {
		ap_client_batch_continue(s, b);
		return;
	}
	c->blk_waiter = NULL;
	c->flags &= ~AP_CF_WAITING;
	ap_client_msg_back(c);
}

/* ======================= blocking and serving ========================= */

void ap_blk_block(struct ap_shard *s, const struct ap_cmd_ctx *ctx,
		  struct ap_client *c, struct ap_xbatch *b, int cmd_idx)
{
	struct ap_blk_shard *bs = &s->blk;
	struct ap_keyidx ki;
	ap_keyidx_init(&ki, ctx->cmd, ctx->argc, ctx->argv);
	size_t nk = ki.n;
	const int *keys = ki.idx;
	struct ap_blk_waiter *w = ap_calloc(
		1, sizeof(*w) + (nk ? nk : 1) * sizeof(struct blk_link));
	w->client = b ? b->client : c; /* identity only for a batch */
	w->batch = b;
	w->cmd_idx = cmd_idx;
	w->cmd = ctx->cmd;
	w->argc = ctx->argc;
	w->argv = ap_args_copy(ctx->argc, ctx->argv);
	w->db = ctx->db_idx;
	w->client_id = b ? b->client_id : c->id;
	w->deadline_ms = ctx->block_timeout_ms > 0
				 ? s->now_ms + ctx->block_timeout_ms
				 : 0;
	for (size_t i = 0; i < nk; i++) {
		struct blk_key *k =
			key_get(bs, ctx->db_idx, ctx->argv[keys[i]].p,
				ctx->argv[keys[i]].len);
		bool dup = false; /* BLPOP k k 0 waits once on k */
		for (int j = 0; j < w->nlinks && !dup; j++)
			dup = w->links[j].k == k;
		if (dup)
			continue;
		struct blk_link *l = &w->links[w->nlinks++];
		l->w = w;
		l->k = k;
		l->prev = k->tail;
		if (k->tail)
			k->tail->next = l;
		else
			k->head = l;
		k->tail = l;
	}
	ap_keyidx_deinit(&ki);
	w->next = bs->waiters;
	if (bs->waiters)
		bs->waiters->prev = w;
	bs->waiters = w;
	bs->count++;
	bs->blocked_total++;
	if (w->deadline_ms &&
	    (!bs->next_deadline_ms || w->deadline_ms < bs->next_deadline_ms))
		bs->next_deadline_ms = w->deadline_ms;
	if (b) {
		b->waiter = w;
	} else {
		c->blk_waiter = w;
		c->flags |= AP_CF_WAITING;
		c->inflight++;
	}
}

static void serve_schedule(struct ap_shard *s);

void ap_blk_signal(struct ap_shard *s, unsigned db, const char *key,
		   size_t klen)
{
	struct ap_blk_shard *bs = &s->blk;
	if (!bs->key_count)
		return;
	struct blk_key *k = *key_slot(bs, db, key, klen);
	if (!k || k->ready || !k->head)
		return;
	k->ready = true;
	k->ready_next = bs->ready;
	bs->ready = k;
	serve_schedule(s);
}

void ap_blk_signal_cmd(struct ap_shard *s, const struct ap_cmd_ctx *ctx)
{
	struct ap_keyidx ki;
	ap_keyidx_init(&ki, ctx->cmd, ctx->argc, ctx->argv);
	for (size_t i = 0; i < ki.n; i++)
		ap_blk_signal(s, ctx->db_idx, ctx->argv[ki.idx[i]].p,
			      ctx->argv[ki.idx[i]].len);
	ap_keyidx_deinit(&ki);
}

/* ======================= notify waiters (spanning commands) ========== */

struct notify_msg {
	struct ap_msg m;
	uint64_t client_id;
	uint64_t gen;
};

static void notify_run(struct ap_shard *home, struct ap_msg *m)
{
	struct notify_msg *nm = (struct notify_msg *)m;
	ap_xshard_span_wake(home, nm->client_id, nm->gen);
	ap_free(nm);
}

/* Tells w's home that its key got data. */
static void notify_send(struct ap_shard *s, const struct ap_blk_waiter *w)
{
	struct notify_msg *nm = ap_calloc(1, sizeof(*nm));
	nm->m.home = (uint16_t)w->home;
	nm->m.run = notify_run;
	nm->client_id = w->client_id;
	nm->gen = w->gen;
	if (w->home == s->id)
		notify_run(s, &nm->m);
	else
		ap_shard_send(s, w->home, &nm->m);
}

void ap_blk_notify_add(struct ap_shard *s, unsigned db, const char *key,
		       size_t klen, int home, uint64_t client_id, uint64_t gen)
{
	struct ap_blk_shard *bs = &s->blk;
	struct ap_blk_waiter *w =
		ap_calloc(1, sizeof(*w) + sizeof(struct blk_link));
	w->notify = true;
	w->home = home;
	w->client_id = client_id;
	w->gen = gen;
	w->db = db;
	if (ap_db_lookup(ap_keyspace_db(s->ks, db), key, klen, AP_LK_NOTOUCH)) {
		notify_send(s, w); /* data came before the registration */
		ap_free(w);
		return;
	}
	struct blk_key *k = key_get(bs, db, key, klen);
	struct blk_link *l = &w->links[w->nlinks++];
	l->w = w;
	l->k = k;
	l->prev = k->tail;
	if (k->tail)
		k->tail->next = l;
	else
		k->head = l;
	k->tail = l;
	w->next = bs->waiters;
	if (bs->waiters)
		bs->waiters->prev = w;
	bs->waiters = w;
	bs->count++;
}

void ap_blk_notify_drop(struct ap_shard *s, uint64_t client_id)
{
	struct ap_blk_waiter *w = s->blk.waiters;
	while (w) {
		struct ap_blk_waiter *nw = w->next;
		if (w->notify && w->client_id == client_id) {
			waiter_unlink(s, w);
			ap_free(w);
		}
		w = nw;
	}
}

/* Serves the waiters of one ready key, first come first served, while
 * they get data. Returns false when the first waiter's keys are locked by
 * a transaction (an EXEC that pushed mid-way): the key waits for the
 * release, as Redis serves blocked clients only after an EXEC. */
static bool serve_key(struct ap_shard *s, struct blk_key *k)
{
	struct ap_blk_shard *bs = &s->blk;
	uint32_t guard = bs->count + 1; /* each waiter at most once */
	while (k->head && guard-- > 0) {
		struct ap_blk_waiter *w = k->head->w;
		/* Is there anything under this key now? */
		if (!ap_db_lookup(ap_keyspace_db(s->ks, k->db), k->key, k->klen,
				  AP_LK_NOTOUCH))
			break;
		if (w->notify) { /* the data may be for the next one */
			notify_send(s, w);
			waiter_unlink(s, w);
			ap_free(w);
			continue;
		}
		if (AP_UNLIKELY(ap_txn_any_held(s)) &&
		    ap_txn_blocks(s, w->db, w->cmd, w->argc, w->argv))
			return false;
		if (!waiter_try(s, w))
			break; /* it keeps its place; the data is not for it */
		bs->served_total++;
		waiter_done(s, w);
	}
	return true;
}

static void serve_run(struct ap_shard *s, struct ap_msg *m)
{
	struct ap_blk_shard *bs = &s->blk;
	(void)m;
	bs->serve_scheduled = false;
	/* Serving writes (BLMOVE pushes), which may mark more keys ready:
	 * they are served in the next pass. */
	struct blk_key *list = bs->ready;
	bs->ready = NULL;
	while (list) {
		struct blk_key *k = list;
		list = k->ready_next;
		k->ready = false;
		k->ready_next = NULL;
		k->serving = true;
		bool served = serve_key(s, k);
		k->serving = false;
		if (!served) {
			/* Served after the release (unless a serve above put
			 * it on the ready list again already). */
			if (!k->ready) {
				k->ready = true;
				k->ready_next = bs->locked;
				bs->locked = k;
			}
			continue;
		}
		key_maybe_free(bs, k);
	}
}

void ap_blk_locks_released(struct ap_shard *s)
{
	struct ap_blk_shard *bs = &s->blk;
	if (!bs->locked)
		return;
	while (bs->locked) {
		struct blk_key *k = bs->locked;
		bs->locked = k->ready_next;
		k->ready_next = bs->ready;
		bs->ready = k;
	}
	serve_schedule(s);
}

static void serve_schedule(struct ap_shard *s)
{
	struct ap_blk_shard *bs = &s->blk;
	if (bs->serve_scheduled)
		return;
	bs->serve_scheduled = true;
	bs->serve_msg.run = serve_run;
	ap_shard_send(s, s->id, &bs->serve_msg);
}

/* ======================= timeouts, unblock, disconnects =============== */

void ap_blk_timeouts(struct ap_shard *s)
{
	struct ap_blk_shard *bs = &s->blk;
	if (!bs->next_deadline_ms || bs->next_deadline_ms > s->now_ms)
		return;
	int64_t next = 0;
	struct ap_blk_waiter *w = bs->waiters;
	while (w) {
		struct ap_blk_waiter *nw = w->next;
		if (w->deadline_ms && w->deadline_ms <= s->now_ms) {
			waiter_try(s, w); /* the null reply, or late data */
			waiter_done(s, w);
		} else if (w->deadline_ms && (!next || w->deadline_ms < next)) {
			next = w->deadline_ms;
		}
		w = nw;
	}
	bs->next_deadline_ms = next;
}

int ap_blk_unblock(struct ap_shard *s, uint64_t client_id, bool error)
{
	for (struct ap_blk_waiter *w = s->blk.waiters; w; w = w->next) {
		if (w->client_id != client_id || w->notify)
			continue;
		if (error) {
			struct ap_reply rb, *r;
			if (w->batch) {
				ap_reply_init(&rb, &w->batch->out,
					      w->batch->proto);
				r = &rb;
			} else {
				r = &w->client->reply;
			}
			ap_reply_error(r, "UNBLOCKED client unblocked via "
					  "CLIENT UNBLOCK");
		} else if (!waiter_try(s, w)) {
			/* A command with nothing to give in no-block mode
			 * always replies; keep the invariant visible. */
			AP_ASSERT(!"blocking command gave no reply");
		}
		waiter_done(s, w);
		return 1;
	}
	return 0;
}

void ap_blk_drop_client(struct ap_shard *s, const struct ap_client *c)
{
	struct ap_blk_waiter *w = s->blk.waiters;
	while (w) {
		struct ap_blk_waiter *nw = w->next;
		if (w->client == c && !w->notify)
			waiter_done(s, w); /* no reply: the client is gone */
		w = nw;
	}
}

void ap_blk_shard_deinit(struct ap_shard *s)
{
	struct ap_blk_shard *bs = &s->blk;
	struct blk_key *lists[2] = {bs->ready, bs->locked};
	bs->ready = bs->locked = NULL;
	for (int i = 0; i < 2; i++) {
		while (lists[i]) {
			struct blk_key *k = lists[i];
			lists[i] = k->ready_next;
			k->ready = false;
			key_maybe_free(bs, k);
		}
	}
	while (bs->waiters) {
		struct ap_blk_waiter *w = bs->waiters;
		waiter_unlink(s, w);
		if (w->batch) /* its home is stopping too */
			ap_client_batch_discard(w->batch);
		ap_free(w->argv);
		ap_free(w);
	}
	ap_free(bs->buckets);
	memset(bs, 0, sizeof(*bs));
}

void ap_blk_cancel_local(struct ap_shard *s, struct ap_client *c)
{
	struct ap_blk_waiter *w = c->blk_waiter;
	if (!w)
		return;
	waiter_unlink(s, w);
	ap_free(w->argv);
	ap_free(w);
	c->blk_waiter = NULL;
	c->flags &= ~AP_CF_WAITING;
	c->inflight--;
}

struct blk_drop_msg {
	struct ap_msg m;
	const struct ap_client *c;
};

static void blk_drop_run(struct ap_shard *s, struct ap_msg *m)
{
	struct blk_drop_msg *d = (struct blk_drop_msg *)m;
	ap_blk_drop_client(s, d->c);
	ap_free(d);
}

void ap_blk_drop_remote(struct ap_shard *home, const struct ap_client *c,
			int shard)
{
	struct blk_drop_msg *d = ap_calloc(1, sizeof(*d));
	d->c = c;
	d->m.run = blk_drop_run;
	d->m.home = (uint16_t)home->id;
	ap_shard_send(home, shard, &d->m);
}
