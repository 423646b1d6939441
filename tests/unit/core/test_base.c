/*
 * test_base.c - unit tests for core/base.c: string <-> number conversions
 * at their boundaries, glob matching, CRC16 and hash slots, allocation
 * accounting, clocks, logging and assertions.
 */
#include "core/base.h"

#include <check.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Parses the C string s with ap_str_to_ll. */
static bool ll_ok(const char *s, long long *v)
{
	return ap_str_to_ll(s, strlen(s), v);
}

START_TEST(test_str_to_ll_valid)
{
	long long v = 7;

	ck_assert(ll_ok("0", &v));
	ck_assert_int_eq(v, 0);
	ck_assert(ll_ok("1", &v));
	ck_assert_int_eq(v, 1);
	ck_assert(ll_ok("-1", &v));
	ck_assert_int_eq(v, -1);
	ck_assert(ll_ok("1234567890", &v));
	ck_assert_int_eq(v, 1234567890);
	ck_assert(ll_ok("9223372036854775807", &v));
	ck_assert(v == LLONG_MAX);
	ck_assert(ll_ok("-9223372036854775808", &v));
	ck_assert(v == LLONG_MIN);
	/* Only the first len bytes count. */
	ck_assert(ap_str_to_ll("12345", 2, &v));
	ck_assert_int_eq(v, 12);
}
END_TEST

START_TEST(test_str_to_ll_invalid)
{
	static const char *bad[] = {
		"",
		"-",
		"+1",
		"-0",
		"01",
		"-01",
		"00",
		" 1",
		"1 ",
		"1a",
		"a1",
		"1.0",
		"1e3",
		"9223372036854775808",
		"-9223372036854775809",
		"18446744073709551616",
		"99999999999999999999",
		"123456789012345678901",
		"0x10",
	};
	long long v = 42;

	for (size_t i = 0; i < AP_ARRAY_LEN(bad); i++) {
		ck_assert_msg(!ll_ok(bad[i], &v), "accepted '%s'", bad[i]);
		ck_assert_int_eq(v, 42); /* untouched on failure */
	}
	ck_assert(!ap_str_to_ll("1\0", 2, &v));
	ck_assert(!ap_str_to_ll("12", 0, &v));
}
END_TEST

START_TEST(test_str_to_ull)
{
	unsigned long long v = 5;

	ck_assert(ap_str_to_ull("0", 1, &v));
	ck_assert(v == 0);
	ck_assert(ap_str_to_ull("18446744073709551615", 20, &v));
	ck_assert(v == ULLONG_MAX);
	ck_assert(ap_str_to_ull("9223372036854775808", 19, &v));
	ck_assert(v == 9223372036854775808ULL);
	ck_assert(!ap_str_to_ull("18446744073709551616", 20, &v));
	ck_assert(!ap_str_to_ull("99999999999999999999", 20, &v));
	ck_assert(!ap_str_to_ull("-1", 2, &v));
	ck_assert(!ap_str_to_ull("+1", 2, &v));
	ck_assert(!ap_str_to_ull("01", 2, &v));
	ck_assert(!ap_str_to_ull("", 0, &v));
	ck_assert(!ap_str_to_ull(" 1", 2, &v));
	ck_assert(v == 9223372036854775808ULL);
}
END_TEST

