/*
 * test_zblock.c - compressed blocks of base snapshots (persist/zblock.c,
 * the ZBLOCK kind of persist/log.c): round trips through the block writer
 * and the block reader with lz4, zstd (two levels) and none, compared
 * record by record with the plain records; incompressible data written
 * plain byte for byte; partial blocks kept until flushed, the budget;
 * records bigger than a block (a block of their own) and than a block may
 * be (plain); hand-made bad blocks with good checksums (garbage streams,
 * raw lengths too long, too short, beyond the ceiling with nothing
 * allocated, zero, unknown codecs, not smaller, a txid, bad records
 * inside: a failing inner CRC, a cut record, a nested block, a
 * transaction record), each reported as corruption at the block's offset
 * with the repair cut there; truncations (torn tails) and bit flips
 * (never accepted); the iterator's reject and bad-checksum verdicts; and
 * a randomized writer against the plain stream, read back in pieces.
 */
#include <check.h>
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "core/config.h"
#include "core/serial.h"
#include "persist/persist.h"

/* Failure-only assertion for hot loops. */
#define CK(x)                                                              \
	do {                                                               \
		if (!(x))                                                  \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #x); \
	} while (0)

static uint64_t rng_state = 0xD1B54A32D192ED03ull;

static uint64_t rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static size_t rng_below(size_t n)
{
	return n == 0 ? 0 : (size_t)(rng() % n);
}

/* --- records -------------------------------------------------------------- */

/* A value of len bytes: JSON-like text (compressible) or random bytes. */
static void make_value(char *buf, size_t len, bool random, size_t seq)
{
	if (random) {
		for (size_t i = 0; i < len; i++)
			buf[i] = (char)rng();
		return;
	}
	for (size_t at = 0; at < len;) {
		char piece[96];
		int n = snprintf(
			piece, sizeof(piece),
			"{\"id\":%zu,\"name\":\"user%zu\",\"on\":true}", seq,
			seq % 97);
		size_t take = AP_MIN((size_t)n, len - at);

		memcpy(buf + at, piece, take);
		at += take;
	}
}

/* Appends a VALUE record of a string value of len bytes to e. */
static void put_value(struct ap_persist_enc *e, size_t seq, size_t len,
		      bool random)
{
	struct ap_serial_buf b;
	char key[32];
	char *val = malloc(len + 1);

	make_value(val, len, random, seq);
	snprintf(key, sizeof(key), "key:%zu", seq);
	ap_serial_buf_init(&b);
	ap_serial_encode_str(&b, val, len);
	ck_assert_int_eq(
		ap_persist_enc_value(e, (unsigned)(seq % 3), key, strlen(key),
				     seq % 5 == 0 ? 1700000000000 + (int64_t)seq
						  : AP_NO_EXPIRE,
				     b.p, b.len),
		0);
	ap_serial_buf_deinit(&b);
	free(val);
}

/* Appends count records (VALUEs of about vlen bytes, and a DEL every
 * 50th) from seq on; returns the next seq. */
static size_t put_records(struct ap_persist_enc *e, size_t seq, size_t count,
			  size_t vlen, bool random)
{
	for (size_t i = 0; i < count; i++, seq++) {
		if (seq % 50 == 49) {
			ap_persist_enc_del(e, 1, "gone", 4);
			continue;
		}
		put_value(e, seq, vlen, random);
	}
	return seq;
}

/* A copy of an encoder's bytes. */
struct bytes {
	unsigned char *p;
	size_t len;
};

static struct bytes copy_of(const struct ap_persist_enc *e)
{
	struct bytes b = {malloc(e->b.len + 1), e->b.len};

	memcpy(b.p, e->b.p, e->b.len);
	return b;
}

/* --- reading -------------------------------------------------------------- */

/* The next record of a read fed in random pieces (pieces false: the
 * iterator was given the whole buffer). */
static bool next_fed(struct ap_persist_zread *z, struct ap_persist_iter *it,
		     const unsigned char *file, size_t len,
		     struct ap_persist_rec *r)
{
	for (;;) {
		if (ap_persist_zread_next(z, it, r))
			return true;
		if (it->status != AP_PERSIST_NEED_MORE)
			return false;
		uint64_t from = it->end_off;
		size_t n = (size_t)AP_MAX(it->want,
					  (uint64_t)(1 + rng_below(300000)));

		n = AP_MIN(n, len - (size_t)from);
		ap_persist_iter_feed(it, file + from, n);
	}
}

/* Whether two records say the same. */
static bool same_rec(const struct ap_persist_rec *a,
		     const struct ap_persist_rec *b)
{
	if (a->kind != b->kind || a->db != b->db || a->txid != b->txid ||
	    a->klen != b->klen || memcmp(a->key, b->key, a->klen) != 0)
		return false;
	if (a->kind != AP_PERSIST_VALUE)
		return true;
	return a->expire_ms == b->expire_ms && a->value_len == b->value_len &&
	       memcmp(a->value, b->value, a->value_len) == 0;
}

/* Reads packed (in pieces when pieces) with a block reader and checks it
 * holds exactly plain's records, in order, both ending cleanly. Returns
 * the blocks expanded. */
