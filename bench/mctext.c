/*
 * mctext.c - the memcached text protocol's replies, parsed incrementally
 * for apiary-bench (--protocol memcache_text). The requests (set, get) are
 * encoded by workload.c.
 *
 * The parser works like the RESP parser of net/client.c: it takes any split
 * of the byte stream, keeps no pointer into its input, and stops at each
 * complete top-level reply. A GET's value bytes are skipped without being
 * copied: only the VALUE line (key, flags, length) is looked at.
 */
#include "bench/bench.h"

#include <limits.h>
#include <string.h>

enum {
	ST_LINE = 0,	/* inside a reply line */
	ST_DATA = 1,	/* skipping a value's bytes */
	ST_DATA_CR = 2, /* the '\r' after a value */
	ST_DATA_LF = 3, /* the '\n' after a value */
};

/* Longest run of digits in a 64-bit decimal. */
#define U64_DIGITS_MAX 20

/* Resets the parser to the start of a reply. */
void ap_bench_mct_parser_init(struct ap_bench_mct_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->state = ST_LINE;
}

/* Records a protocol error; the connection is not usable afterwards. */
static int mct_fail(struct ap_bench_mct_parser *p, const char *why)
{
	p->err = why;
	return AP_CLIENT_PROTO_ERR;
}

/* Adds n bytes of the current line: the first AP_BENCH_MCT_LINE_KEEP are
 * kept, the rest only counted. */
static void line_append(struct ap_bench_mct_parser *p, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (p->line_len < sizeof(p->line)) {
		size_t room = sizeof(p->line) - p->line_len;

		memcpy(p->line + p->line_len, s, n < room ? n : room);
	}
	p->line_len += n;
	p->line_cr = s[n - 1] == '\r';
}

/* Parses s[0..n) as an unsigned decimal of 1..20 digits without overflow. */
static bool get_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > U64_DIGITS_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' ||
		    __builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
			return false;
	}
	*out = v;
	return true;
}

/* True when the line (of length n) is lit, or lit followed by a space. */
static bool line_is(const char *s, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n >= l && memcmp(s, lit, l) == 0 && (n == l || s[l] == ' ');
}

/*
 * "VALUE <key> <flags> <bytes> [<cas>]": checks the fields and returns the
 * value length in *bytes. Fields are separated by single spaces.
 */
static bool value_line(const char *s, size_t n, uint64_t *bytes)
{
	const char *f[5];
	size_t flen[5];
	int count = 0;
	size_t i = 6; /* after "VALUE " */
	uint64_t v;

	while (i < n && count < 5) {
		const char *sp = memchr(s + i, ' ', n - i);
		size_t end = sp ? (size_t)(sp - s) : n;

		f[count] = s + i;
		flen[count++] = end - i;
		i = end + 1;
		if (sp != NULL && i == n)
			return false; /* trailing space */
	}
	if (i < n || count < 3 || count > 4 || flen[0] == 0 ||
	    !get_u64(f[1], flen[1], &v) || v > UINT32_MAX ||
	    !get_u64(f[2], flen[2], bytes))
		return false;
	return count == 3 || get_u64(f[3], flen[3], &v);
}

/* Fills out with the completed reply and resets for the next one. */
static int reply_done(struct ap_bench_mct_parser *p, size_t n, bool is_error,
		      bool is_null, long long value,
		      struct ap_client_reply *out)
{
	size_t keep = n < sizeof(p->text) ? n : sizeof(p->text);

	memcpy(p->text, p->line, keep);
	p->text_len = keep;
	memset(out, 0, sizeof(*out));
	out->type = AP_BENCH_MCT_TYPE;
	out->is_error = is_error;
	out->is_null = is_null;
	out->value = value;
	out->text = p->text;
	out->text_len = keep;
	out->wire_len = p->wire_len;
	p->values = 0;
	p->wire_len = 0;
	return AP_CLIENT_REPLY;
}

/* Handles one complete line of n bytes (without CRLF), of which only the
 * first AP_BENCH_MCT_LINE_KEEP were kept when `cut`: only an error
 * message may be that long. */
static int line_classify(struct ap_bench_mct_parser *p, size_t n, bool cut,
			 struct ap_client_reply *out)
{
	const char *s = p->line;
	uint64_t v;

