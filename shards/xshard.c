/*
 * xshard.c - commands whose keys live on several shards, and fan-outs to
 * every shard.
 *
 * Split commands (MGET, MSET, DEL, EXISTS, TOUCH, UNLINK): the keys are
 * grouped by shard, each shard runs the same command on its own keys,
 * and the home shard merges the replies (interleaving array items in key
 * order, adding integers, or checking +OK).
 *
 * Every other command (RENAME, COPY, LCS, MSETNX, ...) runs as gather,
 * execute, write back: copies of its keys are fetched from their shards
 * into a scratch keyspace of the home shard (one per command in flight,
 * from a small pool: concurrent commands never share one), it runs there
 * unchanged, and the keys it changed are sent back to their owners. The
 * client waits until the write-back is acknowledged, so its next command
 * sees the result.
 *
 * Neither is atomic with respect to other clients yet: the transaction
 * core (issue 3) will put both behind per-key intent locks.
 */
#include "shards/shards_int.h"

#include <stdio.h>
#include <string.h>

/* Copies argv into one allocation; returns the new argv (free with
 * ap_free on the returned pointer). */
struct ap_arg *ap_args_copy(int argc, const struct ap_arg *argv)
{
	size_t total = (size_t)argc * sizeof(struct ap_arg);
	for (int i = 0; i < argc; i++)
		total += argv[i].len;
	struct ap_arg *out = ap_malloc(total ? total : 1);
	char *p = (char *)(out + argc);
	for (int i = 0; i < argc; i++) {
		if (argv[i].len) /* an empty argument may have a NULL p */
			memcpy(p, argv[i].p, argv[i].len);
		out[i].p = p;
		out[i].len = argv[i].len;
		p += argv[i].len;
	}
	return out;
}

/* Runs a command; returns the timeout (ms, 0 forever) if it asked to
 * block, else -1. Only gather may let a command block (no_block false). */
static int64_t run_cmd_on(struct ap_shard *s, const struct ap_cmd *cmd,
			  struct ap_keyspace *ks, unsigned db_idx,
			  struct ap_reply *r, int argc,
			  const struct ap_arg *argv, struct ap_client *client,
			  uint64_t *dirty, bool no_block)
{
	struct ap_cmd_ctx ctx = {
		.ks = ks,
		.db = ap_keyspace_db(ks, db_idx),
		.db_idx = db_idx,
		.r = r,
		.cfg = &s->cfg,
		.argc = argc,
		.argv = argv,
		.cmd = cmd,
		.server = client ? s->srv : NULL,
		.client = client,
		.no_block = no_block,
	};
	ap_shard_exec(s, &ctx);
	if (dirty)
		*dirty += ctx.dirty;
	return ctx.block ? ctx.block_timeout_ms : -1;
}

/* A spanning command finished (its reply is written or the client is
 * gone): release its transaction's locks, then resume the client. */
static void span_complete(struct ap_shard *s, struct ap_client *c)
{
	if (c->txn) {
		ap_txn_finish(s, c->txn);
		c->txn = NULL;
	}
	c->flags &= ~AP_CF_WAITING;
	ap_client_msg_back(c);
}

/* ======================= split ========================================= */

struct split_op;

struct split_part {
	struct ap_msg m;
	struct split_op *op;
	const struct ap_cmd *cmd;
	unsigned db_idx;
	uint8_t proto;
	int argc;
	struct ap_arg *argv;
	struct ap_obuf out;
};

struct split_op {
	struct ap_client *c;
	const struct ap_cmd *cmd;
	/* Logged as a multi-shard transaction: its id (0: not logged) and
	 * the shards with a part. Read-only once the parts are sent. */
	uint64_t txid;
	uint64_t mask[AP_SHARDS_MAX / 64];
	struct ap_exec_log *xlog; /* inside an EXEC: its part instead */
	int remaining;
	int ngroups;
	int *group_shard;	   /* shard of each key group, in order */
	struct split_part **parts; /* [nshards] */
};

/* Length of one RESP value at p (within len), or 0 if malformed. Handles
 * the shapes split replies contain. */
static size_t resp_value_len(const char *p, size_t len)
{
	const char *nl = memchr(p, '\n', len);
	if (!nl)
		return 0;
	size_t line = (size_t)(nl - p) + 1;
	if (p[0] == '$' || p[0] == '=') {
		long long n;
		if (!ap_str_to_ll(p + 1, line - 3, &n))
			return 0;
		if (n < 0)
			return line;
		return line + (size_t)n + 2 <= len ? line + (size_t)n + 2 : 0;
	}
	if (p[0] == '*' || p[0] == '~' || p[0] == '>' || p[0] == '%') {
		long long n;
		if (!ap_str_to_ll(p + 1, line - 3, &n))
			return 0;
		if (p[0] == '%')
			n *= 2;
		size_t off = line;
		for (long long i = 0; i < n; i++) {
			size_t l = resp_value_len(p + off, len - off);
			if (!l)
				return 0;
			off += l;
		}
		return off;
	}
	return line; /* + - : _ , # ( */
}

