/*
 * test_reply.c - unit tests for core/reply.c: the obuf chunk list
 * (reserve, append, splice, consume, flatten) and every RESP writer in
 * both protocol versions, byte for byte, including deferred aggregates and
 * replies that span several chunks.
 */
#include "core/reply.h"

#include <check.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"

/* Asserts that b holds exactly the n bytes at want. */
static void out_check(const struct ap_obuf *b, const char *want, size_t n)
{
	size_t len;
	char *got = ap_obuf_flatten(b, &len);

	ck_assert_msg(len == n && memcmp(got, want, n) == 0,
		      "got %zu bytes '%.*s', want %zu bytes '%.*s'", len,
		      (int)AP_MIN(len, 200), got, n, (int)AP_MIN(n, 200), want);
	ap_free(got);
}

#define WRONGTYPE \
	"WRONGTYPE Operation against a key holding the wrong kind of value"

#define OUT_EQ(b, lit) out_check((b), (lit), sizeof(lit) - 1)

/* Test fixture: one obuf and a writer over it per protocol. */
static struct ap_obuf ob;
static struct ap_reply rp;

static void writer_setup(int proto)
{
	ap_obuf_init(&ob);
	ap_reply_init(&rp, &ob, proto);
}

/* Runs write() in protocol 2 and 3, checking each output. */
#define BOTH(write, want2, want3)    \
	do {                         \
		writer_setup(2);     \
		write;               \
		OUT_EQ(&ob, want2);  \
		ap_obuf_deinit(&ob); \
		writer_setup(3);     \
		write;               \
		OUT_EQ(&ob, want3);  \
		ap_obuf_deinit(&ob); \
	} while (0)

/* Counts b's chunks. */
static size_t chunk_count(const struct ap_obuf *b)
{
	size_t n = 0;

	for (const struct ap_obuf_chunk *c = b->head; c != NULL; c = c->next)
		n++;
	return n;
}

/* Checks the chunk list invariants: len within cap, tail is last, the
 * byte count matches. */
static void chunks_check(const struct ap_obuf *b)
{
	size_t total = 0;
	const struct ap_obuf_chunk *last = NULL;

	for (const struct ap_obuf_chunk *c = b->head; c != NULL; c = c->next) {
		ck_assert_uint_le(c->len, c->cap);
		ck_assert_uint_le(c->sent, c->len);
		total += c->len - c->sent;
		last = c;
	}
	ck_assert_ptr_eq(last, b->tail);
	ck_assert_uint_eq(total, b->len);
}

START_TEST(test_simple_writers)
{
	BOTH(ap_reply_ok(&rp), "+OK\r\n", "+OK\r\n");
	BOTH(ap_reply_status(&rp, "PONG"), "+PONG\r\n", "+PONG\r\n");
	BOTH(ap_reply_status(&rp, "a\r\nb"), "+a  b\r\n", "+a  b\r\n");
	BOTH(ap_reply_int(&rp, 0), ":0\r\n", ":0\r\n");
	BOTH(ap_reply_int(&rp, -1), ":-1\r\n", ":-1\r\n");
	BOTH(ap_reply_int(&rp, LLONG_MAX), ":9223372036854775807\r\n",
	     ":9223372036854775807\r\n");
	BOTH(ap_reply_int(&rp, LLONG_MIN), ":-9223372036854775808\r\n",
	     ":-9223372036854775808\r\n");
	BOTH(ap_reply_bulk(&rp, "", 0), "$0\r\n\r\n", "$0\r\n\r\n");
	BOTH(ap_reply_bulk(&rp, "abc", 3), "$3\r\nabc\r\n", "$3\r\nabc\r\n");
	BOTH(ap_reply_bulk(&rp, "a\0\r\nb", 5), "$5\r\na\0\r\nb\r\n",
	     "$5\r\na\0\r\nb\r\n");
	BOTH(ap_reply_bulk_cstr(&rp, "hello"), "$5\r\nhello\r\n",
	     "$5\r\nhello\r\n");
	BOTH(ap_reply_bulk_ll(&rp, -42), "$3\r\n-42\r\n", "$3\r\n-42\r\n");
	BOTH(ap_reply_bulk_ll(&rp, LLONG_MIN),
	     "$20\r\n-9223372036854775808\r\n",
	     "$20\r\n-9223372036854775808\r\n");
	BOTH(ap_reply_raw(&rp, "*0\r\n", 4), "*0\r\n", "*0\r\n");
	BOTH(ap_reply_raw(&rp, "", 0), "", "");
}
END_TEST

