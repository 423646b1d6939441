/*
 * shards_int.h - internals of the shards module (shards/ only).
 *
 * Ownership: a struct ap_shard, its loop, keyspace, clients and messages in
 * its outboxes belong to its thread. The only fields other threads touch
 * are the atomics marked "shared" below.
 *
 * Messages: every cross-thread interaction is a struct ap_msg sent through
 * the mesh; the receiver calls msg->run(receiver, msg). A request that
 * needs an answer is sent back the same way with another run function (a
 * "hop": there and back). A message is owned by whoever holds it; the one
 * that finishes with it frees it (mimalloc frees across threads).
 */
#ifndef AP_SHARDS_INT_H
#define AP_SHARDS_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "core/base.h"
#include "core/cmd.h"
#include "core/config.h"
#include "core/keyspace.h"
#include "core/limits.h"
#include "core/reply.h"
#include "net/net.h"
#include "net/resp.h"
#include "persist/persist.h"
#include "shards/shards.h"
#include "shards/spsc.h"

struct ap_shard;
struct ap_msg;

typedef void ap_msg_fn(struct ap_shard *s, struct ap_msg *m);

struct ap_msg {
	ap_msg_fn *run;
	struct ap_msg *next; /* spill list, or the log's held list */
	uint16_t from;	     /* sender shard */
	uint16_t home;	     /* shard that started the exchange */
	uint16_t held_to;    /* held until durable (plog.c): destination */
	uint64_t held_need;  /* ... and the log offset it waits for */
};

/* A shard's append-only log (plog.c). Offsets are byte offsets in the
 * current log file. */
/* Room for the path of a data set file: dir/appenddirname/name. */
#define AP_PERSIST_DIR_SIZE  (AP_CONFIG_STR_MAX * 2 + 2)
#define AP_PERSIST_PATH_SIZE (AP_PERSIST_DIR_SIZE + AP_PERSIST_FILE_NAME_SIZE)

/* A shard's snapshot writer (psnap.c). */
struct ap_rewrite;
struct rw_msg;
struct ap_psnap {
	struct ap_rewrite *rw;	    /* the rewrite being written, or NULL */
	struct rw_msg *cut_pending; /* asked to cut once the log drains */
	int fd;
	uint64_t seq; /* the base being written */
	uint64_t off;
	struct ap_persist_enc enc; /* records of the walk */
	struct ap_persist_enc out; /* being written */
	/* snapshot-compression (not "no"): enc's records packed into
	 * compressed blocks, waiting to be written */
	struct ap_persist_enc zout;
	struct ap_persist_zenc z;
	size_t out_done;
	bool inflight;
	bool synced;
	struct ap_net_file_op op;
	uint64_t too_big; /* entries too big for a record */
};

/* The files of the data set per shard, as the manifest names them: the
 * base snapshot (0: none) and the logs first..last (0: none). Owned by
 * start-up, then by the one rewrite running (srv->snap_busy). */
struct ap_persist_mstate {
	uint64_t base, first, last;
};

struct ap_client;
/* A multi-shard EXEC's records (plog.c, multi.c). While it runs, every
 * shard that takes part records its changes apart (a detached part, see
 * ap_persist_enc_txn_detach), not in its log; when the EXEC ends, before
 * its locks are released, each such shard appends them to its log as one
 * part of transaction txid over every shard in mask. Owned by the EXEC's
 * home; a shard sets its bit (atomic) the first time it records for it,
 * and the home reads the mask once every reply came back. */
struct ap_exec_log {
	uint64_t txid;
	_Atomic uint64_t mask[AP_SHARDS_MAX / 64];
};
struct ap_plog_side;

struct ap_plog {
	bool on;       /* appendonly: this shard logs */
	bool always;   /* appendfsync always: replies wait for fsync */
	bool everysec; /* appendfsync everysec */
	int fd;
	uint64_t seq; /* the log file's sequence number */
	char path[AP_PERSIST_PATH_SIZE];
	struct ap_persist_enc cur; /* records of this tick on */
	struct ap_persist_enc out; /* records being written */
	uint64_t out_off;	   /* file offset of out's first byte */
	size_t out_done;	   /* bytes of out written */
	bool out_keep;		   /* keep out until its fsync succeeds */
	bool inflight;		   /* op is in the kernel */
	struct ap_net_file_op op;
	uint64_t end;	      /* offset after the last record */
	uint64_t written;     /* bytes known written */
	uint64_t synced;      /* bytes known on disk (fsynced) */
	uint64_t durable;     /* what held replies wait for (always) */
	uint64_t sync_target; /* an fsync alone in flight covers this */
	bool wrote;	      /* records appended since the last message */
	/* appendonly turned off: what is recorded still goes out, then the
	 * file closes (and is removed with remove_at_close). */
	bool stopping;
	bool remove_at_close;
	int64_t last_sync_ms;
	/* Faults: the errno of the failing write (0 when fine) and when to
	 * retry it. */
	int err;
	int64_t retry_ms;
	/* Held until durable: messages (FIFO, ascending need) and clients. */
	struct ap_msg *msg_head, *msg_tail;
	struct ap_client *held_head, *held_tail;
	/* The EXEC a command runs for now (records go to its side part), or
	 * NULL; and the side parts of EXECs still running here. */
	struct ap_exec_log *xlog;
	struct ap_plog_side *sides;
	/* Statistics (INFO persistence). */
	uint64_t stat_writes, stat_fsyncs, stat_bytes, write_errors, too_big;
};

/* Per destination: messages that did not fit in the ring yet. */
struct ap_outbox {
	struct ap_msg *spill_head;
	struct ap_msg *spill_tail;
	bool dirty; /* staged pushes to publish this tick */
};

