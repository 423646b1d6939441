/*
 * test_cmd_list.c - the list commands of core/cmd_list.c through the
 * command table (cmd_harness.h): every command, option and error text,
 * RESP2 and RESP3 null shapes, encodings and their conversions, dirty
 * counts, the list type's value operations, and a randomized command run
 * against a reference model with small nodes.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/list.h"
#include "tests/unit/core/cmd_harness.h"

#define E_POSITIVE "-ERR value is out of range, must be positive\r\n"
#define E_NOKEY	   "-ERR no such key\r\n"

/* Asserts the encoding of key's value (OBJECT ENCODING's source). */
static void expect_enc(const char *key, enum ap_enc enc)
{
	struct ap_entry *e = h_peek(key);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(ap_enc_name(ap_entry_enc(e)), ap_enc_name(enc));
}

START_TEST(test_push)
{
	H_EXPECT(":3\r\n", "rpush", "l", "a", "b", "c");
	ck_assert_uint_eq(h_last_dirty, 3);
	H_EXPECT(":5\r\n", "lpush", "l", "x", "y");
	ck_assert_uint_eq(h_last_dirty, 2);
	H_EXPECT(
		"*5\r\n$1\r\ny\r\n$1\r\nx\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
		"lrange", "l", "0", "-1");
	H_EXPECT(":0\r\n", "lpushx", "nokey", "a");
	H_EXPECT(":0\r\n", "rpushx", "nokey", "a", "b");
	ck_assert_ptr_null(h_peek("nokey"));
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT(":6\r\n", "rpushx", "l", "z");
	H_EXPECT(":8\r\n", "lpushx", "l", "p", "q");
	H_EXPECT("$1\r\nq\r\n", "lindex", "l", "0");
	H_EXPECT("$1\r\nz\r\n", "lindex", "l", "-1");
	H_OK("set", "s", "v");
	H_EXPECT(H_E_WRONGTYPE, "lpush", "s", "a");
	H_EXPECT(H_E_WRONGTYPE, "rpush", "s", "a");
	H_EXPECT(H_E_WRONGTYPE, "lpushx", "s", "a");
	H_EXPECT(H_E_WRONGTYPE, "rpushx", "s", "a");
	H_EXPECT("-ERR wrong number of arguments for 'lpush' command\r\n",
		 "lpush", "l");
	H_EXPECT("-ERR wrong number of arguments for 'rpushx' command\r\n",
		 "rpushx", "l");
	H_EXPECT("+list\r\n", "type", "l");
	/* Integers and integer-looking strings come back byte for byte. */
	H_EXPECT(":7\r\n", "rpush", "n", "1", "-1", "9223372036854775807",
		 "-9223372036854775808", "01", "9223372036854775808", "");
	H_EXPECT("*7\r\n$1\r\n1\r\n$2\r\n-1\r\n$19\r\n9223372036854775807\r\n"
		 "$20\r\n-9223372036854775808\r\n$2\r\n01\r\n"
		 "$19\r\n9223372036854775808\r\n$0\r\n\r\n",
		 "lrange", "n", "0", "-1");
}
END_TEST

START_TEST(test_pop)
{
	H_EXPECT(H_NIL, "lpop", "nokey");
	H_EXPECT("*-1\r\n", "rpop", "nokey", "2");
	H_EXPECT("*-1\r\n", "rpop", "nokey", "0");
	h_proto = 3;
	H_EXPECT("_\r\n", "lpop", "nokey");
	H_EXPECT("_\r\n", "lpop", "nokey", "3");
	h_proto = 2;
	H_EXPECT(E_POSITIVE, "lpop", "nokey", "-1");
	H_EXPECT(":5\r\n", "rpush", "l", "a", "b", "c", "d", "e");
	H_EXPECT("$1\r\na\r\n", "lpop", "l");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT("$1\r\ne\r\n", "rpop", "l");
	H_EXPECT("*0\r\n", "lpop", "l", "0");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT("*2\r\n$1\r\nd\r\n$1\r\nc\r\n", "rpop", "l", "2");
	ck_assert_uint_eq(h_last_dirty, 2);
	H_EXPECT(E_POSITIVE, "lpop", "l", "-1");
	H_EXPECT(E_POSITIVE, "lpop", "l", "x");
	H_EXPECT(E_POSITIVE, "lpop", "l", "1.5");
	H_EXPECT(E_POSITIVE, "lpop", "l", "99999999999999999999");
	H_EXPECT("-ERR wrong number of arguments for 'lpop' command\r\n",
		 "lpop", "l", "1", "2");
	H_EXPECT("-ERR wrong number of arguments for 'rpop' command\r\n",
		 "rpop", "l", "1", "2");
	H_EXPECT("*1\r\n$1\r\nb\r\n", "lpop", "l", "9223372036854775807");
	ck_assert_ptr_null(h_peek("l"));
	H_EXPECT(":1\r\n", "rpush", "l", "z");
	H_EXPECT("$1\r\nz\r\n", "rpop", "l");
	ck_assert_ptr_null(h_peek("l"));
	H_OK("set", "s", "v");
	H_EXPECT(H_E_WRONGTYPE, "lpop", "s");
	H_EXPECT(H_E_WRONGTYPE, "lpop", "s", "0");
	H_EXPECT(E_POSITIVE, "lpop", "s", "-1");
}
END_TEST

