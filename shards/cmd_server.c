/*
 * cmd_server.c - connection commands (PING, ECHO, HELLO, AUTH, SELECT,
 * QUIT, RESET) and the keyspace-wide commands that fan out to every shard
 * (DBSIZE, FLUSHDB, FLUSHALL, KEYS, SCAN, RANDOMKEY, SWAPDB), TIME,
 * and DEBUG (SHUTDOWN is in shutdown.c).
 */
#include "shards/shards_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/version.h"

static struct ap_client *client_of(struct ap_cmd_ctx *c)
{
	AP_ASSERT(c->client);
	return c->client;
}

/* --- connection ---------------------------------------------------------- */

static void cmd_ping(struct ap_cmd_ctx *c)
{
	if (c->argc > 2) {
		ap_reply_error(c->r, "ERR wrong number of arguments for 'ping' "
				     "command");
		return;
	}
	if (c->argc == 2)
		ap_reply_bulk(c->r, c->argv[1].p, c->argv[1].len);
	else
		ap_reply_status(c->r, "PONG");
}

static void cmd_echo(struct ap_cmd_ctx *c)
{
	ap_reply_bulk(c->r, c->argv[1].p, c->argv[1].len);
}

static void cmd_quit(struct ap_cmd_ctx *c)
{
	ap_reply_ok(c->r);
	client_of(c)->flags |= AP_CF_CLOSE_ASAP;
}

static void set_proto(struct ap_client *cl, int proto)
{
	cl->proto = (uint8_t)proto;
	cl->reply.proto = (uint8_t)proto;
}

static void cmd_reset(struct ap_cmd_ctx *c)
{
	struct ap_client *cl = client_of(c);
	cl->db_idx = 0;
	set_proto(cl, 2);
	cl->name[0] = '\0';
	cl->flags &= ~(AP_CF_REPLY_OFF | AP_CF_REPLY_SKIP |
		       AP_CF_REPLY_SKIP_NEXT | AP_CF_NO_EVICT | AP_CF_NO_TOUCH);
	if (c->cfg->requirepass[0])
		cl->flags &= ~AP_CF_AUTHED;
	ap_reply_status(c->r, "RESET");
}

/* Checks a password for user "default". Replies the error and returns
 * false if it does not match. */
static bool check_auth(struct ap_cmd_ctx *c, const struct ap_arg *user,
		       const struct ap_arg *pass)
{
	const char *want = c->cfg->requirepass;
	bool user_ok = !user || ap_arg_eq(user, "default");
	if (user_ok && strlen(want) == pass->len &&
	    memcmp(want, pass->p, pass->len) == 0) {
		client_of(c)->flags |= AP_CF_AUTHED;
		return true;
	}
	ap_reply_error(c->r, "WRONGPASS invalid username-password pair or "
			     "user is disabled.");
	return false;
}

static void cmd_auth(struct ap_cmd_ctx *c)
{
	if (c->argc > 3) {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
		return;
	}
	if (c->cfg->requirepass[0] == '\0' && c->argc == 2) {
		ap_reply_error(c->r,
			       "ERR AUTH <password> called without any "
			       "password configured for the default user. Are "
			       "you sure your configuration is correct?");
		return;
	}
	if (c->cfg->requirepass[0] == '\0') {
		/* AUTH default <anything> with no password: nopass user. */
		if (ap_arg_eq(&c->argv[1], "default")) {
			ap_reply_ok(c->r);
			return;
		}
		ap_reply_error(c->r, "WRONGPASS invalid username-password "
				     "pair or user is disabled.");
		return;
	}
	if (check_auth(c, c->argc == 3 ? &c->argv[1] : NULL,
		       &c->argv[c->argc - 1]))
		ap_reply_ok(c->r);
}

static bool valid_client_name(const struct ap_arg *a)
{
	for (size_t i = 0; i < a->len; i++)
		if (a->p[i] < '!' || a->p[i] > '~')
			return false;
	return a->len <= AP_CLIENT_NAME_MAX;
}

