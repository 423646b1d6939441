/*
 * psnap.c - forkless snapshots of the whole data set (BGSAVE, SAVE, save
 * rules) and log rewrites (BGREWRITEAOF, auto-aof-rewrite-*), which are
 * the same thing here: every shard writes a new base snapshot of its
 * keyspace and, with appendonly, starts a new log at the same instant
 * (docs/persistence.md).
 *
 * One rewrite at a time, coordinated by the shard that started it (its
 * "home"):
 *   1. The home takes every shard's whole-shard lock, exclusive (a global
 *      transaction): no command runs anywhere while the cut is made.
 *   2. Each shard, once its log is written and fsynced up to the cut,
 *      opens its new base (and new log), begins its keyspace snapshot
 *      (core/keyspace.h: an epoch bit per entry, old versions emitted
 *      before their first change) and answers.
 *   3. The home writes the manifest naming the old base, the old logs and
 *      the new log (nothing acknowledged from now on can be lost), then
 *      releases the locks; the shards serve again.
 *   4. Each shard walks its keyspace a budget of entries per tick and
 *      writes the records through its ring; at the end it fsyncs the base
 *      and tells the home. With snapshot-compression (lz4 or zstd, read
 *      when the snapshot starts) the walk's records are packed into
 *      compressed blocks (persist/zblock.c) a bounded amount per tick
 *      before they are written.
 *   5. When every shard is done the home writes the manifest naming only
 *      the new bases and logs, and removes the old files. If a shard
 *      failed, the manifest of step 3 stays (a longer log, nothing lost)
 *      and the new bases are removed.
 * Manifest writes and unlinks are blocking syscalls on the home shard:
 * two per rewrite, off the per-request path.
 *
 * Threading: the rewrite object is the home's; each shard writes only its
 * own slot of it, and hands it back by message (SPSC ordering).
 */
#include "shards/shards_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

/* The walk goes in steps of WALK_STEP entries until AP_SNAPSHOT_TICK_US
 * of the tick are spent (a fixed count of entries cost 10 ms a tick with
 * 1 KB values: every request waited that long); WRITE_AT and
 * BUFFER_LIMIT: when records are written, and how much the write buffer
 * may hold before the walk waits for the disk. */
#define WALK_STEP    64
#define WRITE_AT     (1u << 20)
#define BUFFER_LIMIT (16u << 20)
/* Compressing: raw record bytes packed into blocks per tick (about a
 * quarter of a millisecond of lz4 or zstd -1; higher zstd levels cost
 * more), and the
 * raw bytes not packed yet beyond which the walk waits for the
 * compressor. */
#define PACK_BUDGET (128u << 10)
#define RAW_LIMIT   (2u << 20)

struct rw_slot {
	uint64_t seq;	   /* the new base's and new log's sequence */
	bool started;	   /* the shard made its cut */
	bool log_switched; /* ... and writes its new log */
	uint64_t bytes;	   /* of its base */
	uint64_t dirty;	   /* its change count at the cut */
	bool drop_log;	   /* a first log that must not count */
	int err;	   /* 0, or why the shard's part failed */
};

struct rw_msg {
	struct ap_msg m;
	struct ap_rewrite *rw;
	int shard;
};

struct ap_rewrite {
	struct ap_shard *home;
	struct ap_client *client; /* waiting for the reply, or NULL */
	bool wait_done;		  /* SAVE: reply when complete */
	bool aof;		  /* BGREWRITEAOF (for the reply's words) */
	/* The shards logged before the cut (the manifest names old logs);
	 * else a shard whose config says appendonly opens its first log at
	 * the cut, and the manifest names it once the bases are done
	 * (CONFIG SET appendonly yes, as Redis: the log starts with a
	 * rewrite). */
	bool had_logs;
	uint64_t base_bytes; /* written by the shards (their reports) */
	struct ap_txn *t;
	int cuts_left; /* step 2 answers still to come */
	int started;   /* shards that made their cut */
	int done;      /* step 4 reports in; a shard that walks little may
			  report before another shard's cut is back */
	int64_t start_ms;
	struct rw_slot *slots; /* [nshards] */
	/* [2 * nshards]: shard i's cut answer is msgs[i], its report
	 * msgs[nshards + i] (apart: a shard may report while its cut
	 * answer still waits in a queue). */
	struct rw_msg *msgs;
};

