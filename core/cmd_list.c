/*
 * cmd_list.c - the Redis 7 list commands (LPUSH ... LMPOP, and the
 * blocking BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP) and the list type's value
 * operations.
 *
 * A blocking command runs as its non-blocking form; when every key is
 * empty it asks to block (ap_cmd_block) instead of replying, and the
 * shards layer runs it again when a key gets data or the timeout passes
 * (then with no_block set: it replies its null).
 *
 * Semantics, replies (RESP2 and RESP3 null shapes) and error texts follow
 * the Redis command reference and Redis 7.2's behaviour, including the
 * order in which arguments are checked (an argument error wins over a
 * missing key where Redis parses first, and the other way round where it
 * looks the key up first). Encodings switch between "listpack" and
 * "quicklist" where Redis 7.2 switches them (see core/list.h).
 *
 * Every command adds to ctx->dirty the number of elements it changed, as
 * Redis's server.dirty. A blocking command that serves a pop is recorded
 * (ap_cmd_propagate) as the non-blocking command on the key it served
 * (LPOP key, LMOVE src dst from to, LMPOP 1 key end COUNT n), so a log
 * replay never blocks; LMPOP is recorded the same way.
 *
 * Threading: commands run on the shard thread that owns ctx->ks.
 */
#include <limits.h>
#include <string.h>

#include "core/cmd.h"
#include "core/limits.h"
#include "core/list.h"

#define ERR_POSITIVE	"ERR value is out of range, must be positive"
#define ERR_INDEX_RANGE "ERR index out of range"
#define ERR_RANK_ZERO                                                          \
	"ERR RANK can't be zero: use 1 to start from the first match, 2 from " \
	"the second ... or use negative to start from the end of the list"
#define ERR_RANK_RANGE                                   \
	"ERR value is out of range, value must between " \
	"-9223372036854775807 and 9223372036854775807"
#define ERR_COUNT_NEG  "ERR COUNT can't be negative"
#define ERR_MAXLEN_NEG "ERR MAXLEN can't be negative"
#define ERR_NUMKEYS    "ERR numkeys should be greater than 0"
#define ERR_COUNT_ZERO "ERR count should be greater than 0"

/* --- helpers --------------------------------------------------------- */

/* Looks up argv[idx] as a key in the command's database. */
static struct ap_entry *lookup(struct ap_cmd_ctx *c, int idx, unsigned flags)
{
	AP_ASSERT(idx > 0 && idx < c->argc);
	return ap_db_lookup(c->db, c->argv[idx].p, c->argv[idx].len, flags);
}

/* True if e is absent or a list; else replies WRONGTYPE, returns false. */
static bool check_list(struct ap_cmd_ctx *c, const struct ap_entry *e)
{
	if (e == NULL || ap_entry_type(e) == AP_TYPE_LIST)
		return true;
	ap_reply_error(c->r, AP_ERR_WRONGTYPE);
	return false;
}

/* The list options in force (list-max-listpack-size and
 * list-compress-depth, see ap_list_opts). */
static int fill_of(const struct ap_cmd_ctx *c)
{
	return ap_list_opts_of(c->cfg);
}

/* Opens the list value of entry e for this command. */
static void open_entry(struct ap_cmd_ctx *c, struct ap_entry *e,
		       struct ap_list_ref *ref)
{
	ap_list_ref_open(ref, ap_entry_obj(e), ap_entry_enc(e), fill_of(c));
}

/* Stores ref back into the entry of key argv[1] (deleting an empty one). */
static void store_entry(struct ap_cmd_ctx *c, struct ap_entry *e,
			struct ap_list_ref *ref, bool shrinking)
{
	ap_list_key_store(c->db, e, ref, shrinking, c->argv[1].p,
			  c->argv[1].len);
}

/* Parses LEFT / RIGHT into *end; else replies a syntax error. */
static bool parse_end(struct ap_cmd_ctx *c, const struct ap_arg *a,
		      enum ap_list_end *end)
{
	if (ap_arg_eq(a, "left"))
		*end = AP_LIST_HEAD;
	else if (ap_arg_eq(a, "right"))
		*end = AP_LIST_TAIL;
	else {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
		return false;
	}
	return true;
}

/* Parses a as an integer in [min, max]; else replies msg (both for a
 * non-integer and for a value out of range), as Redis's
 * getRangeLongFromObjectOrReply with a message. */
static bool parse_range(struct ap_cmd_ctx *c, const struct ap_arg *a,
			long long min, long long max, const char *msg,
			long long *out)
{
	if (ap_str_to_ll(a->p, a->len, out) && *out >= min && *out <= max)
		return true;
	ap_reply_error(c->r, msg);
	return false;
}

/* The LEFT / RIGHT word of an end, for recorded commands. */
static struct ap_arg end_arg(enum ap_list_end end)
{
	if (end == AP_LIST_HEAD)
		return (struct ap_arg){.p = "LEFT", .len = 4};
	return (struct ap_arg){.p = "RIGHT", .len = 5};
}

/* Records a move from argv[1] to argv[2] as "LMOVE src dst from to". */
static void propagate_move(struct ap_cmd_ctx *c, enum ap_list_end from,
			   enum ap_list_end to)
{
	struct ap_arg argv[5] = {
		{.p = "LMOVE", .len = 5},
		c->argv[1],
		c->argv[2],
		end_arg(from),
		end_arg(to),
	};

