/*
 * log.c - the record framing of the append-only log (persist.h has the
 * layout): an encoder that appends records to one growable buffer, and an
 * iterator that validates every byte of a log and classifies its end
 * (clean, torn tail, corruption).
 *
 * Encoding writes a record's header as a placeholder, then its payload
 * straight into the buffer (VALUE records let core/serial.c write the
 * value in place), then fills in the length and the CRC32C: one pass over
 * the payload, no copy, no allocation beyond the buffer's geometric
 * growth. A TXN record's count and checksum are filled in when its part
 * closes.
 *
 * Decoding reads a payload through struct rd, which checks every length
 * against the bytes left and keeps the first reason for a failure; the
 * iterator then checks the part structure (a TXN record and its count of
 * records with its txid; txid 0 elsewhere).
 */
#include "persist/persist.h"

#include "persist/persist_int.h"

#include <errno.h>
#include <string.h>

/* Records are written and read little endian. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the log format is little endian; add byte swaps first");

/* Longest LEB128 encoding of a 64-bit value. */
#define VARINT_MAX_LEN 10
/* Smallest first allocation of an encoder's buffer. */
#define ENC_MIN_CAP 256
/* Bytes of a TXN record's count field. */
#define COUNT_SIZE 4
/* Smallest VALUE body: a type byte and an encoding byte. */
#define VALUE_MIN_LEN 2
/* No part open in an encoder. */
#define DETACHED_PART (SIZE_MAX - 1) /* txn_detach: no TXN record yet */
#define NO_PART	      SIZE_MAX

/* The name of a record kind. */
const char *ap_persist_kind_name(unsigned kind)
{
	switch (kind) {
	case AP_PERSIST_CMD:
		return "CMD";
	case AP_PERSIST_VALUE:
		return "VALUE";
	case AP_PERSIST_DEL:
		return "DEL";
	case AP_PERSIST_TXN:
		return "TXN";
	case AP_PERSIST_ZBLOCK:
		return "ZBLOCK";
	default:
		return "?";
	}
}

/* The name of a codec. */
const char *ap_persist_codec_name(unsigned codec)
{
	switch (codec) {
	case AP_PERSIST_CODEC_NONE:
		return "none";
	case AP_PERSIST_CODEC_LZ4:
		return "lz4";
	case AP_PERSIST_CODEC_ZSTD:
		return "zstd";
	default:
		return "?";
	}
}

/* --- encoder: buffer ------------------------------------------------------ */

/* Stores a little-endian u32 at offset pos of b (already written). */
static void buf_u32_at(struct ap_serial_buf *b, size_t pos, uint32_t v)
{
	AP_ASSERT(pos + 4 <= b->len);
	memcpy(b->p + pos, &v, 4);
}

/* Bytes of v as a varint. */
static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* --- encoder: records ----------------------------------------------------- */

/* An empty encoder. */
void ap_persist_enc_init(struct ap_persist_enc *e)
{
	ap_serial_buf_init(&e->b);
	e->part_off = NO_PART;
	e->part_count_pos = 0;
	e->part_txid = 0;
	e->part_count = 0;
}

/* Frees the buffer; a part left open is a bug (a detached part may be
 * dropped unwritten: its transaction never committed). */
void ap_persist_enc_deinit(struct ap_persist_enc *e)
{
	AP_ASSERT(e->part_off == NO_PART || e->part_off == DETACHED_PART);
	ap_serial_buf_deinit(&e->b);
}

/* Empties the buffer, keeping a bounded allocation. */
void ap_persist_enc_clear(struct ap_persist_enc *e)
{
	AP_ASSERT(e->part_off == NO_PART);
	if (e->b.cap > AP_PERSIST_ENC_KEEP_SIZE)
		ap_serial_buf_deinit(&e->b);
	e->b.len = 0;
}

/* Whether a part is open. */
bool ap_persist_enc_in_part(const struct ap_persist_enc *e)
{
	return e->part_off != NO_PART;
}

/* The txid of the next record: the open part's, else 0. */
static uint64_t enc_txid(const struct ap_persist_enc *e)
{
	return e->part_off == NO_PART ? 0 : e->part_txid;
}

/* Opens a record of kind with txid: a placeholder header, then the
 * payload's first fields. Returns the record's offset in the buffer. */