START_TEST(test_llen)
{
	H_EXPECT(":0\r\n", "llen", "nokey");
	H_EXPECT(":2\r\n", "rpush", "l", "a", "b");
	H_EXPECT(":2\r\n", "llen", "l");
	H_OK("set", "s", "v");
	H_EXPECT(H_E_WRONGTYPE, "llen", "s");
	H_EXPECT("-ERR wrong number of arguments for 'llen' command\r\n",
		 "llen", "l", "x");
}
END_TEST

START_TEST(test_lrange)
{
	H_EXPECT(":4\r\n", "rpush", "l", "a", "b", "c", "d");
	H_EXPECT("*2\r\n$1\r\nb\r\n$1\r\nc\r\n", "lrange", "l", "1", "2");
	H_EXPECT("*2\r\n$1\r\nc\r\n$1\r\nd\r\n", "lrange", "l", "-2", "100");
	H_EXPECT("*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n", "lrange",
		 "l", "-100", "100");
	H_EXPECT("*1\r\n$1\r\na\r\n", "lrange", "l", "-100", "0");
	H_EXPECT("*0\r\n", "lrange", "l", "2", "1");
	H_EXPECT("*0\r\n", "lrange", "l", "4", "10");
	H_EXPECT("*0\r\n", "lrange", "l", "0", "-5");
	H_EXPECT("*1\r\n$1\r\nd\r\n", "lrange", "l", "-1", "-1");
	H_EXPECT("*0\r\n", "lrange", "l", "9223372036854775807",
		 "-9223372036854775808");
	H_EXPECT("*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n", "lrange",
		 "l", "-9223372036854775808", "9223372036854775807");
	H_EXPECT("*0\r\n", "lrange", "nokey", "0", "-1");
	H_EXPECT(H_E_NOT_INT, "lrange", "l", "x", "1");
	H_EXPECT(H_E_NOT_INT, "lrange", "l", "0", "1.0");
	H_EXPECT(H_E_NOT_INT, "lrange", "nokey", "0", "y");
	H_OK("set", "s", "v");
	H_EXPECT(H_E_WRONGTYPE, "lrange", "s", "0", "1");
}
END_TEST

START_TEST(test_lindex)
{
	H_EXPECT(H_NIL, "lindex", "nokey", "0");
	H_EXPECT(H_NIL, "lindex", "nokey", "x"); /* key first, as Redis */
	H_EXPECT(":3\r\n", "rpush", "l", "a", "b", "7");
	H_EXPECT("$1\r\na\r\n", "lindex", "l", "0");
	H_EXPECT("$1\r\n7\r\n", "lindex", "l", "2");
	H_EXPECT("$1\r\nb\r\n", "lindex", "l", "-2");
	H_EXPECT(H_NIL, "lindex", "l", "3");
	H_EXPECT(H_NIL, "lindex", "l", "-4");
	H_EXPECT(H_NIL, "lindex", "l", "-9223372036854775808");
	H_EXPECT(H_E_NOT_INT, "lindex", "l", "x");
	h_proto = 3;
	H_EXPECT("_\r\n", "lindex", "l", "3");
	H_EXPECT("_\r\n", "lindex", "nokey", "3");
	h_proto = 2;
	H_OK("set", "s", "v");
	H_EXPECT(H_E_WRONGTYPE, "lindex", "s", "0");
	H_EXPECT(H_E_WRONGTYPE, "lindex", "s", "x");
}
END_TEST

START_TEST(test_lset)
{
	H_EXPECT(E_NOKEY, "lset", "nokey", "0", "a");
	H_EXPECT(E_NOKEY, "lset", "nokey", "x", "a");
	H_EXPECT(":3\r\n", "rpush", "l", "a", "b", "c");
	H_OK("lset", "l", "1", "B");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_OK("lset", "l", "-1", "12345");
	H_EXPECT("*3\r\n$1\r\na\r\n$1\r\nB\r\n$5\r\n12345\r\n", "lrange", "l",
		 "0", "-1");
	H_EXPECT("-ERR index out of range\r\n", "lset", "l", "3", "x");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT("-ERR index out of range\r\n", "lset", "l", "-4", "x");
	H_EXPECT(H_E_NOT_INT, "lset", "l", "one", "x");
	H_OK("set", "s", "v");
	H_EXPECT(H_E_WRONGTYPE, "lset", "s", "0", "x");
	/* a value too big for a listpack converts the list ... */
	char *big = malloc(10001);
	memset(big, 'x', 10000);
	big[10000] = '\0';
	H_OK("lset", "l", "0", big);
	expect_enc("l", AP_ENC_QUICKLIST);
	/* ... and a small one brings it back (LSET shrinks as Redis) */
	H_OK("lset", "l", "0", "a");
	expect_enc("l", AP_ENC_LISTPACK);
	H_EXPECT("*3\r\n$1\r\na\r\n$1\r\nB\r\n$5\r\n12345\r\n", "lrange", "l",
		 "0", "-1");
	free(big);
}
END_TEST

