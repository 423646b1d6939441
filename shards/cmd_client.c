/*
 * cmd_client.c - CLIENT and its subcommands (Redis 7 semantics): ID,
 * INFO, LIST, KILL, UNBLOCK, SETNAME, GETNAME, SETINFO, REPLY, PAUSE,
 * UNPAUSE, NO-EVICT, NO-TOUCH, GETREDIR and HELP.
 *
 * Every subcommand runs on the calling client's shard (AP_CMD_SERVER).
 * Other shards' clients, waiters and pause state are read or changed only
 * on those shards' threads, through a fan-out (xshard.c): LIST collects
 * each shard's lines, KILL and UNBLOCK look on every shard, PAUSE and
 * UNPAUSE set every shard's pause. Helpers shared with INFO, CONFIG and
 * COMMAND are in cmd_introspect.c (see introspect_int.h).
 */
#include "shards/introspect_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SRV AP_CMD_SERVER

/* One CLIENT LIST line: the name and library fields are bounded by the
 * client struct; the rest is numbers and addresses. */
#define CLIENT_LINE_MAX (AP_CLIENT_NAME_MAX + 1024)

/* --- helpers ------------------------------------------------------------- */

/* Full name of the command whose name pointer is `name` (a client's last
 * command). Subcommand names are short words that several containers may
 * share (and the compiler may merge), so a name owned by more than one
 * command is shown bare. */
static const char *last_cmd_name(const char *name, char *buf, size_t size)
{
	const struct ap_cmd *hit = NULL, *hit_parent = NULL;
	int hits = 0;
	if (!name)
		return "NULL";
	for (size_t i = 0; i < ap_cmd_count(); i++) {
		const struct ap_cmd *p = ap_cmd_at(i);
		if (p->name == name) {
			hit = p;
			hit_parent = NULL;
			hits++;
		}
		for (const struct ap_cmd *s = p->subcmds; s && s->name; s++) {
			if (s->name == name) {
				hit = s;
				hit_parent = p;
				hits++;
			}
		}
	}
	if (hits != 1)
		return name;
	return ap_introspect_full_name(hit, hit_parent, buf, size);
}

/* True if every byte is printable and not a space (client names and
 * library attributes, as Redis). */
static bool attr_valid(const struct ap_arg *a)
{
	for (size_t i = 0; i < a->len; i++)
		if (a->p[i] < '!' || a->p[i] > '~')
			return false;
	return true;
}

/* --- client types, CLIENT LIST lines, subcommands ------------------------ */

enum client_type {
	CT_ANY = -1,
	CT_NORMAL = 0,
	CT_MASTER,
	CT_REPLICA,
	CT_PUBSUB,
};

/* A client's type for LIST/KILL TYPE. Every connection is a normal
 * client until replication and pub/sub state exist on struct
 * ap_client. */
static int client_type(const struct ap_client *c)
{
	(void)c;
	return CT_NORMAL;
}

/* The client type named by a (case-insensitive; "slave" is "replica"),
 * or CT_ANY for an unknown name. */
static int client_type_by_name(const struct ap_arg *a)
{
	if (ap_arg_eq(a, "normal"))
		return CT_NORMAL;
	if (ap_arg_eq(a, "master"))
		return CT_MASTER;
	if (ap_arg_eq(a, "replica") || ap_arg_eq(a, "slave"))
		return CT_REPLICA;
	if (ap_arg_eq(a, "pubsub"))
		return CT_PUBSUB;
	return CT_ANY;
}

/* Redis's flag letters for CLIENT LIST. */
static void client_flags_str(const struct ap_client *c, char *out)
{
	char *p = out;
	if (c->flags & AP_CF_KILLED)
		*p++ = 'A';
	if (c->flags & AP_CF_CLOSE_ASAP)
		*p++ = 'c';
	if (c->flags & AP_CF_NO_EVICT)
		*p++ = 'e';
	if (c->flags & AP_CF_NO_TOUCH)
		*p++ = 'T';
	if (p == out)
		*p++ = 'N';
	*p = '\0';
}

/* Writes c's CLIENT LIST line (with its trailing newline) into buf and
 * returns its length. cmd overrides the last command's name (the caller's
 * own line) when not NULL. Runs on c's shard. */
