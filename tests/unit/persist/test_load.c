/*
 * test_load.c - recovery (persist/load.c): logs and snapshots written
 * with the record encoder into a temporary directory with a manifest,
 * then planned (phase 1) and replayed (phase 2) into keyspaces.
 *
 * Covers: every type built by CMD records (SET RPUSH HSET SADD ZADD INCR
 * DEL APPEND), PEXPIREAT in the past and the future, VALUE and DEL
 * records, several databases with FLUSHDB, FLUSHALL and SWAPDB, a base
 * snapshot followed by two logs, multi-shard transactions complete,
 * missing a part and cut short by a torn tail, a torn tail truncated on
 * disk (with its log line) or refused, a torn tail in a log that is not
 * the last, corruption in the middle refused with file and offset, a
 * snapshot holding a CMD record, a VALUE whose bytes do not decode, a
 * database beyond the keyspace's, a missing manifest and a missing file,
 * unreplayable commands counted, re-partitioning (2 old shards into 1
 * and 1 into 2, with FLUSHALL scoped to its own old shard and a RENAME
 * across the new shards), files much bigger than a read piece with a
 * record bigger than a piece, base snapshots of compressed blocks (lz4,
 * zstd, resharded; a damaged block, a bad record inside a good block, a
 * block in a log, a snapshot torn inside a block, a bad value inside a
 * block), a corrupt length field that must not size a buffer, and a
 * randomized run against a model.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "persist/persist.h"
#include "tests/unit/core/cmd_harness.h"

/* Failure-only assertion for hot loops. */
#define CK(x)                                                              \
	do {                                                               \
		if (!(x))                                                  \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #x); \
	} while (0)

static uint64_t rng_state = 0x853C49E6748FEA9Bull;

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
	return (size_t)(rng() % n);
}

/* --- directory, files, log -------------------------------------------- */

static char tmpdir[256];
static char logpath[256];
static struct ap_persist_plan plan;

/* A fresh directory and keyspace per test. */
static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ap-load-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	memset(&plan, 0, sizeof(plan));
	h_setup();
}

static void teardown(void)
{
	char cmd[300];

	ap_persist_plan_deinit(&plan);
	h_teardown();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* The path of a data set file. */
static const char *fpath(enum ap_persist_file_kind kind, unsigned shard,
			 uint64_t seq)
{
	static char p[512];
	char name[AP_PERSIST_FILE_NAME_SIZE];

	ap_persist_file_name(name, kind, shard, seq);
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return p;
}

/* Writes the encoder's bytes as a file, then clears the encoder. */
static void put_file(struct ap_persist_enc *e, enum ap_persist_file_kind kind,
		     unsigned shard, uint64_t seq)
{
	FILE *f = fopen(fpath(kind, shard, seq), "wb");

	ck_assert_ptr_nonnull(f);
	if (e->b.len > 0)
		ck_assert_uint_eq(fwrite(e->b.p, 1, e->b.len, f), e->b.len);
	ck_assert_int_eq(fclose(f), 0);
	ap_persist_enc_clear(e);
}

static off_t file_size(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_size;
}

static void file_cut(const char *path, off_t len)
{
	ck_assert_int_eq(truncate(path, len), 0);
}

/* Flips one bit of the byte at off. */
static void file_flip(const char *path, off_t off)
{
	int fd = open(path, O_RDWR);
	unsigned char c;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &c, 1, off), 1);
	c ^= 0x10;
	ck_assert_int_eq(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

/* Writes a manifest for nshards naming files[0..n). */
static void put_manifest(unsigned nshards, const struct ap_persist_mfile *files,
			 size_t n)
{
	struct ap_persist_manifest m;

	ap_persist_manifest_init(&m, nshards);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(ap_persist_manifest_add(&m, files[i].kind,
							 files[i].shard,
							 files[i].seq),
				 0);
	ck_assert_int_eq(ap_persist_manifest_write(tmpdir, &m), 0);
	ap_persist_manifest_deinit(&m);
}

#define BASE AP_PERSIST_FILE_BASE
#define INCR AP_PERSIST_FILE_INCR

/* Whether the log file holds needle. */
static bool log_has(const char *needle)
{
	FILE *f = fopen(logpath, "rb");
	static char buf[1 << 20];
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* --- records ------------------------------------------------------------ */

/* Appends a CMD record of the NULL-terminated words; returns its offset
 * in the encoder's buffer. */
static size_t put_cmd(struct ap_persist_enc *e, unsigned db,
		      const char *const *w)
{
	struct ap_arg argv[64];
	size_t off = e->b.len;
	int argc = 0;

	for (; w[argc] != NULL; argc++) {
		ck_assert_int_lt(argc, 64);
		argv[argc].p = w[argc];
		argv[argc].len = strlen(w[argc]);
	}
	ck_assert_int_eq(ap_persist_enc_cmd(e, db, argc, argv), 0);
	return off;
}

#define CMD(e, db, ...) put_cmd(e, db, (const char *const[]){__VA_ARGS__, NULL})

/* Appends a VALUE record of a string. */
static void put_str_value(struct ap_persist_enc *e, unsigned db,
			  const char *key, const char *val, int64_t expire_ms)
{
	struct ap_serial_buf b;

	ap_serial_buf_init(&b);
	ap_serial_encode_str(&b, val, strlen(val));
	ck_assert_int_eq(ap_persist_enc_value(e, db, key, strlen(key),
					      expire_ms, b.p, b.len),
			 0);
	ap_serial_buf_deinit(&b);
}

/* --- plan and load ---------------------------------------------------- */

static void plan_ok(bool allow_truncate)
{
	char err[1024] = "";
	int rc = ap_persist_plan_build(&plan, tmpdir, allow_truncate, err,
				       sizeof(err));

	ck_assert_msg(rc == 0, "plan: %d %s", rc, err);
}

/* Phase 1 must fail with rc and a message holding every needle. */
static void plan_fails(bool allow_truncate, int rc, const char *n1,
		       const char *n2)
{
	char err[1024] = "";

	ck_assert_int_eq(ap_persist_plan_build(&plan, tmpdir, allow_truncate,
					       err, sizeof(err)),
			 rc);
	ck_assert_msg(strstr(err, n1) != NULL, "'%s' not in '%s'", n1, err);
	ck_assert_msg(n2 == NULL || strstr(err, n2) != NULL, "'%s' not in '%s'",
		      n2, err);
	ck_assert(!plan.have_manifest);
	ck_assert_ptr_null(plan.file_len);
}

/* Replays old shards into ks; must succeed. */
static struct ap_persist_load_stats load_ks(struct ap_keyspace *ks,
					    const unsigned *old, size_t n,
					    ap_persist_keep_fn *keep, void *arg)
{
	struct ap_persist_load_stats st;
	char err[1024] = "";
	int rc = ap_persist_load(ks, &h_cfg, &plan, tmpdir, old, n, keep, arg,
				 &st, err, sizeof(err));

	ck_assert_msg(rc == 0, "load: %d %s", rc, err);
	return st;
}

/* Replays old shard 0 into the harness keyspace. */
static struct ap_persist_load_stats load0(void)
{
	const unsigned old[] = {0};

	return load_ks(h_ks, old, 1, NULL, NULL);
}

/* Whether key exists in database db of ks. */
static bool has_key(struct ap_keyspace *ks, unsigned db, const char *key)
{
	return ap_db_lookup(ap_keyspace_db(ks, db), key, strlen(key),
			    AP_LK_NOTOUCH) != NULL;
}

/* --- tests ---------------------------------------------------------------- */

START_TEST(commands_of_every_type)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{INCR, 0, 1}};
	struct ap_persist_load_stats st;

	ap_persist_enc_init(&e);
	CMD(&e, 0, "SET", "s", "hello");
	CMD(&e, 0, "append", "s", " world");
	CMD(&e, 0, "rpush", "l", "a", "b", "c");
	CMD(&e, 0, "lpush", "l", "z");
	CMD(&e, 0, "hset", "h", "f1", "v1", "f2", "v2");
	CMD(&e, 0, "sadd", "st", "x", "y", "z");
	CMD(&e, 0, "srem", "st", "y");
	CMD(&e, 0, "zadd", "z", "1", "one", "2", "two", "1.5", "mid");
	CMD(&e, 0, "incr", "n");
	CMD(&e, 0, "incr", "n");
	CMD(&e, 0, "incrby", "n", "40");
	CMD(&e, 0, "set", "gone", "x");
	CMD(&e, 0, "del", "gone");
	put_file(&e, INCR, 0, 1);
	put_manifest(1, f, 1);
	plan_ok(true);
	ck_assert(plan.have_manifest);
	ck_assert_uint_eq(ap_persist_plan_nshards(&plan), 1);
	st = load0();
	ck_assert_uint_eq(st.records, 13);
	ck_assert_uint_eq(st.keys, 6);
	ck_assert_uint_eq(st.cmd_errors, 0);
	ck_assert_uint_eq(st.skipped_txn_records, 0);
	ck_assert_uint_eq(st.bytes, plan.bytes);
	ck_assert_uint_eq(st.bytes, (uint64_t)file_size(fpath(INCR, 0, 1)));
	H_EXPECT("$11\r\nhello world\r\n", "get", "s");
	H_EXPECT("*4\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", "lrange",
		 "l", "0", "-1");
	H_EXPECT("$2\r\nv2\r\n", "hget", "h", "f2");
	H_EXPECT(":2\r\n", "hlen", "h");
	H_EXPECT(":2\r\n", "scard", "st");
	H_EXPECT(":0\r\n", "sismember", "st", "y");
	H_EXPECT("*3\r\n$3\r\none\r\n$3\r\nmid\r\n$3\r\ntwo\r\n", "zrange", "z",
		 "0", "-1");
	H_EXPECT("$2\r\n42\r\n", "get", "n");
	H_EXPECT(":0\r\n", "exists", "gone");
	ap_persist_enc_deinit(&e);
}
END_TEST

