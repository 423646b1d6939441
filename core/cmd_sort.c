/*
 * cmd_sort.c - SORT and SORT_RO (Redis 7): sort the elements of a list, a
 * set or a sorted set numerically (the default) or byte-wise (ALPHA), by
 * the elements themselves or by values found through a BY pattern, take a
 * LIMIT window of the result, reply the elements or values found through
 * GET patterns, or (SORT only) STORE the result as a list.
 *
 * Semantics follow Redis 7's sort.c as the command reference and the 7.2
 * server describe them:
 *   - numeric sorting reads each value as strtod does (leading blanks and
 *     hex allowed, trailing bytes not; NaN and overflow refused with "One
 *     or more scores can't be converted into double"); an absent BY value
 *     scores 0; equal scores order by the element bytes;
 *   - ALPHA compares bytes: Redis uses strcoll, which in the C locale is
 *     strcmp, so a reply compares up to the first NUL byte while STORE
 *     compares every byte (Redis's binary compare there); an absent BY
 *     value sorts first; equal values keep the collection's order (as the
 *     stable sort of glibc under Redis does);
 *   - BY without '*' (nosort) does not sort: lists and sorted sets keep
 *     their order (reversed by DESC) and honour LIMIT; a set keeps its
 *     iteration order, except that with STORE it is sorted ALPHA so the
 *     stored result is deterministic;
 *   - a pattern substitutes the element for its first '*'; "->field"
 *     after the '*' reads a hash field instead of a string; "#" is the
 *     element itself; a pattern naming no key of the right type gives nil
 *     (the empty string when stored);
 *   - STORE replaces the destination with a list (no TTL) and replies its
 *     length, or deletes the destination when the result is empty.
 * The log records SORT ... STORE as called, except a set sorted ALPHA BY
 * a pattern: its equal values keep the set's iteration order, which
 * differs between processes (seeded hashing), so it is recorded as what
 * it stored ("DEL dst" and "RPUSH dst element ...").
 * One difference: Redis converts a listpack-encoded sorted set to a
 * skiplist when it sorts it (OBJECT ENCODING changes); Apiary leaves the
 * value alone.
 *
 * Keys and shards: SORT declares its key and the STORE destination
 * (getkeys), so the shards layer routes it to their shard, or gathers both
 * into one keyspace when they live on different shards. The keys that BY
 * and GET patterns name are not declared (Redis Cluster cannot declare
 * them either and requires them in the same slot): they are read from the
 * keyspace the command runs in, i.e. the sorted key's shard. A pattern key
 * on another shard reads as absent (nil); when the destination lives on
 * another shard than the sorted key the command runs in a gathered
 * keyspace and every pattern key reads as absent. Give related keys one
 * {hashtag}.
 *
 * Bounds: one array of items (one per element of the collection, or of
 * the LIMIT window when nothing is sorted), one byte arena for integer
 * elements formatted as text and for ALPHA BY values, one scratch buffer
 * for pattern keys: no allocation per element. Elements are referenced in
 * place in the collection, which nothing changes while the command runs
 * (pattern lookups only read other keys; STORE replaces the destination
 * after the result list is built). Sorting is an in-place introsort that
 * sorts only the part of the array the LIMIT window needs.
 *
 * Threading: commands run on the shard thread that owns ctx->ks.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/cmd.h"
#include "core/hobj.h"
#include "core/limits.h"
#include "core/list.h"
#include "core/set.h"
#include "core/zset.h"

#define ERR_SCORES "ERR One or more scores can't be converted into double"

/* Patterns compiled on the stack before one allocation is needed. */
#define PATTERNS_ON_STACK 8
/* Sub-arrays this short are finished by insertion sort. */
#define INSERTION_MAX 12
/* Values this short are parsed as numbers from a stack copy. */
#define NUM_ON_STACK 64
/* Pattern keys this short are built on the stack. */
#define KEY_ON_STACK 256

/* --- options --------------------------------------------------------- */

enum sort_opt {
	OPT_ASC,
	OPT_DESC,
	OPT_ALPHA,
	OPT_LIMIT,
	OPT_STORE,
	OPT_BY,
	OPT_GET,
	OPT_BAD,
};

/*
 * Classifies the option word at argv[j] and sets *span to the arguments
 * it takes (itself included), as Redis's parser: LIMIT needs two more
 * arguments, BY, GET and STORE one (STORE only when !readonly), anything
 * else is OPT_BAD (a syntax error).
 */
static enum sort_opt opt_at(int argc, const struct ap_arg *argv, int j,
			    bool readonly, int *span)
{
	int left = argc - j - 1;

	AP_ASSERT(j >= 2 && j < argc);
	*span = 1;
	if (ap_arg_eq(&argv[j], "asc"))
		return OPT_ASC;
	if (ap_arg_eq(&argv[j], "desc"))
		return OPT_DESC;
	if (ap_arg_eq(&argv[j], "alpha"))
		return OPT_ALPHA;
	if (ap_arg_eq(&argv[j], "limit") && left >= 2) {
		*span = 3;
		return OPT_LIMIT;
	}
	*span = 2;
	if (!readonly && ap_arg_eq(&argv[j], "store") && left >= 1)
		return OPT_STORE;
	if (ap_arg_eq(&argv[j], "by") && left >= 1)
		return OPT_BY;
	if (ap_arg_eq(&argv[j], "get") && left >= 1)
		return OPT_GET;
	*span = 1;
	return OPT_BAD;
}