START_TEST(test_str_to_ld)
{
	long double v = 0;

	ck_assert(ap_str_to_ld("1.5", 3, &v));
	ck_assert(v == 1.5L);
	ck_assert(ap_str_to_ld("-10", 3, &v));
	ck_assert(v == -10.0L);
	ck_assert(ap_str_to_ld("1e3", 3, &v));
	ck_assert(v == 1000.0L);
	ck_assert(ap_str_to_ld("inf", 3, &v));
	ck_assert(isinf(v) && v > 0);
	ck_assert(ap_str_to_ld("+inf", 4, &v));
	ck_assert(isinf(v) && v > 0);
	ck_assert(ap_str_to_ld("-inf", 4, &v));
	ck_assert(isinf(v) && v < 0);
	ck_assert(ap_str_to_ld("-0", 2, &v));
	ck_assert(v == 0);

	v = 3;
	ck_assert(!ap_str_to_ld("", 0, &v));
	ck_assert(!ap_str_to_ld(" 1", 2, &v));
	ck_assert(!ap_str_to_ld("1 ", 2, &v));
	ck_assert(!ap_str_to_ld("nan", 3, &v));
	ck_assert(!ap_str_to_ld("-nan", 4, &v));
	ck_assert(!ap_str_to_ld("abc", 3, &v));
	ck_assert(!ap_str_to_ld("1.5x", 4, &v));
	ck_assert(!ap_str_to_ld("1e99999", 7, &v));  /* overflow */
	ck_assert(!ap_str_to_ld("1e-99999", 8, &v)); /* underflow to 0 */
	ck_assert(!ap_str_to_ld("1\0", 2, &v));
	ck_assert(v == 3);
	/* Length bound: 5119 bytes are parsed, 5120 refused. */
	char *big = malloc(5121);
	memset(big, '0', 5120);
	big[5120] = '\0';
	big[5118] = '7';
	ck_assert(ap_str_to_ld(big, 5119, &v));
	ck_assert(v == 7);
	ck_assert(!ap_str_to_ld(big, 5120, &v));
	free(big);
}
END_TEST

START_TEST(test_str_to_d)
{
	double v = 0;

	ck_assert(ap_str_to_d("3.25", 4, &v));
	ck_assert(v == 3.25);
	ck_assert(ap_str_to_d("-inf", 4, &v));
	ck_assert(isinf(v) && v < 0);
	ck_assert(ap_str_to_d("+inf", 4, &v));
	ck_assert(isinf(v) && v > 0);
	ck_assert(ap_str_to_d("1e308", 5, &v));
	ck_assert(!ap_str_to_d("1e309", 5, &v));
	ck_assert(!ap_str_to_d("1e-400", 6, &v));
	ck_assert(!ap_str_to_d("nan", 3, &v));
	ck_assert(!ap_str_to_d("", 0, &v));
	ck_assert(!ap_str_to_d("\t1", 2, &v));
	ck_assert(!ap_str_to_d("1\n", 2, &v));
}
END_TEST

START_TEST(test_ll_to_str)
{
	char buf[21], ref[32];
	long long v = 1;

	ck_assert_uint_eq(ap_ll_to_str(buf, 0), 1);
	ck_assert_str_eq(buf, "0");
	ck_assert_uint_eq(ap_ll_to_str(buf, LLONG_MAX), 19);
	ck_assert_str_eq(buf, "9223372036854775807");
	ck_assert_uint_eq(ap_ll_to_str(buf, LLONG_MIN), 20);
	ck_assert_str_eq(buf, "-9223372036854775808");
	ck_assert_uint_eq(ap_ull_to_str(buf, ULLONG_MAX), 20);
	ck_assert_str_eq(buf, "18446744073709551615");
	/* Every power of ten and its neighbours, both signs. */
	for (int i = 0; i < 19; i++, v = i < 19 ? v * 10 : v) {
		for (long long d = -1; d <= 1; d++) {
			long long x = v + d;
			snprintf(ref, sizeof(ref), "%lld", x);
			ck_assert_uint_eq(ap_ll_to_str(buf, x), strlen(ref));
			ck_assert_str_eq(buf, ref);
			snprintf(ref, sizeof(ref), "%lld", -x);
			ck_assert_uint_eq(ap_ll_to_str(buf, -x), strlen(ref));
			ck_assert_str_eq(buf, ref);
		}
	}
}
END_TEST

