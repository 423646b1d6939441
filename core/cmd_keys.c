/*
 * cmd_keys.c - the generic key commands of one shard: DEL, UNLINK, EXISTS,
 * TOUCH, TYPE, the EXPIRE and TTL families, PERSIST, RENAME, RENAMENX,
 * COPY, MOVE and OBJECT.
 *
 * Every function here assumes that all keys named by the command live on
 * this shard: the shards layer splits DEL/UNLINK/EXISTS/TOUCH per shard
 * (AP_SPLIT_SUM) and coordinates RENAME/RENAMENX/COPY whose two keys live
 * on different shards (AP_SPLIT_CUSTOM). COPY ... DB n and MOVE reach the
 * other databases of the same shard through ap_keyspace_db().
 *
 * Semantics, replies and error texts follow the Redis 7 command reference.
 * Lazy expiry is done by ap_db_lookup; every change bumps ctx->dirty.
 */
#include <limits.h>
#include <string.h>

#include "core/cmd.h"

/* Writes the integer count of `flags`-lookups that found a key, for EXISTS
 * (duplicates counted) and TOUCH. */
static void count_existing(struct ap_cmd_ctx *c, unsigned flags)
{
	long long n = 0;

	for (int i = 1; i < c->argc; i++) {
		if (ap_db_lookup(c->db, c->argv[i].p, c->argv[i].len, flags))
			n++;
	}
	ap_reply_int(c->r, n);
}

