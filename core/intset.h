/*
 * intset.h - a set of 64-bit signed integers kept as one sorted array of
 * fixed-width integers: the compact encoding of sets whose members are all
 * integers (OBJECT ENCODING "intset").
 *
 * Layout: one allocation, [width: u32][count: u32][count * width bytes],
 * with every element stored in the same width (2, 4 or 8 bytes, native
 * byte order), the smallest that holds them all. Adding a value that needs
 * a wider width upgrades the whole array in place ("upgrade on insert");
 * the width never shrinks (as Redis: removals do not downgrade).
 *
 * Costs: lookup O(log n) (binary search), add and remove O(n) (memmove and
 * a reallocation to the exact size). The set type keeps intsets at most
 * set-max-intset-entries long (default 512), so n stays small.
 *
 * Ownership: an intset is one ap_malloc block owned by whoever holds the
 * pointer; functions that change the size take `struct ap_intset **` and
 * may move it. Threading: none (one shard).
 */
#ifndef AP_CORE_INTSET_H
#define AP_CORE_INTSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ap_intset {
	uint32_t width; /* bytes per element: 2, 4 or 8 */
	uint32_t count; /* elements */
	int8_t data[];	/* count * width bytes, ascending */
};

/* An empty intset (width 2). The caller owns it; free with ap_intset_free.
 * Never returns NULL. */
struct ap_intset *ap_intset_create(void);

/* Releases an intset (NULL is allowed). */
void ap_intset_free(struct ap_intset *is);

/* An independent copy of is, owned by the caller. */
struct ap_intset *ap_intset_dup(const struct ap_intset *is);

/* Elements in the set. */
static inline uint32_t ap_intset_count(const struct ap_intset *is)
{
	return is->count;
}

/* Bytes of the intset's layout (header and elements). */
size_t ap_intset_bytes(const struct ap_intset *is);

/* Bytes of memory its allocation takes (MEMORY USAGE). */
size_t ap_intset_alloc_size(const struct ap_intset *is);

/* The smallest width (2, 4 or 8) that holds v. */
uint32_t ap_intset_width_for(int64_t v);

/* True if v is in the set. O(log n). */
bool ap_intset_find(const struct ap_intset *is, int64_t v);

/* The element at index idx (0 = smallest); idx < count (asserted). */
int64_t ap_intset_get(const struct ap_intset *is, uint32_t idx);

/* Smallest / largest element; the set must not be empty (asserted). */
int64_t ap_intset_min(const struct ap_intset *is);
int64_t ap_intset_max(const struct ap_intset *is);

/* Adds v, upgrading the width if v needs it. Returns true if v was added,
 * false if it was already present (the set unchanged). May move *isp.
 * The count must stay below UINT32_MAX (asserted: the set type converts
 * long before). */
bool ap_intset_add(struct ap_intset **isp, int64_t v);

/* Removes v. Returns true if it was present. May move *isp. */
bool ap_intset_remove(struct ap_intset **isp, int64_t v);

/* Removes the element at index idx < count (asserted). May move *isp. */
void ap_intset_remove_at(struct ap_intset **isp, uint32_t idx);

/* True when the size bytes at buf are a well-formed intset (RESTORE,
 * snapshots): a width of 2, 4 or 8, a size that matches the count, and
 * strictly ascending elements. Reads only inside [buf, buf+size). */
bool ap_intset_validate(const void *buf, size_t size);

#endif