/* --- shard side: the snapshot writer ------------------------------------ */

static void snap_emit(void *arg, unsigned db, const struct ap_entry *e)
{
	struct ap_shard *s = arg;
	if (ap_persist_enc_entry(&s->psnap.enc, db, e) < 0)
		s->psnap.too_big++;
}

static void snap_fail(struct ap_shard *s, int err);
static void snap_pump(struct ap_shard *s);

static void snap_written(void *arg, struct ap_net_file_op *op)
{
	struct ap_shard *s = arg;
	struct ap_psnap *p = &s->psnap;
	p->inflight = false;
	if (op->len > 0) {
		if (op->write_res < 0) {
			snap_fail(s, (int)-op->write_res);
			return;
		}
		p->out_done += (size_t)op->write_res;
		p->off += (uint64_t)op->write_res;
		if (p->out_done == p->out.b.len) {
			ap_persist_enc_clear(&p->out);
			p->out_done = 0;
		}
	}
	if (op->sync) {
		if (op->sync_res < 0) {
			snap_fail(s, -op->sync_res);
			return;
		}
		p->synced = true;
	}
	snap_pump(s);
}

static void snap_submit(struct ap_shard *s, bool sync)
{
	struct ap_psnap *p = &s->psnap;
	struct ap_net_file_op *op = &p->op;
	op->done = snap_written;
	op->arg = s;
	op->fd = p->fd;
	op->buf = p->out.b.p + p->out_done;
	op->len = p->out.b.len - p->out_done;
	op->off = p->off;
	op->sync = sync;
	p->inflight = true;
	ap_net_file_submit(s->loop, op);
}

static void snap_report(struct ap_shard *s);

/* Whether this snapshot compresses (snapshot-compression at its start). */
static bool snap_compresses(const struct ap_psnap *p)
{
	return p->z.codec != AP_PERSIST_CODEC_NONE;
}

/* Records ready to be written: the packed blocks when compressing, else
 * the walk's records themselves. */
static struct ap_persist_enc *snap_ready(struct ap_psnap *p)
{
	return snap_compresses(p) ? &p->zout : &p->enc;
}

/* Packs up to PACK_BUDGET raw bytes of the walk's records into blocks;
 * once the walk is over, the last partial block too. */
static void snap_pack(struct ap_shard *s)
{
	struct ap_psnap *p = &s->psnap;
	if (!p->rw || !snap_compresses(p) ||
	    ap_persist_zenc_pending(&p->z, &p->enc) == 0)
		return;
	bool walked = !ap_keyspace_snap_active(s->ks);
	(void)ap_persist_zenc_pack(&p->z, &p->enc, &p->zout, PACK_BUDGET,
				   walked);
}

/* Moves the snapshot on: writes what is ready (packing the rest first
 * once the walk is over), fsyncs at the end, then reports. One write in
 * flight at a time; its completion calls this again. */
static void snap_pump(struct ap_shard *s)
{
	struct ap_psnap *p = &s->psnap;
	if (!p->rw || p->inflight)
		return;
	if (p->out.b.len > p->out_done) {
		snap_submit(s, false);
		return;
	}
	bool walked = !ap_keyspace_snap_active(s->ks);
	struct ap_persist_enc *ready = snap_ready(p);
	if (walked && ready->b.len == 0)
		snap_pack(s); /* what the ticks left unpacked */
	if (ready->b.len >= WRITE_AT || (walked && ready->b.len > 0)) {
		struct ap_persist_enc t = p->out;
		p->out = *ready;
		*ready = t;
		p->out_done = 0;
		snap_submit(s, false);
		return;
	}
	AP_ASSERT(!walked || ap_persist_zenc_pending(&p->z, &p->enc) == 0);
	if (walked && !p->synced) {
		snap_submit(s, true); /* len 0: the fsync alone */
		return;
	}
	if (walked && p->synced)
		snap_report(s);
}

/* Whether the walk may go on: the records waiting for the disk (and,
 * compressing, for the compressor) are within their bounds. */
