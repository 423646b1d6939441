/*
 * client.c - client connections on their shard: input buffering, parsing,
 * routing each command to the shard that owns its keys, and output.
 *
 * Input is parsed straight from the receive buffer; only an incomplete
 * command's bytes (or input that arrives while the client waits for
 * another shard) are copied into the client's own query buffer.
 *
 * Order: a client's replies go out in the order of its commands.
 * Pipelined single-shard commands are squashed (see "squash groups"
 * below): one message per remote shard, replies merged in order. Any
 * other command waits until the group's replies are back (the client is
 * WAITING and its input stays buffered). A command on local keys never
 * leaves the thread.
 */
#include "shards/shards_int.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void process_qbuf(struct ap_client *c);
static void run_alone(struct ap_client *c, const struct ap_cmd *cmd, int route,
		      int argc, const struct ap_arg *argv, bool discard);
static int route_of(struct ap_client *c, const struct ap_cmd *cmd, int argc,
		    const struct ap_arg *argv);
static void group_add_remote(struct ap_client *c, int target,
			     const struct ap_cmd *cmd, int argc,
			     const struct ap_arg *argv, bool discard);
static void group_send(struct ap_client *c);
static void make_pending(struct ap_client *c);
static void batch_free(struct ap_xbatch *b);
static void local_end_push(struct ap_client *c);

/* --- life cycle ---------------------------------------------------------- */

void ap_client_accept(struct ap_shard *s, int fd)
{
	struct ap_client *c = ap_calloc(1, sizeof(*c));
	int rc = ap_net_conn_start(s->loop, &c->nc, fd);
	if (rc < 0) {
		ap_log(AP_LOG_WARNING, "cannot start connection: %d", rc);
		close(fd);
		ap_free(c);
		atomic_fetch_sub(&s->conn_count, 1);
		atomic_fetch_sub(&s->srv->clients, 1);
		return;
	}
	c->shard = s;
	c->id = atomic_fetch_add(&s->srv->next_client_id, 1);
	c->proto = 2;
	c->blk_remote = -1;
	ap_reply_init(&c->reply, &c->nc.out, 2);
	c->reply.on_error = ap_shard_count_error;
	c->reply.on_error_ctx = s;
	ap_resp_req_init(&c->req);
	ap_obuf_init(&c->local_out);
	ap_obuf_init(&c->discard_out);
	c->batches = ap_calloc((size_t)s->srv->nshards, sizeof(*c->batches));
	if (s->cfg.requirepass[0] == '\0')
		c->flags |= AP_CF_AUTHED;
	ap_net_peer_name(fd, false, c->addr, sizeof(c->addr));
	ap_net_peer_name(fd, true, c->laddr, sizeof(c->laddr));
	c->ctime_ms = c->last_ms = s->now_ms;
	c->next = s->clients;
	if (s->clients)
		s->clients->prev = c;
	s->clients = c;
	s->client_count++;
}

static void client_free(struct ap_client *c)
{
	struct ap_shard *s = c->shard;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->client_count--;
	atomic_fetch_sub(&s->conn_count, 1);
	atomic_fetch_sub(&s->srv->clients, 1);
	ap_resp_req_deinit(&c->req);
	ap_obuf_deinit(&c->nc.out); /* replies written after the close */
	ap_obuf_deinit(&c->local_out);
	ap_obuf_deinit(&c->discard_out);
	ap_free(c->batches);
	ap_free(c->order);
	ap_free(c->local_ends);
	ap_free(c->qbuf);
	ap_free(c->argv);
	ap_free(c);
}

void ap_client_close(struct ap_client *c, bool after_flush)
{
	if (c->flags & AP_CF_CLOSED)
		return;
	if (c->flags & AP_CF_WAITING) {
		/* Batches away may be streaming a reply: they stop at their
		 * next step (until now none of them was freed: a batch that
		 * comes back is freed at the merge, or after the close). */
		for (int i = 0; i < c->shard->srv->nshards; i++)
			if (c->batches[i])
				atomic_store_explicit(&c->batches[i]->gone,
						      true,
						      memory_order_relaxed);
	}
	c->flags |= AP_CF_CLOSED;
	ap_net_conn_close(c->shard->loop, &c->nc, after_flush);
}

void ap_client_on_closed(struct ap_shard *s, struct ap_client *c)
{
	c->flags |= AP_CF_CLOSED | AP_CF_SOCKET_GONE;
	if (c->flags & AP_CF_LOCKWAIT)
		ap_txn_unpark_client_gone(s, c);
	if (c->blk_waiter)
		ap_blk_cancel_local(s, c);
	if (c->span_wait)
		ap_xshard_span_gone(s, c);
	if (c->blk_remote >= 0) {
		ap_blk_drop_remote(s, c, c->blk_remote);
		c->blk_remote = -1;
	}
	ap_multi_client_gone(c);
	if (c->flags & AP_CF_PENDING) {
		/* Unlink from the pending list first. */
		struct ap_client **pp = &s->pending;
		while (*pp && *pp != c)
			pp = &(*pp)->pending_next;
		if (*pp)
			*pp = c->pending_next;
		c->flags &= ~AP_CF_PENDING;
	}
	if (!(c->flags & AP_CF_WAITING) && c->order_len > 0) {
		/* A group still being filled: its batches were never sent. */
		for (int i = 0; i < s->srv->nshards; i++) {
			if (c->batches[i]) {
				batch_free(c->batches[i]);
				c->batches[i] = NULL;
			}
		}
		c->order_len = 0;
	}
	if (c->inflight == 0)
		client_free(c);
	/* else: freed when the last cross-shard message returns */
}

void ap_client_msg_back(struct ap_client *c)
{
	bool in_exec = c->exec != NULL; /* the EXEC keeps c alive */
	if (ap_client_msg_done(c) || in_exec)
		ap_client_resume(c);
}

bool ap_client_msg_done(struct ap_client *c)
{
	c->inflight--;
	if (!(c->flags & AP_CF_CLOSED))
		return true;
	/* Closed: free it once the loop is done with the socket too. */
	if (c->inflight == 0 && (c->flags & AP_CF_SOCKET_GONE))
		client_free(c);
	return false;
}

/* --- output -------------------------------------------------------------- */

static void client_flush(struct ap_client *c, bool may_hold);

void ap_client_flush(struct ap_client *c)
{
	client_flush(c, true);
}

void ap_client_flush_durable(struct ap_client *c)
{
	client_flush(c, false);
}