	ap_cmd_propagate(c, 5, argv);
}

/* --- push ------------------------------------------------------------ */

/* LPUSH / RPUSH / LPUSHX / RPUSHX: pushes argv[2..] at end; only onto an
 * existing list when existing_only. Replies the new length. */
static void push_generic(struct ap_cmd_ctx *c, enum ap_list_end end,
			 bool existing_only)
{
	struct ap_entry *e = lookup(c, 1, 0);
	if (!check_list(c, e))
		return;
	if (e == NULL && existing_only) {
		ap_reply_int(c->r, 0);
		return;
	}
	size_t n = (size_t)c->argc - 2;
	size_t len = ap_list_key_push(c->db, e, fill_of(c), c->argv[1].p,
				      c->argv[1].len, end, &c->argv[2], n);
	c->dirty += n;
	ap_reply_int(c->r, (long long)len);
}

/* LPUSH key element [element ...]: the new length. */
static void cmd_lpush(struct ap_cmd_ctx *c)
{
	push_generic(c, AP_LIST_HEAD, false);
}

/* RPUSH key element [element ...]: the new length. */
static void cmd_rpush(struct ap_cmd_ctx *c)
{
	push_generic(c, AP_LIST_TAIL, false);
}

/* LPUSHX key element [element ...]: the new length, 0 if absent. */
static void cmd_lpushx(struct ap_cmd_ctx *c)
{
	push_generic(c, AP_LIST_HEAD, true);
}

/* RPUSHX key element [element ...]: the new length, 0 if absent. */
static void cmd_rpushx(struct ap_cmd_ctx *c)
{
	push_generic(c, AP_LIST_TAIL, true);
}

/* --- pop ------------------------------------------------------------- */

/* LPOP / RPOP key [count]: one element as a bulk (or null), or with a
 * count an array of up to count elements (null array for a missing key,
 * empty array for count 0). */
static void pop_generic(struct ap_cmd_ctx *c, enum ap_list_end end)
{
	long long count = -1;
	if (c->argc > 3) {
		ap_reply_errorf(c->r,
				"ERR wrong number of arguments for '%s' "
				"command",
				c->cmd->name);
		return;
	}
	if (c->argc == 3 &&
	    !parse_range(c, &c->argv[2], 0, LLONG_MAX, ERR_POSITIVE, &count))
		return;
	struct ap_entry *e = lookup(c, 1, 0);
	if (e == NULL) {
		if (count >= 0)
			ap_reply_null_array(c->r);
		else
			ap_reply_null(c->r);
		return;
	}
	if (!check_list(c, e))
		return;
	size_t n = 1;
	if (count >= 0) {
		n = (size_t)AP_MIN((unsigned long long)count,
				   ap_list_entry_len(e));
		ap_reply_array(c->r, n);
	}
	if (n == 0)
		return;
	n = ap_list_key_pop_reply(c->db, e, fill_of(c), c->argv[1].p,
				  c->argv[1].len, end, n, c->r);
	c->dirty += n;
}

/* LPOP key [count]. */
static void cmd_lpop(struct ap_cmd_ctx *c)
{
	pop_generic(c, AP_LIST_HEAD);
}

/* RPOP key [count]. */
static void cmd_rpop(struct ap_cmd_ctx *c)
{
	pop_generic(c, AP_LIST_TAIL);
}

/* --- reads ----------------------------------------------------------- */

/* LLEN key: the length, 0 for a missing key. */
static void cmd_llen(struct ap_cmd_ctx *c)
{
	struct ap_entry *e = lookup(c, 1, AP_LK_READ);
	if (!check_list(c, e))
		return;
	ap_reply_int(c->r, e ? (long long)ap_list_entry_len(e) : 0);
}

/* Replies the element at the iterator as a bulk string. */
static void reply_iter(struct ap_cmd_ctx *c, const struct ap_list_iter *it)
{
	char buf[AP_LP_INTBUF_SIZE];
	size_t len;
	const char *s = ap_list_iter_get(it, &len, buf);
	ap_reply_bulk(c->r, s, len);
}

/* Clamps Redis-style start/stop indexes to [0, len); returns the number
 * of elements in the range (0 for an empty range) and the first in
 * *from. */
static size_t clamp_range(long long start, long long stop, size_t len,
			  size_t *from)
{
	long long n = (long long)len;
	if (start < 0)
		start += n;
	if (stop < 0)
		stop += n;
	if (start < 0)
		start = 0;
	if (start > stop || start >= n)
		return 0;
	if (stop >= n)
		stop = n - 1;
	*from = (size_t)start;
	return (size_t)(stop - start + 1);
}

/* LRANGE of a huge range, streamed (struct ap_cmd_stream): the list
 * (ref points into itself, so the state never moves), a walk, the index
 * of the next element and how many are left. Between steps the walk
 * stays open on a raw node; when it stands on a node decompressed on
 * loan (list-compress-depth), another reader may take the loan back
 * meanwhile, so the step ends the walk (ap_list_iter_done) and the next
 * one seeks from `next`. The executor keeps writers away. */