static size_t client_line(const struct ap_client *c, const char *cmd, char *buf,
			  size_t size)
{
	char flags[8], name[AP_INTROSPECT_FULLNAME_MAX];
	int64_t now = c->shard->now_ms;
	size_t oll = 0, omem = 0;
	for (const struct ap_obuf_chunk *ch = c->nc.out.head; ch;
	     ch = ch->next) {
		oll++;
		omem += sizeof(*ch) + ch->cap;
	}
	size_t argv_mem = (size_t)c->argv_cap * sizeof(struct ap_arg);
	size_t tot = sizeof(*c) + c->qcap + argv_mem + omem;
	client_flags_str(c, flags);
	if (!cmd)
		cmd = last_cmd_name(c->last_cmd, name, sizeof(name));
	int n = snprintf(
		buf, size,
		"id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld "
		"flags=%s db=%u sub=0 psub=0 ssub=0 multi=-1 qbuf=%zu "
		"qbuf-free=%zu argv-mem=%zu multi-mem=0 obl=0 oll=%zu omem=%zu "
		"tot-mem=%zu events=%s cmd=%s user=default redir=-1 resp=%d "
		"lib-name=%s lib-ver=%s\n",
		(unsigned long long)c->id, c->addr, c->laddr, c->nc.fd, c->name,
		(long long)((now - c->ctime_ms) / 1000),
		(long long)((now - c->last_ms) / 1000), flags, c->db_idx,
		c->qlen - c->qpos, c->qcap - c->qlen, argv_mem, oll, omem, tot,
		c->nc.out.len ? "rw" : "r", cmd, c->proto, c->lib_name,
		c->lib_ver);
	AP_ASSERT(n > 0);
	return AP_MIN((size_t)n, size - 1);
}

/* qsort/bsearch order of long longs. */
static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

/* Fan-out step of CLIENT LIST: opt[0] the type filter, argv the wanted
 * ids (already validated); lines go to the part's out, oldest first. */
static void client_list_collect(struct ap_shard *s, struct ap_fanout *f)
{
	struct ap_fanout_part *p = ap_fanout_part_of(f, s);
	int type = (int)f->opt[0];
	long long *ids = NULL;
	char line[CLIENT_LINE_MAX];
	if (f->argc > 0) {
		ids = ap_malloc((size_t)f->argc * sizeof(*ids));
		/* Validated by the command; a bad one would match nothing. */
		for (int i = 0; i < f->argc; i++)
			if (!ap_str_to_ll(f->argv[i].p, f->argv[i].len,
					  &ids[i]))
				ids[i] = -1;
		qsort(ids, (size_t)f->argc, sizeof(*ids), cmp_ll);
	}
	struct ap_client *c = s->clients;
	while (c && c->next)
		c = c->next;
	for (; c; c = c->prev) {
		long long id = (long long)c->id;
		if (c->flags & AP_CF_CLOSED)
			continue;
		if (type != CT_ANY && client_type(c) != type)
			continue;
		if (ids &&
		    !bsearch(&id, ids, (size_t)f->argc, sizeof(*ids), cmp_ll))
			continue;
		size_t n = client_line(c, c == f->client ? "client|list" : NULL,
				       line, sizeof(line));
		ap_obuf_append(&p->out, line, n);
	}
	ap_free(ids);
}

/* Fan-out end: concatenates the shards' lines into one verbatim reply. */
static void client_list_done(struct ap_shard *home, struct ap_fanout *f)
{
	if (!(f->client->flags & AP_CF_CLOSED)) {
		struct ap_obuf all;
		size_t len;
		ap_obuf_init(&all);
		for (int i = 0; i < f->nparts; i++)
			ap_obuf_splice(&all, &f->parts[i].out);
		char *text = ap_obuf_flatten(&all, &len);
		ap_reply_verbatim(&f->client->reply, text, len, "txt");
		ap_free(text);
		ap_obuf_deinit(&all);
	}
	ap_fanout_finish(home, f);
}

/* CLIENT LIST [TYPE type | ID id [id ...]]: every shard's clients,
 * after the filter is checked here. */