static bool snap_room(struct ap_psnap *p)
{
	if (!snap_compresses(p))
		return p->enc.b.len < BUFFER_LIMIT;
	return ap_persist_zenc_pending(&p->z, &p->enc) < RAW_LIMIT &&
	       p->zout.b.len < BUFFER_LIMIT;
}

/* Per loop tick while a snapshot runs: walks for a time budget (unless
 * the disk or the compressor is behind), packs a budget into blocks, and
 * writes. */
void ap_psnap_tick(struct ap_shard *s)
{
	struct ap_psnap *p = &s->psnap;
	uint64_t t0 = ap_time_us();
	while (ap_keyspace_snap_active(s->ks) && snap_room(p)) {
		(void)ap_keyspace_snap_step(s->ks, WALK_STEP);
		if (ap_time_us() - t0 >= AP_SNAPSHOT_TICK_US)
			break;
	}
	snap_pack(s);
	snap_pump(s);
}

static void snap_close(struct ap_shard *s, bool remove)
{
	struct ap_psnap *p = &s->psnap;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (remove) {
		ap_persist_unlink(s->srv, AP_PERSIST_FILE_BASE, (unsigned)s->id,
				  p->seq);
	}
	ap_persist_enc_clear(&p->enc);
	ap_persist_enc_clear(&p->out);
	ap_persist_enc_clear(&p->zout);
	p->out_done = 0;
	if (snap_compresses(p))
		ap_log(AP_LOG_VERBOSE,
		       "shard %d: snapshot records of %llu bytes written as "
		       "%llu blocks (%s) and %llu bytes plain, %llu bytes in "
		       "all",
		       s->id, (unsigned long long)p->z.raw_bytes,
		       (unsigned long long)p->z.blocks,
		       ap_persist_codec_name(p->z.codec),
		       (unsigned long long)p->z.plain_bytes,
		       (unsigned long long)p->off);
	ap_persist_zenc_deinit(&p->z); /* codec none until the next cut */
}

static void snap_fail(struct ap_shard *s, int err)
{
	struct ap_psnap *p = &s->psnap;
	ap_log(AP_LOG_WARNING, "shard %d: snapshot failed: %s", s->id,
	       strerror(err));
	ap_keyspace_snap_abort(s->ks);
	p->rw->slots[s->id].err = err;
	snap_close(s, true);
	snap_report(s);
}

/* --- the cut (step 2), on each shard ------------------------------------ */

static void cut_back(struct ap_shard *home, struct ap_msg *m);
static void done_back(struct ap_shard *home, struct ap_msg *m);

/* The shard's part is over (done or failed): tell the home. */
static void snap_report(struct ap_shard *s)
{
	struct ap_psnap *p = &s->psnap;
	struct ap_rewrite *rw = p->rw;
	rw->slots[s->id].bytes = p->off;
	if (!rw->slots[s->id].err)
		snap_close(s, false);
	p->rw = NULL;
	p->synced = false;
	struct rw_msg *m = &rw->msgs[s->srv->nshards + s->id];
	m->m.home = (uint16_t)rw->home->id;
	m->m.run = done_back;
	if (rw->home == s)
		done_back(s, &m->m);
	else
		ap_shard_send(s, rw->home->id, &m->m);
}

/* Opens the new files and starts the snapshot; the log is drained. */
static int cut_make(struct ap_shard *s, struct ap_rewrite *rw)
{
	struct ap_psnap *p = &s->psnap;
	struct rw_slot *sl = &rw->slots[s->id];
	struct ap_plog *l = &s->plog;
	p->seq = sl->seq;
	char path[AP_PERSIST_PATH_SIZE];
	ap_persist_path(s->srv, AP_PERSIST_FILE_BASE, (unsigned)s->id, p->seq,
			path);
	p->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (p->fd < 0)
		return -errno;
	sl->dirty = ap_keyspace_stats(s->ks)->dirty;
	if (l->stopping) /* appendonly turned off, and drained */
		ap_plog_close(s);
	if (!l->on && s->cfg.appendonly && !rw->had_logs) {
		char err[256];
		int rc = ap_plog_open(s, p->seq, true, err, sizeof(err));
		if (rc < 0) {
			ap_log(AP_LOG_WARNING, "shard %d: %s", s->id, err);
			snap_close(s, true);
			return rc;
		}
		sl->log_switched = true;
	} else if (l->on) {
		char err[256];
		int old_fd = l->fd;
		uint64_t old_seq = l->seq;
		int rc = ap_plog_open(s, p->seq, true, err, sizeof(err));
		if (rc < 0) {
			l->fd = old_fd;
			l->seq = old_seq;
			snap_close(s, true);
			return rc;
		}
		close(old_fd);
		sl->log_switched = true;
	}
	p->off = 0;
	p->synced = false;
	p->rw = rw;
	ap_persist_zenc_init(&p->z,
			     (enum ap_persist_codec)s->cfg.snapshot_compression,
			     s->cfg.snapshot_compression_level);
	bool begun = ap_keyspace_snap_begin(s->ks, snap_emit, s);
	AP_ASSERT(begun); /* one rewrite at a time, and aborts settle */
	sl->started = true;
	return 0;
}

