/*
 * manifest.c - the manifest of a data set (persist.h describes the text):
 * building one, checking the per-shard rules, parsing and printing the
 * text, and reading and replacing the file.
 *
 * The parser is strict: the file is written only by the server, so any
 * deviation (a missing final newline, a leading zero, a name that is not
 * the canonical one) is damage or a hand edit gone wrong, and a start
 * must not guess. Errors name the line.
 *
 * Replacing is the classic atomic sequence: write manifest.tmp, fsync it,
 * rename it over manifest, fsync the directory (so the rename itself is
 * durable). Every step's failure is returned as -errno; a failure before
 * the rename leaves the old manifest in place and removes the temporary
 * file. These are blocking syscalls: they run at start and at rewrite
 * boundaries, off the request path.
 */
#include "persist/persist.h"

#include "persist/persist_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MANIFEST_NAME "manifest"
#define MANIFEST_TMP  "manifest.tmp"
#define MAGIC	      "apiary-manifest"
/* Digits of the largest u64. */
#define U64_DIGITS_MAX 20
/* Smallest first allocation of the file array. */
#define FILES_MIN_CAP 8

/* The canonical name of a file. */
size_t ap_persist_file_name(char *buf, enum ap_persist_file_kind kind,
			    unsigned shard, uint64_t seq)
{
	int n = snprintf(buf, AP_PERSIST_FILE_NAME_SIZE,
			 kind == AP_PERSIST_FILE_BASE
				 ? "shard-%u.base.%" PRIu64 ".snap"
				 : "shard-%u.incr.%" PRIu64 ".log",
			 shard, seq);

	AP_ASSERT(n > 0 && n < AP_PERSIST_FILE_NAME_SIZE);
	return (size_t)n;
}

/* An empty manifest. */
void ap_persist_manifest_init(struct ap_persist_manifest *m, unsigned nshards)
{
	AP_ASSERT(nshards >= 1 && nshards <= AP_SHARDS_MAX);
	m->version = AP_PERSIST_MANIFEST_VERSION;
	m->nshards = nshards;
	m->files = NULL;
	m->count = 0;
	m->cap = 0;
}

/* Frees the file array. */
void ap_persist_manifest_deinit(struct ap_persist_manifest *m)
{
	ap_free(m->files);
	m->files = NULL;
	m->count = 0;
	m->cap = 0;
}

