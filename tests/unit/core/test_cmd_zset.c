/*
 * test_cmd_zset.c - the sorted-set commands through the command table
 * (tests/unit/core/cmd_harness.h): every command, option and error text,
 * in RESP2 and RESP3, on listpack- and skiplist-encoded sets; the
 * encoding boundaries, ZRANK WITHSCORE (7.2), -0 scores, dirty counts,
 * ZRANDMEMBER shapes and bounds, ZSCAN over a big set, plain sets (all
 * three encodings) as inputs of the set operations, key positions of the
 * movable-key commands, and long ranges checked against computed
 * expectations.
 *
 * The tables of rows (command, RESP2 reply, RESP3 reply when it differs)
 * hold replies recorded from Redis 7.0 where 7.0 and 7.2 agree; each table
 * runs in both protocols and, where replies do not depend on hash order,
 * with both encodings.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/cmd.h"
#include "core/limits.h"
#include "tests/unit/core/cmd_harness.h"

#define ROW_ARGS 20

struct row {
	const char *argv[ROW_ARGS]; /* NULL-terminated */
	const char *r2;		    /* RESP2 reply */
	const char *r3;		    /* RESP3 reply; NULL: as RESP2 */
};

/* Runs every row of a table in the given protocol, with listpacks or
 * (lp_max 0) skiplists. */
static void run_rows(const struct row *rows, size_t n, int proto, int lp_max)
{
	h_proto = proto;
	h_cfg.zset_max_listpack_entries = lp_max;
	for (size_t i = 0; i < n; i++) {
		const char *exp =
			proto == 3 && rows[i].r3 ? rows[i].r3 : rows[i].r2;
		int line = (int)i + 1;
		size_t len;
		char *got = h_run(rows[i].argv, &len);

		h_compare(line, exp, strlen(exp), got, len);
		ap_free(got);
	}
}

/* ZADD (options, incompatibilities, INCR, NaN), ZINCRBY, ZREM */
static const struct row rows_zadd_family[] = {
	{{"set", "s", "x"}, "+OK\r\n", NULL},
	{{"zadd", "s", "1", "a"},
	 "-WRONGTYPE Operation against a key holding the wrong kind of "
	 "value\r\n",
	 NULL},
	{{"zadd", "s", "abc", "a"},
	 "-ERR value is not a valid float\r\n",
	 NULL},
	{{"zadd", "s", "xx", "nx", "1", "a"},
	 "-ERR XX and NX options at the same time are not compatible\r\n",
	 NULL},
	{{"zadd", "z", "xx", "1"}, "-ERR syntax error\r\n", NULL},
	{{"zadd", "z", "ch", "xx", "1", "a"}, ":0\r\n", NULL},
	{{"exists", "z"}, ":0\r\n", NULL},
	{{"zadd", "z", "xx", "incr", "1", "a"}, "$-1\r\n", "_\r\n"},
	{{"zadd", "z", "1", "a", "2", "b"}, ":2\r\n", NULL},
	{{"zadd", "z", "ch", "5", "a", "2", "b", "3", "c"}, ":2\r\n", NULL},
	{{"zadd", "z", "lt", "ch", "1", "a", "9", "b"}, ":1\r\n", NULL},
	{{"zadd", "z", "GT", "CH", "INCR", "1", "a"}, "$1\r\n2\r\n", ",2\r\n"},
	{{"zadd", "z", "lt", "incr", "1", "a"}, "$-1\r\n", "_\r\n"},
	{{"zadd", "z", "nx", "incr", "1", "a"}, "$-1\r\n", "_\r\n"},
	{{"zadd", "z", "nx", "7", "a", "8", "n"}, ":1\r\n", NULL},
	{{"zadd", "z", "xx", "7", "a", "8", "m"}, ":0\r\n", NULL},
	{{"zadd", "z", "nx", "gt", "1", "a"},
	 "-ERR GT, LT, and/or NX options at the same time are not "
	 "compatible\r\n",
	 NULL},
	{{"zadd", "z", "nx", "lt", "1", "a"},
	 "-ERR GT, LT, and/or NX options at the same time are not "
	 "compatible\r\n",
	 NULL},
	{{"zadd", "z", "gt", "lt", "1", "a"},
	 "-ERR GT, LT, and/or NX options at the same time are not "
	 "compatible\r\n",
	 NULL},
	{{"zadd", "z", "incr", "1", "a", "2", "b"},
	 "-ERR INCR option supports a single increment-element pair\r\n",
	 NULL},
	{{"zadd", "z", "1", "a", "2"}, "-ERR syntax error\r\n", NULL},
	{{"zadd", "z", "nan", "a"},
	 "-ERR value is not a valid float\r\n",
	 NULL},
	{{"zadd", "z", "1", "a", "nan", "b"},
	 "-ERR value is not a valid float\r\n",
	 NULL},
	{{"zadd", "z", "incr", "+inf", "a"}, "$3\r\ninf\r\n", ",inf\r\n"},
	{{"zadd", "z", "incr", "-inf", "a"},
	 "-ERR resulting score is not a number (NaN)\r\n",
	 NULL},
	{{"zadd", "z", "incr", "1", "a"}, "$3\r\ninf\r\n", ",inf\r\n"},
	{{"zincrby", "z", "-inf", "a"},
	 "-ERR resulting score is not a number (NaN)\r\n",
	 NULL},
	{{"zincrby", "nokey", "1.5", "m"}, "$3\r\n1.5\r\n", ",1.5\r\n"},
	{{"zincrby", "z", "abc", "m"},
	 "-ERR value is not a valid float\r\n",
	 NULL},
	{{"zincrby", "z", "2", "m"}, "$1\r\n2\r\n", ",2\r\n"},
	{{"zincrby", "s", "1", "a"},
	 "-WRONGTYPE Operation against a key holding the wrong kind of "
	 "value\r\n",
	 NULL},
	{{"zrange", "z", "0", "-1", "withscores"},
	 "*10\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nm\r\n$1\r\n2\r\n$1\r\nc\r\n$"
	 "1\r\n3\r\n$1\r\nn\r\n$1\r\n8\r\n$1\r\na\r\n$3\r\ninf\r\n",
	 "*5\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nm\r\n,2\r\n*2\r\n$"
	 "1\r\nc\r\n,3\r\n*2\r\n$1\r\nn\r\n,8\r\n*2\r\n$1\r\na\r\n,inf\r\n"},
	{{"zrem", "z", "a", "x", "a"}, ":1\r\n", NULL},
	{{"zrem", "nokey", "a"}, ":0\r\n", NULL},
	{{"zrem", "s", "a"},
	 "-WRONGTYPE Operation against a key holding the wrong kind of "
	 "value\r\n",
	 NULL},
	{{"zrem", "z", "b", "c", "m", "n"}, ":4\r\n", NULL},
	{{"exists", "z"}, ":0\r\n", NULL},
	{{"zadd", "f", "1.1", "a", "5e-324", "b", "-1e-300", "c",
	  "123456789012345678", "d", "0x10", "h", "1e20", "big"},
	 ":6\r\n",
	 NULL},
	{{"zrange", "f", "0", "-1", "withscores"},
	 "*12\r\n$1\r\nc\r\n$7\r\n-1e-300\r\n$1\r\nb\r\n$23\r\n4."
	 "9406564584124654e-324\r\n$1\r\na\r\n$18\r\n1.1000000000000001\r\n$"
	 "1\r\nh\r\n$2\r\n16\r\n$1\r\nd\r\n$22\r\n1.2345678901234568e+17\r\n$"
	 "3\r\nbig\r\n$5\r\n1e+20\r\n",
	 "*6\r\n*2\r\n$1\r\nc\r\n,-1e-300\r\n*2\r\n$1\r\nb\r\n,4."
	 "9406564584124654e-324\r\n*2\r\n$1\r\na\r\n,1.1000000000000001\r\n*"
	 "2\r\n$1\r\nh\r\n,16\r\n*2\r\n$1\r\nd\r\n,1.2345678901234568e+17\r\n*"
	 "2\r\n$3\r\nbig\r\n,1e+20\r\n"},
	{{"zadd", "f", " 1", "sp"},
	 "-ERR value is not a valid float\r\n",
	 NULL},
	{{"zadd", "f", "1 ", "sp"},
	 "-ERR value is not a valid float\r\n",
	 NULL},
	{{"zadd", "f", "1e400", "big"},
	 "-ERR value is not a valid float\r\n",
	 NULL},
	{{"zadd", "f", "", "emp"}, "-ERR value is not a valid float\r\n", NULL},
	{{"zincrby", "f", "1e308", "a"}, "$6\r\n1e+308\r\n", ",1e+308\r\n"},
	{{"zincrby", "f", "1e308", "a"}, "$3\r\ninf\r\n", ",inf\r\n"},
	{{"zscore", "f", "a"}, "$3\r\ninf\r\n", ",inf\r\n"},
	{{"zadd", "f", "-inf", "m"}, ":1\r\n", NULL},
	{{"zscore", "f", "m"}, "$4\r\n-inf\r\n", ",-inf\r\n"},
};