static void client_flush(struct ap_client *c, bool may_hold)
{
	struct ap_shard *s = c->shard;
	if (c->flags & AP_CF_CLOSED)
		return;
	size_t len = c->nc.out.len;
	if (len && s->cfg.obuf_normal_hard > 0 &&
	    (long long)len > s->cfg.obuf_normal_hard) {
		ap_log(AP_LOG_WARNING,
		       "Client id=%llu addr=%s closed for overcoming of output "
		       "buffer limits (%zu bytes)",
		       (unsigned long long)c->id, c->addr, len);
		ap_client_close(c, false);
		return;
	}
	if (len && s->cfg.obuf_normal_soft > 0 &&
	    (long long)len > s->cfg.obuf_normal_soft) {
		if (!c->obuf_soft_since_ms)
			c->obuf_soft_since_ms = s->now_ms;
		else if (s->now_ms - c->obuf_soft_since_ms >
			 (int64_t)s->cfg.obuf_normal_soft_s * 1000) {
			ap_client_close(c, false);
			return;
		}
	} else {
		c->obuf_soft_since_ms = 0;
	}
	if (AP_UNLIKELY(c->flags & AP_CF_DURABLE_WAIT) ||
	    (AP_UNLIKELY(ap_plog_must_hold_client(s, c)) && may_hold && len)) {
		ap_plog_hold_client(s, c); /* replies wait for the disk */
		return;
	}
	if (len)
		ap_net_conn_flush(s->loop, &c->nc);
	if ((c->flags & AP_CF_CLOSE_ASAP) && !(c->flags & AP_CF_WAITING))
		ap_client_close(c, true); /* after the replies in flight */
}

/* --- execution ----------------------------------------------------------- */

/* A snapshot is being written: the keys a write command names keep
 * their version of the snapshot's instant (written out first if the walk
 * has not reached them). */
static void snap_preserve_keys(struct ap_cmd_ctx *ctx)
{
	struct ap_keyidx ki;
	ap_keyidx_init(&ki, ctx->cmd, ctx->argc, ctx->argv);
	for (size_t k = 0; k < ki.n; k++)
		ap_db_snap_preserve(ctx->db, ctx->argv[ki.idx[k]].p,
				    ctx->argv[ki.idx[k]].len);
	ap_keyidx_deinit(&ki);
}

void ap_shard_exec(struct ap_shard *s, struct ap_cmd_ctx *ctx)
{
	struct ap_cmdstat *cs = &s->cmdstats[ap_shard_cmdstat_idx(ctx->cmd)];
	uint32_t errors = ctx->r->errors;
	bool logged = s->plog.on && ctx->ks == s->ks;
	/* A snapshot walks only while this shard writes one (psnap.rw): one
	 * load on the common path, no call. */
	if (AP_UNLIKELY(s->psnap.rw != NULL) && ctx->ks == s->ks &&
	    (ctx->cmd->flags & AP_CMD_WRITE))
		snap_preserve_keys(ctx);
	if (logged) {
		ctx->prop = &ap_plog_prop_ops;
		ctx->prop_arg = s;
	}
	uint64_t end0 = s->plog.end;
	uint64_t t0 = ap_cycles();
	ctx->cmd->fn(ctx);
	uint64_t t1 = ap_cycles();
	if (logged) {
		ap_plog_exec_after(s, ctx);
		if (ctx->client && s->plog.end != end0)
			ctx->client->own_need = s->plog.end;
	}
	cs->calls++;
	cs->cycles += t1 - t0;
	if (ctx->r->errors != errors)
		cs->failed++;
	s->st.commands++;
	ap_keyspace_stats(s->ks)->dirty += ctx->dirty;
	if (AP_UNLIKELY(s->txn.watch_count) && ctx->dirty && ctx->ks == s->ks)
		ap_txn_watch_touch_cmd(s, ctx);
	if (AP_UNLIKELY(s->blk.key_count) && ctx->dirty && ctx->ks == s->ks)
		ap_blk_signal_cmd(s, ctx);
}

static void run_local(struct ap_client *c, const struct ap_cmd *cmd, int argc,
		      const struct ap_arg *argv)
{
	struct ap_shard *s = c->shard;
	struct ap_cmd_ctx ctx = {
		.ks = s->ks,
		.db = ap_keyspace_db(s->ks, c->db_idx),
		.db_idx = c->db_idx,
		.r = &c->reply,
		.cfg = &s->cfg,
		.argc = argc,
		.argv = argv,
		.cmd = cmd,
		.server = s->srv,
		.client = c,
		.no_block = c->exec != NULL,
		.may_stream = c->exec == NULL,
	};
	if (AP_UNLIKELY(c->xlog != NULL)) { /* a multi-shard EXEC's part */
		ap_plog_exec_enter(s, c->xlog);
		ap_shard_exec(s, &ctx);
		ap_plog_exec_leave(s);
	} else {
		ap_shard_exec(s, &ctx);
	}
	if (AP_UNLIKELY(ctx.block))
		ap_blk_block(s, &ctx, c, NULL, 0);
	else if (AP_UNLIKELY(ctx.stream.step != NULL))
		(void)ap_stream_begin(s, &ctx, c, NULL, 0);
}

/* --- squash groups ---------------------------------------------------------
 *
 * Pipelined commands whose keys live on one shard each are squashed: the
 * ones for remote shards are appended to one batch per shard, the local
 * ones run at once (their replies held in local_out), and `order` notes
 * which shard answers each command. When the input is drained, or a
 * command that cannot join comes (no keys, server command, keys on
 * several shards), every batch is sent at once; when all are back the
 * replies are merged in command order. Commands on one key always run in
 * order on its shard; commands of one group on different shards may run
 * in any order relative to each other, as they were all sent before any
 * reply was read.
 */

#define ORDER_LOCAL   0x7FFF
#define ORDER_DISCARD 0x8000 /* CLIENT REPLY OFF/SKIP: drop the reply */

static void batch_put(struct ap_xbatch *b, const void *p, size_t n)
{
	if (n == 0)
		return; /* an empty argument may have a NULL p */
	if (b->args_len + n > b->args_cap) {
		size_t cap = b->args_cap ? b->args_cap * 2 : 256;
		while (cap < b->args_len + n)
			cap *= 2;
		b->args = ap_realloc(b->args, cap);
		b->args_cap = cap;
	}
	memcpy(b->args + b->args_len, p, n);
	b->args_len += n;
}

static void batch_append(struct ap_xbatch *b, const struct ap_cmd *cmd,
			 int argc, const struct ap_arg *argv)
{
	batch_put(b, &cmd, sizeof(cmd));
	batch_put(b, &argc, sizeof(argc));
	for (int i = 0; i < argc; i++) {
		batch_put(b, &argv[i].len, sizeof(argv[i].len));
		batch_put(b, argv[i].p, argv[i].len);
	}
	b->ncmds++;
}

