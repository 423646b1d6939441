/*
 * cmd_set.c - the Redis 7 set commands: SADD SREM SCARD SISMEMBER
 * SMISMEMBER SMEMBERS SPOP SRANDMEMBER SMOVE, the algebra (SINTER
 * SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE) and SSCAN,
 * over the set object of core/set.h.
 *
 * Semantics, replies and error texts follow the Redis command reference
 * and redis-server 7.2: RESP3 set replies (~) where Redis uses them
 * (SMEMBERS, SPOP with a count, the algebra), arrays for SRANDMEMBER
 * (whose negative count repeats members) and SSCAN. Encodings follow
 * Redis 7.2 (intset, listpack, hashtable; see set.h).
 *
 * Every command works on ctx->db of the shard that owns its keys; the
 * multi-key ones are ordinary single-keyspace commands (the shards layer
 * gathers keys from other shards first). After a mutation the set handle
 * is written back to its entry (the object may have moved or changed
 * encoding), an emptied set's key is deleted, and ctx->dirty counts the
 * changes. Members are replied straight from the set, before any
 * mutation that could free them.
 *
 * SPOP, which removes members chosen at random, is recorded
 * (ap_cmd_propagate) as the SREM of the members it popped (in batches of
 * AP_PROPAGATE_BATCH), or as DEL when it took the whole set, so a log
 * replay removes the same ones.
 *
 * Threading: commands run on the shard thread that owns ctx->ks.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/cmd.h"
#include "core/limits.h"
#include "core/set.h"

#define ERR_RANGE    "ERR value is out of range"
#define ERR_POSITIVE "ERR value is out of range, must be positive"
#define ERR_NUMKEYS  "ERR numkeys should be greater than 0"
#define ERR_NUMKEYS_ARGS \
	"ERR Number of keys can't be greater than number of args"
#define ERR_LIMIT_NEGATIVE "ERR LIMIT can't be negative"
/* Sets held on the stack by the algebra before it allocates. */
#define SETS_ON_STACK 16

/* --- small helpers --------------------------------------------------- */

/*
 * Looks up argv[idx] as a set. Returns false (WRONGTYPE replied) if the
 * key holds another type; else true with *e the entry (NULL if absent)
 * and *s its handle.
 */
static bool set_lookup(struct ap_cmd_ctx *c, int idx, unsigned flags,
		       struct ap_entry **e, struct ap_set *s)
{
	const struct ap_arg *k = &c->argv[idx];

	AP_ASSERT(idx > 0 && idx < c->argc);
	*e = ap_db_lookup(c->db, k->p, k->len, flags);
	if (*e == NULL) {
		s->ptr = NULL;
		s->enc = AP_ENC_INTSET;
		return true;
	}
	if (ap_entry_type(*e) != AP_TYPE_SET) {
		ap_reply_error(c->r, AP_ERR_WRONGTYPE);
		return false;
	}
	s->ptr = ap_entry_obj(*e);
	s->enc = ap_entry_enc(*e);
	return true;
}

/*
 * Stores the handle back into its entry after a mutation, or deletes the
 * key argv[idx] if the set became empty (Redis keeps no empty sets).
 */
static void set_store_back(struct ap_cmd_ctx *c, int idx, struct ap_entry *e,
			   const struct ap_set *s)
{
	const struct ap_arg *k = &c->argv[idx];

	/* First the handle: the delete frees what the entry points to. */
	ap_entry_obj_set(e, s->ptr, s->enc);
	if (ap_set_len(s) == 0)
		(void)ap_db_delete(c->db, k->p, k->len);
}

/* Replies a member as a bulk string. */
static void reply_elem(struct ap_reply *r, const struct ap_set_elem *e)
{
	ap_reply_bulk(r, e->str, e->len);
}

/* ap_set_elem_fn replying each member to the struct ap_reply arg. */
static void reply_elem_fn(void *arg, const struct ap_set_elem *e)
{
	reply_elem(arg, e);
}

/* Replies every member of s (the header written by the caller). */
static void reply_members(struct ap_reply *r, struct ap_set *s)
{
	struct ap_set_iter it;
	struct ap_set_elem e;

	ap_set_iter_init(&it, s);
	while (ap_set_iter_next(&it, &e))
		reply_elem(r, &e);
	ap_set_iter_deinit(&it);
}

/* A uniform integer in [0, n), n > 0. */
static uint64_t rand_below(uint64_t *rng, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)ap_dict_rand(rng) * n) >> 64);
}

/* Reads a random member of s, which must not be empty. */
static void pick_random(struct ap_set *s, uint64_t *rng,
			struct ap_set_elem *out)
{
	bool found = ap_set_random(s, rng, out);

	AP_ASSERT(found);
}

/* --- SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS ------------------- */

/* SADD key member [member ...]: the number of members added. */
static void cmd_sadd(struct ap_cmd_ctx *c)
{
	struct ap_set_limits lim = ap_set_limits_of(c->cfg);
	struct ap_entry *e;
	struct ap_set s;
	long long added = 0;

	if (!set_lookup(c, 1, 0, &e, &s))
		return;
	if (e == NULL) {
		ap_set_init_for(&s, c->argv[2].p, c->argv[2].len,
				(size_t)c->argc - 2, &lim);
		e = ap_db_set_object(c->db, c->argv[1].p, c->argv[1].len,
				     AP_TYPE_SET, s.enc, s.ptr, AP_NO_EXPIRE);
	}
	for (int i = 2; i < c->argc; i++)
		added += ap_set_add(&s, c->argv[i].p, c->argv[i].len, &lim);
	ap_entry_obj_set(e, s.ptr, s.enc);
	c->dirty += (uint64_t)added;
	ap_reply_int(c->r, added);
}

