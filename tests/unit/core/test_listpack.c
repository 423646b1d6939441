/*
 * test_listpack.c - unit tests for core/listpack.c: every integer width
 * and string-length class at its boundaries, back-lengths across their
 * byte-count boundaries, forward and reverse walks, every mutation, find
 * with skip, validation of corrupted bytes, and a randomized run against a
 * reference array model.
 */
#include "core/listpack.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "tests/unit/core/str_model.h"

/* Appends the C string s. */
static unsigned char *app(unsigned char *lp, const char *s)
{
	return ap_lp_append(lp, s, strlen(s));
}

/* Asserts that the element at p reads back as the C string s. */
static void expect_str(const unsigned char *p, const char *s)
{
	char buf[AP_LP_INTBUF_SIZE];
	size_t len;
	ck_assert_ptr_nonnull(p);
	const char *got = ap_lp_get_str(p, &len, buf);
	ck_assert_uint_eq(len, strlen(s));
	ck_assert(memcmp(got, s, len) == 0);
	ck_assert(ap_lp_eq(p, s, strlen(s)));
}

START_TEST(test_empty)
{
	unsigned char *lp = ap_lp_create(0);
	ck_assert_uint_eq(ap_lp_count(lp), 0);
	ck_assert_uint_eq(ap_lp_bytes(lp), AP_LP_HDR_SIZE + 1);
	ck_assert_ptr_null(ap_lp_first(lp));
	ck_assert_ptr_null(ap_lp_last(lp));
	ck_assert_ptr_null(ap_lp_seek(lp, 0));
	ck_assert_ptr_null(ap_lp_seek(lp, -1));
	ck_assert_ptr_null(ap_lp_find(lp, ap_lp_first(lp), "a", 1, 0));
	ck_assert(ap_lp_validate(lp, ap_lp_bytes(lp)));
	lp = ap_lp_delete_range(lp, 0, 10);
	ck_assert_uint_eq(ap_lp_count(lp), 0);
	ck_assert(ap_lp_alloc_size(lp) >= ap_lp_bytes(lp));
	ap_lp_free(lp);
	ap_lp_free(NULL);
	lp = ap_lp_create(1000);
	lp = app(lp, "x");
	lp = ap_lp_shrink(lp);
	expect_str(ap_lp_first(lp), "x");
	ap_lp_free(lp);
}
END_TEST

/* Integer boundaries with the body size (tag + data) each must take. */
static const struct {
	int64_t v;
	size_t body;
} int_cases[] = {
	{0, 1},
	{1, 1},
	{127, 1},
	{128, 2},
	{-1, 2},
	{4095, 2},
	{-4096, 2},
	{4096, 3},
	{-4097, 3},
	{INT16_MAX, 3},
	{INT16_MIN, 3},
	{INT16_MAX + 1, 4},
	{INT16_MIN - 1, 4},
	{(1 << 23) - 1, 4},
	{-(1 << 23), 4},
	{1 << 23, 5},
	{-(1 << 23) - 1, 5},
	{INT32_MAX, 5},
	{INT32_MIN, 5},
	{(int64_t)INT32_MAX + 1, 9},
	{(int64_t)INT32_MIN - 1, 9},
	{INT64_MAX, 9},
	{INT64_MIN, 9},
};

START_TEST(test_int_widths)
{
	unsigned char *lp = ap_lp_create(0);
	for (size_t i = 0; i < AP_ARRAY_LEN(int_cases); i++) {
		char s[32];
		int n = snprintf(s, sizeof(s), "%" PRId64, int_cases[i].v);
		size_t before = ap_lp_bytes(lp);
		ck_assert_uint_eq(ap_lp_entry_size(s, (size_t)n),
				  int_cases[i].body + 1);
		if (i % 2)
			lp = ap_lp_append(lp, s, (size_t)n);
		else
			lp = ap_lp_append_int(lp, int_cases[i].v);
		ck_assert_uint_eq(ap_lp_bytes(lp) - before,
				  int_cases[i].body + 1);
		unsigned char *p = ap_lp_last(lp);
		int64_t got;
		ck_assert(ap_lp_get_int(p, &got));
		ck_assert(got == int_cases[i].v);
		expect_str(p, s);
		struct ap_lp_entry e;
		ap_lp_get(p, &e);
		ck_assert_ptr_null(e.str);
		ck_assert(e.ll == int_cases[i].v);
	}
	ck_assert_uint_eq(ap_lp_count(lp), AP_ARRAY_LEN(int_cases));
	ck_assert(ap_lp_validate(lp, ap_lp_bytes(lp)));
	/* Prepend and replace use the same encodings. */
	lp = ap_lp_prepend_int(lp, INT64_MIN);
	int64_t got;
	ck_assert(ap_lp_get_int(ap_lp_first(lp), &got) && got == INT64_MIN);
	unsigned char *p = ap_lp_first(lp);
	lp = ap_lp_replace_int(lp, &p, 5);
	ck_assert(ap_lp_get_int(p, &got) && got == 5);
	ck_assert(ap_lp_validate(lp, ap_lp_bytes(lp)));
	ap_lp_free(lp);
}
END_TEST