static void cmd_hello(struct ap_cmd_ctx *c)
{
	struct ap_client *cl = client_of(c);
	int proto = cl->proto;
	int i = 1;
	if (c->argc >= 2) {
		long long v;
		if (!ap_str_to_ll(c->argv[1].p, c->argv[1].len, &v)) {
			ap_reply_error(c->r, "ERR Protocol version is not an "
					     "integer or out of range");
			return;
		}
		if (v < 2 || v > 3) {
			ap_reply_error(c->r, "NOPROTO unsupported protocol "
					     "version");
			return;
		}
		proto = (int)v;
		i = 2;
	}
	const struct ap_arg *setname = NULL;
	for (; i < c->argc; i++) {
		int more = c->argc - i - 1;
		if (ap_arg_eq(&c->argv[i], "auth") && more >= 2) {
			if (c->cfg->requirepass[0] == '\0') {
				if (!ap_arg_eq(&c->argv[i + 1], "default")) {
					ap_reply_error(
						c->r,
						"WRONGPASS invalid username-"
						"password pair or user is "
						"disabled.");
					return;
				}
			} else if (!check_auth(c, &c->argv[i + 1],
					       &c->argv[i + 2])) {
				return;
			}
			i += 2;
		} else if (ap_arg_eq(&c->argv[i], "setname") && more >= 1) {
			setname = &c->argv[i + 1];
			if (!valid_client_name(setname)) {
				ap_reply_error(
					c->r, "ERR Client names cannot contain "
					      "spaces, newlines or special "
					      "characters.");
				return;
			}
			i += 1;
		} else {
			char buf[200];
			snprintf(buf, sizeof(buf),
				 "ERR Syntax error in HELLO option '%.*s'",
				 (int)AP_MIN(c->argv[i].len, 128),
				 c->argv[i].p);
			ap_reply_error(c->r, buf);
			return;
		}
	}
	if (!(cl->flags & AP_CF_AUTHED)) {
		ap_reply_error(c->r, "NOAUTH HELLO must be called with the "
				     "client already authenticated, otherwise "
				     "the HELLO <proto> AUTH <user> <pass> "
				     "option can be used to authenticate the "
				     "client and select the RESP protocol "
				     "version at the same time");
		return;
	}
	if (setname) {
		memcpy(cl->name, setname->p, setname->len);
		cl->name[setname->len] = '\0';
	}
	set_proto(cl, proto);
	ap_reply_map(c->r, 7);
	ap_reply_bulk_cstr(c->r, "server");
	ap_reply_bulk_cstr(c->r, "redis");
	ap_reply_bulk_cstr(c->r, "version");
	ap_reply_bulk_cstr(c->r, AP_REDIS_COMPAT_VERSION);
	ap_reply_bulk_cstr(c->r, "proto");
	ap_reply_int(c->r, proto);
	ap_reply_bulk_cstr(c->r, "id");
	ap_reply_int(c->r, (long long)cl->id);
	ap_reply_bulk_cstr(c->r, "mode");
	ap_reply_bulk_cstr(c->r, "standalone");
	ap_reply_bulk_cstr(c->r, "role");
	ap_reply_bulk_cstr(c->r, "master");
	ap_reply_bulk_cstr(c->r, "modules");
	ap_reply_array(c->r, 0);
}

/* Parses a database index argument; replies the error. */
static bool arg_db(struct ap_cmd_ctx *c, const struct ap_arg *a, long long *db,
		   const char *bad_int_err)
{
	if (!ap_str_to_ll(a->p, a->len, db)) {
		ap_reply_error(c->r, bad_int_err);
		return false;
	}
	if (*db < 0 || *db >= c->cfg->databases) {
		ap_reply_error(c->r, "ERR DB index is out of range");
		return false;
	}
	return true;
}

static void cmd_select(struct ap_cmd_ctx *c)
{
	long long db;
	if (!arg_db(c, &c->argv[1], &db, AP_ERR_NOT_INT))
		return;
	client_of(c)->db_idx = (unsigned)db;
	ap_reply_ok(c->r);
}