/* Error statistics: distinct error codes, as INFO errorstats. Redis
 * stops tracking new codes after 128. */
#define AP_ERRSTATS_MAX 128
struct ap_errstat {
	char code[32];
	uint64_t count;
};

struct ap_cmdstat {
	uint64_t calls;
	uint64_t cycles;   /* ap_cycles(); ap_cycles_to_ns() converts */
	uint64_t rejected; /* failed before running (arity, auth) */
	uint64_t failed;   /* replied an error */
};

enum ap_client_flags {
	AP_CF_WAITING = 1 << 0,	   /* cross-shard work in flight */
	AP_CF_CLOSE_ASAP = 1 << 1, /* close after the current output */
	AP_CF_CLOSED = 1 << 2,	   /* socket closing; free when idle */
	AP_CF_PENDING = 1 << 3,	   /* on the shard's pending list */
	AP_CF_AUTHED = 1 << 4,
	AP_CF_REPLY_OFF = 1 << 5,  /* CLIENT REPLY OFF */
	AP_CF_REPLY_SKIP = 1 << 6, /* CLIENT REPLY SKIP: skip next */
	AP_CF_REPLY_SKIP_NEXT = 1 << 7,
	AP_CF_NO_EVICT = 1 << 8,
	AP_CF_NO_TOUCH = 1 << 9,
	AP_CF_KILLED = 1 << 10,
	AP_CF_PAUSED = 1 << 11,	      /* held by CLIENT PAUSE */
	AP_CF_IN_PROCESS = 1 << 12,   /* its input is being parsed right now */
	AP_CF_SOCKET_GONE = 1 << 13,  /* the loop's closed callback came */
	AP_CF_LOCKWAIT = 1 << 14,     /* its next command waits for a lock */
	AP_CF_MULTI = 1 << 15,	      /* inside MULTI: commands are queued */
	AP_CF_DIRTY_EXEC = 1 << 16,   /* a queued command was refused */
	AP_CF_DURABLE_WAIT = 1 << 17, /* output waits for the log (plog.c) */
};

struct ap_client {
	struct ap_net_conn nc; /* first: callbacks convert back */
	struct ap_shard *shard;
	uint64_t id;
	uint32_t flags;
	uint8_t proto; /* 2 or 3 */
	unsigned db_idx;
	struct ap_reply reply;
	/* Input: bytes not yet parsed (a partial command, or input that
	 * arrived while cross-shard work was in flight). */
	char *qbuf;
	size_t qlen, qcap, qpos;
	struct ap_resp_req req;
	struct ap_arg *argv; /* argv scratch, grows */
	int argv_cap;
	/* The squash group being filled or in flight: pipelined commands
	 * on single-shard keys, one batch per remote shard (indexed by
	 * shard), local ones run at once into local_out; `order` records
	 * which shard answers each command so replies merge in order. */
	struct ap_xbatch **batches; /* [nshards] */
	int group_open;		    /* batches created in this group */
	int group_remaining;	    /* batches not back yet */
	uint16_t *order;
	uint32_t order_len, order_cap;
	uint32_t order_discards; /* entries whose reply is dropped */
	struct ap_obuf local_out;
	/* Replies of commands run under CLIENT REPLY OFF/SKIP. */
	struct ap_obuf discard_out;
	uint32_t *local_ends; /* local_out offset after each local reply */
	uint32_t local_count, local_cap;
	int inflight; /* messages out for this client */
	/* Identity and accounting. */
	char name[AP_CLIENT_NAME_MAX + 1];
	char lib_name[128];
	char lib_ver[64];
	char addr[64];
	char laddr[64];
	int64_t ctime_ms;
	int64_t last_ms;
	uint64_t commands;
	const char *last_cmd;
	int64_t obuf_soft_since_ms;	 /* soft output limit exceeded since */
	struct ap_client *prev, *next;	 /* shard's client list */
	struct ap_client *pending_next;	 /* shard's pending list */
	struct ap_client *lockwait_next; /* shard's parked list */
	/* MULTI/EXEC and WATCH (multi.c). */
	struct ap_multi *multi;	    /* queued commands, NULL outside MULTI */
	struct ap_exec *exec;	    /* an EXEC being run */
	struct ap_watched *watched; /* WATCHed keys, NULL if none */
	struct ap_txn *txn;	    /* a spanning command's transaction */
	struct ap_blk_waiter *blk_waiter; /* blocked here (block.c) */
	struct ap_span_wait *span_wait;	  /* blocked across shards */
	struct ap_client *span_next;	  /* shard's span_waiters list */
	int blk_remote;			  /* shard of a remote blocked
					     command in flight, or -1 */
	/* appendfsync always: output leaves once the log is durable up to
	 * durable_need (on the shard's held list while AP_CF_DURABLE_WAIT). */
	uint64_t durable_need;
	uint64_t own_need; /* the log's end after its own last write */
	struct ap_client *held_next;
	/* A multi-shard EXEC that runs now logs its changes here (multi.c). */
	struct ap_exec_log *xlog;
	/* Its reply being streamed on this shard (stream.c), or NULL; the
	 * client is WAITING meanwhile. */
	struct ap_stream *stream;
};

/* The commands of a squash group bound for one remote shard, executed
 * there in order; replies come back in `out`, ends[i] being the length of
 * `out` after command i. */
