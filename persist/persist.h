/*
 * persist.h - the persistence module's formats, free of I/O: the framing
 * of append-only log records (encoder and validating reader), CRC32C, the
 * all-or-nothing rule for multi-shard transactions, and the manifest that
 * names a data set's files. docs/persistence.md is the design; the value
 * bytes inside VALUE records are core/serial.h's (docs/serialization.md).
 *
 * A log is a sequence of records:
 *
 *   u32 payload length (little endian)
 *   u32 CRC32C of the payload (little endian)
 *   payload: u8 kind, varint txid, then per kind:
 *     CMD    db:varint argc:varint { len:varint bytes } * argc
 *     VALUE  db:varint key:(len:varint bytes) expire:varint value-bytes
 *            (expire 0: none, else absolute Unix ms + 1; the value bytes
 *            run to the end of the payload)
 *     DEL    db:varint key:(len:varint bytes)
 *     TXN    nshards:varint { shard:varint } * nshards (strictly
 *            ascending) count:u32 (little endian)
 *     ZBLOCK codec:u8 raw_len:varint compressed-bytes (the rest)
 *
 * A ZBLOCK (base snapshots only, txid 0) holds raw_len bytes of whole
 * records of the other kinds with txid 0, each framed and checksummed as
 * above, compressed with codec (AP_PERSIST_CODEC_*); 1 <= raw_len <=
 * AP_PERSIST_ZBLOCK_RAW_MAX and the compressed bytes are fewer than
 * raw_len (a writer writes a block only when it shrinks). The iterator
 * returns a ZBLOCK as one record; struct ap_persist_zread expands it.
 *
 * Varints are LEB128 in their shortest form, as in serial.h. A TXN record
 * opens one shard's part of a multi-shard transaction (txid != 0); the
 * `count` records that follow it carry the same txid and make up the part.
 * The count is what makes a part's completeness decidable: a part cut at a
 * record boundary (a write torn exactly there) is otherwise
 * indistinguishable from a whole one. Records with txid 0 are single-shard
 * changes and never appear inside a part; a record with txid != 0 appears
 * only inside its part.
 *
 * Invariants checked on reading (all of them: the bytes come from disk and
 * are untrusted, so nothing here asserts on them): lengths against the
 * bytes left, the CRC, shortest-form varints, known kinds, db below
 * AP_DATABASES_MAX, 1 <= argc <= AP_ARGC_MAX, strings within the
 * proto-max-bulk-len ceiling, shard ids below AP_SHARDS_MAX, the payload
 * used exactly, and the part structure above. A log ends in one of three
 * ways: cleanly; with a torn tail (the last record's header or payload
 * runs past the end of the file, or its CRC fails and it ends exactly at
 * the end of the file, or the file ends inside a transaction part), which
 * a loader truncates; or with a bad record before the end (corruption),
 * which stops a start.
 *
 * Errors: operating errors (bad bytes, a full disk, a syscall failing) are
 * returned as 0 or -errno (-EBADMSG with a static reason for bad bytes);
 * misuse by the caller (a part left open, a shard id out of range passed
 * by the server itself) is a bug and asserts.
 *
 * Ownership: an encoder owns its buffer; a decoded record points into the
 * bytes fed to the iterator, valid until they are released or the next
 * feed. Manifests own their file arrays.
 *
 * Threading: none inside. An encoder, an iterator, a transaction log
 * belong to one thread (a shard, or the recovery code that owns them);
 * CRC32C may be called from any thread; a resolved transaction set is
 * read-only and may be shared once built.
 */
#ifndef AP_PERSIST_PERSIST_H
#define AP_PERSIST_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base.h"
#include "core/cmd.h"
#include "core/keyspace.h"
#include "core/limits.h"
#include "core/serial.h"

/* --- CRC32C (Castagnoli) ------------------------------------------------ */

/* CRC32C of len bytes at p, continuing crc (0 to start, or a previous
 * result): ap_persist_crc32c(0, "123456789", 9) == 0xE3069283. Uses the
 * SSE4.2 crc32 instruction when the CPU has it, else slicing-by-8. */
