/*
 * test_txn.c - the all-or-nothing rule for multi-shard transactions
 * (persist/txn.c): complete transactions, parts missing from a shard's
 * log or cut short by its end, single-shard and empty parts, logs that
 * contradict each other (a txid twice in one log, disagreeing
 * participants, a participant beyond the shard count, a part in the log
 * of a shard it does not name), whole logs written by the encoder and
 * read back, and a randomized run against a reference model.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persist/persist.h"

/* Failure-only assertion for hot loops. */
#define CK(x)                                                              \
	do {                                                               \
		if (!(x))                                                  \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #x); \
	} while (0)

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint64_t rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

/* A TXN record as the iterator would return it. */
static struct ap_persist_rec txn_rec(uint64_t txid, const uint16_t *shards,
				     unsigned n)
{
	struct ap_persist_rec r;

	memset(&r, 0, sizeof(r));
	r.kind = AP_PERSIST_TXN;
	r.txid = txid;
	r.nshards = n;
	for (unsigned i = 0; i < n; i++)
		r.shard_mask[shards[i] / 64] |= 1ull << (shards[i] % 64);
	return r;
}

/* Notes txid over shards[0..n) in log l; the add must succeed. */
static void add(struct ap_persist_txn_log *l, uint64_t txid,
		const uint16_t *shards, unsigned n)
{
	struct ap_persist_rec r = txn_rec(txid, shards, n);
	const char *why = NULL;

	ck_assert_int_eq(ap_persist_txn_log_add(l, &r, &why), 0);
}

/* Resolves logs[0..n) over nshards, which must succeed. */
static struct ap_persist_txn_set resolve(struct ap_persist_txn_log *logs,
					 size_t n, unsigned nshards)
{
	struct ap_persist_txn_set s;
	uint64_t bad = 0;
	const char *why = NULL;
	int rc = ap_persist_txn_resolve(logs, n, nshards, &s, &bad, &why);

	ck_assert_msg(rc == 0, "resolve: %s (txid %llu)", why ? why : "?",
		      (unsigned long long)bad);
	return s;
}

/* Resolving fails naming txid for reason why. */
static void resolve_bad(struct ap_persist_txn_log *logs, size_t n,
			unsigned nshards, uint64_t txid, const char *why)
{
	struct ap_persist_txn_set s = {(uint64_t *)1, 99};
	uint64_t bad = 0;
	const char *got = NULL;

	ck_assert_int_eq(
		ap_persist_txn_resolve(logs, n, nshards, &s, &bad, &got),
		-EBADMSG);
	ck_assert_uint_eq(bad, txid);
	ck_assert_str_eq(got, why);
	ck_assert_uint_eq(s.count, 0);
	ck_assert_ptr_null(s.txids);
}

static void logs_free(struct ap_persist_txn_log *logs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ap_persist_txn_log_deinit(&logs[i]);
}

START_TEST(complete_and_missing)
{
	struct ap_persist_txn_log logs[3];
	struct ap_persist_txn_set s;
	uint16_t s01[] = {0, 1}, s012[] = {0, 1, 2}, s2[] = {2}, s12[] = {1, 2};

	for (unsigned i = 0; i < 3; i++)
		ap_persist_txn_log_init(&logs[i], i);
	/* 10: both parts. 11: shard 1 lacks its part. 12: all three.
	 * 13: a single-shard part. 14: shard 2 missing entirely. */
	add(&logs[0], 10, s01, 2);
	add(&logs[1], 10, s01, 2);
	add(&logs[0], 11, s01, 2);
	add(&logs[0], 12, s012, 3);
	add(&logs[1], 12, s012, 3);
	add(&logs[2], 12, s012, 3);
	add(&logs[2], 13, s2, 1);
	add(&logs[1], 14, s12, 2);
	s = resolve(logs, 3, 3);
	ck_assert_uint_eq(s.count, 3);
	ck_assert_uint_eq(s.txids[0], 10);
	ck_assert_uint_eq(s.txids[1], 12);
	ck_assert_uint_eq(s.txids[2], 13);
	ck_assert(ap_persist_txn_set_has(&s, 10));
	ck_assert(!ap_persist_txn_set_has(&s, 11));
	ck_assert(ap_persist_txn_set_has(&s, 12));
	ck_assert(ap_persist_txn_set_has(&s, 13));
	ck_assert(!ap_persist_txn_set_has(&s, 14));
	ck_assert(!ap_persist_txn_set_has(&s, 0));
	ck_assert(!ap_persist_txn_set_has(&s, UINT64_MAX));
	ap_persist_txn_set_deinit(&s);
	/* Without shard 2's log at all, 12 and 13 are incomplete too. */
	s = resolve(logs, 2, 3);
	ck_assert_uint_eq(s.count, 1);
	ck_assert(ap_persist_txn_set_has(&s, 10));
	ap_persist_txn_set_deinit(&s);
	/* The logs may come in any order. */
	{
		struct ap_persist_txn_log rev[3] = {logs[2], logs[0], logs[1]};

		s = resolve(rev, 3, 3);
		ck_assert_uint_eq(s.count, 3);
		ap_persist_txn_set_deinit(&s);
	}
	logs_free(logs, 3);
}
END_TEST

