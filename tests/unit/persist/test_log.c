/*
 * test_log.c - the log record format of persist/log.c and the CRC32C of
 * persist/crc32c.c: CRC check values and hardware/software agreement on
 * every length and alignment; exact bytes of each kind; round trips of
 * every kind through the encoder and the iterator; hand-made bad records
 * of every kind, at exact boundaries; every truncation of a log (torn
 * tail found at the right offset, transaction parts kept whole); every
 * single-bit flip (never accepted: the damaged record is the one
 * reported); feeding a log in pieces; and a randomized run against a
 * model of the records.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/keyspace.h"
#include "core/serial.h"
#include "persist/persist.h"

/* Failure-only assertion for hot loops (ck_assert writes per pass). */
#define CK(x)                                                              \
	do {                                                               \
		if (!(x))                                                  \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #x); \
	} while (0)

/* --- a deterministic PRNG --------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

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

/* --- byte vectors for hand-made payloads ------------------------------- */

struct bytes {
	unsigned char *p;
	size_t len, cap;
};

static void by_put(struct bytes *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void by_u8(struct bytes *b, uint8_t v)
{
	by_put(b, &v, 1);
}

static void by_varint(struct bytes *b, uint64_t v)
{
	while (v >= 0x80) {
		by_u8(b, (uint8_t)(v | 0x80));
		v >>= 7;
	}
	by_u8(b, (uint8_t)v);
}

static void by_str(struct bytes *b, const char *s, size_t n)
{
	by_varint(b, n);
	by_put(b, s, n);
}

static void by_u32(struct bytes *b, uint32_t v)
{
	by_put(b, &v, 4);
}

/* Appends a record framing payload: length, CRC32C (correct), bytes. */
static void by_frame(struct bytes *out, const struct bytes *payload)
{
	by_u32(out, (uint32_t)payload->len);
	by_u32(out, ap_persist_crc32c_sw(0, payload->p, payload->len));
	by_put(out, payload->p, payload->len);
}

static void by_free(struct bytes *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* --- CRC32C ----------------------------------------------------------- */

START_TEST(crc_check_values)
{
	static const char nine[] = "123456789";
	unsigned char z[32], ff[32], up[32], down[32];

	for (int i = 0; i < 32; i++) {
		z[i] = 0;
		ff[i] = 0xff;
		up[i] = (unsigned char)i;
		down[i] = (unsigned char)(31 - i);
	}
	ck_assert_uint_eq(ap_persist_crc32c_sw(0, nine, 9), 0xE3069283u);
	ck_assert_uint_eq(ap_persist_crc32c(0, nine, 9), 0xE3069283u);
	ck_assert_uint_eq(ap_persist_crc32c_sw(0, "", 0), 0);
	/* RFC 3720 (iSCSI) B.4 test vectors. */
	ck_assert_uint_eq(ap_persist_crc32c_sw(0, z, 32), 0x8A9136AAu);
	ck_assert_uint_eq(ap_persist_crc32c_sw(0, ff, 32), 0x62A8AB43u);
	ck_assert_uint_eq(ap_persist_crc32c_sw(0, up, 32), 0x46DD794Eu);
	ck_assert_uint_eq(ap_persist_crc32c_sw(0, down, 32), 0x113FDB5Cu);
	ck_assert_uint_eq(ap_persist_crc32c(0, down, 32), 0x113FDB5Cu);
	/* Continuing over pieces gives the checksum of the whole. */
	ck_assert_uint_eq(ap_persist_crc32c_sw(ap_persist_crc32c_sw(0, nine, 4),
					       nine + 4, 5),
			  0xE3069283u);
	if (ap_persist_crc32c_hw_available()) {
		ck_assert_uint_eq(ap_persist_crc32c_hw(0, nine, 9),
				  0xE3069283u);
		ck_assert_uint_eq(ap_persist_crc32c_hw(0, up, 32), 0x46DD794Eu);
		ck_assert_uint_eq(
			ap_persist_crc32c_hw(ap_persist_crc32c_hw(0, nine, 3),
					     nine + 3, 6),
			0xE3069283u);
	} else {
		fprintf(stderr, "crc_check_values: SKIPPED the SSE4.2 part: "
				"this CPU has no crc32 instruction\n");
	}
}
END_TEST

/* A byte-at-a-time bitwise CRC32C: the reference for both versions. */
static uint32_t crc_bitwise(const unsigned char *p, size_t len)
{
	uint32_t c = 0xFFFFFFFFu;

	for (size_t i = 0; i < len; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ ((c & 1) ? 0x82F63B78u : 0);
	}
	return ~c;
}

START_TEST(crc_every_length_and_alignment)
{
	enum { MAXLEN = 600, ALIGNS = 16 };
	unsigned char *buf = malloc(MAXLEN + ALIGNS);
	bool hw = ap_persist_crc32c_hw_available();

	for (size_t i = 0; i < MAXLEN + ALIGNS; i++)
		buf[i] = (unsigned char)rng();
	for (size_t a = 0; a < ALIGNS; a++) {
		for (size_t len = 0; len <= MAXLEN; len++) {
			uint32_t want = crc_bitwise(buf + a, len);
			uint32_t seed = (uint32_t)rng();

			CK(ap_persist_crc32c_sw(0, buf + a, len) == want);
			CK(ap_persist_crc32c(0, buf + a, len) == want);
			if (hw) {
				CK(ap_persist_crc32c_hw(0, buf + a, len) ==
				   want);
				CK(ap_persist_crc32c_hw(seed, buf + a, len) ==
				   ap_persist_crc32c_sw(seed, buf + a, len));
			}
		}
	}
	if (!hw)
		fprintf(stderr, "crc_every_length_and_alignment: SKIPPED hw "
				"comparison: no crc32 instruction\n");
	free(buf);
}
END_TEST

START_TEST(crc_random_buffers_hw_sw)
{
	if (!ap_persist_crc32c_hw_available()) {
		fprintf(stderr, "crc_random_buffers_hw_sw: SKIPPED: this CPU "
				"has no crc32 instruction\n");
		return;
	}
	for (int round = 0; round < 200; round++) {
		size_t len = rng_below(70000);
		size_t a = rng_below(64);
		unsigned char *buf = malloc(len + 64);

		for (size_t i = 0; i < len + 64; i++)
			buf[i] = (unsigned char)rng();
		CK(ap_persist_crc32c_hw(0, buf + a, len) ==
		   ap_persist_crc32c_sw(0, buf + a, len));
		free(buf);
	}
}
END_TEST

/* --- exact bytes ------------------------------------------------------- */

/* The encoder's bytes equal want[0..n). */
static void expect_bytes(const struct ap_persist_enc *e,
			 const unsigned char *want, size_t n)
{
	ck_assert_uint_eq(e->b.len, n);
	ck_assert_mem_eq(e->b.p, want, n);
}

START_TEST(exact_bytes)
{
	struct ap_persist_enc e;
	struct ap_arg argv[] = {{"SET", 3}, {"k", 1}, {"v", 1}};
	static const unsigned char del[] = {0x05, 0x00, 0x00, 0x00, 0xef,
					    0x66, 0xac, 0xe6, 0x03, 0x00,
					    0x00, 0x01, 0x6b};
	static const unsigned char cmd[] = {
		0x0c, 0x00, 0x00, 0x00, 0xb0, 0xd4, 0x64, 0xe0, 0x01, 0x00,
		0x00, 0x03, 0x03, 0x53, 0x45, 0x54, 0x01, 0x6b, 0x01, 0x76};
	static const unsigned char txn[] = {0x09, 0x00, 0x00, 0x00, 0xe4, 0x83,
					    0x12, 0xe2, 0x04, 0x07, 0x02, 0x00,
					    0x02, 0x01, 0x00, 0x00, 0x00};
	uint16_t shards[] = {0, 2};

	ap_persist_enc_init(&e);
	ap_persist_enc_del(&e, 0, "k", 1);
	expect_bytes(&e, del, sizeof(del));
	ap_persist_enc_clear(&e);
	ck_assert_int_eq(ap_persist_enc_cmd(&e, 0, 3, argv), 0);
	expect_bytes(&e, cmd, sizeof(cmd));
	ap_persist_enc_clear(&e);
	/* TXN txid 7 over shards 0 and 2, a part of one DEL (txid 7). */
	ap_persist_enc_txn_begin(&e, 7, shards, 2);
	ck_assert(ap_persist_enc_in_part(&e));
	ap_persist_enc_del(&e, 0, "k", 1);
	ap_persist_enc_txn_end(&e);
	ck_assert(!ap_persist_enc_in_part(&e));
	ck_assert_uint_ge(e.b.len, sizeof(txn));
	ck_assert_mem_eq(e.b.p, txn, sizeof(txn));
	/* The DEL inside the part carries txid 7. */
	ck_assert_uint_eq(e.b.p[sizeof(txn) + 8], AP_PERSIST_DEL);
	ck_assert_uint_eq(e.b.p[sizeof(txn) + 9], 7);
	ap_persist_enc_deinit(&e);
}
END_TEST

/* --- a model of records -------------------------------------------------- */

#define M_ARGS 6

struct mrec {
	enum ap_persist_kind kind;
	uint64_t txid;
	unsigned db;
	int argc;
	char args[M_ARGS][24];
	size_t alen[M_ARGS];
	char key[24];
	size_t klen;
	int64_t expire_ms;
	unsigned char value[40];
	size_t vlen;
	uint16_t shards[8];
	unsigned nshards;
	uint32_t count;
	uint64_t off, size;
};

struct model {
	struct mrec *r;
	size_t n, cap;
};

static struct mrec *model_push(struct model *m)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 32;
		m->r = realloc(m->r, m->cap * sizeof(*m->r));
	}
	memset(&m->r[m->n], 0, sizeof(m->r[0]));
	return &m->r[m->n++];
}