struct lrange_stream {
	struct ap_list_ref ref;
	struct ap_list_iter it;
	bool open; /* it stands on element `next` */
	size_t next;
	size_t left;
};

/* ap_cmd_stream_step_fn of LRANGE: the next elements, as cmd_lrange
 * writes them in one go. */
static bool lrange_step(void *state, struct ap_reply *r, size_t budget)
{
	struct lrange_stream *ls = state;
	char buf[AP_LP_INTBUF_SIZE];
	size_t start = r->out->len, len;

	if (!ls->open) {
		ap_list_iter_init(&ls->it, ls->ref.l, (long long)ls->next,
				  true);
		ls->open = true;
	}
	for (size_t done = 0;
	     ls->left > 0 && ap_cmd_stream_more(r, start, done, budget);
	     done++) {
		AP_ASSERT(ap_list_iter_valid(&ls->it));
		const char *el = ap_list_iter_get(&ls->it, &len, buf);
		ap_reply_bulk(r, el, len);
		ls->next++;
		if (--ls->left > 0)
			ap_list_iter_next(&ls->it);
	}
	if (ls->left == 0 || ap_list_iter_transient(&ls->it)) {
		ap_list_iter_done(&ls->it);
		ls->open = false;
	}
	return ls->left == 0;
}

/* ap_cmd_stream_free_fn of LRANGE: ends the walk (its loan, if any). */
static void lrange_free(void *state)
{
	struct lrange_stream *ls = state;

	if (ls->open)
		ap_list_iter_done(&ls->it);
	ap_free(ls);
}

/* LRANGE key start stop: the elements in the clamped range. A huge
 * range is streamed when the executor allows it. */
static void cmd_lrange(struct ap_cmd_ctx *c)
{
	long long start, stop;
	if (!ap_arg_ll(c, &c->argv[2], &start) ||
	    !ap_arg_ll(c, &c->argv[3], &stop))
		return;
	struct ap_entry *e = lookup(c, 1, AP_LK_READ);
	if (!check_list(c, e))
		return;
	size_t from = 0;
	size_t n =
		e ? clamp_range(start, stop, ap_list_entry_len(e), &from) : 0;
	ap_reply_array(c->r, n);
	if (n == 0)
		return;
	if (ap_cmd_stream_wanted(c, n)) {
		struct lrange_stream *ls = ap_malloc(sizeof(*ls));

		open_entry(c, e, &ls->ref);
		ls->open = false;
		ls->next = from;
		ls->left = n;
		ap_cmd_stream_start(c, lrange_step, lrange_free, ls, e);
		return;
	}
	struct ap_list_ref ref;
	struct ap_list_iter it;
	open_entry(c, e, &ref);
	ap_list_iter_init(&it, ref.l, (long long)from, true);
	for (size_t i = 0; i < n; i++, ap_list_iter_next(&it))
		reply_iter(c, &it);
	ap_list_iter_done(&it);
}

/* LINDEX key index: the element, or null out of range or absent. */
static void cmd_lindex(struct ap_cmd_ctx *c)
{
	struct ap_entry *e = lookup(c, 1, AP_LK_READ);
	if (e == NULL) {
		ap_reply_null(c->r);
		return;
	}
	long long index;
	if (!check_list(c, e) || !ap_arg_ll(c, &c->argv[2], &index))
		return;
	struct ap_list_ref ref;
	struct ap_list_iter it;
	open_entry(c, e, &ref);
	ap_list_iter_init(&it, ref.l, index, true);
	if (ap_list_iter_valid(&it))
		reply_iter(c, &it);
	else
		ap_reply_null(c->r);
	ap_list_iter_done(&it);
}

/* LPOS options. */
struct lpos_opts {
	long long rank;	  /* nonzero; negative searches from the tail */
	long long count;  /* -1: not given (one index or null), 0: all */
	long long maxlen; /* elements compared at most, 0: no limit */
};

/* Parses LPOS's [RANK r] [COUNT n] [MAXLEN m] from argv[3]; replies the
 * error and returns false on bad input. */
static bool lpos_parse(struct ap_cmd_ctx *c, struct lpos_opts *o)
{
	o->rank = 1;
	o->count = -1;
	o->maxlen = 0;
	for (int j = 3; j < c->argc; j++) {
		const struct ap_arg *a = &c->argv[j];
		bool more = j + 1 < c->argc;
		if (more && ap_arg_eq(a, "rank")) {
			if (!ap_arg_ll(c, &c->argv[++j], &o->rank))
				return false;
			if (o->rank == LLONG_MIN) {
				ap_reply_error(c->r, ERR_RANK_RANGE);
				return false;
			}
			if (o->rank == 0) {
				ap_reply_error(c->r, ERR_RANK_ZERO);
				return false;
			}
		} else if (more && ap_arg_eq(a, "count")) {
			if (!parse_range(c, &c->argv[++j], 0, LLONG_MAX,
					 ERR_COUNT_NEG, &o->count))
				return false;
		} else if (more && ap_arg_eq(a, "maxlen")) {
			if (!parse_range(c, &c->argv[++j], 0, LLONG_MAX,
					 ERR_MAXLEN_NEG, &o->maxlen))
				return false;
		} else {
			ap_reply_error(c->r, AP_ERR_SYNTAX);
			return false;
		}
	}
	return true;
}

