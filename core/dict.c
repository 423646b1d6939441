/*
 * dict.c - the intrusive chained hash table of core/dict.h.
 *
 * Two bucket arrays: table[0] is the live one; while a resize is in
 * progress (rehash_idx >= 0) table[1] is the new one, every table[0]
 * bucket below rehash_idx is empty, and new elements go to table[1]. A
 * rehash step moves whole buckets, re-hashing each node's key (nodes do
 * not store their hash: 8 bytes per element saved for one hash per move).
 *
 * SCAN follows Redis's reverse-binary cursor: the cursor's bits are
 * incremented from the top of the mask down, so a bucket of a table of
 * 2^k buckets and the buckets it splits into (or merges from) in a table
 * of 2^j buckets share the cursor's low bits, and a scan that switches
 * table size between calls neither skips nor loops.
 */
#include "core/dict.h"

#include <string.h>
#include <sys/random.h>

#include <xxhash.h>

/* Smallest bucket array: 4 buckets (2^2). */
#define DICT_EXP_MIN 2
/* Shrink when elements * DICT_SHRINK_RATIO < buckets. */
#define DICT_SHRINK_RATIO 4
/* Empty old buckets skipped per bucket a rehash step is asked to move. */
#define DICT_EMPTY_VISITS 10
/* Chain slots per bucket in ap_dict_random's rejection sampling. */
#define DICT_RANDOM_SLOTS 8
/* Cost of visiting an empty bucket in ap_dict_clear_some, in 1/16ths of a
 * node. */
#define DICT_CLEAR_UNIT 16

/* The hash seed: written once by a constructor before main(), read-only
 * afterwards. */
static uint64_t dict_seed;

/*
 * Draws the process-wide hash seed from getrandom(), falling back to the
 * clock where it fails (the seed only makes collisions unpredictable).
 */
__attribute__((constructor)) static void dict_seed_setup(void)
{
	uint64_t s = 0;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
		s = ap_time_ns() ^ 0x9E3779B97F4A7C15ULL;
	dict_seed = s;
}

/* --- small helpers --------------------------------------------------- */

/* Buckets of table t (0 when it has no array). */
static size_t table_size(const struct ap_dict *d, int t)
{
	return d->exp[t] < 0 ? 0 : (size_t)1 << d->exp[t];
}

/* Bucket of hash h in table t, which must have an array. */
static size_t bucket_of(const struct ap_dict *d, int t, uint64_t h)
{
	AP_ASSERT(d->exp[t] >= 0);
	return (size_t)(h & (((uint64_t)1 << d->exp[t]) - 1));
}

/* The hash of an inserted node's key. */
static uint64_t node_hash(const struct ap_dict *d, const struct ap_dict_node *n)
{
	size_t len;
	const char *k = d->type->key(n, &len);

	return ap_dict_hash(k, len);
}

/* True if node n's key equals key[0..len). */
static bool node_key_eq(const struct ap_dict *d, const struct ap_dict_node *n,
			const char *key, size_t len)
{
	size_t nlen;
	const char *nk = d->type->key(n, &nlen);

	return nlen == len && memcmp(nk, key, len) == 0;
}

/* Smallest exponent e >= DICT_EXP_MIN with 2^e >= count. */
static int8_t exp_for(size_t count)
{
	int8_t e = DICT_EXP_MIN;

	while (e < 62 && ((size_t)1 << e) < count)
		e++;
	return e;
}

/* A zeroed bucket array of 2^e buckets. */
static struct ap_dict_node **table_alloc(int8_t e)
{
	return ap_calloc((size_t)1 << e, sizeof(struct ap_dict_node *));
}

uint64_t ap_dict_hash(const char *key, size_t len)
{
	return XXH3_64bits_withSeed(key, len, dict_seed);
}

/* --- lifecycle ------------------------------------------------------- */

/* Resets d to the empty state without touching its arrays. */
static void reset(struct ap_dict *d)
{
	d->table[0] = d->table[1] = NULL;
	d->used[0] = d->used[1] = 0;
	d->exp[0] = d->exp[1] = -1;
	d->rehash_idx = -1;
}

void ap_dict_init(struct ap_dict *d, const struct ap_dict_type *type)
{
	AP_ASSERT(type != NULL && type->key != NULL);
	d->type = type;
	d->pause = 0;
	reset(d);
}