START_TEST(expiry_past_and_future)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{INCR, 0, 1}};
	char past[32], future[32];

	snprintf(past, sizeof(past), "%lld", H_NOW - 1000);
	snprintf(future, sizeof(future), "%lld", H_NOW + 100000);
	ap_persist_enc_init(&e);
	CMD(&e, 0, "set", "old", "1");
	CMD(&e, 0, "pexpireat", "old", past);
	CMD(&e, 0, "set", "new", "1");
	CMD(&e, 0, "pexpireat", "new", future);
	CMD(&e, 0, "set", "kept", "1");
	CMD(&e, 0, "pexpireat", "kept", future);
	CMD(&e, 0, "persist", "kept");
	/* INCR, EXPIRE 60 (logged as PEXPIREAT), INCR, an hour ago: the
	 * second INCR ran while the key lived, so it must not revive it. */
	CMD(&e, 0, "incr", "ctr");
	CMD(&e, 0, "pexpireat", "ctr", past);
	CMD(&e, 0, "incr", "ctr");
	CMD(&e, 0, "set", "sx", "1", "pxat", past);
	CMD(&e, 0, "append", "sx", "2");
	put_str_value(&e, 0, "vold", "x", H_NOW - 5);
	put_str_value(&e, 0, "vnew", "x", H_NOW + 7000);
	put_file(&e, INCR, 0, 1);
	put_manifest(1, f, 1);
	plan_ok(true);
	(void)load0();
	/* Loading is over: what passed its time is gone. */
	H_EXPECT(":0\r\n", "exists", "old");
	H_EXPECT(":0\r\n", "exists", "vold");
	H_EXPECT(":0\r\n", "exists", "ctr");
	H_EXPECT(":0\r\n", "exists", "sx");
	H_EXPECT(":100000\r\n", "pttl", "new");
	H_EXPECT(":7000\r\n", "pttl", "vnew");
	H_EXPECT(":-1\r\n", "pttl", "kept");
	ap_persist_enc_deinit(&e);
}
END_TEST

/* While loading, a key whose expiry is past stays visible to the records
 * that follow (they ran before it expired). */
START_TEST(expired_value_visible_during_replay)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{INCR, 0, 1}};

	ap_persist_enc_init(&e);
	put_str_value(&e, 0, "src", "payload", H_NOW - 5);
	CMD(&e, 0, "rename", "src", "dst");
	CMD(&e, 0, "persist", "dst");
	put_file(&e, INCR, 0, 1);
	put_manifest(1, f, 1);
	plan_ok(true);
	ck_assert_uint_eq(load0().cmd_errors, 0);
	H_EXPECT("$7\r\npayload\r\n", "get", "dst");
	H_EXPECT(":-1\r\n", "pttl", "dst");
	ap_persist_enc_deinit(&e);
}
END_TEST

START_TEST(databases_flush_swap)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{INCR, 0, 1}};

	ap_persist_enc_init(&e);
	CMD(&e, 0, "set", "a", "0");
	CMD(&e, 3, "set", "a", "3");
	CMD(&e, 3, "set", "b", "3");
	CMD(&e, 5, "set", "a", "5");
	CMD(&e, 3, "FLUSHDB");
	CMD(&e, 3, "set", "c", "3");
	CMD(&e, 7, "set", "x", "7");
	CMD(&e, 0, "swapdb", "0", "5");
	CMD(&e, 9, "set", "y", "9");
	CMD(&e, 2, "flushall", "async");
	CMD(&e, 9, "set", "w", "9");
	CMD(&e, 9, "flushdb");
	CMD(&e, 9, "set", "z", "9");
	CMD(&e, 3, "set", "c", "3");
	CMD(&e, 5, "set", "a", "5b");
	CMD(&e, 0, "set", "q", "0");
	CMD(&e, 0, "swapdb", "5", "0");
	put_file(&e, INCR, 0, 1);
	put_manifest(1, f, 1);
	plan_ok(true);
	ck_assert_uint_eq(load0().keys, 4);
	ck_assert_uint_eq(ap_db_size(ap_keyspace_db(h_ks, 0)), 1);
	ck_assert_uint_eq(ap_db_size(ap_keyspace_db(h_ks, 5)), 1);
	ck_assert_uint_eq(ap_db_size(ap_keyspace_db(h_ks, 3)), 1);
	ck_assert_uint_eq(ap_db_size(ap_keyspace_db(h_ks, 7)), 0);
	h_db = 0;
	H_EXPECT("$2\r\n5b\r\n", "get", "a");
	h_db = 5;
	H_EXPECT("$1\r\n0\r\n", "get", "q");
	h_db = 3;
	H_EXPECT("$1\r\n3\r\n", "get", "c");
	h_db = 9;
	H_EXPECT(":0\r\n", "exists", "y");
	H_EXPECT(":0\r\n", "exists", "w");
	H_EXPECT("$1\r\n9\r\n", "get", "z");
	ap_persist_enc_deinit(&e);
}
END_TEST

START_TEST(value_and_del_records)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{INCR, 0, 1}};
	const char *k = "list";

	/* Values built by commands, captured as VALUE records, then gone. */
	H_EXPECT(":3\r\n", "rpush", "list", "a", "b", "c");
	H_EXPECT(":2\r\n", "zadd", "zs", "1", "m1", "2", "m2");
	H_EXPECT(":1\r\n", "hset", "hh", "f", "v");
	ap_persist_enc_init(&e);
	ck_assert_int_eq(ap_persist_enc_entry(&e, 2, h_peek("list")), 0);
	ck_assert_int_eq(ap_persist_enc_entry(&e, 2, h_peek("zs")), 0);
	ck_assert_int_eq(ap_persist_enc_entry(&e, 0, h_peek("hh")), 0);
	put_str_value(&e, 0, "s", "string", AP_NO_EXPIRE);
	put_str_value(&e, 0, "s", "replaced", AP_NO_EXPIRE);
	ap_persist_enc_del(&e, 0, "hh", 2);
	ap_persist_enc_del(&e, 0, "never", 5);
	CMD(&e, 2, "rpush", "list", "d");
	put_file(&e, INCR, 0, 1);
	put_manifest(1, f, 1);
	plan_ok(true);
	h_teardown();
	h_setup();
	ck_assert_uint_eq(load0().keys, 3);
	H_EXPECT("$8\r\nreplaced\r\n", "get", "s");
	H_EXPECT(":0\r\n", "exists", "hh");
	h_db = 2;
	H_EXPECT("*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n", "lrange",
		 k, "0", "-1");
	H_EXPECT("$1\r\n2\r\n", "zscore", "zs", "m2");
	ap_persist_enc_deinit(&e);
}
END_TEST