/* LPOS key element [RANK r] [COUNT n] [MAXLEN m]: the index of the
 * r-th match (null if none), or with COUNT an array of up to n indexes. */
static void cmd_lpos(struct ap_cmd_ctx *c)
{
	struct lpos_opts o;
	if (!lpos_parse(c, &o))
		return;
	struct ap_entry *e = lookup(c, 1, AP_LK_READ);
	if (!check_list(c, e))
		return;
	if (e == NULL) {
		if (o.count >= 0)
			ap_reply_array(c->r, 0);
		else
			ap_reply_null(c->r);
		return;
	}
	struct ap_list_ref ref;
	struct ap_list_iter it;
	struct ap_reply_deferred d;
	const struct ap_arg *el = &c->argv[2];
	bool forward = o.rank > 0;
	unsigned long long skip =
		(unsigned long long)(forward ? o.rank : -o.rank) - 1;
	unsigned long long found = 0, seen = 0;
	if (o.count >= 0)
		ap_reply_deferred_begin(c->r, &d, '*');
	open_entry(c, e, &ref);
	ap_list_iter_init(&it, ref.l, forward ? 0 : -1, forward);
	for (; ap_list_iter_valid(&it); ap_list_iter_next(&it)) {
		if (o.maxlen && seen++ == (unsigned long long)o.maxlen)
			break;
		if (!ap_list_iter_eq(&it, el->p, el->len))
			continue;
		if (skip > 0) {
			skip--;
			continue;
		}
		ap_reply_int(c->r, (long long)it.idx);
		found++;
		if (o.count < 0 || found == (unsigned long long)o.count)
			break;
	}
	ap_list_iter_done(&it);
	if (o.count >= 0)
		ap_reply_deferred_end(c->r, &d, found);
	else if (found == 0)
		ap_reply_null(c->r);
}

/* --- in-place writes ------------------------------------------------- */

/* LSET key index element: replaces the element at index; the value is
 * announced first (grow), so the list may become a quicklist even when
 * the index then proves out of range, as Redis 7.2. */
static void cmd_lset(struct ap_cmd_ctx *c)
{
	struct ap_entry *e = lookup(c, 1, 0);
	if (e == NULL) {
		ap_reply_error(c->r, AP_ERR_NO_KEY);
		return;
	}
	long long index;
	if (!check_list(c, e) || !ap_arg_ll(c, &c->argv[2], &index))
		return;
	const struct ap_arg *v = &c->argv[3];
	struct ap_list_ref ref;
	struct ap_list_iter it;
	open_entry(c, e, &ref);
	ap_list_ref_grow(&ref, v->len, 1);
	ap_list_iter_init(&it, ref.l, index, true);
	bool ok = ap_list_iter_valid(&it);
	if (ok) {
		ap_list_iter_replace(&it, v->p, v->len);
		c->dirty++;
	}
	store_entry(c, e, &ref, ok);
	if (ok)
		ap_reply_ok(c->r);
	else
		ap_reply_error(c->r, ERR_INDEX_RANGE);
}

/* LINSERT key BEFORE|AFTER pivot element: the new length, -1 without
 * the pivot, 0 for a missing key. */
static void cmd_linsert(struct ap_cmd_ctx *c)
{
	enum ap_lp_where where;
	if (ap_arg_eq(&c->argv[2], "before"))
		where = AP_LP_BEFORE;
	else if (ap_arg_eq(&c->argv[2], "after"))
		where = AP_LP_AFTER;
	else {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
		return;
	}
	struct ap_entry *e = lookup(c, 1, 0);
	if (e == NULL) {
		ap_reply_int(c->r, 0);
		return;
	}
	if (!check_list(c, e))
		return;
	const struct ap_arg *pivot = &c->argv[3];
	const struct ap_arg *v = &c->argv[4];
	struct ap_list_ref ref;
	struct ap_list_iter it;
	open_entry(c, e, &ref);
	ap_list_ref_grow(&ref, v->len, 1);
	ap_list_iter_init(&it, ref.l, 0, true);
	while (ap_list_iter_valid(&it) &&
	       !ap_list_iter_eq(&it, pivot->p, pivot->len))
		ap_list_iter_next(&it);
	bool found = ap_list_iter_valid(&it);
	if (found) {
		ap_list_iter_insert(&it, where, v->p, v->len);
		c->dirty++;
	}
	size_t len = ap_list_count(ref.l);
	store_entry(c, e, &ref, false);
	ap_reply_int(c->r, found ? (long long)len : -1);
}

/* LREM key count element: removes up to |count| matches from the head
 * (count > 0), the tail (count < 0), or all (0); replies how many. */