static uint64_t check_same(const struct bytes *plain,
			   const struct bytes *packed, bool pieces)
{
	struct ap_persist_iter pi, zi;
	struct ap_persist_zread z;
	struct ap_persist_rec a, b;
	uint64_t n = 0, blocks;

	ap_persist_iter_init_buf(&pi, plain->p, plain->len);
	ap_persist_zread_init(&z);
	if (pieces)
		ap_persist_iter_init(&zi, packed->len);
	else
		ap_persist_iter_init_buf(&zi, packed->p, packed->len);
	for (;;) {
		bool ga = ap_persist_iter_next(&pi, &a);
		bool gb = next_fed(&z, &zi, packed->p, packed->len, &b);

		CK(ga == gb);
		if (!ga)
			break;
		CK(same_rec(&a, &b));
		CK(!b.in_block || b.off < packed->len);
		n++;
	}
	ck_assert_int_eq(pi.status, AP_PERSIST_CLEAN);
	ck_assert_msg(zi.status == AP_PERSIST_CLEAN, "%s at %llu: %s",
		      ap_persist_status_name(zi.status),
		      (unsigned long long)zi.end_off,
		      zi.why != NULL ? zi.why : "");
	ck_assert_uint_eq(zi.end_off, packed->len);
	blocks = z.blocks;
	ap_persist_zread_deinit(&z);
	return blocks;
}

/* Walks packed's top-level records: every block's raw length within
 * max_raw and smaller compressed; returns the blocks, *plain_recs the
 * records outside blocks. */
static uint64_t outer_blocks(const struct bytes *packed, size_t max_raw,
			     uint64_t *plain_recs)
{
	struct ap_persist_iter it;
	struct ap_persist_rec r;
	uint64_t blocks = 0, plain = 0;

	ap_persist_iter_init_buf(&it, packed->p, packed->len);
	while (ap_persist_iter_next(&it, &r)) {
		if (r.kind != AP_PERSIST_ZBLOCK) {
			plain++;
			continue;
		}
		CK(r.raw_len <= max_raw);
		CK(r.size < r.raw_len);
		blocks++;
	}
	ck_assert_int_eq(it.status, AP_PERSIST_CLEAN);
	if (plain_recs != NULL)
		*plain_recs = plain;
	return blocks;
}

/* Packs all of src into a fresh encoder with codec and level; src is
 * left empty. */
static struct bytes pack_all(struct ap_persist_enc *src,
			     enum ap_persist_codec codec, int level,
			     struct ap_persist_zenc *stats)
{
	struct ap_persist_zenc z;
	struct ap_persist_enc out;
	struct bytes b;
	size_t raw = src->b.len;

	ap_persist_zenc_init(&z, codec, level);
	ap_persist_enc_init(&out);
	ck_assert_uint_eq(ap_persist_zenc_pack(&z, src, &out, SIZE_MAX, true),
			  raw);
	ck_assert_uint_eq(src->b.len, 0);
	ck_assert_uint_eq(z.raw_bytes, raw);
	b = copy_of(&out);
	if (stats != NULL)
		*stats = z;
	ap_persist_zenc_deinit(&z);
	ap_persist_enc_deinit(&out);
	return b;
}

/* --- round trips ---------------------------------------------------------- */

/* Compressible records through codec: fewer bytes, blocks within the
 * target size, the same records back whole and in pieces. */
static void round_trip(enum ap_persist_codec codec, int level, size_t count)
{
	struct ap_persist_enc e;
	struct ap_persist_zenc st;
	struct bytes plain, packed;
	uint64_t plain_recs = 0;

	ap_persist_enc_init(&e);
	put_records(&e, 0, count, 120, false);
	plain = copy_of(&e);
	packed = pack_all(&e, codec, level, &st);
	ck_assert_uint_lt(packed.len, plain.len / 3);
	ck_assert_uint_ge(st.blocks, plain.len / AP_PERSIST_ZBLOCK_SIZE);
	ck_assert_uint_eq(st.plain_bytes, 0);
	ck_assert_uint_eq(
		outer_blocks(&packed, AP_PERSIST_ZBLOCK_SIZE, &plain_recs),
		st.blocks);
	ck_assert_uint_eq(plain_recs, 0);
	ck_assert_uint_eq(check_same(&plain, &packed, false), st.blocks);
	ck_assert_uint_eq(check_same(&plain, &packed, true), st.blocks);
	free(plain.p);
	free(packed.p);
	ap_persist_enc_deinit(&e);
}

START_TEST(round_trip_lz4)
{
	round_trip(AP_PERSIST_CODEC_LZ4, 1, 8000);
}
END_TEST

START_TEST(round_trip_zstd)
{
	round_trip(AP_PERSIST_CODEC_ZSTD, 1, 8000);
	round_trip(AP_PERSIST_CODEC_ZSTD, 9, 3000);
}
END_TEST

START_TEST(codec_none_copies_plain)
{
	struct ap_persist_enc e;
	struct ap_persist_zenc st;
	struct bytes plain, packed;

	ap_persist_enc_init(&e);
	put_records(&e, 0, 3000, 120, false);
	plain = copy_of(&e);
	packed = pack_all(&e, AP_PERSIST_CODEC_NONE, 1, &st);
	ck_assert_uint_eq(packed.len, plain.len);
	ck_assert(memcmp(packed.p, plain.p, plain.len) == 0);
	ck_assert_uint_eq(st.blocks, 0);
	ck_assert_uint_eq(st.plain_bytes, plain.len);
	free(plain.p);
	free(packed.p);
	ap_persist_enc_deinit(&e);
}
END_TEST