struct ap_xbatch {
	struct ap_msg m;
	struct ap_client *client; /* home side only */
	int target;
	unsigned db_idx;
	uint8_t proto;
	int ncmds;
	uint32_t *ends;
	/* Packed arguments: per command an int argc, then per argument a
	 * size_t length and the bytes. */
	char *args;
	size_t args_len, args_cap;
	struct ap_obuf out;
	uint64_t dirty;
	/* Run for a transaction that holds the locks (no lock checks). */
	bool in_txn;
	struct ap_exec_log *xlog; /* an EXEC's: records go to its part */
	/* Progress when parked on a lock: next command and argument. */
	int next_cmd;
	size_t next_pos;
	/* A blocked command of this batch (block.c), and its index. */
	struct ap_blk_waiter *waiter;
	int waiter_idx;
	uint64_t client_id;
	/* A command of this batch whose reply is streamed on the target
	 * (stream.c), and its index: the batch is parked meanwhile. */
	struct ap_stream *stream;
	int stream_idx;
	/* Set by the home when the client closed: a stream of this batch
	 * stops at its next step (the only field written across threads
	 * while the batch is away). */
	_Atomic bool gone;
};

/* --- txn.c: the transaction core (see the file header) --------------- */
enum ap_txn_global {
	AP_TXN_GLOBAL_NONE = 0,
	AP_TXN_GLOBAL_SHARED = 1, /* reads the whole shard (KEYS, DBSIZE) */
	AP_TXN_GLOBAL_EXCL = 2,	  /* changes it (FLUSHALL, SWAPDB) */
};
struct ap_txn_key {
	unsigned db;
	const char *key;
	size_t klen;
	bool write;
};
/* A WATCHed key: the version its owner shard gave at WATCH time and the
 * key's expire time then (AP_NO_EXPIRE if none). */
struct ap_txn_watch {
	unsigned db;
	const char *key;
	size_t klen;
	uint64_t version;
	int64_t expire_ms;
};
struct ap_txn;
struct txn_req;
typedef void ap_txn_fn(struct ap_shard *home, struct ap_txn *t);
struct ap_txn {
	uint64_t id;
	int home;
	struct ap_client *client;
	int nkeys, keys_cap;
	struct ap_txn_key *keys; /* own copies of the key bytes */
	enum ap_txn_global global;
	const struct ap_txn_watch *watch; /* the client's, during locking */
	int nwatch;
	bool started;
	_Atomic bool watch_failed;
	ap_txn_fn *on_locked;
	void *arg; /* the caller's */
	/* Optional: runs on each shard of the chain right after that shard
	 * granted its locks (before the chain moves on). */
	ap_txn_fn *on_grant;
	void *grant_arg;
	struct txn_req **reqs; /* [nshards] */
	struct txn_req *first;
	int nreqs;
	struct ap_msg locked_msg;
};
/* Per shard: the lock table, the waiting queue, parked work, watches. */
struct ap_lock;
struct ap_watch_ver;
struct ap_txn_shard {
	struct ap_lock **buckets;
	size_t mask;
	size_t lock_count;
	uint32_t holds;	  /* locks granted here (keys and whole-shard) */
	uint32_t x_holds; /* of which exclusive key locks */
	uint64_t gx_owner;
	uint32_t gs_count;
	struct txn_req *qhead, *qtail;
	uint32_t stamp, mark_any, mark_anyx, mark_gx, mark_gs;
	struct ap_client *parked_clients;
	struct ap_msg *parked_msgs, *parked_tail;
	bool unpark_scheduled;
	struct ap_msg unpark_msg;
	uint64_t parks;	 /* commands that waited for a lock (INFO) */
	uint32_t active; /* transactions homed here */
	struct ap_watch_ver **wbuckets;
	size_t wmask;
	size_t watch_count;
	uint64_t watch_clock;
};
struct ap_shard;
/* Building and running a transaction, on its home shard. */
struct ap_txn *ap_txn_create(struct ap_shard *home, struct ap_client *c);
void ap_txn_add_key(struct ap_txn *t, unsigned db, const char *key, size_t klen,
		    bool write);
void ap_txn_set_global(struct ap_txn *t, enum ap_txn_global g);
/* The versions to compare when the locks are granted (w must stay valid
 * until on_locked runs). */
void ap_txn_set_watch(struct ap_txn *t, const struct ap_txn_watch *w, int n);
/* Acquires every lock; on_locked runs later on home (never inline). */
void ap_txn_start(struct ap_shard *home, struct ap_txn *t,
		  ap_txn_fn *on_locked);
bool ap_txn_watch_failed(const struct ap_txn *t);
/* Releases every lock and frees t. */
void ap_txn_finish(struct ap_shard *home, struct ap_txn *t);
/* Must this plain command wait for a transaction's locks? Call only when
 * s->txn.holds != 0 (the fast path checks that first). */
bool ap_txn_blocks(struct ap_shard *s, unsigned db, const struct ap_cmd *cmd,
		   int argc, const struct ap_arg *argv);
static inline bool ap_txn_any_held(const struct ap_shard *s);
/* Parking until the next release on this shard. */
void ap_txn_park_client(struct ap_shard *s, struct ap_client *c);
void ap_txn_unpark_client_gone(struct ap_shard *s, struct ap_client *c);
void ap_txn_park_msg(struct ap_shard *s, struct ap_msg *m);
/* WATCH versions of this shard's keys. */
uint64_t ap_txn_watch_add(struct ap_shard *s, unsigned db, const char *key,
			  size_t klen);
void ap_txn_watch_drop(struct ap_shard *s, unsigned db, const char *key,
		       size_t klen);
/* The version of a key this shard has registered (WATCHed). */
uint64_t ap_txn_watch_version(struct ap_shard *s, unsigned db, const char *key,
			      size_t klen);
void ap_txn_watch_touch(struct ap_shard *s, unsigned db, const char *key,
			size_t klen);