START_TEST(base_then_two_logs)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {
		{BASE, 0, 3}, {INCR, 0, 3}, {INCR, 0, 4}};
	struct ap_persist_load_stats st;
	uint64_t last;

	ap_persist_enc_init(&e);
	put_str_value(&e, 0, "k", "1", AP_NO_EXPIRE);
	put_str_value(&e, 0, "base-only", "b", AP_NO_EXPIRE);
	put_file(&e, BASE, 0, 3);
	CMD(&e, 0, "incr", "k");
	CMD(&e, 0, "del", "base-only");
	put_file(&e, INCR, 0, 3);
	CMD(&e, 0, "incrby", "k", "10");
	CMD(&e, 0, "set", "late", "x");
	put_file(&e, INCR, 0, 4);
	put_manifest(1, f, 3);
	plan_ok(false);
	last = (uint64_t)file_size(fpath(INCR, 0, 4));
	ck_assert_uint_eq(ap_persist_plan_base_seq(&plan, 0), 3);
	ck_assert_uint_eq(ap_persist_plan_last_seq(&plan, 0), 4);
	ck_assert_uint_eq(ap_persist_plan_log_size(&plan, 0), last);
	ck_assert_uint_eq(ap_persist_plan_last_seq(&plan, 1), 0);
	ck_assert_uint_eq(ap_persist_plan_log_size(&plan, 1), 0);
	ck_assert_uint_eq(plan.truncated_files, 0);
	st = load0();
	ck_assert_uint_eq(st.records, 6);
	ck_assert_uint_eq(st.keys, 2);
	H_EXPECT("$2\r\n12\r\n", "get", "k");
	H_EXPECT(":0\r\n", "exists", "base-only");
	H_EXPECT("$1\r\nx\r\n", "get", "late");
	ap_persist_enc_deinit(&e);
}
END_TEST

/* Shard 0 and 1 logs: txid 7 complete, 8 missing shard 1's part, 9 cut
 * short in shard 1's log (torn there), 10 a single-shard part. */
static void write_txn_logs(struct ap_persist_enc *e, size_t *cut_at)
{
	const uint16_t both[] = {0, 1}, one[] = {1};

	ap_persist_enc_txn_begin(e, 7, both, 2);
	CMD(e, 0, "set", "t7a", "1");
	CMD(e, 0, "set", "t7b", "1");
	ap_persist_enc_txn_end(e);
	CMD(e, 0, "set", "plain0", "1");
	ap_persist_enc_txn_begin(e, 8, both, 2);
	CMD(e, 0, "set", "t8", "1");
	ap_persist_enc_txn_end(e);
	ap_persist_enc_txn_begin(e, 9, both, 2);
	CMD(e, 0, "set", "t9", "1");
	ap_persist_enc_txn_end(e);
	put_file(e, INCR, 0, 1);

	ap_persist_enc_txn_begin(e, 7, both, 2);
	ap_persist_enc_del(e, 0, "gone1", 5);
	CMD(e, 0, "set", "t7c", "1");
	ap_persist_enc_txn_end(e);
	ap_persist_enc_txn_begin(e, 10, one, 1);
	CMD(e, 0, "set", "t10", "1");
	ap_persist_enc_txn_end(e);
	ap_persist_enc_txn_begin(e, 9, both, 2);
	CMD(e, 0, "set", "t9x", "1");
	*cut_at = e->b.len; /* the second record of the part is torn */
	CMD(e, 0, "set", "t9y", "1");
	ap_persist_enc_txn_end(e);
	put_file(e, INCR, 1, 1);
}

START_TEST(multi_shard_transactions)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{INCR, 0, 1}, {INCR, 1, 1}};
	struct ap_persist_load_stats st0, st1;
	struct ap_keyspace *ks1 = ap_keyspace_create(16);
	const unsigned s0[] = {0}, s1[] = {1};
	size_t cut_at;

	ap_persist_enc_init(&e);
	write_txn_logs(&e, &cut_at);
	file_cut(fpath(INCR, 1, 1), (off_t)cut_at + 3);
	put_manifest(2, f, 2);
	plan_ok(true);
	ck_assert_uint_eq(plan.max_txid, 10);
	ck_assert_uint_eq(plan.txns.count, 2);
	ck_assert(ap_persist_txn_set_has(&plan.txns, 7));
	ck_assert(ap_persist_txn_set_has(&plan.txns, 10));
	ck_assert_uint_eq(plan.truncated_files, 1);
	st0 = load_ks(h_ks, s0, 1, NULL, NULL);
	st1 = load_ks(ks1, s1, 1, NULL, NULL);
	ck_assert(has_key(h_ks, 0, "t7a") && has_key(h_ks, 0, "t7b"));
	ck_assert(has_key(h_ks, 0, "plain0"));
	ck_assert(!has_key(h_ks, 0, "t8") && !has_key(h_ks, 0, "t9"));
	ck_assert_uint_eq(st0.skipped_txn_records, 2);
	ck_assert_uint_eq(st0.keys, 3);
	ck_assert(has_key(ks1, 0, "t7c") && has_key(ks1, 0, "t10"));
	ck_assert(!has_key(ks1, 0, "t9x") && !has_key(ks1, 0, "t9y"));
	ck_assert_uint_eq(st1.skipped_txn_records, 0);
	ck_assert_uint_eq(st1.keys, 2);
	ap_keyspace_destroy(ks1);
	ap_persist_enc_deinit(&e);
}
END_TEST

/* A torn tail is truncated on disk, with a warning, when allowed. */
START_TEST(torn_tail_truncated)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{INCR, 0, 1}};
	size_t third;
	char needle[1200];
	const char *path = fpath(INCR, 0, 1);
	char saved[512];

	ap_persist_enc_init(&e);
	CMD(&e, 0, "set", "a", "1");
	CMD(&e, 0, "set", "b", "2");
	third = CMD(&e, 0, "set", "c", "3");
	snprintf(saved, sizeof(saved), "%s", path);
	put_file(&e, INCR, 0, 1);
	file_cut(saved, file_size(saved) - 5);
	put_manifest(1, f, 1);
	plan_ok(true);
	ck_assert_uint_eq((uint64_t)file_size(saved), third);
	ck_assert_uint_eq(ap_persist_plan_log_size(&plan, 0), third);
	ck_assert_uint_eq(plan.truncated_files, 1);
	ck_assert_uint_eq(plan.truncated_bytes, 15);
	snprintf(needle, sizeof(needle),
		 "%s: torn tail at offset %zu (the file ends inside a "
		 "record): truncated to %zu bytes, 15 bytes dropped",
		 saved, third, third);
	ck_assert_msg(log_has(needle), "no log line '%s'", needle);
	ck_assert_uint_eq(load0().keys, 2);
	ap_persist_enc_deinit(&e);
}
END_TEST

/* Without aof-load-truncated the same file is refused and left alone. */
START_TEST(torn_tail_refused)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{INCR, 0, 1}};
	size_t third;
	char off[32], saved[512];
	off_t size;

	ap_persist_enc_init(&e);
	CMD(&e, 0, "set", "a", "1");
	CMD(&e, 0, "set", "b", "2");
	third = CMD(&e, 0, "set", "c", "3");
	snprintf(saved, sizeof(saved), "%s", fpath(INCR, 0, 1));
	put_file(&e, INCR, 0, 1);
	size = file_size(saved) - 1;
	file_cut(saved, size);
	put_manifest(1, f, 1);
	snprintf(off, sizeof(off), "offset %zu ", third);
	plan_fails(false, -EBADMSG, saved, off);
	plan_fails(false, -EBADMSG, "aof-load-truncated", "apiary-check --fix");
	ck_assert_int_eq(file_size(saved), size);
	ap_persist_enc_deinit(&e);
}
END_TEST

/* A log another log follows was complete: a torn tail there is damage. */
START_TEST(torn_tail_not_last)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{INCR, 0, 1}, {INCR, 0, 2}};
	char saved[512];

	ap_persist_enc_init(&e);
	CMD(&e, 0, "set", "a", "1");
	snprintf(saved, sizeof(saved), "%s", fpath(INCR, 0, 1));
	put_file(&e, INCR, 0, 1);
	CMD(&e, 0, "set", "b", "1");
	put_file(&e, INCR, 0, 2);
	file_cut(saved, file_size(saved) - 1);
	put_manifest(1, f, 2);
	plan_fails(true, -EBADMSG, saved, "not its shard's last log");
	ck_assert_int_eq(file_size(saved) > 0, 1);
	ap_persist_enc_deinit(&e);
}
END_TEST

/* A part the end cuts exactly at a record boundary is torn too: the whole
 * part goes. */