START_TEST(incompressible_written_plain)
{
	enum ap_persist_codec codecs[] = {AP_PERSIST_CODEC_LZ4,
					  AP_PERSIST_CODEC_ZSTD};

	for (size_t c = 0; c < AP_ARRAY_LEN(codecs); c++) {
		struct ap_persist_enc e;
		struct ap_persist_zenc st;
		struct bytes plain, packed;

		ap_persist_enc_init(&e);
		put_records(&e, 0, 1000, 1000, true);
		plain = copy_of(&e);
		packed = pack_all(&e, codecs[c], 3, &st);
		ck_assert_uint_eq(st.blocks, 0);
		ck_assert_uint_eq(packed.len, plain.len);
		ck_assert(memcmp(packed.p, plain.p, plain.len) == 0);
		free(plain.p);
		free(packed.p);
		ap_persist_enc_deinit(&e);
	}
}
END_TEST

START_TEST(mixed_compressibility)
{
	struct ap_persist_enc e;
	struct ap_persist_zenc st;
	struct bytes plain, packed;
	uint64_t plain_recs = 0;
	size_t seq = 0;

	ap_persist_enc_init(&e);
	for (int round = 0; round < 6; round++)
		seq = put_records(&e, seq, round % 2 ? 300 : 2500,
				  round % 2 ? 1000 : 110, round % 2 == 1);
	plain = copy_of(&e);
	packed = pack_all(&e, AP_PERSIST_CODEC_LZ4, 1, &st);
	ck_assert_uint_gt(st.blocks, 0);
	ck_assert_uint_gt(st.plain_bytes, 0);
	ck_assert_uint_lt(packed.len, plain.len);
	(void)outer_blocks(&packed, AP_PERSIST_ZBLOCK_SIZE, &plain_recs);
	ck_assert_uint_gt(plain_recs, 0);
	ck_assert_uint_eq(check_same(&plain, &packed, true), st.blocks);
	free(plain.p);
	free(packed.p);
	ap_persist_enc_deinit(&e);
}
END_TEST

/* --- the writer's rules --------------------------------------------------- */

START_TEST(partial_block_waits_for_flush)
{
	struct ap_persist_zenc z;
	struct ap_persist_enc e, out;
	size_t seq = 0, first_len, moved, total = 0;

	ap_persist_zenc_init(&z, AP_PERSIST_CODEC_LZ4, 1);
	ap_persist_enc_init(&e);
	ap_persist_enc_init(&out);
	/* Less than a block: nothing moves without flush. */
	while (e.b.len < AP_PERSIST_ZBLOCK_SIZE / 2)
		put_value(&e, seq++, 100, false);
	first_len = e.b.len;
	ck_assert_uint_eq(ap_persist_zenc_pack(&z, &e, &out, SIZE_MAX, false),
			  0);
	ck_assert_uint_eq(ap_persist_zenc_pending(&z, &e), first_len);
	ck_assert_uint_eq(out.b.len, 0);
	/* Three blocks and a bit: a budget of 1 byte moves one block, which
	 * stops at a record boundary at or below the target size. */
	while (e.b.len < 3 * AP_PERSIST_ZBLOCK_SIZE + 1000)
		put_value(&e, seq++, 100, false);
	first_len = e.b.len;
	moved = ap_persist_zenc_pack(&z, &e, &out, 1, false);
	total += moved;
	ck_assert_uint_le(moved, AP_PERSIST_ZBLOCK_SIZE);
	ck_assert_uint_gt(moved, AP_PERSIST_ZBLOCK_SIZE - 200);
	ck_assert_uint_eq(ap_persist_zenc_pending(&z, &e), first_len - moved);
	ck_assert_uint_eq(z.blocks, 1);
	/* The packed bytes stay in place while fewer than what is left. */
	ck_assert_uint_eq(z.src_off, moved);
	ck_assert_uint_eq(e.b.len, first_len);
	/* What is left starts at a record: it reads cleanly. */
	{
		struct ap_persist_iter it;
		struct ap_persist_rec r;
		uint64_t n = 0;

		ap_persist_iter_init_buf(&it, e.b.p + z.src_off,
					 e.b.len - z.src_off);
		while (ap_persist_iter_next(&it, &r))
			n++;
		ck_assert_int_eq(it.status, AP_PERSIST_CLEAN);
		ck_assert_uint_gt(n, 0);
	}
	/* Without flush the last partial block stays (moved to the front
	 * now: more was packed than stays); with flush it goes. */
	moved = ap_persist_zenc_pack(&z, &e, &out, SIZE_MAX, false);
	total += moved;
	ck_assert_uint_gt(moved, 0);
	ck_assert_uint_eq(z.src_off, 0);
	ck_assert_uint_gt(e.b.len, 0);
	ck_assert_uint_lt(e.b.len, AP_PERSIST_ZBLOCK_SIZE);
	ck_assert_uint_eq(ap_persist_zenc_pending(&z, &e), e.b.len);
	ck_assert_uint_eq(z.blocks, 3);
	/* Records appended meanwhile join the partial block. */
	put_value(&e, seq++, 100, false);
	moved = ap_persist_zenc_pack(&z, &e, &out, SIZE_MAX, true);
	total += moved;
	ck_assert_uint_gt(moved, 0);
	ck_assert_uint_eq(e.b.len, 0);
	ck_assert_uint_eq(ap_persist_zenc_pending(&z, &e), 0);
	ck_assert_uint_eq(z.blocks, 4);
	ck_assert_uint_eq(z.raw_bytes, total);
	ap_persist_zenc_deinit(&z);
	ap_persist_enc_deinit(&e);
	ap_persist_enc_deinit(&out);
}
END_TEST

