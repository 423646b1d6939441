/*
 * resp.h - the RESP request parser (server side): multibulk (*N $len ...)
 * and inline (telnet-style) commands, incremental and bounded.
 *
 * The parser never copies payload: arguments are recorded as offsets from
 * the start of the command, so the caller may move its buffer (grow it)
 * between calls. State survives a partial command, so a command with a
 * million arguments or a 512 MB bulk arriving in many reads is scanned once
 * (linear, not quadratic). The caller presents the bytes from the start of
 * the current command every time; after a complete command the caller
 * drops `consumed` bytes and calls ap_resp_req_reset().
 *
 * Limits (struct ap_resp_limits) are checked as bytes arrive; nothing is
 * allocated from a length the client sent: the argument array grows as
 * arguments actually arrive.
 *
 * Threading: a struct ap_resp_req belongs to one connection.
 */
#ifndef AP_NET_RESP_H
#define AP_NET_RESP_H

#include "core/base.h"
#include "core/cmd.h"

struct ap_resp_limits {
	long long bulk_len_max; /* proto-max-bulk-len */
	int argc_max;		/* AP_ARGC_MAX */
	size_t inline_max;	/* AP_INLINE_MAX_LEN */
};

struct ap_resp_argoff {
	size_t off; /* from the start of the command */
	size_t len;
};

struct ap_resp_req {
	/* Parsing state of the current command. */
	long long argc_expected; /* -1: header not parsed yet */
	long long bulk_len;	 /* -1: no bulk in progress */
	size_t pos;		 /* bytes of the command examined */
	bool is_inline;
	/* Arguments parsed so far (grows as they arrive). */
	int argc;
	int arg_cap;
	struct ap_resp_argoff *args;
	/* Inline commands need unquoted copies of their arguments. */
	char *inline_buf;
	size_t inline_cap;
};

enum ap_resp_status {
	AP_RESP_NEED_MORE = 0,
	AP_RESP_ERROR = -1,
};

void ap_resp_req_init(struct ap_resp_req *rq);
void ap_resp_req_deinit(struct ap_resp_req *rq);
/* Forget the current command (after it completed). Keeps memory. */
void ap_resp_req_reset(struct ap_resp_req *rq);

/* Parses buf[0..len), the bytes from the start of the current command.
 * Returns the number of bytes the complete command took (> 0; its
 * arguments are then available), AP_RESP_NEED_MORE (state saved), or
 * AP_RESP_ERROR with *err set to Redis's message ("Protocol error: invalid
 * bulk length", ...), after which the connection must be closed; *err is
 * a static string or lives in rq, valid until the next call on rq.
 * An empty inline line yields a command with argc == 0 (callers skip it). */
long long ap_resp_parse(struct ap_resp_req *rq, const char *buf, size_t len,
			const struct ap_resp_limits *lim, const char **err);
/* Fills argv (rq->argc entries) with pointers into buf (the same bytes
 * ap_resp_parse saw) or into the request's inline copy. */
void ap_resp_req_argv(const struct ap_resp_req *rq, const char *buf,
		      struct ap_arg *argv);
/* Total bytes the current command needs at least before parsing can make
 * progress (lets a caller wait for a big bulk without re-parsing). */
size_t ap_resp_need(const struct ap_resp_req *rq);

#endif