uint32_t ap_persist_crc32c(uint32_t crc, const void *p, size_t len);
/* The table-driven version, whatever the CPU (tests compare the two). */
uint32_t ap_persist_crc32c_sw(uint32_t crc, const void *p, size_t len);
/* True when the CPU has the crc32 instruction (SSE4.2 on x86-64). */
bool ap_persist_crc32c_hw_available(void);
/* The instruction version; only when ap_persist_crc32c_hw_available(). */
uint32_t ap_persist_crc32c_hw(uint32_t crc, const void *p, size_t len);

/* --- records -------------------------------------------------------------- */

/* Record kinds (the payload's first byte). 0 is never a kind. */
enum ap_persist_kind {
	AP_PERSIST_CMD = 1,
	AP_PERSIST_VALUE = 2,
	AP_PERSIST_DEL = 3,
	AP_PERSIST_TXN = 4,
	AP_PERSIST_ZBLOCK = 5,
};
#define AP_PERSIST_KIND_MAX AP_PERSIST_ZBLOCK

/* A ZBLOCK's codec: the values of enum ap_snapshot_compression (core/
 * config.h), which names them in the configuration. 0 (none) is never
 * written: records that are not compressed are written plain. */
enum ap_persist_codec {
	AP_PERSIST_CODEC_NONE = 0,
	AP_PERSIST_CODEC_LZ4 = 1,
	AP_PERSIST_CODEC_ZSTD = 2,
};
#define AP_PERSIST_CODEC_MAX AP_PERSIST_CODEC_ZSTD

/* Bytes before a record's payload: length and CRC. */
#define AP_PERSIST_HEADER_SIZE 8

/* The name of a kind ("CMD", ...), or "?" for anything else. */
const char *ap_persist_kind_name(unsigned kind);
/* The name of a codec ("none", "lz4", "zstd"), or "?". */
const char *ap_persist_codec_name(unsigned codec);

/* --- encoder -------------------------------------------------------------- */

/*
 * Appends records to a growable buffer, one allocation amortized over many
 * records (never one per record). The buffer's bytes are b.p[0..b.len):
 * the caller writes them out and then clears the encoder. Records put
 * between ap_persist_enc_txn_begin and _end form that part and carry its
 * txid; all others carry txid 0.
 */
struct ap_persist_enc {
	struct ap_serial_buf b;
	/* The open transaction part: offset of its TXN record in b, or
	 * SIZE_MAX when none is open. */
	size_t part_off;
	size_t part_count_pos; /* offset of its count field in b */
	uint64_t part_txid;
	uint32_t part_count; /* records put in it so far */
};

/* An empty encoder; nothing is allocated until the first record. */
void ap_persist_enc_init(struct ap_persist_enc *e);
/* Frees the buffer. No part may be open, except a detached one. */
void ap_persist_enc_deinit(struct ap_persist_enc *e);
/* Empties the buffer (after it was written out), keeping up to
 * AP_PERSIST_ENC_KEEP_SIZE bytes of memory for the next records. No part
 * may be open: a part is written whole. */
void ap_persist_enc_clear(struct ap_persist_enc *e);
/* True while a transaction part is open. */
bool ap_persist_enc_in_part(const struct ap_persist_enc *e);

/* Appends a CMD record: argv[0..argc) run in database db. Returns 0, or
 * -EMSGSIZE (nothing appended) when the payload would pass
 * AP_PERSIST_RECORD_LEN_MAX. argc must be in [1, AP_ARGC_MAX]. */
AP_MUST_CHECK int ap_persist_enc_cmd(struct ap_persist_enc *e, unsigned db,
				     int argc, const struct ap_arg *argv);
/* Appends a VALUE record holding entry ent (its key, TTL and value, as
 * ap_serial_encode_entry writes it) in database db. Returns 0, or
 * -EMSGSIZE (nothing appended) when the value is too big for a record. */
AP_MUST_CHECK int ap_persist_enc_entry(struct ap_persist_enc *e, unsigned db,
				       const struct ap_entry *ent);
/* Appends a VALUE record from value bytes already in the serial format
 * (a RESTORE payload without its footer): key, expiry (absolute Unix ms,
 * >= 0, or AP_NO_EXPIRE) and vlen >= 2 bytes. Returns 0 or -EMSGSIZE. */