START_TEST(records_bigger_than_a_block)
{
	struct ap_persist_enc e;
	struct ap_persist_zenc st;
	struct bytes plain, packed;
	struct ap_persist_iter it;
	struct ap_persist_rec r;
	size_t seq = 0;
	bool own_block = false, plain_big = false;

	ap_persist_enc_init(&e);
	seq = put_records(&e, seq, 100, 100, false);
	/* Between the target and the ceiling: a block of its own. */
	put_value(&e, seq++, AP_PERSIST_ZBLOCK_SIZE + 100000, false);
	seq = put_records(&e, seq, 100, 100, false);
	/* Beyond the ceiling: written plain. */
	put_value(&e, seq++, AP_PERSIST_ZBLOCK_RAW_MAX + 1, false);
	seq = put_records(&e, seq, 100, 100, false);
	plain = copy_of(&e);
	packed = pack_all(&e, AP_PERSIST_CODEC_ZSTD, 1, &st);
	ap_persist_iter_init_buf(&it, packed.p, packed.len);
	while (ap_persist_iter_next(&it, &r)) {
		if (r.kind == AP_PERSIST_ZBLOCK &&
		    r.raw_len > AP_PERSIST_ZBLOCK_SIZE + 100000)
			own_block = true;
		if (r.kind == AP_PERSIST_VALUE &&
		    r.value_len > AP_PERSIST_ZBLOCK_RAW_MAX)
			plain_big = true;
	}
	ck_assert_int_eq(it.status, AP_PERSIST_CLEAN);
	ck_assert(own_block);
	ck_assert(plain_big);
	ck_assert_uint_ge(st.plain_bytes, AP_PERSIST_ZBLOCK_RAW_MAX + 1);
	(void)check_same(&plain, &packed, true);
	free(plain.p);
	free(packed.p);
	ap_persist_enc_deinit(&e);
}
END_TEST

/* --- hand-made blocks ----------------------------------------------------- */

/* Appends to b a record framing payload[0..len) with its CRC. */
static void frame(struct ap_serial_buf *b, const void *payload, size_t len)
{
	uint32_t u = (uint32_t)len;

	ap_serial_buf_put(b, &u, 4);
	u = ap_persist_crc32c(0, payload, len);
	ap_serial_buf_put(b, &u, 4);
	ap_serial_buf_put(b, payload, len);
}

/* Appends a ZBLOCK record: txid, codec, declared raw length, bytes. */
static void put_zblock(struct ap_serial_buf *b, uint64_t txid, unsigned codec,
		       uint64_t raw_len, const void *z, size_t zlen)
{
	struct ap_serial_buf p;

	ap_serial_buf_init(&p);
	ap_serial_buf_u8(&p, AP_PERSIST_ZBLOCK);
	ap_serial_buf_varint(&p, txid);
	ap_serial_buf_u8(&p, (uint8_t)codec);
	ap_serial_buf_varint(&p, raw_len);
	ap_serial_buf_put(&p, z, zlen);
	frame(b, p.p, p.len);
	ap_serial_buf_deinit(&p);
}

/* Compresses raw with codec into out (a fresh buffer); returns it. */
static struct ap_serial_buf squeeze(unsigned codec, const void *raw, size_t len)
{
	struct ap_serial_buf out;
	size_t cap = ZSTD_compressBound(len) + LZ4_compressBound((int)len);
	size_t n;

	ap_serial_buf_init(&out);
	ap_serial_buf_reserve(&out, cap);
	if (codec == AP_PERSIST_CODEC_LZ4) {
		n = (size_t)LZ4_compress_default(raw, (char *)out.p, (int)len,
						 (int)cap);
		ck_assert_uint_gt(n, 0);
	} else {
		n = ZSTD_compress(out.p, cap, raw, len, 1);
		ck_assert(!ZSTD_isError(n));
	}
	out.len = n;
	return out;
}

/* Good records for a block's inside: n compressible VALUEs. */
static struct ap_serial_buf good_raw(size_t n)
{
	struct ap_persist_enc e;
	struct ap_serial_buf b;

	ap_persist_enc_init(&e);
	put_records(&e, 1, n, 80, false);
	ap_serial_buf_init(&b);
	ap_serial_buf_put(&b, e.b.p, e.b.len);
	ap_persist_enc_deinit(&e);
	return b;
}

/* A file of a DEL, the block blk, a DEL: reading it must return the
 * first DEL, maybe records from the block (those before a bad one inside
 * it), then stop as corruption at the block's offset with why holding
 * want, never reaching the last DEL. */