static void batch_free(struct ap_xbatch *b)
{
	ap_obuf_deinit(&b->out);
	ap_free(b->args);
	ap_free(b->ends);
	ap_free(b);
}

static void batch_done(struct ap_shard *s, struct ap_msg *m);

/* Runs on the remote shard: executes the batch in order. A command whose
 * keys a transaction holds parks the batch here (progress kept in
 * next_cmd/next_pos) until a release, then it goes on from there. */
static void batch_exec(struct ap_shard *s, struct ap_msg *m)
{
	struct ap_xbatch *b = (struct ap_xbatch *)m;
	struct ap_reply r;
	ap_reply_init(&r, &b->out, b->proto);
	r.on_error = ap_shard_count_error;
	r.on_error_ctx = s;
	if (!b->ends)
		b->ends = ap_malloc((size_t)b->ncmds * sizeof(*b->ends));
	struct ap_arg argv_small[16];
	struct ap_arg *argv = argv_small;
	int argv_cap = 16;
	size_t pos = b->next_pos;
	for (int i = b->next_cmd; i < b->ncmds; i++) {
		const struct ap_cmd *cmd;
		int argc;
		size_t cmd_pos = pos;
		memcpy(&cmd, b->args + pos, sizeof(cmd));
		pos += sizeof(cmd);
		memcpy(&argc, b->args + pos, sizeof(argc));
		pos += sizeof(argc);
		if (argc > argv_cap) {
			if (argv != argv_small)
				ap_free(argv);
			argv = ap_malloc((size_t)argc * sizeof(*argv));
			argv_cap = argc;
		}
		for (int a = 0; a < argc; a++) {
			memcpy(&argv[a].len, b->args + pos,
			       sizeof(argv[a].len));
			pos += sizeof(argv[a].len);
			argv[a].p = b->args + pos;
			pos += argv[a].len;
		}
		if (AP_UNLIKELY(ap_txn_any_held(s)) && !b->in_txn &&
		    ap_txn_blocks(s, b->db_idx, cmd, argc, argv)) {
			b->next_cmd = i;
			b->next_pos = cmd_pos;
			if (argv != argv_small)
				ap_free(argv);
			ap_txn_park_msg(s, m);
			return;
		}
		struct ap_cmd_ctx ctx = {
			.ks = s->ks,
			.db = ap_keyspace_db(s->ks, b->db_idx),
			.db_idx = b->db_idx,
			.r = &r,
			.cfg = &s->cfg,
			.argc = argc,
			.argv = argv,
			.cmd = cmd,
			.no_block = b->in_txn,
			.may_stream = !b->in_txn,
		};
		ap_plog_exec_enter(s, b->xlog);
		ap_shard_exec(s, &ctx);
		ap_plog_exec_leave(s);
		if (AP_UNLIKELY(ctx.stream.step != NULL) &&
		    ap_stream_begin(s, &ctx, NULL, b, i)) {
			/* Parked while its reply is streamed; goes on from the
			 * next command once the reply is complete. */
			b->next_cmd = i + 1;
			b->next_pos = pos;
			if (argv != argv_small)
				ap_free(argv);
			return;
		}
		if (AP_UNLIKELY(ctx.block)) {
			/* Parked as a waiter; goes on from the next command
			 * once this one has its reply. */
			b->next_cmd = i + 1;
			b->next_pos = pos;
			b->waiter_idx = i;
			ap_blk_block(s, &ctx, NULL, b, i);
			if (argv != argv_small)
				ap_free(argv);
			return;
		}
		b->ends[i] = (uint32_t)b->out.len;
	}
	if (argv != argv_small)
		ap_free(argv);
	m->run = batch_done;
	ap_shard_send(s, m->home, m);
}

void ap_client_batch_discard(struct ap_xbatch *b)
{
	batch_free(b);
}

void ap_client_batch_continue(struct ap_shard *s, struct ap_xbatch *b)
{
	b->ends[b->waiter_idx] = (uint32_t)b->out.len;
	b->waiter = NULL;
	batch_exec(s, &b->m);
}

void ap_client_batch_stream_done(struct ap_shard *s, struct ap_xbatch *b)
{
	AP_ASSERT(b->stream == NULL);
	b->ends[b->stream_idx] = (uint32_t)b->out.len;
	batch_exec(s, &b->m);
}

/* Copies bytes [from, to) of a flattened reply stream. */
static void copy_range(struct ap_client *c, const char *flat, uint32_t from,
		       uint32_t to)
{
	ap_obuf_append(&c->nc.out, flat + from, to - from);
}

/* All batches are back: the replies join the output in command order. */
static void group_merge(struct ap_client *c)
{
	struct ap_shard *s = c->shard;
	int n = s->srv->nshards;
	int only = -1; /* the single source, if there is one */
	bool single = c->local_count == 0 && !c->order_discards;
	for (int i = 0; i < n && single; i++) {
		if (!c->batches[i])
			continue;
		single = only < 0;
		only = i;
	}
	if (single && only >= 0) {
		ap_obuf_splice(&c->nc.out, &c->batches[only]->out);
	} else {
		char **flat = ap_calloc((size_t)n + 1, sizeof(char *));
		uint32_t *next = ap_calloc((size_t)n + 1, sizeof(uint32_t));
		uint32_t *pos = ap_calloc((size_t)n + 1, sizeof(uint32_t));
		size_t len;
		for (int i = 0; i < n; i++)
			if (c->batches[i])
				flat[i] = ap_obuf_flatten(&c->batches[i]->out,
							  &len);
		flat[n] = ap_obuf_flatten(&c->local_out, &len);
		for (uint32_t k = 0; k < c->order_len; k++) {
			uint16_t o = c->order[k] & ~ORDER_DISCARD;
			int src = o == ORDER_LOCAL ? n : o;
			uint32_t end =
				src == n ? c->local_ends[next[src]]
					 : c->batches[src]->ends[next[src]];
			if (!(c->order[k] & ORDER_DISCARD))
				copy_range(c, flat[src], pos[src], end);
			pos[src] = end;
			next[src]++;
		}
		for (int i = 0; i <= n; i++)
			ap_free(flat[i]);
		ap_free(flat);
		ap_free(next);
		ap_free(pos);
	}
	for (int i = 0; i < n; i++) {
		if (c->batches[i]) {
			batch_free(c->batches[i]);
			c->batches[i] = NULL;
		}
	}
	ap_obuf_deinit(&c->local_out);
	ap_obuf_init(&c->local_out);
	c->local_count = 0;
	c->order_len = 0;
	c->order_discards = 0;
	c->group_open = 0;
}