START_TEST(torn_part_at_record_boundary)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{INCR, 0, 1}};
	const uint16_t s0[] = {0};
	size_t part_at, second;
	char saved[512];

	ap_persist_enc_init(&e);
	CMD(&e, 0, "set", "a", "1");
	part_at = e.b.len;
	ap_persist_enc_txn_begin(&e, 5, s0, 1);
	CMD(&e, 0, "set", "b", "1");
	second = CMD(&e, 0, "set", "c", "1");
	ap_persist_enc_txn_end(&e);
	snprintf(saved, sizeof(saved), "%s", fpath(INCR, 0, 1));
	put_file(&e, INCR, 0, 1);
	file_cut(saved, (off_t)second);
	put_manifest(1, f, 1);
	plan_fails(false, -EBADMSG, "torn tail", NULL);
	plan_ok(true);
	ck_assert_int_eq(file_size(saved), (off_t)part_at);
	ck_assert_uint_eq(plan.txns.count, 0);
	ck_assert_uint_eq(load0().keys, 1);
	ap_persist_enc_deinit(&e);
}
END_TEST

START_TEST(corruption_in_the_middle)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{INCR, 0, 1}};
	size_t second;
	char off[32], saved[512];
	off_t size;

	ap_persist_enc_init(&e);
	CMD(&e, 0, "set", "a", "1");
	second = CMD(&e, 0, "set", "b", "2");
	CMD(&e, 0, "set", "c", "3");
	snprintf(saved, sizeof(saved), "%s", fpath(INCR, 0, 1));
	put_file(&e, INCR, 0, 1);
	file_flip(saved, (off_t)second + AP_PERSIST_HEADER_SIZE + 3);
	size = file_size(saved);
	put_manifest(1, f, 1);
	snprintf(off, sizeof(off), "offset %zu ", second);
	plan_fails(true, -EBADMSG, saved, off);
	plan_fails(true, -EBADMSG, "checksum mismatch", "apiary-check");
	ck_assert_int_eq(file_size(saved), size);
	ap_persist_enc_deinit(&e);
}
END_TEST

START_TEST(snapshot_with_a_command)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{BASE, 0, 1}};

	ap_persist_enc_init(&e);
	put_str_value(&e, 0, "a", "1", AP_NO_EXPIRE);
	CMD(&e, 0, "set", "b", "2");
	put_file(&e, BASE, 0, 1);
	put_manifest(1, f, 1);
	plan_fails(true, -EBADMSG, "a CMD record at offset", "snapshot");
	ap_persist_enc_deinit(&e);
}
END_TEST

/* Framing intact, value bytes bad: phase 2 stops, naming the record. */
START_TEST(value_that_does_not_decode)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{INCR, 0, 1}};
	struct ap_persist_load_stats st;
	const unsigned old[] = {0};
	const unsigned char junk[] = {0xEE, 0xEE, 0xEE};
	char err[512] = "", off[32];
	size_t at;

	ap_persist_enc_init(&e);
	CMD(&e, 0, "set", "a", "1");
	at = e.b.len;
	ck_assert_int_eq(ap_persist_enc_value(&e, 0, "bad", 3, AP_NO_EXPIRE,
					      junk, sizeof(junk)),
			 0);
	put_file(&e, INCR, 0, 1);
	put_manifest(1, f, 1);
	plan_ok(true);
	ck_assert_int_eq(ap_persist_load(h_ks, &h_cfg, &plan, tmpdir, old, 1,
					 NULL, NULL, &st, err, sizeof(err)),
			 -EBADMSG);
	snprintf(off, sizeof(off), "offset %zu ", at);
	ck_assert_msg(strstr(err, off) && strstr(err, "does not decode") &&
			      strstr(err, "shard-0.incr.1.log"),
		      "%s", err);
	ap_persist_enc_deinit(&e);
}
END_TEST

START_TEST(database_beyond_the_keyspace)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{INCR, 0, 1}};
	struct ap_persist_load_stats st;
	const unsigned old[] = {0};
	char err[512] = "";

	ap_persist_enc_init(&e);
	CMD(&e, 15, "set", "a", "1");
	CMD(&e, 16, "set", "b", "1");
	put_file(&e, INCR, 0, 1);
	put_manifest(1, f, 1);
	plan_ok(true);
	ck_assert_int_eq(ap_persist_load(h_ks, &h_cfg, &plan, tmpdir, old, 1,
					 NULL, NULL, &st, err, sizeof(err)),
			 -EBADMSG);
	ck_assert_msg(strstr(err, "database 16") && strstr(err, "only 16"),
		      "%s", err);
	ck_assert(has_key(h_ks, 15, "a"));
	ap_persist_enc_deinit(&e);
}
END_TEST

START_TEST(no_manifest_and_missing_file)
{
	struct ap_persist_load_stats st;
	struct ap_persist_mfile f[] = {{INCR, 0, 1}};
	char p[512];
	FILE *m;

	plan_ok(false);
	ck_assert(!plan.have_manifest);
	ck_assert_uint_eq(ap_persist_plan_nshards(&plan), 0);
	ck_assert_uint_eq(ap_persist_plan_last_seq(&plan, 0), 0);
	ck_assert_uint_eq(ap_persist_plan_log_size(&plan, 0), 0);
	st = load_ks(h_ks, NULL, 0, NULL, NULL);
	ck_assert_uint_eq(st.keys, 0);
	ck_assert_uint_eq(st.records, 0);
	ap_persist_plan_deinit(&plan);

	put_manifest(1, f, 1);
	plan_fails(true, -ENOENT, "shard-0.incr.1.log",
		   "named by the manifest");

	/* A manifest that does not parse. */
	ap_persist_plan_deinit(&plan);
	snprintf(p, sizeof(p), "%s/manifest", tmpdir);
	m = fopen(p, "w");
	ck_assert_ptr_nonnull(m);
	fputs("apiary-manifest 1 x\n", m);
	fclose(m);
	plan_fails(true, -EBADMSG, "manifest", "shard count");
}
END_TEST

START_TEST(empty_log_and_empty_shard)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{INCR, 0, 1}, {INCR, 2, 1}};
	struct ap_keyspace *ks = ap_keyspace_create(16);
	const unsigned s1[] = {1}, s2[] = {2};

	ap_persist_enc_init(&e);
	put_file(&e, INCR, 0, 1);
	CMD(&e, 0, "set", "x", "1");
	put_file(&e, INCR, 2, 1);
	put_manifest(3, f, 2);
	plan_ok(false);
	ck_assert_uint_eq(load0().records, 0);
	ck_assert_uint_eq(load_ks(ks, s1, 1, NULL, NULL).keys, 0);
	ck_assert_uint_eq(load_ks(ks, s2, 1, NULL, NULL).keys, 1);
	ap_keyspace_destroy(ks);
	ap_persist_enc_deinit(&e);
}
END_TEST

START_TEST(unreplayable_commands_counted)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{INCR, 0, 1}};
	struct ap_persist_load_stats st;
	size_t first;
	char needle[1200];

	ap_persist_enc_init(&e);
	CMD(&e, 0, "set", "s", "text");
	first = CMD(&e, 0, "nosuchcommand", "x");
	CMD(&e, 0, "set", "k");
	CMD(&e, 0, "incr", "s");
	CMD(&e, 0, "swapdb", "0", "16");
	CMD(&e, 0, "swapdb", "0");
	CMD(&e, 0, "object", "nosuchsub", "k");
	CMD(&e, 0, "set", "after", "1");
	put_file(&e, INCR, 0, 1);
	put_manifest(1, f, 1);
	plan_ok(true);
	st = load0();
	ck_assert_uint_eq(st.cmd_errors, 6);
	ck_assert_uint_eq(st.keys, 2);
	H_EXPECT("$4\r\ntext\r\n", "get", "s");
	snprintf(needle, sizeof(needle),
		 "%s: the command at offset %zu ('nosuchcommand') was not "
		 "replayed: unknown command",
		 fpath(INCR, 0, 1), first);
	ck_assert_msg(log_has(needle), "no log line '%s'", needle);
	snprintf(needle, sizeof(needle), "%s: 6 commands not replayed in all",
		 fpath(INCR, 0, 1));
	ck_assert_msg(log_has(needle), "no log line '%s'", needle);
	ap_persist_enc_deinit(&e);
}
END_TEST

START_TEST(error_reply_logged)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{INCR, 0, 1}};
	size_t at;
	char needle[1200];

	ap_persist_enc_init(&e);
	CMD(&e, 0, "rpush", "l", "a");
	at = CMD(&e, 0, "incr", "l");
	put_file(&e, INCR, 0, 1);
	put_manifest(1, f, 1);
	plan_ok(true);
	ck_assert_uint_eq(load0().cmd_errors, 1);
	snprintf(needle, sizeof(needle),
		 "%s: the command at offset %zu ('incr') was not replayed: "
		 "WRONGTYPE Operation against a key holding the wrong kind of "
		 "value;",
		 fpath(INCR, 0, 1), at);
	ck_assert_msg(log_has(needle), "no log line '%s'", needle);
	ap_persist_enc_deinit(&e);
}
END_TEST

