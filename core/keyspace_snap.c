/*
 * keyspace_snap.c - the keyspace's forkless snapshot engine
 * (core/keyspace.h "snapshots", docs/persistence.md "Snapshots without
 * fork"): the EF_SNAP epoch bit, the walk over every database's tables,
 * preserve, abort, and the graveyard of tables flushed while a snapshot
 * still owed their entries.
 *
 * It works on core/keyspace.c's tables through the private
 * core/keyspace_int.h. keyspace.c reaches it through snap_keep and
 * snap_stamp (inline, in that header) on every change, replacement,
 * unlink or link of an entry, through ap_ks_snap_flush_to_grave in
 * ap_db_flush, and from its cron and destroy; this file frees what it
 * takes from the graveyard with keyspace.c's ap_ks_entry_dispose and
 * hands a dropped graveyard to lazy free (core/keyspace_free.c).
 *
 * Forkless snapshots. Every entry carries an epoch bit (EF_SNAP); the
 * keyspace has a current epoch, flipped by snap_begin, so that at begin
 * every linked entry is "old" and each table counts its old entries
 * (snap_pending). An old entry is emitted exactly once, then stamped
 * current: by the walk, or by snap_keep just before anything changes,
 * replaces, unlinks or frees it. Entries linked later are stamped current
 * and never emitted. A table is done when it owes nothing (pending 0).
 *
 * The walk uses SCAN's reverse-binary cursor per table. A cursor stands
 * for a threshold in bit-reversed hash order; one step covers the hashes
 * of one bucket of the larger table, whose bucket in the smaller table
 * (while rehashing) covers them too, so a step looks at both. Nothing
 * changes while a step call runs (emit must not touch the keyspace), so
 * the smaller table's bucket is looked at once per call and per bucket;
 * between calls tables may grow, shrink and rehash freely: an old entry
 * keeps its hash, so it sits below the threshold only if a step has
 * already emitted it. Entries seen twice are skipped by their bit. A
 * cursor that wraps with entries still owed would be a bug (asserted).
 *
 * FLUSH of a table still owed moves its buckets to the graveyard, which
 * the walk empties first (emitting old entries, freeing everything);
 * SWAPDB swaps whole tables with their walk state and origin index, so
 * both stay O(1). An abort stops emitting at once; old entries are then
 * settled silently (by snap_step or the keyspace cron) before the next
 * begin, since one bit cannot tell two snapshots apart.
 */
#include "core/keyspace_int.h"

#include <string.h>

/* Snapshot walk: buckets and entries looked at per entry of budget. */
#define SNAP_VISITS_PER_EMIT 16
/* Entries settled per batch when active expiry's tick finishes an
 * aborted snapshot (between time checks). */
#define SNAP_CRON_BATCH 1024

/* --------------------------------------------------------------- epochs */

/* Emits e (old epoch) as part of database `origin` while the snapshot
 * is active (nothing while finishing an abort) and stamps it current. */
static void snap_emit_one(struct ap_keyspace *ks, unsigned origin,
			  struct ap_entry *e)
{
	AP_ASSERT(snap_old(ks, e));
	if (ks->snap_state == SNAP_ACTIVE) {
		ks->snap_emit(ks->snap_arg, origin, e);
		ks->snap_emitted++;
	}
	snap_stamp(ks, e);
}

/* Emits the linked old-epoch entry e of db and counts it done. */
static void snap_take(struct ap_db *db, struct ap_entry *e)
{
	AP_ASSERT(db->snap_pending > 0);
	snap_emit_one(db->ks, db->snap_origin, e);
	db->snap_pending--;
}

/* snap_keep's slow path (core/keyspace_int.h): a snapshot (or its abort)
 * is under way. */
void ap_ks_snap_keep_slow(struct ap_db *db, struct ap_entry *e)
{
	if (snap_old(db->ks, e))
		snap_take(db, e);
}

/*
 * ap_db_flush's snapshot path: db's table is still owed entries. While
 * the snapshot is active its tables become graveyard items, walked (old
 * entries emitted) and freed by snap_step, and true is returned: the
 * flush is done, O(1). While finishing an abort nothing is owed: false,
 * the ordinary flush goes on. Either way the table owes nothing now.
 */
bool ap_ks_snap_flush_to_grave(struct ap_db *db)
{
	struct ap_keyspace *ks = db->ks;

	db->snap_pending = 0;
	if (ks->snap_state != SNAP_ACTIVE)
		return false;
	for (int t = 0; t < 2; t++) {
		struct table *ht = &db->ht[t];
		if (ht->b == NULL)
			continue;
		struct lazy_item *it = ap_calloc(1, sizeof(*it));
		it->buckets = ht->b;
		it->bucket_count = table_size(ht);
		it->db = db->snap_origin;
		if (ks->grave_tail != NULL)
			ks->grave_tail->next = it;
		else
			ks->grave_head = it;
		ks->grave_tail = it;
		memset(ht, 0, sizeof(*ht));
	}
	db->rehash_idx = -1;
	ap_ks_vol_free(&db->vol);
	return true;
}