/* ZRANK ZREVRANK ZSCORE ZMSCORE ZCARD ZCOUNT ZLEXCOUNT */
static const struct row rows_reads[] = {
	{{"set", "s", "x"}, "+OK\r\n", NULL},
	{{"zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"},
	 ":5\r\n",
	 NULL},
	{{"zrank", "z", "a"}, ":0\r\n", NULL},
	{{"zrank", "z", "e"}, ":4\r\n", NULL},
	{{"zrank", "z", "x"}, "$-1\r\n", "_\r\n"},
	{{"zrank", "nokey", "a"}, "$-1\r\n", "_\r\n"},
	{{"zrank", "s", "a"},
	 "-WRONGTYPE Operation against a key holding the wrong kind of "
	 "value\r\n",
	 NULL},
	{{"zrevrank", "z", "a"}, ":4\r\n", NULL},
	{{"zrevrank", "z", "x"}, "$-1\r\n", "_\r\n"},
	{{"zscore", "z", "x"}, "$-1\r\n", "_\r\n"},
	{{"zscore", "z", "c"}, "$1\r\n3\r\n", ",3\r\n"},
	{{"zscore", "nokey", "c"}, "$-1\r\n", "_\r\n"},
	{{"zscore", "s", "a"},
	 "-WRONGTYPE Operation against a key holding the wrong kind of "
	 "value\r\n",
	 NULL},
	{{"zmscore", "z", "a", "x", "c"},
	 "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n3\r\n",
	 "*3\r\n,1\r\n_\r\n,3\r\n"},
	{{"zmscore", "nokey", "a", "b"},
	 "*2\r\n$-1\r\n$-1\r\n",
	 "*2\r\n_\r\n_\r\n"},
	{{"zmscore", "s", "a"},
	 "-WRONGTYPE Operation against a key holding the wrong kind of "
	 "value\r\n",
	 NULL},
	{{"zcard", "z"}, ":5\r\n", NULL},
	{{"zcard", "nokey"}, ":0\r\n", NULL},
	{{"zcard", "s"},
	 "-WRONGTYPE Operation against a key holding the wrong kind of "
	 "value\r\n",
	 NULL},
	{{"zcount", "z", "a", "b"}, "-ERR min or max is not a float\r\n", NULL},
	{{"zcount", "z", "1", "a"}, "-ERR min or max is not a float\r\n", NULL},
	{{"zcount", "z", "-inf", "+inf"}, ":5\r\n", NULL},
	{{"zcount", "z", "(1", "3"}, ":2\r\n", NULL},
	{{"zcount", "z", "(1", "(1"}, ":0\r\n", NULL},
	{{"zcount", "z", "3", "1"}, ":0\r\n", NULL},
	{{"zcount", "nokey", "0", "1"}, ":0\r\n", NULL},
	{{"zcount", "s", "0", "1"},
	 "-WRONGTYPE Operation against a key holding the wrong kind of "
	 "value\r\n",
	 NULL},
	{{"zlexcount", "z", "a", "b"},
	 "-ERR min or max not valid string range item\r\n",
	 NULL},
	{{"zlexcount", "z", "-", "+"}, ":5\r\n", NULL},
	{{"zlexcount", "z", "[b", "+"}, ":4\r\n", NULL},
	{{"zlexcount", "z", "(b", "[d"}, ":2\r\n", NULL},
	{{"zlexcount", "z", "+", "-"}, ":0\r\n", NULL},
	{{"zlexcount", "z", "[c", "[c"}, ":1\r\n", NULL},
	{{"zlexcount", "z", "(c", "[c"}, ":0\r\n", NULL},
	{{"zlexcount", "nokey", "-", "+"}, ":0\r\n", NULL},
	{{"zlexcount", "s", "-", "+"},
	 "-WRONGTYPE Operation against a key holding the wrong kind of "
	 "value\r\n",
	 NULL},
};

/* the ZRANGE family and ZRANGESTORE */
static const struct row rows_ranges[] = {
	{{"set", "s", "x"}, "+OK\r\n", NULL},
	{{"zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"},
	 ":5\r\n",
	 NULL},
	{{"zrange", "z", "5", "1"}, "*0\r\n", NULL},
	{{"zrange", "z", "-100", "100"},
	 "*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n",
	 NULL},
	{{"zrange", "z", "1", "-1", "withscores"},
	 "*8\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$"
	 "1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n",
	 "*4\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$"
	 "1\r\nd\r\n,4\r\n*2\r\n$1\r\ne\r\n,5\r\n"},
	{{"zrange", "z", "-2", "-1"}, "*2\r\n$1\r\nd\r\n$1\r\ne\r\n", NULL},
	{{"zrange", "z", "0", "-1", "byscore"}, "*0\r\n", NULL},
	{{"zrange", "z", "(1", "+inf", "byscore", "withscores"},
	 "*8\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$"
	 "1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n",
	 "*4\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$"
	 "1\r\nd\r\n,4\r\n*2\r\n$1\r\ne\r\n,5\r\n"},
	{{"zrange", "z", "0", "-1", "bylex"},
	 "-ERR min or max not valid string range item\r\n",
	 NULL},
	{{"zrange", "z", "-", "+", "bylex", "withscores"},
	 "-ERR syntax error, WITHSCORES not supported in combination with "
	 "BYLEX\r\n",
	 NULL},
	{{"zrange", "z", "-", "+", "bylex"},
	 "*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n",
	 NULL},
	{{"zrange", "z", "[b", "(d", "bylex"},
	 "*2\r\n$1\r\nb\r\n$1\r\nc\r\n",
	 NULL},
	{{"zrange", "z", "+", "-", "bylex", "rev"},
	 "*5\r\n$1\r\ne\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n",
	 NULL},
	{{"zrange", "z", "0", "-1", "limit", "0", "1"},
	 "-ERR syntax error, LIMIT is only supported in combination with "
	 "either BYSCORE or BYLEX\r\n",
	 NULL},
	{{"zrange", "z", "0", "-1", "limit", "5", "-1"},
	 "*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n",
	 NULL},
	{{"zrange", "z", "0", "-1", "byscore", "limit", "0"},
	 "-ERR syntax error\r\n",
	 NULL},
	{{"zrange", "z", "0", "-1", "byscore", "limit", "a", "b"},
	 "-ERR value is not an integer or out of range\r\n",
	 NULL},
	{{"zrange", "z", "0", "-1", "byscore", "limit", "1", "x"},
	 "-ERR value is not an integer or out of range\r\n",
	 NULL},
	{{"zrange", "z", "-inf", "+inf", "byscore", "limit", "1", "-1"},
	 "*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n",
	 NULL},
	{{"zrange", "z", "-inf", "+inf", "byscore", "limit", "1", "2"},
	 "*2\r\n$1\r\nb\r\n$1\r\nc\r\n",
	 NULL},
	{{"zrange", "z", "-inf", "+inf", "byscore", "limit", "10", "2"},
	 "*0\r\n",
	 NULL},
	{{"zrange", "z", "0", "-1", "byscore", "limit", "-1", "5"},
	 "*0\r\n",
	 NULL},
	{{"zrange", "z", "0", "-1", "byscore", "bylex"},
	 "-ERR syntax error\r\n",
	 NULL},
	{{"zrange", "z", "0", "-1", "rev", "rev"},
	 "-ERR syntax error\r\n",
	 NULL},
	{{"zrange", "z", "0", "-1", "rev"},
	 "*5\r\n$1\r\ne\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n",
	 NULL},
	{{"zrange", "z", "0", "-1", "rev", "withscores"},
	 "*10\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$"
	 "1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n",
	 "*5\r\n*2\r\n$1\r\ne\r\n,5\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$"
	 "1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\na\r\n,1\r\n"},
	{{"zrange", "z", "1", "2", "rev", "withscores"},
	 "*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$1\r\n3\r\n",
	 "*2\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\nc\r\n,3\r\n"},
	{{"zrange", "z", "+inf", "-inf", "byscore", "rev"},
	 "*5\r\n$1\r\ne\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n",
	 NULL},
	{{"zrange", "z", "+inf", "-inf", "byscore", "rev", "limit", "1", "2",
	  "withscores"},
	 "*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$1\r\n3\r\n",
	 "*2\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\nc\r\n,3\r\n"},
	{{"zrange", "z", "2", "(4", "byscore", "rev"}, "*0\r\n", NULL},
	{{"zrange", "z", "a", "b"},
	 "-ERR value is not an integer or out of range\r\n",
	 NULL},
	{{"zrange", "z", "a", "b", "byscore"},
	 "-ERR min or max is not a float\r\n",
	 NULL},
	{{"zrange", "z", "a", "b", "bylex"},
	 "-ERR min or max not valid string range item\r\n",
	 NULL},
	{{"zrange", "z", "0", "-1", "foo"}, "-ERR syntax error\r\n", NULL},
	{{"zrange", "z", "0", "-1", "WITHSCORES", "BYSCORE", "LIMIT", "0", "3",
	  "REV"},
	 "*0\r\n",
	 NULL},
	{{"zrange", "s", "0", "-1"},
	 "-WRONGTYPE Operation against a key holding the wrong kind of "
	 "value\r\n",
	 NULL},
	{{"zrange", "nokey", "0", "-1"}, "*0\r\n", NULL},
	{{"zrange", "nokey", "0", "-1", "withscores"}, "*0\r\n", NULL},
	{{"zrangebyscore", "z", "-inf", "+inf", "withscores", "limit", "1",
	  "1"},
	 "*2\r\n$1\r\nb\r\n$1\r\n2\r\n",
	 "*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"},
	{{"zrangebyscore", "z", "-inf", "+inf", "limit", "1"},
	 "-ERR syntax error\r\n",
	 NULL},
	{{"zrangebyscore", "z", "-inf", "+inf", "foo"},
	 "-ERR syntax error\r\n",
	 NULL},
	{{"zrangebyscore", "z", "-inf", "+inf", "rev"},
	 "-ERR syntax error\r\n",
	 NULL},
	{{"zrangebyscore", "z", "(1", "(1"}, "*0\r\n", NULL},
	{{"zrangebyscore", "z", "1", "0"}, "*0\r\n", NULL},
	{{"zrangebyscore", "z", " 1", "(3"},
	 "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
	 NULL},
	{{"zrangebyscore", "z", "(", "(3"},
	 "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
	 NULL},
	{{"zrangebyscore", "z", "nan", "3"},
	 "-ERR min or max is not a float\r\n",
	 NULL},
	{{"zrangebyscore", "z", "1", "(nan"},
	 "-ERR min or max is not a float\r\n",
	 NULL},
	{{"zrangebyscore", "z", "-inf", "(inf", "withscores"},
	 "*10\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$"
	 "1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n",
	 "*5\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$"
	 "1\r\nc\r\n,3\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\ne\r\n,5\r\n"},
	{{"zrevrangebyscore", "z", "+inf", "-inf", "withscores", "limit", "1",
	  "2"},
	 "*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$1\r\n3\r\n",
	 "*2\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\nc\r\n,3\r\n"},
	{{"zrevrangebyscore", "z", "3", "1"},
	 "*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n",
	 NULL},
	{{"zrevrangebyscore", "z", "(3", "(1"}, "*1\r\n$1\r\nb\r\n", NULL},
	{{"zrevrangebyscore", "z", "1", "3"}, "*0\r\n", NULL},
	{{"zrangebylex", "z", "-", "+", "withscores"},
	 "-ERR syntax error, WITHSCORES not supported in combination with "
	 "BYLEX\r\n",
	 NULL},
	{{"zrangebylex", "z", "-", "+", "limit", "1", "2"},
	 "*2\r\n$1\r\nb\r\n$1\r\nc\r\n",
	 NULL},
	{{"zrangebylex", "z", "[a", "[c"},
	 "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
	 NULL},
	{{"zrangebylex", "z", "a", "c"},
	 "-ERR min or max not valid string range item\r\n",
	 NULL},
	{{"zrangebylex", "z", "[a", "+c"},
	 "-ERR min or max not valid string range item\r\n",
	 NULL},
	{{"zrangebylex", "z", "(a", "(a"}, "*0\r\n", NULL},
	{{"zrevrangebylex", "z", "+", "-", "limit", "0", "2"},
	 "*2\r\n$1\r\ne\r\n$1\r\nd\r\n",
	 NULL},
	{{"zrevrangebylex", "z", "[c", "-", "limit", "1", "10"},
	 "*2\r\n$1\r\nb\r\n$1\r\na\r\n",
	 NULL},
	{{"zrevrangebylex", "z", "-", "+"}, "*0\r\n", NULL},
	{{"zrevrange", "z", "0", "-1", "withscores"},
	 "*10\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$"
	 "1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n",
	 "*5\r\n*2\r\n$1\r\ne\r\n,5\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$"
	 "1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\na\r\n,1\r\n"},
	{{"zrevrange", "z", "0", "1"}, "*2\r\n$1\r\ne\r\n$1\r\nd\r\n", NULL},
	{{"zrevrange", "z", "-1", "-1"}, "*1\r\n$1\r\na\r\n", NULL},
	{{"zrevrange", "z", "0", "-1", "limit", "0", "1"},
	 "-ERR syntax error, LIMIT is only supported in combination with "
	 "either BYSCORE or BYLEX\r\n",
	 NULL},
	{{"zrevrange", "z", "0", "-1", "bylex"}, "-ERR syntax error\r\n", NULL},
	{{"zrevrange", "z", "0", "-1", "rev"}, "-ERR syntax error\r\n", NULL},
	{{"zrangestore", "d", "z", "0", "-1", "withscores"},
	 "-ERR syntax error\r\n",
	 NULL},
	{{"zrangestore", "d", "z", "0", "-1"}, ":5\r\n", NULL},
	{{"zrange", "d", "0", "-1", "withscores"},
	 "*10\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$"
	 "1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n",
	 "*5\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$"
	 "1\r\nc\r\n,3\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\ne\r\n,5\r\n"},
	{{"zrangestore", "d", "z", "1", "2", "rev"}, ":2\r\n", NULL},
	{{"zrange", "d", "0", "-1", "withscores"},
	 "*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n",
	 "*2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nd\r\n,4\r\n"},
	{{"zrangestore", "d", "z", "(1", "+inf", "byscore", "limit", "1", "2"},
	 ":2\r\n",
	 NULL},
	{{"zrange", "d", "0", "-1", "withscores"},
	 "*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n",
	 "*2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nd\r\n,4\r\n"},
	{{"zrangestore", "d", "z", "+", "-", "bylex", "rev", "limit", "0", "2"},
	 ":2\r\n",
	 NULL},
	{{"zrange", "d", "0", "-1", "withscores"},
	 "*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n",
	 "*2\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\ne\r\n,5\r\n"},
	{{"zrangestore", "d", "s", "0", "-1"},
	 "-WRONGTYPE Operation against a key holding the wrong kind of "
	 "value\r\n",
	 NULL},
	{{"zrangestore", "d", "z", "10", "20"}, ":0\r\n", NULL},
	{{"exists", "d"}, ":0\r\n", NULL},
	{{"zrangestore", "s", "z", "0", "0"}, ":1\r\n", NULL},
	{{"type", "s"}, "+zset\r\n", NULL},
	{{"zrangestore", "z", "z", "1", "1"}, ":1\r\n", NULL},
	{{"zrange", "z", "0", "-1", "withscores"},
	 "*2\r\n$1\r\nb\r\n$1\r\n2\r\n",
	 "*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"},
	{{"zrangestore", "d", "nokey", "0", "-1"}, ":0\r\n", NULL},
};

