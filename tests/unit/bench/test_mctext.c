/*
 * test_mctext.c - the memcached text-protocol reply parser (bench/mctext.c):
 * every reply kind, every split of the input, malformed input, the line
 * bounds at MAX and MAX + 1, and a randomized stream of replies (values
 * holding CRLF and "END") checked against a model of what was written.
 */
#include "bench/bench.h"

#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* What a test remembers of each reply. */
struct seen {
	bool is_error, is_null;
	long long value;
	char text[AP_CLIENT_TEXT_KEEP + 1];
	size_t text_len;
	uint64_t wire_len;
};

/* Feeds buf in pieces: up to `cut` first (if > 0), then `step` bytes at a
 * time, from a scratch copy clobbered after each call. Records replies;
 * returns their count or -1 on a protocol error (message in *why). */
static int feed(const char *buf, size_t len, size_t cut, size_t step,
		struct seen *out, int max, const char **why)
{
	struct ap_bench_mct_parser p;
	size_t off = 0;
	int n = 0;

	ap_bench_mct_parser_init(&p);
	while (off < len) {
		size_t piece = len - off;

		if (cut > 0 && off < cut)
			piece = cut - off;
		if (piece > step)
			piece = step;
		char *tmp = malloc(piece);
		size_t pos = 0;

		memcpy(tmp, buf + off, piece);
		while (pos < piece) {
			struct ap_client_reply rep;
			size_t used;
			int rc = ap_bench_mct_parse(&p, tmp + pos, piece - pos,
						    &used, &rep);

			pos += used;
			if (rc < 0) {
				*why = p.err;
				free(tmp);
				return -1;
			}
			if (rc == AP_CLIENT_NEED_MORE) {
				ck_assert_uint_eq(pos, piece);
				break;
			}
			ck_assert_int_lt(n, max);
			ck_assert_int_eq(rep.type, AP_BENCH_MCT_TYPE);
			ck_assert(!rep.is_push);
			out[n].is_error = rep.is_error;
			out[n].is_null = rep.is_null;
			out[n].value = rep.value;
			out[n].text_len = rep.text_len;
			memcpy(out[n].text, rep.text, rep.text_len);
			out[n].text[rep.text_len] = '\0';
			out[n].wire_len = rep.wire_len;
			n++;
		}
		memset(tmp, 'Z', piece);
		free(tmp);
		off += piece;
	}
	return n;
}

/* Parses a whole string; fails the test on a protocol error. */
static int feed_ok(const char *s, struct seen *out, int max)
{
	const char *why = NULL;
	int n = feed(s, strlen(s), 0, strlen(s) + 1, out, max, &why);

	ck_assert_msg(n >= 0, "protocol error: %s", why ? why : "?");
	return n;
}

/* True when s is refused as a protocol error. */
static bool refused(const char *s, size_t len)
{
	struct seen out[8];
	const char *why = NULL;

	return feed(s, len, 0, len + 1, out, 8, &why) < 0 && why != NULL;
}

