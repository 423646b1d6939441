/*
 * cmd_string.c - the Redis 7 string commands: GET, SET and its variants,
 * the INCR family, APPEND, ranges, MGET/MSET and LCS.
 *
 * Semantics, replies and error texts follow the Redis command reference.
 * Every command works on ctx->db of the shard that owns its keys, reads the
 * expiry clock with ap_keyspace_now(), replies through ctx->r and adds the
 * number of changed keys to ctx->dirty.
 *
 * Values are replied straight from the entry (ap_entry_str), never copied
 * out first: where a command both replies a value and writes (SET GET,
 * GETSET, GETDEL, GETEX), the reply is written before the mutation that
 * could move or free the entry.
 *
 * LCS keeps two rows of the dynamic program plus one direction bit per
 * cell for the backtrack, so its transient memory is alen * blen / 8
 * bytes, bounded by AP_LCS_MAX_CELLS (64 MiB at most).
 *
 * Threading: commands run on the shard thread that owns ctx->ks.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "core/cmd.h"
#include "core/limits.h"

/* --- small helpers --------------------------------------------------- */

/*
 * Replies the value of a string entry as a bulk string, straight from the
 * entry's bytes (integers are formatted on the stack).
 */
static void reply_entry(struct ap_reply *r, const struct ap_entry *e)
{
	char buf[AP_INT_STR_SIZE];
	size_t len;
	const char *p;

	AP_ASSERT(ap_entry_type(e) == AP_TYPE_STRING);
	p = ap_entry_str(e, &len, buf);
	ap_reply_bulk(r, p, len);
}

/*
 * Returns true if e (which may be NULL) is absent or a string; otherwise
 * replies WRONGTYPE and returns false.
 */
static bool check_string(struct ap_cmd_ctx *c, const struct ap_entry *e)
{
	if (e == NULL || ap_entry_type(e) == AP_TYPE_STRING)
		return true;
	ap_reply_error(c->r, AP_ERR_WRONGTYPE);
	return false;
}

/* Looks up argv[idx] as a key in the command's database. */
static struct ap_entry *lookup(struct ap_cmd_ctx *c, int idx, unsigned flags)
{
	AP_ASSERT(idx > 0 && idx < c->argc);
	return ap_db_lookup(c->db, c->argv[idx].p, c->argv[idx].len, flags);
}

/* An argument holding the C string s, for recorded commands. */
static struct ap_arg word(const char *s)
{
	return (struct ap_arg){.p = s, .len = strlen(s)};
}

/* Records "DEL key" (argv[idx]) as the command's change. */
static void propagate_del(struct ap_cmd_ctx *c, int idx)
{
	struct ap_arg argv[2] = {word("DEL"), c->argv[idx]};

	ap_cmd_propagate(c, 2, argv);
}

/* Records "PEXPIREAT key when" (argv[idx]) as the command's change. */
static void propagate_pexpireat(struct ap_cmd_ctx *c, int idx, int64_t when)
{
	char buf[AP_INT_STR_SIZE];
	struct ap_arg argv[3] = {word("PEXPIREAT"), c->argv[idx], {.p = buf}};

	argv[2].len = ap_ll_to_str(buf, when);
	ap_cmd_propagate(c, 3, argv);
}

/*
 * Stores argv[val] as the string value of argv[key] with an absolute
 * expire time (or AP_NO_EXPIRE), replacing any old value, and counts the
 * change. A time that has already passed leaves no key (see
 * ap_cmd_expire_passed): an old key is deleted, recorded as DEL, and nothing
 * changes when there was none. Returns true if the key holds the value.
 */
static bool store_string(struct ap_cmd_ctx *c, int key, int val,
			 int64_t expire_ms)
{
	const struct ap_arg *k = &c->argv[key];
	const struct ap_arg *v = &c->argv[val];
	bool passed = expire_ms != AP_NO_EXPIRE &&
		      expire_ms <= ap_keyspace_now(c->ks);
	bool existed = passed &&
		       ap_db_lookup(c->db, k->p, k->len, AP_LK_NOTOUCH) != NULL;
	struct ap_entry *e =
		ap_db_set_string(c->db, k->p, k->len, v->p, v->len, expire_ms);

	if (passed && ap_cmd_expire_passed(c, k, e, expire_ms)) {
		if (existed) {
			c->dirty++;
			propagate_del(c, key);
		}
		return false;
	}
	c->dirty++;
	return true;
}

/*
 * Records a SET that stored argv[val] under argv[key] with an expire time
 * as "SET key value PXAT when": absolute, so a replay at any later time
 * gives the key the same life, and without NX/XX/GET, whose condition
 * was met.
 */
static void propagate_set_pxat(struct ap_cmd_ctx *c, int key, int val,
			       int64_t when)
{
	char buf[AP_INT_STR_SIZE];
	struct ap_arg argv[5] = {word("SET"),
				 c->argv[key],
				 c->argv[val],
				 word("PXAT"),
				 {.p = buf}};

	argv[4].len = ap_ll_to_str(buf, when);
	ap_cmd_propagate(c, 5, argv);
}

/*
 * Reads the value of string entry e as a 64-bit integer. Returns false if
 * the value is not an integer in Redis's strict form.
 */
static bool entry_ll(const struct ap_entry *e, long long *out)
{
	char buf[AP_INT_STR_SIZE];
	const char *p;
	size_t len;

	if (ap_entry_int(e, out))
		return true;
	p = ap_entry_str(e, &len, buf);
	return ap_str_to_ll(p, len, out);
}

/*
 * Replies "ERR wrong number of arguments" for commands whose arity is
 * checked beyond what the table's arity expresses (MSET's pairs).
 */
static void reply_arity(struct ap_cmd_ctx *c, const char *name)
{
	ap_reply_errorf(c->r, "ERR wrong number of arguments for '%s' command",
			name);
}

/* --- expire options -------------------------------------------------- */

