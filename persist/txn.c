/*
 * txn.c - the all-or-nothing rule of multi-shard transactions on
 * recovery (docs/persistence.md): a transaction is applied only if every
 * shard its TXN records name has its whole part in its log.
 *
 * Each shard's scan notes its parts (txid, participants, whole or cut
 * short) in a struct ap_persist_txn_log. Resolution pools the parts of
 * all shards, sorts them by (txid, shard) and walks each txid's group:
 * the group is consistent when no shard holds the txid twice and all its
 * parts name the same participants; it is complete when the number of
 * whole parts equals the number of participants (each part's own shard is
 * among its participants, checked when it is noted, and the shards of a
 * group are distinct, so that count means every participant is there).
 * Participants are compared by a 64-bit hash of their bitmap, which keeps
 * a part at 24 bytes however many shards there are: two different lists
 * collide with probability 2^-64, and only records that already passed
 * their CRC could make them differ.
 */
#include "persist/persist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* Smallest first allocation of a log's part array. */
#define PARTS_MIN_CAP 16

/* An empty summary of shard's log. */
void ap_persist_txn_log_init(struct ap_persist_txn_log *l, unsigned shard)
{
	AP_ASSERT(shard < AP_SHARDS_MAX);
	l->shard = shard;
	l->parts = NULL;
	l->count = 0;
	l->cap = 0;
}

/* Frees the parts. */
void ap_persist_txn_log_deinit(struct ap_persist_txn_log *l)
{
	ap_free(l->parts);
	l->parts = NULL;
	l->count = 0;
	l->cap = 0;
}

/* The highest shard id of a TXN record's bitmap, which names at least
 * one shard. */
static unsigned mask_max(const struct ap_persist_rec *r)
{
	int w = AP_SHARDS_MAX / 64 - 1;

	while (w > 0 && r->shard_mask[w] == 0)
		w--;
	AP_ASSERT(r->shard_mask[w] != 0);
	return (unsigned)w * 64 + 63 -
	       (unsigned)__builtin_clzll(r->shard_mask[w]);
}

/* Notes a part: present until ap_persist_txn_log_cut says otherwise. */
int ap_persist_txn_log_add(struct ap_persist_txn_log *l,
			   const struct ap_persist_rec *r, const char **why)
{
	struct ap_persist_txn_part *p;

	AP_ASSERT(r->kind == AP_PERSIST_TXN && r->txid != 0);
	if (!ap_persist_rec_has_shard(r, l->shard)) {
		*why = "a transaction part in the log of a shard it does not "
		       "name";
		return -EBADMSG;
	}
	if (l->count == l->cap) {
		l->cap = AP_MAX(l->cap * 2, (size_t)PARTS_MIN_CAP);
		l->parts = ap_realloc(l->parts, l->cap * sizeof(*l->parts));
	}
	p = &l->parts[l->count++];
	p->txid = r->txid;
	p->list_hash = XXH3_64bits(r->shard_mask, sizeof(r->shard_mask));
	p->shard = (uint16_t)l->shard;
	p->nshards = (uint16_t)r->nshards;
	p->shard_max = (uint16_t)mask_max(r);
	p->present = true;
	return 0;
}

/* The last part was cut short by the end of the log. */
void ap_persist_txn_log_cut(struct ap_persist_txn_log *l, uint64_t txid)
{
	AP_ASSERT(l->count > 0 && l->parts[l->count - 1].txid == txid);
	l->parts[l->count - 1].present = false;
}

/* Orders parts by txid, then shard. */
static int part_cmp(const void *a, const void *b)
{
	const struct ap_persist_txn_part *x = a, *y = b;

	if (x->txid != y->txid)
		return x->txid < y->txid ? -1 : 1;
	return (int)x->shard - (int)y->shard;
}

/* Checks one txid's group g[0..n) and says whether it is complete.
 * Returns NULL or why the logs contradict each other. */
static const char *group_check(const struct ap_persist_txn_part *g, size_t n,
			       unsigned nshards, bool *complete)
{
	size_t present = 0;

	for (size_t i = 0; i < n; i++) {
		if (i > 0 && g[i].shard == g[i - 1].shard)
			return "a transaction id appears twice in one "
			       "shard's log";
		if (g[i].list_hash != g[0].list_hash ||
		    g[i].nshards != g[0].nshards)
			return "shards disagree on a transaction's "
			       "participants";
		if (g[i].shard_max >= nshards)
			return "a transaction names a shard beyond the shard "
			       "count";
		present += g[i].present;
	}
	*complete = present == g[0].nshards;
	return NULL;
}

/* Pools every log's parts into one array (owned by the caller). */
static struct ap_persist_txn_part *
pool_parts(const struct ap_persist_txn_log *logs, size_t nlogs, size_t *count)
{
	struct ap_persist_txn_part *all;
	size_t n = 0, at = 0;
	uint64_t seen[AP_SHARDS_MAX / 64] = {0};

	for (size_t i = 0; i < nlogs; i++) {
		unsigned s = logs[i].shard;

		bool overflow;

		AP_ASSERT(s < AP_SHARDS_MAX &&
			  !((seen[s / 64] >> (s % 64)) & 1));
		seen[s / 64] |= 1ull << (s % 64);
		overflow = __builtin_add_overflow(n, logs[i].count, &n);
		AP_ASSERT(!overflow);
	}
	all = ap_malloc(AP_MAX(n, (size_t)1) * sizeof(*all));
	for (size_t i = 0; i < nlogs; i++) {
		if (logs[i].count > 0)
			memcpy(all + at, logs[i].parts,
			       logs[i].count * sizeof(*all));
		at += logs[i].count;
	}
	*count = n;
	return all;
}

/* Sorts the pooled parts and keeps the txids of complete groups. */
int ap_persist_txn_resolve(const struct ap_persist_txn_log *logs, size_t nlogs,
			   unsigned nshards, struct ap_persist_txn_set *out,
			   uint64_t *bad_txid, const char **why)
{
	size_t n;
	struct ap_persist_txn_part *all = pool_parts(logs, nlogs, &n);

	AP_ASSERT(nshards >= 1 && nshards <= AP_SHARDS_MAX);
	qsort(all, n, sizeof(*all), part_cmp);
	out->txids = ap_malloc(AP_MAX(n, (size_t)1) * sizeof(*out->txids));
	out->count = 0;
	for (size_t i = 0, j; i < n; i = j) {
		bool complete;
		const char *bad;

		for (j = i + 1; j < n && all[j].txid == all[i].txid; j++)
			;
		bad = group_check(all + i, j - i, nshards, &complete);
		if (bad != NULL) {
			*bad_txid = all[i].txid;
			*why = bad;
			ap_free(all);
			ap_persist_txn_set_deinit(out);
			return -EBADMSG;
		}
		if (complete)
			out->txids[out->count++] = all[i].txid;
	}
	ap_free(all);
	return 0;
}

/* Binary search in the ascending txids. */
bool ap_persist_txn_set_has(const struct ap_persist_txn_set *s, uint64_t txid)
{
	size_t lo = 0, hi = s->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->txids[mid] == txid)
			return true;
		if (s->txids[mid] < txid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Frees the txids. */
void ap_persist_txn_set_deinit(struct ap_persist_txn_set *s)
{
	ap_free(s->txids);
	s->txids = NULL;
	s->count = 0;
}
