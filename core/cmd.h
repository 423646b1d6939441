/*
 * cmd.h - the command table and the context a command runs in.
 *
 * A command is a function over a struct ap_cmd_ctx: its arguments, the
 * database it addresses on the shard that owns its keys, and the reply
 * writer. Commands in core touch only that shard's keyspace; commands that
 * need the whole server (INFO, CLIENT, CONFIG, KEYS, FLUSHALL, ...) live in
 * shards/ and are registered into the same table.
 *
 * The key specification (first, last, step; as Redis's COMMAND INFO) tells
 * the dispatcher which shard runs the command: every key must hash to one
 * shard, or the command must have a split strategy (enum ap_cmd_split) that
 * runs it per shard and merges the replies.
 *
 * Arguments point into the connection's read buffer or a cross-shard
 * message: valid only while the command runs. Never store them.
 *
 * Threading: the table is built at start, before threads, then read-only.
 */
#ifndef AP_CORE_CMD_H
#define AP_CORE_CMD_H

#include "core/base.h"
#include "core/config.h"
#include "core/keyspace.h"
#include "core/limits.h"
#include "core/reply.h"

struct ap_arg {
	const char *p;
	size_t len;
};

enum ap_cmd_flags {
	AP_CMD_WRITE = 1 << 0,
	AP_CMD_READONLY = 1 << 1,
	AP_CMD_DENYOOM = 1 << 2,
	AP_CMD_ADMIN = 1 << 3,
	AP_CMD_PUBSUB = 1 << 4,
	AP_CMD_NOSCRIPT = 1 << 5,
	AP_CMD_BLOCKING = 1 << 6,
	AP_CMD_LOADING = 1 << 7,
	AP_CMD_STALE = 1 << 8,
	AP_CMD_FAST = 1 << 9,
	AP_CMD_NO_AUTH = 1 << 10,
	AP_CMD_MAY_REPLICATE = 1 << 11,
	AP_CMD_NO_MULTI = 1 << 12,
	AP_CMD_ALLOW_BUSY = 1 << 13,
	/* Runs on the connection's own shard with access to the server (the
	 * ctx->server ops), never forwarded by key. */
	AP_CMD_SERVER = 1 << 14,
	AP_CMD_MOVABLE_KEYS = 1 << 15,
	/* Sees (or changes) the whole keyspace at one instant (KEYS, DBSIZE,
	 * FLUSHALL, SWAPDB): with several shards it runs holding every
	 * shard's whole-shard lock, shared when READONLY, else exclusive. */
	AP_CMD_WHOLE_KEYSPACE = 1 << 16,
};

/* How a command whose keys live on several shards is run. */
enum ap_cmd_split {
	AP_SPLIT_NONE = 0, /* all keys must be on one shard (else CROSSSLOT-
			      like handling by the dispatcher) */
	AP_SPLIT_ARRAY,	   /* MGET: run per shard, interleave array items */
	AP_SPLIT_SUM,	   /* DEL, EXISTS, TOUCH, UNLINK: add integers */
	AP_SPLIT_OK,	   /* MSET: +OK if every part said +OK */
	AP_SPLIT_CUSTOM,   /* the shards layer has a coordinator for it */
};

struct ap_cmd_ctx;
struct ap_cmd_prop_ops;
typedef void ap_cmd_fn(struct ap_cmd_ctx *c);

/*
 * Streamed replies (docs/architecture.md "Streamed replies"). A read
 * command whose reply would hold more than AP_REPLY_STREAM_MIN elements
 * (SMEMBERS of a huge set) may, when its executor allows it
 * (ctx->may_stream), write the reply's header and a first step and hand
 * the rest to ctx->stream. The executor calls step once per loop tick
 * (the shard's other clients are served in between) until it returns
 * true, then free; or free alone when the client went away. The bytes
 * are exactly those of the same reply written in one go at the instant
 * the command ran: the executor keeps the key (entry) unchanged,
 * undeleted and unexpired until free (a lock on the key and
 * ap_entry_pin_set). The state belongs to the stream and points into
 * the key's value, never into the command's arguments.
 */
/* Writes the reply's next elements into r: at most `budget` of them,
 * and none once AP_REPLY_STREAM_BUDGET_BYTES were written by this call
 * (at least one). Returns true when the reply is complete. */
typedef bool ap_cmd_stream_step_fn(void *state, struct ap_reply *r,
				   size_t budget);