static void split_merge(struct ap_shard *s, struct split_op *op)
{
	struct ap_client *c = op->c;
	int n = s->srv->nshards;
	char **flat = ap_calloc((size_t)n, sizeof(char *));
	size_t *flen = ap_calloc((size_t)n, sizeof(size_t));
	size_t *cur = ap_calloc((size_t)n, sizeof(size_t));
	const char *err = NULL;
	size_t err_len = 0;
	for (int i = 0; i < n; i++) {
		if (!op->parts[i])
			continue;
		flat[i] = ap_obuf_flatten(&op->parts[i]->out, &flen[i]);
		if (flen[i] && flat[i][0] == '-' && !err) {
			err = flat[i];
			err_len = flen[i];
		}
	}
	if (err) {
		/* Already counted in errorstats where it was produced. */
		ap_obuf_append(c->reply.out, err, err_len);
	} else if (op->cmd->split == AP_SPLIT_SUM) {
		long long sum = 0;
		for (int i = 0; i < n; i++) {
			long long v = 0;
			if (flat[i] && flen[i] > 3 &&
			    ap_str_to_ll(flat[i] + 1, flen[i] - 3, &v))
				sum += v;
		}
		ap_reply_int(&c->reply, sum);
	} else if (op->cmd->split == AP_SPLIT_OK) {
		ap_reply_ok(&c->reply);
	} else {
		/* Skip each part's array header, then take items in key
		 * order. */
		for (int i = 0; i < n; i++) {
			if (!flat[i])
				continue;
			const char *nl = memchr(flat[i], '\n', flen[i]);
			cur[i] = nl ? (size_t)(nl - flat[i]) + 1 : flen[i];
		}
		ap_reply_array(&c->reply, (size_t)op->ngroups);
		for (int g = 0; g < op->ngroups; g++) {
			int sh = op->group_shard[g];
			size_t l = resp_value_len(flat[sh] + cur[sh],
						  flen[sh] - cur[sh]);
			AP_ASSERT(l > 0);
			ap_reply_raw(&c->reply, flat[sh] + cur[sh], l);
			cur[sh] += l;
		}
	}
	for (int i = 0; i < n; i++)
		ap_free(flat[i]);
	ap_free(flat);
	ap_free(flen);
	ap_free(cur);
}

static void split_finish(struct ap_shard *s, struct split_op *op)
{
	struct ap_client *c = op->c;
	bool alive = !(c->flags & AP_CF_CLOSED);
	if (alive)
		split_merge(s, op);
	for (int i = 0; i < s->srv->nshards; i++) {
		struct split_part *p = op->parts[i];
		if (!p)
			continue;
		ap_obuf_deinit(&p->out);
		ap_free(p->argv);
		ap_free(p);
	}
	ap_free(op->parts);
	ap_free(op->group_shard);
	ap_free(op);
	span_complete(s, c);
}

static void split_part_back(struct ap_shard *s, struct ap_msg *m)
{
	struct split_part *p = (struct split_part *)m;
	if (--p->op->remaining == 0)
		split_finish(s, p->op);
}

/* Runs a split part on its shard, logged as that shard's part of the
 * split's transaction. */
static void split_part_exec(struct ap_shard *s, struct split_part *p)
{
	struct ap_reply r;
	ap_reply_init(&r, &p->out, p->proto);
	r.on_error = ap_shard_count_error;
	r.on_error_ctx = s;
	bool part = s->plog.on && p->op->txid;
	if (part)
		ap_plog_part_begin(s, p->op->txid, p->op->mask);
	ap_plog_exec_enter(s, p->op->xlog);
	run_cmd_on(s, p->cmd, s->ks, p->db_idx, &r, p->argc, p->argv, NULL,
		   NULL, true);
	ap_plog_exec_leave(s);
	if (part)
		ap_plog_part_end(s);
}

static void split_part_run(struct ap_shard *s, struct ap_msg *m)
{
	split_part_exec(s, (struct split_part *)m);
	m->run = split_part_back;
	ap_shard_send(s, m->home, m);
}

