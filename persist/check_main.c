/*
 * check_main.c - apiary-check: checks append-only log files offline.
 *
 *   apiary-check [--fix [--salvage]] FILE...
 *
 * Walks each file's records (persist.h: framing, CRC32C, every field, the
 * transaction part structure; VALUE records are also decoded with
 * core/serial.c's validating decoder), prints the records per kind and how
 * the file ends: clean, a torn tail at offset N, or corruption at offset
 * N with the reason. Compressed blocks (base snapshots) are expanded and
 * their records checked like the others; a bad block, or a bad record
 * inside one, is corruption at the block's offset. --fix truncates a torn
 * tail (what a server start does with aof-load-truncated); --fix
 * --salvage also truncates a corrupt file at its first bad record (or
 * block), losing everything after it. A transaction part is kept whole or
 * not at all, so a cut can land before the bad record.
 *
 * Exit status: 0 when every file is clean (or was repaired), 1 when a
 * problem remains, 2 for a usage or I/O error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cmd.h"
#include "core/config.h"
#include "core/serial.h"
#include "persist/persist.h"

/* Exit statuses, worst last. */
enum {
	EXIT_CLEAN = 0,
	EXIT_PROBLEM = 1,
	EXIT_IO = 2,
};

/* Options. */
struct opts {
	bool fix;
	bool salvage;
};

/* The outcome of walking one file. */
struct walk {
	struct ap_persist_iter it;
	struct ap_persist_zread z;		  /* blocks: deinit after use */
	uint64_t counts[AP_PERSIST_KIND_MAX + 1]; /* good records per kind */
	enum ap_persist_status status;
	uint64_t end_off;  /* where the problem is */
	uint64_t keep_len; /* bytes a repair keeps */
	const char *why;
	char why_buf[256];
};

/* Prints the usage line to f. */
static void usage(FILE *f)
{
	fprintf(f, "usage: apiary-check [--fix [--salvage]] FILE...\n"
		   "  --fix      truncate a torn tail\n"
		   "  --salvage  with --fix, also truncate a corrupt file at "
		   "its first bad record\n"
		   "exit status: 0 clean (or repaired), 1 problems remain, "
		   "2 usage or I/O error\n");
}

/* Decodes a VALUE record's value bytes as a load would (default limits);
 * returns NULL or why they are bad. */
static const char *value_check(const struct ap_persist_rec *r,
			       const struct ap_serial_limits *lim)
{
	struct ap_serial_value v;
	size_t used;
	const char *why = NULL;

	if (ap_serial_decode(r->value, r->value_len, lim, &v, &used, &why) != 0)
		return why != NULL ? why : "bad value";
	ap_serial_value_free(&v);
	if (used != r->value_len)
		return "bytes left over after the value";
	return NULL;
}

/* A VALUE record r whose bytes do not decode (why): the walk ends as
 * corruption there (at its block, for one inside a block; before its
 * part, for one in a transaction part). */
static void walk_bad_value(struct walk *w, const struct ap_persist_rec *r,
			   const char *why)
{
	ap_persist_iter_reject(&w->it, r->off, r->txid, why);
	if (r->in_block) {
		w->z.counts[r->kind]--;
		snprintf(w->why_buf, sizeof(w->why_buf),
			 "compressed block: bad value at byte %" PRIu32
			 " of it: %s",
			 r->block_pos, why);
		w->it.why = w->why_buf;
	}
}

/* Walks the len bytes at p: records (compressed blocks expanded), then
 * how they end. A VALUE whose bytes fail to decode ends the walk as
 * corruption at that record. w->z is initialized here. */
static void walk_file(const unsigned char *p, size_t len, struct walk *w)
{
	struct ap_persist_rec r;
	struct ap_serial_limits lim;
	struct ap_config cfg;

	ap_config_init(&cfg);
	ap_serial_limits_of(&cfg, &lim);
	ap_persist_zread_init(&w->z);
	ap_persist_iter_init_buf(&w->it, p, len);
	while (ap_persist_zread_next(&w->z, &w->it, &r)) {
		const char *why;

		if (r.kind == AP_PERSIST_VALUE) {
			why = value_check(&r, &lim);
			if (why != NULL) {
				walk_bad_value(w, &r, why); /* ends the walk */
				continue;
			}
		}
		w->counts[r.kind]++;
	}
	w->status = w->it.status;
	w->end_off = w->it.end_off;
	w->keep_len = w->it.keep_len;
	w->why = w->it.why;
}

/* Prints the records per kind. */
static void print_counts(const char *path, const struct walk *w, uint64_t size)
{
	const uint64_t *c = w->counts;
	uint64_t total = 0, inner = 0;

	for (unsigned k = 1; k <= AP_PERSIST_KIND_MAX; k++) {
		total += c[k];
		inner += w->z.counts[k];
	}
	printf("%s: %" PRIu64 " records (CMD %" PRIu64 ", VALUE %" PRIu64
	       ", DEL %" PRIu64 ", TXN %" PRIu64 ") in %" PRIu64 " bytes\n",
	       path, total, c[AP_PERSIST_CMD], c[AP_PERSIST_VALUE],
	       c[AP_PERSIST_DEL], c[AP_PERSIST_TXN], size);
	if (w->z.blocks > 0)
		printf("%s: %" PRIu64 " records in %" PRIu64
		       " compressed blocks of %" PRIu64 " bytes\n",
		       path, inner, w->z.blocks, w->z.raw_bytes);
}