	if (line_is(s, n, "ERROR") || line_is(s, n, "CLIENT_ERROR") ||
	    line_is(s, n, "SERVER_ERROR"))
		return reply_done(p, n, true, false, 0, out);
	if (cut)
		return mct_fail(p, "memcached reply line too long");
	if (n > 6 && memcmp(s, "VALUE ", 6) == 0) {
		if (!value_line(s, n, &v))
			return mct_fail(p, "malformed memcached VALUE line");
		p->values++;
		p->data_left = v;
		p->state = ST_DATA;
		return AP_CLIENT_NEED_MORE;
	}
	if (n == 3 && memcmp(s, "END", 3) == 0)
		return reply_done(p, n, false, p->values == 0, p->values, out);
	if (p->values > 0)
		return mct_fail(p, "unexpected line in a memcached GET reply");
	if ((n == 6 && memcmp(s, "STORED", 6) == 0) ||
	    (n == 7 && memcmp(s, "DELETED", 7) == 0) ||
	    (n == 7 && memcmp(s, "TOUCHED", 7) == 0) ||
	    (n == 2 && memcmp(s, "OK", 2) == 0) ||
	    (n > 8 && memcmp(s, "VERSION ", 8) == 0))
		return reply_done(p, n, false, false, 0, out);
	if ((n == 10 && memcmp(s, "NOT_STORED", 10) == 0) ||
	    (n == 6 && memcmp(s, "EXISTS", 6) == 0) ||
	    (n == 9 && memcmp(s, "NOT_FOUND", 9) == 0))
		return reply_done(p, n, false, true, 0, out);
	if (get_u64(s, n, &v))
		return reply_done(p, n, false, false,
				  v > (uint64_t)LLONG_MAX ? LLONG_MAX
							  : (long long)v,
				  out);
	return mct_fail(p, "unexpected memcached reply line");
}

/* The line ended at '\n': checks the CR and its length, then classifies. */
static int line_end(struct ap_bench_mct_parser *p, struct ap_client_reply *out)
{
	size_t n = p->line_len;
	bool cr = p->line_cr;

	p->line_len = 0;
	p->line_cr = false;
	if (!cr)
		return mct_fail(p, "memcached reply line not ending in CRLF");
	n--; /* the '\r' */
	if (n > sizeof(p->line))
		return line_classify(p, sizeof(p->line), true, out);
	return line_classify(p, n, false, out);
}

/* Consumes line bytes from buf; returns the bytes used and sets *rc. */
static size_t step_line(struct ap_bench_mct_parser *p, const char *buf,
			size_t len, struct ap_client_reply *out, int *rc)
{
	const char *nl = memchr(buf, '\n', len);
	size_t n = nl ? (size_t)(nl - buf) : len;

	line_append(p, buf, n);
	p->wire_len += n;
	if (p->line_len > AP_CLIENT_LINE_MAX) {
		*rc = mct_fail(p, "memcached reply line too long");
		return n;
	}
	if (nl == NULL)
		return n;
	p->wire_len++;
	*rc = line_end(p, out);
	return n + 1;
}

/* Consumes value bytes and the CRLF after them. */
static size_t step_data(struct ap_bench_mct_parser *p, const char *buf,
			size_t len, int *rc)
{
	if (p->state == ST_DATA) {
		size_t n = p->data_left < len ? (size_t)p->data_left : len;

		p->data_left -= n;
		p->wire_len += n;
		if (p->data_left == 0)
			p->state = ST_DATA_CR;
		return n;
	}
	char want = p->state == ST_DATA_CR ? '\r' : '\n';

	if (buf[0] != want) {
		*rc = mct_fail(p, "memcached value not followed by CRLF");
		return 1;
	}
	p->wire_len++;
	p->state = p->state == ST_DATA_CR ? ST_DATA_LF : ST_LINE;
	return 1;
}

/* Parses until one reply completes; see bench.h. */
int ap_bench_mct_parse(struct ap_bench_mct_parser *p, const char *buf,
		       size_t len, size_t *consumed,
		       struct ap_client_reply *out)
{
	size_t i = 0;
	int rc = AP_CLIENT_NEED_MORE;

	AP_ASSERT(p->err == NULL);
	while (i < len && rc == AP_CLIENT_NEED_MORE) {
		if (p->state == ST_LINE)
			i += step_line(p, buf + i, len - i, out, &rc);
		else
			i += step_data(p, buf + i, len - i, &rc);
	}
	*consumed = i;
	return rc;
}