START_TEST(test_linsert)
{
	H_EXPECT(H_E_SYNTAX, "linsert", "nokey", "middle", "a", "b");
	H_EXPECT(":0\r\n", "linsert", "nokey", "before", "a", "b");
	ck_assert_ptr_null(h_peek("nokey"));
	H_EXPECT(":3\r\n", "rpush", "l", "a", "b", "c");
	H_EXPECT(":-1\r\n", "linsert", "l", "before", "zz", "x");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT(":4\r\n", "linsert", "l", "BEFORE", "b", "x");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT(":5\r\n", "linsert", "l", "After", "c", "y");
	H_EXPECT(":6\r\n", "linsert", "l", "before", "a", "1");
	H_EXPECT("*6\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\nx\r\n$1\r\nb\r\n$1\r\nc\r\n"
		 "$1\r\ny\r\n",
		 "lrange", "l", "0", "-1");
	/* integer pivots match their text */
	H_EXPECT(":7\r\n", "linsert", "l", "after", "1", "2");
	H_EXPECT("$1\r\n2\r\n", "lindex", "l", "1");
	H_EXPECT(H_E_SYNTAX, "linsert", "l", "beforex", "a", "b");
	H_OK("set", "s", "v");
	H_EXPECT(H_E_WRONGTYPE, "linsert", "s", "before", "a", "b");
	H_EXPECT(H_E_SYNTAX, "linsert", "s", "x", "a", "b");
}
END_TEST

START_TEST(test_lrem)
{
	H_EXPECT(":0\r\n", "lrem", "nokey", "0", "a");
	H_EXPECT(H_E_NOT_INT, "lrem", "nokey", "x", "a");
	H_EXPECT(":7\r\n", "rpush", "l", "a", "b", "a", "c", "a", "b", "a");
	H_EXPECT(":2\r\n", "lrem", "l", "2", "a");
	ck_assert_uint_eq(h_last_dirty, 2);
	H_EXPECT(
		"*5\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\na\r\n",
		"lrange", "l", "0", "-1");
	H_EXPECT(":1\r\n", "lrem", "l", "-1", "b");
	H_EXPECT("*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\na\r\n", "lrange",
		 "l", "0", "-1");
	H_EXPECT(":0\r\n", "lrem", "l", "0", "zz");
	H_EXPECT(":2\r\n", "lrem", "l", "0", "a");
	H_EXPECT(":1\r\n", "lrem", "l", "-9223372036854775808", "b");
	H_EXPECT(":1\r\n", "lrem", "l", "9223372036854775807", "c");
	ck_assert_ptr_null(h_peek("l"));
	H_EXPECT(H_E_NOT_INT, "lrem", "l", "1.5", "a");
	H_OK("set", "s", "v");
	H_EXPECT(H_E_WRONGTYPE, "lrem", "s", "0", "a");
	H_EXPECT(H_E_NOT_INT, "lrem", "s", "x", "a");
}
END_TEST

START_TEST(test_ltrim)
{
	H_OK("ltrim", "nokey", "0", "1");
	H_EXPECT(H_E_NOT_INT, "ltrim", "nokey", "a", "1");
	H_EXPECT(H_E_NOT_INT, "ltrim", "nokey", "0", "b");
	H_EXPECT(":6\r\n", "rpush", "l", "a", "b", "c", "d", "e", "f");
	H_OK("ltrim", "l", "1", "-2");
	ck_assert_uint_eq(h_last_dirty, 2);
	H_EXPECT("*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n", "lrange",
		 "l", "0", "-1");
	H_OK("ltrim", "l", "-100", "100");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT(":4\r\n", "llen", "l");
	H_OK("ltrim", "l", "2", "2");
	H_EXPECT("*1\r\n$1\r\nd\r\n", "lrange", "l", "0", "-1");
	H_OK("ltrim", "l", "1", "0");
	ck_assert_ptr_null(h_peek("l"));
	H_EXPECT(":3\r\n", "rpush", "l", "a", "b", "c");
	H_OK("ltrim", "l", "5", "10");
	ck_assert_ptr_null(h_peek("l"));
	H_EXPECT(":3\r\n", "rpush", "l", "a", "b", "c");
	H_OK("ltrim", "l", "0", "-4");
	ck_assert_uint_eq(h_last_dirty, 3);
	ck_assert_ptr_null(h_peek("l"));
	H_OK("set", "s", "v");
	H_EXPECT(H_E_WRONGTYPE, "ltrim", "s", "0", "1");
}
END_TEST