static void cmd_client_list(struct ap_cmd_ctx *c)
{
	char a[130];
	long long opt[4] = {CT_ANY};
	int argc = 0;
	const struct ap_arg *ids = NULL;
	if (c->argc == 4 && ap_arg_eq(&c->argv[2], "type")) {
		opt[0] = client_type_by_name(&c->argv[3]);
		if (opt[0] == CT_ANY) {
			ap_introspect_reply_errf(
				c->r, "ERR Unknown client type '%s'",
				ap_introspect_arg_show(&c->argv[3], a,
						       sizeof(a)));
			return;
		}
	} else if (c->argc > 3 && ap_arg_eq(&c->argv[2], "id")) {
		for (int i = 3; i < c->argc; i++) {
			long long v;
			if (!ap_str_to_ll(c->argv[i].p, c->argv[i].len, &v)) {
				ap_reply_error(c->r, "ERR Invalid client ID");
				return;
			}
		}
		ids = &c->argv[3];
		argc = c->argc - 3;
	} else if (c->argc != 2) {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
		return;
	}
	ap_fanout_start_all(c, client_list_collect, client_list_done, argc, ids,
			    opt);
}

/* CLIENT INFO: the caller's own CLIENT LIST line. */
static void cmd_client_info(struct ap_cmd_ctx *c)
{
	char line[CLIENT_LINE_MAX];
	size_t n = client_line(c->client, "client|info", line, sizeof(line));
	ap_reply_verbatim(c->r, line, n, "txt");
}

/* CLIENT ID: the caller's id. */
static void cmd_client_id(struct ap_cmd_ctx *c)
{
	ap_reply_int(c->r, (long long)c->client->id);
}

/* CLIENT SETNAME name: printable, no spaces, at most
 * AP_CLIENT_NAME_MAX bytes; an empty name clears it. */
static void cmd_client_setname(struct ap_cmd_ctx *c)
{
	const struct ap_arg *a = &c->argv[2];
	if (!attr_valid(a)) {
		ap_reply_error(c->r, "ERR Client names cannot contain spaces, "
				     "newlines or special characters.");
		return;
	}
	if (a->len > AP_CLIENT_NAME_MAX) {
		ap_introspect_reply_errf(
			c->r,
			"ERR Client names cannot be longer than %d "
			"bytes",
			AP_CLIENT_NAME_MAX);
		return;
	}
	memcpy(c->client->name, a->p, a->len);
	c->client->name[a->len] = '\0';
	ap_reply_ok(c->r);
}

/* CLIENT GETNAME: the caller's name, or null when it has none. */
static void cmd_client_getname(struct ap_cmd_ctx *c)
{
	if (c->client->name[0])
		ap_reply_bulk_cstr(c->r, c->client->name);
	else
		ap_reply_null(c->r);
}

/* CLIENT SETINFO LIB-NAME|LIB-VER value: printable, no spaces, bounded
 * by the client struct's field. */
static void cmd_client_setinfo(struct ap_cmd_ctx *c)
{
	const struct ap_arg *attr = &c->argv[2], *val = &c->argv[3];
	char *dst;
	size_t cap;
	const char *what;
	char a[130];
	if (ap_arg_eq(attr, "lib-name")) {
		dst = c->client->lib_name;
		cap = sizeof(c->client->lib_name);
		what = "lib-name";
	} else if (ap_arg_eq(attr, "lib-ver")) {
		dst = c->client->lib_ver;
		cap = sizeof(c->client->lib_ver);
		what = "lib-ver";
	} else {
		ap_introspect_reply_errf(
			c->r, "ERR Unrecognized option '%s'",
			ap_introspect_arg_show(attr, a, sizeof(a)));
		return;
	}
	if (!attr_valid(val)) {
		ap_introspect_reply_errf(
			c->r,
			"ERR %s cannot contain spaces, newlines or special "
			"characters.",
			what);
		return;
	}
	if (val->len >= cap) {
		ap_introspect_reply_errf(
			c->r, "ERR %s cannot be longer than %zu bytes", what,
			cap - 1);
		return;
	}
	memcpy(dst, val->p, val->len);
	dst[val->len] = '\0';
	ap_reply_ok(c->r);
}

/* The KILL filters (Redis 7: ID, TYPE, ADDR, LADDR, SKIPME, USER), or the
 * legacy form with one address. */
struct kill_filter {
	bool legacy;
	bool skipme;
	int type;
	long long id; /* 0: any */
	const struct ap_arg *addr, *laddr;
};