START_TEST(test_non_canonical_strings)
{
	static const char *const cases[] = {
		"",
		"-",
		"01",
		"-0",
		"+1",
		" 1",
		"1 ",
		"1.0",
		"0x10",
		"abc",
		"00",
		"-01",
		"1e3",
		"--1",
		"9223372036854775808",
		"-9223372036854775809",
		"18446744073709551616",
		"123456789012345678901",
	};
	unsigned char *lp = ap_lp_create(0);
	for (size_t i = 0; i < AP_ARRAY_LEN(cases); i++) {
		lp = app(lp, cases[i]);
		unsigned char *p = ap_lp_last(lp);
		int64_t v;
		ck_assert_msg(!ap_lp_get_int(p, &v), "%s", cases[i]);
		expect_str(p, cases[i]);
		ck_assert_uint_eq(ap_lp_entry_size(cases[i], strlen(cases[i])),
				  1 + strlen(cases[i]) + 1);
	}
	/* "12" is stored as an int: equal to "12", not "012". */
	lp = app(lp, "12");
	ck_assert(ap_lp_eq(ap_lp_last(lp), "12", 2));
	ck_assert(!ap_lp_eq(ap_lp_last(lp), "012", 3));
	ck_assert(!ap_lp_eq(ap_lp_last(lp), "13", 2));
	ck_assert(!ap_lp_eq(ap_lp_last(lp), "abc", 3));
	ck_assert(!ap_lp_eq(ap_lp_first(lp), "0", 1));
	ck_assert(ap_lp_validate(lp, ap_lp_bytes(lp)));
	ap_lp_free(lp);
}
END_TEST

/* A string of len bytes of 'a' + k (not numeric). */
static char *mkstr(size_t len, int k)
{
	char *s = malloc(len + 1);
	memset(s, 'a' + (k % 26), len);
	s[len] = '\0';
	return s;
}

START_TEST(test_string_classes)
{
	/* (string length, expected full element size): tag classes 6/12/32
	 * bits and back-lengths of 1, 2 and 3 bytes at their edges. */
	static const struct {
		size_t len, size;
	} cases[] = {
		{0, 2},
		{1, 3},
		{63, 65},
		{64, 64 + 2 + 1},
		{125, 127 + 1},
		{126, 128 + 2},
		{4095, 4097 + 2},
		{4096, 4101 + 2},
		{16378, 16383 + 2},
		{16379, 16384 + 3},
		{200000, 200005 + 3},
	};
	unsigned char *lp = ap_lp_create(0);
	for (size_t i = 0; i < AP_ARRAY_LEN(cases); i++) {
		char *s = mkstr(cases[i].len, (int)i);
		size_t before = ap_lp_bytes(lp);
		ck_assert_uint_eq(ap_lp_entry_size(s, cases[i].len),
				  cases[i].size);
		lp = ap_lp_append(lp, s, cases[i].len);
		ck_assert_uint_eq(ap_lp_bytes(lp) - before, cases[i].size);
		expect_str(ap_lp_last(lp), s);
		free(s);
	}
	ck_assert(ap_lp_validate(lp, ap_lp_bytes(lp)));
	/* Reverse walk reads every element back. */
	unsigned char *p = ap_lp_last(lp);
	for (size_t i = AP_ARRAY_LEN(cases); i-- > 0;) {
		char *s = mkstr(cases[i].len, (int)i);
		expect_str(p, s);
		free(s);
		p = ap_lp_prev(lp, p);
	}
	ck_assert_ptr_null(p);
	ap_lp_free(lp);
}
END_TEST