START_TEST(test_lpos)
{
	H_EXPECT(":11\r\n", "rpush", "l", "a", "b", "c", "d", "1", "2", "3",
		 "4", "3", "3", "3");
	H_EXPECT(":6\r\n", "lpos", "l", "3");
	H_EXPECT("*3\r\n:8\r\n:9\r\n:10\r\n", "lpos", "l", "3", "COUNT", "0",
		 "RANK", "2");
	H_EXPECT(":10\r\n", "lpos", "l", "3", "rank", "-1");
	H_EXPECT(":8\r\n", "lpos", "l", "3", "rank", "-3");
	H_EXPECT(H_NIL, "lpos", "l", "3", "rank", "5");
	H_EXPECT(H_NIL, "lpos", "l", "3", "rank", "-9223372036854775807");
	H_EXPECT("*2\r\n:6\r\n:8\r\n", "lpos", "l", "3", "count", "2");
	H_EXPECT("*2\r\n:10\r\n:9\r\n", "lpos", "l", "3", "rank", "-1", "count",
		 "2");
	H_EXPECT("*4\r\n:6\r\n:8\r\n:9\r\n:10\r\n", "lpos", "l", "3", "count",
		 "0");
	H_EXPECT("*0\r\n", "lpos", "l", "zz", "count", "0");
	H_EXPECT(H_NIL, "lpos", "l", "zz");
	H_EXPECT(":6\r\n", "lpos", "l", "3", "maxlen", "7");
	H_EXPECT(H_NIL, "lpos", "l", "3", "maxlen", "6");
	H_EXPECT("*1\r\n:6\r\n", "lpos", "l", "3", "count", "0", "maxlen", "7");
	H_EXPECT("*0\r\n", "lpos", "l", "3", "count", "0", "maxlen", "6");
	H_EXPECT(":10\r\n", "lpos", "l", "3", "rank", "-1", "maxlen", "1");
	H_EXPECT(H_NIL, "lpos", "l", "3", "rank", "-2", "maxlen", "1");
	H_EXPECT(":0\r\n", "lpos", "l", "a", "maxlen", "0");
	/* repeated options: the last one wins */
	H_EXPECT(":10\r\n", "lpos", "l", "3", "rank", "1", "rank", "-1");
	/* errors, all before the key is looked at */
	H_EXPECT("-ERR RANK can't be zero: use 1 to start from the first "
		 "match, 2 from the second ... or use negative to start from "
		 "the end of the list\r\n",
		 "lpos", "l", "3", "rank", "0");
	H_EXPECT(H_E_NOT_INT, "lpos", "l", "3", "rank", "x");
	H_EXPECT("-ERR value is out of range, value must between "
		 "-9223372036854775807 and 9223372036854775807\r\n",
		 "lpos", "l", "3", "rank", "-9223372036854775808");
	H_EXPECT("-ERR COUNT can't be negative\r\n", "lpos", "l", "3", "count",
		 "-1");
	H_EXPECT("-ERR COUNT can't be negative\r\n", "lpos", "l", "3", "count",
		 "x");
	H_EXPECT("-ERR MAXLEN can't be negative\r\n", "lpos", "l", "3",
		 "maxlen", "-1");
	H_EXPECT("-ERR MAXLEN can't be negative\r\n", "lpos", "nokey", "3",
		 "maxlen", "x");
	H_EXPECT(H_E_SYNTAX, "lpos", "l", "3", "foo");
	H_EXPECT(H_E_SYNTAX, "lpos", "l", "3", "rank");
	H_EXPECT(H_E_SYNTAX, "lpos", "l", "3", "count", "1", "maxlen");
	H_EXPECT("-ERR wrong number of arguments for 'lpos' command\r\n",
		 "lpos", "l");
	/* missing keys */
	H_EXPECT(H_NIL, "lpos", "nokey", "a");
	H_EXPECT("*0\r\n", "lpos", "nokey", "a", "count", "0");
	h_proto = 3;
	H_EXPECT("_\r\n", "lpos", "nokey", "a");
	H_EXPECT("_\r\n", "lpos", "l", "zz");
	h_proto = 2;
	H_OK("set", "s", "v");
	H_EXPECT(H_E_WRONGTYPE, "lpos", "s", "a");
}
END_TEST