/* Builds a split operation: one part (its own argv) per shard. */
static struct split_op *split_prepare(struct ap_client *c,
				      const struct ap_cmd *cmd, int argc,
				      const struct ap_arg *argv)
{
	struct ap_shard *s = c->shard;
	int n = s->srv->nshards;
	int first = cmd->first_key;
	int last = cmd->last_key >= 0 ? cmd->last_key : argc + cmd->last_key;
	int step = cmd->key_step > 0 ? cmd->key_step : 1;
	struct split_op *op = ap_calloc(1, sizeof(*op));
	op->c = c;
	op->cmd = cmd;
	op->ngroups = (last - first) / step + 1;
	op->group_shard = ap_malloc((size_t)op->ngroups * sizeof(int));
	op->parts = ap_calloc((size_t)n, sizeof(*op->parts));
	/* Count arguments per shard. */
	int *cnt = ap_calloc((size_t)n, sizeof(int));
	for (int g = 0; g < op->ngroups; g++) {
		const struct ap_arg *k = &argv[first + g * step];
		int sh = ap_shard_of_key(s->srv, k->p, k->len);
		op->group_shard[g] = sh;
		cnt[sh] += step;
	}
	/* Build each shard's argv: the leading args, then its groups. */
	struct ap_arg *tmp = ap_malloc((size_t)argc * sizeof(*tmp));
	for (int sh = 0; sh < n; sh++) {
		if (!cnt[sh])
			continue;
		int k = 0;
		for (int i = 0; i < first; i++)
			tmp[k++] = argv[i];
		for (int g = 0; g < op->ngroups; g++) {
			if (op->group_shard[g] != sh)
				continue;
			for (int j = 0; j < step; j++)
				tmp[k++] = argv[first + g * step + j];
		}
		struct split_part *p = ap_calloc(1, sizeof(*p));
		p->op = op;
		p->cmd = cmd;
		p->db_idx = c->db_idx;
		p->proto = c->proto;
		p->argc = k;
		p->argv = ap_args_copy(k, tmp);
		ap_obuf_init(&p->out);
		p->m.home = (uint16_t)s->id;
		op->parts[sh] = p;
		op->remaining++;
		op->mask[sh / 64] |= 1ull << (sh % 64);
	}
	ap_free(tmp);
	ap_free(cnt);
	op->xlog = c->xlog;
	if (s->plog.on && op->remaining > 1 && (cmd->flags & AP_CMD_WRITE) &&
	    !op->xlog)
		op->txid = ap_plog_txid(s);
	return op;
}

/* Runs this shard's part of a split command in place. */
static void split_part_here(struct ap_shard *s, struct split_part *p)
{
	split_part_exec(s, p);
}

/* Sends the parts and runs the local one (inside an EXEC, whose locks
 * cover the keys). */
static void split_start(struct ap_client *c, const struct ap_cmd *cmd, int argc,
			const struct ap_arg *argv)
{
	struct ap_shard *s = c->shard;
	int n = s->srv->nshards;
	struct split_op *op = split_prepare(c, cmd, argc, argv);
	c->flags |= AP_CF_WAITING;
	c->inflight++;
	/* Remote parts first, so they run while the local part runs. */
	for (int sh = 0; sh < n; sh++) {
		if (op->parts[sh] && sh != s->id) {
			op->parts[sh]->m.run = split_part_run;
			ap_shard_send(s, sh, &op->parts[sh]->m);
		}
	}
	if (op->parts[s->id]) {
		split_part_here(s, op->parts[s->id]);
		if (--op->remaining == 0)
			split_finish(s, op);
	}
}

/*
 * A split command as a transaction runs each part on its shard the
 * moment that shard grants the part's locks (the parts are independent
 * and cannot fail halfway), so the whole command costs the lock chain
 * and the release: no extra round trip. Nobody sees a part's effect
 * before the release, since the locks stay held until then.
 */
static void split_on_grant(struct ap_shard *s, struct ap_txn *t)
{
	struct split_op *op = t->grant_arg;
	struct split_part *p = op->parts[s->id];
	if (p)
		split_part_here(s, p);
}

static void split_locked(struct ap_shard *home, struct ap_txn *t)
{
	struct split_op *op = t->grant_arg;
	/* Every part ran at its grant; split_finish drops the reference the
	 * lock wait took. */
	op->remaining = 0;
	split_finish(home, op);
}

/* ======================= gather / execute / write back ================= */

struct gkey {
	unsigned db;
	const char *key;
	size_t klen;
	int shard;
	bool existed;
};

struct gather_op {
	struct ap_client *c;
	bool no_block;		/* a blocking command answers at once */
	int64_t block_ms;	/* it asked to block (ms, 0 forever); -1 no */
	struct ap_keyspace *ks; /* scratch, this op's own */
	const struct ap_cmd *cmd;
	int argc;
	struct ap_arg *argv;
	int nkeys;
	struct gkey *keys;
	int remaining;
};

struct gather_part {
	struct ap_msg m;
	struct gather_op *op;
	/* A write-back is logged as one shard's part of transaction txid
	 * (0: not logged) over the shards in mask (both owned by the
	 * part). */
	uint64_t txid;
	uint64_t mask[AP_SHARDS_MAX / 64];
	struct ap_exec_log *xlog; /* inside an EXEC: its part instead */
	int n;
	int *idx;		   /* into op->keys */
	struct ap_entry **entries; /* fetched, or to write (NULL: delete) */
	bool write;
};

static void gather_execute(struct ap_shard *s, struct gather_op *op);

static void gather_part_free(struct gather_part *p)
{
	ap_free(p->idx);
	ap_free(p->entries);
	ap_free(p);
}