START_TEST(test_d_to_str)
{
	char buf[64];

	ck_assert_uint_eq(ap_d_to_str(buf, 1.5), 3);
	ck_assert_str_eq(buf, "1.5");
	ap_d_to_str(buf, 0.1);
	ck_assert_str_eq(buf, "0.10000000000000001");
	ap_d_to_str(buf, 1e20);
	ck_assert_str_eq(buf, "1e+20");
	ck_assert_uint_eq(ap_d_to_str(buf, INFINITY), 3);
	ck_assert_str_eq(buf, "inf");
	ck_assert_uint_eq(ap_d_to_str(buf, -INFINITY), 4);
	ck_assert_str_eq(buf, "-inf");
	ap_d_to_str(buf, -2.0);
	ck_assert_str_eq(buf, "-2");
	/* The whole-number fast path agrees with %.17g at its edges. */
	static const double whole[] = {0.0,
				       -0.0,
				       1.0,
				       -1.0,
				       1e15,
				       9007199254740991.0,
				       -9007199254740992.0,
				       9007199254740994.0,
				       1e17,
				       123456789012345678.0};
	for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++) {
		char want[64];
		size_t n =
			(size_t)snprintf(want, sizeof(want), "%.17g", whole[i]);
		ck_assert_uint_eq(ap_d_to_str(buf, whole[i]), n);
		ck_assert_str_eq(buf, want);
	}
}
END_TEST

/* Formats v with ap_ld_to_str and checks the result and its length. */
static void ld_check(long double v, const char *want)
{
	char buf[AP_LD_STR_SIZE];
	size_t n = ap_ld_to_str(buf, v);

	ck_assert_str_eq(buf, want);
	ck_assert_uint_eq(n, strlen(want));
}

START_TEST(test_ld_to_str)
{
	ld_check(3.0L, "3");
	ld_check(10.5L, "10.5");
	ld_check(10.5L + 0.1L, "10.6");
	ld_check(5.0e3L + 2.0e2L, "5200");
	ld_check(-1.5L, "-1.5");
	ld_check(0.0L, "0");
	ld_check(-0.0L, "0");
	ld_check(-1e-30L, "0"); /* "-0.000..." trims to "-0", then "0" */
	ld_check(1e20L, "100000000000000000000");
	ld_check(100.0L, "100");
	ld_check(INFINITY, "inf");
	ld_check(-INFINITY, "-inf");

	char buf[AP_LD_STR_SIZE];
	size_t n = ap_ld_to_str(buf, -LDBL_MAX);
	ck_assert(n > 4900 && n < AP_LD_STR_SIZE);
	ck_assert_int_eq(buf[0], '-');
	ck_assert_uint_eq(strlen(buf), n);
}
END_TEST

START_TEST(test_strcaseeq)
{
	ck_assert(ap_strcaseeq("GeT", 3, "get"));
	ck_assert(ap_strcaseeq("get", 3, "GET"));
	ck_assert(ap_strcaseeq("", 0, ""));
	ck_assert(!ap_strcaseeq("get", 2, "get"));
	ck_assert(!ap_strcaseeq("gets", 4, "get"));
	ck_assert(!ap_strcaseeq("gex", 3, "get"));
	ck_assert(!ap_strcaseeq("g\0t", 3, "g"));
	ck_assert(!ap_strcaseeq("[", 1, "{")); /* '[' + 32 is '{' */
}
END_TEST

/* Glob match of two C strings. */
static bool gm(const char *pat, const char *s, bool nocase)
{
	return ap_glob_match(pat, strlen(pat), s, strlen(s), nocase);
}

