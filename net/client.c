/*
 * client.c - client-side codec: RESP request encoding, an incremental
 * RESP2/RESP3 and memcached-binary reply parser, MOVED/ASK decoding and a
 * full decoder for captured replies. See client.h for the contracts.
 *
 * The parser is a small state machine: TYPE (expect a type byte), LINE
 * (inside a header or simple line), BULK (inside a bulk payload), and for
 * memcached MC_HDR / MC_BODY. Aggregates push a level holding the number
 * of elements still expected; an element that completes pops finished
 * levels until one still expects more. A reply is complete when that walk
 * reaches depth 0. Lines that arrive whole are parsed in place; only a
 * line split across calls is copied (its first bytes) into p->text.
 */
#include "net/client.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum parser_state {
	ST_TYPE = 0,
	ST_LINE = 1,
	ST_BULK = 2,
	ST_MC_HDR = 3,
	ST_MC_BODY = 4,
};

/* Longest numeric header line: "-9223372036854775808" plus slack. */
#define NUM_LINE_MAX 32

/* ------------------------------------------------------------ encoding */

/* Number of decimal digits of v. */
size_t ap_client_u64_dec_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* Writes v in decimal without a terminator; returns its length. */
size_t ap_client_u64_to_dec(char *buf, uint64_t v)
{
	size_t n = ap_client_u64_dec_len(v);
	size_t i = n;

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return n;
}

/* Writes a one-character prefix, n in decimal and CRLF. */
static size_t enc_head(char *buf, char prefix, uint64_t n)
{
	size_t len = 1;

	buf[0] = prefix;
	len += ap_client_u64_to_dec(buf + 1, n);
	buf[len++] = '\r';
	buf[len++] = '\n';
	return len;
}

/* Writes "*n\r\n"; returns its length. */
size_t ap_client_enc_array(char *buf, uint64_t n)
{
	return enc_head(buf, '*', n);
}

/* Writes "$len\r\n"; returns its length. */
size_t ap_client_enc_bulk_head(char *buf, uint64_t len)
{
	return enc_head(buf, '$', len);
}

/* Writes a whole bulk string; returns its length. */
size_t ap_client_enc_bulk(char *buf, const void *p, size_t len)
{
	size_t n = ap_client_enc_bulk_head(buf, len);

	if (len > 0)
		memcpy(buf + n, p, len);
	n += len;
	buf[n++] = '\r';
	buf[n++] = '\n';
	return n;
}

/* Wire size of a bulk string of len payload bytes. */
size_t ap_client_bulk_len(size_t len)
{
	return 1 + ap_client_u64_dec_len(len) + 2 + len + 2;
}

/* Wire size of a command of argc bulk strings. */
size_t ap_client_cmd_len(int argc, const size_t *lens)
{
	size_t n = 1 + ap_client_u64_dec_len((uint64_t)argc) + 2;

	AP_ASSERT(argc >= 0);
	for (int i = 0; i < argc; i++)
		n += ap_client_bulk_len(lens[i]);
	return n;
}

/* Encodes a command; buf holds ap_client_cmd_len() bytes. */
size_t ap_client_cmd_encode(char *buf, int argc, const char *const *argv,
			    const size_t *lens)
{
	size_t n = ap_client_enc_array(buf, (uint64_t)argc);

	for (int i = 0; i < argc; i++)
		n += ap_client_enc_bulk(buf + n, argv[i], lens[i]);
	return n;
}

/* Stores v big-endian in 2 or 4 bytes. */
static void put_be16(char *p, uint16_t v)
{
	p[0] = (char)(v >> 8);
	p[1] = (char)v;
}

static void put_be32(char *p, uint32_t v)
{
	p[0] = (char)(v >> 24);
	p[1] = (char)(v >> 16);
	p[2] = (char)(v >> 8);
	p[3] = (char)v;
}

/* Writes a memcached binary request header (key length fits 16 bits,
 * extras 8 bits: callers bound them). */
