/*
 * listpack.h - a listpack: a sequence of small strings and integers packed
 * into one contiguous allocation, walkable both ways.
 *
 * Used for small lists (and each node of a quicklist), small hashes
 * (field, value, field, value, ...), small sets and small sorted sets
 * (member, score, member, score, ...). Everything is O(n) in the listpack's
 * size, which is why callers keep listpacks small (the *-max-listpack-*
 * directives) and convert to a real structure beyond that.
 *
 * Format (all multi-byte integers little endian):
 *
 *   [total bytes: u32][element count: u32][element]...[0xFF end byte]
 *
 *   element = [tag (+ data)][back-length]
 *
 * The tag tells how the element is encoded:
 *
 *   0xxxxxxx                    integer 0..127
 *   10xxxxxx + n bytes          string, length 0..63
 *   110xxxxx + 1 byte           integer, 13-bit signed (high bits in tag)
 *   1110xxxx + 1 byte + n bytes string, length 0..4095 (12 bits)
 *   11110000 + u32 + n bytes    string, 32-bit length
 *   11110001 + 2 bytes          integer, 16-bit signed
 *   11110010 + 3 bytes          integer, 24-bit signed
 *   11110011 + 4 bytes          integer, 32-bit signed
 *   11110100 + 8 bytes          integer, 64-bit signed
 *   11111111                    end of listpack (not an element)
 *
 * A string that is the canonical decimal form of a 64-bit signed integer
 * ("0", "-12", not "012", "+1", " 1" or "-0") is always stored as an
 * integer, in the fewest bytes that hold it; reading it back as a string
 * gives the same bytes. So two elements are equal as strings exactly when
 * their encodings are equal.
 *
 * The back-length is the byte length of tag + data (1..), written in 7-bit
 * groups from its last byte backwards: the last byte of an element holds
 * the low 7 bits, and a set high bit means "one more group to the left".
 * From the first byte of the next element (or the end byte) one can so
 * step back to the start of the previous element.
 *
 * Positions: a position is a pointer to the first byte of an element
 * inside the listpack. NULL means "no element" (past either end). Any
 * mutation may move the listpack (it reallocates): every function that
 * mutates returns the listpack's new address and invalidates every
 * position the caller held, except the ones it updates through pointers.
 *
 * Limits: the total size never exceeds AP_LISTPACK_BYTES_MAX
 * (core/limits.h). Mutations assert this as an invariant; callers that act
 * on client input check first with ap_lp_can_add() (which also covers a
 * replace)
 * and use another encoding when they say no.
 *
 * Ownership: a listpack is one ap_malloc block owned by whoever holds the
 * pointer; ap_lp_free releases it. Strings passed in are copied. Strings
 * read out (struct ap_lp_entry, ap_lp_get_str) point into the listpack or
 * into the caller's buffer and stay valid until the next mutation.
 *
 * Threading: none. A listpack belongs to the shard that allocated it.
 * Bytes from outside (RESTORE, snapshots) must pass ap_lp_validate before
 * any other function touches them.
 */
#ifndef AP_CORE_LISTPACK_H
#define AP_CORE_LISTPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

/* Bytes of the header (total bytes + count) and of the end byte. */
#define AP_LP_HDR_SIZE 8
#define AP_LP_END      0xFF
/* A buffer that holds any integer element formatted in decimal. */
#define AP_LP_INTBUF_SIZE 21

/* Where ap_lp_insert puts the new element relative to the position. */
enum ap_lp_where {
	AP_LP_BEFORE = 0,
	AP_LP_AFTER = 1,
};

/* One element as read: either a string (str != NULL, len bytes) or an
 * integer (str == NULL, value in ll). */
struct ap_lp_entry {
	const char *str;
	size_t len;
	int64_t ll;
};

/* Creates an empty listpack with room for capacity bytes of elements
 * before its first reallocation (0 is fine). The caller owns the result
 * and releases it with ap_lp_free. Never returns NULL. */
unsigned char *ap_lp_create(size_t capacity);

/* Releases a listpack (NULL is allowed). Every position into it is void. */
void ap_lp_free(unsigned char *lp);

/* Returns an independent copy of lp, owned by the caller. */
unsigned char *ap_lp_dup(const unsigned char *lp);

/* Total bytes the listpack uses (header, elements, end byte). */
size_t ap_lp_bytes(const unsigned char *lp);

/* Bytes of memory its allocation takes (for MEMORY USAGE and INFO). */
size_t ap_lp_alloc_size(const unsigned char *lp);

/* Number of elements. O(1). */
uint32_t ap_lp_count(const unsigned char *lp);

/* Releases slack capacity left by earlier growth; returns the listpack's
 * new address (positions are void). */
unsigned char *ap_lp_shrink(unsigned char *lp);

/* --- Walking --------------------------------------------------------- */