/* --- fan-outs over the keyspace ------------------------------------------ */

static void fo_dbsize(struct ap_shard *s, struct ap_fanout *f)
{
	ap_fanout_part_of(f, s)->num =
		(long long)ap_db_size(ap_keyspace_db(s->ks, f->db_idx));
}

static void fo_sum_done(struct ap_shard *home, struct ap_fanout *f)
{
	long long sum = 0;
	for (int i = 0; i < f->nparts; i++)
		sum += f->parts[i].num;
	if (!(f->client->flags & AP_CF_CLOSED))
		ap_reply_int(&f->client->reply, sum);
	ap_fanout_finish(home, f);
}

static void cmd_dbsize(struct ap_cmd_ctx *c)
{
	ap_fanout_start_all(c, fo_dbsize, fo_sum_done, 0, NULL, NULL);
}

/* opt[0]: -1 = every database, else the database to flush. */
static void fo_flush(struct ap_shard *s, struct ap_fanout *f)
{
	unsigned n = ap_keyspace_db_count(s->ks);
	uint64_t removed = 0;
	for (unsigned d = 0; d < n; d++) {
		if (f->opt[0] >= 0 && (long long)d != f->opt[0])
			continue;
		struct ap_db *db = ap_keyspace_db(s->ks, d);
		removed += ap_db_size(db);
		ap_db_flush(db);
	}
	if (f->opt[0] >= 0) {
		struct ap_arg a = {"FLUSHDB", 7};
		ap_plog_fanout_cmd(s, f, (unsigned)f->opt[0], 1, &a);
	} else {
		struct ap_arg a = {"FLUSHALL", 8};
		ap_plog_fanout_cmd(s, f, 0, 1, &a);
	}
	ap_keyspace_stats(s->ks)->dirty += removed;
	ap_txn_watch_touch_db(s, f->opt[0] >= 0 ? (int)f->opt[0] : -1);
}

static bool flush_mode_ok(struct ap_cmd_ctx *c)
{
	if (c->argc == 1)
		return true;
	if (c->argc == 2 &&
	    (ap_arg_eq(&c->argv[1], "async") || ap_arg_eq(&c->argv[1], "sync")))
		return true;
	ap_reply_error(c->r, AP_ERR_SYNTAX);
	return false;
}

static void cmd_flushdb(struct ap_cmd_ctx *c)
{
	if (!flush_mode_ok(c))
		return;
	long long opt[4] = {(long long)c->db_idx};
	ap_fanout_start_all(c, fo_flush, ap_fanout_done_ok, 0, NULL, opt);
}

static void cmd_flushall(struct ap_cmd_ctx *c)
{
	if (!flush_mode_ok(c))
		return;
	long long opt[4] = {-1};
	ap_fanout_start_all(c, fo_flush, ap_fanout_done_ok, 0, NULL, opt);
}

struct keys_scan {
	struct ap_fanout_part *part;
	const struct ap_arg *pattern; /* NULL: all */
	bool all;
	int type; /* -1: any */
	struct ap_reply r;
};

static void keys_emit(void *arg, const struct ap_entry *e)
{
	struct keys_scan *ks = arg;
	size_t klen;
	const char *key = ap_entry_key(e, &klen);
	if (ks->type >= 0 && (int)ap_entry_type(e) != ks->type)
		return;
	if (!ks->all &&
	    !ap_glob_match(ks->pattern->p, ks->pattern->len, key, klen, false))
		return;
	ap_reply_bulk(&ks->r, key, klen);
	ks->part->count++;
}

static void fo_keys(struct ap_shard *s, struct ap_fanout *f)
{
	struct keys_scan ks = {
		.part = ap_fanout_part_of(f, s),
		.pattern = &f->argv[1],
		.all = f->argv[1].len == 1 && f->argv[1].p[0] == '*',
		.type = -1,
	};
	ap_reply_init(&ks.r, &ks.part->out, f->proto);
	struct ap_db *db = ap_keyspace_db(s->ks, f->db_idx);
	/* Expired keys are skipped by the scan callback's lookup rules:
	 * ap_db_scan reports live keys only. */
	uint64_t cursor = 0;
	do {
		cursor = ap_db_scan(db, cursor, AP_KEYS_BATCH, keys_emit, &ks);
	} while (cursor != 0);
}

