/*
 * cmd_dump.c - DUMP and RESTORE (Redis 7 semantics and error texts).
 *
 * DUMP replies the value of a key in Apiary's value format (core/serial.h,
 * docs/serialization.md) framed as Redis frames its payloads: value bytes,
 * a 2-byte version, a CRC-64 of both. The version is ours, so a Redis
 * payload given to RESTORE gets "DUMP payload version or checksum are
 * wrong", as a Redis server answers ours.
 *
 * RESTORE checks, in Redis's order: the options, then that the key is
 * free (unless REPLACE), then the TTL, then the payload's footer, then
 * the value bytes (fully validated; anything wrong is "Bad data format").
 * A TTL already in the past creates nothing (an old key named with
 * REPLACE is deleted). IDLETIME sets the key's access time; FREQ is
 * checked and ignored, as Redis ignores it unless an LFU maxmemory policy
 * is set (Apiary has none).
 *
 * RESTORE is recorded (ap_cmd_propagate) as "RESTORE key when payload
 * ABSTTL REPLACE": the expire time absolute, so a replay at any later
 * time gives the key the same life, REPLACE since the key was free or
 * replaced when it ran, and without IDLETIME and FREQ, which are not
 * data. A restore whose time had passed is recorded as "DEL key" when it
 * deleted an old key, and not at all otherwise.
 *
 * Threading: both run on the shard that owns the key.
 */
#include <string.h>

#include "core/cmd.h"
#include "core/serial.h"

#define ERR_BUSYKEY    "BUSYKEY Target key name already exists."
#define ERR_TTL	       "ERR Invalid TTL value, must be >= 0"
#define ERR_IDLETIME   "ERR Invalid IDLETIME value, must be >= 0"
#define ERR_FREQ       "ERR Invalid FREQ value, must be >= 0 and <= 255"
#define ERR_PAYLOAD    "ERR DUMP payload version or checksum are wrong"
#define ERR_BAD_FORMAT "ERR Bad data format"
#define FREQ_MAX       255

/* DUMP key: the payload as a bulk string, or a null for a missing key. */
static void cmd_dump(struct ap_cmd_ctx *c)
{
	struct ap_entry *e =
		ap_db_lookup(c->db, c->argv[1].p, c->argv[1].len, AP_LK_READ);
	struct ap_serial_buf b;

	if (e == NULL) {
		ap_reply_null(c->r);
		return;
	}
	ap_serial_buf_init(&b);
	ap_serial_dump(&b, e);
	ap_reply_bulk(c->r, b.p, b.len);
	ap_serial_buf_deinit(&b);
}

/* RESTORE's options. idle and freq are -1 when not given. */
struct restore_opts {
	bool replace;
	bool absttl;
	long long idle;
	long long freq;
};

/* Parses the value of IDLETIME (idle) or FREQ at argv[i]; replies the
 * error and returns false when it is not an integer or out of range. */
static bool restore_num_parse(struct ap_cmd_ctx *c, int i, bool idle,
			      long long *out)
{
	if (!ap_arg_ll(c, &c->argv[i], out))
		return false;
	if (idle && *out < 0) {
		ap_reply_error(c->r, ERR_IDLETIME);
		return false;
	}
	if (!idle && (*out < 0 || *out > FREQ_MAX)) {
		ap_reply_error(c->r, ERR_FREQ);
		return false;
	}
	return true;
}

/* Parses the options after the payload (argv[4] on). IDLETIME and FREQ
 * exclude each other: the second one of them is a syntax error, as is a
 * missing value or an unknown word. Replies the error and returns false
 * on any problem. */
static bool restore_opts_parse(struct ap_cmd_ctx *c, struct restore_opts *o)
{
	for (int i = 4; i < c->argc; i++) {
		const struct ap_arg *a = &c->argv[i];
		bool more = i + 1 < c->argc;

		if (ap_arg_eq(a, "replace")) {
			o->replace = true;
		} else if (ap_arg_eq(a, "absttl")) {
			o->absttl = true;
		} else if (ap_arg_eq(a, "idletime") && more && o->freq < 0) {
			if (!restore_num_parse(c, ++i, true, &o->idle))
				return false;
		} else if (ap_arg_eq(a, "freq") && more && o->idle < 0) {
			if (!restore_num_parse(c, ++i, false, &o->freq))
				return false;
		} else {
			ap_reply_error(c->r, AP_ERR_SYNTAX);
			return false;
		}
	}
	return true;
}

/* The absolute expiry of a restored key: AP_NO_EXPIRE for a TTL of 0,
 * else the TTL (ABSTTL) or now + TTL. Sets *expired when that moment is
 * not in the future; a sum past the 64-bit range counts as expired too,
 * as Redis's wrapping sum does (the time is then the lowest one). */
static int64_t restore_when(struct ap_cmd_ctx *c, long long ttl, bool absttl,
			    bool *expired)
{
	int64_t now = ap_keyspace_now(c->ks);
	long long when = ttl;

	*expired = false;
	if (ttl == 0)
		return AP_NO_EXPIRE;
	if (!absttl && __builtin_add_overflow(ttl, (long long)now, &when)) {
		*expired = true;
		return INT64_MIN;
	}
	*expired = when <= now;
	return when;
}

/* Records the restore of argv[1] with expire time `when` (AP_NO_EXPIRE:
 * none) in its deterministic form (see the file comment). */
