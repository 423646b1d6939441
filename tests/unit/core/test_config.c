/*
 * test_config.c - unit tests for core/config.c: defaults, file parsing
 * (comments, quotes, escapes, include), every load error, the command
 * line, CONFIG GET patterns, CONFIG SET of every kind and CONFIG REWRITE.
 */
#include "core/config.h"
#include "core/limits.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ERR_SIZE 512

static char tmpdir[256];
static char err[ERR_SIZE];

/* Creates a fresh temp directory for each test. */
static void setup(void)
{
	strcpy(tmpdir, "/tmp/ap_test_config.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	err[0] = '\0';
}

/* Removes the temp directory and what the test left in it. */
static void teardown(void)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Full path of name inside the temp directory (static buffer rotation). */
static const char *tpath(const char *name)
{
	static char bufs[4][512];
	static int next;
	char *b = bufs[next++ % 4];
	snprintf(b, 512, "%s/%s", tmpdir, name);
	return b;
}

/* Writes text to tmpdir/name; returns the path. */
static const char *write_conf(const char *name, const char *text)
{
	const char *p = tpath(name);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	return p;
}

/* Reads tmpdir/name into a static buffer. */
static const char *read_conf(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Loads a file (no argv) into a default config; returns the status. */
static int load_text(struct ap_config *cfg, const char *text)
{
	const char *p = write_conf("t.conf", text);
	ap_config_init(cfg);
	return ap_config_load(cfg, p, 0, NULL, err, sizeof(err));
}

/* CONFIG GET collector: "name=value\n" lines. */
struct collect {
	char buf[16384];
	size_t len;
	int count;
};

static void collect_fn(void *arg, const char *name, const char *value)
{
	struct collect *c = arg;
	c->len += snprintf(c->buf + c->len, sizeof(c->buf) - c->len, "%s=%s\n",
			   name, value);
	c->count++;
}

/* Value of one directive through CONFIG GET (static buffer). */
static const char *get1(const struct ap_config *cfg, const char *name)
{
	static struct collect c;
	c.len = 0;
	c.count = 0;
	c.buf[0] = '\0';
	ap_config_get(cfg, name, strlen(name), collect_fn, &c);
	ck_assert_int_eq(c.count, 1);
	ck_assert_int_eq(c.buf[c.len - 1], '\n');
	c.buf[c.len - 1] = '\0';
	return strchr(c.buf, '=') + 1;
}

/* CONFIG SET with NUL-terminated strings. */
static int set(struct ap_config *cfg, const char *name, const char *value)
{
	err[0] = '\0';
	return ap_config_set(cfg, name, strlen(name), value, strlen(value), err,
			     sizeof(err));
}

/* Every directive formatted, for whole-config comparisons. */
static void dump(const struct ap_config *cfg, struct collect *c)
{
	memset(c, 0, sizeof(*c));
	ap_config_get(cfg, "*", 1, collect_fn, c);
}

/* ------------------------------------------------------------------ */

START_TEST(test_defaults)
{
	struct ap_config c;
	ap_config_init(&c);
	ck_assert_int_eq(c.port, 6379);
	ck_assert_int_eq(c.bind_count, 1);
	ck_assert_str_eq(c.bind[0], "127.0.0.1");
	ck_assert_int_eq(c.tcp_backlog, 511);
	ck_assert_int_eq(c.timeout_s, 0);
	ck_assert_int_eq(c.tcp_keepalive_s, 300);
	ck_assert_int_eq(c.maxclients, AP_MAXCLIENTS_DEFAULT);
	ck_assert_int_eq(c.reactor, AP_REACTOR_AUTO);
	ck_assert(c.protected_mode);
	ck_assert_int_eq(c.shards, 0);
	ck_assert(c.pin_threads);
	ck_assert_int_eq(c.databases, AP_DATABASES_DEFAULT);
	ck_assert_int_eq(c.hz, AP_HZ_DEFAULT);
	ck_assert_int_eq(c.proto_max_bulk_len, AP_PROTO_MAX_BULK_LEN_DEFAULT);
	ck_assert_int_eq(c.client_query_buffer_limit,
			 AP_QUERY_BUF_LIMIT_DEFAULT);
	ck_assert_int_eq(c.obuf_normal_hard, 0);
	ck_assert_int_eq(c.obuf_normal_soft, 0);
	ck_assert_int_eq(c.obuf_normal_soft_s, 0);
	ck_assert_int_eq(c.obuf_replica_hard, 256LL * 1024 * 1024);
	ck_assert_int_eq(c.obuf_replica_soft, 64LL * 1024 * 1024);
	ck_assert_int_eq(c.obuf_replica_soft_s, 60);
	ck_assert_int_eq(c.obuf_pubsub_hard, 32LL * 1024 * 1024);
	ck_assert_int_eq(c.obuf_pubsub_soft, 8LL * 1024 * 1024);
	ck_assert_int_eq(c.obuf_pubsub_soft_s, 60);
	ck_assert_int_eq(c.maxmemory, 0);
	ck_assert_int_eq(c.loglevel, AP_LOG_NOTICE);
	ck_assert_str_eq(c.logfile, "");
	ck_assert_str_eq(c.dir, ".");
	ck_assert_str_eq(c.requirepass, "");
	ck_assert_str_eq(c.pidfile, "");
	ck_assert(!c.daemonize);
	ck_assert(!c.lazyfree_lazy_user_del);
	ck_assert(!c.lazyfree_lazy_user_flush);
	ck_assert(c.active_expire);
	ck_assert_int_eq(c.slowlog_log_slower_than, 10000);
	ck_assert_int_eq(c.slowlog_max_len, 128);
	ck_assert_str_eq(c.save, "");
	ck_assert(!c.appendonly);
	ck_assert_str_eq(c.appendfsync, "everysec");
	ck_assert_str_eq(c.dbfilename, "dump.rdb");
	ck_assert_str_eq(c.appendfilename, "appendonly.aof");
	ck_assert_int_eq(c.snapshot_compression, AP_SNAPSHOT_COMPRESSION_LZ4);
	ck_assert_int_eq(c.snapshot_compression_level,
			 AP_SNAPSHOT_ZSTD_LEVEL_DEFAULT);
	ck_assert_str_eq(c.config_file, "");
}
END_TEST

START_TEST(test_load_no_file_no_args)
{
	struct ap_config c, d;
	struct collect a, b;
	ap_config_init(&c);
	ap_config_init(&d);
	ck_assert_int_eq(ap_config_load(&c, NULL, 0, NULL, err, sizeof(err)),
			 0);
	ck_assert_int_eq(ap_config_load(&c, "", 0, NULL, err, sizeof(err)), 0);
	dump(&c, &a);
	dump(&d, &b);
	ck_assert_str_eq(a.buf, b.buf);
}
END_TEST

START_TEST(test_file_syntax)
{
	struct ap_config c;
	write_conf("inc.conf", "maxclients 77\n# included comment\n");
	char text[2048];
	snprintf(text, sizeof(text),
		 "# a comment\n"
		 "\n"
		 "   # indented comment\n"
		 "PORT 7000\r\n"
		 "\tbind 10.0.0.1   ::1\n"
		 "requirepass \"a b\\n\\r\\t\\a\\b\\\\\\\"\\x41\\x7a\"\n"
		 "logfile 'it\\'s here'\n"
		 "include %s\n"
		 "Protected-Mode NO\n"
		 "loglevel WARNING\n"
		 "reactor epoll\n"
		 "appendfsync always\n"
		 "maxmemory 2gb\n"
		 "hz 100\n"
		 "pidfile \"\"\n"
		 "client-output-buffer-limit pubsub 1mb 1k 5 slave 2 3 4\n"
		 "timeout 30",
		 tpath("inc.conf"));
	ck_assert_int_eq(load_text(&c, text), 0);
	ck_assert_int_eq(c.port, 7000);
	ck_assert_int_eq(c.bind_count, 2);
	ck_assert_str_eq(c.bind[0], "10.0.0.1");
	ck_assert_str_eq(c.bind[1], "::1");
	ck_assert_str_eq(c.requirepass, "a b\n\r\t\a\b\\\"Az");
	ck_assert_str_eq(c.logfile, "it's here");
	ck_assert_int_eq(c.maxclients, 77);
	ck_assert(!c.protected_mode);
	ck_assert_int_eq(c.loglevel, AP_LOG_WARNING);
	ck_assert_int_eq(c.reactor, AP_REACTOR_EPOLL);
	ck_assert_str_eq(c.appendfsync, "always");
	ck_assert_int_eq(c.maxmemory, 2LL * 1024 * 1024 * 1024);
	ck_assert_int_eq(c.hz, 100);
	ck_assert_str_eq(c.pidfile, "");
	ck_assert_int_eq(c.obuf_pubsub_hard, 1024 * 1024);
	ck_assert_int_eq(c.obuf_pubsub_soft, 1000);
	ck_assert_int_eq(c.obuf_pubsub_soft_s, 5);
	ck_assert_int_eq(c.obuf_replica_hard, 2);
	ck_assert_int_eq(c.obuf_replica_soft, 3);
	ck_assert_int_eq(c.obuf_replica_soft_s, 4);
	ck_assert_int_eq(c.obuf_normal_hard, 0); /* untouched class */
	ck_assert_int_eq(c.timeout_s, 30);	 /* last line, no newline */
	/* config_file is the absolute path */
	char *abs = realpath(tpath("t.conf"), NULL);
	ck_assert_str_eq(c.config_file, abs);
	free(abs);
}
END_TEST

START_TEST(test_file_last_wins_and_empty)
{
	struct ap_config c;
	ck_assert_int_eq(load_text(&c, "port 1\nport 2\n"), 0);
	ck_assert_int_eq(c.port, 2);
	ck_assert_int_eq(load_text(&c, ""), 0);
	ck_assert_int_eq(c.port, 6379);
	ck_assert_int_eq(load_text(&c, "bind \"\"\nsave \"\"\n"), 0);
	ck_assert_int_eq(c.bind_count, 0);
	ck_assert_str_eq(c.save, "");
}
END_TEST

/* Each error message names the file, the line and the directive. */
START_TEST(test_file_errors)
{
	struct ap_config c;
	char want[1024];
	const char *p = tpath("t.conf");

	ck_assert_int_eq(load_text(&c, "# x\n\nfoo bar\n"), -EINVAL);
	snprintf(want, sizeof(want),
		 "config file '%s', line 3: unknown directive 'foo'", p);
	ck_assert_str_eq(err, want);

	ck_assert_int_eq(load_text(&c, "port abc\n"), -EINVAL);
	snprintf(want, sizeof(want),
		 "config file '%s', line 1: argument couldn't be parsed into "
		 "an integer for 'port'",
		 p);
	ck_assert_str_eq(err, want);

	ck_assert_int_eq(load_text(&c, "\nport 65536\n"), -EINVAL);
	snprintf(want, sizeof(want),
		 "config file '%s', line 2: argument must be between 0 and "
		 "65535 inclusive for 'port'",
		 p);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(load_text(&c, "port -1\n"), -EINVAL);
	ck_assert_int_eq(load_text(&c, "port 65535\n"), 0);
	ck_assert_int_eq(c.port, 65535);
	ck_assert_int_eq(load_text(&c, "port 0\n"), 0);
	ck_assert_int_eq(c.port, 0);

	ck_assert_int_eq(load_text(&c, "loglevel loud\n"), -EINVAL);
	ck_assert_ptr_nonnull(
		strstr(err, "line 1: argument(s) must be one of the following: "
			    "debug, verbose, notice, warning for 'loglevel'"));
	ck_assert_int_eq(load_text(&c, "reactor kqueue\n"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "auto, uring, epoll"));

	ck_assert_int_eq(load_text(&c, "daemonize maybe\n"), -EINVAL);
	ck_assert_ptr_nonnull(
		strstr(err, "argument must be 'yes' or 'no' for 'daemonize'"));

	ck_assert_int_eq(load_text(&c, "port 1 2\n"), -EINVAL);
	ck_assert_ptr_nonnull(
		strstr(err, "wrong number of arguments for 'port'"));
	ck_assert_int_eq(load_text(&c, "port\n"), -EINVAL);
	ck_assert_ptr_nonnull(
		strstr(err, "wrong number of arguments for 'port'"));

	ck_assert_int_eq(load_text(&c, "maxmemory 1tb\n"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "argument must be a memory value"));
}
END_TEST

START_TEST(test_file_quote_errors)
{
	struct ap_config c;
	const char *bad[] = {
		"requirepass \"abc\n",	   "requirepass 'abc\n",
		"requirepass \"a\"b\n",	   "requirepass 'a'b\n",
		"requirepass \"abc\\\"\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(load_text(&c, bad[i]), -EINVAL);
		ck_assert_ptr_nonnull(strstr(
			err,
			"line 1: Unbalanced quotes in configuration line"));
	}
	/* quotes inside a bare word start a quoted segment, as Redis */
	ck_assert_int_eq(load_text(&c, "requirepass ab\"c d\"\n"), 0);
	ck_assert_str_eq(c.requirepass, "abc d");
	/* an unknown escape keeps the character; a short \x is literal */
	ck_assert_int_eq(load_text(&c, "requirepass \"\\q\\x4\"\n"), 0);
	ck_assert_str_eq(c.requirepass, "qx4");
	/* NUL through \x00 is refused for strings */
	ck_assert_int_eq(load_text(&c, "requirepass \"a\\x00b\"\n"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "NUL"));
}
END_TEST

START_TEST(test_file_missing)
{
	struct ap_config c, d;
	struct collect a, b;
	ap_config_init(&c);
	ap_config_init(&d);
	ck_assert_int_eq(ap_config_load(&c, tpath("nope.conf"), 0, NULL, err,
					sizeof(err)),
			 -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "nope.conf"));
	ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));
	dump(&c, &a);
	dump(&d, &b);
	ck_assert_str_eq(a.buf, b.buf); /* untouched */

	char text[600];
	snprintf(text, sizeof(text), "port 5\ninclude %s\n",
		 tpath("missing.conf"));
	ck_assert_int_eq(load_text(&c, text), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "line 2: can't read included file"));
	ck_assert_int_eq(c.port, 6379); /* failed load leaves cfg alone */

	ck_assert_int_eq(load_text(&c, "include\n"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "wrong number of arguments"));
}
END_TEST