static void cmd_lrem(struct ap_cmd_ctx *c)
{
	long long count;
	if (!ap_arg_ll(c, &c->argv[2], &count))
		return;
	struct ap_entry *e = lookup(c, 1, 0);
	if (!check_list(c, e))
		return;
	if (e == NULL) {
		ap_reply_int(c->r, 0);
		return;
	}
	const struct ap_arg *v = &c->argv[3];
	struct ap_list_ref ref;
	struct ap_list_iter it;
	unsigned long long removed = 0;
	unsigned long long limit = count == 0 ? ULLONG_MAX
				   : count > 0
					   ? (unsigned long long)count
					   : 0ULL - (unsigned long long)count;
	open_entry(c, e, &ref);
	ap_list_iter_init(&it, ref.l, count < 0 ? -1 : 0, count >= 0);
	while (ap_list_iter_valid(&it) && removed < limit) {
		if (ap_list_iter_eq(&it, v->p, v->len)) {
			ap_list_iter_delete(&it);
			removed++;
		} else {
			ap_list_iter_next(&it);
		}
	}
	c->dirty += removed;
	store_entry(c, e, &ref, removed > 0);
	ap_reply_int(c->r, (long long)removed);
}

/* LTRIM key start stop: keeps only the clamped range. */
static void cmd_ltrim(struct ap_cmd_ctx *c)
{
	long long start, stop;
	if (!ap_arg_ll(c, &c->argv[2], &start) ||
	    !ap_arg_ll(c, &c->argv[3], &stop))
		return;
	struct ap_entry *e = lookup(c, 1, 0);
	if (!check_list(c, e))
		return;
	if (e == NULL) {
		ap_reply_ok(c->r);
		return;
	}
	size_t len = ap_list_entry_len(e);
	size_t from = 0;
	size_t keep = clamp_range(start, stop, len, &from);
	size_t ltrim = keep ? from : len;
	size_t rtrim = keep ? len - from - keep : 0;
	struct ap_list_ref ref;
	open_entry(c, e, &ref);
	ap_list_delete_range(ref.l, 0, ltrim);
	if (rtrim)
		ap_list_delete_range(ref.l, -(long long)rtrim, rtrim);
	c->dirty += ltrim + rtrim;
	store_entry(c, e, &ref, true);
	ap_reply_ok(c->r);
}

/* --- moves ----------------------------------------------------------- */

/* LMOVE / RPOPLPUSH core: replies the moved element, null, or
 * WRONGTYPE. */
static void move_generic(struct ap_cmd_ctx *c, enum ap_list_end from,
			 enum ap_list_end to)
{
	const struct ap_arg *src = &c->argv[1], *dst = &c->argv[2];
	switch (ap_list_key_move(c->db, fill_of(c), src->p, src->len, dst->p,
				 dst->len, from, to, c->r, &c->dirty)) {
	case AP_LIST_MOVED:
		break;
	case AP_LIST_MOVE_EMPTY:
		ap_reply_null(c->r);
		break;
	case AP_LIST_MOVE_WRONGTYPE:
		ap_reply_error(c->r, AP_ERR_WRONGTYPE);
		break;
	}
}

/* move_generic that blocks instead of answering null; a move is
 * recorded as LMOVE. */
static void bmove_generic(struct ap_cmd_ctx *c, enum ap_list_end from,
			  enum ap_list_end to, int64_t timeout_ms)
{
	const struct ap_arg *src = &c->argv[1], *dst = &c->argv[2];
	switch (ap_list_key_move(c->db, fill_of(c), src->p, src->len, dst->p,
				 dst->len, from, to, c->r, &c->dirty)) {
	case AP_LIST_MOVED:
		propagate_move(c, from, to);
		break;
	case AP_LIST_MOVE_EMPTY:
		if (!ap_cmd_block(c, timeout_ms))
			ap_reply_null(c->r);
		break;
	case AP_LIST_MOVE_WRONGTYPE:
		ap_reply_error(c->r, AP_ERR_WRONGTYPE);
		break;
	}
}

/* LMOVE source destination LEFT|RIGHT LEFT|RIGHT. */
static void cmd_lmove(struct ap_cmd_ctx *c)
{
	enum ap_list_end from, to;
	if (!parse_end(c, &c->argv[3], &from) ||
	    !parse_end(c, &c->argv[4], &to))
		return;
	move_generic(c, from, to);
}

/* RPOPLPUSH source destination: LMOVE ... RIGHT LEFT. */
static void cmd_rpoplpush(struct ap_cmd_ctx *c)
{
	move_generic(c, AP_LIST_TAIL, AP_LIST_HEAD);
}

/* Records a pop of n elements from the key argv[k] as "LMPOP 1 key end
 * COUNT n". */
static void propagate_mpop(struct ap_cmd_ctx *c, int k, enum ap_list_end end,
			   size_t n)
{
	char buf[AP_INT_STR_SIZE];
	struct ap_arg argv[6] = {
		{.p = "LMPOP", .len = 5},
		{.p = "1", .len = 1},
		c->argv[k],
		end_arg(end),
		{.p = "COUNT", .len = 5},
		{.p = buf},
	};

	argv[5].len = ap_ull_to_str(buf, n);
	ap_cmd_propagate(c, 6, argv);
}

/* [B]LMPOP [timeout] numkeys key [key ...] LEFT|RIGHT [COUNT count]:
 * numkeys at argv[nk]; blocks when timeout_ms >= 0. A pop is recorded as
 * LMPOP on the one key served. */
