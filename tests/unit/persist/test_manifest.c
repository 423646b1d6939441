/*
 * test_manifest.c - the manifest of persist/manifest.c: canonical file
 * names, building (order, duplicates, bounds), the per-shard rules, the
 * exact text and its round trip, every kind of malformed text with the
 * message it gets, reading (missing, too big) and the atomic write
 * (replacing, no temporary file left, a missing directory, a rename that
 * fails, an invalid manifest refused).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "persist/persist.h"

static char tmpdir[256];

/* A fresh empty directory per test. */
static void dir_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ap-manifest-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

/* Removes the test directory and what the tests leave in it. */
static void dir_teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* dir/name as a path. */
static const char *path_of(const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return p;
}

/* Writes text to dir/name. */
static void put_file(const char *name, const char *text, size_t len)
{
	FILE *f = fopen(path_of(name), "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* The whole of dir/name into a NUL-terminated buffer (freed by caller). */
static char *get_file(const char *name)
{
	FILE *f = fopen(path_of(name), "rb");
	char *buf = calloc(1, 4096);

	ck_assert_ptr_nonnull(f);
	fread(buf, 1, 4095, f);
	fclose(f);
	return buf;
}

static bool exists(const char *name)
{
	return access(path_of(name), F_OK) == 0;
}

/* The text of m. */
static char *text_of(const struct ap_persist_manifest *m)
{
	struct ap_serial_buf b;
	char *s;

	ap_serial_buf_init(&b);
	ap_persist_manifest_format(m, &b);
	s = calloc(1, b.len + 1);
	memcpy(s, b.p, b.len);
	ap_serial_buf_deinit(&b);
	return s;
}

START_TEST(file_names)
{
	char buf[AP_PERSIST_FILE_NAME_SIZE];

	ck_assert_uint_eq(ap_persist_file_name(buf, AP_PERSIST_FILE_BASE, 0, 1),
			  19);
	ck_assert_str_eq(buf, "shard-0.base.1.snap");
	ap_persist_file_name(buf, AP_PERSIST_FILE_INCR, 12, 34);
	ck_assert_str_eq(buf, "shard-12.incr.34.log");
	ap_persist_file_name(buf, AP_PERSIST_FILE_BASE, AP_SHARDS_MAX - 1,
			     UINT64_MAX);
	ck_assert_str_eq(buf, "shard-255.base.18446744073709551615.snap");
}
END_TEST

START_TEST(build_and_format)
{
	struct ap_persist_manifest m;
	char err[160];
	char *t;

	ap_persist_manifest_init(&m, 3);
	/* Added out of order, kept in (shard, kind, seq) order. */
	ck_assert_int_eq(
		ap_persist_manifest_add(&m, AP_PERSIST_FILE_INCR, 2, 1), 0);
	ck_assert_int_eq(
		ap_persist_manifest_add(&m, AP_PERSIST_FILE_INCR, 0, 5), 0);
	ck_assert_int_eq(
		ap_persist_manifest_add(&m, AP_PERSIST_FILE_INCR, 0, 4), 0);
	ck_assert_int_eq(
		ap_persist_manifest_add(&m, AP_PERSIST_FILE_BASE, 0, 4), 0);
	/* Bounds and duplicates. */
	ck_assert_int_eq(
		ap_persist_manifest_add(&m, AP_PERSIST_FILE_INCR, 3, 1),
		-EINVAL);
	ck_assert_int_eq(
		ap_persist_manifest_add(&m, AP_PERSIST_FILE_INCR, 1, 0),
		-EINVAL);
	ck_assert_int_eq(
		ap_persist_manifest_add(&m, AP_PERSIST_FILE_INCR, 0, 5),
		-EEXIST);
	ck_assert_uint_eq(m.count, 4);
	ck_assert_int_eq(ap_persist_manifest_check(&m, err, sizeof(err)), 0);
	t = text_of(&m);
	ck_assert_str_eq(t, "apiary-manifest 1 3\n"
			    "base 0 4 shard-0.base.4.snap\n"
			    "incr 0 4 shard-0.incr.4.log\n"
			    "incr 0 5 shard-0.incr.5.log\n"
			    "incr 2 1 shard-2.incr.1.log\n");
	/* And back. */
	{
		struct ap_persist_manifest p;

		ck_assert_int_eq(ap_persist_manifest_parse(&p, t, strlen(t),
							   err, sizeof(err)),
				 0);
		ck_assert_uint_eq(p.nshards, 3);
		ck_assert_uint_eq(p.version, AP_PERSIST_MANIFEST_VERSION);
		ck_assert_uint_eq(p.count, 4);
		ck_assert_mem_eq(p.files, m.files, 4 * sizeof(*m.files));
		ap_persist_manifest_deinit(&p);
	}
	free(t);
	ap_persist_manifest_deinit(&m);
	/* The largest shard count; an empty data set. */
	ap_persist_manifest_init(&m, AP_SHARDS_MAX);
	ck_assert_int_eq(ap_persist_manifest_add(&m, AP_PERSIST_FILE_INCR,
						 AP_SHARDS_MAX - 1, 1),
			 0);
	ck_assert_int_eq(ap_persist_manifest_check(&m, err, sizeof(err)), 0);
	ap_persist_manifest_deinit(&m);
}
END_TEST

/* check() on files fails with message want. */
static void check_rule(const struct ap_persist_mfile *f, size_t n,
		       const char *want)
{
	struct ap_persist_manifest m;
	char err[160] = "";

	ap_persist_manifest_init(&m, 4);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(ap_persist_manifest_add(&m, f[i].kind,
							 f[i].shard, f[i].seq),
				 0);
	if (want == NULL) {
		ck_assert_int_eq(
			ap_persist_manifest_check(&m, err, sizeof(err)), 0);
	} else {
		ck_assert_int_eq(
			ap_persist_manifest_check(&m, err, sizeof(err)),
			-EBADMSG);
		ck_assert_str_eq(err, want);
		/* A manifest that breaks the rules is never written. */
		ck_assert_int_eq(ap_persist_manifest_write(tmpdir, &m),
				 -EINVAL);
		ck_assert(!exists("manifest"));
		ck_assert(!exists("manifest.tmp"));
	}
	ap_persist_manifest_deinit(&m);
}

#define B AP_PERSIST_FILE_BASE
#define I AP_PERSIST_FILE_INCR

START_TEST(shard_rules)
{
	const struct ap_persist_mfile ok1[] = {{I, 0, 1}, {I, 0, 2}, {I, 1, 1}};
	const struct ap_persist_mfile ok2[] = {{B, 0, 7}, {I, 0, 7}, {I, 0, 8}};
	const struct ap_persist_mfile ok3[] = {{B, 3, 9}};
	const struct ap_persist_mfile two_bases[] = {{B, 1, 2}, {B, 1, 3}};
	const struct ap_persist_mfile no_base[] = {{I, 2, 2}, {I, 2, 3}};
	const struct ap_persist_mfile not_follow[] = {{B, 0, 3}, {I, 0, 4}};
	const struct ap_persist_mfile before[] = {{B, 0, 3}, {I, 0, 2}};
	const struct ap_persist_mfile gap[] = {{I, 1, 1}, {I, 1, 3}};
	const struct ap_persist_mfile gap2[] = {
		{B, 1, 5}, {I, 1, 5}, {I, 1, 6}, {I, 1, 8}};

	check_rule(ok1, 3, NULL);
	check_rule(ok2, 3, NULL);
	check_rule(ok3, 1, NULL);
	check_rule(NULL, 0, NULL);
	check_rule(two_bases, 2, "shard 1 has two bases (sequences 2 and 3)");
	check_rule(no_base, 2,
		   "shard 2: missing base for log 2 (without a base, logs "
		   "start at 1)");
	check_rule(not_follow, 2, "shard 0: log 4 does not follow its base 3");
	check_rule(before, 2, "shard 0: log 2 does not follow its base 3");
	check_rule(gap, 2, "shard 1: missing log 2");
	check_rule(gap2, 4, "shard 1: missing log 7");
}
END_TEST

/* Parsing text fails with message want. */
static void parse_bad(const char *text, size_t len, const char *want)
{
	struct ap_persist_manifest m;
	char err[160] = "";

	ck_assert_int_eq(
		ap_persist_manifest_parse(&m, text, len, err, sizeof(err)),
		-EBADMSG);
	ck_assert_str_eq(err, want);
	ap_persist_manifest_deinit(&m);
}

#define PARSE_BAD(text, want) parse_bad(text, sizeof(text) - 1, want)
#define HDR		      "apiary-manifest 1 2\n"

START_TEST(parse_errors)
{
	struct ap_persist_manifest m;
	char err[160];

	PARSE_BAD("", "manifest is empty");
	PARSE_BAD(HDR "incr 0 1 shard-0.incr.1.log",
		  "manifest does not end with a newline (truncated)");
	PARSE_BAD("redis-manifest 1 2\n",
		  "manifest line 1: not an Apiary manifest");
	PARSE_BAD("apiary-manifest\n", "manifest line 1: bad version");
	PARSE_BAD("apiary-manifest 2 2\n",
		  "manifest line 1: unknown manifest version 2 (this build "
		  "reads version 1)");
	/* The version is judged before the rest of the line. */
	PARSE_BAD("apiary-manifest 3 shards=x\n",
		  "manifest line 1: unknown manifest version 3 (this build "
		  "reads version 1)");
	PARSE_BAD("apiary-manifest 01 2\n", "manifest line 1: bad version");
	PARSE_BAD("apiary-manifest 1 0\n",
		  "manifest line 1: bad shard count (1 to 256)");
	PARSE_BAD("apiary-manifest 1 257\n",
		  "manifest line 1: bad shard count (1 to 256)");
	PARSE_BAD("apiary-manifest 1\n",
		  "manifest line 1: bad shard count (1 to 256)");
	PARSE_BAD("apiary-manifest 1 2 x\n",
		  "manifest line 1: bad shard count (1 to 256)");
	PARSE_BAD("apiary-manifest 1 2 \n",
		  "manifest line 1: bad shard count (1 to 256)");
	PARSE_BAD("apiary-manifest  1 2\n", "manifest line 1: bad version");
	PARSE_BAD(HDR "\n", "manifest line 2: empty");
	PARSE_BAD(HDR "snap 0 1 shard-0.base.1.snap\n",
		  "manifest line 2: unknown file kind");
	PARSE_BAD(HDR "incr 2 1 shard-2.incr.1.log\n",
		  "manifest line 2: bad shard (0 to 1)");
	PARSE_BAD(HDR "incr -1 1 shard-0.incr.1.log\n",
		  "manifest line 2: bad shard (0 to 1)");
	PARSE_BAD(HDR "incr 0 0 shard-0.incr.0.log\n",
		  "manifest line 2: bad sequence");
	PARSE_BAD(HDR "incr 0 01 shard-0.incr.1.log\n",
		  "manifest line 2: bad sequence");
	PARSE_BAD(HDR "incr 0 18446744073709551616 x\n",
		  "manifest line 2: bad sequence");
	PARSE_BAD(HDR "incr 0 1 ../../etc/passwd\n",
		  "manifest line 2: the file name must be "
		  "shard-0.incr.1.log");
	PARSE_BAD(HDR "incr 0 1 shard-0.base.1.snap\n",
		  "manifest line 2: the file name must be "
		  "shard-0.incr.1.log");
	PARSE_BAD(HDR "incr 0 1\n", "manifest line 2: the file name must be "
				    "shard-0.incr.1.log");
	PARSE_BAD(HDR "incr 0 1 shard-0.incr.1.log x\n",
		  "manifest line 2: the file name must be "
		  "shard-0.incr.1.log");
	PARSE_BAD(HDR "incr 0 1 shard-0.incr.1.log\r\n",
		  "manifest line 2: the file name must be "
		  "shard-0.incr.1.log");
	PARSE_BAD(HDR "incr 0 1 shard-0.incr.1.log\n"
		      "incr 0 1 shard-0.incr.1.log\n",
		  "manifest line 3: duplicate entry for shard-0.incr.1.log");
	PARSE_BAD(HDR "incr 0 1 shard-0.incr.1.log\n"
		      "incr 0\0 1 x\n",
		  "manifest line 3: NUL byte");
	PARSE_BAD(HDR "incr 1 2 shard-1.incr.2.log\n",
		  "shard 1: missing base for log 2 (without a base, logs start "
		  "at 1)");
	PARSE_BAD(HDR "base 0 2 shard-0.base.2.snap\n"
		      "base 0 3 shard-0.base.3.snap\n",
		  "shard 0 has two bases (sequences 2 and 3)");
	/* A long message is cut to the buffer, NUL-terminated. */
	ck_assert_int_eq(ap_persist_manifest_parse(&m, "x\n", 2, err, 8),
			 -EBADMSG);
	ck_assert_str_eq(err, "manifes");
	ap_persist_manifest_deinit(&m);
	/* No message buffer at all. */
	ck_assert_int_eq(ap_persist_manifest_parse(&m, "x\n", 2, NULL, 0),
			 -EBADMSG);
	ap_persist_manifest_deinit(&m);
	/* Lines in any order are fine. */
	{
		static const char t[] = HDR "incr 1 1 shard-1.incr.1.log\n"
					    "incr 0 3 shard-0.incr.3.log\n"
					    "base 0 3 shard-0.base.3.snap\n";

		ck_assert_int_eq(ap_persist_manifest_parse(&m, t, sizeof(t) - 1,
							   err, sizeof(err)),
				 0);
		ck_assert_uint_eq(m.count, 3);
		ck_assert_int_eq(m.files[0].kind, AP_PERSIST_FILE_BASE);
		ck_assert_uint_eq(m.files[2].shard, 1);
		ap_persist_manifest_deinit(&m);
	}
}
END_TEST

START_TEST(write_and_read)
{
	struct ap_persist_manifest m, r;
	char err[160];
	char *t;

	/* No manifest yet. */
	ck_assert_int_eq(ap_persist_manifest_read(tmpdir, &r, err, sizeof(err)),
			 -ENOENT);
	ap_persist_manifest_deinit(&r);
	ap_persist_manifest_init(&m, 2);
	ck_assert_int_eq(
		ap_persist_manifest_add(&m, AP_PERSIST_FILE_INCR, 0, 1), 0);
	ck_assert_int_eq(ap_persist_manifest_write(tmpdir, &m), 0);
	ck_assert(!exists("manifest.tmp"));
	t = get_file("manifest");
	ck_assert_str_eq(t,
			 "apiary-manifest 1 2\nincr 0 1 shard-0.incr.1.log\n");
	free(t);
	/* Replaced whole by the next write (a stale tmp is overwritten). */
	put_file("manifest.tmp", "junk junk junk junk junk junk junk\n", 35);
	ck_assert_int_eq(
		ap_persist_manifest_add(&m, AP_PERSIST_FILE_INCR, 1, 1), 0);
	ck_assert_int_eq(ap_persist_manifest_write(tmpdir, &m), 0);
	ck_assert(!exists("manifest.tmp"));
	ck_assert_int_eq(ap_persist_manifest_read(tmpdir, &r, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(r.count, 2);
	ck_assert_uint_eq(r.nshards, 2);
	ck_assert_mem_eq(r.files, m.files, 2 * sizeof(*m.files));
	ap_persist_manifest_deinit(&r);
	ap_persist_manifest_deinit(&m);
}
END_TEST

START_TEST(read_errors)
{
	struct ap_persist_manifest r;
	char err[160] = "";
	char *big;

	ck_assert_int_eq(ap_persist_manifest_read("/nonexistent/ap-dir", &r,
						  err, sizeof(err)),
			 -ENOENT);
	ap_persist_manifest_deinit(&r);
	/* A file where the directory should be. */
	put_file("plain", "x", 1);
	ck_assert_int_eq(ap_persist_manifest_read(path_of("plain"), &r, err,
						  sizeof(err)),
			 -ENOTDIR);
	ap_persist_manifest_deinit(&r);
	/* Bad text names the line. */
	put_file("manifest", "apiary-manifest 9 1\n", 20);
	ck_assert_int_eq(ap_persist_manifest_read(tmpdir, &r, err, sizeof(err)),
			 -EBADMSG);
	ck_assert_str_eq(err, "manifest line 1: unknown manifest version 9 "
			      "(this build reads version 1)");
	ap_persist_manifest_deinit(&r);
	/* Exactly the limit is read (and parsed: here it is junk); one
	 * byte more is refused unread. */
	big = malloc(AP_PERSIST_MANIFEST_SIZE_MAX + 1);
	memset(big, 'x', AP_PERSIST_MANIFEST_SIZE_MAX + 1);
	put_file("manifest", big, AP_PERSIST_MANIFEST_SIZE_MAX);
	ck_assert_int_eq(ap_persist_manifest_read(tmpdir, &r, err, sizeof(err)),
			 -EBADMSG);
	ap_persist_manifest_deinit(&r);
	put_file("manifest", big, AP_PERSIST_MANIFEST_SIZE_MAX + 1);
	ck_assert_int_eq(ap_persist_manifest_read(tmpdir, &r, err, sizeof(err)),
			 -EFBIG);
	ap_persist_manifest_deinit(&r);
	free(big);
}
END_TEST

START_TEST(write_errors)
{
	struct ap_persist_manifest m;
	char *t;

	ap_persist_manifest_init(&m, 1);
	ck_assert_int_eq(
		ap_persist_manifest_add(&m, AP_PERSIST_FILE_INCR, 0, 1), 0);
	/* A missing directory. */
	ck_assert_int_eq(ap_persist_manifest_write("/nonexistent/ap-dir", &m),
			 -ENOENT);
	ck_assert_int_eq(ap_persist_manifest_write(path_of("missing"), &m),
			 -ENOENT);
	/* The rename fails (manifest is a non-empty directory): its errno
	 * comes back, the temporary file is gone, the target untouched. */
	ck_assert_int_eq(mkdir(path_of("manifest"), 0755), 0);
	put_file("manifest/keep", "k", 1);
	ck_assert_int_eq(ap_persist_manifest_write(tmpdir, &m), -EISDIR);
	ck_assert(!exists("manifest.tmp"));
	ck_assert(exists("manifest/keep"));
	/* The temporary file cannot be created (a directory by its name). */
	ck_assert_int_eq(unlink(path_of("manifest/keep")), 0);
	ck_assert_int_eq(rmdir(path_of("manifest")), 0);
	ck_assert_int_eq(mkdir(path_of("manifest.tmp"), 0755), 0);
	ck_assert_int_eq(ap_persist_manifest_write(tmpdir, &m), -EISDIR);
	ck_assert(!exists("manifest"));
	ck_assert_int_eq(rmdir(path_of("manifest.tmp")), 0);
	/* And then it works. */
	ck_assert_int_eq(ap_persist_manifest_write(tmpdir, &m), 0);
	t = get_file("manifest");
	ck_assert_str_eq(t,
			 "apiary-manifest 1 1\nincr 0 1 shard-0.incr.1.log\n");
	free(t);
	ap_persist_manifest_deinit(&m);
}
END_TEST

START_TEST(random_round_trips)
{
	uint64_t x = 88172645463325252ull;

	for (int round = 0; round < 300; round++) {
		struct ap_persist_manifest m, p;
		char err[160];
		unsigned n;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = 1 + (unsigned)(x % AP_SHARDS_MAX);
		ap_persist_manifest_init(&m, n);
		for (unsigned sh = 0; sh < n; sh += 1 + (unsigned)(x % 7)) {
			uint64_t seq = 1 + (x >> 20) % 1000;
			unsigned logs = (unsigned)((x >> 8) % 4);
			bool base = (x >> 4) & 1;

			if (!base)
				seq = 1;
			if (base)
				ck_assert_int_eq(ap_persist_manifest_add(
							 &m,
							 AP_PERSIST_FILE_BASE,
							 sh, seq),
						 0);
			for (unsigned k = 0; k < logs; k++)
				ck_assert_int_eq(ap_persist_manifest_add(
							 &m,
							 AP_PERSIST_FILE_INCR,
							 sh, seq + k),
						 0);
			x = x * 6364136223846793005ull + 1;
		}
		ck_assert_int_eq(
			ap_persist_manifest_check(&m, err, sizeof(err)), 0);
		ck_assert_int_eq(ap_persist_manifest_write(tmpdir, &m), 0);
		ck_assert_int_eq(
			ap_persist_manifest_read(tmpdir, &p, err, sizeof(err)),
			0);
		ck_assert_uint_eq(p.count, m.count);
		ck_assert_uint_eq(p.nshards, m.nshards);
		if (m.count > 0)
			ck_assert_mem_eq(p.files, m.files,
					 m.count * sizeof(*m.files));
		ap_persist_manifest_deinit(&p);
		ap_persist_manifest_deinit(&m);
	}
}
END_TEST

static Suite *manifest_suite(void)
{
	Suite *s = suite_create("persist_manifest");
	TCase *tc = tcase_create("manifest");

	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, file_names);
	tcase_add_test(tc, build_and_format);
	tcase_add_test(tc, shard_rules);
	tcase_add_test(tc, parse_errors);
	tcase_add_test(tc, write_and_read);
	tcase_add_test(tc, read_errors);
	tcase_add_test(tc, write_errors);
	tcase_add_test(tc, random_round_trips);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(manifest_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures != 0;
}