/* ZREMRANGEBYRANK / BYSCORE / BYLEX */
static const struct row rows_remrange[] = {
	{{"set", "s", "x"}, "+OK\r\n", NULL},
	{{"zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6",
	  "f", "7", "g"},
	 ":7\r\n",
	 NULL},
	{{"zremrangebyrank", "z", "a", "b"},
	 "-ERR value is not an integer or out of range\r\n",
	 NULL},
	{{"zremrangebyscore", "z", "a", "b"},
	 "-ERR min or max is not a float\r\n",
	 NULL},
	{{"zremrangebylex", "z", "a", "b"},
	 "-ERR min or max not valid string range item\r\n",
	 NULL},
	{{"zremrangebyrank", "s", "0", "1"},
	 "-WRONGTYPE Operation against a key holding the wrong kind of "
	 "value\r\n",
	 NULL},
	{{"zremrangebyrank", "z", "5", "1"}, ":0\r\n", NULL},
	{{"zremrangebyrank", "z", "10", "20"}, ":0\r\n", NULL},
	{{"zremrangebyrank", "z", "-1", "-1"}, ":1\r\n", NULL},
	{{"zremrangebyscore", "z", "(5", "+inf"}, ":1\r\n", NULL},
	{{"zremrangebyscore", "z", "3", "2"}, ":0\r\n", NULL},
	{{"zremrangebylex", "z", "-", "[a"}, ":1\r\n", NULL},
	{{"zremrangebylex", "z", "(c", "(c"}, ":0\r\n", NULL},
	{{"zrange", "z", "0", "-1", "withscores"},
	 "*8\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$"
	 "1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n",
	 "*4\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$"
	 "1\r\nd\r\n,4\r\n*2\r\n$1\r\ne\r\n,5\r\n"},
	{{"zremrangebyrank", "nokey", "0", "-1"}, ":0\r\n", NULL},
	{{"zremrangebyscore", "nokey", "-inf", "+inf"}, ":0\r\n", NULL},
	{{"zremrangebylex", "nokey", "-", "+"}, ":0\r\n", NULL},
	{{"zremrangebylex", "z", "[c", "[d"}, ":2\r\n", NULL},
	{{"zremrangebyrank", "z", "0", "-1"}, ":2\r\n", NULL},
	{{"exists", "z"}, ":0\r\n", NULL},
	{{"zadd", "z", "1", "a", "2", "b", "3", "c"}, ":3\r\n", NULL},
	{{"zremrangebyscore", "z", "-inf", "+inf"}, ":3\r\n", NULL},
	{{"exists", "z"}, ":0\r\n", NULL},
	{{"zadd", "z", "0", "a", "0", "b", "0", "c"}, ":3\r\n", NULL},
	{{"zremrangebylex", "z", "-", "+"}, ":3\r\n", NULL},
	{{"exists", "z"}, ":0\r\n", NULL},
};