static size_t rec_open(struct ap_persist_enc *e, uint8_t kind, uint64_t txid)
{
	size_t off = e->b.len;

	memset(ap_serial_buf_reserve(&e->b, AP_PERSIST_HEADER_SIZE), 0,
	       AP_PERSIST_HEADER_SIZE);
	e->b.len += AP_PERSIST_HEADER_SIZE;
	ap_serial_buf_u8(&e->b, kind);
	ap_serial_buf_varint(&e->b, txid);
	return off;
}

/* Fills in the header of the record at off (its payload runs to the end
 * of the buffer): length and CRC32C. */
static void rec_seal(struct ap_persist_enc *e, size_t off)
{
	size_t plen = e->b.len - off - AP_PERSIST_HEADER_SIZE;
	const unsigned char *payload = e->b.p + off + AP_PERSIST_HEADER_SIZE;

	AP_ASSERT(plen <= AP_PERSIST_RECORD_LEN_MAX);
	buf_u32_at(&e->b, off, (uint32_t)plen);
	buf_u32_at(&e->b, off + 4, ap_persist_crc32c(0, payload, plen));
}

/* Closes the record at off: seals it and counts it in the open part.
 * Returns -EMSGSIZE and removes the record if its payload is too long. */
static int rec_close(struct ap_persist_enc *e, size_t off)
{
	if (e->b.len - off - AP_PERSIST_HEADER_SIZE >
	    AP_PERSIST_RECORD_LEN_MAX) {
		e->b.len = off;
		return -EMSGSIZE;
	}
	rec_seal(e, off);
	if (e->part_off != NO_PART) {
		AP_ASSERT(e->part_count < UINT32_MAX);
		e->part_count++;
	}
	return 0;
}

/* The payload length of a CMD record, or false if it passes the record
 * ceiling (sizes are summed with overflow checks). */
static bool cmd_payload_len(uint64_t txid, unsigned db, int argc,
			    const struct ap_arg *argv, size_t *out)
{
	size_t n = 1 + varint_len(txid) + varint_len(db) + varint_len(argc);

	for (int i = 0; i < argc; i++) {
		size_t one = varint_len(argv[i].len);

		if (__builtin_add_overflow(one, argv[i].len, &one) ||
		    __builtin_add_overflow(n, one, &n))
			return false;
	}
	*out = n;
	return n <= AP_PERSIST_RECORD_LEN_MAX;
}

/* CMD db argc args: sized first, so a command too big for a record is
 * refused before anything is copied, and the buffer grows at most once. */
int ap_persist_enc_cmd(struct ap_persist_enc *e, unsigned db, int argc,
		       const struct ap_arg *argv)
{
	uint64_t txid = enc_txid(e);
	size_t plen, off;

	AP_ASSERT(db < AP_DATABASES_MAX);
	AP_ASSERT(argc >= 1 && argc <= AP_ARGC_MAX);
	if (!cmd_payload_len(txid, db, argc, argv, &plen))
		return -EMSGSIZE;
	ap_serial_buf_reserve(&e->b, AP_PERSIST_HEADER_SIZE + plen);
	off = rec_open(e, AP_PERSIST_CMD, txid);
	ap_serial_buf_varint(&e->b, db);
	ap_serial_buf_varint(&e->b, (uint64_t)argc);
	for (int i = 0; i < argc; i++)
		ap_serial_buf_str(&e->b, argv[i].p, argv[i].len);
	AP_ASSERT(e->b.len - off == AP_PERSIST_HEADER_SIZE + plen);
	return rec_close(e, off);
}

/* The expiry field: 0 for none, else the absolute ms plus one. */
static uint64_t expire_field(int64_t expire_ms)
{
	if (expire_ms == AP_NO_EXPIRE)
		return 0;
	AP_ASSERT(expire_ms >= 0);
	return (uint64_t)expire_ms + 1;
}

/* The fields every VALUE record opens with, after kind and txid. */
static size_t value_open(struct ap_persist_enc *e, unsigned db, const char *key,
			 size_t klen, int64_t expire_ms)
{
	size_t off;

	AP_ASSERT(db < AP_DATABASES_MAX);
	AP_ASSERT(klen <= (size_t)AP_PROTO_MAX_BULK_LEN_MAX);
	off = rec_open(e, AP_PERSIST_VALUE, enc_txid(e));
	ap_serial_buf_varint(&e->b, db);
	ap_serial_buf_str(&e->b, key, klen);
	ap_serial_buf_varint(&e->b, expire_field(expire_ms));
	return off;
}

