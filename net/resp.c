/*
 * resp.c - the server-side RESP request parser (see resp.h for the
 * contract).
 *
 * A command is either multibulk (`*<n>\r\n` then n times
 * `$<len>\r\n<payload>\r\n`) or inline (any other first byte: one line up
 * to '\n', split into words as redis-cli and telnet users expect). The
 * parser behaves as Redis's request parser does, with its error texts.
 *
 * State between calls lives in struct ap_resp_req, and every call resumes
 * where the previous one stopped, so each byte is examined about once
 * whatever the split of the command into reads:
 *   - is_inline: scanning the line for '\n'; pos is how far the scan got.
 *   - argc_expected == -1 (not inline): scanning the `*<n>` header line for
 *     '\r'; pos is how far the scan got.
 *   - bulk_len == -1, argc < argc_expected: scanning the `$<len>` header of
 *     argument argc; args[argc].off holds the start of that header line and
 *     pos how far the scan got.
 *   - bulk_len >= 0: waiting for the payload of argument argc, which starts
 *     at args[argc].off; pos is that start. Nothing is scanned: the payload
 *     is complete once bulk_len + 2 bytes follow its start.
 * A scan that needs more bytes sets pos to the length it saw and resumes at
 * pos - 1 (the last byte may be a '\r' waiting for its '\n').
 *
 * Header lines are searched for their terminator within a bounded window
 * (AP_PROTO_HEADER_MAX_LEN, lim->inline_max), so the outcome, including
 * which error is reported, does not depend on how the bytes were split.
 * A complete header line of plain digits, the usual case, takes a fast path
 * that reads the digits directly instead of calling memchr.
 *
 * Memory: args grows geometrically as arguments actually arrive, never from
 * the count the client announced; inline_buf holds the unquoted inline
 * arguments and the text of the one error message that embeds a byte.
 * Both are kept across commands and freed by ap_resp_req_deinit().
 */
#include "net/resp.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/limits.h"

/* First capacity of the argument array; covers nearly every command. */
#define ARGS_CAP_MIN 16
/* Room for "Protocol error: expected '$', got 'X'" and its NUL. */
#define ERR_BUF_SIZE 64

static const char err_mbulk_len[] = "Protocol error: invalid multibulk length";
static const char err_bulk_len[] = "Protocol error: invalid bulk length";
static const char err_mbulk_big[] =
	"Protocol error: too big mbulk count string";
static const char err_bulk_big[] = "Protocol error: too big bulk count string";
static const char err_inline_big[] = "Protocol error: too big inline request";
static const char err_quotes[] = "Protocol error: unbalanced quotes in request";
/* No Redis equivalent: Redis bounds inline arguments only by the line
 * length; we also hold them to argc_max. */
static const char err_inline_argc[] =
	"Protocol error: too many arguments in inline request";

enum scan_result {
	SCAN_FOUND,
	SCAN_NEED_MORE,
	SCAN_TOO_BIG,
};

/* Prepares an empty request: no memory is allocated until a command needs
 * it. */
void ap_resp_req_init(struct ap_resp_req *rq)
{
	memset(rq, 0, sizeof(*rq));
	rq->argc_expected = -1;
	rq->bulk_len = -1;
}

/* Frees the request's arrays and leaves rq as ap_resp_req_init() does. */
void ap_resp_req_deinit(struct ap_resp_req *rq)
{
	ap_free(rq->args);
	ap_free(rq->inline_buf);
	memset(rq, 0, sizeof(*rq));
	rq->argc_expected = -1;
	rq->bulk_len = -1;
}

/* Forgets the current command, keeping the arrays for the next one. */
void ap_resp_req_reset(struct ap_resp_req *rq)
{
	rq->argc_expected = -1;
	rq->bulk_len = -1;
	rq->pos = 0;
	rq->is_inline = false;
	rq->argc = 0;
}

/* Makes room for at least `count` arguments, doubling the array so that a
 * command of n arguments costs O(n) in copies overall. count never exceeds
 * what has actually arrived plus one, and is bounded by argc_max. */