/* ZPOPMIN ZPOPMAX ZMPOP */
static const struct row rows_pops[] = {
	{{"set", "s", "x"}, "+OK\r\n", NULL},
	{{"zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"},
	 ":5\r\n",
	 NULL},
	{{"zpopmin", "z", "-1"},
	 "-ERR value is out of range, must be positive\r\n",
	 NULL},
	{{"zpopmin", "z", "0"}, "*0\r\n", NULL},
	{{"zpopmin", "nokey"}, "*0\r\n", NULL},
	{{"zpopmin", "nokey", "2"}, "*0\r\n", NULL},
	{{"zpopmin", "z", "a"},
	 "-ERR value is out of range, must be positive\r\n",
	 NULL},
	{{"zpopmin", "z"},
	 "*2\r\n$1\r\na\r\n$1\r\n1\r\n",
	 "*2\r\n$1\r\na\r\n,1\r\n"},
	{{"zpopmin", "z", "2"},
	 "*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
	 "*2\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n"},
	{{"zpopmax", "z"},
	 "*2\r\n$1\r\ne\r\n$1\r\n5\r\n",
	 "*2\r\n$1\r\ne\r\n,5\r\n"},
	{{"zpopmax", "z", "10"},
	 "*2\r\n$1\r\nd\r\n$1\r\n4\r\n",
	 "*1\r\n*2\r\n$1\r\nd\r\n,4\r\n"},
	{{"zpopmin", "z", "1", "2"}, "-ERR syntax error\r\n", NULL},
	{{"exists", "z"}, ":0\r\n", NULL},
	{{"zpopmin", "s"},
	 "-WRONGTYPE Operation against a key holding the wrong kind of "
	 "value\r\n",
	 NULL},
	{{"zpopmin", "s", "0"},
	 "-WRONGTYPE Operation against a key holding the wrong kind of "
	 "value\r\n",
	 NULL},
	{{"zpopmin", "s", "-1"},
	 "-ERR value is out of range, must be positive\r\n",
	 NULL},
	{{"zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"},
	 ":5\r\n",
	 NULL},
	{{"zmpop", "0", "z", "min"},
	 "-ERR numkeys should be greater than 0\r\n",
	 NULL},
	{{"zmpop", "1", "z", "foo"}, "-ERR syntax error\r\n", NULL},
	{{"zmpop", "1", "z", "min", "count", "0"},
	 "-ERR count should be greater than 0\r\n",
	 NULL},
	{{"zmpop", "1", "z", "min", "count", "-1"},
	 "-ERR count should be greater than 0\r\n",
	 NULL},
	{{"zmpop", "1", "z", "min", "count", "x"},
	 "-ERR count should be greater than 0\r\n",
	 NULL},
	{{"zmpop", "2", "z", "min"}, "-ERR syntax error\r\n", NULL},
	{{"zmpop", "a", "z", "min"},
	 "-ERR numkeys should be greater than 0\r\n",
	 NULL},
	{{"zmpop", "-1", "z", "min"},
	 "-ERR numkeys should be greater than 0\r\n",
	 NULL},
	{{"zmpop", "1", "nokey", "min"}, "*-1\r\n", "_\r\n"},
	{{"zmpop", "1", "z", "min", "count", "1", "count", "1"},
	 "-ERR syntax error\r\n",
	 NULL},
	{{"zmpop", "1", "z", "max", "foo"}, "-ERR syntax error\r\n", NULL},
	{{"zmpop", "1", "z", "max", "count"}, "-ERR syntax error\r\n", NULL},
	{{"zmpop", "2", "s", "z", "min"},
	 "-WRONGTYPE Operation against a key holding the wrong kind of "
	 "value\r\n",
	 NULL},
	{{"zmpop", "2", "nokey", "z", "min", "count", "2"},
	 "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$"
	 "1\r\n2\r\n",
	 "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,"
	 "2\r\n"},
	{{"zmpop", "1", "z", "MAX"},
	 "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n",
	 "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\ne\r\n,5\r\n"},
	{{"zmpop", "1", "z", "max", "count", "5"},
	 "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nd\r\n$1\r\n4\r\n*2\r\n$1\r\nc\r\n$"
	 "1\r\n3\r\n",
	 "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\nc\r\n,"
	 "3\r\n"},
	{{"exists", "z"}, ":0\r\n", NULL},
	{{"zmpop", "1", "z", "max"}, "*-1\r\n", "_\r\n"},
};

/* ZRANDMEMBER: errors and the deterministic cases */
static const struct row rows_randmember[] = {
	{{"set", "s", "x"}, "+OK\r\n", NULL},
	{{"zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"},
	 ":5\r\n",
	 NULL},
	{{"zrandmember", "z", "0"}, "*0\r\n", NULL},
	{{"zrandmember", "z", "0", "withscores"}, "*0\r\n", NULL},
	{{"zrandmember", "z", "a"},
	 "-ERR value is not an integer or out of range\r\n",
	 NULL},
	{{"zrandmember", "nokey"}, "$-1\r\n", "_\r\n"},
	{{"zrandmember", "nokey", "5"}, "*0\r\n", NULL},
	{{"zrandmember", "nokey", "-5", "withscores"}, "*0\r\n", NULL},
	{{"zrandmember", "z", "-9223372036854775808", "withscores"},
	 "-ERR value is out of range, value must between -9223372036854775807 "
	 "and 9223372036854775807\r\n",
	 NULL},
	{{"zrandmember", "z", "-9223372036854775807", "withscores"},
	 "-ERR value is out of range\r\n",
	 NULL},
	{{"zrandmember", "z", "-4611686018427387904", "withscores"},
	 "-ERR value is out of range\r\n",
	 NULL},
	{{"zrandmember", "z", "5", "foo"}, "-ERR syntax error\r\n", NULL},
	{{"zrandmember", "z", "5", "withscores", "foo"},
	 "-ERR syntax error\r\n",
	 NULL},
	{{"zrandmember", "z", "2", "withscore"}, "-ERR syntax error\r\n", NULL},
	{{"zrandmember", "z", "5", "withscores"},
	 "*10\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$"
	 "1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n",
	 "*5\r\n*2\r\n$1\r\ne\r\n,5\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$"
	 "1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\na\r\n,1\r\n"},
	{{"zrandmember", "z", "50"},
	 "*5\r\n$1\r\ne\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n",
	 NULL},
	{{"zrandmember", "s"},
	 "-WRONGTYPE Operation against a key holding the wrong kind of "
	 "value\r\n",
	 NULL},
	{{"zrandmember", "s", "1"},
	 "-WRONGTYPE Operation against a key holding the wrong kind of "
	 "value\r\n",
	 NULL},
	{{"zrandmember", "nokey", "a"},
	 "-ERR value is not an integer or out of range\r\n",
	 NULL},
};