enum expire_kind {
	EXPIRE_NONE = 0,
	EXPIRE_EX,   /* relative seconds */
	EXPIRE_PX,   /* relative milliseconds */
	EXPIRE_EXAT, /* absolute Unix seconds */
	EXPIRE_PXAT, /* absolute Unix milliseconds */
};

/*
 * Converts the expire argument a of the given kind to an absolute Unix
 * time in milliseconds. A non-integer replies AP_ERR_NOT_INT; zero, a
 * negative value, or a value whose conversion to milliseconds (or addition
 * to the current time) overflows replies "invalid expire time in '<name>'
 * command". Returns false after replying an error.
 */
static bool expire_to_abs_ms(struct ap_cmd_ctx *c, const struct ap_arg *a,
			     enum expire_kind kind, const char *name,
			     int64_t *out)
{
	long long v;
	long long ms;

	AP_ASSERT(kind != EXPIRE_NONE);
	if (!ap_arg_ll(c, a, &v))
		return false;
	bool seconds = kind == EXPIRE_EX || kind == EXPIRE_EXAT;
	bool relative = kind == EXPIRE_EX || kind == EXPIRE_PX;
	ms = v;
	if (v <= 0 || (seconds && __builtin_mul_overflow(v, 1000LL, &ms)) ||
	    (relative && __builtin_add_overflow(
				 ms, (long long)ap_keyspace_now(c->ks), &ms))) {
		ap_reply_errorf(c->r, AP_ERR_EXPIRE_TIME, name);
		return false;
	}
	*out = ms;
	return true;
}

/* Which command's options parse_set_opts reads. */
enum opts_mode {
	OPTS_SET,   /* NX XX GET KEEPTTL EX PX EXAT PXAT */
	OPTS_GETEX, /* PERSIST EX PX EXAT PXAT */
};

enum {
	OPT_NX = 1 << 0,
	OPT_XX = 1 << 1,
	OPT_GET = 1 << 2,
	OPT_KEEPTTL = 1 << 3,
	OPT_PERSIST = 1 << 4,
};

struct set_opts {
	unsigned flags;		     /* OPT_* */
	enum expire_kind kind;	     /* EXPIRE_NONE if no expire option */
	const struct ap_arg *expire; /* its argument */
};

/*
 * Returns the expire kind named by a, or EXPIRE_NONE if a names none.
 */
static enum expire_kind expire_kind_of(const struct ap_arg *a)
{
	if (ap_arg_eq(a, "ex"))
		return EXPIRE_EX;
	if (ap_arg_eq(a, "px"))
		return EXPIRE_PX;
	if (ap_arg_eq(a, "exat"))
		return EXPIRE_EXAT;
	if (ap_arg_eq(a, "pxat"))
		return EXPIRE_PXAT;
	return EXPIRE_NONE;
}

/*
 * Parses one flag option (not an expire) into o for the given mode.
 * Returns false if a is not a flag valid here or conflicts with one
 * already seen (NX with XX, KEEPTTL or PERSIST with an expire). Repeating
 * an option is allowed, as Redis does.
 */
static bool parse_flag_opt(const struct ap_arg *a, enum opts_mode mode,
			   struct set_opts *o)
{
	bool set = mode == OPTS_SET;
	bool has_expire = o->kind != EXPIRE_NONE;

	if (set && ap_arg_eq(a, "nx") && !(o->flags & OPT_XX))
		o->flags |= OPT_NX;
	else if (set && ap_arg_eq(a, "xx") && !(o->flags & OPT_NX))
		o->flags |= OPT_XX;
	else if (set && ap_arg_eq(a, "get"))
		o->flags |= OPT_GET;
	else if (set && ap_arg_eq(a, "keepttl") && !has_expire)
		o->flags |= OPT_KEEPTTL;
	else if (!set && ap_arg_eq(a, "persist") && !has_expire)
		o->flags |= OPT_PERSIST;
	else
		return false;
	return true;
}

/*
 * Parses the options of SET (from argv[3]) or GETEX (from argv[2]) into o.
 * Replies AP_ERR_SYNTAX and returns false on an unknown option, a missing
 * expire argument, or an invalid combination: NX with XX, two different
 * expire options, an expire with KEEPTTL or PERSIST. Expire values are not
 * checked here (Redis reports syntax errors first).
 */
static bool parse_set_opts(struct ap_cmd_ctx *c, int first, enum opts_mode mode,
			   struct set_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = first; i < c->argc; i++) {
		const struct ap_arg *a = &c->argv[i];
		enum expire_kind k = expire_kind_of(a);

		if (k == EXPIRE_NONE) {
			if (!parse_flag_opt(a, mode, o))
				goto syntax;
			continue;
		}
		if (i + 1 >= c->argc ||
		    (o->flags & (OPT_KEEPTTL | OPT_PERSIST)) ||
		    (o->kind != EXPIRE_NONE && o->kind != k))
			goto syntax;
		o->kind = k;
		o->expire = &c->argv[++i];
	}
	return true;
syntax:
	ap_reply_error(c->r, AP_ERR_SYNTAX);
	return false;
}

/* --- GET SET and friends --------------------------------------------- */

/* GET key: the string value, nil if missing, WRONGTYPE for other types. */
static void cmd_get(struct ap_cmd_ctx *c)
{
	struct ap_entry *e = lookup(c, 1, AP_LK_READ);

	if (!check_string(c, e))
		return;
	if (e == NULL)
		ap_reply_null(c->r);
	else
		reply_entry(c->r, e);
}

/*
 * SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT t|KEEPTTL]. Order of
 * checks as Redis: syntax, expire value, then (with GET) the old value's
 * type, then the NX/XX condition. With GET the reply is the old value (or
 * nil) whether or not the write happened; without it +OK, or nil when the
 * condition failed. A SET with an expire time is recorded as "SET key
 * value PXAT when" (a passed time as DEL); others as called.
 */