static void cut_run(struct ap_shard *s, struct ap_msg *m)
{
	s->psnap.cut_pending = (struct rw_msg *)m;
	ap_psnap_cut_check(s);
}

void ap_psnap_cut_check(struct ap_shard *s)
{
	struct ap_psnap *p = &s->psnap;
	struct rw_msg *rm = p->cut_pending;
	if (!rm || ((s->plog.on || s->plog.stopping) && !ap_plog_drained(s)))
		return;
	if (ap_keyspace_snap_busy(s->ks))
		return; /* an aborted snapshot still settling */
	p->cut_pending = NULL;
	int rc = cut_make(s, rm->rw);
	if (rc < 0) {
		rm->rw->slots[s->id].err = -rc;
		ap_log(AP_LOG_WARNING, "shard %d: cannot start a snapshot: %s",
		       s->id, strerror(-rc));
	}
	rm->m.run = cut_back;
	if (rm->rw->home == s)
		cut_back(s, &rm->m);
	else
		ap_shard_send(s, rm->rw->home->id, &rm->m);
}

bool ap_psnap_busy(const struct ap_shard *s)
{
	return s->psnap.rw != NULL || s->psnap.cut_pending != NULL;
}

/* --- the home: manifests and completion --------------------------------- */

/* Writes the manifest: with `done` the new bases (and logs) only, else
 * the files before the cut plus the new logs. */
static int write_manifest(struct ap_rewrite *rw, bool done)
{
	struct ap_server *srv = rw->home->srv;
	struct ap_persist_mstate *ms =
		ap_malloc((size_t)srv->nshards * sizeof(*ms));
	for (int i = 0; i < srv->nshards; i++) {
		const struct rw_slot *sl = &rw->slots[i];
		uint64_t log = sl->log_switched ? sl->seq : 0;
		if (done) {
			ms[i] = (struct ap_persist_mstate){sl->seq, log, log};
			continue;
		}
		ms[i] = srv->mstate[i];
		if (log) {
			ms[i].first = ms[i].first ? ms[i].first : log;
			ms[i].last = log;
		}
	}
	int rc = ap_persist_write_mstate(srv, ms);
	ap_free(ms);
	return rc;
}

static void reply_client(struct ap_rewrite *rw, const char *err, const char *ok)
{
	struct ap_client *c = rw->client;
	if (!c)
		return;
	rw->client = NULL;
	if (err)
		ap_reply_error(&c->reply, err);
	else
		ap_reply_status(&c->reply, ok);
	c->flags &= ~AP_CF_WAITING;
	ap_client_msg_back(c);
}

/* A shard drops the first log it opened at a failed cut (see
 * first_logs_settle). */
struct log_drop_msg {
	struct ap_msg m;
	uint64_t seq;
};

static void log_drop_run(struct ap_shard *s, struct ap_msg *m)
{
	struct log_drop_msg *dm = (struct log_drop_msg *)m;
	if (s->plog.on && s->plog.seq == dm->seq)
		ap_plog_stop(s, true);
	ap_free(dm);
}

/* A rewrite that may have opened the shards' first logs (appendonly
 * turned on at run time) is about to name its files: the logs count only
 * if every shard opened one and no shard failed; otherwise none is named
 * (the manifest keeps the data set without logs). */