/* Parses KILL's arguments (those after "CLIENT KILL"). On bad input
 * writes the error reply's text to err (when not NULL) and returns
 * false. */
static bool kill_filter_parse(int argc, const struct ap_arg *argv,
			      struct kill_filter *k, char *err, size_t size)
{
	char a[130];
	memset(k, 0, sizeof(*k));
	k->type = CT_ANY;
	if (argc == 1) {
		k->legacy = true;
		k->addr = &argv[0];
		return true;
	}
	k->skipme = true;
	for (int i = 0; i < argc; i += 2) {
		const struct ap_arg *name = &argv[i], *v = &argv[i + 1];
		const char *e = NULL;
		if (i + 1 >= argc) {
			e = AP_ERR_SYNTAX;
		} else if (ap_arg_eq(name, "id")) {
			if (!ap_str_to_ll(v->p, v->len, &k->id) || k->id < 1)
				e = "ERR client-id should be greater than 0";
		} else if (ap_arg_eq(name, "type")) {
			k->type = client_type_by_name(v);
			if (k->type == CT_ANY) {
				if (err)
					snprintf(err, size,
						 "ERR Unknown client type '%s'",
						 ap_introspect_arg_show(
							 v, a, sizeof(a)));
				return false;
			}
		} else if (ap_arg_eq(name, "addr")) {
			k->addr = v;
		} else if (ap_arg_eq(name, "laddr")) {
			k->laddr = v;
		} else if (ap_arg_eq(name, "skipme")) {
			if (ap_arg_eq(v, "yes"))
				k->skipme = true;
			else if (ap_arg_eq(v, "no"))
				k->skipme = false;
			else
				e = AP_ERR_SYNTAX;
		} else if (ap_arg_eq(name, "user")) {
			if (!ap_arg_eq(v, "default")) {
				if (err)
					snprintf(err, size,
						 "ERR No such user '%s'",
						 ap_introspect_arg_show(
							 v, a, sizeof(a)));
				return false;
			}
		} else {
			e = AP_ERR_SYNTAX;
		}
		if (e) {
			if (err)
				snprintf(err, size, "%s", e);
			return false;
		}
	}
	return true;
}

/* True if a is exactly s (case-sensitive: addresses). */
static bool arg_is(const struct ap_arg *a, const char *s)
{
	return a->len == strlen(s) && memcmp(a->p, s, a->len) == 0;
}

/* True if client c (not closed) passes every filter of k; caller is the
 * client running the KILL (SKIPME). */
static bool kill_match(const struct kill_filter *k, const struct ap_client *c,
		       const struct ap_client *caller)
{
	if (c->flags & AP_CF_CLOSED)
		return false;
	if (k->skipme && c == caller)
		return false;
	if (k->id && (long long)c->id != k->id)
		return false;
	if (k->type != CT_ANY && client_type(c) != k->type)
		return false;
	if (k->addr && !arg_is(k->addr, c->addr))
		return false;
	if (k->laddr && !arg_is(k->laddr, c->laddr))
		return false;
	return true;
}

/* Fan-out step of CLIENT KILL (argv: the filters). Closes matching
 * clients of shard s; the caller itself is only marked (part ptr) and is
 * closed after its reply. num = clients killed. */
static void client_kill_run(struct ap_shard *s, struct ap_fanout *f)
{
	struct ap_fanout_part *p = ap_fanout_part_of(f, s);
	struct kill_filter k;
	bool ok = kill_filter_parse(f->argc, f->argv, &k, NULL, 0);
	AP_ASSERT(ok);
	for (struct ap_client *c = s->clients, *next; c; c = next) {
		next = c->next;
		if (!kill_match(&k, c, f->client))
			continue;
		p->num++;
		if (c == f->client) {
			p->ptr = c;
			continue;
		}
		c->flags |= AP_CF_KILLED;
		ap_client_close(c, false);
	}
}

/* Fan-out end of CLIENT KILL: replies the count killed (opt[0] = 1, the
 * legacy form: +OK, or an error if none), and closes the caller after
 * its reply if it was among them. */