static void cmd_set(struct ap_cmd_ctx *c)
{
	struct set_opts o;
	int64_t expire_ms = AP_NO_EXPIRE;

	if (!parse_set_opts(c, 3, OPTS_SET, &o))
		return;
	if (o.kind != EXPIRE_NONE &&
	    !expire_to_abs_ms(c, o.expire, o.kind, "set", &expire_ms))
		return;

	bool get = o.flags & OPT_GET;
	struct ap_entry *old = lookup(c, 1, get ? AP_LK_READ : 0);
	if (get) {
		if (!check_string(c, old))
			return;
		if (old == NULL)
			ap_reply_null(c->r);
		else
			reply_entry(c->r, old);
	}
	if (((o.flags & OPT_NX) && old != NULL) ||
	    ((o.flags & OPT_XX) && old == NULL)) {
		if (!get)
			ap_reply_null(c->r);
		return;
	}
	if ((o.flags & OPT_KEEPTTL) && old != NULL)
		expire_ms = ap_entry_expire(old);
	if (store_string(c, 1, 2, expire_ms) && o.kind != EXPIRE_NONE)
		propagate_set_pxat(c, 1, 2, expire_ms);
	if (!get)
		ap_reply_ok(c->r);
}

/* SETNX key value: 1 if the key was created, 0 if it existed. */
static void cmd_setnx(struct ap_cmd_ctx *c)
{
	if (lookup(c, 1, 0) != NULL) {
		ap_reply_int(c->r, 0);
		return;
	}
	store_string(c, 1, 2, AP_NO_EXPIRE);
	ap_reply_int(c->r, 1);
}

/*
 * SETEX/PSETEX key ttl value: set with a relative TTL of the given kind;
 * the error names the command. Recorded as "SET key value PXAT when".
 */
static void setex_generic(struct ap_cmd_ctx *c, enum expire_kind kind,
			  const char *name)
{
	int64_t expire_ms;

	if (!expire_to_abs_ms(c, &c->argv[2], kind, name, &expire_ms))
		return;
	if (store_string(c, 1, 3, expire_ms))
		propagate_set_pxat(c, 1, 3, expire_ms);
	ap_reply_ok(c->r);
}

/* SETEX key seconds value. */
static void cmd_setex(struct ap_cmd_ctx *c)
{
	setex_generic(c, EXPIRE_EX, "setex");
}

/* PSETEX key milliseconds value. */
static void cmd_psetex(struct ap_cmd_ctx *c)
{
	setex_generic(c, EXPIRE_PX, "psetex");
}

/*
 * GETEX key [EX|PX|EXAT|PXAT t|PERSIST]: replies the value, then changes
 * the TTL. Checks in Redis's order: syntax, missing key (nil), type, expire
 * value. An absolute time already past deletes the key after the reply.
 * Recorded as Redis propagates it: "PEXPIREAT key when", DEL for a passed
 * time, "PERSIST key".
 */
static void cmd_getex(struct ap_cmd_ctx *c)
{
	struct set_opts o;
	int64_t expire_ms = AP_NO_EXPIRE;

	if (!parse_set_opts(c, 2, OPTS_GETEX, &o))
		return;
	struct ap_entry *e = lookup(c, 1, AP_LK_READ);
	if (!check_string(c, e))
		return;
	if (e == NULL) {
		ap_reply_null(c->r);
		return;
	}
	if (o.kind != EXPIRE_NONE &&
	    !expire_to_abs_ms(c, o.expire, o.kind, "getex", &expire_ms))
		return;
	reply_entry(c->r, e);
	if (o.kind != EXPIRE_NONE && expire_ms <= ap_keyspace_now(c->ks)) {
		if (ap_cmd_expire_passed(c, &c->argv[1], e, expire_ms))
			propagate_del(c, 1);
		c->dirty++;
	} else if (o.kind != EXPIRE_NONE) {
		ap_db_set_expire(c->db, &e, expire_ms);
		c->dirty++;
		propagate_pexpireat(c, 1, expire_ms);
	} else if ((o.flags & OPT_PERSIST) &&
		   ap_entry_expire(e) != AP_NO_EXPIRE) {
		struct ap_arg argv[2] = {word("PERSIST"), c->argv[1]};

		ap_db_set_expire(c->db, &e, AP_NO_EXPIRE);
		c->dirty++;
		ap_cmd_propagate(c, 2, argv);
	}
}

/* GETDEL key: replies the value (nil if missing) and deletes the key;
 * recorded as "DEL key". */
static void cmd_getdel(struct ap_cmd_ctx *c)
{
	struct ap_entry *e = lookup(c, 1, AP_LK_READ);

	if (!check_string(c, e))
		return;
	if (e == NULL) {
		ap_reply_null(c->r);
		return;
	}
	reply_entry(c->r, e);
	(void)ap_db_delete(c->db, c->argv[1].p, c->argv[1].len);
	c->dirty++;
	propagate_del(c, 1);
}

/*
 * GETSET key value: replies the old value (nil if missing) and sets the
 * new one, clearing any TTL. WRONGTYPE leaves the key alone.
 */
static void cmd_getset(struct ap_cmd_ctx *c)
{
	struct ap_entry *e = lookup(c, 1, AP_LK_READ);

	if (!check_string(c, e))
		return;
	if (e == NULL)
		ap_reply_null(c->r);
	else
		reply_entry(c->r, e);
	store_string(c, 1, 2, AP_NO_EXPIRE);
}

/* MGET key [key ...]: one value per key, nil for missing or non-strings. */
static void cmd_mget(struct ap_cmd_ctx *c)
{
	ap_reply_array(c->r, (size_t)c->argc - 1);
	for (int i = 1; i < c->argc; i++) {
		struct ap_entry *e = lookup(c, i, AP_LK_READ);

		if (e == NULL || ap_entry_type(e) != AP_TYPE_STRING)
			ap_reply_null(c->r);
		else
			reply_entry(c->r, e);
	}
}