START_TEST(cut_parts)
{
	struct ap_persist_txn_log logs[2];
	struct ap_persist_txn_set s;
	uint16_t s01[] = {0, 1};

	ap_persist_txn_log_init(&logs[0], 0);
	ap_persist_txn_log_init(&logs[1], 1);
	add(&logs[0], 5, s01, 2);
	add(&logs[1], 5, s01, 2);
	add(&logs[0], 6, s01, 2);
	add(&logs[1], 6, s01, 2);
	ap_persist_txn_log_cut(&logs[1], 6); /* shard 1's log ended in it */
	s = resolve(logs, 2, 2);
	ck_assert_uint_eq(s.count, 1);
	ck_assert(ap_persist_txn_set_has(&s, 5));
	ck_assert(!ap_persist_txn_set_has(&s, 6));
	ap_persist_txn_set_deinit(&s);
	logs_free(logs, 2);
	/* Nothing at all. */
	s = resolve(NULL, 0, 4);
	ck_assert_uint_eq(s.count, 0);
	ck_assert(!ap_persist_txn_set_has(&s, 1));
	ap_persist_txn_set_deinit(&s);
}
END_TEST

START_TEST(contradictions)
{
	struct ap_persist_txn_log logs[2];
	uint16_t s01[] = {0, 1}, s0[] = {0}, s05[] = {0, 5}, s1[] = {1};
	struct ap_persist_rec r;
	const char *why = NULL;

	ap_persist_txn_log_init(&logs[0], 0);
	ap_persist_txn_log_init(&logs[1], 1);
	/* A part in the log of a shard it does not name. */
	r = txn_rec(3, s1, 1);
	ck_assert_int_eq(ap_persist_txn_log_add(&logs[0], &r, &why), -EBADMSG);
	ck_assert_str_eq(why, "a transaction part in the log of a shard it "
			      "does not name");
	ck_assert_uint_eq(logs[0].count, 0);
	/* One txid twice in a log. */
	add(&logs[0], 7, s01, 2);
	add(&logs[0], 7, s01, 2);
	resolve_bad(logs, 2, 2, 7,
		    "a transaction id appears twice in one "
		    "shard's log");
	logs_free(logs, 2);
	/* Participants disagree: by list, and by count. */
	ap_persist_txn_log_init(&logs[0], 0);
	ap_persist_txn_log_init(&logs[1], 1);
	add(&logs[0], 8, s0, 1);
	add(&logs[1], 8, s01, 2);
	resolve_bad(logs, 2, 2, 8,
		    "shards disagree on a transaction's participants");
	logs_free(logs, 2);
	ap_persist_txn_log_init(&logs[0], 0);
	ap_persist_txn_log_init(&logs[1], 1);
	add(&logs[0], 9, s01, 2);
	add(&logs[1], 9, s01, 2);
	add(&logs[0], 10, s05, 2);
	/* A participant beyond the shard count: 5 >= 2, but fine with 6. */
	resolve_bad(logs, 2, 2, 10,
		    "a transaction names a shard beyond the shard count");
	{
		struct ap_persist_txn_set s = resolve(logs, 2, 6);

		ck_assert_uint_eq(s.count, 1);
		ck_assert(ap_persist_txn_set_has(&s, 9));
		ap_persist_txn_set_deinit(&s);
	}
	logs_free(logs, 2);
}
END_TEST

/* Writes a shard's log: for each txid in txids[0..n) whose participants
 * (from parts) include the shard, a part of count DELs; single DELs in
 * between. */
struct ttx {
	uint64_t txid;
	uint16_t shards[4];
	unsigned n;
};

static void write_log(struct ap_persist_enc *e, unsigned shard,
		      const struct ttx *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool in = false;

		for (unsigned k = 0; k < t[i].n; k++)
			in |= t[i].shards[k] == shard;
		ap_persist_enc_del(e, 0, "solo", 4);
		if (!in)
			continue;
		ap_persist_enc_txn_begin(e, t[i].txid, t[i].shards, t[i].n);
		for (unsigned k = 0; k <= shard; k++)
			ap_persist_enc_del(e, 0, "k", 1);
		ap_persist_enc_txn_end(e);
	}
}

/* Scans len bytes of a log into l, as recovery's first pass would. */
static enum ap_persist_status scan(const unsigned char *p, size_t len,
				   struct ap_persist_txn_log *l)
{
	struct ap_persist_iter it;
	struct ap_persist_rec r;
	const char *why;

	ap_persist_iter_init_buf(&it, p, len);
	while (ap_persist_iter_next(&it, &r))
		if (r.kind == AP_PERSIST_TXN)
			ck_assert_int_eq(ap_persist_txn_log_add(l, &r, &why),
					 0);
	if (it.cut_txid != 0)
		ap_persist_txn_log_cut(l, it.cut_txid);
	return it.status;
}