static void client_kill_done(struct ap_shard *home, struct ap_fanout *f)
{
	struct ap_client *c = f->client;
	long long killed = 0;
	bool self = false;
	for (int i = 0; i < f->nparts; i++) {
		killed += f->parts[i].num;
		self |= f->parts[i].ptr == c;
	}
	if (!(c->flags & AP_CF_CLOSED)) {
		if (f->opt[0] && killed == 0)
			ap_reply_error(&c->reply, "ERR No such client");
		else if (f->opt[0])
			ap_reply_ok(&c->reply);
		else
			ap_reply_int(&c->reply, killed);
		if (self)
			c->flags |= AP_CF_CLOSE_ASAP;
	}
	ap_fanout_finish(home, f);
}

/* CLIENT UNBLOCK on one shard: opt[0] the id, opt[1] 1 for ERROR. */
static void fo_unblock(struct ap_shard *s, struct ap_fanout *f)
{
	ap_fanout_part_of(f, s)->num =
		ap_blk_unblock(s, (uint64_t)f->opt[0], f->opt[1] != 0);
}

/* Fan-out end of CLIENT UNBLOCK: 1 if some shard unblocked the client,
 * else 0. */
static void fo_unblock_done(struct ap_shard *home, struct ap_fanout *f)
{
	long long n = 0;
	for (int i = 0; i < f->nparts; i++)
		n += f->parts[i].num;
	if (!(f->client->flags & AP_CF_CLOSED))
		ap_reply_int(&f->client->reply, n ? 1 : 0);
	ap_fanout_finish(home, f);
}

/* CLIENT UNBLOCK client-id [TIMEOUT|ERROR]: the client's waiter lives
 * on the shard that owns the keys it waits for; every shard looks. */
static void cmd_client_unblock(struct ap_cmd_ctx *c)
{
	long long id, opt[4] = {0};
	if (c->argc > 4) {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
		return;
	}
	if (!ap_str_to_ll(c->argv[2].p, c->argv[2].len, &id)) {
		ap_reply_error(c->r,
			       "ERR value is not an integer or out of range");
		return;
	}
	if (c->argc == 4) {
		if (ap_arg_eq(&c->argv[3], "error")) {
			opt[1] = 1;
		} else if (!ap_arg_eq(&c->argv[3], "timeout")) {
			ap_reply_error(c->r, "ERR CLIENT UNBLOCK reason should "
					     "be TIMEOUT or ERROR");
			return;
		}
	}
	opt[0] = id;
	ap_fanout_start_all(c, fo_unblock, fo_unblock_done, 0, NULL, opt);
}

/* CLIENT KILL addr | CLIENT KILL filter value ...: filters are checked
 * here, then every shard closes its matching clients. */
static void cmd_client_kill(struct ap_cmd_ctx *c)
{
	struct kill_filter k;
	char err[256];
	if (!kill_filter_parse(c->argc - 2, c->argv + 2, &k, err,
			       sizeof(err))) {
		ap_reply_error(c->r, err);
		return;
	}
	long long opt[4] = {k.legacy ? 1 : 0};
	ap_fanout_start_all(c, client_kill_run, client_kill_done, c->argc - 2,
			    c->argv + 2, opt);
}

/* CLIENT REPLY ON|OFF|SKIP: only ON replies (+OK). */
static void cmd_client_reply(struct ap_cmd_ctx *c)
{
	struct ap_client *cl = c->client;
	const struct ap_arg *a = &c->argv[2];
	if (ap_arg_eq(a, "on")) {
		cl->flags &= ~(uint32_t)(AP_CF_REPLY_OFF | AP_CF_REPLY_SKIP |
					 AP_CF_REPLY_SKIP_NEXT);
		ap_reply_ok(c->r);
	} else if (ap_arg_eq(a, "off")) {
		/* No reply: the connection is silent from now on. */
		cl->flags |= AP_CF_REPLY_OFF;
	} else if (ap_arg_eq(a, "skip")) {
		/* No reply; the next command's reply is dropped too. */
		if (!(cl->flags & AP_CF_REPLY_OFF))
			cl->flags |= AP_CF_REPLY_SKIP_NEXT;
	} else {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
	}
}

/* Fan-out step of CLIENT PAUSE/UNPAUSE: opt[0] end (unix ms), opt[1]
 * 1 = ALL, opt[2] 1 = unpause. A pause never shortens or weakens one
 * already in force. */