/* MSET key value [key value ...]: sets every pair, clearing TTLs. */
static void cmd_mset(struct ap_cmd_ctx *c)
{
	if (c->argc % 2 == 0) {
		reply_arity(c, "mset");
		return;
	}
	for (int i = 1; i < c->argc; i += 2)
		store_string(c, i, i + 1, AP_NO_EXPIRE);
	ap_reply_ok(c->r);
}

/*
 * MSETNX key value [key value ...]: sets every pair only if none of the
 * keys exists; 1 if set, 0 if not.
 */
static void cmd_msetnx(struct ap_cmd_ctx *c)
{
	if (c->argc % 2 == 0) {
		reply_arity(c, "msetnx");
		return;
	}
	for (int i = 1; i < c->argc; i += 2) {
		if (lookup(c, i, 0) != NULL) {
			ap_reply_int(c->r, 0);
			return;
		}
	}
	for (int i = 1; i < c->argc; i += 2)
		store_string(c, i, i + 1, AP_NO_EXPIRE);
	ap_reply_int(c->r, 1);
}

/* --- INCR family ----------------------------------------------------- */

/*
 * Adds incr to the integer value of argv[1] (0 if missing) and replies the
 * result. The value is updated in place and keeps its TTL. A value that
 * is not an integer replies AP_ERR_NOT_INT, a result out of 64 bits
 * AP_ERR_OVERFLOW; neither writes.
 */
static void incr_generic(struct ap_cmd_ctx *c, long long incr)
{
	const struct ap_arg *k = &c->argv[1];
	struct ap_entry *e = lookup(c, 1, 0);
	long long v;

	if (!check_string(c, e))
		return;
	if (e == NULL) {
		(void)ap_db_set_int(c->db, k->p, k->len, incr, AP_NO_EXPIRE);
		c->dirty++;
		ap_reply_int(c->r, incr);
		return;
	}
	if (!entry_ll(e, &v)) {
		ap_reply_error(c->r, AP_ERR_NOT_INT);
		return;
	}
	if (__builtin_add_overflow(v, incr, &v)) {
		ap_reply_error(c->r, AP_ERR_OVERFLOW);
		return;
	}
	ap_db_str_set_int(c->db, &e, v);
	c->dirty++;
	ap_reply_int(c->r, v);
}

/* INCR key. */
static void cmd_incr(struct ap_cmd_ctx *c)
{
	incr_generic(c, 1);
}

/* DECR key. */
static void cmd_decr(struct ap_cmd_ctx *c)
{
	incr_generic(c, -1);
}

/* INCRBY key increment: the increment is parsed before the key is read. */
static void cmd_incrby(struct ap_cmd_ctx *c)
{
	long long incr;

	if (!ap_arg_ll(c, &c->argv[2], &incr))
		return;
	incr_generic(c, incr);
}

/* DECRBY key decrement: LLONG_MIN cannot be negated and is refused. */
static void cmd_decrby(struct ap_cmd_ctx *c)
{
	long long decr;

	if (!ap_arg_ll(c, &c->argv[2], &decr))
		return;
	if (decr == LLONG_MIN) {
		ap_reply_error(c->r, "ERR decrement would overflow");
		return;
	}
	incr_generic(c, -decr);
}

/*
 * INCRBYFLOAT key increment: long double arithmetic, the result stored
 * and replied in Redis's %.17Lf-trimmed form, the TTL kept. A current value
 * or increment that is not a float replies AP_ERR_NOT_FLOAT; a NaN or
 * infinite result is refused. Recorded as "SET key result KEEPTTL": the
 * arithmetic is done once, its text replayed (as Redis propagates it).
 */
static void cmd_incrbyfloat(struct ap_cmd_ctx *c)
{
	const struct ap_arg *k = &c->argv[1];
	struct ap_entry *e = lookup(c, 1, 0);
	long double v = 0;
	long double incr;
	int64_t expire_ms = AP_NO_EXPIRE;

	if (!check_string(c, e))
		return;
	if (e != NULL) {
		char ibuf[AP_INT_STR_SIZE];
		size_t len;
		const char *p = ap_entry_str(e, &len, ibuf);

		if (!ap_str_to_ld(p, len, &v)) {
			ap_reply_error(c->r, AP_ERR_NOT_FLOAT);
			return;
		}
		expire_ms = ap_entry_expire(e);
	}
	if (!ap_arg_ld(c, &c->argv[2], &incr))
		return;
	v += incr;
	if (isnan(v) || isinf(v)) {
		ap_reply_error(c->r,
			       "ERR increment would produce NaN or Infinity");
		return;
	}
	char buf[AP_LD_STR_SIZE];
	size_t n = ap_ld_to_str(buf, v);
	(void)ap_db_set_string(c->db, k->p, k->len, buf, n, expire_ms);
	c->dirty++;
	ap_reply_bulk(c->r, buf, n);

	struct ap_arg argv[4] = {
		word("SET"), *k, {.p = buf, .len = n}, word("KEEPTTL")};
	ap_cmd_propagate(c, 4, argv);
}

/* --- APPEND STRLEN ranges -------------------------------------------- */

/*
 * True if a string of len bytes grown by add bytes stays within
 * proto-max-bulk-len; otherwise replies AP_ERR_STR_TOO_LONG.
 */
static bool check_str_len(struct ap_cmd_ctx *c, unsigned long long len,
			  unsigned long long add)
{
	unsigned long long total;

	if (__builtin_add_overflow(len, add, &total) ||
	    total > (unsigned long long)c->cfg->proto_max_bulk_len) {
		ap_reply_error(c->r, AP_ERR_STR_TOO_LONG);
		return false;
	}
	return true;
}

/*
 * APPEND key value: appends to the string (creating it if missing) and
 * replies the new length; the TTL is kept. The result may not exceed
 * proto-max-bulk-len. An empty value appended to a key changes nothing.
 */