/* Frees the state, whether the reply is complete or not. */
typedef void ap_cmd_stream_free_fn(void *state);
struct ap_cmd_stream {
	ap_cmd_stream_step_fn *step; /* NULL: the reply is complete */
	ap_cmd_stream_free_fn *free;
	void *state;
	struct ap_entry *entry; /* the key being read */
};
/* Key positions of a movable-keys command (ZUNIONSTORE dest numkeys k...,
 * LMPOP numkeys k..., SORT ... STORE dest): writes at most max argv
 * indexes into idx and returns the count. Malformed arguments give the
 * keys that can be found (maybe none); the command reports the error. */
typedef size_t ap_cmd_getkeys_fn(int argc, const struct ap_arg *argv, int *idx,
				 size_t max);

struct ap_cmd {
	const char *name; /* lower case */
	int arity;	  /* as Redis: >0 exact, <0 at least -arity */
	uint32_t flags;	  /* enum ap_cmd_flags */
	int first_key;	  /* 0: no keys */
	int last_key;	  /* -1: last argument, -2: second to last ... */
	int key_step;
	enum ap_cmd_split split;
	ap_cmd_fn *fn;
	/* Movable keys (with AP_CMD_MOVABLE_KEYS): overrides first/last/step,
	 * which then describe only the fixed part for COMMAND INFO. */
	ap_cmd_getkeys_fn *getkeys;
	/* COMMAND DOCS / INFO. */
	const char *group; /* "string", "generic", "server", ... */
	const char *summary;
	const char *since;
	const char *complexity;
	const char *acl_categories; /* "@write @string @slow" */
	/* Subcommands (CONFIG GET, ...), NULL-name terminated; fn of the
	 * container is called when this is NULL. */
	const struct ap_cmd *subcmds;
};

/* Server-level services a command may need; provided by the shards layer.
 * Core commands use only `ks`, `db`, `r` and the args. */
struct ap_server;
struct ap_client;

struct ap_cmd_ctx {
	struct ap_keyspace *ks;
	struct ap_db *db;
	unsigned db_idx;
	struct ap_reply *r;
	const struct ap_config *cfg; /* this shard's copy */
	int argc;
	const struct ap_arg *argv;
	const struct ap_cmd *cmd;
	/* Set by the shards layer; NULL when a command runs on behalf of a
	 * remote connection (commands needing them are AP_CMD_SERVER). */
	struct ap_server *server;
	struct ap_client *client;
	/* Keys changed by this command (INFO, persistence, WATCH later). */
	uint64_t dirty;
	/* Blocking commands (BLPOP, ...). In: never block (inside EXEC, a
	 * retry by the blocking layer); reply the command's timeout reply
	 * instead. Out: found nothing and wrote no reply; block with this
	 * timeout (ms, 0 = forever). */
	bool no_block;
	bool block;
	int64_t block_timeout_ms;
	/* Persistence (and, later, replication): where a write command's
	 * change is recorded; NULL when nothing records (no log, a private
	 * scratch keyspace, loading). The shards layer records a command
	 * that changed data (dirty > 0) as it was called, unless the command
	 * recorded its own deterministic form with ap_cmd_propagate, which
	 * sets `propagated`. */
	const struct ap_cmd_prop_ops *prop;
	void *prop_arg;
	bool propagated;
	/* Streamed replies (see struct ap_cmd_stream). In: the executor can
	 * step a stream (false in MULTI/EXEC, scratch keyspaces, blocking
	 * retries, tests unless set). Out: stream.step is set when the
	 * command wrote only the start of its reply. */
	bool may_stream;
	struct ap_cmd_stream stream;
};

/* Whether a reply of n elements is to be streamed (the command then
 * allocates its stream state and calls ap_cmd_stream_start). */
static inline bool ap_cmd_stream_wanted(const struct ap_cmd_ctx *c, size_t n)
{
	return c->may_stream && n > AP_REPLY_STREAM_MIN;
}

/* Whether a step that began when r's output held `start` bytes and has
 * written `done` elements may write one more, `budget` being its
 * allowance (see ap_cmd_stream_step_fn). */
static inline bool ap_cmd_stream_more(const struct ap_reply *r, size_t start,
				      size_t done, size_t budget)
{
	return done < budget &&
	       (done == 0 ||
		r->out->len - start < AP_REPLY_STREAM_BUDGET_BYTES);
}

/* After the header: writes the first step of a streamed reply; when that
 * completed it, frees the state; else hands it to the executor
 * (c->stream) for the steps to come. e is the key's entry. */