AP_MUST_CHECK int ap_persist_enc_value(struct ap_persist_enc *e, unsigned db,
				       const char *key, size_t klen,
				       int64_t expire_ms, const void *value,
				       size_t vlen);
/* Appends a DEL record. */
void ap_persist_enc_del(struct ap_persist_enc *e, unsigned db, const char *key,
			size_t klen);
/* Opens this shard's part of transaction txid (!= 0), whose participants
 * are shards[0..nshards), strictly ascending, each below AP_SHARDS_MAX
 * (the writing shard among them). No part may be open. */
void ap_persist_enc_txn_begin(struct ap_persist_enc *e, uint64_t txid,
			      const uint16_t *shards, unsigned nshards);
/* Closes the open part: fills in its record count and its checksum. */
void ap_persist_enc_txn_end(struct ap_persist_enc *e);

/* Opens a detached part of transaction txid (!= 0): the records put next
 * carry txid and are counted, but no TXN record is written yet (the
 * participants are not known). No part may be open. */
void ap_persist_enc_txn_detach(struct ap_persist_enc *e, uint64_t txid);
/* Appends to dst (no part open there) the TXN record of side's detached
 * part over shards[0..nshards) followed by side's records, then empties
 * side and closes its part. */
void ap_persist_enc_txn_splice(struct ap_persist_enc *dst,
			       struct ap_persist_enc *side,
			       const uint16_t *shards, unsigned nshards);

/* --- reader --------------------------------------------------------------- */

/* A decoded record. Pointers point into the bytes fed to the iterator. */
struct ap_persist_rec {
	enum ap_persist_kind kind;
	uint64_t txid;
	uint64_t off;  /* file offset of the record's header */
	uint64_t size; /* header and payload */
	unsigned db;   /* CMD VALUE DEL */
	/* CMD: argc arguments, encoded at args (see ap_persist_rec_argv). */
	uint32_t argc;
	const unsigned char *args;
	size_t args_len;
	/* VALUE DEL */
	const char *key;
	size_t klen;
	/* VALUE: absolute Unix ms or AP_NO_EXPIRE, and the serial bytes. */
	int64_t expire_ms;
	const unsigned char *value;
	size_t value_len;
	/* TXN: the participants (a bitmap of shard ids) and the records in
	 * this shard's part. */
	unsigned nshards;
	uint64_t shard_mask[AP_SHARDS_MAX / 64];
	uint32_t part_count;
	/* ZBLOCK: the codec, the raw length, the compressed bytes. */
	unsigned codec;
	uint32_t raw_len;
	const unsigned char *zbytes;
	size_t zlen;
	/* A record that came out of a compressed block (ap_persist_zread):
	 * off is then the block's file offset (what a repair cuts at) and
	 * block_pos the record's offset among the block's raw bytes. */
	bool in_block;
	uint32_t block_pos;
};

/* Whether shard is among a TXN record's participants. */
bool ap_persist_rec_has_shard(const struct ap_persist_rec *r, unsigned shard);
/* Fills argv[0..r->argc) with a CMD record's arguments (pointers into the
 * record's bytes). The caller sizes argv from r->argc. */
void ap_persist_rec_argv(const struct ap_persist_rec *r, struct ap_arg *argv);

/* How a read ended (or why it paused). */
enum ap_persist_status {
	AP_PERSIST_READING = 0, /* records may follow */
	AP_PERSIST_NEED_MORE,	/* feed the bytes from it->end_off on */
	AP_PERSIST_CLEAN,	/* every byte was a good record */
	AP_PERSIST_TORN,	/* a torn tail: truncate to it->keep_len */
	AP_PERSIST_CORRUPT,	/* a bad record at it->end_off */
};

/*
 * Walks the records of one log file. The whole file may be fed at once
 * (ap_persist_iter_init_buf), or in pieces: ap_persist_iter_init with the
 * file's length, then ap_persist_iter_feed with the bytes from offset
 * it->end_off on each time next() stops with AP_PERSIST_NEED_MORE (at
 * least it->want bytes; a record is never split across feeds). Offsets
 * are file offsets whichever way the bytes came.
 *
 * After next() returns false, status says how the log ended:
 *   CLEAN    end_off = keep_len = the file length.
 *   TORN     end_off = where the torn record starts; keep_len = the bytes
 *            a loader keeps (truncates to): end_off, or the offset of the
 *            TXN record of a part the end cut short, since a part is kept
 *            whole or not at all (cut_txid is then that part's txid).
 *   CORRUPT  end_off = the bad record's offset; keep_len = what a salvage
 *            keeps (the same rule for an open part).
 * why is a static reason for TORN and CORRUPT (or, after an
 * ap_persist_zread found a bad block, text that zread holds).
 */