static void client_pause_apply(struct ap_shard *s, struct ap_fanout *f)
{
	int64_t end = f->opt[0];
	bool all = f->opt[1] != 0;
	if (f->opt[2]) {
		s->pause_end_ms = 0;
		s->pause_all = false;
	} else if (s->pause_end_ms <= s->now_ms) {
		s->pause_end_ms = end;
		s->pause_all = all;
	} else {
		s->pause_end_ms = AP_MAX(s->pause_end_ms, end);
		s->pause_all |= all;
	}
}

/* CLIENT PAUSE timeout [WRITE|ALL]: every shard holds its clients (or
 * their writes) until now + timeout ms. */
static void cmd_client_pause(struct ap_cmd_ctx *c)
{
	long long ms;
	bool all = true;
	if (c->argc > 4) {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
		return;
	}
	if (!ap_str_to_ll(c->argv[2].p, c->argv[2].len, &ms)) {
		ap_reply_error(c->r,
			       "ERR timeout is not an integer or out of range");
		return;
	}
	if (ms < 0) {
		ap_reply_error(c->r, "ERR timeout is negative");
		return;
	}
	if (c->argc == 4) {
		if (ap_arg_eq(&c->argv[3], "write")) {
			all = false;
		} else if (!ap_arg_eq(&c->argv[3], "all")) {
			ap_reply_error(c->r, "ERR CLIENT PAUSE mode must be "
					     "WRITE or ALL");
			return;
		}
	}
	int64_t now = c->client->shard->now_ms;
	long long opt[4] = {ms > INT64_MAX - now ? INT64_MAX : now + ms, all,
			    0};
	ap_fanout_start_all(c, client_pause_apply, ap_fanout_done_ok, 0, NULL,
			    opt);
}

/* CLIENT UNPAUSE: ends the pause on every shard. */
static void cmd_client_unpause(struct ap_cmd_ctx *c)
{
	long long opt[4] = {0, 0, 1};
	ap_fanout_start_all(c, client_pause_apply, ap_fanout_done_ok, 0, NULL,
			    opt);
}

/* CLIENT NO-EVICT / NO-TOUCH: sets or clears one flag. */
static void client_flag_onoff(struct ap_cmd_ctx *c, uint32_t flag)
{
	if (ap_arg_eq(&c->argv[2], "on")) {
		c->client->flags |= flag;
	} else if (ap_arg_eq(&c->argv[2], "off")) {
		c->client->flags &= ~flag;
	} else {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
		return;
	}
	ap_reply_ok(c->r);
}

/* CLIENT NO-EVICT ON|OFF. */
static void cmd_client_no_evict(struct ap_cmd_ctx *c)
{
	client_flag_onoff(c, AP_CF_NO_EVICT);
}

/* CLIENT NO-TOUCH ON|OFF. */
static void cmd_client_no_touch(struct ap_cmd_ctx *c)
{
	client_flag_onoff(c, AP_CF_NO_TOUCH);
}

/* CLIENT GETREDIR: always -1 (no tracking redirection). */
static void cmd_client_getredir(struct ap_cmd_ctx *c)
{
	ap_reply_int(c->r, -1); /* no client-side caching redirection */
}

/* CLIENT HELP. */
static void cmd_client_help(struct ap_cmd_ctx *c)
{
	static const char *const lines[] = {
		"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands "
		"are:",
		"GETNAME",
		"    Return the name of the current connection.",
		"GETREDIR",
		"    Return the client-side caching redirection id (-1: "
		"none).",
		"ID",
		"    Return the id of the current connection.",
		"INFO",
		"    Return information about the current connection.",
		"KILL <ip:port>",
		"    Kill the connection at <ip:port>.",
		"KILL <option> <value> [<option> <value> [...]]",
		"    Kill connections matching every filter. Options:",
		"    * ID <client-id>",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"    * ADDR <ip:port>",
		"    * LADDR <ip:port>",
		"    * USER <username>",
		"    * SKIPME (YES|NO)  (default YES: never kill the caller)",
		"LIST [options ...]",
		"    Return information about client connections. Options:",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"    * ID <client-id> [<client-id> ...]",
		"NO-EVICT (ON|OFF)",
		"    Protect the current connection from client eviction.",
		"NO-TOUCH (ON|OFF)",
		"    Do not change the keys' access time for this connection.",
		"PAUSE <timeout> [WRITE|ALL]",
		"    Suspend clients (or only their writes) for <timeout> "
		"milliseconds.",
		"REPLY (ON|OFF|SKIP)",
		"    Turn replies on or off, or skip the next command's reply.",
		"SETINFO <LIB-NAME|LIB-VER> <value>",
		"    Set the client library name or version.",
		"SETNAME <name>",
		"    Assign a name to the current connection.",
		"UNPAUSE",
		"    End a pause started with PAUSE.",
		"HELP",
		"    Print this help.",
		NULL,
	};
	ap_introspect_reply_help(c->r, lines);
}