static void fo_concat_done(struct ap_shard *home, struct ap_fanout *f)
{
	struct ap_client *cl = f->client;
	if (!(cl->flags & AP_CF_CLOSED)) {
		size_t total = 0;
		for (int i = 0; i < f->nparts; i++)
			total += f->parts[i].count;
		ap_reply_array(&cl->reply, total);
		for (int i = 0; i < f->nparts; i++)
			ap_obuf_splice(cl->reply.out, &f->parts[i].out);
	}
	ap_fanout_finish(home, f);
}

static void cmd_keys(struct ap_cmd_ctx *c)
{
	ap_fanout_start_all(c, fo_keys, fo_concat_done, c->argc, c->argv, NULL);
}

/* SCAN cursor: the low 8 bits name the shard, the rest is that shard's
 * table cursor. */
#define SCAN_SHARD_BITS 8

static int type_by_name(const struct ap_arg *a)
{
	for (int t = 0; t < AP_TYPE__COUNT; t++) {
		const char *n = ap_type_name((enum ap_type)t);
		if (n && ap_arg_eq(a, n))
			return t;
	}
	return -2; /* unknown type: matches nothing, as Redis 7.0 */
}

static void fo_scan(struct ap_shard *s, struct ap_fanout *f)
{
	struct ap_fanout_part *p = ap_fanout_part_of(f, s);
	struct keys_scan ks = {
		.part = p,
		.pattern = f->opt[2] ? &f->argv[f->opt[2]] : NULL,
		.all = f->opt[2] == 0,
		.type = (int)f->opt[3],
	};
	ap_reply_init(&ks.r, &p->out, f->proto);
	struct ap_db *db = ap_keyspace_db(s->ks, f->db_idx);
	size_t count = (size_t)f->opt[1];
	uint64_t cursor = (uint64_t)f->opt[0];
	/* Like Redis: visit about `count` keys' worth of buckets. */
	p->cursor = ap_db_scan(db, cursor, count, keys_emit, &ks);
}

static void fo_scan_done(struct ap_shard *home, struct ap_fanout *f)
{
	struct ap_client *cl = f->client;
	struct ap_fanout_part *p = &f->parts[0];
	int nshards = home->srv->nshards;
	uint64_t next;
	if (p->cursor == 0 && p->count == 0 && p->shard + 1 < nshards &&
	    !(cl->flags & AP_CF_CLOSED)) {
		/* This shard is done and gave nothing: go on to the next
		 * one, so an empty database answers cursor 0 as Redis. */
		f->opt[0] = 0;
		ap_fanout_redirect(home, f, p->shard + 1);
		return;
	}
	if (p->cursor != 0)
		next = (p->cursor << SCAN_SHARD_BITS) | (uint64_t)p->shard;
	else if (p->shard + 1 < nshards)
		next = (uint64_t)(p->shard + 1);
	else
		next = 0;
	if (!(cl->flags & AP_CF_CLOSED))
		ap_scan_reply_write(&cl->reply, next, p->count, &p->out);
	ap_fanout_finish(home, f);
}

/* SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]: the shard named
 * by the cursor's low bits scans its table from the rest (fo_scan), and
 * empty shards are stepped over (fo_scan_done). */