static void args_reserve(struct ap_resp_req *rq, int count)
{
	size_t size;
	int cap;

	AP_ASSERT(count > 0);
	if (AP_LIKELY(count <= rq->arg_cap))
		return;
	cap = rq->arg_cap ? rq->arg_cap : ARGS_CAP_MIN;
	while (cap < count) {
		AP_ASSERT(cap <= INT32_MAX / 2);
		cap *= 2;
	}
	AP_ASSERT(
		!__builtin_mul_overflow((size_t)cap, sizeof(*rq->args), &size));
	rq->args = ap_realloc(rq->args, size);
	rq->arg_cap = cap;
}

/* Makes inline_buf hold at least `size` bytes. Its old content is not
 * kept: callers fill it afresh. */
static void inline_reserve(struct ap_resp_req *rq, size_t size)
{
	size_t cap;

	if (AP_LIKELY(size <= rq->inline_cap))
		return;
	cap = rq->inline_cap ? rq->inline_cap : ERR_BUF_SIZE;
	while (cap < size) {
		AP_ASSERT(cap <= SIZE_MAX / 2);
		cap *= 2;
	}
	ap_free(rq->inline_buf);
	rq->inline_buf = ap_malloc(cap);
	rq->inline_cap = cap;
}

/* Parses a length as Redis does: an optional '-', then "0" alone or a digit
 * 1-9 followed by digits; no '+', no leading zeros, no "-0", no spaces,
 * nothing that overflows a long long. Returns false if s[0..n) is not
 * such a number. */
