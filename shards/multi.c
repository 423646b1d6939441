/*
 * multi.c - MULTI, EXEC, DISCARD, WATCH and UNWATCH.
 *
 * Inside MULTI a client's commands are checked (name, arity, auth) and
 * queued with copies of their arguments; a refused one flags the
 * transaction, and EXEC then answers EXECABORT as Redis does.
 *
 * EXEC with one shard runs the queue at once: the shard is one thread, so
 * nothing interleaves. With several shards EXEC is a transaction of the
 * transaction core (txn.c): it locks every key its commands name (write
 * mode for write commands), or every shard whole when a queued command
 * reaches beyond keys (KEYS, FLUSHALL, CLIENT, ...), compares the WATCH
 * versions when the locks are granted, then runs the queued commands one
 * after another, each on its own shard (remote ones wait for their
 * reply), and releases the locks at the end. Other clients' commands on
 * those keys wait meanwhile, so the EXEC is atomic.
 *
 * Logging (appendonly): a multi-shard EXEC's changes are recorded apart on
 * every shard they touch (plog.c, ap_plog_exec_enter) and, once the last
 * command is done and while the locks are still held, each of those
 * shards appends them to its log as one part of the EXEC's transaction;
 * the reply leaves when every part is durable (the parts' acks are held
 * by their shards until then under `always`). Recovery applies the EXEC
 * on all those shards or on none.
 *
 * WATCH registers each key on its owner shard, which returns the key's
 * version and its expire time; EXEC fails (null reply) if a version moved
 * or a TTL passed.
 */
#include "shards/shards_int.h"

#include <string.h>

/* A queued command: one allocation holding argv and the bytes. */
struct mcmd {
	const struct ap_cmd *cmd;
	int argc;
	struct ap_arg *argv;
};

struct ap_multi {
	struct mcmd *cmds;
	int n, cap;
	size_t bytes;
};

struct ap_exec {
	struct ap_multi *m;
	struct ap_txn *t; /* NULL with one shard */
	int pos;
	bool running;	  /* inside exec_continue: completions do not recurse */
	bool logged_part; /* its records form one part in the log */
	struct ap_exec_log *xlog; /* several shards, logged: the parts */
	int commits_left;	  /* parts appended but not acknowledged */
};

/* Asks a shard to append its part of an EXEC, and comes back when done
 * (held by that shard until durable under `always`). */
struct commit_msg {
	struct ap_msg m;
	struct ap_client *c;
	uint64_t txid;
	uint64_t mask[AP_SHARDS_MAX / 64];
};

struct ap_watched {
	struct ap_txn_watch *w; /* key bytes owned here */
	int n, cap;
};

/* ======================= queue ========================================= */

static void multi_free(struct ap_multi *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->n; i++)
		ap_free(m->cmds[i].argv);
	ap_free(m->cmds);
	ap_free(m);
}

bool ap_multi_queues(const struct ap_cmd *cmd)
{
	if (!cmd)
		return true; /* unknown or bad arity: refused, flagged */
	const char *n = cmd->name;
	return strcmp(n, "exec") && strcmp(n, "discard") &&
	       strcmp(n, "multi") && strcmp(n, "watch") && strcmp(n, "quit") &&
	       strcmp(n, "reset");
}

/* Does queue m hold a write command? */
static bool queue_writes(const struct ap_multi *m)
{
	for (int i = 0; m && i < m->n; i++)
		if (m->cmds[i].cmd->flags & AP_CMD_WRITE)
			return true;
	return false;
}

bool ap_multi_writes(const struct ap_client *c)
{
	return queue_writes(c->multi);
}

/* Replies the queueing error and flags the transaction. */
static void queue_refuse(struct ap_client *c, const char *msg)
{
	c->flags |= AP_CF_DIRTY_EXEC;
	ap_reply_error(&c->reply, msg);
}