START_TEST(test_walk_seek)
{
	unsigned char *lp = ap_lp_create(0);
	char buf[32];
	for (int i = 0; i < 100; i++) {
		snprintf(buf, sizeof(buf), i % 3 ? "%d" : "s%d", i * 37 - 500);
		lp = app(lp, buf);
	}
	for (int i = -102; i < 102; i++) {
		unsigned char *p = ap_lp_seek(lp, i);
		int idx = i < 0 ? i + 100 : i;
		if (idx < 0 || idx >= 100) {
			ck_assert_ptr_null(p);
			continue;
		}
		snprintf(buf, sizeof(buf), idx % 3 ? "%d" : "s%d",
			 idx * 37 - 500);
		expect_str(p, buf);
	}
	int n = 0;
	for (unsigned char *p = ap_lp_first(lp); p; p = ap_lp_next(lp, p))
		n++;
	ck_assert_int_eq(n, 100);
	n = 0;
	for (unsigned char *p = ap_lp_last(lp); p; p = ap_lp_prev(lp, p))
		n++;
	ck_assert_int_eq(n, 100);
	ck_assert_ptr_null(ap_lp_seek(lp, INT64_MIN));
	ck_assert_ptr_null(ap_lp_seek(lp, INT64_MAX));
	ap_lp_free(lp);
}
END_TEST

START_TEST(test_mutations)
{
	unsigned char *lp = ap_lp_create(0);
	lp = app(lp, "b");
	lp = ap_lp_prepend(lp, "a", 1);
	lp = app(lp, "d");
	unsigned char *p = ap_lp_seek(lp, 1);
	lp = ap_lp_insert(lp, &p, AP_LP_AFTER, "c", 1);
	expect_str(p, "c");
	p = ap_lp_first(lp);
	lp = ap_lp_insert(lp, &p, AP_LP_BEFORE, "100", 3);
	expect_str(p, "100");
	p = ap_lp_last(lp);
	lp = ap_lp_insert(lp, &p, AP_LP_AFTER, "e", 1);
	ck_assert_ptr_eq(p, ap_lp_last(lp));
	/* 100 a b c d e */
	ck_assert_uint_eq(ap_lp_count(lp), 6);
	p = ap_lp_seek(lp, 2);
	char *big = mkstr(5000, 1);
	lp = ap_lp_replace(lp, &p, big, 5000);
	expect_str(p, big);
	expect_str(ap_lp_next(lp, p), "c");
	lp = ap_lp_replace(lp, &p, "B", 1);
	expect_str(p, "B");
	free(big);
	p = ap_lp_seek(lp, 0);
	lp = ap_lp_delete(lp, &p);
	expect_str(p, "a");
	p = ap_lp_last(lp);
	lp = ap_lp_delete(lp, &p);
	ck_assert_ptr_null(p);
	/* a B c d */
	ck_assert_uint_eq(ap_lp_count(lp), 4);
	p = ap_lp_seek(lp, 1);
	lp = ap_lp_delete_range_at(lp, &p, 2);
	expect_str(p, "d");
	expect_str(ap_lp_first(lp), "a");
	ck_assert_uint_eq(ap_lp_count(lp), 2);
	p = ap_lp_first(lp);
	lp = ap_lp_delete_range_at(lp, &p, 99);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(ap_lp_count(lp), 0);
	ck_assert_uint_eq(ap_lp_bytes(lp), AP_LP_HDR_SIZE + 1);

	const char *strs[] = {"x", "12", "-7", "yy", ""};
	size_t lens[] = {1, 2, 2, 2, 0};
	lp = ap_lp_append_many(lp, strs, lens, 5);
	lp = ap_lp_append_many(lp, strs, lens, 0);
	ck_assert_uint_eq(ap_lp_count(lp), 5);
	for (int i = 0; i < 5; i++)
		expect_str(ap_lp_seek(lp, i), strs[i]);
	lp = ap_lp_delete_range(lp, -2, 10);
	ck_assert_uint_eq(ap_lp_count(lp), 3);
	lp = ap_lp_delete_range(lp, 5, 1);
	lp = ap_lp_delete_range(lp, -4, 1);
	lp = ap_lp_delete_range(lp, 0, 0);
	ck_assert_uint_eq(ap_lp_count(lp), 3);
	lp = ap_lp_delete_range(lp, 1, 1);
	expect_str(ap_lp_seek(lp, 1), "-7");

	unsigned char *d = ap_lp_dup(lp);
	ck_assert_uint_eq(ap_lp_bytes(d), ap_lp_bytes(lp));
	ck_assert(memcmp(d, lp, ap_lp_bytes(lp)) == 0);
	d = ap_lp_merge(d, lp);
	ck_assert_uint_eq(ap_lp_count(d), 4);
	expect_str(ap_lp_seek(d, 2), "x");
	expect_str(ap_lp_last(d), "-7");
	unsigned char *e = ap_lp_create(0);
	d = ap_lp_merge(d, e);
	ck_assert_uint_eq(ap_lp_count(d), 4);
	e = ap_lp_merge(e, d);
	ck_assert_uint_eq(ap_lp_count(e), 4);
	ck_assert(ap_lp_validate(d, ap_lp_bytes(d)));
	ck_assert(ap_lp_validate(e, ap_lp_bytes(e)));
	ck_assert(ap_lp_validate(lp, ap_lp_bytes(lp)));
	ap_lp_free(e);
	ap_lp_free(d);
	ap_lp_free(lp);
}
END_TEST