static bool parse_len(const char *s, size_t n, long long *out)
{
	unsigned long long v = 0, limit = (unsigned long long)LLONG_MAX;
	bool neg = false;
	size_t i = 0;

	if (n == 1 && s[0] == '0') {
		*out = 0;
		return true;
	}
	if (n > 0 && s[0] == '-') {
		neg = true;
		limit++; /* |LLONG_MIN| */
		i = 1;
	}
	if (i >= n || s[i] < '1' || s[i] > '9')
		return false;
	for (; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? (long long)(0 - v) : (long long)v;
	return true;
}

/* The common case of a header line, decided without memchr: at most 18
 * digits without a sign or leading zero, then '\r' and one more byte, all
 * within buf[0..len). Returns false for anything else (including a line
 * not complete yet), which the general path then handles; when it returns
 * true the general path would have found the same number and '\r'. */
static bool parse_header_fast(const char *buf, size_t len, size_t from,
			      long long *out, size_t *cr)
{
	size_t i = from, end = AP_MIN(len, from + 18);
	long long v = 0;

	if (i >= end || buf[i] < '0' || buf[i] > '9')
		return false;
	if (buf[i] == '0') {
		i++;
	} else {
		for (; i < end && buf[i] >= '0' && buf[i] <= '9'; i++)
			v = v * 10 + (buf[i] - '0');
	}
	if (i + 1 >= len || buf[i] != '\r')
		return false;
	*out = v;
	*cr = i;
	return true;
}

/* Looks for `term` in the line that starts at buf[ls], whose content before
 * the terminator may be at most `max` bytes. Resumes after the bytes an
 * earlier call already examined (rq->pos). On SCAN_FOUND, *at is the
 * index of the terminator; on SCAN_NEED_MORE, rq->pos records how far the
 * scan went; SCAN_TOO_BIG means more than `max` bytes came without it. */
static enum scan_result scan_line(struct ap_resp_req *rq, const char *buf,
				  size_t len, size_t ls, size_t max, char term,
				  size_t *at)
{
	size_t from = rq->pos > ls ? rq->pos - 1 : ls;
	size_t window = max < SIZE_MAX - ls - 1 ? ls + max + 1 : SIZE_MAX;
	size_t to = AP_MIN(len, window);
	const char *p;

	if (from < to) {
		p = memchr(buf + from, term, to - from);
		if (p) {
			*at = (size_t)(p - buf);
			return SCAN_FOUND;
		}
	}
	if (len >= window)
		return SCAN_TOO_BIG;
	rq->pos = len;
	return SCAN_NEED_MORE;
}

/* Builds "Protocol error: expected '$', got 'c'" in rq's buffer, with the
 * bytes an error line cannot carry ('\r', '\n', NUL) shown as a space, as
 * Redis does for the first two. */
static const char *err_expected_dollar(struct ap_resp_req *rq, char c)
{
	if (c == '\r' || c == '\n' || c == '\0')
		c = ' ';
	inline_reserve(rq, ERR_BUF_SIZE);
	snprintf(rq->inline_buf, rq->inline_cap,
		 "Protocol error: expected '$', got '%c'", c);
	return rq->inline_buf;
}

/* Enters the state "header of argument argc", whose line starts at ls. */
static void bulk_header_begin(struct ap_resp_req *rq, size_t ls)
{
	args_reserve(rq, rq->argc + 1);
	rq->args[rq->argc].off = ls;
	rq->args[rq->argc].len = 0;
	rq->pos = ls;
}

/* The error texts of one kind of header line. */
struct header_errs {
	const char *too_big; /* no '\r' within AP_PROTO_HEADER_MAX_LEN */
	const char *invalid; /* not a number */
};

static const struct header_errs mbulk_errs = {err_mbulk_big, err_mbulk_len};
static const struct header_errs bulk_errs = {err_bulk_big, err_bulk_len};

/* read_header() for the lines parse_header_fast() does not take: resumes
 * the bounded scan for '\r', then parses the number strictly. */
static int read_header_slow(struct ap_resp_req *rq, const char *buf, size_t len,
			    size_t ls, const struct header_errs *errs,
			    long long *n, size_t *next, const char **err)
{
	enum scan_result r;
	size_t cr;

	r = scan_line(rq, buf, len, ls, AP_PROTO_HEADER_MAX_LEN, '\r', &cr);
	if (r == SCAN_TOO_BIG) {
		*err = errs->too_big;
		return -1;
	}
	if (r == SCAN_NEED_MORE)
		return 0;
	if (cr + 1 >= len) { /* the byte after '\r' is not here yet */
		rq->pos = len;
		return 0;
	}
	if (!parse_len(buf + ls + 1, cr - ls - 1, n)) {
		*err = errs->invalid;
		return -1;
	}
	*next = cr + 2;
	return 1;
}

/* Reads the number on the header line that starts at buf[ls] (its '*' or
 * '$'), resuming the scan for '\r' where the last call stopped. Returns 1
 * with *n set and *next the index after the line, 0 when more bytes are
 * needed, -1 with *err set. */
static int read_header(struct ap_resp_req *rq, const char *buf, size_t len,
		       size_t ls, const struct header_errs *errs, long long *n,
		       size_t *next, const char **err)
{
	size_t cr;

	if (AP_LIKELY(rq->pos == ls) &&
	    AP_LIKELY(parse_header_fast(buf, len, ls + 1, n, &cr))) {
		*next = cr + 2;
		return 1;
	}
	return read_header_slow(rq, buf, len, ls, errs, n, next, err);
}

/* Parses the `*<n>` line. Returns 1 when it is complete (argc_expected is
 * then set: 0 for an empty command, whose length is rq->pos), 0 when more
 * bytes are needed, -1 on a protocol error (*err set). */
static int parse_mbulk_header(struct ap_resp_req *rq, const char *buf,
			      size_t len, const struct ap_resp_limits *lim,
			      const char **err)
{
	size_t next;
	long long n;
	int r;

	AP_ASSERT(len > 0 && buf[0] == '*');
	r = read_header(rq, buf, len, 0, &mbulk_errs, &n, &next, err);
	if (r <= 0)
		return r;
	if (n > lim->argc_max) {
		*err = err_mbulk_len;
		return -1;
	}
	if (n <= 0) { /* "*0" and "*-1": an empty command, as in Redis */
		rq->argc_expected = 0;
		rq->pos = next;
		return 1;
	}
	rq->argc_expected = n;
	bulk_header_begin(rq, next);
	return 1;
}

/* Parses the `$<len>` line of argument argc. Returns 1 when it is complete
 * (the payload is then expected at args[argc].off), 0 when more bytes are
 * needed, -1 on a protocol error (*err set). */
static int parse_bulk_header(struct ap_resp_req *rq, const char *buf,
			     size_t len, const struct ap_resp_limits *lim,
			     const char **err)
{
	size_t ls, next;
	long long n;
	int r;

	AP_ASSERT(rq->argc < rq->argc_expected && rq->argc < rq->arg_cap);
	ls = rq->args[rq->argc].off;

	if (len <= ls)
		return 0;
	if (AP_UNLIKELY(buf[ls] != '$')) {
		*err = err_expected_dollar(rq, buf[ls]);
		return -1;
	}
	r = read_header(rq, buf, len, ls, &bulk_errs, &n, &next, err);
	if (r <= 0)
		return r;
	if (n < 0 || n > lim->bulk_len_max) {
		*err = err_bulk_len;
		return -1;
	}
	rq->args[rq->argc].off = next;
	rq->bulk_len = n;
	rq->pos = next;
	return 1;
}

/* Parses the arguments of a multibulk command whose header is done.
 * Returns the command's length once all arguments are in, else
 * AP_RESP_NEED_MORE or AP_RESP_ERROR. */
static long long parse_bulks(struct ap_resp_req *rq, const char *buf,
			     size_t len, const struct ap_resp_limits *lim,
			     const char **err)
{
	struct ap_resp_argoff *a;
	size_t end;
	int r;

	AP_ASSERT(rq->argc_expected > 0 && !rq->is_inline);
	while (rq->argc < rq->argc_expected) {
		if (rq->bulk_len < 0) {
			r = parse_bulk_header(rq, buf, len, lim, err);
			if (r <= 0)
				return r < 0 ? AP_RESP_ERROR
					     : AP_RESP_NEED_MORE;
		}
		a = &rq->args[rq->argc];
		end = a->off + (size_t)rq->bulk_len + 2;
		if (len < end)
			return AP_RESP_NEED_MORE;
		/* As Redis, the two bytes after the payload are skipped
		 * without looking: they should be "\r\n". */
		a->len = (size_t)rq->bulk_len;
		rq->argc++;
		rq->bulk_len = -1;
		if (rq->argc < rq->argc_expected)
			bulk_header_begin(rq, end);
		else
			rq->pos = end;
	}
	return (long long)rq->pos;
}

/* The characters C's isspace() accepts in the "C" locale: they separate
 * inline arguments and may follow a closing quote. */
static bool is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The byte "\c" stands for inside double quotes. */
static char unescape(char c)
{
	switch (c) {
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	case 'b':
		return '\b';
	case 'a':
		return '\a';
	default:
		return c;
	}
}

/* Copies one double-quoted stretch, s[*ip] being the byte after the opening
 * quote, unescaped to dst[*op]; stops after the closing quote. Returns
 * false if the quote is not closed, or is followed by something other
 * than a space or the end of the line. */
static bool copy_dquoted(const char *s, size_t n, size_t *ip, char *dst,
			 size_t *op)
{
	size_t i = *ip, o = *op;
	int hi, lo;

	for (;;) {
		if (i >= n)
			return false;
		if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' &&
		    (hi = hex_val(s[i + 2])) >= 0 &&
		    (lo = hex_val(s[i + 3])) >= 0) {
			dst[o++] = (char)(hi * 16 + lo);
			i += 4;
		} else if (s[i] == '\\' && i + 1 < n) {
			dst[o++] = unescape(s[i + 1]);
			i += 2;
		} else if (s[i] == '"') {
			if (i + 1 < n && !is_space(s[i + 1]))
				return false;
			*ip = i + 1;
			*op = o;
			return true;
		} else {
			dst[o++] = s[i++];
		}
	}
}