START_TEST(test_lmove)
{
	H_EXPECT(H_NIL, "lmove", "nokey", "d", "left", "right");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT(H_E_SYNTAX, "lmove", "nokey", "d", "up", "right");
	H_EXPECT(H_E_SYNTAX, "lmove", "nokey", "d", "left", "down");
	H_EXPECT(":3\r\n", "rpush", "s", "a", "b", "c");
	H_EXPECT("$1\r\na\r\n", "lmove", "s", "d", "LEFT", "RIGHT");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT("$1\r\nc\r\n", "lmove", "s", "d", "right", "left");
	H_EXPECT("*2\r\n$1\r\nc\r\n$1\r\na\r\n", "lrange", "d", "0", "-1");
	H_EXPECT("$1\r\nb\r\n", "lmove", "s", "d", "left", "left");
	ck_assert_ptr_null(h_peek("s"));
	H_EXPECT("*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n", "lrange", "d", "0",
		 "-1");
	/* rotation on one key */
	H_EXPECT("$1\r\nb\r\n", "lmove", "d", "d", "left", "right");
	H_EXPECT("*3\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n", "lrange", "d", "0",
		 "-1");
	H_EXPECT("$1\r\nb\r\n", "rpoplpush", "d", "d");
	H_EXPECT("*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n", "lrange", "d", "0",
		 "-1");
	H_EXPECT(":1\r\n", "rpush", "one", "x");
	H_EXPECT("$1\r\nx\r\n", "lmove", "one", "one", "left", "left");
	H_EXPECT("*1\r\n$1\r\nx\r\n", "lrange", "one", "0", "-1");
	/* a long element rotating on itself stays intact */
	char big[300];
	memset(big, 'Q', 299);
	big[299] = '\0';
	H_EXPECT(":2\r\n", "rpush", "one", big);
	H_EXPECT(":1\r\n", "lrem", "one", "1", "x");
	size_t len;
	char *got = h_run(
		(const char *const[]){"rpoplpush", "one", "one", NULL}, &len);
	ck_assert_uint_eq(len, 299 + 8);
	ck_assert(memcmp(got + 6, big, 299) == 0);
	ap_free(got);
	/* wrong types: nothing moves */
	H_OK("set", "str", "v");
	H_EXPECT(H_E_WRONGTYPE, "lmove", "d", "str", "left", "left");
	H_EXPECT(":3\r\n", "llen", "d");
	H_EXPECT(H_E_WRONGTYPE, "lmove", "str", "d", "left", "left");
	H_EXPECT(H_NIL, "lmove", "nokey", "str", "left", "left");
	H_EXPECT(H_E_WRONGTYPE, "rpoplpush", "d", "str");
	H_EXPECT("$1\r\na\r\n", "rpoplpush", "d", "new");
	H_EXPECT("*1\r\n$1\r\na\r\n", "lrange", "new", "0", "-1");
	H_EXPECT(H_NIL, "rpoplpush", "nokey", "new");
	h_proto = 3;
	H_EXPECT("_\r\n", "rpoplpush", "nokey", "new");
	H_EXPECT("_\r\n", "lmove", "nokey", "new", "left", "left");
}
END_TEST

START_TEST(test_lmpop)
{
	H_EXPECT("-ERR numkeys should be greater than 0\r\n", "lmpop", "0", "l",
		 "left");
	H_EXPECT("-ERR numkeys should be greater than 0\r\n", "lmpop", "-1",
		 "l", "left");
	H_EXPECT("-ERR numkeys should be greater than 0\r\n", "lmpop", "x", "l",
		 "left");
	H_EXPECT(H_E_SYNTAX, "lmpop", "2", "l", "left");
	H_EXPECT(H_E_SYNTAX, "lmpop", "9223372036854775807", "l", "left");
	H_EXPECT(H_E_SYNTAX, "lmpop", "1", "l", "up");
	H_EXPECT("-ERR count should be greater than 0\r\n", "lmpop", "1", "l",
		 "left", "count", "0");
	H_EXPECT("-ERR count should be greater than 0\r\n", "lmpop", "1", "l",
		 "left", "count", "x");
	H_EXPECT("-ERR count should be greater than 0\r\n", "lmpop", "1", "l",
		 "left", "count", "-5");
	H_EXPECT(H_E_SYNTAX, "lmpop", "1", "l", "left", "count", "1", "count",
		 "1");
	H_EXPECT(H_E_SYNTAX, "lmpop", "1", "l", "left", "count");
	H_EXPECT(H_E_SYNTAX, "lmpop", "1", "l", "left", "foo");
	H_EXPECT("-ERR wrong number of arguments for 'lmpop' command\r\n",
		 "lmpop", "1", "l");
	H_EXPECT("*-1\r\n", "lmpop", "2", "a", "b", "left");
	h_proto = 3;
	H_EXPECT("_\r\n", "lmpop", "2", "a", "b", "left");
	h_proto = 2;
	H_EXPECT(":3\r\n", "rpush", "b", "1", "2", "3");
	H_EXPECT("*2\r\n$1\r\nb\r\n*1\r\n$1\r\n1\r\n", "lmpop", "2", "a", "b",
		 "LEFT");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT("*2\r\n$1\r\nb\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n", "lmpop", "2",
		 "a", "b", "right", "COUNT", "10");
	ck_assert_uint_eq(h_last_dirty, 2);
	ck_assert_ptr_null(h_peek("b"));
	H_OK("set", "a", "v");
	H_EXPECT(":1\r\n", "rpush", "b", "1");
	H_EXPECT(H_E_WRONGTYPE, "lmpop", "2", "a", "b", "left");
	H_EXPECT("*2\r\n$1\r\nb\r\n*1\r\n$1\r\n1\r\n", "lmpop", "2", "b", "a",
		 "left");
	h_proto = 3;
	H_EXPECT(":1\r\n", "rpush", "c", "x");
	H_EXPECT("*2\r\n$1\r\nc\r\n*1\r\n$1\r\nx\r\n", "lmpop", "1", "c",
		 "left");
}
END_TEST