static void first_logs_check(struct ap_server *srv, struct ap_rewrite *rw,
			     int err)
{
	bool all = true;
	for (int i = 0; i < srv->nshards; i++)
		all &= rw->slots[i].log_switched;
	if (all && !err)
		return;
	for (int i = 0; i < srv->nshards; i++) {
		rw->slots[i].drop_log = rw->slots[i].log_switched;
		rw->slots[i].log_switched = false;
	}
}

/* ... and once the manifest is written: on success the logs count from
 * now on; otherwise the shards stop them and the cron tries again. */
static void first_logs_settle(struct ap_shard *home, struct ap_rewrite *rw,
			      bool ok)
{
	struct ap_server *srv = home->srv;
	bool named = false, dropped = false;
	for (int i = 0; i < srv->nshards; i++) {
		named |= rw->slots[i].log_switched;
		dropped |= rw->slots[i].drop_log;
	}
	if (named && ok) {
		atomic_store(&srv->aof_enabled, 1);
		ap_log(AP_LOG_NOTICE, "The append-only log is on");
		return;
	}
	if (named) /* the manifest could not name them */
		for (int i = 0; i < srv->nshards; i++)
			rw->slots[i].drop_log = rw->slots[i].log_switched;
	else if (!dropped)
		return;
	for (int i = 0; i < srv->nshards; i++) {
		if (!rw->slots[i].drop_log)
			continue;
		srv->mstate[i].first = srv->mstate[i].last = 0;
		struct log_drop_msg *dm = ap_calloc(1, sizeof(*dm));
		dm->m.home = (uint16_t)home->id;
		dm->m.run = log_drop_run;
		dm->seq = rw->slots[i].seq;
		if (i == home->id)
			log_drop_run(home, &dm->m);
		else
			ap_shard_send(home, i, &dm->m);
	}
}

/* Step 5: every shard that started is done (or failed). */
static void rewrite_complete(struct ap_shard *home, struct ap_rewrite *rw)
{
	struct ap_server *srv = home->srv;
	struct ap_persist_mstate *ms = srv->mstate;
	int err = 0;
	for (int i = 0; i < srv->nshards; i++)
		if (rw->slots[i].err)
			err = rw->slots[i].err;
	if (!rw->had_logs)
		first_logs_check(srv, rw, err);
	int rc = err ? -err : write_manifest(rw, true);
	struct ap_persist_unlinks old = {0};
	for (int i = 0; i < srv->nshards; i++) {
		struct rw_slot *sl = &rw->slots[i];
		if (rc == 0) {
			if (ms[i].base)
				ap_persist_unlinks_add(&old, srv,
						       AP_PERSIST_FILE_BASE,
						       (unsigned)i, ms[i].base);
			for (uint64_t q = ms[i].first; q && q <= ms[i].last;
			     q++)
				ap_persist_unlinks_add(&old, srv,
						       AP_PERSIST_FILE_INCR,
						       (unsigned)i, q);
			ms[i].base = sl->seq;
			ms[i].first = ms[i].last =
				sl->log_switched ? sl->seq : 0;
		} else {
			if (sl->started && !sl->err)
				ap_persist_unlinks_add(&old, srv,
						       AP_PERSIST_FILE_BASE,
						       (unsigned)i, sl->seq);
			if (sl->log_switched)
				ms[i].last = sl->seq;
		}
	}
	ap_persist_unlinks_run(&old);
	if (!rw->had_logs)
		first_logs_settle(home, rw, rc == 0);
	int64_t took = ap_unix_ms() - rw->start_ms;
	if (rc == 0)
		atomic_store(&srv->aof_base_size, rw->base_bytes);
	if (rc == 0) {
		atomic_store(&srv->lastsave_s, ap_unix_ms() / 1000);
		ap_log(AP_LOG_NOTICE, "Snapshot of %d shard%s done in %lld ms",
		       srv->nshards, srv->nshards > 1 ? "s" : "",
		       (long long)took);
	} else {
		ap_log(AP_LOG_WARNING, "Snapshot failed: %s", strerror(-rc));
	}
	atomic_store(&srv->snap_last_ms, took);
	atomic_store(&srv->snap_status, rc == 0 ? 0 : -rc);
	atomic_fetch_add(&srv->snap_count, 1);
	if (rw->wait_done)
		reply_client(rw,
			     rc ? "ERR snapshot failed (see the log)" : NULL,
			     "OK");
	ap_psnap_rewrite_free(rw);
	srv->rewrite = NULL;
	atomic_store(&srv->snap_busy, 0);
	if (atomic_exchange(&srv->snap_scheduled, 0))
		(void)ap_psnap_start(home, NULL, false, false);
}