/*
 * A BY or GET pattern, compiled once: the key it names for an element is
 * prefix + element + postfix, read as a string, or as a hash whose field
 * `field` is read when field is not NULL. Redis scans patterns as C
 * strings (strchr, strstr): '*' and "->" count only before the first NUL
 * byte, while the field runs to the pattern's real end.
 */
struct sort_pattern {
	const char *p;
	size_t len;
	bool self;	   /* "#": the element itself */
	bool none;	   /* no '*': names no key */
	size_t prefix_len; /* bytes before the '*' */
	size_t post_len;   /* bytes after the '*', before "->" */
	const char *field; /* after "->", or NULL */
	size_t field_len;
};

/* Length of s as a C string: the bytes before the first NUL. */
static size_t cstr_len(const char *s, size_t len)
{
	const char *nul = len > 0 ? memchr(s, '\0', len) : NULL;

	return nul ? (size_t)(nul - s) : len;
}

/* True if the pattern a has a '*' (as Redis's strchr sees it). */
static bool pattern_has_star(const struct ap_arg *a)
{
	size_t clen = cstr_len(a->p, a->len);

	return clen > 0 && memchr(a->p, '*', clen) != NULL;
}

/* Compiles the pattern a into *pat (which points into a). */
static void pattern_compile(const struct ap_arg *a, struct sort_pattern *pat)
{
	size_t clen = cstr_len(a->p, a->len);
	const char *star = clen > 0 ? memchr(a->p, '*', clen) : NULL;

	*pat = (struct sort_pattern){.p = a->p, .len = a->len};
	pat->self = a->len >= 1 && a->p[0] == '#' && clen == 1;
	if (pat->self || star == NULL) {
		pat->none = !pat->self;
		return;
	}
	pat->prefix_len = (size_t)(star - a->p);
	/* strstr(star + 1, "->") with a byte after the arrow, before NUL. */
	const char *end = a->p + clen;
	for (const char *f = star + 1; f + 2 < end; f++) {
		if (f[0] == '-' && f[1] == '>') {
			pat->field = f + 2;
			pat->field_len = a->len - (size_t)(pat->field - a->p);
			break;
		}
	}
	pat->post_len = a->len - pat->prefix_len - 1 -
			(pat->field ? pat->field_len + 2 : 0);
}

/* The parsed options of one SORT / SORT_RO call. */
struct sort_opts {
	bool desc;
	bool alpha;
	bool dontsort; /* a BY pattern without '*' was given */
	long long limit_start;
	long long limit_count; /* -1: to the end */
	const struct ap_arg *by;
	const struct ap_arg *store;
	size_t get_count;
};

/*
 * Parses argv[2..] into *o as Redis does (the last ASC/DESC, LIMIT, BY,
 * STORE wins; a nosort BY is remembered even if a later BY has a '*').
 * Replies the error and returns false on a bad option or LIMIT value.
 */
static bool opts_parse(struct ap_cmd_ctx *c, bool readonly, struct sort_opts *o)
{
	int span;

	*o = (struct sort_opts){.limit_count = -1};
	for (int j = 2; j < c->argc; j += span) {
		const struct ap_arg *next = &c->argv[j + 1];
		switch (opt_at(c->argc, c->argv, j, readonly, &span)) {
		case OPT_ASC:
			o->desc = false;
			break;
		case OPT_DESC:
			o->desc = true;
			break;
		case OPT_ALPHA:
			o->alpha = true;
			break;
		case OPT_LIMIT:
			if (!ap_arg_ll(c, next, &o->limit_start) ||
			    !ap_arg_ll(c, next + 1, &o->limit_count))
				return false;
			break;
		case OPT_STORE:
			o->store = next;
			break;
		case OPT_BY:
			o->by = next;
			if (!pattern_has_star(next))
				o->dontsort = true;
			break;
		case OPT_GET:
			o->get_count++;
			break;
		case OPT_BAD:
			ap_reply_error(c->r, AP_ERR_SYNTAX);
			return false;
		}
	}
	return true;
}

/* Compiles the GET patterns of argv, in order, into pats (room for
 * o->get_count of them). */
static void gets_compile(const struct ap_cmd_ctx *c, bool readonly,
			 struct sort_pattern *pats)
{
	size_t n = 0;
	int span;

	for (int j = 2; j < c->argc; j += span) {
		if (opt_at(c->argc, c->argv, j, readonly, &span) == OPT_GET)
			pattern_compile(&c->argv[j + 1], &pats[n++]);
	}
}

/* --- the job: items, arena, scratch ------------------------------------ */