static void cmd_append(struct ap_cmd_ctx *c)
{
	const struct ap_arg *k = &c->argv[1];
	const struct ap_arg *v = &c->argv[2];
	struct ap_entry *e = lookup(c, 1, 0);

	if (!check_string(c, e))
		return;
	size_t old_len = e != NULL ? ap_entry_str_len(e) : 0;
	if (!check_str_len(c, old_len, v->len))
		return;
	if (e == NULL) {
		(void)ap_db_set_string(c->db, k->p, k->len, v->p, v->len,
				       AP_NO_EXPIRE);
		c->dirty++;
	} else if (v->len > 0) {
		char *p = ap_db_str_resize(c->db, &e, old_len + v->len);
		memcpy(p + old_len, v->p, v->len);
		c->dirty++;
	}
	ap_reply_int(c->r, (long long)(old_len + v->len));
}

/* STRLEN key: the value's length in bytes, 0 if missing. */
static void cmd_strlen(struct ap_cmd_ctx *c)
{
	struct ap_entry *e = lookup(c, 1, AP_LK_READ);

	if (!check_string(c, e))
		return;
	ap_reply_int(c->r, e != NULL ? (long long)ap_entry_str_len(e) : 0);
}

/*
 * GETRANGE/SUBSTR key start end: the bytes from start to end inclusive,
 * negative indexes counting from the end, clamped to the string as Redis
 * 7 does (both negative with start > end is empty; an end before the
 * start is empty; a missing key is an empty string).
 */
static void cmd_getrange(struct ap_cmd_ctx *c)
{
	long long start;
	long long end;

	if (!ap_arg_ll(c, &c->argv[2], &start) ||
	    !ap_arg_ll(c, &c->argv[3], &end))
		return;
	struct ap_entry *e = lookup(c, 1, AP_LK_READ);
	if (!check_string(c, e))
		return;
	if (e == NULL || (start < 0 && end < 0 && start > end)) {
		ap_reply_bulk(c->r, "", 0);
		return;
	}

	char buf[AP_INT_STR_SIZE];
	size_t len;
	const char *p = ap_entry_str(e, &len, buf);
	long long slen = (long long)len;
	if (start < 0)
		start += slen;
	if (end < 0)
		end += slen;
	start = AP_MAX(start, 0);
	end = AP_MAX(end, 0);
	if (end >= slen)
		end = slen - 1;
	if (slen == 0 || start > end)
		ap_reply_bulk(c->r, "", 0);
	else
		ap_reply_bulk(c->r, p + start, (size_t)(end - start + 1));
}

/*
 * SETRANGE key offset value: overwrites the string from offset, padding
 * with zero bytes, and replies the new length; the TTL is kept. An empty
 * value changes nothing (a missing key stays missing, reply 0). A negative
 * offset is out of range; offset + length may not exceed
 * proto-max-bulk-len.
 */
static void cmd_setrange(struct ap_cmd_ctx *c)
{
	const struct ap_arg *k = &c->argv[1];
	const struct ap_arg *v = &c->argv[3];
	long long offset;

	if (!ap_arg_ll(c, &c->argv[2], &offset))
		return;
	if (offset < 0) {
		ap_reply_error(c->r, "ERR offset is out of range");
		return;
	}
	struct ap_entry *e = lookup(c, 1, 0);
	if (!check_string(c, e))
		return;
	size_t old_len = e != NULL ? ap_entry_str_len(e) : 0;
	if (v->len == 0) {
		ap_reply_int(c->r, (long long)old_len);
		return;
	}
	if (!check_str_len(c, (unsigned long long)offset, v->len))
		return;
	size_t end = (size_t)offset + v->len;
	if (e == NULL)
		e = ap_db_set_string(c->db, k->p, k->len, "", 0, AP_NO_EXPIRE);
	size_t new_len = AP_MAX(old_len, end);
	char *p = ap_db_str_resize(c->db, &e, new_len);
	memcpy(p + offset, v->p, v->len);
	c->dirty++;
	ap_reply_int(c->r, (long long)new_len);
}

/* --- LCS ------------------------------------------------------------- */

/* Options of one LCS call. */
struct lcs_opts {
	bool len; /* LEN: reply only the length */
	bool idx; /* IDX: reply the matching ranges */
	bool with_match_len;
	long long min_match_len;
};

/*
 * The dynamic-programming result. L(i, j) is the LCS length of a[0..i)
 * and b[0..j). Only two rows of L are kept; for the backtrack one bit per
 * cell (i, j >= 1) records whether L(i-1, j) > L(i, j-1), which is all the
 * walk from (alen, blen) back needs to choose its direction. Rows run along
 * the longer string and columns along the shorter one, so the rows stay
 * small (the cell bound limits the shorter length to sqrt(cells)).
 */
struct lcs_dp {
	const unsigned char *a;
	const unsigned char *b;
	size_t alen;
	size_t blen;
	bool swapped; /* rows run along b (b is the longer string) */
	uint8_t *up;  /* bit per cell, NULL when only the length is wanted */
	uint32_t len; /* L(alen, blen) */
};

/* Index of cell (i, j), i in 1..alen, j in 1..blen, in dp->up. */
static size_t lcs_cell(const struct lcs_dp *dp, size_t i, size_t j)
{
	AP_ASSERT(i >= 1 && i <= dp->alen && j >= 1 && j <= dp->blen);
	if (dp->swapped)
		return (j - 1) * dp->alen + (i - 1);
	return (i - 1) * dp->blen + (j - 1);
}

/* True if the backtrack at mismatching cell (i, j) moves to (i-1, j). */
static bool lcs_goes_up(const struct lcs_dp *dp, size_t i, size_t j)
{
	size_t n = lcs_cell(dp, i, j);

	return dp->up[n / 8] & (1u << (n % 8));
}