struct ap_dict *ap_dict_create(const struct ap_dict_type *type)
{
	struct ap_dict *d = ap_malloc(sizeof(*d));

	ap_dict_init(d, type);
	return d;
}

/* Frees the bucket arrays and resets d to empty. */
static void release_tables(struct ap_dict *d)
{
	ap_free(d->table[0]);
	ap_free(d->table[1]);
	reset(d);
}

void ap_dict_clear(struct ap_dict *d, ap_dict_free_fn *fn, void *arg)
{
	AP_ASSERT(d->pause == 0);
	for (int t = 0; t < 2; t++) {
		size_t size = table_size(d, t);

		for (size_t i = 0; i < size && d->used[t] > 0; i++) {
			struct ap_dict_node *n = d->table[t][i];

			while (n != NULL) {
				struct ap_dict_node *next = n->next;

				d->used[t]--;
				if (fn != NULL)
					fn(arg, n);
				n = next;
			}
			d->table[t][i] = NULL;
		}
		AP_ASSERT(d->used[t] == 0);
	}
	release_tables(d);
}

bool ap_dict_clear_some(struct ap_dict *d, size_t budget, ap_dict_free_fn *fn,
			void *arg)
{
	size_t size0 = table_size(d, 0);
	size_t end = size0 + table_size(d, 1);
	size_t pos = d->rehash_idx < 0 ? 0 : (size_t)d->rehash_idx;
	size_t units = budget < SIZE_MAX / DICT_CLEAR_UNIT
			       ? budget * DICT_CLEAR_UNIT
			       : SIZE_MAX;

	AP_ASSERT(d->pause == 0);
	while (ap_dict_size(d) > 0 && pos < end && units > 0) {
		int t = pos < size0 ? 0 : 1;
		struct ap_dict_node **b = &d->table[t][pos - (t ? size0 : 0)];

		if (*b == NULL) {
			units--;
			pos++;
			continue;
		}
		while (*b != NULL && units > 0) {
			struct ap_dict_node *n = *b;

			*b = n->next;
			d->used[t]--;
			if (fn != NULL)
				fn(arg, n);
			units = units > DICT_CLEAR_UNIT
					? units - DICT_CLEAR_UNIT
					: 0;
		}
		if (*b == NULL)
			pos++;
	}
	if (ap_dict_size(d) == 0) {
		release_tables(d);
		return true;
	}
	d->rehash_idx = (int64_t)pos;
	return false;
}

void ap_dict_destroy(struct ap_dict *d, ap_dict_free_fn *fn, void *arg)
{
	ap_dict_clear(d, fn, arg);
	ap_free(d);
}

/* --- size and memory ------------------------------------------------- */

size_t ap_dict_buckets(const struct ap_dict *d)
{
	return table_size(d, 0) + table_size(d, 1);
}

size_t ap_dict_mem(const struct ap_dict *d)
{
	size_t bytes = 0;

	for (int t = 0; t < 2; t++)
		if (d->table[t] != NULL)
			bytes += ap_alloc_size(d->table[t]);
	return bytes;
}

/* --- rehashing ------------------------------------------------------- */

static void shrink_if_needed(struct ap_dict *d);

/*
 * Ends a resize whose old table is empty: the new table becomes table[0].
 */
static void rehash_finish(struct ap_dict *d)
{
	AP_ASSERT(d->used[0] == 0 && d->table[1] != NULL);
	ap_free(d->table[0]);
	d->table[0] = d->table[1];
	d->exp[0] = d->exp[1];
	d->used[0] = d->used[1];
	d->table[1] = NULL;
	d->exp[1] = -1;
	d->used[1] = 0;
	d->rehash_idx = -1;
}

/* Moves every node of old bucket idx to the new table. */
static void move_bucket(struct ap_dict *d, size_t idx)
{
	struct ap_dict_node *n = d->table[0][idx];

	while (n != NULL) {
		struct ap_dict_node *next = n->next;
		size_t b = bucket_of(d, 1, node_hash(d, n));

		n->next = d->table[1][b];
		d->table[1][b] = n;
		d->used[0]--;
		d->used[1]++;
		n = next;
	}
	d->table[0][idx] = NULL;
}