static void lmpop_generic(struct ap_cmd_ctx *c, int nk, int64_t timeout_ms)
{
	long long numkeys, count = -1;
	enum ap_list_end end;
	if (!parse_range(c, &c->argv[nk], 1, LLONG_MAX, ERR_NUMKEYS, &numkeys))
		return;
	if (numkeys > c->argc - nk - 2) {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
		return;
	}
	int where = nk + 1 + (int)numkeys;
	if (!parse_end(c, &c->argv[where], &end))
		return;
	for (int j = where + 1; j < c->argc; j++) {
		if (count == -1 && j + 1 < c->argc &&
		    ap_arg_eq(&c->argv[j], "count")) {
			if (!parse_range(c, &c->argv[++j], 1, LLONG_MAX,
					 ERR_COUNT_ZERO, &count))
				return;
		} else {
			ap_reply_error(c->r, AP_ERR_SYNTAX);
			return;
		}
	}
	if (count == -1)
		count = 1;
	for (int k = nk + 1; k < where; k++) {
		struct ap_entry *e = lookup(c, k, 0);
		if (!check_list(c, e))
			return;
		if (e == NULL)
			continue;
		const struct ap_arg *key = &c->argv[k];
		size_t n = (size_t)AP_MIN((unsigned long long)count,
					  ap_list_entry_len(e));
		ap_reply_array(c->r, 2);
		ap_reply_bulk(c->r, key->p, key->len);
		ap_reply_array(c->r, n);
		n = ap_list_key_pop_reply(c->db, e, fill_of(c), key->p,
					  key->len, end, n, c->r);
		c->dirty += n;
		propagate_mpop(c, k, end, n);
		return;
	}
	if (timeout_ms >= 0 && ap_cmd_block(c, timeout_ms))
		return;
	ap_reply_null_array(c->r);
}

static void cmd_lmpop(struct ap_cmd_ctx *c)
{
	lmpop_generic(c, 1, -1);
}

/* BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]. */
static void cmd_blmpop(struct ap_cmd_ctx *c)
{
	int64_t ms;
	if (!ap_arg_timeout(c, &c->argv[1], &ms))
		return;
	lmpop_generic(c, 2, ms);
}

/* BLPOP / BRPOP key [key ...] timeout: [key, element] from the first
 * non-empty list, checked in argument order (WRONGTYPE on the way); a pop
 * is recorded as "LPOP key" / "RPOP key". */
static void bpop_generic(struct ap_cmd_ctx *c, enum ap_list_end end)
{
	int64_t ms;
	if (!ap_arg_timeout(c, &c->argv[c->argc - 1], &ms))
		return;
	for (int k = 1; k < c->argc - 1; k++) {
		struct ap_entry *e = lookup(c, k, 0);
		if (!check_list(c, e))
			return;
		if (e == NULL)
			continue;
		const struct ap_arg *key = &c->argv[k];
		struct ap_arg argv[2] = {{.p = "LPOP", .len = 4}, *key};
		if (end == AP_LIST_TAIL)
			argv[0].p = "RPOP";
		ap_reply_array(c->r, 2);
		ap_reply_bulk(c->r, key->p, key->len);
		c->dirty += ap_list_key_pop_reply(c->db, e, fill_of(c), key->p,
						  key->len, end, 1, c->r);
		ap_cmd_propagate(c, 2, argv);
		return;
	}
	if (ap_cmd_block(c, ms))
		return;
	ap_reply_null_array(c->r);
}

static void cmd_blpop(struct ap_cmd_ctx *c)
{
	bpop_generic(c, AP_LIST_HEAD);
}

static void cmd_brpop(struct ap_cmd_ctx *c)
{
	bpop_generic(c, AP_LIST_TAIL);
}

/* BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout. */
static void cmd_blmove(struct ap_cmd_ctx *c)
{
	enum ap_list_end from, to;
	int64_t ms;
	if (!parse_end(c, &c->argv[3], &from) ||
	    !parse_end(c, &c->argv[4], &to) ||
	    !ap_arg_timeout(c, &c->argv[5], &ms))
		return;
	bmove_generic(c, from, to, ms);
}

/* BRPOPLPUSH source destination timeout. */
static void cmd_brpoplpush(struct ap_cmd_ctx *c)
{
	int64_t ms;
	if (!ap_arg_timeout(c, &c->argv[3], &ms))
		return;
	bmove_generic(c, AP_LIST_TAIL, AP_LIST_HEAD, ms);
}

/* BLMPOP's keys: "numkeys key [key ...]" at argv[2]. */
static size_t blmpop_keys(int argc, const struct ap_arg *argv, int *idx,
			  size_t max)
{
	return ap_cmd_keys_numkeys(argc, argv, idx, max, 0, 2);
}

/* LMPOP's keys: "numkeys key [key ...]" at argv[1]. */
static size_t lmpop_keys(int argc, const struct ap_arg *argv, int *idx,
			 size_t max)
{
	return ap_cmd_keys_numkeys(argc, argv, idx, max, 0, 1);
}

/* --- the list type --------------------------------------------------- */

/* The list type's value operations (struct ap_type_ops) for both
 * encodings: a bare listpack or a struct ap_list. */
static void list_free(void *obj, enum ap_enc enc)
{
	if (enc == AP_ENC_LISTPACK)
		ap_lp_free(obj);
	else
		ap_list_destroy(obj);
}