/* Every watched key of db (-1: of every db): FLUSHDB, FLUSHALL, SWAPDB. */
void ap_txn_watch_touch_db(struct ap_shard *s, int db);
/* The keys of a command that changed data. */
void ap_txn_watch_touch_cmd(struct ap_shard *s, const struct ap_cmd_ctx *ctx);
void ap_txn_shard_deinit(struct ap_shard *s);
/* Local shares (streamed replies, stream.c): a shared lock on (db, key)
 * taken at once on this shard, for a read already running (no exclusive
 * lock can be held on the key). Writers of the key park as behind a
 * transaction's shared lock. Unshare gives it back, rescans the queue
 * and unparks, as a transaction's release does: a granted request may
 * run at once (a split DEL part), so the key's value may be gone when
 * it returns. local_last: l is the key's only local share left. */
struct ap_lock *ap_txn_local_share(struct ap_shard *s, unsigned db,
				   const char *key, size_t klen);
bool ap_txn_local_last(const struct ap_lock *l);
void ap_txn_local_unshare(struct ap_shard *s, struct ap_lock *l);
/* Whether anything waits for a lock on this shard: lock requests,
 * parked clients or batches, blocked clients behind a lock. */
bool ap_txn_waiters(const struct ap_shard *s);

/* Per shard: the streamed replies being written (stream.c), a queue
 * that each tick rotates (round robin). */
struct ap_stream;
struct ap_stream_shard {
	struct ap_stream *head, *tail;
	uint32_t count;
	struct ap_msg *orphans; /* batches left by a stop (freed at deinit) */
};

/* Per shard: waiters by key, ready keys, deadlines (block.c). */
struct ap_blk_waiter;
struct blk_key;
struct ap_blk_shard {
	struct blk_key **buckets;
	size_t mask;
	size_t key_count;
	struct ap_blk_waiter *waiters;
	uint32_t count;
	struct blk_key *ready;
	struct blk_key *locked; /* ready, but a transaction holds the keys */
	bool serve_scheduled;
	struct ap_msg serve_msg;
	int64_t next_deadline_ms; /* 0: no deadline */
	uint64_t blocked_total, served_total;
};

struct ap_shard_stats {
	uint64_t commands;
	uint64_t conns_received;
	uint64_t conns_rejected;
	uint64_t msgs_in;
	uint64_t msgs_out;
	uint64_t wakeups_sent;
	uint64_t batches_out;
	uint64_t net_in;
	uint64_t net_out;
	uint64_t net_out_base; /* loop's bytes_out at CONFIG RESETSTAT */
	uint64_t ticks;
	uint64_t reply_streams; /* streamed replies started (stream.c) */
	/* instantaneous ops/sec: samples per cron */
	uint64_t ops_sample_prev;
	int64_t ops_sample_ms;
	double ops_per_sec;
};

struct ap_shard {
	int id;
	int cpu; /* pinned CPU, or -1 */
	pthread_t thread;
	struct ap_server *srv;
	struct ap_net_loop *loop;
	struct ap_keyspace *ks;
	/* Pool of empty scratch keyspaces: a command spanning shards runs on
	 * copies of its keys in one of its own (xshard.c). */
	struct ap_keyspace *scratch[AP_SCRATCH_POOL];
	int scratch_count;
	struct ap_config cfg;	  /* this shard's copy */
	struct ap_outbox *outbox; /* [nshards] */
	struct ap_client *clients;
	struct ap_client *pending; /* clients with unparsed input */
	uint32_t client_count;
	bool stopping;
	int64_t now_ms;
	int64_t next_cron_us;
	struct ap_shard_stats st;
	struct ap_cmdstat *cmdstats; /* [ap_cmd_count() + subcommands] */
	struct ap_errstat errstats[AP_ERRSTATS_MAX];
	unsigned errstat_count;
	uint64_t errors_total;
	/* CLIENT PAUSE: until when (unix ms; 0 = not paused), and whether
	 * every command waits (ALL) or only writes (WRITE). Set on every
	 * shard by fan-out (cmd_client.c). */
	int64_t pause_end_ms;
	bool pause_all;
	/* A shutdown's final snapshot runs: writes wait (shutdown.c). */
	bool shutdown_pause;
	struct ap_shutdown *shutdown;	    /* the one this shard runs */
	struct ap_shutdown *shutdown_spent; /* kept for the next one */
	uint32_t paused_clients;	    /* clients held (AP_CF_PAUSED) */
	/* Highest sum of used memory over shards this shard saw while
	 * answering INFO (used_memory_peak is the max over shards). */
	int64_t mem_peak;
	char loop_why[256];
	struct ap_txn_shard txn;
	struct ap_blk_shard blk;
	struct ap_plog plog;
	struct ap_psnap psnap;
	struct ap_client *span_waiters; /* blocked across shards */
	struct ap_stream_shard streams; /* streamed replies (stream.c) */
	/* shared */
	alignas(AP_PAD_ALIGN) _Atomic int sleeping;
	_Atomic int wake_pending;
	_Atomic uint32_t conn_count; /* read by the accepting shard */
	_Atomic int ready;	     /* 1 running, -1 failed to start */
	/* Published by the shard's cron for shard 0's save rules. */
	_Atomic uint64_t pub_dirty;
	_Atomic uint64_t pub_aof_size;
};

