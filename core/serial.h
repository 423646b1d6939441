/*
 * serial.h - one byte format for every keyspace value: strings, lists,
 * hashes, sets and sorted sets in every encoding. DUMP/RESTORE use it
 * today; snapshots and the append-only log (persist/) will use it too.
 * docs/serialization.md describes every byte.
 *
 * A serialized value is a type byte, an encoding byte and a body. Compact
 * encodings (listpack, intset) are written as their blob, so a small value
 * costs one copy each way; big collections (quicklist, hashtable,
 * skiplist) are written element by element in counted batches, so that a
 * writer can emit a big value in pieces. Lengths are LEB128 varints.
 *
 * Decoding takes untrusted bytes: every length is checked against the
 * bytes left, nothing is allocated from a count or a hint that the bytes
 * do not back, blobs are validated (ap_lp_validate, ap_intset_validate,
 * then per type: pairs, order, scores, duplicates) before anything else
 * reads them, and a bad input gives -EBADMSG with a reason, never an
 * assertion. A decoded value takes the encoding the limits in force give
 * it (Redis converts on load): a blob beyond them is converted, and a
 * collection written element by element becomes compact when it fits.
 *
 * DUMP payloads frame a value as Redis does: value bytes, a 2-byte format
 * version (little endian) and a CRC-64 (Jones polynomial, reflected, as
 * Redis's crc64) of everything before it, little endian. Our version
 * (AP_SERIAL_DUMP_VERSION) is not one a Redis server writes or accepts, so
 * each refuses the other's payloads cleanly.
 *
 * Ownership: a decoded collection belongs to the caller until it is
 * stored (ap_serial_value_store) or freed (ap_serial_value_free); a
 * decoded string points into the input bytes.
 *
 * Threading: none; encode and decode on the shard that owns the value.
 * ap_serial_crc64 may be called from any thread.
 */
#ifndef AP_CORE_SERIAL_H
#define AP_CORE_SERIAL_H

#include "core/base.h"
#include "core/config.h"
#include "core/hobj.h"
#include "core/keyspace.h"
#include "core/set.h"

/* Version of the value format described in docs/serialization.md. */
#define AP_SERIAL_FORMAT_VERSION 1
/* The 2-byte version field of a DUMP payload: 0xA0 (Apiary) in the high
 * byte, the value format version in the low byte. Redis writes its RDB
 * version there (below 0x100), so neither side accepts the other's. */
#define AP_SERIAL_DUMP_VERSION (0xA000u | AP_SERIAL_FORMAT_VERSION)
/* Bytes a DUMP payload adds after the value: version and CRC-64. */
#define AP_SERIAL_FOOTER_SIZE 10

/* A growable byte buffer that encoders append to. */
struct ap_serial_buf {
	unsigned char *p;
	size_t len; /* bytes written */
	size_t cap; /* bytes allocated */
};

/* Makes b empty; nothing is allocated until the first append. */
void ap_serial_buf_init(struct ap_serial_buf *b);
/* Frees b's bytes; b is empty afterwards. */
void ap_serial_buf_deinit(struct ap_serial_buf *b);
/* Writing into a buffer (the log records of persist/ use them too):
 * room for n more bytes (the caller then adds n to b->len); n bytes; one
 * byte; an unsigned LEB128 varint in its shortest form; a varint length
 * then the bytes. The buffer grows geometrically. */
unsigned char *ap_serial_buf_reserve(struct ap_serial_buf *b, size_t n);
void ap_serial_buf_put(struct ap_serial_buf *b, const void *p, size_t n);
void ap_serial_buf_u8(struct ap_serial_buf *b, uint8_t v);
void ap_serial_buf_varint(struct ap_serial_buf *b, uint64_t v);
void ap_serial_buf_str(struct ap_serial_buf *b, const void *s, size_t len);

/* The encoding limits in force when decoding: a decoded value is given
 * the encoding these allow, as a command building it would. */
struct ap_serial_limits {
	int list_fill; /* list-max-listpack-size */
	struct ap_hobj_limits hash;
	struct ap_set_limits set;
	size_t zset_lp_max;   /* zset-max-listpack-entries */
	size_t zset_lp_value; /* zset-max-listpack-value */
};

/* The limits of a shard's configuration. */
void ap_serial_limits_of(const struct ap_config *cfg,
			 struct ap_serial_limits *out);

/* --- encoding ---------------------------------------------------------- */

/* Appends the serialized value of entry e (not its key, TTL or LRU) to b.
 * O(size of the value). */
void ap_serial_encode_entry(struct ap_serial_buf *b, const struct ap_entry *e);

/* Appends the serialized form of a string value. */
void ap_serial_encode_str(struct ap_serial_buf *b, const char *s, size_t len);
void ap_serial_encode_int(struct ap_serial_buf *b, long long v);

/* Appends the serialized form of a collection object of type `type` in
 * encoding `enc` (a list, set, zset or hash as the keyspace holds it).
 * The object is only read. */
void ap_serial_encode_obj(struct ap_serial_buf *b, enum ap_type type,
			  enum ap_enc enc, const void *obj);

/* --- decoding ---------------------------------------------------------- */

/* A decoded value. Strings: enc AP_ENC_RAW with str/len pointing into
 * the input, or AP_ENC_INT with ll. Collections: obj of encoding enc,
 * owned by the holder of this struct. */
struct ap_serial_value {
	enum ap_type type;
	enum ap_enc enc;
	void *obj;
	const char *str;
	size_t len;
	long long ll;
};

/*
 * Decodes one value from the len bytes at buf into *out, using the
 * encodings lim allows. On success returns 0 and the bytes used in *used
 * (a value may be followed by others: the caller checks what follows).
 * On bad input returns -EBADMSG with a static reason in *why (which may
 * be NULL) and nothing allocated. O(size of the value); a listpack set,
 * hash or sorted set is checked for duplicates in O(n log n).
 */
AP_MUST_CHECK int ap_serial_decode(const void *buf, size_t len,
				   const struct ap_serial_limits *lim,
				   struct ap_serial_value *out, size_t *used,
				   const char **why);

/* Frees a decoded collection that was not stored (strings own nothing). */
void ap_serial_value_free(struct ap_serial_value *v);

/* Stores a decoded value under key in db, replacing any value (and TTL)
 * there, with expiry expire_ms (absolute Unix ms or AP_NO_EXPIRE). The
 * collection passes to the db; v must not be freed afterwards. Returns
 * the new entry. */
struct ap_entry *ap_serial_value_store(struct ap_db *db, const char *key,
				       size_t klen, struct ap_serial_value *v,
				       int64_t expire_ms);

/* --- DUMP payloads ----------------------------------------------------- */

/* CRC-64 with the Jones polynomial (reflected, initial value crc, no final
 * xor), as Redis's crc64: crc64(0, "123456789") == 0xe9c6d914c4b8d9ca.
 * Continue a running checksum by passing the previous result as crc. */
uint64_t ap_serial_crc64(uint64_t crc, const void *p, size_t len);

/* Appends the DUMP payload of entry e to b: value, version, CRC-64. */
void ap_serial_dump(struct ap_serial_buf *b, const struct ap_entry *e);

/* True when the len bytes at p end with our version and a matching
 * CRC-64; *value_len is then the length of the value bytes before the
 * footer. False for anything else (short, Redis's version, bad sum). */
bool ap_serial_dump_check(const void *p, size_t len, size_t *value_len);

#endif