void ap_psnap_rewrite_free(struct ap_rewrite *rw)
{
	ap_free(rw->slots);
	ap_free(rw->msgs);
	ap_free(rw);
}

static void done_back(struct ap_shard *home, struct ap_msg *m)
{
	struct rw_msg *rm = (struct rw_msg *)m;
	struct ap_rewrite *rw = rm->rw;
	rw->base_bytes += rw->slots[rm->shard].bytes;
	if (++rw->done == rw->started && rw->cuts_left == 0)
		rewrite_complete(home, rw);
}

static void cut_back(struct ap_shard *home, struct ap_msg *m)
{
	struct ap_rewrite *rw = ((struct rw_msg *)m)->rw;
	struct ap_server *srv = home->srv;
	if (--rw->cuts_left > 0)
		return;
	int err = 0;
	uint64_t dirty = 0;
	for (int i = 0; i < srv->nshards; i++) {
		if (rw->slots[i].err)
			err = rw->slots[i].err;
		rw->started += rw->slots[i].started;
		dirty += rw->slots[i].dirty;
	}
	/* Exact: the save rules count changes after this instant. */
	atomic_store(&srv->dirty_at_save, dirty);
	/* Step 3: the new logs are named before anything is written to
	 * them. If this fails, the shards stop logging into unnamed files:
	 * the log's error path (MISCONF) takes over. */
	if (rw->had_logs) {
		int rc = write_manifest(rw, false);
		if (rc < 0) {
			err = -rc;
			ap_log(AP_LOG_WARNING,
			       "cannot write the manifest: %s; writes are "
			       "refused until a snapshot succeeds",
			       strerror(-rc));
			atomic_store(&srv->persist_errno, -rc);
			atomic_fetch_add(&srv->persist_errors, 1);
			srv->manifest_broken = true;
		} else if (srv->manifest_broken) {
			srv->manifest_broken = false;
			atomic_fetch_sub(&srv->persist_errors, 1);
		}
	}
	ap_txn_finish(home, rw->t);
	rw->t = NULL;
	if (err)
		rw->slots[home->id].err = rw->slots[home->id].err ?: err;
	if (!rw->wait_done)
		reply_client(rw, NULL,
			     rw->aof ? "Background append only file "
				       "rewriting started"
				     : "Background saving started");
	if (rw->done == rw->started) /* every report is in already */
		rewrite_complete(home, rw);
}

/* Step 1 done: every shard is locked; ask each for its cut. */
static void rewrite_locked(struct ap_shard *home, struct ap_txn *t)
{
	struct ap_rewrite *rw = t->arg;
	struct ap_server *srv = home->srv;
	rw->cuts_left = srv->nshards;
	for (int i = 0; i < srv->nshards; i++) {
		struct rw_msg *m = &rw->msgs[i];
		m->m.home = (uint16_t)home->id;
		m->m.run = cut_run;
		if (i == home->id)
			continue;
		ap_shard_send(home, i, &m->m);
	}
	cut_run(home, &rw->msgs[home->id].m);
}