/* Random bytes of a random length below max. */
static size_t rand_bytes(char *p, size_t max)
{
	size_t n = rng_below(max);

	for (size_t i = 0; i < n; i++)
		p[i] = (char)rng();
	return n;
}

/* A random CMD, VALUE or DEL with txid. */
static void rand_plain(struct mrec *r, uint64_t txid)
{
	r->txid = txid;
	r->db = rng_below(4) == 0 ? AP_DATABASES_MAX - 1 : rng_below(16);
	switch (rng_below(3)) {
	case 0:
		r->kind = AP_PERSIST_CMD;
		r->argc = 1 + (int)rng_below(M_ARGS);
		for (int i = 0; i < r->argc; i++)
			r->alen[i] = rand_bytes(r->args[i], 24);
		break;
	case 1:
		r->kind = AP_PERSIST_VALUE;
		r->klen = rand_bytes(r->key, 24);
		r->expire_ms = rng_below(3) == 0 ? AP_NO_EXPIRE
			       : rng_below(2) ? (int64_t)rng_below(1ull << 42)
					      : INT64_MAX;
		/* A serialized string: type 0, STR, len, bytes. */
		r->value[0] = 0;
		r->value[1] = 0;
		r->value[2] =
			(unsigned char)rand_bytes((char *)r->value + 3, 37);
		r->vlen = 3 + r->value[2];
		break;
	default:
		r->kind = AP_PERSIST_DEL;
		r->klen = rand_bytes(r->key, 24);
		break;
	}
}

/* Random records: single changes, and parts of transactions (a TXN and
 * its records) with random participants including the writer. */
static void model_random(struct model *m, size_t n)
{
	static uint64_t next_txid = 1;

	while (m->n < n) {
		if (rng_below(4) != 0) {
			rand_plain(model_push(m), 0);
			continue;
		}
		struct mrec *t = model_push(m);
		uint64_t txid =
			next_txid++ * (rng_below(5) == 0 ? 1ull << 40 : 1);
		unsigned count = (unsigned)rng_below(4);
		uint16_t id = 0;

		t->kind = AP_PERSIST_TXN;
		t->txid = txid;
		t->nshards = 1 + (unsigned)rng_below(8);
		/* At most 8 steps of at most 30: below AP_SHARDS_MAX. */
		for (unsigned i = 0; i < t->nshards; i++) {
			id = (uint16_t)(id + (i > 0) + rng_below(30));
			t->shards[i] = id;
		}
		t->count = count;
		for (unsigned i = 0; i < count; i++)
			rand_plain(model_push(m), txid);
	}
}

/* Encodes one plain model record (the encoder stamps the txid). */
static void enc_plain(struct ap_persist_enc *e, struct mrec *r)
{
	struct ap_arg argv[M_ARGS];

	r->off = e->b.len;
	switch (r->kind) {
	case AP_PERSIST_CMD:
		for (int i = 0; i < r->argc; i++) {
			argv[i].p = r->args[i];
			argv[i].len = r->alen[i];
		}
		CK(ap_persist_enc_cmd(e, r->db, r->argc, argv) == 0);
		break;
	case AP_PERSIST_VALUE:
		CK(ap_persist_enc_value(e, r->db, r->key, r->klen, r->expire_ms,
					r->value, r->vlen) == 0);
		break;
	case AP_PERSIST_DEL:
		ap_persist_enc_del(e, r->db, r->key, r->klen);
		break;
	default:
		CK(!"plain");
	}
	r->size = e->b.len - r->off;
}