struct ap_persist_iter {
	const unsigned char *p; /* bytes fed: file offsets base.. */
	size_t len;
	size_t pos; /* next record within p */
	uint64_t base;
	uint64_t file_len;
	/* The part being read: its txid, records still to come, and the
	 * file offset of its TXN record. */
	uint64_t part_txid;
	uint32_t part_left;
	uint64_t part_off;
	uint64_t counts[AP_PERSIST_KIND_MAX + 1]; /* good records per kind */
	enum ap_persist_status status;
	uint64_t end_off;
	uint64_t keep_len;
	uint64_t cut_txid;
	uint64_t want;
	const char *why;
};

/* Starts a read of a file of file_len bytes, to be fed in pieces. */
void ap_persist_iter_init(struct ap_persist_iter *it, uint64_t file_len);
/* Starts a read of a whole file held in the len bytes at p. */
void ap_persist_iter_init_buf(struct ap_persist_iter *it, const void *p,
			      size_t len);
/* Feeds the len bytes at p, which hold the file from offset it->end_off on
 * (it->end_off is 0 before the first feed). Records returned before are
 * no longer valid if they pointed into the previous bytes. */
void ap_persist_iter_feed(struct ap_persist_iter *it, const void *p,
			  size_t len);
/* Decodes the next record into *r and returns true; or returns false with
 * it->status saying why (see the struct). O(record size). */
bool ap_persist_iter_next(struct ap_persist_iter *it, struct ap_persist_rec *r);
/* A static name of a status ("clean", "torn", ...). */
const char *ap_persist_status_name(enum ap_persist_status s);
/* Ends the read as CORRUPT at file offset off, where a record next()
 * returned (with txid) turned out bad on a closer look (a value that does
 * not decode, a block that does not expand): end_off = off, keep_len as
 * for any bad record (the TXN record of its part, else off). why must
 * outlive the iterator's use. */
void ap_persist_iter_reject(struct ap_persist_iter *it, uint64_t off,
			    uint64_t txid, const char *why);
/* While next() waits for a whole record (NEED_MORE; it->want bytes from
 * it->end_off), the caller checked that record's checksum in pieces
 * itself (so as not to allocate a buffer of its length before knowing
 * the length is real) and it failed: ends the read as next() would have
 * on the whole record (TORN when the record ends exactly at the end of
 * the file, else CORRUPT). */
void ap_persist_iter_bad_checksum(struct ap_persist_iter *it);

/* --- compressed blocks (persist/zblock.c) --------------------------------- */

/*
 * The block writer: packs the records an encoder gathered (a snapshot's
 * VALUE records) into ZBLOCK records in another encoder. Records are
 * taken whole, in order, up to AP_PERSIST_ZBLOCK_SIZE raw bytes a block
 * (a record alone bigger than that is a block of its own, or plain
 * beyond AP_PERSIST_ZBLOCK_RAW_MAX); a block that does not shrink by
 * 1/32 at least is copied plain, so a file is never bigger than without
 * compression. The compressor's state is allocated on first use and kept
 * until deinit. One thread.
 */
struct ap_persist_zenc {
	enum ap_persist_codec codec; /* NONE: records are copied plain */
	int level;		     /* zstd's */
	void *lz4;		     /* LZ4 state, on first use */
	void *zstd;		     /* ZSTD_CCtx, on first use */
	uint64_t raw_bytes;	     /* records packed */
	uint64_t blocks;	     /* ZBLOCK records written */
	uint64_t plain_bytes;	     /* records copied plain */
	/* Bytes at the front of the source encoder already packed: they
	 * leave it lazily, once they are at least as many as the bytes
	 * that stay (so moving what stays costs O(1) per byte packed). */
	size_t src_off;
};

/* A writer for codec; level (zstd) within AP_SNAPSHOT_ZSTD_LEVEL_MIN..
 * _MAX. Allocates nothing. */
