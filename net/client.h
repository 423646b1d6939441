/*
 * client.h - the client side of the wire protocols: encode requests, parse
 * replies incrementally. Used by apiary-bench and by the cluster bus; it
 * knows nothing of either.
 *
 * RESP encoding writes into caller-sized buffers (ap_client_cmd_len() says
 * how much), so a caller can pre-size one buffer and never allocate per
 * request.
 *
 * Reply parsing is a resumable state machine over RESP2 and RESP3
 * (+ - : $ * _ , # ! = ( % ~ > |) and over memcached binary responses. It
 * never needs old input again: the caller may hand it any split of the byte
 * stream (one byte at a time included) and recycle each buffer right after
 * the call. It counts complete top-level replies and keeps only what is
 * cheap: the top-level type, length or integer, error and null flags, and
 * the first AP_CLIENT_TEXT_KEEP bytes of a top-level simple string, error,
 * blob error or (on request) bulk string. MOVED/ASK errors are decoded from
 * that text. A caller that needs the whole reply (CLUSTER SLOTS, HELLO)
 * turns on capture and decodes the captured bytes with
 * ap_client_value_decode().
 *
 * Bounds: nesting is limited to AP_CLIENT_DEPTH_MAX, header and simple
 * lines to AP_CLIENT_LINE_MAX bytes, captures to the caller's limit;
 * nothing is allocated from a length the peer sent. Streamed RESP3
 * aggregates and strings ("$?", "*?") are rejected as protocol errors.
 *
 * Threading: a parser belongs to one connection; everything else is pure.
 */
#ifndef AP_NET_CLIENT_H
#define AP_NET_CLIENT_H

#include "core/base.h"
#include "core/limits.h"

/* ------------------------------------------------------------ encoding */

/* Bytes needed to write v in decimal (1..20). */
size_t ap_client_u64_dec_len(uint64_t v);
/* Writes v in decimal (no terminator); returns the length. */
size_t ap_client_u64_to_dec(char *buf, uint64_t v);
/* Writes "*n\r\n"; returns the length (at most 24). */
size_t ap_client_enc_array(char *buf, uint64_t n);
/* Writes "$len\r\n" (the header of a bulk string); at most 24 bytes. */
size_t ap_client_enc_bulk_head(char *buf, uint64_t len);
/* Writes "$len\r\n<p>\r\n"; returns the length. */
size_t ap_client_enc_bulk(char *buf, const void *p, size_t len);
/* Bytes a bulk string of len payload bytes takes on the wire. */
size_t ap_client_bulk_len(size_t len);
/* Bytes the RESP array command argv[0..argc) takes on the wire. */
size_t ap_client_cmd_len(int argc, const size_t *lens);
/* Writes the command as a RESP array of bulk strings into buf, which must
 * hold ap_client_cmd_len() bytes; returns that length. */
size_t ap_client_cmd_encode(char *buf, int argc, const char *const *argv,
			    const size_t *lens);

/* Memcached binary protocol (requests: magic 0x80, 24-byte header). */
#define AP_CLIENT_MC_HDR_LEN   24
#define AP_CLIENT_MC_REQ_MAGIC 0x80
#define AP_CLIENT_MC_RES_MAGIC 0x81
enum ap_client_mc_op {
	AP_CLIENT_MC_GET = 0x00,
	AP_CLIENT_MC_SET = 0x01,
	AP_CLIENT_MC_DELETE = 0x04,
	AP_CLIENT_MC_NOOP = 0x0a,
	AP_CLIENT_MC_VERSION = 0x0b,
};
/* Response status codes that matter to a client. */
enum ap_client_mc_status {
	AP_CLIENT_MC_OK = 0x0000,
	AP_CLIENT_MC_KEY_ENOENT = 0x0001,
};
/* Writes a request header for a body of extras, key and value of the given
 * lengths (the caller appends them in that order). Returns 24. */
size_t ap_client_mc_header(char *buf, uint8_t opcode, size_t key_len,
			   size_t extras_len, size_t value_len,
			   uint32_t opaque);
/* Writes a whole request; extras/key/value may be NULL when their length
 * is 0. buf holds 24 + extras_len + key_len + value_len bytes. */
size_t ap_client_mc_encode(char *buf, uint8_t opcode, const void *key,
			   size_t key_len, const void *extras,
			   size_t extras_len, const void *value,
			   size_t value_len, uint32_t opaque);
/* The 8 bytes of SET extras: flags and expiration, big-endian. */
void ap_client_mc_set_extras(char *out8, uint32_t flags, uint32_t exptime);

/* ------------------------------------------------------------- parsing */

enum ap_client_proto {
	AP_CLIENT_PROTO_RESP = 0,   /* RESP2 and RESP3 replies */
	AP_CLIENT_PROTO_MC_BIN = 1, /* memcached binary responses */
};

/* The type reported for a memcached binary response. */
#define AP_CLIENT_TYPE_MC 'M'

/* A complete top-level reply. `text` points into the parser and is valid
 * until the next call on it. */