/* VALUE of an entry: core/serial.c writes the value in place. */
int ap_persist_enc_entry(struct ap_persist_enc *e, unsigned db,
			 const struct ap_entry *ent)
{
	size_t klen;
	const char *key = ap_entry_key(ent, &klen);
	size_t off = value_open(e, db, key, klen, ap_entry_expire(ent));

	ap_serial_encode_entry(&e->b, ent);
	return rec_close(e, off);
}

/* VALUE from serialized bytes. */
int ap_persist_enc_value(struct ap_persist_enc *e, unsigned db, const char *key,
			 size_t klen, int64_t expire_ms, const void *value,
			 size_t vlen)
{
	size_t off;

	AP_ASSERT(vlen >= VALUE_MIN_LEN);
	if (vlen > AP_PERSIST_RECORD_LEN_MAX)
		return -EMSGSIZE;
	off = value_open(e, db, key, klen, expire_ms);
	ap_serial_buf_put(&e->b, value, vlen);
	return rec_close(e, off);
}

/* DEL db key: a key is at most the bulk ceiling, far below a record's. */
void ap_persist_enc_del(struct ap_persist_enc *e, unsigned db, const char *key,
			size_t klen)
{
	size_t off;
	int rc;

	AP_ASSERT(db < AP_DATABASES_MAX);
	AP_ASSERT(klen <= (size_t)AP_PROTO_MAX_BULK_LEN_MAX);
	off = rec_open(e, AP_PERSIST_DEL, enc_txid(e));
	ap_serial_buf_varint(&e->b, db);
	ap_serial_buf_str(&e->b, key, klen);
	rc = rec_close(e, off);
	AP_ASSERT(rc == 0);
}

/* TXN nshards shards count: the count and the checksum wait for _end. */
void ap_persist_enc_txn_begin(struct ap_persist_enc *e, uint64_t txid,
			      const uint16_t *shards, unsigned nshards)
{
	size_t off;

	AP_ASSERT(e->part_off == NO_PART);
	AP_ASSERT(txid != 0);
	AP_ASSERT(nshards >= 1 && nshards <= AP_SHARDS_MAX);
	off = rec_open(e, AP_PERSIST_TXN, txid);
	ap_serial_buf_varint(&e->b, nshards);
	for (unsigned i = 0; i < nshards; i++) {
		AP_ASSERT(shards[i] < AP_SHARDS_MAX);
		AP_ASSERT(i == 0 || shards[i] > shards[i - 1]);
		ap_serial_buf_varint(&e->b, shards[i]);
	}
	e->part_count_pos = e->b.len;
	memset(ap_serial_buf_reserve(&e->b, COUNT_SIZE), 0, COUNT_SIZE);
	e->b.len += COUNT_SIZE;
	e->part_off = off;
	e->part_txid = txid;
	e->part_count = 0;
}

/* Closes the part: the TXN record gets its count, then its checksum (the
 * records after it were sealed as they were put). */
void ap_persist_enc_txn_end(struct ap_persist_enc *e)
{
	size_t off = e->part_off;
	size_t plen;
	const unsigned char *payload;

	AP_ASSERT(off != NO_PART);
	plen = e->part_count_pos + COUNT_SIZE - off - AP_PERSIST_HEADER_SIZE;
	buf_u32_at(&e->b, e->part_count_pos, e->part_count);
	payload = e->b.p + off + AP_PERSIST_HEADER_SIZE;
	buf_u32_at(&e->b, off, (uint32_t)plen);
	buf_u32_at(&e->b, off + 4, ap_persist_crc32c(0, payload, plen));
	e->part_off = NO_PART;
	e->part_txid = 0;
	e->part_count = 0;
}

/* A detached part: records carry txid and are counted, and the TXN
 * record that opens them is written later, by ap_persist_enc_txn_splice,
 * once the participants are known. */
void ap_persist_enc_txn_detach(struct ap_persist_enc *e, uint64_t txid)
{
	AP_ASSERT(e->part_off == NO_PART);
	AP_ASSERT(txid != 0);
	e->part_off = DETACHED_PART;
	e->part_txid = txid;
	e->part_count = 0;
}

/* Writes into dst the TXN record of side's detached part, then side's
 * records (already sealed with the part's txid); side is left empty and
 * closed. */