/* A chain main -> f1 -> ... -> fN: depth N = 8 loads, 9 fails. */
static int load_chain(struct ap_config *c, int n)
{
	char name[32], next[32], text[700];
	for (int i = n; i >= 1; i--) {
		snprintf(name, sizeof(name), "f%d.conf", i);
		if (i == n) {
			snprintf(text, sizeof(text), "maxclients %d\n",
				 100 + i);
		} else {
			snprintf(next, sizeof(next), "f%d.conf", i + 1);
			snprintf(text, sizeof(text), "include %s\n",
				 tpath(next));
		}
		write_conf(name, text);
	}
	snprintf(text, sizeof(text), "include %s\n", tpath("f1.conf"));
	return load_text(c, text);
}

START_TEST(test_include_depth)
{
	struct ap_config c;
	ck_assert_int_eq(load_chain(&c, AP_CONFIG_INCLUDE_DEPTH_MAX), 0);
	ck_assert_int_eq(c.maxclients, 100 + AP_CONFIG_INCLUDE_DEPTH_MAX);
	ck_assert_int_eq(load_chain(&c, AP_CONFIG_INCLUDE_DEPTH_MAX + 1),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "include nesting deeper than 8"));
	ck_assert_ptr_nonnull(strstr(err, "f8.conf', line 1"));
	/* a file including itself stops too */
	char text[600];
	snprintf(text, sizeof(text), "include %s\n", tpath("t.conf"));
	ck_assert_int_eq(load_text(&c, text), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "include nesting deeper than 8"));
}
END_TEST