/* A streamed reply of c ended (stream.c). Inside a squash group (the
 * group is open until the stream's part is in) the stream is one of the
 * parts the group waits for; else c simply goes on. */
void ap_client_stream_done(struct ap_client *c)
{
	AP_ASSERT(c->stream == NULL && (c->flags & AP_CF_WAITING));
	if (c->order_len == 0) {
		c->flags &= ~AP_CF_WAITING;
		ap_client_msg_back(c);
		return;
	}
	local_end_push(c);
	if (!ap_client_msg_done(c))
		return; /* closed (and maybe freed) */
	if (--c->group_remaining > 0)
		return;
	c->blk_remote = -1;
	group_merge(c);
	c->flags &= ~AP_CF_WAITING;
	ap_client_resume(c);
}

/* Back on the home shard. */
static void batch_done(struct ap_shard *s, struct ap_msg *m)
{
	struct ap_xbatch *b = (struct ap_xbatch *)m;
	struct ap_client *c = b->client;
	bool in_exec = c->exec != NULL; /* the EXEC keeps c alive */
	if (!ap_client_msg_done(c) && !in_exec) {
		batch_free(b); /* c is closed (or gone) */
		return;
	}
	if (--c->group_remaining > 0)
		return;
	c->blk_remote = -1;
	group_merge(c);
	c->flags &= ~AP_CF_WAITING;
	ap_client_resume(c);
}

/* Sends every batch of the open group; the client waits for them. */
static void group_send(struct ap_client *c)
{
	struct ap_shard *s = c->shard;
	c->reply.out = &c->nc.out;
	c->group_remaining = 0;
	for (int i = 0; i < s->srv->nshards; i++) {
		struct ap_xbatch *b = c->batches[i];
		if (!b)
			continue;
		b->m.home = (uint16_t)s->id;
		b->m.run = batch_exec;
		c->inflight++;
		c->group_remaining++;
		s->st.batches_out++;
		ap_shard_send(s, i, &b->m);
	}
	AP_ASSERT(c->group_remaining > 0);
	c->flags |= AP_CF_WAITING;
}

static void order_push(struct ap_client *c, uint16_t src)
{
	if (c->order_len == c->order_cap) {
		c->order_cap = c->order_cap ? c->order_cap * 2 : 32;
		c->order =
			ap_realloc(c->order, c->order_cap * sizeof(*c->order));
	}
	c->order[c->order_len++] = src;
}

/* Adds a remote command to the group (opening it if needed). */
static void group_add_remote(struct ap_client *c, int target,
			     const struct ap_cmd *cmd, int argc,
			     const struct ap_arg *argv, bool discard)
{
	struct ap_xbatch *b = c->batches[target];
	if (!b) {
		b = ap_calloc(1, sizeof(*b));
		b->client = c;
		b->client_id = c->id;
		b->in_txn = c->exec != NULL;
		b->xlog = c->xlog;
		b->target = target;
		b->db_idx = c->db_idx;
		b->proto = c->proto;
		ap_obuf_init(&b->out);
		c->batches[target] = b;
		c->group_open++;
	}
	if (c->order_len == 0)
		c->reply.out = &c->local_out; /* local replies wait too */
	batch_append(b, cmd, argc, argv);
	order_push(c, (uint16_t)target | (discard ? ORDER_DISCARD : 0));
	c->order_discards += discard;
}

/* Records the end of a local reply of the open group in local_out. */
static void local_end_push(struct ap_client *c)
{
	if (c->local_count == c->local_cap) {
		c->local_cap = c->local_cap ? c->local_cap * 2 : 32;
		c->local_ends = ap_realloc(
			c->local_ends, c->local_cap * sizeof(*c->local_ends));
	}
	c->local_ends[c->local_count++] = (uint32_t)c->local_out.len;
}

/* Runs a local command inside an open group: its reply waits in
 * local_out for the earlier remote replies. A command whose reply is
 * streamed (stream.c) ends the group: it is sent, and the stream counts
 * as one more part to wait for (its end is recorded when it is
 * complete, ap_client_stream_done). */
static void group_add_local(struct ap_client *c, const struct ap_cmd *cmd,
			    int argc, const struct ap_arg *argv, bool discard)
{
	run_local(c, cmd, argc, argv);
	order_push(c, ORDER_LOCAL | (discard ? ORDER_DISCARD : 0));
	c->order_discards += discard;
	if (AP_UNLIKELY(c->stream != NULL)) {
		group_send(c);
		c->group_remaining++;
		return;
	}
	local_end_push(c);
}

/* --- routing
 * ------------------------------------------------------------------ */

enum route {
	ROUTE_LOCAL = -1, /* no keys, or a server command: runs here */
	ROUTE_SPAN = -2,  /* keys on several shards */
	ROUTE_SELF = -3,  /* keys on this shard */
};

/* route_of for a command whose keys its getkeys finds. */
static int route_of_keys(struct ap_client *c, const struct ap_cmd *cmd,
			 int argc, const struct ap_arg *argv)
{
	struct ap_shard *s = c->shard;
	struct ap_keyidx ki;
	ap_keyidx_init(&ki, cmd, argc, argv);
	int target = ROUTE_LOCAL;
	for (size_t i = 0; i < ki.n; i++) {
		int sh = ap_shard_of_key(s->srv, argv[ki.idx[i]].p,
					 argv[ki.idx[i]].len);
		if (target == ROUTE_LOCAL) {
			target = sh;
		} else if (sh != target) {
			target = ROUTE_SPAN;
			break;
		}
	}
	ap_keyidx_deinit(&ki);
	if (target == ROUTE_LOCAL) /* no keys: the command says why */
		return ROUTE_LOCAL;
	if (target >= 0 && (target == s->id || s->srv->nshards == 1))
		return ROUTE_SELF;
	return target;
}

/* Where the command runs: ROUTE_LOCAL, ROUTE_SELF, another shard's index,
 * or ROUTE_SPAN when its keys live on several shards. */
static int route_of(struct ap_client *c, const struct ap_cmd *cmd, int argc,
		    const struct ap_arg *argv)
{
	struct ap_shard *s = c->shard;
	if (cmd->flags & AP_CMD_SERVER)
		return ROUTE_LOCAL;
	if (cmd->getkeys) /* movable keys (LMPOP, ZUNIONSTORE, ...) */
		return route_of_keys(c, cmd, argc, argv);
	if (cmd->first_key == 0)
		return ROUTE_LOCAL;
	int first = cmd->first_key;
	if (first >= argc)
		return ROUTE_LOCAL;
	if (s->srv->nshards == 1)
		return ROUTE_SELF;
	int last = cmd->last_key >= 0 ? cmd->last_key : argc + cmd->last_key;
	if (last >= argc)
		last = argc - 1;
	int step = cmd->key_step > 0 ? cmd->key_step : 1;
	if (step > 1 && (argc - first) % step != 0)
		return ROUTE_LOCAL; /* MSET k v k: the command replies why */
	int target = ap_shard_of_key(s->srv, argv[first].p, argv[first].len);
	for (int i = first + step; i <= last; i += step)
		if (ap_shard_of_key(s->srv, argv[i].p, argv[i].len) != target)
			return ROUTE_SPAN;
	return target == s->id ? ROUTE_SELF : target;
}