struct ap_server {
	struct ap_config cfg; /* start-up copy */
	int nshards;
	struct ap_shard *shards;
	struct ap_spsc *mesh; /* [from * nshards + to] */
	uint16_t slot_owner[AP_SLOTS];
	int listen_fd[AP_BIND_MAX];
	int listen_count;
	int port; /* actual port */
	int64_t start_ms;
	char run_id[41];
	char executable[1024];
	_Atomic uint64_t next_client_id;
	_Atomic uint64_t next_txn_id;	  /* one fetch-add per transaction */
	_Atomic int persist_errors;	  /* shards whose log is failing */
	_Atomic int persist_errno;	  /* the last failure's errno */
	_Atomic int persist_go;		  /* the data set is loaded and named */
	struct ap_persist_plan *plan;	  /* what to load at start, or NULL */
	struct ap_persist_mstate *mstate; /* [nshards] */
	struct ap_rewrite *rewrite;	  /* the one running (its home's) */
	bool manifest_broken;	    /* a rewrite could not name its logs */
	_Atomic int snap_busy;	    /* a snapshot/rewrite is running */
	_Atomic int aof_enabled;    /* the shards log (appendonly, in effect) */
	_Atomic int snap_scheduled; /* BGSAVE SCHEDULE */
	_Atomic int64_t lastsave_s; /* LASTSAVE */
	_Atomic int64_t snap_last_ms; /* the last one took */
	_Atomic int snap_status;      /* its errno, 0 when it worked */
	_Atomic uint64_t snap_count;
	_Atomic uint64_t dirty_at_save; /* sum of pub_dirty at the last start */
	_Atomic uint64_t aof_base_size; /* bytes of the bases written last */
	_Atomic int64_t snap_try_ms;	/* when the last one started */
	bool persist_reshard;		/* the shard count changed */
	char persist_dir[AP_PERSIST_DIR_SIZE];
	_Atomic int stop;		/* stop requested */
	_Atomic int shutdown_signals;	/* SIGTERM/SIGINT not handled yet */
	_Atomic int shutdown_busy;	/* a shutdown runs (shutdown.c) */
	_Atomic int shutdown_abort;	/* SHUTDOWN ABORT asked */
	_Atomic uint32_t clients;	/* connected clients, all shards */
	_Atomic int paused_until_ms_hi; /* unused */
	int stop_pipe[2];		/* signal handler -> main thread */
};

static inline bool ap_txn_any_held(const struct ap_shard *s)
{
	return s->txn.holds != 0;
}

/* --- server.c: mesh, messages, shard loop ---------------------------- */
/* Sends m to shard `to` (staged; published at the end of the tick).
 * Under appendfsync always it first waits until the records this shard
 * logged so far are durable (plog.c). */
void ap_shard_send(struct ap_shard *s, int to, struct ap_msg *m);
/* Sends m at once, durable or not (the log's release of held ones). */
void ap_shard_send_now(struct ap_shard *s, int to, struct ap_msg *m);
/* Shard that owns a key. */
static inline int ap_shard_of_key(const struct ap_server *srv, const char *key,
				  size_t len)
{
	if (srv->nshards == 1)
		return 0;
	return srv->slot_owner[ap_key_slot(key, len)];
}
/* Counts an error reply in INFO errorstats (the code is its first word). */
void ap_shard_count_error(void *shard, const char *msg, size_t len);
/* Index into cmdstats of a command or subcommand. */
size_t ap_shard_cmdstat_idx(const struct ap_cmd *cmd);
size_t ap_shard_cmdstat_count(void);
void ap_server_setup_cmdstat_index(void);

/* --- client.c: connections, input, dispatch -------------------------- */
void ap_client_accept(struct ap_shard *s, int fd);
void ap_client_on_recv(struct ap_shard *s, struct ap_client *c,
		       const char *data, size_t len);
void ap_client_on_closed(struct ap_shard *s, struct ap_client *c);
/* A message sent for c came back: returns false (and frees c when it was
 * the last one) if c was closed meanwhile. */
bool ap_client_msg_done(struct ap_client *c);
/* Continues a client's input after its cross-shard work returned. */
void ap_client_resume(struct ap_client *c);
/* A message for c came back and its work is done: resumes c (an EXEC in
 * progress goes on even if c was closed), or frees a closed c. */
void ap_client_msg_back(struct ap_client *c);
/* Releases clients held by CLIENT PAUSE once the pause is over. */
void ap_client_pause_check(struct ap_shard *s);
/* Runs the pending list (clients that hit the per-tick budget). */
void ap_client_run_pending(struct ap_shard *s);
void ap_client_close(struct ap_client *c, bool after_flush);
/* Flushes output and enforces the output buffer limits. */
void ap_client_flush(struct ap_client *c);
/* As ap_client_flush, without waiting for the log (it was durable when
 * the output was written). */
void ap_client_flush_durable(struct ap_client *c);
/* Runs one (queued) command of an EXEC that holds its locks: here, or on
 * its shard (the client then waits). */
void ap_client_run_one(struct ap_client *c, const struct ap_cmd *cmd, int argc,
		       const struct ap_arg *argv);
/* Runs one command in a context on this shard (stats, timing, errors). */
void ap_shard_exec(struct ap_shard *s, struct ap_cmd_ctx *ctx);

/* --- xshard.c: cross-shard commands ---------------------------------- */
/* Entry for a command whose keys span shards. The client waits until
 * the reply is in its output. */
void ap_xshard_spanning(struct ap_client *c, const struct ap_cmd *cmd, int argc,
			const struct ap_arg *argv);

/* A blocking command whose keys span shards, waiting (xshard.c). */
struct ap_span_wait {
	const struct ap_cmd *cmd;
	int argc;
	struct ap_arg *argv;
	int64_t deadline_ms; /* 0: forever */
	int64_t next_try_ms;
	uint64_t gen; /* of the notify waiters registered for it */
	uint64_t reg_mask[AP_SHARDS_MAX / 64]; /* shards holding them */
};
/* Tries the spanning waiters again (every tick while there are some). */
void ap_xshard_span_retry(struct ap_shard *s);
/* A notify waiter saw data for client_id's spanning command
 * (generation gen): it tries again now. */
