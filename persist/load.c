/*
 * load.c - recovery at start (persist.h, "recovery"): phase 1 checks a
 * data set's files and decides what to load; phase 2 replays them into
 * each shard's keyspace.
 *
 * Both phases read a file through struct reader: pread in pieces of
 * AP_PERSIST_LOAD_READ_SIZE into one buffer, fed to the validating
 * iterator of log.c, whose compressed blocks zblock.c expands. The part
 * of a record a piece cut short moves to the front of the buffer and the
 * rest is read after it; a record bigger than a piece grows the buffer to
 * its size, which shrinks back afterwards, but only once its checksum,
 * computed over pieces, matched: a corrupt length field (up to 4 GiB)
 * costs reading the file, never a buffer of that size. So a load holds
 * one piece (and one block) per thread, never a whole file.
 *
 * Phase 1 (one thread) leaves every file clean: a torn tail is truncated
 * (or refused) there, so phase 2 (every shard at once) finds the files
 * exactly as the plan describes them and only replays. Replaying a CMD
 * record runs the command's function as the dispatcher would, with a
 * scratch reply buffer that is rewound after each command (no allocation
 * per record once warm) and no recorder (ctx->prop NULL).
 *
 * When shards are re-partitioned (a keep function, or several old shards
 * into one keyspace), an old shard is replayed into a private keyspace and
 * its kept keys then move (detach, attach: no copy of the values) into
 * the shard's keyspace. That scopes FLUSHALL/FLUSHDB/SWAPDB to the old
 * shard's keys, whose logs recorded them, and lets a command over two of
 * the old shard's keys see both even when only one of them is kept.
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

/* Room for dir/name. */
#define PATH_SIZE 4096
/* Bytes of a failed command's reply quoted in the log. */
#define REPLY_QUOTE_MAX 200
/* Smallest first allocation of the argv array. */
#define ARGV_MIN_CAP 16

