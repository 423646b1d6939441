/*
 * reply.c - output buffers (a list of chunks) and the RESP2/RESP3 writer.
 *
 * Writers append at the tail chunk; a write that does not fit starts a new
 * chunk of AP_OBUF_CHUNK_SIZE, or of its own size when it is bigger. Big
 * payloads fill the tail first and spill into one chunk of their size, so
 * nothing is copied twice. A fully consumed tail chunk of the standard size
 * is kept and rewound, so a connection in steady state allocates nothing
 * per reply.
 *
 * Deferred aggregates (length known only at the end) use a placeholder
 * chunk with room for the header. While the aggregate is open the
 * placeholder's cap is 0, so no writer puts bytes into it; the end writes
 * the header there and restores its cap. An obuf must not be consumed
 * while a deferred aggregate is open (the placeholder is empty and would be
 * freed); commands finish their reply before the network layer sends.
 */
#include "core/reply.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/limits.h"

/* Room for one aggregate header: type, 20 digits, CRLF. */
#define DEFERRED_CAP 32
/* Room for a type byte, a 64-bit decimal with its NUL, and CRLF. */
#define HEADER_MAX 24
/* Bulks up to this size are written contiguously even if that starts a
 * new chunk; bigger ones fill the tail first. */
#define BULK_INLINE_MAX 512
/* Largest single chunk (chunk lengths are 32-bit). */
#define CHUNK_CAP_MAX (1U << 31)
/* errorf formats into a stack buffer this big before allocating. */
#define ERRORF_STACK 256

/* ------------------------------------------------------------------ obuf */

/* Allocates an empty chunk with cap bytes of room. */
static struct ap_obuf_chunk *chunk_create(size_t cap)
{
	AP_ASSERT(cap <= CHUNK_CAP_MAX);
	struct ap_obuf_chunk *c = ap_malloc(sizeof(*c) + cap);

	c->next = NULL;
	c->len = 0;
	c->cap = (uint32_t)cap;
	c->sent = 0;
	return c;
}

/* Appends chunk c at b's tail. */
static void chunk_link(struct ap_obuf *b, struct ap_obuf_chunk *c)
{
	if (b->tail != NULL)
		b->tail->next = c;
	else
		b->head = c;
	b->tail = c;
}

/* Free bytes in b's tail chunk (0 without one). */
static size_t tail_room(const struct ap_obuf *b)
{
	return b->tail != NULL ? b->tail->cap - b->tail->len : 0;
}

/* Makes b an empty buffer; it owns no memory yet. */
void ap_obuf_init(struct ap_obuf *b)
{
	b->head = NULL;
	b->tail = NULL;
	b->len = 0;
}

/* Frees every chunk; b is empty (and reusable) afterwards. */
void ap_obuf_deinit(struct ap_obuf *b)
{
	struct ap_obuf_chunk *c = b->head;

	while (c != NULL) {
		struct ap_obuf_chunk *next = c->next;
		ap_free(c);
		c = next;
	}
	ap_obuf_init(b);
}

/*
 * Returns at least n contiguous writable bytes at the tail, starting a new
 * chunk (AP_OBUF_CHUNK_SIZE or n if bigger) when the tail lacks room. The
 * space stays valid until the next write; commit what was written.
 */
char *ap_obuf_reserve(struct ap_obuf *b, size_t n)
{
	if (tail_room(b) < n || b->tail == NULL)
		chunk_link(b, chunk_create(AP_MAX(n, AP_OBUF_CHUNK_SIZE)));
	return b->tail->data + b->tail->len;
}

/* Adds n bytes written into the last reserved space to the buffer. */
void ap_obuf_commit(struct ap_obuf *b, size_t n)
{
	AP_ASSERT(b->tail != NULL && tail_room(b) >= n);
	b->tail->len += (uint32_t)n;
	b->len += n;
}

/* Copies n bytes at p to the end of b: into the tail's free room, then
 * into one new chunk big enough for the rest. */