void ap_multi_queue(struct ap_client *c, const struct ap_cmd *cmd, int argc,
		    const struct ap_arg *argv)
{
	struct ap_multi *m = c->multi;
	AP_ASSERT(cmd != NULL); /* the dispatcher refuses unknown ones */
	if (!(c->flags & AP_CF_AUTHED) && !(cmd->flags & AP_CMD_NO_AUTH)) {
		queue_refuse(c, "NOAUTH Authentication required.");
		return;
	}
	if (cmd->flags & AP_CMD_NO_MULTI) {
		queue_refuse(c, "ERR Command not allowed inside a transaction");
		return;
	}
	size_t bytes = (size_t)argc * sizeof(struct ap_arg);
	for (int i = 0; i < argc; i++)
		bytes += argv[i].len;
	struct ap_arg *copy = ap_args_copy(argc, argv);
	if ((long long)(m->bytes + bytes) >
	    c->shard->cfg.client_query_buffer_limit) {
		ap_free(copy);
		queue_refuse(c, "ERR MULTI queue exceeds "
				"client-query-buffer-limit");
		return;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 8;
		m->cmds =
			ap_realloc(m->cmds, (size_t)m->cap * sizeof(*m->cmds));
	}
	m->cmds[m->n++] = (struct mcmd){.cmd = cmd, .argc = argc, .argv = copy};
	m->bytes += bytes;
	ap_reply_status(&c->reply, "QUEUED");
}

/* ======================= watch ========================================= */

struct unwatch_msg {
	struct ap_msg m;
	int n;
	struct ap_txn_watch w[]; /* key bytes follow the array */
};

static void unwatch_run(struct ap_shard *s, struct ap_msg *m)
{
	struct unwatch_msg *u = (struct unwatch_msg *)m;
	for (int i = 0; i < u->n; i++)
		ap_txn_watch_drop(s, u->w[i].db, u->w[i].key, u->w[i].klen);
	ap_free(u);
}

/* Drops every watch of c: one message per shard holding some. */
static void unwatch_all(struct ap_client *c)
{
	struct ap_watched *wd = c->watched;
	struct ap_shard *s = c->shard;
	if (!wd)
		return;
	c->watched = NULL;
	for (int sh = 0; sh < s->srv->nshards; sh++) {
		int n = 0;
		size_t bytes = 0;
		for (int i = 0; i < wd->n; i++) {
			if (ap_shard_of_key(s->srv, wd->w[i].key,
					    wd->w[i].klen) != sh)
				continue;
			n++;
			bytes += wd->w[i].klen;
		}
		if (!n)
			continue;
		if (sh == s->id) {
			for (int i = 0; i < wd->n; i++)
				if (ap_shard_of_key(s->srv, wd->w[i].key,
						    wd->w[i].klen) == sh)
					ap_txn_watch_drop(s, wd->w[i].db,
							  wd->w[i].key,
							  wd->w[i].klen);
			continue;
		}
		struct unwatch_msg *u = ap_malloc(
			sizeof(*u) + (size_t)n * sizeof(u->w[0]) + bytes);
		char *p = (char *)&u->w[n];
		u->n = 0;
		for (int i = 0; i < wd->n; i++) {
			const struct ap_txn_watch *w = &wd->w[i];
			if (ap_shard_of_key(s->srv, w->key, w->klen) != sh)
				continue;
			u->w[u->n] = *w;
			memcpy(p, w->key, w->klen);
			u->w[u->n].key = p;
			p += w->klen;
			u->n++;
		}
		u->m.run = unwatch_run;
		u->m.home = (uint16_t)s->id;
		ap_shard_send(s, sh, &u->m);
	}
	for (int i = 0; i < wd->n; i++)
		ap_free((void *)wd->w[i].key);
	ap_free(wd->w);
	ap_free(wd);
}

/* Registers w on this (its owner) shard: version and expire time. */
static void watch_register(struct ap_shard *s, struct ap_txn_watch *w)
{
	w->version = ap_txn_watch_add(s, w->db, w->key, w->klen);
	struct ap_entry *e = ap_db_lookup(ap_keyspace_db(s->ks, w->db), w->key,
					  w->klen, AP_LK_NOTOUCH);
	w->expire_ms = e ? ap_entry_expire(e) : AP_NO_EXPIRE;
}

