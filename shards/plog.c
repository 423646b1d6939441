/*
 * plog.c - a shard's append-only log: the records its commands produce,
 * written through the shard's own ring once per tick, made durable as
 * `appendfsync` says, and the replies that must wait for that
 * (docs/persistence.md, "Durability").
 *
 * Records go into `cur` while the shard runs commands. At the end of the
 * tick (ap_plog_tick, before messages are published and sends submitted)
 * `cur` becomes `out` and one write is submitted for it, linked to an
 * fdatasync under `always`; records of later ticks gather in `cur` until
 * it completes, so one write and one fsync cover every client of a tick
 * and of the ticks that came while it was in flight (group commit).
 *
 * Under `always` a reply leaves only once the records before it are
 * durable: a connection's output and every message to another shard are
 * tagged with the log's end offset when they would leave and held until
 * `durable` reaches it. Reads are held the same way while records are in
 * flight, so no client sees a write before it is durable.
 *
 * Faults: a failed or short write, or a failed fsync, marks the shard in
 * error (write commands then answer -MISCONF on every shard) and the
 * write is retried each second from the last byte known written (after a
 * failed fsync, from the last byte known durable, since the kernel may
 * have dropped the dirty pages). Nothing acknowledged is lost: what
 * waits for durability keeps waiting.
 *
 * A multi-shard EXEC's records go to a side part per EXEC (rec_dst) while
 * its commands run, and join the log as one transaction part when the
 * EXEC ends (ap_plog_exec_commit; multi.c drives it).
 *
 * Threading: all of it belongs to the shard's thread, except the server's
 * error count (atomic), read by every shard's dispatcher, and the bit a
 * shard sets in an EXEC's mask (atomic, read by the EXEC's home).
 */
#include "shards/shards_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RETRY_MS 1000

static void plog_submit(struct ap_shard *s);

/* --- recording ----------------------------------------------------------- */

static void prop_cmd(void *arg, unsigned db, int argc,
		     const struct ap_arg *argv)
{
	ap_plog_cmd(arg, db, argc, argv);
}

const struct ap_cmd_prop_ops ap_plog_prop_ops = {.cmd = prop_cmd};

/* A record could not be encoded (bigger than a record may be): the
 * change is in memory but cannot be logged. Counted and logged; the log
 * stays consistent up to it. */
static void record_too_big(struct ap_shard *s, const char *what)
{
	s->plog.too_big++;
	ap_log(AP_LOG_WARNING,
	       "shard %d: a %s record exceeds the largest log record; "
	       "the change is not in the append-only log",
	       s->id, what);
}

/* One EXEC's records on this shard, waiting for the EXEC to end. */
struct ap_plog_side {
	uint64_t txid;
	struct ap_persist_enc enc; /* a detached part */
	struct ap_plog_side *next;
};

/* The side part of EXEC x here, opened (and this shard's bit set in its
 * mask) on first use. */
static struct ap_persist_enc *side_of(struct ap_shard *s, struct ap_exec_log *x)
{
	struct ap_plog *l = &s->plog;
	for (struct ap_plog_side *sd = l->sides; sd; sd = sd->next)
		if (sd->txid == x->txid)
			return &sd->enc;
	struct ap_plog_side *sd = ap_malloc(sizeof(*sd));
	sd->txid = x->txid;
	ap_persist_enc_init(&sd->enc);
	ap_persist_enc_txn_detach(&sd->enc, x->txid);
	sd->next = l->sides;
	l->sides = sd;
	atomic_fetch_or(&x->mask[s->id / 64], 1ull << (s->id % 64));
	return &sd->enc;
}

/* Where the next record goes: the log, or the running EXEC's part. */
static inline struct ap_persist_enc *rec_dst(struct ap_shard *s)
{
	if (AP_LIKELY(s->plog.xlog == NULL))
		return &s->plog.cur;
	return side_of(s, s->plog.xlog);
}

/* Bytes were appended to dst since it held `before`: the log's end moves
 * when dst is the log itself. */