/* Encodes the whole model, recording each record's offset and size. */
static void model_encode(struct model *m, struct ap_persist_enc *e)
{
	for (size_t i = 0; i < m->n; i++) {
		struct mrec *t = &m->r[i];

		if (t->kind != AP_PERSIST_TXN) {
			enc_plain(e, t);
			continue;
		}
		t->off = e->b.len;
		ap_persist_enc_txn_begin(e, t->txid, t->shards, t->nshards);
		t->size = e->b.len - t->off;
		for (uint32_t k = 0; k < t->count; k++)
			enc_plain(e, &m->r[i + 1 + k]);
		ap_persist_enc_txn_end(e);
		i += t->count;
	}
}

/* The decoded record equals the model's. */
static void rec_expect(const struct ap_persist_rec *r, const struct mrec *m)
{
	CK(r->kind == m->kind);
	CK(r->txid == m->txid);
	CK(r->off == m->off);
	CK(r->size == m->size);
	if (m->kind == AP_PERSIST_TXN) {
		CK(r->nshards == m->nshards);
		CK(r->part_count == m->count);
		for (unsigned i = 0; i < m->nshards; i++)
			CK(ap_persist_rec_has_shard(r, m->shards[i]));
		unsigned bits = 0;
		for (int w = 0; w < AP_SHARDS_MAX / 64; w++)
			bits += (unsigned)__builtin_popcountll(
				r->shard_mask[w]);
		CK(bits == m->nshards);
		return;
	}
	CK(r->db == m->db);
	if (m->kind == AP_PERSIST_CMD) {
		struct ap_arg argv[M_ARGS];

		CK(r->argc == (uint32_t)m->argc);
		ap_persist_rec_argv(r, argv);
		for (int i = 0; i < m->argc; i++) {
			CK(argv[i].len == m->alen[i]);
			CK(memcmp(argv[i].p, m->args[i], m->alen[i]) == 0);
		}
		return;
	}
	CK(r->klen == m->klen);
	CK(memcmp(r->key, m->key, m->klen) == 0);
	if (m->kind == AP_PERSIST_VALUE) {
		CK(r->expire_ms == m->expire_ms);
		CK(r->value_len == m->vlen);
		CK(memcmp(r->value, m->value, m->vlen) == 0);
	}
}

/* The outcome of reading a log. */
struct result {
	size_t nrecs; /* records returned, each checked against the model */
	enum ap_persist_status status;
	uint64_t end_off, keep_len, cut_txid;
	const char *why;
};

/* Reads the len bytes at p whole, checking records against m in order. */
static struct result read_whole(const unsigned char *p, size_t len,
				const struct model *m)
{
	struct ap_persist_iter it;
	struct ap_persist_rec r;
	struct result res = {0};

	ap_persist_iter_init_buf(&it, p, len);
	while (ap_persist_iter_next(&it, &r)) {
		CK(res.nrecs < m->n);
		rec_expect(&r, &m->r[res.nrecs]);
		res.nrecs++;
	}
	CK(!ap_persist_iter_next(&it, &r)); /* stays ended */
	res.status = it.status;
	res.end_off = it.end_off;
	res.keep_len = it.keep_len;
	res.cut_txid = it.cut_txid;
	res.why = it.why;
	return res;
}

/* Reads the len bytes at p in pieces of about step bytes (at least what
 * the iterator wants), each piece a fresh copy freed at the next feed. */
static struct result read_chunked(const unsigned char *p, size_t len,
				  size_t step, const struct model *m)
{
	struct ap_persist_iter it;
	struct ap_persist_rec r;
	struct result res = {0};
	unsigned char *chunk = NULL;

	ap_persist_iter_init(&it, len);
	for (;;) {
		if (it.status == AP_PERSIST_NEED_MORE) {
			size_t from = (size_t)it.end_off;
			size_t n = AP_MIN(AP_MAX((size_t)it.want, step),
					  len - from);

			CK(it.want <= len - from);
			free(chunk);
			chunk = malloc(n + 1);
			memcpy(chunk, p + from, n);
			ap_persist_iter_feed(&it, chunk, n);
		}
		if (ap_persist_iter_next(&it, &r)) {
			CK(res.nrecs < m->n);
			rec_expect(&r, &m->r[res.nrecs]);
			res.nrecs++;
			continue;
		}
		if (it.status != AP_PERSIST_NEED_MORE)
			break;
	}
	free(chunk);
	res.status = it.status;
	res.end_off = it.end_off;
	res.keep_len = it.keep_len;
	res.cut_txid = it.cut_txid;
	res.why = it.why;
	return res;
}

static void model_free(struct model *m)
{
	free(m->r);
	memset(m, 0, sizeof(*m));
}

/* --- round trips ------------------------------------------------------- */

START_TEST(round_trip_every_kind)
{
	struct model m = {0};
	struct ap_persist_enc e;
	struct mrec *r;
	struct result res;

	/* One of each, with edge values. */
	r = model_push(&m);
	r->kind = AP_PERSIST_CMD;
	r->argc = 2;
	r->alen[0] = 0; /* an empty argument */
	memcpy(r->args[1], "a\0b\r\n", 5);
	r->alen[1] = 5;
	r = model_push(&m);
	r->kind = AP_PERSIST_VALUE;
	r->db = AP_DATABASES_MAX - 1;
	r->klen = 0; /* the empty key */
	r->expire_ms = 0;
	memcpy(r->value, "\x00\x01\x02", 3); /* string INT 1 */
	r->vlen = 3;
	r = model_push(&m);
	r->kind = AP_PERSIST_VALUE;
	memcpy(r->key, "k", 1);
	r->klen = 1;
	r->expire_ms = INT64_MAX;
	memcpy(r->value, "\x00\x00\x00", 3);
	r->vlen = 3;
	r = model_push(&m);
	r->kind = AP_PERSIST_VALUE;
	r->expire_ms = AP_NO_EXPIRE;
	memcpy(r->value, "\x00\x00", 2); /* shortest value accepted */
	r->vlen = 2;
	r = model_push(&m);
	r->kind = AP_PERSIST_DEL;
	r->db = 3;
	memcpy(r->key, "key", 3);
	r->klen = 3;
	r = model_push(&m); /* an empty part */
	r->kind = AP_PERSIST_TXN;
	r->txid = UINT64_MAX;
	r->nshards = 1;
	r->shards[0] = AP_SHARDS_MAX - 1;
	r = model_push(&m);
	r->kind = AP_PERSIST_TXN;
	r->txid = 42;
	r->nshards = 3;
	r->shards[0] = 0;
	r->shards[1] = 1;
	r->shards[2] = 200;
	r->count = 1;
	r = model_push(&m);
	r->kind = AP_PERSIST_DEL;
	r->txid = 42;
	ap_persist_enc_init(&e);
	model_encode(&m, &e);
	res = read_whole(e.b.p, e.b.len, &m);
	ck_assert_uint_eq(res.nrecs, m.n);
	ck_assert_int_eq(res.status, AP_PERSIST_CLEAN);
	ck_assert_uint_eq(res.end_off, e.b.len);
	ck_assert_uint_eq(res.keep_len, e.b.len);
	ck_assert_uint_eq(res.cut_txid, 0);
	ap_persist_enc_deinit(&e);
	model_free(&m);
}
END_TEST