START_TEST(test_find_skip)
{
	/* field/value pairs where values collide with field names. */
	unsigned char *lp = ap_lp_create(0);
	const char *kv[] = {"f1", "f2", "f2", "10", "10", "x", "-5", "f1"};
	for (int i = 0; i < 8; i++)
		lp = app(lp, kv[i]);
	unsigned char *first = ap_lp_first(lp);
	ck_assert_ptr_eq(ap_lp_find(lp, first, "f2", 2, 1), ap_lp_seek(lp, 2));
	ck_assert_ptr_eq(ap_lp_find(lp, first, "f2", 2, 0), ap_lp_seek(lp, 1));
	ck_assert_ptr_eq(ap_lp_find(lp, first, "10", 2, 1), ap_lp_seek(lp, 4));
	ck_assert_ptr_eq(ap_lp_find(lp, first, "10", 2, 0), ap_lp_seek(lp, 3));
	ck_assert_ptr_eq(ap_lp_find(lp, first, "-5", 2, 1), ap_lp_seek(lp, 6));
	ck_assert_ptr_null(ap_lp_find(lp, first, "x", 1, 1));
	ck_assert_ptr_eq(ap_lp_find(lp, first, "x", 1, 0), ap_lp_seek(lp, 5));
	ck_assert_ptr_null(ap_lp_find(lp, first, "010", 3, 0));
	ck_assert_ptr_null(ap_lp_find(lp, first, "f", 1, 0));
	ck_assert_ptr_null(ap_lp_find(lp, first, "", 0, 0));
	ck_assert_ptr_null(ap_lp_find(lp, NULL, "f1", 2, 0));
	ck_assert_ptr_eq(ap_lp_find(lp, ap_lp_seek(lp, 1), "f1", 2, 1),
			 ap_lp_seek(lp, 7));
	/* skip larger than what is left ends cleanly */
	ck_assert_ptr_null(ap_lp_find(lp, first, "-5", 2, 7));
	ck_assert_ptr_eq(ap_lp_find(lp, first, "f1", 2, 7), first);
	ap_lp_free(lp);
}
END_TEST

START_TEST(test_can_add)
{
	unsigned char *lp = ap_lp_create(0);
	size_t b = ap_lp_bytes(lp);
	size_t max = (size_t)AP_LISTPACK_BYTES_MAX;
	ck_assert(ap_lp_can_add(lp, 0));
	ck_assert(ap_lp_can_add(lp, max - b - 10));
	ck_assert(!ap_lp_can_add(lp, max - b - 9));
	ck_assert(!ap_lp_can_add(lp, max));
	ck_assert(!ap_lp_can_add(lp, SIZE_MAX));
	ck_assert(!ap_lp_can_add(lp, SIZE_MAX - 5));
	ap_lp_free(lp);
}
END_TEST