static void appended(struct ap_plog *l, const struct ap_persist_enc *dst,
		     size_t before)
{
	if (dst != &l->cur)
		return;
	l->end += l->cur.b.len - before;
	l->wrote = true;
}

void ap_plog_cmd(struct ap_shard *s, unsigned db, int argc,
		 const struct ap_arg *argv)
{
	struct ap_persist_enc *dst = rec_dst(s);
	size_t before = dst->b.len;
	if (ap_persist_enc_cmd(dst, db, argc, argv) < 0)
		record_too_big(s, "command");
	appended(&s->plog, dst, before);
}

void ap_plog_entry(struct ap_shard *s, unsigned db, const struct ap_entry *e)
{
	struct ap_persist_enc *dst = rec_dst(s);
	size_t before = dst->b.len;
	if (ap_persist_enc_entry(dst, db, e) < 0)
		record_too_big(s, "value");
	appended(&s->plog, dst, before);
}

void ap_plog_del(struct ap_shard *s, unsigned db, const char *key, size_t klen)
{
	struct ap_persist_enc *dst = rec_dst(s);
	size_t before = dst->b.len;
	ap_persist_enc_del(dst, db, key, klen);
	appended(&s->plog, dst, before);
}

/* The shard ids of mask, ascending. Returns how many. */
static unsigned mask_ids(const struct ap_shard *s, const uint64_t *mask,
			 uint16_t *ids)
{
	unsigned n = 0;
	for (unsigned i = 0; i < (unsigned)s->srv->nshards; i++)
		if (mask[i / 64] >> (i % 64) & 1)
			ids[n++] = (uint16_t)i;
	return n;
}

/* Inside an EXEC the EXEC's part holds everything: a split or gather part
 * run for it opens none of its own. */
void ap_plog_part_begin(struct ap_shard *s, uint64_t txid, const uint64_t *mask)
{
	struct ap_plog *l = &s->plog;
	if (l->xlog)
		return;
	uint16_t ids[AP_SHARDS_MAX];
	unsigned n = mask_ids(s, mask, ids);
	AP_ASSERT(n > 0 && txid != 0);
	size_t before = l->cur.b.len;
	ap_persist_enc_txn_begin(&l->cur, txid, ids, n);
	appended(l, &l->cur, before);
}

void ap_plog_part_end(struct ap_shard *s)
{
	struct ap_plog *l = &s->plog;
	if (l->xlog)
		return;
	size_t before = l->cur.b.len;
	ap_persist_enc_txn_end(&l->cur);
	appended(l, &l->cur, before);
}

void ap_plog_exec_commit(struct ap_shard *s, uint64_t txid,
			 const uint64_t *mask)
{
	struct ap_plog *l = &s->plog;
	struct ap_plog_side **pp = &l->sides;
	while (*pp && (*pp)->txid != txid)
		pp = &(*pp)->next;
	struct ap_plog_side *sd = *pp;
	AP_ASSERT(sd != NULL && l->xlog == NULL);
	*pp = sd->next;
	if (!l->on && !l->stopping) { /* appendonly went off meanwhile */
		ap_persist_enc_deinit(&sd->enc);
		ap_free(sd);
		return;
	}
	uint16_t ids[AP_SHARDS_MAX];
	unsigned n = mask_ids(s, mask, ids);
	AP_ASSERT(n > 0);
	size_t before = l->cur.b.len;
	ap_persist_enc_txn_splice(&l->cur, &sd->enc, ids, n);
	appended(l, &l->cur, before);
	ap_persist_enc_deinit(&sd->enc);
	ap_free(sd);
}

uint64_t ap_plog_txid(struct ap_shard *s)
{
	return atomic_fetch_add(&s->srv->next_txn_id, 1);
}