/* --- table --------------------------------------------------------------- */

#define CLIENT_CMD(n, a, fl, f, sum, snc, cx)                                 \
	{                                                                     \
		.name = n, .arity = a,                                        \
		.flags = SRV | AP_CMD_NOSCRIPT | AP_CMD_LOADING |             \
			 AP_CMD_STALE | (fl),                                 \
		.fn = f, .group = "connection", .summary = sum, .since = snc, \
		.complexity = cx,                                             \
		.acl_categories =                                             \
			((fl)&AP_CMD_ADMIN)                                   \
				? "@admin @slow @dangerous @connection"       \
				: "@slow @connection"                         \
	}

/* clang-format off */
const struct ap_cmd ap_introspect_client_subcmds[] = {
	CLIENT_CMD("id", 2, 0, cmd_client_id,
		   "Returns the unique client ID of the connection.", "5.0.0",
		   "O(1)"),
	CLIENT_CMD("info", 2, 0, cmd_client_info,
		   "Returns information about the connection.", "6.2.0",
		   "O(1)"),
	CLIENT_CMD("list", -2, AP_CMD_ADMIN, cmd_client_list,
		   "Lists open connections.", "2.4.0",
		   "O(N) where N is the number of client connections"),
	CLIENT_CMD("unblock", -3, AP_CMD_ADMIN, cmd_client_unblock,
		   "Unblocks a client blocked by a blocking command from a "
		   "different connection.",
		   "5.0.0",
		   "O(log N) where N is the number of client connections"),
	CLIENT_CMD("kill", -3, AP_CMD_ADMIN, cmd_client_kill,
		   "Terminates open connections.", "2.4.0",
		   "O(N) where N is the number of client connections"),
	CLIENT_CMD("setname", 3, 0, cmd_client_setname,
		   "Sets the connection name.", "2.6.9", "O(1)"),
	CLIENT_CMD("getname", 2, 0, cmd_client_getname,
		   "Returns the name of the connection.", "2.6.9", "O(1)"),
	CLIENT_CMD("setinfo", 4, 0, cmd_client_setinfo,
		   "Sets information specific to the client or connection.",
		   "7.2.0", "O(1)"),
	CLIENT_CMD("reply", 3, 0, cmd_client_reply,
		   "Instructs the server whether to reply to commands.",
		   "3.2.0", "O(1)"),
	CLIENT_CMD("pause", -3, AP_CMD_ADMIN, cmd_client_pause,
		   "Suspends commands processing.", "3.0.0", "O(1)"),
	CLIENT_CMD("unpause", 2, AP_CMD_ADMIN, cmd_client_unpause,
		   "Resumes processing commands from paused clients.",
		   "6.2.0", "O(N) Where N is the number of paused clients"),
	CLIENT_CMD("no-evict", 3, AP_CMD_ADMIN, cmd_client_no_evict,
		   "Sets the client eviction mode of the connection.", "7.0.0",
		   "O(1)"),
	CLIENT_CMD("no-touch", 3, 0, cmd_client_no_touch,
		   "Controls whether commands sent by the client affect the "
		   "LRU/LFU of accessed keys.", "7.2.0", "O(1)"),
	CLIENT_CMD("getredir", 2, 0, cmd_client_getredir,
		   "Returns the client ID to which the connection's tracking "
		   "notifications are redirected.", "6.0.0", "O(1)"),
	{.name = "help", .arity = 2,
	 .flags = SRV | AP_CMD_LOADING | AP_CMD_STALE, .fn = cmd_client_help,
	 .group = "connection", .summary = "Returns helpful text about the "
	 "different subcommands.", .since = "5.0.0", .complexity = "O(1)",
	 .acl_categories = "@slow @connection"},
	{.name = NULL},
};
/* clang-format on */