bool ap_dict_rehash_step(struct ap_dict *d, size_t buckets)
{
	size_t empty = buckets * DICT_EMPTY_VISITS;
	size_t size0;

	if (!ap_dict_is_rehashing(d) || d->pause > 0)
		return ap_dict_is_rehashing(d);
	size0 = table_size(d, 0);
	while (buckets > 0 && d->used[0] > 0) {
		size_t idx = (size_t)d->rehash_idx;

		AP_ASSERT(idx < size0);
		if (d->table[0][idx] == NULL) {
			d->rehash_idx++;
			if (--empty == 0)
				break;
			continue;
		}
		move_bucket(d, idx);
		d->rehash_idx++;
		buckets--;
	}
	if (d->used[0] == 0) {
		bool shrank = d->exp[1] < d->exp[0];

		rehash_finish(d);
		/* Removals during a shrink may call for another. */
		if (shrank)
			shrink_if_needed(d);
	}
	return ap_dict_is_rehashing(d);
}

/*
 * Resizes to 2^e buckets: allocates the first array directly, otherwise
 * allocates the new array and starts an incremental rehash. Only when idle
 * and the size changes.
 */
static void resize_start(struct ap_dict *d, int8_t e)
{
	AP_ASSERT(!ap_dict_is_rehashing(d));
	if (d->table[0] == NULL) {
		d->table[0] = table_alloc(e);
		d->exp[0] = e;
		return;
	}
	if (e == d->exp[0])
		return;
	d->table[1] = table_alloc(e);
	d->exp[1] = e;
	d->rehash_idx = 0;
}

/* Grows before an insert when the load would reach past 1. */
static void grow_if_needed(struct ap_dict *d)
{
	if (ap_dict_is_rehashing(d))
		return;
	if (d->table[0] == NULL)
		resize_start(d, DICT_EXP_MIN);
	else if (d->used[0] >= table_size(d, 0))
		resize_start(d, exp_for(2 * d->used[0]));
}

/* Shrinks after a removal when the load fell below 1/DICT_SHRINK_RATIO. */
static void shrink_if_needed(struct ap_dict *d)
{
	size_t size;

	if (ap_dict_is_rehashing(d))
		return;
	size = table_size(d, 0);
	if (size > ((size_t)1 << DICT_EXP_MIN) &&
	    d->used[0] * DICT_SHRINK_RATIO < size)
		resize_start(d, exp_for(2 * d->used[0]));
}

void ap_dict_reserve(struct ap_dict *d, size_t count)
{
	if (ap_dict_is_rehashing(d))
		return;
	if (table_size(d, 0) < count)
		resize_start(d, exp_for(count));
}

/* --- lookup and update ----------------------------------------------- */

/*
 * The link (bucket slot or predecessor's next field) that points at the
 * node with key key[0..len) and hash h, or NULL if absent; *tbl is set to
 * its table.
 */
static struct ap_dict_node **find_link(struct ap_dict *d, const char *key,
				       size_t len, uint64_t h, int *tbl)
{
	for (int t = 0; t < 2; t++) {
		struct ap_dict_node **link;

		if (d->table[t] == NULL)
			continue;
		link = &d->table[t][bucket_of(d, t, h)];
		while (*link != NULL) {
			if (node_key_eq(d, *link, key, len)) {
				*tbl = t;
				return link;
			}
			link = &(*link)->next;
		}
	}
	return NULL;
}

/* The link that points at node (which has hash h), or NULL. */
static struct ap_dict_node **find_node_link(struct ap_dict *d,
					    const struct ap_dict_node *node,
					    uint64_t h, int *tbl)
{
	for (int t = 0; t < 2; t++) {
		struct ap_dict_node **link;

		if (d->table[t] == NULL)
			continue;
		link = &d->table[t][bucket_of(d, t, h)];
		while (*link != NULL) {
			if (*link == node) {
				*tbl = t;
				return link;
			}
			link = &(*link)->next;
		}
	}
	return NULL;
}

struct ap_dict_node *ap_dict_find_hashed(struct ap_dict *d, const char *key,
					 size_t len, uint64_t hash)
{
	struct ap_dict_node **link;
	int t;

	if (ap_dict_size(d) == 0)
		return NULL;
	(void)ap_dict_rehash_step(d, AP_DICT_REHASH_BUCKETS);
	link = find_link(d, key, len, hash, &t);
	return link == NULL ? NULL : *link;
}