void ap_plog_fanout_cmd(struct ap_shard *s, const struct ap_fanout *f,
			unsigned db, int argc, const struct ap_arg *argv)
{
	if (!s->plog.on)
		return;
	if (f->xlog) { /* inside an EXEC: its part */
		ap_plog_exec_enter(s, f->xlog);
		ap_plog_cmd(s, db, argc, argv);
		ap_plog_exec_leave(s);
		return;
	}
	if (!f->txid) {
		ap_plog_cmd(s, db, argc, argv);
		return;
	}
	uint64_t mask[AP_SHARDS_MAX / 64] = {0};
	for (int i = 0; i < s->srv->nshards; i++)
		mask[i / 64] |= 1ull << (i % 64);
	ap_plog_part_begin(s, f->txid, mask);
	ap_plog_cmd(s, db, argc, argv);
	ap_plog_part_end(s);
}

void ap_plog_exec_after(struct ap_shard *s, struct ap_cmd_ctx *ctx)
{
	if (ctx->dirty && !ctx->propagated)
		ap_plog_cmd(s, ctx->db_idx, ctx->argc, ctx->argv);
}

/* --- holding replies until durable --------------------------------------- */

static void release_held(struct ap_shard *s);

bool ap_plog_hold_client(struct ap_shard *s, struct ap_client *c)
{
	struct ap_plog *l = &s->plog;
	c->durable_need = l->end;
	if (c->flags & AP_CF_DURABLE_WAIT)
		return true;
	c->flags |= AP_CF_DURABLE_WAIT;
	c->held_next = NULL;
	if (l->held_tail)
		l->held_tail->held_next = c;
	else
		l->held_head = c;
	l->held_tail = c;
	c->inflight++; /* the hold keeps c alive */
	return true;
}

void ap_plog_hold_msg(struct ap_shard *s, int to, struct ap_msg *m)
{
	struct ap_plog *l = &s->plog;
	m->held_to = (uint16_t)to;
	m->held_need = l->end;
	m->next = NULL;
	if (l->msg_tail)
		l->msg_tail->next = m;
	else
		l->msg_head = m;
	l->msg_tail = m;
}

/* Sends what was waiting for bytes up to l->durable. */
static void release_held(struct ap_shard *s)
{
	struct ap_plog *l = &s->plog;
	while (l->msg_head && l->msg_head->held_need <= l->durable) {
		struct ap_msg *m = l->msg_head;
		l->msg_head = m->next;
		if (!l->msg_head)
			l->msg_tail = NULL;
		ap_shard_send_now(s, m->held_to, m);
	}
	struct ap_client **pp = &l->held_head;
	l->held_tail = NULL;
	while (*pp) {
		struct ap_client *c = *pp;
		/* While the log fails, a client waits only for its own
		 * writes (see ap_plog_must_hold_client). */
		uint64_t need = l->err ? c->own_need : c->durable_need;
		if (need > l->durable) {
			l->held_tail = c;
			pp = &c->held_next;
			continue;
		}
		*pp = c->held_next;
		c->flags &= ~AP_CF_DURABLE_WAIT;
		if (ap_client_msg_done(c))
			ap_client_flush_durable(c);
	}
}

/* --- writing ---------------------------------------------------------------
 */

static void set_error(struct ap_shard *s, int err, const char *what)
{
	struct ap_plog *l = &s->plog;
	if (!l->err) {
		atomic_fetch_add(&s->srv->persist_errors, 1);
		ap_log(AP_LOG_WARNING,
		       "shard %d: append-only log %s failed: %s; write "
		       "commands are refused until it succeeds",
		       s->id, what, strerror(err));
	}
	l->err = err;
	atomic_store(&s->srv->persist_errno, err);
	l->retry_ms = s->now_ms + RETRY_MS;
	l->write_errors++;
	release_held(s); /* readers go on; writers keep waiting */
}

static void clear_error(struct ap_shard *s)
{
	struct ap_plog *l = &s->plog;
	if (!l->err)
		return;
	l->err = 0;
	atomic_fetch_sub(&s->srv->persist_errors, 1);
	ap_log(AP_LOG_NOTICE, "shard %d: append-only log writes work again",
	       s->id);
}