void ap_obuf_append(struct ap_obuf *b, const void *p, size_t n)
{
	const char *src = p;
	size_t take = AP_MIN(tail_room(b), n);

	if (take > 0) {
		memcpy(b->tail->data + b->tail->len, src, take);
		b->tail->len += (uint32_t)take;
		b->len += take;
		src += take;
		n -= take;
	}
	while (n > 0) {
		take = AP_MIN(n, CHUNK_CAP_MAX);
		struct ap_obuf_chunk *c =
			chunk_create(AP_MAX(take, AP_OBUF_CHUNK_SIZE));
		memcpy(c->data, src, take);
		c->len = (uint32_t)take;
		chunk_link(b, c);
		b->len += take;
		src += take;
		n -= take;
	}
}

/* Moves all of src's chunks to the end of dst without copying; src is
 * left empty. */
void ap_obuf_splice(struct ap_obuf *dst, struct ap_obuf *src)
{
	AP_ASSERT(dst != src);
	if (src->head == NULL)
		return;
	if (dst->tail != NULL)
		dst->tail->next = src->head;
	else
		dst->head = src->head;
	dst->tail = src->tail;
	dst->len += src->len;
	ap_obuf_init(src);
}

/*
 * Finishes the fully consumed head chunk: a standard-size tail is rewound
 * for reuse, anything else is freed.
 */
static void head_retire(struct ap_obuf *b)
{
	struct ap_obuf_chunk *c = b->head;

	if (c == b->tail && c->cap == AP_OBUF_CHUNK_SIZE) {
		c->len = 0;
		c->sent = 0;
		return;
	}
	b->head = c->next;
	if (b->head == NULL)
		b->tail = NULL;
	ap_free(c);
}

/* Marks n bytes at the head as consumed (sent), retiring finished chunks.
 * n must not exceed b->len. */
void ap_obuf_consume(struct ap_obuf *b, size_t n)
{
	AP_ASSERT(n <= b->len);
	while (n > 0) {
		struct ap_obuf_chunk *c = b->head;
		size_t take = AP_MIN((size_t)(c->len - c->sent), n);
		c->sent += (uint32_t)take;
		b->len -= take;
		n -= take;
		if (c->sent == c->len)
			head_retire(b);
	}
}

/* Returns a copy of b's unconsumed bytes in one ap_malloc'd buffer (never
 * NULL, even when empty) and its length in *len. */
char *ap_obuf_flatten(const struct ap_obuf *b, size_t *len)
{
	char *out = ap_malloc(b->len > 0 ? b->len : 1);
	size_t off = 0;

	for (const struct ap_obuf_chunk *c = b->head; c != NULL; c = c->next) {
		size_t n = c->len - c->sent;
		AP_ASSERT(off + n <= b->len);
		memcpy(out + off, c->data + c->sent, n);
		off += n;
	}
	AP_ASSERT(off == b->len);
	*len = off;
	return out;
}

/* ----------------------------------------------------------- RESP writer */

/* Binds r to out with protocol version proto (2 or 3). */
void ap_reply_init(struct ap_reply *r, struct ap_obuf *out, int proto)
{
	AP_ASSERT(proto == 2 || proto == 3);
	r->out = out;
	r->proto = (uint8_t)proto;
	r->errors = 0;
	r->on_error = NULL;
	r->on_error_ctx = NULL;
}

/* Writes "<type><n>\r\n" into p (HEADER_MAX bytes); returns its length. */
static size_t header_format(char *p, char type, long long n)
{
	p[0] = type;
	size_t len = 1 + ap_ll_to_str(p + 1, n);
	p[len] = '\r';
	p[len + 1] = '\n';
	return len + 2;
}

/* Writes one "<type><n>\r\n" line. */
static void put_header(struct ap_reply *r, char type, long long n)
{
	char *p = ap_obuf_reserve(r->out, HEADER_MAX);

	ap_obuf_commit(r->out, header_format(p, type, n));
}

/* Aggregate length as a header value; lengths never approach LLONG_MAX. */
static long long agg_len(size_t n)
{
	AP_ASSERT(n <= (size_t)LLONG_MAX / 2);
	return (long long)n;
}

/*
 * Writes a length-prefixed string "<type><plen+len>\r\n<pre><p>\r\n":
 * contiguously when small or when it fits the tail, else header, payload
 * and CRLF as separate appends (filling the tail, no double copy).
 */