/* keep: the key's last character is even (arg 0) or odd (arg 1). */
static bool keep_parity(void *arg, const char *key, size_t klen)
{
	int want = *(const int *)arg;

	return klen > 0 && ((unsigned char)key[klen - 1] & 1) == want;
}

/* Two old shards into one: every key kept, FLUSHALL and SWAPDB of one old
 * shard do not touch the other's keys. */
START_TEST(two_old_shards_into_one)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{INCR, 0, 1}, {INCR, 1, 1}};
	const unsigned both[] = {0, 1};
	struct ap_persist_load_stats st;

	ap_persist_enc_init(&e);
	CMD(&e, 0, "set", "a0", "1");
	CMD(&e, 4, "set", "b0", "1");
	CMD(&e, 0, "rpush", "l0", "x", "y");
	put_file(&e, INCR, 0, 1);
	CMD(&e, 0, "set", "junk1", "1");
	CMD(&e, 4, "set", "junk2", "1");
	CMD(&e, 0, "flushall");
	CMD(&e, 1, "set", "a1", "1");
	CMD(&e, 1, "swapdb", "1", "2");
	CMD(&e, 4, "flushdb");
	put_file(&e, INCR, 1, 1);
	put_manifest(2, f, 2);
	plan_ok(true);
	st = load_ks(h_ks, both, 2, NULL, NULL);
	ck_assert_uint_eq(st.keys, 4);
	ck_assert(has_key(h_ks, 0, "a0") && has_key(h_ks, 4, "b0"));
	ck_assert(has_key(h_ks, 0, "l0") && has_key(h_ks, 2, "a1"));
	ck_assert(!has_key(h_ks, 1, "a1") && !has_key(h_ks, 0, "junk1"));
	H_EXPECT(":2\r\n", "llen", "l0");
	ap_persist_enc_deinit(&e);
}
END_TEST

/* Two old shards into one with a keep function dropping half. */
START_TEST(two_old_shards_into_one_keep)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{INCR, 0, 1}, {INCR, 1, 1}};
	const unsigned both[] = {0, 1};
	int even = 0;
	char k[16];

	ap_persist_enc_init(&e);
	for (int i = 0; i < 10; i++) {
		snprintf(k, sizeof(k), "x%d", i);
		CMD(&e, 0, "set", k, "v");
	}
	put_file(&e, INCR, 0, 1);
	for (int i = 0; i < 10; i++) {
		snprintf(k, sizeof(k), "y%d", i);
		CMD(&e, 0, "set", k, "v");
	}
	put_file(&e, INCR, 1, 1);
	put_manifest(2, f, 2);
	plan_ok(true);
	ck_assert_uint_eq(load_ks(h_ks, both, 2, keep_parity, &even).keys, 10);
	for (int i = 0; i < 10; i++) {
		snprintf(k, sizeof(k), "x%d", i);
		CK(has_key(h_ks, 0, k) == (i % 2 == 0));
		snprintf(k, sizeof(k), "y%d", i);
		CK(has_key(h_ks, 0, k) == (i % 2 == 0));
	}
	ap_persist_enc_deinit(&e);
}
END_TEST

/* One old shard into two: each new shard keeps its half, and a RENAME
 * from an odd key to an even one lands in the even shard. */
START_TEST(one_old_shard_into_two)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{BASE, 0, 1}, {INCR, 0, 1}};
	const unsigned old[] = {0};
	struct ap_keyspace *odd_ks = ap_keyspace_create(16);
	int even = 0, odd = 1;
	struct ap_persist_load_stats se, so;
	char k[16];

	ap_persist_enc_init(&e);
	for (int i = 0; i < 40; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		put_str_value(&e, i % 3, k, "v", AP_NO_EXPIRE);
	}
	put_file(&e, BASE, 0, 1);
	CMD(&e, 0, "set", "src1", "moved");
	CMD(&e, 0, "rename", "src1", "dst0");
	CMD(&e, 0, "sadd", "set2", "a", "b");
	put_file(&e, INCR, 0, 1);
	put_manifest(1, f, 2);
	plan_ok(true);
	se = load_ks(h_ks, old, 1, keep_parity, &even);
	so = load_ks(odd_ks, old, 1, keep_parity, &odd);
	ck_assert_uint_eq(se.keys + so.keys, 42);
	ck_assert_uint_eq(se.cmd_errors + so.cmd_errors, 0);
	for (int i = 0; i < 40; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		CK(has_key(h_ks, i % 3, k) == (i % 2 == 0));
		CK(has_key(odd_ks, i % 3, k) == (i % 2 == 1));
	}
	H_EXPECT("$5\r\nmoved\r\n", "get", "dst0");
	H_EXPECT(":2\r\n", "scard", "set2");
	ck_assert(!has_key(odd_ks, 0, "src1") && !has_key(odd_ks, 0, "dst0"));
	ap_keyspace_destroy(odd_ks);
	ap_persist_enc_deinit(&e);
}
END_TEST

/* Files of many pieces, a record bigger than a piece, records straddling
 * piece boundaries everywhere. */
START_TEST(files_bigger_than_a_piece)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{BASE, 0, 1}, {INCR, 0, 1}};
	size_t big_len = AP_PERSIST_LOAD_READ_SIZE + 12345;
	char *big = ap_malloc(big_len + 1);
	char *val = ap_malloc(2000);
	char k[32];
	struct ap_persist_load_stats st;
	uint64_t records = 0;
	size_t n = 0;

	memset(big, 'B', big_len);
	big[big_len] = '\0';
	ap_persist_enc_init(&e);
	for (; e.b.len < 3 * (size_t)AP_PERSIST_LOAD_READ_SIZE; n++) {
		size_t vl = 1 + rng_below(1999);

		memset(val, 'a' + (int)(n % 26), vl);
		val[vl] = '\0';
		snprintf(k, sizeof(k), "key:%zu", n);
		put_str_value(&e, 0, k, val, AP_NO_EXPIRE);
		records++;
		if (n == 1000) {
			put_str_value(&e, 0, "big", big, AP_NO_EXPIRE);
			records++;
		}
	}
	put_file(&e, BASE, 0, 1);
	for (size_t i = 0; i < n; i += 2) {
		snprintf(k, sizeof(k), "key:%zu", i);
		CMD(&e, 0, "append", k, "!");
		records++;
	}
	CMD(&e, 0, "set", "big2", big);
	records++;
	put_file(&e, INCR, 0, 1);
	put_manifest(1, f, 2);
	plan_ok(false);
	st = load0();
	ck_assert_uint_eq(st.records, records);
	ck_assert_uint_eq(st.keys, n + 2);
	H_EXPECT(":4206649\r\n", "strlen", "big");
	H_EXPECT(":4206649\r\n", "strlen", "big2");
	for (size_t i = 0; i < n; i++) {
		struct ap_entry *ent;
		size_t len;
		char buf[AP_INT_STR_SIZE];
		const char *s;

		snprintf(k, sizeof(k), "key:%zu", i);
		ent = h_peek(k);
		CK(ent != NULL);
		s = ap_entry_str(ent, &len, buf);
		CK(s[0] == 'a' + (int)(i % 26));
		CK((s[len - 1] == '!') == (i % 2 == 0));
	}
	ap_free(big);
	ap_free(val);
	ap_persist_enc_deinit(&e);
}
END_TEST

/* --- compressed blocks --------------------------------------------------- */

/* Packs all of e's records into blocks with codec, in place. */
static void pack_enc(struct ap_persist_enc *e, enum ap_persist_codec codec)
{
	struct ap_persist_zenc z;
	struct ap_persist_enc out;

	ap_persist_zenc_init(&z, codec, 1);
	ap_persist_enc_init(&out);
	(void)ap_persist_zenc_pack(&z, e, &out, SIZE_MAX, true);
	ck_assert_uint_eq(e->b.len, 0);
	if (codec != AP_PERSIST_CODEC_NONE)
		ck_assert_uint_gt(z.blocks, 0);
	ap_serial_buf_put(&e->b, out.b.p, out.b.len);
	ap_persist_zenc_deinit(&z);
	ap_persist_enc_deinit(&out);
}

/* The value of key "z<i>": JSON-like text, or (every 7th) random-ish
 * bytes that do not compress. */
static size_t zval(char *buf, size_t i)
{
	if (i % 7 == 3) {
		uint64_t x = i * 0x9E3779B97F4A7C15ull + 1;

		for (size_t j = 0; j < 200; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[j] = (char)('!' + x % 90);
		}
		buf[200] = '\0';
		return 200;
	}
	return (size_t)sprintf(buf,
			       "{\"id\":%zu,\"name\":\"user%zu\",\"mail\":"
			       "\"user%zu@example.com\",\"on\":true}",
			       i, i, i);
}