/*
 * One element to sort. Its bytes are in the collection (elem.p) or, for
 * an integer formatted as text, in the arena (elem.off, in_arena). key
 * holds the numeric score, or the arena offset of an ALPHA BY value
 * (has_by false when the pattern found nothing). idx is the position in
 * the collection's order: the last tie-break, which makes the order total.
 */
struct sort_item {
	union {
		const char *p;
		size_t off;
	} elem;
	union {
		double score;
		size_t by_off;
	} key;
	size_t idx;
	uint32_t len;
	uint32_t by_len;
	bool in_arena;
	bool has_by;
};

/* Everything one sort owns while it runs; released by job_deinit. */
struct sort_job {
	struct ap_cmd_ctx *c;
	struct sort_opts o;
	bool is_set;		 /* the sorted value is a set */
	struct sort_pattern by;	 /* compiled o.by, when sorting by it */
	struct sort_item *items; /* cap of them allocated */
	size_t count;		 /* items filled */
	size_t cap;
	char *arena; /* integer elements' digits, ALPHA BY values */
	size_t arena_len;
	size_t arena_cap;
	char *scratch; /* pattern keys, numbers to parse */
	size_t scratch_cap;
	bool bad_score;
};

/* Frees what the job allocated. */
static void job_deinit(struct sort_job *j)
{
	ap_free(j->items);
	ap_free(j->arena);
	ap_free(j->scratch);
}

/* Allocates room for n items (none for n == 0). */
static void items_alloc(struct sort_job *j, size_t n)
{
	size_t size;

	AP_ASSERT(j->items == NULL);
	if (n == 0)
		return;
	AP_ASSERT(!__builtin_mul_overflow(n, sizeof(*j->items), &size));
	j->items = ap_malloc(size);
	j->cap = n;
}

/* Copies len bytes into the arena and returns their offset. Offsets stay
 * valid as the arena grows; pointers into it do not. */
static size_t arena_put(struct sort_job *j, const char *s, size_t len)
{
	size_t need, off = j->arena_len;

	AP_ASSERT(!__builtin_add_overflow(j->arena_len, len, &need));
	if (need > j->arena_cap) {
		size_t cap = j->arena_cap ? j->arena_cap : 256;
		while (cap < need)
			AP_ASSERT(!__builtin_mul_overflow(cap, 2, &cap));
		j->arena = ap_realloc(j->arena, cap);
		j->arena_cap = cap;
	}
	if (len > 0)
		memcpy(j->arena + off, s, len);
	j->arena_len = need;
	return off;
}

/* A buffer of at least size bytes: stack (size <= stack_size) or the
 * job's grow-only scratch. Valid until the next call. */
static char *scratch_get(struct sort_job *j, size_t size, char *stack,
			 size_t stack_size)
{
	if (size <= stack_size)
		return stack;
	if (size > j->scratch_cap) {
		j->scratch = ap_realloc(j->scratch, size);
		j->scratch_cap = size;
	}
	return j->scratch;
}

/* Adds the next element of the collection; transient bytes (an integer
 * formatted into a caller's buffer) are copied into the arena. */
static void item_add(struct sort_job *j, const char *s, size_t len,
		     bool transient)
{
	struct sort_item *it;

	AP_ASSERT(j->count < j->cap && len <= UINT32_MAX);
	it = &j->items[j->count];
	*it = (struct sort_item){.idx = j->count, .len = (uint32_t)len};
	if (transient) {
		it->elem.off = arena_put(j, s, len);
		it->in_arena = true;
	} else {
		it->elem.p = s;
	}
	j->count++;
}

/* The bytes of an item's element. */
static const char *item_elem(const struct sort_job *j,
			     const struct sort_item *it, size_t *len)
{
	*len = it->len;
	return it->in_arena ? j->arena + it->elem.off : it->elem.p;
}

/* --- collecting elements ---------------------------------------------- */

/* Adds count list elements from index first (counted from the tail and
 * walking towards the head when rev). */
static void collect_list(struct sort_job *j, struct ap_entry *e, size_t first,
			 size_t count, bool rev)
{
	struct ap_list_ref ref;
	struct ap_list_iter it;
	char buf[AP_LP_INTBUF_SIZE];
	size_t len = ap_list_entry_len(e);

	AP_ASSERT(first < len);
	ap_list_ref_open(&ref, ap_entry_obj(e), ap_entry_enc(e),
			 ap_list_opts_of(j->c->cfg));
	ap_list_iter_init(&it, ref.l,
			  rev ? (long long)(len - first - 1) : (long long)first,
			  !rev);
	for (size_t n = 0; n < count && ap_list_iter_valid(&it); n++) {
		size_t elen;
		const char *s = ap_list_iter_get(&it, &elen, buf);
		item_add(j, s, elen, s == buf || ap_list_iter_transient(&it));
		ap_list_iter_next(&it);
	}
	ap_list_iter_done(&it);
}