void ap_persist_enc_txn_splice(struct ap_persist_enc *dst,
			       struct ap_persist_enc *side,
			       const uint16_t *shards, unsigned nshards)
{
	AP_ASSERT(side->part_off == DETACHED_PART);
	uint32_t count = side->part_count;
	ap_persist_enc_txn_begin(dst, side->part_txid, shards, nshards);
	ap_serial_buf_put(&dst->b, side->b.p, side->b.len);
	dst->part_count = count;
	ap_persist_enc_txn_end(dst);
	side->part_off = NO_PART;
	side->part_txid = 0;
	side->part_count = 0;
	ap_persist_enc_clear(side);
}

/* --- decoding: payload fields --------------------------------------------- */

/* A payload being read: bytes left and the first failure's reason. */
struct rd {
	const unsigned char *p;
	size_t left;
	const char *why;
};

/* Records the first reason for a failure; returns false. */
static bool rd_fail(struct rd *r, const char *why)
{
	if (r->why == NULL)
		r->why = why;
	return false;
}

/* Reads one byte. */
static bool rd_u8(struct rd *r, uint8_t *v)
{
	if (r->left < 1)
		return rd_fail(r, "record ends inside a field");
	*v = *r->p++;
	r->left--;
	return true;
}

/* Reads a little-endian u32. */
static bool rd_u32(struct rd *r, uint32_t *v)
{
	if (r->left < 4)
		return rd_fail(r, "record ends inside a field");
	memcpy(v, r->p, 4);
	r->p += 4;
	r->left -= 4;
	return true;
}

/* Reads a varint, refusing a truncated, overlong (a last byte of 0 after
 * the first) or overflowing (a tenth byte above 1) one. */
static bool rd_varint(struct rd *r, uint64_t *v)
{
	uint64_t x = 0;

	for (size_t i = 0; i < VARINT_MAX_LEN; i++) {
		uint8_t c;

		if (!rd_u8(r, &c))
			return false;
		if (i == VARINT_MAX_LEN - 1 && c > 1)
			return rd_fail(r, "varint beyond 64 bits");
		x |= (uint64_t)(c & 0x7f) << (7 * i);
		if ((c & 0x80) == 0) {
			if (c == 0 && i > 0)
				return rd_fail(r,
					       "varint not in shortest form");
			*v = x;
			return true;
		}
	}
	return rd_fail(r, "varint beyond 64 bits");
}

/* Reads a varint no larger than max. */
static bool rd_bounded(struct rd *r, uint64_t max, const char *why, uint64_t *v)
{
	if (!rd_varint(r, v))
		return false;
	return *v <= max || rd_fail(r, why);
}

/* Reads a string (varint length, bytes) within the bulk ceiling. */
static bool rd_str(struct rd *r, const unsigned char **s, size_t *len)
{
	uint64_t n;

	if (!rd_bounded(r, (uint64_t)AP_PROTO_MAX_BULK_LEN_MAX,
			"string longer than the bulk ceiling", &n))
		return false;
	if (n > r->left)
		return rd_fail(r, "string runs past the record");
	*s = r->p;
	*len = (size_t)n;
	r->p += n;
	r->left -= n;
	return true;
}

/* Reads a database number. */
static bool rd_db(struct rd *r, unsigned *db)
{
	uint64_t v;

	if (!rd_bounded(r, AP_DATABASES_MAX - 1, "database out of range", &v))
		return false;
	*db = (unsigned)v;
	return true;
}

/* Reads a key. */
static bool rd_key(struct rd *r, struct ap_persist_rec *rec)
{
	const unsigned char *s;

	if (!rd_str(r, &s, &rec->klen))
		return false;
	rec->key = (const char *)s;
	return true;
}

/* CMD: db argc args. Every argument is at least one byte (its length), so
 * an argc beyond the bytes left is refused before the walk. */
static bool parse_cmd(struct rd *r, struct ap_persist_rec *rec)
{
	uint64_t argc;

	if (!rd_db(r, &rec->db) ||
	    !rd_bounded(r, AP_ARGC_MAX, "argument count above AP_ARGC_MAX",
			&argc))
		return false;
	if (argc == 0)
		return rd_fail(r, "command without arguments");
	if (argc > r->left)
		return rd_fail(r, "argument count beyond the bytes left");
	rec->argc = (uint32_t)argc;
	rec->args = r->p;
	for (uint64_t i = 0; i < argc; i++) {
		const unsigned char *s;
		size_t len;

		if (!rd_str(r, &s, &len))
			return false;
	}
	rec->args_len = (size_t)(r->p - rec->args);
	return true;
}