/* Every one-line reply and GET replies, with their flags. */
START_TEST(test_reply_kinds)
{
	struct seen r[32];
	const char *in =
		"STORED\r\n"
		"NOT_STORED\r\n"
		"EXISTS\r\n"
		"NOT_FOUND\r\n"
		"DELETED\r\n"
		"TOUCHED\r\n"
		"OK\r\n"
		"VERSION 1.6.18\r\n"
		"42\r\n"
		"ERROR\r\n"
		"CLIENT_ERROR bad data chunk\r\n"
		"SERVER_ERROR out of memory storing object\r\n"
		"END\r\n"
		"VALUE memtier-1 0 5\r\nhello\r\nEND\r\n"
		"VALUE a 7 0 99\r\n\r\nVALUE b 4294967295 3\r\nx\ry\r\n"
		"END\r\n"
		"18446744073709551615\r\n";
	int n = feed_ok(in, r, 32);

	ck_assert_int_eq(n, 16);
	ck_assert(!r[0].is_error && !r[0].is_null);
	ck_assert_str_eq(r[0].text, "STORED");
	ck_assert_uint_eq(r[0].wire_len, 8);
	ck_assert(r[1].is_null && !r[1].is_error);
	ck_assert(r[2].is_null && r[3].is_null);
	ck_assert(!r[4].is_null && !r[5].is_null && !r[6].is_null);
	ck_assert_str_eq(r[7].text, "VERSION 1.6.18");
	ck_assert_int_eq(r[8].value, 42);
	ck_assert(r[9].is_error);
	ck_assert_str_eq(r[9].text, "ERROR");
	ck_assert(r[10].is_error);
	ck_assert_str_eq(r[10].text, "CLIENT_ERROR bad data chunk");
	ck_assert(r[11].is_error);
	/* a GET miss */
	ck_assert(r[12].is_null && !r[12].is_error);
	ck_assert_int_eq(r[12].value, 0);
	ck_assert_uint_eq(r[12].wire_len, 5);
	/* a hit: one VALUE block */
	ck_assert(!r[13].is_null && !r[13].is_error);
	ck_assert_int_eq(r[13].value, 1);
	ck_assert_uint_eq(r[13].wire_len,
			  strlen("VALUE memtier-1 0 5\r\nhello\r\nEND\r\n"));
	/* two blocks, an empty value with a CAS, and CR inside a value */
	ck_assert_int_eq(r[14].value, 2);
	ck_assert(!r[14].is_null);
	/* a number above LLONG_MAX saturates */
	ck_assert_int_eq(r[15].value, LLONG_MAX);
}
END_TEST

/* Every cut point and every piece size give the same replies. */
START_TEST(test_every_split)
{
	const char *in =
		"STORED\r\nVALUE k 0 10\r\n0123456789\r\nEND\r\nEND\r\n"
		"SERVER_ERROR x\r\nVALUE k 1 2 3\r\n\r\n\r\nEND\r\n";
	size_t len = strlen(in);
	struct seen ref[8], got[8];
	int n = feed_ok(in, ref, 8);

	ck_assert_int_eq(n, 5);
	for (size_t cut = 1; cut < len; cut++) {
		for (size_t step = 1; step <= 7; step++) {
			const char *why = NULL;
			int m = feed(in, len, cut, step, got, 8, &why);

			ck_assert_int_eq(m, n);
			for (int i = 0; i < n; i++) {
				ck_assert_int_eq(got[i].is_error,
						 ref[i].is_error);
				ck_assert_int_eq(got[i].is_null,
						 ref[i].is_null);
				ck_assert_int_eq(got[i].value, ref[i].value);
				ck_assert_str_eq(got[i].text, ref[i].text);
				ck_assert_uint_eq(got[i].wire_len,
						  ref[i].wire_len);
			}
		}
	}
}
END_TEST