START_TEST(test_glob_basic)
{
	ck_assert(gm("*", "", false));
	ck_assert(gm("*", "anything", false));
	ck_assert(gm("", "", false));
	ck_assert(!gm("", "a", false));
	ck_assert(!gm("a*", "", false));
	ck_assert(gm("**", "", false));
	ck_assert(gm("h?llo", "hello", false));
	ck_assert(gm("h?llo", "hallo", false));
	ck_assert(!gm("h?llo", "hllo", false));
	ck_assert(gm("h*llo", "hllo", false));
	ck_assert(gm("h*llo", "heeeello", false));
	ck_assert(!gm("h*llo", "heeeell", false));
	ck_assert(gm("*a", "ba", false));
	ck_assert(gm("a*b*c", "aXbYc", false));
	ck_assert(gm("a*b*c", "abbbc", false));
	ck_assert(!gm("a*b*c", "acb", false));
	ck_assert(gm("user:*:name", "user:42:name", false));
	ck_assert(!gm("user:*:name", "user:42:nam", false));
	ck_assert(!gm("abc", "ABC", false));
	ck_assert(gm("abc", "ABC", true));
	ck_assert(gm("A?C*", "abcdef", true));
}
END_TEST

START_TEST(test_glob_classes)
{
	ck_assert(gm("h[ae]llo", "hello", false));
	ck_assert(gm("h[ae]llo", "hallo", false));
	ck_assert(!gm("h[ae]llo", "hillo", false));
	ck_assert(gm("h[^e]llo", "hallo", false));
	ck_assert(!gm("h[^e]llo", "hello", false));
	ck_assert(gm("h[a-b]llo", "hbllo", false));
	ck_assert(!gm("h[a-b]llo", "hcllo", false));
	ck_assert(gm("[z-a]", "m", false)); /* reversed range */
	ck_assert(!gm("[a-z]", "M", false));
	ck_assert(gm("[a-z]", "M", true));
	ck_assert(gm("[A-Z]", "m", true));
	ck_assert(gm("[0-9][0-9]", "42", false));
	ck_assert(!gm("[]", "a", false));   /* empty class */
	ck_assert(gm("[^]", "a", false));   /* negated empty class */
	ck_assert(gm("[\\]]", "]", false)); /* escaped ']' */
	ck_assert(gm("[a\\-z]", "-", false));
	ck_assert(!gm("[a\\-z]", "m", false));
	ck_assert(gm("[abc", "b", false)); /* unterminated: to the end */
	ck_assert(!gm("[abc", "d", false));
	ck_assert(gm("x[abc", "xc", false));
	ck_assert(gm("*[0-9]", "key7", false));
}
END_TEST

START_TEST(test_glob_escapes)
{
	ck_assert(gm("h\\*llo", "h*llo", false));
	ck_assert(!gm("h\\*llo", "hello", false));
	ck_assert(gm("\\?", "?", false));
	ck_assert(!gm("\\?", "a", false));
	ck_assert(gm("\\[a]", "[a]", false));
	ck_assert(gm("a\\", "a\\", false)); /* trailing backslash literal */
	ck_assert(gm("\\\\", "\\", false));
	ck_assert(gm("\\A", "a", true));
}
END_TEST

START_TEST(test_glob_pathological)
{
	size_t n = 200000;
	char *s = malloc(n + 1);
	memset(s, 'a', n);
	s[n] = '\0';
	/* Exponential for a naive backtracker; bounded here. */
	ck_assert(!gm("a*a*a*a*a*a*a*a*b", s, false));
	ck_assert(!gm("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", s, false));
	ck_assert(!gm("*?*?*?*?*?*?*?*?*?*?*?*?*b", s, true));
	s[n - 1] = 'b';
	ck_assert(gm("a*a*a*a*a*a*a*a*b", s, false));
	ck_assert(gm("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", s, false));
	free(s);
}
END_TEST