static void cmd_scan(struct ap_cmd_ctx *c)
{
	struct ap_client *cl = client_of(c);
	struct ap_scan_args args;
	uint64_t cursor;
	if (!ap_scan_cursor_parse(c, &c->argv[1], &cursor) ||
	    !ap_scan_args_parse(c, 2, true, &args))
		return;
	/* cursor, count, match (argv index, 0: all), type (-1: any) */
	long long opt[4] = {0, (long long)AP_MIN(args.count, 1000000), 0, -1};
	if (args.match != NULL)
		opt[2] = args.match - c->argv;
	if (args.type != NULL)
		opt[3] = type_by_name(args.type);
	int nshards = cl->shard->srv->nshards;
	int shard = (int)(cursor & ((1u << SCAN_SHARD_BITS) - 1));
	if (shard >= nshards) { /* a cursor from another configuration */
		ap_scan_reply_write(c->r, 0, 0, NULL);
		return;
	}
	opt[0] = (long long)(cursor >> SCAN_SHARD_BITS);
	ap_fanout_start(cl, shard, 1, fo_scan, fo_scan_done, c->argc, c->argv,
			opt);
}

static void fo_randomkey(struct ap_shard *s, struct ap_fanout *f)
{
	struct ap_fanout_part *p = ap_fanout_part_of(f, s);
	struct ap_db *db = ap_keyspace_db(s->ks, f->db_idx);
	p->num = (long long)ap_db_size(db);
	struct ap_entry *e = ap_db_random(db);
	if (e) {
		size_t klen;
		const char *k = ap_entry_key(e, &klen);
		struct ap_reply r;
		ap_reply_init(&r, &p->out, f->proto);
		ap_reply_bulk(&r, k, klen);
		p->count = 1;
	}
}

static void fo_randomkey_done(struct ap_shard *home, struct ap_fanout *f)
{
	struct ap_client *cl = f->client;
	long long total = 0;
	for (int i = 0; i < f->nparts; i++)
		if (f->parts[i].count)
			total += f->parts[i].num;
	if (!(cl->flags & AP_CF_CLOSED)) {
		if (total == 0) {
			ap_reply_null(&cl->reply);
		} else {
			/* Pick a shard with probability size/total. */
			long long r =
				(long long)(ap_time_ns() % (uint64_t)total);
			int i = 0;
			for (; i < f->nparts; i++) {
				if (!f->parts[i].count)
					continue;
				if (r < f->parts[i].num)
					break;
				r -= f->parts[i].num;
			}
			AP_ASSERT(i < f->nparts);
			ap_obuf_splice(cl->reply.out, &f->parts[i].out);
		}
	}
	ap_fanout_finish(home, f);
}

static void cmd_randomkey(struct ap_cmd_ctx *c)
{
	ap_fanout_start_all(c, fo_randomkey, fo_randomkey_done, 0, NULL, NULL);
}

static void fo_swapdb(struct ap_shard *s, struct ap_fanout *f)
{
	ap_keyspace_swap_db(s->ks, (unsigned)f->opt[0], (unsigned)f->opt[1]);
	char a0[24], a1[24];
	struct ap_arg a[3] = {
		{"SWAPDB", 6},
		{a0, (size_t)snprintf(a0, sizeof(a0), "%lld", f->opt[0])},
		{a1, (size_t)snprintf(a1, sizeof(a1), "%lld", f->opt[1])},
	};
	ap_plog_fanout_cmd(s, f, 0, 3, a);
	ap_keyspace_stats(s->ks)->dirty++;
	ap_txn_watch_touch_db(s, (int)f->opt[0]);
	ap_txn_watch_touch_db(s, (int)f->opt[1]);
}

static void cmd_swapdb(struct ap_cmd_ctx *c)
{
	long long a, b;
	if (!arg_db(c, &c->argv[1], &a, "ERR invalid first DB index") ||
	    !arg_db(c, &c->argv[2], &b, "ERR invalid second DB index"))
		return;
	long long opt[4] = {a, b};
	ap_fanout_start_all(c, fo_swapdb, ap_fanout_done_ok, 0, NULL, opt);
}

/* --- server ------------------------------------------------------------- */

static void cmd_time(struct ap_cmd_ctx *c)
{
	int64_t us = ap_unix_us();
	ap_reply_array(c->r, 2);
	ap_reply_bulk_ll(c->r, us / 1000000);
	ap_reply_bulk_ll(c->r, us % 1000000);
}

