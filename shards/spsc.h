/*
 * spsc.h - a bounded lock-free single-producer single-consumer ring of
 * pointers, one per ordered pair of threads.
 *
 * Free-running 32-bit indices with power-of-two masking; the producer and
 * the consumer each keep a cached copy of the other's index so that most
 * operations touch only their own cache lines; indices live on separate
 * 128-byte lines (x86's adjacent-line prefetcher pairs lines). The
 * producer stages pushes locally and publishes them in one release store
 * (a batch); the consumer pops a batch and releases the slots in one store.
 *
 * Threading: exactly one producer thread calls push/publish, exactly one
 * consumer thread calls pop/empty. Nothing blocks; a full ring makes push
 * return false (callers keep a local spill list).
 */
#ifndef AP_SHARDS_SPSC_H
#define AP_SHARDS_SPSC_H

#include <stdalign.h>
#include <stdatomic.h>

#include "core/base.h"
#include "core/limits.h"

struct ap_spsc {
	/* Consumer's line. */
	alignas(AP_PAD_ALIGN) _Atomic uint32_t head;
	uint32_t tail_cache;
	/* Producer's line. */
	alignas(AP_PAD_ALIGN) _Atomic uint32_t tail;
	uint32_t head_cache;
	uint32_t tail_local; /* staged, not yet published */
	alignas(AP_PAD_ALIGN) void *slots[AP_SPSC_SLOTS];
};

void ap_spsc_init(struct ap_spsc *q);

/* Producer: stages p; false if the ring is full. */
static inline bool ap_spsc_push(struct ap_spsc *q, void *p)
{
	uint32_t t = q->tail_local;
	if (t - q->head_cache >= AP_SPSC_SLOTS) {
		q->head_cache =
			atomic_load_explicit(&q->head, memory_order_acquire);
		if (t - q->head_cache >= AP_SPSC_SLOTS)
			return false;
	}
	q->slots[t & (AP_SPSC_SLOTS - 1)] = p;
	q->tail_local = t + 1;
	return true;
}

/* Producer: makes staged pushes visible. Returns true if any were. The
 * store is sequentially consistent: with the consumer's seq_cst store of
 * its sleeping flag and ap_spsc_empty_sc(), this is the Dekker handshake
 * that guarantees a sleeping consumer is either seen asleep (and woken)
 * or sees the message (one xchg per destination per tick). */
static inline bool ap_spsc_publish(struct ap_spsc *q)
{
	uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
	if (t == q->tail_local)
		return false;
	atomic_store_explicit(&q->tail, q->tail_local, memory_order_seq_cst);
	return true;
}

/* Consumer: pops up to max pointers into out; returns the count. */
static inline size_t ap_spsc_pop(struct ap_spsc *q, void **out, size_t max)
{
	uint32_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
	if (h == q->tail_cache) {
		q->tail_cache =
			atomic_load_explicit(&q->tail, memory_order_acquire);
		if (h == q->tail_cache)
			return 0;
	}
	size_t n = 0;
	while (n < max && h != q->tail_cache) {
		out[n++] = q->slots[h & (AP_SPSC_SLOTS - 1)];
		h++;
		if (h == q->tail_cache && n < max) /* more published since? */
			q->tail_cache = atomic_load_explicit(
				&q->tail, memory_order_acquire);
	}
	atomic_store_explicit(&q->head, h, memory_order_release);
	return n;
}

/* Consumer: true if nothing is published. Sequentially consistent, for
 * the sleep/wake handshake. */
static inline bool ap_spsc_empty_sc(struct ap_spsc *q)
{
	uint32_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
	return h == atomic_load_explicit(&q->tail, memory_order_seq_cst);
}

#endif