START_TEST(test_resp3_types)
{
	BOTH(ap_reply_null(&rp), "$-1\r\n", "_\r\n");
	BOTH(ap_reply_null_array(&rp), "*-1\r\n", "_\r\n");
	BOTH(ap_reply_array(&rp, 0), "*0\r\n", "*0\r\n");
	BOTH(ap_reply_array(&rp, 3), "*3\r\n", "*3\r\n");
	BOTH(ap_reply_map(&rp, 2), "*4\r\n", "%2\r\n");
	BOTH(ap_reply_map(&rp, 0), "*0\r\n", "%0\r\n");
	BOTH(ap_reply_set(&rp, 5), "*5\r\n", "~5\r\n");
	BOTH(ap_reply_push(&rp, 3), "*3\r\n", ">3\r\n");
	BOTH(ap_reply_bool(&rp, true), ":1\r\n", "#t\r\n");
	BOTH(ap_reply_bool(&rp, false), ":0\r\n", "#f\r\n");
	BOTH(ap_reply_double(&rp, 1.5), "$3\r\n1.5\r\n", ",1.5\r\n");
	BOTH(ap_reply_double(&rp, 0.1), "$19\r\n0.10000000000000001\r\n",
	     ",0.10000000000000001\r\n");
	BOTH(ap_reply_double(&rp, 0), "$1\r\n0\r\n", ",0\r\n");
	BOTH(ap_reply_double(&rp, INFINITY), "$3\r\ninf\r\n", ",inf\r\n");
	BOTH(ap_reply_double(&rp, -INFINITY), "$4\r\n-inf\r\n", ",-inf\r\n");
	BOTH(ap_reply_verbatim(&rp, "abc", 3, "txt"), "$3\r\nabc\r\n",
	     "=7\r\ntxt:abc\r\n");
	BOTH(ap_reply_verbatim(&rp, "", 0, "mkd"), "$0\r\n\r\n",
	     "=4\r\nmkd:\r\n");
}
END_TEST

/* on_error callback: records the last text and counts calls. */
static char err_seen[512];
static int err_calls;

static void err_record(void *ctx, const char *msg, size_t len)
{
	ck_assert_ptr_eq(ctx, &err_calls);
	ck_assert_uint_lt(len, sizeof(err_seen));
	memcpy(err_seen, msg, len);
	err_seen[len] = '\0';
	err_calls++;
}

START_TEST(test_errors)
{
	BOTH(ap_reply_error(&rp, "ERR syntax error"), "-ERR syntax error\r\n",
	     "-ERR syntax error\r\n");
	BOTH(ap_reply_error(&rp, WRONGTYPE), "-" WRONGTYPE "\r\n",
	     "-" WRONGTYPE "\r\n");
	BOTH(ap_reply_error(&rp, "unknown thing"), "-ERR unknown thing\r\n",
	     "-ERR unknown thing\r\n");
	BOTH(ap_reply_error(&rp, "Err mixed case"), "-ERR Err mixed case\r\n",
	     "-ERR Err mixed case\r\n");
	BOTH(ap_reply_error(&rp, "NOCODE"), "-ERR NOCODE\r\n",
	     "-ERR NOCODE\r\n");
	BOTH(ap_reply_error(&rp, " LEADING"), "-ERR  LEADING\r\n",
	     "-ERR  LEADING\r\n");
	BOTH(ap_reply_error(&rp, ""), "-ERR \r\n", "-ERR \r\n");
	BOTH(ap_reply_error(&rp, "MOVED 3999 127.0.0.1:6381"),
	     "-MOVED 3999 127.0.0.1:6381\r\n",
	     "-MOVED 3999 127.0.0.1:6381\r\n");
	BOTH(ap_reply_error(&rp, "-NOAUTH Authentication required."),
	     "-NOAUTH Authentication required.\r\n",
	     "-NOAUTH Authentication required.\r\n");
	BOTH(ap_reply_error(&rp, "bad\r\nline\n"), "-ERR bad  line \r\n",
	     "-ERR bad  line \r\n");
	BOTH(ap_reply_errorf(&rp, "invalid expire time in '%s' command", "set"),
	     "-ERR invalid expire time in 'set' command\r\n",
	     "-ERR invalid expire time in 'set' command\r\n");
}
END_TEST