void ap_xshard_span_wake(struct ap_shard *home, uint64_t client_id,
			 uint64_t gen);
/* A closing client leaves the spanning waiters. */
void ap_xshard_span_gone(struct ap_shard *s, struct ap_client *c);

/* A command flagged AP_CMD_WHOLE_KEYSPACE, run holding every shard's
 * whole-shard lock (several shards, outside EXEC). */
void ap_xshard_whole_keyspace(struct ap_client *c, const struct ap_cmd *cmd,
			      int argc, const struct ap_arg *argv);

/* Fan-out: runs fn on every shard (including the caller's), then done on
 * the home shard. Each shard writes into its own slot of `results`. */
struct ap_fanout;
typedef void ap_fanout_fn(struct ap_shard *s, struct ap_fanout *f);
typedef void ap_fanout_done_fn(struct ap_shard *home, struct ap_fanout *f);
struct ap_fanout_part {
	struct ap_msg m;
	struct ap_fanout *f;
	int shard;
	long long num;	    /* a number result */
	struct ap_obuf out; /* a reply fragment */
	size_t count;	    /* elements in out */
	uint64_t cursor;    /* SCAN */
	void *ptr;	    /* anything else */
};
struct ap_fanout {
	struct ap_client *client;
	ap_fanout_fn *fn;
	ap_fanout_done_fn *done;
	int remaining;
	unsigned db_idx;
	uint8_t proto;
	/* Arguments the shards read (copied, owned by the fanout). */
	int argc;
	struct ap_arg *argv;
	long long opt[4];
	int first; /* shard of parts[0] */
	int nparts;
	/* A write fanned out to every shard (FLUSHALL, SWAPDB) logs one part
	 * per shard of this transaction (plog.c); 0 when not logged. */
	uint64_t txid;
	struct ap_exec_log *xlog; /* inside an EXEC: its part instead */
	struct ap_fanout_part parts[];
};
/* Starts a fan-out over shards [first, first+count) for client c (which
 * waits until done runs). argv is copied. */
void ap_fanout_start(struct ap_client *c, int first, int count,
		     ap_fanout_fn *fn, ap_fanout_done_fn *done, int argc,
		     const struct ap_arg *argv, const long long *opt);
/* The calling shard's part of a fan-out. */
static inline struct ap_fanout_part *ap_fanout_part_of(struct ap_fanout *f,
						       struct ap_shard *s)
{
	return &f->parts[s->id - f->first];
}
/* Runs a one-part fan-out again on another shard (its done runs again
 * after); used by SCAN to step over empty shards. */
void ap_fanout_redirect(struct ap_shard *home, struct ap_fanout *f, int shard);
/* Frees a fan-out (from done) and resumes its client. */
void ap_fanout_finish(struct ap_shard *home, struct ap_fanout *f);
/* Starts a fan-out over every shard for the client running command c
 * (a server command: c->client is set), as ap_fanout_start. */
static inline void ap_fanout_start_all(struct ap_cmd_ctx *c, ap_fanout_fn *fn,
				       ap_fanout_done_fn *done, int argc,
				       const struct ap_arg *argv,
				       const long long *opt)
{
	struct ap_client *cl = c->client;
	AP_ASSERT(cl != NULL);
	ap_fanout_start(cl, 0, cl->shard->srv->nshards, fn, done, argc, argv,
			opt);
}
/* A fan-out's done step that replies +OK (unless the client closed
 * meanwhile) and finishes the fan-out. */
static inline void ap_fanout_done_ok(struct ap_shard *home, struct ap_fanout *f)
{
	if (!(f->client->flags & AP_CF_CLOSED))
		ap_reply_ok(&f->client->reply);
	ap_fanout_finish(home, f);
}

/* Copies argv into one allocation (free with ap_free on the result). */
struct ap_arg *ap_args_copy(int argc, const struct ap_arg *argv);

/* --- block.c: blocking commands (see the file header) ---------------- */
/* The command in ctx asked to block (ctx->block): make it a waiter on
 * this (owner) shard, for local client c or for batch b's command
 * cmd_idx. */
void ap_blk_block(struct ap_shard *s, const struct ap_cmd_ctx *ctx,
		  struct ap_client *c, struct ap_xbatch *b, int cmd_idx);
/* A key changed: its waiters are served in this shard's next pass. */
void ap_blk_signal(struct ap_shard *s, unsigned db, const char *key,
		   size_t klen);
void ap_blk_signal_cmd(struct ap_shard *s, const struct ap_cmd_ctx *ctx);
/* A transaction released its locks here: keys whose waiters waited for
 * them are served again. */
void ap_blk_locks_released(struct ap_shard *s);
/* Serves the waiters whose timeout passed (call every tick). */
void ap_blk_timeouts(struct ap_shard *s);
/* CLIENT UNBLOCK on this shard: 1 if the client was blocked here. */
int ap_blk_unblock(struct ap_shard *s, uint64_t client_id, bool error);
/* Drops, without a reply, the waiters of a client that disconnected. */
void ap_blk_drop_client(struct ap_shard *s, const struct ap_client *c);
/* The same for a local waiter, from the client's close path: no resume,
 * no free (the caller goes on with c). */
void ap_blk_cancel_local(struct ap_shard *s, struct ap_client *c);
/* Home side of a disconnect: shard `shard` drops c's waiters. */
void ap_blk_drop_remote(struct ap_shard *home, const struct ap_client *c,
			int shard);
