/*
 * reply.h - output buffers and the RESP2/RESP3 reply writer.
 *
 * struct ap_obuf is a list of chunks (AP_OBUF_CHUNK_SIZE, or bigger for one
 * big reply). Writers append at the tail; the network layer sends from the
 * head and frees sent chunks. A whole chunk list can be moved from one obuf
 * to another without copying (a reply computed on another shard is spliced
 * into the connection's output).
 *
 * struct ap_reply writes RESP values into an obuf in the protocol version
 * the client chose (HELLO 2|3): aggregate headers, nulls, maps, sets,
 * doubles and booleans are written in the RESP3 form or their RESP2
 * fallback, exactly as Redis does.
 *
 * Threading: an obuf belongs to one thread at a time; ownership moves with
 * the cross-shard message that carries it. Chunks may be freed by another
 * thread than the one that allocated them.
 */
#ifndef AP_CORE_REPLY_H
#define AP_CORE_REPLY_H

#include "core/base.h"

struct ap_obuf_chunk {
	struct ap_obuf_chunk *next;
	uint32_t len;  /* bytes written */
	uint32_t cap;  /* bytes available in data */
	uint32_t sent; /* bytes already sent (network layer) */
	char data[];
};

struct ap_obuf {
	struct ap_obuf_chunk *head;
	struct ap_obuf_chunk *tail;
	size_t len; /* bytes written and not yet consumed */
};

void ap_obuf_init(struct ap_obuf *b);
/* Frees every chunk. */
void ap_obuf_deinit(struct ap_obuf *b);
/* Returns a pointer to at least n contiguous writable bytes at the tail;
 * follow with ap_obuf_commit(b, written). */
char *ap_obuf_reserve(struct ap_obuf *b, size_t n);
void ap_obuf_commit(struct ap_obuf *b, size_t n);
void ap_obuf_append(struct ap_obuf *b, const void *p, size_t n);
/* Moves all of src's chunks to the end of dst; src becomes empty. */
void ap_obuf_splice(struct ap_obuf *dst, struct ap_obuf *src);
/* Marks n bytes at the head as consumed, freeing finished chunks. */
void ap_obuf_consume(struct ap_obuf *b, size_t n);
/* Copies the whole content into one contiguous buffer (tests, merges);
 * the caller frees it with ap_free. */
char *ap_obuf_flatten(const struct ap_obuf *b, size_t *len);

/* Called for every error reply, with its text (no leading '-', no CRLF),
 * so the owner can count INFO errorstats. */
typedef void ap_reply_error_fn(void *ctx, const char *msg, size_t len);

struct ap_reply {
	struct ap_obuf *out;
	uint8_t proto;	 /* 2 or 3 */
	uint32_t errors; /* error replies written */
	ap_reply_error_fn *on_error;
	void *on_error_ctx;
};

void ap_reply_init(struct ap_reply *r, struct ap_obuf *out, int proto);

void ap_reply_ok(struct ap_reply *r);
/* +text; text must not contain CR or LF. */
void ap_reply_status(struct ap_reply *r, const char *text);
/* -text. If text does not start with an upper-case error code followed by
 * a space (ERR, WRONGTYPE, ...), "ERR " is prepended, as Redis does. */
void ap_reply_error(struct ap_reply *r, const char *text);
void ap_reply_errorf(struct ap_reply *r, const char *fmt, ...) AP_PRINTF(2, 3);
void ap_reply_int(struct ap_reply *r, long long v);
void ap_reply_bulk(struct ap_reply *r, const void *p, size_t len);
void ap_reply_bulk_cstr(struct ap_reply *r, const char *s);
void ap_reply_bulk_ll(struct ap_reply *r, long long v);
/* Null bulk: $-1 in RESP2, _ in RESP3. */
void ap_reply_null(struct ap_reply *r);
/* Null array: *-1 in RESP2, _ in RESP3. */
void ap_reply_null_array(struct ap_reply *r);
void ap_reply_array(struct ap_reply *r, size_t n);
/* n key/value pairs: %n in RESP3, *2n in RESP2. */
void ap_reply_map(struct ap_reply *r, size_t n);
/* ~n in RESP3, *n in RESP2. */
void ap_reply_set(struct ap_reply *r, size_t n);
/* >n in RESP3, *n in RESP2. */
void ap_reply_push(struct ap_reply *r, size_t n);
/* ,d in RESP3; a bulk string of Redis's %.17g form in RESP2. */
void ap_reply_double(struct ap_reply *r, double d);
/* #t/#f in RESP3; :1/:0 in RESP2. */
void ap_reply_bool(struct ap_reply *r, bool b);
/* =len\r\ntxt:... in RESP3 (format is 3 chars, e.g. "txt"); bulk in RESP2. */
void ap_reply_verbatim(struct ap_reply *r, const char *p, size_t len,
		       const char *format);
/* Bytes already in RESP form, appended as they are. */
void ap_reply_raw(struct ap_reply *r, const void *p, size_t len);

/* Aggregates whose length is known only after writing their elements
 * (KEYS, SCAN): begin, write elements, then set the count. */
struct ap_reply_deferred {
	struct ap_obuf_chunk *chunk; /* placeholder chunk */
	char kind;		     /* '*', '%', '~' */
};
void ap_reply_deferred_begin(struct ap_reply *r, struct ap_reply_deferred *d,
			     char kind);
void ap_reply_deferred_end(struct ap_reply *r, struct ap_reply_deferred *d,
			   size_t n);

#endif