/* Adds count set members in iteration order, skipping the first `first`. */
static void collect_set(struct sort_job *j, struct ap_entry *e, size_t first,
			size_t count)
{
	struct ap_set s = {.ptr = ap_entry_obj(e), .enc = ap_entry_enc(e)};
	struct ap_set_iter it;
	struct ap_set_elem m;
	size_t seen = 0;

	ap_set_iter_init(&it, &s);
	while (j->count < count && ap_set_iter_next(&it, &m)) {
		if (seen++ < first)
			continue;
		bool transient =
			m.str >= m.buf && m.str < m.buf + sizeof(m.buf);
		item_add(j, m.str, m.len, transient);
	}
	ap_set_iter_deinit(&it);
}

/* Adds count sorted-set members from rank first (from the highest score
 * when rev). */
static void collect_zset(struct sort_job *j, struct ap_entry *e, size_t first,
			 size_t count, bool rev)
{
	const struct ap_config *cfg = j->c->cfg;
	struct ap_zset z;
	struct ap_zset_iter it;
	const char *m;
	size_t len;
	double score;

	ap_zset_open(&z, ap_entry_obj(e), ap_entry_enc(e),
		     (size_t)AP_MAX(cfg->zset_max_listpack_entries, 0),
		     (size_t)AP_MAX(cfg->zset_max_listpack_value, 0));
	ap_zset_iter_rank(&it, &z, first, count, rev);
	while (ap_zset_iter_next(&it, &m, &len, &score))
		item_add(j, m, len, m == it.buf);
}

/* Adds count elements of the value e from position first of its order
 * (lists and sorted sets from the tail / highest score when rev). */
static void collect(struct sort_job *j, struct ap_entry *e, size_t first,
		    size_t count, bool rev)
{
	items_alloc(j, count);
	if (count == 0)
		return;
	switch (ap_entry_type(e)) {
	case AP_TYPE_LIST:
		collect_list(j, e, first, count, rev);
		break;
	case AP_TYPE_SET:
		collect_set(j, e, first, count);
		break;
	case AP_TYPE_ZSET:
		collect_zset(j, e, first, count, rev);
		break;
	default:
		AP_ASSERT(!"sortable type");
	}
	AP_ASSERT(j->count == count);
}

/* --- patterns ------------------------------------------------------- */

/*
 * The value pattern pat names for the element s (len bytes): the element
 * itself for "#", a string key's value, or a hash field's value; NULL if
 * there is none. Integers are formatted into vbuf. The bytes are valid
 * until the next keyspace call.
 */
static const char *pattern_value(struct sort_job *j,
				 const struct sort_pattern *pat, const char *s,
				 size_t len, size_t *vlen,
				 char vbuf[AP_INT_STR_SIZE])
{
	char stack[KEY_ON_STACK];
	struct ap_entry *e;
	size_t klen;

	if (pat->self) {
		*vlen = len;
		return s;
	}
	if (pat->none)
		return NULL;
	klen = pat->prefix_len + len + pat->post_len;
	char *key = scratch_get(j, klen, stack, sizeof(stack));
	memcpy(key, pat->p, pat->prefix_len);
	if (len > 0)
		memcpy(key + pat->prefix_len, s, len);
	memcpy(key + pat->prefix_len + len, pat->p + pat->prefix_len + 1,
	       pat->post_len);
	e = ap_db_lookup(j->c->db, key, klen, AP_LK_READ);
	if (e == NULL)
		return NULL;
	if (pat->field == NULL) {
		if (ap_entry_type(e) != AP_TYPE_STRING)
			return NULL;
		return ap_entry_str(e, vlen, vbuf);
	}
	if (ap_entry_type(e) != AP_TYPE_HASH)
		return NULL;
	struct ap_hobj h = {.ptr = ap_entry_obj(e), .enc = ap_entry_enc(e)};
	_Static_assert(AP_INT_STR_SIZE >= AP_HOBJ_BUF_SIZE, "value buffer");
	return ap_hobj_get(&h, pat->field, pat->field_len, vlen, vbuf);
}

/* --- scores ---------------------------------------------------------- */

/*
 * Reads s (len bytes) as Redis reads a sort score: strtod over the bytes
 * up to the first NUL, which must consume them all, without overflow or
 * NaN. Returns false if it is not a score.
 */
static bool parse_score(struct sort_job *j, const char *s, size_t len,
			double *out)
{
	char stack[NUM_ON_STACK];
	long long ll;
	char *end;

	if (ap_str_to_ll(s, len, &ll)) {
		*out = (double)ll; /* what strtod gives, without the copy */
		return true;
	}
	char *z = scratch_get(j, len + 1, stack, sizeof(stack));
	if (len > 0)
		memcpy(z, s, len);
	z[len] = '\0';
	errno = 0;
	*out = strtod(z, &end);
	return *end == '\0' && errno != ERANGE && !isnan(*out);
}

/* Sets the sort key of every item: its score, or (ALPHA with BY) its BY
 * value. False if a score could not be read (j->bad_score). */