/* As copy_dquoted() for a single-quoted stretch, where only \' is an
 * escape. */
static bool copy_squoted(const char *s, size_t n, size_t *ip, char *dst,
			 size_t *op)
{
	size_t i = *ip, o = *op;

	for (;;) {
		if (i >= n)
			return false;
		if (s[i] == '\\' && i + 1 < n && s[i + 1] == '\'') {
			dst[o++] = '\'';
			i += 2;
		} else if (s[i] == '\'') {
			if (i + 1 < n && !is_space(s[i + 1]))
				return false;
			*ip = i + 1;
			*op = o;
			return true;
		} else {
			dst[o++] = s[i++];
		}
	}
}

/* Copies the inline argument starting at s[*ip] (not a space) to dst[*op],
 * unquoted. A bare word ends at a space, tab, '\r' or '\n'; a quote may
 * open anywhere in it, and the argument ends at the closing quote. Returns
 * false on unbalanced quotes. */
static bool copy_inline_arg(const char *s, size_t n, size_t *ip, char *dst,
			    size_t *op)
{
	size_t i = *ip, o = *op;
	bool ok;

	while (i < n) {
		char c = s[i++];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			break;
		if (c == '"' || c == '\'') {
			ok = c == '"' ? copy_dquoted(s, n, &i, dst, &o)
				      : copy_squoted(s, n, &i, dst, &o);
			if (!ok)
				return false;
			break;
		}
		dst[o++] = c;
	}
	*ip = i;
	*op = o;
	return true;
}