static void put_blob(struct ap_reply *r, char type, const char *pre,
		     size_t plen, const void *p, size_t len)
{
	size_t total = plen + len;
	size_t need = HEADER_MAX + total + 2;

	if (total <= BULK_INLINE_MAX || tail_room(r->out) >= need) {
		char *q = ap_obuf_reserve(r->out, need);
		size_t n = header_format(q, type, (long long)total);
		memcpy(q + n, pre, plen);
		if (len > 0)
			memcpy(q + n + plen, p, len);
		n += total;
		q[n] = '\r';
		q[n + 1] = '\n';
		ap_obuf_commit(r->out, n + 2);
		return;
	}
	put_header(r, type, (long long)total);
	ap_obuf_append(r->out, pre, plen);
	ap_obuf_append(r->out, p, len);
	ap_obuf_append(r->out, "\r\n", 2);
}

/* Replaces CR and LF in p[0..len) with spaces. */
static void crlf_strip(char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\r' || p[i] == '\n')
			p[i] = ' ';
	}
}

/* +OK */
void ap_reply_ok(struct ap_reply *r)
{
	ap_obuf_append(r->out, "+OK\r\n", 5);
}

/* +text; any CR or LF in text is written as a space. */
void ap_reply_status(struct ap_reply *r, const char *text)
{
	size_t len = strlen(text);
	char *q = ap_obuf_reserve(r->out, len + 3);

	q[0] = '+';
	memcpy(q + 1, text, len);
	crlf_strip(q + 1, len);
	q[len + 1] = '\r';
	q[len + 2] = '\n';
	ap_obuf_commit(r->out, len + 3);
}

/* True if text starts with an upper-case error code and a space. */
static bool has_error_code(const char *text, size_t len)
{
	size_t i = 0;

	while (i < len && text[i] >= 'A' && text[i] <= 'Z')
		i++;
	return i > 0 && i < len && text[i] == ' ';
}

/*
 * -text\r\n, with "ERR " prepended when text lacks an error code (a
 * leading '-' is dropped) and CR/LF written as spaces. Counts the error
 * and passes the final text to r->on_error.
 */
void ap_reply_error(struct ap_reply *r, const char *text)
{
	if (text[0] == '-')
		text++;
	size_t len = strlen(text);
	size_t pre = has_error_code(text, len) ? 0 : 4;
	char *q = ap_obuf_reserve(r->out, 1 + pre + len + 2);

	q[0] = '-';
	memcpy(q + 1, "ERR ", pre);
	memcpy(q + 1 + pre, text, len);
	crlf_strip(q + 1 + pre, len);
	q[1 + pre + len] = '\r';
	q[2 + pre + len] = '\n';
	ap_obuf_commit(r->out, pre + len + 3);
	r->errors++;
	if (r->on_error != NULL)
		r->on_error(r->on_error_ctx, q + 1, pre + len);
}