/* A scratch keyspace from the shard's pool (or a new one). */
static struct ap_keyspace *scratch_take(struct ap_shard *s)
{
	if (s->scratch_count > 0)
		return s->scratch[--s->scratch_count];
	return ap_keyspace_create((unsigned)s->cfg.databases);
}

/* Gives an (empty) scratch keyspace back to the pool. */
static void scratch_give(struct ap_shard *s, struct ap_keyspace *ks)
{
	if (s->scratch_count < AP_SCRATCH_POOL)
		s->scratch[s->scratch_count++] = ks;
	else
		ap_keyspace_destroy(ks);
}

static void gather_op_free(struct ap_shard *s, struct gather_op *op)
{
	scratch_give(s, op->ks);
	ap_free(op->argv);
	ap_free(op->keys);
	ap_free(op);
}

static void span_park(struct ap_shard *s, struct gather_op *op);

static void gather_done(struct ap_shard *s, struct gather_op *op)
{
	struct ap_client *c = op->c;
	if (op->block_ms >= 0) {
		span_park(s, op);
		return;
	}
	gather_op_free(s, op);
	if (c->span_wait) { /* a blocked spanning command got its reply */
		ap_free(c->span_wait->argv);
		ap_free(c->span_wait);
		c->span_wait = NULL;
	}
	span_complete(s, c);
}

/* On the owner: fetch copies, or apply the write-back. */
static void gather_part_apply(struct ap_shard *s, struct gather_part *p)
{
	struct gather_op *op = p->op;
	bool part = p->write && s->plog.on && p->txid;
	if (part)
		ap_plog_part_begin(s, p->txid, p->mask);
	if (p->write)
		ap_plog_exec_enter(s, p->xlog);
	for (int i = 0; i < p->n; i++) {
		struct gkey *k = &op->keys[p->idx[i]];
		struct ap_db *db = ap_keyspace_db(s->ks, k->db);
		if (!p->write) {
			struct ap_entry *e =
				ap_db_lookup(db, k->key, k->klen, AP_LK_READ);
			p->entries[i] = e ? ap_entry_dup(e) : NULL;
		} else if (p->entries[i]) {
			if (s->plog.on)
				ap_plog_entry(s, k->db, p->entries[i]);
			ap_db_attach(db, p->entries[i], k->key, k->klen, true);
			p->entries[i] = NULL;
			ap_keyspace_stats(s->ks)->dirty++;
			ap_txn_watch_touch(s, k->db, k->key, k->klen);
			ap_blk_signal(s, k->db, k->key, k->klen);
		} else if (ap_db_delete(db, k->key, k->klen)) {
			if (s->plog.on)
				ap_plog_del(s, k->db, k->key, k->klen);
			ap_keyspace_stats(s->ks)->dirty++;
			ap_txn_watch_touch(s, k->db, k->key, k->klen);
		}
	}
	ap_plog_exec_leave(s);
	if (part)
		ap_plog_part_end(s);
}

static void gather_part_back(struct ap_shard *s, struct ap_msg *m)
{
	struct gather_part *p = (struct gather_part *)m;
	struct gather_op *op = p->op;
	if (!p->write) {
		struct ap_keyspace *sks = op->ks;
		for (int i = 0; i < p->n; i++) {
			struct gkey *k = &op->keys[p->idx[i]];
			if (!p->entries[i])
				continue;
			k->existed = true;
			ap_db_attach(ap_keyspace_db(sks, k->db), p->entries[i],
				     k->key, k->klen, true);
		}
	}
	bool write = p->write;
	gather_part_free(p);
	if (--op->remaining > 0)
		return;
	if (!write)
		gather_execute(s, op);
	else
		gather_done(s, op);
}

static void gather_part_run(struct ap_shard *s, struct ap_msg *m)
{
	gather_part_apply(s, (struct gather_part *)m);
	m->run = gather_part_back;
	ap_shard_send(s, m->home, m);
}

/* Sends one part per shard holding keys (write: the write-back). The
 * home shard's part is applied in place. */
