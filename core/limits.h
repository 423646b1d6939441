/*
 * limits.h - every limit in Apiary, in one place, with its reason and its
 * hard ceiling. Runtime-configurable limits have a default here and are
 * clamped to [MIN, MAX] by the config module; the rest are compile-time.
 */
#ifndef AP_CORE_LIMITS_H
#define AP_CORE_LIMITS_H

/* Shards (threads that own keyspace). The SPSC mesh is N*N rings; 256 keeps
 * it below 64 MiB and covers every machine we expect. */
#define AP_SHARDS_MAX 256

/* Databases (SELECT). Redis's default is 16; its ceiling is INT_MAX, ours
 * is small because every shard holds a table header per database. */
#define AP_DATABASES_DEFAULT 16
#define AP_DATABASES_MAX     1024

/* proto-max-bulk-len: the longest bulk string a client may send. Redis's
 * default and minimum. The ceiling keeps lengths in 32 bits (entries store
 * lengths as varints of at most 5 bytes). */
#define AP_PROTO_MAX_BULK_LEN_DEFAULT (512LL * 1024 * 1024)
#define AP_PROTO_MAX_BULK_LEN_MIN     (1024LL * 1024)
#define AP_PROTO_MAX_BULK_LEN_MAX     (2047LL * 1024 * 1024)

/* client-query-buffer-limit: bytes buffered for one client before a full
 * command arrives. Redis: 1 GB default, 1 MB minimum. */
#define AP_QUERY_BUF_LIMIT_DEFAULT (1024LL * 1024 * 1024)
#define AP_QUERY_BUF_LIMIT_MIN	   (1024LL * 1024)
#define AP_QUERY_BUF_LIMIT_MAX	   (4096LL * 1024 * 1024)

/* Arguments in one command. Redis allows up to INT_MAX with 1M per
 * multibulk header; we bound it at 1M so argv arrays stay bounded. */
#define AP_ARGC_MAX (1024 * 1024)
/* Inline commands (telnet style): Redis's PROTO_INLINE_MAX_SIZE. */
#define AP_INLINE_MAX_LEN (64 * 1024)
/* Length of a *N or $N header line without its payload. */
#define AP_PROTO_HEADER_MAX_LEN (64 * 1024)

/* maxclients: Redis's default. Clamped to what RLIMIT_NOFILE allows. */
#define AP_MAXCLIENTS_DEFAULT 10000
#define AP_MAXCLIENTS_MAX     1000000

/* Commands parsed and executed for one connection per loop tick before
 * yielding to other connections: fairness under deep pipelines. */
#define AP_CONN_CMDS_PER_TICK 1024

/* Commands squashed into one group (one message per remote shard) before
 * the group is sent and its replies awaited. */
#define AP_XSHARD_BATCH_MAX 256
/* Longest timeout of a blocking command: about 292 years would overflow
 * the absolute deadline in ms; Redis stops at the same order. */
#define AP_BLOCK_TIMEOUT_MS_MAX (1LL << 50)
/* A blocking command whose keys span shards and found nothing waits on
 * its home shard, which wakes this often to check its deadline ... */
#define AP_SPAN_BLOCK_RETRY_MS 10
/* ... and how often it tries again without a wake-up (a safety net: a
 * push on a shard owning one of its keys wakes it at once). */
#define AP_SPAN_BLOCK_POLL_MS 100
/* Receive backpressure: a client whose input waits unprocessed (while it
 * waits for another shard, a lock, a pause) beyond this many bytes stops
 * being read until it drops below the resume mark; TCP then slows the
 * sender. The query buffer limit (4x client-query-buffer-limit of waiting
 * commands) stays the hard bound for input already on its way. */
#define AP_QBUF_PAUSE_BYTES  (4 * 1024 * 1024)
#define AP_QBUF_RESUME_BYTES (1024 * 1024)
/* Scratch keyspaces a shard keeps for commands spanning shards (each such
 * command in flight runs in its own); more are created on demand. */
#define AP_SCRATCH_POOL 8

/* SPSC ring slots per ordered pair of threads (power of two). A full ring
 * spills to a local FIFO; it never blocks. */
#define AP_SPSC_SLOTS 1024

/* io_uring: submission queue entries per shard ring, provided receive
 * buffers per shard and their size. */
#define AP_URING_ENTRIES 4096
/* io-wq workers per ring (file writes and fsyncs of persistence). */
#define AP_URING_IOWQ_MAX 4
#define AP_RECV_BUF_COUNT 256
#define AP_RECV_BUF_SIZE  (16 * 1024)

/* Output chunk size for reply buffers. A reply bigger than a chunk gets a
 * chunk of its own size. */
#define AP_OBUF_CHUNK_SIZE (16 * 1024)
/* Sends in flight per connection (io_uring); chunks beyond wait. */
#define AP_SEND_IOV_MAX 64

/* Active expiry, as Redis: 20 keys sampled per round, a round repeats
 * while more than 10% were expired, at most 25% of a tick's time. */
