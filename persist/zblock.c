/*
 * zblock.c - compressed blocks of base snapshots (persist.h, "compressed
 * blocks"; docs/persistence.md): the writer that packs an encoder's
 * records into ZBLOCK records with lz4 or zstd, and the reader that
 * expands them back into records while a file is walked.
 *
 * Only base snapshots are compressed. A log's records are written a tick
 * at a time and each must stay recoverable on its own (a torn tail cuts
 * at a record), while a snapshot is written in bulk and is whole or
 * worthless; its VALUE records compress well together (keys with common
 * prefixes, values of one shape).
 *
 * A block is framed and checksummed like any record, and the records
 * inside keep their own framing and checksums: the block's CRC catches a
 * damaged file before the decompressor sees it, the inner CRCs catch a
 * decompressor or writer bug. Reading bounds everything before
 * allocating: the raw length (the iterator refuses more than
 * AP_PERSIST_ZBLOCK_RAW_MAX), then decompression into exactly that many
 * bytes (a stream that yields more or fewer is corrupt).
 */
#include "persist/persist.h"

#include "persist/persist_int.h"

#include <inttypes.h>
#include <lz4.h>
#include <stdio.h>
#include <string.h>
#include <zstd.h>

#include "core/config.h"

_Static_assert((int)AP_PERSIST_CODEC_LZ4 == (int)AP_SNAPSHOT_COMPRESSION_LZ4 &&
		       (int)AP_PERSIST_CODEC_ZSTD ==
			       (int)AP_SNAPSHOT_COMPRESSION_ZSTD,
	       "snapshot-compression values are the codec ids on disk");
_Static_assert(AP_PERSIST_ZBLOCK_SIZE <= AP_PERSIST_ZBLOCK_RAW_MAX,
	       "a block's target size is within what readers accept");
_Static_assert(AP_PERSIST_ZBLOCK_RAW_MAX <= LZ4_MAX_INPUT_SIZE,
	       "lz4 takes a whole block in one call");

/* A ZBLOCK's bytes before the compressed ones, at most: the header, the
 * kind, txid 0, the codec and the raw length as a varint (3 bytes for
 * up to 2^21). */
#define ZBLOCK_PREFIX_MAX (AP_PERSIST_HEADER_SIZE + 3 + 3)
_Static_assert(AP_PERSIST_ZBLOCK_RAW_MAX < (1u << 21),
	       "the raw length varint fits ZBLOCK_PREFIX_MAX");

/* lz4's acceleration: 1 is its default (best ratio of the fast mode). */
#define LZ4_ACCELERATION 1
/* A block is written compressed only when it saves at least 1/GAIN_MIN
 * of its raw bytes: below that (random or already compressed values,
 * where only the framing compresses) decompressing at load costs more
 * than the bytes saved. */
#define GAIN_MIN 32

/* --- writer --------------------------------------------------------------- */

/* A writer for codec, nothing allocated yet. */
void ap_persist_zenc_init(struct ap_persist_zenc *z,
			  enum ap_persist_codec codec, int level)
{
	AP_ASSERT(codec <= AP_PERSIST_CODEC_MAX);
	AP_ASSERT(level >= AP_SNAPSHOT_ZSTD_LEVEL_MIN &&
		  level <= AP_SNAPSHOT_ZSTD_LEVEL_MAX);
	memset(z, 0, sizeof(*z));
	z->codec = codec;
	z->level = level;
}

/* Frees the compressors; z is left zeroed (codec NONE). */
void ap_persist_zenc_deinit(struct ap_persist_zenc *z)
{
	ap_free(z->lz4);
	ZSTD_freeCCtx(z->zstd);
	memset(z, 0, sizeof(*z));
}

/* The payload length of the record whose header is at p (bytes the
 * writer's own encoder sealed, so trusted). */
static size_t rec_size_at(const unsigned char *p)
{
	uint32_t len;

	memcpy(&len, p, 4);
	return AP_PERSIST_HEADER_SIZE + (size_t)len;
}

/* The length of the block starting at src[from]: whole records while the
 * block stays within AP_PERSIST_ZBLOCK_SIZE, at least one. *full says
 * whether a next record or the size ended it (false: it reached the end
 * of src with room left). */
static size_t block_len(const struct ap_serial_buf *src, size_t from,
			bool *full)
{
	size_t at = from;

	*full = false;
	while (at < src->len) {
		size_t n = rec_size_at(src->p + at);

		AP_ASSERT(n <= src->len - at);
		if (at > from && at - from + n > AP_PERSIST_ZBLOCK_SIZE) {
			*full = true;
			break;
		}
		at += n;
		if (at - from >= AP_PERSIST_ZBLOCK_SIZE) {
			*full = true;
			break;
		}
	}
	return at - from;
}