void ap_blk_shard_deinit(struct ap_shard *s);
/* Owner side of a spanning waiter (xshard.c): once (db, key) has data
 * here (at once if it has now), tell shard home to try client_id's
 * command again (generation gen). One-shot. */
void ap_blk_notify_add(struct ap_shard *s, unsigned db, const char *key,
		       size_t klen, int home, uint64_t client_id, uint64_t gen);
/* Forgets client_id's notify waiters on this shard. */
void ap_blk_notify_drop(struct ap_shard *s, uint64_t client_id);
/* Frees a batch that will never go home (shutdown). */
void ap_client_batch_discard(struct ap_xbatch *b);
/* A batch whose blocked command got its reply goes on (client.c). */
void ap_client_batch_continue(struct ap_shard *s, struct ap_xbatch *b);

/* --- stream.c: streamed replies (see the file header) ---------------- */
/* The command in ctx, run on this shard's keyspace with may_stream, left
 * a stream (ctx->stream.step set): takes it over and returns true, for
 * local client c (which now waits until the reply is complete) or for
 * batch b's command cmd_idx (the caller parks the batch). When no new
 * stream may start now (something waits for a lock here, so a writer is
 * never starved; or AP_REPLY_STREAMS_MAX run), writes the rest of the
 * reply at once and returns false. */
bool ap_stream_begin(struct ap_shard *s, struct ap_cmd_ctx *ctx,
		     struct ap_client *c, struct ap_xbatch *b, int cmd_idx);
/* Once per tick: steps the streams (at most AP_REPLY_STREAM_TICK_STEPS
 * steps). Returns true while a stream can go on without waiting for a
 * socket: the loop must not sleep. */
bool ap_stream_tick(struct ap_shard *s);
/* The loop stops: every stream ends unfinished (a remote batch's is
 * kept for deinit, once every shard has stopped). */
void ap_stream_shard_stop(struct ap_shard *s);
/* Every shard has stopped: frees what stop kept. */
void ap_stream_shard_deinit(struct ap_shard *s);
/* A local client's stream ended (client.c): it goes on with its input,
 * or (a closed client) is freed once nothing else is out for it. */
void ap_client_stream_done(struct ap_client *c);
/* A batch's streamed command ended: the batch goes on (client.c). */
void ap_client_batch_stream_done(struct ap_shard *s, struct ap_xbatch *b);

/* --- multi.c: MULTI/EXEC/DISCARD/WATCH/UNWATCH -------------------- */
extern const struct ap_cmd ap_cmds_multi[];
/* Is cmd queued (not run) by a client inside MULTI? */
bool ap_multi_queues(const struct ap_cmd *cmd);
/* Whether the client's queued transaction has a write command. */
bool ap_multi_writes(const struct ap_client *c);
/* Queues cmd (or replies why it cannot be, flagging the transaction). */
void ap_multi_queue(struct ap_client *c, const struct ap_cmd *cmd, int argc,
		    const struct ap_arg *argv);
/* Goes on with an EXEC after async work; false once it has ended. */
bool ap_multi_exec_continue(struct ap_client *c);
/* c is closing: drops its queue and its watches. */
void ap_multi_client_gone(struct ap_client *c);

/* --- cmd_server.c and friends: server-level command tables ----------- */
extern const struct ap_cmd ap_cmds_server[];
extern const struct ap_cmd ap_cmds_conn[];
extern const struct ap_cmd ap_cmds_introspect[];
void ap_info_reply(struct ap_client *c, int argc, const struct ap_arg *argv);

#endif

/* --- pstart.c: the data set at start ------------------------------------ */
/* Main thread, before the shards start: checks and plans the data set
 * under dir/appenddirname (creating the directory). */
int ap_persist_server_prepare(struct ap_server *srv, char *err,
			      size_t err_size);
/* Shard thread, before it serves: loads its part, opens its log. */
int ap_persist_shard_start(struct ap_shard *s, char *err, size_t err_size);
/* Main thread, every shard loaded: writes the manifest if it changed. */
int ap_persist_server_ready(struct ap_server *srv, char *err, size_t err_size);
/* The path of a data set file (buf: AP_PERSIST_PATH_SIZE bytes). */
void ap_persist_path(const struct ap_server *srv,
		     enum ap_persist_file_kind kind, unsigned shard,
		     uint64_t seq, char *buf);
/* Removes a data set file (a warning if that fails, unless it is gone). */
/* Files removed in a background thread: unlinking a big base can take
 * a hundred milliseconds on ext4 (freeing its extents), which a shard
 * must not spend between requests. Add paths, then run (which takes
 * them over). */
struct ap_persist_unlinks {
	char (*paths)[AP_PERSIST_PATH_SIZE];
	size_t n, cap;
};
void ap_persist_unlinks_add(struct ap_persist_unlinks *u,
			    const struct ap_server *srv,
			    enum ap_persist_file_kind kind, unsigned shard,
			    uint64_t seq);
void ap_persist_unlinks_run(struct ap_persist_unlinks *u);
void ap_persist_unlink(const struct ap_server *srv,
		       enum ap_persist_file_kind kind, unsigned shard,
		       uint64_t seq);
/* Replaces the manifest with the files ms[0..nshards) name. Blocking.
 * Returns 0 or -errno. */
int ap_persist_write_mstate(const struct ap_server *srv,
			    const struct ap_persist_mstate *ms);

/* --- psnap.c: snapshots and log rewrites --------------------------------- */
extern const struct ap_cmd ap_cmds_persist[];
void ap_psnap_init(struct ap_shard *s);
void ap_psnap_deinit(struct ap_shard *s);
/* Starts a snapshot of every shard from home (c waits for the reply, or
 * NULL); false when one is running. */