static inline void ap_cmd_stream_start(struct ap_cmd_ctx *c,
				       ap_cmd_stream_step_fn *step,
				       ap_cmd_stream_free_fn *free_fn,
				       void *state, struct ap_entry *e)
{
	AP_ASSERT(c->may_stream && c->stream.step == NULL && e != NULL);
	if (step(state, c->r, AP_REPLY_STREAM_BUDGET)) {
		free_fn(state);
		return;
	}
	c->stream.step = step;
	c->stream.free = free_fn;
	c->stream.state = state;
	c->stream.entry = e;
}

/* The recorder behind ctx->prop. */
struct ap_cmd_prop_ops {
	/* One command, in the form that reproduces the change when run again
	 * later (at load) in database db. */
	void (*cmd)(void *arg, unsigned db, int argc,
		    const struct ap_arg *argv);
};

/*
 * Records argv[0..argc) instead of the command as it was called: for a
 * command whose effect depends on the time or on chance (EXPIRE ->
 * PEXPIREAT, SPOP -> SREM of what it popped, INCRBYFLOAT -> SET of the
 * result, ...). May be called several times; each call is one record, in
 * order, in the command's database. Call it only when data changed. Sets
 * c->propagated even when nothing records (c->prop NULL), so the rule
 * "record as called" never applies to such a command.
 */
void ap_cmd_propagate(struct ap_cmd_ctx *c, int argc,
		      const struct ap_arg *argv);

/*
 * A command sets key k's (entry e's) expire time to `when`, which has
 * already passed: the key is deleted (a delete by the command, not an
 * expiry: no expiry is counted or reported) and true returned; except
 * while loading, when the key stays with that time, as it was when the
 * logged command first ran, and false is returned.
 */
bool ap_cmd_expire_passed(struct ap_cmd_ctx *c, const struct ap_arg *k,
			  struct ap_entry *e, int64_t when);

/* Registration at start. Tables are arrays terminated by a NULL name. */
void ap_cmd_table_add(const struct ap_cmd *cmds);
/* Finds a command by name (case-insensitive). */
const struct ap_cmd *ap_cmd_lookup(const char *name, size_t len);
/* Iterates all registered commands (COMMAND, COMMAND COUNT). */
size_t ap_cmd_count(void);
const struct ap_cmd *ap_cmd_at(size_t idx);
/* Finds a subcommand of cmd by name; NULL if none. */
const struct ap_cmd *ap_cmd_sub_lookup(const struct ap_cmd *cmd,
				       const char *name, size_t len);
/* True if argc satisfies the command's arity. */
bool ap_cmd_arity_ok(const struct ap_cmd *cmd, int argc);
/* Key positions of a command invocation (indexes into argv), honouring
 * getkeys or first/last/step. Writes at most max; returns the number of
 * keys. */
size_t ap_cmd_keys(const struct ap_cmd *cmd, int argc,
		   const struct ap_arg *argv, int *idx, size_t max);
/* The key positions of one invocation, in a small array on the caller's
 * stack when they fit, else allocated: the walk every layer does over a
 * command's keys (routing, locks, WATCH, blocking). The struct points
 * into itself: do not copy it. Pair init with deinit. */
#define AP_KEYIDX_SMALL 32
struct ap_keyidx {
	int *idx; /* n positions into argv */
	size_t n;
	int small[AP_KEYIDX_SMALL];
};
void ap_keyidx_init(struct ap_keyidx *k, const struct ap_cmd *cmd, int argc,
		    const struct ap_arg *argv);
void ap_keyidx_deinit(struct ap_keyidx *k);
/* getkeys helper for the "numkeys key [key ...]" shape: the keys counted
 * by the integer at argv[numkeys_at] and following it, plus argv[dest_at]
 * first when dest_at > 0 (ZUNIONSTORE's destination). A numkeys that is
 * not a positive integer or overruns argc gives only the destination. */
size_t ap_cmd_keys_numkeys(int argc, const struct ap_arg *argv, int *idx,
			   size_t max, int dest_at, int numkeys_at);