/* DEBUG ------------------------------------------------------------------ */

static void cmd_debug_sleep(struct ap_cmd_ctx *c)
{
	long double secs;
	if (!ap_arg_ld(c, &c->argv[2], &secs))
		return;
	if (secs > 0) {
		struct timespec ts;
		ts.tv_sec = (time_t)secs;
		ts.tv_nsec = (long)((secs - (long double)ts.tv_sec) * 1e9L);
		nanosleep(&ts, NULL);
	}
	ap_reply_ok(c->r);
}

static void fo_active_expire(struct ap_shard *s, struct ap_fanout *f)
{
	s->cfg.active_expire = f->opt[0] != 0;
	ap_keyspace_set_active_expire(s->ks, s->cfg.active_expire);
}

static void cmd_debug_active_expire(struct ap_cmd_ctx *c)
{
	long long on;
	if (!ap_arg_ll(c, &c->argv[2], &on))
		return;
	long long opt[4] = {on};
	ap_fanout_start_all(c, fo_active_expire, ap_fanout_done_ok, 0, NULL,
			    opt);
}

/* Runs on the key's shard (routed by key, not AP_CMD_SERVER). */
static void cmd_debug_object(struct ap_cmd_ctx *c)
{
	struct ap_entry *e = ap_db_lookup(c->db, c->argv[2].p, c->argv[2].len,
					  AP_LK_NOTOUCH);
	if (!e) {
		ap_reply_error(c->r, AP_ERR_NO_KEY);
		return;
	}
	char buf[256];
	size_t len =
		ap_entry_type(e) == AP_TYPE_STRING ? ap_entry_str_len(e) : 0;
	snprintf(buf, sizeof(buf),
		 "Value at:%p refcount:1 encoding:%s serializedlength:%zu "
		 "lru:%u lru_seconds_idle:%u",
		 (void *)e, ap_enc_name(ap_entry_enc(e)), len,
		 ap_keyspace_lru_clock(c->ks), ap_entry_idle_s(c->ks, e));
	ap_reply_status(c->r, buf);
}

static void cmd_debug_protocol(struct ap_cmd_ctx *c)
{
	const struct ap_arg *a = &c->argv[2];
	if (ap_arg_eq(a, "string")) {
		ap_reply_bulk_cstr(c->r, "Hello World");
	} else if (ap_arg_eq(a, "integer")) {
		ap_reply_int(c->r, 12345);
	} else if (ap_arg_eq(a, "double")) {
		ap_reply_double(c->r, 3.141);
	} else if (ap_arg_eq(a, "null")) {
		ap_reply_null(c->r);
	} else if (ap_arg_eq(a, "true")) {
		ap_reply_bool(c->r, true);
	} else if (ap_arg_eq(a, "false")) {
		ap_reply_bool(c->r, false);
	} else if (ap_arg_eq(a, "verbatim")) {
		ap_reply_verbatim(c->r, "This is a verbatim\nstring", 25,
				  "txt");
	} else if (ap_arg_eq(a, "map")) {
		ap_reply_map(c->r, 3);
		for (int i = 0; i < 3; i++) {
			ap_reply_int(c->r, i);
			ap_reply_bool(c->r, i == 1);
		}
	} else if (ap_arg_eq(a, "set")) {
		ap_reply_set(c->r, 3);
		for (int i = 0; i < 3; i++)
			ap_reply_int(c->r, i);
	} else {
		ap_reply_error(c->r, "ERR Wrong protocol type name. Please use "
				     "one of the following: string|integer|"
				     "double|null|true|false|verbatim|map|set");
	}
}