/* The write (and fsync) of out[out_done..) completed. */
static void on_written(void *arg, struct ap_net_file_op *op)
{
	struct ap_shard *s = arg;
	struct ap_plog *l = &s->plog;
	l->inflight = false;
	if (op->len > 0) {
		if (op->write_res > 0)
			l->out_done += (size_t)op->write_res;
		if (op->write_res < 0) {
			set_error(s, (int)-op->write_res, "write");
			return;
		}
		if (l->out_done < l->out.b.len) {
			/* Short: the rest now (ENOSPC shows up as an error on
			 * the next try). */
			plog_submit(s);
			return;
		}
		l->written = l->out_off + l->out.b.len;
		l->stat_bytes += l->out.b.len;
		l->stat_writes++;
	}
	if (op->sync) {
		if (op->sync_res < 0) {
			/* The kernel may have dropped the pages: write the
			 * bytes since the last durable point again. */
			set_error(s, -op->sync_res, "fsync");
			if (l->out_keep) {
				l->out_done = 0;
				l->written = l->out_off;
			}
			return;
		}
		l->stat_fsyncs++;
		l->synced = op->len > 0 ? l->written : l->sync_target;
		l->last_sync_ms = s->now_ms;
	}
	clear_error(s);
	/* Under always every op ends in an fsync; otherwise nothing waits. */
	l->durable = l->always ? l->synced : l->end;
	if (op->len > 0 || !l->out_keep) {
		ap_persist_enc_clear(&l->out);
		l->out_done = 0;
		l->out_keep = false;
	}
	release_held(s);
	if (AP_UNLIKELY(s->psnap.cut_pending != NULL))
		ap_psnap_cut_check(s);
}

/* Submits the write of out from out_done (and its fsync). */
static void plog_submit(struct ap_shard *s)
{
	struct ap_plog *l = &s->plog;
	struct ap_net_file_op *op = &l->op;
	op->done = on_written;
	op->arg = s;
	op->fd = l->fd;
	op->buf = l->out.b.p + l->out_done;
	op->len = l->out.b.len - l->out_done;
	op->off = l->out_off + l->out_done;
	op->sync = l->always ||
		   (l->everysec && s->now_ms - l->last_sync_ms >= 1000);
	l->out_keep = l->always;
	l->inflight = true;
	ap_net_file_submit(s->loop, op);
}

/* An fsync alone (everysec): what was written reaches the disk. */
static void plog_sync_only(struct ap_shard *s)
{
	struct ap_plog *l = &s->plog;
	struct ap_net_file_op *op = &l->op;
	op->done = on_written;
	op->arg = s;
	op->fd = l->fd;
	op->buf = NULL;
	op->len = 0;
	op->off = 0;
	op->sync = true;
	l->sync_target = l->written;
	l->inflight = true;
	ap_net_file_submit(s->loop, op);
}

void ap_plog_tick(struct ap_shard *s)
{
	struct ap_plog *l = &s->plog;
	if (l->inflight)
		return;
	if (AP_UNLIKELY(l->stopping) && ap_plog_drained(s)) {
		ap_plog_close(s); /* everything recorded is on disk */
		return;
	}
	if (AP_UNLIKELY(l->err) && s->now_ms < l->retry_ms)
		return;
	if (l->out.b.len > l->out_done) { /* a retry after an error */
		plog_submit(s);
		return;
	}
	if (AP_UNLIKELY(l->err) && l->cur.b.len == 0) {
		plog_sync_only(s); /* a failed fsync: try it again */
		return;
	}
	if (l->cur.b.len == 0) {
		/* everysec, or a snapshot's cut waiting for the log. */
		if (l->written > l->synced &&
		    ((l->everysec && s->now_ms - l->last_sync_ms >= 1000) ||
		     s->psnap.cut_pending))
			plog_sync_only(s);
		return;
	}
	AP_ASSERT(!ap_persist_enc_in_part(&l->cur));
	struct ap_persist_enc t = l->out;
	l->out_off = l->end - l->cur.b.len;
	l->out = l->cur;
	l->cur = t;
	l->out_done = 0;
	plog_submit(s);
}

bool ap_plog_drained(const struct ap_shard *s)
{
	const struct ap_plog *l = &s->plog;
	return !l->inflight && l->cur.b.len == 0 &&
	       l->out.b.len == l->out_done && l->synced == l->written &&
	       !l->err;
}