START_TEST(test_crc16_and_slots)
{
	ck_assert_uint_eq(ap_crc16("123456789", 9), 0x31C3);
	ck_assert_uint_eq(ap_crc16("", 0), 0);
	ck_assert_uint_eq(ap_key_slot("foo", 3), 12182);
	ck_assert_uint_eq(ap_key_slot("", 0), 0);
	ck_assert_uint_eq(ap_key_slot("user1000", 8),
			  ap_crc16("user1000", 8) % AP_SLOTS);

	unsigned a = ap_key_slot("{user1000}.following", 20);
	unsigned b = ap_key_slot("{user1000}.followers", 20);
	ck_assert_uint_eq(a, b);
	ck_assert_uint_eq(a, ap_key_slot("user1000", 8));
	/* Empty tag: the whole key. */
	ck_assert_uint_eq(ap_key_slot("foo{}{bar}", 10),
			  ap_crc16("foo{}{bar}", 10) % AP_SLOTS);
	/* First '{' to the first '}' after it. */
	ck_assert_uint_eq(ap_key_slot("foo{{bar}}zap", 13),
			  ap_crc16("{bar", 4) % AP_SLOTS);
	ck_assert_uint_eq(ap_key_slot("foo{bar}{zap}", 13),
			  ap_key_slot("bar", 3));
	/* No closing brace: the whole key. */
	ck_assert_uint_eq(ap_key_slot("foo{bar", 7),
			  ap_crc16("foo{bar", 7) % AP_SLOTS);
	/* Every slot is in range. */
	for (int i = 0; i < 1000; i++) {
		char k[16];
		int n = snprintf(k, sizeof(k), "key:%d", i);
		ck_assert_uint_lt(ap_key_slot(k, (size_t)n), AP_SLOTS);
	}
}
END_TEST

START_TEST(test_alloc_accounting)
{
	int64_t base = ap_mem_thread_used();
	char *p = ap_malloc(1000);

	ck_assert(ap_alloc_size(p) >= 1000);
	ck_assert_int_eq(ap_mem_thread_used() - base,
			 (int64_t)ap_alloc_size(p));
	memset(p, 'x', 1000);
	p = ap_realloc(p, 100000);
	ck_assert(ap_alloc_size(p) >= 100000);
	ck_assert_int_eq(p[999], 'x');
	ck_assert_int_eq(ap_mem_thread_used() - base,
			 (int64_t)ap_alloc_size(p));
	ap_free(p);
	ck_assert_int_eq(ap_mem_thread_used(), base);

	int *z = ap_calloc(100, sizeof(int));
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(z[i], 0);
	ap_free(z);
	char *d = ap_strdup("hello");
	ck_assert_str_eq(d, "hello");
	char *m = ap_memdup("a\0b", 3);
	ck_assert(memcmp(m, "a\0b", 3) == 0);
	ap_free(d);
	ap_free(m);
	ap_free(NULL);
	void *r = ap_realloc(NULL, 10);
	ck_assert_ptr_nonnull(r);
	ap_free(r);
	ck_assert_int_eq(ap_mem_thread_used(), base);
	ck_assert_uint_eq(ap_alloc_size(NULL), 0);
}
END_TEST

START_TEST(test_calloc_overflow_aborts)
{
	ap_calloc(SIZE_MAX / 2, 3);
}
END_TEST

START_TEST(test_clocks)
{
	uint64_t a = ap_time_ns();
	uint64_t b = ap_time_ns();

	ck_assert(b >= a);
	ck_assert(ap_time_us() >= a / 1000);
	ck_assert(ap_unix_ms() > 1600000000000LL);
	int64_t us = ap_unix_us();
	ck_assert(us / 1000 >= ap_unix_ms() - 1000);
}
END_TEST

/* Reads the whole file at path into buf (NUL-terminated). */
static size_t slurp(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n;
}

/* True if s matches the extended regular expression re. */
static bool regex_ok(const char *re, const char *s)
{
	regex_t rx;
	ck_assert_int_eq(regcomp(&rx, re, REG_EXTENDED | REG_NEWLINE), 0);
	bool ok = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	return ok;
}