static void expect_bad_block(const struct ap_serial_buf *blk, const char *want)
{
	struct ap_persist_enc pre;
	struct ap_serial_buf file;
	struct ap_persist_iter it;
	struct ap_persist_zread z;
	struct ap_persist_rec r;
	size_t block_off;

	ap_persist_enc_init(&pre);
	ap_persist_enc_del(&pre, 0, "a", 1);
	ap_serial_buf_init(&file);
	ap_serial_buf_put(&file, pre.b.p, pre.b.len);
	block_off = file.len;
	ap_serial_buf_put(&file, blk->p, blk->len);
	ap_serial_buf_put(&file, pre.b.p, pre.b.len);
	ap_persist_zread_init(&z);
	ap_persist_iter_init_buf(&it, file.p, file.len);
	ck_assert(ap_persist_zread_next(&z, &it, &r));
	ck_assert_int_eq(r.kind, AP_PERSIST_DEL);
	ck_assert(!r.in_block);
	while (ap_persist_zread_next(&z, &it, &r)) {
		ck_assert(r.in_block);
		ck_assert_uint_eq(r.off, block_off);
	}
	ck_assert_int_eq(it.status, AP_PERSIST_CORRUPT);
	ck_assert_uint_eq(it.end_off, block_off);
	ck_assert_uint_eq(it.keep_len, block_off);
	ck_assert_msg(it.why != NULL && strstr(it.why, want) != NULL,
		      "'%s' not in '%s'", want, it.why != NULL ? it.why : "");
	/* It stays ended. */
	ck_assert(!ap_persist_zread_next(&z, &it, &r));
	ap_persist_zread_deinit(&z);
	ap_serial_buf_deinit(&file);
	ap_persist_enc_deinit(&pre);
}

/* One bad block built from raw bytes compressed with codec, declaring
 * raw_len (0: the true length), expected to fail with want. */
static void bad_from_raw(unsigned codec, const struct ap_serial_buf *raw,
			 int64_t len_delta, const char *want)
{
	struct ap_serial_buf zb = squeeze(codec, raw->p, raw->len);
	struct ap_serial_buf blk;

	ap_serial_buf_init(&blk);
	put_zblock(&blk, 0, codec, (uint64_t)((int64_t)raw->len + len_delta),
		   zb.p, zb.len);
	expect_bad_block(&blk, want);
	ap_serial_buf_deinit(&blk);
	ap_serial_buf_deinit(&zb);
}

START_TEST(bad_streams_and_lengths)
{
	struct ap_serial_buf raw = good_raw(400);
	unsigned char junk[300];
	struct ap_serial_buf blk;

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)rng();
	ap_serial_buf_init(&blk);
	put_zblock(&blk, 0, AP_PERSIST_CODEC_LZ4, 5000, junk, sizeof(junk));
	expect_bad_block(&blk, "bad lz4 data");
	blk.len = 0;
	put_zblock(&blk, 0, AP_PERSIST_CODEC_ZSTD, 5000, junk, sizeof(junk));
	expect_bad_block(&blk, "bad zstd data");
	/* Declared longer than what the stream yields, and shorter. */
	bad_from_raw(AP_PERSIST_CODEC_LZ4, &raw, 10, "fewer bytes than");
	bad_from_raw(AP_PERSIST_CODEC_ZSTD, &raw, 10, "fewer bytes than");
	bad_from_raw(AP_PERSIST_CODEC_LZ4, &raw, -10, "bad lz4 data");
	bad_from_raw(AP_PERSIST_CODEC_ZSTD, &raw, -10, "bad zstd data");
	/* Exactly right: good (the control). */
	{
		struct ap_serial_buf zb =
			squeeze(AP_PERSIST_CODEC_LZ4, raw.p, raw.len);
		struct ap_persist_iter it;
		struct ap_persist_zread z;
		struct ap_persist_rec r;
		uint64_t n = 0;

		blk.len = 0;
		put_zblock(&blk, 0, AP_PERSIST_CODEC_LZ4, raw.len, zb.p,
			   zb.len);
		ap_persist_zread_init(&z);
		ap_persist_iter_init_buf(&it, blk.p, blk.len);
		while (ap_persist_zread_next(&z, &it, &r)) {
			CK(r.in_block && r.off == 0);
			n++;
		}
		ck_assert_int_eq(it.status, AP_PERSIST_CLEAN);
		ck_assert_uint_eq(n, 400);
		ck_assert_uint_eq(z.blocks, 1);
		ck_assert_uint_eq(z.raw_bytes, raw.len);
		ap_persist_zread_deinit(&z);
		ap_serial_buf_deinit(&zb);
	}
	ap_serial_buf_deinit(&blk);
	ap_serial_buf_deinit(&raw);
}
END_TEST