/*
 * Fills dp->len and, when dp->up is set, the direction bits. x (length
 * xlen) is the string the rows run along, y (ylen) the columns; prev and
 * cur hold ylen + 1 counters. Cell (o, n) of this orientation is cell
 * (i, j) = (o, n) or, when swapped, (n, o); its bit is stored at
 * (o - 1) * ylen + (n - 1), which is lcs_cell() in both cases.
 */
static void lcs_fill(struct lcs_dp *dp, const unsigned char *x, size_t xlen,
		     const unsigned char *y, size_t ylen, uint32_t *prev,
		     uint32_t *cur)
{
	memset(prev, 0, (ylen + 1) * sizeof(*prev));
	cur[0] = 0;
	for (size_t o = 1; o <= xlen; o++) {
		size_t base = (o - 1) * ylen;

		for (size_t n = 1; n <= ylen; n++) {
			uint32_t left = cur[n - 1]; /* L at (o, n-1) */
			uint32_t above = prev[n];   /* L at (o-1, n) */

			if (x[o - 1] == y[n - 1])
				cur[n] = prev[n - 1] + 1;
			else
				cur[n] = AP_MAX(left, above);
			/* L(i-1, j) > L(i, j-1): "above" is L(i-1, j)
			 * unless swapped, where it is L(i, j-1). */
			bool up = dp->swapped ? left > above : above > left;
			if (dp->up != NULL && up)
				dp->up[(base + n - 1) / 8] |=
					(uint8_t)(1u << ((base + n - 1) % 8));
		}
		uint32_t *t = prev;
		prev = cur;
		cur = t;
	}
	dp->len = prev[ylen];
}

/*
 * Runs the dynamic program over a and b (direction bits only if
 * want_dirs). The caller has checked alen * blen against
 * AP_LCS_MAX_CELLS. Free dp->up with ap_free.
 */
static void lcs_compute(struct lcs_dp *dp, bool want_dirs)
{
	size_t cells = dp->alen * dp->blen;

	AP_ASSERT(cells <= (size_t)AP_LCS_MAX_CELLS);
	dp->len = 0;
	dp->up = NULL;
	dp->swapped = dp->blen > dp->alen;
	if (cells == 0)
		return;
	if (want_dirs)
		dp->up = ap_calloc((cells + 7) / 8, 1);

	const unsigned char *x = dp->swapped ? dp->b : dp->a;
	const unsigned char *y = dp->swapped ? dp->a : dp->b;
	size_t xlen = dp->swapped ? dp->blen : dp->alen;
	size_t ylen = dp->swapped ? dp->alen : dp->blen;
	uint32_t *rows = ap_malloc(2 * (ylen + 1) * sizeof(*rows));
	lcs_fill(dp, x, xlen, y, ylen, rows, rows + ylen + 1);
	ap_free(rows);
	AP_ASSERT(dp->len <= AP_MIN(dp->alen, dp->blen));
}

/* Replies one IDX match: [[a0, a1], [b0, b1]] and its length if asked. */
static void lcs_reply_match(struct ap_cmd_ctx *c, const struct lcs_opts *o,
			    size_t a0, size_t b0, size_t len)
{
	ap_reply_array(c->r, o->with_match_len ? 3 : 2);
	ap_reply_array(c->r, 2);
	ap_reply_int(c->r, (long long)a0);
	ap_reply_int(c->r, (long long)(a0 + len - 1));
	ap_reply_array(c->r, 2);
	ap_reply_int(c->r, (long long)b0);
	ap_reply_int(c->r, (long long)(b0 + len - 1));
	if (o->with_match_len)
		ap_reply_int(c->r, (long long)len);
}

/*
 * Walks the table back from (alen, blen): on equal bytes diagonally
 * (writing the byte into out, when given, from its end), otherwise up or
 * left as the direction bits say, ties going left. Each maximal diagonal
 * run is a match; with IDX the runs of at least min_match_len bytes are
 * replied, last first. Returns the number of matches replied.
 */
static size_t lcs_backtrack(struct ap_cmd_ctx *c, const struct lcs_dp *dp,
			    const struct lcs_opts *o, char *out)
{
	size_t i = dp->alen, j = dp->blen, k = dp->len;
	size_t run = 0;		       /* bytes in the current diagonal run */
	size_t a_last = 0, b_last = 0; /* the run's last positions */
	size_t replied = 0;

	while (i > 0 && j > 0) {
		bool run_ends;

		if (dp->a[i - 1] == dp->b[j - 1]) {
			AP_ASSERT(k > 0);
			if (out != NULL)
				out[k - 1] = (char)dp->a[i - 1];
			if (run == 0) {
				a_last = i - 1;
				b_last = j - 1;
			}
			run++, k--, i--, j--;
			run_ends = i == 0 || j == 0;
		} else {
			if (lcs_goes_up(dp, i, j))
				i--;
			else
				j--;
			run_ends = run > 0;
		}
		if (!run_ends)
			continue;
		if (o->idx && (long long)run >= o->min_match_len) {
			lcs_reply_match(c, o, a_last + 1 - run,
					b_last + 1 - run, run);
			replied++;
		}
		run = 0;
	}
	AP_ASSERT(k == 0 && run == 0);
	return replied;
}

/*
 * Parses LCS options from argv[3]: LEN, IDX, WITHMATCHLEN, MINMATCHLEN n
 * (negative counts as 0). Replies and returns false on a syntax error, a
 * non-integer length, or LEN together with IDX.
 */