bool ap_psnap_start(struct ap_shard *home, struct ap_client *c, bool aof,
		    bool wait_done)
{
	struct ap_server *srv = home->srv;
	int expected = 0;
	if (!atomic_compare_exchange_strong(&srv->snap_busy, &expected, 1))
		return false;
	if (mkdir(srv->persist_dir, 0755) < 0 && errno != EEXIST)
		ap_log(AP_LOG_WARNING, "cannot create %s: %s", srv->persist_dir,
		       strerror(errno)); /* each shard's open reports it */
	struct ap_rewrite *rw = ap_calloc(1, sizeof(*rw));
	srv->rewrite = rw; /* freed by the server if it stops first */
	rw->home = home;
	rw->client = c;
	rw->aof = aof;
	rw->wait_done = wait_done;
	rw->start_ms = ap_unix_ms();
	atomic_store(&srv->snap_try_ms, rw->start_ms);
	rw->had_logs = atomic_load(&srv->aof_enabled);
	rw->slots = ap_calloc((size_t)srv->nshards, sizeof(*rw->slots));
	rw->msgs = ap_calloc(2 * (size_t)srv->nshards, sizeof(*rw->msgs));
	for (int i = 0; i < srv->nshards; i++) {
		struct ap_persist_mstate *ms = &srv->mstate[i];
		uint64_t max = ms->base > ms->last ? ms->base : ms->last;
		rw->slots[i].seq = max + 1;
	}
	for (int i = 0; i < 2 * srv->nshards; i++) {
		rw->msgs[i].rw = rw;
		rw->msgs[i].shard = i % srv->nshards;
	}
	if (c) {
		c->flags |= AP_CF_WAITING;
		c->inflight++;
	}
	rw->t = ap_txn_create(home, NULL);
	rw->t->arg = rw;
	ap_txn_set_global(rw->t, AP_TXN_GLOBAL_EXCL);
	ap_txn_start(home, rw->t, rewrite_locked);
	return true;
}

void ap_psnap_init(struct ap_shard *s)
{
	struct ap_psnap *p = &s->psnap;
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	ap_persist_enc_init(&p->enc);
	ap_persist_enc_init(&p->out);
	ap_persist_enc_init(&p->zout);
	/* zeroed above: codec none, nothing allocated */
}

void ap_psnap_stop(struct ap_shard *s)
{
	struct ap_psnap *p = &s->psnap;
	if (!p->rw)
		return;
	ap_keyspace_snap_abort(s->ks);
	for (int i = 0; i < 1000 && p->inflight; i++)
		ap_net_loop_run_once(s->loop, 10000);
	snap_close(s, true);
	p->rw = NULL;
}

void ap_psnap_deinit(struct ap_shard *s)
{
	ap_persist_enc_deinit(&s->psnap.enc);
	ap_persist_enc_deinit(&s->psnap.out);
	ap_persist_enc_deinit(&s->psnap.zout);
	ap_persist_zenc_deinit(&s->psnap.z);
}

/* Redis's retry delay after a failed background save. */
#define RETRY_AFTER_FAIL_MS 5000

/* Is a save rule ("secs changes ...") met? */
static bool save_rule_met(const char *rules, int64_t since_s, uint64_t dirty)
{
	const char *p = rules;
	while (*p) {
		char *end;
		long long secs = strtoll(p, &end, 10);
		if (end == p)
			return false;
		long long changes = strtoll(end, &end, 10);
		p = end;
		while (*p == ' ')
			p++;
		if (since_s >= secs && dirty >= (uint64_t)changes)
			return true;
	}
	return false;
}

void ap_psnap_cron(struct ap_shard *s)
{
	struct ap_server *srv = s->srv;
	if (atomic_load(&srv->snap_busy))
		return;
	int64_t now = s->now_ms;
	if (atomic_load(&srv->snap_status) &&
	    now - atomic_load(&srv->snap_try_ms) < RETRY_AFTER_FAIL_MS)
		return;
	uint64_t dirty = 0, aof = 0;
	for (int i = 0; i < srv->nshards; i++) {
		dirty += atomic_load_explicit(&srv->shards[i].pub_dirty,
					      memory_order_relaxed);
		aof += atomic_load_explicit(&srv->shards[i].pub_aof_size,
					    memory_order_relaxed);
	}
	uint64_t at_save = atomic_load(&srv->dirty_at_save);
	uint64_t changed = dirty > at_save ? dirty - at_save : 0;
	int64_t since_s = now / 1000 - atomic_load(&srv->lastsave_s);
	if (s->cfg.save[0] && changed > 0 &&
	    save_rule_met(s->cfg.save, since_s, changed)) {
		ap_log(AP_LOG_NOTICE, "%llu changes in %lld seconds. Saving...",
		       (unsigned long long)changed, (long long)since_s);
		(void)ap_psnap_start(s, NULL, false, false);
		return;
	}
	uint64_t base = atomic_load(&srv->aof_base_size);
	if (s->cfg.appendonly && !atomic_load(&srv->aof_enabled)) {
		ap_log(AP_LOG_NOTICE,
		       "Turning the append-only log on: a rewrite of the data "
		       "in memory starts it");
		(void)ap_psnap_start(s, NULL, true, false);
		return;
	}
	int pct = s->cfg.auto_aof_rewrite_pct;
	uint64_t total = base + aof;
	if (s->cfg.appendonly && pct > 0 &&
	    total >= (uint64_t)s->cfg.auto_aof_rewrite_min &&
	    (base == 0 || (total - base) * 100 / base >= (uint64_t)pct)) {
		ap_log(AP_LOG_NOTICE,
		       "Starting automatic rewriting of the append-only log "
		       "(%llu bytes, %d%% growth)",
		       (unsigned long long)total,
		       base ? (int)((total - base) * 100 / base) : 0);
		(void)ap_psnap_start(s, NULL, true, false);
	}
}