struct watch_part {
	struct ap_msg m;
	struct ap_client *c;
	int *idx; /* into c->watched->w */
	int n;
	int *remaining;
};

static void watch_part_back(struct ap_shard *s, struct ap_msg *m)
{
	struct watch_part *p = (struct watch_part *)m;
	struct ap_client *c = p->c;
	int *remaining = p->remaining;
	ap_free(p->idx);
	ap_free(p);
	(void)s;
	if (--*remaining > 0)
		return;
	ap_free(remaining);
	if (!(c->flags & AP_CF_CLOSED))
		ap_reply_ok(&c->reply);
	c->flags &= ~AP_CF_WAITING;
	ap_client_msg_back(c);
}

static void watch_part_run(struct ap_shard *s, struct ap_msg *m)
{
	struct watch_part *p = (struct watch_part *)m;
	/* c->watched stays put while the WATCH is in flight (the client
	 * waits, and a closing client keeps it until its messages return). */
	for (int i = 0; i < p->n; i++)
		watch_register(s, &p->c->watched->w[p->idx[i]]);
	m->run = watch_part_back;
	ap_shard_send(s, m->home, m);
}

static void cmd_watch(struct ap_cmd_ctx *ctx)
{
	struct ap_client *c = ctx->client;
	struct ap_shard *s = c->shard;
	if (c->multi) {
		ap_reply_error(ctx->r, "ERR WATCH inside MULTI is not allowed");
		return;
	}
	if (!c->watched)
		c->watched = ap_calloc(1, sizeof(*c->watched));
	struct ap_watched *wd = c->watched;
	int first_new = wd->n;
	for (int i = 1; i < ctx->argc; i++) {
		const struct ap_arg *k = &ctx->argv[i];
		bool dup = false;
		for (int j = 0; j < wd->n && !dup; j++)
			dup = wd->w[j].db == c->db_idx &&
			      wd->w[j].klen == k->len &&
			      memcmp(wd->w[j].key, k->p, k->len) == 0;
		if (dup)
			continue;
		if (wd->n == wd->cap) {
			wd->cap = wd->cap ? wd->cap * 2 : 8;
			wd->w = ap_realloc(wd->w,
					   (size_t)wd->cap * sizeof(*wd->w));
		}
		wd->w[wd->n++] = (struct ap_txn_watch){
			.db = c->db_idx,
			.key = ap_memdup(k->p, k->len ? k->len : 1),
			.klen = k->len,
		};
	}
	int n = s->srv->nshards;
	struct watch_part **parts = ap_calloc((size_t)n, sizeof(*parts));
	int *remaining = ap_calloc(1, sizeof(int));
	for (int i = first_new; i < wd->n; i++) {
		struct ap_txn_watch *w = &wd->w[i];
		int sh = ap_shard_of_key(s->srv, w->key, w->klen);
		if (sh == s->id) {
			watch_register(s, w);
			continue;
		}
		if (!parts[sh]) {
			parts[sh] = ap_calloc(1, sizeof(*parts[sh]));
			parts[sh]->c = c;
			parts[sh]->idx = ap_malloc((size_t)(wd->n - first_new) *
						   sizeof(int));
			parts[sh]->remaining = remaining;
			(*remaining)++;
		}
		parts[sh]->idx[parts[sh]->n++] = i;
	}
	if (*remaining == 0) {
		ap_free(remaining);
		ap_free(parts);
		ap_reply_ok(ctx->r);
		return;
	}
	c->flags |= AP_CF_WAITING;
	c->inflight++;
	for (int sh = 0; sh < n; sh++) {
		if (!parts[sh])
			continue;
		parts[sh]->m.run = watch_part_run;
		parts[sh]->m.home = (uint16_t)s->id;
		ap_shard_send(s, sh, &parts[sh]->m);
	}
	ap_free(parts);
}