static void gather_send(struct ap_shard *s, struct gather_op *op, bool write,
			struct ap_entry **post)
{
	int n = s->srv->nshards;
	struct gather_part **parts = ap_calloc((size_t)n, sizeof(*parts));
	for (int i = 0; i < op->nkeys; i++) {
		struct gkey *k = &op->keys[i];
		if (write && !post[i] && !k->existed)
			continue; /* nothing there before or after */
		struct gather_part *p = parts[k->shard];
		if (!p) {
			p = ap_calloc(1, sizeof(*p));
			p->op = op;
			p->write = write;
			p->idx = ap_malloc((size_t)op->nkeys * sizeof(int));
			p->entries = ap_calloc((size_t)op->nkeys,
					       sizeof(*p->entries));
			p->m.home = (uint16_t)s->id;
			p->xlog = op->c->xlog;
			parts[k->shard] = p;
			op->remaining++;
		}
		p->idx[p->n] = i;
		p->entries[p->n] = write ? post[i] : NULL;
		p->n++;
	}
	if (op->remaining == 0) { /* a write-back with nothing to write */
		ap_free(parts);
		gather_done(s, op);
		return;
	}
	if (write && s->plog.on && op->remaining > 1 && !op->c->xlog) {
		uint64_t txid = ap_plog_txid(s);
		uint64_t mask[AP_SHARDS_MAX / 64] = {0};
		for (int sh = 0; sh < n; sh++)
			if (parts[sh])
				mask[sh / 64] |= 1ull << (sh % 64);
		for (int sh = 0; sh < n; sh++) {
			if (!parts[sh])
				continue;
			parts[sh]->txid = txid;
			memcpy(parts[sh]->mask, mask, sizeof(mask));
		}
	}
	struct gather_part *local = parts[s->id];
	for (int sh = 0; sh < n; sh++) {
		if (parts[sh] && sh != s->id) {
			parts[sh]->m.run = gather_part_run;
			ap_shard_send(s, sh, &parts[sh]->m);
		}
	}
	ap_free(parts);
	if (local) {
		gather_part_apply(s, local);
		gather_part_back(s, &local->m);
	}
}

/* All keys are in the scratch keyspace: run the command there, then
 * write back what changed. */
static void gather_execute(struct ap_shard *s, struct gather_op *op)
{
	struct ap_client *c = op->c;
	struct ap_keyspace *sks = op->ks;
	ap_keyspace_set_now(sks, s->now_ms);
	uint64_t dirty = 0;
	/* Runs even if the client left: the command was received, and an
	 * EXEC runs whole. */
	op->block_ms = run_cmd_on(s, op->cmd, sks, c->db_idx, &c->reply,
				  op->argc, op->argv, c, &dirty,
				  op->no_block || c->exec != NULL);
	struct ap_entry **post = ap_calloc((size_t)op->nkeys, sizeof(*post));
	for (int i = 0; i < op->nkeys; i++) {
		struct gkey *k = &op->keys[i];
		post[i] = ap_db_detach(ap_keyspace_db(sks, k->db), k->key,
				       k->klen);
	}
	for (unsigned d = 0; d < ap_keyspace_db_count(sks); d++)
		if (ap_db_size(ap_keyspace_db(sks, d)))
			ap_db_flush(ap_keyspace_db(sks, d));
	if (dirty == 0) {
		for (int i = 0; i < op->nkeys; i++)
			if (post[i])
				ap_entry_free(post[i]);
		ap_free(post);
		gather_done(s, op);
		return;
	}
	gather_send(s, op, true, post);
	ap_free(post);
}

/* Adds (db, key) once. */
static void gather_add_key(struct ap_shard *s, struct gather_op *op,
			   unsigned db, const struct ap_arg *k)
{
	for (int i = 0; i < op->nkeys; i++)
		if (op->keys[i].db == db && op->keys[i].klen == k->len &&
		    memcmp(op->keys[i].key, k->p, k->len) == 0)
			return;
	struct gkey *g = &op->keys[op->nkeys++];
	g->db = db;
	g->key = k->p;
	g->klen = k->len;
	g->shard = ap_shard_of_key(s->srv, k->p, k->len);
	g->existed = false;
}

/* The destination database of COPY src dst DB n, else db. */
static unsigned copy_dest_db(struct ap_shard *s, const struct ap_cmd *cmd,
			     int argc, const struct ap_arg *argv, unsigned db)
{
	if (strcmp(cmd->name, "copy") != 0)
		return db;
	for (int i = 3; i + 1 < argc; i++) {
		long long n;
		if (ap_arg_eq(&argv[i], "db") &&
		    ap_str_to_ll(argv[i + 1].p, argv[i + 1].len, &n) &&
		    n >= 0 && n < s->cfg.databases)
			return (unsigned)n;
	}
	return db;
}

static void gather_start(struct ap_client *c, const struct ap_cmd *cmd,
			 int argc, const struct ap_arg *argv, bool no_block)
{
	struct ap_shard *s = c->shard;
	struct gather_op *op = ap_calloc(1, sizeof(*op));
	op->ks = scratch_take(s);
	op->no_block = no_block;
	op->block_ms = -1;
	op->c = c;
	op->cmd = cmd;
	op->argc = argc;
	op->argv = ap_args_copy(argc, argv);
	op->keys = ap_calloc((size_t)argc + 1, sizeof(*op->keys));
	struct ap_keyidx ki;
	ap_keyidx_init(&ki, cmd, argc, op->argv);
	for (size_t i = 0; i < ki.n; i++)
		gather_add_key(
			s, op,
			i == 1 ? copy_dest_db(s, cmd, argc, op->argv, c->db_idx)
			       : c->db_idx,
			&op->argv[ki.idx[i]]);
	ap_keyidx_deinit(&ki);
	c->flags |= AP_CF_WAITING;
	c->inflight++;
	gather_send(s, op, false, NULL);
}