START_TEST(round_trip_argc_max)
{
	struct ap_persist_enc e;
	struct ap_arg *argv = calloc(AP_ARGC_MAX, sizeof(*argv));
	struct ap_persist_iter it;
	struct ap_persist_rec r;

	for (int i = 0; i < AP_ARGC_MAX; i++) {
		argv[i].p = "x";
		argv[i].len = (size_t)(i % 2);
	}
	ap_persist_enc_init(&e);
	ck_assert_int_eq(ap_persist_enc_cmd(&e, 1, AP_ARGC_MAX, argv), 0);
	memset(argv, 0, AP_ARGC_MAX * sizeof(*argv));
	ap_persist_iter_init_buf(&it, e.b.p, e.b.len);
	ck_assert(ap_persist_iter_next(&it, &r));
	ck_assert_uint_eq(r.argc, AP_ARGC_MAX);
	ap_persist_rec_argv(&r, argv);
	for (int i = 0; i < AP_ARGC_MAX; i++)
		CK(argv[i].len == (size_t)(i % 2) &&
		   (argv[i].len == 0 || argv[i].p[0] == 'x'));
	ck_assert(!ap_persist_iter_next(&it, &r));
	ck_assert_int_eq(it.status, AP_PERSIST_CLEAN);
	ap_persist_enc_deinit(&e);
	free(argv);
}
END_TEST

START_TEST(encoder_refuses_oversized)
{
	struct ap_persist_enc e;
	char one = 'x';
	/* Lengths only: the size is checked before a byte is read. */
	struct ap_arg big[] = {{&one, (size_t)AP_PERSIST_RECORD_LEN_MAX}};
	struct ap_arg two[] = {{&one, (size_t)AP_PERSIST_RECORD_LEN_MAX / 2},
			       {&one, (size_t)AP_PERSIST_RECORD_LEN_MAX / 2}};
	struct ap_arg wrap[] = {{&one, SIZE_MAX - 3}, {&one, 10}};

	ap_persist_enc_init(&e);
	ap_persist_enc_del(&e, 0, "k", 1);
	ck_assert_int_eq(ap_persist_enc_cmd(&e, 0, 1, big), -EMSGSIZE);
	ck_assert_int_eq(ap_persist_enc_cmd(&e, 0, 2, two), -EMSGSIZE);
	ck_assert_int_eq(ap_persist_enc_cmd(&e, 0, 2, wrap), -EMSGSIZE);
	ck_assert_int_eq(
		ap_persist_enc_value(&e, 0, "k", 1, AP_NO_EXPIRE, &one,
				     (size_t)AP_PERSIST_RECORD_LEN_MAX + 1),
		-EMSGSIZE);
	/* Nothing was appended. */
	ck_assert_uint_eq(e.b.len, 13);
	ap_persist_enc_deinit(&e);
}
END_TEST

START_TEST(encoder_clear_bounds_memory)
{
	struct ap_persist_enc e;
	char *big = calloc(1, AP_PERSIST_ENC_KEEP_SIZE);
	unsigned char *kept;

	ap_persist_enc_init(&e);
	ap_persist_enc_del(&e, 0, "k", 1);
	kept = e.b.p;
	ap_persist_enc_clear(&e);
	ck_assert_uint_eq(e.b.len, 0);
	ck_assert_ptr_eq(e.b.p, kept); /* a small buffer is kept */
	ap_persist_enc_del(&e, 0, big, AP_PERSIST_ENC_KEEP_SIZE);
	ck_assert_uint_gt(e.b.cap, AP_PERSIST_ENC_KEEP_SIZE);
	ap_persist_enc_clear(&e);
	ck_assert_uint_eq(e.b.len, 0);
	ck_assert_uint_eq(e.b.cap, 0); /* a big one is released */
	ap_persist_enc_del(&e, 0, "k", 1);
	ck_assert_uint_eq(e.b.len, 13);
	ap_persist_enc_deinit(&e);
	free(big);
}
END_TEST

START_TEST(encode_entries)
{
	/* `HSET h f v n 12` as a DUMP value (docs/serialization.md). */
	static const unsigned char hash[] = {0x04, 0x02, 0x14, 0x14, 0x00, 0x00,
					     0x00, 0x04, 0x00, 0x00, 0x00, 0x81,
					     0x66, 0x02, 0x81, 0x76, 0x02, 0x81,
					     0x6e, 0x02, 0x0c, 0x01, 0xff};
	struct ap_keyspace *ks = ap_keyspace_create(16);
	struct ap_db *db = ap_keyspace_db(ks, 5);
	struct ap_config cfg;
	struct ap_serial_limits lim;
	struct ap_serial_value v;
	struct ap_serial_buf want;
	struct ap_persist_enc e;
	struct ap_persist_iter it;
	struct ap_persist_rec r;
	const char *why;
	size_t used;
	struct ap_entry *ents[3];

	ap_keyspace_set_now(ks, 1000);
	ap_config_init(&cfg);
	ap_serial_limits_of(&cfg, &lim);
	ck_assert_int_eq(
		ap_serial_decode(hash, sizeof(hash), &lim, &v, &used, &why), 0);
	ap_serial_value_store(db, "h", 1, &v, AP_NO_EXPIRE);
	ap_db_set_string(db, "s", 1, "hello", 5, 123456789);
	ap_db_set_int(db, "i", 1, -300, AP_NO_EXPIRE);
	/* Looked up after the last mutation: entries may move. */
	ents[0] = ap_db_lookup(db, "h", 1, AP_LK_NOTOUCH);
	ents[1] = ap_db_lookup(db, "s", 1, AP_LK_NOTOUCH);
	ents[2] = ap_db_lookup(db, "i", 1, AP_LK_NOTOUCH);
	ck_assert(ents[0] && ents[1] && ents[2]);
	ck_assert_int_eq(ap_entry_type(ents[0]), AP_TYPE_HASH);
	ap_persist_enc_init(&e);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(ap_persist_enc_entry(&e, 5, ents[i]), 0);
	ap_persist_iter_init_buf(&it, e.b.p, e.b.len);
	for (int i = 0; i < 3; i++) {
		size_t klen;
		const char *key = ap_entry_key(ents[i], &klen);

		ck_assert(ap_persist_iter_next(&it, &r));
		ck_assert_int_eq(r.kind, AP_PERSIST_VALUE);
		ck_assert_uint_eq(r.db, 5);
		ck_assert_uint_eq(r.klen, klen);
		ck_assert_mem_eq(r.key, key, klen);
		ck_assert_int_eq(r.expire_ms, ap_entry_expire(ents[i]));
		ap_serial_buf_init(&want);
		ap_serial_encode_entry(&want, ents[i]);
		ck_assert_uint_eq(r.value_len, want.len);
		ck_assert_mem_eq(r.value, want.p, want.len);
		ap_serial_buf_deinit(&want);
	}
	ck_assert_int_eq(r.expire_ms, AP_NO_EXPIRE);
	ck_assert(!ap_persist_iter_next(&it, &r));
	ck_assert_int_eq(it.status, AP_PERSIST_CLEAN);
	ck_assert_uint_eq(it.counts[AP_PERSIST_VALUE], 3);
	ap_persist_enc_deinit(&e);
	ap_keyspace_destroy(ks);
}
END_TEST