/* Formats a message into err (if it has room); returns rc. */
AP_PRINTF(4, 5)
static int fail(char *err, size_t err_size, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err_size > 0) {
		va_start(ap, fmt);
		vsnprintf(err, err_size, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Writes dir/<canonical name of f> into buf (PATH_SIZE bytes). Returns
 * false when it does not fit. */
static bool file_path(char *buf, const char *dir,
		      const struct ap_persist_mfile *f)
{
	char name[AP_PERSIST_FILE_NAME_SIZE];
	int n;

	ap_persist_file_name(name, f->kind, f->shard, f->seq);
	n = snprintf(buf, PATH_SIZE, "%s/%s", dir, name);
	return n > 0 && n < PATH_SIZE;
}

/* --- reading a file in pieces --------------------------------------------- */

/* A file being walked: the iterator, the block reader, and the buffer
 * holding the file's bytes [buf_off, have_off). */
struct reader {
	int fd;
	uint64_t len; /* the bytes walked: the file's, or the plan's */
	unsigned char *buf;
	size_t cap;
	size_t cap_max; /* the biggest buffer held */
	uint64_t buf_off;
	uint64_t have_off;
	struct ap_persist_iter it;
	struct ap_persist_zread z;
};

/* Starts walking the first len bytes of the open file fd (owned by the
 * reader from now on). Allocates nothing yet. */
static void reader_init(struct reader *rd, int fd, uint64_t len)
{
	rd->fd = fd;
	rd->len = len;
	rd->buf = NULL;
	rd->cap = 0;
	rd->cap_max = 0;
	rd->buf_off = 0;
	rd->have_off = 0;
	ap_persist_iter_init(&rd->it, len);
	ap_persist_zread_init(&rd->z);
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
}

/* Closes the file and frees the buffer. */
static void reader_deinit(struct reader *rd)
{
	if (rd->fd >= 0)
		close(rd->fd);
	rd->fd = -1;
	ap_free(rd->buf);
	rd->buf = NULL;
	rd->cap = 0;
	ap_persist_zread_deinit(&rd->z);
}

/* Reads exactly len bytes at file offset off into p. Returns 0, -EIO when
 * the file ends first (it shrank under us), or -errno. */
static int pread_all(int fd, unsigned char *p, size_t len, uint64_t off)
{
	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Sizes the buffer for want bytes, keeping its first bytes: grown to a
 * big record's size, back to a piece's once records are small again. */
static void reader_size_buf(struct reader *rd, size_t want)
{
	size_t piece = AP_PERSIST_LOAD_READ_SIZE;
	size_t cap = AP_MAX(want, AP_MIN(piece, (size_t)rd->len));

	if (rd->cap >= want && (rd->cap <= piece || want > piece))
		return;
	cap = AP_MAX(cap, (size_t)1);
	rd->buf = ap_realloc(rd->buf, cap);
	rd->cap = cap;
	rd->cap_max = AP_MAX(rd->cap_max, cap);
}

/*
 * The iterator waits for a record bigger than a piece (its header is in
 * the buffer): checks the record's checksum over its payload read in
 * pieces into a buffer of at most a piece, before anything of the
 * record's length is allocated. Sets *good; the bytes the buffer held
 * from the record on are dropped (the fill reads them again). Returns 0
 * or a read's -errno. O(record) reads, from the page cache the second
 * time.
 */
static int reader_check_big(struct reader *rd, bool *good)
{
	size_t piece = AP_PERSIST_LOAD_READ_SIZE;
	uint64_t from = rd->it.end_off;
	uint32_t len, crc, got = 0;
	uint64_t at, end;
	const unsigned char *h;

	AP_ASSERT(from >= rd->buf_off &&
		  from + AP_PERSIST_HEADER_SIZE <= rd->have_off);
	h = rd->buf + (from - rd->buf_off);
	memcpy(&len, h, 4);
	memcpy(&crc, h + 4, 4);
	AP_ASSERT(AP_PERSIST_HEADER_SIZE + (uint64_t)len == rd->it.want);
	rd->buf_off = rd->have_off = from;
	reader_size_buf(rd, piece);
	end = from + AP_PERSIST_HEADER_SIZE + len;
	for (at = from + AP_PERSIST_HEADER_SIZE; at < end;) {
		size_t n = (size_t)AP_MIN((uint64_t)piece, end - at);
		int rc = pread_all(rd->fd, rd->buf, n, at);

		if (rc != 0)
			return rc;
		got = ap_persist_crc32c(got, rd->buf, n);
		at += n;
	}
	*good = got == crc;
	return 0;
}

/* The iterator paused for more bytes: moves the unread tail of the last
 * piece to the front of the buffer, reads the rest of the next piece (at
 * least what the iterator wants) after it and feeds the lot. A record
 * bigger than a piece is read whole only once its checksum matched;
 * otherwise the iterator is told, and ends as for any bad checksum. */
static int reader_fill(struct reader *rd)
{
	struct ap_persist_iter *it = &rd->it;
	uint64_t from = it->end_off;
	uint64_t left = rd->len - from;
	uint64_t want = AP_MAX(
		it->want, AP_MIN((uint64_t)AP_PERSIST_LOAD_READ_SIZE, left));
	size_t kept;
	int rc;

	if (it->want > AP_PERSIST_LOAD_READ_SIZE) {
		bool good = false;

		rc = reader_check_big(rd, &good);
		if (rc != 0)
			return rc;
		if (!good) {
			ap_persist_iter_bad_checksum(it);
			return 0;
		}
	}

	AP_ASSERT(want <= left && want <= SIZE_MAX);
	AP_ASSERT(from >= rd->buf_off && from <= rd->have_off);
	kept = (size_t)(rd->have_off - from);
	AP_ASSERT(kept <= want);
	if (kept > 0)
		memmove(rd->buf, rd->buf + (from - rd->buf_off), kept);
	reader_size_buf(rd, (size_t)want);
	rc = pread_all(rd->fd, rd->buf + kept, (size_t)want - kept,
		       rd->have_off);
	if (rc != 0)
		return rc;
	rd->buf_off = from;
	rd->have_off = from + want;
	ap_persist_iter_feed(it, rd->buf, (size_t)want);
	return 0;
}

/* The next record into *r (compressed blocks expanded): returns 1, or 0
 * at the end (rd->it.status says how the file ended), or a read's
 * -errno. */
static int reader_next(struct reader *rd, struct ap_persist_rec *r)
{
	for (;;) {
		int rc;

		if (ap_persist_zread_next(&rd->z, &rd->it, r))
			return 1;
		if (rd->it.status != AP_PERSIST_NEED_MORE)
			return 0;
		rc = reader_fill(rd);
		if (rc != 0)
			return rc;
	}
}

/* Opens path for reading: its fd and length, or -errno (-EINVAL for
 * something other than a regular file). */
static int open_regular(const char *path, uint64_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	*len = (uint64_t)st.st_size;
	return fd;
}

/* --- phase 1: the plan ---------------------------------------------------- */

/* State of a plan being built. */
struct builder {
	struct ap_persist_plan *p;
	const char *dir;
	bool allow_truncate;
	char *err;
	size_t err_size;
	struct ap_persist_txn_log *logs; /* one per old shard */
	char path[PATH_SIZE];		 /* the file being walked */
};

/* Whether m.files[idx] is its shard's last log (the one a crash can
 * tear, and the one the writer continues). */
static bool is_last_log(const struct ap_persist_manifest *m, size_t idx)
{
	const struct ap_persist_mfile *f = &m->files[idx];

	return f->kind == AP_PERSIST_FILE_INCR &&
	       (idx + 1 == m->count || m->files[idx + 1].shard != f->shard);
}

/* Checks one record of file f in phase 1: a snapshot holds VALUE records
 * only; a log's TXN records go to its shard's summary. */
static int plan_rec(struct builder *b, const struct ap_persist_mfile *f,
		    const struct ap_persist_rec *r)
{
	const char *why = NULL;

	b->p->max_txid = AP_MAX(b->p->max_txid, r->txid);
	if (f->kind == AP_PERSIST_FILE_INCR && r->in_block)
		return fail(b->err, b->err_size, -EBADMSG,
			    "%s: a compressed block at offset %" PRIu64
			    " in a log, where records are never compressed; "
			    "run apiary-check %s",
			    b->path, r->off, b->path);
	if (f->kind == AP_PERSIST_FILE_BASE && r->kind != AP_PERSIST_VALUE)
		return fail(b->err, b->err_size, -EBADMSG,
			    "%s: a %s record at offset %" PRIu64
			    " in a snapshot, which holds VALUE records only; "
			    "run apiary-check %s",
			    b->path, ap_persist_kind_name(r->kind), r->off,
			    b->path);
	if (r->kind != AP_PERSIST_TXN)
		return 0;
	if (ap_persist_txn_log_add(&b->logs[f->shard], r, &why) != 0)
		return fail(b->err, b->err_size, -EBADMSG,
			    "%s: bad transaction record at offset %" PRIu64
			    ": %s; run apiary-check %s",
			    b->path, r->off, why, b->path);
	return 0;
}

/* Cuts a torn last log to what the iterator keeps, durably, and says so
 * in the log. A transaction part the end cut short goes with it. */
static int plan_truncate(struct builder *b, const struct ap_persist_mfile *f,
			 const struct ap_persist_iter *it, uint64_t size)
{
	int fd = open(b->path, O_WRONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0 || ftruncate(fd, (off_t)it->keep_len) != 0 || fsync(fd) != 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		return fail(b->err, b->err_size, rc,
			    "%s: cannot truncate its torn tail to %" PRIu64
			    " bytes: %s",
			    b->path, it->keep_len, strerror(-rc));
	if (it->cut_txid != 0)
		ap_persist_txn_log_cut(&b->logs[f->shard], it->cut_txid);
	ap_log(AP_LOG_WARNING,
	       "persist: %s: torn tail at offset %" PRIu64
	       " (%s): truncated to %" PRIu64 " bytes, %" PRIu64
	       " bytes dropped",
	       b->path, it->end_off, it->why, it->keep_len,
	       size - it->keep_len);
	b->p->truncated_bytes += size - it->keep_len;
	b->p->truncated_files++;
	return 0;
}

/* Acts on how file idx (size bytes) ended; sets its length to load. */
static int plan_end(struct builder *b, size_t idx, const struct reader *rd,
		    uint64_t size)
{
	const struct ap_persist_iter *it = &rd->it;
	const struct ap_persist_mfile *f = &b->p->m.files[idx];
	int rc;

	if (it->status == AP_PERSIST_CLEAN) {
		b->p->file_len[idx] = size;
		return 0;
	}
	if (it->status == AP_PERSIST_CORRUPT)
		return fail(b->err, b->err_size, -EBADMSG,
			    "%s: corrupt record at offset %" PRIu64
			    " (%s); run apiary-check %s (--fix --salvage "
			    "truncates the file there, losing what follows)",
			    b->path, it->end_off, it->why, b->path);
	AP_ASSERT(it->status == AP_PERSIST_TORN);
	if (!is_last_log(&b->p->m, idx))
		return fail(b->err, b->err_size, -EBADMSG,
			    "%s: torn at offset %" PRIu64
			    " (%s), but it is not its shard's last log, which "
			    "alone a crash can cut: the data set is damaged; "
			    "run apiary-check %s",
			    b->path, it->end_off, it->why, b->path);
	if (!b->allow_truncate)
		return fail(b->err, b->err_size, -EBADMSG,
			    "%s: torn tail at offset %" PRIu64 " (%s): %" PRIu64
			    " bytes would be dropped; set aof-load-truncated "
			    "yes to truncate it at start, or run apiary-check "
			    "--fix %s",
			    b->path, it->end_off, it->why, size - it->keep_len,
			    b->path);
	rc = plan_truncate(b, f, it, size);
	if (rc == 0)
		b->p->file_len[idx] = it->keep_len;
	return rc;
}

/* Walks file idx of the manifest: every record checked, its end acted
 * on. */
static int plan_file(struct builder *b, size_t idx)
{
	const struct ap_persist_mfile *f = &b->p->m.files[idx];
	struct ap_persist_rec r;
	struct reader rd;
	uint64_t size = 0;
	int fd, rc;

	if (!file_path(b->path, b->dir, f))
		return fail(b->err, b->err_size, -ENAMETOOLONG,
			    "persist: directory name too long: %s", b->dir);
	fd = open_regular(b->path, &size);
	if (fd < 0)
		return fail(b->err, b->err_size, fd,
			    "%s: named by the manifest but cannot be read: %s",
			    b->path, strerror(-fd));
	reader_init(&rd, fd, size);
	for (;;) {
		rc = reader_next(&rd, &r);
		if (rc < 0) {
			rc = fail(b->err, b->err_size, rc,
				  "%s: read failed: %s", b->path,
				  strerror(-rc));
			break;
		}
		if (rc == 0) {
			rc = plan_end(b, idx, &rd, size);
			break;
		}
		rc = plan_rec(b, f, &r);
		if (rc != 0)
			break;
	}
	b->p->read_buf_max = AP_MAX(b->p->read_buf_max, (uint64_t)rd.cap_max);
	reader_deinit(&rd);
	return rc;
}

/* Decides which transactions are complete over every shard's summary. */
static int plan_resolve(struct builder *b)
{
	uint64_t bad = 0;
	const char *why = NULL;
	int rc = ap_persist_txn_resolve(b->logs, b->p->m.nshards,
					b->p->m.nshards, &b->p->txns, &bad,
					&why);

	if (rc != 0)
		return fail(b->err, b->err_size, rc,
			    "persist: %s: transaction %" PRIu64
			    ": %s; run apiary-check on its shards' logs",
			    b->dir, bad, why);
	return 0;
}

/* Reads the manifest; -ENOENT (no data set) is left to the caller. */
static int plan_manifest(struct builder *b)
{
	char why[256] = "";
	int rc = ap_persist_manifest_read(b->dir, &b->p->m, why, sizeof(why));

	if (rc == -ENOENT)
		return rc;
	if (rc == 0)
		rc = ap_persist_manifest_check(&b->p->m, why, sizeof(why));
	if (rc == 0)
		return 0;
	ap_persist_manifest_deinit(&b->p->m);
	if (rc == -EBADMSG)
		return fail(b->err, b->err_size, rc, "%s/manifest: %s", b->dir,
			    why);
	return fail(b->err, b->err_size, rc, "%s/manifest: %s", b->dir,
		    strerror(-rc));
}

/* Walks every file and resolves the transactions. */
static int plan_walk(struct builder *b)
{
	struct ap_persist_plan *p = b->p;
	int rc = 0;

	p->file_len =
		ap_calloc(AP_MAX(p->m.count, (size_t)1), sizeof(*p->file_len));
	b->logs = ap_malloc(p->m.nshards * sizeof(*b->logs));
	for (unsigned i = 0; i < p->m.nshards; i++)
		ap_persist_txn_log_init(&b->logs[i], i);
	for (size_t i = 0; i < p->m.count && rc == 0; i++) {
		rc = plan_file(b, i);
		p->bytes += p->file_len[i];
	}
	if (rc == 0)
		rc = plan_resolve(b);
	for (unsigned i = 0; i < p->m.nshards; i++)
		ap_persist_txn_log_deinit(&b->logs[i]);
	ap_free(b->logs);
	return rc;
}

/* Phase 1. */
int ap_persist_plan_build(struct ap_persist_plan *p, const char *dir,
			  bool allow_truncate, char *err, size_t err_size)
{
	struct builder b = {
		.p = p,
		.dir = dir,
		.allow_truncate = allow_truncate,
		.err = err,
		.err_size = err_size,
	};
	int rc;

	memset(p, 0, sizeof(*p));
	rc = plan_manifest(&b);
	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	p->have_manifest = true;
	rc = plan_walk(&b);
	if (rc != 0) {
		uint64_t buf_max = p->read_buf_max;

		ap_persist_plan_deinit(p);
		p->read_buf_max = buf_max; /* what the failed walk cost */
	}
	return rc;
}

/* Frees the manifest, the transaction set and the lengths. */
void ap_persist_plan_deinit(struct ap_persist_plan *p)
{
	if (p->have_manifest)
		ap_persist_manifest_deinit(&p->m);
	ap_persist_txn_set_deinit(&p->txns);
	ap_free(p->file_len);
	memset(p, 0, sizeof(*p));
}

/* The writers' shard count. */
unsigned ap_persist_plan_nshards(const struct ap_persist_plan *p)
{
	return p->have_manifest ? p->m.nshards : 0;
}

/* The index of shard's file of kind with the highest sequence, or
 * SIZE_MAX. Files are sorted by (shard, kind, seq). */
static size_t plan_find_last(const struct ap_persist_plan *p, unsigned shard,
			     enum ap_persist_file_kind kind)
{
	size_t found = SIZE_MAX;

	if (!p->have_manifest)
		return SIZE_MAX;
	for (size_t i = 0; i < p->m.count; i++) {
		if (p->m.files[i].shard == shard && p->m.files[i].kind == kind)
			found = i;
	}
	return found;
}

/* The base snapshot's sequence. */
uint64_t ap_persist_plan_base_seq(const struct ap_persist_plan *p,
				  unsigned shard)
{
	size_t i = plan_find_last(p, shard, AP_PERSIST_FILE_BASE);

	return i == SIZE_MAX ? 0 : p->m.files[i].seq;
}

/* The last log's sequence. */
uint64_t ap_persist_plan_last_seq(const struct ap_persist_plan *p,
				  unsigned shard)
{
	size_t i = plan_find_last(p, shard, AP_PERSIST_FILE_INCR);

	return i == SIZE_MAX ? 0 : p->m.files[i].seq;
}

/* The last log's length after truncation. */
uint64_t ap_persist_plan_log_size(const struct ap_persist_plan *p,
				  unsigned shard)
{
	size_t i = plan_find_last(p, shard, AP_PERSIST_FILE_INCR);

	return i == SIZE_MAX ? 0 : p->file_len[i];
}

/* --- phase 2: replaying records --------------------------------------------
 */

/* One shard's load: where records go, and what they need. */
struct loader {
	struct ap_keyspace *ks; /* the target: the shard's, or a private one */
	const struct ap_config *cfg;
	const struct ap_persist_plan *p;
	struct ap_serial_limits lim;
	struct ap_obuf out; /* replies, rewound after each command */
	struct ap_reply reply;
	struct ap_arg *argv;
	size_t argv_cap;
	bool skip_part; /* the open part's transaction is incomplete */
	uint64_t file_errors;
	struct ap_persist_load_stats *st;
	char *err;
	size_t err_size;
	char path[PATH_SIZE]; /* the file being replayed */
};

/* Counts a CMD record that could not be replayed; the first of a file
 * is logged with its offset and why. */
static void cmd_failed(struct loader *l, const struct ap_persist_rec *r,
		       const struct ap_arg *name, const char *why)
{
	l->st->cmd_errors++;
	if (l->file_errors++ > 0)
		return;
	ap_log(AP_LOG_WARNING,
	       "persist: %s: the command at offset %" PRIu64
	       " ('%.*s') was not replayed: %s; counted, the load goes on",
	       l->path, r->off, (int)AP_MIN(name->len, (size_t)64), name->p,
	       why);
}

/* A command answered an error: counted, its reply quoted in the log. */
static void cmd_replied_error(struct loader *l, const struct ap_persist_rec *r,
			      const struct ap_arg *name)
{
	char quote[REPLY_QUOTE_MAX + 1];
	size_t len = 0, n;
	char *flat;

	if (l->file_errors > 0) {
		cmd_failed(l, r, name, "");
		return;
	}
	flat = ap_obuf_flatten(&l->out, &len);
	n = AP_MIN(len, (size_t)REPLY_QUOTE_MAX);
	memcpy(quote, flat, n);
	quote[n] = '\0';
	ap_free(flat);
	quote[strcspn(quote, "\r\n")] = '\0';
	cmd_failed(l, r, name, quote[0] == '-' ? quote + 1 : quote);
}

/* An argv array for argc arguments, reused across records. */
static struct ap_arg *loader_argv(struct loader *l, uint32_t argc)
{
	if (l->argv_cap < argc) {
		l->argv_cap = AP_MAX((size_t)argc, l->argv_cap * 2);
		l->argv_cap = AP_MAX(l->argv_cap, (size_t)ARGV_MIN_CAP);
		l->argv = ap_realloc(l->argv, l->argv_cap * sizeof(*l->argv));
	}
	return l->argv;
}

/* FLUSHALL, FLUSHDB and SWAPDB: applied here, their commands being the
 * server's. Returns false when argv is none of them. */
static bool run_keyspace_cmd(struct loader *l, const struct ap_persist_rec *r,
			     const struct ap_arg *argv)
{
	unsigned n = ap_keyspace_db_count(l->ks);
	long long a, b;

	if (ap_strcaseeq(argv[0].p, argv[0].len, "flushall")) {
		for (unsigned i = 0; i < n; i++)
			ap_db_flush(ap_keyspace_db(l->ks, i));
		return true;
	}
	if (ap_strcaseeq(argv[0].p, argv[0].len, "flushdb")) {
		ap_db_flush(ap_keyspace_db(l->ks, r->db));
		return true;
	}
	if (!ap_strcaseeq(argv[0].p, argv[0].len, "swapdb"))
		return false;
	if (r->argc != 3 || !ap_str_to_ll(argv[1].p, argv[1].len, &a) ||
	    !ap_str_to_ll(argv[2].p, argv[2].len, &b) || a < 0 || b < 0 ||
	    a >= n || b >= n) {
		cmd_failed(l, r, &argv[0], "bad database numbers");
		return true;
	}
	ap_keyspace_swap_db(l->ks, (unsigned)a, (unsigned)b);
	return true;
}

/* The command argv names, with its subcommand; NULL (and *why) when it
 * cannot be replayed here. */
static const struct ap_cmd *resolve_cmd(const struct ap_arg *argv,
					uint32_t argc, const char **why)
{
	const struct ap_cmd *cmd = ap_cmd_lookup(argv[0].p, argv[0].len);

	if (cmd == NULL) {
		*why = "unknown command";
		return NULL;
	}
	if (cmd->subcmds != NULL && argc >= 2) {
		cmd = ap_cmd_sub_lookup(cmd, argv[1].p, argv[1].len);
		if (cmd == NULL) {
			*why = "unknown subcommand";
			return NULL;
		}
	}
	if (cmd->fn == NULL || (cmd->flags & AP_CMD_SERVER) != 0) {
		*why = "a server command, not replayable";
		return NULL;
	}
	if (!ap_cmd_arity_ok(cmd, (int)argc)) {
		*why = "wrong number of arguments";
		return NULL;
	}
	return cmd;
}

/* CMD: runs the command as a client would, its reply discarded. */
static void apply_cmd(struct loader *l, const struct ap_persist_rec *r)
{
	struct ap_arg *argv = loader_argv(l, r->argc);
	const struct ap_cmd *cmd;
	const char *why = NULL;
	uint32_t errors;

	ap_persist_rec_argv(r, argv);
	if (run_keyspace_cmd(l, r, argv))
		return;
	cmd = resolve_cmd(argv, r->argc, &why);
	if (cmd == NULL) {
		cmd_failed(l, r, &argv[0], why);
		return;
	}
	struct ap_cmd_ctx c = {
		.ks = l->ks,
		.db = ap_keyspace_db(l->ks, r->db),
		.db_idx = r->db,
		.r = &l->reply,
		.cfg = l->cfg,
		.argc = (int)r->argc,
		.argv = argv,
		.cmd = cmd,
		.no_block = true,
	};
	errors = l->reply.errors;
	cmd->fn(&c);
	if (l->reply.errors != errors)
		cmd_replied_error(l, r, &argv[0]);
	ap_obuf_consume(&l->out, l->out.len);
}

/* Where record r is, for a message: "offset N", and for a record from
 * a compressed block the block's offset and the record's place in it. */
static const char *rec_where(const struct ap_persist_rec *r, char *buf,
			     size_t size)
{
	if (r->in_block)
		snprintf(buf, size,
			 "offset %" PRIu64 " (byte %" PRIu32
			 " of the compressed block there)",
			 r->off, r->block_pos);
	else
		snprintf(buf, size, "offset %" PRIu64, r->off);
	return buf;
}

/* VALUE: decodes and stores the value, replacing the key. */
static int apply_value(struct loader *l, const struct ap_persist_rec *r)
{
	struct ap_serial_value v;
	const char *why = NULL;
	size_t used = 0;
	char where[96];

	if (ap_serial_decode(r->value, r->value_len, &l->lim, &v, &used,
			     &why) != 0)
		return fail(l->err, l->err_size, -EBADMSG,
			    "%s: the value at %s does not decode (%s); run "
			    "apiary-check %s",
			    l->path, rec_where(r, where, sizeof(where)),
			    why != NULL ? why : "bad value", l->path);
	if (used != r->value_len) {
		ap_serial_value_free(&v);
		return fail(l->err, l->err_size, -EBADMSG,
			    "%s: bytes left over after the value at %s; run "
			    "apiary-check %s",
			    l->path, rec_where(r, where, sizeof(where)),
			    l->path);
	}
	(void)ap_serial_value_store(ap_keyspace_db(l->ks, r->db), r->key,
				    r->klen, &v, r->expire_ms);
	return 0;
}

/* Applies one record (phase 1 validated its framing and fields). */
static int apply_rec(struct loader *l, const struct ap_persist_rec *r)
{
	if (r->kind == AP_PERSIST_TXN) {
		l->skip_part = !ap_persist_txn_set_has(&l->p->txns, r->txid);
		return 0;
	}
	if (r->txid != 0 && l->skip_part) {
		l->st->skipped_txn_records++;
		return 0;
	}
	if (r->db >= ap_keyspace_db_count(l->ks))
		return fail(l->err, l->err_size, -EBADMSG,
			    "%s: the record at offset %" PRIu64
			    " uses database %u, but there are only %u "
			    "(raise 'databases')",
			    l->path, r->off, r->db,
			    ap_keyspace_db_count(l->ks));
	switch (r->kind) {
	case AP_PERSIST_VALUE:
		return apply_value(l, r);
	case AP_PERSIST_DEL:
		(void)ap_db_delete(ap_keyspace_db(l->ks, r->db), r->key,
				   r->klen);
		return 0;
	case AP_PERSIST_CMD:
		apply_cmd(l, r);
		return 0;
	default:
		AP_ASSERT(!"a record kind the iterator does not return");
		return 0;
	}
}

/* Opens file f for phase 2: it must hold at least the len bytes phase 1
 * left in it. */
static int load_open(struct loader *l, const struct ap_persist_mfile *f,
		     const char *dir, uint64_t len)
{
	uint64_t size = 0;
	int fd;

	if (!file_path(l->path, dir, f))
		return fail(l->err, l->err_size, -ENAMETOOLONG,
			    "persist: directory name too long: %s", dir);
	fd = open_regular(l->path, &size);
	if (fd < 0)
		return fail(l->err, l->err_size, fd, "%s: cannot be read: %s",
			    l->path, strerror(-fd));
	if (size < len) {
		close(fd);
		return fail(l->err, l->err_size, -EBADMSG,
			    "%s: %" PRIu64 " bytes, %" PRIu64
			    " when it was checked at start: changed meanwhile",
			    l->path, size, len);
	}
	return fd;
}

/* A replayed file must end cleanly: phase 1 left it so. */
static int load_end(struct loader *l, const struct ap_persist_iter *it)
{
	if (it->status == AP_PERSIST_CLEAN)
		return 0;
	return fail(l->err, l->err_size, -EBADMSG,
		    "%s: %s at offset %" PRIu64
		    " (%s), though it was whole when checked at start: "
		    "changed meanwhile",
		    l->path, ap_persist_status_name(it->status), it->end_off,
		    it->why != NULL ? it->why : "?");
}

/* Replays the first len bytes of file f. */
static int load_file(struct loader *l, const struct ap_persist_mfile *f,
		     const char *dir, uint64_t len)
{
	struct ap_persist_rec r;
	struct reader rd;
	int fd = load_open(l, f, dir, len);
	int rc;

	if (fd < 0)
		return fd;
	reader_init(&rd, fd, len);
	l->file_errors = 0;
	l->skip_part = false;
	for (;;) {
		rc = reader_next(&rd, &r);
		if (rc < 0) {
			rc = fail(l->err, l->err_size, rc,
				  "%s: read failed: %s", l->path,
				  strerror(-rc));
			break;
		}
		if (rc == 0) {
			rc = load_end(l, &rd.it);
			break;
		}
		l->st->records++;
		rc = apply_rec(l, &r);
		if (rc != 0)
			break;
	}
	if (l->file_errors > 1)
		ap_log(AP_LOG_WARNING,
		       "persist: %s: %" PRIu64 " commands not replayed in all",
		       l->path, l->file_errors);
	l->st->bytes += len;
	l->st->blocks += rd.z.blocks;
	reader_deinit(&rd);
	return rc;
}

/* Replays old shard's files (base, then logs by sequence) into l->ks. */
static int load_shard(struct loader *l, unsigned shard, const char *dir)
{
	const struct ap_persist_manifest *m = &l->p->m;

	for (size_t i = 0; i < m->count; i++) {
		int rc;

		if (m->files[i].shard != shard)
			continue;
		rc = load_file(l, &m->files[i], dir, l->p->file_len[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* --- phase 2: re-partitioning --------------------------------------------- */

/* Keys copied out of one scan step: (size_t length, bytes) each. */
struct key_batch {
	struct ap_serial_buf b;
};

/* Scan callback: copies the key (the scan may not mutate the db). */
static void batch_add(void *arg, const struct ap_entry *e)
{
	struct key_batch *kb = arg;
	size_t klen;
	const char *key = ap_entry_key(e, &klen);

	ap_serial_buf_put(&kb->b, &klen, sizeof(klen));
	ap_serial_buf_put(&kb->b, key, klen);
}

/* Moves the batch's kept keys from src to dst and deletes the others.
 * Returns the keys handled. */
static size_t batch_apply(struct key_batch *kb, struct ap_db *src,
			  struct ap_db *dst, ap_persist_keep_fn *keep,
			  void *keep_arg)
{
	size_t done = 0;

	for (size_t at = 0; at < kb->b.len;) {
		size_t klen;
		const char *key;

		memcpy(&klen, kb->b.p + at, sizeof(klen));
		key = (const char *)kb->b.p + at + sizeof(klen);
		at += sizeof(klen) + klen;
		if (keep == NULL || keep(keep_arg, key, klen)) {
			struct ap_entry *e = ap_db_detach(src, key, klen);

			if (e != NULL &&
			    ap_db_attach(dst, e, key, klen, true) == NULL)
				AP_ASSERT(!"attach with replace failed");
			done += e != NULL;
		} else {
			done += ap_db_delete(src, key, klen);
		}
	}
	kb->b.len = 0;
	return done;
}

/* Empties every database of from (a private keyspace, loading: no key
 * expires): kept keys move to the same database of to, the rest are
 * freed. A scan step's keys are handled before the next step, which SCAN
 * allows; passes repeat until the database is empty. */
static void move_kept(struct ap_keyspace *from, struct ap_keyspace *to,
		      ap_persist_keep_fn *keep, void *keep_arg)
{
	struct key_batch kb;

	ap_serial_buf_init(&kb.b);
	for (unsigned i = 0; i < ap_keyspace_db_count(from); i++) {
		struct ap_db *src = ap_keyspace_db(from, i);
		struct ap_db *dst = ap_keyspace_db(to, i);

		while (ap_db_size(src) > 0) {
			uint64_t cursor = 0;
			size_t done = 0;

			do {
				cursor = ap_db_scan(src, cursor, AP_KEYS_BATCH,
						    batch_add, &kb);
				done += batch_apply(&kb, src, dst, keep,
						    keep_arg);
			} while (cursor != 0);
			AP_ASSERT(done > 0);
		}
	}
	ap_serial_buf_deinit(&kb.b);
}

/* Replays old shard into a private keyspace, then keeps what is ks's. */
static int load_shard_split(struct loader *l, struct ap_keyspace *ks,
			    unsigned shard, const char *dir,
			    ap_persist_keep_fn *keep, void *keep_arg)
{
	struct ap_keyspace *tmp = ap_keyspace_create(ap_keyspace_db_count(ks));
	int rc;

	ap_keyspace_set_now(tmp, ap_keyspace_now(ks));
	ap_keyspace_set_active_expire(tmp, false);
	ap_keyspace_set_loading(tmp, true);
	l->ks = tmp;
	rc = load_shard(l, shard, dir);
	l->ks = ks;
	if (rc == 0)
		move_kept(tmp, ks, keep, keep_arg);
	ap_keyspace_destroy(tmp);
	return rc;
}

/* --- phase 2 -------------------------------------------------------------- */

/* A loader for ks with an empty reply buffer. */
static void loader_init(struct loader *l, struct ap_keyspace *ks,
			const struct ap_config *cfg,
			const struct ap_persist_plan *p,
			struct ap_persist_load_stats *st, char *err,
			size_t err_size)
{
	memset(l, 0, sizeof(*l));
	l->ks = ks;
	l->cfg = cfg;
	l->p = p;
	ap_serial_limits_of(cfg, &l->lim);
	ap_obuf_init(&l->out);
	ap_reply_init(&l->reply, &l->out, 2);
	l->st = st;
	l->err = err;
	l->err_size = err_size;
}

static void loader_deinit(struct loader *l)
{
	ap_obuf_deinit(&l->out);
	ap_free(l->argv);
	l->argv = NULL;
	l->argv_cap = 0;
}

/* The keys of every database of ks. */
static uint64_t keys_count(struct ap_keyspace *ks)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < ap_keyspace_db_count(ks); i++)
		n += ap_db_size(ap_keyspace_db(ks, i));
	return n;
}

/* Phase 2. */
int ap_persist_load(struct ap_keyspace *ks, const struct ap_config *cfg,
		    const struct ap_persist_plan *p, const char *dir,
		    const unsigned *old_shards, size_t n_old,
		    ap_persist_keep_fn *keep, void *keep_arg,
		    struct ap_persist_load_stats *st, char *err,
		    size_t err_size)
{
	bool split = keep != NULL || n_old > 1;
	struct loader l;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	if (!p->have_manifest) {
		st->keys = keys_count(ks);
		return 0;
	}
	loader_init(&l, ks, cfg, p, st, err, err_size);
	ap_keyspace_set_loading(ks, true);
	for (size_t i = 0; i < n_old && rc == 0; i++) {
		AP_ASSERT(old_shards[i] < p->m.nshards);
		if (split)
			rc = load_shard_split(&l, ks, old_shards[i], dir, keep,
					      keep_arg);
		else
			rc = load_shard(&l, old_shards[i], dir);
	}
	ap_keyspace_set_loading(ks, false);
	loader_deinit(&l);
	st->keys = keys_count(ks);
	return rc;
}