START_TEST(test_log_format)
{
	char path[] = "/tmp/ap_test_log_XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);

	ap_log_setup(AP_LOG_VERBOSE, path);
	ap_log(AP_LOG_DEBUG, "dropped %d", 1);
	ap_log(AP_LOG_NOTICE, "hello %d", 42);
	ap_thread_shard_id = 3;
	ap_log(AP_LOG_WARNING, "from shard");
	ap_log(AP_LOG_VERBOSE, "verbose");
	ap_thread_shard_id = -1;

	char buf[4096];
	slurp(path, buf, sizeof(buf));
	unlink(path);
	ck_assert_ptr_null(strstr(buf, "dropped"));
	const char *ts = "[0-9]{2} [A-Z][a-z]{2} [0-9]{4} "
			 "[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}";
	char re[512];
	snprintf(re, sizeof(re),
		 "^[0-9]+:M %s \\* hello 42\n"
		 "[0-9]+:S %s # from shard\n"
		 "[0-9]+:S %s - verbose\n$",
		 ts, ts, ts);
	ck_assert_msg(regex_ok(re, buf), "log was: %s", buf);
}
END_TEST

START_TEST(test_log_truncates_long_lines)
{
	char path[] = "/tmp/ap_test_log_XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ap_log_setup(AP_LOG_DEBUG, path);

	char *msg = malloc(10000);
	memset(msg, 'y', 9999);
	msg[9999] = '\0';
	ap_log(AP_LOG_DEBUG, "%s", msg);
	ap_log(AP_LOG_DEBUG, "next");
	free(msg);

	static char buf[65536];
	size_t n = slurp(path, buf, sizeof(buf));
	unlink(path);
	ck_assert(n < 8192);
	char *nl = strchr(buf, '\n');
	ck_assert_ptr_nonnull(nl);
	ck_assert(strstr(nl + 1, ". next\n") != NULL);
}
END_TEST

START_TEST(test_assert_aborts)
{
	int x = 1;
	AP_ASSERT(x == 2);
}
END_TEST

START_TEST(test_assert_passes)
{
	int x = 2;
	AP_ASSERT(x == 2);
	ck_assert_int_eq(x, 2);
}
END_TEST

START_TEST(test_fatal_exits)
{
	ap_log_setup(AP_LOG_WARNING, NULL);
	ap_fatal("cannot start: %s", "reason");
}
END_TEST

static Suite *base_suite(void)
{
	Suite *s = suite_create("base");
	TCase *tc = tcase_create("strings");

	tcase_add_test(tc, test_str_to_ll_valid);
	tcase_add_test(tc, test_str_to_ll_invalid);
	tcase_add_test(tc, test_str_to_ull);
	tcase_add_test(tc, test_str_to_ld);
	tcase_add_test(tc, test_str_to_d);
	tcase_add_test(tc, test_ll_to_str);
	tcase_add_test(tc, test_d_to_str);
	tcase_add_test(tc, test_ld_to_str);
	tcase_add_test(tc, test_strcaseeq);
	suite_add_tcase(s, tc);

	tc = tcase_create("glob");
	tcase_add_test(tc, test_glob_basic);
	tcase_add_test(tc, test_glob_classes);
	tcase_add_test(tc, test_glob_escapes);
	tcase_add_test(tc, test_glob_pathological);
	suite_add_tcase(s, tc);

	tc = tcase_create("slots");
	tcase_add_test(tc, test_crc16_and_slots);
	suite_add_tcase(s, tc);

	tc = tcase_create("runtime");
	tcase_add_test(tc, test_alloc_accounting);
	tcase_add_test_raise_signal(tc, test_calloc_overflow_aborts, SIGABRT);
	tcase_add_test(tc, test_clocks);
	tcase_add_test(tc, test_log_format);
	tcase_add_test(tc, test_log_truncates_long_lines);
	tcase_add_test_raise_signal(tc, test_assert_aborts, SIGABRT);
	tcase_add_test(tc, test_assert_passes);
	tcase_add_exit_test(tc, test_fatal_exits, 1);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(base_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