static bool load_keys(struct sort_job *j)
{
	bool by = j->o.by != NULL;

	if (j->o.alpha && !by)
		return true;
	for (size_t i = 0; i < j->count; i++) {
		struct sort_item *it = &j->items[i];
		char vbuf[AP_INT_STR_SIZE];
		size_t len, vlen;
		const char *s = item_elem(j, it, &len);
		const char *v = s;

		vlen = len;
		if (by) {
			v = pattern_value(j, &j->by, s, len, &vlen, vbuf);
			if (v == NULL)
				continue; /* score 0, or sorts first */
		}
		if (j->o.alpha) {
			AP_ASSERT(vlen <= UINT32_MAX);
			it->key.by_off = arena_put(j, v, vlen);
			it->by_len = (uint32_t)vlen;
			it->has_by = true;
		} else if (!parse_score(j, v, vlen, &it->key.score)) {
			j->bad_score = true;
			return false;
		}
	}
	return true;
}

/* --- comparing and sorting ---------------------------------------------- */

/* memcmp order, then the shorter first (Redis's binary compare). */
static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = AP_MIN(alen, blen);
	int r = n > 0 ? memcmp(a, b, n) : 0;

	if (r != 0)
		return r < 0 ? -1 : 1;
	return alen < blen ? -1 : alen > blen;
}

/* ALPHA order of two values: every byte with STORE, else strcoll in the C
 * locale, which is strcmp: the bytes before the first NUL. */
static int text_cmp(const struct sort_job *j, const char *a, size_t alen,
		    const char *b, size_t blen)
{
	if (j->o.store == NULL) {
		alen = cstr_len(a, alen);
		blen = cstr_len(b, blen);
	}
	return bytes_cmp(a, alen, b, blen);
}

/* Numeric order: the scores, then the elements' bytes. */
static int score_cmp(const struct sort_job *j, const struct sort_item *a,
		     const struct sort_item *b)
{
	size_t alen, blen;
	const char *as, *bs;

	if (a->key.score < b->key.score)
		return -1;
	if (a->key.score > b->key.score)
		return 1;
	as = item_elem(j, a, &alen);
	bs = item_elem(j, b, &blen);
	return bytes_cmp(as, alen, bs, blen);
}

/* ALPHA order by BY values: an absent value first. */
static int by_cmp(const struct sort_job *j, const struct sort_item *a,
		  const struct sort_item *b)
{
	if (!a->has_by || !b->has_by)
		return (int)a->has_by - (int)b->has_by;
	return text_cmp(j, j->arena + a->key.by_off, a->by_len,
			j->arena + b->key.by_off, b->by_len);
}

/* ALPHA order of the elements themselves. */
static int elem_cmp(const struct sort_job *j, const struct sort_item *a,
		    const struct sort_item *b)
{
	size_t alen, blen;
	const char *as = item_elem(j, a, &alen);
	const char *bs = item_elem(j, b, &blen);

	return text_cmp(j, as, alen, bs, blen);
}

/* The order of two items: Redis's sortCompare (DESC reverses it), then
 * collection order for what it finds equal, so 0 only for an item with
 * itself. */
static int item_cmp(const struct sort_job *j, const struct sort_item *a,
		    const struct sort_item *b)
{
	int cmp;

	if (!j->o.alpha)
		cmp = score_cmp(j, a, b);
	else if (j->o.by != NULL)
		cmp = by_cmp(j, a, b);
	else
		cmp = elem_cmp(j, a, b);
	if (j->o.desc)
		cmp = -cmp;
	if (cmp == 0)
		cmp = a->idx < b->idx ? -1 : a->idx > b->idx;
	return cmp;
}

/* Exchanges two items. */
static void item_swap(struct sort_item *a, struct sort_item *b)
{
	struct sort_item t = *a;

	*a = *b;
	*b = t;
}

/* Insertion sort of a[0..n). */
static void insertion_sort(const struct sort_job *j, struct sort_item *a,
			   size_t n)
{
	for (size_t i = 1; i < n; i++) {
		for (size_t k = i; k > 0 && item_cmp(j, &a[k], &a[k - 1]) < 0;
		     k--)
			item_swap(&a[k], &a[k - 1]);
	}
}

/* Restores the max-heap property of a[0..n) below position i. */
static void sift_down(const struct sort_job *j, struct sort_item *a, size_t i,
		      size_t n)
{
	for (;;) {
		size_t big = i, l = 2 * i + 1, r = l + 1;
		if (l < n && item_cmp(j, &a[l], &a[big]) > 0)
			big = l;
		if (r < n && item_cmp(j, &a[r], &a[big]) > 0)
			big = r;
		if (big == i)
			return;
		item_swap(&a[i], &a[big]);
		i = big;
	}
}

/* Heap sort of a[0..n): the introsort fallback, O(n log n) always. */
static void heap_sort(const struct sort_job *j, struct sort_item *a, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(j, a, i, n);
	for (size_t end = n; end-- > 1;) {
		item_swap(&a[0], &a[end]);
		sift_down(j, a, 0, end);
	}
}

/* Orders a[x], a[y], a[z] among themselves. */
static void sort3(const struct sort_job *j, struct sort_item *a, size_t x,
		  size_t y, size_t z)
{
	if (item_cmp(j, &a[y], &a[x]) < 0)
		item_swap(&a[y], &a[x]);
	if (item_cmp(j, &a[z], &a[x]) < 0)
		item_swap(&a[z], &a[x]);
	if (item_cmp(j, &a[z], &a[y]) < 0)
		item_swap(&a[z], &a[y]);
}