/* ----------------------------------------------- walk, begin, step, end */

/* Work left in one snap_step call: entries to emit (or settle) and
 * buckets and entries to look at. */
struct snap_work {
	size_t emit_left;
	size_t visit_left;
};

/* Emits the old entries of one chain of db within w; false when the emit
 * budget ran out before the chain's end (the chain is then revisited). */
static bool snap_chain(struct ap_db *db, struct ap_entry *e,
		       struct snap_work *w)
{
	if (w->visit_left > 0)
		w->visit_left--;
	for (; e != NULL && db->snap_pending > 0; e = e->next) {
		if (w->visit_left > 0)
			w->visit_left--;
		if (!snap_old(db->ks, e))
			continue;
		if (w->emit_left == 0)
			return false;
		w->emit_left--;
		snap_take(db, e);
	}
	return true;
}

/* The two tables of a rehashing db ordered by size. */
static void snap_tables(struct ap_db *db, const struct table **small,
			const struct table **large)
{
	*small = &db->ht[0];
	*large = &db->ht[1];
	if ((*small)->mask > (*large)->mask) {
		const struct table *t = *small;
		*small = *large;
		*large = t;
	}
}

/*
 * Walks db's table from its cursor within w, looking at whole buckets
 * (an emit budget that runs out mid-chain leaves the cursor there).
 * Returns true when the table owes nothing more.
 */
static bool snap_walk_db(struct ap_db *db, struct snap_work *w)
{
	uint64_t v = db->snap_cursor;
	uint64_t small_seen = UINT64_MAX; /* small bucket looked at already */

	while (db->snap_pending > 0 && w->emit_left > 0 && w->visit_left > 0) {
		const struct table *t = &db->ht[0], *small = NULL;
		AP_ASSERT(t->b != NULL);
		if (db_rehashing(db)) {
			snap_tables(db, &small, &t);
			uint64_t sb = v & small->mask;
			if (sb != small_seen) {
				if (!snap_chain(db, small->b[sb], w))
					break;
				small_seen = sb;
			}
		}
		if (!snap_chain(db, t->b[v & t->mask], w))
			break;
		v = cursor_next(v, t->mask);
		AP_ASSERT(v != 0 || db->snap_pending == 0);
	}
	db->snap_cursor = v;
	return db->snap_pending == 0;
}

/* Emits the old entries of the first graveyard item and frees every
 * entry and, at the end, the item's buckets, within w. True when done. */
static bool snap_grave_step(struct ap_keyspace *ks, struct lazy_item *it,
			    struct snap_work *w)
{
	while (it->pos < it->bucket_count) {
		if (w->visit_left == 0 || w->emit_left == 0)
			return false;
		w->visit_left--;
		struct ap_entry *e = it->buckets[it->pos];
		while (e != NULL) {
			if (snap_old(ks, e)) {
				if (w->emit_left == 0)
					break;
				w->emit_left--;
				snap_emit_one(ks, it->db, e);
			}
			struct ap_entry *next = e->next;
			ap_ks_entry_dispose(ks, e);
			if (w->visit_left > 0)
				w->visit_left--;
			e = next;
		}
		it->buckets[it->pos] = e;
		if (e != NULL)
			return false;
		it->pos++;
	}
	ap_free(it->buckets);
	return true;
}

/* Hands the graveyard to the lazy list (abort, destruction): what is
 * left there is freed without being emitted. */
static void snap_grave_drop(struct ap_keyspace *ks)
{
	while (ks->grave_head != NULL) {
		struct lazy_item *it = ks->grave_head;
		ks->grave_head = it->next;
		ap_ks_lazy_push(ks, it);
	}
	ks->grave_tail = NULL;
}

/* Ends the snapshot or its abort: nothing is owed any more. */
static void snap_end(struct ap_keyspace *ks)
{
	AP_ASSERT(ks->grave_head == NULL);
	ks->snap_state = SNAP_IDLE;
	ks->snap_emit = NULL;
	ks->snap_arg = NULL;
}

/*
 * Starts a snapshot: flips the epoch (every linked entry is now owed),
 * resets each table's walk. O(databases). Refused (false) while another
 * snapshot runs or an abort is being settled.
 */
