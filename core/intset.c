/*
 * intset.c - the sorted integer array of core/intset.h.
 *
 * Elements are read and written with memcpy at their width, so the data
 * area needs no alignment. Every size change reallocates to the exact
 * size: with mimalloc's size classes most adds stay in place.
 */
#include "core/intset.h"

#include <string.h>

#include "core/base.h"

/* Reads element idx of a data area of the given width. */
static int64_t load(const int8_t *data, uint32_t width, uint32_t idx)
{
	int16_t v16;
	int32_t v32;
	int64_t v64;

	switch (width) {
	case 2:
		memcpy(&v16, data + (size_t)idx * 2, 2);
		return v16;
	case 4:
		memcpy(&v32, data + (size_t)idx * 4, 4);
		return v32;
	default:
		AP_ASSERT(width == 8);
		memcpy(&v64, data + (size_t)idx * 8, 8);
		return v64;
	}
}

/* Writes v (which fits the width) as element idx. */
static void store(int8_t *data, uint32_t width, uint32_t idx, int64_t v)
{
	int16_t v16 = (int16_t)v;
	int32_t v32 = (int32_t)v;

	switch (width) {
	case 2:
		memcpy(data + (size_t)idx * 2, &v16, 2);
		break;
	case 4:
		memcpy(data + (size_t)idx * 4, &v32, 4);
		break;
	default:
		AP_ASSERT(width == 8);
		memcpy(data + (size_t)idx * 8, &v, 8);
		break;
	}
}

/* Bytes of an intset of count elements of the given width. */
static size_t size_for(uint32_t width, uint32_t count)
{
	return sizeof(struct ap_intset) + (size_t)width * count;
}

/* Reallocates *isp for count elements of its width. */
static void resize(struct ap_intset **isp, uint32_t count)
{
	*isp = ap_realloc(*isp, size_for((*isp)->width, count));
}

/*
 * Binary search for v. Returns true and *pos = its index if present, else
 * false and *pos = the index where it would be inserted.
 */
static bool search(const struct ap_intset *is, int64_t v, uint32_t *pos)
{
	uint32_t lo = 0, hi = is->count;

	if (is->count > 0) {
		/* Fast paths for appends and prepends (sequential SADDs). */
		if (v > load(is->data, is->width, is->count - 1)) {
			*pos = is->count;
			return false;
		}
		if (v < load(is->data, is->width, 0)) {
			*pos = 0;
			return false;
		}
	}
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int64_t m = load(is->data, is->width, mid);

		if (m == v) {
			*pos = mid;
			return true;
		}
		if (m < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return false;
}

struct ap_intset *ap_intset_create(void)
{
	struct ap_intset *is = ap_malloc(sizeof(*is));

	is->width = 2;
	is->count = 0;
	return is;
}

void ap_intset_free(struct ap_intset *is)
{
	ap_free(is);
}

struct ap_intset *ap_intset_dup(const struct ap_intset *is)
{
	return ap_memdup(is, ap_intset_bytes(is));
}

size_t ap_intset_bytes(const struct ap_intset *is)
{
	return size_for(is->width, is->count);
}

size_t ap_intset_alloc_size(const struct ap_intset *is)
{
	return ap_alloc_size(is);
}

uint32_t ap_intset_width_for(int64_t v)
{
	if (v >= INT16_MIN && v <= INT16_MAX)
		return 2;
	if (v >= INT32_MIN && v <= INT32_MAX)
		return 4;
	return 8;
}

bool ap_intset_find(const struct ap_intset *is, int64_t v)
{
	uint32_t pos;

	if (ap_intset_width_for(v) > is->width)
		return false;
	return search(is, v, &pos);
}

int64_t ap_intset_get(const struct ap_intset *is, uint32_t idx)
{
	AP_ASSERT(idx < is->count);
	return load(is->data, is->width, idx);
}

int64_t ap_intset_min(const struct ap_intset *is)
{
	return ap_intset_get(is, 0);
}

int64_t ap_intset_max(const struct ap_intset *is)
{
	AP_ASSERT(is->count > 0);
	return ap_intset_get(is, is->count - 1);
}

/*
 * Widens every element to `width` and adds v, which does not fit the old
 * width and so is either smaller or larger than every element: it goes
 * first or last. Elements are rewritten from the end so that the wider
 * copies never overwrite narrower ones not yet read.
 */
static void upgrade_and_add(struct ap_intset **isp, uint32_t width, int64_t v)
{
	struct ap_intset *is = *isp;
	uint32_t old = is->width, n = is->count;
	uint32_t shift = v < 0 ? 1 : 0;

	AP_ASSERT(width > old);
	is = ap_realloc(is, size_for(width, n + 1));
	for (uint32_t i = n; i-- > 0;)
		store(is->data, width, i + shift, load(is->data, old, i));
	is->width = width;
	store(is->data, width, shift ? 0 : n, v);
	is->count = n + 1;
	*isp = is;
}

bool ap_intset_add(struct ap_intset **isp, int64_t v)
{
	struct ap_intset *is = *isp;
	uint32_t width = ap_intset_width_for(v), pos;

	AP_ASSERT(is->count < UINT32_MAX);
	if (width > is->width) {
		upgrade_and_add(isp, width, v);
		return true;
	}
	if (search(is, v, &pos))
		return false;
	resize(isp, is->count + 1);
	is = *isp;
	memmove(is->data + (size_t)(pos + 1) * is->width,
		is->data + (size_t)pos * is->width,
		(size_t)(is->count - pos) * is->width);
	store(is->data, is->width, pos, v);
	is->count++;
	return true;
}

void ap_intset_remove_at(struct ap_intset **isp, uint32_t idx)
{
	struct ap_intset *is = *isp;

	AP_ASSERT(idx < is->count);
	memmove(is->data + (size_t)idx * is->width,
		is->data + (size_t)(idx + 1) * is->width,
		(size_t)(is->count - idx - 1) * is->width);
	is->count--;
	resize(isp, is->count);
}

bool ap_intset_remove(struct ap_intset **isp, int64_t v)
{
	uint32_t pos;

	if (ap_intset_width_for(v) > (*isp)->width)
		return false;
	if (!search(*isp, v, &pos))
		return false;
	ap_intset_remove_at(isp, pos);
	return true;
}

bool ap_intset_validate(const void *buf, size_t size)
{
	struct ap_intset hdr;
	const int8_t *data = (const int8_t *)buf + sizeof(hdr);

	if (size < sizeof(hdr))
		return false;
	memcpy(&hdr, buf, sizeof(hdr));
	if (hdr.width != 2 && hdr.width != 4 && hdr.width != 8)
		return false;
	if ((size - sizeof(hdr)) / hdr.width != hdr.count ||
	    (size - sizeof(hdr)) % hdr.width != 0)
		return false;
	for (uint32_t i = 1; i < hdr.count; i++)
		if (load(data, hdr.width, i - 1) >= load(data, hdr.width, i))
			return false;
	return true;
}