/* ZUNION ZINTER ZDIFF, their STORE forms, ZINTERCARD */
static const struct row rows_setops[] = {
	{{"set", "s", "x"}, "+OK\r\n", NULL},
	{{"zadd", "z", "1", "a", "2", "b", "3", "c"}, ":3\r\n", NULL},
	{{"zadd", "z2", "5", "b", "6", "d"}, ":2\r\n", NULL},
	{{"zadd", "inf", "1", "a", "+inf", "b", "-inf", "c"}, ":3\r\n", NULL},
	{{"sadd", "st", "b", "x"}, ":2\r\n", NULL},
	{{"sadd", "ist", "1", "2", "3"}, ":3\r\n", NULL},
	{{"zunion", "2", "z", "st", "withscores"},
	 "*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\nb\r\n$"
	 "1\r\n3\r\n$1\r\nc\r\n$1\r\n3\r\n",
	 "*4\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nx\r\n,1\r\n*2\r\n$"
	 "1\r\nb\r\n,3\r\n*2\r\n$1\r\nc\r\n,3\r\n"},
	{{"zunion", "2", "z", "st", "weights", "1", "5", "aggregate", "max",
	  "withscores"},
	 "*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$"
	 "1\r\n5\r\n$1\r\nx\r\n$1\r\n5\r\n",
	 "*4\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$"
	 "1\r\nb\r\n,5\r\n*2\r\n$1\r\nx\r\n,5\r\n"},
	{{"zinter", "2", "z", "st", "withscores"},
	 "*2\r\n$1\r\nb\r\n$1\r\n3\r\n",
	 "*1\r\n*2\r\n$1\r\nb\r\n,3\r\n"},
	{{"zinter", "2", "st", "z", "withscores"},
	 "*2\r\n$1\r\nb\r\n$1\r\n3\r\n",
	 "*1\r\n*2\r\n$1\r\nb\r\n,3\r\n"},
	{{"zdiff", "2", "z", "st", "withscores"},
	 "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n3\r\n",
	 "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nc\r\n,3\r\n"},
	{{"zdiff", "2", "st", "z", "withscores"},
	 "*2\r\n$1\r\nx\r\n$1\r\n1\r\n",
	 "*1\r\n*2\r\n$1\r\nx\r\n,1\r\n"},
	{{"zdiff", "2", "ist", "z", "withscores"},
	 "*6\r\n$1\r\n1\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n3\r\n$"
	 "1\r\n1\r\n",
	 "*3\r\n*2\r\n$1\r\n1\r\n,1\r\n*2\r\n$1\r\n2\r\n,1\r\n*2\r\n$"
	 "1\r\n3\r\n,1\r\n"},
	{{"zunion", "3", "ist", "st", "z", "withscores"},
	 "*14\r\n$1\r\n1\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n3\r\n$"
	 "1\r\n1\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\nb\r\n$"
	 "1\r\n3\r\n$1\r\nc\r\n$1\r\n3\r\n",
	 "*7\r\n*2\r\n$1\r\n1\r\n,1\r\n*2\r\n$1\r\n2\r\n,1\r\n*2\r\n$"
	 "1\r\n3\r\n,1\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nx\r\n,1\r\n*2\r\n$"
	 "1\r\nb\r\n,3\r\n*2\r\n$1\r\nc\r\n,3\r\n"},
	{{"zintercard", "2", "st", "z"}, ":1\r\n", NULL},
	{{"zunionstore", "d", "2", "ist", "st"}, ":5\r\n", NULL},
	{{"zrange", "d", "0", "-1", "withscores"},
	 "*10\r\n$1\r\n1\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n3\r\n$"
	 "1\r\n1\r\n$1\r\nb\r\n$1\r\n1\r\n$1\r\nx\r\n$1\r\n1\r\n",
	 "*5\r\n*2\r\n$1\r\n1\r\n,1\r\n*2\r\n$1\r\n2\r\n,1\r\n*2\r\n$"
	 "1\r\n3\r\n,1\r\n*2\r\n$1\r\nb\r\n,1\r\n*2\r\n$1\r\nx\r\n,1\r\n"},
	{{"zinterstore", "d", "2", "st", "st", "weights", "2", "3"},
	 ":2\r\n",
	 NULL},
	{{"zrange", "d", "0", "-1", "withscores"},
	 "*4\r\n$1\r\nb\r\n$1\r\n5\r\n$1\r\nx\r\n$1\r\n5\r\n",
	 "*2\r\n*2\r\n$1\r\nb\r\n,5\r\n*2\r\n$1\r\nx\r\n,5\r\n"},
	{{"zunion", "2", "z", "z2", "withscores"},
	 "*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$"
	 "1\r\n6\r\n$1\r\nb\r\n$1\r\n7\r\n",
	 "*4\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$"
	 "1\r\nd\r\n,6\r\n*2\r\n$1\r\nb\r\n,7\r\n"},
	{{"zunion", "2", "z", "z2"},
	 "*4\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\nb\r\n",
	 NULL},
	{{"zunion", "0", "z"},
	 "-ERR at least 1 input key is needed for 'zunion' command\r\n",
	 NULL},
	{{"zunion", "-1", "z"},
	 "-ERR at least 1 input key is needed for 'zunion' command\r\n",
	 NULL},
	{{"zunion", "a", "z"},
	 "-ERR value is not an integer or out of range\r\n",
	 NULL},
	{{"zunion", "3", "z", "z2"}, "-ERR syntax error\r\n", NULL},
	{{"zunion", "1", "z", "weights"}, "-ERR syntax error\r\n", NULL},
	{{"zunion", "1", "z", "weights", "a"},
	 "-ERR weight value is not a float\r\n",
	 NULL},
	{{"zunion", "2", "z", "z2", "weights", "1"},
	 "-ERR syntax error\r\n",
	 NULL},
	{{"zunion", "2", "z", "z2", "weights", "1", "2", "3"},
	 "-ERR syntax error\r\n",
	 NULL},
	{{"zunion", "1", "z", "aggregate"}, "-ERR syntax error\r\n", NULL},
	{{"zunion", "1", "z", "aggregate", "foo"},
	 "-ERR syntax error\r\n",
	 NULL},
	{{"zunion", "1", "z", "aggregate", "min", "aggregate", "max",
	  "withscores"},
	 "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$"
	 "1\r\n3\r\n",
	 "*3\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$"
	 "1\r\nc\r\n,3\r\n"},
	{{"zunion", "2", "z", "s"},
	 "-WRONGTYPE Operation against a key holding the wrong kind of "
	 "value\r\n",
	 NULL},
	{{"zunion", "1", "z", "foo"}, "-ERR syntax error\r\n", NULL},
	{{"zunion", "1", "z", "weights", "nan"},
	 "-ERR weight value is not a float\r\n",
	 NULL},
	{{"zunion", "1", "z", "weights", "inf", "withscores"},
	 "*6\r\n$1\r\na\r\n$3\r\ninf\r\n$1\r\nb\r\n$3\r\ninf\r\n$1\r\nc\r\n$"
	 "3\r\ninf\r\n",
	 "*3\r\n*2\r\n$1\r\na\r\n,inf\r\n*2\r\n$1\r\nb\r\n,inf\r\n*2\r\n$"
	 "1\r\nc\r\n,inf\r\n"},
	{{"zunion", "2", "z", "z2", "weights", "2", "-1", "aggregate", "min",
	  "withscores"},
	 "*8\r\n$1\r\nd\r\n$2\r\n-6\r\n$1\r\nb\r\n$2\r\n-5\r\n$1\r\na\r\n$"
	 "1\r\n2\r\n$1\r\nc\r\n$1\r\n6\r\n",
	 "*4\r\n*2\r\n$1\r\nd\r\n,-6\r\n*2\r\n$1\r\nb\r\n,-5\r\n*2\r\n$"
	 "1\r\na\r\n,2\r\n*2\r\n$1\r\nc\r\n,6\r\n"},
	{{"zunion", "2", "z", "z2", "weights", "0", "0", "withscores"},
	 "*8\r\n$1\r\na\r\n$1\r\n0\r\n$1\r\nb\r\n$1\r\n0\r\n$1\r\nc\r\n$"
	 "1\r\n0\r\n$1\r\nd\r\n$1\r\n0\r\n",
	 "*4\r\n*2\r\n$1\r\na\r\n,0\r\n*2\r\n$1\r\nb\r\n,0\r\n*2\r\n$"
	 "1\r\nc\r\n,0\r\n*2\r\n$1\r\nd\r\n,0\r\n"},
	{{"zunion", "1", "z", "withscores", "withscores"},
	 "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$"
	 "1\r\n3\r\n",
	 "*3\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$"
	 "1\r\nc\r\n,3\r\n"},
	{{"zunion", "2", "nokey", "s", "weights", "a", "b"},
	 "-WRONGTYPE Operation against a key holding the wrong kind of "
	 "value\r\n",
	 NULL},
	{{"zunion", "2", "z", "z2", "weights", "1", "2", "aggregate"},
	 "-ERR syntax error\r\n",
	 NULL},
	{{"zunion", "2", "z", "z2", "WEIGHTS", "1", "2", "AGGREGATE", "MAX",
	  "WITHSCORES"},
	 "*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$"
	 "2\r\n10\r\n$1\r\nd\r\n$2\r\n12\r\n",
	 "*4\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$"
	 "1\r\nb\r\n,10\r\n*2\r\n$1\r\nd\r\n,12\r\n"},
	{{"zunion", "2", "inf", "inf", "withscores"},
	 "*6\r\n$1\r\nc\r\n$4\r\n-inf\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n$"
	 "3\r\ninf\r\n",
	 "*3\r\n*2\r\n$1\r\nc\r\n,-inf\r\n*2\r\n$1\r\na\r\n,2\r\n*2\r\n$"
	 "1\r\nb\r\n,inf\r\n"},
	{{"zunion", "2", "inf", "inf", "weights", "1", "-1", "withscores"},
	 "*6\r\n$1\r\na\r\n$1\r\n0\r\n$1\r\nb\r\n$1\r\n0\r\n$1\r\nc\r\n$"
	 "1\r\n0\r\n",
	 "*3\r\n*2\r\n$1\r\na\r\n,0\r\n*2\r\n$1\r\nb\r\n,0\r\n*2\r\n$"
	 "1\r\nc\r\n,0\r\n"},
	{{"zunion", "2", "inf", "inf", "weights", "0", "1", "withscores"},
	 "*6\r\n$1\r\nc\r\n$4\r\n-inf\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$"
	 "3\r\ninf\r\n",
	 "*3\r\n*2\r\n$1\r\nc\r\n,-inf\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$"
	 "1\r\nb\r\n,inf\r\n"},
	{{"zunion", "1", "inf", "weights", "0", "withscores"},
	 "*6\r\n$1\r\na\r\n$1\r\n0\r\n$1\r\nb\r\n$1\r\n0\r\n$1\r\nc\r\n$"
	 "1\r\n0\r\n",
	 "*3\r\n*2\r\n$1\r\na\r\n,0\r\n*2\r\n$1\r\nb\r\n,0\r\n*2\r\n$"
	 "1\r\nc\r\n,0\r\n"},
	{{"zunion", "2", "inf", "z", "aggregate", "min", "withscores"},
	 "*6\r\n$1\r\nc\r\n$4\r\n-inf\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$"
	 "1\r\n2\r\n",
	 "*3\r\n*2\r\n$1\r\nc\r\n,-inf\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$"
	 "1\r\nb\r\n,2\r\n"},
	{{"zunion", "1", "nokey"}, "*0\r\n", NULL},
	{{"zunionstore", "d", "2", "z", "z2"}, ":4\r\n", NULL},
	{{"zrange", "d", "0", "-1", "withscores"},
	 "*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$"
	 "1\r\n6\r\n$1\r\nb\r\n$1\r\n7\r\n",
	 "*4\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$"
	 "1\r\nd\r\n,6\r\n*2\r\n$1\r\nb\r\n,7\r\n"},
	{{"zunionstore", "d", "0", "z"},
	 "-ERR at least 1 input key is needed for 'zunionstore' command\r\n",
	 NULL},
	{{"zunionstore", "d", "2", "z", "z2", "withscores"},
	 "-ERR syntax error\r\n",
	 NULL},
	{{"zunionstore", "d", "1", "s"},
	 "-WRONGTYPE Operation against a key holding the wrong kind of "
	 "value\r\n",
	 NULL},
	{{"zunionstore", "d", "1", "nokey"}, ":0\r\n", NULL},
	{{"exists", "d"}, ":0\r\n", NULL},
	{{"zunionstore", "s", "1", "z"}, ":3\r\n", NULL},
	{{"type", "s"}, "+zset\r\n", NULL},
	{{"zinterstore", "d", "2", "z", "z2"}, ":1\r\n", NULL},
	{{"zrange", "d", "0", "-1", "withscores"},
	 "*2\r\n$1\r\nb\r\n$1\r\n7\r\n",
	 "*1\r\n*2\r\n$1\r\nb\r\n,7\r\n"},
	{{"zinterstore", "d", "2", "z", "nokey"}, ":0\r\n", NULL},
	{{"exists", "d"}, ":0\r\n", NULL},
	{{"zinter", "2", "z", "z2", "withscores"},
	 "*2\r\n$1\r\nb\r\n$1\r\n7\r\n",
	 "*1\r\n*2\r\n$1\r\nb\r\n,7\r\n"},
	{{"zinter", "2", "z", "z2", "aggregate", "max", "withscores"},
	 "*2\r\n$1\r\nb\r\n$1\r\n5\r\n",
	 "*1\r\n*2\r\n$1\r\nb\r\n,5\r\n"},
	{{"zinter", "2", "z", "z2", "weights", "1", "0.5", "withscores"},
	 "*2\r\n$1\r\nb\r\n$3\r\n4.5\r\n",
	 "*1\r\n*2\r\n$1\r\nb\r\n,4.5\r\n"},
	{{"zinter", "2", "z", "nokey"}, "*0\r\n", NULL},
	{{"zinter", "2", "z", "s2x"}, "*0\r\n", NULL},
	{{"zinter", "2", "inf", "inf", "withscores"},
	 "*6\r\n$1\r\nc\r\n$4\r\n-inf\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n$"
	 "3\r\ninf\r\n",
	 "*3\r\n*2\r\n$1\r\nc\r\n,-inf\r\n*2\r\n$1\r\na\r\n,2\r\n*2\r\n$"
	 "1\r\nb\r\n,inf\r\n"},
	{{"zinter", "1", "z"}, "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", NULL},
	{{"zdiff", "2", "z", "z2", "withscores"},
	 "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n3\r\n",
	 "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nc\r\n,3\r\n"},
	{{"zdiff", "2", "z", "z2", "weights", "1", "2"},
	 "-ERR syntax error\r\n",
	 NULL},
	{{"zdiff", "2", "z", "z2", "aggregate", "sum"},
	 "-ERR syntax error\r\n",
	 NULL},
	{{"zdiff", "1", "z"}, "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", NULL},
	{{"zdiff", "2", "nokey", "z"}, "*0\r\n", NULL},
	{{"zdiff", "3", "z", "z2", "inf", "withscores"}, "*0\r\n", NULL},
	{{"zdiffstore", "d", "2", "z", "z2"}, ":2\r\n", NULL},
	{{"zrange", "d", "0", "-1", "withscores"},
	 "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n3\r\n",
	 "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nc\r\n,3\r\n"},
	{{"zdiffstore", "d", "2", "z", "z"}, ":0\r\n", NULL},
	{{"exists", "d"}, ":0\r\n", NULL},
	{{"zdiffstore", "d", "1", "nokey"}, ":0\r\n", NULL},
	{{"zdiffstore", "d", "2", "z", "z2", "withscores"},
	 "-ERR syntax error\r\n",
	 NULL},
	{{"zintercard", "2", "z", "z2"}, ":1\r\n", NULL},
	{{"zintercard", "0", "z"},
	 "-ERR at least 1 input key is needed for 'zintercard' command\r\n",
	 NULL},
	{{"zintercard", "2", "z", "z2", "limit", "-1"},
	 "-ERR LIMIT can't be negative\r\n",
	 NULL},
	{{"zintercard", "2", "z", "z2", "limit", "0"}, ":1\r\n", NULL},
	{{"zintercard", "2", "z", "z2", "limit", "a"},
	 "-ERR LIMIT can't be negative\r\n",
	 NULL},
	{{"zintercard", "2", "z", "z2", "foo"}, "-ERR syntax error\r\n", NULL},
	{{"zintercard", "3", "z", "z2"}, "-ERR syntax error\r\n", NULL},
	{{"zintercard", "1", "s"}, ":3\r\n", NULL},
	{{"zintercard", "a", "z"},
	 "-ERR value is not an integer or out of range\r\n",
	 NULL},
	{{"zintercard", "2", "z", "z", "weights", "1", "2"},
	 "-ERR syntax error\r\n",
	 NULL},
	{{"zintercard", "2", "z", "z", "aggregate", "sum"},
	 "-ERR syntax error\r\n",
	 NULL},
	{{"zintercard", "2", "z", "z", "withscores"},
	 "-ERR syntax error\r\n",
	 NULL},
	{{"zintercard", "1", "z", "limit", "1", "limit", "2"}, ":2\r\n", NULL},
	{{"zintercard", "1", "z", "limit", "3"}, ":3\r\n", NULL},
	{{"zintercard", "2", "z", "nokey"}, ":0\r\n", NULL},
};