void ap_persist_zenc_init(struct ap_persist_zenc *z,
			  enum ap_persist_codec codec, int level);
/* Frees the compressor's state; z may be initialized again. */
void ap_persist_zenc_deinit(struct ap_persist_zenc *z);
/*
 * Moves whole records from the front of src (no part open there) to the
 * end of out, as blocks, until src has nothing left to pack or at least
 * budget raw bytes moved. z remembers how much of src it packed: one z
 * packs one src, to which the caller only appends between calls.
 * Without flush, a last block that is not full (its records reach the
 * end of src with room left) stays for more records to join; with flush
 * it goes too. Returns the raw bytes moved; src's bytes not packed yet
 * are then ap_persist_zenc_pending's. O(bytes moved), amortized.
 */
size_t ap_persist_zenc_pack(struct ap_persist_zenc *z,
			    struct ap_persist_enc *src,
			    struct ap_persist_enc *out, size_t budget,
			    bool flush);
/* Bytes of src not packed yet (its records waiting for a pack). */
size_t ap_persist_zenc_pending(const struct ap_persist_zenc *z,
			       const struct ap_persist_enc *src);

/*
 * The block reader: walks a file's records as its iterator returns them,
 * expanding each ZBLOCK into the records it holds (returned one by one
 * with in_block set, pointing into the block's raw bytes, valid until the
 * next call). The raw length is checked against AP_PERSIST_ZBLOCK_RAW_MAX
 * (by the iterator) before anything is allocated, and decompression must
 * yield exactly that many bytes. A block that does not expand, holds a
 * record that is bad (framing, CRC, fields, a cut record), another block,
 * or a record with a txid ends the file's read as CORRUPT at the block's
 * offset (ap_persist_iter_reject), with a reason held in z. One thread.
 */
struct ap_persist_zread {
	struct ap_serial_buf raw;  /* the open block's raw bytes */
	struct ap_persist_iter in; /* over raw */
	bool open;
	uint64_t block_off; /* the open block's file offset */
	void *zstd;	    /* ZSTD_DCtx, on first use */
	uint64_t blocks;    /* blocks expanded */
	uint64_t raw_bytes; /* their raw bytes */
	/* Records returned from inside blocks, per kind. */
	uint64_t counts[AP_PERSIST_KIND_MAX + 1];
	char why[160]; /* the reason of a bad block */
};

/* An empty block reader; allocates nothing yet. */
void ap_persist_zread_init(struct ap_persist_zread *z);
/* Frees the raw buffer and the decompressor. */
void ap_persist_zread_deinit(struct ap_persist_zread *z);
/* The next record of the file it walks into *r, blocks expanded: true;
 * or false with it->status saying why, as ap_persist_iter_next (feed it
 * and call again on NEED_MORE). */
bool ap_persist_zread_next(struct ap_persist_zread *z,
			   struct ap_persist_iter *it,
			   struct ap_persist_rec *r);

/* --- multi-shard transactions --------------------------------------------- */

/*
 * Recovery applies a multi-shard transaction only if every shard it names
 * logged its whole part (docs/persistence.md, recovery). Each shard's scan
 * collects its TXN records in a struct ap_persist_txn_log (a part the end
 * of the log cut short is marked absent); ap_persist_txn_resolve then
 * decides, over all shards' logs, which txids are complete.
 */
struct ap_persist_txn_part {
	uint64_t txid;
	uint64_t list_hash; /* hash of the participants' bitmap */
	uint16_t shard;	    /* whose log holds this part */
	uint16_t nshards;   /* participants */
	uint16_t shard_max; /* highest participant */
	bool present;	    /* the whole part is in the log */
};

struct ap_persist_txn_log {
	unsigned shard;
	struct ap_persist_txn_part *parts;
	size_t count, cap;
};

/* An empty log summary for shard (below AP_SHARDS_MAX). */
void ap_persist_txn_log_init(struct ap_persist_txn_log *l, unsigned shard);
void ap_persist_txn_log_deinit(struct ap_persist_txn_log *l);
/* Notes the TXN record r read from this shard's log; O(1) amortized.
 * Returns -EBADMSG with *why set when the record does not name this shard
 * among its participants. */