/* --- hand-made bad records --------------------------------------------- */

/* Frames payload as the only record, then again followed by a good DEL,
 * and after a good DEL: corrupt each time (the CRC is right, so never a
 * torn tail), at the bad record, for the reason why. */
static void expect_bad(const struct bytes *payload, const char *why)
{
	struct bytes good = {0}, log = {0};
	struct ap_persist_iter it;
	struct ap_persist_rec r;

	by_u8(&good, AP_PERSIST_DEL);
	by_varint(&good, 0);
	by_varint(&good, 0);
	by_str(&good, "k", 1);
	for (int layout = 0; layout < 3; layout++) {
		uint64_t bad_off = 0;

		log.len = 0;
		if (layout == 2) {
			by_frame(&log, &good);
			bad_off = log.len;
		}
		by_frame(&log, payload);
		if (layout == 1)
			by_frame(&log, &good);
		ap_persist_iter_init_buf(&it, log.p, log.len);
		if (layout == 2)
			ck_assert(ap_persist_iter_next(&it, &r));
		ck_assert(!ap_persist_iter_next(&it, &r));
		ck_assert_int_eq(it.status, AP_PERSIST_CORRUPT);
		ck_assert_uint_eq(it.end_off, bad_off);
		ck_assert_uint_eq(it.keep_len, bad_off);
		ck_assert_str_eq(it.why, why);
	}
	by_free(&good);
	by_free(&log);
}

/* The payload is accepted as a record of the given kind. */
static void expect_good(const struct bytes *payload, enum ap_persist_kind kind,
			struct ap_persist_rec *r)
{
	struct bytes log = {0};
	struct ap_persist_iter it;
	struct ap_persist_rec end;

	by_frame(&log, payload);
	ap_persist_iter_init_buf(&it, log.p, log.len);
	ck_assert_msg(ap_persist_iter_next(&it, r), "refused: %s",
		      it.why ? it.why : "?");
	ck_assert_int_eq(r->kind, kind);
	ck_assert(!ap_persist_iter_next(&it, &end));
	ck_assert_int_eq(it.status, AP_PERSIST_CLEAN);
	by_free(&log);
}

/* A payload of kind and txid, then the rest added by the caller. */
static void start(struct bytes *b, uint8_t kind, uint64_t txid)
{
	b->len = 0;
	by_u8(b, kind);
	by_varint(b, txid);
}

START_TEST(bad_kinds_and_varints)
{
	struct bytes b = {0};
	static const unsigned char overlong[] = {0x80, 0x00};
	static const unsigned char nine80[] = {0x80, 0x80, 0x80, 0x80, 0x80,
					       0x80, 0x80, 0x80, 0x80};

	expect_bad(&b, "empty record");
	start(&b, 0, 0);
	expect_bad(&b, "unknown record kind");
	start(&b, AP_PERSIST_KIND_MAX + 1, 0);
	expect_bad(&b, "unknown record kind");
	start(&b, 0xff, 0);
	expect_bad(&b, "unknown record kind");
	b.len = 0;
	by_u8(&b, AP_PERSIST_DEL);
	expect_bad(&b, "record ends inside a field");
	b.len = 0;
	by_u8(&b, AP_PERSIST_DEL);
	by_put(&b, overlong, 2);
	by_varint(&b, 0);
	by_str(&b, "k", 1);
	expect_bad(&b, "varint not in shortest form");
	/* A ten-byte varint: a tenth byte of 1 is 2^63, of 2 is too big. */
	b.len = 0;
	by_u8(&b, AP_PERSIST_DEL);
	by_put(&b, nine80, 9);
	by_u8(&b, 0x02);
	expect_bad(&b, "varint beyond 64 bits");
	b.len = 0;
	by_u8(&b, AP_PERSIST_DEL);
	by_put(&b, nine80, 9);
	by_u8(&b, 0x80);
	by_u8(&b, 0x00);
	expect_bad(&b, "varint beyond 64 bits");
	b.len = 0;
	by_u8(&b, AP_PERSIST_DEL);
	by_put(&b, nine80, 9);
	expect_bad(&b, "record ends inside a field");
	/* Trailing bytes. */
	start(&b, AP_PERSIST_DEL, 0);
	by_varint(&b, 0);
	by_str(&b, "k", 1);
	by_u8(&b, 0);
	expect_bad(&b, "bytes left over after the record's fields");
	by_free(&b);
}
END_TEST