static void reply_error(struct ap_client *c, const char *fmt, ...)
	AP_PRINTF(2, 3);
static void reply_error(struct ap_client *c, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ap_reply_error(&c->reply, buf);
}

/* Copies an argument for an error message: printable, bounded. */
static void arg_preview(const struct ap_arg *a, char *out, size_t size)
{
	size_t n = 0;
	for (size_t i = 0; i < a->len && n + 1 < size && i < 128; i++) {
		char ch = a->p[i];
		out[n++] = (ch >= 32 && ch < 127 && ch != '\'') ? ch : '?';
	}
	out[n] = '\0';
}

static void unknown_command(struct ap_client *c, int argc,
			    const struct ap_arg *argv)
{
	/* As Redis: the name up to 128 bytes, then quoted arguments while
	 * the list is shorter than 128 bytes, each cut to what is left. */
	char name[130], args[300];
	arg_preview(&argv[0], name, sizeof(name));
	size_t n = 0;
	args[0] = '\0';
	for (int i = 1; i < argc && n < 128; i++) {
		char a[130];
		arg_preview(&argv[i], a, 128 - n + 1);
		n += (size_t)snprintf(args + n, sizeof(args) - n, "'%s' ", a);
	}
	reply_error(c, "ERR unknown command '%s', with args beginning with: %s",
		    name, args);
}

/* Resolves argv[0] (and a subcommand) to a command, replying the error
 * when there is none or the arity is wrong. */
/* INFO commandstats: a call refused before it ran. */
static void count_rejected(struct ap_client *c, const struct ap_cmd *cmd)
{
	c->shard->cmdstats[ap_shard_cmdstat_idx(cmd)].rejected++;
}

static void resolve(struct ap_client *c, int argc, const struct ap_arg *argv)
{
	const struct ap_cmd *cmd = ap_cmd_lookup(argv[0].p, argv[0].len);
	if (!cmd) {
		unknown_command(c, argc, argv);
		return;
	}
	if (cmd->subcmds && (argc >= 2 || !cmd->fn)) {
		if (argc < 2) {
			count_rejected(c, cmd);
			reply_error(c,
				    "ERR wrong number of arguments for '%s' "
				    "command",
				    cmd->name);
			return;
		}
		const struct ap_cmd *sub =
			ap_cmd_sub_lookup(cmd, argv[1].p, argv[1].len);
		if (!sub) {
			count_rejected(c, cmd);
			char a[130], up[64];
			arg_preview(&argv[1], a, sizeof(a));
			size_t i = 0;
			for (; cmd->name[i] && i < sizeof(up) - 1; i++)
				up[i] = (char)(cmd->name[i] & ~0x20);
			up[i] = '\0';
			reply_error(c,
				    "ERR unknown subcommand '%s'. Try %s HELP.",
				    a, up);
			return;
		}
		if (!ap_cmd_arity_ok(sub, argc)) {
			count_rejected(c, sub);
			if (strchr(sub->name, '|')) /* "object|encoding" */
				reply_error(c,
					    "ERR wrong number of arguments for "
					    "'%s' command",
					    sub->name);
			else
				reply_error(c,
					    "ERR wrong number of arguments for "
					    "'%s|%s' command",
					    cmd->name, sub->name);
			return;
		}
		return;
	}
	if (!ap_cmd_arity_ok(cmd, argc)) {
		count_rejected(c, cmd);
		reply_error(c, "ERR wrong number of arguments for '%s' command",
			    cmd->name);
		return;
	}
}

/* The command argv names, subcommand included, or NULL if there is none or
 * the arity is wrong (resolve() then replies the error). */
static const struct ap_cmd *lookup_quiet(int argc, const struct ap_arg *argv)
{
	const struct ap_cmd *cmd = ap_cmd_lookup(argv[0].p, argv[0].len);
	if (cmd && cmd->subcmds && (argc >= 2 || !cmd->fn))
		cmd = argc >= 2 ? ap_cmd_sub_lookup(cmd, argv[1].p, argv[1].len)
				: NULL;
	return cmd && ap_cmd_arity_ok(cmd, argc) ? cmd : NULL;
}

/* CLIENT PAUSE: does this command wait? */
static bool paused_for(struct ap_client *c, const struct ap_cmd *cmd)
{
	struct ap_shard *s = c->shard;
	bool timed = s->pause_end_ms > s->now_ms;
	if ((!timed && !s->shutdown_pause) || !cmd)
		return false;
	if (strcmp(cmd->name, "unpause") == 0 ||
	    strcmp(cmd->name, "pause") == 0 ||
	    strcmp(cmd->name, "client|unpause") == 0 ||
	    strcmp(cmd->name, "client|pause") == 0)
		return false; /* so that a paused server can be unpaused */
	return (timed && s->pause_all) ||
	       (cmd->flags & (AP_CMD_WRITE | AP_CMD_MAY_REPLICATE));
}

/* CLIENT REPLY OFF/SKIP: is this command's reply dropped? Consumes a
 * SKIP. CLIENT REPLY itself always decides its own reply. */
static bool reply_discarded(struct ap_client *c, const struct ap_cmd *cmd)
{
	if (cmd && (strcmp(cmd->name, "reply") == 0 ||
		    strcmp(cmd->name, "client|reply") == 0))
		return false;
	bool discard = c->flags & (AP_CF_REPLY_OFF | AP_CF_REPLY_SKIP);
	c->flags &= ~AP_CF_REPLY_SKIP;
	return discard;
}

/* After a command ran: CLIENT REPLY SKIP's "next command" starts now. */
static void reply_skip_arm(struct ap_client *c)
{
	if (c->flags & AP_CF_REPLY_SKIP_NEXT) {
		c->flags &= ~AP_CF_REPLY_SKIP_NEXT;
		c->flags |= AP_CF_REPLY_SKIP;
	}
}

/* Runs a command that is not part of a group, its reply dropped if
 * `discard` (an asynchronous command keeps the redirection until the
 * client resumes). */