/* VALUE: db key expire value-bytes (the rest of the payload). */
static bool parse_value(struct rd *r, struct ap_persist_rec *rec)
{
	uint64_t ex;

	if (!rd_db(r, &rec->db) || !rd_key(r, rec) ||
	    !rd_bounded(r, (uint64_t)INT64_MAX + 1, "expiry out of range", &ex))
		return false;
	rec->expire_ms = ex == 0 ? AP_NO_EXPIRE : (int64_t)(ex - 1);
	if (r->left < VALUE_MIN_LEN)
		return rd_fail(r, "value shorter than a value header");
	rec->value = r->p;
	rec->value_len = r->left;
	r->p += r->left;
	r->left = 0;
	return true;
}

/* DEL: db key. */
static bool parse_del(struct rd *r, struct ap_persist_rec *rec)
{
	return rd_db(r, &rec->db) && rd_key(r, rec);
}

/* TXN: nshards, the shard ids strictly ascending, the part's count. */
static bool parse_txn(struct rd *r, struct ap_persist_rec *rec)
{
	uint64_t n, prev = 0;

	if (rec->txid == 0)
		return rd_fail(r, "transaction record with txid 0");
	if (!rd_bounded(r, AP_SHARDS_MAX, "too many shards in a transaction",
			&n))
		return false;
	if (n == 0)
		return rd_fail(r, "transaction without shards");
	rec->nshards = (unsigned)n;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t id;

		if (!rd_bounded(r, AP_SHARDS_MAX - 1, "shard id out of range",
				&id))
			return false;
		if (i > 0 && id <= prev)
			return rd_fail(r, "transaction shards not ascending");
		rec->shard_mask[id / 64] |= 1ull << (id % 64);
		prev = id;
	}
	return rd_u32(r, &rec->part_count);
}

/* ZBLOCK: codec, raw length, compressed bytes (the rest). The raw length
 * is bounded here, before any reader allocates for it; the compressed
 * bytes are fewer than the raw ones, as a writer only writes a block that
 * shrinks. */
static bool parse_zblock(struct rd *r, struct ap_persist_rec *rec)
{
	uint8_t codec;
	uint64_t raw;

	if (rec->txid != 0)
		return rd_fail(r, "compressed block with a txid");
	if (!rd_u8(r, &codec))
		return false;
	if (codec == AP_PERSIST_CODEC_NONE || codec > AP_PERSIST_CODEC_MAX)
		return rd_fail(r, "unknown compression codec");
	if (!rd_bounded(
		    r, AP_PERSIST_ZBLOCK_RAW_MAX,
		    "compressed block longer than AP_PERSIST_ZBLOCK_RAW_MAX",
		    &raw))
		return false;
	if (raw == 0)
		return rd_fail(r, "empty compressed block");
	if (r->left == 0 || r->left >= raw)
		return rd_fail(r, "compressed block not smaller than its "
				  "raw bytes");
	rec->codec = codec;
	rec->raw_len = (uint32_t)raw;
	rec->zbytes = r->p;
	rec->zlen = r->left;
	r->p += r->left;
	r->left = 0;
	return true;
}

/* Decodes a payload (whose CRC matched) into rec. Returns NULL or the
 * reason it is bad. */
static const char *parse_payload(const unsigned char *p, size_t len,
				 struct ap_persist_rec *rec)
{
	struct rd r = {p, len, NULL};
	uint8_t kind;
	bool ok;

	if (len == 0)
		return "empty record";
	if (!rd_u8(&r, &kind) || !rd_varint(&r, &rec->txid))
		return r.why;
	switch (kind) {
	case AP_PERSIST_CMD:
		ok = parse_cmd(&r, rec);
		break;
	case AP_PERSIST_VALUE:
		ok = parse_value(&r, rec);
		break;
	case AP_PERSIST_DEL:
		ok = parse_del(&r, rec);
		break;
	case AP_PERSIST_TXN:
		ok = parse_txn(&r, rec);
		break;
	case AP_PERSIST_ZBLOCK:
		ok = parse_zblock(&r, rec);
		break;
	default:
		return "unknown record kind";
	}
	rec->kind = (enum ap_persist_kind)kind;
	if (!ok)
		return r.why;
	if (r.left != 0)
		return "bytes left over after the record's fields";
	return NULL;
}

