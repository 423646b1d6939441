/*
 * cmd_harness.h - runs core commands by argument list against one
 * keyspace with a fixed clock, as the dispatcher would (lookup, arity,
 * call), and compares reply bytes. Header-only: each test executable is
 * one translation unit, so the state below is per executable.
 *
 * Use: call h_setup()/h_teardown() as the test case's fixture (after
 * registering what the test needs: ap_core_setup() for every core table
 * and type), then
 *   H_EXPECT(":1\r\n", "sadd", "s", "a");
 *   H_OK("set", "k", "v");
 *   char *r = h_run((const char *const[]){"smembers", "s", NULL}, &len);
 * h_proto selects RESP2 or RESP3 for the next commands; h_db the database;
 * h_last_dirty holds the dirty count of the last command. A container
 * command given a second word (OBJECT ENCODING k) runs that subcommand.
 */
#ifndef AP_TESTS_CMD_HARNESS_H
#define AP_TESTS_CMD_HARNESS_H

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "core/cmd.h"
#include "core/config.h"
#include "core/keyspace.h"
#include "core/reply.h"

/* A fixed "now" in ms: 2023-11-14T22:13:20Z. */
#define H_NOW	   1700000000000LL
#define H_ARGS_MAX 256

static struct ap_keyspace *h_ks;
static struct ap_config h_cfg;
static int h_proto = 2;
static unsigned h_db;
static uint64_t h_last_dirty;

static inline void h_setup(void)
{
	h_ks = ap_keyspace_create(16);
	ap_keyspace_set_now(h_ks, H_NOW);
	ap_config_init(&h_cfg);
	h_proto = 2;
	h_db = 0;
	h_last_dirty = 0;
}

static inline void h_teardown(void)
{
	ap_keyspace_destroy(h_ks);
	h_ks = NULL;
}

static inline struct ap_db *h_dbp(void)
{
	return ap_keyspace_db(h_ks, h_db);
}

/* The entry of key without touching stats or LRU, NULL if absent. */
static inline struct ap_entry *h_peek(const char *key)
{
	return ap_db_lookup(h_dbp(), key, strlen(key), AP_LK_NOTOUCH);
}

/*
 * The command argv names, as the dispatcher resolves it: a container
 * (OBJECT, ...) given a second word runs that subcommand, which must
 * exist (the test fails otherwise).
 */
static inline const struct ap_cmd *h_resolve(const struct ap_arg *argv,
					     int argc)
{
	const struct ap_cmd *cmd = ap_cmd_lookup(argv[0].p, argv[0].len);

	ck_assert_msg(cmd != NULL, "no command %.*s", (int)argv[0].len,
		      argv[0].p);
	if (cmd->subcmds == NULL || argc < 2)
		return cmd; /* a container alone: its fn or an arity error */
	const struct ap_cmd *sub =
		ap_cmd_sub_lookup(cmd, argv[1].p, argv[1].len);
	ck_assert_msg(sub != NULL, "no subcommand %.*s %.*s", (int)argv[0].len,
		      argv[0].p, (int)argv[1].len, argv[1].p);
	return sub;
}

/* Runs argv[0..argc); returns the reply bytes (free with ap_free). */
static inline char *h_run_argv(const struct ap_arg *argv, int argc, size_t *len)
{
	struct ap_obuf ob;
	struct ap_reply r;
	const struct ap_cmd *cmd;

	ap_obuf_init(&ob);
	ap_reply_init(&r, &ob, h_proto);
	cmd = h_resolve(argv, argc);
	h_last_dirty = 0;
	if (!ap_cmd_arity_ok(cmd, argc)) {
		/* Core names subcommands "container|sub", as Redis's error
		 * does. */
		ap_reply_errorf(&r,
				"ERR wrong number of arguments for '%s' "
				"command",
				cmd->name);
	} else {
		struct ap_cmd_ctx c = {
			.ks = h_ks,
			.db = h_dbp(),
			.db_idx = h_db,
			.r = &r,
			.cfg = &h_cfg,
			.argc = argc,
			.argv = argv,
			.cmd = cmd,
		};
		ck_assert_ptr_nonnull(cmd->fn);
		cmd->fn(&c);
		h_last_dirty = c.dirty;
	}
	char *flat = ap_obuf_flatten(&ob, len);
	ap_obuf_deinit(&ob);
	return flat;
}

/* Runs a NULL-terminated list of C-string words. */
static inline char *h_run(const char *const *words, size_t *len)
{
	struct ap_arg argv[H_ARGS_MAX];
	int argc = 0;

	for (; words[argc] != NULL; argc++) {
		ck_assert_int_lt(argc, H_ARGS_MAX);
		argv[argc].p = words[argc];
		argv[argc].len = strlen(words[argc]);
	}
	return h_run_argv(argv, argc, len);
}

/* Bytes with CR, LF and non-printables escaped, for failure messages. */
static inline const char *h_escape(const char *p, size_t len, char *buf,
				   size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < size; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch == '\r')
			o += (size_t)snprintf(buf + o, size - o, "\\r");
		else if (ch == '\n')
			o += (size_t)snprintf(buf + o, size - o, "\\n");
		else if (ch < 32 || ch > 126)
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", ch);
		else
			buf[o++] = (char)ch;
	}
	buf[o] = '\0';
	return buf;
}

/* Fails the test (naming the caller's line) unless got equals exp. */
static inline void h_compare(int line, const char *exp, size_t elen,
			     const char *got, size_t glen)
{
	static char e[8192], g[8192];

	ck_assert_msg(elen == glen && memcmp(exp, got, elen) == 0,
		      "line %d: expected \"%s\", got \"%s\"", line,
		      h_escape(exp, elen, e, sizeof(e)),
		      h_escape(got, glen, g, sizeof(g)));
}

static inline void h_expect_words(int line, const char *exp, size_t elen,
				  const char *const *words)
{
	size_t len;
	char *got = h_run(words, &len);

	h_compare(line, exp, elen, got, len);
	ap_free(got);
}

/* H_EXPECT("reply bytes", "cmd", "arg", ...): exact reply, NULs allowed. */
#define H_EXPECT(exp, ...)                             \
	h_expect_words(__LINE__, exp, sizeof(exp) - 1, \
		       (const char *const[]){__VA_ARGS__, NULL})
/* Runs a command that must answer +OK. */
#define H_OK(...) H_EXPECT("+OK\r\n", __VA_ARGS__)

#define H_E_SYNTAX "-ERR syntax error\r\n"
#define H_E_WRONGTYPE                                                   \
	"-WRONGTYPE Operation against a key holding the wrong kind of " \
	"value\r\n"
#define H_E_NOT_INT   "-ERR value is not an integer or out of range\r\n"
#define H_E_NOT_FLOAT "-ERR value is not a valid float\r\n"
#define H_E_ARITY(name) \
	"-ERR wrong number of arguments for '" name "' command\r\n"
#define H_NIL "$-1\r\n"

#endif