/* Splits the inline line s[0..n) into arguments copied to inline_buf.
 * Returns false with *err set on unbalanced quotes or too many arguments. */
static bool split_inline(struct ap_resp_req *rq, const char *s, size_t n,
			 const struct ap_resp_limits *lim, const char **err)
{
	size_t i = 0, o = 0, start;

	inline_reserve(rq, n); /* unquoting never makes a line longer */
	rq->argc = 0;
	for (;;) {
		while (i < n && is_space(s[i]))
			i++;
		if (i >= n)
			return true;
		if (rq->argc >= lim->argc_max) {
			*err = err_inline_argc;
			return false;
		}
		start = o;
		if (!copy_inline_arg(s, n, &i, rq->inline_buf, &o)) {
			*err = err_quotes;
			return false;
		}
		AP_ASSERT(o <= n);
		args_reserve(rq, rq->argc + 1);
		rq->args[rq->argc].off = start;
		rq->args[rq->argc].len = o - start;
		rq->argc++;
	}
}

/* Parses an inline command: waits for its '\n', then splits the line
 * (without '\n', a trailing '\r', and anything from a NUL on, which Redis
 * never sees either). */
static long long parse_inline(struct ap_resp_req *rq, const char *buf,
			      size_t len, const struct ap_resp_limits *lim,
			      const char **err)
{
	enum scan_result r;
	const char *nul;
	size_t nl, end;

	r = scan_line(rq, buf, len, 0, lim->inline_max, '\n', &nl);
	if (r == SCAN_TOO_BIG) {
		*err = err_inline_big;
		return AP_RESP_ERROR;
	}
	if (r == SCAN_NEED_MORE)
		return AP_RESP_NEED_MORE;
	end = nl;
	if (end > 0 && buf[end - 1] == '\r')
		end--;
	nul = memchr(buf, '\0', end);
	if (nul)
		end = (size_t)(nul - buf);
	if (!split_inline(rq, buf, end, lim, err))
		return AP_RESP_ERROR;
	rq->pos = nl + 1;
	return (long long)rq->pos;
}

/* Parses as much of the command in buf[0..len) as has arrived, resuming
 * from the saved state. See resp.h. On AP_RESP_ERROR, *err is a static
 * string or lives in rq (valid until the next call on rq). */
long long ap_resp_parse(struct ap_resp_req *rq, const char *buf, size_t len,
			const struct ap_resp_limits *lim, const char **err)
{
	int r;

	AP_ASSERT(len >= rq->pos); /* the caller presents the whole command */
	AP_ASSERT(lim->argc_max > 0 && lim->bulk_len_max >= 0);
	if (rq->is_inline)
		return parse_inline(rq, buf, len, lim, err);
	if (rq->argc_expected < 0) {
		if (len == 0)
			return AP_RESP_NEED_MORE;
		if (buf[0] != '*') {
			rq->is_inline = true;
			return parse_inline(rq, buf, len, lim, err);
		}
		r = parse_mbulk_header(rq, buf, len, lim, err);
		if (r <= 0)
			return r < 0 ? AP_RESP_ERROR : AP_RESP_NEED_MORE;
		if (rq->argc_expected == 0)
			return (long long)rq->pos;
	}
	return parse_bulks(rq, buf, len, lim, err);
}

/* Points argv[0..argc) at the arguments: into buf for multibulk commands,
 * into the request's unquoted copy for inline ones. */
void ap_resp_req_argv(const struct ap_resp_req *rq, const char *buf,
		      struct ap_arg *argv)
{
	const char *base = rq->is_inline ? rq->inline_buf : buf;
	int i;

	AP_ASSERT(rq->argc >= 0 && (rq->argc == 0 || rq->argc <= rq->arg_cap));

	for (i = 0; i < rq->argc; i++) {
		argv[i].p = base + rq->args[i].off;
		argv[i].len = rq->args[i].len;
	}
}

/* While a payload is in progress: the bytes up to its trailing "\r\n".
 * Otherwise one more byte than the parser has examined. */
size_t ap_resp_need(const struct ap_resp_req *rq)
{
	if (rq->bulk_len >= 0) {
		AP_ASSERT(rq->argc < rq->arg_cap);
		return rq->args[rq->argc].off + (size_t)rq->bulk_len + 2;
	}
	return rq->pos + 1;
}