/* SREM key member [member ...]: the number of members removed. */
static void cmd_srem(struct ap_cmd_ctx *c)
{
	struct ap_entry *e;
	struct ap_set s;
	long long removed = 0;

	if (!set_lookup(c, 1, 0, &e, &s))
		return;
	if (e == NULL) {
		ap_reply_int(c->r, 0);
		return;
	}
	for (int i = 2; i < c->argc && ap_set_len(&s) > 0; i++)
		removed += ap_set_remove(&s, c->argv[i].p, c->argv[i].len);
	set_store_back(c, 1, e, &s);
	c->dirty += (uint64_t)removed;
	ap_reply_int(c->r, removed);
}

/* SCARD key: the number of members, 0 for a missing key. */
static void cmd_scard(struct ap_cmd_ctx *c)
{
	struct ap_entry *e;
	struct ap_set s;

	if (!set_lookup(c, 1, AP_LK_READ, &e, &s))
		return;
	ap_reply_int(c->r, e == NULL ? 0 : (long long)ap_set_len(&s));
}

/* SISMEMBER key member: 1 if member is in the set, else 0. */
static void cmd_sismember(struct ap_cmd_ctx *c)
{
	struct ap_entry *e;
	struct ap_set s;

	if (!set_lookup(c, 1, AP_LK_READ, &e, &s))
		return;
	ap_reply_int(c->r, e != NULL && ap_set_contains(&s, c->argv[2].p,
							c->argv[2].len));
}

/* SMISMEMBER key member [member ...]: an array of 1/0, one per member. */
static void cmd_smismember(struct ap_cmd_ctx *c)
{
	struct ap_entry *e;
	struct ap_set s;

	if (!set_lookup(c, 1, AP_LK_READ, &e, &s))
		return;
	ap_reply_array(c->r, (size_t)c->argc - 2);
	for (int i = 2; i < c->argc; i++)
		ap_reply_int(c->r,
			     e != NULL && ap_set_contains(&s, c->argv[i].p,
							  c->argv[i].len));
}

/* SMEMBERS of a huge set, streamed (struct ap_cmd_stream): the members
 * left to write and a walk that stays open across steps (a hashtable's
 * rehash is paused meanwhile; the executor keeps writers away). The walk
 * points at s, so the state never moves. */
struct members_stream {
	struct ap_set s;
	struct ap_set_iter it;
	size_t left;
};

/* ap_cmd_stream_step_fn of SMEMBERS: the next members, in the order the
 * one-go reply (reply_members) writes them. */
static bool members_step(void *state, struct ap_reply *r, size_t budget)
{
	struct members_stream *ms = state;
	struct ap_set_elem e;
	size_t start = r->out->len;

	for (size_t done = 0;
	     ms->left > 0 && ap_cmd_stream_more(r, start, done, budget);
	     done++) {
		bool more = ap_set_iter_next(&ms->it, &e);

		AP_ASSERT(more); /* the set cannot change under the stream */
		reply_elem(r, &e);
		ms->left--;
	}
	return ms->left == 0;
}

/* ap_cmd_stream_free_fn of SMEMBERS: ends the walk. */
static void members_free(void *state)
{
	struct members_stream *ms = state;

	ap_set_iter_deinit(&ms->it);
	ap_free(ms);
}

/* SMEMBERS key: every member (a set reply), empty for a missing key. A
 * huge set's reply is streamed when the executor allows it. */
static void cmd_smembers(struct ap_cmd_ctx *c)
{
	struct ap_entry *e;
	struct ap_set s;

	if (!set_lookup(c, 1, AP_LK_READ, &e, &s))
		return;
	if (e == NULL) {
		ap_reply_set(c->r, 0);
		return;
	}
	size_t n = ap_set_len(&s);
	ap_reply_set(c->r, n);
	if (ap_cmd_stream_wanted(c, n)) {
		struct members_stream *ms = ap_malloc(sizeof(*ms));

		ms->s = s;
		ms->left = n;
		ap_set_iter_init(&ms->it, &ms->s);
		ap_cmd_stream_start(c, members_step, members_free, ms, e);
		return;
	}
	reply_members(c->r, &s);
}

/* --- SPOP ------------------------------------------------------------ */

/* Records "DEL key" for argv[1]. */
static void propagate_del(struct ap_cmd_ctx *c)
{
	struct ap_arg argv[2] = {{.p = "DEL", .len = 3}, c->argv[1]};

	ap_cmd_propagate(c, 2, argv);
}

/*
 * The members popped by one SPOP with a count, copied out before they
 * are deleted and recorded as "SREM key member ..." records of at most
 * AP_PROPAGATE_BATCH members. Collects nothing when nothing records.
 */