static void restore_propagate(struct ap_cmd_ctx *c, int64_t when)
{
	char buf[AP_INT_STR_SIZE];
	struct ap_arg argv[6] = {
		{.p = "RESTORE", .len = 7},
		c->argv[1],
		{.p = buf},
		c->argv[3],
		{.p = "ABSTTL", .len = 6},
		{.p = "REPLACE", .len = 7},
	};

	argv[2].len = ap_ll_to_str(buf, when == AP_NO_EXPIRE ? 0 : when);
	ap_cmd_propagate(c, 6, argv);
}

/* Stamps key's access time idle_s seconds in the past (modulo the 24-bit
 * clock, as Redis). */
static void restore_idle(struct ap_cmd_ctx *c, const struct ap_arg *key,
			 long long idle_s)
{
	struct ap_entry *e =
		ap_db_lookup(c->db, key->p, key->len, AP_LK_NOTOUCH);

	AP_ASSERT(e != NULL);
	ap_entry_set_idle_s(c->ks, e, (uint64_t)idle_s);
}

/* Decodes the payload argument into *v; replies the error and returns
 * false when its footer or its value bytes are wrong. */
static bool restore_decode(struct ap_cmd_ctx *c, struct ap_serial_value *v)
{
	const struct ap_arg *pl = &c->argv[3];
	struct ap_serial_limits lim;
	size_t vlen, used;

	if (!ap_serial_dump_check(pl->p, pl->len, &vlen)) {
		ap_reply_error(c->r, ERR_PAYLOAD);
		return false;
	}
	ap_serial_limits_of(c->cfg, &lim);
	if (ap_serial_decode(pl->p, vlen, &lim, v, &used, NULL) != 0) {
		ap_reply_error(c->r, ERR_BAD_FORMAT);
		return false;
	}
	if (used != vlen) {
		ap_serial_value_free(v);
		ap_reply_error(c->r, ERR_BAD_FORMAT);
		return false;
	}
	return true;
}

/* RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds]
 * [FREQ frequency]: creates key from a DUMP payload and replies +OK. */
static void cmd_restore(struct ap_cmd_ctx *c)
{
	const struct ap_arg *key = &c->argv[1];
	struct restore_opts o = {.idle = -1, .freq = -1};
	struct ap_serial_value v;
	long long ttl;
	int64_t when;
	bool expired;

	if (!restore_opts_parse(c, &o))
		return;
	if (!o.replace && ap_db_lookup(c->db, key->p, key->len, 0) != NULL) {
		ap_reply_error(c->r, ERR_BUSYKEY);
		return;
	}
	if (!ap_arg_ll(c, &c->argv[2], &ttl))
		return;
	if (ttl < 0) {
		ap_reply_error(c->r, ERR_TTL);
		return;
	}
	if (!restore_decode(c, &v))
		return;
	when = restore_when(c, ttl, o.absttl, &expired);
	bool existed = expired && ap_db_lookup(c->db, key->p, key->len,
					       AP_LK_NOTOUCH) != NULL;
	struct ap_entry *e =
		ap_serial_value_store(c->db, key->p, key->len, &v, when);
	if (expired && ap_cmd_expire_passed(c, key, e, when)) {
		/* Created and expired at once: only the old key goes. */
		if (existed) {
			struct ap_arg argv[2] = {{.p = "DEL", .len = 3}, *key};

			c->dirty++;
			ap_cmd_propagate(c, 2, argv);
		}
		ap_reply_ok(c->r);
		return;
	}
	if (o.idle >= 0)
		restore_idle(c, key, o.idle);
	c->dirty++;
	restore_propagate(c, when);
	ap_reply_ok(c->r);
}

/* One-key command: key at argv[1]. */
#define KEY1 .first_key = 1, .last_key = 1, .key_step = 1

const struct ap_cmd ap_cmds_dump[] = {
	{.name = "dump",
	 .arity = 2,
	 .flags = AP_CMD_READONLY,
	 KEY1,
	 .fn = cmd_dump,
	 .group = "generic",
	 .summary = "Returns a serialized representation of the value stored "
		    "at a key.",
	 .since = "2.6.0",
	 .complexity = "O(1) to access the key and additional O(N*M) to "
		       "serialize it, where N is the number of Redis objects "
		       "composing the value and M their average size. For "
		       "small string values the time complexity is thus "
		       "O(1)+O(1*M) where M is small, so simply O(1).",
	 .acl_categories = "@keyspace @read @slow"},
	{.name = "restore",
	 .arity = -4,
	 .flags = AP_CMD_WRITE | AP_CMD_DENYOOM,
	 KEY1,
	 .fn = cmd_restore,
	 .group = "generic",
	 .summary = "Creates a key from the serialized representation of a "
		    "value.",
	 .since = "2.6.0",
	 .complexity = "O(1) to create the new key and additional O(N*M) to "
		       "reconstruct the serialized value, where N is the "
		       "number of Redis objects composing the value and M "
		       "their average size. For small string values the time "
		       "complexity is thus O(1)+O(1*M) where M is small, so "
		       "simply O(1). However for sorted set values the "
		       "complexity is O(N*M*log(N)) because inserting values "
		       "into sorted sets is O(log(N)).",
	 .acl_categories = "@keyspace @write @slow @dangerous"},
	{.name = NULL},
};