AP_MUST_CHECK int ap_persist_txn_log_add(struct ap_persist_txn_log *l,
					 const struct ap_persist_rec *r,
					 const char **why);
/* Marks the part of txid absent: the log ended inside it (the iterator's
 * cut_txid). It must be the last part added. */
void ap_persist_txn_log_cut(struct ap_persist_txn_log *l, uint64_t txid);

/* The txids to apply, ascending. */
struct ap_persist_txn_set {
	uint64_t *txids;
	size_t count;
};

/*
 * Decides which transactions are complete, given the summaries of the logs
 * of the nshards shards that wrote the data set (logs[0..nlogs), at most
 * one per shard; a shard with no log holds no part). A txid is complete
 * when every shard its TXN records name holds its whole part. Fills *out
 * (free with ap_persist_txn_set_deinit) and returns 0; or returns
 * -EBADMSG with *bad_txid and a static *why when the logs contradict each
 * other (one txid twice in a shard's log, shards disagreeing on its
 * participants, a participant beyond nshards), with *out empty.
 * O(P log P) for P parts in all.
 */
AP_MUST_CHECK int ap_persist_txn_resolve(const struct ap_persist_txn_log *logs,
					 size_t nlogs, unsigned nshards,
					 struct ap_persist_txn_set *out,
					 uint64_t *bad_txid, const char **why);
/* Whether txid is complete (to be applied). O(log n). */
bool ap_persist_txn_set_has(const struct ap_persist_txn_set *s, uint64_t txid);
void ap_persist_txn_set_deinit(struct ap_persist_txn_set *s);

/* --- manifest ------------------------------------------------------------- */

/*
 * The manifest (appendonlydir/manifest) names the files of a data set:
 *
 *   apiary-manifest <version> <nshards>
 *   <kind> <shard> <seq> <name>          one line per file
 *
 * kind is "base" (a snapshot) or "incr" (a log); names are the canonical
 * shard-<i>.base.<seq>.snap and shard-<i>.incr.<seq>.log, nothing else (so
 * a manifest can never point outside its directory). Every line ends in a
 * newline; numbers are decimal without leading zeros. Per shard: at most
 * one base; its logs have consecutive sequence numbers starting at the
 * base's (a log rewrite starts a snapshot and a new log at one instant),
 * or at 1 when the shard has no base (its history starts empty).
 */
#define AP_PERSIST_MANIFEST_VERSION 1
/* Room for a canonical file name and its terminating NUL. */
#define AP_PERSIST_FILE_NAME_SIZE 64

enum ap_persist_file_kind {
	AP_PERSIST_FILE_BASE = 0,
	AP_PERSIST_FILE_INCR = 1,
};

struct ap_persist_mfile {
	enum ap_persist_file_kind kind;
	unsigned shard;
	uint64_t seq;
};

/* Files sorted by (shard, kind, seq): a shard's base before its logs. */
struct ap_persist_manifest {
	unsigned version;
	unsigned nshards;
	struct ap_persist_mfile *files;
	size_t count, cap;
};

/* Writes the canonical name of a file into buf (AP_PERSIST_FILE_NAME_SIZE
 * bytes); returns its length. */
size_t ap_persist_file_name(char *buf, enum ap_persist_file_kind kind,
			    unsigned shard, uint64_t seq);

/* An empty manifest of the current version for nshards shards (1 to
 * AP_SHARDS_MAX). */
void ap_persist_manifest_init(struct ap_persist_manifest *m, unsigned nshards);
void ap_persist_manifest_deinit(struct ap_persist_manifest *m);
/* Adds a file, keeping the order. Returns 0, -EINVAL for a shard beyond
 * nshards or a sequence of 0, -EEXIST when the file is already named. */
AP_MUST_CHECK int ap_persist_manifest_add(struct ap_persist_manifest *m,
					  enum ap_persist_file_kind kind,
					  unsigned shard, uint64_t seq);
/* Checks the per-shard rules (one base at most; logs consecutive from the
 * base's sequence, or from 1 without a base). Returns 0, or -EBADMSG with
 * a message in err (err_size bytes, truncated to fit). */
AP_MUST_CHECK int ap_persist_manifest_check(const struct ap_persist_manifest *m,
					    char *err, size_t err_size);