/* Builds a listpack holding one element of every encoding. */
static unsigned char *sample(void)
{
	unsigned char *lp = ap_lp_create(0);
	for (size_t i = 0; i < AP_ARRAY_LEN(int_cases); i++)
		lp = ap_lp_append_int(lp, int_cases[i].v);
	char *s = mkstr(5000, 3);
	lp = ap_lp_append(lp, s, 5000);
	lp = ap_lp_append(lp, s, 300);
	lp = ap_lp_append(lp, s, 20);
	lp = ap_lp_append(lp, "", 0);
	free(s);
	return lp;
}

/* Validates a modified copy of lp: copy, apply byte at off, validate. */
static bool validate_with(const unsigned char *lp, size_t size, size_t off,
			  unsigned char byte)
{
	unsigned char *c = malloc(size);
	memcpy(c, lp, size);
	c[off] = byte;
	bool ok = ap_lp_validate(c, size);
	free(c);
	return ok;
}

START_TEST(test_validate_corrupt)
{
	unsigned char *lp = sample();
	size_t size = ap_lp_bytes(lp);
	ck_assert(ap_lp_validate(lp, size));
	/* Truncations and a short buffer never pass. */
	for (size_t n = 0; n < size; n++) {
		unsigned char *c = malloc(n ? n : 1);
		memcpy(c, lp, n);
		ck_assert(!ap_lp_validate(c, n));
		free(c);
	}
	/* Header: total and count off by one. */
	ck_assert(!validate_with(lp, size, 0, (unsigned char)(size + 1)));
	ck_assert(!validate_with(lp, size, 4, lp[4] + 1));
	ck_assert(!validate_with(lp, size, 4, lp[4] - 1));
	ck_assert(!validate_with(lp, size, size - 1, 0));
	/* Every single-byte change is either rejected or still consistent:
	 * walking the result both ways and reading every element is safe
	 * (ASan/UBSan watch that). */
	for (size_t off = 0; off < size; off++) {
		for (int bit = 0; bit < 8; bit++) {
			unsigned char *c = malloc(size);
			memcpy(c, lp, size);
			c[off] ^= (unsigned char)(1 << bit);
			if (ap_lp_validate(c, size)) {
				uint32_t n = 0;
				char buf[AP_LP_INTBUF_SIZE];
				size_t len;
				for (unsigned char *p = ap_lp_first(c); p;
				     p = ap_lp_next(c, p)) {
					ap_lp_get_str(p, &len, buf);
					n++;
				}
				ck_assert_uint_eq(n, ap_lp_count(c));
				for (unsigned char *p = ap_lp_last(c); p;
				     p = ap_lp_prev(c, p))
					n--;
				ck_assert_uint_eq(n, 0);
			}
			free(c);
		}
	}
	ap_lp_free(lp);
}
END_TEST

/* Hand-made listpacks around one element given as raw bytes. */
static bool validate_raw(const unsigned char *elem, size_t n, uint32_t count)
{
	unsigned char buf[64];
	size_t size = AP_LP_HDR_SIZE + n + 1;
	uint32_t total = (uint32_t)size;
	memcpy(buf, &total, 4);
	memcpy(buf + 4, &count, 4);
	memcpy(buf + AP_LP_HDR_SIZE, elem, n);
	buf[size - 1] = AP_LP_END;
	return ap_lp_validate(buf, size);
}