/*
 * Partitions a[lo..hi) (at least 4 items) around the median of its
 * first, middle and last items (Hoare's scheme; the first and last items
 * bound both scans); returns the pivot's final position p: a[lo..p)
 * before it, a[p+1..hi) after it.
 */
static size_t partition(const struct sort_job *j, struct sort_item *a,
			size_t lo, size_t hi)
{
	size_t pv = hi - 2, i = lo, k = pv;

	AP_ASSERT(hi - lo >= 4);
	sort3(j, a, lo, lo + (hi - lo) / 2, hi - 1);
	item_swap(&a[lo + (hi - lo) / 2], &a[pv]);
	for (;;) {
		while (item_cmp(j, &a[++i], &a[pv]) < 0)
			;
		while (item_cmp(j, &a[pv], &a[--k]) < 0)
			;
		if (i >= k)
			break;
		item_swap(&a[i], &a[k]);
	}
	item_swap(&a[i], &a[pv]);
	AP_ASSERT(i >= lo && i < hi);
	return i;
}

/*
 * Sorts a[lo..hi) far enough that positions [want_lo, want_hi) hold, in
 * order, what a full sort would put there (a partial introsort: only the
 * partitions overlapping the window are sorted further; depth bounds the
 * recursion before heap sort takes over).
 */
static void sort_window(const struct sort_job *j, struct sort_item *a,
			size_t lo, size_t hi, size_t want_lo, size_t want_hi,
			unsigned depth)
{
	while (hi - lo > INSERTION_MAX) {
		if (depth-- == 0) {
			heap_sort(j, a + lo, hi - lo);
			return;
		}
		size_t p = partition(j, a, lo, hi);
		bool left = want_lo < p && want_hi > lo;
		bool right = want_hi > p + 1 && want_lo < hi;
		if (left && right) {
			/* Recurse into the smaller side, loop on the other. */
			if (p - lo < hi - p) {
				sort_window(j, a, lo, p, want_lo, want_hi,
					    depth);
				lo = p + 1;
			} else {
				sort_window(j, a, p + 1, hi, want_lo, want_hi,
					    depth);
				hi = p;
			}
		} else if (left) {
			hi = p;
		} else if (right) {
			lo = p + 1;
		} else {
			return;
		}
	}
	insertion_sort(j, a + lo, hi - lo);
}

/* Sorts the items so that the window [start, start + n) is in order. */
static void items_sort(const struct sort_job *j, size_t start, size_t n)
{
	unsigned depth = 0;

	if (n == 0)
		return;
	for (size_t c = j->count; c > 1; c >>= 1)
		depth += 2;
	sort_window(j, j->items, 0, j->count, start, start + n, depth);
}

/* --- output ---------------------------------------------------------- */

/* Values written for n items: one each, or one per GET pattern. */
static size_t output_len(const struct sort_job *j, size_t n)
{
	size_t total;

	if (j->o.get_count == 0)
		return n;
	AP_ASSERT(!__builtin_mul_overflow(j->o.get_count, n, &total));
	return total;
}

/* Replies n items from start: each element, or each GET pattern's value
 * (nil when there is none). */
static void output_reply(struct sort_job *j, size_t start, size_t n,
			 const struct sort_pattern *gets)
{
	struct ap_reply *r = j->c->r;
	size_t ng = j->o.get_count;

	ap_reply_array(r, output_len(j, n));
	for (size_t i = start; i < start + n; i++) {
		size_t len, vlen;
		const char *s = item_elem(j, &j->items[i], &len);
		if (ng == 0)
			ap_reply_bulk(r, s, len);
		for (size_t g = 0; g < ng; g++) {
			char vbuf[AP_INT_STR_SIZE];
			const char *v =
				pattern_value(j, &gets[g], s, len, &vlen, vbuf);
			if (v == NULL)
				ap_reply_null(r);
			else
				ap_reply_bulk(r, v, vlen);
		}
	}
}

/* Appends s to the list being built for STORE. */
static void store_push(struct ap_list_ref *ref, const char *s, size_t len)
{
	ap_list_ref_grow(ref, len, 1);
	ap_list_push(ref->l, AP_LIST_TAIL, s, len);
}

/*
 * Records the list obj (enc) just stored at dst as "DEL dst" then "RPUSH dst
 * element ..." of at most AP_PROPAGATE_BATCH elements each (see the file
 * comment). Elements are referenced in the list, which nothing changes
 * meanwhile; integers are formatted into one buffer per batch slot.
 */