/* Parses a manifest's text into *m (initialized here; deinit it even on
 * failure). Returns 0, or -EBADMSG with a message naming the line. */
AP_MUST_CHECK int ap_persist_manifest_parse(struct ap_persist_manifest *m,
					    const char *text, size_t len,
					    char *err, size_t err_size);
/* Appends the manifest's text to out. */
void ap_persist_manifest_format(const struct ap_persist_manifest *m,
				struct ap_serial_buf *out);
/* Reads and parses dir/manifest. Returns 0; -ENOENT when there is none; a
 * syscall's -errno; -EFBIG beyond AP_PERSIST_MANIFEST_SIZE_MAX; -EBADMSG
 * with err set. Plain blocking syscalls: for start-up, not a shard loop. */
AP_MUST_CHECK int ap_persist_manifest_read(const char *dir,
					   struct ap_persist_manifest *m,
					   char *err, size_t err_size);
/* Replaces dir/manifest atomically: writes dir/manifest.tmp, fsyncs it,
 * renames it over dir/manifest, fsyncs dir. Returns 0; -EINVAL if m fails
 * ap_persist_manifest_check; or the first failing syscall's -errno (the
 * temporary file is then removed, the old manifest untouched). Blocking
 * syscalls, off the request path. */
AP_MUST_CHECK int
ap_persist_manifest_write(const char *dir, const struct ap_persist_manifest *m);

/* --- recovery ------------------------------------------------------------- */

/*
 * Rebuilding the shards' keyspaces from a data set at start (persist/
 * load.c), in two phases. Both use plain blocking syscalls: they run
 * before the shards serve, never on a request path.
 *
 * Phase 1, ap_persist_plan_build, runs once on one thread before the
 * shards start. It reads dir/manifest (none: an empty data set), walks
 * every file it names record by record (every CRC and field, reading the
 * file in pieces of AP_PERSIST_LOAD_READ_SIZE, or one record's size when
 * a record is bigger, and only after that record's checksum was checked
 * in pieces: a corrupt length field costs reading what the file holds,
 * never a buffer of that length; compressed blocks expanded), and decides
 * how each file ends:
 *   - clean: loaded whole;
 *   - a torn tail in a shard's last log: with allow_truncate, the file is
 *     truncated (ftruncate, fsync) to the iterator's keep_len and a
 *     warning names the file, the offset and the bytes dropped; without
 *     it, the build fails;
 *   - anything else (corruption anywhere; a torn tail in a snapshot or in
 *     a log that another log follows, which were complete when their
 *     successor started; a snapshot holding other records than VALUE; a
 *     compressed block in a log, or one that does not expand):
 *     the build fails with a message naming the file and the offset and
 *     pointing at apiary-check.
 * It collects every log's TXN parts and resolves them: the plan holds the
 * multi-shard transactions to apply.
 *
 * Phase 2, ap_persist_load, runs in every shard thread at once; the plan
 * is read-only then. It replays the files of the old shards it is given
 * (a shard's base snapshot, then its logs by sequence) into one keyspace.
 *
 * The server continues a shard's last log where it ends: its sequence and
 * length after any truncation are ap_persist_plan_last_seq and
 * ap_persist_plan_log_size; new transaction ids go above max_txid.
 */

/* Bytes read from a file at a time while loading (a record bigger than
 * this is read whole, in one buffer of its size). */
#define AP_PERSIST_LOAD_READ_SIZE (4 * 1024 * 1024)

struct ap_persist_plan {
	struct ap_persist_manifest m; /* meaningful when have_manifest */
	bool have_manifest;
	/* The multi-shard transactions whose every part is present. */
	struct ap_persist_txn_set txns;
	/* The highest txid of any log record (0: none). */
	uint64_t max_txid;
	/* Per m.files[i]: the bytes to load, after any truncation. */
	uint64_t *file_len;
	uint64_t bytes;		  /* sum of file_len */
	uint64_t truncated_bytes; /* dropped from torn tails */
	unsigned truncated_files;
	/* The biggest read buffer phase 1 held; set on failure too. */
	uint64_t read_buf_max;
};