/* Malformed replies are protocol errors, not replies. */
START_TEST(test_malformed)
{
	static const char *const bad[] = {
		"STORED\n",				/* no CR */
		"\r\n",					/* empty line */
		"FOO\r\n",				/* unknown word */
		"stored\r\n",				/* case matters */
		"STORED \r\n",				/* trailing space */
		"END \r\n",				/* END with junk */
		"VALUE\r\n",				/* no fields */
		"VALUE k 0\r\n",			/* no length */
		"VALUE k x 1\r\na\r\nEND\r\n",		/* flags not a number */
		"VALUE k 4294967296 1\r\na\r\nEND\r\n", /* flags above u32 */
		"VALUE k 0 1 \r\na\r\nEND\r\n",		/* trailing space */
		"VALUE k 0 1 2 3\r\na\r\nEND\r\n",	/* five fields */
		"VALUE  0 1\r\na\r\nEND\r\n",		/* empty key */
		"VALUE k 0 -1\r\n",			/* negative length */
		"VALUE k 0 18446744073709551616\r\n",	/* length overflows */
		"VALUE k 0 3\r\nabcX\r\nEND\r\n", /* value not CRLF-ended */
		"VALUE k 0 3\r\nabc\rXEND\r\n",	  /* CR then not LF */
		"VALUE k 0 1\r\na\r\nSTORED\r\n", /* not END in a GET */
		"123x\r\n",			  /* not a number */
		"123456789012345678901\r\n",	  /* 21 digits */
	};

	for (size_t i = 0; i < AP_ARRAY_LEN(bad); i++)
		ck_assert_msg(refused(bad[i], strlen(bad[i])), "accepted: %s",
			      bad[i]);
	/* An error in the middle of a GET ends it as an error. */
	struct seen r[4];

	ck_assert_int_eq(
		feed_ok("VALUE k 0 1\r\na\r\nSERVER_ERROR oom\r\n", r, 4), 1);
	ck_assert(r[0].is_error);
}
END_TEST

/* Line bounds: a reply line may be AP_CLIENT_LINE_MAX bytes with its CR,
 * not one more; a VALUE line AP_BENCH_MCT_LINE_KEEP, not one more; an
 * error line may be longer than that (its text is cut). */
START_TEST(test_line_bounds)
{
	size_t max = AP_CLIENT_LINE_MAX;
	char *s = malloc(max + 16);
	struct seen r[2];
	const char *why;

	/* "SERVER_ERROR xxx...\r" is exactly max bytes before '\n' */
	memcpy(s, "SERVER_ERROR ", 13);
	memset(s + 13, 'x', max - 14);
	memcpy(s + max - 1, "\r\n", 2);
	ck_assert_int_eq(feed(s, max + 1, 0, 4096, r, 2, &why), 1);
	ck_assert(r[0].is_error);
	ck_assert_uint_eq(r[0].text_len, AP_CLIENT_TEXT_KEEP);
	ck_assert_uint_eq(r[0].wire_len, max + 1);
	/* one byte more */
	memset(s + 13, 'x', max - 13);
	memcpy(s + max, "\r\n", 2);
	ck_assert_int_eq(feed(s, max + 2, 0, 4096, r, 2, &why), -1);
	/* An endless line fails once past the bound, before any newline. */
	memset(s, 'x', max + 1);
	ck_assert_int_eq(feed(s, max + 1, 0, 4096, r, 2, &why), -1);

	/* VALUE line of exactly AP_BENCH_MCT_LINE_KEEP bytes, then one more */
	size_t keep = AP_BENCH_MCT_LINE_KEEP;
	size_t klen = keep - strlen("VALUE  0 1");

	memcpy(s, "VALUE ", 6);
	memset(s + 6, 'k', klen);
	memcpy(s + 6 + klen, " 0 1\r\na\r\nEND\r\n", 14);
	ck_assert_int_eq(feed(s, 6 + klen + 14, 0, 4096, r, 2, &why), 1);
	ck_assert_int_eq(r[0].value, 1);
	memcpy(s, "VALUE ", 6);
	memset(s + 6, 'k', klen + 1);
	memcpy(s + 7 + klen, " 0 1\r\na\r\nEND\r\n", 14);
	ck_assert_int_eq(feed(s, 7 + klen + 14, 0, 4096, r, 2, &why), -1);
	free(s);
}
END_TEST

/* Appends bytes to a growing buffer. */
static void put(char **buf, size_t *len, size_t *cap, const void *p, size_t n)
{
	if (*len + n > *cap) {
		*cap = (*len + n) * 2;
		*buf = realloc(*buf, *cap);
	}
	memcpy(*buf + *len, p, n);
	*len += n;
}

/*
 * Randomized: a stream of random replies, some GETs with up to 4 values of
 * random bytes (CR, LF and "END\r\n" included), written by a model that
 * remembers what each reply must parse to; the stream is then fed in
 * random pieces and every reply compared with the model.
 */