START_TEST(bad_fields_at_boundaries)
{
	struct bytes b = {0};
	struct ap_persist_rec r;
	static const unsigned char two63[] = {0x80, 0x80, 0x80, 0x80, 0x80,
					      0x80, 0x80, 0x80, 0x80, 0x01};
	static const unsigned char two63p1[] = {0x81, 0x80, 0x80, 0x80, 0x80,
						0x80, 0x80, 0x80, 0x80, 0x01};

	/* db: the last one is fine, one more is not. */
	start(&b, AP_PERSIST_DEL, 0);
	by_varint(&b, AP_DATABASES_MAX - 1);
	by_str(&b, "k", 1);
	expect_good(&b, AP_PERSIST_DEL, &r);
	ck_assert_uint_eq(r.db, AP_DATABASES_MAX - 1);
	start(&b, AP_PERSIST_DEL, 0);
	by_varint(&b, AP_DATABASES_MAX);
	by_str(&b, "k", 1);
	expect_bad(&b, "database out of range");
	/* Strings: beyond the bulk ceiling, or beyond the record. */
	start(&b, AP_PERSIST_DEL, 0);
	by_varint(&b, 0);
	by_varint(&b, (uint64_t)AP_PROTO_MAX_BULK_LEN_MAX + 1);
	expect_bad(&b, "string longer than the bulk ceiling");
	start(&b, AP_PERSIST_DEL, 0);
	by_varint(&b, 0);
	by_varint(&b, (uint64_t)AP_PROTO_MAX_BULK_LEN_MAX);
	expect_bad(&b, "string runs past the record");
	start(&b, AP_PERSIST_DEL, 0);
	by_varint(&b, 0);
	by_varint(&b, 2);
	by_u8(&b, 'k');
	expect_bad(&b, "string runs past the record");
	/* CMD argc: 0, beyond the bytes, beyond AP_ARGC_MAX. */
	start(&b, AP_PERSIST_CMD, 0);
	by_varint(&b, 0);
	by_varint(&b, 0);
	expect_bad(&b, "command without arguments");
	start(&b, AP_PERSIST_CMD, 0);
	by_varint(&b, 0);
	by_varint(&b, 5);
	by_str(&b, "a", 1);
	by_str(&b, "b", 1);
	expect_bad(&b, "argument count beyond the bytes left");
	start(&b, AP_PERSIST_CMD, 0);
	by_varint(&b, 0);
	by_varint(&b, 3);
	by_str(&b, "a", 1);
	by_str(&b, "b", 1);
	expect_bad(&b, "record ends inside a field");
	start(&b, AP_PERSIST_CMD, 0);
	by_varint(&b, 0);
	by_varint(&b, 2);
	by_str(&b, "a", 1);
	by_varint(&b, 5);
	by_u8(&b, 'x');
	expect_bad(&b, "string runs past the record");
	start(&b, AP_PERSIST_CMD, 0);
	by_varint(&b, 0);
	by_varint(&b, AP_ARGC_MAX + 1);
	expect_bad(&b, "argument count above AP_ARGC_MAX");
	start(&b, AP_PERSIST_CMD, 0);
	by_varint(&b, 0);
	by_varint(&b, AP_ARGC_MAX);
	for (int i = 0; i < AP_ARGC_MAX; i++)
		by_u8(&b, 0);
	expect_good(&b, AP_PERSIST_CMD, &r);
	ck_assert_uint_eq(r.argc, AP_ARGC_MAX);
	/* VALUE expiry: 0 none, 1 is 0 ms, 2^63 is INT64_MAX, above bad. */
	start(&b, AP_PERSIST_VALUE, 0);
	by_varint(&b, 0);
	by_str(&b, "k", 1);
	by_put(&b, two63, sizeof(two63));
	by_put(&b, "\x00\x00", 2);
	expect_good(&b, AP_PERSIST_VALUE, &r);
	ck_assert_int_eq(r.expire_ms, INT64_MAX);
	start(&b, AP_PERSIST_VALUE, 0);
	by_varint(&b, 0);
	by_str(&b, "k", 1);
	by_varint(&b, 1);
	by_put(&b, "\x00\x00", 2);
	expect_good(&b, AP_PERSIST_VALUE, &r);
	ck_assert_int_eq(r.expire_ms, 0);
	start(&b, AP_PERSIST_VALUE, 0);
	by_varint(&b, 0);
	by_str(&b, "k", 1);
	by_put(&b, two63p1, sizeof(two63p1));
	by_put(&b, "\x00\x00", 2);
	expect_bad(&b, "expiry out of range");
	start(&b, AP_PERSIST_VALUE, 0);
	by_varint(&b, 0);
	by_str(&b, "k", 1);
	by_varint(&b, 0);
	by_u8(&b, 0);
	expect_bad(&b, "value shorter than a value header");
	by_free(&b);
}
END_TEST

START_TEST(bad_txn_records)
{
	struct bytes b = {0};
	struct ap_persist_rec r;

	start(&b, AP_PERSIST_TXN, 0);
	by_varint(&b, 1);
	by_varint(&b, 0);
	by_u32(&b, 0);
	expect_bad(&b, "transaction record with txid 0");
	start(&b, AP_PERSIST_TXN, 9);
	by_varint(&b, 0);
	by_u32(&b, 0);
	expect_bad(&b, "transaction without shards");
	start(&b, AP_PERSIST_TXN, 9);
	by_varint(&b, AP_SHARDS_MAX + 1);
	expect_bad(&b, "too many shards in a transaction");
	start(&b, AP_PERSIST_TXN, 9);
	by_varint(&b, AP_SHARDS_MAX);
	for (int i = 0; i < AP_SHARDS_MAX; i++)
		by_varint(&b, (uint64_t)i);
	by_u32(&b, 0);
	expect_good(&b, AP_PERSIST_TXN, &r);
	ck_assert_uint_eq(r.nshards, AP_SHARDS_MAX);
	ck_assert(ap_persist_rec_has_shard(&r, AP_SHARDS_MAX - 1));
	ck_assert(!ap_persist_rec_has_shard(&r, AP_SHARDS_MAX));
	start(&b, AP_PERSIST_TXN, 9);
	by_varint(&b, 1);
	by_varint(&b, AP_SHARDS_MAX);
	by_u32(&b, 0);
	expect_bad(&b, "shard id out of range");
	start(&b, AP_PERSIST_TXN, 9);
	by_varint(&b, 2);
	by_varint(&b, 3);
	by_varint(&b, 3);
	by_u32(&b, 0);
	expect_bad(&b, "transaction shards not ascending");
	start(&b, AP_PERSIST_TXN, 9);
	by_varint(&b, 2);
	by_varint(&b, 3);
	by_varint(&b, 1);
	by_u32(&b, 0);
	expect_bad(&b, "transaction shards not ascending");
	start(&b, AP_PERSIST_TXN, 9);
	by_varint(&b, 1);
	by_varint(&b, 1);
	by_put(&b, "\x00\x00\x00", 3);
	expect_bad(&b, "record ends inside a field");
	/* A record with a txid outside any part. */
	start(&b, AP_PERSIST_DEL, 9);
	by_varint(&b, 0);
	by_str(&b, "k", 1);
	expect_bad(&b, "transaction record outside its part");
	by_free(&b);
}
END_TEST