/* ZSCAN of a listpack (one step, in order) */
static const struct row rows_scan[] = {
	{{"set", "s", "x"}, "+OK\r\n", NULL},
	{{"zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"},
	 ":5\r\n",
	 NULL},
	{{"zscan", "z", "0"},
	 "*2\r\n$1\r\n0\r\n*10\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$"
	 "1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n",
	 NULL},
	{{"zscan", "nokey", "0"}, "*2\r\n$1\r\n0\r\n*0\r\n", NULL},
	{{"zscan", "z", "0", "match", "a*"},
	 "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
	 NULL},
	{{"zscan", "z", "0", "MATCH", "[b-d]", "COUNT", "1"},
	 "*2\r\n$1\r\n0\r\n*6\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$"
	 "1\r\nd\r\n$1\r\n4\r\n",
	 NULL},
	{{"zscan", "z", "0", "match"}, "-ERR syntax error\r\n", NULL},
	{{"zscan", "z", "0", "count", "0"}, "-ERR syntax error\r\n", NULL},
	{{"zscan", "nokey", "0", "count", "0"},
	 "*2\r\n$1\r\n0\r\n*0\r\n",
	 NULL},
	{{"zscan", "z", "0", "noscores"}, "-ERR syntax error\r\n", NULL},
	{{"zscan", "z", "abc"}, "-ERR invalid cursor\r\n", NULL},
	{{"zscan", "z", "-1x"}, "-ERR invalid cursor\r\n", NULL},
	{{"zscan", "z", "0", "count", "a"},
	 "-ERR value is not an integer or out of range\r\n",
	 NULL},
	{{"zscan", "z", "0", "foo"}, "-ERR syntax error\r\n", NULL},
	{{"zscan", "z", "0", "count", "-1"}, "-ERR syntax error\r\n", NULL},
	{{"zscan", "z", "0", "type", "zset"}, "-ERR syntax error\r\n", NULL},
	{{"zscan", "s", "0"},
	 "-WRONGTYPE Operation against a key holding the wrong kind of "
	 "value\r\n",
	 NULL},
	{{"zscan", "z", "0", "count", "1", "match", "*", "count", "5"},
	 "*2\r\n$1\r\n0\r\n*10\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$"
	 "1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n",
	 NULL},
	{{"zadd", "f", "1.5", "a", "-2", "b", "123456789012345678", "d", "1e20",
	  "big"},
	 ":4\r\n",
	 NULL},
	{{"zscan", "f", "0"},
	 "*2\r\n$1\r\n0\r\n*8\r\n$1\r\nb\r\n$2\r\n-2\r\n$1\r\na\r\n$3\r\n1."
	 "5\r\n$1\r\nd\r\n$18\r\n123456789012345680\r\n$3\r\nbig\r\n$5\r\n1e+"
	 "20\r\n",
	 NULL},
};

START_TEST(test_zadd_family)
{
	run_rows(rows_zadd_family, AP_ARRAY_LEN(rows_zadd_family), 2, 128);
	h_teardown();
	h_setup();
	run_rows(rows_zadd_family, AP_ARRAY_LEN(rows_zadd_family), 3, 128);
	h_teardown();
	h_setup();
	run_rows(rows_zadd_family, AP_ARRAY_LEN(rows_zadd_family), 2, 0);
	h_teardown();
	h_setup();
	run_rows(rows_zadd_family, AP_ARRAY_LEN(rows_zadd_family), 3, 0);
}
END_TEST

START_TEST(test_reads)
{
	run_rows(rows_reads, AP_ARRAY_LEN(rows_reads), 2, 128);
	h_teardown();
	h_setup();
	run_rows(rows_reads, AP_ARRAY_LEN(rows_reads), 3, 128);
	h_teardown();
	h_setup();
	run_rows(rows_reads, AP_ARRAY_LEN(rows_reads), 2, 0);
	h_teardown();
	h_setup();
	run_rows(rows_reads, AP_ARRAY_LEN(rows_reads), 3, 0);
}
END_TEST

START_TEST(test_ranges)
{
	run_rows(rows_ranges, AP_ARRAY_LEN(rows_ranges), 2, 128);
	h_teardown();
	h_setup();
	run_rows(rows_ranges, AP_ARRAY_LEN(rows_ranges), 3, 128);
	h_teardown();
	h_setup();
	run_rows(rows_ranges, AP_ARRAY_LEN(rows_ranges), 2, 0);
	h_teardown();
	h_setup();
	run_rows(rows_ranges, AP_ARRAY_LEN(rows_ranges), 3, 0);
}
END_TEST

START_TEST(test_remrange)
{
	run_rows(rows_remrange, AP_ARRAY_LEN(rows_remrange), 2, 128);
	h_teardown();
	h_setup();
	run_rows(rows_remrange, AP_ARRAY_LEN(rows_remrange), 3, 128);
	h_teardown();
	h_setup();
	run_rows(rows_remrange, AP_ARRAY_LEN(rows_remrange), 2, 0);
	h_teardown();
	h_setup();
	run_rows(rows_remrange, AP_ARRAY_LEN(rows_remrange), 3, 0);
}
END_TEST

START_TEST(test_pops)
{
	run_rows(rows_pops, AP_ARRAY_LEN(rows_pops), 2, 128);
	h_teardown();
	h_setup();
	run_rows(rows_pops, AP_ARRAY_LEN(rows_pops), 3, 128);
	h_teardown();
	h_setup();
	run_rows(rows_pops, AP_ARRAY_LEN(rows_pops), 2, 0);
	h_teardown();
	h_setup();
	run_rows(rows_pops, AP_ARRAY_LEN(rows_pops), 3, 0);
}
END_TEST

START_TEST(test_randmember)
{
	run_rows(rows_randmember, AP_ARRAY_LEN(rows_randmember), 2, 128);
	h_teardown();
	h_setup();
	run_rows(rows_randmember, AP_ARRAY_LEN(rows_randmember), 3, 128);
}
END_TEST

