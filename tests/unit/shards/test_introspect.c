/*
 * test_introspect.c - the parts of INFO/CLIENT/CONFIG/COMMAND that answer
 * without a fan-out: exact RESP2/RESP3 bytes of COMMAND INFO/DOCS/LIST/
 * GETKEYS and CONFIG GET, every argument error (which is answered before
 * any fan-out starts), and the bounds of names and library attributes
 * (MAX accepted, MAX+1 refused). Fan-out paths are covered by
 * tests/integration/test_introspect.py against the real server.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shards/shards_int.h"

static struct ap_config cfg;
static struct ap_shard shard;
static struct ap_client client;
static struct ap_obuf out;
static char *got;
static size_t got_len;

static void setup(void)
{
	static bool registered;
	if (!registered) {
		ap_cmd_table_add(ap_cmds_string);
		ap_cmd_table_add(ap_cmds_introspect);
		registered = true;
	}
	ap_config_init(&cfg);
	memset(&shard, 0, sizeof(shard));
	memset(&client, 0, sizeof(client));
	shard.cfg = cfg;
	shard.now_ms = 1000000;
	client.shard = &shard;
	client.id = 42;
	client.proto = 2;
	client.nc.fd = 7;
	client.ctime_ms = client.last_ms = shard.now_ms;
	strcpy(client.addr, "127.0.0.1:5000");
	strcpy(client.laddr, "127.0.0.1:6379");
	ap_obuf_init(&out);
	got = NULL;
}

static void teardown(void)
{
	ap_obuf_deinit(&out);
	free(got);
}

/* Runs one command (NULL-terminated words) in protocol proto; the reply
 * bytes are left in got/got_len. */
static void run(int proto, ...)
{
	struct ap_arg argv[64];
	int argc = 0;
	va_list ap;
	va_start(ap, proto);
	for (const char *w; (w = va_arg(ap, const char *)) != NULL;)
		argv[argc++] = (struct ap_arg){w, strlen(w)};
	va_end(ap);
	const struct ap_cmd *cmd = ap_cmd_lookup(argv[0].p, argv[0].len);
	ck_assert_ptr_nonnull(cmd);
	if (cmd->subcmds && argc > 1)
		cmd = ap_cmd_sub_lookup(cmd, argv[1].p, argv[1].len);
	ck_assert_ptr_nonnull(cmd);
	ck_assert(ap_cmd_arity_ok(cmd, argc));
	ck_assert_ptr_nonnull(cmd->fn);
	struct ap_reply r;
	ap_obuf_deinit(&out);
	ap_obuf_init(&out);
	ap_reply_init(&r, &out, proto);
	client.proto = (uint8_t)proto;
	struct ap_cmd_ctx ctx = {
		.r = &r,
		.cfg = &cfg,
		.argc = argc,
		.argv = argv,
		.cmd = cmd,
		.client = &client,
	};
	cmd->fn(&ctx);
	free(got);
	char *flat = ap_obuf_flatten(&out, &got_len);
	got = malloc(got_len + 1);
	memcpy(got, flat, got_len);
	got[got_len] = '\0';
	ap_free(flat);
}

#define EXPECT(s) ck_assert_str_eq(got, s)
#define EXPECT_PREFIX(s) \
	ck_assert_msg(strncmp(got, s, strlen(s)) == 0, "got: %s", got)

START_TEST(test_command_count)
{
	char want[32];
	run(2, "COMMAND", "COUNT", NULL);
	snprintf(want, sizeof(want), ":%zu\r\n", ap_cmd_count());
	EXPECT(want);
}
END_TEST

START_TEST(test_command_info_get_resp2_resp3)
{
	run(2, "COMMAND", "INFO", "GET", NULL);
	EXPECT_PREFIX("*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n"
		      "+fast\r\n:1\r\n:1\r\n:1\r\n*");
	run(3, "command", "info", "get", NULL);
	EXPECT_PREFIX("*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n"
		      "+fast\r\n:1\r\n:1\r\n:1\r\n~");
	/* Ends with: no tips, one key spec, no subcommands. */
	ck_assert_ptr_nonnull(strstr(got, "$7\r\nlastkey\r\n:0\r\n"));
	ck_assert(got_len > 8 && strcmp(got + got_len - 4, "*0\r\n") == 0);
}
END_TEST

START_TEST(test_command_info_unknown_and_sub)
{
	run(2, "COMMAND", "INFO", "nosuch", NULL);
	EXPECT("*1\r\n$-1\r\n");
	run(3, "COMMAND", "INFO", "nosuch", NULL);
	EXPECT("*1\r\n_\r\n");
	run(2, "COMMAND", "INFO", "get|x", "config|get|x", "|", NULL);
	EXPECT("*3\r\n$-1\r\n$-1\r\n$-1\r\n");
	run(2, "COMMAND", "INFO", "CONFIG|GET", NULL);
	EXPECT_PREFIX(
		"*1\r\n*10\r\n$10\r\nconfig|get\r\n:-3\r\n*4\r\n"
		"+admin\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n"
		":0\r\n");
	/* A container lists its subcommands with full names. */
	run(2, "COMMAND", "INFO", "config", NULL);
	ck_assert_ptr_nonnull(strstr(got, "$14\r\nconfig|rewrite\r\n"));
}
END_TEST