/* Runs a spanning command whose locks are held (or that runs inside an
 * EXEC holding them). */
static void span_run(struct ap_client *c, const struct ap_cmd *cmd, int argc,
		     const struct ap_arg *argv, bool no_block)
{
	if (cmd->split == AP_SPLIT_ARRAY || cmd->split == AP_SPLIT_SUM ||
	    cmd->split == AP_SPLIT_OK)
		split_start(c, cmd, argc, argv);
	else
		gather_start(c, cmd, argc, argv, no_block);
}

struct span_args {
	const struct ap_cmd *cmd;
	int argc;
	struct ap_arg *argv;
	bool no_block;
};

static void span_locked(struct ap_shard *home, struct ap_txn *t)
{
	struct ap_client *c = t->client;
	struct span_args *a = t->arg;
	c->inflight--; /* the lock wait's reference; span_run takes its own */
	span_run(c, a->cmd, a->argc, a->argv, a->no_block);
	ap_free(a->argv);
	ap_free(a);
	(void)home;
}

static void span_start(struct ap_client *c, const struct ap_cmd *cmd, int argc,
		       const struct ap_arg *argv, bool no_block);

void ap_xshard_spanning(struct ap_client *c, const struct ap_cmd *cmd, int argc,
			const struct ap_arg *argv)
{
	span_start(c, cmd, argc, argv, false);
}

/* Locks the keys of a spanning command, then runs it: a split command's
 * parts run as their shards grant (split_on_grant), any other command
 * once every lock is held (span_locked). */
static void span_start(struct ap_client *c, const struct ap_cmd *cmd, int argc,
		       const struct ap_arg *argv, bool no_block)
{
	struct ap_shard *s = c->shard;
	if (c->exec) { /* the EXEC holds every lock it needs */
		span_run(c, cmd, argc, argv, true);
		return;
	}
	struct ap_txn *t = ap_txn_create(s, c);
	struct ap_keyidx ki;
	bool write = cmd->flags & AP_CMD_WRITE;
	ap_keyidx_init(&ki, cmd, argc, argv);
	for (size_t i = 0; i < ki.n; i++) {
		unsigned db = c->db_idx;
		if (i == 1)
			db = copy_dest_db(s, cmd, argc, argv, db);
		ap_txn_add_key(t, db, argv[ki.idx[i]].p, argv[ki.idx[i]].len,
			       write);
	}
	ap_keyidx_deinit(&ki);
	c->txn = t;
	c->flags |= AP_CF_WAITING;
	c->inflight++;
	if (cmd->split == AP_SPLIT_ARRAY || cmd->split == AP_SPLIT_SUM ||
	    cmd->split == AP_SPLIT_OK) {
		t->grant_arg = split_prepare(c, cmd, argc, argv);
		t->on_grant = split_on_grant;
		ap_txn_start(s, t, split_locked);
		return;
	}
	struct span_args *sa = ap_malloc(sizeof(*sa));
	sa->no_block = no_block;
	sa->cmd = cmd;
	sa->argc = argc;
	sa->argv = ap_args_copy(argc, argv);
	t->arg = sa;
	ap_txn_start(s, t, span_locked);
}

/* ======================= blocking across shards ======================== */

/*
 * A blocking command whose keys span shards (BLMOVE from a list on one
 * shard to one on another) found nothing: its locks are released and the
 * client waits here, on its home shard, until it gets data or its timeout
 * passes (then one last try that does not block answers the null). Each
 * try is a whole transaction, so the move stays atomic.
 *
 * What starts a try: every shard owning one of its keys holds a notify
 * waiter for it (block.c, in that key's FIFO with the plain waiters);
 * a push there sends a wake-up here. A waiter parks again after a try
 * that found nothing (another client was faster): its notify waiters are
 * dropped before each try and registered anew, with a new generation, so
 * a late wake-up of an old one is ignored. As a safety net a try also
 * runs every AP_SPAN_BLOCK_POLL_MS.
 */

struct span_reg_msg {
	struct ap_msg m;
	int home;
	unsigned db;
	uint64_t client_id;
	uint64_t gen;
	size_t klen;
	char key[];
};

struct span_drop_msg {
	struct ap_msg m;
	uint64_t client_id;
};

static void span_reg_run(struct ap_shard *s, struct ap_msg *m)
{
	struct span_reg_msg *rm = (struct span_reg_msg *)m;
	ap_blk_notify_add(s, rm->db, rm->key, rm->klen, rm->home, rm->client_id,
			  rm->gen);
	ap_free(rm);
}

static void span_drop_run(struct ap_shard *s, struct ap_msg *m)
{
	struct span_drop_msg *dm = (struct span_drop_msg *)m;
	ap_blk_notify_drop(s, dm->client_id);
	ap_free(dm);
}

