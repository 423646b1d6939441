/*
 * keyspace_free.c - the keyspace's lazy free (core/keyspace.h
 * ap_keyspace_set_lazyfree): deleted, overwritten or expired collections
 * of more than AP_LAZYFREE_THRESHOLD elements and the tables of flushed
 * databases wait in a FIFO queue on the keyspace and are freed by
 * ap_keyspace_lazy_step, a budget of elements at a time, so no call frees
 * O(n) in one go.
 *
 * core/keyspace.c decides what is big (ap_ks_entry_dispose) and queues
 * here with ap_ks_lazy_push_obj and ap_ks_lazy_push_table; the snapshot
 * engine (core/keyspace_snap.c) hands over a graveyard it drops with
 * ap_ks_lazy_push. Items and the keyspace's queue fields are laid out in
 * the private core/keyspace_int.h. Values are freed through their type's
 * free_some; a flushed table's entries through ap_ks_entry_dispose, so
 * their own big values queue behind.
 */
#include "core/keyspace_int.h"

/* Appends it to ks's lazy-free queue, which owns it from now on. */
void ap_ks_lazy_push(struct ap_keyspace *ks, struct lazy_item *it)
{
	it->next = NULL;
	if (ks->lazy_tail)
		ks->lazy_tail->next = it;
	else
		ks->lazy_head = it;
	ks->lazy_tail = it;
	ks->lazy_count++;
}

/* Queues the collection obj (type, enc) for lazy free: ap_ks_entry_dispose's
 * path for a value of more than AP_LAZYFREE_THRESHOLD elements whose
 * type has free_some. The queue owns obj from now on. */
void ap_ks_lazy_push_obj(struct ap_keyspace *ks, void *obj, enum ap_type type,
			 enum ap_enc enc)
{
	struct lazy_item *it = ap_calloc(1, sizeof(*it));
	it->obj = obj;
	it->type = type;
	it->enc = enc;
	ap_ks_lazy_push(ks, it);
}

/* Queues a flushed table for lazy free: its bucket array (bucket_count
 * buckets) and every entry chained there, owned by the queue from now
 * on. ap_db_flush's path when lazy free is on. */
void ap_ks_lazy_push_table(struct ap_keyspace *ks, struct ap_entry **buckets,
			   size_t bucket_count)
{
	struct lazy_item *it = ap_calloc(1, sizeof(*it));
	it->buckets = buckets;
	it->bucket_count = bucket_count;
	ap_ks_lazy_push(ks, it);
}

/* Turns lazy free of big values and flushed tables on or off; what is
 * already queued stays queued. */
void ap_keyspace_set_lazyfree(struct ap_keyspace *ks, bool on)
{
	ks->lazy_on = on;
}

/* True while anything is queued for lazy free. */
bool ap_keyspace_lazy_pending(const struct ap_keyspace *ks)
{
	return ks->lazy_head != NULL;
}

/* Items (values or tables) queued. */
size_t ap_keyspace_lazy_count(const struct ap_keyspace *ks)
{
	return ks->lazy_count;
}

/* Works on the first lazy item within budget; true when it is gone. */
static bool lazy_item_step(struct ap_keyspace *ks, struct lazy_item *it,
			   size_t *budget)
{
	if (it->buckets == NULL) {
		const struct ap_type_ops *ops = ap_ks_type_ops(it->type);
		size_t step = *budget;
		*budget = 0;
		return ops->free_some(it->obj, it->enc, step);
	}
	while (it->pos < it->bucket_count && (*budget) > 0) {
		struct ap_entry *e = it->buckets[it->pos];
		while (e != NULL && *budget > 0) {
			struct ap_entry *next = e->next;
			/* Big values queue behind. */
			ap_ks_entry_dispose(ks, e);
			e = next;
			(*budget)--;
		}
		it->buckets[it->pos] = e;
		if (e == NULL)
			it->pos++;
	}
	if (it->pos < it->bucket_count)
		return false;
	ap_free(it->buckets);
	return true;
}

/*
 * Frees about `budget` elements of the queue, oldest item first: a value
 * through its type's free_some, a flushed table entry by entry (its big
 * values queue behind). Returns true while more is queued.
 */
bool ap_keyspace_lazy_step(struct ap_keyspace *ks, size_t budget)
{
	while (ks->lazy_head != NULL && budget > 0) {
		struct lazy_item *it = ks->lazy_head;
		if (!lazy_item_step(ks, it, &budget))
			break;
		ks->lazy_head = it->next;
		if (ks->lazy_head == NULL)
			ks->lazy_tail = NULL;
		ks->lazy_count--;
		ap_free(it);
	}
	return ks->lazy_head != NULL;
}

/* Frees everything queued at once (keyspace destruction). */
void ap_ks_lazy_drain(struct ap_keyspace *ks)
{
	bool on = ks->lazy_on;
	ks->lazy_on = false;
	while (ap_keyspace_lazy_step(ks, SIZE_MAX))
		;
	ks->lazy_on = on;
}