static bool lcs_parse_opts(struct ap_cmd_ctx *c, struct lcs_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 3; i < c->argc; i++) {
		const struct ap_arg *a = &c->argv[i];

		if (ap_arg_eq(a, "idx")) {
			o->idx = true;
		} else if (ap_arg_eq(a, "len")) {
			o->len = true;
		} else if (ap_arg_eq(a, "withmatchlen")) {
			o->with_match_len = true;
		} else if (ap_arg_eq(a, "minmatchlen") && i + 1 < c->argc) {
			if (!ap_arg_ll(c, &c->argv[++i], &o->min_match_len))
				return false;
			o->min_match_len = AP_MAX(o->min_match_len, 0);
		} else {
			ap_reply_error(c->r, AP_ERR_SYNTAX);
			return false;
		}
	}
	if (o->idx && o->len) {
		ap_reply_error(c->r, "ERR If you want both the length and "
				     "indexes, please just use IDX.");
		return false;
	}
	return true;
}

/*
 * Replies the LCS result in the form the options ask for: the length
 * (LEN), the map {matches: [...], len: n} (IDX; a flat array in RESP2),
 * or the common subsequence itself.
 */
static void lcs_reply(struct ap_cmd_ctx *c, const struct lcs_dp *dp,
		      const struct lcs_opts *o)
{
	if (o->len) {
		ap_reply_int(c->r, dp->len);
		return;
	}
	if (o->idx) {
		struct ap_reply_deferred d;

		ap_reply_map(c->r, 2);
		ap_reply_bulk_cstr(c->r, "matches");
		ap_reply_deferred_begin(c->r, &d, '*');
		size_t n = dp->up != NULL ? lcs_backtrack(c, dp, o, NULL) : 0;
		ap_reply_deferred_end(c->r, &d, n);
		ap_reply_bulk_cstr(c->r, "len");
		ap_reply_int(c->r, dp->len);
		return;
	}
	char *s = ap_malloc(AP_MAX(dp->len, 1));
	if (dp->up != NULL)
		(void)lcs_backtrack(c, dp, o, s);
	ap_reply_bulk(c->r, s, dp->len);
	ap_free(s);
}

/*
 * LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: the longest
 * common subsequence of two strings (missing keys are empty strings).
 * Keys holding other types reply an error before the options are read.
 * The table is bounded: len1 * len2 may not exceed AP_LCS_MAX_CELLS.
 */
static void cmd_lcs(struct ap_cmd_ctx *c)
{
	struct ap_entry *ea = lookup(c, 1, AP_LK_READ);
	struct ap_entry *eb = lookup(c, 2, AP_LK_READ);
	struct lcs_opts o;

	if ((ea != NULL && ap_entry_type(ea) != AP_TYPE_STRING) ||
	    (eb != NULL && ap_entry_type(eb) != AP_TYPE_STRING)) {
		ap_reply_error(c->r,
			       "ERR The specified keys must contain string "
			       "values");
		return;
	}
	if (!lcs_parse_opts(c, &o))
		return;
	/* The second lookup may have deleted an expired key, which counts as
	 * a mutation of the database: find the first entry again. */
	if (ea != NULL)
		ea = lookup(c, 1, AP_LK_NOTOUCH);

	char abuf[AP_INT_STR_SIZE], bbuf[AP_INT_STR_SIZE];
	struct lcs_dp dp = {0};
	dp.a = (const unsigned char *)(ea != NULL ? ap_entry_str(ea, &dp.alen,
								 abuf)
						  : "");
	dp.b = (const unsigned char *)(eb != NULL ? ap_entry_str(eb, &dp.blen,
								 bbuf)
						  : "");

	size_t cells;
	if (__builtin_mul_overflow(dp.alen, dp.blen, &cells) ||
	    cells > (size_t)AP_LCS_MAX_CELLS) {
		ap_reply_error(c->r, "ERR Insufficient memory, transient "
				     "memory for LCS exceeds the table limit");
		return;
	}
	lcs_compute(&dp, !o.len);
	lcs_reply(c, &dp, &o);
	ap_free(dp.up);
}

/* --- the table ------------------------------------------------------- */

#define STRING_CMD(nm, ar, fl, first, last, step, sp, f, sum, sin, cx, acl) \
	{                                                                   \
		.name = nm, .arity = ar, .flags = fl, .first_key = first,   \
		.last_key = last, .key_step = step, .split = sp, .fn = f,   \
		.group = "string", .summary = sum, .since = sin,            \
		.complexity = cx, .acl_categories = acl, .subcmds = NULL,   \
	}

#define W_DENY	    (AP_CMD_WRITE | AP_CMD_DENYOOM)
#define W_DENY_FAST (AP_CMD_WRITE | AP_CMD_DENYOOM | AP_CMD_FAST)
#define W_FAST	    (AP_CMD_WRITE | AP_CMD_FAST)
#define R_FAST	    (AP_CMD_READONLY | AP_CMD_FAST)
#define ACL_RF	    "@read @string @fast"
#define ACL_RS	    "@read @string @slow"
#define ACL_WF	    "@write @string @fast"
#define ACL_WS	    "@write @string @slow"
#define O1	    "O(1)"