struct srem_batch {
	struct ap_cmd_ctx *c;
	struct ap_arg *argv; /* SREM, key, members; NULL: not recording */
	size_t *off;	     /* each member's offset in bytes */
	size_t n;	     /* members held */
	char *bytes;
	size_t used;
	size_t cap;
};

static void srem_batch_init(struct srem_batch *b, struct ap_cmd_ctx *c)
{
	memset(b, 0, sizeof(*b));
	b->c = c;
	if (c->prop == NULL)
		return;
	b->argv = ap_malloc((2 + AP_PROPAGATE_BATCH) * sizeof(*b->argv));
	b->off = ap_malloc(AP_PROPAGATE_BATCH * sizeof(*b->off));
	b->argv[0] = (struct ap_arg){.p = "SREM", .len = 4};
	b->argv[1] = c->argv[1];
}

/* Records the members held as one SREM and empties the batch. */
static void srem_batch_flush(struct srem_batch *b)
{
	if (b->n == 0)
		return;
	for (size_t i = 0; i < b->n; i++)
		b->argv[2 + i].p = b->bytes + b->off[i];
	ap_cmd_propagate(b->c, 2 + (int)b->n, b->argv);
	b->n = 0;
	b->used = 0;
}

/* Copies a member about to be popped into the batch. */
static void srem_batch_add(struct srem_batch *b, const struct ap_set_elem *e)
{
	if (b->argv == NULL)
		return;
	if (b->n == AP_PROPAGATE_BATCH)
		srem_batch_flush(b);
	if (b->bytes == NULL || e->len > b->cap - b->used) {
		b->cap = AP_MAX(AP_MAX(2 * b->cap, b->used + e->len), 64);
		b->bytes = ap_realloc(b->bytes, b->cap);
	}
	if (e->len > 0)
		memcpy(b->bytes + b->used, e->str, e->len);
	b->off[b->n] = b->used;
	b->argv[2 + b->n].len = e->len;
	b->used += e->len;
	b->n++;
}

/* Records what is left and frees the batch. Without a recorder, the
 * command is still marked as having recorded its own form. */
static void srem_batch_finish(struct srem_batch *b)
{
	if (b->argv == NULL) {
		ap_cmd_propagate(b->c, 0, NULL);
		return;
	}
	srem_batch_flush(b);
	ap_free(b->argv);
	ap_free(b->off);
	ap_free(b->bytes);
}

/*
 * SPOP key and SRANDMEMBER key: one random member replied, nil for a
 * missing key; removed when pop (the key going with its last member),
 * recorded as "SREM key member".
 */
static void random_one(struct ap_cmd_ctx *c, bool pop)
{
	struct ap_entry *e;
	struct ap_set s;
	struct ap_set_elem el;
	uint64_t rng;

	if (!set_lookup(c, 1, pop ? 0 : AP_LK_READ, &e, &s))
		return;
	if (e == NULL) {
		ap_reply_null(c->r);
		return;
	}
	rng = ap_dict_rng_seed();
	pick_random(&s, &rng, &el);
	reply_elem(c->r, &el);
	if (!pop)
		return;
	struct ap_arg argv[3] = {{.p = "SREM", .len = 4},
				 c->argv[1],
				 {.p = el.str, .len = el.len}};
	ap_cmd_propagate(c, 3, argv);
	ap_set_delete_elem(&s, &el);
	set_store_back(c, 1, e, &s);
	c->dirty++;
}

/*
 * SPOP key count: `count` distinct random members removed and replied as
 * a set; the whole set (and the key) when count reaches its size. The
 * count is parsed before the key is looked up, as Redis. Recorded as DEL
 * (the whole set) or as the SREM of the members popped.
 */
static void spop_count(struct ap_cmd_ctx *c)
{
	long long count;
	struct ap_entry *e;
	struct ap_set s;
	struct ap_set_elem el;
	uint64_t rng;
	size_t len;

	/* Redis answers a count that is not an integer the same way. */
	if (!ap_str_to_ll(c->argv[2].p, c->argv[2].len, &count) || count < 0) {
		ap_reply_error(c->r, ERR_POSITIVE);
		return;
	}
	if (!set_lookup(c, 1, 0, &e, &s))
		return;
	if (e == NULL || count == 0) {
		ap_reply_set(c->r, 0);
		return;
	}
	len = ap_set_len(&s);
	if ((unsigned long long)count >= len) {
		ap_reply_set(c->r, len);
		reply_members(c->r, &s);
		(void)ap_db_delete(c->db, c->argv[1].p, c->argv[1].len);
		c->dirty += len;
		propagate_del(c);
		return;
	}
	struct srem_batch b;
	srem_batch_init(&b, c);
	rng = ap_dict_rng_seed();
	ap_reply_set(c->r, (size_t)count);
	for (long long i = 0; i < count; i++) {
		pick_random(&s, &rng, &el);
		reply_elem(c->r, &el);
		srem_batch_add(&b, &el);
		ap_set_delete_elem(&s, &el);
	}
	set_store_back(c, 1, e, &s);
	c->dirty += (uint64_t)count;
	srem_batch_finish(&b);
}

/* SPOP key [count]. */
static void cmd_spop(struct ap_cmd_ctx *c)
{
	if (c->argc == 2)
		random_one(c, true);
	else if (c->argc == 3)
		spop_count(c);
	else
		ap_reply_error(c->r, AP_ERR_SYNTAX);
}