static void cmd_debug_help(struct ap_cmd_ctx *c)
{
	static const char *lines[] = {
		"DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands "
		"are:",
		"OBJECT <key>",
		"    Show low level info about the key and associated value.",
		"PROTOCOL <type>",
		"    Reply with a test value of the specified type: string, "
		"integer, double, null, true, false, verbatim, map, set.",
		"SET-ACTIVE-EXPIRE <0|1>",
		"    Setting it to 0 disables expiring keys in background when "
		"they are not accessed (otherwise the Redis behavior). Setting "
		"it to 1 reenables back the default.",
		"SLEEP <seconds>",
		"    Stop the server for <seconds>. Decimals allowed.",
		"HELP",
		"    Print this help.",
	};
	ap_reply_array(c->r, AP_ARRAY_LEN(lines));
	for (size_t i = 0; i < AP_ARRAY_LEN(lines); i++)
		ap_reply_status(c->r, lines[i]);
}

#define SRV (AP_CMD_SERVER)

static const struct ap_cmd debug_subcmds[] = {
	{.name = "sleep",
	 .arity = 3,
	 .flags = SRV | AP_CMD_ADMIN,
	 .fn = cmd_debug_sleep,
	 .group = "server",
	 .summary = "Stops the server for a number of seconds."},
	{.name = "set-active-expire",
	 .arity = 3,
	 .flags = SRV | AP_CMD_ADMIN,
	 .fn = cmd_debug_active_expire,
	 .group = "server",
	 .summary = "Turns active expiry on or off."},
	{.name = "object",
	 .arity = 3,
	 .flags = AP_CMD_ADMIN | AP_CMD_READONLY,
	 .first_key = 2,
	 .last_key = 2,
	 .key_step = 1,
	 .fn = cmd_debug_object,
	 .group = "server",
	 .summary = "Low-level information about a key."},
	{.name = "protocol",
	 .arity = 3,
	 .flags = SRV | AP_CMD_ADMIN,
	 .fn = cmd_debug_protocol,
	 .group = "server",
	 .summary = "Replies a test value of a RESP type."},
	{.name = "help",
	 .arity = 2,
	 .flags = SRV,
	 .fn = cmd_debug_help,
	 .group = "server",
	 .summary = "Shows DEBUG's subcommands."},
	{.name = NULL},
};

const struct ap_cmd ap_cmds_server[] = {
	{.name = "dbsize",
	 .arity = 1,
	 .flags = SRV | AP_CMD_READONLY | AP_CMD_FAST | AP_CMD_WHOLE_KEYSPACE,
	 .fn = cmd_dbsize,
	 .group = "server",
	 .summary = "Returns the number of keys in the database.",
	 .since = "1.0.0",
	 .complexity = "O(1)",
	 .acl_categories = "@keyspace @read @fast"},
	{.name = "flushdb",
	 .arity = -1,
	 .flags = SRV | AP_CMD_WRITE | AP_CMD_WHOLE_KEYSPACE,
	 .fn = cmd_flushdb,
	 .group = "server",
	 .summary = "Removes all keys from the current database.",
	 .since = "1.0.0",
	 .complexity = "O(N)",
	 .acl_categories = "@keyspace @write @slow @dangerous"},
	{.name = "flushall",
	 .arity = -1,
	 .flags = SRV | AP_CMD_WRITE | AP_CMD_WHOLE_KEYSPACE,
	 .fn = cmd_flushall,
	 .group = "server",
	 .summary = "Removes all keys from all databases.",
	 .since = "1.0.0",
	 .complexity = "O(N)",
	 .acl_categories = "@keyspace @write @slow @dangerous"},
	{.name = "keys",
	 .arity = 2,
	 .flags = SRV | AP_CMD_READONLY | AP_CMD_WHOLE_KEYSPACE,
	 .fn = cmd_keys,
	 .group = "generic",
	 .summary = "Returns all key names that match a pattern.",
	 .since = "1.0.0",
	 .complexity = "O(N)",
	 .acl_categories = "@keyspace @read @slow @dangerous"},
	{.name = "scan",
	 .arity = -2,
	 .flags = SRV | AP_CMD_READONLY,
	 .fn = cmd_scan,
	 .group = "generic",
	 .summary = "Iterates over the key names in the database.",
	 .since = "2.8.0",
	 .complexity = "O(1) per call",
	 .acl_categories = "@keyspace @read @slow"},
	{.name = "randomkey",
	 .arity = 1,
	 .flags = SRV | AP_CMD_READONLY,
	 .fn = cmd_randomkey,
	 .group = "generic",
	 .summary = "Returns a random key name from the database.",
	 .since = "1.0.0",
	 .complexity = "O(1)",
	 .acl_categories = "@keyspace @read @slow"},
	{.name = "swapdb",
	 .arity = 3,
	 .flags = SRV | AP_CMD_WRITE | AP_CMD_FAST | AP_CMD_WHOLE_KEYSPACE,
	 .fn = cmd_swapdb,
	 .group = "server",
	 .summary = "Swaps two databases.",
	 .since = "4.0.0",
	 .complexity = "O(N)",
	 .acl_categories = "@keyspace @write @fast @dangerous"},
	{.name = "time",
	 .arity = 1,
	 .flags = SRV | AP_CMD_FAST,
	 .fn = cmd_time,
	 .group = "server",
	 .summary = "Returns the server time.",
	 .since = "2.6.0",
	 .complexity = "O(1)",
	 .acl_categories = "@fast"},
	{.name = "debug",
	 .arity = -2,
	 .flags = SRV | AP_CMD_ADMIN,
	 .group = "server",
	 .summary = "A container for debugging commands.",
	 .since = "1.0.0",
	 .complexity = "Depends on subcommand.",
	 .acl_categories = "@admin @slow @dangerous",
	 .subcmds = debug_subcmds},
	{.name = NULL},
};