START_TEST(test_error_callback_and_count)
{
	writer_setup(3);
	ap_reply_error(&rp, "no callback yet");
	ck_assert_uint_eq(rp.errors, 1);
	ck_assert_int_eq(err_calls, 0);

	rp.on_error = err_record;
	rp.on_error_ctx = &err_calls;
	ap_reply_error(&rp, "syntax\nerror");
	ck_assert_str_eq(err_seen, "ERR syntax error");
	ap_reply_error(&rp, WRONGTYPE);
	ck_assert_str_eq(err_seen, WRONGTYPE);
	ap_reply_errorf(&rp, "WRONGPASS %s", "x");
	ck_assert_str_eq(err_seen, "WRONGPASS x");
	ck_assert_int_eq(err_calls, 3);
	ck_assert_uint_eq(rp.errors, 4);
	ap_reply_ok(&rp);
	ck_assert_uint_eq(rp.errors, 4);
	ap_obuf_deinit(&ob);
}
END_TEST

START_TEST(test_errorf_long)
{
	char arg[1001];
	memset(arg, 'k', 1000);
	arg[1000] = '\0';

	writer_setup(2);
	ap_reply_errorf(&rp, "too long '%s' end", arg);
	size_t len;
	char *got = ap_obuf_flatten(&ob, &len);
	ck_assert_uint_eq(len, 5 + 10 + 1000 + 5 + 2);
	ck_assert(memcmp(got, "-ERR too long 'kkk", 18) == 0);
	ck_assert(memcmp(got + len - 7, "' end\r\n", 7) == 0);
	ap_free(got);
	ck_assert_uint_eq(rp.errors, 1);
	ap_obuf_deinit(&ob);
}
END_TEST

/* Fills buf with a recognisable non-repeating-by-chunk pattern. */
static void pattern_fill(char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('a' + (i * 7 + i / 251) % 26);
}

/* Writes "+x\r\n" then a bulk of n pattern bytes and checks the whole
 * output and the chunk invariants. */
static void big_bulk_check(int proto, size_t n)
{
	char *payload = malloc(n);
	pattern_fill(payload, n);
	writer_setup(proto);
	ap_reply_status(&rp, "x");
	ap_reply_bulk(&rp, payload, n);
	chunks_check(&ob);

	char hdr[32];
	int hl = snprintf(hdr, sizeof(hdr), "+x\r\n$%zu\r\n", n);
	size_t want_len = (size_t)hl + n + 2;
	char *want = malloc(want_len);
	memcpy(want, hdr, (size_t)hl);
	memcpy(want + hl, payload, n);
	memcpy(want + hl + n, "\r\n", 2);
	out_check(&ob, want, want_len);
	free(want);
	free(payload);
	ap_obuf_deinit(&ob);
}