/* Orders files by (shard, kind, seq). */
static int mfile_cmp(const struct ap_persist_mfile *a,
		     const struct ap_persist_mfile *b)
{
	if (a->shard != b->shard)
		return a->shard < b->shard ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

/* The index where f belongs (binary search); *found when it is there. */
static size_t mfile_find(const struct ap_persist_manifest *m,
			 const struct ap_persist_mfile *f, bool *found)
{
	size_t lo = 0, hi = m->count;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = mfile_cmp(&m->files[mid], f);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Inserts a file in order; appending in order costs O(1). */
int ap_persist_manifest_add(struct ap_persist_manifest *m,
			    enum ap_persist_file_kind kind, unsigned shard,
			    uint64_t seq)
{
	struct ap_persist_mfile f = {kind, shard, seq};
	bool found;
	size_t at;

	if (shard >= m->nshards || seq == 0 ||
	    (kind != AP_PERSIST_FILE_BASE && kind != AP_PERSIST_FILE_INCR))
		return -EINVAL;
	at = mfile_find(m, &f, &found);
	if (found)
		return -EEXIST;
	if (m->count == m->cap) {
		m->cap = AP_MAX(m->cap * 2, (size_t)FILES_MIN_CAP);
		m->files = ap_realloc(m->files, m->cap * sizeof(*m->files));
	}
	memmove(m->files + at + 1, m->files + at,
		(m->count - at) * sizeof(*m->files));
	m->files[at] = f;
	m->count++;
	return 0;
}

/* Formats an error into err (if it has room); returns -EBADMSG. */
AP_PRINTF(3, 4)
static int fail(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (err_size > 0) {
		va_start(ap, fmt);
		vsnprintf(err, err_size, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

/* Checks the files of one shard, f[0..n): one base at most, then logs
 * numbered consecutively from the base's sequence (or from 1). */
static int check_shard(const struct ap_persist_mfile *f, size_t n, char *err,
		       size_t err_size)
{
	size_t i = 0;
	uint64_t expect = 1;
	bool base = false;

	if (n > 0 && f[0].kind == AP_PERSIST_FILE_BASE) {
		base = true;
		expect = f[0].seq;
		i = 1;
		if (n > 1 && f[1].kind == AP_PERSIST_FILE_BASE)
			return fail(err, err_size,
				    "shard %u has two bases (sequences %" PRIu64
				    " and %" PRIu64 ")",
				    f[0].shard, f[0].seq, f[1].seq);
	}
	for (size_t k = i; k < n; k++, expect++) {
		if (f[k].seq == expect)
			continue;
		if (k == i && !base)
			return fail(err, err_size,
				    "shard %u: missing base for log %" PRIu64
				    " (without a base, logs start at 1)",
				    f[k].shard, f[k].seq);
		if (k == i)
			return fail(err, err_size,
				    "shard %u: log %" PRIu64
				    " does not follow its base %" PRIu64,
				    f[k].shard, f[k].seq, expect);
		return fail(err, err_size, "shard %u: missing log %" PRIu64,
			    f[k].shard, expect);
	}
	return 0;
}

/* Checks every shard's files (they are sorted by shard). */
int ap_persist_manifest_check(const struct ap_persist_manifest *m, char *err,
			      size_t err_size)
{
	if (m->version != AP_PERSIST_MANIFEST_VERSION)
		return fail(err, err_size, "unknown manifest version %u",
			    m->version);
	for (size_t i = 0, j; i < m->count; i = j) {
		int rc;

		for (j = i + 1;
		     j < m->count && m->files[j].shard == m->files[i].shard;
		     j++)
			;
		rc = check_shard(m->files + i, j - i, err, err_size);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* --- text ----------------------------------------------------------------- */

/* One line being split into space-separated fields. */
struct line {
	const char *p;
	size_t len;
};

/* Takes the next field (up to a space or the end); false if the line is
 * exhausted or the field empty (two spaces, a trailing space). */
static bool next_field(struct line *l, const char **f, size_t *flen)
{
	size_t n = 0;

	if (l->len == 0)
		return false;
	while (n < l->len && l->p[n] != ' ')
		n++;
	*f = l->p;
	*flen = n;
	if (n < l->len) {
		n++; /* the space */
		if (n == l->len)
			return false;
	}
	l->p += n;
	l->len -= n;
	return *flen > 0;
}

/* Parses a canonical decimal u64 (no sign, no leading zero). */
static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > U64_DIGITS_MAX || (s[0] == '0' && len > 1))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' ||
		    __builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
			return false;
	}
	*out = v;
	return true;
}

/* Whether a field is exactly the literal lit. */
static bool field_is(const char *f, size_t flen, const char *lit)
{
	return flen == strlen(lit) && memcmp(f, lit, flen) == 0;
}

/* The header line: magic, version (checked first, so a newer format is
 * named as such), shard count. */
static int parse_header(struct ap_persist_manifest *m, struct line l, char *err,
			size_t err_size)
{
	const char *f;
	size_t flen;
	uint64_t v;

	if (!next_field(&l, &f, &flen) || !field_is(f, flen, MAGIC))
		return fail(err, err_size,
			    "manifest line 1: not an Apiary manifest");
	if (!next_field(&l, &f, &flen) || !parse_u64(f, flen, &v))
		return fail(err, err_size, "manifest line 1: bad version");
	if (v != AP_PERSIST_MANIFEST_VERSION)
		return fail(err, err_size,
			    "manifest line 1: unknown manifest version %" PRIu64
			    " (this build reads version %d)",
			    v, AP_PERSIST_MANIFEST_VERSION);
	if (!next_field(&l, &f, &flen) || !parse_u64(f, flen, &v) || v == 0 ||
	    v > AP_SHARDS_MAX || l.len != 0)
		return fail(err, err_size,
			    "manifest line 1: bad shard count (1 to %d)",
			    AP_SHARDS_MAX);
	ap_persist_manifest_init(m, (unsigned)v);
	return 0;
}

/* One file line: kind shard seq name, the name canonical. */
static int parse_file(struct ap_persist_manifest *m, struct line l,
		      size_t lineno, char *err, size_t err_size)
{
	const char *f;
	size_t flen;
	uint64_t shard, seq;
	enum ap_persist_file_kind kind;
	char name[AP_PERSIST_FILE_NAME_SIZE];
	int rc;

	if (!next_field(&l, &f, &flen))
		return fail(err, err_size, "manifest line %zu: empty", lineno);
	if (field_is(f, flen, "base"))
		kind = AP_PERSIST_FILE_BASE;
	else if (field_is(f, flen, "incr"))
		kind = AP_PERSIST_FILE_INCR;
	else
		return fail(err, err_size,
			    "manifest line %zu: unknown file kind", lineno);
	if (!next_field(&l, &f, &flen) || !parse_u64(f, flen, &shard) ||
	    shard >= m->nshards)
		return fail(err, err_size,
			    "manifest line %zu: bad shard (0 to %u)", lineno,
			    m->nshards - 1);
	if (!next_field(&l, &f, &flen) || !parse_u64(f, flen, &seq) || seq == 0)
		return fail(err, err_size, "manifest line %zu: bad sequence",
			    lineno);
	ap_persist_file_name(name, kind, (unsigned)shard, seq);
	if (!next_field(&l, &f, &flen) || l.len != 0 ||
	    !field_is(f, flen, name))
		return fail(err, err_size,
			    "manifest line %zu: the file name must be %s",
			    lineno, name);
	rc = ap_persist_manifest_add(m, kind, (unsigned)shard, seq);
	if (rc == -EEXIST)
		return fail(err, err_size,
			    "manifest line %zu: duplicate entry for %s", lineno,
			    name);
	AP_ASSERT(rc == 0);
	return 0;
}

/* Splits the text into lines (each ending in a newline) and parses the
 * header, the files, then the per-shard rules. */
int ap_persist_manifest_parse(struct ap_persist_manifest *m, const char *text,
			      size_t len, char *err, size_t err_size)
{
	size_t pos = 0, lineno = 0;

	memset(m, 0, sizeof(*m));
	if (len == 0)
		return fail(err, err_size, "manifest is empty");
	if (text[len - 1] != '\n')
		return fail(err, err_size,
			    "manifest does not end with a newline (truncated)");
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		struct line l = {text + pos, (size_t)(nl - (text + pos))};
		int rc;

		lineno++;
		if (memchr(l.p, '\0', l.len) != NULL)
			return fail(err, err_size,
				    "manifest line %zu: NUL byte", lineno);
		rc = lineno == 1 ? parse_header(m, l, err, err_size)
				 : parse_file(m, l, lineno, err, err_size);
		if (rc != 0)
			return rc;
		pos += l.len + 1;
	}
	return ap_persist_manifest_check(m, err, err_size);
}

/* The header line, then one line per file in order. */
void ap_persist_manifest_format(const struct ap_persist_manifest *m,
				struct ap_serial_buf *out)
{
	char line[128];
	int n;

	n = snprintf(line, sizeof(line), MAGIC " %u %u\n", m->version,
		     m->nshards);
	AP_ASSERT(n > 0 && (size_t)n < sizeof(line));
	ap_serial_buf_put(out, line, (size_t)n);
	for (size_t i = 0; i < m->count; i++) {
		const struct ap_persist_mfile *f = &m->files[i];
		char name[AP_PERSIST_FILE_NAME_SIZE];

		ap_persist_file_name(name, f->kind, f->shard, f->seq);
		n = snprintf(line, sizeof(line), "%s %u %" PRIu64 " %s\n",
			     f->kind == AP_PERSIST_FILE_BASE ? "base" : "incr",
			     f->shard, f->seq, name);
		AP_ASSERT(n > 0 && (size_t)n < sizeof(line));
		ap_serial_buf_put(out, line, (size_t)n);
	}
}

/* --- files ---------------------------------------------------------------- */

/* Reads up to cap bytes of fd into buf until the end of the file; returns
 * the bytes read or -errno. */
static ssize_t read_all(int fd, char *buf, size_t cap)
{
	size_t got = 0;

	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Reads the manifest at dir/manifest into a new buffer: bounded by
 * AP_PERSIST_MANIFEST_SIZE_MAX (one byte more is read, to notice a file
 * that grew past it). Returns 0 with *text and *len set, or -errno. */
static int slurp(const char *dir, char **text, size_t *len)
{
	int dfd, fd, saved;
	ssize_t n;
	char *buf;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	fd = openat(dfd, MANIFEST_NAME, O_RDONLY | O_CLOEXEC);
	saved = errno;
	close(dfd);
	if (fd < 0)
		return -saved;
	buf = ap_malloc(AP_PERSIST_MANIFEST_SIZE_MAX + 1);
	n = read_all(fd, buf, AP_PERSIST_MANIFEST_SIZE_MAX + 1);
	close(fd);
	if (n < 0 || n > AP_PERSIST_MANIFEST_SIZE_MAX) {
		ap_free(buf);
		return n < 0 ? (int)n : -EFBIG;
	}
	*text = buf;
	*len = (size_t)n;
	return 0;
}

/* Reads and parses dir/manifest. */
int ap_persist_manifest_read(const char *dir, struct ap_persist_manifest *m,
			     char *err, size_t err_size)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = slurp(dir, &text, &len);
	if (rc != 0)
		return rc;
	rc = ap_persist_manifest_parse(m, text, len, err, err_size);
	ap_free(text);
	return rc;
}

/* Writes all len bytes at p to fd; 0 or -errno. */
static int write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Creates dfd/manifest.tmp holding len bytes at p, fsynced and closed.
 * Returns 0 or -errno (the file may then exist, half written). */
static int write_tmp(int dfd, const unsigned char *p, size_t len)
{
	int fd = openat(dfd, MANIFEST_TMP,
			O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc;

	if (fd < 0)
		return -errno;
	rc = write_all(fd, p, len);
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* tmp, fsync, rename, fsync the directory. The temporary file is removed
 * when a step before the rename fails. */
int ap_persist_manifest_write(const char *dir,
			      const struct ap_persist_manifest *m)
{
	struct ap_serial_buf text;
	int dfd, rc;

	if (ap_persist_manifest_check(m, NULL, 0) != 0)
		return -EINVAL;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	ap_serial_buf_init(&text);
	ap_persist_manifest_format(m, &text);
	rc = write_tmp(dfd, text.p, text.len);
	ap_serial_buf_deinit(&text);
	if (rc == 0 && renameat(dfd, MANIFEST_TMP, dfd, MANIFEST_NAME) != 0)
		rc = -errno;
	if (rc != 0)
		unlinkat(dfd, MANIFEST_TMP, 0);
	if (rc == 0 && fsync(dfd) != 0)
		rc = -errno;
	close(dfd);
	return rc;
}