struct ap_dict_node *ap_dict_find(struct ap_dict *d, const char *key,
				  size_t len)
{
	if (ap_dict_size(d) == 0)
		return NULL;
	return ap_dict_find_hashed(d, key, len, ap_dict_hash(key, len));
}

void ap_dict_insert_hashed(struct ap_dict *d, struct ap_dict_node *node,
			   uint64_t hash)
{
	int t;
	size_t b;

	grow_if_needed(d);
	(void)ap_dict_rehash_step(d, AP_DICT_REHASH_BUCKETS);
	t = ap_dict_is_rehashing(d) ? 1 : 0;
	b = bucket_of(d, t, hash);
	node->next = d->table[t][b];
	d->table[t][b] = node;
	d->used[t]++;
}

void ap_dict_insert(struct ap_dict *d, struct ap_dict_node *node)
{
	ap_dict_insert_hashed(d, node, node_hash(d, node));
}

struct ap_dict_node *ap_dict_insert_or_find(struct ap_dict *d,
					    struct ap_dict_node *node)
{
	size_t len;
	const char *key = d->type->key(node, &len);
	uint64_t h = ap_dict_hash(key, len);
	struct ap_dict_node *old = ap_dict_find_hashed(d, key, len, h);

	if (old != NULL)
		return old;
	ap_dict_insert_hashed(d, node, h);
	return NULL;
}

/* Unlinks the node *link points at from table t. */
static struct ap_dict_node *unlink_at(struct ap_dict *d,
				      struct ap_dict_node **link, int t)
{
	struct ap_dict_node *n = *link;

	*link = n->next;
	n->next = NULL;
	AP_ASSERT(d->used[t] > 0);
	d->used[t]--;
	return n;
}

struct ap_dict_node *ap_dict_remove(struct ap_dict *d, const char *key,
				    size_t len)
{
	struct ap_dict_node **link;
	struct ap_dict_node *n;
	int t;

	if (ap_dict_size(d) == 0)
		return NULL;
	(void)ap_dict_rehash_step(d, AP_DICT_REHASH_BUCKETS);
	link = find_link(d, key, len, ap_dict_hash(key, len), &t);
	if (link == NULL)
		return NULL;
	n = unlink_at(d, link, t);
	shrink_if_needed(d);
	return n;
}

void ap_dict_remove_node(struct ap_dict *d, struct ap_dict_node *node)
{
	struct ap_dict_node **link;
	int t;

	(void)ap_dict_rehash_step(d, AP_DICT_REHASH_BUCKETS);
	link = find_node_link(d, node, node_hash(d, node), &t);
	AP_ASSERT(link != NULL);
	(void)unlink_at(d, link, t);
	shrink_if_needed(d);
}

void ap_dict_replace_node(struct ap_dict *d, struct ap_dict_node *old_node,
			  struct ap_dict_node *new_node)
{
	struct ap_dict_node **link;
	int t;

	link = find_node_link(d, old_node, node_hash(d, new_node), &t);
	AP_ASSERT(link != NULL);
	new_node->next = old_node->next;
	*link = new_node;
	old_node->next = NULL;
}

/* --- iteration ------------------------------------------------------- */

void ap_dict_iter_init(struct ap_dict_iter *it, struct ap_dict *d)
{
	AP_ASSERT(d->pause < UINT16_MAX);
	d->pause++;
	it->d = d;
	it->next = NULL;
	it->idx = 0;
	it->tbl = 0;
	it->started = false;
}

/*
 * Finds the first node at or after bucket it->idx of table it->tbl,
 * moving on to table 1 (if any) after table 0; leaves it->idx on that
 * node's bucket. NULL at the end.
 */
static struct ap_dict_node *iter_seek(struct ap_dict_iter *it)
{
	struct ap_dict *d = it->d;

	for (; it->tbl < 2; it->tbl++, it->idx = 0) {
		size_t size = table_size(d, it->tbl);

		for (; it->idx < size; it->idx++)
			if (d->table[it->tbl][it->idx] != NULL)
				return d->table[it->tbl][it->idx];
	}
	return NULL;
}