START_TEST(bad_block_fields)
{
	unsigned char z[64];
	struct ap_serial_buf blk;

	memset(z, 7, sizeof(z));
	ap_serial_buf_init(&blk);
	put_zblock(&blk, 0, AP_PERSIST_CODEC_LZ4, 0, z, 1);
	expect_bad_block(&blk, "empty compressed block");
	blk.len = 0;
	put_zblock(&blk, 0, 0, 1000, z, sizeof(z));
	expect_bad_block(&blk, "unknown compression codec");
	blk.len = 0;
	put_zblock(&blk, 0, AP_PERSIST_CODEC_MAX + 1, 1000, z, sizeof(z));
	expect_bad_block(&blk, "unknown compression codec");
	blk.len = 0;
	put_zblock(&blk, 0, AP_PERSIST_CODEC_LZ4, 64, z, 64);
	expect_bad_block(&blk, "not smaller than its raw bytes");
	blk.len = 0;
	put_zblock(&blk, 0, AP_PERSIST_CODEC_LZ4, 1000, z, 0);
	expect_bad_block(&blk, "not smaller than its raw bytes");
	blk.len = 0;
	put_zblock(&blk, 5, AP_PERSIST_CODEC_LZ4, 1000, z, sizeof(z));
	expect_bad_block(&blk, "compressed block with a txid");
	/* The ceiling, and one past it. */
	blk.len = 0;
	put_zblock(&blk, 0, AP_PERSIST_CODEC_LZ4, AP_PERSIST_ZBLOCK_RAW_MAX + 1,
		   z, sizeof(z));
	expect_bad_block(&blk, "longer than AP_PERSIST_ZBLOCK_RAW_MAX");
	blk.len = 0;
	put_zblock(&blk, 0, AP_PERSIST_CODEC_LZ4, AP_PERSIST_ZBLOCK_RAW_MAX, z,
		   sizeof(z));
	expect_bad_block(&blk, "bad lz4 data");
	blk.len = 0;
	put_zblock(&blk, 0, AP_PERSIST_CODEC_ZSTD, 0xFFFFFFF0ull, z, sizeof(z));
	expect_bad_block(&blk, "longer than AP_PERSIST_ZBLOCK_RAW_MAX");
	ap_serial_buf_deinit(&blk);
}
END_TEST

START_TEST(raw_length_checked_before_allocating)
{
	unsigned char z[64];
	struct ap_serial_buf blk;
	struct ap_persist_iter it;
	struct ap_persist_zread zr;
	struct ap_persist_rec r;

	memset(z, 1, sizeof(z));
	ap_serial_buf_init(&blk);
	put_zblock(&blk, 0, AP_PERSIST_CODEC_ZSTD, 0xFFFFFFF0ull, z, sizeof(z));
	ap_persist_zread_init(&zr);
	ap_persist_iter_init_buf(&it, blk.p, blk.len);
	ck_assert(!ap_persist_zread_next(&zr, &it, &r));
	ck_assert_int_eq(it.status, AP_PERSIST_CORRUPT);
	ck_assert_uint_eq(zr.raw.cap, 0); /* nothing allocated */
	ck_assert_ptr_null(zr.zstd);
	ap_persist_zread_deinit(&zr);
	ap_serial_buf_deinit(&blk);
}
END_TEST

/* A block holding raw (compressed with lz4) must fail with want. */
static void bad_inside(const struct ap_serial_buf *raw, const char *want)
{
	bad_from_raw(AP_PERSIST_CODEC_LZ4, raw, 0, want);
}

START_TEST(bad_records_inside)
{
	struct ap_serial_buf raw = good_raw(300);
	char want[96];
	size_t second;
	uint32_t len;

	/* A flipped byte in the second record's payload: its CRC fails. */
	memcpy(&len, raw.p, 4);
	second = AP_PERSIST_HEADER_SIZE + len;
	raw.p[second + AP_PERSIST_HEADER_SIZE + 3] ^= 0x20;
	snprintf(want, sizeof(want), "bad record at byte %zu of its %zu: %s",
		 second, raw.len, "checksum mismatch");
	bad_inside(&raw, want);
	raw.p[second + AP_PERSIST_HEADER_SIZE + 3] ^= 0x20;
	/* Cut inside the last record. */
	raw.len -= 5;
	bad_inside(&raw, "the file ends inside a record");
	raw.len += 5;
	/* A block inside a block. */
	{
		struct ap_serial_buf in = good_raw(10);
		struct ap_serial_buf zb =
			squeeze(AP_PERSIST_CODEC_LZ4, raw.p, raw.len);

		put_zblock(&in, 0, AP_PERSIST_CODEC_LZ4, raw.len, zb.p, zb.len);
		bad_inside(&in, "a compressed block inside another");
		ap_serial_buf_deinit(&zb);
		ap_serial_buf_deinit(&in);
	}
	/* A transaction part inside a block. */
	{
		struct ap_persist_enc e;
		struct ap_serial_buf in;
		const uint16_t shards[] = {0, 1};

		ap_persist_enc_init(&e);
		put_records(&e, 1, 200, 80, false);
		ap_persist_enc_txn_begin(&e, 9, shards, 2);
		ap_persist_enc_del(&e, 0, "k", 1);
		ap_persist_enc_txn_end(&e);
		ap_serial_buf_init(&in);
		ap_serial_buf_put(&in, e.b.p, e.b.len);
		bad_inside(&in,
			   "a transaction record inside a compressed block");
		ap_serial_buf_deinit(&in);
		ap_persist_enc_deinit(&e);
	}
	ap_serial_buf_deinit(&raw);
}
END_TEST

/* --- damage to a packed file ---------------------------------------------- */