/* Whether shard is a participant of a TXN record. */
bool ap_persist_rec_has_shard(const struct ap_persist_rec *r, unsigned shard)
{
	return shard < AP_SHARDS_MAX &&
	       (r->shard_mask[shard / 64] >> (shard % 64)) & 1;
}

/* Reads a varint from bytes already validated. */
static uint64_t varint_trusted(const unsigned char **pp)
{
	const unsigned char *p = *pp;
	uint64_t x = 0;
	unsigned shift = 0;

	while (*p & 0x80) {
		x |= (uint64_t)(*p++ & 0x7f) << shift;
		shift += 7;
	}
	x |= (uint64_t)*p++ << shift;
	*pp = p;
	return x;
}

/* Fills argv from a validated CMD record. */
void ap_persist_rec_argv(const struct ap_persist_rec *r, struct ap_arg *argv)
{
	const unsigned char *p = r->args;

	AP_ASSERT(r->kind == AP_PERSIST_CMD);
	for (uint32_t i = 0; i < r->argc; i++) {
		argv[i].len = (size_t)varint_trusted(&p);
		argv[i].p = (const char *)p;
		p += argv[i].len;
	}
	AP_ASSERT(p == r->args + r->args_len);
}

/* --- iterator ---------------------------------------------------------------
 */

/* A read of a file of file_len bytes; nothing fed yet. */
void ap_persist_iter_init(struct ap_persist_iter *it, uint64_t file_len)
{
	memset(it, 0, sizeof(*it));
	it->file_len = file_len;
	it->status = AP_PERSIST_NEED_MORE;
	it->want = AP_MIN(file_len, (uint64_t)AP_PERSIST_HEADER_SIZE);
}

/* A read of a whole file in memory. */
void ap_persist_iter_init_buf(struct ap_persist_iter *it, const void *p,
			      size_t len)
{
	ap_persist_iter_init(it, len);
	ap_persist_iter_feed(it, p, len);
}

/* Takes the bytes from it->end_off on. */
void ap_persist_iter_feed(struct ap_persist_iter *it, const void *p, size_t len)
{
	AP_ASSERT(it->status == AP_PERSIST_NEED_MORE);
	AP_ASSERT(len <= it->file_len - it->end_off);
	it->p = p;
	it->len = len;
	it->pos = 0;
	it->base = it->end_off;
	it->status = AP_PERSIST_READING;
}

/* The static name of a status. */
const char *ap_persist_status_name(enum ap_persist_status s)
{
	switch (s) {
	case AP_PERSIST_READING:
		return "reading";
	case AP_PERSIST_NEED_MORE:
		return "need more";
	case AP_PERSIST_CLEAN:
		return "clean";
	case AP_PERSIST_TORN:
		return "torn";
	case AP_PERSIST_CORRUPT:
		return "corrupt";
	}
	return "?";
}

/* Ends the read with status at file offset off. What a repair keeps stops
 * at off, or earlier at the TXN record of a part still open (kept whole
 * or not at all). Returns false, for next() to return. */
static bool iter_end(struct ap_persist_iter *it, enum ap_persist_status st,
		     uint64_t off, const char *why)
{
	it->status = st;
	it->end_off = off;
	it->keep_len = off;
	it->why = why;
	it->want = 0;
	if (it->part_left > 0) {
		it->keep_len = it->part_off;
		it->cut_txid = it->part_txid;
	}
	return false;
}

/* A record returned before is bad after all: corruption at off. A
 * record of a part (txid != 0, the last part read) cuts the part whole,
 * even when it was the part's last record. */
void ap_persist_iter_reject(struct ap_persist_iter *it, uint64_t off,
			    uint64_t txid, const char *why)
{
	AP_ASSERT(off <= it->file_len);
	(void)iter_end(it, AP_PERSIST_CORRUPT, off, why);
	if (txid != 0 && txid == it->part_txid && it->part_off < off) {
		it->keep_len = it->part_off;
		it->cut_txid = txid;
	}
}

/* The record next() waits for failed its checksum, checked in pieces by
 * the caller: the verdict iter_frame gives a whole record. */