START_TEST(test_setops)
{
	run_rows(rows_setops, AP_ARRAY_LEN(rows_setops), 2, 128);
	h_teardown();
	h_setup();
	run_rows(rows_setops, AP_ARRAY_LEN(rows_setops), 3, 128);
	h_teardown();
	h_setup();
	run_rows(rows_setops, AP_ARRAY_LEN(rows_setops), 2, 0);
	h_teardown();
	h_setup();
	run_rows(rows_setops, AP_ARRAY_LEN(rows_setops), 3, 0);
}
END_TEST

START_TEST(test_scan)
{
	run_rows(rows_scan, AP_ARRAY_LEN(rows_scan), 2, 128);
	h_teardown();
	h_setup();
	run_rows(rows_scan, AP_ARRAY_LEN(rows_scan), 3, 128);
}
END_TEST

/* Asserts the encoding of key (OBJECT ENCODING's source). */
static void expect_enc(const char *key, enum ap_enc enc)
{
	struct ap_entry *e = h_peek(key);

	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(ap_entry_type(e), AP_TYPE_ZSET);
	ck_assert_str_eq(ap_enc_name(ap_entry_enc(e)), ap_enc_name(enc));
}

/* ZRANK / ZREVRANK WITHSCORE, as Redis 7.2. */
START_TEST(test_rank_withscore)
{
	H_EXPECT(":3\r\n", "zadd", "z", "1", "a", "2.5", "b", "3", "c");
	H_EXPECT("*2\r\n:0\r\n$1\r\n1\r\n", "zrank", "z", "a", "withscore");
	H_EXPECT("*2\r\n:1\r\n$3\r\n2.5\r\n", "zrevrank", "z", "b",
		 "WITHSCORE");
	H_EXPECT("*-1\r\n", "zrank", "z", "x", "withscore");
	H_EXPECT("*-1\r\n", "zrevrank", "nokey", "x", "withscore");
	H_EXPECT(H_NIL, "zrank", "z", "x");
	H_EXPECT(H_E_SYNTAX, "zrank", "z", "a", "withscores");
	H_EXPECT("-ERR wrong number of arguments for 'zrank' command\r\n",
		 "zrank", "z", "a", "withscore", "x");
	H_EXPECT("-ERR wrong number of arguments for 'zrevrank' command\r\n",
		 "zrevrank", "z");
	h_proto = 3;
	H_EXPECT("*2\r\n:2\r\n,3\r\n", "zrank", "z", "c", "withscore");
	H_EXPECT("_\r\n", "zrank", "z", "x", "withscore");
	H_EXPECT("_\r\n", "zrank", "z", "x");
	H_OK("set", "s", "x");
	H_EXPECT(H_E_WRONGTYPE, "zrank", "s", "a", "withscore");
}
END_TEST

/* -0: a listpack keeps integral scores as integers (0), a skiplist keeps
 * the double (-0), as Redis; replies print what is stored. */
START_TEST(test_negative_zero)
{
	H_EXPECT(":1\r\n", "zadd", "z", "-0", "a");
	H_EXPECT("$1\r\n0\r\n", "zscore", "z", "a");
	H_EXPECT("$2\r\n-0\r\n", "zincrby", "z", "-0", "b");
	H_EXPECT("$1\r\n0\r\n", "zscore", "z", "b");
	h_cfg.zset_max_listpack_entries = 0;
	H_EXPECT(":1\r\n", "zadd", "y", "-0", "a");
	H_EXPECT("$2\r\n-0\r\n", "zscore", "y", "a");
	H_EXPECT("*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$2\r\n-0\r\n", "zscan", "y",
		 "0");
}
END_TEST

/* The listpack limits, exactly at and one past the boundary, and the
 * compact encoding of stored results. */
START_TEST(test_encodings)
{
	h_cfg.zset_max_listpack_entries = 3;
	h_cfg.zset_max_listpack_value = 5;
	H_EXPECT(":3\r\n", "zadd", "z", "1", "a", "2", "b", "3", "abcde");
	expect_enc("z", AP_ENC_LISTPACK);
	H_EXPECT(":0\r\n", "zadd", "z", "9", "a");
	expect_enc("z", AP_ENC_LISTPACK);
	H_EXPECT(":1\r\n", "zadd", "z", "4", "d");
	expect_enc("z", AP_ENC_SKIPLIST);
	/* A long member converts. */
	H_EXPECT(":1\r\n", "zadd", "y", "1", "abcdef");
	expect_enc("y", AP_ENC_SKIPLIST);
	/* The creating ZADD counts all its pairs (Redis 7.2). */
	H_EXPECT(":1\r\n", "zadd", "x", "1", "a", "1", "a", "1", "a", "1", "a");
	expect_enc("x", AP_ENC_SKIPLIST);
	/* Deleting does not convert back; storing a small result does. */
	H_EXPECT(":2\r\n", "zrem", "z", "a", "b");
	expect_enc("z", AP_ENC_SKIPLIST);
	H_EXPECT(":2\r\n", "zunionstore", "u", "1", "z");
	expect_enc("u", AP_ENC_LISTPACK);
	H_EXPECT(":2\r\n", "zrangestore", "r", "z", "0", "-1");
	expect_enc("r", AP_ENC_LISTPACK);
	H_EXPECT(":2\r\n", "zrangestore", "r", "z", "0", "-1", "rev");
	expect_enc("r", AP_ENC_LISTPACK);
	H_EXPECT("*4\r\n$5\r\nabcde\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n",
		 "zrange", "r", "0", "-1", "withscores");
	H_EXPECT(":1\r\n", "zadd", "z", "5", "e");
	H_EXPECT(":3\r\n", "zunionstore", "u", "1", "z");
	expect_enc("u", AP_ENC_LISTPACK);
	H_EXPECT(":1\r\n", "zadd", "z", "6", "f");
	H_EXPECT(":4\r\n", "zunionstore", "u", "1", "z");
	expect_enc("u", AP_ENC_SKIPLIST);
	H_EXPECT(":1\r\n", "zadd", "big", "1", "abcdef");
	H_EXPECT(":5\r\n", "zunionstore", "u", "2", "big", "z");
	expect_enc("u", AP_ENC_SKIPLIST);
	H_EXPECT("+zset\r\n", "type", "u");
	/* entries 0: never a listpack */
	h_cfg.zset_max_listpack_entries = 0;
	H_EXPECT(":1\r\n", "zadd", "w", "1", "a");
	expect_enc("w", AP_ENC_SKIPLIST);
}
END_TEST

/* ctx->dirty: one per changed member, one per store. */
START_TEST(test_dirty)
{
	H_EXPECT(":2\r\n", "zadd", "z", "1", "a", "2", "b");
	ck_assert_uint_eq(h_last_dirty, 2);
	H_EXPECT(":1\r\n", "zadd", "z", "ch", "1", "a", "3", "b");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT(":0\r\n", "zadd", "z", "1", "a");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT("$1\r\n2\r\n", "zincrby", "z", "1", "a");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT(":1\r\n", "zadd", "z", "+inf", "c");
	H_EXPECT("-ERR resulting score is not a number (NaN)\r\n", "zincrby",
		 "z", "-inf", "c");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT(":1\r\n", "zrem", "z", "a", "x");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT(":2\r\n", "zunionstore", "d", "1", "z");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT(":0\r\n", "zinterstore", "d", "2", "z", "nokey");
	ck_assert_uint_eq(h_last_dirty, 1); /* d deleted */
	H_EXPECT(":0\r\n", "zinterstore", "d", "2", "z", "nokey");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT("*2\r\n$1\r\nb\r\n$1\r\n3\r\n", "zpopmin", "z");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT("*2\r\n$1\r\nc\r\n$3\r\ninf\r\n", "zpopmin", "z");
	H_EXPECT(":0\r\n", "exists", "z");
	H_EXPECT(":3\r\n", "zadd", "z", "1", "a", "2", "b", "3", "c");
	H_EXPECT(":2\r\n", "zremrangebyscore", "z", "1", "2");
	ck_assert_uint_eq(h_last_dirty, 2);
	H_EXPECT(":0\r\n", "zremrangebyscore", "z", "1", "2");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT("*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n", "zmpop",
		 "1", "z", "min", "count", "9");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT(":0\r\n", "exists", "z");
}
END_TEST

/* Parses a flat RESP2 array of bulk strings: returns the count and puts
 * the items (NUL-terminated copies, at most max) into out. */
static size_t parse_bulks(const char *p, size_t len, char out[][64], size_t max)
{
	const char *end = p + len;
	size_t n, i;

	ck_assert(p[0] == '*');
	n = strtoul(p + 1, NULL, 10);
	p = strchr(p, '\n') + 1;
	for (i = 0; i < n; i++) {
		size_t l;

		ck_assert(p < end && p[0] == '$');
		l = strtoul(p + 1, NULL, 10);
		p = strchr(p, '\n') + 1;
		ck_assert(l < 64);
		if (i < max) {
			memcpy(out[i], p, l);
			out[i][l] = '\0';
		}
		p += l + 2;
	}
	ck_assert(p == end);
	return n;
}

static char items[4096][64];

