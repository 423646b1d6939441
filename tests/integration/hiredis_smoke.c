/*
 * hiredis_smoke.c - drives a Redis-protocol server with hiredis and checks
 * every reply: SET/GET (binary-safe), MSET/MGET over many keys, INCR,
 * error replies, and 10,000 pipelined commands sent with
 * redisAppendCommand and read back with redisGetReply.
 *
 * Usage: hiredis_smoke HOST PORT
 * Exit status 0 when every reply is as expected; otherwise 1 with the
 * first mismatch on stderr. Built and run by test_clients.py.
 */
#include <hiredis.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIPELINE_KEYS 2500 /* 4 commands each: 10,000 in flight */
#define MULTI_KEYS    200

/* Prints the failure and exits 1; never returns. */
static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("hiredis_smoke: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* Checks that r is a reply of type want; frees nothing. */
static void expect_type(const redisReply *r, int want, const char *what)
{
	if (!r)
		fail("%s: no reply (connection error)", what);
	if (r->type != want)
		fail("%s: reply type %d, want %d (%s)", what, r->type, want,
		     r->type == REDIS_REPLY_ERROR ? r->str : "");
}

/* Checks a status reply equal to text, and frees it. */
static void expect_status(redisReply *r, const char *text, const char *what)
{
	expect_type(r, REDIS_REPLY_STATUS, what);
	if (strcmp(r->str, text) != 0)
		fail("%s: status '%s', want '%s'", what, r->str, text);
	freeReplyObject(r);
}

/* Checks a bulk reply of len bytes equal to data, and frees it. */
static void expect_bulk(redisReply *r, const char *data, size_t len,
			const char *what)
{
	expect_type(r, REDIS_REPLY_STRING, what);
	if (r->len != len || memcmp(r->str, data, len) != 0)
		fail("%s: bulk of %zu bytes differs from the %zu expected",
		     what, r->len, len);
	freeReplyObject(r);
}

/* Checks an integer reply equal to want, and frees it. */
static void expect_int(redisReply *r, long long want, const char *what)
{
	expect_type(r, REDIS_REPLY_INTEGER, what);
	if (r->integer != want)
		fail("%s: integer %lld, want %lld", what, r->integer, want);
	freeReplyObject(r);
}

/* Checks an error reply equal to text, and frees it. */
static void expect_error(redisReply *r, const char *text, const char *what)
{
	expect_type(r, REDIS_REPLY_ERROR, what);
	if (strcmp(r->str, text) != 0)
		fail("%s: error '%s', want '%s'", what, r->str, text);
	freeReplyObject(r);
}

/* Checks a nil reply, and frees it. */
static void expect_nil(redisReply *r, const char *what)
{
	expect_type(r, REDIS_REPLY_NIL, what);
	freeReplyObject(r);
}

/* SET, GET, a binary value with NUL and CRLF, a missing key, DEL. */
static void test_basic(redisContext *c)
{
	static const char bin[] = "a\0b\r\nc\0";
	expect_status(redisCommand(c, "SET hs:greeting %s", "hello"), "OK",
		      "SET");
	expect_bulk(redisCommand(c, "GET hs:greeting"), "hello", 5, "GET");
	expect_status(redisCommand(c, "SET %b %b", "hs:bin\0k", (size_t)8, bin,
				   sizeof(bin) - 1),
		      "OK", "SET binary");
	expect_bulk(redisCommand(c, "GET %b", "hs:bin\0k", (size_t)8), bin,
		    sizeof(bin) - 1, "GET binary");
	expect_nil(redisCommand(c, "GET hs:missing"), "GET missing");
	expect_int(redisCommand(c, "DEL hs:greeting hs:missing"), 1, "DEL");
}

/* MSET of MULTI_KEYS keys (they span shards), then MGET in reverse with
 * a missing key between each. */
static void test_multi(redisContext *c)
{
	const char *argv[1 + 2 * MULTI_KEYS];
	size_t lens[1 + 2 * MULTI_KEYS];
	static char names[MULTI_KEYS][32], values[MULTI_KEYS][32];
	argv[0] = "MSET";
	lens[0] = 4;
	for (int i = 0; i < MULTI_KEYS; i++) {
		snprintf(names[i], sizeof(names[i]), "hs:m:%d", i);
		snprintf(values[i], sizeof(values[i]), "value-%d", i * 7);
		argv[1 + 2 * i] = names[i];
		lens[1 + 2 * i] = strlen(names[i]);
		argv[2 + 2 * i] = values[i];
		lens[2 + 2 * i] = strlen(values[i]);
	}
	expect_status(redisCommandArgv(c, 1 + 2 * MULTI_KEYS, argv, lens), "OK",
		      "MSET");

	const char *gargv[1 + 2 * MULTI_KEYS];
	size_t glens[1 + 2 * MULTI_KEYS];
	gargv[0] = "MGET";
	glens[0] = 4;
	for (int i = 0; i < MULTI_KEYS; i++) {
		int k = MULTI_KEYS - 1 - i;
		gargv[1 + 2 * i] = names[k];
		glens[1 + 2 * i] = strlen(names[k]);
		gargv[2 + 2 * i] = "hs:m:none";
		glens[2 + 2 * i] = 9;
	}
	redisReply *r = redisCommandArgv(c, 1 + 2 * MULTI_KEYS, gargv, glens);
	expect_type(r, REDIS_REPLY_ARRAY, "MGET");
	if (r->elements != 2 * MULTI_KEYS)
		fail("MGET: %zu elements", r->elements);
	for (int i = 0; i < MULTI_KEYS; i++) {
		int k = MULTI_KEYS - 1 - i;
		const redisReply *v = r->element[2 * i];
		if (v->type != REDIS_REPLY_STRING || strcmp(v->str, values[k]))
			fail("MGET: element %d is not '%s'", 2 * i, values[k]);
		if (r->element[2 * i + 1]->type != REDIS_REPLY_NIL)
			fail("MGET: element %d is not nil", 2 * i + 1);
	}
	freeReplyObject(r);
}

/* INCR and INCRBY, and the error on a non-integer value. */
static void test_counters(redisContext *c)
{
	expect_int(redisCommand(c, "INCR hs:ctr"), 1, "INCR");
	expect_int(redisCommand(c, "INCR hs:ctr"), 2, "INCR");
	expect_int(redisCommand(c, "INCRBY hs:ctr %d", 40), 42, "INCRBY");
	expect_int(redisCommand(c, "DECR hs:ctr"), 41, "DECR");
	expect_status(redisCommand(c, "SET hs:word abc"), "OK", "SET word");
	expect_error(redisCommand(c, "INCR hs:word"),
		     "ERR value is not an integer or out of range",
		     "INCR word");
	expect_error(redisCommand(c, "NOSUCHCMD"),
		     "ERR unknown command 'NOSUCHCMD', with args beginning "
		     "with: ",
		     "unknown command");
}

/* 10,000 commands appended before any reply is read: SET, GET, INCR and
 * APPEND per key; replies must come back complete and in order. */
static void test_pipeline(redisContext *c)
{
	char key[32], val[32];
	for (int i = 0; i < PIPELINE_KEYS; i++) {
		snprintf(key, sizeof(key), "hs:p:%d", i);
		snprintf(val, sizeof(val), "v%d", i);
		redisAppendCommand(c, "SET %s %s", key, val);
		redisAppendCommand(c, "GET %s", key);
		redisAppendCommand(c, "INCR hs:p:ctr");
		redisAppendCommand(c, "APPEND %s %s", key, "!");
	}
	for (int i = 0; i < PIPELINE_KEYS; i++) {
		redisReply *r;
		snprintf(val, sizeof(val), "v%d", i);
		if (redisGetReply(c, (void **)&r) != REDIS_OK)
			fail("pipeline: %s", c->errstr);
		expect_status(r, "OK", "pipelined SET");
		if (redisGetReply(c, (void **)&r) != REDIS_OK)
			fail("pipeline: %s", c->errstr);
		expect_bulk(r, val, strlen(val), "pipelined GET");
		if (redisGetReply(c, (void **)&r) != REDIS_OK)
			fail("pipeline: %s", c->errstr);
		expect_int(r, i + 1, "pipelined INCR");
		if (redisGetReply(c, (void **)&r) != REDIS_OK)
			fail("pipeline: %s", c->errstr);
		expect_int(r, (long long)strlen(val) + 1, "pipelined APPEND");
	}
	expect_int(redisCommand(c, "EXISTS hs:p:0 hs:p:2499 hs:p:2500"), 2,
		   "EXISTS after pipeline");
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
		return 2;
	}
	struct timeval tv = {.tv_sec = 30};
	redisContext *c = redisConnectWithTimeout(argv[1], atoi(argv[2]), tv);
	if (!c || c->err)
		fail("connect: %s", c ? c->errstr : "out of memory");
	if (redisSetTimeout(c, tv) != REDIS_OK)
		fail("timeout: %s", c->errstr);
	expect_status(redisCommand(c, "PING"), "PONG", "PING");
	test_basic(c);
	test_multi(c);
	test_counters(c);
	test_pipeline(c);
	redisFree(c);
	puts("hiredis_smoke: OK");
	return 0;
}