struct ap_client_reply {
	char type;	   /* RESP type byte, or AP_CLIENT_TYPE_MC */
	bool is_error;	   /* '-', '!', or a memcached error status */
	bool is_null;	   /* RESP null ($-1, *-1, _), memcached KEY_ENOENT */
	bool is_push;	   /* RESP3 out-of-band push ('>'): not a reply */
	long long value;   /* ':' integer, '#' 0/1, length of '$' '!' '=',
			      element count of '*' '~' '>' '%' (pairs),
			      memcached status */
	const char *text;  /* first bytes of a top-level + - ( , ! = (and $
			      if asked); memcached: error body */
	size_t text_len;   /* at most AP_CLIENT_TEXT_KEEP */
	uint64_t wire_len; /* bytes the whole reply took */
	uint8_t mc_opcode; /* memcached: opcode of the response */
	uint32_t mc_opaque;
};

struct ap_client_level {
	long long remain; /* elements still expected at this level */
	bool is_attr;	  /* RESP3 attribute: annotates the next element */
};

struct ap_client_parser {
	enum ap_client_proto proto;
	int state; /* private: where the machine stands */
	char type; /* type byte of the element being parsed */
	int depth; /* aggregates open */
	struct ap_client_level level[AP_CLIENT_DEPTH_MAX];
	uint64_t bulk_left; /* payload + CRLF bytes still to come */
	size_t line_len;    /* bytes of the current line seen so far */
	bool line_cr;	    /* the last byte seen of the line was '\r' */
	bool keep_bulk;	    /* keep the start of top-level bulk strings */
	bool keeping;	    /* the current element's text is being kept */
	char text[AP_CLIENT_TEXT_KEEP];
	size_t text_len;
	struct ap_client_reply cur; /* the top-level reply being parsed */
	uint64_t wire_len;
	/* memcached binary */
	uint8_t mc_hdr[AP_CLIENT_MC_HDR_LEN];
	size_t mc_have;
	/* optional capture of each top-level reply's raw bytes */
	char *cap;
	size_t cap_len, cap_size, cap_max;
	bool cap_truncated;
	const char *err; /* protocol error message, static */
};

/* Return values of ap_client_parse(). */
enum ap_client_status {
	AP_CLIENT_NEED_MORE = 0,  /* all input consumed, no reply completed */
	AP_CLIENT_REPLY = 1,	  /* a top-level reply completed */
	AP_CLIENT_PROTO_ERR = -1, /* malformed input; p->err says why */
};

void ap_client_parser_init(struct ap_client_parser *p,
			   enum ap_client_proto proto);
/* Frees the capture buffer. */
void ap_client_parser_deinit(struct ap_client_parser *p);
/* Forgets any partial reply (after a reconnect). Keeps the settings. */
void ap_client_parser_reset(struct ap_client_parser *p);
/* Keep the first AP_CLIENT_TEXT_KEEP bytes of top-level bulk strings. */
void ap_client_parser_keep_bulk(struct ap_client_parser *p, bool on);
/* Capture each top-level reply's raw bytes, up to max_len bytes (0 turns
 * capture off). A longer reply sets cap_truncated. The capture of the
 * last completed reply stays in p->cap[0..cap_len) until the next call. */
void ap_client_parser_capture(struct ap_client_parser *p, size_t max_len);

/*
 * Parses buf[0..len) until one top-level reply completes or the input is
 * used up, and stores the bytes used in *consumed. Returns AP_CLIENT_REPLY
 * (reply in *out), AP_CLIENT_NEED_MORE (every byte consumed, state kept:
 * buf may be reused), or AP_CLIENT_PROTO_ERR (p->err set; the connection
 * cannot be trusted any more).
 */
AP_MUST_CHECK int ap_client_parse(struct ap_client_parser *p, const char *buf,
				  size_t len, size_t *consumed,
				  struct ap_client_reply *out);

/* Redirections in Redis Cluster errors. */
enum ap_client_redirect_kind {
	AP_CLIENT_REDIRECT_NONE = 0,
	AP_CLIENT_REDIRECT_MOVED = 1,
	AP_CLIENT_REDIRECT_ASK = 2,
};
struct ap_client_redirect {
	enum ap_client_redirect_kind kind;
	unsigned slot;
	char host[64]; /* as the error wrote it (IPv6 without brackets) */
	int port;
};
/* Decodes "MOVED <slot> <host>:<port>" or "ASK ..." (the text of an error
 * reply, without '-'). Returns the kind; NONE for any other or malformed
 * text (r->kind then NONE as well). */
enum ap_client_redirect_kind
ap_client_redirect_parse(const char *text, size_t len,
			 struct ap_client_redirect *r);

/* --------------------------------------------------- full value decoding */

/* A decoded reply. Strings point into the buffer that was decoded and are
 * valid as long as it is; element arrays are owned by the value. Maps and
 * attributes-free RESP3 aggregates keep their wire order (a map of n pairs
 * has 2n elements). */
struct ap_client_value {
	char type; /* RESP type byte */
	bool is_null;
	long long integer; /* ':' and '#' (1 true, 0 false) */
	double dbl;	   /* ',' */
	const char *str;   /* + - $ ! = ( , text */
	size_t str_len;
	size_t elem_count; /* * ~ > % (2 per pair) */
	struct ap_client_value *elems;
};

/* Decodes one complete RESP reply from buf[0..len) (e.g. a parser's
 * capture). Returns the bytes it took (> 0) with *out filled (free it with
 * ap_client_value_free), or AP_CLIENT_PROTO_ERR for malformed or incomplete
 * input (*err set). Attributes are skipped. */
AP_MUST_CHECK long long ap_client_value_decode(const char *buf, size_t len,
					       struct ap_client_value *out,
					       const char **err);
/* Frees what a decoded value owns (not the value struct itself). */
void ap_client_value_free(struct ap_client_value *v);

#endif