void ap_persist_iter_bad_checksum(struct ap_persist_iter *it)
{
	uint64_t off = it->end_off;

	AP_ASSERT(it->status == AP_PERSIST_NEED_MORE);
	AP_ASSERT(it->want > AP_PERSIST_HEADER_SIZE &&
		  it->want <= it->file_len - off);
	if (off + it->want == it->file_len)
		(void)iter_end(it, AP_PERSIST_TORN, off,
			       "checksum mismatch in the last record");
	else
		(void)iter_end(it, AP_PERSIST_CORRUPT, off,
			       "checksum mismatch");
}

/* Pauses for more bytes: want bytes from file offset off. */
static bool iter_need(struct ap_persist_iter *it, uint64_t off, uint64_t want)
{
	it->status = AP_PERSIST_NEED_MORE;
	it->end_off = off;
	it->want = want;
	return false;
}

/* The end of the file after good records: clean, unless it cut a part
 * short (the file ends before the part's count of records). */
static bool iter_eof(struct ap_persist_iter *it, uint64_t off)
{
	if (it->part_left > 0)
		return iter_end(it, AP_PERSIST_TORN, off,
				"the file ends inside a transaction part");
	return iter_end(it, AP_PERSIST_CLEAN, off, NULL);
}

/* Checks a good record against the part structure and moves it on.
 * Returns NULL or the reason the record is out of place. */
static const char *part_step(struct ap_persist_iter *it,
			     const struct ap_persist_rec *r)
{
	if (r->kind == AP_PERSIST_TXN) {
		if (it->part_left > 0)
			return "transaction part cut short by another";
		it->part_txid = r->txid;
		it->part_left = r->part_count;
		it->part_off = r->off;
		return NULL;
	}
	if (it->part_left > 0) {
		if (r->txid != it->part_txid)
			return "transaction part cut short by another record";
		it->part_left--;
		return NULL;
	}
	if (r->txid != 0)
		return "transaction record outside its part";
	return NULL;
}

/* Frames the record at it->pos: the header, the length against the file
 * and the bytes fed, the CRC. A torn record is one the end of the file
 * cuts, or whose CRC fails when it ends exactly at the end of the file.
 * Returns true with *plen set, or false having ended or paused. */
static bool iter_frame(struct ap_persist_iter *it, uint64_t off, uint32_t *plen)
{
	uint64_t file_left = it->file_len - off;
	size_t left = it->len - it->pos;
	const unsigned char *h = it->p + it->pos;
	uint32_t len, crc;

	if (file_left < AP_PERSIST_HEADER_SIZE)
		return iter_end(it, AP_PERSIST_TORN, off,
				"the file ends inside a record header");
	if (left < AP_PERSIST_HEADER_SIZE)
		return iter_need(it, off, AP_PERSIST_HEADER_SIZE);
	memcpy(&len, h, 4);
	memcpy(&crc, h + 4, 4);
	if (len > file_left - AP_PERSIST_HEADER_SIZE)
		return iter_end(it, AP_PERSIST_TORN, off,
				"the file ends inside a record");
	if (len > left - AP_PERSIST_HEADER_SIZE)
		return iter_need(it, off,
				 AP_PERSIST_HEADER_SIZE + (uint64_t)len);
	if (ap_persist_crc32c(0, h + AP_PERSIST_HEADER_SIZE, len) != crc) {
		if (len == file_left - AP_PERSIST_HEADER_SIZE)
			return iter_end(it, AP_PERSIST_TORN, off,
					"checksum mismatch in the last record");
		return iter_end(it, AP_PERSIST_CORRUPT, off,
				"checksum mismatch");
	}
	*plen = len;
	return true;
}

/* The next record: framed, parsed, placed in the part structure. */
bool ap_persist_iter_next(struct ap_persist_iter *it, struct ap_persist_rec *r)
{
	uint64_t off;
	uint32_t plen;
	const char *why;

	if (it->status != AP_PERSIST_READING)
		return false;
	off = it->base + it->pos;
	if (off == it->file_len)
		return iter_eof(it, off);
	if (!iter_frame(it, off, &plen))
		return false;
	memset(r, 0, sizeof(*r));
	r->off = off;
	r->size = AP_PERSIST_HEADER_SIZE + (uint64_t)plen;
	why = parse_payload(it->p + it->pos + AP_PERSIST_HEADER_SIZE, plen, r);
	if (why == NULL)
		why = part_step(it, r);
	if (why != NULL)
		return iter_end(it, AP_PERSIST_CORRUPT, off, why);
	it->pos += (size_t)r->size;
	it->counts[r->kind]++;
	return true;
}