START_TEST(test_command_docs)
{
	run(2, "COMMAND", "DOCS", "nosuch", NULL);
	EXPECT("*0\r\n");
	run(3, "COMMAND", "DOCS", "nosuch", NULL);
	EXPECT("%0\r\n");
	run(3, "COMMAND", "DOCS", "config|resetstat", NULL);
	EXPECT("%1\r\n$16\r\nconfig|resetstat\r\n%4\r\n$7\r\nsummary\r\n"
	       "$31\r\nResets the server's statistics.\r\n$5\r\nsince\r\n"
	       "$5\r\n2.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\n"
	       "complexity\r\n$4\r\nO(1)\r\n");
	run(2, "COMMAND", "DOCS", "client", NULL);
	ck_assert_ptr_nonnull(strstr(got, "$11\r\nsubcommands\r\n"));
	ck_assert_ptr_nonnull(strstr(got, "$11\r\nclient|kill\r\n"));
}
END_TEST

START_TEST(test_command_list)
{
	run(2, "COMMAND", "LIST", "FILTERBY", "PATTERN", "config|s*", NULL);
	EXPECT("*1\r\n$10\r\nconfig|set\r\n");
	run(2, "COMMAND", "LIST", "FILTERBY", "MODULE", "x", NULL);
	EXPECT("*0\r\n");
	run(2, "COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuchcat", NULL);
	EXPECT("*0\r\n");
	run(2, "COMMAND", "LIST", "FILTERBY", "ACLCAT", "@dangerous", NULL);
	ck_assert_ptr_nonnull(strstr(got, "$10\r\nconfig|set\r\n"));
	ck_assert_ptr_null(strstr(got, "$3\r\nget\r\n"));
	run(2, "COMMAND", "LIST", "FILTERBY", "NAME", "x", NULL);
	EXPECT("-ERR syntax error\r\n");
	run(2, "COMMAND", "LIST", "FILTERBY", "PATTERN", NULL);
	EXPECT("-ERR syntax error\r\n");
}
END_TEST

START_TEST(test_command_getkeys)
{
	run(2, "COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2", NULL);
	EXPECT("*2\r\n$1\r\na\r\n$1\r\nb\r\n");
	run(2, "COMMAND", "GETKEYS", "nosuch", "k", NULL);
	EXPECT("-ERR Invalid command specified\r\n");
	/* GET's arity is 2: one argument short, exact, one too many. */
	run(2, "COMMAND", "GETKEYS", "get", NULL);
	EXPECT("-ERR Invalid number of arguments specified for command\r\n");
	run(2, "COMMAND", "GETKEYS", "get", "k", NULL);
	EXPECT("*1\r\n$1\r\nk\r\n");
	run(2, "COMMAND", "GETKEYS", "get", "k", "x", NULL);
	EXPECT("-ERR Invalid number of arguments specified for command\r\n");
	run(2, "COMMAND", "GETKEYS", "config", "get", "x", NULL);
	EXPECT("-ERR The command has no key arguments\r\n");
	run(2, "COMMAND", "GETKEYS", "config", "nosuch", NULL);
	EXPECT("-ERR Invalid command specified\r\n");
}
END_TEST

START_TEST(test_config_get)
{
	run(2, "CONFIG", "GET", "hz", "HZ", "h?", NULL);
	EXPECT("*2\r\n$2\r\nhz\r\n$2\r\n10\r\n");
	run(3, "CONFIG", "GET", "hz", NULL);
	EXPECT("%1\r\n$2\r\nhz\r\n$2\r\n10\r\n");
	run(3, "CONFIG", "GET", "nosuch*", NULL);
	EXPECT("%0\r\n");
}
END_TEST

START_TEST(test_config_set_errors)
{
	run(2, "CONFIG", "SET", "nosuch", "1", NULL);
	EXPECT("-ERR Unknown option or number of arguments for CONFIG SET - "
	       "'nosuch'\r\n");
	run(2, "CONFIG", "SET", "port", "1", NULL);
	EXPECT("-ERR CONFIG SET failed (possibly related to argument 'port') "
	       "- can't set immutable config\r\n");
	run(2, "CONFIG", "SET", "hz", "1", "Hz", "2", NULL);
	EXPECT("-ERR CONFIG SET failed (possibly related to argument 'Hz') - "
	       "duplicate parameter\r\n");
	run(2, "CONFIG", "SET", "hz", "1", "timeout", NULL);
	EXPECT("-ERR wrong number of arguments for 'config|set' command\r\n");
	run(2, "CONFIG", "SET", "timeout", "5", "hz", "x", NULL);
	EXPECT_PREFIX("-ERR CONFIG SET failed (possibly related to argument "
		      "'hz') - ");
	/* Nothing was applied: the earlier, valid pair neither. */
	ck_assert_int_eq(cfg.timeout_s, 0);
	ck_assert_int_eq(cfg.hz, 10);
}
END_TEST