/* n VALUE records z0..z<n-1> in database i % 2 (every 5th with a future
 * expiry). */
static void put_zvalues(struct ap_persist_enc *e, size_t n)
{
	char k[32], v[256];

	for (size_t i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "z%zu", i);
		zval(v, i);
		put_str_value(e, (unsigned)(i % 2), k, v,
			      i % 5 == 0 ? ap_unix_ms() + 3600000
					 : AP_NO_EXPIRE);
	}
}

/* Checks ks holds z0..z<n-1> but skip, with their values. */
static void check_zvalues(struct ap_keyspace *ks, size_t n, size_t skip)
{
	char k[32], v[256];

	for (size_t i = 0; i < n; i++) {
		struct ap_entry *ent;
		char buf[AP_INT_STR_SIZE];
		size_t len, vlen;
		const char *s;

		if (i == skip)
			continue;
		snprintf(k, sizeof(k), "z%zu", i);
		vlen = zval(v, i);
		ent = ap_db_lookup(ap_keyspace_db(ks, (unsigned)(i % 2)), k,
				   strlen(k), AP_LK_NOTOUCH);
		CK(ent != NULL);
		s = ap_entry_str(ent, &len, buf);
		CK(len == vlen && memcmp(s, v, len) == 0);
		CK((ap_entry_expire(ent) != AP_NO_EXPIRE) == (i % 5 == 0));
	}
}

/* The offset of the which-th ZBLOCK record of the file at path, and the
 * offset of the record after it (or the file's end). */
static uint64_t nth_block(const char *path, size_t which, uint64_t *next)
{
	FILE *f = fopen(path, "rb");
	off_t size = file_size(path);
	unsigned char *p = ap_malloc((size_t)size + 1);
	struct ap_persist_iter it;
	struct ap_persist_rec r;
	uint64_t off = UINT64_MAX;

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(p, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	ap_persist_iter_init_buf(&it, p, (size_t)size);
	while (ap_persist_iter_next(&it, &r)) {
		if (r.kind != AP_PERSIST_ZBLOCK || which-- > 0)
			continue;
		off = r.off;
		*next = r.off + r.size;
		break;
	}
	ap_free(p);
	ck_assert_uint_ne(off, UINT64_MAX);
	return off;
}

/* A base snapshot of blocks with codec, then a log: everything back. */
static void blocks_round_trip(enum ap_persist_codec codec)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{BASE, 0, 1}, {INCR, 0, 1}};
	struct ap_persist_load_stats st;
	size_t n = 6000;

	ap_persist_enc_init(&e);
	put_zvalues(&e, n);
	pack_enc(&e, codec);
	put_file(&e, BASE, 0, 1);
	CMD(&e, 0, "set", "after", "1");
	CMD(&e, 1, "del", "z1");
	put_file(&e, INCR, 0, 1);
	put_manifest(1, f, 2);
	plan_ok(false);
	st = load0();
	ck_assert_uint_gt(st.blocks, 0);
	ck_assert_uint_eq(st.records, n + 2);
	ck_assert_uint_eq(st.keys, n);
	check_zvalues(h_ks, n, 1);
	H_EXPECT("$1\r\n1\r\n", "get", "after");
	ap_persist_enc_deinit(&e);
}

START_TEST(snapshot_blocks_lz4)
{
	blocks_round_trip(AP_PERSIST_CODEC_LZ4);
}
END_TEST

START_TEST(snapshot_blocks_zstd)
{
	blocks_round_trip(AP_PERSIST_CODEC_ZSTD);
}
END_TEST

/* The reshard path reads blocks too: one old shard into two. */
START_TEST(snapshot_blocks_resharded)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{BASE, 0, 1}};
	const unsigned old[] = {0};
	struct ap_keyspace *odd_ks = ap_keyspace_create(16);
	int even = 0, odd = 1;
	struct ap_persist_load_stats se, so;
	size_t n = 3000;

	ap_persist_enc_init(&e);
	put_zvalues(&e, n);
	pack_enc(&e, AP_PERSIST_CODEC_ZSTD);
	put_file(&e, BASE, 0, 1);
	put_manifest(1, f, 1);
	plan_ok(false);
	se = load_ks(h_ks, old, 1, keep_parity, &even);
	so = load_ks(odd_ks, old, 1, keep_parity, &odd);
	ck_assert_uint_gt(se.blocks, 0);
	ck_assert_uint_eq(se.blocks, so.blocks);
	ck_assert_uint_eq(se.keys + so.keys, n);
	ck_assert_uint_gt(se.keys, n / 3);
	ck_assert_uint_gt(so.keys, n / 3);
	for (size_t i = 0; i < n; i++) {
		char k[32];

		snprintf(k, sizeof(k), "z%zu", i);
		CK(has_key(h_ks, (unsigned)(i % 2), k) !=
		   has_key(odd_ks, (unsigned)(i % 2), k));
	}
	ap_keyspace_destroy(odd_ks);
	ap_persist_enc_deinit(&e);
}
END_TEST

/* A flipped byte inside a block: corruption at the block's offset. */
START_TEST(corrupt_block_refused)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{BASE, 0, 1}};
	char saved[512], needle[128];
	uint64_t off, next;

	ap_persist_enc_init(&e);
	put_zvalues(&e, 6000);
	pack_enc(&e, AP_PERSIST_CODEC_LZ4);
	snprintf(saved, sizeof(saved), "%s", fpath(BASE, 0, 1));
	put_file(&e, BASE, 0, 1);
	put_manifest(1, f, 1);
	off = nth_block(saved, 1, &next);
	file_flip(saved, (off_t)(off + (next - off) / 2));
	snprintf(needle, sizeof(needle),
		 "corrupt record at offset %" PRIu64 " (checksum mismatch)",
		 off);
	plan_fails(true, -EBADMSG, saved, needle);
	ap_persist_enc_deinit(&e);
}
END_TEST

/* A block whose checksum is good but whose inside is not (a writer bug,
 * or a crafted file): corruption at the block, the inner record named. */
START_TEST(bad_record_inside_a_block_refused)
{
	struct ap_persist_enc e, raw;
	struct ap_persist_mfile f[] = {{BASE, 0, 1}};
	struct ap_serial_buf pay;
	char needle[128];
	size_t block_off, cap;
	uint32_t u, len;
	int zlen;

	ap_persist_enc_init(&raw);
	put_zvalues(&raw, 100);
	memcpy(&len, raw.b.p, 4);
	raw.b.p[AP_PERSIST_HEADER_SIZE + len + AP_PERSIST_HEADER_SIZE + 2] ^= 1;
	cap = (size_t)LZ4_compressBound((int)raw.b.len);
	ap_serial_buf_init(&pay);
	ap_serial_buf_u8(&pay, AP_PERSIST_ZBLOCK);
	ap_serial_buf_varint(&pay, 0);
	ap_serial_buf_u8(&pay, AP_PERSIST_CODEC_LZ4);
	ap_serial_buf_varint(&pay, raw.b.len);
	zlen = LZ4_compress_default((const char *)raw.b.p,
				    (char *)ap_serial_buf_reserve(&pay, cap),
				    (int)raw.b.len, (int)cap);
	ck_assert_int_gt(zlen, 0);
	pay.len += (size_t)zlen;
	ap_persist_enc_init(&e);
	put_str_value(&e, 0, "plain", "1", AP_NO_EXPIRE);
	block_off = e.b.len;
	u = (uint32_t)pay.len;
	ap_serial_buf_put(&e.b, &u, 4);
	u = ap_persist_crc32c(0, pay.p, pay.len);
	ap_serial_buf_put(&e.b, &u, 4);
	ap_serial_buf_put(&e.b, pay.p, pay.len);
	put_str_value(&e, 0, "plain2", "1", AP_NO_EXPIRE);
	put_file(&e, BASE, 0, 1);
	put_manifest(1, f, 1);
	snprintf(needle, sizeof(needle),
		 "corrupt record at offset %zu (compressed block: bad record "
		 "at byte %zu",
		 block_off, (size_t)AP_PERSIST_HEADER_SIZE + len);
	plan_fails(true, -EBADMSG, needle, "checksum mismatch");
	ap_serial_buf_deinit(&pay);
	ap_persist_enc_deinit(&raw);
	ap_persist_enc_deinit(&e);
}
END_TEST