size_t ap_client_mc_header(char *buf, uint8_t opcode, size_t key_len,
			   size_t extras_len, size_t value_len, uint32_t opaque)
{
	AP_ASSERT(key_len <= UINT16_MAX && extras_len <= UINT8_MAX);
	AP_ASSERT(key_len + extras_len + value_len <= UINT32_MAX);
	memset(buf, 0, AP_CLIENT_MC_HDR_LEN);
	buf[0] = (char)AP_CLIENT_MC_REQ_MAGIC;
	buf[1] = (char)opcode;
	put_be16(buf + 2, (uint16_t)key_len);
	buf[4] = (char)extras_len;
	put_be32(buf + 8, (uint32_t)(extras_len + key_len + value_len));
	put_be32(buf + 12, opaque);
	return AP_CLIENT_MC_HDR_LEN;
}

/* Writes a whole memcached binary request; returns its length. */
size_t ap_client_mc_encode(char *buf, uint8_t opcode, const void *key,
			   size_t key_len, const void *extras,
			   size_t extras_len, const void *value,
			   size_t value_len, uint32_t opaque)
{
	size_t n = ap_client_mc_header(buf, opcode, key_len, extras_len,
				       value_len, opaque);

	if (extras_len > 0)
		memcpy(buf + n, extras, extras_len);
	n += extras_len;
	if (key_len > 0)
		memcpy(buf + n, key, key_len);
	n += key_len;
	if (value_len > 0)
		memcpy(buf + n, value, value_len);
	return n + value_len;
}

/* SET/ADD/REPLACE extras: flags then expiration, both big-endian. */
void ap_client_mc_set_extras(char *out8, uint32_t flags, uint32_t exptime)
{
	put_be32(out8, flags);
	put_be32(out8 + 4, exptime);
}

/* ------------------------------------------------------- parser set-up */

/* Initializes a parser for one connection speaking `proto`. */
void ap_client_parser_init(struct ap_client_parser *p,
			   enum ap_client_proto proto)
{
	memset(p, 0, sizeof(*p));
	p->proto = proto;
	ap_client_parser_reset(p);
}

/* Releases the capture buffer; the parser may be initialized again. */
void ap_client_parser_deinit(struct ap_client_parser *p)
{
	ap_free(p->cap);
	p->cap = NULL;
	p->cap_size = p->cap_len = p->cap_max = 0;
}

/* Drops any partial reply; settings (keep_bulk, capture) stay. */
void ap_client_parser_reset(struct ap_client_parser *p)
{
	p->state = p->proto == AP_CLIENT_PROTO_MC_BIN ? ST_MC_HDR : ST_TYPE;
	p->depth = 0;
	p->bulk_left = 0;
	p->line_len = 0;
	p->line_cr = false;
	p->keeping = false;
	p->text_len = 0;
	p->wire_len = 0;
	p->mc_have = 0;
	p->cap_len = 0;
	p->cap_truncated = false;
	p->err = NULL;
	memset(&p->cur, 0, sizeof(p->cur));
}

/* Turns keeping of top-level bulk string text on or off. */
void ap_client_parser_keep_bulk(struct ap_client_parser *p, bool on)
{
	p->keep_bulk = on;
}

/* Sets the capture limit (0 = off); the buffer grows as replies need. */
void ap_client_parser_capture(struct ap_client_parser *p, size_t max_len)
{
	p->cap_max = max_len;
	p->cap_len = 0;
	p->cap_truncated = false;
}

/* Appends consumed bytes of the current reply to the capture. */
static void capture_add(struct ap_client_parser *p, const char *buf, size_t len)
{
	size_t room = p->cap_max - p->cap_len;

	if (len > room) {
		p->cap_truncated = true;
		len = room;
	}
	if (len == 0)
		return;
	if (p->cap_len + len > p->cap_size) {
		size_t want = p->cap_size ? p->cap_size : 256;

		while (want < p->cap_len + len)
			want *= 2;
		if (want > p->cap_max)
			want = p->cap_max;
		p->cap = ap_realloc(p->cap, want);
		p->cap_size = want;
	}
	memcpy(p->cap + p->cap_len, buf, len);
	p->cap_len += len;
}

/* Appends up to the keep limit to p->text. */
static void text_add(struct ap_client_parser *p, const char *s, size_t n)
{
	size_t room = AP_CLIENT_TEXT_KEEP - p->text_len;

	if (n > room)
		n = room;
	memcpy(p->text + p->text_len, s, n);
	p->text_len += n;
}