bool ap_psnap_start(struct ap_shard *home, struct ap_client *c, bool aof,
		    bool wait_done);
/* Per tick while ap_psnap_busy: walks and writes. */
void ap_psnap_tick(struct ap_shard *s);
bool ap_psnap_busy(const struct ap_shard *s);
/* A cut waits for the log to drain: called when it may have. */
void ap_psnap_cut_check(struct ap_shard *s);
/* Shard 0's cron: the save rules and the automatic log rewrite. */
void ap_psnap_cron(struct ap_shard *s);
/* Frees a rewrite (at its end, or left over when the server stopped). */
void ap_psnap_rewrite_free(struct ap_rewrite *rw);
/* The loop stops: an unfinished snapshot is dropped. */
void ap_psnap_stop(struct ap_shard *s);

/* --- shutdown.c: SHUTDOWN and SIGTERM, with a final snapshot ---------- */
struct ap_shutdown;
extern const struct ap_cmd ap_cmds_shutdown[];
/* From a signal handler (async-signal-safe): shard 0 shuts down; a second
 * signal stops at once. */
void ap_shutdown_signal(struct ap_server *srv);
/* Per cron tick on a shard running a shutdown, and on shard 0 when a
 * signal came: starts, follows and ends the final snapshot. */
void ap_shutdown_cron(struct ap_shard *s);
void ap_shutdown_deinit(struct ap_shard *s);

/* --- plog.c: the append-only log of a shard ---------------------------- */
extern const struct ap_cmd_prop_ops ap_plog_prop_ops;
void ap_plog_init(struct ap_shard *s);
void ap_plog_deinit(struct ap_shard *s);
/* Opens (creates) this shard's log number seq under dir for appending at
 * its end. Blocking; at start. Returns 0 or -errno with err set. */
int ap_plog_open(struct ap_shard *s, uint64_t seq, bool fresh, char *err,
		 size_t err_size);
/* Writes out what is recorded and waits for it (the loop is stopping),
 * fsyncs and closes the file. */
void ap_plog_close(struct ap_shard *s);
/* Stops recording (appendonly turned off at run time, or a first log
 * that did not count: remove): what is recorded is written out by the
 * following ticks, then the file closes. */
void ap_plog_stop(struct ap_shard *s, bool remove);
/* End of a tick: submits the records of the tick (group commit). */
void ap_plog_tick(struct ap_shard *s);
/* Everything recorded is written and fsynced, nothing in flight. */
bool ap_plog_drained(const struct ap_shard *s);
/* Something is recorded but not yet written, or waits for the disk. */
bool ap_plog_busy(const struct ap_shard *s);
/* Records (the shard's log is on: s->plog.on). */
void ap_plog_cmd(struct ap_shard *s, unsigned db, int argc,
		 const struct ap_arg *argv);
void ap_plog_entry(struct ap_shard *s, unsigned db, const struct ap_entry *e);
void ap_plog_del(struct ap_shard *s, unsigned db, const char *key, size_t klen);
/* One shard's part of multi-shard transaction txid, whose participants
 * are the set bits of mask (AP_SHARDS_MAX bits): records between begin
 * and end are recovered only if every participant logged its part. */
void ap_plog_part_begin(struct ap_shard *s, uint64_t txid,
			const uint64_t *mask);
void ap_plog_part_end(struct ap_shard *s);
/* Records of the commands run between enter and leave go to EXEC x's
 * side part on this shard (x NULL: to the log, as usual). */
static inline void ap_plog_exec_enter(struct ap_shard *s,
				      struct ap_exec_log *x);
static inline void ap_plog_exec_leave(struct ap_shard *s);
/* Appends this shard's side part of EXEC txid to the log as one part over
 * the shards in mask, and drops it. */
void ap_plog_exec_commit(struct ap_shard *s, uint64_t txid,
			 const uint64_t *mask);
/* A new transaction id for a logged part (above every recovered one). */
uint64_t ap_plog_txid(struct ap_shard *s);
/* Records a command a fan-out runs on every shard (FLUSHALL, FLUSHDB,
 * SWAPDB): as one shard's part of transaction f->txid, over every shard,
 * so that recovery applies it on all shards or none. */
void ap_plog_fanout_cmd(struct ap_shard *s, const struct ap_fanout *f,
			unsigned db, int argc, const struct ap_arg *argv);
/* After a command ran on the shard's keyspace: records it as called if
 * it changed data and did not record its own form. */
void ap_plog_exec_after(struct ap_shard *s, struct ap_cmd_ctx *ctx);
/* appendfsync always: c's output waits for what is logged so far. */
bool ap_plog_hold_client(struct ap_shard *s, struct ap_client *c);
/* appendfsync always: m waits for what is logged so far. */
void ap_plog_hold_msg(struct ap_shard *s, int to, struct ap_msg *m);
/* Whether output must wait for the log now. */
static inline void ap_plog_exec_enter(struct ap_shard *s, struct ap_exec_log *x)
{
	if (s->plog.on)
		s->plog.xlog = x;
}
static inline void ap_plog_exec_leave(struct ap_shard *s)
{
	s->plog.xlog = NULL;
}
static inline bool ap_plog_must_hold(const struct ap_shard *s)
{
	return s->plog.always && s->plog.end > s->plog.durable;
}
/* Whether c's output must wait: while the log works, for everything
 * logged so far (nobody reads a write before it is durable); while it
 * fails, only for c's own writes, so that reads and errors still go. */
static inline bool ap_plog_must_hold_client(const struct ap_shard *s,
					    const struct ap_client *c)
{
	return ap_plog_must_hold(s) &&
	       (!s->plog.err || c->own_need > s->plog.durable);
}