#define AP_EXPIRE_SAMPLE     20
#define AP_EXPIRE_REPEAT_PCT 10
#define AP_HZ_DEFAULT	     10
#define AP_HZ_MIN	     1
#define AP_HZ_MAX	     500

/* Incremental rehash: buckets moved per step and per background tick. */
#define AP_REHASH_STEP_BUCKETS 1
#define AP_REHASH_TICK_US      1000

/* Lazy free: elements released per loop tick for big deleted values. */
#define AP_LAZYFREE_BUDGET 4096
/* Collections with more elements than this are freed lazily (Redis's
 * LAZYFREE_THRESHOLD). */
#define AP_LAZYFREE_THRESHOLD 64

/* Total bytes of one listpack (core/listpack.h). A list element larger
 * than a node gets a one-element listpack of its own, so the largest bulk
 * string (the proto-max-bulk-len ceiling) plus its header must fit; the
 * total stays in the 32-bit header field. Collections convert to other
 * encodings long before this (*-max-listpack-*), so an insert's O(size)
 * memmove only ever meets this size with that one element. */
#define AP_LISTPACK_BYTES_MAX (AP_PROTO_MAX_BULK_LEN_MAX + 1024LL * 1024)

/* Quicklists (core/list.c). FILL_MAX: list-max-listpack-size above it is
 * taken as it (Redis's clamp; a count limit that high never binds under
 * the 8 KB safety limit anyway). list-compress-depth: a node is
 * LZ4-compressed only when its listpack has at least MIN_BYTES (Redis's
 * MIN_COMPRESS_BYTES: smaller ones gain nothing) and compression saves at
 * least MIN_SAVING bytes (Redis's MIN_COMPRESS_IMPROVE), and at most
 * MAX_BYTES: compressing costs about a millisecond per MB on the shard's
 * thread, so a plain node holding a bigger element stays raw. The depth
 * is clamped to DEPTH_MAX (Redis: 65535; ours travels with the fill in
 * one int, and 32767 raw nodes a side is already 256 MB at 8 KB). */
#define AP_LIST_FILL_MAX	    32767
#define AP_LIST_COMPRESS_MIN_BYTES  48
#define AP_LIST_COMPRESS_MIN_SAVING 8
#define AP_LIST_COMPRESS_MAX_BYTES  (1024 * 1024)
#define AP_LIST_COMPRESS_DEPTH_MAX  32767

/* Members an intset-encoded set may hold, whatever set-max-intset-entries
 * says: Redis's clamp (its intset is addressed with 32-bit counts and every
 * add is O(n)). Beyond it the set converts to a hashtable. */
#define AP_SET_INTSET_ENTRIES_MAX (1 << 30)

/* Value serialization (core/serial.h: DUMP/RESTORE, snapshots). Items per
 * batch of an element-by-element body: a writer emitting a big value in
 * pieces flushes at batch boundaries. And the most elements a decoder
 * presizes a table for from the writer's count hint (untrusted): a bigger
 * collection grows incrementally as its elements actually arrive. */
#define AP_SERIAL_BATCH	      1024
#define AP_SERIAL_PRESIZE_MAX (64 * 1024)

/* Persistence (persist/, docs/persistence.md). A log record's payload
 * length is a 32-bit field: the ceiling of one record (a value whose
 * serialized form is bigger cannot be logged as one VALUE record, and the
 * encoder refuses it). A record encoder keeps at most KEEP bytes of buffer
 * across ticks, so one huge tick does not pin its memory for ever. The
 * manifest is a few lines per shard; a bigger file is refused unread. */
#define AP_PERSIST_RECORD_LEN_MAX    0xFFFFFFFFull
#define AP_PERSIST_ENC_KEEP_SIZE     (1024 * 1024)
#define AP_PERSIST_MANIFEST_SIZE_MAX (1024 * 1024)

/* A shard walks its keyspace for a snapshot at most this long per loop
 * tick, then serves its clients: a request waits at most about this
 * (plus the packing and write submission of the tick) while a snapshot
 * runs. 300 us walks ~30-100 MB/s of values per shard. */
#define AP_SNAPSHOT_TICK_US 300

/* Compressed blocks of a base snapshot (persist/zblock.c). A writer
 * gathers whole records up to ZBLOCK_SIZE raw bytes into one block (big
 * enough for lz4/zstd to find repeats across values, small enough that
 * compressing one costs well under a millisecond of a shard's tick); a
 * record alone bigger than that gets a block of its own. RAW_MAX is the
 * ceiling of a block's declared raw length: a reader checks it before
 * allocating, so a corrupt length costs at most this much memory, and a
 * writer writes a bigger record plain. */
#define AP_PERSIST_ZBLOCK_SIZE	  (256 * 1024)
#define AP_PERSIST_ZBLOCK_RAW_MAX (1024 * 1024)
/* snapshot-compression-level: the zstd level. zstd's levels above 19
 * ("ultra") need windows of up to 128 MB per compressor; 19 is already
 * far slower than a shard should spend on a snapshot. 1 is zstd's
 * fastest standard level: a snapshot compresses on the shards' threads,
 * between requests. */