const struct ap_cmd ap_cmds_string[] = {
	STRING_CMD("get", 2, R_FAST, 1, 1, 1, AP_SPLIT_NONE, cmd_get,
		   "Returns the string value of a key.", "1.0.0", O1, ACL_RF),
	STRING_CMD("set", -3, W_DENY, 1, 1, 1, AP_SPLIT_NONE, cmd_set,
		   "Sets the string value of a key, ignoring its type. The "
		   "key is created if it doesn't exist.",
		   "1.0.0", O1, ACL_WS),
	STRING_CMD("setnx", 3, W_DENY_FAST, 1, 1, 1, AP_SPLIT_NONE, cmd_setnx,
		   "Set the string value of a key only when the key doesn't "
		   "exist.",
		   "1.0.0", O1, ACL_WF),
	STRING_CMD("setex", 4, W_DENY, 1, 1, 1, AP_SPLIT_NONE, cmd_setex,
		   "Sets the string value and expiration time of a key. "
		   "Creates the key if it doesn't exist.",
		   "2.0.0", O1, ACL_WS),
	STRING_CMD("psetex", 4, W_DENY, 1, 1, 1, AP_SPLIT_NONE, cmd_psetex,
		   "Sets both string value and expiration time in "
		   "milliseconds of a key. The key is created if it doesn't "
		   "exist.",
		   "2.6.0", O1, ACL_WS),
	STRING_CMD("getex", -2, W_FAST, 1, 1, 1, AP_SPLIT_NONE, cmd_getex,
		   "Returns the string value of a key after setting its "
		   "expiration time.",
		   "6.2.0", O1, ACL_WF),
	STRING_CMD("getdel", 2, W_FAST, 1, 1, 1, AP_SPLIT_NONE, cmd_getdel,
		   "Returns the string value of a key after deleting the key.",
		   "6.2.0", O1, ACL_WF),
	STRING_CMD("getset", 3, W_DENY_FAST, 1, 1, 1, AP_SPLIT_NONE, cmd_getset,
		   "Returns the previous string value of a key after setting "
		   "it to a new value.",
		   "1.0.0", O1, ACL_WF),
	STRING_CMD("mget", -2, R_FAST, 1, -1, 1, AP_SPLIT_ARRAY, cmd_mget,
		   "Atomically returns the string values of one or more keys.",
		   "1.0.0", "O(N) where N is the number of keys to retrieve.",
		   ACL_RF),
	STRING_CMD("mset", -3, W_DENY, 1, -1, 2, AP_SPLIT_OK, cmd_mset,
		   "Atomically creates or modifies the string values of one "
		   "or more keys.",
		   "1.0.1", "O(N) where N is the number of keys to set.",
		   ACL_WS),
	STRING_CMD("msetnx", -3, W_DENY, 1, -1, 2, AP_SPLIT_NONE, cmd_msetnx,
		   "Atomically modifies the string values of one or more keys "
		   "only when all keys don't exist.",
		   "1.0.1", "O(N) where N is the number of keys to set.",
		   ACL_WS),
	STRING_CMD("incr", 2, W_DENY_FAST, 1, 1, 1, AP_SPLIT_NONE, cmd_incr,
		   "Increments the integer value of a key by one. Uses 0 as "
		   "initial value if the key doesn't exist.",
		   "1.0.0", O1, ACL_WF),
	STRING_CMD("decr", 2, W_DENY_FAST, 1, 1, 1, AP_SPLIT_NONE, cmd_decr,
		   "Decrements the integer value of a key by one. Uses 0 as "
		   "initial value if the key doesn't exist.",
		   "1.0.0", O1, ACL_WF),
	STRING_CMD("incrby", 3, W_DENY_FAST, 1, 1, 1, AP_SPLIT_NONE, cmd_incrby,
		   "Increments the integer value of a key by a number. Uses 0 "
		   "as initial value if the key doesn't exist.",
		   "1.0.0", O1, ACL_WF),
	STRING_CMD("decrby", 3, W_DENY_FAST, 1, 1, 1, AP_SPLIT_NONE, cmd_decrby,
		   "Decrements a number from the integer value of a key. Uses "
		   "0 as initial value if the key doesn't exist.",
		   "1.0.0", O1, ACL_WF),
	STRING_CMD("incrbyfloat", 3, W_DENY_FAST, 1, 1, 1, AP_SPLIT_NONE,
		   cmd_incrbyfloat,
		   "Increment the floating point value of a key by a number. "
		   "Uses 0 as initial value if the key doesn't exist.",
		   "2.6.0", O1, ACL_WF),
	STRING_CMD("append", 3, W_DENY_FAST, 1, 1, 1, AP_SPLIT_NONE, cmd_append,
		   "Appends a string to the value of a key. Creates the key if "
		   "it doesn't exist.",
		   "2.0.0",
		   "O(1). The amortized time complexity is O(1) assuming the "
		   "appended value is small and the already present value is "
		   "of any size, since the dynamic string library used by "
		   "Redis will double the free space available on every "
		   "reallocation.",
		   ACL_WF),
	STRING_CMD("strlen", 2, R_FAST, 1, 1, 1, AP_SPLIT_NONE, cmd_strlen,
		   "Returns the length of a string value.", "2.2.0", O1,
		   ACL_RF),
	STRING_CMD("getrange", 4, AP_CMD_READONLY, 1, 1, 1, AP_SPLIT_NONE,
		   cmd_getrange,
		   "Returns a substring of the string stored at a key.",
		   "2.4.0",
		   "O(N) where N is the length of the returned string. The "
		   "complexity is ultimately determined by the returned "
		   "length, but because creating a substring from an existing "
		   "string is very cheap, it can be considered O(1) for small "
		   "strings.",
		   ACL_RS),
	STRING_CMD("substr", 4, AP_CMD_READONLY, 1, 1, 1, AP_SPLIT_NONE,
		   cmd_getrange, "Returns a substring from string value.",
		   "1.0.0",
		   "O(N) where N is the length of the returned string. The "
		   "complexity is ultimately determined by the returned "
		   "length, but because creating a substring from an existing "
		   "string is very cheap, it can be considered O(1) for small "
		   "strings.",
		   ACL_RS),
	STRING_CMD("setrange", 4, W_DENY, 1, 1, 1, AP_SPLIT_NONE, cmd_setrange,
		   "Overwrites a part of a string value with another by an "
		   "offset. Creates the key if it doesn't exist.",
		   "2.2.0",
		   "O(1), not counting the time taken to copy the new string "
		   "in place. Usually, this string is very small so the "
		   "amortized complexity is O(1). Otherwise, complexity is "
		   "O(M) with M being the length of the value argument.",
		   ACL_WS),
	STRING_CMD("lcs", -3, AP_CMD_READONLY, 1, 2, 1, AP_SPLIT_NONE, cmd_lcs,
		   "Finds the longest common substring.", "7.0.0",
		   "O(N*M) where N and M are the lengths of s1 and s2, "
		   "respectively",
		   ACL_RS),
	{.name = NULL},
};