START_TEST(test_persistence_config)
{
	struct ap_config c;
	ck_assert_int_eq(load_text(&c, "appendonly yes\n"), 0);
	ck_assert(c.appendonly);
	ck_assert_str_eq(c.appenddirname, "appendonlydir");
	ck_assert(c.aof_load_truncated);
	ck_assert_int_eq(load_text(&c, "appenddirname a/b\n"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "appenddirname can't be a path"));
	ck_assert_int_eq(load_text(&c, "save 3600 1\n"), 0);
	ck_assert_str_eq(c.save, "3600 1");
	ck_assert_int_eq(load_text(&c, "save 3600\n"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "Invalid save parameters"));
	ck_assert_int_eq(load_text(&c, "appendonly no\nsave \"\"\n"), 0);

	ap_config_init(&c);
	ck_assert_int_eq(set(&c, "appendonly", "yes"), 0); /* at run time */
	ck_assert(c.appendonly);
	ck_assert_int_eq(set(&c, "appendonly", "maybe"), -EINVAL);
	ck_assert(c.appendonly);
	ck_assert_int_eq(set(&c, "appendonly", "no"), 0);
	ck_assert(!c.appendonly);
	ck_assert_int_eq(set(&c, "appenddirname", "x"), -EPERM);
	ck_assert_int_eq(set(&c, "save", "3600 1 300 100"), 0);
	ck_assert_str_eq(get1(&c, "save"), "3600 1 300 100");
	ck_assert_int_eq(set(&c, "save", "3600 x"), -EINVAL);
	ck_assert_str_eq(err, "Invalid save parameters");
	ck_assert_int_eq(set(&c, "save", "0 1"), -EINVAL);
	ck_assert_int_eq(set(&c, "save", ""), 0);
	ck_assert_str_eq(get1(&c, "save"), "");
	ck_assert_int_eq(set(&c, "appenddirname", "other"), -EPERM);
}
END_TEST