START_TEST(test_client_setname_bounds)
{
	char name[AP_CLIENT_NAME_MAX + 2];
	run(2, "CLIENT", "GETNAME", NULL);
	EXPECT("$-1\r\n");
	memset(name, 'n', sizeof(name) - 1);
	name[AP_CLIENT_NAME_MAX] = '\0';
	run(2, "CLIENT", "SETNAME", name, NULL);
	EXPECT("+OK\r\n");
	ck_assert_uint_eq(strlen(client.name), AP_CLIENT_NAME_MAX);
	name[AP_CLIENT_NAME_MAX] = 'n';
	name[AP_CLIENT_NAME_MAX + 1] = '\0';
	run(2, "CLIENT", "SETNAME", name, NULL);
	EXPECT("-ERR Client names cannot be longer than 1024 bytes\r\n");
	run(2, "CLIENT", "SETNAME", "a b", NULL);
	EXPECT("-ERR Client names cannot contain spaces, newlines or special "
	       "characters.\r\n");
	run(2, "CLIENT", "SETNAME", "x\x7f", NULL);
	EXPECT("-ERR Client names cannot contain spaces, newlines or special "
	       "characters.\r\n");
	run(2, "CLIENT", "SETNAME", "w1", NULL);
	run(2, "CLIENT", "GETNAME", NULL);
	EXPECT("$2\r\nw1\r\n");
	run(2, "CLIENT", "SETNAME", "", NULL);
	run(2, "CLIENT", "GETNAME", NULL);
	EXPECT("$-1\r\n");
}
END_TEST

START_TEST(test_client_setinfo_bounds)
{
	char v[200];
	memset(v, 'v', sizeof(v));
	v[127] = '\0';
	run(2, "CLIENT", "SETINFO", "LIB-NAME", v, NULL);
	EXPECT("+OK\r\n");
	v[127] = 'v';
	v[128] = '\0';
	run(2, "CLIENT", "SETINFO", "lib-name", v, NULL);
	EXPECT("-ERR lib-name cannot be longer than 127 bytes\r\n");
	v[63] = '\0';
	run(2, "CLIENT", "SETINFO", "lib-ver", v, NULL);
	EXPECT("+OK\r\n");
	v[63] = 'v';
	v[64] = '\0';
	run(2, "CLIENT", "SETINFO", "lib-ver", v, NULL);
	EXPECT("-ERR lib-ver cannot be longer than 63 bytes\r\n");
	run(2, "CLIENT", "SETINFO", "lib-ver", "1 2", NULL);
	EXPECT("-ERR lib-ver cannot contain spaces, newlines or special "
	       "characters.\r\n");
	run(2, "CLIENT", "SETINFO", "color", "red", NULL);
	EXPECT("-ERR Unrecognized option 'color'\r\n");
}
END_TEST

START_TEST(test_client_info_line)
{
	run(2, "CLIENT", "SETINFO", "lib-name", "lib", NULL);
	run(2, "CLIENT", "INFO", NULL);
	EXPECT_PREFIX("$");
	ck_assert_ptr_nonnull(strstr(
		got, "\r\nid=42 addr=127.0.0.1:5000 laddr=127.0.0.1:6379 "
		     "fd=7 name= age=0 idle=0 flags=N db=0 sub=0 psub=0 "
		     "ssub=0 multi=-1 qbuf=0 qbuf-free=0 "));
	ck_assert_ptr_nonnull(strstr(got, " cmd=client|info user=default "
					  "redir=-1 resp=2 lib-name=lib "
					  "lib-ver=\n\r\n"));
	run(3, "CLIENT", "INFO", NULL);
	EXPECT_PREFIX("=");
	ck_assert_ptr_nonnull(strstr(got, "\r\ntxt:id=42 "));
	run(2, "CLIENT", "ID", NULL);
	EXPECT(":42\r\n");
}
END_TEST