START_TEST(test_big_bulk)
{
	size_t sizes[] = {
		511,
		512,
		513,
		AP_OBUF_CHUNK_SIZE - 20,
		AP_OBUF_CHUNK_SIZE,
		AP_OBUF_CHUNK_SIZE + 1,
		3 * AP_OBUF_CHUNK_SIZE + 5,
		1024 * 1024,
	};
	for (size_t i = 0; i < AP_ARRAY_LEN(sizes); i++) {
		big_bulk_check(2, sizes[i]);
		big_bulk_check(3, sizes[i]);
	}
	/* A big bulk takes the tail's room plus one chunk, not many. */
	size_t n = 3 * AP_OBUF_CHUNK_SIZE;
	char *payload = malloc(n);
	pattern_fill(payload, n);
	writer_setup(2);
	ap_reply_bulk(&rp, payload, n);
	ck_assert_uint_le(chunk_count(&ob), 3);
	free(payload);
	ap_obuf_deinit(&ob);
	/* Verbatim of a big payload crosses chunks too. */
	n = 2 * AP_OBUF_CHUNK_SIZE;
	payload = malloc(n);
	memset(payload, 'v', n);
	writer_setup(3);
	ap_reply_verbatim(&rp, payload, n, "txt");
	size_t len;
	char *got = ap_obuf_flatten(&ob, &len);
	ck_assert_uint_eq(len, 8 + 4 + n + 2);
	ck_assert(memcmp(got, "=32772\r\ntxt:vv", 14) == 0);
	ck_assert(memcmp(got + len - 3, "v\r\n", 3) == 0);
	ap_free(got);
	free(payload);
	ap_obuf_deinit(&ob);
}
END_TEST

START_TEST(test_many_small_replies)
{
	size_t cap = 1024 * 1024, wl = 0;
	char *want = malloc(cap);

	writer_setup(2);
	for (long long i = -10000; i < 20000; i++) {
		ap_reply_int(&rp, i);
		wl += (size_t)snprintf(want + wl, cap - wl, ":%lld\r\n", i);
		ap_reply_bulk(&rp, "ab", 2);
		wl += (size_t)snprintf(want + wl, cap - wl, "$2\r\nab\r\n");
	}
	ck_assert_uint_gt(chunk_count(&ob), 10);
	chunks_check(&ob);
	out_check(&ob, want, wl);
	free(want);
	ap_obuf_deinit(&ob);
}
END_TEST

START_TEST(test_reserve_commit)
{
	ap_obuf_init(&ob);
	char *p = ap_obuf_reserve(&ob, 10);
	ck_assert_ptr_nonnull(p);
	memcpy(p, "hello", 5);
	ap_obuf_commit(&ob, 5);
	ck_assert_uint_eq(ob.len, 5);
	ck_assert_uint_eq(ob.tail->cap, AP_OBUF_CHUNK_SIZE);

	/* Room left in the tail: same chunk, right after. */
	char *q = ap_obuf_reserve(&ob, 3);
	ck_assert_ptr_eq(q, p + 5);
	memcpy(q, "abc", 3);
	ap_obuf_commit(&ob, 3);
	ck_assert_uint_eq(chunk_count(&ob), 1);

	/* Not enough room: a new chunk; bigger than a chunk: its own size. */
	size_t big = AP_OBUF_CHUNK_SIZE + 100;
	char *r = ap_obuf_reserve(&ob, big);
	ck_assert_uint_eq(chunk_count(&ob), 2);
	ck_assert_uint_ge(ob.tail->cap, big);
	memset(r, 'z', big);
	ap_obuf_commit(&ob, big);
	ck_assert_uint_eq(ob.len, 8 + big);
	r = ap_obuf_reserve(&ob, 1);
	ck_assert_uint_eq(chunk_count(&ob), 3);
	*r = '!';
	ap_obuf_commit(&ob, 1);
	/* Reserving without committing writes nothing. */
	ap_obuf_reserve(&ob, 4);
	chunks_check(&ob);

	size_t len;
	char *flat = ap_obuf_flatten(&ob, &len);
	ck_assert_uint_eq(len, 9 + big);
	ck_assert(memcmp(flat, "helloabcz", 9) == 0);
	ck_assert_int_eq(flat[len - 1], '!');
	ap_free(flat);
	ap_obuf_deinit(&ob);
	ck_assert_ptr_null(ob.head);
	ck_assert_uint_eq(ob.len, 0);
}
END_TEST