START_TEST(test_validate_handmade)
{
	/* Good: int 5 (7-bit), "ab" (6-bit string). */
	ck_assert(validate_raw((const unsigned char[]){0x05, 0x01}, 2, 1));
	ck_assert(validate_raw((const unsigned char[]){0x82, 'a', 'b', 0x03}, 4,
			       1));
	ck_assert(!validate_raw((const unsigned char[]){0x05, 0x01}, 2, 2));
	ck_assert(!validate_raw((const unsigned char[]){0x05, 0x01}, 2, 0));
	/* Wrong back-length, overlong back-length. */
	ck_assert(!validate_raw((const unsigned char[]){0x05, 0x02}, 2, 1));
	ck_assert(
		!validate_raw((const unsigned char[]){0x05, 0x00, 0x81}, 3, 1));
	/* int 5 stored in 16, 64 bits: not the smallest width. */
	ck_assert(!validate_raw((const unsigned char[]){0xF1, 5, 0, 3}, 4, 1));
	ck_assert(!validate_raw(
		(const unsigned char[]){0xF4, 5, 0, 0, 0, 0, 0, 0, 0, 9}, 10,
		1));
	/* 13-bit 200 is fine (not 7-bit); 13-bit 5 is not. */
	ck_assert(validate_raw((const unsigned char[]){0xC0, 200, 2}, 3, 1));
	ck_assert(!validate_raw((const unsigned char[]){0xC0, 5, 2}, 3, 1));
	/* String "12" is a canonical integer: must be an int. */
	ck_assert(!validate_raw((const unsigned char[]){0x82, '1', '2', 0x03},
				4, 1));
	/* "ab" in the 12-bit and 32-bit classes: not the smallest. */
	ck_assert(!validate_raw(
		(const unsigned char[]){0xE0, 0x02, 'a', 'b', 0x04}, 5, 1));
	ck_assert(!validate_raw(
		(const unsigned char[]){0xF0, 2, 0, 0, 0, 'a', 'b', 0x07}, 8,
		1));
	/* Undefined tags; a 0xFF in the middle; length past the end. */
	for (int t = 0xF5; t <= 0xFE; t++)
		ck_assert(!validate_raw(
			(const unsigned char[]){(unsigned char)t, 0x01}, 2, 1));
	ck_assert(!validate_raw((const unsigned char[]){0xFF, 0x01}, 2, 1));
	ck_assert(
		!validate_raw((const unsigned char[]){0x8A, 'a', 0x0B}, 3, 1));
	ck_assert(!validate_raw(
		(const unsigned char[]){0xF0, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}, 6,
		1));
	ck_assert(!validate_raw((const unsigned char[]){0xE1}, 1, 1));
	ck_assert(!validate_raw((const unsigned char[]){0xF4, 1, 2}, 3, 1));
	/* Header claims more than the buffer. */
	unsigned char *lp = ap_lp_create(0);
	ck_assert(!ap_lp_validate(lp, 8));
	ck_assert(!ap_lp_validate(lp, 0));
	ap_lp_free(lp);
}
END_TEST

/* A random element: integers of every width, numeric-looking strings,
 * and strings of every length class. */