/* Frames a TXN (txid, shard 0, count) into log. */
static void frame_txn(struct bytes *log, uint64_t txid, uint32_t count)
{
	struct bytes b = {0};

	start(&b, AP_PERSIST_TXN, txid);
	by_varint(&b, 1);
	by_varint(&b, 0);
	by_u32(&b, count);
	by_frame(log, &b);
	by_free(&b);
}

/* Frames a DEL of "k" with txid into log. */
static void frame_del(struct bytes *log, uint64_t txid)
{
	struct bytes b = {0};

	start(&b, AP_PERSIST_DEL, txid);
	by_varint(&b, 0);
	by_str(&b, "k", 1);
	by_frame(log, &b);
	by_free(&b);
}

/* Reads log to its end; returns the iterator's final state. */
static struct ap_persist_iter read_to_end(const struct bytes *log,
					  size_t *nrecs)
{
	struct ap_persist_iter it;
	struct ap_persist_rec r;

	*nrecs = 0;
	ap_persist_iter_init_buf(&it, log->p, log->len);
	while (ap_persist_iter_next(&it, &r))
		(*nrecs)++;
	return it;
}

START_TEST(bad_part_structure)
{
	struct bytes log = {0};
	struct ap_persist_iter it;
	size_t n, del, part;

	/* A part interrupted by a txid-0 record. */
	frame_del(&log, 0);
	part = log.len;
	frame_txn(&log, 5, 2);
	frame_del(&log, 5);
	del = log.len;
	frame_del(&log, 0);
	it = read_to_end(&log, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(it.status, AP_PERSIST_CORRUPT);
	ck_assert_uint_eq(it.end_off, del);
	ck_assert_uint_eq(it.keep_len, part); /* salvage drops the part */
	ck_assert_uint_eq(it.cut_txid, 5);
	ck_assert_str_eq(it.why,
			 "transaction part cut short by another record");
	/* By a record of another txid. */
	log.len = del;
	frame_del(&log, 6);
	it = read_to_end(&log, &n);
	ck_assert_int_eq(it.status, AP_PERSIST_CORRUPT);
	ck_assert_str_eq(it.why,
			 "transaction part cut short by another record");
	/* By another TXN. */
	log.len = del;
	frame_txn(&log, 6, 0);
	it = read_to_end(&log, &n);
	ck_assert_int_eq(it.status, AP_PERSIST_CORRUPT);
	ck_assert_uint_eq(it.end_off, del);
	ck_assert_uint_eq(it.keep_len, part);
	ck_assert_str_eq(it.why, "transaction part cut short by another");
	/* The file ends inside the part: torn, the part dropped whole. */
	log.len = del;
	it = read_to_end(&log, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(it.status, AP_PERSIST_TORN);
	ck_assert_uint_eq(it.end_off, del);
	ck_assert_uint_eq(it.keep_len, part);
	ck_assert_uint_eq(it.cut_txid, 5);
	/* Completed, then a record with txid 0: clean. A part of 0 records
	 * is complete at once. */
	frame_del(&log, 5);
	frame_txn(&log, 7, 0);
	frame_del(&log, 0);
	it = read_to_end(&log, &n);
	ck_assert_uint_eq(n, 6);
	ck_assert_int_eq(it.status, AP_PERSIST_CLEAN);
	ck_assert_uint_eq(it.cut_txid, 0);
	ck_assert_uint_eq(it.counts[AP_PERSIST_TXN], 2);
	ck_assert_uint_eq(it.counts[AP_PERSIST_DEL], 4);
	by_free(&log);
}
END_TEST

START_TEST(torn_frames)
{
	struct bytes log = {0};
	struct ap_persist_iter it;
	size_t n, second;

	frame_del(&log, 0);
	second = log.len;
	frame_del(&log, 0);
	/* A CRC failing in the last record, which ends at the file's end:
	 * torn. The same record followed by another: corrupt. */
	log.p[log.len - 1] ^= 0x40;
	it = read_to_end(&log, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(it.status, AP_PERSIST_TORN);
	ck_assert_uint_eq(it.end_off, second);
	ck_assert_uint_eq(it.keep_len, second);
	ck_assert_str_eq(it.why, "checksum mismatch in the last record");
	frame_del(&log, 0);
	it = read_to_end(&log, &n);
	ck_assert_int_eq(it.status, AP_PERSIST_CORRUPT);
	ck_assert_uint_eq(it.end_off, second);
	ck_assert_str_eq(it.why, "checksum mismatch");
	/* A length running past the end; a header cut short. */
	log.len = second;
	frame_del(&log, 0);
	log.p[second] = 0x7f;
	it = read_to_end(&log, &n);
	ck_assert_int_eq(it.status, AP_PERSIST_TORN);
	ck_assert_uint_eq(it.end_off, second);
	ck_assert_str_eq(it.why, "the file ends inside a record");
	log.len = second + 7;
	it = read_to_end(&log, &n);
	ck_assert_int_eq(it.status, AP_PERSIST_TORN);
	ck_assert_str_eq(it.why, "the file ends inside a record header");
	/* A zero-length record with a matching CRC (0): corrupt, not empty
	 * success. */
	log.len = second;
	by_u32(&log, 0);
	by_u32(&log, 0);
	it = read_to_end(&log, &n);
	ck_assert_int_eq(it.status, AP_PERSIST_CORRUPT);
	ck_assert_str_eq(it.why, "empty record");
	by_free(&log);
}
END_TEST

/* --- every truncation, every bit flip, pieces, random -------------------- */

/* Where a read of the first len bytes of the model's log must end. */
static struct result expect_at(const struct model *m, uint64_t len)
{
	struct result want = {0};
	uint32_t left = 0;
	uint64_t part_off = 0, part_txid = 0;

	for (size_t i = 0; i < m->n; i++) {
		const struct mrec *r = &m->r[i];

		if (r->off == len)
			break; /* at a record boundary */
		if (r->off + r->size > len) {
			want.status = AP_PERSIST_TORN;
			want.end_off = r->off;
			break;
		}
		want.nrecs++;
		if (r->kind == AP_PERSIST_TXN) {
			left = r->count;
			part_off = r->off;
			part_txid = r->txid;
		} else if (left > 0) {
			left--;
		}
	}
	if (want.status != AP_PERSIST_TORN) {
		want.end_off = len;
		want.status = left > 0 ? AP_PERSIST_TORN : AP_PERSIST_CLEAN;
	}
	want.keep_len = left > 0 ? part_off : want.end_off;
	want.cut_txid = left > 0 ? part_txid : 0;
	return want;
}

/* Two results agree. */
static void result_expect(const struct result *got, const struct result *want)
{
	CK(got->nrecs == want->nrecs);
	CK(got->status == want->status);
	CK(got->end_off == want->end_off);
	CK(got->keep_len == want->keep_len);
	CK(got->cut_txid == want->cut_txid);
}

START_TEST(every_truncation)
{
	struct model m = {0};
	struct ap_persist_enc e;

	model_random(&m, 60);
	ap_persist_enc_init(&e);
	model_encode(&m, &e);
	for (size_t len = 0; len <= e.b.len; len++) {
		/* A copy of exactly len bytes, so ASan sees any overread. */
		unsigned char *p = malloc(len + 1);
		struct result want = expect_at(&m, len);
		struct result got;

		memcpy(p, e.b.p, len);
		got = read_whole(p, len, &m);
		result_expect(&got, &want);
		got = read_chunked(p, len, 1 + rng_below(64), &m);
		result_expect(&got, &want);
		free(p);
	}
	ap_persist_enc_deinit(&e);
	model_free(&m);
}
END_TEST

START_TEST(every_bit_flip)
{
	struct model m = {0};
	struct ap_persist_enc e;
	struct mrec *r;
	unsigned char *p;

	/* Every kind, and a part of two records. */
	while (m.n < 6)
		rand_plain(model_push(&m), 0);
	r = model_push(&m);
	r->kind = AP_PERSIST_TXN;
	r->txid = 3;
	r->nshards = 2;
	r->shards[0] = 1;
	r->shards[1] = 4;
	r->count = 2;
	rand_plain(model_push(&m), 3);
	rand_plain(model_push(&m), 3);
	rand_plain(model_push(&m), 0);
	ap_persist_enc_init(&e);
	model_encode(&m, &e);
	p = malloc(e.b.len);
	for (size_t bit = 0; bit < e.b.len * 8; bit++) {
		size_t at = bit / 8, k = 0;
		struct result got;

		memcpy(p, e.b.p, e.b.len);
		p[at] ^= (unsigned char)(1u << (bit % 8));
		while (m.r[k].off + m.r[k].size <= at)
			k++;
		/* Never clean; the records before the damaged one are
		 * returned intact and the damaged one is where it stops. */
		got = read_whole(p, e.b.len, &m);
		CK(got.status == AP_PERSIST_TORN ||
		   got.status == AP_PERSIST_CORRUPT);
		CK(got.nrecs == k);
		CK(got.end_off == m.r[k].off);
	}
	free(p);
	ap_persist_enc_deinit(&e);
	model_free(&m);
}
END_TEST

START_TEST(random_logs_against_model)
{
	for (int round = 0; round < 40; round++) {
		struct model m = {0};
		struct ap_persist_enc e;
		struct result got, want;

		model_random(&m, 1 + rng_below(400));
		ap_persist_enc_init(&e);
		model_encode(&m, &e);
		want = expect_at(&m, e.b.len);
		ck_assert_int_eq(want.status, AP_PERSIST_CLEAN);
		ck_assert_uint_eq(want.nrecs, m.n);
		got = read_whole(e.b.p, e.b.len, &m);
		result_expect(&got, &want);
		got = read_chunked(e.b.p, e.b.len, 1 + rng_below(4096), &m);
		result_expect(&got, &want);
		/* The encoder appends across clears: a second batch read
		 * after the first gives the same records. */
		ap_persist_enc_clear(&e);
		model_encode(&m, &e);
		got = read_whole(e.b.p, e.b.len, &m);
		result_expect(&got, &want);
		ap_persist_enc_deinit(&e);
		model_free(&m);
	}
}
END_TEST

START_TEST(pieces_corrupt_in_middle)
{
	struct model m = {0};
	struct ap_persist_enc e;
	struct result a, b;
	size_t k;

	model_random(&m, 50);
	ap_persist_enc_init(&e);
	model_encode(&m, &e);
	k = m.n / 2;
	/* Damage a payload byte of record k. */
	e.b.p[m.r[k].off + m.r[k].size - 1] ^= 1;
	a = read_whole(e.b.p, e.b.len, &m);
	ck_assert_int_eq(a.status, AP_PERSIST_CORRUPT);
	ck_assert_uint_eq(a.nrecs, k);
	ck_assert_uint_eq(a.end_off, m.r[k].off);
	for (size_t step = 1; step < 300; step += 7) {
		b = read_chunked(e.b.p, e.b.len, step, &m);
		result_expect(&b, &a);
	}
	ap_persist_enc_deinit(&e);
	model_free(&m);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(ap_persist_kind_name(AP_PERSIST_CMD), "CMD");
	ck_assert_str_eq(ap_persist_kind_name(AP_PERSIST_VALUE), "VALUE");
	ck_assert_str_eq(ap_persist_kind_name(AP_PERSIST_DEL), "DEL");
	ck_assert_str_eq(ap_persist_kind_name(AP_PERSIST_TXN), "TXN");
	ck_assert_str_eq(ap_persist_kind_name(0), "?");
	ck_assert_str_eq(ap_persist_status_name(AP_PERSIST_TORN), "torn");
	ck_assert_str_eq(ap_persist_status_name(AP_PERSIST_CLEAN), "clean");
	ck_assert_str_eq(ap_persist_status_name(AP_PERSIST_CORRUPT), "corrupt");
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("persist_log");
	TCase *tc = tcase_create("log");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, crc_check_values);
	tcase_add_test(tc, crc_every_length_and_alignment);
	tcase_add_test(tc, crc_random_buffers_hw_sw);
	tcase_add_test(tc, exact_bytes);
	tcase_add_test(tc, round_trip_every_kind);
	tcase_add_test(tc, round_trip_argc_max);
	tcase_add_test(tc, encoder_refuses_oversized);
	tcase_add_test(tc, encoder_clear_bounds_memory);
	tcase_add_test(tc, encode_entries);
	tcase_add_test(tc, bad_kinds_and_varints);
	tcase_add_test(tc, bad_fields_at_boundaries);
	tcase_add_test(tc, bad_txn_records);
	tcase_add_test(tc, bad_part_structure);
	tcase_add_test(tc, torn_frames);
	tcase_add_test(tc, every_truncation);
	tcase_add_test(tc, every_bit_flip);
	tcase_add_test(tc, random_logs_against_model);
	tcase_add_test(tc, pieces_corrupt_in_middle);
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	ap_core_setup();

	SRunner *sr = srunner_create(log_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures != 0;
}
