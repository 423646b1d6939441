/*
 * stream.c - streamed replies: a read whose reply is huge (SMEMBERS of a
 * 10M-member set) is written a budget at a time, one step per loop tick,
 * so the shard's other clients are served between steps.
 *
 * The command decides (core/cmd.h, struct ap_cmd_stream): past
 * AP_REPLY_STREAM_MIN elements it writes the header and a first step
 * and leaves the rest in ctx->stream. This file takes it over:
 *
 * - Point in time: the stream takes a local shared lock on the key in
 *   the shard's lock table (txn.c), so every writer of the key parks as
 *   behind a transaction's shared lock (FLUSHALL, FLUSHDB and SWAPDB
 *   wait for every lock), and pins the entry (ap_entry_pin_set), so the
 *   key cannot expire under it: the reply is the collection as it was
 *   when the command ran, byte for byte the reply written in one go.
 * - Where the bytes go: a local client's output (flushed after each
 *   step; the stream waits while more than AP_REPLY_STREAM_OBUF_HIGH
 *   bytes are unsent, so memory stays bounded by the socket), its squash
 *   group's local replies, or the output of a batch from another shard's
 *   client (the batch stays parked here and goes home once the reply is
 *   complete). The client waits (AP_CF_WAITING): its later commands run
 *   after the stream, so replies never reorder.
 * - Liveness: a stream waits for its socket only while nothing waits for
 *   a lock on this shard; while something does, it runs to its end a
 *   step per tick, and no new stream starts (the read is then written in
 *   one go, as without streams), so a writer of the key never starves.
 * - A reader that goes away (a closed client, a batch whose home says
 *   so) ends its stream at the next step; everything is released.
 *
 * A tick steps at most AP_REPLY_STREAM_TICK_STEPS streams, rotating the
 * queue, so every stream progresses and a tick stays bounded.
 *
 * Threading: everything here runs on the shard that owns the key.
 */
#include "shards/shards_int.h"

#include <string.h>

struct ap_stream {
	struct ap_stream *next;	  /* the shard's queue */
	struct ap_cmd_stream cs;  /* the command's step, state, key */
	struct ap_reply r;	  /* a copy: where the reply goes */
	struct ap_client *client; /* a local client, or NULL */
	struct ap_xbatch *batch;  /* a remote command's batch, or NULL */
	struct ap_lock *lock;	  /* the local share on the key */
};

/* Appends st to the shard's queue. */
static void queue_push(struct ap_stream_shard *ss, struct ap_stream *st)
{
	st->next = NULL;
	if (ss->tail)
		ss->tail->next = st;
	else
		ss->head = st;
	ss->tail = st;
}

/* Takes the first stream off the queue (it must not be empty). */
static struct ap_stream *queue_pop(struct ap_stream_shard *ss)
{
	struct ap_stream *st = ss->head;

	AP_ASSERT(st != NULL);
	ss->head = st->next;
	if (!ss->head)
		ss->tail = NULL;
	st->next = NULL;
	return st;
}

/* Writes the rest of a stream that may not run across ticks at once,
 * then frees its state. */
static void stream_finish_now(struct ap_cmd_ctx *ctx)
{
	struct ap_cmd_stream *cs = &ctx->stream;

	while (!cs->step(cs->state, ctx->r, AP_REPLY_STREAM_BUDGET))
		;
	cs->free(cs->state);
	memset(cs, 0, sizeof(*cs));
}

bool ap_stream_begin(struct ap_shard *s, struct ap_cmd_ctx *ctx,
		     struct ap_client *c, struct ap_xbatch *b, int cmd_idx)
{
	struct ap_stream_shard *ss = &s->streams;

	AP_ASSERT(ctx->stream.step != NULL && ctx->ks == s->ks);
	AP_ASSERT((c != NULL) != (b != NULL));
	if (ss->count >= AP_REPLY_STREAMS_MAX || ap_txn_waiters(s)) {
		stream_finish_now(ctx);
		return false;
	}
	struct ap_stream *st = ap_calloc(1, sizeof(*st));
	size_t klen;
	const char *key = ap_entry_key(ctx->stream.entry, &klen);

	st->cs = ctx->stream;
	st->r = *ctx->r;
	st->lock = ap_txn_local_share(s, ctx->db_idx, key, klen);
	ap_entry_pin_set(st->cs.entry, true);
	memset(&ctx->stream, 0, sizeof(ctx->stream));
	if (c) {
		AP_ASSERT(c->stream == NULL);
		st->client = c;
		c->stream = st;
		c->flags |= AP_CF_WAITING;
		c->inflight++;
	} else {
		AP_ASSERT(b->stream == NULL);
		st->batch = b;
		b->stream = st;
		b->stream_idx = cmd_idx;
	}
	queue_push(ss, st);
	ss->count++;
	s->st.reply_streams++;
	return true;
}