/*
 * Phase 1: fills *p from the data set in dir (the appendonlydir holding
 * the manifest). Returns 0, including when dir has no manifest (an empty
 * data set: have_manifest false). Otherwise a message in err (err_size
 * bytes, truncated to fit) and -EBADMSG for bad bytes (a manifest that
 * does not parse, corruption, a torn tail refused, transactions that
 * contradict each other), -ENOENT for a file the manifest names that is
 * missing, or a failing syscall's -errno. *p is deinit-able in every
 * case (and empty on failure but for read_buf_max).
 */
AP_MUST_CHECK int ap_persist_plan_build(struct ap_persist_plan *p,
					const char *dir, bool allow_truncate,
					char *err, size_t err_size);
/* Frees what the plan holds; it is empty afterwards. */
void ap_persist_plan_deinit(struct ap_persist_plan *p);
/* The number of shards that wrote the data set; 0 without a manifest. */
unsigned ap_persist_plan_nshards(const struct ap_persist_plan *p);
/* The sequence of shard's base snapshot, or 0 when it has none. */
uint64_t ap_persist_plan_base_seq(const struct ap_persist_plan *p,
				  unsigned shard);
/* The sequence of shard's last log, or 0 when it has none. */
uint64_t ap_persist_plan_last_seq(const struct ap_persist_plan *p,
				  unsigned shard);
/* The length of shard's last log after any truncation (where the writer
 * appends), or 0 when it has none. */
uint64_t ap_persist_plan_log_size(const struct ap_persist_plan *p,
				  unsigned shard);

/* What a load did. */
struct ap_persist_load_stats {
	uint64_t records;	      /* records read (every kind) */
	uint64_t keys;		      /* keys in the keyspace afterwards */
	uint64_t skipped_txn_records; /* in parts of incomplete transactions */
	uint64_t cmd_errors; /* CMD records unknown or answering an error */
	uint64_t bytes;	     /* bytes of the files read */
	uint64_t blocks;     /* compressed blocks expanded */
};

/* Whether a new shard keeps key (its slot is this shard's now). */
typedef bool ap_persist_keep_fn(void *arg, const char *key, size_t klen);

/*
 * Phase 2: replays into ks the files of the old shards old_shards[0..
 * n_old) (each below the plan's shard count), one old shard after the
 * other: its base snapshot, then its logs in order. The keyspace's clock
 * is the caller's (ap_keyspace_set_now); expiry is off during the replay
 * (ap_keyspace_set_loading), so every key stays as its records left it
 * and the keys whose time passed expire once the shard runs.
 *   VALUE  stores the value (core/serial.h's bytes, decoded with cfg's
 *          encoding limits) with its absolute expiry, replacing the key;
 *   DEL    deletes the key;
 *   CMD    runs the command (ap_cmd_lookup, its subcommand, arity) as a
 *          client would, its reply discarded, no server, no client, no
 *          recording; FLUSHALL, FLUSHDB and SWAPDB a b, whose commands
 *          are server-level, are applied here directly. A command that
 *          is unknown, needs the server, or answers an error is counted
 *          in cmd_errors (the first of each file logged with its offset)
 *          and the load goes on;
 *   TXN    opens a part whose records apply only if its transaction is in
 *          p->txns (skipped ones are counted).
 * When the shard count is unchanged, shard i passes its own old shard and
 * no keep function: the replay goes straight into ks. Otherwise (several
 * old shards, or a keep function) each old shard replays into a private
 * keyspace of its own, so its FLUSHALL, FLUSHDB and SWAPDB touch only
 * its keys and its cross-key commands see every key they name; then its
 * keys for which keep (when given) says true move into ks and the rest
 * are freed. Peak memory is then ks plus one old shard.
 * Returns 0 with *st filled, or -EBADMSG with err naming the file and the
 * offset (a VALUE that does not decode, a database at or above ks's
 * count, a file that changed since phase 1), or a syscall's -errno. On
 * failure ks holds what was loaded so far: the caller stops the start.
 */
AP_MUST_CHECK int
ap_persist_load(struct ap_keyspace *ks, const struct ap_config *cfg,
		const struct ap_persist_plan *p, const char *dir,
		const unsigned *old_shards, size_t n_old,
		ap_persist_keep_fn *keep, void *keep_arg,
		struct ap_persist_load_stats *st, char *err, size_t err_size);

#endif