/* Formats the error text with printf rules, then as ap_reply_error. */
void ap_reply_errorf(struct ap_reply *r, const char *fmt, ...)
{
	char stack[ERRORF_STACK];
	va_list ap, ap2;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(stack, sizeof(stack), fmt, ap);
	va_end(ap);
	AP_ASSERT(n >= 0);
	if ((size_t)n < sizeof(stack)) {
		va_end(ap2);
		ap_reply_error(r, stack);
		return;
	}
	char *heap = ap_malloc((size_t)n + 1);
	vsnprintf(heap, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	ap_reply_error(r, heap);
	ap_free(heap);
}

/* :v */
void ap_reply_int(struct ap_reply *r, long long v)
{
	put_header(r, ':', v);
}

/* $len\r\n<bytes>\r\n */
void ap_reply_bulk(struct ap_reply *r, const void *p, size_t len)
{
	put_blob(r, '$', "", 0, p, len);
}

/* Bulk string of a NUL-terminated string. */
void ap_reply_bulk_cstr(struct ap_reply *r, const char *s)
{
	put_blob(r, '$', "", 0, s, strlen(s));
}

/* Bulk string of v in decimal. */
void ap_reply_bulk_ll(struct ap_reply *r, long long v)
{
	char buf[21];

	put_blob(r, '$', "", 0, buf, ap_ll_to_str(buf, v));
}

/* Null bulk: $-1 (RESP2) or _ (RESP3). */
void ap_reply_null(struct ap_reply *r)
{
	if (r->proto == 3)
		ap_obuf_append(r->out, "_\r\n", 3);
	else
		ap_obuf_append(r->out, "$-1\r\n", 5);
}

/* Null array: *-1 (RESP2) or _ (RESP3). */
void ap_reply_null_array(struct ap_reply *r)
{
	if (r->proto == 3)
		ap_obuf_append(r->out, "_\r\n", 3);
	else
		ap_obuf_append(r->out, "*-1\r\n", 5);
}

/* *n: n elements follow. */
void ap_reply_array(struct ap_reply *r, size_t n)
{
	put_header(r, '*', agg_len(n));
}

/* %n (RESP3) or *2n (RESP2): n key/value pairs follow. */
void ap_reply_map(struct ap_reply *r, size_t n)
{
	if (r->proto == 3)
		put_header(r, '%', agg_len(n));
	else
		put_header(r, '*', agg_len(n) * 2);
}

/* ~n (RESP3) or *n (RESP2). */
void ap_reply_set(struct ap_reply *r, size_t n)
{
	put_header(r, r->proto == 3 ? '~' : '*', agg_len(n));
}

/* >n (RESP3) or *n (RESP2). */
void ap_reply_push(struct ap_reply *r, size_t n)
{
	put_header(r, r->proto == 3 ? '>' : '*', agg_len(n));
}

/* ,d (RESP3) or a bulk string of the same %.17g text (RESP2). */
void ap_reply_double(struct ap_reply *r, double d)
{
	if (r->proto == 2) {
		char buf[64];
		put_blob(r, '$', "", 0, buf, ap_d_to_str(buf, d));
		return;
	}
	char *q = ap_obuf_reserve(r->out, 64 + 3);
	q[0] = ',';
	size_t n = 1 + ap_d_to_str(q + 1, d);
	q[n] = '\r';
	q[n + 1] = '\n';
	ap_obuf_commit(r->out, n + 2);
}

/* #t/#f (RESP3) or :1/:0 (RESP2). */
void ap_reply_bool(struct ap_reply *r, bool b)
{
	if (r->proto == 3)
		ap_obuf_append(r->out, b ? "#t\r\n" : "#f\r\n", 4);
	else
		ap_obuf_append(r->out, b ? ":1\r\n" : ":0\r\n", 4);
}

/* =len\r\nfmt:payload\r\n (RESP3, fmt is 3 characters) or a bulk. */
void ap_reply_verbatim(struct ap_reply *r, const char *p, size_t len,
		       const char *format)
{
	if (r->proto == 2) {
		put_blob(r, '$', "", 0, p, len);
		return;
	}
	char pre[4];

	AP_ASSERT(strlen(format) == 3);
	memcpy(pre, format, 3);
	pre[3] = ':';
	put_blob(r, '=', pre, 4, p, len);
}

/* Appends bytes already in RESP form. */
void ap_reply_raw(struct ap_reply *r, const void *p, size_t len)
{
	ap_obuf_append(r->out, p, len);
}

/*
 * Opens an aggregate of kind '*', '%', '~' or '>' whose length is set by
 * ap_reply_deferred_end(). Elements written meanwhile go after a
 * placeholder chunk that will hold the header.
 */
void ap_reply_deferred_begin(struct ap_reply *r, struct ap_reply_deferred *d,
			     char kind)
{
	AP_ASSERT(kind == '*' || kind == '%' || kind == '~' || kind == '>');
	struct ap_obuf_chunk *c = chunk_create(DEFERRED_CAP);

	c->cap = 0; /* closed to writers until the end */
	chunk_link(r->out, c);
	d->chunk = c;
	d->kind = kind;
}

/* Writes the header of the deferred aggregate d with n elements (n pairs
 * for a map) in r's protocol. */
void ap_reply_deferred_end(struct ap_reply *r, struct ap_reply_deferred *d,
			   size_t n)
{
	struct ap_obuf_chunk *c = d->chunk;
	long long count = agg_len(n);
	char type = d->kind;

	AP_ASSERT(c != NULL && c->cap == 0 && c->len == 0);
	if (r->proto == 2) {
		if (type == '%')
			count *= 2;
		type = '*';
	}
	c->len = (uint32_t)header_format(c->data, type, count);
	c->cap = DEFERRED_CAP;
	r->out->len += c->len;
	d->chunk = NULL;
}