static void cmd_unwatch(struct ap_cmd_ctx *ctx)
{
	unwatch_all(ctx->client);
	ap_reply_ok(ctx->r);
}

/* With one shard: are the watched keys unchanged? */
static bool watch_valid_here(struct ap_client *c)
{
	struct ap_watched *wd = c->watched;
	struct ap_shard *s = c->shard;
	for (int i = 0; wd && i < wd->n; i++) {
		const struct ap_txn_watch *w = &wd->w[i];
		if (ap_txn_watch_version(s, w->db, w->key, w->klen) !=
		    w->version)
			return false;
		if (w->expire_ms != AP_NO_EXPIRE && w->expire_ms <= s->now_ms)
			return false;
	}
	return true;
}

/* ======================= MULTI / DISCARD =============================== */

static void cmd_multi(struct ap_cmd_ctx *ctx)
{
	struct ap_client *c = ctx->client;
	if (c->multi) {
		ap_reply_error(ctx->r, "ERR MULTI calls can not be nested");
		return;
	}
	c->multi = ap_calloc(1, sizeof(*c->multi));
	c->flags &= ~AP_CF_DIRTY_EXEC;
	ap_reply_ok(ctx->r);
}

static void multi_end(struct ap_client *c)
{
	multi_free(c->multi);
	c->multi = NULL;
	c->flags &= ~AP_CF_DIRTY_EXEC;
	unwatch_all(c);
}

static void cmd_discard(struct ap_cmd_ctx *ctx)
{
	struct ap_client *c = ctx->client;
	if (!c->multi) {
		ap_reply_error(ctx->r, "ERR DISCARD without MULTI");
		return;
	}
	multi_end(c);
	ap_reply_ok(ctx->r);
}

void ap_multi_client_gone(struct ap_client *c)
{
	if (c->exec)
		return; /* the EXEC ends first, then cleans up */
	multi_free(c->multi);
	c->multi = NULL;
	unwatch_all(c);
}

/* ======================= EXEC ========================================== */

/* Ends the EXEC: locks released, queue and watches dropped, client on. */
static void exec_end(struct ap_client *c)
{
	struct ap_exec *e = c->exec;
	struct ap_shard *s = c->shard;
	if (e->logged_part)
		ap_plog_part_end(s);
	if (e->t)
		ap_txn_finish(s, e->t);
	multi_free(e->m);
	ap_free(e->xlog);
	ap_free(e);
	c->exec = NULL;
	c->xlog = NULL;
	unwatch_all(c);
	c->flags &= ~AP_CF_WAITING;
	if (ap_client_msg_done(c))
		ap_client_resume(c);
}

static void commit_back(struct ap_shard *home, struct ap_msg *m)
{
	struct commit_msg *cm = (struct commit_msg *)m;
	struct ap_client *c = cm->c;
	(void)home;
	ap_free(cm);
	if (--c->exec->commits_left == 0)
		exec_end(c);
}

static void commit_run(struct ap_shard *s, struct ap_msg *m)
{
	struct commit_msg *cm = (struct commit_msg *)m;
	ap_plog_exec_commit(s, cm->txid, cm->mask);
	m->run = commit_back;
	ap_shard_send(s, m->home, m); /* held until durable (always) */
}

/* Every queued command ran: the shards that recorded changes append them
 * as the EXEC's parts, before the locks go. Returns true while the
 * appends are acknowledged (exec_end then runs from commit_back). */