/* --- commands ------------------------------------------------------------ */

static void start_cmd(struct ap_cmd_ctx *c, bool aof, bool wait_done)
{
	if (!ap_psnap_start(c->client->shard, c->client, aof, wait_done))
		ap_reply_error(c->r,
			       aof ? "ERR Background append only file "
				     "rewriting already in progress"
				   : "ERR Background save already in progress");
}

static void cmd_bgsave(struct ap_cmd_ctx *c)
{
	if (c->argc == 2 && !ap_arg_eq(&c->argv[1], "schedule")) {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
		return;
	}
	if (c->argc == 2 && atomic_load(&c->server->snap_busy)) {
		/* SCHEDULE: runs right after the one under way. */
		atomic_store(&c->server->snap_scheduled, 1);
		ap_reply_status(c->r, "Background saving scheduled");
		return;
	}
	start_cmd(c, false, false);
}

static void cmd_save(struct ap_cmd_ctx *c)
{
	start_cmd(c, false, true);
}

static void cmd_bgrewriteaof(struct ap_cmd_ctx *c)
{
	start_cmd(c, true, false);
}

static void cmd_lastsave(struct ap_cmd_ctx *c)
{
	ap_reply_int(c->r, atomic_load(&c->server->lastsave_s));
}

/* clang-format off */
const struct ap_cmd ap_cmds_persist[] = {
	{.name = "bgsave", .arity = -1,
	 .flags = AP_CMD_SERVER | AP_CMD_ADMIN | AP_CMD_NOSCRIPT,
	 .fn = cmd_bgsave, .group = "server",
	 .summary = "Asynchronously saves the database(s) to disk.",
	 .since = "1.0.0", .complexity = "O(1)",
	 .acl_categories = "@admin @slow @dangerous"},
	{.name = "save", .arity = 1,
	 .flags = AP_CMD_SERVER | AP_CMD_ADMIN | AP_CMD_NOSCRIPT |
		  AP_CMD_NO_MULTI,
	 .fn = cmd_save, .group = "server",
	 .summary = "Synchronously saves the database(s) to disk.",
	 .since = "1.0.0",
	 .complexity = "O(N) where N is the total number of keys in all "
		       "databases",
	 .acl_categories = "@admin @slow @dangerous"},
	{.name = "bgrewriteaof", .arity = 1,
	 .flags = AP_CMD_SERVER | AP_CMD_ADMIN | AP_CMD_NOSCRIPT,
	 .fn = cmd_bgrewriteaof, .group = "server",
	 .summary = "Asynchronously rewrites the append-only file to disk.",
	 .since = "1.0.0", .complexity = "O(1)",
	 .acl_categories = "@admin @slow @dangerous"},
	{.name = "lastsave", .arity = 1,
	 .flags = AP_CMD_SERVER | AP_CMD_LOADING | AP_CMD_STALE |
		  AP_CMD_FAST,
	 .fn = cmd_lastsave, .group = "server",
	 .summary = "Returns the Unix timestamp of the last successful save "
		    "to disk.",
	 .since = "1.0.0", .complexity = "O(1)",
	 .acl_categories = "@admin @fast @dangerous"},
	{.name = NULL},
};
/* clang-format on */