void ap_client_run_one(struct ap_client *c, const struct ap_cmd *cmd, int argc,
		       const struct ap_arg *argv)
{
	int route = route_of(c, cmd, argc, argv);
	if (route >= 0) {
		group_add_remote(c, route, cmd, argc, argv, false);
		group_send(c);
		return;
	}
	run_alone(c, cmd, route, argc, argv, false);
}

static void run_alone(struct ap_client *c, const struct ap_cmd *cmd, int route,
		      int argc, const struct ap_arg *argv, bool discard)
{
	if (discard)
		c->reply.out = &c->discard_out;
	if (route == ROUTE_SPAN) {
		ap_xshard_spanning(c, cmd, argc, argv);
	} else if (cmd && (cmd->flags & AP_CMD_WHOLE_KEYSPACE) && !c->exec &&
		   !c->txn && c->shard->srv->nshards > 1 &&
		   (c->flags & AP_CF_AUTHED)) {
		ap_xshard_whole_keyspace(c, cmd, argc, argv);
	} else if (!cmd) {
		resolve(c, argc, argv); /* replies why */
	} else if (!(c->flags & AP_CF_AUTHED) &&
		   !(cmd->flags & AP_CMD_NO_AUTH)) {
		count_rejected(c, cmd);
		ap_reply_error(&c->reply, "NOAUTH Authentication required.");
	} else {
		run_local(c, cmd, argc, argv);
	}
	if (discard && !(c->flags & AP_CF_WAITING)) {
		c->reply.out = &c->nc.out;
		ap_obuf_deinit(&c->discard_out);
		ap_obuf_init(&c->discard_out);
	}
	reply_skip_arm(c);
}

/* Runs or routes one command. Returns false if the command could not be
 * taken yet (the client now waits for the open group, or for the end of
 * a CLIENT PAUSE); the caller then leaves its bytes unconsumed. */
/* While a shard's log fails, commands that write (and PING, as Redis,
 * so that monitoring notices) are refused with MISCONF; so is an EXEC
 * whose queue writes. */
static bool misconf_denies(struct ap_client *c, const struct ap_cmd *cmd,
			   int argc)
{
	if (!cmd || !(c->flags & AP_CF_AUTHED) || !ap_cmd_arity_ok(cmd, argc))
		return false;
	if (cmd->flags & AP_CMD_WRITE)
		return true;
	if (!strcmp(cmd->name, "ping"))
		return true;
	return !strcmp(cmd->name, "exec") && ap_multi_writes(c);
}

/* With one shard EXEC runs its queue at once, without locks: one that
 * writes waits until no reply is streamed here (stream.c), as it could
 * change a streamed key. (Conservative: its keys are not looked at; no
 * new stream starts while it waits, so it waits for a bounded time.) */
static bool exec_waits_streams(struct ap_client *c, const struct ap_cmd *cmd)
{
	struct ap_shard *s = c->shard;

	return s->streams.count > 0 && s->srv->nshards == 1 && c->multi &&
	       !(c->flags & AP_CF_DIRTY_EXEC) && !strcmp(cmd->name, "exec") &&
	       ap_multi_writes(c);
}

static bool dispatch(struct ap_client *c, int argc, const struct ap_arg *argv)
{
	const struct ap_cmd *cmd = lookup_quiet(argc, argv);
	int route = ROUTE_LOCAL;
	if (cmd && (c->flags & AP_CF_AUTHED))
		route = route_of(c, cmd, argc, argv);
	if (AP_UNLIKELY(c->shard->pause_end_ms | c->shard->shutdown_pause) &&
	    paused_for(c, cmd)) {
		if (c->order_len > 0) {
			group_send(c);
		} else {
			c->flags |= AP_CF_PAUSED;
			c->shard->paused_clients++;
		}
		return false;
	}
	if (AP_UNLIKELY(atomic_load_explicit(&c->shard->srv->persist_errors,
					     memory_order_relaxed)) &&
	    misconf_denies(c, cmd, argc)) {
		if (c->order_len > 0) {
			group_send(c);
			return false;
		}
		c->commands++;
		count_rejected(c, cmd);
		reply_error(
			c, "MISCONF Errors writing to the AOF file: %s",
			strerror(atomic_load(&c->shard->srv->persist_errno)));
		if (c->multi)
			c->flags |= AP_CF_DIRTY_EXEC;
		return true;
	}
	if (AP_UNLIKELY(c->multi != NULL) && ap_multi_queues(cmd)) {
		if (c->order_len > 0) {
			group_send(c);
			return false;
		}
		c->commands++;
		if (cmd) {
			ap_multi_queue(c, cmd, argc, argv);
		} else {
			resolve(c, argc, argv); /* replies why */
			c->flags |= AP_CF_DIRTY_EXEC;
		}
		return true;
	}
	if (AP_UNLIKELY(ap_txn_any_held(c->shard)) && cmd &&
	    (route == ROUTE_SELF || route == ROUTE_LOCAL) &&
	    (c->flags & AP_CF_AUTHED) &&
	    (ap_txn_blocks(c->shard, c->db_idx, cmd, argc, argv) ||
	     exec_waits_streams(c, cmd))) {
		/* A transaction holds its keys: answer the open group first,
		 * then wait for a release and parse the command anew. */
		if (c->order_len > 0)
			group_send(c);
		else
			ap_txn_park_client(c->shard, c);
		return false;
	}
	bool blocking = cmd && (cmd->flags & AP_CMD_BLOCKING);
	if (AP_UNLIKELY(blocking) && c->order_len > 0) {
		group_send(c); /* a blocking command is never squashed */
		return false;
	}
	bool grouped = route >= 0 || (c->order_len > 0 && route == ROUTE_SELF);
	if (c->order_len > 0 &&
	    (!grouped || c->order_len >= AP_XSHARD_BATCH_MAX)) {
		group_send(c);
		return false;
	}
	c->commands++;
	c->last_cmd = cmd ? cmd->name : NULL;
	bool discard =
		AP_UNLIKELY(c->flags & (AP_CF_REPLY_OFF | AP_CF_REPLY_SKIP |
					AP_CF_REPLY_SKIP_NEXT)) &&
		reply_discarded(c, cmd);
	if (route >= 0) {
		group_add_remote(c, route, cmd, argc, argv, discard);
		if (AP_UNLIKELY(blocking)) {
			c->blk_remote = route;
			group_send(c);
		}
	} else if (grouped)
		group_add_local(c, cmd, argc, argv, discard);
	else
		run_alone(c, cmd, route, argc, argv, discard);
	return true;
}