START_TEST(test_append_fills_tail)
{
	ap_obuf_init(&ob);
	ap_obuf_append(&ob, "", 0);
	ck_assert_ptr_null(ob.head);
	char *fill = malloc(AP_OBUF_CHUNK_SIZE);
	memset(fill, 'f', AP_OBUF_CHUNK_SIZE);
	ap_obuf_append(&ob, fill, AP_OBUF_CHUNK_SIZE - 10);
	ck_assert_uint_eq(chunk_count(&ob), 1);
	ap_obuf_append(&ob, "0123456789ABCDEF", 16);
	ck_assert_uint_eq(chunk_count(&ob), 2);
	ck_assert_uint_eq(ob.head->len, AP_OBUF_CHUNK_SIZE);
	ck_assert_uint_eq(ob.tail->len, 6);
	ck_assert(memcmp(ob.head->data + AP_OBUF_CHUNK_SIZE - 10, "0123456789",
			 10) == 0);
	ck_assert(memcmp(ob.tail->data, "ABCDEF", 6) == 0);
	chunks_check(&ob);
	free(fill);
	ap_obuf_deinit(&ob);
}
END_TEST

START_TEST(test_splice)
{
	struct ap_obuf a, b;

	ap_obuf_init(&a);
	ap_obuf_init(&b);
	ap_obuf_splice(&a, &b); /* both empty */
	ck_assert_ptr_null(a.head);
	ck_assert_uint_eq(a.len, 0);

	ap_obuf_append(&b, "def", 3);
	ap_obuf_splice(&a, &b); /* into empty */
	OUT_EQ(&a, "def");
	ck_assert_ptr_null(b.head);
	ck_assert_ptr_null(b.tail);
	ck_assert_uint_eq(b.len, 0);

	ap_obuf_append(&b, "ghi", 3);
	ap_obuf_append(&b, "jkl", 3);
	ap_obuf_splice(&a, &b);
	OUT_EQ(&a, "defghijkl");
	ck_assert_uint_eq(a.len, 9);
	ck_assert_uint_eq(chunk_count(&a), 2);
	ap_obuf_splice(&a, &b); /* empty source: no change */
	OUT_EQ(&a, "defghijkl");
	/* Writes after a splice land after the spliced bytes. */
	ap_obuf_append(&a, "!", 1);
	OUT_EQ(&a, "defghijkl!");
	chunks_check(&a);
	/* b is reusable. */
	ap_obuf_append(&b, "x", 1);
	OUT_EQ(&b, "x");
	ap_obuf_deinit(&a);
	ap_obuf_deinit(&b);
}
END_TEST

START_TEST(test_consume)
{
	struct ap_obuf a, b;

	ap_obuf_init(&a);
	ap_obuf_init(&b);
	ap_obuf_append(&a, "hello ", 6);
	ap_obuf_append(&b, "world", 5);
	ap_obuf_splice(&a, &b);
	ck_assert_uint_eq(chunk_count(&a), 2);

	ap_obuf_consume(&a, 0);
	OUT_EQ(&a, "hello world");
	ap_obuf_consume(&a, 2);
	OUT_EQ(&a, "llo world");
	ck_assert_uint_eq(a.head->sent, 2);
	ap_obuf_consume(&a, 6); /* exactly the first chunk's rest */
	OUT_EQ(&a, "rld");
	ck_assert_uint_eq(chunk_count(&a), 1);
	chunks_check(&a);
	ap_obuf_consume(&a, 3);
	ck_assert_uint_eq(a.len, 0);
	OUT_EQ(&a, "");

	/* A drained standard chunk is kept and rewound: steady-state
	 * replies allocate nothing. */
	struct ap_obuf_chunk *kept = a.head;
	ck_assert_ptr_nonnull(kept);
	ck_assert_uint_eq(kept->len, 0);
	int64_t used = ap_mem_thread_used();
	for (int i = 0; i < 1000; i++) {
		struct ap_reply r;
		ap_reply_init(&r, &a, 2);
		ap_reply_bulk(&r, "value", 5);
		ap_reply_int(&r, i);
		ap_obuf_consume(&a, a.len);
	}
	ck_assert_ptr_eq(a.head, kept);
	ck_assert_int_eq(ap_mem_thread_used(), used);

	/* Consuming across several chunks at once, and a big chunk is freed
	 * when drained. */
	char *big = malloc(3 * AP_OBUF_CHUNK_SIZE);
	memset(big, 'q', 3 * AP_OBUF_CHUNK_SIZE);
	ap_obuf_append(&a, "12", 2);
	ap_obuf_append(&a, big, 3 * AP_OBUF_CHUNK_SIZE);
	ap_obuf_append(&a, "end", 3);
	ck_assert_uint_eq(a.len, 3 * AP_OBUF_CHUNK_SIZE + 5);
	ap_obuf_consume(&a, 3 * AP_OBUF_CHUNK_SIZE + 2);
	OUT_EQ(&a, "end");
	chunks_check(&a);
	ap_obuf_consume(&a, 3);
	ck_assert_uint_eq(a.len, 0);
	chunks_check(&a);
	free(big);
	ap_obuf_deinit(&a);
	ap_obuf_deinit(&b);
}
END_TEST