const struct ap_cmd ap_cmds_conn[] = {
	{.name = "ping",
	 .arity = -1,
	 .flags = SRV | AP_CMD_FAST,
	 .fn = cmd_ping,
	 .group = "connection",
	 .summary = "Returns the server's liveliness response.",
	 .since = "1.0.0",
	 .complexity = "O(1)",
	 .acl_categories = "@fast @connection"},
	{.name = "echo",
	 .arity = 2,
	 .flags = SRV | AP_CMD_FAST,
	 .fn = cmd_echo,
	 .group = "connection",
	 .summary = "Returns the given string.",
	 .since = "1.0.0",
	 .complexity = "O(1)",
	 .acl_categories = "@fast @connection"},
	{.name = "quit",
	 .arity = -1,
	 .flags = SRV | AP_CMD_FAST | AP_CMD_NO_AUTH,
	 .fn = cmd_quit,
	 .group = "connection",
	 .summary = "Closes the connection.",
	 .since = "1.0.0",
	 .complexity = "O(1)",
	 .acl_categories = "@fast @connection"},
	{.name = "reset",
	 .arity = 1,
	 .flags = SRV | AP_CMD_FAST | AP_CMD_NO_AUTH,
	 .fn = cmd_reset,
	 .group = "connection",
	 .summary = "Resets the connection.",
	 .since = "6.2.0",
	 .complexity = "O(1)",
	 .acl_categories = "@fast @connection"},
	{.name = "hello",
	 .arity = -1,
	 .flags = SRV | AP_CMD_FAST | AP_CMD_NO_AUTH,
	 .fn = cmd_hello,
	 .group = "connection",
	 .summary = "Handshakes with the Redis server.",
	 .since = "6.0.0",
	 .complexity = "O(1)",
	 .acl_categories = "@fast @connection"},
	{.name = "auth",
	 .arity = -2,
	 .flags = SRV | AP_CMD_FAST | AP_CMD_NO_AUTH,
	 .fn = cmd_auth,
	 .group = "connection",
	 .summary = "Authenticates the connection.",
	 .since = "1.0.0",
	 .complexity = "O(N)",
	 .acl_categories = "@fast @connection"},
	{.name = "select",
	 .arity = 2,
	 .flags = SRV | AP_CMD_FAST,
	 .fn = cmd_select,
	 .group = "connection",
	 .summary = "Changes the selected database.",
	 .since = "1.0.0",
	 .complexity = "O(1)",
	 .acl_categories = "@fast @connection"},
	{.name = NULL},
};