/* Deep copy of either encoding. */
static void *list_dup(const void *obj, enum ap_enc enc)
{
	if (enc == AP_ENC_LISTPACK)
		return ap_lp_dup(obj);
	return ap_list_dup(obj);
}

/* Elements of either encoding. */
static size_t list_length(const void *obj, enum ap_enc enc)
{
	if (enc == AP_ENC_LISTPACK)
		return ap_lp_count(obj);
	return ap_list_count(obj);
}

/* Bytes of memory of either encoding. */
static size_t list_mem(const void *obj, enum ap_enc enc)
{
	if (enc == AP_ENC_LISTPACK)
		return ap_lp_alloc_size(obj);
	return ap_list_mem(obj);
}

/* Lazy free: a listpack at once, a quicklist a budget of elements at a
 * time; true when all is freed. */
static bool list_free_some(void *obj, enum ap_enc enc, size_t budget)
{
	if (enc == AP_ENC_LISTPACK) {
		ap_lp_free(obj);
		return true;
	}
	return ap_list_free_some(obj, budget);
}

static const struct ap_type_ops list_ops = {
	.name = "list",
	.free = list_free,
	.dup = list_dup,
	.length = list_length,
	.mem = list_mem,
	.free_some = list_free_some,
};

const struct ap_type_ops *const ap_list_type_ops = &list_ops;

/* --- the table ------------------------------------------------------- */

#define LIST_CMD(nm, ar, fl, first, last, step, f, sum, sin, cx, acl)       \
	{                                                                   \
		.name = nm, .arity = ar, .flags = fl, .first_key = first,   \
		.last_key = last, .key_step = step, .split = AP_SPLIT_NONE, \
		.fn = f, .group = "list", .summary = sum, .since = sin,     \
		.complexity = cx, .acl_categories = acl, .subcmds = NULL,   \
	}

#define W_DENY	    (AP_CMD_WRITE | AP_CMD_DENYOOM)
#define W_DENY_FAST (AP_CMD_WRITE | AP_CMD_DENYOOM | AP_CMD_FAST)
#define W	    AP_CMD_WRITE
#define W_FAST	    (AP_CMD_WRITE | AP_CMD_FAST)
#define R	    AP_CMD_READONLY
#define R_FAST	    (AP_CMD_READONLY | AP_CMD_FAST)
#define ACL_RF	    "@read @list @fast"
#define ACL_RS	    "@read @list @slow"
#define ACL_WF	    "@write @list @fast"
#define ACL_WS	    "@write @list @slow"
#define O1	    "O(1)"
#define O_PUSH                                                             \
	"O(1) for each element added, so O(N) to add N elements when the " \
	"command is called with multiple arguments."
#define O_POP "O(N) where N is the number of elements returned"