/* The command tables core provides. */
extern const struct ap_cmd ap_cmds_string[];
extern const struct ap_cmd ap_cmds_keys[];
extern const struct ap_cmd ap_cmds_list[];
extern const struct ap_cmd ap_cmds_hash[];
extern const struct ap_cmd ap_cmds_set[];
extern const struct ap_cmd ap_cmds_zset[];
extern const struct ap_cmd ap_cmds_sort[];
extern const struct ap_cmd ap_cmds_dump[];
/* The collection types' value operations (NULL while a type is absent). */
extern const struct ap_type_ops *const ap_list_type_ops;
extern const struct ap_type_ops *const ap_hash_type_ops;
extern const struct ap_type_ops *const ap_set_type_ops;
extern const struct ap_type_ops *const ap_zset_type_ops;
/* Registers every core command table and collection type: call once at
 * start, before threads. */
void ap_core_setup(void);

/* Shared argument helpers: parse or reply the Redis error and return
 * false. */
bool ap_arg_ll(struct ap_cmd_ctx *c, const struct ap_arg *a, long long *out);
bool ap_arg_ld(struct ap_cmd_ctx *c, const struct ap_arg *a, long double *out);
bool ap_arg_eq(const struct ap_arg *a, const char *lit); /* case-insens. */
/* An integer within [min, max]; outside, Redis's "ERR value is out of
 * range, value must between <min> and <max>". */
bool ap_arg_ll_range(struct ap_cmd_ctx *c, const struct ap_arg *a,
		     long long min, long long max, long long *out);
/* A blocking command's timeout argument (seconds, fractions allowed, 0 =
 * forever) in ms; replies Redis's error and returns false if it is not a
 * number, negative or too big. */
bool ap_arg_timeout(struct ap_cmd_ctx *c, const struct ap_arg *a, int64_t *ms);
/* A blocking command found nothing: asks to block for timeout_ms (0 =
 * forever) and returns true, writing no reply; or, when the command may
 * not block (c->no_block: inside EXEC, a timed-out retry), returns false
 * and the command replies its "nothing" (a null). */
bool ap_cmd_block(struct ap_cmd_ctx *c, int64_t timeout_ms);

/*
 * The SCAN family (SCAN, HSCAN, SSCAN, ZSCAN), in Redis's order of checks:
 * the cursor (ap_scan_cursor_parse), then for a key's scan the key (a
 * missing key answers an empty, finished scan whatever the options:
 * ap_scan_reply_write(r, 0, 0, NULL)), then the options
 * (ap_scan_args_parse), then the reply.
 */
struct ap_scan_args {
	size_t count;		    /* COUNT n (n >= 1); 10 without */
	const struct ap_arg *match; /* NULL without MATCH or for "*" */
	const struct ap_arg *type;  /* SCAN's TYPE name; NULL without */
};
/* The cursor a, as Redis 7 reads it (strtoul in base 10 over the text
 * before any NUL byte): an optional sign and decimal digits, a negative
 * value wrapping modulo 2^64, an empty text 0. Anything else (a leading
 * space, other characters, more than 64 bits) replies "ERR invalid
 * cursor" and returns false. */
bool ap_scan_cursor_parse(struct ap_cmd_ctx *c, const struct ap_arg *a,
			  uint64_t *cursor);
/* The options argv[first..argc): MATCH pattern, COUNT n, and TYPE name
 * when with_type (SCAN; a key's scan has no TYPE), in any order, the last
 * of each winning. Replies Redis's error (a syntax error for an unknown
 * or incomplete option or COUNT < 1, "not an integer" for a bad COUNT)
 * and returns false. */
bool ap_scan_args_parse(struct ap_cmd_ctx *c, int first, bool with_type,
			struct ap_scan_args *out);
/* Writes a scan reply: the next cursor, then an array of n elements
 * already written in RESP form into items, which are moved (items is left
 * empty; it may be NULL when n is 0). */
void ap_scan_reply_write(struct ap_reply *r, uint64_t cursor, size_t n,
			 struct ap_obuf *items);

/* Common error texts (Redis's words). */
#define AP_ERR_WRONGTYPE \
	"WRONGTYPE Operation against a key holding the wrong kind of value"
#define AP_ERR_SYNTAX	   "ERR syntax error"
#define AP_ERR_NOT_INT	   "ERR value is not an integer or out of range"
#define AP_ERR_NOT_FLOAT   "ERR value is not a valid float"
#define AP_ERR_OVERFLOW	   "ERR increment or decrement would overflow"
#define AP_ERR_NO_KEY	   "ERR no such key"
#define AP_ERR_EXPIRE_TIME "ERR invalid expire time in '%s' command"
#define AP_ERR_STR_TOO_LONG \
	"ERR string exceeds maximum allowed size (proto-max-bulk-len)"

#endif