START_TEST(test_consume_too_much_aborts)
{
	ap_obuf_init(&ob);
	ap_obuf_append(&ob, "abc", 3);
	ap_obuf_consume(&ob, 4);
}
END_TEST

START_TEST(test_flatten_empty)
{
	size_t len = 99;

	ap_obuf_init(&ob);
	char *p = ap_obuf_flatten(&ob, &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(len, 0);
	ap_free(p);
}
END_TEST

START_TEST(test_deinit_frees_all)
{
	int64_t before = ap_mem_thread_used();
	char big[5000];
	memset(big, 'b', sizeof(big));

	ap_obuf_init(&ob);
	for (int i = 0; i < 50; i++)
		ap_obuf_append(&ob, big, sizeof(big));
	struct ap_reply_deferred d;
	ap_reply_init(&rp, &ob, 3);
	ap_reply_deferred_begin(&rp, &d, '*');
	ap_reply_deferred_end(&rp, &d, 0);
	ck_assert_int_gt(ap_mem_thread_used(), before);
	ap_obuf_deinit(&ob);
	ck_assert_int_eq(ap_mem_thread_used(), before);
}
END_TEST

/* Writes a deferred aggregate of kind with the elements of KEYS-like
 * output "a", "b" (as n items) preceded by "+pre". */
static void deferred_write(int proto, char kind, size_t n)
{
	struct ap_reply_deferred d;

	writer_setup(proto);
	ap_reply_status(&rp, "pre");
	ap_reply_deferred_begin(&rp, &d, kind);
	for (size_t i = 0; i < n; i++)
		ap_reply_bulk(&rp, "ab", 2);
	ap_reply_deferred_end(&rp, &d, kind == '%' ? n / 2 : n);
	ap_reply_ok(&rp);
	chunks_check(&ob);
}

START_TEST(test_deferred)
{
	deferred_write(2, '*', 2);
	OUT_EQ(&ob, "+pre\r\n*2\r\n$2\r\nab\r\n$2\r\nab\r\n+OK\r\n");
	ap_obuf_deinit(&ob);
	deferred_write(3, '*', 0);
	OUT_EQ(&ob, "+pre\r\n*0\r\n+OK\r\n");
	ap_obuf_deinit(&ob);
	deferred_write(2, '%', 2);
	OUT_EQ(&ob, "+pre\r\n*2\r\n$2\r\nab\r\n$2\r\nab\r\n+OK\r\n");
	ap_obuf_deinit(&ob);
	deferred_write(3, '%', 2);
	OUT_EQ(&ob, "+pre\r\n%1\r\n$2\r\nab\r\n$2\r\nab\r\n+OK\r\n");
	ap_obuf_deinit(&ob);
	deferred_write(2, '~', 1);
	OUT_EQ(&ob, "+pre\r\n*1\r\n$2\r\nab\r\n+OK\r\n");
	ap_obuf_deinit(&ob);
	deferred_write(3, '~', 1);
	OUT_EQ(&ob, "+pre\r\n~1\r\n$2\r\nab\r\n+OK\r\n");
	ap_obuf_deinit(&ob);
}
END_TEST

START_TEST(test_deferred_first_and_nested)
{
	struct ap_reply_deferred outer, inner;

	/* Deferred as the very first write, nested, empty inner. */
	writer_setup(3);
	ap_reply_deferred_begin(&rp, &outer, '*');
	ap_reply_deferred_begin(&rp, &inner, '%');
	ap_reply_deferred_end(&rp, &inner, 0);
	ap_reply_deferred_begin(&rp, &inner, '*');
	ap_reply_int(&rp, 7);
	ap_reply_deferred_end(&rp, &inner, 1);
	ap_reply_deferred_end(&rp, &outer, 2);
	OUT_EQ(&ob, "*2\r\n%0\r\n*1\r\n:7\r\n");
	chunks_check(&ob);
	ap_obuf_deinit(&ob);
}
END_TEST

START_TEST(test_deferred_large)
{
	struct ap_reply_deferred d;
	size_t n = 50000, cap = 50000 * 32 + 64, wl = 0;
	char *want = malloc(cap);

	writer_setup(2);
	ap_reply_deferred_begin(&rp, &d, '%');
	wl += (size_t)snprintf(want, cap, "*%zu\r\n", n * 2);
	for (size_t i = 0; i < n; i++) {
		ap_reply_bulk_ll(&rp, (long long)i);
		ap_reply_int(&rp, (long long)i);
		char num[24];
		int l = snprintf(num, sizeof(num), "%zu", i);
		wl += (size_t)snprintf(want + wl, cap - wl,
				       "$%d\r\n%s\r\n:%s\r\n", l, num, num);
	}
	ap_reply_deferred_end(&rp, &d, n);
	ck_assert_uint_gt(chunk_count(&ob), 5);
	chunks_check(&ob);
	out_check(&ob, want, wl);
	/* Consuming past the header works once the aggregate is closed. */
	ap_obuf_consume(&ob, 10);
	ck_assert_uint_eq(ob.len, wl - 10);
	out_check(&ob, want + 10, wl - 10);
	free(want);
	ap_obuf_deinit(&ob);
}
END_TEST

START_TEST(test_deferred_double_end_aborts)
{
	struct ap_reply_deferred d;

	writer_setup(2);
	ap_reply_deferred_begin(&rp, &d, '*');
	ap_reply_deferred_end(&rp, &d, 0);
	ap_reply_deferred_end(&rp, &d, 0);
}
END_TEST

static Suite *reply_suite(void)
{
	Suite *s = suite_create("reply");
	TCase *tc = tcase_create("writers");

	tcase_add_test(tc, test_simple_writers);
	tcase_add_test(tc, test_resp3_types);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_error_callback_and_count);
	tcase_add_test(tc, test_errorf_long);
	tcase_add_test(tc, test_big_bulk);
	tcase_add_test(tc, test_many_small_replies);
	suite_add_tcase(s, tc);

	tc = tcase_create("obuf");
	tcase_add_test(tc, test_reserve_commit);
	tcase_add_test(tc, test_append_fills_tail);
	tcase_add_test(tc, test_splice);
	tcase_add_test(tc, test_consume);
	tcase_add_test_raise_signal(tc, test_consume_too_much_aborts, SIGABRT);
	tcase_add_test(tc, test_flatten_empty);
	tcase_add_test(tc, test_deinit_frees_all);
	suite_add_tcase(s, tc);

	tc = tcase_create("deferred");
	tcase_add_test(tc, test_deferred);
	tcase_add_test(tc, test_deferred_first_and_nested);
	tcase_add_test(tc, test_deferred_large);
	tcase_add_test_raise_signal(tc, test_deferred_double_end_aborts,
				    SIGABRT);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(reply_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