/* True if two arguments hold the same bytes. */
static bool arg_same(const struct ap_arg *a, const struct ap_arg *b)
{
	return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/* DEL/UNLINK key [key ...]: deletes the keys that exist and replies how
 * many were deleted. A key named twice is counted once (the second delete
 * finds nothing). */
static void cmd_del(struct ap_cmd_ctx *c)
{
	long long n = 0;

	AP_ASSERT(c->argc >= 2);
	for (int i = 1; i < c->argc; i++) {
		if (ap_db_delete(c->db, c->argv[i].p, c->argv[i].len))
			n++;
	}
	c->dirty += (uint64_t)n;
	ap_reply_int(c->r, n);
}

/* EXISTS key [key ...]: how many of the named keys exist, duplicates
 * counted each time. Does not touch the LRU clock. */
static void cmd_exists(struct ap_cmd_ctx *c)
{
	count_existing(c, AP_LK_READ | AP_LK_NOTOUCH);
}

/* TOUCH key [key ...]: stamps the access time of the keys that exist and
 * replies how many did. */
static void cmd_touch(struct ap_cmd_ctx *c)
{
	count_existing(c, AP_LK_READ);
}

/* TYPE key: status reply with the type name, "none" for a missing key. */
static void cmd_type(struct ap_cmd_ctx *c)
{
	struct ap_entry *e = ap_db_lookup(c->db, c->argv[1].p, c->argv[1].len,
					  AP_LK_READ | AP_LK_NOTOUCH);

	ap_reply_status(c->r, e ? ap_type_name(ap_entry_type(e)) : "none");
}

/* --- EXPIRE family ---------------------------------------------------- */

enum expire_flag {
	EXP_NX = 1 << 0,
	EXP_XX = 1 << 1,
	EXP_GT = 1 << 2,
	EXP_LT = 1 << 3,
};

/* Parses the NX/XX/GT/LT options from argv[3] on into *flags. On an
 * unknown option or an incompatible pair replies the Redis error and
 * returns false. */
static bool expire_flags_parse(struct ap_cmd_ctx *c, unsigned *flags)
{
	static const struct {
		const char *name;
		unsigned flag;
	} opts[] = {
		{"nx", EXP_NX},
		{"xx", EXP_XX},
		{"gt", EXP_GT},
		{"lt", EXP_LT},
	};
	unsigned f = 0;

	for (int i = 3; i < c->argc; i++) {
		size_t k = 0;

		while (k < AP_ARRAY_LEN(opts) &&
		       !ap_arg_eq(&c->argv[i], opts[k].name))
			k++;
		if (k == AP_ARRAY_LEN(opts)) {
			ap_reply_errorf(c->r, "ERR Unsupported option %.*s",
					(int)c->argv[i].len, c->argv[i].p);
			return false;
		}
		f |= opts[k].flag;
	}
	if ((f & EXP_NX) && (f & (EXP_XX | EXP_GT | EXP_LT))) {
		ap_reply_error(c->r, "ERR NX and XX, GT or LT options at the "
				     "same time are not compatible");
		return false;
	}
	if ((f & EXP_GT) && (f & EXP_LT)) {
		ap_reply_error(c->r, "ERR GT and LT options at the same time "
				     "are not compatible");
		return false;
	}
	*flags = f;
	return true;
}

/* True if the options allow replacing the current expiry `cur` (absolute
 * ms, or AP_NO_EXPIRE meaning an infinite TTL) with `when`. */
static bool expire_allowed(unsigned flags, int64_t cur, int64_t when)
{
	bool has_ttl = cur != AP_NO_EXPIRE;

	if ((flags & EXP_NX) && has_ttl)
		return false;
	if ((flags & EXP_XX) && !has_ttl)
		return false;
	if ((flags & EXP_GT) && (!has_ttl || when <= cur))
		return false;
	if ((flags & EXP_LT) && has_ttl && when >= cur)
		return false;
	return true;
}

/* Converts the time argument to an absolute Unix time in ms: value times
 * 1000 if `seconds`, plus base_ms. Replies the Redis error and returns
 * false on a non-integer or on overflow. `name` is the command name used
 * in the error text. */
static bool expire_when_parse(struct ap_cmd_ctx *c, int64_t base_ms,
			      bool seconds, const char *name, int64_t *out)
{
	long long v;

	if (!ap_arg_ll(c, &c->argv[2], &v))
		return false;
	if (seconds && __builtin_mul_overflow(v, 1000LL, &v)) {
		ap_reply_errorf(c->r, AP_ERR_EXPIRE_TIME, name);
		return false;
	}
	if (__builtin_add_overflow(v, (long long)base_ms, &v)) {
		ap_reply_errorf(c->r, AP_ERR_EXPIRE_TIME, name);
		return false;
	}
	*out = v;
	return true;
}

/*
 * Records the change of an EXPIRE-family command on argv[1]: "PEXPIREAT
 * key when", absolute and without NX/XX/GT/LT (their condition was met),
 * or "DEL key" when the key went.
 */
static void expire_propagate(struct ap_cmd_ctx *c, bool deleted, int64_t when)
{
	char buf[AP_INT_STR_SIZE];
	struct ap_arg argv[3] = {
		{.p = "PEXPIREAT", .len = 9},
		c->argv[1],
		{.p = buf},
	};

	if (deleted) {
		argv[0] = (struct ap_arg){.p = "DEL", .len = 3};
		ap_cmd_propagate(c, 2, argv);
		return;
	}
	argv[2].len = ap_ll_to_str(buf, when);
	ap_cmd_propagate(c, 3, argv);
}

/* EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT key time [NX|XX|GT|LT]: sets the key's
 * expiry to time (seconds or ms if `seconds` is false) after base_ms (now
 * for the relative forms, 0 for the absolute ones). Replies 1 if the
 * expiry was set (a time not after now deletes the key), 0 if the key is
 * missing or the options refused the change. Recorded as PEXPIREAT (or
 * DEL), so a replay at any later time gives the same expire time. */
static void expire_generic(struct ap_cmd_ctx *c, int64_t base_ms, bool seconds,
			   const char *name)
{
	unsigned flags = 0;
	int64_t when;
	struct ap_entry *e;

	if (!expire_flags_parse(c, &flags))
		return;
	if (!expire_when_parse(c, base_ms, seconds, name, &when))
		return;
	e = ap_db_lookup(c->db, c->argv[1].p, c->argv[1].len, 0);
	if (!e || !expire_allowed(flags, ap_entry_expire(e), when)) {
		ap_reply_int(c->r, 0);
		return;
	}
	bool deleted = false;
	if (when <= ap_keyspace_now(c->ks))
		deleted = ap_cmd_expire_passed(c, &c->argv[1], e, when);
	else
		ap_db_set_expire(c->db, &e, when);
	c->dirty++;
	expire_propagate(c, deleted, when);
	ap_reply_int(c->r, 1);
}

/* EXPIRE key seconds [NX|XX|GT|LT]. */
static void cmd_expire(struct ap_cmd_ctx *c)
{
	expire_generic(c, ap_keyspace_now(c->ks), true, "expire");
}

/* PEXPIRE key milliseconds [NX|XX|GT|LT]. */
static void cmd_pexpire(struct ap_cmd_ctx *c)
{
	expire_generic(c, ap_keyspace_now(c->ks), false, "pexpire");
}

/* EXPIREAT key unix-time-seconds [NX|XX|GT|LT]. */
static void cmd_expireat(struct ap_cmd_ctx *c)
{
	expire_generic(c, 0, true, "expireat");
}

/* PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]. */
static void cmd_pexpireat(struct ap_cmd_ctx *c)
{
	expire_generic(c, 0, false, "pexpireat");
}

/* TTL/PTTL/EXPIRETIME/PEXPIRETIME key: -2 for a missing key, -1 for a key
 * without expiry, else the remaining time (or the absolute time if `abs`)
 * in ms if `ms`, else in seconds rounded to the nearest one, as Redis. */
static void ttl_generic(struct ap_cmd_ctx *c, bool ms, bool abs)
{
	struct ap_entry *e = ap_db_lookup(c->db, c->argv[1].p, c->argv[1].len,
					  AP_LK_READ | AP_LK_NOTOUCH);
	int64_t t;

	if (!e) {
		ap_reply_int(c->r, -2);
		return;
	}
	t = ap_entry_expire(e);
	if (t == AP_NO_EXPIRE) {
		ap_reply_int(c->r, -1);
		return;
	}
	if (!abs)
		t -= ap_keyspace_now(c->ks);
	if (t < 0)
		t = 0;
	ap_reply_int(c->r, ms ? t : t / 1000 + (t % 1000 >= 500));
}

/* TTL key: remaining seconds. */
static void cmd_ttl(struct ap_cmd_ctx *c)
{
	ttl_generic(c, false, false);
}

/* PTTL key: remaining milliseconds. */
static void cmd_pttl(struct ap_cmd_ctx *c)
{
	ttl_generic(c, true, false);
}

/* EXPIRETIME key: absolute expiry in Unix seconds. */
static void cmd_expiretime(struct ap_cmd_ctx *c)
{
	ttl_generic(c, false, true);
}

/* PEXPIRETIME key: absolute expiry in Unix milliseconds. */
static void cmd_pexpiretime(struct ap_cmd_ctx *c)
{
	ttl_generic(c, true, true);
}

/* PERSIST key: removes the TTL; 1 if there was one, else 0. */
static void cmd_persist(struct ap_cmd_ctx *c)
{
	struct ap_entry *e =
		ap_db_lookup(c->db, c->argv[1].p, c->argv[1].len, 0);

	if (!e || ap_entry_expire(e) == AP_NO_EXPIRE) {
		ap_reply_int(c->r, 0);
		return;
	}
	ap_db_set_expire(c->db, &e, AP_NO_EXPIRE);
	c->dirty++;
	ap_reply_int(c->r, 1);
}

/* --- RENAME, COPY, MOVE ----------------------------------------------- */

/* RENAME/RENAMENX key newkey: moves the value and its TTL to newkey.
 * RENAME replaces newkey and replies +OK; RENAMENX replies 0 if newkey
 * exists, else 1. A missing key is "ERR no such key"; renaming a key to
 * itself changes nothing (RENAMENX then replies 0). */
static void rename_generic(struct ap_cmd_ctx *c, bool nx)
{
	const struct ap_arg *src = &c->argv[1], *dst = &c->argv[2];
	struct ap_entry *e;

	if (!ap_db_lookup(c->db, src->p, src->len, 0)) {
		ap_reply_error(c->r, AP_ERR_NO_KEY);
		return;
	}
	if (arg_same(src, dst)) {
		if (nx)
			ap_reply_int(c->r, 0);
		else
			ap_reply_ok(c->r);
		return;
	}
	if (nx && ap_db_lookup(c->db, dst->p, dst->len, 0)) {
		ap_reply_int(c->r, 0);
		return;
	}
	e = ap_db_detach(c->db, src->p, src->len);
	AP_ASSERT(e != NULL);
	e = ap_db_attach(c->db, e, dst->p, dst->len, true);
	AP_ASSERT(e != NULL);
	c->dirty++;
	if (nx)
		ap_reply_int(c->r, 1);
	else
		ap_reply_ok(c->r);
}

/* RENAME key newkey. */
static void cmd_rename(struct ap_cmd_ctx *c)
{
	rename_generic(c, false);
}

/* RENAMENX key newkey. */
static void cmd_renamenx(struct ap_cmd_ctx *c)
{
	rename_generic(c, true);
}

/* Parses a database index argument as Redis's SELECT/MOVE/COPY do: an
 * integer in int range, then one of this shard's databases. Replies the
 * error and returns false otherwise. */
static bool db_index_parse(struct ap_cmd_ctx *c, const struct ap_arg *a,
			   unsigned *out)
{
	long long v;

	if (!ap_arg_ll(c, a, &v))
		return false;
	if (v < INT_MIN || v > INT_MAX) {
		ap_reply_errorf(c->r,
				"ERR value is out of range, value must "
				"between %d and %d",
				INT_MIN, INT_MAX);
		return false;
	}
	if (v < 0 || v >= (long long)ap_keyspace_db_count(c->ks)) {
		ap_reply_error(c->r, "ERR DB index is out of range");
		return false;
	}
	*out = (unsigned)v;
	return true;
}

#define ERR_SAME_OBJECT "ERR source and destination objects are the same"

/* Parses COPY's options (argv[3] on): DB n and REPLACE, each possibly
 * repeated (the last DB wins). Replies the error and returns false on a
 * bad option. */
static bool copy_opts_parse(struct ap_cmd_ctx *c, unsigned *db_idx,
			    bool *replace)
{
	for (int i = 3; i < c->argc; i++) {
		if (ap_arg_eq(&c->argv[i], "replace")) {
			*replace = true;
		} else if (ap_arg_eq(&c->argv[i], "db") && i + 1 < c->argc) {
			if (!db_index_parse(c, &c->argv[i + 1], db_idx))
				return false;
			i++;
		} else {
			ap_reply_error(c->r, AP_ERR_SYNTAX);
			return false;
		}
	}
	return true;
}

/* COPY source destination [DB n] [REPLACE]: copies the value and TTL of
 * source to destination (in database n if given). Replies 1 if copied, 0
 * if source is missing or destination exists without REPLACE. */
static void cmd_copy(struct ap_cmd_ctx *c)
{
	const struct ap_arg *src = &c->argv[1], *dst = &c->argv[2];
	unsigned dst_idx = c->db_idx;
	bool replace = false;
	struct ap_db *ddb;
	struct ap_entry *e, *copy;

	if (!copy_opts_parse(c, &dst_idx, &replace))
		return;
	if (dst_idx == c->db_idx && arg_same(src, dst)) {
		ap_reply_error(c->r, ERR_SAME_OBJECT);
		return;
	}
	ddb = ap_keyspace_db(c->ks, dst_idx);
	if (!ap_db_lookup(c->db, src->p, src->len, AP_LK_READ) ||
	    (ap_db_lookup(ddb, dst->p, dst->len, 0) && !replace)) {
		ap_reply_int(c->r, 0);
		return;
	}
	/* Looked up again: the lookup in ddb may have changed this db. */
	e = ap_db_lookup(c->db, src->p, src->len, AP_LK_NOTOUCH);
	AP_ASSERT(e != NULL);
	copy = ap_entry_dup(e);
	copy = ap_db_attach(ddb, copy, dst->p, dst->len, true);
	AP_ASSERT(copy != NULL);
	c->dirty++;
	ap_reply_int(c->r, 1);
}

/* MOVE key db: moves the key with its TTL to database db of this shard.
 * Replies 1 if moved, 0 if the key is missing or exists in db. */
static void cmd_move(struct ap_cmd_ctx *c)
{
	const struct ap_arg *key = &c->argv[1];
	unsigned dst_idx;
	struct ap_db *ddb;
	struct ap_entry *e;

	if (!db_index_parse(c, &c->argv[2], &dst_idx))
		return;
	if (dst_idx == c->db_idx) {
		ap_reply_error(c->r, ERR_SAME_OBJECT);
		return;
	}
	ddb = ap_keyspace_db(c->ks, dst_idx);
	if (!ap_db_lookup(c->db, key->p, key->len, 0) ||
	    ap_db_lookup(ddb, key->p, key->len, 0)) {
		ap_reply_int(c->r, 0);
		return;
	}
	e = ap_db_detach(c->db, key->p, key->len);
	AP_ASSERT(e != NULL);
	e = ap_db_attach(ddb, e, key->p, key->len, false);
	AP_ASSERT(e != NULL);
	c->dirty++;
	ap_reply_int(c->r, 1);
}

/* --- OBJECT ----------------------------------------------------------- */

/* The key of OBJECT <sub> key without touching its access time; replies
 * a null and returns NULL if it is missing. */
static struct ap_entry *object_lookup(struct ap_cmd_ctx *c)
{
	struct ap_entry *e = ap_db_lookup(c->db, c->argv[2].p, c->argv[2].len,
					  AP_LK_READ | AP_LK_NOTOUCH);

	if (!e)
		ap_reply_null(c->r);
	return e;
}

/* OBJECT ENCODING key: the encoding name as a bulk string. */
static void cmd_object_encoding(struct ap_cmd_ctx *c)
{
	struct ap_entry *e = object_lookup(c);

	if (e)
		ap_reply_bulk_cstr(c->r, ap_enc_name(ap_entry_enc(e)));
}

/* OBJECT FREQ key: access frequency is tracked only under an LFU
 * maxmemory policy, which Apiary does not offer, so an existing key gets
 * Redis's error for that case. */
static void cmd_object_freq(struct ap_cmd_ctx *c)
{
	if (object_lookup(c))
		ap_reply_error(c->r,
			       "ERR An LFU maxmemory policy is not selected, "
			       "access frequency not tracked. Please note "
			       "that when switching between policies at "
			       "runtime LRU and LFU data will take some time "
			       "to adjust.");
}

/* OBJECT IDLETIME key: seconds since the key was last accessed. */
static void cmd_object_idletime(struct ap_cmd_ctx *c)
{
	struct ap_entry *e = object_lookup(c);

	if (e)
		ap_reply_int(c->r, (long long)ap_entry_idle_s(c->ks, e));
}

/* OBJECT REFCOUNT key: always 1, values are never shared. */
static void cmd_object_refcount(struct ap_cmd_ctx *c)
{
	if (object_lookup(c))
		ap_reply_int(c->r, 1);
}

/* OBJECT HELP: one status line per element, as Redis's help replies. */
static void cmd_object_help(struct ap_cmd_ctx *c)
{
	static const char *const lines[] = {
		"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands "
		"are:",
		"ENCODING <key>",
		"    Return the kind of internal representation used in order "
		"to store the value",
		"    associated with a <key>.",
		"FREQ <key>",
		"    Return the access frequency index of the <key>. The "
		"returned integer is",
		"    proportional to the logarithm of the recent access "
		"frequency of the key.",
		"IDLETIME <key>",
		"    Return the idle time of the <key>, that is the "
		"approximated number of",
		"    seconds elapsed since the last access to the key.",
		"REFCOUNT <key>",
		"    Return the number of references of the value associated "
		"with the specified",
		"    <key>.",
		"HELP",
		"    Print this help.",
	};

	ap_reply_array(c->r, AP_ARRAY_LEN(lines));
	for (size_t i = 0; i < AP_ARRAY_LEN(lines); i++)
		ap_reply_status(c->r, lines[i]);
}

/* MEMORY USAGE key [SAMPLES count]: the bytes the key and its value use
 * (allocation sizes; big collections are sampled by their type, so
 * SAMPLES is checked and accepted but the type decides), or nil. */
static void cmd_memory_usage(struct ap_cmd_ctx *c)
{
	for (int i = 3; i < c->argc; i += 2) {
		long long n;
		if (!ap_arg_eq(&c->argv[i], "samples") || i + 1 >= c->argc) {
			ap_reply_error(c->r, AP_ERR_SYNTAX);
			return;
		}
		if (!ap_arg_ll(c, &c->argv[i + 1], &n))
			return;
		if (n < 0) {
			ap_reply_error(c->r, AP_ERR_SYNTAX);
			return;
		}
	}
	struct ap_entry *e = ap_db_lookup(c->db, c->argv[2].p, c->argv[2].len,
					  AP_LK_NOTOUCH);
	if (e == NULL) {
		ap_reply_null(c->r);
		return;
	}
	/* The bucket slot pointing at the entry is part of its cost. */
	ap_reply_int(c->r, (long long)(ap_entry_mem(e) + sizeof(void *)));
}

static void cmd_memory_help(struct ap_cmd_ctx *c)
{
	static const char *const lines[] = {
		"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands "
		"are:",
		"USAGE <key> [SAMPLES <count>]",
		"    Return memory in bytes used by <key> and its value. "
		"Nested "
		"values are",
		"    sampled up to <count> times (default: 5, 0 means sample "
		"all).",
		"HELP",
		"    Print this help.",
	};

	ap_reply_array(c->r, AP_ARRAY_LEN(lines));
	for (size_t i = 0; i < AP_ARRAY_LEN(lines); i++)
		ap_reply_status(c->r, lines[i]);
}

/* --- table ------------------------------------------------------------ */

#define ACL_RS "@keyspace @read @slow"

static const struct ap_cmd memory_subcmds[] = {
	{.name = "memory|usage",
	 .arity = -3,
	 .flags = AP_CMD_READONLY,
	 .first_key = 2,
	 .last_key = 2,
	 .key_step = 1,
	 .fn = cmd_memory_usage,
	 .group = "server",
	 .summary = "Estimates the memory usage of a key.",
	 .since = "4.0.0",
	 .complexity = "O(N) where N is the number of samples.",
	 .acl_categories = ACL_RS},
	{.name = "memory|help",
	 .arity = 2,
	 .flags = AP_CMD_LOADING | AP_CMD_STALE,
	 .fn = cmd_memory_help,
	 .group = "server",
	 .summary = "Returns helpful text about the different subcommands.",
	 .since = "4.0.0",
	 .complexity = "O(1)",
	 .acl_categories = "@slow"},
	{.name = NULL},
};

static const struct ap_cmd object_subcmds[] = {
	{.name = "object|encoding",
	 .arity = 3,
	 .flags = AP_CMD_READONLY,
	 .first_key = 2,
	 .last_key = 2,
	 .key_step = 1,
	 .fn = cmd_object_encoding,
	 .group = "generic",
	 .summary = "Returns the internal encoding of a Redis object.",
	 .since = "2.2.3",
	 .complexity = "O(1)",
	 .acl_categories = ACL_RS},
	{.name = "object|freq",
	 .arity = 3,
	 .flags = AP_CMD_READONLY,
	 .first_key = 2,
	 .last_key = 2,
	 .key_step = 1,
	 .fn = cmd_object_freq,
	 .group = "generic",
	 .summary = "Returns the logarithmic access frequency counter of a "
		    "Redis object.",
	 .since = "4.0.0",
	 .complexity = "O(1)",
	 .acl_categories = ACL_RS},
	{.name = "object|idletime",
	 .arity = 3,
	 .flags = AP_CMD_READONLY,
	 .first_key = 2,
	 .last_key = 2,
	 .key_step = 1,
	 .fn = cmd_object_idletime,
	 .group = "generic",
	 .summary = "Returns the time since the last access to a Redis "
		    "object.",
	 .since = "2.2.3",
	 .complexity = "O(1)",
	 .acl_categories = ACL_RS},
	{.name = "object|refcount",
	 .arity = 3,
	 .flags = AP_CMD_READONLY,
	 .first_key = 2,
	 .last_key = 2,
	 .key_step = 1,
	 .fn = cmd_object_refcount,
	 .group = "generic",
	 .summary = "Returns the reference count of a value of a key.",
	 .since = "2.2.3",
	 .complexity = "O(1)",
	 .acl_categories = ACL_RS},
	{.name = "object|help",
	 .arity = 2,
	 .flags = AP_CMD_LOADING | AP_CMD_STALE,
	 .fn = cmd_object_help,
	 .group = "generic",
	 .summary = "Returns helpful text about the different subcommands.",
	 .since = "6.2.0",
	 .complexity = "O(1)",
	 .acl_categories = "@keyspace @slow"},
	{.name = NULL},
};

/* One-key command: key at argv[1]. */
#define KEY1 .first_key = 1, .last_key = 1, .key_step = 1
/* Every argument from argv[1] on is a key. */
#define KEYS_ALL .first_key = 1, .last_key = -1, .key_step = 1
/* Source and destination keys at argv[1] and argv[2]. */
#define KEYS_2 .first_key = 1, .last_key = 2, .key_step = 1

#define ACL_WF "@keyspace @write @fast"
#define ACL_WS "@keyspace @write @slow"
#define ACL_RF "@keyspace @read @fast"

const struct ap_cmd ap_cmds_keys[] = {
	{.name = "del",
	 .arity = -2,
	 .flags = AP_CMD_WRITE,
	 KEYS_ALL,
	 .split = AP_SPLIT_SUM,
	 .fn = cmd_del,
	 .group = "generic",
	 .summary = "Deletes one or more keys.",
	 .since = "1.0.0",
	 .complexity =
		 "O(N) where N is the number of keys that will be removed. "
		 "When a key to remove holds a value other than a string, "
		 "the individual complexity for this key is O(M) where M is "
		 "the number of elements in the list, set, sorted set or "
		 "hash. Removing a single key that holds a string value is "
		 "O(1).",
	 .acl_categories = ACL_WS},
	{.name = "unlink",
	 .arity = -2,
	 .flags = AP_CMD_WRITE | AP_CMD_FAST,
	 KEYS_ALL,
	 .split = AP_SPLIT_SUM,
	 .fn = cmd_del,
	 .group = "generic",
	 .summary = "Asynchronously deletes one or more keys.",
	 .since = "4.0.0",
	 .complexity = "O(1) for each key removed regardless of its size. "
		       "Then the command does O(N) work in a different thread "
		       "in order to reclaim memory, where N is the number of "
		       "allocations the deleted objects where composed of.",
	 .acl_categories = ACL_WF},
	{.name = "exists",
	 .arity = -2,
	 .flags = AP_CMD_READONLY | AP_CMD_FAST,
	 KEYS_ALL,
	 .split = AP_SPLIT_SUM,
	 .fn = cmd_exists,
	 .group = "generic",
	 .summary = "Determines whether one or more keys exist.",
	 .since = "1.0.0",
	 .complexity = "O(N) where N is the number of keys to check.",
	 .acl_categories = ACL_RF},
	{.name = "touch",
	 .arity = -2,
	 .flags = AP_CMD_READONLY | AP_CMD_FAST,
	 KEYS_ALL,
	 .split = AP_SPLIT_SUM,
	 .fn = cmd_touch,
	 .group = "generic",
	 .summary = "Returns the number of existing keys out of those "
		    "specified after updating the time they were last "
		    "accessed.",
	 .since = "3.2.1",
	 .complexity = "O(N) where N is the number of keys that will be "
		       "touched.",
	 .acl_categories = ACL_RF},
	{.name = "type",
	 .arity = 2,
	 .flags = AP_CMD_READONLY | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_type,
	 .group = "generic",
	 .summary = "Determines the type of value stored at a key.",
	 .since = "1.0.0",
	 .complexity = "O(1)",
	 .acl_categories = ACL_RF},
	{.name = "expire",
	 .arity = -3,
	 .flags = AP_CMD_WRITE | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_expire,
	 .group = "generic",
	 .summary = "Sets the expiration time of a key in seconds.",
	 .since = "1.0.0",
	 .complexity = "O(1)",
	 .acl_categories = ACL_WF},
	{.name = "pexpire",
	 .arity = -3,
	 .flags = AP_CMD_WRITE | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_pexpire,
	 .group = "generic",
	 .summary = "Sets the expiration time of a key in milliseconds.",
	 .since = "2.6.0",
	 .complexity = "O(1)",
	 .acl_categories = ACL_WF},
	{.name = "expireat",
	 .arity = -3,
	 .flags = AP_CMD_WRITE | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_expireat,
	 .group = "generic",
	 .summary = "Sets the expiration time of a key to a Unix timestamp.",
	 .since = "1.2.0",
	 .complexity = "O(1)",
	 .acl_categories = ACL_WF},
	{.name = "pexpireat",
	 .arity = -3,
	 .flags = AP_CMD_WRITE | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_pexpireat,
	 .group = "generic",
	 .summary = "Sets the expiration time of a key to a Unix "
		    "milliseconds timestamp.",
	 .since = "2.6.0",
	 .complexity = "O(1)",
	 .acl_categories = ACL_WF},
	{.name = "expiretime",
	 .arity = 2,
	 .flags = AP_CMD_READONLY | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_expiretime,
	 .group = "generic",
	 .summary = "Returns the expiration time of a key as a Unix "
		    "timestamp.",
	 .since = "7.0.0",
	 .complexity = "O(1)",
	 .acl_categories = ACL_RF},
	{.name = "pexpiretime",
	 .arity = 2,
	 .flags = AP_CMD_READONLY | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_pexpiretime,
	 .group = "generic",
	 .summary = "Returns the expiration time of a key as a Unix "
		    "milliseconds timestamp.",
	 .since = "7.0.0",
	 .complexity = "O(1)",
	 .acl_categories = ACL_RF},
	{.name = "ttl",
	 .arity = 2,
	 .flags = AP_CMD_READONLY | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_ttl,
	 .group = "generic",
	 .summary = "Returns the expiration time in seconds of a key.",
	 .since = "1.0.0",
	 .complexity = "O(1)",
	 .acl_categories = ACL_RF},
	{.name = "pttl",
	 .arity = 2,
	 .flags = AP_CMD_READONLY | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_pttl,
	 .group = "generic",
	 .summary = "Returns the expiration time in milliseconds of a key.",
	 .since = "2.6.0",
	 .complexity = "O(1)",
	 .acl_categories = ACL_RF},
	{.name = "persist",
	 .arity = 2,
	 .flags = AP_CMD_WRITE | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_persist,
	 .group = "generic",
	 .summary = "Removes the expiration time of a key.",
	 .since = "2.2.0",
	 .complexity = "O(1)",
	 .acl_categories = ACL_WF},
	{.name = "rename",
	 .arity = 3,
	 .flags = AP_CMD_WRITE,
	 KEYS_2,
	 .split = AP_SPLIT_CUSTOM,
	 .fn = cmd_rename,
	 .group = "generic",
	 .summary = "Renames a key and overwrites the destination.",
	 .since = "1.0.0",
	 .complexity = "O(1)",
	 .acl_categories = ACL_WS},
	{.name = "renamenx",
	 .arity = 3,
	 .flags = AP_CMD_WRITE | AP_CMD_FAST,
	 KEYS_2,
	 .split = AP_SPLIT_CUSTOM,
	 .fn = cmd_renamenx,
	 .group = "generic",
	 .summary = "Renames a key only when the target key name doesn't "
		    "exist.",
	 .since = "1.0.0",
	 .complexity = "O(1)",
	 .acl_categories = ACL_WF},
	{.name = "copy",
	 .arity = -3,
	 .flags = AP_CMD_WRITE,
	 KEYS_2,
	 .split = AP_SPLIT_CUSTOM,
	 .fn = cmd_copy,
	 .group = "generic",
	 .summary = "Copies the value of a key to a new key.",
	 .since = "6.2.0",
	 .complexity = "O(N) worst case for collections, where N is the "
		       "number of nested items. O(1) for string values.",
	 .acl_categories = ACL_WS},
	{.name = "move",
	 .arity = 3,
	 .flags = AP_CMD_WRITE | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_move,
	 .group = "generic",
	 .summary = "Moves a key to another database.",
	 .since = "1.0.0",
	 .complexity = "O(1)",
	 .acl_categories = ACL_WF},
	{.name = "object",
	 .arity = -2,
	 .first_key = 2,
	 .last_key = 2,
	 .key_step = 1,
	 .group = "generic",
	 .summary = "A container for object introspection commands.",
	 .since = "2.2.3",
	 .complexity = "Depends on subcommand.",
	 .acl_categories = "@slow",
	 .subcmds = object_subcmds},
	{.name = "memory",
	 .arity = -2,
	 .group = "server",
	 .summary = "A container for memory diagnostics commands.",
	 .since = "4.0.0",
	 .complexity = "Depends on subcommand.",
	 .acl_categories = "@slow",
	 .subcmds = memory_subcmds},
	{.name = NULL},
};