/* Whether st's reader went away: its client closed, or (a batch) its
 * home said so. */
static bool stream_gone(const struct ap_stream *st)
{
	if (st->client)
		return (st->client->flags & AP_CF_CLOSED) != 0;
	return atomic_load_explicit(&st->batch->gone, memory_order_relaxed);
}

/* Whether st waits for its client's socket: too much of its output is
 * unsent, and nothing on this shard waits for a lock (else it goes on,
 * so that the lock it holds goes soon). */
static bool stream_waits(const struct ap_shard *s, const struct ap_stream *st)
{
	const struct ap_client *c = st->client;

	return c && st->r.out == &c->nc.out &&
	       c->nc.out.len > AP_REPLY_STREAM_OBUF_HIGH && !ap_txn_waiters(s);
}

/* Releases what st holds, complete or not: frees its state, unpins the
 * key if st is the key's last stream, gives the lock back (which may let
 * a writer run at once, so the key is not touched after), frees st. */
static void stream_release(struct ap_shard *s, struct ap_stream *st)
{
	AP_ASSERT(s->streams.count > 0);
	s->streams.count--;
	st->cs.free(st->cs.state);
	if (ap_txn_local_last(st->lock))
		ap_entry_pin_set(st->cs.entry, false);
	ap_txn_local_unshare(s, st->lock);
	ap_free(st);
}

/* Ends st (off the queue) and lets its reader go on. */
static void stream_end(struct ap_shard *s, struct ap_stream *st)
{
	struct ap_client *c = st->client;
	struct ap_xbatch *b = st->batch;

	stream_release(s, st);
	if (c) {
		c->stream = NULL;
		ap_client_stream_done(c);
	} else {
		b->stream = NULL;
		ap_client_batch_stream_done(s, b);
	}
}

/* One step of st (not on the queue). Returns true when it ended. */
static bool stream_step(struct ap_shard *s, struct ap_stream *st)
{
	struct ap_client *c = st->client;
	bool done = st->cs.step(st->cs.state, &st->r, AP_REPLY_STREAM_BUDGET);

	if (c && st->r.out == &c->discard_out) { /* CLIENT REPLY OFF */
		ap_obuf_deinit(&c->discard_out);
		ap_obuf_init(&c->discard_out);
	} else if (c && st->r.out == &c->nc.out) {
		ap_client_flush(c); /* output limits apply as usual */
	}
	if (done)
		stream_end(s, st);
	return done;
}

bool ap_stream_tick(struct ap_shard *s)
{
	struct ap_stream_shard *ss = &s->streams;
	uint32_t visits = ss->count, steps = 0;
	uint64_t started = s->st.reply_streams;
	bool busy = false;

	/* Each stream queued now is looked at once at most (a batch going
	 * on may queue new ones: they wait for the next tick). */
	for (; visits > 0 && ss->head; visits--) {
		if (steps == AP_REPLY_STREAM_TICK_STEPS) {
			busy = true; /* the rest go next tick */
			break;
		}
		struct ap_stream *st = queue_pop(ss);
		if (stream_gone(st)) {
			stream_end(s, st);
			continue;
		}
		if (stream_waits(s, st)) {
			queue_push(ss, st); /* a send completing wakes us */
			continue;
		}
		steps++;
		if (!stream_step(s, st)) {
			queue_push(ss, st);
			busy = true;
		}
	}
	return busy || s->st.reply_streams != started;
}

void ap_stream_shard_stop(struct ap_shard *s)
{
	struct ap_stream_shard *ss = &s->streams;

	while (ss->head) {
		struct ap_stream *st = queue_pop(ss);
		struct ap_xbatch *b = st->batch;

		if (!b) {
			stream_end(s, st);
			continue;
		}
		/* Its home stops too: the batch never goes back. Its client
		 * may still point at it (and mark it gone) until every shard
		 * stopped, so it is freed only then. */
		b->stream = NULL;
		stream_release(s, st);
		b->m.next = ss->orphans;
		ss->orphans = &b->m;
	}
}

void ap_stream_shard_deinit(struct ap_shard *s)
{
	struct ap_stream_shard *ss = &s->streams;

	AP_ASSERT(ss->head == NULL);
	while (ss->orphans) {
		struct ap_msg *m = ss->orphans;
		ss->orphans = m->next;
		ap_client_batch_discard((struct ap_xbatch *)m);
	}
}
