/*
 * test_client.c - the client-side codec (net/client.c) as apiary-bench uses
 * it: request encoding, the incremental reply parser on every split of its
 * input, error and redirect decoding, bounds, memcached binary responses,
 * capture and full decoding.
 */
#include "bench/bench.h"

#include <check.h>
#include <string.h>

/* What a test remembers of each reply. */
struct seen {
	char type;
	bool is_error, is_null, is_push;
	long long value;
	char text[AP_CLIENT_TEXT_KEEP + 1];
	size_t text_len;
	uint64_t wire_len;
};

/* Feeds buf in pieces of at most `step` bytes (cuts at `cut` first when
 * cut > 0) and records every reply. Returns the count, -1 on error. */
static int parse_all(enum ap_client_proto proto, const char *buf, size_t len,
		     size_t cut, size_t step, struct seen *out, int max,
		     bool keep_bulk)
{
	struct ap_client_parser p;
	size_t off = 0;
	int n = 0;

	ap_client_parser_init(&p, proto);
	ap_client_parser_keep_bulk(&p, keep_bulk);
	while (off < len) {
		size_t piece = len - off;

		if (cut > 0 && off < cut)
			piece = cut - off;
		if (piece > step)
			piece = step;
		/* Copy to a scratch buffer, then clobber it: the parser must
		 * not keep pointers into its input. */
		char *tmp = malloc(piece);
		size_t pos = 0;

		memcpy(tmp, buf + off, piece);
		while (pos < piece) {
			struct ap_client_reply rep;
			size_t used;
			int rc = ap_client_parse(&p, tmp + pos, piece - pos,
						 &used, &rep);

			pos += used;
			if (rc < 0) {
				free(tmp);
				ap_client_parser_deinit(&p);
				return -1;
			}
			if (rc == AP_CLIENT_NEED_MORE) {
				ck_assert_uint_eq(pos, piece);
				break;
			}
			ck_assert_int_lt(n, max);
			memset(&out[n], 0, sizeof(out[n]));
			out[n].type = rep.type;
			out[n].is_error = rep.is_error;
			out[n].is_null = rep.is_null;
			out[n].is_push = rep.is_push;
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
	ap_client_parser_deinit(&p);
	return n;
}

/* A stream with every RESP2 and RESP3 type, nesting, attributes, pushes,
 * binary bulk payloads holding CRLF, and a long error. */
static const char stream[] = "+OK\r\n"
			     "-ERR unknown command 'FOO'\r\n"
			     ":-42\r\n"
			     "$5\r\nhe\r\no\r\n"
			     "$-1\r\n"
			     "$0\r\n\r\n"
			     "*3\r\n:1\r\n*2\r\n+a\r\n$1\r\nb\r\n$-1\r\n"
			     "*-1\r\n"
			     "*0\r\n"
			     "_\r\n"
			     ",3.14\r\n"
			     "#t\r\n"
			     "#f\r\n"
			     "(3492890328409238509324850943850943825024385\r\n"
			     "!21\r\nSYNTAX invalid syntax\r\n"
			     "=15\r\ntxt:Some string\r\n"
			     "%2\r\n+first\r\n:1\r\n+second\r\n*1\r\n_\r\n"
			     "~2\r\n+x\r\n+y\r\n"
			     ">3\r\n+message\r\n+chan\r\n+hello\r\n"
			     "|1\r\n+ttl\r\n:3600\r\n$3\r\nval\r\n"
			     "*2\r\n|1\r\n+a\r\n+b\r\n:7\r\n:8\r\n"
			     "|0\r\n:9\r\n"
			     "-MOVED 3999 127.0.0.1:6381\r\n";

#define STREAM_REPLIES 23

/* The stream parsed whole gives the expected replies. */
START_TEST(test_parse_types)
{
	struct seen s[64];
	int n = parse_all(AP_CLIENT_PROTO_RESP, stream, sizeof(stream) - 1, 0,
			  sizeof(stream), s, 64, false);

	ck_assert_int_eq(n, STREAM_REPLIES);
	ck_assert(s[0].type == '+' && !s[0].is_error);
	ck_assert_str_eq(s[0].text, "OK");
	ck_assert(s[1].type == '-' && s[1].is_error);
	ck_assert_str_eq(s[1].text, "ERR unknown command 'FOO'");
	ck_assert(s[2].type == ':' && s[2].value == -42);
	ck_assert(s[3].type == '$' && s[3].value == 5 && !s[3].is_null);
	ck_assert_uint_eq(s[3].text_len, 0); /* bulk text not kept */
	ck_assert(s[4].type == '$' && s[4].is_null);
	ck_assert(s[5].type == '$' && s[5].value == 0 && !s[5].is_null);
	ck_assert(s[6].type == '*' && s[6].value == 3);
	ck_assert(s[7].type == '*' && s[7].is_null);
	ck_assert(s[8].type == '*' && s[8].value == 0 && !s[8].is_null);
	ck_assert(s[9].type == '_' && s[9].is_null);
	ck_assert(s[10].type == ',');
	ck_assert_str_eq(s[10].text, "3.14");
	ck_assert(s[11].type == '#' && s[11].value == 1);
	ck_assert(s[12].type == '#' && s[12].value == 0);
	ck_assert(s[13].type == '(');
	ck_assert_str_eq(s[13].text,
			 "3492890328409238509324850943850943825024385");
	ck_assert(s[14].type == '!' && s[14].is_error);
	ck_assert_str_eq(s[14].text, "SYNTAX invalid syntax");
	ck_assert(s[15].type == '=');
	ck_assert_str_eq(s[15].text, "txt:Some string");
	ck_assert(s[16].type == '%' && s[16].value == 2);
	ck_assert(s[17].type == '~' && s[17].value == 2);
	ck_assert(s[18].type == '>' && s[18].is_push);
	ck_assert(s[19].type == '$' && s[19].value == 3); /* after attribute */
	ck_assert(s[20].type == '*' && s[20].value == 2);
	ck_assert(s[21].type == ':' && s[21].value == 9);
	ck_assert(s[22].is_error);
	ck_assert_str_eq(s[22].text, "MOVED 3999 127.0.0.1:6381");
	/* wire lengths add up to the stream */
	uint64_t total = 0;

	for (int i = 0; i < n; i++)
		total += s[i].wire_len;
	ck_assert_uint_eq(total, sizeof(stream) - 1);
	ck_assert_uint_eq(s[0].wire_len, 5);
}
END_TEST

/* Every split point and byte-at-a-time give the same replies. */
START_TEST(test_parse_every_split)
{
	struct seen whole[64], part[64];
	size_t len = sizeof(stream) - 1;
	int n = parse_all(AP_CLIENT_PROTO_RESP, stream, len, 0, len, whole, 64,
			  true);

	ck_assert_int_eq(n, STREAM_REPLIES);
	for (size_t cut = 1; cut < len; cut++) {
		int m = parse_all(AP_CLIENT_PROTO_RESP, stream, len, cut, len,
				  part, 64, true);

		ck_assert_int_eq(m, n);
		ck_assert(memcmp(whole, part,
				 sizeof(struct seen) * (size_t)n) == 0);
	}
	for (size_t step = 1; step <= 7; step++) {
		int m = parse_all(AP_CLIENT_PROTO_RESP, stream, len, 0, step,
				  part, 64, true);

		ck_assert_int_eq(m, n);
		for (int i = 0; i < n; i++) {
			ck_assert_int_eq(part[i].type, whole[i].type);
			ck_assert_int_eq(part[i].value, whole[i].value);
			ck_assert_str_eq(part[i].text, whole[i].text);
			ck_assert_uint_eq(part[i].wire_len, whole[i].wire_len);
		}
	}
	/* keep_bulk keeps the payload, CRLF inside it included */
	ck_assert_uint_eq(whole[3].text_len, 5);
	ck_assert(memcmp(whole[3].text, "he\r\no", 5) == 0);
}
END_TEST

/* Returns the parser's verdict on a single input. */
static int parse_one(const char *in, size_t len, struct ap_client_reply *rep,
		     const char **err)
{
	static struct ap_client_parser p;
	size_t used;
	int rc;

	ap_client_parser_init(&p, AP_CLIENT_PROTO_RESP);
	rc = ap_client_parse(&p, in, len, &used, rep);
	*err = p.err;
	ap_client_parser_deinit(&p);
	return rc;
}

/* Malformed replies are protocol errors, never crashes. */
START_TEST(test_parse_errors)
{
	static const char *const bad[] = {
		"?what\r\n",
		"$-2\r\n",
		"$abc\r\n",
		"+OK\n",
		"$3\r\nabcXY",
		"*-2\r\n",
		":12a\r\n",
		"#x\r\n",
		"_x\r\n",
		"$?\r\n",
		"*?\r\n",
		"%-1\r\n",
		"(\r\n",
		":\r\n",
		"$3\r\nab\rx",
		"!-1\r\n",
		":99999999999999999999\r\n",
	};
	struct ap_client_reply rep;
	const char *err;

	for (size_t i = 0; i < AP_ARRAY_LEN(bad); i++) {
		int rc = parse_one(bad[i], strlen(bad[i]), &rep, &err);

		ck_assert_msg(rc == AP_CLIENT_PROTO_ERR, "accepted: %s",
			      bad[i]);
		ck_assert_ptr_nonnull(err);
		ck_assert(strncmp(err, "Protocol error", 14) == 0);
	}
	/* A parser in error stays in error. */
	struct ap_client_parser p;
	size_t used;

	ap_client_parser_init(&p, AP_CLIENT_PROTO_RESP);
	ck_assert_int_eq(ap_client_parse(&p, "?", 1, &used, &rep),
			 AP_CLIENT_PROTO_ERR);
	ck_assert_int_eq(ap_client_parse(&p, "+OK\r\n", 5, &used, &rep),
			 AP_CLIENT_PROTO_ERR);
	ap_client_parser_reset(&p);
	ck_assert_int_eq(ap_client_parse(&p, "+OK\r\n", 5, &used, &rep),
			 AP_CLIENT_REPLY);
	ap_client_parser_deinit(&p);
}
END_TEST

/* Nesting: exactly AP_CLIENT_DEPTH_MAX levels parse, one more fails. */
START_TEST(test_depth_limit)
{
	char buf[4 * (AP_CLIENT_DEPTH_MAX + 2) + 8];
	struct ap_client_reply rep;
	const char *err;
	size_t n = 0;

	for (int d = 0; d < AP_CLIENT_DEPTH_MAX; d++)
		n += (size_t)sprintf(buf + n, "*1\r\n");
	n += (size_t)sprintf(buf + n, ":1\r\n");
	ck_assert_int_eq(parse_one(buf, n, &rep, &err), AP_CLIENT_REPLY);
	ck_assert_int_eq(rep.type, '*');
	n = 0;
	for (int d = 0; d < AP_CLIENT_DEPTH_MAX + 1; d++)
		n += (size_t)sprintf(buf + n, "*1\r\n");
	n += (size_t)sprintf(buf + n, ":1\r\n");
	ck_assert_int_eq(parse_one(buf, n, &rep, &err), AP_CLIENT_PROTO_ERR);
	ck_assert_str_eq(err, "Protocol error: reply nested too deeply");
}
END_TEST

/* Line length: AP_CLIENT_LINE_MAX passes, one more fails; a long error
 * keeps its first AP_CLIENT_TEXT_KEEP bytes, split or not. */
START_TEST(test_line_limits)
{
	size_t len = AP_CLIENT_LINE_MAX + 8;
	char *buf = malloc(len);
	struct ap_client_reply rep;
	const char *err;
	struct seen s[2];

	buf[0] = '-';
	memset(buf + 1, 'e', AP_CLIENT_LINE_MAX - 1);
	memcpy(buf + AP_CLIENT_LINE_MAX, "\r\n", 2);
	ck_assert_int_eq(parse_one(buf, AP_CLIENT_LINE_MAX + 2, &rep, &err),
			 AP_CLIENT_REPLY);
	ck_assert_uint_eq(rep.text_len, AP_CLIENT_TEXT_KEEP);
	ck_assert(rep.is_error);
	ck_assert_int_eq(parse_all(AP_CLIENT_PROTO_RESP, buf,
				   AP_CLIENT_LINE_MAX + 2, 0, 1000, s, 2,
				   false),
			 1);
	ck_assert_uint_eq(s[0].text_len, AP_CLIENT_TEXT_KEEP);
	ck_assert_int_eq(s[0].text[AP_CLIENT_TEXT_KEEP - 1], 'e');
	memset(buf + 1, 'e', AP_CLIENT_LINE_MAX + 1);
	memcpy(buf + AP_CLIENT_LINE_MAX + 2, "\r\n", 2);
	ck_assert_int_eq(parse_one(buf, AP_CLIENT_LINE_MAX + 4, &rep, &err),
			 AP_CLIENT_PROTO_ERR);
	free(buf);
	/* A numeric header of 32 bytes passes the limit check, 34 fails. */
	ck_assert_int_eq(parse_one(":0000000000000000000000000000001\r\n", 35,
				   &rep, &err),
			 AP_CLIENT_PROTO_ERR); /* too many digits */
	ck_assert_int_eq(parse_one(":00000000000000000000000000000000001\r\n",
				   39, &rep, &err),
			 AP_CLIENT_PROTO_ERR);
	ck_assert_str_eq(err, "Protocol error: reply line too long");
}
END_TEST

/* MOVED and ASK decoding, with the slot and port bounds. */
START_TEST(test_redirects)
{
	struct ap_client_redirect r;
	const char *t;

	t = "MOVED 3999 127.0.0.1:6381";
	ck_assert_int_eq(ap_client_redirect_parse(t, strlen(t), &r),
			 AP_CLIENT_REDIRECT_MOVED);
	ck_assert_uint_eq(r.slot, 3999);
	ck_assert_str_eq(r.host, "127.0.0.1");
	ck_assert_int_eq(r.port, 6381);
	t = "ASK 16383 ::1:7000";
	ck_assert_int_eq(ap_client_redirect_parse(t, strlen(t), &r),
			 AP_CLIENT_REDIRECT_ASK);
	ck_assert_uint_eq(r.slot, 16383);
	ck_assert_str_eq(r.host, "::1");
	ck_assert_int_eq(r.port, 7000);
	t = "MOVED 16384 127.0.0.1:6381"; /* slot MAX + 1 */
	ck_assert_int_eq(ap_client_redirect_parse(t, strlen(t), &r),
			 AP_CLIENT_REDIRECT_NONE);
	ck_assert_int_eq(r.kind, AP_CLIENT_REDIRECT_NONE);
	t = "MOVED 1 h:65535";
	ck_assert_int_eq(ap_client_redirect_parse(t, strlen(t), &r),
			 AP_CLIENT_REDIRECT_MOVED);
	t = "MOVED 1 h:65536";
	ck_assert_int_eq(ap_client_redirect_parse(t, strlen(t), &r),
			 AP_CLIENT_REDIRECT_NONE);
	static const char *const bad[] = {"MOVED",	     "MOVED 12",
					  "MOVED x h:1",     "MOVED 1 nocolon",
					  "ERR MOVED 1 h:1", "MOVED -1 h:1",
					  "ASK 1 h:"};

	for (size_t i = 0; i < AP_ARRAY_LEN(bad); i++)
		ck_assert_int_eq(
			ap_client_redirect_parse(bad[i], strlen(bad[i]), &r),
			AP_CLIENT_REDIRECT_NONE);
}
END_TEST

/* Encoding produces exact RESP bytes; lengths agree with the buffers. */
START_TEST(test_encode)
{
	const char *argv[] = {"SET", "key", "", "v\r\nal"};
	size_t lens[] = {3, 3, 0, 5};
	char buf[128];
	size_t n = ap_client_cmd_len(4, lens);

	ck_assert_uint_eq(ap_client_cmd_encode(buf, 4, argv, lens), n);
	ck_assert(memcmp(buf,
			 "*4\r\n$3\r\nSET\r\n$3\r\nkey\r\n$0\r\n\r\n"
			 "$5\r\nv\r\nal\r\n",
			 n) == 0);
	ck_assert_uint_eq(ap_client_u64_dec_len(0), 1);
	ck_assert_uint_eq(ap_client_u64_dec_len(9), 1);
	ck_assert_uint_eq(ap_client_u64_dec_len(10), 2);
	ck_assert_uint_eq(ap_client_u64_dec_len(UINT64_MAX), 20);
	n = ap_client_u64_to_dec(buf, UINT64_MAX);
	ck_assert(memcmp(buf, "18446744073709551615", n) == 0);
	ck_assert_uint_eq(ap_client_enc_array(buf, 0), 4);
	ck_assert_uint_eq(ap_client_bulk_len(10), 1 + 2 + 2 + 10 + 2);
}
END_TEST

/* Capture a reply and decode it into a tree. */
START_TEST(test_capture_decode)
{
	static const char in[] =
		"*4\r\n:5\r\n%1\r\n+k\r\n*2\r\n$2\r\nab\r\n_\r\n"
		"|1\r\n+meta\r\n+x\r\n,2.5\r\n#t\r\n+next\r\n";
	struct ap_client_parser p;
	struct ap_client_reply rep;
	struct ap_client_value v;
	const char *err;
	size_t used;

	ap_client_parser_init(&p, AP_CLIENT_PROTO_RESP);
	ap_client_parser_capture(&p, 1024);
	ck_assert_int_eq(ap_client_parse(&p, in, sizeof(in) - 1, &used, &rep),
			 AP_CLIENT_REPLY);
	ck_assert_uint_eq(used, sizeof(in) - 1 - 7); /* "+next" remains */
	ck_assert_uint_eq(p.cap_len, used);
	ck_assert(!p.cap_truncated);
	ck_assert_int_eq(ap_client_value_decode(p.cap, p.cap_len, &v, &err),
			 (long long)used);
	ck_assert_int_eq(v.type, '*');
	ck_assert_uint_eq(v.elem_count, 4);
	ck_assert_int_eq(v.elems[0].integer, 5);
	ck_assert_int_eq(v.elems[1].type, '%');
	ck_assert_uint_eq(v.elems[1].elem_count, 2);
	ck_assert_uint_eq(v.elems[1].elems[1].elem_count, 2);
	ck_assert_uint_eq(v.elems[1].elems[1].elems[0].str_len, 2);
	ck_assert(memcmp(v.elems[1].elems[1].elems[0].str, "ab", 2) == 0);
	ck_assert(v.elems[1].elems[1].elems[1].is_null);
	ck_assert(v.elems[2].type == ',' && v.elems[2].dbl == 2.5);
	ck_assert(v.elems[3].type == '#' && v.elems[3].integer == 1);
	ap_client_value_free(&v);
	/* A second reply replaces the capture; a small limit truncates. */
	ap_client_parser_capture(&p, 3);
	ck_assert_int_eq(ap_client_parse(&p, "+next\r\n", 7, &used, &rep),
			 AP_CLIENT_REPLY);
	ck_assert_uint_eq(p.cap_len, 3);
	ck_assert(p.cap_truncated);
	ap_client_parser_deinit(&p);
	/* Incomplete and malformed input. */
	ck_assert_int_eq(ap_client_value_decode("*2\r\n:1\r\n", 8, &v, &err),
			 AP_CLIENT_PROTO_ERR);
	ck_assert_str_eq(err, "Protocol error: incomplete reply");
	ck_assert_int_eq(
		ap_client_value_decode("*2\r\n:1\r\n?\r\n", 11, &v, &err),
		AP_CLIENT_PROTO_ERR);
	ck_assert_int_eq(ap_client_value_decode("*99999999\r\n", 11, &v, &err),
			 AP_CLIENT_PROTO_ERR);
	ck_assert_int_eq(ap_client_value_decode("$5\r\nab\r\n", 8, &v, &err),
			 AP_CLIENT_PROTO_ERR);
}
END_TEST

/* Builds a memcached binary response. */
static size_t mc_response(char *buf, uint8_t op, uint16_t status,
			  const char *extras, size_t elen, const char *value,
			  size_t vlen)
{
	memset(buf, 0, AP_CLIENT_MC_HDR_LEN);
	buf[0] = (char)AP_CLIENT_MC_RES_MAGIC;
	buf[1] = (char)op;
	buf[4] = (char)elen;
	buf[6] = (char)(status >> 8);
	buf[7] = (char)status;
	uint32_t body = (uint32_t)(elen + vlen);

	buf[8] = (char)(body >> 24);
	buf[9] = (char)(body >> 16);
	buf[10] = (char)(body >> 8);
	buf[11] = (char)body;
	buf[15] = 7; /* opaque */
	memcpy(buf + AP_CLIENT_MC_HDR_LEN, extras, elen);
	memcpy(buf + AP_CLIENT_MC_HDR_LEN + elen, value, vlen);
	return AP_CLIENT_MC_HDR_LEN + elen + vlen;
}

/* Memcached binary responses: hits, misses, errors, every split. */
START_TEST(test_memcache_binary)
{
	char buf[512];
	size_t n = 0;
	struct seen whole[8], part[8];

	n += mc_response(buf + n, AP_CLIENT_MC_SET, 0, "", 0, "", 0);
	n += mc_response(buf + n, AP_CLIENT_MC_GET, 0, "\0\0\0\0", 4, "value",
			 5);
	n += mc_response(buf + n, AP_CLIENT_MC_GET, 1, "", 0, "Not found", 9);
	n += mc_response(buf + n, AP_CLIENT_MC_SET, 0x81, "", 0,
			 "Unknown command", 15);
	int k = parse_all(AP_CLIENT_PROTO_MC_BIN, buf, n, 0, n, whole, 8,
			  false);

	ck_assert_int_eq(k, 4);
	ck_assert(whole[0].type == AP_CLIENT_TYPE_MC && !whole[0].is_error &&
		  !whole[0].is_null);
	ck_assert_uint_eq(whole[1].wire_len, AP_CLIENT_MC_HDR_LEN + 9);
	ck_assert(whole[2].is_null && !whole[2].is_error);
	ck_assert(whole[3].is_error && whole[3].value == 0x81);
	ck_assert_str_eq(whole[3].text, "Unknown command");
	for (size_t cut = 1; cut < n; cut++) {
		ck_assert_int_eq(parse_all(AP_CLIENT_PROTO_MC_BIN, buf, n, cut,
					   n, part, 8, false),
				 4);
		ck_assert(memcmp(part, whole, sizeof(whole[0]) * 4) == 0);
	}
	ck_assert_int_eq(
		parse_all(AP_CLIENT_PROTO_MC_BIN, buf, n, 0, 1, part, 8, false),
		4);
	/* A request magic where a response belongs is an error. */
	buf[0] = (char)AP_CLIENT_MC_REQ_MAGIC;
	ck_assert_int_eq(
		parse_all(AP_CLIENT_PROTO_MC_BIN, buf, n, 0, n, part, 8, false),
		-1);
}
END_TEST

/* Memcached request encoding: header fields and body order. */
START_TEST(test_memcache_encode)
{
	char buf[128], extras[8];
	size_t n;

	ap_client_mc_set_extras(extras, 0xdeadbeef, 300);
	n = ap_client_mc_encode(buf, AP_CLIENT_MC_SET, "key", 3, extras, 8,
				"val", 3, 0x01020304);
	ck_assert_uint_eq(n, AP_CLIENT_MC_HDR_LEN + 14);
	ck_assert_uint_eq((uint8_t)buf[0], AP_CLIENT_MC_REQ_MAGIC);
	ck_assert_uint_eq((uint8_t)buf[1], AP_CLIENT_MC_SET);
	ck_assert_uint_eq((uint8_t)buf[3], 3);	 /* key length */
	ck_assert_uint_eq((uint8_t)buf[4], 8);	 /* extras length */
	ck_assert_uint_eq((uint8_t)buf[11], 14); /* body length */
	ck_assert_uint_eq((uint8_t)buf[15], 4);	 /* opaque low byte */
	ck_assert(memcmp(buf + 24, "\xde\xad\xbe\xef\0\0\x01\x2c", 8) == 0);
	ck_assert(memcmp(buf + 32, "keyval", 6) == 0);
	n = ap_client_mc_encode(buf, AP_CLIENT_MC_GET, "k", 1, NULL, 0, NULL, 0,
				0);
	ck_assert_uint_eq(n, AP_CLIENT_MC_HDR_LEN + 1);
}
END_TEST

static Suite *client_suite(void)
{
	Suite *s = suite_create("bench_client");
	TCase *tc = tcase_create("client");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_parse_types);
	tcase_add_test(tc, test_parse_every_split);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_depth_limit);
	tcase_add_test(tc, test_line_limits);
	tcase_add_test(tc, test_redirects);
	tcase_add_test(tc, test_encode);
	tcase_add_test(tc, test_capture_decode);
	tcase_add_test(tc, test_memcache_binary);
	tcase_add_test(tc, test_memcache_encode);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(client_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