/* Fails the parse with a static message. */
static int proto_fail(struct ap_client_parser *p, const char *msg)
{
	p->err = msg;
	return AP_CLIENT_PROTO_ERR;
}

/* ------------------------------------------------------------ RESP */

/* True for every RESP2/RESP3 type byte this parser understands. */
static bool resp_type_known(char t)
{
	return strchr("+-:$*_,#!=(%~>|", t) != NULL && t != '\0';
}

/* Types whose line is a number (length, count or integer). */
static bool resp_type_numeric(char t)
{
	return strchr("$*:!=%~>|", t) != NULL && t != '\0';
}

/* Types whose top-level text the parser keeps. */
static bool resp_type_kept(const struct ap_client_parser *p, char t)
{
	if (t == '$')
		return p->keep_bulk;
	return strchr("+-(,!=", t) != NULL && t != '\0';
}

/* Strict signed decimal: optional '-', 1..19 digits, no overflow. */
static bool parse_ll(const char *s, size_t n, long long *out)
{
	bool neg = false;
	unsigned long long v = 0;
	size_t i = 0;

	if (n > 0 && s[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == n || n - i > 19)
		return false;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	if (v > (unsigned long long)LLONG_MAX + (neg ? 1ULL : 0ULL))
		return false;
	*out = neg ? (long long)(0ULL - v) : (long long)v;
	return true;
}

/*
 * An element finished: walk up the aggregate stack. Returns true when the
 * top-level reply is complete. A finished attribute does not count as an
 * element of its parent: the value it annotates comes next.
 */
static bool elem_done(struct ap_client_parser *p)
{
	while (p->depth > 0) {
		struct ap_client_level *lv = &p->level[p->depth - 1];

		if (--lv->remain > 0)
			return false;
		p->depth--;
		if (lv->is_attr)
			return false;
	}
	return true;
}

/* Opens an aggregate of n elements (n > 0). */
static int push_level(struct ap_client_parser *p, long long n, bool is_attr)
{
	if (p->depth == AP_CLIENT_DEPTH_MAX)
		return proto_fail(p, "Protocol error: reply nested too deeply");
	p->level[p->depth].remain = n;
	p->level[p->depth].is_attr = is_attr;
	p->depth++;
	return 0;
}

/* Handles an aggregate header with count n. Returns 1 when the element is
 * already complete (null or empty), 0 when a level was opened, or a
 * protocol error. */
static int resp_aggregate(struct ap_client_parser *p, char t, long long n,
			  bool top)
{
	if (n < -1 || (n == -1 && (t == '%' || t == '|' || t == '~')))
		return proto_fail(p,
				  "Protocol error: invalid multibulk length");
	if (top && t != '|')
		p->cur.value = n;
	if (n == -1) {
		if (top)
			p->cur.is_null = true;
		return 1;
	}
	if (n == 0)
		return t == '|' ? 2 : 1;
	if (t == '%' || t == '|') {
		if (n > LLONG_MAX / 2)
			return proto_fail(p,
					  "Protocol error: invalid map length");
		n *= 2;
	}
	int rc = push_level(p, n, t == '|');

	return rc < 0 ? rc : 0;
}

/*
 * A header or simple line is complete: s[0..n) without CRLF (at most
 * AP_CLIENT_TEXT_KEEP bytes of it for long text lines). Returns 1 when
 * the element is complete, 0 when more input belongs to it (bulk payload
 * or aggregate elements), 2 for an empty attribute (nothing completes),
 * or a protocol error.
 */
static int resp_line_done(struct ap_client_parser *p, const char *s, size_t n)
{
	char t = p->type;
	bool top = p->depth == 0;
	long long v = 0;

	if (resp_type_numeric(t)) {
		if (n == 1 && s[0] == '?')
			return proto_fail(p, "Protocol error: streamed RESP3 "
					     "types are not supported");
		if (!parse_ll(s, n, &v))
			return proto_fail(p, "Protocol error: invalid number");
	}
	if (top && p->keeping && s != p->text) {
		p->text_len = 0;
		text_add(p, s, n);
	}
	switch (t) {
	case '+':
	case '-':
	case ',':
		return 1;
	case '(':
		if (n == 0)
			return proto_fail(p,
					  "Protocol error: invalid big number");
		return 1;
	case ':':
		if (top)
			p->cur.value = v;
		return 1;
	case '#':
		if (n != 1 || (s[0] != 't' && s[0] != 'f'))
			return proto_fail(p, "Protocol error: invalid boolean");
		if (top)
			p->cur.value = s[0] == 't';
		return 1;
	case '_':
		if (n != 0)
			return proto_fail(p, "Protocol error: invalid null");
		if (top)
			p->cur.is_null = true;
		return 1;
	case '$':
	case '!':
	case '=':
		if (v < -1 || (v == -1 && t != '$'))
			return proto_fail(
				p, "Protocol error: invalid bulk length");
		if (top)
			p->cur.value = v;
		if (v == -1) {
			if (top)
				p->cur.is_null = true;
			return 1;
		}
		p->bulk_left = (uint64_t)v + 2;
		p->text_len = 0;
		p->state = ST_BULK;
		return 0;
	default: {
		int rc = resp_aggregate(p, t, v, top);

		if (rc == 0)
			p->state = ST_TYPE; /* its first element follows */
		return rc;
	}
	}
}

/*
 * Consumes bytes of the current line from buf[0..len). Returns the
 * element status of resp_line_done() once the line is complete, or 3
 * when the line continues past this input. *used is set either way.
 */
static int resp_line_step(struct ap_client_parser *p, const char *buf,
			  size_t len, size_t *used)
{
	const char *nl = memchr(buf, '\n', len);
	size_t n = nl ? (size_t)(nl - buf) : len;
	bool numeric = resp_type_numeric(p->type);
	size_t line_max = numeric ? NUM_LINE_MAX : AP_CLIENT_LINE_MAX;

	*used = nl ? n + 1 : n;
	if (p->line_len + n > line_max + 1)
		return proto_fail(p, "Protocol error: reply line too long");
	if (nl == NULL) {
		if (n > 0)
			p->line_cr = buf[n - 1] == '\r';
		text_add(p, buf, n); /* split lines are rare: keep the start */
		p->line_len += n;
		return 3;
	}
	bool cr = n > 0 ? buf[n - 1] == '\r' : p->line_cr;

	if (!cr)
		return proto_fail(p, "Protocol error: line without CR");
	if (p->line_len == 0)
		return resp_line_done(p, buf, n - 1);
	/* The line began in an earlier call: finish it in p->text. */
	size_t total = p->line_len + n - 1;

	text_add(p, buf, n);
	if (p->text_len > total)
		p->text_len = total; /* the stored CR */
	return resp_line_done(p, p->text, p->text_len);
}

/* Consumes bulk payload and its CRLF. Returns 1 when the bulk is
 * complete, 3 when more is needed, or a protocol error. */
static int resp_bulk_step(struct ap_client_parser *p, const char *buf,
			  size_t len, size_t *used)
{
	uint64_t n = len < p->bulk_left ? len : p->bulk_left;
	uint64_t payload_left = p->bulk_left > 2 ? p->bulk_left - 2 : 0;
	uint64_t payload = n < payload_left ? n : payload_left;

	if (p->keeping && p->depth == 0 && payload > 0)
		text_add(p, buf, (size_t)payload);
	for (uint64_t k = payload; k < n; k++) {
		char want = p->bulk_left - k == 2 ? '\r' : '\n';

		if (buf[k] != want)
			return proto_fail(p,
					  "Protocol error: bulk without CRLF");
	}
	p->bulk_left -= n;
	*used = (size_t)n;
	return p->bulk_left == 0 ? 1 : 3;
}

/* Starts a new element with type byte t. */
static int resp_start(struct ap_client_parser *p, char t)
{
	if (!resp_type_known(t))
		return proto_fail(p, "Protocol error: unknown reply type");
	p->type = t;
	p->state = ST_LINE;
	p->line_len = 0;
	p->line_cr = false;
	p->text_len = 0;
	p->keeping = p->depth == 0 && resp_type_kept(p, t);
	if (p->depth == 0 && t != '|') {
		p->cur.type = t;
		p->cur.is_error = t == '-' || t == '!';
		p->cur.is_push = t == '>';
	}
	return 0;
}

/* The top-level reply is complete: fill *out and get ready for the next. */
static void reply_finish(struct ap_client_parser *p,
			 struct ap_client_reply *out)
{
	*out = p->cur;
	out->text = p->text;
	out->text_len = p->keeping ? p->text_len : 0;
	out->wire_len = p->wire_len;
	memset(&p->cur, 0, sizeof(p->cur));
	p->wire_len = 0;
	p->keeping = false;
}

/* Runs the RESP machine over buf[0..len) until a reply completes. */
static int resp_parse(struct ap_client_parser *p, const char *buf, size_t len,
		      size_t *consumed)
{
	size_t i = 0;

	while (i < len) {
		size_t used = 0;
		int rc;

		if (p->state == ST_TYPE) {
			rc = resp_start(p, buf[i++]);
			if (rc < 0) {
				*consumed = i;
				return rc;
			}
			continue;
		}
		if (p->state == ST_LINE)
			rc = resp_line_step(p, buf + i, len - i, &used);
		else
			rc = resp_bulk_step(p, buf + i, len - i, &used);
		i += used;
		if (rc < 0) {
			*consumed = i;
			return rc;
		}
		if (rc == 3)
			break; /* the input ended inside this element */
		if (rc == 0)
			continue; /* bulk payload or aggregate follows */
		p->state = ST_TYPE;
		if (rc == 2) /* empty attribute: its value follows */
			continue;
		if (elem_done(p)) {
			*consumed = i;
			return AP_CLIENT_REPLY;
		}
	}
	*consumed = i;
	return AP_CLIENT_NEED_MORE;
}

/* ---------------------------------------------------- memcached binary */

/* Reads a big-endian 16/32-bit field of the saved header. */
static uint32_t mc_field(const uint8_t *h, int off, int bytes)
{
	uint32_t v = 0;

	for (int i = 0; i < bytes; i++)
		v = (v << 8) | h[off + i];
	return v;
}

/* Runs the memcached binary machine over buf[0..len). */
static int mc_parse(struct ap_client_parser *p, const char *buf, size_t len,
		    size_t *consumed)
{
	size_t i = 0;

	while (i < len) {
		if (p->state == ST_MC_HDR) {
			size_t n = AP_MIN(len - i,
					  AP_CLIENT_MC_HDR_LEN - p->mc_have);

			memcpy(p->mc_hdr + p->mc_have, buf + i, n);
			p->mc_have += n;
			i += n;
			if (p->mc_have < AP_CLIENT_MC_HDR_LEN)
				break;
			if (p->mc_hdr[0] != AP_CLIENT_MC_RES_MAGIC) {
				*consumed = i;
				return proto_fail(p,
						  "Protocol error: bad "
						  "memcached response magic");
			}
			uint32_t status = mc_field(p->mc_hdr, 6, 2);

			p->cur.type = AP_CLIENT_TYPE_MC;
			p->cur.value = status;
			p->cur.mc_opcode = p->mc_hdr[1];
			p->cur.mc_opaque = mc_field(p->mc_hdr, 12, 4);
			p->cur.is_null = status == AP_CLIENT_MC_KEY_ENOENT;
			p->cur.is_error = status != AP_CLIENT_MC_OK &&
					  status != AP_CLIENT_MC_KEY_ENOENT;
			p->keeping = p->cur.is_error;
			p->text_len = 0;
			p->bulk_left = mc_field(p->mc_hdr, 8, 4);
			p->state = ST_MC_BODY;
		}
		size_t n = (size_t)AP_MIN((uint64_t)(len - i), p->bulk_left);

		if (p->keeping)
			text_add(p, buf + i, n);
		i += n;
		p->bulk_left -= n;
		if (p->bulk_left == 0) {
			p->state = ST_MC_HDR;
			p->mc_have = 0;
			*consumed = i;
			return AP_CLIENT_REPLY;
		}
	}
	*consumed = i;
	return AP_CLIENT_NEED_MORE;
}

/* Parses until one reply completes or input ends; see client.h. */
int ap_client_parse(struct ap_client_parser *p, const char *buf, size_t len,
		    size_t *consumed, struct ap_client_reply *out)
{
	int rc;

	*consumed = 0;
	if (p->err != NULL)
		return AP_CLIENT_PROTO_ERR;
	if (len == 0)
		return AP_CLIENT_NEED_MORE;
	if (p->wire_len == 0 && p->cap_max > 0) {
		p->cap_len = 0;
		p->cap_truncated = false;
	}
	if (p->proto == AP_CLIENT_PROTO_MC_BIN)
		rc = mc_parse(p, buf, len, consumed);
	else
		rc = resp_parse(p, buf, len, consumed);
	if (rc < 0)
		return rc;
	p->wire_len += *consumed;
	if (p->cap_max > 0)
		capture_add(p, buf, *consumed);
	if (rc == AP_CLIENT_REPLY)
		reply_finish(p, out);
	return rc;
}

/* --------------------------------------------------------- redirection */

/* Decodes a MOVED or ASK error text into r. */
enum ap_client_redirect_kind
ap_client_redirect_parse(const char *text, size_t len,
			 struct ap_client_redirect *r)
{
	enum ap_client_redirect_kind kind;
	size_t i;
	long long slot;

	memset(r, 0, sizeof(*r));
	if (len > 6 && memcmp(text, "MOVED ", 6) == 0) {
		kind = AP_CLIENT_REDIRECT_MOVED;
		i = 6;
	} else if (len > 4 && memcmp(text, "ASK ", 4) == 0) {
		kind = AP_CLIENT_REDIRECT_ASK;
		i = 4;
	} else {
		return AP_CLIENT_REDIRECT_NONE;
	}
	const char *sp = memchr(text + i, ' ', len - i);

	if (sp == NULL || !parse_ll(text + i, (size_t)(sp - text) - i, &slot) ||
	    slot < 0 || slot >= AP_SLOTS)
		return AP_CLIENT_REDIRECT_NONE;
	i = (size_t)(sp - text) + 1;
	/* host:port; the port follows the last colon (IPv6 hosts). */
	const char *colon = NULL;

	for (size_t k = i; k < len; k++)
		if (text[k] == ':')
			colon = text + k;
	long long port;
	size_t host_len = colon ? (size_t)(colon - text) - i : 0;
	size_t port_off = colon ? (size_t)(colon - text) + 1 : len;

	if (colon == NULL || host_len >= sizeof(r->host) ||
	    !parse_ll(text + port_off, len - port_off, &port) || port < 0 ||
	    port > 65535)
		return AP_CLIENT_REDIRECT_NONE;
	memcpy(r->host, text + i, host_len);
	r->host[host_len] = '\0';
	r->slot = (unsigned)slot;
	r->port = (int)port;
	r->kind = kind;
	return kind;
}

/* ------------------------------------------------------- value decoding */

struct decoder {
	const char *buf;
	size_t len;
	size_t pos;
	const char *err;
};

/* Reads one CRLF-terminated line at d->pos. */
static bool dec_line(struct decoder *d, const char **s, size_t *n)
{
	const char *start = d->buf + d->pos;
	const char *nl = memchr(start, '\n', d->len - d->pos);

	if (nl == NULL || nl == start || nl[-1] != '\r') {
		d->err = nl ? "Protocol error: line without CR"
			    : "Protocol error: incomplete reply";
		return false;
	}
	*s = start;
	*n = (size_t)(nl - start) - 1;
	d->pos += *n + 2;
	return true;
}

static bool dec_value(struct decoder *d, struct ap_client_value *v, int depth);

/* Decodes the elements of an aggregate of n wire elements. */
static bool dec_elems(struct decoder *d, struct ap_client_value *v, long long n,
		      int depth)
{
	/* Every element takes at least 3 bytes: bound n by the input. */
	if ((unsigned long long)n > (d->len - d->pos) / 3) {
		d->err = "Protocol error: incomplete reply";
		return false;
	}
	v->elems = ap_calloc((size_t)n ? (size_t)n : 1, sizeof(*v->elems));
	for (long long k = 0; k < n; k++) {
		if (!dec_value(d, &v->elems[k], depth + 1)) {
			ap_client_value_free(&v->elems[k]);
			return false;
		}
		v->elem_count++;
	}
	return true;
}

/* Decodes a bulk payload of length n following its header. */
static bool dec_bulk(struct decoder *d, struct ap_client_value *v, long long n)
{
	if (n == -1 && v->type == '$') {
		v->is_null = true;
		return true;
	}
	if (n < 0 || (unsigned long long)n + 2 > d->len - d->pos) {
		d->err = n < 0 ? "Protocol error: invalid bulk length"
			       : "Protocol error: incomplete reply";
		return false;
	}
	const char *s = d->buf + d->pos;

	if (s[n] != '\r' || s[n + 1] != '\n') {
		d->err = "Protocol error: bulk without CRLF";
		return false;
	}
	v->str = s;
	v->str_len = (size_t)n;
	d->pos += (size_t)n + 2;
	return true;
}

/* Decodes one value (attributes are decoded and dropped). */
static bool dec_value(struct decoder *d, struct ap_client_value *v, int depth)
{
	const char *s;
	size_t n;
	long long num = 0;

	memset(v, 0, sizeof(*v));
	if (depth >= AP_CLIENT_DEPTH_MAX) {
		d->err = "Protocol error: reply nested too deeply";
		return false;
	}
	if (d->pos >= d->len) {
		d->err = "Protocol error: incomplete reply";
		return false;
	}
	char t = d->buf[d->pos++];

	if (!resp_type_known(t)) {
		d->err = "Protocol error: unknown reply type";
		return false;
	}
	if (!dec_line(d, &s, &n))
		return false;
	v->type = t;
	if (resp_type_numeric(t) && !parse_ll(s, n, &num)) {
		d->err = "Protocol error: invalid number";
		return false;
	}
	switch (t) {
	case '+':
	case '-':
	case '(':
		v->str = s;
		v->str_len = n;
		return true;
	case ',': {
		char tmp[64];
		size_t k = AP_MIN(n, sizeof(tmp) - 1);

		memcpy(tmp, s, k);
		tmp[k] = '\0';
		v->dbl = strtod(tmp, NULL);
		v->str = s;
		v->str_len = n;
		return true;
	}
	case ':':
		v->integer = num;
		return true;
	case '#':
		v->integer = n == 1 && s[0] == 't';
		if (n == 1 && (s[0] == 't' || s[0] == 'f'))
			return true;
		d->err = "Protocol error: invalid boolean";
		return false;
	case '_':
		v->is_null = true;
		return true;
	case '$':
	case '!':
	case '=':
		return dec_bulk(d, v, num);
	case '|': {
		struct ap_client_value attr = {.type = '|'};

		if (num < 0 || num > LLONG_MAX / 2 ||
		    !dec_elems(d, &attr, num * 2, depth)) {
			ap_client_value_free(&attr);
			if (d->err == NULL)
				d->err = "Protocol error: invalid map length";
			return false;
		}
		ap_client_value_free(&attr);
		return dec_value(d, v, depth);
	}
	default: /* * ~ > % */
		if (num == -1 && (t == '*' || t == '>')) {
			v->is_null = true;
			return true;
		}
		if (num < 0 || (t == '%' && num > LLONG_MAX / 2)) {
			d->err = "Protocol error: invalid multibulk length";
			return false;
		}
		return dec_elems(d, v, t == '%' ? num * 2 : num, depth);
	}
}

/* Decodes one complete reply from buf; see client.h. */
long long ap_client_value_decode(const char *buf, size_t len,
				 struct ap_client_value *out, const char **err)
{
	struct decoder d = {.buf = buf, .len = len};

	*err = NULL;
	if (!dec_value(&d, out, 0)) {
		ap_client_value_free(out);
		*err = d.err;
		return AP_CLIENT_PROTO_ERR;
	}
	return (long long)d.pos;
}

/* Frees the element arrays of a decoded value, recursively. */
void ap_client_value_free(struct ap_client_value *v)
{
	if (v->elems != NULL) {
		for (size_t i = 0; i < v->elem_count; i++)
			ap_client_value_free(&v->elems[i]);
		ap_free(v->elems);
	}
	v->elems = NULL;
	v->elem_count = 0;
}