bool ap_keyspace_snap_begin(struct ap_keyspace *ks, ap_snap_emit_fn *emit,
			    void *arg)
{
	AP_ASSERT(emit != NULL);
	if (ks->snap_state != SNAP_IDLE)
		return false;
	AP_ASSERT(ks->grave_head == NULL);
	ks->snap_epoch ^= EF_SNAP;
	for (unsigned i = 0; i < ks->db_count; i++) {
		struct ap_db *db = &ks->dbs[i];
		db->snap_cursor = 0;
		db->snap_pending = ap_db_size(db);
		db->snap_origin = i;
	}
	ks->snap_db_next = 0;
	ks->snap_emit = emit;
	ks->snap_arg = arg;
	ks->snap_emitted = 0;
	ks->snap_state = SNAP_ACTIVE;
	return true;
}

/* True while a snapshot is emitting (begun, neither complete nor
 * aborted). */
bool ap_keyspace_snap_active(const struct ap_keyspace *ks)
{
	return ks->snap_state == SNAP_ACTIVE;
}

/* True while a snapshot is active or its abort is still being settled:
 * ap_keyspace_snap_begin refuses until this is false. */
bool ap_keyspace_snap_busy(const struct ap_keyspace *ks)
{
	return ks->snap_state != SNAP_IDLE;
}

/*
 * One bounded piece of the walk: the graveyard first, then the tables
 * from the first one still owed. Emits (or, after an abort, settles) at
 * most `budget` entries and looks at about budget * SNAP_VISITS_PER_EMIT
 * buckets and entries, whole chains at a time. Returns true when nothing
 * is owed: the snapshot (or its abort) has ended and emit is not called
 * again; also true when no snapshot is under way.
 */
bool ap_keyspace_snap_step(struct ap_keyspace *ks, size_t budget)
{
	struct snap_work w = {.emit_left = budget};

	if (ks->snap_state == SNAP_IDLE)
		return true;
	if (__builtin_mul_overflow(budget, (size_t)SNAP_VISITS_PER_EMIT,
				   &w.visit_left))
		w.visit_left = SIZE_MAX;
	while (ks->grave_head != NULL) {
		struct lazy_item *it = ks->grave_head;
		if (!snap_grave_step(ks, it, &w))
			return false;
		ks->grave_head = it->next;
		if (ks->grave_head == NULL)
			ks->grave_tail = NULL;
		ap_free(it);
	}
	for (; ks->snap_db_next < ks->db_count; ks->snap_db_next++) {
		if (!snap_walk_db(&ks->dbs[ks->snap_db_next], &w))
			return false;
	}
	snap_end(ks);
	return true;
}

/*
 * Emits key's entry now if the snapshot still owes it, so that a command
 * may then change its value in place. A cheap no-op when no snapshot is
 * under way, or when key is absent (expired keys included: they are
 * emitted as they are, the loader drops them).
 */
void ap_db_snap_preserve(struct ap_db *db, const char *key, size_t klen)
{
	if (AP_LIKELY(db->ks->snap_state == SNAP_IDLE))
		return;
	struct ap_entry *e = ap_ks_entry_find(db, key, klen);

	if (e != NULL)
		ap_ks_snap_keep_slow(db, e);
}

/* As ap_db_snap_preserve, for the linked entry e of db. */
void ap_db_snap_preserve_entry(struct ap_db *db, struct ap_entry *e)
{
	AP_ASSERT(e != NULL);
	snap_keep(db, e);
}

/*
 * Abandons the snapshot: emit is not called again. Flushed tables still
 * in the graveyard go to the lazy list; old entries of the tables are
 * settled later (snap_step, ap_keyspace_cron). No-op unless active.
 */
void ap_keyspace_snap_abort(struct ap_keyspace *ks)
{
	if (ks->snap_state != SNAP_ACTIVE)
		return;
	ks->snap_state = SNAP_FINISHING;
	ks->snap_emit = NULL;
	ks->snap_arg = NULL;
	snap_grave_drop(ks);
	(void)ap_keyspace_snap_step(ks, 0);
}

/* Entries emitted by the current (or last) snapshot. */
uint64_t ap_keyspace_snap_emitted(const struct ap_keyspace *ks)
{
	return ks->snap_emitted;
}

/* Settles an aborted snapshot from the cron within the deadline, at least
 * one batch per tick. */
void ap_ks_snap_finish_cycle(struct ap_keyspace *ks, uint64_t deadline_us)
{
	while (!ap_keyspace_snap_step(ks, SNAP_CRON_BATCH) &&
	       ap_time_us() < deadline_us)
		;
}

/* Keyspace destruction with a snapshot under way (or an abort being
 * settled): the graveyard goes to the lazy list, nothing is owed any
 * more, and emit is not called again. */
void ap_ks_snap_discard(struct ap_keyspace *ks)
{
	snap_grave_drop(ks);
	for (unsigned i = 0; i < ks->db_count; i++)
		ks->dbs[i].snap_pending = 0;
	snap_end(ks);
}