/* Registers a notify waiter for each key c's waiting command takes from
 * (not BLMOVE's destination, whose data is not for it) with the shard
 * that owns it. */
static void span_register(struct ap_shard *s, struct ap_client *c)
{
	struct ap_span_wait *w = c->span_wait;
	struct ap_keyidx ki;
	w->gen++;
	ap_keyidx_init(&ki, w->cmd, w->argc, w->argv);
	size_t n = ki.n;
	if (n > 1 && (strcmp(w->cmd->name, "blmove") == 0 ||
		      strcmp(w->cmd->name, "brpoplpush") == 0))
		n = 1; /* the source only */
	for (size_t i = 0; i < n; i++) {
		const struct ap_arg *k = &w->argv[ki.idx[i]];
		int sh = ap_shard_of_key(s->srv, k->p, k->len);
		struct span_reg_msg *rm = ap_calloc(1, sizeof(*rm) + k->len);
		rm->m.home = (uint16_t)s->id;
		rm->m.run = span_reg_run;
		rm->home = s->id;
		rm->db = c->db_idx;
		rm->client_id = c->id;
		rm->gen = w->gen;
		rm->klen = k->len;
		memcpy(rm->key, k->p, k->len);
		w->reg_mask[sh / 64] |= 1ull << (sh % 64);
		if (sh == s->id)
			span_reg_run(s, &rm->m);
		else
			ap_shard_send(s, sh, &rm->m);
	}
	ap_keyidx_deinit(&ki);
}

/* Drops c's notify waiters wherever they were registered. */
static void span_unregister(struct ap_shard *s, struct ap_client *c)
{
	struct ap_span_wait *w = c->span_wait;
	for (int sh = 0; sh < s->srv->nshards; sh++) {
		if (!(w->reg_mask[sh / 64] >> (sh % 64) & 1))
			continue;
		if (sh == s->id) {
			ap_blk_notify_drop(s, c->id);
			continue;
		}
		struct span_drop_msg *dm = ap_calloc(1, sizeof(*dm));
		dm->m.home = (uint16_t)s->id;
		dm->m.run = span_drop_run;
		dm->client_id = c->id;
		ap_shard_send(s, sh, &dm->m);
	}
	memset(w->reg_mask, 0, sizeof(w->reg_mask));
}

static void span_park(struct ap_shard *s, struct gather_op *op)
{
	struct ap_client *c = op->c;
	if (c->txn) {
		ap_txn_finish(s, c->txn);
		c->txn = NULL;
	}
	if (!c->span_wait) {
		struct ap_span_wait *w = ap_calloc(1, sizeof(*w));
		w->cmd = op->cmd;
		w->argc = op->argc;
		w->argv = op->argv;
		op->argv = NULL;
		w->deadline_ms = op->block_ms ? s->now_ms + op->block_ms : 0;
		c->span_wait = w;
	}
	gather_op_free(s, op);
	if (c->flags & AP_CF_CLOSED) {
		ap_free(c->span_wait->argv);
		ap_free(c->span_wait);
		c->span_wait = NULL;
		c->flags &= ~AP_CF_WAITING;
		ap_client_msg_back(c);
		return;
	}
	c->span_wait->next_try_ms = s->now_ms + AP_SPAN_BLOCK_POLL_MS;
	c->span_next = s->span_waiters;
	s->span_waiters = c;
	c->inflight--; /* the client stays WAITING, on the list */
	span_register(s, c);
}

void ap_xshard_span_wake(struct ap_shard *home, uint64_t client_id,
			 uint64_t gen)
{
	for (struct ap_client *c = home->span_waiters; c; c = c->span_next) {
		if (c->id == client_id && c->span_wait->gen == gen) {
			c->span_wait->next_try_ms = 0; /* this tick */
			return;
		}
	}
}

void ap_xshard_span_retry(struct ap_shard *s)
{
	struct ap_client **pp = &s->span_waiters;
	while (*pp) {
		struct ap_client *c = *pp;
		struct ap_span_wait *w = c->span_wait;
		bool expired = w->deadline_ms && s->now_ms >= w->deadline_ms;
		if (s->now_ms < w->next_try_ms && !expired) {
			pp = &c->span_next;
			continue;
		}
		*pp = c->span_next;
		c->span_next = NULL;
		span_unregister(s, c);
		c->inflight++; /* the retry's reference (span_start's is its
				  own) */
		span_start(c, w->cmd, w->argc, w->argv, expired);
		c->inflight--;
	}
}

void ap_xshard_span_gone(struct ap_shard *s, struct ap_client *c)
{
	struct ap_client **pp = &s->span_waiters;
	while (*pp && *pp != c)
		pp = &(*pp)->span_next;
	if (!*pp)
		return; /* a retry is in flight: it cleans up */
	*pp = c->span_next;
	span_unregister(s, c);
	ap_free(c->span_wait->argv);
	ap_free(c->span_wait);
	c->span_wait = NULL;
	c->flags &= ~AP_CF_WAITING;
}