/* --- SRANDMEMBER ----------------------------------------------------- */

/*
 * Replies k distinct members chosen uniformly among the set's n by
 * selection sampling (Knuth's algorithm S) over one walk: each member is
 * taken with probability (still needed) / (still left). O(n), no memory.
 */
static void reply_sample_walk(struct ap_reply *r, struct ap_set *s, size_t k,
			      uint64_t *rng)
{
	size_t left = ap_set_len(s);
	struct ap_set_iter it;
	struct ap_set_elem el;

	ap_set_iter_init(&it, s);
	while (k > 0 && ap_set_iter_next(&it, &el)) {
		if (rand_below(rng, left) < k) {
			reply_elem(r, &el);
			k--;
		}
		left--;
	}
	ap_set_iter_deinit(&it);
	AP_ASSERT(k == 0);
}

/* An open-addressing set of pointers: the members already drawn. */
struct ptr_set {
	const void **slot;
	size_t mask;
};

/* Adds p; false if it was already there. */
static bool ptr_set_add(struct ptr_set *ps, const void *p)
{
	size_t i = (size_t)ap_dict_hash((const char *)&p, sizeof(p)) & ps->mask;

	while (ps->slot[i] != NULL) {
		if (ps->slot[i] == p)
			return false;
		i = (i + 1) & ps->mask;
	}
	ps->slot[i] = p;
	return true;
}

/*
 * Replies k distinct members of a big hashtable-encoded set (k at most a
 * third of it) by drawing random members and skipping repeats, which
 * costs O(k) expected draws. The drawn nodes are remembered in a pointer
 * table of about 2k slots: k is bounded by the set's size.
 */
static void reply_sample_draw(struct ap_reply *r, struct ap_set *s, size_t k,
			      uint64_t *rng)
{
	size_t slots = 4;
	struct ptr_set ps;
	struct ap_set_elem el;

	while (slots < 2 * k)
		slots *= 2;
	ps.slot = ap_calloc(slots, sizeof(*ps.slot));
	ps.mask = slots - 1;
	while (k > 0) {
		pick_random(s, rng, &el);
		if (!ptr_set_add(&ps, el.pos_))
			continue;
		reply_elem(r, &el);
		k--;
	}
	ap_free(ps.slot);
}

/*
 * Parses SRANDMEMBER's count as Redis (within [-LONG_MAX, LONG_MAX]) and
 * ours (a negative count within AP_RAND_COUNT_MAX, the repeated members
 * having no other bound). Replies the error and returns false.
 */
static bool srandmember_count_arg(struct ap_cmd_ctx *c, long long *count)
{
	if (!ap_arg_ll_range(c, &c->argv[2], -LLONG_MAX, LLONG_MAX, count))
		return false;
	if (*count < -AP_RAND_COUNT_MAX) {
		ap_reply_error(c->r, ERR_RANGE);
		return false;
	}
	return true;
}

/*
 * SRANDMEMBER key count: with a positive count, that many distinct
 * members (all of them if fewer); with a negative one, -count members
 * drawn independently (repetitions possible). An array in both protocols;
 * empty for a missing key or a zero count.
 */
static void srandmember_count(struct ap_cmd_ctx *c)
{
	long long count;
	struct ap_entry *e;
	struct ap_set s;
	uint64_t rng;
	size_t len;

	if (!srandmember_count_arg(c, &count) ||
	    !set_lookup(c, 1, AP_LK_READ, &e, &s))
		return;
	if (e == NULL || count == 0) {
		ap_reply_array(c->r, 0);
		return;
	}
	rng = ap_dict_rng_seed();
	len = ap_set_len(&s);
	if (count < 0) {
		ap_reply_array(c->r, (size_t)-count);
		ap_set_random_many(&s, &rng, (size_t)-count, reply_elem_fn,
				   c->r);
	} else if ((unsigned long long)count >= len) {
		ap_reply_array(c->r, len);
		reply_members(c->r, &s);
	} else {
		ap_reply_array(c->r, (size_t)count);
		if (s.enc == AP_ENC_HASHTABLE && (size_t)count * 3 <= len)
			reply_sample_draw(c->r, &s, (size_t)count, &rng);
		else
			reply_sample_walk(c->r, &s, (size_t)count, &rng);
	}
}

/* SRANDMEMBER key [count]. */
static void cmd_srandmember(struct ap_cmd_ctx *c)
{
	if (c->argc == 2)
		random_one(c, false);
	else if (c->argc == 3)
		srandmember_count(c);
	else
		ap_reply_error(c->r, AP_ERR_SYNTAX);
}

/* --- SMOVE ----------------------------------------------------------- */

/* True if argv[a] and argv[b] name the same key. */
static bool same_key(const struct ap_cmd_ctx *c, int a, int b)
{
	return c->argv[a].len == c->argv[b].len &&
	       memcmp(c->argv[a].p, c->argv[b].p, c->argv[a].len) == 0;
}

/*
 * SMOVE source destination member: 1 if member moved (or, with source
 * and destination the same key, is a member), else 0. Checks in Redis's
 * order: a missing source answers 0 before any type check.
 */