/* Position of the first / last element, or NULL when lp is empty. */
unsigned char *ap_lp_first(const unsigned char *lp);
unsigned char *ap_lp_last(const unsigned char *lp);

/* Position of the element after / before p, or NULL past the end / before
 * the start. p must be a valid position in lp. */
unsigned char *ap_lp_next(const unsigned char *lp, const unsigned char *p);
unsigned char *ap_lp_prev(const unsigned char *lp, const unsigned char *p);

/* Position of the element at index (0 = first; negative counts from the
 * end, -1 = last), or NULL when out of range. Walks from the nearer end. */
unsigned char *ap_lp_seek(const unsigned char *lp, long long index);

/* --- Reading --------------------------------------------------------- */

/* Reads the element at p into *e (see struct ap_lp_entry). */
void ap_lp_get(const unsigned char *p, struct ap_lp_entry *e);

/* Returns the element at p as a string of *len bytes: a pointer into the
 * listpack for strings, or into buf (which the integer is formatted into)
 * for integers. */
const char *ap_lp_get_str(const unsigned char *p, size_t *len,
			  char buf[AP_LP_INTBUF_SIZE]);

/* True when the element at p is an integer, with its value in *out.
 * (Strings are never canonical integers, see the format above.) */
bool ap_lp_get_int(const unsigned char *p, int64_t *out);

/* True when the element at p equals the len bytes at s as a string. */
bool ap_lp_eq(const unsigned char *p, const char *s, size_t len);

/* Searches from position p (inclusive) towards the end for an element
 * equal to s; after each element compared, skips `skip` elements (0 to
 * look at every element, 1 for the keys of key/value pairs). Returns the
 * position found or NULL. s is classified (integer or not) once, so the
 * search costs one compare per candidate. p may be NULL (returns NULL). */
unsigned char *ap_lp_find(const unsigned char *lp, const unsigned char *p,
			  const char *s, size_t len, uint32_t skip);

/* Bytes an element holding s (len bytes) takes, back-length included. */
size_t ap_lp_entry_size(const char *s, size_t len);

/* True when adding one element holding len bytes keeps the listpack
 * within AP_LISTPACK_BYTES_MAX. (Uses the worst case for len.) */
bool ap_lp_can_add(const unsigned char *lp, size_t len);

/* --- Mutating (each returns the listpack's new address) -------------- */

/* Appends / prepends the string s of len bytes (stored as an integer when
 * it is one). */
unsigned char *ap_lp_append(unsigned char *lp, const char *s, size_t len);
unsigned char *ap_lp_prepend(unsigned char *lp, const char *s, size_t len);

/* Appends / prepends the integer v. */
unsigned char *ap_lp_append_int(unsigned char *lp, int64_t v);
unsigned char *ap_lp_prepend_int(unsigned char *lp, int64_t v);

/* Appends n strings in one reallocation (HSET f v f v ..., RPUSH k a b c):
 * strs[i] holds lens[i] bytes. */
unsigned char *ap_lp_append_many(unsigned char *lp, const char *const *strs,
				 const size_t *lens, size_t n);

/* Inserts s before or after the element at *p; on return *p is the
 * position of the new element. *p must be a valid position. */
unsigned char *ap_lp_insert(unsigned char *lp, unsigned char **p,
			    enum ap_lp_where where, const char *s, size_t len);

/* Replaces the element at *p with s; on return *p is the position of the
 * replacement. */
unsigned char *ap_lp_replace(unsigned char *lp, unsigned char **p,
			     const char *s, size_t len);
unsigned char *ap_lp_replace_int(unsigned char *lp, unsigned char **p,
				 int64_t v);

/* Deletes the element at *p; on return *p is the position of the element
 * that followed it, or NULL when it was the last. */
unsigned char *ap_lp_delete(unsigned char *lp, unsigned char **p);

/* Deletes up to count elements starting at *p (fewer if the end comes
 * first); on return *p is the position of the element after them, or
 * NULL. */
unsigned char *ap_lp_delete_range_at(unsigned char *lp, unsigned char **p,
				     size_t count);

/* Deletes up to count elements starting at index (negative from the end);
 * an out-of-range index deletes nothing. */
unsigned char *ap_lp_delete_range(unsigned char *lp, long long index,
				  size_t count);

/* Appends every element of src to dst (src is not changed); returns dst's
 * new address. The caller checks the size first (ap_lp_bytes). */
unsigned char *ap_lp_merge(unsigned char *dst, const unsigned char *src);

/* --- Untrusted bytes ------------------------------------------------- */

/* True when the size bytes at buf are a well-formed listpack: header
 * total equal to size and within AP_LISTPACK_BYTES_MAX, every element's
 * encoding inside the buffer, every back-length consistent, the count
 * equal to the elements found, the end byte last, integers stored in
 * their smallest width and no string that is a canonical integer. Reads only
 * inside [buf, buf+size). */
bool ap_lp_validate(const unsigned char *buf, size_t size);

#endif