START_TEST(test_lmpop_keys)
{
	const struct ap_cmd *cmd = ap_cmd_lookup("lmpop", 5);
	ck_assert_ptr_nonnull(cmd);
	struct ap_arg argv[] = {{"lmpop", 5}, {"2", 1},	    {"a", 1}, {"b", 1},
				{"left", 4},  {"count", 5}, {"3", 1}};
	int idx[8];
	size_t n = ap_cmd_keys(cmd, 7, argv, idx, 8);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(idx[0], 2);
	ck_assert_int_eq(idx[1], 3);
	const struct ap_cmd *mv = ap_cmd_lookup("lmove", 5);
	n = ap_cmd_keys(mv, 5, argv, idx, 8);
	ck_assert_uint_eq(n, 2);
}
END_TEST

/* Pushes n copies of elem onto key (tail), in batches. */
static void push_n(const char *key, const char *elem, int n)
{
	for (int i = 0; i < n; i++) {
		size_t len;
		ap_free(h_run((const char *const[]){"rpush", key, elem, NULL},
			      &len));
	}
}

START_TEST(test_encodings)
{
	/* default -2 (8 KB): 100-byte elements, 79 stay a listpack */
	char e100[101];
	memset(e100, 'e', 100);
	e100[100] = '\0';
	push_n("l", e100, 79);
	expect_enc("l", AP_ENC_LISTPACK);
	push_n("l", e100, 1);
	expect_enc("l", AP_ENC_QUICKLIST);
	/* pops back to half a node (4 KB: 39 elements) in one node */
	char exp[128];
	int n = snprintf(exp, sizeof(exp), "$100\r\n%s\r\n", e100);
	for (int i = 0; i < 40; i++) {
		size_t len;
		char *got =
			h_run((const char *const[]){"rpop", "l", NULL}, &len);
		h_compare(__LINE__, exp, (size_t)n, got, len);
		ap_free(got);
	}
	expect_enc("l", AP_ENC_QUICKLIST);
	H_EXPECT(":1\r\n", "lrem", "l", "1", e100);
	expect_enc("l", AP_ENC_LISTPACK);
	H_EXPECT(":39\r\n", "llen", "l");

	/* count fill */
	h_cfg.list_max_listpack_size = 4;
	H_EXPECT(":4\r\n", "rpush", "c", "1", "2", "3", "4");
	expect_enc("c", AP_ENC_LISTPACK);
	H_EXPECT(":5\r\n", "lpush", "c", "0");
	expect_enc("c", AP_ENC_QUICKLIST);
	H_EXPECT(":1\r\n", "lrem", "c", "-1", "4"); /* [0][1 2 3] */
	expect_enc("c", AP_ENC_QUICKLIST);
	H_OK("ltrim", "c", "0", "1"); /* [0][1]: two nodes */
	expect_enc("c", AP_ENC_QUICKLIST);
	H_EXPECT("$1\r\n1\r\n", "rpop", "c"); /* one node, at most half */
	expect_enc("c", AP_ENC_LISTPACK);
	H_EXPECT("*1\r\n$1\r\n0\r\n", "lrange", "c", "0", "-1");
	/* linsert grows like a push */
	H_EXPECT(":2\r\n", "linsert", "c", "after", "0", "x");
	H_EXPECT(":3\r\n", "linsert", "c", "after", "0", "y");
	H_EXPECT(":4\r\n", "linsert", "c", "after", "0", "z");
	expect_enc("c", AP_ENC_LISTPACK);
	H_EXPECT(":5\r\n", "linsert", "c", "after", "0", "w");
	expect_enc("c", AP_ENC_QUICKLIST);
	H_EXPECT("*5\r\n$1\r\n0\r\n$1\r\nw\r\n$1\r\nz\r\n$1\r\ny\r\n"
		 "$1\r\nx\r\n",
		 "lrange", "c", "0", "-1");
	/* even a missing pivot converts, as Redis (it grows first) */
	H_EXPECT(":4\r\n", "rpush", "d", "1", "2", "3", "4");
	H_EXPECT(":-1\r\n", "linsert", "d", "after", "nope", "z");
	expect_enc("d", AP_ENC_QUICKLIST);
	/* lmove into a full listpack converts it */
	H_EXPECT(":4\r\n", "rpush", "m", "1", "2", "3", "4");
	H_EXPECT("$1\r\n0\r\n", "lmove", "c", "m", "left", "left");
	expect_enc("m", AP_ENC_QUICKLIST);
	expect_enc("c", AP_ENC_QUICKLIST); /* [w][z y x] */

	/* a huge element is a quicklist right away */
	h_cfg.list_max_listpack_size = -2;
	char *big = malloc(9001);
	memset(big, 'B', 9000);
	big[9000] = '\0';
	H_EXPECT(":1\r\n", "rpush", "big", big);
	expect_enc("big", AP_ENC_QUICKLIST);
	H_EXPECT(":2\r\n", "rpush", "big", "small");
	H_EXPECT("$5\r\nsmall\r\n", "rpop", "big");
	expect_enc("big", AP_ENC_QUICKLIST);
	free(big);
}
END_TEST