/* ZRANDMEMBER: counts, distinctness, repetition, the reply bound. */
START_TEST(test_randmember_shapes)
{
	size_t len, n;
	char *got;

	H_EXPECT(":3\r\n", "zadd", "z", "1", "a", "2", "b", "3", "c");
	for (int t = 0; t < 2; t++) {
		h_cfg.zset_max_listpack_entries = t ? 0 : 128;
		if (t)
			H_EXPECT(":3\r\n", "zunionstore", "z", "1", "z");
		got = h_run(
			(const char *const[]){"zrandmember", "z", "-50", NULL},
			&len);
		n = parse_bulks(got, len, items, 4096);
		ap_free(got);
		ck_assert_uint_eq(n, 50);
		for (size_t i = 0; i < n; i++)
			ck_assert(strlen(items[i]) == 1 && items[i][0] >= 'a' &&
				  items[i][0] <= 'c');
		got = h_run((const char *const[]){"zrandmember", "z", "2",
						  "withscores", NULL},
			    &len);
		n = parse_bulks(got, len, items, 4096);
		ap_free(got);
		ck_assert_uint_eq(n, 4);
		ck_assert_str_ne(items[0], items[2]);
		ck_assert_int_eq(items[1][0] - '0', items[0][0] - 'a' + 1);
		got = h_run((const char *const[]){"zrandmember", "z", NULL},
			    &len);
		ck_assert(len == 7 && got[0] == '$');
		ap_free(got);
	}
	H_EXPECT("-ERR value is out of range\r\n", "zrandmember", "z",
		 "-10000001");
	H_EXPECT("-ERR value is out of range\r\n", "zrandmember", "nokey",
		 "-10000001");
	h_proto = 3;
	got = h_run((const char *const[]){"zrandmember", "z", "-3",
					  "withscores", NULL},
		    &len);
	ck_assert(strncmp(got, "*3\r\n*2\r\n$1\r\n", 12) == 0);
	ap_free(got);
}
END_TEST

/* A big skiplist: ranges with offsets (skips by rank), reverse score
 * ranges with limits, rank deletes, a full ZSCAN. */
START_TEST(test_big_ranges)
{
	enum { N = 3000 };
	struct ap_arg argv[H_ARGS_MAX];
	char sbuf[100][16], mbuf[100][16];
	size_t len, n;
	char *got;

	for (int base = 0; base < N; base += 100) {
		int argc = 2;

		argv[0] = (struct ap_arg){"zadd", 4};
		argv[1] = (struct ap_arg){"big", 3};
		for (int i = 0; i < 100; i++) {
			int v = base + i;
			int sl = snprintf(sbuf[i], 16, "%d", v / 2);
			int ml = snprintf(mbuf[i], 16, "m%05d", v);
			argv[argc++] = (struct ap_arg){sbuf[i], (size_t)sl};
			argv[argc++] = (struct ap_arg){mbuf[i], (size_t)ml};
		}
		got = h_run_argv(argv, argc, &len);
		ck_assert(len == 6 && memcmp(got, ":100\r\n", 6) == 0);
		ap_free(got);
	}
	expect_enc("big", AP_ENC_SKIPLIST);
	H_EXPECT(":3000\r\n", "zcard", "big");
	/* ranks */
	got = h_run(
		(const char *const[]){"zrange", "big", "1000", "1004", NULL},
		&len);
	n = parse_bulks(got, len, items, 4096);
	ap_free(got);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(items[0], "m01000");
	ck_assert_str_eq(items[4], "m01004");
	/* score range with a big offset */
	got = h_run((const char *const[]){"zrangebyscore", "big", "(100",
					  "+inf", "limit", "500", "3", NULL},
		    &len);
	n = parse_bulks(got, len, items, 4096);
	ap_free(got);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(items[0], "m00702");
	/* reverse with offset */
	got = h_run((const char *const[]){"zrevrangebyscore", "big", "1000",
					  "-inf", "withscores", "limit", "999",
					  "2", NULL},
		    &len);
	n = parse_bulks(got, len, items, 4096);
	ap_free(got);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(items[0], "m01002");
	ck_assert_str_eq(items[1], "501");
	ck_assert_str_eq(items[2], "m01001");
	ck_assert_str_eq(items[3], "500");
	got = h_run((const char *const[]){"zrevrange", "big", "0", "0", NULL},
		    &len);
	ck_assert(strstr(got, "m02999") != NULL);
	ap_free(got);
	H_EXPECT(":2999\r\n", "zrevrank", "big", "m00000");
	H_EXPECT(":1000\r\n", "zremrangebyrank", "big", "1000", "1999");
	H_EXPECT(":1000\r\n", "zrank", "big", "m02000");
	H_EXPECT(":2\r\n", "zcount", "big", "1000", "1000");
	H_EXPECT(":0\r\n", "zcount", "big", "600", "(1000");
	/* ZSCAN until the cursor returns to 0 sees every member */
	static unsigned char seen[N];
	char cursor[32] = "0";
	size_t total = 0;
	do {
		got = h_run((const char *const[]){"zscan", "big", cursor,
						  "count", "7", NULL},
			    &len);
		char *p = strchr(got, '\n') + 1; /* past *2 */
		size_t cl = strtoul(p + 1, NULL, 10);
		p = strchr(p, '\n') + 1;
		memcpy(cursor, p, cl);
		cursor[cl] = '\0';
		p += cl + 2;
		n = parse_bulks(p, len - (size_t)(p - got), items, 4096);
		for (size_t i = 0; i < n; i += 2) {
			int v = atoi(items[i] + 1);
			ck_assert_int_eq(atoi(items[i + 1]), v / 2);
			seen[v] = 1;
		}
		total += n / 2;
		ap_free(got);
	} while (strcmp(cursor, "0") != 0);
	for (int i = 0; i < N; i++)
		ck_assert(seen[i] == (i < 1000 || i >= 2000));
	ck_assert_uint_ge(total, 2000);
	/* MATCH filters members */
	got = h_run((const char *const[]){"zscan", "big", "0", "match",
					  "m0000*", "count", "100000", NULL},
		    &len);
	ck_assert(strstr(got, "\r\n*20\r\n") != NULL);
	ap_free(got);
}
END_TEST

/* Key positions of the movable-key commands (the shards layer routes by
 * them). */
START_TEST(test_getkeys)
{
	static const struct {
		const char *words[10];
		int keys[4];
		size_t n;
	} cases[] = {
		{{"zunion", "2", "a", "b", "weights", "1", "2"}, {2, 3}, 2},
		{{"zinter", "1", "a"}, {2}, 1},
		{{"zdiff", "3", "a", "b", "c", "withscores"}, {2, 3, 4}, 3},
		{{"zintercard", "2", "a", "b", "limit", "1"}, {2, 3}, 2},
		{{"zmpop", "2", "a", "b", "min"}, {2, 3}, 2},
		{{"zunionstore", "d", "2", "a", "b"}, {1, 3, 4}, 3},
		{{"zinterstore", "d", "1", "a"}, {1, 3}, 2},
		{{"zdiffstore", "d", "1", "a"}, {1, 3}, 2},
		{{"zrangestore", "d", "s", "0", "-1"}, {1, 2}, 2},
		{{"zadd", "k", "1", "a"}, {1}, 1},
		{{"zunion", "x", "a"}, {0}, 0},
		{{"zunionstore", "d", "5", "a"}, {1}, 1},
	};

	for (size_t i = 0; i < AP_ARRAY_LEN(cases); i++) {
		struct ap_arg argv[10];
		int argc = 0, idx[8];
		const struct ap_cmd *cmd;
		size_t n;

		for (; cases[i].words[argc]; argc++)
			argv[argc] =
				(struct ap_arg){cases[i].words[argc],
						strlen(cases[i].words[argc])};
		cmd = ap_cmd_lookup(argv[0].p, argv[0].len);
		ck_assert_ptr_nonnull(cmd);
		n = ap_cmd_keys(cmd, argc, argv, idx, 8);
		ck_assert_uint_eq(n, cases[i].n);
		for (size_t k = 0; k < n; k++)
			ck_assert_int_eq(idx[k], cases[i].keys[k]);
	}
	ck_assert(ap_cmd_lookup("zmpop", 5)->flags & AP_CMD_MOVABLE_KEYS);
	ck_assert(ap_cmd_lookup("zadd", 4)->flags & AP_CMD_WRITE);
	ck_assert_str_eq(ap_cmd_lookup("zscan", 5)->group, "sorted-set");
}
END_TEST

/* Arity errors come from the table. */
START_TEST(test_arity)
{
	static const char *const cmds[][3] = {
		{"zadd", "k", "1"},	 {"zincrby", "k", "1"},
		{"zrem", "k", NULL},	 {"zcard", NULL, NULL},
		{"zscore", "k", NULL},	 {"zrange", "k", "0"},
		{"zunion", "1", NULL},	 {"zmpop", "1", "k"},
		{"zscan", "k", NULL},	 {"zrangestore", "d", "s"},
		{"zpopmin", NULL, NULL},
	};

	for (size_t i = 0; i < AP_ARRAY_LEN(cmds); i++) {
		char exp[128];
		size_t len;
		char *got;
		const char *w[4] = {cmds[i][0], cmds[i][1], cmds[i][2], NULL};

		snprintf(exp, sizeof(exp),
			 "-ERR wrong number of arguments for '%s' command\r\n",
			 cmds[i][0]);
		got = h_run(w, &len);
		h_compare(__LINE__, exp, strlen(exp), got, len);
		ap_free(got);
	}
}
END_TEST

static Suite *zset_cmd_suite(void)
{
	Suite *s = suite_create("cmd_zset");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, h_setup, h_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_zadd_family);
	tcase_add_test(tc, test_reads);
	tcase_add_test(tc, test_ranges);
	tcase_add_test(tc, test_remrange);
	tcase_add_test(tc, test_pops);
	tcase_add_test(tc, test_randmember);
	tcase_add_test(tc, test_setops);
	tcase_add_test(tc, test_scan);
	tcase_add_test(tc, test_rank_withscore);
	tcase_add_test(tc, test_negative_zero);
	tcase_add_test(tc, test_encodings);
	tcase_add_test(tc, test_dirty);
	tcase_add_test(tc, test_randmember_shapes);
	tcase_add_test(tc, test_big_ranges);
	tcase_add_test(tc, test_getkeys);
	tcase_add_test(tc, test_arity);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	ap_core_setup();

	SRunner *sr = srunner_create(zset_cmd_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