static bool exec_commit(struct ap_client *c)
{
	struct ap_shard *s = c->shard;
	struct ap_exec *e = c->exec;
	uint64_t mask[AP_SHARDS_MAX / 64];
	bool any = false;
	if (!e->xlog)
		return false;
	for (int i = 0; i < AP_SHARDS_MAX / 64; i++) {
		mask[i] = atomic_load(&e->xlog->mask[i]);
		any |= mask[i] != 0;
	}
	if (!any)
		return false;
	for (int sh = 0; sh < s->srv->nshards; sh++) {
		if (!(mask[sh / 64] >> (sh % 64) & 1))
			continue;
		if (sh == s->id) {
			ap_plog_exec_commit(s, e->xlog->txid, mask);
			c->own_need = s->plog.end;
			continue;
		}
		struct commit_msg *cm = ap_malloc(sizeof(*cm));
		memset(&cm->m, 0, sizeof(cm->m));
		cm->m.home = (uint16_t)s->id;
		cm->m.run = commit_run;
		cm->c = c;
		cm->txid = e->xlog->txid;
		memcpy(cm->mask, mask, sizeof(mask));
		e->commits_left++;
		ap_shard_send(s, sh, &cm->m);
	}
	if (e->commits_left == 0)
		return false;
	c->flags |= AP_CF_WAITING;
	return true;
}

/* Runs queued commands until one goes asynchronous or all ran. Returns
 * true while the EXEC goes on. */
static bool exec_run(struct ap_client *c)
{
	struct ap_exec *e = c->exec;
	e->running = true;
	while (e->pos < e->m->n) {
		struct mcmd *mc = &e->m->cmds[e->pos++];
		ap_client_run_one(c, mc->cmd, mc->argc, mc->argv);
		if (c->flags & AP_CF_WAITING) {
			e->running = false;
			return true;
		}
	}
	e->running = false;
	if (exec_commit(c))
		return true;
	exec_end(c);
	return false;
}

bool ap_multi_exec_continue(struct ap_client *c)
{
	struct ap_exec *e = c->exec;
	if (e->running)
		return true; /* the loop in exec_run goes on by itself */
	return exec_run(c);
}

static void exec_begin_run(struct ap_client *c)
{
	struct ap_shard *s = c->shard;
	struct ap_exec *e = c->exec;
	ap_reply_array(&c->reply, (size_t)e->m->n);
	/* With one shard the whole EXEC runs now, in this tick: its records
	 * form one part of the log, recovered whole or not at all. */
	if (s->plog.on && s->srv->nshards == 1) {
		for (int i = 0; i < e->m->n && !e->logged_part; i++)
			e->logged_part =
				e->m->cmds[i].cmd->flags & AP_CMD_WRITE;
		if (e->logged_part) {
			uint64_t mask[AP_SHARDS_MAX / 64] = {1};
			ap_plog_part_begin(s, ap_plog_txid(s), mask);
		}
	}
	exec_run(c);
}

static void exec_locked(struct ap_shard *home, struct ap_txn *t)
{
	struct ap_client *c = t->client;
	(void)home;
	c->flags &= ~AP_CF_WAITING;
	if (ap_txn_watch_failed(t)) {
		ap_reply_null_array(&c->reply);
		c->exec->pos = c->exec->m->n;
		exec_end(c);
		return;
	}
	exec_begin_run(c);
}

/* Does a queued command reach beyond its keys (every shard locked)? */
static bool needs_whole_shards(const struct ap_cmd *cmd)
{
	return (cmd->flags & AP_CMD_SERVER) || cmd->first_key == 0;
}