/* Compresses len bytes at src into dst (cap bytes) with z's codec.
 * Returns the compressed length, or 0 when they do not fit in cap (the
 * block does not shrink enough) or the compressor refuses. */
static size_t compress(struct ap_persist_zenc *z, const unsigned char *src,
		       size_t len, unsigned char *dst, size_t cap)
{
	if (z->codec == AP_PERSIST_CODEC_LZ4) {
		int n;

		if (z->lz4 == NULL)
			z->lz4 = ap_malloc((size_t)LZ4_sizeofState());
		n = LZ4_compress_fast_extState(z->lz4, (const char *)src,
					       (char *)dst, (int)len, (int)cap,
					       LZ4_ACCELERATION);
		return n > 0 ? (size_t)n : 0;
	}
	AP_ASSERT(z->codec == AP_PERSIST_CODEC_ZSTD);
	if (z->zstd == NULL) {
		z->zstd = ZSTD_createCCtx();
		AP_ASSERT(z->zstd != NULL); /* out of memory */
	}
	size_t n = ZSTD_compressCCtx(z->zstd, dst, cap, src, len, z->level);
	return ZSTD_isError(n) ? 0 : n;
}

/* Appends the len raw bytes at src to out as one ZBLOCK record; false
 * (out unchanged) when the record would not be smaller than they are by
 * 1/GAIN_MIN at least. */
static bool put_block(struct ap_persist_zenc *z, const unsigned char *src,
		      size_t len, struct ap_serial_buf *out)
{
	size_t start = out->len;
	size_t prefix, clen, plen;
	unsigned char *p;
	uint32_t u;

	if (len <= ZBLOCK_PREFIX_MAX + len / GAIN_MIN + 1)
		return false;
	p = ap_serial_buf_reserve(out, len);
	memset(p, 0, AP_PERSIST_HEADER_SIZE);
	out->len += AP_PERSIST_HEADER_SIZE;
	ap_serial_buf_u8(out, AP_PERSIST_ZBLOCK);
	ap_serial_buf_varint(out, 0);
	ap_serial_buf_u8(out, (uint8_t)z->codec);
	ap_serial_buf_varint(out, len);
	prefix = out->len - start;
	AP_ASSERT(prefix <= ZBLOCK_PREFIX_MAX && out->cap - start >= len);
	/* The whole record must come out shorter than the raw bytes by the
	 * gain asked. */
	clen = compress(z, src, len, out->p + out->len,
			len - prefix - len / GAIN_MIN - 1);
	if (clen == 0) {
		out->len = start;
		return false;
	}
	out->len += clen;
	plen = out->len - start - AP_PERSIST_HEADER_SIZE;
	u = (uint32_t)plen;
	memcpy(out->p + start, &u, 4);
	u = ap_persist_crc32c(0, out->p + start + AP_PERSIST_HEADER_SIZE, plen);
	memcpy(out->p + start + 4, &u, 4);
	AP_ASSERT(out->len - start < len);
	return true;
}

/* Drops the packed bytes from src's front once they are at least as many
 * as the bytes that stay, or all of them. */
static void src_compact(struct ap_persist_zenc *z, struct ap_serial_buf *b)
{
	size_t stay = b->len - z->src_off;

	if (z->src_off == 0 || z->src_off < stay)
		return;
	memmove(b->p, b->p + z->src_off, stay);
	b->len = stay;
	z->src_off = 0;
}

/* Packs whole blocks from src's unpacked bytes into out (see persist.h). */
size_t ap_persist_zenc_pack(struct ap_persist_zenc *z,
			    struct ap_persist_enc *src,
			    struct ap_persist_enc *out, size_t budget,
			    bool flush)
{
	struct ap_serial_buf *b = &src->b;
	size_t at = z->src_off;

	AP_ASSERT(!ap_persist_enc_in_part(src) && !ap_persist_enc_in_part(out));
	AP_ASSERT(at <= b->len);
	while (at < b->len && at - z->src_off < budget) {
		bool full;
		size_t n = block_len(b, at, &full);

		if (!full && !flush)
			break;
		if (z->codec == AP_PERSIST_CODEC_NONE ||
		    n > AP_PERSIST_ZBLOCK_RAW_MAX ||
		    !put_block(z, b->p + at, n, &out->b)) {
			ap_serial_buf_put(&out->b, b->p + at, n);
			z->plain_bytes += n;
		} else {
			z->blocks++;
		}
		z->raw_bytes += n;
		at += n;
	}
	size_t moved = at - z->src_off;
	z->src_off = at;
	src_compact(z, b);
	return moved;
}

/* The bytes of src still to pack. */
size_t ap_persist_zenc_pending(const struct ap_persist_zenc *z,
			       const struct ap_persist_enc *src)
{
	AP_ASSERT(z->src_off <= src->b.len);
	return src->b.len - z->src_off;
}