START_TEST(test_client_flags)
{
	run(2, "CLIENT", "NO-EVICT", "on", NULL);
	EXPECT("+OK\r\n");
	ck_assert(client.flags & AP_CF_NO_EVICT);
	run(2, "CLIENT", "NO-TOUCH", "ON", NULL);
	ck_assert(client.flags & AP_CF_NO_TOUCH);
	run(2, "CLIENT", "INFO", NULL);
	ck_assert_ptr_nonnull(strstr(got, " flags=eT "));
	run(2, "CLIENT", "NO-EVICT", "off", NULL);
	ck_assert(!(client.flags & AP_CF_NO_EVICT));
	run(2, "CLIENT", "NO-TOUCH", "maybe", NULL);
	EXPECT("-ERR syntax error\r\n");
	ck_assert(client.flags & AP_CF_NO_TOUCH);
	run(2, "CLIENT", "GETREDIR", NULL);
	EXPECT(":-1\r\n");
}
END_TEST

START_TEST(test_client_reply_flags)
{
	run(2, "CLIENT", "REPLY", "SKIP", NULL);
	EXPECT("");
	ck_assert(client.flags & AP_CF_REPLY_SKIP_NEXT);
	run(2, "CLIENT", "REPLY", "OFF", NULL);
	EXPECT("");
	ck_assert(client.flags & AP_CF_REPLY_OFF);
	run(2, "CLIENT", "REPLY", "ON", NULL);
	EXPECT("+OK\r\n");
	ck_assert(!(client.flags & (AP_CF_REPLY_OFF | AP_CF_REPLY_SKIP |
				    AP_CF_REPLY_SKIP_NEXT)));
	run(2, "CLIENT", "REPLY", "LATER", NULL);
	EXPECT("-ERR syntax error\r\n");
}
END_TEST

START_TEST(test_client_argument_errors)
{
	run(2, "CLIENT", "PAUSE", "x", NULL);
	EXPECT("-ERR timeout is not an integer or out of range\r\n");
	run(2, "CLIENT", "PAUSE", "-1", NULL);
	EXPECT("-ERR timeout is negative\r\n");
	run(2, "CLIENT", "PAUSE", "10", "READ", NULL);
	EXPECT("-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n");
	run(2, "CLIENT", "PAUSE", "10", "ALL", "x", NULL);
	EXPECT("-ERR syntax error\r\n");
	run(2, "CLIENT", "KILL", "ID", "0", NULL);
	EXPECT("-ERR client-id should be greater than 0\r\n");
	run(2, "CLIENT", "KILL", "ID", "x", NULL);
	EXPECT("-ERR client-id should be greater than 0\r\n");
	run(2, "CLIENT", "KILL", "TYPE", "bad", NULL);
	EXPECT("-ERR Unknown client type 'bad'\r\n");
	run(2, "CLIENT", "KILL", "USER", "bob", NULL);
	EXPECT("-ERR No such user 'bob'\r\n");
	run(2, "CLIENT", "KILL", "SKIPME", "perhaps", NULL);
	EXPECT("-ERR syntax error\r\n");
	run(2, "CLIENT", "KILL", "ID", "1", "ADDR", NULL);
	EXPECT("-ERR syntax error\r\n");
	run(2, "CLIENT", "KILL", "MAXAGE", "1", NULL);
	EXPECT("-ERR syntax error\r\n");
	run(2, "CLIENT", "LIST", "TYPE", "bad", NULL);
	EXPECT("-ERR Unknown client type 'bad'\r\n");
	run(2, "CLIENT", "LIST", "ID", "1", "1x", NULL);
	EXPECT("-ERR Invalid client ID\r\n");
	run(2, "CLIENT", "LIST", "TYPE", NULL);
	EXPECT("-ERR syntax error\r\n");
}
END_TEST

START_TEST(test_help)
{
	run(2, "CLIENT", "HELP", NULL);
	EXPECT_PREFIX("*");
	ck_assert_ptr_nonnull(strstr(got, "+CLIENT <subcommand>"));
	run(2, "CONFIG", "HELP", NULL);
	ck_assert_ptr_nonnull(strstr(got, "+CONFIG <subcommand>"));
	run(2, "COMMAND", "HELP", NULL);
	ck_assert_ptr_nonnull(strstr(got, "+COMMAND <subcommand>"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("introspect");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_command_count);
	tcase_add_test(tc, test_command_info_get_resp2_resp3);
	tcase_add_test(tc, test_command_info_unknown_and_sub);
	tcase_add_test(tc, test_command_docs);
	tcase_add_test(tc, test_command_list);
	tcase_add_test(tc, test_command_getkeys);
	tcase_add_test(tc, test_config_get);
	tcase_add_test(tc, test_config_set_errors);
	tcase_add_test(tc, test_client_setname_bounds);
	tcase_add_test(tc, test_client_setinfo_bounds);
	tcase_add_test(tc, test_client_info_line);
	tcase_add_test(tc, test_client_flags);
	tcase_add_test(tc, test_client_reply_flags);
	tcase_add_test(tc, test_client_argument_errors);
	tcase_add_test(tc, test_help);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