START_TEST(test_argv)
{
	struct ap_config c;
	const char *p = write_conf("a.conf", "port 7000\nmaxclients 50\n");
	char *argv[] = {"--port", "7001",	"--bind", "1.2.3.4",
			"::1",	  "--save",	"",	  "--requirepass",
			"x y",	  "--LOGLEVEL", "debug"};
	ap_config_init(&c);
	ck_assert_int_eq(ap_config_load(&c, p, 11, argv, err, sizeof(err)), 0);
	ck_assert_int_eq(c.port, 7001); /* argv wins over the file */
	ck_assert_int_eq(c.maxclients, 50);
	ck_assert_int_eq(c.bind_count, 2);
	ck_assert_str_eq(c.bind[1], "::1");
	ck_assert_str_eq(c.save, "");
	ck_assert_str_eq(c.requirepass, "x y");
	ck_assert_int_eq(c.loglevel, AP_LOG_DEBUG);

	/* one argument holding several words, as redis-server accepts */
	char *argv2[] = {"--bind", "5.6.7.8 ::1"};
	ck_assert_int_eq(ap_config_load(&c, NULL, 2, argv2, err, sizeof(err)),
			 0);
	ck_assert_int_eq(c.bind_count, 2);
	ck_assert_str_eq(c.bind[0], "5.6.7.8");
}
END_TEST