/* Logs are never compressed: a block there is refused. */
START_TEST(block_in_a_log_refused)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{INCR, 0, 1}};

	ap_persist_enc_init(&e);
	put_zvalues(&e, 500);
	pack_enc(&e, AP_PERSIST_CODEC_LZ4);
	put_file(&e, INCR, 0, 1);
	put_manifest(1, f, 1);
	plan_fails(true, -EBADMSG, "a compressed block at offset 0 in a log",
		   NULL);
	ap_persist_enc_deinit(&e);
}
END_TEST

/* A snapshot cut inside its last block: torn, and a snapshot is never
 * truncated. */
START_TEST(snapshot_torn_inside_a_block)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{BASE, 0, 1}, {INCR, 0, 1}};
	char saved[512], needle[96];
	uint64_t off, next;
	off_t size;

	ap_persist_enc_init(&e);
	put_zvalues(&e, 3000);
	pack_enc(&e, AP_PERSIST_CODEC_ZSTD);
	snprintf(saved, sizeof(saved), "%s", fpath(BASE, 0, 1));
	put_file(&e, BASE, 0, 1);
	CMD(&e, 0, "set", "a", "1");
	put_file(&e, INCR, 0, 1);
	put_manifest(1, f, 2);
	size = file_size(saved);
	off = 0;
	for (size_t i = 0;; i++) {
		uint64_t o = nth_block(saved, i, &next);

		if (next == (uint64_t)size) {
			off = o;
			break;
		}
	}
	file_cut(saved, (off_t)(off + (next - off) / 2));
	snprintf(needle, sizeof(needle), "torn at offset %" PRIu64, off);
	plan_fails(true, -EBADMSG, needle, "not its shard's last log");
	ck_assert_int_eq(file_size(saved), (off_t)(off + (next - off) / 2));
	ap_persist_enc_deinit(&e);
}
END_TEST

/* A value inside a block that does not decode: phase 2 names the block
 * and the record's place in it. */
START_TEST(bad_value_inside_a_block)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{BASE, 0, 1}};
	struct ap_persist_load_stats st;
	const unsigned old[] = {0};
	const unsigned char junk[] = {0xEE, 0xEE, 0xEE};
	char err[1024] = "", needle[128];
	size_t at;

	ap_persist_enc_init(&e);
	put_zvalues(&e, 50);
	at = e.b.len;
	ck_assert_int_eq(ap_persist_enc_value(&e, 0, "bad", 3, AP_NO_EXPIRE,
					      junk, sizeof(junk)),
			 0);
	put_zvalues(&e, 50);
	pack_enc(&e, AP_PERSIST_CODEC_LZ4);
	ck_assert_uint_lt(e.b.len, at); /* one block, at offset 0 */
	put_file(&e, BASE, 0, 1);
	put_manifest(1, f, 1);
	plan_ok(false);
	ck_assert_int_eq(ap_persist_load(h_ks, &h_cfg, &plan, tmpdir, old, 1,
					 NULL, NULL, &st, err, sizeof(err)),
			 -EBADMSG);
	snprintf(needle, sizeof(needle),
		 "the value at offset 0 (byte %zu of the compressed block "
		 "there) does not decode",
		 at);
	ck_assert_msg(strstr(err, needle) != NULL, "'%s' not in '%s'", needle,
		      err);
	ap_persist_enc_deinit(&e);
}
END_TEST

/* A corrupt length field that fits in the file: the loader checks the
 * claimed record's checksum reading pieces, and never holds a buffer of
 * the claimed size (before the fix it grew to it). A length running past
 * the end is a torn tail (refused in a snapshot), read not at all. A real
 * record bigger than a piece is still read whole. */
START_TEST(corrupt_length_does_not_allocate)
{
	struct ap_persist_enc e;
	struct ap_persist_mfile f[] = {{INCR, 0, 1}};
	struct ap_persist_mfile fb[] = {{BASE, 0, 1}};
	char saved[512], needle[96], k[32];
	char *val = ap_malloc(1001);
	size_t bad_at;
	uint32_t claim = 10u << 20;
	int fd;

	memset(val, 'v', 1000);
	val[1000] = '\0';
	ap_persist_enc_init(&e);
	for (int i = 0; i < 100; i++) {
		snprintf(k, sizeof(k), "a%d", i);
		CMD(&e, 0, "set", k, "1");
	}
	bad_at = CMD(&e, 0, "set", "x", "1");
	for (int i = 0; e.b.len < 14u << 20; i++) {
		snprintf(k, sizeof(k), "b%d", i);
		CMD(&e, 0, "set", k, val);
	}
	snprintf(saved, sizeof(saved), "%s", fpath(INCR, 0, 1));
	put_file(&e, INCR, 0, 1);
	put_manifest(1, f, 1);
	fd = open(saved, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, &claim, 4, (off_t)bad_at), 4);
	close(fd);
	snprintf(needle, sizeof(needle),
		 "corrupt record at offset %zu (checksum mismatch)", bad_at);
	plan_fails(true, -EBADMSG, saved, needle);
	ck_assert_uint_gt(plan.read_buf_max, 0);
	ck_assert_uint_le(plan.read_buf_max, AP_PERSIST_LOAD_READ_SIZE);
	/* 0xFFFFFFF0 in the middle of a snapshot: runs past the end. */
	put_zvalues(&e, 20000);
	bad_at = e.b.len;
	put_zvalues(&e, 100);
	snprintf(saved, sizeof(saved), "%s", fpath(BASE, 0, 1));
	put_file(&e, BASE, 0, 1);
	put_manifest(1, fb, 1);
	claim = 0xFFFFFFF0u;
	fd = open(saved, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, &claim, 4, (off_t)bad_at), 4);
	close(fd);
	snprintf(needle, sizeof(needle), "torn at offset %zu", bad_at);
	plan_fails(true, -EBADMSG, saved, needle);
	ck_assert_uint_le(plan.read_buf_max, AP_PERSIST_LOAD_READ_SIZE);
	/* The control: a real 6 MB record is read whole. */
	{
		char *big = ap_malloc((6u << 20) + 1);

		memset(big, 'B', 6u << 20);
		big[6u << 20] = '\0';
		CMD(&e, 0, "set", "big", big);
		put_file(&e, INCR, 0, 1);
		put_manifest(1, f, 1);
		plan_ok(false);
		ck_assert_uint_gt(plan.read_buf_max, 6u << 20);
		ck_assert_uint_eq(load0().keys, 1);
		ap_free(big);
	}
	ap_free(val);
	ap_persist_enc_deinit(&e);
}
END_TEST

/* --- randomized: string keys over 2 shards, 3 databases, transactions --- */

#define R_SHARDS 2
#define R_DBS	 3
#define R_KEYS	 12
#define R_VAL	 24

/* The model: a string (or nothing) per shard, database and key. */
struct rmodel {
	bool has[R_SHARDS][R_DBS][R_KEYS];
	char val[R_SHARDS][R_DBS][R_KEYS][R_VAL];
};

static void rkey(char *buf, unsigned shard, unsigned k)
{
	snprintf(buf, 16, "s%u:k%u", shard, k);
}

/* One random change on shard s, written to e and applied to m when
 * apply. */
static void rop(struct ap_persist_enc *e, struct rmodel *m, unsigned s,
		bool apply)
{
	unsigned db = (unsigned)rng_below(R_DBS),
		 k = (unsigned)rng_below(R_KEYS);
	char key[16], val[R_VAL];
	size_t op = rng_below(10);

	rkey(key, s, k);
	snprintf(val, sizeof(val), "v%llu",
		 (unsigned long long)rng_below(1000));
	if (op < 4) {
		CMD(e, db, "set", key, val);
	} else if (op < 5) {
		CMD(e, db, "del", key);
	} else if (op < 7) {
		CMD(e, db, "append", key, val);
		if (apply && m->has[s][db][k] &&
		    strlen(m->val[s][db][k]) + strlen(val) < R_VAL) {
			strcat(m->val[s][db][k], val);
			return;
		}
		if (apply && m->has[s][db][k]) {
			/* Too long for the model: replace it. */
			CMD(e, db, "set", key, val);
		}
	} else if (op < 9) {
		put_str_value(e, db, key, val, AP_NO_EXPIRE);
	} else {
		ap_persist_enc_del(e, db, key, strlen(key));
	}
	if (!apply)
		return;
	if (op == 4 || op == 9) {
		m->has[s][db][k] = false;
		return;
	}
	m->has[s][db][k] = true;
	snprintf(m->val[s][db][k], R_VAL, "%s", val);
}