static void cmd_smove(struct ap_cmd_ctx *c)
{
	struct ap_set_limits lim = ap_set_limits_of(c->cfg);
	const struct ap_arg *m = &c->argv[3];
	struct ap_entry *se, *de;
	struct ap_set src, dst;

	if (!set_lookup(c, 1, 0, &se, &src))
		return;
	if (se == NULL) {
		ap_reply_int(c->r, 0);
		return;
	}
	if (!set_lookup(c, 2, 0, &de, &dst))
		return;
	/* The second lookup may have deleted an expired key: find the
	 * source entry again before writing to it. */
	se = ap_db_lookup(c->db, c->argv[1].p, c->argv[1].len, AP_LK_NOTOUCH);
	if (same_key(c, 1, 2)) {
		ap_reply_int(c->r, ap_set_contains(&src, m->p, m->len));
		return;
	}
	if (!ap_set_remove(&src, m->p, m->len)) {
		ap_reply_int(c->r, 0);
		return;
	}
	set_store_back(c, 1, se, &src);
	c->dirty++;
	de = ap_db_lookup(c->db, c->argv[2].p, c->argv[2].len, AP_LK_NOTOUCH);
	if (de == NULL) {
		ap_set_init_for(&dst, m->p, m->len, 1, &lim);
		de = ap_db_set_object(c->db, c->argv[2].p, c->argv[2].len,
				      AP_TYPE_SET, dst.enc, dst.ptr,
				      AP_NO_EXPIRE);
	}
	if (ap_set_add(&dst, m->p, m->len, &lim))
		c->dirty++;
	ap_entry_obj_set(de, dst.ptr, dst.enc);
	ap_reply_int(c->r, 1);
}

/* --- the algebra ----------------------------------------------------- */

/* The source sets of an algebra command: handles in argument order,
 * present[i] false for a missing key (an empty set). */
struct sources {
	struct ap_set *sets;
	bool *present;
	size_t n;
	size_t missing;
	struct ap_set sets_stack[SETS_ON_STACK];
	bool present_stack[SETS_ON_STACK];
};

/*
 * Looks up the n keys argv[first..first+n) as sets (reads counted as
 * such when `read`). Returns false with WRONGTYPE replied if any key
 * holds another type (all are checked, missing ones included, as Redis).
 * Release with sources_deinit either way.
 */
static bool sources_load(struct ap_cmd_ctx *c, struct sources *src, int first,
			 size_t n, bool read)
{
	src->n = n;
	src->missing = 0;
	src->sets = n <= SETS_ON_STACK ? src->sets_stack
				       : ap_malloc(n * sizeof(*src->sets));
	src->present = n <= SETS_ON_STACK
			       ? src->present_stack
			       : ap_malloc(n * sizeof(*src->present));
	for (size_t i = 0; i < n; i++) {
		struct ap_entry *e;

		if (!set_lookup(c, first + (int)i, read ? AP_LK_READ : 0, &e,
				&src->sets[i]))
			return false;
		src->present[i] = e != NULL;
		src->missing += e == NULL;
	}
	return true;
}

static void sources_deinit(struct sources *src)
{
	if (src->sets != src->sets_stack)
		ap_free(src->sets);
	if (src->present != src->present_stack)
		ap_free(src->present);
}

/* Where an algebra result goes: a reply (set or count) or a new set. */
enum sink_kind {
	SINK_REPLY, /* members replied (the header deferred) */
	SINK_COUNT, /* only counted */
	SINK_STORE, /* added to `out` */
};

struct sink {
	enum sink_kind kind;
	struct ap_reply *r;
	struct ap_set out;
	struct ap_set_limits lim;
	size_t count;
	size_t limit; /* SINTERCARD LIMIT: stop at this count; 0 = none */
};

/* Emits one result member; returns false when the sink is full. */
static bool sink_put(struct sink *k, const struct ap_set_elem *e)
{
	if (k->kind == SINK_STORE) {
		k->count += ap_set_add(&k->out, e->str, e->len, &k->lim);
		return true;
	}
	if (k->kind == SINK_REPLY)
		reply_elem(k->r, e);
	k->count++;
	return k->limit == 0 || k->count < k->limit;
}

/* A source's size and index, for ordering. */
struct by_size {
	size_t len;
	size_t idx;
};