void ap_client_pause_check(struct ap_shard *s)
{
	if (s->pause_end_ms > s->now_ms)
		return;
	s->pause_end_ms = 0;
	if (s->shutdown_pause)
		return; /* a shutdown's final snapshot holds writes */
	for (struct ap_client *c = s->clients; c; c = c->next) {
		if (!(c->flags & AP_CF_PAUSED))
			continue;
		c->flags &= ~AP_CF_PAUSED;
		if (!(c->flags & AP_CF_PENDING)) {
			c->flags |= AP_CF_PENDING;
			c->pending_next = s->pending;
			s->pending = c;
		}
	}
	s->paused_clients = 0;
}

/* --- input
 * -------------------------------------------------------------------- */

static bool grow_argv(struct ap_client *c, int argc)
{
	if (argc <= c->argv_cap)
		return true;
	int cap = c->argv_cap ? c->argv_cap : 8;
	while (cap < argc)
		cap *= 2;
	c->argv = ap_realloc(c->argv, (size_t)cap * sizeof(*c->argv));
	c->argv_cap = cap;
	return true;
}

static void protocol_error(struct ap_client *c, const char *err)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "ERR %s", err);
	ap_reply_error(&c->reply, buf);
	ap_log(AP_LOG_VERBOSE,
	       "Protocol error (%s) from client id=%llu addr=%s", err,
	       (unsigned long long)c->id, c->addr);
	c->flags |= AP_CF_CLOSE_ASAP;
}

/* --- prefetching pipelined keys -------------------------------------------
 *
 * With many keys the table's cache misses dominate a pipelined command's
 * cost (perf: ~50% at 1M keys). Before running a run of pipelined
 * commands, a light skim of their RESP headers finds each one's first
 * argument (the key of nearly every keyed command), touches the keys'
 * buckets, then the first entry of each chain, so the misses of the run
 * overlap instead of stalling one command at a time. Purely a hint: a
 * wrong guess (a command whose first argument is no key) costs a wasted
 * prefetch, nothing else. */

#define PREFETCH_AHEAD 16

/* Reads "<c><digits>\r\n" at *pp (within end); returns the number and
 * moves *pp past it, or -1. */
static long long skim_num(const char **pp, const char *end, char c)
{
	const char *p = *pp;
	long long v = 0;

	if (p >= end || *p != c)
		return -1;
	p++;
	const char *digits = p;
	while (p < end && *p >= '0' && *p <= '9' && p - digits < 12)
		v = v * 10 + (*p++ - '0');
	if (p == digits || p + 1 >= end || p[0] != '\r' || p[1] != '\n')
		return -1;
	*pp = p + 2;
	return v;
}

/* One complete multibulk command at buf: its length, with *key set to
 * its second argument (NULL if it has one argument); 0 if it is not a
 * complete multibulk command. */
static size_t skim_command(const char *buf, size_t len, const char **key,
			   size_t *klen)
{
	const char *p = buf, *end = buf + len;
	long long argc = skim_num(&p, end, '*');

	*key = NULL;
	if (argc < 1)
		return 0;
	for (long long i = 0; i < argc; i++) {
		long long n = skim_num(&p, end, '$');
		if (n < 0 || (long long)(end - p) < n + 2)
			return 0;
		if (i == 1) {
			*key = p;
			*klen = (size_t)n;
		}
		p += n + 2;
	}
	return (size_t)(p - buf);
}

/* Prefetches the keys of up to PREFETCH_AHEAD commands at buf that live
 * on this shard; returns the bytes of the commands looked at. */
static size_t prefetch_ahead(struct ap_client *c, const char *buf, size_t len)
{
	struct ap_shard *s = c->shard;
	const struct ap_db *db = ap_keyspace_db(s->ks, c->db_idx);
	const char *keys[PREFETCH_AHEAD];
	size_t klens[PREFETCH_AHEAD];
	uint64_t h[PREFETCH_AHEAD];
	int n = 0, cmds = 0;
	size_t pos = 0;

	for (; cmds < PREFETCH_AHEAD && pos < len; cmds++) {
		const char *k;
		size_t kl = 0;
		size_t used = skim_command(buf + pos, len - pos, &k, &kl);
		if (used == 0)
			break;
		pos += used;
		if (k == NULL || (s->srv->nshards > 1 &&
				  ap_shard_of_key(s->srv, k, kl) != s->id))
			continue;
		keys[n] = k;
		klens[n++] = kl;
	}
	if (cmds < 2) /* one command: nothing to overlap */
		return pos;
	for (int i = 0; i < n; i++)
		h[i] = ap_db_prefetch_bucket(db, keys[i], klens[i]);
	for (int i = 0; i < n; i++)
		ap_db_prefetch_entry(db, h[i]);
	return pos;
}

/* Parses and runs commands from buf. Returns the bytes consumed; stops at
 * an incomplete command, when the client must wait, or at the per-tick
 * budget (then marks the client pending). */
static size_t parse_and_run(struct ap_client *c, const char *buf, size_t len)
{
	struct ap_shard *s = c->shard;
	struct ap_resp_limits lim = {
		.bulk_len_max = s->cfg.proto_max_bulk_len,
		.argc_max = AP_ARGC_MAX,
		.inline_max = AP_INLINE_MAX_LEN,
	};
	size_t pos = 0, ahead_end = 0;
	int budget = AP_CONN_CMDS_PER_TICK;
	while (pos < len &&
	       !(c->flags & (AP_CF_WAITING | AP_CF_PAUSED | AP_CF_LOCKWAIT |
			     AP_CF_CLOSE_ASAP | AP_CF_CLOSED))) {
		if (budget-- == 0) {
			make_pending(c);
			break;
		}
		if (pos >= ahead_end && len - pos > 64 && buf[pos] == '*')
			ahead_end =
				pos + prefetch_ahead(c, buf + pos, len - pos);
		const char *err = NULL;
		long long n = ap_resp_parse(&c->req, buf + pos, len - pos, &lim,
					    &err);
		if (n == AP_RESP_NEED_MORE) {
			/* client-query-buffer-limit bounds an incomplete
			 * command, as Redis's query buffer does. */
			if ((long long)(len - pos) >
			    s->cfg.client_query_buffer_limit) {
				ap_log(AP_LOG_WARNING,
				       "Closing client id=%llu addr=%s that "
				       "reached max query buffer length",
				       (unsigned long long)c->id, c->addr);
				ap_client_close(c, false);
				return len;
			}
			break;
		}
		if (n < 0) {
			if (c->order_len > 0) {
				/* Answer the group first: the error comes
				 * again when these bytes are parsed anew. */
				ap_resp_req_reset(&c->req);
				group_send(c);
				break;
			}
			protocol_error(c, err);
			return len;
		}
		int argc = c->req.argc;
		if (argc > 0) {
			grow_argv(c, argc);
			ap_resp_req_argv(&c->req, buf + pos, c->argv);
			if (!dispatch(c, argc, c->argv)) {
				ap_resp_req_reset(&c->req);
				break; /* re-parsed after the group returns */
			}
		}
		ap_resp_req_reset(&c->req);
		pos += (size_t)n;
	}
	if (c->order_len > 0 && !(c->flags & AP_CF_WAITING))
		group_send(c);
	return pos;
}