START_TEST(logs_end_to_end)
{
	const struct ttx t[] = {
		{100, {0, 1}, 2},
		{101, {0, 1, 2}, 3},
		{102, {1, 2}, 2},
		{103, {0, 2}, 2},
	};
	struct ap_persist_enc e[3];
	struct ap_persist_txn_log logs[3];
	struct ap_persist_txn_set s;

	for (unsigned i = 0; i < 3; i++) {
		ap_persist_enc_init(&e[i]);
		write_log(&e[i], i, t, 4);
		ap_persist_txn_log_init(&logs[i], i);
		ck_assert_int_eq(scan(e[i].b.p, e[i].b.len, &logs[i]),
				 AP_PERSIST_CLEAN);
	}
	s = resolve(logs, 3, 3);
	ck_assert_uint_eq(s.count, 4);
	ap_persist_txn_set_deinit(&s);
	logs_free(logs, 3);
	/* Shard 2's log loses its last 3 bytes: inside the part of 103,
	 * which becomes incomplete everywhere; the others stay complete. */
	for (unsigned i = 0; i < 3; i++) {
		size_t len = e[i].b.len - (i == 2 ? 3 : 0);

		ap_persist_txn_log_init(&logs[i], i);
		ck_assert_int_eq(scan(e[i].b.p, len, &logs[i]),
				 i == 2 ? AP_PERSIST_TORN : AP_PERSIST_CLEAN);
	}
	s = resolve(logs, 3, 3);
	ck_assert_uint_eq(s.count, 3);
	ck_assert(ap_persist_txn_set_has(&s, 100));
	ck_assert(ap_persist_txn_set_has(&s, 101));
	ck_assert(ap_persist_txn_set_has(&s, 102));
	ck_assert(!ap_persist_txn_set_has(&s, 103));
	ap_persist_txn_set_deinit(&s);
	logs_free(logs, 3);
	for (unsigned i = 0; i < 3; i++)
		ap_persist_enc_deinit(&e[i]);
}
END_TEST

START_TEST(random_against_model)
{
	enum { TXNS = 2000, NSH = 9 };

	for (int round = 0; round < 20; round++) {
		struct ap_persist_txn_log logs[NSH];
		static uint16_t parts[TXNS][NSH];
		static unsigned nparts[TXNS];
		static bool complete[TXNS];
		struct ap_persist_txn_set s;
		unsigned nshards = 2 + (unsigned)(rng() % (NSH - 1));
		size_t want = 0;

		for (unsigned i = 0; i < nshards; i++)
			ap_persist_txn_log_init(&logs[i], i);
		for (size_t t = 0; t < TXNS; t++) {
			/* Random participants (at least one). */
			nparts[t] = 0;
			for (unsigned sh = 0; sh < nshards; sh++)
				if (rng() % 2)
					parts[t][nparts[t]++] = (uint16_t)sh;
			if (nparts[t] == 0)
				parts[t][nparts[t]++] = 0;
			complete[t] = true;
		}
		/* Each shard logs its parts in txid order; some are lost
		 * (never logged) or cut (the last part of a log). */
		for (unsigned sh = 0; sh < nshards; sh++) {
			size_t last = SIZE_MAX;

			for (size_t t = 0; t < TXNS; t++) {
				bool in = false;

				for (unsigned k = 0; k < nparts[t]; k++)
					in |= parts[t][k] == sh;
				if (!in)
					continue;
				if (rng() % 50 == 0) {
					complete[t] = false;
					continue;
				}
				add(&logs[sh], 1000 + t * 3, parts[t],
				    nparts[t]);
				last = t;
			}
			if (last != SIZE_MAX && rng() % 2) {
				ap_persist_txn_log_cut(&logs[sh],
						       1000 + last * 3);
				complete[last] = false;
			}
		}
		s = resolve(logs, nshards, nshards);
		for (size_t t = 0; t < TXNS; t++) {
			CK(ap_persist_txn_set_has(&s, 1000 + t * 3) ==
			   complete[t]);
			CK(!ap_persist_txn_set_has(&s, 1000 + t * 3 + 1));
			want += complete[t];
		}
		ck_assert_uint_eq(s.count, want);
		for (size_t i = 1; i < s.count; i++)
			CK(s.txids[i - 1] < s.txids[i]);
		ap_persist_txn_set_deinit(&s);
		logs_free(logs, nshards);
	}
}
END_TEST

static Suite *txn_suite(void)
{
	Suite *s = suite_create("persist_txn");
	TCase *tc = tcase_create("txn");

	tcase_add_test(tc, complete_and_missing);
	tcase_add_test(tc, cut_parts);
	tcase_add_test(tc, contradictions);
	tcase_add_test(tc, logs_end_to_end);
	tcase_add_test(tc, random_against_model);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(txn_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures != 0;
}