static size_t rand_elem(char *buf)
{
	static const int64_t edges[] = {
		0,	   127,	      128,	 -1,	    -4096,   4095,
		4096,	   -4097,     INT16_MAX, INT16_MIN, 8388607, -8388608,
		INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
	switch (rand() % 6) {
	case 0: {
		int64_t v = edges[rand() % AP_ARRAY_LEN(edges)], w;
		if (!__builtin_add_overflow(v, (int64_t)(rand() % 3) - 1, &w))
			v = w;
		return (size_t)sprintf(buf, "%" PRId64, v);
	}
	case 1:
		return (size_t)sprintf(buf, "%d", rand() % 20000 - 10000);
	case 2:
		return (size_t)sprintf(buf, "0%d", rand() % 100);
	case 3: {
		size_t len = (size_t)(rand() % 70);
		for (size_t i = 0; i < len; i++)
			buf[i] = (char)('a' + rand() % 3);
		return len;
	}
	case 4: {
		size_t len = (size_t)(rand() % 5000);
		memset(buf, 'q', len);
		if (len)
			buf[rand() % len] = (char)rand();
		return len;
	}
	default:
		return (size_t)sprintf(buf, "%lld", (long long)rand() * rand());
	}
}

/* Asserts that lp holds exactly the model, walking both ways. */
static void model_check(const struct str_model *m, unsigned char *lp)
{
	char buf[AP_LP_INTBUF_SIZE];
	size_t len;
	ck_assert_uint_eq(ap_lp_count(lp), m->n);
	size_t i = 0;
	for (unsigned char *p = ap_lp_first(lp); p; p = ap_lp_next(lp, p)) {
		const char *s = ap_lp_get_str(p, &len, buf);
		ck_assert_uint_eq(len, m->len[i]);
		ck_assert(memcmp(s, m->s[i], len) == 0);
		i++;
	}
	ck_assert_uint_eq(i, m->n);
	for (unsigned char *p = ap_lp_last(lp); p; p = ap_lp_prev(lp, p)) {
		i--;
		ck_assert(ap_lp_eq(p, m->s[i], m->len[i]));
	}
	ck_assert_uint_eq(i, 0);
	ck_assert(ap_lp_validate(lp, ap_lp_bytes(lp)));
}

/* One random operation applied to both lp and the model. */
static unsigned char *random_op(unsigned char *lp, struct str_model *m,
				char *buf)
{
	size_t len = rand_elem(buf);
	size_t at = m->n ? (size_t)rand() % m->n : 0;
	unsigned char *p = m->n ? ap_lp_seek(lp, (long long)at) : NULL;
	int op = rand() % 8;
	if (!m->n && op >= 3)
		op = 0;
	switch (op) {
	case 0:
		lp = ap_lp_append(lp, buf, len);
		str_model_insert(m, m->n, buf, len);
		break;
	case 1:
		lp = ap_lp_prepend(lp, buf, len);
		str_model_insert(m, 0, buf, len);
		break;
	case 2: {
		const char *strs[3] = {buf, "7", "z"};
		size_t lens[3] = {len, 1, 1};
		lp = ap_lp_append_many(lp, strs, lens, 3);
		for (int k = 0; k < 3; k++)
			str_model_insert(m, m->n, strs[k], lens[k]);
		break;
	}
	case 3:
		lp = ap_lp_insert(lp, &p, AP_LP_BEFORE, buf, len);
		str_model_insert(m, at, buf, len);
		ck_assert(ap_lp_eq(p, buf, len));
		break;
	case 4:
		lp = ap_lp_insert(lp, &p, AP_LP_AFTER, buf, len);
		str_model_insert(m, at + 1, buf, len);
		ck_assert(ap_lp_eq(p, buf, len));
		break;
	case 5:
		lp = ap_lp_replace(lp, &p, buf, len);
		str_model_delete(m, at, 1);
		str_model_insert(m, at, buf, len);
		ck_assert(ap_lp_eq(p, buf, len));
		break;
	case 6:
		lp = ap_lp_delete(lp, &p);
		str_model_delete(m, at, 1);
		if (at < m->n)
			ck_assert(ap_lp_eq(p, m->s[at], m->len[at]));
		else
			ck_assert_ptr_null(p);
		break;
	default: {
		size_t cnt = (size_t)rand() % 4;
		lp = ap_lp_delete_range(lp, (long long)at - (long long)m->n,
					cnt);
		str_model_delete(m, at, AP_MIN(cnt, m->n - at));
		break;
	}
	}
	return lp;
}

START_TEST(test_random_model)
{
	srand(12345);
	char *buf = malloc(8192);
	for (int round = 0; round < 20; round++) {
		struct str_model m = {0};
		unsigned char *lp = ap_lp_create(0);
		for (int i = 0; i < 400; i++) {
			lp = random_op(lp, &m, buf);
			if (i % 25 == 0)
				model_check(&m, lp);
		}
		model_check(&m, lp);
		/* find: every model element is found at its first copy. */
		for (size_t i = 0; i < m.n; i++) {
			unsigned char *f = ap_lp_find(lp, ap_lp_first(lp),
						      m.s[i], m.len[i], 0);
			size_t j = 0;
			while (m.len[j] != m.len[i] ||
			       memcmp(m.s[j], m.s[i], m.len[i]) != 0)
				j++;
			ck_assert_ptr_eq(f, ap_lp_seek(lp, (long long)j));
		}
		str_model_delete(&m, 0, m.n);
		free(m.s);
		free(m.len);
		ap_lp_free(lp);
	}
	free(buf);
}
END_TEST

static Suite *listpack_suite(void)
{
	Suite *s = suite_create("listpack");
	TCase *tc = tcase_create("encoding");
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_int_widths);
	tcase_add_test(tc, test_non_canonical_strings);
	tcase_add_test(tc, test_string_classes);
	suite_add_tcase(s, tc);

	tc = tcase_create("ops");
	tcase_add_test(tc, test_walk_seek);
	tcase_add_test(tc, test_mutations);
	tcase_add_test(tc, test_find_skip);
	tcase_add_test(tc, test_can_add);
	suite_add_tcase(s, tc);

	tc = tcase_create("validate");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_validate_corrupt);
	tcase_add_test(tc, test_validate_handmade);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_random_model);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(listpack_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