struct ap_dict_node *ap_dict_iter_next(struct ap_dict_iter *it)
{
	struct ap_dict_node *n;

	if (!it->started) {
		it->started = true;
		it->next = iter_seek(it);
	}
	n = it->next;
	if (n == NULL)
		return NULL;
	if (n->next != NULL) {
		it->next = n->next;
	} else {
		it->idx++;
		it->next = iter_seek(it);
	}
	return n;
}

void ap_dict_iter_deinit(struct ap_dict_iter *it)
{
	AP_ASSERT(it->d->pause > 0);
	it->d->pause--;
	it->d = NULL;
}

/* --- scan ------------------------------------------------------------ */

/* Bit-reverses a 64-bit cursor. */
static uint64_t rev64(uint64_t v)
{
	v = ((v >> 1) & 0x5555555555555555ULL) |
	    ((v & 0x5555555555555555ULL) << 1);
	v = ((v >> 2) & 0x3333333333333333ULL) |
	    ((v & 0x3333333333333333ULL) << 2);
	v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) |
	    ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
	return __builtin_bswap64(v);
}

/* Increments the cursor's bits under mask from the top bit down. */
static uint64_t cursor_next(uint64_t v, uint64_t mask)
{
	v |= ~mask;
	v = rev64(v);
	v++;
	return rev64(v);
}

/* Calls fn for each node of bucket b of table t. */
static void scan_bucket(const struct ap_dict *d, int t, size_t b,
			ap_dict_scan_fn *fn, void *arg)
{
	const struct ap_dict_node *n = d->table[t][b];

	while (n != NULL) {
		const struct ap_dict_node *next = n->next;

		fn(arg, n);
		n = next;
	}
}

uint64_t ap_dict_scan(struct ap_dict *d, uint64_t cursor, ap_dict_scan_fn *fn,
		      void *arg)
{
	uint64_t m0, m1;
	int small, large;

	if (ap_dict_size(d) == 0)
		return 0;
	d->pause++;
	if (!ap_dict_is_rehashing(d)) {
		m0 = table_size(d, 0) - 1;
		scan_bucket(d, 0, (size_t)(cursor & m0), fn, arg);
		cursor = cursor_next(cursor, m0);
	} else {
		small = d->exp[0] <= d->exp[1] ? 0 : 1;
		large = 1 - small;
		m0 = table_size(d, small) - 1;
		m1 = table_size(d, large) - 1;
		scan_bucket(d, small, (size_t)(cursor & m0), fn, arg);
		do {
			scan_bucket(d, large, (size_t)(cursor & m1), fn, arg);
			cursor = cursor_next(cursor, m1);
		} while (cursor & (m0 ^ m1));
	}
	d->pause--;
	return cursor;
}

/* --- random elements ------------------------------------------------- */

/* splitmix64's finalizer. */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

uint64_t ap_dict_rng_seed(void)
{
	return mix64(ap_cycles() ^ (ap_time_ns() << 17) ^ dict_seed);
}

uint64_t ap_dict_rand(uint64_t *state)
{
	*state += 0x9E3779B97F4A7C15ULL;
	return mix64(*state);
}

/* A uniform integer in [0, n), n > 0 (multiply-shift range reduction). */
static size_t rand_below(uint64_t *state, size_t n)
{
	return (size_t)(((unsigned __int128)ap_dict_rand(state) * n) >> 64);
}

struct ap_dict_node *ap_dict_random(struct ap_dict *d, uint64_t *rng)
{
	size_t size0 = table_size(d, 0);
	size_t total = size0 + table_size(d, 1);

	if (ap_dict_size(d) == 0)
		return NULL;
	for (;;) {
		size_t pos = rand_below(rng, total);
		int t = pos < size0 ? 0 : 1;
		struct ap_dict_node *n = d->table[t][pos - (t ? size0 : 0)];
		size_t len = 0, slot;

		for (const struct ap_dict_node *p = n; p != NULL; p = p->next)
			len++;
		if (len == 0)
			continue;
		slot = rand_below(rng, AP_MAX(len, (size_t)DICT_RANDOM_SLOTS));
		if (slot >= len)
			continue;
		while (slot-- > 0)
			n = n->next;
		return n;
	}
}