/* A packed file of a few blocks and some plain records. */
static struct bytes small_packed(struct bytes *plain)
{
	struct ap_persist_enc e;
	size_t seq = 0;

	ap_persist_enc_init(&e);
	seq = put_records(&e, seq, 2500, 100, false);
	seq = put_records(&e, seq, 600, 1000, true);
	(void)put_records(&e, seq, 2500, 100, false);
	*plain = copy_of(&e);
	struct bytes packed = pack_all(&e, AP_PERSIST_CODEC_LZ4, 1, NULL);
	ap_persist_enc_deinit(&e);
	return packed;
}

/* Reads all of p[0..len) with a block reader; returns the status and
 * the records read. */
static enum ap_persist_status read_status(const unsigned char *p, size_t len,
					  uint64_t *end_off, uint64_t *n)
{
	struct ap_persist_iter it;
	struct ap_persist_zread z;
	struct ap_persist_rec r;

	*n = 0;
	ap_persist_zread_init(&z);
	ap_persist_iter_init_buf(&it, p, len);
	while (ap_persist_zread_next(&z, &it, &r))
		(*n)++;
	ap_persist_zread_deinit(&z);
	*end_off = it.end_off;
	return it.status;
}

START_TEST(truncations_are_torn_at_the_block)
{
	struct bytes plain, packed;
	struct ap_persist_iter it;
	struct ap_persist_rec r;
	uint64_t offs[1024];
	size_t nrec = 0;

	packed = small_packed(&plain);
	ap_persist_iter_init_buf(&it, packed.p, packed.len);
	while (ap_persist_iter_next(&it, &r)) {
		ck_assert_uint_lt(nrec, AP_ARRAY_LEN(offs));
		offs[nrec++] = r.off;
	}
	ck_assert_uint_gt(nrec, 100);
	for (int k = 0; k < 300; k++) {
		size_t cut = 1 + rng_below(packed.len - 1);
		size_t start = 0;
		uint64_t end_off, n;
		enum ap_persist_status st;

		for (size_t i = 0; i < nrec; i++)
			if (offs[i] <= cut)
				start = offs[i];
		st = read_status(packed.p, cut, &end_off, &n);
		if (start == cut) {
			CK(st == AP_PERSIST_CLEAN);
			continue;
		}
		CK(st == AP_PERSIST_TORN);
		CK(end_off == start);
	}
	free(plain.p);
	free(packed.p);
}
END_TEST

START_TEST(bit_flips_never_accepted)
{
	struct bytes plain, packed;

	packed = small_packed(&plain);
	for (int k = 0; k < 3000; k++) {
		size_t at = rng_below(packed.len);
		unsigned bit = (unsigned)rng_below(8);
		uint64_t end_off, n;

		packed.p[at] ^= (unsigned char)(1u << bit);
		CK(read_status(packed.p, packed.len, &end_off, &n) !=
		   AP_PERSIST_CLEAN);
		CK(end_off <= at);
		packed.p[at] ^= (unsigned char)(1u << bit);
	}
	free(plain.p);
	free(packed.p);
}
END_TEST

/* --- the iterator's verdicts ---------------------------------------------- */

START_TEST(iterator_reject_and_bad_checksum)
{
	struct ap_persist_enc e;
	struct ap_persist_iter it;
	struct ap_persist_rec r;
	const uint16_t shards[] = {0, 3};
	size_t part_off, b_off, c_off, end;

	ap_persist_enc_init(&e);
	ap_persist_enc_del(&e, 0, "a", 1);
	part_off = e.b.len;
	ap_persist_enc_txn_begin(&e, 4, shards, 2);
	b_off = e.b.len;
	ap_persist_enc_del(&e, 0, "b", 1);
	c_off = e.b.len;
	ap_persist_enc_del(&e, 0, "c", 1);
	ap_persist_enc_txn_end(&e);
	end = e.b.len;
	ap_persist_enc_del(&e, 0, "d", 1);
	/* The last record of a part rejected: the repair keeps the part
	 * out. */
	ap_persist_iter_init_buf(&it, e.b.p, e.b.len);
	for (int i = 0; i < 4; i++)
		ck_assert(ap_persist_iter_next(&it, &r));
	ck_assert_uint_eq(r.off, c_off);
	ap_persist_iter_reject(&it, r.off, r.txid, "bad value");
	ck_assert_int_eq(it.status, AP_PERSIST_CORRUPT);
	ck_assert_uint_eq(it.end_off, c_off);
	ck_assert_uint_eq(it.keep_len, part_off);
	ck_assert_uint_eq(it.cut_txid, 4);
	ck_assert_str_eq(it.why, "bad value");
	ck_assert(!ap_persist_iter_next(&it, &r));
	/* A record after the part: the cut is at it. */
	ap_persist_iter_init_buf(&it, e.b.p, e.b.len);
	for (int i = 0; i < 5; i++)
		ck_assert(ap_persist_iter_next(&it, &r));
	ck_assert_uint_eq(r.off, end);
	ap_persist_iter_reject(&it, r.off, r.txid, "bad value");
	ck_assert_uint_eq(it.keep_len, end);
	ck_assert_uint_eq(it.cut_txid, 0);
	/* Bad checksums found in pieces: corrupt before the end... */
	ap_persist_iter_init(&it, e.b.len);
	ap_persist_iter_feed(&it, e.b.p, 12);
	ck_assert(!ap_persist_iter_next(&it, &r)); /* needs all of "a" */
	ck_assert_int_eq(it.status, AP_PERSIST_NEED_MORE);
	ap_persist_iter_bad_checksum(&it);
	ck_assert_int_eq(it.status, AP_PERSIST_CORRUPT);
	ck_assert_uint_eq(it.end_off, 0);
	ck_assert_uint_eq(it.keep_len, 0);
	ck_assert_str_eq(it.why, "checksum mismatch");
	ck_assert(!ap_persist_iter_next(&it, &r));
	/* ... torn when the record ends the file, inside a part here. */
	ap_persist_iter_init(&it, c_off);
	ap_persist_iter_feed(&it, e.b.p, c_off - 2);
	ck_assert(ap_persist_iter_next(&it, &r));
	ck_assert(ap_persist_iter_next(&it, &r));
	ck_assert(!ap_persist_iter_next(&it, &r));
	ck_assert_int_eq(it.status, AP_PERSIST_NEED_MORE);
	ap_persist_iter_bad_checksum(&it);
	ck_assert_int_eq(it.status, AP_PERSIST_TORN);
	ck_assert_uint_eq(it.end_off, b_off);
	ck_assert_uint_eq(it.keep_len, part_off);
	ck_assert_str_eq(it.why, "checksum mismatch in the last record");
	ap_persist_enc_deinit(&e);
}
END_TEST