/* --- reader --------------------------------------------------------------- */

/* An empty reader. */
void ap_persist_zread_init(struct ap_persist_zread *z)
{
	memset(z, 0, sizeof(*z));
	ap_serial_buf_init(&z->raw);
}

/* Frees the raw buffer and the decompressor. */
void ap_persist_zread_deinit(struct ap_persist_zread *z)
{
	ap_serial_buf_deinit(&z->raw);
	ZSTD_freeDCtx(z->zstd);
	z->zstd = NULL;
	z->open = false;
}

/* Decompresses block r into z->raw: exactly r->raw_len bytes (already
 * bounded by the iterator). Returns NULL or why the block is bad. */
static const char *expand(struct ap_persist_zread *z,
			  const struct ap_persist_rec *r)
{
	unsigned char *dst;
	size_t n;

	AP_ASSERT(r->raw_len >= 1 && r->raw_len <= AP_PERSIST_ZBLOCK_RAW_MAX);
	AP_ASSERT(r->zlen < r->raw_len);
	z->raw.len = 0;
	dst = ap_serial_buf_reserve(&z->raw, r->raw_len);
	if (r->codec == AP_PERSIST_CODEC_LZ4) {
		int got = LZ4_decompress_safe((const char *)r->zbytes,
					      (char *)dst, (int)r->zlen,
					      (int)r->raw_len);

		if (got < 0)
			return "compressed block: bad lz4 data, or more than "
			       "its raw length";
		n = (size_t)got;
	} else {
		AP_ASSERT(r->codec == AP_PERSIST_CODEC_ZSTD);
		if (z->zstd == NULL) {
			z->zstd = ZSTD_createDCtx();
			AP_ASSERT(z->zstd != NULL); /* out of memory */
		}
		n = ZSTD_decompressDCtx(z->zstd, dst, r->raw_len, r->zbytes,
					r->zlen);
		if (ZSTD_isError(n))
			return "compressed block: bad zstd data, or more than "
			       "its raw length";
	}
	if (n != r->raw_len)
		return "compressed block: fewer bytes than its raw length";
	z->raw.len = n;
	return NULL;
}

/* Ends the file's read as corrupt at the open (or just read) block. */
static bool reject(struct ap_persist_zread *z, struct ap_persist_iter *it,
		   uint64_t off, const char *why)
{
	z->open = false;
	ap_persist_iter_reject(it, off, 0, why);
	return false;
}

/* Ends the read over a bad record inside the open block, quoting where
 * and why into z->why. */
static bool reject_inner(struct ap_persist_zread *z, struct ap_persist_iter *it,
			 uint64_t pos, const char *why)
{
	snprintf(z->why, sizeof(z->why),
		 "compressed block: bad record at byte %" PRIu64
		 " of its %zu: %s",
		 pos, z->raw.len, why != NULL ? why : "?");
	return reject(z, it, z->block_off, z->why);
}

/* The next record of the open block: true, or false when the block ended
 * (z->open cleared; cleanly, or with the read rejected). */
static bool inner_next(struct ap_persist_zread *z, struct ap_persist_iter *it,
		       struct ap_persist_rec *r, bool *bad)
{
	*bad = false;
	if (ap_persist_iter_next(&z->in, r)) {
		const char *why = NULL;

		if (r->kind == AP_PERSIST_ZBLOCK)
			why = "a compressed block inside another";
		else if (r->txid != 0)
			why = "a transaction record inside a compressed block";
		if (why != NULL) {
			*bad = true;
			return reject_inner(z, it, r->off, why);
		}
		r->block_pos = (uint32_t)r->off;
		r->off = z->block_off;
		r->in_block = true;
		z->counts[r->kind]++;
		return true;
	}
	z->open = false;
	if (z->in.status == AP_PERSIST_CLEAN)
		return false;
	*bad = true;
	return reject_inner(z, it, z->in.end_off, z->in.why);
}

/* The next record, blocks expanded. */
bool ap_persist_zread_next(struct ap_persist_zread *z,
			   struct ap_persist_iter *it, struct ap_persist_rec *r)
{
	for (;;) {
		const char *why;

		if (z->open) {
			bool bad;

			if (inner_next(z, it, r, &bad))
				return true;
			if (bad)
				return false;
		}
		if (!ap_persist_iter_next(it, r))
			return false;
		if (r->kind != AP_PERSIST_ZBLOCK)
			return true;
		why = expand(z, r);
		if (why != NULL)
			return reject(z, it, r->off, why);
		z->open = true;
		z->block_off = r->off;
		z->blocks++;
		z->raw_bytes += r->raw_len;
		ap_persist_iter_init_buf(&z->in, z->raw.p, z->raw.len);
	}
}