static void store_propagate(struct ap_cmd_ctx *c, const struct ap_arg *dst,
			    void *obj, enum ap_enc enc)
{
	struct ap_arg *argv =
		ap_malloc((2 + AP_PROPAGATE_BATCH) * sizeof(*argv));
	char(*ibuf)[AP_LP_INTBUF_SIZE] =
		ap_malloc(AP_PROPAGATE_BATCH * sizeof(*ibuf));
	struct ap_list_ref ref;
	struct ap_list_iter it;
	size_t n = 0;

	argv[0] = (struct ap_arg){.p = "DEL", .len = 3};
	argv[1] = *dst;
	ap_cmd_propagate(c, 2, argv);
	argv[0] = (struct ap_arg){.p = "RPUSH", .len = 5};
	ap_list_ref_open(&ref, obj, enc, ap_list_opts_of(c->cfg));
	ap_list_iter_init(&it, ref.l, 0, true);
	for (; ap_list_iter_valid(&it); ap_list_iter_next(&it)) {
		struct ap_arg *a = &argv[2 + n];

		a->p = ap_list_iter_get(&it, &a->len, ibuf[n]);
		if (++n == AP_PROPAGATE_BATCH) {
			ap_cmd_propagate(c, 2 + (int)n, argv);
			n = 0;
		}
	}
	if (n > 0)
		ap_cmd_propagate(c, 2 + (int)n, argv);
	ap_free(ibuf);
	ap_free(argv);
}

/*
 * STORE: builds a list of n items from start (elements, or each GET
 * pattern's value with "" for none), then replaces the destination with
 * it, or deletes the destination when it is empty; replies the length.
 * The list is complete before the destination changes, so the sorted key
 * may be its own destination.
 */
static void output_store(struct sort_job *j, size_t start, size_t n,
			 const struct sort_pattern *gets)
{
	struct ap_cmd_ctx *c = j->c;
	const struct ap_arg *dst = j->o.store;
	size_t ng = j->o.get_count, total = output_len(j, n);
	struct ap_list_ref ref;
	enum ap_enc enc;

	/* Built uncompressed (depth 0): store_propagate keeps pointers into
	 * it across nodes. list-compress-depth reaches it as it changes. */
	ap_list_ref_open(&ref, NULL, AP_ENC_LISTPACK,
			 ap_list_opts(c->cfg->list_max_listpack_size, 0));
	for (size_t i = start; i < start + n; i++) {
		size_t len, vlen;
		const char *s = item_elem(j, &j->items[i], &len);
		if (ng == 0)
			store_push(&ref, s, len);
		for (size_t g = 0; g < ng; g++) {
			char vbuf[AP_INT_STR_SIZE];
			const char *v =
				pattern_value(j, &gets[g], s, len, &vlen, vbuf);
			store_push(&ref, v ? v : "", v ? vlen : 0);
		}
	}
	void *obj = ap_list_ref_close(&ref, false, &enc);
	AP_ASSERT((obj == NULL) == (total == 0));
	if (obj != NULL) {
		ap_db_set_object(c->db, dst->p, dst->len, AP_TYPE_LIST, enc,
				 obj, AP_NO_EXPIRE);
		c->dirty += total;
		if (j->is_set && j->o.alpha && j->o.by != NULL)
			store_propagate(c, dst, obj, enc);
	} else if (ap_db_delete(c->db, dst->p, dst->len)) {
		c->dirty++;
	}
	ap_reply_int(c->r, (long long)total);
}

/* --- the commands ---------------------------------------------------- */

/* The LIMIT window over vlen elements, as Redis clamps it: *start and the
 * number of elements *n (0 for an empty window). */
static void window_of(const struct sort_opts *o, size_t vlen, size_t *start,
		      size_t *n)
{
	long long len = (long long)vlen;
	long long s = AP_MIN(AP_MAX(o->limit_start, 0LL), len);
	long long count = AP_MIN(AP_MAX(o->limit_count, -1LL), len);
	long long end = count < 0 ? len - 1 : s + count - 1;

	if (s >= len) {
		s = len - 1;
		end = len - 2;
	}
	if (end >= len)
		end = len - 1;
	*start = s > 0 ? (size_t)s : 0;
	*n = end >= s ? (size_t)(end - s + 1) : 0;
}

/* The element count of a sortable value. */
static size_t value_len(const struct ap_entry *e)
{
	const void *obj = ap_entry_obj(e);

	switch (ap_entry_type(e)) {
	case AP_TYPE_LIST:
		return ap_list_entry_len(e);
	case AP_TYPE_SET:
		return ap_set_len_of(obj, ap_entry_enc(e));
	case AP_TYPE_ZSET:
		return ap_zset_ops.length(obj, ap_entry_enc(e));
	default:
		AP_ASSERT(!"sortable type");
		return 0;
	}
}

/*
 * Loads the elements of e into the job and sorts them; sets the window of
 * items to output (*start, *n). Unsorted lists and sorted sets load only
 * the window (in DESC order when asked); an unsorted set loads the window
 * of its iteration order. False when a score could not be read.
 */