/* A value of each encoding, through the ops. */
START_TEST(test_type_ops_values)
{
	const struct ap_type_ops *ops = ap_list_type_ops;
	struct ap_list_ref ref;
	enum ap_enc enc;
	ap_list_ref_open(&ref, NULL, AP_ENC_LISTPACK, 2);
	for (int i = 0; i < 3000; i++) {
		ap_list_ref_grow(&ref, 1, 1);
		ap_list_push(ref.l, AP_LIST_TAIL, "v", 1);
	}
	void *ql = ap_list_ref_close(&ref, false, &enc);
	ck_assert_int_eq(enc, AP_ENC_QUICKLIST);
	ck_assert_uint_eq(ops->length(ql, enc), 3000);
	size_t mem = ops->mem(ql, enc);
	ck_assert_uint_gt(mem, 1500 * 32);
	void *d = ops->dup(ql, enc);
	ck_assert_uint_eq(ops->length(d, enc), 3000);
	ops->free(d, enc);
	int steps = 1;
	while (!ops->free_some(ql, enc, 1000))
		steps++;
	ck_assert_int_eq(steps, 3);

	ap_list_ref_open(&ref, NULL, AP_ENC_LISTPACK, 128);
	ap_list_push(ref.l, AP_LIST_TAIL, "a", 1);
	void *lp = ap_list_ref_close(&ref, false, &enc);
	ck_assert_int_eq(enc, AP_ENC_LISTPACK);
	ck_assert_uint_eq(ops->length(lp, enc), 1);
	ck_assert_uint_gt(ops->mem(lp, enc), 10);
	d = ops->dup(lp, enc);
	ck_assert(ops->free_some(d, enc, 1));
	ops->free(lp, enc);
}
END_TEST

START_TEST(test_copy_del_list)
{
	h_cfg.list_max_listpack_size = 2;
	H_EXPECT(":5\r\n", "rpush", "l", "a", "b", "c", "d", "e");
	H_EXPECT(":1\r\n", "copy", "l", "l2");
	H_EXPECT(":1\r\n", "rpush", "p", "a");
	H_EXPECT(":1\r\n", "copy", "p", "p2");
	H_EXPECT("$1\r\ne\r\n", "rpop", "l");
	H_EXPECT(
		"*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n",
		"lrange", "l2", "0", "-1");
	H_EXPECT("*1\r\n$1\r\na\r\n", "lrange", "p2", "0", "-1");
	H_EXPECT(":4\r\n", "del", "l", "l2", "p", "p2");
}
END_TEST

/* --- randomized commands against a model ----------------------------- */

#define RM_MAX 4096
static char *rm_s[RM_MAX];
static size_t rm_n;

/* The RESP2 reply LRANGE 0 -1 would give for the model. */
static char *rm_render(size_t *out_len)
{
	size_t cap = 64;
	for (size_t i = 0; i < rm_n; i++)
		cap += strlen(rm_s[i]) + 32;
	char *b = malloc(cap);
	size_t o = (size_t)sprintf(b, "*%zu\r\n", rm_n);
	for (size_t i = 0; i < rm_n; i++)
		o += (size_t)sprintf(b + o, "$%zu\r\n%s\r\n", strlen(rm_s[i]),
				     rm_s[i]);
	*out_len = o;
	return b;
}

static void rm_insert(size_t at, const char *s)
{
	ck_assert_uint_lt(rm_n, RM_MAX);
	memmove(rm_s + at + 1, rm_s + at, (rm_n - at) * sizeof(char *));
	rm_s[at] = strdup(s);
	rm_n++;
}

static void rm_delete(size_t at)
{
	free(rm_s[at]);
	memmove(rm_s + at, rm_s + at + 1, (rm_n - at - 1) * sizeof(char *));
	rm_n--;
}