/* qsort comparator: smaller sets first, then argument order. */
static int by_size_cmp(const void *a, const void *b)
{
	const struct by_size *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Writes the source indexes ordered by set size, smallest first, into
 * idx (n entries). O(n log n) whatever the key count. */
static void order_by_size(const struct sources *src, size_t *idx)
{
	struct by_size stack[SETS_ON_STACK];
	struct by_size *v = src->n <= SETS_ON_STACK
				    ? stack
				    : ap_malloc(src->n * sizeof(*v));

	for (size_t i = 0; i < src->n; i++) {
		v[i].len = ap_set_len(&src->sets[i]);
		v[i].idx = i;
	}
	qsort(v, src->n, sizeof(*v), by_size_cmp);
	for (size_t i = 0; i < src->n; i++)
		idx[i] = v[i].idx;
	if (v != stack)
		ap_free(v);
}

/*
 * The intersection of all sources (none missing) into the sink: walks
 * the smallest set and keeps the members every other set contains.
 */
static void inter_into(struct sources *src, struct sink *k)
{
	size_t stack_idx[SETS_ON_STACK];
	size_t *idx = src->n <= SETS_ON_STACK
			      ? stack_idx
			      : ap_malloc(src->n * sizeof(*idx));
	struct ap_set_iter it;
	struct ap_set_elem e;

	order_by_size(src, idx);
	ap_set_iter_init(&it, &src->sets[idx[0]]);
	while (ap_set_iter_next(&it, &e)) {
		size_t j = 1;

		while (j < src->n &&
		       ap_set_contains_elem(&src->sets[idx[j]], &e))
			j++;
		if (j == src->n && !sink_put(k, &e))
			break;
	}
	ap_set_iter_deinit(&it);
	if (idx != stack_idx)
		ap_free(idx);
}

/* The union of the present sources into a STORE sink. */
static void union_into(struct sources *src, struct sink *k)
{
	for (size_t i = 0; i < src->n; i++) {
		struct ap_set_iter it;
		struct ap_set_elem e;

		if (!src->present[i])
			continue;
		ap_set_iter_init(&it, &src->sets[i]);
		while (ap_set_iter_next(&it, &e))
			(void)sink_put(k, &e);
		ap_set_iter_deinit(&it);
	}
}

/* The members of the first source that no other present source holds
 * (a source repeating the first key removes everything). */
static void diff_into(struct sources *src, struct sink *k)
{
	struct ap_set_iter it;
	struct ap_set_elem e;

	if (!src->present[0])
		return;
	ap_set_iter_init(&it, &src->sets[0]);
	while (ap_set_iter_next(&it, &e)) {
		size_t j = 1;

		while (j < src->n && (!src->present[j] ||
				      !ap_set_contains_elem(&src->sets[j], &e)))
			j++;
		if (j == src->n)
			(void)sink_put(k, &e);
	}
	ap_set_iter_deinit(&it);
}

enum algebra_op {
	OP_INTER,
	OP_UNION,
	OP_DIFF,
};

/* Runs op over the sources into the sink. */
static void algebra_run(enum algebra_op op, struct sources *src, struct sink *k)
{
	switch (op) {
	case OP_INTER:
		if (src->missing == 0)
			inter_into(src, k);
		break;
	case OP_UNION:
		union_into(src, k);
		break;
	default:
		diff_into(src, k);
		break;
	}
}

/*
 * SINTER / SUNION / SDIFF key [key ...]: the result as a set reply. The
 * intersection and the difference stream members from a source (already
 * distinct) under a deferred header; the union is built as a set first.
 */
static void algebra_reply(struct ap_cmd_ctx *c, enum algebra_op op)
{
	struct sources src;
	struct sink k = {.kind = SINK_REPLY, .r = c->r};
	struct ap_reply_deferred d;

	if (!sources_load(c, &src, 1, (size_t)c->argc - 1, true)) {
		sources_deinit(&src);
		return;
	}
	if (op == OP_UNION) {
		k.kind = SINK_STORE;
		k.lim = ap_set_limits_of(c->cfg);
		ap_set_init(&k.out);
		algebra_run(op, &src, &k);
		ap_reply_set(c->r, ap_set_len(&k.out));
		reply_members(c->r, &k.out);
		ap_set_free(k.out.ptr, k.out.enc);
	} else if ((op == OP_INTER && src.missing > 0) || !src.present[0]) {
		ap_reply_set(c->r, 0);
	} else {
		ap_reply_deferred_begin(c->r, &d, '~');
		algebra_run(op, &src, &k);
		ap_reply_deferred_end(c->r, &d, k.count);
	}
	sources_deinit(&src);
}

/*
 * SINTERSTORE / SUNIONSTORE / SDIFFSTORE destination key [key ...]: the
 * result replaces destination (its TTL dropped), or deletes it when
 * empty; replies the result's size. The sources are read before the
 * destination is written, so a destination among them is fine.
 */
static void algebra_store(struct ap_cmd_ctx *c, enum algebra_op op)
{
	struct sources src;
	struct sink k = {.kind = SINK_STORE, .r = c->r};
	const struct ap_arg *dst = &c->argv[1];
	size_t len;

	if (!sources_load(c, &src, 2, (size_t)c->argc - 2, false)) {
		sources_deinit(&src);
		return;
	}
	k.lim = ap_set_limits_of(c->cfg);
	ap_set_init(&k.out);
	algebra_run(op, &src, &k);
	sources_deinit(&src);
	len = ap_set_len(&k.out);
	if (len == 0) {
		ap_set_free(k.out.ptr, k.out.enc);
		if (ap_db_delete(c->db, dst->p, dst->len))
			c->dirty++;
	} else {
		(void)ap_db_set_object(c->db, dst->p, dst->len, AP_TYPE_SET,
				       k.out.enc, k.out.ptr, AP_NO_EXPIRE);
		c->dirty++;
	}
	ap_reply_int(c->r, (long long)len);
}

static void cmd_sinter(struct ap_cmd_ctx *c)
{
	algebra_reply(c, OP_INTER);
}

static void cmd_sunion(struct ap_cmd_ctx *c)
{
	algebra_reply(c, OP_UNION);
}

static void cmd_sdiff(struct ap_cmd_ctx *c)
{
	algebra_reply(c, OP_DIFF);
}

static void cmd_sinterstore(struct ap_cmd_ctx *c)
{
	algebra_store(c, OP_INTER);
}

static void cmd_sunionstore(struct ap_cmd_ctx *c)
{
	algebra_store(c, OP_UNION);
}

static void cmd_sdiffstore(struct ap_cmd_ctx *c)
{
	algebra_store(c, OP_DIFF);
}

/*
 * Parses SINTERCARD numkeys key [key ...] [LIMIT limit] as Redis: numkeys
 * a positive integer not beyond the arguments, then options. Replies the
 * error and returns false.
 */
static bool sintercard_args(struct ap_cmd_ctx *c, size_t *numkeys,
			    size_t *limit)
{
	long long n, l;

	if (!ap_str_to_ll(c->argv[1].p, c->argv[1].len, &n) || n < 1) {
		ap_reply_error(c->r, ERR_NUMKEYS);
		return false;
	}
	if (n > c->argc - 2) {
		ap_reply_error(c->r, ERR_NUMKEYS_ARGS);
		return false;
	}
	*numkeys = (size_t)n;
	*limit = 0;
	for (int i = 2 + (int)n; i < c->argc; i += 2) {
		if (!ap_arg_eq(&c->argv[i], "limit") || i + 1 >= c->argc) {
			ap_reply_error(c->r, AP_ERR_SYNTAX);
			return false;
		}
		if (!ap_str_to_ll(c->argv[i + 1].p, c->argv[i + 1].len, &l) ||
		    l < 0) {
			ap_reply_error(c->r, ERR_LIMIT_NEGATIVE);
			return false;
		}
		*limit = (size_t)l;
	}
	return true;
}

/* SINTERCARD numkeys key [key ...] [LIMIT limit]: the intersection's
 * size, counting stops at limit (0: no limit). */
static void cmd_sintercard(struct ap_cmd_ctx *c)
{
	struct sources src;
	struct sink k = {.kind = SINK_COUNT, .r = c->r};
	size_t numkeys;

	if (!sintercard_args(c, &numkeys, &k.limit))
		return;
	if (!sources_load(c, &src, 2, numkeys, true)) {
		sources_deinit(&src);
		return;
	}
	algebra_run(OP_INTER, &src, &k);
	sources_deinit(&src);
	ap_reply_int(c->r, (long long)k.count);
}

/* Key positions of SINTERCARD: "numkeys key [key ...]" at argv[1]. */
static size_t sintercard_keys(int argc, const struct ap_arg *argv, int *idx,
			      size_t max)
{
	return ap_cmd_keys_numkeys(argc, argv, idx, max, 0, 1);
}

/* --- SSCAN ----------------------------------------------------------- */

/* Collects SSCAN's members into a side reply buffer. */
struct sscan_out {
	struct ap_reply r;
	const struct ap_arg *match;
	size_t n;
};

static void sscan_emit(void *arg, const struct ap_set_elem *e)
{
	struct sscan_out *so = arg;

	if (so->match != NULL &&
	    !ap_glob_match(so->match->p, so->match->len, e->str, e->len, false))
		return;
	reply_elem(&so->r, e);
	so->n++;
}

/*
 * SSCAN key cursor [MATCH pattern] [COUNT count]: the next cursor and an
 * array of members. Checks in Redis's order: the cursor, the key (a
 * missing key is an empty, finished scan whatever the options), then the
 * options. Members go to a side buffer first, since the cursor that
 * precedes them is known last.
 */
static void cmd_sscan(struct ap_cmd_ctx *c)
{
	uint64_t cursor, next;
	struct ap_scan_args args;
	struct ap_entry *e;
	struct ap_set s;
	struct ap_obuf side;
	struct sscan_out so;

	if (!ap_scan_cursor_parse(c, &c->argv[2], &cursor) ||
	    !set_lookup(c, 1, AP_LK_READ, &e, &s))
		return;
	if (e == NULL) {
		ap_scan_reply_write(c->r, 0, 0, NULL);
		return;
	}
	if (!ap_scan_args_parse(c, 3, false, &args))
		return;
	ap_obuf_init(&side);
	ap_reply_init(&so.r, &side, c->r->proto);
	so.match = args.match;
	so.n = 0;
	next = ap_set_scan(&s, cursor, args.count, sscan_emit, &so);
	ap_scan_reply_write(c->r, next, so.n, &side);
	ap_obuf_deinit(&side);
}

/* --- type operations ------------------------------------------------- */

static const struct ap_type_ops set_ops = {
	.name = "set",
	.free = ap_set_free,
	.dup = ap_set_dup,
	.length = ap_set_len_of,
	.mem = ap_set_mem,
	.free_some = ap_set_free_some,
};

const struct ap_type_ops *const ap_set_type_ops = &set_ops;

/* --- the table ------------------------------------------------------- */

#define SET_CMD(nm, ar, fl, first, last, f, sum, sin, cx, acl)            \
	{                                                                 \
		.name = nm, .arity = ar, .flags = fl, .first_key = first, \
		.last_key = last, .key_step = 1, .split = AP_SPLIT_NONE,  \
		.fn = f, .group = "set", .summary = sum, .since = sin,    \
		.complexity = cx, .acl_categories = acl, .subcmds = NULL, \
	}

#define W_DENY	    (AP_CMD_WRITE | AP_CMD_DENYOOM)
#define W_DENY_FAST (AP_CMD_WRITE | AP_CMD_DENYOOM | AP_CMD_FAST)
#define W_FAST	    (AP_CMD_WRITE | AP_CMD_FAST)
#define R_FAST	    (AP_CMD_READONLY | AP_CMD_FAST)
#define R_SLOW	    (AP_CMD_READONLY)
#define ACL_RF	    "@read @set @fast"
#define ACL_RS	    "@read @set @slow"
#define ACL_WF	    "@write @set @fast"
#define ACL_WS	    "@write @set @slow"
#define O1	    "O(1)"
#define CX_INTER                                                        \
	"O(N*M) worst case where N is the cardinality of the smallest " \
	"set and M is the number of sets."
#define CX_ALL "O(N) where N is the total number of elements in all given sets."

const struct ap_cmd ap_cmds_set[] = {
	SET_CMD("sadd", -3, W_DENY_FAST, 1, 1, cmd_sadd,
		"Adds one or more members to a set. Creates the key if it "
		"doesn't exist.",
		"1.0.0",
		"O(1) for each element added, so O(N) to add N elements when "
		"the command is called with multiple arguments.",
		ACL_WF),
	SET_CMD("srem", -3, W_FAST, 1, 1, cmd_srem,
		"Removes one or more members from a set. Deletes the set if "
		"the last member was removed.",
		"1.0.0", "O(N) where N is the number of members to be removed.",
		ACL_WF),
	SET_CMD("scard", 2, R_FAST, 1, 1, cmd_scard,
		"Returns the number of members in a set.", "1.0.0", O1, ACL_RF),
	SET_CMD("sismember", 3, R_FAST, 1, 1, cmd_sismember,
		"Determines whether a member belongs to a set.", "1.0.0", O1,
		ACL_RF),
	SET_CMD("smismember", -3, R_FAST, 1, 1, cmd_smismember,
		"Determines whether multiple members belong to a set.", "6.2.0",
		"O(N) where N is the number of elements being checked for "
		"membership",
		ACL_RF),
	SET_CMD("smembers", 2, R_SLOW, 1, 1, cmd_smembers,
		"Returns all members of a set.", "1.0.0",
		"O(N) where N is the set cardinality.", ACL_RS),
	SET_CMD("spop", -2, W_FAST, 1, 1, cmd_spop,
		"Returns one or more random members from a set after removing "
		"them. Deletes the set if the last member was popped.",
		"1.0.0",
		"Without the count argument O(1), otherwise O(N) where N is "
		"the value of the passed count.",
		ACL_WF),
	SET_CMD("srandmember", -2, R_SLOW, 1, 1, cmd_srandmember,
		"Get one or multiple random members from a set", "1.0.0",
		"Without the count argument O(1), otherwise O(N) where N is "
		"the absolute value of the passed count.",
		ACL_RS),
	SET_CMD("smove", 4, W_FAST, 1, 2, cmd_smove,
		"Moves a member from one set to another.", "1.0.0", O1, ACL_WF),
	SET_CMD("sinter", -2, R_SLOW, 1, -1, cmd_sinter,
		"Returns the intersect of multiple sets.", "1.0.0", CX_INTER,
		ACL_RS),
	{
		.name = "sintercard",
		.arity = -3,
		.flags = AP_CMD_READONLY | AP_CMD_MOVABLE_KEYS,
		.first_key = 0,
		.last_key = 0,
		.key_step = 0,
		.split = AP_SPLIT_NONE,
		.fn = cmd_sintercard,
		.getkeys = sintercard_keys,
		.group = "set",
		.summary = "Returns the number of members of the intersect of "
			   "multiple sets.",
		.since = "7.0.0",
		.complexity = CX_INTER,
		.acl_categories = ACL_RS,
		.subcmds = NULL,
	},
	SET_CMD("sinterstore", -3, W_DENY, 1, -1, cmd_sinterstore,
		"Stores the intersect of multiple sets in a key.", "1.0.0",
		CX_INTER, ACL_WS),
	SET_CMD("sunion", -2, R_SLOW, 1, -1, cmd_sunion,
		"Returns the union of multiple sets.", "1.0.0", CX_ALL, ACL_RS),
	SET_CMD("sunionstore", -3, W_DENY, 1, -1, cmd_sunionstore,
		"Stores the union of multiple sets in a key.", "1.0.0", CX_ALL,
		ACL_WS),
	SET_CMD("sdiff", -2, R_SLOW, 1, -1, cmd_sdiff,
		"Returns the difference of multiple sets.", "1.0.0", CX_ALL,
		ACL_RS),
	SET_CMD("sdiffstore", -3, W_DENY, 1, -1, cmd_sdiffstore,
		"Stores the difference of multiple sets in a key.", "1.0.0",
		CX_ALL, ACL_WS),
	SET_CMD("sscan", -3, R_SLOW, 1, 1, cmd_sscan,
		"Iterates over members of a set.", "2.8.0",
		"O(1) for every call. O(N) for a complete iteration, including "
		"enough command calls for the cursor to return back to 0. N is "
		"the number of elements inside the collection.",
		ACL_RS),
	{.name = NULL},
};