static bool load_and_sort(struct sort_job *j, struct ap_entry *e, size_t *start,
			  size_t *n)
{
	size_t len = e ? value_len(e) : 0;

	window_of(&j->o, len, start, n);
	if (e == NULL)
		return true;
	if (j->o.dontsort) {
		bool rev = j->o.desc && !j->is_set;
		collect(j, e, *start, *n, rev);
		*start = 0;
		return true;
	}
	collect(j, e, 0, len, false);
	if (j->o.by != NULL)
		pattern_compile(j->o.by, &j->by);
	if (!load_keys(j))
		return false;
	items_sort(j, *start, *n);
	return true;
}

/* SORT and SORT_RO (readonly: no STORE). */
static void sort_generic(struct ap_cmd_ctx *c, bool readonly)
{
	struct sort_pattern stack[PATTERNS_ON_STACK], *gets = stack;
	struct sort_job j = {.c = c};
	struct ap_entry *e;
	size_t start, n;

	if (!opts_parse(c, readonly, &j.o))
		return;
	e = ap_db_lookup(c->db, c->argv[1].p, c->argv[1].len, AP_LK_READ);
	if (e != NULL && ap_entry_type(e) != AP_TYPE_LIST &&
	    ap_entry_type(e) != AP_TYPE_SET &&
	    ap_entry_type(e) != AP_TYPE_ZSET) {
		ap_reply_error(c->r, AP_ERR_WRONGTYPE);
		return;
	}
	j.is_set = e != NULL && ap_entry_type(e) == AP_TYPE_SET;
	/* A stored set must not depend on its iteration order. */
	if (j.o.dontsort && j.is_set && j.o.store != NULL) {
		j.o.dontsort = false;
		j.o.alpha = true;
		j.o.by = NULL;
	}
	if (!load_and_sort(&j, e, &start, &n)) {
		ap_reply_error(c->r, ERR_SCORES);
		job_deinit(&j);
		return;
	}
	if (j.o.get_count > PATTERNS_ON_STACK)
		gets = ap_malloc(j.o.get_count * sizeof(*gets));
	gets_compile(c, readonly, gets);
	if (j.o.store != NULL)
		output_store(&j, start, n, gets);
	else
		output_reply(&j, start, n, gets);
	if (gets != stack)
		ap_free(gets);
	job_deinit(&j);
}

/* SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC]
 * [ALPHA] [STORE destination]. */
static void cmd_sort(struct ap_cmd_ctx *c)
{
	sort_generic(c, false);
}

/* SORT_RO: SORT without STORE. */
static void cmd_sort_ro(struct ap_cmd_ctx *c)
{
	sort_generic(c, true);
}

/* SORT's keys: the sorted key and the last STORE destination, found by
 * the command's own option parser (which stops at a bad option). */
static size_t sort_keys(int argc, const struct ap_arg *argv, int *idx,
			size_t max)
{
	int span, store = 0;
	size_t n = 0;

	if (argc < 2 || max == 0)
		return 0;
	idx[n++] = 1;
	for (int j = 2; j < argc; j += span) {
		enum sort_opt opt = opt_at(argc, argv, j, false, &span);
		if (opt == OPT_BAD)
			break;
		if (opt == OPT_STORE)
			store = j + 1;
	}
	if (store > 0 && n < max)
		idx[n++] = store;
	return n;
}

/* SORT_RO's key: the sorted key only (movable in Redis for its BY/GET
 * patterns, which name no declared key). */
static size_t sort_ro_keys(int argc, const struct ap_arg *argv, int *idx,
			   size_t max)
{
	(void)argv;
	if (argc < 2 || max == 0)
		return 0;
	idx[0] = 1;
	return 1;
}

/* --- the table ------------------------------------------------------- */

#define SORT_COMPLEXITY                                                       \
	"O(N+M*log(M)) where N is the number of elements in the list or set " \
	"to sort, and M the number of returned elements. When the elements "  \
	"are not sorted, complexity is O(N)."

const struct ap_cmd ap_cmds_sort[] = {
	{
		.name = "sort",
		.arity = -2,
		.flags = AP_CMD_WRITE | AP_CMD_DENYOOM | AP_CMD_MOVABLE_KEYS,
		.first_key = 1,
		.last_key = 1,
		.key_step = 1,
		.split = AP_SPLIT_NONE,
		.fn = cmd_sort,
		.getkeys = sort_keys,
		.group = "generic",
		.summary = "Sorts the elements in a list, a set, or a sorted "
			   "set, optionally storing the result.",
		.since = "1.0.0",
		.complexity = SORT_COMPLEXITY,
		.acl_categories = "@write @set @sortedset @list @slow "
				  "@dangerous",
	},
	{
		.name = "sort_ro",
		.arity = -2,
		.flags = AP_CMD_READONLY | AP_CMD_MOVABLE_KEYS,
		.first_key = 1,
		.last_key = 1,
		.key_step = 1,
		.split = AP_SPLIT_NONE,
		.fn = cmd_sort_ro,
		.getkeys = sort_ro_keys,
		.group = "generic",
		.summary = "Returns the sorted elements of a list, a set, or a "
			   "sorted set.",
		.since = "7.0.0",
		.complexity = SORT_COMPLEXITY,
		.acl_categories = "@read @set @sortedset @list @slow "
				  "@dangerous",
	},
	{.name = NULL},
};