/* Prints how the file ends. */
static void print_end(const char *path, const struct walk *w)
{
	switch (w->status) {
	case AP_PERSIST_CLEAN:
		printf("%s: clean\n", path);
		break;
	case AP_PERSIST_TORN:
		printf("%s: torn tail at offset %" PRIu64 ": %s\n", path,
		       w->end_off, w->why);
		break;
	default:
		printf("%s: corrupt at offset %" PRIu64 ": %s\n", path,
		       w->end_off, w->why);
		break;
	}
	if (w->status != AP_PERSIST_CLEAN && w->keep_len != w->end_off)
		printf("%s: a transaction part is cut short: a repair keeps "
		       "%" PRIu64 " bytes\n",
		       path, w->keep_len);
}

/* Truncates fd to keep bytes and syncs it; prints what it did. Returns an
 * exit status. */
static int repair(const char *path, int fd, uint64_t size, uint64_t keep)
{
	if (ftruncate(fd, (off_t)keep) != 0 || fsync(fd) != 0) {
		fprintf(stderr, "%s: truncate failed: %s\n", path,
			strerror(errno));
		return EXIT_IO;
	}
	printf("%s: truncated to %" PRIu64 " bytes (%" PRIu64
	       " bytes removed)\n",
	       path, keep, size - keep);
	return EXIT_CLEAN;
}

/* Decides what to do about a file's end; returns its exit status. */
static int act(const char *path, int fd, uint64_t size, const struct walk *w,
	       const struct opts *o)
{
	if (w->status == AP_PERSIST_CLEAN)
		return EXIT_CLEAN;
	if (!o->fix)
		return EXIT_PROBLEM;
	if (w->status == AP_PERSIST_TORN || o->salvage)
		return repair(path, fd, size, w->keep_len);
	printf("%s: not repaired: corruption before the end (--fix --salvage "
	       "truncates to %" PRIu64 " bytes, removing %" PRIu64 ")\n",
	       path, w->keep_len, size - w->keep_len);
	return EXIT_PROBLEM;
}

/* Maps a file read-only (NULL for an empty one); false with errno set. */
static bool map_file(int fd, size_t size, const unsigned char **out)
{
	void *p;

	*out = NULL;
	if (size == 0)
		return true;
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return false;
	*out = p;
	return true;
}

/* Opens and maps a file; returns the fd (and *p, *size) or -1 after
 * printing why. */
static int open_file(const char *path, const struct opts *o,
		     const unsigned char **p, size_t *size)
{
	struct stat st;
	int fd = open(path, (o->fix ? O_RDWR : O_RDONLY) | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		fprintf(stderr, "%s: not a regular file\n", path);
		close(fd);
		return -1;
	}
	if (fstat(fd, &st) != 0 || !map_file(fd, (size_t)st.st_size, p)) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	*size = (size_t)st.st_size;
	return fd;
}

/* Checks one file; returns its exit status. */
static int check_file(const char *path, const struct opts *o)
{
	struct walk w = {0};
	const unsigned char *p;
	size_t size;
	int fd, rc;

	fd = open_file(path, o, &p, &size);
	if (fd < 0)
		return EXIT_IO;
	walk_file(p, size, &w);
	print_counts(path, &w, size);
	print_end(path, &w);
	ap_persist_zread_deinit(&w.z);
	if (p != NULL)
		munmap((void *)p, size);
	rc = act(path, fd, size, &w, o);
	close(fd);
	return rc;
}

/* Parses the options; returns the index of the first file, or -1 after
 * printing the usage (*status says with which exit status). */
static int parse_opts(int argc, char **argv, struct opts *o, int *status)
{
	int i = 1;
	bool bad = false;

	for (; i < argc && argv[i][0] == '-' && !bad; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--fix") == 0) {
			o->fix = true;
		} else if (strcmp(argv[i], "--salvage") == 0) {
			o->salvage = true;
		} else if (strcmp(argv[i], "-h") == 0 ||
			   strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			*status = EXIT_CLEAN;
			return -1;
		} else {
			fprintf(stderr, "apiary-check: unknown option %s\n",
				argv[i]);
			bad = true;
		}
	}
	if (bad || i == argc || (o->salvage && !o->fix)) {
		usage(stderr);
		*status = EXIT_IO;
		return -1;
	}
	return i;
}

int main(int argc, char **argv)
{
	struct opts o = {false, false};
	int status = EXIT_CLEAN;
	int first = parse_opts(argc, argv, &o, &status);

	if (first < 0)
		return status;
	ap_core_setup();
	for (int i = first; i < argc; i++) {
		int rc = check_file(argv[i], &o);

		status = AP_MAX(status, rc);
	}
	return status;
}