#define AP_SNAPSHOT_ZSTD_LEVEL_DEFAULT 1
#define AP_SNAPSHOT_ZSTD_LEVEL_MIN     1
#define AP_SNAPSHOT_ZSTD_LEVEL_MAX     19

/* Streamed replies (docs/architecture.md "Streamed replies"). A read
 * command whose reply holds more than STREAM_MIN elements (SMEMBERS,
 * HGETALL, HKEYS, HVALS, ZRANGE by rank or score, LRANGE) writes its
 * header and one step, then the shard writes one step per loop tick:
 * at most STREAM_BUDGET elements and, past STREAM_BUDGET_BYTES bytes,
 * no further element (about 0.2 ms of a shard's time each), so the
 * shard's other clients are served between steps. A tick runs at most
 * STREAM_TICK_STEPS steps over all the shard's streams (round robin),
 * bounding a tick whatever the number of streams. A local client's
 * stream waits while more than STREAM_OBUF_HIGH bytes of its output
 * are unsent (memory bounded by the socket), unless a writer waits for
 * a lock, in which case it runs to its end. STREAMS_MAX bounds the
 * streams of one shard (each pauses its collection's rehash; a dict's
 * pause counter is 16 bits): beyond it, replies are built in one go. */
#define AP_REPLY_STREAM_MIN	     8192
#define AP_REPLY_STREAM_BUDGET	     1024
#define AP_REPLY_STREAM_BUDGET_BYTES (64 * 1024)
#define AP_REPLY_STREAM_TICK_STEPS   8
#define AP_REPLY_STREAM_OBUF_HIGH    (1024 * 1024)
#define AP_REPLY_STREAMS_MAX	     4096

/* Keys looked at per SCAN-type step by KEYS/FLUSHALL before yielding. */
#define AP_KEYS_BATCH 4096

/* Longest string LCS accepts (its table is O(a*b)); Redis limits the
 * product to the same memory. */
#define AP_LCS_MAX_CELLS (512LL * 1024 * 1024)

/* Elements a random-sampling command with a negative count (HRANDFIELD,
 * SRANDMEMBER, ZRANDMEMBER: repetitions allowed) may reply. Such a reply
 * is not bounded by the collection's size; Redis accepts up to LONG_MAX
 * and runs out of memory building it. A bigger count is refused with
 * "ERR value is out of range". */
#define AP_RAND_COUNT_MAX (10LL * 1000 * 1000)

/* Elements per record when a command is logged as the elements it
 * changed (SPOP as the SREM of what it popped, as Redis batches it; SORT
 * ... STORE of a set as the RPUSH of what it stored): bounds one log
 * record's argument count. */
#define AP_PROPAGATE_BATCH 1024

/* Longest string SETRANGE/APPEND may produce: proto-max-bulk-len. */

/* Client name and library names. */
#define AP_CLIENT_NAME_MAX 1024

/* Client-side protocol codec (net/client.h: apiary-bench, cluster bus). */
/* Aggregate nesting a reply may have; deeper is a protocol error. Redis's
 * own replies nest a few levels; Redis bounds requests the same way. */
#define AP_CLIENT_DEPTH_MAX 64
/* Longest reply header or simple line (+ - : , ( ...) a client accepts. */
#define AP_CLIENT_LINE_MAX (64 * 1024)
/* Bytes of a top-level error or string a client parser keeps: enough for
 * an error code and a MOVED/ASK target with an IPv6 address. */
#define AP_CLIENT_TEXT_KEEP 256

/* apiary-bench: bounds on its options and buffers. */
#define AP_BENCH_THREADS_MAX	256
#define AP_BENCH_CLIENTS_MAX	10000  /* connections per thread */
#define AP_BENCH_PIPELINE_MAX	4096   /* requests in flight per connection */
#define AP_BENCH_CMDS_MAX	32     /* --command entries */
#define AP_BENCH_CMD_ARGS_MAX	64     /* arguments of one --command */
#define AP_BENCH_WEIGHT_SUM_MAX 100000 /* sum of ratios: the schedule table */
#define AP_BENCH_DATA_SIZE_MAX	(64 * 1024 * 1024) /* -d: largest value */
#define AP_BENCH_SEND_BUF_MIN	(64 * 1024) /* per-connection request buffer */
#define AP_BENCH_RECV_BUF_SIZE	(16 * 1024) /* provided receive buffers */
#define AP_BENCH_RECV_BUF_COUNT 1024	    /* per thread (power of two) */
#define AP_BENCH_DURATION_MAX	(7 * 24 * 3600) /* --test-time, --warmup */
/* --cluster-mode: nodes a run may learn of (CLUSTER SLOTS, MOVED); each
 * thread opens --clients connections to every one. */
#define AP_BENCH_NODES_MAX 64
/* Redirects (MOVED/ASK) one request may follow before it counts as an
 * error: a cluster that keeps bouncing a request is broken. */
#define AP_BENCH_REDIRECTS_MAX 5

#endif