/* parse_and_run with the client marked as parsing, so that work finishing
 * inside one of its commands does not re-enter it. */
static size_t process_buffer(struct ap_client *c, const char *buf, size_t len)
{
	AP_ASSERT(!(c->flags & AP_CF_IN_PROCESS));
	c->flags |= AP_CF_IN_PROCESS;
	size_t used = parse_and_run(c, buf, len);
	c->flags &= ~AP_CF_IN_PROCESS;
	return used;
}

static bool qbuf_append(struct ap_client *c, const char *data, size_t len)
{
	struct ap_shard *s = c->shard;
	if (c->qpos > 0 && c->qpos == c->qlen) {
		c->qpos = c->qlen = 0;
	}
	if (c->qlen + len > c->qcap) {
		if (c->qpos > 0) {
			memmove(c->qbuf, c->qbuf + c->qpos, c->qlen - c->qpos);
			c->qlen -= c->qpos;
			c->qpos = 0;
		}
		if (c->qlen + len > c->qcap) {
			size_t cap = c->qcap ? c->qcap : 1024;
			while (cap < c->qlen + len)
				cap *= 2;
			c->qbuf = ap_realloc(c->qbuf, cap);
			c->qcap = cap;
		}
	}
	memcpy(c->qbuf + c->qlen, data, len);
	c->qlen += len;
	/* Input piling up behind a client that cannot run it now: stop
	 * reading (an incomplete big command keeps being read: its bound
	 * is client-query-buffer-limit). */
	if (c->qlen - c->qpos > AP_QBUF_PAUSE_BYTES &&
	    (c->flags &
	     (AP_CF_WAITING | AP_CF_PAUSED | AP_CF_LOCKWAIT | AP_CF_PENDING)))
		ap_net_conn_pause_recv(s->loop, &c->nc);
	/* Complete commands waiting their turn are bounded too, more
	 * loosely (a client that outpaces the server); see the note on
	 * receive backpressure in docs/architecture.md. */
	if ((long long)(c->qlen - c->qpos) >
	    4 * s->cfg.client_query_buffer_limit) {
		ap_log(AP_LOG_WARNING,
		       "Closing client id=%llu addr=%s that reached max query "
		       "buffer length (%zu bytes)",
		       (unsigned long long)c->id, c->addr, c->qlen - c->qpos);
		ap_client_close(c, false);
		return false;
	}
	return true;
}

static void process_qbuf(struct ap_client *c)
{
	size_t avail = c->qlen - c->qpos;
	if (avail == 0)
		return;
	if (avail < ap_resp_need(&c->req)) { /* a big bulk still arriving */
		if ((long long)avail >
		    c->shard->cfg.client_query_buffer_limit) {
			ap_log(AP_LOG_WARNING,
			       "Closing client id=%llu addr=%s that reached "
			       "max "
			       "query buffer length",
			       (unsigned long long)c->id, c->addr);
			ap_client_close(c, false);
		}
		return;
	}
	size_t used = process_buffer(c, c->qbuf + c->qpos, avail);
	c->qpos += used;
	if (AP_UNLIKELY(c->nc.flags & AP_NC_RECV_PAUSED) &&
	    c->qlen - c->qpos < AP_QBUF_RESUME_BYTES &&
	    !(c->flags & AP_CF_CLOSED))
		ap_net_conn_resume_recv(c->shard->loop, &c->nc);
	if (c->qpos == c->qlen) {
		c->qpos = c->qlen = 0;
		if (c->qcap > 64 * 1024) { /* drop a big buffer when idle */
			ap_free(c->qbuf);
			c->qbuf = NULL;
			c->qcap = 0;
		}
	}
}

void ap_client_on_recv(struct ap_shard *s, struct ap_client *c,
		       const char *data, size_t len)
{
	if (c->flags & (AP_CF_CLOSED | AP_CF_CLOSE_ASAP))
		return;
	c->last_ms = s->now_ms;
	s->st.net_in += len;
	if (c->qlen > c->qpos || (c->flags & (AP_CF_WAITING | AP_CF_PENDING |
					      AP_CF_PAUSED | AP_CF_LOCKWAIT))) {
		if (!qbuf_append(c, data, len))
			return;
		if (!(c->flags & (AP_CF_WAITING | AP_CF_PENDING | AP_CF_PAUSED |
				  AP_CF_LOCKWAIT)))
			process_qbuf(c);
	} else {
		size_t used = process_buffer(c, data, len);
		if (used < len && !(c->flags & AP_CF_CLOSED))
			qbuf_append(c, data + used, len - used);
	}
	ap_client_flush(c);
}

/* Marks c to have its buffered input processed later in this loop turn. */
static void make_pending(struct ap_client *c)
{
	struct ap_shard *s = c->shard;
	if (c->flags & AP_CF_PENDING)
		return;
	c->flags |= AP_CF_PENDING;
	c->pending_next = s->pending;
	s->pending = c;
}

/* Cross-shard work for c finished. Never parses input here: this may run
 * inside c's own command (a fan-out that completed at once), whose parse
 * loop simply goes on; otherwise c's buffered input is queued for the
 * pending pass of this loop turn. */
void ap_client_resume(struct ap_client *c)
{
	if (c->exec && !(c->flags & AP_CF_WAITING) && ap_multi_exec_continue(c))
		return; /* the EXEC goes on (or waits again) */
	if (c->flags & AP_CF_CLOSED)
		return;
	if (c->reply.out == &c->discard_out) { /* an async discarded reply */
		c->reply.out = &c->nc.out;
		ap_obuf_deinit(&c->discard_out);
		ap_obuf_init(&c->discard_out);
	}
	if (c->flags & AP_CF_IN_PROCESS)
		return;
	if (c->qlen > c->qpos)
		make_pending(c);
	ap_client_flush(c);
}

void ap_client_run_pending(struct ap_shard *s)
{
	struct ap_client *list = s->pending;
	s->pending = NULL;
	while (list) {
		struct ap_client *c = list;
		list = c->pending_next;
		c->flags &= ~AP_CF_PENDING;
		if (c->flags & (AP_CF_CLOSED | AP_CF_WAITING | AP_CF_PAUSED |
				AP_CF_LOCKWAIT))
			continue;
		process_qbuf(c);
		ap_client_flush(c);
	}
}