/* Checks keyspace ks against shard s of the model. */
static void rcheck(struct ap_keyspace *ks, const struct rmodel *m, unsigned s)
{
	for (unsigned db = 0; db < R_DBS; db++) {
		for (unsigned k = 0; k < R_KEYS; k++) {
			char key[16], buf[AP_INT_STR_SIZE];
			struct ap_entry *ent;
			size_t len;
			const char *v;

			rkey(key, s, k);
			ent = ap_db_lookup(ap_keyspace_db(ks, db), key,
					   strlen(key), AP_LK_NOTOUCH);
			CK((ent != NULL) == m->has[s][db][k]);
			if (ent == NULL)
				continue;
			v = ap_entry_str(ent, &len, buf);
			CK(len == strlen(m->val[s][db][k]) &&
			   memcmp(v, m->val[s][db][k], len) == 0);
		}
	}
}

START_TEST(randomized_against_model)
{
	for (int round = 0; round < 30; round++) {
		struct rmodel *m = ap_calloc(1, sizeof(*m));
		struct ap_persist_enc e[R_SHARDS];
		struct ap_persist_mfile f[R_SHARDS * 3];
		struct ap_keyspace *ks[R_SHARDS];
		size_t nf = 0;
		uint64_t txid = 1;
		const uint16_t parts[] = {0, 1};

		for (unsigned s = 0; s < R_SHARDS; s++)
			ap_persist_enc_init(&e[s]);
		for (unsigned step = 0; step < 300; step++) {
			if (rng_below(8) == 0) {
				/* A two-shard transaction; sometimes one part
				 * is lost (written to neither log). */
				size_t lost = rng_below(5);

				for (unsigned s = 0; s < R_SHARDS; s++) {
					if (lost == s)
						continue;
					ap_persist_enc_txn_begin(&e[s], txid,
								 parts, 2);
					for (size_t i = rng_below(3); i < 3;
					     i++)
						rop(&e[s], m, s, lost >= 2);
					ap_persist_enc_txn_end(&e[s]);
				}
				txid++;
			} else {
				unsigned s = (unsigned)rng_below(R_SHARDS);

				rop(&e[s], m, s, true);
			}
			if (rng_below(60) == 0) {
				unsigned s = (unsigned)rng_below(R_SHARDS);

				CMD(&e[s], 0, "flushall");
				memset(m->has[s], 0, sizeof(m->has[s]));
			}
			if (rng_below(60) == 0) {
				unsigned s = (unsigned)rng_below(R_SHARDS);
				unsigned db = (unsigned)rng_below(R_DBS);

				CMD(&e[s], db, "flushdb");
				memset(m->has[s][db], 0, sizeof(m->has[s][db]));
			}
		}
		for (unsigned s = 0; s < R_SHARDS; s++) {
			put_file(&e[s], INCR, s, 1);
			f[nf++] = (struct ap_persist_mfile){INCR, s, 1};
		}
		put_manifest(R_SHARDS, f, nf);
		plan_ok(false);
		for (unsigned s = 0; s < R_SHARDS; s++) {
			const unsigned old[] = {s};

			ks[s] = ap_keyspace_create(16);
			(void)load_ks(ks[s], old, 1, NULL, NULL);
			rcheck(ks[s], m, s);
			ap_keyspace_destroy(ks[s]);
		}
		ap_persist_plan_deinit(&plan);
		for (unsigned s = 0; s < R_SHARDS; s++)
			ap_persist_enc_deinit(&e[s]);
		ap_free(m);
	}
}
END_TEST

/* Transactions only, the model deciding what survives, with the
 * flushall-free history: every part's fate is checked. */
START_TEST(randomized_transactions)
{
	for (int round = 0; round < 30; round++) {
		struct rmodel *m = ap_calloc(1, sizeof(*m));
		struct ap_persist_enc e[R_SHARDS];
		struct ap_persist_mfile f[R_SHARDS];
		uint64_t txid = 100;
		const uint16_t parts[] = {0, 1}, p0[] = {0}, p1[] = {1};
		uint64_t skipped = 0;
		struct ap_persist_load_stats st;

		for (unsigned s = 0; s < R_SHARDS; s++)
			ap_persist_enc_init(&e[s]);
		for (unsigned step = 0; step < 200; step++) {
			size_t kind = rng_below(4);

			if (kind == 0) {
				unsigned s = (unsigned)rng_below(R_SHARDS);

				rop(&e[s], m, s, true);
				continue;
			}
			if (kind == 1) {
				unsigned s = (unsigned)rng_below(R_SHARDS);

				ap_persist_enc_txn_begin(&e[s], txid++,
							 s ? p1 : p0, 1);
				rop(&e[s], m, s, true);
				ap_persist_enc_txn_end(&e[s]);
				continue;
			}
			/* kind 2: both parts; kind 3: shard 1 lacks it. */
			for (unsigned s = 0; s < R_SHARDS; s++) {
				if (kind == 3 && s == 1)
					continue;
				ap_persist_enc_txn_begin(&e[s], txid, parts, 2);
				rop(&e[s], m, s, kind == 2);
				rop(&e[s], m, s, kind == 2);
				ap_persist_enc_txn_end(&e[s]);
				skipped += kind == 3 ? 2 : 0;
			}
			txid++;
		}
		for (unsigned s = 0; s < R_SHARDS; s++) {
			put_file(&e[s], INCR, s, 1);
			f[s] = (struct ap_persist_mfile){INCR, s, 1};
		}
		put_manifest(R_SHARDS, f, R_SHARDS);
		plan_ok(false);
		ck_assert_uint_eq(plan.max_txid, txid - 1);
		for (unsigned s = 0; s < R_SHARDS; s++) {
			const unsigned old[] = {s};
			struct ap_keyspace *ks = ap_keyspace_create(16);

			st = load_ks(ks, old, 1, NULL, NULL);
			rcheck(ks, m, s);
			if (s == 0)
				ck_assert_uint_eq(st.skipped_txn_records,
						  skipped);
			ap_keyspace_destroy(ks);
		}
		ap_persist_plan_deinit(&plan);
		for (unsigned s = 0; s < R_SHARDS; s++)
			ap_persist_enc_deinit(&e[s]);
		ap_free(m);
	}
}
END_TEST

static Suite *load_suite(void)
{
	Suite *s = suite_create("persist_load");
	TCase *tc = tcase_create("load");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, commands_of_every_type);
	tcase_add_test(tc, expiry_past_and_future);
	tcase_add_test(tc, expired_value_visible_during_replay);
	tcase_add_test(tc, databases_flush_swap);
	tcase_add_test(tc, value_and_del_records);
	tcase_add_test(tc, base_then_two_logs);
	tcase_add_test(tc, multi_shard_transactions);
	tcase_add_test(tc, torn_tail_truncated);
	tcase_add_test(tc, torn_tail_refused);
	tcase_add_test(tc, torn_tail_not_last);
	tcase_add_test(tc, torn_part_at_record_boundary);
	tcase_add_test(tc, corruption_in_the_middle);
	tcase_add_test(tc, snapshot_with_a_command);
	tcase_add_test(tc, value_that_does_not_decode);
	tcase_add_test(tc, database_beyond_the_keyspace);
	tcase_add_test(tc, no_manifest_and_missing_file);
	tcase_add_test(tc, empty_log_and_empty_shard);
	tcase_add_test(tc, unreplayable_commands_counted);
	tcase_add_test(tc, error_reply_logged);
	tcase_add_test(tc, two_old_shards_into_one);
	tcase_add_test(tc, two_old_shards_into_one_keep);
	tcase_add_test(tc, one_old_shard_into_two);
	tcase_add_test(tc, files_bigger_than_a_piece);
	tcase_add_test(tc, snapshot_blocks_lz4);
	tcase_add_test(tc, snapshot_blocks_zstd);
	tcase_add_test(tc, snapshot_blocks_resharded);
	tcase_add_test(tc, corrupt_block_refused);
	tcase_add_test(tc, bad_record_inside_a_block_refused);
	tcase_add_test(tc, block_in_a_log_refused);
	tcase_add_test(tc, snapshot_torn_inside_a_block);
	tcase_add_test(tc, bad_value_inside_a_block);
	tcase_add_test(tc, corrupt_length_does_not_allocate);
	tcase_add_test(tc, randomized_against_model);
	tcase_add_test(tc, randomized_transactions);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failures;

	ap_core_setup();
	snprintf(logpath, sizeof(logpath), "/tmp/ap-load-log-%d",
		 (int)getpid());
	ap_log_setup(AP_LOG_NOTICE, logpath);
	sr = srunner_create(load_suite());
	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	unlink(logpath);
	return failures != 0;
}