START_TEST(test_random_stream)
{
	static const char *const lines[] = {
		"STORED",
		"NOT_STORED",
		"EXISTS",
		"NOT_FOUND",
		"DELETED",
		"ERROR",
		"OK",
		"CLIENT_ERROR bad",
		"SERVER_ERROR no",
		"VERSION 1.2.3",
		"7",
	};
	static const bool err[] = {0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0};
	static const bool nul[] = {0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};
	struct ap_bench_rng rng = {.s = 12345};

	for (int round = 0; round < 50; round++) {
		enum { N = 300 };
		struct seen *want = calloc(N, sizeof(*want));
		struct seen *got = calloc(N, sizeof(*got));
		char *buf = NULL;
		size_t len = 0, cap = 0;

		for (int i = 0; i < N; i++) {
			size_t start = len;

			if (ap_bench_rng_below(&rng, 2) == 0) {
				int k = (int)ap_bench_rng_below(
					&rng, AP_ARRAY_LEN(lines));

				put(&buf, &len, &cap, lines[k],
				    strlen(lines[k]));
				put(&buf, &len, &cap, "\r\n", 2);
				want[i].is_error = err[k];
				want[i].is_null = nul[k];
				want[i].value = k == 10 ? 7 : 0;
			} else {
				int vals = (int)ap_bench_rng_below(&rng, 5);

				for (int v = 0; v < vals; v++) {
					char head[64], data[600];
					size_t dn =
						ap_bench_rng_below(&rng, 600);

					for (size_t j = 0; j < dn; j++)
						data[j] = "END\r\nx"
							[ap_bench_rng_below(
								&rng, 6)];
					int hn = snprintf(
						head, sizeof(head),
						"VALUE key%d 0 %zu\r\n", v, dn);

					put(&buf, &len, &cap, head, (size_t)hn);
					put(&buf, &len, &cap, data, dn);
					put(&buf, &len, &cap, "\r\n", 2);
				}
				put(&buf, &len, &cap, "END\r\n", 5);
				want[i].is_null = vals == 0;
				want[i].value = vals;
			}
			want[i].wire_len = len - start;
		}
		/* random pieces */
		struct ap_bench_mct_parser p;
		int n = 0;
		size_t off = 0;

		ap_bench_mct_parser_init(&p);
		while (off < len) {
			size_t piece = 1 + ap_bench_rng_below(&rng, 700);

			piece = AP_MIN(piece, len - off);
			size_t pos = 0;

			while (pos < piece) {
				struct ap_client_reply rep;
				size_t used;
				int rc = ap_bench_mct_parse(&p, buf + off + pos,
							    piece - pos, &used,
							    &rep);

				ck_assert_int_ge(rc, 0);
				pos += used;
				if (rc == AP_CLIENT_NEED_MORE)
					break;
				ck_assert_int_lt(n, N);
				got[n].is_error = rep.is_error;
				got[n].is_null = rep.is_null;
				got[n].value = rep.value;
				got[n].wire_len = rep.wire_len;
				n++;
			}
			off += piece;
		}
		ck_assert_int_eq(n, N);
		for (int i = 0; i < N; i++) {
			ck_assert_int_eq(got[i].is_error, want[i].is_error);
			ck_assert_int_eq(got[i].is_null, want[i].is_null);
			ck_assert_int_eq(got[i].value, want[i].value);
			ck_assert_uint_eq(got[i].wire_len, want[i].wire_len);
		}
		free(buf);
		free(want);
		free(got);
	}
}
END_TEST

static Suite *mctext_suite(void)
{
	Suite *s = suite_create("bench_mctext");
	TCase *tc = tcase_create("mctext");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_reply_kinds);
	tcase_add_test(tc, test_every_split);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_line_bounds);
	tcase_add_test(tc, test_random_stream);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(mctext_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