bool ap_plog_busy(const struct ap_shard *s)
{
	const struct ap_plog *l = &s->plog;
	return (l->on || l->stopping) &&
	       (l->inflight || l->cur.b.len > 0 || l->out.b.len > l->out_done ||
		l->msg_head || l->held_head);
}

/* --- files ------------------------------------------------------------------
 */

static void on_expire(void *arg, unsigned db, const char *key, size_t klen)
{
	ap_plog_del(arg, db, key, klen);
}

int ap_plog_open(struct ap_shard *s, uint64_t seq, bool fresh, char *err,
		 size_t err_size)
{
	struct ap_plog *l = &s->plog;
	char path[AP_PERSIST_PATH_SIZE];
	ap_persist_path(s->srv, AP_PERSIST_FILE_INCR, (unsigned)s->id, seq,
			path);
	int fd = open(path,
		      O_WRONLY | O_CREAT | O_CLOEXEC | (fresh ? O_TRUNC : 0),
		      0644);
	if (fd < 0) {
		snprintf(err, err_size, "cannot open %s: %s", path,
			 strerror(errno));
		return -errno;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		snprintf(err, err_size, "cannot stat %s: %s", path,
			 strerror(e));
		return -e;
	}
	memcpy(l->path, path, sizeof(path));
	ap_persist_enc_clear(&l->cur); /* nothing of an earlier log */
	l->fd = fd;
	l->seq = seq;
	ap_keyspace_set_expire_hook(s->ks, on_expire, s);
	l->end = l->written = l->synced = l->durable = (uint64_t)st.st_size;
	l->on = true;
	l->always = strcmp(s->cfg.appendfsync, "always") == 0;
	l->everysec = strcmp(s->cfg.appendfsync, "everysec") == 0;
	l->last_sync_ms = ap_unix_ms();
	return 0;
}

void ap_plog_init(struct ap_shard *s)
{
	struct ap_plog *l = &s->plog;
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	ap_persist_enc_init(&l->cur);
	ap_persist_enc_init(&l->out);
}

void ap_plog_close(struct ap_shard *s)
{
	struct ap_plog *l = &s->plog;
	/* Everything recorded goes out, synchronously: the loop is done. */
	for (int i = 0; i < 1000 && ap_plog_busy(s); i++) {
		ap_plog_tick(s);
		ap_net_loop_run_once(s->loop, l->inflight ? 10000 : 0);
		s->now_ms = ap_unix_ms();
		if (l->err)
			l->retry_ms = 0;
	}
	if (l->fd >= 0) {
		if (fdatasync(l->fd) < 0)
			ap_log(AP_LOG_WARNING, "shard %d: fsync %s: %s", s->id,
			       l->path, strerror(errno));
		close(l->fd);
		l->fd = -1;
		if (l->remove_at_close && unlink(l->path) < 0)
			ap_log(AP_LOG_WARNING, "shard %d: cannot remove %s: %s",
			       s->id, l->path, strerror(errno));
	}
	if (l->err)
		atomic_fetch_sub(&s->srv->persist_errors, 1);
	l->err = 0;
	l->on = false;
	l->stopping = false;
	l->remove_at_close = false;
}

void ap_plog_stop(struct ap_shard *s, bool remove)
{
	struct ap_plog *l = &s->plog;
	if (!l->on)
		return;
	l->on = false;
	l->stopping = true;
	l->remove_at_close = remove;
	ap_keyspace_set_expire_hook(s->ks, NULL, NULL);
	if (ap_plog_drained(s))
		ap_plog_close(s);
}

void ap_plog_deinit(struct ap_shard *s)
{
	struct ap_plog *l = &s->plog;
	while (l->sides) { /* EXECs cut short by the stop: never logged */
		struct ap_plog_side *sd = l->sides;
		l->sides = sd->next;
		ap_persist_enc_deinit(&sd->enc);
		ap_free(sd);
	}
	ap_persist_enc_deinit(&l->cur);
	ap_persist_enc_deinit(&l->out);
}