const struct ap_cmd ap_cmds_list[] = {
	LIST_CMD("lpush", -3, W_DENY_FAST, 1, 1, 1, cmd_lpush,
		 "Prepends one or more elements to a list. Creates the key if "
		 "it doesn't exist.",
		 "1.0.0", O_PUSH, ACL_WF),
	LIST_CMD("rpush", -3, W_DENY_FAST, 1, 1, 1, cmd_rpush,
		 "Appends one or more elements to a list. Creates the key if "
		 "it doesn't exist.",
		 "1.0.0", O_PUSH, ACL_WF),
	LIST_CMD("lpushx", -3, W_DENY_FAST, 1, 1, 1, cmd_lpushx,
		 "Prepends one or more elements to a list only when the list "
		 "exists.",
		 "2.2.0", O_PUSH, ACL_WF),
	LIST_CMD("rpushx", -3, W_DENY_FAST, 1, 1, 1, cmd_rpushx,
		 "Appends an element to a list only when the list exists.",
		 "2.2.0", O_PUSH, ACL_WF),
	LIST_CMD("lpop", -2, W_FAST, 1, 1, 1, cmd_lpop,
		 "Returns the first elements in a list after removing it. "
		 "Deletes the list if the last element was popped.",
		 "1.0.0", O_POP, ACL_WF),
	LIST_CMD("rpop", -2, W_FAST, 1, 1, 1, cmd_rpop,
		 "Returns and removes the last elements of a list. Deletes "
		 "the list if the last element was popped.",
		 "1.0.0", O_POP, ACL_WF),
	LIST_CMD("llen", 2, R_FAST, 1, 1, 1, cmd_llen,
		 "Returns the length of a list.", "1.0.0", O1, ACL_RF),
	LIST_CMD("lrange", 4, R, 1, 1, 1, cmd_lrange,
		 "Returns a range of elements from a list.", "1.0.0",
		 "O(S+N) where S is the distance of start offset from HEAD "
		 "for small lists, from nearest end (HEAD or TAIL) for large "
		 "lists; and N is the number of elements in the specified "
		 "range.",
		 ACL_RS),
	LIST_CMD("lindex", 3, R, 1, 1, 1, cmd_lindex,
		 "Returns an element from a list by its index.", "1.0.0",
		 "O(N) where N is the number of elements to traverse to get "
		 "to the element at index. This makes asking for the first or "
		 "the last element of the list O(1).",
		 ACL_RS),
	LIST_CMD("lset", 4, W_DENY, 1, 1, 1, cmd_lset,
		 "Sets the value of an element in a list by its index.",
		 "1.0.0",
		 "O(N) where N is the length of the list. Setting either the "
		 "first or the last element of the list is O(1).",
		 ACL_WS),
	LIST_CMD("linsert", 5, W_DENY, 1, 1, 1, cmd_linsert,
		 "Inserts an element before or after another element in a "
		 "list.",
		 "2.2.0",
		 "O(N) where N is the number of elements to traverse before "
		 "seeing the value pivot. This means that inserting somewhere "
		 "on the left end on the list (head) can be considered O(1) "
		 "and inserting somewhere on the right end (tail) is O(N).",
		 ACL_WS),
	LIST_CMD("lrem", 4, W, 1, 1, 1, cmd_lrem,
		 "Removes elements from a list. Deletes the list if the last "
		 "element was removed.",
		 "1.0.0",
		 "O(N+M) where N is the length of the list and M is the "
		 "number of elements removed.",
		 ACL_WS),
	LIST_CMD("ltrim", 4, W, 1, 1, 1, cmd_ltrim,
		 "Removes elements from both ends a list. Deletes the list if "
		 "all elements were trimmed.",
		 "1.0.0",
		 "O(N) where N is the number of elements to be removed by the "
		 "operation.",
		 ACL_WS),
	LIST_CMD("lpos", -3, R, 1, 1, 1, cmd_lpos,
		 "Returns the index of matching elements in a list.", "6.0.6",
		 "O(N) where N is the number of elements in the list, for the "
		 "average case. When searching for elements near the head or "
		 "the tail of the list, or when the MAXLEN option is "
		 "provided, the command may run in constant time.",
		 ACL_RS),
	LIST_CMD("lmove", 5, W_DENY, 1, 2, 1, cmd_lmove,
		 "Returns an element after popping it from one list and "
		 "pushing it to another. Deletes the list if the last element "
		 "was moved.",
		 "6.2.0", O1, ACL_WS),
	LIST_CMD("rpoplpush", 3, W_DENY, 1, 2, 1, cmd_rpoplpush,
		 "Returns the last element of a list after removing and "
		 "pushing it to another list. Deletes the list if the last "
		 "element was popped.",
		 "1.2.0", O1, ACL_WS),
	LIST_CMD("blpop", -3, AP_CMD_WRITE | AP_CMD_BLOCKING, 1, -2, 1,
		 cmd_blpop,
		 "Removes and returns the first element in a list. Blocks "
		 "until an element is available otherwise. Deletes the list if "
		 "the last element was popped.",
		 "2.0.0", "O(N) where N is the number of provided keys.",
		 "@write @list @slow @blocking"),
	LIST_CMD("brpop", -3, AP_CMD_WRITE | AP_CMD_BLOCKING, 1, -2, 1,
		 cmd_brpop,
		 "Removes and returns the last element in a list. Blocks "
		 "until an element is available otherwise. Deletes the list if "
		 "the last element was popped.",
		 "2.0.0", "O(N) where N is the number of provided keys.",
		 "@write @list @slow @blocking"),
	LIST_CMD("blmove", 6, AP_CMD_WRITE | AP_CMD_DENYOOM | AP_CMD_BLOCKING,
		 1, 2, 1, cmd_blmove,
		 "Pops an element from a list, pushes it to another list and "
		 "returns it. Blocks until an element is available otherwise. "
		 "Deletes the list if the last element was moved.",
		 "6.2.0", O1, "@write @list @slow @blocking"),
	LIST_CMD("brpoplpush", 4,
		 AP_CMD_WRITE | AP_CMD_DENYOOM | AP_CMD_BLOCKING, 1, 2, 1,
		 cmd_brpoplpush,
		 "Pops an element from a list, pushes it to another list and "
		 "returns it. Block until an element is available otherwise. "
		 "Deletes the list if the last element was popped.",
		 "2.2.0", O1, "@write @list @slow @blocking"),
	{
		.name = "blmpop",
		.arity = -5,
		.flags = AP_CMD_WRITE | AP_CMD_BLOCKING | AP_CMD_MOVABLE_KEYS,
		.split = AP_SPLIT_NONE,
		.fn = cmd_blmpop,
		.getkeys = blmpop_keys,
		.group = "list",
		.summary = "Pops the first element from one of multiple lists. "
			   "Blocks until an element is available otherwise. "
			   "Deletes the list if the last element was popped.",
		.since = "7.0.0",
		.complexity = "O(N+M) where N is the number of provided keys "
			      "and M is the number of elements returned.",
		.acl_categories = "@write @list @slow @blocking",
	},
	{
		.name = "lmpop",
		.arity = -4,
		.flags = AP_CMD_WRITE | AP_CMD_MOVABLE_KEYS,
		.first_key = 0,
		.last_key = 0,
		.key_step = 0,
		.split = AP_SPLIT_NONE,
		.fn = cmd_lmpop,
		.getkeys = lmpop_keys,
		.group = "list",
		.summary = "Returns multiple elements from a list after "
			   "removing them. Deletes the list if the last "
			   "element was popped.",
		.since = "7.0.0",
		.complexity = "O(N+M) where N is the number of provided keys "
			      "and M is the number of elements returned.",
		.acl_categories = ACL_WS,
		.subcmds = NULL,
	},
	{.name = NULL},
};