/* Runs words and frees the reply. */
static void run_quiet(const char *const *words)
{
	size_t len;
	ap_free(h_run(words, &len));
}

START_TEST(test_random_commands)
{
	static const char *vals[] = {"a", "b", "1", "22", "-3", "abc", ""};
	char bigv[600];
	memset(bigv, 'W', 599);
	bigv[599] = '\0';
	srand(99);
	h_cfg.list_max_listpack_size = 3;
	for (int i = 0; i < 3000; i++) {
		const char *v = rand() % 20 ? vals[rand() % 7] : bigv;
		char idx[32];
		size_t at = rm_n ? (size_t)rand() % rm_n : 0;
		sprintf(idx, "%zu", at);
		if (i % 700 == 0)
			h_cfg.list_max_listpack_size = (i / 700) % 2 ? -1 : 3;
		switch (rand() % 8) {
		case 0:
			run_quiet((const char *const[]){"lpush", "k", v, NULL});
			rm_insert(0, v);
			break;
		case 1:
			run_quiet((const char *const[]){"rpush", "k", v, NULL});
			rm_insert(rm_n, v);
			break;
		case 2:
			run_quiet((const char *const[]){"lpop", "k", NULL});
			if (rm_n)
				rm_delete(0);
			break;
		case 3:
			run_quiet((const char *const[]){"rpop", "k", NULL});
			if (rm_n)
				rm_delete(rm_n - 1);
			break;
		case 4:
			if (!rm_n)
				break;
			run_quiet((const char *const[]){"lset", "k", idx, v,
							NULL});
			free(rm_s[at]);
			rm_s[at] = strdup(v);
			break;
		case 5: {
			if (!rm_n)
				break;
			/* insert after the first occurrence of rm_s[at] */
			size_t f = 0;
			while (strcmp(rm_s[f], rm_s[at]) != 0)
				f++;
			char *pivot = strdup(rm_s[at]);
			run_quiet((const char *const[]){"linsert", "k", "after",
							pivot, v, NULL});
			rm_insert(f + 1, v);
			free(pivot);
			break;
		}
		case 6: {
			int cnt = rand() % 5 - 2;
			char cs[8];
			sprintf(cs, "%d", cnt);
			run_quiet((const char *const[]){"lrem", "k", cs, v,
							NULL});
			size_t lim = cnt == 0 ? SIZE_MAX : (size_t)abs(cnt);
			size_t done = 0;
			if (cnt >= 0) {
				for (size_t j = 0; j < rm_n && done < lim;)
					if (strcmp(rm_s[j], v) == 0) {
						rm_delete(j);
						done++;
					} else {
						j++;
					}
			} else {
				for (size_t j = rm_n; j-- > 0 && done < lim;)
					if (strcmp(rm_s[j], v) == 0) {
						rm_delete(j);
						done++;
					}
			}
			break;
		}
		default: {
			if (rand() % 4)
				break;
			run_quiet((const char *const[]){"ltrim", "k", "1", "-2",
							NULL});
			if (rm_n <= 2) {
				while (rm_n)
					rm_delete(0);
			} else {
				rm_delete(rm_n - 1);
				rm_delete(0);
			}
			break;
		}
		}
		if (i % 10 == 0) {
			size_t elen;
			char *exp = rm_render(&elen);
			size_t glen;
			char *got =
				h_run((const char *const[]){"lrange", "k", "0",
							    "-1", NULL},
				      &glen);
			h_compare(__LINE__, exp, elen, got, glen);
			ck_assert((rm_n == 0) == (h_peek("k") == NULL));
			free(exp);
			ap_free(got);
		}
	}
	while (rm_n)
		rm_delete(0);
}
END_TEST

static Suite *cmd_list_suite(void)
{
	Suite *s = suite_create("cmd_list");
	TCase *tc = tcase_create("commands");
	tcase_add_checked_fixture(tc, h_setup, h_teardown);
	tcase_add_test(tc, test_push);
	tcase_add_test(tc, test_pop);
	tcase_add_test(tc, test_llen);
	tcase_add_test(tc, test_lrange);
	tcase_add_test(tc, test_lindex);
	tcase_add_test(tc, test_lset);
	tcase_add_test(tc, test_linsert);
	tcase_add_test(tc, test_lrem);
	tcase_add_test(tc, test_ltrim);
	tcase_add_test(tc, test_lpos);
	tcase_add_test(tc, test_lmove);
	tcase_add_test(tc, test_lmpop);
	tcase_add_test(tc, test_lmpop_keys);
	tcase_add_test(tc, test_encodings);
	tcase_add_test(tc, test_type_ops_values);
	tcase_add_test(tc, test_copy_del_list);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_set_timeout(tc, 300);
	tcase_add_checked_fixture(tc, h_setup, h_teardown);
	tcase_add_test(tc, test_random_commands);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	ap_core_setup();

	SRunner *sr = srunner_create(cmd_list_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