/* ======================= whole-keyspace commands ======================= */

struct global_args {
	const struct ap_cmd *cmd;
	int argc;
	struct ap_arg *argv;
};

static void global_locked(struct ap_shard *home, struct ap_txn *t)
{
	struct ap_client *c = t->client;
	struct global_args *a = t->arg;
	c->flags &= ~AP_CF_WAITING;
	ap_client_run_one(c, a->cmd, a->argc, a->argv); /* starts a fan-out */
	ap_free(a->argv);
	ap_free(a);
	if (!(c->flags & AP_CF_WAITING)) { /* answered at once (an error) */
		ap_txn_finish(home, t);
		c->txn = NULL;
	}
	ap_client_msg_back(c); /* the lock wait's reference */
}

void ap_xshard_whole_keyspace(struct ap_client *c, const struct ap_cmd *cmd,
			      int argc, const struct ap_arg *argv)
{
	struct ap_shard *s = c->shard;
	struct global_args *a = ap_malloc(sizeof(*a));
	a->cmd = cmd;
	a->argc = argc;
	a->argv = ap_args_copy(argc, argv);
	struct ap_txn *t = ap_txn_create(s, c);
	t->arg = a;
	ap_txn_set_global(t, (cmd->flags & AP_CMD_READONLY)
				     ? AP_TXN_GLOBAL_SHARED
				     : AP_TXN_GLOBAL_EXCL);
	c->txn = t;
	c->flags |= AP_CF_WAITING;
	c->inflight++;
	ap_txn_start(s, t, global_locked);
}

/* ======================= fan-out ======================================= */

static void fanout_back(struct ap_shard *s, struct ap_msg *m)
{
	struct ap_fanout_part *p = (struct ap_fanout_part *)m;
	struct ap_fanout *f = p->f;
	if (--f->remaining == 0)
		f->done(s, f);
}

static void fanout_run(struct ap_shard *s, struct ap_msg *m)
{
	struct ap_fanout_part *p = (struct ap_fanout_part *)m;
	p->f->fn(s, p->f);
	m->run = fanout_back;
	ap_shard_send(s, m->home, m);
}

void ap_fanout_start(struct ap_client *c, int first, int count,
		     ap_fanout_fn *fn, ap_fanout_done_fn *done, int argc,
		     const struct ap_arg *argv, const long long *opt)
{
	struct ap_shard *s = c->shard;
	struct ap_fanout *f = ap_calloc(
		1, sizeof(*f) + (size_t)count * sizeof(struct ap_fanout_part));
	f->client = c;
	f->fn = fn;
	f->done = done;
	f->db_idx = c->db_idx;
	f->proto = c->proto;
	f->argc = argc;
	f->argv = argc ? ap_args_copy(argc, argv) : NULL;
	if (opt)
		memcpy(f->opt, opt, sizeof(f->opt));
	f->first = first;
	f->nparts = count;
	f->remaining = count;
	f->xlog = c->xlog;
	if (s->plog.on && count > 1 && count == s->srv->nshards && !f->xlog)
		f->txid = ap_plog_txid(s);
	c->flags |= AP_CF_WAITING;
	c->inflight++;
	int local = -1;
	for (int i = 0; i < count; i++) {
		struct ap_fanout_part *p = &f->parts[i];
		p->f = f;
		p->shard = first + i;
		p->m.home = (uint16_t)s->id;
		ap_obuf_init(&p->out);
		if (p->shard == s->id) {
			local = i;
			continue;
		}
		p->m.run = fanout_run;
		ap_shard_send(s, p->shard, &p->m);
	}
	if (local >= 0) {
		f->parts[local].m.run = fanout_back;
		/* The callback finds its part by shard id. */
		fn(s, f);
		fanout_back(s, &f->parts[local].m);
	}
}

void ap_fanout_redirect(struct ap_shard *home, struct ap_fanout *f, int shard)
{
	AP_ASSERT(f->nparts == 1);
	struct ap_fanout_part *p = &f->parts[0];
	f->first = shard;
	f->remaining = 1;
	p->shard = shard;
	p->count = 0;
	p->num = 0;
	p->cursor = 0;
	if (shard == home->id) {
		f->fn(home, f);
		fanout_back(home, &p->m);
		return;
	}
	p->m.run = fanout_run;
	ap_shard_send(home, shard, &p->m);
}

void ap_fanout_finish(struct ap_shard *home, struct ap_fanout *f)
{
	struct ap_client *c = f->client;
	for (int i = 0; i < f->nparts; i++)
		ap_obuf_deinit(&f->parts[i].out);
	ap_free(f->argv);
	ap_free(f);
	if (c->txn) { /* a whole-keyspace command's locks */
		ap_txn_finish(home, c->txn);
		c->txn = NULL;
	}
	c->flags &= ~AP_CF_WAITING;
	ap_client_msg_back(c);
}