/* --- randomized ----------------------------------------------------------- */

/* A writer as a snapshot runs it: records arrive in bursts, packs of a
 * random budget without flush in between, a flush at the end; then the
 * packed bytes are read back in random pieces and compared with the
 * plain records. Codecs, levels and compressibility vary. */
START_TEST(randomized_writer)
{
	for (int round = 0; round < 12; round++) {
		struct ap_persist_zenc z;
		struct ap_persist_enc src, out, all;
		struct bytes plain, packed;
		enum ap_persist_codec codec =
			(enum ap_persist_codec)rng_below(3);
		int level = 1 + (int)rng_below(4);
		size_t seq = 0;
		int steps = 20 + (int)rng_below(60);

		ap_persist_zenc_init(&z, codec, level);
		ap_persist_enc_init(&src);
		ap_persist_enc_init(&out);
		ap_persist_enc_init(&all);
		for (int s = 0; s < steps; s++) {
			size_t before = src.b.len;
			size_t n = rng_below(400);
			bool random = rng_below(3) == 0;

			if (rng_below(40) == 0) {
				size_t big =
					AP_PERSIST_ZBLOCK_SIZE +
					rng_below(AP_PERSIST_ZBLOCK_RAW_MAX);

				put_value(&src, seq++, big, rng_below(2) == 0);
			}
			seq = put_records(&src, seq, n, 1 + rng_below(500),
					  random);
			ap_serial_buf_put(&all.b, src.b.p + before,
					  src.b.len - before);
			(void)ap_persist_zenc_pack(
				&z, &src, &out,
				rng_below(2)
					? SIZE_MAX
					: rng_below(2 * AP_PERSIST_ZBLOCK_SIZE),
				false);
		}
		(void)ap_persist_zenc_pack(&z, &src, &out, SIZE_MAX, true);
		ck_assert_uint_eq(src.b.len, 0);
		ck_assert_uint_eq(z.raw_bytes, all.b.len);
		plain = copy_of(&all);
		packed = copy_of(&out);
		ck_assert_uint_le(packed.len, plain.len);
		ck_assert_uint_eq(
			outer_blocks(&packed, AP_PERSIST_ZBLOCK_RAW_MAX, NULL),
			z.blocks);
		ck_assert_uint_eq(check_same(&plain, &packed, true), z.blocks);
		if (codec == AP_PERSIST_CODEC_NONE)
			ck_assert_uint_eq(z.blocks, 0);
		free(plain.p);
		free(packed.p);
		ap_persist_zenc_deinit(&z);
		ap_persist_enc_deinit(&src);
		ap_persist_enc_deinit(&out);
		ap_persist_enc_deinit(&all);
	}
}
END_TEST

static Suite *zblock_suite(void)
{
	Suite *s = suite_create("persist_zblock");
	TCase *tc = tcase_create("zblock");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, round_trip_lz4);
	tcase_add_test(tc, round_trip_zstd);
	tcase_add_test(tc, codec_none_copies_plain);
	tcase_add_test(tc, incompressible_written_plain);
	tcase_add_test(tc, mixed_compressibility);
	tcase_add_test(tc, partial_block_waits_for_flush);
	tcase_add_test(tc, records_bigger_than_a_block);
	tcase_add_test(tc, bad_streams_and_lengths);
	tcase_add_test(tc, bad_block_fields);
	tcase_add_test(tc, raw_length_checked_before_allocating);
	tcase_add_test(tc, bad_records_inside);
	tcase_add_test(tc, truncations_are_torn_at_the_block);
	tcase_add_test(tc, bit_flips_never_accepted);
	tcase_add_test(tc, iterator_reject_and_bad_checksum);
	tcase_add_test(tc, randomized_writer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	ap_core_setup();

	SRunner *sr = srunner_create(zblock_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures != 0;
}