static void cmd_exec(struct ap_cmd_ctx *ctx)
{
	struct ap_client *c = ctx->client;
	struct ap_shard *s = c->shard;
	if (!c->multi) {
		ap_reply_error(ctx->r, "ERR EXEC without MULTI");
		return;
	}
	if (c->flags & AP_CF_DIRTY_EXEC) {
		multi_end(c);
		ap_reply_error(ctx->r,
			       "EXECABORT Transaction discarded because "
			       "of previous errors.");
		return;
	}
	struct ap_exec *e = ap_calloc(1, sizeof(*e));
	e->m = c->multi;
	c->multi = NULL;
	c->exec = e;
	c->inflight++; /* the EXEC's own reference, dropped by exec_end */
	c->flags |= AP_CF_WAITING;
	if (s->srv->nshards == 1) {
		c->flags &= ~AP_CF_WAITING;
		if (!watch_valid_here(c)) {
			ap_reply_null_array(&c->reply);
			exec_end(c);
			return;
		}
		exec_begin_run(c);
		return;
	}
	if (s->plog.on && queue_writes(e->m)) {
		e->xlog = ap_calloc(1, sizeof(*e->xlog));
		e->xlog->txid = ap_plog_txid(s);
		c->xlog = e->xlog;
	}
	struct ap_txn *t = ap_txn_create(s, c);
	e->t = t;
	for (int i = 0; i < e->m->n; i++) {
		const struct mcmd *mc = &e->m->cmds[i];
		if (needs_whole_shards(mc->cmd)) {
			ap_txn_set_global(t, AP_TXN_GLOBAL_EXCL);
			continue;
		}
		struct ap_keyidx ki;
		ap_keyidx_init(&ki, mc->cmd, mc->argc, mc->argv);
		bool write = mc->cmd->flags & AP_CMD_WRITE;
		for (size_t k = 0; k < ki.n; k++)
			ap_txn_add_key(t, c->db_idx, mc->argv[ki.idx[k]].p,
				       mc->argv[ki.idx[k]].len, write);
		ap_keyidx_deinit(&ki);
	}
	if (c->watched)
		ap_txn_set_watch(t, c->watched->w, c->watched->n);
	ap_txn_start(s, t, exec_locked);
}

/* clang-format off */
const struct ap_cmd ap_cmds_multi[] = {
	{.name = "multi", .arity = 1,
	 .flags = AP_CMD_SERVER | AP_CMD_NOSCRIPT | AP_CMD_LOADING |
		  AP_CMD_STALE | AP_CMD_FAST | AP_CMD_ALLOW_BUSY,
	 .fn = cmd_multi, .group = "transactions",
	 .summary = "Starts a transaction.", .since = "1.2.0",
	 .complexity = "O(1)", .acl_categories = "@fast @transaction"},
	{.name = "exec", .arity = 1,
	 .flags = AP_CMD_SERVER | AP_CMD_NOSCRIPT | AP_CMD_LOADING |
		  AP_CMD_STALE,
	 .fn = cmd_exec, .group = "transactions",
	 .summary = "Executes all commands in a transaction.",
	 .since = "1.2.0",
	 .complexity = "Depends on commands in the transaction",
	 .acl_categories = "@slow @transaction"},
	{.name = "discard", .arity = 1,
	 .flags = AP_CMD_SERVER | AP_CMD_NOSCRIPT | AP_CMD_LOADING |
		  AP_CMD_STALE | AP_CMD_FAST | AP_CMD_ALLOW_BUSY,
	 .fn = cmd_discard, .group = "transactions",
	 .summary = "Discards a transaction.", .since = "2.0.0",
	 .complexity = "O(N), when N is the number of queued commands",
	 .acl_categories = "@fast @transaction"},
	{.name = "watch", .arity = -2,
	 .flags = AP_CMD_SERVER | AP_CMD_NOSCRIPT | AP_CMD_LOADING |
		  AP_CMD_STALE | AP_CMD_FAST | AP_CMD_ALLOW_BUSY,
	 .first_key = 1, .last_key = -1, .key_step = 1,
	 .fn = cmd_watch, .group = "transactions",
	 .summary = "Monitors changes to keys to determine the execution of "
		    "a transaction.",
	 .since = "2.2.0", .complexity = "O(1) for every key.",
	 .acl_categories = "@fast @transaction"},
	{.name = "unwatch", .arity = 1,
	 .flags = AP_CMD_SERVER | AP_CMD_NOSCRIPT | AP_CMD_LOADING |
		  AP_CMD_STALE | AP_CMD_FAST | AP_CMD_ALLOW_BUSY,
	 .fn = cmd_unwatch, .group = "transactions",
	 .summary = "Forgets about all watched keys of a transaction.",
	 .since = "2.2.0", .complexity = "O(1)",
	 .acl_categories = "@fast @transaction"},
	{.name = NULL},
};
/* clang-format on */