START_TEST(test_argv_errors)
{
	struct ap_config c;
	ap_config_init(&c);
	char *a1[] = {"--port"};
	ck_assert_int_eq(ap_config_load(&c, NULL, 1, a1, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "command line: '--port' given without a value");
	char *a2[] = {"--port", "--maxclients", "5"};
	ck_assert_int_eq(ap_config_load(&c, NULL, 3, a2, err, sizeof(err)),
			 -EINVAL);
	char *a3[] = {"port", "5"};
	ck_assert_int_eq(ap_config_load(&c, NULL, 2, a3, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "unexpected argument 'port'"));
	char *a4[] = {"--nosuch", "1"};
	ck_assert_int_eq(ap_config_load(&c, NULL, 2, a4, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "command line: unknown directive 'nosuch'");
	char *a5[] = {"--port", "99999"};
	ck_assert_int_eq(ap_config_load(&c, NULL, 2, a5, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "command line: argument must be between 0 and "
			      "65535 inclusive for 'port'");
	char *a6[] = {"--"};
	ck_assert_int_eq(ap_config_load(&c, NULL, 1, a6, err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(c.port, 6379);
}
END_TEST

START_TEST(test_get_patterns)
{
	struct ap_config c;
	struct collect a;
	ap_config_init(&c);
	dump(&c, &a);
	/* Every directive once; the *-ziplist-* aliases are not listed. */
	ck_assert_int_eq(a.count, 47);
	ck_assert_ptr_null(strstr(a.buf, "ziplist"));
	ck_assert_ptr_nonnull(strstr(a.buf, "port=6379\n"));
	ck_assert_ptr_nonnull(strstr(a.buf, "bind=127.0.0.1\n"));
	ck_assert_ptr_nonnull(strstr(a.buf, "protected-mode=yes\n"));
	ck_assert_ptr_nonnull(strstr(a.buf, "daemonize=no\n"));
	ck_assert_ptr_nonnull(strstr(a.buf, "reactor=auto\n"));
	ck_assert_ptr_nonnull(strstr(a.buf, "loglevel=notice\n"));
	ck_assert_ptr_nonnull(strstr(a.buf, "proto-max-bulk-len=536870912\n"));
	ck_assert_ptr_nonnull(strstr(a.buf, "save=\n"));
	ck_assert_ptr_nonnull(strstr(a.buf, "dir=.\n"));
	ck_assert_ptr_nonnull(strstr(
		a.buf, "client-output-buffer-limit=normal 0 0 0 slave "
		       "268435456 67108864 60 pubsub 33554432 8388608 60\n"));

	memset(&a, 0, sizeof(a));
	ap_config_get(&c, "max*", 4, collect_fn, &a);
	ck_assert_int_eq(a.count, 2);
	ck_assert_str_eq(a.buf, "maxclients=10000\nmaxmemory=0\n");

	memset(&a, 0, sizeof(a));
	ap_config_get(&c, "PORT", 4, collect_fn, &a);
	ck_assert_str_eq(a.buf, "port=6379\n");

	/* the pattern is length-delimited, not NUL-terminated */
	memset(&a, 0, sizeof(a));
	ap_config_get(&c, "portXYZ", 4, collect_fn, &a);
	ck_assert_str_eq(a.buf, "port=6379\n");

	memset(&a, 0, sizeof(a));
	ap_config_get(&c, "nosuch*", 7, collect_fn, &a);
	ck_assert_int_eq(a.count, 0);

	memset(&a, 0, sizeof(a));
	ap_config_get(&c, "*-expire", 8, collect_fn, &a);
	ck_assert_str_eq(a.buf, "active-expire=yes\n");
}
END_TEST

START_TEST(test_set_bool_int_enum_str)
{
	struct ap_config c;
	ap_config_init(&c);
	ck_assert_int_eq(set(&c, "protected-mode", "NO"), 0);
	ck_assert(!c.protected_mode);
	ck_assert_int_eq(set(&c, "active-expire", "maybe"), -EINVAL);
	ck_assert_str_eq(err, "argument must be 'yes' or 'no'");

	ck_assert_int_eq(set(&c, "timeout", "60"), 0);
	ck_assert_str_eq(get1(&c, "timeout"), "60");
	ck_assert_int_eq(set(&c, "timeout", "6x"), -EINVAL);
	ck_assert_str_eq(err, "argument couldn't be parsed into an integer");
	ck_assert_int_eq(set(&c, "timeout", "-1"), -EINVAL);
	ck_assert_str_eq(err,
			 "argument must be between 0 and 2147483647 inclusive");
	ck_assert_int_eq(set(&c, "timeout", "2147483648"), -EINVAL);
	ck_assert_int_eq(set(&c, "timeout", "1k"), -EINVAL); /* no units */
	ck_assert_int_eq(c.timeout_s, 60);
	ck_assert_int_eq(set(&c, "slowlog-log-slower-than", "-1"), 0);
	ck_assert_int_eq(set(&c, "slowlog-log-slower-than", "-2"), -EINVAL);
	ck_assert_int_eq(c.slowlog_log_slower_than, -1);

	ck_assert_int_eq(set(&c, "loglevel", "Verbose"), 0);
	ck_assert_str_eq(get1(&c, "loglevel"), "verbose");
	ck_assert_int_eq(set(&c, "loglevel", "nothing"), -EINVAL);
	ck_assert_str_eq(err, "argument(s) must be one of the following: "
			      "debug, verbose, notice, warning");
	ck_assert_int_eq(set(&c, "appendfsync", "NO"), 0);
	ck_assert_str_eq(c.appendfsync, "no");
	ck_assert_int_eq(set(&c, "appendfsync", "sometimes"), -EINVAL);
	ck_assert_str_eq(c.appendfsync, "no");

	/* snapshot compression: the codec, and zstd's level within its
	 * range (exact boundaries). */
	ck_assert_str_eq(get1(&c, "snapshot-compression"), "lz4");
	ck_assert_int_eq(set(&c, "snapshot-compression", "ZSTD"), 0);
	ck_assert_int_eq(c.snapshot_compression, AP_SNAPSHOT_COMPRESSION_ZSTD);
	ck_assert_str_eq(get1(&c, "snapshot-compression"), "zstd");
	ck_assert_int_eq(set(&c, "snapshot-compression", "no"), 0);
	ck_assert_int_eq(c.snapshot_compression, AP_SNAPSHOT_COMPRESSION_NO);
	ck_assert_int_eq(set(&c, "snapshot-compression", "gzip"), -EINVAL);
	ck_assert_str_eq(err, "argument(s) must be one of the following: "
			      "no, lz4, zstd");
	ck_assert_int_eq(set(&c, "snapshot-compression", "yes"), -EINVAL);
	ck_assert_int_eq(c.snapshot_compression, AP_SNAPSHOT_COMPRESSION_NO);
	ck_assert_int_eq(set(&c, "snapshot-compression", "lz4"), 0);
	ck_assert_int_eq(c.snapshot_compression, AP_SNAPSHOT_COMPRESSION_LZ4);
	ck_assert_str_eq(get1(&c, "snapshot-compression-level"), "1");
	ck_assert_int_eq(set(&c, "snapshot-compression-level", "19"), 0);
	ck_assert_int_eq(c.snapshot_compression_level,
			 AP_SNAPSHOT_ZSTD_LEVEL_MAX);
	ck_assert_int_eq(set(&c, "snapshot-compression-level", "20"), -EINVAL);
	ck_assert_str_eq(err, "argument must be between 1 and 19 inclusive");
	ck_assert_int_eq(set(&c, "snapshot-compression-level", "0"), -EINVAL);
	ck_assert_int_eq(set(&c, "snapshot-compression-level", "1"), 0);
	ck_assert_int_eq(c.snapshot_compression_level,
			 AP_SNAPSHOT_ZSTD_LEVEL_MIN);

	ck_assert_int_eq(set(&c, "requirepass", "s3cret pass"), 0);
	ck_assert_str_eq(get1(&c, "requirepass"), "s3cret pass");
	char big[AP_CONFIG_STR_MAX + 1];
	memset(big, 'a', sizeof(big));
	big[AP_CONFIG_STR_MAX - 1] = '\0'; /* 1023 bytes: fits */
	ck_assert_int_eq(set(&c, "requirepass", big), 0);
	big[AP_CONFIG_STR_MAX - 1] = 'a';
	big[AP_CONFIG_STR_MAX] = '\0'; /* 1024 bytes: too long */
	ck_assert_int_eq(set(&c, "requirepass", big), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "too long"));
	ck_assert_int_eq(strlen(c.requirepass), AP_CONFIG_STR_MAX - 1);
	ck_assert_int_eq(ap_config_set(&c, "requirepass", 11, "a\0b", 3, err,
				       sizeof(err)),
			 -EINVAL);

	ck_assert_int_eq(set(&c, "dir", tmpdir), 0);
	ck_assert_str_eq(c.dir, tmpdir);
	ck_assert_int_eq(set(&c, "dir", tpath("nodir")), -EINVAL);
	ck_assert_str_eq(err, "No such file or directory");
	write_conf("file", "x");
	ck_assert_int_eq(set(&c, "dir", tpath("file")), -EINVAL);
	ck_assert_str_eq(err, "Not a directory");
	ck_assert_str_eq(c.dir, tmpdir);
	ck_assert_int_eq(set(&c, "dbfilename", "a/b.rdb"), -EINVAL);
	ck_assert_str_eq(err, "dbfilename can't be a path, just a filename");
	ck_assert_int_eq(set(&c, "dbfilename", "x.rdb"), 0);
	ck_assert_int_eq(set(&c, "appendfilename", ".."), -EINVAL);
	ck_assert_int_eq(set(&c, "appendfilename", "x.aof"), 0);
	ck_assert_str_eq(get1(&c, "appendfilename"), "x.aof");
}
END_TEST

START_TEST(test_set_clamps_and_bounds)
{
	struct ap_config c;
	char v[32];
	ap_config_init(&c);
	ck_assert_int_eq(set(&c, "hz", "1000"), 0);
	ck_assert_int_eq(c.hz, AP_HZ_MAX);
	ck_assert_int_eq(set(&c, "hz", "0"), 0);
	ck_assert_int_eq(c.hz, AP_HZ_MIN);
	ck_assert_int_eq(set(&c, "hz", "-1"), -EINVAL);
	ck_assert_int_eq(set(&c, "hz", "42"), 0);
	ck_assert_str_eq(get1(&c, "hz"), "42");

	snprintf(v, sizeof(v), "%d", AP_MAXCLIENTS_MAX + 1);
	ck_assert_int_eq(set(&c, "maxclients", v), 0);
	ck_assert_int_eq(c.maxclients, AP_MAXCLIENTS_MAX);
	ck_assert_int_eq(set(&c, "maxclients", "0"), -EINVAL);
	ck_assert_int_eq(set(&c, "maxclients", "1"), 0);
	ck_assert_int_eq(c.maxclients, 1);

	/* proto-max-bulk-len: MIN-1, MIN, MAX, MAX+1 */
	snprintf(v, sizeof(v), "%lld", AP_PROTO_MAX_BULK_LEN_MIN - 1);
	ck_assert_int_eq(set(&c, "proto-max-bulk-len", v), -EINVAL);
	snprintf(v, sizeof(v), "%lld", AP_PROTO_MAX_BULK_LEN_MIN);
	ck_assert_int_eq(set(&c, "proto-max-bulk-len", v), 0);
	snprintf(v, sizeof(v), "%lld", AP_PROTO_MAX_BULK_LEN_MAX);
	ck_assert_int_eq(set(&c, "proto-max-bulk-len", v), 0);
	ck_assert_int_eq(c.proto_max_bulk_len, AP_PROTO_MAX_BULK_LEN_MAX);
	snprintf(v, sizeof(v), "%lld", AP_PROTO_MAX_BULK_LEN_MAX + 1);
	ck_assert_int_eq(set(&c, "proto-max-bulk-len", v), -EINVAL);
	ck_assert_str_eq(err, "argument must be between 1048576 and "
			      "2146435072 inclusive");
	ck_assert_int_eq(set(&c, "client-query-buffer-limit", "1mb"), 0);
	ck_assert_int_eq(set(&c, "client-query-buffer-limit", "1m"), -EINVAL);
	ck_assert_int_eq(set(&c, "client-query-buffer-limit", "4gb"), 0);
	ck_assert_int_eq(c.client_query_buffer_limit, AP_QUERY_BUF_LIMIT_MAX);
	ck_assert_int_eq(set(&c, "client-query-buffer-limit", "4097mb"),
			 -EINVAL);

	/* load-only bounds */
	ck_assert_int_eq(load_text(&c, "shards 256\ndatabases 1024\n"), 0);
	ck_assert_int_eq(c.shards, AP_SHARDS_MAX);
	ck_assert_int_eq(c.databases, AP_DATABASES_MAX);
	ck_assert_int_eq(load_text(&c, "shards 257\n"), -EINVAL);
	ck_assert_int_eq(load_text(&c, "databases 1025\n"), -EINVAL);
	ck_assert_int_eq(load_text(&c, "databases 0\n"), -EINVAL);
	ck_assert_int_eq(load_text(&c, "databases 1\n"), 0);
}
END_TEST

START_TEST(test_set_memory_units)
{
	struct ap_config c;
	static const struct {
		const char *in;
		long long out;
	} cases[] = {
		{"0", 0},
		{"100", 100},
		{"100b", 100},
		{"1k", 1000},
		{"1kb", 1024},
		{"1K", 1000},
		{"1KB", 1024},
		{"1m", 1000 * 1000},
		{"1mb", 1024 * 1024},
		{"1Mb", 1024 * 1024},
		{"1g", 1000LL * 1000 * 1000},
		{"1gb", 1024LL * 1024 * 1024},
		{"3GB", 3LL * 1024 * 1024 * 1024},
		{"9223372036854775807", LLONG_MAX},
	};
	static const char *bad[] = {
		"",
		"kb",
		"1tb",
		"1 kb",
		"1.5gb",
		"abc",
		"1kbb",
		"-1",
		"-1k",
		"+1",
		"9223372036854775807kb",
		"1k1",
	};
	ap_config_init(&c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(set(&c, "maxmemory", cases[i].in), 0);
		ck_assert_int_eq(c.maxmemory, cases[i].out);
	}
	ck_assert_str_eq(get1(&c, "maxmemory"), "9223372036854775807");
	ck_assert_int_eq(set(&c, "maxmemory", "2mb"), 0);
	ck_assert_str_eq(get1(&c, "maxmemory"), "2097152");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(set(&c, "maxmemory", bad[i]), -EINVAL);
		ck_assert_int_eq(c.maxmemory, 2 * 1024 * 1024);
	}
	ck_assert_int_eq(set(&c, "maxmemory", "x"), -EINVAL);
	ck_assert_str_eq(err, "argument must be a memory value");
	ck_assert_int_eq(set(&c, "maxmemory", "-1"), -EINVAL);
	ck_assert_str_eq(err, "argument must be between 0 and "
			      "9223372036854775807 inclusive");
}
END_TEST

START_TEST(test_set_special)
{
	struct ap_config c;
	ap_config_init(&c);
	ck_assert_int_eq(set(&c, "client-output-buffer-limit",
			     "normal 1mb 2mb 3 slave 1 2 3"),
			 0);
	ck_assert_str_eq(get1(&c, "client-output-buffer-limit"),
			 "normal 1048576 2097152 3 slave 1 2 3 pubsub "
			 "33554432 8388608 60");
	ck_assert_int_eq(set(&c, "client-output-buffer-limit", "REPLICA 5 6 7"),
			 0);
	ck_assert_int_eq(c.obuf_replica_soft_s, 7);
	ck_assert_int_eq(set(&c, "client-output-buffer-limit", "normal 1 2"),
			 -EINVAL);
	ck_assert_str_eq(err, "Wrong number of arguments in buffer limit "
			      "configuration.");
	ck_assert_int_eq(set(&c, "client-output-buffer-limit", ""), -EINVAL);
	ck_assert_int_eq(set(&c, "client-output-buffer-limit",
			     "pubsub 1 1 1 master 1 2 3"),
			 -EINVAL);
	ck_assert_str_eq(err, "Invalid client class specified in buffer "
			      "limit configuration.");
	ck_assert_int_eq(c.obuf_pubsub_hard, 32LL * 1024 * 1024); /* atomic */
	ck_assert_int_eq(set(&c, "client-output-buffer-limit", "pubsub 1 1 -1"),
			 -EINVAL);
	ck_assert_str_eq(err, "Error in hard, soft or soft_seconds setting in "
			      "buffer limit configuration.");
	ck_assert_int_eq(set(&c, "client-output-buffer-limit", "pubsub 1x 1 1"),
			 -EINVAL);
	ck_assert_int_eq(
		set(&c, "client-output-buffer-limit", "pubsub 1 1 2147483648"),
		-EINVAL);
	ck_assert_int_eq(
		set(&c, "client-output-buffer-limit", "pubsub 1 1 2147483647"),
		0);
	ck_assert_int_eq(c.obuf_pubsub_soft_s, INT_MAX);
}
END_TEST

START_TEST(test_set_immutable_unknown)
{
	static const char *imm[] = {
		"port",	   "bind",	"shards",  "pin-threads", "databases",
		"reactor", "daemonize", "pidfile", "tcp-backlog", "logfile"};
	struct ap_config c;
	ap_config_init(&c);
	for (size_t i = 0; i < sizeof(imm) / sizeof(imm[0]); i++) {
		ck_assert_int_eq(set(&c, imm[i], "1"), -EPERM);
		ck_assert_str_eq(err, "can't set immutable config");
	}
	ck_assert_int_eq(set(&c, "PORT", "7000"), -EPERM);
	ck_assert_int_eq(c.port, 6379);
	ck_assert_int_eq(set(&c, "nosuch", "1"), -ENOENT);
	ck_assert_str_eq(err, "Unknown option or number of arguments for "
			      "CONFIG SET - 'nosuch'");
	ck_assert_int_eq(set(&c, "include", "/etc/passwd"), -ENOENT);
	/* name is length-delimited */
	ck_assert_int_eq(
		ap_config_set(&c, "timeoutXX", 7, "5", 1, err, sizeof(err)), 0);
	ck_assert_int_eq(c.timeout_s, 5);
}
END_TEST

START_TEST(test_rewrite_no_file)
{
	struct ap_config c;
	ap_config_init(&c);
	ck_assert_int_eq(ap_config_rewrite(&c, err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "The server is running without a config file");
}
END_TEST

START_TEST(test_rewrite_round_trip)
{
	struct ap_config c, r;
	struct collect a, b;
	const char *orig = "# Apiary test config\n"
			   "\n"
			   "port 7000\n"
			   "requirepass   \"keep me\"\n"
			   "  # indented\n"
			   "timeout 10\n"
			   "maxclients 10\n"
			   "maxclients 20\n"
			   "unknown-but-kept-line \"unbalanced\n"
			   "hz 20\n";
	char p[512];
	char *argv[] = {"--maxmemory", "1gb"};

	snprintf(p, sizeof(p), "%s", write_conf("rw.conf", orig));

	ck_assert_int_eq(chmod(p, 0600), 0);
	ap_config_init(&c);
	/* the odd line is unloadable, so load the rest and point at it */
	write_conf("load.conf", "port 7000\nrequirepass \"keep me\"\n"
				"timeout 10\nmaxclients 20\nhz 20\n");
	ck_assert_int_eq(ap_config_load(&c, tpath("load.conf"), 2, argv, err,
					sizeof(err)),
			 0);
	char *abs = realpath(p, NULL);
	strcpy(c.config_file, abs);
	free(abs);

	ck_assert_int_eq(set(&c, "timeout", "99"), 0);
	ck_assert_int_eq(set(&c, "maxclients", "30"), 0);
	ck_assert_int_eq(set(&c, "loglevel", "warning"), 0);
	ck_assert_int_eq(set(&c, "dbfilename", "my db\t\"q\".rdb"), 0);
	ck_assert_int_eq(set(&c, "client-output-buffer-limit", "normal 1 2 3"),
			 0);
	ck_assert_int_eq(ap_config_rewrite(&c, err, sizeof(err)), 0);

	const char *want =
		"# Apiary test config\n"
		"\n"
		"port 7000\n"
		"requirepass   \"keep me\"\n"
		"  # indented\n"
		"timeout 99\n"
		"maxclients 30\n"
		"unknown-but-kept-line \"unbalanced\n"
		"hz 20\n"
		"# Generated by CONFIG REWRITE\n"
		"client-output-buffer-limit normal 1 2 3 slave 268435456 "
		"67108864 60 pubsub 33554432 8388608 60\n"
		"maxmemory 1073741824\n"
		"loglevel warning\n"
		"dbfilename \"my db\\t\\\"q\\\".rdb\"\n";
	ck_assert_str_eq(read_conf(p), want);
	struct stat st;
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600); /* mode kept */

	/* the rewritten file (minus the odd line) reloads to the same config */
	char *txt = strdup(read_conf(p));
	char *odd = strstr(txt, "unknown-but-kept-line");
	memmove(odd, strchr(odd, '\n') + 1, strlen(strchr(odd, '\n') + 1) + 1);
	write_conf("clean.conf", txt);
	free(txt);
	ap_config_init(&r);
	ck_assert_int_eq(ap_config_load(&r, tpath("clean.conf"), 0, NULL, err,
					sizeof(err)),
			 0);
	dump(&c, &a);
	dump(&r, &b);
	ck_assert_str_eq(a.buf, b.buf);

	/* a second rewrite changes nothing */
	ck_assert_int_eq(ap_config_rewrite(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(read_conf(p), want);

	/* a value set back to the file's value keeps the new line; a new
	 * change lands under the existing signature, not a second one */
	ck_assert_int_eq(set(&c, "active-expire", "no"), 0);
	ck_assert_int_eq(ap_config_rewrite(&c, err, sizeof(err)), 0);
	const char *s = read_conf(p);
	ck_assert_ptr_nonnull(strstr(s, "active-expire no\n"));
	ck_assert_ptr_eq(strstr(strstr(s, "# Generated") + 1, "# Generated"),
			 NULL);
}
END_TEST

START_TEST(test_rewrite_full_reload)
{
	struct ap_config c, r;
	struct collect a, b;
	char p[512];
	char *argv[] = {"--port",
			"0",
			"--bind",
			"::1",
			"10.1.1.1",
			"--requirepass",
			"",
			"--logfile",
			"/tmp/x y.log",
			"--pidfile",
			"'quoted'",
			"--reactor",
			"uring",
			"--pin-threads",
			"no",
			"--shards",
			"3",
			"--daemonize",
			"yes",
			"--lazyfree-lazy-user-del",
			"yes"};
	snprintf(p, sizeof(p), "%s", write_conf("full.conf", "# a comment\n"));
	ap_config_init(&c);
	ck_assert_int_eq(ap_config_load(&c, p, 21, argv, err, sizeof(err)), 0);
	ck_assert_int_eq(set(&c, "dir", tmpdir), 0);
	ck_assert_int_eq(ap_config_rewrite(&c, err, sizeof(err)), 0);
	ap_config_init(&r);
	ck_assert_int_eq(ap_config_load(&r, p, 0, NULL, err, sizeof(err)), 0);
	dump(&c, &a);
	dump(&r, &b);
	ck_assert_str_eq(a.buf, b.buf);
	ck_assert_str_eq(r.pidfile, "'quoted'");
	ck_assert_str_eq(r.logfile, "/tmp/x y.log");
	ck_assert_int_eq(r.bind_count, 2);
	/* default requirepass "" is not written */
	ck_assert_ptr_eq(strstr(read_conf(p), "requirepass"), NULL);
	ck_assert_ptr_nonnull(strstr(read_conf(p), "logfile \"/tmp/x y.log\""));

	/* bind set to no address writes bind "" and reads back */
	char *argv2[] = {"--bind", ""};
	ck_assert_int_eq(ap_config_load(&c, NULL, 2, argv2, err, sizeof(err)),
			 0);
	ck_assert_int_eq(c.bind_count, 0);
	ck_assert_int_eq(ap_config_rewrite(&c, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(read_conf(p), "bind \"\"\n"));
	ck_assert_int_eq(ap_config_load(&r, p, 0, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(r.bind_count, 0);
}
END_TEST

START_TEST(test_rewrite_missing_file_created)
{
	struct ap_config c;
	ap_config_init(&c);
	snprintf(c.config_file, sizeof(c.config_file), "%s", tpath("new.conf"));
	ck_assert_int_eq(set(&c, "timeout", "7"), 0);
	ck_assert_int_eq(ap_config_rewrite(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(read_conf(tpath("new.conf")),
			 "# Generated by CONFIG REWRITE\ntimeout 7\n");
	/* a directory that does not exist: an error, no crash */
	snprintf(c.config_file, sizeof(c.config_file), "%s",
		 tpath("nodir/x.conf"));
	ck_assert_int_eq(ap_config_rewrite(&c, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "Rewriting config file: "));
}
END_TEST

/* ------------------------------------------------------------------ */

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_load_no_file_no_args);
	tcase_add_test(tc, test_file_syntax);
	tcase_add_test(tc, test_file_last_wins_and_empty);
	tcase_add_test(tc, test_file_errors);
	tcase_add_test(tc, test_file_quote_errors);
	tcase_add_test(tc, test_file_missing);
	tcase_add_test(tc, test_include_depth);
	tcase_add_test(tc, test_persistence_config);
	tcase_add_test(tc, test_argv);
	tcase_add_test(tc, test_argv_errors);
	tcase_add_test(tc, test_get_patterns);
	tcase_add_test(tc, test_set_bool_int_enum_str);
	tcase_add_test(tc, test_set_clamps_and_bounds);
	tcase_add_test(tc, test_set_memory_units);
	tcase_add_test(tc, test_set_special);
	tcase_add_test(tc, test_set_immutable_unknown);
	tcase_add_test(tc, test_rewrite_no_file);
	tcase_add_test(tc, test_rewrite_round_trip);
	tcase_add_test(tc, test_rewrite_full_reload);
	tcase_add_test(tc, test_rewrite_missing_file_created);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
